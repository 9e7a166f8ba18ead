/*
 * hex.h: hexadecimal digits and percent-encoding, decoded strictly. Used
 * for signatures (hub-webhook), trace ids (trace.c), form bodies and DSN
 * URIs. Pure functions: nothing is logged or allocated except in out.
 */
#ifndef HUB_HEX_H
#define HUB_HEX_H

#include <stddef.h>

#include "buf.h"

/* The value of one hex digit (0-9, a-f, A-F), or -1. */
int hub_hex_value(char c);

/* n bytes from the 2n hex digits at s. Returns 0, or -1 at a non-digit. */
int hub_hex_decode(const char *s, size_t n, unsigned char *out);

/*
 * Append s[0..n) percent-decoded to out; with plus_is_space, '+' becomes a
 * space (application/x-www-form-urlencoded). Returns 0, or -1 for a '%' not
 * followed by two hex digits or when out cannot grow; out then holds a
 * partial result the caller discards.
 */
int hub_percent_decode(const char *s, size_t n, int plus_is_space, struct hub_buf *out);

#endif
