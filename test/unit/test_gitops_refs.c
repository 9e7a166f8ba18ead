/*
 * test_gitops_refs.c: HEAD and the remote-tracking ref read from a
 * repository's files (refs.c): loose refs, packed-refs (header and peeled
 * lines skipped), a detached HEAD, missing refs (1), and every layout it
 * leaves to git (-1): a .git file, a reftable repository, a symbolic ref
 * outside refs/heads, a ref file that is not an object id.
 */
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

#include "../../cmd/hub-gitops/gitops.h"

#define SHA_A "0123456789abcdef0123456789abcdef01234567"
#define SHA_B "89abcdef0123456789abcdef0123456789abcdef"
#define SHA_C "fedcba9876543210fedcba9876543210fedcba98"
#define TRACKING "refs/remotes/origin/main"

struct repo {
    char top[64];       /* the checkout */
};

static void
put(const struct repo *r, const char *path, const char *text)
{
    char full[512];
    FILE *f;

    snprintf(full, sizeof full, "%s/%s", r->top, path);
    for (char *p = full + strlen(r->top) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(full, 0755);
        *p = '/';
    }
    f = fopen(full, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void
drop(const struct repo *r, const char *path)
{
    char full[512];

    snprintf(full, sizeof full, "%s/%s", r->top, path);
    assert_int_equal(remove(full), 0);
}

/* A checkout on main at A whose origin/main is B, all loose. */
static int
setup(void **state)
{
    struct repo *r = calloc(1, sizeof *r);

    snprintf(r->top, sizeof r->top, "/tmp/test_refs.XXXXXX");
    assert_non_null(mkdtemp(r->top));
    put(r, ".git/HEAD", "ref: refs/heads/main\n");
    put(r, ".git/refs/heads/main", SHA_A "\n");
    put(r, ".git/refs/remotes/origin/main", SHA_B "\n");
    *state = r;
    return 0;
}

static void
rm_rf(const char *dir, const char *sub)
{
    char cmd[256];

    snprintf(cmd, sizeof cmd, "rm -rf '%s%s'", dir, sub);
    assert_int_equal(system(cmd), 0);
}

static int
teardown(void **state)
{
    struct repo *r = *state;

    rm_rf(r->top, "");
    free(r);
    return 0;
}

static int
heads(const struct repo *r, struct gitops_heads *h)
{
    memset(h, 0, sizeof *h);
    return gitops_refs_heads(r->top, TRACKING, h);
}

static void
test_loose(void **state)
{
    struct gitops_heads h;

    assert_int_equal(heads(*state, &h), 0);
    assert_string_equal(h.head, SHA_A);
    assert_string_equal(h.remote, SHA_B);
    assert_string_equal(h.head_ref, "refs/heads/main");
}

static void
test_packed(void **state)
{
    struct gitops_heads h;

    drop(*state, ".git/refs/remotes/origin/main");
    put(*state, ".git/packed-refs",
        "# pack-refs with: peeled fully-peeled sorted \n"
        SHA_C " refs/remotes/origin/main-old\n"
        SHA_B " " TRACKING "\n"
        "^" SHA_C "\n"
        SHA_A " refs/tags/v1\n");
    assert_int_equal(heads(*state, &h), 0);
    assert_string_equal(h.remote, SHA_B);
    /* A loose ref overrides its packed line, as in git. */
    put(*state, ".git/refs/remotes/origin/main", SHA_C "\n");
    assert_int_equal(heads(*state, &h), 0);
    assert_string_equal(h.remote, SHA_C);
}

static void
test_detached(void **state)
{
    struct gitops_heads h;

    put(*state, ".git/HEAD", SHA_C "\n");
    assert_int_equal(heads(*state, &h), 0);
    assert_string_equal(h.head, SHA_C);
    assert_string_equal(h.head_ref, "HEAD");
}

static void
test_missing(void **state)
{
    struct gitops_heads h;

    put(*state, ".git/HEAD", "ref: refs/heads/unborn\n");
    assert_int_equal(heads(*state, &h), 1);
    put(*state, ".git/HEAD", "ref: refs/heads/main\n");
    drop(*state, ".git/refs/remotes/origin/main");
    assert_int_equal(heads(*state, &h), 1);
}

static void
test_ask_git(void **state)
{
    static const struct { const char *path, *text; } cases[] = {
        { ".git/HEAD", "ref: refs/remotes/origin/main\n" },     /* not a branch */
        { ".git/HEAD", "ref: refs/heads/../../config\n" },
        { ".git/HEAD", "not a ref\n" },
        { ".git/refs/heads/main", "ref: refs/heads/other\n" },  /* symbolic branch */
        { ".git/refs/heads/main", "0123\n" },
        { ".git/reftable/tables.list", "" },
        { ".git/commondir", "..\n" },
    };
    const struct repo *r = *state;
    struct gitops_heads h;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        teardown(state);
        setup(state);
        r = *state;
        put(r, cases[i].path, cases[i].text);
        assert_int_equal(heads(r, &h), -1);
    }
    /* A .git file (a linked worktree, a submodule). */
    teardown(state);
    setup(state);
    r = *state;
    rm_rf(r->top, "/.git");
    put(r, ".git", "gitdir: /elsewhere\n");
    assert_int_equal(heads(r, &h), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_packed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ask_git, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
