"""The Alembic revisions upgrade, downgrade and upgrade again on a scratch database, and
the database enforces what it can."""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from gis_app.services import migrations
from tests.conftest import fresh_database
from tests.factories import make_site


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade():
    # Named after the test database so parallel checkouts do not share it.
    url = fresh_database(os.environ.get("GIS_TEST_DB", "heritage_test") + "_migrations")
    migrations.upgrade(url)
    created = _tables(url)
    assert {"sites", "protection_zones", "admin_units", "revisions", "users"} <= created
    migrations.downgrade(url, "base")
    assert _tables(url) <= {"alembic_version", "spatial_ref_sys"}
    migrations.upgrade(url)
    assert _tables(url) == created


def test_every_geometry_column_has_srid_4326_and_a_gist_index(db):
    columns = db.execute(text("""
        SELECT f_table_name, f_geometry_column, srid FROM geometry_columns
         WHERE f_table_schema = 'public'""")).all()
    assert len(columns) >= 7
    for table, column, srid in columns:
        assert srid == 4326, table
        indexed = db.scalar(text("""
            SELECT count(*) FROM pg_indexes
             WHERE tablename = :t AND indexdef ILIKE '%USING gist%' AND indexdef LIKE :c"""),
            {"t": table, "c": f"%({column})%"})
        assert indexed == 1, f"{table}.{column} has no GIST index"


def test_invalid_geometry_is_refused(db):
    hid = make_site(db, 105.95, 20.85, zone_radius_m=None)
    bowtie = "MULTIPOLYGON(((105.95 20.85,105.96 20.86,105.96 20.85,105.95 20.86,105.95 20.85)))"
    with pytest.raises(IntegrityError, match="geom_valid"), db.begin_nested():
        db.execute(text("""
            INSERT INTO protection_zones (site_id, zone, geom)
            SELECT id, 'I', ST_GeomFromText(:w, 4326) FROM sites WHERE heritage_id = :h"""),
            {"w": bowtie, "h": hid})


def test_wrong_srid_and_unknown_zone_are_refused(db):
    hid = make_site(db, 105.95, 20.85, zone_radius_m=None)
    square = "MULTIPOLYGON(((0 0,0 1,1 1,1 0,0 0)))"
    with pytest.raises(DBAPIError, match="SRID"), db.begin_nested():
        db.execute(text("""INSERT INTO protection_zones (site_id, zone, geom)
                           SELECT id, 'I', ST_GeomFromText(:w, 9209) FROM sites
                            WHERE heritage_id = :h"""), {"w": square, "h": hid})
    with pytest.raises(IntegrityError, match="zone_allowed"), db.begin_nested():
        db.execute(text("""INSERT INTO protection_zones (site_id, zone, geom)
                           SELECT id, 'III', ST_GeomFromText(:w, 4326) FROM sites
                            WHERE heritage_id = :h"""), {"w": square, "h": hid})


def test_heritage_identifiers_are_unique_and_permanent(db):
    hid = make_site(db, 105.95, 20.85, zone_radius_m=None)
    with pytest.raises(IntegrityError), db.begin_nested():
        db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES (:h, 'site')"),
                   {"h": hid})
    db.execute(text("DELETE FROM sites WHERE heritage_id = :h"), {"h": hid})
    with pytest.raises(IntegrityError, match="permanent"), db.begin_nested():
        db.execute(text("DELETE FROM heritage_identifiers WHERE id = :h"), {"h": hid})
    with pytest.raises(IntegrityError, match="format"), db.begin_nested():
        db.execute(text("INSERT INTO heritage_identifiers (id, kind) VALUES ('X-1', 'site')"))


def test_changes_are_recorded_as_revisions_with_the_actor(db):
    hid = make_site(db, 105.95, 20.85, zone_radius_m=None)
    user_id = db.scalar(text("""INSERT INTO users (username, password_hash, role)
                                VALUES ('rev', 'x', 'admin') RETURNING id"""))
    db.execute(text("SELECT set_config('gis.actor_id', :u, true)"), {"u": str(user_id)})
    db.execute(text("UPDATE sites SET name_vi = 'Đình mới' WHERE heritage_id = :h"), {"h": hid})
    rev = db.execute(text("""
        SELECT r.action, r.actor_id, r.before->>'name_vi' AS old, r.after->>'name_vi' AS new
          FROM revisions r JOIN sites s ON r.row_id = s.id::text
         WHERE r.table_name = 'sites' AND s.heritage_id = :h
         ORDER BY r.id DESC LIMIT 1"""), {"h": hid}).one()
    assert rev == ("update", user_id, "Đình thử nghiệm", "Đình mới")
    leaked = db.scalar(text("SELECT count(*) FROM revisions WHERE table_name = 'users' "
                            "AND after ? 'password_hash'"))
    assert leaked == 0


def test_reports_stored_before_links_get_an_unguessable_token():
    url = fresh_database(os.environ.get("GIS_TEST_DB", "heritage_test") + "_migrations")
    migrations.upgrade(url, "0018_import_jobs_presets")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for number in (1, 2):
                conn.execute(text("""
                    INSERT INTO zone_checks (id, reference, on_date, parcel, result, data_version)
                    VALUES (:n, :r, '2026-11-30', ST_GeomFromText('POINT(105.95 20.85)', 4326),
                            '{}', 1)"""), {"n": number, "r": f"KTBV-2026-{number:06d}"})
        migrations.upgrade(url)
        with engine.connect() as conn:
            tokens = conn.execute(text("SELECT token FROM zone_checks ORDER BY id")).scalars().all()
        assert len(set(tokens)) == 2
        assert all(re.fullmatch(r"[0-9a-f]{32}", token) for token in tokens)
        migrations.downgrade(url, "0018_import_jobs_presets")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM zone_checks")).scalar() == 2
    finally:
        engine.dispose()
