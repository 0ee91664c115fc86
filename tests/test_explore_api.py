"""`/api/sites`, `/api/sites/nearby`, `/api/sites/filters`: the tourists' map API."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.services.accounts import create_user
from tests.factories import make_site

# A box far from the demo relics, so that test relics are the only ones inside it.
BOX = "106.40,21.40,106.60,21.60"


def _site(db: Session, lon: float, lat: float, name: str, *, types: list[str],
          rank: str | None = "provincial", **kwargs) -> str:
    hid = make_site(db, lon, lat, name=name, rank=rank or "provincial",
                    zone_radius_m=None, **kwargs)
    db.execute(text("UPDATE sites SET types = :t, rank = :r WHERE heritage_id = :h"),
               {"t": types, "r": rank, "h": hid})
    db.flush()
    return hid


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    return [f["properties"]["heritage_id"] for f in body["features"]]


def _unit(db: Session, code: str, name: str, valid_from: str, valid_to: str | None) -> int:
    return db.execute(text("""
        INSERT INTO admin_units (code, name, level, valid_from, valid_to)
        VALUES (:c, :n, 'commune', :f, :t) RETURNING id"""),
        {"c": code, "n": name, "f": date.fromisoformat(valid_from),
         "t": date.fromisoformat(valid_to) if valid_to else None}).scalar_one()


def _in_unit(db: Session, hid: str, unit_id: int, valid_from: str, valid_to: str | None,
             current: bool = False) -> None:
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    db.execute(text("""
        INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from, valid_to)
        VALUES (:s, :u, :f, :t)"""), {"s": site_id, "u": unit_id,
                                      "f": date.fromisoformat(valid_from),
                                      "t": date.fromisoformat(valid_to) if valid_to else None})
    if current:
        db.execute(text("UPDATE sites SET admin_unit_id = :u WHERE id = :s"),
                   {"u": unit_id, "s": site_id})
    db.flush()


@pytest.fixture
def three(db: Session) -> dict[str, str]:
    return {
        "temple": _site(db, 106.50, 21.50, "Đền Thử Nghiệm", types=["historical"],
                        rank="special_national"),
        "lake": _site(db, 106.51, 21.50, "Hồ Thử Nghiệm", types=["scenic"], rank="provincial"),
        "mound": _site(db, 106.52, 21.51, "Gò Thử Nghiệm", types=["archaeological", "scenic"],
                       rank="national"),
    }


def test_filters_by_type_and_rank(client, three):
    def ids(q: str) -> list[str]:
        return sorted(_ids(client.get(f"/api/sites?bbox={BOX}&{q}")))

    assert ids("") == sorted(three.values())
    assert ids("type=scenic") == sorted([three["lake"], three["mound"]])
    assert ids("type=historical,archaeological") == sorted([three["temple"], three["mound"]])
    assert ids("rank=national") == [three["mound"]]
    assert ids("type=scenic&rank=provincial") == [three["lake"]]
    assert ids("rank=special_national,national&type=historical") == [three["temple"]]


def test_filter_by_todays_commune_and_by_a_former_one(client, db, three):
    old = _unit(db, "T-OLD", "Phú Thử Cũ", "1999-07-24", "2025-06-30")
    other_old = _unit(db, "T-OLD2", "An Thử", "1999-07-24", "2025-06-30")
    new = _unit(db, "T-NEW", "Tân Thử", "2025-07-01", None)
    for unit in (old, other_old):
        db.execute(text("""INSERT INTO admin_unit_successions (old_unit_id, new_unit_id,
                           effective) VALUES (:o, :n, '2025-07-01')"""), {"o": unit, "n": new})
    # The temple was recorded in the old commune, the mound in the other; both are in
    # the new one today. The lake was recorded after the reform, in the new one only.
    _in_unit(db, three["temple"], old, "1999-07-24", "2025-06-30")
    _in_unit(db, three["temple"], new, "2025-07-01", None, current=True)
    _in_unit(db, three["mound"], other_old, "1999-07-24", "2025-06-30")
    _in_unit(db, three["mound"], new, "2025-07-01", None, current=True)
    _in_unit(db, three["lake"], new, "2025-07-01", None, current=True)

    assert _ids(client.get(f"/api/sites?commune={old}")) == [three["temple"]]
    # A former name, typed without diacritics, finds the relics that were in it.
    assert _ids(client.get("/api/sites?commune=phu thu cu")) == [three["temple"]]
    assert _ids(client.get(f"/api/sites?commune={quote('An Thử')}")) == [three["mound"]]
    assert sorted(_ids(client.get(f"/api/sites?commune={new}"))) == sorted(three.values())
    assert _ids(client.get(f"/api/sites?commune={new}&type=historical")) == [three["temple"]]

    options = client.get("/api/sites/filters?lang=en").get_json()["communes"]
    by_id = {o["value"]: o for o in options}
    assert by_id[str(old)]["label"] == "Phú Thử Cũ commune (former, until 30/06/2025)"
    assert by_id[str(old)]["current"] is False and by_id[str(old)]["count"] == 1
    assert by_id[str(new)]["label"] == "Tân Thử commune" and by_id[str(new)]["count"] == 3
    vi = {o["value"]: o for o in client.get("/api/sites/filters?lang=vi").get_json()["communes"]}
    assert vi[str(old)]["label"] == "Xã Phú Thử Cũ (cũ, đến 30/06/2025)"
    # Today's communes are offered before former ones.
    currents = [o["current"] for o in options]
    assert currents == sorted(currents, reverse=True)


def test_filter_by_festival_month(client, db, three):
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"),
                        {"h": three["lake"]})
    db.execute(text("""INSERT INTO heritage_events (site_id, name_vi, solar_date, duration_days)
                       VALUES (:s, 'Hội thả diều thử', '2020-03-30', 3)"""), {"s": site_id})
    db.flush()
    assert _ids(client.get(f"/api/sites?bbox={BOX}&festival_month=2027-03")) == [three["lake"]]
    # Three days from 30 March run into April.
    assert _ids(client.get(f"/api/sites?bbox={BOX}&festival_month=2027-04")) == [three["lake"]]
    assert _ids(client.get(f"/api/sites?bbox={BOX}&festival_month=2027-05")) == []
    # Demo: the Đa Hòa and Dạ Trạch festivals fall on the 10th of the 2nd lunar month,
    # 27 March 2026 (and the Hàm Tử one on the 6th, 23 March).
    demo = _ids(client.get("/api/sites?festival_month=2026-03&rank=special_national"))
    names = db.scalars(text("SELECT name_vi FROM sites WHERE heritage_id = ANY(:h) "
                            "ORDER BY name_vi"), {"h": demo}).all()
    assert names == ["Đền Dạ Trạch", "Đền Đa Hòa"]


def test_search_combines_with_filters_and_carries_the_card(client, db, three):
    found = _ids(client.get("/api/sites?q=thu nghiem&type=scenic"))
    assert sorted(found) == sorted([three["lake"], three["mound"]])
    assert _ids(client.get("/api/sites?q=ho thu nghiem&rank=provincial")) == [three["lake"]]
    assert _ids(client.get("/api/sites?q=thu nghiem&rank=inventoried")) == []

    body = client.get("/api/sites?q=da hoa").get_json()
    first = body["features"][0]
    props = first["properties"]
    assert props["name_vi"] == "Đền Đa Hòa"
    lon, lat = first["geometry"]["coordinates"]
    assert props["rank_label"] == "Di tích quốc gia đặc biệt"
    assert props["type_labels"] == ["Lịch sử", "Kiến trúc nghệ thuật"]
    assert props["directions_url"] == \
        f"https://www.openstreetmap.org/directions?route=%3B{lat}%2C{lon}"
    assert props["geo_uri"] == f"geo:{lat},{lon}"
    assert props["url"] == f"/sites/{props['heritage_id']}"
    assert props["description"].startswith("Đền thờ Chử Đồng Tử")
    assert len(props["description"]) <= 201 and props["description"].endswith("…")
    # Without diacritics, by another name: "chu dong tu" is "Đền Chử Đồng Tử (Đa Hòa)".
    assert _ids(client.get("/api/sites?q=chu dong tu")) == [props["heritage_id"]]


def test_card_in_english_with_photo_and_opening_hours(client, db, three):
    db.execute(text("""UPDATE sites SET name_en = 'Test Lake', description_vi = 'Hồ cổ.',
                       description_en = 'An old lake.', opening_hours_vi = '7:00–17:00 hằng ngày',
                       opening_hours_en = '7:00–17:00 daily' WHERE heritage_id = :h"""),
               {"h": three["lake"]})
    db.execute(text("""INSERT INTO digital_records (site_id, media_type, uri, credit, licence)
                       SELECT id, 'image/jpeg', 'sites/ho-thu/anh 1.jpg', 'Ban quản lý',
                              'CC BY 4.0' FROM sites WHERE heritage_id = :h"""),
               {"h": three["lake"]})
    db.execute(text("""INSERT INTO digital_records (site_id, media_type, uri)
                       SELECT id, 'image/jpeg', 'https://example.com/x.jpg'
                         FROM sites WHERE heritage_id = :h"""), {"h": three["mound"]})
    db.flush()
    features = client.get(f"/api/sites?bbox={BOX}&lang=en").get_json()["features"]
    props = {f["properties"]["heritage_id"]: f["properties"] for f in features}
    lake = props[three["lake"]]
    assert lake["name_vi"] == "Hồ Thử Nghiệm" and lake["name_en"] == "Test Lake"
    assert lake["rank_label"] == "Provincial relic" and lake["type_labels"] == ["Scenic landscape"]
    assert lake["description"] == "An old lake."
    assert lake["opening_hours"] == "7:00–17:00 daily"
    assert lake["photo"]["url"].endswith("/media/sites/ho-thu/anh%201.jpg")
    assert lake["photo"]["credit"] == "Ban quản lý" and lake["photo"]["licence"] == "CC BY 4.0"
    # A photo somewhere else on the web is never put on the card.
    assert props[three["mound"]]["photo"] is None
    vi = client.get(f"/api/sites?bbox={BOX}&lang=vi").get_json()["features"]
    vi_lake = next(f["properties"] for f in vi if f["properties"]["heritage_id"] == three["lake"])
    assert vi_lake["opening_hours"] == "7:00–17:00 hằng ngày"
    assert vi_lake["description"] == "Hồ cổ."


def test_nearby_orders_by_straight_line_distance_on_the_spheroid(client, db, three):
    lat, lon = 21.505, 106.512
    body = client.get(f"/api/sites/nearby?lat={lat}&lon={lon}&limit=3").get_json()
    got = [(f["properties"]["heritage_id"], f["properties"]["distance_m"])
           for f in body["features"]]
    expected = db.execute(text("""
        SELECT heritage_id, ST_Distance(geom::geography,
                                        ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography)
          FROM sites WHERE status = 'published' AND NOT sensitive
         ORDER BY 2 LIMIT 3"""), {"lat": lat, "lon": lon}).all()
    assert [hid for hid, _ in got] == [hid for hid, _ in expected]
    assert {hid for hid, _ in got} == set(three.values())
    for (_, metres), (_, want) in zip(got, expected):
        assert abs(metres - want) <= 1.0
    assert [m for _, m in got] == sorted(m for _, m in got)
    # Filters apply too.
    scenic = client.get(f"/api/sites/nearby?lat={lat}&lon={lon}&type=historical&limit=1")
    assert _ids(scenic) == [three["temple"]]


@pytest.mark.parametrize("query, english", [
    ("/api/sites?type=temple", "type='temple' is not known"),
    ("/api/sites?rank=national,royal", "rank='royal' is not known"),
    ("/api/sites?festival_month=2026-13", "festival_month='2026-13' is not a month"),
    ("/api/sites?festival_month=march", "write YYYY-MM"),
    ("/api/sites?commune=Không Có Xã", "No commune is called or numbered"),
    ("/api/sites?commune=999999999", "No commune is called or numbered"),
    ("/api/sites?limit=0", "limit must be a whole number"),
    ("/api/sites?bbox=1,2,3", "bbox needs 4 comma-separated numbers"),
    ("/api/sites?q=" + "a" * 101, "too long"),
    ("/api/sites/nearby?lat=20.9", "Give your position as lat and lon"),
    ("/api/sites/nearby?lat=abc&lon=105.9", "lat and lon must be numbers"),
    ("/api/sites/nearby?lat=95&lon=105.9", "lat must be -90..90"),
    ("/api/sites/nearby?lat=20.9&lon=105.9&limit=500", "limit must be a whole number"),
])
def test_bad_parameters_get_a_400_with_a_message_in_both_languages(client, query, english):
    en = client.get(query + ("&" if "?" in query else "?") + "lang=en")
    assert en.status_code == 400
    assert english in en.get_json()["message"]
    vi = client.get(query + ("&" if "?" in query else "?") + "lang=vi")
    assert vi.status_code == 400
    assert vi.get_json()["message"] != en.get_json()["message"]


def test_drafts_and_sensitive_relics_only_for_reviewers(client, db, auth, three):
    draft = _site(db, 106.501, 21.501, "Đình Nháp Thử", types=["historical"], status="draft")
    secret = _site(db, 106.502, 21.502, "Di chỉ Kín Thử", types=["archaeological"],
                   sensitive=True)
    unit = _unit(db, "T-HID", "Ẩn Thử", "1999-07-24", None)
    _in_unit(db, draft, unit, "1999-07-24", None, current=True)
    _in_unit(db, secret, unit, "1999-07-24", None, current=True)
    hidden = {draft, secret}

    def seen() -> set[str]:
        found = set(_ids(client.get(f"/api/sites?bbox={BOX}")))
        found |= set(_ids(client.get("/api/sites?q=thu")))
        found |= set(_ids(client.get(f"/api/sites?commune={unit}")))
        found |= set(_ids(client.get("/api/sites/nearby?lat=21.501&lon=106.501&limit=50")))
        return found

    assert seen() & hidden == set()
    communes = client.get("/api/sites/filters").get_json()["communes"]
    assert str(unit) not in {o["value"] for o in communes}  # no visible relic there
    public_counts = client.get("/api/sites/filters").get_json()

    create_user(db, "reviewer_explore", "a long enough password", "district_reviewer")
    auth.login("reviewer_explore", "a long enough password")
    assert hidden <= seen()
    reviewer_counts = client.get("/api/sites/filters").get_json()
    def count(body: dict, code: str) -> int:
        return next(t["count"] for t in body["types"] if t["value"] == code)

    assert count(reviewer_counts, "archaeological") == count(public_counts, "archaeological") + 1
    assert client.get(f"/api/sites?bbox={BOX}").headers["Cache-Control"] == "private, no-store"


def test_filter_options_are_labelled_in_the_request_language(client, db):
    vi = client.get("/api/sites/filters").get_json()
    en = client.get("/api/sites/filters?lang=en").get_json()
    assert [t["label"] for t in vi["types"]][:2] == ["Lịch sử", "Kiến trúc nghệ thuật"]
    assert en["ranks"][0]["label"] == "Special national relic"
    special = next(r for r in vi["ranks"] if r["value"] == "special_national")
    assert special["count"] == db.scalar(text(
        "SELECT count(*) FROM sites WHERE rank = 'special_national' "
        "AND status = 'published' AND NOT sensitive"))
    month = vi["festival_month"]["value"]
    assert len(month) == 7 and month[4] == "-"
    assert vi["festival_month"]["label"].startswith("Có lễ hội trong tháng")
    # The demo's former communes are offered with their end date.
    labels = [c["label"] for c in vi["communes"]]
    assert "Xã Bình Minh (cũ, đến 30/06/2025)" in labels and "Xã Mễ Sở" in labels


def test_openapi_documents_the_new_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/sites", "/api/sites/nearby", "/api/sites/filters"} <= set(paths)
