# test/lib.sh: helpers for integration tests, sourced by each
# test/integration/*.sh. A test prints TAP lines through t_ok / t_fail /
# t_skip and ends with t_done; test/run.sh counts them.
#
# Environment from test/run.sh:
#   HUB_BUILD  build dir (binaries in $HUB_BUILD/bin, tools in $HUB_BUILD/test/bin)
#   HUB_TOP    source top
#   PGHOST, PGUSER   the throwaway PostgreSQL (Unix socket)
#   HUB_TEST_WORK    a scratch dir for this run

set -u
: "${HUB_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${HUB_BUILD:=$HUB_TOP/build}"
: "${HUB_TEST_WORK:=${TMPDIR:-/tmp}}"
export HUB_TOP HUB_BUILD
PATH="$HUB_BUILD/bin:$HUB_BUILD/test/bin:$PATH"

_t_n=0
_t_failed=0
_t_pids=()
_t_dirs=()

_t_cleanup() {
    local p
    for p in "${_t_pids[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${_t_pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    if [ "${HUB_KEEP:-0}" != 1 ]; then
        for p in "${_t_dirs[@]}"; do
            rm -rf "$p"
        done
    fi
}
trap _t_cleanup EXIT

t_ok() {
    _t_n=$((_t_n + 1))
    echo "ok $_t_n - $1"
}

# t_fail NAME [DETAIL...]: a failed check; detail goes to the log as a comment.
t_fail() {
    _t_n=$((_t_n + 1))
    _t_failed=$((_t_failed + 1))
    echo "not ok $_t_n - $1"
    shift
    if [ $# -gt 0 ]; then
        printf '%s\n' "$*" | sed 's/^/#   /'
    fi
}

t_skip() {
    _t_n=$((_t_n + 1))
    echo "ok $_t_n - $1 # SKIP $2"
}

# t_check NAME CMD...: ok when CMD exits 0; its output is shown on failure.
t_check() {
    local name=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ]; then
        t_ok "$name"
    else
        t_fail "$name" "exit $rc: $out"
    fi
}

# t_eq NAME EXPECTED ACTUAL
t_eq() {
    if [ "$2" = "$3" ]; then
        t_ok "$1"
    else
        t_fail "$1" "expected: $2" "actual:   $3"
    fi
}

# t_exit NAME EXPECTED_CODE CMD...: ok when CMD exits with EXPECTED_CODE.
t_exit() {
    local name=$1 want=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want" ]; then
        t_ok "$name"
    else
        t_fail "$name" "expected exit $want, got $rc: $out"
    fi
}

# t_need TOOL...: a test that needs a missing tool fails, never passes.
t_need() {
    local tool
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null 2>&1; then
            t_fail "needs $tool" "$tool is not installed: run scripts/install-deps.sh"
            t_done
        fi
    done
}

# t_tmpdir: a fresh directory removed at exit; world-readable so that the
# postgres user and dynamic users can reach it.
t_tmpdir() {
    local d
    d=$(mktemp -d "$HUB_TEST_WORK/t.XXXXXX")
    chmod 755 "$d"
    _t_dirs+=("$d")
    echo "$d"
}

# t_newdb NAME: a fresh database with the migrations applied (cloned from
# the run's template); prints its DSN.
t_newdb() {
    local db=$1
    dropdb --if-exists "$db" >/dev/null 2>&1
    createdb -T hub_template "$db" || return 1
    echo "host=$PGHOST user=${PGUSER:-postgres} dbname=$db"
}

# t_sql DSN SQL: one value (or rows, '|'-separated) from a query.
t_sql() {
    psql -X -qtA "$1" -c "$2"
}

# t_port: a loopback TCP port nobody listens on now.
t_port() {
    local p i
    for i in $(seq 1 50); do
        # Below Linux's ephemeral range (32768-60999): a client socket opened
        # between this check and the server's bind cannot take the port.
        p=$(( (RANDOM % 12000) + 20000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# t_wait_port PORT [SECONDS]: wait until something listens on the port.
t_wait_port() {
    local i limit=$(( ${2:-10} * 20 ))
    for i in $(seq 1 "$limit"); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# t_wait_file PATH [SECONDS]: wait until the file exists.
t_wait_file() {
    local i limit=$(( ${2:-10} * 20 ))
    for i in $(seq 1 "$limit"); do
        [ -e "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

# t_spawn CMD...: start CMD in the background, killed at exit; sets T_PID.
t_spawn() {
    "$@" &
    T_PID=$!
    _t_pids+=("$T_PID")
}

t_done() {
    echo "1..$_t_n"
    [ "$_t_failed" -eq 0 ] && exit 0
    exit 1
}
