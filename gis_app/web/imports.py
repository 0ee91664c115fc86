"""The officials' import pages: upload a survey file, check its preview on a map and its
validation report, confirm or cancel; the record of imports, and undoing one as a whole.

Between its preview and the official's confirmation an upload waits in
`UPLOAD_DIR/<token>/`: the token is random (`secrets.token_urlsafe`), never derived from
the user's file name, and `.upload.json` beside the file keeps the original name (for
display and the import record) and who uploaded it. Only that user may confirm or cancel
it. Uploads older than a day are removed whenever a new one is saved.

After the upload comes the mapping step (which column feeds which field, and which code
each distinct value of a vocabulary column becomes; it can be saved as a preset), then
the preview: a dry run of `importers.pipeline.run_import`, recorded as a job
(`services.jobs`, `services.import_jobs`) and shown from the job's result, with a paged
table of the rows to be written beside the map; then the real run on confirmation. A
large file's dry run and import run in the background job worker while the page shows
their progress; a small file's run in the request.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import time
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import shapely
from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from shapely.geometry import shape
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from gis_app import vocab
from gis_app.auth import roles_required
from gis_app.clock import VIETNAM_TIME
from gis_app.db import database, get_session
from gis_app.errors import HeritageError, InputError
from gis_app.geo import encodings
from gis_app.i18n import current_lang
from gis_app.importers import columns as columns_mod
from gis_app.importers import mapping, targets
from gis_app.importers.columns import FileColumns, read_columns
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.maps import MapPage, build_map
from gis_app.models import ImportRun, User
from gis_app.services import import_jobs, jobs, lifecycle
from gis_app.services import imports as import_service
from gis_app.services import presets as preset_service
from gis_app.web.form_safety import create_once
from gis_app.web.records import PublishForm

log = logging.getLogger(__name__)
bp = Blueprint("imports", __name__, url_prefix="/officials/imports")

ROLE = "district_reviewer"  # admin is always allowed too (roles_required)
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,64}$"
META = ".upload.json"  # secure_filename never starts a name with a dot: no clash
UPLOAD_MAX_AGE = timedelta(days=1)
# What the form takes. A shapefile is several files: it must come zipped.
ACCEPTED = (".zip", ".kmz", ".gpkg", ".geojson", ".json", ".kml", ".csv", ".fgb")
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
ENCODING_LABELS = {"utf-8": "UTF-8 (Unicode)", "tcvn3": "TCVN3 (ABC)", "vni": "VNI",
                   "cp1258": "Windows-1258"}
CONTEXT_LAYERS = ("communes", "rivers", "roads", "protection_zones", "sites")


class OptionsForm(FlaskForm):
    """The import options, as chosen on the upload form and carried to the confirmation."""

    layer = SelectField(validators=[DataRequired()])
    preset = SelectField(validators=[Optional()])
    crs = StringField(validators=[Optional(), Length(max=2000)])
    encoding = SelectField(validators=[Optional()])
    source_layer = StringField(validators=[Optional(), Length(max=200)])

    def set_choices(self, lang: str) -> None:
        self.layer.choices = [(name, t.title[lang]) for name, t in targets.TARGETS.items()]
        self.preset.choices = [("", _("None (fields named like the layer's)"))] + [
            (p.name, p.title[lang], {"data-layer": p.layer})
            for p in preset_service.all_presets(get_session()) if p.layer in targets.TARGETS]
        self.encoding.choices = [("", _("Automatic"))] + [
            (name, ENCODING_LABELS.get(name, name)) for name in encodings.ENCODINGS]

    def options(self) -> ImportOptions:
        return ImportOptions(layer=self.layer.data, preset=self.preset.data or None,
                             crs=(self.crs.data or "").strip() or None,
                             encoding=self.encoding.data or None,
                             source_layer=(self.source_layer.data or "").strip() or None)


class UploadForm(OptionsForm):
    file = FileField(validators=[FileRequired()])


class TokenForm(FlaskForm):
    token = HiddenField()  # checked by find_upload


class UndoForm(FlaskForm):
    """CSRF only."""


# --- uploads waiting for confirmation --------------------------------------------------

@dataclass(frozen=True)
class Upload:
    token: str
    path: Path  # the saved file
    name: str  # the user's file name, for display and the import record

    @property
    def directory(self) -> Path:
        return self.path.parent


def _upload_root() -> Path:
    root = Path(current_app.config["UPLOAD_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    return root.resolve()


def _original_name(storage: FileStorage) -> str:
    """The name the user's file had, without any folder a browser may send."""
    raw = (storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return raw[:255] or "upload"


def check_file_name(name: str) -> tuple[str, str] | None:
    """(en, vi) saying why a file with this name cannot be imported, or None."""
    suffix = Path(name).suffix.lower()
    if suffix in SHAPEFILE_PARTS:
        return (("A shapefile is several files (.shp, .shx, .dbf, .prj): put them together "
                 "in one .zip file and upload the zip."),
                ("Shapefile gồm nhiều tệp (.shp, .shx, .dbf, .prj): hãy nén chung vào một tệp "
                 ".zip rồi tải tệp zip lên."))
    if suffix not in ACCEPTED:
        accepted = ", ".join(ACCEPTED)
        return ((f"{name}: this kind of file cannot be imported. Accepted: {accepted} "
                 f"(a shapefile zipped)."),
                (f"{name}: không nhập được loại tệp này. Chấp nhận: {accepted} "
                 f"(shapefile thì nén zip)."))
    return None


def save_upload(storage: FileStorage, original: str) -> Upload:
    """Save an uploaded file under a new random token; remove uploads older than a day."""
    root = _upload_root()
    remove_stale_uploads(root)
    token = secrets.token_urlsafe(24)
    directory = root / token
    directory.mkdir(mode=0o700)
    suffix = Path(original).suffix.lower()
    stored = (secure_filename(Path(original).stem) or "upload")[:100] + suffix
    path = directory / stored
    storage.save(path)
    (directory / META).write_text(json.dumps(
        {"name": original, "file": stored, "user": current_user.id, "saved": time.time()}),
        encoding="utf-8")
    log.info("user %s uploaded %s (%d bytes) as %s", current_user.username, original,
             path.stat().st_size, token)
    return Upload(token, path, original)


def find_upload(token: str) -> Upload:
    """The waiting upload of the current user with this token.

    Raises InputError (400) for a malformed token, or one that is unknown, expired or
    another user's.
    """
    unknown = InputError("This upload is unknown or has expired (uploads wait one day); "
                         "upload the file again.",
                         "Không tìm thấy tệp đã tải lên hoặc tệp đã hết hạn (tệp chỉ được giữ "
                         "một ngày); hãy tải tệp lên lại.", log=f"bad upload token {token!r}")
    if not _token_ok(token):
        raise unknown
    root = _upload_root()
    directory = root / token
    meta_path = directory / META
    if directory.is_symlink() or not directory.is_dir() or directory.resolve().parent != root \
            or not meta_path.is_file():
        raise unknown
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise unknown from exc
    stored = str(meta.get("file", ""))
    path = directory / stored
    if meta.get("user") != current_user.id or "/" in stored or stored.startswith(".") \
            or not path.is_file():
        raise unknown
    return Upload(token, path, str(meta.get("name") or stored))


def _token_ok(token: str) -> bool:
    return re.fullmatch(TOKEN_PATTERN, token or "") is not None


def delete_upload(upload: Upload) -> None:
    shutil.rmtree(upload.directory, ignore_errors=True)


def remove_stale_uploads(root: Path, max_age: timedelta = UPLOAD_MAX_AGE) -> int:
    """Delete the upload folders in `root` older than `max_age`; how many."""
    limit = time.time() - max_age.total_seconds()
    removed = 0
    for entry in root.iterdir():
        try:
            if entry.is_dir() and not entry.is_symlink() and entry.stat().st_mtime < limit:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    if removed:
        log.info("removed %d uploads older than %s", removed, max_age)
    return removed


# --- rendering helpers -----------------------------------------------------------------

def _limit_label() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return f"{format_decimal(limit / (1024 * 1024), format='#,##0.###')} MB"


def _field_labels(layer: str | None, lang: str) -> dict[str, str]:
    target = targets.get_target(layer or "")
    return {f.name: f.label[lang] for f in target.fields} if target else {}


def _value_labels(layer: str | None, lang: str) -> dict[str, dict[str, str]]:
    """Labels of the coded values of the layer's fields: {"zone": {"I": "Khu vực …"}}."""
    target = targets.get_target(layer or "")
    return {f.name: vocab.labels(f.vocab, lang) for f in target.fields
            if f.vocab} if target else {}


def _layer_title(layer: str, lang: str) -> str:
    target = targets.get_target(layer)
    return target.title[lang] if target else layer


def _preset_title(name: str | None, lang: str) -> str | None:
    if not name:
        return None
    preset = mapping.find_preset(name)
    return preset.title[lang] if preset else name


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value).strftime("%d/%m/%Y")  # a date, once stored as JSON
    return value


def _preview_geojson(preview: dict[str, Any]) -> dict[str, Any]:
    """The preview with its dates as dd/mm/yyyy."""
    features = []
    for feature in preview.get("features") or []:
        features.append({"type": "Feature", "geometry": feature.get("geometry"),
                         "properties": {k: _plain(v) for k, v in
                                        (feature.get("properties") or {}).items()}})
    return {"type": "FeatureCollection", "features": features}


def _bounds(collection: dict[str, Any]) -> list[float] | None:
    geoms = [shape(f["geometry"]) for f in collection["features"] if f.get("geometry")]
    if not geoms:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    return [float(minx), float(miny), float(maxx), float(maxy)]


def _preview_map(bounds: list[float] | None) -> MapPage:
    return build_map(fit_bounds=bounds, height="420px", layer_names=CONTEXT_LAYERS)


def _users(runs: list[ImportRun]) -> dict[int, str]:
    db = get_session()
    ids = {i for run in runs for i in (run.actor_id, run.undone_by) if i is not None}
    users = (db.get(User, i) for i in ids)
    return {u.id: u.display_name or u.username for u in users if u is not None}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    def local_time(value: datetime | None) -> str:
        return value.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M") if value else ""

    lang = current_lang()
    return {
        "local_time": local_time,
        "text_in": lambda entry: (entry or {}).get(lang) or (entry or {}).get("en", ""),
        "crs_how": {"given": _("chosen on the upload form"),
                    "prj": _("read from the .prj file"),
                    "format": _("declared by the file (GeoPackage, GeoJSON, KML)"),
                    "no shapes": _("none needed: the file has no shapes"),
                    "inferred": _("inferred from the coordinates (the file has no .prj)")},
        "encoding_how": {"format": _("set by the file format"),
                         "given": _("chosen on the upload form"),
                         "cpg": _("read from the .cpg file"),
                         "detected": _("detected from the text")},
        "status_label": {"loaded": _("Loaded"), "undone": _("Undone")},
    }


def _render_index(form: UploadForm, status: int = 200) -> tuple[str, int]:
    lang = current_lang()
    runs = import_service.list_imports(get_session())
    return render_template("imports/index.html", form=form, runs=runs, users=_users(runs),
                           layer_title=lambda layer: _layer_title(layer, lang),
                           limit=_limit_label(), accept=",".join(ACCEPTED)), status


def _render_failure(error: HeritageError, options: ImportOptions, file_name: str
                    ) -> tuple[str, int]:
    lang = current_lang()
    report = error.details.get("report") if isinstance(error.details, dict) else None
    return render_template(
        "imports/preview.html", failed=True, message=error.user_message(lang),
        report=report or {"file": {"name": file_name}}, counts=None,
        options=options.as_dict(),
        layer_title=_layer_title(options.layer, lang),
        preset_title=_preset_title(options.preset, lang),
        field_labels=_field_labels(options.layer, lang)), error.status


# --- pages -----------------------------------------------------------------------------

@bp.get("")
@roles_required(ROLE)
def index() -> tuple[str, int]:
    form = UploadForm()
    form.set_choices(current_lang())
    first = next(iter(targets.TARGETS))
    form.layer.data = first
    form.preset.data = next((p.name for p in mapping.presets().values() if p.layer == first),
                            "")
    return _render_index(form)


@bp.get("/preview")
@bp.get("/confirm")
@bp.get("/cancel")
@roles_required(ROLE)
def back_to_index() -> Response:
    """Pages reached by POST have a language link (a GET): it leads back to the list."""
    return redirect(url_for(".index", lang=request.args.get("lang")))


@bp.post("/preview")
@roles_required(ROLE)
def preview() -> Response | tuple[str, int]:
    """Receive the file: save it, read its columns, and go on to the mapping step."""
    lang = current_lang()
    form = UploadForm()
    form.set_choices(lang)
    if not form.validate_on_submit():
        return _render_index(form, 400)
    original = _original_name(form.file.data)
    problem = check_file_name(original)
    if problem:
        form.file.errors = [problem[1] if lang == "vi" else problem[0]]
        return _render_index(form, 400)
    options = form.options()
    upload = save_upload(form.file.data, original)
    try:
        found = read_columns(upload.path, source_layer=options.source_layer,
                             geometry_required=_needs_shapes(options.layer),
                             encoding=options.encoding)
    except HeritageError as error:
        delete_upload(upload)
        log.info("upload of %s refused: %s", upload.name, error.log_message)
        return _render_failure(error, options, upload.name)
    except BaseException:
        delete_upload(upload)
        raise
    _update_meta(upload, options=options.as_dict(), features=found.count)
    return redirect(url_for(".mapping_step", token=upload.token))


# --- the mapping step -------------------------------------------------------------------

@dataclass
class Choices:
    """What the official chose on the mapping page (or what it starts from)."""

    columns: dict[str, str]  # target field -> column
    values: dict[str, dict[str, str]]  # target field -> {source value: code}


def _upload_meta(upload: Upload) -> dict[str, Any]:
    return json.loads((upload.directory / META).read_text(encoding="utf-8"))


def _update_meta(upload: Upload, **changes: Any) -> None:
    meta = _upload_meta(upload)
    meta.update(changes)
    (upload.directory / META).write_text(json.dumps(meta), encoding="utf-8")


def _meta_options(upload: Upload) -> ImportOptions:
    raw = _upload_meta(upload).get("options") or {}
    if not raw.get("layer") or targets.get_target(raw["layer"]) is None:
        raise InputError("This upload has no import options; upload the file again.",
                         "Tệp tải lên chưa có tùy chọn nhập; hãy tải tệp lên lại.")
    return ImportOptions(**{k: raw.get(k) for k in ("layer", "preset", "crs", "encoding",
                                                    "source_layer")})


def _preset_choices(layer: str) -> list[mapping.Preset]:
    return [p for p in preset_service.all_presets(get_session()) if p.layer == layer]


def _posted_choices(target: targets.Target, names: list[str]) -> Choices:
    """The choices of the posted mapping form; unknown columns and codes are refused."""
    columns: dict[str, str] = {}
    for tf in target.fields:
        column = request.form.get(f"col-{tf.name}", "")
        if column:
            if column not in names:
                raise InputError(f"The file has no column {column!r}; choose again.",
                                 f"Tệp không có cột {column!r}; hãy chọn lại.")
            columns[tf.name] = column
    values: dict[str, dict[str, str]] = {}
    for tf in target.fields:
        if not tf.vocab:
            continue
        codes = vocab.VOCAB.get(tf.vocab, {})
        for key, source in request.form.items():
            if not key.startswith(f"vsrc-{tf.name}-"):
                continue
            code = request.form.get("vcode-" + key[len("vsrc-"):], "")
            if not code:
                continue
            if code not in codes:
                raise InputError(f"{code!r} is not a code of {tf.label['en']}; choose again.",
                                 f"{code!r} không phải mã của {tf.label['vi']}; hãy chọn lại.")
            if columns_mod.reads_as(tf, source) != code:  # only what it would not read so
                values.setdefault(tf.name, {})[source] = code
    return Choices(columns, values)


def _render_mapping(upload: Upload, options: ImportOptions, choices: Choices,
                    found: FileColumns, status: int = 200, error: str | None = None,
                    preset_name: str = "") -> tuple[str, int]:
    lang = current_lang()
    target = targets.TARGETS[options.layer]
    tables = columns_mod.value_rows(target, found, choices.columns, choices.values)
    unknown = sum(1 for rows in tables.values() for r in rows if not r.code)
    return render_template(
        "imports/mapping.html", upload=upload, options=options.as_dict(), target=target,
        lang=lang, found=found, choices=choices, tables=tables, unknown=unknown,
        codes={tf.name: list(vocab.labels(tf.vocab, lang).items())
               for tf in target.fields if tf.vocab},
        presets=_preset_choices(options.layer), layer_title=_layer_title(options.layer, lang),
        error=error, preset_name=preset_name, form=TokenForm()), status


def _needs_shapes(layer: str) -> bool:
    """Whether a file for `layer` must have shapes (intangible heritage need not)."""
    return not targets.TARGETS[layer].optional_geometry


def _read_for_mapping(upload: Upload, options: ImportOptions, choices: Choices
                      ) -> FileColumns:
    return read_columns(upload.path, source_layer=options.source_layer,
                        geometry_required=_needs_shapes(options.layer),
                        encoding=options.encoding, value_columns=columns_mod.value_columns(
                            targets.TARGETS[options.layer], choices.columns))


@bp.get("/<token>/mapping")
@roles_required(ROLE)
def mapping_step(token: str) -> tuple[str, int]:
    """The columns of the file against the layer's fields, pre-filled from the chosen
    preset (`?preset=` changes it) or from the columns' names."""
    upload = find_upload(token)
    options = _meta_options(upload)
    name = request.args.get("preset", options.preset or "")
    preset = mapping.find_preset(name) if name else None
    if preset is not None and preset.layer != options.layer:
        preset = None
    options = replace(options, preset=preset.name if preset else None)
    names = read_columns(upload.path, source_layer=options.source_layer,
                         geometry_required=_needs_shapes(options.layer),
                         encoding=options.encoding).names
    choices = Choices(columns_mod.guess_columns(targets.TARGETS[options.layer], names, preset),
                      {k: dict(v) for k, v in (preset.values if preset else {}).items()})
    return _render_mapping(upload, options, choices,
                           _read_for_mapping(upload, options, choices))


@bp.post("/<token>/mapping")
@roles_required(ROLE)
def mapping_post(token: str) -> Response | tuple[str, int]:
    """Show the value tables again for new columns ("refresh"), or save the mapping as a
    preset if named, and start the dry run."""
    TokenForm().validate_on_submit()  # CSRFProtect has already checked the token
    lang = current_lang()
    upload = find_upload(token)
    options = _meta_options(upload)
    target = targets.TARGETS[options.layer]
    names = read_columns(upload.path, source_layer=options.source_layer,
                         geometry_required=_needs_shapes(options.layer),
                         encoding=options.encoding).names
    choices = _posted_choices(target, names)
    found = _read_for_mapping(upload, options, choices)
    preset_name = (request.form.get("preset_name") or "").strip()
    if request.form.get("action") == "refresh":
        return _render_mapping(upload, options, choices, found, preset_name=preset_name)
    missing = [tf for tf in target.fields if tf.required and tf.name not in choices.columns]
    if missing:
        labels = ", ".join(tf.label[lang] for tf in missing)
        return _render_mapping(upload, options, choices, found, 400, preset_name=preset_name,
                               error=_("Choose a column for every required field: "
                                       "%(fields)s.", fields=labels))
    if preset_name:
        db = get_session()
        try:
            preset_service.save_preset(db, name=preset_name, layer=options.layer,
                                       columns=choices.columns, values=choices.values,
                                       user_id=current_user.id)
            db.commit()
        except InputError as error:
            db.rollback()
            return _render_mapping(upload, options, choices, found, 400,
                                   error=error.user_message(lang), preset_name=preset_name)
        flash(_("The mapping was saved as the preset “%(name)s”.", name=preset_name))
    options = replace(options, mapping=choices.columns, values=choices.values, preset=None)
    meta = _upload_meta(upload)
    _update_meta(upload, mapping=choices.columns, values=choices.values)
    job_id = _start_import_job(upload, options, dry_run=True,
                               background=_is_large(upload, meta.get("features")))
    return redirect(url_for(".job_page", job_id=job_id))


def _is_large(upload: Upload, features: int | None) -> bool:
    config = current_app.config
    return (upload.path.stat().st_size > config["IMPORT_JOB_BYTES"]
            or (features or 0) > config["IMPORT_JOB_FEATURES"])


def _start_import_job(upload: Upload, options: ImportOptions, *, dry_run: bool,
                      background: bool) -> int:
    """A job for the import of `upload`: queued for the worker, or run here and now."""
    db = get_session()
    payload = import_jobs.payload(upload.path, upload.name, upload.token, options,
                                  dry_run=dry_run, user_id=current_user.id)
    job_id = jobs.enqueue(db, import_jobs.KIND, payload, current_user.id,
                          running=not background)
    db.commit()
    if not background:
        store = database()
        jobs.run_claimed(db, job_id, store.session, heartbeat=store.bind is store.engine)
    return job_id


# --- jobs: progress, preview, confirmation ----------------------------------------------

PAGE_ROWS = 25


def _my_job(job_id: int) -> jobs.Job:
    return jobs.get_job(get_session(), job_id, current_user.id,
                        admin=current_user.role == "admin")


@bp.get("/jobs/<int:job_id>")
@roles_required(ROLE)
def job_status(job_id: int) -> Response:
    """The job's state for the progress bar (JSON)."""
    job = _my_job(job_id)
    return jsonify({"id": job.id, "status": job.status, "done": job.progress_done,
                    "total": job.progress_total, "percent": job.percent,
                    "finished": job.finished, "message": job.error(current_lang()),
                    "page": url_for(".job_page", job_id=job.id)})


@bp.get("/jobs/<int:job_id>/page")
@roles_required(ROLE)
def job_page(job_id: int) -> Response | tuple[str, int]:
    """Progress while the job runs; then the preview (a dry run), the import's page (a
    real import) or what went wrong."""
    lang = current_lang()
    job = _my_job(job_id)
    payload = job.payload
    options = import_jobs.options_of(payload)
    if not job.finished:
        return render_template("imports/job.html", job=job, file_name=payload["file_name"],
                               dry_run=options.dry_run), 200
    result = job.result or {}
    if job.status == "failed":
        report = (result.get("details") or {}).get("report") or \
            {"file": {"name": payload["file_name"]}}
        return render_template(
            "imports/preview.html", failed=True, message=job.error(lang), report=report,
            counts=None, options=options.as_dict(), token=payload.get("token"),
            kept=options.dry_run and _upload_waits(payload.get("token")),
            layer_title=_layer_title(options.layer, lang), preset_title=None,
            field_labels=_field_labels(options.layer, lang)), 422
    if not options.dry_run:
        counts = result.get("counts") or {}
        _flash_done(result.get("import_id"), counts)
        return redirect(url_for(".show", import_id=result.get("import_id")))
    collection = _preview_geojson(result.get("preview") or {})
    features = collection["features"]
    pages = max(1, -(-len(features) // PAGE_ROWS))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    present = set(features[0]["properties"]) if features else set()
    columns = [f.name for f in targets.TARGETS[options.layer].fields if f.name in present]
    return render_template(
        "imports/preview.html", failed=False, report=result.get("report") or {},
        counts=result.get("counts") or {}, options=options.as_dict(), job=job,
        token=payload.get("token"), preview=collection,
        map=_preview_map(_bounds(collection)), layer_title=_layer_title(options.layer, lang),
        preset_title=None, field_labels=_field_labels(options.layer, lang),
        value_labels=_value_labels(options.layer, lang), columns=columns,
        rows=[f["properties"] for f in features[(page - 1) * PAGE_ROWS:page * PAGE_ROWS]],
        page=page, pages=pages, show_value=_show_value(options.layer, lang)), 200


def _upload_waits(token: str | None) -> bool:
    try:
        find_upload(token or "")
    except InputError:
        return False
    return True


def _show_value(layer: str, lang: str) -> Any:
    labels = _value_labels(layer, lang)

    def show(name: str, value: Any) -> str:
        if value is None:
            return ""
        parts = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(name, {}).get(p, p)) for p in parts)
    return show


def _flash_done(import_id: int | None, counts: dict[str, int]) -> None:
    flash(_("Import #%(id)d done: %(inserted)d added, %(updated)d updated, %(unchanged)d "
            "unchanged.", id=import_id or 0, inserted=counts.get("inserted", 0),
            updated=counts.get("updated", 0), unchanged=counts.get("unchanged", 0)))
    if counts.get("proposed"):
        flash(_("%(count)d published relic(s) were not changed: the file's changes wait for "
                "review as proposals.", count=counts["proposed"]))


@bp.post("/jobs/<int:job_id>/confirm")
@roles_required(ROLE)
@create_once
def confirm(job_id: int) -> Response | tuple[str, int]:
    """Import for real what the preview job checked (its options, its upload)."""
    TokenForm().validate_on_submit()  # CSRFProtect has already checked the token
    job = _my_job(job_id)
    if job.kind != import_jobs.KIND or job.status != "done" \
            or not job.payload.get("dry_run"):
        raise InputError("This preview cannot be confirmed; upload the file again.",
                         "Không thể xác nhận bản xem trước này; hãy tải tệp lên lại.",
                         log=f"confirm of job #{job_id} ({job.status})")
    upload = find_upload(job.payload.get("token") or "")
    options = replace(import_jobs.options_of(job.payload), dry_run=False)
    features = (job.result or {}).get("counts", {}).get("read")
    if _is_large(upload, features):
        new_id = _start_import_job(upload, options, dry_run=False, background=True)
        return redirect(url_for(".job_page", job_id=new_id))
    db = get_session()
    try:
        result = run_import(db, upload.path, options, file_name=upload.name,
                            actor_id=current_user.id)
        db.commit()
    except HeritageError as error:
        db.rollback()
        log.info("import of %s refused: %s", upload.name, error.log_message)
        return _render_failure(error, options, upload.name)
    finally:
        delete_upload(upload)
    _flash_done(result.import_id, result.counts)
    return redirect(url_for(".show", import_id=result.import_id))


@bp.post("/cancel")
@roles_required(ROLE)
def cancel() -> Response:
    form = TokenForm()
    form.validate_on_submit()  # CSRFProtect has already checked the token
    upload = find_upload(form.token.data or "")
    delete_upload(upload)
    log.info("user %s cancelled the import of %s", current_user.username, upload.name)
    flash(_("Cancelled: %(name)s was not imported and has been deleted from the server.",
            name=upload.name))
    return redirect(url_for(".index"))


@bp.get("/<int:import_id>")
@roles_required(ROLE)
def show(import_id: int) -> str:
    lang = current_lang()
    run = import_service.get_import(get_session(), import_id)
    options = run.options or {}
    return render_template(
        "imports/show.html", run=run, users=_users([run]), report=run.report or {},
        counts=run.counts or {}, options=options,
        layer_title=_layer_title(run.layer, lang),
        preset_title=_preset_title(options.get("preset"), lang),
        field_labels=_field_labels(run.layer, lang), undo_form=UndoForm(),
        drafts=lifecycle.drafts_of_import(get_session(), import_id)
        if run.layer == "sites" else [], publish_form=PublishForm())


@bp.get("/<int:import_id>/undo")
@roles_required(ROLE)
def confirm_undo(import_id: int) -> str:
    """What undoing will remove and restore (or why it cannot), and the button that does
    it: an undo is asked for twice."""
    db = get_session()
    run = import_service.get_import(db, import_id)
    preview = import_service.undo_preview(db, import_id)
    lang = current_lang()
    index = 0 if lang == "en" else 1
    tables = [(import_service.UNDO_TABLES.get(t, (t, t))[index], deleted, restored)
              for t, deleted, restored in preview["tables"]]
    refusal = preview["refusal"].user_message(lang) if preview["refusal"] else None
    return render_template("imports/undo.html", run=run, tables=tables, refusal=refusal,
                           undo_form=UndoForm())


@bp.post("/<int:import_id>/undo")
@roles_required(ROLE)
def undo(import_id: int) -> Response:
    UndoForm().validate_on_submit()  # CSRFProtect has already checked the token
    db = get_session()
    try:
        counts = import_service.undo_import(db, import_id, current_user.id)
        db.commit()
    except InputError as error:
        db.rollback()
        flash(error.user_message(current_lang()), "error")
    else:
        log.info("user %s undid import #%d: %s", current_user.username, import_id, counts)
        flash(_("Import #%(id)d undone: %(deleted)d records deleted, %(restored)d restored.",
                id=import_id, deleted=counts.get("deleted", 0),
                restored=counts.get("restored", 0)))
        if counts.get("proposals"):
            flash(_("%(count)d change proposal(s) made by the import were removed.",
                    count=counts["proposals"]))
    return redirect(url_for(".show", import_id=import_id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error: RequestEntityTooLarge) -> tuple[str, int]:
    log.warning("upload refused: larger than %s bytes", current_app.config["MAX_CONTENT_LENGTH"])
    return render_template(
        "imports/error.html", title=_("The file is too large"),
        message=_("The file is larger than the upload limit (%(limit)s). Zip it, or split it "
                  "into several files, and upload again.", limit=_limit_label())), 413
