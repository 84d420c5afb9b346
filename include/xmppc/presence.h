/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/presence.h
 * @brief Presence (RFC 6121 §4): the own presence, directed presence and
 *        the presence of contacts, tracked per resource.
 *
 * **The presence manager.** The first call of a function of this header
 * that takes a connection sets up the connection's presence manager: the
 * own presence and a table of the presence received, per full JID, kept
 * by one presence handler registered at that moment. A handler of yours
 * registered earlier that returns XMPPC_HANDLED for a presence hides it
 * from the table: set the manager up first (e.g. with
 * xmppc_presence_count(conn, "")) when that matters. The manager lives as
 * long as the connection. Its table loses entries on presence of type
 * "unavailable" or "error", and is cleared when a ready connection drops
 * (XMPPC_STATE_DISCONNECTED): presence from an old session is stale.
 *
 * **Entity capabilities.** When the connection has a disco manager
 * (disco.h), every available presence sent here carries its XEP-0115
 * `<c/>`, and the own presence is sent again when its features change.
 *
 * **Logins.** Once the own presence is announced (xmppc_presence_set_own()
 * or xmppc_presence_resend_own(), also before xmppc_conn_connect()), the
 * manager sends it each time the connection becomes ready, until
 * xmppc_presence_send_unavailable() withdraws it. A roster manager set up
 * first fetches the roster before that presence goes out (RFC 6121
 * §2.2).
 *
 * **Tracking.** Available presence (no type) from a JID stores its show,
 * status, priority and the time it arrived; "unavailable" from a full JID
 * removes that resource, from a bare JID every resource of it; "error"
 * removes what "unavailable" would (RFC 6121 §4.3.3). Presence of the
 * subscription types (subscribe, subscribed, unsubscribe, unsubscribed)
 * and probes are not tracked and never consumed here (see roster.h).
 *
 * **Best presence** of a bare JID: the available resource with the
 * highest priority; among equal priorities the most available show
 * (chat > available > away > xa > dnd); then the most recent.
 *
 * **Listeners** are ordinary stanza handlers (see conn.h): a registration
 * returns an ::xmppc_handler handle released with xmppc_handler_remove() /
 * xmppc_handler_free(), calls @p destroy once when the listener goes
 * away, and never stops dispatch.
 *
 * **Going offline.** Before xmppc_conn_disconnect() an application should
 * call xmppc_presence_send_unavailable() so that contacts see it leave
 * with a status text (a server broadcasts unavailable presence when the
 * stream closes anyway, without one).
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_PRESENCE_H
#define XMPPC_PRESENCE_H

#include <stddef.h>
#include <stdint.h>

#include <xmppc/common.h>
#include <xmppc/conn.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** Availability, from the presence type and its `<show/>`. */
typedef enum xmppc_presence_show {
    XMPPC_PRESENCE_UNAVAILABLE = 0, /**< offline (type unavailable or error) */
    XMPPC_PRESENCE_AVAILABLE = 1,   /**< online, no `<show/>` */
    XMPPC_PRESENCE_CHAT = 2,        /**< free for chat */
    XMPPC_PRESENCE_AWAY = 3,        /**< away */
    XMPPC_PRESENCE_XA = 4,          /**< extended away */
    XMPPC_PRESENCE_DND = 5          /**< do not disturb */
} xmppc_presence_show;

/** The `<show/>` value of @p show ("chat", "away", "xa", "dnd"), "available"
 * or "unavailable"; NULL when out of range. @since 0.1 */
XMPPC_API const char *xmppc_presence_show_name(xmppc_presence_show show);

/* ---- own presence ------------------------------------------------------- */

/**
 * Sets and broadcasts the own presence: `<presence>` with `<show/>` (none
 * for XMPPC_PRESENCE_AVAILABLE), `<status/>` and `<priority/>` (when not
 * 0). The values are kept, also when sending fails, and sent again at
 * each login (see "Logins" above) and by xmppc_presence_resend_own().
 * @param show any value but XMPPC_PRESENCE_UNAVAILABLE (use
 *        xmppc_presence_send_unavailable()).
 * @param status a status text, or NULL.
 * @param priority -128..127.
 * @return 0 once queued; XMPPC_EINVAL; XMPPC_ESTATE unless ready (the
 *         values are kept and sent at the next login); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_presence_set_own(xmppc_conn *conn, xmppc_presence_show show,
                                     const char *status, int priority);

/** Sends the presence last given to xmppc_presence_set_own() (plain
 * available presence when none was). @return as xmppc_presence_set_own().
 * @since 0.1 */
XMPPC_API int xmppc_presence_resend_own(xmppc_conn *conn);

/** Sends the own presence again if it is announced (see "Logins") and
 * the connection is ready; otherwise nothing, and no manager is set up.
 * The disco manager calls it when the entity capabilities change.
 * @return 1 if sent; 0 if nothing to do; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1 */
XMPPC_API int xmppc_presence_update_own(xmppc_conn *conn);

/**
 * Sends directed presence (RFC 6121 §4.6) to @p to; the own presence
 * kept for broadcast does not change.
 * @param show as xmppc_presence_set_own(), or XMPPC_PRESENCE_UNAVAILABLE
 *        for directed unavailable presence.
 * @return 0 once queued; XMPPC_EINVAL (invalid JID, show or priority);
 *         XMPPC_ESTATE unless ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_presence_send_to(xmppc_conn *conn, const char *to,
                                     xmppc_presence_show show,
                                     const char *status, int priority);

/**
 * Broadcasts unavailable presence, with @p status (may be NULL). Call it
 * before xmppc_conn_disconnect() (see the file description).
 * @return 0 once queued; XMPPC_ESTATE unless ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_presence_send_unavailable(xmppc_conn *conn,
                                              const char *status);

/* ---- presence of others ------------------------------------------------- */

/** The presence of one resource (or of a bare JID that sent presence
 * without resource). Borrowed: valid until the next presence stanza is
 * dispatched on the connection or the connection is freed. */
typedef struct xmppc_presence_info xmppc_presence_info;

/** The sender's JID, as received (prepared). @since 0.1 */
XMPPC_API const char *xmppc_presence_info_jid(const xmppc_presence_info *info);
/** Its availability. @since 0.1 */
XMPPC_API xmppc_presence_show
xmppc_presence_info_show(const xmppc_presence_info *info);
/** Its status text, or NULL. @since 0.1 */
XMPPC_API const char *
xmppc_presence_info_status(const xmppc_presence_info *info);
/** Its priority (0 when absent or invalid). @since 0.1 */
XMPPC_API int xmppc_presence_info_priority(const xmppc_presence_info *info);
/** When it arrived, in seconds since the epoch. @since 0.1 */
XMPPC_API int64_t xmppc_presence_info_time(const xmppc_presence_info *info);

/**
 * The presence of @p jid: for a full JID that resource, for a bare JID
 * its best presence (see the file description).
 * @return the presence (borrowed, see ::xmppc_presence_info), or NULL
 *         when @p jid is unavailable or invalid.
 * @since 0.1
 */
XMPPC_API const xmppc_presence_info *xmppc_presence_get(xmppc_conn *conn,
                                                        const char *jid);

/** The number of available resources of the bare JID of @p jid (0 when
 * invalid). @since 0.1 */
XMPPC_API size_t xmppc_presence_count(xmppc_conn *conn, const char *jid);

/** The available resource @p index (0 .. count-1, in arrival order) of
 * the bare JID of @p jid, or NULL (borrowed). @since 0.1 */
XMPPC_API const xmppc_presence_info *
xmppc_presence_at(xmppc_conn *conn, const char *jid, size_t index);

/** Forgets every presence received (e.g. after the connection dropped);
 * no listener is called. @since 0.1 */
XMPPC_API void xmppc_presence_clear(xmppc_conn *conn);

/**
 * A contact's presence changed.
 * @param from the full (or bare) JID that sent it (borrowed for the call).
 * @param info the new presence, borrowed for the call; its show is
 *        XMPPC_PRESENCE_UNAVAILABLE for unavailable and error presence.
 * Scope: notified (until the listener is removed).
 */
typedef void (*xmppc_presence_change_cb)(xmppc_conn *conn, const char *from,
                                         const xmppc_presence_info *info,
                                         void *userdata);

/**
 * Listens for presence changes (available, unavailable, error presence;
 * not the subscription types), called after the table was updated.
 * @param[out] handle_out the listener's handle (caller owns it; release
 *             it with xmppc_handler_free()), or NULL for a listener that
 *             lives as long as the connection.
 * @param destroy called once when the listener goes away (may be NULL).
 * @return 0; XMPPC_EINVAL for NULL @p conn or @p cb; XMPPC_ENOMEM
 *         (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_presence_on_change(xmppc_conn *conn,
                                       xmppc_handler **handle_out,
                                       xmppc_presence_change_cb cb,
                                       void *userdata,
                                       xmppc_destroy_cb destroy);

XMPPC_END_DECLS

#endif /* XMPPC_PRESENCE_H */
