"""The officials' relic layer "as of" a date beside today's: how long one GeoJSON page
takes when relics must be rebuilt from their revisions.

In one transaction that is rolled back (nothing stays), on a migrated database of the
private cluster (default `heritage_test`, or `--database NAME`): N synthetic relics
created 10 days ago, renamed 5 days ago and moved yesterday (3 revisions each). Then
times the sites layer (the statement the API runs) for the district and for a 1 km box:
today without as_of, as of today (no relic changed since: read as they are) and as of
3 days ago (every relic moved since: all rebuilt from revisions).

    .venv/bin/python bench/layers_as_of.py [--sites 10000] [--database heritage_test]
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gis_app.clock import start_of_day_in_vietnam, today_in_vietnam  # noqa: E402
from gis_app.config import private_cluster_url  # noqa: E402
from gis_app.services import features  # noqa: E402
from layers import get_layer  # noqa: E402

HID = "'VN-HY-DT-' || lpad((700000 + g)::text, 6, '0')"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--database", default="heritage_test")
    args = parser.parse_args()
    engine = create_engine(private_cluster_url(args.database))
    with engine.connect() as c:
        c.begin()
        n = {"n": args.sites}
        c.execute(text(f"INSERT INTO heritage_identifiers (id, kind) "
                       f"SELECT {HID}, 'site' FROM generate_series(1, :n) g"), n)
        c.execute(text(f"""
            INSERT INTO sites (heritage_id, name_vi, types, geom, status)
            SELECT {HID}, 'Bench ' || g, ARRAY['historical'],
                   ST_SetSRID(ST_MakePoint(105.9 + random() * 0.1, 20.8 + random() * 0.1),
                              4326), 'published'
              FROM generate_series(1, :n) g"""), n)
        for days, change in ((10, None), (5, "name_vi = name_vi || ' (1)'"),
                             (1, "geom = ST_Translate(geom, 0.0001, 0)")):
            if change:
                c.execute(text(f"UPDATE sites SET {change} "
                               f"WHERE heritage_id >= 'VN-HY-DT-700000'"))
            c.execute(text("UPDATE revisions SET changed_at = now() - make_interval(days => :d)"
                           " WHERE changed_at = now()"), {"d": days})
        c.execute(text("ANALYZE revisions"))
        c.execute(text("ANALYZE sites"))
        layer, today = get_layer("sites"), today_in_vietnam()
        revisions = c.scalar(text("SELECT count(*) FROM revisions "
                                  "WHERE table_name = 'sites'"))
        print(f"{args.sites} synthetic relics, {revisions} relic revisions")
        for label, box in (("district", features.BBox(105.9, 20.8, 106.0, 20.9)),
                           ("1 km box", features.BBox(105.95, 20.85, 105.96, 20.86))):
            for when, back in (("today", None), ("as of today", 0),
                               ("as of 3 days ago", 3)):
                sql = text(features.geojson_sql(layer, box, "admin", back is not None))
                day = today - timedelta(days=back or 0)  # back None: no as_of
                params = {"minx": box.minx, "miny": box.miny, "maxx": box.maxx,
                          "maxy": box.maxy, "limit": 5000, "offset": 0, "next": "",
                          "today": day,
                          "as_of_moment": start_of_day_in_vietnam(day + timedelta(days=1))}
                c.execute(sql, params)
                start = time.perf_counter()
                for _ in range(5):
                    size = len(c.execute(sql, params).scalar_one())
                ms = (time.perf_counter() - start) / 5 * 1000
                print(f"{label:9} {when:17} {ms:7.0f} ms  {size / 1000:7.0f} kB")
        c.rollback()
    engine.dispose()


if __name__ == "__main__":
    main()
