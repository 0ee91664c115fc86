"""Open-data downloads benchmark: size, first (prepare) and cached times per file.

Generates N published relics with zones I and II (bench/geojson_bbox.py's generator)
in its own database `heritage_bench_dl` on the private cluster (never the test
database), then asks the app (in process, the Flask test client: no network) for each
file of `sites` and `protection_zones` and for the whole dataset, twice: the first
request prepares the file (query, write with GDAL, zip) into a scratch cache folder,
the next ones send it from disk. Prints, per file, its size, the first request's time
and the median of the cached ones, and the features per second of the preparation.

    .venv/bin/python bench/downloads.py [--sites 10000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import populate, sh  # noqa: E402

from gis_app import create_app  # noqa: E402
from gis_app.config import Config, private_cluster_url  # noqa: E402
from gis_app.services import migrations  # noqa: E402

DB_NAME = "heritage_bench_dl"
FILES = [
    "sites.geojson", "sites.gpkg", "sites.shp.zip", "sites.csv", "sites.kml",
    "sites.shp.zip?crs=9209", "sites.gpkg?crs=9209",
    "protection_zones.geojson", "protection_zones.gpkg", "protection_zones.shp.zip",
    "protection_zones.csv", "protection_zones.kml", "protection_zones.shp.zip?crs=9209",
    "all.gpkg", "all.shp.zip", "all.geojson.zip",
]


def human(size: int) -> str:
    for unit, factor in (("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.sites > 200_000 or args.repeat > 50:
        raise SystemExit("keep the run bounded: --sites <= 200000, --repeat <= 50")

    sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", DB_NAME)
    url = private_cluster_url(DB_NAME)
    migrations.upgrade(url)
    t0 = time.perf_counter()
    populate(url, args.sites)
    print(f"generated {args.sites} relics + {2 * args.sites} zones in "
          f"{time.perf_counter() - t0:.1f} s", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-downloads-") as cache:
        app = create_app(Config(DATABASE_URL=url, SECRET_KEY="bench", TESTING=True,
                                RATELIMIT_ENABLED=False, JOBS_WORKER=False,
                                DOWNLOAD_CACHE_DIR=cache))
        client = app.test_client()
        print(f"{'file':38} {'size':>10} {'first (s)':>10} {'cached (ms)':>12} "
              f"{'features/s':>11}")
        for name in FILES:
            layer = name.split(".")[0]
            features = {"sites": args.sites, "protection_zones": 2 * args.sites,
                        "all": 3 * args.sites}[layer]
            start = time.perf_counter()
            response = client.get(f"/data/{name}")
            first = time.perf_counter() - start
            if response.status_code != 200:
                raise SystemExit(f"GET /data/{name} answered {response.status_code}")
            size = len(response.get_data())
            cached = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                again = client.get(f"/data/{name}")
                again.get_data()
                cached.append(time.perf_counter() - start)
            print(f"{name:38} {human(size):>10} {first:10.2f} "
                  f"{statistics.median(cached) * 1000:12.1f} {features / first:11.0f}",
                  flush=True)
        packed = client.get("/data/sites.geojson", headers={"Accept-Encoding": "gzip"})
        print(f"sites.geojson sent gzip-compressed: {human(len(packed.get_data()))}")


if __name__ == "__main__":
    main()
