"""The officials' map (`/officials/map`, district reviewers and admins): every layer, and
with `?as_of=YYYY-MM-DD` the relics and their protection zones as they stood at the end
of that day (the layer API's `as_of`, services/features.py); other layers as today."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from gis_app.auth import roles_required
from gis_app.clock import today_in_vietnam
from gis_app.db import get_session
from gis_app.errors import InputError
from gis_app.i18n import current_lang
from gis_app.maps import build_map
from gis_app.services import features
from layers import all_layers

bp = Blueprint("officials_map", __name__, url_prefix="/officials/map")


@bp.get("")
@roles_required("district_reviewer")
def show() -> tuple[str, int]:
    error, status = None, 200
    try:
        on = features.read_as_of(request.args.get("as_of"))
    except InputError as refused:
        on, error, status = None, refused.user_message(current_lang()), 400
    district = features.layer_bounds(get_session(), "communes", current_user.role)
    page_map = build_map(height="560px", fit_bounds=district, as_of=on)
    with_history = [layer.text(layer.title, current_lang())
                    for layer in all_layers().values() if layer.as_of_source]
    return render_template("officials/map.html", map=page_map, on=on, error=error,
                           today=today_in_vietnam(), with_history=with_history), status
