"""The officials' desk: the plan's targets (a1–d) for a year, the records behind each
figure, the priority list and the annual report (page, xlsx, PDF)."""
from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import Session

from gis_app import spreadsheets, vocab
from gis_app.auth import current_role, roles_required
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import InputError, RecordNotFound
from gis_app.i18n import current_lang
from gis_app.numbers import format_pct
from gis_app.services import annual_report, indicators, jobs, priorities
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.web import pdf, report_pdf

bp = Blueprint("officials", __name__, url_prefix="/officials")
# Lists longer than this are cut in the report's page and PDF (the xlsx has them whole).
REPORT_LIST_ROWS = 50
# The priority page shows the first rows; ?all=1 or the CSV give every line.
PRIORITY_PAGE_ROWS = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year() -> int:
    return indicators.check_year(request.args.get("year"))


def _unit() -> int | None:
    value = request.args.get("unit")
    if value in (None, ""):
        return None
    if not value.isdigit():
        raise InputError(f"unit={value!r} is not an administrative unit number.",
                         f"unit={value!r} không phải mã số đơn vị hành chính.")
    return int(value)


def _pct(value: float | None) -> str:
    return format_pct(value, current_lang())


def _years() -> list[int]:
    last = min(today_in_vietnam().year, indicators.LAST_YEAR)
    return list(range(indicators.FIRST_YEAR, last + 1))


def _helpers() -> dict[str, Any]:
    lang = current_lang()
    return {"pct": _pct, "years": _years(), "lang": lang, "list_rows": REPORT_LIST_ROWS,
            "status_label": lambda s: annual_report.label(annual_report.STATUS[s], lang),
            "change_label": lambda c: annual_report.label(annual_report.CHANGE[c], lang),
            "condition_label": lambda c: vocab.label("condition", c, lang),
            "describe": lambda r: priorities.describe(r, lang),
            "explain_detail": lambda d: indicators.explain_detail(d, lang),
            "date_text": lambda d: "" if d is None else (
                d.strftime("%d/%m/%Y") if lang == "vi" else d.isoformat())}


@bp.get("/")
@roles_required(*OFFICIAL_ROLES)
def index() -> Response:
    return redirect(url_for(".targets"))


@bp.get("/targets")
@roles_required(*OFFICIAL_ROLES)
def targets() -> str:
    year = _year()
    board = indicators.dashboard(get_session(), year)
    lang = current_lang()
    chart = [{"code": row["indicator"].code,
              "title": row["indicator"].text(row["indicator"].title, lang),
              "target": row["indicator"].target_pct,
              "district": row["district"]["pct"],
              "communes": [{"name": c["unit_name"] or "–", "pct": c["pct"]}
                           for c in row["communes"]]} for row in board]
    return render_template("officials/targets.html", year=year, board=board, chart=chart,
                           due=annual_report.due_date(year), today=today_in_vietnam(),
                           **_helpers())


@bp.get("/targets/<code>")
@roles_required(*OFFICIAL_ROLES)
def indicator_records(code: str) -> str:
    year, unit = _year(), _unit()
    rows = indicators.indicator_rows(get_session(), code, year, unit)
    indicator = indicators.BY_CODE[code]
    unit_name = next((r["unit_name"] for r in rows), None) if unit is not None else None
    return render_template("officials/indicator.html", year=year, indicator=indicator,
                           rows=rows, unit=unit, unit_name=unit_name, **_helpers())


@bp.get("/priorities")
@roles_required(*OFFICIAL_ROLES)
def priority_list() -> str | Response:
    year, unit = _year(), _unit()
    status = priorities.check_status(request.args.get("status"))
    fmt = request.args.get("format")
    if fmt not in (None, "", "csv"):
        raise InputError(f"format={fmt!r}: use format=csv, or none for the page.",
                         f"format={fmt!r}: dùng format=csv, hoặc bỏ trống để xem trang.")
    db = get_session()
    every = priorities.visible_to(db, current_user, priorities.priority_list(db, year))
    items = priorities.filter_items(every, unit, status)
    if fmt == "csv":
        return _priorities_csv(items, year)
    shown = PRIORITY_PAGE_ROWS if request.args.get("all") != "1" else len(items)
    filters = {"unit": unit, "status": status}
    return render_template("officials/priorities.html", year=year, items=items[:shown],
                           total=len(items), district_total=len(every),
                           communes=priorities.communes(every), unit=unit, status=status,
                           query={k: v for k, v in filters.items() if v is not None},
                           statuses=priorities.STATUS_FILTERS,
                           record_link=_record_link,
                           weight_codes=[c for c in priorities.REASON_TEXT
                                         if c in priorities.WEIGHTS or c == "threats"],
                           explain_weight=lambda c: priorities.explain_weight(
                               c, current_lang()),
                           rank_points=priorities.RANK_POINTS,
                           condition_points=priorities.CONDITION_POINTS, **_helpers())


def _record_link(item: dict[str, Any]) -> str | None:
    """A page of the relic the signed-in official can open: the relic's page (district
    reviewers and admins open drafts and sensitive relics there too; commune editors only
    public ones), else None."""
    if item["kind"] != "site":
        return None
    if current_role() in FULL_ACCESS_ROLES or (item["status"] == "published"
                                               and not item["sensitive"]):
        return url_for("public.site_page", heritage_id=item["heritage_id"])
    return None


def _priorities_csv(items: list[dict[str, Any]], year: int) -> Response:
    lang = current_lang()
    out = io.StringIO()
    writer = spreadsheets.SafeWriter(out)
    writer.writerow(["rank", "score", "kind", "heritage_id", "name", "where", "reasons",
                     "status"])
    for item in items:
        writer.writerow([item["rank"], item["score"], item["kind"], item["heritage_id"],
                         item["name"], item["where"] or "",
                         "; ".join(priorities.describe(r, lang) for r in item["reasons"]),
                         item["status"] or ""])
    # A BOM so that Excel opens the Vietnamese names as UTF-8.
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="danh-muc-uu-tien-{year}.csv"'})


@bp.get("/report")
@roles_required(*OFFICIAL_ROLES)
def report() -> str:
    year = _year()
    data = annual_report.build(get_session(), year)
    return render_template("officials/report.html", report=data, pdf=False, year=year,
                           title=annual_report.TITLES[current_lang()]["report"].format(
                               year=year), **_helpers())


@bp.get("/report/<int:year>.xlsx")
@roles_required(*OFFICIAL_ROLES)
def report_xlsx(year: int) -> Response:
    year = indicators.check_year(year)
    body = annual_report.to_xlsx(annual_report.build(get_session(), year), current_lang())
    return Response(body, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="bao-cao-so-hoa-di-san-{year}.xlsx"'})


def report_html(data: dict[str, Any], year: int) -> str:
    """The annual report's PDF page (the job and `flask reports prepare` render it:
    `report_pdf.run`)."""
    return render_template("officials/report.html", report=data, pdf=True,
                           title=annual_report.TITLES[current_lang()]["report"].format(
                               year=year), **_helpers())


@jobs.handler(report_pdf.KIND)
def _report_pdf_job(db: Session, payload: dict[str, Any], progress: jobs.Progress
                    ) -> dict[str, Any]:
    return report_pdf.run(db, payload, progress, report_html)


def _lang_arg() -> dict[str, str]:
    """?lang= of this request, kept on the links of the PDF's pages."""
    lang = request.args.get("lang")
    return {"lang": lang} if lang in ("vi", "en") else {}


@bp.get("/report/<int:year>.pdf")
@roles_required(*OFFICIAL_ROLES)
def report_pdf_file(year: int) -> Response | tuple[str, int]:
    """The PDF when it was made for this year, language and data state (once per data
    change and day); else a page that follows its making by a background job (asked for
    once, however many officials click) and opens the PDF when it is ready."""
    year = indicators.check_year(year)
    db = get_session()
    lang = current_lang()
    name = report_pdf.cache_name(db, year, lang)
    body = pdf.cached(name)
    if body is not None:
        return pdf.pdf_file(body, f"bao-cao-so-hoa-di-san-{year}.pdf")
    job = report_pdf.ask(db, name, year, lang, request.url_root, current_user.id)
    db.commit()
    jobs.wake()  # again, now that the job is committed: no wait for the next poll
    return _report_pdf_page(job, year)


@bp.post("/report/<int:year>.pdf/retry")
@roles_required(*OFFICIAL_ROLES)
def report_pdf_retry(year: int) -> Response:
    """Ask again for a PDF whose making failed (the retry button; CSRF-checked): a new
    job replaces the failed one. Anything else (made, being made, or data changed since)
    only goes back to the PDF's address, which shows where it stands."""
    year = indicators.check_year(year)
    db = get_session()
    lang = current_lang()
    name = report_pdf.cache_name(db, year, lang)
    latest = report_pdf.latest(db, name)
    if latest is not None and latest.status == "failed" and pdf.cached(name) is None:
        report_pdf.ask(db, name, year, lang, request.url_root, current_user.id, retry=True)
        db.commit()
        jobs.wake()
    return redirect(url_for(".report_pdf_file", year=year, **_lang_arg()), 303)


@bp.get("/report/jobs/<int:job_id>")
@roles_required(*OFFICIAL_ROLES)
def report_pdf_status(job_id: int) -> Response:
    """The making of a report PDF, for the progress page (JSON). Any official may follow
    it: the report is the same for all of them."""
    job = jobs.get_job(get_session(), job_id)
    if job.kind != report_pdf.KIND:
        raise RecordNotFound(f"There is no report job #{job_id}.",
                             f"Không có tác vụ tạo báo cáo số {job_id}.")
    return jsonify({"id": job.id, "status": job.status, "percent": job.percent,
                    "finished": job.finished, "message": job.error(current_lang())})


def _report_pdf_page(job: jobs.Job, year: int) -> tuple[str, int]:
    failed = job.status == "failed"
    return render_template(
        "officials/report_pdf_job.html", job=job, year=year, failed=failed,
        message=job.error(current_lang()) if failed else None,
        pdf_url=url_for(".report_pdf_file", year=year, **_lang_arg()),
        retry_url=url_for(".report_pdf_retry", year=year, **_lang_arg()),
        status_url=url_for(".report_pdf_status", job_id=job.id),
        title=annual_report.TITLES[current_lang()]["report"].format(year=year),
    ), 200 if failed else 202
