"""Every page works under the Content Security Policy (no inline script without the
page's nonce): the public map, a relic page, planning, the festival calendar and the
officials' pages with maps, in a real Chromium, with no CSP violation logged; and an
injected script without the nonce does not run."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests.conftest import sign_in
from tests.factories import forget_user

pytestmark = pytest.mark.browser
PASSWORD = "mat-khau-csp-thu-nghiem"
DEMO_RELIC_NAME = "Đền Đa Hòa"


def _violations(errors: list[str]) -> list[str]:
    return [e for e in errors if "Content Security Policy" in e]


def test_pages_work_under_the_csp(page, page_watch, live_server, database_url):
    engine = create_engine(database_url)
    username = f"csp-reviewer-{os.getpid()}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer")
        relic = s.scalar(text("SELECT heritage_id FROM sites WHERE name_vi = :n"),
                         {"n": DEMO_RELIC_NAME})
        s.commit()
    try:
        response = page.goto(live_server + "/")
        csp = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        page.wait_for_function("() => window.HeritageMap && HeritageMap.layers", timeout=30000)

        page.goto(f"{live_server}/sites/{relic}")
        page.wait_for_selector(".leaflet-container")
        page.goto(live_server + "/planning")
        page.wait_for_selector(".leaflet-container")
        page.goto(live_server + "/festivals")

        sign_in(page, live_server, username, PASSWORD)
        for path in ("/officials/targets", "/officials/conditions/map",
                     f"/officials/relics/{relic}/zones", f"/officials/relics/{relic}/edit",
                     f"/officials/records/{relic}/history", "/officials/imports"):
            answer = page.goto(live_server + path)
            assert answer.status == 200, path
            if page.locator(".folium-map").count():
                page.wait_for_selector(".leaflet-container .leaflet-pane", state="attached",
                                       timeout=30000)
        assert _violations(page_watch.console_errors) == []
        assert page_watch.off_host == []

        # A script without the nonce (what an injection would add) is refused.
        page.goto(live_server + "/")
        page.evaluate("""() => { const s = document.createElement('script');
            s.textContent = 'window.__injected = true;'; document.body.appendChild(s); }""")
        assert page.evaluate("() => window.__injected === true") is False
        assert _violations(page_watch.console_errors)
    finally:
        with Session(engine) as s:
            forget_user(s, username)
            s.commit()
        engine.dispose()


def test_json_and_xml_answers_open_without_console_errors(page, page_watch, live_server):
    """JSON and XML answers open in the browser with nothing logged; and /favicon.ico,
    which Chromium asks for when it shows a document that cannot declare an icon (a
    PDF, seen as a console 404 while opening the annual report), is a 204."""
    for path in ("/ogc/collections?f=json", "/sitemap.xml", "/api/layers"):
        answer = page.goto(live_server + path)
        assert answer.status == 200, path
        page.wait_for_load_state("networkidle")
    assert page_watch.console_errors == []
    assert page_watch.failed == []
    icon = page.request.get(live_server + "/favicon.ico")
    assert icon.status == 204 and icon.body() == b""
