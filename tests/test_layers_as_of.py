"""The officials' map layers "as of" a date (layers/ `as_of_source`, services/features.py,
/api/layers/<name>.geojson?as_of=, /officials/map): relics as they stood then (from their
revisions), zones in force that day; only for district reviewers and admins."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import text

from gis_app.clock import today_in_vietnam
from gis_app.services import lifecycle, zones
from gis_app.services.accounts import create_user
from gis_app.services.audit import set_actor
from tests.factories import make_site

PASSWORD = "a long enough password"
OLD = (105.9561, 20.8402)
NEW = (105.9571, 20.8409)
BBOX = "105.95,20.83,105.97,20.85"


@pytest.fixture
def story(db):
    """A relic with zone I, three days old; today it was moved and given a new zone I
    (in force from today), another relic was retired and a draft was made."""
    reviewer = create_user(db, "asof-reviewer", PASSWORD, "district_reviewer")
    moved = make_site(db, *OLD, name="Đình Dời Chỗ", zone_radius_m=None)
    retired = make_site(db, 105.9565, 20.8405, name="Miếu Đã Hủy", zone_radius_m=None)
    moved_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": moved})
    today = today_in_vietnam()
    db.execute(text("""
        INSERT INTO protection_zones (site_id, zone, geom, decision_no, valid_from)
        VALUES (:s, 'I', ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.0004)),
                'QĐ cũ', :since)"""),
        {"s": moved_id, "x": OLD[0], "y": OLD[1], "since": today - timedelta(days=30)})
    # Three days pass (one transaction cannot wait: move what it wrote so far).
    db.execute(text("UPDATE revisions SET changed_at = now() - interval '3 days' "
                    "WHERE changed_at = now()"))
    set_actor(db, reviewer.id)
    db.execute(text("""UPDATE sites SET geom = ST_SetSRID(ST_MakePoint(:x, :y), 4326),
                              name_vi = 'Đình Dời Chỗ (vị trí mới)' WHERE id = :s"""),
               {"x": NEW[0], "y": NEW[1], "s": moved_id})
    zones.save_version(db, reviewer, moved, zone="I",
                       geometry=Point(*NEW).buffer(0.0005), valid_from=today,
                       decision_no="QĐ mới")
    lifecycle.retire(db, reviewer, retired, "Trùng hồ sơ")
    draft = make_site(db, 105.9566, 20.8406, name="Đình Nháp Hôm Nay", status="draft",
                      zone_radius_m=None)
    db.flush()
    return {"moved": moved, "retired": retired, "draft": draft, "today": today,
            "yesterday": today - timedelta(days=1)}


def layer(client, name: str, **args: str):
    query = "&".join(f"{k}={v}" for k, v in {"bbox": BBOX, **args}.items())
    return client.get(f"/api/layers/{name}.geojson?{query}")


def by_id(response) -> dict[str, dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {f["properties"]["heritage_id"]: f for f in response.get_json()["features"]}


def test_relics_and_zones_as_of_yesterday_and_today(client, auth, story):
    auth.login("asof-reviewer", PASSWORD)
    then = by_id(layer(client, "sites", as_of=story["yesterday"].isoformat()))
    assert then[story["moved"]]["geometry"]["coordinates"] == list(OLD)
    assert then[story["moved"]]["properties"]["name_vi"] == "Đình Dời Chỗ"
    assert story["retired"] in then  # still in the register yesterday
    assert story["draft"] not in then  # not made yet
    now = by_id(layer(client, "sites", as_of=story["today"].isoformat()))
    assert now[story["moved"]]["geometry"]["coordinates"] == list(NEW)
    assert now[story["moved"]]["properties"]["name_vi"] == "Đình Dời Chỗ (vị trí mới)"
    assert story["retired"] not in now and story["draft"] in now
    assert by_id(layer(client, "sites")).keys() == now.keys()

    def zone_decisions(**args: str) -> list[str]:
        found = layer(client, "protection_zones", **args)
        assert found.status_code == 200
        return [f["properties"]["decision_no"] for f in found.get_json()["features"]
                if f["properties"]["heritage_id"] == story["moved"]]
    assert zone_decisions(as_of=story["yesterday"].isoformat()) == ["QĐ cũ"]
    assert zone_decisions(as_of=story["today"].isoformat()) == ["QĐ mới"]
    assert zone_decisions() == ["QĐ mới"]
    # Long ago: neither relic had been recorded.
    old = by_id(layer(client, "sites", as_of="2020-01-01"))
    assert story["moved"] not in old and story["retired"] not in old


def test_only_reviewers_and_admins_ask_for_a_past_date(app, client, auth, db, story):
    day = story["yesterday"].isoformat()
    public = layer(client, "sites", as_of=day)
    assert public.status_code == 403
    assert "chỉ dành cho cán bộ thẩm định cấp huyện" in public.get_json()["message"]
    # The public's layer without as_of: neither the retired relic nor the draft.
    assert story["retired"] not in by_id(layer(client, "sites"))
    assert story["draft"] not in by_id(layer(client, "sites"))
    create_user(db, "asof-editor", PASSWORD, "commune_editor", unit_codes=("12223",))
    auth.login("asof-editor", PASSWORD)
    assert layer(client, "sites", as_of=day).status_code == 403
    auth.login("asof-reviewer", PASSWORD)
    communes = layer(client, "communes", as_of=day)
    assert communes.status_code == 400
    assert "không lưu lịch sử" in communes.get_json()["message"]
    tomorrow = layer(client, "sites", as_of=(story["today"] + timedelta(days=1)).isoformat())
    assert tomorrow.status_code == 400 and "đến hôm nay" in tomorrow.get_json()["message"]
    bad = layer(client, "sites", as_of="hôm-qua")
    assert bad.status_code == 400 and "theo dạng NNNN-TT-NN" in bad.get_json()["message"]
    english = layer(app.test_client(), "sites", as_of=day, lang="en")
    assert english.status_code == 403
    assert "are for district reviewers and administrators" in english.get_json()["message"]


def test_the_officials_map_loads_its_layers_as_of_the_chosen_day(client, auth, story):
    assert client.get("/officials/map").status_code == 302  # sign in first
    auth.login("asof-reviewer", PASSWORD)
    day = story["yesterday"]
    page = client.get(f"/officials/map?as_of={day.isoformat()}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f"Bản đồ cán bộ ngày {day:%d/%m/%Y}" in body
    assert f'name="as_of" value="{day.isoformat()}"' in body
    config = json.loads(re.search(r"HeritageMap\.init\([^,]+, (\{.*\})\);", body).group(1))
    params = {c["name"]: c.get("params") for c in config["layers"]}
    assert params["sites"] == params["protection_zones"] == {"as_of": day.isoformat()}
    assert params["communes"] is None
    wrong = client.get("/officials/map?as_of=2999-01-01")
    assert wrong.status_code == 400
    assert "as_of phải là một ngày" in wrong.get_data(as_text=True)
