/* test_webhook_verify.c: X-Hub-Signature-256 parsing, HMAC-SHA256 with
 * GitHub's documented test vector, and secret rotation (one a line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../cmd/hub-webhook/webhook.h"

#define VECTOR "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

static void
test_github_vector(void **state)
{
    struct webhook_secrets s = WEBHOOK_SECRETS_INIT;
    unsigned char mac[WEBHOOK_MAC_LEN];

    assert_int_equal(webhook_secrets_parse(&s, "It's a Secret to Everybody", 26), 0);
    assert_int_equal(webhook_signature_parse(VECTOR, mac), 0);
    assert_int_equal(webhook_signature_check(&s, "Hello, World!", 13, mac), 1);
    assert_int_equal(webhook_signature_check(&s, "Hello, World?", 13, mac), 0);
    assert_int_equal(webhook_signature_check(&s, "Hello, World!", 12, mac), 0);
    mac[31] ^= 1;
    assert_int_equal(webhook_signature_check(&s, "Hello, World!", 13, mac), 0);
    webhook_secrets_wipe(&s);
    assert_null(s.raw);
    assert_int_equal(s.n, 0);
}

/* The keyed context copied per request and the one-shot fallback (used
 * when OpenSSL could not key one) give the same answers. */
static void
test_keyed_and_one_shot_agree(void **state)
{
    struct webhook_secrets s = WEBHOOK_SECRETS_INIT;
    unsigned char mac[WEBHOOK_MAC_LEN];

    assert_int_equal(webhook_secrets_parse(&s, "old\nIt's a Secret to Everybody\n", 31), 0);
    assert_int_equal(s.n, 2);
    assert_non_null(s.keyed[0]);
    assert_non_null(s.keyed[1]);
    assert_int_equal(webhook_signature_parse(VECTOR, mac), 0);
    for (int round = 0; round < 2; round++) {
        /* Many times: the keyed context must not be consumed by a check. */
        for (int i = 0; i < 3; i++) {
            assert_int_equal(webhook_signature_check(&s, "Hello, World!", 13, mac), 1);
            assert_int_equal(webhook_signature_check(&s, "Hello, World?", 13, mac), 0);
        }
        EVP_MAC_CTX_free(s.keyed[1]);
        s.keyed[1] = NULL;
    }
    webhook_secrets_wipe(&s);
    for (size_t i = 0; i < WEBHOOK_MAX_SECRETS; i++)
        assert_null(s.keyed[i]);
}

static void
test_signature_parse_table(void **state)
{
    static const struct {
        const char *header;
        int want;
    } cases[] = {
        { VECTOR, 0 },
        { "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17", 0 },
        { NULL, -1 },
        { "", -1 },
        { "sha256=", -1 },
        { "sha1=757107ea0eb2509fc211221cce984b8a37570b6d", -1 },
        { "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", -1 },
        { "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1", -1 },
        { "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e170", -1 },
        { "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1g", -1 },
        { " sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", -1 },
        { "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 ", -1 },
    };
    unsigned char mac[WEBHOOK_MAC_LEN];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(webhook_signature_parse(cases[i].header, mac), cases[i].want);
}

static void
test_secret_lines_table(void **state)
{
    static const struct {
        const char *text;
        int want_rc;
        size_t want_n;
        const char *last;
    } cases[] = {
        { "one", 0, 1, "one" },
        { "one\n", 0, 1, "one" },
        { "old\nnew\n", 0, 2, "new" },
        { "old\r\n\r\n  new  \n", 0, 2, "new" },
        { "", -1, 0, NULL },
        { "\n\n \n", -1, 0, NULL },
        { "1\n2\n3\n4\n5\n6\n7\n8\n", 0, 8, "8" },
        { "1\n2\n3\n4\n5\n6\n7\n8\n9\n", -1, 0, NULL },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct webhook_secrets s = WEBHOOK_SECRETS_INIT;

        assert_int_equal(webhook_secrets_parse(&s, cases[i].text, strlen(cases[i].text)),
                         cases[i].want_rc);
        assert_int_equal(s.n, cases[i].want_n);
        if (cases[i].last != NULL)
            assert_string_equal(s.v[s.n - 1], cases[i].last);
        webhook_secrets_wipe(&s);
    }
}

static void
test_rotation_any_secret_matches(void **state)
{
    const char *text = "old-secret\nIt's a Secret to Everybody\n";
    struct webhook_secrets s = WEBHOOK_SECRETS_INIT;
    unsigned char mac[WEBHOOK_MAC_LEN];

    assert_int_equal(webhook_secrets_parse(&s, text, strlen(text)), 0);
    assert_int_equal(webhook_signature_parse(VECTOR, mac), 0);
    assert_int_equal(webhook_signature_check(&s, "Hello, World!", 13, mac), 1);
    webhook_secrets_wipe(&s);
    assert_int_equal(webhook_secrets_parse(&s, "old-secret", 10), 0);
    assert_int_equal(webhook_signature_check(&s, "Hello, World!", 13, mac), 0);
    webhook_secrets_wipe(&s);
}

static void
test_empty_body(void **state)
{
    /* HMAC-SHA256("key", "") */
    struct webhook_secrets s = WEBHOOK_SECRETS_INIT;
    unsigned char mac[WEBHOOK_MAC_LEN];

    assert_int_equal(webhook_secrets_parse(&s, "key", 3), 0);
    assert_int_equal(webhook_signature_parse(
        "sha256=5d5d139563c95b5967b9bd9a8c9b233a9dedb45072794cd232dc1b74832607d0", mac), 0);
    assert_int_equal(webhook_signature_check(&s, NULL, 0, mac), 1);
    webhook_secrets_wipe(&s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_github_vector),
        cmocka_unit_test(test_keyed_and_one_shot_agree),
        cmocka_unit_test(test_signature_parse_table),
        cmocka_unit_test(test_secret_lines_table),
        cmocka_unit_test(test_rotation_any_secret_matches),
        cmocka_unit_test(test_empty_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
