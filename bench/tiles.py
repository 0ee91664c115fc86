"""Vector tile benchmark: the app's tiles beside bare ST_AsMVT, and GeoJSON-by-bbox beside
tiles for the views of the public map.

Builds its own database `heritage_bench_tiles` on the private cluster (the demo data:
communes, rivers, roads; plus `--relics` generated published relics, each with zones I
and II), starts the app with gunicorn (2 workers x 4 threads, as `make run`) on
127.0.0.1, then:

1. tiles vs the floor: random tiles of `sites` and `protection_zones` at zooms 12, 14 and
   16 inside the district, sent by wrk to the app with its tile cache off (every request
   renders) beside the very statement the app runs (services/tiles.tile_sql) replayed by
   pgbench; requests/s, p50, p95 and the p95 ratio (app / SQL). A third column is the
   app with its disk cache warm (every tile already rendered).
2. GeoJSON vs tiles for the map: for `protection_zones` and `communes`, the district view
   (zoom 12) and a commune view (zoom 15) of a 1280x800 desktop map: what the map does
   today (one GeoJSON request for the bbox padded by 20 %, limit = the layer's) beside
   the tiles covering the view fetched 6 at a time as a browser does; bytes on the wire
   (brotli/gzip as negotiated), wall time, features; tiles cold (cache empty) and warm.

    .venv/bin/python bench/tiles.py [--relics 10000] [--requests 300] [--concurrency 8]
Traffic goes to 127.0.0.1 only; every run is bounded in count and time.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import AREA, PGBENCH, WRK_SCRIPT, free_port, run_pgbench, run_wrk, summary  # noqa: E402

from gis_app.clock import today_in_vietnam
from gis_app.config import private_cluster_url
from gis_app.services import demo, migrations, tiles
from layers import get_layer

DATABASE = "heritage_bench_tiles"
VIEW_PX = (1280, 800)
VIEWS = {"district (z12)": 12, "commune (z15)": 15}
BROWSER_CONNECTIONS = 6


def populate(url: str, n: int) -> None:
    """n generated published relics (identifiers from VN-HY-DT-500001, clear of the demo
    set), each with zone I (~50 m) and zone II (~150 m)."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("""
            INSERT INTO heritage_identifiers (id, kind)
            SELECT format('VN-HY-DT-%%s', 500000 + g), 'site'
              FROM generate_series(1, %(n)s) g""", {"n": n})
        conn.execute("""
            INSERT INTO sites (heritage_id, name_vi, rank, types, geom, status, accuracy)
            SELECT format('VN-HY-DT-%%s', 500000 + g), format('Đình thử số %%s', g),
                   (ARRAY['national','provincial','inventoried'])[1 + g %% 3],
                   ARRAY['historical'],
                   ST_SetSRID(ST_MakePoint(%(x0)s + random() * %(dx)s,
                                           %(y0)s + random() * %(dy)s), 4326),
                   'published', 'approximate'
              FROM generate_series(1, %(n)s) g""",
                     {"n": n, "x0": AREA[0], "y0": AREA[1], "dx": AREA[2] - AREA[0],
                      "dy": AREA[3] - AREA[1]})
        conn.execute("""
            INSERT INTO protection_zones (site_id, zone, geom, accuracy)
            SELECT id, z.zone, ST_Multi(ST_Buffer(geom, z.r, 8)), 'approximate'
              FROM sites, (VALUES ('I', 0.0005), ('II', 0.0015)) AS z(zone, r)
             WHERE heritage_id >= 'VN-HY-DT-500001'""")
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2 ** z
    return (int((lon + 180) / 360 * n),
            int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))


def tile_range(box: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """x0, y0, x1, y1 of the tiles covering `box` at zoom z (inclusive)."""
    x0, y1 = tile_of(box[0], box[1], z)
    x1, y0 = tile_of(box[2], box[3], z)
    return x0, y0, x1, y1


def view_box(center: tuple[float, float], z: int, pad: float = 0.0):
    """The lon/lat box a VIEW_PX map shows at zoom z (Web Mercator), grown by `pad` of its
    size on each side as Leaflet's `getBounds().pad()`."""
    scale = 256 * 2 ** z
    cx = (center[0] + 180) / 360 * scale
    cy = (1 - math.asinh(math.tan(math.radians(center[1]))) / math.pi) / 2 * scale
    w, h = VIEW_PX[0] * (1 + 2 * pad), VIEW_PX[1] * (1 + 2 * pad)

    def lonlat(px: float, py: float) -> tuple[float, float]:
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / scale))))
        return px / scale * 360 - 180, lat

    west, north = lonlat(cx - w / 2, cy - h / 2)
    east, south = lonlat(cx + w / 2, cy + h / 2)
    return (west, south, east, north)


def start_app(url: str, cache_dir: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", GIS_RATE_LIMITS="0",
               GIS_TILE_CACHE_DIR=cache_dir, GIS_JOBS_WORKER="0")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--access-logfile", "/dev/null", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            requests.get(base + "/tiles.json", timeout=10).raise_for_status()
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(15)


def wrk(base: str, paths: list[str], concurrency: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p95 (ms) of GETs of `paths` (in turn) sent by wrk for 10 s."""
    return run_wrk(base, WRK_SCRIPT % ", ".join(f'"{p}"' for p in paths), concurrency)


def pgbench(url: str, layer_name: str, z: int, count: int,
            concurrency: int) -> tuple[float, float, float]:
    """The app's tile statement for random tiles of zoom z inside AREA, run by pgbench."""
    x0, y0, x1, y1 = tile_range(AREA, z)
    sql = (tiles.tile_sql(get_layer(layer_name), None)
           .replace(":margin", repr(tiles.MARGIN))
           .replace("CAST(:name AS text)", f"'{layer_name}'")
           .replace(":today", f"DATE '{today_in_vietnam().isoformat()}'"))
    script = (f"\\set z {z}\n\\set x random({x0}, {x1})\n\\set y random({y0}, {y1})\n"
              + " ".join(sql.split()) + ";\n")
    elapsed, lat, _ = run_pgbench(url, DATABASE, script, concurrency,
                                  transactions=max(1, count // concurrency), jit=None)
    return summary(elapsed, lat)


def random_tiles(layer: str, z: int, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    x0, y0, x1, y1 = tile_range(AREA, z)
    return [f"/tiles/{layer}/{z}/{rng.randint(x0, x1)}/{rng.randint(y0, y1)}.mvt"
            for _ in range(count)]


def fetch_all(base: str, paths: list[str]) -> tuple[int, float]:
    """Bytes on the wire and wall seconds to GET every path, BROWSER_CONNECTIONS at a
    time, accepting brotli and gzip."""
    headers = {"Accept-Encoding": "br, gzip"}
    sizes: list[int] = []

    def get(path: str) -> None:
        r = requests.get(base + path, headers=headers, timeout=60, stream=True)
        r.raise_for_status()
        sizes.append(len(r.raw.read(decode_content=False)))

    t0 = time.perf_counter()
    with ThreadPoolExecutor(BROWSER_CONNECTIONS) as pool:
        list(pool.map(get, paths))
    return sum(sizes), time.perf_counter() - t0


def compare_views(base: str, cache_dir: Path) -> list[str]:
    lines = []
    center = ((AREA[0] + AREA[2]) / 2, (AREA[1] + AREA[3]) / 2)
    for layer_name in ("protection_zones", "communes"):
        layer = get_layer(layer_name)
        for label, z in VIEWS.items():
            box = view_box(center, z, pad=0.2)
            geo = (f"/api/layers/{layer_name}.geojson?bbox="
                   f"{','.join(f'{v:.6f}' for v in box)}&limit={layer.limit}")
            features = len(requests.get(base + geo, timeout=60).json()["features"])
            g_bytes, g_time = min((fetch_all(base, [geo]) for _ in range(3)),
                                  key=lambda m: m[1])
            x0, y0, x1, y1 = tile_range(view_box(center, z), z)
            paths = [f"/tiles/{layer_name}/{z}/{x}/{y}.mvt"
                     for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
            for old in cache_dir.glob("*"):
                subprocess.run(["rm", "-rf", str(old)], check=True)
            t_bytes, cold = fetch_all(base, paths)
            _, warm = min((fetch_all(base, paths) for _ in range(3)), key=lambda m: m[1])
            lines.append(
                f"{layer_name:<17} {label:<14} GeoJSON {features:5d} features "
                f"{g_bytes / 1024:8.1f} KB {g_time * 1000:7.1f} ms | tiles {len(paths):3d} "
                f"{t_bytes / 1024:8.1f} KB cold {cold * 1000:7.1f} ms warm "
                f"{warm * 1000:7.1f} ms")
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--relics", type=int, default=10000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.requests > 5000 or args.concurrency > 32 or args.relics > 200000:
        raise SystemExit("keep the load bounded: --requests <= 5000, --concurrency <= 32, "
                         "--relics <= 200000")
    if not (PGBENCH.exists() and subprocess.run(["which", "wrk"],
                                                capture_output=True).returncode == 0):
        raise SystemExit("needs wrk and pgbench: apt-get install -y wrk postgresql-15 "
                         "(make bench installs them)")
    subprocess.run([str(ROOT / "scripts" / "devdb.sh"), "recreate", DATABASE], check=True,
                   stdout=subprocess.DEVNULL)
    url = private_cluster_url(DATABASE)
    migrations.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        demo.load_demo(session)
    engine.dispose()
    t0 = time.perf_counter()
    populate(url, args.relics)
    print(f"demo data + {args.relics} relics + {2 * args.relics} zones in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache_dir = Path(tmp) / "tiles"
        uncached, base = start_app(url, "")
        try:
            for layer in ("sites", "protection_zones"):
                for z in (12, 14, 16):
                    paths = random_tiles(layer, z, args.requests, seed=z)
                    fetch_all(base, paths[:20])  # warm up
                    app = wrk(base, paths, args.concurrency)
                    floor = pgbench(url, layer, z, args.requests, args.concurrency)
                    rows.append([layer, z, app, floor])
                    print(f"{layer:<17} z{z:<3} app {app[0]:7.1f} req/s p95 {app[2]:6.1f} ms"
                          f" | SQL {floor[0]:7.1f} q/s p95 {floor[2]:6.1f} ms", flush=True)
        finally:
            stop_app(uncached)
        cached, base = start_app(url, str(cache_dir))
        try:
            for row in rows:
                paths = random_tiles(row[0], row[1], args.requests, seed=row[1])
                fetch_all(base, sorted(set(paths)))  # fill the cache
                row.append(wrk(base, paths, args.concurrency))
            print("\nGeoJSON by bbox (what the map does) vs tiles, 1280x800 view, "
                  f"{BROWSER_CONNECTIONS} connections", flush=True)
            views = compare_views(base, cache_dir)
        finally:
            stop_app(cached)

    print(f"\nsummary: tiles vs bare ST_AsMVT ({args.relics} relics, p95 ratio = app "
          "without cache / SQL)")
    for layer, z, app, floor, warm in rows:
        print(f"{layer:<17} z{z:<3} app {app[0]:7.1f} req/s p50 {app[1]:6.1f} p95 "
              f"{app[2]:6.1f} ms | SQL {floor[0]:7.1f} q/s p50 {floor[1]:6.1f} p95 "
              f"{floor[2]:6.1f} ms | p95 ratio {app[2] / floor[2]:4.2f} | cache warm "
              f"{warm[0]:7.1f} req/s p95 {warm[2]:6.1f} ms")
    print("\nGeoJSON vs tiles")
    for line in views:
        print(line)


if __name__ == "__main__":
    main()
