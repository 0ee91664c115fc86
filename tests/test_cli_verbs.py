"""The life-cycle verbs on the command line (gis_app/cli.py), as an operator scripts them:
each through click's runner against the real database, asserting what changed and the
revision's actor; refusals are one line in English or Vietnamese with exit code 1."""
from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from tests.factories import make_assessment, make_site
from tests.surveyfiles import write_vector

PASSWORD = "a long enough password"
# Inside today's commune Triệu Việt Vương (12223) of the demo data.
IN_TVV = (105.9563, 20.8400)


@pytest.fixture
def reviewer(db):
    return create_user(db, "cli-reviewer", PASSWORD, "district_reviewer",
                       display_name="Phạm Thẩm Định")


@pytest.fixture
def editor(db):
    return create_user(db, "cli-editor", PASSWORD, "commune_editor",
                       display_name="Vũ Cán Bộ Xã", unit_codes=("12223",))


def relic(db, lon_lat=IN_TVV, **kwargs) -> str:
    hid = make_site(db, *lon_lat, **kwargs)
    assign_units(db, [site_id(db, hid)])
    db.flush()
    return hid


def site_id(db, hid: str) -> int:
    return db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})


def site(db, hid: str) -> dict:
    return dict(db.execute(text("""
        SELECT s.*, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, o.name AS custodian
          FROM sites s LEFT JOIN organisations o ON o.id = s.custodian_org_id
         WHERE s.heritage_id = :h"""), {"h": hid}).mappings().one())


def last_revision(db, table: str, row_id: int) -> dict:
    return dict(db.execute(text("""
        SELECT r.action, r.before, r.after, u.username AS actor FROM revisions r
          LEFT JOIN users u ON u.id = r.actor_id
         WHERE r.table_name = :t AND r.row_id = CAST(:r AS text)
         ORDER BY r.id DESC LIMIT 1"""), {"t": table, "r": row_id}).mappings().one())


def invoke(runner, *args: str):
    return runner.invoke(args=list(args))


def refused(done, message: str) -> None:
    """Refused the way an operator meets it: exit code 1 and the one-line message."""
    assert done.exit_code == 1, done.output
    assert message in done.output
    assert "Traceback" not in done.output
    assert len(done.output.strip().splitlines()) == 1, done.output


# --- records ---------------------------------------------------------------------------

def test_records_edit_by_a_reviewer_changes_the_relic_under_their_name(runner, db, reviewer):
    hid = relic(db, name="Đình Cũ")
    done = invoke(runner, "records", "edit", hid, "--set", "name_vi=Đình Mới",
                  "--set", "rank=national", "--position", "105.9565,20.8402",
                  "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    assert f"{hid} changed: " in done.output
    now = site(db, hid)
    assert (now["name_vi"], now["rank"]) == ("Đình Mới", "national")
    assert (round(now["lon"], 6), round(now["lat"], 6)) == (105.9565, 20.8402)
    revision = last_revision(db, "sites", now["id"])
    assert revision["actor"] == "cli-reviewer"
    assert (revision["before"]["name_vi"], revision["after"]["name_vi"]) == \
        ("Đình Cũ", "Đình Mới")


def test_records_edit_by_a_commune_editor_becomes_a_proposal(runner, db, editor):
    hid = relic(db, name="Đình Xã")
    done = invoke(runner, "records", "edit", hid, "--set", "period=Thời Lê",
                  "--note", "Theo bia đá", "--user", "cli-editor")
    assert done.exit_code == 0, done.output
    proposal = db.execute(text("""
        SELECT p.id, p.changes, p.note, u.username FROM change_proposals p
          JOIN users u ON u.id = p.author_id WHERE p.record_id = :s"""),
        {"s": site_id(db, hid)}).mappings().one()
    assert f"proposal #{proposal['id']} for {hid} waits for review: period" in done.output
    assert proposal["changes"] == {"period": [None, "Thời Lê"]}
    assert (proposal["username"], proposal["note"]) == ("cli-editor", "Theo bia đá")
    assert site(db, hid)["period"] is None  # the record waits for the review


def test_records_edit_in_vn2000_metres(runner, db, reviewer):
    from pyproj import Transformer

    hid = relic(db)
    east, north = Transformer.from_crs(4326, 9209, always_xy=True).transform(105.9566,
                                                                             20.8403)
    done = invoke(runner, "records", "edit", hid, "--vn2000", f"{east:.2f},{north:.2f}",
                  "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    now = site(db, hid)
    assert abs(now["lon"] - 105.9566) < 1e-6 and abs(now["lat"] - 20.8403) < 1e-6


def test_records_edit_refusals_are_one_line_in_either_language(runner, db, reviewer):
    hid = relic(db)
    refused(invoke(runner, "records", "edit", hid, "--set", "name_vi=X", "--user", "nobody"),
            "No account named 'nobody'")
    refused(invoke(runner, "records", "edit", hid, "--set", "name_vi=X", "--user", "nobody",
                   "--lang", "vi"), "Không có tài khoản tên 'nobody'")
    refused(invoke(runner, "records", "edit", hid, "--set", "colour=red",
                   "--user", "cli-reviewer"), "--set 'colour=red': give FIELD=VALUE")
    refused(invoke(runner, "records", "edit", hid, "--set", "rank=imperial",
                   "--user", "cli-reviewer", "--lang", "vi"),
            "'imperial' không phải cấp xếp hạng")
    refused(invoke(runner, "records", "edit", hid, "--position", "20.84,105.95",
                   "--user", "cli-reviewer"), "Longitude and latitude look swapped")
    refused(invoke(runner, "records", "edit", hid, "--user", "cli-reviewer"),
            "Nothing was changed")
    missing = invoke(runner, "records", "edit", hid, "--set", "name_vi=X")
    assert missing.exit_code == 2 and "Missing option '--user'" in missing.output


def test_a_disabled_account_cannot_act(runner, db, reviewer):
    hid = relic(db, status="draft")
    db.execute(text("UPDATE users SET active = false WHERE id = :u"), {"u": reviewer.id})
    db.flush()
    refused(invoke(runner, "records", "publish", hid, "--user", "cli-reviewer"),
            "The account 'cli-reviewer' is disabled")
    assert site(db, hid)["status"] == "draft"


def test_records_create_makes_a_draft(runner, db, reviewer):
    done = invoke(runner, "records", "create", "--set", "name_vi=Miếu Mới Lập",
                  "--set", "types=historical,architectural_artistic",
                  "--position", f"{IN_TVV[0]},{IN_TVV[1]}", "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    hid = done.output.split()[-5]
    assert done.output.strip().endswith(f"{hid} created as a draft")
    made = site(db, hid)
    assert (made["name_vi"], made["status"]) == ("Miếu Mới Lập", "draft")
    assert made["types"] == ["historical", "architectural_artistic"]
    assert last_revision(db, "sites", made["id"])["actor"] == "cli-reviewer"
    refused(invoke(runner, "records", "create", "--set", "name_vi=Không Vị Trí",
                   "--set", "types=historical", "--user", "cli-reviewer"),
            "Give the relic's position")


def test_records_custodian_entrusts_relics(runner, db, reviewer, editor):
    first, second = relic(db), relic(db, (105.9564, 20.8401))
    done = invoke(runner, "records", "custodian", first, second,
                  "--organisation", "Ban quản lý di tích xã Triệu Việt Vương",
                  "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    assert "2 relic(s) entrusted to Ban quản lý di tích xã Triệu Việt Vương" in done.output
    for hid in (first, second):
        now = site(db, hid)
        assert now["custodian"] == "Ban quản lý di tích xã Triệu Việt Vương"
        revision = last_revision(db, "sites", now["id"])
        assert revision["actor"] == "cli-reviewer"
        assert revision["before"]["custodian_org_id"] is None
    refused(invoke(runner, "records", "custodian", first, "--organisation", "Khác",
                   "--user", "cli-editor"),
            "Only a district reviewer or an administrator")


# --- proposals -------------------------------------------------------------------------

def propose(runner, db, hid: str, **sets: str) -> int:
    args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
    done = invoke(runner, "records", "edit", hid, *args, "--user", "cli-editor")
    assert done.exit_code == 0, done.output
    return int(done.output.split("proposal #")[1].split()[0])


def test_proposals_list_show_and_approve(runner, db, reviewer, editor):
    hid = relic(db, name="Đình Đề Xuất")
    number = propose(runner, db, hid, name_vi="Đình Đề Xuất (sửa)")
    queue = invoke(runner, "proposals", "list", "--user", "cli-reviewer")
    assert queue.exit_code == 0, queue.output
    assert f"#{number} " in queue.output and "Vũ Cán Bộ Xã" in queue.output
    shown = invoke(runner, "proposals", "show", str(number), "--user", "cli-reviewer",
                   "--lang", "vi")
    assert "  Tên (tiếng Việt): Đình Đề Xuất → Đình Đề Xuất (sửa)" in shown.output
    done = invoke(runner, "proposals", "approve", str(number), "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    assert f"proposal #{number} approved: {hid} changed" in done.output
    now = site(db, hid)
    assert now["name_vi"] == "Đình Đề Xuất (sửa)"
    assert last_revision(db, "sites", now["id"])["actor"] == "cli-reviewer"
    mine = invoke(runner, "proposals", "list", "--user", "cli-editor")
    assert f"#{number} " in mine.output and "approved" in mine.output
    refused(invoke(runner, "proposals", "approve", str(number), "--user", "cli-reviewer"),
            f"Proposal #{number} is no longer pending: it was approved.")
    refused(invoke(runner, "proposals", "show", "999999", "--user", "cli-reviewer"),
            "There is no proposal #999999.")


def test_proposals_send_back_with_a_comment(runner, db, reviewer, editor):
    hid = relic(db, name="Đình Trả Lại")
    number = propose(runner, db, hid, period="Thời Mạc")
    refused(invoke(runner, "proposals", "send-back", str(number), "--comment", " ",
                   "--user", "cli-reviewer"), "Say why the proposal is sent back")
    done = invoke(runner, "proposals", "send-back", str(number), "--comment",
                  "Cần dẫn nguồn", "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    row = db.execute(text("""SELECT p.status, p.comment, u.username FROM change_proposals p
                               JOIN users u ON u.id = p.reviewer_id WHERE p.id = :p"""),
                     {"p": number}).one()
    assert tuple(row) == ("returned", "Cần dẫn nguồn", "cli-reviewer")
    assert site(db, hid)["period"] is None
    refused(invoke(runner, "proposals", "approve", str(number), "--user", "cli-editor"),
            "Only a district reviewer or an administrator reviews proposals.")


def test_proposals_withdraw_by_the_author_only(runner, db, reviewer, editor):
    hid = relic(db)
    number = propose(runner, db, hid, materials="Gỗ lim")
    refused(invoke(runner, "proposals", "withdraw", str(number), "--user", "cli-reviewer"),
            "Only its author may withdraw a proposal.")
    done = invoke(runner, "proposals", "withdraw", str(number), "--user", "cli-editor")
    assert done.exit_code == 0, done.output
    assert db.scalar(text("SELECT status FROM change_proposals WHERE id = :p"),
                     {"p": number}) == "withdrawn"


# --- zones -----------------------------------------------------------------------------

def zone_file(tmp_path: Path, lon: float, lat: float, radius_deg: float) -> Path:
    return write_vector(tmp_path / "khu-vuc.geojson", [{"KV": "I"}],
                        [Point(lon, lat).buffer(radius_deg, 16)])


def test_zones_set_saves_a_version_and_show_reads_it_as_of(runner, db, reviewer, tmp_path):
    hid = relic(db, zone_radius_m=None)
    first = invoke(runner, "zones", "set", hid, "--zone", "I", "--file",
                   str(zone_file(tmp_path, *IN_TVV, 0.0004)), "--decision-no", "12/QĐ-UBND",
                   "--decision-date", "2020-03-01", "--valid-from", "2020-03-15",
                   "--user", "cli-reviewer")
    assert first.exit_code == 0, first.output
    assert "zone I: version #" in first.output and "in force from 2020-03-15" in first.output
    second = invoke(runner, "zones", "set", hid, "--zone", "I", "--file",
                    str(zone_file(tmp_path, *IN_TVV, 0.0006)), "--decision-no", "7/QĐ-UBND",
                    "--decision-date", "2025-01-02", "--valid-from", "2025-02-01",
                    "--user", "cli-reviewer")
    assert second.exit_code == 0, second.output
    assert "ends the day before" in second.output
    rows = db.execute(text("""
        SELECT z.id, z.decision_no, z.valid_from, z.valid_to, u.username
          FROM protection_zones z
          JOIN revisions r ON r.table_name = 'protection_zones' AND r.row_id = z.id::text
                          AND r.action = 'insert'
          JOIN users u ON u.id = r.actor_id
         WHERE z.site_id = :s ORDER BY z.valid_from"""), {"s": site_id(db, hid)}).all()
    assert [(r.decision_no, str(r.valid_from), str(r.valid_to), r.username) for r in rows] == [
        ("12/QĐ-UBND", "2020-03-15", "2025-01-31", "cli-reviewer"),
        ("7/QĐ-UBND", "2025-02-01", "None", "cli-reviewer")]
    then = invoke(runner, "zones", "show", hid, "--as-of", "2024-06-01")
    assert then.exit_code == 0, then.output
    in_force = then.output.split("versions:")[0]
    assert "12/QĐ-UBND" in in_force and "7/QĐ-UBND" not in in_force
    today = invoke(runner, "zones", "show", hid, "--lang", "vi")
    in_force = today.output.split("versions:")[0]
    assert "7/QĐ-UBND" in in_force and "Khu vực bảo vệ I" in in_force
    refused(invoke(runner, "zones", "set", hid, "--zone", "I", "--file",
                   str(zone_file(tmp_path, *IN_TVV, 0.0005)), "--valid-from", "2024-01-01",
                   "--user", "cli-reviewer"), "a new version must start after it")
    refused(invoke(runner, "zones", "show", hid, "--as-of", "tomorrow"),
            "'tomorrow' is not a date")


# --- assessments and media -----------------------------------------------------------------

def test_assessments_withdraw(runner, db, reviewer):
    hid = relic(db)
    assessment = make_assessment(db, site_id(db, hid), "2025-05-01", "poor")
    refused(invoke(runner, "assessments", "withdraw", str(assessment), "--reason", "",
                   "--user", "cli-reviewer"), "Give the reason for withdrawing")
    done = invoke(runner, "assessments", "withdraw", str(assessment), "--reason",
                  "Nhầm di tích", "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    row = db.execute(text("""SELECT w.reason, u.username FROM assessment_withdrawals w
                               JOIN users u ON u.id = w.withdrawn_by
                              WHERE w.assessment_id = :a"""), {"a": assessment}).one()
    assert tuple(row) == ("Nhầm di tích", "cli-reviewer")
    refused(invoke(runner, "assessments", "withdraw", str(assessment), "--reason", "again",
                   "--user", "cli-reviewer"), "was already withdrawn")


def test_media_remove_and_restore(runner, db, reviewer, editor):
    hid = relic(db)
    record = db.scalar(text("""
        INSERT INTO digital_records (site_id, media_type, uri, metadata, approved_at)
        VALUES (:s, 'image/jpeg', 'sites/x.jpg', '{"title": "Cổng đình"}', now())
        RETURNING id"""), {"s": site_id(db, hid)})
    db.flush()
    refused(invoke(runner, "media", "remove", str(record), "--reason", "Sai ảnh",
                   "--user", "cli-editor"), "Only district reviewers")
    done = invoke(runner, "media", "remove", str(record), "--reason", "Sai ảnh",
                  "--user", "cli-reviewer")
    assert done.exit_code == 0, done.output
    revision = last_revision(db, "digital_records", record)
    assert revision["actor"] == "cli-reviewer"
    assert revision["after"]["removed_reason"] == "Sai ảnh"
    assert revision["before"]["removed_at"] is None
    back = invoke(runner, "media", "restore", str(record), "--user", "cli-reviewer")
    assert back.exit_code == 0, back.output
    assert last_revision(db, "digital_records", record)["after"]["removed_at"] is None
    refused(invoke(runner, "media", "restore", "999999", "--user", "cli-reviewer"),
            "There is no photo or document #999999.")


# --- the verbs that were there before --------------------------------------------------------

def test_records_publish_retire_merge_restore_record_their_actor(runner, db, reviewer):
    draft, duplicate, survivor = relic(db, status="draft"), relic(db), relic(db)
    assert invoke(runner, "records", "publish", draft, "--user", "cli-reviewer").exit_code == 0
    assert site(db, draft)["status"] == "published"
    assert last_revision(db, "sites", site_id(db, draft))["actor"] == "cli-reviewer"
    refused(invoke(runner, "records", "retire", draft, "--reason", "Trùng",
                   "--user", "ghost", "--lang", "vi"), "Không có tài khoản tên 'ghost'")
    retired = invoke(runner, "records", "retire", draft, "--reason", "Trùng",
                     "--user", "cli-reviewer")
    assert retired.exit_code == 0, retired.output
    revision = last_revision(db, "sites", site_id(db, draft))
    assert (revision["after"]["status"], revision["after"]["retired_reason"],
            revision["actor"]) == ("retired", "Trùng", "cli-reviewer")
    merged = invoke(runner, "records", "merge", duplicate, "--into", survivor,
                    "--user", "cli-reviewer")
    assert merged.exit_code == 0, merged.output
    assert site(db, duplicate)["merged_into_id"] == site_id(db, survivor)
    refused(invoke(runner, "records", "restore", draft, "--as-of", "31/01/2026",
                   "--user", "cli-reviewer"), "Give the date as YYYY-MM-DD")
