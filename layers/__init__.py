"""Map layers, one module per layer. Each module defines `LAYER = Layer(...)`.

Everything a user sees or downloads of a layer is derived from its declaration: the
Leaflet layer (style, legend, popup, min zoom), `GET /api/layers`, the GeoJSON
endpoint and the vector tiles (`/tiles/<name>/{z}/{x}/{y}.mvt`, from `min_zoom`).
Adding a layer is adding one file here; no endpoint is added.

`source` is SQL (a table name or a parenthesised SELECT) written here, never taken from
a request: identifiers in SQL come only from these declarations, values are bound.

`as_of_source`, when a layer has one, is the layer's rows as they stood at the end of a
past day (bound `:as_of_moment`, the next midnight in Vietnam, and `:today`, that day):
officials ask for it with `?as_of=YYYY-MM-DD` (services/features.py).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache

from gis_app.models.relics import in_register

Text = dict[str, str]  # {"vi": ..., "en": ...}

# Titles of properties several layers share, for a layer's queryables (OGC API Features
# Part 3, services/cql2.py) where no popup field labels them; a layer's own
# `property_titles` and popup labels come first.
PROPERTY_TITLES: dict[str, Text] = {
    "heritage_id": {"vi": "Mã định danh", "en": "Heritage identifier"},
    "name_vi": {"vi": "Tên", "en": "Name (Vietnamese)"},
    "name_en": {"vi": "Tên tiếng Anh", "en": "English name"},
    "name": {"vi": "Tên", "en": "Name"},
    "site_name_vi": {"vi": "Tên di tích", "en": "Relic name (Vietnamese)"},
    "site_name_en": {"vi": "Tên di tích tiếng Anh", "en": "Relic name (English)"},
    "accuracy": {"vi": "Độ chính xác", "en": "Accuracy"},
    "code": {"vi": "Mã đơn vị hành chính", "en": "Administrative unit code"},
    "commune": {"vi": "Xã, phường hiện nay", "en": "Commune (today)"},
    "commune_code": {"vi": "Mã xã, phường hiện nay", "en": "Commune code (today)"},
    "level": {"vi": "Cấp", "en": "Level"},
    "valid_from": {"vi": "Hiệu lực từ", "en": "Valid from"},
    "valid_to": {"vi": "Hiệu lực đến", "en": "Valid until"},
    "kind": {"vi": "Loại", "en": "Kind"},
    "category": {"vi": "Nhóm", "en": "Category"},
    "ref": {"vi": "Số hiệu đường", "en": "Road number"},
}
# Controlled vocabularies (gis_app/vocab.py) of properties several layers share, where no
# popup field names one.
PROPERTY_VOCABS: dict[str, str] = {"accuracy": "accuracy", "level": "admin_level",
                                   "rank": "rank", "zone": "zone", "types": "relic_type"}

# Public filters over a source exposing the owning site's `status` and `sensitive`.
PUBLISHED_SITE = "src.status = 'published' AND NOT src.sensitive"
NO_SITE_OR_PUBLISHED = f"src.heritage_id IS NULL OR ({PUBLISHED_SITE})"
# What district reviewers and admins see: every relic still in the register (not those
# retired or merged into another), as services.visibility says for relics.
SITE_IN_REGISTER = in_register("src")
NO_SITE_OR_IN_REGISTER = f"src.heritage_id IS NULL OR ({SITE_IN_REGISTER})"

# Every relic row as it stood at :as_of_moment. A row no revision has touched since then
# is read as it is (so the bbox reaches the GIST index); a row changed since is rebuilt
# from its newest revision before then (the revision trigger keeps full rows;
# services/history.py reads one relic the same way), left out when it did not exist
# yet or had been deleted. The cost grows with the relics changed since the date.
SITES_AS_OF = """(SELECT s.* FROM sites s
     WHERE NOT EXISTS (SELECT 1 FROM revisions v
                        WHERE v.table_name = 'sites' AND v.row_id = CAST(s.id AS text)
                          AND v.changed_at >= :as_of_moment)
    UNION ALL
    SELECT p.*
      FROM (SELECT DISTINCT ON (r.row_id) r.action, r.after
              FROM revisions r
             WHERE r.table_name = 'sites' AND r.changed_at < :as_of_moment
               AND r.row_id IN (SELECT v.row_id FROM revisions v
                                 WHERE v.table_name = 'sites'
                                   AND v.changed_at >= :as_of_moment)
             ORDER BY r.row_id, r.changed_at DESC, r.id DESC) last,
           LATERAL jsonb_populate_record(CAST(NULL AS sites), last.after) p
     WHERE last.action <> 'delete')"""


@dataclass(frozen=True)
class PopupField:
    key: str
    label: Text
    vocab: str | None = None  # translate codes through gis_app.vocab


@dataclass(frozen=True)
class LegendEntry:
    label: Text
    style: dict[str, object]


@dataclass(frozen=True)
class Layer:
    name: str
    title: Text
    geometry_type: str  # Point, MultiPolygon, MultiLineString, Geometry
    source: str
    properties: dict[str, str]  # output key -> SQL expression over `src`
    id_column: str = "id"  # the row key: paging order and the default feature id
    # The feature's public `id` (GeoJSON, OGC API featureId, tiles): SQL over `src`, stable
    # for the record across edits and versions; the row id when the layer has no better.
    feature_id: str | None = None
    geom_column: str = "geom"
    public_filter: str | None = None  # rows the public may see (SQL over `src`)
    official_filter: str | None = None  # rows reviewers and admins see (None: all)
    popup_title: str | None = None
    popup: tuple[PopupField, ...] = ()
    link: str | None = None  # e.g. "/sites/{heritage_id}"
    style: dict[str, object] = field(default_factory=dict)
    style_by: dict[str, object] | None = None  # {"property": k, "values": {v: style}}
    legend: tuple[LegendEntry, ...] = ()
    min_zoom: int = 0
    order: int = 100  # drawing order, low first
    visible: bool = True
    basemap: bool = False
    limit: int = 5000  # features per answer; the map says when a view holds more
    # What the features are, plural, as a count names them ("Showing 5,000 of 12,345
    # relics"); the title, lower-cased, when not given.
    items: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    as_of_source: str | None = None  # the rows as they stood on a past day (see above)
    # JSON Schema type of each property that is not text: "date", "array" (of text),
    # "number", "integer" or "boolean". CQL2 filters type-check against it and the
    # queryables document shows it; tests/test_cql2.py checks it against the database.
    property_types: dict[str, str] = field(default_factory=dict)
    property_titles: dict[str, Text] = field(default_factory=dict)  # beside PROPERTY_TITLES
    # The dates a row is valid (SQL over `src`: start, end; "NULL" for an open end), for
    # OGC API `datetime=`; None: the layer's records carry no validity dates.
    temporal: tuple[str, str] | None = None

    @property
    def feature_id_sql(self) -> str:
        return self.feature_id or f"src.{self.id_column}"

    def text(self, value: Text, lang: str) -> str:
        return value.get(lang) or value.get("vi") or ""


@cache
def all_layers() -> dict[str, Layer]:
    """Every declared layer by name, in drawing order."""
    found: list[Layer] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        layer = getattr(module, "LAYER", None)
        if isinstance(layer, Layer):
            found.append(layer)
    found.sort(key=lambda layer: (layer.order, layer.name))
    names = [layer.name for layer in found]
    if len(names) != len(set(names)):
        raise RuntimeError(f"duplicate layer names in layers/: {names}")
    return {layer.name: layer for layer in found}


def get_layer(name: str) -> Layer | None:
    return all_layers().get(name)
