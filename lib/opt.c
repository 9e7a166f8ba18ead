/*
 * opt.c: flags and HUB_* environment twins (see opt.h). Writes usage errors
 * to stderr (they are for the person at the terminal, not for the journal's
 * JSON stream) and never exits: main() decides.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hub.h"
#include "opt.h"

#define MAX_OPTS 64

int
hub_parse_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out)
{
    unsigned long long v;
    char *end;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int
hub_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "0", "false", "no", "off" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Store one value; origin is "--name" or "HUB_NAME" for the message. */
static int
set_value(const struct hub_prog *prog, const struct hub_opt *o,
          const char *value, const char *origin)
{
    switch (o->kind) {
    case HUB_OPT_FLAG:
        if (value == NULL) {
            *(int *)o->dst = 1;
            return 0;
        }
        if (hub_parse_bool(value, (int *)o->dst) == 0)
            return 0;
        fprintf(stderr, "%s: %s: expected 1/0, true/false, yes/no or on/off, got '%s'\n",
                prog->name, origin, value);
        return EX_USAGE;
    case HUB_OPT_STR:
        *(const char **)o->dst = value;
        return 0;
    case HUB_OPT_UINT:
        if (hub_parse_uint(value, o->min, o->max, (unsigned long long *)o->dst) == 0)
            return 0;
        fprintf(stderr, "%s: %s: expected a whole number from %llu to %llu, got '%s'\n",
                prog->name, origin, o->min, o->max, value);
        return EX_USAGE;
    }
    return EX_USAGE;
}

static int
parse_env(const struct hub_prog *prog)
{
    for (size_t i = 0; i < prog->nopts; i++) {
        const struct hub_opt *o = &prog->opts[i];
        const char *v = o->env != NULL ? getenv(o->env) : NULL;
        int rc;

        if (v == NULL || *v == '\0')
            continue;
        rc = set_value(prog, o, v, o->env);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void
print_default(const struct hub_opt *o)
{
    switch (o->kind) {
    case HUB_OPT_STR:
        if (*(const char **)o->dst != NULL)
            printf(", default %s", *(const char **)o->dst);
        break;
    case HUB_OPT_UINT:
        printf(", default %llu", *(unsigned long long *)o->dst);
        break;
    case HUB_OPT_FLAG:
        break;
    }
}

void
hub_opt_usage(const struct hub_prog *prog)
{
    printf("usage: %s\n\n%s\n\nOptions:\n", prog->synopsis, prog->summary);
    for (size_t i = 0; i < prog->nopts; i++) {
        const struct hub_opt *o = &prog->opts[i];
        char head[64];

        if (o->short_name != 0)
            snprintf(head, sizeof head, "-%c, --%s%s%s", o->short_name, o->name,
                     o->argname ? " " : "", o->argname ? o->argname : "");
        else
            snprintf(head, sizeof head, "    --%s%s%s", o->name,
                     o->argname ? " " : "", o->argname ? o->argname : "");
        printf("  %-28s %s", head, o->help);
        if (o->env != NULL || o->kind != HUB_OPT_FLAG) {
            printf(" (");
            if (o->env != NULL)
                printf("%s", o->env);
            print_default(o);
            printf(")");
        }
        printf("\n");
    }
    printf("  %-28s %s\n  %-28s %s\n", "-h, --help", "print this help and exit",
           "-V, --version", "print the version and exit");
    if (prog->footer != NULL)
        printf("\n%s", prog->footer);
    printf("\n" HUB_EXIT_CODES_HELP);
}

/* Build getopt_long's tables from ours; --help and --version come last. */
static int
build_tables(const struct hub_prog *prog, struct option *longs, struct hub_buf *shorts)
{
    size_t i;

    if (prog->nopts > MAX_OPTS - 3)
        return -1;
    for (i = 0; i < prog->nopts; i++) {
        const struct hub_opt *o = &prog->opts[i];

        longs[i].name = o->name;
        longs[i].has_arg = o->kind == HUB_OPT_FLAG ? no_argument : required_argument;
        longs[i].flag = NULL;
        longs[i].val = 256 + (int)i;
        if (o->short_name != 0 &&
            (hub_buf_appendc(shorts, (char)o->short_name) != 0 ||
             (o->kind != HUB_OPT_FLAG && hub_buf_appendc(shorts, ':') != 0)))
            return -1;
    }
    longs[i++] = (struct option){ "help", no_argument, NULL, 'h' };
    longs[i++] = (struct option){ "version", no_argument, NULL, 'V' };
    longs[i] = (struct option){ NULL, 0, NULL, 0 };
    return hub_buf_appends(shorts, "hV") == 0 ? 0 : -1;
}

static const struct hub_opt *
find_short(const struct hub_prog *prog, int c)
{
    for (size_t i = 0; i < prog->nopts; i++) {
        if (prog->opts[i].short_name == c)
            return &prog->opts[i];
    }
    return NULL;
}

int
hub_opt_parse(const struct hub_prog *prog, int argc, char **argv, int *first_arg)
{
    struct option longs[MAX_OPTS];
    struct hub_buf shorts = HUB_BUF_INIT(2 * MAX_OPTS + 8);
    int rc, c;

    rc = parse_env(prog);
    if (rc != 0)
        return rc;
    if (hub_buf_appends(&shorts, "+") != 0 || build_tables(prog, longs, &shorts) != 0) {
        hub_buf_release(&shorts);
        fprintf(stderr, "%s: too many options\n", prog->name);
        return EX_SOFTWARE;
    }
    /* "+" stops at the first operand, so subcommands get their own flags
     * parsed by a second call with argv shifted. */
    optind = 1;
    opterr = 0;
    rc = 0;
    while (rc == 0) {
        const struct hub_opt *o = NULL;
        char origin[80];

        c = getopt_long(argc, argv, hub_buf_str(&shorts), longs, NULL);
        if (c == -1)
            break;

        if (c == 'h' && find_short(prog, 'h') == NULL) {
            hub_opt_usage(prog);
            rc = HUB_OPT_DONE;
            break;
        }
        if (c == 'V' && find_short(prog, 'V') == NULL) {
            printf("%s %s\n", prog->name, HUB_VERSION);
            rc = HUB_OPT_DONE;
            break;
        }
        if (c >= 256)
            o = &prog->opts[c - 256];
        else if (c != '?' && c != ':')
            o = find_short(prog, c);
        if (o == NULL) {
            fprintf(stderr, "%s: unknown or incomplete option '%s'; try '%s --help'\n",
                    prog->name, argv[optind - 1], prog->name);
            rc = EX_USAGE;
            break;
        }
        snprintf(origin, sizeof origin, "--%s", o->name);
        rc = set_value(prog, o, optarg, origin);
    }
    hub_buf_release(&shorts);
    *first_arg = optind;
    return rc;
}
