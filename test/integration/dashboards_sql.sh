#!/bin/bash
# dashboards_sql.sh: every SQL query of every Grafana dashboard in
# manifests/grafana/dashboards/ runs against a real PostgreSQL with the
# migrations applied and hub rows in it, as the read-only role Grafana logs
# in as, and returns what its panel draws: at least one row, no column that
# is null in every row (a misspelt JSON field is exactly that), and for a
# time series a "time" column, numeric values and at most a "metric" text
# column naming the series. A dashboard that shows "no data" on a correct
# database fails here.
#
# Grafana's macros are expanded the way its PostgreSQL data source does with
# timescaledb off (see manifests/grafana/datasources.yaml), over the last
# hour, with $__interval = 1m; a query variable takes the first value its own
# query returns, a custom one its first option.
#
# The rows come from the real programs where they are built (hub-readsync
# --from a file and against an unreachable MongoDB; hub-gitops on a real
# checkout) and from representative INSERTs otherwise: one seed_* function
# per table family, each choosing for itself (its "#" line says which).
. "$(dirname "$0")/../lib.sh"
t_need psql jq

tmp=$(t_tmpdir)
dsn=$(t_newdb dashboards_sql) || { t_fail "create the test database"; t_done; }
dashboards=("$HUB_TOP"/manifests/grafana/dashboards/*.json)
from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%SZ)
from_epoch=$(date -u -d "$from" +%s)
to_epoch=$(date -u -d "$to" +%s)

sql() { psql -X -q -v ON_ERROR_STOP=1 "$dsn" "$@"; }

# --- rows -----------------------------------------------------------------

# system_metrics: hub-metrics' payloads, one sample a minute for 30 minutes.
# NEEDSWORK: from hub-metrics once it is built, as seed_reading does: run it
# twice (rates need a previous sample) with HUB_PG_DSN=$dsn, a --state-dir
# in $tmp and its fixture --proc-root/--sys-root (a machine without sensors
# has no temperatures, and the Temperatures panel must show some).
seed_system_metrics() {
    echo "# system_metrics: representative rows (psql; NEEDSWORK: from hub-metrics once it is built)"
    sql <<'SQL'
INSERT INTO system_metrics (time, host, os, metric_type, payload)
SELECT t, 'test-host', 'Debian GNU/Linux 12 (bookworm)', m.metric_type, m.payload
FROM generate_series(0, 30) AS i,
     LATERAL (SELECT date_trunc('minute', now()) - make_interval(mins => 30 - i) AS t) AS ts,
     LATERAL (VALUES
       ('cpu', jsonb_build_object(
           'usage', 20 + 10 * sin(i), 'user', 12.5, 'system', 4.5, 'iowait', 1.5, 'steal', 0.25,
           'package_temp', 48 + i % 5,
           'core_temps', jsonb_build_object('core_0', 45 + i % 3, 'core_1', 46),
           'cores', jsonb_build_object('cpu0', jsonb_build_object('usage', 18 + i % 4),
                                       'cpu1', jsonb_build_object('usage', 22)))),
       ('memory', jsonb_build_object('total', 8000000000, 'available', 5000000000 - i * 1000000,
                                     'used', 3000000000 + i * 1000000, 'used_percent', 37.5 + i * 0.0125)),
       ('swap', jsonb_build_object('total', 2000000000, 'used', 100000000, 'free', 1900000000, 'used_percent', 5)),
       ('load', jsonb_build_object('load1', 0.5 + i * 0.01, 'load5', 0.4, 'load15', 0.3)),
       ('disk', jsonb_build_object(
           '/', jsonb_build_object('total', 100000000000, 'used', 42000000000, 'free', 58000000000,
                                   'used_percent', 42, 'inodes_used_percent', 7),
           '/home', jsonb_build_object('total', 500000000000, 'used', 100000000000, 'free', 400000000000,
                                       'used_percent', 20, 'inodes_used_percent', 1))),
       ('diskio', jsonb_build_object('sda', jsonb_build_object(
           'read_bytes_per_sec', 1000 * i, 'write_bytes_per_sec', 2000, 'busy_percent', 3))),
       ('network', jsonb_build_object(
           'eth0', jsonb_build_object('rx_bytes', 1000000 + i * 5000, 'tx_bytes', 500000 + i * 1000))),
       ('temperature', jsonb_build_object('sensors', jsonb_build_object(
           'acpitz', jsonb_build_object('celsius', 40)))),
       ('uptime', jsonb_build_object('seconds', 3600 + i * 60))
     ) AS m(metric_type, payload);
SQL
}

# reading_analytics and reading_sync_history: hub-readsync's rows, from an
# Extended-JSON file (one document it must reject) and from a run whose
# MongoDB is unreachable (a failed run with its error).
seed_reading() {
    local bin=$HUB_BUILD/bin/hub-readsync i
    if [ ! -x "$bin" ]; then
        seed_reading_fixture
        return
    fi
    echo "# reading_analytics, reading_sync_history: from hub-readsync"
    for i in $(seq 1 20); do
        printf '{"_id":{"$oid":"%024x"},"timestamp":{"$date":"%s"},"source":"%s","event_type":"%s","payload":{"title":"Book %d"},"meta":{"device":"test"},"status":"ingested"}\n' \
            "$i" "$(date -u -d "-$((i * 2)) min" +%Y-%m-%dT%H:%M:%S.000Z)" \
            "$( [ $((i % 2)) = 0 ] && echo kindle || echo web)" \
            "$( [ $((i % 3)) = 0 ] && echo highlight || echo read)" "$i"
    done > "$tmp/reading.jsonl"
    echo '{"_id":{"$oid":"0000000000000000000000ff"},"timestamp":"not a date","source":"web"}' >> "$tmp/reading.jsonl"
    HUB_PG_DSN=$dsn "$bin" --from "$tmp/reading.jsonl" > "$tmp/readsync.log" || return 1
    HUB_PG_DSN=$dsn HUB_MONGO_URI='mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300&connectTimeoutMS=300' \
        timeout 30 "$bin" >> "$tmp/readsync.log"
    [ $? = 69 ]
}

seed_reading_fixture() {
    echo "# reading_analytics, reading_sync_history: representative rows (psql; hub-readsync not built)"
    sql <<'SQL'
INSERT INTO reading_analytics (mongo_id, event_timestamp, source, event_type, payload, meta)
SELECT lpad(to_hex(i), 24, '0'), now() - make_interval(mins => i * 2),
       (ARRAY['kindle', 'web'])[1 + i % 2], (ARRAY['highlight', 'read', 'bookmark'])[1 + i % 3],
       jsonb_build_object('title', 'Book ' || i), jsonb_build_object('device', 'test')
FROM generate_series(1, 20) AS i;
INSERT INTO reading_sync_history (start_time, end_time, status, processed_count, rejected_count, error_message)
VALUES (now() - interval '50 min', now() - interval '49 min', 'success', 15, 1, NULL),
       (now() - interval '30 min', now() - interval '30 min' + interval '2 s', 'failed', 0, 0,
        'mongodb unreachable'),
       (now() - interval '10 min', now() - interval '10 min' + interval '3 s', 'success', 5, 0, NULL);
SQL
}

# webhook_deliveries: hub-webhook's rows.
seed_webhook() {
    echo "# webhook_deliveries: representative rows (psql; NEEDSWORK: from hub-webhook once it is built)"
    sql <<'SQL'
INSERT INTO webhook_deliveries (received_at, delivery, event, repo, ref, after_rev, status, outcome,
                                reason, duration_us, remote_addr, trace_id)
VALUES (now() - interval '40 min', 'd-1', 'ping', NULL, NULL, NULL, 200, 'pong', NULL, 900, '127.0.0.1', NULL),
       (now() - interval '30 min', 'd-2', 'push', 'hub', 'refs/heads/main', repeat('a', 40), 202,
        'triggered', NULL, 1500, '127.0.0.1', repeat('f', 32)),
       (now() - interval '20 min', 'd-3', 'push', 'hub', 'refs/heads/feature', repeat('b', 40), 202,
        'ignored', 'not the tracked branch', 800, '127.0.0.1', NULL),
       (now() - interval '10 min', 'd-4', 'push', NULL, NULL, NULL, 401, 'bad_signature',
        'signature mismatch', 300, '127.0.0.1', NULL);
SQL
}

# gitops_runs: hub-gitops' rows, on a real checkout of a local bare remote:
# a sync that fast-forwards and applies, one from a webhook trigger (with a
# delivery and a traceparent) whose APPLY fails, and a no-op.
seed_gitops() {
    local bin=$HUB_BUILD/bin/hub-gitops g=$tmp/git after rc
    if [ ! -x "$bin" ] || ! command -v git >/dev/null; then
        seed_gitops_fixture
        return
    fi
    echo "# gitops_runs: from hub-gitops"
    mkdir -p "$g/repos.d" "$g/state"
    gitops_commit() { git -C "$g/work" -c user.email=t@example.invalid -c user.name=t commit -q --allow-empty -m "$1"; }
    git init -q --bare -b main "$g/remote.git" &&
        git clone -q "$g/remote.git" "$g/work" 2>/dev/null && gitops_commit one &&
        git -C "$g/work" push -q origin main &&
        git clone -q "$g/remote.git" "$g/checkout" &&
        gitops_commit two && gitops_commit three && git -C "$g/work" push -q origin main || return 1
    printf 'CHECKOUT=%s\nBRANCH=main\nAPPLY=/bin/true\n' "$g/checkout" > "$g/repos.d/hub.conf"
    HUB_PG_DSN=$dsn "$bin" --repos-dir "$g/repos.d" --state-dir "$g/state" sync hub > "$tmp/gitops.log" || return 1
    gitops_commit four && git -C "$g/work" push -q origin main || return 1
    after=$(git -C "$g/work" rev-parse HEAD)
    printf 'CHECKOUT=%s\nBRANCH=main\nAPPLY=/bin/false\n' "$g/checkout" > "$g/repos.d/hub.conf"
    printf '{"repo":"hub","ref":"refs/heads/main","after":"%s","delivery":"d-42","event":"push","traceparent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}\n' "$after" |
        HUB_PG_DSN=$dsn HUB_OTLP_ENDPOINT=http://127.0.0.1:9 \
        "$bin" --repos-dir "$g/repos.d" --state-dir "$g/state" sync --event - >> "$tmp/gitops.log"
    rc=$?
    [ "$rc" = 70 ] || { echo "# hub-gitops: failing APPLY gave $rc, not 70"; return 1; }
    HUB_PG_DSN=$dsn "$bin" --repos-dir "$g/repos.d" --state-dir "$g/state" sync hub >> "$tmp/gitops.log"
}

seed_gitops_fixture() {
    echo "# gitops_runs: representative rows (psql; hub-gitops not built)"
    sql <<'SQL'
INSERT INTO gitops_runs (started_at, finished_at, repo, branch, trigger, delivery, old_rev, new_rev, commits,
                         outcome, apply_exit, duration_ms, error, trace_id)
VALUES (now() - interval '30 min', now() - interval '30 min' + interval '2 s', 'hub', 'main', 'webhook', 'd-2',
        repeat('1', 40), repeat('a', 40), 3, 'updated', 0, 2000, NULL, repeat('f', 32)),
       (now() - interval '25 min', now() - interval '25 min', 'dotfiles', 'main', 'timer', NULL,
        repeat('c', 40), repeat('c', 40), 0, 'unchanged', NULL, 150, NULL, NULL),
       (now() - interval '5 min', now() - interval '5 min' + interval '9 s', 'hub', 'main', 'manual', NULL,
        repeat('a', 40), repeat('d', 40), 1, 'apply_failed', 1, 9000, 'apply exited 1', NULL);
SQL
}

if seed_system_metrics && seed_reading && seed_webhook && seed_gitops; then
    t_ok "hub rows written"
else
    t_fail "hub rows written" "$(cat "$tmp"/*.log 2>/dev/null)"
    t_done
fi

# Run the queries as the role Grafana logs in as (manifests/postgres).
if POSTGRES_USER=${PGUSER:-postgres} POSTGRES_DB=dashboards_sql GRAFANA_DB_PASSWORD="t-$RANDOM" \
        sh "$HUB_TOP/manifests/postgres/grafana-role.sh" >/dev/null; then
    role="SET ROLE grafana;"
    t_ok "read-only role grafana set up as in the pod"
else
    role=""
    t_fail "read-only role grafana set up as in the pod"
fi

# --- macros ---------------------------------------------------------------

# expand SQL: Grafana's PostgreSQL macros (timescaledb off) and $__interval.
# The argument pattern is Grafana's own, [^)]*: a macro argument cannot hold
# a parenthesis there either.
expand() {
    jq -rn --arg s "$1" --arg from "$from" --arg to "$to" \
           --argjson fe "$from_epoch" --argjson te "$to_epoch" '
        def secs: capture("^'"'"'?(?<n>[0-9]+)(?<u>[smhd])'"'"'?$")
                  | (.n | tonumber) * ({"s": 1, "m": 60, "h": 3600, "d": 86400}[.u]);
        def args: split(",") | map(gsub("^\\s+|\\s+$"; ""));
        $s
        | gsub("\\$__interval_ms"; "60000")
        | gsub("\\$__interval"; "1m")
        | gsub("\\$__timeGroupAlias\\((?<a>[^)]*)\\)";
               (.a | args) as $a | "floor(extract(epoch from \($a[0]))/\($a[1] | secs))*\($a[1] | secs) AS \"time\"")
        | gsub("\\$__timeGroup\\((?<a>[^)]*)\\)";
               (.a | args) as $a | "floor(extract(epoch from \($a[0]))/\($a[1] | secs))*\($a[1] | secs)")
        | gsub("\\$__timeFilter\\((?<a>[^)]*)\\)"; "\(.a) BETWEEN '"'"'\($from)'"'"' AND '"'"'\($to)'"'"'")
        | gsub("\\$__timeFrom\\(\\)"; "'"'"'\($from)'"'"'")
        | gsub("\\$__timeTo\\(\\)"; "'"'"'\($to)'"'"'")
        | gsub("\\$__unixEpochFilter\\((?<a>[^)]*)\\)"; "\(.a) >= \($fe) AND \(.a) <= \($te)")
        | gsub("\\$__timeEpoch\\((?<a>[^)]*)\\)"; "extract(epoch from \(.a)) as \"time\"")
        | gsub("\\$__time\\((?<a>[^)]*)\\)"; "\(.a) AS \"time\"")'
}

# The expansion itself, against Grafana's documented output.
t_eq "macro: \$__timeGroupAlias" 'floor(extract(epoch from time)/300)*300 AS "time"' \
    "$(expand '$__timeGroupAlias(time, 5m)')"
t_eq "macro: \$__timeFilter" "t BETWEEN '$from' AND '$to'" "$(expand '$__timeFilter(t)')"
t_eq "macro: \$__interval inside \$__timeGroup" 'floor(extract(epoch from x)/60)*60' \
    "$(expand '$__timeGroup(x, $__interval)')"

# subst_vars BOARD SQL: template variables replaced by their first value.
subst_vars() {
    local board=$1 s=$2 name kind query val
    while IFS=$'\t' read -r name kind query; do
        [ -n "$name" ] || continue
        case "$kind" in
        pgquery) val=$(sql -tA -c "$role $(expand "$query")" | head -1) ;;
        custom) val=${query%%,*} ;;
        *) continue ;;
        esac
        s=${s//"\${$name}"/$val}
        s=${s//"\$$name"/$val}
    done < <(jq -r '.templating.list[]?
        | [.name,
           (if .type == "query" and .datasource.uid == "hub-postgres" then "pgquery"
            elif .type == "custom" then "custom" else "other" end),
           (.query | if type == "string" then . else (.query // "") end | gsub("[\t\n]"; " "))]
        | @tsv' "$board")
    printf '%s' "$s"
}

# --- the queries ------------------------------------------------------------

# Every SQL target and SQL variable of every dashboard, one JSON object a line.
for board in "${dashboards[@]}"; do
    jq -c --arg b "$(basename "$board")" '
        (.panels[] | .panels[]? // .) as $p
        | $p.targets[]? | select(.datasource.uid == "hub-postgres" or ($p.datasource.uid == "hub-postgres"))
        | {board: $b, title: $p.title, panel: $p.type, format: (.format // "time_series"), sql: .rawSql,
           names: [$p.fieldConfig.overrides[]? | select(.matcher.id == "byName") | .matcher.options]}' "$board"
    jq -c --arg b "$(basename "$board")" '
        .templating.list[]? | select(.type == "query" and .datasource.uid == "hub-postgres")
        | {board: $b, title: "variable $\(.name)", panel: "variable", format: "table",
           sql: (.query | if type == "string" then . else .rawSql end), names: []}' "$board"
done > "$tmp/queries.jsonl"
t_check "dashboards hold SQL queries" test -s "$tmp/queries.jsonl"

# check_result Q RESULT: what the panel needs from the rows; prints the problems.
check_result() {
    jq -rn --argjson q "$1" --argjson r "$2" '
        ($r.cols) as $cols | ($r.rows) as $rows
        | def numeric: test("^(double precision|numeric|real|bigint|integer|smallint)");
          def timey: test("^timestamp");
        [ (if ($rows | length) == 0 then "no rows" else empty end),
          ($cols[] | .name as $n | select($rows | length > 0)
                   | select([$rows[][$n]] | all(. == null)) | "column \($n) is null in every row"),
          ($q.names[] | . as $n | select($cols | map(.name) | index($n) | not)
                      | "panel override names column \($n), which the query lacks"),
          (if $q.format == "time_series" then
              ([$cols[] | select(.name == "time")] | first) as $t
              | (if $t == null then "no \"time\" column"
                 elif ($t.type | (numeric or timey) | not) then "time column is \($t.type)" else empty end),
                (if [$cols[] | select(.name != "time" and (.type | numeric))] | length == 0
                 then "no numeric value column" else empty end),
                ($cols[] | select(.name != "time" and .name != "metric" and (.type | numeric | not))
                 | "text column \(.name) (only \"metric\" names series)")
           elif $q.panel == "stat" then
              (if [$cols[] | select(.type | numeric)] | length == 0 then "stat without a numeric column"
               else empty end)
           else empty end)
        ] | .[]'
}

n=0
while IFS= read -r q; do
    n=$((n + 1))
    name=$(jq -r '"\(.board): \(.title)"' <<<"$q")
    raw=$(jq -r .sql <<<"$q")
    board=$HUB_TOP/manifests/grafana/dashboards/$(jq -r .board <<<"$q")
    final=$(expand "$(subst_vars "$board" "$raw")")
    final=${final%;}
    if grep -q '\$' <<<"${final//\$\$/}"; then
        t_fail "$name" "unexpanded \$ left: $(grep -o '\$[A-Za-z_{]*' <<<"$final" | sort -u | tr '\n' ' ')"
        continue
    fi
    # A temporary view gives the column names and types the panel will see.
    if ! result=$(sql -tA 2>&1 <<SQL
$role
CREATE TEMP VIEW q AS
$final
;
SELECT json_build_object(
    'cols', (SELECT json_agg(json_build_object('name', attname, 'type', format_type(atttypid, atttypmod))
                             ORDER BY attnum)
             FROM pg_attribute WHERE attrelid = 'q'::regclass AND attnum > 0),
    'rows', (SELECT coalesce(json_agg(q), '[]'::json) FROM q));
SQL
    ); then
        t_fail "$name" "query failed: $result" "SQL: $final"
        continue
    fi
    problems=$(check_result "$q" "$result")
    if [ -z "$problems" ]; then
        t_ok "$name"
    else
        t_fail "$name" "$problems" "SQL: $final"
    fi
done < "$tmp/queries.jsonl"

# Rejecting twin: the same checks see "no data" on an empty database.
empty=$(t_newdb dashboards_sql_empty)
q=$(head -1 "$tmp/queries.jsonl")
board=$HUB_TOP/manifests/grafana/dashboards/$(jq -r .board <<<"$q")
res=$(psql -X -q -tA "$empty" -c "CREATE TEMP VIEW q AS $(expand "$(jq -r .sql <<<"$q" | sed "s/\$host/test-host/g")");
    SELECT json_build_object('cols', (SELECT json_agg(json_build_object('name', attname, 'type',
        format_type(atttypid, atttypmod))) FROM pg_attribute WHERE attrelid = 'q'::regclass AND attnum > 0),
        'rows', (SELECT coalesce(json_agg(q), '[]'::json) FROM q))" 2>&1)
if check_result "$q" "$res" | grep -q 'no rows'; then
    t_ok "an empty database is reported as no data"
else
    t_fail "an empty database is reported as no data" "$res"
fi

dropdb "${empty##*dbname=}" 2>/dev/null
dropdb dashboards_sql 2>/dev/null
psql -X -q -c 'DROP ROLE IF EXISTS grafana' >/dev/null 2>&1
t_done
