"""Read replica demo: the public map reads from a streaming standby, the rest from the
primary, and what the primary writes reaches the public map.

Under a temporary directory, on loopback ports of their own: initdb a primary, load the
schema and demo set, make a standby with `pg_basebackup -R` (streaming replication),
start the app with gunicorn as in production (DATABASE_URL = primary,
GIS_READ_DATABASE_URL = standby), then:

  1. with WAL replay paused on the standby, a relic published on the primary is not on
     the public map (anonymous reads go to the standby) but an official signed in
     through the app finds it (sign-in writes its session: the primary; signed-in
     reads: the primary);
  2. replay resumed, the relic appears on the public map (polled, bounded);
  3. a second relic published with replay running: the time from its commit on the
     primary to the public API showing it (the lag a visitor sees), with the standby's
     own replay lag from pg_stat_replication.

    .venv/bin/python bench/read_replica.py [--timeout 20] [--keep]
Everything listens on 127.0.0.1 only and is removed at the end (--keep leaves the
directory for a look). Exits non-zero when a check fails.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from geojson_bbox import free_port  # noqa: E402

from gis_app.services import migrations  # noqa: E402

PG_BIN = Path(os.environ.get("GIS_PG_BIN", "/usr/lib/postgresql/15/bin"))
PASSWORD = "replica-demo-password"


def as_owner(*args: str, **kw) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary (as the `postgres` user when we are root)."""
    cmd = [str(PG_BIN / args[0]), *args[1:]]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def configure(data: Path, port: int) -> None:
    with (data / "postgresql.conf").open("a") as conf:
        conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                   f"unix_socket_directories = '{data}'\n"
                   # a throwaway cluster: no need to survive a crash
                   "fsync = off\nfull_page_writes = off\n"
                   "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n")


def url(port: int, sa: bool = True) -> str:
    scheme = "postgresql+psycopg" if sa else "postgresql"
    return f"{scheme}://postgres@127.0.0.1:{port}/heritage"


def publish(primary: int, heritage_id: str, name: str) -> None:
    """A published relic, written by SQL on the primary (as an import would)."""
    with psycopg.connect(url(primary, sa=False)) as conn:
        conn.execute("INSERT INTO heritage_identifiers (id, kind) VALUES (%s, 'site')",
                     (heritage_id,))
        conn.execute("""
            INSERT INTO sites (heritage_id, name_vi, types, geom, status, accuracy)
            VALUES (%s, %s, ARRAY['historical'],
                    ST_SetSRID(ST_MakePoint(105.95, 20.84), 4326), 'published',
                    'approximate')""", (heritage_id, name))


def on_map(http: requests.Session, base: str, heritage_id: str) -> bool:
    """Whether the tourists' map API lists the relic."""
    r = http.get(f"{base}/api/sites", params={"limit": 10000}, timeout=10)
    r.raise_for_status()
    return any(f["properties"]["heritage_id"] == heritage_id for f in r.json()["features"])


def sign_in(base: str) -> requests.Session:
    http = requests.Session()
    html = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    r = http.post(f"{base}/login", data={"username": "replica-demo", "password": PASSWORD,
                                          "csrf_token": token}, timeout=10,
                  allow_redirects=False)
    if r.status_code != 302:
        raise SystemExit(f"sign-in through the app failed: {r.status_code}")
    return http


def check(ok: bool, what: str) -> None:
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        raise SystemExit(1)


def poll(until, timeout: float) -> float | None:
    """Seconds until `until()` is true, polling every 20 ms; None after `timeout`."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if until():
            return time.perf_counter() - t0
        time.sleep(0.02)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="longest wait for replication, seconds (at most 120)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    timeout = min(args.timeout, 120.0)
    tmp = Path(tempfile.mkdtemp(prefix="heritage-replica-", dir="/var/tmp"))
    primary_dir, standby_dir = tmp / "primary", tmp / "standby"
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    p_port, s_port = free_port(), free_port()
    started: list[Path] = []
    app = None
    try:
        as_owner("initdb", "-D", str(primary_dir), "-U", "postgres", "--auth=trust",
                 "-E", "UTF8", "--locale=C.UTF-8")
        configure(primary_dir, p_port)
        as_owner("pg_ctl", "-D", str(primary_dir), "-l", str(tmp / "primary.log"), "-w",
                 "start")
        started.append(primary_dir)
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{p_port}/postgres",
                             autocommit=True) as conn:
            conn.execute("CREATE DATABASE heritage")
        with psycopg.connect(url(p_port, sa=False), autocommit=True) as conn:
            for ext in ("postgis", "unaccent", "pg_trgm"):
                conn.execute(f"CREATE EXTENSION {ext}")
        migrations.upgrade(url(p_port))
        env = dict(os.environ, DATABASE_URL=url(p_port), SECRET_KEY="replica-demo",
                   GIS_JOBS_WORKER="0")
        flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "gis_app"]
        subprocess.run([*flask, "demo", "load"], env=env, cwd=ROOT, check=True,
                       capture_output=True)
        subprocess.run([*flask, "users", "create", "replica-demo", "--role",
                        "district_reviewer", "--password", PASSWORD], env=env, cwd=ROOT,
                       check=True, capture_output=True)
        print(f"primary on 127.0.0.1:{p_port}: schema, demo set, one reviewer", flush=True)

        as_owner("pg_basebackup", "-D", str(standby_dir), "-h", "127.0.0.1", "-p",
                 str(p_port), "-U", "postgres", "-R", "-X", "stream", "-c", "fast")
        configure(standby_dir, s_port)
        as_owner("pg_ctl", "-D", str(standby_dir), "-l", str(tmp / "standby.log"), "-w",
                 "start")
        started.append(standby_dir)
        with psycopg.connect(url(s_port, sa=False)) as conn:
            check(conn.execute("SELECT pg_is_in_recovery()").fetchone()[0],
                  f"standby on 127.0.0.1:{s_port} streams from the primary")

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        app = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, stdout=subprocess.DEVNULL,
            env=dict(env, GIS_READ_DATABASE_URL=url(s_port), GIS_RATE_LIMITS="0"))
        public = requests.Session()
        check(poll(lambda: _up(public, base), 30) is not None,
              f"app on {base} (DATABASE_URL=primary, GIS_READ_DATABASE_URL=standby)")

        # 1. Replay paused: the public reads the standby, an official the primary.
        with psycopg.connect(url(s_port, sa=False), autocommit=True) as standby:
            standby.execute("SELECT pg_wal_replay_pause()")
            first = "VN-HY-DT-900001"
            publish(p_port, first, "Đình Bản Sao")
            official = sign_in(base)
            check(True, "an official signed in through the app (its session was written "
                        "on the primary)")
            check(on_map(official, base, first),
                  "the signed-in official sees the new relic (reads from the primary)")
            time.sleep(0.5)
            check(not on_map(public, base, first),
                  "replay paused: the public map does not list it yet (reads from the "
                  "standby)")
            # 2. Replay resumed: it appears.
            standby.execute("SELECT pg_wal_replay_resume()")
            waited = poll(lambda: on_map(public, base, first), timeout)
            check(waited is not None, "replay resumed: the public map lists it "
                  f"after {waited * 1000 if waited is not None else 0:.0f} ms")

        # 3. The lag a visitor sees, replay running.
        second = "VN-HY-DT-900002"
        publish(p_port, second, "Chùa Bản Sao")
        waited = poll(lambda: on_map(public, base, second), timeout)
        check(waited is not None, "a relic published on the primary is on the public map")
        with psycopg.connect(url(p_port, sa=False)) as conn:
            lag = conn.execute("SELECT state, replay_lag FROM pg_stat_replication").fetchone()
        print(f"\nlag, commit on the primary -> on the public map: {waited * 1000:.0f} ms "
              f"(polling every 20 ms through the app); standby {lag[0]}, "
              f"pg_stat_replication.replay_lag {lag[1]}")
    finally:
        if app is not None:
            app.terminate()
            app.wait(10)
        for data in reversed(started):
            as_owner("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _up(http: requests.Session, base: str) -> bool:
    try:
        return http.get(f"{base}/api/sites/filters", timeout=10).status_code == 200
    except requests.RequestException:
        return False


if __name__ == "__main__":
    main()
