"""Settings, read from the environment; every default lives here."""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = PROJECT_ROOT / "var" / "secret_key"

log = logging.getLogger(__name__)


def private_cluster_url(database: str = "heritage") -> str:
    """URL of a database on the private cluster that `scripts/devdb.sh` runs under var/
    (its port is chosen when the cluster is created and kept in var/pg.port)."""
    port_file = PROJECT_ROOT / "var" / "pg.port"
    port = port_file.read_text().strip() if port_file.exists() else \
        os.environ.get("GIS_PG_PORT", "54329")
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"


@dataclass
class Config:
    """Application settings. `Config.from_env()` reads them; tests build their own."""

    DATABASE_URL: str = field(default_factory=private_cluster_url)
    # A streaming standby of DATABASE_URL for the public's anonymous reads (gis_app/db.py);
    # None: everything uses DATABASE_URL.
    READ_DATABASE_URL: str | None = None
    SECRET_KEY: str = ""
    # Raster basemap (e.g. OpenStreetMap). None: the basemap the app draws itself from
    # the demo data (communes, rivers, roads), usable on a closed intranet.
    TILE_URL: str | None = None
    TILE_ATTRIBUTION: str = ""
    # Map start view: Khoái Châu.
    MAP_CENTER: tuple[float, float] = (20.835, 105.955)
    MAP_ZOOM: int = 12
    GEOJSON_MAX_LIMIT: int = 10000
    BABEL_DEFAULT_LOCALE: str = "vi"
    LANGUAGES: tuple[str, ...] = ("vi", "en")
    SESSION_COOKIE_SECURE: bool = False
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    REMEMBER_COOKIE_HTTPONLY: bool = True
    WTF_CSRF_ENABLED: bool = True
    TESTING: bool = False
    # Survey uploads: the largest request accepted (bytes) and where an upload waits
    # between its preview and the official's confirmation.
    MAX_CONTENT_LENGTH: int = 200 * 1024 * 1024
    UPLOAD_DIR: str = str(PROJECT_ROOT / "var" / "uploads")
    # Photos and other media of digital records and condition assessments.
    MEDIA_DIR: str = str(PROJECT_ROOT / "var" / "media")
    # Rendered zone-check report PDFs, by the hash of their HTML (gis_app/web/pdf.py).
    PDF_CACHE_DIR: str = str(PROJECT_ROOT / "var" / "cache" / "pdf")
    # Rendered vector tiles, by layer, data version and z/x/y (services/tiles.py), shared
    # by the workers; a tile older than TILE_CACHE_SECONDS is rendered again. "" turns
    # the cache off.
    TILE_CACHE_DIR: str = str(PROJECT_ROOT / "var" / "cache" / "tiles")
    TILE_CACHE_SECONDS: int = 600
    # Prepared open-data downloads, by data version (gis_app/services/downloads.py).
    DOWNLOAD_CACHE_DIR: str = str(PROJECT_ROOT / "var" / "cache" / "downloads")
    # The licence and attribution of the published data (catalogue, downloads, DCAT-AP).
    DATA_LICENCE: str = "CC BY 4.0"
    DATA_LICENCE_URL: str = "https://creativecommons.org/licenses/by/4.0/"
    DATA_ATTRIBUTION: str = "Phòng Văn hóa – Thông tin huyện Khoái Châu"
    # The longest the public map's cached answers (home page data, filter counts; see
    # gis_app/public_cache.py) are kept, in seconds, even while the data version holds.
    PUBLIC_CACHE_SECONDS: float = 300.0
    # Reverse proxies in front of the app (nginx: 1) whose X-Forwarded-For/-Proto are
    # trusted, so sign-in records and throttling see the client's address, not nginx's.
    PROXY_HOPS: int = 0
    # Abuse limits per client (gis_app/web/limits.py); GIS_RATE_LIMITS=0 turns them off.
    RATELIMIT_ENABLED: bool = True
    # Background jobs (services/jobs.py): whether this process runs a worker thread
    # (None: yes, except under TESTING, where tests run jobs themselves), and from what
    # size a survey file's preview and import run as a job instead of in the request.
    JOBS_WORKER: bool | None = None
    IMPORT_JOB_FEATURES: int = 2000
    IMPORT_JOB_BYTES: int = 5 * 1024 * 1024

    @classmethod
    def from_env(cls) -> Config:
        """Read `DATABASE_URL`, `SECRET_KEY`, `TILE_URL` and `GIS_*` variables.

        Without `SECRET_KEY` the installation's own key is used: generated once into
        `GIS_SECRET_KEY_FILE` (default var/secret_key, mode 0600) and read on every start,
        so every worker and every restart signs sessions with the same key.
        """
        cfg = cls()
        env = os.environ
        if env.get("DATABASE_URL"):
            cfg.DATABASE_URL = env["DATABASE_URL"]
        cfg.READ_DATABASE_URL = env.get("GIS_READ_DATABASE_URL") or None
        cfg.SECRET_KEY = env.get("SECRET_KEY") or installation_secret(
            Path(env.get("GIS_SECRET_KEY_FILE") or SECRET_KEY_FILE))
        cfg.TILE_URL = env.get("TILE_URL") or None
        cfg.TILE_ATTRIBUTION = env.get("TILE_ATTRIBUTION", cfg.TILE_ATTRIBUTION)
        cfg.SESSION_COOKIE_SECURE = env.get("GIS_SECURE_COOKIES", "0") == "1"
        if env.get("GIS_UPLOAD_MAX_MB"):
            cfg.MAX_CONTENT_LENGTH = int(env["GIS_UPLOAD_MAX_MB"]) * 1024 * 1024
        cfg.UPLOAD_DIR = env.get("GIS_UPLOAD_DIR", cfg.UPLOAD_DIR)
        cfg.MEDIA_DIR = env.get("GIS_MEDIA_DIR", cfg.MEDIA_DIR)
        cfg.PDF_CACHE_DIR = env.get("GIS_PDF_CACHE_DIR", cfg.PDF_CACHE_DIR)
        cfg.TILE_CACHE_DIR = env.get("GIS_TILE_CACHE_DIR", cfg.TILE_CACHE_DIR)
        if env.get("GIS_TILE_CACHE_SECONDS"):
            cfg.TILE_CACHE_SECONDS = int(env["GIS_TILE_CACHE_SECONDS"])
        cfg.DOWNLOAD_CACHE_DIR = env.get("GIS_DOWNLOAD_CACHE_DIR", cfg.DOWNLOAD_CACHE_DIR)
        cfg.DATA_LICENCE = env.get("GIS_DATA_LICENCE", cfg.DATA_LICENCE)
        cfg.DATA_LICENCE_URL = env.get("GIS_DATA_LICENCE_URL", cfg.DATA_LICENCE_URL)
        cfg.DATA_ATTRIBUTION = env.get("GIS_DATA_ATTRIBUTION", cfg.DATA_ATTRIBUTION)
        if env.get("GIS_PUBLIC_CACHE_SECONDS"):
            cfg.PUBLIC_CACHE_SECONDS = float(env["GIS_PUBLIC_CACHE_SECONDS"])
        cfg.PROXY_HOPS = int(env.get("GIS_PROXY_HOPS", "0") or 0)
        cfg.RATELIMIT_ENABLED = env.get("GIS_RATE_LIMITS", "1") != "0"
        if env.get("GIS_JOBS_WORKER"):
            cfg.JOBS_WORKER = env["GIS_JOBS_WORKER"] != "0"
        if env.get("GIS_IMPORT_JOB_FEATURES"):
            cfg.IMPORT_JOB_FEATURES = int(env["GIS_IMPORT_JOB_FEATURES"])
        if env.get("GIS_IMPORT_JOB_MB"):
            cfg.IMPORT_JOB_BYTES = int(float(env["GIS_IMPORT_JOB_MB"]) * 1024 * 1024)
        return cfg

    def to_flask(self) -> dict[str, object]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if not values["SECRET_KEY"]:
            # Only a Config built by hand without a key gets here (from_env always has
            # one): a per-process key, fine for one process, wrong for several workers.
            values["SECRET_KEY"] = secrets.token_hex(32)
        values["REMEMBER_COOKIE_SECURE"] = values["SESSION_COOKIE_SECURE"]
        return values


def installation_secret(path: Path) -> str:
    """The key stored at `path`, created there (mode 0600) on first use.

    Several gunicorn workers start at once: the key is written to a private temporary
    file and linked into place, so exactly one key wins and every worker reads that one.
    Raises RuntimeError with what to do when the file cannot be read or written.
    """
    try:
        existing = path.read_text().strip()
        if existing:
            return existing
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise RuntimeError(f"Cannot read the session key {path}: {exc}. Set SECRET_KEY or "
                           f"fix the file's permissions.") from exc
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)  # fails if another worker linked its key first
            log.info("created the installation's session key in %s", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return path.read_text().strip()
    except OSError as exc:
        raise RuntimeError(f"Cannot create the session key {path}: {exc}. Set SECRET_KEY or "
                           f"make {path.parent} writable.") from exc
