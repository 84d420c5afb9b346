/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The TLS client against an in-memory GnuTLS server: no sockets. Ciphertext
 * is copied between the two by hand, in any split. Certificates come from
 * tests/data/tls (made by make-certs.sh), found through XMPPC_TLS_TESTDATA.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "../xtest.h"
#include "tls.h"

/* ---- data files --------------------------------------------------------- */

static const char *data_path(const char *name)
{
    static char paths[4][1024];
    static int next;
    const char *dir = getenv("XMPPC_TLS_TESTDATA");
    char *p = paths[next++ % 4];
    snprintf(p, sizeof paths[0], "%s/%s", dir ? dir : "tests/data/tls", name);
    return p;
}

static bool read_pin(const char *name, unsigned char pin[32])
{
    FILE *f = fopen(data_path(name), "r");
    char hex[80] = "";
    bool ok = f && fgets(hex, sizeof hex, f) && strlen(hex) >= 64;
    if (f)
        fclose(f);
    for (int i = 0; ok && i < 32; i++) {
        unsigned int byte;
        ok = sscanf(hex + 2 * i, "%2x", &byte) == 1;
        pin[i] = (unsigned char)byte;
    }
    return ok;
}

/* DER of the first certificate in a PEM file; free with gnutls_free. */
static gnutls_datum_t load_der(const char *name)
{
    gnutls_datum_t pem = {NULL, 0}, der = {NULL, 0};
    if (gnutls_load_file(data_path(name), &pem) >= 0)
        gnutls_pem_base64_decode2("CERTIFICATE", &pem, &der);
    gnutls_free(pem.data);
    return der;
}

static bool contains(const char *haystack, const char *needle)
{
    return haystack && strstr(haystack, needle) != NULL;
}

#define XT_CONTAINS(hay, needle)                                               \
    do {                                                                       \
        const char *xt_h_ = (hay);                                             \
        if (!contains(xt_h_, (needle)))                                        \
            XT_FAIL_AT(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",   \
                       xt_h_ ? xt_h_ : "(null)", (needle));                    \
    } while (0)

/* ---- a byte queue and the in-memory server ------------------------------ */

typedef struct bytes {
    unsigned char *data;
    size_t len, off;
} bytes;

static void bytes_add(bytes *b, const void *p, size_t n)
{
    if (b->off == b->len)
        b->off = b->len = 0;
    unsigned char *d = realloc(b->data, b->len + n + 1);
    if (!d)
        abort();
    memcpy(d + b->len, p, n);
    b->data = d;
    b->len += n;
}

static size_t bytes_avail(const bytes *b)
{
    return b->len - b->off;
}

static void bytes_free(bytes *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

typedef struct server {
    gnutls_certificate_credentials_t creds;
    gnutls_session_t s;
    bytes in;  /* from the client */
    bytes out; /* to the client */
    int hs;    /* 0 running, 1 done, <0 the GnuTLS error */
} server;

static ssize_t server_push(gnutls_transport_ptr_t p, const void *d, size_t n)
{
    bytes_add(&((server *)p)->out, d, n);
    return (ssize_t)n;
}

static ssize_t server_pull(gnutls_transport_ptr_t p, void *d, size_t n)
{
    server *sv = p;
    size_t avail = bytes_avail(&sv->in);
    if (avail == 0) {
        gnutls_transport_set_errno(sv->s, EAGAIN);
        return -1;
    }
    if (n > avail)
        n = avail;
    memcpy(d, sv->in.data + sv->in.off, n);
    sv->in.off += n;
    return (ssize_t)n;
}

static int server_pull_timeout(gnutls_transport_ptr_t p, unsigned int ms)
{
    (void)ms;
    return bytes_avail(&((server *)p)->in) > 0;
}

static void server_init(server *sv, const char *cert, const char *prio)
{
    char crt[64], key[64];
    memset(sv, 0, sizeof *sv);
    snprintf(crt, sizeof crt, "%s.pem", cert);
    snprintf(key, sizeof key, "%s-key.pem", cert);
    XT_EQ_INT(gnutls_certificate_allocate_credentials(&sv->creds), 0);
    XT_EQ_INT(gnutls_certificate_set_x509_key_file(sv->creds, data_path(crt),
                                                   data_path(key),
                                                   GNUTLS_X509_FMT_PEM),
              0);
    XT_EQ_INT(gnutls_init(&sv->s, GNUTLS_SERVER | GNUTLS_NONBLOCK), 0);
    XT_EQ_INT(gnutls_priority_set_direct(sv->s, prio ? prio : "NORMAL", NULL),
              0);
    XT_EQ_INT(gnutls_credentials_set(sv->s, GNUTLS_CRD_CERTIFICATE, sv->creds),
              0);
    gnutls_datum_t alpn = {(unsigned char *)"xmpp-client", 11};
    XT_EQ_INT(gnutls_alpn_set_protocols(sv->s, &alpn, 1, 0), 0);
    gnutls_transport_set_ptr(sv->s, sv);
    gnutls_transport_set_push_function(sv->s, server_push);
    gnutls_transport_set_pull_function(sv->s, server_pull);
    gnutls_transport_set_pull_timeout_function(sv->s, server_pull_timeout);
    gnutls_handshake_set_timeout(sv->s, GNUTLS_INDEFINITE_TIMEOUT);
}

static void server_step(server *sv)
{
    while (sv->hs == 0) {
        int rc = gnutls_handshake(sv->s);
        if (rc == 0)
            sv->hs = 1;
        else if (gnutls_error_is_fatal(rc)) {
            sv->hs = rc;
            if (rc != GNUTLS_E_FATAL_ALERT_RECEIVED) /* as servers do */
                gnutls_alert_send_appropriate(sv->s, rc);
        } else if (rc == GNUTLS_E_AGAIN)
            break;
    }
}

static void server_free(server *sv)
{
    if (sv->s)
        gnutls_deinit(sv->s);
    if (sv->creds)
        gnutls_certificate_free_credentials(sv->creds);
    bytes_free(&sv->in);
    bytes_free(&sv->out);
    memset(sv, 0, sizeof *sv);
}

/* Everything the server can decrypt right now, appended to @p got;
 * returns the last gnutls_record_recv() result (0 = close_notify). */
static ssize_t server_read_all(server *sv, bytes *got)
{
    unsigned char buf[16384];
    for (;;) {
        ssize_t n = gnutls_record_recv(sv->s, buf, sizeof buf);
        if (n <= 0)
            return n;
        bytes_add(got, buf, (size_t)n);
    }
}

static void server_send(server *sv, const void *data, size_t len)
{
    XT_EQ_INT(gnutls_record_send(sv->s, data, len), (ssize_t)len);
}

/* ---- client + server pair ----------------------------------------------- */

typedef struct opts {
    const char *cert;        /* server certificate, default "server" */
    const char *ca;          /* CA file for the client, default "ca.pem" */
    bool no_ca;              /* trust nothing */
    const char *name;        /* reference name, default "xmppc.test" */
    const char *server_prio; /* default "NORMAL" */
    bool direct_tls, max_tls12;
    const unsigned char *pin;
    xmppc__tls_verify_cb cb;
    void *ud;
    const xmppc__logger *logger;
    size_t chunk; /* ciphertext bytes fed to the client at a time; 0: all */
} opts;

typedef struct pair {
    server sv;
    xmppc__tls_trust *trust;
    xmppc__tls *cli;
    size_t chunk;
    int feed_rc; /* a failed xmppc__tls_feed() (out of memory) */
} pair;

/* Client ciphertext to the server. */
static void to_server(pair *p)
{
    xmppc__buf *out = xmppc__tls_outgoing(p->cli);
    if (out->len) {
        bytes_add(&p->sv.in, out->data, out->len);
        xmppc__buf_consume(out, out->len);
    }
}

/* Server ciphertext to the client, at most p->chunk bytes; returns how
 * many bytes moved. */
static size_t to_client(pair *p)
{
    size_t n = bytes_avail(&p->sv.out);
    if (p->chunk && n > p->chunk)
        n = p->chunk;
    if (n && !p->feed_rc) {
        p->feed_rc = xmppc__tls_feed(p->cli, p->sv.out.data + p->sv.out.off, n);
        if (p->feed_rc < 0)
            return 0;
        p->sv.out.off += n;
    }
    return p->feed_rc ? 0 : n;
}

/* Runs both handshakes until neither can move; returns the client's. */
static int pump_handshake(pair *p)
{
    int rc = xmppc__tls_handshake(p->cli);
    for (int guard = 0; guard < 1000000; guard++) {
        to_server(p);
        server_step(&p->sv);
        if (to_client(p) == 0)
            break;
        if (rc == XMPPC_EAGAIN)
            rc = xmppc__tls_handshake(p->cli);
    }
    to_server(p); /* the client's Finished or alert */
    server_step(&p->sv);
    return p->feed_rc ? p->feed_rc : rc;
}

static int pair_open(pair *p, const opts *o)
{
    memset(p, 0, sizeof *p);
    p->chunk = o->chunk;
    server_init(&p->sv, o->cert ? o->cert : "server", o->server_prio);
    int rc = xmppc__tls_trust_get(
        &p->trust, o->no_ca ? NULL : data_path(o->ca ? o->ca : "ca.pem"),
        false);
    XT_EQ_INT(rc, 0);
    if (rc < 0)
        return rc;
    xmppc__tls_config cfg = {
        .trust = p->trust,
        .reference_name = o->name ? o->name : "xmppc.test",
        .direct_tls = o->direct_tls,
        .max_tls12 = o->max_tls12,
        .spki_pin_sha256 = o->pin,
        .verify_cb = o->cb,
        .verify_userdata = o->ud,
        .logger = o->logger,
    };
    rc = xmppc__tls_new(&p->cli, &cfg);
    XT_EQ_INT(rc, 0);
    if (rc < 0)
        return rc;
    return pump_handshake(p);
}

static void pair_close(pair *p)
{
    xmppc__tls_free(p->cli);
    xmppc__tls_trust_unref(p->trust);
    server_free(&p->sv);
}

/* Reads all the plaintext the client can decrypt, feeding ciphertext
 * p->chunk bytes at a time; returns the last read result. */
static ssize_t client_read_all(pair *p, bytes *got)
{
    char buf[4096];
    ssize_t n;
    for (;;) {
        n = xmppc__tls_read(p->cli, buf, sizeof buf);
        if (n > 0) {
            bytes_add(got, buf, (size_t)n);
            continue;
        }
        if (n != XMPPC_EAGAIN || to_client(p) == 0)
            return p->feed_rc ? p->feed_rc : n;
    }
}

static void check_same_binding(pair *p, const char *type,
                               gnutls_channel_binding_t cbtype)
{
    unsigned char *cb = NULL;
    size_t len = 0;
    gnutls_datum_t theirs = {NULL, 0};
    XT_EQ_INT(xmppc__tls_channel_binding(p->cli, type, &cb, &len), 0);
    XT_EQ_INT(gnutls_session_channel_binding(p->sv.s, cbtype, &theirs), 0);
    XT_CHECK(len > 0 && len == theirs.size);
    XT_CHECK(cb && theirs.data && memcmp(cb, theirs.data, len) == 0);
    gnutls_free(theirs.data);
    xmppc_free(cb);
}

static void check_server_end_point(pair *p)
{
    unsigned char *cb = NULL;
    size_t len = 0;
    XT_EQ_INT(
        xmppc__tls_channel_binding(p->cli, "tls-server-end-point", &cb, &len),
        0);
    /* RFC 5929: the hash of the certificate's signature (SHA-256 here). */
    gnutls_datum_t der = load_der("server.pem");
    unsigned char want[32];
    XT_EQ_INT(gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, want), 0);
    XT_EQ_INT(len, 32);
    XT_CHECK(cb && memcmp(cb, want, 32) == 0);
    gnutls_free(der.data);
    xmppc_free(cb);
}

static void check_sni(pair *p, const char *want)
{
    char name[256];
    size_t size = sizeof name;
    unsigned int type = 0;
    int rc = gnutls_server_name_get(p->sv.s, name, &size, &type, 0);
    if (!want) {
        XT_EQ_INT(rc, GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
        return;
    }
    XT_EQ_INT(rc, 0);
    XT_EQ_INT(type, GNUTLS_NAME_DNS);
    XT_EQ_STR(rc == 0 ? name : NULL, want);
}

/* ---- handshakes ----------------------------------------------------------
 */

static void test_handshake_tls13(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){0}), 0);
    XT_EQ_INT(p.sv.hs, 1);
    XT_EQ_STR(xmppc__tls_version(p.cli), "TLS1.3");
    XT_EQ_INT(gnutls_protocol_get_version(p.sv.s), GNUTLS_TLS1_3);
    XT_CHECK(xmppc__tls_alpn(p.cli) == NULL); /* STARTTLS: no ALPN */
    XT_CHECK(!xmppc__tls_resumed(p.cli));
    check_sni(&p, "xmppc.test");
    /* AEAD only: the cipher is GCM or ChaCha20-Poly1305. */
    gnutls_cipher_algorithm_t c = gnutls_cipher_get(p.sv.s);
    XT_CHECK(c == GNUTLS_CIPHER_AES_128_GCM || c == GNUTLS_CIPHER_AES_256_GCM ||
             c == GNUTLS_CIPHER_CHACHA20_POLY1305);
    XT_EQ_INT(xmppc__tls_handshake(p.cli), 0); /* idempotent */
    pair_close(&p);
}

static void test_handshake_tls12(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.max_tls12 = true}), 0);
    XT_EQ_INT(p.sv.hs, 1);
    XT_EQ_STR(xmppc__tls_version(p.cli), "TLS1.2");
    XT_EQ_INT(gnutls_kx_get(p.sv.s), GNUTLS_KX_ECDHE_ECDSA); /* not RSA kx */
    check_sni(&p, "xmppc.test");
    pair_close(&p);
}

static void test_handshake_byte_at_a_time(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.chunk = 1}), 0);
    XT_EQ_INT(p.sv.hs, 1);
    XT_EQ_STR(xmppc__tls_version(p.cli), "TLS1.3");
    pair_close(&p);
}

static void test_alpn_on_direct_tls(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.direct_tls = true}), 0);
    XT_EQ_STR(xmppc__tls_alpn(p.cli), "xmpp-client");
    gnutls_datum_t proto = {NULL, 0};
    XT_EQ_INT(gnutls_alpn_get_selected_protocol(p.sv.s, &proto), 0);
    XT_CHECK(proto.size == 11 && memcmp(proto.data, "xmpp-client", 11) == 0);
    pair_close(&p);
}

static void test_sni_and_names(void)
{
    static const struct {
        const char *name;
        const char *sni; /* NULL: none sent */
    } cases[] = {
        {"localhost", "localhost"}, /* the second DNS name of the cert */
        {"127.0.0.1", NULL},        /* IP literal: matched, never SNI */
        {"[::1]", NULL},            /* JID form of an IPv6 literal */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pair p;
        XT_EQ_INT(pair_open(&p, &(opts){.name = cases[i].name}), 0);
        XT_EQ_INT(p.sv.hs, 1);
        check_sni(&p, cases[i].sni);
        pair_close(&p);
    }
}

static void test_idn_reference_name(void)
{
    /* A Unicode domain goes out (SNI) and is matched as its A-label. */
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.name = "b\xc3\xbc"
                                            "cher.test"}),
              XMPPC_ECERT);
    XT_CONTAINS(xmppc_error_last()->message, "not valid for 'b\xc3\xbc"
                                             "cher.test'");
    check_sni(&p, "xn--bcher-kva.test");
    pair_close(&p);
    /* Brackets hold only an IPv6 address. */
    xmppc__tls_trust *trust = NULL;
    xmppc__tls *tls = NULL;
    XT_EQ_INT(xmppc__tls_trust_get(&trust, data_path("ca.pem"), false), 0);
    XT_EQ_INT(xmppc__tls_new(
                  &tls, &(xmppc__tls_config){.trust = trust,
                                             .reference_name = "[xmppc.test]"}),
              XMPPC_EINVAL);
    XT_CHECK(tls == NULL);
    xmppc__tls_trust_unref(trust);
}

static void test_old_server_is_refused(void)
{
    /* A server stuck at TLS 1.1 (or with no AEAD cipher) gets no deal. */
    static const char *prios[] = {
        "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0",
        "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:-MAC-ALL:"
        "+SHA256:+SHA1",
    };
    for (size_t i = 0; i < 2; i++) {
        pair p;
        XT_EQ_INT(pair_open(&p, &(opts){.server_prio = prios[i]}), XMPPC_ETLS);
        XT_CONTAINS(xmppc_error_last()->message,
                    "TLS handshake with xmppc.test");
        XT_CHECK(p.sv.hs < 0);
        XT_CHECK(xmppc__tls_version(p.cli) == NULL);
        printf("# %s\n", xmppc_error_last()->message);
        pair_close(&p);
    }
}

/* ---- certificate checks ------------------------------------------------- */

/* A refused certificate: ECERT with @p reason in the message, and the
 * server hears a fatal alert instead of our Finished. */
static void expect_cert_error(const opts *o, const char *reason,
                              const char *reason2)
{
    pair p;
    XT_EQ_INT(pair_open(&p, o), XMPPC_ECERT);
    const char *msg = xmppc_error_last()->message;
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_ECERT);
    XT_CONTAINS(msg, reason);
    if (reason2)
        XT_CONTAINS(msg, reason2);
    printf("# %s\n", msg);
    XT_EQ_INT(p.sv.hs, GNUTLS_E_FATAL_ALERT_RECEIVED);
    XT_EQ_INT(gnutls_alert_get(p.sv.s), GNUTLS_A_BAD_CERTIFICATE);
    /* The session is dead. */
    XT_EQ_INT(xmppc__tls_handshake(p.cli), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__tls_write(p.cli, "x", 1), XMPPC_ESTATE);
    char buf[8];
    XT_EQ_INT(xmppc__tls_read(p.cli, buf, sizeof buf), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__tls_feed(p.cli, "x", 1), XMPPC_ESTATE);
    pair_close(&p);
}

static void test_cert_wrong_name(void)
{
    expect_cert_error(&(opts){.cert = "wrong-name"},
                      "not valid for 'xmppc.test'", "wrong.invalid");
    /* The reference identity is the configured domain, whatever the cert. */
    expect_cert_error(&(opts){.name = "other.test"},
                      "not valid for 'other.test'", "xmppc.test");
    expect_cert_error(&(opts){.name = "127.0.0.2"}, "not valid for '127.0.0.2'",
                      "127.0.0.1");
}

static void test_cert_expired(void)
{
    expect_cert_error(&(opts){.cert = "expired"}, "expired", NULL);
}

static void test_cert_not_yet_valid(void)
{
    expect_cert_error(&(opts){.cert = "not-yet-valid"}, "not yet valid", NULL);
}

static void test_cert_self_signed(void)
{
    expect_cert_error(&(opts){.cert = "self-signed"}, "self-signed",
                      "not trusted");
}

static void test_cert_other_ca(void)
{
    expect_cert_error(&(opts){.cert = "other-server"}, "unknown issuer",
                      "not trusted");
    /* ...and trusted once its CA is given. */
    pair p;
    XT_EQ_INT(
        pair_open(&p, &(opts){.cert = "other-server", .ca = "other-ca.pem"}),
        0);
    pair_close(&p);
}

static void test_cert_insecure_algorithm(void)
{
    expect_cert_error(&(opts){.cert = "sha1"}, "insecure algorithm", NULL);
}

static void test_cert_no_trust_anchors(void)
{
    expect_cert_error(&(opts){.no_ca = true}, "no trust anchors configured",
                      NULL);
}

static void test_pin_accepts_untrusted(void)
{
    unsigned char pin[32];
    XT_CHECK(read_pin("self-signed.pin", pin));
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.cert = "self-signed", .pin = pin}), 0);
    XT_EQ_INT(p.sv.hs, 1);
    pair_close(&p);
    /* Even with no trust anchors at all. */
    XT_EQ_INT(
        pair_open(&p,
                  &(opts){.cert = "self-signed", .pin = pin, .no_ca = true}),
        0);
    pair_close(&p);
}

static void test_pin_mismatch(void)
{
    unsigned char pin[32];
    XT_CHECK(read_pin("self-signed.pin", pin));
    /* A valid chain does not excuse a wrong key. */
    expect_cert_error(&(opts){.pin = pin}, "pin mismatch", NULL);
    /* A wrong key on an untrusted chain reports both. */
    unsigned char server_pin[32];
    XT_CHECK(read_pin("server.pin", server_pin));
    expect_cert_error(&(opts){.cert = "self-signed", .pin = server_pin},
                      "pin mismatch", "self-signed");
}

typedef struct cb_state {
    int verdict;
    int calls;
    unsigned int status;
    bool accepted, pin_set, pin_matched;
    char reason[700];
    char reference_name[64];
    size_t chain_len;
    unsigned char leaf[4096];
    size_t leaf_len;
} cb_state;

static int record_cb(void *ud, const xmppc__tls_peer_info *info)
{
    cb_state *st = ud;
    st->calls++;
    st->status = info->status;
    st->accepted = info->accepted;
    st->pin_set = info->pin_set;
    st->pin_matched = info->pin_matched;
    snprintf(st->reason, sizeof st->reason, "%s",
             info->reason ? info->reason : "(null)");
    snprintf(st->reference_name, sizeof st->reference_name, "%s",
             info->reference_name);
    st->chain_len = info->chain_len;
    if (info->chain_len && info->chain[0].len <= sizeof st->leaf) {
        memcpy(st->leaf, info->chain[0].data, info->chain[0].len);
        st->leaf_len = info->chain[0].len;
    }
    return st->verdict;
}

static void test_verify_cb_accepts(void)
{
    cb_state st = {.verdict = 1};
    pair p;
    XT_EQ_INT(
        pair_open(&p,
                  &(opts){.cert = "self-signed", .cb = record_cb, .ud = &st}),
        0);
    XT_EQ_INT(p.sv.hs, 1);
    XT_EQ_INT(st.calls, 1);
    XT_CHECK(!st.accepted);
    XT_CHECK(st.status & GNUTLS_CERT_SIGNER_NOT_FOUND);
    XT_CONTAINS(st.reason, "self-signed");
    XT_EQ_STR(st.reference_name, "xmppc.test");
    XT_CHECK(!st.pin_set && !st.pin_matched);
    XT_EQ_INT(st.chain_len, 1);
    gnutls_datum_t der = load_der("self-signed.pem");
    XT_CHECK(der.size == st.leaf_len &&
             memcmp(der.data, st.leaf, st.leaf_len) == 0);
    gnutls_free(der.data);
    pair_close(&p);
}

static void test_verify_cb_rejects(void)
{
    cb_state st = {.verdict = 0};
    expect_cert_error(&(opts){.cb = record_cb, .ud = &st},
                      "rejected by the verify callback", NULL);
    XT_EQ_INT(st.calls, 1);
    XT_CHECK(st.accepted); /* the library alone would have accepted */
    XT_EQ_INT(st.status, 0);
    XT_EQ_STR(st.reason, "(null)");
    XT_CHECK(st.chain_len >= 1);
    /* Anything but 1 rejects. */
    st = (cb_state){.verdict = 2};
    expect_cert_error(&(opts){.cb = record_cb, .ud = &st},
                      "rejected by the verify callback", NULL);
    /* With a pin, the callback sees the pin's verdict. */
    unsigned char pin[32];
    XT_CHECK(read_pin("server.pin", pin));
    st = (cb_state){.verdict = 1};
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.pin = pin, .cb = record_cb, .ud = &st}),
              0);
    XT_CHECK(st.accepted && st.pin_set && st.pin_matched);
    pair_close(&p);
}

/* ---- trust -------------------------------------------------------------- */

static void test_trust_cache(void)
{
    xmppc__tls_trust *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    XT_EQ_INT(xmppc__tls_trust_get(&a, data_path("ca.pem"), false), 0);
    XT_EQ_INT(xmppc__tls_trust_get(&b, data_path("ca.pem"), false), 0);
    XT_CHECK(a && a == b);
    XT_EQ_INT(xmppc__tls_trust_get(&c, data_path("other-ca.pem"), false), 0);
    XT_CHECK(c && c != a);
    XT_EQ_INT(xmppc__tls_trust_get(&d, data_path("ca.pem"), true), 0);
    XT_CHECK(d && d != a && d != c);
    XT_CHECK(xmppc__tls_trust_ref(a) == a);
    xmppc__tls_trust_unref(a);
    xmppc__tls_trust_unref(a);
    /* Still cached while b holds it. */
    xmppc__tls_trust *e = NULL;
    XT_EQ_INT(xmppc__tls_trust_get(&e, data_path("ca.pem"), false), 0);
    XT_CHECK(e == b);
    xmppc__tls_trust_unref(e);
    xmppc__tls_trust_unref(b);
    xmppc__tls_trust_unref(c);
    xmppc__tls_trust_unref(d);
    xmppc__tls_trust_unref(NULL);
    XT_CHECK(xmppc__tls_trust_ref(NULL) == NULL);
}

static void test_trust_system_store_loaded_once(void)
{
    /* The second get must not re-read the store: time it. */
    struct timespec t0, t1, t2;
    xmppc__tls_trust *a = NULL, *b = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    XT_EQ_INT(xmppc__tls_trust_get(&a, NULL, true), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (int i = 0; i < 1000; i++) {
        XT_EQ_INT(xmppc__tls_trust_get(&b, NULL, true), 0);
        XT_CHECK(b == a);
        xmppc__tls_trust_unref(b);
    }
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double first = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    double next = ((double)(t2.tv_sec - t1.tv_sec) * 1e3 +
                   (double)(t2.tv_nsec - t1.tv_nsec) / 1e6) /
                  1000;
    printf("# system trust: first load %.3f ms, cached get %.6f ms\n", first,
           next);
    xmppc__tls_trust_unref(a);
}

enum { THREADS = 8 };
static pthread_barrier_t trust_barrier;
/* Set before the threads start: data_path()'s ring of buffers is not
 * thread-safe. */
static char trust_thread_ca[1024];

static void *trust_thread(void *arg)
{
    xmppc__tls_trust **slot = arg;
    pthread_barrier_wait(&trust_barrier);
    if (xmppc__tls_trust_get(slot, trust_thread_ca, false) < 0)
        *slot = NULL;
    for (int i = 0; i < 200; i++) { /* churn refs on a shared object */
        xmppc__tls_trust *t = NULL;
        if (xmppc__tls_trust_get(&t, trust_thread_ca, false) == 0)
            xmppc__tls_trust_unref(t);
    }
    return NULL;
}

static void test_trust_cache_threads(void)
{
    /* First users racing: one load, one object. */
    pthread_t threads[THREADS];
    xmppc__tls_trust *got[THREADS] = {0};
    snprintf(trust_thread_ca, sizeof trust_thread_ca, "%s",
             data_path("other-ca.pem"));
    XT_EQ_INT(pthread_barrier_init(&trust_barrier, NULL, THREADS), 0);
    for (int i = 0; i < THREADS; i++)
        XT_EQ_INT(pthread_create(&threads[i], NULL, trust_thread, &got[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&trust_barrier);
    for (int i = 0; i < THREADS; i++)
        XT_CHECK(got[i] && got[i] == got[0]);
    for (int i = 0; i < THREADS; i++)
        xmppc__tls_trust_unref(got[i]);
}

static void test_trust_bad_ca_file(void)
{
    xmppc__tls_trust *t = NULL;
    const char *missing = data_path("does-not-exist.pem");
    XT_EQ_INT(xmppc__tls_trust_get(&t, missing, false), XMPPC_EINVAL);
    XT_CHECK(t == NULL);
    XT_CONTAINS(xmppc_error_last()->message, missing);
    const char *junk = data_path("not-a-cert.pem");
    XT_EQ_INT(xmppc__tls_trust_get(&t, junk, false), XMPPC_EINVAL);
    XT_CHECK(t == NULL);
    XT_CONTAINS(xmppc_error_last()->message, junk);
    printf("# %s\n", xmppc_error_last()->message);
    /* A failed load is not cached. */
    XT_EQ_INT(xmppc__tls_trust_get(&t, junk, false), XMPPC_EINVAL);
}

static void test_new_rejects_bad_config(void)
{
    xmppc__tls *tls = NULL;
    xmppc__tls_trust *trust = NULL;
    XT_EQ_INT(xmppc__tls_new(&tls, &(xmppc__tls_config){0}), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__tls_trust_get(&trust, data_path("ca.pem"), false), 0);
    XT_EQ_INT(xmppc__tls_new(&tls, &(xmppc__tls_config){.trust = trust}),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc__tls_new(&tls, &(xmppc__tls_config){.trust = trust,
                                                        .reference_name = ""}),
              XMPPC_EINVAL);
    XT_CHECK(tls == NULL);
    xmppc__tls_trust_unref(trust);
    xmppc__tls_free(NULL);
}

/* ---- data --------------------------------------------------------------- */

/* Counts TLS records by their 5-byte headers; checks they tile the data. */
static size_t count_records(const unsigned char *d, size_t len, size_t *max_len)
{
    size_t off = 0, n = 0;
    *max_len = 0;
    while (off + 5 <= len) {
        XT_EQ_INT(d[off], 23); /* application_data */
        size_t rl = (size_t)d[off + 3] << 8 | d[off + 4];
        if (rl > *max_len)
            *max_len = rl;
        off += 5 + rl;
        n++;
    }
    XT_EQ_INT(off, len);
    return n;
}

static void corked_writes(bool tls12)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.max_tls12 = tls12}), 0);
    char stanza[250];
    for (size_t i = 0; i < sizeof stanza; i++)
        stanza[i] = (char)('a' + i % 26);
    xmppc__buf *out = xmppc__tls_outgoing(p.cli);
    XT_EQ_INT(out->len, 0);
    for (int i = 0; i < 1000; i++) {
        stanza[0] = (char)('0' + i % 10);
        XT_EQ_INT(xmppc__tls_write(p.cli, stanza, sizeof stanza), 0);
    }
    XT_EQ_INT(out->len, 0); /* corked: nothing sealed yet */
    XT_EQ_INT(xmppc__tls_flush(p.cli), 0);
    size_t max_len = 0;
    size_t records =
        count_records((const unsigned char *)out->data, out->len, &max_len);
    printf("# %s: 1000 x 250 B -> %zu records, %zu bytes of ciphertext, "
           "largest record %zu bytes\n",
           tls12 ? "TLS1.2" : "TLS1.3", records, out->len, max_len);
    XT_CHECK(records >= 16 && records <= 20);
    XT_CHECK(max_len <= 16384 + 256);
    XT_EQ_INT(xmppc__tls_flush(p.cli), 0); /* nothing more */
    to_server(&p);
    bytes got = {0};
    XT_EQ_INT(server_read_all(&p.sv, &got), GNUTLS_E_AGAIN);
    XT_EQ_INT(got.len, 250000);
    for (int i = 0; i < 1000 && got.len == 250000; i++) {
        stanza[0] = (char)('0' + i % 10);
        if (memcmp(got.data + i * 250, stanza, 250) != 0) {
            XT_FAIL_AT(__FILE__, __LINE__, "stanza %d differs", i);
            break;
        }
    }
    bytes_free(&got);
    pair_close(&p);
}

static void test_corked_writes_tls13(void)
{
    corked_writes(false);
}

static void test_corked_writes_tls12(void)
{
    corked_writes(true);
}

static void test_roundtrip_byte_at_a_time(void)
{
    for (int v = 0; v < 2; v++) {
        pair p;
        XT_EQ_INT(pair_open(&p, &(opts){.chunk = 1, .max_tls12 = v == 1}), 0);
        /* server -> client, ciphertext fed one byte at a time */
        const char *msgs[] = {"<message>one</message>", "<presence/>",
                              "<iq type='get' id='x'/>"};
        bytes want = {0}, got = {0};
        for (int i = 0; i < 3; i++) {
            server_send(&p.sv, msgs[i], strlen(msgs[i]));
            bytes_add(&want, msgs[i], strlen(msgs[i]));
        }
        XT_EQ_INT(client_read_all(&p, &got), XMPPC_EAGAIN);
        XT_CHECK(got.len == want.len &&
                 memcmp(got.data, want.data, want.len) == 0);
        /* client -> server */
        bytes srv_got = {0};
        XT_EQ_INT(xmppc__tls_write(&*p.cli, "<r xmlns='urn:xmpp:sm:3'/>", 26),
                  0);
        XT_EQ_INT(xmppc__tls_write(p.cli, "", 0), 0);
        XT_EQ_INT(xmppc__tls_flush(p.cli), 0);
        to_server(&p);
        XT_EQ_INT(server_read_all(&p.sv, &srv_got), GNUTLS_E_AGAIN);
        XT_CHECK(srv_got.len == 26 &&
                 memcmp(srv_got.data, "<r xmlns='urn:xmpp:sm:3'/>", 26) == 0);
        bytes_free(&want);
        bytes_free(&got);
        bytes_free(&srv_got);
        pair_close(&p);
    }
}

static void test_close_notify(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){0}), 0);
    /* The server says goodbye after some data: both arrive. */
    server_send(&p.sv, "</stream:stream>", 16);
    XT_EQ_INT(gnutls_bye(p.sv.s, GNUTLS_SHUT_WR), 0);
    bytes got = {0};
    XT_EQ_INT(client_read_all(&p, &got), 0);
    XT_CHECK(got.len == 16 && memcmp(got.data, "</stream:stream>", 16) == 0);
    char buf[16];
    XT_EQ_INT(xmppc__tls_read(p.cli, buf, sizeof buf), 0); /* stays closed */
    /* Our goodbye flushes pending data first. */
    XT_EQ_INT(xmppc__tls_write(p.cli, "</stream:stream>", 16), 0);
    XT_EQ_INT(xmppc__tls_bye(p.cli), 0);
    XT_EQ_INT(xmppc__tls_bye(p.cli), 0);
    XT_EQ_INT(xmppc__tls_write(p.cli, "x", 1), XMPPC_ESTATE);
    to_server(&p);
    bytes srv_got = {0};
    XT_EQ_INT(server_read_all(&p.sv, &srv_got), 0);
    XT_EQ_INT(srv_got.len, 16);
    bytes_free(&got);
    bytes_free(&srv_got);
    pair_close(&p);
}

static void test_renegotiation_refused(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.max_tls12 = true}), 0);
    XT_EQ_INT(gnutls_rehandshake(p.sv.s), 0);
    server_send(&p.sv, "after", 5);
    bytes got = {0};
    XT_EQ_INT(client_read_all(&p, &got), XMPPC_EAGAIN);
    XT_CHECK(got.len == 5 && memcmp(got.data, "after", 5) == 0);
    to_server(&p);
    unsigned char buf[64];
    XT_EQ_INT(gnutls_record_recv(p.sv.s, buf, sizeof buf),
              GNUTLS_E_WARNING_ALERT_RECEIVED);
    XT_EQ_INT(gnutls_alert_get(p.sv.s), GNUTLS_A_NO_RENEGOTIATION);
    bytes_free(&got);
    pair_close(&p);
}

static void test_corrupt_record(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){0}), 0);
    server_send(&p.sv, "hello", 5);
    p.sv.out.data[p.sv.out.len - 1] ^= 1; /* break the tag */
    bytes got = {0};
    XT_EQ_INT(client_read_all(&p, &got), XMPPC_ETLS);
    printf("# %s\n", xmppc_error_last()->message);
    XT_EQ_INT(got.len, 0);
    char buf[8];
    XT_EQ_INT(xmppc__tls_read(p.cli, buf, sizeof buf), XMPPC_ESTATE);
    bytes_free(&got);
    pair_close(&p);
}

static void test_state_errors(void)
{
    xmppc__tls_trust *trust = NULL;
    xmppc__tls *tls = NULL;
    XT_EQ_INT(xmppc__tls_trust_get(&trust, data_path("ca.pem"), false), 0);
    XT_EQ_INT(xmppc__tls_new(
                  &tls, &(xmppc__tls_config){.trust = trust,
                                             .reference_name = "xmppc.test"}),
              0);
    char buf[8];
    unsigned char *cb = NULL;
    size_t len = 0;
    XT_EQ_INT(xmppc__tls_write(tls, "x", 1), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__tls_read(tls, buf, sizeof buf), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__tls_read(tls, buf, 0), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__tls_bye(tls), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__tls_flush(tls), 0);
    XT_EQ_INT(xmppc__tls_channel_binding(tls, "tls-exporter", &cb, &len),
              XMPPC_ESTATE);
    XT_CHECK(xmppc__tls_version(tls) == NULL);
    /* The trust stays alive while the session uses it. */
    xmppc__tls_trust_unref(trust);
    XT_EQ_INT(xmppc__tls_handshake(tls), XMPPC_EAGAIN);
    XT_CHECK(xmppc__tls_outgoing(tls)->len > 0);      /* the ClientHello */
    XT_EQ_INT(xmppc__tls_outgoing(tls)->data[0], 22); /* handshake record */
    XT_EQ_INT(xmppc__tls_handshake(tls), XMPPC_EAGAIN);
    /* Garbage instead of a ServerHello. */
    XT_EQ_INT(xmppc__tls_feed(tls, "HTTP/1.1 400 Bad Request\r\n\r\n", 28), 0);
    XT_EQ_INT(xmppc__tls_handshake(tls), XMPPC_ETLS);
    printf("# %s\n", xmppc_error_last()->message);
    XT_EQ_INT(xmppc__tls_handshake(tls), XMPPC_ESTATE);
    xmppc__tls_free(tls);
}

/* ---- channel binding ---------------------------------------------------- */

static void test_channel_binding_tls13(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){0}), 0);
    check_same_binding(&p, "tls-exporter", GNUTLS_CB_TLS_EXPORTER);
    check_server_end_point(&p);
    unsigned char *cb = NULL;
    size_t len = 0;
    XT_EQ_INT(xmppc__tls_channel_binding(p.cli, "tls-unique", &cb, &len),
              XMPPC_ENOTSUP);
    XT_CONTAINS(xmppc_error_last()->message, "TLS 1.3");
    XT_EQ_INT(xmppc__tls_channel_binding(p.cli, "tls-bogus", &cb, &len),
              XMPPC_ENOTSUP);
    XT_CHECK(cb == NULL);
    pair_close(&p);
}

static void test_channel_binding_tls12(void)
{
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.max_tls12 = true}), 0);
    check_same_binding(&p, "tls-unique", GNUTLS_CB_TLS_UNIQUE);
    check_same_binding(&p, "tls-exporter", GNUTLS_CB_TLS_EXPORTER);
    check_server_end_point(&p);
    pair_close(&p);
    /* Without the extended master secret, neither tls-unique nor
     * tls-exporter is unique to the connection: refused. */
    XT_EQ_INT(pair_open(&p, &(opts){.max_tls12 = true,
                                    .server_prio = "NORMAL:%NO_SESSION_HASH"}),
              0);
    unsigned char *cb = NULL;
    size_t len = 0;
    XT_EQ_INT(xmppc__tls_channel_binding(p.cli, "tls-unique", &cb, &len),
              XMPPC_ENOTSUP);
    XT_EQ_INT(xmppc__tls_channel_binding(p.cli, "tls-exporter", &cb, &len),
              XMPPC_ENOTSUP);
    XT_EQ_INT(
        xmppc__tls_channel_binding(p.cli, "tls-server-end-point", &cb, &len),
        0);
    xmppc_free(cb);
    pair_close(&p);
}

/* ---- logging, memory ---------------------------------------------------- */

typedef struct log_capture {
    int calls;
    bool saw_established;
    char last[1024];
} log_capture;

static void capture_log(xmppc_conn *conn, xmppc_log_level level,
                        const char *area, const char *message, void *ud)
{
    log_capture *lc = ud;
    (void)conn;
    (void)level;
    lc->calls++;
    if (strcmp(area, "tls") == 0 && strstr(message, "established") &&
        strstr(message, "TLS1.3"))
        lc->saw_established = true;
    snprintf(lc->last, sizeof lc->last, "%s", message);
}

static void test_logs_negotiated_parameters(void)
{
    log_capture lc = {0};
    xmppc__logger logger = {capture_log, &lc, XMPPC_LOG_DEBUG, NULL};
    pair p;
    XT_EQ_INT(pair_open(&p, &(opts){.logger = &logger, .direct_tls = true}), 0);
    XT_CHECK(lc.saw_established);
    printf("# log: %s\n", lc.last);
    pair_close(&p);
}

static void test_out_of_memory(void)
{
    /* Every libxmppc allocation in turn fails: each step either works or
     * says ENOMEM, and nothing leaks. */
    long nth;
    for (nth = 1; nth < 500; nth++) {
        XT_EQ_INT(xt_failalloc_install(nth), 0);
        pair p;
        memset(&p, 0, sizeof p);
        server_init(&p.sv, "server", NULL);
        int rc = xmppc__tls_trust_get(&p.trust, data_path("ca.pem"), false);
        if (rc == 0)
            rc = xmppc__tls_new(
                &p.cli, &(xmppc__tls_config){.trust = p.trust,
                                             .reference_name = "xmppc.test"});
        if (rc == 0)
            rc = pump_handshake(&p);
        if (rc == 0)
            rc = xmppc__tls_write(p.cli, "<presence/>", 11);
        if (rc == 0)
            rc = xmppc__tls_flush(p.cli);
        unsigned char *cb = NULL;
        size_t len;
        if (rc == 0)
            rc = xmppc__tls_channel_binding(p.cli, "tls-exporter", &cb, &len);
        xmppc_free(cb);
        XT_CHECK(rc == 0 || rc == XMPPC_ENOMEM);
        pair_close(&p);
        XT_EQ_INT(xmppc_alloc_live_blocks(), 0);
        long calls = xt_failalloc.calls;
        XT_EQ_INT(xt_failalloc_remove(), 0);
        if (rc == 0 && calls < nth)
            break; /* every allocation of the run succeeded */
    }
    printf("# out-of-memory runs: %ld\n", nth);
    xmppc_error_clear();
}

static size_t heap_in_use(void)
{
#if defined(__GLIBC__)
    return mallinfo2().uordblks;
#else
    return 0;
#endif
}

static void test_idle_session_memory(void)
{
    enum { N = 64 };
    static pair pairs[N];
    xmppc__tls_trust *trust = NULL;
    XT_EQ_INT(xmppc__tls_trust_get(&trust, data_path("ca.pem"), false), 0);
    /* Warm up GnuTLS's lazy state. */
    XT_EQ_INT(pair_open(&pairs[0], &(opts){0}), 0);
    pair_close(&pairs[0]);
    size_t before = heap_in_use();
    for (int i = 0; i < N; i++) {
        XT_EQ_INT(pair_open(&pairs[i], &(opts){0}), 0);
        server_send(&pairs[i].sv, "<stream:features/>", 18);
        bytes got = {0};
        XT_EQ_INT(client_read_all(&pairs[i], &got), XMPPC_EAGAIN);
        bytes_free(&got);
    }
    /* Keep only the clients (and their share of the trust). */
    for (int i = 0; i < N; i++)
        server_free(&pairs[i].sv);
    size_t after = heap_in_use();
    long per = ((long)after - (long)before) / N;
    printf("# idle client session, shared credentials: %ld bytes of heap\n",
           per);
    /* After a 250 KB burst through each: GnuTLS may keep its buffers. */
    static char burst[250000];
    for (int i = 0; i < N; i++) {
        XT_EQ_INT(xmppc__tls_write(pairs[i].cli, burst, sizeof burst), 0);
        XT_EQ_INT(xmppc__tls_flush(pairs[i].cli), 0);
        xmppc__buf *out = xmppc__tls_outgoing(pairs[i].cli);
        xmppc__buf_consume(out, out->len);
        char buf[16];
        XT_EQ_INT(xmppc__tls_read(pairs[i].cli, buf, sizeof buf), XMPPC_EAGAIN);
    }
    long per_burst = ((long)heap_in_use() - (long)before) / N;
    printf("# ... after a 250 KB burst and a read: %ld bytes of heap\n",
           per_burst);
    if (after > 0) { /* not under sanitizers that hide malloc stats */
        XT_CHECK(per < 32 * 1024);
        XT_CHECK(per_burst < 32 * 1024);
    }
    for (int i = 0; i < N; i++) {
        xmppc__tls_free(pairs[i].cli);
        xmppc__tls_trust_unref(pairs[i].trust);
    }
    xmppc__tls_trust_unref(trust);
}

XT_MAIN(XT_TEST(test_handshake_tls13), XT_TEST(test_handshake_tls12),
        XT_TEST(test_handshake_byte_at_a_time),
        XT_TEST(test_alpn_on_direct_tls), XT_TEST(test_sni_and_names),
        XT_TEST(test_idn_reference_name), XT_TEST(test_old_server_is_refused),
        XT_TEST(test_cert_wrong_name), XT_TEST(test_cert_expired),
        XT_TEST(test_cert_not_yet_valid), XT_TEST(test_cert_self_signed),
        XT_TEST(test_cert_other_ca), XT_TEST(test_cert_insecure_algorithm),
        XT_TEST(test_cert_no_trust_anchors),
        XT_TEST(test_pin_accepts_untrusted), XT_TEST(test_pin_mismatch),
        XT_TEST(test_verify_cb_accepts), XT_TEST(test_verify_cb_rejects),
        XT_TEST(test_trust_cache), XT_TEST(test_trust_cache_threads),
        XT_TEST(test_trust_system_store_loaded_once),
        XT_TEST(test_trust_bad_ca_file), XT_TEST(test_new_rejects_bad_config),
        XT_TEST(test_corked_writes_tls13), XT_TEST(test_corked_writes_tls12),
        XT_TEST(test_roundtrip_byte_at_a_time), XT_TEST(test_close_notify),
        XT_TEST(test_renegotiation_refused), XT_TEST(test_corrupt_record),
        XT_TEST(test_state_errors), XT_TEST(test_channel_binding_tls13),
        XT_TEST(test_channel_binding_tls12),
        XT_TEST(test_logs_negotiated_parameters), XT_TEST(test_out_of_memory),
        XT_TEST(test_idle_session_memory))
