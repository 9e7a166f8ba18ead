/*
 * secret.h: look up a named secret (webhook secret, database password,
 * MongoDB URI, OpenBao token) in the order DESIGN.md fixes:
 *
 *   1. $CREDENTIALS_DIRECTORY/NAME     (systemd LoadCredential=)
 *   2. the file named by $HUB_NAME_FILE (NAME upper-cased)
 *   3. OpenBao/Vault KV v2, when $HUB_BAO_ADDR is set: GET
 *      $HUB_BAO_ADDR/v1/$HUB_BAO_MOUNT/data/$HUB_BAO_PATH (defaults "secret"
 *      and "hub"), key NAME of the secret's data, token from the bao_token
 *      secret (steps 1, 2 and 4 only). HTTPS, or plain HTTP to loopback.
 *   4. $HUB_NAME                       (last, discouraged: visible in /proc)
 *
 * One trailing newline is stripped from file values. The value is never
 * logged; wipe it with hub_secret_wipe() once used.
 */
#ifndef HUB_SECRET_H
#define HUB_SECRET_H

#include "buf.h"

/*
 * Returns 0 with the value in out (appended) and *source set to a static
 * word naming where it came from ("credential", "file", "openbao", "env"), or
 * 0 with *source NULL and out untouched when no source has it. Returns
 * EX_CONFIG when a named source is broken (HUB_NAME_FILE unreadable, bad
 * name) and EX_UNAVAILABLE when OpenBao cannot be reached, after logging one
 * error line that names the secret but not its value.
 */
int hub_secret_get(const char *name, struct hub_buf *out, const char **source);

/* Zero the value's memory and release the buffer. */
void hub_secret_wipe(struct hub_buf *b);

/*
 * The same chain without step 3 (OpenBao), for a program that must not load
 * libcurl (hub-metrics: its whole run costs less than loading it). Lives in
 * secret.c, which needs no libcurl; hub_secret_get() lives in bao.c.
 */
int hub_secret_get_local(const char *name, struct hub_buf *out, const char **source);

/* The chain itself, with the OpenBao step as a parameter (NULL: none). */
int hub_secret_lookup(const char *name, struct hub_buf *out, const char **source,
                      int (*remote)(const char *name, struct hub_buf *out, int *found));

/*
 * Fetch one key from OpenBao KV v2 (step 3 above). Exposed for tests.
 * Returns 0 and appends the value (found), 0 with *found 0 (not in the
 * secret), or EX_UNAVAILABLE / EX_CONFIG after logging.
 */
int hub_bao_get(const char *name, struct hub_buf *out, int *found);

#endif
