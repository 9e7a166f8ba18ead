/* test_repos.c: repos.d/NAME.conf parsing, defaults, name validation and
 * the GitHub allowlist lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hub.h"
#include "repos.h"

static char dir[64];

static void
write_conf(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void
test_name_table(void **state)
{
    static const struct { const char *name; int valid; } cases[] = {
        { "hub", 1 }, { "my-repo_2.x", 1 }, { "", 0 }, { ".", 0 }, { "..", 0 },
        { "../etc", 0 }, { "a/b", 0 }, { "a b", 0 }, { "a\nb", 0 }, { "-", 1 },
        { "ä", 0 }, { "..hidden", 1 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(hub_repo_name_valid(cases[i].name), cases[i].valid);
}

static void
test_full_file(void **state)
{
    struct hub_repo r;

    write_conf("site.conf",
               "# the web site\n"
               "CHECKOUT=/srv/site\n"
               "GITHUB=\"Owner/Site\"\n"
               "  BRANCH = 'release'  \n"
               "; a comment\n"
               "APPLY=make deploy && echo done\n"
               "APPLY_TIMEOUT=60\n"
               "ON_DIVERGE=reset\n"
               "ROLLBACK=yes\n");
    assert_int_equal(hub_repo_load(dir, "site", &r), 0);
    assert_string_equal(r.name, "site");
    assert_string_equal(r.checkout, "/srv/site");
    assert_string_equal(r.github, "Owner/Site");
    assert_string_equal(r.branch, "release");
    assert_string_equal(r.remote, "origin");
    assert_string_equal(r.apply, "make deploy && echo done");
    assert_int_equal(r.apply_timeout_s, 60);
    assert_int_equal(r.on_diverge, HUB_DIVERGE_RESET);
    assert_int_equal(r.rollback, 1);
    hub_repo_release(&r);
    assert_null(r.checkout);
}

static void
test_defaults(void **state)
{
    struct hub_repo r;

    write_conf("min.conf", "CHECKOUT=/srv/min");
    assert_int_equal(hub_repo_load(dir, "min", &r), 0);
    assert_string_equal(r.branch, "main");
    assert_string_equal(r.remote, "origin");
    assert_null(r.apply);
    assert_null(r.github);
    assert_int_equal(r.apply_timeout_s, 300);
    assert_int_equal(r.on_diverge, HUB_DIVERGE_REFUSE);
    assert_int_equal(r.rollback, 0);
    hub_repo_release(&r);
}

static void
test_rejections(void **state)
{
    static const char *const bad[] = {
        "GITHUB=a/b\n",                          /* no CHECKOUT */
        "CHECKOUT=relative/path\n",
        "CHECKOUT=/x\nAPPLY_TIMEOUT=0\n",
        "CHECKOUT=/x\nAPPLY_TIMEOUT=soon\n",
        "CHECKOUT=/x\nON_DIVERGE=merge\n",
        "CHECKOUT=/x\nROLLBACK=maybe\n",
        "CHECKOUT=/x\nnot a key value line\n",
        "CHECKOUT=/x\nBRANCH=--upload-pack=evil\n",
    };
    struct hub_repo r;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_conf("bad.conf", bad[i]);
        assert_int_equal(hub_repo_load(dir, "bad", &r), EX_CONFIG);
        assert_null(r.checkout);
    }
    assert_int_equal(hub_repo_load(dir, "../etc", &r), EX_CONFIG);
    assert_int_equal(hub_repo_load(dir, "nosuch", &r), EX_CONFIG);
    unlink("bad.conf");
}

static void
test_load_all_and_find(void **state)
{
    struct hub_repo_list list;
    char path[256];

    snprintf(path, sizeof path, "%s/bad.conf", dir);
    unlink(path);
    write_conf("b.conf", "CHECKOUT=/b\nGITHUB=owner/b\n");
    write_conf("a.conf", "CHECKOUT=/a\nGITHUB=owner/a\n");
    write_conf("notes.txt", "ignored\n");
    assert_int_equal(hub_repos_load_all(dir, &list), 0);
    assert_true(list.n >= 2);
    assert_string_equal(list.items[0].name, "a");
    assert_non_null(hub_repos_find_github(&list, "OWNER/B"));
    assert_string_equal(hub_repos_find_github(&list, "owner/b")->name, "b");
    assert_null(hub_repos_find_github(&list, "owner/c"));
    hub_repo_list_release(&list);
    assert_int_equal(list.n, 0);

    write_conf("broken.conf", "CHECKOUT=relative\n");
    assert_int_equal(hub_repos_load_all(dir, &list), EX_CONFIG);
    assert_null(list.items);
    assert_int_equal(hub_repos_load_all("/nonexistent/repos.d", &list), 0);
    assert_int_equal(list.n, 0);
}

static int
setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/test_repos.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_table),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_load_all_and_find),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
