/*
 * webhook.h: hub-webhook's parts and the contracts between them.
 *
 *   main.c          flags -> webhook_run()
 *   server.c        listening socket (socket activation or --listen), the
 *                   libmicrohttpd daemon and its limits, signals, idle exit,
 *                   the SIGTERM drain
 *   routes.c        the route table and the request life cycle: limits
 *                   checked before the body is read, then verify, decide,
 *                   hand over, answer; one log line, span and row a request
 *   verify.c        X-Hub-Signature-256: parse, HMAC-SHA256, constant time
 *   payload.c       content types and the form-encoded "payload=" field
 *   decide.c        event + payload -> trigger or ignore (pure)
 *   json_arena.c    cJSON allocations from a per-call region (no malloc
 *                   per node on the request path)
 *   replay.c        the memory of delivery GUIDs that triggered
 *   handover.c      trigger files or --exec, at most one running and one
 *                   waiting per repository
 *   stats.c         counters and the /metrics exposition
 *   deliveries_pg.c best-effort webhook_deliveries rows, off the request path
 *
 * Nothing from a request ever becomes a path or a command: the only thing
 * handed on is the NAME of an allowlisted repository (from repos.d, not from
 * the request) and a JSON line whose values are validated.
 */
#ifndef HUB_WEBHOOK_H
#define HUB_WEBHOOK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <microhttpd.h>
#include <openssl/types.h>

#include "buf.h"
#include "hub.h"
#include "repos.h"
#include "trace.h"

#define WEBHOOK_LISTEN_DEFAULT "127.0.0.1:8085"
#define WEBHOOK_TRIGGER_DIR_DEFAULT "/run/hub/triggers"
#define WEBHOOK_SECRET_NAME "github_webhook_secret"
#define WEBHOOK_MAX_SECRETS 8
#define WEBHOOK_MAC_LEN 32
#define WEBHOOK_REPLAY_MIN 4096
#define WEBHOOK_GUID_MAX 64          /* with the NUL */
#define WEBHOOK_EVENT_MAX 48
#define WEBHOOK_REF_MAX 256
#define WEBHOOK_SHA_MAX 72           /* 64 hex (SHA-256 repositories) + NUL, rounded */
#define WEBHOOK_FULL_NAME_MAX 256
#define WEBHOOK_ZEN_MAX 256
#define WEBHOOK_PARSE_STACK (64u * 1024) /* first arena block of a parse, on the stack */
#define WEBHOOK_MAX_BUFFERED (64u * 1024 * 1024)  /* all bodies in memory at once */

/* ---- options (main.c) ------------------------------------------------- */

struct webhook_opts {
    const char *listen;
    const char *repos_dir;
    const char *trigger_dir;
    const char *exec;
    const char *state_dir;
    unsigned long long max_body;
    unsigned long long timeout_s;
    unsigned long long max_conns;
    unsigned long long max_per_ip;
    unsigned long long max_header;
    unsigned long long exit_idle_s;
    unsigned long long exec_timeout_s;
    unsigned long long replay_size;
    unsigned long long body_timeout_s;   /* headers to the last body byte */
};

#define WEBHOOK_OPTS_INIT { WEBHOOK_LISTEN_DEFAULT, NULL, WEBHOOK_TRIGGER_DIR_DEFAULT, NULL, NULL, \
                            HUB_MAX_WEBHOOK_BODY, 10, 256, 128, 16384, 0, 900, WEBHOOK_REPLAY_MIN, \
                            30 }

/* Returns 0, HUB_OPT_DONE after --help/--version, or EX_USAGE. */
int webhook_parse_args(struct webhook_opts *o, int argc, char **argv);
/* The whole program after flags. Returns 0 or a sysexits code. */
int webhook_run(const struct webhook_opts *o);

/* ---- verify.c ----------------------------------------------------------- */

/*
 * The configured secrets: one per non-empty line of the github_webhook_secret
 * value, so a rotation configures the new secret next to the old one and
 * removes the old one once GitHub uses the new. raw owns every byte; it is
 * wiped on release.
 */
struct webhook_secrets {
    char *raw;
    size_t rawlen;
    size_t n;
    const char *v[WEBHOOK_MAX_SECRETS];
    size_t len[WEBHOOK_MAX_SECRETS];
    EVP_MAC_CTX *keyed[WEBHOOK_MAX_SECRETS]; /* HMAC-SHA256 keyed with v[i]; owned;
                                                NULL: computed one-shot instead */
};

#define WEBHOOK_SECRETS_INIT { NULL, 0, 0, { NULL }, { 0 }, { NULL } }

/* Split text into secrets (copied). Returns 0, or -1 when no line holds one,
 * there are more than WEBHOOK_MAX_SECRETS, or out of memory. */
int webhook_secrets_parse(struct webhook_secrets *s, const char *text, size_t len);
/* Look up github_webhook_secret (secret.h order). EX_CONFIG when missing. */
int webhook_secrets_load(struct webhook_secrets *s);
void webhook_secrets_wipe(struct webhook_secrets *s);

/* "sha256=" + 64 hex digits (either case) -> mac. Returns 0 or -1. */
int webhook_signature_parse(const char *header, unsigned char mac[WEBHOOK_MAC_LEN]);
/* 1 when HMAC-SHA256(secret, body) equals mac for any secret, else 0.
 * Every secret is tried and compared in constant time. */
int webhook_signature_check(const struct webhook_secrets *s, const void *body, size_t len,
                            const unsigned char mac[WEBHOOK_MAC_LEN]);

/* ---- payload.c ------------------------------------------------------------ */

enum webhook_body_type {
    WEBHOOK_BODY_OTHER,
    WEBHOOK_BODY_JSON,
    WEBHOOK_BODY_FORM,
};

/* application/json or application/x-www-form-urlencoded (parameters after
 * ';' ignored, case-insensitive); NULL or anything else is OTHER. */
enum webhook_body_type webhook_body_type(const char *content_type);

/*
 * The URL-decoded value of the "payload" field of a form body, appended to
 * out. Returns 0, or -1 when the field is missing or badly encoded.
 */
int webhook_form_payload(const char *body, size_t len, struct hub_buf *out);

/* 1 when s is a delivery GUID we accept: [0-9A-Za-z-], 1 to 63 characters. */
int webhook_guid_valid(const char *s);
/* 1 when s is an event name we accept: [a-z_], 1 to 47 characters. */
int webhook_event_valid(const char *s);

/* ---- json_arena.c ------------------------------------------------------------ */

/*
 * A region for cJSON's allocations on the calling thread, from begin to
 * end: the caller's first block (stack memory, say), then malloc'd chunks
 * when it is full. cJSON's frees inside it are no-ops; end drops it all,
 * so a tree built inside is never cJSON_Delete'd and must not be used
 * after end. Between begin and end the thread must not log, must print
 * only with cJSON_PrintPreallocated and must not begin another arena.
 * Other threads are unaffected (they keep malloc/free).
 */
struct arena_chunk;

struct webhook_arena {
    unsigned char *first;                /* borrowed */
    size_t first_cap;
    unsigned char *mem;                  /* the block being filled */
    size_t cap, used;
    struct arena_chunk *chunks;          /* owned, newest first */
};

/* Install the cJSON hooks (once). Call before any other thread uses cJSON;
 * webhook_arena_begin() calls it too, for single-threaded callers. */
void webhook_arena_init(void);
void webhook_arena_begin(struct webhook_arena *a, void *first, size_t first_cap);
void webhook_arena_end(struct webhook_arena *a);

/* ---- decide.c -------------------------------------------------------------- */

enum webhook_action {
    WEBHOOK_IGNORE,          /* 202, reason says why */
    WEBHOOK_TRIGGER,         /* hand repo/ref/after over */
    WEBHOOK_PING,            /* 200 with zen */
    WEBHOOK_MALFORMED,       /* 400, reason says what */
};

struct webhook_decision {
    enum webhook_action action;
    const char *reason;                  /* static text; NULL for TRIGGER and PING */
    const struct hub_repo *repo;         /* borrowed from the list; set when allowlisted */
    char full_name[WEBHOOK_FULL_NAME_MAX];
    char ref[WEBHOOK_REF_MAX];
    char after[WEBHOOK_SHA_MAX];
    char zen[WEBHOOK_ZEN_MAX];
};

/*
 * Decide what a verified delivery means. Pure: parses json (len bytes, not
 * necessarily NUL-terminated), reads repos, writes out; no I/O, no logging.
 *   push: ref is refs/heads/BRANCH of the allowlisted repo, not a deletion
 *   pull_request: action closed, merged true, base.ref BRANCH (after is the
 *   merge commit)
 *   ping: PING with the zen
 */
void webhook_decide(const char *event, const char *json, size_t len,
                    const struct hub_repo_list *repos, struct webhook_decision *out);

/* ---- replay.c -------------------------------------------------------------- */

/*
 * Delivery GUIDs that triggered, newest cap kept. With a state directory the
 * memory survives restarts (--exit-idle): claims and forgets are appended to
 * DIR/replay.log, compacted when it grows past four times cap. A crash may
 * lose the last lines; the worst case is one extra sync, never a lost one.
 * Thread-safe.
 */
struct webhook_replay {
    pthread_mutex_t mu;
    size_t cap;
    char (*guids)[WEBHOOK_GUID_MAX];     /* ring of cap slots; "" when forgotten */
    uint32_t *next;                      /* hash chain through the slots */
    uint32_t *buckets;
    size_t nbuckets;                     /* power of two */
    size_t head, n;                      /* oldest slot, slots used */
    char *log_path;                      /* NULL: memory only */
    int log_fd;
    size_t log_lines;
};

int webhook_replay_init(struct webhook_replay *r, size_t cap, const char *state_dir);
/* 1 when guid is remembered (a duplicate); otherwise remember it, return 0. */
int webhook_replay_claim(struct webhook_replay *r, const char *guid);
/* Forget guid (its trigger failed, so a redelivery may trigger again). */
void webhook_replay_forget(struct webhook_replay *r, const char *guid);
size_t webhook_replay_count(struct webhook_replay *r);
void webhook_replay_release(struct webhook_replay *r);

/* ---- stats.c ---------------------------------------------------------------- */

enum webhook_route_id {
    WEBHOOK_ROUTE_HOOK,
    WEBHOOK_ROUTE_HEALTH,
    WEBHOOK_ROUTE_METRICS,
    WEBHOOK_ROUTE_NONE,
    WEBHOOK_ROUTE_N,
};

enum webhook_outcome {
    WEBHOOK_OUT_NONE,                    /* not a delivery (health, metrics, 404) */
    WEBHOOK_OUT_TRIGGERED,
    WEBHOOK_OUT_IGNORED,
    WEBHOOK_OUT_DUPLICATE,
    WEBHOOK_OUT_PONG,
    WEBHOOK_OUT_UNAUTHORIZED,
    WEBHOOK_OUT_MALFORMED,
    WEBHOOK_OUT_UNSUPPORTED,
    WEBHOOK_OUT_TOO_LARGE,
    WEBHOOK_OUT_TRIGGER_FAILED,
    WEBHOOK_OUT_BUSY,
    WEBHOOK_OUT_ABORTED,
    WEBHOOK_OUT_N,
};

enum webhook_event_id {
    WEBHOOK_EV_PUSH,
    WEBHOOK_EV_PULL_REQUEST,
    WEBHOOK_EV_PING,
    WEBHOOK_EV_OTHER,
    WEBHOOK_EV_N,
};

enum webhook_trigger_result {
    WEBHOOK_TRIG_HANDED_OVER,            /* a hand-over ran or a file was written */
    WEBHOOK_TRIG_COALESCED,              /* replaced a waiting one */
    WEBHOOK_TRIG_FAILED,
    WEBHOOK_TRIG_N,
};

#define WEBHOOK_STATUS_N 12
#define WEBHOOK_HIST_N 12

struct webhook_stats {
    int64_t started_mono_ns;
    _Atomic uint64_t requests[WEBHOOK_ROUTE_N][WEBHOOK_STATUS_N];
    _Atomic uint64_t deliveries[WEBHOOK_EV_N][WEBHOOK_OUT_N];
    _Atomic uint64_t signature_failures;
    _Atomic uint64_t triggers[WEBHOOK_TRIG_N];
    _Atomic uint64_t hist[WEBHOOK_HIST_N + 1];  /* last: +Inf only */
    _Atomic uint64_t duration_sum_us;
    _Atomic uint64_t duration_count;
};

/* What /metrics shows beside the counters, gathered by the caller. */
struct webhook_stats_extra {
    uint64_t spans_exported, spans_dropped;
    uint64_t db_written, db_dropped;
    uint64_t replay_size;
    int open_connections;
};

void webhook_stats_init(struct webhook_stats *s);
void webhook_stats_request(struct webhook_stats *s, enum webhook_route_id route,
                           unsigned status, uint64_t duration_us);
void webhook_stats_delivery(struct webhook_stats *s, const char *event, enum webhook_outcome out);
void webhook_stats_trigger(struct webhook_stats *s, enum webhook_trigger_result r);
/* The Prometheus text exposition, appended to out. Returns 0 or -1. */
int webhook_stats_render(struct webhook_stats *s, const struct webhook_stats_extra *x,
                         struct hub_buf *out);
const char *webhook_outcome_name(enum webhook_outcome o);
uint64_t webhook_stats_total(struct webhook_stats *s, enum webhook_route_id route);

/* ---- handover.c -------------------------------------------------------------- */

struct webhook_trigger {
    char repo[HUB_REPO_NAME_MAX + 1];    /* an allowlisted NAME from repos.d */
    char ref[WEBHOOK_REF_MAX];
    char after[WEBHOOK_SHA_MAX];
    char delivery[WEBHOOK_GUID_MAX];
    char event[WEBHOOK_EVENT_MAX];
    char traceparent[HUB_TRACEPARENT_LEN];
};

/* The one JSON line (with its newline), appended to out. Returns 0 or -1. */
int webhook_trigger_json(const struct webhook_trigger *t, struct hub_buf *out);

struct webhook_handover;

/* Called from a hand-over thread when an --exec run ended (ok: exit 0). */
typedef void (*webhook_handover_done_fn)(void *arg, const struct webhook_trigger *t, int ok);

struct webhook_slot {
    struct webhook_handover *h;
    char repo[HUB_REPO_NAME_MAX + 1];
    int running;                         /* a thread owns the slot's run */
    int has_pending;
    struct webhook_trigger pending;      /* always the latest one */
    pthread_t thread;
    int joinable;
};

struct webhook_handover {
    const char *trigger_dir;             /* file mode when exec_argv is NULL */
    char **exec_argv;                    /* owned: prefix, NAME slot, NULL */
    size_t exec_argc;                    /* words before NAME */
    unsigned exec_timeout_s;
    webhook_handover_done_fn done;
    void *done_arg;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    struct webhook_slot *slots;          /* one per allowlisted repo; never moves */
    size_t nslots;
};

/*
 * exec NULL: trigger files in trigger_dir (created if missing). exec set:
 * split on spaces into an argv prefix (operator configuration); NAME is
 * appended. Returns 0 or EX_CONFIG after logging.
 */
int webhook_handover_init(struct webhook_handover *h, const char *trigger_dir, const char *exec,
                          unsigned exec_timeout_s, const struct hub_repo_list *repos,
                          webhook_handover_done_fn done, void *done_arg);

/*
 * Hand t over. File mode: the trigger file is in place on return. Exec mode:
 * started or queued behind the running one (replacing any waiting one).
 * Returns WEBHOOK_TRIG_HANDED_OVER, WEBHOOK_TRIG_COALESCED or
 * WEBHOOK_TRIG_FAILED (logged).
 */
enum webhook_trigger_result webhook_handover_submit(struct webhook_handover *h,
                                                    const struct webhook_trigger *t);
/* 1 while any hand-over runs or waits. */
int webhook_handover_busy(struct webhook_handover *h);
/* Wait for running and waiting hand-overs, then free. */
void webhook_handover_release(struct webhook_handover *h);

/* ---- deliveries_pg.c ------------------------------------------------------------ */

struct webhook_delivery_row {
    int64_t received_ns;
    char delivery[WEBHOOK_GUID_MAX];
    char event[WEBHOOK_EVENT_MAX];
    char repo[HUB_REPO_NAME_MAX + 1];
    char ref[WEBHOOK_REF_MAX];
    char after[WEBHOOK_SHA_MAX];
    char outcome[24];
    char reason[64];
    char remote[64];
    char trace_id[2 * HUB_TRACE_ID_LEN + 1];
    unsigned status;
    int64_t duration_us;
};

struct webhook_deliveries;

/* Start the writer when a database is configured (else *out NULL, 0). */
int webhook_deliveries_start(struct webhook_deliveries **out);
/* Queue a copy; never blocks; dropped (counted) when the queue is full. */
void webhook_deliveries_add(struct webhook_deliveries *d, const struct webhook_delivery_row *row);
void webhook_deliveries_counts(struct webhook_deliveries *d, uint64_t *written, uint64_t *dropped);
/* Write what is queued within flush_ms, stop, free. */
void webhook_deliveries_stop(struct webhook_deliveries *d, unsigned flush_ms);

/* ---- routes.c / server.c ---------------------------------------------------------- */

struct webhook_ctx {
    const struct webhook_opts *opts;
    struct hub_repo_list repos;
    struct webhook_secrets secrets;
    struct webhook_replay replay;
    struct webhook_stats stats;
    struct webhook_handover handover;
    struct webhook_deliveries *deliveries;
    struct hub_tracer *tracer;
    _Atomic int open_connections;
    _Atomic int64_t last_active_ms;      /* monotonic */
    _Atomic uint64_t buffered;           /* body bytes held by all requests */
};

/* libmicrohttpd callbacks (cls is the struct webhook_ctx). */
enum MHD_Result webhook_access(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls);
void webhook_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                       enum MHD_RequestTerminationCode toe);
/* Handed to the handover as its done callback. */
void webhook_trigger_done(void *arg, const struct webhook_trigger *t, int ok);

#endif
