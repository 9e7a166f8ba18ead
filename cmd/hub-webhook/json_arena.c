/*
 * json_arena.c: cJSON trees that live in one region and die together.
 *
 * Why: cJSON allocates every node and every string of a parse on its own
 * (about 600 malloc/free pairs for a 7.7 KB push), which was a third of
 * the request time on the verify-and-ignore path. While an arena is
 * active on a thread, cJSON's allocations on that thread are bumped out of
 * it instead, its frees are no-ops, and the arena is dropped in one go.
 *
 * How: cJSON_InitHooks is process-wide and carries no user pointer, so the
 * hooks look up the arena through a thread-local pointer. A thread with no
 * active arena -- every thread but a request's, during webhook_decide or
 * while a reply is built -- gets plain malloc/free, so the logger, the
 * tracer and the hand-over threads behave as before. Thread-local is what
 * makes this safe under any libmicrohttpd threading model: a request's
 * callback runs start to end on one thread (one internal thread, a pool
 * or a thread per connection alike), and the arena is entered and left
 * within one call, never across callbacks.
 *
 * Owns the regions it allocates past the caller's first block; never hands
 * arena memory to anything that would free() it (the rule for callers:
 * while an arena is active, use cJSON only on trees of that arena and only
 * print with cJSON_PrintPreallocated; never log).
 */
#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "webhook.h"

/* A region allocated when the caller's block is full; they chain. */
struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    alignas(max_align_t) unsigned char data[];
};

#define ALIGN_UP(n) (((n) + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1))
#define CHUNK_MIN (64u * 1024)

static _Thread_local struct webhook_arena *active;
static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static int
in_region(const void *p, const unsigned char *base, size_t cap)
{
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)base;

    return u >= b && u < b + cap;
}

static int
owns(const struct webhook_arena *a, const void *p)
{
    if (in_region(p, a->first, a->first_cap))
        return 1;
    for (const struct arena_chunk *c = a->chunks; c != NULL; c = c->next) {
        if (in_region(p, c->data, c->cap))
            return 1;
    }
    return 0;
}

/* Continue in a new chunk, at least twice the last one so a big payload
 * costs a handful of mallocs, not one per node. */
static int
grow(struct webhook_arena *a, size_t need)
{
    size_t cap = a->cap * 2 > CHUNK_MIN ? a->cap * 2 : CHUNK_MIN;
    struct arena_chunk *c;

    if (cap < need)
        cap = need;
    if (cap > SIZE_MAX - sizeof *c)
        return -1;
    c = malloc(sizeof *c + cap);
    if (c == NULL)
        return -1;
    c->next = a->chunks;
    c->cap = cap;
    a->chunks = c;
    a->mem = c->data;
    a->cap = cap;
    a->used = 0;
    return 0;
}

static void *
arena_malloc(size_t size)
{
    struct webhook_arena *a = active;
    size_t n = ALIGN_UP(size > 0 ? size : 1);
    void *p;

    if (a == NULL)
        return malloc(size);
    if (n < size || (a->cap - a->used < n && grow(a, n) != 0))
        return NULL;
    p = a->mem + a->used;
    a->used += n;
    return p;
}

static void
arena_free(void *p)
{
    struct webhook_arena *a = active;

    /* Arena memory is dropped by webhook_arena_end(); anything else (a
     * pointer from before the arena began) is the heap's. */
    if (a == NULL || !owns(a, p))
        free(p);
}

static void
install_hooks(void)
{
    cJSON_Hooks hooks = { arena_malloc, arena_free };

    cJSON_InitHooks(&hooks);
}

void
webhook_arena_init(void)
{
    pthread_once(&hooks_once, install_hooks);
}

void
webhook_arena_begin(struct webhook_arena *a, void *first, size_t first_cap)
{
    webhook_arena_init();
    a->first = first;
    a->first_cap = first_cap;
    a->mem = first;
    a->cap = first_cap;
    a->used = 0;
    a->chunks = NULL;
    active = a;
}

void
webhook_arena_end(struct webhook_arena *a)
{
    struct arena_chunk *c = a->chunks;

    active = NULL;
    while (c != NULL) {
        struct arena_chunk *next = c->next;

        free(c);
        c = next;
    }
    a->chunks = NULL;
    a->mem = NULL;
    a->cap = a->used = 0;
}
