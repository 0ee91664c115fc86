"""The annual report the district's Culture and Information Office files before
25 November (plan VI): the indicators, changes in condition, what was inventoried,
conserved and digitised in the year, and the priority list.

`build` gathers the figures once; `to_xlsx` and the PDF template only lay them out.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import (
    VIETNAM_ZONE,
    now_in_vietnam,
    start_of_day_in_vietnam,
    today_in_vietnam,
)
from gis_app.services import conditions, data_version, indicators, priorities
from gis_app.spreadsheets import append_xlsx_row

DUE_MONTH, DUE_DAY = 11, 25
PRIORITY_ROWS = 30

TITLES = {
    "vi": {"report": "Báo cáo kết quả thực hiện Kế hoạch số hóa di sản văn hóa năm {year}",
           "summary": "Tổng hợp", "indicators": "Chỉ tiêu", "conditions": "Hiện trạng",
           "inventoried": "Kiểm kê", "conserved": "Bảo quản", "digitised": "Số hóa",
           "priorities": "Danh mục ưu tiên"},
    "en": {"report": "Report on the heritage digitisation plan, year {year}",
           "summary": "Summary", "indicators": "Indicators", "conditions": "Condition",
           "inventoried": "Inventory", "conserved": "Conservation", "digitised": "Digitisation",
           "priorities": "Priority list"},
}
STATUS = {"met": ("Đạt", "Met"), "not_met": ("Chưa đạt", "Not met"),
          "no_data": ("Chưa có dữ liệu", "No data")}
CHANGE = {"better": ("Tốt lên", "Better"), "worse": ("Xấu đi", "Worse"),
          "same": ("Không đổi", "Same"), "new": ("Đánh giá lần đầu", "First assessment")}


def due_date(year: int) -> date:
    return date(year, DUE_MONTH, DUE_DAY)


def _rows(db: Session, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in db.execute(text(sql), params).mappings()]


def _condition_changes(db: Session, year: int) -> list[dict[str, Any]]:
    """Each assessed relic: its condition at the end of the previous year and at the end
    of `year` (the latest assessment on or before each date)."""
    before = conditions.latest_assessments(db, as_of=date(year - 1, 12, 31))
    after = conditions.latest_assessments(db, as_of=date(year, 12, 31))
    names = {r["id"]: r for r in _rows(db, """
        SELECT s.id, s.heritage_id, s.name_vi, u.name AS unit_name
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id""")}
    out = []
    for site_id, now in after.items():
        if now["assessed_on"].year != year:
            continue  # not assessed this year: nothing new to report
        then = before.get(site_id)
        change = "new" if then is None else conditions.change_of(then["overall"],
                                                                 now["overall"])
        site = names[site_id]
        out.append({"heritage_id": site["heritage_id"], "name": site["name_vi"],
                    "unit_name": site["unit_name"],
                    "before": then["overall"] if then else None,
                    "before_on": then["assessed_on"] if then else None,
                    "after": now["overall"], "after_on": now["assessed_on"],
                    "threats": list(now.get("threats") or []), "change": change})
    order = {"worse": 0, "new": 1, "same": 2, "better": 3}
    out.sort(key=lambda r: (order[r["change"]], r["name"]))
    return out


def state(db: Session) -> str:
    """What the report of any year depends on besides the year and the language: the
    data (data_version.stamp) and the day in Vietnam (the report says when it was made;
    the current year's figures run to today). Two calls with the same state give the
    same report, so it can be cached by it."""
    return f"{data_version.stamp(db)}|{today_in_vietnam().isoformat()}"


def build(db: Session, year: int) -> dict[str, Any]:
    """Everything the year's report states, as plain data."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    board = indicators.dashboard(db, year)
    return {
        "year": year,
        "due": due_date(year),
        "generated_at": now_in_vietnam(),
        "data_version": data_version.current(db),
        "indicators": board,
        "communes": sorted({c["unit_name"] for row in board for c in row["communes"]
                            if c["unit_name"]}),
        "conditions": _condition_changes(db, year),
        "assessments": db.scalar(text("""
            SELECT count(*) FROM condition_assessments
             WHERE assessed_on >= :s AND assessed_on < :e"""), {"s": start, "e": end}),
        "inventoried": _rows(db, """
            SELECT a.heritage_id, a.inventory_code, a.name_vi, a.kind, r.inventoried_on,
                   s.name_vi AS site_name
              FROM artifact_inventory_records r JOIN artifacts a ON a.id = r.artifact_id
              LEFT JOIN sites s ON s.id = a.holding_site_id
             WHERE r.year = :y AND r.withdrawn_at IS NULL
             ORDER BY r.inventoried_on, a.name_vi""", y=year),
        "conserved": _rows(db, """
            SELECT a.heritage_id, a.name_vi, c.kind, c.performed_on, c.description,
                   a.at_risk, s.name_vi AS site_name
              FROM conservation_actions c JOIN artifacts a ON a.id = c.artifact_id
              LEFT JOIN sites s ON s.id = a.holding_site_id
             WHERE c.performed_on >= :s AND c.performed_on < :e AND c.withdrawn_at IS NULL
             ORDER BY c.performed_on, a.name_vi""", s=start, e=end),
        "digitised": _rows(db, f"""
            SELECT CASE WHEN d.site_id IS NOT NULL THEN 'site'
                        WHEN d.intangible_id IS NOT NULL THEN 'intangible'
                        ELSE 'artifact' END AS target,
                   coalesce(s.heritage_id, i.heritage_id, a.heritage_id) AS heritage_id,
                   coalesce(s.name_vi, i.name_vi, a.name_vi) AS name,
                   d.media_type, d.credit, d.licence,
                   timezone(:zone, d.created_at)::date AS created_on,
                   ({indicators.DIGITISED}) AS with_metadata
              FROM digital_records d
              LEFT JOIN sites s ON s.id = d.site_id
              LEFT JOIN intangible_heritage i ON i.id = d.intangible_id
              LEFT JOIN artifacts a ON a.id = d.artifact_id
             WHERE d.created_at >= :start_at AND d.created_at < :year_end_at
             ORDER BY d.created_at""", zone=VIETNAM_ZONE,
                           start_at=start_of_day_in_vietnam(start),
                           year_end_at=start_of_day_in_vietnam(end)),
        "priorities": priorities.priority_list(db, year)[:PRIORITY_ROWS],
    }


def label(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "vi" else pair[1]


def _pct(value: float | None) -> float | None:
    return None if value is None else value / 100.0


def to_xlsx(report: dict[str, Any], lang: str = "vi") -> bytes:
    """The report as an Excel workbook: one sheet per section, header rows bold and
    frozen, percentages as numbers formatted as %."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    t = TITLES[lang]
    vi = lang == "vi"
    wb = Workbook()

    def sheet(title: str, header: list[str], rows: list[list[Any]], first: bool = False):
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        append_xlsx_row(ws, header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in rows:
            append_xlsx_row(ws, row)
        for column in ws.columns:
            width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 60)
        return ws

    summary = [
        [t["report"].format(year=report["year"]), None],
        ["Hạn nộp" if vi else "Due", report["due"]],
        ["Lập lúc (giờ Việt Nam)" if vi else "Generated (Vietnam time)",
         report["generated_at"].replace(tzinfo=None, microsecond=0)],
        ["Phiên bản dữ liệu" if vi else "Data version", report["data_version"]],
        ["Số lượt đánh giá hiện trạng" if vi else "Condition assessments",
         report["assessments"]],
        ["Hiện vật được kiểm kê" if vi else "Artifacts inventoried", len(report["inventoried"])],
        ["Lượt bảo quản" if vi else "Conservation actions", len(report["conserved"])],
        ["Bản ghi số mới" if vi else "New digital records", len(report["digitised"])],
    ]
    ws = sheet(t["summary"], ["Mục" if vi else "Item", "Giá trị" if vi else "Value"],
               summary, first=True)
    for row in ws.iter_rows(min_row=2):
        if isinstance(row[1].value, date):
            row[1].number_format = "DD/MM/YYYY" if vi else "YYYY-MM-DD"

    rows = []
    for item in report["indicators"]:
        ind = item["indicator"]
        for unit, figure in [(("Toàn huyện" if vi else "District"), item["district"])] + [
                (c["unit_name"] or ("(chưa gắn xã)" if vi else "(no commune)"), c)
                for c in item["communes"]]:
            rows.append([ind.code, ind.text(ind.title, lang), unit, figure["numerator"],
                         figure["denominator"], _pct(figure["pct"]),
                         _pct(figure["target_pct"]), label(STATUS[figure["status"]], lang),
                         ind.text(ind.numerator, lang), ind.text(ind.denominator, lang)])
    ws = sheet(t["indicators"], ["Mã" if vi else "Code", "Chỉ tiêu" if vi else "Indicator",
                                 "Đơn vị" if vi else "Unit", "Tử số" if vi else "Numerator",
                                 "Mẫu số" if vi else "Denominator", "%",
                                 "Mục tiêu" if vi else "Target",
                                 "Trạng thái" if vi else "Status",
                                 "Định nghĩa tử số" if vi else "Numerator counts",
                                 "Định nghĩa mẫu số" if vi else "Denominator counts"], rows)
    for row in ws.iter_rows(min_row=2):
        row[5].number_format = row[6].number_format = "0.0%"

    cond = vocab.labels("condition", lang)
    sheet(t["conditions"], ["Mã định danh" if vi else "Heritage ID", "Di tích" if vi else "Relic",
                            "Xã" if vi else "Commune", "Trước" if vi else "Before",
                            "Ngày" if vi else "On", "Sau" if vi else "After",
                            "Ngày" if vi else "On", "Thay đổi" if vi else "Change",
                            "Nguy cơ" if vi else "Threats"],
          [[r["heritage_id"], r["name"], r["unit_name"], cond.get(r["before"], r["before"]),
            r["before_on"], cond.get(r["after"], r["after"]), r["after_on"],
            label(CHANGE[r["change"]], lang),
            ", ".join(vocab.labels("threat", lang).get(x, x) for x in r["threats"])]
           for r in report["conditions"]])
    kinds = vocab.labels("artifact_kind", lang)
    sheet(t["inventoried"], ["Mã định danh" if vi else "Heritage ID",
                             "Số kiểm kê" if vi else "Inventory code",
                             "Hiện vật" if vi else "Artifact", "Loại" if vi else "Kind",
                             "Ngày kiểm kê" if vi else "Inventoried on",
                             "Nơi lưu giữ" if vi else "Held at"],
          [[r["heritage_id"], r["inventory_code"], r["name_vi"], kinds.get(r["kind"], r["kind"]),
            r["inventoried_on"], r["site_name"]] for r in report["inventoried"]])
    ckinds = vocab.labels("conservation_kind", lang)
    sheet(t["conserved"], ["Mã định danh" if vi else "Heritage ID",
                           "Hiện vật" if vi else "Artifact",
                           "Hình thức" if vi else "Kind", "Ngày" if vi else "On",
                           "Có nguy cơ" if vi else "At risk", "Mô tả" if vi else "Description",
                           "Nơi lưu giữ" if vi else "Held at"],
          [[r["heritage_id"], r["name_vi"], ckinds.get(r["kind"], r["kind"]), r["performed_on"],
            ("Có" if vi else "Yes") if r["at_risk"] else ("Không" if vi else "No"),
            r["description"], r["site_name"]] for r in report["conserved"]])
    targets = {"site": ("Di tích", "Relic"), "intangible": ("Di sản phi vật thể", "Intangible"),
               "artifact": ("Hiện vật", "Artifact")}
    sheet(t["digitised"], ["Đối tượng" if vi else "Target", "Mã định danh" if vi else "Heritage ID",
                           "Tên" if vi else "Name", "Loại tệp" if vi else "Media type",
                           "Tác giả / nguồn" if vi else "Credit",
                           "Giấy phép" if vi else "Licence", "Ngày" if vi else "On",
                           "Có siêu dữ liệu" if vi else "With metadata"],
          [[label(targets[r["target"]], lang), r["heritage_id"], r["name"], r["media_type"],
            r["credit"], r["licence"], r["created_on"],
            ("Có" if vi else "Yes") if r["with_metadata"] else ("Không" if vi else "No")]
           for r in report["digitised"]])
    sheet(t["priorities"], ["Hạng" if vi else "Rank", "Điểm" if vi else "Score",
                            "Loại" if vi else "Kind", "Mã định danh" if vi else "Heritage ID",
                            "Tên" if vi else "Name", "Nơi" if vi else "Where",
                            "Lý do" if vi else "Reasons"],
          [[p["rank"], p["score"], ("Di tích" if vi else "Relic") if p["kind"] == "site"
            else ("Hiện vật" if vi else "Artifact"), p["heritage_id"], p["name"], p["where"],
            "; ".join(priorities.describe(r, lang) for r in p["reasons"])]
           for p in report["priorities"]])
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, date) and cell.number_format == "General":
                    cell.number_format = "DD/MM/YYYY" if vi else "YYYY-MM-DD"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
