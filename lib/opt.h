/*
 * opt.h: command-line flags with HUB_* environment twins.
 *
 * A program describes its options in a table of struct hub_opt and calls
 * hub_opt_parse() once. For each option the environment twin is read first
 * and the flag second, so the flag wins. Numbers go through hub_parse_uint(),
 * whose error names the option. --help (-h) and --version (-V) are added to
 * every program; --help prints the synopsis, the options with their
 * environment twins and current defaults, and the exit codes.
 *
 * Option values are borrowed: strings point into argv or environ.
 */
#ifndef HUB_OPT_H
#define HUB_OPT_H

#include <stddef.h>

enum hub_opt_kind {
    HUB_OPT_FLAG,   /* int *: set to 1; env accepts 1/0, true/false, yes/no, on/off */
    HUB_OPT_STR,    /* const char **: the value */
    HUB_OPT_UINT,   /* unsigned long long *: bounded by min and max */
};

struct hub_opt {
    const char *name;        /* long name without "--" */
    int short_name;          /* 0 for none */
    const char *env;         /* HUB_* twin, or NULL */
    enum hub_opt_kind kind;
    void *dst;
    unsigned long long min, max;  /* HUB_OPT_UINT only */
    const char *argname;     /* "SECONDS"; NULL for flags */
    const char *help;
};

struct hub_prog {
    const char *name;        /* "hub-metrics" */
    const char *synopsis;    /* usage line(s) after "usage: " */
    const char *summary;     /* what the program does, a short paragraph */
    const struct hub_opt *opts;
    size_t nopts;
    const char *footer;      /* extra text after the options (environment, files) */
};

/* hub_opt_parse() returned this after printing --help or --version. */
#define HUB_OPT_DONE (-1)

/*
 * Parse the environment twins, then argv. Returns 0 and sets *first_arg to
 * the index of the first operand; HUB_OPT_DONE when --help or --version was
 * printed (exit 0); EX_USAGE after printing what was wrong to stderr.
 */
int hub_opt_parse(const struct hub_prog *prog, int argc, char **argv, int *first_arg);

/* Print the --help text to stdout. */
void hub_opt_usage(const struct hub_prog *prog);

/*
 * Parse a decimal unsigned number in [min, max]. Returns 0, or -1 when s is
 * empty, not a number, has trailing junk or is out of range.
 */
int hub_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out);

/* Parse a boolean word (1/0, true/false, yes/no, on/off). Returns 0 or -1. */
int hub_parse_bool(const char *s, int *out);

#endif
