"""The priority list the plan asks for (III.3): which relics and artifacts need attention
and digitisation first, each with the reasons that put it there.

Points are plain and additive so a reader can check every rank by hand; the weights are
listed once in WEIGHTS and shown on the page.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app import vocab
from gis_app.clock import start_of_day_in_vietnam, today_in_vietnam
from gis_app.errors import InputError
from gis_app.models.relics import in_register
from gis_app.services import conditions, scopes
from gis_app.services.indicators import DIGITISED, FIELD_LABELS, SITE_REQUIRED
from layers.protection_zones import valid_on

RANK_POINTS = {"special_national": 4, "national": 3, "provincial": 2, "inventoried": 1}
UNVERIFIED_RANK_POINTS = 2  # ranked, level not yet verified
# good 0 … ruined 4 (the ordinal scale, best first).
CONDITION_POINTS = {"good": 0, "fair": 1, "poor": 2, "very_poor": 3, "ruined": 4}
WEIGHTS = {
    "no_assessment": 2,       # never assessed: the condition is unknown
    "threat": 1,              # per threat recorded in the latest assessment (at most 3)
    "worsening": 2,           # latest trend "worsening", or worse than the one before
    "not_digitised": 2,       # no digital record with media and metadata
    "incomplete": 1,          # a required field of the record is missing
    "no_zone": 1,             # a ranked relic without a protection zone
    "typical": 3,             # artifact of typical value
    "at_risk": 3,             # artifact at risk
    "treasure": 2,            # national treasure or antiquity
    "not_inventoried": 1,     # artifact without an inventory record this year
    "never_conserved": 1,     # at-risk artifact with no conservation action ever
}
MAX_THREAT_POINTS = 3

# How each reason reads; {placeholders} come from the reason's values.
REASON_TEXT = {
    "rank": {"vi": "Cấp xếp hạng: {rank}", "en": "Rank: {rank}"},
    "no_assessment": {"vi": "Chưa từng được đánh giá hiện trạng",
                      "en": "Condition never assessed"},
    "condition": {"vi": "Hiện trạng {condition} ({on})", "en": "Condition {condition} ({on})"},
    "threats": {"vi": "Nguy cơ: {threats}", "en": "Threats: {threats}"},
    "worsening": {"vi": "Đang xuống cấp", "en": "Getting worse"},
    "not_digitised": {"vi": "Chưa số hóa (chưa có tệp kèm siêu dữ liệu)",
                      "en": "Not digitised (no media with metadata)"},
    "incomplete": {"vi": "Hồ sơ thiếu: {fields}", "en": "Record lacks: {fields}"},
    "no_zone": {"vi": "Di tích xếp hạng chưa có khu vực bảo vệ",
                "en": "Ranked relic without a protection zone"},
    "typical": {"vi": "Hiện vật có giá trị tiêu biểu", "en": "Artifact of typical value"},
    "at_risk": {"vi": "Hiện vật có nguy cơ hư hại", "en": "Artifact at risk"},
    "never_conserved": {"vi": "Chưa từng được bảo quản", "en": "Never conserved"},
    "treasure": {"vi": "Loại: {kind}", "en": "Kind: {kind}"},
    "not_inventoried": {"vi": "Chưa kiểm kê trong năm", "en": "Not inventoried this year"},
    "site_condition": {"vi": "Di tích lưu giữ đang ở hiện trạng {condition}",
                       "en": "Held at a relic in {condition} condition"},
}
VOCABULARY_OF = {"rank": "rank", "condition": "condition", "threats": "threat",
                 "kind": "artifact_kind"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def explain_weight(code: str, lang: str) -> str:
    """A line of the points table: the reason's wording with its points."""
    text_ = REASON_TEXT[code]
    label = (text_.get(lang) or text_["vi"]).format_map(_Blank())
    per = " / " + ("mỗi nguy cơ, tối đa" if lang == "vi" else "per threat, at most") + \
        f" {MAX_THREAT_POINTS}" if code == "threats" else ""
    return f"{label}: +{WEIGHTS['threat' if code == 'threats' else code]}{per}"


def describe(reason: dict[str, Any], lang: str) -> str:
    """A reason as a sentence in `lang`, with vocabulary codes as labels."""
    values = {}
    for key, value in reason["values"].items():
        vocabulary = VOCABULARY_OF.get(key)
        if vocabulary and value is not None:
            labels = vocab.labels(vocabulary, lang)
            items = value if isinstance(value, list) else [value]
            value = ", ".join(labels.get(v, v) for v in items)
        elif key == "rank":
            value = "đã xếp hạng, chưa xác minh cấp" if lang == "vi" else \
                "ranked, level not verified"
        elif key == "fields":
            value = ", ".join(FIELD_LABELS[f][lang != "vi"] if f in FIELD_LABELS else f
                              for f in value)
        elif isinstance(value, list):
            value = ", ".join(value)
        elif isinstance(value, date):
            value = value.strftime("%d/%m/%Y") if lang == "vi" else value.isoformat()
        values[key] = value
    text_ = REASON_TEXT[reason["code"]]
    return (text_.get(lang) or text_["vi"]).format(**values) + f" (+{reason['points']})"

SITES_SQL = f"""
    SELECT s.id, s.heritage_id, s.name_vi, s.rank, s.status, s.sensitive,
           s.admin_unit_id AS unit_id, u.name AS unit_name,
           EXISTS (SELECT 1 FROM digital_records d WHERE d.site_id = s.id
                   AND {DIGITISED}) AS digitised,
           EXISTS (SELECT 1 FROM protection_zones z WHERE z.site_id = s.id
                   AND {valid_on("z", ":today")}) AS has_zone,
           ARRAY[{", ".join(f"CASE WHEN NOT ({c}) THEN '{name}' END"
                            for name, c in SITE_REQUIRED.items())}] AS missing
      FROM sites s LEFT JOIN admin_units u ON u.id = s.admin_unit_id
     WHERE {in_register("s")}"""

ARTIFACTS_SQL = f"""
    SELECT a.id, a.heritage_id, a.name_vi, a.kind, a.typical_value, a.at_risk,
           a.holding_site_id, s.name_vi AS site_name, s.status, s.sensitive,
           s.admin_unit_id AS unit_id, u.name AS unit_name,
           EXISTS (SELECT 1 FROM digital_records d WHERE d.artifact_id = a.id
                   AND {DIGITISED}) AS digitised,
           EXISTS (SELECT 1 FROM artifact_inventory_records r WHERE r.artifact_id = a.id
                   AND r.year = :year AND r.withdrawn_at IS NULL) AS inventoried,
           EXISTS (SELECT 1 FROM conservation_actions c
                    WHERE c.artifact_id = a.id AND c.withdrawn_at IS NULL) AS ever_conserved
      FROM artifacts a
      LEFT JOIN sites s ON s.id = a.holding_site_id
      LEFT JOIN admin_units u ON u.id = s.admin_unit_id"""


def _reason(code: str, points: int, **values: Any) -> dict[str, Any]:
    return {"code": code, "points": points, "values": values}


def _site_reasons(site: dict[str, Any], latest: dict[str, Any] | None,
                  getting_worse: bool) -> list[dict[str, Any]]:
    reasons = []
    if site["rank"] in RANK_POINTS:
        reasons.append(_reason("rank", RANK_POINTS[site["rank"]], rank=site["rank"]))
    else:
        reasons.append(_reason("rank", UNVERIFIED_RANK_POINTS, rank=None))
    if latest is None:
        reasons.append(_reason("no_assessment", WEIGHTS["no_assessment"]))
    else:
        points = CONDITION_POINTS[latest["overall"]]
        if points:
            reasons.append(_reason("condition", points, condition=latest["overall"],
                                   on=latest["assessed_on"]))
        threats = list(latest.get("threats") or [])
        if threats:
            reasons.append(_reason("threats", min(len(threats), MAX_THREAT_POINTS)
                                   * WEIGHTS["threat"], threats=threats))
        if getting_worse:
            reasons.append(_reason("worsening", WEIGHTS["worsening"]))
    if not site["digitised"]:
        reasons.append(_reason("not_digitised", WEIGHTS["not_digitised"]))
    missing = [m for m in site["missing"] if m]
    if missing:
        reasons.append(_reason("incomplete", WEIGHTS["incomplete"], fields=missing))
    if site["rank"] != "inventoried" and not site["has_zone"]:
        reasons.append(_reason("no_zone", WEIGHTS["no_zone"]))
    return reasons


def _artifact_reasons(item: dict[str, Any],
                      site_condition: dict[str, Any] | None) -> list[dict[str, Any]]:
    reasons = []
    if item["typical_value"]:
        reasons.append(_reason("typical", WEIGHTS["typical"]))
    if item["at_risk"]:
        reasons.append(_reason("at_risk", WEIGHTS["at_risk"]))
        if not item["ever_conserved"]:
            reasons.append(_reason("never_conserved", WEIGHTS["never_conserved"]))
    if item["kind"] in ("national_treasure", "antiquity"):
        reasons.append(_reason("treasure", WEIGHTS["treasure"], kind=item["kind"]))
    if not item["digitised"]:
        reasons.append(_reason("not_digitised", WEIGHTS["not_digitised"]))
    if not item["inventoried"]:
        reasons.append(_reason("not_inventoried", WEIGHTS["not_inventoried"]))
    if site_condition is not None and CONDITION_POINTS[site_condition["overall"]]:
        reasons.append(_reason("site_condition", CONDITION_POINTS[site_condition["overall"]],
                               condition=site_condition["overall"]))
    return reasons


# The statuses the list can be filtered by (an artifact has its holding relic's).
STATUS_FILTERS = ("draft", "published")


def check_status(value: str | None) -> str | None:
    """The status filter asked for (None for all); InputError for anything else."""
    if value in (None, ""):
        return None
    if value not in STATUS_FILTERS:
        raise InputError(f"status={value!r}: use status=draft or status=published, or none "
                         "for every record.",
                         f"status={value!r}: dùng status=draft (bản nháp) hoặc "
                         "status=published (đã công bố), hoặc bỏ trống để xem tất cả.")
    return value


def communes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The communes (today's unit of the relic) found in `items`, by name: `unit_id`,
    `name`, `count`."""
    found: dict[int, dict[str, Any]] = {}
    for item in items:
        if item["unit_id"] is not None:
            entry = found.setdefault(item["unit_id"], {"unit_id": item["unit_id"],
                                                       "name": item["unit_name"], "count": 0})
            entry["count"] += 1
    return sorted(found.values(), key=lambda c: c["name"] or "")


def filter_items(items: list[dict[str, Any]], unit_id: int | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:
    """The lines of one commune (`unit_id`) and/or one status, keeping their district
    rank."""
    return [i for i in items
            if (unit_id is None or i["unit_id"] == unit_id)
            and (status is None or i["status"] == status)]


def priority_list(db: Session, year: int | None = None) -> list[dict[str, Any]]:
    """Sites and artifacts, highest score first, each with `score` and `reasons`
    (code, points, values), `status` and `sensitive` (of the relic, or of the relic
    holding the artifact) and `unit_id`/`unit_name` (the relic's commune today). Ties
    are broken by name; `rank` is the place in the whole district's list."""
    year = year or today_in_vietnam().year
    latest = conditions.latest_assessments(db)
    worse = {w["site_id"] for w in conditions.worsening(db)}
    items = []
    params = {"year": year, "year_end": date(year + 1, 1, 1), "today": today_in_vietnam(),
              "year_end_at": start_of_day_in_vietnam(date(year + 1, 1, 1))}
    for site in db.execute(text(SITES_SQL), params).mappings():
        reasons = _site_reasons(dict(site), latest.get(site["id"]), site["id"] in worse)
        items.append({"kind": "site", "id": site["id"], "heritage_id": site["heritage_id"],
                      "name": site["name_vi"], "where": site["unit_name"],
                      "status": site["status"], "sensitive": site["sensitive"],
                      "unit_id": site["unit_id"], "unit_name": site["unit_name"],
                      "reasons": reasons, "score": sum(r["points"] for r in reasons)})
    for item in db.execute(text(ARTIFACTS_SQL), params).mappings():
        reasons = _artifact_reasons(dict(item), latest.get(item["holding_site_id"]))
        where = ", ".join(x for x in (item["site_name"], item["unit_name"]) if x) or None
        items.append({"kind": "artifact", "id": item["id"], "heritage_id": item["heritage_id"],
                      "holding_site_id": item["holding_site_id"],
                      "name": item["name_vi"], "where": where,
                      "status": item["status"], "sensitive": item["sensitive"],
                      "unit_id": item["unit_id"], "unit_name": item["unit_name"],
                      "reasons": reasons, "score": sum(r["points"] for r in reasons)})
    items.sort(key=lambda i: (-i["score"], i["name"], i["heritage_id"]))
    for rank, item in enumerate(items, start=1):
        item["rank"] = rank
    return items


def visible_to(db: Session, user: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items of `priority_list` a user may see (the one scope rule, services.scopes):
    district reviewers and admins every line; a commune editor the relics their scope
    covers today and the artifacts held there (their conditions, drafts and sensitive
    relics are not another commune's to read). District ranks are kept."""
    params = scopes.bind(user)
    if params.get("full"):
        return items
    site_ids = sorted({i["id"] for i in items if i["kind"] == "site"}
                      | {i["holding_site_id"] for i in items
                         if i["kind"] == "artifact" and i.get("holding_site_id")})
    if not site_ids:
        return []
    covered = set(db.scalars(text(f"""
        SELECT s.id FROM sites s WHERE s.id = ANY(:ids)
           AND {scopes.covers_site_on("s.id", "CAST(:today AS date)")}"""),
        {**params, "ids": site_ids, "today": today_in_vietnam()}))
    return [i for i in items
            if (i["id"] if i["kind"] == "site" else i.get("holding_site_id")) in covered]
