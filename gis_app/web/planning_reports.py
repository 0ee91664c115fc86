"""`/planning/report`: stored zone checks with a reference number, print view and PDF;
`/planning/bulk`: many parcels at once.

A report is public by its link, `/planning/report/<token>` with a random token (it
holds what the check showed its creator's role), except a check made with full access
(unpublished and sensitive relics), which only signed-in staff may open. The readable
number (KTBV-2026-000123) is a counter, so it is printed on the report but opens
nothing for the public: `/planning/report/KTBV-...` is a 404 for them (the same 404
whether the number exists or not), and for signed-in staff a redirect to the report's
link, so that an official can find a report a citizen quotes by number.

Bulk results wait in `UPLOAD_DIR/bulk/<token>/` under a random token for a day; the
folder also records whether they were computed with full access and by whom, so such
results are handed only to the same user.
"""
from __future__ import annotations

import json
import logging
import secrets
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.utils import secure_filename
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from gis_app.auth import current_role
from gis_app.clock import VIETNAM_TIME, today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError, PermissionDenied, RecordNotFound
from gis_app.i18n import current_lang
from gis_app.numbers import format_number
from gis_app.services import zone_reports
from gis_app.services.zone_check import FULL_ACCESS_ROLES, read_date, read_geometry
from gis_app.web.form_safety import create_once
from gis_app.web.imports import check_file_name, remove_stale_uploads
from gis_app.web.pdf import pdf_response

log = logging.getLogger(__name__)
bp = Blueprint("planning_reports", __name__, url_prefix="/planning")

BULK_MAX_AGE = timedelta(days=1)
BULK_META = ".bulk.json"
TOKEN_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


class ReportForm(FlaskForm):
    geometry = TextAreaField(validators=[Length(max=2_000_000)])
    crs = StringField(validators=[Optional(), Length(max=2000)])
    date = StringField(validators=[Optional(), Length(max=20)])


class BulkForm(FlaskForm):
    file = FileField(validators=[FileRequired()])
    crs = StringField(validators=[Optional(), Length(max=2000)])
    date = StringField(validators=[Optional(), Length(max=20)])


class RepeatForm(FlaskForm):
    """CSRF only."""


def _is_staff() -> bool:
    return current_role() in FULL_ACCESS_ROLES


def _actor_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _visible(record: Any) -> Any:
    if record.full_access and not _is_staff():
        raise PermissionDenied(
            "This report was made with officials' access (it may show unpublished or "
            "protected relics); sign in with a reviewer account to open it.",
            "Phiếu này được lập với quyền cán bộ (có thể có di tích chưa công bố hoặc cần "
            "bảo mật); hãy đăng nhập bằng tài khoản cán bộ thẩm định để xem.",
            log=f"report {record.reference} refused to role {current_role()}")
    return record


# --- single checks ---------------------------------------------------------------------

@bp.post("/report")
@create_once
def create_report() -> Response:
    form = ReportForm()
    raw = (form.geometry.data or "").strip()
    if not raw:
        raise InputError("Draw, paste or upload the parcel first (a GeoJSON geometry).",
                         "Hãy vẽ, dán hoặc tải lên thửa đất trước (hình học GeoJSON).")
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" thousands deep
        raise InputError("The parcel is not GeoJSON text; paste a GeoJSON geometry, Feature "
                         "or FeatureCollection.",
                         "Thửa đất không phải văn bản GeoJSON; hãy dán hình học, Feature hoặc "
                         "FeatureCollection GeoJSON.") from exc
    crs_text = (form.crs.data or "").strip() or None
    on_date = read_date((form.date.data or "").strip() or None)
    parcels = read_geometry(payload, crs_text)
    if len(parcels) != 1:
        raise InputError("A report covers one parcel; send one geometry, or use the bulk "
                         "check for several.",
                         "Mỗi phiếu chỉ cho một thửa; hãy gửi một hình, hoặc dùng kiểm tra "
                         "hàng loạt cho nhiều thửa.")
    db = get_session()
    record = zone_reports.create_check(db, parcels[0], on_date, current_role(), _actor_id(),
                                       crs_text)
    db.commit()
    return redirect(url_for(".show_report", key=record.token), 303)


@bp.get("/report")
def back_to_planning() -> Response:
    """The language link of a page reached by POST is a GET: it leads back to planning."""
    return redirect(f"{request.script_root}/planning/bulk")


@bp.get("/report/<key>/repeat")
def back_to_report(key: str) -> Response:
    return redirect(url_for(".show_report", key=key))


def _report_context(token: str) -> dict[str, Any]:
    db = get_session()
    record = _visible(zone_reports.get_check(db, token))
    original = zone_reports.get_original(db, record)
    changes = None
    if original is not None and (not original.full_access or _is_staff()):
        changes = zone_reports.compare_checks(original.result, record.result)
    else:
        original = None
    lang = current_lang()
    return {
        "record": record, "result": record.result, "original": original, "changes": changes,
        "svg": zone_reports.report_svg(db, record),
        "created": record.created_at.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M"),
        "on_date": record.on_date.strftime("%d/%m/%Y"),
        "text_in": lambda entry: (entry or {}).get(lang) or (entry or {}).get("en", ""),
        "relic_name": lambda item: (item.get("site_name_en") if lang == "en" else None)
        or item.get("site_name_vi") or item.get("heritage_id"),
        "number": _number, "repeat_form": RepeatForm(),
        "link": url_for(".show_report", key=record.token, _external=True),
    }


def _number(value: float | None, digits: int = 2) -> str:
    """1234.5 → "1.234,50" in Vietnamese, "1,234.50" in English."""
    return format_number(value, current_lang(), digits)


def _by_number(reference: str, suffix: str) -> Response:
    """Staff open a report by its readable number: a redirect to its link. Anyone else
    gets the 404 of an unknown link, whether the number exists or not."""
    if not _is_staff():
        raise zone_reports.link_not_found()
    record = zone_reports.get_check_by_number(get_session(), reference)
    query = f"?{request.query_string.decode('latin-1')}" if request.query_string else ""
    return redirect(url_for(".show_report", key=record.token + suffix) + query)


@bp.get("/report/<key>")
def show_report(key: str) -> str | Response:
    token, suffix = (key[:-4], key[-4:]) if key.lower().endswith(".pdf") else (key, "")
    if zone_reports.is_reference(token):
        return _by_number(token, suffix.lower())
    if suffix:
        return report_pdf(token)
    return render_template("planning/report.html", pdf=False, **_report_context(token))


def report_pdf(token: str) -> Response:
    context = _report_context(token)
    html = render_template("planning/report.html", pdf=True, **context)
    return pdf_response(html, f"{context['record'].reference}.pdf", cache=True)


@bp.post("/report/<key>/repeat")
@create_once
def repeat_report(key: str) -> Response:
    RepeatForm().validate_on_submit()  # CSRFProtect has already checked the token
    db = get_session()
    _visible(zone_reports.get_check(db, key))
    record = zone_reports.repeat_check(db, key, current_role(), _actor_id())
    db.commit()
    return redirect(url_for(".show_report", key=record.token), 303)


# --- bulk checks -----------------------------------------------------------------------

def _bulk_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"]) / "bulk"
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def _limit_label() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{format_number(limit / (1024 * 1024), current_lang(), 0)} MB"


def _render_bulk(form: BulkForm, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("planning/bulk.html", form=form, report_form=ReportForm(),
                           limit=_limit_label(), bulk_limit=zone_reports.BULK_LIMIT,
                           number=_number, **context), status


@bp.get("/bulk")
def bulk_form() -> tuple[str, int]:
    return _render_bulk(BulkForm())


@bp.post("/bulk")
def bulk_run() -> tuple[str, int]:
    lang = current_lang()
    form = BulkForm()
    if not form.validate_on_submit():
        return _render_bulk(form, 400)
    storage = form.file.data
    original = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload"
    problem = check_file_name(original)
    if problem:
        return _render_bulk(form, 400, error=problem[1] if lang == "vi" else problem[0])
    root = _bulk_root()
    remove_stale_uploads(root, BULK_MAX_AGE)
    token = secrets.token_urlsafe(24)
    directory = root / token
    directory.mkdir(mode=0o700)
    suffix = Path(original).suffix.lower()
    path = directory / ((secure_filename(Path(original).stem) or "upload")[:100] + suffix)
    storage.save(path)
    started = time.perf_counter()
    try:
        on_date = read_date((form.date.data or "").strip() or None)
        result = zone_reports.bulk_check(get_session(), path, current_role(), on_date=on_date,
                                         crs_text=(form.crs.data or "").strip() or None,
                                         out_dir=directory / "out")
    except HeritageError as error:
        shutil.rmtree(directory, ignore_errors=True)
        log.info("bulk check of %s refused: %s", original, error.log_message)
        return _render_bulk(form, error.status, error=error.user_message(lang))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    path.unlink(missing_ok=True)
    (directory / BULK_META).write_text(json.dumps(
        {"name": original, "user": _actor_id(), "full_access": current_role() in
         FULL_ACCESS_ROLES, "saved": time.time()}), encoding="utf-8")
    seconds = time.perf_counter() - started
    log.info("bulk check of %s (%d parcels) in %.1f s as %s", original, result.checked,
             seconds, token)
    return _render_bulk(BulkForm(formdata=None), 200, summary=result.summary(), token=token,
                        file_name=original, seconds=seconds)


@bp.get("/bulk/<token>.<any(csv, gpkg):ext>")
def bulk_download(token: str, ext: str) -> Response:
    if not 16 <= len(token) <= 64 or not set(token) <= TOKEN_CHARS:
        abort(404)
    directory = _bulk_root() / token
    meta_path = directory / BULK_META
    if directory.is_symlink() or not meta_path.is_file():
        raise _expired()
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("full_access") and meta.get("user") != _actor_id():
        raise PermissionDenied("These results were computed with officials' access; only the "
                               "official who ran the check may download them.",
                               "Kết quả này được tính với quyền cán bộ; chỉ cán bộ đã chạy "
                               "kiểm tra mới tải được.")
    path = directory / "out" / f"zone_check.{ext}"
    if not path.is_file():
        raise _expired()
    stem = secure_filename(Path(str(meta.get("name") or "parcels")).stem) or "parcels"
    mimetype = "text/csv" if ext == "csv" else "application/geopackage+sqlite3"
    return send_file(path, mimetype=mimetype, as_attachment=True,
                     download_name=f"{stem}_kiem_tra_{today_in_vietnam():%Y%m%d}.{ext}")


def _expired() -> RecordNotFound:
    return RecordNotFound("These results are unknown or have expired (they are kept one day); "
                       "run the bulk check again.",
                       "Không tìm thấy kết quả hoặc kết quả đã hết hạn (chỉ giữ một ngày); hãy "
                       "chạy lại kiểm tra hàng loạt.")


@bp.app_template_filter("vn_time")
def _vn_time(value: datetime | None) -> str:
    return value.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M") if value else ""
