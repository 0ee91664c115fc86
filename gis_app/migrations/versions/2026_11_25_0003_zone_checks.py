"""store zone checks under a reference number

Revision ID: 0003_zone_checks
Revises: 0002_imports
Create Date: 2026-11-25 10:00:00
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0003_zone_checks'
down_revision = '0002_imports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zone_checks',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('crs', sa.Text(), nullable=True),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('full_access', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('parcel', Geometry(geometry_type='GEOMETRY', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('data_version', sa.BigInteger(), nullable=False),
    sa.Column('repeated_from', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('ST_IsValid(parcel)', name=op.f('ck_zone_checks_parcel_valid')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_zone_checks_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['repeated_from'], ['zone_checks.id'], name=op.f('fk_zone_checks_repeated_from_zone_checks'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zone_checks')),
    sa.UniqueConstraint('reference', name=op.f('uq_zone_checks_reference'))
    )
    op.create_geospatial_index('idx_zone_checks_parcel', 'zone_checks', ['parcel'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_zone_checks_repeated_from'), 'zone_checks', ['repeated_from'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_zone_checks_repeated_from'), table_name='zone_checks')
    op.drop_geospatial_index('idx_zone_checks_parcel', table_name='zone_checks', postgresql_using='gist', column_name='parcel')
    op.drop_table('zone_checks')
