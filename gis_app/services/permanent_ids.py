"""Permanent identifiers: what `/id/<heritage identifier>` answers for a relic, an
intangible heritage or an artifact, as plain data for the web layer to render.

One look-up, three outcomes:
- the record the role may see (services.visibility decides, per kind and role);
- `RecordMoved` (a merged relic: its survivor) or `RecordGone` (a retired relic with its
  reason and decision, an archived intangible heritage, an identifier withdrawn from the
  registry with its record);
- `RecordNotFound` for an identifier never minted and for a record the role may not see
  (a draft, a sensitive relic, an artifact waiting for review): the same answer, so
  existence does not leak.

Relics go through `services.sites.get_site`, the relic page's own look-up, so `/id` and
`/sites/<id>` always answer alike.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.errors import RecordGone, RecordNotFound
from gis_app.services import sites
from gis_app.services.identifiers import KIND_CODES, WELL_FORMED, example
from gis_app.services.visibility import (
    artifact_visible,
    intangible_visible,
    public_artifact,
    site_visible,
)

# The kind of record as published in documents (the registry says 'site', 'intangible').
PUBLIC_KIND = {"site": "relic", "intangible": "intangible_heritage", "artifact": "artifact"}


@dataclass(frozen=True)
class HeritageRecord:
    """A record as `/id` shows it: `fields` are the public fields (JSON-ready, codes with
    their labels in both languages), `geometry` a GeoJSON geometry in WGS 84 or None."""

    kind: str  # 'site', 'intangible' or 'artifact' (the registry's kinds)
    heritage_id: str
    status: str
    fields: dict[str, Any]
    geometry: dict[str, Any] | None = None
    related: dict[str, Any] = field(default_factory=dict)


def canonical(raw: str) -> str | None:
    """The identifier `raw` names in its canonical (upper case) form, or None when it is
    not the shape of one. Case and surrounding spaces are forgiven: 'vn-hy-dt-000001'
    names 'VN-HY-DT-000001'."""
    value = unicodedata.normalize("NFC", raw).strip().upper()
    return value if WELL_FORMED.match(value) else None


def not_an_identifier(raw: str) -> RecordNotFound:
    """The error for an address that is not the shape of a heritage identifier."""
    shapes = ", ".join(example(kind) for kind in KIND_CODES)
    shown = raw if len(raw) <= 60 else raw[:60] + "…"
    return RecordNotFound(
        f"“{shown}” is not a heritage identifier. An identifier looks like {shapes} "
        f"(a relic, an intangible heritage, an artifact).",
        f"“{shown}” không phải mã định danh di sản. Mã định danh có dạng {shapes} "
        f"(di tích, di sản phi vật thể, hiện vật).",
        log=f"not a heritage identifier: {shown!r}")


def _not_found(heritage_id: str) -> RecordNotFound:
    return RecordNotFound(
        f"No published record has the identifier {heritage_id}. Check the identifier, or "
        f"search the map by name.",
        f"Không có hồ sơ nào được công bố với mã định danh {heritage_id}. Hãy kiểm tra lại "
        f"mã, hoặc tìm theo tên trên bản đồ.")


def _withdrawn(heritage_id: str, name: str | None = None) -> RecordGone:
    what_en = f"{name} ({heritage_id})" if name else heritage_id
    return RecordGone(
        f"The record {what_en} was withdrawn from the register; its identifier is never "
        f"reused.",
        f"Hồ sơ {what_en} đã được đưa ra khỏi danh mục; mã định danh này không bao giờ được "
        f"dùng lại.",
        details={"heritage_id": heritage_id, "name": name, "reason": None, "decision": None})


def _label(name: str, code: str | None) -> dict[str, str] | None:
    if code is None:
        return None
    return {"code": code, "vi": vocab.label(name, code, "vi"), "en": vocab.label(name, code, "en")}


def find_record(db: Session, heritage_id: str, role: str | None) -> HeritageRecord:
    """The record with the canonical identifier `heritage_id` as `role` may see it.

    Raises RecordNotFound (never minted, or not visible to `role`), RecordMoved
    (`details["heritage_id"]` is the survivor) or RecordGone (`details` carry the reason
    and decision when there are any)."""
    registered = db.execute(text(
        "SELECT kind, retired_at FROM heritage_identifiers WHERE id = :h"),
        {"h": heritage_id}).mappings().first()
    if registered is None:
        raise _not_found(heritage_id)
    finders = {"site": _relic, "intangible": _intangible, "artifact": _artifact}
    try:
        return finders[registered["kind"]](db, heritage_id, role)
    except RecordNotFound:
        # The registry keeps an identifier whose record was removed (an undone import).
        if registered["retired_at"] is not None and not _has_record(db, registered["kind"],
                                                                    heritage_id):
            raise _withdrawn(heritage_id) from None
        raise _not_found(heritage_id) from None  # one answer for hidden and unknown


_TABLES = {"site": "sites", "intangible": "intangible_heritage", "artifact": "artifacts"}


def _has_record(db: Session, kind: str, heritage_id: str) -> bool:
    return bool(db.scalar(text(
        f"SELECT EXISTS (SELECT 1 FROM {_TABLES[kind]} WHERE heritage_id = :h)"),
        {"h": heritage_id}))


def _relic(db: Session, heritage_id: str, role: str | None) -> HeritageRecord:
    site = sites.get_site(db, heritage_id, role)  # raises 404 / 301 / 410 like its page
    fields = {
        "name": {"vi": site["name_vi"], "en": site["name_en"]},
        "other_names": site["other_names"] or [],
        "types": [_label("relic_type", t) for t in site["types"] or []],
        "rank": _label("rank", site["rank"]),
        "ranking_decision": ({"number": site["ranking_decision_no"],
                              "date": _iso(site["ranking_decision_date"])}
                             if site["ranking_decision_no"] else None),
        "period": site["period"],
        "commune": ({"code": site["unit_code"], "name": site["unit_name"]}
                    if site["unit_name"] else None),
        "description": {"vi": site["description_vi"], "en": site["description_en"]},
        "location": {"lon": round(site["lon"], 7), "lat": round(site["lat"], 7)},
        "zones": [{"zone": z["zone"], "area_m2": int(z["area_m2"]),
                   "decision": z["decision_no"], "valid_from": _iso(z["valid_from"])}
                  for z in site["zones"]],
        "licence": site["licence"],
        "updated_at": _iso(site["updated_at"]),
    }
    bbox = None
    if site["zones"]:
        bbox = [min(z["minx"] for z in site["zones"]), min(z["miny"] for z in site["zones"]),
                max(z["maxx"] for z in site["zones"]), max(z["maxy"] for z in site["zones"])]
    return HeritageRecord(
        kind="site", heritage_id=site["heritage_id"], status=site["status"], fields=fields,
        geometry={"type": "Point", "coordinates": [round(site["lon"], 7),
                                                   round(site["lat"], 7)]},
        related={"zones_bbox": bbox})


def _intangible(db: Session, heritage_id: str, role: str | None) -> HeritageRecord:
    row = db.execute(text(f"""
        SELECT ih.id, ih.heritage_id, ih.name_vi, ih.name_en, ih.ich_type, ih.community,
               ih.description_vi, ih.description_en, ih.national_listing_decision_no,
               ih.national_listing_date, ih.status,
               ST_AsGeoJSON(ih.geom, 7) AS geometry,
               {intangible_visible(role, "ih")} AS visible
          FROM intangible_heritage ih WHERE ih.heritage_id = :h"""),
        {"h": heritage_id}).mappings().first()
    if row is None:
        raise _not_found(heritage_id)
    if row["status"] == "archived":  # the intangible register's end of life
        raise _withdrawn(heritage_id, row["name_vi"])
    if not row["visible"]:
        raise _not_found(heritage_id)
    relics = [dict(r) for r in db.execute(text(f"""
        SELECT s.heritage_id, s.name_vi, s.name_en
          FROM intangible_sites x JOIN sites s ON s.id = x.site_id
         WHERE x.intangible_id = :id AND {site_visible(role, "s")}
         ORDER BY s.name_vi, s.heritage_id"""), {"id": row["id"]}).mappings()]
    fields = {
        "name": {"vi": row["name_vi"], "en": row["name_en"]},
        "type": _label("ich_type", row["ich_type"]),
        "community": row["community"],
        "description": {"vi": row["description_vi"], "en": row["description_en"]},
        "national_listing": ({"number": row["national_listing_decision_no"],
                              "date": _iso(row["national_listing_date"])}
                             if row["national_listing_decision_no"] else None),
        "relics": relics,
    }
    return HeritageRecord(
        kind="intangible", heritage_id=row["heritage_id"], status=row["status"],
        fields=fields, geometry=json.loads(row["geometry"]) if row["geometry"] else None)


def _artifact(db: Session, heritage_id: str, role: str | None) -> HeritageRecord:
    row = db.execute(text(f"""
        SELECT a.heritage_id, a.name_vi, a.other_names, a.kind, a.period, a.material,
               a.dimensions, a.description, a.inventory_code,
               a.approved_at IS NOT NULL AS approved,
               h.heritage_id AS site_heritage_id, h.name_vi AS site_name_vi,
               h.name_en AS site_name_en,
               coalesce({site_visible(role, "h")}, false) AS site_visible,
               {artifact_visible(role, "a", "h")} AS visible
          FROM artifacts a LEFT JOIN sites h ON h.id = a.holding_site_id
         WHERE a.heritage_id = :h"""), {"h": heritage_id}).mappings().first()
    if row is None or not row["visible"]:
        raise _not_found(heritage_id)
    fields = {
        "name": {"vi": row["name_vi"], "en": None},
        "other_names": row["other_names"],
        "type": _label("artifact_kind", row["kind"]),
        "period": row["period"],
        "material": row["material"],
        "dimensions": row["dimensions"],
        "description": row["description"],
        "inventory_code": row["inventory_code"],
        # Its relic, when the role may see that relic (an official may open an artifact
        # held at a retired relic; the relic itself then answers 410).
        "relic": ({"heritage_id": row["site_heritage_id"], "name_vi": row["site_name_vi"],
                   "name_en": row["site_name_en"]} if row["site_visible"] else None),
    }
    return HeritageRecord(kind="artifact", heritage_id=row["heritage_id"],
                          status="published" if row["approved"] else "waiting",
                          fields=fields, geometry=None)


def sitemap_records(db: Session) -> list[dict[str, str]]:
    """The intangible heritage and artifacts the public may see (`kind`, `heritage_id`),
    for /sitemap.xml; never drafts or hidden records, whoever asks. (Relics:
    services.sites.sitemap_sites.)"""
    return [dict(r) for r in db.execute(text(f"""
        SELECT 'intangible' AS kind, ih.heritage_id FROM intangible_heritage ih
         WHERE {intangible_visible(None, "ih")}
        UNION ALL
        SELECT 'artifact', a.heritage_id FROM artifacts a JOIN sites h ON h.id = a.holding_site_id
         WHERE {public_artifact("a", "h")}
         ORDER BY 1, 2""")).mappings()]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
