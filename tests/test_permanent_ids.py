"""Permanent identifiers: /id/<heritage identifier> for relics, intangible heritage and
artifacts in HTML (303 to the page), JSON and GeoJSON; merged (301), retired (410),
hidden (404 like never minted), malformed and lower-case identifiers; HEAD; an official
signed in through the real form sees a draft."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from gis_app.services.accounts import create_user
from tests.factories import make_site

PASSWORD = "a long enough password"
# About 35 km east of the demo relics: only the test's own records are near.
LON, LAT = 106.31, 20.71
JSON = {"Accept": "application/json"}
GEOJSON = {"Accept": "application/geo+json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
_numbers = iter(range(910000, 919999))


def site_row_id(db, hid: str) -> int:
    return db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})


def add_intangible(db, name: str, *, relic: str | None = None, status: str = "published",
                   name_en: str | None = None, with_place: bool = False) -> str:
    hid = f"VN-HY-PVT-{next(_numbers):06d}"
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'intangible')"),
               {"id": hid})
    ich = db.execute(text("""
        INSERT INTO intangible_heritage (heritage_id, name_vi, name_en, ich_type, status,
                                         community, geom)
        VALUES (:hid, :name, :en, 'traditional_festival', :status, 'Dân làng Đa Hòa',
                CASE WHEN :place THEN ST_Multi(ST_Buffer(
                    ST_SetSRID(ST_MakePoint(:x, :y), 4326), 0.001, 4)) END)
        RETURNING id"""),
        {"hid": hid, "name": name, "en": name_en, "status": status, "place": with_place,
         "x": LON, "y": LAT}).scalar_one()
    if relic:
        db.execute(text("INSERT INTO intangible_sites (intangible_id, site_id) "
                        "VALUES (:i, :s)"), {"i": ich, "s": site_row_id(db, relic)})
    db.flush()
    return hid


def add_artifact(db, name: str, holding: str, *, approved: bool = True,
                 public: bool = True) -> str:
    hid = f"VN-HY-HV-{next(_numbers):06d}"
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:id, 'artifact')"),
               {"id": hid})
    db.execute(text("""
        INSERT INTO artifacts (heritage_id, name_vi, kind, period, material, holding_site_id,
                               approved_at, public)
        VALUES (:hid, :name, 'antiquity', 'Thời Lê', 'Đồng', :site,
                CASE WHEN :approved THEN now() END, :public)"""),
        {"hid": hid, "name": name, "site": site_row_id(db, holding), "approved": approved,
         "public": public})
    db.flush()
    return hid


def demo_relic(db) -> dict:
    """A published, non-sensitive demo relic with its commune."""
    return dict(db.execute(text("""
        SELECT s.heritage_id, s.name_vi, s.rank, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
               u.name AS commune, u.code AS commune_code
          FROM sites s JOIN admin_units u ON u.id = s.admin_unit_id
         WHERE s.status = 'published' AND NOT s.sensitive AND s.rank IS NOT NULL
         ORDER BY s.heritage_id LIMIT 1""")).mappings().one())


def sign_in(client, auth, db, role: str, name: str, **kwargs) -> None:
    create_user(db, name, PASSWORD, role, **kwargs)
    response = auth.login(name, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)


# --- relics ----------------------------------------------------------------------------

def test_a_relic_in_html_json_and_geojson(client, db):
    relic = demo_relic(db)
    hid = relic["heritage_id"]

    page = client.get(f"/id/{hid}", headers=BROWSER)
    assert page.status_code == 303
    assert page.headers["Location"] == f"/sites/{hid}"
    assert "Accept" in page.headers["Vary"]
    assert "Accept" in client.get(f"/id/{hid}").headers["Vary"]  # no Accept: HTML
    assert client.get(f"/id/{hid}").status_code == 303
    shown = client.get(page.headers["Location"]).get_data(as_text=True)
    assert relic["name_vi"] in shown

    doc = client.get(f"/id/{hid}", headers=JSON)
    assert doc.status_code == 200 and doc.mimetype == "application/json"
    assert "Accept" in doc.headers["Vary"]
    body = doc.get_json()
    assert body["id"] == hid and body["kind"] == "relic" and body["status"] == "published"
    assert body["uri"] == f"http://localhost/id/{hid}"
    assert body["name"]["vi"] == relic["name_vi"]
    assert body["rank"]["code"] == relic["rank"] and body["rank"]["vi"]
    assert body["commune"] == {"code": relic["commune_code"], "name": relic["commune"]}
    assert body["links"]["html"] == f"http://localhost/sites/{hid}"
    assert body["links"]["geojson"] == f"http://localhost/id/{hid}?f=geojson"
    assert body["links"]["self"] == f"http://localhost/id/{hid}?f=json"
    assert body["links"]["ogc_item"] == f"http://localhost/ogc/collections/sites/items/{hid}"

    feature = client.get(f"/id/{hid}", headers=GEOJSON)
    assert feature.status_code == 200 and feature.mimetype == "application/geo+json"
    data = json.loads(feature.get_data(as_text=True))
    assert data["type"] == "Feature" and data["id"] == hid
    assert data["geometry"]["type"] == "Point"
    assert data["geometry"]["coordinates"] == pytest.approx([relic["lon"], relic["lat"]],
                                                            abs=1e-7)
    assert data["properties"]["name"]["vi"] == relic["name_vi"]
    rels = {(link["rel"], link["type"]): link["href"] for link in data["links"]}
    assert rels[("self", "application/geo+json")] == f"http://localhost/id/{hid}?f=geojson"
    assert rels[("alternate", "text/html")] == f"http://localhost/sites/{hid}"


def test_the_zones_of_a_relic_are_a_link_to_the_layer_api(client, db):
    hid = make_site(db, LON, LAT, name="Đình Có Vùng")
    feature = client.get(f"/id/{hid}?f=geojson").get_json()
    zones = next(link["href"] for link in feature["links"] if link["rel"] == "zones")
    assert zones.startswith("http://localhost/api/layers/protection_zones.geojson?bbox=")
    layer = client.get(zones.removeprefix("http://localhost")).get_json()
    assert {(f["properties"]["heritage_id"], f["properties"]["zone"])
            for f in layer["features"]} >= {(hid, "I"), (hid, "II")}
    doc = client.get(f"/id/{hid}?f=json").get_json()
    assert [z["zone"] for z in doc["zones"]] == ["I", "II"]


def test_f_overrides_the_accept_header_and_an_unknown_f_says_what_to_use(client, db):
    hid = demo_relic(db)["heritage_id"]
    assert client.get(f"/id/{hid}?f=json", headers=BROWSER).get_json()["id"] == hid
    feature = client.get(f"/id/{hid}?f=geojson", headers=JSON)
    assert feature.mimetype == "application/geo+json"
    assert client.get(f"/id/{hid}?f=html", headers=JSON).status_code == 303
    wrong = client.get(f"/id/{hid}?f=xml", headers=JSON)
    assert wrong.status_code == 400
    assert "dùng f=html, f=json hoặc f=geojson" in wrong.get_json()["message"]
    page = client.get(f"/id/{hid}?f=xml&lang=en", headers=BROWSER)
    assert page.status_code == 400 and "f=html, f=json or f=geojson" in page.get_data(
        as_text=True)


def test_the_html_redirect_keeps_the_language(client, db):
    hid = demo_relic(db)["heritage_id"]
    answer = client.get(f"/id/{hid}?lang=en")
    assert answer.status_code == 303 and answer.headers["Location"] == f"/sites/{hid}?lang=en"


# --- merged and retired relics ----------------------------------------------------------

@pytest.fixture
def reviewer(db):
    return create_user(db, "ids-reviewer", PASSWORD, "district_reviewer")


def test_a_merged_relic_answers_301_to_its_survivor_in_the_representation_asked(
        client, db, runner, reviewer):
    keep = make_site(db, LON, LAT, name="Đình Gốc")
    dup = make_site(db, LON + 0.0001, LAT, name="Đình Gốc (trùng)")
    done = runner.invoke(args=["records", "merge", dup, "--into", keep, "--user",
                               "ids-reviewer"])
    assert done.exit_code == 0, done.output
    moved = client.get(f"/id/{dup}?f=json")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"/id/{keep}?f=json"
    assert "Accept" in moved.headers["Vary"]
    followed = client.get(f"/id/{dup}", headers=GEOJSON, follow_redirects=True)
    assert followed.status_code == 200 and followed.get_json()["id"] == keep
    page = client.get(f"/id/{dup}", headers=BROWSER)
    assert page.status_code == 301 and page.headers["Location"] == f"/id/{keep}"
    assert client.get(f"/id/{keep}", headers=BROWSER).headers["Location"] == f"/sites/{keep}"


def test_a_retired_relic_answers_410_with_its_reason_in_each_representation(
        client, db, runner, reviewer):
    hid = make_site(db, LON, LAT, name="Miếu Đã Hủy")
    done = runner.invoke(args=["records", "retire", hid, "--reason",
                               "Không còn dấu tích trên thực địa", "--decision",
                               "12/QĐ-UBND", "--user", "ids-reviewer"])
    assert done.exit_code == 0, done.output
    for headers in (JSON, GEOJSON):
        gone = client.get(f"/id/{hid}", headers=headers)
        assert gone.status_code == 410 and "Accept" in gone.headers["Vary"]
        body = gone.get_json()
        assert body["error"] == "gone"
        assert body["reason"] == "Không còn dấu tích trên thực địa"
        assert body["decision"] == "12/QĐ-UBND"
        assert "Miếu Đã Hủy" in body["message"]
    page = client.get(f"/id/{hid}", headers=BROWSER)
    assert page.status_code == 410 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Không còn dấu tích trên thực địa" in html and "12/QĐ-UBND" in html
    assert "<h1>Đã đưa ra khỏi danh mục</h1>" in html and "Miếu Đã Hủy" in html
    english = client.get(f"/id/{hid}?f=json&lang=en").get_json()
    assert "was retired from the register" in english["message"]


# --- what the public may not see -------------------------------------------------------

def not_found_message(client, hid: str) -> str:
    answer = client.get(f"/id/{hid}", headers=JSON)
    assert answer.status_code == 404, (hid, answer.status_code)
    return answer.get_json()["message"].replace(hid, "<id>")


def test_hidden_records_answer_like_identifiers_never_minted(client, db):
    draft = make_site(db, LON, LAT, name="Đình Nháp", status="draft")
    sensitive = make_site(db, LON + 0.01, LAT, name="Miếu Nhạy Cảm", sensitive=True)
    public = make_site(db, LON + 0.02, LAT, name="Đình Công Khai")
    hidden = {
        "draft relic": draft,
        "sensitive relic": sensitive,
        "draft intangible": add_intangible(db, "Lễ hội nháp", relic=public, status="draft"),
        "waiting artifact": add_artifact(db, "Bia chờ duyệt", public, approved=False),
        "artifact kept off public pages": add_artifact(db, "Chuông riêng", public,
                                                       public=False),
        "artifact at a draft relic": add_artifact(db, "Khánh đá", draft),
    }
    never = "VN-HY-DT-999998"
    expected = not_found_message(client, never)
    assert expected == ("Không có hồ sơ nào được công bố với mã định danh <id>. Hãy kiểm "
                        "tra lại mã, hoặc tìm theo tên trên bản đồ.")
    for what, hid in hidden.items():
        assert not_found_message(client, hid) == expected, what
        assert client.get(f"/id/{hid}", headers=BROWSER).status_code == 404, what
        assert client.get(f"/id/{hid}?f=geojson").status_code == 404, what
    assert client.get(f"/intangible/{hidden['draft intangible']}").status_code == 404
    assert client.get(f"/artifacts/{hidden['waiting artifact']}").status_code == 404


def test_a_commune_editor_sees_what_the_public_sees(client, auth, db):
    unit = db.scalar(text("SELECT code FROM admin_units WHERE level = 'commune' AND "
                          "valid_to IS NULL ORDER BY code LIMIT 1"))
    draft = make_site(db, LON, LAT, name="Đình Nháp Xã", status="draft")
    sign_in(client, auth, db, "commune_editor", "ids-editor", unit_codes=[unit])
    assert client.get(f"/id/{draft}", headers=JSON).status_code == 404


def test_a_reviewer_signed_in_sees_a_draft_by_its_identifier(client, auth, db):
    draft = make_site(db, LON, LAT, name="Đình Nháp Thẩm Định", status="draft")
    ich = add_intangible(db, "Hát trống quân nháp", relic=draft, status="draft")
    thing = add_artifact(db, "Sắc phong chờ duyệt", draft, approved=False)
    assert client.get(f"/id/{draft}", headers=JSON).status_code == 404
    sign_in(client, auth, db, "district_reviewer", "ids-official")
    doc = client.get(f"/id/{draft}", headers=JSON)
    assert doc.status_code == 200 and doc.get_json()["status"] == "draft"
    assert "private" in doc.headers["Cache-Control"]
    page = client.get(f"/id/{draft}", headers=BROWSER, follow_redirects=True)
    assert page.status_code == 200
    assert "Bản nháp — chưa công bố" in page.get_data(as_text=True)
    assert client.get(f"/id/{ich}?f=json").get_json()["relics"][0]["heritage_id"] == draft
    assert client.get(f"/id/{thing}?f=json").get_json()["status"] == "waiting"


# --- intangible heritage and artifacts --------------------------------------------------

def test_an_intangible_heritage_in_html_json_and_geojson(client, db):
    relic = make_site(db, LON, LAT, name="Đình Hội Làng")
    hid = add_intangible(db, "Lễ hội làng Đa Hòa", relic=relic, name_en="Đa Hòa festival",
                         with_place=True)
    redirect = client.get(f"/id/{hid}", headers=BROWSER)
    assert redirect.status_code == 303 and redirect.headers["Location"] == f"/intangible/{hid}"
    html = client.get(redirect.headers["Location"]).get_data(as_text=True)
    assert "<h1>Lễ hội làng Đa Hòa</h1>" in html and "Dân làng Đa Hòa" in html
    assert f'href="/sites/{relic}">Đình Hội Làng</a>' in html
    assert f"http://localhost/id/{hid}" in html  # the permanent link
    english = client.get(f"/intangible/{hid}?lang=en").get_data(as_text=True)
    assert "Traditional festival" in english or "traditional festival" in english.lower()

    doc = client.get(f"/id/{hid}", headers=JSON).get_json()
    assert doc["kind"] == "intangible_heritage"
    assert doc["name"] == {"vi": "Lễ hội làng Đa Hòa", "en": "Đa Hòa festival"}
    assert doc["type"]["code"] == "traditional_festival"
    assert doc["relics"] == [{"heritage_id": relic, "name_vi": "Đình Hội Làng",
                              "name_en": None, "uri": f"http://localhost/id/{relic}"}]
    assert doc["links"]["html"] == f"http://localhost/intangible/{hid}"
    assert "ogc_item" not in doc["links"]

    feature = client.get(f"/id/{hid}", headers=GEOJSON).get_json()
    assert feature["id"] == hid and feature["geometry"]["type"] == "MultiPolygon"
    ring = feature["geometry"]["coordinates"][0][0]
    assert min(x for x, _ in ring) < LON < max(x for x, _ in ring)


def test_an_intangible_heritage_without_places_is_a_feature_without_geometry(client, db):
    hid = add_intangible(db, "Hát ca trù")
    feature = client.get(f"/id/{hid}?f=geojson").get_json()
    assert feature["type"] == "Feature" and feature["geometry"] is None


def test_an_artifact_in_html_json_and_geojson(client, db):
    relic = make_site(db, LON, LAT, name="Chùa Giữ Hiện Vật")
    hid = add_artifact(db, "Chuông đồng thời Lê", relic)
    redirect = client.get(f"/id/{hid}", headers=BROWSER)
    assert redirect.status_code == 303 and redirect.headers["Location"] == f"/artifacts/{hid}"
    html = client.get(redirect.headers["Location"]).get_data(as_text=True)
    assert "<h1>Chuông đồng thời Lê</h1>" in html and "Đồng" in html and "Thời Lê" in html
    assert f'href="/sites/{relic}">Chùa Giữ Hiện Vật</a>' in html
    doc = client.get(f"/id/{hid}", headers=JSON).get_json()
    assert doc["kind"] == "artifact" and doc["type"]["code"] == "antiquity"
    assert doc["relic"]["uri"] == f"http://localhost/id/{relic}"
    feature = client.get(f"/id/{hid}", headers=GEOJSON).get_json()
    assert feature["id"] == hid and feature["geometry"] is None
    assert feature["properties"]["relic"]["heritage_id"] == relic
    # The relic's page links the artifact's page.
    page = client.get(f"/sites/{relic}").get_data(as_text=True)
    assert f'href="/artifacts/{hid}">Chuông đồng thời Lê</a>' in page


def test_a_page_of_one_kind_does_not_open_another(client, db):
    relic = demo_relic(db)["heritage_id"]
    answer = client.get(f"/artifacts/{relic}")
    assert answer.status_code == 404
    assert f"không phải mã định danh của hiện vật: hãy mở /id/{relic}" in answer.get_data(
        as_text=True)


# --- identifiers themselves -------------------------------------------------------------

def test_a_lower_case_identifier_redirects_to_the_canonical_one(client, db):
    hid = demo_relic(db)["heritage_id"]
    answer = client.get(f"/id/{hid.lower()}?f=json")
    assert answer.status_code == 301 and answer.headers["Location"] == f"/id/{hid}?f=json"
    assert client.get(f"/artifacts/{hid.lower()}").status_code == 301


@pytest.mark.parametrize("raw", ["VN-HY-DT-12", "KC-01-000", "VN-HY-XX-000001", "abc"])
def test_a_malformed_identifier_says_the_shape(client, raw):
    answer = client.get(f"/id/{raw}", headers=JSON)
    assert answer.status_code == 404
    message = answer.get_json()["message"]
    assert f"“{raw}” không phải mã định danh di sản" in message
    assert "VN-HY-DT-000123" in message and "VN-HY-PVT-000123" in message \
        and "VN-HY-HV-000123" in message
    page = client.get(f"/id/{raw}?lang=en")
    assert page.status_code == 404
    assert "is not a heritage identifier" in page.get_data(as_text=True)


def test_an_identifier_withdrawn_with_its_record_answers_410(client, db):
    hid = add_intangible(db, "Lễ hội đã rút")
    # What undoing the import that created it does: the record goes, the identifier stays.
    db.execute(text("DELETE FROM intangible_heritage WHERE heritage_id = :h"), {"h": hid})
    db.execute(text("UPDATE heritage_identifiers SET retired_at = now(), note = 'import #9 "
                    "undone' WHERE id = :h"), {"h": hid})
    db.flush()
    gone = client.get(f"/id/{hid}", headers=JSON)
    assert gone.status_code == 410
    assert "never reused" not in gone.get_json()["message"]  # Vietnamese by default
    assert "không bao giờ được dùng lại" in gone.get_json()["message"]
    assert "import" not in gone.get_json()["message"]


def test_an_archived_intangible_heritage_answers_410(client, db):
    hid = add_intangible(db, "Tục cũ đã lưu trữ", status="archived")
    gone = client.get(f"/id/{hid}?lang=en", headers=JSON)
    assert gone.status_code == 410
    assert gone.get_json()["message"] == (
        f"The record Tục cũ đã lưu trữ ({hid}) was withdrawn from the register; its "
        f"identifier is never reused.")


def test_head_answers_like_get_without_a_body(client, db):
    hid = demo_relic(db)["heritage_id"]
    for headers, status in ((BROWSER, 303), (JSON, 200), (GEOJSON, 200)):
        head = client.head(f"/id/{hid}", headers=headers)
        get = client.get(f"/id/{hid}", headers=headers)
        assert head.status_code == get.status_code == status
        assert head.headers.get("Content-Type") == get.headers.get("Content-Type")
        assert head.headers.get("Location") == get.headers.get("Location")
        assert "Accept" in head.headers["Vary"]
        assert head.get_data() == b""
    assert client.head("/id/VN-HY-DT-999997", headers=JSON).status_code == 404


def test_the_relic_page_shows_its_permanent_link_and_alternates(client, db):
    hid = demo_relic(db)["heritage_id"]
    html = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert re.search(rf'Đường dẫn cố định</dt><dd><a class="permanent-link" '
                     rf'href="http://localhost/id/{hid}">', html)
    assert (f'<link rel="alternate" type="application/geo+json" '
            f'href="http://localhost/id/{hid}?f=geojson">') in html
    english = client.get(f"/sites/{hid}?lang=en").get_data(as_text=True)
    assert "Permanent link</dt>" in english


def test_the_map_layer_and_the_tourist_api_key_relics_by_their_identifier(client, db):
    layer = client.get("/api/layers/sites.geojson?limit=1000").get_json()["features"]
    tourist = client.get("/api/sites").get_json()["features"]
    assert {f["id"] for f in layer} == {f["id"] for f in tourist} \
        == {f["properties"]["heritage_id"] for f in tourist}
    assert all(client.get(f"/id/{f['id']}", headers=JSON).status_code == 200 for f in layer)


def test_the_sitemap_lists_public_intangible_heritage_and_artifacts_only(client, db):
    relic = make_site(db, LON, LAT, name="Đình Sơ Đồ Hiện Vật")
    draft_relic = make_site(db, LON + 0.01, LAT, name="Đình Nháp", status="draft")
    shown = [add_intangible(db, "Lễ hội công bố", relic=relic),
             add_artifact(db, "Chuông công bố", relic)]
    hidden = [add_intangible(db, "Lễ hội nháp", relic=relic, status="draft"),
              add_artifact(db, "Bia chờ duyệt", relic, approved=False),
              add_artifact(db, "Khánh ở di tích nháp", draft_relic)]
    # /sitemap.xml is an index; the records' pages are in its first file, with the
    # district's other pages.
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    index = ET.fromstring(client.get("/sitemap.xml").data)
    files = [m.findtext("s:loc", namespaces=ns) for m in index.findall("s:sitemap", ns)]
    locs = []
    for loc in files:
        root = ET.fromstring(client.get(loc.removeprefix("http://localhost")).data)
        locs += [u.findtext("s:loc", namespaces=ns) for u in root.findall("s:url", ns)]
    assert f"http://localhost/intangible/{shown[0]}?lang=vi" in locs
    assert f"http://localhost/artifacts/{shown[1]}?lang=en" in locs
    assert not [loc for loc in locs if any(h in loc for h in hidden)]
    # Their pages carry the canonical and hreflang links of every public page.
    html = client.get(f"/intangible/{shown[0]}?lang=en").get_data(as_text=True)
    assert (f'<link rel="canonical" href="http://localhost/intangible/{shown[0]}?lang=en">'
            in html)
    assert f'hreflang="vi" href="http://localhost/intangible/{shown[0]}?lang=vi"' in html
