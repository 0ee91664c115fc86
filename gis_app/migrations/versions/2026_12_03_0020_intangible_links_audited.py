"""the relics and artisans of an intangible heritage are audited like its other rows

Revision ID: 0020_intangible_links_audited
Revises: 0021_artifact_review
Create Date: 2026-12-03 04:00:00

Officials now add and remove the relics where an intangible heritage is practised
(`intangible_sites`) and its artisans (`intangible_artisans`); its history page reads
those changes from `revisions` like every other change, so both tables get the statement
triggers of migration 0002 (keyed on their composite primary keys).
"""
from alembic import op

revision = '0020_intangible_links_audited'
down_revision = '0021_artifact_review'
branch_labels = None
depends_on = None

KEYS = {"intangible_sites": "'intangible_id', 'site_id'",
        "intangible_artisans": "'intangible_id', 'person_id'"}
EVENTS = (("INSERT", "NEW TABLE AS new_rows"),
          ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
          ("DELETE", "OLD TABLE AS old_rows"))


def upgrade() -> None:
    for table, keys in KEYS.items():
        for event, refs in EVENTS:
            op.execute(f"CREATE TRIGGER {table}_revisions_{event.lower()} AFTER {event} ON "
                       f"{table} REFERENCING {refs} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION record_revisions({keys})")


def downgrade() -> None:
    for table in KEYS:
        for event, _refs in EVENTS:
            op.execute(f"DROP TRIGGER {table}_revisions_{event.lower()} ON {table}")
