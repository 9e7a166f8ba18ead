/*
 * opts.c: hub-readsync's options, each a flag with an HUB_* twin (the flag
 * wins). Only parses and checks; run.c acts on them.
 */
#include <stdio.h>

#include "hub.h"
#include "opt.h"
#include "readsync.h"

static const char footer[] =
    "Source: MongoDB, URI from the mongo_uri credential ($CREDENTIALS_DIRECTORY/mongo_uri,\n"
    "the file named by HUB_MONGO_URI_FILE, OpenBao, or HUB_MONGO_URI), documents with\n"
    "status \"ingested\" in _id order; or --from FILE|- (Extended-JSON lines, as\n"
    "mongoexport writes them). Target: reading_analytics in HUB_PG_DSN (or PG*),\n"
    "one reading_sync_history row a run.\n"
    "65: the --from input could not be read at all. 69: MongoDB or PostgreSQL is\n"
    "unreachable (the message names which, and the host). 75: interrupted by\n"
    "SIGTERM or SIGINT after finishing the batch in hand, or a transient failure.\n";

int
readsync_parse_args(struct readsync_opts *o, int argc, char **argv)
{
    const struct hub_opt opts[] = {
        { "batch-size", 'b', "HUB_READSYNC_BATCH_SIZE", HUB_OPT_UINT, &o->batch_size,
          1, READSYNC_MAX_BATCH, "N",
          "documents a batch: one transaction, one updateMany, the driver's batch size" },
        { "collection", 0, "HUB_MONGO_COLLECTION", HUB_OPT_STR, &o->collection, 0, 0, "NAME",
          "MongoDB collection" },
        { "db", 0, "HUB_MONGO_DB", HUB_OPT_STR, &o->db, 0, 0, "NAME", "MongoDB database" },
        { "dry-run", 'n', "HUB_READSYNC_DRY_RUN", HUB_OPT_FLAG, &o->dry_run, 0, 0, NULL,
          "map and count only: write nothing, mark nothing" },
        { "from", 'f', "HUB_READSYNC_FROM", HUB_OPT_STR, &o->from, 0, 0, "FILE",
          "read Extended-JSON lines from FILE (- for stdin) instead of MongoDB" },
        { "limit", 'l', "HUB_READSYNC_LIMIT", HUB_OPT_UINT, &o->limit, 0, 1000000000000ULL, "N",
          "stop after N documents (0: no limit)" },
        { "progress-interval", 0, "HUB_READSYNC_PROGRESS_INTERVAL", HUB_OPT_UINT,
          &o->progress_seconds, 1, 86400, "SECONDS", "seconds between progress lines" },
    };
    const struct hub_prog prog = {
        "hub-readsync",
        "hub-readsync [--dry-run] [--from FILE|-] [--limit N] [--batch-size N]\n"
        "                    [--db NAME] [--collection NAME] [--progress-interval SECONDS]",
        "Move new reading events from MongoDB (or a file) into reading_analytics in\n"
        "PostgreSQL, exactly once: each batch is COPYed and committed, then marked\n"
        "processed in MongoDB; documents that cannot be mapped are marked rejected.",
        opts, sizeof opts / sizeof opts[0], footer,
    };
    int first;
    int rc = hub_opt_parse(&prog, argc, argv, &first);

    if (rc != 0)
        return rc;
    if (first != argc) {
        fprintf(stderr, "hub-readsync: unexpected operand '%s'\n", argv[first]);
        return EX_USAGE;
    }
    if (o->db == NULL || *o->db == '\0' || o->collection == NULL || *o->collection == '\0' ||
        (o->from != NULL && *o->from == '\0')) {
        fprintf(stderr, "hub-readsync: --db, --collection and --from must not be empty\n");
        return EX_USAGE;
    }
    return 0;
}
