"""`GET /api/openapi.json`: the OpenAPI 3.0 description of the machine API."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from layers import all_layers

bp = Blueprint("api_openapi", __name__, url_prefix="/api")

ERROR = {"type": "object", "properties": {"error": {"type": "string"},
                                          "message": {"type": "string"}}}
ZONE_HIT = {"type": "object", "properties": {
    "heritage_id": {"type": "string", "example": "VN-HY-DT-000001"},
    "site_name_vi": {"type": "string"}, "site_name_en": {"type": "string", "nullable": True},
    "rank": {"type": "string", "nullable": True,
             "enum": ["special_national", "national", "provincial", "inventoried"]},
    "zone": {"type": "string", "enum": ["I", "II", "buffer"]},
    "decision_no": {"type": "string", "nullable": True},
    "overlap_m2": {"type": "number", "description": "overlap area, m² on the WGS 84 spheroid"},
    "overlap_pct": {"type": "number", "description": "overlap as % of the parcel's area"},
    "relic_distance_m": {"type": "number", "description": "parcel to relic point, metres"},
    "rules": {"type": "object", "properties": {"vi": {"type": "string"},
                                               "en": {"type": "string"},
                                               "ref": {"type": "string"}}},
}}
ZONE_CHECK = {"type": "object", "properties": {
    "parcel_area_m2": {"type": "number"},
    "on_date": {"type": "string", "format": "date"},
    "hits": {"type": "array", "items": ZONE_HIT,
             "description": "every zone touched; touching a boundary counts"},
    "nearest": {"type": "object", "nullable": True,
                "description": "the nearest relic when no zone is touched",
                "properties": {"heritage_id": {"type": "string"},
                               "site_name_vi": {"type": "string"},
                               "distance_m": {"type": "number"}}},
    "data_version": {"type": "integer",
                     "description": "latest revision id when the answer was computed"},
}}

# A page of features: `numberMatched` only on a capped answer (see the descriptions).
FEATURE_COLLECTION = {"type": "object", "required": ["type", "features", "numberReturned"],
                      "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]},
    "features": {"type": "array", "items": {"type": "object"}},
    "numberReturned": {"type": "integer", "minimum": 0,
                       "description": "features in this answer"},
    "numberMatched": {"type": "integer", "minimum": 1,
                      "description": "present only when the answer is capped (more features "
                                     "match than it returns): how many match the query in "
                                     "all (every page). Absent: the answer ends with the "
                                     "last match. A map shows \"5,000 of 12,345\" with it."},
    "links": {"type": "array", "items": {"type": "object"}}}}
CAPPED = ("When more features match than `limit` (default: the layer's own limit, 5,000), "
          "the answer holds the first `limit` and says so with `numberMatched` (all matches) "
          "beside `numberReturned`; an answer holding every match has no `numberMatched`.")


SITE_FILTERS: list[dict[str, Any]] = [
    {"name": "q", "in": "query", "description": "name, without regard to diacritics",
     "schema": {"type": "string", "maxLength": 100}},
    {"name": "type", "in": "query", "description": "relic type codes, comma-separated",
     "schema": {"type": "string", "example": "historical,scenic"}},
    {"name": "rank", "in": "query", "description": "rank codes, comma-separated",
     "schema": {"type": "string", "example": "special_national"}},
    {"name": "commune", "in": "query", "description": "an admin unit id from "
     "/api/sites/filters or a commune name, today's or former (before the 2025 reform)",
     "schema": {"type": "string"}},
    {"name": "festival_month", "in": "query", "description": "relics with a festival in "
     "this solar month", "schema": {"type": "string", "example": "2026-03"}}]


def document(max_limit: int = 10_000) -> dict[str, Any]:
    """The document; `max_limit` is the app's GEOJSON_MAX_LIMIT (largest `limit`)."""
    layer_names = list(all_layers())
    bad = {"description": "bad input; the message says what to change",
           "content": {"application/json": {"schema": ERROR}}}
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "Khoái Châu heritage map API", "version": "1",
                 "description": "Relics, protection zones and the zone check of Khoái Châu "
                                "(Hưng Yên). Coordinates are WGS 84 longitude/latitude "
                                "unless a `crs` is given."},
        "paths": {
            "/api/layers": {"get": {
                "summary": "The map layers: titles, geometry type, bbox, count, style",
                "responses": {"200": {"description": "layer list"}}}},
            "/api/layers/{name}.geojson": {"get": {
                "summary": "Features of a layer in a bbox (RFC 7946 GeoJSON)",
                "description": CAPPED + " A capped answer also has a `next` link to the "
                                        "following page (same query, `offset` moved on).",
                "parameters": [
                    {"name": "name", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": layer_names}},
                    {"name": "bbox", "in": "query",
                     "schema": {"type": "string", "example": "105.9,20.8,106.0,20.9"}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": max_limit}},
                    {"name": "offset", "in": "query",
                     "schema": {"type": "integer", "minimum": 0, "maximum": 10_000_000}},
                    {"name": "as_of", "in": "query",
                     "description": "YYYY-MM-DD: the layer as it stood at the end of that day "
                                    "(layers listed with as_of true; district reviewers and "
                                    "admins only, others get 403)",
                     "schema": {"type": "string", "format": "date"}},
                    {"name": "If-None-Match", "in": "header",
                     "description": "the ETag of a copy the client holds (public answers): "
                                    "304 while the data has not changed since",
                     "schema": {"type": "string"}}],
                "responses": {"200": {"description": "FeatureCollection, with a next link "
                                                     "when capped; a property without a value "
                                                     "is left out; public answers carry an "
                                                     "ETag",
                                      "content": {"application/geo+json": {
                                          "schema": FEATURE_COLLECTION}}},
                              "304": {"description": "the client's copy (If-None-Match) is "
                                                     "still the current answer"},
                              "400": bad, "403": bad, "404": bad}}},
            "/api/search": {"get": {
                "summary": "Relics by name, without regard to diacritics, case or one typo "
                           "(\"da hoa\" finds \"Đền Đa Hòa\")",
                "parameters": [{"name": "q", "in": "query", "required": True,
                                "schema": {"type": "string", "maxLength": 100}}],
                "responses": {"200": {"description": "matches, exact ones first"},
                              "400": bad}}},
            "/api/sites": {"get": {
                "summary": "Relics for the tourists' map with their cards (name, type, rank, "
                           "short description, opening hours, photo, directions), filtered; "
                           "filters combine",
                "description": CAPPED.replace("the layer's own limit, 5,000", "1,000"),
                "parameters": SITE_FILTERS + [
                    {"name": "bbox", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": max_limit}}],
                "responses": {"200": {"description": "FeatureCollection, search matches "
                                                     "first when q is given, else by name",
                                      "content": {"application/geo+json": {
                                          "schema": FEATURE_COLLECTION}}},
                              "400": bad}}},
            "/api/sites/nearby": {"get": {
                "summary": "The relics nearest a position, with `distance_m`: straight-line "
                           "distance on the WGS 84 spheroid in metres (not a walking route)",
                "parameters": [
                    {"name": "lat", "in": "query", "required": True,
                     "schema": {"type": "number", "minimum": -90, "maximum": 90}},
                    {"name": "lon", "in": "query", "required": True,
                     "schema": {"type": "number", "minimum": -180, "maximum": 180}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer",
                                                                "minimum": 1,
                                                                "maximum": 50}},
                    *SITE_FILTERS],
                "responses": {"200": {"description": "FeatureCollection, nearest first",
                                      "content": {"application/geo+json": {}}},
                              "400": bad}}},
            "/api/sites/filters": {"get": {
                "summary": "Choices for /api/sites filters, labelled in the request's "
                           "language (`lang=vi|en`), each with its number of relics",
                "parameters": [{"name": "lang", "in": "query",
                                "schema": {"type": "string", "enum": ["vi", "en"]}}],
                "responses": {"200": {"description": "types, ranks, communes (today's and "
                                                     "former), this month's festivals"}}}},
            "/api/zone-check": {"post": {
                "summary": "Which protection zones does a parcel touch, and what applies",
                "parameters": [
                    {"name": "crs", "in": "query", "description":
                     "CRS of the body's coordinates, e.g. EPSG:9209 (VN-2000 TM-3 105°30′, "
                     "Hưng Yên) or EPSG:4326 (default)", "schema": {"type": "string"}},
                    {"name": "date", "in": "query", "description":
                     "answer with the zones valid on this date (default today)",
                     "schema": {"type": "string", "format": "date"}}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"description": "GeoJSON geometry, Feature or "
                                              "FeatureCollection (at most 1,000 parcels)"},
                    "example": {"type": "Polygon", "coordinates": [[
                        [105.9605, 20.8305], [105.9615, 20.8305], [105.9615, 20.8315],
                        [105.9605, 20.8315], [105.9605, 20.8305]]]}}}},
                "responses": {"200": {"description": "one result per parcel",
                                      "content": {"application/json": {"schema": {
                                          "type": "object", "properties": {"results": {
                                              "type": "array", "items": ZONE_CHECK}}}}}},
                              "400": bad}}},
        },
    }
    # Any request may be refused as bad input (a NUL character anywhere is, for every
    # endpoint: gis_app/web/errors.py), so every operation documents a 400.
    for operations in doc["paths"].values():
        for operation in operations.values():
            operation["responses"].setdefault("400", bad)
    return doc


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document(current_app.config["GEOJSON_MAX_LIMIT"]))
