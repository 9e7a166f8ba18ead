/*
 * main.c: hub-metrics' command line: parse the flags (each with its HUB_*
 * twin), check that a database is configured unless --no-db, run. Decides
 * the exit code and nothing else.
 */
#include <signal.h>
#include <stdio.h>

#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"

int
main(int argc, char **argv)
{
    struct metrics_opts o = METRICS_OPTS_INIT;
    int rc;

    hub_log_init("hub-metrics");
    signal(SIGPIPE, SIG_IGN);
    rc = metrics_parse_args(&o, argc, argv);
    if (rc == HUB_OPT_DONE)
        return 0;
    if (rc != 0)
        return rc;
    if (!o.no_db && !metrics_dsn_configured())
        return hub_fail(EX_CONFIG, "no_database",
                        HUB_STR("fix", "set HUB_PG_DSN or PGHOST, or pass --no-db"));
    return metrics_run(&o);
}
