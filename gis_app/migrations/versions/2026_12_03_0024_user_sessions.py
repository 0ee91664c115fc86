"""server-side sign-in sessions, so that signing out ends a session for good

Revision ID: 0024_user_sessions
Revises: 0017_media_curation
Create Date: 2026-12-03 04:10:00

Until now a session lived only in the signed cookie: a copy of the cookie taken before
"sign out" still opened the officials' pages. Each sign-in now gets a row here (the
SHA-256 of a random token the cookie carries); signing out, disabling the account or
resetting its password ends the row, and a session whose row is ended is signed out.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_user_sessions'
down_revision = '0017_media_curation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(20), nullable=True),
        sa.Column('client_ip', sa.String(45), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE',
                                name=op.f('fk_user_sessions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_user_sessions_token_hash')),
    )
    op.create_index('ix_user_sessions_user_open', 'user_sessions', ['user_id'],
                    postgresql_where=sa.text('ended_at IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_user_sessions_user_open', table_name='user_sessions')
    op.drop_table('user_sessions')
