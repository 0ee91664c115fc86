"""Commune editors propose new protection zone versions (services/zone_proposals.py,
web/zones.py, the review pages of web/editor.py): the public keeps the zone in force
until a district reviewer approves the proposal from its diff (fields and both outlines);
a draft relic's zone is saved directly; approval is refused when the zone changed since.
Through the real sign-in, CSRF and forms."""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from pyproj import Transformer
from shapely.geometry import Polygon, mapping
from sqlalchemy import text

from gis_app.clock import today_in_vietnam
from gis_app.errors import PermissionDenied
from gis_app.services import zone_proposals
from gis_app.services.accounts import create_user
from gis_app.services.admin_units import assign_units
from tests.conftest import AuthActions
from tests.factories import make_site

PASSWORD = "a long enough password"
LON, LAT = 105.9563, 20.8400  # inside today's commune Triệu Việt Vương (12223)
TO_UTM = Transformer.from_crs(4326, 32648, always_xy=True)
TO_LONLAT = Transformer.from_crs(32648, 4326, always_xy=True)


def square(cx: float, cy: float, half: float) -> Polygon:
    """A square of side 2 * half metres centred cx, cy metres east/north of the relic."""
    x, y = TO_UTM.transform(LON, LAT)
    return Polygon([TO_LONLAT.transform(x + cx + sx * half, y + cy + sy * half)
                    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))])


def relic_with_zones(db, status: str = "published") -> str:
    """A relic of commune 12223 whose zones I (100 m square) and II (300 m) are in force
    since 1 Jan 2020 under decision 12/QĐ-UBND."""
    hid = make_site(db, LON, LAT, name="Đình Đề Xuất Ranh Giới", status=status,
                    zone_radius_m=None)
    site_id = db.scalar(text("SELECT id FROM sites WHERE heritage_id = :h"), {"h": hid})
    assign_units(db, [site_id])
    for zone, half in (("I", 50), ("II", 150)):
        db.execute(text("""
            INSERT INTO protection_zones (site_id, zone, geom, decision_no, decision_date,
                                          valid_from, accuracy)
            VALUES (:s, :z, ST_Multi(ST_GeomFromText(:g, 4326)), '12/QĐ-UBND',
                    DATE '2019-12-20', DATE '2020-01-01', 'surveyed')"""),
            {"s": site_id, "z": zone, "g": square(0, 0, half).wkt})
    db.flush()
    return hid


def signed_in(app, db, name: str, role: str, *units: str):
    create_user(db, name, PASSWORD, role, unit_codes=units)
    client = app.test_client()
    assert AuthActions(client).login(name, PASSWORD).status_code == 302
    return client


def tokens(html: str) -> dict[str, str]:
    out = {"csrf_token": re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"',
                                   html).group(1)}
    once = re.search(r'name="form_token" value="([^"]+)"', html)
    if once:
        out["form_token"] = once.group(1)
    return out


def chain(db, hid: str, zone: str) -> list[dict]:
    return [dict(r) for r in db.execute(text("""
        SELECT z.id, z.valid_from, z.valid_to, z.decision_no, z.source
          FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.heritage_id = :h AND z.zone = :z ORDER BY z.valid_from"""),
        {"h": hid, "z": zone}).mappings()]


def hits(client, parcel: Polygon, on: date | None = None) -> set[tuple[str, str]]:
    query = f"?date={on.isoformat()}" if on else ""
    answer = client.post(f"/api/zone-check{query}", json=mapping(parcel))
    assert answer.status_code == 200, answer.get_json()
    return {(h["heritage_id"], h["zone"]) for h in answer.get_json()["results"][0]["hits"]}


def propose(editor, hid: str, shape: Polygon, valid_from: date, **extra):
    page = editor.get(f"/officials/relics/{hid}/zones")
    assert page.status_code == 200
    return editor.post(f"/officials/relics/{hid}/zones", data={
        **tokens(page.get_data(as_text=True)), "zone": "II",
        "geometry": json.dumps(mapping(shape)), "decision_no": "45/QĐ-UBND",
        "decision_date": (valid_from - timedelta(days=2)).isoformat(),
        "valid_from": valid_from.isoformat(), "accuracy": "digitised", **extra})


def test_a_proposed_zone_waits_for_the_reviewer_and_goes_live_when_approved(app, client, db):
    hid = relic_with_zones(db)
    today = today_in_vietnam()
    new_ii = square(250, 0, 200)  # further east: a parcel 130 m west was in the old only
    west_parcel, east_parcel = square(-130, 0, 10), square(400, 0, 10)
    editor = signed_in(app, db, "zp-editor", "commune_editor", "12223")

    page = editor.get(f"/officials/relics/{hid}/zones").get_data(as_text=True)
    assert "Gửi đề xuất phiên bản mới" in page
    assert "công chúng vẫn thấy khu vực đang có hiệu lực" in page
    answer = propose(editor, hid, new_ii, today, note="Theo quyết định mới của tỉnh")
    assert answer.status_code == 303
    proposal_id = int(re.search(r"/officials/review/(\d+)$", answer.headers["Location"])[1])
    shown = editor.get(answer.headers["Location"]).get_data(as_text=True)
    assert f"đã được gửi (số {proposal_id})" in shown and "Chờ duyệt" in shown

    # Nothing changed for anyone yet: one version of zone II, the public sees the old.
    assert [v["decision_no"] for v in chain(db, hid, "II")] == ["12/QĐ-UBND"]
    assert (hid, "II") in hits(client, west_parcel)
    assert (hid, "II") not in hits(client, east_parcel)
    site_page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "12/QĐ-UBND" in site_page and "45/QĐ-UBND" not in site_page

    # The reviewer's queue lists it beside relic proposals; the diff shows both outlines.
    reviewer = signed_in(app, db, "zp-reviewer", "district_reviewer")
    queue = reviewer.get("/officials/review").get_data(as_text=True)
    item = queue[queue.index(f'data-proposal="{proposal_id}"'):]
    assert "Đình Đề Xuất Ranh Giới" in item[:600]
    assert "Khu vực bảo vệ II (ranh giới)" in item[:600]
    diff = reviewer.get(f"/officials/review/{proposal_id}").get_data(as_text=True)
    assert "Theo quyết định mới của tỉnh" in diff
    rows = dict(re.findall(r'<tr data-field="(\w+)">.*?<td class="after"><ins>([^<]*)</ins>',
                           diff, re.DOTALL))
    assert rows["decision_no"] == "45/QĐ-UBND"
    assert rows["valid_from"] == today.strftime("%d/%m/%Y")
    areas = {}
    for side in ("before", "after"):
        found = re.search(rf'<tr data-field="area_m2">.*?<td class="{side}"><(?:del|ins)>'
                          r'([\d.]+) m²<', diff, re.DOTALL)
        areas[side] = int(found[1].replace(".", ""))  # Vietnamese thousands: 90.000
    truth = db.execute(text("""
        SELECT ST_Area(geom_before::geography), ST_Area(geom_after::geography)
          FROM change_proposals WHERE id = :p"""), {"p": proposal_id}).one()
    assert abs(areas["before"] - truth[0]) <= 1 and abs(areas["after"] - truth[1]) <= 1
    assert abs(areas["after"] - 400 * 400) < 0.01 * 400 * 400
    config = json.loads(re.search(r'id="editor-map-config">(.*?)</script>', diff,
                                  re.DOTALL)[1])
    assert config["zone_before"]["type"] == config["zone_after"]["type"] == "MultiPolygon"

    done = reviewer.post(f"/officials/review/{proposal_id}/approve", data=tokens(diff))
    assert done.status_code == 303
    assert "Đã duyệt" in reviewer.get(done.headers["Location"]).get_data(as_text=True)

    # Live now, as a new dated version saved under the reviewer; the old one stays.
    old, new = chain(db, hid, "II")
    assert (old["valid_to"], new["valid_from"], new["decision_no"]) == \
        (today - timedelta(days=1), today, "45/QĐ-UBND")
    assert f"#{proposal_id}" in new["source"] and "zp-editor" in new["source"]
    actor = db.scalar(text("""
        SELECT u.username FROM revisions r JOIN users u ON u.id = r.actor_id
         WHERE r.table_name = 'protection_zones' AND r.row_id = :id AND r.action = 'insert'"""),
        {"id": str(new["id"])})
    assert actor == "zp-reviewer"
    assert (hid, "II") not in hits(client, west_parcel)
    assert (hid, "II") in hits(client, east_parcel)
    assert (hid, "II") in hits(client, west_parcel, today - timedelta(days=30))
    assert "45/QĐ-UBND" in client.get(f"/sites/{hid}").get_data(as_text=True)
    mine = editor.get("/officials/proposals").get_data(as_text=True)
    assert "Được duyệt" in mine or "Đã duyệt" in mine


def test_a_draft_relics_zone_is_saved_directly_by_its_commune_editor(app, db):
    hid = relic_with_zones(db, status="draft")
    editor = signed_in(app, db, "zp-editor", "commune_editor", "12223")
    page = editor.get(f"/officials/relics/{hid}/zones").get_data(as_text=True)
    assert "Lưu phiên bản mới" in page and "Gửi đề xuất phiên bản mới" not in page
    answer = propose(editor, hid, square(0, 0, 180), today_in_vietnam())
    assert answer.status_code == 303 and "/zones" in answer.headers["Location"]
    assert [v["decision_no"] for v in chain(db, hid, "II")] == ["12/QĐ-UBND", "45/QĐ-UBND"]
    assert db.scalar(text("SELECT count(*) FROM change_proposals WHERE record_kind = 'zone' "
                          "AND record_id = (SELECT id FROM sites WHERE heritage_id = :h)"),
                     {"h": hid}) == 0


def test_approval_is_refused_when_the_zone_changed_since(app, db):
    hid = relic_with_zones(db)
    today = today_in_vietnam()
    editor = signed_in(app, db, "zp-editor", "commune_editor", "12223")
    answer = propose(editor, hid, square(0, 0, 200), today - timedelta(days=3))
    proposal_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    # Meanwhile a reviewer saves another zone II directly.
    reviewer = signed_in(app, db, "zp-reviewer", "district_reviewer")
    direct = propose(reviewer, hid, square(0, 0, 170), today - timedelta(days=1))
    assert direct.status_code == 303
    diff = reviewer.get(f"/officials/review/{proposal_id}").get_data(as_text=True)
    assert "Khu vực này đã có phiên bản mới sau khi đề xuất được gửi" in diff
    refused = reviewer.post(f"/officials/review/{proposal_id}/approve", data=tokens(diff))
    shown = reviewer.get(refused.headers["Location"]).get_data(as_text=True)
    assert "đã có phiên bản mới sau khi đề xuất này được gửi" in shown
    assert len(chain(db, hid, "II")) == 2
    assert db.scalar(text("SELECT status FROM change_proposals WHERE id = :p"),
                     {"p": proposal_id}) == "pending"
    # Sent back with a comment, the author reads it.
    back = reviewer.post(f"/officials/review/{proposal_id}/return",
                         data={**tokens(diff), "comment": "Hãy vẽ lại trên ranh giới mới"})
    assert back.status_code == 303
    assert "Hãy vẽ lại trên ranh giới mới" in editor.get("/officials/proposals").get_data(
        as_text=True)


def test_a_second_pending_proposal_for_the_same_zone_is_refused(app, db):
    hid = relic_with_zones(db)
    editor = signed_in(app, db, "zp-editor", "commune_editor", "12223")
    first = propose(editor, hid, square(0, 0, 200), today_in_vietnam())
    proposal_id = int(first.headers["Location"].rsplit("/", 1)[1])
    again = propose(editor, hid, square(0, 0, 210), today_in_vietnam())
    assert again.status_code == 400
    assert f"đang chờ duyệt (số {proposal_id}) cho khu vực này" in again.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other_commune", "public"])
def test_other_communes_and_the_public_may_not_propose(app, client, db, who):
    hid = relic_with_zones(db)
    if who == "other_commune":
        actor = signed_in(app, db, "zp-elsewhere", "commune_editor", "12238")
        token = tokens(actor.get("/officials/relics/new").get_data(as_text=True))
        assert actor.get(f"/officials/relics/{hid}/zones").status_code == 403
        assert f"/officials/relics/{hid}/zones" not in actor.get(f"/sites/{hid}").get_data(
            as_text=True)
    else:
        actor = client
        token = {"csrf_token": AuthActions(client).csrf("/login")}
    data = {**token, "zone": "II", "valid_from": today_in_vietnam().isoformat(),
            "geometry": json.dumps(mapping(square(0, 0, 200)))}
    for answer in (actor.post(f"/officials/relics/{hid}/zones", data=data),
                   actor.post(f"/officials/relics/{hid}/zones/upload", data=token)):
        if who == "public":
            assert answer.status_code in (302, 303) and "/login" in answer.headers["Location"]
        else:
            assert answer.status_code == 403
    assert len(chain(db, hid, "II")) == 1
    assert db.scalar(text("SELECT count(*) FROM change_proposals WHERE record_kind = 'zone'"
                          " AND record_id = (SELECT id FROM sites WHERE heritage_id = :h)"),
                     {"h": hid}) == 0


def test_the_service_refuses_a_commune_editor_outside_their_commune(db):
    hid = relic_with_zones(db)
    outsider = create_user(db, "zp-outsider", PASSWORD, "commune_editor", unit_codes=["12238"])
    with pytest.raises(PermissionDenied, match="not in a commune of your account"):
        zone_proposals.submit_version(db, outsider, hid, zone="II", geometry=square(0, 0, 200),
                                      valid_from=today_in_vietnam())
