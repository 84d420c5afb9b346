/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The stanza dispatcher and IQ request engine. Not installed: the
 * connection (conn.c) wraps it in the public xmppc_conn API.
 *
 * It knows nothing about sockets or the stream. Incoming stanzas are handed
 * to xmppc__dispatch_stanza(); stanzas it has to send (IQ requests, the
 * automatic error replies) go out through the send hook given at creation;
 * time comes from the now_ms hook, so tests drive it with a fake clock.
 *
 * What happens to an incoming stanza, in this order:
 *
 * 1. An iq without an id, or with a type other than get/set/result/error,
 *    is malformed (RFC 6120 section 8.2.3). It is answered with
 *    <bad-request/> (type modify) when it has an id and a bad type, else
 *    dropped; handlers never see it, so they may rely on both attributes.
 * 2. An iq result/error whose id matches a pending request AND whose sender
 *    is the one expected (see xmppc__dispatch_send_iq()) completes that
 *    request. It is consumed: handlers do not see it. A reply with a
 *    matching id from anyone else is ignored with a warning ("spoofed iq
 *    reply") and the request stays pending.
 * 3. Handlers see the stanza in registration order until one returns
 *    XMPPC_HANDLED (or a negative value). Unmatched iq results and errors
 *    reach handlers too, but are never answered (no error loops).
 * 4. An iq get/set that no handler HANDLED is answered with
 *    <service-unavailable/> (type cancel), RFC 6120 section 8.4.
 *
 * Reentrancy: every callback (handler, IQ reply, destroy) may add and
 * remove handlers, send IQ requests and free the dispatcher. Stanzas are
 * processed one at a time in the order given; callbacks never run
 * concurrently. A dispatcher and its handles belong to one thread.
 */
#ifndef XMPPC_DISPATCH_H
#define XMPPC_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "xmppc-private.h"

typedef struct xmppc__dispatch xmppc__dispatch;
typedef struct xmppc__handler xmppc__handler;

/* Stanza kinds for xmppc__handler_filter.kinds, OR-able. "Other" is any
 * top-level element that is not a message, presence or iq in jabber:client
 * (for example a stream-management <r/>). */
enum {
    XMPPC__KIND_MESSAGE = 1u << 0,
    XMPPC__KIND_PRESENCE = 1u << 1,
    XMPPC__KIND_IQ = 1u << 2,
    XMPPC__KIND_OTHER = 1u << 3,
    XMPPC__KIND_ANY = 0 /* the same as all four */
};

/* The default for xmppc__dispatch_set_max_pending(). */
#define XMPPC__DISPATCH_DEFAULT_MAX_PENDING 1024

/*
 * Which stanzas a handler sees: every given field must match; NULL or 0
 * fields match anything. The strings are copied at registration.
 */
typedef struct xmppc__handler_filter {
    /* XMPPC__KIND_* bits; 0 = any kind. */
    unsigned int kinds;
    /* The type attribute, compared exactly. A message without type counts
     * as "normal" and a presence without type as "available" (RFC 6121
     * sections 5.2.2 and 4.7.1). */
    const char *type;
    /* A child element with this local name and/or namespace. ANY child
     * element counts, not just the first one: a message carries several
     * payloads (body, chat state, receipt...) and an iq error carries the
     * original payload next to <error/>. When both are given they must
     * hold for the same child. */
    const char *child_name;
    const char *child_ns;
    /* The sender, compared as prepared JIDs: a bare JID matches the bare
     * JID and each of its resources, a full JID only itself. A stanza
     * without 'from' comes from the own account (RFC 6120 section
     * 8.1.2.1), so it matches the own bare JID once that is set; a stanza
     * whose 'from' is not a valid JID never matches. */
    const char *from;
} xmppc__handler_filter;

/*
 * A handler, called with the dispatcher's owner, the stanza (borrowed for
 * the call; take a reference to keep it) and its userdata. Returns
 * XMPPC_CONTINUE or XMPPC_HANDLED, optionally OR'ed with XMPPC_REMOVE; a
 * negative value stops the dispatch of this stanza (no REMOVE then) and
 * makes xmppc__dispatch_stanza() return XMPPC_EUSER; an unanswered iq
 * get/set still gets its automatic error reply. Same signature as the
 * public xmppc_stanza_cb, so the connection passes those straight through.
 */
typedef int (*xmppc__stanza_cb)(xmppc_conn *owner, xmppc_stanza *stanza,
                                void *userdata);

/*
 * The reply to an IQ request: @p reply is the result (borrowed for the
 * call) or NULL; @p err is NULL on success, else XMPPC_ESTANZA for an error
 * reply (condition, type and text filled in, err->stanza the error reply,
 * borrowed), XMPPC_ETIMEDOUT or XMPPC_ECANCELED. Same signature as the
 * public xmppc_iq_reply_cb.
 */
typedef void (*xmppc__iq_reply_cb)(xmppc_conn *owner, xmppc_stanza *reply,
                                   const xmppc_error *err, void *userdata);

/* Frees a handler's or request's userdata; called exactly once. */
typedef void (*xmppc__destroy_cb)(void *userdata);

/* What the dispatcher needs from its connection. */
typedef struct xmppc__dispatch_io {
    /* Queues @p stanza for output (borrowed: copy or serialize it).
     * Returns 0 or a negative status. Must not call back into the
     * dispatcher. */
    int (*send)(void *ud, xmppc_stanza *stanza);
    /* A monotonic clock in milliseconds. */
    uint64_t (*now_ms)(void *ud);
    void *ud;
} xmppc__dispatch_io;

/* ---- the dispatcher ----------------------------------------------------- */

/**
 * Creates a dispatcher.
 *
 * @param[out] out the dispatcher (caller frees it with
 *             xmppc__dispatch_free()); untouched on failure.
 * @param io the send hook and the clock (copied; both required).
 * @param owner passed as the first argument of every handler and reply
 *        callback; never dereferenced (the xmppc_conn, or anything in
 *        tests).
 * @param logger where to log (area "dispatch"); borrowed, must outlive the
 *        dispatcher; NULL for the process-wide default.
 * @return 0; XMPPC_EINVAL (a NULL argument or hook); XMPPC_ENOMEM.
 */
int xmppc__dispatch_new(xmppc__dispatch **out, const xmppc__dispatch_io *io,
                        xmppc_conn *owner, const xmppc__logger *logger);

/**
 * Frees the dispatcher. First every pending IQ request is canceled (its
 * callback fires with XMPPC_ECANCELED, then its destroy callback), in
 * the order they were sent; then every handler is detached (its destroy
 * callback runs), in registration order. Requests go first because a module's
 * handler destroy callback may free state its requests' callbacks still use.
 * Handles stay valid, inert, until xmppc__handler_free().
 *
 * Called from inside one of the dispatcher's callbacks, it only marks the
 * dispatcher dead: the current dispatch stops (no further handler, no
 * automatic reply, no more timeouts fire), every call that would start
 * something new fails with XMPPC_ESTATE, and the work above plus the
 * actual free happen when the outermost dispatcher call returns. NULL is a
 * no-op; a second call while a deferred free is pending is a no-op.
 */
void xmppc__dispatch_free(xmppc__dispatch *d);

/**
 * Sets the own JID, used to check where IQ replies and handler 'from'
 * filters come from. Give the account's bare JID before binding and the
 * bound full JID after; NULL forgets it.
 *
 * @param full_jid a bare or full JID (prepared and copied), or NULL.
 * @return 0; XMPPC_EINVAL (invalid JID; the old one is kept);
 *         XMPPC_ENOMEM (the old one is kept).
 */
int xmppc__dispatch_set_own_jid(xmppc__dispatch *d, const char *full_jid);

/**
 * Limits the number of pending IQ requests (default
 * XMPPC__DISPATCH_DEFAULT_MAX_PENDING). Requests already pending stay when
 * the limit is lowered below their number.
 * @return 0; XMPPC_EINVAL for NULL or 0.
 */
int xmppc__dispatch_set_max_pending(xmppc__dispatch *d, size_t max_pending);

/** The number of IQ requests waiting for their reply. */
size_t xmppc__dispatch_pending_count(const xmppc__dispatch *d);

/**
 * Dispatches one incoming top-level stanza (see the file comment for the
 * order).
 *
 * @param stanza the stanza (borrowed; a reference is held during the
 *        call).
 * @return 0; XMPPC_EUSER when a handler returned a negative value;
 *         XMPPC_ENOMEM when the sender's address could not be prepared
 *         (then nothing was dispatched) or a status from building or
 *         sending an automatic reply (the stanza was dispatched);
 *         XMPPC_EINVAL for NULL or a text node; XMPPC_ESTATE when the
 *         dispatcher is being freed.
 */
int xmppc__dispatch_stanza(xmppc__dispatch *d, xmppc_stanza *stanza);

/* ---- handlers ----------------------------------------------------------- */

/**
 * Registers a handler. It sees the stanzas dispatched after this call, so
 * a handler added from inside a callback does not see the stanza being
 * dispatched, only the following ones.
 *
 * @param[out] handle_out the handle (caller frees it with
 *             xmppc__handler_free(), which also removes the handler), or
 *             NULL for a floating handler that lives until it returns
 *             XMPPC_REMOVE or the dispatcher is freed. Untouched on
 *             failure.
 * @param filter which stanzas to see (copied); NULL for all.
 * @param cb the handler (required). Scope: notified: called until the
 *        handler is removed, then @p destroy runs once.
 * @param userdata passed to @p cb and @p destroy.
 * @param destroy called once with @p userdata when the handler is removed
 *        (XMPPC_REMOVE, xmppc__handler_remove(), xmppc__handler_free() or
 *        xmppc__dispatch_free()); may be NULL.
 * @return 0; XMPPC_EINVAL (no @p cb, unknown kind bits, invalid 'from'
 *         JID); XMPPC_ENOMEM; XMPPC_ESTATE while the dispatcher is being
 *         freed. On failure neither @p cb nor @p destroy is ever called:
 *         @p userdata stays the caller's.
 */
int xmppc__dispatch_add(xmppc__dispatch *d, xmppc__handler **handle_out,
                        const xmppc__handler_filter *filter,
                        xmppc__stanza_cb cb, void *userdata,
                        xmppc__destroy_cb destroy);

/**
 * Removes a handler: it sees no further stanza (not even the rest of the
 * current dispatch) and its destroy callback runs now, once. Safe from any
 * callback, including the handler's own. A no-op on a handler already
 * removed or whose dispatcher is gone, and on NULL. The handle itself stays
 * valid until xmppc__handler_free().
 */
void xmppc__handler_remove(xmppc__handler *h);

/**
 * Frees a handle obtained from xmppc__dispatch_add(), removing the handler
 * first if it is still attached. Works whether or not the dispatcher still
 * exists, from any callback too. NULL is a no-op. The handle must not be
 * used afterwards.
 */
void xmppc__handler_free(xmppc__handler *h);

/** 1 while the handler is attached (not removed, dispatcher alive), else
 * 0. */
int xmppc__handler_is_attached(const xmppc__handler *h);

/* ---- IQ requests -------------------------------------------------------- */

/**
 * Sends an IQ request and waits (asynchronously) for its reply.
 *
 * The reply is accepted only from the expected sender, compared as
 * prepared JIDs:
 * - from the request's 'to' exactly: a request to a full JID is not
 *   answered from its bare JID or another resource (a server that cannot
 *   deliver it answers on its behalf with the full JID as 'from'; RFC 6120
 *   section 10.5.3.1), and a request to a bare JID is answered by that
 *   bare JID (section 10.3.3);
 * - in addition, when 'to' is absent, the own bare JID or the own domain
 *   (a request to the own server or account), a reply without 'from', from
 *   the own bare JID or from the own domain (sections 8.1.2.1, 10.3.3).
 *   Without an own JID (xmppc__dispatch_set_own_jid()) only replies without
 *   'from' are accepted for a request without 'to'.
 * Anything else with the right id is logged as a spoofed reply and ignored;
 * the request stays pending.
 *
 * @param iq an iq of type get or set (borrowed; the dispatcher keeps no
 *        reference). Without an id a random one is set on it first
 *        (removed again if this call fails). Its id must not be that of
 *        another pending request.
 * @param timeout_ms time to wait for the reply from now; 0 waits until the
 *        dispatcher is freed or xmppc__dispatch_cancel_pending().
 * @param cb the reply callback (required). Scope: async: fires exactly once
 *        (result, error reply, timeout, cancel or free), never from inside
 *        this call, and never if this call fails.
 * @param userdata passed to @p cb and @p destroy.
 * @param destroy called once with @p userdata right after @p cb; may be
 *        NULL. Not called when this call fails (the caller keeps
 *        @p userdata).
 * @return 0; XMPPC_EINVAL (not an iq get/set, no @p cb, an invalid 'to',
 *         an id already pending); XMPPC_ELIMIT (too many pending
 *         requests); XMPPC_ENOMEM; XMPPC_ESTATE while the dispatcher is
 *         being freed; or the send hook's status.
 */
int xmppc__dispatch_send_iq(xmppc__dispatch *d, xmppc_stanza *iq,
                            unsigned int timeout_ms, xmppc__iq_reply_cb cb,
                            void *userdata, xmppc__destroy_cb destroy);

/**
 * Cancels every pending IQ request (on disconnect): callbacks fire with
 * XMPPC_ECANCELED in the order the requests were sent. Requests sent from
 * those callbacks stay pending. The handlers stay.
 */
void xmppc__dispatch_cancel_pending(xmppc__dispatch *d);

/**
 * Milliseconds until the earliest request deadline (0 when one is already
 * due; capped to INT_MAX), or -1 when no request has a deadline. The
 * connection feeds this to its timer.
 */
int xmppc__dispatch_next_timeout_ms(const xmppc__dispatch *d);

/**
 * Fires, in deadline order (ties in sending order), the callbacks of the
 * requests whose deadline has passed, with XMPPC_ETIMEDOUT. Requests sent
 * from those callbacks are due later, so this always ends.
 */
void xmppc__dispatch_process_timeouts(xmppc__dispatch *d);

#endif /* XMPPC_DISPATCH_H */
