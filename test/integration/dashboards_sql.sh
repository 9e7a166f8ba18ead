#!/bin/bash
# dashboards_sql.sh: every SQL query of every Grafana dashboard in
# manifests/grafana/dashboards/ runs against a real PostgreSQL with the
# migrations applied and hub rows in it, as the read-only role Grafana logs
# in as, and returns what its panel draws: at least one row, no column that
# is null in every row and, for a time series, no series (a "metric" value)
# whose values are all null (a misspelt JSON field is exactly that), a
# "time" column, numeric values and at most a "metric" text column naming
# the series. A dashboard that shows "no data" on a correct database fails
# here, and so does every query with one of its payload field names
# misspelt (checked by misspelling each in turn), and a Host dashboard that
# leaves out a metric type hub-metrics writes.
#
# Grafana's macros are expanded the way its PostgreSQL data source does with
# timescaledb off (see manifests/grafana/datasources.yaml), over the last
# hour, with $__interval = 1m; a query variable takes the first value its own
# query returns, a custom one its first option.
#
# The rows come from the real programs, never from INSERTs written here
# (field names guessed in a test are how a dashboard drifts from its
# writer): hub-metrics on its fixture trees, hub-readsync --from a file and
# against an unreachable MongoDB, hub-webhook over loopback, hub-gitops on a
# real checkout. One seed_* function per table family.
. "$(dirname "$0")/../lib.sh"
. "$HUB_TOP/test/fixtures/metrics/helpers.sh"
. "$HUB_TOP/test/fixtures/github/harness.bash"
t_need psql jq curl openssl git hub-metrics hub-readsync hub-webhook hub-gitops

tmp=$(t_tmpdir)
dsn=$(t_newdb dashboards_sql) || { t_fail "create the test database"; t_done; }
dashboards=("$HUB_TOP"/manifests/grafana/dashboards/*.json)
from=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%SZ)
from_epoch=$(date -u -d "$from" +%s)
to_epoch=$(date -u -d "$to" +%s)

sql() { psql -X -q -v ON_ERROR_STOP=1 "$dsn" "$@"; }

# --- rows -----------------------------------------------------------------

# system_metrics: hub-metrics' own rows, from the fixture trees of its tests
# (test/fixtures/metrics): sample s1, then s2 10.00 s later by the fixture's
# clock, so the second run has every rate and CPU share, and temperatures
# and disks exist even on a machine without sensors.
seed_system_metrics() {
    echo "# system_metrics: from hub-metrics on fixture samples s1, s2"
    mkdir -p "$tmp/metrics" || return 1
    HUB_PG_DSN=$dsn m_fixture s1 "$tmp/metrics" > "$tmp/metrics.log" 2>&1 &&
        HUB_PG_DSN=$dsn m_fixture s2 "$tmp/metrics" >> "$tmp/metrics.log" 2>&1 &&
        [ "$(sql -tA -c 'SELECT count(*) FROM system_metrics')" = 18 ]
}

# reading_analytics and reading_sync_history: hub-readsync's rows, from an
# Extended-JSON file (one document it must reject) and from a run whose
# MongoDB is unreachable (a failed run with its error).
seed_reading() {
    local bin=$HUB_BUILD/bin/hub-readsync i
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

# webhook_deliveries: hub-webhook's own rows, over loopback as in its tests
# (test/fixtures/github): a ping, a push that triggers, a push to an
# untracked branch (ignored, with its reason) and a badly signed one (401).
# Stopping the server flushes its best-effort writes.
seed_webhook() {
    echo "# webhook_deliveries: from hub-webhook"
    wh_setup
    HUB_PG_DSN=$dsn wh_start
    wh_post "$WH_FIX/ping.json" ping d0000000-0000-0000-0000-000000000001
    wh_post "$WH_FIX/push.json" push d0000000-0000-0000-0000-000000000002
    [ "$WH_CODE" = 202 ] && [ "$(wh_triggers)" = 1 ] || { echo "# push not triggered: $WH_CODE"; return 1; }
    wh_post "$WH_FIX/push_other_branch.json" push d0000000-0000-0000-0000-000000000003
    WH_SIG=sha256=$(printf '%064d' 0) wh_post "$WH_FIX/push.json" push d0000000-0000-0000-0000-000000000004
    [ "$WH_CODE" = 401 ] || { echo "# bad signature answered $WH_CODE"; return 1; }
    wh_stop
    cp "$WH_DIR/log" "$tmp/webhook.log"
    [ "$(sql -tA -c 'SELECT count(*) FROM webhook_deliveries')" = 4 ]
}

# gitops_runs: hub-gitops' rows, on a real checkout of a local bare remote:
# a sync that fast-forwards and applies, one from a webhook trigger (with a
# delivery and a traceparent) whose APPLY fails, and a no-op.
seed_gitops() {
    local bin=$HUB_BUILD/bin/hub-gitops g=$tmp/git after rc
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
        | ($p.targets // [] | length) as $n
        | $p.targets[]? | select(.datasource.uid == "hub-postgres" or ($p.datasource.uid == "hub-postgres"))
        | {board: $b, title: (if $n > 1 then "\($p.title) [\(.refId)]" else $p.title end),
           panel: $p.type, format: (.format // "time_series"), sql: .rawSql,
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
                 | "text column \(.name) (only \"metric\" names series)"),
                (if any($cols[]; .name == "metric") then
                    ($rows | group_by(.metric)[]) as $g
                    | $cols[] | select(.name != "time" and .name != "metric") | .name as $n
                    | select([$g[][$n]] | all(. == null))
                    | "series \($g[0].metric | tojson) is null in every row of \($n)"
                 else empty end)
           elif $q.panel == "stat" then
              (if [$cols[] | select(.type | numeric)] | length == 0 then "stat without a numeric column"
               else empty end)
           else empty end)
        ] | .[]'
}

# run_query DSN PRELUDE SQL: the rows of SQL and the names and types of its
# columns as JSON {cols, rows}; a temporary view gives the columns exactly
# as the panel will see them.
run_query() {
    psql -X -q -v ON_ERROR_STOP=1 -tA "$1" 2>&1 <<SQL
$2
CREATE TEMP VIEW q AS
$3
;
SELECT json_build_object(
    'cols', (SELECT json_agg(json_build_object('name', attname, 'type', format_type(atttypid, atttypmod))
                             ORDER BY attnum)
             FROM pg_attribute WHERE attrelid = 'q'::regclass AND attnum > 0),
    'rows', (SELECT coalesce(json_agg(q), '[]'::json) FROM q));
SQL
}

: > "$tmp/passed.jsonl"
while IFS= read -r q; do
    name=$(jq -r '"\(.board): \(.title)"' <<<"$q")
    raw=$(jq -r .sql <<<"$q")
    board=$HUB_TOP/manifests/grafana/dashboards/$(jq -r .board <<<"$q")
    final=$(expand "$(subst_vars "$board" "$raw")")
    final=${final%;}
    if grep -q '\$' <<<"${final//\$\$/}"; then
        t_fail "$name" "unexpanded \$ left: $(grep -o '\$[A-Za-z_{]*' <<<"$final" | sort -u | tr '\n' ' ')"
        continue
    fi
    if ! result=$(run_query "$dsn" "$role" "$final"); then
        t_fail "$name" "query failed: $result" "SQL: $final"
        continue
    fi
    problems=$(check_result "$q" "$result")
    if [ -z "$problems" ]; then
        t_ok "$name"
        jq -c --arg final "$final" '. + {final: $final}' <<<"$q" >> "$tmp/passed.jsonl"
    else
        t_fail "$name" "$problems" "SQL: $final"
    fi
done < "$tmp/queries.jsonl"

# Rejecting twins of every payload field a passing query reads: each
# ->'key' and ->>'key' misspelt in turn (one at a time) must make the query
# fail or the checks above complain. A field the checks cannot see (read
# only in a WHERE, hidden by a coalesce, one branch of a UNION) shows up
# here as "not caught".
declare -A fields missed
while IFS= read -r q; do
    board=$(jq -r .board <<<"$q")
    name=$(jq -r .title <<<"$q")
    rest=$(jq -r .final <<<"$q")
    done_part=""
    while [[ $rest =~ (->>?[[:space:]]*\')([^\']+)\' ]]; do
        m=${BASH_REMATCH[0]} op=${BASH_REMATCH[1]} key=${BASH_REMATCH[2]}
        before=${rest%%"$m"*}
        after=${rest#*"$m"}
        mutant="$done_part$before$op${key}_misspelt'$after"
        done_part="$done_part$before$m"
        rest=$after
        fields[$board]=$(( ${fields[$board]:-0} + 1 ))
        if result=$(run_query "$dsn" "$role" "$mutant") && [ -z "$(check_result "$q" "$result")" ]; then
            missed[$board]="${missed[$board]:-}$name: '$key' misspelt is not caught"$'\n'
        fi
    done
done < "$tmp/passed.jsonl"
for board in "${!fields[@]}"; do
    if [ -z "${missed[$board]:-}" ]; then
        t_ok "$board: each of its ${fields[$board]} payload field reads misspelt fails the checks"
    else
        t_fail "$board: each of its ${fields[$board]} payload field reads misspelt fails the checks" "${missed[$board]}"
    fi
done
t_check "the misspelling check sees the Host dashboard's payload reads" test "${fields[host.json]:-0}" -gt 0

# The Host dashboard shows every metric type hub-metrics wrote, by a query
# that passed the checks.
host_sql=$(jq -r 'select(.board == "host.json") | .final' "$tmp/passed.jsonl")
missing=""
for type in $(sql -tA -c 'SELECT DISTINCT metric_type FROM system_metrics ORDER BY 1'); do
    grep -Eq "metric_type (= '$type'|IN \\([^)]*'$type')" <<<"$host_sql" || missing="$missing $type"
done
t_eq "the Host dashboard shows every metric type hub-metrics writes" "" "${missing# }"

# Rejecting twin: the same checks see "no data" on an empty database.
empty=$(t_newdb dashboards_sql_empty)
q=$(head -1 "$tmp/queries.jsonl")
res=$(run_query "$empty" "" "$(expand "$(jq -r .sql <<<"$q" | sed "s/\$host/fixture-host/g")")")
if check_result "$q" "$res" | grep -q 'no rows'; then
    t_ok "an empty database is reported as no data"
else
    t_fail "an empty database is reported as no data" "$res"
fi

dropdb "${empty##*dbname=}" 2>/dev/null
dropdb dashboards_sql 2>/dev/null
psql -X -q -c 'DROP ROLE IF EXISTS grafana' >/dev/null 2>&1
t_done
