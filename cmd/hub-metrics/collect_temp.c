/*
 * collect_temp.c: temperatures from <sys>/class/hwmon (every temp*_input,
 * named by chip and label) and <sys>/class/thermal (every zone by type),
 * read once per sample into ctx->temps: the "temperature" metric shows them
 * all, and the "cpu" metric takes the package and per-core figures from
 * the CPU's own sensor (coretemp, k10temp, zenpower, cpu_thermal; the
 * x86_pkg_temp zone as a fallback). Figures stay in millidegrees (sysfs'
 * unit) until they are written, so they are exact.
 *
 * A host without sensors (most VMs) is no error: the metric is just left
 * out. Only when neither class directory exists is it a warning.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define MAX_ENTRIES 256

static const char *const cpu_chips[] = { "coretemp", "k10temp", "zenpower", "cpu_thermal" };

int
metrics_temp_label_kind(const char *label, unsigned *core)
{
    const char *p;
    uint64_t n;

    if (strncmp(label, "Core ", 5) == 0) {
        p = label + 5;
        if (metrics_next_u64(&p, &n) != 0 || *p != '\0' || n > 100000)
            return 0;
        *core = (unsigned)n;
        return 1;
    }
    if (strncmp(label, "Package id ", 11) == 0 || strcmp(label, "Tdie") == 0 ||
        strcmp(label, "Tctl") == 0)
        return 2;
    return 0;
}

void
metrics_temp_key(const char *label, char *out, size_t outlen)
{
    size_t n = 0;

    for (const char *s = label; *s != '\0' && n + 1 < outlen; s++) {
        char c = *s;

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        if (c == '_' && (n == 0 || out[n - 1] == '_'))
            continue;
        out[n++] = c;
    }
    while (n > 0 && out[n - 1] == '_')
        n--;
    out[n] = '\0';
}

/* A temperature file: millidegrees Celsius, maybe negative. */
static int
read_mdeg(struct metrics_ctx *ctx, const char *rel, int64_t *out)
{
    const char *p;
    uint64_t v;
    int neg;

    if (metrics_ctx_read(ctx, ctx->opts->sys_root, rel) != 0)
        return -1;
    p = hub_buf_str(&ctx->file);
    neg = *p == '-';
    p += neg;
    if (metrics_next_u64(&p, &v) != 0 || (*p != '\n' && *p != '\0') || v > 1000000)
        return -1;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* The first line of a small sysfs file into out ("" when unreadable). */
static void
read_text(struct metrics_ctx *ctx, const char *rel, char *out, size_t outlen)
{
    size_t n;

    out[0] = '\0';
    if (metrics_ctx_read(ctx, ctx->opts->sys_root, rel) != 0)
        return;
    n = strcspn(hub_buf_str(&ctx->file), "\n");
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, hub_buf_str(&ctx->file), n);
    out[n] = '\0';
}

static int
cmp_names(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Names in dir starting with prefix and ending with suffix, sorted (caller
 * frees). *opened is set when the directory could be opened.
 */
static size_t
list_dir(const char *dir, const char *prefix, const char *suffix, char **names, size_t max,
         int *opened)
{
    DIR *d = opendir(dir);
    size_t n = 0, plen = strlen(prefix), slen = strlen(suffix);

    if (d == NULL)
        return 0;
    *opened = 1;
    while (n < max) {
        struct dirent *e = readdir(d);
        size_t len;

        if (e == NULL)
            break;
        len = strlen(e->d_name);
        if (len < plen + slen || strncmp(e->d_name, prefix, plen) != 0 ||
            strcmp(e->d_name + len - slen, suffix) != 0)
            continue;
        names[n] = strdup(e->d_name);
        if (names[n] != NULL)
            n++;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    return n;
}

static void
free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
}

static int
is_cpu_chip(const char *chip)
{
    for (size_t i = 0; i < sizeof cpu_chips / sizeof cpu_chips[0]; i++) {
        if (strcmp(chip, cpu_chips[i]) == 0)
            return 1;
    }
    return 0;
}

static void
note_cpu_temp(struct metrics_temps *t, const char *chip, const char *label, int64_t mdeg)
{
    unsigned core = 0;
    int kind = metrics_temp_label_kind(label, &core);

    if (!is_cpu_chip(chip))
        return;
    if (kind == 0 && strcmp(chip, "cpu_thermal") == 0)
        kind = 2;
    if (kind == 2 && (!t->has_package || mdeg > t->package)) {
        t->has_package = 1;       /* the hottest package of a multi-socket host */
        t->package = mdeg;
    } else if (kind == 1 && t->ncores < METRICS_MAX_CORE_TEMPS) {
        t->cores[t->ncores].core = core;
        t->cores[t->ncores++].mdeg = mdeg;
    }
}

/* One temp*_input of a chip. */
static void
one_sensor(struct metrics_ctx *ctx, const char *dir, const char *input, const char *name,
           const char *chip)
{
    struct metrics_temps *t = &ctx->temps;
    char rel[300], label[METRICS_LABEL_MAX];
    int stem = (int)(strlen(input) - strlen("_input"));
    int64_t mdeg;

    if (t->nsensors == METRICS_MAX_SENSORS ||
        snprintf(rel, sizeof rel, "%s/%s", dir, input) >= (int)sizeof rel ||
        read_mdeg(ctx, rel, &mdeg) != 0)
        return;
    if (snprintf(rel, sizeof rel, "%s/%.*s_label", dir, stem, input) >= (int)sizeof rel)
        return;
    read_text(ctx, rel, label, sizeof label);
    if (label[0] == '\0')
        snprintf(label, sizeof label, "%.*s", stem, input);
    snprintf(t->sensors[t->nsensors].chip, METRICS_LABEL_MAX, "%s", chip);
    metrics_temp_key(label, t->sensors[t->nsensors].label, METRICS_LABEL_MAX);
    t->sensors[t->nsensors++].mdeg = mdeg;
    note_cpu_temp(t, name, label, mdeg);
}

static int
chip_seen(const struct metrics_temps *t, const char *chip)
{
    for (size_t i = 0; i < t->nsensors; i++) {
        if (strcmp(t->sensors[i].chip, chip) == 0)
            return 1;
    }
    return 0;
}

static void
one_chip(struct metrics_ctx *ctx, const char *hwmon)
{
    char dir[300], rel[320], name[METRICS_LABEL_MAX], chip[METRICS_LABEL_MAX];
    char *inputs[MAX_ENTRIES];
    const char *path;
    size_t n;
    int opened = 0;

    snprintf(dir, sizeof dir, "class/hwmon/%s", hwmon);
    snprintf(rel, sizeof rel, "%s/name", dir);
    read_text(ctx, rel, name, sizeof name);
    metrics_temp_key(name[0] != '\0' ? name : hwmon, chip, sizeof chip);
    if (chip_seen(&ctx->temps, chip))    /* two nvme drives: nvme, nvme_hwmon3 */
        snprintf(chip + strlen(chip), sizeof chip - strlen(chip), "_%s", hwmon);
    path = metrics_ctx_path(ctx, ctx->opts->sys_root, dir);
    n = path != NULL ? list_dir(path, "temp", "_input", inputs, MAX_ENTRIES, &opened) : 0;
    for (size_t i = 0; i < n; i++)
        one_sensor(ctx, dir, inputs[i], name, chip);
    free_names(inputs, n);
}

static void
one_zone(struct metrics_ctx *ctx, const char *zone)
{
    struct metrics_temps *t = &ctx->temps;
    char rel[300], type[METRICS_LABEL_MAX], key[METRICS_LABEL_MAX];
    int64_t mdeg;

    snprintf(rel, sizeof rel, "class/thermal/%s/temp", zone);
    if (t->nzones == METRICS_MAX_ZONES || read_mdeg(ctx, rel, &mdeg) != 0)
        return;
    snprintf(rel, sizeof rel, "class/thermal/%s/type", zone);
    read_text(ctx, rel, type, sizeof type);
    metrics_temp_key(type[0] != '\0' ? type : zone, key, sizeof key);
    for (size_t i = 0; i < t->nzones; i++) {
        if (strcmp(t->zones[i].type, key) == 0)
            snprintf(key + strlen(key), sizeof key - strlen(key), "_%s", zone);
    }
    snprintf(t->zones[t->nzones].type, METRICS_LABEL_MAX, "%s", key);
    t->zones[t->nzones++].mdeg = mdeg;
    if (!t->has_package && strcmp(type, "x86_pkg_temp") == 0) {
        t->has_package = 1;
        t->package = mdeg;
    }
}

static void
scan(struct metrics_ctx *ctx, const char *rel, const char *prefix,
     void (*each)(struct metrics_ctx *, const char *))
{
    char *names[MAX_ENTRIES];
    const char *path = metrics_ctx_path(ctx, ctx->opts->sys_root, rel);
    size_t n = path != NULL ? list_dir(path, prefix, "", names, MAX_ENTRIES,
                                       &ctx->temps.class_dirs) : 0;

    for (size_t i = 0; i < n; i++)
        each(ctx, names[i]);
    free_names(names, n);
}

void
metrics_temps_read(struct metrics_ctx *ctx)
{
    if (ctx->temps.read)
        return;
    ctx->temps.read = 1;
    scan(ctx, "class/hwmon", "hwmon", one_chip);
    scan(ctx, "class/thermal", "thermal_zone", one_zone);
}

/* "sensors": {chip: {label: celsius}}; a repeated chip name is one object. */
static void
write_sensors(const struct metrics_temps *t, struct metrics_json *j)
{
    metrics_json_object(j, "sensors");
    for (size_t i = 0; i < t->nsensors; i++) {
        size_t k = i;

        if (i > 0 && strcmp(t->sensors[i].chip, t->sensors[i - 1].chip) == 0)
            continue;
        metrics_json_object(j, t->sensors[i].chip);
        for (; k < t->nsensors && strcmp(t->sensors[k].chip, t->sensors[i].chip) == 0; k++)
            metrics_json_fixed(j, t->sensors[k].label, t->sensors[k].mdeg, 3);
        metrics_json_end(j);
    }
    metrics_json_end(j);
}

int
metrics_collect_temperature(struct metrics_ctx *ctx, struct metrics_json *j)
{
    const struct metrics_temps *t = &ctx->temps;
    char key[32];

    metrics_temps_read(ctx);
    if (t->nsensors == 0 && t->nzones == 0) {
        if (t->class_dirs)
            return 1;
        metrics_ctx_path(ctx, ctx->opts->sys_root, "class");
        return metrics_ctx_fail(ctx, "no class/hwmon or class/thermal");
    }
    if (t->has_package)
        metrics_json_fixed(j, "package", t->package, 3);
    if (t->ncores > 0) {
        metrics_json_object(j, "cores");
        for (size_t i = 0; i < t->ncores; i++) {
            snprintf(key, sizeof key, "core_%u", t->cores[i].core);
            metrics_json_fixed(j, key, t->cores[i].mdeg, 3);
        }
        metrics_json_end(j);
    }
    if (t->nsensors > 0)
        write_sensors(t, j);
    if (t->nzones > 0) {
        metrics_json_object(j, "zones");
        for (size_t i = 0; i < t->nzones; i++)
            metrics_json_fixed(j, t->zones[i].type, t->zones[i].mdeg, 3);
        metrics_json_end(j);
    }
    return 0;
}
