"""The artifact register: officials record artifacts, the year's inventory, conservation
and digital records through the pages; the targets follow; bad input changes nothing."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from gis_app.clock import today_in_vietnam
from gis_app.services import indicators
from gis_app.services.accounts import create_user
from tests.factories import png
from tests.history import build_history

PASSWORD = "mat-khau-thu-nghiem-1"
PNG = png()


@pytest.fixture
def history(db):
    return build_history(db)


def _csrf(html: str, action: str) -> dict[str, str]:
    """The CSRF field of the form posting to `action` (forms with a prefix name it
    `<prefix>-csrf_token`)."""
    form = html[html.index(f'action="{action}"'):]
    name, value = re.search(r'name="((?:\w+-)?csrf_token)" type="hidden" value="([^"]+)"',
                            form).groups()
    return {name: value}


def _counts(db) -> tuple[int, int, int, int]:
    return db.execute(text("""
        SELECT (SELECT count(*) FROM artifacts), (SELECT count(*) FROM artifact_inventory_records),
               (SELECT count(*) FROM conservation_actions), (SELECT count(*) FROM digital_records)
    """)).one()


def _signed_in(db, auth, role="district_reviewer", units=()):
    create_user(db, f"hv-{role}", PASSWORD, role, unit_codes=units)
    db.flush()
    auth.login(f"hv-{role}", PASSWORD)


def test_record_an_artifact_then_its_inventory_and_the_target_moves(client, db, auth, history,
                                                                      media):
    _signed_in(db, auth)
    this_year = today_in_vietnam().year
    before = indicators.dashboard(db, this_year)[0]["district"]
    page = client.get("/officials/artifacts/").get_data(as_text=True)
    s1 = history["sites"]["S1"]
    response = client.post("/officials/artifacts/", data={
        **_csrf(page, "/officials/artifacts/"), "name_vi": "Long ngai sơn son",
        "kind": "antiquity", "holding_site_id": s1, "period": "Thời Nguyễn",
        "typical_value": "y"})
    assert response.status_code == 303
    show = response.headers["Location"]
    html = client.get(show).get_data(as_text=True)
    assert "Long ngai sơn son" in html and "Cổ vật" in html
    hid = db.scalar(text("SELECT heritage_id FROM artifacts WHERE name_vi = 'Long ngai sơn son'"))
    assert re.fullmatch(r"VN-HY-HV-\d{6}", hid)
    action = show + "/inventory"
    response = client.post(action, data={**_csrf(html, action),
                                         "i-inventoried_on": today_in_vietnam().isoformat()})
    assert response.status_code == 303
    after = indicators.dashboard(db, this_year)[0]["district"]
    assert (after["numerator"], after["denominator"]) == (before["numerator"] + 1,
                                                          before["denominator"] + 1)
    # Who did it is in the revisions.
    actor = db.scalar(text("""
        SELECT u.username FROM revisions r JOIN users u ON u.id = r.actor_id
         WHERE r.table_name = 'artifact_inventory_records' ORDER BY r.id DESC LIMIT 1"""))
    assert actor == "hv-district_reviewer"


def test_a_second_inventory_in_a_year_and_a_future_date_are_refused(client, db, auth, history,
                                                                      media, evening_in_utc):
    """At 23:30 UTC it is already tomorrow in Vietnam: "the future" starts after Vietnam's
    today, not the machine's."""
    _signed_in(db, auth)
    artifact = history["artifacts"]["Sắc phong 1"]  # inventoried in 2024 and 2025
    show = f"/officials/artifacts/{artifact}"
    html = client.get(show).get_data(as_text=True)
    counts = _counts(db)
    response = client.post(show + "/inventory", data={
        **_csrf(html, show + "/inventory"), "i-inventoried_on": "2025-09-09"})
    assert response.status_code == 400
    assert ("Hiện vật này đã có biên bản kiểm kê năm 2025: hãy sửa biên bản đó, hoặc rút nó "
            "trước.") in response.get_data(as_text=True)
    tomorrow = (today_in_vietnam() + timedelta(days=1)).isoformat()
    response = client.post(show + "/conservation", data={
        **_csrf(html, show + "/conservation"), "c-kind": "preventive",
        "c-performed_on": tomorrow})
    assert response.status_code == 400
    assert "là ngày trong tương lai" in response.get_data(as_text=True)
    assert _counts(db) == counts


def test_a_digital_record_keeps_its_file_metadata_credit_and_licence(client, db, auth, history,
                                                                       media):
    _signed_in(db, auth)
    artifact = history["artifacts"]["Sắc phong 2"]
    show = f"/officials/artifacts/{artifact}"
    html = client.get(show).get_data(as_text=True)
    counts = _counts(db)
    bad = client.post(show + "/media", content_type="multipart/form-data", data={
        **_csrf(html, show + "/media"), "m-title": "Ảnh",
        "m-file": (io.BytesIO(b"MZ\x90\x00 not an image"), "anh.jpg")})
    assert bad.status_code == 400
    assert "Tệp không phải JPEG, PNG hoặc PDF." in bad.get_data(as_text=True)
    assert _counts(db) == counts
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))
    good = client.post(show + "/media", content_type="multipart/form-data", data={
        **_csrf(html, show + "/media"), "m-title": "Sắc phong năm Khải Định 9",
        "m-credit": "Phòng VH-TT Khoái Châu", "m-licence": "CC BY 4.0",
        "m-file": (io.BytesIO(PNG), "sac-phong.png")})
    assert good.status_code == 303
    row = db.execute(text("""SELECT media_type, uri, metadata, credit, licence
                               FROM digital_records WHERE artifact_id = :a
                              ORDER BY id DESC LIMIT 1"""), {"a": artifact}).one()
    assert row.media_type == "image/png" and row.credit == "Phòng VH-TT Khoái Châu"
    assert row.metadata["title"] == "Sắc phong năm Khải Định 9" and row.licence == "CC BY 4.0"
    assert (media / row.uri).read_bytes() == PNG
    # Sắc phong 2 now counts as digitised for target b this year.
    rows = indicators.indicator_rows(db, "b", today_in_vietnam().year)
    assert {r["name"]: r["met"] for r in rows}["Sắc phong 2"] is True


def test_commune_editors_keep_to_their_commune(client, db, auth, history, media):
    binh = db.scalar(text("SELECT code FROM admin_units WHERE id = :u"),
                     {"u": history["units"]["binh"]})
    _signed_in(db, auth, "commune_editor", (binh,))
    listing = client.get("/officials/artifacts/").get_data(as_text=True)
    assert "Kiệu" in listing and "Hoành phi" in listing
    assert "Sắc phong 1" not in listing  # held at S1, in Tân Thử
    other = history["artifacts"]["Sắc phong 1"]
    outside = client.get(f"/officials/artifacts/{other}")
    assert outside.status_code == 403
    assert "Hiện vật này thuộc di tích ngoài xã của bạn" in outside.get_data(as_text=True)
    html = client.get(f"/officials/artifacts/{history['artifacts']['Kiệu']}").get_data(
        as_text=True)
    token = _csrf(html, f"/officials/artifacts/{history['artifacts']['Kiệu']}/conservation")
    counts = _counts(db)
    refused = client.post(f"/officials/artifacts/{other}/conservation", data={
        **token, "c-kind": "preventive", "c-performed_on": "2025-01-01"})
    assert refused.status_code == 403 and _counts(db) == counts


def test_the_public_cannot_open_the_register(client):
    response = client.get("/officials/artifacts/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
