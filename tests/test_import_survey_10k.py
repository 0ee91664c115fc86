"""Issue 17: a district survey of 10,000 relics and 20,000 zones (VN-2000 shapefiles,
UTF-8, relics numbered by the survey, the commonest values of real relic lists) goes in
through the command line with the two presets and no hand mapping."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.survey_generator import Survey, write_survey

N = 10_000


@pytest.fixture(scope="module")
def survey(tmp_path_factory: pytest.TempPathFactory) -> Survey:
    return write_survey(tmp_path_factory.mktemp("survey10k"), N)


def test_cli_imports_a_10k_relic_survey_and_its_zones_without_hand_mapping(
        runner, db: Session, survey: Survey) -> None:
    relics = runner.invoke(args=["import", str(survey.relics), "--layer", "sites",
                                 "--preset", "khao-sat-di-tich"])
    assert relics.exit_code == 0, relics.output[-3000:]
    assert f"{N} read, {N} inserted, 0 updated" in relics.output
    stored = {code: (list(types), rank) for code, types, rank in db.execute(text(
        "SELECT survey_code, types, rank FROM sites WHERE name_vi LIKE '% khảo sát số %'"))}
    assert stored == survey.expected
    # The commonest values are there, as the survey wrote them.
    ranks = Counter(rank for _types, rank in stored.values())
    assert ranks["inventoried"] > N * 0.4

    zones = runner.invoke(args=["import", str(survey.zones), "--layer", "protection_zones",
                                "--preset", "khoanh-vung-bao-ve"])
    assert zones.exit_code == 0, zones.output[-3000:]
    assert f"{2 * N} read, {2 * N} inserted" in zones.output
    linked = db.execute(text("""
        SELECT count(*) FILTER (WHERE z.zone = 'I'), count(*) FILTER (WHERE z.zone = 'II'),
               count(*) FILTER (WHERE NOT ST_Intersects(s.geom, ST_ConvexHull(z.geom)))
          FROM protection_zones z JOIN sites s ON s.id = z.site_id
         WHERE s.name_vi LIKE '% khảo sát số %'""")).one()
    # Each relic has its zones I and II, and each zone surrounds its own relic.
    assert tuple(linked) == (N, N, 0)
