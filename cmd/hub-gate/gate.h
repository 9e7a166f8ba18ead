/*
 * gate.h: hub-gate's parts and the contracts between them.
 *
 * hub-gate opens the public `tailscale funnel` only while the webhook is
 * healthy and closes it as soon as it is not. Each check is: health (check.c)
 * -> streaks and the wanted state (decide.c, persisted by state.c) -> the
 * funnel's actual state and, when it differs, one open or close (funnel.c)
 * -> one gate_check line. run.c drives one check (timer mode) or a loop
 * (--interval daemon mode). The gate fails closed: a check that cannot run
 * counts as failed, an unreadable funnel state is never reported as a state.
 */
#ifndef HUB_GATE_H
#define HUB_GATE_H

#include <stddef.h>

/* Settings, filled by gate_parse_args() from flags and HUB_* twins. */
struct gate_opts {
    const char *url;                 /* health endpoint */
    unsigned long long health_timeout_ms;
    const char *unit;                /* systemctl is-active UNIT, or NULL */
    unsigned long long rise, fall;
    const char *tailscale;           /* the CLI, looked up in $PATH */
    unsigned long long https_port;   /* the funnel's public port */
    unsigned long long target_port;  /* the local port it forwards to */
    unsigned long long command_timeout_ms;
    const char *state_dir;           /* NULL: $STATE_DIRECTORY */
    unsigned long long interval_s;   /* 0: one check (timer mode) */
    int keep_on_exit;                /* daemon: leave the funnel as it is on SIGTERM */
    int dry_run;
};

#define GATE_OPTS_INIT { "http://127.0.0.1:8085/health", 2000, NULL, 2, 1, "tailscale", \
                         8443, 8085, 10000, NULL, 0, 0, 0 }

/* Run one check or the daemon loop. Returns 0 or a sysexits code. */
int gate_run(const struct gate_opts *o);

/* ---- check.c: is the webhook healthy? ---- */

struct gate_health {
    int healthy;
    long http_status;        /* 0 when no answer */
    const char *reason;      /* static: "ok", "connect_failed", "http_status", ... */
    char detail[256];        /* curl's error text or the unit's state, for the log */
};

/*
 * GET the URL (no redirects, no proxy, timeout_ms for the whole request):
 * healthy means 200 and a JSON object whose "status" is "ok". When unit is
 * not NULL, `systemctl is-active UNIT` must exit 0 too. Never fails: a check
 * that cannot run is an unhealthy result with the reason.
 */
void gate_health_check(const struct gate_opts *o, struct gate_health *out);

/* 1 when body (len bytes, not NUL-terminated) is a JSON object with "status":"ok". */
int gate_health_body_ok(const char *body, size_t len);

/* ---- decide.c: hysteresis, pure functions ---- */

enum gate_funnel_state {
    GATE_FUNNEL_UNKNOWN,     /* status could not be read */
    GATE_FUNNEL_OFF,
    GATE_FUNNEL_ON,
    GATE_FUNNEL_MISDIRECTED, /* public, but not forwarding to target_port (changed by hand) */
};

enum gate_action {
    GATE_ACT_NONE,
    GATE_ACT_OPEN,
    GATE_ACT_CLOSE,
};

struct gate_state {
    unsigned long long healthy_streak;   /* consecutive healthy checks */
    unsigned long long failed_streak;    /* consecutive failed checks */
    int want_open;                       /* the last decision; 0 at first (fail closed) */
};

#define GATE_STATE_INIT { 0, 0, 0 }

/*
 * Count one check and decide: open once healthy_streak reaches rise, close
 * once failed_streak reaches fall, otherwise keep the last decision.
 */
void gate_state_record(struct gate_state *st, int healthy, unsigned long long rise,
                       unsigned long long fall);

/*
 * What to do about the actual state. An unknown state with "closed" wanted
 * is closed anyway (fail closed); with "open" wanted nothing is done, since
 * opening blind is not.
 */
enum gate_action gate_action_for(int want_open, enum gate_funnel_state actual);

const char *gate_funnel_state_name(enum gate_funnel_state s);
const char *gate_action_name(enum gate_action a);

/* ---- state.c: the streaks across timer runs ---- */

/*
 * Load DIR/gate.state. A missing file is the initial state; an unreadable or
 * malformed one is logged (warn) and also starts over, which is closed.
 * Returns 0, or EX_CONFIG when dir is NULL or empty.
 */
int gate_state_load(const char *dir, struct gate_state *st);

/* Replace DIR/gate.state atomically. Returns 0, or EX_TEMPFAIL after logging. */
int gate_state_save(const char *dir, const struct gate_state *st);

/* The JSON the file holds (malloc'd, caller frees), and its parser. */
char *gate_state_format(const struct gate_state *st);
int gate_state_parse(const char *text, struct gate_state *st);

/* ---- funnel.c: the Tailscale CLI ---- */

/*
 * Parse `tailscale funnel status --json`: the funnel is public when an
 * AllowFunnel key ends in ":<https_port>" and its value is true; it is ON
 * when that site's root handler also proxies to this host's target_port
 * (http://127.0.0.1:PORT, as `tailscale funnel PORT` writes it; localhost
 * and [::1] count too), and MISDIRECTED when it proxies anywhere else or
 * nowhere. Output may start with a warning line before the JSON object
 * (stderr is captured too). Returns 0 with *state OFF, ON or MISDIRECTED,
 * or -1 when the text holds no JSON object.
 */
int gate_funnel_parse_status(const char *text, unsigned long long https_port,
                             unsigned long long target_port, enum gate_funnel_state *state);

/*
 * Read the funnel's state. Returns 0, or EX_UNAVAILABLE (command missing,
 * failed or timed out) or EX_DATAERR (output not JSON) after logging one
 * error line with the exit code and output; *state is then UNKNOWN.
 */
int gate_funnel_status(const struct gate_opts *o, enum gate_funnel_state *state);

/*
 * Open or close the funnel and read the state back into *reached. Returns 0
 * only when the state read back is the one asked for. `funnel ... off`
 * exiting non-zero while the state reads back off is "already off", not a
 * failure. Every failure is logged once with the command's exit code and
 * output and returns EX_UNAVAILABLE (or EX_DATAERR for unreadable status).
 */
int gate_funnel_set(const struct gate_opts *o, int open, enum gate_funnel_state *reached);

#endif
