"""index the links the officials' figures follow (artifact → actions, records → target)

Revision ID: 0005_record_indexes
Revises: 0004_conditions
Create Date: 2026-11-25 12:00:00

bench/officials.py (2,000 relics, 20,000 artifacts) found indicator a2 at 3.2 s and b at
2.3 s: each artifact's EXISTS scanned conservation_actions / digital_records whole.
"""
from alembic import op

revision = '0005_record_indexes'
down_revision = '0004_conditions'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_conservation_actions_artifact", "conservation_actions", ["artifact_id", "performed_on"]),
    ("ix_digital_records_site_id", "digital_records", ["site_id"]),
    ("ix_digital_records_intangible_id", "digital_records", ["intangible_id"]),
    ("ix_digital_records_artifact_id", "digital_records", ["artifact_id"]),
    ("ix_artifacts_holding_site_id", "artifacts", ["holding_site_id"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
