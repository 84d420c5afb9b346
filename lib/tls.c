/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * TLS client on GnuTLS with a memory transport: GnuTLS pulls ciphertext
 * from tls->in and pushes it to tls->out; the caller moves those bytes to
 * and from the network. See tls.h for the policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls.h"

/* TLS 1.3 then 1.2; ECDHE only (no RSA key transport, no finite-field DH
 * in 1.2); AEAD ciphers only, AES-GCM first; no SHA-1 handshake
 * signatures. GnuTLS has no TLS compression at all. */
#define PRIO_COMMON                                                            \
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"                                         \
    ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305"                \
    ":-MAC-ALL:+AEAD:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1"
#define PRIO_DEFAULT "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" PRIO_COMMON
#define PRIO_TLS12 "NORMAL:-VERS-ALL:+VERS-TLS1.2" PRIO_COMMON

#define ALPN_XMPP_CLIENT "xmpp-client"
#define PIN_LEN 32
/* Buffers emptied by the peer or the caller are released above this size
 * so that an idle session keeps little memory. */
#define IDLE_BUF_KEEP 4096

/* ---- process-wide trust cache ------------------------------------------- */

struct xmppc__tls_trust {
    xmppc__tls_trust *next; /* in the cache */
    unsigned long refs;     /* under trust_lock */
    char *ca_file;          /* key part 1, may be NULL */
    bool system_trust;      /* key part 2 */
    int system_count;       /* anchors read from the system store */
    int system_error;       /* why none could be read, or 0 */
    gnutls_certificate_credentials_t creds;
    gnutls_priority_t prio;       /* default policy */
    gnutls_priority_t prio_tls12; /* max_tls12 */
};

static pthread_mutex_t trust_lock = PTHREAD_MUTEX_INITIALIZER;
static xmppc__tls_trust *trust_cache;

static void trust_destroy(xmppc__tls_trust *t)
{
    if (t->prio)
        gnutls_priority_deinit(t->prio);
    if (t->prio_tls12)
        gnutls_priority_deinit(t->prio_tls12);
    if (t->creds)
        gnutls_certificate_free_credentials(t->creds);
    free(t->ca_file);
    free(t);
}

static bool same_key(const xmppc__tls_trust *t, const char *ca_file,
                     bool system_trust)
{
    if (t->system_trust != system_trust)
        return false;
    if (!t->ca_file || !ca_file)
        return t->ca_file == ca_file;
    return strcmp(t->ca_file, ca_file) == 0;
}

/* Builds a trust object; called with trust_lock held so that concurrent
 * first users load the store once.
 *
 * Trust objects stay cached for the life of the process (loading the system
 * store costs ~7 ms of CPU; a program that connects, frees and connects
 * again must not pay it each time). Being process-wide, they come from the
 * C library, not from the replaceable allocator of xmppc_set_allocator(). */
static int trust_load(xmppc__tls_trust **out, const char *ca_file,
                      bool system_trust)
{
    xmppc__tls_trust *t = calloc(1, sizeof *t);
    if (!t)
        return xmppc__error(XMPPC_ENOMEM, "out of memory");
    t->refs = 2; /* the caller's and the cache's */
    t->system_trust = system_trust;
    if (ca_file && !(t->ca_file = strdup(ca_file))) {
        trust_destroy(t);
        return xmppc__error(XMPPC_ENOMEM, "out of memory");
    }
    int rc = gnutls_certificate_allocate_credentials(&t->creds);
    if (rc < 0) {
        t->creds = NULL;
        trust_destroy(t);
        return xmppc__error(
            rc == GNUTLS_E_MEMORY_ERROR ? XMPPC_ENOMEM : XMPPC_ETLS,
            "TLS: cannot allocate credentials: %s", gnutls_strerror(rc));
    }
    const char *err_pos = NULL;
    if ((rc = gnutls_priority_init(&t->prio, PRIO_DEFAULT, &err_pos)) < 0 ||
        (rc = gnutls_priority_init(&t->prio_tls12, PRIO_TLS12, &err_pos)) < 0) {
        trust_destroy(t);
        return xmppc__error(XMPPC_ETLS, "TLS: bad priority string at '%s': %s",
                            err_pos ? err_pos : "?", gnutls_strerror(rc));
    }
    if (ca_file) {
        rc = gnutls_certificate_set_x509_trust_file(t->creds, ca_file,
                                                    GNUTLS_X509_FMT_PEM);
        if (rc <= 0) {
            trust_destroy(t);
            return xmppc__error(
                XMPPC_EINVAL, "TLS: cannot load CA file '%s': %s", ca_file,
                rc == 0 ? "no certificate in it" : gnutls_strerror(rc));
        }
    }
    if (system_trust) {
        /* A missing store is not fatal: a pin or a callback may still
         * accept, and a refused certificate then says the store is empty.
         * (Logged by the caller, outside the lock.) */
        rc = gnutls_certificate_set_x509_system_trust(t->creds);
        t->system_count = rc > 0 ? rc : 0;
        t->system_error = rc < 0 ? rc : 0;
    }
    *out = t;
    return 0;
}

int xmppc__tls_trust_get(xmppc__tls_trust **out, const char *extra_ca_file,
                         bool system_trust)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "TLS: no place for the trust");
    pthread_mutex_lock(&trust_lock);
    for (xmppc__tls_trust *t = trust_cache; t; t = t->next) {
        if (same_key(t, extra_ca_file, system_trust)) {
            t->refs++;
            pthread_mutex_unlock(&trust_lock);
            *out = t;
            return 0;
        }
    }
    xmppc__tls_trust *t = NULL;
    int rc = trust_load(&t, extra_ca_file, system_trust);
    if (rc == 0 && t) {
        t->next = trust_cache;
        trust_cache = t;
        *out = t;
    }
    pthread_mutex_unlock(&trust_lock);
    if (rc == 0 && t && system_trust) { /* no user callback under the lock */
        if (t->system_count > 0)
            xmppc__log(NULL, XMPPC_LOG_DEBUG, "tls",
                       "loaded %d system trust anchors", t->system_count);
        else
            xmppc__log(NULL, XMPPC_LOG_WARN, "tls",
                       "no system trust anchors loaded: %s",
                       t->system_error ? gnutls_strerror(t->system_error)
                                       : "the store is empty");
    }
    return rc;
}

xmppc__tls_trust *xmppc__tls_trust_ref(xmppc__tls_trust *trust)
{
    if (trust) {
        pthread_mutex_lock(&trust_lock);
        trust->refs++;
        pthread_mutex_unlock(&trust_lock);
    }
    return trust;
}

void xmppc__tls_trust_unref(xmppc__tls_trust *trust)
{
    if (!trust)
        return;
    pthread_mutex_lock(&trust_lock);
    bool last = --trust->refs == 0;
    if (last) {
        for (xmppc__tls_trust **p = &trust_cache; *p; p = &(*p)->next) {
            if (*p == trust) {
                *p = trust->next;
                break;
            }
        }
    }
    pthread_mutex_unlock(&trust_lock);
    if (last)
        trust_destroy(trust);
}

/* ---- session ------------------------------------------------------------ */

enum tls_state { TLS_HANDSHAKE, TLS_OPEN, TLS_FAILED };

struct xmppc__tls {
    gnutls_session_t session;
    xmppc__tls_trust *trust;
    const xmppc__logger *logger;
    char *reference_name; /* as configured, for messages */
    char *check_name;     /* the A-label or unbracketed form, or NULL */
    xmppc__tls_verify_cb verify_cb;
    void *verify_userdata;
    char *cert_error; /* why the certificate was refused, set in-handshake */
    const char *alpn; /* static string, when negotiated */
    xmppc__buf in;    /* ciphertext fed, not yet pulled by GnuTLS */
    size_t in_off;    /* how much of it GnuTLS has pulled */
    xmppc__buf out;   /* ciphertext for the network */
    /* Plaintext written but not yet sealed: our own cork. gnutls_record_cork
     * would do the same but keeps its buffer at the high-water mark for the
     * session's life (+250 KB per session after one 250 KB burst). */
    xmppc__buf plain;
    enum tls_state state;
    bool cert_rejected;
    bool push_failed; /* out of memory in the push callback */
    bool peer_closed; /* close_notify received */
    bool bye_sent;
    bool has_pin;
    unsigned char pin[PIN_LEN];
};

/* A session that ran out of memory mid-record cannot continue: the record
 * sequence is broken. */
static ssize_t vec_push(gnutls_transport_ptr_t ptr, const giovec_t *iov,
                        int iovcnt)
{
    xmppc__tls *tls = ptr;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    if (xmppc__buf_reserve(&tls->out, total) < 0) {
        tls->push_failed = true;
        gnutls_transport_set_errno(tls->session, ENOMEM);
        return -1;
    }
    for (int i = 0; i < iovcnt; i++)
        xmppc__buf_append(&tls->out, iov[i].iov_base, iov[i].iov_len);
    return (ssize_t)total;
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *data, size_t size)
{
    xmppc__tls *tls = ptr;
    size_t avail = tls->in.len - tls->in_off;
    if (avail == 0) {
        gnutls_transport_set_errno(tls->session, EAGAIN);
        return -1;
    }
    size_t n = size < avail ? size : avail;
    memcpy(data, tls->in.data + tls->in_off, n);
    tls->in_off += n;
    if (tls->in_off == tls->in.len)
        tls->in.len = tls->in_off = 0; /* empty: restart at the front */
    return (ssize_t)n;
}

/* GnuTLS asks this instead of polling a socket; the answer is immediate. */
static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    xmppc__tls *tls = ptr;
    (void)ms;
    return tls->in.len > tls->in_off ? 1 : 0;
}

/* Gives back big buffers once they are empty (idle sessions stay small). */
static void trim_buffers(xmppc__tls *tls)
{
    if (tls->in.len == 0 && tls->in.cap > IDLE_BUF_KEEP)
        xmppc__buf_free(&tls->in), tls->in_off = 0;
    if (tls->out.len == 0 && tls->out.cap > IDLE_BUF_KEEP)
        xmppc__buf_free(&tls->out);
}

/* The form of the reference name that goes on the wire and is matched
 * against the certificate: "[v6]" loses its brackets, a Unicode domain
 * becomes its IDNA A-label (SNI is ASCII; so are certificate names).
 * *check_out is NULL when the name is used as is. */
static int prepare_name(const char *name, bool *is_ip, char **check_out)
{
    unsigned char addr[16];
    size_t len = strlen(name);
    *check_out = NULL;
    *is_ip = false;
    if (len > 2 && name[0] == '[' && name[len - 1] == ']') {
        char *inner = xmppc__strndup(name + 1, len - 2);
        if (!inner)
            return XMPPC_ENOMEM;
        if (inet_pton(AF_INET6, inner, addr) == 1) {
            *is_ip = true;
            *check_out = inner;
            return 0;
        }
        xmppc__free(inner);
        return xmppc__error(XMPPC_EINVAL, "TLS: '%s' is not an IPv6 literal",
                            name);
    }
    if (inet_pton(AF_INET, name, addr) == 1 ||
        inet_pton(AF_INET6, name, addr) == 1) {
        *is_ip = true;
        return 0;
    }
    bool ascii = true;
    for (const char *p = name; *p; p++)
        ascii = ascii && (unsigned char)*p < 0x80;
    if (ascii)
        return 0;
    gnutls_datum_t ace = {NULL, 0};
    int rc = gnutls_idna_map(name, (unsigned int)len, &ace, 0);
    if (rc < 0)
        return xmppc__error(XMPPC_EINVAL,
                            "TLS: '%s' has no IDNA A-label form: %s", name,
                            gnutls_strerror(rc));
    *check_out = xmppc__strndup((const char *)ace.data, ace.size);
    gnutls_free(ace.data);
    return *check_out ? 0 : XMPPC_ENOMEM;
}

/* ---- certificate verification ------------------------------------------ */

/* A bounded text: appends are truncated, never overflow. */
typedef struct text {
    char *s;
    size_t cap, len;
} text;

static void text_add(text *t, const char *fmt, ...) XMPPC_PRINTF(2, 3);

static void text_add(text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n < t->cap - t->len ? (size_t)n : t->cap - t->len - 1;
}

/* Names come from the peer: keep them short and printable in messages. */
static void text_add_name(text *t, const char *name, size_t len)
{
    char clean[72];
    size_t n = len < sizeof clean - 4 ? len : sizeof clean - 4;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        clean[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n < len)
        memcpy(clean + n, "...", 3), n += 3;
    clean[n] = '\0';
    text_add(t, "%s", clean);
}

/* Lists the DNS and IP names of the leaf (or its CN when it has none), so
 * that a name mismatch says what the server presented. */
static void text_add_cert_names(text *t, gnutls_x509_crt_t leaf)
{
    char name[256];
    int shown = 0;
    for (unsigned int i = 0; shown < 4; i++) {
        size_t size = sizeof name - 1;
        unsigned int critical = 0;
        int type = gnutls_x509_crt_get_subject_alt_name(leaf, i, name, &size,
                                                        &critical);
        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue;
        if (type < 0)
            break;
        char ip[INET6_ADDRSTRLEN];
        if (type == GNUTLS_SAN_DNSNAME) {
            text_add(t, shown++ ? ", " : "");
            text_add_name(t, name, size);
        } else if (type == GNUTLS_SAN_IPADDRESS && (size == 4 || size == 16) &&
                   inet_ntop(size == 4 ? AF_INET : AF_INET6, name, ip,
                             sizeof ip)) {
            text_add(t, "%s%s", shown++ ? ", " : "", ip);
        }
    }
    if (shown == 0) {
        size_t size = sizeof name - 1;
        if (gnutls_x509_crt_get_dn_by_oid(leaf, GNUTLS_OID_X520_COMMON_NAME, 0,
                                          0, name, &size) >= 0) {
            text_add(t, "CN ");
            text_add_name(t, name, size);
        } else {
            text_add(t, "none");
        }
    }
}

static void describe_status(text *t, const xmppc__tls *tls, unsigned int status,
                            gnutls_x509_crt_t leaf, unsigned int chain_len)
{
    size_t start = t->len;
#define SEP (t->len > start ? ", " : "")
    if (status & GNUTLS_CERT_UNEXPECTED_OWNER) {
        text_add(t, "%snot valid for '%s' (it is for: ", SEP,
                 tls->reference_name);
        if (leaf)
            text_add_cert_names(t, leaf);
        text_add(t, ")");
    }
    if (status & GNUTLS_CERT_EXPIRED)
        text_add(t, "%sexpired", SEP);
    if (status & GNUTLS_CERT_NOT_ACTIVATED)
        text_add(t, "%snot yet valid", SEP);
    if (status & GNUTLS_CERT_REVOKED)
        text_add(t, "%srevoked", SEP);
    if (status & GNUTLS_CERT_SIGNER_NOT_FOUND) {
        if (leaf && chain_len == 1 && gnutls_x509_crt_check_issuer(leaf, leaf))
            text_add(t, "%sself-signed, not trusted", SEP);
        else
            text_add(t, "%sunknown issuer, not trusted", SEP);
        if (tls->trust->system_trust && tls->trust->system_count == 0)
            text_add(t, " (the system trust store is empty)");
        else if (!tls->trust->system_trust && !tls->trust->ca_file)
            text_add(t, " (no trust anchors configured)");
    }
    if (status & GNUTLS_CERT_SIGNER_NOT_CA)
        text_add(t, "%sissuer is not a CA", SEP);
    if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
        text_add(t, "%ssigned with an insecure algorithm", SEP);
    if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
        text_add(t, "%sbad signature", SEP);
    if (status & GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE)
        text_add(t, "%sviolates its issuer's constraints", SEP);
    if (status & GNUTLS_CERT_PURPOSE_MISMATCH)
        text_add(t, "%snot for TLS servers", SEP);
    if (status & GNUTLS_CERT_UNKNOWN_CRIT_EXTENSIONS)
        text_add(t, "%sunknown critical extension", SEP);
    if (status &
        (GNUTLS_CERT_MISSING_OCSP_STATUS | GNUTLS_CERT_INVALID_OCSP_STATUS |
         GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
         GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE))
        text_add(t, "%srevocation status missing or invalid", SEP);
    if (t->len == start)
        text_add(t, "invalid (status 0x%x)", status);
#undef SEP
}

/* SHA-256 of the DER SubjectPublicKeyInfo (the HPKP / DANE SPKI pin). */
static int spki_sha256(gnutls_x509_crt_t crt, unsigned char digest[PIN_LEN])
{
    gnutls_pubkey_t pub = NULL;
    gnutls_datum_t spki = {NULL, 0};
    int rc = gnutls_pubkey_init(&pub);
    if (rc < 0)
        return rc;
    rc = gnutls_pubkey_import_x509(pub, crt, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki);
    if (rc >= 0)
        rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest);
    gnutls_free(spki.data);
    gnutls_pubkey_deinit(pub);
    return rc;
}

#define MAX_CHAIN_INFO 16

/* Runs inside gnutls_handshake() right after the server's certificate
 * arrives, so a refused server never sees our Finished. Non-zero aborts. */
static int verify_peer(gnutls_session_t session)
{
    xmppc__tls *tls = gnutls_session_get_ptr(session);
    char why_buf[640] = "";
    text why = {why_buf, sizeof why_buf, 0};
    unsigned int status = 0, n = 0;
    gnutls_x509_crt_t leaf = NULL;
    bool pin_matched = false;

    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
    if (!certs || n == 0 ||
        gnutls_certificate_type_get(session) != GNUTLS_CRT_X509) {
        n = 0;
        status = GNUTLS_CERT_INVALID;
        text_add(&why, "no X.509 certificate");
    } else {
        const char *name =
            tls->check_name ? tls->check_name : tls->reference_name;
        gnutls_typed_vdata_st vdata[2] = {
            {GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)name, 0},
            {GNUTLS_DT_KEY_PURPOSE_OID,
             (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0}};
        int rc = gnutls_certificate_verify_peers(session, vdata, 2, &status);
        if (gnutls_x509_crt_init(&leaf) < 0)
            leaf = NULL;
        else if (gnutls_x509_crt_import(leaf, &certs[0], GNUTLS_X509_FMT_DER) <
                 0)
            gnutls_x509_crt_deinit(leaf), leaf = NULL;
        if (rc < 0) {
            status |= GNUTLS_CERT_INVALID;
            text_add(&why, "cannot be verified: %s", gnutls_strerror(rc));
        } else if (status) {
            describe_status(&why, tls, status, leaf, n);
        }
        unsigned char digest[PIN_LEN];
        if (tls->has_pin && leaf && spki_sha256(leaf, digest) >= 0)
            pin_matched = memcmp(digest, tls->pin, PIN_LEN) == 0;
    }
    if (leaf)
        gnutls_x509_crt_deinit(leaf);

    bool accepted = status == 0 && why.len == 0;
    if (tls->has_pin && n > 0) {
        /* The pin decides alone: a match overrides the chain, a mismatch
         * overrides a valid chain. */
        if (pin_matched && !accepted)
            xmppc__log(tls->logger, XMPPC_LOG_DEBUG, "tls",
                       "certificate of %s accepted by its pinned key "
                       "despite: %s",
                       tls->reference_name, why_buf);
        if (!pin_matched) {
            char chain_why[sizeof why_buf];
            memcpy(chain_why, why_buf, sizeof chain_why);
            why.len = 0;
            why_buf[0] = '\0';
            text_add(&why, "public key does not match the pin (pin mismatch)");
            if (!accepted)
                text_add(&why, "; also %s", chain_why);
        }
        accepted = pin_matched;
    }

    if (tls->verify_cb) {
        xmppc__tls_der chain[MAX_CHAIN_INFO];
        xmppc__tls_peer_info info = {
            .status = status,
            .accepted = accepted,
            .pin_set = tls->has_pin,
            .pin_matched = pin_matched,
            .reason = accepted ? NULL : why_buf,
            .reference_name = tls->reference_name,
            .chain = chain,
            .chain_len = n < MAX_CHAIN_INFO ? n : MAX_CHAIN_INFO,
        };
        for (size_t i = 0; i < info.chain_len; i++) {
            chain[i].data = certs[i].data;
            chain[i].len = certs[i].size;
        }
        bool lib_accepted = accepted;
        accepted = tls->verify_cb(tls->verify_userdata, &info) == 1;
        if (accepted && !lib_accepted) {
            xmppc__log(tls->logger, XMPPC_LOG_WARN, "tls",
                       "certificate of %s accepted by the verify callback "
                       "despite: %s",
                       tls->reference_name, why_buf);
        } else if (!accepted) {
            char lib_why[sizeof why_buf];
            memcpy(lib_why, why_buf, sizeof lib_why);
            why.len = 0;
            why_buf[0] = '\0';
            text_add(&why, "rejected by the verify callback");
            if (!lib_accepted)
                text_add(&why, " (%s)", lib_why);
        }
    }
    if (accepted)
        return 0;
    tls->cert_rejected = true;
    xmppc__free(tls->cert_error);
    size_t need = strlen(tls->reference_name) + why.len + 64;
    if ((tls->cert_error = xmppc__malloc(need)))
        snprintf(tls->cert_error, need,
                 "TLS: the certificate of %s was not accepted: %s",
                 tls->reference_name, why_buf);
    return -1;
}

int xmppc__tls_new(xmppc__tls **out, const xmppc__tls_config *cfg)
{
    if (!out || !cfg || !cfg->trust || !cfg->reference_name ||
        !cfg->reference_name[0])
        return xmppc__error(XMPPC_EINVAL,
                            "TLS: a trust and a reference name are required");
    xmppc__tls *tls = xmppc__calloc(1, sizeof *tls);
    if (!tls)
        return XMPPC_ENOMEM;
    tls->logger = cfg->logger;
    tls->verify_cb = cfg->verify_cb;
    tls->verify_userdata = cfg->verify_userdata;
    if (cfg->spki_pin_sha256) {
        tls->has_pin = true;
        memcpy(tls->pin, cfg->spki_pin_sha256, PIN_LEN);
    }
    bool is_ip = false;
    if (!(tls->reference_name = xmppc__strdup(cfg->reference_name))) {
        xmppc__tls_free(tls);
        return XMPPC_ENOMEM;
    }
    int rc = prepare_name(cfg->reference_name, &is_ip, &tls->check_name);
    if (rc < 0) {
        xmppc__tls_free(tls);
        return rc;
    }
    const char *wire_name =
        tls->check_name ? tls->check_name : tls->reference_name;

    rc = gnutls_init(&tls->session,
                     GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
    if (rc < 0) {
        tls->session = NULL;
        xmppc__tls_free(tls);
        return xmppc__error(
            rc == GNUTLS_E_MEMORY_ERROR ? XMPPC_ENOMEM : XMPPC_ETLS,
            "TLS: cannot create a session: %s", gnutls_strerror(rc));
    }
    tls->trust = xmppc__tls_trust_ref(cfg->trust);
    gnutls_session_set_ptr(tls->session, tls);
    gnutls_transport_set_ptr(tls->session, tls);
    gnutls_transport_set_vec_push_function(tls->session, vec_push);
    gnutls_transport_set_pull_function(tls->session, pull);
    gnutls_transport_set_pull_timeout_function(tls->session, pull_timeout);
    /* Timeouts belong to the connection's timers, not to GnuTLS. */
    gnutls_handshake_set_timeout(tls->session, GNUTLS_INDEFINITE_TIMEOUT);

    const char *what = "priorities";
    rc = gnutls_priority_set(tls->session, cfg->max_tls12
                                               ? tls->trust->prio_tls12
                                               : tls->trust->prio);
    if (rc >= 0) {
        what = "credentials";
        rc = gnutls_credentials_set(tls->session, GNUTLS_CRD_CERTIFICATE,
                                    tls->trust->creds);
    }
    if (rc >= 0 && !is_ip) { /* RFC 6066: SNI never carries addresses */
        what = "SNI";
        rc = gnutls_server_name_set(tls->session, GNUTLS_NAME_DNS, wire_name,
                                    strlen(wire_name));
    }
    if (rc >= 0 && cfg->direct_tls) { /* XEP-0368 */
        what = "ALPN";
        gnutls_datum_t proto = {(unsigned char *)ALPN_XMPP_CLIENT,
                                sizeof ALPN_XMPP_CLIENT - 1};
        rc = gnutls_alpn_set_protocols(tls->session, &proto, 1, 0);
    }
    if (rc < 0) {
        xmppc__tls_free(tls);
        return xmppc__error(
            rc == GNUTLS_E_MEMORY_ERROR ? XMPPC_ENOMEM : XMPPC_ETLS,
            "TLS: cannot set %s: %s", what, gnutls_strerror(rc));
    }
    gnutls_session_set_verify_function(tls->session, verify_peer);
    *out = tls;
    return 0;
}

void xmppc__tls_free(xmppc__tls *tls)
{
    if (!tls)
        return;
    if (tls->session)
        gnutls_deinit(tls->session);
    xmppc__tls_trust_unref(tls->trust);
    xmppc__free(tls->reference_name);
    xmppc__free(tls->check_name);
    xmppc__free(tls->cert_error);
    xmppc__buf_free(&tls->in);
    xmppc__buf_free(&tls->out);
    xmppc__buf_free(&tls->plain);
    xmppc__free(tls);
}

int xmppc__tls_feed(xmppc__tls *tls, const void *data, size_t len)
{
    if (tls->state == TLS_FAILED)
        return xmppc__error(XMPPC_ESTATE, "TLS: the session has failed");
    if (len == 0)
        return 0;
    if (tls->in_off) { /* drop what GnuTLS already pulled */
        xmppc__buf_consume(&tls->in, tls->in_off);
        tls->in_off = 0;
    }
    return xmppc__buf_append(&tls->in, data, len);
}

xmppc__buf *xmppc__tls_outgoing(xmppc__tls *tls)
{
    return &tls->out;
}

/* ---- driving ------------------------------------------------------------ */

/* Marks the session dead and reports a GnuTLS failure. */
static int fail(xmppc__tls *tls, int rc, const char *during)
{
    tls->state = TLS_FAILED;
    if (tls->push_failed || rc == GNUTLS_E_MEMORY_ERROR)
        return xmppc__error(XMPPC_ENOMEM, "TLS: out of memory during %s",
                            during);
    const char *alert = NULL;
    if (rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
        alert = gnutls_alert_get_name(gnutls_alert_get(tls->session));
    else /* best effort: tell the server why */
        gnutls_alert_send_appropriate(tls->session, rc);
    return xmppc__error(XMPPC_ETLS, "TLS %s with %s failed: %s%s%s%s", during,
                        tls->reference_name, gnutls_strerror(rc),
                        alert ? " (alert: " : "", alert ? alert : "",
                        alert ? ")" : "");
}

static void log_established(xmppc__tls *tls)
{
    if (!xmppc__log_enabled(tls->logger, XMPPC_LOG_DEBUG))
        return;
    char *desc = gnutls_session_get_desc(tls->session); /* no secrets */
    xmppc__log(tls->logger, XMPPC_LOG_DEBUG, "tls",
               "established with %s: %s%s%s", tls->reference_name,
               desc ? desc : "?", tls->alpn ? ", ALPN " : "",
               tls->alpn ? tls->alpn : "");
    gnutls_free(desc);
}

int xmppc__tls_handshake(xmppc__tls *tls)
{
    if (tls->state == TLS_OPEN)
        return 0;
    if (tls->state == TLS_FAILED)
        return xmppc__error(XMPPC_ESTATE, "TLS: the session has failed");
    int rc;
    do {
        rc = gnutls_handshake(tls->session);
        if (rc == GNUTLS_E_WARNING_ALERT_RECEIVED)
            xmppc__log(tls->logger, XMPPC_LOG_DEBUG, "tls",
                       "warning alert during the handshake: %s",
                       gnutls_alert_get_name(gnutls_alert_get(tls->session)));
    } while (rc == GNUTLS_E_INTERRUPTED ||
             rc == GNUTLS_E_WARNING_ALERT_RECEIVED);
    if (rc == GNUTLS_E_AGAIN)
        return XMPPC_EAGAIN;
    if (rc < 0 && tls->cert_rejected && !tls->push_failed) {
        tls->state = TLS_FAILED;
        gnutls_alert_send(tls->session, GNUTLS_AL_FATAL,
                          GNUTLS_A_BAD_CERTIFICATE);
        if (!tls->cert_error)
            return xmppc__error(XMPPC_ECERT,
                                "TLS: the certificate of %s was not accepted",
                                tls->reference_name);
        return xmppc__error(XMPPC_ECERT, "%s", tls->cert_error);
    }
    if (rc < 0)
        return fail(tls, rc, "handshake");

    tls->state = TLS_OPEN;
    gnutls_datum_t proto;
    if (gnutls_alpn_get_selected_protocol(tls->session, &proto) == 0 &&
        proto.size == sizeof ALPN_XMPP_CLIENT - 1 &&
        memcmp(proto.data, ALPN_XMPP_CLIENT, proto.size) == 0)
        tls->alpn = ALPN_XMPP_CLIENT;
    log_established(tls);
    trim_buffers(tls);
    return 0;
}

ssize_t xmppc__tls_read(xmppc__tls *tls, void *buf, size_t cap)
{
    if (cap == 0)
        return xmppc__error(XMPPC_EINVAL, "TLS: read into an empty buffer");
    if (tls->state != TLS_OPEN)
        return xmppc__error(XMPPC_ESTATE, "TLS: %s",
                            tls->state == TLS_FAILED
                                ? "the session has failed"
                                : "the handshake is not complete");
    if (tls->peer_closed)
        return 0;
    for (;;) {
        ssize_t n = gnutls_record_recv(tls->session, buf, cap);
        if (n > 0)
            return n;
        if (n == 0) {
            tls->peer_closed = true;
            xmppc__log(tls->logger, XMPPC_LOG_DEBUG, "tls",
                       "close_notify from %s", tls->reference_name);
            return 0;
        }
        switch (n) {
        case GNUTLS_E_AGAIN:
            /* GnuTLS also says "again" after consuming a post-handshake
             * message (TLS 1.3 session tickets) while more records are
             * buffered: only stop once the input is used up. */
            if (tls->in.len > tls->in_off ||
                gnutls_record_check_pending(tls->session) > 0)
                continue;
            trim_buffers(tls);
            return XMPPC_EAGAIN;
        case GNUTLS_E_INTERRUPTED:
            continue;
        case GNUTLS_E_REHANDSHAKE:
            /* TLS 1.2 HelloRequest: renegotiation is refused, politely. */
            xmppc__log(tls->logger, XMPPC_LOG_DEBUG, "tls",
                       "refusing renegotiation with %s", tls->reference_name);
            gnutls_alert_send(tls->session, GNUTLS_AL_WARNING,
                              GNUTLS_A_NO_RENEGOTIATION);
            if (tls->push_failed)
                return fail(tls, GNUTLS_E_MEMORY_ERROR, "read");
            continue;
        case GNUTLS_E_WARNING_ALERT_RECEIVED:
            xmppc__log(tls->logger, XMPPC_LOG_DEBUG, "tls",
                       "warning alert from %s: %s", tls->reference_name,
                       gnutls_alert_get_name(gnutls_alert_get(tls->session)));
            continue;
        default:
            return fail(tls, (int)n, "read");
        }
    }
}

int xmppc__tls_write(xmppc__tls *tls, const void *data, size_t len)
{
    if (tls->state != TLS_OPEN || tls->bye_sent)
        return xmppc__error(XMPPC_ESTATE, "TLS: cannot write: %s",
                            tls->state == TLS_FAILED ? "the session has failed"
                            : tls->bye_sent          ? "the session is closed"
                                            : "the handshake is not complete");
    return xmppc__buf_append(&tls->plain, data, len);
}

int xmppc__tls_flush(xmppc__tls *tls)
{
    if (tls->state == TLS_FAILED)
        return xmppc__error(XMPPC_ESTATE, "TLS: the session has failed");
    size_t off = 0;
    while (off < tls->plain.len) {
        /* One full record per call; our push never blocks. */
        ssize_t n = gnutls_record_send(tls->session, tls->plain.data + off,
                                       tls->plain.len - off);
        if (n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n < 0) {
            xmppc__buf_free(&tls->plain);
            return fail(tls, (int)n, "write");
        }
        off += (size_t)n;
    }
    tls->plain.len = 0;
    if (tls->plain.cap > IDLE_BUF_KEEP)
        xmppc__buf_free(&tls->plain);
    return 0;
}

int xmppc__tls_bye(xmppc__tls *tls)
{
    if (tls->state != TLS_OPEN)
        return xmppc__error(XMPPC_ESTATE, "TLS: %s",
                            tls->state == TLS_FAILED
                                ? "the session has failed"
                                : "the handshake is not complete");
    if (tls->bye_sent)
        return 0;
    int rc = xmppc__tls_flush(tls);
    if (rc < 0)
        return rc;
    do {
        rc = gnutls_bye(tls->session, GNUTLS_SHUT_WR);
    } while (rc == GNUTLS_E_INTERRUPTED);
    if (rc < 0)
        return fail(tls, rc, "close");
    tls->bye_sent = true;
    return 0;
}

int xmppc__tls_channel_binding(xmppc__tls *tls, const char *type,
                               unsigned char **data_out, size_t *len_out)
{
    if (!type)
        return xmppc__error(XMPPC_EINVAL, "TLS: no channel binding type");
    if (tls->state != TLS_OPEN)
        return xmppc__error(XMPPC_ESTATE,
                            "TLS: no channel binding before the handshake");
    gnutls_protocol_t version = gnutls_protocol_get_version(tls->session);
    bool ems = gnutls_session_get_flags(tls->session) &
               GNUTLS_SFLAGS_EXT_MASTER_SECRET;
    gnutls_channel_binding_t cb;
    if (strcmp(type, "tls-exporter") == 0) {
        cb = GNUTLS_CB_TLS_EXPORTER;
        /* RFC 9266 section 3: over TLS 1.2 only with the extended master
         * secret, else the exporter is not unique to the connection. */
        if (version != GNUTLS_TLS1_3 && !ems)
            return xmppc__error(XMPPC_ENOTSUP,
                                "TLS: tls-exporter needs TLS 1.3 or the "
                                "extended master secret");
    } else if (strcmp(type, "tls-unique") == 0) {
        cb = GNUTLS_CB_TLS_UNIQUE;
        if (version == GNUTLS_TLS1_3)
            return xmppc__error(XMPPC_ENOTSUP,
                                "TLS: tls-unique is not defined for TLS 1.3 "
                                "(RFC 9266); use tls-exporter");
        /* RFC 7627: without it tls-unique can be forced equal on two
         * connections (triple handshake). */
        if (!ems)
            return xmppc__error(XMPPC_ENOTSUP,
                                "TLS: tls-unique needs the extended master "
                                "secret");
    } else if (strcmp(type, "tls-server-end-point") == 0) {
        cb = GNUTLS_CB_TLS_SERVER_END_POINT;
    } else {
        return xmppc__error(XMPPC_ENOTSUP,
                            "TLS: unknown channel binding type '%s'", type);
    }
    gnutls_datum_t datum = {NULL, 0};
    int rc = gnutls_session_channel_binding(tls->session, cb, &datum);
    if (rc < 0)
        return xmppc__error(
            rc == GNUTLS_E_MEMORY_ERROR ? XMPPC_ENOMEM : XMPPC_ETLS,
            "TLS: no %s channel binding: %s", type, gnutls_strerror(rc));
    unsigned char *copy = xmppc__memdup(datum.data, datum.size);
    gnutls_free(datum.data);
    if (!copy)
        return XMPPC_ENOMEM;
    *data_out = copy;
    *len_out = datum.size;
    return 0;
}

const char *xmppc__tls_version(const xmppc__tls *tls)
{
    if (tls->state != TLS_OPEN)
        return NULL;
    return gnutls_protocol_get_name(gnutls_protocol_get_version(tls->session));
}

const char *xmppc__tls_alpn(const xmppc__tls *tls)
{
    return tls->alpn;
}

bool xmppc__tls_resumed(const xmppc__tls *tls)
{
    return tls->state == TLS_OPEN && gnutls_session_is_resumed(tls->session);
}
