/*
 * hex.c: hex digits and percent-decoding (see hex.h).
 */
#include "buf.h"
#include "hex.h"

int
hub_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
hub_hex_decode(const char *s, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = hub_hex_value(s[2 * i]);
        int lo = hi < 0 ? -1 : hub_hex_value(s[2 * i + 1]);

        if (lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

int
hub_percent_decode(const char *s, size_t n, int plus_is_space, struct hub_buf *out)
{
    if (hub_buf_reserve(out, n) != HUB_BUF_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hub_hex_value(s[i + 1]) : -1;
            int lo = hi < 0 ? -1 : hub_hex_value(s[i + 2]);

            if (lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (hub_buf_appendc(out, c) != HUB_BUF_OK)
            return -1;
    }
    return 0;
}
