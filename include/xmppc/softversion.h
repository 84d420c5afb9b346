/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/softversion.h
 * @brief Software Version (XEP-0092): answering `jabber:iq:version`
 *        queries and asking other entities theirs.
 *
 * (Named softversion.h because xmppc/version.h is the library's own
 * version.)
 *
 * The manager is per connection, created on first use by
 * xmppc_softversion_get() and freed with the connection. Creating it
 * enables the responder: from then on version queries are answered with
 * the configured name and version (by default "libxmppc" and
 * xmppc_version()) and no operating system unless one is set, for
 * privacy. Without the manager, queries get the automatic
 * `service-unavailable`.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_SOFTVERSION_H
#define XMPPC_SOFTVERSION_H

#include <xmppc/common.h>
#include <xmppc/error.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** The XEP-0092 namespace. */
#define XMPPC_NS_SOFTVERSION "jabber:iq:version"

/** A connection's software version manager (opaque, owned by the
 * connection). */
typedef struct xmppc_softversion xmppc_softversion;

/**
 * The connection's software version manager, created (and the responder
 * enabled) on the first call.
 * @return the manager (borrowed: it lives as long as @p conn), or NULL
 *         with xmppc_error_last() set: XMPPC_EINVAL for a NULL @p conn,
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API xmppc_softversion *xmppc_softversion_get(xmppc_conn *conn);

/** The connection the manager belongs to (borrowed), or NULL for NULL.
 * @since 0.1 */
XMPPC_API xmppc_conn *xmppc_softversion_get_conn(const xmppc_softversion *sv);

/**
 * Sets what the responder answers. Strings are copied.
 * @param name the software name; NULL restores "libxmppc".
 * @param version its version; NULL restores xmppc_version().
 * @param os the operating system; NULL omits it (the default).
 * @return 0; XMPPC_EINVAL for a NULL @p sv or an empty or invalid (not
 *         XML-safe UTF-8) string; XMPPC_ENOMEM (nothing changes).
 * @since 0.1
 */
XMPPC_API int xmppc_softversion_set(xmppc_softversion *sv, const char *name,
                                    const char *version, const char *os);

/**
 * The answer to a version query.
 *
 * @param conn the connection (borrowed).
 * @param name the software name; @p version its version (NULL when the
 *        peer omitted it); @p os the operating system (NULL when omitted).
 *        Borrowed for the call; all NULL on failure.
 * @param err NULL on success; else XMPPC_ESTANZA (an error reply:
 *        condition, type and text filled in), XMPPC_EPROTO (a result
 *        without `<query xmlns='jabber:iq:version'>` or without `<name>`),
 *        XMPPC_ETIMEDOUT or XMPPC_ECANCELED. Borrowed for the call.
 * @param userdata as given to xmppc_softversion_get_remote().
 *
 * Scope: async; called exactly once if the query was sent.
 */
typedef void (*xmppc_softversion_cb)(xmppc_conn *conn, const char *name,
                                     const char *version, const char *os,
                                     const xmppc_error *err, void *userdata);

/**
 * Asks an entity for its software version.
 * @param jid the entity, or NULL for the own server (the account's
 *        domain).
 * @param timeout_ms 0 for the connection's iq timeout.
 * @param cb called exactly once (see ::xmppc_softversion_cb); required.
 * @param destroy called once after @p cb (may be NULL).
 * @return 0; XMPPC_EINVAL (NULL @p sv or @p cb, invalid @p jid);
 *         XMPPC_ESTATE unless the connection is ready; XMPPC_ELIMIT;
 *         XMPPC_ENOMEM. On failure neither @p cb nor @p destroy is called.
 * @since 0.1
 */
XMPPC_API int
xmppc_softversion_get_remote(xmppc_softversion *sv, const char *jid,
                             unsigned int timeout_ms, xmppc_softversion_cb cb,
                             void *userdata, xmppc_destroy_cb destroy);

XMPPC_END_DECLS

#endif /* XMPPC_SOFTVERSION_H */
