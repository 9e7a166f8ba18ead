/*
 * wire.c: MongoDB message framing for the test server. Reads one request
 * (legacy OP_QUERY or OP_MSG) into a command document, writes one reply
 * (OP_REPLY to an OP_QUERY, OP_MSG otherwise). Owns nothing between calls;
 * never interprets a command.
 *
 * Every message starts with a 16-byte header of little-endian int32s:
 * messageLength, requestID, responseTo, opCode.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mongo-wire.h"

static int32_t
get_i32(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;

    return (int32_t)v;
}

static void
put_i32(uint8_t *p, int32_t v)
{
    uint32_t u = (uint32_t)v;

    p[0] = (uint8_t)u;
    p[1] = (uint8_t)(u >> 8);
    p[2] = (uint8_t)(u >> 16);
    p[3] = (uint8_t)(u >> 24);
}

/* 0 on success, 1 on EOF before the first byte, -1 on error or short read. */
static int
read_full(int fd, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 && got == 0)
            return 1;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int
write_full(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The length of a BSON document at p, when it fits in avail bytes; else 0. */
static size_t
bson_len_at(const uint8_t *p, size_t avail)
{
    int32_t len;

    if (avail < 5)
        return 0;
    len = get_i32(p);
    if (len < 5 || (size_t)len > avail)
        return 0;
    return (size_t)len;
}

static int
copy_db(struct mw_request *req, const char *db, size_t len)
{
    if (len >= sizeof req->db)
        return -1;
    memcpy(req->db, db, len);
    req->db[len] = '\0';
    return 0;
}

/* OP_QUERY: flags, "db.$cmd", skip, nreturn, query [, fields]. */
static int
parse_query(const uint8_t *p, size_t n, struct mw_request *req)
{
    const uint8_t *end = p + n, *ns = p + 4, *nul, *dot, *doc;
    bson_t q, inner;
    bson_iter_t it;
    const uint8_t *data;
    uint32_t len;
    size_t dlen;

    if (n < 4 + 1 + 8 + 5)
        return -1;
    nul = memchr(ns, '\0', n - 4);
    if (nul == NULL)
        return -1;
    dot = memchr(ns, '.', (size_t)(nul - ns));
    if (dot == NULL || strcmp((const char *)dot, ".$cmd") != 0)
        return -1;
    if (copy_db(req, (const char *)ns, (size_t)(dot - ns)) != 0)
        return -1;
    doc = nul + 1 + 8;
    if (doc >= end)
        return -1;
    dlen = bson_len_at(doc, (size_t)(end - doc));
    if (dlen == 0 || !bson_init_static(&q, doc, dlen))
        return -1;
    /* Read preferences wrap the command as {$query: {...}, $readPreference}. */
    if (!bson_iter_init_find(&it, &q, "$query")) {
        req->cmd = bson_copy(&q);
        return 0;
    }
    if (!BSON_ITER_HOLDS_DOCUMENT(&it))
        return -1;
    bson_iter_document(&it, &len, &data);
    if (!bson_init_static(&inner, data, len))
        return -1;
    req->cmd = bson_copy(&inner);
    return 0;
}

/* One kind-1 section: size, identifier, documents -> cmd[identifier] array. */
static int
append_sequence(bson_t *cmd, const uint8_t *p, size_t n)
{
    const uint8_t *id = p + 4, *nul, *end;
    bson_t arr, doc;
    uint32_t i = 0;

    if (n < 5)
        return -1;
    nul = memchr(id, '\0', n - 4);
    if (nul == NULL)
        return -1;
    end = p + n;
    if (!bson_append_array_begin(cmd, (const char *)id, -1, &arr))
        return -1;
    for (p = nul + 1; p < end; i++) {
        size_t dlen = bson_len_at(p, (size_t)(end - p));
        char key[16];
        const char *k;

        if (dlen == 0 || !bson_init_static(&doc, p, dlen))
            return -1;
        bson_uint32_to_string(i, &k, key, sizeof key);
        if (!bson_append_document(&arr, k, -1, &doc))
            return -1;
        p += dlen;
    }
    return bson_append_array_end(cmd, &arr) ? 0 : -1;
}

static int
take_db(struct mw_request *req)
{
    bson_iter_t it;
    uint32_t len;
    const char *db;

    if (!bson_iter_init_find(&it, req->cmd, "$db") || !BSON_ITER_HOLDS_UTF8(&it))
        return copy_db(req, "admin", 5);
    db = bson_iter_utf8(&it, &len);
    return copy_db(req, db, len);
}

/* OP_MSG: flags, sections (kind 0: one body; kind 1: a sequence), [crc]. */
static int
parse_msg(const uint8_t *p, size_t n, struct mw_request *req)
{
    const uint8_t *end;
    bson_t body;
    int have_body = 0;

    if (n < 4)
        return -1;
    req->flags = (uint32_t)get_i32(p);
    end = p + n - ((req->flags & MW_MSG_CHECKSUM_PRESENT) ? 4 : 0);
    p += 4;
    req->cmd = bson_new();
    while (p < end) {
        uint8_t kind = *p++;
        size_t len = kind == 0 ? bson_len_at(p, (size_t)(end - p))
                               : (size_t)(end - p) >= 4 ? (size_t)get_i32(p) : 0;

        if (len == 0 || len > (size_t)(end - p))
            return -1;
        if (kind == 0 && !have_body) {
            if (!bson_init_static(&body, p, len) || !bson_concat(req->cmd, &body))
                return -1;
            have_body = 1;
        } else if (kind != 1 || append_sequence(req->cmd, p, len) != 0) {
            return -1;
        }
        p += len;
    }
    return have_body ? take_db(req) : -1;
}

int
mw_wire_read(int fd, struct mw_request *req)
{
    uint8_t hdr[16], *body = NULL;
    int32_t len;
    int rc;

    memset(req, 0, sizeof *req);
    rc = read_full(fd, hdr, sizeof hdr);
    if (rc != 0)
        return rc;
    len = get_i32(hdr);
    req->request_id = get_i32(hdr + 4);
    req->opcode = get_i32(hdr + 12);
    if (len < 16 || len > MW_MAX_MESSAGE)
        return hub_fail(-1, "mw_bad_message", HUB_INT("length", len));
    body = malloc((size_t)len - 16 + 1);
    if (body == NULL || read_full(fd, body, (size_t)len - 16) != 0) {
        free(body);
        return -1;
    }
    if (req->opcode == MW_OP_QUERY)
        rc = parse_query(body, (size_t)len - 16, req);
    else if (req->opcode == MW_OP_MSG)
        rc = parse_msg(body, (size_t)len - 16, req);
    else
        rc = -1;
    free(body);
    if (rc != 0) {
        bson_clear(&req->cmd);
        return hub_fail(-1, "mw_unsupported_message", HUB_INT("opcode", req->opcode));
    }
    return 0;
}

int
mw_wire_reply(int fd, const struct mw_request *req, const bson_t *reply,
              int32_t *next_id)
{
    size_t head = req->opcode == MW_OP_QUERY ? 16 + 20 : 16 + 5;
    size_t total = head + reply->len;
    uint8_t *out = calloc(1, total);
    int rc;

    if (out == NULL || total > (size_t)MW_MAX_MESSAGE) {
        free(out);
        return -1;
    }
    put_i32(out, (int32_t)total);
    put_i32(out + 4, (*next_id)++);
    put_i32(out + 8, req->request_id);
    if (req->opcode == MW_OP_QUERY) {
        put_i32(out + 12, MW_OP_REPLY);
        /* flags 0, cursorID 0, startingFrom 0, numberReturned 1 */
        put_i32(out + 32, 1);
    } else {
        put_i32(out + 12, MW_OP_MSG);
        /* flagBits 0, section kind 0 */
    }
    memcpy(out + head, bson_get_data(reply), reply->len);
    rc = write_full(fd, out, total);
    free(out);
    return rc;
}
