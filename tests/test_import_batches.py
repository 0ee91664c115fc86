"""Issue 16, import speed. The importer converts each batch of features at once (each
distinct cell value once, geometries as whole arrays): the same file imported one
feature per batch, where every cell and shape goes through on its own, must store
exactly the same rows and write exactly the same revisions. And an import leaves the
planner fresh statistics (ANALYZE)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.importers import reader
from gis_app.importers.pipeline import ImportOptions, run_import
from tests.survey_generator import write_survey

N = 150  # relics; twice as many zones
# Columns that differ between two imports of the same file by construction: ids from
# sequences, the import named in `source`, the time of writing.
VARYING = ("id", "site_id", "heritage_id", "source", "created_at", "updated_at")


def _import_survey(db: Session, folder: Path) -> dict[str, Any]:
    """Import the relics and the zones; what they stored and the revisions they wrote,
    with relics known by their survey code, then undo it all (a savepoint)."""
    savepoint = db.begin_nested()
    survey = write_survey(folder, N)
    relics = run_import(db, survey.relics, ImportOptions(layer="sites",
                                                         preset="khao-sat-di-tich"))
    zones = run_import(db, survey.zones, ImportOptions(layer="protection_zones",
                                                       preset="khoanh-vung-bao-ve"))
    drop = "".join(f" - '{column}'" for column in VARYING)
    revisions = db.execute(text(f"""
        SELECT r.table_name, r.action, s.survey_code, r.after {drop} AS after
          FROM revisions r
          JOIN sites s ON s.id = coalesce((r.after ->> 'site_id')::int,
                                          CASE WHEN r.table_name = 'sites'
                                               THEN r.row_id::int END)
         WHERE r.import_id IN (:relics, :zones)
         ORDER BY r.table_name, s.survey_code, (r.after {drop})::text"""),
        {"relics": relics.import_id, "zones": zones.import_id}).all()
    stored = db.execute(text("""
        SELECT s.survey_code, s.name_vi, s.types, s.rank, s.status, ST_AsEWKB(s.geom),
               z.zone, z.decision_no, z.accuracy, z.valid_from, ST_AsEWKB(z.geom)
          FROM sites s JOIN protection_zones z ON z.site_id = s.id
         WHERE s.source = :source ORDER BY s.survey_code, z.zone"""),
        {"source": f"import #{relics.import_id}: {survey.relics.name}"}).all()
    # The examples of decoded text are the first few met, which depends on the order
    # cells are visited in: any decoded cells will do. Timings vary.
    samples = [s for result in (relics, zones) for s in result.report["encoding"]["samples"]]
    reports = [{k: v for k, v in result.report.items() if k not in ("timings", "encoding")}
               | {"encoding": {**result.report["encoding"], "samples": None}}
               for result in (relics, zones)]
    counts = [relics.counts, zones.counts]
    savepoint.rollback()
    return {"revisions": revisions, "stored": stored, "reports": reports, "counts": counts,
            "samples": samples}


def test_a_survey_imported_in_batches_stores_what_it_stores_feature_by_feature(
        db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    batched = _import_survey(db, tmp_path / "batched")
    monkeypatch.setattr(reader, "BATCH", 1)
    one_by_one = _import_survey(db, tmp_path / "one-by-one")

    assert len(batched["stored"]) == 2 * N
    assert {row.table_name for row in batched["revisions"]} == {
        "sites", "site_admin_units", "protection_zones"}
    assert batched["counts"] == one_by_one["counts"]
    assert batched["stored"] == one_by_one["stored"]
    assert batched["revisions"] == one_by_one["revisions"]
    assert batched["reports"] == one_by_one["reports"]
    for run in (batched, one_by_one):
        assert run["samples"] and all(
            s["after"] == s["before"].encode("latin-1").decode("utf-8") != s["before"]
            for s in run["samples"])


def test_an_import_leaves_fresh_statistics_for_the_planner(
        runner, db: Session, tmp_path: Path) -> None:
    survey = write_survey(tmp_path, 40)
    for path, layer, preset in ((survey.relics, "sites", "khao-sat-di-tich"),
                                (survey.zones, "protection_zones", "khoanh-vung-bao-ve")):
        result = runner.invoke(args=["import", str(path), "--layer", layer,
                                     "--preset", preset])
        assert result.exit_code == 0, result.output[-2000:]
    # ANALYZE at the end of each import: the planner's row estimate is the table's size
    # at once, not whatever autovacuum last saw.
    for table in ("sites", "protection_zones"):
        estimated, counted = db.execute(text(
            f"SELECT reltuples, (SELECT count(*) FROM {table}) FROM pg_class "
            f"WHERE oid = '{table}'::regclass")).one()
        assert estimated == counted
