/*
 * lazylib.c: opening a library on first use, for pq_lazy.c and
 * curl_lazy.c. The handle is never closed: like a library named at link
 * time, it stays for the life of the process. The state is read under the
 * mutex: an uncontended lock is a few nanoseconds next to a database
 * statement or an HTTP request.
 */
#include <dlfcn.h>

#include "lazylib.h"
#include "log.h"

static int
load(struct hub_lazylib *lib)
{
    void *handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

    if (handle == NULL) {
        const char *err = dlerror();

        hub_log(HUB_LOG_ERROR, "library_unavailable", HUB_STR("library", lib->soname),
                HUB_STR("error", err != NULL ? err : "unknown"), HUB_STR("fix", lib->fix));
        return -1;
    }
    return lib->resolve(handle) == 0 ? 1 : -1;
}

int
hub_lazylib_ready(struct hub_lazylib *lib)
{
    int state;

    pthread_mutex_lock(&lib->mu);
    if (lib->state == 0)
        lib->state = load(lib);
    state = lib->state;
    pthread_mutex_unlock(&lib->mu);
    return state > 0;
}

void *
hub_lazylib_sym(void *handle, const char *soname, const char *name)
{
    void *sym = dlsym(handle, name);

    if (sym == NULL)
        hub_log(HUB_LOG_ERROR, "library_symbol_missing", HUB_STR("library", soname),
                HUB_STR("symbol", name),
                HUB_STR("fix", "the installed library is older than the one the hub was built with"));
    return sym;
}
