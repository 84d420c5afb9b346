/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The SASL client (RFC 6120 §6): mechanism choice, SCRAM (RFC 5802,
 * RFC 7677) with channel binding (RFC 5929 tls-unique, RFC 9266
 * tls-exporter, XEP-0440 type choice) and PLAIN, on libgsasl. Sans-I/O:
 * base64 text from <challenge/> and <success/> goes in, base64 text for
 * <auth/> and <response/> comes out. Not installed.
 *
 * One xmppc__sasl per authentication attempt:
 *
 *   xmppc__sasl_new(&s, &cfg);
 *   xmppc__sasl_choose(s, offered, n, &tls, &mech);  <auth mechanism=mech>
 *   cb = xmppc__sasl_channel_binding(s);             data for -PLUS, if any
 *   xmppc__sasl_start(s, cb_data, cb_len, &initial); <auth>initial</auth>
 *   <challenge>: xmppc__sasl_step(s, text, &resp);   <response>resp
 *   <success>:   xmppc__sasl_success(s, text);       0: authenticated
 *   <failure>:   xmppc__sasl_failure(s, condition, text);
 *   xmppc__sasl_get_cached_key(s, &key);             optional, after success
 *   xmppc__sasl_free(s);
 *
 * A failed start, step, success or failure call ends the attempt: later
 * calls return XMPPC_ESTATE. (NULL arguments, XMPPC_ESTATE itself and a
 * failed choice do not.) Nothing here logs a secret: the "sasl" area gets the
 * chosen mechanism and channel-binding type at debug level, never payloads.
 *
 * Threads: an xmppc__sasl belongs to one thread at a time; different
 * objects may be used on different threads at once.
 */
#ifndef XMPPC_SASL_H
#define XMPPC_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "xmppc-private.h"

typedef struct xmppc__sasl xmppc__sasl;

/* SCRAM hash functions. */
typedef enum xmppc__sasl_hash {
    XMPPC__SASL_HASH_NONE = 0,
    XMPPC__SASL_HASH_SHA1 = 1,  /* SCRAM-SHA-1[-PLUS] */
    XMPPC__SASL_HASH_SHA256 = 2 /* SCRAM-SHA-256[-PLUS] */
} xmppc__sasl_hash;

/* Channel-binding types, usable as bit flags. */
typedef enum xmppc__sasl_cb {
    XMPPC__SASL_CB_NONE = 0,
    XMPPC__SASL_CB_TLS_UNIQUE = 1 << 0,  /* RFC 5929; TLS 1.2 only */
    XMPPC__SASL_CB_TLS_EXPORTER = 1 << 1 /* RFC 9266 */
} xmppc__sasl_cb;

/* What a later login needs instead of the password: SCRAM's SaltedPassword
 * (RFC 5802 §3) with the salt and iteration count it was computed for. As
 * good as the password for logging in to this server, so store it like one.
 */
typedef struct xmppc__sasl_cached_key {
    xmppc__sasl_hash hash;
    char *salt_b64;          /* as the server sent it; owned */
    unsigned int iterations; /* as the server sent it */
    /* Lowercase hex: 40 digits for SHA-1, 64 for SHA-256, then NUL. */
    char salted_password_hex[2 * 32 + 1];
} xmppc__sasl_cached_key;

typedef struct xmppc__sasl_config {
    /* Authentication identity: the JID localpart. Copied. Required. */
    const char *authcid;
    /* The password, or NULL when cached_key is given. Copied, and the copy
     * is wiped when no longer needed. */
    const char *password;
    /* A key from xmppc__sasl_get_cached_key(), or NULL. Copied. Used when
     * the server's salt and iteration count match it; otherwise the
     * password is used, and without a password authentication fails with
     * XMPPC_EAUTH. Restricts SCRAM to the key's hash and rules out PLAIN
     * unless a password is given too. */
    const xmppc__sasl_cached_key *cached_key;
    /* Authorization identity, normally NULL (act as authcid). Copied. */
    const char *authzid;
    /* Allow PLAIN as a last resort. Even then it is used only over TLS:
     * never in the clear. */
    bool allow_plain;
    /* Accepted SCRAM iteration counts; 0 means the default (4096 and
     * 1000000). Fewer makes stolen exchanges cheap to brute-force; many
     * more is a CPU denial of service by a hostile server. */
    unsigned int min_iterations;
    unsigned int max_iterations;
    /* Where to log (borrowed; must outlive the object), or NULL for the
     * process default. */
    const xmppc__logger *logger;
} xmppc__sasl_config;

/* What the TLS layer says about the channel, for xmppc__sasl_choose(). */
typedef struct xmppc__sasl_tls_info {
    bool active; /* TLS is established */
    /* Negotiated version: 12 for TLS 1.2, 13 for TLS 1.3. */
    int version;
    /* xmppc__sasl_cb flags: which channel-binding data the caller can
     * produce for this session (e.g. tls-exporter on TLS 1.3, or on TLS 1.2
     * with the extended master secret). */
    unsigned int cb_available;
    /* XEP-0440 <sasl-channel-binding/>: the types the server listed, in its
     * order, or NULL when the feature was absent. An empty list (non-NULL,
     * n_server_cb_types == 0) means the feature was present but empty. */
    const char *const *server_cb_types;
    size_t n_server_cb_types;
} xmppc__sasl_tls_info;

/**
 * Creates a SASL client for one authentication attempt.
 *
 * @param out receives the object (free with xmppc__sasl_free()); untouched
 *        on failure.
 * @param cfg settings; strings are copied.
 * @return 0; XMPPC_EINVAL when authcid is missing or empty, when neither a
 *         password nor a cached key is given, when the password fails
 *         SASLprep (RFC 4013), when the cached key is malformed, or when
 *         min_iterations > max_iterations; XMPPC_ENOMEM;
 *         XMPPC_ERROR when libgsasl cannot be initialised.
 */
int xmppc__sasl_new(xmppc__sasl **out, const xmppc__sasl_config *cfg);

/** Wipes the secrets and frees @p sasl. NULL is a no-op. */
void xmppc__sasl_free(xmppc__sasl *sasl);

/**
 * Picks a mechanism from the server's <mechanisms/>.
 *
 * Preference: SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256,
 * SCRAM-SHA-1, PLAIN (only over TLS and with allow_plain). -PLUS needs a
 * channel-binding type: with XEP-0440, the first type in the server's list
 * that we can provide (tls-exporter; tls-unique only on TLS 1.2); without
 * it, tls-unique on TLS 1.2 and none on TLS 1.3 (servers without XEP-0440
 * may not know tls-exporter). When we have a type but the server offers no
 * -PLUS mechanism at all, SCRAM says so with gs2 flag 'y', so that a server
 * that does support channel binding fails a stripped-down exchange; when
 * the server offers -PLUS but we cannot use it, the flag is 'n'.
 *
 * May be called again before xmppc__sasl_start().
 *
 * @param offered mechanism names as the server sent them; @p n_offered of
 *        them (NULL when 0). Unknown names are ignored.
 * @param tls the channel, or NULL for no TLS.
 * @param mech_out receives the mechanism name (static storage).
 * @return 0; XMPPC_EAUTH when nothing acceptable is offered (the message
 *         lists what was); XMPPC_EINVAL; XMPPC_ESTATE after start.
 */
int xmppc__sasl_choose(xmppc__sasl *sasl, const char *const *offered,
                       size_t n_offered, const xmppc__sasl_tls_info *tls,
                       const char **mech_out);

/** The mechanism chosen, or NULL before xmppc__sasl_choose() succeeded. */
const char *xmppc__sasl_mechanism(const xmppc__sasl *sasl);

/**
 * The channel-binding type whose data xmppc__sasl_start() needs: set only
 * when a -PLUS mechanism was chosen, XMPPC__SASL_CB_NONE otherwise (then no
 * data is needed or used).
 */
xmppc__sasl_cb xmppc__sasl_channel_binding(const xmppc__sasl *sasl);

/** The RFC name of a channel-binding type ("tls-unique", "tls-exporter"),
 * or NULL for XMPPC__SASL_CB_NONE and unknown values. Static storage. */
const char *xmppc__sasl_cb_name(xmppc__sasl_cb type);

/**
 * Starts the exchange and produces the initial response.
 *
 * @param cb_data channel-binding data of the type
 *        xmppc__sasl_channel_binding() names, @p cb_len bytes; required
 *        (non-empty) for -PLUS, ignored otherwise.
 * @param initial_b64_out receives the base64 text for <auth/>, "=" when the
 *        response is empty (RFC 6120 §6.4.2). Contains the password for
 *        PLAIN: free it with xmppc__free_secret().
 * @return 0; XMPPC_ESTATE unless a mechanism was chosen and the exchange
 *         not started; XMPPC_EINVAL when -PLUS data is missing or the
 *         username fails SASLprep; XMPPC_ENOMEM; XMPPC_EAUTH.
 */
int xmppc__sasl_start(xmppc__sasl *sasl, const unsigned char *cb_data,
                      size_t cb_len, char **initial_b64_out);

/**
 * Answers a <challenge/>.
 *
 * The first SCRAM challenge (server-first-message) is checked before use:
 * the nonce must extend our client nonce, the salt must be valid base64
 * and the iteration count within the configured range. A second challenge
 * may carry the server signature (v=), which is then verified.
 *
 * @param challenge_b64 the element's text; NULL, "" and "=" mean empty.
 * @param response_b64_out receives the base64 text for <response/> ("" for
 *        an empty response). Free it with xmppc__free_secret().
 * @return 0; XMPPC_EPROTO for malformed or unexpected challenges;
 *         XMPPC_EAUTH when a check fails (wrong nonce prefix, too few or
 *         too many iterations, wrong server signature, server error e=, a
 *         cached key that does not fit); XMPPC_ESTATE; XMPPC_ENOMEM.
 */
int xmppc__sasl_step(xmppc__sasl *sasl, const char *challenge_b64,
                     char **response_b64_out);

/**
 * Handles <success/>. For SCRAM, authentication counts only when the server
 * proved it knows the password: its signature (v=), in this element's data
 * or in an earlier challenge, must have been verified.
 *
 * @param additional_b64 the element's text, or NULL (also "" or "=") when
 *        it had none.
 * @return 0 when authenticated; XMPPC_EAUTH when the server signature is
 *         missing or wrong (the server may be an impostor; do not proceed);
 *         XMPPC_ESTATE; XMPPC_ENOMEM.
 */
int xmppc__sasl_success(xmppc__sasl *sasl, const char *additional_b64);

/**
 * Handles <failure/> (RFC 6120 §6.5): sets the thread's last error (with
 * the condition and text) and returns its code.
 *
 * @param sasl the attempt, which becomes failed; may be NULL.
 * @param condition the defined condition's element name, or NULL.
 * @param text the <text/> content, or NULL.
 * @return XMPPC_EAUTH for not-authorized, credentials-expired,
 *         account-disabled and everything else except: encryption-required
 *         → XMPPC_ETLS; temporary-auth-failure → XMPPC_EAGAIN.
 */
int xmppc__sasl_failure(xmppc__sasl *sasl, const char *condition,
                        const char *text);

/**
 * After a successful SCRAM authentication, the key a later login can use
 * instead of the password (xmppc__sasl_config.cached_key).
 *
 * @param out filled in; the caller owns it and releases it with
 *        xmppc__sasl_cached_key_clear(). Untouched on failure.
 * @return 0; XMPPC_ESTATE unless SCRAM succeeded; XMPPC_ENOMEM.
 */
int xmppc__sasl_get_cached_key(const xmppc__sasl *sasl,
                               xmppc__sasl_cached_key *out);

/** Wipes and frees what @p key holds and zeroes it. NULL is a no-op. */
void xmppc__sasl_cached_key_clear(xmppc__sasl_cached_key *key);

#endif /* XMPPC_SASL_H */
