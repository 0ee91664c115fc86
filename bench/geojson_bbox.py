"""GeoJSON bbox benchmark: the app vs the same queries as bare SQL (the floor).

Generates 10k and 100k synthetic sites with zones I/II in a scratch database on the
private cluster, starts the app with gunicorn on 127.0.0.1 as `make run` does
(gunicorn.conf.py), sends a bounded number of random commune-sized (~3 km) and
district-sized (~15 km) bbox requests at 1 and at 8 concurrent clients, and prints
requests/s and p50/p95 latency next to the same SQL run by pgbench in the same run, the
p95 ratio against the issue's goals (commune <= 1.5x, district <= 1.2x), the 1-minute
load average of the machine while each row ran, and what a repeated box (If-None-Match,
answered 304) costs.

Two kinds of load generator (`--client`):
  c       (default) wrk for HTTP and pgbench for the same SQL: both written in C, so
          the client costs little of the 2 cores the server also needs;
  python  requests for HTTP and psycopg for SQL, from 8 Python threads.

    .venv/bin/python bench/geojson_bbox.py [--sizes 10000,100000] [--requests 300]
                                           [--concurrency 1,8] [--client c|python]
                                           [--db heritage_bench]
Traffic goes to 127.0.0.1 only; every run is bounded in count (and wrk in time).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis_app.clock import today_in_vietnam
from gis_app.config import private_cluster_url
from gis_app.services import features, migrations
from layers import get_layer

AREA = (105.86, 20.74, 106.02, 20.93)  # Khoái Châu, roughly
BOXES = {"commune (~3 km)": 0.03, "district (~15 km)": 0.15}
# The goals: the app's p95 at most this many times the same SQL's (pgbench).
GOALS = {"commune (~3 km)": 1.5, "district (~15 km)": 1.2}
LIMIT = 1000


def load_average() -> str:
    """The machine's 1-, 5- and 15-minute load averages and its cores, for the record:
    the app, PostgreSQL and the load generators share the cores."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def sh(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def populate(url: str, n: int) -> None:
    """n synthetic published sites, each with zone I (~50 m) and zone II (~150 m)."""
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=False) as conn:
        conn.execute("""
            INSERT INTO heritage_identifiers (id, kind)
            SELECT format('VN-HY-DT-%%s', lpad(g::text, 6, '0')), 'site'
              FROM generate_series(1, %(n)s) g""", {"n": n})
        conn.execute("""
            INSERT INTO sites (heritage_id, name_vi, rank, types, geom, status, accuracy)
            SELECT format('VN-HY-DT-%%s', lpad(g::text, 6, '0')), format('Đình số %%s', g),
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
              FROM sites, (VALUES ('I', 0.0005), ('II', 0.0015)) AS z(zone, r)""")
        conn.commit()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(url: str, *gunicorn_args: str) -> tuple[subprocess.Popen, str]:
    """gunicorn as `make run` starts it (gunicorn.conf.py; `gunicorn_args`, e.g.
    "--workers", "4", override it), without the access log and the per-client rate
    limits (the load generator is one client making thousands of requests)."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", GIS_RATE_LIMITS="0")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
         "--access-logfile", "/dev/null", *gunicorn_args,
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/api/layers/sites.geojson?limit=1", timeout=10)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def boxes(seed: int, size: float, count: int) -> list[tuple[float, float, float, float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        x = rng.uniform(AREA[0], AREA[2] - size)
        y = rng.uniform(AREA[1], AREA[3] - size)
        out.append((round(x, 6), round(y, 6), round(x + size, 6), round(y + size, 6)))
    return out


def run(task, items, concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    def timed(item) -> None:
        t0 = time.perf_counter()
        task(item)
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(timed, items))
    return time.perf_counter() - t0, latencies


def summary(elapsed: float, lat: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(lat, n=100)
    return len(lat) / elapsed, q[49] * 1000, q[94] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", default="1,8",
                        help="concurrent clients, comma-separated")
    parser.add_argument("--client", choices=("c", "python"), default="c")
    parser.add_argument("--db", default="heritage_bench", help="scratch database name")
    parser.add_argument("--gunicorn", default="",
                        help="extra gunicorn arguments, e.g. '--workers 4 --threads 1'")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    if args.client == "c" and not (shutil.which("wrk") and PGBENCH.exists()):
        raise SystemExit("the C clients need wrk and pgbench: apt-get install -y wrk "
                         "postgresql-15 (make bench installs them), or use --client python")
    if args.requests > 5000 or max(levels) > 32 or min(levels) < 1:
        raise SystemExit("keep the load bounded: --requests <= 5000, --concurrency <= 32")

    print(f"start: {load_average()}; gunicorn.conf.py {args.gunicorn}", flush=True)
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", args.db)
        url = private_cluster_url(args.db)
        migrations.upgrade(url)
        t0 = time.perf_counter()
        populate(url, n)
        print(f"generated {n} sites + {2 * n} zones in {time.perf_counter() - t0:.1f} s",
              flush=True)
        proc, base = start_app(url, *args.gunicorn.split())
        session_local = threading.local()

        def http_get(item) -> None:
            layer, box = item
            s = getattr(session_local, "s", None) or requests.Session()
            session_local.s = s
            r = s.get(f"{base}/api/layers/{layer}.geojson",
                      params={"bbox": ",".join(map(str, box)), "limit": LIMIT}, timeout=30)
            r.raise_for_status()
            r.content  # noqa: B018 - read the body

        conn_local = threading.local()

        def bare_sql(item) -> None:
            layer_name, box = item
            # prepare_threshold=None: plan each query for its bbox, as the app's
            # SQLAlchemy connections do (a generic prepared plan ignores selectivity).
            c = getattr(conn_local, "c", None) or psycopg.connect(
                url.replace("+psycopg", ""), autocommit=True, prepare_threshold=None)
            conn_local.c = c
            layer = get_layer(layer_name)
            sql = features.geojson_sql(layer, features.BBox(*box), None)
            params = dict(zip(("minx", "miny", "maxx", "maxy"), box), limit=LIMIT,
                          offset=0, next="", today=today_in_vietnam())
            c.execute(to_psycopg(sql), params).fetchone()

        try:
            for layer in ("sites", "protection_zones"):
                for label, size in BOXES.items():
                    items = [(layer, b) for b in boxes(n + int(size * 1000), size,
                                                       args.requests)]
                    run(http_get, items[:20], max(levels))  # warm up
                    for c in levels:
                        if args.client == "c":
                            app = wrk(base, items, c)
                            floor = pgbench(url, layer, size, args.requests, c, args.db)
                        else:
                            app = summary(*run(http_get, items, c))
                            floor = summary(*run(bare_sql, items, c))
                        rows.append((n, layer, label, c, app, floor, load_average()))
                        print_row(rows[-1], flush=True)
            # A repeated box: the client sends the ETag it got (here "*", which
            # matches any): a 304 after reading the data version, no body built.
            items = [("sites", b) for b in boxes(n, 0.03, args.requests)]
            if args.client == "c":
                layer, box = items[0]
                check = requests.get(f"{base}/api/layers/{layer}.geojson",
                                     params={"bbox": ",".join(map(str, box)),
                                             "limit": LIMIT},
                                     headers={"If-None-Match": "*"}, timeout=30)
                if check.status_code != 304:
                    raise SystemExit(f"a repeated box got {check.status_code}, not 304")
                repeat = wrk(base, items, max(levels), headers={"If-None-Match": "*"})
                print(f"{n:>7} sites repeated commune box (304) c={max(levels)}: "
                      f"{repeat[0]:7.1f} req/s p50 {repeat[1]:6.1f} ms "
                      f"p95 {repeat[2]:6.1f} ms | {load_average()}", flush=True)
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"\nsummary (goals: p95 ratio <= {GOALS['commune (~3 km)']} for commune boxes, "
          f"<= {GOALS['district (~15 km)']} for district boxes; end: {load_average()})")
    for row in rows:
        print_row(row)


PGBENCH = Path("/usr/lib/postgresql/15/bin/pgbench")
WRK_SCRIPT = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%d %%f %%f\\n", summary.requests,
    summary.errors.status + summary.errors.read + summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(95)))
end
"""


def wrk(base: str, items, concurrency: int,
        headers: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Requests/s, p50 and p95 (ms) of the items' GETs sent by wrk for 10 s (with
    `headers`); an error status fails the run."""
    paths = ", ".join(f'"/api/layers/{layer}.geojson?bbox={",".join(map(str, box))}'
                      f'&limit={LIMIT}"' for layer, box in items)
    lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in (headers or {}).items())
    return run_wrk(base, (WRK_SCRIPT % paths).replace(
        'wrk.format("GET", paths[(i % #paths) + 1])',
        f'wrk.format("GET", paths[(i % #paths) + 1], {{{lua_headers}}})'), concurrency)


def run_wrk(url: str, lua: str, concurrency: int, seconds: int = 10) -> tuple[float, float, float]:
    """Requests/s, p50 and p95 (ms) of wrk running the Lua script `lua` (which prints a
    RESULT line when done, as WRK_SCRIPT does) against `url` for `seconds`; any failed
    request (an error status, a timeout) fails the run. Every benchmark's wrk goes here."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.lua"
        script.write_text(lua)
        out = subprocess.run(["wrk", f"-t{min(2, concurrency)}", f"-c{concurrency}",
                              f"-d{seconds}s", "--timeout", "30s", "-s", str(script), url],
                             capture_output=True, text=True, check=True).stdout
    _, count, errors, duration_us, p50, p95 = next(
        line for line in out.splitlines() if line.startswith("RESULT")).split()
    if int(errors):
        raise SystemExit(f"wrk saw {errors} failed requests:\n{out}")
    return int(count) / (int(duration_us) / 1e6), float(p50) / 1000, float(p95) / 1000


def run_pgbench(url: str, db: str, script: str, concurrency: int, *,
                seconds: int | None = None, transactions: int | None = None,
                jit: str | None = "off", prepared: bool = False
                ) -> tuple[float, list[float], str]:
    """(wall seconds, the latency of every transaction in seconds, pgbench's output) of
    pgbench running `script` on `db` of the private cluster at `url`, for `seconds` or
    `transactions` per client, logging each transaction. `jit`: the app's connect option
    (None: the cluster's setting). Every benchmark's pgbench goes here."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    limit = ["-T", str(seconds)] if seconds is not None else ["-t", str(transactions)]
    env = dict(os.environ, **({"PGOPTIONS": f"-c jit={jit}"} if jit else {}))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sql"
        path.write_text(script)
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(PGBENCH), "-n", *(["-M", "prepared"] if prepared else []), "-h", "127.0.0.1",
             "-p", port, "-U", "postgres", "-c", str(concurrency),
             "-j", str(min(2, concurrency)), *limit, "-f", str(path), "-l",
             "--log-prefix", f"{tmp}/log", db],
            check=True, capture_output=True, text=True, cwd=tmp, env=env).stdout
        elapsed = time.perf_counter() - t0
        lat = [int(line.split()[2]) / 1e6 for log in Path(tmp).glob("log*")
               for line in log.read_text().splitlines()]
    return elapsed, lat, out


def bbox_script(sql: str, size: float, limit: int = LIMIT) -> str:
    """A pgbench script running `sql` (bound :minx.. :maxy, :limit, :offset, :today)
    for a random box of `size` degrees in AREA each time, the first page of `limit`."""
    micro = int(size * 1e6)
    sql = (sql.replace(":minx", "(:x0 / 1000000.0)").replace(":miny", "(:y0 / 1000000.0)")
           .replace(":maxx", f"((:x0 + {micro}) / 1000000.0)")
           .replace(":maxy", f"((:y0 + {micro}) / 1000000.0)")
           .replace(":limit", str(limit)).replace(":offset", "0")
           .replace(":today", f"DATE '{today_in_vietnam().isoformat()}'"))
    return (f"\\set x0 random({int(AREA[0] * 1e6)}, {int((AREA[2] - size) * 1e6)})\n"
            f"\\set y0 random({int(AREA[1] * 1e6)}, {int((AREA[3] - size) * 1e6)})\n"
            + " ".join(sql.split()) + ";\n")


def pgbench(url: str, layer_name: str, size: float, count: int,
            concurrency: int, db: str = "heritage_bench") -> tuple[float, float, float]:
    """The same SQL with random boxes of `size` degrees, run by pgbench."""
    sql = features.geojson_sql(get_layer(layer_name), features.BBox(0, 0, 1, 1), None)
    script = bbox_script(sql.replace("CAST(:next AS text)", "''"), size)
    elapsed, lat, _ = run_pgbench(url, db, script, concurrency,
                                  transactions=max(1, count // concurrency))
    return summary(elapsed, lat)


def to_psycopg(sql: str) -> str:
    """`:name` bound parameters (SQLAlchemy text) to psycopg's `%(name)s`."""
    return re.sub(r"(?<!:):([a-z_]+)", r"%(\1)s", sql)


def print_row(row, flush: bool = False) -> None:
    n, layer, label, c, (rps, p50, p95), (frps, fp50, fp95), load = row
    ratio = p95 / fp95
    met = "met" if ratio <= GOALS[label] else "NOT met"
    print(f"{n:>7} {layer:<17} {label:<18} c={c:<2} app {rps:7.1f} req/s p50 {p50:6.1f} ms "
          f"p95 {p95:6.1f} ms | SQL {frps:7.1f} q/s p50 {fp50:6.1f} ms p95 {fp95:6.1f} ms "
          f"| p95 ratio {ratio:4.2f} (<= {GOALS[label]}: {met}) | {load}", flush=flush)


if __name__ == "__main__":
    main()
