"""The end of a relic's life and its publication (services/lifecycle.py): publish the
drafts of an import, retire with a reason, merge a duplicate into its survivor; through
the CLI verbs an operator scripts and the pages the public meets afterwards."""
from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError, PermissionDenied
from gis_app.services import lifecycle
from gis_app.services.accounts import create_user
from tests.factories import forget_sites, make_assessment, make_site
from tests.surveyfiles import point, write_vector

PASSWORD = "a long enough password"


@pytest.fixture
def reviewer(db):
    return create_user(db, "lifecycle-reviewer", PASSWORD, "district_reviewer")


@pytest.fixture
def editor(db):
    unit = db.scalar(text("SELECT code FROM admin_units WHERE level = 'commune' AND "
                          "valid_to IS NULL ORDER BY code LIMIT 1"))
    return create_user(db, "lifecycle-editor", PASSWORD, "commune_editor", unit_codes=[unit])


def status(db, heritage_id: str) -> str:
    return db.scalar(text("SELECT status FROM sites WHERE heritage_id = :h"), {"h": heritage_id})


def public_ids(client) -> set[str]:
    features = client.get("/api/sites").get_json()["features"]
    return {f["properties"]["heritage_id"] for f in features}


def test_the_drafts_of_an_import_are_published_by_the_cli(runner, client, db, reviewer,
                                                          tmp_path: Path):
    survey = write_vector(tmp_path / "khaosat.geojson",
                          [{"TEN": "Đình Công Bố Một"}, {"TEN": "Chùa Công Bố Hai"}],
                          [point(105.955, 20.84), point(105.965, 20.83)])
    done = runner.invoke(args=["import", str(survey), "--layer", "sites", "--map",
                               "name_vi=TEN"])
    assert done.exit_code == 0, done.output
    import_id = int(done.output.split("import #")[1].split(":")[0])
    drafts = lifecycle.drafts_of_import(db, import_id)
    assert len(drafts) == 2 and all(status(db, h) == "draft" for h in drafts)
    assert not public_ids(client) & set(drafts)

    refused = runner.invoke(args=["imports", "publish", str(import_id)])
    assert refused.exit_code != 0 and "--user" in refused.output
    published = runner.invoke(args=["imports", "publish", str(import_id), "--user",
                                    "lifecycle-reviewer"])
    assert published.exit_code == 0, published.output
    assert f"import #{import_id}: 2 relic(s) published" in published.output
    assert all(status(db, h) == "published" for h in drafts)
    assert set(drafts) <= public_ids(client)
    revision = db.execute(text("""
        SELECT actor_id, before ->> 'status' AS was, after ->> 'status' AS now
          FROM revisions WHERE table_name = 'sites' AND action = 'update'
           AND row_id = (SELECT id::text FROM sites WHERE heritage_id = :h)
         ORDER BY id DESC LIMIT 1"""), {"h": drafts[0]}).mappings().one()
    assert dict(revision) == {"actor_id": reviewer.id, "was": "draft", "now": "published"}
    again = runner.invoke(args=["imports", "publish", str(import_id), "--user",
                                "lifecycle-reviewer"])
    assert "0 relic(s) published" in again.output


def test_a_commune_editor_may_not_publish_retire_or_merge(db, editor):
    draft = make_site(db, 105.95, 20.84, status="draft")
    other = make_site(db, 105.96, 20.84)
    for action in (lambda: lifecycle.publish(db, editor, [draft]),
                   lambda: lifecycle.retire(db, editor, other, "Trùng lặp"),
                   lambda: lifecycle.merge(db, editor, draft, other)):
        with pytest.raises(PermissionDenied, match="district reviewer"):
            action()
    assert status(db, draft) == "draft" and status(db, other) == "published"


def test_a_retired_relic_leaves_the_public_and_its_page_says_why(runner, client, db,
                                                                 reviewer):
    hid = make_site(db, 105.957, 20.838, name="Miếu Bị Hủy")
    assert hid in public_ids(client)
    done = runner.invoke(args=["records", "retire", hid, "--reason",
                               "Trùng với di tích đã kiểm kê năm 2019", "--decision",
                               "45/QĐ-UBND", "--user", "lifecycle-reviewer"])
    assert done.exit_code == 0, done.output
    assert hid not in public_ids(client)
    page = client.get(f"/sites/{hid}")
    assert page.status_code == 410
    body = page.get_data(as_text=True)
    assert "Trùng với di tích đã kiểm kê năm 2019" in body and "45/QĐ-UBND" in body
    assert "Miếu Bị Hủy" in body
    english = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "retired" in english and "Trùng với di tích đã kiểm kê năm 2019" in english
    answer = client.get(f"/sites/{hid}", headers={"Accept": "application/json"})
    assert answer.status_code == 410 and answer.get_json()["error"] == "gone"
    assert answer.get_json()["reason"] == "Trùng với di tích đã kiểm kê năm 2019"
    # Its zones end yesterday: a check as of an earlier date still finds them.
    last = db.scalar(text("""SELECT max(valid_to) FROM protection_zones z JOIN sites s
                              ON s.id = z.site_id WHERE s.heritage_id = :h"""), {"h": hid})
    assert last == today_in_vietnam() - timedelta(days=1)
    twice = runner.invoke(args=["records", "retire", hid, "--reason", "x", "--user",
                                "lifecycle-reviewer"])
    assert twice.exit_code != 0 and "already retired" in twice.output


def test_a_reason_is_required_to_retire(db, reviewer):
    hid = make_site(db, 105.95, 20.84)
    with pytest.raises(InputError, match="reason"):
        lifecycle.retire(db, reviewer, hid, "   ")
    assert status(db, hid) == "published"


def test_a_merged_duplicate_redirects_and_its_work_moves_to_the_survivor(runner, client, db,
                                                                         reviewer):
    keep = make_site(db, 105.957, 20.838, name="Đình Gốc", zone_radius_m=None)
    dup = make_site(db, 105.9571, 20.8381, name="Đình Gốc (trùng)")
    ids = dict(db.execute(text("SELECT heritage_id, id FROM sites WHERE heritage_id IN "
                               "(:a, :b)"), {"a": keep, "b": dup}).all())
    assessment = make_assessment(db, ids[dup], "2025-05-01", "fair")
    db.execute(text("""INSERT INTO digital_records (site_id, media_type, uri, credit, licence)
                       VALUES (:s, 'image/jpeg', 'x/y.jpg', 'Ban quản lý', 'CC BY 4.0')"""),
               {"s": ids[dup]})
    done = runner.invoke(args=["records", "merge", dup, "--into", keep, "--user",
                               "lifecycle-reviewer"])
    assert done.exit_code == 0, done.output
    assert f"{dup} merged into {keep}" in done.output and "1 assessments" in done.output
    assert db.scalar(text("SELECT site_id FROM condition_assessments WHERE id = :a"),
                     {"a": assessment}) == ids[keep]
    assert db.scalar(text("SELECT count(*) FROM digital_records WHERE site_id = :s"),
                     {"s": ids[keep]}) == 1
    # The survivor had no zones: the duplicate's are now the survivor's.
    assert db.scalar(text("SELECT count(*) FROM protection_zones WHERE site_id = :s"),
                     {"s": ids[keep]}) == 2
    page = client.get(f"/sites/{dup}?lang=en")
    assert page.status_code == 301 and page.headers["Location"].endswith(f"/sites/{keep}?lang=en")
    assert dup not in public_ids(client) and keep in public_ids(client)
    # The assessment's history is intact: nothing but its relic changed.
    moved = db.execute(text("""SELECT before, after FROM revisions
                                WHERE table_name = 'condition_assessments' AND row_id = :a
                                  AND action = 'update'"""), {"a": str(assessment)}).one()
    before, after = moved
    assert {k for k in before if before[k] != after[k]} == {"site_id"}


def test_an_assessment_still_cannot_be_changed_outside_a_merge(db):
    hid = make_site(db, 105.95, 20.84)
    site = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    other = db.scalar(text("SELECT id FROM sites WHERE heritage_id <> :h LIMIT 1"), {"h": hid})
    assessment = make_assessment(db, site, "2025-05-01", "fair")
    with pytest.raises(Exception, match="never overwritten"), db.begin_nested():
        db.execute(text("UPDATE condition_assessments SET site_id = :o WHERE id = :a"),
                   {"o": other, "a": assessment})
    with pytest.raises(Exception, match="never overwritten"), db.begin_nested():
        db.execute(text("SELECT set_config('gis.merge', 'on', true)"))
        db.execute(text("UPDATE condition_assessments SET overall = 'good' WHERE id = :a"),
                   {"a": assessment})


def test_merging_into_itself_or_an_ended_relic_is_refused(db, reviewer):
    a = make_site(db, 105.95, 20.84)
    b = make_site(db, 105.96, 20.84)
    with pytest.raises(InputError, match="itself"):
        lifecycle.merge(db, reviewer, a, a)
    lifecycle.retire(db, reviewer, b, "Không còn tồn tại")
    with pytest.raises(InputError, match="already retired"):
        lifecycle.merge(db, reviewer, a, b)
    assert json.dumps(status(db, a)) == '"published"'


# --- the pages -----------------------------------------------------------------------------

def signed_in(client, auth, db, role: str = "district_reviewer") -> None:
    units = ()
    if role == "commune_editor":
        units = (db.scalar(text("SELECT code FROM admin_units WHERE level = 'commune' AND "
                                "valid_to IS NULL ORDER BY code LIMIT 1")),)
    create_user(db, f"web-{role}", PASSWORD, role, unit_codes=units)
    assert auth.login(f"web-{role}", PASSWORD).status_code == 302


def panel_token(client, heritage_id: str) -> str:
    page = client.get(f"/sites/{heritage_id}").get_data(as_text=True)
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page[page.index('class="record-actions"'):])
    return found.group(1)


def test_a_reviewer_publishes_a_draft_from_its_page(client, auth, db):
    signed_in(client, auth, db)
    hid = make_site(db, 105.95, 20.84, status="draft", name="Đình Chờ Công Bố")
    page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "Bản nháp" in page and "Công bố di tích này" in page
    done = client.post(f"/officials/records/{hid}/publish",
                       data={"csrf_token": panel_token(client, hid)})
    assert done.status_code == 303 and status(db, hid) == "published"
    assert "Di tích đã được công bố" in client.get(done.headers["Location"]).get_data(
        as_text=True)


def test_the_import_page_publishes_its_drafts(client, auth, db, runner, tmp_path: Path):
    signed_in(client, auth, db)
    survey = write_vector(tmp_path / "khaosat.geojson", [{"TEN": "Miếu Nhập Mới"}],
                          [point(105.955, 20.84)])
    done = runner.invoke(args=["import", str(survey), "--layer", "sites", "--map",
                               "name_vi=TEN"])
    import_id = int(done.output.split("import #")[1].split(":")[0])
    page = client.get(f"/officials/imports/{import_id}").get_data(as_text=True)
    assert "1 di tích của lần nhập này là bản nháp" in page
    token = re.search(r'class="publish-drafts">\s*<input id="csrf_token" name="csrf_token" '
                      r'type="hidden" value="([^"]+)"', page).group(1)
    answer = client.post(f"/officials/records/import/{import_id}/publish",
                         data={"csrf_token": token})
    assert answer.status_code == 303
    assert "Đã công bố 1 di tích của lần nhập này." in client.get(
        answer.headers["Location"]).get_data(as_text=True)
    assert lifecycle.drafts_of_import(db, import_id) == []


@pytest.mark.parametrize("role", ["commune_editor", None])
def test_editors_and_the_public_cannot_publish_retire_or_merge(client, auth, db, role):
    hid = make_site(db, 105.95, 20.84, status="draft")
    other = make_site(db, 105.96, 20.84)
    if role:
        signed_in(client, auth, db, role)
    token = auth.csrf("/login")
    for path, data in ((f"/officials/records/{hid}/publish", {}),
                       (f"/officials/records/{other}/retire", {"retire-reason": "x"}),
                       (f"/officials/records/{hid}/merge", {"merge-into": other})):
        answer = client.post(path, data={"csrf_token": token, **data})
        if role:
            assert answer.status_code == 403, path
        else:
            assert answer.status_code == 303 and "/login" in answer.headers["Location"], path
    assert status(db, hid) == "draft" and status(db, other) == "published"


@pytest.mark.browser
def test_a_reviewer_retires_and_merges_and_the_public_meets_the_outcome(
        page, page_watch, live_server, database_url):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from tests.conftest import sign_in

    engine = create_engine(database_url)
    username = f"browser-lifecycle-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        create_user(s, username, PASSWORD, "district_reviewer")
        gone = make_site(s, 105.951, 20.841, name="Miếu Sẽ Hủy")
        dup = make_site(s, 105.952, 20.842, name="Đình Trùng Lặp")
        keep = make_site(s, 105.9521, 20.8421, name="Đình Giữ Lại")
        s.commit()
    try:
        sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/sites/{gone}")
        page.get_by_text("Đưa di tích này ra khỏi danh mục").click()
        page.fill("#retire-reason", "Công trình đã bị phá dỡ năm 2020")
        page.fill("#retire-decision", "77/QĐ-UBND")
        page.get_by_role("button", name="Đưa ra khỏi danh mục", exact=True).click()
        page.wait_for_load_state()
        assert "Đã đưa ra khỏi danh mục" in page.locator("h1").inner_text()
        assert "Công trình đã bị phá dỡ năm 2020" in page.content()

        page.goto(f"{live_server}/sites/{dup}")
        page.get_by_text("Hợp nhất bản trùng này vào một di tích khác").click()
        page.fill("#merge-into", keep)
        page.get_by_role("button", name="Hợp nhất", exact=True).click()
        page.wait_for_url(re.compile(rf".*/sites/{keep}$"))
        assert "Đã hợp nhất" in page.locator(".flash").first.inner_text()

        public = page.context.browser.new_context(locale="vi-VN")
        visitor = public.new_page()
        answer = visitor.goto(f"{live_server}/sites/{gone}")
        assert answer.status == 410
        assert "Công trình đã bị phá dỡ năm 2020" in visitor.content()
        visitor.goto(f"{live_server}/sites/{dup}")
        assert visitor.url.endswith(f"/sites/{keep}")
        assert "Đình Giữ Lại" in visitor.locator("h1").inner_text()
        public.close()
        # The retired page answers 410 by design; Chromium logs that, nothing else.
        assert [e for e in page_watch.console_errors if "status of 410" not in e] == []
        assert page_watch.off_host == []
    finally:
        with Session(engine) as s:
            # The live server's database is shared by the session.
            forget_sites(s, [gone, dup, keep])
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.execute(text("SET LOCAL session_replication_role = origin"))
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()


def test_a_reviewer_no_longer_meets_ended_relics_in_lists_maps_and_searches(client, auth, db):
    signed_in(client, auth, db)
    draft = make_site(db, 105.9555, 20.8405, status="draft", name="Đình Nháp Còn Đây")
    gone = make_site(db, 105.9556, 20.8406, name="Miếu Đã Hủy Khỏi Danh Mục")
    dup = make_site(db, 105.9557, 20.8407, name="Miếu Trùng Đã Hợp Nhất")
    reviewer = create_user(db, "ended-reviewer", PASSWORD, "district_reviewer")
    lifecycle.retire(db, reviewer, gone, "Không còn tồn tại")
    lifecycle.merge(db, reviewer, dup, draft)
    db.flush()
    layer = client.get("/api/layers/sites.geojson").get_json()["features"]
    seen = {
        "layer": {f["properties"]["heritage_id"] for f in layer},
        "tourist map": {f["properties"]["heritage_id"]
                        for f in client.get("/api/sites").get_json()["features"]},
        "list": set(re.findall(r"/sites/(VN-HY-DT-\d{6})", client.get("/sites").get_data(
            as_text=True))),
        "search": {r["heritage_id"] for r in client.get(
            "/api/search?q=mieu da huy").get_json().get("results", [])},
    }
    for where, ids in seen.items():
        assert gone not in ids and dup not in ids, where
    assert draft in seen["layer"] and draft in seen["list"]
    found = client.get("/api/search?q=dinh nhap con day").get_json()["results"]
    assert draft in {r["heritage_id"] for r in found}  # the search itself works
    zones = client.get("/api/layers/protection_zones.geojson").get_json()["features"]
    assert gone not in {f["properties"]["heritage_id"] for f in zones}
    near = client.get(f"/sites/{draft}").get_data(as_text=True)
    assert "Miếu Đã Hủy Khỏi Danh Mục" not in near


# --- the register list and its bulk actions ------------------------------------------------

def bulk_token(client, path: str = "/officials/records/") -> str:
    page = client.get(path).get_data(as_text=True)
    form = page[page.index('id="bulk-form"'):]
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)


def test_the_register_lists_filters_and_acts_on_the_chosen_relics(client, auth, db):
    signed_in(client, auth, db)
    a = make_site(db, 105.951, 20.841, status="draft", name="Đình Hàng Loạt Một")
    b = make_site(db, 105.952, 20.842, status="draft", name="Đình Hàng Loạt Hai")
    c = make_site(db, 105.953, 20.843, name="Miếu Hàng Loạt Ba")
    page = client.get("/officials/records/?q=hang loat&status=draft").get_data(as_text=True)
    assert a in page and b in page and c not in page  # diacritics ignored, status filter
    token = bulk_token(client)

    done = client.post("/officials/records/bulk", data={
        "csrf_token": token, "relic": [a, b], "action": "publish",
        "back": "/officials/records/?q=hang+loat"})
    assert done.status_code == 303 and done.headers["Location"] == "/officials/records/?q=hang+loat"
    assert status(db, a) == status(db, b) == "published"
    assert "Đã công bố 2 di tích." in client.get(done.headers["Location"]).get_data(as_text=True)

    client.post("/officials/records/bulk", data={
        "csrf_token": token, "relic": [a, c], "action": "custodian",
        "new_organisation": "Ban quản lý di tích xã Thử Nghiệm"})
    custodians = db.execute(text("""SELECT s.heritage_id, o.name FROM sites s
                                      JOIN organisations o ON o.id = s.custodian_org_id
                                     WHERE s.heritage_id = ANY(:ids)"""),
                            {"ids": [a, b, c]}).all()
    assert sorted(custodians) == sorted([(a, "Ban quản lý di tích xã Thử Nghiệm"),
                                         (c, "Ban quản lý di tích xã Thử Nghiệm")])

    refused = client.post("/officials/records/bulk", data={
        "csrf_token": token, "relic": [b, c], "action": "retire", "reason": ""})
    assert "Hãy nêu lý do hủy di tích" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert status(db, b) == status(db, c) == "published"  # all or none
    client.post("/officials/records/bulk", data={
        "csrf_token": token, "relic": [b, c], "action": "retire",
        "reason": "Trùng lặp sau khảo sát 2026", "decision": "9/QĐ-UBND"})
    assert status(db, b) == status(db, c) == "retired"
    assert b not in client.get("/officials/records/?q=hang loat").get_data(as_text=True)


def test_the_register_is_for_reviewers_only(client, auth, db):
    hid = make_site(db, 105.95, 20.84, status="draft")
    assert "/login" in client.get("/officials/records/").headers["Location"]
    signed_in(client, auth, db, "commune_editor")
    assert client.get("/officials/records/").status_code == 403
    answer = client.post("/officials/records/bulk", data={
        "csrf_token": auth.csrf("/account"), "relic": [hid], "action": "publish"})
    assert answer.status_code == 403 and status(db, hid) == "draft"
