"""Import benchmark: our importer vs `ogr2ogr -t_srs EPSG:4326` on the same file.

Generates a shapefile of protection-zone polygons in VN-2000 TM-3 (EPSG:9209) with a
TCVN3-free ASCII DBF (MA_DT, KVBV, SO_QD), creates the relics they belong to in a
scratch database on the private cluster, then runs, each as its own process:
  ours      flask --app gis_app import FILE --layer protection_zones --preset ...
  again     the same file a second time (every row unchanged)
  ogr2ogr   ogr2ogr -f PostgreSQL ... -t_srs EPSG:4326 into a new table
and prints for each the wall seconds, CPU seconds (user + system, from wait4) and peak
RSS, our time as a ratio of ogr2ogr's measured in the same run, and the machine's load
average around each measurement (the machine is shared: a ratio is only comparable at
a similar load). Then where our time went: the phases the importer records in the
import's report (`timings`: read, convert, geometry, copy, check, load, after,
analyze), and the load statement replayed under EXPLAIN ANALYZE in a transaction that
is rolled back (its revision trigger, foreign-key checks and the rest: indexes, check
constraints, the heap). Run at several sizes to show whether memory grows with the file.

    .venv/bin/python bench/import.py [--sizes 10000,100000]
    BENCH_IMPORT_1M=1 .venv/bin/python bench/import.py     # adds 1,000,000 zones

Targets: ours <= 1.5x ogr2ogr's time; peak RSS <= 300 MiB and about the same at every
size. Everything stays on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
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

DB = "heritage_bench_import"
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


def load() -> str:
    """The 1-minute load average and the number of CPUs, e.g. '2.7/2 CPUs'."""
    return f"{os.getloadavg()[0]:.1f}/{os.cpu_count()} CPUs"


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall seconds, peak RSS MiB, CPU seconds, load average before -> after) of one
    child process; fails loudly if it fails.

    The peak is the child's VmHWM read from /proc every 20 ms until it exits: wait4's
    ru_maxrss would include this (large) parent's RSS, which a child inherits at fork.
    The CPU time is wait4's (user + system).
    """
    before = load()
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = 0.0
    output = bytearray()
    os.set_blocking(proc.stdout.fileno(), False)
    status = None
    while status is None:
        peak = max(peak, _hwm_mib(proc.pid) or 0.0)
        chunk = proc.stdout.read()
        if chunk:
            output.extend(chunk)
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status = os.waitstatus_to_exitcode(code)
            cpu = usage.ru_utime + usage.ru_stime
            proc.returncode = status
        else:
            time.sleep(0.02)
    elapsed = time.perf_counter() - t0
    output.extend(proc.stdout.read() or b"")
    if status != 0:
        sys.stdout.write(output.decode(errors="replace")[-3000:])
        raise SystemExit(f"failed: {' '.join(args)}")
    return elapsed, peak, cpu, f"{before} -> {load()}"


def phases(url: str) -> dict[str, float]:
    """The phase timings the first import recorded in its report."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        return conn.execute("SELECT report -> 'timings' FROM imports ORDER BY id LIMIT 1"
                            ).fetchone()[0] or {}


def load_statement(url: str) -> tuple[float, dict[str, float]]:
    """The zones' INSERT replayed under EXPLAIN ANALYZE (then rolled back): total
    seconds and seconds per trigger (revisions, foreign keys); the rest is the heap,
    indexes and check constraints. The copies are closed versions (valid_to set), so
    they do not collide with the open ones."""
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        plan = conn.execute("""
            EXPLAIN (ANALYZE, FORMAT JSON)
            INSERT INTO protection_zones (site_id, zone, decision_no, geom, accuracy, source,
                                          valid_from, valid_to)
            SELECT site_id, zone, decision_no, geom, accuracy, source, DATE '2000-01-01',
                   DATE '2000-01-01'
              FROM protection_zones""").fetchone()[0]
        conn.rollback()
    if isinstance(plan, str):
        plan = json.loads(plan)
    top = plan[0]
    triggers = {t["Trigger Name"]: t["Time"] / 1000 for t in top.get("Triggers", [])}
    return top["Execution Time"] / 1000, triggers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    if os.environ.get("BENCH_IMPORT_1M") == "1":
        args.sizes += ",1000000"
    ogr2ogr = shutil.which("ogr2ogr")
    if not ogr2ogr:
        raise SystemExit("ogr2ogr is missing: apt-get install -y gdal-bin (make bench does)")
    sizes = [int(s) for s in args.sizes.split(",")]
    if max(sizes) > 1_000_000:
        raise SystemExit("keep it bounded: sizes <= 1000000")
    flask = str(ROOT / ".venv" / "bin" / "flask")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for n in sizes:
            shp = make_shapefile(Path(tmp), n)
            size_mb = sum(p.stat().st_size for p in Path(tmp).glob(f"kvbv_{n}.*")) / 2**20
            sh(str(ROOT / "scripts" / "devdb.sh"), "recreate", DB)
            url = private_cluster_url(DB)
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
            spent = phases(url)
            insert_s, triggers = load_statement(url)
            rows.append((n, size_mb, ours, again, ogr, loaded, ogr_rows, gap))
            print(f"{n:>7} features ({size_mb:.0f} MB): ours {ours[0]:.1f} s "
                  f"(CPU {ours[2]:.1f} s) {ours[1]:.0f} MiB, load {ours[3]} | "
                  f"again {again[0]:.1f} s {again[1]:.0f} MiB | "
                  f"ogr2ogr {ogr[0]:.1f} s (CPU {ogr[2]:.1f} s) {ogr[1]:.0f} MiB, "
                  f"load {ogr[3]} | ratio {ours[0] / ogr[0]:.2f} | rows {loaded}/{ogr_rows} | "
                  f"max centroid gap vs ogr2ogr {gap:.3f} m", flush=True)
            print("        our phases (s): " + ", ".join(f"{k} {v:.1f}"
                                                      for k, v in spent.items()))
            print(f"        the load INSERT replayed: {insert_s:.1f} s, of which "
                  + ", ".join(f"{name} {sec:.1f} s" for name, sec in triggers.items())
                  + " (the rest: heap, GIST and b-tree indexes, check constraints)",
                  flush=True)
    print("\n| features | file MB | ours s | ours MiB | re-import s | ogr2ogr s | ogr2ogr MiB "
          "| time ratio | load (1 min) | centroid gap m |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, size_mb, ours, again, ogr, _l, _o, gap in rows:
        print(f"| {n} | {size_mb:.0f} | {ours[0]:.1f} | {ours[1]:.0f} | {again[0]:.1f} | "
              f"{ogr[0]:.1f} | {ogr[1]:.0f} | **{ours[0] / ogr[0]:.2f}** | {ours[3]} | "
              f"{gap:.3f} |")
    print("target: time ratio <= 1.5; our peak RSS <= 300 MiB, about equal across sizes")


if __name__ == "__main__":
    main()
