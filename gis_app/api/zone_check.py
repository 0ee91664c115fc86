"""`POST /api/zone-check`: does a parcel touch a relic's protection zone?

Body: a GeoJSON geometry, Feature or FeatureCollection. Query: `crs` (default
EPSG:4326; e.g. EPSG:9209 for VN-2000 TM-3 Hưng Yên), `date` (YYYY-MM-DD, default
today). Answer: one result per parcel (see `services.zone_check.ZoneCheck`).

A visitor's check takes the lean path (db.Database.lean: one prepared statement per
parcel on an autocommit connection, no ORM session); officials' checks use their session.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gis_app.auth import csrf, current_role
from gis_app.db import database, get_session
from gis_app.errors import InputError
from gis_app.services import zone_check

bp = Blueprint("api_zone_check", __name__, url_prefix="/api")
csrf.exempt(bp)  # a JSON API: no cookie-authenticated form posts here


@bp.post("/zone-check")
def check() -> Response:
    payload = request.get_json(silent=True)
    if payload is None:
        raise InputError(
            "Send a GeoJSON geometry, Feature or FeatureCollection as the JSON body "
            "(Content-Type: application/json).",
            "Hãy gửi hình học GeoJSON (geometry, Feature hoặc FeatureCollection) trong thân "
            "yêu cầu dạng JSON (Content-Type: application/json).")
    on_date = zone_check.read_date(request.args.get("date"))
    parcels = zone_check.read_geometry(payload, request.args.get("crs"))
    role = current_role()
    if role is None:
        with database().lean() as conn:
            results = [zone_check.check_parcel_lean(conn, parcel, on_date).as_dict()
                       for parcel in parcels]
    else:
        db = get_session()
        results = [zone_check.check_parcel(db, parcel, on_date, role).as_dict()
                   for parcel in parcels]
    return jsonify({"results": results})
