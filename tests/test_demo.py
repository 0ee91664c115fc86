"""The demo set: loaded once, never duplicated, honest about its accuracy."""
from __future__ import annotations

from sqlalchemy import text

from gis_app.services.demo import load_demo

TABLES = ("admin_units", "sites", "protection_zones", "landscapes", "facilities",
          "basemap_features", "intangible_heritage", "revisions")


def _counts(db) -> dict[str, int]:
    return {t: db.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def test_loading_the_demo_again_changes_nothing(db, runner):
    before = _counts(db)
    assert before["sites"] >= 2 and before["protection_zones"] >= 2 * before["sites"]
    assert load_demo(db) == {}
    result = runner.invoke(args=["demo", "load"])
    assert "already loaded; nothing changed" in result.output
    assert _counts(db) == before


def test_demo_geometry_is_labelled_approximate(db):
    for table in ("sites", "protection_zones", "landscapes", "facilities"):
        labels = set(db.scalars(text(f"SELECT DISTINCT accuracy FROM {table}")))
        assert labels == {"approximate"}, table


def test_every_demo_site_lies_in_its_zone_i_inside_its_zone_ii(db):
    rows = db.execute(text("""
        SELECT s.heritage_id,
               bool_and(ST_Contains(z1.geom, s.geom)) AS in_zone_i,
               bool_and(ST_Covers(z2.geom, z1.geom)) AS i_in_ii
          FROM sites s
          JOIN protection_zones z1 ON z1.site_id = s.id AND z1.zone = 'I'
          JOIN protection_zones z2 ON z2.site_id = s.id AND z2.zone = 'II'
         GROUP BY s.heritage_id""")).all()
    assert len(rows) == db.scalar(text("SELECT count(*) FROM sites"))
    assert all(r.in_zone_i and r.i_in_ii for r in rows)


def test_communes_before_and_after_the_2025_merger(db):
    khoai_chau = db.execute(text("""
        SELECT n.name, array_agg(o.name ORDER BY o.name) AS merged
          FROM admin_unit_successions x
          JOIN admin_units n ON n.id = x.new_unit_id
          JOIN admin_units o ON o.id = x.old_unit_id
         WHERE n.name = 'Khoái Châu' AND n.valid_to IS NULL
         GROUP BY n.name""")).one()
    assert sorted(khoai_chau.merged) == sorted(["Khoái Châu", "Liên Khê", "Phùng Hưng",
                                                 "Đông Kết"])
    old = db.scalar(text("SELECT count(*) FROM admin_units WHERE level IN ('commune', 'town') "
                         "AND valid_to = '2025-06-30'"))
    assert old >= 20


def test_search_folds_vietnamese_diacritics(db):
    found = db.scalars(text("""
        SELECT name_vi FROM sites
         WHERE lower(f_unaccent(name_vi)) LIKE '%' || lower(f_unaccent(:q)) || '%'"""),
        {"q": "Da Hoa"}).all()
    assert found == ["Đền Đa Hòa"]


def test_site_keeps_its_units_through_each_reorganisation(client, db):
    history = db.execute(text("""
        SELECT u.name, h.valid_from, h.valid_to
          FROM site_admin_units h
          JOIN admin_units u ON u.id = h.admin_unit_id
          JOIN sites s ON s.id = h.site_id
         WHERE s.name_vi = 'Đền Dạ Trạch'
         ORDER BY h.valid_from""")).all()
    assert [row.name for row in history] == ["Dạ Trạch", "Phạm Hồng Thái", "Triệu Việt Vương"]
    for before, after in zip(history, history[1:]):
        assert (after.valid_from - before.valid_to).days == 1  # no gap, no overlap
    assert history[-1].valid_to is None
    hid = db.scalar(text("SELECT heritage_id FROM sites WHERE name_vi = 'Đền Dạ Trạch'"))
    page = client.get(f"/sites/{hid}").get_data(as_text=True)
    assert "Triệu Việt Vương" in page and "Phạm Hồng Thái" in page
