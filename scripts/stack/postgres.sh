#!/usr/bin/env bash
# postgres.sh start|stop — a PostgreSQL cluster of our own on PG_PORT, data in PG_DIR.
# PostgreSQL refuses to run as root, so the cluster runs as the 'postgres' system user, and
# PG_DIR must be a path that user can reach (the scripts put it under /tmp, not the checkout).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
: "${PG_DIR:?}" "${PG_PORT:?}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then  # `make run` does not install PostgreSQL: nothing of ours can be running
  [ "${1:-}" != stop ] || exit 0
  echo "postgres: not installed; run scripts/install-deps.sh" >&2; exit 1
fi
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "${1:-}" in
  start)
    mkdir -p "$PG_DIR"
    [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$PG_DIR"
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log"
    fi
    if ! as_pg "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    fi
    as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='latchkey'" | grep -q 1 \
      || as_pg psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE latchkey"
    echo "postgres: up on 127.0.0.1:$PG_PORT" ;;
  stop)
    if [ -f "$PG_DIR/data/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null && echo "postgres: stopped"
    fi ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
