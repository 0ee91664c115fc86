"""an unguessable link token for each stored zone check

Revision ID: 0025_report_tokens
Revises: 0018_import_jobs_presets
Create Date: 2026-12-03 05:00:00

Stored zone checks were opened by their reference number (KTBV-YYYY-NNNNNN), which is a
counter: anyone could walk through everyone's reports. Each check now gets a random
token (128 bits, hex) that its public URL carries; the readable number stays on the page
and the PDF. Existing checks get a token from PostgreSQL's `gen_random_uuid()` (122
random bits, from the server's cryptographic random source).
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_report_tokens'
down_revision = '0018_import_jobs_presets'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('zone_checks', sa.Column('token', sa.String(64), nullable=True))
    op.execute("UPDATE zone_checks SET token = replace(gen_random_uuid()::text, '-', '')")
    op.alter_column('zone_checks', 'token', nullable=False)
    op.create_unique_constraint(op.f('uq_zone_checks_token'), 'zone_checks', ['token'])


def downgrade() -> None:
    op.drop_constraint(op.f('uq_zone_checks_token'), 'zone_checks', type_='unique')
    op.drop_column('zone_checks', 'token')
