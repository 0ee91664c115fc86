"""What a commune editor's scope covers: the one rule, as SQL fragments every query uses.

A commune editor is given administrative units (`user_scopes`) of any date, today's or
former ones. The scope covers a relic ON A DATE when, on that date, the relic was
(`site_admin_units`, bounds inclusive) in:
- a scoped unit;
- a unit that succeeded a scoped unit (`admin_unit_successions`, step after step), from
  the succession date on: a scope on a former commune follows it into the commune it
  was merged into, and covers that commune's relics from the merger on;
- a unit a scoped unit succeeded (step after step), at any date: a scope on today's
  commune covers the former communes merged into it.

District reviewers and admins are not limited and the public sees nothing: `bind(user)`
turns the acting user into the bind values `:full` and `:scope_user` the fragments use.
Moving a relic between communes without a succession (a boundary correction) is not a
succession: an editor of the new commune sees it from the move on only.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_app.services.features import FULL_ACCESS_ROLES

MAX_STEPS = 10  # reorganisations followed at most (guards against a cycle in the data)

# The units the scope of user :scope_user covers, each from `covers_from` on (NULL: at
# any date).
SCOPE_UNITS = f"""
    WITH RECURSIVE
      later (unit_id, covers_from, depth) AS (
        SELECT us.admin_unit_id, CAST(NULL AS date), 0
          FROM user_scopes us WHERE us.user_id = :scope_user
        UNION ALL
        SELECT s.new_unit_id, greatest(l.covers_from, s.effective), l.depth + 1
          FROM later l JOIN admin_unit_successions s ON s.old_unit_id = l.unit_id
         WHERE l.depth < {MAX_STEPS}),
      earlier (unit_id, depth) AS (
        SELECT us.admin_unit_id, 0 FROM user_scopes us WHERE us.user_id = :scope_user
        UNION ALL
        SELECT s.old_unit_id, e.depth + 1
          FROM earlier e JOIN admin_unit_successions s ON s.new_unit_id = e.unit_id
         WHERE e.depth < {MAX_STEPS})
    SELECT unit_id,
           CASE WHEN bool_or(covers_from IS NULL) THEN NULL ELSE min(covers_from) END
             AS covers_from
      FROM (SELECT unit_id, covers_from FROM later
            UNION ALL SELECT unit_id, NULL FROM earlier) AS steps
     GROUP BY unit_id"""


# The relics the scope of :scope_user covers and when, as one value computed once per
# statement: {"site id": "{[from,to],...}"} (a datemultirange as text). Checking a row
# is then a lookup. (An EXISTS over SCOPE_UNITS per row made PostgreSQL recompute the
# recursive part for every row: 1 s instead of a few ms for 6,000 assessments.)
SCOPE_SITES = f"""(SELECT jsonb_object_agg(c.site_id, CAST(c.covered AS text)) FROM (
        SELECT sau.site_id,
               range_agg(daterange(greatest(sau.valid_from, w.covers_from), sau.valid_to,
                                   '[]')) AS covered
          FROM site_admin_units sau JOIN ({SCOPE_UNITS}) AS w ON w.unit_id = sau.admin_unit_id
         WHERE sau.valid_to IS NULL OR w.covers_from IS NULL OR w.covers_from <= sau.valid_to
         GROUP BY sau.site_id) AS c)"""


def covers_site_on(site: str, on: str) -> str:
    """SQL: the user's scope covers relic `site` (an SQL expression giving a sites.id) on
    the date `on` (an SQL date expression or a bind like ``CAST(:today AS date)``), or the
    user has full access. Binds :full and :scope_user (see `bind`). Use it in a
    statement's own WHERE, not inside a correlated sub-select (it would be recomputed
    for every outer row)."""
    return (f"(CAST(:full AS boolean) OR CAST({SCOPE_SITES} ->> CAST({site} AS text) "
            f"AS datemultirange) @> CAST({on} AS date))")


def covers_site_ever(site: str) -> str:
    """SQL: the user's scope covers relic `site` on some date (or full access). Binds
    :full and :scope_user."""
    return f"(CAST(:full AS boolean) OR ({SCOPE_SITES} ->> CAST({site} AS text)) IS NOT NULL)"


def bind(user: Any | None) -> dict[str, Any]:
    """Bind values for the fragments: None = no filter (the caller decided: reports built
    for the whole district); district reviewers and admins: everything; a commune
    editor: their scope; anyone else: nothing."""
    role = getattr(user, "role", None)
    if user is None or role in FULL_ACCESS_ROLES:
        return {"full": True, "scope_user": -1}
    if role == "commune_editor":
        return {"full": False, "scope_user": int(user.id)}
    return {"full": False, "scope_user": -1}


def covered_units(db: Session, user_id: int) -> list[dict[str, Any]]:
    """The units user `user_id`'s scope covers, for showing it: id, code, name, level,
    valid_from, valid_to, covers_from (None: at any date) and `scoped` (given directly,
    not through a succession). Today's units first, then former ones, newest first."""
    return [dict(r) for r in db.execute(text(f"""
        SELECT u.id, u.code, u.name, u.level, u.valid_from, u.valid_to, w.covers_from,
               EXISTS (SELECT 1 FROM user_scopes us
                        WHERE us.user_id = :scope_user AND us.admin_unit_id = u.id) AS scoped
          FROM ({SCOPE_UNITS}) w JOIN admin_units u ON u.id = w.unit_id
         ORDER BY u.valid_to IS NOT NULL, u.valid_to DESC, u.name, u.valid_from"""),
        {"scope_user": user_id}).mappings()]
