"""photos and documents are ordered, removed (hidden, restorable) and approved

Revision ID: 0017_media_curation
Revises: 0013_zone_versions
Create Date: 2026-12-03 00:30:00

`position` orders a target's records (the public page and the map card follow it);
removal hides a record instead of deleting it (`removed_at`, `removed_by`,
`removed_reason`), so it can be put back; a commune editor's upload waits for a
district reviewer (`approved_at`, `approved_by`). Records that exist are approved as of
their creation and numbered in their current order (oldest first).
"""
import sqlalchemy as sa
from alembic import op

revision = '0017_media_curation'
down_revision = '0013_zone_versions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('digital_records', sa.Column('position', sa.Integer(), nullable=False,
                                               server_default='0'))
    # Approved unless said otherwise: rows from imports and the demo data are public as
    # before; services.digital_records.add_record leaves a commune editor's upload NULL.
    op.add_column('digital_records', sa.Column('approved_at', sa.DateTime(timezone=True),
                                               server_default=sa.text('now()')))
    op.add_column('digital_records', sa.Column('approved_by', sa.Integer(), nullable=True))
    op.add_column('digital_records', sa.Column('removed_at', sa.DateTime(timezone=True)))
    op.add_column('digital_records', sa.Column('removed_by', sa.Integer(), nullable=True))
    op.add_column('digital_records', sa.Column('removed_reason', sa.Text()))
    op.create_foreign_key(op.f('fk_digital_records_approved_by_users'), 'digital_records',
                          'users', ['approved_by'], ['id'], ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_digital_records_removed_by_users'), 'digital_records',
                          'users', ['removed_by'], ['id'], ondelete='SET NULL')
    op.create_check_constraint(op.f('ck_digital_records_removal_has_reason'), 'digital_records',
                               "removed_at IS NULL OR length(btrim(removed_reason)) > 0")
    op.execute("""
        UPDATE digital_records d SET approved_at = d.created_at, position = n.pos
          FROM (SELECT id, row_number() OVER (
                         PARTITION BY site_id, intangible_id, artifact_id
                         ORDER BY created_at, id) AS pos
                  FROM digital_records) n
         WHERE n.id = d.id""")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_digital_records_removal_has_reason'), 'digital_records',
                       type_='check')
    op.drop_constraint(op.f('fk_digital_records_removed_by_users'), 'digital_records',
                       type_='foreignkey')
    op.drop_constraint(op.f('fk_digital_records_approved_by_users'), 'digital_records',
                       type_='foreignkey')
    for column in ('removed_reason', 'removed_by', 'removed_at', 'approved_by', 'approved_at',
                   'position'):
        op.drop_column('digital_records', column)
