"""A map answer cut at its limit says so: the layer GeoJSON (lean path for the public,
session path for officials) and the tourists' `/api/sites` carry `numberMatched` (every
match) beside `numberReturned` when more features match than they return, and only then.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from gis_app.services.accounts import create_user
from layers import all_layers, get_layer
from tests.factories import make_site

# A box far from the demo relics: the relics made here are the only ones inside it.
BOX = (107.70, 22.70, 107.80, 22.80)
BBOX = ",".join(map(str, BOX))
PASSWORD = "capped-password-1"


@pytest.fixture
def relics(db) -> dict[str, list[str]]:
    """12 public relics in BOX (every third of national rank), and 2 the public must not
    count (a draft, a sensitive one): heritage ids by who sees them."""
    public = [make_site(db, 107.71 + i * 0.005, 22.75, name=f"Đình giới hạn {i}",
                        rank="national" if i % 3 == 0 else "provincial",
                        zone_radius_m=None) for i in range(12)]
    hidden = [make_site(db, 107.76, 22.71, name="Đình nháp", status="draft",
                        zone_radius_m=None),
              make_site(db, 107.77, 22.71, name="Đình mật", sensitive=True,
                        zone_radius_m=None)]
    return {"public": public, "all": public + hidden}


def _layer(client, **query) -> dict:
    response = client.get("/api/layers/sites.geojson", query_string={"bbox": BBOX, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_capped_layer_answer_says_how_many_relics_match(client, relics):
    body = _layer(client, limit=5)
    assert len(body["features"]) == body["numberReturned"] == 5
    assert body["numberMatched"] == len(relics["public"])
    assert [link["rel"] for link in body["links"]] == ["next"]


def test_an_answer_holding_every_match_has_no_count_and_no_next_link(client, relics):
    body = _layer(client, limit=len(relics["public"]))
    assert body["numberReturned"] == len(relics["public"])
    assert "numberMatched" not in body
    assert body["links"] == []


def test_paging_to_the_end_the_last_page_is_not_capped(client, relics):
    url, pages = f"/api/layers/sites.geojson?bbox={BBOX}&limit=5", []
    while url:
        body = client.get(url).get_json()
        pages.append(body)
        url = body["links"][0]["href"] if body["links"] else None
    assert [p["numberReturned"] for p in pages] == [5, 5, 2]
    assert [p.get("numberMatched") for p in pages] == [12, 12, None]
    ids = [f["properties"]["heritage_id"] for p in pages for f in p["features"]]
    assert sorted(ids) == sorted(relics["public"])


def test_the_layer_limit_caps_a_request_without_limit(client, relics, monkeypatch):
    monkeypatch.setitem(all_layers(), "sites", replace(get_layer("sites"), limit=4))
    body = _layer(client)
    assert body["numberReturned"] == 4 and body["numberMatched"] == 12


def test_officials_capped_answer_counts_what_they_see(client, auth, db, relics):
    create_user(db, "capped-reviewer", PASSWORD, "district_reviewer")
    auth.login("capped-reviewer", PASSWORD)
    response = client.get("/api/layers/sites.geojson", query_string={"bbox": BBOX, "limit": 5})
    assert response.headers["Cache-Control"] == "private, no-store"  # the session path
    body = response.get_json()
    assert body["numberReturned"] == 5 and body["numberMatched"] == len(relics["all"])
    assert "numberMatched" not in _layer(client, limit=len(relics["all"]))


def _sites(client, **query) -> dict:
    response = client.get("/api/sites", query_string={"bbox": BBOX, **query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_tourist_map_answer_says_when_it_is_capped(client, relics):
    body = _sites(client, limit=5)
    assert len(body["features"]) == body["numberReturned"] == 5
    assert body["numberMatched"] == len(relics["public"])
    # Only the relics the filters select are counted.
    national = _sites(client, limit=2, rank="national")
    assert national["numberReturned"] == 2 and national["numberMatched"] == 4
    whole = _sites(client, limit=12)
    assert whole["numberReturned"] == 12 and "numberMatched" not in whole


def test_the_tourist_map_counts_drafts_for_reviewers(client, auth, db, relics):
    create_user(db, "capped-reviewer-2", PASSWORD, "district_reviewer")
    auth.login("capped-reviewer-2", PASSWORD)
    body = _sites(client, limit=3)
    assert body["numberReturned"] == 3 and body["numberMatched"] == len(relics["all"])
