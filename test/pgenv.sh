# test/pgenv.sh: sourced by test/run.sh and test/bench/run.sh. Makes a
# scratch dir ($HUB_TEST_WORK), starts a throwaway PostgreSQL in it, creates
# hub_template with the migrations applied, and stops the server and removes
# the dir on exit (HUB_KEEP=1 keeps the dir).
hub_pgenv_start() {
    local top=$1
    HUB_TEST_WORK=$(mktemp -d "${TMPDIR:-/tmp}/hub-test.XXXXXX")
    chmod 755 "$HUB_TEST_WORK"
    export HUB_TEST_WORK
    trap hub_pgenv_stop EXIT
    trap 'exit 130' INT TERM
    local sock
    sock=$("$top/scripts/pg.sh" start "$HUB_TEST_WORK/pg") || return 1
    export PGHOST=$sock PGUSER=postgres
    export PGOPTIONS="-c client_min_messages=warning"
    createdb hub_template &&
        HUB_PG_DSN="host=$sock user=postgres dbname=hub_template" "$top/scripts/migrate.sh" >/dev/null
}

hub_pgenv_stop() {
    "$HUB_TOP/scripts/pg.sh" stop "$HUB_TEST_WORK/pg" >/dev/null 2>&1
    if [ "${HUB_KEEP:-0}" = 1 ]; then
        echo "# kept $HUB_TEST_WORK" >&2
    else
        rm -rf "$HUB_TEST_WORK"
    fi
}
