"""OGC API items benchmark: /ogc/ items by bbox vs the same SQL, and a full read by GDAL.

Generates 10k synthetic published relics with zones I/II in its own database
(`heritage_bench_ogc` on the private cluster), serves the app with gunicorn as
`make run` does (2 workers x 4 threads), then prints:

1. items of a random commune-sized (~3 km) bbox, anonymous JSON: requests/s, p50, p95
   over HTTP (wrk, cycling through --requests random boxes for 10 s), next to the same
   statement (gis_app.ogc.query.items_sql) with random boxes of the same size run by
   pgbench for 10 s right after, and the p95 ratio (target <= 1.5), with the machine's
   load average after each;
2. a full read of the 10k relics by GDAL's OAPIF driver with its default options
   (`ogrinfo -al`, pages of 10 in GDAL 3.6) and with `-oo PAGE_SIZE=10000`, with the
   number of requests each made (target <= 1 s).

    .venv/bin/python bench/ogc_items.py [--sites 10000] [--requests 300] [--concurrency 8]
Traffic goes to 127.0.0.1 only; every run is bounded in count (wrk and pgbench in time).
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

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import (  # noqa: E402
    AREA,
    PGBENCH,
    WRK_SCRIPT,
    bbox_script,
    free_port,
    load_average,
    populate,
    run_pgbench,
    run_wrk,
    summary,
)

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


def wrk_items(base: str, items, concurrency: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p95 (ms) of anonymous JSON items GETs of the boxes, sent by
    wrk for 10 s (an error status fails the run)."""
    paths = ", ".join(f'"/ogc/collections/sites/items?f=json&limit={LIMIT}'
                      f'&bbox={",".join(map(str, box))}"' for box in items)
    return run_wrk(base, WRK_SCRIPT % paths, concurrency)


def pgbench_items(url: str, seconds: int, concurrency: int) -> tuple[float, float, float]:
    """The app's items statement (items_sql, first page, CRS84) for random ~3 km boxes,
    run by pgbench for `seconds` (as long as wrk runs) with the app's connection
    settings."""
    sql, _ = items_sql(get_layer("sites"), ItemsQuery(limit=LIMIT, bbox=Box(0, 0, 1, 1, 4326)))
    script = bbox_script(sql, SIZE, LIMIT)
    elapsed, lat, _ = run_pgbench(url, DB, script, concurrency, seconds=seconds)
    return summary(elapsed, lat)


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
    if not (shutil.which("wrk") and PGBENCH.exists()):
        raise SystemExit("needs wrk and pgbench: scripts/system.sh bench installs them")
    print(f"start: {load_average()}", flush=True)
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
        wrk_items(base, items[:20], args.concurrency)  # warm up
        app = wrk_items(base, items, args.concurrency)
        app_load = load_average()
        floor = pgbench_items(url, 10, args.concurrency)
        floor_load = load_average()
        print(f"items by bbox (~3 km, limit {LIMIT}, anonymous JSON), {args.concurrency} "
              f"clients")
        print(f"  app (wrk)      {app[0]:7.1f} req/s  p50 {app[1]:6.1f} ms  "
              f"p95 {app[2]:6.1f} ms | {app_load}")
        print(f"  SQL (pgbench)  {floor[0]:7.1f} q/s    p50 {floor[1]:6.1f} ms  "
              f"p95 {floor[2]:6.1f} ms | {floor_load}")
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
