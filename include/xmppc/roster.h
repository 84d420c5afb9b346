/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/roster.h
 * @brief The roster (RFC 6121 §2, §3): fetching, pushes, editing,
 *        subscriptions, listeners and XEP-0237 roster versioning.
 *
 * **The roster manager.** xmppc_roster_get() sets up the connection's
 * roster manager (and the presence manager of presence.h): its handlers
 * for roster pushes and subscription requests are registered at that
 * moment. It lives as long as the connection; the pointer is borrowed.
 * Call xmppc_roster_request() once the connection is ready (e.g. from the
 * state callback on XMPPC_STATE_READY, before sending initial presence,
 * RFC 6121 §2.2).
 *
 * **Pushes** (iq set with a `jabber:iq:roster` query) are accepted only
 * from the own account: without `from`, from the own bare JID or from the
 * own full JID (RFC 6121 §2.1.6). Anything else is logged as a warning,
 * not applied and answered with `service-unavailable`. An accepted push
 * with exactly one item is applied and answered with an empty result; one
 * with another number of items is answered with `bad-request`.
 *
 * **Items** are borrowed: valid until the roster changes (a push or a
 * fetch result is processed) or the connection is freed; in a listener,
 * for the call.
 *
 * **Subscriptions.** Incoming `subscribe` presence is handled by the
 * subscription mode: XMPPC_ROSTER_MANUAL (the default) reports it to the
 * listeners of xmppc_roster_on_subscription_request(), which answer with
 * xmppc_roster_approve() or xmppc_roster_deny() (now or later);
 * XMPPC_ROSTER_ACCEPT_ALL approves and XMPPC_ROSTER_REJECT_ALL denies at
 * once, without calling the listeners.
 *
 * **Pre-approval** (RFC 6121 §3.4) is xmppc_roster_preapprove(), refused
 * with XMPPC_ENOTSUP unless the server offers the stream feature
 * `<sub xmlns='urn:xmpp:features:pre-approval'/>`.
 *
 * **Versioning (XEP-0237 / RFC 6121 §2.6).** With a store set
 * (xmppc_roster_set_store() or xmppc_roster_use_file_store()), the fetch
 * carries the stored version (`ver=''` when nothing is stored) and an
 * empty result means "unchanged": the stored items become the roster.
 * After each change the store gets the new version and items. No `ver`
 * is sent without a store, nor to a server that does not offer the
 * `<ver xmlns='urn:xmpp:features:rosterver'/>` stream feature (RFC 6121
 * §2.6.1): then the whole roster is fetched.
 *
 * **Listeners** are registered as ::xmppc_handler handles (release with
 * xmppc_handler_remove() / xmppc_handler_free()); @p destroy runs once
 * when the listener goes away.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_ROSTER_H
#define XMPPC_ROSTER_H

#include <stddef.h>

#include <xmppc/common.h>
#include <xmppc/conn.h>
#include <xmppc/handler.h>
#include <xmppc/presence.h>

XMPPC_BEGIN_DECLS

/** The roster namespace. */
#define XMPPC_NS_ROSTER "jabber:iq:roster"

/** A connection's roster manager (borrowed from the connection). */
typedef struct xmppc_roster xmppc_roster;
/** A roster item (borrowed, see the file description). */
typedef struct xmppc_roster_item xmppc_roster_item;

/** Subscription states of an item. */
typedef enum xmppc_roster_subscription {
    XMPPC_SUB_NONE = 0,  /**< none */
    XMPPC_SUB_TO = 1,    /**< we see the contact's presence */
    XMPPC_SUB_FROM = 2,  /**< the contact sees ours */
    XMPPC_SUB_BOTH = 3,  /**< both */
    XMPPC_SUB_REMOVE = 4 /**< only in pushes: the item was removed */
} xmppc_roster_subscription;

/** What to do with incoming subscription requests. */
typedef enum xmppc_roster_sub_mode {
    XMPPC_ROSTER_MANUAL = 0,     /**< ask the listeners (default) */
    XMPPC_ROSTER_ACCEPT_ALL = 1, /**< approve every request */
    XMPPC_ROSTER_REJECT_ALL = 2  /**< deny every request */
} xmppc_roster_sub_mode;

/** The name of a subscription state ("none", "to", "from", "both",
 * "remove"), or NULL. @since 0.1 */
XMPPC_API const char *
xmppc_roster_subscription_name(xmppc_roster_subscription sub);

/** The connection's roster manager, set up on first call; NULL (with
 * xmppc_error_last()) for NULL @p conn or out of memory. @since 0.1 */
XMPPC_API xmppc_roster *xmppc_roster_get(xmppc_conn *conn);

/** The roster's connection (borrowed). @since 0.1 */
XMPPC_API xmppc_conn *xmppc_roster_get_conn(const xmppc_roster *roster);

/**
 * Reports the end of a roster request.
 * @param err NULL on success; else why (an iq error reply, a timeout,
 *        XMPPC_ECANCELED on disconnect). Borrowed for the call.
 * Scope: async (called exactly once if the call that took it returned 0).
 */
typedef void (*xmppc_roster_result_cb)(xmppc_roster *roster,
                                       const xmppc_error *err, void *userdata);

/**
 * Fetches the roster (iq get; with `ver` when a store is set). On
 * success the items are replaced and the item listeners told what was
 * added, updated and removed.
 * @param cb may be NULL; @p destroy is called once after it.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_roster_request(xmppc_roster *roster,
                                   xmppc_roster_result_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy);

/**
 * Whether the roster is fetched (as by xmppc_roster_request() without a
 * callback) each time the connection becomes ready: on by default, so a
 * manager set up before xmppc_conn_connect() is loaded at login and again
 * after every reconnection. A manager set up while already ready is not
 * fetched until xmppc_roster_request().
 * @return 0; XMPPC_EINVAL. @since 0.1
 */
XMPPC_API int xmppc_roster_set_load_at_login(xmppc_roster *roster, int enabled);

/** Whether a fetch has completed since the manager was set up. @since 0.1 */
XMPPC_API int xmppc_roster_is_loaded(const xmppc_roster *roster);

/** The roster version (XEP-0237) last received, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_roster_get_version(const xmppc_roster *roster);

/* ---- items -------------------------------------------------------------- */

/** The number of items. @since 0.1 */
XMPPC_API size_t xmppc_roster_count(const xmppc_roster *roster);
/** Item @p index (0 .. count-1), or NULL. @since 0.1 */
XMPPC_API const xmppc_roster_item *xmppc_roster_at(const xmppc_roster *roster,
                                                   size_t index);
/** The item of bare JID @p jid (prepared before comparing), or NULL.
 * @since 0.1 */
XMPPC_API const xmppc_roster_item *xmppc_roster_find(const xmppc_roster *roster,
                                                     const char *jid);

/** The item's bare JID. @since 0.1 */
XMPPC_API const char *xmppc_roster_item_jid(const xmppc_roster_item *item);
/** The item's name, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_roster_item_name(const xmppc_roster_item *item);
/** Its subscription state. @since 0.1 */
XMPPC_API xmppc_roster_subscription
xmppc_roster_item_subscription(const xmppc_roster_item *item);
/** 1 when a subscription request of ours is pending (ask='subscribe').
 * @since 0.1 */
XMPPC_API int xmppc_roster_item_ask(const xmppc_roster_item *item);
/** 1 when the subscription was pre-approved (approved='true').
 * @since 0.1 */
XMPPC_API int xmppc_roster_item_approved(const xmppc_roster_item *item);
/** The number of groups of the item. @since 0.1 */
XMPPC_API size_t xmppc_roster_item_group_count(const xmppc_roster_item *item);
/** Group @p index, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_roster_item_group_at(const xmppc_roster_item *item,
                                                 size_t index);

/* ---- editing ------------------------------------------------------------ */

/**
 * Adds or replaces an item (iq set): `<item jid='J' name='N'><group>G
 * </group>...</item>`. The change reaches the items through the server's
 * push; @p cb reports the server's answer.
 * @param name may be NULL. @param groups @p group_count group names (may
 *        be NULL when 0).
 * @param cb may be NULL; called exactly once if this returns 0.
 * @return 0; XMPPC_EINVAL (invalid JID, empty group); XMPPC_ESTATE unless
 *         ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_roster_add(xmppc_roster *roster, const char *jid,
                               const char *name, const char *const *groups,
                               size_t group_count, xmppc_roster_result_cb cb,
                               void *userdata, xmppc_destroy_cb destroy);

/** Renames an item, keeping its groups (NULL @p name removes the name).
 * @return as xmppc_roster_add(). @since 0.1 */
XMPPC_API int xmppc_roster_rename(xmppc_roster *roster, const char *jid,
                                  const char *name, xmppc_roster_result_cb cb,
                                  void *userdata, xmppc_destroy_cb destroy);

/** Sets an item's groups, keeping its name. @return as xmppc_roster_add().
 * @since 0.1 */
XMPPC_API int xmppc_roster_set_groups(xmppc_roster *roster, const char *jid,
                                      const char *const *groups,
                                      size_t group_count,
                                      xmppc_roster_result_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy);

/** Removes an item (`subscription='remove'`; the server also cancels the
 * subscriptions). @return as xmppc_roster_add(). @since 0.1 */
XMPPC_API int xmppc_roster_remove(xmppc_roster *roster, const char *jid,
                                  xmppc_roster_result_cb cb, void *userdata,
                                  xmppc_destroy_cb destroy);

/* ---- subscriptions ------------------------------------------------------ */

/** Asks @p jid for a subscription to its presence (type subscribe, with
 * an optional status text). @return 0 once queued; XMPPC_EINVAL;
 * XMPPC_ESTATE unless ready. @since 0.1 */
XMPPC_API int xmppc_roster_subscribe(xmppc_roster *roster, const char *jid,
                                     const char *status);
/** Cancels our subscription to @p jid (type unsubscribe). @since 0.1 */
XMPPC_API int xmppc_roster_unsubscribe(xmppc_roster *roster, const char *jid);
/** Approves @p jid's request (type subscribed). @since 0.1 */
XMPPC_API int xmppc_roster_approve(xmppc_roster *roster, const char *jid);
/** Denies @p jid's request, or cancels its subscription (type
 * unsubscribed). @since 0.1 */
XMPPC_API int xmppc_roster_deny(xmppc_roster *roster, const char *jid);
/** Pre-approves a subscription request of @p jid (type subscribed before
 * any request; see the file description). @return 0; XMPPC_ENOTSUP when
 * the server does not offer pre-approval; as xmppc_roster_approve().
 * @since 0.1 */
XMPPC_API int xmppc_roster_preapprove(xmppc_roster *roster, const char *jid);

/** Sets the subscription mode (default XMPPC_ROSTER_MANUAL).
 * @return 0; XMPPC_EINVAL. @since 0.1 */
XMPPC_API int xmppc_roster_set_subscription_mode(xmppc_roster *roster,
                                                 xmppc_roster_sub_mode mode);
/** The subscription mode. @since 0.1 */
XMPPC_API xmppc_roster_sub_mode
xmppc_roster_get_subscription_mode(const xmppc_roster *roster);

/**
 * A subscription request arrived (manual mode only).
 * @param from the bare JID asking (borrowed for the call).
 * @param status its status text, or NULL (borrowed for the call).
 * Scope: notified.
 */
typedef void (*xmppc_roster_sub_request_cb)(xmppc_conn *conn, const char *from,
                                            const char *status, void *userdata);

/** Listens for subscription requests (see the file description).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1 */
XMPPC_API int xmppc_roster_on_subscription_request(
    xmppc_roster *roster, xmppc_handler **handle_out,
    xmppc_roster_sub_request_cb cb, void *userdata, xmppc_destroy_cb destroy);

/* ---- item listeners ----------------------------------------------------- */

/** An item was added, updated or removed (by a push or a fetch).
 * @param item borrowed for the call (on removal: the item as it was).
 * Scope: notified. */
typedef void (*xmppc_roster_item_cb)(xmppc_roster *roster,
                                     const xmppc_roster_item *item,
                                     void *userdata);

/** Listens for added items. @return 0; XMPPC_EINVAL; XMPPC_ENOMEM
 * (@p destroy is not called). @since 0.1 */
XMPPC_API int xmppc_roster_on_added(xmppc_roster *roster,
                                    xmppc_handler **handle_out,
                                    xmppc_roster_item_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy);
/** Listens for changed items. @since 0.1 */
XMPPC_API int xmppc_roster_on_updated(xmppc_roster *roster,
                                      xmppc_handler **handle_out,
                                      xmppc_roster_item_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy);
/** Listens for removed items. @since 0.1 */
XMPPC_API int xmppc_roster_on_removed(xmppc_roster *roster,
                                      xmppc_handler **handle_out,
                                      xmppc_roster_item_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy);

/** Listens for presence changes of roster contacts only (see
 * xmppc_presence_on_change()). @since 0.1 */
XMPPC_API int xmppc_roster_on_presence_changed(xmppc_roster *roster,
                                               xmppc_handler **handle_out,
                                               xmppc_presence_change_cb cb,
                                               void *userdata,
                                               xmppc_destroy_cb destroy);

/* ---- versioning store --------------------------------------------------- */

/**
 * Loads the stored roster.
 * @param[out] version_out the stored version (borrowed from the store,
 *             copied at once).
 * @param[out] query_out the stored items as a serialized
 *             `<query xmlns='jabber:iq:roster'>` element (borrowed,
 *             copied at once).
 * @return 1 when something was stored, 0 when nothing was, negative on
 *         error (treated as nothing stored).
 * Scope: call.
 */
typedef int (*xmppc_roster_load_cb)(xmppc_roster *roster,
                                    const char **version_out,
                                    const char **query_out, void *userdata);

/** Saves the roster after each change: @p version and the items as a
 * serialized query element (both borrowed for the call). Scope: call. */
typedef void (*xmppc_roster_save_cb)(xmppc_roster *roster, const char *version,
                                     const char *query, void *userdata);

/**
 * Sets the versioning store (replacing one set before; its destroy
 * runs). NULL @p load and @p save remove it.
 * @return 0; XMPPC_EINVAL. @since 0.1
 */
XMPPC_API int xmppc_roster_set_store(xmppc_roster *roster,
                                     xmppc_roster_load_cb load,
                                     xmppc_roster_save_cb save, void *userdata,
                                     xmppc_destroy_cb destroy);

/**
 * Uses a file as the versioning store: loaded at each fetch, rewritten
 * atomically (temporary file in the same directory, then rename) after
 * each change. A missing or unreadable file counts as empty.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM. @since 0.1
 */
XMPPC_API int xmppc_roster_use_file_store(xmppc_roster *roster,
                                          const char *path);

XMPPC_END_DECLS

#endif /* XMPPC_ROSTER_H */
