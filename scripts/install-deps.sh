#!/bin/sh
# install-deps.sh: install the Debian 12 packages the hub needs to build, test,
# run the demo and the benchmarks. Idempotent and non-interactive: it asks apt
# only for the packages that are missing, and does nothing when none are.
#
# usage: scripts/install-deps.sh [--check]
#   --check   list what is missing and exit 1 if anything is; install nothing
set -eu

# Build: compilers, pkg-config and the -dev packages of every library we link.
BUILD="gcc clang make pkg-config libc6-dev
  libpq-dev libcurl4-openssl-dev libcjson-dev libssl-dev
  libbson-dev libmongoc-dev libmicrohttpd-dev libcmocka-dev
  libclang-rt-14-dev"
# Test and demo: a real PostgreSQL, git, curl, systemd tools, jq, kubectl.
TEST="postgresql-15 postgresql-client-15 git curl jq socat systemd procps
  util-linux coreutils ca-certificates"
# Benchmarks: the tools we compare against and the load generators.
BENCH="prometheus-node-exporter webhook wrk hyperfine time bc"

missing=""
for p in $BUILD $TEST $BENCH; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
# kubectl may come from Debian's kubernetes-client or from elsewhere: any works.
if ! command -v kubectl >/dev/null 2>&1; then
    missing="$missing kubernetes-client"
fi

if [ -z "$missing" ]; then
    exit 0
fi
if [ "${1:-}" = "--check" ]; then
    echo "missing packages:$missing" >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run as root or: sudo apt-get install$missing" >&2
    exit 69
fi

echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps the machine lean; policy-rc.d keeps Debian
# from starting the stock services (PostgreSQL, node_exporter, webhook) that
# the tests and benchmarks start themselves on private ports.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=1
fi
rc=0
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing || rc=$?
if [ "$created_policy" -eq 1 ]; then
    rm -f "$policy"
fi
exit "$rc"
