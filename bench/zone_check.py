"""Zone-check benchmark: `POST /api/zone-check` and the bulk check vs the bare SQL.

Generates synthetic published sites with zones I/II (as bench/geojson_bbox.py does) in
a scratch database on the private cluster, starts the app with gunicorn on 127.0.0.1
and measures:

1. single checks: wrk POSTs one of N pre-generated random parcels (~20-200 m wide,
   inside the district) as a GeoJSON body, for a bounded time at bounded concurrency;
   beside it pgbench runs the same statement (`CHECK_SQL`, one random parcel of the
   same N per transaction). Goal (issue 16): the app's checks/s at c=8 >= 50 % of
   pgbench's for the same statement, measured in the same run (the machine's load
   average is printed beside it: app, PostgreSQL and load generators share the cores).
2. bulk: 10,000 random parcels checked by `zone_reports.bulk_check` (when it exists)
   and by one bare SQL statement over a temp table of the parcels. Target: <= 2x.

    .venv/bin/python bench/zone_check.py [--sites 10000] [--parcels 2000]
                                         [--duration 10] [--concurrency 8]
                                         [--bulk 10000] [--profile 0]

`--profile N` also runs N checks in-process (Flask test client) under cProfile and
prints where the Python time goes. Traffic goes to 127.0.0.1 only; every run is
bounded in count and time. The scratch database is `heritage_bench_zone` (not
geojson_bbox.py's `heritage_bench`, so the two benchmarks may run side by side; `--db`
names another).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psycopg
import requests
import shapely
import shapely.affinity
from shapely.geometry import Polygon

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import (
    AREA,
    PGBENCH,
    free_port,
    load_average,
    populate,
    run_pgbench,
    run_wrk,
    sh,
    start_app,
)

from gis_app.clock import today_in_vietnam
from gis_app.config import private_cluster_url
from gis_app.services import migrations
from gis_app.services.zone_check import CHECK_SQL

DB = "heritage_bench_zone"
TARGET_CHECKS_PER_S = 1000
TARGET_SQL_SHARE = 0.5  # issue 16: >= 50 % of pgbench's rate for the same statement
TARGET_BULK_RATIO = 2.0


# --- parcels -------------------------------------------------------------------------

def parcels(seed: int, count: int) -> list[Polygon]:
    """`count` random star-shaped (hence valid) polygons 20-200 m wide in AREA."""
    rng = random.Random(seed)
    margin = 0.003
    out = []
    for _ in range(count):
        cx = rng.uniform(AREA[0] + margin, AREA[2] - margin)
        cy = rng.uniform(AREA[1] + margin, AREA[3] - margin)
        width = rng.uniform(20, 200)
        aspect = rng.uniform(0.5, 1.0)
        rx = width / 2 / (111_320 * math.cos(math.radians(cy)))
        ry = width * aspect / 2 / 110_574
        k = rng.randint(4, 10)
        # evenly spread angles, jittered: the centre stays inside, the ring simple
        turn = rng.uniform(0, 2 * math.pi)
        angles = [turn + 2 * math.pi * (j + rng.uniform(-0.3, 0.3)) / k for j in range(k)]
        ring = [(round(cx + rx * rng.uniform(0.7, 1.0) * math.cos(a), 7),
                 round(cy + ry * rng.uniform(0.7, 1.0) * math.sin(a), 7)) for a in angles]
        poly = Polygon(ring)
        assert poly.is_valid, ring
        out.append(poly)
    return out


def geojson_body(poly: Polygon) -> str:
    return json.dumps({"type": "Polygon",
                       "coordinates": [[list(c) for c in poly.exterior.coords]]},
                      separators=(",", ":"))


def outside(polys: list[Polygon]) -> list[Polygon]:
    """The parcels moved 0.05 degrees west of AREA: they touch no zone, so each check
    takes CHECK_SQL's other branch (the nearest relic)."""
    return [shapely.affinity.translate(p, xoff=AREA[0] - 0.05 - p.bounds[2] + 0.01)
            for p in polys]


def load_parcels(url: str, polys: list[Polygon]) -> None:
    """The parcels as WKB in a table `bench_parcels` (for pgbench)."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_parcels")
        conn.execute("CREATE TABLE bench_parcels (id int PRIMARY KEY, wkb bytea NOT NULL)")
        with conn.cursor().copy("COPY bench_parcels (id, wkb) FROM STDIN") as copy:
            for i, poly in enumerate(polys, start=1):
                copy.write_row((i, shapely.to_wkb(poly)))
        conn.execute("ANALYZE bench_parcels")


# --- single checks: wrk + pgbench --------------------------------------------------------

WRK_SCRIPT = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local headers = {["Content-Type"] = "application/json"}
local i = 0
init = function(args)
  i = math.random(#bodies)
end
request = function()
  i = i + 1
  return wrk.format("POST", "/api/zone-check", headers, bodies[(i %% #bodies) + 1])
end
"""
WRK_DONE = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %f %f\\n", summary.requests,
    summary.errors.status + summary.errors.read + summary.errors.timeout
      + summary.errors.connect + summary.errors.write,
    summary.duration, latency:percentile(50), latency:percentile(95)))
end
"""


def wrk(base: str, bodies: list[str], concurrency: int,
        duration: int) -> tuple[float, float, float]:
    """Checks/s, p50 and p95 (ms) of POST /api/zone-check sent by wrk."""
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "bodies.txt"
        body_file.write_text("\n".join(bodies) + "\n")
        return run_wrk(base, WRK_SCRIPT % body_file + WRK_DONE, concurrency, duration)


def start_bare(*gunicorn_args: str) -> tuple[subprocess.Popen, str]:
    """gunicorn with the app's settings serving bench/bare_wsgi.py (no Flask, no
    database): the ceiling of any Python answer on this machine."""
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "--access-logfile", "/dev/null", *gunicorn_args, "--pythonpath", "bench",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "bare_wsgi:app"],
        cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base, timeout=10)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("gunicorn with bench/bare_wsgi.py did not start")


def wrk_get(base: str, path: str, concurrency: int,
            duration: int) -> tuple[float, float, float]:
    """Requests/s, p50, p95 (ms) of GET `path` by wrk: what the HTTP stack alone gives."""
    return run_wrk(base + path, WRK_DONE, concurrency, duration)


def pgbench_sql(on_date: date, full: bool = False) -> str:
    """CHECK_SQL with its binds substituted; the parcel is row :i of bench_parcels."""
    sql = CHECK_SQL.text
    sql = sql.replace("SELECT ST_GeomFromWKB(:wkb, 4326) AS g)",
                      "SELECT ST_GeomFromWKB(wkb, 4326) AS g FROM bench_parcels WHERE id = :i)")
    sql = sql.replace(":on_date", f"DATE '{on_date.isoformat()}'")
    sql = sql.replace(":full", "true" if full else "false")
    left = set(re.findall(r"(?<!:):([a-z_]+)", sql)) - {"i"}
    if left or ":i)" not in sql:
        raise SystemExit(f"CHECK_SQL changed; cannot substitute its binds {sorted(left)}")
    return " ".join(sql.split())


def pgbench(url: str, first: int, count: int, concurrency: int,
            duration: int, db: str = DB) -> tuple[float, float, float]:
    """The same statement run by pgbench for `duration` s over bench_parcels rows
    first..first+count-1: q/s, p50, p95 (ms)."""
    script = (f"\\set i random({first}, {first + count - 1})\n"
              + pgbench_sql(today_in_vietnam()) + ";\n")
    # the app's connect options (jit=off): the same statement under the same settings
    _, lat, out = run_pgbench(url, db, script, concurrency, seconds=duration, prepared=True)
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
    q = statistics.quantiles(lat, n=100)
    return tps, q[49] * 1000, q[94] * 1000


# --- bulk ------------------------------------------------------------------------------

BULK_SQL = """
WITH pa AS MATERIALIZED (
  SELECT id, g, ST_Area(g::geography) AS area
    FROM (SELECT id, ST_GeomFromWKB(wkb, 4326) AS g FROM bulk_parcels) p
),
hits AS (
  SELECT pa.id,
         json_agg(json_build_object(
           'heritage_id', s.heritage_id, 'name_vi', s.name_vi, 'name_en', s.name_en,
           'rank', s.rank, 'zone', z.zone, 'decision_no', z.decision_no,
           'overlap', o.overlap, 'relic_distance', o.relic_distance)
           ORDER BY o.relic_distance, z.zone) AS hits
    FROM pa
    JOIN protection_zones z ON ST_Intersects(z.geom, pa.g)
    JOIN sites s ON s.id = z.site_id
    CROSS JOIN LATERAL (
      SELECT CASE WHEN ST_Dimension(pa.g) = 2
                  THEN ST_Area(ST_Intersection(z.geom, pa.g)::geography) ELSE 0 END
               AS overlap,
             ST_Distance(s.geom::geography, pa.g::geography) AS relic_distance) o
   WHERE (z.valid_from IS NULL OR z.valid_from <= %(on_date)s)
     AND (z.valid_to IS NULL OR z.valid_to >= %(on_date)s)
     AND (%(full)s OR (s.status = 'published' AND NOT s.sensitive))
   GROUP BY pa.id
)
SELECT pa.id, pa.area, coalesce(h.hits, '[]') AS hits, n.nearest
  FROM pa
  LEFT JOIN hits h ON h.id = pa.id
  LEFT JOIN LATERAL (
    SELECT json_build_object('heritage_id', s.heritage_id, 'site_name_vi', s.name_vi,
                             'site_name_en', s.name_en, 'rank', s.rank,
                             'distance_m', ST_Distance(s.geom::geography, pa.g::geography))
             AS nearest
      FROM sites s
     WHERE h.id IS NULL
       AND (%(full)s OR (s.status = 'published' AND NOT s.sensitive))
     ORDER BY s.geom <-> pa.g LIMIT 1) n ON true
 ORDER BY pa.id
"""


def bulk_sql(url: str, polys: list[Polygon]) -> tuple[float, float, int, int]:
    """Seconds (load + statement, statement alone), parcels hit, total hits."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        t0 = time.perf_counter()
        conn.execute("CREATE TEMP TABLE bulk_parcels (id int PRIMARY KEY, wkb bytea)")
        with conn.cursor().copy("COPY bulk_parcels (id, wkb) FROM STDIN") as copy:
            for i, poly in enumerate(polys, start=1):
                copy.write_row((i, shapely.to_wkb(poly)))
        conn.execute("ANALYZE bulk_parcels")
        t1 = time.perf_counter()
        rows = conn.execute(BULK_SQL, {"on_date": today_in_vietnam(), "full": False}).fetchall()
        t2 = time.perf_counter()
    hit = sum(1 for r in rows if r[2])
    return t2 - t0, t2 - t1, hit, sum(len(r[2]) for r in rows)


def bulk_app(url: str, polys: list[Polygon]) -> tuple[float, object] | str:
    """Seconds of `zone_reports.bulk_check` over a FeatureCollection file, or why not."""
    try:
        from gis_app.services import zone_reports
    except Exception as exc:  # noqa: BLE001 - someone else is writing it right now
        return f"gis_app.services.zone_reports does not import ({exc!r})"
    if not hasattr(zone_reports, "bulk_check"):
        return "gis_app.services.zone_reports.bulk_check does not exist yet"
    from gis_app import create_app
    from gis_app.config import Config
    from gis_app.db import get_session

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "parcels.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": i}, "geometry": json.loads(geojson_body(p))}
            for i, p in enumerate(polys, start=1)]}))
        cfg = Config(DATABASE_URL=url, SECRET_KEY="bench", UPLOAD_DIR=tmp)
        app = create_app(cfg)
        with app.app_context():
            db = get_session()
            t0 = time.perf_counter()
            try:
                result = zone_reports.bulk_check(db, path, None)
            except Exception as exc:  # noqa: BLE001 - report, do not hide the SQL figure
                return f"bulk_check failed: {exc!r}"
            elapsed = time.perf_counter() - t0
            db.rollback()
    summary = result[0] if isinstance(result, tuple) and result else result
    return elapsed, summary


# --- profile -------------------------------------------------------------------------

CATEGORIES = [
    ("psycopg (incl. waiting for PostgreSQL)", ("psycopg/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("shapely / GEOS", ("shapely/",)),
    ("pyproj (geodesic area)", ("pyproj/",)),
    ("JSON (parse + serialise)", ("json/", "flask/json")),
    ("Flask / Werkzeug / flask_login / babel", ("flask", "werkzeug/", "babel/", "jinja2/")),
]


def profile(url: str, bodies: list[str], count: int) -> None:
    """`count` checks in-process under cProfile: where the Python time goes."""
    from gis_app import create_app
    from gis_app.config import Config

    # Rate limits off: one in-process client makes every request.
    app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench", RATELIMIT_ENABLED=False))
    client = app.test_client()
    for body in bodies[:20]:  # warm up: connections, prepared statements
        client.post("/api/zone-check", data=body, content_type="application/json")
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for i in range(count):
        r = client.post("/api/zone-check", data=bodies[i % len(bodies)],
                        content_type="application/json")
        assert r.status_code == 200, r.data[:300]
    prof.disable()
    elapsed = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    total = sum(tt for (_, _, tt, _, _) in stats.stats.values())
    print(f"\nprofile: {count} checks in-process, one thread: {count / elapsed:.0f} checks/s "
          f"({1000 * elapsed / count:.2f} ms each, {1000 * total / count:.2f} ms profiled)")
    spent = dict.fromkeys([c for c, _ in CATEGORIES] + ["other"], 0.0)
    for (filename, _, _), (_, _, tt, _, _) in stats.stats.items():
        for name, needles in CATEGORIES:
            if any(n in filename for n in needles):
                spent[name] += tt
                break
        else:
            spent["other"] += tt
    for name, tt in spent.items():
        print(f"  {name:<48} {1000 * tt / count:6.2f} ms/check {100 * tt / total:5.1f} %")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    print("\n".join(out.getvalue().splitlines()[6:]))


# --- main ------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=10000)
    parser.add_argument("--parcels", type=int, default=2000,
                        help="distinct parcels sent in the single-check load")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk/pgbench")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bulk", type=int, default=10000, help="parcels in the bulk check "
                        "(0: skip)")
    parser.add_argument("--profile", type=int, default=0,
                        help="also profile this many in-process checks (0: no)")
    parser.add_argument("--db", default=DB, help="scratch database name")
    parser.add_argument("--gunicorn", default="",
                        help="extra gunicorn arguments, e.g. '--workers 4 --threads 1'")
    args = parser.parse_args()
    if not (shutil.which("wrk") and PGBENCH.exists()):
        raise SystemExit("needs wrk and pgbench: apt-get install -y wrk postgresql-15 "
                         "(make bench installs them)")
    if not (1 <= args.sites <= 200_000 and 1 <= args.parcels <= 10_000
            and 1 <= args.duration <= 60 and 1 <= args.concurrency <= 32
            and 0 <= args.bulk <= 50_000 and 0 <= args.profile <= 5000):
        raise SystemExit("keep the load bounded: --sites <= 200000, --parcels <= 10000, "
                         "--duration <= 60, --concurrency <= 32, --bulk <= 50000, "
                         "--profile <= 5000")

    print(f"start: {load_average()}; gunicorn.conf.py {args.gunicorn}", flush=True)
    sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", args.db)
    url = private_cluster_url(args.db)
    migrations.upgrade(url)
    t0 = time.perf_counter()
    populate(url, args.sites)
    print(f"generated {args.sites} sites + {2 * args.sites} zones in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    single = parcels(1, args.parcels)
    bodies = [geojson_body(p) for p in single]
    load_parcels(url, single + outside(single))

    proc, base = start_app(url, *args.gunicorn.split())
    try:
        session = requests.Session()
        hits = []
        for body in bodies[:50]:  # warm up, and check the answers look right
            r = session.post(base + "/api/zone-check", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
            r.raise_for_status()
            hits.append(len(r.json()["results"][0]["hits"]))
        print(f"warm-up: 50 checks, {sum(h > 0 for h in hits)} in a zone, "
              f"{statistics.mean(hits):.1f} zones hit on average", flush=True)
        ceiling = wrk_get(base, "/api/openapi.json", args.concurrency,
                          min(5, args.duration))
        print_single("HTTP ceiling", ceiling, flush=True, unit="req/s")
        app = wrk(base, bodies, args.concurrency, args.duration)
        app_load = load_average()
        print_single("app (wrk)", app, flush=True)
        floor = pgbench(url, 1, args.parcels, args.concurrency, args.duration, args.db)
        floor_load = load_average()
        print_single("SQL (pgbench)", floor, flush=True)
        miss = pgbench(url, args.parcels + 1, args.parcels, args.concurrency,
                       min(5, args.duration), args.db)
        print_single("SQL no zone", miss, flush=True)
    finally:
        proc.terminate()
        proc.wait(30)

    proc, base = start_bare(*args.gunicorn.split())
    try:
        bare = wrk(base, bodies, args.concurrency, min(5, args.duration))
        print_single("bare WSGI", bare, flush=True, unit="req/s")
    finally:
        proc.terminate()
        proc.wait(30)

    bulk_rows = None
    if args.bulk:
        polys = parcels(2, args.bulk)
        sql_total, sql_stmt, hit, nhits = bulk_sql(url, polys)
        print(f"bulk SQL: {args.bulk} parcels in {sql_total:.2f} s ({sql_stmt:.2f} s the "
              f"statement), {hit} parcels in a zone, {nhits} zone hits", flush=True)
        app_bulk = bulk_app(url, polys)
        if isinstance(app_bulk, str):
            print(f"bulk app: skipped - {app_bulk}", flush=True)
        else:
            print(f"bulk app: {args.bulk} parcels in {app_bulk[0]:.2f} s; summary: "
                  f"{str(app_bulk[1])[:300]}", flush=True)
        bulk_rows = (sql_total, app_bulk)

    if args.profile:
        profile(url, bodies, args.profile)

    print(f"\nsummary ({args.sites} sites, {args.parcels} parcels, "
          f"{args.concurrency} connections, {args.duration} s, {os.cpu_count()} CPUs; "
          f"client, app and database share the machine)")
    print_single("HTTP ceiling", ceiling, unit="req/s")
    print("    (wrk GET /api/openapi.json: gunicorn + Flask with no database, the most "
          "any endpoint gets here)")
    print_single("bare WSGI", bare, unit="req/s")
    print("    (wrk POSTs the same bodies to bench/bare_wsgi.py under the same gunicorn "
          "settings: no framework, no database, the most any Python answer gets here)")
    print_single("app (wrk)", app)
    print_single("SQL (pgbench)", floor)
    print_single("SQL no zone", miss)
    print("    (the same statement for parcels touching no zone: the nearest-relic branch)")
    share = app[0] / floor[0]
    met = "met" if share >= TARGET_SQL_SHARE else "NOT met"
    print(f"  app / SQL checks/s: {share:.2f} (goal >= {TARGET_SQL_SHARE:.2f}: {met}); "
          f"p95 ratio {app[2] / floor[2]:.2f}")
    print(f"  bare WSGI / SQL: {bare[0] / floor[0]:.2f} (a Python answer that did no work "
          f"at all); app / bare WSGI: {app[0] / bare[0]:.2f}")
    print(f"  {app_load} while the app ran, {floor_load} while pgbench ran; "
          f"end: {load_average()}")
    met = "met" if app[0] >= TARGET_CHECKS_PER_S else "NOT met"
    print(f"  target >= {TARGET_CHECKS_PER_S} single checks/s: {met} ({app[0]:.0f}/s)")
    if bulk_rows:
        sql_total, app_bulk = bulk_rows
        print(f"  bulk {args.bulk}: SQL {sql_total:.2f} s", end="")
        if isinstance(app_bulk, str):
            print(" | app skipped")
        else:
            ratio = app_bulk[0] / sql_total
            met = "met" if ratio <= TARGET_BULK_RATIO else "NOT met"
            print(f" | app {app_bulk[0]:.2f} s | ratio {ratio:.2f} "
                  f"(target <= {TARGET_BULK_RATIO:.0f}x: {met})")


def print_single(label: str, row: tuple[float, float, float], flush: bool = False,
                 unit: str = "checks/s") -> None:
    rate, p50, p95 = row
    print(f"  {label:<14} {rate:8.1f} {unit:<8}  p50 {p50:7.2f} ms  p95 {p95:7.2f} ms",
          flush=flush)


if __name__ == "__main__":
    main()
