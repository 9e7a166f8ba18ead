/* test_webhook_arena.c: cJSON trees in a json_arena: allocations come from
 * the caller's block, then from chunks; frees inside are no-ops; the end
 * drops everything (check-sanitize's leak check holds us to it); other
 * threads and the time after the end get the heap; and decisions over
 * payloads far past the first block are the same as over small ones. */
#include <pthread.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "buf.h"
#include "repos.h"
#include "../../cmd/hub-webhook/webhook.h"

#define SHA "8f2d6c4b1a0e9f7d3c5b2a1e8d7c6b5a4f3e2d1c"

static int
inside(const void *p, const void *base, size_t len)
{
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)base;

    return u >= b && u < b + len;
}

static void
test_first_block_then_chunks(void **state)
{
    alignas(max_align_t) unsigned char first[1024];
    struct webhook_arena a;
    cJSON *arr, *s;

    webhook_arena_begin(&a, first, sizeof first);
    arr = cJSON_CreateArray();
    assert_non_null(arr);
    assert_true(inside(arr, first, sizeof first));
    /* Far past the first block: the rest goes to chunks, still one tree. */
    for (int i = 0; i < 2000; i++)
        assert_true(cJSON_AddItemToArray(arr, cJSON_CreateString("a value past the first block")));
    assert_non_null(a.chunks);
    s = cJSON_GetArrayItem(arr, 1999);
    assert_non_null(s);
    assert_false(inside(s, first, sizeof first));
    assert_string_equal(s->valuestring, "a value past the first block");
    /* A single allocation larger than any chunk gets a chunk of its own. */
    {
        size_t big = 300 * 1024;
        char *text = malloc(big + 1);

        assert_non_null(text);
        memset(text, 'x', big);
        text[big] = '\0';
        s = cJSON_CreateString(text);
        free(text);
        assert_non_null(s);
        assert_int_equal(strlen(s->valuestring), big);
    }
    cJSON_Delete(arr);                  /* a no-op inside the arena; harmless */
    webhook_arena_end(&a);
    assert_null(a.chunks);
}

static void
test_heap_outside_the_arena(void **state)
{
    alignas(max_align_t) unsigned char first[4096];
    struct webhook_arena a;
    cJSON *before, *after;

    webhook_arena_init();
    before = cJSON_CreateString("made before the arena");
    assert_non_null(before);
    webhook_arena_begin(&a, first, sizeof first);
    assert_false(inside(before, first, sizeof first));
    /* Heap memory freed inside the arena really is freed (no leak). */
    cJSON_Delete(before);
    webhook_arena_end(&a);
    after = cJSON_CreateString("made after the arena");
    assert_non_null(after);
    assert_false(inside(after, first, sizeof first));
    cJSON_Delete(after);
}

static void *
other_thread(void *arg)
{
    cJSON *o = cJSON_CreateObject();
    char *text;

    (void)arg;
    cJSON_AddStringToObject(o, "k", "v");
    text = cJSON_PrintUnformatted(o);   /* freed with free(), as lib/log.c does */
    cJSON_Delete(o);
    return text;
}

static void
test_other_threads_keep_the_heap(void **state)
{
    alignas(max_align_t) unsigned char first[4096];
    struct webhook_arena a;
    pthread_t t;
    void *text = NULL;

    webhook_arena_begin(&a, first, sizeof first);
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &text), 0);
    webhook_arena_end(&a);
    assert_non_null(text);
    assert_false(inside(text, first, sizeof first));
    assert_string_equal(text, "{\"k\":\"v\"}");
    free(text);
}

static void
list_init(struct hub_repo_list *l, struct hub_repo *item)
{
    *item = (struct hub_repo)HUB_REPO_INIT;
    memcpy(item->name, "infra", 6);
    item->github = (char *)"hub-test/infra";
    item->branch = (char *)"main";
    l->items = item;
    l->n = 1;
}

/* A push whose commits array makes it n bytes or more. */
static void
big_push(struct hub_buf *b, const char *ref, size_t n, const char *tail)
{
    assert_int_equal(hub_buf_appendf(b, "{\"ref\":\"%s\",\"after\":\"" SHA "\",\"commits\":[", ref), 0);
    for (int i = 0; b->len < n; i++)
        assert_int_equal(hub_buf_appendf(b, "%s{\"id\":\"" SHA "\",\"message\":\"m\\u00e9 %d\","
                                         "\"added\":[\"a\",\"b\"],\"n\":%d.5,\"ok\":true}",
                                         i ? "," : "", i, i), 0);
    assert_int_equal(hub_buf_appendf(b, "],\"repository\":{\"full_name\":\"hub-test/infra\"}%s",
                                     tail), 0);
}

static void
test_decide_past_the_first_block(void **state)
{
    static const struct {
        const char *ref;
        size_t size;
        const char *tail;
        enum webhook_action want;
        const char *reason;
    } cases[] = {
        { "refs/heads/main", 1000, "}", WEBHOOK_TRIGGER, NULL },
        { "refs/heads/main", 200 * 1024, "}", WEBHOOK_TRIGGER, NULL },
        { "refs/heads/dev", 200 * 1024, "}", WEBHOOK_IGNORE, "branch not tracked" },
        { "refs/heads/main", 2 * 1024 * 1024, "}\n", WEBHOOK_TRIGGER, NULL },
        /* Malformed at the very end, after chunks were taken: all dropped. */
        { "refs/heads/main", 300 * 1024, "}x", WEBHOOK_MALFORMED, "payload is not valid JSON" },
        { "refs/heads/main", 300 * 1024, "", WEBHOOK_MALFORMED, "payload is not valid JSON" },
    };
    struct hub_repo item;
    struct hub_repo_list repos;

    list_init(&repos, &item);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hub_buf b = HUB_BUF_INIT(8u * 1024 * 1024);
        struct webhook_decision d;

        big_push(&b, cases[i].ref, cases[i].size, cases[i].tail);
        webhook_decide("push", b.data, b.len, &repos, &d);
        assert_int_equal(d.action, cases[i].want);
        if (cases[i].reason != NULL)
            assert_string_equal(d.reason, cases[i].reason);
        if (cases[i].want == WEBHOOK_TRIGGER) {
            assert_string_equal(d.after, SHA);
            assert_string_equal(d.ref, "refs/heads/main");
            assert_ptr_equal(d.repo, &item);
        }
        hub_buf_release(&b);
    }
}

static void
test_decide_deep_nesting(void **state)
{
    struct hub_buf b = HUB_BUF_INIT(1024 * 1024);
    struct hub_repo item;
    struct hub_repo_list repos;
    struct webhook_decision d;

    list_init(&repos, &item);
    /* Past cJSON's nesting limit: refused, and whatever was built dropped. */
    for (int i = 0; i < 5000; i++)
        assert_int_equal(hub_buf_appendc(&b, '['), 0);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(hub_buf_appendc(&b, ']'), 0);
    webhook_decide("push", b.data, b.len, &repos, &d);
    assert_int_equal(d.action, WEBHOOK_MALFORMED);
    hub_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_block_then_chunks),
        cmocka_unit_test(test_heap_outside_the_arena),
        cmocka_unit_test(test_other_threads_keep_the_heap),
        cmocka_unit_test(test_decide_past_the_first_block),
        cmocka_unit_test(test_decide_deep_nesting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
