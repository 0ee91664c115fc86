"""Condition assessments: record them (never overwritten), read a site's history, the
latest condition per site as of a date or within a year, compare sites over years, and
find the sites that got worse.

Who sees what. District reviewers and administrators see and record assessments for
every site. A commune editor sees and records an assessment only when the editor's scope
covered the site ON THE ASSESSMENT DATE (`services.scopes`: the site's unit on that date
from `site_admin_units`, successions understood: an editor of a 2025 commune sees the
assessments made while the site was in a former commune merged into it, but not those
of a site moved in from elsewhere without a succession). The public sees nothing.

Functions that return lists take an optional `user`: None means the caller has already
decided (reports, KPIs built by the district: every site); a user limits the result to
what that user may see.

Codes: conditions are `models.base.CONDITIONS` (best first); `CONDITION_RANK` turns a
code into 1 (good) .. 5 (ruined), so a positive delta means worse.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, PermissionDenied, RecordNotFound
from gis_app.models.base import CONDITIONS, ELEMENTS, THREATS, TRENDS
from gis_app.services import scopes
from gis_app.services.digital_records import image_size
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES

from .audit import set_actor

log = logging.getLogger(__name__)

CONDITION_RANK: dict[str, int] = {code: rank for rank, code in enumerate(CONDITIONS, 1)}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 20
MAX_NOTES = 5000
MAX_NAME = 200
EARLIEST = date(1900, 1, 1)
PHOTO_FOLDER = "conditions"


def today() -> date:
    """Today in Vietnam (UTC+7): the latest date an assessment may carry."""
    return today_in_vietnam()


# --- visibility ------------------------------------------------------------------------

# `a` is the assessment (or any row with site_id and assessed_on); :full and :scope_user
# come from visibility(). A commune editor sees a row only if their scope covered the
# site on its date.
VISIBLE = scopes.covers_site_on("a.site_id", "a.assessed_on")

# Sites a commune editor may look at at all: covered by their scope at some time.
SITE_VISIBLE = scopes.covers_site_ever("s.id")

# The assessments that count: neither corrected by a later one nor withdrawn.
NOT_SUPERSEDED = """NOT EXISTS (SELECT 1 FROM condition_assessments c
                                  WHERE c.supersedes_id = a.id)
                    AND NOT EXISTS (SELECT 1 FROM assessment_withdrawals w
                                     WHERE w.assessment_id = a.id)"""


def visibility(user: Any | None) -> dict[str, Any]:
    """Bind values for VISIBLE / SITE_VISIBLE: None = no filter (the caller decided)."""
    return scopes.bind(user)


def _site_filter(site_ids: Iterable[int] | None) -> tuple[str, dict[str, Any]]:
    if site_ids is None:
        return "", {}
    return " AND a.site_id = ANY(:site_ids)", {"site_ids": [int(i) for i in site_ids]}


def can_assess(db: Session, user: Any | None, site_id: int, on_date: date) -> bool:
    """May `user` record (and see) an assessment of `site_id` dated `on_date`?

    District reviewers and admins: any site. A commune editor: only if the editor's scope
    covered the site on `on_date` (`services.scopes`: the site's unit as of that date,
    not its unit of today, successions understood). Anyone else (the public, None): no.
    """
    role = getattr(user, "role", None)
    if user is None or role not in OFFICIAL_ROLES:
        return False
    if role in FULL_ACCESS_ROLES:
        return True
    return bool(db.scalar(text(f"""
        SELECT {VISIBLE} FROM (SELECT CAST(:site AS integer) AS site_id,
                                      CAST(:on_date AS date) AS assessed_on) a"""),
        {"site": site_id, "on_date": on_date, **visibility(user)}))


def can_view_site(db: Session, user: Any | None, site_id: int) -> bool:
    """May `user` open the condition history of `site_id` (a commune editor: the editor's
    scope covered the site at some time; the history then shows only the assessments
    dated while it did)."""
    role = getattr(user, "role", None)
    if user is None or role not in OFFICIAL_ROLES:
        return False
    return bool(db.scalar(text(f"SELECT {SITE_VISIBLE} FROM sites s WHERE s.id = :site"),
                          {"site": site_id, **visibility(user)}))


# --- reading ---------------------------------------------------------------------------

COLUMNS = """a.id, a.site_id, s.heritage_id, s.name_vi, s.name_en, a.assessed_on, a.overall,
             a.element_scores, a.threats, a.trend, a.notes, a.assessor_id,
             coalesce(a.assessor_name, p.full_name) AS assessor_name, a.recorded_by,
             a.supersedes_id, a.created_at"""
FROM = """condition_assessments a JOIN sites s ON s.id = a.site_id
          LEFT JOIN people p ON p.id = a.assessor_id"""


def _row(mapping: Any) -> dict[str, Any]:
    row = dict(mapping)
    row["rank"] = CONDITION_RANK.get(row["overall"])
    row["element_scores"] = dict(row.get("element_scores") or {})
    row["threats"] = list(row.get("threats") or [])
    return row


def get_assessment(db: Session, assessment_id: int) -> dict[str, Any]:
    """One assessment (any version) with a `superseded` flag; RecordNotFound if none."""
    found = db.execute(text(f"""
        SELECT {COLUMNS}, EXISTS (SELECT 1 FROM condition_assessments c
                                   WHERE c.supersedes_id = a.id) AS superseded
          FROM {FROM} WHERE a.id = :id"""), {"id": assessment_id}).mappings().first()
    if found is None:
        raise RecordNotFound(f"There is no condition assessment #{assessment_id}.",
                             f"Không có phiếu đánh giá hiện trạng số {assessment_id}.")
    return _row(found)


def assessments_for_site(db: Session, site_id: int, user: Any | None = None
                         ) -> list[dict[str, Any]]:
    """Every assessment of a site, newest first (date, then id), each with its photos,
    `superseded` (a later correction replaces it) and `superseded_by` (that correction's
    id). With `user`, only those the user may see (see the module docstring)."""
    rows = db.execute(text(f"""
        SELECT {COLUMNS}, c.id AS superseded_by, c.id IS NOT NULL AS superseded,
               w.reason AS withdrawn_reason, w.withdrawn_at,
               coalesce(wu.display_name, wu.username) AS withdrawn_by_name,
               coalesce((SELECT json_agg(json_build_object(
                          'id', ph.id, 'uri', ph.uri, 'caption', ph.caption,
                          'credit', ph.credit, 'licence', ph.licence) ORDER BY ph.id)
                           FROM condition_photos ph WHERE ph.assessment_id = a.id),
                        '[]') AS photos
          FROM {FROM}
          LEFT JOIN condition_assessments c ON c.supersedes_id = a.id
          LEFT JOIN assessment_withdrawals w ON w.assessment_id = a.id
          LEFT JOIN users wu ON wu.id = w.withdrawn_by
         WHERE a.site_id = :site AND {VISIBLE}
         ORDER BY a.assessed_on DESC, a.id DESC"""),
        {"site": site_id, **visibility(user)}).mappings()
    return [_row(r) for r in rows]


def latest_assessments(db: Session, as_of: date | None = None,
                       site_ids: Iterable[int] | None = None, user: Any | None = None
                       ) -> dict[int, dict[str, Any]]:
    """The latest non-superseded assessment of each site dated on or before `as_of`
    (default: today), keyed by site id. Sites never assessed by then are absent.

    Each value has id, site_id, heritage_id, name_vi, name_en, assessed_on, overall,
    rank (1 good .. 5 ruined), element_scores, threats, trend, notes, assessor_name.
    """
    where, params = _site_filter(site_ids)
    rows = db.execute(text(f"""
        SELECT DISTINCT ON (a.site_id) {COLUMNS}
          FROM {FROM}
         WHERE a.assessed_on <= :as_of AND {NOT_SUPERSEDED} AND {VISIBLE}{where}
         ORDER BY a.site_id, a.assessed_on DESC, a.id DESC"""),
        {"as_of": as_of or today(), **params, **visibility(user)}).mappings()
    return {r["site_id"]: _row(r) for r in rows}


def condition_in_year(db: Session, year: int, site_ids: Iterable[int] | None = None,
                      user: Any | None = None) -> dict[int, dict[str, Any]]:
    """The latest non-superseded assessment of each site dated within calendar `year`,
    keyed by site id (same fields as `latest_assessments`)."""
    where, params = _site_filter(site_ids)
    rows = db.execute(text(f"""
        SELECT DISTINCT ON (a.site_id) {COLUMNS}
          FROM {FROM}
         WHERE a.assessed_on BETWEEN :first AND :last AND {NOT_SUPERSEDED}
           AND {VISIBLE}{where}
         ORDER BY a.site_id, a.assessed_on DESC, a.id DESC"""),
        {"first": date(year, 1, 1), "last": date(year, 12, 31), **params,
         **visibility(user)}).mappings()
    return {r["site_id"]: _row(r) for r in rows}


def change_of(before: str | None, after: str | None) -> str:
    """'better', 'worse', 'same' or 'no_data' going from condition `before` to `after`."""
    if before not in CONDITION_RANK or after not in CONDITION_RANK:
        return "no_data"
    delta = CONDITION_RANK[after] - CONDITION_RANK[before]
    return "worse" if delta > 0 else "better" if delta < 0 else "same"


def _sites(db: Session, site_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    rows = db.execute(text("""
        SELECT s.id, s.heritage_id, s.name_vi, s.name_en, u.name AS commune
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE s.id = ANY(:ids)"""), {"ids": list(site_ids)}).mappings()
    return {r["id"]: dict(r) for r in rows}


def site_summary(db: Session, site_id: int) -> dict[str, Any]:
    """id, heritage_id, name_vi, name_en and current commune of a site; RecordNotFound."""
    found = _sites(db, [site_id]).get(site_id)
    if found is None:
        raise RecordNotFound(f"There is no site #{site_id}.", f"Không có di tích số {site_id}.")
    return found


def assessment_years(db: Session, user: Any | None = None) -> list[int]:
    """The calendar years with at least one assessment `user` may see, ascending."""
    return [int(y) for y in db.scalars(text(f"""
        SELECT DISTINCT CAST(extract(year FROM a.assessed_on) AS integer) AS y
          FROM condition_assessments a WHERE {VISIBLE} ORDER BY y"""), visibility(user))]


def compare(db: Session, site_ids: list[int], years: list[int], user: Any | None = None
            ) -> dict[str, Any]:
    """Sites side by side over years: the condition of each site in each year (its latest
    non-superseded assessment dated that year) and how it changed.

    Returns {"years": sorted years, "elements": ELEMENTS, "rows": [...]} with one row per
    site in the order given (unknown sites dropped):
      {"site_id", "heritage_id", "name_vi", "name_en", "commune",
       "cells": {year: None | {id, assessed_on, overall, rank, element_scores, threats,
                               trend, "overall_mark", "element_marks": {element: mark}}},
       "change": mark between the first and the last chosen year, "delta": rank change
       (positive = worse) or None, "element_changes": {element: mark} for the same pair}
    A mark is 'better' / 'worse' / 'same' / 'no_data'; a cell's marks compare it with the
    previous chosen year that has an assessment (None for the first such year).
    """
    years = sorted({int(y) for y in years})
    ids = list(dict.fromkeys(int(i) for i in site_ids))
    per_year = {year: condition_in_year(db, year, ids, user) for year in years}
    sites = _sites(db, ids)
    rows = []
    for site_id in ids:
        if site_id not in sites:
            continue
        cells: dict[int, dict[str, Any] | None] = {}
        previous: dict[str, Any] | None = None
        for year in years:
            found = per_year[year].get(site_id)
            if found is None:
                cells[year] = None
                continue
            cell = {k: found[k] for k in ("id", "assessed_on", "overall", "rank",
                                          "element_scores", "threats", "trend")}
            cell["overall_mark"] = change_of(previous["overall"], cell["overall"]) \
                if previous else None
            cell["element_marks"] = {
                e: change_of(previous["element_scores"].get(e), cell["element_scores"].get(e))
                if previous else None for e in ELEMENTS}
            cells[year] = cell
            previous = cell
        first = cells.get(years[0]) if years else None
        last = cells.get(years[-1]) if years else None
        both = first is not None and last is not None and len(years) > 1
        rows.append({
            **sites[site_id], "site_id": site_id, "cells": cells,
            "change": change_of(first["overall"], last["overall"]) if both else "no_data",
            "delta": last["rank"] - first["rank"] if both else None,
            "element_changes": {e: change_of(first["element_scores"].get(e),
                                             last["element_scores"].get(e)) if both
                                else "no_data" for e in ELEMENTS}})
    return {"years": years, "elements": ELEMENTS, "rows": rows}


def changes_since(db: Session, since_year: int, as_of: date | None = None,
                  user: Any | None = None) -> list[dict[str, Any]]:
    """Each assessed site's condition in `since_year` (its latest assessment dated in or
    before that year) against its latest assessment as of `as_of` (default today).

    One dict per site with a latest assessment: site_id, heritage_id, name_vi, name_en,
    before (assessment dict or None), latest (assessment dict), delta = rank(latest) -
    rank(before) (positive = worse; None without a `before`), change ('better' / 'worse'
    / 'same' / 'no_data'). Worst change first, then by name; no-data sites last.
    """
    end_of_year = date(since_year, 12, 31)
    as_of = as_of or today()
    before = latest_assessments(db, min(end_of_year, as_of), user=user)
    latest = latest_assessments(db, as_of, user=user)
    out = []
    for site_id, now in latest.items():
        then = before.get(site_id)
        out.append({"site_id": site_id, "heritage_id": now["heritage_id"],
                    "name_vi": now["name_vi"], "name_en": now["name_en"],
                    "before": then, "latest": now,
                    "delta": now["rank"] - then["rank"] if then else None,
                    "change": change_of(then["overall"] if then else None, now["overall"])})
    out.sort(key=lambda r: (r["delta"] is None, -(r["delta"] or 0), r["name_vi"]))
    return out


def worsening(db: Session, since_year: int | None = None, user: Any | None = None
              ) -> list[dict[str, Any]]:
    """Sites getting worse: the latest non-superseded assessment is worse than the one
    before it, or its trend is 'worsening'. With `since_year`, only latest assessments
    dated from 1 January of that year.

    One dict per site: site_id, heritage_id, name_vi, name_en, latest and previous
    (assessment dicts; previous None if there is only one), delta (rank change, positive
    = worse, None without previous), reasons (['worse', 'trend']). Worst first: by the
    latest condition (ruined first), then the larger delta, then name.
    """
    rows = db.execute(text(f"""
        SELECT * FROM (
          SELECT {COLUMNS}, row_number() OVER (PARTITION BY a.site_id
                                             ORDER BY a.assessed_on DESC, a.id DESC) AS n
            FROM {FROM}
           WHERE {NOT_SUPERSEDED} AND a.assessed_on <= :today AND {VISIBLE}) ranked
         WHERE n <= 2 ORDER BY site_id, n"""),
        {"today": today(), **visibility(user)}).mappings()
    by_site: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_site.setdefault(r["site_id"], []).append(_row(r))
    out = []
    for site_id, pair in by_site.items():
        latest, previous = pair[0], (pair[1] if len(pair) > 1 else None)
        if since_year is not None and latest["assessed_on"] < date(since_year, 1, 1):
            continue
        delta = latest["rank"] - previous["rank"] if previous else None
        reasons = (["worse"] if delta and delta > 0 else []) + \
            (["trend"] if latest["trend"] == "worsening" else [])
        if reasons:
            out.append({"site_id": site_id, "heritage_id": latest["heritage_id"],
                        "name_vi": latest["name_vi"], "name_en": latest["name_en"],
                        "latest": latest, "previous": previous, "delta": delta,
                        "reasons": reasons})
    out.sort(key=lambda r: (-r["latest"]["rank"], -(r["delta"] or 0), r["name_vi"]))
    return out


def sites_overview(db: Session, user: Any | None = None, commune_id: int | None = None
                   ) -> list[dict[str, Any]]:
    """The sites `user` may look at (see the module docstring), by name, each with its
    current commune and its latest assessment visible to the user ('latest', or None).
    `commune_id`: only sites whose current unit is that commune."""
    rows = db.execute(text(f"""
        SELECT s.id AS site_id, s.heritage_id, s.name_vi, s.name_en,
               s.admin_unit_id AS commune_id, u.name AS commune
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE {SITE_VISIBLE}
           AND (CAST(:commune AS integer) IS NULL OR s.admin_unit_id = :commune)
         ORDER BY s.name_vi, s.id"""),
        {"commune": commune_id, **visibility(user)}).mappings()
    sites = [dict(r) for r in rows]
    latest = latest_assessments(db, site_ids=[s["site_id"] for s in sites], user=user)
    for s in sites:
        s["latest"] = latest.get(s["site_id"])
    return sites


def communes(db: Session) -> list[dict[str, Any]]:
    """Current communes and wards holding at least one site, by name (for filters)."""
    return [dict(r) for r in db.execute(text("""
        SELECT u.id, u.code, u.name FROM admin_units u
         WHERE u.valid_to IS NULL AND EXISTS (SELECT 1 FROM sites s
                                               WHERE s.admin_unit_id = u.id)
         ORDER BY u.name""")).mappings()]


# The condition map in one statement, its GeoJSON written by PostgreSQL (the layer API's
# way, services.features): the sites the user may look at (SITE_VISIBLE), each with its
# latest visible, counted assessment up to :today and, with a `since` year, the latest
# one up to :before_day. Ranks come from :conditions (CONDITIONS, best first), so a
# positive delta means worse, as CONDITION_RANK does. row_to_json keeps the columns'
# order and their nulls; ST_AsGeoJSON's text goes in as it is.
_MAP_COUNTED = f"""
    counted AS (
      SELECT a.id, a.site_id, a.assessed_on, a.overall,
             array_position(CAST(:conditions AS text[]), CAST(a.overall AS text)) AS rank
        FROM condition_assessments a
       WHERE a.assessed_on <= :today AND {NOT_SUPERSEDED} AND {VISIBLE}),
    latest AS (
      SELECT DISTINCT ON (site_id) site_id, assessed_on, overall, rank FROM counted
       ORDER BY site_id, assessed_on DESC, id DESC)"""
_MAP_BEFORE = """,
    earlier AS (
      SELECT DISTINCT ON (site_id) site_id, overall, rank FROM counted
       WHERE assessed_on <= :before_day
       ORDER BY site_id, assessed_on DESC, id DESC)"""
_MAP_CHANGE = """,
             CASE WHEN n.rank IS NULL OR b.rank IS NULL THEN 'no_data'
                  WHEN n.rank > b.rank THEN 'worse' WHEN n.rank < b.rank THEN 'better'
                  ELSE 'same' END AS change,
             n.rank - b.rank AS delta, b.overall AS before"""


def _map_sql(with_change: bool) -> str:
    before = _MAP_BEFORE if with_change else ""
    join = "LEFT JOIN earlier b ON b.site_id = s.id" if with_change else ""
    change = _MAP_CHANGE if with_change else ""
    return f"""
    WITH {_MAP_COUNTED}{before}
    SELECT '{{"type":"FeatureCollection","features":['
           || coalesce(string_agg(f.feature, ',' ORDER BY f.id), '') || ']}}'
      FROM (
        SELECT s.id,
               '{{"type":"Feature","geometry":' || coalesce(ST_AsGeoJSON(s.geom, 6), 'null')
               || ',"properties":' || row_to_json(p)::text || '}}' AS feature
          FROM sites s
          LEFT JOIN latest n ON n.site_id = s.id
          {join}
          CROSS JOIN LATERAL (
            SELECT s.id AS site_id, s.heritage_id, s.name_vi, s.name_en, n.overall,
                   n.rank, n.assessed_on{change}) AS p
         WHERE {SITE_VISIBLE}) AS f"""


_MAP_STATEMENTS = {with_change: text(_map_sql(with_change)) for with_change in (False, True)}


def map_features(db: Session, user: Any | None = None, since_year: int | None = None
                 ) -> str:
    """A GeoJSON FeatureCollection (EPSG:4326) of the sites `user` may look at, as text
    built by PostGIS in one statement, ordered by site id: each with its latest condition
    ('overall', 'rank', 'assessed_on' as ISO, or null) and, with `since_year`, the change
    since then as `changes_since` computes it ('change', 'delta', 'before')."""
    params: dict[str, Any] = {"conditions": list(CONDITIONS), "today": today(),
                              **visibility(user)}
    if since_year is not None:
        params["before_day"] = min(date(since_year, 12, 31), params["today"])
    return db.execute(_MAP_STATEMENTS[since_year is not None], params).scalar_one()


# --- recording -------------------------------------------------------------------------

def _bad(en: str, vi: str, **details: Any) -> InputError:
    return InputError(en, vi, details=details or None)


def validate_assessment(*, assessed_on: date | None, overall: str | None,
                        element_scores: dict[str, str | None] | None,
                        threats: Iterable[str] | None, trend: str | None,
                        notes: str | None, assessor_name: str | None
                        ) -> dict[str, Any]:
    """Check an assessment's values; the clean values, or InputError saying what to fix.
    Empty element scores are dropped; threats are deduplicated in the vocabulary's order.
    """
    if not isinstance(assessed_on, date):
        raise _bad("Enter the date of the assessment (dd/mm/yyyy).",
                   "Hãy nhập ngày đánh giá (ngày/tháng/năm).")
    if assessed_on > today():
        raise _bad(f"The assessment date {assessed_on:%d/%m/%Y} is in the future; enter the "
                   "day the site was inspected.",
                   f"Ngày đánh giá {assessed_on:%d/%m/%Y} ở tương lai; hãy nhập ngày đã khảo "
                   "sát di tích.")
    if assessed_on < EARLIEST:
        raise _bad("The assessment date is before 1900; check the year.",
                   "Ngày đánh giá trước năm 1900; hãy kiểm tra lại năm.")
    if overall not in CONDITIONS:
        raise _bad(f"Unknown overall condition '{overall or ''}'; choose one of "
                   f"{', '.join(CONDITIONS)}.",
                   f"Tình trạng chung '{overall or ''}' không hợp lệ; hãy chọn một trong "
                   f"{', '.join(CONDITIONS)}.")
    scores: dict[str, str] = {}
    for element, value in (element_scores or {}).items():
        if element not in ELEMENTS:
            raise _bad(f"Unknown element '{element}'; the elements are {', '.join(ELEMENTS)}.",
                       f"Hạng mục '{element}' không hợp lệ; các hạng mục là "
                       f"{', '.join(ELEMENTS)}.")
        if value in (None, ""):
            continue
        if value not in CONDITIONS:
            raise _bad(f"Unknown condition '{value}' for {element}; choose one of "
                       f"{', '.join(CONDITIONS)}.",
                       f"Tình trạng '{value}' của hạng mục {element} không hợp lệ; hãy chọn "
                       f"một trong {', '.join(CONDITIONS)}.")
        scores[element] = value
    given = set(threats or ())
    unknown = sorted(given - set(THREATS))
    if unknown:
        raise _bad(f"Unknown threat(s): {', '.join(unknown)}.",
                   f"Nguy cơ không hợp lệ: {', '.join(unknown)}.")
    if trend not in (None, "") and trend not in TRENDS:
        raise _bad(f"Unknown trend '{trend}'; choose one of {', '.join(TRENDS)}.",
                   f"Xu hướng '{trend}' không hợp lệ; hãy chọn một trong {', '.join(TRENDS)}.")
    notes = (notes or "").strip() or None
    if notes and len(notes) > MAX_NOTES:
        raise _bad(f"The notes are too long (at most {MAX_NOTES} characters).",
                   f"Ghi chú quá dài (tối đa {MAX_NOTES} ký tự).")
    assessor_name = (assessor_name or "").strip() or None
    if assessor_name and len(assessor_name) > MAX_NAME:
        raise _bad(f"The assessor's name is too long (at most {MAX_NAME} characters).",
                   f"Tên người đánh giá quá dài (tối đa {MAX_NAME} ký tự).")
    return {"assessed_on": assessed_on, "overall": overall, "element_scores": scores,
            "threats": [t for t in THREATS if t in given], "trend": trend or None,
            "notes": notes, "assessor_name": assessor_name}


def photo_kind(data: bytes) -> str | None:
    """'.jpg', '.png' or '.webp' from the file's first bytes (not its name), else None."""
    if data[:3] == b"\xff\xd8\xff":
        return ".jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return ".png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def validate_photos(photos: Sequence[tuple[str, bytes, str | None, str | None, str | None]]
                    ) -> list[tuple[str, bytes, str | None, str | None, str | None]]:
    """Each photo as (extension, bytes, caption, credit, licence); InputError naming the
    file that is not a JPEG/PNG/WebP photo or is larger than 10 MB."""
    if len(photos) > MAX_PHOTOS:
        raise _bad(f"At most {MAX_PHOTOS} photos per assessment.",
                   f"Tối đa {MAX_PHOTOS} ảnh cho một phiếu đánh giá.")
    clean = []
    for name, data, caption, credit, licence in photos:
        if len(data) > MAX_PHOTO_BYTES:
            raise _bad(f"{name}: the photo is larger than 10 MB; reduce its size and try again.",
                       f"{name}: ảnh lớn hơn 10 MB; hãy giảm dung lượng rồi thử lại.")
        ext = photo_kind(data)
        if ext is None:
            raise _bad(f"{name}: not a JPEG, PNG or WebP photo; choose a photo in one of these "
                       "formats.",
                       f"{name}: không phải ảnh JPEG, PNG hoặc WebP; hãy chọn ảnh ở một trong "
                       "các định dạng này.")
        try:
            image_size(data)  # decodes, and refuses decompression bombs
        except InputError as exc:
            raise _bad(f"{name}: {exc.message_en}", f"{name}: {exc.message_vi}") from None
        clean.append((ext, data, *(((v or "").strip() or None) for v in
                                   (caption, credit, licence))))
    return clean


def _check_supersedes(db: Session, site_id: int, supersedes_id: int) -> None:
    found = db.execute(text("""
        SELECT a.site_id, EXISTS (SELECT 1 FROM condition_assessments c
                                   WHERE c.supersedes_id = a.id) AS superseded,
               EXISTS (SELECT 1 FROM assessment_withdrawals w
                        WHERE w.assessment_id = a.id) AS withdrawn
          FROM condition_assessments a WHERE a.id = :id"""),
        {"id": supersedes_id}).first()
    if found is None:
        raise _bad(f"There is no assessment #{supersedes_id} to correct.",
                   f"Không có phiếu đánh giá số {supersedes_id} để sửa.")
    if found.site_id != site_id:
        raise _bad(f"Assessment #{supersedes_id} is of another site; a correction must be of "
                   "the same site.",
                   f"Phiếu đánh giá số {supersedes_id} thuộc di tích khác; bản sửa phải cùng "
                   "di tích.")
    if found.withdrawn:
        raise _bad(f"Assessment #{supersedes_id} was withdrawn; record a new assessment "
                   "instead of correcting it.",
                   f"Phiếu đánh giá số {supersedes_id} đã được rút; hãy ghi phiếu mới thay "
                   "vì sửa phiếu này.")
    if found.superseded:
        raise _bad(f"Assessment #{supersedes_id} has already been corrected; correct its "
                   "latest version instead.",
                   f"Phiếu đánh giá số {supersedes_id} đã được sửa; hãy sửa phiên bản mới "
                   "nhất của nó.")


def record_assessment(db: Session, user: Any, site_id: int, *, assessed_on: date | None,
                      overall: str | None, element_scores: dict[str, str | None] | None,
                      threats: Iterable[str] | None, trend: str | None, notes: str | None,
                      assessor_name: str | None = None, supersedes_id: int | None = None,
                      photos: Sequence[tuple[str, bytes, str | None, str | None,
                                             str | None]] = (),
                      media_dir: str | Path | None = None) -> int:
    """Record a new assessment of `site_id` by `user`; its id. The caller commits.

    A correction is a new assessment with `supersedes_id` = the id it replaces (same
    site, not already corrected); nothing is ever overwritten. `photos` are
    (file name, bytes, caption, credit, licence): JPEG, PNG or WebP by their first bytes,
    at most 10 MB each, saved as MEDIA_DIR/conditions/<assessment id>/<n>.<ext>
    (`media_dir` defaults to the app's MEDIA_DIR setting).

    Raises PermissionDenied when `user` may not assess the site on `assessed_on` (a
    commune editor: the site was not in one of the editor's units on that date, see
    `can_assess`), RecordNotFound for an unknown site, InputError for bad values. On
    any error nothing is stored: no row, no file.
    """
    values = validate_assessment(assessed_on=assessed_on, overall=overall,
                                 element_scores=element_scores, threats=threats, trend=trend,
                                 notes=notes, assessor_name=assessor_name)
    if db.scalar(text("SELECT 1 FROM sites WHERE id = :id"), {"id": site_id}) is None:
        raise RecordNotFound(f"There is no site #{site_id}.", f"Không có di tích số {site_id}.")
    if not can_assess(db, user, site_id, values["assessed_on"]):
        raise PermissionDenied(
            f"You may not record an assessment of this site dated "
            f"{values['assessed_on']:%d/%m/%Y}: on that date it was not in an administrative "
            "unit of your account.",
            f"Bạn không được ghi phiếu đánh giá di tích này vào ngày "
            f"{values['assessed_on']:%d/%m/%Y}: vào ngày đó di tích không thuộc đơn vị hành "
            "chính của tài khoản bạn.")
    if supersedes_id is not None:
        _check_supersedes(db, site_id, int(supersedes_id))
    clean_photos = validate_photos(photos)
    if media_dir is None:
        from flask import current_app
        media_dir = current_app.config["MEDIA_DIR"]
    folder: Path | None = None
    savepoint = db.begin_nested()
    try:
        set_actor(db, user.id)
        assessment_id = db.execute(text("""
            INSERT INTO condition_assessments (site_id, assessed_on, assessor_name, overall,
                element_scores, threats, trend, notes, recorded_by, supersedes_id)
            VALUES (:site, :assessed_on, :assessor_name, :overall, :scores, :threats, :trend,
                    :notes, :user, :supersedes)
            RETURNING id""").bindparams(bindparam("scores", type_=JSONB())),
            {**values, "scores": values["element_scores"], "site": site_id,
             "user": user.id, "supersedes": supersedes_id}).scalar_one()
        if clean_photos:
            folder = Path(media_dir) / PHOTO_FOLDER / str(assessment_id)
            folder.mkdir(parents=True, exist_ok=False)
            for n, (ext, data, caption, credit, licence) in enumerate(clean_photos, 1):
                (folder / f"{n}{ext}").write_bytes(data)
                db.execute(text("""
                    INSERT INTO condition_photos (assessment_id, uri, caption, credit, licence)
                    VALUES (:a, :uri, :caption, :credit, :licence)"""),
                    {"a": assessment_id, "uri": f"{PHOTO_FOLDER}/{assessment_id}/{n}{ext}",
                     "caption": caption, "credit": credit, "licence": licence})
        db.flush()
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    log.info("user %s recorded condition assessment #%d of site %d (%s)%s", user.id,
             assessment_id, site_id, values["overall"],
             f", superseding #{supersedes_id}" if supersedes_id else "")
    return int(assessment_id)


MAX_WITHDRAW_REASON = 1000


def withdraw_assessment(db: Session, user: Any, assessment_id: int, reason: str) -> None:
    """Withdraw an assessment recorded in error, with `reason`: it stays in the history,
    marked withdrawn, and no longer counts as a relic's condition. Who may: whoever may
    correct it (see can_assess). Only the latest version can be withdrawn, once. Raises
    InputError / PermissionDenied / RecordNotFound. The caller commits."""
    reason = (reason or "").strip()
    if not reason:
        raise InputError("Give the reason for withdrawing the assessment.",
                         "Hãy nêu lý do rút phiếu đánh giá.")
    if len(reason) > MAX_WITHDRAW_REASON:
        raise InputError(f"The reason is too long (at most {MAX_WITHDRAW_REASON} characters).",
                         f"Lý do quá dài (tối đa {MAX_WITHDRAW_REASON} ký tự).")
    found = get_assessment(db, assessment_id)
    if not can_assess(db, user, found["site_id"], found["assessed_on"]):
        raise PermissionDenied("You may not withdraw this assessment.",
                               "Bạn không được rút phiếu đánh giá này.")
    if found["superseded"]:
        raise InputError(f"Assessment #{assessment_id} has been corrected; withdraw its "
                         "latest version instead.",
                         f"Phiếu đánh giá số {assessment_id} đã được sửa; hãy rút phiên bản "
                         "mới nhất của nó.")
    set_actor(db, user.id)
    done = db.execute(text("""
        INSERT INTO assessment_withdrawals (assessment_id, reason, withdrawn_by)
        VALUES (:a, :reason, :user) ON CONFLICT (assessment_id) DO NOTHING
        RETURNING id"""), {"a": assessment_id, "reason": reason, "user": user.id}).first()
    if done is None:
        raise InputError(f"Assessment #{assessment_id} was already withdrawn.",
                         f"Phiếu đánh giá số {assessment_id} đã được rút trước đó.")
    log.info("user %s withdrew assessment %d: %s", user.id, assessment_id, reason)
