/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/handler.h
 * @brief Stanza handlers: what a handler returns, and the callback types.
 *
 * Handlers are registered on a connection (see xmppc_conn_add_handler()
 * in conn.h) and see every incoming stanza that matches their filter, in
 * arrival order, on the thread that drives the connection, never
 * concurrently.
 *
 * @since 0.1
 */
#ifndef XMPPC_HANDLER_H
#define XMPPC_HANDLER_H

#include <xmppc/common.h>
#include <xmppc/error.h>

XMPPC_BEGIN_DECLS

/** Handler return values. */
enum xmppc_handler_result {
    /** Not for me (or not only for me): offer the stanza to the next
     * handler. */
    XMPPC_CONTINUE = 0,
    /** Done: stop offering the stanza, and do not send the automatic
     * `service-unavailable` reply for an unanswered iq get/set. */
    XMPPC_HANDLED = 1,
    /** OR-ed into either value: remove this handler after this call (its
     * destroy callback runs). */
    XMPPC_REMOVE = 2
};

/**
 * A stanza handler.
 *
 * @param conn the connection (borrowed).
 * @param stanza the incoming stanza (borrowed for the call; take a
 *        reference with xmppc_stanza_ref() to keep it).
 * @param userdata as registered.
 * @return XMPPC_CONTINUE or XMPPC_HANDLED, optionally `| XMPPC_REMOVE`.
 *
 * Scope: notified (called until the handler is removed; then its destroy
 * callback runs once).
 */
typedef int (*xmppc_stanza_cb)(xmppc_conn *conn, xmppc_stanza *stanza,
                               void *userdata);

/**
 * The reply to an iq request.
 *
 * @param conn the connection (borrowed).
 * @param reply the result stanza (borrowed), or NULL on failure.
 * @param err NULL on success; otherwise XMPPC_ESTANZA (an error reply:
 *        condition, type and text filled in), XMPPC_ETIMEDOUT, or
 *        XMPPC_ECANCELED (the connection closed or was freed first).
 * @param userdata as given with the request.
 *
 * Scope: async. Called exactly once if the request was accepted, never if
 * sending it failed.
 */
typedef void (*xmppc_iq_reply_cb)(xmppc_conn *conn, xmppc_stanza *reply,
                                  const xmppc_error *err, void *userdata);

/** Called once when a handler or request is dropped, to free userdata. */
typedef void (*xmppc_destroy_cb)(void *userdata);

XMPPC_END_DECLS

#endif /* XMPPC_HANDLER_H */
