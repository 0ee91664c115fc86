"""The record of survey imports, and undoing one as a whole.

Undo never takes later work with it: rows that others added to a record the import
created (a relic's condition assessments and their photos, media, artifacts, zones from a
later import...) make the undo refuse, saying what depends on what, and the database is
left as it was. The foreign keys RESTRICT such deletes as well (migration 0007), so no
path deletes them by cascade.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gis_app.errors import InputError, RecordNotFound
from gis_app.models import ImportRun, Revision

from .audit import set_actor, set_import

log = logging.getLogger(__name__)

MAX_RELICS_NAMED = 10  # in the refusal message; the rest are counted


def list_imports(db: Session, limit: int = 100) -> list[ImportRun]:
    return list(db.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(limit)))


def get_import(db: Session, import_id: int) -> ImportRun:
    run = db.get(ImportRun, import_id)
    if run is None:
        raise RecordNotFound(f"There is no import #{import_id}.",
                             f"Không có lần nhập số {import_id}.")
    return run


def _columns(db: Session, table: str) -> list[str]:
    return list(db.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
        "AND NOT attisdropped AND attname <> 'id' ORDER BY attnum"), {"t": table}).scalars())


# --- what depends on the records an import created -------------------------------------

@dataclass(frozen=True)
class Dependent:
    """Rows of `table` that hang on a parent record: `rows` selects their id (as text, the
    revisions' row_id; NULL for tables without one) and `parent` (the parent's id)."""

    table: str
    rows: str
    one_en: str
    many_en: str
    vi: str

    def label(self, count: int, lang: str) -> str:
        if lang == "vi":
            return f"{count} {self.vi}"
        return f"{count} {self.one_en if count == 1 else self.many_en}"


def _on_site(table: str, one_en: str, many_en: str, vi: str,
             column: str = "site_id") -> Dependent:
    return Dependent(table, f"SELECT id::text AS id, {column} AS parent FROM {table}",
                     one_en, many_en, vi)


# Every foreign key that points at `sites` (but site_admin_units, which is derived from
# the relic's location and goes with it); tests/test_undo.py checks the list is complete.
DEPENDENTS: dict[str, tuple[Dependent, ...]] = {
    "sites": (
        _on_site("condition_assessments", "condition assessment", "condition assessments",
                 "đánh giá hiện trạng"),
        Dependent("condition_photos",
                  "SELECT p.id::text AS id, a.site_id AS parent FROM condition_photos p "
                  "JOIN condition_assessments a ON a.id = p.assessment_id",
                  "photo", "photos", "ảnh hiện trạng"),
        _on_site("digital_records", "photo or document", "photos or documents",
                 "ảnh, tài liệu số"),
        _on_site("artifacts", "artifact", "artifacts", "hiện vật", column="holding_site_id"),
        _on_site("protection_zones", "protection zone", "protection zones", "khu vực bảo vệ"),
        _on_site("landscapes", "landscape feature", "landscape features",
                 "yếu tố cảnh quan"),
        _on_site("facilities", "facility", "facilities", "hạng mục hạ tầng, trưng bày"),
        _on_site("environment_notes", "environment note", "environment notes",
                 "ghi chú môi trường"),
        _on_site("heritage_events", "festival date", "festival dates", "ngày lễ hội"),
        _on_site("sites", "relic merged into it", "relics merged into it",
                 "di tích đã hợp nhất vào", column="merged_into_id"),
        _on_site("change_proposals", "proposed change", "proposed changes",
                 "đề xuất sửa", column="record_id"),
        Dependent("intangible_sites",
                  "SELECT NULL::text AS id, site_id AS parent FROM intangible_sites",
                  "link to an intangible heritage", "links to intangible heritage",
                  "liên kết với di sản phi vật thể"),
    ),
}

# Rows of `table` whose parent is one of `parents`, counted per parent and per the
# (not undone) import that inserted them; NULL import: added by hand.
_DEPENDENT_SQL = """
    SELECT d.parent, made.import_id, count(*) AS n
      FROM ({rows}) d
      LEFT JOIN LATERAL (
        SELECT r.import_id FROM revisions r JOIN imports i ON i.id = r.import_id
         WHERE r.table_name = :table AND r.row_id = d.id AND r.action = 'insert'
           AND i.status <> 'undone'
         ORDER BY r.id DESC LIMIT 1) made ON true
     WHERE d.parent = ANY(:parents)
       AND made.import_id IS DISTINCT FROM :import_id
     GROUP BY d.parent, made.import_id
"""


@dataclass
class _Found:
    """Later work found on the records an import created."""

    by_hand: dict[int, list[tuple[Dependent, int]]]  # parent -> (kind, count)
    by_import: dict[int, list[tuple[Dependent, int]]]  # later import -> (kind, count)
    parents_of_import: dict[int, set[int]]  # later import -> parents it added to

    def __bool__(self) -> bool:
        return bool(self.by_hand or self.by_import)


def _find_dependents(db: Session, import_id: int) -> tuple[_Found, dict[int, str]]:
    found = _Found(defaultdict(list), defaultdict(list), defaultdict(set))
    names: dict[int, str] = {}
    for parent_table, dependents in DEPENDENTS.items():
        parents = list(db.execute(text(
            "SELECT row_id::bigint FROM revisions WHERE import_id = :id AND action = 'insert' "
            "AND table_name = :t"), {"id": import_id, "t": parent_table}).scalars())
        if not parents:
            continue
        totals: dict[int, dict[Dependent, int]] = defaultdict(lambda: defaultdict(int))
        for dep in dependents:
            rows = db.execute(text(_DEPENDENT_SQL.format(rows=dep.rows)),
                              {"table": dep.table, "parents": parents,
                               "import_id": import_id}).all()
            for parent, later_import, count in rows:
                if later_import is None:
                    found.by_hand[parent].append((dep, count))
                else:
                    totals[later_import][dep] += count
                    found.parents_of_import[later_import].add(parent)
        for later_import, kinds in totals.items():
            found.by_import[later_import] = list(kinds.items())
        if parent_table == "sites":
            names.update((row.id, row.heritage_id) for row in db.execute(
                text("SELECT id, heritage_id FROM sites WHERE id = ANY(:p)"), {"p": parents}))
    return found, names


def _counted(kinds: list[tuple[Dependent, int]], lang: str) -> str:
    labels = [dep.label(count, lang) for dep, count in kinds]
    joiner = " và " if lang == "vi" else " and "
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + joiner + labels[-1]


def _refusal(import_id: int, found: _Found, names: dict[int, str]) -> InputError:
    """Say, in both languages, which later records depend on what and what to do."""
    def relic(parent: int) -> str:
        return names.get(parent, f"#{parent}")

    messages = {}
    for lang in ("en", "vi"):
        parts = []
        hand = sorted(found.by_hand.items(), key=lambda item: relic(item[0]))
        for parent, kinds in hand[:MAX_RELICS_NAMED]:
            parts.append(
                f"di tích {relic(parent)} có {_counted(kinds, 'vi')} được thêm sau lần nhập "
                f"số {import_id}" if lang == "vi" else
                f"relic {relic(parent)} has {_counted(kinds, 'en')} added after import "
                f"#{import_id}")
        if len(hand) > MAX_RELICS_NAMED:
            more = len(hand) - MAX_RELICS_NAMED
            parts.append(f"và {more} di tích khác" if lang == "vi" else
                         f"and {more} more relics")
        for later, kinds in sorted(found.by_import.items(), reverse=True):
            relics = ", ".join(sorted(relic(p) for p in found.parents_of_import[later]))
            parts.append(
                f"lần nhập số {later} đã thêm {_counted(kinds, 'vi')} cho di tích {relics}: "
                f"hãy hoàn tác lần nhập số {later} trước" if lang == "vi" else
                f"import #{later} added {_counted(kinds, 'en')} to {relics}: undo import "
                f"#{later} first")
        if lang == "vi":
            advice = ("Những gì được thêm trực tiếp được giữ lại (đánh giá hiện trạng không bao "
                      "giờ bị xóa): hãy sửa trực tiếp các di tích đó, hoặc nhập tệp đã chỉnh "
                      "sửa, thay vì hoàn tác. " if found.by_hand else "")
            messages[lang] = (f"Không hoàn tác được lần nhập số {import_id} vì có dữ liệu được "
                              f"thêm sau đó gắn với các bản ghi lần nhập này đã tạo: "
                              f"{'; '.join(parts)}. {advice}Chưa có gì bị thay đổi.")
        else:
            advice = ("Records added directly are kept (condition assessments are never "
                      "deleted): correct those relics directly, or import a corrected file, "
                      "instead of undoing. " if found.by_hand else "")
            messages[lang] = (f"Import #{import_id} cannot be undone: later work depends on "
                              f"the records it created: {'; '.join(parts)}. {advice}"
                              f"Nothing was changed.")
    return InputError(messages["en"], messages["vi"],
                      log=f"undo of import #{import_id} refused: dependents by hand on "
                          f"{len(found.by_hand)} records, from imports "
                          f"{sorted(found.by_import)}")


def _blocked(import_id: int, error: DBAPIError) -> InputError:
    """A delete the database refused that the dependents check did not foresee (a table
    added later): still a message, never a traceback."""
    diag = getattr(error.orig, "diag", None)
    table = getattr(diag, "table_name", None) or "?"
    return InputError(
        f"Import #{import_id} cannot be undone: records in {table} added after it depend on "
        f"what it created. Nothing was changed; correct the records directly or import a "
        f"corrected file.",
        f"Không hoàn tác được lần nhập số {import_id}: có bản ghi trong {table} được thêm sau "
        f"đó phụ thuộc vào dữ liệu lần nhập này đã tạo. Chưa có gì bị thay đổi; hãy sửa trực "
        f"tiếp hoặc nhập tệp đã chỉnh sửa.",
        log=f"undo of import #{import_id} refused by the database: {error.orig}")


def check_undoable(db: Session, import_id: int) -> ImportRun:
    """The import, when it can be undone; else InputError saying why (already undone,
    rows changed since, later work that depends on what it created)."""
    run = get_import(db, import_id)
    if run.status == "undone":
        raise InputError(f"Import #{import_id} was already undone.",
                         f"Lần nhập số {import_id} đã được hoàn tác.")
    later = db.execute(text("""
        SELECT DISTINCT r.table_name, r.row_id FROM revisions r
          JOIN revisions mine ON mine.table_name = r.table_name AND mine.row_id = r.row_id
         WHERE mine.import_id = :id AND r.id > mine.id
           AND r.import_id IS DISTINCT FROM :id
           AND NOT EXISTS (SELECT 1 FROM imports i
                            WHERE i.id = r.import_id AND i.status = 'undone')
         LIMIT 20"""), {"id": import_id}).all()
    if later:
        named = _name_rows(db, later)
        raise InputError(
            f"Import #{import_id} cannot be undone: these records were changed after it "
            f"(edited, published, retired or merged): {named['en']}. Correct them by hand, "
            f"or import a corrected file.",
            f"Không hoàn tác được lần nhập số {import_id}: các bản ghi sau đã được sửa sau "
            f"đó (chỉnh sửa, công bố, đưa ra khỏi danh mục hoặc hợp nhất): {named['vi']}. "
            f"Hãy sửa trực tiếp, hoặc nhập tệp đã chỉnh sửa.")
    found, names = _find_dependents(db, import_id)
    if found:
        raise _refusal(import_id, found, names)
    approved = db.execute(text("""
        SELECT p.id, s.heritage_id FROM change_proposals p JOIN sites s ON s.id = p.record_id
         WHERE p.id = ANY(:ids) AND p.status = 'approved' ORDER BY p.id"""),
        {"ids": _proposals_of(run)}).all()
    if approved:
        listed = ", ".join(f"#{pid} ({hid})" for pid, hid in approved)
        raise InputError(
            f"Import #{import_id} cannot be undone: a reviewer already approved what it "
            f"proposed ({listed}), and the relics carry those changes. Nothing was changed; "
            f"edit those relics directly to take a change back.",
            f"Không hoàn tác được lần nhập số {import_id}: cán bộ thẩm định đã duyệt đề xuất "
            f"của lần nhập này ({listed}) và di tích đã mang các thay đổi đó. Chưa có gì bị "
            f"thay đổi; hãy sửa trực tiếp các di tích đó để lấy lại giá trị cũ.")
    return run


def _proposals_of(run: ImportRun) -> list[int]:
    """The change proposals an import made for published relics (pipeline.py)."""
    return [int(p) for p in (run.report or {}).get("proposals", [])]


def _name_rows(db: Session, rows: list[Any]) -> dict[str, str]:
    """Rows named as a person reads them: relics by heritage identifier, others by kind."""
    site_ids = [int(r) for t, r in rows if t == "sites" and r.isdigit()]
    heritage = dict(db.execute(text("SELECT id, heritage_id FROM sites WHERE id = ANY(:i)"),
                               {"i": site_ids}).all()) if site_ids else {}
    out = {}
    for lang, index in (("en", 0), ("vi", 1)):
        names = []
        for table, row_id in rows:
            label = UNDO_TABLES.get(table, (table, table))[index]
            if table == "sites" and row_id.isdigit() and int(row_id) in heritage:
                names.append(f"{'relic' if lang == 'en' else 'di tích'} "
                             f"{heritage[int(row_id)]}")
            else:
                names.append(f"{label} #{row_id}")
        out[lang] = ", ".join(names)
    return out


UNDO_TABLES = {"sites": ("relics", "di tích"),
               "protection_zones": ("protection zones", "khu vực bảo vệ"),
               "site_admin_units": ("links of relics to communes", "liên kết di tích với xã"),
               "landscapes": ("landscape features", "yếu tố cảnh quan"),
               "facilities": ("facilities", "hạng mục hạ tầng"),
               "intangible_heritage": ("intangible heritage", "di sản phi vật thể"),
               "intangible_sites": ("relics where intangible heritage is practised",
                                    "di tích nơi thực hành di sản phi vật thể"),
               "heritage_events": ("festival dates", "ngày lễ hội")}


def undo_preview(db: Session, import_id: int) -> dict[str, Any]:
    """What undoing the import would do, without doing it: per table the rows it would
    delete and restore ({"tables": [(table, deleted, restored)]}) and `refusal` (an
    InputError) when it would be refused."""
    refusal = None
    try:
        check_undoable(db, import_id)
    except InputError as error:
        refusal = error
    rows = db.execute(text("""
        SELECT table_name,
               count(*) FILTER (WHERE action = 'insert') AS deleted,
               count(*) FILTER (WHERE action = 'update') AS restored
          FROM revisions WHERE import_id = :id GROUP BY table_name"""),
        {"id": import_id}).all()
    order = list(UNDO_TABLES)
    tables = sorted(((t, d, r) for t, d, r in rows if d or r),
                    key=lambda row: order.index(row[0]) if row[0] in order else len(order))
    return {"tables": tables, "refusal": refusal}


# --- undo ------------------------------------------------------------------------------

def undo_import(db: Session, import_id: int, actor_id: int | None) -> dict[str, Any]:
    """Reverse every change an import made: delete the rows it inserted, restore the rows
    it updated to their state before it, delete the change proposals it made. The
    identifiers of relics and intangible heritage it created are retired (never
    reused). The caller commits.

    Raises InputError, changing nothing, when the import was already undone, when a row
    it touched was changed again later, when a proposal it made was approved, or when
    later work depends on a record it created (condition assessments, photos, media,
    artifacts, zones from a later import...): the message names the relics and what was
    added to them, and which imports to undo first.
    """
    run = check_undoable(db, import_id)
    revisions = list(db.scalars(select(Revision).where(Revision.import_id == import_id)
                                .order_by(Revision.id.desc())))
    savepoint = db.begin_nested()
    try:
        set_actor(db, actor_id)
        # The undo's own revisions carry the import's id too: once it is undone, its
        # changes and their reversal cancel out for the undo of an earlier import.
        set_import(db, import_id)
        counts = {"deleted": 0, "restored": 0}
        # Its proposals go with it (none approved: check_undoable refused that).
        counts["proposals"] = db.execute(text(
            "DELETE FROM change_proposals WHERE id = ANY(:ids) AND status <> 'approved'"),
            {"ids": _proposals_of(run)}).rowcount
        retired: list[str] = []
        for rev in revisions:
            table = _table(rev.table_name)
            where, key = _row(table, rev.row_id)
            if rev.action == "insert":
                db.execute(text(f"DELETE FROM {table} WHERE {where}"), key)
                counts["deleted"] += 1
                if table in ("sites", "intangible_heritage") and rev.after:
                    retired.append(rev.after["heritage_id"])
            elif rev.action == "update":
                cols = ", ".join(_columns(db, table))
                db.execute(text(
                    f"UPDATE {table} SET ({cols}) = (SELECT {cols} FROM "
                    f"jsonb_populate_record(NULL::{table}, CAST(:before AS jsonb))) "
                    f"WHERE {where}"), {"before": json.dumps(rev.before), **key})
                counts["restored"] += 1
        if retired:
            db.execute(text("UPDATE heritage_identifiers SET retired_at = now(), "
                            "note = coalesce(note || '; ', '') || :note WHERE id = ANY(:ids)"),
                       {"ids": retired, "note": f"import #{import_id} undone"})
        set_import(db, None)
        run.status = "undone"
        run.undone_at = datetime.now(UTC)
        run.undone_by = actor_id
        db.flush()
        savepoint.commit()
    except DBAPIError as error:
        if savepoint.is_active:
            savepoint.rollback()
        if getattr(error.orig, "sqlstate", "").startswith("23"):  # integrity violation
            raise _blocked(import_id, error) from None
        raise
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    log.info("import #%d undone by %s: %s", import_id, actor_id, counts)
    return counts


_TABLES = {"sites", "protection_zones", "landscapes", "facilities", "site_admin_units",
           "intangible_heritage", "intangible_sites", "heritage_events"}
# Revisions written before migration 0006 named site_admin_units rows by their two keys
# ("site,unit"); since then every table has an `id` and revisions name rows by it.
_ROW_KEYS = {"site_admin_units": ("site_id", "admin_unit_id"),
             "intangible_sites": ("intangible_id", "site_id")}


def _table(name: str) -> str:
    if name not in _TABLES:
        raise ValueError(f"undo does not handle table {name}")
    return name


def _row(table: str, row_id: str) -> tuple[str, dict[str, int]]:
    """The WHERE clause and its values for the row a revision names."""
    values = row_id.split(",")
    columns = _ROW_KEYS[table] if len(values) > 1 else ("id",)
    where = " AND ".join(f"{column} = :key_{n}" for n, column in enumerate(columns))
    return where, {f"key_{n}": int(v) for n, v in enumerate(values)}
