"""The OpenAPI 3.0 document of /ogc/, generated from `layers/` and the served CRS.

The `limit` parameter advertises its `default` and `maximum` (GEOJSON_MAX_LIMIT): GDAL's
OAPIF driver reads them and then asks for pages that large, so a full read by a default
client takes a few requests instead of one per 10 features (docs/ogc-api.md).
"""
from __future__ import annotations

from typing import Any

from gis_app.ogc.crs import CRS84, SERVED
from gis_app.services import cql2
from layers import Layer, all_layers

EXCEPTION = {"type": "object", "required": ["code"], "properties": {
    "code": {"type": "string"}, "description": {"type": "string"},
    "error": {"type": "string"}, "message": {"type": "string"}}}
LINK = {"type": "object", "required": ["href"], "properties": {
    "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
    "title": {"type": "string"}}}


def _param(name: str, description: str, schema: dict[str, Any], where: str = "query",
           required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema, **extra}


def _f_param() -> dict[str, Any]:
    return _param("f", "the format: json (GeoJSON for features) or html",
                  {"type": "string", "enum": ["json", "html"]}, style="form", explode=False)


def _lang_param() -> dict[str, Any]:
    return _param("lang", "language of titles and messages: vi (default) or en",
                  {"type": "string", "enum": ["vi", "en"]})


def _responses(ok: str, media: str) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": EXCEPTION},
                         "text/html": {"schema": {"type": "string"}}}}
    return {"200": {"description": ok, "content": {media: {"schema": {"type": "object"}},
                                                   "text/html": {"schema": {"type": "string"}}}},
            "304": {"description": "not modified since the ETag sent in If-None-Match"},
            "400": {"description": "a parameter is wrong; the message says what to send",
                    **error},
            "404": {"description": "no such collection or feature", **error}}


def items_parameters(max_limit: int, layer: Layer | None) -> list[dict[str, Any]]:
    """The items parameters (inline, not by $ref: GDAL reads `limit` from here)."""
    uris = [c.uri for c in SERVED]
    out = [
        _param("limit", f"features per page, 1 to {max_limit}; the default is the maximum "
               f"(HTML pages: 100)", {"type": "integer", "minimum": 1,
                                      "maximum": max_limit, "default": max_limit},
               style="form", explode=False),
        _param("offset", "features to skip (the next/prev links carry it)",
               {"type": "integer", "minimum": 0, "default": 0}),
        _param("after", "set by the next links: the row key the previous page ended on, "
               "so that the page starts there (offset then only numbers the page)",
               {"type": "integer", "minimum": 0}),
        _param("bbox", "minx,miny,maxx,maxy in bbox-crs (CRS84 longitude/latitude unless "
               "bbox-crs says otherwise; EPSG:4326 is latitude first)",
               {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
               style="form", explode=False),
        _param("bbox-crs", "the CRS of bbox", {"type": "string", "format": "uri",
                                               "enum": uris, "default": CRS84.uri},
               style="form", explode=False),
        _param("crs", "the CRS of the returned coordinates (Content-Crs header)",
               {"type": "string", "format": "uri", "enum": uris, "default": CRS84.uri},
               style="form", explode=False),
        _param("datetime", "a date, a date-time or an interval (a/b, ../b, a/..) that the "
               "record's validity must meet (zones, communes)",
               {"type": "string"}, style="form", explode=False),
        _param("filter", "a CQL2 filter over the collection's queryables "
               "(/collections/{collectionId}/queryables), e.g. "
               "S_INTERSECTS(geometry, POLYGON((...))) AND zone = 'I' (docs/ogc-filtering.md)",
               {"type": "string", "maxLength": 8000}, style="form", explode=False),
        _param("filter-lang", "the language of filter", {"type": "string",
               "enum": list(cql2.FILTER_LANGS), "default": "cql2-text"},
               style="form", explode=False),
        _param("filter-crs", "the CRS of the geometries in filter", {
               "type": "string", "format": "uri", "enum": list(cql2.FILTER_CRS),
               "default": CRS84.uri}, style="form", explode=False),
        _f_param(), _lang_param(),
    ]
    if layer is not None:
        out += [_param(key, f"only features whose {key} is this value (or, for a list, "
                       f"contains it)", {"type": "string", "maxLength": 200}, style="form",
                       explode=False) for key in layer.properties]
    return out


def document(root: str, max_limit: int, lang: str = "vi") -> dict[str, Any]:
    """The document; `root` is the absolute URL of the landing page without its slash."""
    layers = all_layers()
    names = list(layers)
    collection_id = _param("collectionId", "a collection (a map layer)",
                           {"type": "string", "enum": names}, where="path", required=True)
    feature_id = _param("featureId", "the feature's id: a relic's heritage identifier "
                        "(VN-HY-DT-000001), a zone's identifier and zone "
                        "(VN-HY-DT-000001-II), a commune's code, otherwise the row id",
                        {"type": "string"}, where="path", required=True)
    crs_param = next(p for p in items_parameters(max_limit, None) if p["name"] == "crs")
    paths: dict[str, Any] = {
        "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage",
                      "parameters": [_f_param(), _lang_param()],
                      "responses": _responses("links to the API", "application/json")}},
        "/conformance": {"get": {"summary": "Conformance classes",
                                 "operationId": "getConformanceDeclaration",
                                 "parameters": [_f_param(), _lang_param()],
                                 "responses": _responses("conformance classes",
                                                         "application/json")}},
        "/api": {"get": {"summary": "This document", "operationId": "getAPI",
                         "parameters": [_f_param(), _lang_param()],
                         "responses": _responses("the OpenAPI document",
                                                 "application/vnd.oai.openapi+json;"
                                                 "version=3.0")}},
        "/collections": {"get": {"summary": "The collections (one per map layer)",
                                 "operationId": "getCollections",
                                 "parameters": [_f_param(), _lang_param()],
                                 "responses": _responses("the collections",
                                                         "application/json")}},
        "/collections/{collectionId}": {"get": {
            "summary": "A collection", "operationId": "describeCollection",
            "parameters": [collection_id, _f_param(), _lang_param()],
            "responses": _responses("the collection", "application/json")}},
        "/collections/{collectionId}/items": {"get": {
            "summary": "Features of a collection", "operationId": "getFeatures",
            "parameters": [collection_id, *items_parameters(max_limit, None)],
            "responses": _responses("a page of features (next/prev links)",
                                    "application/geo+json")}},
        "/collections/{collectionId}/queryables": {"get": {
            "summary": "The properties a filter may use (JSON Schema)",
            "operationId": "getQueryables",
            "parameters": [collection_id, _f_param(), _lang_param()],
            "responses": _responses("the queryables", "application/schema+json")}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            "summary": "One feature", "operationId": "getFeature",
            "parameters": [collection_id, feature_id, crs_param, _f_param(), _lang_param()],
            "responses": _responses("the feature", "application/geo+json")}},
    }
    # One concrete path per collection too, with its property filters.
    for name, layer in layers.items():
        title = layer.text(layer.title, lang)
        paths[f"/collections/{name}/items"] = {"get": {
            "summary": f"{title}: features", "operationId": f"getFeatures_{name}",
            "tags": [name],
            "parameters": items_parameters(max_limit, layer),
            "responses": _responses(f"a page of {name}", "application/geo+json")}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Khoái Châu heritage map: OGC API – Features", "version": "1.0",
                 "description": "Published, non-sensitive records of the heritage register "
                                "of Khoái Châu (Hưng Yên), one collection per map layer. "
                                "Coordinates are CRS84 unless `crs` asks for EPSG:4326, "
                                "VN-2000 TM-3 (EPSG:9209) or VN-2000 UTM 48N (EPSG:3405).",
                 "license": {"name": "see each record's licence on its page"}},
        "servers": [{"url": root}],
        "tags": [{"name": name, "description": layer.text(layer.title, lang)}
                 for name, layer in layers.items()],
        "paths": paths,
        "components": {"schemas": {"exception": EXCEPTION, "link": LINK}},
    }
