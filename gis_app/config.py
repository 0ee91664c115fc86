"""Settings, read from the environment; every default lives here."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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

    @classmethod
    def from_env(cls) -> Config:
        """Read `DATABASE_URL`, `SECRET_KEY`, `TILE_URL` and `GIS_*` variables."""
        cfg = cls()
        env = os.environ
        if env.get("DATABASE_URL"):
            cfg.DATABASE_URL = env["DATABASE_URL"]
        cfg.SECRET_KEY = env.get("SECRET_KEY", "")
        cfg.TILE_URL = env.get("TILE_URL") or None
        cfg.TILE_ATTRIBUTION = env.get("TILE_ATTRIBUTION", cfg.TILE_ATTRIBUTION)
        cfg.SESSION_COOKIE_SECURE = env.get("GIS_SECURE_COOKIES", "0") == "1"
        if env.get("GIS_UPLOAD_MAX_MB"):
            cfg.MAX_CONTENT_LENGTH = int(env["GIS_UPLOAD_MAX_MB"]) * 1024 * 1024
        cfg.UPLOAD_DIR = env.get("GIS_UPLOAD_DIR", cfg.UPLOAD_DIR)
        cfg.MEDIA_DIR = env.get("GIS_MEDIA_DIR", cfg.MEDIA_DIR)
        return cfg

    def to_flask(self) -> dict[str, object]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        if not values["SECRET_KEY"]:
            # A per-process key keeps a dev server safe; production sets SECRET_KEY
            # (sessions would not survive a restart or span several workers).
            values["SECRET_KEY"] = secrets.token_hex(32)
        values["REMEMBER_COOKIE_SECURE"] = values["SESSION_COOKIE_SECURE"]
        return values
