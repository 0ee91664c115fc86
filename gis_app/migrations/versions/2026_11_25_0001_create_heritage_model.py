"""create the heritage data model

Revision ID: 0001_heritage_model
Revises: 
Create Date: 2026-11-25 06:46:58.062615
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001_heritage_model'
down_revision = None
branch_labels = None
depends_on = None

# Frozen as of this revision (later revisions audit more tables).
AUDITED_TABLES = (
    "admin_units", "organisations", "people", "sites", "site_admin_units",
    "protection_zones", "landscapes", "facilities", "environment_notes",
    "intangible_heritage", "heritage_events", "artifacts", "artifact_inventory_records",
    "conservation_actions", "digital_records", "condition_assessments", "users",
)


def upgrade() -> None:
    _create_tables()
    _create_sql_objects()
    _seed_facility_kinds()


def _create_tables() -> None:
    op.create_geospatial_table('admin_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('accuracy', sa.String(length=20), nullable=True),
    sa.CheckConstraint("accuracy IN ('surveyed', 'digitised', 'approximate')", name=op.f('ck_admin_units_accuracy_allowed')),
    sa.CheckConstraint("level IN ('province', 'district', 'town', 'commune', 'ward')", name=op.f('ck_admin_units_level_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_admin_units_geom_valid')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_admin_units_dates_ordered')),
    sa.ForeignKeyConstraint(['parent_id'], ['admin_units.id'], name=op.f('fk_admin_units_parent_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_units')),
    sa.UniqueConstraint('code', 'level', 'valid_from', name='code_level_from')
    )
    op.create_geospatial_index('idx_admin_units_geom', 'admin_units', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('basemap_features',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=True),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('ref', sa.String(length=20), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('accuracy', sa.String(length=20), nullable=True),
    sa.CheckConstraint("accuracy IN ('surveyed', 'digitised', 'approximate')", name=op.f('ck_basemap_features_accuracy_allowed')),
    sa.CheckConstraint("kind IN ('river', 'road')", name=op.f('ck_basemap_features_kind_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_basemap_features_geom_valid')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_basemap_features'))
    )
    op.create_geospatial_index('idx_basemap_features_geom', 'basemap_features', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('catalogues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogues')),
    sa.UniqueConstraint('code', name=op.f('uq_catalogues_code'))
    )
    op.create_table('facility_kinds',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_facility_kinds'))
    )
    op.create_table('heritage_identifiers',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("id ~ '^VN-[A-Z]{2}-(DT|PVT|HV)-[0-9]{6}$'", name=op.f('ck_heritage_identifiers_format')),
    sa.CheckConstraint("kind IN ('site', 'intangible', 'artifact')", name=op.f('ck_heritage_identifiers_kind_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_heritage_identifiers'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('role', sa.String(length=30), server_default='public', nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('public', 'commune_editor', 'district_reviewer', 'admin')", name=op.f('ck_users_role_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('admin_unit_successions',
    sa.Column('old_unit_id', sa.Integer(), nullable=False),
    sa.Column('new_unit_id', sa.Integer(), nullable=False),
    sa.Column('effective', sa.Date(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['new_unit_id'], ['admin_units.id'], name=op.f('fk_admin_unit_successions_new_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['old_unit_id'], ['admin_units.id'], name=op.f('fk_admin_unit_successions_old_unit_id_admin_units')),
    sa.PrimaryKeyConstraint('old_unit_id', 'new_unit_id', name=op.f('pk_admin_unit_successions'))
    )
    op.create_geospatial_table('intangible_heritage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('heritage_id', sa.String(length=24), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('ich_type', sa.String(length=40), nullable=False),
    sa.Column('community', sa.Text(), nullable=True),
    sa.Column('description_vi', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('national_listing_decision_no', sa.Text(), nullable=True),
    sa.Column('national_listing_date', sa.Date(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.CheckConstraint("ich_type IN ('oral_traditions', 'folk_performing_arts', 'social_customs_beliefs', 'traditional_festival', 'folk_knowledge', 'traditional_crafts')", name=op.f('ck_intangible_heritage_ich_type_allowed')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_intangible_heritage_status_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_intangible_heritage_geom_valid')),
    sa.ForeignKeyConstraint(['heritage_id'], ['heritage_identifiers.id'], name=op.f('fk_intangible_heritage_heritage_id_heritage_identifiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intangible_heritage')),
    sa.UniqueConstraint('heritage_id', name=op.f('uq_intangible_heritage_heritage_id'))
    )
    op.create_geospatial_index('idx_intangible_heritage_geom', 'intangible_heritage', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=True),
    sa.Column('admin_unit_id', sa.Integer(), nullable=True),
    sa.Column('e_identifier', sa.String(length=40), nullable=True),
    sa.Column('contact', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['admin_unit_id'], ['admin_units.id'], name=op.f('fk_organisations_admin_unit_id_admin_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('e_identifier', name=op.f('uq_organisations_e_identifier'))
    )
    op.create_table('revisions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('table_name', sa.String(length=63), nullable=False),
    sa.Column('row_id', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.CheckConstraint("action IN ('insert', 'update', 'delete')", name=op.f('ck_revisions_action_allowed')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_revisions_actor_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_revisions'))
    )
    op.create_index('ix_revisions_row', 'revisions', ['table_name', 'row_id', 'changed_at'], unique=False)
    op.create_table('user_scopes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('admin_unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['admin_unit_id'], ['admin_units.id'], name=op.f('fk_user_scopes_admin_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_scopes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'admin_unit_id', name=op.f('pk_user_scopes'))
    )
    op.create_table('people',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('roles', sa.Text(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('admin_unit_id', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['admin_unit_id'], ['admin_units.id'], name=op.f('fk_people_admin_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_people_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_people'))
    )
    op.create_geospatial_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('heritage_id', sa.String(length=24), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('other_names', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('types', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('rank', sa.String(length=20), nullable=True),
    sa.Column('ranking_decision_no', sa.Text(), nullable=True),
    sa.Column('ranking_decision_date', sa.Date(), nullable=True),
    sa.Column('period', sa.Text(), nullable=True),
    sa.Column('materials', sa.Text(), nullable=True),
    sa.Column('description_vi', sa.Text(), nullable=True),
    sa.Column('description_en', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('admin_unit_id', sa.Integer(), nullable=True),
    sa.Column('custodian_org_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('sensitive', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('licence', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('accuracy', sa.String(length=20), nullable=True),
    sa.Column('accuracy_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("accuracy IN ('surveyed', 'digitised', 'approximate')", name=op.f('ck_sites_accuracy_allowed')),
    sa.CheckConstraint("rank IN ('special_national', 'national', 'provincial', 'inventoried')", name=op.f('ck_sites_rank_allowed')),
    sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name=op.f('ck_sites_status_allowed')),
    sa.CheckConstraint("types <@ ARRAY['historical', 'architectural_artistic', 'archaeological', 'scenic', 'mixed']::text[]", name=op.f('ck_sites_types_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_sites_geom_valid')),
    sa.ForeignKeyConstraint(['admin_unit_id'], ['admin_units.id'], name=op.f('fk_sites_admin_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['custodian_org_id'], ['organisations.id'], name=op.f('fk_sites_custodian_org_id_organisations')),
    sa.ForeignKeyConstraint(['heritage_id'], ['heritage_identifiers.id'], name=op.f('fk_sites_heritage_id_heritage_identifiers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('heritage_id', name=op.f('uq_sites_heritage_id'))
    )
    op.create_geospatial_index('idx_sites_geom', 'sites', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('artifacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('heritage_id', sa.String(length=24), nullable=False),
    sa.Column('inventory_code', sa.String(length=40), nullable=True),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('other_names', sa.Text(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=True),
    sa.Column('period', sa.Text(), nullable=True),
    sa.Column('material', sa.Text(), nullable=True),
    sa.Column('dimensions', sa.Text(), nullable=True),
    sa.Column('weight_kg', sa.Numeric(precision=10, scale=3), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('state_of_preservation', sa.Text(), nullable=True),
    sa.Column('holding_site_id', sa.Integer(), nullable=True),
    sa.Column('typical_value', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('at_risk', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.CheckConstraint("kind IN ('relic_object', 'antiquity', 'national_treasure', 'object')", name=op.f('ck_artifacts_kind_allowed')),
    sa.CheckConstraint("origin IN ('original', 'donated', 'excavated', 'exchanged', 'recovered', 'purchased', 'other')", name=op.f('ck_artifacts_origin_allowed')),
    sa.ForeignKeyConstraint(['heritage_id'], ['heritage_identifiers.id'], name=op.f('fk_artifacts_heritage_id_heritage_identifiers')),
    sa.ForeignKeyConstraint(['holding_site_id'], ['sites.id'], name=op.f('fk_artifacts_holding_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artifacts')),
    sa.UniqueConstraint('heritage_id', name=op.f('uq_artifacts_heritage_id'))
    )
    op.create_table('condition_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=True),
    sa.Column('assessor_name', sa.Text(), nullable=True),
    sa.Column('overall', sa.String(length=20), nullable=False),
    sa.Column('element_scores', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('threats', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('trend', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("overall IN ('good', 'fair', 'poor', 'very_poor', 'ruined')", name=op.f('ck_condition_assessments_overall_allowed')),
    sa.CheckConstraint("trend IN ('improving', 'stable', 'worsening', 'unknown')", name=op.f('ck_condition_assessments_trend_allowed')),
    sa.ForeignKeyConstraint(['assessor_id'], ['people.id'], name=op.f('fk_condition_assessments_assessor_id_people')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_condition_assessments_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condition_assessments'))
    )
    op.create_index(op.f('ix_condition_assessments_site_id'), 'condition_assessments', ['site_id'], unique=False)
    op.create_table('environment_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_environment_notes_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_environment_notes'))
    )
    op.create_geospatial_table('facilities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('accuracy', sa.String(length=20), nullable=True),
    sa.CheckConstraint("GeometryType(geom) IN ('POINT', 'MULTIPOLYGON')", name=op.f('ck_facilities_geom_kind')),
    sa.CheckConstraint("accuracy IN ('surveyed', 'digitised', 'approximate')", name=op.f('ck_facilities_accuracy_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_facilities_geom_valid')),
    sa.ForeignKeyConstraint(['kind'], ['facility_kinds.code'], name=op.f('fk_facilities_kind_facility_kinds')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_facilities_site_id_sites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_facilities'))
    )
    op.create_geospatial_index('idx_facilities_geom', 'facilities', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('heritage_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intangible_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('lunar_month', sa.SmallInteger(), nullable=True),
    sa.Column('lunar_day', sa.SmallInteger(), nullable=True),
    sa.Column('solar_date', sa.Date(), nullable=True),
    sa.Column('duration_days', sa.SmallInteger(), server_default='1', nullable=False),
    sa.CheckConstraint('(lunar_month IS NULL) = (lunar_day IS NULL)', name=op.f('ck_heritage_events_lunar_pair')),
    sa.CheckConstraint('duration_days >= 1', name=op.f('ck_heritage_events_duration_positive')),
    sa.CheckConstraint('lunar_day BETWEEN 1 AND 30', name=op.f('ck_heritage_events_lunar_day_range')),
    sa.CheckConstraint('lunar_month BETWEEN 1 AND 12', name=op.f('ck_heritage_events_lunar_month_range')),
    sa.CheckConstraint('lunar_month IS NOT NULL OR solar_date IS NOT NULL', name=op.f('ck_heritage_events_has_date')),
    sa.ForeignKeyConstraint(['intangible_id'], ['intangible_heritage.id'], name=op.f('fk_heritage_events_intangible_id_intangible_heritage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_heritage_events_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_heritage_events'))
    )
    op.create_table('intangible_artisans',
    sa.Column('intangible_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['intangible_id'], ['intangible_heritage.id'], name=op.f('fk_intangible_artisans_intangible_id_intangible_heritage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_intangible_artisans_person_id_people')),
    sa.PrimaryKeyConstraint('intangible_id', 'person_id', name=op.f('pk_intangible_artisans'))
    )
    op.create_table('intangible_sites',
    sa.Column('intangible_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['intangible_id'], ['intangible_heritage.id'], name=op.f('fk_intangible_sites_intangible_id_intangible_heritage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_intangible_sites_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('intangible_id', 'site_id', name=op.f('pk_intangible_sites'))
    )
    op.create_geospatial_table('landscapes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('name_vi', sa.Text(), nullable=False),
    sa.Column('name_en', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('accuracy', sa.String(length=20), nullable=True),
    sa.CheckConstraint("accuracy IN ('surveyed', 'digitised', 'approximate')", name=op.f('ck_landscapes_accuracy_allowed')),
    sa.CheckConstraint("kind IN ('pond', 'tree', 'garden', 'river_bank', 'other')", name=op.f('ck_landscapes_kind_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_landscapes_geom_valid')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_landscapes_site_id_sites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_landscapes'))
    )
    op.create_geospatial_index('idx_landscapes_geom', 'landscapes', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('protection_zones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('zone', sa.String(length=10), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('decision_no', sa.Text(), nullable=True),
    sa.Column('decision_date', sa.Date(), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('accuracy', sa.String(length=20), nullable=True),
    sa.CheckConstraint("accuracy IN ('surveyed', 'digitised', 'approximate')", name=op.f('ck_protection_zones_accuracy_allowed')),
    sa.CheckConstraint("zone IN ('I', 'II', 'buffer')", name=op.f('ck_protection_zones_zone_allowed')),
    sa.CheckConstraint('ST_IsValid(geom)', name=op.f('ck_protection_zones_geom_valid')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_protection_zones_dates_ordered')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_protection_zones_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_protection_zones'))
    )
    op.create_geospatial_index('idx_protection_zones_geom', 'protection_zones', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_protection_zones_site_id'), 'protection_zones', ['site_id'], unique=False)
    op.create_table('site_admin_units',
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('admin_unit_id', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['admin_unit_id'], ['admin_units.id'], name=op.f('fk_site_admin_units_admin_unit_id_admin_units')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_admin_units_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('site_id', 'admin_unit_id', name=op.f('pk_site_admin_units'))
    )
    op.create_table('artifact_inventory_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artifact_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.SmallInteger(), nullable=False),
    sa.Column('inventoried_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], name=op.f('fk_artifact_inventory_records_artifact_id_artifacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_artifact_inventory_records')),
    sa.UniqueConstraint('artifact_id', 'year', name='artifact_year')
    )
    op.create_table('conservation_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('artifact_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('performed_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('preventive', 'remedial')", name=op.f('ck_conservation_actions_kind_allowed')),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], name=op.f('fk_conservation_actions_artifact_id_artifacts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conservation_actions'))
    )
    op.create_table('digital_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('intangible_id', sa.Integer(), nullable=True),
    sa.Column('artifact_id', sa.Integer(), nullable=True),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('credit', sa.Text(), nullable=True),
    sa.Column('licence', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('num_nonnulls(site_id, intangible_id, artifact_id) = 1', name=op.f('ck_digital_records_one_target')),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], name=op.f('fk_digital_records_artifact_id_artifacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intangible_id'], ['intangible_heritage.id'], name=op.f('fk_digital_records_intangible_id_intangible_heritage'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_digital_records_site_id_sites'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digital_records'))
    )


def downgrade() -> None:
    _drop_sql_objects()
    op.drop_table('digital_records')
    op.drop_table('conservation_actions')
    op.drop_table('artifact_inventory_records')
    op.drop_table('site_admin_units')
    op.drop_index(op.f('ix_protection_zones_site_id'), table_name='protection_zones')
    op.drop_geospatial_index('idx_protection_zones_geom', table_name='protection_zones', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('protection_zones')
    op.drop_geospatial_index('idx_landscapes_geom', table_name='landscapes', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('landscapes')
    op.drop_table('intangible_sites')
    op.drop_table('intangible_artisans')
    op.drop_table('heritage_events')
    op.drop_geospatial_index('idx_facilities_geom', table_name='facilities', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('facilities')
    op.drop_table('environment_notes')
    op.drop_index(op.f('ix_condition_assessments_site_id'), table_name='condition_assessments')
    op.drop_table('condition_assessments')
    op.drop_table('artifacts')
    op.drop_geospatial_index('idx_sites_geom', table_name='sites', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('sites')
    op.drop_table('people')
    op.drop_table('user_scopes')
    op.drop_index('ix_revisions_row', table_name='revisions')
    op.drop_table('revisions')
    op.drop_table('organisations')
    op.drop_geospatial_index('idx_intangible_heritage_geom', table_name='intangible_heritage', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('intangible_heritage')
    op.drop_table('admin_unit_successions')
    op.drop_table('users')
    op.drop_table('heritage_identifiers')
    op.drop_table('facility_kinds')
    op.drop_table('catalogues')
    op.drop_geospatial_index('idx_basemap_features_geom', table_name='basemap_features', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('basemap_features')
    op.drop_geospatial_index('idx_admin_units_geom', table_name='admin_units', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('admin_units')


# Composite or non-"id" primary keys, for the revision trigger's row_id.
ROW_KEYS = {"site_admin_units": ("site_id", "admin_unit_id")}

FACILITY_KINDS = [
    # code, category, vi, en
    ("parking", "infrastructure", "Bãi đỗ xe", "Car park"),
    ("toilet", "infrastructure", "Nhà vệ sinh", "Toilets"),
    ("road_access", "infrastructure", "Đường vào", "Access road"),
    ("boat_landing", "infrastructure", "Bến thuyền", "Boat landing"),
    ("information", "display", "Bảng thông tin", "Information board"),
    ("exhibition", "display", "Nhà trưng bày", "Exhibition house"),
    ("management_office", "management", "Ban quản lý", "Management office"),
    ("ticket_office", "management", "Quầy vé", "Ticket office"),
    ("boundary_marker", "management", "Mốc giới", "Boundary marker"),
    ("fire_equipment", "equipment", "Thiết bị phòng cháy", "Fire equipment"),
    ("camera", "equipment", "Camera giám sát", "Surveillance camera"),
    ("asset", "asset", "Tài sản", "Asset"),
    ("other", "other", "Khác", "Other"),
]


def _create_sql_objects() -> None:
    # Accent-insensitive search: unaccent() is only STABLE, so index through an
    # IMMUTABLE wrapper bound to the dictionary (domain/encodings.md).
    op.execute("""
        CREATE FUNCTION f_unaccent(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
    """)
    op.execute("CREATE INDEX ix_sites_name_search ON sites "
               "USING gin (lower(f_unaccent(name_vi)) gin_trgm_ops)")
    op.execute("CREATE INDEX ix_admin_units_name_search ON admin_units "
               "USING gin (lower(f_unaccent(name)) gin_trgm_ops)")

    # Heritage identifiers are permanent: never deleted, never renamed.
    op.execute("""
        CREATE FUNCTION protect_heritage_identifier() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'heritage identifier % is permanent: retire it (retired_at) instead of deleting it', OLD.id
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          IF NEW.id <> OLD.id THEN
            RAISE EXCEPTION 'heritage identifier % cannot be changed', OLD.id
              USING ERRCODE = 'integrity_constraint_violation';
          END IF;
          RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER heritage_identifiers_permanent
        BEFORE UPDATE OR DELETE ON heritage_identifiers
        FOR EACH ROW EXECUTE FUNCTION protect_heritage_identifier()
    """)

    # Every change to a heritage record becomes a revision (who, when, before, after).
    op.execute("""
        CREATE FUNCTION record_revision() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
          actor text := nullif(current_setting('gis.actor_id', true), '');
          old_row jsonb;
          new_row jsonb;
          key text;
          row_key text := '';
        BEGIN
          IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD) - 'password_hash'; END IF;
          IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW) - 'password_hash'; END IF;
          IF TG_OP = 'UPDATE' AND old_row = new_row THEN RETURN NULL; END IF;
          FOREACH key IN ARRAY TG_ARGV LOOP
            row_key := row_key || CASE WHEN row_key = '' THEN '' ELSE ',' END
                       || (coalesce(new_row, old_row) ->> key);
          END LOOP;
          INSERT INTO revisions (table_name, row_id, action, actor_id, before, after)
          VALUES (TG_TABLE_NAME, row_key, lower(TG_OP), actor::integer, old_row, new_row);
          RETURN NULL;
        END $$
    """)
    for table in AUDITED_TABLES:
        keys = ", ".join(f"'{k}'" for k in ROW_KEYS.get(table, ("id",)))
        op.execute(f"CREATE TRIGGER {table}_revisions AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION record_revision({keys})")


def _seed_facility_kinds() -> None:
    table = sa.table("facility_kinds", sa.column("code"), sa.column("category"),
                     sa.column("name_vi"), sa.column("name_en"))
    op.bulk_insert(table, [dict(zip(("code", "category", "name_vi", "name_en"), row))
                           for row in FACILITY_KINDS])


def _drop_sql_objects() -> None:
    for table in AUDITED_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_revisions ON {table}")
    op.execute("DROP FUNCTION IF EXISTS record_revision()")
    op.execute("DROP TRIGGER IF EXISTS heritage_identifiers_permanent ON heritage_identifiers")
    op.execute("DROP FUNCTION IF EXISTS protect_heritage_identifier()")
    op.execute("DROP INDEX IF EXISTS ix_admin_units_name_search")
    op.execute("DROP INDEX IF EXISTS ix_sites_name_search")
    op.execute("DROP FUNCTION IF EXISTS f_unaccent(text)")
