"""Officials edit relics (services/proposals.py, web/editor.py): district reviewers
directly, commune editors through proposals a reviewer approves or sends back; the public
keeps the published values until approval. Through the real sign-in, CSRF and forms."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyproj import Transformer
from sqlalchemy import text

from gis_app.errors import InputError, PermissionDenied
from gis_app.services import proposals
from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from tests.conftest import AuthActions
from tests.factories import make_site

PASSWORD = "a long enough password"
# Inside today's commune Triệu Việt Vương (12223), ~250 m from Khoái Châu (12205).
IN_TVV = (105.9563, 20.8400)
IN_KHOAI_CHAU = (105.9563, 20.8330)


def relic_in(db, lon_lat=IN_TVV, **kwargs) -> str:
    hid = make_site(db, *lon_lat, **kwargs)
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    assign_units(db, [site_id])
    db.flush()
    return hid


def row(db, hid: str) -> dict:
    return dict(db.execute(text("""
        SELECT s.*, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, u.code AS unit_code
          FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE s.heritage_id = :h"""), {"h": hid}).mappings().one())


def account(db, name: str, role: str, *units: str):
    return create_user(db, name, PASSWORD, role, unit_codes=units)


def signed_in(app, db, name: str, role: str, *units: str):
    """A client of its own signed in as a new account (several people act in one test)."""
    account(db, name, role, *units)
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(name, PASSWORD).status_code == 302
    return client


def tokens(html: str) -> dict[str, str]:
    out = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                   html).group(1)}
    once = re.search(r'name="form_token" value="([^"]+)"', html)
    if once:
        out["form_token"] = once.group(1)
    return out


def edit_form(client, hid: str, **changes) -> dict:
    """The edit form as the page fills it in, with `changes` typed over it."""
    page = client.get(f"/officials/relics/{hid}/edit")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    data: dict = tokens(html)
    for name in ("name_vi", "name_en", "ranking_decision_no", "ranking_decision_date", "period",
                 "materials", "opening_hours_vi", "opening_hours_en", "custodian", "licence",
                 "lat", "lon", "east", "north"):
        found = re.search(rf'name="{name}" value="([^"]*)"', html)
        data[name] = found.group(1) if found else ""
    for name in ("other_names", "description_vi", "description_en"):
        data[name] = re.search(rf'name="{name}"[^>]*>([^<]*)</textarea>', html).group(1)
    data["types"] = re.findall(r'name="types" value="([a-z_]+)" checked', html)
    rank = re.search(r'<option value="([a-z_]+)" selected>', html)
    data["rank"] = rank.group(1) if rank else ""
    if re.search(r'name="sensitive" value="1" checked', html):
        data["sensitive"] = "1"
    data["position_mode"] = "wgs84"
    data.update(changes)
    return data


def public_feature(client, hid: str) -> dict | None:
    features = client.get("/api/sites").get_json()["features"]
    return next((f for f in features if f["properties"]["heritage_id"] == hid), None)


# --- reviewers edit directly ----------------------------------------------------------------

def test_a_reviewer_edits_a_relic_directly_under_their_name(app, client, db):
    hid = relic_in(db, name="Đình Sửa Trực Tiếp")
    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    page = reviewer.get(f"/sites/{hid}").get_data(as_text=True)
    assert "Sửa di tích này" in page
    answer = reviewer.post(f"/officials/relics/{hid}/edit", data=edit_form(
        reviewer, hid, opening_hours_vi="6:00–18:00 hằng ngày", rank="national",
        types=["historical", "architectural_artistic"], other_names="Đình Làng\nĐình Cả",
        custodian="Ban quản lý di tích xã Triệu Việt Vương", ranking_decision_no="12/QĐ-BVHTTDL",
        ranking_decision_date="2019-05-14"))
    assert answer.status_code == 303
    after = row(db, hid)
    assert after["opening_hours_vi"] == "6:00–18:00 hằng ngày" and after["rank"] == "national"
    assert after["types"] == ["historical", "architectural_artistic"]
    assert after["other_names"] == ["Đình Làng", "Đình Cả"]
    assert str(after["ranking_decision_date"]) == "2019-05-14"
    assert db.scalar(text("SELECT name FROM organisations WHERE id = :o"),
                     {"o": after["custodian_org_id"]}) == "Ban quản lý di tích xã Triệu Việt Vương"
    revision = db.execute(text("""
        SELECT r.actor_id, r.after ->> 'opening_hours_vi' FROM revisions r
         WHERE r.table_name = 'sites' AND r.row_id = CAST(:id AS text) AND r.action = 'update'
         ORDER BY r.id DESC LIMIT 1"""), {"id": after["id"]}).one()
    reviewer_id = db.scalar(text("SELECT id FROM users WHERE username = 'ed-reviewer'"))
    assert tuple(revision) == (reviewer_id, "6:00–18:00 hằng ngày")
    shown = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "6:00–18:00 hằng ngày" in shown and "Di tích quốc gia" in shown
    assert db.scalar(text("SELECT count(*) FROM change_proposals WHERE record_id = :i"),
                     {"i": after["id"]}) == 0


def test_saving_an_unchanged_form_says_nothing_changed(app, db):
    hid = relic_in(db)
    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    answer = reviewer.post(f"/officials/relics/{hid}/edit", data=edit_form(reviewer, hid))
    assert answer.status_code == 400
    assert "Không có gì thay đổi" in answer.get_data(as_text=True)


# --- commune editors propose, reviewers review ---------------------------------------------

def test_a_proposal_stays_apart_until_a_reviewer_approves_it(app, client, db):
    hid = relic_in(db, name="Đình Đề Xuất")
    before = row(db, hid)
    assert before["unit_code"] == "12223"
    editor = signed_in(app, db, "ed-editor", "commune_editor", "12223")
    assert "Sửa di tích này" in editor.get(f"/sites/{hid}").get_data(as_text=True)
    answer = editor.post(f"/officials/relics/{hid}/edit", data=edit_form(
        editor, hid, opening_hours_vi="8:00–16:00, thứ Hai nghỉ", lon=str(IN_KHOAI_CHAU[0]),
        lat=str(IN_KHOAI_CHAU[1]), note="Đo lại bằng GPS ngày 01/12"))
    assert answer.status_code == 303 and "/officials/review/" in answer.headers["Location"]
    landing = editor.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Đề xuất sửa của bạn đã được gửi" in landing and "Chờ duyệt" in landing

    # Nothing changed for anyone but the proposal's readers.
    still = row(db, hid)
    assert (still["opening_hours_vi"], still["lon"], still["lat"], still["unit_code"]) == \
        (before["opening_hours_vi"], before["lon"], before["lat"], "12223")
    public_page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "8:00–16:00" not in public_page
    assert public_feature(client, hid)["geometry"]["coordinates"] == [IN_TVV[0], IN_TVV[1]]

    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    queue = reviewer.get("/officials/review").get_data(as_text=True)
    assert "Đình Đề Xuất" in queue and "Giờ mở cửa (tiếng Việt)" in queue and "Vị trí" in queue
    proposal_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    diff = reviewer.get(f"/officials/review/{proposal_id}").get_data(as_text=True)
    assert "8:00–16:00, thứ Hai nghỉ" in diff and "Đo lại bằng GPS ngày 01/12" in diff
    assert f"{IN_TVV[1]:.6f} B, {IN_TVV[0]:.6f} Đ" in diff
    assert f"{IN_KHOAI_CHAU[1]:.6f} B, {IN_KHOAI_CHAU[0]:.6f} Đ" in diff
    approved = reviewer.post(f"/officials/review/{proposal_id}/approve", data=tokens(diff))
    assert approved.status_code == 303
    assert "Đã duyệt" in reviewer.get(approved.headers["Location"]).get_data(as_text=True)

    after = row(db, hid)
    assert after["opening_hours_vi"] == "8:00–16:00, thứ Hai nghỉ"
    assert (after["lon"], after["lat"]) == IN_KHOAI_CHAU
    assert after["unit_code"] == "12205"  # the commune follows the position
    assert "8:00–16:00, thứ Hai nghỉ" in client.get(f"/sites/{hid}").get_data(as_text=True)
    assert public_feature(client, hid)["geometry"]["coordinates"] == list(IN_KHOAI_CHAU)
    actor = db.scalar(text("""SELECT actor_id FROM revisions WHERE table_name = 'sites'
                               AND row_id = CAST(:i AS text) ORDER BY id DESC LIMIT 1"""),
                      {"i": after["id"]})
    assert actor == db.scalar(text("SELECT id FROM users WHERE username = 'ed-reviewer'"))
    mine = editor.get("/officials/proposals").get_data(as_text=True)
    assert "Đã duyệt" in mine and "Đình Đề Xuất" in mine


def test_a_reviewer_sends_a_proposal_back_with_a_comment_the_author_reads(app, db):
    hid = relic_in(db, name="Đình Trả Lại")
    editor = signed_in(app, db, "ed-editor", "commune_editor", "12223")
    answer = editor.post(f"/officials/relics/{hid}/edit",
                         data=edit_form(editor, hid, period="Thế kỷ XVII"))
    proposal_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    page = reviewer.get(f"/officials/review/{proposal_id}").get_data(as_text=True)
    silent = reviewer.post(f"/officials/review/{proposal_id}/return",
                           data={**tokens(page), "comment": "  "})
    assert "Hãy nêu lý do trả lại" in reviewer.get(silent.headers["Location"]).get_data(
        as_text=True)
    assert db.scalar(text("SELECT status FROM change_proposals WHERE id = :p"),
                     {"p": proposal_id}) == "pending"
    reviewer.post(f"/officials/review/{proposal_id}/return",
                  data={**tokens(page), "comment": "Cần dẫn nguồn cho niên đại."})
    assert row(db, hid)["period"] is None
    mine = editor.get("/officials/proposals").get_data(as_text=True)
    assert "Bị trả lại" in mine and "Cần dẫn nguồn cho niên đại." in mine
    # Answered: it can no longer be approved.
    again = reviewer.post(f"/officials/review/{proposal_id}/approve", data=tokens(page))
    assert "không còn chờ duyệt" in reviewer.get(again.headers["Location"]).get_data(
        as_text=True)
    assert row(db, hid)["period"] is None


def test_approval_is_refused_when_the_field_changed_since(db):
    hid = relic_in(db)
    editor = account(db, "ed-editor", "commune_editor", "12223")
    reviewer = account(db, "ed-reviewer", "district_reviewer")
    current = proposals.relic(db, hid)["values"]
    where = proposals.PositionInput("wgs84", str(IN_TVV[0]), str(IN_TVV[1]))
    first = proposals.submit_edit(db, editor, hid, {**current, "period": "Thời Lê"}, where)
    proposals.submit_edit(db, reviewer, hid, {**current, "period": "Thời Nguyễn",
                                              "materials": "Gỗ lim"}, where)
    with pytest.raises(InputError, match="changed since this proposal"):
        proposals.approve(db, reviewer, first.proposal_id)
    assert (row(db, hid)["period"], row(db, hid)["materials"]) == ("Thời Nguyễn", "Gỗ lim")
    # A change to another field meanwhile does not block a proposal.
    current = proposals.relic(db, hid)["values"]
    proposals.withdraw(db, editor, first.proposal_id)
    second = proposals.submit_edit(db, editor, hid, {**current, "name_en": "Temple"}, where)
    proposals.submit_edit(db, reviewer, hid, {**current, "licence": "CC BY 4.0"}, where)
    proposals.approve(db, reviewer, second.proposal_id)
    assert (row(db, hid)["name_en"], row(db, hid)["licence"]) == ("Temple", "CC BY 4.0")


def test_only_its_author_withdraws_a_pending_proposal(app, db):
    hid = relic_in(db)
    author = signed_in(app, db, "ed-editor", "commune_editor", "12223")
    answer = author.post(f"/officials/relics/{hid}/edit",
                         data=edit_form(author, hid, materials="Gỗ, đá"))
    proposal_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    colleague = signed_in(app, db, "ed-colleague", "commune_editor", "12223")
    assert colleague.get(f"/officials/review/{proposal_id}").status_code == 403
    page = author.get(f"/officials/review/{proposal_id}").get_data(as_text=True)
    theirs = {"csrf_token": AuthActions(colleague).csrf("/officials/proposals")}
    assert colleague.post(f"/officials/proposals/{proposal_id}/withdraw",
                          data=theirs).status_code == 403
    again = author.post(f"/officials/relics/{hid}/edit",
                        data=edit_form(author, hid, materials="Gạch"))
    assert again.status_code == 400
    assert f"đang chờ duyệt (số {proposal_id})" in again.get_data(as_text=True)
    done = author.post(f"/officials/proposals/{proposal_id}/withdraw", data=tokens(page))
    assert done.status_code == 303
    assert db.scalar(text("SELECT status FROM change_proposals WHERE id = :p"),
                     {"p": proposal_id}) == "withdrawn"
    assert "Đã rút lại" in author.get("/officials/proposals").get_data(as_text=True)


# --- who is refused ------------------------------------------------------------------------------

def _snapshot(db) -> tuple:
    return (db.execute(text("SELECT md5(string_agg(to_jsonb(s)::text, '' ORDER BY id)) "
                            "FROM sites s")).scalar(),
            db.execute(text("SELECT md5(coalesce(string_agg(to_jsonb(p)::text, '' "
                            "ORDER BY id), '')) FROM change_proposals p")).scalar())


@pytest.mark.parametrize("who", ["other_commune", "public"])
def test_every_write_endpoint_refuses_other_communes_and_the_public(app, client, db, who):
    hid = relic_in(db, name="Đình Được Bảo Vệ")
    author = signed_in(app, db, "ed-editor", "commune_editor", "12223")
    answer = author.post(f"/officials/relics/{hid}/edit",
                         data=edit_form(author, hid, period="Thời Trần"))
    proposal_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    token = tokens(author.get(f"/officials/review/{proposal_id}").get_data(as_text=True))
    if who == "other_commune":
        actor = signed_in(app, db, "ed-elsewhere", "commune_editor", "12238")
        assert actor.get(f"/officials/relics/{hid}/edit").status_code == 403
        assert "Sửa di tích này" not in actor.get(f"/sites/{hid}").get_data(as_text=True)
        token = tokens(actor.get("/officials/relics/new").get_data(as_text=True))
    else:
        actor = client
        assert actor.get(f"/officials/relics/{hid}/edit").status_code == 302
        token = {"csrf_token": AuthActions(client).csrf("/login")}
    before = _snapshot(db)
    form = {"name_vi": "Đình Lạ", "types": ["historical"], "position_mode": "wgs84",
            "lon": str(IN_TVV[0]), "lat": str(IN_TVV[1]), "period": "Thời Lý"}
    for path, data in ((f"/officials/relics/{hid}/edit", form),
                       ("/officials/relics/new", form),
                       (f"/officials/review/{proposal_id}/approve", {}),
                       (f"/officials/review/{proposal_id}/return", {"comment": "Không"}),
                       (f"/officials/proposals/{proposal_id}/withdraw", {})):
        refused = actor.post(path, data={**token, **data})
        if who == "public":
            assert refused.status_code == 303 and "/login" in refused.headers["Location"], path
        else:
            assert refused.status_code == 403, path
            assert "Traceback" not in refused.get_data(as_text=True)
    assert _snapshot(db) == before


# --- new relics ----------------------------------------------------------------------------

def test_a_commune_editor_creates_a_draft_once_in_their_commune(app, client, db):
    editor = signed_in(app, db, "ed-editor", "commune_editor", "12223")
    page = editor.get("/officials/relics/new").get_data(as_text=True)
    form = {**tokens(page), "name_vi": "Miếu Mới Khảo Sát", "types": ["historical"],
            "rank": "inventoried", "position_mode": "wgs84", "lon": "105.9563",
            "lat": "20.84", "opening_hours_vi": "Mở cửa ngày rằm"}
    first = editor.post("/officials/relics/new", data=form)
    assert first.status_code == 303
    hid = re.search(r"/officials/relics/(VN-HY-DT-\d{6})/edit", first.headers["Location"]).group(1)
    created = row(db, hid)
    assert (created["status"], created["name_vi"], created["rank"], created["unit_code"]) == \
        ("draft", "Miếu Mới Khảo Sát", "inventoried", "12223")
    assert client.get(f"/sites/{hid}").status_code == 404
    assert public_feature(client, hid) is None
    twice = editor.post("/officials/relics/new", data=form)  # a double click
    assert twice.status_code == 303
    assert db.scalar(text("SELECT count(*) FROM sites WHERE name_vi = 'Miếu Mới Khảo Sát'")) == 1
    # Its draft is edited directly: drafts are invisible anyway.
    edited = editor.post(f"/officials/relics/{hid}/edit",
                         data=edit_form(editor, hid, period="Thế kỷ XIX"))
    assert edited.status_code == 303 and row(db, hid)["period"] == "Thế kỷ XIX"
    # Not in another commune.
    elsewhere = editor.post("/officials/relics/new", data={
        **form, **tokens(editor.get("/officials/relics/new").get_data(as_text=True)),
        "lon": "106.0265", "lat": "20.838"})
    assert elsewhere.status_code == 403
    assert "không thuộc xã của tài khoản bạn" in elsewhere.get_data(as_text=True)


# --- positions -----------------------------------------------------------------------------

def test_vn2000_coordinates_are_read_in_epsg_9209(db):
    reviewer = account(db, "ed-reviewer", "district_reviewer")
    hid = relic_in(db)
    to_tm3 = Transformer.from_crs(4326, 9209, always_xy=True)
    east, north = to_tm3.transform(*IN_KHOAI_CHAU)
    current = proposals.relic(db, hid)["values"]
    proposals.submit_edit(db, reviewer, hid, current, proposals.PositionInput(
        "vn2000", f"{east:.3f}".replace(".", ","), f"{north:.3f}"))
    moved = row(db, hid)
    assert moved["lon"] == pytest.approx(IN_KHOAI_CHAU[0], abs=1e-7)
    assert moved["lat"] == pytest.approx(IN_KHOAI_CHAU[1], abs=1e-7)
    assert moved["unit_code"] == "12205"
    with pytest.raises(InputError, match="look swapped"):
        proposals.read_position(proposals.PositionInput("vn2000", f"{north:.0f}", f"{east:.0f}"))


@pytest.mark.parametrize(("x", "y", "message"), [
    ("20.84", "105.95", "Longitude and latitude look swapped"),
    ("2.35", "48.85", "outside Vietnam"),
    ("547679", "2304201", "look like metres"),
    ("105.95", "", "Enter the latitude"),
    ("105,9x", "20.8", "is not a number"),
])
def test_a_typed_position_outside_vietnam_or_malformed_is_refused(x, y, message):
    with pytest.raises(InputError, match=message):
        proposals.read_position(proposals.PositionInput("wgs84", x, y))


def test_a_position_outside_the_district_is_saved_with_a_warning(app, db):
    hid = relic_in(db)
    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    answer = reviewer.post(f"/officials/relics/{hid}/edit",
                           data=edit_form(reviewer, hid, lon="106.5", lat="20.5"))
    assert answer.status_code == 303
    page = reviewer.get(answer.headers["Location"]).get_data(as_text=True)
    assert "nằm ngoài mọi xã của huyện Khoái Châu" in page
    assert row(db, hid)["admin_unit_id"] is None


def test_the_position_comes_from_an_uploaded_file(app, db, tmp_path: Path):
    hid = relic_in(db)
    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    point = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
             "geometry": {"type": "Point", "coordinates": list(IN_KHOAI_CHAU)}}]}
    data = edit_form(reviewer, hid, position_mode="file")
    data["position_file"] = (_file(tmp_path / "vi-tri.geojson", json.dumps(point)),
                             "vi-tri.geojson")
    answer = reviewer.post(f"/officials/relics/{hid}/edit", data=data,
                           content_type="multipart/form-data")
    assert answer.status_code == 303
    assert (row(db, hid)["lon"], row(db, hid)["lat"]) == IN_KHOAI_CHAU
    two = {"type": "FeatureCollection", "features": [point["features"][0]] * 2}
    data = edit_form(reviewer, hid, position_mode="file")
    data["position_file"] = (_file(tmp_path / "hai.geojson", json.dumps(two)), "hai.geojson")
    refused = reviewer.post(f"/officials/relics/{hid}/edit", data=data,
                            content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "Hãy gửi tệp chỉ có một điểm của di tích." in refused.get_data(as_text=True)


def _file(path: Path, content: str):
    path.write_text(content, encoding="utf-8")
    return path.open("rb")


# --- values --------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "message"), [
    ({"name_vi": "  "}, "Name \\(Vietnamese\\) is required"),
    ({"rank": "world"}, "'world' is not a rank"),
    ({"types": ["temple"]}, "'temple' is not a type of relic"),
    ({"types": []}, "at least one type"),
    ({"ranking_decision_date": "31/02/2020"}, "is not a date"),
    ({"ranking_decision_date": "2999-01-01"}, "is not possible"),
    ({"opening_hours_vi": "x" * 501}, "at most 500 characters"),
])
def test_bad_values_are_refused_with_what_to_do(db, changes, message):
    reviewer = account(db, "ed-reviewer", "district_reviewer")
    hid = relic_in(db)
    current = proposals.relic(db, hid)["values"]
    with pytest.raises(InputError, match=message):
        proposals.submit_edit(db, reviewer, hid, {**current, **changes},
                              proposals.PositionInput("wgs84", str(IN_TVV[0]), str(IN_TVV[1])))


def test_the_service_refuses_the_public_and_other_communes(db):
    hid = relic_in(db)
    elsewhere = account(db, "ed-elsewhere", "commune_editor", "12238")
    current = proposals.relic(db, hid)["values"]
    where = proposals.PositionInput("wgs84", str(IN_TVV[0]), str(IN_TVV[1]))
    for user in (None, elsewhere):
        with pytest.raises(PermissionDenied):
            proposals.submit_edit(db, user, hid, {**current, "period": "x"}, where)
    assert row(db, hid)["period"] is None


def test_the_vn2000_coordinates_shown_typed_back_are_no_move(app, db):
    hid = relic_in(db)
    reviewer = signed_in(app, db, "ed-reviewer", "district_reviewer")
    form = edit_form(reviewer, hid, position_mode="vn2000")
    assert form["east"].startswith("5") and form["north"].startswith("23")
    answer = reviewer.post(f"/officials/relics/{hid}/edit", data=form)
    assert answer.status_code == 400
    assert "Không có gì thay đổi" in answer.get_data(as_text=True)


def test_the_editor_speaks_english_when_asked(app, db):
    hid = relic_in(db)
    editor = signed_in(app, db, "ed-editor", "commune_editor", "12223")
    page = editor.get(f"/officials/relics/{hid}/edit?lang=en").get_data(as_text=True)
    assert "Opening hours (English)" in page and "Propose the changes" in page
    assert "Drag the marker" in page
    refused = editor.post(f"/officials/relics/{hid}/edit?lang=en",
                          data=edit_form(editor, hid, rank="world"))
    assert "&#39;world&#39; is not a rank" in refused.get_data(as_text=True)
