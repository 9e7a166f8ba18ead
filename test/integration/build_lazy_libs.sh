#!/bin/bash
# build_lazy_libs.sh: libpq and libcurl are opened on first use, never at
# exec (lib/lazylib.h): no program names them as a needed library, a run
# that touches neither the database nor HTTP never maps them, and one that
# writes through libpq does.
. "$(dirname "$0")/../lib.sh"
t_need readelf
dsn=$(t_newdb lazy_libs) || t_fail "create the test database"

# not_matching PATTERN TEXT: TEXT has no line matching PATTERN.
not_matching() {
    ! grep -Eq "$1" <<<"$2"
}

for p in "$HUB_TOP"/cmd/hub-*; do
    name=$(basename "$p")
    needed=$(readelf -d "$HUB_BUILD/bin/$name" 2>&1 | grep NEEDED)
    t_check "$name was built" test -x "$HUB_BUILD/bin/$name"
    t_check "$name is not linked with libpq or libcurl" \
        not_matching 'libpq\.so|libcurl\.so' "$needed"
done

# The dynamic loader's own account of what it loaded (LD_DEBUG=files).
loaded() {
    LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -o 'file=[^ ]*' | sort -u
}
t_check "hub-gitops --version maps neither" \
    not_matching 'libpq|libcurl' "$(loaded hub-gitops --version)"
t_check "hub-webhook --version maps neither" \
    not_matching 'libpq|libcurl' "$(loaded hub-webhook --version)"
# hub-metrics speaks the wire protocol itself; hub-readsync writes through libpq.
t_check "hub-readsync writing to PostgreSQL maps libpq" \
    grep -q 'file=libpq\.so\.5' <<<"$(HUB_PG_DSN=$dsn loaded hub-readsync \
        --from "$HUB_TOP/test/fixtures/reading-sample.jsonl")"
t_eq "... and the rows landed" "success 24" \
    "$(t_sql "$dsn" "SELECT status, (SELECT count(*) FROM reading_analytics)
                     FROM reading_sync_history ORDER BY id DESC LIMIT 1" | tr '|' ' ')"
t_done
