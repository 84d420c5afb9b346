/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The TLS client: GnuTLS over memory buffers. Sans-I/O: ciphertext from the
 * network goes in with xmppc__tls_feed(), ciphertext to send comes out of
 * xmppc__tls_outgoing(); nothing here touches a socket. Not installed.
 *
 * Policy (RFC 9325, RFC 7590): TLS 1.2 minimum, 1.3 preferred; ECDHE and
 * AEAD ciphers only (AES-GCM first), so no RSA key transport; no compression
 * (GnuTLS has none), no renegotiation (a server's HelloRequest is refused with
 * a no_renegotiation warning), no session tickets (nothing here resumes
 * sessions). The server certificate is checked during the handshake against the
 * trust store and the reference identity, which is always the JID domain given
 * in the config (never an SRV target).
 *
 * Driving: after every call, send whatever xmppc__tls_outgoing() holds (a
 * read can produce output too, e.g. a TLS 1.3 KeyUpdate reply or an alert).
 *
 * Threads: an xmppc__tls belongs to one thread at a time. Trust objects are
 * shared across threads; their cache is protected by a mutex.
 */
#ifndef XMPPC_TLS_H
#define XMPPC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "xmppc-private.h"

/* ---- process-wide trust ------------------------------------------------ */

/* Certificate credentials (trust anchors) plus the priority settings,
 * shared by every session that uses the same CA settings. Opaque. */
typedef struct xmppc__tls_trust xmppc__tls_trust;

/**
 * Gets the shared trust for (extra_ca_file, system_trust), loading it on
 * first use. Later calls with the same key return the same object with one
 * more reference, so the system store is read once per process however
 * many sessions use it (while at least one reference is held: the last
 * unref frees it, so a connection should keep its reference across
 * reconnects).
 *
 * @param out receives the trust; the caller owns one reference
 *        (xmppc__tls_trust_unref()). Untouched on failure.
 * @param extra_ca_file a PEM file of extra trust anchors, or NULL. Matched
 *        by its exact string, not by the file it names.
 * @param system_trust whether to load the system trust store. With neither
 *        a file nor the system store, nothing is trusted and only an SPKI
 *        pin or a verify callback can accept a certificate.
 * @return 0; XMPPC_EINVAL when the CA file cannot be read or holds no
 *         certificate (the message names the file); XMPPC_ENOMEM; XMPPC_ETLS
 *         when GnuTLS cannot set up credentials.
 * Thread-safety: any thread.
 */
int xmppc__tls_trust_get(xmppc__tls_trust **out, const char *extra_ca_file,
                         bool system_trust);

/** Adds a reference to @p trust and returns it (NULL stays NULL). */
xmppc__tls_trust *xmppc__tls_trust_ref(xmppc__tls_trust *trust);

/** Drops a reference. The process-wide cache keeps its own, so a trust
 * object, once loaded, lives until the process exits. NULL is a no-op. */
void xmppc__tls_trust_unref(xmppc__tls_trust *trust);

/* ---- the session ---------------------------------------------------------
 */

typedef struct xmppc__tls xmppc__tls;

/* One DER certificate, borrowed. */
typedef struct xmppc__tls_der {
    const unsigned char *data;
    size_t len;
} xmppc__tls_der;

/* What the verify callback is told about the server certificate. Every
 * pointer is borrowed for the duration of the call. */
typedef struct xmppc__tls_peer_info {
    /* gnutls_certificate_status_t bits from checking the chain against the
     * trust store and the reference name; 0 when both are fine. */
    unsigned int status;
    /* The library's own verdict: chain and name fine, or a matching SPKI
     * pin. The callback's return value replaces it. */
    bool accepted;
    bool pin_set;     /* an SPKI pin was configured */
    bool pin_matched; /* ...and the leaf's key matched it */
    /* Why the library would reject ("expired", "not valid for ..."), or
     * NULL when accepted is true. */
    const char *reason;
    const char *reference_name;  /* the name checked (the JID domain) */
    const xmppc__tls_der *chain; /* as sent by the server, leaf first */
    size_t chain_len;
} xmppc__tls_peer_info;

/* Decides about the server certificate during the handshake (called once,
 * from inside xmppc__tls_handshake(); it must not free the session).
 * Returns 1 to accept it and anything else to reject it (XMPPC_ECERT). */
typedef int (*xmppc__tls_verify_cb)(void *userdata,
                                    const xmppc__tls_peer_info *info);

typedef struct xmppc__tls_config {
    /* Trust to verify against; the session takes its own reference.
     * Required. */
    xmppc__tls_trust *trust;
    /* The JID domain: sent as SNI (unless it is an IP literal, e.g.
     * "127.0.0.1" or "[::1]") and the name the certificate must carry.
     * Copied. Required. */
    const char *reference_name;
    /* XEP-0368 direct TLS: offer ALPN "xmpp-client". */
    bool direct_tls;
    /* Test knob: negotiate at most TLS 1.2. */
    bool max_tls12;
    /* SHA-256 of the server's DER SubjectPublicKeyInfo (32 bytes), or NULL.
     * A match accepts the certificate whatever the chain and the name say;
     * a mismatch rejects it even when the chain is valid. Copied. */
    const unsigned char *spki_pin_sha256;
    /* Optional: sees every verification result and has the last word. */
    xmppc__tls_verify_cb verify_cb;
    void *verify_userdata;
    /* Where to log (area "tls"); borrowed, must outlive the session. NULL
     * logs to the process default. */
    const xmppc__logger *logger;
} xmppc__tls_config;

/**
 * Creates a client session ready to start its handshake.
 *
 * @param out receives the session; the caller owns it (xmppc__tls_free()).
 *        Untouched on failure.
 * @param cfg the configuration; copied, except the logger (borrowed).
 * @return 0; XMPPC_EINVAL for a missing trust or reference name;
 *         XMPPC_ENOMEM; XMPPC_ETLS when GnuTLS refuses a setting.
 */
int xmppc__tls_new(xmppc__tls **out, const xmppc__tls_config *cfg);

/** Frees the session (without sending close_notify; see xmppc__tls_bye()).
 * NULL is a no-op. */
void xmppc__tls_free(xmppc__tls *tls);

/**
 * Hands ciphertext received from the network to the session (copied).
 * Nothing is decrypted until xmppc__tls_handshake() or xmppc__tls_read().
 *
 * @return 0; XMPPC_ENOMEM; XMPPC_ESTATE after a fatal error.
 */
int xmppc__tls_feed(xmppc__tls *tls, const void *data, size_t len);

/**
 * Runs the handshake as far as the fed input allows. Call it first with no
 * input (it queues the ClientHello), send the outgoing bytes, and call it
 * again whenever more input has been fed, until it stops returning
 * XMPPC_EAGAIN.
 *
 * @return 0 once established (and on every later call); XMPPC_EAGAIN when
 *         it needs more input (send the outgoing bytes first);
 *         XMPPC_ECERT when the server certificate was not accepted (the
 *         message says why: expired, not yet valid, not trusted, self-
 *         signed, which name was expected, revoked, insecure algorithm,
 *         pin mismatch, rejected by the callback); XMPPC_ETLS for any other
 *         TLS failure (the message has GnuTLS's reason and the alert
 *         received, if any); XMPPC_ENOMEM. After a failure the outgoing
 *         buffer may hold an alert worth sending; the session is dead.
 */
int xmppc__tls_handshake(xmppc__tls *tls);

/**
 * Decrypts buffered input.
 *
 * @param buf receives plaintext.
 * @param cap its size (> 0); up to one record (16 KiB) is returned per call.
 * @return the number of plaintext bytes; 0 once the server sent
 *         close_notify; XMPPC_EAGAIN when no complete record is buffered;
 *         XMPPC_ESTATE before the handshake completed or after a fatal
 *         error; XMPPC_ETLS for a corrupt record or a fatal alert;
 *         XMPPC_EINVAL when cap is 0.
 */
ssize_t xmppc__tls_read(xmppc__tls *tls, void *buf, size_t cap);

/**
 * Queues plaintext (copied). Records are corked: nothing reaches the
 * outgoing buffer until xmppc__tls_flush(), so many small writes leave as a
 * few records of up to 16 KiB (1000 writes of 250 bytes: 16 records).
 *
 * @return 0 (all of @p data was taken); XMPPC_ESTATE before the handshake
 *         completed, after xmppc__tls_bye() or after a fatal error;
 *         XMPPC_ENOMEM.
 */
int xmppc__tls_write(xmppc__tls *tls, const void *data, size_t len);

/**
 * Seals everything written since the last flush into records and appends
 * them to the outgoing buffer.
 *
 * @return 0 (also when there was nothing to flush, or before the
 *         handshake completed); XMPPC_ESTATE after a fatal error;
 *         XMPPC_ETLS or XMPPC_ENOMEM on failure (the session is then dead).
 */
int xmppc__tls_flush(xmppc__tls *tls);

/**
 * The ciphertext waiting to be sent, borrowed. The caller sends from
 * ->data/->len and drops what left with xmppc__buf_consume(). Never NULL.
 */
xmppc__buf *xmppc__tls_outgoing(xmppc__tls *tls);

/**
 * Flushes pending writes and queues close_notify. Reading still works (the
 * server's close_notify then reads as 0); writing does not.
 *
 * @return 0 (also when already done); XMPPC_ESTATE before the handshake
 *         completed; XMPPC_ETLS or XMPPC_ENOMEM.
 */
int xmppc__tls_bye(xmppc__tls *tls);

/**
 * Channel binding data for SCRAM-*-PLUS.
 *
 * @param type "tls-exporter" (RFC 9266: TLS 1.3, or TLS 1.2 with the
 *        extended master secret), "tls-unique" (RFC 5929: TLS 1.2 only,
 *        and only with the extended master secret, RFC 7627) or
 *        "tls-server-end-point" (RFC 5929).
 * @param data_out receives the bytes; the caller frees them with
 *        xmppc_free(). Untouched on failure.
 * @param len_out receives their length.
 * @return 0; XMPPC_ESTATE before the handshake completed; XMPPC_ENOTSUP
 *         for an unknown type or one not defined for the negotiated
 *         version (tls-unique on TLS 1.3); XMPPC_ETLS; XMPPC_ENOMEM.
 * (Out-parameters last, unlike the house order, to keep the signature the
 * SASL module was specified against.)
 */
int xmppc__tls_channel_binding(xmppc__tls *tls, const char *type,
                               unsigned char **data_out, size_t *len_out);

/** The negotiated version, "TLS1.3" or "TLS1.2" (static), or NULL before
 * the handshake completed. */
const char *xmppc__tls_version(const xmppc__tls *tls);

/** The ALPN protocol the server selected ("xmpp-client", static), or NULL
 * when none was negotiated. */
const char *xmppc__tls_alpn(const xmppc__tls *tls);

/** Whether the session was resumed. Always false for now: sessions are
 * not resumed (no tickets are requested). */
bool xmppc__tls_resumed(const xmppc__tls *tls);

#endif /* XMPPC_TLS_H */
