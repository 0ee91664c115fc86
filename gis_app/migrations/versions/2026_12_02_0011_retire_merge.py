"""relics end retired (with reason and decision) or merged into another

Revision ID: 0011_retire_merge
Revises: 0005_record_indexes
Create Date: 2026-12-02 23:40:00

A retired relic keeps its row and identifier: its page answers 410 with the reason. A
merged duplicate keeps its row too, pointing at the survivor (301): the assessments,
photos, artifacts and links that were attached to it move to the survivor. Moving an
assessment is the one UPDATE the append-only rule lets through, only inside a merge
(transaction setting gis.merge = 'on') and only of site_id.
"""
import sqlalchemy as sa
from alembic import op

revision = '0011_retire_merge'
down_revision = '0010_form_submissions'
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('draft', 'published', 'archived')"
NEW_STATUS = "status IN ('draft', 'published', 'archived', 'retired', 'merged')"

APPEND_ONLY_WITH_MERGE = """
    CREATE OR REPLACE FUNCTION condition_assessment_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'condition assessments are never overwritten or deleted, not even '
                        'with their relic: assessment % is kept', OLD.id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF current_setting('gis.merge', true) = 'on'
         AND (to_jsonb(NEW) - 'site_id') = (to_jsonb(OLD) - 'site_id') THEN
        RETURN NEW;  -- a merge moves the assessment to the surviving relic, nothing else
      END IF;
      RAISE EXCEPTION 'condition assessments are never overwritten: record a new assessment '
                      'that supersedes assessment %', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
"""

# As 0007 left it: no UPDATE, no DELETE at all.
APPEND_ONLY_0007 = APPEND_ONLY_WITH_MERGE.replace("""
      IF current_setting('gis.merge', true) = 'on'
         AND (to_jsonb(NEW) - 'site_id') = (to_jsonb(OLD) - 'site_id') THEN
        RETURN NEW;  -- a merge moves the assessment to the surviving relic, nothing else
      END IF;""", "")


def upgrade() -> None:
    op.drop_constraint(op.f('ck_sites_status_allowed'), 'sites', type_='check')
    op.create_check_constraint(op.f('ck_sites_status_allowed'), 'sites', NEW_STATUS)
    op.add_column('sites', sa.Column('retired_on', sa.Date(), nullable=True))
    op.add_column('sites', sa.Column('retired_reason', sa.Text(), nullable=True))
    op.add_column('sites', sa.Column('retired_decision', sa.Text(), nullable=True))
    op.add_column('sites', sa.Column('merged_into_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_sites_merged_into_id_sites'), 'sites', 'sites',
                          ['merged_into_id'], ['id'])
    op.create_check_constraint(
        op.f('ck_sites_ended_with_reason'), 'sites',
        "(status <> 'retired' OR (retired_reason IS NOT NULL AND retired_on IS NOT NULL)) "
        "AND (status <> 'merged' OR merged_into_id IS NOT NULL)")
    op.execute(APPEND_ONLY_WITH_MERGE)


def downgrade() -> None:
    op.execute(APPEND_ONLY_0007)
    op.execute("UPDATE sites SET status = 'archived' WHERE status IN ('retired', 'merged')")
    op.drop_constraint(op.f('ck_sites_ended_with_reason'), 'sites', type_='check')
    op.drop_constraint(op.f('fk_sites_merged_into_id_sites'), 'sites', type_='foreignkey')
    for column in ('merged_into_id', 'retired_decision', 'retired_reason', 'retired_on'):
        op.drop_column('sites', column)
    op.drop_constraint(op.f('ck_sites_status_allowed'), 'sites', type_='check')
    op.create_check_constraint(op.f('ck_sites_status_allowed'), 'sites', OLD_STATUS)
