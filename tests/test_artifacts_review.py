"""Artifacts edited in full, their yearly records corrected or withdrawn, and a commune
editor's artifacts reviewed: through the pages with the real sign-in and CSRF flow, on
the hand-built history (S1 in Tân Thử, S2 in Bình Thử, both public relics)."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from gis_app.errors import PermissionDenied
from gis_app.models.accounts import User
from gis_app.services import artifacts, indicators
from gis_app.services.accounts import create_user
from tests.factories import png
from tests.history import build_history

PASSWORD = "mat-khau-thu-nghiem-1"
BASE = "/officials/artifacts"


@pytest.fixture
def history(db):
    return build_history(db)


@pytest.fixture
def people(db, history):
    """A district reviewer, an editor of Bình Thử (S2) and one of Tân Thử (S1)."""
    codes = dict(db.execute(text("SELECT id, code FROM admin_units WHERE id IN (:b, :t)"),
                            {"b": history["units"]["binh"], "t": history["units"]["tan"]}).all())
    create_user(db, "hv-huyen", PASSWORD, "district_reviewer")
    create_user(db, "hv-binh", PASSWORD, "commune_editor",
                unit_codes=(codes[history["units"]["binh"]],))
    create_user(db, "hv-tan", PASSWORD, "commune_editor",
                unit_codes=(codes[history["units"]["tan"]],))
    db.flush()
    return {"reviewer": "hv-huyen", "binh": "hv-binh", "tan": "hv-tan"}


def _as(client, auth, username: str | None) -> None:
    """Sign out whoever is signed in, then sign `username` in (None: stay the public)."""
    if client.get("/account").status_code == 200:
        client.post("/logout", data={"csrf_token": auth.csrf("/account")})
    if username:
        assert auth.login(username, PASSWORD).status_code in (302, 303)


def _token(client, auth) -> str:
    return auth.csrf("/account") if client.get("/account").status_code == 200 \
        else auth.csrf("/login")


def _site_hid(db, site_id: int) -> str:
    return db.scalar(text("SELECT heritage_id FROM sites WHERE id = :s"), {"s": site_id})


def _public_artifacts(client, site_hid: str) -> list[str]:
    """The artifact names on the relic's public page, as a visitor reads them."""
    page = client.get(f"/sites/{site_hid}?lang=vi").get_data(as_text=True)
    if 'class="zones artifacts"' not in page:
        return []
    table = page[page.index('class="zones artifacts"'):]
    table = table[:table.index("</table>")]
    return re.findall(r'<tr><td>(?:<a href="[^"]*">)?([^<]*)(?:</a>)?</td>', table)


def _row(db, artifact_id: int) -> dict:
    return dict(db.execute(text("SELECT * FROM artifacts WHERE id = :a"),
                           {"a": artifact_id}).mappings().one())


def _state(db, artifact_id: int) -> tuple:
    """Everything about the artifact a write could change."""
    return (_row(db, artifact_id),
            db.execute(text("""SELECT * FROM artifact_inventory_records WHERE artifact_id = :a
                               ORDER BY id"""), {"a": artifact_id}).all(),
            db.execute(text("""SELECT * FROM conservation_actions WHERE artifact_id = :a
                               ORDER BY id"""), {"a": artifact_id}).all(),
            db.execute(text("""SELECT * FROM digital_records WHERE artifact_id = :a
                               ORDER BY id"""), {"a": artifact_id}).all(),
            db.scalar(text("SELECT count(*) FROM artifacts")))


def _record_id(db, table: str, artifact_id: int, **where) -> int:
    clause = " AND ".join(f"{k} = :{k}" for k in where)
    return db.scalar(text(f"SELECT id FROM {table} WHERE artifact_id = :a AND {clause}"),
                     {"a": artifact_id, **where})


FIELDS = {"name_vi": "Kiệu bát cống", "other_names": "Kiệu thờ", "kind": "antiquity",
          "inventory_code": "KC.BT.07", "origin": "donated", "period": "Thời Nguyễn",
          "material": "Gỗ sơn son thếp vàng", "dimensions": "180 × 90 × 150 cm",
          "weight_kg": "85,5", "description": "Kiệu rước trong lễ hội làng.",
          "state_of_preservation": "Sơn bong ở tay kiệu", "typical_value": "y"}


def _edit(client, artifact_id: int, holding_site_id: int, **changes: str):
    page = client.get(f"{BASE}/{artifact_id}/edit")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True)).group(1)
    return client.post(f"{BASE}/{artifact_id}/edit", data={
        "csrf_token": token, **FIELDS, "holding_site_id": str(holding_site_id), **changes})


def test_a_reviewer_edits_every_field_and_the_page_shows_each(client, db, auth, history,
                                                              people):
    kieu, s2 = history["artifacts"]["Kiệu"], history["sites"]["S2"]
    _as(client, auth, people["reviewer"])
    form = client.get(f"{BASE}/{kieu}/edit").get_data(as_text=True)
    assert 'value="Kiệu"' in form  # the form comes filled with what is stored
    response = _edit(client, kieu, s2)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for shown in ("Kiệu bát cống", "Kiệu thờ", "Cổ vật", "KC.BT.07", "Hiến tặng",
                  "Thời Nguyễn", "Gỗ sơn son thếp vàng", "180 × 90 × 150 cm", "85,5",
                  "Kiệu rước trong lễ hội làng.", "Sơn bong ở tay kiệu"):
        assert shown in page, shown
    row = _row(db, kieu)
    assert row["weight_kg"] == Decimal("85.500") and row["origin"] == "donated"
    assert row["typical_value"] is True and row["at_risk"] is False and row["public"]
    assert row["approved_at"] is not None  # a reviewer's edit needs no review
    actor = db.scalar(text("""
        SELECT u.username FROM revisions r JOIN users u ON u.id = r.actor_id
         WHERE r.table_name = 'artifacts' AND r.row_id = CAST(:a AS text)
         ORDER BY r.id DESC LIMIT 1"""), {"a": kieu})
    assert actor == "hv-huyen"
    _as(client, auth, None)
    assert "Kiệu bát cống" in _public_artifacts(client, _site_hid(db, s2))

    # A weight that is not a number is refused with what to type; nothing changes.
    _as(client, auth, people["reviewer"])
    before = _row(db, kieu)
    bad = _edit(client, kieu, s2, weight_kg="nặng lắm", dimensions="1 m")
    assert bad.status_code == 400
    assert "không phải số ki-lô-gam (ví dụ 12,5)" in bad.get_data(as_text=True)
    assert _row(db, kieu) == before


def test_a_commune_editors_edit_waits_until_a_reviewer_approves_it(client, db, auth, history,
                                                                   people):
    kieu, s2 = history["artifacts"]["Kiệu"], history["sites"]["S2"]
    s2_hid = _site_hid(db, s2)
    assert "Kiệu" in _public_artifacts(client, s2_hid)
    _as(client, auth, people["binh"])
    response = _edit(client, kieu, s2, name_vi="Kiệu", dimensions="200 × 90 × 150 cm")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "200 × 90 × 150 cm" in page and "Chờ duyệt" in page
    assert _row(db, kieu)["approved_at"] is None
    # The editor may not approve it.
    token = _token(client, auth)
    assert client.post(f"{BASE}/{kieu}/review/approve",
                       data={"csrf_token": token}).status_code == 403
    assert _row(db, kieu)["approved_at"] is None
    _as(client, auth, None)
    assert _public_artifacts(client, s2_hid) == ["Hoành phi"]

    # The reviewer's queue lists it (and not the approved Hoành phi); sending it back
    # needs a comment, which the editor then reads.
    _as(client, auth, people["reviewer"])
    queue = client.get(f"{BASE}/?state=waiting").get_data(as_text=True)
    assert f'href="{BASE}/{kieu}"' in queue and "Hoành phi" not in queue
    token = _token(client, auth)
    client.post(f"{BASE}/{kieu}/review/send_back", data={"csrf_token": token, "comment": " "})
    assert "Hãy ghi cần sửa gì trước khi trả lại." in client.get(
        f"{BASE}/{kieu}").get_data(as_text=True)
    assert client.post(f"{BASE}/{kieu}/review/send_back", data={
        "csrf_token": token, "comment": "Ghi rõ đơn vị đo chiều cao"}).status_code == 303
    _as(client, auth, people["binh"])
    page = client.get(f"{BASE}/{kieu}").get_data(as_text=True)
    assert "Cán bộ thẩm định trả lại:" in page and "Ghi rõ đơn vị đo chiều cao" in page
    _as(client, auth, None)
    assert _public_artifacts(client, s2_hid) == ["Hoành phi"]

    _as(client, auth, people["reviewer"])
    assert client.post(f"{BASE}/{kieu}/review/approve",
                       data={"csrf_token": _token(client, auth)}).status_code == 303
    assert "Đã duyệt" in client.get(f"{BASE}/{kieu}").get_data(as_text=True)
    _as(client, auth, None)
    assert _public_artifacts(client, s2_hid) == ["Hoành phi", "Kiệu"]


def test_a_commune_editors_new_artifact_waits_for_review(client, db, auth, history, people):
    s2 = history["sites"]["S2"]
    _as(client, auth, people["binh"])
    html = client.get(f"{BASE}/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"{BASE}/", data={
        "csrf_token": token, "name_vi": "Hạc thờ", "kind": "object",
        "holding_site_id": str(s2), "weight_kg": "3,2"})
    assert response.status_code == 303
    new = db.scalar(text("SELECT id FROM artifacts WHERE name_vi = 'Hạc thờ'"))
    assert _row(db, new)["approved_at"] is None
    assert "Chờ duyệt" in client.get(f"{BASE}/").get_data(as_text=True)
    _as(client, auth, None)
    assert "Hạc thờ" not in _public_artifacts(client, _site_hid(db, s2))
    _as(client, auth, people["reviewer"])
    assert "Hạc thờ" in client.get(f"{BASE}/?state=waiting").get_data(as_text=True)
    client.post(f"{BASE}/{new}/review/approve", data={"csrf_token": _token(client, auth)})
    _as(client, auth, None)
    assert "Hạc thờ" in _public_artifacts(client, _site_hid(db, s2))


def test_an_artifact_kept_off_public_pages_and_its_photo(client, db, auth, history, people,
                                                         media):
    hoanh, s2 = history["artifacts"]["Hoành phi"], history["sites"]["S2"]
    s2_hid = _site_hid(db, s2)
    _as(client, auth, people["reviewer"])
    html = client.get(f"{BASE}/{hoanh}").get_data(as_text=True)
    token = re.search(r'name="m-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post(f"{BASE}/{hoanh}/media", content_type="multipart/form-data", data={
        "m-csrf_token": token, "m-title": "Hoành phi chữ Hán",
        "m-file": (io.BytesIO(png()), "hoanh-phi.png")}).status_code == 303
    uri = db.scalar(text("SELECT uri FROM digital_records WHERE artifact_id = :a"),
                    {"a": hoanh})
    _as(client, auth, None)
    assert client.get(f"/media/{uri}").status_code == 200
    _as(client, auth, people["reviewer"])
    assert _edit(client, hoanh, s2, name_vi="Hoành phi", private="y").status_code == 303
    assert "Không hiện trên trang công khai." in client.get(f"{BASE}/{hoanh}").get_data(
        as_text=True)
    _as(client, auth, None)
    assert "Hoành phi" not in _public_artifacts(client, s2_hid)
    assert client.get(f"/media/{uri}").status_code == 404


def test_moving_an_artifact_needs_both_relics_in_the_editors_scope(client, db, auth, history,
                                                                   people):
    kieu, s1 = history["artifacts"]["Kiệu"], history["sites"]["S1"]
    _as(client, auth, people["binh"])
    before = _state(db, kieu)
    response = _edit(client, kieu, s1)  # S1 is in Tân Thử: not even offered
    assert response.status_code == 400 and _state(db, kieu) == before
    # The service says no too, whatever the form offered.
    editor = db.scalar(select(User).where(User.username == people["binh"]))
    with pytest.raises(PermissionDenied, match="You may not record artifacts at that relic"):
        artifacts.update_artifact(db, editor, kieu, **{**FIELDS, "holding_site_id": s1})
    assert _state(db, kieu) == before
    _as(client, auth, people["reviewer"])
    assert _edit(client, kieu, s1).status_code == 303
    assert _row(db, kieu)["holding_site_id"] == s1


def test_records_are_corrected_with_a_reason_or_withdrawn_never_deleted(client, db, auth,
                                                                        history, people):
    art = history["artifacts"]
    _as(client, auth, people["tan"])  # S1's commune
    sac1 = art["Sắc phong 1"]
    inv = _record_id(db, "artifact_inventory_records", sac1, year=2025)
    url = f"{BASE}/{sac1}/inventory/{inv}"
    token = _token(client, auth)
    # No reason: refused with what to do, nothing changed.
    client.post(f"{url}/correct", data={"csrf_token": token,
                                        f"ir{inv}-inventoried_on": "2025-10-10"})
    page = client.get(f"{BASE}/{sac1}").get_data(as_text=True)
    assert "Hãy kiểm tra: Lý do sửa" in page
    assert str(db.scalar(text("SELECT inventoried_on FROM artifact_inventory_records "
                              "WHERE id = :i"), {"i": inv})) == "2025-06-01"
    assert client.post(f"{url}/correct", data={
        "csrf_token": token, f"ir{inv}-inventoried_on": "2025-10-10",
        f"ir{inv}-notes": "Kiểm kê lại", f"ir{inv}-reason": "Ghi nhầm ngày"}).status_code == 303
    page = client.get(f"{BASE}/{sac1}").get_data(as_text=True)
    assert "10/10/2025 – Kiểm kê lại" in page and "Đã sửa: Ghi nhầm ngày" in page
    before, after = db.execute(text("""
        SELECT before, after FROM revisions WHERE table_name = 'artifact_inventory_records'
           AND row_id = CAST(:i AS text) AND action = 'update' ORDER BY id DESC LIMIT 1"""),
        {"i": inv}).one()
    assert before["inventoried_on"] == "2025-06-01"
    assert after["inventoried_on"] == "2025-10-10" and after["correction_reason"] == "Ghi nhầm ngày"

    # Withdrawing the 2024 record: struck through with its reason, out of target a1, and
    # the year can be recorded again.
    a1_2024 = {r["name"]: r["met"] for r in indicators.indicator_rows(db, "a1", 2024)}
    assert a1_2024["Sắc phong 1"] is True
    old = _record_id(db, "artifact_inventory_records", sac1, year=2024)
    assert client.post(f"{BASE}/{sac1}/inventory/{old}/withdraw", data={
        "csrf_token": token, "reason": "Biên bản của hiện vật khác"}).status_code == 303
    page = client.get(f"{BASE}/{sac1}").get_data(as_text=True)
    assert re.search(r"<del>2024: 01/06/2024</del> <strong>Đã rút</strong>: "
                     r"Biên bản của hiện vật khác", page)
    a1_2024 = {r["name"]: r["met"] for r in indicators.indicator_rows(db, "a1", 2024)}
    assert a1_2024["Sắc phong 1"] is False
    assert db.scalar(text("SELECT count(*) FROM artifact_inventory_records WHERE id = :i"),
                     {"i": old}) == 1
    again = client.post(f"{url}/withdraw", data={"csrf_token": token, "reason": "x"})
    assert again.status_code == 303  # a live record; withdrawn below once more
    assert "đã bị rút" in client.post(
        f"{url}/withdraw", data={"csrf_token": token, "reason": "x"},
        follow_redirects=True).get_data(as_text=True)

    # A conservation action: corrected (kind), then withdrawn; target a2 follows.
    _as(client, auth, people["binh"])
    hoanh = art["Hoành phi"]
    action = _record_id(db, "conservation_actions", hoanh, kind="preventive")
    a2 = {r["name"]: r["met"] for r in indicators.indicator_rows(db, "a2", 2025)}
    assert a2["Hoành phi"] is True
    token = _token(client, auth)
    assert client.post(f"{BASE}/{hoanh}/conservation/{action}/correct", data={
        "csrf_token": token, f"cr{action}-kind": "remedial",
        f"cr{action}-performed_on": "2025-12-31",
        f"cr{action}-reason": "Là bảo quản trị liệu"}).status_code == 303
    a2 = {r["name"]: r["met"] for r in indicators.indicator_rows(db, "a2", 2025)}
    assert a2["Hoành phi"] is False
    assert client.post(f"{BASE}/{hoanh}/conservation/{action}/withdraw", data={
        "csrf_token": token, "reason": "Chưa thực hiện"}).status_code == 303
    page = client.get(f"{BASE}/{hoanh}").get_data(as_text=True)
    assert "<strong>Đã rút</strong>: Chưa thực hiện" in page
    assert db.scalar(text("SELECT withdrawn_reason FROM conservation_actions WHERE id = :i"),
                     {"i": action}) == "Chưa thực hiện"


def test_other_communes_and_the_public_change_nothing(client, db, auth, history, people,
                                                      media):
    sac2 = history["artifacts"]["Sắc phong 2"]  # at S1, Tân Thử
    s1 = history["sites"]["S1"]
    _as(client, auth, people["reviewer"])
    html = client.get(f"{BASE}/{sac2}").get_data(as_text=True)
    token = re.search(r'name="m-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    client.post(f"{BASE}/{sac2}/media", content_type="multipart/form-data", data={
        "m-csrf_token": token, "m-title": "Sắc phong",
        "m-file": (io.BytesIO(png()), "sac.png")})
    db.execute(text("UPDATE artifacts SET approved_at = NULL WHERE id = :a"), {"a": sac2})
    inv = _record_id(db, "artifact_inventory_records", sac2, year=2024)
    action = db.execute(text("""INSERT INTO conservation_actions (artifact_id, kind,
                                                                 performed_on)
                                VALUES (:a, 'preventive', '2025-03-03') RETURNING id"""),
                        {"a": sac2}).scalar_one()
    record = db.scalar(text("SELECT id FROM digital_records WHERE artifact_id = :a"),
                       {"a": sac2})
    db.flush()
    posts = [
        (f"{BASE}/{sac2}/edit", {**FIELDS, "holding_site_id": str(s1)}),
        (f"{BASE}/{sac2}/review/approve", {}),
        (f"{BASE}/{sac2}/review/send_back", {"comment": "Sửa"}),
        (f"{BASE}/{sac2}/inventory", {"i-inventoried_on": "2025-01-01"}),
        (f"{BASE}/{sac2}/conservation", {"c-kind": "preventive",
                                         "c-performed_on": "2025-01-01"}),
        (f"{BASE}/{sac2}/flags", {"f-at_risk": "y"}),
        (f"{BASE}/{sac2}/inventory/{inv}/correct", {f"ir{inv}-inventoried_on": "2024-02-02",
                                                    f"ir{inv}-reason": "x"}),
        (f"{BASE}/{sac2}/inventory/{inv}/withdraw", {"reason": "x"}),
        (f"{BASE}/{sac2}/conservation/{action}/correct", {
            f"cr{action}-kind": "remedial", f"cr{action}-performed_on": "2025-03-03",
            f"cr{action}-reason": "x"}),
        (f"{BASE}/{sac2}/conservation/{action}/withdraw", {"reason": "x"}),
        *((f"{BASE}/{sac2}/records/{record}/{verb}", fields) for verb, fields in (
            ("edit", {f"r{record}-title": "Đổi"}), ("remove", {"reason": "x"}),
            ("approve", {}), ("up", {}))),
    ]
    before = _state(db, sac2)
    _as(client, auth, None)
    token = auth.csrf("/login")
    for url, fields in posts:
        response = client.post(url, data={"csrf_token": token, **fields})
        assert response.status_code in (302, 303), url
        assert "/login" in response.headers["Location"], url
    assert _state(db, sac2) == before
    _as(client, auth, people["binh"])
    token = _token(client, auth)
    for url, fields in posts:
        response = client.post(url, data={"csrf_token": token, **fields})
        assert response.status_code == 403, url
        assert "ngoài xã của bạn" in response.get_data(as_text=True), url
    assert _state(db, sac2) == before
    # Nor may an editor of the artifact's own commune approve it or curate its photos.
    _as(client, auth, people["tan"])
    token = _token(client, auth)
    for url, fields in posts[1:2] + posts[-4:]:
        assert client.post(url, data={"csrf_token": token, **fields}).status_code == 403, url
    assert _state(db, sac2) == before


def test_artifact_photos_are_curated_like_relic_photos(client, db, auth, history, people,
                                                       media):
    chuong = history["artifacts"]["Chuông đồng"]  # at S1, Tân Thử
    _as(client, auth, people["tan"])
    html = client.get(f"{BASE}/{chuong}").get_data(as_text=True)
    token = re.search(r'name="m-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    for title in ("Chuông mặt trước", "Chuông mặt sau"):
        assert client.post(f"{BASE}/{chuong}/media", content_type="multipart/form-data", data={
            "m-csrf_token": token, "m-title": title, "m-licence": "CC BY 4.0",
            "m-file": (io.BytesIO(png(30 + len(title), 20)), "c.png")}).status_code == 303
    rows = db.execute(text("""SELECT id, uri FROM digital_records WHERE artifact_id = :a
                              ORDER BY position"""), {"a": chuong}).all()
    page = client.get(f"{BASE}/{chuong}").get_data(as_text=True)
    assert page.count("Chờ duyệt") >= 2  # the editor's photos wait
    _as(client, auth, None)
    assert client.get(f"/media/{rows[0].uri}").status_code == 404

    _as(client, auth, people["reviewer"])
    token = _token(client, auth)
    first, second = (r.id for r in rows)
    for record in (first, second):
        assert client.post(f"{BASE}/{chuong}/records/{record}/approve",
                           data={"csrf_token": token}).status_code == 303
    client.post(f"{BASE}/{chuong}/records/{first}/edit", data={
        "csrf_token": token, f"r{first}-title": "Chuông đồng, mặt trước",
        f"r{first}-credit": "Nguyễn Văn A", f"r{first}-licence": "public_domain"})
    client.post(f"{BASE}/{chuong}/records/{second}/up", data={"csrf_token": token})
    client.post(f"{BASE}/{chuong}/records/{first}/remove",
                data={"csrf_token": token, "reason": "Ảnh mờ"})
    page = client.get(f"{BASE}/{chuong}").get_data(as_text=True)
    assert "Chuông đồng, mặt trước" in page and "Nguyễn Văn A" in page
    assert "Đã gỡ" in page and "Ảnh mờ" in page
    assert page.index("Chuông mặt sau") < page.index("Chuông đồng, mặt trước")
    _as(client, auth, None)
    assert client.get(f"/media/{rows[1].uri}").status_code == 200
    assert client.get(f"/media/{rows[0].uri}").status_code == 404
