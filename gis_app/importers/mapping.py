"""Field mapping: which source field feeds which target field, and how values become
the codes the database stores. Presets live in `data/presets/*.toml`; a user may give
or override a mapping by hand (`--map name_vi=TEN`). Nothing is guessed silently: the
report lists the mapping used, the fields ignored and the required fields not found.
"""
from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from gis_app.errors import InputError
from gis_app.services.identifiers import read_identifier_cell
from gis_app.vocab import VARIANTS, VOCAB

from .targets import Target, TargetField

PRESET_DIR = Path(__file__).resolve().parents[2] / "data" / "presets"

# A vocab_list cell holds several codes: "Lịch sử; Kiến trúc nghệ thuật".
LIST_SEPARATORS = re.compile(r"\s*(?:[,;/+|]|\bvà\b)\s*")
# A text_list cell: "VN-HY-DT-000012; KC-03".
TEXT_LIST_SEPARATOR = re.compile(r"\s*;\s*")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y%m%d")


def fold(text: str) -> str:
    """Case- and diacritic-insensitive key: 'Quốc gia  Đặc biệt' -> 'quoc gia dac biet'."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d")
                                       .replace("Ð", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split())


# Punctuation between the words of a vocabulary value ("Lịch sử-văn hoá", "Khảo cổ (học)").
_VALUE_PUNCTUATION = re.compile(r"[\s\-–—,.;:/()\[\]]+")
# Words a relic list puts before the value itself ("Di tích cấp tỉnh", "Xếp hạng QG").
_VALUE_PREFIXES = ("di tich ", "xep hang ", "cap ", "loai hinh ")


def value_key(text: str) -> str:
    """The key a vocabulary value is matched by: folded (see `fold`), punctuation between
    words as spaces, without a leading 'di tích' / 'xếp hạng' / 'cấp' / 'loại hình':
    'Di tích Lịch sử-văn hoá' -> 'lich su van hoa', 'Cấp tỉnh' -> 'tinh'."""
    key = " ".join(_VALUE_PUNCTUATION.sub(" ", fold(text)).split())
    stripped = True
    while stripped:
        stripped = False
        for prefix in _VALUE_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix):
                key = key[len(prefix):]
                stripped = True
    return key or fold(text)


@dataclass(frozen=True)
class Preset:
    name: str
    layer: str
    title: dict[str, str]
    fields: dict[str, tuple[str, ...]]
    values: dict[str, dict[str, str]]


@cache
def presets() -> dict[str, Preset]:
    """Every preset in data/presets, by name."""
    found: dict[str, Preset] = {}
    for path in sorted(PRESET_DIR.glob("*.toml")):
        preset = _read_preset(tomllib.loads(path.read_text(encoding="utf-8")), path.stem)
        found[preset.name] = preset
    return found


def _read_preset(raw: dict[str, Any], default_name: str) -> Preset:
    """A preset from parsed TOML (KeyError/TypeError/ValueError when malformed)."""
    fields = {str(k): tuple(str(c) for c in ([v] if isinstance(v, str) else v))
              for k, v in raw.get("fields", {}).items()}
    values = {str(k): {str(a): str(b) for a, b in dict(v).items()}
              for k, v in raw.get("values", {}).items()}
    title = raw.get("title") or {"vi": default_name, "en": default_name}
    return Preset(name=str(raw.get("name", default_name)), layer=str(raw["layer"]),
                  title=dict(title), fields=fields, values=values)


def read_preset_file(path: Path, layer: str) -> Preset:
    """A preset kept anywhere (`--preset ./my-survey.toml`), in the layout of
    data/presets/*.toml. Raises InputError when the file is missing, not TOML, lacks
    `layer`, or is for another layer."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        preset = _read_preset(raw, path.stem)
    except FileNotFoundError:
        raise InputError(f"The preset file {path} does not exist.",
                         f"Không có tệp mẫu ánh xạ {path}.") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"The preset file {path} cannot be read as TOML ({error}); write it "
                         f"like the files in data/presets.",
                         f"Không đọc được tệp mẫu ánh xạ {path} dạng TOML ({error}); hãy viết "
                         f"theo mẫu các tệp trong data/presets.") from None
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InputError(f"The preset file {path} must say which layer it is for "
                         f"(layer = \"{layer}\") and give [fields] lists and [values.FIELD] "
                         f"tables, like the files in data/presets.",
                         f"Tệp mẫu ánh xạ {path} phải ghi lớp đích (layer = \"{layer}\") và "
                         f"các mục [fields], [values.TRƯỜNG] theo mẫu các tệp trong "
                         f"data/presets.") from None
    return _check_layer(preset, layer)


# Other places a preset may come from (the presets officials saved from the web import):
# each takes a name and returns the Preset or None. Registered at start-up.
PRESET_LOOKUPS: list[Callable[[str], Preset | None]] = []


def find_preset(name: str) -> Preset | None:
    """The preset called `name`: a file preset, else one a lookup hook finds."""
    preset = presets().get(name)
    for lookup in PRESET_LOOKUPS:
        if preset is not None:
            break
        preset = lookup(name)
    return preset


def get_preset(name: str, layer: str) -> Preset:
    preset = find_preset(name)
    if preset is None:
        names = ", ".join(presets()) or "-"
        raise InputError(f"Unknown preset {name!r}. Presets: {names}; or give the path of "
                         f"a preset file (.toml).",
                         f"Không có mẫu ánh xạ {name!r}. Các mẫu hiện có: {names}; hoặc ghi "
                         f"đường dẫn tệp mẫu (.toml).")
    return _check_layer(preset, layer)


def _check_layer(preset: Preset, layer: str) -> Preset:
    name = preset.name
    if preset.layer != layer:
        raise InputError(
            f"Preset {name!r} is for the layer {preset.layer!r}, not {layer!r}.",
            f"Mẫu {name!r} dành cho lớp {preset.layer!r}, không phải {layer!r}.")
    return preset


def parse_manual(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """['name_vi=TEN', 'zone=KV'] -> {'name_vi': 'TEN', 'zone': 'KV'}."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InputError(
                f"Cannot read the mapping {pair!r}; write TARGET=SOURCE, e.g. name_vi=TEN_DT.",
                f"Không đọc được ánh xạ {pair!r}; hãy viết ĐÍCH=NGUỒN, ví dụ name_vi=TEN_DT.")
        mapping[target.strip()] = source.strip()
    return mapping


def parse_values(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]
                 ) -> dict[str, dict[str, str]]:
    """[('rank', 'Chưa XH=inventoried')] -> {'rank': {'Chưa XH': 'inventoried'}}
    (`--value FIELD "SOURCE=CODE"`; the value may itself contain '=': the last one
    separates)."""
    values: dict[str, dict[str, str]] = {}
    for name, pair in pairs:
        source, sep, code = pair.rpartition("=")
        if not sep or not name.strip() or not source.strip() or not code.strip():
            raise InputError(
                f"Cannot read the value mapping {name} {pair!r}; write FIELD \"SOURCE=CODE\", "
                f"e.g. --value rank \"Chưa xếp hạng=inventoried\".",
                f"Không đọc được ánh xạ giá trị {name} {pair!r}; hãy viết TRƯỜNG "
                f"\"GIÁ_TRỊ=MÃ\", ví dụ --value rank \"Chưa xếp hạng=inventoried\".")
        values.setdefault(name.strip(), {})[source.strip()] = code.strip()
    return values


def _check_values(target: Target, given: dict[str, dict[str, str]]
                  ) -> tuple[dict[str, dict[str, str]], list[str], list[str]]:
    """Value maps keyed by `value_key`, each target a code of its field's vocabulary (a
    label is accepted and read as its code); problems as (en, vi) lists."""
    fields = {f.name: f for f in target.fields}
    out: dict[str, dict[str, str]] = {}
    errors_en: list[str] = []
    errors_vi: list[str] = []
    for name, values in given.items():
        tf = fields.get(name)
        if tf is None or tf.vocab is None:
            vocab_fields = ", ".join(f.name for f in target.fields if f.vocab) or "-"
            errors_en.append(f"values cannot be mapped for {name!r}: only fields with a list "
                             f"of codes can ({vocab_fields})")
            errors_vi.append(f"không ánh xạ giá trị được cho {name!r}: chỉ các trường có danh "
                             f"mục mã ({vocab_fields})")
            continue
        table = _vocab_lookup(tf, {})
        for source, code in values.items():
            resolved = code if code in VOCAB.get(tf.vocab, {}) else table.get(value_key(code))
            if resolved is None:
                codes = ", ".join(VOCAB.get(tf.vocab, {}))
                errors_en.append(f"{code!r} (for {source!r}) is not a code of {name} "
                                 f"(codes: {codes})")
                errors_vi.append(f"{code!r} (cho {source!r}) không phải mã của {name} "
                                 f"(các mã: {codes})")
                continue
            out.setdefault(name, {})[value_key(source)] = resolved
    return out, errors_en, errors_vi


@dataclass
class FieldMap:
    """The mapping chosen for one file."""

    target: Target
    columns: dict[str, str]  # target field -> source field
    ignored: list[str]
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_report(self) -> dict[str, Any]:
        return {"columns": self.columns, "ignored": self.ignored}


def build_field_map(target: Target, source_fields: list[str], preset: Preset | None,
                    manual: dict[str, str],
                    manual_values: dict[str, dict[str, str]] | None = None) -> FieldMap:
    """Match source fields to target fields: manual first, then the preset's candidates,
    then a source field named exactly like the target field. Value maps: the preset's,
    then `manual_values` ({target field: {source value: code}}) over them.

    Raises InputError naming every required target field that found no source field,
    and every manual entry naming a field the file does not have.
    """
    by_fold = {fold(name): name for name in source_fields}
    known = {f.name for f in target.fields}
    errors_en: list[str] = []
    errors_vi: list[str] = []
    for name, source in manual.items():
        if name not in known:
            errors_en.append(f"{name!r} is not a field of this layer "
                             f"(fields: {', '.join(sorted(known))})")
            errors_vi.append(f"{name!r} không phải trường của lớp này "
                             f"(các trường: {', '.join(sorted(known))})")
        elif fold(source) not in by_fold:
            errors_en.append(f"the file has no field {source!r}")
            errors_vi.append(f"tệp không có trường {source!r}")
    columns: dict[str, str] = {}
    for tf in target.fields:
        if tf.name in manual and fold(manual[tf.name]) in by_fold:
            columns[tf.name] = by_fold[fold(manual[tf.name])]
            continue
        candidates = (preset.fields.get(tf.name, ()) if preset else ()) + (tf.name,)
        for candidate in candidates:
            if fold(candidate) in by_fold:
                columns[tf.name] = by_fold[fold(candidate)]
                break
    missing = [tf for tf in target.fields if tf.required and tf.name not in columns]
    if missing:
        names = ", ".join(tf.name for tf in missing)
        available = ", ".join(source_fields) or "-"
        errors_en.append(f"no source field for the required field(s) {names}; the file has: "
                         f"{available}. Choose a preset or map them, e.g. "
                         f"--map {missing[0].name}=FIELD")
        errors_vi.append(f"chưa có trường nguồn cho trường bắt buộc {names}; tệp có các "
                         f"trường: {available}. Hãy chọn mẫu ánh xạ hoặc ghép trường, ví dụ "
                         f"--map {missing[0].name}=TRƯỜNG")
    value_maps: dict[str, dict[str, str]] = {}
    for given in (preset.values if preset else {}), (manual_values or {}):
        checked, bad_en, bad_vi = _check_values(target, given)
        errors_en += bad_en
        errors_vi += bad_vi
        for name, values in checked.items():
            value_maps.setdefault(name, {}).update(values)
    if errors_en:
        raise InputError("Field mapping: " + "; ".join(errors_en) + ".",
                         "Ánh xạ trường: " + "; ".join(errors_vi) + ".")
    used = set(columns.values())
    return FieldMap(target, columns, [f for f in source_fields if f not in used], value_maps)


class SurveyCode(str):
    """A value of an identifier column that is the survey's own code, not a heritage
    identifier (the importer stores it as `survey_code`)."""

    __slots__ = ()


class ValueProblem(ValueError):
    """A cell that cannot be converted; message_en/message_vi say why."""

    def __init__(self, message_en: str, message_vi: str) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_vi = message_vi


class UnknownValue(ValueProblem):
    """A value that is not in the field's vocabulary (nor in the value maps). The report
    lists each such value once, with its rows (pipeline.Report.unknown_value)."""

    def __init__(self, tf: TargetField, value: str) -> None:
        self.field = tf.name
        self.value = value
        self.label = {"en": tf.label["en"].lower(), "vi": tf.label["vi"].lower()}
        self.expected = expected_codes(tf)
        allowed = "; ".join(vi for vi in self.expected.values())
        super().__init__(f"{value!r} is not a known {tf.label['en'].lower()} "
                         f"(expected one of: {allowed})",
                         f"{value!r} không phải {tf.label['vi'].lower()} hợp lệ "
                         f"(cần một trong: {allowed})")


def expected_codes(tf: TargetField) -> dict[str, str]:
    """{code: Vietnamese label} of a vocabulary field."""
    return {code: vi for code, (vi, _en) in VOCAB.get(tf.vocab or "", {}).items()}


def _vocab_lookup(tf: TargetField, extra: dict[str, str]) -> dict[str, str]:
    key = (tf.vocab, tuple(sorted(extra.items())))
    table = _LOOKUPS.get(key)
    if table is None:
        table = _LOOKUPS[key] = _build_lookup(tf, extra)
    return table


_LOOKUPS: dict[tuple[Any, ...], dict[str, str]] = {}


def _build_lookup(tf: TargetField, extra: dict[str, str]) -> dict[str, str]:
    """value_key -> code: codes, vi and en labels, the built-in variants
    (vocab.VARIANTS), then `extra` (the preset's and the user's value maps) over them."""
    labels = VOCAB.get(tf.vocab or "", {})
    table = {value_key(code): code for code in labels}
    for code, (vi, en) in labels.items():
        table[value_key(vi)] = code
        table[value_key(en)] = code
    for code, forms in VARIANTS.get(tf.vocab or "", {}).items():
        for form in forms:
            table.setdefault(value_key(form), code)
    table.update(extra)
    return table


def convert(tf: TargetField, value: Any, extra: dict[str, str]) -> Any:
    """A source cell -> the stored value (None for empty). Raises ValueProblem
    (UnknownValue for a value outside the field's vocabulary)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if tf.kind == "date":
        return _to_date(value) if str(value).strip() else None
    text = unicodedata.normalize("NFC", str(value)).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text:
        return None
    if tf.kind == "vocab":
        return _to_code(tf, text, _vocab_lookup(tf, extra))
    if tf.kind == "vocab_list":
        table = _vocab_lookup(tf, extra)
        if value_key(text) in table:
            return [table[value_key(text)]]
        codes = [_to_code(tf, part, table) for part in LIST_SEPARATORS.split(text) if part]
        return list(dict.fromkeys(codes))
    if tf.kind == "heritage_id":
        return text.upper()
    if tf.kind == "intangible_id":
        cell = read_identifier_cell(text, "intangible")
        if cell.problem:
            raise ValueProblem(*cell.problem)
        if cell.identifier is None:
            raise ValueProblem(
                f"{text!r} is not an intangible heritage identifier (VN-HY-PVT- and six "
                f"digits); correct it, or leave the cell empty for a new identifier.",
                f"{text!r} không phải mã định danh di sản phi vật thể (VN-HY-PVT- và sáu chữ "
                f"số); hãy sửa, hoặc để trống để được cấp mã mới.")
        return cell.identifier
    if tf.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueProblem(f"{text!r} is not a whole number.",
                               f"{text!r} không phải số nguyên.") from None
    if tf.kind == "text_list":
        return list(dict.fromkeys(part for part in TEXT_LIST_SEPARATOR.split(text) if part))
    if tf.kind in ("identifier", "site_ref"):
        cell = read_identifier_cell(text, "site")
        if cell.problem:
            raise ValueProblem(*cell.problem)
        return cell.identifier or SurveyCode(cell.survey_code or "")
    return text


def _to_code(tf: TargetField, text: str, table: dict[str, str]) -> str:
    code = table.get(value_key(text))
    if code is None:
        raise UnknownValue(tf, text)
    return code


def _to_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueProblem(f"{text!r} is not a date; write it as dd/mm/yyyy",
                       f"{text!r} không phải ngày hợp lệ; hãy ghi theo dạng ngày/tháng/năm")
