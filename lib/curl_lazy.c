/*
 * curl_lazy.c: the libcurl functions the hub calls, loaded on the first call
 * (see lazylib.h for why). Each has curl.h's own prototype, so the compiler
 * checks it against the real one; each forwards to libcurl, or answers like
 * a failed call when libcurl.so.4 cannot be loaded.
 *
 * The table is written once, under lazylib's mutex, before any forwarder
 * reads it: threads (the trace exporter) are safe.
 */
#include <stdarg.h>

#include <curl/curl.h>

#include "lazylib.h"

#define CURL_SONAME "libcurl.so.4"

#define CURL_FUNCTIONS(X)                                                               \
    X(curl_global_init) X(curl_global_cleanup) X(curl_easy_init) X(curl_easy_setopt)    \
    X(curl_easy_perform) X(curl_easy_getinfo) X(curl_easy_cleanup) X(curl_easy_strerror) \
    X(curl_slist_append) X(curl_slist_free_all)

static struct {
    CURL_FUNCTIONS(HUB_LAZY_FIELD)
} curl_fn;
static int curl_resolve(void *handle);
static struct hub_lazylib libcurl = HUB_LAZYLIB_INIT(CURL_SONAME, "apt-get install libcurl4",
                                                     curl_resolve);

static int
curl_resolve(void *handle)
{
    int missing = 0;

#define RESOLVE(name) missing += HUB_LAZY_RESOLVE(curl_fn, libcurl, handle, name);
    CURL_FUNCTIONS(RESOLVE)
#undef RESOLVE
    return missing == 0 ? 0 : -1;
}

#define FORWARD(type, name, params, args, failed) \
    HUB_LAZY_FORWARD(libcurl, curl_fn, type, name, params, args, failed)
#define FORWARD_VOID(name, params, args) HUB_LAZY_FORWARD_VOID(libcurl, curl_fn, name, params, args)

FORWARD(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)
FORWARD_VOID(curl_global_cleanup, (void), ())
FORWARD(CURL *, curl_easy_init, (void), (), NULL)
FORWARD(CURLcode, curl_easy_perform, (CURL *curl), (curl), CURLE_FAILED_INIT)
FORWARD_VOID(curl_easy_cleanup, (CURL *curl), (curl))
FORWARD(const char *, curl_easy_strerror, (CURLcode code), (code),
        "libcurl.so.4 could not be loaded (see the library_unavailable line)")
FORWARD(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *s),
        (list, s), NULL)
FORWARD_VOID(curl_slist_free_all, (struct curl_slist *list), (list))

/*
 * The two variadic ones take exactly one argument after the option, whose
 * type the option's number range gives (CURLOPTTYPE_*), the way libcurl
 * reads it itself. Strings, lists and callbacks are all passed on as
 * pointers. The parentheses around the names keep curl.h's macros of the
 * same names from expanding here.
 */
CURLcode
(curl_easy_setopt)(CURL *curl, CURLoption option, ...)
{
    va_list ap;
    CURLcode rc;

    if (!hub_lazylib_ready(&libcurl))
        return CURLE_FAILED_INIT;
    va_start(ap, option);
    if (option < CURLOPTTYPE_OBJECTPOINT)
        rc = (curl_fn.curl_easy_setopt)(curl, option, va_arg(ap, long));
    else if (option >= CURLOPTTYPE_FUNCTIONPOINT && option < CURLOPTTYPE_OFF_T)
        rc = (curl_fn.curl_easy_setopt)(curl, option, va_arg(ap, void (*)(void)));
    else if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB)
        rc = (curl_fn.curl_easy_setopt)(curl, option, va_arg(ap, curl_off_t));
    else
        rc = (curl_fn.curl_easy_setopt)(curl, option, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

/* The argument is always a pointer to where the answer goes. */
CURLcode
(curl_easy_getinfo)(CURL *curl, CURLINFO info, ...)
{
    va_list ap;
    CURLcode rc;

    if (!hub_lazylib_ready(&libcurl))
        return CURLE_FAILED_INIT;
    va_start(ap, info);
    rc = (curl_fn.curl_easy_getinfo)(curl, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}
