"""The /ogc/ blueprint: landing page, conformance, collections, items, one item and the
OpenAPI document, as JSON (GeoJSON for features) or HTML in Vietnamese or English.

Public data only: whoever asks (signed in or not) gets what the public may see, so
answers are the same for everyone and may be cached (ETag by the data version). A
visitor's JSON items (not signed in, like the layer API decides) take the lean path
(db.Database.lean: the page and the data version in one prepared statement on an
autocommit connection, the visitor's statement timeout); signed-in users and HTML pages
read through the ORM session. Both answer the same bytes.
"""
from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from gis_app.auth import current_role
from gis_app.db import database, get_session, public_read
from gis_app.errors import HeritageError, InputError, RecordNotFound
from gis_app.i18n import current_lang
from gis_app.ogc import openapi, params
from gis_app.ogc.crs import CRS84, SERVED, read_crs
from gis_app.ogc.query import (
    ItemsPage,
    ItemsQuery,
    read_extent,
    read_item,
    read_items,
    read_items_lean,
)
from gis_app.services import cql2, data_version
from gis_app.services.features import public_data_version
from layers import Layer, all_layers

bp = Blueprint("ogc", __name__, url_prefix="/ogc")

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
HTML_DEFAULT_LIMIT = 100  # a page a person reads; machines get max_limit()
NEXT_GROWTH = 10  # a machine's next page is this many times larger (see items())
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    *cql2.CONFORMANCE_CLASSES,  # Part 3: filter, queryables, CQL2 text and JSON
]
TRS = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"


def max_limit() -> int:
    """The largest page (and the default page for machines): GEOJSON_MAX_LIMIT."""
    return int(current_app.config["GEOJSON_MAX_LIMIT"])


# --- format, links, caching ------------------------------------------------------------

def wants_html() -> bool:
    """`f=html|json` decides; else the Accept header (browsers get HTML). Also tells the
    app's error pages (web/errors.py: a 503 when the database is down) which to send."""
    f = request.args.get("f")
    if f is not None:
        if f not in ("html", "json", "geojson"):
            raise InputError(f"f={f!r} is not served; use f=json or f=html",
                             f"Không có định dạng f={f!r}; hãy dùng f=json hoặc f=html")
        html = f == "html"
    else:
        html = request.accept_mimetypes.best_match([GEOJSON, JSON, OPENAPI, HTML]) == HTML
    g.wants_json = not html
    return html


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, _external=True, **values)


def _self_links(endpoint: str, json_type: str, title: str, **values: Any
                ) -> list[dict[str, str]]:
    args = {k: v for k, v in request.args.items() if k != "f"}
    html = wants_html()
    json_link = {"href": _url(endpoint, **values, **args, f="json"), "type": json_type,
                 "title": _("This document as JSON") if not html else _("As JSON")}
    html_link = {"href": _url(endpoint, **values, **args, f="html"), "type": HTML,
                 "title": _("As HTML") if not html else _("This page as HTML")}
    if html:
        return [dict(html_link, rel="self"), dict(json_link, rel="alternate")]
    return [dict(json_link, rel="self", title=title), dict(html_link, rel="alternate")]


def _etag(version: int | None = None) -> str | None:
    """A tag for a JSON answer: the data version (read through the session unless
    given), the address and the language. HTML pages carry who is signed in (the page
    header) and get none."""
    if wants_html():
        return None
    if version is None:
        version = data_version.current(get_session())
    key = f"{version}|{request.full_path}|{current_lang()}|" \
          f"{wants_html()}|{request.host_url}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _not_modified(etag: str | None) -> Response | None:
    if etag is not None and request.if_none_match.contains_weak(etag):
        response = Response(status=304)
        response.set_etag(etag, weak=True)
        return response
    return None


def _finish(response: Response, etag: str | None) -> Response:
    if etag is None:
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "public, max-age=60"
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def _json(body: Any, mimetype: str = JSON) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), mimetype=mimetype)


def _single_args() -> dict[str, str]:
    """Query arguments, each given once (a repeated one is a 400)."""
    out: dict[str, str] = {}
    for key, values in request.args.lists():
        if len(values) > 1:
            raise InputError(f"The parameter {key} is given {len(values)} times; give it once",
                             f"Tham số {key} được ghi {len(values)} lần; chỉ ghi một lần")
        out[key] = values[0]
    return out


def find_collection(collection_id: str) -> Layer:
    layer = all_layers().get(collection_id)
    if layer is None:
        known = ", ".join(all_layers())
        raise RecordNotFound(f"There is no collection {collection_id!r}. Collections: {known}",
                             f"Không có tập dữ liệu {collection_id!r}. Các tập: {known}")
    return layer


# --- errors ----------------------------------------------------------------------------

@bp.errorhandler(HeritageError)
def ogc_error(error: HeritageError) -> Response:
    """OGC exception JSON ({code, description}, with the site's {error, message}) or
    the site's error page, as the client asked."""
    message = error.user_message(current_lang())
    try:
        html = wants_html()
    except InputError:
        html = False
    if html:
        response = Response(render_template("error.html", status=error.status,
                                            title=_("The request cannot be understood")
                                            if error.status == 400 else _("Not found"),
                                            message=message), status=error.status)
    else:
        response = _json({"code": error.code, "description": message,
                          "error": error.code, "message": message})
        response.status_code = error.status
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- resources -------------------------------------------------------------------------

@bp.get("/")
def landing() -> Response | str:
    params.check_known(_single_args(), params.META_PARAMS)
    links = _self_links(".landing", JSON, _("This document")) + [
        {"rel": "service-desc", "type": OPENAPI, "title": _("The API definition (OpenAPI 3)"),
         "href": _url(".api_document", f="json")},
        {"rel": "service-doc", "type": HTML, "title": _("The API documentation"),
         "href": _url(".api_document", f="html")},
        {"rel": "conformance", "type": JSON, "title": _("Conformance classes"),
         "href": _url(".conformance", f="json")},
        {"rel": "data", "type": JSON, "title": _("Collections"),
         "href": _url(".collections", f="json")},
    ]
    body = {"title": _("Heritage map of Khoái Châu: OGC API – Features"),
            "description": _("Relics, protection zones, landscapes, facilities and the "
                             "communes of Khoái Châu (Hưng Yên) for GIS software: QGIS, "
                             "GDAL/OGR, ArcGIS, OWSLib. Published records only."),
            "links": links}
    if wants_html():
        return render_template("ogc/landing.html", doc=body, layers=all_layers().values(),
                               max_limit=max_limit())
    return _json(body)


@bp.get("/conformance")
def conformance() -> Response | str:
    params.check_known(_single_args(), params.META_PARAMS)
    if wants_html():
        return render_template("ogc/conformance.html", classes=CONFORMANCE)
    return _json({"conformsTo": CONFORMANCE,
                  "links": _self_links(".conformance", JSON, _("This document"))})


@bp.get("/api")
def api_document() -> Response | str:
    params.check_known(_single_args(), params.META_PARAMS)
    doc = openapi.document(_url(".landing").rstrip("/"), max_limit(), current_lang())
    if wants_html():
        return render_template("ogc/api.html", doc=doc)
    return _json(doc, OPENAPI)


def _collection(layer: Layer, lang: str) -> dict[str, Any]:
    extent = read_extent(get_session(), layer)
    out: dict[str, Any] = {
        "id": layer.name,
        "title": layer.text(layer.title, lang),
        "description": layer.text(layer.description, lang) or layer.text(layer.title, lang),
        "itemType": "feature",
        "extent": {"spatial": {"bbox": [extent.bbox or [105.88, 20.72, 106.08, 20.94]],
                               "crs": CRS84.uri}},
        "crs": [c.uri for c in SERVED],
        "storageCrs": CRS84.uri,
        "numberMatched": extent.count,
        "links": [
            {"rel": "items", "type": GEOJSON, "title": _("The features as GeoJSON"),
             "href": _url(".items", collection_id=layer.name, f="json")},
            {"rel": "items", "type": HTML, "title": _("The features as HTML"),
             "href": _url(".items", collection_id=layer.name, f="html")},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json",
             "title": _("The properties a filter may use"),
             "href": _url(".queryables", collection_id=layer.name, f="json")},
        ],
    }
    if layer.temporal is not None:
        out["extent"]["temporal"] = {
            "interval": [[_day(extent.start), _day(extent.end)]], "trs": TRS}
    return out


def _day(value: Any) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00Z"


@bp.get("/collections")
def collections() -> Response:
    params.check_known(_single_args(), params.META_PARAMS)
    etag = _etag()
    if (cached := _not_modified(etag)) is not None:
        return cached
    lang = current_lang()
    found = []
    for layer in all_layers().values():
        item = _collection(layer, lang)
        item["links"].insert(0, {"rel": "self", "type": JSON, "title": item["title"],
                                 "href": _url(".collection", collection_id=layer.name,
                                              f="json")})
        found.append(item)
    body = {"collections": found, "crs": [c.uri for c in SERVED],
            "links": _self_links(".collections", JSON, _("This document"))}
    if wants_html():
        return _finish(Response(render_template("ogc/collections.html", doc=body)), etag)
    return _finish(_json(body), etag)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    params.check_known(_single_args(), params.META_PARAMS)
    layer = find_collection(collection_id)
    etag = _etag()
    if (cached := _not_modified(etag)) is not None:
        return cached
    body = _collection(layer, current_lang())
    title = body["title"]
    body["links"] = _self_links(".collection", JSON, title, collection_id=layer.name) + \
        body["links"]
    if wants_html():
        return _finish(Response(render_template("ogc/collection.html", doc=body,
                                                layer=layer)), etag)
    return _finish(_json(body), etag)


def read_items_query(layer: Layer, args: dict[str, str], html: bool) -> ItemsQuery:
    """Parse an items request's parameters (InputError for anything wrong)."""
    params.check_known(args, params.ITEMS_PARAMS | set(layer.properties))
    bbox_crs = read_crs("bbox-crs", args.get("bbox-crs"))
    if "bbox-crs" in args and "bbox" not in args:
        raise InputError("bbox-crs is given without a bbox; add bbox or leave out bbox-crs",
                         "Có bbox-crs nhưng không có bbox; hãy thêm bbox hoặc bỏ bbox-crs")
    interval = params.read_datetime(args.get("datetime"))
    if interval is not None and layer.temporal is None:
        with_dates = ", ".join(n for n, lay in all_layers().items() if lay.temporal)
        raise InputError(f"The collection {layer.name!r} has no dates; leave out datetime "
                         f"(collections with dates: {with_dates})",
                         f"Tập {layer.name!r} không có ngày hiệu lực; hãy bỏ datetime "
                         f"(các tập có ngày: {with_dates})")
    extra_where = None
    if "filter" in args:
        extra_where = cql2.compile_filter(args["filter"], args.get("filter-lang"), layer,
                                          args.get("filter-crs"))
    elif "filter-lang" in args or "filter-crs" in args:
        raise InputError("filter-lang or filter-crs is given without a filter; add filter "
                         "or leave them out",
                         "Có filter-lang hoặc filter-crs nhưng không có filter; hãy thêm "
                         "filter hoặc bỏ chúng đi")
    return ItemsQuery(
        extra_where=extra_where,
        limit=params.read_limit(args.get("limit"),
                                min(HTML_DEFAULT_LIMIT, max_limit()) if html else max_limit(),
                                max_limit()),
        offset=params.read_offset(args.get("offset")),
        after=params.read_after(args.get("after")),
        bbox=params.read_bbox(args.get("bbox"), bbox_crs),
        interval=interval,
        properties=params.read_property_filters(layer, args),
        crs=read_crs("crs", args.get("crs")),
        always_count=html)  # a person reads "21-40 of 57"


@bp.get("/collections/<collection_id>/queryables")
def queryables(collection_id: str) -> Response:
    """The JSON Schema of what `filter` may name (OGC API – Features Part 3)."""
    params.check_known(_single_args(), params.META_PARAMS)
    layer = find_collection(collection_id)
    doc = cql2.queryables(layer, current_lang(),
                          _url(".queryables", collection_id=layer.name))
    return _json(doc, "application/schema+json")


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    layer = find_collection(collection_id)
    args = _single_args()
    html = wants_html()
    query = read_items_query(layer, args, html)
    if not html and current_role() is None:
        with database().lean(read_only=public_read()) as conn:
            if request.if_none_match:
                etag = _etag(public_data_version(conn))
                if (cached := _not_modified(etag)) is not None:
                    return cached
            version, page = read_items_lean(conn, layer, query)
        etag = _etag(version)
    else:
        etag = _etag()
        if (cached := _not_modified(etag)) is not None:
            return cached
        page = read_items(get_session(), layer, query)
    return _items_answer(layer, args, html, query, page, etag)


def _items_answer(layer: Layer, args: dict[str, str], html: bool, query: ItemsQuery,
                  page: ItemsPage, etag: str | None) -> Response:
    """The items page (links, numbers, features) as GeoJSON or HTML."""
    title = layer.text(layer.title, current_lang())
    links = _self_links(".items", GEOJSON, title, collection_id=layer.name)
    links.append({"rel": "collection", "type": JSON, "title": title,
                  "href": _url(".collection", collection_id=layer.name, f="json")})
    kind, fmt = (HTML, "html") if html else (GEOJSON, "json")
    paging = {k: v for k, v in args.items() if k not in ("offset", "f", "after")}
    paging["limit"] = str(query.limit)
    if page.has_next:
        # `after` lets the next page start at its first row through the index; `offset`
        # keeps its place for people and for the prev link. A machine's next page is ten
        # times larger, up to the maximum: GDAL's OAPIF driver (Debian's 3.6) asks for
        # 10 features and then follows the next links, so a full read of 10k features
        # takes 4 requests instead of 1,000. Each answer still holds at most its own
        # `limit`; people's HTML pages keep theirs.
        grown = {**paging, "limit": str(query.limit if html
                                        else min(max_limit(), query.limit * NEXT_GROWTH))}
        links.append({"rel": "next", "type": kind, "title": _("Next page"),
                      "href": _url(".items", collection_id=layer.name, **grown,
                                   offset=query.offset + query.limit, after=page.last_key,
                                   f=fmt)})
    if query.offset > 0:
        links.append({"rel": "prev", "type": kind, "title": _("Previous page"),
                      "href": _url(".items", collection_id=layer.name, **paging,
                                   offset=max(0, query.offset - query.limit), f=fmt)})
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if html:
        return _finish(Response(render_template(
            "ogc/items.html", layer=layer, title=title,
            features=json.loads(page.features), page=page, query=query, links=links,
            args=args)), etag)
    # The features stay the text PostGIS wrote; the envelope is joined around them.
    envelope: dict[str, Any] = {"type": "FeatureCollection", "numberReturned": page.returned}
    if page.matched is not None:
        envelope["numberMatched"] = page.matched
    envelope.update(timeStamp=stamp, links=links)
    head = json.dumps(envelope, ensure_ascii=False)
    body = head[:-1] + ', "features": ' + page.features + "}"
    response = Response(body, mimetype=GEOJSON)
    response.headers["Content-Crs"] = f"<{query.crs.uri}>"
    return _finish(response, etag)


def _record_page(layer: Layer, properties: dict[str, Any]) -> str | None:
    """The site's own page of the feature (the layer's `link`), when it has one."""
    if not layer.link:
        return None
    try:
        href = layer.link.format(**{k: ("" if v is None else v) for k, v in properties.items()})
    except (KeyError, IndexError):
        return None
    return None if href.endswith("/") else href


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    layer = find_collection(collection_id)
    args = _single_args()
    params.check_known(args, params.ITEM_PARAMS)
    crs = read_crs("crs", args.get("crs"))
    etag = _etag()
    if (cached := _not_modified(etag)) is not None:
        return cached
    found = read_item(get_session(), layer, feature_id, crs)
    if found is None:
        raise RecordNotFound(
            f"There is no public feature {feature_id!r} in {layer.name!r}; check the id "
            f"(relics: their heritage identifier, e.g. VN-HY-DT-000001) or list the items",
            f"Không có đối tượng công khai {feature_id!r} trong {layer.name!r}; hãy kiểm "
            f"tra mã (di tích: mã định danh, ví dụ VN-HY-DT-000001) hoặc xem danh sách")
    feature = json.loads(found)
    title = layer.text(layer.title, current_lang())
    feature["links"] = _self_links(".item", GEOJSON, str(feature["id"]),
                                   collection_id=layer.name, feature_id=feature_id) + [
        {"rel": "collection", "type": JSON, "title": title,
         "href": _url(".collection", collection_id=layer.name, f="json")}]
    page_href = _record_page(layer, feature["properties"])
    if page_href:
        feature["links"].append({"rel": "describedby", "type": HTML,
                                 "title": _("The record's page"),
                                 "href": request.host_url.rstrip("/") + page_href})
    if wants_html():
        return _finish(Response(render_template("ogc/item.html", layer=layer, title=title,
                                                feature=feature)), etag)
    response = _json(feature, GEOJSON)
    response.headers["Content-Crs"] = f"<{crs.uri}>"
    return _finish(response, etag)
