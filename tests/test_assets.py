"""Assets for slow phones: compressed static files and pages, fingerprinted URLs cached
for a year, revalidation otherwise."""
from __future__ import annotations

import gzip
import hashlib
import json
import re

import brotli
from flask import Flask

from gis_app.assets import IMMUTABLE, StaticAssets, choose_encoding, fingerprint, fingerprint_tree
from gis_app.config import PROJECT_ROOT

STATIC = PROJECT_ROOT / "gis_app" / "static"


def test_static_javascript_is_served_gzip_compressed_when_asked(client):
    original = (STATIC / "js" / "heritage-map.js").read_bytes()
    response = client.get("/static/js/heritage-map.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert len(response.data) < len(original) / 2
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert gzip.decompress(response.data) == original


def test_brotli_when_the_browser_prefers_it_and_identity_otherwise(client):
    original = (STATIC / "vendor" / "leaflet-1.9.4" / "leaflet.js").read_bytes()
    path = "/static/vendor/leaflet-1.9.4/leaflet.js"
    br = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.headers["Content-Encoding"] == "br"
    assert brotli.decompress(br.data) == original
    gz = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert len(br.data) < len(gz.data) < len(original)
    plain = client.get(path, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == original


def test_fingerprinted_urls_in_the_map_page_are_cached_for_a_year(client):
    html = client.get("/sites/VN-HY-DT-000001").get_data(as_text=True)
    expected = hashlib.sha256((STATIC / "css" / "site.css").read_bytes()).hexdigest()[:12]
    assert f'href="/static/css/site.css?v={expected}"' in html
    linked = re.findall(r'(?:href|src)="(/static/[^"?]+)\?v=([0-9a-f]{12})"', html)
    assert ("/static/css/site.css", expected) in linked
    # The home map links its bundles (site.css is in home.css), fingerprinted too.
    home = client.get("/").get_data(as_text=True)
    bundles = re.findall(r'(?:href|src)="(/bundles/[^"?]+)\?v=([0-9a-f]{12})"', home)
    assert sorted(path for path, _ in bundles) == ["/bundles/home.css", "/bundles/home.js"]
    for path, version in linked + bundles:
        response = client.get(f"{path}?v={version}")
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == IMMUTABLE, path


def test_a_bundle_is_its_files_in_order_with_their_images_found(client):
    css = client.get("/bundles/home.css").get_data(as_text=True)
    site = (STATIC / "css" / "site.css").read_text(encoding="utf-8")
    assert css.index(site[:200]) < css.index("/* css/map.css */")
    # Leaflet's relative image URLs still find their files from /bundles/.
    assert "url(images/" not in css
    for ref in re.findall(r'url\("(\.\./static/[^"?]+)', css):
        assert client.get("/bundles/" + ref).status_code == 200, ref
    assert 'url("data:image/png;base64,' in css  # the small layer-control icon inline
    js = client.get("/bundles/home.js", headers={"Accept-Encoding": "br"})
    assert js.headers["Content-Encoding"] == "br"
    body = brotli.decompress(js.data).decode()
    assert body.index("/* vendor/leaflet-1.9.4/leaflet.js */") < \
        body.index("/* js/heritage-map.js */") < body.index("/* js/tourist-map.js */")
    assert client.get("/bundles/nothing.js").status_code == 404


def test_unversioned_or_stale_static_urls_revalidate(client):
    path = "/static/css/site.css"
    for url in (path, path + "?v=000000000000"):
        response = client.get(url, headers={"Accept-Encoding": "br"})
        assert response.headers["Cache-Control"] == "no-cache", url
        etag = response.headers["ETag"]
        again = client.get(url, headers={"Accept-Encoding": "br", "If-None-Match": etag})
        assert again.status_code == 304, url
    # A different encoding is a different representation: no false 304.
    other = client.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "gzip"


def test_fingerprint_changes_when_the_content_changes(tmp_path):
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "app.js"
    script.write_text("console.log('một');\n", encoding="utf-8")
    (tmp_path / "app.css").write_text("body { color: #222; }\n")
    before = fingerprint_tree(tmp_path)
    assert set(before) == {"js/app.js", "app.css"}
    assert before["js/app.js"] == hashlib.sha256(script.read_bytes()).hexdigest()[:12]
    script.write_text("console.log('hai');\n", encoding="utf-8")
    after = fingerprint_tree(tmp_path)
    assert after["js/app.js"] != before["js/app.js"]
    assert after["app.css"] == before["app.css"]
    assert fingerprint(script) == after["js/app.js"]

    # The url_for hook takes the hashes computed when the app starts.
    app = Flask(__name__, static_folder=str(tmp_path), static_url_path="/static")
    assets = StaticAssets(tmp_path)
    app.url_defaults(assets.add_fingerprint)
    with app.test_request_context("/"):
        from flask import url_for
        versioned = url_for("static", filename="js/app.js")
        assert versioned == f"/static/js/app.js?v={after['js/app.js']}"
        assert url_for("static", filename="nothing.js") == "/static/nothing.js"


def test_pages_and_geojson_are_compressed(client):
    page = client.get("/sites", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert "<html" in gzip.decompress(page.data).decode()
    geojson = client.get("/api/layers/protection_zones.geojson",
                         headers={"Accept-Encoding": "gzip, deflate, br"})
    assert geojson.status_code == 200
    assert geojson.headers["Content-Encoding"] == "br"
    body = brotli.decompress(geojson.data)
    features = json.loads(body)["features"]
    assert features and len(geojson.data) < len(body) / 3
    plain = client.get("/api/layers/protection_zones.geojson")
    assert "Content-Encoding" not in plain.headers
    assert json.loads(plain.data)["features"] == features
    sitemap = client.get("/sitemaps/relics-1.xml", headers={"Accept-Encoding": "gzip"})
    assert sitemap.headers["Content-Encoding"] == "gzip"


def test_accept_encoding_preferences():
    assert choose_encoding("gzip, deflate, br, zstd") == "br"
    assert choose_encoding("gzip") == "gzip"
    assert choose_encoding("br;q=0.5, gzip") == "gzip"
    assert choose_encoding("br;q=0, gzip;q=0") is None
    assert choose_encoding("*") == "br"
    assert choose_encoding("") is None
    assert choose_encoding("identity") is None
