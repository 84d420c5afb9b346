/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "xmppc-private.h"

int xmppc__buf_reserve(xmppc__buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return xmppc__error(XMPPC_ENOMEM, "buffer size overflow");
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = xmppc__realloc(b->data, cap);
    if (!p)
        return XMPPC_ENOMEM;
    p[b->len] = '\0'; /* terminated even before the first append */
    b->data = p;
    b->cap = cap;
    return 0;
}

int xmppc__buf_append(xmppc__buf *b, const void *data, size_t len)
{
    int rc = xmppc__buf_reserve(b, len);
    if (rc < 0)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int xmppc__buf_append_str(xmppc__buf *b, const char *s)
{
    return xmppc__buf_append(b, s, strlen(s));
}

void xmppc__buf_consume(xmppc__buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data)
        b->data[b->len] = '\0';
}

void xmppc__buf_truncate(xmppc__buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

char *xmppc__buf_steal(xmppc__buf *b, size_t *len_out)
{
    if (!b->data && xmppc__buf_reserve(b, 0) < 0)
        return NULL;
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void xmppc__buf_free(xmppc__buf *b)
{
    xmppc_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
