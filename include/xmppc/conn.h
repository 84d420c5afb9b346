/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/conn.h
 * @brief An XMPP client connection: configuration, lifecycle, sending,
 *        handlers and iq requests.
 *
 * A connection is created with a JID and a password, configured with typed
 * setters, then started with xmppc_conn_connect() (non-blocking; drive it
 * with the external-loop API of io.h or the built-in loop of loop.h) or
 * xmppc_conn_connect_sync() (loop.h). It resolves the server (SRV records,
 * then A/AAAA), connects (happy eyeballs), secures the stream (STARTTLS or
 * direct TLS; required and verified against the JID's domain by default),
 * authenticates (SCRAM, with channel binding where possible; PLAIN only
 * over TLS) and binds a resource; then the state is
 * XMPPC_STATE_READY and stanzas flow.
 *
 * Thread-safety: a connection and everything obtained from it is used by
 * one thread at a time; different connections may be used from different
 * threads. The only exception is xmppc_conn_post() (loop.h).
 * @since 0.1
 */
#ifndef XMPPC_CONN_H
#define XMPPC_CONN_H

#include <xmppc/common.h>
#include <xmppc/error.h>
#include <xmppc/handler.h>
#include <xmppc/log.h>

XMPPC_BEGIN_DECLS

/** Connection states, in the order a login goes through them. */
typedef enum xmppc_conn_state {
    XMPPC_STATE_DISCONNECTED = 0,   /**< not connected (initial and final) */
    XMPPC_STATE_RESOLVING = 1,      /**< looking up SRV and address records */
    XMPPC_STATE_CONNECTING = 2,     /**< opening the TCP connection */
    XMPPC_STATE_SECURING = 3,       /**< negotiating TLS */
    XMPPC_STATE_AUTHENTICATING = 4, /**< SASL */
    XMPPC_STATE_BINDING = 5,        /**< binding the resource */
    XMPPC_STATE_READY = 6,          /**< logged in: stanzas can be sent */
    XMPPC_STATE_DISCONNECTING = 7   /**< closing the stream gracefully */
} xmppc_conn_state;

/**
 * Called on every state change.
 *
 * @param err NULL, except when entering XMPPC_STATE_DISCONNECTED because
 *        of a failure: then it says why (code, message and, for stream or
 *        SASL errors, the XMPP condition and text). Borrowed for the call.
 *
 * Scope: notified (until replaced or the connection is freed).
 */
typedef void (*xmppc_state_cb)(xmppc_conn *conn, xmppc_conn_state state,
                               const xmppc_error *err, void *userdata);

/** TLS policy. */
typedef enum xmppc_tls_policy {
    /** TLS required and the certificate verified (the default). A server
     * without STARTTLS is refused before anything else is sent. */
    XMPPC_TLS_REQUIRED = 0,
    /** No TLS at all; only for servers on loopback in tests. SASL PLAIN is
     * still refused, so only SCRAM works. */
    XMPPC_TLS_DISABLED = 1
} xmppc_tls_policy;

/* ---- lifecycle ----------------------------------------------------------- */

/**
 * Creates a connection.
 *
 * @param[out] out the connection (caller owns one reference).
 * @param jid the account, "user@domain" or "user@domain/resource";
 *        validated and prepared.
 * @param password the password (copied; wiped from memory on free). May
 *        be NULL when a cached SCRAM key is set instead.
 * @return 0; XMPPC_EINVAL (invalid JID, with a message naming the part);
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_new(xmppc_conn **out, const char *jid,
                             const char *password);

/** Takes a reference. @return @p conn (NULL-safe). @since 0.1 */
XMPPC_API xmppc_conn *xmppc_conn_ref(xmppc_conn *conn);

/**
 * Drops a reference. The last one closes the connection abruptly (no
 * graceful close: use xmppc_conn_disconnect() first), cancels pending iq
 * requests (their callbacks run with XMPPC_ECANCELED), removes handlers
 * (destroy callbacks run) and frees everything. Inside a libxmppc
 * callback the free is deferred until the callback returns.
 * @return NULL.
 * @since 0.1
 */
XMPPC_API xmppc_conn *xmppc_conn_unref(xmppc_conn *conn);

/* ---- configuration (before connecting) ----------------------------------- */

/** The resource to bind; NULL lets the server choose (the default).
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE once connecting. @since 0.1 */
XMPPC_API int xmppc_conn_set_resource(xmppc_conn *conn, const char *resource);

/**
 * Connects to @p host : @p port instead of looking up SRV records (e.g.
 * "127.0.0.1", 5222). The certificate is still checked against the JID's
 * domain, never against @p host.
 * @param port 1..65535, or 0 for 5222 (5223 with direct TLS).
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE once connecting.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_server(xmppc_conn *conn, const char *host,
                                    unsigned int port);

/** With xmppc_conn_set_server(): use direct TLS (XEP-0368) instead of
 * STARTTLS. Without it: prefer `_xmpps-client` SRV records. @since 0.1 */
XMPPC_API int xmppc_conn_set_direct_tls(xmppc_conn *conn, int enabled);

/** The TLS policy (default XMPPC_TLS_REQUIRED). @since 0.1 */
XMPPC_API int xmppc_conn_set_tls_policy(xmppc_conn *conn,
                                        xmppc_tls_policy policy);

/**
 * Trusts the CA certificates in @p path (PEM) in addition to the system
 * trust store. Loaded once per process for all connections that name the
 * same file.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE once connecting.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_ca_file(xmppc_conn *conn, const char *path);

/**
 * Pins the server's public key: the SHA-256 of its SubjectPublicKeyInfo,
 * as 64 hex digits. A matching key is accepted even if the chain does not
 * verify; a different key is refused with XMPPC_ECERT. NULL removes it.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_spki_pin(xmppc_conn *conn, const char *sha256_hex);

/**
 * Gives the final word on the server certificate.
 * @param cb called during the handshake with the verification result:
 *        @p status is 0 when the chain and name verified, else
 *        XMPPC_ECERT with @p reason saying why; return 1 to accept, 0 to
 *        refuse. NULL removes the callback.
 * @since 0.1
 */
typedef int (*xmppc_cert_verify_cb)(xmppc_conn *conn, int status,
                                    const char *reason, void *userdata);
XMPPC_API int xmppc_conn_set_cert_verify_cb(xmppc_conn *conn,
                                            xmppc_cert_verify_cb cb,
                                            void *userdata);

/**
 * Logs in with a SCRAM key from xmppc_conn_get_scram_key() instead of the
 * password, so that an application need not store the password. The key
 * is used when the server still has the same salt and iteration count;
 * otherwise the password is needed (without one, authentication fails
 * with XMPPC_EAUTH). The key is as good as the password for logging in to
 * this server: store it as carefully.
 * @param key the string from xmppc_conn_get_scram_key() (copied; wiped on
 *        free), or NULL to forget it.
 * @return 0; XMPPC_EINVAL for a malformed key; XMPPC_ESTATE once
 *         connecting.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_scram_key(xmppc_conn *conn, const char *key);

/**
 * The SCRAM key of the last successful login (SCRAM's SaltedPassword with
 * its hash, salt and iteration count, as text), for
 * xmppc_conn_set_scram_key() on later logins.
 * @param[out] out the key (caller frees it with xmppc_free(); wipe it
 *             first if you can).
 * @return 0; XMPPC_ESTATE when no SCRAM login has succeeded yet (or it
 *         used PLAIN); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_get_scram_key(const xmppc_conn *conn, char **out);

/** Milliseconds from xmppc_conn_connect() to XMPPC_STATE_READY before the
 * attempt fails with XMPPC_ETIMEDOUT (default 30000). @since 0.1 */
XMPPC_API int xmppc_conn_set_connect_timeout(xmppc_conn *conn, unsigned int ms);

/** Default timeout of iq requests, in milliseconds (default 30000).
 * @since 0.1 */
XMPPC_API int xmppc_conn_set_iq_timeout(xmppc_conn *conn, unsigned int ms);

/**
 * The largest stanza accepted from the server after authentication, in
 * bytes (default 262144; before authentication the limit is 10000). A
 * bigger stanza ends the stream with a policy-violation error.
 * @return 0; XMPPC_EINVAL for 0 or above 8 MiB.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_max_stanza_bytes(xmppc_conn *conn, size_t bytes);

/**
 * Uses these DNS servers instead of the system's, as c-ares' CSV form:
 * "127.0.0.1:5353,[::1]:53".
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_dns_servers(xmppc_conn *conn, const char *servers);

/** This connection's log callback (see log.h); NULL falls back to the
 * process default. @since 0.1 */
XMPPC_API int xmppc_conn_set_log_cb(xmppc_conn *conn, xmppc_log_cb cb,
                                    void *userdata, xmppc_log_level max_level);

/** The state callback; NULL removes it. @since 0.1 */
XMPPC_API int xmppc_conn_set_state_cb(xmppc_conn *conn, xmppc_state_cb cb,
                                      void *userdata);

/* ---- state --------------------------------------------------------------- */

/**
 * Whether the server offered a stream feature, `<name xmlns='ns'/>` among
 * the `<stream:features/>` of this session after authentication: e.g.
 * "ver" in "urn:xmpp:features:rosterver" (roster versioning), "sub" in
 * "urn:xmpp:features:pre-approval", "sm" in "urn:xmpp:sm:3".
 * @return 1 or 0 (also for NULL arguments and unless ready).
 * @since 0.1
 */
XMPPC_API int xmppc_conn_has_stream_feature(const xmppc_conn *conn,
                                            const char *name, const char *ns);

/** The current state. @since 0.1 */
XMPPC_API xmppc_conn_state xmppc_conn_get_state(const xmppc_conn *conn);

/** The name of a state, e.g. "ready". @since 0.1 */
XMPPC_API const char *xmppc_conn_state_name(xmppc_conn_state state);

/** The account JID as configured (bare, prepared; borrowed). @since 0.1 */
XMPPC_API const char *xmppc_conn_get_jid(const xmppc_conn *conn);

/** The full JID bound by the server (borrowed), or NULL before
 * XMPPC_STATE_READY. @since 0.1 */
XMPPC_API const char *xmppc_conn_get_bound_jid(const xmppc_conn *conn);

/**
 * Why the last connection ended (borrowed; valid until the next connect),
 * or NULL while none ended with an error.
 * @since 0.1
 */
XMPPC_API const xmppc_error *xmppc_conn_get_error(const xmppc_conn *conn);

/* ---- connecting and disconnecting --------------------------------------- */

/**
 * Starts connecting; returns at once. Progress is reported through the
 * state callback; drive the connection with io.h or loop.h.
 * @return 0; XMPPC_ESTATE when not disconnected; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_connect(xmppc_conn *conn);

/**
 * Starts a graceful disconnect: queued stanzas are sent, then the stream
 * is closed and the server's close awaited (at most 5 s) before the
 * socket closes. Pending iq requests are canceled (XMPPC_ECANCELED). Not
 * connected yet: stops the attempt at once.
 * @return 0; XMPPC_ESTATE when already disconnected.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_disconnect(xmppc_conn *conn);

/* ---- sending ------------------------------------------------------------- */

/**
 * Queues a stanza. Stanzas queued in one loop turn leave together, in
 * order, in as few TLS records and writes as possible.
 * @param stanza borrowed (serialized at once; you keep your reference).
 * @return 0; XMPPC_ESTATE unless XMPPC_STATE_READY; XMPPC_ELIMIT when the
 *         send queue (1 MiB) is full; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_send(xmppc_conn *conn, xmppc_stanza *stanza);

/* ---- handlers and iq requests -------------------------------------------- */

/** A registered handler (see xmppc_conn_add_handler()). */
typedef struct xmppc_handler xmppc_handler;

/**
 * Registers a handler for incoming stanzas.
 *
 * @param[out] handle_out the handler's handle (caller owns it; release it
 *             with xmppc_handler_free()), or NULL for a floating handler
 *             that lives until it returns XMPPC_REMOVE or the connection
 *             is freed.
 * @param name "message", "presence", "iq", another top-level element name,
 *        or NULL for all.
 * @param type the `type` attribute to match, or NULL for any.
 * @param ns the namespace of a child element to match (e.g.
 *        "urn:xmpp:ping"), or NULL for any.
 * @param cb the handler; @p userdata is passed to it and to @p destroy.
 * @param destroy called once when the handler goes away (may be NULL).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_conn_add_handler(xmppc_conn *conn,
                                     xmppc_handler **handle_out,
                                     const char *name, const char *type,
                                     const char *ns, xmppc_stanza_cb cb,
                                     void *userdata, xmppc_destroy_cb destroy);

/** Removes a handler now (its destroy callback runs); safe inside any
 * callback; NULL-safe. The handle stays valid until xmppc_handler_free().
 * @since 0.1 */
XMPPC_API void xmppc_handler_remove(xmppc_handler *handle);

/** Removes the handler if still attached and frees the handle; works
 * whether or not the connection still exists. NULL-safe. @since 0.1 */
XMPPC_API void xmppc_handler_free(xmppc_handler *handle);

/**
 * Sends an iq get or set and reports its reply.
 *
 * The reply is matched on id and on the sender: from the request's `to`,
 * or, for requests to the own account or server, from the own bare JID,
 * the server or no `from` at all. Replies from anyone else are ignored.
 *
 * @param iq an iq of type "get" or "set" (borrowed; an id is generated if
 *        it has none).
 * @param timeout_ms 0 for the connection's iq timeout.
 * @param cb called exactly once (see ::xmppc_iq_reply_cb) if this
 *        returns 0, never otherwise.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless ready; XMPPC_ELIMIT (too
 *         many pending requests); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_send_iq(xmppc_conn *conn, xmppc_stanza *iq,
                                 unsigned int timeout_ms, xmppc_iq_reply_cb cb,
                                 void *userdata, xmppc_destroy_cb destroy);

/* ---- timers, closing with a reason, logging ------------------------------ */

/** A timer (see xmppc_conn_add_timer()). */
typedef struct xmppc_timer xmppc_timer;

/** Called when a timer fires, on the connection's thread. Scope: async. */
typedef void (*xmppc_timer_fire_cb)(xmppc_conn *conn, void *userdata);

/**
 * Calls @p cb once, @p delay_ms from now, from whatever drives the
 * connection (its timers are part of xmppc_conn_timeout_ms()). Feature
 * modules use this for keepalives and retries.
 * @param[out] handle_out the timer's handle (caller owns it; release it with
 *             xmppc_timer_free()), or NULL for a timer that just fires.
 * @param destroy called once after the timer fired, was canceled, or the
 *        connection was freed first (then @p cb never runs); may be NULL.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_conn_add_timer(xmppc_conn *conn, xmppc_timer **handle_out,
                                   unsigned int delay_ms,
                                   xmppc_timer_fire_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy);

/** Cancels a timer that has not fired yet (its destroy callback runs); safe
 * inside callbacks; NULL-safe. The handle stays valid until
 * xmppc_timer_free(). @since 0.1 */
XMPPC_API void xmppc_timer_cancel(xmppc_timer *timer);

/** Cancels the timer if still pending and frees the handle; works whether
 * or not the connection still exists. NULL-safe. @since 0.1 */
XMPPC_API void xmppc_timer_free(xmppc_timer *timer);

/**
 * Ends the connection now, without the graceful stream close, reporting
 * @p code and @p message as the reason (state callback and
 * xmppc_conn_get_error()); e.g. a keepalive that found the link dead.
 * @param code a negative ::xmppc_status.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE when already disconnected.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_close_with_error(xmppc_conn *conn, int code,
                                          const char *message);

/** Logs through the connection's log callback (or the process default);
 * for feature modules and applications. @since 0.1 */
XMPPC_API void xmppc_conn_log(xmppc_conn *conn, xmppc_log_level level,
                              const char *area, const char *message);

/** A state listener (see xmppc_conn_add_state_listener()). */
typedef struct xmppc_state_listener xmppc_state_listener;

/**
 * Adds a listener for state changes, called after the state callback with
 * the same arguments. Unlike the single state callback (the
 * application's), any number can be added: feature modules use them to
 * load the roster when the connection becomes ready, for instance.
 * @param[out] handle_out the listener's handle (caller owns it; release it
 *             with xmppc_state_listener_free()), or NULL for a listener
 *             that lives as long as the connection.
 * @param destroy called once when the listener is removed or the
 *        connection is freed (may be NULL).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (destroy is not called).
 * Scope: notified.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_add_state_listener(xmppc_conn *conn,
                                            xmppc_state_listener **handle_out,
                                            xmppc_state_cb cb, void *userdata,
                                            xmppc_destroy_cb destroy);

/** Removes a listener (its destroy callback runs); safe inside callbacks;
 * NULL-safe. The handle stays valid until xmppc_state_listener_free().
 * @since 0.1 */
XMPPC_API void xmppc_state_listener_remove(xmppc_state_listener *listener);

/** Removes the listener if still attached and frees the handle; works
 * whether or not the connection still exists. NULL-safe. @since 0.1 */
XMPPC_API void xmppc_state_listener_free(xmppc_state_listener *listener);

/* ---- per-connection data for feature modules ------------------------- */

/**
 * Attaches data to the connection under @p key (any unique address, e.g.
 * of a static variable of the module). Feature modules (roster, disco...)
 * keep their per-connection state this way, on the public API; so can an
 * application or a binding. Replaces (and destroys) data already under the
 * key; NULL @p data removes it.
 * @param destroy called once when the data is replaced, removed or the
 *        connection is freed (may be NULL).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_conn_attach(xmppc_conn *conn, const void *key, void *data,
                                xmppc_destroy_cb destroy);

/** The data attached under @p key, or NULL (borrowed). @since 0.1 */
XMPPC_API void *xmppc_conn_attached(const xmppc_conn *conn, const void *key);

XMPPC_END_DECLS

#endif /* XMPPC_CONN_H */
