/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Internal declarations shared by the library's modules. Not installed.
 */
#ifndef XMPPC_PRIVATE_H
#define XMPPC_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <xmppc/xmppc.h>

/* ---- alloc.c: every library allocation goes through these ---------------
 * They count live blocks and, on failure, set the thread's last error to
 * XMPPC_ENOMEM so that callers only have to return XMPPC_ENOMEM. */
void *xmppc__malloc(size_t size);
void *xmppc__calloc(size_t count, size_t size); /* zeroed, overflow-checked */
void *xmppc__realloc(void *ptr, size_t size);   /* ptr may be NULL */
void *xmppc__reallocarray(void *ptr, size_t count, size_t size);
char *xmppc__strdup(const char *s);
char *xmppc__strndup(const char *s, size_t max_len);
void *xmppc__memdup(const void *p, size_t len);
#define xmppc__free xmppc_free
/* Wipes a NUL-terminated secret (password, SASL payload) before freeing. */
void xmppc__free_secret(char *secret);

/* ---- error.c ------------------------------------------------------------ */

/* Fixed-size storage behind an xmppc_error, so that reporting an error
 * (even ENOMEM) never allocates. Used for the thread-local "last error" and
 * for errors handed to asynchronous callbacks. */
typedef struct xmppc__error_store {
    xmppc_error pub;
    char message[1024];
    char condition[64];
    char type[16];
    char text[1024];
} xmppc__error_store;

/* Fills @p store; condition, type and text may be NULL. Returns @p code. */
int xmppc__error_store_set(xmppc__error_store *store, int code,
                           const char *condition, const char *type,
                           const char *text, const char *fmt, ...)
    XMPPC_PRINTF(6, 7);
int xmppc__error_store_vset(xmppc__error_store *store, int code,
                            const char *condition, const char *type,
                            const char *text, const char *fmt, va_list ap)
    XMPPC_PRINTF(6, 0);
void xmppc__error_store_clear(xmppc__error_store *store);
void xmppc__error_store_copy(xmppc__error_store *dst,
                             const xmppc__error_store *src);

/* Sets the calling thread's last error; returns @p code so that
 * `return xmppc__error(XMPPC_EINVAL, "jid: empty domain");` reads well. */
int xmppc__error(int code, const char *fmt, ...) XMPPC_PRINTF(2, 3);
/* The same with the XMPP condition/type/text of a stream or stanza error. */
int xmppc__error_xmpp(int code, const char *condition, const char *type,
                      const char *text, const char *fmt, ...)
    XMPPC_PRINTF(5, 6);
/* Copies a stored error into the calling thread's last error. */
int xmppc__error_from_store(const xmppc__error_store *store);

/* ---- log.c -------------------------------------------------------------- */

/* Where a component logs to: a connection embeds one, configured by
 * xmppc_conn_set_log_cb(); with cb == NULL the process default is used. */
typedef struct xmppc__logger {
    xmppc_log_cb cb;
    void *userdata;
    xmppc_log_level max_level;
    xmppc_conn *conn;
} xmppc__logger;

/* Cheap check to skip formatting work (e.g. XML traces) nobody will see. */
bool xmppc__log_enabled(const xmppc__logger *logger, xmppc_log_level level);
void xmppc__log(const xmppc__logger *logger, xmppc_log_level level,
                const char *area, const char *fmt, ...) XMPPC_PRINTF(4, 5);
void xmppc__logv(const xmppc__logger *logger, xmppc_log_level level,
                 const char *area, const char *fmt, va_list ap)
    XMPPC_PRINTF(4, 0);

/* ---- conn.c (helpers for feature modules) ------------------------------ */

/* @p jid, or for NULL ("the own server") the account's domain: a query
 * without 'to' would be answered by the server on behalf of the own
 * account. Borrowed. */
const char *xmppc__server_if_null(xmppc_conn *conn, const char *jid);

#endif /* XMPPC_PRIVATE_H */
