/*
 * test_gitops_parse.c: hub-gitops' pure parts: git output parsers, name and
 * ref checks, the trigger JSON line, the pending-APPLY record, the outcome
 * -> exit code table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../cmd/hub-gitops/gitops.h"
#include "hub.h"

#define SHA_A "0123456789abcdef0123456789abcdef01234567"
#define SHA_B "89abcdef0123456789abcdef0123456789abcdef"
#define SHA_C "fedcba9876543210fedcba9876543210fedcba98"

static void
test_parse_heads(void **state)
{
    static const struct {
        const char *text;
        int ok;
        const char *ref;
    } cases[] = {
        { SHA_A "\n" SHA_B "\nrefs/heads/main\n", 1, "refs/heads/main" },
        { SHA_A "\n" SHA_B "\nHEAD\n", 1, "HEAD" },
        { SHA_A "\n" SHA_B "\nrefs/heads/feature/x", 1, "refs/heads/feature/x" },
        { SHA_A "\n" SHA_B "\nrefs/tags/v1\n", 0, NULL },
        { SHA_A "\n" SHA_B "\n", 0, NULL },
        { SHA_A "\nnot-a-sha\nHEAD\n", 0, NULL },
        { SHA_A "\n", 0, NULL },
        { "", 0, NULL },
        { SHA_A "0\n" SHA_B "\nHEAD\n", 0, NULL },          /* 41 hex */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gitops_heads h;
        int rc = gitops_parse_heads(cases[i].text, &h);

        assert_int_equal(rc == 0, cases[i].ok);
        if (cases[i].ok) {
            assert_string_equal(h.head, SHA_A);
            assert_string_equal(h.remote, SHA_B);
            assert_string_equal(h.head_ref, cases[i].ref);
        }
    }
}

static void
test_parse_counts(void **state)
{
    static const struct {
        const char *text;
        int ok;
        long long ahead, behind;
    } cases[] = {
        { "0\t0\n", 1, 0, 0 },
        { "3\t17\n", 1, 3, 17 },
        { "12\t0", 1, 12, 0 },
        { "1 2\n", 0, 0, 0 },
        { "\t2\n", 0, 0, 0 },
        { "1\t\n", 0, 0, 0 },
        { "1\t2x\n", 0, 0, 0 },
        { "", 0, 0, 0 },
        { "-1\t2\n", 0, 0, 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long a = -1, b = -1;
        int rc = gitops_parse_counts(cases[i].text, &a, &b);

        assert_int_equal(rc == 0, cases[i].ok);
        if (cases[i].ok) {
            assert_int_equal(a, cases[i].ahead);
            assert_int_equal(b, cases[i].behind);
        }
    }
}

static void
test_parse_ls_remote(void **state)
{
    static const struct {
        const char *text;
        int ok;
        const char *oid;
    } cases[] = {
        { SHA_A "\trefs/heads/main\n", 1, SHA_A },
        { SHA_B "\trefs/heads/x/refs/heads/main\n" SHA_A "\trefs/heads/main\n", 1, SHA_A },
        { SHA_B "\trefs/heads/x/refs/heads/main\n", 0, NULL },
        { SHA_A "\trefs/heads/mainline\n", 0, NULL },
        { "", 0, NULL },
        { "zzz\trefs/heads/main\n", 0, NULL },
        { SHA_A " refs/heads/main\n", 0, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char oid[GITOPS_OID_MAX + 1];
        int rc = gitops_parse_ls_remote(cases[i].text, "refs/heads/main", oid);

        assert_int_equal(rc == 0, cases[i].ok);
        if (cases[i].ok)
            assert_string_equal(oid, cases[i].oid);
    }
}

/* The scanner under both: packed-refs' space, "not there" apart from "bad". */
static void
test_parse_ref_line(void **state)
{
    static const char packed[] = "# pack-refs with: peeled fully-peeled sorted \n"
                                 SHA_B " refs/heads/main-old\n"
                                 SHA_A " refs/heads/main\n^" SHA_C "\n"
                                 "0123 refs/heads/short\n";
    char oid[GITOPS_OID_MAX + 1];

    assert_int_equal(gitops_parse_ref_line(packed, ' ', "refs/heads/main", oid), 0);
    assert_string_equal(oid, SHA_A);
    assert_int_equal(gitops_parse_ref_line(packed, ' ', "refs/heads/other", oid), 1);
    assert_int_equal(gitops_parse_ref_line(packed, ' ', "refs/heads/short", oid), -1);
    assert_int_equal(gitops_parse_ref_line(packed, '\t', "refs/heads/main", oid), 1);
}

/* rev-list --format=%T: which commit of the range has the index's tree. */
static void
test_parse_commit_of_tree(void **state)
{
    static const struct {
        const char *text, *tree;
        int rc;
        const char *oid;
    } cases[] = {
        { "commit " SHA_A "\n" SHA_B "\n", SHA_B, 0, SHA_A },
        { "commit " SHA_A "\n" SHA_C "\ncommit " SHA_B "\n" SHA_B "\n", SHA_B, 0, SHA_B },
        { "commit " SHA_A "\n" SHA_C "\n", SHA_B, 1, NULL },      /* no commit has it */
        { "", SHA_B, 1, NULL },                                     /* empty range */
        { SHA_B "\n", SHA_B, 1, NULL },                             /* a tree before any commit */
        { "commit nothex\n" SHA_B "\n", SHA_B, 1, NULL },            /* a bad commit line */
        { "commit " SHA_A "\n" SHA_C "\ncommit " SHA_B "\n0123", SHA_C, 0, SHA_A }, /* cut */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char oid[GITOPS_OID_MAX + 1] = "";

        assert_int_equal(gitops_parse_commit_of_tree(cases[i].text, cases[i].tree, oid),
                         cases[i].rc);
        if (cases[i].oid != NULL)
            assert_string_equal(oid, cases[i].oid);
    }
}

static void
test_oid_valid(void **state)
{
    assert_true(gitops_oid_valid(SHA_A));
    assert_true(gitops_oid_valid(SHA_A "012345678901234567890123"));   /* 64: SHA-256 */
    assert_false(gitops_oid_valid(""));
    assert_false(gitops_oid_valid("0123"));
    assert_false(gitops_oid_valid("0123456789ABCDEF0123456789abcdef01234567"));
    assert_false(gitops_oid_valid(SHA_A "\n"));
    assert_false(gitops_oid_valid(SHA_A "0"));
}

static void
test_refname_part(void **state)
{
    static const struct {
        const char *s;
        int ok;
    } cases[] = {
        { "main", 1 }, { "release/1.2", 1 }, { "origin", 1 }, { "feat_x-y", 1 },
        { "", 0 }, { "-x", 0 }, { ".hidden", 0 }, { "a..b", 0 }, { "a:b", 0 },
        { "a*", 0 }, { "a b", 0 }, { "a\tb", 0 }, { "a~1", 0 }, { "a^", 0 },
        { "a?", 0 }, { "a[", 0 }, { "a\\b", 0 }, { "x/", 0 }, { "/x", 0 },
        { "a//b", 0 }, { "x.lock", 0 }, { "a@{1}", 0 }, { "x.", 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(gitops_refname_part_valid(cases[i].s), cases[i].ok);
}

static void
test_trigger_parse(void **state)
{
    static const struct {
        const char *json;
        int rc;
        const char *repo, *after, *traceparent;
    } cases[] = {
        { "{\"repo\":\"demo\",\"ref\":\"refs/heads/main\",\"after\":\"" SHA_A "\","
          "\"delivery\":\"d\",\"event\":\"push\",\"traceparent\":\"00-ab-cd-01\"}",
          0, "demo", SHA_A, "00-ab-cd-01" },
        { "{\"repo\":\"a.b_c-1\"}\n", 0, "a.b_c-1", "", "" },
        { "{\"repo\":\"demo\",\"after\":null,\"extra\":[1,2]}", 0, "demo", "", "" },
        { "{\"repo\":\"demo\",\"after\":\"\"}", 0, "demo", "", "" },
        { "{}", EX_DATAERR, NULL, NULL, NULL },
        { "[]", EX_DATAERR, NULL, NULL, NULL },
        { "", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"demo\"", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"../etc\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"..\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"a/b\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":7}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"demo\",\"after\":\"xyz\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"demo\",\"ref\":\"main\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"demo\",\"ref\":\"refs/heads/a..b\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"demo\",\"delivery\":\"a\\nb\"}", EX_DATAERR, NULL, NULL, NULL },
        { "{\"repo\":\"demo\",\"event\":" "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
          EX_DATAERR, NULL, NULL, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gitops_trigger t = GITOPS_TRIGGER_INIT("test");
        int rc = gitops_trigger_parse(cases[i].json, strlen(cases[i].json), &t);

        assert_int_equal(rc, cases[i].rc);
        assert_string_equal(t.source, "test");
        if (rc == 0) {
            assert_string_equal(t.repo, cases[i].repo);
            assert_string_equal(t.after, cases[i].after);
            assert_string_equal(t.traceparent, cases[i].traceparent);
        }
    }
}

/* A pending record for "demo", with FIELDS after the repo's own member. */
#define PENDING(fields) "{\"repo\":\"demo\"," fields "}"
#define PENDING_OK_TAIL "\"head_ref\":\"refs/heads/main\",\"branch_ref\":\"refs/heads/main\""

static void
test_pending_parse(void **state)
{
    static const struct {
        const char *json;
        int ok;
        const char *head_ref;
        const char *branch_old;
    } cases[] = {
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\"," PENDING_OK_TAIL
                  ",\"branch_old\":\"" SHA_A "\",\"time\":\"x\""), 1, "refs/heads/main", SHA_A },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\",\"head_ref\":\"HEAD\","
                  "\"branch_ref\":\"refs/heads/main\",\"branch_old\":\"\""), 1, "HEAD", "" },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\",\"head_ref\":\"refs/heads/f/x\","
                  "\"branch_ref\":\"refs/heads/main\",\"branch_old\":\"" SHA_C "\""),
          1, "refs/heads/f/x", SHA_C },
        /* rejected: another repository, a missing or bad revision, no move */
        { "{\"repo\":\"other\",\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\"," PENDING_OK_TAIL
          ",\"branch_old\":\"\"}", 0, NULL, NULL },
        { PENDING("\"new\":\"" SHA_B "\"," PENDING_OK_TAIL ",\"branch_old\":\"\""), 0, NULL, NULL },
        { PENDING("\"old\":\"xyz\",\"new\":\"" SHA_B "\"," PENDING_OK_TAIL
                  ",\"branch_old\":\"\""), 0, NULL, NULL },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_A "\"," PENDING_OK_TAIL
                  ",\"branch_old\":\"\""), 0, NULL, NULL },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":7," PENDING_OK_TAIL ",\"branch_old\":\"\""),
          0, NULL, NULL },
        /* rejected: refs that are not branches, a bad old branch tip */
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\",\"head_ref\":\"refs/tags/v1\","
                  "\"branch_ref\":\"refs/heads/main\",\"branch_old\":\"\""), 0, NULL, NULL },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\",\"head_ref\":\"HEAD\","
                  "\"branch_ref\":\"refs/heads/a..b\",\"branch_old\":\"\""), 0, NULL, NULL },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\",\"head_ref\":\"HEAD\","
                  "\"branch_ref\":\"HEAD\",\"branch_old\":\"\""), 0, NULL, NULL },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\"," PENDING_OK_TAIL
                  ",\"branch_old\":\"main\""), 0, NULL, NULL },
        { PENDING("\"old\":\"" SHA_A "\",\"new\":\"" SHA_B "\"," PENDING_OK_TAIL), 0, NULL, NULL },
        /* rejected: not a JSON object */
        { "[]", 0, NULL, NULL },
        { "", 0, NULL, NULL },
        { "{\"repo\":\"demo\"", 0, NULL, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gitops_pending p;
        int rc = gitops_pending_parse(cases[i].json, strlen(cases[i].json), "demo", &p);

        assert_int_equal(rc == 0, cases[i].ok);
        if (rc != 0) {
            assert_int_equal(rc, -1);
            assert_string_equal(p.old_rev, "");      /* nothing half-filled */
            assert_string_equal(p.new_rev, "");
            continue;
        }
        assert_string_equal(p.old_rev, SHA_A);
        assert_string_equal(p.new_rev, SHA_B);
        assert_string_equal(p.head_ref, cases[i].head_ref);
        assert_string_equal(p.branch_ref, "refs/heads/main");
        assert_string_equal(p.branch_old, cases[i].branch_old);
    }
}

static void
test_outcomes(void **state)
{
    static const struct {
        enum gitops_outcome o;
        int code;
        const char *name;
    } cases[] = {
        { GITOPS_NOOP, 0, "noop" },
        { GITOPS_SYNCED, 0, "synced" },
        { GITOPS_SWITCHED, 0, "switched" },
        { GITOPS_RESET, 0, "reset" },
        { GITOPS_LOCAL_AHEAD, 0, "local_ahead" },
        { GITOPS_IGNORED, 0, "ignored" },
        { GITOPS_SKIPPED_DIRTY, 75, "skipped_dirty" },
        { GITOPS_BUSY, 75, "busy" },
        { GITOPS_BLOCKED, 75, "blocked" },
        { GITOPS_DIVERGED, 65, "diverged" },
        { GITOPS_GIT_FAILED, 69, "git_failed" },
        { GITOPS_APPLY_FAILED, 70, "apply_failed" },
        { GITOPS_ROLLED_BACK, 70, "rolled_back" },
        { GITOPS_CONFIG, 78, "config_invalid" },
    };

    assert_int_equal(sizeof cases / sizeof cases[0], GITOPS_OUTCOME_COUNT);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(gitops_outcome_exit(cases[i].o), cases[i].code);
        assert_string_equal(gitops_outcome_name(cases[i].o), cases[i].name);
    }
    assert_string_equal(gitops_outcome_name(GITOPS_OUTCOME_COUNT), "unknown");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_heads),
        cmocka_unit_test(test_parse_counts),
        cmocka_unit_test(test_parse_ls_remote),
        cmocka_unit_test(test_parse_ref_line),
        cmocka_unit_test(test_parse_commit_of_tree),
        cmocka_unit_test(test_oid_valid),
        cmocka_unit_test(test_refname_part),
        cmocka_unit_test(test_trigger_parse),
        cmocka_unit_test(test_pending_parse),
        cmocka_unit_test(test_outcomes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
