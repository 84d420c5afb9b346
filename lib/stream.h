/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The XMPP client stream, sans-I/O: stream headers, STARTTLS, SASL,
 * resource binding and session, stream errors, then stanzas. Plaintext
 * bytes in (already decrypted), plaintext bytes out; TLS itself and the
 * socket belong to the connection (conn.c), which this module asks to start
 * TLS through a hook. Not installed.
 */
#ifndef XMPPC_STREAM_H
#define XMPPC_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "xmppc-private.h"
#include <xmppc/conn.h>

typedef struct xmppc__stream xmppc__stream;

typedef struct xmppc__stream_hooks {
    /* <proceed/> arrived: start TLS on the socket. The stream reads no more
     * plaintext (bytes after <proceed/> in the same read are dropped)
     * until xmppc__stream_tls_ready(). */
    void (*start_tls)(void *ud);
    /* TLS facts for SASL: 0 when TLS is not active, else 12 or 13. */
    int (*tls_version)(void *ud);
    /* Channel-binding data of the TLS session ("tls-exporter",
     * "tls-unique"); 0 and *data (free with xmppc_free) or negative. */
    int (*channel_binding)(void *ud, const char *type, unsigned char **data,
                           size_t *len);
    /* Negotiation advanced (SECURING, AUTHENTICATING, BINDING, READY). */
    void (*state)(void *ud, xmppc_conn_state state);
    /* A stanza arrived once ready (borrowed). */
    void (*stanza)(void *ud, xmppc_stanza *stanza);
    /* The stream is over: err is NULL when the server closed it after we
     * asked to close; otherwise it says why. Called once. */
    void (*closed)(void *ud, const xmppc_error *err);
} xmppc__stream_hooks;

typedef struct xmppc__stream_config {
    const char *local;    /* the account's localpart (authcid) */
    const char *domain;   /* the account's domain */
    const char *password; /* may be NULL with a cached SCRAM key */
    const char *resource; /* NULL: server-assigned */
    /* A SCRAM key from an earlier login (xmppc__stream_scram_key()), used
     * instead of the password when the server's salt and iterations match;
     * NULL for none. */
    const char *scram_key;
    bool tls_required;
    bool tls_active;         /* direct TLS: TLS is up before the first byte */
    size_t max_stanza_bytes; /* after authentication */
    const xmppc__logger *logger;
} xmppc__stream_config;

/* Strings in cfg are copied. */
int xmppc__stream_new(xmppc__stream **out, const xmppc__stream_config *cfg,
                      const xmppc__stream_hooks *hooks, void *ud);
void xmppc__stream_free(xmppc__stream *s);

/* Queues the opening stream header. */
int xmppc__stream_start(xmppc__stream *s);
/* Plaintext from the server; hooks run from inside. Returns 0 while the
 * stream goes on; once it has ended (closed has been called), the status it
 * failed with, or XMPPC_EDISCONNECTED after a clean close. */
int xmppc__stream_feed(xmppc__stream *s, const char *data, size_t len);
/* Plaintext waiting to be sent (consume what was written). */
xmppc__buf *xmppc__stream_output(xmppc__stream *s);
/* The TLS handshake after <proceed/> completed: restart the stream. */
int xmppc__stream_tls_ready(xmppc__stream *s);
/* Queues a stanza (ready state only). */
int xmppc__stream_send(xmppc__stream *s, const xmppc_stanza *stanza);
/* Queues </stream:stream>; closed(NULL) follows the server's close. */
int xmppc__stream_close(xmppc__stream *s);
/* Ends the stream with an error reported through closed (e.g. a socket
 * error or timeout seen by the connection). */
void xmppc__stream_fail(xmppc__stream *s, const xmppc_error *err);

bool xmppc__stream_is_ready(const xmppc__stream *s);
bool xmppc__stream_is_closed(const xmppc__stream *s);
/* After a SCRAM login: the key a later login can use instead of the
 * password ("scram-sha-1:ITERATIONS:SALT_B64:SALTED_PASSWORD_HEX"), else
 * NULL. As secret as the password. */
const char *xmppc__stream_scram_key(const xmppc__stream *s);
/* Checks the form of a SCRAM key string; 0 or XMPPC_EINVAL. */
int xmppc__stream_check_scram_key(const char *key);

/* The bound full JID once ready, else NULL. */
const char *xmppc__stream_bound_jid(const xmppc__stream *s);
/* The stream features offered after authentication; NULL unless ready. */
const xmppc_stanza *xmppc__stream_features(const xmppc__stream *s);

#endif /* XMPPC_STREAM_H */
