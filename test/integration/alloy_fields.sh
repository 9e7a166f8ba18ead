#!/bin/bash
# alloy_fields.sh: the journal pipeline in manifests/alloy/config.alloy
# against real hub log lines. The JSON keys its stage.json extracts must be
# in every line the programs print (lib/log.c), its timestamp stage must
# parse their "time", the labels it promotes must be the ones the Logs
# dashboard selects on, and the level values that dashboard filters on must
# be ones the logger writes. Under journald (JOURNAL_STREAM naming stdout)
# a line must be "<N>" + the same JSON with N the syslog priority of its
# level, which journald strips and files (the "priority" label).
#
# Real lines come from whatever hub binaries are built (the candidates
# below); at least one line, and one ERROR line, must be seen.
. "$(dirname "$0")/../lib.sh"
t_need jq

tmp=$(t_tmpdir)
alloy=$HUB_TOP/manifests/alloy/config.alloy
logs_board=$HUB_TOP/manifests/grafana/dashboards/logs.json

# --- what the Alloy config extracts and promotes --------------------------

# block NAME: the lines of the first "NAME {" block of config.alloy.
block() {
    awk -v name="$1" '
        !inside && index($0, name " {") { inside = 1; depth = 0 }
        inside { print; depth += gsub(/\{/, "{"); depth -= gsub(/\}/, "}"); if (depth == 0) exit }' "$alloy"
}
# Mappings inside expressions/values maps, one per line: label = "key".
block stage.json | sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=[[:space:]]*"\([^"]*\)",\{0,1\}[[:space:]]*$/\1 \2/p' \
    > "$tmp/extract"
block stage.labels | sed -n 's/^[[:space:]]*\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*=[[:space:]]*"",\{0,1\}[[:space:]]*$/\1/p' \
    > "$tmp/promoted"
block 'loki.relabel "journal"' | sed -n 's/^[[:space:]]*target_label[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' \
    > "$tmp/relabeled"
ts_source=$(block stage.timestamp | sed -n 's/^[[:space:]]*source[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p')

t_check "stage.json extracts service" grep -qx 'service service' "$tmp/extract"
t_check "stage.json extracts level" grep -qx 'level level' "$tmp/extract"
t_eq "stage.labels promotes service and level" "level service" "$(sort "$tmp/promoted" | tr '\n' ' ' | sed 's/ $//')"
missing=$(while read -r l; do grep -q "^$l " "$tmp/extract" || echo "$l"; done < "$tmp/promoted")
t_eq "every promoted label is extracted first" "" "$missing"
t_eq "the journal unit is kept as a label" "unit" "$(grep -x unit "$tmp/relabeled")"
t_check "the timestamp stage reads an extracted key" grep -q "^$ts_source " "$tmp/extract"

# --- real log lines -------------------------------------------------------

# run NAME CMD...: CMD's stdout (stderr dropped) appended to lines.raw.
run() {
    local bin=$HUB_BUILD/bin/$1
    shift
    [ -x "$bin" ] || return 0
    timeout 10 env -u JOURNAL_STREAM "$@" "$bin" "${args[@]}" >> "$tmp/lines.raw" 2>/dev/null </dev/null
    echo "# ran $(basename "$bin") ${args[*]}"
}
: > "$tmp/lines.raw"
mkdir -p "$tmp/state"
args=(); run hub-gate                                  # no state directory: an ERROR line
args=(--state-dir "$tmp/state" --dry-run --url http://127.0.0.1:9/health --tailscale /bin/false)
run hub-gate HUB_LOG_LEVEL=debug
args=(--no-db --state-dir "$tmp/state"); run hub-metrics
args=(--from /nonexistent/hub-alloy-test.jsonl); run hub-readsync
args=(status --json); run hub-gitops HUB_REPOS_DIR=/nonexistent HUB_LOG_LEVEL=debug
grep '^{' "$tmp/lines.raw" | while IFS= read -r l; do
    jq -e 'type == "object"' <<<"$l" >/dev/null 2>&1 && printf '%s\n' "$l"
done > "$tmp/lines"
n=$(wc -l < "$tmp/lines")
if [ "$n" -eq 0 ]; then
    t_fail "real hub log lines" "no hub binary in $HUB_BUILD/bin printed a JSON line; build first (make)"
    t_done
fi
t_ok "real hub log lines ($n)"

while read -r label key; do
    bad=$(jq -r --arg k "$key" 'select(has($k) | not) | .msg' "$tmp/lines" | sort -u | tr '\n' ' ')
    t_eq "every line has \"$key\" (Alloy's $label)" "" "$bad"
done < "$tmp/extract"
bad=$(jq -r --arg k "$ts_source" '.[$k]' "$tmp/lines" | while read -r t; do
    [[ "$t" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$ ]] ||
        echo "$t"
done)
t_eq "every \"$ts_source\" is RFC 3339 (stage.timestamp RFC3339Nano)" "" "$bad"

# Levels: the logger's names (lib/log.c), the lines', the dashboard's.
log_levels=$(sed -n 's/.*level_names\[\] *= *{\(.*\)}.*/\1/p' "$HUB_TOP/lib/log.c" | tr -d ' "' | tr ',' '\n' | sort)
t_check "lib/log.c names its levels" test -n "$log_levels"
seen=$(jq -r .level "$tmp/lines" | sort -u)
t_eq "lines use only the logger's level names" "" "$(comm -13 <(echo "$log_levels") <(echo "$seen") | tr '\n' ' ')"
t_check "an ERROR line was seen" grep -qx ERROR <<<"$seen"
board_levels=$(jq -r '[.. | objects | .expr? // empty] + [.templating.list[] | select(.name == "level") | .query]
                      | .[]' "$logs_board" |
               grep -o -e 'level="[A-Za-z]*"' -e '^[A-Z,]*$' | sed 's/level="//; s/"//' | tr ',' '\n' | sort -u)
echo "# logger levels: $(tr '\n' ' ' <<<"$log_levels"); dashboard levels: $(tr '\n' ' ' <<<"$board_levels")"
t_check "the Logs dashboard filters on levels" grep -qx ERROR <<<"$board_levels"
t_eq "the Logs dashboard filters on level names the logger writes" "" \
    "$(comm -13 <(echo "$log_levels") <(echo "$board_levels") | tr '\n' ' ')"
labels=$(sort -u "$tmp/promoted" "$tmp/relabeled")
used=$(jq -r '.. | objects | .expr? // empty' "$logs_board" |
       { grep -o -e '{[^}]*}' -e 'by ([^)]*)' || true; } |
       grep -o -e '[a-z_]*[[:space:]]*[=!]~\{0,1\}' -e 'by ([^)]*)' |
       sed 's/by (//; s/)//; s/[[:space:]]*[=!]~\{0,1\}$//' | tr ',' '\n' | tr -d ' ' | grep . | sort -u)
echo "# labels Alloy sets: $(tr '\n' ' ' <<<"$labels"); the dashboard uses: $(tr '\n' ' ' <<<"$used")"
t_check "the Logs dashboard selects on service and level" grep -qx service <<<"$used"
t_eq "the Logs dashboard selects only labels Alloy sets" "" "$(comm -13 <(echo "$labels") <(echo "$used") | tr '\n' ' ')"

# Under journald: "<N>" + the JSON line, N the level's syslog priority.
bin=""
for b in hub-gate hub-metrics hub-readsync hub-gitops; do
    [ -x "$HUB_BUILD/bin/$b" ] && { bin=$b; break; }
done
if [ "$bin" = hub-gate ]; then
    out=$tmp/journal.out
    : > "$out"
    JOURNAL_STREAM=$(stat -c '%d:%i' "$out") timeout 10 "$HUB_BUILD/bin/hub-gate" >> "$out" 2>/dev/null </dev/null
    line=$(head -1 "$out")
    prio=$(sed -n 's/^<\([0-7]\)>.*/\1/p' <<<"$line")
    json=${line#<*>}
    want=$(jq -r '{"DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3}[.level] // "?"' <<<"$json" 2>/dev/null)
    t_eq "journal line: <priority of its level> + JSON with Alloy's keys" "$want ok" \
        "$prio $(jq -r --slurpfile e <(cut -d' ' -f2 "$tmp/extract" | jq -R . ) \
                 '. as $o | if [$e[] | . as $k | $o | has($k)] | all then "ok" else "missing keys" end' <<<"$json" 2>&1)"
else
    t_skip "journal line: <priority of its level> + JSON" "needs build/bin/hub-gate"
fi

t_done
