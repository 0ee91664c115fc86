"""Build data/demo/khoai_chau.json from data/demo_source.py.

    python data/build_demo.py [--out data/demo/khoai_chau.json]

Also importable: ``build() -> dict``. The output is deterministic (no randomness, no
clock). All geometry is APPROXIMATE and generated here with shapely:

- communes before 2024: Voronoi cells of hand-placed commune centres, clipped to a
  hand-drawn outline of the district; later communes are unions of those cells;
- protection zone I: a slightly irregular, rotated rectangle around the relic's position;
  zone II: an irregular polygon (mean radius 170–300 m) that contains zone I;
- landscapes and polygon facilities: small generated shapes near the linked relic.

Coordinates are WGS84 lon/lat rounded to 6 decimals; polygons are MultiPolygons. The
build checks validity and containment and raises AssertionError if a check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    mapping,
)
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_source as src

OUT = Path(__file__).resolve().parent / "demo" / "khoai_chau.json"
APPROX = "approximate"
GRID = 1e-6  # output precision in degrees (about 0.1 m)
M_PER_DEG_LAT = 110_700.0
M_PER_DEG_LON = 104_100.0  # at about 20.8° N


# --- geometry helpers --------------------------------------------------------------------


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point `east_m`/`north_m` metres from (lon, lat), flat-earth approximation."""
    return lon + east_m / M_PER_DEG_LON, lat + north_m / M_PER_DEG_LAT


def snap(geom: BaseGeometry) -> BaseGeometry:
    """Snap to the 1e-6° output grid, keeping the geometry valid."""
    out = shapely.set_precision(geom, GRID)
    assert out.is_valid and not out.is_empty, "invalid geometry after snapping"
    return out


def _coords(c: Any) -> Any:
    if isinstance(c[0], (list, tuple)):
        return [_coords(x) for x in c]
    return [round(c[0], 6), round(c[1], 6)]


def geojson(geom: BaseGeometry) -> dict:
    if isinstance(geom, Polygon):
        geom = MultiPolygon([geom])
    elif isinstance(geom, LineString):
        geom = MultiLineString([geom])
    g = mapping(geom)
    return {"type": g["type"], "coordinates": _coords(g["coordinates"])}


def multipolygon(geom: BaseGeometry) -> dict:
    geom = snap(geom)
    assert geom.geom_type in ("Polygon", "MultiPolygon"), geom.geom_type
    return geojson(geom)


def wobbly(
    lon: float, lat: float, radius_m: float, seed: int, n: int = 20, amplitude: float = 0.18
) -> Polygon:
    """An irregular, star-shaped (hence valid) polygon of mean radius `radius_m`."""
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        r = radius_m * (
            1 + amplitude * math.sin(3 * a + 1.7 * seed) + 0.4 * amplitude * math.cos(5 * a + seed)
        )
        pts.append(offset(lon, lat, r * math.cos(a), r * math.sin(a)))
    return Polygon(pts)


def compound(lon: float, lat: float, length_m: float, width_m: float, seed: int) -> Polygon:
    """A rotated, slightly irregular rectangle (a walled temple precinct) around a point."""
    angle = math.radians(12 + 23 * (seed % 5))
    half_l, half_w = length_m / 2, width_m / 2
    corners = [(-half_l, -half_w), (half_l, -half_w), (half_l, half_w), (-half_l, half_w)]
    pts = []
    for k, (x, y) in enumerate(corners):
        jitter = 1 + 0.06 * math.sin(seed + 2.1 * k)
        x, y = x * jitter, y * (2 - jitter)
        pts.append(
            offset(
                lon,
                lat,
                x * math.cos(angle) - y * math.sin(angle),
                x * math.sin(angle) + y * math.cos(angle),
            )
        )
    return Polygon(pts)


def strip(lon: float, lat: float, length_m: float, width_m: float) -> Polygon:
    """A north–south strip (a river bank) centred on a point."""
    return Polygon(
        [
            offset(lon, lat, sx * width_m / 2, sy * length_m / 2)
            for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
    )


# --- administrative units ----------------------------------------------------------------


def commune_cells(outline: Polygon) -> dict[str, BaseGeometry]:
    """Voronoi cells of the commune centres, clipped to the district outline."""
    centres = {code: Point(c) for code, _, _, c, _, _ in src.OLD_COMMUNES}
    for code, p in centres.items():
        assert outline.contains(p), f"commune centre {code} outside the outline"
    cells = shapely.voronoi_polygons(
        MultiPoint(list(centres.values())), extend_to=outline.buffer(0.05)
    )
    out = {}
    for code, point in centres.items():
        cell = next(c for c in cells.geoms if c.contains(point))
        out[code] = snap(cell.intersection(outline))
    return out


def merged_commune(code: str, name: str, parent: str, valid_from: str, valid_to: str | None,
                   cells: dict, members: list[str], predecessors: list[str],
                   source: str) -> dict:
    """A commune formed by a reorganisation: drawn as the union of its members' cells,
    succeeding `predecessors` (the units in force the day before `valid_from`)."""
    return {"code": code, "name": name, "level": "commune", "parent_code": parent,
            "valid_from": valid_from, "valid_to": valid_to,
            "geometry": multipolygon(unary_union([cells[m] for m in members])),
            "merged_from": predecessors, "source": source, "accuracy": APPROX}


def admin_units(outline: Polygon, cells: dict[str, BaseGeometry]) -> list[dict]:
    names = {code: name for code, name, *_ in src.OLD_COMMUNES}
    units: list[dict] = [
        {
            "code": src.PROVINCE["code"],
            "name": src.PROVINCE["name"],
            "level": "province",
            "parent_code": None,
            "valid_from": src.PROVINCE["valid_from"],
            "valid_to": None,
            "geometry": None,
            "source": src.PROVINCE["source"],
            "accuracy": None,
        },
        {
            "code": src.DISTRICT["code"],
            "name": src.DISTRICT["name"],
            "level": "district",
            "parent_code": src.PROVINCE["code"],
            "valid_from": src.DISTRICT["valid_from"],
            "valid_to": src.DISTRICT["valid_to"],
            "geometry": multipolygon(outline),
            "source": src.DISTRICT["source"],
            "accuracy": APPROX,
        },
    ]
    for code, name, level, _, valid_to, note in src.OLD_COMMUNES:
        parts = [src.S_UNITS, src.S_GSO]
        if valid_to == src.REORG_2024:
            parts.append(
                "reorganised in 2024 into xã Phạm Hồng Thái, Chí Minh or Nguyễn Huệ "
                f"({src.S_1248}); end date 2024-11-30 assumed"
            )
        else:
            parts.append(f"merged on 1 July 2025 ({src.S_1666})")
        if note:
            parts.append(note)
        parts.append(
            "shape: Voronoi cell of a hand-placed centre, clipped to the sketched district outline"
        )
        units.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": src.DISTRICT["code"],
                "valid_from": src.DISTRICT["valid_from"],
                "valid_to": valid_to,
                "geometry": multipolygon(cells[code]),
                "source": "; ".join(parts),
                "accuracy": APPROX,
            }
        )
    for code, name, members, note in src.INTERIM_COMMUNES:
        units.append(merged_commune(
            code, name, src.DISTRICT["code"], src.INTERIM_FROM, "2025-06-30",
            cells, members, list(members),
            f"{src.S_1248}; name in {src.S_1666}; {note}; drawn as the union of "
            f"{', '.join(names[m] for m in members)}; code is a placeholder; start date "
            "2024-12-01 assumed"))
    # A 2025 commune succeeds the units in force on 30 June 2025: an interim 2024
    # commune where one existed, else the old commune itself.
    interim_of = {m: code for code, _, members, _ in src.INTERIM_COMMUNES for m in members}
    for code, name, members, note in src.NEW_COMMUNES:
        units.append(merged_commune(
            code, name, src.PROVINCE["code"], src.NEW_FROM, None, cells, members,
            list(dict.fromkeys(interim_of.get(m, m) for m in members)),
            f"{src.S_1666}: {note}; {src.S_NEWCODE}; drawn as the union of the pre-2024 "
            "communes it covers"))
    return units


# --- heritage ----------------------------------------------------------------------------


def sites_and_zones(
    cells: dict[str, BaseGeometry], outline: Polygon
) -> tuple[list[dict], list[dict], dict[str, tuple[float, float]]]:
    sites, zones, positions = [], [], {}
    for n, s in enumerate(src.SITES):
        point = snap(Point(s["lon"], s["lat"]))
        lon, lat = point.x, point.y
        assert outline.contains(point), f"{s['heritage_id']} outside the district"
        assert cells[s["commune"]].contains(point), f"{s['heritage_id']} outside its commune"
        positions[s["heritage_id"]] = (lon, lat)
        sites.append(
            {
                "heritage_id": s["heritage_id"],
                "name_vi": s["name_vi"],
                "name_en": s["name_en"],
                "other_names": s["other_names"],
                "types": s["types"],
                "rank": s["rank"],
                "ranking_decision_no": s["ranking_decision_no"],
                "ranking_decision_date": s["ranking_decision_date"],
                "period": s["period"],
                "materials": s["materials"],
                "description_vi": s["description_vi"],
                "description_en": s["description_en"],
                "admin_unit_code": s["commune"],
                "location": geojson(point),
                "source": s["source"],
                "accuracy": APPROX,
                "accuracy_note": s["accuracy_note"],
                "status": "published",
                "sensitive": False,
            }
        )
        zone_i = snap(compound(lon, lat, *s["zone_i_m"], seed=n))
        ring = wobbly(lon, lat, s["zone_ii_m"], seed=n + 7)
        zone_ii = snap(unary_union([ring, zone_i.buffer(15 / M_PER_DEG_LON)]))
        assert zone_i.contains(point), f"{s['heritage_id']}: point not in zone I"
        assert zone_ii.contains(zone_i), f"{s['heritage_id']}: zone I not in zone II"
        assert outline.contains(zone_ii), f"{s['heritage_id']}: zone II leaves the district"
        for zone, geom in (("I", zone_i), ("II", zone_ii)):
            zones.append(
                {
                    "heritage_id": s["heritage_id"],
                    "zone": zone,
                    "geometry": multipolygon(geom),
                    "decision_no": None,
                    "decision_date": None,
                    "valid_from": s["ranking_decision_date"],
                    "source": "generated: zone I a rectangle of "
                    f"{s['zone_i_m'][0]}×{s['zone_i_m'][1]} m, zone II about "
                    f"{s['zone_ii_m']} m around the approximate position; "
                    "not the legal zoning map",
                    "accuracy": APPROX,
                }
            )
    return sites, zones, positions


def _anchor(item: dict, positions: dict[str, tuple[float, float]]) -> tuple[float, float]:
    if "lon" in item:
        return item["lon"], item["lat"]
    lon, lat = positions[item["heritage_id"]]
    return offset(lon, lat, *item["offset_m"])


def landscapes(positions: dict[str, tuple[float, float]], outline: Polygon) -> list[dict]:
    out = []
    for n, item in enumerate(src.LANDSCAPES):
        lon, lat = _anchor(item, positions)
        shape = (
            strip(lon, lat, *item["strip_m"])
            if "strip_m" in item
            else wobbly(lon, lat, item["radius_m"], seed=n + 20, n=16, amplitude=0.12)
        )
        shape = snap(shape)
        assert outline.contains(shape), f"landscape {item['name_vi']} leaves the district"
        out.append(
            {
                "heritage_id": item["heritage_id"],
                "kind": item["kind"],
                "name_vi": item["name_vi"],
                "name_en": item["name_en"],
                "geometry": multipolygon(shape),
                "source": item["source"],
                "accuracy": APPROX,
            }
        )
    return out


def facilities(positions: dict[str, tuple[float, float]], outline: Polygon) -> list[dict]:
    out = []
    for n, item in enumerate(src.FACILITIES):
        lon, lat = _anchor(item, positions)
        if "radius_m" in item:
            shape = snap(wobbly(lon, lat, item["radius_m"], seed=n + 40, n=12, amplitude=0.1))
            geometry = multipolygon(shape)
        else:
            shape = snap(Point(lon, lat))
            geometry = geojson(shape)
        assert outline.contains(shape), f"facility {item['name_vi']} leaves the district"
        out.append(
            {
                "heritage_id": item["heritage_id"],
                "kind": item["kind"],
                "name_vi": item["name_vi"],
                "name_en": item["name_en"],
                "geometry": geometry,
                "source": item["source"],
                "accuracy": APPROX,
            }
        )
    return out


def lines(items: list[dict], with_ref: bool) -> list[dict]:
    out = []
    for item in items:
        line = snap(LineString(item["points"]))
        assert line.is_simple, item["name_vi"]
        out.append(
            {
                "name_vi": item["name_vi"],
                "name_en": item["name_en"],
                **({"ref": item["ref"]} if with_ref else {}),
                "geometry": geojson(line),
                "accuracy": APPROX,
            }
        )
    return out


def intangible() -> list[dict]:
    keys = (
        "heritage_id",
        "name_vi",
        "name_en",
        "ich_type",
        "national_listing_decision_no",
        "national_listing_date",
        "community",
        "site_heritage_ids",
        "events",
        "description_vi",
        "description_en",
        "source",
    )
    return [{k: item[k] for k in keys} for item in src.INTANGIBLE]


# --- checks ------------------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def check(data: dict) -> None:
    """Cross-record checks: ids, references, text normalisation, sizes."""
    site_ids = [s["heritage_id"] for s in data["sites"]]
    assert len(set(site_ids)) == len(site_ids)
    codes = {u["code"] for u in data["admin_units"]}
    for s in data["sites"]:
        assert s["admin_unit_code"] in codes, s["heritage_id"]
        assert {
            z["zone"] for z in data["protection_zones"] if z["heritage_id"] == s["heritage_id"]
        } == {"I", "II"}
    for item in data["landscapes"] + data["facilities"]:
        assert item["heritage_id"] is None or item["heritage_id"] in site_ids
    for item in data["intangible_heritage"]:
        assert set(item["site_heritage_ids"]) <= set(site_ids)
    for unit in data["admin_units"]:
        for code in unit.get("merged_from", []):
            assert code in codes, code
    for text in _strings(data):
        assert unicodedata.is_normalized("NFC", text), text
        assert "{" not in text, f"unformatted placeholder in {text!r}"


def build() -> dict:
    """The demo set as a dict (see data/README.md for the format)."""
    outline = snap(Polygon(src.DISTRICT_OUTLINE))
    cells = commune_cells(outline)
    union = unary_union(list(cells.values()))
    assert outline.symmetric_difference(union).area < 1e-8, "cells do not tile the district"
    sites, zones, positions = sites_and_zones(cells, outline)
    data = {
        "meta": {
            "name": "Khoái Châu demo",
            "generated_by": "data/build_demo.py",
            "note": "Demonstration data. Every geometry is approximate: drawn by hand or "
            "generated from hand-placed points, never surveyed; protection zones "
            "are not the legal zoning maps. Facts carry their sources; see "
            "data/README.md.",
        },
        "admin_units": admin_units(outline, cells),
        "sites": sites,
        "protection_zones": zones,
        "landscapes": landscapes(positions, outline),
        "facilities": facilities(positions, outline),
        "rivers": lines(src.RIVERS, with_ref=False),
        "roads": lines(src.ROADS, with_ref=True),
        "intangible_heritage": intangible(),
    }
    check(data)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output file (%(default)s)")
    args = parser.parse_args()
    data = build()
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    assert len(text.encode("utf-8")) < 1_000_000, "demo file must stay under 1 MB"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
    print(f"wrote {args.out} ({len(text.encode('utf-8'))} bytes): {counts}")


if __name__ == "__main__":
    main()
