"""Unpack uploaded survey archives (.zip, and .kmz: a zip holding a .kml) before GDAL reads them.

The files come from unknown sources, so nothing in an archive is trusted:

* names are checked before anything is written: no absolute paths, drive letters or '..'
  (backslashes count as separators), no control characters, no two names that are equal
  once normalised (NFC, case-folded);
* only regular files and folders are extracted: symlinks, devices, pipes and sockets are
  refused, and files are created with O_EXCL so that nothing is ever written through a link;
* sizes in the headers are used to refuse early, never to allow: every member is streamed
  and counted, and writing stops as soon as the real bytes pass a limit (member size, total
  size, or expansion ratio against the compressed bytes, which are checked to lie inside
  the file and not to overlap another member's);
* the central directory is counted by walking it before `zipfile` parses it, so an archive
  with millions of entries is refused without building millions of objects;
* only Stored and Deflate members are read: Deflate output is produced a chunk at a time,
  whereas zipfile's BZIP2 and LZMA readers decompress a whole read at once (a few KB of
  BZIP2 can expand to GBs in memory);
* a zip inside the zip (a .zip or .kmz member) is unpacked into a folder named after it, up
  to `Limits.max_depth` levels.

When an archive is refused, everything written into the destination is removed and
`ArchiveRejected` carries an English and a Vietnamese message that says what to do.
"""
from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from gis_app.errors import ImportFailed

log = logging.getLogger(__name__)

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; the end record of an empty zip
ARCHIVE_SUFFIXES = (".zip", ".kmz")
DATASET_SUFFIXES = (".gpkg", ".geojson", ".json", ".kml", ".csv", ".fgb")
SHAPEFILE_PARTS = (".shx", ".dbf")  # required next to a .shp (.prj is advised, not required)
ACCEPTED_EN = ("a shapefile (.shp with its .shx and .dbf), .gpkg, .geojson, .json, .kml, .kmz, "
               ".csv or .fgb")
ACCEPTED_VI = ("shapefile (.shp kèm .shx và .dbf), .gpkg, .geojson, .json, .kml, .kmz, .csv "
               "hoặc .fgb")
ZIP_PARTS_EN = "Zip the .shp, .shx, .dbf and .prj files directly."
ZIP_PARTS_VI = "Hãy nén trực tiếp các tệp .shp, .shx, .dbf và .prj."

_CHUNK = 256 * 1024
_FLAG_ENCRYPTED = 0x0001 | 0x0040  # traditional PKWARE encryption; strong encryption
_FLAG_UTF8 = 0x0800
_READABLE_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_METHOD_NAMES = {1: "Shrink", 6: "Implode", 9: "Deflate64", 12: "BZIP2", 14: "LZMA",
                 93: "Zstandard", 95: "XZ", 98: "PPMd", 99: "AES"}
_LOCAL_HEADER_SIZE = 30
_CENTRAL_HEADER_SIZE = 46
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_MAX_NAME_BYTES = 255  # one path component
_MAX_PATH_BYTES = 1024  # a whole member path
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IGNORED_FOLDERS = {"__macosx"}  # macOS resource forks
_IGNORED_FILES = {".ds_store", "thumbs.db", "desktop.ini"}  # Finder and Explorer litter
_SHOWN_FILES = 15  # names listed in the "no survey file found" message


class ArchiveRejected(ImportFailed):
    """An uploaded archive was refused as unsafe or unusable; nothing was left extracted.

    `details["reason"]`, when set, names the rule that refused it (for logs and tests).
    """


@dataclass(frozen=True)
class Limits:
    """What an archive may hold. Sizes are the real unpacked bytes, not the header's claims."""

    max_members: int = 1000  # entries in all central directories, nested ones included
    max_total_bytes: int = 2 * 1024**3  # unpacked, all members (nested archives included)
    max_member_bytes: int = 1024**3
    max_ratio: float = 200.0  # unpacked / compressed bytes of one member (zip bomb)
    max_depth: int = 1  # a zip inside a zip is unpacked once, no deeper
    # Members are judged by their ratio only beyond this size: a small DBF of blank fields
    # legitimately compresses more than 200 times, and a bomb needs size to do harm.
    ratio_floor_bytes: int = 1024**2


@dataclass(frozen=True)
class Extraction:
    """What `extract` wrote: the regular files, and the entries it skipped on purpose."""

    files: list[Path]
    ignored: list[str]


def is_archive(path: Path) -> bool:
    """True when `path` starts like a zip (so .kmz too), whatever its extension.

    Zip-based office documents (.xlsx, .docx, .ods) are zips by this test as well.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError:
        return False
    return head in ZIP_MAGIC


def unpack(archive: Path, dest: Path, limits: Limits = Limits()) -> list[Path]:
    """Extract `archive` into `dest` (an existing empty directory); the regular files written.

    Raises ArchiveRejected (leaving `dest` empty) when the archive is unsafe, too large,
    encrypted, damaged or nested too deep; see the module docstring. macOS and Windows
    litter (__MACOSX/, .DS_Store, ._*, Thumbs.db, desktop.ini) is skipped: `extract` lists it.
    """
    return extract(archive, dest, limits).files


def extract(archive: Path, dest: Path, limits: Limits = Limits()) -> Extraction:
    """`unpack`, also returning the member names that were skipped on purpose."""
    if not dest.is_dir():
        raise ValueError(f"{dest} is not a directory")
    if any(dest.iterdir()):
        raise ValueError(f"{dest} is not empty")
    if not is_archive(archive):
        raise _rejected(
            "not_zip",
            f"{archive.name} is not a ZIP archive. Upload a .zip or .kmz file, or the survey "
            f"file itself.",
            f"{archive.name} không phải là tệp nén ZIP. Hãy tải lên tệp .zip hoặc .kmz, hoặc "
            f"chính tệp dữ liệu khảo sát.")
    run = _Run(dest=dest, real_dest=dest.resolve(), limits=limits)
    try:
        _unpack_archive(run, archive, (), depth=0, where="", label=archive.name)
    except BaseException:
        _empty(dest)
        raise
    if run.ignored:
        log.info("%s: skipped %d system entries: %s", archive.name, len(run.ignored),
                 ", ".join(run.ignored[:20]))
    return Extraction(files=sorted(run.files), ignored=run.ignored)


def find_datasets(files: list[Path]) -> list[Path]:
    """The datasets GDAL should open among extracted `files`, sorted.

    A .shp counts only with its .shx and .dbf beside it (same folder, same name ignoring
    case); a .shp missing one, or a .shx/.dbf without its .shp, raises ArchiveRejected naming
    the missing part. Also raises when no dataset is found, listing what the archive holds.
    """
    datasets: list[Path] = []
    shapefiles: dict[tuple[Path, str], dict[str, Path]] = {}
    for path in files:
        suffix = path.suffix.lower()
        if suffix in DATASET_SUFFIXES:
            datasets.append(path)
        elif suffix in (".shp", *SHAPEFILE_PARTS):
            key = (path.parent, _fold(path.stem))
            shapefiles.setdefault(key, {})[suffix] = path
    problems_en: list[str] = []
    problems_vi: list[str] = []
    for _, parts in sorted(shapefiles.items()):
        shp = parts.get(".shp")
        if shp is None:
            have = sorted(p.name for p in parts.values())
            wanted = f"{Path(have[0]).stem}.shp"
            problems_en.append(f"the archive has {' and '.join(have)} but no {wanted}")
            problems_vi.append(f"tệp nén có {' và '.join(have)} nhưng không có {wanted}")
            continue
        missing = [suffix for suffix in SHAPEFILE_PARTS if suffix not in parts]
        if missing:
            problems_en.append(f"{shp.name} has no {' and no '.join(missing)}")
            problems_vi.append(f"{shp.name} thiếu tệp {' và '.join(missing)}")
        else:
            datasets.append(shp)
    if problems_en:
        raise _rejected("shapefile_incomplete",
                        f"Incomplete shapefile: {'; '.join(problems_en)}. {ZIP_PARTS_EN}",
                        f"Shapefile chưa đầy đủ: {'; '.join(problems_vi)}. {ZIP_PARTS_VI}")
    if not datasets:
        names = sorted({p.name for p in files}, key=str.casefold)
        if not names:
            held_en, held_vi = "it is empty", "tệp nén không chứa tệp nào"
        else:
            shown = ", ".join(names[:_SHOWN_FILES])
            more = len(names) - _SHOWN_FILES
            held_en = f"it contains: {shown}" + (f" and {more} more" if more > 0 else "")
            held_vi = f"tệp nén chứa: {shown}" + (f" và {more} tệp khác" if more > 0 else "")
        raise _rejected(
            "no_dataset",
            f"Nothing to import: no survey file found in the archive; {held_en}. The archive "
            f"must hold {ACCEPTED_EN}.",
            f"Không có gì để nhập: không tìm thấy tệp dữ liệu khảo sát nào trong tệp nén; "
            f"{held_vi}. Tệp nén phải chứa {ACCEPTED_VI}.")
    return sorted(datasets)


# --- the unpacking run ---------------------------------------------------------------------


@dataclass
class _Run:
    """One call of `extract`: its limits, what was written, and which names are taken."""

    dest: Path
    real_dest: Path
    limits: Limits
    members: int = 0
    total: int = 0  # real bytes written so far, nested archives included
    files: list[Path] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    file_keys: set[str] = field(default_factory=set)
    dir_keys: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]  # path below dest, normalised
    shown: str  # the name as the user knows it, for messages
    kind: str  # "dir", "file" or "archive"


def _unpack_archive(run: _Run, archive: Path, prefix: tuple[str, ...], depth: int, where: str,
                    label: str) -> None:
    """Check every entry of `archive`, then extract them under dest/`prefix`."""
    limits = run.limits
    with archive.open("rb") as fp:
        try:
            count = _count_entries(fp, stop=limits.max_members - run.members)
            if run.members + count > limits.max_members:
                raise _too_many(limits)
            zf = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, EOFError, ValueError, struct.error, OSError,
                NotImplementedError) as exc:  # NotImplementedError: a newer zip version
            raise _damaged(label, exc) from exc
        with zf:
            infos = zf.infolist()
            run.members += len(infos)
            if run.members > limits.max_members:
                raise _too_many(limits)
            _check_layout(zf, infos, label)
            members = [m for m in (_plan(run, info, prefix, depth, where) for info in infos)
                       if m is not None]
            _check_declared_total(run, members)
            for member in members:
                _extract_member(run, zf, member, depth, label)


def _plan(run: _Run, info: zipfile.ZipInfo, prefix: tuple[str, ...], depth: int,
          where: str) -> _Member | None:
    """Validate one entry and claim its name; None for an entry that is skipped."""
    name = _member_name(info)
    shown = where + name
    parts, is_dir = _safe_parts(name, shown)
    file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when no Unix mode was stored
    if file_type == stat.S_IFLNK:
        raise _rejected(
            "symlink",
            f"'{_show(shown)}' is a symbolic link, which is not accepted. Zip the files "
            f"themselves, not links to them.",
            f"'{_show(shown)}' là một liên kết tượng trưng (symlink) nên không được chấp "
            f"nhận. Hãy nén chính các tệp, không nén liên kết tới chúng.")
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        what_en, what_vi = {stat.S_IFIFO: ("a named pipe", "một đường ống có tên (pipe)"),
                            stat.S_IFSOCK: ("a socket", "một socket"),
                            stat.S_IFCHR: ("a device", "một thiết bị"),
                            stat.S_IFBLK: ("a device", "một thiết bị")}.get(
                                file_type, ("a special file", "một tệp đặc biệt"))
        raise _rejected(
            "special_file",
            f"'{_show(shown)}' is not a regular file (it is {what_en}). Zip only ordinary "
            f"files.",
            f"'{_show(shown)}' không phải là tệp thông thường (mà là {what_vi}). Hãy chỉ "
            f"nén các tệp thông thường.")
    if not parts:  # "./" and the like: the archive's own root
        return None
    is_dir = is_dir or file_type == stat.S_IFDIR
    if _is_ignored(parts, is_dir):
        run.ignored.append(shown)
        return None
    if is_dir:
        _claim(run, prefix + parts, is_dir=True, shown=shown)
        return _Member(info, prefix + parts, shown, "dir")
    if info.flag_bits & _FLAG_ENCRYPTED:
        raise _rejected(
            "encrypted",
            f"'{_show(shown)}' is password-protected. Zip the files again without a password.",
            f"'{_show(shown)}' được bảo vệ bằng mật khẩu. Hãy nén lại các tệp mà không đặt "
            f"mật khẩu.")
    if info.compress_type not in _READABLE_METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise _rejected(
            "compression",
            f"'{_show(shown)}' uses a compression method this service cannot read "
            f"({method}). Zip the files again with the standard method (Deflate), for "
            f"example with the ZIP tool built into Windows.",
            f"'{_show(shown)}' dùng phương thức nén mà hệ thống không đọc được ({method}). "
            f"Hãy nén lại bằng phương thức tiêu chuẩn (Deflate), ví dụ bằng công cụ nén có "
            f"sẵn trong Windows.")
    kind = "file"
    if parts[-1].lower().endswith(ARCHIVE_SUFFIXES):
        if depth + 1 > run.limits.max_depth:
            raise _too_deep(shown, depth + 1, run.limits.max_depth)
        kind = "archive"
    _check_declared(run, info, shown)
    _claim(run, prefix + parts, is_dir=False, shown=shown)
    return _Member(info, prefix + parts, shown, kind)


def _extract_member(run: _Run, zf: zipfile.ZipFile, member: _Member, depth: int,
                    label: str) -> None:
    target = run.dest.joinpath(*member.parts)
    if member.kind == "dir":
        _make_dirs(run, target, member.shown)
        return
    _make_dirs(run, target.parent, member.shown)
    with _create(target, member.shown) as out:
        try:
            with zf.open(member.info) as src:
                _copy(run, src, out, member.info, member.shown)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error,
                NotImplementedError, RuntimeError) as exc:
            raise _damaged(label, exc) from exc
    if member.kind == "archive":
        parent, stem = member.parts[:-1], member.parts[-1][:-4] or "archive"
        root = _nested_root(run, parent, stem, member.shown)
        _unpack_archive(run, target, root, depth + 1, where=member.shown + "/",
                        label=member.shown)
        target.unlink()
    else:
        run.files.append(target)


def _create(target: Path, shown: str) -> BinaryIO:
    """Open a new file for writing; O_EXCL, so never through an existing file or link."""
    try:
        return open(target, "xb")
    except FileExistsError as exc:
        raise _duplicate(shown) from exc
    except OSError as exc:
        if _name_refused(exc):
            raise _refused_name(shown) from exc
        raise


def _copy(run: _Run, src: BinaryIO, out: BinaryIO, info: zipfile.ZipInfo, shown: str) -> None:
    """Stream one member, stopping before the real bytes pass any limit."""
    limits = run.limits
    ratio_cap = max(limits.max_ratio * info.compress_size, limits.ratio_floor_bytes)
    written = 0
    while chunk := src.read(_CHUNK):
        written += len(chunk)
        if written > limits.max_member_bytes:
            raise _member_too_big(shown, limits)
        if run.total + written > limits.max_total_bytes:
            raise _too_big(limits)
        if written > ratio_cap:
            raise _bomb(shown, limits)
        out.write(chunk)
    run.total += written


def _check_declared(run: _Run, info: zipfile.ZipInfo, shown: str) -> None:
    """Refuse before writing anything when the header itself admits too much."""
    limits = run.limits
    if info.file_size > limits.max_member_bytes:
        raise _member_too_big(shown, limits)
    if info.file_size > max(limits.max_ratio * info.compress_size, limits.ratio_floor_bytes):
        raise _bomb(shown, limits)


def _check_declared_total(run: _Run, members: list[_Member]) -> None:
    declared = sum(m.info.file_size for m in members if m.kind != "dir")
    if run.total + declared > run.limits.max_total_bytes:
        raise _too_big(run.limits)


def _check_layout(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], label: str) -> None:
    """Each member's compressed bytes must fit before the next header: no overlapping entries
    (the "better zip bomb" reuses one stream for many names), no size claims past the data.
    After this, a member's compress_size bounds the bytes read for it."""
    spans = sorted((i.header_offset, len(_raw_name(i)), i.compress_size) for i in infos)
    bounds = [offset for offset, _, _ in spans][1:] + [zf.start_dir]
    for (offset, name_length, size), bound in zip(spans, bounds, strict=False):
        if offset < 0 or offset + _LOCAL_HEADER_SIZE + name_length + size > bound:
            raise _damaged(label, zipfile.BadZipFile(f"entry at {offset} overlaps the next"))


def _count_entries(fp: BinaryIO, stop: int) -> int:
    """Entries in the central directory, counted by walking it (the end record's count may
    lie), up to `stop` + 1. Raises BadZipFile when there is no end record."""
    size = fp.seek(0, os.SEEK_END)
    tail_length = min(size, _EOCD.size + 0xFFFF)
    fp.seek(size - tail_length)
    tail = fp.read(tail_length)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        raise zipfile.BadZipFile("no end of central directory record")
    end = size - tail_length + at
    cd_size = _EOCD.unpack_from(tail, at)[5]
    record64 = end - _ZIP64_LOCATOR_SIZE - _ZIP64_EOCD.size
    if record64 >= 0:
        fp.seek(end - _ZIP64_LOCATOR_SIZE)
        if fp.read(4) == b"PK\x06\x07":
            fp.seek(record64)
            record = fp.read(_ZIP64_EOCD.size)
            if record[:4] == b"PK\x06\x06":
                cd_size = _ZIP64_EOCD.unpack(record)[8]
                end = record64
    position = end - cd_size
    if position < 0:
        raise zipfile.BadZipFile("central directory starts before the file")
    count = 0
    while position < end and count <= stop:
        fp.seek(position)
        header = fp.read(_CENTRAL_HEADER_SIZE)
        if len(header) < _CENTRAL_HEADER_SIZE or header[:4] != b"PK\x01\x02":
            break  # zipfile reports the damage
        name_length, extra_length, comment_length = struct.unpack_from("<3H", header, 28)
        position += _CENTRAL_HEADER_SIZE + name_length + extra_length + comment_length
        count += 1
    return count


# --- names -----------------------------------------------------------------------------------


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes as stored (zipfile decoded them as UTF-8 or cp437, both reversible)."""
    return info.orig_filename.encode("utf-8" if info.flag_bits & _FLAG_UTF8 else "cp437")


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name: UTF-8 when flagged (bit 11) or given in the Info-ZIP Unicode Path
    extra field; else UTF-8 if the bytes are valid UTF-8 (tools that forget the flag); else
    cp437, the zip format's historical code page."""
    if info.flag_bits & _FLAG_UTF8:
        return info.orig_filename
    raw = _raw_name(info)
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    if not raw.isascii():
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return info.orig_filename


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path extra field (0x7075), if present and matching `raw`."""
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        data = extra[position + 4:position + 4 + length]
        position += 4 + length
        if tag == 0x7075 and len(data) >= 5 and data[0] == 1:
            if struct.unpack_from("<L", data, 1)[0] != zlib.crc32(raw):
                return None  # the name was changed after the field was written
            try:
                return data[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def _safe_parts(name: str, shown: str) -> tuple[tuple[str, ...], bool]:
    """The normalised path components of a member name, and whether it names a folder.

    Backslashes are separators (some Windows tools write them); '.' and empty components
    are dropped; absolute paths, drive letters and '..' are refused.
    """
    if _CONTROL.search(name):
        raise _bad_name(shown, "control characters", "có ký tự điều khiển")
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        raise _unsafe(shown)
    pieces = path.split("/")
    if ".." in pieces:
        raise _unsafe(shown)
    parts = tuple(unicodedata.normalize("NFC", p) for p in pieces if p not in ("", "."))
    if any(len(p.encode("utf-8")) > _MAX_NAME_BYTES for p in parts) \
            or len("/".join(parts).encode("utf-8")) > _MAX_PATH_BYTES:
        raise _bad_name(shown, "name too long", "tên quá dài")
    return parts, path.endswith("/")


def _is_ignored(parts: tuple[str, ...], is_dir: bool) -> bool:
    if any(p.casefold() in _IGNORED_FOLDERS for p in parts):
        return True
    return not is_dir and (parts[-1].casefold() in _IGNORED_FILES or parts[-1].startswith("._"))


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def _key(parts: Iterable[str]) -> str:
    return "/".join(_fold(p) for p in parts)


def _claim(run: _Run, parts: tuple[str, ...], *, is_dir: bool, shown: str) -> None:
    """Reserve a path below dest: refuse a name already taken (ignoring case and Unicode
    normalisation) and a file that is also a folder."""
    key = _key(parts)
    ancestors = [_key(parts[:i]) for i in range(1, len(parts))]
    if key in run.file_keys or any(a in run.file_keys for a in ancestors):
        raise _duplicate(shown)
    if not is_dir and key in run.dir_keys:
        raise _duplicate(shown)
    run.dir_keys.update(ancestors)
    (run.dir_keys if is_dir else run.file_keys).add(key)


def _nested_root(run: _Run, parent: tuple[str, ...], stem: str,
                 shown: str) -> tuple[str, ...]:
    """A free folder beside a nested archive to unpack it into: 'name', else 'name (2)'..."""
    number = 1
    while True:
        candidate = parent + (stem if number == 1 else f"{stem} ({number})",)
        key = _key(candidate)
        if key not in run.file_keys and key not in run.dir_keys:
            _claim(run, candidate, is_dir=True, shown=shown)
            return candidate
        number += 1


def _make_dirs(run: _Run, path: Path, shown: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise _duplicate(shown) from exc
    except OSError as exc:
        if _name_refused(exc):
            raise _refused_name(shown) from exc
        raise
    if not Path(os.path.realpath(path)).is_relative_to(run.real_dest):
        raise _unsafe(shown)  # cannot happen with checked names; kept as the last guard


def _empty(dest: Path) -> None:
    """Remove everything below `dest` (which was empty before the run)."""
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


# --- messages --------------------------------------------------------------------------------


def _rejected(reason: str, en: str, vi: str, log_message: str | None = None) -> ArchiveRejected:
    return ArchiveRejected(en, vi, log=log_message, details={"reason": reason})


def _show(name: str) -> str:
    """A member name fit for a message: no control characters, not endless."""
    name = _CONTROL.sub("?", name)
    return name if len(name) <= 120 else name[:117] + "..."


def _size(n: float) -> tuple[str, str]:
    """`n` bytes for people, in English and Vietnamese ('1.5 GB', '1,5 GB')."""
    for unit, label in ((1024**3, "GB"), (1024**2, "MB"), (1024, "KB")):
        if n >= unit:
            text = f"{n / unit:.3g} {label}"
            return text, text.replace(".", ",")
    return f"{n:.0f} bytes", f"{n:.0f} byte"


def _damaged(label: str, exc: BaseException) -> ArchiveRejected:
    return _rejected(
        "damaged",
        f"The archive {_show(label)} is damaged or incomplete. Upload it again; if this "
        f"happens again, re-create it (in Windows: right-click the folder > Send to > "
        f"Compressed (zipped) folder).",
        f"Tệp nén {_show(label)} bị hỏng hoặc chưa được tải lên đầy đủ. Hãy tải lên lại; nếu "
        f"vẫn lỗi, hãy nén lại (trên Windows: nhấp chuột phải vào thư mục > Gửi tới (Send to) "
        f"> Thư mục nén (Compressed (zipped) folder)).",
        f"{label}: {type(exc).__name__}: {exc}")


def _unsafe(shown: str) -> ArchiveRejected:
    return _rejected(
        "unsafe_path",
        f"The archive contains an unsafe file path: '{_show(shown)}'. Paths must stay inside "
        f"the archive (no '..', no leading '/' or drive letter). Re-create the archive from "
        f"the folder that holds the survey files.",
        f"Tệp nén chứa đường dẫn không an toàn: '{_show(shown)}'. Đường dẫn phải nằm bên "
        f"trong tệp nén (không có '..', không bắt đầu bằng '/' hay ký hiệu ổ đĩa). Hãy nén "
        f"lại từ thư mục chứa các tệp khảo sát.")


def _bad_name(shown: str, why_en: str, why_vi: str) -> ArchiveRejected:
    return _rejected(
        "bad_name",
        f"The archive contains an entry with an invalid name: '{_show(shown)}' ({why_en}). "
        f"Rename the file and zip it again.",
        f"Tệp nén chứa một mục có tên không hợp lệ: '{_show(shown)}' ({why_vi}). Hãy đổi "
        f"tên tệp rồi nén lại.")


def _name_refused(exc: OSError) -> bool:
    """A name the file system refuses is the archive's fault; other errors (a full disk) are
    the server's and propagate as they are."""
    return exc.errno in (errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL)


def _refused_name(shown: str) -> ArchiveRejected:
    return _bad_name(shown, "the file system refuses it", "hệ thống tệp không chấp nhận")


def _duplicate(shown: str) -> ArchiveRejected:
    return _rejected(
        "duplicate",
        f"The archive contains '{_show(shown)}' twice (names are compared ignoring upper and "
        f"lower case; a file and a folder may not share a name). Rename or remove one of "
        f"them and zip again.",
        f"Tệp nén chứa '{_show(shown)}' hai lần (tên được so sánh không phân biệt chữ hoa, "
        f"chữ thường; tệp và thư mục không được trùng tên). Hãy đổi tên hoặc bỏ bớt một mục "
        f"rồi nén lại.")


def _too_many(limits: Limits) -> ArchiveRejected:
    return _rejected(
        "too_many_members",
        f"The archive has more than {limits.max_members} entries. Zip only the survey files "
        f"(for a shapefile: .shp, .shx, .dbf, .prj), not whole folders.",
        f"Tệp nén có hơn {limits.max_members} mục. Hãy chỉ nén các tệp dữ liệu khảo sát (với "
        f"shapefile: .shp, .shx, .dbf, .prj), không nén cả thư mục.")


def _too_big(limits: Limits) -> ArchiveRejected:
    en, vi = _size(limits.max_total_bytes)
    return _rejected(
        "too_large",
        f"Unpacked, the archive would be larger than {en}. Upload fewer files at a time, or "
        f"leave out files that are not survey data (photos, scans).",
        f"Sau khi giải nén, tệp nén sẽ lớn hơn {vi}. Hãy tải lên ít tệp hơn mỗi lần, hoặc "
        f"bỏ các tệp không phải dữ liệu khảo sát (ảnh, bản quét).")


def _member_too_big(shown: str, limits: Limits) -> ArchiveRejected:
    en, vi = _size(limits.max_member_bytes)
    return _rejected(
        "member_too_large",
        f"'{_show(shown)}' is larger than {en} once unpacked. Split the layer into smaller "
        f"files, or ask the administrator to import it.",
        f"'{_show(shown)}' lớn hơn {vi} sau khi giải nén. Hãy chia lớp dữ liệu thành các tệp "
        f"nhỏ hơn, hoặc nhờ quản trị viên nhập tệp này.")


def _bomb(shown: str, limits: Limits) -> ArchiveRejected:
    ratio = f"{limits.max_ratio:g}"
    return _rejected(
        "zip_bomb",
        f"'{_show(shown)}' expands more than {ratio} times when unpacked. Archives like this "
        f"are made to exhaust servers (a \"zip bomb\"), so it was refused. Zip the original "
        f"survey files again with an ordinary ZIP tool.",
        f"'{_show(shown)}' phình to hơn {ratio.replace('.', ',')} lần khi giải nén. Kiểu tệp "
        f"nén này thường dùng để làm tê liệt máy chủ (\"bom nén\") nên đã bị từ chối. Hãy "
        f"nén lại các tệp khảo sát gốc bằng công cụ ZIP thông thường.")


def _too_deep(shown: str, nesting: int, max_depth: int) -> ArchiveRejected:
    chain_en = "an archive" + " inside an archive" * nesting
    chain_vi = "một tệp nén" + " nằm trong một tệp nén" * nesting
    if max_depth <= 0:
        rule_en = "archives inside the archive are not unpacked"
        rule_vi = "hệ thống không giải nén tệp nén nằm bên trong tệp nén"
    else:
        levels_en = "one level" if max_depth == 1 else f"{max_depth} levels"
        rule_en = f"archives inside archives are unpacked only {levels_en} deep"
        rule_vi = f"hệ thống chỉ giải nén tệp nén lồng nhau tới {max_depth} cấp"
    return _rejected(
        "nested_too_deep",
        f"'{_show(shown)}' is {chain_en}; {rule_en}. Unpack the inner archives and zip the "
        f"survey files directly.",
        f"'{_show(shown)}' là {chain_vi}; {rule_vi}. Hãy giải nén các tệp nén bên trong rồi "
        f"nén trực tiếp các tệp khảo sát.")
