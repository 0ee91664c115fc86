"""restores: a restore to just before a change logs that moment

Revision ID: 0029_restore_moment
Revises: 0028_site_name_order
Create Date: 2026-12-03 13:00:00

A relic can now be put back as it stood just before one change of its history (a
mistake made the same day as the relic, or after another change that day, which no
restore to the end of a date reaches). `before_change` is that change's moment; NULL
for a restore to the end of `as_of`, as before. The history page says which.
"""
import sqlalchemy as sa
from alembic import op

revision = '0029_restore_moment'
down_revision = '0028_site_name_order'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('restores', sa.Column('before_change', sa.DateTime(timezone=True),
                                        nullable=True))


def downgrade() -> None:
    op.drop_column('restores', 'before_change')
