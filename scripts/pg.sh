#!/bin/sh
# pg.sh: a throwaway PostgreSQL 15 for tests, the demo and benchmarks.
#
# usage: scripts/pg.sh start DIR    initdb (if needed) and start a server whose
#                                   data and socket live under DIR; prints the
#                                   socket directory
#        scripts/pg.sh stop DIR     stop it (fast shutdown); no-op if not running
#        scripts/pg.sh env DIR      print PGHOST=... for eval
#
# Tests trade durability for speed (fsync off); HUB_PG_DURABLE=1 keeps the
# stock durable settings, for benchmarks that compare commit costs.
# The server listens only on a Unix socket in DIR/sock (no TCP port, so runs
# never collide), trusts local connections, and runs as the "postgres" user
# when started as root: initdb refuses root, and CI runs as root.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: scripts/pg.sh start|stop|env DIR" >&2; exit 64; }
[ -x "$PGBIN/pg_ctl" ] || { echo "pg.sh: no PostgreSQL 15 in $PGBIN: run scripts/install-deps.sh" >&2; exit 69; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    mkdir -p "$dir/sock"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres:postgres "$dir"
        # The server user must reach DIR: a checkout under /root is not
        # reachable by postgres, so say so instead of failing obscurely.
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg.sh: user postgres cannot write $dir (a parent directory is private); use a directory under /tmp" >&2
            exit 78
        fi
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust \
            --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2; exit 69; }
    fi
    fast="-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
    [ "${HUB_PG_DURABLE:-0}" = 1 ] && fast=""
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir/sock' $fast -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 69; }
    echo "$dir/sock"
}

stop() {
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

case "$cmd" in
start) start ;;
stop) stop ;;
env) echo "PGHOST=$(cd "$dir" && pwd)/sock PGUSER=postgres" ;;
*) echo "usage: scripts/pg.sh start|stop|env DIR" >&2; exit 64 ;;
esac
