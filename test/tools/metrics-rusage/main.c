/*
 * metrics-rusage: run a command N times and print what it cost, for
 * test/bench/bench_metrics.sh: the average CPU time (user + system, from
 * wait4's rusage, so the whole process from exec to exit) and the peak RSS.
 *
 * usage: metrics-rusage N COMMAND [ARG...]
 * Prints one line: runs=N failed=F cpu_us=AVG user_us=AVG sys_us=AVG
 * maxrss_kib=MAX avg_maxrss_kib=AVG. The command's stdout goes to
 * /dev/null; its stderr is kept. Exit 0, 64 usage, 71 fork failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "opt.h"

static long long
tv_us(struct timeval tv)
{
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

int
main(int argc, char **argv)
{
    unsigned long long n;
    long long user = 0, sys = 0, rss_sum = 0;
    long rss_max = 0;
    int failed = 0;

    if (argc < 3 || hub_parse_uint(argv[1], 1, 1000000, &n) != 0) {
        fprintf(stderr, "usage: metrics-rusage N COMMAND [ARG...]\n");
        return 64;
    }
    for (unsigned long long i = 0; i < n; i++) {
        struct rusage ru;
        int status;
        pid_t pid = fork();

        if (pid < 0)
            return 71;
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);

            if (fd >= 0)
                dup2(fd, 1);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) != pid)
            return 71;
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        user += tv_us(ru.ru_utime);
        sys += tv_us(ru.ru_stime);
        rss_sum += ru.ru_maxrss;
        if (ru.ru_maxrss > rss_max)
            rss_max = ru.ru_maxrss;
    }
    printf("runs=%llu failed=%d cpu_us=%lld user_us=%lld sys_us=%lld maxrss_kib=%ld "
           "avg_maxrss_kib=%lld\n", n, failed, (user + sys) / (long long)n,
           user / (long long)n, sys / (long long)n, rss_max, rss_sum / (long long)n);
    return 0;
}
