"""Build data/demo/khoai_chau.json from data/demo_source.py.

    python data/build_demo.py [--out data/demo/khoai_chau.json]

Geometry is generated deterministically with shapely and is APPROXIMATE: commune
polygons are Voronoi cells of sketched commune centres clipped to a sketched district
outline; zones I / II are irregular buffers around each relic's approximate position.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from shapely import voronoi_polygons
from shapely.geometry import LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon, mapping
from shapely.ops import unary_union

sys.path.insert(0, str(Path(__file__).resolve().parent))
import demo_source as src  # noqa: E402

OUT = Path(__file__).resolve().parent / "demo" / "khoai_chau.json"
M_PER_DEG_LAT = 110_700.0
M_PER_DEG_LON = 104_100.0  # at ~20.8° N


def rounded(geom: dict) -> dict:
    def r(c):  # noqa: ANN001, ANN202
        return [r(x) for x in c] if isinstance(c[0], (list, tuple)) else [round(c[0], 6),
                                                                           round(c[1], 6)]
    return {"type": geom["type"], "coordinates": r(geom["coordinates"])}


def multi(poly: Polygon | MultiPolygon) -> dict:
    poly = poly if isinstance(poly, MultiPolygon) else MultiPolygon([poly])
    return rounded(mapping(poly))


def blob(lon: float, lat: float, radius_m: float, seed: int) -> Polygon:
    """An irregular but valid polygon of about `radius_m` around a point."""
    pts = []
    for i in range(24):
        a = 2 * math.pi * i / 24
        wobble = 1 + 0.15 * math.sin(3 * a + seed) + 0.08 * math.cos(5 * a + 2 * seed)
        pts.append((lon + math.cos(a) * radius_m * wobble / M_PER_DEG_LON,
                    lat + math.sin(a) * radius_m * wobble / M_PER_DEG_LAT))
    return Polygon(pts)


def build() -> dict:
    outline = Polygon(src.DISTRICT_OUTLINE)
    centres = {code: Point(c) for code, _, _, c in src.OLD_COMMUNES}
    cells = voronoi_polygons(MultiPoint(list(centres.values())), extend_to=outline.buffer(0.1))
    old_cells: dict[str, Polygon] = {}
    for code, point in centres.items():
        cell = next(c for c in cells.geoms if c.contains(point))
        old_cells[code] = cell.intersection(outline)

    approx = "approximate"
    units = [
        {"code": "33", "name": "Hưng Yên", "level": "province", "parent_code": None,
         "valid_from": "1997-01-01", "valid_to": None, "geometry": None,
         "source": "province code 33 (code repositories; unverified)", "accuracy": None},
        {"code": "KC", "name": "Khoái Châu", "level": "district", "parent_code": "33",
         "valid_from": "1997-01-01", "valid_to": "2025-06-30", "geometry": multi(outline),
         "source": f"district abolished 1 July 2025; {src.SKETCH}", "accuracy": approx},
    ]
    for code, name, level, _ in src.OLD_COMMUNES:
        units.append({"code": code, "name": name, "level": level, "parent_code": "KC",
                      "valid_from": "1997-01-01", "valid_to": "2025-06-30",
                      "geometry": multi(old_cells[code]),
                      "source": f"{src.PORTAL}; code is a placeholder; shape: Voronoi cell "
                                f"of a sketched centre", "accuracy": approx})
    for code, name, members in src.NEW_COMMUNES:
        shape = unary_union([old_cells[m] for m in members]).buffer(0)
        units.append({"code": code, "name": name, "level": "commune", "parent_code": "33",
                      "valid_from": "2025-07-01", "valid_to": None, "geometry": multi(shape),
                      "merged_from": members, "source": src.MERGER, "accuracy": approx})

    sites, zones = [], []
    positions: dict[str, tuple[float, float]] = {}
    for n, site in enumerate(src.SITES):
        cx, cy = centres[site["commune"]].coords[0]
        lon, lat = cx + site["offset"][0], cy + site["offset"][1]
        positions[site["heritage_id"]] = (lon, lat)
        sites.append({
            "heritage_id": site["heritage_id"], "name_vi": site["name_vi"],
            "name_en": site.get("name_en"), "other_names": site.get("other_names", []),
            "types": site["types"], "rank": site["rank"],
            "ranking_decision_no": site.get("ranking_decision_no"),
            "ranking_decision_date": site.get("ranking_decision_date"),
            "period": site.get("period"), "materials": site.get("materials"),
            "description_vi": site.get("description_vi"),
            "description_en": site.get("description_en"),
            "admin_unit_code": site["commune"],
            "location": rounded(mapping(Point(lon, lat))), "source": site["source"],
            "accuracy": approx,
            "accuracy_note": "Placed near the commune's sketched centre; not surveyed.",
            "status": "published", "sensitive": False})
        zone_i = blob(lon, lat, 55 + 10 * (n % 3), n)
        zone_ii = blob(lon, lat, 200 + 30 * (n % 4), n + 7).union(zone_i)
        for zone, geom in (("I", zone_i), ("II", zone_ii)):
            zones.append({"heritage_id": site["heritage_id"], "zone": zone,
                          "geometry": multi(geom), "decision_no": None, "decision_date": None,
                          "valid_from": site.get("ranking_decision_date"),
                          "source": "generated around the approximate position",
                          "accuracy": approx})

    landscapes = []
    for n, item in enumerate(src.LANDSCAPES):
        lon, lat = positions[item["heritage_id"]]
        geom = blob(lon + item["offset"][0], lat + item["offset"][1], item["radius_m"], n + 20)
        landscapes.append({"heritage_id": item["heritage_id"], "kind": item["kind"],
                           "name_vi": item["name_vi"], "name_en": item["name_en"],
                           "geometry": multi(geom), "source": item["source"],
                           "accuracy": approx})
    facilities = []
    for item in src.FACILITIES:
        lon, lat = positions[item["heritage_id"]]
        facilities.append({"heritage_id": item["heritage_id"], "kind": item["kind"],
                           "name_vi": item["name_vi"], "name_en": item["name_en"],
                           "geometry": rounded(mapping(Point(lon + item["offset"][0],
                                                             lat + item["offset"][1]))),
                           "source": "placed by hand", "accuracy": approx})

    def lines(items: list[dict], with_ref: bool) -> list[dict]:
        return [{"name_vi": i["name_vi"], "name_en": i["name_en"],
                 **({"ref": i.get("ref")} if with_ref else {}),
                 "geometry": rounded(mapping(MultiLineString([LineString(i["points"])]))),
                 "accuracy": approx} for i in items]

    return {
        "meta": {"name": "Khoái Châu demo", "generated_by": "data/build_demo.py",
                 "note": "All geometry is approximate (sketched or generated), never surveyed. "
                         "See data/README.md."},
        "admin_units": units,
        "sites": sites,
        "protection_zones": zones,
        "landscapes": landscapes,
        "facilities": facilities,
        "rivers": lines(src.RIVERS, False),
        "roads": lines(src.ROADS, True),
        "intangible_heritage": [{**item, "description_vi": None, "description_en": None,
                                 "national_listing_decision_no": None,
                                 "national_listing_date": None} for item in src.INTANGIBLE],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = build()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(data['sites'])} sites)")


if __name__ == "__main__":
    main()
