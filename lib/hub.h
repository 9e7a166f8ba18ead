/*
 * hub.h: the names every part of the hub shares: exit codes, size limits,
 * the version. Limits live here, in one place, so a reader can see every
 * bound the programs put on input at once.
 */
#ifndef HUB_H
#define HUB_H

#include <sysexits.h>

#ifndef HUB_VERSION
#define HUB_VERSION "0.0.0-dev"
#endif

/*
 * Exit codes (sysexits.h), so units can say RestartPreventExitStatus=64 65 78
 * and scripts can branch. Library functions return one of these or 0;
 * only main() turns them into an exit status.
 *
 *   0          done
 *   EX_USAGE   (64) bad flags
 *   EX_DATAERR (65) bad input data: retrying won't help
 *   EX_UNAVAILABLE (69) a dependency is down
 *   EX_SOFTWARE (70) a step the operator configured failed (an apply command)
 *   EX_TEMPFAIL (75) temporary failure: try again
 *   EX_CONFIG  (78) bad configuration
 */
#define HUB_EXIT_CODES_HELP \
    "Exit status: 0 done, 64 usage, 65 bad input data, 69 a dependency\n" \
    "unavailable, 70 a configured step failed, 75 temporary failure (retry),\n" \
    "78 bad configuration.\n"

/* Size limits. */
#define HUB_MAX_LOG_LINE        (64u * 1024)        /* one JSON log line */
#define HUB_MAX_LOG_FIELD       (4u * 1024)         /* one string field in a log line */
#define HUB_MAX_SECRET          (64u * 1024)        /* a secret's value */
#define HUB_MAX_BAO_RESPONSE    (1024u * 1024)      /* an OpenBao KV v2 answer */
#define HUB_MAX_SQL             (4u * 1024 * 1024)  /* one SQL text we build */
#define HUB_MAX_PATH            4096u               /* a path we build */
#define HUB_MAX_CHILD_OUTPUT    (64u * 1024)        /* captured child output kept */
#define HUB_MAX_CHILD_LOGGED    (2u * 1024)         /* child output put in a log line */
#define HUB_MAX_CONFIG_FILE     (64u * 1024)        /* one KEY=value file */
#define HUB_MAX_PROC_FILE       (1024u * 1024)      /* one /proc or /sys file */
#define HUB_MAX_WEBHOOK_BODY    (25u * 1024 * 1024) /* GitHub's own cap */
#define HUB_MAX_TRIGGER         (16u * 1024)        /* one trigger JSON line */

#endif
