/*
 * lazylib.h: a shared library opened on the first call into it, not at exec.
 *
 * Why: with their dependencies, libpq pulls 24 shared libraries into a
 * process and libcurl 32; mapping and relocating them costs about 11 ms
 * per exec on a small VM, more than a no-op hub-gitops sync spends on
 * everything else, and 1 to 2 MiB of resident memory in hub-webhook.
 * Most runs never touch the database or HTTP (no HUB_PG_DSN, no tracing),
 * so they should not pay for them.
 *
 * pq_lazy.c and curl_lazy.c define the libpq and libcurl functions the hub
 * uses, with their own prototypes from libpq-fe.h and curl.h, each
 * forwarding to the real function; the programs call them as usual and
 * are linked without -lpq and -lcurl (see the Makefile). A library that
 * cannot be loaded is logged once, with how to install it, and its
 * functions then answer the way they do for a failed call (NULL, an error
 * code), so the caller's own error path runs.
 */
#ifndef HUB_LAZYLIB_H
#define HUB_LAZYLIB_H

#include <pthread.h>

struct hub_lazylib {
    const char *soname;              /* "libpq.so.5" */
    const char *fix;                 /* how to install it, for the log line */
    int (*resolve)(void *handle);    /* fills the file's table: 0, or -1 (logged) */
    pthread_mutex_t mu;
    int state;                       /* 0 not tried, 1 loaded, -1 failed; under mu */
};

#define HUB_LAZYLIB_INIT(soname, fix, resolve) \
    { (soname), (fix), (resolve), PTHREAD_MUTEX_INITIALIZER, 0 }

/* Open and resolve lib on the first call (any thread); 1 when usable. */
int hub_lazylib_ready(struct hub_lazylib *lib);

/* dlsym(handle, name); on failure logs "library_symbol_missing". */
void *hub_lazylib_sym(void *handle, const char *soname, const char *name);

/*
 * The pieces of a forwarding file. FUNCTIONS(X) lists the functions; the
 * table is "static struct { FUNCTIONS(HUB_LAZY_FIELD) } table;", each
 * field typed from the real prototype.
 */
#define HUB_LAZY_FIELD(name) __typeof__(&name) name;
/* Fill one field; 1 when the symbol is missing (logged), else 0. */
#define HUB_LAZY_RESOLVE(table, lib, handle, name) \
    (((table).name = (__typeof__(&name))hub_lazylib_sym((handle), (lib).soname, #name)) == NULL)
#define HUB_LAZY_FORWARD(lib, table, type, name, params, args, failed) \
    type name params { return hub_lazylib_ready(&(lib)) ? (table).name args : (failed); }
#define HUB_LAZY_FORWARD_VOID(lib, table, name, params, args) \
    void name params { if (hub_lazylib_ready(&(lib))) (table).name args; }

#endif
