"""Uploaded archives: every hostile zip is built here, byte by byte where zipfile refuses to.

Pure unit tests (tmp_path only, no database). Each refusal checks the user-facing message,
that the destination is left empty and that nothing appeared anywhere else under tmp_path.
"""
from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import stat
import struct
import tracemalloc
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from gis_app.errors import ImportFailed
from gis_app.importers import archive
from gis_app.importers.archive import (
    ArchiveRejected,
    Limits,
    extract,
    find_datasets,
    is_archive,
    unpack,
)

MiB = 1024 * 1024
Member = tuple[str | zipfile.ZipInfo, bytes]


# --- building archives -----------------------------------------------------------------------


def zip_bytes(members: list[Member], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted here
        with zipfile.ZipFile(buffer, "w", compression) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def headers(data: bytes) -> tuple[list[int], list[int]]:
    """Offsets of the local and of the central headers."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = [info.header_offset for info in zf.infolist()]
        position = zf.start_dir
    central = []
    while data[position:position + 4] == b"PK\x01\x02":
        central.append(position)
        n, m, k = struct.unpack_from("<3H", data, position + 28)
        position += 46 + n + m + k
    return local, central


def patch(data: bytes, *, flags_set: int = 0, flags_clear: int = 0,
          file_size: int | None = None) -> bytes:
    """Rewrite the general purpose flags and/or the uncompressed size in every header."""
    buf = bytearray(data)
    local, central = headers(data)
    for offsets, flag_at, size_at in ((local, 6, 22), (central, 8, 24)):
        for offset in offsets:
            flags = struct.unpack_from("<H", buf, offset + flag_at)[0]
            struct.pack_into("<H", buf, offset + flag_at, (flags | flags_set) & ~flags_clear)
            if file_size is not None:
                struct.pack_into("<L", buf, offset + size_at, file_size)
    return bytes(buf)


def symlink_info(name: str, mode: int = stat.S_IFLNK | 0o777) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def snapshot(root: Path) -> set[str]:
    """Every path under root (links not followed)."""
    found = set()
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            found.add(os.path.relpath(os.path.join(folder, name), root))
    return found


def rejected(tmp_path: Path, data: bytes, fragment: str, limits: Limits | None = None,
             vi: str | None = None) -> ArchiveRejected:
    """Unpack must refuse with `fragment` in the English message, leaving no trace."""
    path = write(tmp_path / "upload.zip", data)
    dest = tmp_path / "out"
    dest.mkdir()
    before = snapshot(tmp_path)
    with pytest.raises(ArchiveRejected) as caught:
        unpack(path, dest, limits or Limits())
    error = caught.value
    assert fragment in error.message_en
    assert error.message_vi != error.message_en and not error.message_vi.isascii()
    if vi is not None:
        assert vi in error.message_vi
    assert list(dest.iterdir()) == []
    assert snapshot(tmp_path) == before
    return error


def unpacked(tmp_path: Path, data: bytes, name: str = "upload.zip") -> list[str]:
    dest = tmp_path / "out"
    dest.mkdir()
    files = unpack(write(tmp_path / name, data), dest)
    assert all(f.is_file() and f.is_relative_to(dest) for f in files)
    return [f.relative_to(dest).as_posix() for f in files]


@contextlib.contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """No file may grow past `limit` bytes: a write beyond it fails with EFBIG (an OSError,
    which unpack does not turn into ArchiveRejected, so such a test fails)."""
    old = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, old[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old)
        signal.signal(signal.SIGXFSZ, handler)


@contextlib.contextmanager
def peak_memory(limit: int) -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak Python memory {peak / MiB:.1f} MiB"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """50 MiB of zeros in one Deflate member: about 50 KB, a ratio near 1000."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("thua_dat.geojson", "w") as member:
        zeros = bytes(MiB)
        for _ in range(50):
            member.write(zeros)
    data = path.read_bytes()
    assert len(data) < 100_000
    return data


# --- is_archive ------------------------------------------------------------------------------


def test_is_archive_reads_magic_bytes_not_the_extension(tmp_path: Path) -> None:
    assert is_archive(write(tmp_path / "survey.dat", zip_bytes([("a.kml", b"<kml/>")])))
    assert is_archive(write(tmp_path / "site.kmz", zip_bytes([("doc.kml", b"<kml/>")])))
    assert is_archive(write(tmp_path / "empty.zip", zip_bytes([])))  # PK\x05\x06
    assert not is_archive(write(tmp_path / "fake.zip", b"not a zip at all"))
    assert not is_archive(write(tmp_path / "short.zip", b"PK"))
    assert not is_archive(tmp_path / "missing.zip")
    assert not is_archive(tmp_path)


# --- good archives ---------------------------------------------------------------------------


def test_shapefile_in_a_subfolder_and_system_litter_skipped(tmp_path: Path) -> None:
    data = zip_bytes([
        ("Khoai Chau/", b""),
        ("Khoai Chau/a.shp", b"shp"), ("Khoai Chau/a.shx", b"shx"),
        ("Khoai Chau/a.dbf", b"dbf"), ("Khoai Chau/a.prj", b"prj"),
        ("__MACOSX/Khoai Chau/._a.shp", b"resource fork"),
        ("Khoai Chau/.DS_Store", b"finder"), ("Khoai Chau/._a.dbf", b"apple double"),
    ])
    dest = tmp_path / "out"
    dest.mkdir()
    result = extract(write(tmp_path / "upload.zip", data), dest)
    assert [f.relative_to(dest).as_posix() for f in result.files] == [
        "Khoai Chau/a.dbf", "Khoai Chau/a.prj", "Khoai Chau/a.shp", "Khoai Chau/a.shx"]
    assert sorted(result.ignored) == ["Khoai Chau/.DS_Store", "Khoai Chau/._a.dbf",
                                      "__MACOSX/Khoai Chau/._a.shp"]
    assert (dest / "Khoai Chau" / "a.dbf").read_bytes() == b"dbf"
    assert not (dest / "__MACOSX").exists()
    assert find_datasets(result.files) == [dest / "Khoai Chau" / "a.shp"]


def test_vietnamese_name_with_the_utf8_flag(tmp_path: Path) -> None:
    name = "Khu vực bảo vệ.geojson"
    data = zip_bytes([(name, b"{}"), ("Đình/Chùa Đại Bi.kml", b"<kml/>")])
    assert struct.unpack_from("<H", data, 6)[0] & 0x800  # zipfile sets the flag
    files = unpacked(tmp_path, data)
    assert files == [name, "Đình/Chùa Đại Bi.kml"]
    assert (tmp_path / "out" / name).read_bytes() == b"{}"


def test_decomposed_names_come_out_composed(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Khu vực bảo vệ.geojson")
    assert unicodedata.normalize("NFC", nfd) != nfd
    assert unpacked(tmp_path, zip_bytes([(nfd, b"{}")])) == ["Khu vực bảo vệ.geojson"]


def test_cp437_names_without_the_flag(tmp_path: Path) -> None:
    data = zip_bytes([("cafX.csv", b"x,y\n")]).replace(b"cafX.csv", b"caf\x82.csv")
    assert not struct.unpack_from("<H", data, 6)[0] & 0x800
    assert unpacked(tmp_path, data) == ["café.csv"]


def test_utf8_names_from_tools_that_forget_the_flag(tmp_path: Path) -> None:
    data = patch(zip_bytes([("Đình làng.kml", b"<kml/>")]), flags_clear=0x800)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() != ["Đình làng.kml"]  # zipfile alone gives cp437 mojibake
    assert unpacked(tmp_path, data) == ["Đình làng.kml"]


def test_info_zip_unicode_path_field(tmp_path: Path) -> None:
    raw = b"d\x81.csv"  # what an old tool wrote; the extra field has the real name
    real = "Đê.csv".encode()
    info = zipfile.ZipInfo("dX.csv")
    info.extra = struct.pack("<HHBL", 0x7075, 5 + len(real), 1, zlib.crc32(raw)) + real
    data = zip_bytes([(info, b"x,y\n")]).replace(b"dX.csv", raw)
    assert unpacked(tmp_path, data) == ["Đê.csv"]


def test_kmz(tmp_path: Path) -> None:
    data = zip_bytes([("doc.kml", b"<kml/>"), ("files/icon.png", b"\x89PNG")])
    dest = tmp_path / "out"
    dest.mkdir()
    kmz = write(tmp_path / "Di tích.kmz", data)
    assert is_archive(kmz)
    files = unpack(kmz, dest)
    assert files == [dest / "doc.kml", dest / "files" / "icon.png"]
    assert find_datasets(files) == [dest / "doc.kml"]


def test_a_zip_inside_the_zip_is_unpacked_once(tmp_path: Path) -> None:
    inner = zip_bytes([("a.geojson", b"{}")])
    data = zip_bytes([("data/inner.zip", inner), ("data/inner/readme.txt", b"hi"),
                      ("site.kmz", zip_bytes([("doc.kml", b"<kml/>")]))])
    files = unpacked(tmp_path, data)
    assert files == ["data/inner/readme.txt", "data/inner (2)/a.geojson", "site/doc.kml"]
    assert not (tmp_path / "out" / "data" / "inner.zip").exists()
    assert not (tmp_path / "out" / "site.kmz").exists()


def test_small_files_may_compress_well(tmp_path: Path) -> None:
    blank_dbf = zip_bytes([("a.dbf", b" " * 500_000)])  # blank text fields: ~1000x, but small
    assert unpacked(tmp_path, blank_dbf) == ["a.dbf"]
    (tmp_path / "strict").mkdir()
    rejected(tmp_path / "strict", blank_dbf, "expands more than 200",
             Limits(ratio_floor_bytes=0))


def test_empty_archive(tmp_path: Path) -> None:
    assert unpacked(tmp_path, zip_bytes([])) == []


# --- hostile names and members ---------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "../evil.txt", "a/../../evil.txt", "/etc/x", "//server/share/x", "C:\\x", "C:x.txt",
    "c:/windows/x.txt", "..\\evil.txt", "a\\..\\..\\evil.txt", "\\\\server\\share\\x", "..",
])
def test_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    data = zip_bytes([("ok.geojson", b"{}"), (name, b"pwned")])
    error = rejected(tmp_path, data, "unsafe file path", vi="không an toàn")
    assert error.details["reason"] == "unsafe_path"
    assert not (tmp_path.parent / "evil.txt").exists()


def test_absolute_path_into_tmp_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "absolute.txt"
    rejected(tmp_path, zip_bytes([(str(target), b"pwned")]), "unsafe file path")
    assert not target.exists()


@pytest.mark.parametrize("raw", [b"a\x00b.txt", b"a\x01b.txt", b"a\nb.txt"])
def test_control_characters_in_names(tmp_path: Path, raw: bytes) -> None:
    data = zip_bytes([("aXb.txt", b"x")]).replace(b"aXb.txt", raw)
    rejected(tmp_path, data, "invalid name", vi="ký tự điều khiển")


def test_overlong_name(tmp_path: Path) -> None:
    rejected(tmp_path, zip_bytes([("a" * 300 + ".kml", b"x")]), "name too long")


def test_symlink_is_refused(tmp_path: Path) -> None:
    data = zip_bytes([("ok.kml", b"<kml/>"), (symlink_info("link"), str(tmp_path).encode()),
                      ("link/evil.txt", b"through the link")])
    error = rejected(tmp_path, data, "'link' is a symbolic link", vi="liên kết tượng trưng")
    assert error.details["reason"] == "symlink"


def test_symlink_inside_macosx_is_refused_too(tmp_path: Path) -> None:
    rejected(tmp_path, zip_bytes([(symlink_info("__MACOSX/x"), b"/etc/passwd")]),
             "is a symbolic link")


@pytest.mark.parametrize(("mode", "what"), [
    (stat.S_IFIFO | 0o644, "a named pipe"), (stat.S_IFCHR | 0o644, "a device"),
    (stat.S_IFBLK | 0o644, "a device"), (stat.S_IFSOCK | 0o644, "a socket"),
])
def test_special_files_are_refused(tmp_path: Path, mode: int, what: str) -> None:
    rejected(tmp_path, zip_bytes([(symlink_info("thing", mode), b"")]),
             f"'thing' is not a regular file (it is {what})")


@pytest.mark.parametrize("names", [
    ["a.geojson", "a.geojson"],
    ["A.geojson", "a.geojson"],
    ["Đình.kml", unicodedata.normalize("NFD", "Đình.kml")],
    ["dir/x.csv", "dir\\x.csv"],
    ["dir/./x.csv", "dir//x.csv"],
    ["a", "a/b.txt"],
    ["a/b.txt", "a"],
])
def test_duplicate_names_after_normalisation(tmp_path: Path, names: list[str]) -> None:
    data = zip_bytes([(name, b"x") for name in names])
    rejected(tmp_path, data, "twice", vi="hai lần")


def test_encrypted_member(tmp_path: Path) -> None:
    data = patch(zip_bytes([("a.geojson", b"{}")]), flags_set=0x1)
    rejected(tmp_path, data, "'a.geojson' is password-protected", vi="mật khẩu")


def test_unsupported_compression(tmp_path: Path) -> None:
    data = zip_bytes([("a.geojson", b"{}" * 100)], zipfile.ZIP_BZIP2)
    rejected(tmp_path, data, "compression method this service cannot read (BZIP2)")


def test_not_a_zip(tmp_path: Path) -> None:
    rejected(tmp_path, b"<kml/>", "upload.zip is not a ZIP archive")


@pytest.mark.parametrize("keep", [0.5, -10, -1])
def test_truncated_archive(tmp_path: Path, keep: float) -> None:
    data = zip_bytes([("a.geojson", os.urandom(5000)), ("b.geojson", os.urandom(5000))])
    cut = data[:int(len(data) * keep)] if keep > 0 else data[:int(keep)]
    rejected(tmp_path, cut, "upload.zip is damaged or incomplete", vi="bị hỏng")


def test_corrupt_data_removes_what_was_already_written(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("a.geojson", b"{}" * 1000), ("b.geojson", os.urandom(5000))]))
    second = headers(bytes(data))[0][1]
    data[second + 100] ^= 0xFF  # inside b's data: a CRC error after a.geojson was written
    error = rejected(tmp_path, bytes(data), "is damaged or incomplete")
    assert "CRC" in error.log_message or "zlib" in error.log_message.lower()


def test_overlapping_entries_are_refused(tmp_path: Path) -> None:
    """Two central entries reusing one local file: the "better zip bomb" layout."""
    data = zip_bytes([("a.geojson", b"{}" * 1000)])
    _, central = headers(data)
    end = data.rfind(b"PK\x05\x06")
    copy = data[central[0]:end].replace(b"a.geojson", b"b.geojson")
    record = bytearray(data[end:])
    entries, cd_size = struct.unpack_from("<HL", record, 10)
    struct.pack_into("<HHL", record, 8, entries + 1, entries + 1, cd_size + len(copy))
    error = rejected(tmp_path, data[:end] + copy + bytes(record), "damaged or incomplete")
    assert "overlaps" in error.log_message


# --- limits ----------------------------------------------------------------------------------


def test_too_many_members(tmp_path: Path) -> None:
    data = zip_bytes([(f"{i}.txt", b"") for i in range(1001)])
    rejected(tmp_path, data, "more than 1000 entries", vi="hơn 1000 mục")


def test_too_many_members_even_when_the_end_record_lies(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([(f"{i}.txt", b"") for i in range(1001)]))
    end = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, end + 8, 5, 5)
    rejected(tmp_path, bytes(data), "more than 1000 entries")


def test_members_of_nested_archives_count(tmp_path: Path) -> None:
    inner = zip_bytes([(f"{i}.txt", b"") for i in range(3)])
    data = zip_bytes([("x.txt", b""), ("inner.zip", inner)])
    rejected(tmp_path, data, "more than 4 entries", Limits(max_members=4))


def test_declared_member_size_over_the_limit(tmp_path: Path) -> None:
    data = zip_bytes([("a.csv", os.urandom(3001))])
    rejected(tmp_path, data, "'a.csv' is larger than 2.93 KB once unpacked",
             Limits(max_member_bytes=3000), vi="2,93 KB")


def test_declared_total_over_the_limit(tmp_path: Path) -> None:
    data = zip_bytes([("a.csv", os.urandom(2001)), ("b.csv", os.urandom(2001))])
    rejected(tmp_path, data, "would be larger than 3.91 KB", Limits(max_total_bytes=4000))


def test_nested_three_deep_is_refused(tmp_path: Path) -> None:
    inner = zip_bytes([("x.geojson", b"{}")])
    middle = zip_bytes([("inner.zip", inner)])
    data = zip_bytes([("middle.zip", middle)])
    error = rejected(tmp_path, data,
                     "'middle.zip/inner.zip' is an archive inside an archive inside an archive",
                     vi="lồng nhau")
    assert error.details["reason"] == "nested_too_deep"


def test_no_nesting_at_depth_zero(tmp_path: Path) -> None:
    data = zip_bytes([("inner.kmz", zip_bytes([("doc.kml", b"<kml/>")]))])
    rejected(tmp_path, data, "is an archive inside an archive; archives inside the archive "
             "are not unpacked", Limits(max_depth=0))


def test_zip_bomb_is_refused_before_writing(tmp_path: Path, bomb: bytes) -> None:
    with file_size_limit(MiB), peak_memory(4 * MiB):
        error = rejected(tmp_path, bomb, "'thua_dat.geojson' expands more than 200 times",
                         vi="bom nén")
    assert error.details["reason"] == "zip_bomb"


def test_zip_bomb_whose_header_claims_a_small_size(tmp_path: Path, bomb: bytes) -> None:
    """The header says 1000 bytes: at most that is written, then the CRC gives it away."""
    liar = patch(bomb, file_size=1000)
    with zipfile.ZipFile(io.BytesIO(liar)) as zf:
        assert zf.infolist()[0].file_size == 1000
    with file_size_limit(64 * 1024), peak_memory(4 * MiB):
        rejected(tmp_path, liar, "upload.zip is damaged or incomplete")


@pytest.mark.parametrize(("limits", "fragment"), [
    (Limits(), "expands more than 200 times"),
    (Limits(max_ratio=1e9, max_member_bytes=4 * MiB), "is larger than 4 MB once unpacked"),
    (Limits(max_ratio=1e9, max_total_bytes=3 * MiB), "would be larger than 3 MB"),
])
def test_streaming_stops_at_the_real_bytes(tmp_path: Path, bomb: bytes,
                                           monkeypatch: pytest.MonkeyPatch, limits: Limits,
                                           fragment: str) -> None:
    """With the header checks switched off, the byte count alone stops the bomb: no more
    than the limit is written (the ratio cap is 200 x ~50 KB, about 10 MB)."""
    monkeypatch.setattr(archive, "_check_declared", lambda *args: None)
    monkeypatch.setattr(archive, "_check_declared_total", lambda *args: None)
    with file_size_limit(12 * MiB), peak_memory(4 * MiB):
        rejected(tmp_path, bomb, fragment, limits)


# --- find_datasets ---------------------------------------------------------------------------


def touch(folder: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
        paths.append(path)
    return paths


def test_find_datasets_sorted_and_case_insensitive(tmp_path: Path) -> None:
    files = touch(tmp_path, "b/VNM_adm3.SHP", "b/vnm_adm3.dbf", "b/VNM_ADM3.Shx",
                  "b/VNM_adm3.prj", "a.GeoJSON", "z.gpkg", "c.csv", "d.fgb", "e.kml",
                  "f.json", "notes.txt")
    assert find_datasets(files) == sorted([
        tmp_path / "a.GeoJSON", tmp_path / "z.gpkg", tmp_path / "c.csv", tmp_path / "d.fgb",
        tmp_path / "e.kml", tmp_path / "f.json", tmp_path / "b" / "VNM_adm3.SHP"])


def test_shapefile_without_its_index(tmp_path: Path) -> None:
    files = touch(tmp_path, "VNM_adm3.shp", "VNM_adm3.dbf", "VNM_adm3.prj")
    with pytest.raises(ArchiveRejected) as caught:
        find_datasets(files)
    assert "VNM_adm3.shp has no .shx" in caught.value.message_en
    assert "Zip the .shp, .shx, .dbf and .prj files directly" in caught.value.message_en
    assert "VNM_adm3.shp thiếu tệp .shx" in caught.value.message_vi
    assert "Hãy nén trực tiếp các tệp .shp, .shx, .dbf và .prj" in caught.value.message_vi


def test_shapefile_parts_in_another_folder_do_not_count(tmp_path: Path) -> None:
    files = touch(tmp_path, "a/VNM_adm3.shp", "b/VNM_adm3.dbf", "b/VNM_adm3.shx")
    with pytest.raises(ArchiveRejected) as caught:
        find_datasets(files)
    assert "VNM_adm3.shp has no .shx and no .dbf" in caught.value.message_en
    assert "the archive has VNM_adm3.dbf and VNM_adm3.shx but no VNM_adm3.shp" \
        in caught.value.message_en


def test_attribute_table_without_its_shapes(tmp_path: Path) -> None:
    files = touch(tmp_path, "VNM_adm3.dbf", "VNM_adm3.prj", "other.geojson")
    with pytest.raises(ArchiveRejected) as caught:
        find_datasets(files)
    assert "the archive has VNM_adm3.dbf but no VNM_adm3.shp" in caught.value.message_en
    assert "tệp nén có VNM_adm3.dbf nhưng không có VNM_adm3.shp" in caught.value.message_vi


def test_no_survey_file(tmp_path: Path) -> None:
    with pytest.raises(ArchiveRejected) as caught:
        find_datasets(touch(tmp_path, "b.doc", "a.txt"))
    assert "no survey file found in the archive; it contains: a.txt, b.doc" \
        in caught.value.message_en
    assert "không tìm thấy tệp dữ liệu khảo sát nào trong tệp nén; tệp nén chứa: a.txt, b.doc" \
        in caught.value.message_vi
    with pytest.raises(ArchiveRejected, match="no survey file found in the archive; it is empty"):
        find_datasets([])


def test_archive_rejected_is_an_import_failure() -> None:
    error = ArchiveRejected("english", "tiếng Việt")
    assert isinstance(error, ImportFailed) and error.status == 422
    assert error.user_message("vi") == "tiếng Việt" and error.user_message("en") == "english"


def test_destination_must_be_an_empty_directory(tmp_path: Path) -> None:
    source = write(tmp_path / "a.zip", zip_bytes([("a.kml", b"<kml/>")]))
    touch(tmp_path / "busy", "x")
    with pytest.raises(ValueError, match="not empty"):
        unpack(source, tmp_path / "busy")
    with pytest.raises(ValueError, match="not a directory"):
        unpack(source, tmp_path / "missing")
