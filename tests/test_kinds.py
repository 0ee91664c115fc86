"""Officials edit landscapes, facilities and intangible heritage (services/site_features.py,
services/intangible.py, web/kinds.py): validation with vi/en messages, revisions under the
actor, who may write what (the one scope rule), the public effect of drafts and of edited
festival dates, and the history pages. Web tests go through the real sign-in, CSRF and
forms."""
from __future__ import annotations

import io
import json
import re

import pytest
from pyproj import Transformer
from sqlalchemy import text

from gis_app.errors import InputError, PermissionDenied
from gis_app.services import intangible, record_history, site_features
from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from gis_app.services.festivals import lunar_to_solar
from gis_app.services.proposals import Position
from tests.conftest import AuthActions
from tests.factories import make_site

PASSWORD = "a long enough password"
IN_TVV = (105.9563, 20.8400)  # in today's commune Triệu Việt Vương (12223)


def relic_in(db, status: str = "published", name: str = "Đình Cảnh Quan") -> str:
    hid = make_site(db, *IN_TVV, name=name, status=status, zone_radius_m=None)
    assign_units(db, [db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"),
                                {"h": hid})])
    db.flush()
    return hid


def square(lon: float, lat: float, size: float = 0.0004) -> dict:
    return {"type": "Polygon", "coordinates": [[
        [lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
        [lon, lat]]]}


def shape(geojson: dict) -> site_features.Shape:
    from shapely.geometry import shape as to_shape
    return site_features.Shape(polygon=to_shape(geojson))


def signed_in(app, db, name: str, role: str, *units: str):
    create_user(db, name, PASSWORD, role, unit_codes=units)
    client = app.test_client()
    assert AuthActions(client).login(name, PASSWORD).status_code == 302
    return client


def tokens(html: str) -> dict[str, str]:
    out = {"csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                                   html).group(1)}
    once = re.search(r'name="form_token" value="([^"]+)"', html)
    if once:
        out["form_token"] = once.group(1)
    return out


def revisions(db, table: str, row_id) -> list[dict]:
    return [dict(r) for r in db.execute(text("""
        SELECT r.action, u.username, r.before, r.after FROM revisions r
          LEFT JOIN users u ON u.id = r.actor_id
         WHERE r.table_name = :t AND r.row_id = CAST(:id AS text) ORDER BY r.id"""),
        {"t": table, "id": row_id}).mappings()]


@pytest.fixture
def reviewer(db):
    return create_user(db, "kinds-reviewer", PASSWORD, "district_reviewer")


@pytest.fixture
def editor(db):
    return create_user(db, "kinds-editor", PASSWORD, "commune_editor", unit_codes=("12223",))


ICH = {"name_vi": "Hát trống quân Khoái Châu", "ich_type": "folk_performing_arts",
       "community": "Làng Đông Tảo", "national_listing_date": "15/03/2020"}
EVENT = {"name_vi": "Hội làng Đông Tảo", "lunar_month": "2", "lunar_day": "10",
         "duration_days": "3"}


# --- intangible heritage: the service ------------------------------------------------------

def test_a_new_intangible_heritage_is_a_draft_recorded_under_its_author(db, reviewer):
    saved = intangible.create(db, reviewer, ICH, shape(square(105.95, 20.84)).polygon)
    item = intangible.record(db, saved.heritage_id)
    assert saved.heritage_id.startswith("VN-HY-PVT-")
    assert item["status"] == "draft"
    assert item["values"]["national_listing_date"] == "2020-03-15"
    assert item["geometry"]["type"] == "MultiPolygon"
    made = revisions(db, "intangible_heritage", item["id"])
    assert [(r["action"], r["username"]) for r in made] == [("insert", "kinds-reviewer")]

    intangible.update(db, reviewer, saved.heritage_id, {**ICH, "community": "Xã Đông Tảo"})
    changed = revisions(db, "intangible_heritage", item["id"])[-1]
    assert changed["username"] == "kinds-reviewer"
    assert (changed["before"]["community"], changed["after"]["community"]) == (
        "Làng Đông Tảo", "Xã Đông Tảo")


@pytest.mark.parametrize("raw, message", [
    ({**ICH, "name_vi": "  "}, "Hãy nhập tên (tiếng việt): trường này bắt buộc."),
    ({**ICH, "ich_type": "cooking"}, "Loại hình: 'cooking' không có trong danh sách"),
    ({**ICH, "national_listing_date": "31/02/2020"}, "không phải là ngày"),
    ({**ICH, "national_listing_date": "01/01/2999"}, "ngày phải từ năm 1900 đến hôm nay"),
])
def test_intangible_values_are_checked_with_vietnamese_messages(db, reviewer, raw, message):
    with pytest.raises(InputError) as caught:
        intangible.create(db, reviewer, raw)
    assert message in caught.value.user_message("vi")
    assert caught.value.user_message("en") != caught.value.user_message("vi")


@pytest.mark.parametrize("raw, message", [
    ({**EVENT, "lunar_day": ""}, "Hãy nhập cả ngày và tháng âm lịch"),
    ({**EVENT, "lunar_month": "", "lunar_day": ""}, "hoặc ngày dương lịch"),
    ({**EVENT, "lunar_month": "13"}, "Tháng âm lịch: hãy nhập số từ 1 đến 12."),
    ({**EVENT, "lunar_day": "mười"}, "Ngày âm lịch: 'mười' không phải số nguyên."),
    ({**EVENT, "relic": "Không Có Đình Này"}, "Không có di tích nào tên"),
])
def test_festival_dates_are_checked(db, reviewer, raw, message):
    hid = intangible.create(db, reviewer, ICH).heritage_id
    with pytest.raises(InputError) as caught:
        intangible.add_event(db, reviewer, hid, raw)
    assert message in caught.value.user_message("vi")
    assert intangible.record(db, hid)["events"] == []


def test_relics_events_and_artisans_are_added_changed_and_removed(db, reviewer):
    relic = relic_in(db, name="Đền Hóa Dạ Trạch")
    hid = intangible.create(db, reviewer, ICH).heritage_id
    assert intangible.add_site(db, reviewer, hid, "hoa da trach") == relic  # no diacritics
    with pytest.raises(InputError, match="already listed"):
        intangible.add_site(db, reviewer, hid, relic)
    event_id = intangible.add_event(db, reviewer, hid, {**EVENT, "relic": relic})
    assert intangible.update_event(db, reviewer, hid, event_id,
                                   {**EVENT, "relic": relic, "lunar_day": "12"}) == ["lunar_day"]
    person = intangible.add_artisan(db, reviewer, hid, {"full_name": "Nguyễn Văn Hát",
                                                        "title": "Nghệ nhân Ưu tú",
                                                        "notes": "sinh năm 1948"})
    intangible.update_artisan(db, reviewer, hid, person, {"full_name": "Nguyễn Văn Hát",
                                                         "title": "Nghệ nhân Nhân dân",
                                                         "notes": "sinh năm 1948"})
    item = intangible.record(db, hid)
    assert [s["heritage_id"] for s in item["sites"]] == [relic]
    assert [(e["lunar_day"], e["lunar_month"], e["relic"]) for e in item["events"]] == [
        (12, 2, relic)]
    assert [(a["full_name"], a["title"]) for a in item["artisans"]] == [
        ("Nguyễn Văn Hát", "Nghệ nhân Nhân dân")]

    intangible.remove_event(db, reviewer, hid, event_id)
    intangible.remove_artisan(db, reviewer, hid, person)
    intangible.remove_site(db, reviewer, hid, relic)
    item = intangible.record(db, hid)
    assert item["sites"] == item["events"] == item["artisans"] == []

    history = record_history.intangible_history(db, reviewer, hid, "vi")
    lines = [c.summary for e in history.events for c in e.changes]
    assert "Thêm ngày lễ hội: Hội làng Đông Tảo" in lines
    assert f"Thực hành tại di tích {relic}" in lines
    assert "Thêm nghệ nhân: Nguyễn Văn Hát" in lines
    assert "Bỏ nghệ nhân: Nguyễn Văn Hát" in lines
    fields = [(f.label, f.before, f.after) for e in history.events for c in e.changes
              for f in c.fields]
    assert ("Ngày âm lịch", "10", "12") in fields
    assert ("Danh hiệu", "Nghệ nhân Ưu tú", "Nghệ nhân Nhân dân") in fields
    assert {e.actor for e in history.events} == {"kinds-reviewer"}


def test_commune_editors_may_not_change_intangible_heritage(db, reviewer, editor):
    hid = intangible.create(db, reviewer, ICH).heritage_id
    before = db.scalar(text("SELECT count(*) FROM revisions"))
    for act in (lambda: intangible.create(db, editor, ICH),
                lambda: intangible.update(db, editor, hid, {**ICH, "name_vi": "Khác"}),
                lambda: intangible.add_event(db, editor, hid, EVENT),
                lambda: intangible.set_status(db, editor, hid, "published")):
        with pytest.raises(PermissionDenied) as caught:
            act()
        assert "cán bộ thẩm định cấp huyện" in caught.value.user_message("vi")
    assert db.scalar(text("SELECT count(*) FROM revisions")) == before


# --- intangible heritage: what the public sees ---------------------------------------------

def _calendar(client, year: int) -> str:
    return client.get(f"/festivals?year={year}").get_data(as_text=True)


def test_drafts_stay_off_the_public_calendar_and_an_edited_lunar_date_moves(
        app, client, db, reviewer):
    relic = relic_in(db, name="Đền Lễ Hội Thử")
    hid = intangible.create(db, reviewer, ICH).heritage_id
    intangible.add_site(db, reviewer, hid, relic)
    event_id = intangible.add_event(db, reviewer, hid, {**EVENT, "name_vi": "Hội Thử Nghiệm"})
    db.flush()
    year = 2027
    first = lunar_to_solar(10, 2, year)
    assert "Hội Thử Nghiệm" not in _calendar(client, year)
    ics = client.get(f"/festivals.ics?year={year}").get_data(as_text=True)
    assert "Hội Thử Nghiệm" not in ics
    assert "Hội Thử Nghiệm" not in client.get(f"/sites/{relic}").get_data(as_text=True)
    staff = signed_in(app, db, "kinds-calendar", "district_reviewer")
    assert "Hội Thử Nghiệm" in _calendar(staff, year)  # reviewers see drafts

    intangible.set_status(db, reviewer, hid, "published")
    db.flush()
    page = _calendar(client, year)
    assert f"{first:%d/%m/%Y}" in page and "Hội Thử Nghiệm" in page

    intangible.update_event(db, reviewer, hid, event_id,
                            {**EVENT, "name_vi": "Hội Thử Nghiệm", "lunar_month": "3",
                             "lunar_day": "15"})
    db.flush()
    moved = lunar_to_solar(15, 3, year)
    row = re.search(r"<tr[^>]*>((?:(?!</tr>).)*Hội Thử Nghiệm(?:(?!</tr>).)*)</tr>",
                    _calendar(client, year), re.S).group(1)
    assert f"{moved:%d/%m/%Y}" in row and "15/3" in row
    assert f"DTSTART;VALUE=DATE:{moved:%Y%m%d}" in client.get(
        f"/festivals.ics?year={year}").get_data(as_text=True)


# --- landscapes and facilities: the service ------------------------------------------------

def test_a_reviewer_records_and_edits_a_landscape_polygon(db, reviewer):
    relic = relic_in(db)
    saved = site_features.create(db, reviewer, "landscapes", relic,
                                 {"name_vi": "Ao đình", "kind": "pond",
                                  "accuracy": "digitised"}, shape(square(105.9563, 20.8402)))
    item = site_features.feature(db, "landscapes", saved.id)
    assert item["geometry"]["type"] == "MultiPolygon" and item["site"]["heritage_id"] == relic
    bigger = square(105.9563, 20.8402, 0.0006)
    done = site_features.update(db, reviewer, "landscapes", saved.id,
                                {"name_vi": "Ao sen trước đình", "kind": "pond",
                                 "accuracy": "surveyed"}, shape(bigger))
    assert sorted(done.fields) == ["accuracy", "geom", "name_vi"]
    last = revisions(db, "landscapes", saved.id)[-1]
    assert last["username"] == "kinds-reviewer"
    assert last["after"]["name_vi"] == "Ao sen trước đình"
    with pytest.raises(InputError, match="Nothing was changed"):
        site_features.update(db, reviewer, "landscapes", saved.id,
                             {"name_vi": "Ao sen trước đình", "kind": "pond",
                              "accuracy": "surveyed"}, shape(bigger))

    history = record_history.feature_history(db, reviewer, "landscapes", saved.id, "vi")
    fields = [(f.label, f.before, f.after) for e in history.events for c in e.changes
              for f in c.fields]
    assert ("Tên (tiếng Việt)", "Ao đình", "Ao sen trước đình") in fields
    assert ("Độ chính xác", "Số hóa từ bản đồ", "Đo đạc") in fields
    assert ("Hình dạng", "vùng", "vùng") in fields
    assert [(g["before"] or {}).get("type") for g in history.geometries] == [
        None, "MultiPolygon"]  # created, then the outline changed


def test_a_crossing_outline_is_repaired_with_a_warning_and_a_point_is_refused(db, reviewer):
    relic = relic_in(db)
    bowtie = {"type": "Polygon", "coordinates": [[[105.9560, 20.8400], [105.9566, 20.8406],
                                                  [105.9566, 20.8400], [105.9560, 20.8406],
                                                  [105.9560, 20.8400]]]}
    saved = site_features.create(db, reviewer, "landscapes", relic,
                                 {"name_vi": "Vườn", "kind": "garden"}, shape(bowtie))
    assert "hệ thống đã sửa lại" in saved.warnings[0][1]
    with pytest.raises(InputError, match="The landscape's shape is an area"):
        site_features.create(db, reviewer, "landscapes", relic,
                             {"name_vi": "Cây đa", "kind": "tree"},
                             site_features.Shape(point=Position(*IN_TVV)))


def test_a_facility_is_a_point_given_in_vn2000_or_a_polygon(db, reviewer):
    relic = relic_in(db)
    east, north = Transformer.from_crs(4326, 9209, always_xy=True).transform(*IN_TVV)
    from gis_app.services.proposals import PositionInput, read_position
    point, _notes = read_position(PositionInput("vn2000", f"{east:.2f}", f"{north:.2f}"))
    saved = site_features.create(db, reviewer, "facilities", relic,
                                 {"name_vi": "Bãi đỗ xe", "kind": "parking"},
                                 site_features.Shape(point=point))
    lon, lat = site_features.feature(db, "facilities", saved.id)["geometry"]["coordinates"]
    assert abs(lon - IN_TVV[0]) < 1e-6 and abs(lat - IN_TVV[1]) < 1e-6
    with pytest.raises(InputError) as caught:
        site_features.create(db, reviewer, "facilities", relic,
                             {"name_vi": "Kho", "kind": "warehouse"},
                             site_features.Shape(point=point))
    assert "Loại công trình, thiết bị: 'warehouse' không có trong danh sách" in \
        caught.value.user_message("vi")


def test_several_relics_matching_a_name_are_listed(db):
    first = relic_in(db, name="Đình Trùng Tên Một")
    second = relic_in(db, name="Đình Trùng Tên Hai")
    with pytest.raises(InputError) as caught:
        site_features.find_relic(db, "dinh trung ten")
    assert first in caught.value.user_message("vi") and second in caught.value.user_message("vi")
    assert site_features.find_relic(db, second.lower())["heritage_id"] == second


def test_commune_editors_change_features_of_their_draft_relics_only(db, editor, reviewer):
    draft = relic_in(db, status="draft", name="Đình Nháp")
    published = relic_in(db, name="Đình Đã Công Bố")
    elsewhere = create_user(db, "kinds-elsewhere", PASSWORD, "commune_editor",
                            unit_codes=("12238",))
    pond = {"name_vi": "Ao", "kind": "pond"}
    saved = site_features.create(db, editor, "landscapes", draft, pond,
                                 shape(square(105.9563, 20.8402)))
    assert revisions(db, "landscapes", saved.id)[0]["username"] == "kinds-editor"
    with pytest.raises(PermissionDenied) as caught:
        site_features.create(db, editor, "landscapes", published, pond,
                             shape(square(105.9563, 20.8402)))
    assert "hãy đề nghị cán bộ thẩm định cấp huyện" in caught.value.user_message("vi")
    with pytest.raises(PermissionDenied) as caught:
        site_features.update(db, elsewhere, "landscapes", saved.id, {**pond, "name_vi": "X"},
                             None)
    assert "không thuộc xã của tài khoản bạn" in caught.value.user_message("vi")
    assert site_features.feature(db, "landscapes", saved.id)["values"]["name_vi"] == "Ao"


# --- the pages -----------------------------------------------------------------------------

def test_a_reviewer_creates_an_intangible_heritage_and_a_festival_date_on_the_pages(
        app, db):
    staff = signed_in(app, db, "kinds-web", "district_reviewer")
    page = staff.get("/officials/intangible/new")
    assert page.status_code == 200
    form = {**tokens(page.get_data(as_text=True)), **ICH, "national_listing_date": "2020-03-15",
            "geometry": json.dumps(square(105.95, 20.84))}
    answer = staff.post("/officials/intangible/new", data=form)
    assert answer.status_code == 303
    again = staff.post("/officials/intangible/new", data=form)  # a double click
    assert again.status_code == 303
    hid = answer.headers["Location"].split("/intangible/")[1].split("/")[0]
    assert db.scalar(text("SELECT count(*) FROM intangible_heritage WHERE name_vi = :n"),
                     {"n": ICH["name_vi"]}) == 1
    edit = staff.get(f"/officials/intangible/{hid}/edit").get_data(as_text=True)
    assert "Bản nháp" in edit and "Hát trống quân Khoái Châu" in edit
    added = staff.post(f"/officials/intangible/{hid}/events",
                       data={**tokens(edit), **EVENT}, follow_redirects=True)
    assert "Đã thêm ngày lễ hội." in added.get_data(as_text=True)
    bad = staff.post(f"/officials/intangible/{hid}/events",
                     data={**tokens(edit), **EVENT, "lunar_month": "13"},
                     follow_redirects=True)
    assert "Tháng âm lịch: hãy nhập số từ 1 đến 12." in bad.get_data(as_text=True)
    assert len(intangible.record(db, hid)["events"]) == 1
    history = staff.get(f"/officials/intangible/{hid}/history").get_data(as_text=True)
    assert "Thêm ngày lễ hội: Hội làng Đông Tảo" in history and "kinds-web" in history


def test_a_landscape_is_saved_from_the_form_and_its_history_shows_the_change(app, db):
    relic = relic_in(db)
    staff = signed_in(app, db, "kinds-web", "district_reviewer")
    assert "Cảnh quan" in staff.get(f"/sites/{relic}").get_data(as_text=True)
    page = staff.get(f"/officials/landscapes/new?relic={relic}").get_data(as_text=True)
    answer = staff.post("/officials/landscapes/new", data={
        **tokens(page), "relic": relic, "name_vi": "Ao đình", "kind": "pond",
        "accuracy": "digitised", "geometry": json.dumps(square(105.9563, 20.8402))})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    feature_id = int(answer.headers["Location"].split("/")[-2])
    listed = staff.get(f"/officials/landscapes?relic={relic}").get_data(as_text=True)
    assert "Ao đình" in listed
    edit = staff.get(f"/officials/landscapes/{feature_id}/edit").get_data(as_text=True)
    refused = staff.post(f"/officials/landscapes/{feature_id}/edit", data={
        **tokens(edit), "name_vi": "Ao đình", "kind": "pond", "accuracy": "digitised",
        "geometry": json.dumps({"type": "Point", "coordinates": list(IN_TVV)})})
    assert refused.status_code == 400
    assert "Hình của cảnh quan là một vùng: hãy vẽ đường bao hoặc gửi một đa giác (đây là " \
        "Point)." in refused.get_data(as_text=True)
    staff.post(f"/officials/landscapes/{feature_id}/edit", data={
        **tokens(edit), "name_vi": "Ao sen", "kind": "pond", "accuracy": "digitised"})
    history = staff.get(f"/officials/landscapes/{feature_id}/history").get_data(as_text=True)
    assert "Ao đình" in history and "Ao sen" in history and "kinds-web" in history


def _state(db) -> tuple:
    return (db.execute(text("SELECT md5(coalesce(string_agg(to_jsonb(x)::text, '' ORDER BY "
                            "id), '')) FROM landscapes x")).scalar(),
            db.execute(text("SELECT md5(coalesce(string_agg(to_jsonb(x)::text, '' ORDER BY "
                            "id), '')) FROM facilities x")).scalar(),
            db.execute(text("SELECT md5(coalesce(string_agg(to_jsonb(x)::text, '' ORDER BY "
                            "id), '')) FROM intangible_heritage x")).scalar(),
            db.execute(text("SELECT md5(coalesce(string_agg(to_jsonb(x)::text, '' ORDER BY "
                            "id), '')) FROM heritage_events x")).scalar(),
            db.execute(text("SELECT count(*) FROM intangible_artisans")).scalar(),
            db.execute(text("SELECT count(*) FROM intangible_sites")).scalar())


@pytest.mark.parametrize("who", ["other_commune", "public"])
def test_every_write_endpoint_refuses_other_communes_and_the_public(
        app, client, db, reviewer, who):
    relic = relic_in(db, status="draft", name="Đình Được Bảo Vệ")
    pond = site_features.create(db, reviewer, "landscapes", relic,
                                {"name_vi": "Ao", "kind": "pond"},
                                shape(square(105.9563, 20.8402))).id
    park = site_features.create(db, reviewer, "facilities", relic,
                                {"name_vi": "Bãi xe", "kind": "parking"},
                                site_features.Shape(point=Position(*IN_TVV))).id
    hid = intangible.create(db, reviewer, ICH).heritage_id
    event_id = intangible.add_event(db, reviewer, hid, EVENT)
    person = intangible.add_artisan(db, reviewer, hid, {"full_name": "Trần Thị Ca"})
    intangible.add_site(db, reviewer, hid, relic)
    db.flush()
    if who == "other_commune":
        actor = signed_in(app, db, "kinds-elsewhere", "commune_editor", "12238")
        assert actor.get(f"/officials/landscapes/{pond}/edit").status_code == 403
        token = {"csrf_token": tokens(actor.get("/officials/relics/new")
                                      .get_data(as_text=True))["csrf_token"]}
    else:
        actor = client
        assert actor.get(f"/officials/landscapes/{pond}/edit").status_code == 302
        token = {"csrf_token": AuthActions(client).csrf("/login")}
    before = _state(db)
    polygon = json.dumps(square(105.9563, 20.8402, 0.0007))
    feature = {"name_vi": "Đổi", "kind": "pond", "geometry": polygon, "relic": relic}
    posts = [
        ("/officials/landscapes/new", feature),
        (f"/officials/landscapes/{pond}/edit", feature),
        (f"/officials/landscapes/{pond}/delete", {}),
        ("/officials/facilities/new", {**feature, "kind": "parking"}),
        (f"/officials/facilities/{park}/edit", {**feature, "kind": "parking"}),
        (f"/officials/facilities/{park}/delete", {}),
        ("/officials/intangible/new", ICH),
        (f"/officials/intangible/{hid}/edit", {**ICH, "name_vi": "Đổi"}),
        (f"/officials/intangible/{hid}/publish", {}),
        (f"/officials/intangible/{hid}/sites", {"relic": relic}),
        (f"/officials/intangible/{hid}/sites/{relic}/remove", {}),
        (f"/officials/intangible/{hid}/events", EVENT),
        (f"/officials/intangible/{hid}/events/{event_id}", {**EVENT, "lunar_day": "20"}),
        (f"/officials/intangible/{hid}/events/{event_id}/remove", {}),
        (f"/officials/intangible/{hid}/artisans", {"full_name": "Lê Văn Mới"}),
        (f"/officials/intangible/{hid}/artisans/{person}", {"full_name": "Đổi Tên"}),
        (f"/officials/intangible/{hid}/artisans/{person}/remove", {}),
    ]
    for path, data in posts:
        refused = actor.post(path, data={**token, **data})
        if who == "public":
            assert refused.status_code == 303 and "/login" in refused.headers["Location"], path
        else:
            assert refused.status_code == 403, path
            assert "Traceback" not in refused.get_data(as_text=True)
    assert _state(db) == before


def test_a_facility_point_is_typed_then_moved_by_a_commune_editor_on_a_draft_relic(app, db):
    relic = relic_in(db, status="draft", name="Đình Mới Khảo Sát")
    author = signed_in(app, db, "kinds-commune", "commune_editor", "12223")
    page = author.get(f"/officials/facilities/new?relic={relic}").get_data(as_text=True)
    assert "Bãi đỗ xe" in page  # the kinds from the facility_kinds table, in Vietnamese
    answer = author.post("/officials/facilities/new", data={
        **tokens(page), "relic": relic, "name_vi": "Bãi xe", "kind": "parking",
        "shape_mode": "point", "position_mode": "wgs84", "lon": "105,9564", "lat": "20,8401"})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    feature_id = int(answer.headers["Location"].split("/")[-2])
    edit = author.get(f"/officials/facilities/{feature_id}/edit").get_data(as_text=True)
    assert 'value="105.9564"' in edit and 'value="20.8401"' in edit
    swapped = author.post(f"/officials/facilities/{feature_id}/edit", data={
        **tokens(edit), "name_vi": "Bãi xe", "kind": "parking", "shape_mode": "point",
        "position_mode": "wgs84", "lon": "20.8401", "lat": "105.9566"})
    assert swapped.status_code == 400
    assert "Kinh độ và vĩ độ có vẻ bị đảo" in swapped.get_data(as_text=True)
    author.post(f"/officials/facilities/{feature_id}/edit", data={
        **tokens(edit), "name_vi": "Bãi xe", "kind": "parking", "shape_mode": "point",
        "position_mode": "wgs84", "lon": "105.9566", "lat": "20.8401"})
    history = author.get(f"/officials/facilities/{feature_id}/history").get_data(as_text=True)
    assert "Hình dạng:</span> <del>điểm</del> → <ins>điểm</ins>" in history
    geometries = json.loads(re.search(r'id="history-geometries">(.*?)</script>', history,
                                      re.S).group(1))
    assert geometries[-1]["after"]["coordinates"] == [105.9566, 20.8401]
    db.execute(text("UPDATE sites SET status = 'published' WHERE heritage_id = :h"),
               {"h": relic})
    db.flush()
    refused = author.post(f"/officials/facilities/{feature_id}/edit", data={
        **tokens(edit), "name_vi": "Bãi xe lớn", "kind": "parking"})
    assert refused.status_code == 403
    assert "hãy đề nghị cán bộ thẩm định cấp huyện" in refused.get_data(as_text=True)


def test_an_outline_sent_as_a_vn2000_file_is_previewed_then_saved_without_javascript(app, db):
    relic = relic_in(db)
    staff = signed_in(app, db, "kinds-web", "district_reviewer")
    to_vn2000 = Transformer.from_crs(4326, 9209, always_xy=True)
    ring = [list(to_vn2000.transform(x, y))
            for x, y in square(105.9563, 20.8402)["coordinates"][0]]
    named = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::9209"}}
    body = json.dumps({"type": "FeatureCollection", "crs": named,
                       "features": [{"type": "Feature", "properties": {},
                                     "geometry": {"type": "Polygon", "coordinates": [ring]}}]})
    page = staff.get(f"/officials/landscapes/new?relic={relic}").get_data(as_text=True)
    preview = staff.post("/officials/shape-file", data={
        "csrf_token": tokens(page)["csrf_token"],
        "file": (io.BytesIO(body.encode()), "ao.geojson")}, content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_data(as_text=True)
    corner = preview.json["geometry"]["coordinates"][0][0][0]
    assert abs(corner[0] - 105.9563) < 1e-6 and abs(corner[1] - 20.8402) < 1e-6
    assert "9209" in preview.json["crs"]["crs"]
    empty = staff.post("/officials/shape-file", data={
        "csrf_token": tokens(page)["csrf_token"],
        "file": (io.BytesIO(b'{"type": "FeatureCollection", "features": []}'), "x.geojson")},
        content_type="multipart/form-data")
    assert empty.status_code in (400, 422) and empty.json["message"]
    saved = staff.post("/officials/landscapes/new", data={
        **tokens(page), "relic": relic, "name_vi": "Ao làng", "kind": "pond",
        "file": (io.BytesIO(body.encode()), "ao.geojson")}, content_type="multipart/form-data")
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert db.scalar(text("""
        SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint(105.9565, 20.8404), 4326))
          FROM landscapes WHERE name_vi = 'Ao làng'""")) is True
    public = app.test_client().get(
        "/api/layers/landscapes.geojson?bbox=105.955,20.839,105.958,20.842").json
    assert "Ao làng" in [f["properties"]["name_vi"] for f in public["features"]]


def test_the_pages_speak_english_when_asked(app, db, reviewer):
    relic = relic_in(db)
    hid = intangible.create(db, reviewer, ICH).heritage_id
    intangible.add_event(db, reviewer, hid, EVENT)
    intangible.add_artisan(db, reviewer, hid, {"full_name": "Đỗ Văn Chèo",
                                               "title": "Nghệ nhân Ưu tú"})
    pond = site_features.create(db, reviewer, "landscapes", relic,
                                {"name_vi": "Ao đình", "kind": "pond"},
                                shape(square(105.9563, 20.8402))).id
    db.flush()
    staff = signed_in(app, db, "kinds-english", "district_reviewer")
    pages = {
        f"/officials/intangible/{hid}/edit?lang=en": ["Festival dates", "Lunar month",
                                                      "Artisans", "Folk performing arts",
                                                      "Nghệ nhân Ưu tú", "Publish"],
        "/officials/intangible?lang=en": ["Hát trống quân Khoái Châu", "Draft"],
        f"/officials/landscapes?relic={relic}&lang=en": ["Ao đình", "Pond", "area"],
        f"/officials/landscapes/{pond}/edit?lang=en": ["Kind of landscape", "Draw an outline"],
        f"/officials/facilities/new?relic={relic}&lang=en": ["Car park", "a point"],
        f"/officials/intangible/{hid}/history?lang=en": ["Festival date added: Hội làng",
                                                        "Artisan added: Đỗ Văn Chèo"],
    }
    for path, expected in pages.items():
        answer = staff.get(path)
        assert answer.status_code == 200, path
        html = answer.get_data(as_text=True)
        for words in expected:
            assert words in html, (path, words)
