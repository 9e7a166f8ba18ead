/*
 * test_readsync_map.c: hub-readsync's mapping (cmd/hub-readsync/map.c), one
 * table a rule: whole documents to COPY rows or reject reasons, _id forms,
 * ISO-8601 parsing, epoch numbers, COPY escaping, and the URI redactor.
 * The JSON writer for payload and meta has its own: test_readsync_json.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../cmd/hub-readsync/readsync.h"

static bson_t *
from_json(const char *json)
{
    bson_error_t err;
    bson_t *b = bson_new_from_json((const uint8_t *)json, -1, &err);

    if (b == NULL)
        fail_msg("bad test JSON %s: %s", json, err.message);
    return b;
}

static void
test_map_doc_table(void **state)
{
    static const struct {
        const char *doc;
        const char *row;      /* NULL: rejected */
        const char *reason;   /* prefix of the reason when rejected */
    } cases[] = {
        { "{\"_id\":{\"$oid\":\"650000000000000000000001\"},\"timestamp\":{\"$date\":\"2024-05-01T10:20:30.456Z\"},"
          "\"source\":\"web\",\"event_type\":\"read\",\"payload\":{\"n\":1},\"meta\":{\"k\":\"v\"}}",
          "650000000000000000000001\t2024-05-01 10:20:30.456000+00\tweb\tread\t{\"n\":1}\t{\"k\":\"v\"}\n", NULL },
        { "{\"_id\":\"s\"}", "s\t\\N\t\\N\t\\N\t\\N\t\\N\n", NULL },
        { "{\"_id\":\"s\",\"timestamp\":null,\"source\":null,\"payload\":null}",
          "s\t\\N\t\\N\t\\N\t\\N\t\\N\n", NULL },
        { "{\"_id\":\"tab\\there\",\"source\":\"a\\\\b\\nc\"}",
          "tab\\there\t\\N\ta\\\\b\\nc\t\\N\t\\N\t\\N\n", NULL },
        { "{\"_id\":7,\"timestamp\":1714558830}",
          "{ \"$numberInt\" : \"7\" }\t2024-05-01 10:20:30.000000+00\t\\N\t\\N\t\\N\t\\N\n", NULL },
        { "{\"_id\":{\"$numberLong\":\"9000000000\"},\"timestamp\":{\"$numberLong\":\"1714558830456\"}}",
          "{ \"$numberLong\" : \"9000000000\" }\t2024-05-01 10:20:30.456000+00\t\\N\t\\N\t\\N\t\\N\n", NULL },
        { "{\"_id\":\"d\",\"timestamp\":1714558830.25}", "d\t2024-05-01 10:20:30.250000+00\t\\N\t\\N\t\\N\t\\N\n", NULL },
        { "{\"_id\":\"a\",\"payload\":[1,\"x\"],\"meta\":\"m\"}", "a\t\\N\t\\N\t\\N\t[1,\"x\"]\t\"m\"\n", NULL },
        { "{\"_id\":\"j\",\"payload\":{\"s\":\"q\\\"\\\\\"}}", "j\t\\N\t\\N\t\\N\t{\"s\":\"q\\\\\"\\\\\\\\\"}\t\\N\n", NULL },
        { "{\"_id\":\"i64\",\"payload\":{\"v\":{\"$numberLong\":\"9007199254740993\"},\"o\":{\"$oid\":\"650000000000000000000042\"}}}",
          "i64\t\\N\t\\N\t\\N\t{\"v\":9007199254740993,\"o\":{\"$oid\":\"650000000000000000000042\"}}\t\\N\n", NULL },
        { "{\"_id\":\"bs\",\"payload\":{\"s\":\"a\\\\u0000b\"}}",
          "bs\t\\N\t\\N\t\\N\t{\"s\":\"a\\\\\\\\u0000b\"}\t\\N\n", NULL },
        /* rejected */
        { "{\"source\":\"web\"}", NULL, "_id: missing" },
        { "{\"_id\":\"x\",\"timestamp\":\"yesterday\"}", NULL, "timestamp: not an ISO-8601" },
        { "{\"_id\":\"x\",\"timestamp\":true}", NULL, "timestamp: unsupported type bool" },
        { "{\"_id\":\"x\",\"timestamp\":{\"$numberDecimal\":\"1\"}}", NULL, "timestamp: unsupported type decimal128" },
        { "{\"_id\":\"x\",\"timestamp\":{\"$numberDouble\":\"Infinity\"}}", NULL, "timestamp: outside" },
        { "{\"_id\":\"x\",\"timestamp\":{\"$date\":{\"$numberLong\":\"300000000000000\"}}}", NULL, "timestamp: outside" },
        { "{\"_id\":\"x\",\"timestamp\":{\"$date\":{\"$numberLong\":\"-9223372036854775808\"}}}", NULL, "timestamp: outside" },
        { "{\"_id\":\"x\",\"source\":5}", NULL, "source: expected a string, got int32" },
        { "{\"_id\":\"x\",\"event_type\":[]}", NULL, "event_type: expected a string, got array" },
        { "{\"_id\":\"x\",\"source\":\"a\\u0000b\"}", NULL, "source: not UTF-8" },
        { "{\"_id\":\"x\\u0000y\"}", NULL, "_id: not UTF-8" },
        { "{\"_id\":\"x\",\"meta\":{\"s\":\"\\u0000\"}}", NULL, "meta: holds a NUL" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf out = HUB_BUF_INIT(1 << 20);
        char reason[READSYNC_MAX_REASON] = "";
        bson_t *doc = from_json(cases[i].doc);
        int rc;

        assert_int_equal(hub_buf_append(&out, "before|", 7), HUB_BUF_OK);
        rc = readsync_map_doc(doc, &out, reason, sizeof reason);
        if (cases[i].row != NULL) {
            if (rc != 0)
                fail_msg("case %zu rejected: %s", i, reason);
            assert_string_equal(hub_buf_str(&out) + 7, cases[i].row);
        } else {
            assert_int_equal(rc, -1);
            assert_string_equal(hub_buf_str(&out), "before|");   /* out unchanged */
            if (strncmp(reason, cases[i].reason, strlen(cases[i].reason)) != 0)
                fail_msg("case %zu: reason \"%s\", want \"%s...\"", i, reason, cases[i].reason);
        }
        bson_destroy(doc);
        hub_buf_release(&out);
    }
}

static void
test_map_invalid_utf8(void **state)
{
    bson_t doc = BSON_INITIALIZER;
    struct hub_buf out = HUB_BUF_INIT(4096);
    char reason[READSYNC_MAX_REASON];
    bson_t payload;

    BSON_APPEND_UTF8(&doc, "_id", "x");
    bson_append_utf8(&doc, "source", -1, "\xff\xfe", 2);
    assert_int_equal(readsync_map_doc(&doc, &out, reason, sizeof reason), -1);
    assert_string_equal(reason, "source: not UTF-8, or holds a NUL character");
    bson_reinit(&doc);
    BSON_APPEND_UTF8(&doc, "_id", "x");
    BSON_APPEND_DOCUMENT_BEGIN(&doc, "payload", &payload);
    bson_append_utf8(&payload, "s", -1, "\xc3", 1);
    bson_append_document_end(&doc, &payload);
    assert_int_equal(readsync_map_doc(&doc, &out, reason, sizeof reason), -1);
    assert_non_null(strstr(reason, "payload: cannot be written as JSON"));
    assert_int_equal(out.len, 0);
    bson_destroy(&doc);
    hub_buf_release(&out);
}

static void
test_map_id_table(void **state)
{
    static const struct {
        const char *doc;
        const char *want;
    } cases[] = {
        { "{\"_id\":{\"$oid\":\"65000000000000000000abcd\"}}", "65000000000000000000abcd" },
        { "{\"_id\":\"plain\"}", "plain" },
        { "{\"_id\":{\"$numberInt\":\"-5\"}}", "{ \"$numberInt\" : \"-5\" }" },
        { "{\"_id\":{\"$numberLong\":\"123456789012\"}}", "{ \"$numberLong\" : \"123456789012\" }" },
        { "{\"_id\":{\"$numberLong\":\"-9223372036854775808\"}}",
          "{ \"$numberLong\" : \"-9223372036854775808\" }" },
        { "{\"_id\":{\"$numberDouble\":\"42.0\"}}", "{ \"$numberDouble\" : \"42.0\" }" },
        { "{\"_id\":{\"$numberDecimal\":\"42\"}}", "{ \"$numberDecimal\" : \"42\" }" },
        { "{\"_id\":true}", "true" },
        { "{\"_id\":{\"$numberDouble\":\"1.5\"}}", "{ \"$numberDouble\" : \"1.5\" }" },
        { "{\"_id\":{\"a\":1}}", "{ \"a\" : { \"$numberInt\" : \"1\" } }" },
        { "{\"_id\":{\"$binary\":{\"base64\":\"AQI=\",\"subType\":\"04\"}}}",
          "{ \"$binary\" : { \"base64\" : \"AQI=\", \"subType\" : \"04\" } }" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf out = HUB_BUF_INIT(4096);
        char reason[READSYNC_MAX_REASON];
        bson_t *doc = from_json(cases[i].doc);
        bson_iter_t it;

        assert_true(bson_iter_init_find(&it, doc, "_id"));
        assert_int_equal(readsync_map_id(bson_iter_value(&it), &out, reason, sizeof reason), 0);
        assert_string_equal(hub_buf_str(&out), cases[i].want);
        bson_destroy(doc);
        hub_buf_release(&out);
    }
}

static void
id_text(const char *json, struct hub_buf *out)
{
    char reason[READSYNC_MAX_REASON] = "";
    bson_t *doc = from_json(json);
    bson_iter_t it;

    assert_true(bson_iter_init_find(&it, doc, "_id"));
    if (readsync_map_id(bson_iter_value(&it), out, reason, sizeof reason) != 0)
        fail_msg("%s: %s", json, reason);
    bson_destroy(doc);
}

/* mongo_id is the key duplicates are skipped by: _ids that differ only in
 * type must not share it, or all but the first are lost as "duplicates". */
static void
test_map_id_distinct(void **state)
{
    static const char *const ids[] = {
        "{\"_id\":\"42\"}",
        "{\"_id\":42}",
        "{\"_id\":{\"$numberLong\":\"42\"}}",
        "{\"_id\":{\"$numberDouble\":\"42.0\"}}",
        "{\"_id\":{\"$numberDecimal\":\"42\"}}",
        "{\"_id\":\"-5\"}",
        "{\"_id\":-5}",
        "{\"_id\":{\"$numberLong\":\"-5\"}}",
        "{\"_id\":{\"$numberDouble\":\"-5.0\"}}",
        "{\"_id\":{\"$oid\":\"650000000000000000000042\"}}",
        "{\"_id\":\"65000000000000000000004\"}",
    };
    enum { N = sizeof ids / sizeof ids[0] };
    struct hub_buf text[N];

    for (size_t i = 0; i < N; i++) {
        hub_buf_init(&text[i], 4096);
        id_text(ids[i], &text[i]);
    }
    for (size_t i = 0; i < N; i++)
        for (size_t j = i + 1; j < N; j++)
            if (strcmp(hub_buf_str(&text[i]), hub_buf_str(&text[j])) == 0)
                fail_msg("%s and %s share mongo_id %s", ids[i], ids[j], hub_buf_str(&text[i]));
    for (size_t i = 0; i < N; i++)
        hub_buf_release(&text[i]);
}

/* The collisions kept (README, Mapping): a string stays itself, so one that
 * spells another _id's text maps like it. The 24 hex digits of an ObjectId
 * are the old Go system's form; true, false and null are their own
 * canonical Extended JSON. */
static void
test_map_id_kept_collisions(void **state)
{
    static const struct {
        const char *id, *string_id;
    } cases[] = {
        { "{\"_id\":{\"$oid\":\"65000000000000000000abcd\"}}", "{\"_id\":\"65000000000000000000abcd\"}" },
        { "{\"_id\":true}", "{\"_id\":\"true\"}" },
        { "{\"_id\":null}", "{\"_id\":\"null\"}" },
        { "{\"_id\":42}", "{\"_id\":\"{ \\\"$numberInt\\\" : \\\"42\\\" }\"}" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf a = HUB_BUF_INIT(4096), b = HUB_BUF_INIT(4096);

        id_text(cases[i].id, &a);
        id_text(cases[i].string_id, &b);
        assert_string_equal(hub_buf_str(&a), hub_buf_str(&b));
        hub_buf_release(&a);
        hub_buf_release(&b);
    }
}

static void
test_iso8601_table(void **state)
{
    static const struct {
        const char *text;
        int ok;
        const char *want;     /* readsync_format_usec of the result */
    } cases[] = {
        { "2024-05-01T10:20:30Z", 1, "2024-05-01 10:20:30.000000+00" },
        { "2024-05-01T10:20:30.123456789Z", 1, "2024-05-01 10:20:30.123456+00" },
        { "2024-05-01t10:20:30.5z", 1, "2024-05-01 10:20:30.500000+00" },
        { "2024-05-01 10:20:30", 1, "2024-05-01 10:20:30.000000+00" },
        { "2024-05-01T10:20", 1, "2024-05-01 10:20:00.000000+00" },
        { "2024-05-01", 1, "2024-05-01 00:00:00.000000+00" },
        { "2024-05-01T12:20:30+02:00", 1, "2024-05-01 10:20:30.000000+00" },
        { "2024-05-01T08:50:30-0130", 1, "2024-05-01 10:20:30.000000+00" },
        { "2024-05-01T12:20:30+02", 1, "2024-05-01 10:20:30.000000+00" },
        { "2024-05-01T00:30:00+01:00", 1, "2024-04-30 23:30:00.000000+00" },
        { "2024-02-29T00:00:00Z", 1, "2024-02-29 00:00:00.000000+00" },
        { "1969-12-31T23:59:59.5Z", 1, "1969-12-31 23:59:59.500000+00" },
        { "0001-01-01T00:00:00Z", 1, "0001-01-01 00:00:00.000000+00" },
        { "9999-12-31T23:59:59.999999Z", 1, "9999-12-31 23:59:59.999999+00" },
        { "2023-02-29T00:00:00Z", 0, NULL },
        { "2024-13-01", 0, NULL },
        { "2024-05-01T24:00:00Z", 0, NULL },
        { "2024-05-01T10:60:00Z", 0, NULL },
        { "2024-05-01T10:20:61Z", 0, NULL },
        { "2024-05-01T10:20:30.Z", 0, NULL },
        { "2024-05-01T10:20:30Z junk", 0, NULL },
        { "2024-5-1", 0, NULL },
        { "0000-01-01", 0, NULL },
        { "0001-01-01T00:00:00+01:00", 0, NULL },
        { "", 0, NULL },
        { "yesterday", 0, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t usec = 0;
        char text[32];
        int rc = readsync_parse_iso8601(cases[i].text, &usec);

        if ((rc == 0) != cases[i].ok)
            fail_msg("case %zu \"%s\": rc %d", i, cases[i].text, rc);
        if (!cases[i].ok)
            continue;
        assert_int_equal(readsync_format_usec(usec, text, sizeof text), 0);
        assert_string_equal(text, cases[i].want);
    }
}

static void
test_epoch_table(void **state)
{
    static const struct {
        double v;
        int ok;
        const char *want;
    } cases[] = {
        { 0, 1, "1970-01-01 00:00:00.000000+00" },
        { 1714558830, 1, "2024-05-01 10:20:30.000000+00" },        /* seconds */
        { 1714558830456.0, 1, "2024-05-01 10:20:30.456000+00" },   /* milliseconds */
        { 99999999999.0, 1, "5138-11-16 09:46:39.000000+00" },     /* last seconds value */
        { 100000000000.0, 1, "1973-03-03 09:46:40.000000+00" },    /* first milliseconds value */
        { -86400, 1, "1969-12-31 00:00:00.000000+00" },
        { 1714558830.5, 1, "2024-05-01 10:20:30.500000+00" },
        { 1e300, 0, NULL },
        { -1e20, 0, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t usec = 0;
        char text[32];

        assert_int_equal(readsync_epoch_to_usec(cases[i].v, &usec) == 0, cases[i].ok);
        if (!cases[i].ok)
            continue;
        assert_int_equal(readsync_format_usec(usec, text, sizeof text), 0);
        assert_string_equal(text, cases[i].want);
    }
    assert_int_equal(readsync_epoch_to_usec(NAN, &(int64_t){0}), -1);
}

static void
test_copy_escape_table(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        { "", "" },
        { "plain", "plain" },
        { "a\tb", "a\\tb" },
        { "a\nb\r", "a\\nb\\r" },
        { "back\\slash", "back\\\\slash" },
        { "\\N", "\\\\N" },
        { "\t\t", "\\t\\t" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf out = HUB_BUF_INIT(256);

        assert_int_equal(readsync_copy_escape(&out, cases[i].in, strlen(cases[i].in)), HUB_BUF_OK);
        assert_string_equal(hub_buf_str(&out), cases[i].want);
        hub_buf_release(&out);
    }
}

static void
test_redact_table(void **state)
{
    static const struct {
        const char *uri;
        const char *msg;
        const char *want;
    } cases[] = {
        { "mongodb://user:pa55@db:27017/", "failed on mongodb://user:pa55@db:27017/ now",
          "failed on *** now" },
        { "mongodb://user:pa55@db:27017/", "auth for user:pa55 failed", "auth for *** failed" },
        { "mongodb://alice:pa55@db:27017/", "bad password pa55 and user alice",
          "bad password *** and user ***" },
        { "mongodb://us%40er:p%2Fss@db/", "user us@er password p/ss", "user *** password ***" },
        { "mongodb://db:27017/", "cannot reach db:27017", "cannot reach db:27017" },
        { "mongodb://app:hunter2@h1,h2/?replicaSet=x", "calling hello on 'h1'", "calling hello on 'h1'" },
        { "", "nothing to hide", "nothing to hide" },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct readsync_redactor r;
        struct hub_buf out = HUB_BUF_INIT(4096);

        readsync_redactor_init(&r, cases[i].uri);
        assert_int_equal(readsync_redact(&r, cases[i].msg, &out), 0);
        assert_string_equal(hub_buf_str(&out), cases[i].want);
        readsync_redactor_release(&r);
        for (size_t n = 0; n < sizeof r.needles / sizeof r.needles[0]; n++)
            assert_null(r.needles[n]);
        hub_buf_release(&out);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_doc_table),
        cmocka_unit_test(test_map_invalid_utf8),
        cmocka_unit_test(test_map_id_table),
        cmocka_unit_test(test_map_id_distinct),
        cmocka_unit_test(test_map_id_kept_collisions),
        cmocka_unit_test(test_iso8601_table),
        cmocka_unit_test(test_epoch_table),
        cmocka_unit_test(test_copy_escape_table),
        cmocka_unit_test(test_redact_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
