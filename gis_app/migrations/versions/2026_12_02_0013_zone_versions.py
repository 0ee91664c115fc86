"""a relic's zone is a chain of dated versions: at most one open version per zone

Revision ID: 0013_zone_versions
Revises: 0012_change_proposals
Create Date: 2026-12-02 12:00:00

Saving a new boundary (or a new decision) closes the current version of a relic's zone
(valid_to = the new version's valid_from - 1 day) and inserts the new one
(services/zones.py; a zone re-import does the same). The database keeps two concurrent
saves from both leaving an open version: one open (valid_to IS NULL) version per relic
and zone. The index also finds a chain's versions by date.
"""
from alembic import op

revision = '0013_zone_versions'
down_revision = '0012_change_proposals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('uq_protection_zones_open_version', 'protection_zones',
                    ['site_id', 'zone'], unique=True,
                    postgresql_where="valid_to IS NULL")
    op.create_index('ix_protection_zones_chain', 'protection_zones',
                    ['site_id', 'zone', 'valid_from'])


def downgrade() -> None:
    op.drop_index('ix_protection_zones_chain', table_name='protection_zones')
    op.drop_index('uq_protection_zones_open_version', table_name='protection_zones')
