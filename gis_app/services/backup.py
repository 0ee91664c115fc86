"""Backup and restore of the whole installation: the database and the media files in one
archive with a manifest.

An archive is a plain tar (the dump is compressed already; photos are too):

- `db.dump`: `pg_dump --format=custom --no-owner` of the database;
- `media/<path>`: every file under MEDIA_DIR, as it is;
- `manifest.json` (last): when (Vietnam's time), the app version and git commit when
  known, the Alembic revision, the data version (the latest revision id, as in the
  annual report), row counts per table and the sha256 of the dump and of each file.

The counts and the dump come from one snapshot (`pg_export_snapshot()` handed to
`pg_dump --snapshot`), so they agree even while the app is writing. The archive is
written under a temporary name and renamed when complete.

`restore_backup` refuses, changing nothing, an archive whose revision is not the code's
head, a target database that is not empty, a media folder that is not empty, and any
file whose checksum differs from the manifest (checked on a staging copy before the
database or the media folder is touched); then compares the restored row counts with
the manifest. Every refusal is an InputError with a one-line vi/en message.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from gis_app.clock import VIETNAM_TIME
from gis_app.config import PROJECT_ROOT
from gis_app.errors import InputError
from gis_app.services import data_version, migrations

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "db.dump"
MEDIA = "media/"
DEFAULT_DIR = PROJECT_ROOT / "var" / "backups"
CHUNK = 1024 * 1024

# User tables (not the catalogs, not tables an extension owns such as spatial_ref_sys),
# named as PostgreSQL quotes them: these names come from the catalog, never from input.
TABLES_SQL = text("""
    SELECT format('%I.%I', n.nspname, c.relname) AS name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
     ORDER BY 1""")


@dataclass
class RestoreResult:
    revision: str
    tables: int
    rows: int
    files: int


def _refuse(en: str, vi: str, log_message: str | None = None) -> InputError:
    return InputError(en, vi, log=log_message or en)


# --- connections and PostgreSQL client programs --------------------------------------

def libpq_target(url: str) -> tuple[list[str], dict[str, str]]:
    """Arguments (`-h -p -U -d`) and environment for pg_dump/pg_restore from a
    SQLAlchemy URL; a password goes into PGPASSWORD, never on the command line."""
    parsed: URL = make_url(url)
    args: list[str] = []
    if parsed.host:
        args += ["--host", parsed.host]
    if parsed.port:
        args += ["--port", str(parsed.port)]
    if parsed.username:
        args += ["--username", parsed.username]
    args += ["--dbname", parsed.database or "postgres", "--no-password"]
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    for key, value in parsed.query.items():  # e.g. sslmode=require
        if key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "host"):
            env["PG" + key.upper()] = value if isinstance(value, str) else value[0]
    return args, env


def client_program(name: str, server_major: int) -> str:
    """The pg_dump or pg_restore of the server's major version: Debian keeps each in
    /usr/lib/postgresql/<major>/bin; else the one on PATH if its major version matches
    (pg_dump refuses an older client than the server, and a newer one writes archives
    an older pg_restore cannot read)."""
    candidates = [str(Path(f"/usr/lib/postgresql/{server_major}/bin") / name)]
    found = shutil.which(name)
    if found:
        candidates.append(found)
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        version = subprocess.run([candidate, "--version"], capture_output=True, text=True)
        match = re.search(r"(\d+)(?:\.\d+)?", version.stdout)
        if match and int(match.group(1)) == server_major:
            return candidate
    raise _refuse(
        f"{name} for PostgreSQL {server_major} was not found; install it "
        f"(Debian: apt-get install postgresql-client-{server_major}) and try again.",
        f"Không tìm thấy {name} cho PostgreSQL {server_major}; hãy cài đặt "
        f"(Debian: apt-get install postgresql-client-{server_major}) rồi thử lại.")


def _server_major(conn: Connection) -> int:
    return int(conn.scalar(text("SHOW server_version_num"))) // 10000


def _connect_refusal(url: str, error: OperationalError) -> InputError:
    database = make_url(url).database
    return _refuse(
        f"Cannot connect to the database {database}: create it first (createdb -T template0 "
        f"{database}, then CREATE EXTENSION postgis, unaccent, pg_trgm in it) and check "
        f"the URL.",
        f"Không kết nối được cơ sở dữ liệu {database}: hãy tạo trước (createdb -T template0 "
        f"{database}, rồi CREATE EXTENSION postgis, unaccent, pg_trgm trong đó) và kiểm "
        f"tra địa chỉ.",
        f"cannot connect to {make_url(url).render_as_string(hide_password=True)}: "
        f"{error.orig}")


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows per user table (see TABLES_SQL)."""
    names = conn.scalars(TABLES_SQL).all()
    # Identifiers from the catalog, quoted by PostgreSQL's format('%I').
    return {name: int(conn.scalar(text(f"SELECT count(*) FROM {name}"))) for name in names}


def code_head() -> str:
    """The Alembic head revision of this code."""
    return ",".join(sorted(migrations.heads()))


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _app_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("khoai-chau-heritage-gis")
    except PackageNotFoundError:
        return None


# --- files ----------------------------------------------------------------------------

class _Hashing:
    """A read-only file wrapper that hashes what is read through it."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk


def _media_files(media_dir: Path) -> Iterator[tuple[str, Path]]:
    """(relative posix name, path) of every regular file under media_dir, sorted."""
    if not media_dir.is_dir():
        return
    for path in sorted(media_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path.relative_to(media_dir).as_posix(), path


def default_archive_path(now: datetime | None = None) -> Path:
    now = now or datetime.now(VIETNAM_TIME)
    return DEFAULT_DIR / f"heritage-{now.astimezone(VIETNAM_TIME):%Y%m%d-%H%M}.tar"


# --- backup ---------------------------------------------------------------------------

def create_backup(url: str, media_dir: Path, archive: Path | None = None,
                  now: datetime | None = None) -> tuple[Path, dict[str, Any]]:
    """Write the database and media_dir to `archive` (default
    var/backups/heritage-YYYYMMDD-HHMM.tar); returns the path and the manifest.

    Raises InputError when the database cannot be reached, is not migrated, pg_dump
    fails or the archive cannot be written (nothing is left behind then).
    """
    now = (now or datetime.now(VIETNAM_TIME)).astimezone(VIETNAM_TIME)
    archive = Path(archive) if archive else default_archive_path(now)
    if archive.exists():
        raise _refuse(f"{archive} exists already; choose another name (--output).",
                      f"{archive} đã có; hãy chọn tên khác (--output).")
    try:
        archive.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(f"Cannot create the folder {archive.parent} ({exc.strerror}); "
                      f"choose another place (--output).",
                      f"Không tạo được thư mục {archive.parent} ({exc.strerror}); hãy chọn "
                      f"nơi khác (--output).") from None
    partial = archive.with_name(f".{archive.name}.partial-{os.getpid()}")
    engine = create_engine(url)
    try:
        with engine.connect() as conn, tempfile.TemporaryDirectory(
                prefix=".backup-", dir=archive.parent) as work:
            # One snapshot for the counts and the dump.
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
            try:
                revision = conn.scalar(text("SELECT string_agg(version_num, ',' "
                                            "ORDER BY version_num) FROM alembic_version"))
                version = data_version.current(conn)
            except SQLAlchemyError:
                raise _refuse(
                    "The database has no schema of this app; run flask --app gis_app db "
                    "upgrade, or check DATABASE_URL.",
                    "Cơ sở dữ liệu chưa có lược đồ của ứng dụng; hãy chạy flask --app gis_app "
                    "db upgrade, hoặc kiểm tra DATABASE_URL.") from None
            counts = row_counts(conn)
            dump = Path(work) / DUMP
            _pg_dump(url, _server_major(conn), snapshot, dump)
            conn.rollback()
            manifest = _write_archive(partial, dump, media_dir, {
                "format": FORMAT,
                "created_at": now.isoformat(timespec="seconds"),
                "app_version": _app_version(),
                "git_commit": _git_commit(),
                "alembic_revision": revision,
                "data_version": version,
                "row_counts": counts,
            })
        os.replace(partial, archive)
    except OperationalError as exc:
        raise _connect_refusal(url, exc) from None
    except OSError as exc:
        raise _refuse(f"Cannot write {archive} ({exc.strerror}); check the free space "
                      f"and permissions.",
                      f"Không ghi được {archive} ({exc.strerror}); hãy kiểm tra dung lượng "
                      f"trống và quyền ghi.", f"backup failed: {exc}") from None
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)
    log.info("backup %s: revision %s, data version %s, %d files", archive,
             manifest["alembic_revision"], manifest["data_version"], len(manifest["media"]))
    return archive, manifest


def _pg_dump(url: str, major: int, snapshot: str, out: Path) -> None:
    args, env = libpq_target(url)
    done = subprocess.run(
        [client_program("pg_dump", major), "--format=custom", "--no-owner",
         f"--snapshot={snapshot}", f"--file={out}", *args],
        capture_output=True, text=True, env=env)
    if done.returncode != 0:
        log.error("pg_dump failed: %s", done.stderr.strip())
        raise _refuse("pg_dump failed; nothing was written (the details are in the log).",
                      "pg_dump báo lỗi; không có gì được ghi (chi tiết trong nhật ký).",
                      f"pg_dump failed: {done.stderr.strip()}")


def _write_archive(partial: Path, dump: Path, media_dir: Path,
                   manifest: dict[str, Any]) -> dict[str, Any]:
    """Write the tar (dump, media, then the manifest with their sha256, hashed as they
    are copied) and fsync it."""
    media: dict[str, str] = {}
    with open(partial, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            manifest["db_dump_sha256"] = _add(tar, DUMP, dump)
            for name, path in _media_files(media_dir):
                media[name] = _add(tar, MEDIA + name, path)
            manifest["media"] = media
            body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime, info.mode = len(body), int(datetime.now().timestamp()), 0o644
            tar.addfile(info, io.BytesIO(body))
        raw.flush()
        os.fsync(raw.fileno())
    return manifest


def _add(tar: tarfile.TarFile, name: str, path: Path) -> str:
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open(path, "rb") as fh:
        hashing = _Hashing(fh)
        tar.addfile(info, hashing)  # type: ignore[arg-type]
    return hashing.digest.hexdigest()


# --- restore --------------------------------------------------------------------------

def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest of `archive`; InputError if it is not a backup of this app."""
    not_backup = _refuse(
        f"{archive} is not a backup made by flask --app gis_app backup (no readable "
        f"manifest); choose the right file.",
        f"{archive} không phải bản sao lưu của flask --app gis_app backup (không đọc được "
        f"manifest); hãy chọn đúng tệp.")
    try:
        with tarfile.open(archive, mode="r:") as tar:
            member = tar.getmember(MANIFEST)
            body = tar.extractfile(member)
            manifest = json.loads(body.read()) if body else None
    except FileNotFoundError:
        raise _refuse(f"{archive} does not exist; check the path.",
                      f"Không có tệp {archive}; hãy kiểm tra đường dẫn.") from None
    except (tarfile.TarError, KeyError, OSError, ValueError):
        raise not_backup from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise not_backup
    return manifest


def restore_backup(archive: Path, url: str, media_dir: Path) -> RestoreResult:
    """Restore `archive` into the empty database at `url` and the empty (or missing)
    folder `media_dir`.

    Refuses (InputError, nothing changed) a revision other than the code's head, a
    target database with tables, a media folder with files, and an archive whose
    files do not match the manifest's checksums. After pg_restore, compares the row
    counts with the manifest (InputError naming the first table that differs).
    """
    archive = Path(archive)
    media_dir = Path(media_dir)
    manifest = read_manifest(archive)
    revision, head = manifest.get("alembic_revision"), code_head()
    if revision != head:
        raise _refuse(
            f"The backup is at schema revision {revision} but this code is at {head}; "
            f"check out the code whose head is {revision} (git log -S \"{revision}\") to "
            f"restore it, then upgrade.",
            f"Bản sao lưu ở phiên bản lược đồ {revision} nhưng mã nguồn này ở {head}; hãy "
            f"lấy mã nguồn có phiên bản {revision} (git log -S \"{revision}\") để khôi "
            f"phục, rồi nâng cấp.")
    engine = create_engine(url)
    try:
        try:
            with engine.connect() as conn:
                major = _server_major(conn)
                tables = conn.scalars(TABLES_SQL).all()
        except OperationalError as exc:
            raise _connect_refusal(url, exc) from None
        database = make_url(url).database
        if tables:
            raise _refuse(
                f"The database {database} is not empty ({len(tables)} tables); restore "
                f"into a new one: createdb -T template0 NAME, then --database-url.",
                f"Cơ sở dữ liệu {database} không trống ({len(tables)} bảng); hãy khôi phục "
                f"vào một cơ sở dữ liệu mới: createdb -T template0 TÊN, rồi --database-url.")
        if media_dir.exists() and (not media_dir.is_dir() or any(media_dir.iterdir())):
            raise _refuse(
                f"The media folder {media_dir} is not empty; restore into a new folder "
                f"(GIS_MEDIA_DIR or --media-dir).",
                f"Thư mục ảnh {media_dir} không trống; hãy khôi phục vào một thư mục mới "
                f"(GIS_MEDIA_DIR hoặc --media-dir).")
        try:
            media_dir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{media_dir.name}.restore-",
                                            dir=media_dir.parent))
        except OSError as exc:
            raise _refuse(f"Cannot write next to {media_dir} ({exc.strerror}); check the "
                          f"permissions.",
                          f"Không ghi được cạnh {media_dir} ({exc.strerror}); hãy kiểm tra "
                          f"quyền ghi.") from None
        try:
            dump = _extract_verified(archive, manifest, staging)
            _pg_restore(url, major, dump)
            dump.unlink()
            if media_dir.exists():
                media_dir.rmdir()
            (staging / "media").mkdir(exist_ok=True)
            os.replace(staging / "media", media_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        with engine.connect() as conn:
            restored = row_counts(conn)
    finally:
        engine.dispose()
    expected = manifest.get("row_counts") or {}
    for table in sorted(set(expected) | set(restored)):
        if expected.get(table) != restored.get(table):
            raise _refuse(
                f"After the restore, table {table} has {restored.get(table)} rows instead "
                f"of {expected.get(table)}; do not use this database: drop it and tell the "
                f"administrator.",
                f"Sau khi khôi phục, bảng {table} có {restored.get(table)} dòng thay vì "
                f"{expected.get(table)}; đừng dùng cơ sở dữ liệu này: hãy xoá nó và báo quản "
                f"trị viên.")
    log.info("restored %s into %s: revision %s, %d tables, %d files", archive,
             make_url(url).render_as_string(hide_password=True), revision, len(restored),
             len(manifest.get("media") or {}))
    return RestoreResult(revision=revision, tables=len(restored),
                         rows=sum(restored.values()),
                         files=len(manifest.get("media") or {}))


def _extract_verified(archive: Path, manifest: dict[str, Any], staging: Path) -> Path:
    """Copy the dump and media files into `staging`, hashing them on the way; InputError
    when a file is missing, extra, or differs from the manifest."""
    expected = {DUMP: manifest.get("db_dump_sha256")}
    expected.update({MEDIA + name: sha for name, sha in (manifest.get("media") or {}).items()})
    seen: set[str] = set()
    damaged = _refuse(
        f"{archive} is damaged (a checksum differs from its manifest); nothing was "
        f"restored. Use another copy of the backup.",
        f"{archive} bị hỏng (mã kiểm tra khác với manifest); chưa khôi phục gì. Hãy dùng "
        f"một bản sao lưu khác.")
    try:
        with tarfile.open(archive, mode="r:") as tar:
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if (member.name not in expected or member.name in seen
                        or not member.isfile() or not _safe(member.name)):
                    log.warning("backup %s: unexpected member %r", archive, member.name)
                    raise damaged
                target = staging / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                digest = hashlib.sha256()
                with open(target, "wb") as out:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                os.utime(target, (member.mtime, member.mtime))
                if digest.hexdigest() != expected[member.name]:
                    log.warning("backup %s: checksum of %s differs", archive, member.name)
                    raise damaged
                seen.add(member.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        log.warning("backup %s unreadable: %s", archive, exc)
        raise damaged from None
    if seen != set(expected):
        log.warning("backup %s: missing %s", archive, sorted(set(expected) - seen))
        raise damaged
    return staging / DUMP


def _safe(name: str) -> bool:
    return not name.startswith("/") and all(p not in ("", ".", "..") for p in name.split("/"))


def _pg_restore(url: str, major: int, dump: Path) -> None:
    """pg_restore in one transaction, without the extensions' comments: only an
    extension's owner may set them, and on a managed server the administrator creates
    the extensions (CREATE EXTENSION IF NOT EXISTS in the dump then does nothing)."""
    program = client_program("pg_restore", major)
    listing = subprocess.run([program, "--list", str(dump)], capture_output=True, text=True)
    if listing.returncode != 0:
        log.error("pg_restore --list failed: %s", listing.stderr.strip())
        raise _refuse("pg_restore cannot read the dump; use another copy of the backup.",
                      "pg_restore không đọc được bản dump; hãy dùng một bản sao lưu khác.")
    entries = dump.with_name("restore.list")
    entries.write_text("".join(line + "\n" for line in listing.stdout.splitlines()
                               if " COMMENT - EXTENSION " not in line))
    args, env = libpq_target(url)
    done = subprocess.run(
        [program, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
         f"--use-list={entries}", *args, str(dump)],
        capture_output=True, text=True, env=env)
    if done.returncode != 0:
        log.error("pg_restore failed: %s", done.stderr.strip())
        raise _refuse(
            "pg_restore failed and was rolled back; the database is still empty (the "
            "details are in the log). Check that the extensions postgis, unaccent and "
            "pg_trgm can be created there.",
            "pg_restore báo lỗi và đã được hoàn tác; cơ sở dữ liệu vẫn trống (chi tiết trong "
            "nhật ký). Hãy kiểm tra có thể tạo các extension postgis, unaccent, pg_trgm ở đó.",
            f"pg_restore failed: {done.stderr.strip()}")
