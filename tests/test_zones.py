"""Protection zones as chains of dated versions (services/zones.py, web/zones.py): a new
boundary or decision closes the version in force and adds a new one, so that the map,
the relic's page and the zone check show the new state while a check as of last month
still finds the old zone; the survey re-import versions zones the same way and its undo
still works; who may save versions; the checks of a boundary."""
from __future__ import annotations

import json
import os
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box, mapping
from shapely.geometry import shape as from_geojson
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import ImportFailed, InputError, PermissionDenied
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.numbers import both
from gis_app.services import lifecycle, priorities, zone_reports, zones
from gis_app.services.accounts import create_user
from gis_app.services.imports import undo_import
from tests import surveyfiles as sf
from tests.factories import forget_sites, make_site

PASSWORD = "a long enough password"
LON, LAT = 105.925, 20.805  # away from the demo relics and other tests' relics
DEMO_SITE = "VN-HY-DT-000001"  # Đền Đa Hòa, with zones I and II in the demo set
TO_UTM = Transformer.from_crs(4326, 32648, always_xy=True)
TO_LONLAT = Transformer.from_crs(32648, 4326, always_xy=True)


def square(cx: float, cy: float, half: float, lon: float = LON, lat: float = LAT) -> Polygon:
    """A square of side 2 * half metres centred cx, cy metres east/north of lon/lat."""
    x, y = TO_UTM.transform(lon, lat)
    return Polygon([TO_LONLAT.transform(x + cx + sx * half, y + cy + sy * half)
                    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])


@pytest.fixture
def reviewer(db: Session):
    return create_user(db, "zones-reviewer", PASSWORD, "district_reviewer")


@pytest.fixture
def relic(db: Session) -> str:
    """A published relic whose zones I (100 m square) and II (300 m) are in force since
    1 Jan 2020 under decision 12/QĐ-UBND."""
    hid = make_site(db, LON, LAT, name="Đình Phiên Bản", zone_radius_m=None)
    for zone, half in (("I", 50), ("II", 150)):
        db.execute(text("""
            INSERT INTO protection_zones (site_id, zone, geom, decision_no, decision_date,
                                          valid_from, accuracy)
            SELECT id, :z, ST_Multi(ST_GeomFromText(:g, 4326)), '12/QĐ-UBND',
                   DATE '2019-12-20', DATE '2020-01-01', 'surveyed'
              FROM sites WHERE heritage_id = :h"""),
            {"z": zone, "g": square(0, 0, half).wkt, "h": hid})
    return hid


def chain(db: Session, hid: str, zone: str) -> list[dict]:
    return [dict(r) for r in db.execute(text("""
        SELECT z.id, z.valid_from, z.valid_to, z.decision_no, ST_AsText(z.geom) AS wkt
          FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.heritage_id = :h AND z.zone = :z ORDER BY z.valid_from NULLS FIRST"""),
        {"h": hid, "z": zone}).mappings()]


def hits(client, parcel: Polygon, on: date | None = None) -> set[tuple[str, str]]:
    query = f"?date={on.isoformat()}" if on else ""
    answer = client.post(f"/api/zone-check{query}", json=mapping(parcel))
    assert answer.status_code == 200, answer.get_json()
    return {(h["heritage_id"], h["zone"]) for h in answer.get_json()["results"][0]["hits"]}


# --- the chain of versions --------------------------------------------------------------

def test_a_new_boundary_closes_the_version_in_force_and_keeps_it(db, reviewer, relic):
    today = today_in_vietnam()
    before = chain(db, relic, "II")
    saved = zones.save_version(db, reviewer, relic, zone="II", geometry=square(100, 0, 200),
                               valid_from=today - timedelta(days=10),
                               decision_no="45/QĐ-UBND", decision_date=today - timedelta(days=12))
    old, new = chain(db, relic, "II")
    assert saved.closed_id == old["id"] == before[0]["id"] and saved.id == new["id"]
    # The old version is untouched but for its end, the day before the new one starts.
    assert old["wkt"] == before[0]["wkt"] and old["decision_no"] == "12/QĐ-UBND"
    assert old["valid_to"] == today - timedelta(days=11)
    assert (new["valid_from"], new["valid_to"], new["decision_no"]) == \
        (today - timedelta(days=10), None, "45/QĐ-UBND")
    (change,) = db.execute(text("""
        SELECT before, after FROM revisions WHERE table_name = 'protection_zones'
           AND row_id = :id AND action = 'update'"""), {"id": str(old["id"])}).all()
    assert {k for k in change.after if change.after[k] != change.before[k]} == {"valid_to"}

    now = zones.relic_zones(db, relic)
    assert {(v.zone, v.id) for v in now.current} == {("I", chain(db, relic, "I")[0]["id"]),
                                                    ("II", new["id"])}
    month_ago = zones.relic_zones(db, relic, today - timedelta(days=30))
    assert ("II", old["id"]) in {(v.zone, v.id) for v in month_ago.current}
    assert [v.id for v in now.versions if v.zone == "II"] == [new["id"], old["id"]]
    assert saved.warnings == []


def test_a_check_as_of_last_month_finds_the_old_zone_and_today_the_new(
        client, db, reviewer, relic):
    today = today_in_vietnam()
    # The new zone II lies 250 m further east: a parcel 110 m west of the relic was in
    # the old zone II only.
    zones.save_version(db, reviewer, relic, zone="II", geometry=square(100, 0, 200),
                       valid_from=today - timedelta(days=5), decision_no="45/QĐ-UBND")
    parcel = square(-130, 0, 10)
    last_month = today - timedelta(days=30)
    assert (relic, "II") in hits(client, parcel, last_month)
    assert (relic, "II") not in hits(client, parcel)
    assert (relic, "II") not in hits(client, parcel, today - timedelta(days=5))
    # ...and the day before the new version, the old one still holds.
    assert (relic, "II") in hits(client, parcel, today - timedelta(days=6))
    # The stored report of a check as of last month says so too, and so does its map.
    record = zone_reports.create_check(db, parcel, last_month, None, None)
    assert (relic, "II") in {(h["heritage_id"], h["zone"]) for h in record.result["hits"]}
    assert "Đình Phiên Bản – II" in zone_reports.report_svg(db, record)


def test_the_map_the_relic_page_and_priorities_show_only_versions_in_force(
        client, db, reviewer, relic):
    today = today_in_vietnam()
    zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 180),
                       valid_from=today, decision_no="45/QĐ-UBND")
    # A buffer zone decided for next week is not in force yet.
    zones.save_version(db, reviewer, relic, zone="buffer", geometry=square(0, 0, 400),
                       valid_from=today + timedelta(days=7), decision_no="46/QĐ-UBND")
    minx, miny, maxx, maxy = square(0, 0, 500).bounds
    layer = client.get(f"/api/layers/protection_zones.geojson?bbox={minx},{miny},{maxx},{maxy}")
    shown = {(f["properties"]["zone"], f["properties"]["decision_no"])
             for f in layer.get_json()["features"]
             if f["properties"]["heritage_id"] == relic}
    assert shown == {("I", "12/QĐ-UBND"), ("II", "45/QĐ-UBND")}

    page = client.get(f"/sites/{relic}").get_data(as_text=True)
    table = page[page.index('<table class="zones">'):]
    table = table[:table.index("</table>")]
    assert "45/QĐ-UBND" in table and "46/QĐ-UBND" not in table and "Vùng đệm" not in table

    # A relic whose only zone starts next week has no zone today (a priority reason).
    other = make_site(db, LON + 0.02, LAT, name="Miếu Chưa Khoanh", zone_radius_m=None)
    zones.save_version(db, reviewer, other, zone="I",
                       geometry=square(0, 0, 40, LON + 0.02, LAT),
                       valid_from=today + timedelta(days=7))
    items = {i["heritage_id"]: i for i in priorities.priority_list(db)}
    assert "no_zone" in {r["code"] for r in items[other]["reasons"]}
    assert "no_zone" not in {r["code"] for r in items[relic]["reasons"]}


def test_versions_must_move_forward_and_change_something(db, reviewer, relic):
    with pytest.raises(InputError, match=r"Protection zone II of VN-HY-DT-\d+ has a version "
                       r"in force from 2020-01-01; a new version must start after it "
                       r"\(from 2020-01-02 on\)") as refused:
        zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 200),
                           valid_from=date(2020, 1, 1))
    assert "phải bắt đầu sau ngày đó (từ 02/01/2020)" in refused.value.message_vi
    with pytest.raises(InputError, match="same boundary and decision"):
        zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 150),
                           valid_from=date(2024, 1, 1), decision_no="12/QĐ-UBND",
                           decision_date=date(2019, 12, 20), accuracy="surveyed")
    tomorrow = today_in_vietnam() + timedelta(days=1)
    with pytest.raises(InputError, match="is in the future"):
        zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 200),
                           valid_from=date(2024, 1, 1), decision_date=tomorrow)
    with pytest.raises(InputError, match="Choose the zone"):
        zones.save_version(db, reviewer, relic, zone="III", geometry=square(0, 0, 200),
                           valid_from=date(2024, 1, 1))
    with pytest.raises(InputError, match="Give the date the zone is in force from"):
        zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 200),
                           valid_from=None)
    editor = create_user(db, "zones-editor", PASSWORD, "commune_editor", unit_codes=[
        db.scalar(text("SELECT code FROM admin_units WHERE level = 'commune' "
                       "AND valid_to IS NULL ORDER BY code LIMIT 1"))])
    with pytest.raises(PermissionDenied):
        zones.save_version(db, editor, relic, zone="II", geometry=square(0, 0, 200),
                           valid_from=date(2024, 1, 1))
    assert len(chain(db, relic, "II")) == 1
    # A new decision for the same boundary is a new version.
    zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 150),
                       valid_from=date(2024, 1, 1), decision_no="99/QĐ-UBND",
                       decision_date=date(2023, 12, 1), accuracy="surveyed")
    assert [v["decision_no"] for v in chain(db, relic, "II")] == ["12/QĐ-UBND", "99/QĐ-UBND"]


def test_the_boundary_is_checked_and_repaired_with_a_warning(db, reviewer, relic):
    x0, y0, x1, y1 = square(0, 0, 200).bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    saved = zones.save_version(db, reviewer, relic, zone="II", geometry=bowtie,
                               valid_from=date(2024, 1, 1))
    assert any("crossed itself" in en and "tự cắt nhau" in vi for en, vi in saved.warnings)
    assert db.scalar(text("SELECT ST_IsValid(geom) AND ST_GeometryType(geom) = "
                          "'ST_MultiPolygon' FROM protection_zones WHERE id = :i"),
                     {"i": saved.id})
    for shape, message in (
            (LineString([(x0, y0), (x1, y1)]), "A zone is an area"),
            (box(2.0, 48.0, 2.1, 48.1), "outside Vietnam"),
            (Polygon([(x0, y0), (x0 + 1e-7, y0), (x0, y0 + 1e-7)]), "no area"),
            (box(105.5, 20.5, 106.5, 21.5), "a relic's zone is smaller than 50 km²")):
        with pytest.raises(InputError, match=message):
            zones.save_version(db, reviewer, relic, zone="II", geometry=shape,
                               valid_from=date(2025, 1, 1))
    with pytest.raises(InputError, match="Draw the zone on the map"):
        zones.read_zone_geometry("")
    with pytest.raises(InputError, match="not a GeoJSON polygon"):
        zones.read_zone_geometry('{"type": "Polygon", "coordinates": "x"}')


def test_zone_i_outside_zone_ii_is_saved_with_a_warning(db, reviewer, relic):
    saved = zones.save_version(db, reviewer, relic, zone="I", geometry=square(120, 0, 50),
                               valid_from=date(2024, 6, 1))
    (en, vi), = saved.warnings
    # 20 m of the 100 m square lie east of zone II: about 2,000 m², as PostGIS measures it.
    outside = db.scalar(text("""
        SELECT ST_Area(ST_Difference(i.geom, ii.geom)::geography)
          FROM protection_zones i, protection_zones ii
         WHERE i.id = :i AND ii.id = :ii"""),
        {"i": saved.id, "ii": chain(db, relic, "II")[0]["id"]})
    assert 1990 < outside < 2010
    m2_en, m2_vi = both(outside, 0)
    assert en.startswith(f"Zone I reaches {m2_en} m² outside zone II from 2024-06-01")
    assert vi.startswith(f"Khu vực I vượt ra ngoài khu vực II {m2_vi} m² từ 01/06/2024")


def test_retiring_a_relic_ends_its_zones_even_one_starting_today(db, reviewer, relic):
    today = today_in_vietnam()
    zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 200),
                       valid_from=today)
    lifecycle.retire(db, reviewer, relic, "Đã bị phá dỡ")
    # The version that was to start today never came into force; the one before ends
    # yesterday and stays for checks of earlier dates.
    (old,) = chain(db, relic, "II")
    assert old["valid_from"] == date(2020, 1, 1) and old["valid_to"] == today - timedelta(1)
    with pytest.raises(InputError, match="no longer in the register"):
        zones.save_version(db, reviewer, relic, zone="II", geometry=square(0, 0, 220),
                           valid_from=today + timedelta(days=1))


# --- the survey re-import ---------------------------------------------------------------

def zone_file(tmp_path: Path, records: list[dict], half: float = 20.0) -> Path:
    x, y = sf.tm3(105.9405, 20.8585)
    ring = Polygon([(x - half, y - half), (x + half, y - half), (x + half, y + half),
                    (x - half, y + half)])
    shp = sf.write_shapefile(tmp_path, "kvbv", records, [ring] * len(records))
    return sf.zip_files(tmp_path / f"kvbv-{half:g}.zip", sf.shapefile_parts(shp))


def import_zones(db: Session, path: Path):
    return run_import(db, path, ImportOptions(layer="protection_zones",
                                              preset="khoanh-vung-bao-ve"))


def test_a_zone_reimport_makes_a_new_version_and_its_undo_reopens_the_old(
        client, db, tmp_path: Path):
    today = today_in_vietnam()
    (old,) = [v for v in chain(db, DEMO_SITE, "I") if v["valid_to"] is None]
    records = sf.zone_records([DEMO_SITE])  # decision 12/QĐ-UBND, no valid-from column
    result = import_zones(db, zone_file(tmp_path, records))
    assert (result.counts["inserted"], result.counts["updated"]) == (0, 1)
    before_new, new = chain(db, DEMO_SITE, "I")[-2:]
    assert before_new["id"] == old["id"] and before_new["wkt"] == old["wkt"]
    assert before_new["valid_to"] == today - timedelta(days=1)
    assert (new["valid_from"], new["valid_to"], new["decision_no"]) == \
        (today, None, "12/QĐ-UBND")
    versions = {v.id for v in zones.relic_zones(db, DEMO_SITE, today - timedelta(1)).current}
    assert old["id"] in versions and new["id"] not in versions

    # The same file again changes nothing.
    again = import_zones(db, zone_file(tmp_path, records))
    assert (again.counts["inserted"], again.counts["updated"],
            again.counts["unchanged"]) == (0, 0, 1)
    undo_import(db, again.import_id, None)

    undo_import(db, result.import_id, None)
    (back,) = [v for v in chain(db, DEMO_SITE, "I") if v["valid_to"] is None]
    assert back == old
    assert new["id"] not in {v["id"] for v in chain(db, DEMO_SITE, "I")}


def test_a_reimported_version_may_not_start_before_the_one_in_force(db, tmp_path: Path):
    (current,) = [v for v in chain(db, DEMO_SITE, "II") if v["valid_to"] is None]
    before = db.execute(text("SELECT count(*), max(id) FROM protection_zones")).one()
    day = current["valid_from"].strftime("%d/%m/%Y")
    records = [{**sf.zone_records([DEMO_SITE], ("II",))[0], "HIEU_LUC": day}]
    with pytest.raises(ImportFailed) as failed:
        import_zones(db, zone_file(tmp_path, records, half=60))
    report = failed.value.details["report"]
    (error,) = report["errors"]
    assert error["row"] == 1
    assert error["en"].startswith(
        f"Zone II of {DEMO_SITE} has a version in force from "
        f"{current['valid_from'].isoformat()}; this row would start a new one on "
        f"{current['valid_from'].isoformat()}.")
    assert f"Khu vực bảo vệ II của {DEMO_SITE} đã có phiên bản hiệu lực từ {day}" \
        in error["vi"]
    assert db.execute(text("SELECT count(*), max(id) FROM protection_zones")).one() == before


# --- the page ---------------------------------------------------------------------------

def sign_in(client, auth, db, role: str) -> None:
    units = ()
    if role == "commune_editor":
        units = (db.scalar(text("SELECT code FROM admin_units WHERE level = 'commune' AND "
                                "valid_to IS NULL ORDER BY code LIMIT 1")),)
    create_user(db, f"zones-{role}", PASSWORD, role, unit_codes=units)
    assert auth.login(f"zones-{role}", PASSWORD).status_code == 302


def form_fields(html: str) -> dict[str, str]:
    form = html[html.index('id="zone-form"'):]
    return {name: re.search(rf'name="{name}" value="([^"]*)"', form).group(1)
            for name in ("csrf_token", "form_token")}


def test_a_reviewer_saves_a_drawn_boundary_from_the_page(client, auth, db, relic):
    sign_in(client, auth, db, "district_reviewer")
    page = client.get(f"/officials/relics/{relic}/zones")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Khu vực bảo vệ của Đình Phiên Bản" in html and "12/QĐ-UBND" in html
    config = json.loads(re.search(r'<script type="application/json" id="zones-config">(.*?)'
                                  r'</script>', html, re.DOTALL).group(1))
    assert {z["zone"] for z in config["zones"]} == {"I", "II"}

    today = today_in_vietnam()
    answer = client.post(f"/officials/relics/{relic}/zones", data={
        **form_fields(html), "zone": "II", "geometry": json.dumps(mapping(square(0, 0, 180))),
        "decision_no": "45/QĐ-UBND", "decision_date": (today - timedelta(3)).isoformat(),
        "valid_from": today.isoformat(), "accuracy": "digitised"})
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert (f"Đã lưu: Khu vực bảo vệ II, phiên bản mới có hiệu lực từ "
            f"{today.strftime('%d/%m/%Y')}") in shown
    versions = shown[shown.index("zones-versions"):]
    assert versions.count('data-zone="II"') == 2 and "45/QĐ-UBND" in versions
    assert "drawn by zones-district_reviewer on the map" in versions

    # A date before the version in force: the page says why, nothing is saved.
    refused = client.post(f"/officials/relics/{relic}/zones", data={
        **form_fields(shown), "zone": "II", "geometry": json.dumps(mapping(square(0, 0, 190))),
        "valid_from": "01/01/2021", "accuracy": "digitised"})
    assert refused.status_code == 400
    body = refused.get_data(as_text=True)
    assert "phiên bản mới phải bắt đầu sau ngày đó" in body
    assert len(chain(db, relic, "II")) == 2


def test_a_zone_is_read_from_an_uploaded_vn2000_file(client, auth, db, relic, tmp_path):
    sign_in(client, auth, db, "district_reviewer")
    x, y = sf.tm3(LON, LAT)
    ring = Polygon([(x - 170, y - 170), (x + 170, y - 170), (x + 170, y + 170),
                    (x - 170, y + 170)])
    shp = sf.write_shapefile(tmp_path, "kv2", [{"KVBV": "II"}], [ring])
    archive = sf.zip_files(tmp_path / "kv2.zip", sf.shapefile_parts(shp))
    html = client.get(f"/officials/relics/{relic}/zones").get_data(as_text=True)
    fields = form_fields(html)
    preview = client.post(f"/officials/relics/{relic}/zones/upload", data={
        "csrf_token": fields["csrf_token"], "file": (archive.open("rb"), "kv2.zip")},
        content_type="multipart/form-data")
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["geometry"]["type"] == "MultiPolygon" and "9209" in body["crs"]["crs"]
    # Without JavaScript the file itself is saved.
    saved = client.post(f"/officials/relics/{relic}/zones", data={
        **fields, "zone": "II", "geometry": "", "valid_from": "2024-03-01",
        "accuracy": "surveyed", "file": (archive.open("rb"), "kv2.zip")},
        content_type="multipart/form-data")
    assert saved.status_code == 303
    new = chain(db, relic, "II")[-1]
    assert new["valid_from"] == date(2024, 3, 1)
    area = db.scalar(text("SELECT ST_Area(geom::geography) FROM protection_zones WHERE id = :i"),
                     {"i": new["id"]})
    assert abs(area - 340 * 340) < 0.01 * 340 * 340
    two = sf.write_shapefile(tmp_path / "two", "kv", [{"KVBV": "I"}, {"KVBV": "II"}],
                             [ring, ring])
    refused = client.post(f"/officials/relics/{relic}/zones/upload", data={
        "csrf_token": fields["csrf_token"],
        "file": (sf.zip_files(tmp_path / "two.zip", sf.shapefile_parts(two)).open("rb"),
                 "two.zip")}, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "Hãy chỉ giữ lại một khu vực cần lưu" in refused.get_json()["message"]


@pytest.mark.parametrize("role", ["commune_editor", None])
def test_other_communes_editors_are_refused_and_the_public_is_sent_to_sign_in(
        client, auth, db, relic, role):
    # The relic is in no commune of the editor's (tests/test_zone_proposals.py: their own).
    if role:
        sign_in(client, auth, db, role)
    token = auth.csrf("/login")
    data = {"csrf_token": token, "zone": "II", "valid_from": "2024-01-01",
            "geometry": json.dumps(mapping(square(0, 0, 200)))}
    for answer in (client.get(f"/officials/relics/{relic}/zones"),
                   client.post(f"/officials/relics/{relic}/zones", data=data),
                   client.post(f"/officials/relics/{relic}/zones/upload",
                               data={"csrf_token": token})):
        if role:
            assert answer.status_code == 403
        else:
            assert answer.status_code in (302, 303)  # a form POST: 303 (form_safety)
            assert "/login" in answer.headers["Location"]
    assert len(chain(db, relic, "II")) == 1


def test_the_relic_page_links_reviewers_to_its_zones(client, auth, db, relic):
    link = f'href="/officials/relics/{relic}/zones"'
    assert link not in client.get(f"/sites/{relic}").get_data(as_text=True)
    sign_in(client, auth, db, "district_reviewer")
    assert link in client.get(f"/sites/{relic}").get_data(as_text=True)


# --- in Chromium ------------------------------------------------------------------------

def _screen(page, lat: float, lon: float, dx: float = 0, dy: float = 0) -> tuple[float, float]:
    """Where (lat, lon) is on the screen, shifted by (dx, dy) pixels."""
    return tuple(page.evaluate(
        f"() => {{ const m = HeritageMap.map; const p = m.latLngToContainerPoint([{lat}, {lon}]);"
        f" const r = m.getContainer().getBoundingClientRect();"
        f" return [r.left + p.x + {dx}, r.top + p.y + {dy}]; }}"))


def _click(page, x: float, y: float) -> None:
    page.mouse.move(x, y, steps=4)  # Geoman snaps the hint marker as the mouse moves
    page.mouse.click(x, y)
    page.wait_for_timeout(150)


@pytest.mark.browser
def test_a_reviewer_draws_and_edits_zone_ii_and_the_public_meets_it(
        page, page_watch, live_server, database_url):
    from sqlalchemy import create_engine

    from tests.conftest import sign_in as browser_sign_in

    lon, lat = 105.915, 20.815  # a corner of the district no other test uses
    engine = create_engine(database_url)
    username = f"browser-zones-{os.getpid()}"
    with Session(engine) as s:
        first_revision = s.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))
        create_user(s, username, PASSWORD, "district_reviewer")
        hid = make_site(s, lon, lat, name="Đình Vẽ Ranh Giới", zone_radius_m=None)
        for zone, half in (("I", 50), ("II", 150)):
            s.execute(text("""
                INSERT INTO protection_zones (site_id, zone, geom, decision_no, valid_from,
                                              accuracy)
                SELECT id, :z, ST_Multi(ST_GeomFromText(:g, 4326)), '12/QĐ-UBND',
                       DATE '2020-01-01', 'surveyed' FROM sites WHERE heritage_id = :h"""),
                {"z": zone, "g": square(0, 0, half, lon, lat).wkt, "h": hid})
        s.commit()
    zone_i_corner = square(0, 0, 50, lon, lat).exterior.coords[0]  # its south-west corner
    try:
        browser_sign_in(page, live_server, username, PASSWORD)
        page.goto(f"{live_server}/sites/{hid}")
        page.get_by_role("link", name="Khu vực bảo vệ", exact=True).click()
        page.wait_for_selector("#zone-form[data-ready='1']")
        page.select_option("#zone-kind", "II")
        page.wait_for_timeout(300)
        # The relic left of the middle: the corners stay clear of the legend and controls.
        view_lon, view_lat = TO_LONLAT.transform(*(a + b for a, b in zip(
            TO_UTM.transform(lon, lat), (100, 0))))
        page.evaluate(f"() => HeritageMap.map.setView([{view_lat}, {view_lon}], 17, "
                      f"{{animate: false}})")

        # Draw a new zone II reaching further east, with one corner put 8 px off zone I's
        # south-west corner: it snaps onto it. Corners in metres east/north of the relic,
        # clear of the old zone II's edges (those would snap too).
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Vẽ ranh giới mới").click()

        def at(east: float, north: float, dx: float = 0, dy: float = 0) -> tuple[float, float]:
            x, y = TO_UTM.transform(lon, lat)
            corner_lon, corner_lat = TO_LONLAT.transform(x + east, y + north)
            return _screen(page, corner_lat, corner_lon, dx, dy)

        for east, north in ((-67, 200), (200, 200), (200, -200), (-67, -200)):
            _click(page, *at(east, north))
        _click(page, *_screen(page, zone_i_corner[1], zone_i_corner[0], 8, -6))
        _click(page, *at(-67, 200))  # the first corner again: done
        page.wait_for_selector("#zone-form[data-changed='1']", state="attached")
        drawn = json.loads(page.locator("#zone-geometry").input_value())
        # (to the 8 decimals the page was given zone I with)
        assert any(abs(x - zone_i_corner[0]) < 1e-7 and abs(y - zone_i_corner[1]) < 1e-7
                   for x, y in drawn["coordinates"][0])
        assert len(drawn["coordinates"][0]) == 6

        # Edit: drag the north-east corner 40 px further east.
        page.get_by_role("button", name="Sửa các đỉnh").click()
        # The corner handle furthest north-east (Geoman's vertex markers).
        x, y = page.evaluate("""() => {
            const corners = Array.from(document.querySelectorAll(
                '.marker-icon:not(.marker-icon-middle)')).map(e => {
                const r = e.getBoundingClientRect();
                return [r.left + r.width / 2, r.top + r.height / 2]; });
            corners.sort((a, b) => (b[0] - b[1]) - (a[0] - a[1]));
            return corners[0]; }""")
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 40, y, steps=8)
        page.mouse.up()
        page.wait_for_timeout(200)
        edited = json.loads(page.locator("#zone-geometry").input_value())
        # 40 px at zoom 17 here are about 45 m: well over 25 m further east.
        assert max(p[0] for p in edited["coordinates"][0]) > \
            max(p[0] for p in drawn["coordinates"][0]) + 25 / 104000

        page.fill("#zone-decision-no", "45/QĐ-UBND")
        page.get_by_role("button", name="Lưu phiên bản mới").click()
        page.wait_for_selector(".flash")
        assert "Đã lưu: Khu vực bảo vệ II" in page.locator(".flash").first.inner_text()
        versions = page.locator("table.zones-versions").inner_text()
        assert versions.count("Khu vực bảo vệ II") == 2 and "45/QĐ-UBND" in versions

        # The public: the relic's page, the map's layer and the zone check show the new
        # zone II; a check as of last month still finds the old one.
        public = page.context.browser.new_context(locale="vi-VN")
        visitor = public.new_page()
        visitor.goto(f"{live_server}/sites/{hid}")
        assert "45/QĐ-UBND" in visitor.locator("table.zones").inner_text()
        minx, miny, maxx, maxy = square(0, 0, 600, lon, lat).bounds
        layer = visitor.request.get(f"{live_server}/api/layers/protection_zones.geojson"
                                    f"?bbox={minx},{miny},{maxx},{maxy}").json()
        mine = {f["properties"]["zone"]: f for f in layer["features"]
                if f["properties"]["heritage_id"] == hid}
        assert mine["II"]["properties"]["decision_no"] == "45/QĐ-UBND"
        served = from_geojson(mine["II"]["geometry"])
        assert served.hausdorff_distance(from_geojson(edited)) < 1e-6  # 7 decimals served
        parcel = mapping(square(-120, 0, 10, lon, lat))  # in the old zone II only
        month_ago = (today_in_vietnam() - timedelta(days=30)).isoformat()
        then = visitor.request.post(f"{live_server}/api/zone-check?date={month_ago}",
                                    data=json.dumps(parcel),
                                    headers={"Content-Type": "application/json"}).json()
        now = visitor.request.post(f"{live_server}/api/zone-check", data=json.dumps(parcel),
                                   headers={"Content-Type": "application/json"}).json()
        assert (hid, "II") in {(h["heritage_id"], h["zone"]) for h in then["results"][0]["hits"]}
        assert (hid, "II") not in {(h["heritage_id"], h["zone"])
                                   for h in now["results"][0]["hits"]}
        public.close()
        assert page_watch.console_errors == [] and page_watch.off_host == []
        assert page_watch.failed == []
    finally:
        with Session(engine) as s:
            # The live server's database is shared by the session.
            forget_sites(s, [hid])
            s.execute(text("DELETE FROM form_submissions WHERE user_id IN (SELECT id FROM users "
                           "WHERE username = :u)"), {"u": username})
            s.execute(text("DELETE FROM users WHERE username = :u"), {"u": username})
            s.execute(text("SET LOCAL session_replication_role = origin"))
            s.execute(text("DELETE FROM revisions WHERE id > :r"), {"r": first_revision})
            s.commit()
        engine.dispose()
