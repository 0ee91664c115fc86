"""background jobs (a PostgreSQL queue) and field-mapping presets saved from the web

Revision ID: 0018_import_jobs_presets
Revises: 0022_zone_proposals
Create Date: 2026-12-03 04:00:00

`jobs` is the queue of work that must not run inside a web request (the dry run and the
import of a large survey file): a worker claims a row with `FOR UPDATE SKIP LOCKED`,
writes its progress and heartbeat, and ends it done (with a result) or failed (with a
message in vi/en). `import_presets` holds the column and value mappings officials save
in the web import's mapping step, beside the file presets of data/presets.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0018_import_jobs_presets'
down_revision = '0022_zone_proposals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'jobs',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('payload', postgresql.JSONB(), nullable=False, server_default='{}'),
        sa.Column('status', sa.Text(), nullable=False, server_default='queued'),
        sa.Column('progress_done', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('progress_total', sa.Integer()),
        sa.Column('result', postgresql.JSONB()),
        sa.Column('error_vi', sa.Text()),
        sa.Column('error_en', sa.Text()),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('created_by', sa.Integer(),
                  sa.ForeignKey('users.id', ondelete='SET NULL',
                                name=op.f('fk_jobs_created_by_users'))),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text('now()')),
        sa.Column('started_at', sa.DateTime(timezone=True)),
        sa.Column('finished_at', sa.DateTime(timezone=True)),
        sa.Column('heartbeat', sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_jobs_status')),
    )
    # The claim reads the oldest queued job: a partial index keeps that cheap.
    op.create_index('ix_jobs_queued', 'jobs', ['id'],
                    postgresql_where=sa.text("status = 'queued'"))
    op.create_table(
        'import_presets',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('name', sa.Text(), nullable=False, unique=True),
        sa.Column('layer', sa.Text(), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('fields', postgresql.JSONB(), nullable=False, server_default='{}'),
        sa.Column('values', postgresql.JSONB(), nullable=False, server_default='{}'),
        sa.Column('created_by', sa.Integer(),
                  sa.ForeignKey('users.id', ondelete='SET NULL',
                                name=op.f('fk_import_presets_created_by_users'))),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.text('now()')),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f('ck_import_presets_name')),
    )


def downgrade() -> None:
    op.drop_table('import_presets')
    op.drop_index('ix_jobs_queued', table_name='jobs')
    op.drop_table('jobs')
