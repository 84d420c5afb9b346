/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * A growable byte buffer: serialized stanzas are appended here so that many
 * can leave in one write. Not installed.
 */
#ifndef XMPPC_BUF_H
#define XMPPC_BUF_H

#include <stddef.h>

typedef struct xmppc__buf {
    char *data; /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
} xmppc__buf;

#define XMPPC__BUF_INIT                                                        \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Makes room for @p extra more bytes (plus a NUL); amortised doubling.
 * Returns 0 or XMPPC_ENOMEM (contents untouched). */
int xmppc__buf_reserve(xmppc__buf *b, size_t extra);
int xmppc__buf_append(xmppc__buf *b, const void *data, size_t len);
int xmppc__buf_append_str(xmppc__buf *b, const char *s);
/* Drops the first @p n bytes (e.g. after a partial write). */
void xmppc__buf_consume(xmppc__buf *b, size_t n);
/* Truncates to @p len bytes (undoes appends after a failure). */
void xmppc__buf_truncate(xmppc__buf *b, size_t len);
/* Hands the contents to the caller (free with xmppc_free) and empties b. */
char *xmppc__buf_steal(xmppc__buf *b, size_t *len_out);
void xmppc__buf_free(xmppc__buf *b);

#endif /* XMPPC_BUF_H */
