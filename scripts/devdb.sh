#!/usr/bin/env bash
# Private PostgreSQL + PostGIS cluster for development and tests.
#
#   scripts/devdb.sh ensure [DBNAME...]  init (once) and start the cluster, create the
#                                         databases with postgis, unaccent and pg_trgm
#   scripts/devdb.sh recreate DBNAME      drop and create DBNAME (tests, benchmarks)
#   scripts/devdb.sh stop                 stop the cluster
#   scripts/devdb.sh status
#
# The cluster lives in var/pg (listening on 127.0.0.1 only, socket inside the cluster
# directory). Its port is chosen once, at creation ($GIS_PG_PORT, else the first free
# port from 54329, so two checkouts on one machine do not collide) and kept in
# var/pg.port, where gis_app/config.py reads it. PostgreSQL refuses to run as root, so
# as root it runs as the `postgres` system user; when that user cannot reach the
# checkout (e.g. a clone under a 0700 directory), the data lives under /var/tmp and
# var/pg is a symlink to it.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
portfile="$here/var/pg.port"
pgbin=${GIS_PG_BIN:-/usr/lib/postgresql/15/bin}
link="$here/var/pg"

die() { echo "devdb: $*" >&2; exit 1; }

[ -x "$pgbin/initdb" ] || die "PostgreSQL 15 server not found in $pgbin.
Install it: apt-get install -y postgresql-15-postgis-3   (or set GIS_PG_BIN)"

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

choose_port() {
  if [ -f "$portfile" ]; then cat "$portfile"; return; fi
  local p=${GIS_PG_PORT:-54329}
  if [ -z "${GIS_PG_PORT:-}" ]; then
    while ! port_is_free "$p"; do p=$((p + 1)); done
  fi
  mkdir -p "$here/var"
  echo "$p" >"$portfile"
  echo "$p"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cluster_dir() {
  if [ -e "$link" ]; then
    readlink -f "$link"
    return
  fi
  mkdir -p "$here/var"
  local dir="$here/var/pg"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    if ! runuser -u postgres -- test -x "$here/var"; then
      dir="/var/tmp/khoai-chau-gis-$(echo -n "$here" | md5sum | cut -c1-12)/pg"
      mkdir -p "$dir"
      ln -s "$dir" "$link"
    fi
  fi
  mkdir -p "$dir"
  echo "$dir"
}

psql_() {
  local dir=$1; shift
  PGOPTIONS="-c client_min_messages=warning" as_owner "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres "$@"
}

start() {
  local dir; dir=$(cluster_dir)
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    echo "devdb: creating private cluster in $dir (port $port)" >&2
    as_owner "$pgbin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$dir/postgresql.conf" <<CONF
# khoai-chau-gis private cluster
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
work_mem = 16MB
# Many short queries (a bbox, a zone check): JIT compiling them costs more than it
# saves (the app also sets jit=off per connection; this covers psql, pgbench, backups).
jit = off
CONF
  fi
  if ! as_owner "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_owner "$pgbin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || die "the cluster did not start; see $dir/server.log"
  fi
  echo "$dir"
}

create_db() {
  local dir=$1 name=$2
  if [ "$(psql_ "$dir" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]; then
    psql_ "$dir" -d postgres -c "CREATE DATABASE \"$name\""
  fi
  psql_ "$dir" -d "$name" -c "CREATE EXTENSION IF NOT EXISTS postgis; CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm;" \
    || die "cannot create the postgis extension. Install it: apt-get install -y postgresql-15-postgis-3"
}

cmd=${1:-status}; shift || true
port=$( [ "$cmd" = ensure ] || [ "$cmd" = recreate ] && choose_port || cat "$portfile" 2>/dev/null || echo 54329)
case "$cmd" in
  ensure)
    dir=$(start)
    for db in "$@"; do create_db "$dir" "$db"; done ;;
  recreate)
    dir=$(start)
    for db in "$@"; do
      psql_ "$dir" -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)"
      create_db "$dir" "$db"
    done ;;
  stop)
    if [ -e "$link" ]; then
      dir=$(readlink -f "$link")
      as_owner "$pgbin/pg_ctl" -D "$dir" status >/dev/null 2>&1 && as_owner "$pgbin/pg_ctl" -D "$dir" -m fast -w stop
    fi
    true ;;
  status)
    [ -e "$link" ] && as_owner "$pgbin/pg_ctl" -D "$(readlink -f "$link")" status || echo "no cluster" ;;
  *) die "unknown command $cmd (ensure | recreate | stop | status)" ;;
esac
