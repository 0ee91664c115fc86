"""The service as `make run` serves it: gunicorn with gunicorn.conf.py (two workers), no
SECRET_KEY, over real sockets. A Flask test client is one process and cannot see what
breaks between workers (a per-process secret key signed officials out at random)."""
from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.config import PROJECT_ROOT
from gis_app.services.accounts import create_user
from tests.factories import forget_user

PASSWORD = "a long enough password"
OFFICIAL_PAGES = ("/account", "/officials/targets", "/officials/priorities",
                  "/officials/conditions", "/officials/artifacts/")
# A new connection per request: keep-alive would pin a client to one worker.
CLOSE = {"Connection": "close"}


class Server:
    """gunicorn started the way the Makefile's `run` target starts it."""

    def __init__(self, database_url: str, var: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
        # Unbuffered: the access log (which worker answered) is read as it is written.
        self.env.update(PYTHONUNBUFFERED="1", DATABASE_URL=database_url,
                        GIS_SECRET_KEY_FILE=str(var / "secret_key"),
                        GIS_MEDIA_DIR=str(var / "media"), GIS_UPLOAD_DIR=str(var / "uploads"))
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = []
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
             "wsgi:app"], cwd=PROJECT_ROOT, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read_log, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn stopped:\n" + "".join(self.log)
            try:
                if requests.get(f"{self.url}/robots.txt", headers=CLOSE, timeout=30).ok \
                        and len(self.worker_pids_booted()) == 2:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError("gunicorn did not answer within 120 s:\n" + "".join(self.log))

    def _read_log(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.log.append(line)

    def worker_pids_booted(self) -> set[str]:
        return {m.group(1) for line in list(self.log)
                if (m := re.search(r"Booting worker with pid: (\d+)", line))}

    def pids_that_answered(self, path: str) -> set[str]:
        return {m.group(1) for line in list(self.log)
                if (m := re.search(r'<(\d+)> "\w+ ' + re.escape(path), line))}

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[Server]:
    server = Server(database_url, tmp_path / "var")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def official(database_url: str) -> Iterator[str]:
    engine = create_engine(database_url)
    username = f"served-{uuid.uuid4().hex[:8]}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer", display_name="Trần Văn Phục Vụ")
        s.commit()
    yield username
    with Session(engine) as s:
        forget_user(s, username)
        s.commit()
    engine.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(base: str, username: str) -> requests.Session:
    browser = requests.Session()
    login = browser.get(f"{base}/login", headers=CLOSE, timeout=30)
    answer = browser.post(f"{base}/login", headers=CLOSE, timeout=30, allow_redirects=False,
                          data={"username": username, "password": PASSWORD,
                                "csrf_token": csrf_of(login.text)})
    assert answer.status_code == 302 and answer.headers["Location"] == "/account", \
        f"sign-in refused ({answer.status_code})"
    return browser


def test_an_official_stays_signed_in_across_workers_and_restarts(served, official,
                                                                 database_url):
    for attempt in range(5):  # every sign-in holds, whichever worker answers which step
        sign_in(served.url, official)
    browser = sign_in(served.url, official)
    answers = []
    for i in range(50):
        path = OFFICIAL_PAGES[i % len(OFFICIAL_PAGES)]
        page = browser.get(f"{served.url}{path}", headers=CLOSE, timeout=60,
                           allow_redirects=False)
        answers.append((path, page.status_code, page.headers.get("Location")))
    assert [a for a in answers if a[1] != 200] == []
    assert len(served.pids_that_answered("/officials/")) == 2, \
        "both workers should have answered; the test proves nothing otherwise"

    # One key per installation: written once, private to its owner, kept on restart.
    key = Path(served.env["GIS_SECRET_KEY_FILE"])
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) >= 64
    first_key = key.read_text()
    served.stop()
    served.start()
    assert key.read_text() == first_key
    again = browser.get(f"{served.url}/officials/targets", headers=CLOSE, timeout=60,
                        allow_redirects=False)
    assert again.status_code == 200, "the session did not survive a restart"


def test_the_same_form_sent_twice_at_once_records_one_assessment(served, official,
                                                                 database_url):
    engine = create_engine(database_url)
    with Session(engine) as s:
        site = s.scalar(text("SELECT min(id) FROM sites"))
    count_sql = text("SELECT count(*) FROM condition_assessments WHERE site_id = :s")
    with Session(engine) as s:
        before = s.scalar(count_sql, {"s": site})
    browser = sign_in(served.url, official)
    form_page = browser.get(f"{served.url}/officials/conditions/sites/{site}", headers=CLOSE,
                            timeout=60).text
    token = re.search(r'name="form_token" value="([^"]+)"', form_page).group(1)
    data = {"csrf_token": csrf_of(form_page), "form_token": token, "assessed_on": "2025-11-20",
            "assessor_name": "Trần Văn Phục Vụ", "overall": "fair", "trend": "stable",
            "notes": "Gửi hai lần cùng lúc."}

    def send(_: int) -> int:
        return browser.post(f"{served.url}/officials/conditions/sites/{site}", data=data,
                            headers=CLOSE, timeout=60, allow_redirects=False).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(send, range(4)))
    assert all(status in (302, 303) for status in statuses), statuses
    with Session(engine) as s:
        assert s.scalar(count_sql, {"s": site}) == before + 1
    engine.dispose()
