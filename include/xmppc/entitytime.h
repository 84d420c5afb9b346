/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/entitytime.h
 * @brief Entity Time (XEP-0202): answering `urn:xmpp:time` queries and
 *        asking other entities their time.
 *
 * The manager is per connection, created on first use by
 * xmppc_entitytime_get() and freed with the connection. Creating it
 * enables the responder: from then on time queries are answered with
 * `<tzo>` (the local zone's offset from UTC, e.g. "+02:00") and `<utc>`
 * (the current UTC time in XEP-0082 format, e.g. "2024-05-01T12:34:56Z").
 * Without the manager, queries get the automatic `service-unavailable`.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_ENTITYTIME_H
#define XMPPC_ENTITYTIME_H

#include <xmppc/common.h>
#include <xmppc/error.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** The XEP-0202 namespace. */
#define XMPPC_NS_ENTITYTIME "urn:xmpp:time"

/** A connection's entity time manager (opaque, owned by the connection). */
typedef struct xmppc_entitytime xmppc_entitytime;

/**
 * The connection's entity time manager, created (and the responder
 * enabled) on the first call.
 * @return the manager (borrowed: it lives as long as @p conn), or NULL
 *         with xmppc_error_last() set: XMPPC_EINVAL for a NULL @p conn,
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API xmppc_entitytime *xmppc_entitytime_get(xmppc_conn *conn);

/** The connection the manager belongs to (borrowed), or NULL for NULL.
 * @since 0.1 */
XMPPC_API xmppc_conn *xmppc_entitytime_get_conn(const xmppc_entitytime *et);

/**
 * The answer to a time query.
 *
 * @param conn the connection (borrowed).
 * @param utc_seconds the entity's time in seconds since 1970-01-01T00:00:00Z
 *        (fractions of a second dropped); 0 on failure.
 * @param tzo the entity's offset from UTC as "+hh:mm" or "-hh:mm" ("Z" in
 *        the reply is given as "+00:00"); borrowed for the call; NULL on
 *        failure.
 * @param err NULL on success; else XMPPC_ESTANZA (an error reply:
 *        condition, type and text filled in; e.g. `service-unavailable`
 *        from an entity without XEP-0202), XMPPC_EPROTO (a result without
 *        `<time xmlns='urn:xmpp:time'>`, or whose `<utc>` or `<tzo>` is
 *        missing or not in XEP-0082 format), XMPPC_ETIMEDOUT or
 *        XMPPC_ECANCELED. Borrowed for the call.
 * @param userdata as given to xmppc_entitytime_get_remote().
 *
 * Scope: async; called exactly once if the query was sent.
 */
typedef void (*xmppc_entitytime_cb)(xmppc_conn *conn, long long utc_seconds,
                                    const char *tzo, const xmppc_error *err,
                                    void *userdata);

/**
 * Asks an entity for its time.
 * @param jid the entity, or NULL for the own server (the account's
 *        domain).
 * @param timeout_ms 0 for the connection's iq timeout.
 * @param cb called exactly once (see ::xmppc_entitytime_cb); required.
 * @param destroy called once after @p cb (may be NULL).
 * @return 0; XMPPC_EINVAL (NULL @p et or @p cb, invalid @p jid);
 *         XMPPC_ESTATE unless the connection is ready; XMPPC_ELIMIT;
 *         XMPPC_ENOMEM. On failure neither @p cb nor @p destroy is called.
 * @since 0.1
 */
XMPPC_API int xmppc_entitytime_get_remote(xmppc_entitytime *et, const char *jid,
                                          unsigned int timeout_ms,
                                          xmppc_entitytime_cb cb,
                                          void *userdata,
                                          xmppc_destroy_cb destroy);

XMPPC_END_DECLS

#endif /* XMPPC_ENTITYTIME_H */
