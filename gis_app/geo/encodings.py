"""Vietnamese text in survey files (DBF/CSV): detect and convert UTF-8, TCVN3, VNI, cp1258.

Legacy text is read byte-transparently (ISO-8859-1), so every value arrives here as raw
bytes. `detect` decides a file's encoding from its values, `decode` turns one value into
Unicode NFC and `encode` is its inverse (used to build legacy fixture files). Facts and
verified test strings: domain/encodings.md.

The TCVN3 (TCVN 5712:1993 VN3, "ABC") and VNI-Windows character maps are viparse's
(`viparse.normalize`, pinned to 0.1.31) with the few VNI corrections in `_VNI_FIXES`;
cp1258 is Python's codec. Both legacy maps are built on first use, so importing this
module does not import viparse.
"""
from __future__ import annotations

import codecs
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from encodings import cp1258 as _cp1258_codec

from gis_app.errors import InputError

LEGACY = ("tcvn3", "vni", "cp1258")
ENCODINGS = ("utf-8",) + LEGACY  # also the order of preference when evidence is tied

LABELS = {"utf-8": "UTF-8", "tcvn3": "TCVN3", "vni": "VNI", "cp1258": "Windows-1258"}

# Compared after lower-casing and dropping spaces, "-", "_", "." and ":".
_ALIASES = {
    "utf8": "utf-8",
    "tcvn3": "tcvn3", "tcvn": "tcvn3", "abc": "tcvn3", "vn3": "tcvn3", "tcvn5712": "tcvn3",
    "vni": "vni", "vniwindows": "vni",
    "cp1258": "cp1258", "windows1258": "cp1258", "1258": "cp1258",
}
_ALIAS_NAMES = ("utf8", "tcvn", "abc", "vn3", "tcvn5712", "vni-windows", "windows-1258",
                "1258")

MAX_SAMPLES = 5


class EncodingProblem(InputError):
    """Text bytes that cannot be read (or written) in the encoding asked for, or whose
    encoding cannot be told; the message says what the user can do."""


@dataclass(frozen=True)
class Detection:
    """The encoding `detect` decided on, how sure it is, and examples to show the user."""

    encoding: str  # one of ENCODINGS; "utf-8" also when every value is ASCII
    confidence: float  # 0..1
    samples: list[tuple[str, int, str, str]]  # (field, row, bytes as latin-1, decoded text)


# --- names ----------------------------------------------------------------------------

def normalise_encoding_name(name: str) -> str:
    """The canonical name (one of ENCODINGS) of an encoding a user typed.

    Case-insensitive; accepts the aliases in `_ALIAS_NAMES`. Raises EncodingProblem, listing
    the accepted names, for anything else.
    """
    key = re.sub(r"[\s\-_.:]", "", str(name).lower())
    if key in _ALIASES:
        return _ALIASES[key]
    accepted = ", ".join(ENCODINGS)
    aliases = ", ".join(_ALIAS_NAMES)
    raise EncodingProblem(
        f"Unknown text encoding {name!r}: use one of {accepted} (aliases: {aliases}).",
        f"Không biết bảng mã {name!r}: hãy dùng một trong {accepted} (tên khác: {aliases}).")


# --- character maps -------------------------------------------------------------------

_TONE_MARKS = {"\u0300": "grave", "\u0301": "acute", "\u0303": "tilde", "\u0309": "hook",
               "\u0323": "dot"}
_BASES = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
# Every Vietnamese letter outside ASCII, NFC: the toned vowels, ă â ê ô ơ ư đ and capitals.
_VIET_LETTERS = frozenset(
    [unicodedata.normalize("NFC", base + mark) for base in _BASES for mark in _TONE_MARKS]
    + list("ăâêôơưđĂÂÊÔƠƯĐ"))
# Non-letters that any decoding may legitimately produce: they are neither evidence for nor
# against an encoding. None of them is a TCVN3 or VNI letter in disguise.
_NEUTRAL = frozenset("\u00a0°–—‘’‚“”„…•€™†‡‰‹›№")
_PASS_BYTES = frozenset((0xA0, 0xB0))  # NBSP and ° are left alone by TCVN3 and VNI

# Letters the standard VNI-Windows layout writes differently from viparse 0.1.31's table
# (checked against github.com/lamdao/xvnkb vni.h and duydev/vietnamese-conversion
# charsets.ts): ẳ/Ẳ are missing there, ỵ/Ỵ are the single bytes î/Î (viparse only has the
# derived "yï"), and ì í Ì Í are single bytes that stand for themselves.
_VNI_FIXES = (("aú", "ẳ"), ("AÚ", "Ẳ"), ("î", "ỵ"), ("Î", "Ỵ"),
              ("ì", "ì"), ("í", "í"), ("Ì", "Ì"), ("Í", "Í"))
# The form `encode` writes where a table has more than one.
_VNI_PREFERRED = {"ì": "ì", "í": "í", "Ì": "Ì", "Í": "Í", "ỵ": "î", "Ỵ": "Î"}


@dataclass(frozen=True)
class _Tables:
    tcvn3_strict: str  # 256-character decoding tables for codecs.charmap_decode
    tcvn3_lenient: str
    tcvn3_small_only: frozenset[str]  # letters TCVN3 can only write in lower case
    tcvn3_encode: dict[int, str]  # str.translate table: Unicode -> latin-1 surface
    vni_strict: dict[int, str]  # byte -> text (before NFC), for codecs.charmap_decode
    vni_lenient: dict[int, str]
    vni_encode: dict[int, str]
    allowed: dict[str, bytes]  # high bytes that Vietnamese text can hold, per encoding


@functools.cache
def _tables() -> _Tables:
    from viparse.normalize.tcvn3 import TCVN3
    from viparse.normalize.vni import VNI

    # TCVN3: one byte per letter, A1-FE. Capital toned vowels have no code (see below).
    tcvn3 = {ord(src): dst for src, dst in TCVN3.pairs}
    strict = [chr(b) for b in range(128)] + ["\ufffd"] * 128
    lenient = [chr(b) for b in range(256)]
    for b in range(128, 256):
        if b in tcvn3:
            strict[b] = lenient[b] = tcvn3[b]
        elif b in _PASS_BYTES:
            strict[b] = chr(b)
    small_only = frozenset(dst for dst in tcvn3.values()
                           if dst.islower() and dst.upper() not in tcvn3.values())
    tcvn3_encode = _encode_table({dst: chr(b) for b, dst in tcvn3.items()}, set(tcvn3))
    for small in small_only:  # a capital is typed with the small letter's code (.VnTimeH)
        tcvn3_encode[ord(small.upper())] = tcvn3_encode[ord(small)]

    # VNI: an ASCII vowel + a modifier byte, or a single byte for đ ơ ư and some i/y.
    vni = dict(VNI.pairs)
    vni.update(_VNI_FIXES)
    letters = _vni_decoding_table(vni)
    vni_lenient = {b: letters.get(b, chr(b)) for b in range(256)}
    vni_strict = {b: letters.get(b, "\ufffd" if b >= 128 and b not in _PASS_BYTES else chr(b))
                  for b in range(256)}
    inverse: dict[str, str] = {}
    for src, dst in VNI.pairs + _VNI_FIXES:
        inverse.setdefault(dst, src)
    inverse.update(_VNI_PREFERRED)
    vni_codes = {ord(ch) for src in vni for ch in src if ord(ch) >= 128}
    vni_encode = _encode_table(inverse, vni_codes)

    allowed = {
        "tcvn3": bytes(b for b in range(128, 256) if strict[b] != "\ufffd"),
        "vni": bytes(sorted(vni_codes | _PASS_BYTES)),
        "cp1258": bytes(b for b in range(128, 256) if _cp1258_char(b) in _CP1258_USEFUL),
    }
    return _Tables("".join(strict), "".join(lenient), small_only, tcvn3_encode, vni_strict,
                   vni_lenient, vni_encode, allowed)


def _vni_decoding_table(vni: dict[str, str]) -> dict[int, str]:
    """A byte table equivalent to the VNI sequence map (then NFC).

    Every VNI modifier stands for the same combining marks whatever the vowel before it ("aù"
    á, "où" ó: U+0301), so a byte-by-byte table does what a longest-match scan does, at C
    speed. Built from the map and checked against every entry of it.
    """
    table = {ord(seq): letter for seq, letter in vni.items() if len(seq) == 1}
    for seq, letter in vni.items():
        if len(seq) != 2:
            continue
        base = unicodedata.normalize("NFD", table.get(ord(seq[0]), seq[0]))
        full = unicodedata.normalize("NFD", letter)
        marks = full[len(base):]
        if not full.startswith(base) or table.setdefault(ord(seq[1]), marks) != marks:
            raise RuntimeError(f"unexpected VNI sequence {seq!r}")  # a viparse change
    for seq, letter in vni.items():
        if unicodedata.normalize("NFC", seq.translate(table)) != letter:
            raise RuntimeError(f"unexpected VNI sequence {seq!r}")
    return table


_CP1258_TABLE = _cp1258_codec.decoding_table  # codecs.charmap_decode skips the codec lookup
_CP1258_USEFUL = _VIET_LETTERS | _NEUTRAL | set(_TONE_MARKS)


def _cp1258_char(b: int) -> str:
    return bytes([b]).decode("cp1258", errors="replace")


def _encode_table(letters: dict[str, str], codes: set[int]) -> dict[int, str]:
    """str.translate table writing `letters` as their latin-1 surface; a latin-1 character
    whose byte is a code of the encoding but that is not itself one of its letters cannot be
    written (it would read back as a letter): it becomes U+FFFD, which latin-1 refuses."""
    table = {code: "\ufffd" for code in codes}
    table.update({ord(letter): surface for letter, surface in letters.items()})
    return table


# --- decode / encode ------------------------------------------------------------------

def decode(raw: bytes, encoding: str) -> str:
    """`raw` as Unicode NFC text, read in `encoding` (a name or alias).

    UTF-8 and cp1258 raise EncodingProblem for bytes that are not valid in them. TCVN3 and
    VNI never raise: a byte outside the character map is kept as its latin-1 character (a
    VNI modifier byte where no vowel precedes it becomes its combining mark). TCVN3 has no
    capital toned vowels; a word whose other letters are capitals (a .VnTimeH heading such as
    "ĐỀN ĐA HÒA") is returned in capitals, a lone ambiguous word ("Đề" for ĐỀ) as typed.
    """
    name = normalise_encoding_name(encoding)
    if name == "utf-8" or name == "cp1258":
        try:
            text = raw.decode(name)
        except UnicodeDecodeError as exc:
            shown = raw.decode("latin-1")
            raise EncodingProblem(
                f"The text {shown!r} is not valid {LABELS[name]} (byte {exc.start + 1}).",
                f"Văn bản {shown!r} không đúng bảng mã {LABELS[name]} (byte thứ "
                f"{exc.start + 1}).") from None
        return unicodedata.normalize("NFC", text)
    return _decode_legacy(raw, name, strict=False)


def _decode_legacy(raw: bytes, name: str, *, strict: bool) -> str:
    """TCVN3 or VNI text. `strict` turns bytes outside the map into U+FFFD, except NBSP and
    ° (for detection)."""
    tables = _tables()
    if name == "tcvn3":
        # NFC already: precomposed letters and latin-1, no combining marks
        text = codecs.charmap_decode(raw, "strict",
                                     tables.tcvn3_strict if strict else tables.tcvn3_lenient)[0]
        if not (text.islower() or text.istitle()) \
                and not tables.tcvn3_small_only.isdisjoint(text):
            text = _restore_capitals(text, tables.tcvn3_small_only)
        return text
    table = tables.vni_strict if strict else tables.vni_lenient
    return unicodedata.normalize("NFC", codecs.charmap_decode(raw, "strict", table)[0])


_WORD = re.compile(r"[^\W\d_]+")
_INNER_CAPITAL = re.compile(r"[A-Za-z\xc0-\u1ef9][A-ZĂÂÊÔƠƯĐ\xc0-\xde]")  # a superset


def _restore_capitals(text: str, small_only: frozenset[str]) -> str:
    """Upper-case TCVN3 words typed in capitals with small-letter codes.

    A word holding small-only letters is a capitals word when its other letters are all
    capitals and one of them is not the first letter ("ĐềN", "HòA"). When the value has such
    a word and no small letter elsewhere, its ambiguous words ("Tử" in "CHỬ ĐỒNG TỬ") are
    capitals too.
    """
    if not _INNER_CAPITAL.search(text):
        return text  # no word has a capital after its first letter: nothing to restore
    words = _WORD.findall(text)
    caps = small = False
    for word in words:
        if small_only.isdisjoint(word):
            small = small or any(ch.islower() for ch in word)
            continue
        verdict = _capitals_word(word, small_only)
        small = small or verdict is False
        caps = caps or verdict is True
    if not caps:
        return text

    def fix(match: re.Match[str]) -> str:
        word = match[0]
        if small_only.isdisjoint(word):
            return word
        verdict = _capitals_word(word, small_only)
        return word.upper() if verdict or (verdict is None and not small) else word

    return _WORD.sub(fix, text)


def _capitals_word(word: str, small_only: frozenset[str]) -> bool | None:
    """True: capitals; False: has a small letter TCVN3 could have written as a capital;
    None: cannot tell (only its first letter can show case)."""
    others = [(i, ch) for i, ch in enumerate(word) if ch not in small_only]
    if any(ch.islower() for _, ch in others):
        return False
    return True if any(i > 0 for i, _ in others) else None


def encode(text: str, encoding: str) -> bytes:
    """`text` written in `encoding` (a name or alias); the inverse of `decode`.

    The text is NFC-normalised first. cp1258 writes a letter without a precomposed byte as
    base + combining tone ("ề" -> ê + 0xCC), as glibc iconv does. TCVN3 writes capital toned
    vowels with the small letter's code, as .VnTimeH files do. Raises EncodingProblem for a
    character the encoding cannot hold.
    """
    name = normalise_encoding_name(encoding)
    text = unicodedata.normalize("NFC", text)
    if name == "utf-8":
        return text.encode("utf-8")
    if name == "cp1258":
        return _encode_cp1258(text)
    tables = _tables()
    table = tables.tcvn3_encode if name == "tcvn3" else tables.vni_encode
    try:
        return text.translate(table).encode("latin-1")
    except UnicodeEncodeError:
        bad = next(ch for ch in text if max(ch.translate(table)) > "\xff")
        raise _unencodable(bad, name) from None


def _encode_cp1258(text: str) -> bytes:
    try:
        return text.encode("cp1258")
    except UnicodeEncodeError:
        pass
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
        try:
            out += base.encode("cp1258") + tones.encode("cp1258")
        except UnicodeEncodeError:
            raise _unencodable(ch, "cp1258") from None
    return bytes(out)


def _unencodable(ch: str, name: str) -> EncodingProblem:
    return EncodingProblem(
        f"The character {ch!r} (U+{ord(ch):04X}) cannot be written in {LABELS[name]}.",
        f"Ký tự {ch!r} (U+{ord(ch):04X}) không viết được bằng bảng mã {LABELS[name]}.")


# --- how Vietnamese a reading is ---------------------------------------------------

_INITIALS = ("", "b", "c", "ch", "d", "đ", "g", "gh", "gi", "h", "k", "kh", "l", "m", "n",
             "ng", "ngh", "nh", "p", "ph", "qu", "r", "s", "t", "th", "tr", "v", "x")
_RHYMES = (
    "a", "ac", "ach", "ai", "am", "an", "ang", "anh", "ao", "ap", "at", "au", "ay", "ăc", "ăm",
    "ăn", "ăng", "ăp", "ăt", "âc", "âm", "ân", "âng", "âp", "ât", "âu", "ây",
    "e", "ec", "em", "en", "eng", "eo", "ep", "et", "ê", "êch", "êm", "ên", "ênh", "êp", "êt",
    "êu",
    "i", "ia", "ich", "im", "in", "inh", "ip", "it", "iu", "iêc", "iêm", "iên", "iêng", "iêp",
    "iêt", "iêu",
    "o", "oc", "oi", "om", "on", "ong", "op", "ot", "ooc", "oong",
    "oa", "oac", "oach", "oai", "oam", "oan", "oang", "oanh", "oao", "oap", "oat", "oay", "oăc",
    "oăm", "oăn", "oăng", "oăt", "oe", "oem", "oen", "oeo", "oet",
    "ô", "ôc", "ôi", "ôm", "ôn", "ông", "ôp", "ôt", "ơ", "ơi", "ơm", "ơn", "ơp", "ơt",
    "u", "uc", "ui", "um", "un", "ung", "up", "ut", "ua", "uôc", "uôi", "uôm", "uôn", "uông",
    "uôt", "uân", "uâng", "uât", "uây", "uê", "uêch", "uênh", "uơ",
    "uy", "uya", "uych", "uyên", "uyêt", "uyn", "uynh", "uyp", "uyt", "uyu",
    "ư", "ưc", "ưi", "ưm", "ưn", "ưng", "ưt", "ưu", "ưa", "ươc", "ươi", "ươm", "ươn", "ương",
    "ươp", "ươt", "ươu",
    "y", "yêm", "yên", "yêng", "yêt", "yêu",
)
_STOP_FINALS = ("p", "t", "c", "ch")  # such syllables only take the acute or dot tone
_VOWEL_LETTERS = frozenset("aăâeêioôơuưy")


def _tone_positions(rhyme: str) -> frozenset[int]:
    """Where the tone mark goes in `rhyme`, old style ("hòa", "thủy") and new ("hoà",
    "thuỷ") both allowed: on ă â ê ô ơ ư (ơ in ươ); else on a lone vowel, on the last vowel
    before a final consonant, the first of two ("mía", either of oa oe uy) or the middle of
    three ("ngoài", "khuỷu")."""
    vowels = len(rhyme) - len(rhyme.lstrip("aăâeêioôơuưy"))
    marked = [i for i, ch in enumerate(rhyme[:vowels]) if ch in "ăâêôơư"]
    if marked:
        return frozenset(marked[-1:])
    if vowels == 1:
        return frozenset((0,))
    if vowels < len(rhyme):
        return frozenset((vowels - 1,))
    if rhyme in ("oa", "oe", "uy"):
        return frozenset((0, 1))
    return frozenset((0,) if vowels == 2 else (1,))


def _syllable_table() -> dict[str, frozenset[int]]:
    """Toneless lower-case syllable -> the positions its tone mark may take.

    Initials follow the spelling rules: gh, ngh and k only before e ê i (k also y), c, g and
    ng not before them (but "gì" is g + i), gi not before i, "q" only as qu or with a rhyme
    in u- ("quỳnh" is q + uynh, "quốc" qu + ôc). A syllable that parses two ways ("gia":
    gi + a or g + ia) takes the positions of both.
    """
    table: dict[str, frozenset[int]] = {}
    for initial in _INITIALS + ("q",):
        for rhyme in _RHYMES:
            if not _spelled_right(initial, rhyme):
                continue
            positions = frozenset(len(initial) + i for i in _tone_positions(rhyme))
            syllable = initial + rhyme
            table[syllable] = table.get(syllable, frozenset()) | positions
    return table


def _spelled_right(initial: str, rhyme: str) -> bool:
    front = rhyme.startswith(("i", "e", "ê"))
    if initial in ("gh", "ngh"):
        return front
    if initial == "k":
        return front or rhyme.startswith("y")
    if initial in ("c", "ng"):
        return not (front or rhyme.startswith("y"))
    if initial == "g":
        return not rhyme.startswith(("e", "ê"))
    if initial == "gi":
        return not rhyme.startswith(("i", "y"))
    if initial == "q":
        return rhyme.startswith("u")
    if initial == "qu":
        return not rhyme.startswith(("u", "o"))
    return True


_SYLLABLES = _syllable_table()


def _tone_tables() -> tuple[dict[int, str], dict[str, str]]:
    strip: dict[int, str] = {}
    tone_of: dict[str, str] = {}
    for letter in _VIET_LETTERS:
        parts = unicodedata.normalize("NFD", letter)
        tone = next((_TONE_MARKS[c] for c in parts if c in _TONE_MARKS), None)
        if tone:
            base = "".join(c for c in parts if c not in _TONE_MARKS)
            strip[ord(letter)] = unicodedata.normalize("NFC", base)
            tone_of[letter] = tone
    return strip, tone_of


_STRIP_TONE, _TONE_OF = _tone_tables()
_SMALL_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz") | {
    ch for ch in _VIET_LETTERS if ch.islower()}
_TOKEN = re.compile(r"[^\W\d_]+|[^\x00-\x7f]")

# How well a text reads as Vietnamese: not at all; in Vietnamese letters but not as
# well-formed syllables (a misplaced tone mark such as "tòan", a minority place name such as
# "Đắk Lắk"); as well-formed syllables.
NOT_VIETNAMESE, LOOSE, WELL_FORMED = 0, 1, 2
_ABBREVIATION = frozenset("bcdđfghjklmnpqrstvwxz")  # capital consonants only: QĐ-UBND, HĐND


def _syllable_level(word: str) -> int:
    """NOT_VIETNAMESE unless the word is lower case, Capitalised or CAPITALS, made of ASCII
    and Vietnamese letters with a vowel and at most one tone mark. WELL_FORMED if it is a
    legal initial + rhyme with its tone mark in place (`_tone_positions`) and no grave, hook
    or tilde on a syllable ending in p, t, c, ch; else LOOSE."""
    if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
        return NOT_VIETNAMESE
    low = word.lower()
    if word.isupper() and _ABBREVIATION.issuperset(low) and len(word) <= 8:
        return WELL_FORMED  # "QĐ", "HĐND": abbreviations of official documents, no vowel
    toned = [i for i, ch in enumerate(low) if ch in _TONE_OF]
    if len(toned) > 1 or not _SMALL_LETTERS.issuperset(low):
        return NOT_VIETNAMESE
    base = low.translate(_STRIP_TONE)
    positions = _SYLLABLES.get(base)
    if positions is None:
        return LOOSE if not _VOWEL_LETTERS.isdisjoint(base) else NOT_VIETNAMESE
    if not toned:
        return WELL_FORMED
    if _TONE_OF[low[toned[0]]] in ("grave", "hook", "tilde") and base.endswith(_STOP_FINALS):
        return LOOSE
    return WELL_FORMED if toned[0] in positions else LOOSE


def _level(text: str) -> int:
    """How well `text` reads as Vietnamese: the worst of its words with a non-ASCII letter
    (ASCII words are not judged); a non-ASCII character that is neither such a letter nor
    harmless punctuation makes it NOT_VIETNAMESE."""
    chunks = [chunk for chunk in text.split() if not chunk.isascii()]
    return min(map(_chunk_level, chunks), default=WELL_FORMED)


@functools.lru_cache(maxsize=65536)
def _chunk_level(chunk: str) -> int:
    """`_level` of a piece of text without spaces (cached: names repeat syllables)."""
    if chunk.isalpha():
        return _syllable_level(chunk)
    level = WELL_FORMED
    for token in _TOKEN.findall(chunk):
        if not (token.isascii() or token in _NEUTRAL):
            level = min(level, _syllable_level(token))
    return level


_ASCII = bytes(range(128))


def candidates(raw: bytes) -> tuple[str, ...]:
    """The encodings (in ENCODINGS order) in which `raw` reads best as Vietnamese.

    ASCII bytes read the same in every encoding: all four are returned. Valid UTF-8 with
    multibyte sequences is UTF-8, and only that, unless its UTF-8 reading is not Vietnamese
    and a legacy one is. Among the legacy encodings, readings as well-formed syllables beat
    loose ones (cp1258 "xã" is not TCVN3 "xaị"). Empty: no encoding reads it in Vietnamese
    letters.
    """
    if raw.isascii():
        return ENCODINGS
    text = _utf8(raw)
    if text is not None and _level(unicodedata.normalize("NFC", text)):
        return ("utf-8",)
    levels = {name: _legacy_level(raw, name) for name in LEGACY}
    best = max(levels.values())
    found = tuple(name for name in LEGACY if best and levels[name] == best)
    return ("utf-8",) + found if text is not None else found


def _utf8(raw: bytes) -> str | None:
    """`raw` read as UTF-8, or None if it is not valid UTF-8."""
    text = raw.decode("utf-8", "replace")  # no exception to pay for on legacy text
    if "\ufffd" in text:
        if b"\xef\xbf\xbd" not in raw:
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return text


def _legacy_level(raw: bytes, name: str) -> int:
    """`_level` of `raw` read in a legacy encoding, word by word (words repeat: memoised)."""
    known = _RAW_LEVELS[name]
    chunks = [chunk for chunk in raw.split() if not chunk.isascii()]
    missing = [chunk for chunk in chunks if chunk not in known]
    if missing:
        if len(known) + len(missing) > _RAW_LEVELS_MAX:
            known.clear()
        for chunk in missing:
            known[chunk] = _raw_chunk_level(name, chunk)
    try:
        return min(map(known.__getitem__, chunks), default=WELL_FORMED)
    except KeyError:  # another thread cleared the memo meanwhile
        return min((_raw_chunk_level(name, chunk) for chunk in chunks), default=WELL_FORMED)


def _raw_chunk_level(name: str, chunk: bytes) -> int:
    """`_level` of one whitespace-free piece of `raw`. Reading a value piece by piece gives
    the same level as reading it whole: no encoding joins bytes across ASCII whitespace, and
    TCVN3 capitals restored from the rest of the value are well-formed either way."""
    if chunk.translate(None, _ASCII).translate(None, _tables().allowed[name]):
        return NOT_VIETNAMESE  # a byte that no Vietnamese text in `name` contains
    if name == "cp1258":
        try:
            text = unicodedata.normalize(
                "NFC", codecs.charmap_decode(chunk, "strict", _CP1258_TABLE)[0])
        except UnicodeDecodeError:
            return NOT_VIETNAMESE
    else:
        text = _decode_legacy(chunk, name, strict=True)
    return NOT_VIETNAMESE if "\ufffd" in text else _level(text)


# Memo of `_raw_chunk_level` per encoding: a plain dict is twice as fast as lru_cache here.
_RAW_LEVELS: dict[str, dict[bytes, int]] = {name: {} for name in LEGACY}
_RAW_LEVELS_MAX = 100_000


# --- detection ------------------------------------------------------------------------

SETTLE = 1000  # distinct non-ASCII values weighed in full before the choice is settled


def detect(values: Iterable[tuple[str, int, bytes]]) -> Detection:
    """The encoding of a file's text, from (field, 1-based row, raw bytes) of its values.

    ASCII values carry no evidence. A value supports each encoding in which it reads best as
    Vietnamese (`candidates`: valid UTF-8 first, then well-formed syllables over mere
    Vietnamese letters); the file's encoding is the one the most values support, ties going
    to the first in ENCODINGS (so a file whose every value also reads as another encoding,
    such as cp1258 "Hoàng" = VNI "Hồng", comes out as the earlier one, with a low
    confidence). Confidence grows with the share and number of values that support
    only that encoding.

    Every value is checked, each distinct one once. The first SETTLE distinct values are
    weighed against all four encodings; once one encoding leads them with at least one value
    that fits it alone, the choice is settled and later values are only checked against it
    (100,000 values: about 0.3 s for survey names, 1 s for all-distinct random addresses, on
    a slow 2-core VM). The result is the same as weighing all values, except that
    confidence and the counts in a "mixed" message come from the weighed ones.

    Raises EncodingProblem, naming the field and row of the first value in input order that
    does not fit the chosen encoding: when no encoding reads it as Vietnamese, or when it
    reads in another encoding only ("mixed encodings").
    """
    weighed: dict[bytes, tuple[str, ...]] = {}
    checked: set[bytes] = set()
    rows: list[tuple[str, int, bytes]] = []
    support = dict.fromkeys(ENCODINGS, 0)
    decisive = dict.fromkeys(ENCODINGS, 0)
    chosen: str | None = None
    for field_name, row, raw in values:
        if raw.isascii():
            continue
        rows.append((field_name, row, raw))
        if chosen is None:
            fits = weighed.get(raw)
            if fits is None:
                fits = weighed[raw] = candidates(raw)
            for name in fits:
                support[name] += 1
            if len(fits) == 1:
                decisive[fits[0]] += 1
            if len(weighed) >= SETTLE:
                chosen = _settled(support, decisive)
        elif raw not in checked and raw not in weighed:
            if _fits(raw, chosen):
                checked.add(raw)
            elif chosen not in weighed.setdefault(raw, candidates(raw)):
                break  # the first value that does not fit: no need to read further
    if not rows:
        return Detection("utf-8", 1.0, [])
    if chosen is None:
        chosen = max(ENCODINGS, key=lambda name: support[name])  # first of the best on a tie
    for field_name, row, raw in rows:
        fits = weighed.get(raw)
        if fits is not None and chosen not in fits:
            raise _misfit(field_name, row, raw, fits, chosen, support)
    return Detection(chosen, _confidence(chosen, support, decisive),
                     _samples(rows, chosen))


def _settled(support: dict[str, int], decisive: dict[str, int]) -> str | None:
    """The leading encoding, once it leads outright and some value fits it alone."""
    first, second = sorted(ENCODINGS, key=lambda name: support[name], reverse=True)[:2]
    if decisive[first] and support[first] > support[second]:
        return first
    return None


def _fits(raw: bytes, encoding: str) -> bool:
    """`encoding in candidates(raw)`, faster."""
    if _utf8(raw) is None:
        if encoding == "utf-8":
            return False
        level = _legacy_level(raw, encoding)
        if level != LOOSE:
            return level == WELL_FORMED
    elif encoding == "utf-8":
        return True
    return encoding in candidates(raw)


def _confidence(chosen: str, support: dict[str, int], decisive: dict[str, int]) -> float:
    """Share of the weighed values that fit `chosen` alone (ambiguous ones count half),
    times 1 - 2^-(n + 1) for n such values: 0.75 for one, 0.97 for four."""
    total = support[chosen]
    share = (decisive[chosen] + 0.5 * (total - decisive[chosen])) / total
    return share * (1 - 0.5 ** (decisive[chosen] + 1))


def _samples(rows: list[tuple[str, int, bytes]], chosen: str) -> list[tuple[str, int, str, str]]:
    samples: list[tuple[str, int, str, str]] = []
    shown: set[bytes] = set()
    for field_name, row, raw in rows:
        if raw not in shown:
            shown.add(raw)
            samples.append((field_name, row, raw.decode("latin-1"), decode(raw, chosen)))
            if len(samples) == MAX_SAMPLES:
                break
    return samples


def _misfit(field_name: str, row: int, raw: bytes, fits: tuple[str, ...], chosen: str,
            support: dict[str, int]) -> EncodingProblem:
    shown = raw.decode("latin-1")
    names = ", ".join(ENCODINGS)
    details = {"field": field_name, "row": row, "value": shown}
    if not fits:
        return EncodingProblem(
            f"Cannot tell the text encoding: field {field_name}, row {row} ({shown!r}) is not "
            f"Vietnamese text in any supported encoding. Choose the encoding ({names}) on the "
            f"upload form or with --encoding, or add a .cpg file naming it.",
            f"Không xác định được bảng mã: trường {field_name}, dòng {row} ({shown!r}) không "
            f"phải văn bản tiếng Việt ở bảng mã nào được hỗ trợ. Hãy chọn bảng mã (một "
            f"trong {names}) trên biểu mẫu tải lên hoặc bằng --encoding, hoặc thêm tệp .cpg "
            f"ghi tên bảng mã.",
            details=details)
    other = max(fits, key=lambda name: support[name])
    decoded = decode(raw, other)
    details.update({"encodings": [chosen, other]})
    return EncodingProblem(
        f"Mixed encodings: {support[chosen]} text values read as {LABELS[chosen]}, but field "
        f"{field_name}, row {row} ({shown!r}) is {LABELS[other]} ({decoded!r}). Convert the "
        f"file to one encoding, or choose one encoding ({names}; --encoding on the command "
        f"line) to read it all.",
        f"Tệp lẫn nhiều bảng mã: {support[chosen]} giá trị văn bản đọc được theo "
        f"{LABELS[chosen]}, nhưng trường {field_name}, dòng {row} ({shown!r}) là "
        f"{LABELS[other]} ({decoded!r}). Hãy chuyển tệp về một bảng mã, hoặc chọn một bảng mã "
        f"(một trong {names}; --encoding trên dòng lệnh) để đọc cả tệp.",
        details=details)


# --- damaged text ---------------------------------------------------------------------

_LOST_LETTER = re.compile(r"(?<=[^\W\d_])\?(?=[^\W\d_])")


def lossy_values(values: Iterable[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """The (field, row, text) values with a "?" between two letters ("d?ng b?ng", "C?u
    Long"): a Vietnamese letter lost to an earlier round trip through cp1252 or ASCII."""
    return [value for value in values if "?" in value[2] and _LOST_LETTER.search(value[2])]
