"""Condition assessments: recording (append-only, audited, photos), corrections, who may
record and see what (commune scope as of the assessment date), the officials' pages, and
the latest / per-year / comparison / change / worsening queries with hand-computed
expectations.

The data (build_world): communes A and B (current) and a former commune O (closed
30/06/2025, its site moved to A from 01/07/2025); four sites with assessments in
2023-2025:
  S1 Chùa Một (A):  2023-05-10 good {roof good, structure good}
                    2024-06-01 fair {roof poor, structure good} threats damp
                    2025-04-02 poor {roof very_poor, structure fair} worsening,
                               threats damp, termites
  S2 Đình Hai (A):  2023-03-01 poor {roof poor}; 2024-03-01 fair {roof fair} improving;
                    2025-03-01 fair {roof fair} stable; 2025-09-01 ruined (a mistake)
                    corrected by 2025-09-01 good {roof good}
  S3 Đền Ba (B):    2024-08-01 fair; 2025-08-01 fair worsening
  S4 Miếu Bốn (O, then A): 2024-05-01 good; 2025-10-01 fair
"""
from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_app.errors import InputError, PermissionDenied
from gis_app.services import conditions as cond
from gis_app.services.accounts import create_user
from tests.factories import (
    make_admin_unit,
    make_assessment,
    make_site,
    place_site,
    png,
    png_claiming,
)

PASSWORD = "a long enough password"
BASE = "/officials/conditions"
def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 90, 40)).save(out, "JPEG")
    return out.getvalue()


PNG = png()
JPEG = _jpeg()


@dataclass
class World:
    a: int
    b: int
    old: int
    s1: int
    s2: int
    s3: int
    s4: int
    s2_mistake: int
    s2_correction: int

    @property
    def sites(self) -> list[int]:
        return [self.s1, self.s2, self.s3, self.s4]


@pytest.fixture
def world(db: Session) -> World:
    a = make_admin_unit(db, "TST-A", "Xã Thử An")
    b = make_admin_unit(db, "TST-B", "Xã Thử Bình")
    old = make_admin_unit(db, "TST-O", "Xã Cũ", valid_to="2025-06-30")
    s1 = place_site(db, make_site(db, 105.95, 20.83, name="Chùa Một", zone_radius_m=None), a)
    s2 = place_site(db, make_site(db, 105.96, 20.84, name="Đình Hai", zone_radius_m=None), a)
    s3 = place_site(db, make_site(db, 105.97, 20.85, name="Đền Ba", zone_radius_m=None), b)
    h4 = make_site(db, 105.98, 20.86, name="Miếu Bốn", zone_radius_m=None)
    s4 = place_site(db, h4, old, valid_to="2025-06-30", current=False)
    place_site(db, h4, a, valid_from="2025-07-01")
    make_assessment(db, s1, "2023-05-10", "good", elements={"roof": "good", "structure": "good"})
    make_assessment(db, s1, "2024-06-01", "fair", elements={"roof": "poor", "structure": "good"},
                    threats=("damp",))
    make_assessment(db, s1, "2025-04-02", "poor",
                    elements={"roof": "very_poor", "structure": "fair"},
                    threats=("damp", "termites"), trend="worsening")
    make_assessment(db, s2, "2023-03-01", "poor", elements={"roof": "poor"})
    make_assessment(db, s2, "2024-03-01", "fair", elements={"roof": "fair"}, trend="improving")
    make_assessment(db, s2, "2025-03-01", "fair", elements={"roof": "fair"}, trend="stable")
    mistake = make_assessment(db, s2, "2025-09-01", "ruined")
    correction = make_assessment(db, s2, "2025-09-01", "good", elements={"roof": "good"},
                                 supersedes_id=mistake)
    make_assessment(db, s3, "2024-08-01", "fair")
    make_assessment(db, s3, "2025-08-01", "fair", trend="worsening")
    make_assessment(db, s4, "2024-05-01", "good")
    make_assessment(db, s4, "2025-10-01", "fair")
    return World(a, b, old, s1, s2, s3, s4, mistake, correction)


def login(client, db: Session, auth, role: str = "district_reviewer",
          units: tuple[str, ...] = ()):
    name = f"{role}-cond"
    user = create_user(db, name, PASSWORD, role, display_name="Lê Thị Đánh Giá",
                       unit_codes=units)
    assert auth.login(name, PASSWORD).status_code == 302
    return user


def count(db: Session, site_id: int) -> int:
    return db.scalar(text("SELECT count(*) FROM condition_assessments WHERE site_id = :s"),
                     {"s": site_id})


def form(auth, site_id: int, **values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": auth.csrf(f"{BASE}/sites/{site_id}"), "assessed_on": "2025-11-20",
        "assessor_name": "Phạm Văn Khảo", "overall": "fair", "element_roof": "poor",
        "element_structure": "good", "threats": ["damp", "termites"], "trend": "stable",
        "notes": "Mái dột ở gian bên trái."}
    data.update(values)
    return data


def page_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


# --- recording ---------------------------------------------------------------------------

def test_recording_through_the_form_stores_the_row_and_a_revision(client, db, auth, world):
    user = login(client, db, auth)
    before = count(db, world.s1)
    response = client.post(f"{BASE}/sites/{world.s1}", data=form(auth, world.s1))
    assert response.status_code == 302
    assert count(db, world.s1) == before + 1
    row = db.execute(text("""
        SELECT id, overall, element_scores, threats, trend, notes, assessor_name, recorded_by
          FROM condition_assessments WHERE site_id = :s ORDER BY id DESC LIMIT 1"""),
        {"s": world.s1}).mappings().one()
    assert row["overall"] == "fair" and row["trend"] == "stable"
    assert row["element_scores"] == {"roof": "poor", "structure": "good"}
    assert row["threats"] == ["damp", "termites"] and row["recorded_by"] == user.id
    assert row["assessor_name"] == "Phạm Văn Khảo"
    revision = db.execute(text("""
        SELECT action, actor_id, after FROM revisions
         WHERE table_name = 'condition_assessments' AND row_id = :id"""),
        {"id": str(row["id"])}).mappings().one()
    assert revision["action"] == "insert" and revision["actor_id"] == user.id
    assert revision["after"]["overall"] == "fair"
    history = page_text(client.get(response.headers["Location"]))
    assert f"Đã ghi phiếu đánh giá #{row['id']}" in history
    assert "20/11/2025" in history and "Mái dột ở gian bên trái." in history
    assert "Mối mọt" in history and "Xuống cấp" in history  # labels, not codes


def test_the_database_refuses_update_and_delete(db, world):
    for statement in ("UPDATE condition_assessments SET overall = 'good' WHERE id = :id",
                      "DELETE FROM condition_assessments WHERE id = :id"):
        savepoint = db.begin_nested()
        with pytest.raises(DBAPIError, match="never overwritten"):
            db.execute(text(statement), {"id": world.s2_mistake})
        savepoint.rollback()
    assert db.scalar(text("SELECT overall FROM condition_assessments WHERE id = :id"),
                     {"id": world.s2_mistake}) == "ruined"


def test_a_correction_supersedes_and_the_history_shows_both(client, db, auth, world):
    login(client, db, auth)
    wrong = make_assessment(db, world.s3, "2025-10-10", "ruined", trend="worsening")
    prefilled = page_text(client.get(f"{BASE}/sites/{world.s3}?correct={wrong}"))
    assert f'name="supersedes_id" value="{wrong}"' in prefilled
    assert '<option value="ruined" selected>' in prefilled
    assert 'value="2025-10-10"' in prefilled
    response = client.post(f"{BASE}/sites/{world.s3}", data=form(
        auth, world.s3, supersedes_id=str(wrong), assessed_on="2025-10-10", overall="poor"))
    assert response.status_code == 302
    new = db.scalar(text("SELECT id FROM condition_assessments WHERE supersedes_id = :w"),
                    {"w": wrong})
    history = page_text(client.get(f"{BASE}/sites/{world.s3}"))
    assert f'data-assessment="{wrong}"' in history and f'data-assessment="{new}"' in history
    assert f"Bị thay thế bởi #{new}" in history and f"Sửa phiếu #{wrong}" in history
    listed = cond.assessments_for_site(db, world.s3)
    assert [(a["id"], a["superseded"]) for a in listed[:2]] == [(new, False), (wrong, True)]
    assert cond.latest_assessments(db, site_ids=[world.s3])[world.s3]["overall"] == "poor"
    # Correcting it again is refused: correct the latest version instead.
    assert client.get(f"{BASE}/sites/{world.s3}?correct={wrong}").status_code == 400
    again = client.post(f"{BASE}/sites/{world.s3}", data=form(
        auth, world.s3, supersedes_id=str(wrong)))
    assert again.status_code == 400
    assert f"Phiếu đánh giá số {wrong} đã được sửa" in page_text(again)


def test_a_correction_must_be_of_the_same_site(db, world):
    reviewer = create_user(db, "rev-same-site", PASSWORD, "district_reviewer")
    with pytest.raises(InputError, match="is of another site"):
        cond.record_assessment(db, reviewer, world.s1, assessed_on=date(2025, 9, 1),
                               overall="good", element_scores={}, threats=[], trend=None,
                               notes=None, supersedes_id=world.s2_correction)


# --- who may record and see ----------------------------------------------------------------

def test_commune_editor_records_only_in_their_commune_as_of_the_date(client, db, auth, world):
    login(client, db, auth, "commune_editor", ("TST-A",))
    ok = client.post(f"{BASE}/sites/{world.s1}", data=form(auth, world.s1))
    assert ok.status_code == 302

    before = count(db, world.s3)
    other = client.post(f"{BASE}/sites/{world.s3}", data=form(auth, world.s1))
    assert other.status_code == 403
    assert "Di tích này không thuộc đơn vị hành chính của tài khoản bạn" in page_text(other)
    assert count(db, world.s3) == before

    # S4 moved into commune A on 01/07/2025: before that date it was commune O's.
    before = count(db, world.s4)
    earlier = client.post(f"{BASE}/sites/{world.s4}",
                          data=form(auth, world.s4, assessed_on="2025-06-30"))
    assert earlier.status_code == 403
    assert ("Bạn không được ghi phiếu đánh giá di tích này vào ngày 30/06/2025: vào ngày đó "
            "di tích không thuộc đơn vị hành chính của tài khoản bạn") in page_text(earlier)
    assert count(db, world.s4) == before
    later = client.post(f"{BASE}/sites/{world.s4}",
                        data=form(auth, world.s4, assessed_on="2025-07-01"))
    assert later.status_code == 302

    # The editor sees S4's assessments from its commune-A time only, and not S3 at all.
    history = page_text(client.get(f"{BASE}/sites/{world.s4}"))
    assert "01/10/2025" in history and "01/05/2024" not in history
    assert client.get(f"{BASE}/sites/{world.s3}").status_code == 403
    listing = page_text(client.get(BASE))
    assert "Chùa Một" in listing and "Miếu Bốn" in listing and "Đền Ba" not in listing


def test_can_assess_follows_the_unit_on_the_date(db, world):
    editor = create_user(db, "ed-dates", PASSWORD, "commune_editor", unit_codes=("TST-A",))
    reviewer = create_user(db, "rev-dates", PASSWORD, "district_reviewer")
    public = create_user(db, "pub-dates", PASSWORD, "public")
    assert cond.can_assess(db, editor, world.s4, date(2025, 7, 1))
    assert not cond.can_assess(db, editor, world.s4, date(2025, 6, 30))
    assert not cond.can_assess(db, editor, world.s3, date(2025, 7, 1))
    assert cond.can_assess(db, reviewer, world.s3, date(2020, 1, 1))
    assert not cond.can_assess(db, public, world.s1, date(2025, 7, 1))
    with pytest.raises(PermissionDenied):
        cond.record_assessment(db, editor, world.s3, assessed_on=date(2025, 7, 1),
                               overall="good", element_scores={}, threats=[], trend=None,
                               notes=None)
    # Lists for the editor keep only what was in commune A on each date.
    assert set(cond.latest_assessments(db, user=editor)) == {world.s1, world.s2, world.s4}
    assert cond.condition_in_year(db, 2024, user=editor).get(world.s4) is None


def test_the_public_is_sent_to_sign_in_everywhere(client, db, world):
    for path in (BASE, f"{BASE}/sites/{world.s1}", f"{BASE}/compare",
                 f"{BASE}/compare?site={world.s1}&site={world.s2}&year=2024",
                 f"{BASE}/compare.csv?site={world.s1}&site={world.s2}&year=2024",
                 f"{BASE}/map", f"{BASE}/map?since=2024", f"{BASE}/map.json",
                 f"{BASE}/worsening"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"], path
    asked_json = client.get(f"{BASE}/map.json", headers={"Accept": "application/json"})
    assert asked_json.status_code == 401 and asked_json.json["error"] == "unauthorized"
    assert "features" not in asked_json.get_data(as_text=True)
    before = count(db, world.s1)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    post = client.post(f"{BASE}/sites/{world.s1}", data={"csrf_token": token,
                                                        "assessed_on": "2025-11-01",
                                                        "overall": "good"})
    assert post.status_code == 303 and "/login" in post.headers["Location"]
    assert count(db, world.s1) == before


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "message"), [
    ({"assessed_on": "2099-01-01"}, "Ngày đánh giá 01/01/2099 ở tương lai"),
    ({"overall": "excellent"}, "Tình trạng chung 'excellent' không hợp lệ"),
    ({"element_roof": "shiny"}, "Tình trạng 'shiny' của hạng mục roof không hợp lệ"),
    ({"threats": ["aliens"]}, "Nguy cơ không hợp lệ: aliens"),
    ({"assessed_on": "31/02/2025"}, "'31/02/2025' không phải là ngày"),
])
def test_bad_input_is_shown_on_the_form_and_nothing_is_stored(client, db, auth, world, media,
                                                              values, message):
    login(client, db, auth)
    before = count(db, world.s1)
    response = client.post(f"{BASE}/sites/{world.s1}", data=form(auth, world.s1, **values))
    assert response.status_code == 400
    shown = page_text(response)
    assert message in shown and 'role="alert"' in shown
    assert 'value="Phạm Văn Khảo"' in shown  # what was typed is kept
    assert count(db, world.s1) == before


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_is_stored(client, db, auth, world,
                                                                     media):
    login(client, db, auth)
    before = count(db, world.s1)
    photos_before = db.scalar(text("SELECT count(*) FROM condition_photos"))
    data = form(auth, world.s1)
    data["photos"] = [(io.BytesIO(JPEG), "good.jpg"),
                      (io.BytesIO(b"%PDF-1.7 not a photo"), "bien-ban.jpg")]
    response = client.post(f"{BASE}/sites/{world.s1}", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "bien-ban.jpg: không phải ảnh JPEG, PNG hoặc WebP" in page_text(response)
    assert count(db, world.s1) == before
    assert db.scalar(text("SELECT count(*) FROM condition_photos")) == photos_before
    assert not media.exists() or not any(media.rglob("*.*"))


def test_a_photo_over_10_mb_is_refused(db, world, app, media):
    reviewer = create_user(db, "rev-big", PASSWORD, "district_reviewer")
    big = PNG + b"\x00" * (10 * 1024 * 1024)
    with app.app_context(), pytest.raises(InputError, match="larger than 10 MB"):
        cond.record_assessment(db, reviewer, world.s1, assessed_on=date(2025, 11, 1),
                               overall="good", element_scores={}, threats=[], trend=None,
                               notes=None, photos=[("to.png", big, None, None, None)])
    assert not media.exists() or not any(media.rglob("*.*"))


def test_a_photo_that_would_decode_into_gigabytes_is_refused(client, db, auth, world, media):
    login(client, db, auth)
    before = count(db, world.s1)
    data = form(auth, world.s1)
    data["photos"] = [(io.BytesIO(png_claiming(20_000, 20_000)), "bom.png")]
    response = client.post(f"{BASE}/sites/{world.s1}", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "bom.png: Ảnh quá lớn: tối đa 80 triệu điểm ảnh." in page_text(response)
    assert count(db, world.s1) == before


def test_photos_are_saved_on_disk_with_their_rows(client, db, auth, world, media):
    login(client, db, auth)
    data = form(auth, world.s2, photo_caption="Mái đình phía đông", photo_credit="Phạm Văn Khảo",
                photo_licence="CC BY 4.0")
    data["photos"] = [(io.BytesIO(PNG), "mai-dinh.png"), (io.BytesIO(JPEG), "cot.JPG")]
    response = client.post(f"{BASE}/sites/{world.s2}", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 302
    new = db.scalar(text("SELECT max(id) FROM condition_assessments WHERE site_id = :s"),
                    {"s": world.s2})
    rows = db.execute(text("""SELECT uri, caption, credit, licence FROM condition_photos
                               WHERE assessment_id = :a ORDER BY id"""), {"a": new}).all()
    assert [tuple(r) for r in rows] == [
        (f"conditions/{new}/1.png", "Mái đình phía đông", "Phạm Văn Khảo", "CC BY 4.0"),
        (f"conditions/{new}/2.jpg", "Mái đình phía đông", "Phạm Văn Khảo", "CC BY 4.0")]
    assert (media / "conditions" / str(new) / "1.png").read_bytes() == PNG
    assert (media / "conditions" / str(new) / "2.jpg").read_bytes() == JPEG
    history = page_text(client.get(f"{BASE}/sites/{world.s2}"))
    assert f'src="/media/conditions/{new}/1.png' in history and "Mái đình phía đông" in history

    # The /media/ route serves condition photos to officials only.
    served = client.get(f"/media/conditions/{new}/1.png")
    assert served.status_code == 200 and served.data == PNG
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    assert client.get(f"/media/conditions/{new}/1.png").status_code == 404
    # A commune editor of another commune does not see it; one of Xã Thử An does.
    for units, status in ((("TST-B",), 404), (("TST-A",), 200)):
        user = create_user(db, f"xa-{units[0]}", PASSWORD, "commune_editor", unit_codes=units)
        db.flush()
        auth.login(user.username, PASSWORD)
        assert client.get(f"/media/conditions/{new}/1.png").status_code == status
        client.post("/logout", data={"csrf_token": auth.csrf("/account")})


# --- queries with hand-computed values ------------------------------------------------------

def overall(found: dict[int, dict]) -> dict[int, str]:
    return {site: a["overall"] for site, a in found.items()}


def test_latest_assessments_and_condition_in_year(db, world):
    mine = world.sites
    assert overall(cond.latest_assessments(db, site_ids=mine)) == {
        world.s1: "poor", world.s2: "good", world.s3: "fair", world.s4: "fair"}
    latest = cond.latest_assessments(db, site_ids=mine)
    assert latest[world.s2]["id"] == world.s2_correction  # not the superseded mistake
    assert latest[world.s1]["element_scores"] == {"roof": "very_poor", "structure": "fair"}
    assert latest[world.s1]["threats"] == ["damp", "termites"]
    assert latest[world.s1]["assessed_on"] == date(2025, 4, 2)
    assert latest[world.s1]["trend"] == "worsening" and latest[world.s1]["rank"] == 3
    assert overall(cond.latest_assessments(db, date(2024, 12, 31), mine)) == {
        world.s1: "fair", world.s2: "fair", world.s3: "fair", world.s4: "good"}
    assert overall(cond.latest_assessments(db, date(2024, 6, 1), [world.s1])) == {
        world.s1: "fair"}  # on the day counts
    assert overall(cond.latest_assessments(db, date(2022, 12, 31), mine)) == {}
    assert overall(cond.condition_in_year(db, 2023, mine)) == {world.s1: "good",
                                                               world.s2: "poor"}
    assert overall(cond.condition_in_year(db, 2025, mine)) == {
        world.s1: "poor", world.s2: "good", world.s3: "fair", world.s4: "fair"}


def test_compare_two_and_three_years(db, world):
    table = cond.compare(db, [world.s1, world.s2, world.s3], [2025, 2023])
    assert table["years"] == [2023, 2025]
    s1, s2, s3 = table["rows"]
    assert (s1["name_vi"], s1["change"], s1["delta"]) == ("Chùa Một", "worse", 2)
    assert s1["cells"][2023]["overall"] == "good" and s1["cells"][2025]["overall"] == "poor"
    assert s1["cells"][2025]["threats"] == ["damp", "termites"]
    assert s1["element_changes"]["roof"] == "worse"
    assert s1["element_changes"]["structure"] == "worse"
    assert s1["element_changes"]["decoration"] == "no_data"
    assert (s2["change"], s2["delta"], s2["element_changes"]["roof"]) == ("better", -2, "better")
    assert s2["cells"][2025]["id"] == world.s2_correction
    assert (s3["change"], s3["delta"], s3["cells"][2023]) == ("no_data", None, None)

    three = cond.compare(db, [world.s1], [2023, 2024, 2025])["rows"][0]["cells"]
    assert three[2023]["overall_mark"] is None
    assert three[2024]["overall_mark"] == "worse"
    assert (three[2024]["element_marks"]["roof"],
            three[2024]["element_marks"]["structure"]) == ("worse", "same")
    assert (three[2025]["element_marks"]["roof"],
            three[2025]["element_marks"]["structure"]) == ("worse", "worse")


def test_changes_since(db, world):
    rows = [r for r in cond.changes_since(db, 2024) if r["site_id"] in world.sites]
    assert [(r["site_id"], r["delta"], r["change"]) for r in rows] == [
        (world.s1, 1, "worse"), (world.s4, 1, "worse"), (world.s3, 0, "same"),
        (world.s2, -1, "better")]
    assert rows[0]["before"]["assessed_on"] == date(2024, 6, 1)
    none_before = [r for r in cond.changes_since(db, 2022) if r["site_id"] in world.sites]
    assert {(r["delta"], r["change"]) for r in none_before} == {(None, "no_data")}
    as_of = [r for r in cond.changes_since(db, 2023, as_of=date(2024, 12, 31))
             if r["site_id"] in world.sites]
    # S1 good -> fair, S2 poor -> fair; S3 and S4 not assessed by the end of 2023 (no
    # data last, by name).
    assert [(r["site_id"], r["delta"]) for r in as_of] == [
        (world.s1, 1), (world.s2, -1), (world.s4, None), (world.s3, None)]


def test_worsening(db, world):
    rows = [r for r in cond.worsening(db) if r["site_id"] in world.sites]
    assert [(r["site_id"], r["delta"], r["reasons"]) for r in rows] == [
        (world.s1, 1, ["worse", "trend"]), (world.s4, 1, ["worse"]), (world.s3, 0, ["trend"])]
    assert rows[0]["previous"]["overall"] == "fair" and rows[0]["latest"]["overall"] == "poor"
    assert [r["site_id"] for r in cond.worsening(db, since_year=2025)
            if r["site_id"] in world.sites] == [world.s1, world.s4, world.s3]
    assert [r for r in cond.worsening(db, since_year=2026) if r["site_id"] in world.sites] == []


# --- pages -------------------------------------------------------------------------------

def test_comparison_page_table_markers_and_csv(client, db, auth, world):
    login(client, db, auth)
    query = f"site={world.s1}&site={world.s2}&year=2023&year=2025"
    shown = page_text(client.get(f"{BASE}/compare?{query}"))
    row = re.search(rf'<tr data-site="{world.s1}">(.*?)</tr>', shown).group(1)
    assert "Tốt" in row and "Xuống cấp" in row
    assert 'data-change="worse"' in row and "▼" in row and "xấu đi" in row
    assert "Mái: Xuống cấp nghiêm trọng" in row
    row2 = re.search(rf'<tr data-site="{world.s2}">(.*?)</tr>', shown).group(1)
    assert 'data-change="better"' in row2 and "▲" in row2
    assert 'id="conditions-chart"' in shown and "chart.umd.min.js" in shown
    empty_form = client.get(f"{BASE}/compare?lang=vi")
    assert empty_form.status_code == 200 and 'role="alert"' not in page_text(empty_form)

    too_few = client.get(f"{BASE}/compare?site={world.s1}&year=2023")
    assert too_few.status_code == 400
    assert "Hãy chọn ít nhất hai di tích và ít nhất một năm." in page_text(too_few)

    csv_response = client.get(f"{BASE}/compare.csv?{query}&lang=en")
    assert csv_response.mimetype == "text/csv"
    lines = csv_response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("Heritage identifier,Relic,Commune,2023 Date,2023 Overall condition")
    s1_line = next(line for line in lines if "Chùa Một" in line)
    assert "10/05/2023,Good" in s1_line and "02/04/2025,Poor" in s1_line
    assert s1_line.endswith("worse,2") and "Damp; Termites" in s1_line



def _map_as_built_before(db: Session, user, since_year: int | None) -> dict:
    """The condition map as the four-query builder made it (sites, latest assessments,
    changes since a year, names, assembled in Python): the reference the one-statement
    map must equal."""
    import json

    located = db.execute(text(f"""
        SELECT s.id, ST_AsGeoJSON(s.geom, 6) AS geometry FROM sites s
         WHERE {cond.SITE_VISIBLE}"""), cond.visibility(user)).all()
    latest = cond.latest_assessments(db, user=user)
    changes = {c["site_id"]: c for c in cond.changes_since(db, since_year, user=user)} \
        if since_year is not None else {}
    names = cond._sites(db, [site_id for site_id, _ in located])
    features = []
    for site_id, geometry in located:
        now = latest.get(site_id)
        props = {
            "site_id": site_id, "heritage_id": names[site_id]["heritage_id"],
            "name_vi": names[site_id]["name_vi"], "name_en": names[site_id]["name_en"],
            "overall": now["overall"] if now else None, "rank": now["rank"] if now else None,
            "assessed_on": now["assessed_on"].isoformat() if now else None}
        if since_year is not None:
            change = changes.get(site_id)
            before = change["before"] if change else None
            props.update({"change": change["change"] if change else "no_data",
                          "delta": change["delta"] if change else None,
                          "before": before["overall"] if before else None})
        features.append({"type": "Feature", "geometry": json.loads(geometry),
                         "properties": props})
    features.sort(key=lambda f: f["properties"]["site_id"])
    return {"type": "FeatureCollection", "features": features}


@pytest.mark.parametrize(("role", "units", "expected_sites"), [
    ("district_reviewer", (), ("s1", "s2", "s3", "s4")),
    ("commune_editor", ("TST-A",), ("s1", "s2", "s4")),   # S4 only from its move into A
    ("commune_editor", ("TST-B",), ("s3",)),
    ("commune_editor", ("TST-O",), ("s4",)),  # its former relic (A did not succeed O)
])
@pytest.mark.parametrize("since", [None, 2024, 2025])
def test_map_json_equals_the_four_query_builder(client, db, auth, world, role, units,
                                               expected_sites, since):
    # A withdrawn assessment must not count: S3's 2025-11-01 "ruined" was a mistake.
    reviewer = create_user(db, "withdrawer", PASSWORD, "district_reviewer")
    wrong = make_assessment(db, world.s3, "2025-11-01", "ruined")
    cond.withdraw_assessment(db, reviewer, wrong, "Nhập nhầm di tích")
    user = login(client, db, auth, role, units)

    response = client.get(f"{BASE}/map.json" + (f"?since={since}" if since else ""))

    assert response.status_code == 200 and response.mimetype == "application/json"
    answer = response.json
    assert answer == _map_as_built_before(db, user, since)
    mine = [f["properties"]["site_id"] for f in answer["features"]
            if f["properties"]["site_id"] in world.sites]
    assert mine == [getattr(world, name) for name in expected_sites]
    s3 = next((f["properties"] for f in answer["features"]
               if f["properties"]["site_id"] == world.s3), None)
    if s3 is not None:
        assert (s3["overall"], s3["assessed_on"]) == ("fair", "2025-08-01")


def test_map_features_is_one_statement(db, world):
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(statement)

    event.listen(db.connection(), "before_cursor_execute", record)
    try:
        body = cond.map_features(db, None, 2024)
    finally:
        event.remove(db.connection(), "before_cursor_execute", record)
    assert len(seen) == 1
    assert body.startswith('{"type":"FeatureCollection","features":[{"type":"Feature"')


def test_map_json_and_worsening_page(client, db, auth, world):
    login(client, db, auth)
    data = client.get(f"{BASE}/map.json?since=2024").json
    props = {f["properties"]["site_id"]: f["properties"] for f in data["features"]}
    assert (props[world.s1]["overall"], props[world.s1]["change"], props[world.s1]["before"]) \
        == ("poor", "worse", "fair")
    assert props[world.s2]["change"] == "better" and props[world.s3]["change"] == "same"
    assert data["features"][0]["geometry"]["type"] == "Point"
    plain = client.get(f"{BASE}/map.json").json
    assert {f["properties"]["site_id"]: f["properties"]["overall"]
            for f in plain["features"]}[world.s4] == "fair"
    assert "change" not in plain["features"][0]["properties"]
    assert client.get(f"{BASE}/map.json?since=abc").status_code == 400

    page = page_text(client.get(f"{BASE}/map?since=2024"))
    assert "Thay đổi hiện trạng từ năm 2024" in page and "conditions.js" in page

    listing = page_text(client.get(f"{BASE}/worsening"))
    names = re.findall(r'<tr data-site="(\d+)">', listing)
    mine = [int(n) for n in names if int(n) in world.sites]
    assert mine == [world.s1, world.s4, world.s3]
    assert "Xu hướng: đang xấu đi" in listing


# --- withdrawing an assessment recorded in error -----------------------------------------

def test_a_withdrawn_assessment_stays_in_the_history_and_stops_counting(client, db, auth,
                                                                       world):
    user = login(client, db, auth)
    latest_before = cond.latest_assessments(db, user=user)[world.s1]
    assert latest_before["assessed_on"] == date(2025, 4, 2)  # "poor", the one to withdraw
    wrong = latest_before["id"]
    page = client.get(f"{BASE}/sites/{world.s1}").get_data(as_text=True)
    token = re.search(r'action="/officials/conditions/assessments/%d/withdraw">\s*'
                      r'<input type="hidden" name="csrf_token" value="([^"]+)"' % wrong,
                      page).group(1)
    refused = client.post(f"{BASE}/assessments/{wrong}/withdraw",
                          data={"csrf_token": token, "reason": "  "})
    assert "Hãy nêu lý do rút phiếu đánh giá." in page_text(client.get(
        refused.headers["Location"]))
    done = client.post(f"{BASE}/assessments/{wrong}/withdraw",
                       data={"csrf_token": token, "reason": "Ghi nhầm di tích"})
    assert done.status_code == 303
    history = page_text(client.get(done.headers["Location"]))
    assert f"Đã rút phiếu đánh giá #{wrong}." in history
    assert "đã rút phiếu ngày" in history and "Ghi nhầm di tích" in history
    # The assessment row is untouched; the relic's condition is the one before it.
    assert db.scalar(text("SELECT overall FROM condition_assessments WHERE id = :i"),
                     {"i": wrong}) == "poor"
    assert cond.latest_assessments(db, user=user)[world.s1]["assessed_on"] == date(2024, 6, 1)
    revision = db.execute(text("""SELECT actor_id, after ->> 'reason' FROM revisions
                                   WHERE table_name = 'assessment_withdrawals'
                                   ORDER BY id DESC LIMIT 1""")).one()
    assert tuple(revision) == (user.id, "Ghi nhầm di tích")
    again = client.post(f"{BASE}/assessments/{wrong}/withdraw",
                        data={"csrf_token": token, "reason": "lần nữa"})
    assert "đã được rút trước đó" in page_text(client.get(again.headers["Location"]))
    with pytest.raises(InputError, match="was withdrawn"):
        cond.record_assessment(db, user, world.s1, assessed_on=date(2025, 5, 1),
                               overall="fair", element_scores={}, threats=[], trend=None,
                               notes="", supersedes_id=wrong)


def test_only_who_may_assess_may_withdraw(client, db, auth, world):
    editor = login(client, db, auth, role="commune_editor", units=("TST-B",))
    wrong = cond.latest_assessments(db)[world.s1]["id"]  # s1 is in commune A
    with pytest.raises(PermissionDenied):
        cond.withdraw_assessment(db, editor, wrong, "không phải của tôi")
    response = client.post(f"{BASE}/assessments/{wrong}/withdraw",
                           data={"csrf_token": auth.csrf(f"{BASE}"), "reason": "x"})
    assert response.status_code == 403
    assert db.scalar(text("SELECT count(*) FROM assessment_withdrawals")) == 0
