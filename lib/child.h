/*
 * child.h: run a child process to completion, safely.
 *
 * The child is started with posix_spawnp() from an argv array (never a shell
 * string built from data) in a process group of its own, with a working
 * directory, an environment (the parent's plus overrides, or only the given
 * entries), stdin fed from memory or /dev/null, and stdout and stderr
 * captured together into one capped buffer. At the deadline the whole group
 * gets SIGTERM, then SIGKILL after a grace period; the child is always
 * reaped before hub_child_run() returns.
 *
 * Descriptors: every pipe is created and closed here; the child inherits
 * only 0, 1 and 2 (everything else is close-on-exec in the hub). The caller
 * ignores SIGPIPE (every hub program does at start), so a child that exits
 * without reading its input cannot take the parent down with it.
 */
#ifndef HUB_CHILD_H
#define HUB_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct hub_child {
    const char *const *argv;     /* argv[0] is looked up in $PATH */
    const char *const *env;      /* "NAME=value" entries, NULL-terminated, or NULL */
    int env_replace;             /* 1: env is the whole environment; 0: env overrides ours */
    const char *cwd;             /* working directory, or NULL to keep ours */
    const char *input;           /* written to the child's stdin, or NULL for /dev/null */
    size_t input_len;
    unsigned timeout_ms;         /* 0: no deadline */
    unsigned grace_ms;           /* SIGTERM to SIGKILL; 0 means 2000 */
    size_t output_max;           /* bytes of output kept; 0 means HUB_MAX_CHILD_OUTPUT */
};

struct hub_child_result {
    int exited;                  /* 1: exit_code is valid */
    int exit_code;
    int signal;                  /* the signal that ended it, or 0 */
    int timed_out;               /* 1: killed at the deadline */
    struct hub_buf output;       /* stdout + stderr as they came, capped */
    size_t output_dropped;       /* bytes past the cap, counted not kept */
    int64_t duration_ms;
};

#define HUB_CHILD_RESULT_INIT { 0, 0, 0, 0, HUB_BUF_INIT(0), 0, 0 }

/*
 * Returns 0 when the child ran (look at res: exited/exit_code, signal,
 * timed_out), EX_UNAVAILABLE when argv[0] was not found, EX_OSERR when it
 * could not be started. Logs nothing: the caller knows what the child was
 * for (see hub_child_log()).
 */
int hub_child_run(const struct hub_child *spec, struct hub_child_result *res);

/*
 * The same in two halves, for a child that runs while the caller does
 * something else (another child). hub_child_start returns at once: 0 with
 * *proc set, or hub_child_run's error codes. spec and everything it points
 * to must stay valid until hub_child_finish, which does what hub_child_run
 * does after the start (the deadline counts from the start; output the
 * child wrote meanwhile waits in the pipe, and a child that fills the pipe
 * just waits too) and frees proc. Every started child must be finished.
 */
struct hub_child_proc;
int hub_child_start(const struct hub_child *spec, struct hub_child_proc **proc);
void hub_child_finish(struct hub_child_proc *proc, struct hub_child_result *res);

/* True when the child exited 0. */
int hub_child_ok(const struct hub_child_result *res);

/*
 * Log one line about a finished child: msg with the command (the argv
 * joined by spaces, so never pass a secret in argv), exit code or signal,
 * timed_out, duration and the output, each cut to HUB_MAX_CHILD_LOGGED.
 */
void hub_child_log(int level, const char *msg, const struct hub_child *spec,
                   const struct hub_child_result *res);

void hub_child_result_release(struct hub_child_result *res);

#endif
