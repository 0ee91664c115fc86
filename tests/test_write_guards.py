"""Every write endpoint refuses a commune editor of ANOTHER commune (403) and the public
(sent to sign in, or 401), and nothing changes in the database.

The endpoints are discovered from the app's URL map (every rule accepting POST, PUT,
PATCH or DELETE), not listed: an endpoint added later is covered without touching this
file. A route's arguments get real ids of records in commune A (Triệu Việt Vương, 12223),
made by the test; the acting editor's scope is another commune (12238). An argument name
the test does not know fails with what to add to `ids`. The body is the same for every
endpoint: a valid CSRF token, a one-time form token, and fields that point at commune A
(its relic, a position inside it), so a refusal comes from the guard and not from a
missing field.

Endpoints legitimately open to others are listed in `OPEN` with the reason; endpoints
that refuse with another status than 403 in `DEVIATIONS`, with the status and reason.
"""
from __future__ import annotations

import json
import re
import uuid

import pytest
from shapely.geometry import Point, mapping
from sqlalchemy import text
from werkzeug.routing import AnyConverter, IntegerConverter, Map

from gis_app import create_app
from gis_app.config import Config
from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from gis_app.services.identifiers import mint_identifier
from tests.conftest import AuthActions
from tests.factories import make_assessment, make_site

PASSWORD = "a long enough password"
COMMUNE_A, OTHER_COMMUNE = "12223", "12238"
IN_A = (105.9563, 20.8400)  # inside commune A today
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# endpoint -> who may use it and why (the rest is refused to both).
OPEN = {
    "auth.login": ("public", "signing in is open to everyone"),
    "auth.logout": ("public", "signing out ends only the caller's own session"),
    "api_zone_check.check": ("public", "the zone check is a public tool; it writes no record"),
    "planning.upload": ("public", "a planner's parcel file, read for the planner only"),
    "planning_reports.create_report": ("public", "a planner's own zone-check report"),
    "planning_reports.bulk_run": ("public", "a planner's own bulk zone check"),
    "planning_reports.repeat_report": ("public", "a planner repeats their own report"),
    "kinds.shape_file": ("official", "reads an uploaded shape back for the map; saves "
                                     "nothing and names no record"),
    "officials.report_pdf_retry": ("official", "asks again for the district's annual "
                                               "report PDF every official may open, only "
                                               "after a failed job; names no record"),
}
# Refused, with nothing changed, but not with 403 (other helpers' pages, to align): the
# status they answer an editor of another commune today. The test fails when one starts
# answering 403, so that its entry is removed.
DEVIATIONS = {
}
# Record tables a refused request must leave as they were (form drafts, sign-in attempts
# and one-time tokens are the request machinery, not records).
TABLES = ("sites", "protection_zones", "change_proposals", "users", "user_scopes",
          "artifacts", "artifact_inventory_records", "conservation_actions",
          "condition_assessments", "assessment_withdrawals", "digital_records", "imports",
          "intangible_heritage", "landscapes", "facilities", "heritage_identifiers",
          "restores", "organisations", "heritage_events", "intangible_artisans",
          "intangible_sites", "people", "import_presets", "jobs")


def _write_rules() -> list:
    app = create_app(Config(DATABASE_URL="postgresql+psycopg://discover@127.0.0.1:1/none",
                            SECRET_KEY="discover", TESTING=True))
    rules = [r for r in app.url_map.iter_rules() if r.methods & WRITE_METHODS]
    return sorted(rules, key=lambda r: r.rule)


RULES = _write_rules()
CASES = [(who, rule) for who in ("other_commune", "public") for rule in RULES
         if OPEN.get(rule.endpoint, (None,))[0] != "public"]


def _snapshot(db) -> dict:
    out = {"revisions": db.scalar(text("SELECT coalesce(max(id), 0) FROM revisions"))}
    for table in TABLES:  # identifiers from the list above only
        out[table] = db.scalar(text(
            f"SELECT md5(coalesce(string_agg(to_jsonb(t)::text, '' ORDER BY to_jsonb(t)::text),"
            f" '')) FROM {table} t"))
    return out


@pytest.fixture
def commune_a(db) -> dict:
    """Records of commune A, one of each kind a route names, and their ids by argument."""
    hid = make_site(db, *IN_A, name="Đình Xã Khác")
    draft = make_site(db, IN_A[0] + 0.0004, IN_A[1], name="Miếu Nháp Xã Khác",
                      status="draft")
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    draft_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": draft})
    assign_units(db, [site_id, draft_id])
    editor = create_user(db, "guard-editor-a", PASSWORD, "commune_editor",
                         unit_codes=[COMMUNE_A])
    proposal_id = db.scalar(text("""
        INSERT INTO change_proposals (record_kind, record_id, author_id, changes)
        VALUES ('site', :s, :u, '{"period": [null, "Thời Lê"]}') RETURNING id"""),
        {"s": site_id, "u": editor.id})
    assessment_id = make_assessment(db, site_id, "2025-06-01", "fair")
    artifact_id = db.scalar(text("""
        INSERT INTO artifacts (heritage_id, name_vi, kind, holding_site_id)
        VALUES (:h, 'Bia đá xã khác', 'relic_object', :s) RETURNING id"""),
        {"h": mint_identifier(db, "artifact"), "s": site_id})
    record_id = db.scalar(text("""
        INSERT INTO digital_records (site_id, media_type, uri, credit)
        VALUES (:s, 'image/png', 'sites/guard.png', 'Ảnh xã khác') RETURNING id"""),
        {"s": site_id})
    ich_id = db.scalar(text("""
        SELECT i.intangible_id FROM intangible_sites i JOIN sites s ON s.id = i.site_id
         JOIN admin_units u ON u.id = s.admin_unit_id WHERE u.code = :a
         ORDER BY 1 LIMIT 1"""), {"a": COMMUNE_A}) or db.scalar(text(
             "SELECT min(id) FROM intangible_heritage"))
    facility_id = db.scalar(text("""
        INSERT INTO facilities (site_id, kind, name_vi, geom)
        VALUES (:s, (SELECT min(code) FROM facility_kinds), 'Nhà bia xã khác',
                ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"""),
        {"s": site_id, "x": IN_A[0], "y": IN_A[1]})
    person_id = db.scalar(text(
        "INSERT INTO people (full_name) VALUES ('Nghệ nhân xã khác') RETURNING id"))
    event_id = None
    if ich_id is not None:
        db.execute(text("""INSERT INTO intangible_artisans (intangible_id, person_id)
                           VALUES (:i, :p)"""), {"i": ich_id, "p": person_id})
        event_id = db.scalar(text("""
            INSERT INTO heritage_events (intangible_id, site_id, name_vi, lunar_month,
                                         lunar_day)
            VALUES (:i, :s, 'Lễ hội xã khác', 1, 10) RETURNING id"""),
            {"i": ich_id, "s": site_id})
    import_id = db.scalar(text("""
        INSERT INTO imports (layer, file_name, checksum, size_bytes, options, counts, report,
                             actor_id)
        VALUES ('sites', 'xa-khac.geojson', repeat('0', 64), 10, '{}', '{}', '{}', :u)
        RETURNING id"""), {"u": editor.id})
    db.flush()
    return {"heritage_id": hid, "site_id": site_id, "proposal_id": proposal_id,
            "assessment_id": assessment_id, "artifact_id": artifact_id,
            "record_id": record_id, "ich_id": ich_id, "import_id": import_id,
            "user_id": editor.id, "draft": draft, "feature_id": facility_id,
            "person_id": person_id, "event_id": event_id, "relic": hid,
            # Imports are the district's: refused by role before any upload or job is
            # looked up, so any well-formed token and id will do.
            "token": "a" * 32, "job_id": 1, "year": 2025}


def _url(rule, ids: dict) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name == "action":
            values[name] = "remove"
        elif name == "reference":
            values[name] = "KC-0000"
        else:
            assert name in ids, (f"{rule.rule}: no id of commune A for <{name}>; add one to "
                                 f"the commune_a fixture of tests/test_write_guards.py")
            values[name] = ids[name]
            if isinstance(converter, IntegerConverter):
                assert isinstance(values[name], int), name
    adapter = Map([rule.empty()]).bind("localhost")
    return adapter.build(rule.endpoint, values)


def _body(ids: dict, token: str) -> dict:
    """Fields that point at commune A, for whichever form the endpoint reads."""
    lon, lat = IN_A
    zone = Point(lon, lat).buffer(0.001)
    return {
        "csrf_token": token, "form_token": str(uuid.uuid4()),
        "name_vi": "Bản ghi trái phép", "types": "historical", "kind": "relic_object",
        "holding_site_id": str(ids["site_id"]), "site_id": str(ids["site_id"]),
        "heritage_ids": ids["heritage_id"], "ids": str(ids["site_id"]),
        "relic": ids["heritage_id"],
        "position_mode": "wgs84", "lon": str(lon), "lat": str(lat),
        "zone": "II", "geometry": json.dumps(mapping(zone)), "valid_from": "2026-01-01",
        "reason": "Không có quyền", "comment": "Không có quyền", "decision": "1/QĐ",
        "into": ids["draft"], "as_of": "2025-01-01", "action": "retire",
        "overall": "good", "assessed_on": "2026-01-01", "assessor_name": "Người lạ",
        "role": "admin", "password": "another long enough password",
        "username": "guard-intruder", "title": "Ảnh lạ", "year": "2026",
    }


def test_the_open_endpoints_exist_and_the_rest_are_guarded():
    endpoints = {r.endpoint for r in RULES}
    assert set(OPEN) | set(DEVIATIONS) <= endpoints, set(OPEN) | set(DEVIATIONS) - endpoints
    assert {r.endpoint for _who, r in CASES} == endpoints - {
        e for e, (who, _why) in OPEN.items() if who == "public"}
    assert len(CASES) >= 25


@pytest.mark.parametrize(("who", "rule"), CASES,
                         ids=[f"{who}-{rule.endpoint}" for who, rule in CASES])
def test_every_write_endpoint_refuses_another_commune_and_the_public(
        app, client, db, commune_a, who, rule):
    auth = AuthActions(client)
    if who == "other_commune":
        create_user(db, "guard-elsewhere", PASSWORD, "commune_editor",
                    unit_codes=[OTHER_COMMUNE])
        assert auth.login("guard-elsewhere", PASSWORD).status_code == 302
        token = auth.csrf("/officials/relics/new")
    else:
        token = auth.csrf("/login")
    url = _url(rule, commune_a)
    before = _snapshot(db)
    method = sorted(rule.methods & WRITE_METHODS)[0]
    answer = client.open(url, method=method, data=_body(commune_a, token))
    body = answer.get_data(as_text=True)
    if who == "public":
        assert answer.status_code == 401 or (
            answer.status_code in (302, 303)
            and re.search(r"/login(\?|$)", answer.headers["Location"])), \
            f"{method} {url}: {answer.status_code} {answer.headers.get('Location')}"
    else:
        if OPEN.get(rule.endpoint, (None,))[0] == "official":
            assert answer.status_code < 500 and answer.status_code != 200, (
                f"{method} {url}: {answer.status_code}")
            expected = answer.status_code
        else:
            expected = DEVIATIONS.get(rule.endpoint, (403,))[0]
        assert answer.status_code == expected, f"{method} {url}: {answer.status_code}"
    assert "Traceback" not in body
    assert _snapshot(db) == before, f"{method} {url} changed the database"
