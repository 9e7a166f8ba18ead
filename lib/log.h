/*
 * log.h: one JSON object a line on stdout (or the fd given to
 * hub_log_set_fd()), the shape of the Go system's log/slog lines so existing
 * Loki queries keep working:
 *
 *   {"time":"2026-11-25T17:37:38.123Z","level":"INFO","msg":"metrics_collected",
 *    "service":"hub-metrics", ...fields}
 *
 * msg is a stable snake_case event name; what varies goes in fields. When
 * the fd written to is the journal ($JOURNAL_STREAM names its device and
 * inode) the line starts with the syslog priority "<N>" so journald files the
 * level; in a pipe or a terminal the line is pure JSON. Each line is written
 * with one write(2), so lines from concurrent threads never interleave.
 *
 * Fields are passed as a list of HUB_STR/HUB_INT/... values:
 *
 *   hub_log(HUB_LOG_INFO, "sync_done", HUB_STR("repo", name), HUB_INT("commits", n));
 *
 * String values are borrowed for the call and escaped through cJSON; a string
 * longer than HUB_MAX_LOG_FIELD is cut and marked with "…". Never pass a
 * secret.
 */
#ifndef HUB_LOG_H
#define HUB_LOG_H

#include <stddef.h>

struct cJSON;

enum hub_log_level {
    HUB_LOG_DEBUG,
    HUB_LOG_INFO,
    HUB_LOG_WARN,
    HUB_LOG_ERROR,
};

enum hub_field_type {
    HUB_FIELD_NONE,     /* placeholder, skipped */
    HUB_FIELD_STR,      /* NULL is written as null */
    HUB_FIELD_INT,
    HUB_FIELD_DBL,
    HUB_FIELD_BOOL,
    HUB_FIELD_JSON,     /* a borrowed cJSON item, copied into the line */
};

struct hub_field {
    const char *key;
    enum hub_field_type type;
    union {
        const char *s;
        long long i;
        double d;
        int b;
        const struct cJSON *j;
    } v;
};

#define HUB_STR(k, val)  ((struct hub_field){ .key = (k), .type = HUB_FIELD_STR, .v.s = (val) })
#define HUB_INT(k, val)  ((struct hub_field){ .key = (k), .type = HUB_FIELD_INT, .v.i = (long long)(val) })
#define HUB_DBL(k, val)  ((struct hub_field){ .key = (k), .type = HUB_FIELD_DBL, .v.d = (double)(val) })
#define HUB_BOOL(k, val) ((struct hub_field){ .key = (k), .type = HUB_FIELD_BOOL, .v.b = !!(val) })
#define HUB_JSON(k, val) ((struct hub_field){ .key = (k), .type = HUB_FIELD_JSON, .v.j = (val) })
#define HUB_FIELD_NONE_ ((struct hub_field){ .key = NULL, .type = HUB_FIELD_NONE })

/*
 * Set the service name (borrowed for the life of the program) and read the
 * environment once: $JOURNAL_STREAM and $HUB_LOG_LEVEL (debug|info|warn|error,
 * default info). Call first thing in main(). Lines go to stdout (a second
 * call sends them there again). This is the logger's only state, set once
 * before any thread starts.
 */
void hub_log_init(const char *service);

/*
 * Send every line to fd instead of stdout. For a command whose stdout is its
 * data (`hub-gitops status --json`): nothing but data may go there, so such
 * a command logs to STDERR_FILENO. The "<N>" prefix is decided again, for
 * fd. The fd is borrowed: the logger never closes it, and it must stay open
 * while lines are logged. Call after hub_log_init() and, like it, before
 * any thread starts.
 */
void hub_log_set_fd(int fd);

/* The name given to hub_log_init(), or "hub". */
const char *hub_log_service(void);

/* True when a line at this level would be written. */
int hub_log_enabled(enum hub_log_level level);

void hub_log_fields(enum hub_log_level level, const char *msg,
                    const struct hub_field *fields, size_t nfields);

/*
 * Build the line without writing it (for tests and for programs that send
 * lines elsewhere). Returns a malloc'd string the caller frees, or NULL when
 * out of memory.
 */
char *hub_log_format(enum hub_log_level level, const char *msg,
                     const struct hub_field *fields, size_t nfields);

/* The field list macro: a leading placeholder makes an empty list legal. */
#define HUB_FIELDS_(...) ((const struct hub_field[]){ HUB_FIELD_NONE_, ##__VA_ARGS__ })
#define HUB_NFIELDS_(...) (sizeof(HUB_FIELDS_(__VA_ARGS__)) / sizeof(struct hub_field))

#define hub_log(level, msg, ...) \
    hub_log_fields((level), (msg), HUB_FIELDS_(__VA_ARGS__), HUB_NFIELDS_(__VA_ARGS__))

/*
 * Log one error line and evaluate to code, for "return hub_fail(EX_CONFIG,
 * "config_invalid", HUB_STR("file", path));". The single error line of a
 * failure is written where the detail is known; callers pass code up without
 * logging again.
 */
#define hub_fail(code, msg, ...) \
    (hub_log(HUB_LOG_ERROR, (msg), ##__VA_ARGS__), (code))

#endif
