"""A relic's permanent page: its record, zones, administrative units, heritage, photos,
artifacts and nearby relics; the list and search of relics; the sitemap's entries."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, RecordGone, RecordMoved, RecordNotFound
from gis_app.services import lifecycle
from gis_app.services.digital_records import ORDER as RECORD_ORDER
from gis_app.services.digital_records import SHOWN as RECORD_SHOWN
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.services.visibility import (
    artifact_shown,
    intangible_visible,
    public_site,
    site_visible,
)
from layers.protection_zones import valid_on


def get_site(db: Session, heritage_id: str, role: str | None = None) -> dict[str, Any]:
    """The site with this heritage identifier as plain data.

    The public sees only published, non-sensitive sites; others raise RecordNotFound
    (the same answer as an unknown identifier, so drafts do not leak).
    Zone areas are in square metres (computed on the geography). Besides the record:
    `zones`, `admin_history`, `intangible`, `events`, `photos` (files under MEDIA_DIR,
    with credit and licence), `artifacts` held there (public fields only) and `nearby`
    relics the role may see within NEARBY_RADIUS_M, nearest first. `survey_code` (the
    survey team's own code) only for officials, None for the public.
    """
    site = db.execute(text(f"""
        SELECT s.id, s.heritage_id, s.name_vi, s.name_en, s.other_names, s.types, s.rank,
               s.ranking_decision_no, s.ranking_decision_date, s.period, s.materials,
               s.description_vi, s.description_en, s.status, s.sensitive, s.source,
               s.accuracy, s.accuracy_note, s.licence, s.opening_hours_vi,
               s.opening_hours_en, s.updated_at, s.survey_code,
               ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
               u.name AS unit_name, u.level AS unit_level, u.code AS unit_code,
               {public_site("s")} AS public
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE s.heritage_id = :hid"""), {"hid": heritage_id}).mappings().first()
    if site is not None and site["status"] in ("retired", "merged") and (
            role in FULL_ACCESS_ROLES or not site["sensitive"]):
        _raise_ended(db, heritage_id)
    if site is None or not (role in FULL_ACCESS_ROLES or site["public"]):
        raise RecordNotFound(f"No published relic has the identifier {heritage_id}",
                             f"Không có di tích nào được công bố với mã định danh {heritage_id}")
    out = dict(site)
    if role not in OFFICIAL_ROLES:
        out["survey_code"] = None
    out["zones"] = [dict(r) for r in db.execute(text(f"""
        SELECT zone, decision_no, decision_date, valid_from, valid_to, accuracy,
               round(ST_Area(geom::geography)::numeric) AS area_m2,
               ST_XMin(geom) AS minx, ST_YMin(geom) AS miny,
               ST_XMax(geom) AS maxx, ST_YMax(geom) AS maxy
          FROM protection_zones
         WHERE site_id = :id AND {valid_on("protection_zones", ":today")}
         ORDER BY zone"""), {"id": site["id"], "today": today_in_vietnam()}).mappings()]
    out["admin_history"] = [dict(r) for r in db.execute(text("""
        SELECT u.name, u.level, u.code, h.valid_from, h.valid_to
          FROM site_admin_units h JOIN admin_units u ON u.id = h.admin_unit_id
         WHERE h.site_id = :id ORDER BY h.valid_from"""), {"id": site["id"]}).mappings()]
    out["intangible"] = [dict(r) for r in db.execute(text(f"""
        SELECT i.heritage_id, i.name_vi, i.name_en, i.ich_type
          FROM intangible_sites x JOIN intangible_heritage i ON i.id = x.intangible_id
         WHERE x.site_id = :id AND {intangible_visible(None, "i")}
         ORDER BY i.name_vi"""), {"id": site["id"]}).mappings()]
    out["events"] = [dict(r) for r in db.execute(text(f"""
        SELECT e.name_vi, e.name_en, e.lunar_month, e.lunar_day, e.solar_date, e.duration_days
          FROM heritage_events e
          LEFT JOIN intangible_sites x ON x.intangible_id = e.intangible_id
          LEFT JOIN intangible_heritage ih ON ih.id = e.intangible_id
         WHERE (e.site_id = :id OR x.site_id = :id)
           AND (e.intangible_id IS NULL OR {intangible_visible(role, "ih")})
         ORDER BY e.lunar_month, e.lunar_day"""), {"id": site["id"]}).mappings()]
    out["photos"] = site_photos(db, site["id"])
    out["artifacts"] = [dict(r) for r in db.execute(text(f"""
        SELECT a.heritage_id, a.name_vi, a.kind, a.period, a.material
          FROM artifacts a WHERE a.holding_site_id = :id AND {artifact_shown("a")}
         ORDER BY lower(f_unaccent(a.name_vi)), a.heritage_id"""), {"id": site["id"]}).mappings()]
    out["nearby"] = nearby_sites(db, site["id"], role)
    return out


# Media types of digital records shown as photos; `uri` is a path relative to MEDIA_DIR.
PHOTO_SQL = f"""
    SELECT d.id, d.uri, d.credit, d.licence, d.media_type,
           d.metadata ->> 'caption_vi' AS caption_vi, d.metadata ->> 'caption_en' AS caption_en,
           d.metadata ->> 'alt_vi' AS alt_vi, d.metadata ->> 'alt_en' AS alt_en,
           CASE WHEN d.metadata ->> 'width' ~ '^[0-9]{{1,5}}$'
                THEN (d.metadata ->> 'width')::int END AS width,
           CASE WHEN d.metadata ->> 'height' ~ '^[0-9]{{1,5}}$'
                THEN (d.metadata ->> 'height')::int END AS height
      FROM digital_records d
     WHERE d.site_id = :id AND {RECORD_SHOWN}
       AND (d.media_type IN ('photo', 'image') OR d.media_type LIKE 'image/%')
       AND d.uri !~ '^[a-zA-Z][a-zA-Z0-9+.-]*:' AND d.uri NOT LIKE '/%'
     ORDER BY {RECORD_ORDER}"""


def site_photos(db: Session, site_id: int) -> list[dict[str, Any]]:
    """Photos of the site stored under MEDIA_DIR (`uri` relative to it) that are shown
    (approved, not removed: digital_records.SHOWN), in the officials' order,
    with credit, licence (None: not stated), captions and alt text (vi/en) and the pixel
    size from the record's metadata when it is known."""
    return [dict(r) for r in db.execute(text(PHOTO_SQL), {"id": site_id}).mappings()]


NEARBY_RADIUS_M = 5000.0
NEARBY_SQL = """
    SELECT n.heritage_id, n.name_vi, n.name_en, n.rank,
           ST_Distance(n.geom::geography, s.geom::geography) AS distance_m
      FROM sites s JOIN sites n
        ON n.id <> s.id AND ST_DWithin(n.geom::geography, s.geom::geography, :radius)
     WHERE s.id = :id {visible}
     ORDER BY distance_m, n.heritage_id
     LIMIT :limit"""


def nearby_sites(db: Session, site_id: int, role: str | None = None,
                 radius_m: float = NEARBY_RADIUS_M, limit: int = 10) -> list[dict[str, Any]]:
    """Other sites the role may see within `radius_m` metres of the site, nearest first;
    `distance_m` is the distance on the WGS 84 spheroid (PostGIS geography) in metres."""
    visible = "AND " + site_visible(role, "n")
    return [dict(r) for r in db.execute(text(NEARBY_SQL.format(visible=visible)),
                                        {"id": site_id, "radius": radius_m, "limit": limit})
            .mappings()]


def sitemap_files(db: Session, per_file: int) -> list[dict[str, Any]]:
    """The public sites (published, not sensitive) cut into files of `per_file` by
    heritage id: each file's first heritage id (`start`), size and newest change
    (`lastmod`). One pass over the identifiers."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT min(c.heritage_id) AS start, count(*) AS n, max(c.updated_at) AS lastmod
          FROM (SELECT s.heritage_id, s.updated_at,
                       (row_number() OVER (ORDER BY s.heritage_id) - 1) / :per AS part
                  FROM sites s WHERE {site_visible(None, "s")}) c
         GROUP BY c.part ORDER BY c.part"""), {"per": per_file}).mappings()]


def sitemap_sites(db: Session, start: str | None = None, stop: str | None = None
                  ) -> list[dict[str, Any]]:
    """The public sites (published, not sensitive) with their last change, by heritage
    id, from `start` (included) to `stop` (excluded); never drafts or sensitive sites,
    whoever asks."""
    where = [site_visible(None, "s")]
    if start is not None:
        where.append("s.heritage_id >= :start")
    if stop is not None:
        where.append("s.heritage_id < :stop")
    return [dict(r) for r in db.execute(text(f"""
        SELECT s.heritage_id, s.updated_at FROM sites s
         WHERE {" AND ".join(where)}
         ORDER BY s.heritage_id"""), {"start": start, "stop": stop}).mappings()]


def count_sites(db: Session, role: str | None = None) -> int:
    """How many sites the role may see."""
    return db.scalar(text(f"SELECT count(*) FROM sites s WHERE {site_visible(role, 's')}"))


LIST_COLUMNS = """
    s.heritage_id, s.name_vi, s.name_en, s.rank, u.name AS unit_name,
    CASE WHEN CAST(:official AS boolean) THEN s.survey_code END AS survey_code"""
# The list's order; index ix_sites_name_order (migration 0028) serves it.
NAME_ORDER = "lower(f_unaccent(s.name_vi)), s.heritage_id"


def list_sites(db: Session, role: str | None = None) -> list[dict[str, Any]]:
    """Every site the role may see, by name (the plain list of the map page); officials
    also get each relic's survey code."""
    where = "WHERE " + site_visible(role, "s")
    return [dict(r) for r in db.execute(text(f"""
        SELECT {LIST_COLUMNS}
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
          {where}
         ORDER BY {NAME_ORDER}"""),
        {"official": role in OFFICIAL_ROLES}).mappings()]


@dataclass(frozen=True)
class SitePage:
    """A page of the list of relics by name, with the cursors of its neighbours (None
    at either end of the list)."""

    sites: list[dict[str, Any]]
    after: str | None  # the next page: list_sites_page(after=...)
    before: str | None  # the previous page: list_sites_page(before=...)


def list_sites_page(db: Session, role: str | None = None, *, after: str | None = None,
                    before: str | None = None, limit: int = 100) -> SitePage:
    """`limit` sites the role may see, by name, following the relic `after` (or
    preceding the relic `before`; from the start without either). Keyset paging: a page
    costs the same wherever it is in 100k relics. Raises RecordNotFound for a cursor
    that is no relic's identifier."""
    params: dict[str, Any] = {"official": role in OFFICIAL_ROLES, "limit": limit + 1}
    where = [site_visible(role, "s")]
    cursor = after or before
    if cursor is not None:
        if db.scalar(text("SELECT 1 FROM sites WHERE heritage_id = :h"), {"h": cursor}) is None:
            raise RecordNotFound(f"The list has no relic {cursor!r} to continue from; "
                                 "start again from its first page.",
                                 f"Danh sách không có di tích {cursor!r} để xem tiếp; "
                                 "hãy xem lại từ trang đầu.")
        where.append(f"({NAME_ORDER}) {'>' if after else '<'} "
                     "(SELECT lower(f_unaccent(c.name_vi)), c.heritage_id "
                     "   FROM sites c WHERE c.heritage_id = :cursor)")
        params["cursor"] = cursor
    order = NAME_ORDER if before is None else \
        "lower(f_unaccent(s.name_vi)) DESC, s.heritage_id DESC"
    rows = [dict(r) for r in db.execute(text(f"""
        SELECT {LIST_COLUMNS}
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE {" AND ".join(where)}
         ORDER BY {order}
         LIMIT :limit"""), params).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    if before is not None:
        rows.reverse()
    if not rows:
        return SitePage([], None, None)
    return SitePage(
        rows,
        after=rows[-1]["heritage_id"] if (more if before is None else True) else None,
        before=rows[0]["heritage_id"] if (cursor is not None if before is None else more)
        else None)


SEARCH_SQL = """
    WITH q AS (SELECT lower(f_unaccent(:q)) AS q),
    candidates AS (
      SELECT s.heritage_id, s.name_vi, s.name_en, s.rank, s.other_names,
             ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
             CASE WHEN CAST(:official AS boolean) THEN s.survey_code END AS survey_code,
             lower(f_unaccent(s.name_vi || ' ' || array_to_string(s.other_names, ' ')
                              || ' ' || coalesce(s.name_en, '')
                              || CASE WHEN CAST(:official AS boolean)
                                      THEN ' ' || coalesce(s.survey_code, '') ELSE '' END
                              )) AS folded
        FROM sites s {where})
    SELECT c.heritage_id, c.name_vi, c.name_en, c.rank, c.other_names, c.lon, c.lat,
           c.survey_code,
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
    Officials also find relics by survey code ("kc-01-000"), returned as `survey_code`.

    Raises InputError for a query longer than 100 characters.
    """
    query = " ".join(query.split())
    if not query:
        return []
    if len(query) > 100:
        raise InputError("The search text is too long (at most 100 characters).",
                         "Nội dung tìm kiếm quá dài (tối đa 100 ký tự).")
    where = "WHERE " + site_visible(role, "s")
    folded = db.scalar(text("SELECT lower(f_unaccent(:q))"), {"q": query})
    pattern = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.execute(text(SEARCH_SQL.format(where=where)),
                      {"q": query, "pattern": pattern, "threshold": TYPO_THRESHOLD,
                       "limit": limit, "official": role in OFFICIAL_ROLES}).mappings()
    return [dict(r) for r in rows]


def _raise_ended(db: Session, heritage_id: str) -> None:
    """A retired relic answers 410 with its reason; a merged one points at its survivor."""
    fate = lifecycle.fate(db, heritage_id)
    assert fate is not None
    if fate.status == "merged" and fate.survivor:
        raise RecordMoved(f"Relic {heritage_id} was merged into {fate.survivor}.",
                          f"Di tích {heritage_id} đã được hợp nhất vào {fate.survivor}.",
                          details={"heritage_id": fate.survivor})
    day = fate.retired_on.strftime("%d/%m/%Y") if fate.retired_on else ""
    decision_en = f" (decision {fate.decision})" if fate.decision else ""
    decision_vi = f" (quyết định {fate.decision})" if fate.decision else ""
    raise RecordGone(
        f"The relic {fate.name_vi} ({heritage_id}) was retired from the register on {day}"
        f"{decision_en}. Reason: {fate.reason}",
        f"Di tích {fate.name_vi} ({heritage_id}) đã được đưa ra khỏi danh mục ngày {day}"
        f"{decision_vi}. Lý do: {fate.reason}",
        details={"heritage_id": heritage_id, "name": fate.name_vi, "reason": fate.reason,
                 "decision": fate.decision,
                 "retired_on": fate.retired_on.isoformat() if fate.retired_on else None})
