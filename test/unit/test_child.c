/* test_child.c: the child runner: exit codes, captured output and its cap,
 * stdin from memory, environment overrides, working directory, timeouts that
 * kill the whole process group, and a missing program. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "child.h"
#include "hub.h"

static int
run_sh(const char *script, struct hub_child *spec, struct hub_child_result *res)
{
    const char *argv[] = { "/bin/sh", "-c", script, NULL };

    spec->argv = argv;
    return hub_child_run(spec, res);
}

static void
test_exit_codes_table(void **state)
{
    static const struct {
        const char *script;
        int exited, code, sig;
        const char *out;
    } cases[] = {
        { "exit 0", 1, 0, 0, "" },
        { "exit 3", 1, 3, 0, "" },
        { "echo out; echo err >&2", 1, 0, 0, "out\nerr\n" },
        { "kill -USR1 $$", 0, 0, SIGUSR1, "" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_child spec = { 0 };
        struct hub_child_result res = HUB_CHILD_RESULT_INIT;

        assert_int_equal(run_sh(cases[i].script, &spec, &res), 0);
        assert_int_equal(res.exited, cases[i].exited);
        assert_int_equal(res.exit_code, cases[i].code);
        assert_int_equal(res.signal, cases[i].sig);
        assert_string_equal(hub_buf_str(&res.output), cases[i].out);
        assert_int_equal(hub_child_ok(&res), cases[i].exited && cases[i].code == 0);
        hub_child_result_release(&res);
    }
}

static void
test_output_cap(void **state)
{
    struct hub_child spec = { .output_max = 100 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    assert_int_equal(run_sh("head -c 100000 /dev/zero | tr '\\0' x", &spec, &res), 0);
    assert_int_equal(res.output.len, 100);
    assert_int_equal(res.output_dropped, 100000 - 100);
    hub_child_result_release(&res);
    assert_null(res.output.data);
}

static void
test_input_env_cwd(void **state)
{
    const char *env[] = { "HUB_CHILD_T=value", NULL };
    struct hub_child spec = { .input = "line from stdin\n", .input_len = 16, .env = env,
                              .cwd = "/tmp" };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    setenv("HUB_CHILD_T", "parent", 1);
    assert_int_equal(run_sh("read l; echo \"$l|$HUB_CHILD_T|$(pwd)|${HOME:+home}\"", &spec, &res), 0);
    assert_string_equal(hub_buf_str(&res.output), "line from stdin|value|/tmp|home\n");
    hub_child_result_release(&res);
    unsetenv("HUB_CHILD_T");
}

static void
test_env_replace(void **state)
{
    const char *env[] = { "ONLY=1", NULL };
    struct hub_child spec = { .env = env, .env_replace = 1 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    setenv("HOME", getenv("HOME") ? getenv("HOME") : "/root", 1);
    assert_int_equal(run_sh("echo \"$ONLY${HOME:-nohome}\"", &spec, &res), 0);
    assert_string_equal(hub_buf_str(&res.output), "1nohome\n");
    hub_child_result_release(&res);
}

/* Alive and not a zombie (a killed orphan may wait for init to reap it). */
static int
process_alive(pid_t pid)
{
    char path[64], stat[256] = "";
    FILE *f;
    char *paren;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return 0;
    if (fgets(stat, sizeof stat, f) == NULL)
        stat[0] = '\0';
    fclose(f);
    paren = strrchr(stat, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* The deadline kills the group: the grandchild sleep must not survive. */
static void
test_timeout_kills_group(void **state)
{
    char pidfile[] = "/tmp/test_child_pid.XXXXXX";
    char script[256], buf[32] = "";
    struct hub_child spec = { .timeout_ms = 200, .grace_ms = 200 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    FILE *f;
    long gpid = 0;
    int fd = mkstemp(pidfile);

    close(fd);
    snprintf(script, sizeof script, "sleep 30 & echo $! > %s; wait", pidfile);
    assert_int_equal(run_sh(script, &spec, &res), 0);
    assert_int_equal(res.timed_out, 1);
    assert_false(hub_child_ok(&res));
    f = fopen(pidfile, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    unlink(pidfile);
    gpid = strtol(buf, NULL, 10);
    assert_true(gpid > 0);
    usleep(100 * 1000);
    assert_false(process_alive((pid_t)gpid));
    hub_child_result_release(&res);
}

/* The leader dies on SIGTERM but a grandchild ignores it: the group still
 * gets SIGKILL before the leader is reaped. */
static void
test_timeout_kills_stubborn_grandchild(void **state)
{
    char pidfile[] = "/tmp/test_child_pid2.XXXXXX";
    char script[256], buf[32] = "";
    struct hub_child spec = { .timeout_ms = 200, .grace_ms = 5000 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    FILE *f;
    long gpid;
    int fd = mkstemp(pidfile);

    close(fd);
    snprintf(script, sizeof script,
             "(trap '' TERM; exec sleep 30) & echo $! > %s; wait", pidfile);
    assert_int_equal(run_sh(script, &spec, &res), 0);
    assert_int_equal(res.timed_out, 1);
    f = fopen(pidfile, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    unlink(pidfile);
    gpid = strtol(buf, NULL, 10);
    usleep(100 * 1000);
    assert_false(process_alive((pid_t)gpid));
    hub_child_result_release(&res);
}

/* A child that ignores SIGTERM still ends: SIGKILL after the grace. */
static void
test_term_ignored_then_killed(void **state)
{
    struct hub_child spec = { .timeout_ms = 100, .grace_ms = 100 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    assert_int_equal(run_sh("trap '' TERM; while :; do sleep 0.05; done", &spec, &res), 0);
    assert_int_equal(res.timed_out, 1);
    assert_int_equal(res.signal, SIGKILL);
    hub_child_result_release(&res);
}

static void
test_missing_program(void **state)
{
    const char *argv[] = { "hub-no-such-program-xyz", NULL };
    struct hub_child spec = { .argv = argv };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    assert_int_equal(hub_child_run(&spec, &res), EX_UNAVAILABLE);
    hub_child_result_release(&res);
}

/* A child that exits without reading its input must not hurt us. */
static void
test_unread_input(void **state)
{
    static char big[1 << 20];
    struct hub_child spec = { .input = big, .input_len = sizeof big };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;

    assert_int_equal(run_sh("exit 0", &spec, &res), 0);
    assert_true(hub_child_ok(&res));
    hub_child_result_release(&res);
}

/*
 * Two children at once: the started one waits for a file the second
 * creates, so it can only finish if it ran alongside (its deadline is a
 * generous bound, not a timing test); its output, more than a pipe holds,
 * waited in the pipe until hub_child_finish read it.
 */
static void
test_start_finish_alongside(void **state)
{
    char dir[] = "/tmp/test_child.XXXXXX", script[256], touch[256];
    const char *waiter[] = { "/bin/sh", "-c", script, NULL };
    const char *toucher[] = { "/bin/sh", "-c", touch, NULL };
    struct hub_child bg = { .argv = waiter, .timeout_ms = 20000, .output_max = 200000 };
    struct hub_child fg = { .argv = toucher };
    struct hub_child_result bg_res = HUB_CHILD_RESULT_INIT, fg_res = HUB_CHILD_RESULT_INIT;
    struct hub_child_proc *proc;

    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof script,
             "head -c 100000 /dev/zero | tr '\\0' x; while [ ! -e %s/go ]; do sleep 0.01; done; echo saw",
             dir);
    snprintf(touch, sizeof touch, "touch %s/go", dir);
    assert_int_equal(hub_child_start(&bg, &proc), 0);
    assert_int_equal(hub_child_run(&fg, &fg_res), 0);
    assert_true(hub_child_ok(&fg_res));
    hub_child_finish(proc, &bg_res);
    assert_true(hub_child_ok(&bg_res));
    assert_int_equal(bg_res.timed_out, 0);
    assert_int_equal(bg_res.output.len, 100000 + 4);
    assert_string_equal(hub_buf_str(&bg_res.output) + 100000, "saw\n");
    hub_child_result_release(&bg_res);
    hub_child_result_release(&fg_res);
    snprintf(touch, sizeof touch, "%s/go", dir);
    unlink(touch);
    rmdir(dir);
}

/* A started child that hangs is stopped by its deadline when finished. */
static void
test_start_finish_deadline(void **state)
{
    const char *argv[] = { "/bin/sh", "-c", "exec sleep 30", NULL };
    struct hub_child spec = { .argv = argv, .timeout_ms = 100, .grace_ms = 100 };
    struct hub_child_result res = HUB_CHILD_RESULT_INIT;
    struct hub_child_proc *proc;
    const char *missing[] = { "hub-no-such-program", NULL };
    struct hub_child none = { .argv = missing };

    assert_int_equal(hub_child_start(&spec, &proc), 0);
    hub_child_finish(proc, &res);
    assert_int_equal(res.timed_out, 1);
    assert_int_equal(res.signal, SIGTERM);
    hub_child_result_release(&res);
    assert_int_equal(hub_child_start(&none, &proc), EX_UNAVAILABLE);
    assert_null(proc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes_table),
        cmocka_unit_test(test_output_cap),
        cmocka_unit_test(test_input_env_cwd),
        cmocka_unit_test(test_env_replace),
        cmocka_unit_test(test_timeout_kills_group),
        cmocka_unit_test(test_timeout_kills_stubborn_grandchild),
        cmocka_unit_test(test_term_ignored_then_killed),
        cmocka_unit_test(test_missing_program),
        cmocka_unit_test(test_unread_input),
        cmocka_unit_test(test_start_finish_alongside),
        cmocka_unit_test(test_start_finish_deadline),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
