"""Public pages: the map, the list of relics, a relic's permanent page, festivals."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from gis_app import public_cache
from gis_app.auth import current_role
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import InputError, RecordMoved, RecordNotFound
from gis_app.i18n import current_lang
from gis_app.maps import MapPage, build_map, tourist_config
from gis_app.services import explore, features, festivals, permanent_ids, sites

bp = Blueprint("public", __name__)

# The map page lists the relics for browsers without JavaScript up to this many; beyond,
# it links to /sites instead (every visitor downloads the list: 40k relics made the
# page 4.8 MB and its sort took longer than the rest of the page, bench/public_map.py).
MAP_LIST_MAX = 500


@dataclass(frozen=True)
class HomeData:
    """What the home page shows from the data: the same for every visitor of one
    visibility, language and day while the data version holds."""

    map: MapPage
    sites: list[dict[str, Any]]
    site_count: int
    filters: dict[str, Any]


def _home_data() -> HomeData:
    db, role = get_session(), current_role()
    tourist = tourist_config(api=url_for("api_explore.sites"),
                             nearby=url_for("api_explore.nearby"))
    # Fitted to the district (today's communes) whatever the screen, clear of the legend.
    district = features.layer_bounds(db, "communes", role)
    listed = sites.count_sites(db, role)
    return HomeData(
        map=build_map(tourist=tourist, fit_bounds=district),
        sites=sites.list_sites(db, role) if listed <= MAP_LIST_MAX else [],
        site_count=listed,
        filters=explore.filter_options(db, current_lang(), today_in_vietnam(), role))


def _home_page() -> tuple[bytes, str]:
    """The home page's HTML (before the per-response CSP nonce) and its ETag value."""
    home = public_cache.cached("home", _home_data, MAP_LIST_MAX).value
    body = render_template("map.html", map=home.map, sites=home.sites,
                           site_count=home.site_count, filters=home.filters,
                           chosen=request.args).encode()
    return body, hashlib.blake2b(body, digest_size=12).hexdigest()


@bp.get("/")
def index() -> Response:
    """The tourists' map: clustered relics, search, filters, cards, "near me"; a plain
    list of the relics for browsers without JavaScript. Its data parts are built once
    per data version, language and day (gis_app/public_cache.py), and for a visitor
    with nothing of their own on the page (not signed in, no message waiting: an empty
    session) the page itself; it carries a weak ETag of its body, so a browser that
    has it gets a 304."""
    if current_role() is None and not session:
        body, etag = public_cache.cached("home-page", _home_page, MAP_LIST_MAX,
                                         request.query_string).value
    else:
        body, etag = _home_page()
    response = Response(body, mimetype="text/html")
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response.make_conditional(request)


# Relics per page of /sites (a phone scrolls through 100 names comfortably).
SITE_LIST_PAGE = 100
SEARCH_RESULTS_MAX = 100


def _cursor(name: str) -> str | None:
    value = request.args.get(name)
    if value is None:
        return None
    if not 0 < len(value) <= 40:
        raise InputError(f"{name} must be a relic's identifier, e.g. VN-HY-DT-000001.",
                         f"{name} phải là mã định danh di tích, ví dụ VN-HY-DT-000001.")
    return value


@bp.get("/sites")
def site_list() -> str:
    """The relics by name, a page at a time (`?after=` / `?before=` a heritage id), or
    those matching `?q=` (without diacritics)."""
    db, role = get_session(), current_role()
    query = (request.args.get("q") or "").strip()
    total = public_cache.cached("site-count", lambda: sites.count_sites(db, role)).value
    if query:
        found = sites.search_sites(db, query, role, limit=SEARCH_RESULTS_MAX)
        return render_template("site_list.html", sites=found, query=query, total=total,
                               page=None, search_max=SEARCH_RESULTS_MAX)
    after, before = _cursor("after"), _cursor("before")
    if after and before:
        raise InputError("Give either after= or before=, not both.",
                         "Chỉ dùng after= hoặc before=, không dùng cả hai.")
    page = sites.list_sites_page(db, role, after=after, before=before, limit=SITE_LIST_PAGE)
    return render_template("site_list.html", sites=page.sites, query="", total=total,
                           page=page, search_max=SEARCH_RESULTS_MAX)


@bp.get("/sites/<heritage_id>")
def site_page(heritage_id: str) -> str | Response:
    try:
        site = sites.get_site(get_session(), heritage_id, current_role())
    except RecordMoved as moved:  # a merged duplicate lives on as another relic
        lang = {"lang": request.args["lang"]} if request.args.get("lang") else {}
        return redirect(url_for("public.site_page", heritage_id=moved.details["heritage_id"],
                                **lang), 301)
    bounds = None
    if site["zones"]:
        bounds = [min(z["minx"] for z in site["zones"]), min(z["miny"] for z in site["zones"]),
                  max(z["maxx"] for z in site["zones"]), max(z["maxy"] for z in site["zones"])]
    small_map = build_map(center=(site["lat"], site["lon"]), zoom=16, fit_bounds=bounds,
                     height="320px",
                     layer_names=("communes", "rivers", "roads", "landscapes",
                                  "protection_zones", "sites", "facilities"))
    links = page_links("public.site_page", {"heritage_id": heritage_id})
    images = [url_for("media.file", name=p["uri"], _external=True) for p in site["photos"]]
    # Officials also open drafts and sensitive relics here; the public cannot (404).
    public = site["public"]
    return render_template("site.html", site=site, map=small_map, images=images,
                           public=public,
                           json_ld=site_json_ld(site, links["canonical"], images))


# Pages the public may open and search engines may list (sitemap, hreflang links).
PUBLIC_PAGES = ("public.index", "public.site_list", "public.site_page",
                "public.festival_calendar", "planning.index", "ids.intangible_page",
                "ids.artifact_page", "opendata.index")
# The pages of the other kinds of record (web/ids.py), by the kind permanent_ids gives.
RECORD_PAGES = {"intangible": "ids.intangible_page", "artifact": "ids.artifact_page"}
# Query arguments that make a different page (searches and filters do not).
CANONICAL_ARGS = frozenset({"year", "after", "before"})


def page_links(endpoint: str, values: dict[str, Any]) -> dict[str, str]:
    """Absolute URLs of a page: `canonical` (in the current language), one per language
    (`?lang=vi`, `?lang=en`) and `x-default` (no lang: the browser's language)."""
    values = {k: v for k, v in values.items() if k != "lang"}
    links = {lang: url_for(endpoint, **values, lang=lang, _external=True)
             for lang in current_app.config["LANGUAGES"]}
    links["x-default"] = url_for(endpoint, **values, _external=True)
    links["canonical"] = links[current_lang()]
    return links


@bp.app_context_processor
def inject_page_links() -> dict[str, object]:
    """`page_links` for base.html on the public pages (None elsewhere)."""
    if request.endpoint not in PUBLIC_PAGES:
        return {"page_links": None}
    values = dict(request.view_args or {})
    values.update((k, v) for k, v in request.args.items() if k in CANONICAL_ARGS)
    return {"page_links": page_links(request.endpoint, values)}


def site_json_ld(site: dict[str, Any], url: str, images: list[str]) -> dict[str, Any]:
    """schema.org TouristAttraction of a site, in the current language."""
    lang = current_lang()
    description = (site["description_en"] if lang == "en" else None) or site["description_vi"]
    alternate = [n for n in [site["name_en"], *(site["other_names"] or [])] if n]
    data: dict[str, Any] = {
        "@context": "https://schema.org", "@type": "TouristAttraction",
        "name": site["name_vi"], "url": url, "inLanguage": lang,
        "identifier": site["heritage_id"],
        "geo": {"@type": "GeoCoordinates", "latitude": round(site["lat"], 6),
                "longitude": round(site["lon"], 6)},
        "address": {"@type": "PostalAddress", "addressCountry": "VN"},
    }
    if site["unit_name"]:
        data["address"]["addressLocality"] = site["unit_name"]
    if alternate:
        data["alternateName"] = alternate
    if description:
        data["description"] = description
    if images:
        data["image"] = images
    return data


# Relics per sitemap file: each is listed in both languages, and a sitemap holds at most
# 50,000 URLs (sitemaps.org); /sitemap.xml is the index of the files.
SITEMAP_RELICS_PER_FILE = 25_000


def _sitemap_files() -> list[dict[str, Any]]:
    db, per = get_session(), SITEMAP_RELICS_PER_FILE
    return public_cache.cached("sitemap", lambda: sites.sitemap_files(db, per), per).value


def _xml(template: str, **context: Any) -> Response:
    return Response(render_template(template, **context), mimetype="application/xml")


@bp.get("/sitemap.xml")
def sitemap() -> Response:
    """The sitemap index: the fixed pages, then the relics' pages in files of at most
    SITEMAP_RELICS_PER_FILE relics (both languages)."""
    files = _sitemap_files()
    newest = max((f["lastmod"] for f in files), default=None)
    entries = [{"loc": url_for("public.sitemap_pages", _external=True),
                "lastmod": newest.date().isoformat() if newest else None}]
    entries += [{"loc": url_for("public.sitemap_relics", number=n, _external=True),
                 "lastmod": f["lastmod"].date().isoformat()}
                for n, f in enumerate(files, start=1)]
    return _xml("sitemap_index.xml", entries=entries)


def _urlset(pages: list[tuple[str, dict[str, Any], Any]]) -> Response:
    entries = [{"links": page_links(endpoint, values),
                "lastmod": lastmod.date().isoformat() if lastmod else None}
               for endpoint, values, lastmod in pages]
    return _xml("sitemap.xml", entries=entries, languages=current_app.config["LANGUAGES"])


@bp.get("/sitemaps/pages.xml")
def sitemap_pages() -> Response:
    """The pages that are not a relic's (with those of intangible heritage and artifacts),
    in both languages, with hreflang alternates."""
    newest = max((f["lastmod"] for f in _sitemap_files()), default=None)
    records = permanent_ids.sitemap_records(get_session())
    return _urlset([("public.index", {}, newest), ("public.site_list", {}, newest),
                    ("public.festival_calendar", {}, None), ("planning.index", {}, None),
                    ("opendata.index", {}, None),
                    *((RECORD_PAGES[r["kind"]], {"heritage_id": r["heritage_id"]}, None)
                      for r in records)])


@bp.get("/sitemaps/relics-<int:number>.xml")
def sitemap_relics(number: int) -> Response:
    """File `number` (from 1) of the relics' pages, with the date of their last change.
    Never a draft or sensitive relic."""
    files = _sitemap_files()
    if not 1 <= number <= len(files):
        raise RecordNotFound(f"There is no sitemap file {number}; /sitemap.xml lists them.",
                             f"Không có tệp sơ đồ trang số {number}; /sitemap.xml liệt kê "
                             "các tệp.")
    stop = files[number]["start"] if number < len(files) else None
    start = files[number - 1]["start"] if number > 1 else None  # the files cover every id
    listed = sites.sitemap_sites(get_session(), start, stop)
    return _urlset([("public.site_page", {"heritage_id": s["heritage_id"]}, s["updated_at"])
                    for s in listed])


@bp.get("/robots.txt")
def robots() -> Response:
    lines = ["User-agent: *", "Disallow: /api/", "Disallow: /officials/",
             "Disallow: /planning/report", "Disallow: /planning/bulk", "Disallow: /login",
             "Disallow: /account", "",
             f"Sitemap: {url_for('public.sitemap', _external=True)}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """No icon (pages declare an empty one); browsers still ask for this one when they
    show a PDF, JSON or XML answer. A 204 instead of a 404 keeps their consoles clean."""
    response = Response(status=204)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _year(value: str | None) -> int:
    if not value:
        return today_in_vietnam().year
    if not value.isdigit():
        raise InputError(f"year={value!r} is not a year, e.g. year=2026.",
                         f"year={value!r} không phải năm, ví dụ year=2026.")
    return int(value)


@bp.get("/festivals")
def festival_calendar() -> str:
    year = _year(request.args.get("year"))
    events = festivals.calendar(get_session(), year, current_role())
    today = today_in_vietnam()
    return render_template("festivals.html", year=year, events=events,
                           this_month=today.month if year == today.year else None)


@bp.get("/festivals.ics")
def festival_feed() -> Response:
    """This year's and next year's festivals, to subscribe to in a calendar app."""
    year = _year(request.args.get("year"))
    events = [occ for y in (year, year + 1)
              for occ in festivals.calendar(get_session(), y, current_role())]
    body = festivals.to_ics(events, request.url_root)
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": "inline; filename=le-hoi-khoai-chau.ics"})
