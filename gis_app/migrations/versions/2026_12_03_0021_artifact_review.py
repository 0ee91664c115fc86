"""artifacts are reviewed and can be kept off public pages; their records are corrected
or withdrawn, never deleted

Revision ID: 0021_artifact_review
Revises: 0024_user_sessions
Create Date: 2026-12-03 04:00:00

- `artifacts.approved_at/approved_by`: a commune editor's new or edited artifact waits
  (NULL) until a district reviewer approves it; `review_comment` is the reviewer's note
  when sending it back. Artifacts that exist are approved as of now (they were public).
- `artifacts.public` (default true): false keeps an artifact off public pages.
- Inventory records and conservation actions: a correction is an UPDATE whose
  `correction_reason` the revision keeps; a withdrawal (`withdrawn_at/by/reason`) leaves
  the row for officials and out of every count. One live inventory record per artifact
  and year: a withdrawn year can be recorded again.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_artifact_review'
down_revision = '0024_user_sessions'
branch_labels = None
depends_on = None

RECORDS = ('artifact_inventory_records', 'conservation_actions')


def upgrade() -> None:
    op.add_column('artifacts', sa.Column('approved_at', sa.DateTime(timezone=True),
                                         server_default=sa.text('now()')))
    op.add_column('artifacts', sa.Column('approved_by', sa.Integer(), nullable=True))
    op.add_column('artifacts', sa.Column('review_comment', sa.Text()))
    op.add_column('artifacts', sa.Column('public', sa.Boolean(), nullable=False,
                                         server_default=sa.text('true')))
    op.create_foreign_key(op.f('fk_artifacts_approved_by_users'), 'artifacts', 'users',
                          ['approved_by'], ['id'], ondelete='SET NULL')
    for table in RECORDS:
        op.add_column(table, sa.Column('correction_reason', sa.Text()))
        op.add_column(table, sa.Column('withdrawn_at', sa.DateTime(timezone=True)))
        op.add_column(table, sa.Column('withdrawn_by', sa.Integer(), nullable=True))
        op.add_column(table, sa.Column('withdrawn_reason', sa.Text()))
        op.create_foreign_key(op.f(f'fk_{table}_withdrawn_by_users'), table, 'users',
                              ['withdrawn_by'], ['id'], ondelete='SET NULL')
        op.create_check_constraint(
            op.f(f'ck_{table}_withdrawal_has_reason'), table,
            "withdrawn_at IS NULL OR length(btrim(withdrawn_reason)) > 0")
    op.drop_constraint('artifact_year', 'artifact_inventory_records', type_='unique')
    op.create_index('uq_artifact_inventory_live_year', 'artifact_inventory_records',
                    ['artifact_id', 'year'], unique=True,
                    postgresql_where=sa.text('withdrawn_at IS NULL'))


def downgrade() -> None:
    # Without the columns a withdrawn record would count again (and could break the old
    # one-per-year rule): it goes; the revisions keep it.
    for table in RECORDS:
        op.execute(f"DELETE FROM {table} WHERE withdrawn_at IS NOT NULL")
    op.drop_index('uq_artifact_inventory_live_year', table_name='artifact_inventory_records')
    op.create_unique_constraint('artifact_year', 'artifact_inventory_records',
                                ['artifact_id', 'year'])
    for table in RECORDS:
        op.drop_constraint(op.f(f'ck_{table}_withdrawal_has_reason'), table, type_='check')
        op.drop_constraint(op.f(f'fk_{table}_withdrawn_by_users'), table, type_='foreignkey')
        for column in ('withdrawn_reason', 'withdrawn_by', 'withdrawn_at', 'correction_reason'):
            op.drop_column(table, column)
    op.drop_constraint(op.f('fk_artifacts_approved_by_users'), 'artifacts', type_='foreignkey')
    for column in ('public', 'review_comment', 'approved_by', 'approved_at'):
        op.drop_column('artifacts', column)
