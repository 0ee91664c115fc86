"""Import benchmark: our importer vs `ogr2ogr -t_srs EPSG:4326` on the same file.

Generates a shapefile of protection-zone polygons in VN-2000 TM-3 (EPSG:9209) with a
TCVN3-free ASCII DBF (MA_DT, KVBV, SO_QD), creates the relics they belong to in a
scratch database on the private cluster, then runs, each as its own process:
  ours      flask --app gis_app import FILE --layer protection_zones --preset ...
  again     the same file a second time (every row unchanged)
  ogr2ogr   ogr2ogr -f PostgreSQL ... -t_srs EPSG:4326 into a new table
and prints wall seconds and peak RSS (from wait4) for each. Run at two sizes to show
whether memory grows with the file.

    .venv/bin/python bench/import.py [--sizes 10000,100000]
Targets: ours <= 1.5x ogr2ogr's time; peak RSS about the same at both sizes.
Everything stays on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
import shapely
from pyogrio import raw as ogr
from pyproj import CRS, Transformer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis_app.config import private_cluster_url
from gis_app.services import migrations

AREA = (105.88, 20.75, 106.03, 20.92)  # Khoái Châu, lon/lat


def sh(*args: str) -> None:
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def make_shapefile(folder: Path, n: int, seed: int = 7) -> Path:
    """n zone polygons (~17 vertices each): zones I and II of n/2 relics, in EPSG:9209."""
    rng = np.random.default_rng(seed)
    sites = n // 2
    lon = rng.uniform(AREA[0], AREA[2], sites)
    lat = rng.uniform(AREA[1], AREA[3], sites)
    x, y = Transformer.from_crs(4326, 9209, always_xy=True).transform(lon, lat)
    centres = shapely.points(np.repeat(x, 2), np.repeat(y, 2))
    radius = np.tile([40.0, 120.0], sites)
    geoms = shapely.buffer(centres, radius, quad_segs=4)
    ids = np.repeat([f"VN-HY-DT-{i + 1:06d}" for i in range(sites)], 2)
    zones = np.tile(["I", "II"], sites)
    decisions = np.array([f"{i % 999 + 1}/QD-UBND" for i in range(n)], dtype=object)
    path = folder / f"kvbv_{n}.shp"
    ogr.write(path, shapely.to_wkb(geoms),
              [ids.astype(object), zones.astype(object), decisions],
              fields=["MA_DT", "KVBV", "SO_QD"], geometry_type="Polygon",
              crs=CRS.from_epsg(9209).to_wkt("WKT1_ESRI"), driver="ESRI Shapefile",
              encoding="UTF-8")
    return path


def make_sites(url: str, n_sites: int) -> None:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        conn.execute("""
            INSERT INTO heritage_identifiers (id, kind)
            SELECT format('VN-HY-DT-%%s', lpad(g::text, 6, '0')), 'site'
              FROM generate_series(1, %(n)s) g""", {"n": n_sites})
        conn.execute("""
            INSERT INTO sites (heritage_id, name_vi, geom)
            SELECT format('VN-HY-DT-%%s', lpad(g::text, 6, '0')), format('Đình số %%s', g),
                   ST_SetSRID(ST_MakePoint(105.95, 20.83), 4326)
              FROM generate_series(1, %(n)s) g""", {"n": n_sites})
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _hwm_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process; fails loudly if it fails.

    The peak is the child's VmHWM read from /proc every 20 ms until it exits: wait4's
    ru_maxrss would include this (large) parent's RSS, which a child inherits at fork.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0.0
    output = bytearray()
    os.set_blocking(proc.stdout.fileno(), False)
    while proc.poll() is None:
        peak = max(peak, _hwm_mib(proc.pid) or 0.0)
        chunk = proc.stdout.read()
        if chunk:
            output.extend(chunk)
        time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    output.extend(proc.stdout.read() or b"")
    if proc.returncode != 0:
        sys.stdout.write(output.decode(errors="replace")[-3000:])
        raise SystemExit(f"failed: {' '.join(args)}")
    return elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    ogr2ogr = shutil.which("ogr2ogr")
    if not ogr2ogr:
        raise SystemExit("ogr2ogr is missing: apt-get install -y gdal-bin (make bench does)")
    sizes = [int(s) for s in args.sizes.split(",")]
    if max(sizes) > 500_000:
        raise SystemExit("keep it bounded: sizes <= 500000")
    flask = str(ROOT / ".venv" / "bin" / "flask")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for n in sizes:
            shp = make_shapefile(Path(tmp), n)
            size_mb = sum(p.stat().st_size for p in Path(tmp).glob(f"kvbv_{n}.*")) / 2**20
            sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", "heritage_bench")
            url = private_cluster_url("heritage_bench")
            migrations.upgrade(url)
            make_sites(url, n // 2)
            env = {**os.environ, "DATABASE_URL": url}
            ours = measure([flask, "--app", "gis_app", "import", str(shp), "--layer",
                            "protection_zones", "--preset", "khoanh-vung-bao-ve"], env)
            again = measure([flask, "--app", "gis_app", "import", str(shp), "--layer",
                             "protection_zones", "--preset", "khoanh-vung-bao-ve"], env)
            conninfo = psycopg.conninfo.make_conninfo(url.replace("postgresql+psycopg",
                                                                  "postgresql"))
            params = psycopg.conninfo.conninfo_to_dict(conninfo)
            pg = (f"PG:host={params.get('host', '127.0.0.1')} port={params.get('port', 5432)} "
                  f"dbname={params['dbname']} user={params.get('user', 'postgres')}")
            ogr = measure([ogr2ogr, "-f", "PostgreSQL", pg, str(shp), "-t_srs", "EPSG:4326",
                           "-nln", "ogr_zones", "-nlt", "PROMOTE_TO_MULTI",
                           "-lco", "GEOMETRY_NAME=geom", "-overwrite"], env)
            with psycopg.connect(url.replace("+psycopg", "")) as conn:
                loaded = conn.execute("SELECT count(*) FROM protection_zones").fetchone()[0]
                ogr_rows = conn.execute("SELECT count(*) FROM ogr_zones").fetchone()[0]
                gap = conn.execute("""
                    SELECT max(ST_Distance(ST_Centroid(z.geom)::geography,
                                           ST_Centroid(o.geom)::geography))
                      FROM (SELECT geom, row_number() OVER (ORDER BY id) r
                              FROM protection_zones) z
                      JOIN (SELECT geom, row_number() OVER (ORDER BY ogc_fid) r
                              FROM ogr_zones) o USING (r)""").fetchone()[0]
            rows.append((n, size_mb, ours, again, ogr, loaded, ogr_rows, gap))
            print(f"{n:>7} features ({size_mb:.0f} MB): ours {ours[0]:.1f} s "
                  f"{ours[1]:.0f} MiB | again {again[0]:.1f} s {again[1]:.0f} MiB | "
                  f"ogr2ogr {ogr[0]:.1f} s {ogr[1]:.0f} MiB | rows {loaded}/{ogr_rows} | "
                  f"max centroid gap vs ogr2ogr {gap:.3f} m", flush=True)
    print("\n| features | file MB | ours s | ours MiB | re-import s | ogr2ogr s | ogr2ogr MiB "
          "| time ratio | centroid gap m |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, size_mb, ours, again, ogr, _l, _o, gap in rows:
        print(f"| {n} | {size_mb:.0f} | {ours[0]:.1f} | {ours[1]:.0f} | {again[0]:.1f} | "
              f"{ogr[0]:.1f} | {ogr[1]:.0f} | **{ours[0] / ogr[0]:.2f}** | {gap:.3f} |")
    print("target: time ratio <= 1.5; our peak RSS about equal across sizes")


if __name__ == "__main__":
    main()
