/*
 * log.c: the JSON line logger (see log.h). Owns nothing past a call (not
 * even the fd it writes to); the only state is the set-once service name,
 * fd, journal flag and level.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileio.h"
#include "hub.h"
#include "log.h"
#include "timefmt.h"

static struct {
    const char *service;
    int fd;                     /* where lines go: stdout unless hub_log_set_fd() */
    int to_journal;             /* fd is the journal stream: "<N>" prefix */
    enum hub_log_level min_level;
} log_config = { "hub", STDOUT_FILENO, 0, HUB_LOG_INFO };

static const char *const level_names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
/* syslog priorities: debug 7, info 6, warning 4, err 3 */
static const int level_priorities[] = { 7, 6, 4, 3 };

/* $JOURNAL_STREAM names the stream systemd connected, by device and inode:
 * only lines written to that very file get the priority prefix. */
static int
fd_is_journal(int fd)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    char tail;

    if (js == NULL || sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2)
        return 0;
    if (fstat(fd, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static enum hub_log_level
level_from_env(void)
{
    const char *s = getenv("HUB_LOG_LEVEL");

    if (s == NULL)
        return HUB_LOG_INFO;
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(s, level_names[i]) == 0)
            return (enum hub_log_level)i;
    }
    if (strcasecmp(s, "warning") == 0)
        return HUB_LOG_WARN;
    return HUB_LOG_INFO;
}

void
hub_log_init(const char *service)
{
    log_config.service = service;
    log_config.fd = STDOUT_FILENO;
    log_config.to_journal = fd_is_journal(STDOUT_FILENO);
    log_config.min_level = level_from_env();
}

void
hub_log_set_fd(int fd)
{
    log_config.fd = fd;
    log_config.to_journal = fd_is_journal(fd);
}

const char *
hub_log_service(void)
{
    return log_config.service;
}

int
hub_log_enabled(enum hub_log_level level)
{
    return level >= log_config.min_level;
}

/* A string field, cut at HUB_MAX_LOG_FIELD bytes on a UTF-8 boundary. */
static cJSON *
string_value(const char *s)
{
    size_t n;
    char *cut;
    cJSON *item;

    if (s == NULL)
        return cJSON_CreateNull();
    n = strnlen(s, HUB_MAX_LOG_FIELD + 1);
    if (n <= HUB_MAX_LOG_FIELD)
        return cJSON_CreateString(s);
    n = HUB_MAX_LOG_FIELD;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    cut = malloc(n + sizeof "\xe2\x80\xa6");
    if (cut == NULL)
        return NULL;
    memcpy(cut, s, n);
    memcpy(cut + n, "\xe2\x80\xa6", sizeof "\xe2\x80\xa6");
    item = cJSON_CreateString(cut);
    free(cut);
    return item;
}

static cJSON *
field_value(const struct hub_field *f)
{
    char num[32];

    switch (f->type) {
    case HUB_FIELD_STR:
        return string_value(f->v.s);
    case HUB_FIELD_INT:
        /* Raw keeps 64-bit integers exact (cJSON numbers are doubles). */
        snprintf(num, sizeof num, "%lld", f->v.i);
        return cJSON_CreateRaw(num);
    case HUB_FIELD_DBL:
        return isfinite(f->v.d) ? cJSON_CreateNumber(f->v.d) : cJSON_CreateNull();
    case HUB_FIELD_BOOL:
        return cJSON_CreateBool(f->v.b);
    case HUB_FIELD_JSON:
        return f->v.j != NULL ? cJSON_Duplicate(f->v.j, 1) : cJSON_CreateNull();
    case HUB_FIELD_NONE:
        break;
    }
    return NULL;
}

char *
hub_log_format(enum hub_log_level level, const char *msg,
               const struct hub_field *fields, size_t nfields)
{
    char ts[HUB_TIME_RFC3339_LEN];
    cJSON *line = cJSON_CreateObject();
    char *text = NULL;

    if (line == NULL)
        return NULL;
    hub_time_rfc3339_ms(hub_time_now_ns(), ts, sizeof ts);
    cJSON_AddStringToObject(line, "time", ts);
    cJSON_AddStringToObject(line, "level", level_names[level]);
    cJSON_AddStringToObject(line, "msg", msg);
    cJSON_AddStringToObject(line, "service", log_config.service);
    for (size_t i = 0; i < nfields; i++) {
        cJSON *v;

        if (fields[i].type == HUB_FIELD_NONE || fields[i].key == NULL)
            continue;
        v = field_value(&fields[i]);
        if (v != NULL)
            cJSON_AddItemToObject(line, fields[i].key, v);
    }
    text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    return text;
}

void
hub_log_fields(enum hub_log_level level, const char *msg,
               const struct hub_field *fields, size_t nfields)
{
    char *json;
    char *line;
    size_t jlen, off = 0;
    int saved_errno = errno;

    if (!hub_log_enabled(level))
        return;
    json = hub_log_format(level, msg, fields, nfields);
    if (json == NULL)
        return;
    jlen = strlen(json);
    line = malloc(jlen + 8);
    if (line != NULL) {
        if (log_config.to_journal)
            off = (size_t)snprintf(line, 8, "<%d>", level_priorities[level]);
        memcpy(line + off, json, jlen);
        line[off + jlen] = '\n';
        (void)hub_write_all(log_config.fd, line, off + jlen + 1);  /* nowhere left to report a failure */
        free(line);
    }
    free(json);
    errno = saved_errno;
}
