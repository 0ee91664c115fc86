"""OGC API items benchmark: /ogc/ items by bbox vs the same SQL, and a full read by GDAL.

Generates 10k synthetic published relics with zones I/II in its own database
(`heritage_bench_ogc` on the private cluster), serves the app with gunicorn as
`make run` does (2 workers x 4 threads), then prints:

1. items of a random commune-sized (~3 km) bbox: requests/s, p50, p95 over HTTP, next to
   the same statement (gis_app.ogc.query.items_sql) run by psycopg from as many threads,
   and the p95 ratio (target <= 1.5);
2. a full read of the 10k relics by GDAL's OAPIF driver with its default options
   (`ogrinfo -al`, pages of 10 in GDAL 3.6) and with `-oo PAGE_SIZE=10000`, with the
   number of requests each made (target <= 1 s).

    .venv/bin/python bench/ogc_items.py [--sites 10000] [--requests 300] [--concurrency 8]
Traffic goes to 127.0.0.1 only; every run is bounded in count.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import AREA, free_port, populate  # noqa: E402

from gis_app.config import private_cluster_url  # noqa: E402
from gis_app.ogc.params import Box  # noqa: E402
from gis_app.ogc.query import ItemsQuery, items_sql  # noqa: E402
from gis_app.services import migrations  # noqa: E402
from layers import get_layer  # noqa: E402

DB = "heritage_bench_ogc"
SIZE = 0.03  # degrees, ~3 km
LIMIT = 1000


def start_app(url: str, access_log: str) -> tuple[subprocess.Popen, str]:
    """gunicorn as `make run` starts it (2 workers x 4 threads), logging each request."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench", GIS_RATE_LIMITS="0")
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", "2", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
         "--access-logfile", access_log, "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/ogc/conformance", timeout=10)
            return proc, base
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app did not start")


def boxes(count: int) -> list[tuple[float, float, float, float]]:
    rng = random.Random(7)
    out = []
    for _ in range(count):
        x = rng.uniform(AREA[0], AREA[2] - SIZE)
        y = rng.uniform(AREA[1], AREA[3] - SIZE)
        out.append((round(x, 6), round(y, 6), round(x + SIZE, 6), round(y + SIZE, 6)))
    return out


def timed_run(task, items, concurrency: int) -> tuple[float, float, float]:
    latencies: list[float] = []

    def one(item) -> None:
        t0 = time.perf_counter()
        task(item)
        latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, items))
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49] * 1000, q[94] * 1000


def to_psycopg(sql: str) -> str:
    import re
    return re.sub(r"(?<!:):([a-z_0-9]+)", r"%(\1)s", sql.replace("%", "%%"))


def gdal_read(base: str, log: Path, *options: str) -> tuple[float, int, int]:
    """Seconds, features read and requests made by `ogrinfo -al` of the sites."""
    before = log.read_text().count("/ogc/") if log.exists() else 0
    t0 = time.perf_counter()
    out = subprocess.run(["ogrinfo", "-ro", "-al", "-q", *options, f"OAPIF:{base}/ogc/",
                          "sites"], capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - t0
    features = out.count("OGRFeature(sites)")
    made = log.read_text().count("/ogc/") - before
    return elapsed, features, made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    if args.requests > 5000 or args.concurrency > 32 or args.sites > 200_000:
        raise SystemExit("keep the load bounded: --requests <= 5000, --concurrency <= 32, "
                         "--sites <= 200000")
    subprocess.run([str(ROOT / "scripts" / "devdb.sh"), "recreate", DB], check=True,
                   stdout=subprocess.DEVNULL)
    url = private_cluster_url(DB)
    migrations.upgrade(url)
    t0 = time.perf_counter()
    populate(url, args.sites)
    print(f"generated {args.sites} relics + {2 * args.sites} zones in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)
    log = Path(f"/tmp/ogc_bench_access_{DB}.log")
    log.unlink(missing_ok=True)
    proc, base = start_app(url, access_log=str(log))
    try:
        items = boxes(args.requests)
        local = threading.local()

        def http_get(box) -> None:
            s = getattr(local, "s", None) or requests.Session()
            local.s = s
            r = s.get(f"{base}/ogc/collections/sites/items",
                      params={"bbox": ",".join(map(str, box)), "limit": LIMIT}, timeout=30)
            r.raise_for_status()

        layer = get_layer("sites")

        def bare_sql(box) -> None:
            c = getattr(local, "c", None) or psycopg.connect(
                url.replace("+psycopg", ""), autocommit=True, prepare_threshold=None)
            local.c = c
            sql, params = items_sql(layer, ItemsQuery(limit=LIMIT, bbox=Box(*box, 4326)))
            c.execute(to_psycopg(sql), params).fetchone()

        timed_run(http_get, items[:20], args.concurrency)  # warm up
        app = timed_run(http_get, items, args.concurrency)
        floor = timed_run(bare_sql, items, args.concurrency)
        print(f"items by bbox (~3 km, limit {LIMIT}), {args.requests} requests, "
              f"{args.concurrency} clients")
        print(f"  app  {app[0]:7.1f} req/s  p50 {app[1]:6.1f} ms  p95 {app[2]:6.1f} ms")
        print(f"  SQL  {floor[0]:7.1f} req/s  p50 {floor[1]:6.1f} ms  p95 {floor[2]:6.1f} ms")
        print(f"  p95 ratio app/SQL {app[2] / floor[2]:.2f} (target <= 1.5)", flush=True)
        for label, options in (("GDAL default options", ()),
                               ("GDAL -oo PAGE_SIZE=10000", ("-oo", "PAGE_SIZE=10000"))):
            seconds, got, made = gdal_read(base, log, *options)
            print(f"full read, {label}: {got} features in {seconds:.2f} s, {made} requests "
                  f"(target <= 1 s)", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
