"""Load the Khoái Châu demo set (data/demo/khoai_chau.json, built by data/build_demo.py).

Loading is one transaction and idempotent: a second run finds the set's heritage
identifiers and changes nothing.
"""
from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from gis_app.config import PROJECT_ROOT
from gis_app.errors import ImportFailed
from gis_app.models import HeritageIdentifier
from gis_app.services.admin_units import assign_units

log = logging.getLogger(__name__)
DEMO_FILE = PROJECT_ROOT / "data" / "demo" / "khoai_chau.json"

GEOM = "ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326)"
MULTI = f"ST_Multi({GEOM})"


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def load_demo(db: Session, path: Path = DEMO_FILE) -> dict[str, int]:
    """Insert the demo set; return counts per table ({} if it was already loaded).

    The caller commits. Raises ImportFailed if the database holds part of the set.
    """
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = [s["heritage_id"] for s in data["sites"]] + [
        i["heritage_id"] for i in data.get("intangible_heritage", [])]
    present = db.scalar(select(func.count()).select_from(HeritageIdentifier)
                        .where(HeritageIdentifier.id.in_(ids)))
    if present == len(ids):
        log.info("demo data already loaded (%d identifiers)", present)
        return {}
    if present:
        raise ImportFailed(
            f"The database holds {present} of the {len(ids)} demo identifiers; load the demo "
            "into an empty database", f"Cơ sở dữ liệu đã có {present}/{len(ids)} mã định danh "
            "của bộ dữ liệu mẫu; hãy nạp vào cơ sở dữ liệu trống")
    counts = {"admin_units": _load_admin_units(db, data["admin_units"])}
    site_ids = _load_sites(db, data["sites"])
    counts["sites"] = len(site_ids)
    # Each relic's communes (today's and former ones) follow from where it stands.
    assign_units(db, site_ids.values())
    counts["protection_zones"] = _insert_all(db, data["protection_zones"], """
        INSERT INTO protection_zones (site_id, zone, geom, decision_no, decision_date,
                                      valid_from, source, accuracy)
        VALUES (:site_id, :zone, {MULTI}, :decision_no, :decision_date, :valid_from,
                :source, :accuracy)""", site_ids)
    counts["landscapes"] = _insert_all(db, data.get("landscapes", []), """
        INSERT INTO landscapes (site_id, kind, name_vi, name_en, geom, source, accuracy)
        VALUES (:site_id, :kind, :name_vi, :name_en, {MULTI}, :source, :accuracy)""", site_ids)
    counts["facilities"] = _insert_all(db, data.get("facilities", []), """
        INSERT INTO facilities (site_id, kind, name_vi, name_en, geom, source, accuracy)
        VALUES (:site_id, :kind, :name_vi, :name_en,
                CASE WHEN GeometryType({GEOM}) = 'POLYGON' THEN {MULTI} ELSE {GEOM} END,
                :source, :accuracy)""", site_ids)
    lines = [dict(r, kind="river") for r in data.get("rivers", [])] + [
        dict(r, kind="road") for r in data.get("roads", [])]
    counts["basemap_features"] = _insert_all(db, lines, """
        INSERT INTO basemap_features (kind, name_vi, name_en, ref, geom, accuracy)
        VALUES (:kind, :name_vi, :name_en, :ref, {MULTI}, :accuracy)""", site_ids)
    counts["intangible_heritage"] = _load_intangible(db, data.get("intangible_heritage", []),
                                                     site_ids)
    log.info("loaded demo data: %s", counts)
    return counts


def _insert_all(db: Session, rows: list[dict[str, Any]], sql: str,
                site_ids: dict[str, int]) -> int:
    statement = text(sql.format(GEOM=GEOM, MULTI=MULTI))
    keys = set(statement.compile().params)
    for row in rows:
        values = {k: row.get(k) for k in keys}
        values["geom"] = _json(row["geometry"])
        if "site_id" in keys:
            values["site_id"] = site_ids.get(row.get("heritage_id") or "")
        for k in ("decision_date", "valid_from"):
            if k in keys:
                values[k] = _date(row.get(k))
        db.execute(statement, values)
    return len(rows)


def _load_admin_units(db: Session, units: list[dict[str, Any]]) -> int:
    ids: dict[str, int] = {}  # code -> last unit inserted with that code
    closed: dict[str, int] = {}  # code -> unit closed by the reform (merged_from refers here)
    # Parents come before children in the file; merged_from refers to earlier units.
    for unit in units:
        unit_id = db.execute(text(f"""
            INSERT INTO admin_units (code, name, level, parent_id, valid_from, valid_to,
                                     geom, source, accuracy)
            VALUES (:code, :name, :level, :parent_id, :valid_from, :valid_to,
                    CASE WHEN CAST(:geom AS text) IS NULL THEN NULL ELSE {MULTI} END,
                    :source, :accuracy)
            RETURNING id"""), {
            "code": unit["code"], "name": unit["name"], "level": unit["level"],
            "parent_id": ids.get(unit.get("parent_code") or ""),
            "valid_from": _date(unit["valid_from"]), "valid_to": _date(unit.get("valid_to")),
            "geom": _json(unit.get("geometry")), "source": unit.get("source"),
            "accuracy": unit.get("accuracy")}).scalar_one()
        for old_code in unit.get("merged_from") or []:
            db.execute(text("""
                INSERT INTO admin_unit_successions (old_unit_id, new_unit_id, effective,
                                                    legal_basis)
                VALUES (:old, :new, :effective, :basis)"""), {
                "old": closed.get(old_code, ids.get(old_code)), "new": unit_id,
                "effective": _date(unit["valid_from"]), "basis": unit.get("source")})
        ids[unit["code"]] = unit_id
        if unit.get("valid_to") is not None:
            closed[unit["code"]] = unit_id
    return len(units)


def _load_sites(db: Session, sites: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for site in sites:
        db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'site')"),
                   {"id": site["heritage_id"]})
        site_id = db.execute(text(f"""
            INSERT INTO sites (heritage_id, name_vi, name_en, other_names, types, rank,
                               ranking_decision_no, ranking_decision_date, period, materials,
                               description_vi, description_en, geom, status,
                               sensitive, source, accuracy, accuracy_note)
            VALUES (:heritage_id, :name_vi, :name_en, :other_names, :types, :rank,
                    :ranking_decision_no, :ranking_decision_date, :period, :materials,
                    :description_vi, :description_en, {GEOM}, :status,
                    :sensitive, :source, :accuracy, :accuracy_note)
            RETURNING id"""), {
            **{k: site.get(k) for k in (
                "heritage_id", "name_vi", "name_en", "rank", "ranking_decision_no", "period",
                "materials", "description_vi", "description_en", "source", "accuracy",
                "accuracy_note")},
            "other_names": site.get("other_names") or [], "types": site.get("types") or [],
            "ranking_decision_date": _date(site.get("ranking_decision_date")),
            "geom": _json(site["location"]),
            "status": site.get("status", "published"),
            "sensitive": bool(site.get("sensitive"))}).scalar_one()
        out[site["heritage_id"]] = site_id
    return out


def _load_intangible(db: Session, items: list[dict[str, Any]], site_ids: dict[str, int]) -> int:
    for item in items:
        db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'intangible')"),
                   {"id": item["heritage_id"]})
        ich_id = db.execute(text("""
            INSERT INTO intangible_heritage (heritage_id, name_vi, name_en, ich_type, community,
                                             description_vi, description_en,
                                             national_listing_decision_no,
                                             national_listing_date, status, source)
            VALUES (:heritage_id, :name_vi, :name_en, :ich_type, :community, :description_vi,
                    :description_en, :national_listing_decision_no, :national_listing_date,
                    'published', :source)
            RETURNING id"""), {
            **{k: item.get(k) for k in (
                "heritage_id", "name_vi", "name_en", "ich_type", "community", "description_vi",
                "description_en", "national_listing_decision_no", "source")},
            "national_listing_date": _date(item.get("national_listing_date"))}).scalar_one()
        for hid in item.get("site_heritage_ids") or []:
            db.execute(text("INSERT INTO intangible_sites (intangible_id, site_id) "
                            "VALUES (:i, :s)"), {"i": ich_id, "s": site_ids[hid]})
        for event in item.get("events") or []:
            db.execute(text("""
                INSERT INTO heritage_events (intangible_id, name_vi, name_en, lunar_month,
                                             lunar_day, solar_date, duration_days)
                VALUES (:i, :name_vi, :name_en, :lunar_month, :lunar_day, :solar_date,
                        :duration_days)"""), {
                "i": ich_id, "name_vi": event["name_vi"], "name_en": event.get("name_en"),
                "lunar_month": event.get("lunar_month"), "lunar_day": event.get("lunar_day"),
                "solar_date": _date(event.get("solar_date")),
                "duration_days": event.get("duration_days") or 1})
    return len(items)
