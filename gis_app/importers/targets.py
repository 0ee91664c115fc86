"""What each importable layer accepts: its fields, which are required, how a row is
matched to an existing record (the upsert key), and the SQL that loads staged rows.

A target's SQL reads the temporary table `import_stage` (one row per file row, already
mapped, converted and in EPSG:4326) and only touches columns the file provides, so a
file without, say, a decision number never blanks one that is stored.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gis_app.errors import InputError
from gis_app.services.event_dates import check_event

Text = dict[str, str]
# Checks one converted row across its fields, normalising the values in place; the
# problem as (en, vi), or None.
RowCheck = Callable[[dict[str, Any]], "tuple[str, str] | None"]


@dataclass(frozen=True)
class TargetField:
    name: str
    label: Text
    # text, date, vocab, vocab_list, heritage_id (an identifier, as given), identifier
    # (a relic's identifier or else the survey's own code: see identifiers.py),
    # site_ref (the same, naming the relic a record belongs to), int (a whole number),
    # text_list (several values separated by ';'), intangible_id (an intangible
    # heritage's identifier: anything else is a row error)
    kind: str = "text"
    vocab: str | None = None
    required: bool = False

    @property
    def sql_type(self) -> str:
        return {"date": "date", "vocab_list": "text[]", "text_list": "text[]",
                "int": "integer"}.get(self.kind, "text")


@dataclass(frozen=True)
class Target:
    layer: str
    table: str
    # Point, MultiPolygon, or Point|MultiPolygon (either): what the file's geometries are
    # turned into
    geometry: str
    fields: tuple[TargetField, ...]
    key: tuple[str, ...]  # target fields that identify an existing record
    title: Text
    # Other fields whose values must be unique within a file (each matches one record).
    unique: tuple[str, ...] = ()
    # Its records are points placed in communes: the importer assigns their
    # administrative units (services/admin_units.py) after loading.
    located: bool = False
    # (identifier field, survey-code field): survey codes found in the identifier
    # column are staged in the survey-code column (pipeline._Stager).
    codes: tuple[str, str] | None = None
    # Rows may come without a geometry (a plain table: a CSV without coordinates).
    optional_geometry: bool = False
    # Checks each converted row across fields (pipeline._Stager).
    check_row: RowCheck | None = None

    def field(self, name: str) -> TargetField:
        return next(f for f in self.fields if f.name == name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


# A relic's identifier column may hold the survey team's own codes instead
# ("KC-01-000"): those become survey codes (services/identifiers.read_identifier_cell).
HERITAGE_ID = TargetField("heritage_id", {"vi": "Mã định danh", "en": "Heritage identifier"},
                          kind="identifier")
SURVEY_CODE = TargetField("survey_code", {"vi": "Mã khảo sát", "en": "Survey code"})
# A zone names its relic by heritage identifier, by the relic's survey code (in the same
# column, or its own), or, in a file with neither, by the relic point it contains.
SITE_ID = TargetField("site_heritage_id", {"vi": "Mã định danh di tích",
                                           "en": "Relic's heritage identifier"},
                      kind="site_ref")
SITE_CODE = TargetField("site_survey_code", {"vi": "Mã khảo sát di tích",
                                             "en": "Relic's survey code"})
ACCURACY = TargetField("accuracy", {"vi": "Độ chính xác", "en": "Accuracy"}, kind="vocab",
                       vocab="accuracy")
NAME_VI = TargetField("name_vi", {"vi": "Tên", "en": "Name (Vietnamese)"}, required=True)
NAME_EN = TargetField("name_en", {"vi": "Tên tiếng Anh", "en": "Name (English)"})

# The columns of a festival date in an intangible heritage row (see _check_event_row).
EVENT_FIELDS = ("event_name_vi", "event_name_en", "lunar_month", "lunar_day", "solar_date",
                "duration_days")


def _check_event_row(values: dict[str, Any]) -> tuple[str, str] | None:
    """The festival date of an intangible heritage row, checked by the editor's rule
    (services.event_dates.check_event): a lunar month and day (both, 1-12 and 1-30) or
    a solar date; values normalised in place. A row without any date column is no event."""
    given = {k: values[k] for k in EVENT_FIELDS if values.get(k) is not None}
    if not given:
        return None
    raw = {"name_vi": values.get("event_name_vi") or values.get("name_vi"),
           "name_en": values.get("event_name_en"),
           "lunar_month": given.get("lunar_month"), "lunar_day": given.get("lunar_day"),
           "solar_date": (given["solar_date"].isoformat() if "solar_date" in given else None),
           "duration_days": given.get("duration_days")}
    try:
        event = check_event(
            {k: (str(v) if v is not None else None) for k, v in raw.items()})
    except InputError as error:
        return error.message_en, error.message_vi
    for name in ("lunar_month", "lunar_day", "duration_days"):
        if name in values and values[name] is not None:
            values[name] = event[name]
    return None


TARGETS: dict[str, Target] = {
    "sites": Target(
        layer="sites", table="sites", geometry="Point", key=("heritage_id",),
        unique=("survey_code",), located=True, codes=("heritage_id", "survey_code"),
        title={"vi": "Di tích", "en": "Relics"},
        fields=(
            HERITAGE_ID,
            SURVEY_CODE,
            TargetField("name_vi", {"vi": "Tên di tích", "en": "Name (Vietnamese)"},
                        required=True),
            NAME_EN,
            TargetField("types", {"vi": "Loại hình", "en": "Type"}, kind="vocab_list",
                        vocab="relic_type"),
            TargetField("rank", {"vi": "Xếp hạng", "en": "Rank"}, kind="vocab", vocab="rank"),
            TargetField("ranking_decision_no", {"vi": "Số quyết định xếp hạng",
                                                "en": "Ranking decision no."}),
            TargetField("ranking_decision_date", {"vi": "Ngày quyết định xếp hạng",
                                                  "en": "Ranking decision date"}, kind="date"),
            TargetField("period", {"vi": "Niên đại", "en": "Period"}),
            TargetField("description_vi", {"vi": "Mô tả", "en": "Description (Vietnamese)"}),
            ACCURACY,
        ),
    ),
    "protection_zones": Target(
        layer="protection_zones", table="protection_zones", geometry="MultiPolygon",
        key=("site_heritage_id", "zone"), codes=("site_heritage_id", "site_survey_code"),
        title={"vi": "Khu vực bảo vệ di tích", "en": "Protection zones"},
        fields=(
            SITE_ID,
            SITE_CODE,
            TargetField("zone", {"vi": "Khu vực bảo vệ", "en": "Zone"}, kind="vocab",
                        vocab="zone", required=True),
            TargetField("decision_no", {"vi": "Số quyết định khoanh vùng",
                                        "en": "Zoning decision no."}),
            TargetField("decision_date", {"vi": "Ngày quyết định", "en": "Decision date"},
                        kind="date"),
            TargetField("valid_from", {"vi": "Hiệu lực từ", "en": "Valid from"}, kind="date"),
            ACCURACY,
        ),
    ),
    # Ponds, ancient trees, gardens, river banks of a relic (or of none): linked like a
    # zone, but a feature that names no relic and contains none stays unlinked.
    "landscapes": Target(
        layer="landscapes", table="landscapes", geometry="MultiPolygon",
        key=("site_heritage_id", "name_vi"), codes=("site_heritage_id", "site_survey_code"),
        title={"vi": "Cảnh quan", "en": "Landscapes"},
        fields=(
            SITE_ID,
            SITE_CODE,
            NAME_VI,
            NAME_EN,
            TargetField("kind", {"vi": "Loại cảnh quan", "en": "Landscape kind"},
                        kind="vocab", vocab="landscape_kind", required=True),
            ACCURACY,
        ),
    ),
    # Car parks, toilets, boards, offices, markers... of a relic (or of none): a point or
    # an area, linked like a landscape feature (a point contains no relic).
    "facilities": Target(
        layer="facilities", table="facilities", geometry="Point|MultiPolygon",
        key=("site_heritage_id", "name_vi"), codes=("site_heritage_id", "site_survey_code"),
        title={"vi": "Hạ tầng, tiện ích", "en": "Facilities"},
        fields=(
            SITE_ID,
            SITE_CODE,
            NAME_VI,
            NAME_EN,
            TargetField("kind", {"vi": "Loại hạng mục", "en": "Facility kind"},
                        kind="vocab", vocab="facility_kind", required=True),
            ACCURACY,
        ),
    ),
    # Intangible heritage (di sản văn hóa phi vật thể): one row each, its places practised
    # as polygons (optional), the relics where it is practised (identifiers or survey
    # codes separated by ';') and one festival date on the same row. Matched by
    # identifier, else by name; new ones are drafts with new VN-HY-PVT identifiers.
    "intangible_heritage": Target(
        layer="intangible_heritage", table="intangible_heritage", geometry="MultiPolygon",
        key=("heritage_id",), unique=("name_vi",), optional_geometry=True,
        check_row=_check_event_row,
        title={"vi": "Di sản văn hóa phi vật thể", "en": "Intangible heritage"},
        fields=(
            TargetField("heritage_id", {"vi": "Mã định danh", "en": "Heritage identifier"},
                        kind="intangible_id"),
            TargetField("name_vi", {"vi": "Tên di sản", "en": "Name (Vietnamese)"},
                        required=True),
            NAME_EN,
            TargetField("ich_type", {"vi": "Loại hình", "en": "Type"}, kind="vocab",
                        vocab="ich_type", required=True),
            TargetField("community", {"vi": "Cộng đồng chủ thể", "en": "Bearer community"}),
            TargetField("description_vi", {"vi": "Mô tả", "en": "Description (Vietnamese)"}),
            TargetField("description_en", {"vi": "Mô tả tiếng Anh",
                                           "en": "Description (English)"}),
            TargetField("national_listing_decision_no",
                        {"vi": "Số quyết định ghi danh quốc gia",
                         "en": "National listing decision no."}),
            TargetField("national_listing_date", {"vi": "Ngày quyết định ghi danh",
                                                  "en": "National listing date"},
                        kind="date"),
            TargetField("relics", {"vi": "Di tích nơi thực hành",
                                   "en": "Relics where it is practised"}, kind="text_list"),
            TargetField("event_name_vi", {"vi": "Tên lễ hội", "en": "Festival name"}),
            TargetField("event_name_en", {"vi": "Tên lễ hội (tiếng Anh)",
                                          "en": "Festival name (English)"}),
            TargetField("lunar_month", {"vi": "Tháng âm lịch", "en": "Lunar month"},
                        kind="int"),
            TargetField("lunar_day", {"vi": "Ngày âm lịch", "en": "Lunar day"}, kind="int"),
            TargetField("solar_date", {"vi": "Ngày dương lịch", "en": "Solar date"},
                        kind="date"),
            TargetField("duration_days", {"vi": "Số ngày", "en": "Duration (days)"},
                        kind="int"),
        ),
    ),
}

# Targets whose rows name a relic (found by _relic_links), and whether they must.
LINKED = {"protection_zones": True, "landscapes": False, "facilities": False}
# Features of a relic (or of none), matched by relic and name (_feature_statements).
FEATURES = ("landscapes", "facilities")


def get_target(layer: str) -> Target | None:
    return TARGETS.get(layer)


def _assign(columns: list[str], alias: str = "st") -> str:
    return ", ".join(f"{c} = {alias}.{c}" for c in columns)


def _distinct(columns: list[str], left: str, right: str = "st") -> str:
    if not columns:
        return "false"
    lhs = ", ".join(f"{left}.{c}" for c in columns)
    rhs = ", ".join(f"{right}.{c}" for c in columns)
    return f"({lhs}) IS DISTINCT FROM ({rhs})"


def stage_columns(target: Target) -> str:
    """Columns the stage has besides the mapped fields: matches found before loading."""
    extra = "target_id integer"
    if target.layer == "sites":
        # The matched relic is published: the row's changes become proposals for review
        # (services/proposals.propose_imported), never an overwrite.
        extra += ", published boolean NOT NULL DEFAULT false"
    if target.layer == "protection_zones":
        # The relic; the open version's start, whether the row changes it, and the
        # start of the new version it makes (see _zone_statements).
        # How the row names its relic (id, code, contains) and how many relics matched.
        extra += (", site_id integer, cur_from date, changed boolean, new_from date, "
                  "link text, site_matches integer")
    if target.layer in FEATURES:
        extra += ", site_id integer, link text, site_matches integer"
    if target.layer == "intangible_heritage":
        # The relics named in `relics`, when each name matched one; the festival date
        # the row's event updates.
        extra += ", site_ids integer[], event_id integer"
    return extra


def prepare_statements(target: Target, mapped: list[str] | tuple[str, ...] = ()
                       ) -> list[str]:
    """Resolve references and find the existing record of each staged row (target_id).
    Bind :today (Vietnam's date) when running them. `mapped`: the target fields the file
    provides.

    Matching is done into the stage first, so that the statements that write never
    probe the table they are writing (a NOT EXISTS over a table growing under the same
    INSERT can turn into a scan per row)."""
    if target.layer == "sites":
        return [
            """UPDATE import_stage st SET target_id = s.id FROM sites s
                WHERE s.heritage_id = st.heritage_id""",
            # A row without an identifier is the relic recorded under its survey code
            # by an earlier import, when exactly one relic has it (several: a row error,
            # see ambiguous_survey_code_sql).
            """UPDATE import_stage st SET target_id = m.id
                 FROM (SELECT survey_code, min(id) AS id FROM sites
                        WHERE survey_code IS NOT NULL
                        GROUP BY survey_code HAVING count(*) = 1) m
                WHERE st.target_id IS NULL AND st.heritage_id IS NULL
                  AND m.survey_code = st.survey_code""",
            """UPDATE import_stage st SET published = true FROM sites s
                WHERE s.id = st.target_id AND s.status = 'published'""",
        ]
    if target.layer == "protection_zones":
        return [*_relic_links(), """
            UPDATE import_stage st SET site_heritage_id = s.heritage_id FROM sites s
             WHERE s.id = st.site_id AND st.site_heritage_id IS NULL""",
            """UPDATE import_stage st SET target_id = cur.id
                 FROM (SELECT DISTINCT ON (z.site_id, z.zone) z.id, z.site_id, z.zone
                         FROM protection_zones z
                        WHERE z.valid_to IS NULL ORDER BY z.site_id, z.zone, z.id) cur
                WHERE cur.site_id = st.site_id AND cur.zone = st.zone""",
            _zone_changes(mapped),
        ]
    if target.layer in FEATURES:
        return [*_relic_links(), """
            UPDATE import_stage st SET site_heritage_id = s.heritage_id FROM sites s
             WHERE s.id = st.site_id AND st.site_heritage_id IS NULL""",
            # The feature of the same relic (or of none) with the same name, when only
            # one has it: a re-import updates it instead of adding a copy.
            f"""UPDATE import_stage st SET target_id = l.id
                 FROM (SELECT coalesce(site_id, 0) AS site, name_vi, min(id) AS id
                         FROM {target.table} GROUP BY 1, 2 HAVING count(*) = 1) l
                WHERE l.site = coalesce(st.site_id, 0) AND l.name_vi = st.name_vi""",
        ]
    if target.layer == "intangible_heritage":
        return _intangible_matches()
    raise KeyError(target.layer)


def load_statements(target: Target, mapped: list[str]) -> list[tuple[str, str]]:
    """(counter name, SQL) to run in order over `import_stage` after
    `prepare_statements`; each statement's row count is added to its counter ('' for
    statements that are not counted).

    `mapped`: the target fields the file provides (others are left as they are).
    """
    if target.layer == "sites":
        return _site_statements(mapped)
    if target.layer == "protection_zones":
        return _zone_statements(mapped)
    if target.layer in FEATURES:
        return _feature_statements(target.table, mapped)
    if target.layer == "intangible_heritage":
        return _intangible_statements(mapped)
    raise KeyError(target.layer)


def _register_identifiers(kind: str) -> list[tuple[str, str]]:
    """The statements that give new records of `kind` ('site', 'intangible') their
    heritage identifiers: new ones from the kind's sequence, in file order, for rows
    without one (mint_heritage_identifier registers them; migration 0006), and the
    well-formed identifiers the file gives that are not yet in the register. `kind`
    comes from this module, never from a file."""
    return [
        ("", f"""
            UPDATE import_stage st SET heritage_id = n.id
              FROM (SELECT row_no, mint_heritage_identifier('{kind}', :source) AS id
                      FROM (SELECT row_no FROM import_stage
                             WHERE heritage_id IS NULL AND target_id IS NULL
                             ORDER BY row_no OFFSET 0) todo) n
             WHERE st.row_no = n.row_no"""),
        ("", f"""
            INSERT INTO heritage_identifiers (id, kind, note)
            SELECT st.heritage_id, '{kind}', :source FROM import_stage st
             WHERE st.target_id IS NULL
            ON CONFLICT (id) DO NOTHING"""),
    ]


def _site_statements(mapped: list[str]) -> list[tuple[str, str]]:
    cols = [c for c in mapped if c not in ("heritage_id", "survey_code")] + ["geom"]
    sets = {c: f"st.{c}" for c in cols}
    if "survey_code" in mapped:
        # A row matched by its identifier keeps the survey code it has.
        sets["survey_code"] = "coalesce(st.survey_code, s.survey_code)"
    assign = ", ".join(f"{c} = {v}" for c, v in sets.items())
    changed = (f"({', '.join(f's.{c}' for c in sets)}) IS DISTINCT FROM "
               f"({', '.join(sets.values())})")
    defaults = {} if "accuracy" in mapped else {"accuracy": "'surveyed'"}
    new_cols = cols + (["survey_code"] if "survey_code" in mapped else [])
    insert_cols = new_cols + list(defaults) + ["source", "status"]
    insert_vals = [f"st.{c}" for c in new_cols] + list(defaults.values()) + [":source",
                                                                              "'draft'"]
    return [
        *_register_identifiers("site"),
        ("updated", f"""
            UPDATE sites s SET {assign}, updated_at = now()
              FROM import_stage st
             WHERE s.id = st.target_id AND NOT st.published AND {changed}"""),
        ("inserted", f"""
            INSERT INTO sites (heritage_id, {", ".join(insert_cols)})
            SELECT st.heritage_id, {", ".join(insert_vals)} FROM import_stage st
             WHERE st.target_id IS NULL ORDER BY st.row_no"""),
        # Every staged row now names its relic (for the administrative units).
        ("", """
            UPDATE import_stage st SET target_id = s.id FROM sites s
             WHERE st.target_id IS NULL AND s.heritage_id = st.heritage_id"""),
    ]


# Relics that no longer are in the register are not found by their survey code or
# position (by identifier they are, and row_errors_sql says why the row cannot load).
_IN_REGISTER = "s.status NOT IN ('retired', 'merged')"


def _feature_statements(table: str, mapped: list[str]) -> list[tuple[str, str]]:
    cols = [c for c in mapped if c not in ("site_heritage_id", "site_survey_code")] + ["geom"]
    defaults = {} if "accuracy" in mapped else {"accuracy": "'surveyed'"}
    return [
        ("updated", f"""
            UPDATE {table} l SET {_assign(cols)}, site_id = coalesce(st.site_id, l.site_id)
              FROM import_stage st
             WHERE l.id = st.target_id AND ({_distinct(cols, "l")}
                                            OR st.site_id IS DISTINCT FROM l.site_id
                                               AND st.site_id IS NOT NULL)"""),
        ("inserted", f"""
            INSERT INTO {table} (site_id, {", ".join(cols + list(defaults))}, source)
            SELECT st.site_id, {", ".join([f"st.{c}" for c in cols] + list(defaults.values()))},
                   :source
              FROM import_stage st WHERE st.target_id IS NULL ORDER BY st.row_no"""),
    ]


def relic_link(site_heritage_id: str | None, site_survey_code: str | None) -> str:
    """How a staged row names its relic (the stage's `link`, set while staging): by
    heritage identifier, else by survey code, else by the relic point it contains."""
    if site_heritage_id is not None:
        return "id"
    if site_survey_code is not None:
        return "code"
    return "contains"


def _relic_links() -> list[str]:
    """Find each row's relic (a zone's, a landscape feature's): by heritage identifier,
    else by survey code (one relic must have it), else by the relic point inside the
    row's outline (holes filled: a zone II drawn as a ring around zone I still contains
    its relic; exactly one point must be there). `link` (staged with the row: relic_link)
    and `site_matches` say how, for unknown_reference_sql."""
    return [
        """UPDATE import_stage st SET site_id = s.id, site_matches = 1 FROM sites s
            WHERE st.link = 'id' AND s.heritage_id = st.site_heritage_id""",
        # Driven from the stage through the survey-code index (sites just loaded by a
        # previous import have no statistics yet: an aggregate over sites first can be
        # planned as a scan of the stage per survey code).
        f"""UPDATE import_stage st SET site_matches = m.n,
                   site_id = CASE WHEN m.n = 1 THEN m.id END
              FROM (SELECT c.row_no, count(*) AS n, min(s.id) AS id
                      FROM import_stage c JOIN sites s ON s.survey_code = c.site_survey_code
                     WHERE c.link = 'code' AND {_IN_REGISTER}
                     GROUP BY c.row_no) m
             WHERE m.row_no = st.row_no""",
        f"""UPDATE import_stage st SET site_matches = m.n,
                   site_id = CASE WHEN m.n = 1 THEN m.id END
              FROM (SELECT z.row_no, count(s.id) AS n, min(s.id) AS id
                      FROM import_stage z
                      CROSS JOIN LATERAL (
                           SELECT ST_Collect(ST_MakePolygon(ST_ExteriorRing(d.geom)))
                                  AS outline FROM ST_Dump(z.geom) d) o
                      LEFT JOIN sites s ON ST_Intersects(s.geom, o.outline)
                                       AND {_IN_REGISTER}
                     WHERE z.link = 'contains' GROUP BY z.row_no) m
             WHERE m.row_no = st.row_no""",
    ]


# A zone is a chain of dated versions (services/zones.py): a row that changes the open
# version of its relic's zone (boundary, decision, accuracy, or a new valid_from) ends it
# the day before the new version starts and adds the new version, which starts on the
# row's valid_from, else on the day of the import. Nothing is overwritten: a check as of
# an earlier date still finds the old boundary, and undoing the import deletes the new
# version and reopens the old one.
_ZONE_KEEP = ("site_heritage_id", "site_survey_code", "zone", "valid_from")


def _zone_changes(mapped: list[str] | tuple[str, ...]) -> str:
    """Fill cur_from, changed and new_from for rows matching an open version."""
    cols = [c for c in mapped if c not in _ZONE_KEEP] + ["geom"]
    changed = _distinct(cols, "z")
    if "valid_from" in mapped:
        changed += " OR (st.valid_from IS NOT NULL AND st.valid_from IS DISTINCT FROM z.valid_from)"
    new_from = "coalesce(st.valid_from, CAST(:today AS date))" if "valid_from" in mapped \
        else "CAST(:today AS date)"
    return f"""UPDATE import_stage st SET cur_from = z.valid_from, changed = ({changed}),
                      new_from = {new_from}
                 FROM protection_zones z WHERE z.id = st.target_id"""


def _zone_statements(mapped: list[str]) -> list[tuple[str, str]]:
    cols = [c for c in mapped if c not in ("site_heritage_id", "site_survey_code", "zone")
            ] + ["geom"]
    insert_cols = cols + ([] if "accuracy" in mapped else ["accuracy"]) + ["source"]
    insert_vals = ([f"st.{c}" for c in cols]
                   + ([] if "accuracy" in mapped else ["'surveyed'"]) + [":source"])
    # A new version takes what the file gives and keeps the rest from the version it
    # follows (a file without decision numbers does not blank them).
    carried = {c: f"st.{c}" if c in mapped else f"z.{c}"
               for c in ("decision_no", "decision_date")}
    carried["accuracy"] = "st.accuracy" if "accuracy" in mapped else "'surveyed'"
    return [
        ("updated", """
            UPDATE protection_zones z SET valid_to = st.new_from - 1
              FROM import_stage st
             WHERE z.id = st.target_id AND st.changed"""),
        ("", f"""
            INSERT INTO protection_zones (site_id, zone, geom, valid_from, source,
                                          {", ".join(carried)})
            SELECT st.site_id, st.zone, st.geom, st.new_from, :source,
                   {", ".join(carried.values())}
              FROM import_stage st JOIN protection_zones z ON z.id = st.target_id
             WHERE st.changed ORDER BY st.row_no"""),
        ("inserted", f"""
            INSERT INTO protection_zones (site_id, zone, {", ".join(insert_cols)})
            SELECT st.site_id, st.zone, {", ".join(insert_vals)} FROM import_stage st
             WHERE st.target_id IS NULL ORDER BY st.row_no"""),
    ]


def unknown_reference_sql(target: Target) -> str | None:
    """SQL listing staged rows whose relic was not found, or not found once, as (row_no,
    English message, Vietnamese message); run after `prepare_statements`. A landscape
    feature that names no relic and contains none is not an error."""
    if target.layer == "intangible_heritage":
        return _RELIC_NAMES_NOT_FOUND
    if target.layer not in LINKED:
        return None
    if target.layer == "protection_zones":
        zone_en = ("CASE st.zone WHEN 'buffer' THEN 'The buffer zone' "
                   "ELSE 'Zone ' || st.zone END")
        zone_vi = ("CASE st.zone WHEN 'buffer' THEN 'Vùng đệm' "
                   "ELSE 'Khu vực bảo vệ ' || st.zone END")
    elif target.layer == "landscapes":
        zone_en = "format('The landscape feature %s', st.name_vi)"
        zone_vi = "format('Cảnh quan %s', st.name_vi)"
    else:
        zone_en = "format('The facility %s', st.name_vi)"
        zone_vi = "format('Hạng mục %s', st.name_vi)"
    optional = "" if LINKED[target.layer] else \
        " AND (st.link <> 'contains' OR st.site_matches > 1)"
    return f"""
        SELECT st.row_no,
               CASE
               WHEN st.link = 'id' THEN format(
                   'No relic has the heritage identifier %s; import the relics first or '
                   'correct the identifier.', st.site_heritage_id)
               WHEN st.link = 'code' AND st.site_matches > 1 THEN format(
                   'Several relics have the survey code %s (%s); give the zone the heritage '
                   'identifier of its relic.', st.site_survey_code, near.ids)
               WHEN st.link = 'code' THEN format(
                   'No relic has the survey code %s; import the relic survey first (its codes '
                   'are kept as survey codes) or give the relic''s heritage identifier.',
                   st.site_survey_code)
               WHEN coalesce(st.site_matches, 0) = 0 THEN format(
                   '%s in row %s contains no relic point; give the relic''s heritage '
                   'identifier or survey code in a column of the row.', {zone_en}, st.row_no)
               ELSE format(
                   '%s in row %s contains %s relic points (%s); give the heritage identifier '
                   'or survey code of the one it protects in a column of the row.', {zone_en},
                   st.row_no, st.site_matches, near.ids)
               END,
               CASE
               WHEN st.link = 'id' THEN format(
                   'Không có di tích nào mang mã định danh %s; hãy nhập di tích trước hoặc '
                   'sửa mã.', st.site_heritage_id)
               WHEN st.link = 'code' AND st.site_matches > 1 THEN format(
                   'Nhiều di tích có cùng mã khảo sát %s (%s); hãy ghi mã định danh của di '
                   'tích mà khu vực này bảo vệ.', st.site_survey_code, near.ids)
               WHEN st.link = 'code' THEN format(
                   'Không có di tích nào mang mã khảo sát %s; hãy nhập tệp khảo sát di tích '
                   'trước (mã của tệp được lưu thành mã khảo sát) hoặc ghi mã định danh của '
                   'di tích.', st.site_survey_code)
               WHEN coalesce(st.site_matches, 0) = 0 THEN format(
                   '%s ở dòng %s không chứa điểm di tích nào; hãy ghi mã định danh hoặc mã '
                   'khảo sát của di tích vào một cột của dòng.', {zone_vi}, st.row_no)
               ELSE format(
                   '%s ở dòng %s chứa %s điểm di tích (%s); hãy ghi mã định danh hoặc mã khảo '
                   'sát của di tích được bảo vệ vào một cột của dòng.', {zone_vi}, st.row_no,
                   st.site_matches, near.ids)
               END
          FROM import_stage st
          LEFT JOIN LATERAL (
               SELECT string_agg(s.heritage_id || ' ' || s.name_vi, ', '
                                 ORDER BY s.heritage_id) AS ids
                 FROM sites s
                WHERE st.site_matches > 1 AND {_IN_REGISTER}
                  AND CASE WHEN st.link = 'code' THEN s.survey_code = st.site_survey_code
                           ELSE ST_Intersects(s.geom, (
                                SELECT ST_Collect(ST_MakePolygon(ST_ExteriorRing(d.geom)))
                                  FROM ST_Dump(st.geom) d)) END) near ON true
         WHERE st.site_id IS NULL{optional} ORDER BY st.row_no LIMIT 50"""


def row_errors_sql(target: Target) -> str | None:
    """SQL listing staged rows that cannot be loaded as they are, as (row_no, English
    message, Vietnamese message); run after `prepare_statements`, binding nothing."""
    if target.layer == "protection_zones":
        return """
            SELECT st.row_no,
                   format('Zone %s of %s has a version in force from %s; this row would '
                          'start a new one on %s. A new version must start later: give a '
                          'later valid-from date (or none, for the day of the import). '
                          'Earlier boundaries are kept as they were.', st.zone,
                          st.site_heritage_id, to_char(st.cur_from, 'YYYY-MM-DD'),
                          to_char(st.new_from, 'YYYY-MM-DD')),
                   format('%s của %s đã có phiên bản hiệu lực từ %s; dòng này sẽ tạo phiên '
                          'bản mới từ %s. Phiên bản mới phải bắt đầu muộn hơn: hãy ghi ngày '
                          'hiệu lực muộn hơn (hoặc để trống để lấy ngày nhập). Các ranh giới '
                          'trước được giữ nguyên.',
                          CASE st.zone WHEN 'buffer' THEN 'Vùng đệm'
                                       ELSE 'Khu vực bảo vệ ' || st.zone END,
                          st.site_heritage_id, to_char(st.cur_from, 'DD/MM/YYYY'),
                          to_char(st.new_from, 'DD/MM/YYYY'))
              FROM import_stage st
             WHERE st.changed AND st.cur_from IS NOT NULL AND st.new_from <= st.cur_from
            UNION ALL
            SELECT st.row_no,
                   format('%s is no longer in the register (%s): its zones have ended and '
                          'cannot change.', s.heritage_id, s.status),
                   format('%s không còn trong danh mục: các khu vực bảo vệ của di tích đã '
                          'hết hiệu lực và không thay đổi được.', s.heritage_id)
              FROM import_stage st JOIN sites s ON s.id = st.site_id
             WHERE s.status IN ('retired', 'merged')
             ORDER BY 1 LIMIT 50"""
    if target.layer == "intangible_heritage":
        return _INTANGIBLE_ID_ERRORS
    return None


# --- intangible heritage -------------------------------------------------------------------

_ICH_RECORD = ("name_vi", "name_en", "ich_type", "community", "description_vi",
               "description_en", "national_listing_decision_no", "national_listing_date")

# Each name in a row's `relics` cell with the relics of the register it names: by heritage
# identifier, or by survey code (the relic survey's own code, kept when it was imported).
_RELIC_NAMES = f"""
    SELECT c.row_no, c.name, count(s.id) AS n, min(s.id) AS site_id,
           string_agg(s.heritage_id || ' ' || s.name_vi, ', ' ORDER BY s.heritage_id) AS found
      FROM (SELECT row_no, unnest(relics) AS name FROM import_stage) c
      LEFT JOIN sites s ON (s.heritage_id = upper(c.name) OR s.survey_code = c.name)
                       AND {_IN_REGISTER}
     GROUP BY c.row_no, c.name"""

_RELIC_NAMES_NOT_FOUND = f"""
    SELECT r.row_no,
           CASE WHEN r.n = 0 THEN format(
               'No relic in the register has the heritage identifier or survey code %s; '
               'correct it (several relics are separated by '';'') or import the relic '
               'first.', r.name)
           ELSE format('Several relics have the survey code %s (%s); give the heritage '
                       'identifier of the one where it is practised.', r.name, r.found) END,
           CASE WHEN r.n = 0 THEN format(
               'Không có di tích nào trong danh mục mang mã định danh hoặc mã khảo sát %s; '
               'hãy sửa lại (nhiều di tích cách nhau bằng dấu '';'') hoặc nhập di tích '
               'trước.', r.name)
           ELSE format('Nhiều di tích có cùng mã khảo sát %s (%s); hãy ghi mã định danh của '
                       'di tích nơi thực hành di sản.', r.name, r.found) END
      FROM ({_RELIC_NAMES}) r
     WHERE r.n <> 1 ORDER BY r.row_no, r.name LIMIT 50"""

# An identifier that matches no intangible heritage is registered for the new record,
# unless the register holds it for another kind of record or retired it.
_INTANGIBLE_ID_ERRORS = """
    SELECT st.row_no,
           CASE WHEN h.retired_at IS NOT NULL THEN format(
               '%s was retired; identifiers are never reused. Give the heritage''s current '
               'identifier, or leave the cell empty for a new one.', h.id)
           ELSE format('%s is registered for another kind of record (%s), not an intangible '
                       'heritage; give its VN-HY-PVT identifier, or leave the cell empty for '
                       'a new one.', h.id, h.kind) END,
           CASE WHEN h.retired_at IS NOT NULL THEN format(
               '%s đã bị hủy; mã định danh không bao giờ được dùng lại. Hãy ghi mã hiện hành '
               'của di sản, hoặc để trống để được cấp mã mới.', h.id)
           ELSE format('%s đã được cấp cho loại hồ sơ khác (%s), không phải di sản phi vật '
                       'thể; hãy ghi mã VN-HY-PVT của di sản, hoặc để trống để được cấp mã '
                       'mới.', h.id, h.kind) END
      FROM import_stage st JOIN heritage_identifiers h ON h.id = st.heritage_id
     WHERE st.target_id IS NULL AND (h.retired_at IS NOT NULL OR h.kind <> 'intangible')
     ORDER BY st.row_no LIMIT 50"""

# A row has a festival date when it gives a lunar month or a solar date (the row check
# has made sure the rest fits: services.event_dates.check_event).
_HAS_EVENT = "(st.lunar_month IS NOT NULL OR st.solar_date IS NOT NULL)"
_EVENT_NAME = "coalesce(st.event_name_vi, st.name_vi)"


def _intangible_matches() -> list[str]:
    return [
        """UPDATE import_stage st SET target_id = i.id FROM intangible_heritage i
            WHERE i.heritage_id = st.heritage_id""",
        # A row without an identifier is the heritage of that name, when only one has it.
        """UPDATE import_stage st SET target_id = m.id
             FROM (SELECT name_vi, min(id) AS id FROM intangible_heritage
                    GROUP BY name_vi HAVING count(*) = 1) m
            WHERE st.target_id IS NULL AND st.heritage_id IS NULL AND m.name_vi = st.name_vi""",
        f"""UPDATE import_stage st SET site_ids = m.ids
              FROM (SELECT r.row_no, array_agg(DISTINCT r.site_id) AS ids
                      FROM ({_RELIC_NAMES}) r GROUP BY r.row_no
                    HAVING bool_and(r.n = 1)) m
             WHERE m.row_no = st.row_no""",
        # Its festival date of the same name, when it has one: updated, not doubled.
        f"""UPDATE import_stage st SET event_id = e.id
              FROM (SELECT intangible_id, name_vi, min(id) AS id FROM heritage_events
                     WHERE intangible_id IS NOT NULL
                     GROUP BY intangible_id, name_vi HAVING count(*) = 1) e
             WHERE e.intangible_id = st.target_id AND e.name_vi = {_EVENT_NAME}
               AND {_HAS_EVENT}""",
    ]


def _intangible_statements(mapped: list[str]) -> list[tuple[str, str]]:
    cols = [c for c in _ICH_RECORD if c in mapped]
    # The places practised: a row without a shape keeps the stored one.
    changed = (f"({_distinct(cols, 'i')} OR (st.geom IS NOT NULL "
               f"AND st.geom IS DISTINCT FROM i.geom))")
    assign = ", ".join([f"{c} = st.{c}" for c in cols] + ["geom = coalesce(st.geom, i.geom)"])
    # A festival date takes what the file gives and keeps the rest.
    event = {c: (f"st.{c}" if c in mapped else f"e.{c}")
             for c in ("lunar_month", "lunar_day", "solar_date")}
    event["name_en"] = "st.event_name_en" if "event_name_en" in mapped else "e.name_en"
    event["duration_days"] = ("coalesce(st.duration_days, 1)" if "duration_days" in mapped
                              else "e.duration_days")
    return [
        *_register_identifiers("intangible"),
        ("updated", f"""
            UPDATE intangible_heritage i SET {assign}
              FROM import_stage st WHERE i.id = st.target_id AND {changed}"""),
        ("inserted", f"""
            INSERT INTO intangible_heritage (heritage_id, {", ".join(cols)}, geom, status,
                                             source)
            SELECT st.heritage_id, {", ".join(f"st.{c}" for c in cols)}, st.geom, 'draft',
                   :source
              FROM import_stage st WHERE st.target_id IS NULL ORDER BY st.row_no"""),
        ("", """
            UPDATE import_stage st SET target_id = i.id FROM intangible_heritage i
             WHERE st.target_id IS NULL AND i.heritage_id = st.heritage_id"""),
        # Relics are added to those listed (a link the file leaves out is kept).
        ("relics_linked", """
            INSERT INTO intangible_sites (intangible_id, site_id)
            SELECT DISTINCT st.target_id, s.id FROM import_stage st, unnest(st.site_ids) s(id)
            ON CONFLICT DO NOTHING"""),
        ("events_updated", f"""
            UPDATE heritage_events e SET {", ".join(f"{c} = {v}" for c, v in event.items())}
              FROM import_stage st
             WHERE e.id = st.event_id
               AND ({", ".join(f"e.{c}" for c in event)}) IS DISTINCT FROM
                   ({", ".join(event.values())})"""),
        ("events_added", f"""
            INSERT INTO heritage_events (intangible_id, name_vi, name_en, lunar_month,
                                         lunar_day, solar_date, duration_days)
            SELECT st.target_id, {_EVENT_NAME},
                   {"st.event_name_en" if "event_name_en" in mapped else "NULL"},
                   st.lunar_month, st.lunar_day, st.solar_date,
                   coalesce(st.duration_days, 1)
              FROM import_stage st
             WHERE st.event_id IS NULL AND {_HAS_EVENT} ORDER BY st.row_no"""),
    ]
