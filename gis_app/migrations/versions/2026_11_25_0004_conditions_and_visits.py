"""condition assessments are append-only with photos; opening hours of relics

Revision ID: 0004_conditions
Revises: 0003_zone_checks
Create Date: 2026-11-25 11:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_conditions'
down_revision = '0003_zone_checks'
branch_labels = None
depends_on = None

THREATS = ("flood", "damp", "termites", "encroachment", "unlicensed_construction",
           "vandalism", "theft", "fire", "pollution", "tourism_pressure", "neglect", "other")

# UPDATE is refused; DELETE only when it cascades from a deleted site (trigger depth > 1).
APPEND_ONLY = """
    CREATE FUNCTION condition_assessment_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION 'condition assessments are never overwritten: record a new assessment '
                      'that supersedes assessment %', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
    END $$
"""


def upgrade() -> None:
    op.add_column('sites', sa.Column('opening_hours_vi', sa.Text(), nullable=True))
    op.add_column('sites', sa.Column('opening_hours_en', sa.Text(), nullable=True))
    op.add_column('condition_assessments', sa.Column('recorded_by', sa.Integer(), nullable=True))
    op.add_column('condition_assessments', sa.Column('supersedes_id', sa.Integer(), nullable=True))
    op.create_foreign_key(op.f('fk_condition_assessments_recorded_by_users'),
                          'condition_assessments', 'users', ['recorded_by'], ['id'],
                          ondelete='SET NULL')
    op.create_foreign_key(op.f('fk_condition_assessments_supersedes_id_condition_assessments'),
                          'condition_assessments', 'condition_assessments', ['supersedes_id'],
                          ['id'], ondelete='SET NULL')
    op.create_unique_constraint(op.f('uq_condition_assessments_supersedes_id'),
                                'condition_assessments', ['supersedes_id'])
    quoted = ", ".join(f"'{t}'" for t in THREATS)
    op.create_check_constraint(op.f('ck_condition_assessments_threats_allowed'),
                               'condition_assessments', f"threats <@ ARRAY[{quoted}]::text[]")
    op.create_table('condition_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('caption', sa.Text(), nullable=True),
    sa.Column('credit', sa.Text(), nullable=True),
    sa.Column('licence', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['condition_assessments.id'], name=op.f('fk_condition_photos_assessment_id_condition_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condition_photos'))
    )
    op.create_index(op.f('ix_condition_photos_assessment_id'), 'condition_photos', ['assessment_id'], unique=False)
    for event, refs in (("INSERT", "NEW TABLE AS new_rows"),
                        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                        ("DELETE", "OLD TABLE AS old_rows")):
        op.execute(f"CREATE TRIGGER condition_photos_revisions_{event.lower()} AFTER {event} "
                   f"ON condition_photos REFERENCING {refs} FOR EACH STATEMENT "
                   "EXECUTE FUNCTION record_revisions('id')")
    op.execute(APPEND_ONLY)
    op.execute("CREATE TRIGGER condition_assessments_append_only BEFORE UPDATE OR DELETE ON "
               "condition_assessments FOR EACH ROW "
               "EXECUTE FUNCTION condition_assessment_append_only()")


def downgrade() -> None:
    op.execute("DROP TRIGGER condition_assessments_append_only ON condition_assessments")
    op.execute("DROP FUNCTION condition_assessment_append_only()")
    op.drop_index(op.f('ix_condition_photos_assessment_id'), table_name='condition_photos')
    op.drop_table('condition_photos')
    op.drop_constraint(op.f('ck_condition_assessments_threats_allowed'), 'condition_assessments',
                       type_='check')
    op.drop_constraint(op.f('uq_condition_assessments_supersedes_id'), 'condition_assessments',
                       type_='unique')
    op.drop_constraint(op.f('fk_condition_assessments_supersedes_id_condition_assessments'),
                       'condition_assessments', type_='foreignkey')
    op.drop_constraint(op.f('fk_condition_assessments_recorded_by_users'),
                       'condition_assessments', type_='foreignkey')
    op.drop_column('condition_assessments', 'supersedes_id')
    op.drop_column('condition_assessments', 'recorded_by')
    op.drop_column('sites', 'opening_hours_en')
    op.drop_column('sites', 'opening_hours_vi')
