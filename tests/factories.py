"""Build records for tests through plain SQL on the test's connection."""
from __future__ import annotations

import itertools
import json

from shapely.geometry import Point, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

_numbers = itertools.count(900000)


def make_site(db: Session, lon: float, lat: float, *, name: str = "Đình thử nghiệm",
              rank: str = "provincial", status: str = "published", sensitive: bool = False,
              zone_radius_m: float | None = 60.0) -> str:
    """Insert a site (and zones I/II around it unless zone_radius_m is None); its id."""
    hid = f"VN-HY-DT-{next(_numbers):06d}"
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'site')"),
               {"id": hid})
    site_id = db.execute(text("""
        INSERT INTO sites (heritage_id, name_vi, rank, types, geom, status, sensitive, accuracy)
        VALUES (:hid, :name, :rank, ARRAY['historical'], ST_SetSRID(ST_MakePoint(:x, :y), 4326),
                :status, :sensitive, 'approximate') RETURNING id"""),
        {"hid": hid, "name": name, "rank": rank, "x": lon, "y": lat, "status": status,
         "sensitive": sensitive}).scalar_one()
    if zone_radius_m is not None:
        for zone, factor in (("I", 1.0), ("II", 3.0)):
            # Degrees per metre near 21° N is close enough for test shapes.
            poly = Point(lon, lat).buffer(zone_radius_m * factor / 104000, 16)
            db.execute(text("""
                INSERT INTO protection_zones (site_id, zone, geom, accuracy)
                VALUES (:s, :z, ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(:g), 4326)),
                        'approximate')"""),
                {"s": site_id, "z": zone, "g": json.dumps(mapping(poly))})
    db.flush()
    return hid
