/*
 * test_readsync_ejson.c: --from's fast path from a JSON line to BSON
 * (cmd/hub-readsync/ejson.c). Whenever it takes a line it must build
 * byte for byte what libbson's bson_init_from_json() builds, and it must
 * never take a line libbson refuses: a table of shapes it takes and leaves,
 * then generated lines, valid and broken, against libbson.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../cmd/hub-readsync/readsync.h"

/* Run both parsers on line; fail on any disagreement. Returns whether the
 * fast path took the line. */
static int
compare(const char *line, size_t len)
{
    bson_t fast = BSON_INITIALIZER, ref;
    bson_error_t err;
    int took = readsync_ejson_fast(line, len, &fast);
    int ok = bson_init_from_json(&ref, line, (ssize_t)len, &err);

    if (took && !ok)
        fail_msg("fast path took a line libbson refuses (%s): %.*s", err.message, (int)len, line);
    if (took && !bson_equal(&fast, &ref)) {
        char *a = bson_as_canonical_extended_json(&fast, NULL);
        char *b = bson_as_canonical_extended_json(&ref, NULL);

        fail_msg("%.*s\nfast:    %s\nlibbson: %s", (int)len, line, a, b);
    }
    if (ok)
        bson_destroy(&ref);
    bson_destroy(&fast);
    return took;
}

static void
test_ejson_table(void **state)
{
    static const struct {
        const char *line;
        int fast;             /* the fast path takes it */
    } cases[] = {
        /* what gen.sh and mongoexport write */
        { "{\"_id\":{\"$oid\":\"650000000000000000000001\"},\"status\":\"ingested\","
          "\"timestamp\":{\"$date\":{\"$numberLong\":\"1700000000000\"}},\"source\":\"web\","
          "\"payload\":{\"article\":\"a-1\",\"words\":101,\"progress\":1.5,\"tags\":[\"t1\",\"t2\"]},"
          "\"meta\":{\"seq\":{\"$numberLong\":\"1\"}}}", 1 },
        { "{}", 1 },
        { "  { \"a\" : 1 , \"b\" :\t[ ] , \"c\" : { } }  ", 1 },
        { "{\"i\":2147483647,\"j\":2147483648,\"k\":-2147483648,\"l\":-2147483649}", 1 },
        { "{\"i\":9223372036854775807,\"j\":-9223372036854775808}", 1 },
        { "{\"d\":0.1,\"e\":1e5,\"f\":1E+5,\"g\":-1.5e-3,\"h\":-0.0,\"z\":0}", 1 },
        { "{\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"}", 1 },
        { "{\"t\":true,\"f\":false,\"n\":null}", 1 },
        { "{\"a\":[1,[2,[3,{\"b\":[]}]]]}", 1 },
        { "{\"a\":1,\"a\":2}", 1 },
        { "{\"o\":{\"$oid\":\"65000000000000000000ABCD\"}}", 1 },
        { "{\"n\":{\"$numberLong\":\"-5\"},\"d\":{\"$date\":{\"$numberLong\":\"-86400000\"}}}", 1 },
        /* left to libbson: other shapes, maybe fine, maybe not */
        { "{\"u\":\"\\u0041\"}", 0 },
        { "{\"u\":\"h\xc3\xa9llo\"}", 0 },
        { "{\"d\":{\"$date\":\"2024-01-02T03:04:05Z\"}}", 0 },
        { "{\"d\":{\"$numberDouble\":\"1.5\"}}", 0 },
        { "{\"d\":{\"$numberInt\":\"1\"}}", 0 },
        { "{\"$oid\":\"650000000000000000000001\"}", 0 },
        { "{\"a\":1,\"$x\":2}", 0 },
        { "{\"o\":{\"$oid\":\"650000000000000000000001\",\"x\":1}}", 0 },
        { "{\"n\":{\"$numberLong\":\"9223372036854775808\"}}", 0 },
        { "{\"n\":{\"$numberLong\":\"007\"}}", 0 },
        { "{\"i\":9223372036854775808}", 0 },
        { "{\"i\":-0}", 0 },
        { "{\"i\":007}", 0 },
        { "{\"d\":1e400}", 0 },
        { "{\"d\":.5}", 0 },
        { "{\"d\":5.}", 0 },
        { "{\"d\":+1}", 0 },
        { "{\"\":1}", 0 },
        { "{\"a\":1} trailing", 0 },
        { "{\"a\":1}{\"b\":2}", 0 },
        { "{\"a\":1", 0 },
        { "{\"a\":tru}", 0 },
        { "{\"a\":\"tab\there\"}", 0 },
        { "{\"a\":\"\\x\"}", 0 },
        { "{\"a\":1,}", 0 },
        { "[1,2]", 0 },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int took = compare(cases[i].line, strlen(cases[i].line));

        if (took != cases[i].fast)
            fail_msg("case %zu: fast path %s: %s", i, took ? "took it" : "left it", cases[i].line);
    }
}

/* A NUL byte inside a line (given by length, as source_file.c does) is
 * never part of a number: the fast path leaves such lines to libbson. The
 * first case is what fuzz_readsync_ejson found ("0.25\0\0" read as 0.25). */
static void
test_ejson_nul_bytes(void **state)
{
    static const struct { const char *line; size_t len; } cases[] = {
#define L(lit) { lit, sizeof(lit) - 1 }
        L("{\"progress\":0.25\0\0,\"reader\":\"r-2\"}"),
        L("{\"i\":1\0}"),
        L("{\"i\":12\0\0}"),
        L("{\"a\":[1\0,2]}"),
        L("{\"n\":{\"$numberLong\":\"5\0\"}}"),
        L("{\"a\":1}\0"),
        L("{\"s\":\"x\0y\"}"),
#undef L
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (compare(cases[i].line, cases[i].len))
            fail_msg("case %zu: the fast path took a line with a NUL byte", i);
    }
}

/* Past its depth limit the fast path leaves the line to libbson. */
static void
test_ejson_deep(void **state)
{
    char line[1024];
    size_t n = 0;

    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, "{\"a\":");
    line[n++] = '1';
    for (int i = 0; i < 40; i++)
        line[n++] = '}';
    assert_int_equal(compare(line, n), 0);
    assert_int_equal(compare(line + 50, n - 60), 1);   /* 30 levels */
}

/* The reused document is reinitialized, never appended to. */
static void
test_ejson_reuse(void **state)
{
    bson_t doc = BSON_INITIALIZER;

    assert_true(readsync_ejson_fast("{\"a\":1}", 7, &doc));
    assert_true(readsync_ejson_fast("{\"b\":2}", 7, &doc));
    assert_int_equal(bson_count_keys(&doc), 1);
    assert_true(bson_has_field(&doc, "b"));
    bson_destroy(&doc);
}

/* ---- generated lines ---- */

struct gen {
    uint32_t seed;
    char *out;
    size_t len, cap;
};

static uint32_t
rnd(struct gen *g, uint32_t n)
{
    g->seed = g->seed * 1103515245u + 12345u;
    return (g->seed >> 8) % n;
}

static void
put(struct gen *g, const char *s)
{
    size_t n = strlen(s);

    if (g->len + n < g->cap) {
        memcpy(g->out + g->len, s, n);
        g->len += n;
    }
}

static void
ws(struct gen *g)
{
    if (rnd(g, 5) == 0)
        put(g, rnd(g, 2) ? " " : "\t");
}

static const char *
pick(struct gen *g, const char *const *list, size_t n)
{
    return list[rnd(g, 3) != 0 ? 0 : rnd(g, (uint32_t)n)];
}

#define PICK(g, list) pick((g), (list), sizeof(list) / sizeof((list)[0]))

static void gen_value(struct gen *g, int depth);

static void
gen_object(struct gen *g, int depth)
{
    static const char *const keys[] = {
        "a", "_id", "k", "$oid", "", "a b", "a.b", "\\u0041", "\xc3\xa9", "$numberLong",
        "$date", "x\\\"y", "$ref", "0", "\x01",
    };
    uint32_t n = rnd(g, 4);

    put(g, "{");
    ws(g);
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0) {
            put(g, ",");
            ws(g);
        }
        put(g, "\"");
        put(g, PICK(g, keys));
        put(g, "\"");
        ws(g);
        put(g, ":");
        ws(g);
        gen_value(g, depth + 1);
    }
    ws(g);
    put(g, "}");
}

static void
gen_value(struct gen *g, int depth)
{
    static const char *const strings[] = {
        "plain", "", "a\\\"b", "\\\\", "\\/", "\\n\\t\\r\\b\\f", "\\u0041", "\\u00e9",
        "\xc3\xa9", "\xff", "\x01", "\\x", "a\\", "tab\there",
    };
    static const char *const numbers[] = {
        "1", "0", "-0", "-1", "2147483647", "2147483648", "-2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "-9223372036854775809", "007", "1.5", "-0.0", "1e5", "1E+5", "1e-5", "1e400", "1e-400",
        ".5", "5.", "+1", "1.5e", "0.1", "123456789.123456789", "1-2", "--1", "0x10", "1.0",
    };
    static const char *const oids[] = {
        "650000000000000000000042", "65000000000000000000004", "65000000000000000000004G",
        "65000000000000000000ABCD", "6500000000000000000000420",
    };
    static const char *const longs[] = {
        "5", "-5", "9223372036854775807", "9223372036854775808", "007", "+5", "", "1.5", "x",
    };

    switch (rnd(g, depth > 5 ? 6 : 9)) {
    case 0:
        put(g, "\"");
        put(g, PICK(g, strings));
        put(g, "\"");
        break;
    case 1: put(g, PICK(g, numbers)); break;
    case 2: put(g, rnd(g, 3) != 0 ? "true" : rnd(g, 2) ? "false" : "nul"); break;
    case 3: put(g, "null"); break;
    case 4:
        put(g, "{\"$oid\":");
        ws(g);
        put(g, "\"");
        put(g, PICK(g, oids));
        put(g, rnd(g, 10) == 0 ? "\",\"x\":1}" : "\"}");
        break;
    case 5:
        if (rnd(g, 2)) {
            put(g, "{\"$numberLong\":\"");
            put(g, PICK(g, longs));
            put(g, "\"}");
        } else {
            put(g, "{\"$date\":{\"$numberLong\":\"");
            put(g, PICK(g, longs));
            put(g, rnd(g, 10) == 0 ? "\"},\"y\":2}" : "\"}}");
        }
        break;
    case 6:
    case 7:
        gen_object(g, depth);
        break;
    default:
        put(g, "[");
        for (uint32_t i = 0, n = rnd(g, 4); i < n; i++) {
            if (i > 0)
                put(g, ",");
            ws(g);
            gen_value(g, depth + 1);
        }
        put(g, "]");
        break;
    }
}

static void
test_ejson_agrees_with_libbson(void **state)
{
    char buf[8192];
    struct gen g = { 11, buf, 0, sizeof buf };
    int took = 0, lines = 20000;

    for (int i = 0; i < lines; i++) {
        g.len = 0;
        ws(&g);
        gen_object(&g, 0);
        if (rnd(&g, 20) == 0)
            put(&g, rnd(&g, 2) ? "x" : "{}");
        ws(&g);
        if (rnd(&g, 30) == 0 && g.len > 2)
            g.len -= 1 + rnd(&g, 2);          /* cut short */
        buf[g.len] = '\0';
        took += compare(buf, g.len);
    }
    /* the generator reaches both ways */
    assert_true(took > lines / 5 && took < lines - lines / 5);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ejson_table),
        cmocka_unit_test(test_ejson_nul_bytes),
        cmocka_unit_test(test_ejson_deep),
        cmocka_unit_test(test_ejson_reuse),
        cmocka_unit_test(test_ejson_agrees_with_libbson),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
