"""Compose Leaflet maps with folium from the layer declarations.

Features are not embedded: `static/js/heritage-map.js` loads them from the GeoJSON API
by bbox at run time, so the page stays small however large a layer grows. Leaflet and
every asset are served by the app (folium's CDN defaults are replaced).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import CssLink, JavascriptLink, MacroElement
from jinja2 import Template

from gis_app import vocab
from layers import Layer, all_layers

LEAFLET = "vendor/leaflet-1.9.4"
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


def build_map(*, static_url: str, api_base: str, lang: str, center: tuple[float, float],
              zoom: int, tile_url: str | None = None, tile_attribution: str = "",
              layer_names: tuple[str, ...] | None = None, fit_bounds: list[float] | None = None,
              height: str = "100%") -> MapPage:
    """The map shell for a page: header (CSS/JS links), the map div and its script."""
    layers = [layer for name, layer in all_layers().items()
              if layer_names is None or name in layer_names]
    m = LocalMap(location=list(center), zoom_start=zoom, tiles=None, control_scale=True,
                 height=height, prefer_canvas=False)
    header = m.get_root().header
    header.add_child(CssLink(f"{static_url}/{LEAFLET}/leaflet.css"), name="leaflet_css")
    header.add_child(CssLink(f"{static_url}/css/map.css"), name="map_css")
    header.add_child(JavascriptLink(f"{static_url}/{LEAFLET}/leaflet.js"), name="leaflet")
    header.add_child(JavascriptLink(f"{static_url}/js/heritage-map.js"), name="heritage_map")
    config = {"lang": lang, "api_base": api_base, "tile_url": tile_url,
              "tile_attribution": tile_attribution, "i18n": UI_TEXT[lang],
              "fit_bounds": fit_bounds,
              "layers": [layer_config(layer, lang) for layer in layers]}
    m.add_child(HeritageLayers(config))
    root = m.get_root()
    root.render()
    # folium's own viewport tag forbids pinch-zoom (WCAG 1.4.4); the page has its own.
    header = FOLIUM_VIEWPORT.sub("", root.header.render())
    return MapPage(header=header, html=root.html.render(), script=root.script.render())
