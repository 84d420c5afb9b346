/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/carbons.h
 * @brief Message Carbons (XEP-0280): copies of the messages that the
 *        account's other resources send and receive.
 *
 * Once enabled with xmppc_carbons_enable(), the server copies to this
 * resource every chat message that another resource of the account sends
 * (a "sent" carbon) or receives (a "received" carbon), wrapped as
 * `<message from='OWN-BARE-JID'><received|sent xmlns='urn:xmpp:carbons:2'>
 * <forwarded xmlns='urn:xmpp:forward:0'><message .../></forwarded>
 * </received|sent></message>` (XEP-0297 forwarding).
 *
 * **The carbons manager.** The first call of a function of this header
 * that takes a connection sets up the connection's carbons manager: one
 * message handler that checks and unwraps carbons, and the feature
 * `urn:xmpp:carbons:2` in the own disco#info (disco.h). The handler is
 * registered at that moment and handlers see stanzas in registration
 * order, so set the manager up (e.g. with xmppc_carbons_on_message())
 * before adding message handlers of your own. The manager lives as long as
 * the connection.
 *
 * **Origin check (XEP-0280 section 11).** A carbon is accepted only when
 * the wrapping message comes from the account's own bare JID; the inner
 * message of a received carbon must be addressed to the account and the
 * inner message of a sent carbon must come from it. Anything else that
 * looks like a carbon (from another account, from the server domain, from
 * a full JID, a carbon inside a carbon, a forward without exactly one
 * message) is dropped with a warning in the log and delivered to nobody.
 * Either way the wrapping message is XMPPC_HANDLED: no handler registered
 * after the manager sees it, so none can mistake it for a message from
 * the own account. The forwarded content never grants identity: listeners
 * get the inner message as it was forwarded, with its direction.
 *
 * **Listeners** (xmppc_carbons_on_message()) follow chat.h: each
 * registration returns an ::xmppc_handler handle released with
 * xmppc_handler_remove() / xmppc_handler_free() and calls @p destroy once
 * when the listener goes away. Chat message listeners of chat.h
 * (xmppc_chat_on_message()) also get carbons of chat and normal messages
 * with a body.
 *
 * Messages carrying `<no-copy xmlns='urn:xmpp:hints'/>` need nothing
 * special from a client: the server does not copy them.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_CARBONS_H
#define XMPPC_CARBONS_H

#include <xmppc/common.h>
#include <xmppc/conn.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** The XEP-0280 namespace. */
#define XMPPC_NS_CARBONS "urn:xmpp:carbons:2"
/** The XEP-0297 (stanza forwarding) namespace. */
#define XMPPC_NS_FORWARD "urn:xmpp:forward:0"
/** The XEP-0334 (message processing hints) namespace. */
#define XMPPC_NS_HINTS "urn:xmpp:hints"

/** Which way the copied message went. */
typedef enum xmppc_carbon_direction {
    /** Another resource of the account received it. */
    XMPPC_CARBON_RECEIVED = 0,
    /** Another resource of the account sent it. */
    XMPPC_CARBON_SENT = 1
} xmppc_carbon_direction;

/** "received" or "sent" (the element name), or NULL for a value out of
 * range. @since 0.1 */
XMPPC_API const char *
xmppc_carbon_direction_name(xmppc_carbon_direction direction);

/**
 * The answer to xmppc_carbons_enable() or xmppc_carbons_disable().
 * @param enabled whether carbons are enabled now (as far as this
 *        connection knows: unchanged on failure).
 * @param err NULL on success; otherwise as ::xmppc_iq_reply_cb
 *        (XMPPC_ESTANZA with the server's condition, XMPPC_ETIMEDOUT,
 *        XMPPC_ECANCELED). Borrowed for the call.
 * Scope: async; called exactly once if the call returned 0, never
 * otherwise.
 */
typedef void (*xmppc_carbons_result_cb)(xmppc_conn *conn, int enabled,
                                        const xmppc_error *err, void *userdata);

/**
 * Asks the server to send carbons to this resource:
 * `<iq type='set' id='...'><enable xmlns='urn:xmpp:carbons:2'/></iq>`.
 * @param cb may be NULL; @p userdata goes to it and to @p destroy.
 * @param destroy called once after @p cb (or instead of it when @p cb is
 *        NULL) if this returns 0; may be NULL.
 * @return 0 once sent; XMPPC_EINVAL; XMPPC_ESTATE unless ready;
 *         XMPPC_ELIMIT; XMPPC_ENOMEM (then neither @p cb nor @p destroy
 *         is called).
 * @since 0.1
 */
XMPPC_API int xmppc_carbons_enable(xmppc_conn *conn, xmppc_carbons_result_cb cb,
                                   void *userdata, xmppc_destroy_cb destroy);

/** Asks the server to stop sending carbons to this resource (`<disable/>`);
 * as xmppc_carbons_enable(). @since 0.1 */
XMPPC_API int xmppc_carbons_disable(xmppc_conn *conn,
                                    xmppc_carbons_result_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy);

/**
 * Whether the server confirmed the last xmppc_carbons_enable() (and no
 * xmppc_carbons_disable() since), and the connection is ready. The
 * server forgets the setting with the session: after a reconnect, call
 * xmppc_carbons_enable() again (the flag itself stays 1 across a
 * reconnect: the module does not watch the connection's state).
 * @return 1 or 0 (0 for NULL).
 * @since 0.1
 */
XMPPC_API int xmppc_carbons_is_enabled(const xmppc_conn *conn);

/**
 * Asks whether the own server supports carbons (disco#info of the
 * account's domain, cached by disco.h).
 * @param cb called once with @p supported 1 or 0, or with @p err.
 * @return as xmppc_disco_supports().
 * @since 0.1
 */
typedef void (*xmppc_carbons_supported_cb)(xmppc_conn *conn, int supported,
                                           const xmppc_error *err,
                                           void *userdata);
XMPPC_API int xmppc_carbons_server_supports(xmppc_conn *conn,
                                            xmppc_carbons_supported_cb cb,
                                            void *userdata,
                                            xmppc_destroy_cb destroy);

/**
 * A carbon arrived and passed the origin check.
 * @param inner the forwarded message (borrowed for the call; take a
 *        reference with xmppc_stanza_ref() to keep it). For
 *        XMPPC_CARBON_RECEIVED its `from` is the peer; for
 *        XMPPC_CARBON_SENT its `to` is the peer.
 * Scope: notified (until the listener is removed).
 */
typedef void (*xmppc_carbon_cb)(xmppc_conn *conn, const xmppc_stanza *inner,
                                xmppc_carbon_direction direction,
                                void *userdata);

/**
 * Listens for carbons (sets the carbons manager up; see the file
 * description).
 * @param[out] handle_out the listener's handle (caller owns it; release it
 *             with xmppc_handler_free()), or NULL for a listener that
 *             lives as long as the connection.
 * @param destroy called once when the listener goes away (may be NULL).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_carbons_on_message(xmppc_conn *conn,
                                       xmppc_handler **handle_out,
                                       xmppc_carbon_cb cb, void *userdata,
                                       xmppc_destroy_cb destroy);

/**
 * Marks a message you build as private (`<private
 * xmlns='urn:xmpp:carbons:2'/>` plus `<no-copy xmlns='urn:xmpp:hints'/>`),
 * so that the server does not copy it to the account's other resources.
 * A second call changes nothing.
 * @return 0; XMPPC_EINVAL when @p message is NULL or not a message;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_carbons_mark_private(xmppc_stanza *message);

/** Whether a message carries `<private xmlns='urn:xmpp:carbons:2'/>`.
 * @return 1 or 0 (0 for NULL). @since 0.1 */
XMPPC_API int xmppc_carbons_is_private(const xmppc_stanza *message);

XMPPC_END_DECLS

#endif /* XMPPC_CARBONS_H */
