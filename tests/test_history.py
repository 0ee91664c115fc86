"""A relic's history, the relic as of a date and restoring it (services/history.py),
through the CLI verbs `records history|restore` an operator scripts and the officials'
page /officials/records/<id>/history.

The revisions are made by real actions (a survey import, publishing, an edit under an
actor, retiring). One test is one transaction, in which PostgreSQL's now() (the
revisions' changed_at) does not move: `backdate` moves what the transaction has written
so far to a moment of the story, as days passing would."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pyproj import Geod
from sqlalchemy import text

from gis_app.clock import VIETNAM_TIME, start_of_day_in_vietnam, today_in_vietnam
from gis_app.errors import InputError, PermissionDenied
from gis_app.services import history, lifecycle
from gis_app.services.accounts import create_user
from gis_app.services.audit import set_actor
from tests.factories import make_site
from tests.surveyfiles import point, write_vector

PASSWORD = "a long enough password"
OLD = (105.955, 20.84)
NEW = (105.9555, 20.8404)


def backdate(db, when: str) -> None:
    """Move what this transaction has recorded so far to `when`."""
    db.execute(text("UPDATE revisions SET changed_at = CAST(:w AS timestamptz) "
                    "WHERE changed_at = now()"), {"w": when})
    db.execute(text("UPDATE restores SET restored_at = CAST(:w AS timestamptz) "
                    "WHERE restored_at = now()"), {"w": when})
    db.execute(text("UPDATE change_proposals SET created_at = CAST(:w AS timestamptz) "
                    "WHERE created_at = now()"), {"w": when})
    db.execute(text("UPDATE change_proposals SET reviewed_at = CAST(:w AS timestamptz) "
                    "WHERE reviewed_at = now()"), {"w": when})


def row(db, heritage_id: str) -> dict:
    return dict(db.execute(text("SELECT *, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM sites "
                                "WHERE heritage_id = :h"), {"h": heritage_id}).mappings().one())


@pytest.fixture
def reviewer(db):
    return create_user(db, "history-reviewer", PASSWORD, "district_reviewer",
                       display_name="Nguyễn Thẩm Định")


@pytest.fixture
def story(runner, db, reviewer, tmp_path: Path) -> dict:
    """A relic imported on 10/01/2026 (then given zones I and II), published on 01/02/2026,
    renamed, ranked national and moved about 50 m at 06:00 on 16/03/2026 in Vietnam
    (still 15/03 in UTC), retired today."""
    editor = create_user(db, "history-editor", PASSWORD, "district_reviewer",
                         display_name="Trần Thị Sửa")
    survey = write_vector(tmp_path / "khaosat.geojson", [{"TEN": "Đình Lịch Sử"}],
                          [point(*OLD)])
    done = runner.invoke(args=["import", str(survey), "--layer", "sites", "--map",
                               "name_vi=TEN", "--user", "history-reviewer"])
    assert done.exit_code == 0, done.output
    import_id = int(done.output.split("import #")[1].split(":")[0])
    hid = lifecycle.drafts_of_import(db, import_id)[0]
    site_id = row(db, hid)["id"]
    backdate(db, "2026-01-10 09:15+07")
    set_actor(db, reviewer.id)
    db.execute(text("""
        INSERT INTO protection_zones (site_id, zone, geom, valid_from)
        SELECT :s, z, ST_Multi(ST_Buffer(CAST(geom AS geography), r)::geometry), '2026-01-10'
          FROM sites, (VALUES ('I', 40), ('II', 120)) AS v(z, r) WHERE id = :s"""),
        {"s": site_id})
    db.execute(text("UPDATE sites SET rank = 'provincial' WHERE id = :s"), {"s": site_id})
    backdate(db, "2026-01-10 09:30+07")
    published = runner.invoke(args=["records", "publish", hid, "--user", "history-reviewer"])
    assert published.exit_code == 0, published.output
    backdate(db, "2026-02-01 14:00+07")
    set_actor(db, editor.id)
    db.execute(text("""UPDATE sites SET name_vi = 'Đình Lịch Sử Mới', rank = 'national',
                              geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326), updated_at = now()
                        WHERE id = :s"""), {"x": NEW[0], "y": NEW[1], "s": site_id})
    backdate(db, "2026-03-16 06:00+07")
    retired = runner.invoke(args=["records", "retire", hid, "--reason", "Trùng lặp hồ sơ",
                                  "--user", "history-reviewer"])
    assert retired.exit_code == 0, retired.output
    return {"hid": hid, "id": site_id, "import_id": import_id}


def test_the_cli_prints_the_history_newest_first(runner, story):
    done = runner.invoke(args=["records", "history", story["hid"], "--lang", "vi"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    heads = [line for line in lines if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d ", line)]
    assert heads[0].endswith("(Nguyễn Thẩm Định): Hủy di tích: Trùng lặp hồ sơ")
    assert heads[1:] == [
        "2026-03-16 06:00 (Trần Thị Sửa): Sửa",
        "2026-02-01 14:00 (Nguyễn Thẩm Định): Công bố",
        "2026-01-10 09:30 (Nguyễn Thẩm Định): Sửa",
        f"2026-01-10 09:15 (Nguyễn Thẩm Định): Lần nhập #{story['import_id']} của Nguyễn "
        "Thẩm Định, tệp khaosat.geojson; Tạo mới"]
    assert "    Tên (tiếng Việt): Đình Lịch Sử → Đình Lịch Sử Mới" in lines
    assert "    Xếp hạng: Di tích cấp tỉnh → Di tích quốc gia" in lines
    assert "  Thêm Khu vực bảo vệ I (" in done.output
    moved = Geod(ellps="WGS84").inv(*OLD, *NEW)[2]
    assert f"dời {round(moved)} m" in done.output
    english = runner.invoke(args=["records", "history", story["hid"]]).output
    assert "Rank: Provincial relic → National relic" in english
    assert "Retired: Trùng lặp hồ sơ" in english and "Published" in english
    unknown = runner.invoke(args=["records", "history", "VN-HY-DT-999999"])
    assert unknown.exit_code != 0 and "No relic has the identifier VN-HY-DT-999999" in \
        unknown.output


def test_as_of_a_date_is_the_end_of_that_day_in_vietnam(db, story, reviewer):
    def fields(on: str) -> dict[str, str]:
        snap = history.as_of(db, reviewer, story["hid"], history.parse_as_of(on), "en")
        return dict(snap.fields)

    assert fields("2026-01-31")["Status"] == "Draft"
    assert fields("2026-02-01")["Status"] == "Published"
    # 06:00 on 16/03 in Vietnam is still 15/03 in UTC: not yet renamed at the end of 15/03.
    assert fields("2026-03-15")["Name (Vietnamese)"] == "Đình Lịch Sử"
    assert fields("2026-03-15")["Rank"] == "Provincial relic"
    assert fields("2026-03-16")["Name (Vietnamese)"] == "Đình Lịch Sử Mới"
    then = history.as_of(db, reviewer, story["hid"], history.parse_as_of("2026-02-20"), "vi")
    assert [z["zone"] for z in then.zones] == ["Khu vực bảo vệ I", "Khu vực bảo vệ II"]
    assert all(z["valid_to"] == "–" for z in then.zones)
    assert dict(then.fields)["Vị trí"] == "20,840000; 105,955000"
    with pytest.raises(InputError, match="did not exist yet at the end of 09/01/2026 "
                                         r"\(it was created on 10/01/2026\)"):
        history.as_of(db, reviewer, story["hid"], history.parse_as_of("2026-01-09"))
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        history.parse_as_of("31/01/2026")


def test_restore_through_the_cli_brings_the_old_version_back(runner, db, story):
    before = row(db, story["hid"])
    zones_before = db.execute(text("SELECT id, valid_to FROM protection_zones "
                                   "WHERE site_id = :s ORDER BY id"), {"s": story["id"]}).all()
    assert before["status"] == "retired" and all(z.valid_to for z in zones_before)
    done = runner.invoke(args=["records", "restore", story["hid"], "--as-of", "2026-02-20",
                               "--user", "history-reviewer"])
    assert done.exit_code == 0, done.output
    assert "is live again (un-retired); 2 protection zone(s) in force again" in done.output
    after = row(db, story["hid"])
    assert (after["status"], after["name_vi"], after["rank"]) == \
        ("published", "Đình Lịch Sử", "provincial")
    assert (round(after["lon"], 6), round(after["lat"], 6)) == OLD
    assert after["retired_on"] is None and after["retired_reason"] is None
    restored = {"status", "name_vi", "rank", "geom", "lon", "lat", "retired_on",
                "retired_reason", "updated_at"}
    assert {k: v for k, v in after.items() if k not in restored} == \
        {k: v for k, v in before.items() if k not in restored}
    assert db.scalar(text("SELECT count(*) FROM protection_zones WHERE site_id = :s "
                          "AND valid_to IS NULL"), {"s": story["id"]}) == 2
    # One new revision of the relic, under the reviewer; history never rewritten.
    revs = db.execute(text("""SELECT action, actor_id FROM revisions
                               WHERE table_name = 'sites' AND row_id = :s
                                 AND changed_at = now()"""), {"s": str(story["id"])}).all()
    assert len(revs) == 2  # the retirement (today) and the restore
    text_after = runner.invoke(args=["records", "history", story["hid"]]).output
    newest = text_after.splitlines()[1]
    assert "Restored to the version of 20/02/2026 by Nguyễn Thẩm Định" in newest
    assert "Un-retired: the relic is live again" in newest
    assert "Retired: Trùng lặp hồ sơ" in text_after  # the retirement is still there
    again = runner.invoke(args=["records", "restore", story["hid"], "--as-of", "2026-02-20",
                                "--user", "history-reviewer"])
    assert again.exit_code != 0 and "nothing to restore" in again.output


def test_restore_is_refused_when_it_cannot_be_true(runner, db, story, reviewer):
    editor = create_user(db, "history-commune", PASSWORD, "commune_editor",
                         unit_ids=[row(db, story["hid"])["admin_unit_id"]])
    with pytest.raises(PermissionDenied, match="district reviewer"):
        history.restore(db, editor, story["hid"], history.parse_as_of("2026-02-20"))
    early = runner.invoke(args=["records", "restore", story["hid"], "--as-of", "2025-12-31",
                                "--user", "history-reviewer"])
    assert early.exit_code != 0 and "did not exist yet" in early.output
    bad = runner.invoke(args=["records", "restore", story["hid"], "--as-of", "31/12/2025",
                              "--user", "history-reviewer"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output
    keep = make_site(db, 105.96, 20.85, name="Đình Giữ Lại")
    dup = make_site(db, 105.9601, 20.8501, name="Đình Trùng")
    backdate(db, "2026-01-05 08:00+07")
    lifecycle.merge(db, reviewer, dup, keep)
    with pytest.raises(InputError, match="does not undo a merge"):
        history.restore(db, reviewer, dup, history.parse_as_of("2026-01-06"))
    assert row(db, dup)["status"] == "merged"


def test_a_retired_date_is_not_restored_over_a_live_relic(db, story, reviewer):
    backdate(db, "2026-04-01 10:00+07")  # the retirement
    history.restore(db, reviewer, story["hid"], history.parse_as_of("2026-02-20"))
    assert row(db, story["hid"])["status"] == "published"
    with pytest.raises(InputError, match="was retired; to retire it again use Retire"):
        history.restore(db, reviewer, story["hid"], history.parse_as_of("2026-04-02"))
    assert row(db, story["hid"])["status"] == "published"


def test_a_retirement_made_by_mistake_today_is_undone(db, reviewer):
    """What a restore to a date cannot reach: a relic made and edited today and retired by
    mistake today (the end of today is retired, yesterday it did not exist). Reinstating
    puts it back as it stood just before the retirement, the morning's edit included, with
    its zones: those the retirement ended and the version starting today it removed."""
    hid = make_site(db, 105.96, 20.85, name="Đình Mới Lập")
    site_id = row(db, hid)["id"]
    today = today_in_vietnam()
    start = start_of_day_in_vietnam(today)
    now = db.scalar(text("SELECT now()"))
    set_actor(db, reviewer.id)
    db.execute(text("""
        INSERT INTO protection_zones (site_id, zone, geom, valid_from)
        SELECT id, 'buffer', ST_Multi(ST_Buffer(CAST(geom AS geography), 300)::geometry), :d
          FROM sites WHERE id = :s"""), {"s": site_id, "d": today})
    backdate(db, (start + (now - start) / 3).isoformat())  # made this morning
    db.execute(text("UPDATE sites SET name_vi = 'Đình Mới Lập (đã sửa)' WHERE id = :s"),
               {"s": site_id})
    backdate(db, (start + (now - start) * 2 / 3).isoformat())  # edited
    lifecycle.retire(db, reviewer, hid, "Nhầm di tích", "9/QĐ-UBND")
    assert [z[0] for z in db.execute(text(
        "SELECT zone FROM protection_zones WHERE site_id = :s AND valid_to IS NULL"),
        {"s": site_id})] == []
    with pytest.raises(InputError, match="nothing to restore"):
        history.restore(db, reviewer, hid, today)
    with pytest.raises(InputError, match="did not exist yet"):
        history.restore(db, reviewer, hid, today - timedelta(days=1))

    done = history.reinstate(db, reviewer, hid, "vi")
    assert done.unretired and done.zones_reopened == 3 and done.as_of == today
    after = row(db, hid)
    assert (after["status"], after["name_vi"], after["retired_on"], after["retired_reason"],
            after["retired_decision"]) == ("published", "Đình Mới Lập (đã sửa)", None, None,
                                           None)
    assert db.execute(text("""SELECT zone, valid_from, valid_to FROM protection_zones
                               WHERE site_id = :s ORDER BY zone"""), {"s": site_id}).all() \
        == [("I", None, None), ("II", None, None), ("buffer", today, None)]
    told = history.history_text(history.relic_history(db, reviewer, hid, "en"), "en")
    assert any("Retired: Nhầm di tích" in line for line in told)
    with pytest.raises(InputError, match="is not retired"):
        history.reinstate(db, reviewer, hid)
    commune = db.scalar(text("SELECT id FROM admin_units WHERE level = 'commune' "
                             "AND valid_to IS NULL ORDER BY id LIMIT 1"))
    editor = create_user(db, "history-reinstate-editor", PASSWORD, "commune_editor",
                         unit_ids=[commune])
    lifecycle.retire(db, reviewer, hid, "Lần nữa")
    with pytest.raises(PermissionDenied):
        history.reinstate(db, editor, hid)


def same_day_edits(db, reviewer) -> tuple[str, list]:
    """A relic made this morning in Vietnam, then renamed twice by mistake (both today):
    (its identifier, the moments of the two renames)."""
    hid = make_site(db, 105.962, 20.852, name="Đình Sáng Nay")
    today = today_in_vietnam()
    start = start_of_day_in_vietnam(today)
    now = db.scalar(text("SELECT now()"))
    backdate(db, (start + (now - start) / 4).isoformat())
    set_actor(db, reviewer.id)
    moments = []
    for k, name in ((2, "Đình Sai Tên"), (3, "Đình Sai Tên Lần Hai")):
        db.execute(text("UPDATE sites SET name_vi = :n WHERE heritage_id = :h"),
                   {"n": name, "h": hid})
        moments.append(start + (now - start) * k / 4)
        backdate(db, moments[-1].isoformat())
    return hid, moments


def test_a_relic_is_restored_to_just_before_one_change(db, reviewer):
    """Two wrong edits the day the relic was made: no end of a day has the right
    version, the moment just before the first edit has."""
    hid, (first, _second) = same_day_edits(db, reviewer)
    with pytest.raises(InputError, match="nothing to restore"):
        history.restore(db, reviewer, hid, today_in_vietnam())
    plan = history.restore_plan(db, hid, today_in_vietnam(), "en", before=first)[1]
    assert [(c.label, c.before, c.after) for c in plan] == \
        [("Name (Vietnamese)", "Đình Sai Tên Lần Hai", "Đình Sáng Nay")]
    done = history.restore(db, reviewer, hid, today_in_vietnam(), "en", before=first)
    assert done.fields == ["Name (Vietnamese)"] and not done.unretired
    assert row(db, hid)["name_vi"] == "Đình Sáng Nay"
    assert db.scalar(text("SELECT before_change FROM restores ORDER BY id DESC LIMIT 1")) \
        == first
    told = history.history_text(history.relic_history(db, reviewer, hid, "vi"), "vi")
    when = first.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
    assert any(f"Khôi phục về hồ sơ ngay trước thay đổi lúc {when}, do Nguyễn Thẩm Định "
               "thực hiện" in line for line in told)


def test_restore_to_just_before_a_change_through_the_cli(runner, db, reviewer):
    hid, (first, _second) = same_day_edits(db, reviewer)
    missing = runner.invoke(args=["records", "restore", hid, "--user", "history-reviewer"])
    assert missing.exit_code != 0 and "--before the moment of a change" in missing.output
    done = runner.invoke(args=["records", "restore", hid, "--before", first.isoformat(),
                               "--user", "history-reviewer"])
    assert done.exit_code == 0, done.output
    assert f"{hid} restored to {first.astimezone(VIETNAM_TIME):%Y-%m-%d}: " \
           "Name (Vietnamese)" in done.output
    assert row(db, hid)["name_vi"] == "Đình Sáng Nay"
    naive = runner.invoke(args=["records", "restore", hid, "--before", "2026-01-31T09:15",
                                "--user", "history-reviewer"])
    assert naive.exit_code != 0 and "e.g. 2026-01-31T09:15:00+07:00" in naive.output


def test_restore_to_just_before_a_change_through_the_page(client, auth, db, reviewer):
    hid, (first, _second) = same_day_edits(db, reviewer)
    auth.login("history-reviewer", PASSWORD)
    page = client.get(f"/officials/records/{hid}/history").get_data(as_text=True)
    # Every change but the creation links to the record just before it.
    links = re.findall(r'<a href="([^"]*before=[^"]+)">Hồ sơ ngay trước thay đổi này</a>',
                       page)
    assert len(links) == 2
    preview = client.get(links[-1].replace("&amp;", "&")).get_data(as_text=True)
    when = first.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
    assert f"Ngay trước thay đổi lúc {when}" in preview
    assert "Khôi phục hồ sơ như ngay trước thay đổi đó" in preview
    assert "<del>Đình Sai Tên Lần Hai</del> → <ins>Đình Sáng Nay</ins>" in preview
    moment = re.search(r'name="before" value="([^"]+)"', preview).group(1)
    done = client.post(f"/officials/records/{hid}/restore",
                       data={"csrf_token": auth.csrf(f"/officials/records/{hid}/history"),
                             "before": moment}, follow_redirects=True)
    said = done.get_data(as_text=True)
    assert f"Đã khôi phục hồ sơ như ngay trước thay đổi lúc {when}: Tên (tiếng Việt)." in said
    assert row(db, hid)["name_vi"] == "Đình Sáng Nay"
    bad = client.get(f"/officials/records/{hid}/history?before=h%C3%B4m-qua")
    assert bad.status_code == 400
    assert "Hãy dùng thời điểm của một thay đổi như trang lịch sử ghi" in \
        bad.get_data(as_text=True)


def test_reinstate_through_the_cli(runner, db, story):
    done = runner.invoke(args=["records", "reinstate", story["hid"], "--user",
                               "history-reviewer"])
    assert done.exit_code == 0, done.output
    assert f"{story['hid']} is live again (un-retired); 2 protection zone(s) in force " \
           "again" in done.output
    assert row(db, story["hid"])["status"] == "published"
    again = runner.invoke(args=["records", "reinstate", story["hid"], "--user",
                                "history-reviewer", "--lang", "vi"])
    assert again.exit_code != 0
    assert "không ở trạng thái đã đưa ra khỏi danh mục" in again.output


def test_a_reviewer_reinstates_a_retired_relic_from_its_page(client, auth, db, story,
                                                             reviewer):
    page = f"/sites/{story['hid']}"
    public = client.get(page)
    assert public.status_code == 410
    assert "Đưa di tích trở lại danh mục" not in public.get_data(as_text=True)
    auth.login("history-reviewer", PASSWORD)
    gone = client.get(page)
    body = gone.get_data(as_text=True)
    assert gone.status_code == 410 and "Lý do: Trùng lặp hồ sơ" in body
    assert f'href="/officials/records/{story["hid"]}/history"' in body
    assert f'action="/officials/records/{story["hid"]}/reinstate"' in body
    assert f'action="/officials/records/{story["hid"]}/reinstate"' in \
        client.get(history_url(story)).get_data(as_text=True)
    done = client.post(f"/officials/records/{story['hid']}/reinstate",
                       data={"csrf_token": auth.csrf(history_url(story))})
    assert done.status_code == 303 and done.headers["Location"].endswith(page)
    back = client.get(page)
    text_ = back.get_data(as_text=True)
    assert back.status_code == 200
    assert "Di tích hoạt động trở lại (bỏ hủy); 2 khu vực bảo vệ có hiệu lực trở lại." in text_
    assert (row(db, story["hid"])["status"], row(db, story["hid"])["name_vi"]) == \
        ("published", "Đình Lịch Sử Mới")
    bare = make_site(db, 105.97, 20.86, name="Miếu Không Khu Vực", zone_radius_m=None)
    backdate(db, "2026-02-01 08:00+07")
    lifecycle.retire(db, reviewer, bare, "Nhầm")
    said = client.post(f"/officials/records/{bare}/reinstate",
                       data={"csrf_token": auth.csrf(history_url(story))},
                       follow_redirects=True).get_data(as_text=True)
    assert "Di tích hoạt động trở lại (bỏ hủy)." in said and "0 khu vực" not in said
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    assert client.get(page).status_code == 200  # the public sees it again


def test_photos_assessments_and_merges_appear_in_the_history(db, reviewer):
    keep = make_site(db, 105.96, 20.85, name="Đình Giữ Lại", zone_radius_m=None)
    dup = make_site(db, 105.9601, 20.8501, name="Đình Trùng", zone_radius_m=None)
    dup_id = row(db, dup)["id"]
    db.execute(text("""INSERT INTO digital_records (site_id, media_type, uri, metadata)
                       VALUES (:s, 'image/jpeg', 'a/b.jpg', CAST(:m AS jsonb))"""),
               {"s": dup_id, "m": json.dumps({"caption_vi": "Cổng tam quan",
                                              "caption_en": "Triple gate"})})
    db.execute(text("""INSERT INTO condition_assessments (site_id, assessed_on, overall)
                       VALUES (:s, '2025-11-02', 'fair')"""), {"s": dup_id})
    backdate(db, "2025-11-03 10:00+07")
    lifecycle.merge(db, reviewer, dup, keep)
    survivor = history.history_text(history.relic_history(db, reviewer, keep, "vi"), "vi")
    assert f"  Ảnh/tài liệu chuyển từ di tích {dup} sang (hợp nhất)" in survivor
    assert f"  Phiếu đánh giá hiện trạng ngày 02/11/2025 chuyển từ di tích {dup} sang " \
           "(hợp nhất)" in survivor
    gone = history.history_text(history.relic_history(db, reviewer, dup, "en"), "en")
    assert gone[1].endswith(f"Merged into {keep}")
    assert "  Photo or document added: Triple gate" in gone
    assert "  Condition assessment of 02/11/2025: Fair" in gone


IN_TVV = (105.9563, 20.8400)  # in today's commune Triệu Việt Vương (12223) of the demo


def test_reviews_imports_and_restores_are_told_by_name(runner, client, auth, db, reviewer,
                                                       tmp_path: Path):
    """An import, a proposal sent back, one approved and a restore read as events that name
    the people (display names), on `records history` and on the page."""
    create_user(db, "history-xa", PASSWORD, "commune_editor", display_name="Đỗ Văn Xã",
                unit_codes=("12223",))
    survey = write_vector(tmp_path / "duyet.geojson", [{"TEN": "Đình Duyệt"}],
                          [point(*IN_TVV)])
    done = runner.invoke(args=["import", str(survey), "--layer", "sites", "--map",
                               "name_vi=TEN", "--user", "history-reviewer"])
    assert done.exit_code == 0, done.output
    import_id = int(done.output.split("import #")[1].split(":")[0])
    hid = lifecycle.drafts_of_import(db, import_id)[0]
    backdate(db, "2026-01-10 09:15+07")
    set_actor(db, reviewer.id)
    db.execute(text("UPDATE sites SET types = '{historical}' WHERE heritage_id = :h"),
               {"h": hid})  # the form requires a type; the survey had none
    backdate(db, "2026-01-10 09:20+07")

    def cli(*args: str) -> str:
        result = runner.invoke(args=list(args))
        assert result.exit_code == 0, result.output
        return result.output

    cli("records", "publish", hid, "--user", "history-reviewer")
    backdate(db, "2026-01-10 10:00+07")
    first = cli("records", "edit", hid, "--set", "period=Thời Lê", "--user", "history-xa")
    first_no = int(first.split("proposal #")[1].split()[0])
    backdate(db, "2026-01-11 08:00+07")
    cli("proposals", "send-back", str(first_no), "--comment", "Cần dẫn nguồn",
        "--user", "history-reviewer")
    backdate(db, "2026-01-12 08:00+07")
    second = cli("records", "edit", hid, "--set", "period=Thời Lê trung hưng",
                 "--user", "history-xa")
    second_no = int(second.split("proposal #")[1].split()[0])
    backdate(db, "2026-01-13 08:00+07")
    cli("proposals", "approve", str(second_no), "--user", "history-reviewer")
    backdate(db, "2026-01-14 08:00+07")
    cli("records", "restore", hid, "--as-of", "2026-01-12", "--user", "history-reviewer")

    heads = [line for line in cli("records", "history", hid).splitlines()
             if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d ", line)]
    assert heads[0].endswith("(Nguyễn Thẩm Định): Restored to the version of 12/01/2026 by "
                             "Nguyễn Thẩm Định")
    assert heads[1:] == [
        f"2026-01-14 08:00 (Nguyễn Thẩm Định): Proposal #{second_no} by Đỗ Văn Xã approved "
        "by Nguyễn Thẩm Định; Edited",
        f"2026-01-13 08:00 (Đỗ Văn Xã): Proposal #{second_no} by Đỗ Văn Xã: Period",
        f"2026-01-12 08:00 (Nguyễn Thẩm Định): Proposal #{first_no} by Đỗ Văn Xã sent back "
        "by Nguyễn Thẩm Định: Cần dẫn nguồn",
        f"2026-01-11 08:00 (Đỗ Văn Xã): Proposal #{first_no} by Đỗ Văn Xã: Period",
        "2026-01-10 10:00 (Nguyễn Thẩm Định): Published",
        "2026-01-10 09:20 (Nguyễn Thẩm Định): Edited",
        f"2026-01-10 09:15 (Nguyễn Thẩm Định): Import #{import_id} by Nguyễn Thẩm Định, "
        "file duyet.geojson; Created"]
    assert "    Period: – → Thời Lê trung hưng" in cli("records", "history", hid)

    auth.login("history-reviewer", PASSWORD)
    body = client.get(f"/officials/records/{hid}/history").get_data(as_text=True)
    for said in (f"Đề xuất #{second_no} của Đỗ Văn Xã được Nguyễn Thẩm Định duyệt",
                 f"Đề xuất #{first_no} của Đỗ Văn Xã bị Nguyễn Thẩm Định trả lại: Cần dẫn "
                 "nguồn",
                 f"Lần nhập #{import_id} của Nguyễn Thẩm Định, tệp duyet.geojson",
                 "Khôi phục về phiên bản ngày 12/01/2026, do Nguyễn Thẩm Định thực hiện"):
        assert said in body
    assert body.index("Khôi phục về phiên bản") < body.index(f"Đề xuất #{second_no}") \
        < body.index(f"Đề xuất #{first_no}") < body.index("Lần nhập #")


# --- the page ---------------------------------------------------------------------------

def history_url(story: dict, **args: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in args.items())
    return f"/officials/records/{story['hid']}/history" + (f"?{query}" if query else "")


def test_the_history_page_says_who_changed_what_in_both_languages(client, auth, story):
    auth.login("history-reviewer", PASSWORD)
    page = client.get(history_url(story))
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Lịch sử của Đình Lịch Sử Mới" in body
    assert "Trần Thị Sửa" in body and "Nguyễn Thẩm Định" in body
    assert f'href="/officials/imports/{story["import_id"]}"' in body
    assert f"lần nhập #{story['import_id']}" in body
    assert f"Lần nhập #{story['import_id']} của Nguyễn Thẩm Định, tệp khaosat.geojson" in body
    assert "Hủy di tích: Trùng lặp hồ sơ" in body and "Công bố" in body
    assert re.search(r'Xếp hạng:</span> <del>Di tích cấp tỉnh</del> → '
                     r'<ins>Di tích quốc gia</ins>', body)
    assert "16/03/2026 06:00" in body  # Vietnam's time, not the server's
    assert body.index("Hủy di tích") < body.index("Công bố")  # newest first
    geometries = json.loads(re.search(r'<script type="application/json" '
                                      r'id="history-geometries">(.*?)</script>', body,
                                      re.DOTALL).group(1))
    moved = [g for g in geometries if g["before"] and g["after"]
             and g["before"]["type"] == "Point"]
    assert [moved[0]["before"]["coordinates"], moved[0]["after"]["coordinates"]] == \
        [list(OLD), list(NEW)]
    english = client.get(history_url(story, lang="en")).get_data(as_text=True)
    assert "History of Đình Lịch Sử Mới" in english
    assert re.search(r'Rank:</span> <del>Provincial relic</del> → <ins>National relic</ins>',
                     english)
    assert f"import #{story['import_id']}" in english and "Retired: Trùng lặp hồ sơ" in english


def test_the_page_shows_the_record_as_of_a_date(client, auth, story):
    auth.login("history-reviewer", PASSWORD)
    body = client.get(history_url(story, as_of="2026-03-15")).get_data(as_text=True)
    assert "Như vào cuối ngày 15/03/2026" in body
    assert "<dt>Tên (tiếng Việt)</dt><dd>Đình Lịch Sử</dd>" in body
    assert "<dt>Trạng thái</dt><dd>Đã công bố</dd>" in body
    assert "Khôi phục phiên bản ngày 15/03/2026" in body
    early = client.get(history_url(story, as_of="2026-01-01")).get_data(as_text=True)
    assert "chưa có vào cuối ngày 01/01/2026 (di tích được tạo ngày 10/01/2026)" in early
    assert "Khôi phục phiên bản" not in early
    bad = client.get(history_url(story, as_of="15-03-2026"))
    assert bad.status_code == 400 and "NNNN-TT-NN" in bad.get_data(as_text=True)


def test_restore_through_the_page(client, auth, db, story):
    auth.login("history-reviewer", PASSWORD)
    token = auth.csrf(history_url(story, as_of="2026-03-15"))
    done = client.post(f"/officials/records/{story['hid']}/restore",
                       data={"csrf_token": token, "as_of": "2026-03-15"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(history_url(story))
    after = row(db, story["hid"])
    assert (after["status"], after["name_vi"], after["rank"]) == \
        ("published", "Đình Lịch Sử", "provincial")
    body = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Đã khôi phục về phiên bản ngày 15/03/2026:" in body
    assert "Di tích hoạt động trở lại (bỏ hủy); 2 khu vực bảo vệ có hiệu lực trở lại." in body
    newest = body[body.index('class="history-events"'):]
    assert newest.index("Khôi phục về phiên bản ngày 15/03/2026") < newest.index("Hủy di tích")
    refused = client.post(f"/officials/records/{story['hid']}/restore",
                          data={"csrf_token": token, "as_of": "2026-03-15"},
                          follow_redirects=True)
    assert "không có gì để khôi phục" in refused.get_data(as_text=True)


def test_who_may_open_the_history_and_restore(client, auth, db, story):
    assert client.get(history_url(story)).status_code == 302
    assert "/login" in client.get(history_url(story)).headers["Location"]
    unit = row(db, story["hid"])["admin_unit_id"]
    other = db.scalar(text("SELECT id FROM admin_units WHERE level = 'commune' AND "
                           "valid_to IS NULL AND id <> :u ORDER BY id LIMIT 1"), {"u": unit})
    create_user(db, "history-far", PASSWORD, "commune_editor", unit_ids=[other])
    create_user(db, "history-near", PASSWORD, "commune_editor", unit_ids=[unit])
    auth.login("history-far", PASSWORD)
    far = client.get(history_url(story))
    assert far.status_code == 403
    assert "cán bộ phụ trách xã/phường có di tích" in far.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    auth.login("history-near", PASSWORD)
    near = client.get(history_url(story, as_of="2026-03-15"))
    assert near.status_code == 200
    body = near.get_data(as_text=True)
    assert "Như vào cuối ngày 15/03/2026" in body and "Khôi phục phiên bản" not in body
    refused = client.post(f"/officials/records/{story['hid']}/restore",
                          data={"csrf_token": auth.csrf(history_url(story)),
                                "as_of": "2026-03-15"})
    assert refused.status_code == 403
    assert row(db, story["hid"])["status"] == "retired"


def test_the_relic_page_links_to_its_history(client, auth, db):
    hid = make_site(db, 105.95, 20.84, name="Đình Có Lịch Sử")
    link = f'href="/officials/records/{hid}/history"'
    assert link not in client.get(f"/sites/{hid}").get_data(as_text=True)
    create_user(db, "history-reader", PASSWORD, "district_reviewer")
    auth.login("history-reader", PASSWORD)
    assert link in client.get(f"/sites/{hid}").get_data(as_text=True)


def test_a_version_that_refers_to_what_is_gone_is_refused_and_nothing_changes(db, story,
                                                                               reviewer):
    set_actor(db, reviewer.id)
    org = db.scalar(text("INSERT INTO organisations (name) VALUES ('Ban quản lý cũ') "
                         "RETURNING id"))
    db.execute(text("UPDATE sites SET custodian_org_id = :o WHERE id = :s"),
               {"o": org, "s": story["id"]})
    backdate(db, "2026-04-01 10:00+07")
    db.execute(text("UPDATE sites SET custodian_org_id = NULL WHERE id = :s"),
               {"s": story["id"]})
    db.execute(text("DELETE FROM organisations WHERE id = :o"), {"o": org})
    before = row(db, story["hid"])
    with pytest.raises(InputError, match="refers to something that no longer exists"):
        history.restore(db, reviewer, story["hid"], history.parse_as_of("2026-04-01"))
    assert row(db, story["hid"]) == before


def test_any_date_the_form_accepts_is_answered(client, auth, story):
    auth.login("history-reviewer", PASSWORD)
    far = client.get(history_url(story, as_of="9999-12-31"))
    assert far.status_code == 200
    assert "Như vào cuối ngày 31/12/9999" in far.get_data(as_text=True)
