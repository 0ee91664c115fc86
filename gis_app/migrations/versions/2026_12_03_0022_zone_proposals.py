"""change proposals also carry a commune editor's new protection zone boundary

Revision ID: 0022_zone_proposals
Revises: 0020_intangible_links_audited
Create Date: 2026-12-03 04:00:00

A commune editor's new version of a published relic's zone I / II / buffer waits for a
district reviewer like a change to the relic's fields (services/zones.py). Such a
proposal has `record_kind` 'zone' and `record_id` the relic's `sites.id`; its zone code,
decision number and date, valid-from date and accuracy are kept in `changes` (jsonb),
the boundary in force when it was proposed in `geom_before` and the proposed one in
`geom_after`. Those two columns therefore hold any geometry in SRID 4326 (a point for a
relic's position, a MultiPolygon for a zone) instead of points only.
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0022_zone_proposals'
down_revision = '0020_intangible_links_audited'
branch_labels = None
depends_on = None

CHECK = 'ck_change_proposals_record_kind_allowed'
COLUMNS = ('geom_before', 'geom_after')


def _geometry_type(kind: str) -> None:
    for column in COLUMNS:
        op.alter_column('change_proposals', column,
                        type_=Geometry(kind, srid=4326, spatial_index=False),
                        postgresql_using=f'{column}::geometry({kind}, 4326)')


def upgrade() -> None:
    op.drop_constraint(op.f(CHECK), 'change_proposals', type_='check')
    op.create_check_constraint(op.f(CHECK), 'change_proposals', "record_kind IN ('site', 'zone')")
    _geometry_type('GEOMETRY')


def downgrade() -> None:
    # Zone proposals cannot be kept in a table that holds relic changes only.
    op.execute(sa.text("DELETE FROM change_proposals WHERE record_kind = 'zone'"))
    _geometry_type('POINT')
    op.drop_constraint(op.f(CHECK), 'change_proposals', type_='check')
    op.create_check_constraint(op.f(CHECK), 'change_proposals', "record_kind IN ('site')")
