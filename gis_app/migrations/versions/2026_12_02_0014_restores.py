"""restores: a record put back as it stood on a date is logged; history by relic is indexed

Revision ID: 0014_restores
Revises: 0015_assessment_withdrawals
Create Date: 2026-12-02 23:55:00

A restore writes the record's past fields as one new revision (history is never
rewritten). The revision trigger cannot tell a restore from any other UPDATE, so each
restore is logged in `restores` in the same transaction: the history page matches it to
the revisions written at the same `changed_at` (the transaction's now()) and says
"restored to the version of <date>".

A relic's history also gathers the revisions of the rows that hang on it (zones,
communes, photos, condition assessments) by their `site_id` inside before/after; two
partial expression indexes keep that a lookup, not a scan of every revision.
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_restores'
down_revision = '0015_assessment_withdrawals'
branch_labels = None
depends_on = None

ON_SITE = ("protection_zones", "site_admin_units", "digital_records", "condition_assessments")
ON_SITE_SQL = "table_name IN (" + ", ".join(f"'{t}'" for t in ON_SITE) + ")"


def upgrade() -> None:
    op.create_table(
        'restores',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('table_name', sa.String(length=63), nullable=False),
        sa.Column('row_id', sa.Text(), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('fields', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"),
                  nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('restored_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_restores_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_restores')),
    )
    op.create_index('ix_restores_row', 'restores', ['table_name', 'row_id', 'restored_at'])
    op.execute("CREATE INDEX ix_revisions_after_site ON revisions ((after ->> 'site_id')) "
               f"WHERE {ON_SITE_SQL}")
    op.execute("CREATE INDEX ix_revisions_before_site ON revisions ((before ->> 'site_id')) "
               f"WHERE {ON_SITE_SQL}")


def downgrade() -> None:
    op.execute("DROP INDEX ix_revisions_before_site")
    op.execute("DROP INDEX ix_revisions_after_site")
    op.drop_index('ix_restores_row', table_name='restores')
    op.drop_table('restores')
