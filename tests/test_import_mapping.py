"""The web import's mapping step, presets saved from it, and the background jobs that run
large previews and imports: a survey file whose columns have unrelated names and whose
values are the survey's own words gets into the register through the pages alone."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app.db import database
from gis_app.errors import InputError, RecordNotFound
from gis_app.importers import mapping
from gis_app.services import jobs
from gis_app.services.accounts import create_user
from gis_app.services.imports import undo_import
from tests import importflow as flow
from tests import surveyfiles as sf
from tests.conftest import served, sign_in
from tests.conftest import test_config as app_config

PASSWORD = "a long enough password"
LIST = flow.LIST
PRESET = "Khảo sát Khoái Châu 2026"

SURVEY = [
    {"TEN_GOI": "Đình Hạ Lôi", "PHAN_LOAI": "Tín ngưỡng làng", "XEP_HANG": "Đề nghị xếp hạng"},
    {"TEN_GOI": "Chùa Nôm", "PHAN_LOAI": "Kiến trúc nghệ thuật", "XEP_HANG": "Đề nghị xếp hạng"},
    {"TEN_GOI": "Đền Ba Lăng", "PHAN_LOAI": "Tín ngưỡng làng",
     "XEP_HANG": "Di tích cấp tỉnh"},
]


def survey_zip(folder: Path, records: list[dict], name: str = "khao_sat.zip") -> Path:
    """Relics as points in VN-2000 TM-3 (with .prj), 100 m apart, zipped."""
    x, y = sf.REF_TM3
    points = [sf.point(x + 100 * i, y) for i in range(len(records))]
    shp = sf.write_shapefile(folder / name.removesuffix(".zip"), "di_tich", records, points)
    return sf.zip_files(folder / name, sf.shapefile_parts(shp))


def site(db: Session, name: str) -> tuple[list[str], str | None] | None:
    row = db.execute(text("SELECT types, rank FROM sites WHERE name_vi = :n"),
                     {"n": name}).first()
    return (list(row.types), row.rank) if row else None


def value_choice(html: str, field: str, source: str, code: str) -> dict[str, str]:
    """The form change that maps `source` (a value in the table of `field`) to `code`."""
    fields = flow.form_fields(html, flow.MAPPING)
    key = next(k for k, v in fields.items() if k.startswith(f"vsrc-{field}-") and v == source)
    return {"vcode-" + key[len("vsrc-"):]: code}


COLUMNS = {"col-name_vi": "TEN_GOI", "col-types": "PHAN_LOAI", "col-rank": "XEP_HANG"}


@pytest.fixture
def uploads(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture
def reviewer(client, db: Session, auth) -> str:
    create_user(db, "thamdinh", PASSWORD, "district_reviewer")
    assert auth.login("thamdinh", PASSWORD).status_code == 302
    return "thamdinh"


def mapped_by_hand(client, tmp_path: Path, records: list[dict] = SURVEY,
                   name: str = "khao_sat.zip") -> str:
    """Upload with no preset, choose the columns: the mapping page with value tables."""
    response = flow.post_upload(client, survey_zip(tmp_path, records, name), layer="sites",
                                preset="")
    assert response.status_code == 302 and response.headers["Location"].endswith("/mapping")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    response = flow.post_mapping(client, html, COLUMNS, action="refresh")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- the mapping step -------------------------------------------------------------------

def test_columns_with_unrelated_names_are_mapped_by_hand_and_imported(client, db, reviewer,
                                                                      uploads, tmp_path):
    response = flow.post_upload(client, survey_zip(tmp_path, SURVEY), layer="sites", preset="")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # Each field lists the file's columns with sample values; nothing guessed for the name.
    options = flow.select_options(html, "col-name_vi")
    assert "TEN_GOI — Đình Hạ Lôi, Chùa Nôm, Đền Ba Lăng" in options
    assert "(tệp không có)" in options
    assert flow.form_fields(html, flow.MAPPING)["col-name_vi"] == ""
    assert re.search(r'Tên di tích <abbr title="bắt buộc"', html)

    # Checking without the required name says which field is missing.
    response = flow.post_mapping(client, html)
    assert response.status_code == 400
    assert "Hãy chọn cột cho mọi trường bắt buộc: Tên di tích." in response.get_data(
        as_text=True)

    html = flow.post_mapping(client, html, COLUMNS, action="refresh").get_data(as_text=True)
    # Each distinct value once, with its number of rows; unknown ones marked.
    assert len(re.findall(r"<td>Tín ngưỡng làng <strong>\(không rõ\)</strong></td>\s*"
                          r"<td>2</td>", html)) == 1
    assert re.search(r"<td>Đề nghị xếp hạng <strong>\(không rõ\)</strong></td>\s*<td>2</td>", html)
    assert "Có 2 giá trị chưa nhận ra" in html  # one type, one rank
    fields = flow.form_fields(html, flow.MAPPING)
    province = next(k for k, v in fields.items() if v == "Di tích cấp tỉnh")
    assert fields["vcode-" + province[len("vsrc-"):]] == "provincial"  # read as it is

    # Left unknown, the dry run refuses the rows that hold them; the file waits.
    response = flow.post_mapping(client, html)
    page = client.get(response.headers["Location"])
    refused = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "&#39;Tín ngưỡng làng&#39; không phải loại hình hợp lệ" in refused
    assert "Quay lại bước ghép cột" in refused and site(db, "Đình Hạ Lôi") is None

    choices = {**value_choice(html, "types", "Tín ngưỡng làng", "historical"),
               **value_choice(html, "types", "Kiến trúc nghệ thuật",
                              "architectural_artistic"),
               **value_choice(html, "rank", "Đề nghị xếp hạng", "inventoried")}
    response = flow.post_mapping(client, html, choices)
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'Sẽ thêm mới</dt>\s*<dd data-count="inserted">3</dd>', preview)
    # The table of rows to be written shows the converted values, in Vietnamese.
    assert re.search(r"<tr><td>1</td>.*?<td>Đình Hạ Lôi</td>.*?<td>Lịch sử</td>"
                     r"<td>Di tích trong danh mục kiểm kê</td>", preview)
    assert site(db, "Đình Hạ Lôi") is None  # still nothing written

    response = client.post(flow.form_action(preview, flow.CONFIRM),
                           data=flow.form_fields(preview, flow.CONFIRM))
    assert response.status_code == 302 and re.search(r"/imports/\d+$", response.headers["Location"])
    assert site(db, "Đình Hạ Lôi") == (["historical"], "inventoried")
    assert site(db, "Chùa Nôm") == (["architectural_artistic"], "inventoried")
    assert site(db, "Đền Ba Lăng") == (["historical"], "provincial")
    assert list(uploads.iterdir()) == []


def test_mapping_saved_as_a_preset_is_reused_on_the_next_file(app, client, db, reviewer,
                                                              uploads, tmp_path):
    html = mapped_by_hand(client, tmp_path)
    choices = {**value_choice(html, "types", "Tín ngưỡng làng", "historical"),
               **value_choice(html, "rank", "Đề nghị xếp hạng", "inventoried"),
               "preset_name": PRESET}
    response = flow.post_mapping(client, html, choices)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Đã lưu cách ghép cột thành mẫu ánh xạ “{PRESET}”." in page
    # A second preset of that name is refused, saying so; nothing else happens.
    response = flow.post_mapping(client, html, {"preset_name": PRESET})
    assert response.status_code == 400
    assert f"Đã có mẫu ánh xạ tên &#39;{PRESET}&#39;; hãy chọn tên khác." in \
        response.get_data(as_text=True)
    # The importer finds it as it finds the file presets (the CLI's --preset too).
    with app.test_request_context():
        preset = mapping.get_preset(PRESET, "sites")
    assert preset.fields["name_vi"] == ("TEN_GOI",)
    assert preset.values["rank"] == {"Đề nghị xếp hạng": "inventoried"}

    # The next survey file: the preset is offered on the upload form and fills everything.
    assert PRESET in client.get(LIST).get_data(as_text=True)
    second = [{"TEN_GOI": "Đình Đông Kết", "PHAN_LOAI": "Tín ngưỡng làng",
               "XEP_HANG": "Đề nghị xếp hạng"},
              {"TEN_GOI": "Miếu Tứ Dân", "PHAN_LOAI": "Tín ngưỡng làng",
               "XEP_HANG": "Đề nghị xếp hạng"}]
    response = flow.post_upload(client, survey_zip(tmp_path, second, "lan_hai.zip"),
                                layer="sites", preset=PRESET)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    fields = flow.form_fields(html, flow.MAPPING)
    assert {k: fields[k] for k in COLUMNS} == COLUMNS
    assert "không rõ" not in html  # every value already has its code
    preview = flow.upload_and_preview(client, survey_zip(tmp_path, second, "lan_ba.zip"),
                                      layer="sites", preset=PRESET)
    preview_html = preview.get_data(as_text=True)
    assert re.search(r'Sẽ thêm mới</dt>\s*<dd data-count="inserted">2</dd>', preview_html)
    client.post(flow.form_action(preview_html, flow.CONFIRM),
                data=flow.form_fields(preview_html, flow.CONFIRM))
    assert site(db, "Miếu Tứ Dân") == (["historical"], "inventoried")


def test_a_code_that_is_not_in_the_vocabulary_is_refused(client, db, reviewer, uploads,
                                                         tmp_path):
    html = mapped_by_hand(client, tmp_path)
    change = value_choice(html, "rank", "Đề nghị xếp hạng", "inventoried")
    response = flow.post_mapping(client, html, {k: "world_heritage" for k in change})
    assert response.status_code == 400
    assert "&#39;world_heritage&#39; không phải mã của Xếp hạng" in response.get_data(
        as_text=True)


# --- background jobs --------------------------------------------------------------------

def test_a_large_file_is_checked_and_imported_as_a_job_with_progress(
        app, client, db, auth, reviewer, uploads, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_JOB_FEATURES", 2)  # the survey has 3
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0.0)
    html = mapped_by_hand(client, tmp_path)
    choices = {**value_choice(html, "types", "Tín ngưỡng làng", "historical"),
               **value_choice(html, "types", "Kiến trúc nghệ thuật", "historical"),
               **value_choice(html, "rank", "Đề nghị xếp hạng", "inventoried")}
    job_page = flow.post_mapping(client, html, choices).headers["Location"]
    job_id = int(re.search(r"/jobs/(\d+)/page", job_page).group(1))
    page = client.get(job_page).get_data(as_text=True)
    assert "Đang kiểm tra tệp" in page and "Đang chờ bắt đầu…" in page
    assert '<progress id="job-progress" max="100" value="0">' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    status = client.get(f"{LIST}/jobs/{job_id}").get_json()
    assert status["status"] == "queued" and status["finished"] is False

    # Another official does not see it.
    create_user(db, "thamdinh2", PASSWORD, "district_reviewer")
    other = app.test_client()
    other.post("/login", data={"username": "thamdinh2", "password": PASSWORD,
                               "csrf_token": flow.csrf(other, "/login")})
    assert other.get(f"{LIST}/jobs/{job_id}").status_code == 404

    with app.app_context():
        done = jobs.work_once(database().session, heartbeat=False)
    assert done is not None and done.id == job_id and done.status == "done"
    status = client.get(f"{LIST}/jobs/{job_id}").get_json()
    assert (status["status"], status["percent"], status["finished"]) == ("done", 100, True)
    preview = client.get(job_page).get_data(as_text=True)
    assert re.search(r'Sẽ thêm mới</dt>\s*<dd data-count="inserted">3</dd>', preview)

    response = client.post(flow.form_action(preview, flow.CONFIRM),
                           data=flow.form_fields(preview, flow.CONFIRM))
    import_page = response.headers["Location"]
    assert "/jobs/" in import_page  # the real import is a job as well
    assert "Đang nhập tệp" in client.get(import_page).get_data(as_text=True)
    assert site(db, "Chùa Nôm") is None
    with app.app_context():
        jobs.work_once(database().session, heartbeat=False)
    # (Here the dry run's progress rows roll back with its savepoint: the test shares one
    # connection. The real import's stay; the browser test sees both.)
    status = client.get(import_page.removesuffix("/page")).get_json()
    assert (status["done"], status["total"], status["percent"]) == (3, 3, 100)
    response = client.get(import_page)
    assert response.status_code == 302 and re.search(r"/imports/\d+$",
                                                     response.headers["Location"])
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Lần nhập #\d+ đã xong: thêm 3", shown)
    assert site(db, "Chùa Nôm") == (["historical"], "inventoried")
    assert list(uploads.iterdir()) == []


def test_failures_are_recorded_with_their_message(db):
    @jobs.handler("test-refused")
    def refused(_db, payload, progress):
        progress(1, 2)
        raise InputError("The file is wrong.", "Tệp sai.")

    @jobs.handler("test-broken")
    def broken(_db, payload, progress):
        raise RuntimeError("a bug")

    try:
        first = jobs.enqueue(db, "test-refused", {}, None)
        second = jobs.enqueue(db, "test-broken", {}, None)
        db.commit()
        make = lambda: Session(bind=db.connection(), join_transaction_mode="create_savepoint")  # noqa: E731
        assert jobs.work_once(make, heartbeat=False).id == first
        assert jobs.work_once(make, heartbeat=False).id == second
        one, two = jobs.get_job(db, first), jobs.get_job(db, second)
        assert (one.status, one.error("vi"), one.error("en")) == ("failed", "Tệp sai.",
                                                                  "The file is wrong.")
        assert one.progress_done == 1 and one.finished_at is not None
        assert two.status == "failed"
        assert two.error("vi").startswith("Tác vụ dừng do lỗi ngoài dự kiến")
        assert jobs.work_once(make, heartbeat=False) is None  # nothing left
    finally:
        jobs.HANDLERS.pop("test-refused", None)
        jobs.HANDLERS.pop("test-broken", None)


def test_a_job_whose_worker_died_is_queued_again_then_failed(db):
    ids = [db.execute(text(
        "INSERT INTO jobs (kind, status, attempts, started_at, heartbeat) VALUES "
        "('import', 'running', :a, now() - interval '1 hour', now() - interval '1 hour') "
        "RETURNING id"), {"a": attempts}).scalar() for attempts in (1, 2)]
    fresh = db.execute(text("INSERT INTO jobs (kind, status, attempts, heartbeat) VALUES "
                            "('import', 'running', 1, now()) RETURNING id")).scalar()
    assert jobs.recover_stale(db) == (1, 1)
    again, dead, alive = (jobs.get_job(db, i) for i in (*ids, fresh))
    assert again.status == "queued"
    assert dead.status == "failed" and "Máy chủ đã dừng giữa chừng" in dead.error("vi")
    assert alive.status == "running"
    # Finished jobs are kept a month (their previews are large), then deleted.
    old = db.execute(text("INSERT INTO jobs (kind, status, finished_at) VALUES "
                          "('import', 'done', now() - interval '40 days') RETURNING id")).scalar()
    assert jobs.remove_old(db) == 1
    with pytest.raises(RecordNotFound):
        jobs.get_job(db, old)


def test_a_dead_job_of_another_kind_is_not_told_to_upload_a_file(db):
    job_id = db.execute(text(
        "INSERT INTO jobs (kind, status, attempts, started_at, heartbeat) VALUES "
        "('annual-report-pdf', 'running', 2, now() - interval '1 hour', "
        "now() - interval '1 hour') RETURNING id")).scalar()
    jobs.recover_stale(db)
    dead = jobs.get_job(db, job_id)
    assert dead.error("vi") == ("Máy chủ đã dừng giữa chừng khi xử lý tác vụ này (hai lần); "
                                "hãy làm lại.")
    assert dead.error("en") == ("The server stopped while working on this job (twice); "
                                "start it again.")


def test_two_workers_never_claim_the_same_job(engine):
    """Committed jobs, three connections claiming at once: SKIP LOCKED hands out each
    job once, and the third claimer gets none."""
    with engine.begin() as conn:
        ids = [conn.execute(text("INSERT INTO jobs (kind) VALUES ('test-claim') RETURNING id"))
               .scalar() for _ in range(2)]
    sessions = [Session(engine) for _ in range(3)]
    try:
        claimed = [jobs.claim(s) for s in sessions]  # each claim's transaction stays open
        assert sorted(j.id for j in claimed[:2]) == ids
        assert claimed[2] is None
        assert all(j.status == "running" and j.attempts == 1 for j in claimed[:2])
    finally:
        for s in sessions:
            s.rollback()
            s.close()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM jobs WHERE id = ANY(:ids)"), {"ids": ids})


# --- in a browser ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def job_server(database_url: str) -> Iterator[str]:
    """The app with its job worker thread, as `make run` runs it, every import a job."""
    config = app_config(database_url)
    config.JOBS_WORKER = True
    config.IMPORT_JOB_FEATURES = 0
    with served(config) as url:
        yield url


@pytest.mark.browser
def test_upload_map_columns_watch_progress_and_confirm_in_chromium(
        page, page_watch, job_server, database_url, tmp_path):
    engine = create_engine(database_url)
    username = f"browser-mapping-{os.getpid()}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer")
        s.commit()
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        first_import = s.scalar(text("SELECT coalesce(max(id), 0) FROM imports"))
        first_job = s.scalar(text("SELECT coalesce(max(id), 0) FROM jobs"))
    records = [{**r, "TEN_GOI": r["TEN_GOI"] + " (trình duyệt)"} for r in SURVEY]
    archive = survey_zip(tmp_path, records)
    try:
        sign_in(page, job_server, username, PASSWORD)
        page.goto(f"{job_server}{LIST}")
        page.select_option("#layer", "sites")
        page.select_option("#preset", "")
        page.set_input_files("#file", str(archive))
        page.get_by_role("button", name="Kiểm tra và xem trước").click()
        page.wait_for_url("**/mapping")
        page.select_option("#col-name_vi", "TEN_GOI")
        page.select_option("#col-rank", "XEP_HANG")  # JS shows its values at once
        page.wait_for_selector('table.mapping-values[data-field="rank"]')
        page.select_option("#col-types", "PHAN_LOAI")
        page.wait_for_selector('table.mapping-values[data-field="types"]')
        page.get_by_label("Tín ngưỡng làng").select_option("historical")
        page.get_by_label("Kiến trúc nghệ thuật").select_option("architectural_artistic")
        page.get_by_label("Đề nghị xếp hạng").select_option("inventoried")
        page.get_by_role("button", name="Kiểm tra và xem trước").click()
        page.wait_for_url(re.compile(r".*/jobs/\d+/page"))
        page.wait_for_selector("table.import-rows", timeout=60000)  # the worker's result
        assert "Đình Hạ Lôi (trình duyệt)" in page.locator("table.import-rows").inner_text()
        assert page.locator('dd[data-count="inserted"]').inner_text() == "3"
        page.get_by_role("button", name="Xác nhận nhập").click()
        page.wait_for_url(re.compile(rf".*{LIST}/\d+$"), timeout=60000)
        assert "Lần nhập #" in page.locator("h1").inner_text()
        assert page.locator('dd[data-count="inserted"]').inner_text() == "3"
        with Session(engine) as s:
            progress = s.execute(text("SELECT progress_done, progress_total FROM jobs "
                                      "WHERE id > :j ORDER BY id"), {"j": first_job}).all()
        assert progress == [(3, 3), (3, 3)]  # the preview's job, the import's job
        assert page_watch.off_host == [] and page_watch.console_errors == []
    finally:
        with Session(engine) as s:
            for (import_id,) in s.execute(text(
                    "SELECT id FROM imports WHERE id > :i AND status = 'loaded'"),
                    {"i": first_import}):
                undo_import(s, import_id, None)
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.execute(text("DELETE FROM imports WHERE id > :i"), {"i": first_import})
            s.execute(text("DELETE FROM jobs WHERE id > :j"), {"j": first_job})
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.commit()
        engine.dispose()


@pytest.mark.browser
def test_the_mapping_step_fits_a_phone(phone_page, page_watch, job_server, database_url,
                                       tmp_path):
    """On a 390 px phone the mapping page scrolls only downwards: long option texts and
    the value tables stay inside the screen (tables scroll inside their own box)."""
    engine = create_engine(database_url)
    username = f"phone-mapping-{os.getpid()}"
    with Session(engine) as s:
        create_user(s, username, PASSWORD, "district_reviewer")
        s.commit()
    page = phone_page
    try:
        sign_in(page, job_server, username, PASSWORD)
        page.goto(f"{job_server}{LIST}")
        page.select_option("#layer", "sites")
        page.select_option("#preset", "")
        page.set_input_files("#file", str(survey_zip(tmp_path, SURVEY)))
        page.get_by_role("button", name="Kiểm tra và xem trước").click()
        page.wait_for_url("**/mapping")
        page.select_option("#col-types", "PHAN_LOAI")
        page.wait_for_selector('table.mapping-values[data-field="types"]')
        assert page.get_by_label("Tín ngưỡng làng").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_role("button", name="Hủy").click()
        assert "Đã hủy: khao_sat.zip chưa được nhập" in page.locator("main").inner_text()
        assert page_watch.off_host == [] and page_watch.console_errors == []
    finally:
        with Session(engine) as s:
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.commit()
        engine.dispose()


# --- what the mapping step reads from a file ---------------------------------------------

def test_columns_are_read_decoded_with_samples_and_counted_values(tmp_path):
    """A legacy TCVN3 shapefile without .cpg: samples and distinct values come out in
    Unicode as the import will read them; a list cell counts once per part."""
    from gis_app.importers.columns import read_columns

    records = [{"TEN_GOI": "Đình Hạ Lôi", "PHAN_LOAI": "Lịch sử; Kiến trúc nghệ thuật"},
               {"TEN_GOI": "Chùa Nôm", "PHAN_LOAI": "Lịch sử"},
               {"TEN_GOI": "Đền Ba Lăng", "PHAN_LOAI": ""}]
    x, y = sf.REF_TM3
    shp = sf.write_shapefile(tmp_path / "src", "tcvn3", records,
                             [sf.point(x, y + 50 * i) for i in range(3)], encoding="tcvn3")
    archive = sf.zip_files(tmp_path / "tcvn3.zip", sf.shapefile_parts(shp))
    found = read_columns(archive, value_columns={"PHAN_LOAI": True, "TEN_GOI": False})
    assert found.encoding == "tcvn3" and found.count == 3
    assert found.columns[0].samples == ["Đình Hạ Lôi", "Chùa Nôm", "Đền Ba Lăng"]
    assert found.distinct["PHAN_LOAI"].values == [("Lịch sử", 2), ("Kiến trúc nghệ thuật", 1)]
    assert found.distinct["PHAN_LOAI"].empty == 1
    assert [v for v, _n in found.distinct["TEN_GOI"].values] == sorted(
        r["TEN_GOI"] for r in records)
