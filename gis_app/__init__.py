"""Khoái Châu heritage map service."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from gis_app import assets, auth, cli, db, i18n, public_cache, vocab
from gis_app.clock import VIETNAM_TIME
from gis_app.config import PROJECT_ROOT, Config
from gis_app.numbers import format_number, format_pct


def create_app(config: Config | None = None) -> Flask:
    """Application factory: wires config, database, i18n, sign-in, blueprints and CLI."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                static_folder="static")
    app.config.from_mapping((config or Config.from_env()).to_flask())
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app,  # type: ignore[method-assign]
                                x_for=hops, x_proto=hops, x_host=hops)
    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    assets.init_app(app)

    from gis_app.api import explore as api_explore
    from gis_app.api import layers as api_layers
    from gis_app.api import openapi, search, tiles, zone_check
    from gis_app.ogc import views as ogc_views
    from gis_app.web import (
        admin,
        artifacts,
        editor,
        errors,
        form_safety,
        history,
        ids,
        imports,
        job_worker,
        kinds,
        limits,
        media,
        officials,
        officials_map,
        opendata,
        planning,
        planning_reports,
        public,
        records,
        security,
        site_media,
        zones,
    )
    from gis_app.web import auth as web_auth
    from gis_app.web import conditions as web_conditions

    errors.init_app(app)
    public_cache.init_app(app)
    form_safety.init_app(app)
    job_worker.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(ids.bp)
    app.register_blueprint(media.bp)
    app.register_blueprint(web_auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(web_conditions.bp)
    app.register_blueprint(officials.bp)
    app.register_blueprint(officials_map.bp)
    app.register_blueprint(artifacts.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(editor.bp)
    app.register_blueprint(site_media.bp)
    app.register_blueprint(zones.bp)
    app.register_blueprint(kinds.bp)
    app.register_blueprint(planning.bp)
    app.register_blueprint(planning_reports.bp)
    app.register_blueprint(api_layers.bp)
    app.register_blueprint(zone_check.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(api_explore.bp)
    app.register_blueprint(tiles.bp)
    app.register_blueprint(opendata.bp)
    app.register_blueprint(ogc_views.bp)
    limits.init_app(app)  # after every view is registered
    security.init_app(app)  # last: its after_request runs first
    cli.init_app(app)
    _template_helpers(app)
    _preset_lookup()
    return app


def _preset_lookup() -> None:
    """The importer finds the presets saved from the web beside its file presets."""
    from gis_app.importers import mapping
    from gis_app.services import presets

    mapping.PRESET_LOOKUPS[:] = [presets.lookup_preset(db.session_if_any)]


def _template_helpers(app: Flask) -> None:
    @app.template_global("vocab_label")
    def vocab_label(name: str, code: str | None) -> str:
        return vocab.label(name, code, i18n.current_lang())

    @app.template_filter("vocab")
    def vocab_filter(code: str, name: str) -> str:
        return vocab.label(name, code, i18n.current_lang())

    @app.template_filter("number")
    def number_filter(value: float | None, digits: int | None = None) -> str:
        """3503 -> "3.503" on Vietnamese pages, "3,503" on English ones."""
        return format_number(value, i18n.current_lang(), digits)

    @app.template_filter("pct")
    def pct_filter(value: float | None, digits: int = 1) -> str:
        """83.33 -> "83,3 %" (vi), "83.3 %" (en)."""
        return format_pct(value, i18n.current_lang(), digits)

    @app.template_filter("date_short")
    def date_short(value: date | datetime | None) -> str:
        """dd/mm/yyyy; a timestamp is first put in Vietnam's time (its date there)."""
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(VIETNAM_TIME)
        return value.strftime("%d/%m/%Y") if value else ""
