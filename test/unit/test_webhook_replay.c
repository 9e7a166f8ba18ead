/* test_webhook_replay.c: the GUID memory: claims, eviction of the oldest,
 * forgetting, and surviving a restart through the state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cmd/hub-webhook/webhook.h"

static void
guid(char *out, size_t n, unsigned i)
{
    snprintf(out, n, "00000000-0000-0000-0000-%012u", i);
}

static void
test_claim_forget(void **state)
{
    struct webhook_replay r;

    assert_int_equal(webhook_replay_init(&r, 4096, NULL), 0);
    assert_int_equal(webhook_replay_claim(&r, "a"), 0);
    assert_int_equal(webhook_replay_claim(&r, "a"), 1);
    assert_int_equal(webhook_replay_claim(&r, "b"), 0);
    assert_int_equal(webhook_replay_count(&r), 2);
    webhook_replay_forget(&r, "a");
    webhook_replay_forget(&r, "never-seen");
    assert_int_equal(webhook_replay_count(&r), 1);
    assert_int_equal(webhook_replay_claim(&r, "a"), 0);
    assert_int_equal(webhook_replay_claim(&r, "b"), 1);
    webhook_replay_release(&r);
    assert_null(r.guids);
}

static void
test_keeps_newest_cap(void **state)
{
    const unsigned cap = 4096, total = 3 * 4096 + 7;
    struct webhook_replay r;
    char g[64];

    assert_int_equal(webhook_replay_init(&r, cap, NULL), 0);
    for (unsigned i = 0; i < total; i++) {
        guid(g, sizeof g, i);
        assert_int_equal(webhook_replay_claim(&r, g), 0);
    }
    assert_int_equal(webhook_replay_count(&r), cap);
    guid(g, sizeof g, total - cap);          /* the oldest kept */
    assert_int_equal(webhook_replay_claim(&r, g), 1);
    guid(g, sizeof g, total - 1);            /* the newest */
    assert_int_equal(webhook_replay_claim(&r, g), 1);
    guid(g, sizeof g, total - cap - 1);      /* evicted */
    assert_int_equal(webhook_replay_claim(&r, g), 0);
    webhook_replay_release(&r);
}

static void
test_survives_restart(void **state)
{
    char dir[] = "/tmp/test_replay.XXXXXX", path[128], g[64];
    struct webhook_replay r;

    assert_non_null(mkdtemp(dir));
    assert_int_equal(webhook_replay_init(&r, 4096, dir), 0);
    for (unsigned i = 0; i < 5 * 4096; i++) {    /* forces compactions */
        guid(g, sizeof g, i);
        assert_int_equal(webhook_replay_claim(&r, g), 0);
    }
    webhook_replay_forget(&r, g);                 /* the last one failed */
    webhook_replay_release(&r);

    assert_int_equal(webhook_replay_init(&r, 4096, dir), 0);
    assert_int_equal(webhook_replay_count(&r), 4095);
    guid(g, sizeof g, 5 * 4096 - 2);
    assert_int_equal(webhook_replay_claim(&r, g), 1);
    guid(g, sizeof g, 5 * 4096 - 1);
    assert_int_equal(webhook_replay_claim(&r, g), 0);
    webhook_replay_release(&r);
    snprintf(path, sizeof path, "%s/replay.log", dir);
    unlink(path);
    rmdir(dir);
}

/* A state directory (dir, filled in) whose replay.log (path) holds text. */
static void
write_log(char *dir, char *path, size_t pathlen, const char *text)
{
    FILE *f;

    assert_non_null(mkdtemp(dir));
    snprintf(path, pathlen, "%s/replay.log", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* A blank or garbled line in the log (a crash, an editor) is skipped; the
 * GUIDs after it are still remembered. */
static void
test_log_with_blank_lines(void **state)
{
    char dir[] = "/tmp/test_replay.XXXXXX", path[128];
    struct webhook_replay r;

    write_log(dir, path, sizeof path,
              "+first-guid\n\n+x/not-a-guid\n\n\n+after-blank\n+torn-at-the-e");

    assert_int_equal(webhook_replay_init(&r, 4096, dir), 0);
    assert_int_equal(webhook_replay_claim(&r, "first-guid"), 1);
    assert_int_equal(webhook_replay_claim(&r, "after-blank"), 1);
    assert_int_equal(webhook_replay_claim(&r, "x/not-a-guid"), 0);
    webhook_replay_release(&r);
    unlink(path);
    rmdir(dir);
}

/* An empty log (a fresh state directory after the first start) loads as
 * nothing remembered, and the next claim is written to it. */
static void
test_empty_log(void **state)
{
    char dir[] = "/tmp/test_replay.XXXXXX", path[128];
    struct webhook_replay r;

    write_log(dir, path, sizeof path, "");

    assert_int_equal(webhook_replay_init(&r, 4096, dir), 0);
    assert_int_equal(webhook_replay_count(&r), 0);
    assert_int_equal(webhook_replay_claim(&r, "new-guid"), 0);
    webhook_replay_release(&r);
    assert_int_equal(webhook_replay_init(&r, 4096, dir), 0);
    assert_int_equal(webhook_replay_claim(&r, "new-guid"), 1);
    webhook_replay_release(&r);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim_forget),
        cmocka_unit_test(test_keeps_newest_cap),
        cmocka_unit_test(test_survives_restart),
        cmocka_unit_test(test_log_with_blank_lines),
        cmocka_unit_test(test_empty_log),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
