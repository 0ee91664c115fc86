"""CQL2 filters (gis_app/services/cql2.py) on real PostGIS: every operator selects the
same features as the same condition written by hand in SQL, accents and case fold like
the name search, a parcel finds the zones the zone check reports, and anything a client
can send is either answered or refused with an InputError saying what to change.

Filters run the way the OGC items query runs them:
`SELECT ... FROM {layer.source} AS src WHERE {visibility} AND (<fragment>)`.
"""
from __future__ import annotations

import json
import unicodedata

import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam
from gis_app.errors import InputError
from gis_app.services import zone_check
from gis_app.services.cql2 import (
    CONFORMANCE_CLASSES,
    MAX_FILTER_CHARS,
    compile_filter,
    queryables,
)
from gis_app.services.features import _visibility
from layers import all_layers, get_layer
from tests.factories import make_site

SITES = get_layer("sites")
ZONES = get_layer("protection_zones")

# Generated relics (name, rank, types, English name, lon, lat), around Khoái Châu.
RELICS = [
    ("Đình Phú Cường thử", "national", ["historical", "architectural_artistic"],
     "Phu Cuong Communal House", 105.9400, 20.8500),
    ("Chùa Hương Quất thử", "provincial", ["architectural_artistic"], None,
     105.9550, 20.8600),
    ("Đền Đa Hòa thử", "special_national", ["historical"], "Da Hoa Temple (test)",
     105.9700, 20.8300),
    ("Miếu Bãi Sậy thử", "inventoried", ["archaeological", "scenic"], None,
     105.9850, 20.8700),
    ("Nghè Xuân Quan thử", "provincial", [], "Nghè Xuân Quan thử", 105.9300, 20.8200),
]
# When each generated relic's zones came into force (zone I, zone II).
ZONE_DATES = [("2019-05-01", "2021-03-15"), ("2024-08-01", None), (None, "2018-01-10"),
              ("2022-06-30", "2022-06-30"), (None, None)]


@pytest.fixture
def relics(db: Session) -> list[str]:
    """Five published relics with zones, one draft and one sensitive relic (never
    selected); their heritage ids in RELICS order."""
    made = []
    for (name, rank, types, name_en, lon, lat), dates in zip(RELICS, ZONE_DATES,
                                                             strict=True):
        hid = make_site(db, lon, lat, name=name, rank=rank)
        db.execute(text("UPDATE sites SET types = :t, name_en = :en, "
                        "ranking_decision_no = :no WHERE heritage_id = :h"),
                   {"t": types, "en": name_en, "h": hid,
                    "no": f"{len(made) + 1}/QĐ-UBND" if rank != "inventoried" else None})
        for zone, valid_from in zip(("I", "II"), dates, strict=True):
            db.execute(text("""
                UPDATE protection_zones SET valid_from = CAST(:d AS date), decision_no = :no
                 WHERE zone = :z AND site_id = (SELECT id FROM sites WHERE heritage_id = :h)
                """), {"d": valid_from, "z": zone, "h": hid,
                       "no": f"{zone}-{len(made)}" if valid_from else None})
        made.append(hid)
    make_site(db, 105.9500, 20.8400, name="Đình nháp thử", rank="national", status="draft")
    make_site(db, 105.9600, 20.8450, name="Đền nhạy cảm thử", rank="national",
              sensitive=True)
    db.flush()
    return made


def run(db: Session, layer, condition: str, params: dict | None = None) -> set[str]:
    """Feature ids of `layer` the public sees where `condition` (SQL over src) holds."""
    sql = (f"SELECT {layer.feature_id_sql} FROM {layer.source} AS src "
           f"WHERE {_visibility(layer, None)} AND ({condition})")
    return set(db.scalars(text(sql), {"today": today_in_vietnam(), **(params or {})}))


def by_filter(db: Session, layer, cql: str, lang: str | None = None,
              crs: str | None = None) -> set[str]:
    where, params = compile_filter(cql, lang, layer, crs)
    assert all(name.startswith("cql_") for name in params)
    return run(db, layer, where, params)


def box_wkt(minx: float, miny: float, maxx: float, maxy: float) -> str:
    return shapely.box(minx, miny, maxx, maxy).wkt


# (layer, CQL2 text, the same condition in SQL). Each selects some features, not all.
WEST = (105.925, 20.815, 105.960, 20.865)  # holds relics 0, 1 and 4
PARCEL = "POLYGON((105.9395 20.8495, 105.9420 20.8495, 105.9420 20.8520, 105.9395 20.8495))"
CASES = [
    (SITES, "rank = 'national'", "src.rank = 'national'"),
    (SITES, "rank <> 'national'", "src.rank <> 'national'"),
    (SITES, "name_vi < 'Đ'", "src.name_vi < 'Đ'"),
    (SITES, "name_vi <= 'Đình Phú Cường thử'", "src.name_vi <= 'Đình Phú Cường thử'"),
    (SITES, "name_vi > 'Đ'", "src.name_vi > 'Đ'"),
    (SITES, "name_vi >= 'Đền'", "src.name_vi >= 'Đền'"),
    (SITES, "name_vi LIKE 'Đình%'", "src.name_vi LIKE 'Đình%'"),
    (SITES, "name_vi LIKE '_ền%'", "src.name_vi LIKE '_ền%'"),
    (SITES, "name_vi NOT LIKE '%thử'", "src.name_vi NOT LIKE '%thử'"),
    (SITES, "rank IN ('national', 'special_national')",
     "src.rank IN ('national', 'special_national')"),
    (SITES, "rank NOT IN ('provincial', 'inventoried')",
     "src.rank NOT IN ('provincial', 'inventoried')"),
    (SITES, "heritage_id BETWEEN 'VN-HY-DT-000001' AND 'VN-HY-DT-000005'",
     "src.heritage_id BETWEEN 'VN-HY-DT-000001' AND 'VN-HY-DT-000005'"),
    (SITES, "heritage_id NOT BETWEEN 'VN-HY-DT-000001' AND 'VN-HY-DT-000005'",
     "src.heritage_id NOT BETWEEN 'VN-HY-DT-000001' AND 'VN-HY-DT-000005'"),
    (SITES, "name_en IS NULL", "src.name_en IS NULL"),
    (SITES, "name_en IS NOT NULL", "src.name_en IS NOT NULL"),
    (SITES, "ranking_decision_no IS NULL AND name_vi LIKE '%thử'",
     "src.ranking_decision_no IS NULL AND src.name_vi LIKE '%thử'"),
    (SITES, "rank = 'provincial' OR name_en IS NULL",
     "src.rank = 'provincial' OR src.name_en IS NULL"),
    (SITES, "NOT (rank = 'provincial') AND name_vi LIKE '%thử'",
     "NOT (src.rank = 'provincial') AND src.name_vi LIKE '%thử'"),
    (SITES, "(rank = 'national' OR rank = 'provincial') AND NOT name_en IS NULL",
     "(src.rank = 'national' OR src.rank = 'provincial') AND NOT src.name_en IS NULL"),
    (SITES, "name_vi = name_en", "src.name_vi = src.name_en"),
    (SITES, "types = 'archaeological'", "'archaeological' = ANY(src.types)"),
    (SITES, "types <> 'historical'", "NOT ('historical' = ANY(src.types))"),
    (SITES, "types IN ('scenic', 'architectural_artistic')",
     "src.types && ARRAY['scenic', 'architectural_artistic']"),
    (SITES, "types LIKE 'arch%'",
     "EXISTS (SELECT 1 FROM unnest(src.types) t WHERE t LIKE 'arch%')"),
    (SITES, "types IS NULL OR types = 'scenic'", "src.types IS NULL OR 'scenic' = ANY(src.types)"),
    (SITES, "CASEI(name_vi) = CASEI('ĐÌNH PHÚ CƯỜNG THỬ')",
     "lower(src.name_vi) = lower('ĐÌNH PHÚ CƯỜNG THỬ')"),
    (SITES, "ACCENTI(CASEI(name_vi)) LIKE ACCENTI(CASEI('%da hoa%'))",
     "lower(f_unaccent(src.name_vi)) LIKE '%da hoa%'"),
    (SITES, "types = 'historical' AND commune = 'Triệu Việt Vương'",
     "'historical' = ANY(src.types) AND src.admin_unit_id = "
     "(SELECT id FROM admin_units WHERE name = 'Triệu Việt Vương' AND valid_to IS NULL)"),
    (SITES, "ACCENTI(CASEI(commune)) = ACCENTI(CASEI('trieu viet vuong'))",
     "src.admin_unit_id = "
     "(SELECT id FROM admin_units WHERE name = 'Triệu Việt Vương' AND valid_to IS NULL)"),
    (SITES, "commune_code IN ('12223', '12049')",
     "src.admin_unit_id IN (SELECT id FROM admin_units WHERE code IN ('12223', '12049') "
     "AND valid_to IS NULL)"),
    (SITES, "S_INTERSECTS(geometry, BBOX(105.925, 20.815, 105.960, 20.865))",
     f"ST_Intersects(src.geom, ST_GeomFromText('{box_wkt(*WEST)}', 4326))"),
    (SITES, "S_WITHIN(geometry, POLYGON((105.925 20.815, 105.960 20.815, 105.960 20.865, "
            "105.925 20.865, 105.925 20.815)))",
     f"ST_Within(src.geom, ST_GeomFromText('{box_wkt(*WEST)}', 4326))"),
    (SITES, "S_DISJOINT(geometry, BBOX(105.925, 20.815, 105.960, 20.865))",
     f"ST_Disjoint(src.geom, ST_GeomFromText('{box_wkt(*WEST)}', 4326))"),
    (SITES, "S_INTERSECTS(geometry, POINT(105.94 20.85))",
     "ST_Intersects(src.geom, ST_SetSRID(ST_MakePoint(105.94, 20.85), 4326))"),
    (ZONES, "S_CONTAINS(geometry, POINT(105.9703 20.8302))",
     "ST_Contains(src.geom, ST_SetSRID(ST_MakePoint(105.9703, 20.8302), 4326))"),
    (ZONES, f"S_INTERSECTS(geometry, {PARCEL})",
     f"ST_Intersects(src.geom, ST_GeomFromText('{PARCEL}', 4326))"),
    (ZONES, f"S_OVERLAPS(geometry, {PARCEL})",
     f"ST_Overlaps(src.geom, ST_GeomFromText('{PARCEL}', 4326))"),
    (ZONES, "zone = 'II' AND heritage_id >= 'VN-HY-DT-9'",
     "src.zone = 'II' AND src.heritage_id >= 'VN-HY-DT-9'"),
    (ZONES, "valid_from > DATE('2020-01-01')", "src.valid_from > DATE '2020-01-01'"),
    (ZONES, "valid_from BETWEEN DATE('2019-01-01') AND DATE('2022-12-31')",
     "src.valid_from BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'"),
    (ZONES, "valid_from IS NULL", "src.valid_from IS NULL"),
    (ZONES, "valid_from T_AFTER DATE('2021-03-15')", "src.valid_from > DATE '2021-03-15'"),
    (ZONES, "valid_from T_BEFORE DATE('2021-03-15')", "src.valid_from < DATE '2021-03-15'"),
    (ZONES, "valid_from T_EQUALS DATE('2022-06-30')", "src.valid_from = DATE '2022-06-30'"),
    (ZONES, "valid_from T_INTERSECTS INTERVAL('2019-01-01T00:00:00+07:00', "
            "'2022-06-30T12:00:00+07:00')",
     "src.valid_from BETWEEN DATE '2019-01-01' AND DATE '2022-06-30'"),
    (ZONES, "valid_from T_DURING INTERVAL('2018-01-01T00:00:00Z', '2021-12-31T00:00:00Z')",
     "src.valid_from BETWEEN DATE '2018-01-01' AND DATE '2021-12-31'"),
]


@pytest.mark.parametrize(("layer", "cql", "sql"), CASES,
                         ids=[f"{c[0].name}: {c[1][:60]}" for c in CASES])
def test_filter_selects_what_the_same_sql_selects(db, relics, layer, cql, sql):
    expected = run(db, layer, sql)
    everything = run(db, layer, "TRUE")
    assert expected and expected != everything, "the case must select some, not all"
    assert by_filter(db, layer, cql) == expected


JSON_CASES = [
    (SITES, {"op": "=", "args": [{"property": "rank"}, "national"]}, "src.rank = 'national'"),
    (SITES, {"op": "and", "args": [
        {"op": "in", "args": [{"property": "rank"}, ["provincial", "inventoried"]]},
        {"op": "isNull", "args": [{"property": "name_en"}]}]},
     "src.rank IN ('provincial', 'inventoried') AND src.name_en IS NULL"),
    (SITES, {"op": "not", "args": [{"op": "like", "args": [{"property": "name_vi"}, "Đình%"]}]},
     "NOT (src.name_vi LIKE 'Đình%')"),
    (SITES, {"op": "like", "args": [
        {"op": "accenti", "args": [{"op": "casei", "args": [{"property": "name_vi"}]}]},
        {"op": "accenti", "args": [{"op": "casei", "args": ["%DA HOA%"]}]}]},
     "lower(f_unaccent(src.name_vi)) LIKE '%da hoa%'"),
    (SITES, {"op": "s_intersects", "args": [{"property": "geometry"},
                                            {"bbox": [105.925, 20.815, 105.960, 20.865]}]},
     f"ST_Intersects(src.geom, ST_GeomFromText('{box_wkt(*WEST)}', 4326))"),
    (SITES, {"op": "s_within", "args": [{"property": "geometry"}, {
        "type": "Polygon", "coordinates": [[[105.925, 20.815], [105.96, 20.815],
                                            [105.96, 20.865], [105.925, 20.815]]]}]},
     "ST_Within(src.geom, ST_GeomFromText('POLYGON((105.925 20.815, 105.96 20.815, "
     "105.96 20.865, 105.925 20.815))', 4326))"),
    (SITES, {"op": "a_contains", "args": [{"property": "types"}, ["historical"]]},
     "src.types @> ARRAY['historical']"),
    (SITES, {"op": "a_overlaps", "args": [{"property": "types"}, ["scenic", "historical"]]},
     "src.types && ARRAY['scenic', 'historical']"),
    (SITES, {"op": "a_containedby", "args": [{"property": "types"},
                                             ["historical", "architectural_artistic"]]},
     "src.types <@ ARRAY['historical', 'architectural_artistic']"),
    (ZONES, {"op": "between", "args": [{"property": "valid_from"}, {"date": "2019-01-01"},
                                       {"date": "2022-12-31"}]},
     "src.valid_from BETWEEN DATE '2019-01-01' AND DATE '2022-12-31'"),
    (ZONES, {"op": "t_intersects", "args": [{"property": "valid_from"},
                                            {"interval": ["2021-01-01", ".."]}]},
     "src.valid_from >= DATE '2021-01-01'"),
]


@pytest.mark.parametrize(("layer", "document", "sql"), JSON_CASES,
                         ids=[f"{c[0].name}: {json.dumps(c[1])[:50]}" for c in JSON_CASES])
def test_cql2_json_selects_what_the_same_sql_selects(db, relics, layer, document, sql):
    expected = run(db, layer, sql)
    assert expected and expected != run(db, layer, "TRUE")
    assert by_filter(db, layer, json.dumps(document, ensure_ascii=False), "cql2-json") == \
        expected


def test_accent_and_case_insensitive_name_finds_da_hoa(db, relics):
    demo = db.scalar(text("SELECT heritage_id FROM sites WHERE name_vi = 'Đền Đa Hòa'"))
    assert demo, "the demo data has Đền Đa Hòa"
    exact = "ACCENTI(CASEI(name_vi)) = ACCENTI(CASEI('Den Da Hoa'))"
    assert by_filter(db, SITES, exact) == {demo}
    inside = "ACCENTI(CASEI(name_vi)) LIKE ACCENTI(CASEI('%Da Hoa%'))"
    assert by_filter(db, SITES, inside) == {demo, relics[2]}
    # Without the functions the letters must match exactly.
    assert by_filter(db, SITES, "name_vi = 'Den Da Hoa'") == set()
    assert by_filter(db, SITES, "name_vi LIKE '%Da Hoa%'") == set()
    # The same name typed in decomposed Unicode (as macOS keyboards send it) matches.
    decomposed = unicodedata.normalize("NFD", "Đền Đa Hòa")
    assert decomposed != "Đền Đa Hòa"
    assert by_filter(db, SITES, f"name_vi = '{decomposed}'") == {demo}


def test_parcel_touches_the_zones_the_zone_check_reports(db, relics):
    # A parcel across the edge of zone II of relic 0, clear of its zone I (60 m).
    lon, lat = RELICS[0][4], RELICS[0][5]
    parcel = shapely.box(lon + 0.0012, lat - 0.0005, lon + 0.0025, lat + 0.0005)
    check = zone_check.check_parcel(db, parcel)
    reported = {f"{hit.heritage_id}-{hit.zone}" for hit in check.hits}
    assert reported == {f"{relics[0]}-II"}
    assert by_filter(db, ZONES, f"S_INTERSECTS(geometry, {parcel.wkt})") == reported
    # And a parcel over two relics' zones: relics 0 and 1 are 1.8 km apart.
    wide = shapely.box(RELICS[0][4] - 0.001, RELICS[0][5] - 0.001,
                       RELICS[1][4] + 0.001, RELICS[1][5] + 0.001)
    reported = {f"{hit.heritage_id}-{hit.zone}" for hit in zone_check.check_parcel(db, wide).hits}
    assert len(reported) >= 4
    assert by_filter(db, ZONES, f"S_INTERSECTS(geometry, {wide.wkt})") == reported


def test_filter_crs_vn2000_and_latitude_first(db, relics):
    expected = run(db, SITES, f"ST_Intersects(src.geom, ST_GeomFromText('{box_wkt(*WEST)}', "
                              f"4326))")
    assert relics[0] in expected and relics[2] not in expected
    # VN-2000 / UTM 48N (EPSG:3405): the corners PostGIS itself computes.
    corners = db.execute(text(
        "SELECT ST_AsText(ST_Transform(ST_GeomFromText(:w, 4326), 3405))"),
        {"w": box_wkt(*WEST)}).scalar_one()
    utm = shapely.from_wkt(corners)
    assert by_filter(db, SITES, f"S_INTERSECTS(geometry, {utm.wkt})",
                     crs="http://www.opengis.net/def/crs/EPSG/0/3405") == expected
    # VN-2000 / TM-3 105-30 (EPSG:9209), the survey CRS of Hưng Yên, by pyproj.
    to_tm3 = Transformer.from_crs("EPSG:4326", "EPSG:9209", always_xy=True)
    tm3 = shapely.transform(shapely.box(*WEST), lambda xy: list(zip(*to_tm3.transform(
        xy[:, 0], xy[:, 1]), strict=True)))
    assert tm3.bounds[0] > 500_000  # metres, easting first
    assert by_filter(db, SITES, f"S_INTERSECTS(geometry, {tm3.wkt})", crs="EPSG:9209") == \
        expected
    # EPSG:4326 is latitude first, as its definition says.
    minx, miny, maxx, maxy = WEST
    assert by_filter(db, SITES, f"S_INTERSECTS(geometry, BBOX({miny}, {minx}, {maxy}, "
                                f"{maxx}))",
                     crs="http://www.opengis.net/def/crs/EPSG/0/4326") == expected
    assert by_filter(db, SITES, f"S_INTERSECTS(geometry, BBOX({minx}, {miny}, {maxx}, "
                                f"{maxy}))",
                     crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84") == expected


def test_drafts_and_sensitive_relics_stay_out(db, relics):
    hidden = set(db.scalars(text("SELECT heritage_id FROM sites WHERE name_vi IN "
                                 "('Đình nháp thử', 'Đền nhạy cảm thử')")))
    assert len(hidden) == 2
    found = by_filter(db, SITES, "name_vi LIKE '%thử' OR rank = 'national'")
    assert found and not found & hidden


def test_a_value_that_looks_like_sql_is_only_a_value(db, relics):
    cql = "name_vi = '); DROP TABLE sites; --' OR heritage_id = '1'' OR ''1''=''1'"
    with pytest.raises(InputError, match="Syntax error"):  # '' is not an escape in CQL2
        compile_filter(cql, None, SITES)
    where, params = compile_filter("name_vi = '); DROP TABLE sites; --'", None, SITES)
    assert where == "((src.name_vi) = CAST(:cql_0 AS text))"
    assert params == {"cql_0": "); DROP TABLE sites; --"}
    assert run(db, SITES, where, params) == set()
    assert db.scalar(text("SELECT count(*) FROM sites")) > 0


@pytest.mark.parametrize(("cql", "lang", "layer", "crs", "message"), [
    ("name_vi = 'x'; DROP TABLE sites--", None, SITES, None, "Syntax error at character 14"),
    ("name_vi = 'x' OR 1=1 --", None, SITES, None, "ends too early"),
    ("nam_vi = 'Đền Đa Hòa'", None, SITES, None,
     "no property 'nam_vi'. Did you mean name_vi.*queryables are: heritage_id, name_vi"),
    ("src.status = 'draft'", None, SITES, None, "no property 'src.status'"),
    ("rank = 'national' AND (name_vi = 'x'", None, SITES, None, "ends too early"),
    ("rank = 'national')", None, SITES, None, r"Syntax error at character 18: unexpected “\)”"),
    ("rank = " + "'x'" * (MAX_FILTER_CHARS // 3 + 1), None, SITES, None,
     "characters long; at most 8,000"),
    ("(" * 30 + "rank = 'x'" + ")" * 30, None, SITES, None, "nested too deeply"),
    ("name_vi = 'x' OR " * 250 + "rank = 'x'", None, SITES, None, "more than 200 conditions"),
    ("rank = 5", None, SITES, None, "Cannot compare the property rank \\(text\\) with the "
                                    "number 5. Put text in single quotes"),
    ("valid_from > '2020-01-01'", None, ZONES, None, r"Write a date as DATE\('2024-05-31'\)"),
    ("types > 'historical'", None, SITES, None, "types is a list of codes"),
    ("name_vi T_AFTER DATE('2020-01-01')", None, SITES, None, "apply to date properties"),
    ("name_vi LIKE name_en", None, SITES, None, "LIKE needs a text pattern"),
    ("valid_from T_MEETS INTERVAL('2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z')", None,
     ZONES, None, "The operator T_MEETS is not supported here. Supported: = <>"),
    ("name_vi LIKE 'Đình\\'", None, SITES, None, "single backslash"),
    ("DISTANCE(geometry, POINT(105.9 20.8)) < 5", None, SITES, None,
     r"function DISTANCE\(\) is not supported"),
    ("S_INTERSECTS(geometry, POLYGON((105.9 20.8, 106 20.9, 106 20.8, 105.9 20.9, "
     "105.9 20.8)))", None, SITES, None, "not valid .*Self-intersection"),
    ("S_INTERSECTS(geometry, POINT(546633 2306413))", None, SITES, None,
     "longitude, latitude in degrees .* filter-crs=http://www.opengis.net/def/crs/EPSG/0/9209"),
    ("S_INTERSECTS(geometry, POINT(105.94 20.87))", None, SITES, "EPSG:4326",
     "latitude first"),
    ("S_INTERSECTS(geometry, POINT(105.94 20.87))", None, SITES, "EPSG:9209", "not in EPSG:9209"),
    ("S_INTERSECTS(name_vi, POINT(105.94 20.87))", None, SITES, None,
     "compares the property geometry with a geometry"),
    ("S_INTERSECTS(geometry, POINT(105.94 20.87))", None, SITES, "EPSG:3857",
     "filter-crs 'EPSG:3857' is not supported"),
    ("rank = 'national'", "cql2-xml", SITES, None, "filter-lang must be cql2-text or cql2-json"),
    ("   ", None, SITES, None, "The filter is empty"),
    ('{"op": "=", "args": [{"property": "name_vi"}, "a\\u0000b"]}', "cql2-json", SITES, None,
     "not text \\(NUL"),
    ("{op: '='}", "cql2-json", SITES, None, "not valid JSON at character 2"),
    ('{"op": "not", "args": [' * 80 + '{"op": "isNull", "args": [{"property": "rank"}]}'
     + "]}" * 80, "cql2-json", SITES, None, "nested too deeply"),
    ('{"op": "=", "args": [{"property": "rank"}]}', "cql2-json", SITES, None,
     "could not be read"),
    ('"rank"', "cql2-json", SITES, None, "must be a condition"),
    ('{"op": "t_after", "args": [{"property": "valid_from"}, "2020-01-01"]}', "cql2-json",
     ZONES, None, "DATE\\('YYYY-MM-DD'\\)"),
])
def test_bad_filter_is_refused_with_what_to_do(cql, lang, layer, crs, message):
    with pytest.raises(InputError, match=message) as caught:
        compile_filter(cql, lang, layer, crs)
    assert caught.value.status == 400
    assert caught.value.message_vi and caught.value.message_vi != caught.value.message_en


def test_syntax_error_gives_its_position_in_vietnamese_too():
    with pytest.raises(InputError) as caught:
        compile_filter("rank = 'national' ANDD name_vi = 'x'", None, SITES)
    assert "ký tự thứ 22: đoạn không hợp lệ tại “D name_vi = 'x'”" in \
        caught.value.user_message("vi")
    assert caught.value.details["position"] == 22


def test_every_declared_property_has_the_declared_type(db):
    """Layers declare their non-text properties (property_types): the filters type-check
    against that, so it must be what the database says."""
    kinds = {"text": "string", "character varying": "string", "date": "date",
             "text[]": "array", "character varying[]": "array", "integer": "integer",
             "bigint": "integer", "numeric": "number", "double precision": "number",
             "boolean": "boolean"}
    for layer in all_layers().values():
        for key, expr in layer.properties.items():
            pg_type = db.scalar(text(
                f"SELECT pg_typeof(x.v)::text FROM (SELECT 1) one LEFT JOIN "
                f"(SELECT {expr} AS v FROM {layer.source} AS src WHERE FALSE) x ON TRUE"),
                {"today": today_in_vietnam()})
            declared = layer.property_types.get(key, "string")
            assert kinds.get(pg_type) == declared, (layer.name, key, pg_type)


@pytest.mark.parametrize("layer", list(all_layers().values()), ids=lambda lay: lay.name)
def test_every_queryable_of_every_layer_can_be_filtered(db, layer):
    document = queryables(layer, "vi")
    assert set(document["properties"]) == {*layer.properties, "geometry"}
    conditions = [f"{name} IS NOT NULL" for name in document["properties"]]
    where, params = compile_filter(" OR ".join(conditions), None, layer)
    assert run(db, layer, where, params) == run(db, layer, "TRUE")


def test_queryables_document():
    sites = queryables(SITES, "vi", id_url="http://127.0.0.1/ogc/collections/sites/queryables")
    assert sites["$id"].endswith("/collections/sites/queryables")
    assert sites["title"] == "Di tích"
    props = sites["properties"]
    assert props["types"]["type"] == "array"
    assert "historical" in props["types"]["items"]["enum"]
    assert "historical: Lịch sử" in props["types"]["description"]
    assert props["rank"]["enum"] == ["special_national", "national", "provincial",
                                     "inventoried"]
    assert props["rank"]["title"] == "Xếp hạng"
    assert props["name_vi"] == {"title": "Tên", "type": "string"}
    assert props["geometry"]["format"] == "geometry-point"
    zones = queryables(ZONES, "en")
    assert zones["properties"]["valid_from"] == {"title": "Valid from", "type": "string",
                                                 "format": "date"}
    assert zones["properties"]["zone"]["enum"] == ["I", "II", "buffer"]
    assert zones["properties"]["geometry"]["format"] == "geometry-multipolygon"
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in CONFORMANCE_CLASSES
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in \
        CONFORMANCE_CLASSES


# --- anything a client sends --------------------------------------------------------

PROPS = st.sampled_from(["rank", "name_vi", "name_en", "types", "heritage_id", "zone",
                         "valid_from", "geometry", "nope"])
TEXTS = st.text(max_size=12).map(lambda v: "'" + v.replace("'", "") + "'")
GEOMETRIES = st.one_of(
    st.sampled_from([
        "BBOX(105.9,20.8,106,20.9)", "BBOX(106,20.9,105.9,20.8)", "BBOX(1,2,3)",
        "POINT(105.97 20.83)", "POINT(1e308 1)", "POINT(546633 2306413)",
        "POLYGON((0 0,1 1,1 0,0 1,0 0))", "POLYGON((105.9 20.8,106 20.8,106 20.9,105.9 20.8))",
        "LINESTRING(105.9 20.8,106 20.9)", "MULTIPOINT((105.9 20.8),(106 20.9))",
        "GEOMETRYCOLLECTION(POINT(1 1))", "SRID=4326;POINT(105.9 20.8)", "ENVELOPE(1 2 3 4)"]),
    st.tuples(st.floats(-1e6, 3e6), st.floats(-1e6, 3e6)).map(
        lambda xy: f"POINT({xy[0]!r} {xy[1]!r})"))
TEMPORALS = st.sampled_from([
    "DATE('2020-01-01')", "DATE('2020-02-30')", "TIMESTAMP('2020-01-01T00:00:00Z')",
    "INTERVAL('2019-01-01T00:00:00Z','2021-01-01T00:00:00Z')",
    "INTERVAL('2021-01-01T00:00:00Z','2019-01-01T00:00:00Z')"])
VALUES = st.one_of(TEXTS, st.integers(-10**30, 10**30).map(str),
                   st.floats(allow_nan=False, allow_infinity=False).map(repr), TEMPORALS,
                   GEOMETRIES, PROPS, TEXTS.map(lambda v: f"CASEI({v})"),
                   PROPS.map(lambda v: f"ACCENTI(CASEI({v}))"))
OPERATORS = st.sampled_from(["=", "<>", "<", "<=", ">", ">=", "LIKE", "NOT LIKE"])
PREDICATES = st.one_of(
    st.tuples(PROPS, OPERATORS, VALUES).map(" ".join),
    st.tuples(VALUES, OPERATORS, VALUES).map(" ".join),
    st.tuples(PROPS, st.lists(VALUES, min_size=1, max_size=3)).map(
        lambda t: f"{t[0]} IN ({', '.join(t[1])})"),
    st.tuples(PROPS, VALUES, VALUES).map(lambda t: f"{t[0]} BETWEEN {t[1]} AND {t[2]}"),
    PROPS.map(lambda v: f"{v} IS NOT NULL"),
    st.tuples(st.sampled_from(["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT",
                               "S_TOUCHES", "S_CROSSES", "S_EQUALS"]), PROPS, GEOMETRIES
              ).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    st.tuples(PROPS, st.sampled_from(["T_AFTER", "T_BEFORE", "T_EQUALS", "T_INTERSECTS",
                                      "T_DURING", "T_MEETS"]), TEMPORALS).map(" ".join))
CONDITIONS = st.recursive(PREDICATES, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["AND", "OR"]), inner).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})"),
    inner.map(lambda v: f"NOT ({v})")), max_leaves=5)
TOKENS = ["rank", "name_vi", "types", "geometry", "=", "<>", "LIKE", "NOT", "IN", "BETWEEN",
          "AND", "OR", "IS", "NULL", "(", ")", ",", "'national'", "'x\\'", "''", "1", "-2.5",
          "DATE('2020-01-01')", "CASEI", "S_INTERSECTS", "BBOX(105.9,20.8,106,20.9)",
          "INCLUDE", "+", "*", "\"name_vi\"", ";", "--", "\x00"]
TOKEN_FILTERS = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12).map(" ".join)

JSON_PROPS = PROPS.map(lambda v: {"property": v})
JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=8), JSON_PROPS,
    st.sampled_from([{"date": "2020-01-01"}, {"date": "2020-13-01"},
                     {"timestamp": "2020-01-01T00:00:00Z"},
                     {"interval": ["2019-01-01", ".."]}, {"interval": ["..", ".."]},
                     {"bbox": [105.9, 20.8, 106, 20.9]}, {"bbox": [1, 2]},
                     {"type": "Point", "coordinates": [105.97, 20.83]},
                     {"type": "Point", "coordinates": ["a", None]},
                     {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
                                                          [0, 0]]]},
                     ["historical", "scenic"], [1, None]]),
    JSON_PROPS.map(lambda v: {"op": "casei", "args": [v]}),
    JSON_PROPS.map(lambda v: {"op": "accenti", "args": [v]}))
JSON_OPS = st.sampled_from(["=", "<>", "<", ">=", "like", "in", "between", "isNull",
                            "s_intersects", "s_within", "s_contains", "t_after",
                            "t_intersects", "t_disjoint", "a_contains", "a_overlaps",
                            "a_equals", "casei", "accenti", "nope"])
JSON_PREDICATES = st.one_of(
    st.tuples(JSON_OPS, JSON_PROPS, JSON_VALUES).map(
        lambda t: {"op": t[0], "args": [t[1], t[2]]}),
    st.tuples(JSON_OPS, st.lists(JSON_VALUES, max_size=3)).map(
        lambda t: {"op": t[0], "args": t[1]}))
JSON_CONDITIONS = st.recursive(JSON_PREDICATES, lambda inner: st.one_of(
    st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=3)).map(
        lambda t: {"op": t[0], "args": t[1]}),
    inner.map(lambda v: {"op": "not", "args": [v]})), max_leaves=5)
CRS_VALUES = st.sampled_from([None, "EPSG:4326", "EPSG:9209", "EPSG:3405", "EPSG:3857", ""])
LAYER_NAMES = st.sampled_from(["sites", "protection_zones"])


def answered_or_refused(db: Session, cql, lang, layer, crs) -> None:
    """compile_filter answers (and the database runs the answer) or raises InputError."""
    try:
        where, params = compile_filter(cql, lang, layer, crs)
    except InputError as error:
        assert error.user_message("vi") and error.user_message("en")
        return
    with db.begin_nested():
        run(db, layer, where, params)


fuzzed = settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture,
                                         HealthCheck.too_slow])


@fuzzed
@given(st.one_of(CONDITIONS, TOKEN_FILTERS, st.text(max_size=60)), CRS_VALUES, LAYER_NAMES)
@example("rank = 'national' AND types = 'historical'", None, "sites")
@example("name_vi LIKE '%\\'", None, "sites")  # a pattern ending with the escape
@example("valid_from T_DURING INTERVAL('2020-01-01T00:00:00Z','2019-01-01T00:00:00Z')",
         None, "protection_zones")
def test_any_text_filter_is_answered_or_refused(db, cql, crs, layer_name):
    answered_or_refused(db, cql, "cql2-text", get_layer(layer_name), crs)


@fuzzed
@given(st.one_of(JSON_CONDITIONS.map(json.dumps), st.text(max_size=40)), CRS_VALUES,
       LAYER_NAMES)
@example('{"op": "like", "args": [{"property": "name_vi"}, "%\\\\"]}', None, "sites")
@example('{"op": "in", "args": [{"property": "types"}, "historical"]}', None, "sites")
@example('{"op": "=", "args": [{"property": "name_vi"}, "\\ud800"]}', None, "sites")
def test_any_json_filter_is_answered_or_refused(db, cql, crs, layer_name):
    answered_or_refused(db, cql, "cql2-json", get_layer(layer_name), crs)


def test_every_example_in_the_guide_runs(db):
    """docs/ogc-filtering.md stays true: each curl example's filter compiles for its
    collection and the database runs it."""
    import re
    from pathlib import Path

    guide = (Path(__file__).parents[1] / "docs" / "ogc-filtering.md").read_text()
    examples = re.findall(r"curl -G '[^']*/collections/(\w+)/items' \\\n(.*?)\n```", guide,
                          re.S)
    assert len(examples) >= 5
    for collection, args in examples:
        values = dict(re.findall(r"--data-urlencode [\"']([\w-]+)=(.*?)[\"']\s*(?:\\|$)",
                                 args, re.S))
        where, params = compile_filter(values["filter"], values.get("filter-lang"),
                                       get_layer(collection), values.get("filter-crs"))
        assert run(db, get_layer(collection), where, params) is not None
