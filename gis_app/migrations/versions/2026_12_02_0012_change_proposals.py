"""change proposals: a commune editor's change to a relic waits for a district reviewer

Revision ID: 0012_change_proposals
Revises: 0014_restores
Create Date: 2026-12-02 23:50:00

A proposal lives apart from the record it changes, so every public page and API keeps
reading the published values from `sites` until a reviewer approves it. `changes` holds
{field: [before, after]} as the author saw and typed them; the position before and after
is kept as geometry for the reviewer's map. `base_revision_id` is the record's latest
revision when the change was proposed.
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0012_change_proposals'
down_revision = '0014_restores'
branch_labels = None
depends_on = None

STATUS = "status IN ('pending', 'approved', 'returned', 'withdrawn')"


def upgrade() -> None:
    op.create_table(
        'change_proposals',
        sa.Column('id', sa.Integer(), sa.Identity(), nullable=False),
        sa.Column('record_kind', sa.String(20), server_default='site', nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('base_revision_id', sa.BigInteger(), nullable=True),
        sa.Column('changes', postgresql.JSONB(), nullable=False),
        sa.Column('geom_before', Geometry('POINT', srid=4326, spatial_index=False),
                  nullable=True),
        sa.Column('geom_after', Geometry('POINT', srid=4326, spatial_index=False),
                  nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('status', sa.String(20), server_default='pending', nullable=False),
        sa.Column('reviewer_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_change_proposals')),
        # No cascade into heritage records: a relic with proposals is never deleted
        # silently (an import's undo lists them as later work).
        sa.ForeignKeyConstraint(['record_id'], ['sites.id'],
                                name=op.f('fk_change_proposals_record_id_sites')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_change_proposals_author_id_users')),
        sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_change_proposals_reviewer_id_users')),
        sa.CheckConstraint(STATUS, name=op.f('ck_change_proposals_status_allowed')),
        sa.CheckConstraint("record_kind IN ('site')",
                           name=op.f('ck_change_proposals_record_kind_allowed')),
        sa.CheckConstraint("status <> 'returned' OR coalesce(btrim(comment), '') <> ''",
                           name=op.f('ck_change_proposals_returned_with_comment')),
    )
    op.create_index('ix_change_proposals_pending', 'change_proposals',
                    ['record_kind', 'record_id'], postgresql_where=sa.text("status = 'pending'"))
    for column in ('geom_before', 'geom_after'):
        op.create_index(f'idx_change_proposals_{column}', 'change_proposals', [column],
                        postgresql_using='gist')
    op.create_index('ix_change_proposals_author', 'change_proposals',
                    ['author_id', 'created_at'])


def downgrade() -> None:
    op.drop_table('change_proposals')
