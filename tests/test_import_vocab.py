"""Issue 17: the vocabularies of real relic lists, values mapped by hand (--value), preset
files kept anywhere (--preset PATH), and unknown values reported once with their count.
Survey files are built by tests/surveyfiles.py in VN-2000 TM-3 with a .prj."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.errors import ImportFailed, InputError
from gis_app.importers import mapping, targets
from gis_app.importers.pipeline import ImportOptions, run_import
from gis_app.vocab import VARIANTS, VOCAB
from tests import surveyfiles as sf
from tests.factories import make_site
from tests.test_import import snapshot

HERE = (105.962, 20.842)  # inside Khoái Châu


def relic_survey(folder: Path, rows: list[dict[str, str]], name: str = "ds_ditich") -> Path:
    """A relic list as a point shapefile: one row per dict (TEN_DT, LOAI, CAP_XH...),
    placed 30 m apart."""
    geoms = [sf.point(*sf.tm3(HERE[0] + i * 0.0003, HERE[1])) for i in range(len(rows))]
    return sf.write_shapefile(folder, name, rows, geoms)


def imported(db: Session, names: list[str]) -> dict[str, tuple[list[str], str]]:
    found = db.execute(text("SELECT name_vi, types, rank FROM sites WHERE name_vi = ANY(:n)"),
                       {"n": names}).all()
    return {name: (list(types or []), rank) for name, types, rank in found}


# The commonest forms in relic lists, as they are written there.
COMMON = [
    ("Đình Phú Hùng", "Lịch sử - văn hoá", "Chưa xếp hạng"),
    ("Chùa Hàm Tử", "Di tích lịch sử-văn hóa", "chua xep hang"),
    ("Đền Tân Dân", "Lich su - van hoa", "Kiểm kê"),
    ("Miếu Đông Kết", "Kiến trúc - nghệ thuật", "Di tích cấp tỉnh"),
    ("Gò Dạ Trạch", "Khảo cổ học", "Cấp Quốc gia"),
    ("Bãi Tự Nhiên", "Danh lam thắng cảnh", "Quốc gia đặc biệt"),
    ("Cụm Bình Minh", "Lịch sử - văn hóa; Kiến trúc nghệ thuật", "QGĐB"),
    ("Khu Hỗn hợp", "Hỗn hợp", "Danh mục kiểm kê"),
]
EXPECTED = {
    "Đình Phú Hùng": (["historical"], "inventoried"),
    "Chùa Hàm Tử": (["historical"], "inventoried"),
    "Đền Tân Dân": (["historical"], "inventoried"),
    "Miếu Đông Kết": (["architectural_artistic"], "provincial"),
    "Gò Dạ Trạch": (["archaeological"], "national"),
    "Bãi Tự Nhiên": (["scenic"], "special_national"),
    "Cụm Bình Minh": (["historical", "architectural_artistic"], "special_national"),
    "Khu Hỗn hợp": (["mixed"], "inventoried"),
}


def test_cli_imports_the_common_values_of_relic_lists_without_hand_mapping(
        runner, db: Session, tmp_path: Path) -> None:
    shp = relic_survey(tmp_path, [{"TEN_DT": n, "LOAI": t, "CAP_XH": r} for n, t, r in COMMON])
    result = runner.invoke(args=["import", str(shp), "--layer", "sites",
                                 "--preset", "khao-sat-di-tich"])
    assert result.exit_code == 0, result.output
    assert "8 inserted" in result.output
    assert imported(db, list(EXPECTED)) == EXPECTED


def test_zone_variants_are_known(db: Session, tmp_path: Path) -> None:
    relic = make_site(db, 105.961, 20.841, name="Đình Tân Dân", zone_radius_m=None)
    forms = {"KV1": "I", "Khu vực II": "II", "vùng đệm": "buffer"}
    records = [{"MA_DT": relic, "KVBV": form} for form in forms]
    x, y = sf.tm3(105.961, 20.841)
    geoms = [sf.square(x, y, 10.0 * (i + 1)) for i in range(len(records))]
    shp = sf.write_shapefile(tmp_path, "kv", records, geoms)
    run_import(db, shp, ImportOptions(layer="protection_zones", preset="khoanh-vung-bao-ve"))
    zones = db.execute(text(
        "SELECT z.zone FROM protection_zones z JOIN sites s ON s.id = z.site_id "
        "WHERE s.heritage_id = :h AND z.valid_to IS NULL AND z.source LIKE 'import%'"),
        {"h": relic}).scalars().all()
    assert sorted(zones) == sorted(forms.values())


def test_unknown_values_are_listed_once_with_count_rows_and_the_value_to_add(
        runner, db: Session, tmp_path: Path) -> None:
    rows = [{"TEN_DT": f"Đình số {i}", "LOAI": "Tín ngưỡng" if i % 3 == 0 else "Lịch sử",
             "CAP_XH": "Chưa kiểm định" if i < 4 else "Cấp tỉnh"} for i in range(33)]
    shp = relic_survey(tmp_path, rows)
    before = snapshot(db)
    with pytest.raises(ImportFailed) as failed:
        run_import(db, shp, ImportOptions(layer="sites", preset="khao-sat-di-tich"))
    report = failed.value.details["report"]
    assert snapshot(db) == before
    assert report["error_count"] == 2
    by_value = {e["value"]: e for e in report["unknown_values"]}
    assert set(by_value) == {"Tín ngưỡng", "Chưa kiểm định"}
    belief, unchecked = by_value["Tín ngưỡng"], by_value["Chưa kiểm định"]
    assert (belief["field"], belief["column"], belief["count"]) == ("types", "LOAI", 11)
    assert belief["rows"] == [1, 4, 7, 10, 13, 16, 19, 22, 25, 28]
    assert (unchecked["field"], unchecked["count"], unchecked["rows"]) == ("rank", 4,
                                                                            [1, 2, 3, 4])
    assert unchecked["expected"]["inventoried"] == "Di tích trong danh mục kiểm kê"
    assert unchecked["suggestion"] == '--value rank "Chưa kiểm định=special_national"'
    assert len(report["errors"]) == 2
    # The command line says each value once, and how to map it.
    result = runner.invoke(args=["import", str(shp), "--layer", "sites",
                                 "--preset", "khao-sat-di-tich"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.count("'Tín ngưỡng' is not a known type (types; 11 row(s): "
                               "1, 4, 7, 10, 13, 16, 19, 22, 25, 28, …)") == 1
    assert result.output.count("Chưa kiểm định") == 2  # the message and its suggestion
    assert '--value types "Tín ngưỡng=historical"' in result.output
    # The values mapped by hand, the import goes through.
    again = runner.invoke(args=["import", str(shp), "--layer", "sites", "--preset",
                                "khao-sat-di-tich", "--value", "types",
                                "Tín ngưỡng=historical", "--value", "rank",
                                "Chưa kiểm định=inventoried"])
    assert again.exit_code == 0, again.output
    assert "33 inserted" in again.output
    ranks = dict(db.execute(text(
        "SELECT rank, count(*) FROM sites WHERE name_vi LIKE 'Đình số %' GROUP BY rank")).all())
    assert ranks == {"inventoried": 4, "provincial": 29}


def test_a_value_can_be_mapped_to_a_label_and_a_wrong_code_is_refused(
        runner, db: Session, tmp_path: Path) -> None:
    shp = relic_survey(tmp_path, [{"TEN_DT": "Đình Xuân Quan", "LOAI": "Tín ngưỡng",
                                   "CAP_XH": "Cấp tỉnh"}])
    wrong = runner.invoke(args=["import", str(shp), "--layer", "sites", "--preset",
                                "khao-sat-di-tich", "--value", "types", "Tín ngưỡng=religious"])
    assert wrong.exit_code != 0
    assert "'religious' (for 'Tín ngưỡng') is not a code of types (codes: historical, " \
           "architectural_artistic, archaeological, scenic, mixed)" in wrong.output
    not_vocab = runner.invoke(args=["import", str(shp), "--layer", "sites", "--preset",
                                    "khao-sat-di-tich", "--value", "name_vi", "A=B"])
    assert "values cannot be mapped for 'name_vi'" in not_vocab.output
    unreadable = runner.invoke(args=["import", str(shp), "--layer", "sites",
                                     "--value", "types", "Tín ngưỡng"])
    assert 'write FIELD "SOURCE=CODE"' in unreadable.output
    by_label = runner.invoke(args=["import", str(shp), "--layer", "sites", "--preset",
                                   "khao-sat-di-tich", "--value", "types",
                                   "Tín ngưỡng=Lịch sử"])
    assert by_label.exit_code == 0, by_label.output
    assert imported(db, ["Đình Xuân Quan"]) == {"Đình Xuân Quan": (["historical"],
                                                                   "provincial")}


def test_cli_takes_a_preset_file_from_anywhere(runner, db: Session, tmp_path: Path) -> None:
    preset = tmp_path / "presets" / "ds-huyen.toml"
    preset.parent.mkdir()
    preset.write_text('name = "ds-huyen"\nlayer = "sites"\n'
                      '[fields]\nname_vi = ["TENDITICH"]\ntypes = ["PHANLOAI"]\n'
                      'rank = ["CAPDO"]\n'
                      '[values.rank]\n"Cấp huyện" = "inventoried"\n', encoding="utf-8")
    shp = relic_survey(tmp_path, [{"TENDITICH": "Đình Đông Tảo", "PHANLOAI": "LSVH",
                                   "CAPDO": "Cấp huyện"}])
    result = runner.invoke(args=["import", str(shp), "--layer", "sites",
                                 "--preset", str(preset)])
    assert result.exit_code == 0, result.output
    assert imported(db, ["Đình Đông Tảo"]) == {"Đình Đông Tảo": (["historical"],
                                                                 "inventoried")}
    recorded = db.execute(text("SELECT options FROM imports ORDER BY id DESC LIMIT 1")
                          ).scalar_one()
    assert recorded["preset_path"] == str(preset.resolve())
    missing = runner.invoke(args=["import", str(shp), "--layer", "sites",
                                  "--preset", str(tmp_path / "nope.toml")])
    assert missing.exit_code != 0 and "nope.toml does not exist" in missing.output
    other = tmp_path / "zones.toml"
    other.write_text('layer = "protection_zones"\n', encoding="utf-8")
    wrong_layer = runner.invoke(args=["import", str(shp), "--layer", "sites",
                                      "--preset", str(other)])
    assert "is for the layer 'protection_zones', not 'sites'" in wrong_layer.output
    broken = tmp_path / "broken.toml"
    broken.write_text('layer = "sites"\n[fields\n', encoding="utf-8")
    bad = runner.invoke(args=["import", str(shp), "--layer", "sites", "--preset", str(broken)])
    assert "cannot be read as TOML" in bad.output and "Traceback" not in bad.output


def test_each_variant_names_one_code_of_its_vocabulary() -> None:
    for vocab, by_code in VARIANTS.items():
        seen: dict[str, str] = {mapping.value_key(c): c for c in VOCAB[vocab]}
        for code, (vi, en) in VOCAB[vocab].items():
            seen.setdefault(mapping.value_key(vi), code)
            seen.setdefault(mapping.value_key(en), code)
        for code, forms in by_code.items():
            assert code in VOCAB[vocab]
            for form in forms:
                assert seen.setdefault(mapping.value_key(form), code) == code, (vocab, form)


RANK = targets.TARGETS["sites"].field("rank")


@given(st.text(max_size=40))
def test_a_rank_cell_is_a_code_or_an_unknown_value_never_a_crash(cell: str) -> None:
    try:
        code = mapping.convert(RANK, cell, {})
    except mapping.UnknownValue as problem:
        assert problem.value == cell.strip() or problem.field == "rank"
        assert "inventoried" in problem.expected
    else:
        assert code is None or code in VOCAB["rank"]


def test_unreadable_value_pairs_are_input_errors() -> None:
    with pytest.raises(InputError, match='write FIELD "SOURCE=CODE"'):
        mapping.parse_values([("rank", "=national")])
    assert mapping.parse_values([("rank", "a=b=national")]) == {"rank": {"a=b": "national"}}
