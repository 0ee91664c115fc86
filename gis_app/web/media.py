"""`/media/<name>`: photos and other media files under MEDIA_DIR, each served only to
those who may see the record that names it (see services.media)."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, send_from_directory
from flask_login import current_user

from gis_app.db import get_session
from gis_app.errors import RecordNotFound
from gis_app.services import media

bp = Blueprint("media", __name__)

# Public media may sit in shared caches for a day (a record unpublished later drops out
# within that time); officials' media stay in their own browser and revalidate.
PUBLIC_MAX_AGE = 24 * 3600


@bp.get("/media/<path:name>")
def file(name: str) -> Response:
    db = get_session()
    user = current_user if current_user.is_authenticated else None
    access = media.media_access(db, name, user)
    if access is None:
        raise RecordNotFound(f"No published media file is called {name}",
                             f"Không có tệp đa phương tiện nào được công bố tên {name}")
    public = access == "public"
    # send_from_directory refuses paths outside MEDIA_DIR and missing files with a 404;
    # max_age=None leaves `no-cache` (revalidate with the ETag every time).
    response = send_from_directory(current_app.config["MEDIA_DIR"], name,
                                   max_age=PUBLIC_MAX_AGE if public else None)
    if not public:
        response.cache_control.private = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A file is shown, never run: an SVG or HTML file cannot script the site.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
