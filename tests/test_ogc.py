"""OGC API – Features under /ogc/ against real PostGIS: every endpoint compared with
direct SQL on generated data, paging, bbox and bbox-crs, crs (to 0.01 m against
pyproj), datetime, property filters, bad parameters, what the public may not see, and
the HTML pages in Vietnamese and English."""
from __future__ import annotations

import random
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from sqlalchemy import text

from layers import all_layers
from tests.factories import make_site

AREA = (105.80, 20.70, 106.10, 20.98)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def _get(client, path: str, **params):
    response = client.get(path, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def _all_ids(client, collection: str, **params) -> list:
    """Every feature id of the collection, following the next links."""
    ids: list = []
    url = f"/ogc/collections/{collection}/items"
    query = dict(params)
    for _ in range(1000):
        body = _get(client, url, **query).get_json()
        ids += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return ids
        parts = urlsplit(nxt[0])
        url, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
    raise AssertionError("paging never ended")


def _public_ids(db, where: str = "TRUE", params: dict | None = None) -> list[str]:
    return list(db.scalars(text(
        f"SELECT heritage_id FROM sites WHERE status = 'published' AND NOT sensitive "
        f"AND {where} ORDER BY id"), params or {}))


@pytest.fixture
def many_sites(db):
    rng = random.Random(20261203)
    made = [make_site(db, rng.uniform(*AREA[0::2]), rng.uniform(*AREA[1::2]),
                      zone_radius_m=rng.choice([None, 50]),
                      status=rng.choice(["published"] * 4 + ["draft"]),
                      sensitive=rng.random() < 0.1, rank=rng.choice(
                          ["national", "provincial", "inventoried"]))
            for _ in range(150)]
    return made


# --- landing, conformance, collections, OpenAPI ------------------------------------------

def test_landing_page_links_to_the_api_conformance_and_collections(client):
    body = _get(client, "/ogc/", f="json").get_json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= \
        set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    api = client.get(urlsplit(rels["service-desc"]["href"]).path, query_string={"f": "json"})
    assert api.status_code == 200
    assert api.get_json()["openapi"].startswith("3.0")
    conformance = client.get(urlsplit(rels["conformance"]["href"]).path).get_json()
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in \
        conformance["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in \
        conformance["conformsTo"]


def test_openapi_lists_every_endpoint_and_advertises_the_maximum_limit(client, app):
    doc = _get(client, "/ogc/api").get_json()
    paths = doc["paths"]
    for path in ("/", "/conformance", "/collections", "/collections/{collectionId}",
                 "/collections/{collectionId}/items",
                 "/collections/{collectionId}/items/{featureId}"):
        assert path in paths, path
    limit = next(p for p in paths["/collections/{collectionId}/items"]["get"]["parameters"]
                 if p.get("name") == "limit")
    assert limit["schema"]["maximum"] == app.config["GEOJSON_MAX_LIMIT"]
    assert limit["schema"]["default"] == app.config["GEOJSON_MAX_LIMIT"]
    # Each layer is a collection with its property filters, from layers/ alone.
    for name, layer in all_layers().items():
        names = {p["name"] for p in paths[f"/collections/{name}/items"]["get"]["parameters"]}
        assert set(layer.properties) <= names


def test_every_layer_is_a_collection_with_its_public_count_and_extent(client, db,
                                                                       many_sites):
    body = _get(client, "/ogc/collections", f="json").get_json()
    by_id = {c["id"]: c for c in body["collections"]}
    assert set(by_id) == set(all_layers())
    sites = by_id["sites"]
    public = _public_ids(db)
    assert sites["numberMatched"] == len(public)
    x0, y0, x1, y1 = db.execute(text(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e "
        "FROM sites WHERE status = 'published' AND NOT sensitive) s")).one()
    assert sites["extent"]["spatial"]["bbox"][0] == pytest.approx([x0, y0, x1, y1], abs=1e-6)
    assert sites["storageCrs"] == CRS84
    assert {CRS84, EPSG + "4326", EPSG + "9209", EPSG + "3405"} <= set(sites["crs"])
    one = _get(client, "/ogc/collections/sites").get_json()
    assert one["id"] == "sites" and one["numberMatched"] == len(public)
    assert {link["rel"] for link in one["links"]} >= {"self", "alternate", "items"}


def test_unknown_collection_is_a_404_that_lists_the_collections(client):
    response = client.get("/ogc/collections/chua/items")
    assert response.status_code == 404
    assert "sites" in response.get_json()["description"]


# --- items: counts, ids, geometry, paging -------------------------------------------------

def test_items_are_the_public_relics_in_id_order_across_pages(client, db, many_sites):
    public = _public_ids(db)
    assert _all_ids(client, "sites", limit=17) == public
    first = _get(client, "/ogc/collections/sites/items", limit=17).get_json()
    assert first["numberReturned"] == 17 and first["numberMatched"] == len(public)
    rels = {link["rel"] for link in first["links"]}
    assert "next" in rels and "prev" not in rels
    # Without the `after` key the next links carry, offset alone gives the same pages.
    second = _get(client, "/ogc/collections/sites/items", limit=17, offset=17).get_json()
    assert [f["id"] for f in second["features"]] == public[17:34]


def test_prev_link_leads_back_and_the_last_page_has_no_next(client, db, many_sites):
    total = len(_public_ids(db))
    last_offset = (total - 1) // 20 * 20
    last = _get(client, "/ogc/collections/sites/items", limit=20, offset=last_offset
                ).get_json()
    assert last["numberReturned"] == total - last_offset
    assert not [link for link in last["links"] if link["rel"] == "next"]
    prev = next(link["href"] for link in last["links"] if link["rel"] == "prev")
    query = parse_qs(urlsplit(prev).query)
    assert query["offset"] == [str(last_offset - 20)] and query["limit"] == ["20"]


def test_an_exactly_full_last_page_has_no_next_link(client, db, many_sites):
    total = len(_public_ids(db))
    body = _get(client, "/ogc/collections/sites/items", limit=total).get_json()
    assert body["numberReturned"] == total
    assert not [link for link in body["links"] if link["rel"] == "next"]


def test_item_geometry_and_properties_match_the_database(client, db, many_sites):
    hid = _public_ids(db)[3]
    feature = _get(client, f"/ogc/collections/sites/items/{hid}").get_json()
    x, y, name, rank = db.execute(text(
        "SELECT ST_X(geom), ST_Y(geom), name_vi, rank FROM sites WHERE heritage_id = :h"),
        {"h": hid}).one()
    assert feature["id"] == hid
    assert feature["geometry"]["coordinates"] == pytest.approx([x, y], abs=1e-7)
    assert feature["properties"]["name_vi"] == name
    assert feature["properties"]["rank"] == rank
    assert {link["rel"] for link in feature["links"]} >= {"self", "collection"}


def test_zone_and_commune_feature_ids_are_their_permanent_ids(client, db, many_sites):
    zone_id = db.scalar(text(
        "SELECT s.heritage_id || '-' || z.zone FROM protection_zones z JOIN sites s "
        "ON s.id = z.site_id WHERE s.status = 'published' AND NOT s.sensitive "
        "ORDER BY z.id LIMIT 1"))
    zone = _get(client, f"/ogc/collections/protection_zones/items/{zone_id}").get_json()
    assert zone["id"] == zone_id and zone["geometry"]["type"] == "MultiPolygon"
    code = db.scalar(text("SELECT code FROM admin_units WHERE valid_to IS NULL "
                          "AND level IN ('commune', 'ward', 'town') AND geom IS NOT NULL "
                          "LIMIT 1"))
    commune = _get(client, f"/ogc/collections/communes/items/{code}").get_json()
    assert commune["properties"]["code"] == code


# --- the public only --------------------------------------------------------------------

def test_drafts_and_sensitive_relics_never_appear(client, db):
    draft = make_site(db, 105.95, 20.85, status="draft", name="Đình nháp")
    secret = make_site(db, 105.951, 20.851, sensitive=True, name="Đình nhạy cảm")
    shown = make_site(db, 105.952, 20.852, name="Đình công bố")
    ids = _all_ids(client, "sites", bbox="105.94,20.84,105.96,20.86")
    assert shown in ids and draft not in ids and secret not in ids
    zones = _all_ids(client, "protection_zones", bbox="105.94,20.84,105.96,20.86")
    assert f"{shown}-I" in zones
    assert not [z for z in zones if z.startswith((draft, secret))]
    for hid in (draft, secret):
        response = client.get(f"/ogc/collections/sites/items/{hid}")
        assert response.status_code == 404
        assert hid in response.get_json()["description"]
        assert client.get(f"/ogc/collections/protection_zones/items/{hid}-I"
                          ).status_code == 404
    # A property filter does not open a way round the rule either.
    assert _all_ids(client, "sites", heritage_id=draft) == []


def test_signed_in_reviewers_get_the_public_data_too(client, db, auth):
    draft = make_site(db, 105.95, 20.85, status="draft")
    from gis_app.services import accounts
    accounts.create_user(db, "ogc_reviewer", "mat-khau-dai-du-12", "district_reviewer")
    db.flush()
    assert auth.login("ogc_reviewer", "mat-khau-dai-du-12").status_code in (302, 303)
    assert client.get(f"/ogc/collections/sites/items/{draft}").status_code == 404


# --- bbox, bbox-crs, crs ----------------------------------------------------------------

def test_bbox_returns_what_st_intersects_returns(client, db, many_sites):
    rng = random.Random(5)
    for _ in range(15):
        x, y = rng.uniform(AREA[0], AREA[2] - 0.1), rng.uniform(AREA[1], AREA[3] - 0.1)
        box = (round(x, 5), round(y, 5), round(x + 0.1, 5), round(y + 0.1, 5))
        expected = _public_ids(db, "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))",
                               dict(zip("abcd", box)))
        assert _all_ids(client, "sites", bbox=",".join(map(str, box))) == expected


def test_bbox_crs_in_vn2000_and_epsg_4326_axis_order(client, db, many_sites):
    to_tm3 = Transformer.from_crs(4326, 9209, always_xy=True)
    box = (105.90, 20.80, 106.00, 20.90)
    expected = _public_ids(db, "ST_Intersects(geom, ST_Transform(ST_Segmentize("
                           "ST_MakeEnvelope(:a, :b, :c, :d, 9209), 50), 4326))",
                           dict(zip("abcd", (*to_tm3.transform(box[0], box[1]),
                                             *to_tm3.transform(box[2], box[3])))))
    e0, n0 = to_tm3.transform(box[0], box[1])
    e1, n1 = to_tm3.transform(box[2], box[3])
    got = _all_ids(client, "sites", bbox=f"{e0},{n0},{e1},{n1}", **{"bbox-crs": EPSG + "9209"})
    assert got == expected and got
    # EPSG:4326 is latitude first.
    in_degrees = _public_ids(db, "ST_Intersects(geom, ST_MakeEnvelope(:a, :b, :c, :d, 4326))",
                             dict(zip("abcd", box)))
    got = _all_ids(client, "sites", bbox="20.80,105.90,20.90,106.00",
                   **{"bbox-crs": EPSG + "4326"})
    assert got == in_degrees


@pytest.mark.parametrize("srid", [9209, 3405])
def test_crs_returns_projected_coordinates_within_a_centimetre_of_pyproj(client, db, srid):
    hid = make_site(db, 105.96, 20.83, zone_radius_m=None)
    response = _get(client, f"/ogc/collections/sites/items/{hid}", crs=EPSG + str(srid))
    assert response.headers["Content-Crs"] == f"<{EPSG}{srid}>"
    e, n = Transformer.from_crs(4326, srid, always_xy=True).transform(105.96, 20.83)
    got = response.get_json()["geometry"]["coordinates"]
    assert abs(got[0] - e) < 0.01 and abs(got[1] - n) < 0.01
    if srid == 9209:  # the published check point (shared/domain/crs.md)
        assert got == pytest.approx([547679.957, 2304201.899], abs=0.01)
    items = _get(client, "/ogc/collections/sites/items", crs=EPSG + str(srid),
                 heritage_id=hid).get_json()
    assert items["features"][0]["geometry"]["coordinates"] == pytest.approx(got, abs=0.001)


def test_vn2000_back_to_wgs84_in_postgis_agrees_with_pyproj(db):
    e, n = 547679.957, 2304201.899
    lon, lat = db.execute(text(
        "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:e, :n), "
        "9209), 4326) g) t"), {"e": e, "n": n}).one()
    plon, plat = Transformer.from_crs(9209, 4326, always_xy=True).transform(e, n)
    back = Transformer.from_crs(4326, 9209, always_xy=True)
    x0, y0 = back.transform(lon, lat)
    x1, y1 = back.transform(plon, plat)
    assert abs(x0 - x1) < 0.01 and abs(y0 - y1) < 0.01


def test_crs_epsg_4326_swaps_the_axes(client, db):
    hid = make_site(db, 105.96, 20.83, zone_radius_m=None)
    response = _get(client, f"/ogc/collections/sites/items/{hid}", crs=EPSG + "4326")
    assert response.get_json()["geometry"]["coordinates"] == pytest.approx([20.83, 105.96])
    default = _get(client, f"/ogc/collections/sites/items/{hid}")
    assert default.headers["Content-Crs"] == f"<{CRS84}>"
    assert default.get_json()["geometry"]["coordinates"] == pytest.approx([105.96, 20.83])


# --- datetime and property filters ------------------------------------------------------

def test_datetime_selects_zone_versions_valid_then(client, db):
    hid = make_site(db, 105.95, 20.85)
    db.execute(text("UPDATE protection_zones SET valid_from = '2020-01-01' WHERE site_id = "
                    "(SELECT id FROM sites WHERE heritage_id = :h) AND zone = 'I'"), {"h": hid})
    db.execute(text("UPDATE protection_zones SET valid_from = '2024-06-01' WHERE site_id = "
                    "(SELECT id FROM sites WHERE heritage_id = :h) AND zone = 'II'"), {"h": hid})
    box = "105.94,20.84,105.96,20.86"
    assert set(_all_ids(client, "protection_zones", bbox=box, datetime="2022-05-01")) == \
        {f"{hid}-I"}
    assert set(_all_ids(client, "protection_zones", bbox=box, datetime="2025-01-01")) == \
        {f"{hid}-I", f"{hid}-II"}
    assert set(_all_ids(client, "protection_zones", bbox=box,
                        datetime="2021-01-01/2024-06-01")) == {f"{hid}-I", f"{hid}-II"}
    assert set(_all_ids(client, "protection_zones", bbox=box, datetime="../2019-12-31")) == set()
    # A date-time is read in Vietnam: 2024-05-31T18:00Z is already 1 June there.
    assert set(_all_ids(client, "protection_zones", bbox=box,
                        datetime="2024-05-31T18:00:00Z")) == {f"{hid}-I", f"{hid}-II"}


def test_datetime_on_communes_follows_the_2025_reform(client, db):
    expected_now = set(db.scalars(text(
        "SELECT code FROM admin_units WHERE level IN ('commune', 'ward', 'town') AND geom IS "
        "NOT NULL AND valid_to IS NULL AND (valid_from IS NULL OR valid_from <= '2025-08-01')")))
    assert set(_all_ids(client, "communes", datetime="2025-08-01")) == expected_now
    before = list(db.scalars(text(
        "SELECT id FROM admin_units WHERE level IN ('commune', 'ward', 'town') AND geom IS "
        "NOT NULL AND valid_to IS NOT NULL AND valid_to >= '2024-01-01' "
        "AND (valid_from IS NULL OR valid_from <= '2024-01-01') ORDER BY id")))
    assert _all_ids(client, "former_communes", datetime="2024-01-01") == before


def test_property_filters_match_values_and_list_members(client, db, many_sites):
    assert _all_ids(client, "sites", rank="national") == _public_ids(db, "rank = 'national'")
    assert _all_ids(client, "sites", types="historical") == \
        _public_ids(db, "'historical' = ANY(types)")
    assert _all_ids(client, "sites", types="scenic", rank="national") == \
        _public_ids(db, "'scenic' = ANY(types) AND rank = 'national'")


# --- bad parameters: 400 with a message, never 500 ------------------------------------------

@pytest.mark.parametrize("query, words", [
    ({"bbox": "1,2,3"}, "4"),
    ({"bbox": "a,b,c,d"}, "number"),
    ({"bbox": "106,20,105,21"}, "lower corner"),
    ({"bbox": "547000,2300000,548000,2301000"}, "9209"),
    ({"bbox": "nan,1,2,3"}, "finite"),
    ({"limit": "0"}, "limit"),
    ({"limit": "10001"}, "10000"),
    ({"limit": "ten"}, "whole number"),
    ({"offset": "-1"}, "offset"),
    ({"after": "VN-HY"}, "after"),
    ({"crs": "EPSG:2154"}, "9209"),
    ({"bbox-crs": EPSG + "9209"}, "bbox"),
    ({"datetime": "hôm qua"}, "datetime"),
    ({"datetime": "2025-02-30"}, "datetime"),
    ({"datetime": "2025-01-01/2024-01-01"}, "before"),
    ({"colour": "red"}, "colour"),
    ({"f": "xml"}, "f=json"),
])
def test_bad_parameters_are_a_400_that_says_what_to_send(client, query, words):
    path = "/ogc/collections/protection_zones/items"
    response = client.get(path, query_string={**query, "lang": "en"})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert words in response.get_json()["description"]


def test_a_repeated_parameter_and_datetime_on_a_layer_without_dates_are_a_400(client):
    response = client.get("/ogc/collections/sites/items?limit=1&limit=2&lang=en")
    assert response.status_code == 400 and "once" in response.get_json()["description"]
    response = client.get("/ogc/collections/sites/items?datetime=2025-01-01")
    assert response.status_code == 400
    assert "protection_zones" in response.get_json()["description"]


def test_bad_parameters_on_an_html_page_show_the_message_in_vietnamese(client):
    response = client.get("/ogc/collections/sites/items",
                          query_string={"f": "html", "bbox": "1,2", "lang": "vi"})
    assert response.status_code == 400
    assert "bbox cần 4 số" in response.get_data(as_text=True)


# --- caching ------------------------------------------------------------------------------

def test_items_carry_an_etag_that_a_change_of_data_renews(client, db, many_sites):
    first = _get(client, "/ogc/collections/sites/items", limit=5)
    etag = first.headers["ETag"]
    again = client.get("/ogc/collections/sites/items", query_string={"limit": 5},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304
    make_site(db, 105.9, 20.8)  # a new revision: the data version moves on
    changed = client.get("/ogc/collections/sites/items", query_string={"limit": 5},
                         headers={"If-None-Match": etag})
    assert changed.status_code == 200


# --- HTML ---------------------------------------------------------------------------------

def test_html_pages_in_vietnamese_and_english(client, db, many_sites):
    hid = _public_ids(db)[0]
    name = db.scalar(text("SELECT name_vi FROM sites WHERE heritage_id = :h"), {"h": hid})
    page = _get(client, "/ogc/collections", f="html", lang="vi").get_data(as_text=True)
    assert "Di tích" in page and "Khu vực bảo vệ di tích" in page
    assert "Các tập dữ liệu" in page
    page = _get(client, "/ogc/collections", f="html", lang="en").get_data(as_text=True)
    assert "Relics" in page and "Protection zones" in page
    page = _get(client, "/ogc/collections/sites/items", f="html", limit=5, lang="vi"
                ).get_data(as_text=True)
    total = len(_public_ids(db))
    assert f"Đối tượng 1–5 trong {total}" in page
    assert "Trang sau" in page
    page = _get(client, "/ogc/collections/sites/items", f="html", limit=5, lang="en"
                ).get_data(as_text=True)
    assert f"Features 1–5 of {total}" in page and "Next page" in page
    page = _get(client, f"/ogc/collections/sites/items/{hid}", f="html", lang="vi"
                ).get_data(as_text=True)
    assert name in page and f"/sites/{hid}" in page
    # A browser asking for text/html gets the page without f=.
    browser = client.get("/ogc/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.mimetype == "text/html"
    assert "Dùng trong QGIS" in browser.get_data(as_text=True)


# --- parsers: a value or an InputError, nothing else ---------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parsers_give_a_value_or_an_input_error(value):
    from gis_app.errors import InputError
    from gis_app.ogc import crs, params

    for parse in (lambda v: params.read_bbox(v, crs.CRS84),
                  lambda v: params.read_bbox(v, crs.BY_URI[EPSG + "4326"]),
                  params.read_datetime, lambda v: crs.read_crs("crs", v),
                  lambda v: params.read_limit(v, 10, 100), params.read_offset):
        try:
            parse(value)
        except InputError as error:
            assert error.message_vi and error.message_en


def test_a_machine_that_starts_with_ten_gets_larger_next_pages(client, db, many_sites):
    """GDAL's OAPIF driver asks for 10 features and follows the next links: each next
    page is ten times larger (up to the maximum), so a full read takes a few requests;
    every answer holds no more than its own limit, and the pages join up exactly."""
    public = _public_ids(db)
    assert len(public) > 110
    url, query, ids, limits = "/ogc/collections/sites/items", {"limit": "10"}, [], []
    while url:
        body = _get(client, url, **query).get_json()
        limits.append(int(query["limit"]))
        assert body["numberReturned"] <= limits[-1]
        ids += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            break
        parts = urlsplit(nxt[0])
        url, query = parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert ids == public
    assert limits == [10, 100, 1000]
    # A person's HTML pages keep the size they chose.
    page = client.get("/ogc/collections/sites/items", query_string={"limit": 10, "f": "html"})
    assert "limit=10&" in page.get_data(as_text=True).replace("&amp;", "&")
