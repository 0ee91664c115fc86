"""Fixtures: a real PostGIS (the private cluster under var/), migrated once per session
with the demo data committed; each test runs in a transaction rolled back after it.
Pages are tested in Debian's Chromium driven by Playwright."""
from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from gis_app import create_app
from gis_app.config import PROJECT_ROOT, Config, private_cluster_url
from gis_app.db import EXT
from gis_app.services import demo, migrations

CHROMIUM = os.environ.get("GIS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"


def fresh_database(name: str) -> str:
    """Drop and create `name` on the private cluster (started if needed); its URL.

    With TEST_DATABASE_URL set, that database is used as it is instead; with
    GIS_TEST_DB set, that name replaces heritage_test (two checkouts or sessions side by
    side each get their own database on the cluster).
    """
    if name == "heritage_test" and os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"]
    if name == "heritage_test":
        name = os.environ.get("GIS_TEST_DB", name)
    done = subprocess.run([str(PROJECT_ROOT / "scripts" / "devdb.sh"), "recreate", name],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.exit("Cannot start the test PostGIS:\n" + done.stderr + done.stdout, returncode=3)
    return private_cluster_url(name)


@pytest.fixture(scope="session")
def database_url() -> str:
    url = fresh_database("heritage_test")
    migrations.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        demo.load_demo(session)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    yield eng
    eng.dispose()


def test_config(database_url: str) -> Config:
    # Rate limits off: one test client is one address making hundreds of requests;
    # tests/test_limits.py turns them on.
    return Config(DATABASE_URL=database_url, SECRET_KEY="test-secret", TESTING=True,
                  RATELIMIT_ENABLED=False)


@pytest.fixture(scope="session")
def app(database_url: str):
    return create_app(test_config(database_url))


@pytest.fixture
def connection(app, engine: Engine):
    """A connection in a transaction that is rolled back after the test; the app's
    sessions join it through savepoints."""
    conn = engine.connect()
    trans = conn.begin()
    database = app.extensions[EXT]
    database.bind = conn
    yield conn
    database.bind = database.engine
    trans.rollback()
    conn.close()


@pytest.fixture
def db(connection) -> Iterator[Session]:
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()


@pytest.fixture
def evening_in_utc() -> Iterator[datetime]:
    """The clock pinned at 23:30 UTC today (the database's current_date stays today):
    already tomorrow in Vietnam, where "today" must come from gis_app.clock."""
    pinned = datetime.now(UTC).replace(hour=23, minute=30, second=0, microsecond=0)
    with time_machine.travel(pinned):
        yield pinned


@pytest.fixture
def client(app, connection):
    return app.test_client()


@pytest.fixture
def media(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary MEDIA_DIR (not created yet) for one test; the app is session-wide."""
    folder = tmp_path / "media"
    monkeypatch.setitem(app.config, "MEDIA_DIR", str(folder))
    return folder


@pytest.fixture
def runner(app, connection):
    return app.test_cli_runner()


class AuthActions:
    """Sign in through the real form, CSRF token included."""

    def __init__(self, client) -> None:
        self.client = client

    def csrf(self, path: str = "/login") -> str:
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
            re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, "no CSRF token on " + path
        return match.group(1)

    def login(self, username: str, password: str):
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": self.csrf()})


def sign_in(page, base_url: str, username: str, password: str) -> None:
    """Sign in through the real form in the browser (Vietnamese page)."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/account")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


# --- live server and browser -------------------------------------------------------

@contextmanager
def served(config: Config) -> Iterator[str]:
    """An app made from `config` served on 127.0.0.1 (a free port) in a thread: its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[str]:
    """The app on 127.0.0.1 (a free port) against the committed test database."""
    with served(test_config(database_url)) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.exit(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                    "fonts-noto-core (or run `make test`, which installs it)", returncode=3)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageWatch:
    """What a page did that a user would notice or a closed intranet would block."""

    def __init__(self) -> None:
        self.off_host: list[str] = []
        self.console_errors: list[str] = []
        self.failed: list[str] = []


@pytest.fixture
def page_watch() -> PageWatch:
    return PageWatch()


def _watch(page, watch: PageWatch) -> None:
    def on_request(request) -> None:
        url = request.url
        if not (url.startswith("http://127.0.0.1:") or url.startswith("data:")
                or url.startswith("about:")):
            watch.off_host.append(url)

    page.on("request", on_request)
    page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
    page.on("pageerror", lambda e: watch.console_errors.append(str(e)))
    # The map aborts its own superseded loads when the view moves on: not a failure.
    page.on("requestfailed", lambda r: r.failure != "net::ERR_ABORTED"
            and watch.failed.append(f"{r.url}: {r.failure}"))
    # Belt and braces: nothing leaves the machine even if a page tries.
    page.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())


@pytest.fixture
def page(browser, page_watch: PageWatch, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    pg = context.new_page()
    _watch(pg, page_watch)
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    except Exception:  # noqa: BLE001 - a screenshot is for review only
        pass
    context.close()


@pytest.fixture
def phone_page(browser, page_watch: PageWatch, request):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, locale="vi-VN")
    pg = context.new_page()
    _watch(pg, page_watch)
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def site_row(db: Session, heritage_id: str) -> dict:
    return dict(db.execute(text("SELECT * FROM sites WHERE heritage_id = :h"),
                           {"h": heritage_id}).mappings().one())
