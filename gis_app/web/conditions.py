"""The officials' condition pages: sites with their latest condition, a site's history
with the form to record (or correct) an assessment, the comparison of sites over years
(table, chart, CSV), the map by condition or by change since a year, and the sites
getting worse.

Only signed-in officials open them (commune editors, district reviewers, admins); the
public is sent to sign in, and the map's JSON answers 401 to a request that asks for
JSON. What a commune editor sees and records is limited by `services.conditions`: sites
that were in one of the editor's units on the assessment date.
"""
from __future__ import annotations

import io
import logging
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.routing import BuildError

from gis_app import spreadsheets, vocab
from gis_app.auth import roles_required
from gis_app.clock import read_day
from gis_app.db import get_session
from gis_app.errors import InputError, PermissionDenied
from gis_app.i18n import current_lang
from gis_app.maps import MapPage, build_map
from gis_app.models.base import CONDITIONS, ELEMENTS, THREATS, TRENDS
from gis_app.services import conditions as service
from gis_app.services.features import OFFICIAL_ROLES
from gis_app.web.form_safety import create_once

log = logging.getLogger(__name__)
bp = Blueprint("conditions", __name__, url_prefix="/officials/conditions")

CONTEXT_LAYERS = ("communes", "rivers", "roads")
MAX_COMPARE_SITES = 12
MAX_COMPARE_YEARS = 10


class CsrfForm(FlaskForm):
    """CSRF only: the assessment form is read field by field (see _submitted)."""


def _json_401(view: Any) -> Any:
    """The public asking for JSON gets 401 JSON instead of the sign-in redirect."""
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated and \
                request.accept_mimetypes.best == "application/json":
            return jsonify({"error": "unauthorized",
                            "message": _("Sign in as an official to see this.")}), 401
        return view(*args, **kwargs)
    return wrapped


# --- parsing ---------------------------------------------------------------------------

def _parse_int(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise InputError(f"'{value}' is not an assessment number.",
                         f"'{value}' không phải là số phiếu đánh giá.")
    return int(value)


def _submitted() -> dict[str, Any]:
    """The assessment form as the user filled it in (strings), for re-display."""
    form = request.form
    return {"assessed_on": form.get("assessed_on", ""),
            "assessor_name": form.get("assessor_name", ""),
            "overall": form.get("overall", ""),
            "element_scores": {e: form.get(f"element_{e}", "") for e in ELEMENTS},
            "threats": form.getlist("threats"), "trend": form.get("trend", ""),
            "notes": form.get("notes", ""), "supersedes_id": form.get("supersedes_id", ""),
            "photo_caption": form.get("photo_caption", ""),
            "photo_credit": form.get("photo_credit", ""),
            "photo_licence": form.get("photo_licence", "")}


def _photos(values: dict[str, Any]) -> list[tuple[str, bytes, str, str, str]]:
    return [(storage.filename or "photo", storage.read(), values["photo_caption"],
             values["photo_credit"], values["photo_licence"])
            for storage in request.files.getlist("photos") if storage and storage.filename]


def _blank_form(correcting: dict[str, Any] | None) -> dict[str, Any]:
    """The form's starting values: empty (today, the user's name) or a pre-filled
    correction of an assessment."""
    if correcting is None:
        return {"assessed_on": service.today().isoformat(),
                "assessor_name": current_user.display_name or current_user.username,
                "overall": "", "element_scores": {}, "threats": [], "trend": "", "notes": "",
                "supersedes_id": "", "photo_caption": "", "photo_credit": "",
                "photo_licence": ""}
    return {"assessed_on": correcting["assessed_on"].isoformat(),
            "assessor_name": correcting["assessor_name"] or "",
            "overall": correcting["overall"], "element_scores": correcting["element_scores"],
            "threats": correcting["threats"], "trend": correcting["trend"] or "",
            "notes": correcting["notes"] or "", "supersedes_id": str(correcting["id"]),
            "photo_caption": "", "photo_credit": "", "photo_licence": ""}


# --- rendering helpers -----------------------------------------------------------------

def _choices() -> dict[str, Any]:
    lang = current_lang()
    return {"conditions": [(c, vocab.label("condition", c, lang)) for c in CONDITIONS],
            "elements": [(e, vocab.label("element", e, lang)) for e in ELEMENTS],
            "threats": [(t, vocab.label("threat", t, lang)) for t in THREATS],
            "trends": [(t, vocab.label("trend", t, lang)) for t in TRENDS]}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    lang = current_lang()
    marks = {"better": ("▲", _("better")), "worse": ("▼", _("worse")),
             "same": ("=", _("unchanged")), "no_data": ("–", _("no data"))}
    return {"site_name": lambda s: (s.get("name_en") if lang == "en" else None)
            or s.get("name_vi"),
            "marks": marks, "condition_codes": CONDITIONS, "media_url": _media_url}


def _media_url(uri: str) -> str | None:
    """The URL of a photo under MEDIA_DIR (None while no media route is registered)."""
    try:
        return url_for("media.file", name=uri)
    except BuildError:
        return None


def _site_page(site_id: int, values: dict[str, Any], *, message: str | None = None,
               status: int = 200) -> tuple[str, int]:
    db = get_session()
    site = service.site_summary(db, site_id)
    history = service.assessments_for_site(db, site_id, current_user)
    return render_template("conditions/site.html", site=site, history=history,
                           values=values, message=message, form=CsrfForm(),
                           **_choices()), status


def _context_map(bounds: list[float] | None = None) -> MapPage:
    return build_map(fit_bounds=bounds, height="560px", layer_names=CONTEXT_LAYERS)


def _since_param() -> int | None:
    raw = (request.args.get("since") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1900 <= int(raw) <= service.today().year:
        raise InputError(f"'since' must be a year between 1900 and {service.today().year}.",
                         f"'since' phải là một năm từ 1900 đến {service.today().year}.")
    return int(raw)


# --- pages -----------------------------------------------------------------------------

@bp.get("")
@roles_required(*OFFICIAL_ROLES)
def index() -> str:
    db = get_session()
    commune = request.args.get("commune", type=int)
    return render_template("conditions/index.html",
                           sites=service.sites_overview(db, current_user, commune),
                           communes=service.communes(db), commune=commune)


@bp.get("/sites/<int:site_id>")
@roles_required(*OFFICIAL_ROLES)
def site(site_id: int) -> tuple[str, int]:
    db = get_session()
    service.site_summary(db, site_id)  # 404 first
    if not service.can_view_site(db, current_user, site_id):
        raise PermissionDenied("This site is not in an administrative unit of your account.",
                               "Di tích này không thuộc đơn vị hành chính của tài khoản bạn.")
    correcting = None
    correct_id = request.args.get("correct", type=int)
    if correct_id is not None:
        correcting = service.get_assessment(db, correct_id)
        if correcting["site_id"] != site_id or not service.can_assess(
                db, current_user, site_id, correcting["assessed_on"]):
            raise PermissionDenied("You may not correct this assessment.",
                                   "Bạn không được sửa phiếu đánh giá này.")
        if correcting["superseded"]:
            raise InputError(f"Assessment #{correct_id} has already been corrected; correct "
                             "its latest version instead.",
                             f"Phiếu đánh giá số {correct_id} đã được sửa; hãy sửa phiên bản "
                             "mới nhất của nó.")
    return _site_page(site_id, _blank_form(correcting))


@bp.post("/sites/<int:site_id>")
@roles_required(*OFFICIAL_ROLES)
@create_once
def record(site_id: int) -> Response | tuple[str, int]:
    db = get_session()
    service.site_summary(db, site_id)
    if not service.can_view_site(db, current_user, site_id):
        raise PermissionDenied("This site is not in an administrative unit of your account.",
                               "Di tích này không thuộc đơn vị hành chính của tài khoản bạn.")
    CsrfForm().validate_on_submit()  # CSRFProtect has already checked the token
    values = _submitted()
    try:
        assessment_id = service.record_assessment(
            db, current_user, site_id, assessed_on=read_day(values["assessed_on"]),
            overall=values["overall"] or None, element_scores=values["element_scores"],
            threats=values["threats"], trend=values["trend"] or None, notes=values["notes"],
            assessor_name=values["assessor_name"],
            supersedes_id=_parse_int(values["supersedes_id"]), photos=_photos(values))
        db.commit()
    except (InputError, PermissionDenied) as error:
        db.rollback()
        log.info("assessment of site %d refused: %s", site_id, error.log_message)
        return _site_page(site_id, values, message=error.user_message(current_lang()),
                          status=error.status)
    flash(_("Assessment #%(id)d recorded.", id=assessment_id))
    return redirect(url_for(".site", site_id=site_id))


@bp.post("/assessments/<int:assessment_id>/withdraw")
@roles_required(*OFFICIAL_ROLES)
def withdraw(assessment_id: int) -> Response:
    """Withdraw an assessment recorded in error, with the reason; back to its relic."""
    db = get_session()
    found = service.get_assessment(db, assessment_id)
    try:
        service.withdraw_assessment(db, current_user, assessment_id,
                                    request.form.get("reason", ""))
        db.commit()
        flash(_("Assessment #%(id)d withdrawn.", id=assessment_id))
    except (InputError, PermissionDenied) as error:
        db.rollback()
        if isinstance(error, PermissionDenied):
            raise
        flash(error.user_message(current_lang()), "error")
    return redirect(url_for(".site", site_id=found["site_id"]) + f"#assessment-{assessment_id}",
                    303)


def _compare_request() -> tuple[list[int], list[int], str | None, list[dict[str, Any]]]:
    """The chosen site ids and years (from the query string), a message if the choice
    cannot be compared, and the sites the user may choose from."""
    db = get_session()
    choosable = service.sites_overview(db, current_user)
    allowed = {s["site_id"] for s in choosable}
    site_ids = [i for i in dict.fromkeys(request.args.getlist("site", type=int)) if i in allowed]
    years = sorted({y for y in request.args.getlist("year", type=int) if 1900 <= y <= 2100})
    message = None
    asked = "site" in request.args or "year" in request.args
    if asked and (len(site_ids) < 2 or not years):
        message = _("Choose at least two sites and at least one year.")
    elif len(site_ids) > MAX_COMPARE_SITES or len(years) > MAX_COMPARE_YEARS:
        message = _("Choose at most %(sites)d sites and %(years)d years.",
                    sites=MAX_COMPARE_SITES, years=MAX_COMPARE_YEARS)
    return site_ids, years, message, choosable


def _chart_data(table: dict[str, Any]) -> dict[str, Any]:
    lang = current_lang()
    return {"years": table["years"],
            "levels": [vocab.label("condition", c, lang) for c in CONDITIONS],
            "axis": _("Overall condition"),
            "series": [{"label": (r["name_en"] if lang == "en" else None) or r["name_vi"],
                        "ranks": [(r["cells"][y] or {}).get("rank") for y in table["years"]]}
                       for r in table["rows"]]}


@bp.get("/compare")
@roles_required(*OFFICIAL_ROLES)
def compare() -> tuple[str, int]:
    site_ids, years, message, choosable = _compare_request()
    table = None
    if site_ids and years and message is None:
        table = service.compare(get_session(), site_ids, years, current_user)
    return render_template("conditions/compare.html", choosable=choosable,
                           all_years=service.assessment_years(get_session(), current_user),
                           chosen_sites=site_ids, chosen_years=years, table=table,
                           chart=_chart_data(table) if table else None, message=message,
                           **_choices()), 400 if message else 200


@bp.get("/compare.csv")
@roles_required(*OFFICIAL_ROLES)
def compare_csv() -> Response:
    site_ids, years, message, _choosable = _compare_request()
    if message or not site_ids:
        raise InputError("Choose at least two sites and at least one year.",
                         "Hãy chọn ít nhất hai di tích và ít nhất một năm.")
    table = service.compare(get_session(), site_ids, years, current_user)
    return Response(_csv(table), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=so-sanh-hien-trang.csv"})


def _csv(table: dict[str, Any]) -> str:
    """The comparison as CSV (UTF-8 with BOM so spreadsheet programs read Vietnamese)."""
    lang = current_lang()

    def label(name: str, code: str | None) -> str:
        return vocab.label(name, code, lang)

    out = io.StringIO()
    writer = spreadsheets.SafeWriter(out)
    header = [_("Heritage identifier"), _("Relic"), _("Commune")]
    for year in table["years"]:
        header += [f"{year} {_('Date')}", f"{year} {_('Overall condition')}"]
        header += [f"{year} {label('element', e)}" for e in ELEMENTS]
        header += [f"{year} {_('Threats')}"]
    header += [_("Change"), _("Change (levels)")]
    writer.writerow(header)
    change_text = {"better": _("better"), "worse": _("worse"), "same": _("unchanged"),
                   "no_data": _("no data")}
    for row in table["rows"]:
        line = [row["heritage_id"], (row["name_en"] if lang == "en" else None) or
                row["name_vi"], row["commune"] or ""]
        for year in table["years"]:
            cell = row["cells"][year]
            if cell is None:
                line += [""] * (3 + len(ELEMENTS))
                continue
            line += [cell["assessed_on"].strftime("%d/%m/%Y"), label("condition", cell["overall"])]
            line += [label("condition", cell["element_scores"].get(e)) for e in ELEMENTS]
            line += ["; ".join(label("threat", t) for t in cell["threats"])]
        line += [change_text[row["change"]], "" if row["delta"] is None else row["delta"]]
        writer.writerow(line)
    return "\ufeff" + out.getvalue()


@bp.get("/map")
@roles_required(*OFFICIAL_ROLES)
def condition_map() -> tuple[str, int]:
    since = _since_param()
    db = get_session()
    rows = service.changes_since(db, since, user=current_user) if since else None
    return render_template("conditions/map.html", map=_context_map(), since=since,
                           overview=service.sites_overview(db, current_user),
                           changes=rows, years=service.assessment_years(db, current_user),
                           data_url=url_for(".map_data", since=since),
                           **_choices()), 200


@bp.get("/map.json")
@_json_401
@roles_required(*OFFICIAL_ROLES)
def map_data() -> Response:
    body = service.map_features(get_session(), current_user, _since_param())
    return Response(body, mimetype="application/json")


@bp.get("/worsening")
@roles_required(*OFFICIAL_ROLES)
def worsening() -> str:
    since = _since_param()
    return render_template("conditions/worsening.html", since=since,
                           rows=service.worsening(get_session(), since, current_user))

