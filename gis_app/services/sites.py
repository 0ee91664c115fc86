"""A relic's permanent page: its record, zones, administrative units and heritage."""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import InputError, RecordNotFound
from gis_app.services.features import FULL_ACCESS_ROLES


def get_site(db: Session, heritage_id: str, role: str | None = None) -> dict[str, Any]:
    """The site with this heritage identifier as plain data.

    The public sees only published, non-sensitive sites; others raise RecordNotFound
    (the same answer as an unknown identifier, so drafts do not leak).
    Zone areas are in square metres (computed on the geography).
    """
    site = db.execute(text("""
        SELECT s.id, s.heritage_id, s.name_vi, s.name_en, s.other_names, s.types, s.rank,
               s.ranking_decision_no, s.ranking_decision_date, s.period, s.materials,
               s.description_vi, s.description_en, s.status, s.sensitive, s.source,
               s.accuracy, s.accuracy_note, s.licence,
               ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
               u.name AS unit_name, u.level AS unit_level
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE s.heritage_id = :hid"""), {"hid": heritage_id}).mappings().first()
    if site is None or (role not in FULL_ACCESS_ROLES
                        and (site["status"] != "published" or site["sensitive"])):
        raise RecordNotFound(f"No published relic has the identifier {heritage_id}",
                             f"Không có di tích nào được công bố với mã định danh {heritage_id}")
    out = dict(site)
    out["zones"] = [dict(r) for r in db.execute(text("""
        SELECT zone, decision_no, decision_date, valid_from, valid_to, accuracy,
               round(ST_Area(geom::geography)::numeric) AS area_m2,
               ST_XMin(geom) AS minx, ST_YMin(geom) AS miny,
               ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy
          FROM protection_zones
         WHERE site_id = :id AND (valid_to IS NULL OR valid_to >= current_date)
         ORDER BY zone"""), {"id": site["id"]}).mappings()]
    out["admin_history"] = [dict(r) for r in db.execute(text("""
        SELECT u.name, u.level, u.code, h.valid_from, h.valid_to
          FROM site_admin_units h JOIN admin_units u ON u.id = h.admin_unit_id
         WHERE h.site_id = :id ORDER BY h.valid_from"""), {"id": site["id"]}).mappings()]
    out["intangible"] = [dict(r) for r in db.execute(text("""
        SELECT i.heritage_id, i.name_vi, i.name_en, i.ich_type
          FROM intangible_sites x JOIN intangible_heritage i ON i.id = x.intangible_id
         WHERE x.site_id = :id AND i.status = 'published'
         ORDER BY i.name_vi"""), {"id": site["id"]}).mappings()]
    out["events"] = [dict(r) for r in db.execute(text("""
        SELECT e.name_vi, e.name_en, e.lunar_month, e.lunar_day, e.solar_date, e.duration_days
          FROM heritage_events e
          LEFT JOIN intangible_sites x ON x.intangible_id = e.intangible_id
         WHERE e.site_id = :id OR x.site_id = :id
         ORDER BY e.lunar_month, e.lunar_day"""), {"id": site["id"]}).mappings()]
    return out


def list_sites(db: Session, role: str | None = None) -> list[dict[str, Any]]:
    """Every site the role may see, by name (the plain list of the map page)."""
    where = "" if role in FULL_ACCESS_ROLES else \
        "WHERE s.status = 'published' AND NOT s.sensitive"
    return [dict(r) for r in db.execute(text(f"""
        SELECT s.heritage_id, s.name_vi, s.name_en, s.rank, u.name AS unit_name
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
          {where}
         ORDER BY lower(f_unaccent(s.name_vi)), s.heritage_id""")).mappings()]


SEARCH_SQL = """
    WITH q AS (SELECT lower(f_unaccent(:q)) AS q),
    candidates AS (
      SELECT s.heritage_id, s.name_vi, s.name_en, s.rank, s.other_names,
             ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
             lower(f_unaccent(s.name_vi || ' ' || array_to_string(s.other_names, ' ')
                              || ' ' || coalesce(s.name_en, ''))) AS folded
        FROM sites s {where})
    SELECT c.heritage_id, c.name_vi, c.name_en, c.rank, c.other_names, c.lon, c.lat,
           (' ' || c.folded) LIKE '% ' || :pattern || '%' ESCAPE '\\' AS exact,
           word_similarity(q.q, c.folded) AS score
      FROM candidates c, q
     WHERE (' ' || c.folded) LIKE '% ' || :pattern || '%' ESCAPE '\\'
        OR (length(q.q) >= 4 AND word_similarity(q.q, c.folded) >= :threshold)
     ORDER BY exact DESC, score DESC, c.name_vi
     LIMIT :limit
"""
# pg_trgm word similarity for a typo (queries of 4+ letters; matches start at a word).
TYPO_THRESHOLD = 0.6


def search_sites(db: Session, query: str, role: str | None = None,
                 limit: int = 20) -> list[dict[str, Any]]:
    """Sites whose names (Vietnamese, other names, English) match `query` without regard
    to diacritics, case or tone placement ("da hoa" finds "Đền Đa Hòa", "Hoà" = "Hòa"),
    and with a typo in a word ("da tracj" finds "Dạ Trạch"). Exact matches first.

    Raises InputError for a query longer than 100 characters.
    """
    query = " ".join(query.split())
    if not query:
        return []
    if len(query) > 100:
        raise InputError("The search text is too long (at most 100 characters).",
                         "Nội dung tìm kiếm quá dài (tối đa 100 ký tự).")
    where = "" if role in FULL_ACCESS_ROLES else \
        "WHERE s.status = 'published' AND NOT s.sensitive"
    folded = db.scalar(text("SELECT lower(f_unaccent(:q))"), {"q": query})
    pattern = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.execute(text(SEARCH_SQL.format(where=where)),
                      {"q": query, "pattern": pattern, "threshold": TYPO_THRESHOLD,
                       "limit": limit}).mappings()
    return [dict(r) for r in rows]
