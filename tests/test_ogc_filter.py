"""CQL2 filters through the OGC API (Part 3) as a GIS client sends them: the answer holds
exactly the public features the same condition selects in SQL, a parcel's filter gives
the zones the zone check reports, a bad filter is a 400 with a message, and the
queryables and conformance documents say what is offered."""
from __future__ import annotations

import pytest
from shapely.geometry import box
from sqlalchemy import text

from gis_app.services.zone_check import check_parcel
from tests.factories import make_site
from tests.test_ogc import _all_ids

LON, LAT = 105.9410, 20.8510


def _ids(client, collection: str, **params) -> list[str]:
    return _all_ids(client, collection, limit="7", **params)  # several pages


@pytest.fixture
def relics(db):
    made = {}
    for i, (rank, status, sensitive) in enumerate([
            ("national", "published", False), ("provincial", "published", False),
            ("national", "draft", False), ("national", "published", True),
            ("inventoried", "published", False), ("national", "published", False)]):
        made[i] = make_site(db, LON + i * 0.002, LAT, name=f"Đình Lọc {i}", rank=rank,
                            status=status, sensitive=sensitive)
    db.flush()
    return made


def test_text_filter_pages_through_exactly_what_sql_selects(client, db, relics):
    expected = list(db.scalars(text(
        "SELECT heritage_id FROM sites WHERE status = 'published' AND NOT sensitive "
        "AND rank = 'national' AND name_vi LIKE 'Đình Lọc%' ORDER BY id")))
    assert len(expected) == 2  # not the draft, not the sensitive one
    got = _ids(client, "sites", filter="rank = 'national' AND name_vi LIKE 'Đình Lọc%'")
    assert got == expected
    # The same in cql2-json.
    as_json = ('{"op": "and", "args": [{"op": "=", "args": [{"property": "rank"}, '
               '"national"]}, {"op": "like", "args": [{"property": "name_vi"}, '
               '"Đình Lọc%"]}]}')
    assert _ids(client, "sites", filter=as_json, **{"filter-lang": "cql2-json"}) == expected


def test_accent_insensitive_filter_finds_the_name_typed_without_diacritics(client, relics):
    got = _ids(client, "sites", filter="ACCENTI(CASEI(name_vi)) LIKE ACCENTI(CASEI('dinh loc%'))")
    assert len(got) == 4 and relics[2] not in got and relics[3] not in got


def test_a_parcel_filter_gives_the_zones_the_zone_check_reports(client, db, relics):
    parcel = box(LON - 0.0006, LAT - 0.0006, LON + 0.0026, LAT + 0.0004)
    wkt = parcel.wkt.replace("POLYGON ((", "POLYGON((").replace("))", "))")
    got = set(_ids(client, "protection_zones", filter=f"S_INTERSECTS(geometry, {wkt})"))
    result = check_parcel(db, parcel).as_dict()
    reported = {f"{hit['heritage_id']}-{hit['zone']}" for hit in result["hits"]}
    assert got and got == reported


@pytest.mark.parametrize("params, fragment", [
    ({"filter": "rank = "}, "filter"),
    ({"filter": "nonexistent = 'x'"}, "nonexistent"),
    ({"filter": "rank = 'x'; DROP TABLE sites--"}, "character 11"),
    ({"filter": "rank = 'x'", "filter-lang": "sql"}, "filter-lang"),
    ({"filter-lang": "cql2-text"}, "filter"),
    ({"filter": "S_INTERSECTS(geometry, POINT(1 2))", "filter-crs": "EPSG:1234"},
     "filter-crs"),
])
def test_a_bad_filter_is_a_400_saying_what_is_wrong(client, db, relics, params, fragment):
    before = db.scalar(text("SELECT count(*) FROM sites"))
    response = client.get("/ogc/collections/sites/items", query_string={**params, "lang": "en"})
    assert response.status_code == 400
    body = response.get_json()
    assert fragment in body["description"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert db.scalar(text("SELECT count(*) FROM sites")) == before


def test_queryables_conformance_and_openapi_offer_the_filter(client):
    doc = client.get("/ogc/collections/sites/queryables")
    assert doc.status_code == 200 and doc.mimetype == "application/schema+json"
    schema = doc.get_json()
    assert {"rank", "types", "name_vi", "geometry"} <= set(schema["properties"])
    assert "national" in schema["properties"]["rank"]["enum"]
    collection = client.get("/ogc/collections/sites", query_string={"f": "json"}).get_json()
    rels = {link["rel"] for link in collection["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/queryables" in rels
    classes = client.get("/ogc/conformance", query_string={"f": "json"}).get_json()
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in \
        classes["conformsTo"]
    api = client.get("/ogc/api", query_string={"f": "json"}).get_json()
    names = {p["name"] for p in api["paths"]["/collections/{collectionId}/items"]["get"]
             ["parameters"]}
    assert {"filter", "filter-lang", "filter-crs"} <= names
