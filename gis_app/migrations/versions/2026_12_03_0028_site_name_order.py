"""an index in the order relics are listed by name

Revision ID: 0028_site_name_order
Revises: 0025_report_tokens
Create Date: 2026-12-03 07:00:00

`/sites` lists the relics by name without diacritics (lower(f_unaccent(name_vi)), then
the identifier) a page at a time. Without an index in that order each page sorted every
relic: at 100k relics a page cost a full scan and 100k unaccent calls.
"""
from alembic import op

revision = '0028_site_name_order'
down_revision = '0026_ogc_crs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_sites_name_order ON sites "
               "(lower(f_unaccent(name_vi)), heritage_id)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_sites_name_order")
