"""Compose Leaflet maps with folium from the layer declarations.

Features are not embedded: `static/js/heritage-map.js` loads them from the GeoJSON API
by bbox at run time, so the page stays small however large a layer grows. Leaflet and
every asset are served by the app (folium's CDN defaults are replaced); each asset URL
is built by `url_for('static', ...)`, so URL defaults on that endpoint (fingerprints)
apply. With `tourist=` (the home page) the relics are clustered
(Leaflet.markercluster), loaded from `/api/sites` with the tourist's filters, and
`static/js/tourist-map.js` adds search, filters, cards and "near me".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import folium
from branca.element import CssLink, JavascriptLink, MacroElement
from flask import current_app, url_for
from flask_babel import gettext as _
from jinja2 import Template

from gis_app import vocab
from gis_app.assets import LEAFLET
from gis_app.i18n import current_lang
from layers import Layer, all_layers
from layers.sites import MARKER as SITE_MARKER

# Relics listed for a search or filter on the home page (the map shows them all).
RESULT_LIMIT = 50
FOLIUM_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*user-scalable=no"\s*/>')

UI_TEXT = {
    "vi": {"layers": "Lớp bản đồ", "legend": "Chú giải", "zoom_in_to_see": "Phóng to để xem",
           "open_site_page": "Xem trang di tích", "loading": "Đang tải…",
           "load_error": "Không tải được lớp", "basemap": "Nền", "tiles": "Bản đồ nền"},
    "en": {"layers": "Layers", "legend": "Legend", "zoom_in_to_see": "Zoom in to see",
           "open_site_page": "Open the relic's page", "loading": "Loading…",
           "load_error": "Could not load the layer", "basemap": "Background",
           "tiles": "Basemap tiles"},
}


def tourist_config(*, api: str, nearby: str) -> dict[str, Any]:
    """`tourist=` for build_map on the home page: endpoints and the texts of
    static/js/tourist-map.js in the request's language ({n}, {name}, {credit} are
    filled in by the script)."""
    return {
        "api": api, "nearby": nearby, "result_limit": RESULT_LIMIT, "nearby_limit": 5,
        "i18n": {
            "type": _("Type"), "rank": _("Rank"), "opening_hours": _("Opening hours"),
            "distance": _("Distance"), "straight_line": _("straight line"),
            "directions": _("Directions"), "open_in_app": _("Open in a map app"),
            "new_window": _("opens in a new window"),
            "open_site_page": _("Open the relic's page"),
            "photo_of": _("Photo of {name}"), "photo_credit": _("Photo: {credit}"),
            "results": _("Results"), "found": _("{n} relics found"),
            "found_capped": _("{total} relics found; the first {shown} are listed"),
            "none_found": _("No relic matches. Try another spelling or fewer filters."),
            "searching": _("Searching…"),
            "load_error": _("The relics could not be loaded. Please try again."),
            "nearest": _("Nearest relics"),
            "nearest_note": _("Distances are in a straight line, not along roads."),
            "locating": _("Finding your position…"),
            "location_failed": _("Your position is not available (location was not allowed "
                                 "or could not be found). The map and the search still work."),
            "you_are_here": _("You are here"),
            "cluster": _("{n} relics: zoom in"),
        },
    }


def _map_text() -> dict[str, str]:
    """Texts of static/js/heritage-map.js in the request's language ({shown}, {total}
    and {items} are filled in by the script)."""
    # A layer's answer holds fewer features than match the view (the layer's `limit`).
    return {"capped": _("Showing {shown} of {total} {items} — zoom in to see them all")}


class LocalMap(folium.Map):
    """folium.Map whose Leaflet comes from the app, not a CDN."""

    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


class HeritageLayers(MacroElement):
    """Calls HeritageMap.init(map, config) once folium has created the map."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        HeritageMap.init({{ this._parent.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
    """)

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self._name = "HeritageLayers"
        self.config = config


def layer_config(layer: Layer, lang: str) -> dict[str, Any]:
    """What the browser needs to draw one layer, in the chosen language."""
    return {
        "name": layer.name,
        "title": layer.text(layer.title, lang),
        "geometry_type": layer.geometry_type,
        "basemap": layer.basemap,
        "visible": layer.visible,
        "min_zoom": layer.min_zoom,
        "limit": layer.limit,
        "items": layer.text(layer.items, lang) or layer.text(layer.title, lang).lower(),
        "style": layer.style,
        "style_by": layer.style_by,
        "legend": [{"label": layer.text(e.label, lang), "style": e.style}
                   for e in layer.legend],
        "popup_title": layer.popup_title if lang == "vi" or not layer.popup_title
        else _english_title(layer),
        "popup_fields": [
            {"key": f.key, "label": layer.text(f.label, lang),
             **({"values": vocab.labels(f.vocab, lang)} if f.vocab else {})}
            for f in layer.popup],
        "link": layer.link,
    }


def _english_title(layer: Layer) -> str:
    """Popups in English show the English name when the layer has one."""
    title = layer.popup_title or ""
    english = title.replace("_vi", "_en")
    return english if english != title and english in layer.properties else title


@dataclass(frozen=True)
class MapPage:
    header: str
    html: str
    script: str


def _static(filename: str) -> str:
    return url_for("static", filename=filename)


def build_map(*, center: tuple[float, float] | None = None, zoom: int | None = None,
              layer_names: tuple[str, ...] | None = None, fit_bounds: list[float] | None = None,
              height: str = "100%", tourist: dict[str, Any] | None = None,
              as_of: date | None = None) -> MapPage:
    """The map shell for a page: header (CSS/JS links), the map div and its script, in
    the request's language, with the app's layer API, basemap tiles and (by default)
    its centre and zoom. Needs a request context.

    `tourist`: the home page's explorer (`api`, `nearby` URLs and `i18n` texts); the
    relics are then clustered and loaded from `tourist["api"]`.

    `as_of` (the officials' map): the layers that keep a history (`as_of_source`) are
    loaded as they stood at the end of that day; the others as they are today.
    """
    cfg, lang = current_app.config, current_lang()
    center = center or cfg["MAP_CENTER"]
    zoom = zoom or cfg["MAP_ZOOM"]
    api_base, tile_url = url_for("api_layers.index"), cfg["TILE_URL"]
    tile_attribution = cfg["TILE_ATTRIBUTION"]
    layers = [layer for name, layer in all_layers().items()
              if layer_names is None or name in layer_names]
    m = LocalMap(location=list(center), zoom_start=zoom, tiles=None, control_scale=True,
                 height=height, prefer_canvas=False)
    header = m.get_root().header
    if tourist is not None:
        # The home map's first view: its style sheets (site.css included: map.html
        # leaves out base.html's link) and scripts as two requests (gis_app/assets.py).
        header.add_child(CssLink(url_for("bundle", name="home.css")), name="home_css")
        header.add_child(JavascriptLink(url_for("bundle", name="home.js")), name="home_js")
    else:
        header.add_child(CssLink(_static(f"{LEAFLET}/leaflet.css")), name="leaflet_css")
        header.add_child(CssLink(_static("css/map.css")), name="map_css")
        header.add_child(JavascriptLink(_static(f"{LEAFLET}/leaflet.js")), name="leaflet")
        header.add_child(JavascriptLink(_static("js/heritage-map.js")), name="heritage_map")
    config: dict[str, Any] = {
        "lang": lang, "api_base": api_base, "tile_url": tile_url,
        "tile_attribution": tile_attribution, "i18n": {**UI_TEXT[lang], **_map_text()},
        "fit_bounds": fit_bounds,
        "layers": [layer_config(layer, lang) for layer in layers]}
    if as_of is not None:
        for layer, shown in zip(layers, config["layers"], strict=True):
            if layer.as_of_source is not None:
                shown["params"] = {"as_of": as_of.isoformat()}
    if tourist is not None:
        config["tourist"] = tourist
        config["i18n"] = {**config["i18n"], "cluster": tourist["i18n"]["cluster"]}
        for layer in config["layers"]:
            if layer["name"] == "sites":
                layer.update(cluster=True, url=tourist["api"], marker=SITE_MARKER, legend=[
                    {"label": e["label"].get(lang) or e["label"]["vi"], "style": e["style"]}
                    for e in SITE_MARKER["legend"]])
    m.add_child(HeritageLayers(config))
    root = m.get_root()
    root.render()
    # folium's own viewport tag forbids pinch-zoom (WCAG 1.4.4); the page has its own.
    header = FOLIUM_VIEWPORT.sub("", root.header.render())
    return MapPage(header=header, html=root.html.render(), script=root.script.render())
