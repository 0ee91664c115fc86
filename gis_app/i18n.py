"""Language choice: `?lang=`, then the `lang` cookie, then Accept-Language; Vietnamese
by default. Flask-Babel does the catalogue work (gis_app/translations/)."""
from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_babel import Babel, get_locale


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in languages:
        return cookie
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"]


def current_lang() -> str:
    """'vi' or 'en' for the current request."""
    if "lang" not in g:
        g.lang = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return g.lang


def remember_choice(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked in current_app.config["LANGUAGES"] and request.cookies.get("lang") != asked:
        response.set_cookie("lang", asked, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=select_locale)
    app.after_request(remember_choice)

    @app.context_processor
    def inject_lang() -> dict[str, object]:
        return {"lang": current_lang(), "other_lang": "en" if current_lang() == "vi" else "vi"}
