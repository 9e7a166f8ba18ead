#!/bin/bash
# bench_webhook.sh: hub-webhook against adnanh/webhook (Debian `webhook`),
# side by side in one run, on the same core, with the same signed 7.7 KB
# push on the verify-and-ignore path (a push to a branch that is not
# tracked: both verify the HMAC, read the payload and decline).
#
# Each server is pinned to core 0 and wrk to the other core(s); each gets
# a warm-up, then BENCH_ROUNDS (default 3) rounds of BENCH_SECONDS (default
# 10) of wrk with BENCH_CONNS (default 50) keep-alive connections, the two
# servers taking turns so that load from elsewhere on a shared machine
# falls on both alike. Reported per server, as medians of the rounds:
# requests/s, p99 latency and CPU time a request (the server's user+system
# time over the requests served: the figure least moved by a noisy
# neighbour); then peak RSS (VmHWM) and PSS at the end; then the targets of
# issue 3: >= 4x the requests/s, <= 1/4 the p99, <= 1/4 the peak RSS.
# Prints TAP like the tests; a missed target is "not ok" so it shows.
#
# usage: HUB_BUILD=build test/bench/bench_webhook.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${HUB_BUILD:-$top/build}
seconds=${BENCH_SECONDS:-10}
rounds=${BENCH_ROUNDS:-3}
conns=${BENCH_CONNS:-50}
secret="bench-secret-$$"
n=0
fail=0
pids=()

say() { printf '# %s\n' "$*"; }
result() { n=$((n + 1)); if [ "$1" = ok ]; then echo "ok $n - $2"; else fail=1; echo "not ok $n - $2"; fi; }
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$work"
}
for tool in wrk webhook openssl taskset curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "not ok 1 - bench_webhook needs $tool (scripts/install-deps.sh)"
        exit 1
    fi
done
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-webhook.XXXXXX")
trap cleanup EXIT

body=$top/test/fixtures/github/push_other_branch.json
sig="sha256=$(openssl dgst -sha256 -hmac "$secret" -r < "$body" | cut -d' ' -f1)"
mkdir -p "$work/repos" "$work/triggers"
printf 'CHECKOUT=/srv/infra\nGITHUB=hub-test/infra\nBRANCH=main\n' > "$work/repos/infra.conf"
cat > "$work/hooks.json" <<EOF
[{"id": "gitops", "execute-command": "/bin/true", "response-message": "triggered",
  "trigger-rule": {"and": [
    {"match": {"type": "payload-hmac-sha256", "secret": "$secret",
               "parameter": {"source": "header", "name": "X-Hub-Signature-256"}}},
    {"match": {"type": "value", "value": "refs/heads/main",
               "parameter": {"source": "payload", "name": "ref"}}}]}}]
EOF
cat > "$work/post.lua" <<'EOF'
wrk.method = "POST"
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-GitHub-Delivery"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
wrk.headers["X-Hub-Signature-256"] = os.getenv("BENCH_SIG")
wrk.headers["User-Agent"] = "GitHub-Hookshot/bench"
EOF

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
ncpu=$(nproc)
client_cpus=$([ "$ncpu" -gt 1 ] && echo "1-$((ncpu - 1))" || echo 0)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_s=$(getconf CLK_TCK)

# run_one NAME PID URL: measure once, print "rps p99_ms cpu_us_per_request"
run_one() {
    local name=$1 pid=$2 url=$3 out rps p99 reqs t0 t1
    t0=$(cpu_ticks "$pid")
    out=$(BENCH_BODY=$body BENCH_SIG=$sig taskset -c "$client_cpus" \
        wrk -t"$([ "$ncpu" -gt 2 ] && echo 2 || echo 1)" -c"$conns" -d"${seconds}s" --latency \
        -s "$work/post.lua" "$url" 2>&1)
    t1=$(cpu_ticks "$pid")
    echo "$out" >> "$work/wrk-$name.txt"
    rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; print v}')
    reqs=$(echo "$out" | awk '/ requests in / {print $1}')
    echo "${rps:-0} ${p99:-0} $(awk -v t=$((t1 - t0)) -v hz="$ticks_per_s" -v n="${reqs:-0}" \
        'BEGIN { if (n == 0) print 0; else printf "%.1f", t * 1e6 / hz / n }')"
}

warm_up() {
    BENCH_BODY=$body BENCH_SIG=$sig taskset -c "$client_cpus" \
        wrk -t1 -c"$conns" -d2s -s "$work/post.lua" "$1" >/dev/null 2>&1
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
memory() { echo "$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status") $(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)"; }

# Sanity: both answer the request the way the bench assumes.
hp=$(port)
# test/bench/run.sh exports PGHOST for the other benches; hub-webhook would
# take it as a configured database and write a webhook_deliveries row per
# request from a thread on the measured core. adnanh/webhook records
# nothing, so both run without one.
env -u PGHOST -u PGUSER -u PGDATABASE -u PGSERVICE -u HUB_PG_DSN \
    HUB_GITHUB_WEBHOOK_SECRET=$secret taskset -c 0 "$build/bin/hub-webhook" --listen "127.0.0.1:$hp" \
    --repos-dir "$work/repos" --trigger-dir "$work/triggers" --max-connections 1024 \
    --max-per-ip 1024 >/dev/null 2>"$work/hub.err" &
hpid=$!
pids+=("$hpid")
wp=$(port)
taskset -c 0 webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port "$wp" >/dev/null 2>&1 &
wpid=$!
pids+=("$wpid")
wait_port "$hp" && wait_port "$wp" || { echo "not ok 1 - servers did not start"; exit 1; }

probe() {
    curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958' \
        -H "X-Hub-Signature-256: $1" --data-binary @"$body" "$2"
}
hub_url=http://127.0.0.1:$hp/hooks/github
adn_url=http://127.0.0.1:$wp/hooks/gitops
[ "$(probe "$sig" "$hub_url")" = 202 ] && [ "$(probe sha256=00 "$hub_url")" = 401 ] \
    && result ok "hub-webhook verifies and ignores the payload (202), refuses a bad MAC (401)" \
    || result fail "hub-webhook answers as the bench assumes"
adn_ok=$(probe "$sig" "$adn_url"); adn_bad=$(curl -s -X POST -H 'Content-Type: application/json' \
    -H "X-Hub-Signature-256: sha256=00" --data-binary @"$body" "$adn_url")
[ "$adn_ok" = 200 ] && echo "$adn_bad" | grep -qi "error occurred while evaluating hook rules" \
    && result ok "adnanh/webhook declines the payload (200) and refuses a bad MAC (its answer: 500)" \
    || result fail "adnanh/webhook answers as the bench assumes ($adn_ok)"

say "payload $(wc -c < "$body") bytes, $conns connections, $rounds rounds of ${seconds}s each, alternating; servers on core 0, wrk on cores $client_cpus"
warm_up "$hub_url"
warm_up "$adn_url"
h_rps_all= h_p99_all= h_cpu_all= a_rps_all= a_p99_all= a_cpu_all=
for r in $(seq 1 "$rounds"); do
    read -r rps p99 cpu <<<"$(run_one hub "$hpid" "$hub_url")"
    h_rps_all+=" $rps"; h_p99_all+=" $p99"; h_cpu_all+=" $cpu"
    say "round $r hub-webhook: $rps req/s, p99 $p99 ms, $cpu us CPU a request"
    read -r rps p99 cpu <<<"$(run_one adnanh "$wpid" "$adn_url")"
    a_rps_all+=" $rps"; a_p99_all+=" $p99"; a_cpu_all+=" $cpu"
    say "round $r adnanh/webhook: $rps req/s, p99 $p99 ms, $cpu us CPU a request"
done
h_rps=$(echo "$h_rps_all" | median); h_p99=$(echo "$h_p99_all" | median); h_cpu=$(echo "$h_cpu_all" | median)
a_rps=$(echo "$a_rps_all" | median); a_p99=$(echo "$a_p99_all" | median); a_cpu=$(echo "$a_cpu_all" | median)
read -r h_hwm h_pss <<<"$(memory "$hpid")"
read -r a_hwm a_pss <<<"$(memory "$wpid")"

say "medians of the rounds:"
printf '# %-16s %12s %10s %12s %14s %10s\n' server req/s p99_ms CPU_us/req peak_RSS_kB PSS_kB
printf '# %-16s %12s %10s %12s %14s %10s\n' hub-webhook "$h_rps" "$h_p99" "$h_cpu" "$h_hwm" "$h_pss"
printf '# %-16s %12s %10s %12s %14s %10s\n' adnanh/webhook "$a_rps" "$a_p99" "$a_cpu" "$a_hwm" "$a_pss"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f", a / b }'; }
capacity() { awk -v c="$1" 'BEGIN { if (c == 0) print "?"; else printf "%.0f", 1e6 / c }'; }
say "what one free core would serve at that CPU a request: hub-webhook $(capacity "$h_cpu") req/s, adnanh/webhook $(capacity "$a_cpu") req/s"
say "ratios: req/s x$(ratio "$h_rps" "$a_rps"), p99 $(ratio "$h_p99" "$a_p99") of theirs, CPU a request $(ratio "$h_cpu" "$a_cpu") of theirs, peak RSS $(ratio "$h_hwm" "$a_hwm") of theirs, PSS $(ratio "$h_pss" "$a_pss") of theirs"
awk -v a="$h_rps" -v b="$a_rps" 'BEGIN { exit !(a >= 4 * b) }' \
    && result ok "req/s at least 4x adnanh/webhook" || result fail "req/s at least 4x adnanh/webhook"
awk -v a="$h_p99" -v b="$a_p99" 'BEGIN { exit !(a * 4 <= b) }' \
    && result ok "p99 at most 1/4 of adnanh/webhook's" || result fail "p99 at most 1/4 of adnanh/webhook's"
awk -v a="$h_hwm" -v b="$a_hwm" 'BEGIN { exit !(a * 4 <= b) }' \
    && result ok "peak RSS at most 1/4 of adnanh/webhook's" \
    || result fail "peak RSS at most 1/4 of adnanh/webhook's"
echo "1..$n"
exit "$fail"
