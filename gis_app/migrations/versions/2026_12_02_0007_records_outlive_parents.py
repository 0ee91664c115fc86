"""deleting a relic, artifact or intangible heritage never deletes other people's work

Revision ID: 0007_records_outlive_parents
Revises: 0006_survey_codes
Create Date: 2026-12-02 10:00:00

Undoing an import deleted the relics it created, and ON DELETE CASCADE then removed the
zones, condition assessments, photos, digital records and artifacts' records others had
added to them later; the append-only trigger on assessments let a cascade through. Now
those foreign keys RESTRICT (the delete fails and the undo names what depends on what)
and the trigger refuses every DELETE of an assessment, cascaded or not.

`site_admin_units` keeps its CASCADE: its rows are derived from the relic's location and
the dated units, and mean nothing without the relic.
"""
from alembic import op

revision = '0007_records_outlive_parents'
down_revision = '0006_survey_codes'
branch_labels = None
depends_on = None

# (table, column, referenced table, ON DELETE before this revision)
FOREIGN_KEYS = (
    ("condition_assessments", "site_id", "sites", "CASCADE"),
    ("condition_photos", "assessment_id", "condition_assessments", "CASCADE"),
    ("digital_records", "site_id", "sites", "CASCADE"),
    ("digital_records", "artifact_id", "artifacts", "CASCADE"),
    ("digital_records", "intangible_id", "intangible_heritage", "CASCADE"),
    ("protection_zones", "site_id", "sites", "CASCADE"),
    ("landscapes", "site_id", "sites", "SET NULL"),
    ("facilities", "site_id", "sites", "SET NULL"),
    ("environment_notes", "site_id", "sites", "CASCADE"),
    ("heritage_events", "site_id", "sites", "CASCADE"),
    ("heritage_events", "intangible_id", "intangible_heritage", "CASCADE"),
    ("intangible_sites", "site_id", "sites", "CASCADE"),
    ("intangible_sites", "intangible_id", "intangible_heritage", "CASCADE"),
    ("intangible_artisans", "intangible_id", "intangible_heritage", "CASCADE"),
    ("artifact_inventory_records", "artifact_id", "artifacts", "CASCADE"),
    ("conservation_actions", "artifact_id", "artifacts", "CASCADE"),
)

APPEND_ONLY = """
    CREATE OR REPLACE FUNCTION condition_assessment_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'condition assessments are never overwritten or deleted, not even '
                        'with their relic: assessment % is kept', OLD.id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RAISE EXCEPTION 'condition assessments are never overwritten: record a new assessment '
                      'that supersedes assessment %', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
"""

# As 0004 created it: UPDATE refused; DELETE only when it cascades from a deleted site.
APPEND_ONLY_0004 = """
    CREATE OR REPLACE FUNCTION condition_assessment_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'condition assessments are never overwritten: record a new assessment '
                      'that supersedes assessment %', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
"""


def _set_on_delete(on_delete: str | None) -> None:
    for table, column, referred, before in FOREIGN_KEYS:
        name = f"fk_{table}_{column}_{referred}"
        action = on_delete or before
        # One statement per table: the constraint is never missing in between.
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} "
                   f"FOREIGN KEY ({column}) REFERENCES {referred} (id) ON DELETE {action}")


def upgrade() -> None:
    _set_on_delete("RESTRICT")
    op.execute(APPEND_ONLY)


def downgrade() -> None:
    op.execute(APPEND_ONLY_0004)
    _set_on_delete(None)
