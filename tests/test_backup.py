"""`flask backup` / `flask restore`: a backup of a scratch database with the demo data
and a few media files, restored into another new database and media folder, holds every
table and file as they were; a damaged archive, a mismatched schema revision, a
non-empty database or media folder are refused before anything is written."""
from __future__ import annotations

import filecmp
import io
import json
import os
import subprocess
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from gis_app import create_app
from gis_app.config import PROJECT_ROOT, Config
from gis_app.services import backup, demo, migrations
from gis_app.services.backup import code_head
from tests.conftest import fresh_database

PREFIX = os.environ.get("GIS_TEST_DB", "heritage_test")

# Tables as the test sees them (not the service's list): every base table of the public
# schema except PostGIS's own.
TABLES = text("""SELECT table_name FROM information_schema.tables
                  WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
                    AND table_name <> 'spatial_ref_sys' ORDER BY 1""")


def _app(url: str, media: Path):
    return create_app(Config(DATABASE_URL=url, SECRET_KEY="backup-test", TESTING=True,
                             RATELIMIT_ENABLED=False, MEDIA_DIR=str(media)))


def _invoke(url: str, media: Path, *args: str):
    return _app(url, media).test_cli_runner().invoke(args=list(args))


def _snapshot(url: str) -> dict[str, tuple[int, str | None]]:
    """Rows and the md5 of the rows (as text, ordered) of every table, and every
    sequence's position."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found: dict[str, tuple[int, str | None]] = {}
            for table in conn.scalars(TABLES):
                found[table] = tuple(conn.execute(text(
                    f'SELECT count(*), md5(string_agg(t::text, \'|\' ORDER BY t::text)) '
                    f'FROM public."{table}" t')).one())
            for name, value in conn.execute(text(
                    "SELECT sequencename, last_value FROM pg_sequences "
                    "WHERE schemaname = 'public'")):
                found["sequence " + name] = (value or 0, None)
            return found
    finally:
        engine.dispose()


def _write_media(media: Path) -> None:
    (media / "records" / "ab").mkdir(parents=True)
    (media / "records" / "ab" / "ab12cd.jpg").write_bytes(os.urandom(200_000))
    (media / "conditions" / "7").mkdir(parents=True)
    (media / "conditions" / "7" / "Đình Đa Hòa – mái.png").write_bytes(os.urandom(5000))
    (media / "tài liệu.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(3000))
    (media / "empty.txt").write_bytes(b"")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> dict:
    """A migrated database with the demo data, a media folder and a backup of both."""
    url = fresh_database(PREFIX + "_bsrc")
    migrations.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        demo.load_demo(session)
    engine.dispose()
    base = tmp_path_factory.mktemp("backup")
    media = base / "media"
    _write_media(media)
    archive = base / "backups" / "heritage.tar"
    done = _invoke(url, media, "backup", "--output", str(archive))
    assert done.exit_code == 0, done.output
    return {"url": url, "media": media, "archive": archive, "output": done.output}


@pytest.fixture
def target(tmp_path) -> dict:
    """A new empty database (with the extensions, as an administrator creates it) and a
    media folder that does not exist yet."""
    return {"url": fresh_database(PREFIX + "_bdst"), "media": tmp_path / "restored" / "media"}


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_backup_restores_into_a_new_database_with_every_table_and_file(source, target):
    archive: Path = source["archive"]
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "db.dump" in names and "media/tài liệu.pdf" in names
    assert not [p for p in archive.parent.iterdir() if p != archive]  # no temp file left
    original = _snapshot(source["url"])
    assert manifest["alembic_revision"] == code_head()
    assert manifest["created_at"].endswith("+07:00")
    engine = create_engine(source["url"])
    with engine.connect() as conn:
        assert manifest["data_version"] == conn.scalar(text("SELECT max(id) FROM revisions"))
    engine.dispose()
    assert manifest["row_counts"]["public.sites"] == original["sites"][0] > 0
    assert sorted(manifest["media"]) == _files(source["media"])
    assert f"{archive}: revision {code_head()}" in source["output"]

    done = _invoke(source["url"], source["media"], "restore", str(archive),
                   "--database-url", target["url"], "--media-dir", str(target["media"]))

    assert done.exit_code == 0, done.output
    assert "counts match the manifest" in done.output
    assert _snapshot(target["url"]) == original
    assert _files(target["media"]) == _files(source["media"])
    for name in _files(source["media"]):
        assert filecmp.cmp(source["media"] / name, target["media"] / name, shallow=False)
    # The staging folder beside the media folder is gone.
    assert [p.name for p in target["media"].parent.iterdir()] == ["media"]


def _unchanged(target: dict) -> None:
    engine = create_engine(target["url"])
    with engine.connect() as conn:
        assert conn.scalars(TABLES).all() == []
    engine.dispose()
    assert not target["media"].exists()
    assert not target["media"].parent.exists() or not any(target["media"].parent.iterdir())


def test_a_damaged_archive_is_refused_before_anything_is_written(source, target, tmp_path):
    damaged = tmp_path / "damaged.tar"
    data = bytearray(source["archive"].read_bytes())
    with tarfile.open(source["archive"]) as tar:
        member = tar.getmember("db.dump")
        at = member.offset_data + member.size // 2
    data[at] ^= 0x01
    damaged.write_bytes(bytes(data))

    done = _invoke(source["url"], source["media"], "restore", str(damaged), "--database-url",
                   target["url"], "--media-dir", str(target["media"]), "--lang", "vi")

    assert done.exit_code == 1
    assert f"{damaged} bị hỏng (mã kiểm tra khác với manifest); chưa khôi phục gì" in done.output
    assert "Traceback" not in done.output
    _unchanged(target)


def _with_manifest(archive: Path, out: Path, **changes) -> Path:
    with tarfile.open(archive) as tar, tarfile.open(out, "w") as new:
        for member in tar:
            body = tar.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(body)
                manifest.update(changes)
                body = json.dumps(manifest).encode()
                member.size = len(body)
            new.addfile(member, io.BytesIO(body))
    return out


def test_a_backup_of_another_schema_revision_is_refused(source, target, tmp_path):
    older = _with_manifest(source["archive"], tmp_path / "older.tar",
                           alembic_revision="0001_initial")

    done = _invoke(source["url"], source["media"], "restore", str(older), "--database-url",
                   target["url"], "--media-dir", str(target["media"]))

    assert done.exit_code == 1
    assert (f"The backup is at schema revision 0001_initial but this code is at "
            f"{code_head()}; check out the code whose head is 0001_initial") in done.output
    _unchanged(target)


def test_a_database_or_media_folder_in_use_is_refused(source, target):
    done = _invoke(source["url"], source["media"], "restore", str(source["archive"]),
                   "--database-url", source["url"], "--media-dir", str(target["media"]))
    assert done.exit_code == 1
    database = source["url"].rsplit("/", 1)[1]
    assert f"The database {database} is not empty" in done.output
    assert "createdb -T template0" in done.output
    assert not target["media"].exists()

    done = _invoke(source["url"], source["media"], "restore", str(source["archive"]),
                   "--database-url", target["url"], "--media-dir", str(source["media"]))
    assert done.exit_code == 1
    assert f"The media folder {source['media']} is not empty" in done.output
    engine = create_engine(target["url"])
    with engine.connect() as conn:
        assert conn.scalars(TABLES).all() == []
    engine.dispose()


def test_a_file_that_is_not_a_backup_is_refused(source, target, tmp_path):
    stray = tmp_path / "notes.tar"
    stray.write_bytes(b"not a tar at all")
    done = _invoke(source["url"], source["media"], "restore", str(stray), "--database-url",
                   target["url"], "--media-dir", str(target["media"]))
    assert done.exit_code == 1
    assert f"{stray} is not a backup made by flask --app gis_app backup" in done.output
    _unchanged(target)


def test_a_restore_whose_row_counts_differ_from_the_manifest_is_reported(source, target,
                                                                         tmp_path):
    with tarfile.open(source["archive"]) as tar:
        counts = json.load(tar.extractfile("manifest.json"))["row_counts"]
    sites = counts["public.sites"]
    counts["public.sites"] = sites + 1
    tampered = _with_manifest(source["archive"], tmp_path / "counts.tar", row_counts=counts)

    done = _invoke(source["url"], source["media"], "restore", str(tampered),
                   "--database-url", target["url"], "--media-dir", str(target["media"]))

    assert done.exit_code == 1
    assert (f"After the restore, table public.sites has {sites} rows instead of "
            f"{sites + 1}; do not use this database") in done.output


def test_a_missing_database_is_named_with_how_to_create_it(source, tmp_path):
    missing = source["url"].rsplit("/", 1)[0] + "/" + PREFIX + "_bnone"
    done = _invoke(source["url"], source["media"], "restore", str(source["archive"]),
                   "--database-url", missing, "--media-dir", str(tmp_path / "media"))
    assert done.exit_code == 1
    assert (f"Cannot connect to the database {PREFIX}_bnone: create it first "
            f"(createdb -T template0 {PREFIX}_bnone") in done.output
    assert "Traceback" not in done.output and not (tmp_path / "media").exists()


def test_the_default_archive_is_named_by_vietnam_time(evening_in_utc):
    # 23:30 UTC is already the next morning in Hà Nội.
    name = backup.default_archive_path().name
    tomorrow = (evening_in_utc + timedelta(hours=7)).strftime("%Y%m%d")
    assert name == f"heritage-{tomorrow}-0630.tar"


def _flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "flask"), "--app", "gis_app",
                           *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600)


def test_an_operator_backs_up_and_restores_from_the_environment(source, target, tmp_path):
    """The commands as a cron job or an operator runs them: DATABASE_URL and
    GIS_MEDIA_DIR from the environment, restore into DATABASE_URL."""
    key = {"GIS_SECRET_KEY_FILE": str(tmp_path / "secret_key")}
    archive = tmp_path / "nightly.tar"
    done = _flask({**key, "DATABASE_URL": source["url"], "GIS_MEDIA_DIR": str(source["media"])},
                  "backup", "--output", str(archive))
    assert done.returncode == 0, done.stderr
    assert f"{archive}: revision {code_head()}" in done.stdout

    # Tiles and downloads cached from the data before the restore must not outlive it:
    # the restored data may reach the same data version with other content.
    caches = {"GIS_TILE_CACHE_DIR": tmp_path / "tiles",
              "GIS_DOWNLOAD_CACHE_DIR": tmp_path / "downloads"}
    for folder in caches.values():
        (folder / "v1").mkdir(parents=True)
        (folder / "v1" / "stale.bin").write_bytes(b"old")
    done = _flask({**key, "DATABASE_URL": target["url"], "GIS_MEDIA_DIR": str(target["media"]),
                   **{k: str(v) for k, v in caches.items()}},
                  "restore", str(archive), "--lang", "vi")
    assert done.returncode == 0, done.stderr
    assert not any(folder.exists() for folder in caches.values())
    assert _snapshot(target["url"]) == _snapshot(source["url"])
    assert _files(target["media"]) == _files(source["media"])

    again = _flask({**key, "DATABASE_URL": target["url"], "GIS_MEDIA_DIR": str(target["media"])},
                   "restore", str(archive), "--lang", "vi")
    assert again.returncode == 1
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1  # one line, no traceback
    assert lines[0].startswith(f"Error: Cơ sở dữ liệu {PREFIX}_bdst không trống (")
    assert "createdb -T template0" in lines[0]
