"""a condition assessment can be withdrawn, with its reason (assessments stay append-only)

Revision ID: 0015_assessment_withdrawals
Revises: 0011_retire_merge
Create Date: 2026-12-03 00:10:00

An assessment recorded in error (wrong relic, a test entry) is withdrawn rather than
deleted: a row here says who withdrew it, when and why; the assessment itself is never
changed, and the latest-condition queries leave withdrawn ones out.
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_assessment_withdrawals'
down_revision = '0011_retire_merge'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'assessment_withdrawals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('assessment_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('withdrawn_by', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("length(btrim(reason)) > 0",
                           name=op.f('ck_assessment_withdrawals_reason_given')),
        sa.ForeignKeyConstraint(['assessment_id'], ['condition_assessments.id'],
                                name=op.f('fk_assessment_withdrawals_assessment_id_condition_assessments'),
                                ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['withdrawn_by'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_assessment_withdrawals_withdrawn_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_withdrawals')),
        sa.UniqueConstraint('assessment_id', name=op.f('uq_assessment_withdrawals_assessment_id')),
    )
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"),
                        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows")):
        op.execute(f"CREATE TRIGGER assessment_withdrawals_revisions_{event.lower()} AFTER "
                   f"{event} ON assessment_withdrawals REFERENCING {refs} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION record_revisions('id')")


def downgrade() -> None:
    op.drop_table('assessment_withdrawals')
