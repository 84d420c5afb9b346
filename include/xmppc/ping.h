/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/ping.h
 * @brief XMPP Ping (XEP-0199): answering pings, pinging, and a keepalive
 *        that declares a silent connection dead.
 *
 * The ping manager is per connection, created on first use by
 * xmppc_ping_get() and freed with the connection. Creating it enables the
 * responder: from then on `<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>`
 * is answered with an empty result. (Without the manager such pings get the
 * automatic `service-unavailable`, which XEP-0199 also allows.)
 *
 * **Keepalive.** xmppc_ping_set_keepalive() makes the connection ping its
 * server after @c interval_ms without incoming stanzas and declare the
 * connection dead after @c dead_after_ms without any. "Incoming stanzas"
 * are those this module can see on the public API: every stanza offered to
 * the manager's catch-all handler (registered, returning XMPPC_CONTINUE,
 * when the manager is created; a handler registered before it that returns
 * XMPPC_HANDLED hides a stanza from it) and the replies to its own pings.
 * Replies to other modules' iq requests are matched before handlers run
 * and do not count.
 *
 * Waiting between pings uses the connection's iq timers: while the
 * connection is idle, the manager keeps one iq get (a ping) addressed to
 * the connection's own full JID outstanding. The server routes it back;
 * the manager recognizes it by id, leaves it unanswered and does not count
 * it as traffic, and its timeout wakes the keepalive up. So an idle
 * connection with keepalive sends one such stanza per wake-up (at most one
 * per @c interval_ms) besides the pings to the server.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_PING_H
#define XMPPC_PING_H

#include <xmppc/common.h>
#include <xmppc/error.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** The XEP-0199 namespace. */
#define XMPPC_NS_PING "urn:xmpp:ping"

/** A connection's ping manager (opaque, owned by the connection). */
typedef struct xmppc_ping xmppc_ping;

/**
 * The connection's ping manager, created (and the ping responder enabled)
 * on the first call.
 * @return the manager (borrowed: it lives as long as @p conn), or NULL
 *         with xmppc_error_last() set: XMPPC_EINVAL for a NULL @p conn,
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API xmppc_ping *xmppc_ping_get(xmppc_conn *conn);

/** The connection the manager belongs to (borrowed), or NULL for NULL.
 * @since 0.1 */
XMPPC_API xmppc_conn *xmppc_ping_get_conn(const xmppc_ping *ping);

/**
 * The outcome of a ping.
 *
 * @param conn the connection (borrowed).
 * @param rtt_ms the round-trip time in milliseconds, measured from sending
 *        to the reply; valid when @p err is NULL (a result) or its code is
 *        XMPPC_ESTANZA (an error reply, which also proves the peer is
 *        reachable: e.g. `service-unavailable` from an entity that does not
 *        support XEP-0199); 0 otherwise.
 * @param err NULL on a result; else XMPPC_ESTANZA (condition, type and
 *        text filled in), XMPPC_ETIMEDOUT or XMPPC_ECANCELED (the
 *        connection closed or was freed first). Borrowed for the call.
 * @param userdata as given to xmppc_ping_send().
 *
 * Scope: async; called exactly once if xmppc_ping_send() returned 0.
 */
typedef void (*xmppc_ping_cb)(xmppc_conn *conn, unsigned int rtt_ms,
                              const xmppc_error *err, void *userdata);

/**
 * Pings an entity and reports the round-trip time.
 *
 * @param jid the entity to ping, or NULL for the own server (the
 *        account's domain).
 * @param timeout_ms 0 for the connection's iq timeout.
 * @param cb called exactly once (see ::xmppc_ping_cb); required.
 * @param userdata passed to @p cb and @p destroy.
 * @param destroy called once after @p cb (may be NULL).
 * @return 0; XMPPC_EINVAL (NULL @p ping or @p cb, invalid @p jid);
 *         XMPPC_ESTATE unless the connection is ready; XMPPC_ELIMIT;
 *         XMPPC_ENOMEM. On failure neither @p cb nor @p destroy is called.
 * @since 0.1
 */
XMPPC_API int xmppc_ping_send(xmppc_ping *ping, const char *jid,
                              unsigned int timeout_ms, xmppc_ping_cb cb,
                              void *userdata, xmppc_destroy_cb destroy);

/**
 * Enables, changes or disables the keepalive.
 *
 * After @p interval_ms without incoming stanzas (see the file comment) a
 * ping is sent to the server; any reply to it, result or error, counts as
 * traffic. When @p dead_after_ms pass without incoming stanzas, the
 * connection is declared dead: the dead callback runs (see
 * xmppc_ping_set_dead_cb()), then xmppc_conn_disconnect() is called on it
 * (pending iq requests end with XMPPC_ECANCELED; the state callback reports
 * the disconnect).
 *
 * Takes effect at once when the connection is ready, otherwise when the
 * first stanza arrives after it becomes ready (also after a reconnect).
 *
 * @param interval_ms silence before a ping, at least 10; 0 disables the
 *        keepalive (then @p dead_after_ms is ignored).
 * @param dead_after_ms silence after which the connection is dead; must
 *        be greater than @p interval_ms.
 * @return 0; XMPPC_EINVAL (with a message) for bad values;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_ping_set_keepalive(xmppc_ping *ping,
                                       unsigned int interval_ms,
                                       unsigned int dead_after_ms);

/**
 * Called when the keepalive declares the connection dead, just before
 * xmppc_conn_disconnect() is called on it.
 *
 * @param conn the connection (borrowed).
 * @param silence_ms how long nothing was received.
 * @param userdata as registered.
 *
 * Scope: notified (until replaced or the connection is freed).
 */
typedef void (*xmppc_ping_dead_cb)(xmppc_conn *conn, unsigned int silence_ms,
                                   void *userdata);

/**
 * Sets the dead callback (NULL removes it). The previous callback's
 * @c destroy runs.
 * @param destroy called once when the callback is replaced or the
 *        connection is freed (may be NULL).
 * @return 0; XMPPC_EINVAL for a NULL @p ping.
 * @since 0.1
 */
XMPPC_API int xmppc_ping_set_dead_cb(xmppc_ping *ping, xmppc_ping_dead_cb cb,
                                     void *userdata, xmppc_destroy_cb destroy);

XMPPC_END_DECLS

#endif /* XMPPC_PING_H */
