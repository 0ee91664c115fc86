"""Officials add photos to a relic; the public page, the map card and /media show them
with credit and licence only while the relic is public; bad files change nothing."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import text

from gis_app.services.accounts import create_user
from tests.factories import make_site, png, png_claiming

PASSWORD = "mat-khau-thu-nghiem-1"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _upload(client, site_id: int, data: bytes, **fields: str):
    page = client.get(f"/officials/relic-media/{site_id}").get_data(as_text=True)
    return client.post(f"/officials/relic-media/{site_id}", content_type="multipart/form-data",
                       data={"csrf_token": _csrf(page), "file": (io.BytesIO(data), "anh.png"),
                             **fields})


def test_a_photo_reaches_the_public_page_the_card_and_media(client, db, auth, media):
    hid = make_site(db, 105.99, 20.86, name="Đình Ảnh Thử", zone_radius_m=None)
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    create_user(db, "anh-canbo", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("anh-canbo", PASSWORD)
    response = _upload(client, site_id, png(), title="Tam quan nhìn từ sân",
                       title_en="The gate from the yard", credit="Nguyễn Văn A",
                       licence="CC BY 4.0")
    assert response.status_code == 303
    uri = db.scalar(text("SELECT uri FROM digital_records WHERE site_id = :s"), {"s": site_id})
    meta = db.scalar(text("SELECT metadata FROM digital_records WHERE site_id = :s"),
                     {"s": site_id})
    assert (meta["width"], meta["height"]) == (64, 48)
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "Tam quan nhìn từ sân" in page and "Nguyễn Văn A" in page and "CC BY 4.0" in page
    english = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "The gate from the yard" in english
    photo = client.get(f"/media/{uri}")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    card = client.get("/api/sites?q=dinh anh thu").get_json()["features"][0]["properties"]
    assert card["photo"]["url"].split("?")[0].endswith("/media/" + uri)
    assert (card["photo"]["credit"], card["photo"]["licence"]) == ("Nguyễn Văn A", "CC BY 4.0")
    # Unpublished, the relic takes its photo with it.
    db.execute(text("UPDATE sites SET status = 'draft' WHERE id = :s"), {"s": site_id})
    db.flush()
    assert client.get(f"/media/{uri}").status_code == 404


@pytest.mark.parametrize("data, message", [
    (b"GIF89a not allowed", "Tệp không phải JPEG, PNG hoặc PDF."),
    (png()[:60], "Ảnh bị hỏng, không đọc được."),
    (png_claiming(20_000, 20_000), "Ảnh quá lớn: tối đa 80 triệu điểm ảnh."),
])
def test_bad_files_are_refused_and_nothing_is_kept(client, db, auth, media, data, message):
    hid = make_site(db, 105.99, 20.86, zone_radius_m=None)
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    create_user(db, "anh-canbo2", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("anh-canbo2", PASSWORD)
    response = _upload(client, site_id, data, title="Ảnh")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.scalar(text("SELECT count(*) FROM digital_records WHERE site_id = :s"),
                     {"s": site_id}) == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_commune_editors_only_for_relics_of_their_commune(client, db, auth, media):
    hid = make_site(db, 105.99, 20.86, zone_radius_m=None)
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    unit = db.execute(text("""INSERT INTO admin_units (code, name, level, valid_from)
                              VALUES ('T-ANH', 'Xã Ảnh', 'commune', '2025-07-01')
                              RETURNING id""")).scalar_one()
    create_user(db, "anh-xa", PASSWORD, "commune_editor", unit_codes=("T-ANH",))
    db.flush()
    auth.login("anh-xa", PASSWORD)
    assert client.get(f"/officials/relic-media/{site_id}").status_code == 403
    db.execute(text("""INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from)
                       VALUES (:s, :u, '2025-07-01')"""), {"s": site_id, "u": unit})
    db.flush()
    assert client.get(f"/officials/relic-media/{site_id}").status_code == 200
    assert _upload(client, site_id, png(), title="Ảnh").status_code == 303


def test_a_digital_record_of_nationally_listed_heritage_counts_for_target_d(client, db, auth,
                                                                             media):
    from gis_app.clock import today_in_vietnam
    from gis_app.services import indicators

    db.execute(text("INSERT INTO heritage_identifiers (id, kind) "
                    "VALUES ('VN-HY-PVT-870001', 'intangible')"))
    ich = db.execute(text("""
        INSERT INTO intangible_heritage (heritage_id, name_vi, ich_type, national_listing_date,
                                         status)
        VALUES ('VN-HY-PVT-870001', 'Hát trống quân thử', 'folk_performing_arts',
                DATE '2020-01-01', 'published') RETURNING id""")).scalar_one()
    year = today_in_vietnam().year

    def met() -> bool:
        rows = indicators.indicator_rows(db, "d", year)
        return {r["record_id"]: r["met"] for r in rows}[ich]

    assert met() is False
    create_user(db, "xa-pvt", PASSWORD, "commune_editor",
                unit_codes=(db.scalar(text("SELECT code FROM admin_units WHERE valid_to IS NULL "
                                           "AND level = 'commune' LIMIT 1")),))
    create_user(db, "huyen-pvt", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("xa-pvt", PASSWORD)
    assert client.get(f"/officials/relic-media/intangible/{ich}").status_code == 403
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    auth.login("huyen-pvt", PASSWORD)
    page = client.get(f"/officials/relic-media/intangible/{ich}").get_data(as_text=True)
    response = client.post(f"/officials/relic-media/intangible/{ich}",
                           content_type="multipart/form-data",
                           data={"csrf_token": _csrf(page), "title": "Bản ghi hình buổi hát",
                                 "file": (io.BytesIO(png()), "hat.png")})
    assert response.status_code == 303
    assert met() is True
    # Removed, the record no longer counts; put back, it counts again.
    record = db.scalar(text("SELECT id FROM digital_records WHERE intangible_id = :i"),
                       {"i": ich})
    page = client.get(f"/officials/relic-media/intangible/{ich}").get_data(as_text=True)
    removed = client.post(f"/officials/relic-media/intangible/{ich}/records/{record}/remove",
                          data={"csrf_token": _csrf(page), "reason": "Nhầm tệp"})
    assert removed.status_code == 303
    assert met() is False
    client.post(f"/officials/relic-media/intangible/{ich}/records/{record}/restore",
                data={"csrf_token": _csrf(page)})
    assert met() is True


def test_the_national_listing_decides_whether_target_d_counts_it(client, db, auth, media):
    from gis_app.clock import today_in_vietnam
    from gis_app.services import indicators

    db.execute(text("INSERT INTO heritage_identifiers (id, kind) "
                    "VALUES ('VN-HY-PVT-870002', 'intangible')"))
    ich = db.execute(text("""
        INSERT INTO intangible_heritage (heritage_id, name_vi, ich_type, status)
        VALUES ('VN-HY-PVT-870002', 'Lễ hội thử', 'traditional_festival', 'published')
        RETURNING id""")).scalar_one()
    year = today_in_vietnam().year

    def counted() -> bool:
        return ich in {r["record_id"] for r in indicators.indicator_rows(db, "d", year)}

    assert not counted()
    create_user(db, "huyen-list", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("huyen-list", PASSWORD)
    page = client.get(f"/officials/relic-media/intangible/{ich}").get_data(as_text=True)
    token = re.search(r'name="l-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    half = client.post(f"/officials/relic-media/intangible/{ich}/listing",
                       data={"l-csrf_token": token, "l-decision_no": "99/QĐ-BVHTTDL"},
                       follow_redirects=True)
    assert "Cần nhập cả số quyết định và ngày quyết định" in half.get_data(as_text=True)
    assert not counted()
    client.post(f"/officials/relic-media/intangible/{ich}/listing",
                data={"l-csrf_token": token, "l-decision_no": "99/QĐ-BVHTTDL",
                      "l-listed_on": f"{year}-01-15"})
    assert counted()
    revision = db.scalar(text("""SELECT after ->> 'national_listing_decision_no' FROM revisions
                                  WHERE table_name = 'intangible_heritage'
                                  ORDER BY id DESC LIMIT 1"""))
    assert revision == "99/QĐ-BVHTTDL"


# --- editing, order, removal and review of photos --------------------------------------

def _site_id(db, hid: str) -> int:
    return db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})


def _act(client, site_id: int, record_id: int, action: str, **fields: str):
    page = client.get(f"/officials/relic-media/{site_id}").get_data(as_text=True)
    return client.post(f"/officials/relic-media/{site_id}/records/{record_id}/{action}",
                       data={"csrf_token": _csrf(page), **fields})


def _records(db, site_id: int) -> list[dict]:
    return [dict(r) for r in db.execute(text("""
        SELECT id, uri, credit, licence, metadata ->> 'caption_vi' AS caption_vi,
               metadata ->> 'caption_en' AS caption_en, position, removed_at, removed_reason,
               approved_at
          FROM digital_records WHERE site_id = :s ORDER BY id"""), {"s": site_id}).mappings()]


def _public_captions(client, hid: str) -> list[str]:
    page = client.get(f"/sites/{hid}?lang=vi").get_data(as_text=True)
    return re.findall(r'<span class="caption">([^<]*)</span>', page)


def _logout(client, auth) -> None:
    client.post("/logout", data={"csrf_token": auth.csrf("/account")})


def test_a_reviewer_edits_orders_removes_and_puts_back_photos(client, db, auth, media):
    hid = make_site(db, 105.99, 20.86, name="Đình Sắp Ảnh", zone_radius_m=None)
    site_id = _site_id(db, hid)
    create_user(db, "sap-anh", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("sap-anh", PASSWORD)
    assert _upload(client, site_id, png(64, 48), title="Tam quan",
                   licence="CC BY 4.0").status_code == 303
    assert _upload(client, site_id, png(40, 30), title="Hậu cung").status_code == 303
    first, second = (r["id"] for r in _records(db, site_id))
    # An invented licence is refused by the list: nothing is stored.
    refused = _upload(client, site_id, png(20, 20), title="Ảnh lạ", licence="Tự do")
    assert refused.status_code == 400 and len(_records(db, site_id)) == 2

    edited = _act(client, site_id, first, "edit", **{
        f"r{first}-title": "Tam quan đình", f"r{first}-title_en": "The gate",
        f"r{first}-credit": "Trần Thị B", f"r{first}-licence": "public_domain"})
    assert edited.status_code == 303
    row = _records(db, site_id)[0]
    assert (row["caption_vi"], row["caption_en"], row["credit"], row["licence"]) == \
        ("Tam quan đình", "The gate", "Trần Thị B", "public_domain")
    _logout(client, auth)
    page = client.get(f"/sites/{hid}?lang=vi").get_data(as_text=True)
    assert "Trần Thị B" in page and "Phạm vi công cộng" in page
    english = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "Public domain" in english and "The gate" in english
    assert _public_captions(client, hid) == ["Tam quan đình", "Hậu cung"]
    card = client.get("/api/sites?q=dinh sap anh").get_json()["features"][0]["properties"]
    assert card["photo"]["credit"] == "Trần Thị B"

    auth.login("sap-anh", PASSWORD)
    assert _act(client, site_id, second, "up").status_code == 303
    _logout(client, auth)
    assert _public_captions(client, hid) == ["Hậu cung", "Tam quan đình"]
    card = client.get("/api/sites?q=dinh sap anh").get_json()["features"][0]["properties"]
    assert card["photo"]["url"].split("?")[0].endswith(_records(db, site_id)[1]["uri"])

    auth.login("sap-anh", PASSWORD)
    no_reason = _act(client, site_id, second, "remove", reason=" ")
    assert no_reason.status_code == 303 and _records(db, site_id)[1]["removed_at"] is None
    assert "Hãy nêu lý do gỡ." in client.get(f"/officials/relic-media/{site_id}").get_data(
        as_text=True)
    assert _act(client, site_id, second, "remove", reason="Ảnh mờ").status_code == 303
    officials = client.get(f"/officials/relic-media/{site_id}").get_data(as_text=True)
    assert "Đã gỡ" in officials and "Ảnh mờ" in officials
    _logout(client, auth)
    removed_uri = _records(db, site_id)[1]["uri"]
    assert _public_captions(client, hid) == ["Tam quan đình"]
    assert client.get(f"/media/{removed_uri}").status_code == 404

    auth.login("sap-anh", PASSWORD)
    assert _act(client, site_id, second, "restore").status_code == 303
    _logout(client, auth)
    assert _public_captions(client, hid) == ["Hậu cung", "Tam quan đình"]
    assert client.get(f"/media/{removed_uri}").status_code == 200
    # Every change is a revision, with its actor.
    actors = db.scalar(text("""
        SELECT count(*) FROM revisions r JOIN users u ON u.id = r.actor_id
         WHERE r.table_name = 'digital_records' AND r.action = 'update'
           AND r.row_id = CAST(:r AS text) AND u.username = 'sap-anh'"""), {"r": second})
    assert actors >= 3


def test_a_commune_editors_photo_waits_for_a_reviewer(client, db, auth, media):
    hid = make_site(db, 105.99, 20.86, name="Đình Chờ Duyệt", zone_radius_m=None)
    site_id = _site_id(db, hid)
    unit = db.execute(text("""INSERT INTO admin_units (code, name, level, valid_from)
                              VALUES ('T-DUYET', 'Xã Duyệt', 'commune', '2025-07-01')
                              RETURNING id""")).scalar_one()
    db.execute(text("""INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from)
                       VALUES (:s, :u, '2025-07-01')"""), {"s": site_id, "u": unit})
    create_user(db, "duyet-xa", PASSWORD, "commune_editor", unit_codes=("T-DUYET",))
    create_user(db, "duyet-huyen", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("duyet-xa", PASSWORD)
    assert _upload(client, site_id, png(), title="Giếng đình").status_code == 303
    page = client.get(f"/officials/relic-media/{site_id}").get_data(as_text=True)
    assert "Chờ duyệt" in page and "Giếng đình" in page
    (record,) = _records(db, site_id)
    assert record["approved_at"] is None
    # The editor sees the waiting photo itself (private to officials).
    own = client.get(f"/media/{record['uri']}")
    assert own.status_code == 200 and "private" in own.headers["Cache-Control"]
    # The editor may not approve their own photo.
    assert _act(client, site_id, record["id"], "approve").status_code == 403
    assert _records(db, site_id)[0]["approved_at"] is None
    _logout(client, auth)
    assert _public_captions(client, hid) == []
    assert client.get(f"/media/{record['uri']}").status_code == 404
    assert client.get("/api/sites?q=dinh cho duyet").get_json()["features"][0][
        "properties"]["photo"] is None

    auth.login("duyet-huyen", PASSWORD)
    assert "Giếng đình" in client.get(f"/officials/relic-media/{site_id}").get_data(
        as_text=True)
    assert _act(client, site_id, record["id"], "approve").status_code == 303
    _logout(client, auth)
    assert _public_captions(client, hid) == ["Giếng đình"]
    assert client.get(f"/media/{record['uri']}").status_code == 200

    # A second upload, rejected with a reason: removed, never public.
    auth.login("duyet-xa", PASSWORD)
    assert _upload(client, site_id, png(30, 20), title="Ảnh trùng").status_code == 303
    _logout(client, auth)
    auth.login("duyet-huyen", PASSWORD)
    rejected = _records(db, site_id)[1]
    assert _act(client, site_id, rejected["id"], "reject",
                reason="Trùng ảnh đã có").status_code == 303
    assert _records(db, site_id)[1]["removed_reason"] == "Trùng ảnh đã có"
    _logout(client, auth)
    assert _public_captions(client, hid) == ["Giếng đình"]
    assert client.get(f"/media/{rejected['uri']}").status_code == 404


def test_other_communes_and_the_public_change_nothing(client, db, auth, media):
    hid = make_site(db, 105.99, 20.86, name="Đình Không Sửa", zone_radius_m=None)
    site_id = _site_id(db, hid)
    db.execute(text("""INSERT INTO admin_units (code, name, level, valid_from)
                       VALUES ('T-KHAC', 'Xã Khác', 'commune', '2025-07-01')"""))
    create_user(db, "khac-xa", PASSWORD, "commune_editor", unit_codes=("T-KHAC",))
    create_user(db, "khong-sua", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("khong-sua", PASSWORD)
    assert _upload(client, site_id, png(), title="Tam quan", credit="A").status_code == 303
    (record,) = _records(db, site_id)
    _logout(client, auth)
    before = _records(db, site_id)
    token = auth.csrf("/login")
    for action, fields in (("edit", {f"r{record['id']}-title": "Đổi"}),
                           ("remove", {"reason": "Phá"}), ("up", {})):
        url = f"/officials/relic-media/{site_id}/records/{record['id']}/{action}"
        public = client.post(url, data={"csrf_token": token, **fields})
        assert public.status_code in (302, 303) and "/login" in public.headers["Location"]
    auth.login("khac-xa", PASSWORD)
    token = auth.csrf("/account")
    for action, fields in (("edit", {f"r{record['id']}-title": "Đổi"}),
                           ("remove", {"reason": "Phá"}), ("approve", {})):
        url = f"/officials/relic-media/{site_id}/records/{record['id']}/{action}"
        response = client.post(url, data={"csrf_token": token, **fields})
        assert response.status_code == 403
        assert "nằm ngoài các xã của bạn" in response.get_data(as_text=True)
    assert _records(db, site_id) == before
    _logout(client, auth)
    assert _public_captions(client, hid) == ["Tam quan"]


def test_a_licence_typed_before_the_list_is_shown_and_kept(client, db, auth, media):
    hid = make_site(db, 105.99, 20.86, name="Đình Giấy Phép Cũ", zone_radius_m=None)
    site_id = _site_id(db, hid)
    create_user(db, "phep-cu", PASSWORD, "district_reviewer")
    db.flush()
    auth.login("phep-cu", PASSWORD)
    assert _upload(client, site_id, png(), title="Bia đá").status_code == 303
    (record,) = _records(db, site_id)
    db.execute(text("UPDATE digital_records SET licence = 'Bảo tàng tỉnh cho phép' "
                    "WHERE id = :r"), {"r": record["id"]})
    db.flush()
    page = client.get(f"/officials/relic-media/{site_id}").get_data(as_text=True)
    assert '<option selected value="Bảo tàng tỉnh cho phép">' in page
    assert _act(client, site_id, record["id"], "edit", **{
        f"r{record['id']}-title": "Bia đá thời Lê",
        f"r{record['id']}-licence": "Bảo tàng tỉnh cho phép"}).status_code == 303
    assert _records(db, site_id)[0]["licence"] == "Bảo tàng tỉnh cho phép"
    # Another invented value is not accepted: the record keeps its licence.
    _act(client, site_id, record["id"], "edit", **{
        f"r{record['id']}-title": "Bia đá", f"r{record['id']}-licence": "Tự do"})
    assert _records(db, site_id)[0]["licence"] == "Bảo tàng tỉnh cho phép"
    assert _records(db, site_id)[0]["caption_vi"] == "Bia đá thời Lê"
    _logout(client, auth)
    assert "Bảo tàng tỉnh cho phép" in client.get(f"/sites/{hid}?lang=vi").get_data(
        as_text=True)
