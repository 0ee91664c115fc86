"""sign-in records; when a password last changed; revisions of commune scopes

Revision ID: 0009_sign_ins
Revises: 0007_records_outlive_parents
Create Date: 2026-12-02 09:00:00

Every sign-in attempt is kept (the account if the name is known, the name as typed,
when, success, client IP; never a password) so the admin page can show who signed in
and who keeps failing. `users.password_changed_at` makes a password reset visible in
`revisions` (the trigger never copies `password_hash`, so a reset alone left no trace)
and lets a reset end the sessions opened with the old password. `user_scopes` gets the
same revision triggers as the other audited tables: who gave whom which commune, when.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_sign_ins'
down_revision = '0007_records_outlive_parents'
branch_labels = None
depends_on = None

EVENTS = (("INSERT", "NEW TABLE AS new_rows"),
          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
          ("DELETE", "OLD TABLE AS old_rows"))


def upgrade() -> None:
    op.add_column('users', sa.Column('password_changed_at', sa.DateTime(timezone=True),
                                     nullable=True))
    op.create_table('sign_in_attempts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts'))
    )
    op.create_index('ix_sign_in_attempts_user_time', 'sign_in_attempts',
                    ['user_id', 'attempted_at'], unique=False)
    for event, refs in EVENTS:
        op.execute(f"CREATE TRIGGER user_scopes_revisions_{event.lower()} AFTER {event} "
                   f"ON user_scopes REFERENCING {refs} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION record_revisions('user_id', 'admin_unit_id')")


def downgrade() -> None:
    for event, _refs in reversed(EVENTS):
        op.execute(f"DROP TRIGGER user_scopes_revisions_{event.lower()} ON user_scopes")
    op.drop_index('ix_sign_in_attempts_user_time', table_name='sign_in_attempts')
    op.drop_table('sign_in_attempts')
    op.drop_column('users', 'password_changed_at')
