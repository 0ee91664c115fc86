"""form submissions: each form that creates a record is saved once; typed values kept
across a lost session

Revision ID: 0010_form_submissions
Revises: 0009_sign_ins
Create Date: 2026-12-02 23:30:00

`form_submissions` holds the one-time token every record-creating form carries: a second
arrival of the same submission (a double click, a retry after a network error, a re-post
after signing in again) finds its token taken and is sent to the first one's result.
`form_drafts` keeps what an official typed into a form whose POST arrived without a valid
session, so that after signing in the form comes back filled in.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010_form_submissions'
down_revision = '0009_sign_ins'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'form_submissions',
        sa.Column('token', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('endpoint', sa.Text(), nullable=False),
        sa.Column('result_url', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='SET NULL',
                                name=op.f('fk_form_submissions_user_id_users')),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_form_submissions')),
    )
    op.create_index('ix_form_submissions_created_at', 'form_submissions', ['created_at'])
    op.create_table(
        'form_drafts',
        sa.Column('id', postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('data', postgresql.JSONB(), nullable=False),
        sa.Column('had_files', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_form_drafts')),
    )
    op.create_index('ix_form_drafts_created_at', 'form_drafts', ['created_at'])


def downgrade() -> None:
    op.drop_table('form_drafts')
    op.drop_table('form_submissions')
