"""Build records for tests through plain SQL on the test's connection."""
from __future__ import annotations

import io
import itertools
import json
import struct
import zlib
from typing import Any

from PIL import Image
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


# --- condition assessments (tests/test_conditions*.py) ----------------------------------

def make_admin_unit(db: Session, code: str, name: str, *, level: str = "commune",
                    valid_from: str = "2000-01-01", valid_to: str | None = None) -> int:
    """Insert a dated administrative unit (no geometry); its id."""
    unit_id = db.execute(text("""
        INSERT INTO admin_units (code, name, level, valid_from, valid_to)
        VALUES (:code, :name, :level, CAST(:f AS date), CAST(:t AS date)) RETURNING id"""),
        {"code": code, "name": name, "level": level, "f": valid_from,
         "t": valid_to}).scalar_one()
    db.flush()
    return unit_id


def place_site(db: Session, heritage_id: str, unit_id: int, *, valid_from: str = "2000-01-01",
               valid_to: str | None = None, current: bool = True) -> int:
    """Record that a site belonged to `unit_id` from `valid_from` to `valid_to`
    (inclusive); with `current` the site row points at that unit. The site's id."""
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": heritage_id})
    db.execute(text("""
        INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from, valid_to)
        VALUES (:s, :u, CAST(:f AS date), CAST(:t AS date))"""),
        {"s": site_id, "u": unit_id, "f": valid_from, "t": valid_to})
    if current:
        db.execute(text("UPDATE sites SET admin_unit_id = :u WHERE id = :s"),
                   {"u": unit_id, "s": site_id})
    db.flush()
    return site_id


def make_assessment(db: Session, site_id: int, assessed_on: str, overall: str, *,
                    elements: dict[str, str] | None = None, threats: tuple[str, ...] = (),
                    trend: str | None = None, supersedes_id: int | None = None,
                    assessor_name: str = "Nguyễn Văn Khảo Sát") -> int:
    """Insert a condition assessment directly (no permission checks); its id."""
    assessment_id = db.execute(text("""
        INSERT INTO condition_assessments (site_id, assessed_on, assessor_name, overall,
                                           element_scores, threats, trend, supersedes_id)
        VALUES (:s, CAST(:d AS date), :who, :overall, CAST(:scores AS jsonb), :threats,
                :trend, :sup) RETURNING id"""),
        {"s": site_id, "d": assessed_on, "who": assessor_name, "overall": overall,
         "scores": json.dumps(elements or {}), "threats": list(threats), "trend": trend,
         "sup": supersedes_id}).scalar_one()
    db.flush()
    return assessment_id


def png(width: int = 64, height: int = 48) -> bytes:
    """A real PNG image (Pillow), as an uploaded photo would be."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (140, 30, 30)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a decompression bomb's signature)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def forget_user(db: Session, username: str) -> None:
    """Remove an account a test committed to the shared live-server database, with the
    assessments it recorded (append-only by trigger, so triggers are off for this) and
    its form tokens. The caller commits."""
    who = {"u": username}
    db.execute(text("SET LOCAL session_replication_role = replica"))
    db.execute(text("DELETE FROM condition_assessments WHERE recorded_by = "
                    "(SELECT id FROM users WHERE username = :u)"), who)
    db.execute(text("SET LOCAL session_replication_role = origin"))
    db.execute(text("DELETE FROM form_submissions WHERE user_id = "
                    "(SELECT id FROM users WHERE username = :u)"), who)
    db.execute(text("DELETE FROM users WHERE username = :u"), who)


def forget_sites(db: Session, heritage_ids: list[str]) -> None:
    """Remove relics a browser test committed to the shared live-server database, with
    their zones, commune rows and restore log (identifiers are permanent by trigger, so
    triggers are off for this). Runs with replica triggers off until the transaction ends;
    the caller commits."""
    ids = {"ids": list(heritage_ids)}
    of_sites = "(SELECT id FROM sites WHERE heritage_id = ANY(:ids))"
    db.execute(text("SET LOCAL session_replication_role = replica"))
    db.execute(text(f"DELETE FROM restores WHERE row_id IN (SELECT id::text FROM {of_sites} x)"),
               ids)
    for table in ("protection_zones", "site_admin_units"):
        db.execute(text(f"DELETE FROM {table} WHERE site_id IN {of_sites}"), ids)
    db.execute(text("DELETE FROM sites WHERE heritage_id = ANY(:ids)"), ids)
    db.execute(text("DELETE FROM heritage_identifiers WHERE id = ANY(:ids)"), ids)


def forget_story(engine: Any, heritage_ids: list[str], username: str,
                 first_revision: int) -> None:
    """Undo what a browser test committed to the shared live-server database: its relics
    (forget_sites), its reviewer's account and sign-ins, and every revision after
    `first_revision`; then dispose of the engine."""
    with Session(engine) as s:
        forget_sites(s, heritage_ids)
        s.execute(text("DELETE FROM sign_in_attempts WHERE username = :u"), {"u": username})
        s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
        s.execute(text("SET LOCAL session_replication_role = origin"))
        s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
        s.commit()
    engine.dispose()
