"""Officials add photos to a relic; the public page, the map card and /media show them
with credit and licence only while the relic is public; bad files change nothing."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import text

from gis_app.services.accounts import create_user
from tests.factories import make_site, png

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
    assert client.get(f"/officials/relic-media/{site_id}").status_code == 404
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
