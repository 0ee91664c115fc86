"""The plan's measurable targets (II.2: a1, a2, a3, b, c, d), computed live from the records.

Each indicator is defined once here: its target, its wording (shown on the dashboard next
to each figure) and one SQL statement that lists the records of its denominator with a
`met` flag (the numerator) and the commune they belonged to at the end of the year (or
today, for the current year). Figures, per-commune breakdowns and the "records behind"
lists all come from that one statement, so they cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import start_of_day_in_vietnam, today_in_vietnam
from gis_app.errors import InputError, RecordNotFound
from gis_app.models.relics import in_register
from gis_app.services.digital_records import SHOWN

FIRST_YEAR = 2021  # the national programme runs 2021–2030
LAST_YEAR = 2030

# A site's administrative unit on :on_date (the dated history first, its current unit
# as a fallback), with the unit's name as it was then.
SITE_UNIT = """
    site_unit AS (
      SELECT s.id AS site_id, u.id AS unit_id, u.name AS unit_name
        FROM sites s
        LEFT JOIN LATERAL (
             SELECT h.admin_unit_id FROM site_admin_units h
              WHERE h.site_id = s.id AND h.valid_from <= :on_date
                AND (h.valid_to IS NULL OR h.valid_to >= :on_date)
              ORDER BY h.valid_from DESC LIMIT 1) h ON true
        LEFT JOIN admin_units u ON u.id = coalesce(h.admin_unit_id, s.admin_unit_id))"""

# Fields a site record must have to count as complete (criteria set 2: catalogue code,
# relic, type, period/era, material) plus its location and administrative unit.
SITE_REQUIRED = {
    "name_vi": "s.name_vi IS NOT NULL AND s.name_vi <> ''",
    "types": "cardinality(s.types) > 0",
    "period": "s.period IS NOT NULL AND s.period <> ''",
    "materials": "s.materials IS NOT NULL AND s.materials <> ''",
    "description_vi": "s.description_vi IS NOT NULL AND s.description_vi <> ''",
    "admin_unit": "s.admin_unit_id IS NOT NULL",
}

FIELD_LABELS = {
    "name_vi": ("tên di tích", "name"), "types": ("loại hình", "type"),
    "period": ("niên đại", "period"), "materials": ("chất liệu", "material"),
    "description_vi": ("mô tả", "description"),
    "admin_unit": ("đơn vị hành chính", "administrative unit"),
}


def explain_detail(detail: str | None, lang: str) -> str:
    """A row's detail with field codes as words ("period, materials" → "niên đại, …")."""
    if not detail:
        return ""
    words = []
    for part in detail.split(", "):
        pair = FIELD_LABELS.get(part)
        if pair:
            words.append(("thiếu " if lang == "vi" else "lacks ") + pair[lang != "vi"])
        elif part.startswith("status="):
            status = part.split("=", 1)[1]
            label = {"draft": ("bản nháp", "a draft")}.get(status, (status, status))
            words.append(("chưa công bố, " if lang == "vi" else "not published, ")
                         + label[lang != "vi"])
        else:
            words.append(part)
    return ", ".join(words)


# A digital record counts as "media + metadata" when it has a file and some metadata,
# and is shown (approved, not removed: digital_records.SHOWN).
DIGITISED = ("d.uri <> '' AND d.metadata IS NOT NULL AND d.metadata <> '{}'::jsonb "
             f"AND d.created_at < :year_end_at AND {SHOWN}")


@dataclass(frozen=True)
class Indicator:
    code: str
    target_pct: float
    title: dict[str, str]
    numerator: dict[str, str]
    denominator: dict[str, str]
    # Rows: kind, record_id, heritage_id, name, site_id (for the commune), met, detail.
    rows_sql: str

    def text(self, field: dict[str, str], lang: str) -> str:
        return field.get(lang) or field["vi"]


# An artifact counts (met) when its `detail` (what was done in the year) is not null.
ARTIFACT_ROWS = """
    SELECT kind, record_id, heritage_id, name, site_id, detail IS NOT NULL AS met, detail
      FROM (SELECT 'artifact' AS kind, a.id AS record_id, a.heritage_id, a.name_vi AS name,
                   a.holding_site_id AS site_id, {detail} AS detail
              FROM artifacts a {where}) x"""

INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        code="a1", target_pct=100.0,
        title={"vi": "Tư liệu, hiện vật được kiểm kê khoa học",
               "en": "Documents and artifacts scientifically inventoried"},
        numerator={"vi": "Hiện vật có biên bản kiểm kê trong năm",
                   "en": "Artifacts with an inventory record in the year"},
        denominator={"vi": "Tất cả hiện vật đang có trong cơ sở dữ liệu",
                     "en": "All artifacts now in the database"},
        rows_sql=ARTIFACT_ROWS.format(
            detail="(SELECT to_char(max(r.inventoried_on), 'YYYY-MM-DD') "
                   "FROM artifact_inventory_records r "
                   "WHERE r.artifact_id = a.id AND r.year = :year "
                   "AND r.withdrawn_at IS NULL)",
            where="")),
    Indicator(
        code="a2", target_pct=20.0,
        title={"vi": "Hiện vật (nhóm hiện vật) được bảo quản phòng ngừa",
               "en": "Artifacts (or groups) under preventive conservation"},
        numerator={"vi": "Hiện vật được bảo quản phòng ngừa trong năm",
                   "en": "Artifacts with a preventive-conservation action in the year"},
        denominator={"vi": "Tất cả hiện vật đang có trong cơ sở dữ liệu",
                     "en": "All artifacts now in the database"},
        rows_sql=ARTIFACT_ROWS.format(
            detail="(SELECT to_char(max(c.performed_on), 'YYYY-MM-DD') "
                   "FROM conservation_actions c WHERE c.artifact_id = a.id "
                   "AND c.withdrawn_at IS NULL AND c.kind = 'preventive' "
                   "AND c.performed_on >= :year_start "
                   "AND c.performed_on < :year_end)",
            where="")),
    Indicator(
        code="a3", target_pct=10.0,
        title={"vi": "Hiện vật có nguy cơ hư hại được bảo quản",
               "en": "At-risk artifacts conserved"},
        numerator={"vi": "Hiện vật có nguy cơ được bảo quản (phòng ngừa hoặc trị liệu) "
                         "trong năm",
                   "en": "At-risk artifacts with a conservation action (preventive or "
                         "remedial) in the year"},
        denominator={"vi": "Hiện vật đang được đánh dấu có nguy cơ hư hại",
                     "en": "Artifacts now marked at risk"},
        rows_sql=ARTIFACT_ROWS.format(
            detail="(SELECT string_agg(c.kind || ' ' || to_char(c.performed_on, "
                   "'YYYY-MM-DD'), ', ' ORDER BY c.performed_on) "
                   "FROM conservation_actions c WHERE c.artifact_id = a.id "
                   "AND c.withdrawn_at IS NULL "
                   "AND c.performed_on >= :year_start AND c.performed_on < :year_end)",
            where="WHERE a.at_risk")),
    Indicator(
        code="b", target_pct=100.0,
        title={"vi": "Hiện vật tiêu biểu được số hóa, đưa lên nền tảng số",
               "en": "Artifacts of typical value digitised on a digital platform"},
        numerator={"vi": "Hiện vật tiêu biểu có bản ghi số (tệp và siêu dữ liệu) đến hết năm",
                   "en": "Typical-value artifacts with a digital record (media and "
                         "metadata) by the end of the year"},
        denominator={"vi": "Hiện vật có giá trị tiêu biểu",
                     "en": "Artifacts of typical value"},
        rows_sql=ARTIFACT_ROWS.format(
            detail=f"(SELECT nullif(count(*), 0)::text FROM digital_records d "
                   f"WHERE d.artifact_id = a.id AND {DIGITISED})",
            where="WHERE a.typical_value")),
    Indicator(
        code="c", target_pct=100.0,
        title={"vi": "Di tích được cập nhật trên phần mềm quản lý",
               "en": "Historical sites updated in the management software"},
        numerator={"vi": "Di tích có hồ sơ đầy đủ (" +
                         ", ".join(FIELD_LABELS[f][0] for f in SITE_REQUIRED) +
                         ") và đã công bố, theo hồ sơ hiện tại",
                   "en": "Sites with a complete (" +
                         ", ".join(FIELD_LABELS[f][1] for f in SITE_REQUIRED) +
                         ") and published record, as the records stand today"},
        denominator={"vi": "Tất cả di tích (trừ hồ sơ đã lưu trữ)",
                     "en": "All sites (archived records excepted)"},
        rows_sql="""
            SELECT 'site' AS kind, s.id AS record_id, s.heritage_id, s.name_vi AS name,
                   s.id AS site_id,
                   s.status = 'published' AND {complete} AS met,
                   nullif(concat_ws(', ',
                       CASE WHEN s.status <> 'published' THEN 'status=' || s.status END,
                       {missing}), '') AS detail
              FROM sites s WHERE {in_register}""".format(
            in_register=in_register("s"),
            complete=" AND ".join(f"({c})" for c in SITE_REQUIRED.values()),
            missing=", ".join(f"CASE WHEN NOT ({c}) THEN '{name}' END"
                              for name, c in SITE_REQUIRED.items()))),
    Indicator(
        code="d", target_pct=100.0,
        title={"vi": "Di sản phi vật thể trong Danh mục quốc gia được số hóa",
               "en": "Nationally listed intangible heritage digitised"},
        numerator={"vi": "Di sản có bản ghi số (tệp và siêu dữ liệu) đến hết năm",
                   "en": "Heritage with a digital record (media and metadata) by the end "
                         "of the year"},
        denominator={"vi": "Di sản phi vật thể đã vào Danh mục quốc gia đến hết năm",
                     "en": "Intangible heritage on the national list by the end of the year"},
        rows_sql=f"""
            SELECT 'intangible' AS kind, i.id AS record_id, i.heritage_id,
                   i.name_vi AS name, x.site_id,
                   EXISTS (SELECT 1 FROM digital_records d WHERE d.intangible_id = i.id
                           AND {DIGITISED}) AS met,
                   i.national_listing_decision_no AS detail
              FROM intangible_heritage i
              LEFT JOIN intangible_sites x ON x.intangible_id = i.id
             WHERE i.national_listing_date IS NOT NULL
               AND i.national_listing_date < :year_end"""),
)
BY_CODE = {i.code: i for i in INDICATORS}


def check_year(value: str | int | None) -> int:
    """The year asked for (this year if none), within the programme 2021–2030."""
    if value in (None, ""):
        return today_in_vietnam().year
    if isinstance(value, str) and not value.strip().isdigit():
        raise InputError(f"year={value!r} is not a year, e.g. year=2026.",
                         f"year={value!r} không phải năm, ví dụ year=2026.")
    year = int(value)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InputError(f"The plan's targets run from {FIRST_YEAR} to {LAST_YEAR}, "
                         f"not {year}.",
                         f"Các chỉ tiêu của kế hoạch áp dụng từ {FIRST_YEAR} đến {LAST_YEAR}, "
                         f"không phải {year}.")
    return year


def _params(year: int) -> dict[str, Any]:
    year_end = date(year + 1, 1, 1)
    return {"year": year, "year_start": date(year, 1, 1), "year_end": year_end,
            "year_end_at": start_of_day_in_vietnam(year_end),
            "on_date": min(date(year, 12, 31), today_in_vietnam())}


def indicator_rows(db: Session, code: str, year: int,
                   unit_id: int | None = None) -> list[dict[str, Any]]:
    """The records of an indicator's denominator, each with `met` and its commune
    (`unit_id`, `unit_name`) as of the end of `year` (today for the current year).

    An intangible heritage linked to sites in two communes appears once per commune.
    """
    indicator = BY_CODE.get(code)
    if indicator is None:
        raise RecordNotFound(f"No indicator {code!r}; the plan has "
                             + ", ".join(BY_CODE), f"Không có chỉ tiêu {code!r}")
    sql = f"""
        WITH {SITE_UNIT}, rows AS ({indicator.rows_sql})
        SELECT r.kind, r.record_id, r.heritage_id, r.name, r.met, r.detail,
               su.unit_id, su.unit_name
          FROM rows r LEFT JOIN site_unit su ON su.site_id = r.site_id
         {"WHERE su.unit_id = :unit_id" if unit_id is not None else ""}
         ORDER BY r.met, r.name, r.record_id"""
    params = _params(year) | {"unit_id": unit_id}
    return [dict(r) for r in db.execute(text(sql), params).mappings()]


def _figure(rows: list[dict[str, Any]], target: float) -> dict[str, Any]:
    """Numerator, denominator, % and status over distinct records."""
    records = {(r["kind"], r["record_id"]): r["met"] for r in rows}
    denominator = len(records)
    numerator = sum(1 for met in records.values() if met)
    pct = round(100.0 * numerator / denominator, 1) if denominator else None
    status = "no_data" if pct is None else ("met" if pct >= target else "not_met")
    return {"numerator": numerator, "denominator": denominator, "pct": pct,
            "target_pct": target, "status": status}


def dashboard(db: Session, year: int) -> list[dict[str, Any]]:
    """Every indicator for `year`: the district figure and one figure per commune
    (records without a commune are grouped under unit None)."""
    out = []
    for indicator in INDICATORS:
        rows = indicator_rows(db, indicator.code, year)
        by_unit: dict[int | None, list[dict[str, Any]]] = {}
        names: dict[int | None, str | None] = {}
        for row in rows:
            by_unit.setdefault(row["unit_id"], []).append(row)
            names[row["unit_id"]] = row["unit_name"]
        communes = [{"unit_id": unit, "unit_name": names[unit],
                     **_figure(unit_rows, indicator.target_pct)}
                    for unit, unit_rows in by_unit.items()]
        communes.sort(key=lambda c: (c["unit_name"] is None, c["unit_name"] or ""))
        out.append({"indicator": indicator,
                    "district": _figure(rows, indicator.target_pct),
                    "communes": communes})
    return out
