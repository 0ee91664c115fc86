"""The public map at scale: `/api/sites` built in PostGIS agrees with the reference
built row by row in Python; the filter counts agree with the generated data; `/` and
`/api/sites/filters` are cached by data version (an edit shows at once) and answer 304
to a client that has them."""
from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import replace

import pytest
from flask import url_for
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.services import explore, lifecycle
from gis_app.services.accounts import create_user
from tests.factories import make_site

# A box far from the demo relics: the generated relics are the only ones inside it.
BOX = (107.40, 22.40, 107.60, 22.60)
BBOX = ",".join(map(str, BOX))
TYPES = ("historical", "architectural_artistic", "archaeological", "scenic")
RANKS = ("special_national", "national", "provincial", "inventoried", None)
WORDS = ("Đình", "Chùa", "Đền", "Miếu", "làng", "Đa Hòa", "cổ", "thôn", "Hưng", "xã")
LICENCES = ("CC BY 4.0", "CC0 1.0", "unknown", "Giấy phép riêng", None)


def _text(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) + rng.choice(("", ",", ".", " –", ";")) for _ in range(n)]
    return rng.choice((" ", "  ", "\n", "\t ")).join(words)


def _unit(db: Session, code: str, name: str, valid_to: str | None = None) -> int:
    return db.execute(text("""
        INSERT INTO admin_units (code, name, level, valid_from, valid_to)
        VALUES (:c, :n, 'commune', DATE '2000-01-01', CAST(:t AS date)) RETURNING id"""),
        {"c": code, "n": name, "t": valid_to}).scalar_one()


def _generate(db: Session, n: int, seed: int = 16) -> list[dict]:
    """n relics in BOX with random types, ranks, status, texts, photos and units (one of
    three new communes today, some also in a former one); what was made of each."""
    rng = random.Random(seed)
    today_units = [_unit(db, f"T9{i}", f"Xã Sinh Thử {i}") for i in range(3)]
    former = _unit(db, "T99", "Xã Cũ Thử", "2025-06-30")
    made = []
    for i in range(n):
        status = rng.choice(("published",) * 8 + ("draft",))
        sensitive = rng.random() < 0.1
        x = round(rng.uniform(BOX[0] + 0.01, BOX[2] - 0.01), rng.choice((3, 6, 9)))
        y = round(rng.uniform(BOX[1] + 0.01, BOX[3] - 0.01), rng.choice((3, 6, 9)))
        if i == 0:
            x, y = 107.5, 22.5  # whole-looking numbers ("geo:22.5,107.5")
        hid = make_site(db, x, y, name=f"{_text(rng, 2).strip()} {i}", status=status,
                        sensitive=sensitive, zone_radius_m=None)
        types = rng.sample(TYPES, rng.choice((0, 1, 1, 2)))
        rank = rng.choice(RANKS)
        unit = rng.choice(today_units)
        in_former = rng.random() < 0.3
        db.execute(text("""
            UPDATE sites SET types = :types, rank = :rank, admin_unit_id = :unit,
                   name_en = :name_en, description_vi = :dvi, description_en = :den,
                   opening_hours_vi = :ovi, opening_hours_en = :oen
             WHERE heritage_id = :h"""), {
            "types": types, "rank": rank, "unit": unit, "h": hid,
            "name_en": rng.choice((None, "", f"Relic {i}")),
            "dvi": rng.choice((None, "", "   ", _text(rng, 5), _text(rng, 60),
                               "x" * 230, "Đa Hòa " + "y" * 300)),
            "den": rng.choice((None, "", _text(rng, 70))),
            "ovi": rng.choice((None, "", "7:00–17:00 hằng ngày")),
            "oen": rng.choice((None, "", "7:00–17:00 daily"))})
        site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
        db.execute(text("""
            INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from, valid_to)
            VALUES (:s, :u, DATE '2025-07-01', NULL)"""), {"s": site_id, "u": unit})
        if in_former:
            db.execute(text("""
                INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from, valid_to)
                VALUES (:s, :u, DATE '2000-01-01', DATE '2025-06-30')"""),
                {"s": site_id, "u": former})
        if rng.random() < 0.3:
            db.execute(text("""
                INSERT INTO digital_records (site_id, media_type, uri, credit, licence)
                VALUES (:s, 'image/jpeg', :uri, :credit, :licence)"""),
                {"s": site_id, "credit": rng.choice((None, "Ban quản lý")),
                 "licence": rng.choice(LICENCES),
                 "uri": rng.choice((f"sites/{hid}/a.jpg", f"sites/{hid}/ảnh số {i}.jpg",
                                    f"sites/{hid}/x#?%&+.jpg"))})
        made.append({"heritage_id": hid, "status": status, "sensitive": sensitive,
                     "types": types, "rank": rank, "unit": unit,
                     "units": [unit, former] if in_former else [unit]})
    db.flush()
    return made


@pytest.fixture
def generated(db: Session) -> list[dict]:
    return _generate(db, 240)


def _reference(app, db: Session, lang: str, flt: explore.SiteFilter, role: str | None = None,
               near: tuple[float, float] | None = None) -> dict:
    """The GeoJSON as built row by row in Python (`feature_collection`)."""
    matched = None
    with app.test_request_context(f"/?lang={lang}"):
        if near is None:
            rows = explore.find_sites(db, flt, role)
            # Every relic the filter selects, as rows (not a count): beyond the limit,
            # the answer must say how many there are.
            matched = len(explore.find_sites(db, replace(flt, limit=10**6), role))
        else:
            rows = explore.nearby_sites(db, *near, flt, role, limit=flt.limit)
        body = explore.feature_collection(
            rows, lang, lambda h: url_for("public.site_page", heritage_id=h),
            lambda uri: url_for("media.file", name=uri), matched)
    return json.loads(json.dumps(body))


QUERIES = ["", "type=scenic", "rank=national,provincial", "q=da hoa", "q=dinh&type=historical",
           "limit=7"]


def test_sites_geojson_built_in_postgis_equals_the_python_reference(app, client, db,
                                                                    generated):
    for lang in ("vi", "en"):
        for query in QUERIES:
            args = dict(p.split("=") for p in query.split("&") if p)
            response = client.get(f"/api/sites?bbox={BBOX}&lang={lang}&{query}")
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.mimetype == "application/geo+json"
            fast = response.get_json()
            slow = _reference(app, db, lang, explore.read_filter({**args, "bbox": BBOX}))
            assert fast["numberReturned"] == len(fast["features"]) > 0, query
            _same(fast, slow)
            # Something of every kind was compared: cut descriptions, odd photo paths.
            props = [f["properties"] for f in fast["features"]]
            if not query:
                assert any((p["description"] or "").endswith("…") for p in props)
                assert any("%" in (p["photo"] or {}).get("url", "") for p in props)
                assert any(p["geo_uri"] == "geo:22.5,107.5" for p in props)


def test_nearby_geojson_built_in_postgis_equals_the_python_reference(app, client, db,
                                                                     generated):
    fast = client.get("/api/sites/nearby?lat=22.5&lon=107.5&limit=20&lang=en").get_json()
    slow = _reference(app, db, "en", explore.read_filter({"limit": "20"}), near=(22.5, 107.5))
    assert len(fast["features"]) == 20
    _same(fast, slow)
    distances = [f["properties"]["distance_m"] for f in fast["features"]]
    assert distances == sorted(distances) and distances[0] == 0.0


def test_reviewers_get_drafts_in_the_postgis_geojson_as_in_the_reference(
        app, client, db, auth, generated):
    create_user(db, "scale-reviewer", "pw-scale-reviewer-1", "district_reviewer")
    auth.login("scale-reviewer", "pw-scale-reviewer-1")
    fast = client.get(f"/api/sites?bbox={BBOX}&lang=vi").get_json()
    slow = _reference(app, db, "vi", explore.read_filter({"bbox": BBOX}), "district_reviewer")
    _same(fast, slow)
    assert len(fast["features"]) == len(generated)


def _same(fast: dict, slow: dict) -> None:
    """fast == slow, failing on the first feature and property that differ."""
    assert [f["id"] for f in fast["features"]] == [f["id"] for f in slow["features"]]
    for a, b in zip(fast["features"], slow["features"], strict=True):
        assert a["geometry"] == b["geometry"], a["id"]
        for key in b["properties"].keys() | a["properties"].keys():
            assert (a["id"], key, a["properties"].get(key)) == \
                (b["id"], key, b["properties"].get(key))
    assert fast == slow


def _counts(body: dict) -> dict:
    return {"types": {o["value"]: o["count"] for o in body["types"]},
            "ranks": {o["value"]: o["count"] for o in body["ranks"]},
            "communes": {o["name"]: o["count"] for o in body["communes"]}}


def test_filter_counts_agree_with_the_generated_relics(client, db):
    before = _counts(client.get("/api/sites/filters").get_json())
    made = _generate(db, 240, seed=7)
    after = _counts(client.get("/api/sites/filters").get_json())
    public = [m for m in made if m["status"] == "published" and not m["sensitive"]]
    types = Counter(t for m in public for t in m["types"])
    ranks = Counter(m["rank"] for m in public if m["rank"])
    units = Counter(u for m in public for u in m["units"])
    names = dict(db.execute(text("SELECT id, name FROM admin_units WHERE code LIKE 'T9%'"))
                 .all())
    for code in TYPES:
        assert after["types"][code] - before["types"][code] == types[code]
    for code in RANKS[:-1]:
        assert after["ranks"][code] - before["ranks"][code] == ranks[code]
    assert {name: after["communes"][name] for name in names.values()} == \
        {names[u]: n for u, n in units.items()}
    assert sum(units.values()) > len(public)  # the former commune counted its relics too


def test_an_edit_reaches_the_cached_answers_at_once_and_304_until_then(app, client, db):
    reviewer = create_user(db, "scale-publisher", "pw-scale-publisher-1", "district_reviewer")
    hid = make_site(db, 107.5, 22.5, name="Đình Mới Công Bố", status="draft",
                    zone_radius_m=None)
    db.execute(text("UPDATE sites SET types = ARRAY['archaeological'] WHERE heritage_id = :h"),
               {"h": hid})
    db.flush()
    first = client.get("/api/sites/filters")
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    count = _counts(first.get_json())["types"]["archaeological"]
    home = client.get("/")
    assert home.status_code == 200 and home.headers["ETag"].startswith('W/"')
    # The same answers again: from the cache, and 304 to a client holding them.
    builds = app.extensions["gis_public_cache"].builds
    again = client.get("/api/sites/filters", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert client.get("/", headers={"If-None-Match": home.headers["ETag"]}).status_code == 304
    assert app.extensions["gis_public_cache"].builds == builds
    # Published through the service: the next answers count it, with new ETags.
    assert lifecycle.publish(db, reviewer, [hid]) == 1
    db.flush()
    fresh = client.get("/api/sites/filters", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != etag
    assert _counts(fresh.get_json())["types"]["archaeological"] == count + 1
    page = client.get("/", headers={"If-None-Match": home.headers["ETag"]})
    assert page.status_code == 200
    archaeological = vocab.label("relic_type", "archaeological", "vi")
    assert re.search(re.escape(archaeological) + r" \(" + re.escape(f"{count + 1:,}")
                     .replace(",", "[.,]") + r"\)", page.get_data(as_text=True))


# --- /sites a page at a time, the sitemap in files ---------------------------------------

def test_site_list_pages_through_every_relic_once_and_searches_without_diacritics(
        client, db, site_list_page):
    for i in range(7):
        make_site(db, 107.5, 22.5, name=f"Đình Trang Thử {i}", zone_radius_m=None)
    make_site(db, 107.5, 22.5, name="Đình Trang Nháp", status="draft", zone_radius_m=None)
    shown = db.scalars(text("""
        SELECT heritage_id FROM sites WHERE status = 'published' AND NOT sensitive
         ORDER BY lower(f_unaccent(name_vi)), heritage_id""")).all()
    listed, url, pages = [], "/sites", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        pages += 1
        listed += re.findall(r'<a href="/sites/(VN-[A-Z]+-[A-Z]+-\d+)">', html)
        total = f"{len(shown):,}".replace(",", ".")
        assert f"{total} di tích, xếp theo tên." in html
        following = re.search(r'<a href="(/sites\?after=[^"]+)" rel="next">Trang sau</a>', html)
        url = following.group(1) if following else None
    assert listed == list(shown) and pages > 1
    # Back from the last page: the page before it, in the same order.
    html = client.get(f"/sites?before={listed[-3]}").get_data(as_text=True)
    assert re.findall(r'<a href="/sites/(VN-[A-Z]+-[A-Z]+-\d+)">', html)[-1] == listed[-4]
    found = client.get("/sites?q=Da+Hoa").get_data(as_text=True)
    assert "Đa Hòa" in found
    assert client.get("/sites?after=VN-HY-DT-999999").status_code == 404


@pytest.fixture
def site_list_page(monkeypatch):
    from gis_app.web import public
    monkeypatch.setattr(public, "SITE_LIST_PAGE", 5)
    monkeypatch.setattr(public, "SITEMAP_RELICS_PER_FILE", 4)


def test_sitemap_index_lists_files_covering_every_public_relic_exactly_once(
        client, db, site_list_page):
    from xml.etree import ElementTree as ET
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    made = [make_site(db, 107.5, 22.5, name=f"Đình Sơ Đồ {i}", zone_radius_m=None,
                      status="draft" if i % 5 == 0 else "published", sensitive=i % 7 == 0)
            for i in range(11)]
    index = ET.fromstring(client.get("/sitemap.xml").data)
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    files = [m.findtext("s:loc", namespaces=ns) for m in index.findall("s:sitemap", ns)]
    relics: list[str] = []
    for loc in files[1:]:
        root = ET.fromstring(client.get(loc.removeprefix("http://localhost")).data)
        locs = [u.findtext("s:loc", namespaces=ns) for u in root.findall("s:url", ns)]
        assert 0 < len(locs) <= 2 * 4  # both languages of at most 4 relics
        relics += [m.group(1) for x in locs
                   if (m := re.search(r"/sites/([^?]+)\?lang=vi$", x))]
    public = db.scalars(text("SELECT heritage_id FROM sites WHERE status = 'published' "
                             "AND NOT sensitive ORDER BY heritage_id")).all()
    assert relics == list(public)  # each once, in order, nothing else
    hidden = [h for i, h in enumerate(made) if i % 5 == 0 or i % 7 == 0]
    assert hidden and not set(hidden) & set(relics)
    assert client.get(f"/sitemaps/relics-{len(files)}.xml").status_code == 404


def test_the_cached_home_page_keeps_each_host_s_own_links(client):
    a = client.get("/", base_url="http://a.example").get_data(as_text=True)
    b = client.get("/", base_url="http://b.example").get_data(as_text=True)
    assert '<link rel="canonical" href="http://a.example/?lang=vi">' in a
    assert '<link rel="canonical" href="http://b.example/?lang=vi">' in b
    assert "a.example" not in b
