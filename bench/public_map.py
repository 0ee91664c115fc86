"""Public map benchmark: `/` and `/api/sites/filters` at 100k relics vs their bare SQL.

Loads the demo set into a scratch database on the private cluster (never the test
database), adds N synthetic published relics spread over today's communes (some with
festivals, some drafts the public must not count), starts the app with gunicorn on
127.0.0.1 as `make run` does, and for each page:

  1. records the SQL statements one anonymous request runs once the page's data is
     cached (the second GET; SQLAlchemy events, in process), with their bound values
     rendered in, and times the first (cold) GET, which builds the cache;
  2. sends the page's GETs with wrk (C, 8 connections, a few seconds);
  3. runs the recorded statements as one pgbench transaction per "request" with the
     same concurrency and the app's connect options (jit=off): the floor;

and prints requests/s and p50/p95 latency of both, the p95 ratio, the machine's load
(1-minute load average over the cores, before and after each measurement: other work
on a shared machine lowers both figures) and the goal of issue 16: >= 200 requests/s
with p95 <= 50 ms at 100k relics, 8 clients.

    .venv/bin/python bench/public_map.py [--sites 100000] [--seconds 8]
                                         [--concurrency 8] [--jit on|off]
`--jit on` also measures the floor with PostgreSQL's default JIT, to show what the
connect option saves. Traffic goes to 127.0.0.1 only; every run is bounded in time.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import PGBENCH, WRK_SCRIPT, free_port, run_pgbench, run_wrk, sh, summary  # noqa: E402

from gis_app import create_app  # noqa: E402
from gis_app.config import Config, private_cluster_url  # noqa: E402
from gis_app.db import database  # noqa: E402
from gis_app.services import demo, migrations  # noqa: E402

DB_NAME = "heritage_bench_map"
PAGES = ("/", "/api/sites/filters")
KINDS = ("Đình", "Chùa", "Đền", "Miếu", "Phủ", "Nhà thờ họ")


def populate(url: str, n: int, seed: int = 15) -> None:
    """The demo set, then n synthetic relics in today's communes: 97 % published, 3 %
    drafts; one in 50 has a festival (lunar or solar) of its own."""
    app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench", TESTING=True))
    with app.app_context(), database().session() as session, session.begin():
        demo.load_demo(session)
    rng = random.Random(seed)
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        communes = [r[0] for r in conn.execute(
            "SELECT id FROM admin_units WHERE level IN ('commune', 'ward', 'town') "
            "AND valid_to IS NULL AND geom IS NOT NULL")]
        start = conn.execute("SELECT count(*) FROM heritage_identifiers").fetchone()[0]
        rows = []
        for i in range(n):
            k = start + i + 1
            rows.append((f"VN-HY-DT-{500000 + k:06d}", f"{rng.choice(KINDS)} thôn {k}",
                         rng.choice(("national", "provincial", "inventoried", None)),
                         [rng.choice(("historical", "architectural_artistic", "scenic"))],
                         "draft" if rng.random() < 0.03 else "published",
                         rng.choice(communes)))
        with conn.cursor() as cur:
            with cur.copy("COPY heritage_identifiers (id, kind) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row((r[0], "site"))
            cur.execute("CREATE TEMP TABLE bm (heritage_id text, name_vi text, rank text, "
                        "types text[], status text, unit int)")
            with cur.copy("COPY bm FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            # A point inside the commune, so that maps, filters and units agree.
            cur.execute("""
                INSERT INTO sites (heritage_id, name_vi, rank, types, geom, status,
                                   accuracy, admin_unit_id)
                SELECT bm.heritage_id, bm.name_vi, bm.rank, bm.types,
                       ST_SetSRID(ST_PointOnSurface(u.geom), 4326), bm.status,
                       'approximate', bm.unit
                  FROM bm JOIN admin_units u ON u.id = bm.unit""")
            cur.execute("""
                INSERT INTO heritage_events (site_id, name_vi, lunar_month, lunar_day,
                                             solar_date, duration_days)
                SELECT s.id, 'Lễ hội ' || s.name_vi,
                       CASE WHEN s.id % 2 = 0 THEN 1 + s.id % 12 END,
                       CASE WHEN s.id % 2 = 0 THEN 1 + s.id % 28 END,
                       CASE WHEN s.id % 2 = 1 THEN DATE '2026-01-01' + (s.id % 365) END,
                       1 + s.id % 3
                  FROM sites s JOIN bm ON bm.heritage_id = s.heritage_id
                 WHERE s.id % 50 = 0""")
        conn.commit()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def recorded_sql(url: str, path: str) -> tuple[list[str], float]:
    """The statements one anonymous GET of `path` runs once the app has built its cache
    (values rendered in), and how long the first, cold GET took (seconds)."""
    app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench", RATELIMIT_ENABLED=False,
                            JOBS_WORKER=False))
    statements: list[tuple[str, object]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:
        statements.append((statement, parameters))

    engine = app.extensions["gis_db"].engine
    t0 = time.perf_counter()
    app.test_client().get(path)  # builds what the app caches
    cold = time.perf_counter() - t0
    event.listen(engine, "before_cursor_execute", record)
    response = app.test_client().get(path)
    event.remove(engine, "before_cursor_execute", record)
    if response.status_code != 200:
        raise SystemExit(f"GET {path} answered {response.status_code}")
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        cur = psycopg.ClientCursor(conn)
        return [" ".join(cur.mogrify(sql, params).split()) for sql, params in statements], cold


def start_app(url: str) -> tuple[subprocess.Popen, str]:
    """gunicorn with the project's gunicorn.conf.py (as `make run`), on a free port."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", GIS_RATE_LIMITS="0")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL)  # the access log
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            with psycopg.connect(url.replace("+psycopg", "")):
                pass
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                  base + "/api/sites/filters"], capture_output=True,
                                 text=True, timeout=30).stdout
            if out == "200":
                return proc, base
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def wrk(base: str, path: str, concurrency: int, seconds: int) -> tuple[float, float, float]:
    return run_wrk(base, WRK_SCRIPT % f'"{path}"', concurrency, seconds)


def pgbench(url: str, statements: list[str], concurrency: int, seconds: int,
            jit: str) -> tuple[float, float, float]:
    """The recorded statements as one transaction, run by pgbench for `seconds`."""
    script = "BEGIN;\n" + "".join(s.replace("\\", "\\\\") + ";\n" for s in statements) + \
        "COMMIT;\n"
    elapsed, lat, _ = run_pgbench(url, DB_NAME, script, concurrency, seconds=seconds,
                                  jit=jit)
    return summary(elapsed, lat)


GOAL_RPS, GOAL_P95_MS = 200.0, 50.0


def load() -> str:
    """The 1-minute load average per core, e.g. "load 1.4/2 cores"."""
    return f"load {os.getloadavg()[0]:.1f}/{os.cpu_count()} cores"


def print_row(label: str, app, floor, what: str = "app", machine: str = "") -> None:
    (rps, p50, p95), (frps, fp50, fp95) = app, floor
    unit = "req/s" if what == "app" else " tx/s"
    goal = ""
    if what == "app":
        met = rps >= GOAL_RPS and p95 <= GOAL_P95_MS
        goal = f" | goal >= {GOAL_RPS:.0f} req/s, p95 <= {GOAL_P95_MS:.0f} ms: " \
               f"{'met' if met else 'NOT met'}"
    print(f"{label:<19} {what} {rps:7.1f} {unit} p50 {p50:7.1f} ms p95 {p95:7.1f} ms | "
          f"SQL {frps:7.1f} tx/s p50 {fp50:6.1f} ms p95 {fp95:6.1f} ms | "
          f"p95 ratio {p95 / fp95:5.2f} | rps ratio {rps / frps:5.2f}{goal}"
          f"{' | ' + machine if machine else ''}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--jit", choices=("on", "off"), default="off",
                        help="also measure the floor with JIT on")
    args = parser.parse_args()
    if not (shutil.which("wrk") and PGBENCH.exists()):
        raise SystemExit("needs wrk and pgbench: scripts/system.sh bench installs them")
    if args.sites > 200_000 or args.seconds > 30 or args.concurrency > 32:
        raise SystemExit("keep it bounded: --sites <= 200000, --seconds <= 30, "
                         "--concurrency <= 32")
    sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", DB_NAME)
    url = private_cluster_url(DB_NAME)
    migrations.upgrade(url)
    t0 = time.perf_counter()
    populate(url, args.sites)
    print(f"demo set + {args.sites} relics in {time.perf_counter() - t0:.1f} s", flush=True)
    recorded = {path: recorded_sql(url, path)[0] for path in PAGES}
    for path in PAGES:  # once more: the first GET above also warmed PostgreSQL's cache
        print(f"{path}: first GET (builds the cache) {recorded_sql(url, path)[1] * 1000:.0f} ms",
              flush=True)
    proc, base = start_app(url)
    rows = []
    try:
        for path in PAGES:
            print(f"{path}: {len(recorded[path])} statements per cached request", flush=True)
            wrk(base, path, args.concurrency, 2)  # warm up
            before = load()
            app = wrk(base, path, args.concurrency, args.seconds)
            floor = pgbench(url, recorded[path], args.concurrency, args.seconds, "off")
            rows.append((path, app, floor, "app", f"{before} before, {load()} after"))
            print_row(*rows[-1])
            if args.jit == "on":
                jit = pgbench(url, recorded[path], args.concurrency, args.seconds, "on")
                rows.append((path, jit, floor, "SQL with JIT on"))
                print_row(*rows[-1])
    finally:
        proc.terminate()
        try:
            proc.wait(30)  # a loaded machine takes a while to stop the workers
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    print(f"\nsummary at {args.sites} relics, {args.concurrency} clients (ratios: against "
          "the bare SQL of a cached request with the app's connect options, JIT off; "
          f"{load()} now)")
    for row in rows:
        print_row(*row)


if __name__ == "__main__":
    main()
