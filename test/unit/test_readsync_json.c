/*
 * test_readsync_json.c: hub-readsync's relaxed Extended JSON writer
 * (cmd/hub-readsync/json.c): every BSON type, string escapes as JSON and
 * then as COPY text, nesting, refusals, doubles in shortest round-trip form,
 * and, over generated documents, agreement with libbson's
 * bson_as_relaxed_extended_json() apart from whitespace and doubles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../cmd/hub-readsync/readsync.h"

/* The COPY text of JSON text: backslashes doubled (JSON has no raw tab,
 * newline or carriage return to escape). */
static char *
copy_text(const char *json)
{
    struct hub_buf b = HUB_BUF_INIT(1 << 20);

    assert_int_equal(readsync_copy_escape(&b, json, strlen(json)), HUB_BUF_OK);
    return hub_buf_take(&b);
}

/* Write the value at it after "before|"; returns the result code and, when
 * 0, checks the text after the prefix against want (JSON, not yet COPY). */
static int
write_value(const bson_iter_t *it, const char *want, const char *label)
{
    struct hub_buf out = HUB_BUF_INIT(1 << 22);
    int rc;

    assert_int_equal(hub_buf_append(&out, "before|", 7), HUB_BUF_OK);
    rc = readsync_json_write(it, &out);
    if (rc == READSYNC_JSON_OK && want != NULL) {
        char *copy = copy_text(want);

        if (strcmp(hub_buf_str(&out) + 7, copy) != 0)
            fail_msg("%s: got %s, want %s", label, hub_buf_str(&out) + 7, copy);
        free(copy);
    }
    if (rc > 0)
        assert_string_equal(hub_buf_str(&out), "before|");   /* out unchanged */
    hub_buf_release(&out);
    return rc;
}

/* {"v": value} in Extended JSON -> the writer's output for value. */
static void
test_json_types_table(void **state)
{
    static const struct {
        const char *in;       /* the value, as Extended JSON input */
        const char *want;     /* relaxed Extended JSON, compact */
    } cases[] = {
        { "1", "1" },
        { "-2147483648", "-2147483648" },
        { "{\"$numberLong\":\"-9223372036854775808\"}", "-9223372036854775808" },
        { "{\"$numberLong\":\"9007199254740993\"}", "9007199254740993" },
        { "1.5", "1.5" },
        { "0.1", "0.1" },
        { "{\"$numberDouble\":\"1e300\"}", "1e+300" },
        { "{\"$numberDouble\":\"-0.0\"}", "-0.0" },
        { "{\"$numberDouble\":\"3\"}", "3.0" },
        { "{\"$numberDouble\":\"NaN\"}", "{\"$numberDouble\":\"NaN\"}" },
        { "{\"$numberDouble\":\"Infinity\"}", "{\"$numberDouble\":\"Infinity\"}" },
        { "{\"$numberDouble\":\"-Infinity\"}", "{\"$numberDouble\":\"-Infinity\"}" },
        { "true", "true" },
        { "false", "false" },
        { "null", "null" },
        { "\"plain\"", "\"plain\"" },
        { "\"\"", "\"\"" },
        { "\"h\\u00e9llo \\u20ac \\ud83d\\ude00\"", "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"" },
        { "\"q\\\" b\\\\ s/ t\\t n\\n r\\r b\\b f\\f\"", "\"q\\\" b\\\\ s/ t\\t n\\n r\\r b\\b f\\f\"" },
        { "\"c\\u0001\\u001f\\u007f\"", "\"c\\u0001\\u001f\x7f\"" },
        { "\"\\\\N\"", "\"\\\\N\"" },
        { "{\"$oid\":\"650000000000000000000042\"}", "{\"$oid\":\"650000000000000000000042\"}" },
        { "{\"$date\":\"2024-01-02T03:04:05.678Z\"}", "{\"$date\":\"2024-01-02T03:04:05.678Z\"}" },
        { "{\"$date\":\"2024-01-02T03:04:05Z\"}", "{\"$date\":\"2024-01-02T03:04:05Z\"}" },
        { "{\"$date\":{\"$numberLong\":\"0\"}}", "{\"$date\":\"1970-01-01T00:00:00Z\"}" },
        { "{\"$date\":{\"$numberLong\":\"-86400000\"}}", "{\"$date\":{\"$numberLong\":\"-86400000\"}}" },
        { "{\"$date\":{\"$numberLong\":\"253402300800001\"}}", "{\"$date\":\"10000-01-01T00:00:00.001Z\"}" },
        { "{\"$date\":{\"$numberLong\":\"951782400000\"}}", "{\"$date\":\"2000-02-29T00:00:00Z\"}" },
        { "{\"$numberDecimal\":\"1234.5678\"}", "{\"$numberDecimal\":\"1234.5678\"}" },
        { "{\"$numberDecimal\":\"-1E+10\"}", "{\"$numberDecimal\":\"-1E+10\"}" },
        { "{\"$binary\":{\"base64\":\"AQID\",\"subType\":\"00\"}}",
          "{\"$binary\":{\"base64\":\"AQID\",\"subType\":\"00\"}}" },
        { "{\"$binary\":{\"base64\":\"AQIDBA==\",\"subType\":\"80\"}}",
          "{\"$binary\":{\"base64\":\"AQIDBA==\",\"subType\":\"80\"}}" },
        { "{\"$binary\":{\"base64\":\"AQIDBAU=\",\"subType\":\"04\"}}",
          "{\"$binary\":{\"base64\":\"AQIDBAU=\",\"subType\":\"04\"}}" },
        { "{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}}",
          "{\"$binary\":{\"base64\":\"\",\"subType\":\"00\"}}" },
        { "{\"$regularExpression\":{\"pattern\":\"^a\\\\.\\\"\",\"options\":\"xsmi\"}}",
          "{\"$regularExpression\":{\"pattern\":\"^a\\\\.\\\"\",\"options\":\"imsx\"}}" },
        { "{\"$timestamp\":{\"t\":4294967295,\"i\":7}}", "{\"$timestamp\":{\"t\":4294967295,\"i\":7}}" },
        { "{\"$dbPointer\":{\"$ref\":\"c\\\"\",\"$id\":{\"$oid\":\"650000000000000000000042\"}}}",
          "{\"$dbPointer\":{\"$ref\":\"c\\\"\",\"$id\":{\"$oid\":\"650000000000000000000042\"}}}" },
        { "{\"$code\":\"f(\\\"x\\\")\"}", "{\"$code\":\"f(\\\"x\\\")\"}" },
        { "{\"$code\":\"f()\",\"$scope\":{\"x\":1,\"y\":{\"$numberLong\":\"2\"}}}",
          "{\"$code\":\"f()\",\"$scope\":{\"x\":1,\"y\":2}}" },
        { "{\"$symbol\":\"sym\"}", "{\"$symbol\":\"sym\"}" },
        { "{\"$undefined\":true}", "{\"$undefined\":true}" },
        { "{\"$minKey\":1}", "{\"$minKey\":1}" },
        { "{\"$maxKey\":1}", "{\"$maxKey\":1}" },
        { "{}", "{}" },
        { "[]", "[]" },
        { "[1,\"two\",{\"three\":[3,[]]}]", "[1,\"two\",{\"three\":[3,[]]}]" },
        { "{\"a\":{\"b\":[1,2]},\"k\\\"\\\\\\t\":\"v\"}", "{\"a\":{\"b\":[1,2]},\"k\\\"\\\\\\t\":\"v\"}" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512], label[32];
        bson_error_t err;
        bson_t *doc;
        bson_iter_t it;

        assert_true(snprintf(json, sizeof json, "{\"v\":%s}", cases[i].in) < (int)sizeof json);
        doc = bson_new_from_json((const uint8_t *)json, -1, &err);
        if (doc == NULL)
            fail_msg("case %zu: bad test JSON %s: %s", i, json, err.message);
        assert_true(bson_iter_init_find(&it, doc, "v"));
        snprintf(label, sizeof label, "case %zu", i);
        assert_int_equal(write_value(&it, cases[i].want, label), READSYNC_JSON_OK);
        bson_destroy(doc);
    }
}

/* The exact bytes for COPY: JSON escapes with their backslash doubled, and
 * never a raw tab or newline, so the row's columns and lines stay intact. */
static void
test_json_copy_bytes(void **state)
{
    bson_t doc = BSON_INITIALIZER;
    bson_iter_t it;
    struct hub_buf out = HUB_BUF_INIT(4096);

    bson_append_utf8(&doc, "v", -1, "a\tb\nc\rd\\e\"f\x01", -1);
    assert_true(bson_iter_init_find(&it, &doc, "v"));
    assert_int_equal(readsync_json_write(&it, &out), READSYNC_JSON_OK);
    assert_string_equal(hub_buf_str(&out), "\"a\\\\tb\\\\nc\\\\rd\\\\\\\\e\\\\\"f\\\\u0001\"");
    assert_null(strpbrk(hub_buf_str(&out), "\t\n\r"));
    bson_destroy(&doc);
    hub_buf_release(&out);
}

enum part { PART_VALUE, PART_KEY, PART_CODE, PART_SYMBOL, PART_REGEX, PART_OPTIONS };

/* doc becomes {"v": {"$code": s[0..n)}}: libbson's appenders stop a code
 * string at its NUL, so the document is laid out by hand (little-endian). */
static void
code_doc(bson_t *doc, const char *s, size_t n)
{
    static uint8_t raw[96];
    uint32_t total = (uint32_t)(4 + 1 + 2 + 4 + n + 1 + 1), slen = (uint32_t)n + 1;

    assert_true(total <= sizeof raw);
    memcpy(raw, &total, 4);
    raw[4] = BSON_TYPE_CODE;
    memcpy(raw + 5, "v", 2);
    memcpy(raw + 7, &slen, 4);
    memcpy(raw + 11, s, n);
    raw[11 + n] = '\0';
    raw[12 + n] = '\0';
    bson_destroy(doc);
    assert_true(bson_init_static(doc, raw, total));
}

/* A one-field document whose string (of the given part) is s[0..n). */
static void
build_with(bson_t *doc, enum part part, const char *s, size_t n)
{
    char cstr[64];
    bson_value_t v;

    memcpy(cstr, s, n);
    cstr[n] = '\0';
    memset(&v, 0, sizeof v);
    switch (part) {
    case PART_VALUE:
        bson_append_utf8(doc, "v", -1, s, (int)n);
        break;
    case PART_KEY:
        bson_append_int32(doc, cstr, -1, 1);
        break;
    case PART_CODE:
        code_doc(doc, s, n);
        break;
    case PART_SYMBOL:
        v.value_type = BSON_TYPE_SYMBOL;
        v.value.v_symbol.symbol = (char *)s;
        v.value.v_symbol.len = (uint32_t)n;
        bson_append_value(doc, "v", -1, &v);
        break;
    case PART_REGEX:
        bson_append_regex(doc, "v", -1, cstr, "i");
        break;
    case PART_OPTIONS:
        bson_append_regex(doc, "v", -1, "p", cstr);
        break;
    }
}

/* Strings libbson refuses (not UTF-8) or jsonb cannot hold (NUL), in every
 * place a string can be. */
static void
test_json_refusals_table(void **state)
{
    static const struct {
        enum part part;
        const char *s;
        size_t n;
        int want;
    } cases[] = {
        { PART_VALUE, "\xff", 1, READSYNC_JSON_NOT_UTF8 },
        { PART_VALUE, "ok\xc3", 3, READSYNC_JSON_NOT_UTF8 },          /* truncated */
        { PART_VALUE, "\xc0\x80", 2, READSYNC_JSON_NOT_UTF8 },        /* overlong NUL */
        { PART_VALUE, "\xe0\x80\xaf", 3, READSYNC_JSON_NOT_UTF8 },    /* overlong '/' */
        { PART_VALUE, "\xed\xa0\x80", 3, READSYNC_JSON_NOT_UTF8 },    /* surrogate */
        { PART_VALUE, "\xf4\x90\x80\x80", 4, READSYNC_JSON_NOT_UTF8 },/* past U+10FFFF */
        { PART_VALUE, "a\0b", 3, READSYNC_JSON_NUL },
        { PART_VALUE, "\xf4\x8f\xbf\xbf", 4, READSYNC_JSON_OK },      /* U+10FFFF */
        { PART_KEY, "k\xff", 2, READSYNC_JSON_NOT_UTF8 },
        { PART_KEY, "k\xc3\xa9", 3, READSYNC_JSON_OK },
        { PART_CODE, "f\xff", 2, READSYNC_JSON_NOT_UTF8 },
        { PART_CODE, "f\0", 2, READSYNC_JSON_NUL },
        { PART_SYMBOL, "s\xff", 2, READSYNC_JSON_NOT_UTF8 },
        { PART_SYMBOL, "s\0", 2, READSYNC_JSON_NUL },
        { PART_REGEX, "\xff", 1, READSYNC_JSON_NOT_UTF8 },
        { PART_OPTIONS, "zq\xffi", 4, READSYNC_JSON_OK },       /* the appender drops it */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bson_t doc = BSON_INITIALIZER, top = BSON_INITIALIZER;
        char label[32];
        bson_iter_t it;
        int rc;

        build_with(&doc, cases[i].part, cases[i].s, cases[i].n);
        bson_append_document(&top, "payload", -1, &doc);
        assert_true(bson_iter_init_find(&it, &top, "payload"));
        snprintf(label, sizeof label, "case %zu", i);
        rc = write_value(&it, NULL, label);
        if (rc != cases[i].want)
            fail_msg("case %zu: result %d, want %d", i, rc, cases[i].want);
        bson_destroy(&doc);
        bson_destroy(&top);
    }
}

/* NUL is reported only when nothing is worse: invalid UTF-8 anywhere wins. */
static void
test_json_refusal_order(void **state)
{
    bson_t doc = BSON_INITIALIZER, top = BSON_INITIALIZER;
    bson_iter_t it;

    bson_append_utf8(&doc, "a", -1, "x\0y", 3);
    bson_append_utf8(&doc, "b", -1, "\xff", 1);
    bson_append_document(&top, "payload", -1, &doc);
    assert_true(bson_iter_init_find(&it, &top, "payload"));
    assert_int_equal(write_value(&it, NULL, "order"), READSYNC_JSON_NOT_UTF8);
    bson_destroy(&doc);
    bson_destroy(&top);
}

/* An embedded document whose own header is broken (length under 5, no
 * closing NUL) is corrupt BSON, not an empty object: libbson refuses it and
 * so must the writer. bson_iter_next checks only that it fits its parent.
 * The first case is what fuzz_readsync_ejson found (raw BSON input). */
static void
test_json_corrupt_embedded(void **state)
{
    static const struct {
        const char *body;     /* {"payload": ...} after the length, with its NUL */
        size_t n;
        int want;
    } cases[] = {
#define B(lit) lit, sizeof(lit) - 1
        { B("\x03payload\0\x01\0\0\0\0"), READSYNC_JSON_CORRUPT },            /* length 1 */
        { B("\x03payload\0\x04\0\0\0\0"), READSYNC_JSON_CORRUPT },            /* length 4 */
        { B("\x03payload\0\x05\0\0\0\x07\0"), READSYNC_JSON_CORRUPT },       /* no NUL */
        { B("\x03payload\0\x0c\0\0\0\x03" "a\0\x01\0\0\0\0\0"),
          READSYNC_JSON_CORRUPT },                                              /* nested */
        { B("\x03payload\0\x0c\0\0\0\x04" "a\0\x01\0\0\0\0\0"),
          READSYNC_JSON_CORRUPT },                                              /* an array */
        { B("\x03payload\0\x05\0\0\0\0\0"), READSYNC_JSON_OK },              /* {} */
        { B("\x03payload\0\x0d\0\0\0\x04" "a\0\x05\0\0\0\0\0\0"),
          READSYNC_JSON_OK },                                                   /* {"a":[]} */
#undef B
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t raw[64];
        uint32_t total = (uint32_t)(4 + cases[i].n);
        char label[32];
        bson_t top;
        bson_iter_t it;
        int rc;

        memcpy(raw, &total, 4);                  /* little-endian, like the hosts */
        memcpy(raw + 4, cases[i].body, cases[i].n);
        assert_true(bson_init_static(&top, raw, total));
        assert_true(bson_iter_init_find(&it, &top, "payload"));
        snprintf(label, sizeof label, "case %zu", i);
        rc = write_value(&it, NULL, label);
        if (rc != cases[i].want)
            fail_msg("case %zu: result %d, want %d", i, rc, cases[i].want);
    }
}

/* Array keys are not written, but libbson refuses a broken one too. */
static void
test_json_array_key(void **state)
{
    bson_t top = BSON_INITIALIZER, arr;
    bson_iter_t it;

    bson_append_array_begin(&top, "payload", -1, &arr);
    bson_append_int32(&arr, "0", -1, 1);
    bson_append_int32(&arr, "\xff", -1, 2);
    bson_append_array_end(&top, &arr);
    assert_true(bson_iter_init_find(&it, &top, "payload"));
    assert_int_equal(write_value(&it, NULL, "array key"), READSYNC_JSON_NOT_UTF8);
    bson_destroy(&top);
}

/* payload nested n documents deep below itself ({"a":{"a":...{"z":1}}}) */
static bson_t *
nested(int n, int array)
{
    bson_t *d = bson_new();

    bson_append_int32(d, array ? "0" : "z", -1, 1);
    for (int i = 0; i < n; i++) {
        bson_t *outer = bson_new();

        if (array)
            bson_append_array(outer, "0", -1, d);
        else
            bson_append_document(outer, "a", -1, d);
        bson_destroy(d);
        d = outer;
    }
    return d;
}

/* libbson writes "{ ... }" (invalid JSON) past 200 levels: refused here. */
static void
test_json_depth(void **state)
{
    static const struct {
        int levels, array, want;
    } cases[] = {
        { 200, 0, READSYNC_JSON_OK },
        { 201, 0, READSYNC_JSON_TOO_DEEP },
        { 200, 1, READSYNC_JSON_OK },
        { 201, 1, READSYNC_JSON_TOO_DEEP },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bson_t *payload = nested(cases[i].levels, cases[i].array);
        bson_t top = BSON_INITIALIZER;
        bson_iter_t it, first;

        if (cases[i].array) {
            /* the payload is the array itself, not a document holding it */
            assert_true(bson_iter_init(&first, payload) && bson_iter_next(&first));
            bson_append_iter(&top, "payload", -1, &first);
        } else {
            bson_append_document(&top, "payload", -1, payload);
        }
        assert_true(bson_iter_init_find(&it, &top, "payload"));
        assert_int_equal(write_value(&it, NULL, "depth"), cases[i].want);
        bson_destroy(payload);
        bson_destroy(&top);
    }
}

/* A buffer that cannot grow: NOMEM, and the buffer is released. */
static void
test_json_nomem(void **state)
{
    bson_t doc = BSON_INITIALIZER;
    struct hub_buf out = HUB_BUF_INIT(8);
    bson_iter_t it;

    bson_append_utf8(&doc, "v", -1, "longer than eight bytes", -1);
    assert_true(bson_iter_init_find(&it, &doc, "v"));
    assert_int_equal(readsync_json_write(&it, &out), READSYNC_JSON_NOMEM);
    assert_null(out.data);
    assert_int_equal(out.len, 0);
    bson_destroy(&doc);
}

static void
test_json_double_table(void **state)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        { 0.1, "0.1" },
        { 0.3, "0.3" },
        { 1.0 / 3.0, "0.3333333333333333" },
        { 2.0 / 3.0, "0.6666666666666666" },
        { 1e300, "1e+300" },
        { 1e21, "1e+21" },
        { 1e-7, "1e-07" },
        { -0.0, "-0.0" },
        { 0.0, "0.0" },
        { 3.0, "3.0" },
        { 100.0, "100.0" },
        { -2.5, "-2.5" },
        { 123456789012345680.0, "1.2345678901234568e+17" },
        { 5e-324, "5e-324" },                 /* the smallest subnormal */
        { DBL_MAX, "1.7976931348623157e+308" },
        { NAN, "NaN" },
        { INFINITY, "Infinity" },
        { -INFINITY, "-Infinity" },
    };
    char text[40];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = readsync_json_format_double(cases[i].v, text, sizeof text);

        assert_int_equal(n, (int)strlen(cases[i].want));
        assert_string_equal(text, cases[i].want);
    }
    assert_int_equal(readsync_json_format_double(1.0 / 3.0, text, 8), -1);
}

/* Every finite double reads back as itself. */
static void
test_json_double_round_trip(void **state)
{
    uint64_t x = 88172645463325252ULL;
    char text[40];

    for (int i = 0; i < 200000; i++) {
        double v;

        x ^= x << 13;                         /* xorshift64 */
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v))
            continue;
        assert_true(readsync_json_format_double(v, text, sizeof text) > 0);
        if (strtod(text, NULL) != v)
            fail_msg("%.17g printed as %s", v, text);
    }
}

/* ---- agreement with libbson over generated documents ---- */

static uint32_t
rnd(uint32_t *seed, uint32_t n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) % n;
}

/* A short string of ASCII, escapes, controls, UTF-8 and broken UTF-8. */
static size_t
gen_string(uint32_t *seed, char *buf, int allow_nul)
{
    static const char *const atoms[] = {
        "x", "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "/", "\b", "\f", "\r", "u0000",
        "\xc3", "\xc0\x80", "\xed\xa0\x80", "\xff", "\xe0\x80\xaf",
    };
    size_t n = 0, count = rnd(seed, 4) == 0 ? rnd(seed, 24) : rnd(seed, 5);

    for (size_t i = 0; i < count; i++) {
        const char *a = atoms[rnd(seed, 3) != 0 ? 0 : rnd(seed, sizeof atoms / sizeof atoms[0])];

        if (allow_nul && rnd(seed, 40) == 0) {
            buf[n++] = '\0';
            continue;
        }
        memcpy(buf + n, a, strlen(a));
        n += strlen(a);
    }
    buf[n] = '\0';
    return n;
}

static void gen_members(uint32_t *seed, bson_t *b, int depth, int array);

/* One value of every type but double (whose text differs by design). */
static void
gen_value(uint32_t *seed, bson_t *b, const char *key, int depth)
{
    static const char *const decimals[] = { "1234.5678", "-0", "NaN", "-Infinity", "1E+6144" };
    static const char *const options[] = { "", "i", "xsmi", "zqi", "la" };
    char s[128];
    size_t n;
    bson_t sub = BSON_INITIALIZER;
    bson_value_t v;
    bson_oid_t oid;
    bson_decimal128_t d;
    uint8_t bytes[8];

    memset(&v, 0, sizeof v);
    for (size_t i = 0; i < sizeof oid.bytes; i++)
        oid.bytes[i] = (uint8_t)rnd(seed, 256);
    switch (rnd(seed, 19)) {
    case 0:
        n = gen_string(seed, s, 1);
        bson_append_utf8(b, key, -1, s, (int)n);
        break;
    case 1:
    case 2:
        if (depth < 3) {
            int array = rnd(seed, 2);

            gen_members(seed, &sub, depth + 1, array);
            if (array)
                bson_append_array(b, key, -1, &sub);
            else
                bson_append_document(b, key, -1, &sub);
        } else {
            bson_append_null(b, key, -1);
        }
        break;
    case 3:
        n = rnd(seed, 8);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)rnd(seed, 256);
        bson_append_binary(b, key, -1, (bson_subtype_t)rnd(seed, 256), bytes, (uint32_t)n);
        break;
    case 4: bson_append_undefined(b, key, -1); break;
    case 5: bson_append_oid(b, key, -1, &oid); break;
    case 6: bson_append_bool(b, key, -1, rnd(seed, 2)); break;
    case 7:
        bson_append_date_time(b, key, -1, (int64_t)rnd(seed, 4000000) * 1000000 - 1000000000000LL +
                                              rnd(seed, 2) * rnd(seed, 1000));
        break;
    case 8: bson_append_null(b, key, -1); break;
    case 9:
        gen_string(seed, s, 0);
        bson_append_regex(b, key, -1, s, options[rnd(seed, 5)]);
        break;
    case 10:
        gen_string(seed, s, 0);
        bson_append_dbpointer(b, key, -1, s, &oid);
        break;
    case 11:
    case 12:
        n = gen_string(seed, s, 1);
        v.value_type = rnd(seed, 2) ? BSON_TYPE_CODE : BSON_TYPE_SYMBOL;
        v.value.v_code.code = s;              /* v_symbol has the same layout */
        v.value.v_code.code_len = (uint32_t)n;
        if (v.value_type == BSON_TYPE_SYMBOL) {
            v.value.v_symbol.symbol = s;
            v.value.v_symbol.len = (uint32_t)n;
        }
        bson_append_value(b, key, -1, &v);
        break;
    case 13:
        gen_string(seed, s, 0);
        if (depth < 3)
            gen_members(seed, &sub, depth + 1, 0);
        bson_append_code_with_scope(b, key, -1, s, &sub);
        break;
    case 14: bson_append_int32(b, key, -1, (int32_t)(rnd(seed, 1u << 31) - (1u << 30))); break;
    case 15: bson_append_timestamp(b, key, -1, rnd(seed, 1u << 31) * 2u, rnd(seed, 1000)); break;
    case 16: bson_append_int64(b, key, -1, rnd(seed, 2) ? INT64_MIN : (int64_t)rnd(seed, 1u << 30) << 30); break;
    case 17:
        bson_decimal128_from_string(decimals[rnd(seed, 5)], &d);
        bson_append_decimal128(b, key, -1, &d);
        break;
    default:
        if (rnd(seed, 2))
            bson_append_maxkey(b, key, -1);
        else
            bson_append_minkey(b, key, -1);
        break;
    }
    bson_destroy(&sub);
}

static void
gen_members(uint32_t *seed, bson_t *b, int depth, int array)
{
    uint32_t count = rnd(seed, 5);
    char key[128];

    for (uint32_t i = 0; i < count; i++) {
        if (array)
            snprintf(key, sizeof key, "%u", i);
        else if (rnd(seed, 2))
            gen_string(seed, key, 0);
        else
            snprintf(key, sizeof key, "k%u", i);
        gen_value(seed, b, key, depth);
    }
}

/* JSON text without the whitespace outside strings. */
static void
squeeze(const char *in, char *out)
{
    int in_string = 0;

    for (const char *p = in; *p != '\0'; p++) {
        if (in_string) {
            *out++ = *p;
            if (*p == '\\')
                *out++ = *++p;
            else if (*p == '"')
                in_string = 0;
        } else if (*p != ' ') {
            in_string = *p == '"';
            *out++ = *p;
        }
    }
    *out = '\0';
}

/* COPY text back to JSON: every escaped backslash undoubled. */
static void
uncopy(const char *in, char *out)
{
    for (const char *p = in; *p != '\0'; p++) {
        *out++ = *p;
        if (*p == '\\')
            p++;
    }
    *out = '\0';
}

static int
holds_nul_escape(const char *json)
{
    for (const char *p = strstr(json, "\\u0000"); p != NULL; p = strstr(p + 1, "\\u0000")) {
        size_t slashes = 0;

        while (p - (ptrdiff_t)slashes > json && p[-(ptrdiff_t)slashes - 1] == '\\')
            slashes++;
        if (slashes % 2 == 0)
            return 1;
    }
    return 0;
}

/* What libbson writes for the payload (a document whole, any other value
 * as the inside of {"v": value}), squeezed, or NULL when it refuses. */
static char *
libbson_json(bson_iter_t *it)
{
    bson_t wrap = BSON_INITIALIZER, sub;
    const uint8_t *data;
    uint32_t len;
    size_t n = 0;
    char *json, *out;

    if (BSON_ITER_HOLDS_DOCUMENT(it)) {
        bson_iter_document(it, &len, &data);
        assert_true(bson_init_static(&sub, data, len));
        json = bson_as_relaxed_extended_json(&sub, &n);
    } else {
        bson_append_value(&wrap, "v", 1, bson_iter_value(it));
        json = bson_as_relaxed_extended_json(&wrap, &n);
        if (json != NULL) {
            memmove(json, json + 8, n - 10);
            json[n - 10] = '\0';
        }
    }
    bson_destroy(&wrap);
    if (json == NULL)
        return NULL;
    out = malloc(strlen(json) + 1);
    assert_non_null(out);
    squeeze(json, out);
    bson_free(json);
    return out;
}

/* Every byte value at every place of a string long enough for the 8-byte
 * fast copy: the same text as libbson writes, or the same refusal. */
static void
test_json_every_byte_every_place(void **state)
{
    char text[20];

    for (int c = 0; c < 256; c++) {
        for (size_t place = 0; place < sizeof text; place++) {
            bson_t top = BSON_INITIALIZER;
            struct hub_buf out = HUB_BUF_INIT(4096);
            bson_iter_t it;
            char *want, got[256];
            int rc;

            memset(text, 'a', sizeof text);
            text[place] = (char)c;
            bson_append_utf8(&top, "payload", -1, text, (int)sizeof text);
            assert_true(bson_iter_init_find(&it, &top, "payload"));
            want = libbson_json(&it);
            rc = readsync_json_write(&it, &out);
            if (want == NULL) {
                assert_int_equal(rc, READSYNC_JSON_NOT_UTF8);
            } else if (c == 0) {
                assert_int_equal(rc, READSYNC_JSON_NUL);
            } else {
                assert_int_equal(rc, READSYNC_JSON_OK);
                uncopy(hub_buf_str(&out), got);
                assert_string_equal(got, want);
            }
            free(want);
            hub_buf_release(&out);
            bson_destroy(&top);
        }
    }
}

static void
test_json_agrees_with_libbson(void **state)
{
    uint32_t seed = 5;
    int outcomes[3] = { 0, 0, 0 };

    for (int i = 0; i < 4000; i++) {
        bson_t payload = BSON_INITIALIZER, top = BSON_INITIALIZER;
        struct hub_buf out = HUB_BUF_INIT(1 << 20);
        bson_iter_t it, first;
        char *want, *got;
        int rc;

        gen_members(&seed, &payload, 0, 0);
        if (rnd(&seed, 4) == 0 && bson_iter_init(&first, &payload) && bson_iter_next(&first))
            bson_append_iter(&top, "payload", -1, &first);   /* a bare value */
        else
            bson_append_document(&top, "payload", -1, &payload);
        assert_true(bson_iter_init_find(&it, &top, "payload"));
        want = libbson_json(&it);
        rc = readsync_json_write(&it, &out);
        if (want == NULL) {
            if (rc != READSYNC_JSON_NOT_UTF8)
                fail_msg("doc %d: libbson refuses, writer says %d: %s", i, rc, hub_buf_str(&out));
            outcomes[1]++;
        } else if (holds_nul_escape(want)) {
            if (rc != READSYNC_JSON_NUL)
                fail_msg("doc %d: NUL in %s, writer says %d", i, want, rc);
            outcomes[2]++;
        } else {
            if (rc != READSYNC_JSON_OK)
                fail_msg("doc %d: writer says %d for %s", i, rc, want);
            got = malloc(out.len + 1);
            assert_non_null(got);
            uncopy(hub_buf_str(&out), got);
            if (strcmp(got, want) != 0)
                fail_msg("doc %d:\n got %s\nwant %s", i, got, want);
            free(got);
            outcomes[0]++;
        }
        free(want);
        hub_buf_release(&out);
        bson_destroy(&payload);
        bson_destroy(&top);
    }
    /* the generator reaches every outcome */
    assert_true(outcomes[0] > 1000 && outcomes[1] > 100 && outcomes[2] > 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_types_table),
        cmocka_unit_test(test_json_copy_bytes),
        cmocka_unit_test(test_json_refusals_table),
        cmocka_unit_test(test_json_refusal_order),
        cmocka_unit_test(test_json_corrupt_embedded),
        cmocka_unit_test(test_json_array_key),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_json_nomem),
        cmocka_unit_test(test_json_double_table),
        cmocka_unit_test(test_json_double_round_trip),
        cmocka_unit_test(test_json_every_byte_every_place),
        cmocka_unit_test(test_json_agrees_with_libbson),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
