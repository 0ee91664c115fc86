"""Stored zone checks and their reports (HTML, PDF), repeating a check, access to
reports made with officials' access, and the bulk check compared with direct PostGIS
ST_Intersects on generated parcels."""
from __future__ import annotations

import csv
import html as html_module
import io
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, Polygon, box, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError
from gis_app.services import zone_reports
from gis_app.services.accounts import create_user
from gis_app.services.zone_check import RULES
from tests import surveyfiles as sf
from tests.factories import make_site

DEMO_RELIC = "VN-HY-DT-000001"
REPORT_URL = re.compile(r"/planning/report/([0-9a-f]{32})$")
NUMBER = re.compile(r"KTBV-\d{4}-\d{6}")


@pytest.fixture(autouse=True)
def uploads(app, tmp_path: Path):
    """Bulk results go to a scratch UPLOAD_DIR."""
    old = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = old


def zone_i_parcel(db: Session, heritage_id: str = DEMO_RELIC, half_m: float = 5) -> dict:
    """A small square (GeoJSON) around a point inside the relic's zone I."""
    x, y = db.execute(text("""
        SELECT ST_X(p), ST_Y(p) FROM (
          SELECT ST_PointOnSurface(z.geom) AS p
            FROM protection_zones z JOIN sites s ON s.id = z.site_id
           WHERE s.heritage_id = :h AND z.zone = 'I' LIMIT 1) q"""), {"h": heritage_id}).one()
    d = half_m / 104_000
    return mapping(box(x - d, y - d, x + d, y + d))


def csrf_of(client, path: str = "/planning/bulk") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on " + path
    return match.group(1)


def make_report(client, geometry: dict, **extra: str) -> str:
    """Make a report through the form; its link token."""
    response = client.post("/planning/report", data={
        "geometry": json.dumps(geometry), "csrf_token": csrf_of(client), **extra})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = REPORT_URL.search(response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def number_of(db: Session, token: str) -> str:
    """The readable number (KTBV-…) of the report at `token`."""
    return db.scalar(text("SELECT reference FROM zone_checks WHERE token = :t"), {"t": token})


def relic_name(db: Session, heritage_id: str = DEMO_RELIC) -> str:
    return db.scalar(text("SELECT name_vi FROM sites WHERE heritage_id = :h"),
                     {"h": heritage_id})


def test_report_over_zone_one_shows_zone_rules_and_map(client, db: Session) -> None:
    reference = make_report(client, zone_i_parcel(db), date="2026-01-15")
    html = client.get(f"/planning/report/{reference}").get_data(as_text=True)
    assert "Số phiếu " + NUMBER.fullmatch(number_of(db, reference)).group(0) in html
    assert f"http://localhost/planning/report/{reference}</dd>" in html  # the printed link
    assert "Khu vực bảo vệ I" in html
    assert RULES["I"]["vi"] in html and "Điều 32" in html
    assert relic_name(db) in html
    assert "15/01/2026" in html  # the "as of" date
    assert "<svg" in html and 'class="scale-bar"' in html and 'class="north-arrow"' in html
    assert "http://" not in html.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org/2000/svg", "")
    stored = db.execute(text("SELECT result, full_access, role FROM zone_checks "
                             "WHERE token = :r"), {"r": reference}).one()
    assert {h["zone"] for h in stored.result["hits"] if h["heritage_id"] == DEMO_RELIC} >= {"I"}
    assert stored.full_access is False and stored.role is None
    english = client.get(f"/planning/report/{reference}?lang=en").get_data(as_text=True)
    assert "Protection zone I" in english and RULES["I"]["en"] in html_module.unescape(english)


def test_a_report_pdf_is_rendered_once_then_served_from_the_cache(
        app, client, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "pdf-cache"
    monkeypatch.setitem(app.config, "PDF_CACHE_DIR", str(cache))
    reference = make_report(client, zone_i_parcel(db))
    first = client.get(f"/planning/report/{reference}.pdf")
    assert first.status_code == 200 and len(list(cache.glob("*.pdf"))) == 1
    (kept,) = cache.glob("*.pdf")
    kept.write_bytes(first.data + b"%cached")  # served from here, not rendered again
    second = client.get(f"/planning/report/{reference}.pdf")
    assert second.data == first.data + b"%cached"
    english = client.get(f"/planning/report/{reference}.pdf?lang=en")
    assert english.data.startswith(b"%PDF") and len(list(cache.glob("*.pdf"))) == 2


def test_pdf_renders_vietnamese_text(client, db: Session, tmp_path: Path) -> None:
    reference = make_report(client, zone_i_parcel(db))
    response = client.get(f"/planning/report/{reference}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    words = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout
    assert number_of(db, reference) in words
    assert reference in words.replace("\n", "").replace(" ", "")  # the link, maybe wrapped
    assert relic_name(db) in words  # "Đền Đa Hòa", diacritics intact
    assert "Khu vực bảo vệ I" in words
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True)
    from PIL import Image

    (png,) = tmp_path.glob("page*.png")
    pixels = np.asarray(Image.open(png).convert("L"))
    assert (pixels < 128).mean() > 0.005  # text and map, not a blank page


def test_repeat_creates_a_new_linked_reference(client, db: Session) -> None:
    first = make_report(client, zone_i_parcel(db), date="2020-01-01")
    html = client.get(f"/planning/report/{first}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(f"/planning/report/{first}/repeat", data={"csrf_token": token})
    assert response.status_code == 303
    second = REPORT_URL.search(response.headers["Location"]).group(1)
    assert second != first
    linked = db.scalar(text("""SELECT o.token FROM zone_checks n
                                 JOIN zone_checks o ON o.id = n.repeated_from
                                WHERE n.token = :r"""), {"r": second})
    assert linked == first
    page = client.get(f"/planning/report/{second}").get_data(as_text=True)
    assert f'href="/planning/report/{first}">{number_of(db, first)}</a>' in page
    assert "Thay đổi so với " + number_of(db, first) in page


def test_repeat_lists_zones_added_and_removed() -> None:
    hit = {"heritage_id": "VN-HY-DT-000001", "zone": "I", "overlap_m2": 10.0,
           "overlap_pct": 50.0}
    changes = zone_reports.compare_checks(
        {"hits": [hit], "data_version": 1},
        {"hits": [dict(hit, overlap_m2=12.0), dict(hit, zone="II")], "data_version": 2})
    assert [h["zone"] for h in changes.added] == ["II"] and changes.removed == []
    assert changes.changed[0]["before_m2"] == 10.0 and changes.data_changed


def test_unknown_link_is_404(client) -> None:
    for key in ("0" * 32, "KTBV-2026-999999-x", "nothing"):
        response = client.get(f"/planning/report/{key}", headers={"Accept-Language": "vi"})
        assert response.status_code == 404
        assert "Không có phiếu kiểm tra nào ở đường dẫn này" in response.get_data(as_text=True)


def test_the_public_cannot_open_reports_by_their_number(client, db: Session) -> None:
    token = make_report(client, zone_i_parcel(db))
    number = number_of(db, token)
    assert NUMBER.fullmatch(number) and len(token) == 32
    # The next number is the obvious guess: it opens nothing, and says nothing more
    # than an unknown number does.
    known = client.get(f"/planning/report/{number}", headers={"Accept-Language": "en"})
    unknown = client.get("/planning/report/KTBV-2026-999999", headers={"Accept-Language": "en"})
    pdf = client.get(f"/planning/report/{number}.pdf")
    assert known.status_code == unknown.status_code == pdf.status_code == 404
    assert "There is no zone check at this link" in known.get_data(as_text=True)
    # The same page, but for the address itself (in the language switch link).
    assert known.get_data(as_text=True).replace(number, "KTBV-2026-999999") == \
        unknown.get_data(as_text=True)
    # The repeat form by number is refused too (no new check is stored).
    count = db.scalar(text("SELECT count(*) FROM zone_checks"))
    html = client.get(f"/planning/report/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    assert client.post(f"/planning/report/{number}/repeat",
                       data={"csrf_token": csrf}).status_code == 404
    assert db.scalar(text("SELECT count(*) FROM zone_checks")) == count


def test_staff_open_a_report_by_its_number(client, db: Session, auth) -> None:
    token = make_report(client, zone_i_parcel(db))  # made by a member of the public
    number = number_of(db, token)
    create_user(db, "thamdinh2", "mat-khau-dai-1234", "district_reviewer")
    db.commit()
    assert auth.login("thamdinh2", "mat-khau-dai-1234").status_code == 302
    response = client.get(f"/planning/report/{number.lower()}?lang=en")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/planning/report/{token}?lang=en"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reference no. " + number in page
    pdf = client.get(f"/planning/report/{number}.pdf")
    assert pdf.status_code == 302 and pdf.headers["Location"] == f"/planning/report/{token}.pdf"
    missing = client.get("/planning/report/KTBV-2026-999999?lang=vi")
    assert missing.status_code == 404
    assert "Không có phiếu kiểm tra nào mang số KTBV-2026-999999" in missing.get_data(
        as_text=True)


def test_bad_geometry_gives_400_with_the_reason(client) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[105.93, 20.79], [105.94, 20.80],
                                                  [105.94, 20.79], [105.93, 20.80],
                                                  [105.93, 20.79]]]}
    response = client.post("/planning/report", data={
        "geometry": json.dumps(bowtie), "csrf_token": csrf_of(client)},
        headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "Self-intersection" in response.get_data(as_text=True)
    nojson = client.post("/planning/report?lang=en", data={
        "geometry": "{not json", "csrf_token": csrf_of(client)})
    assert nojson.status_code == 400 and "not GeoJSON" in nojson.get_data(as_text=True)


@pytest.mark.parametrize("depth", [950, 5000])
def test_deeply_nested_geometry_gives_400_not_500(client, depth: int) -> None:
    """Thousands of "[" overflowed Python's recursion limit in the JSON parser."""
    nested = '{"type": "Point", "coordinates": ' + "[" * depth + "]" * depth + "}"
    response = client.post("/planning/report?lang=en", data={
        "geometry": nested, "csrf_token": csrf_of(client)})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "not GeoJSON" in body or "not a GeoJSON geometry" in body


def test_full_access_report_is_refused_to_the_public(client, db: Session, auth) -> None:
    parcel = shapely.geometry.shape(zone_i_parcel(db))
    make_site(db, parcel.centroid.x, parcel.centroid.y, name="Di chỉ khảo cổ mật",
              sensitive=True)
    create_user(db, "thamdinh", "mat-khau-dai-1234", "district_reviewer")
    db.commit()  # a savepoint: the test's transaction is still rolled back after
    assert auth.login("thamdinh", "mat-khau-dai-1234").status_code == 302
    reference = make_report(client, mapping(parcel))
    staff_view = client.get(f"/planning/report/{reference}").get_data(as_text=True)
    assert "Di chỉ khảo cổ mật" in staff_view
    client.post("/logout", data={"csrf_token": auth.csrf(f"/planning/report/{reference}")})
    response = client.get(f"/planning/report/{reference}", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "sign in with a reviewer account" in body and "Di chỉ khảo cổ mật" not in body
    assert client.get(f"/planning/report/{reference}.pdf").status_code == 403
    public = make_report(client, mapping(parcel))
    assert "Di chỉ khảo cổ mật" not in client.get(f"/planning/report/{public}").get_data(
        as_text=True)


# --- bulk ------------------------------------------------------------------------------

def parcels_csv(db: Session, count: int = 200) -> tuple[bytes, list[Point]]:
    """`count` points: a third inside demo zones I, a third near zones, a third far."""
    centres = db.execute(text("""
        SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p
          FROM protection_zones WHERE zone = 'I' ORDER BY id) q""")).all()
    rng = np.random.default_rng(7)
    points = []
    for i in range(count):
        cx, cy = centres[i % len(centres)]
        spread = (0.00002, 0.002, 0.05)[i % 3]
        points.append(Point(cx + rng.uniform(-spread, spread),
                            min(max(cy + rng.uniform(-spread, spread), 20.5), 21.2)))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["ma_thua", "chu_so_huu", "lon", "lat"])
    for i, p in enumerate(points, start=1):
        writer.writerow([f"T{i:04d}", "Nguyễn Văn Định", f"{p.x:.7f}", f"{p.y:.7f}"])
    return out.getvalue().encode("utf-8"), points


def expected_hits(db: Session, geometries: list) -> list[tuple[str, str]]:
    """(zones "I;II", relics) per parcel straight from PostGIS, public view."""
    out = []
    for g in geometries:
        rows = db.execute(text("""
            SELECT z.zone, s.heritage_id FROM protection_zones z JOIN sites s ON s.id = z.site_id
             WHERE ST_Intersects(z.geom, ST_GeomFromText(:w, 4326))
               AND s.status = 'published' AND NOT s.sensitive
               AND (z.valid_from IS NULL OR z.valid_from <= :today)
               AND (z.valid_to IS NULL OR z.valid_to >= :today)"""),
            {"w": g.wkt, "today": today_in_vietnam()}).all()
        zones = [z for z in ("I", "II", "buffer") if z in {r[0] for r in rows}]
        out.append((";".join(zones), ";".join(sorted({r[1] for r in rows}))))
    return out


def post_bulk(client, name: str, body: bytes, **extra: str):
    return client.post("/planning/bulk?lang=en", data={
        "file": (io.BytesIO(body), name), "csrf_token": csrf_of(client), **extra},
        content_type="multipart/form-data")


def test_bulk_csv_matches_postgis(client, db: Session, tmp_path: Path) -> None:
    body, points = parcels_csv(db)
    response = post_bulk(client, "thua_dat.csv", body)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert "Parcels checked: 200" in html
    expected = expected_hits(db, points)
    assert f"Touching a protection zone I: {sum('I' in z.split(';') for z, _ in expected)}" \
        in html
    assert 0 < sum(bool(z) for z, _ in expected) < 200  # some in, some out
    links = re.findall(r'href="(/planning/bulk/[^"]+\.(?:csv|gpkg))"', html)
    assert len(links) == 2
    got_csv = client.get(links[0])
    assert got_csv.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got_csv.data.decode("utf-8-sig"))))
    assert [r["ma_thua"] for r in rows] == [f"T{i:04d}" for i in range(1, 201)]
    assert rows[0]["chu_so_huu"] == "Nguyễn Văn Định"
    assert [(r["zones"], r["relics"]) for r in rows] == expected
    assert all(r["check_date"] for r in rows) and all(r["nearest_relic"] for r in rows)
    inside = next(r for r in rows if "I" in r["zones"].split(";"))
    assert float(inside["distance_m"]) >= 0
    gpkg = client.get(links[1])
    assert gpkg.status_code == 200
    saved = tmp_path / "result.gpkg"
    saved.write_bytes(gpkg.data)
    frame = pyogrio.read_dataframe(saved)
    assert list(zip(frame["zones"].fillna(""), frame["relics"].fillna(""),
                    strict=True)) == expected
    assert frame.crs.to_epsg() == 4326


def test_bulk_zipped_vn2000_shapefile_names_the_zones_hit(client, db: Session,
                                                           tmp_path: Path) -> None:
    """Surveys arrive as zipped shapefiles in VN-2000 TM-3 (EPSG:9209) with .prj and .cpg."""
    centres = db.execute(text("""
        SELECT s.heritage_id, ST_X(p), ST_Y(p) FROM (
          SELECT z.site_id, ST_PointOnSurface(z.geom) AS p FROM protection_zones z
           WHERE z.zone = 'I' ORDER BY z.id LIMIT 3) q JOIN sites s ON s.id = q.site_id""")).all()
    d = 5 / 104_000  # 5 m squares, well inside zone I
    parcels = [box(x - d, y - d, x + d, y + d) for _hid, x, y in centres]
    parcels.append(box(105.93, 20.79, 105.93 + d, 20.79 + d))  # far from every zone
    ring_tm3 = [Polygon([sf.tm3(lon, lat) for lon, lat in p.exterior.coords]) for p in parcels]
    records = [{"SO_THUA": n, "CHU_SD": "Nguyễn Thị Hòa"} for n in range(1, len(parcels) + 1)]
    shp = sf.write_shapefile(tmp_path / "src", "thua_dat", records, ring_tm3, epsg=9209,
                             cpg="UTF-8")
    archive = sf.zip_files(tmp_path / "thua_dat.zip", sf.shapefile_parts(shp))
    assert {p.suffix for p in sf.shapefile_parts(shp)} >= {".prj", ".cpg"}

    response = post_bulk(client, "thua_dat.zip", archive.read_bytes())

    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert f"Parcels checked: {len(parcels)}" in html
    assert "EPSG:9209" in html
    expected = expected_hits(db, parcels)
    assert [z for z, _ in expected][-1] == ""
    assert all("I" in z.split(";") for z, _ in expected[:-1])
    assert {hid for hid, _x, _y in centres} <= {r for _, rs in expected for r in rs.split(";")}
    links = re.findall(r'href="(/planning/bulk/[^"]+\.(?:csv|gpkg))"', html)
    assert len(links) == 2
    rows = list(csv.DictReader(io.StringIO(client.get(links[0]).data.decode("utf-8-sig"))))
    assert [int(r["SO_THUA"]) for r in rows] == [1, 2, 3, 4]
    assert {r["CHU_SD"] for r in rows} == {"Nguyễn Thị Hòa"}
    assert [(r["zones"], r["relics"]) for r in rows] == expected
    saved = tmp_path / "result.gpkg"
    saved.write_bytes(client.get(links[1]).data)
    frame = pyogrio.read_dataframe(saved)
    assert list(zip(frame["zones"].fillna(""), frame["relics"].fillna(""),
                    strict=True)) == expected


def test_bulk_polygons_geojson_match_postgis(db: Session, tmp_path: Path) -> None:
    centres = db.execute(text("""
        SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p
          FROM protection_zones WHERE zone = 'II' ORDER BY id) q""")).all()
    polygons = [box(x - 0.0003 + i * 0.0002, y - 0.0003, x + i * 0.0002, y)
                for i, (x, y) in enumerate(centres * 3)]
    path = tmp_path / "thua.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"so_thua": i}, "geometry": mapping(p)}
        for i, p in enumerate(polygons)]}), encoding="utf-8")
    result = zone_reports.bulk_check(db, path, None, out_dir=tmp_path / "out")
    assert result.checked == len(polygons)
    frame = pyogrio.read_dataframe(result.files["gpkg"])
    assert list(zip(frame["zones"].fillna(""), frame["relics"].fillna(""),
                    strict=True)) == expected_hits(db, polygons)
    assert (frame["max_overlap_pct"] > 0).any()


def test_bulk_file_with_a_broken_row_gives_no_output(client, db: Session,
                                                     uploads: Path) -> None:
    body, _points = parcels_csv(db, 20)
    lines = body.decode().splitlines()
    lines[5] = "T0005,Trần Thị B,abc,"  # row 5: no usable coordinates
    response = post_bulk(client, "thua_loi.csv", "\n".join(lines).encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "1 parcel(s) cannot be checked, so nothing was checked: row 5" in html
    assert "/planning/bulk/" not in html.replace('action="/planning/bulk', "")
    assert not any(p.is_file() for p in (uploads / "bulk").rglob("*"))


def test_bulk_limit(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("lon,lat\n" + "105.95,20.85\n" * (zone_reports.BULK_LIMIT + 1))
    with pytest.raises(InputError, match="at most 10,000 parcels"):
        zone_reports.bulk_check(db, path, None, out_dir=tmp_path / "out")


def test_bulk_of_10000_parcels_takes_seconds(db: Session, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(105.88, 106.08, 10_000), rng.uniform(20.72, 20.94, 10_000)
    path = tmp_path / "many.csv"
    path.write_text("lon,lat\n" + "".join(f"{x:.6f},{y:.6f}\n" for x, y in zip(xs, ys,
                                                                            strict=True)))
    started = time.perf_counter()
    result = zone_reports.bulk_check(db, path, None, out_dir=tmp_path / "out")
    elapsed = time.perf_counter() - started
    assert result.checked == 10_000
    assert elapsed < 30, f"{elapsed:.1f} s"
    shutil.rmtree(tmp_path / "out")


def test_far_parcel_names_the_nearest_relic(client, db: Session) -> None:
    far = mapping(Point(105.93, 20.79).buffer(0.0001, 4))
    reference = make_report(client, far)
    html = client.get(f"/planning/report/{reference}").get_data(as_text=True)
    assert "Thửa đất không chạm khu vực bảo vệ nào" in html
    nearest = db.execute(text("""
        SELECT name_vi, heritage_id FROM sites WHERE status = 'published' AND NOT sensitive
         ORDER BY geom <-> ST_SetSRID(ST_MakePoint(105.93, 20.79), 4326) LIMIT 1""")).one()
    assert f"Di tích gần nhất: {nearest.name_vi} ({nearest.heritage_id})" in html


def test_map_of_points_and_lines(db: Session) -> None:
    centre = shapely.geometry.shape(zone_i_parcel(db)).centroid
    for parcel in (shapely.MultiPoint([centre, (centre.x + 0.001, centre.y)]),
                   shapely.LineString([centre, (centre.x + 0.001, centre.y + 0.001)])):
        record = zone_reports.create_check(db, parcel, None, None, None)
        svg = zone_reports.report_svg(db, record)
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert relic_name(db) in svg and 'class="scale-bar"' in svg
