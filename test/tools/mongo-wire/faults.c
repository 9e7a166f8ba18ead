/*
 * faults.c: the failures the test server can inject, each armed by a flag
 * and fired once (except --fail-updates N, which fails the first N updates
 * and --stall-ms, which slows every find/getMore). Counters live in struct
 * mw_faults under the server lock; nothing here does I/O except sleeping.
 */
#include <errno.h>
#include <time.h>

#include "log.h"
#include "mongo-wire.h"

void
mw_faults_init(struct mw_faults *f)
{
    f->close_after_docs = -1;
    f->docs_returned = 0;
    f->close_on_update = -1;
    f->close_after_update = -1;
    f->fail_updates = 0;
    f->updates_seen = 0;
    f->stall_ms = 0;
}

enum mw_fault_action
mw_faults_on_docs(struct mw_faults *f, size_t n)
{
    if (f->close_after_docs >= 0 &&
        f->docs_returned + (long long)n > f->close_after_docs) {
        hub_log(HUB_LOG_INFO, "mw_fault_close", HUB_STR("when", "documents"),
                HUB_INT("returned", f->docs_returned));
        f->close_after_docs = -1;
        return MW_FAULT_CLOSE;
    }
    f->docs_returned += (long long)n;
    return MW_FAULT_NONE;
}

enum mw_fault_action
mw_faults_on_update(struct mw_faults *f)
{
    long long nth = ++f->updates_seen;

    if (nth == f->close_on_update) {
        hub_log(HUB_LOG_INFO, "mw_fault_close", HUB_STR("when", "before_update"),
                HUB_INT("update", nth));
        return MW_FAULT_CLOSE;
    }
    if (nth <= f->fail_updates) {
        hub_log(HUB_LOG_INFO, "mw_fault_fail", HUB_INT("update", nth));
        return MW_FAULT_FAIL;
    }
    if (nth == f->close_after_update) {
        hub_log(HUB_LOG_INFO, "mw_fault_close", HUB_STR("when", "after_update"),
                HUB_INT("update", nth));
        return MW_FAULT_CLOSE_AFTER;
    }
    return MW_FAULT_NONE;
}

void
mw_faults_stall(long long ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (ms > 0 && nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
