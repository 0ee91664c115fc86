"""Photos and documents of relics and of intangible heritage (digital records with
credit and licence), added by officials; the relic's public page and the map card show
the photos; targets c and d count them.

District reviewers and admins edit a record's caption, credit and licence, order the
records, remove them (hidden, with a reason) and put them back; a commune editor's
relic photo waits on the same page until a reviewer approves or rejects it."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import text
from werkzeug.wrappers import Response
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.db import get_session
from gis_app.errors import HeritageError, InputError, PermissionDenied, RecordNotFound
from gis_app.i18n import current_lang
from gis_app.services import artifacts, digital_records
from gis_app.services.features import FULL_ACCESS_ROLES, OFFICIAL_ROLES
from gis_app.web.form_safety import create_once

bp = Blueprint("site_media", __name__, url_prefix="/officials/relic-media")


class ListingForm(FlaskForm):
    decision_no = StringField(_l("Decision number"), validators=[Optional(), Length(max=100)])
    listed_on = DateField(_l("Decision date"), validators=[Optional()])


class DigitalRecordForm(FlaskForm):
    """A file with its metadata, credit and licence (relics, intangible heritage and
    artifacts alike)."""

    file = FileField(_l("File (JPEG, PNG or PDF)"))
    title = StringField(_l("Caption (Vietnamese)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Caption (English)"), validators=[Optional(), Length(max=300)])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=1000)])
    credit = StringField(_l("Credit (author, source)"), validators=[Optional(), Length(max=300)])
    licence = SelectField(_l("Licence"), validators=[Optional()])

    def __init__(self, *args: object, current_licence: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.licence.choices = licence_choices(current_licence)

    def record_fields(self) -> dict:
        """The keyword arguments of digital_records.add_record, uploaded bytes included."""
        upload = request.files.get(self.file.name)
        return {"data": upload.read() if upload else b"",
                "media_dir": current_app.config["MEDIA_DIR"], "title": self.title.data,
                "title_en": self.title_en.data, "description": self.description.data,
                "credit": self.credit.data, "licence": self.licence.data}


class EditRecordForm(FlaskForm):
    """Caption (vi, en), credit and licence of a record (CSRF: the page's token)."""

    class Meta:
        csrf = False  # CSRFProtect checks every POST; the page carries one token

    title = StringField(_l("Caption (Vietnamese)"), validators=[DataRequired(), Length(max=300)])
    title_en = StringField(_l("Caption (English)"), validators=[Optional(), Length(max=300)])
    credit = StringField(_l("Credit (author, source)"), validators=[Optional(), Length(max=300)])
    licence = SelectField(_l("Licence"), validators=[Optional()])

    def __init__(self, *args: object, current_licence: str | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.licence.choices = licence_choices(current_licence)


def licence_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The list of licences in the page's language, "not stated" first; a record's
    free-text licence from before the list is offered too, so it is kept as it is."""
    choices = [("", _("licence not stated"))]
    choices += list(vocab.labels("licence", current_lang()).items())
    if current and current not in vocab.VOCAB["licence"]:
        choices.append((current, current))
    return choices


def edit_forms(records: list[dict]) -> dict[int, EditRecordForm]:
    """One edit form per record, filled with its values (ids unique per record)."""
    return {m["id"]: EditRecordForm(
        formdata=None, prefix=f"r{m['id']}", current_licence=m["licence"],
        data={"title": (m["metadata"] or {}).get("caption_vi")
              or (m["metadata"] or {}).get("title"),
              "title_en": (m["metadata"] or {}).get("caption_en"),
              "credit": m["credit"], "licence": m["licence"] or ""})
        for m in records}


def _site(site_id: int) -> dict:
    """The relic if the user may add media to it (commune editors: their communes)."""
    for site in artifacts.holding_sites(get_session(), current_user):
        if site["id"] == site_id:
            return site
    if current_user.role == "commune_editor" and get_session().scalar(
            text("SELECT 1 FROM sites WHERE id = :s"), {"s": site_id}):
        raise PermissionDenied(f"Relic {site_id} is outside your communes",
                               f"Di tích {site_id} nằm ngoài các xã của bạn")
    raise RecordNotFound(f"No relic {site_id} that you may edit",
                         f"Không có di tích {site_id} mà bạn được sửa")


def _intangible(ich_id: int) -> dict:
    """An intangible heritage (district reviewers and admins only: it spans communes)."""
    if current_user.role not in FULL_ACCESS_ROLES:
        raise PermissionDenied("Only district reviewers add media to intangible heritage",
                               "Chỉ cán bộ thẩm định cấp huyện được thêm tư liệu cho di sản "
                               "phi vật thể")
    for item in digital_records.intangible_list(get_session()):
        if item["id"] == ich_id:
            return item
    raise RecordNotFound(f"No intangible heritage {ich_id}",
                         f"Không có di sản phi vật thể {ich_id}")


@bp.get("/")
@roles_required(*OFFICIAL_ROLES)
def index() -> str:
    db = get_session()
    intangible = digital_records.intangible_list(db) \
        if current_user.role in FULL_ACCESS_ROLES else []
    return render_template("site_media/index.html", intangible=intangible,
                           sites=artifacts.holding_sites(db, current_user))


def _page(target: str, target_id: int, item: dict) -> str | Response | tuple[str, int]:
    """The records of a relic or an intangible heritage and the form to add one."""
    db, form, error = get_session(), DigitalRecordForm(), None
    if request.method == "POST" and form.validate_on_submit():
        try:
            digital_records.add_record(db, current_user, target, target_id,
                                       **form.record_fields())
            db.commit()
            flash(_("Saved. The public sees it once a district reviewer approves it.")
                  if digital_records.needs_review(current_user, target) else _("Saved."))
            return redirect(request.path, 303)
        except HeritageError as exc:
            db.rollback()
            error = exc
    status = 400 if request.method == "POST" else 200
    listing = None
    if target == "intangible":
        listing = ListingForm(prefix="l", data={"decision_no": item["national_listing_decision_no"],
                                                "listed_on": item["national_listing_date"]})
    records = digital_records.list_records(db, target, target_id)
    return render_template("site_media/show.html", item=item, target=target, form=form,
                           error=error, listing=listing, records=records,
                           curator=current_user.role in FULL_ACCESS_ROLES,
                           edit_forms=edit_forms(records)), status


ACTIONS = ("edit", "up", "down", "remove", "restore", "approve", "reject")


def curate_record(target: str, target_id: int, record_id: int, action: str) -> None:
    """Apply one change to one record and say so (or why not) on the page (relics,
    intangible heritage and artifacts: the caller has checked the user may edit the
    target)."""
    db = get_session()
    try:
        if action == "edit":
            form = EditRecordForm(prefix=f"r{record_id}",
                                  current_licence=request.form.get(f"r{record_id}-licence"))
            if not form.validate():
                raise InputError("A caption in Vietnamese is required (at most 300 "
                                 "characters).",
                                 "Cần nhập chú thích tiếng Việt (tối đa 300 ký tự).")
            digital_records.edit_record(db, current_user, target, target_id, record_id,
                                        title=form.title.data, title_en=form.title_en.data,
                                        credit=form.credit.data, licence=form.licence.data)
        elif action in ("up", "down"):
            digital_records.move_record(db, current_user, target, target_id, record_id,
                                        action)
        elif action in ("remove", "reject"):
            digital_records.remove_record(db, current_user, target, target_id, record_id,
                                          request.form.get("reason", ""))
        elif action == "restore":
            digital_records.restore_record(db, current_user, target, target_id, record_id)
        elif action == "approve":
            digital_records.approve_record(db, current_user, target, target_id, record_id)
        else:
            raise RecordNotFound(f"No action {action}", f"Không có thao tác {action}")
        db.commit()
        flash(_("Saved."))
    except InputError as exc:
        db.rollback()
        flash(exc.user_message(current_lang()))


@bp.post("/<int:site_id>/records/<int:record_id>/<action>")
@roles_required(*OFFICIAL_ROLES)
def curate(site_id: int, record_id: int, action: str) -> Response:
    """Edit, move, remove, restore, approve or reject a photo or document of a relic."""
    _site(site_id)
    curate_record("site", site_id, record_id, action)
    return redirect(url_for(".show", site_id=site_id), 303)


@bp.post("/intangible/<int:ich_id>/records/<int:record_id>/<action>")
@roles_required(*OFFICIAL_ROLES)
def curate_intangible(ich_id: int, record_id: int, action: str) -> Response:
    """The same for a record of an intangible heritage."""
    _intangible(ich_id)
    curate_record("intangible", ich_id, record_id, action)
    return redirect(url_for(".show_intangible", ich_id=ich_id), 303)


@bp.route("/<int:site_id>", methods=["GET", "POST"])
@roles_required(*OFFICIAL_ROLES)
@create_once
def show(site_id: int) -> str | Response | tuple[str, int]:
    return _page("site", site_id, _site(site_id))


@bp.route("/intangible/<int:ich_id>", methods=["GET", "POST"])
@roles_required(*OFFICIAL_ROLES)
@create_once
def show_intangible(ich_id: int) -> str | Response | tuple[str, int]:
    return _page("intangible", ich_id, _intangible(ich_id))


@bp.post("/intangible/<int:ich_id>/listing")
@roles_required(*OFFICIAL_ROLES)
def set_listing(ich_id: int) -> Response:
    """The national listing (decision number and date) that target d counts."""
    _intangible(ich_id)
    form, db = ListingForm(prefix="l"), get_session()
    if form.validate_on_submit():
        try:
            digital_records.set_national_listing(db, current_user, ich_id,
                                                 decision_no=form.decision_no.data,
                                                 listed_on=form.listed_on.data)
            db.commit()
            flash(_("Saved."))
        except HeritageError as exc:
            db.rollback()
            flash(exc.user_message(current_lang()))
    else:
        flash(_("The date is not valid."))
    return redirect(url_for(".show_intangible", ich_id=ich_id), 303)
