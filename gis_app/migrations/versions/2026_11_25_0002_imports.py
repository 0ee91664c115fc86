"""record survey imports; link revisions to the import that made them

Revision ID: 0002_imports
Revises: 0001_heritage_model
Create Date: 2026-11-25 08:50:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

ROW_KEYS = {"site_admin_units": ("site_id", "admin_unit_id")}  # as in 0001

revision = '0002_imports'
down_revision = '0001_heritage_model'
branch_labels = None
depends_on = None

# Frozen as of this revision (later revisions audit more tables).
AUDITED_TABLES = (
    "admin_units", "organisations", "people", "sites", "site_admin_units",
    "protection_zones", "landscapes", "facilities", "environment_notes",
    "intangible_heritage", "heritage_events", "artifacts", "artifact_inventory_records",
    "conservation_actions", "digital_records", "condition_assessments", "users",
)

# Revisions are written once per statement from its transition tables instead of once
# per row, and a row becomes JSON column by column with geometries as hex EWKB (exact,
# and what geometry input reads back) rather than through to_jsonb, whose GeoJSON
# conversion of geometries dominated: 100,000 imported zones took 19 s of trigger time
# row by row with to_jsonb, about 1 s this way. The import id comes from the
# `gis.import_id` setting; password hashes are never copied.
RECORD_REVISIONS = """
    CREATE FUNCTION record_revisions() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
      actor integer := nullif(current_setting('gis.actor_id', true), '')::integer;
      import_run bigint := nullif(current_setting('gis.import_id', true), '')::bigint;
      row_key text;
      same_row text;
      json_old text;
      json_new text;
    BEGIN
      SELECT string_agg(format('(%s ->> %L)', 'j', k), $q$ || ',' || $q$),
             string_agg(format('o.%I = n.%I', k, k), ' AND ')
        INTO row_key, same_row
        FROM unnest(TG_ARGV) AS k;
      -- jsonb_build_object takes at most 100 arguments: 40 columns per call, joined.
      SELECT string_agg(obj, ' || ') INTO json_old
        FROM (SELECT 'jsonb_build_object(' || string_agg(format('%L, %s', attname,
                       CASE WHEN atttypid = 'geometry'::regtype
                            THEN format('r.%I::text', attname)
                            ELSE format('r.%I', attname) END), ', ' ORDER BY attnum) || ')' AS obj
                FROM (SELECT attname, atttypid, attnum, (row_number() OVER (ORDER BY attnum) - 1)
                             / 40 AS chunk
                        FROM pg_attribute
                       WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped
                         AND attname <> 'password_hash') cols
               GROUP BY chunk) objs;
      json_new := replace(json_old, 'r.', 'n.');
      json_old := replace(json_old, 'r.', 'o.');
      IF TG_OP = 'INSERT' THEN
        EXECUTE format($f$
          INSERT INTO revisions (table_name, row_id, action, actor_id, after, import_id)
          SELECT %L, %s, 'insert', $1, j, $2 FROM (SELECT %s AS j FROM new_rows n) x
        $f$, TG_TABLE_NAME, row_key, json_new) USING actor, import_run;
      ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format($f$
          INSERT INTO revisions (table_name, row_id, action, actor_id, before, import_id)
          SELECT %L, %s, 'delete', $1, j, $2 FROM (SELECT %s AS j FROM old_rows o) x
        $f$, TG_TABLE_NAME, row_key, json_old) USING actor, import_run;
      ELSE
        EXECUTE format($f$
          INSERT INTO revisions (table_name, row_id, action, actor_id, before, after,
                                 import_id)
          SELECT %L, %s, 'update', $1, b, j, $2
            FROM (SELECT %s AS b, %s AS j FROM old_rows o JOIN new_rows n ON %s) x
           WHERE b IS DISTINCT FROM j
        $f$, TG_TABLE_NAME, row_key, json_old, json_new, same_row) USING actor, import_run;
      END IF;
      RETURN NULL;
    END $$
"""


def _row_keys(table: str) -> str:
    return ", ".join(f"'{k}'" for k in ROW_KEYS.get(table, ("id",)))


def _create_statement_triggers() -> None:
    for table in AUDITED_TABLES:
        op.execute(f"DROP TRIGGER {table}_revisions ON {table}")
        keys = _row_keys(table)
        for event, refs in (("INSERT", "NEW TABLE AS new_rows"),
                            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                            ("DELETE", "OLD TABLE AS old_rows")):
            op.execute(f"CREATE TRIGGER {table}_revisions_{event.lower()} AFTER {event} ON "
                       f"{table} REFERENCING {refs} FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION record_revisions({keys})")


def _restore_row_triggers() -> None:
    for table in AUDITED_TABLES:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER {table}_revisions_{event} ON {table}")
        op.execute(f"CREATE TRIGGER {table}_revisions AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} FOR EACH ROW EXECUTE FUNCTION record_revision({_row_keys(table)})")


RECORD_REVISION_0001 = """
    CREATE OR REPLACE FUNCTION record_revision() RETURNS trigger
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
"""


def upgrade() -> None:
    op.create_table('imports',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('layer', sa.String(length=63), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('checksum', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='loaded', nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('counts', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('report', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('undone_by', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('loaded', 'undone')", name=op.f('ck_imports_status_allowed')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_imports_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['undone_by'], ['users.id'], name=op.f('fk_imports_undone_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.add_column('revisions', sa.Column('import_id', sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_revisions_import_id_imports'), 'revisions', 'imports',
                          ['import_id'], ['id'])
    op.create_index(op.f('ix_revisions_import_id'), 'revisions', ['import_id'], unique=False)
    op.execute(RECORD_REVISIONS)
    _create_statement_triggers()
    op.execute("DROP FUNCTION record_revision()")


def downgrade() -> None:
    op.execute(RECORD_REVISION_0001)
    _restore_row_triggers()
    op.execute("DROP FUNCTION record_revisions()")
    op.drop_index(op.f('ix_revisions_import_id'), table_name='revisions')
    op.drop_constraint(op.f('fk_revisions_import_id_imports'), 'revisions', type_='foreignkey')
    op.drop_column('revisions', 'import_id')
    op.drop_table('imports')
