/*
 * hub-readsync: move new reading events from MongoDB into PostgreSQL's
 * reading_analytics, exactly once. See readsync.h for the parts.
 */
#include "log.h"
#include "opt.h"
#include "readsync.h"

int
main(int argc, char **argv)
{
    struct readsync_opts o = {
        .db = READSYNC_DEFAULT_DB,
        .collection = READSYNC_DEFAULT_COLLECTION,
        .batch_size = READSYNC_DEFAULT_BATCH,
        .progress_seconds = READSYNC_PROGRESS_SECONDS,
    };
    int rc;

    hub_log_init("hub-readsync");
    rc = readsync_parse_args(&o, argc, argv);
    if (rc != 0)
        return rc == HUB_OPT_DONE ? 0 : rc;
    return readsync_run(&o);
}
