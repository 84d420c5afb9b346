/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Status codes, their texts, and the per-thread last error.
 */
#include <stdio.h>
#include <string.h>

#include "xmppc-private.h"

static const struct status_info {
    int code;
    const char *name;
    const char *text;
} status_table[] = {
    {XMPPC_OK, "XMPPC_OK", "no error"},
    {XMPPC_ERROR, "XMPPC_ERROR", "error"},
    {XMPPC_ENOMEM, "XMPPC_ENOMEM", "out of memory"},
    {XMPPC_EINVAL, "XMPPC_EINVAL", "invalid argument"},
    {XMPPC_ESTATE, "XMPPC_ESTATE", "operation not allowed in this state"},
    {XMPPC_EAGAIN, "XMPPC_EAGAIN", "operation would block"},
    {XMPPC_ETIMEDOUT, "XMPPC_ETIMEDOUT", "operation timed out"},
    {XMPPC_ECANCELED, "XMPPC_ECANCELED", "operation canceled"},
    {XMPPC_ELIMIT, "XMPPC_ELIMIT", "limit exceeded"},
    {XMPPC_ENOTSUP, "XMPPC_ENOTSUP", "not supported"},
    {XMPPC_EDNS, "XMPPC_EDNS", "name resolution failed"},
    {XMPPC_ECONNECT, "XMPPC_ECONNECT", "connection failed"},
    {XMPPC_ETLS, "XMPPC_ETLS", "TLS failure"},
    {XMPPC_ECERT, "XMPPC_ECERT", "server certificate not accepted"},
    {XMPPC_EAUTH, "XMPPC_EAUTH", "authentication failed"},
    {XMPPC_ESTREAM, "XMPPC_ESTREAM", "stream error from the server"},
    {XMPPC_ESTANZA, "XMPPC_ESTANZA", "stanza error reply"},
    {XMPPC_EDISCONNECTED, "XMPPC_EDISCONNECTED", "disconnected"},
    {XMPPC_EPARSE, "XMPPC_EPARSE", "malformed or forbidden XML"},
    {XMPPC_EPROTO, "XMPPC_EPROTO", "XMPP protocol violation by the peer"},
    {XMPPC_EIO, "XMPPC_EIO", "I/O error"},
    {XMPPC_EUSER, "XMPPC_EUSER", "stopped by a callback"},
    {XMPPC_EPASSTHROUGH, "XMPPC_EPASSTHROUGH", "callback passed through"},
};

static const struct status_info *status_lookup(int code)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == code)
            return &status_table[i];
    return NULL;
}

XMPPC_API const char *xmppc_strerror(int code)
{
    const struct status_info *info = status_lookup(code);
    return info ? info->text : "unknown status";
}

XMPPC_API const char *xmppc_status_name(int code)
{
    const struct status_info *info = status_lookup(code);
    return info ? info->name : NULL;
}

/* Copies @p src into a fixed buffer, truncating on a UTF-8 boundary so a
 * long message never ends in half a character. */
static const char *copy_bounded(char *dst, size_t cap, const char *src)
{
    if (!src)
        return NULL;
    size_t len = strlen(src);
    if (len >= cap) {
        len = cap - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memmove(dst, src,
            len); /* src may alias dst (copying a store onto itself) */
    dst[len] = '\0';
    return dst;
}

void xmppc__error_store_clear(xmppc__error_store *store)
{
    memset(&store->pub, 0, sizeof store->pub);
    store->pub.version = XMPPC_ERROR_VERSION;
    store->pub.code = XMPPC_OK;
    store->pub.message =
        copy_bounded(store->message, sizeof store->message, "no error");
}

int xmppc__error_store_vset(xmppc__error_store *store, int code,
                            const char *condition, const char *type,
                            const char *text, const char *fmt, va_list ap)
{
    /* Format first: the arguments may point into this very store. */
    char message[sizeof store->message];
    if (fmt)
        vsnprintf(message, sizeof message, fmt, ap);
    else
        copy_bounded(message, sizeof message, xmppc_strerror(code));

    store->pub.version = XMPPC_ERROR_VERSION;
    store->pub.code = code;
    store->pub.stanza = NULL;
    store->pub.condition =
        copy_bounded(store->condition, sizeof store->condition, condition);
    store->pub.type = copy_bounded(store->type, sizeof store->type, type);
    store->pub.text = copy_bounded(store->text, sizeof store->text, text);
    store->pub.message =
        copy_bounded(store->message, sizeof store->message, message);
    return code;
}

int xmppc__error_store_set(xmppc__error_store *store, int code,
                           const char *condition, const char *type,
                           const char *text, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(store, code, condition, type, text, fmt, ap);
    va_end(ap);
    return code;
}

void xmppc__error_store_copy(xmppc__error_store *dst,
                             const xmppc__error_store *src)
{
    if (dst == src)
        return;
    if (!src->pub.message) {
        xmppc__error_store_clear(dst);
        return;
    }
    xmppc__error_store_set(dst, src->pub.code, src->pub.condition,
                           src->pub.type, src->pub.text, "%s",
                           src->pub.message);
    dst->pub.stanza = src->pub.stanza;
}

static _Thread_local xmppc__error_store last_error;

static xmppc__error_store *thread_store(void)
{
    if (!last_error.pub.message)
        xmppc__error_store_clear(&last_error);
    return &last_error;
}

XMPPC_API const xmppc_error *xmppc_error_last(void)
{
    return &thread_store()->pub;
}

XMPPC_API void xmppc_error_clear(void)
{
    xmppc__error_store_clear(&last_error);
}

XMPPC_API int xmppc_error_set(int code, const char *message)
{
    if (code >= 0)
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_error_set: code %d is not a negative "
                            "xmppc_status",
                            code);
    if (!message)
        message = xmppc_strerror(code);
    return xmppc__error_store_set(&last_error, code, NULL, NULL, NULL, "%s",
                                  message);
}

int xmppc__error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(&last_error, code, NULL, NULL, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int xmppc__error_xmpp(int code, const char *condition, const char *type,
                      const char *text, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(&last_error, code, condition, type, text, fmt, ap);
    va_end(ap);
    return code;
}

int xmppc__error_from_store(const xmppc__error_store *store)
{
    xmppc__error_store_copy(&last_error, store);
    return last_error.pub.code;
}
