"""A small hand-built history shared by the officials' tests: two communes (one merged
away on 1 July 2025), three relics, six artifacts, inventory, conservation and
digitisation over 2024–2026, two nationally listed intangible heritages and condition
assessments. Every expected figure in the tests is worked out by hand from this file."""
from __future__ import annotations

from datetime import date

from sqlalchemy import text

from tests.factories import make_admin_unit, make_site, place_site

_artifact_no = iter(range(800001, 899999))


def _artifact(db, site_id: int, name: str, *, typical: bool = False,
              at_risk: bool = False) -> int:
    hid = f"VN-HY-HV-{next(_artifact_no):06d}"
    db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:h, 'artifact')"),
               {"h": hid})
    return db.execute(text("""
        INSERT INTO artifacts (heritage_id, name_vi, kind, holding_site_id, typical_value,
                               at_risk)
        VALUES (:h, :n, 'object', :s, :t, :r) RETURNING id"""),
        {"h": hid, "n": name, "s": site_id, "t": typical, "r": at_risk}).scalar_one()


def _inventory(db, artifact: int, year: int) -> None:
    db.execute(text("""INSERT INTO artifact_inventory_records (artifact_id, year, inventoried_on)
                       VALUES (:a, :y, :d)"""), {"a": artifact, "y": year,
                                                  "d": date(year, 6, 1)})


def _conserve(db, artifact: int, kind: str, on: str) -> None:
    db.execute(text("""INSERT INTO conservation_actions (artifact_id, kind, performed_on)
                       VALUES (:a, :k, :d)"""), {"a": artifact, "k": kind, "d": on})


def _digitise(db, *, created: str, metadata: str | None = '{"title": "x"}',
              **target: int) -> None:
    column, value = next(iter(target.items()))
    db.execute(text(f"""
        INSERT INTO digital_records ({column}, media_type, uri, metadata, created_at)
        VALUES (:v, 'image/jpeg', 'x.jpg', CAST(:m AS jsonb), CAST(:c AS timestamptz))"""),
        {"v": value, "m": metadata, "c": created})


def build_history(db) -> dict:
    """Commune An Thử (until 30/6/2025, then merged into Tân Thử) and Bình Thử.

    Sites: S1 in An Thử then Tân Thử, complete and published; S2 in Bình Thử, published
    but without materials; S3 in Bình Thử, complete but a draft. The demo's relics are
    archived in this transaction so the district figures are this history's alone.
    """
    db.execute(text("UPDATE sites SET status = 'archived'"))
    db.execute(text("UPDATE intangible_heritage SET national_listing_date = NULL"))
    an = make_admin_unit(db, "T-AN", "An Thử", valid_from="1999-01-01", valid_to="2025-06-30")
    binh = make_admin_unit(db, "T-BINH", "Bình Thử", valid_from="1999-01-01")
    tan = make_admin_unit(db, "T-TAN", "Tân Thử", valid_from="2025-07-01")
    sites = {}
    for key, lon in (("S1", 105.95), ("S2", 105.96), ("S3", 105.97)):
        sites[key] = make_site(db, lon, 20.85, name=f"Đình {key}", zone_radius_m=None)
    s1 = place_site(db, sites["S1"], an, valid_from="1999-01-01", valid_to="2025-06-30",
                    current=False)
    place_site(db, sites["S1"], tan, valid_from="2025-07-01")
    s2 = place_site(db, sites["S2"], binh, valid_from="1999-01-01")
    s3 = place_site(db, sites["S3"], binh, valid_from="1999-01-01")
    db.execute(text("UPDATE sites SET period = 'Thời Nguyễn', materials = 'Gỗ lim', "
                    "description_vi = 'Mô tả' WHERE id IN (:a, :b, :c)"),
               {"a": s1, "b": s2, "c": s3})
    db.execute(text("UPDATE sites SET materials = NULL WHERE id = :b"), {"b": s2})
    db.execute(text("UPDATE sites SET status = 'draft' WHERE id = :c"), {"c": s3})
    # Artifacts: four at S1, two at S2.
    a = {name: _artifact(db, site, name, typical=typical, at_risk=risk)
         for name, site, typical, risk in (
             ("Sắc phong 1", s1, True, True), ("Sắc phong 2", s1, True, False),
             ("Bia đá", s1, False, True), ("Chuông đồng", s1, False, False),
             ("Kiệu", s2, True, True), ("Hoành phi", s2, False, False))}
    for name in ("Sắc phong 1", "Sắc phong 2", "Bia đá"):
        _inventory(db, a[name], 2024)
    for name in ("Sắc phong 1", "Kiệu", "Hoành phi", "Chuông đồng", "Bia đá"):
        _inventory(db, a[name], 2025)
    _conserve(db, a["Sắc phong 1"], "preventive", "2024-03-01")
    _conserve(db, a["Bia đá"], "remedial", "2024-09-09")
    _conserve(db, a["Kiệu"], "preventive", "2025-02-02")
    _conserve(db, a["Hoành phi"], "preventive", "2025-12-31")
    _conserve(db, a["Kiệu"], "remedial", "2026-01-01")  # next year: not in 2025
    _digitise(db, created="2024-05-05 10:00+07", artifact_id=a["Sắc phong 1"])
    _digitise(db, created="2025-08-08 10:00+07", artifact_id=a["Kiệu"])
    _digitise(db, created="2024-01-01 10:00+07", artifact_id=a["Sắc phong 2"], metadata=None)
    # Intangible: one listed in 2023 (digitised 2025) at S1 and S2; one listed in 2025.
    ich = []
    for n, listed in ((1, "2023-04-01"), (2, "2025-03-01")):
        hid = f"VN-HY-PVT-{880000 + n:06d}"
        db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:h, 'intangible')"),
                   {"h": hid})
        ich.append(db.execute(text("""
            INSERT INTO intangible_heritage (heritage_id, name_vi, ich_type,
                                             national_listing_decision_no,
                                             national_listing_date, status)
            VALUES (:h, :n, 'traditional_festival', 'QĐ thử', :d, 'published')
            RETURNING id"""), {"h": hid, "n": f"Lễ hội {n}", "d": listed}).scalar_one())
    for site in (s1, s2):
        db.execute(text("INSERT INTO intangible_sites (intangible_id, site_id) VALUES (:i, :s)"),
                   {"i": ich[0], "s": site})
    db.execute(text("INSERT INTO intangible_sites (intangible_id, site_id) VALUES (:i, :s)"),
               {"i": ich[1], "s": s2})
    _digitise(db, created="2025-10-10 10:00+07", intangible_id=ich[0])
    # Condition: S1 fair (2024) then poor with damp and termites (2025); S2 good (2025).
    for site, on, overall, threats, trend in (
            (s1, "2024-04-01", "fair", [], "stable"),
            (s1, "2025-05-01", "poor", ["damp", "termites"], "worsening"),
            (s2, "2025-06-01", "good", [], "stable")):
        db.execute(text("""
            INSERT INTO condition_assessments (site_id, assessed_on, overall, threats, trend,
                                               assessor_name)
            VALUES (:s, :d, :o, CAST(:t AS text[]), :tr, 'Tổ kiểm tra')"""),
            {"s": site, "d": on, "o": overall, "t": threats, "tr": trend})
    db.flush()
    return {"units": {"an": an, "binh": binh, "tan": tan}, "artifacts": a,
            "sites": {"S1": s1, "S2": s2, "S3": s3}}


