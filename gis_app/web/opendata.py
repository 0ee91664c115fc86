"""`/data`: the open-data catalogue, its DCAT-AP description, the data dictionaries and
the downloads of every public layer (services/downloads.py). One endpoint per kind of
answer: adding a layer in `layers/` adds its downloads here without a line of code."""
from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)

from gis_app.db import database, get_session, public_read
from gis_app.i18n import current_lang
from gis_app.numbers import format_number
from gis_app.services import data_version, downloads
from gis_app.services.features import find_layer

bp = Blueprint("opendata", __name__, url_prefix="/data")
CACHE_SECONDS = 300  # a download may be up to this old in a browser or proxy


def _cache_dir() -> Path:
    return Path(current_app.config["DOWNLOAD_CACHE_DIR"])


def _licence() -> dict[str, str]:
    return {"licence": current_app.config["DATA_LICENCE"],
            "licence_url": current_app.config["DATA_LICENCE_URL"],
            "attribution": current_app.config["DATA_ATTRIBUTION"]}


def file_size(size: int | None) -> str:
    """12345678 -> "11,8 MB" (vi) / "11.8 MB" (en); "" while not prepared yet."""
    if size is None:
        return ""
    lang = current_lang()
    for unit, factor in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= factor:
            return f"{format_number(size / factor, lang, 1)} {unit}"
    return f"{format_number(size, lang)} B"


def _catalogue() -> downloads.Catalogue:
    return downloads.catalogue(get_session(), _cache_dir(), **_licence())


@bp.get("")
def index() -> str:
    cat = _catalogue()
    return render_template("opendata/catalogue.html", cat=cat, formats=downloads.FORMATS,
                           crs_names=downloads.CRS_NAMES, file_size=file_size)


@bp.get("/catalog.jsonld")
def catalog_jsonld() -> Response:
    cat = _catalogue()
    base = url_for(".index", _external=True)
    body = downloads.dcat_catalog(cat, base, request.url_root.rstrip("/") + "/ogc/")
    response = jsonify(body)
    response.mimetype = "application/ld+json"
    return response


@bp.get("/<name>/dictionary")
def dictionary(name: str) -> str:
    layer = find_layer(name)
    return render_template("opendata/dictionary.html", layer=layer,
                           dictionary=downloads.data_dictionary(get_session(), layer))


@bp.get("/<name>/dictionary.json")
def dictionary_json(name: str) -> Response:
    return jsonify(downloads.data_dictionary(get_session(), find_layer(name)))


@bp.get("/<filename>")
def download(filename: str) -> Response:
    wanted = downloads.read_download(filename, request.args.get("crs"))
    session = get_session()
    etag = f"{data_version.stamp_key(session)}-{wanted.cache_name}"
    gzip_ok = request.accept_encodings["gzip"] > 0
    for tag in (etag + ":gzip", etag) if gzip_ok else (etag,):
        if request.if_none_match.contains(tag):  # unchanged: nothing to prepare or send
            response = Response(status=304)
            response.set_etag(tag)
            response.headers["Vary"] = "Accept-Encoding"
            return _with_links(response, wanted)
    # Preparing is the server's work, done once for every later visitor: its own
    # session, not bounded like a visitor's queries (a 100k-feature layer reads longer).
    with database().session(read_only=public_read()) as build_session:
        prepared = downloads.prepare(build_session, _cache_dir(), wanted, **_licence())
    etag = f"{prepared.key}-{wanted.cache_name}"
    packed = prepared.gzip_path if gzip_ok else None
    response = send_file(packed or prepared.path, mimetype=wanted.media_type,
                         as_attachment=True, download_name=wanted.download_name,
                         etag=etag + ":gzip" if packed else etag, conditional=True,
                         max_age=CACHE_SECONDS)
    if packed and response.status_code in (200, 206):
        # Prepared once with the file: Flask-Compress leaves an encoded body alone.
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    return _with_links(response, wanted)


def _with_links(response: Response, wanted: downloads.Download) -> Response:
    """The licence and the data dictionary, for formats with no room for them (CSV)."""
    links = [f'<{current_app.config["DATA_LICENCE_URL"]}>; rel="license"']
    if wanted.layer:
        links.append(f'<{url_for(".dictionary_json", name=wanted.layer)}>; rel="describedby"')
    response.headers["Link"] = ", ".join(links)
    return response
