"""A relic's administrative units, from its location and the dated units.

Units are never typed by hand: `assign_units` reads where a relic stands and writes

- `sites.admin_unit_id`: today's commune (or ward, or town) whose shape covers the point,
  valid on today's date in Vietnam;
- `site_admin_units`: every dated commune-level unit that contained the point over time,
  with the unit's own validity (valid_from, valid_to).

A unit with a shape contains the point when its shape covers it (ST_Covers: a point on a
border belongs to both sides). A unit without a shape is followed through
`admin_unit_successions`: a successor without a shape of a unit that contained the point
contained it too (a merger keeps the area of what it merges), and a predecessor without a
shape of a unit that contains the point contained it when it is the only predecessor
that can have (every other predecessor has a shape that does not cover the point).

The importer, the demo loader and the editor call it inside their own transaction; the
rows it writes get revisions like any other change (linked to an import when the caller
set one with `audit.set_import`).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.clock import today_in_vietnam

log = logging.getLogger(__name__)

COMMUNE_LEVELS = ("commune", "ward", "town")
MAX_STEPS = 10  # reorganisations followed from one unit

# (site_id, unit_id) for every commune-level unit that ever contained each relic.
CONTAINING_UNITS = """
    WITH RECURSIVE target AS (
        SELECT id, geom FROM sites WHERE id = ANY(:ids)),
    seed AS (
        SELECT t.id AS site_id, u.id AS unit_id
          FROM target t
          JOIN admin_units u ON u.level = ANY(:levels) AND u.geom IS NOT NULL
                            AND ST_Covers(u.geom, t.geom)),
    forward (site_id, unit_id, depth) AS (
        SELECT site_id, unit_id, 0 FROM seed
        UNION ALL
        SELECT f.site_id, n.id, f.depth + 1
          FROM forward f
          JOIN admin_unit_successions s ON s.old_unit_id = f.unit_id
          JOIN admin_units n ON n.id = s.new_unit_id
         WHERE n.geom IS NULL AND n.level = ANY(:levels) AND f.depth < :steps),
    backward (site_id, unit_id, depth) AS (
        SELECT site_id, unit_id, 0 FROM seed
        UNION ALL
        SELECT b.site_id, p.id, b.depth + 1
          FROM backward b
          JOIN admin_unit_successions s ON s.new_unit_id = b.unit_id
          JOIN admin_units p ON p.id = s.old_unit_id
          JOIN target t ON t.id = b.site_id
         WHERE p.geom IS NULL AND p.level = ANY(:levels) AND b.depth < :steps
           AND NOT EXISTS (
               SELECT 1 FROM admin_unit_successions o
                 JOIN admin_units ou ON ou.id = o.old_unit_id
                WHERE o.new_unit_id = b.unit_id AND o.old_unit_id <> p.id
                  AND (ou.geom IS NULL OR ST_Covers(ou.geom, t.geom))))
    SELECT DISTINCT site_id, unit_id FROM forward
    UNION
    SELECT DISTINCT site_id, unit_id FROM backward"""


def containing_units(db: Session, site_ids: list[int]) -> list[dict[str, Any]]:
    """Every commune-level unit that contained each relic over time: site_id, unit_id,
    valid_from, valid_to (of the unit), ordered by site and date."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT c.site_id, c.unit_id, u.valid_from, u.valid_to
          FROM ({CONTAINING_UNITS}) c JOIN admin_units u ON u.id = c.unit_id
         ORDER BY c.site_id, u.valid_from, u.id"""),
        {"ids": site_ids, "levels": list(COMMUNE_LEVELS), "steps": MAX_STEPS}).mappings()]


def assign_units(db: Session, site_ids: Iterable[int], today: date | None = None
                 ) -> dict[str, int]:
    """Set the relics' commune of today and their dated communes from their locations.

    Idempotent: rows already right are left alone (no revision), rows no longer right
    (the relic moved, the units were redrawn) are corrected. A relic outside every
    commune of today gets no `admin_unit_id`. `today` defaults to today in Vietnam.
    Returns counts: sites_changed, units_added, units_changed, units_removed.
    """
    ids = sorted({int(i) for i in site_ids})
    if not ids:
        return {"sites_changed": 0, "units_added": 0, "units_changed": 0, "units_removed": 0}
    on = today or today_in_vietnam()
    wanted = containing_units(db, ids)
    params = {"ids": ids,
              "w_site": [w["site_id"] for w in wanted],
              "w_unit": [w["unit_id"] for w in wanted],
              "w_from": [w["valid_from"] for w in wanted],
              "w_to": [w["valid_to"] for w in wanted]}
    wanted_sql = ("SELECT * FROM unnest(CAST(:w_site AS integer[]), CAST(:w_unit AS integer[]),"
                  " CAST(:w_from AS date[]), CAST(:w_to AS date[])) "
                  "AS w(site_id, unit_id, valid_from, valid_to)")
    removed = db.execute(text(f"""
        DELETE FROM site_admin_units h
         WHERE h.site_id = ANY(:ids)
           AND NOT EXISTS (SELECT 1 FROM ({wanted_sql}) w
                            WHERE w.site_id = h.site_id AND w.unit_id = h.admin_unit_id)"""),
        params).rowcount
    changed = db.execute(text(f"""
        UPDATE site_admin_units h SET valid_from = w.valid_from, valid_to = w.valid_to
          FROM ({wanted_sql}) w
         WHERE w.site_id = h.site_id AND w.unit_id = h.admin_unit_id
           AND (h.valid_from, h.valid_to) IS DISTINCT FROM (w.valid_from, w.valid_to)"""),
        params).rowcount
    added = db.execute(text(f"""
        INSERT INTO site_admin_units (site_id, admin_unit_id, valid_from, valid_to)
        SELECT w.site_id, w.unit_id, w.valid_from, w.valid_to FROM ({wanted_sql}) w
         WHERE NOT EXISTS (SELECT 1 FROM site_admin_units h
                            WHERE h.site_id = w.site_id AND h.admin_unit_id = w.unit_id)
         ORDER BY w.site_id, w.valid_from"""), params).rowcount
    # Today's unit: the one valid today (a point on a border: the lowest id, stable).
    sites_changed = db.execute(text(f"""
        UPDATE sites s SET admin_unit_id = cur.unit_id
          FROM (SELECT t.id, c.unit_id
                  FROM unnest(CAST(:ids AS integer[])) AS t(id)
                  LEFT JOIN (SELECT DISTINCT ON (w.site_id) w.site_id, w.unit_id
                               FROM ({wanted_sql}) w
                              WHERE w.valid_from <= :today
                                AND (w.valid_to IS NULL OR w.valid_to >= :today)
                              ORDER BY w.site_id, w.unit_id) c ON c.site_id = t.id) cur
         WHERE s.id = cur.id AND s.admin_unit_id IS DISTINCT FROM cur.unit_id"""),
        {**params, "today": on}).rowcount
    counts = {"sites_changed": sites_changed, "units_added": added,
              "units_changed": changed, "units_removed": removed}
    log.info("administrative units of %d relics assigned: %s", len(ids), counts)
    return counts


def current_communes(db: Session) -> list[dict[str, Any]]:
    """Today's communes, wards and towns (id, name), by name: the choices of a filter."""
    return [dict(r) for r in db.execute(text("""
        SELECT id, name FROM admin_units
         WHERE level IN ('commune', 'ward', 'town') AND valid_to IS NULL
         ORDER BY name""")).mappings()]
