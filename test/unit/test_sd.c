/* test_sd.c: sd_notify over a real datagram socket (path and abstract),
 * LISTEN_FDS validation, the watchdog interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sd.h"

static int
bound_socket(const char *path, int abstract)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t n = strlen(path);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

    memcpy(sa.sun_path + (abstract ? 1 : 0), path, n);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (abstract ? 1 : 0))), 0);
    return fd;
}

static void
test_notify_path_and_abstract(void **state)
{
    char path[64], env[80], got[64];
    int fd;
    ssize_t n;

    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(hub_sd_notify("READY=1"), 0);

    snprintf(path, sizeof path, "/tmp/test_sd.%ld", (long)getpid());
    fd = bound_socket(path, 0);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(hub_sd_notify("READY=1\nSTATUS=ok"), 1);
    n = recv(fd, got, sizeof got - 1, 0);
    assert_true(n > 0);
    got[n] = '\0';
    assert_string_equal(got, "READY=1\nSTATUS=ok");
    close(fd);
    unlink(path);

    snprintf(path, sizeof path, "hub-test-sd-%ld", (long)getpid());
    fd = bound_socket(path, 1);
    snprintf(env, sizeof env, "@%s", path);
    setenv("NOTIFY_SOCKET", env, 1);
    assert_int_equal(hub_sd_notify("WATCHDOG=1"), 1);
    n = recv(fd, got, sizeof got - 1, 0);
    got[n < 0 ? 0 : n] = '\0';
    assert_string_equal(got, "WATCHDOG=1");
    close(fd);

    setenv("NOTIFY_SOCKET", "relative/path", 1);
    assert_int_equal(hub_sd_notify("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_listen_fds(void **state)
{
    char pid[32];

    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    /* ours: fd 3 must be open, so make it so */
    dup2(STDERR_FILENO, 3);
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "1", 1);
    assert_int_equal(hub_sd_listen_fds(), 1);
    assert_null(getenv("LISTEN_FDS"));
    assert_null(getenv("LISTEN_PID"));
    /* another process's sockets */
    setenv("LISTEN_PID", "1", 1);
    setenv("LISTEN_FDS", "1", 1);
    assert_int_equal(hub_sd_listen_fds(), 0);
    /* garbage */
    setenv("LISTEN_PID", pid, 1);
    setenv("LISTEN_FDS", "many", 1);
    assert_int_equal(hub_sd_listen_fds(), 0);
    /* none */
    assert_int_equal(hub_sd_listen_fds(), 0);
}

static void
test_watchdog(void **state)
{
    char pid[32];

    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    assert_true(hub_sd_watchdog_usec() == 0);
    setenv("WATCHDOG_USEC", "30000000", 1);
    assert_true(hub_sd_watchdog_usec() == 30000000);
    setenv("WATCHDOG_PID", "1", 1);
    assert_true(hub_sd_watchdog_usec() == 0);
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_true(hub_sd_watchdog_usec() == 30000000);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notify_path_and_abstract),
        cmocka_unit_test(test_listen_fds),
        cmocka_unit_test(test_watchdog),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
