/*
 * metrics-rusage: run commands N times each and print what they cost, for
 * test/bench/bench_metrics.sh: the average and the median CPU time (user +
 * system, from wait4's rusage, so the whole process from exec to exit) and
 * the peak RSS. Several commands (separated by "--") run interleaved, one
 * run of each in turn, so that a neighbour's burst on a shared machine
 * lands on all of them alike instead of on whichever ran at that moment;
 * the median is printed next to the mean because such a burst inflates a
 * few runs a lot, and the mean with them.
 *
 * usage: metrics-rusage N COMMAND [ARG...] [-- COMMAND [ARG...]]...
 * Prints one line per command, in order: runs=N failed=F cpu_us=AVG
 * cpu_med_us=MEDIAN user_us=AVG sys_us=AVG maxrss_kib=MAX avg_maxrss_kib=AVG.
 * The commands' stdout goes to /dev/null; their stderr is kept. Exit 0, 64
 * usage, 71 fork failure or out of memory.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "opt.h"

#define MAX_COMMANDS 16

struct cost {
    char **argv;                       /* borrowed from main's argv */
    long long user, sys, rss_sum, *cpu;
    long rss_max;
    int failed;
};

static long long
tv_us(struct timeval tv)
{
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int
cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

/* Split argv (from 2) at "--" into commands; their count, 0 on a usage error. */
static int
split(int argc, char **argv, struct cost *c)
{
    int n = 0;

    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            argv[i] = NULL;
            continue;
        }
        if (i == 2 || argv[i - 1] == NULL) {
            if (n == MAX_COMMANDS)
                return 0;
            c[n++].argv = &argv[i];
        }
    }
    return n;
}

static int
run_once(struct cost *c, unsigned long long i)
{
    struct rusage ru;
    int status;
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);

        if (fd >= 0)
            dup2(fd, 1);
        execvp(c->argv[0], c->argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    c->failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    c->user += tv_us(ru.ru_utime);
    c->sys += tv_us(ru.ru_stime);
    c->cpu[i] = tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
    c->rss_sum += ru.ru_maxrss;
    if (ru.ru_maxrss > c->rss_max)
        c->rss_max = ru.ru_maxrss;
    return 0;
}

int
main(int argc, char **argv)
{
    struct cost c[MAX_COMMANDS];
    unsigned long long n;
    int ncmd, rc = 0;

    memset(c, 0, sizeof c);
    if (argc < 3 || hub_parse_uint(argv[1], 1, 1000000, &n) != 0 ||
        (ncmd = split(argc, argv, c)) == 0) {
        fprintf(stderr, "usage: metrics-rusage N COMMAND [ARG...] [-- COMMAND [ARG...]]...\n");
        return 64;
    }
    for (int k = 0; k < ncmd; k++) {
        c[k].cpu = calloc(n, sizeof *c[k].cpu);
        if (c[k].cpu == NULL)
            rc = 71;
    }
    for (unsigned long long i = 0; i < n && rc == 0; i++) {
        for (int k = 0; k < ncmd && rc == 0; k++)
            rc = run_once(&c[k], i) == 0 ? 0 : 71;
    }
    for (int k = 0; k < ncmd; k++) {
        if (rc == 0) {
            qsort(c[k].cpu, n, sizeof *c[k].cpu, cmp_ll);
            printf("runs=%llu failed=%d cpu_us=%lld cpu_med_us=%lld user_us=%lld sys_us=%lld "
                   "maxrss_kib=%ld avg_maxrss_kib=%lld\n", n, c[k].failed,
                   (c[k].user + c[k].sys) / (long long)n, c[k].cpu[n / 2],
                   c[k].user / (long long)n, c[k].sys / (long long)n, c[k].rss_max,
                   c[k].rss_sum / (long long)n);
        }
        free(c[k].cpu);
    }
    return rc;
}
