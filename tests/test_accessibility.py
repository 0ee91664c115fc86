"""WCAG 2.1 AA on the main public pages, checked by axe-core in Debian's Chromium, in
Vietnamese and English, on a desktop and on a phone."""
from __future__ import annotations

import re

import pytest

from gis_app.config import PROJECT_ROOT
from tests.conftest import sign_in

pytestmark = pytest.mark.browser

AXE = PROJECT_ROOT / "tests" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGES = ["/", "/sites", "/sites/VN-HY-DT-000001", "/festivals", "/planning", "/login"]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}


def describe(violations: list[dict]) -> str:
    """One block per violated rule: id, impact, help, and each offending node."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def _inject_axe(page) -> None:
    """axe-core into the page through DevTools: a <script> tag would be refused by the
    page's Content Security Policy (no nonce), as it should be."""
    page.evaluate(AXE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_wcag_aa_violations(browser, live_server, path, lang, viewport):
    context = browser.new_context(locale="vi-VN" if lang == "vi" else "en-GB",
                                  **VIEWPORTS[viewport])
    try:
        page = context.new_page()
        off_host: list[str] = []
        page.on("request", lambda r: r.url.startswith(live_server) or r.url.startswith("data:")
                or off_host.append(r.url))
        page.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
        page.goto(f"{live_server}{path}?lang={lang}", wait_until="networkidle")
        assert page.locator("html").get_attribute("lang") == lang
        if path in ("/", "/planning") or path.startswith("/sites/"):
            # Judge the map as a visitor sees it: drawn, with its controls.
            page.locator(".leaflet-control-zoom").wait_for(timeout=15000)
        _inject_axe(page)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
        violations = results["violations"]
        assert violations == [], (f"{path}?lang={lang} on a {viewport}:\n"
                                  + describe(violations))
        assert off_host == []
    finally:
        context.close()


OFFICIAL_PAGES = ["/officials/targets", "/officials/targets/c", "/officials/priorities",
                  "/officials/report", "/officials/artifacts/", "/officials/relic-media/",
                  "/officials/conditions", "/officials/conditions/compare",
                  "/officials/conditions/map", "/officials/imports"]


@pytest.fixture(scope="module")
def official_context(browser, live_server, database_url):
    """A desktop browser signed in as a district reviewer of the live server's committed
    database (the account is removed afterwards)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from gis_app.services.accounts import create_user

    engine = create_engine(database_url)
    username, password = "axe-official", "mat-khau-thu-nghiem-1"
    with Session(engine) as s:
        create_user(s, username, password, "district_reviewer")
        s.commit()
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
    context = browser.new_context(locale="vi-VN", **VIEWPORTS["desktop"])
    page = context.new_page()
    sign_in(page, live_server, username, password)
    page.close()
    yield context
    context.close()
    with Session(engine) as s:
        s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
        s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
        s.commit()
    engine.dispose()


@pytest.mark.parametrize("path", OFFICIAL_PAGES)
def test_officials_pages_have_no_wcag_aa_violations(official_context, live_server, path):
    page = official_context.new_page()
    try:
        page.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
        page.goto(f"{live_server}{path}", wait_until="networkidle")
        assert "/login" not in page.url
        if path.endswith("/map"):
            page.locator(".leaflet-control-zoom").wait_for(timeout=15000)
        _inject_axe(page)
        results = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
        assert results["violations"] == [], f"{path}:\n" + describe(results["violations"])
    finally:
        page.close()
