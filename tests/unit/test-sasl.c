/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The SASL client against an in-process libgsasl server (which checks our
 * proofs and channel bindings) and against hand-made server messages.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gsasl.h>

#include "../xtest.h"
#include "sasl.h"

#define PASSWORD "pencil"

/* ---- deterministic nonces ------------------------------------------------
 * libgsasl draws SCRAM nonces (and its server's nonces and salts) from
 * gsasl_nonce(), which it calls through the PLT, so this definition
 * replaces it. Queued values come out first, then random bytes. */

static struct {
    unsigned char data[4][64];
    size_t len[4];
    size_t head, count;
} nonces;

static void queue_nonce_b64(const char *b64)
{
    char *bin;
    size_t len;
    if (gsasl_base64_from(b64, strlen(b64), &bin, &len) != GSASL_OK ||
        len > sizeof nonces.data[0] || nonces.count == 4)
        abort();
    size_t slot = (nonces.head + nonces.count++) % 4;
    memcpy(nonces.data[slot], bin, len);
    nonces.len[slot] = len;
    gsasl_free(bin);
}

int gsasl_nonce(char *data, size_t len)
{
    if (nonces.count > 0 && nonces.len[nonces.head] == len) {
        memcpy(data, nonces.data[nonces.head], len);
        nonces.head = (nonces.head + 1) % 4;
        nonces.count--;
        return GSASL_OK;
    }
    return gnutls_rnd(GNUTLS_RND_NONCE, data, len) == 0 ? GSASL_OK
                                                        : GSASL_CRYPTO_ERROR;
}

/* ---- helpers ------------------------------------------------------------- */

static char *b64(const char *s)
{
    char *out;
    if (gsasl_base64_to(s, strlen(s), &out, NULL) != GSASL_OK)
        abort();
    return out; /* gsasl_free */
}

/* Decodes into dst (NUL-terminated); returns the length, 0 for invalid
 * input. */
static size_t unb64_into(const char *s, char *dst, size_t size)
{
    char *bin;
    size_t len;
    dst[0] = '\0';
    if (!s || gsasl_base64_from(s, strlen(s), &bin, &len) != GSASL_OK)
        return 0;
    if (len >= size)
        len = size - 1;
    memcpy(dst, bin, len);
    dst[len] = '\0';
    gsasl_free(bin);
    return len;
}

/* The same into a static buffer. */
static const char *unb64(const char *s)
{
    static char buf[1024];
    unb64_into(s, buf, sizeof buf);
    return buf;
}

/* Copies tmpl with each "{n}" replaced by nonce. */
static void subst(char *dst, size_t size, const char *tmpl, const char *nonce)
{
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < size;) {
        if (strncmp(p, "{n}", 3) == 0) {
            for (const char *q = nonce; *q && o + 1 < size; q++)
                dst[o++] = *q;
            p += 3;
        } else {
            dst[o++] = *p++;
        }
    }
    dst[o] = '\0';
}

static bool contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

#define XT_ERR_HAS(substr)                                                     \
    do {                                                                       \
        if (!contains(xmppc_error_last()->message, (substr)))                  \
            XT_FAIL_AT(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"",        \
                       xmppc_error_last()->message, (substr));                 \
    } while (0)

static xmppc__sasl_config config(const char *password)
{
    xmppc__sasl_config cfg = {0};
    cfg.authcid = "juliet";
    cfg.password = password;
    cfg.allow_plain = true;
    return cfg;
}

static const unsigned char cb_a[] = "channel-binding-bytes-A";
static const unsigned char cb_b[] = "channel-binding-bytes-B";

static xmppc__sasl_tls_info no_tls(void)
{
    xmppc__sasl_tls_info t = {0};
    return t;
}

static xmppc__sasl_tls_info tls12(unsigned int cb)
{
    xmppc__sasl_tls_info t = {0};
    t.active = true;
    t.version = 12;
    t.cb_available = cb;
    return t;
}

static xmppc__sasl_tls_info tls13(unsigned int cb)
{
    xmppc__sasl_tls_info t = tls12(cb);
    t.version = 13;
    return t;
}

/* Splits a space-separated list into a static array. */
typedef struct names {
    char store[256];
    const char *v[16];
    size_t n;
} names;

static void split(names *out, const char *list)
{
    out->n = 0;
    if (!list)
        return;
    snprintf(out->store, sizeof out->store, "%s", list);
    for (char *tok = strtok(out->store, " "); tok && out->n < 16;
         tok = strtok(NULL, " "))
        out->v[out->n++] = tok;
}

/* ---- the peer: a libgsasl server ----------------------------------------- */

typedef struct server {
    const char *password;
    const char *iter; /* NULL: libgsasl's default, 4096 */
    const char *salt; /* base64; NULL: random */
    const unsigned char *cb;
    size_t cb_len;
    char *cb_b64;
    /* filled after the exchange */
    int last_rc;
    char authid[64], authzid[64], salted_hex[65];
} server;

static Gsasl *server_ctx;

static int server_give(Gsasl_session *sctx, Gsasl_property prop,
                       const char *value)
{
    if (!value)
        return GSASL_NO_CALLBACK;
    return gsasl_property_set(sctx, prop, value);
}

static int server_cb(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
    (void)ctx;
    server *sv = gsasl_session_hook_get(sctx);
    switch (prop) {
    case GSASL_PASSWORD:
        return server_give(sctx, prop, sv->password);
    case GSASL_SCRAM_ITER:
        return server_give(sctx, prop, sv->iter);
    case GSASL_SCRAM_SALT:
        return server_give(sctx, prop, sv->salt);
    case GSASL_CB_TLS_UNIQUE:
    case GSASL_CB_TLS_EXPORTER:
        return server_give(sctx, prop, sv->cb_b64);
    case GSASL_VALIDATE_SIMPLE: {
        const char *pw = gsasl_property_fast(sctx, GSASL_PASSWORD);
        return pw && strcmp(pw, sv->password) == 0 ? GSASL_OK
                                                   : GSASL_AUTHENTICATION_ERROR;
    }
    default:
        return GSASL_NO_CALLBACK;
    }
}

static void copy_prop(Gsasl_session *sess, Gsasl_property prop, char *dst,
                      size_t size)
{
    const char *v = gsasl_property_fast(sess, prop);
    snprintf(dst, size, "%s", v ? v : "");
}

typedef struct exchange {
    const char *offered; /* space-separated */
    xmppc__sasl_tls_info tls;
    const unsigned char *cb; /* what we hand xmppc__sasl_start */
    size_t cb_len;
    bool final_as_challenge; /* v= in a <challenge/>, empty <success/> */
    bool want_key;           /* also call xmppc__sasl_get_cached_key() */
    /* results */
    const char *mech;
    char client_first[512]; /* decoded initial response */
    size_t client_first_len;
    char client_final[512];
    char client_first_b64[512], client_final_b64[512];
} exchange;

/* Runs a whole exchange; returns our first negative status, or 0. A server
 * rejection is reported to us as <failure><not-authorized/>. */
static int run(xmppc__sasl *cl, exchange *ex, server *sv)
{
    names offered;
    split(&offered, ex->offered);
    int rc = xmppc__sasl_choose(cl, offered.v, offered.n, &ex->tls, &ex->mech);
    if (rc < 0)
        return rc;
    char *msg = NULL;
    rc = xmppc__sasl_start(cl, ex->cb, ex->cb_len, &msg);
    if (rc < 0)
        return rc;
    ex->client_first_len =
        unb64_into(msg, ex->client_first, sizeof ex->client_first);
    snprintf(ex->client_first_b64, sizeof ex->client_first_b64, "%s", msg);

    free(sv->cb_b64);
    sv->cb_b64 = NULL;
    if (sv->cb)
        gsasl_base64_to((const char *)sv->cb, sv->cb_len, &sv->cb_b64, NULL);
    Gsasl_session *sess;
    if (gsasl_server_start(server_ctx, ex->mech, &sess) != GSASL_OK)
        abort();
    gsasl_session_hook_set(sess, sv);

    for (int round = 0;; round++) {
        char *out = NULL;
        sv->last_rc = gsasl_step64(sess, msg, &out);
        if (round == 1) {
            unb64_into(msg, ex->client_final, sizeof ex->client_final);
            snprintf(ex->client_final_b64, sizeof ex->client_final_b64, "%s",
                     msg ? msg : "");
        }
        xmppc__free_secret(msg);
        msg = NULL;
        if (sv->last_rc == GSASL_NEEDS_MORE) {
            rc = xmppc__sasl_step(cl, out, &msg);
        } else if (sv->last_rc == GSASL_OK) {
            if (ex->final_as_challenge && *out) {
                rc = xmppc__sasl_step(cl, out, &msg);
                if (rc == 0) {
                    XT_EQ_STR(msg, ""); /* an empty <response/> */
                    xmppc__free_secret(msg);
                    msg = NULL;
                    rc = xmppc__sasl_success(cl, NULL);
                }
            } else {
                rc = xmppc__sasl_success(cl, out);
            }
        } else {
            rc = xmppc__sasl_failure(cl, "not-authorized", NULL);
        }
        if (sv->last_rc == GSASL_OK || sv->last_rc == GSASL_NEEDS_MORE)
            gsasl_free(out); /* otherwise unspecified */
        if (rc < 0 || sv->last_rc != GSASL_NEEDS_MORE)
            break;
    }
    xmppc__free_secret(msg);
    if (rc == 0 && ex->want_key) {
        xmppc__sasl_cached_key key = {0};
        rc = xmppc__sasl_get_cached_key(cl, &key);
        if (rc == 0)
            xmppc__sasl_cached_key_clear(&key);
    }
    copy_prop(sess, GSASL_AUTHID, sv->authid, sizeof sv->authid);
    copy_prop(sess, GSASL_AUTHZID, sv->authzid, sizeof sv->authzid);
    copy_prop(sess, GSASL_SCRAM_SALTED_PASSWORD, sv->salted_hex,
              sizeof sv->salted_hex);
    gsasl_finish(sess);
    return rc;
}

static void server_done(server *sv)
{
    free(sv->cb_b64);
    sv->cb_b64 = NULL;
}

/* new + run + free in one go. */
static int login(const xmppc__sasl_config *cfg, exchange *ex, server *sv)
{
    xmppc__sasl *cl;
    int rc = xmppc__sasl_new(&cl, cfg);
    if (rc < 0)
        return rc;
    rc = run(cl, ex, sv);
    xmppc__sasl_free(cl);
    return rc;
}

/* ---- against the libgsasl server ----------------------------------------- */

static void test_scram_sha1_and_sha256(void)
{
    const char *mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-256"};
    for (int i = 0; i < 2; i++) {
        for (int as_challenge = 0; as_challenge < 2; as_challenge++) {
            xmppc__sasl_config cfg = config(PASSWORD);
            exchange ex = {.offered = mechs[i],
                           .tls = no_tls(),
                           .final_as_challenge = as_challenge};
            server sv = {.password = PASSWORD};
            xmppc__sasl *cl;
            XT_EQ_INT(xmppc__sasl_new(&cl, &cfg), 0);
            XT_EQ_INT(run(cl, &ex, &sv), 0);
            XT_EQ_STR(ex.mech, mechs[i]);
            XT_EQ_STR(xmppc__sasl_mechanism(cl), mechs[i]);
            XT_CHECK(strncmp(ex.client_first, "n,,n=juliet,r=", 14) == 0);
            XT_EQ_INT(xmppc__sasl_channel_binding(cl), XMPPC__SASL_CB_NONE);
            XT_EQ_STR(sv.authid, "juliet");

            xmppc__sasl_cached_key key = {0};
            XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &key), 0);
            XT_EQ_INT(key.hash,
                      i ? XMPPC__SASL_HASH_SHA256 : XMPPC__SASL_HASH_SHA1);
            XT_EQ_INT(key.iterations, 4096);
            XT_CHECK(key.salt_b64 && *key.salt_b64);
            XT_EQ_INT(strlen(key.salted_password_hex), i ? 64 : 40);
            /* the server derived the same SaltedPassword */
            XT_EQ_STR(key.salted_password_hex, sv.salted_hex);
            xmppc__sasl_cached_key_clear(&key);
            XT_CHECK(key.salt_b64 == NULL && key.salted_password_hex[0] == 0);
            xmppc__sasl_free(cl);
            server_done(&sv);
        }
    }
}

static void test_scram_plus(void)
{
    static const char *const x0440_exporter[] = {"tls-exporter"};
    for (int hash = 0; hash < 2; hash++) {
        for (int type = 0; type < 2; type++) {
            const char *offered = hash
                                      ? "SCRAM-SHA-256-PLUS SCRAM-SHA-256 PLAIN"
                                      : "SCRAM-SHA-1-PLUS SCRAM-SHA-1 PLAIN";
            xmppc__sasl_tls_info tls;
            if (type == 0) {
                tls = tls12(XMPPC__SASL_CB_TLS_UNIQUE |
                            XMPPC__SASL_CB_TLS_EXPORTER);
            } else {
                tls = tls13(XMPPC__SASL_CB_TLS_EXPORTER);
                tls.server_cb_types = x0440_exporter;
                tls.n_server_cb_types = 1;
            }
            const char *want_first =
                type ? "p=tls-exporter,,n=juliet," : "p=tls-unique,,n=juliet,";

            /* same channel both sides: success */
            xmppc__sasl_config cfg = config(PASSWORD);
            exchange ex = {.offered = offered,
                           .tls = tls,
                           .cb = cb_a,
                           .cb_len = sizeof cb_a};
            server sv = {
                .password = PASSWORD, .cb = cb_a, .cb_len = sizeof cb_a};
            xmppc__sasl *cl;
            XT_EQ_INT(xmppc__sasl_new(&cl, &cfg), 0);
            XT_EQ_INT(run(cl, &ex, &sv), 0);
            XT_EQ_STR(ex.mech,
                      hash ? "SCRAM-SHA-256-PLUS" : "SCRAM-SHA-1-PLUS");
            XT_EQ_INT(xmppc__sasl_channel_binding(cl),
                      type ? XMPPC__SASL_CB_TLS_EXPORTER
                           : XMPPC__SASL_CB_TLS_UNIQUE);
            XT_CHECK(strncmp(ex.client_first, want_first, strlen(want_first)) ==
                     0);
            xmppc__sasl_free(cl);

            /* a different channel (a MITM's): the server rejects us */
            ex.cb = cb_b;
            ex.cb_len = sizeof cb_b;
            XT_EQ_INT(login(&cfg, &ex, &sv), XMPPC_EAUTH);
            XT_EQ_INT(sv.last_rc, GSASL_AUTHENTICATION_ERROR);
            XT_EQ_STR(xmppc_error_last()->condition, "not-authorized");
            server_done(&sv);
        }
    }
    xmppc_error_clear();
}

static void test_plain(void)
{
    xmppc__sasl_config cfg = config(PASSWORD);
    exchange ex = {.offered = "PLAIN", .tls = tls13(0)};
    server sv = {.password = PASSWORD};
    XT_EQ_INT(login(&cfg, &ex, &sv), 0);
    XT_EQ_STR(ex.mech, "PLAIN");
    XT_EQ_INT(ex.client_first_len, 14);
    XT_CHECK(memcmp(ex.client_first, "\0juliet\0pencil", 14) == 0);
    XT_EQ_STR(sv.authid, "juliet");

    /* wrong password */
    sv.password = "other";
    XT_EQ_INT(login(&cfg, &ex, &sv), XMPPC_EAUTH);
    XT_EQ_STR(xmppc_error_last()->condition, "not-authorized");

    /* never without TLS, even when allowed */
    ex.tls = no_tls();
    XT_EQ_INT(login(&cfg, &ex, &sv), XMPPC_EAUTH);
    XT_ERR_HAS("server offers: PLAIN");
    XT_ERR_HAS("PLAIN is refused without TLS");

    /* not allowed by the settings */
    cfg.allow_plain = false;
    ex.tls = tls13(0);
    XT_EQ_INT(login(&cfg, &ex, &sv), XMPPC_EAUTH);
    XT_ERR_HAS("not allowed");
    server_done(&sv);
    xmppc_error_clear();
}

static void test_wrong_password(void)
{
    const char *offers[] = {"SCRAM-SHA-1", "SCRAM-SHA-256-PLUS",
                            "SCRAM-SHA-256"};
    for (int i = 0; i < 3; i++) {
        xmppc__sasl_config cfg = config("wrong");
        exchange ex = {.offered = offers[i],
                       .tls = tls12(XMPPC__SASL_CB_TLS_UNIQUE),
                       .cb = cb_a,
                       .cb_len = sizeof cb_a};
        server sv = {.password = PASSWORD, .cb = cb_a, .cb_len = sizeof cb_a};
        if (i == 2)
            sv.cb = NULL; /* the 'y' path, computed by us */
        XT_EQ_INT(login(&cfg, &ex, &sv), XMPPC_EAUTH);
        XT_EQ_INT(sv.last_rc, GSASL_AUTHENTICATION_ERROR);
        XT_EQ_STR(xmppc_error_last()->condition, "not-authorized");
        XT_ERR_HAS("not-authorized");
        server_done(&sv);
    }
    xmppc_error_clear();
}

/* gs2 flag 'y': libgsasl cannot send it, so client-final comes from our
 * code; the libgsasl server checks it. */
static void test_gs2_y(void)
{
    for (int hash = 0; hash < 2; hash++) {
        for (int as_challenge = 0; as_challenge < 2; as_challenge++) {
            xmppc__sasl_config cfg = config(PASSWORD);
            exchange ex = {.offered = hash ? "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"
                                           : "SCRAM-SHA-1 PLAIN",
                           .tls = tls12(XMPPC__SASL_CB_TLS_UNIQUE),
                           .final_as_challenge = as_challenge};
            server sv = {.password = PASSWORD};
            xmppc__sasl *cl;
            XT_EQ_INT(xmppc__sasl_new(&cl, &cfg), 0);
            XT_EQ_INT(run(cl, &ex, &sv), 0);
            XT_CHECK(strncmp(ex.client_first, "y,,n=juliet,r=", 14) == 0);
            XT_CHECK(strncmp(ex.client_final, "c=eSws,r=", 9) == 0);
            XT_EQ_INT(xmppc__sasl_channel_binding(cl), XMPPC__SASL_CB_NONE);
            xmppc__sasl_cached_key key = {0};
            XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &key), 0);
            XT_EQ_STR(key.salted_password_hex, sv.salted_hex);
            xmppc__sasl_cached_key_clear(&key);
            xmppc__sasl_free(cl);

            /* A server that supports channel binding sees that -PLUS was
             * stripped on the way (RFC 5802 §6) and fails us. */
            sv.cb = cb_a;
            sv.cb_len = sizeof cb_a;
            XT_EQ_INT(login(&cfg, &ex, &sv), XMPPC_EAUTH);
            XT_EQ_INT(sv.last_rc, GSASL_AUTHENTICATION_ERROR);
            server_done(&sv);
        }
    }
    xmppc_error_clear();
}

/* -PLUS offered but unusable (TLS 1.3 without XEP-0440, as ejabberd
 * 23.01): flag 'n', or a server that binds would fail us. */
static void test_gs2_n_when_plus_offered(void)
{
    xmppc__sasl_config cfg = config(PASSWORD);
    exchange ex = {.offered = "PLAIN SCRAM-SHA-1-PLUS SCRAM-SHA-1",
                   .tls = tls13(XMPPC__SASL_CB_TLS_EXPORTER),
                   .cb = cb_a,
                   .cb_len = sizeof cb_a};
    server sv = {.password = PASSWORD, .cb = cb_a, .cb_len = sizeof cb_a};
    XT_EQ_INT(login(&cfg, &ex, &sv), 0);
    XT_EQ_STR(ex.mech, "SCRAM-SHA-1");
    XT_CHECK(strncmp(ex.client_first, "n,,", 3) == 0);
    XT_CHECK(strncmp(ex.client_final, "c=biws,", 7) == 0);
    server_done(&sv);
}

static void test_authzid_and_escaping(void)
{
    for (int y = 0; y < 2; y++) {
        xmppc__sasl_config cfg = config(PASSWORD);
        cfg.authcid = "a,b=c";
        cfg.authzid = "admin@example.org";
        exchange ex = {.offered = "SCRAM-SHA-256",
                       .tls = y ? tls12(XMPPC__SASL_CB_TLS_UNIQUE) : no_tls()};
        server sv = {.password = PASSWORD};
        XT_EQ_INT(login(&cfg, &ex, &sv), 0);
        XT_EQ_STR(sv.authid, "a,b=c");
        XT_EQ_STR(sv.authzid, "admin@example.org");
        XT_CHECK(contains(ex.client_first, "n=a=2Cb=3Dc,"));
        XT_CHECK(strncmp(ex.client_first, y ? "y,a=" : "n,a=", 4) == 0);
        server_done(&sv);
    }
}

/* Our 'y' path must prepare the password exactly as libgsasl does. */
static void test_saslprep_password(void)
{
    for (int y = 0; y < 2; y++) {
        xmppc__sasl_config cfg = config("I\xC2\xADX"); /* soft hyphen */
        exchange ex = {.offered = "SCRAM-SHA-1",
                       .tls = y ? tls12(XMPPC__SASL_CB_TLS_UNIQUE) : no_tls()};
        server sv = {.password = "IX"};
        XT_EQ_INT(login(&cfg, &ex, &sv), 0);
        server_done(&sv);
    }
    /* not valid UTF-8, or unassigned in Unicode 3.2 (U+0221): refused
     * before anything is sent */
    const char *bad[] = {"\xff", "a\xC8\xA1"};
    for (int i = 0; i < 2; i++) {
        xmppc__sasl_config cfg = config(bad[i]);
        xmppc__sasl *s = NULL;
        XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);
        XT_ERR_HAS("SASLprep");
        XT_CHECK(s == NULL);
    }
    xmppc_error_clear();
}

/* ---- mechanism choice ---------------------------------------------------- */

static void test_choose_table(void)
{
    static const char *const exporter[] = {"tls-exporter"};
    static const char *const unique_exporter[] = {"tls-unique", "tls-exporter"};
    static const char *const endpoint[] = {"tls-server-end-point"};
    enum { U = XMPPC__SASL_CB_TLS_UNIQUE, E = XMPPC__SASL_CB_TLS_EXPORTER };
    static const char all[] = "PLAIN SCRAM-SHA-1 SCRAM-SHA-1-PLUS "
                              "SCRAM-SHA-256 SCRAM-SHA-256-PLUS";
    struct row {
        const char *what;
        const char *offered;
        bool tls;
        int version;
        unsigned int cb;
        const char *const *x0440;
        size_t n_x0440;
        bool x0440_present;
        bool cached_sha1; /* no password, a SHA-1 key */
        bool allow_plain;
        const char *want_mech; /* NULL: XMPPC_EAUTH */
        int want_cb;
        const char *want_gs2; /* prefix of client-first */
    } rows[] = {
        {"XEP-0440 exporter on TLS 1.3", all, true, 13, E, exporter, 1, true,
         false, true, "SCRAM-SHA-256-PLUS", E, "p=tls-exporter,,"},
        {"TLS 1.2 without XEP-0440: tls-unique", all, true, 12, U | E, NULL, 0,
         false, false, true, "SCRAM-SHA-256-PLUS", U, "p=tls-unique,,"},
        {"TLS 1.3 without XEP-0440: no -PLUS, flag n", all, true, 13, E, NULL,
         0, false, false, true, "SCRAM-SHA-256", 0, "n,,"},
        {"ejabberd 23.01 on TLS 1.3", "PLAIN SCRAM-SHA-1-PLUS SCRAM-SHA-1",
         true, 13, E, NULL, 0, false, false, true, "SCRAM-SHA-1", 0, "n,,"},
        {"Prosody 0.12 on TLS 1.3", "PLAIN SCRAM-SHA-1", true, 13, E, NULL, 0,
         false, false, true, "SCRAM-SHA-1", 0, "n,,"},
        {"Prosody 0.12 on TLS 1.2", "PLAIN SCRAM-SHA-1 SCRAM-SHA-1-PLUS", true,
         12, U, NULL, 0, false, false, true, "SCRAM-SHA-1-PLUS", U,
         "p=tls-unique,,"},
        {"XEP-0440 order: unique first, but TLS 1.3", all, true, 13, U | E,
         unique_exporter, 2, true, false, true, "SCRAM-SHA-256-PLUS", E,
         "p=tls-exporter,,"},
        {"XEP-0440 order: unique first on TLS 1.2", all, true, 12, U | E,
         unique_exporter, 2, true, false, true, "SCRAM-SHA-256-PLUS", U,
         "p=tls-unique,,"},
        {"XEP-0440 exporter, we lack it on TLS 1.2", all, true, 12, U, exporter,
         1, true, false, true, "SCRAM-SHA-256", 0, "n,,"},
        {"XEP-0440 only types we lack", all, true, 13, E, endpoint, 1, true,
         false, true, "SCRAM-SHA-256", 0, "n,,"},
        {"XEP-0440 present but empty", all, true, 12, U, NULL, 0, true, false,
         true, "SCRAM-SHA-256", 0, "n,,"},
        {"-PLUS stripped on TLS 1.2: flag y", "PLAIN SCRAM-SHA-1", true, 12, U,
         NULL, 0, false, false, true, "SCRAM-SHA-1", 0, "y,,"},
        {"-PLUS stripped, XEP-0440 agreed: flag y", "SCRAM-SHA-256", true, 13,
         E, exporter, 1, true, false, true, "SCRAM-SHA-256", 0, "y,,"},
        {"TLS 1.2 without tls-unique data: flag n", "SCRAM-SHA-1", true, 12, 0,
         NULL, 0, false, false, true, "SCRAM-SHA-1", 0, "n,,"},
        {"TLS 1.2, tls-unique claimed on TLS 1.3 ignored", all, true, 13, U,
         NULL, 0, false, false, true, "SCRAM-SHA-256", 0, "n,,"},
        {"no TLS: no -PLUS", all, false, 0, U | E, NULL, 0, false, false, true,
         "SCRAM-SHA-256", 0, "n,,"},
        {"no TLS, -PLUS only", "SCRAM-SHA-1-PLUS", false, 0, 0, NULL, 0, false,
         false, true, NULL, 0, NULL},
        {"no TLS, PLAIN only", "PLAIN", false, 0, 0, NULL, 0, false, false,
         true, NULL, 0, NULL},
        {"TLS, PLAIN only", "PLAIN", true, 13, E, NULL, 0, false, false, true,
         "PLAIN", 0, NULL},
        {"TLS, PLAIN only, not allowed", "PLAIN", true, 13, E, NULL, 0, false,
         false, false, NULL, 0, NULL},
        {"only DIGEST-MD5", "DIGEST-MD5 CRAM-MD5", true, 13, E, NULL, 0, false,
         false, true, NULL, 0, NULL},
        {"nothing offered", "", true, 13, E, NULL, 0, false, false, true, NULL,
         0, NULL},
        {"names are case-sensitive", "scram-sha-1 plain", true, 13, E, NULL, 0,
         false, false, true, NULL, 0, NULL},
        {"SCRAM preferred to PLAIN", "PLAIN SCRAM-SHA-1", true, 13, 0, NULL, 0,
         false, false, true, "SCRAM-SHA-1", 0, "n,,"},
        {"cached SHA-1 key skips SHA-256", all, true, 12, U, NULL, 0, false,
         true, true, "SCRAM-SHA-1-PLUS", U, "p=tls-unique,,"},
        {"cached SHA-1 key, no -PLUS, SHA-256-PLUS offered: n",
         "SCRAM-SHA-256-PLUS SCRAM-SHA-1", true, 12, U, NULL, 0, false, true,
         true, "SCRAM-SHA-1", 0, "n,,"},
        {"cached SHA-1 key, only SHA-256", "SCRAM-SHA-256 PLAIN", true, 13, 0,
         NULL, 0, false, true, true, NULL, 0, NULL},
    };
    xmppc__sasl_cached_key key = {.hash = XMPPC__SASL_HASH_SHA1,
                                  .salt_b64 = (char *)"QSXCR+Q6sek8bf92",
                                  .iterations = 4096};
    memset(key.salted_password_hex, 'a', 40);

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        printf("# %s\n", r->what);
        xmppc__sasl_config cfg = config(r->cached_sha1 ? NULL : PASSWORD);
        cfg.allow_plain = r->allow_plain;
        if (r->cached_sha1)
            cfg.cached_key = &key;
        xmppc__sasl_tls_info tls = {0};
        tls.active = r->tls;
        tls.version = r->version;
        tls.cb_available = r->cb;
        static const char *const empty[1] = {NULL};
        tls.server_cb_types = r->x0440           ? r->x0440
                              : r->x0440_present ? empty
                                                 : NULL;
        tls.n_server_cb_types = r->n_x0440;
        names offered;
        split(&offered, r->offered);
        xmppc__sasl *s;
        XT_EQ_INT(xmppc__sasl_new(&s, &cfg), 0);
        const char *mech = NULL;
        int rc = xmppc__sasl_choose(s, offered.v, offered.n, &tls, &mech);
        if (!r->want_mech) {
            XT_EQ_INT(rc, XMPPC_EAUTH);
            XT_ERR_HAS("no acceptable mechanism");
            if (offered.n)
                XT_ERR_HAS(offered.v[0]);
            xmppc__sasl_free(s);
            continue;
        }
        XT_EQ_INT(rc, 0);
        XT_EQ_STR(mech, r->want_mech);
        XT_EQ_INT(xmppc__sasl_channel_binding(s), r->want_cb);
        char *first = NULL;
        XT_EQ_INT(xmppc__sasl_start(s, cb_a, sizeof cb_a, &first), 0);
        const char *decoded = unb64(first);
        if (r->want_gs2)
            XT_CHECK(strncmp(decoded, r->want_gs2, strlen(r->want_gs2)) == 0);
        xmppc__free_secret(first);
        xmppc__sasl_free(s);
    }
    xmppc_error_clear();
}

/* ---- salted-password cache ----------------------------------------------- */

static void test_cached_key(void)
{
    const char *salt = "c2FsdHktc2FsdA==";
    for (int y = 0; y < 2; y++) {
        xmppc__sasl_tls_info tls =
            y ? tls12(XMPPC__SASL_CB_TLS_UNIQUE) : no_tls();
        xmppc__sasl_config cfg = config(PASSWORD);
        exchange ex = {.offered = "SCRAM-SHA-256", .tls = tls};
        server sv = {.password = PASSWORD, .salt = salt, .iter = "5000"};
        xmppc__sasl *cl;
        XT_EQ_INT(xmppc__sasl_new(&cl, &cfg), 0);
        XT_EQ_INT(run(cl, &ex, &sv), 0);
        xmppc__sasl_cached_key key = {0};
        XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &key), 0);
        xmppc__sasl_free(cl);
        XT_EQ_STR(key.salt_b64, salt);
        XT_EQ_INT(key.iterations, 5000);
        XT_EQ_INT(key.hash, XMPPC__SASL_HASH_SHA256);
        if (!key.salt_b64) { /* already failed; the rest would crash */
            server_done(&sv);
            return;
        }

        /* the key alone logs in (uppercase hex is fine too) */
        for (char *p = key.salted_password_hex; *p; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        xmppc__sasl_config kcfg = config(NULL);
        kcfg.cached_key = &key;
        XT_EQ_INT(xmppc__sasl_new(&cl, &kcfg), 0);
        XT_EQ_INT(run(cl, &ex, &sv), 0);
        xmppc__sasl_cached_key again = {0};
        XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &again), 0);
        XT_EQ_STR(again.salted_password_hex, sv.salted_hex);
        xmppc__sasl_cached_key_clear(&again);
        xmppc__sasl_free(cl);

        /* new salt or count on the server: the password is needed */
        server other_salt = {
            .password = PASSWORD, .salt = "b3RoZXI=", .iter = "5000"};
        server other_iter = {
            .password = PASSWORD, .salt = salt, .iter = "6000"};
        XT_EQ_INT(login(&kcfg, &ex, &other_salt), XMPPC_EAUTH);
        XT_ERR_HAS("cached key does not match the server's salt/iterations; "
                   "the password is needed");
        XT_EQ_INT(login(&kcfg, &ex, &other_iter), XMPPC_EAUTH);
        XT_ERR_HAS("the password is needed");

        /* ...which, when given too, takes over */
        kcfg.password = PASSWORD;
        XT_EQ_INT(xmppc__sasl_new(&cl, &kcfg), 0);
        XT_EQ_INT(run(cl, &ex, &other_salt), 0);
        XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &again), 0);
        XT_EQ_STR(again.salt_b64, "b3RoZXI=");
        XT_CHECK(strcmp(again.salted_password_hex, sv.salted_hex) != 0);
        xmppc__sasl_cached_key_clear(&again);
        xmppc__sasl_free(cl);

        /* a key for the wrong password fails at the server */
        key.salted_password_hex[0] =
            key.salted_password_hex[0] == '0' ? '1' : '0';
        kcfg.password = NULL;
        XT_EQ_INT(login(&kcfg, &ex, &sv), XMPPC_EAUTH);
        XT_EQ_INT(sv.last_rc, GSASL_AUTHENTICATION_ERROR);

        xmppc__sasl_cached_key_clear(&key);
        server_done(&sv);
        server_done(&other_salt);
        server_done(&other_iter);
    }
    xmppc_error_clear();
}

/* ---- hand-made server messages ------------------------------------------- */

/* RFC 5802 §5's example, made exact by fixing the client nonce. */
static const char rfc_nonce[] = "fyko+d2lbbFgONRv9qkxdawL";
static const char rfc_server_first[] =
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
static const char rfc_client_final[] =
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
    "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
static const char rfc_server_final[] = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

/* Brings a client for user/pencil to the point after client-final. */
static xmppc__sasl *rfc_client(const xmppc__sasl_cached_key *key)
{
    xmppc__sasl_config cfg = config(key ? NULL : PASSWORD);
    cfg.authcid = "user";
    cfg.cached_key = key;
    xmppc__sasl *s;
    if (xmppc__sasl_new(&s, &cfg) < 0)
        return NULL;
    const char *offered[] = {"SCRAM-SHA-1"};
    const char *mech;
    xmppc__sasl_tls_info tls = no_tls();
    char *msg = NULL;
    queue_nonce_b64(rfc_nonce);
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 1, &tls, &mech), 0);
    XT_EQ_INT(xmppc__sasl_start(s, NULL, 0, &msg), 0);
    const char *first = unb64(msg);
    if (strcmp(first, "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL") != 0)
        XT_FAIL_AT(__FILE__, __LINE__,
                   "client-first \"%s\": is gsasl_nonce() still "
                   "interposable?",
                   first);
    xmppc__free_secret(msg);
    char *sf = b64(rfc_server_first);
    XT_EQ_INT(xmppc__sasl_step(s, sf, &msg), 0);
    gsasl_free(sf);
    XT_EQ_STR(unb64(msg), rfc_client_final);
    xmppc__free_secret(msg);
    return s;
}

static void expect_success(const char *final, int want, const char *err)
{
    xmppc__sasl *s = rfc_client(NULL);
    char *data = final ? b64(final) : NULL;
    XT_EQ_INT(xmppc__sasl_success(s, data), want);
    if (err)
        XT_ERR_HAS(err);
    if (want < 0) { /* failed for good */
        XT_EQ_INT(xmppc__sasl_success(s, data), XMPPC_ESTATE);
        xmppc__sasl_cached_key key = {0};
        XT_EQ_INT(xmppc__sasl_get_cached_key(s, &key), XMPPC_ESTATE);
    }
    gsasl_free(data);
    xmppc__sasl_free(s);
}

static void test_rfc5802_vector(void)
{
    xmppc__sasl *s = rfc_client(NULL);
    char *sfinal = b64(rfc_server_final);
    XT_EQ_INT(xmppc__sasl_success(s, sfinal), 0);
    xmppc__sasl_cached_key key = {0};
    XT_EQ_INT(xmppc__sasl_get_cached_key(s, &key), 0);
    XT_EQ_STR(key.salt_b64, "QSXCR+Q6sek8bf92");
    XT_EQ_INT(key.iterations, 4096);
    char salt[32], salted[20], ck[20], sk[20], stk[20], hex[41];
    size_t salt_len;
    char *bin;
    gsasl_base64_from("QSXCR+Q6sek8bf92", 16, &bin, &salt_len);
    memcpy(salt, bin, salt_len);
    gsasl_free(bin);
    gsasl_scram_secrets_from_password(GSASL_HASH_SHA1, PASSWORD, 4096, salt,
                                      salt_len, salted, ck, sk, stk);
    for (int i = 0; i < 20; i++)
        sprintf(hex + 2 * i, "%02x", (unsigned char)salted[i]);
    XT_EQ_STR(key.salted_password_hex, hex);
    xmppc__sasl_free(s);

    /* the cached key reproduces the same proof without the password */
    s = rfc_client(&key);
    XT_EQ_INT(xmppc__sasl_success(s, sfinal), 0);
    xmppc__sasl_free(s);
    xmppc__sasl_cached_key_clear(&key);

    /* v= in a challenge, then an empty <success/> */
    s = rfc_client(NULL);
    char *resp = NULL;
    XT_EQ_INT(xmppc__sasl_step(s, sfinal, &resp), 0);
    XT_EQ_STR(resp, "");
    xmppc__free_secret(resp);
    XT_EQ_INT(xmppc__sasl_success(s, NULL), 0);
    xmppc__sasl_free(s);
    /* ...and a wrong v= in a challenge */
    s = rfc_client(NULL);
    char *bad = b64("v=rmF9pqV8S7suAoZWja4dJRkFsKX=");
    XT_EQ_INT(xmppc__sasl_step(s, bad, &resp), XMPPC_EAUTH);
    XT_ERR_HAS("server signature wrong");
    gsasl_free(bad);
    xmppc__sasl_free(s);
    gsasl_free(sfinal);

    expect_success("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,x=ext", 0, NULL);
    expect_success("v=rmF9pqV8S7suAoZWja4dJRkFsKX=", XMPPC_EAUTH,
                   "server signature wrong");
    expect_success("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", XMPPC_EAUTH,
                   "server signature wrong");
    expect_success(NULL, XMPPC_EAUTH, "server signature missing");
    expect_success("x=rmF9pqV8S7suAoZWja4dJRkFsKQ=", XMPPC_EAUTH,
                   "server signature missing");
    expect_success("v=c2hvcnQ=", XMPPC_EAUTH, "server signature malformed");
    expect_success("v=not base64", XMPPC_EAUTH, "server signature malformed");
    expect_success("e=invalid-proof", XMPPC_EAUTH, "invalid-proof");
    /* "=" is an empty <success/> too */
    s = rfc_client(NULL);
    XT_EQ_INT(xmppc__sasl_success(s, "="), XMPPC_EAUTH);
    XT_ERR_HAS("server signature missing");
    xmppc__sasl_free(s);
    s = rfc_client(NULL);
    XT_EQ_INT(xmppc__sasl_success(s, "!!!!"), XMPPC_EAUTH);
    xmppc__sasl_free(s);
    xmppc_error_clear();
}

/* Starts a SCRAM-SHA-1 client (over @p tls, or none) and returns its
 * client nonce. */
static xmppc__sasl *started_over(const xmppc__sasl_config *cfg,
                                 const xmppc__sasl_tls_info *tls_or_null,
                                 char *nonce, size_t size)
{
    xmppc__sasl *s;
    if (xmppc__sasl_new(&s, cfg) < 0)
        return NULL;
    const char *offered[] = {"SCRAM-SHA-1"};
    const char *mech;
    char *msg = NULL;
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 1, tls_or_null, &mech), 0);
    XT_EQ_INT(xmppc__sasl_start(s, NULL, 0, &msg), 0);
    const char *r = strstr(unb64(msg), ",r=");
    snprintf(nonce, size, "%s", r ? r + 3 : "");
    xmppc__free_secret(msg);
    return s;
}

static xmppc__sasl *started(const xmppc__sasl_config *cfg, char *nonce,
                            size_t size)
{
    return started_over(cfg, NULL, nonce, size);
}

static void test_server_first_checks(void)
{
    struct {
        const char *fmt; /* {n}: our client nonce */
        int want;
        const char *err;
        unsigned int min, max;
    } rows[] = {
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=4096", 0, NULL, 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=4096,x=ext", 0, NULL, 0, 0},
        {"r=X{n}SRV,s=QSXCR+Q6sek8bf92,i=4096", XMPPC_EAUTH, "nonce", 0, 0},
        {"r=fyko+d2lbbFgONRv9qkxdawLSRV,s=QSXCR+Q6sek8bf92,i=4096", XMPPC_EAUTH,
         "does not extend our client nonce", 0, 0},
        {"r={n},s=QSXCR+Q6sek8bf92,i=4096", XMPPC_EAUTH, "nonce", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=0", XMPPC_EAUTH, "too few", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=1000", XMPPC_EAUTH, "too few", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=4095", XMPPC_EAUTH, "too few", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=1000000", 0, NULL, 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=1000001", XMPPC_EAUTH, "too many", 0,
         0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=10000000", XMPPC_EAUTH,
         "denial of service", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=99999999999999999999999999",
         XMPPC_EAUTH, "too many", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=1000", 0, NULL, 1000, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=10000", XMPPC_EAUTH, "at most 5000",
         1000, 5000},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=12a", XMPPC_EPROTO, "not a number", 0,
         0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=-5", XMPPC_EPROTO, "not a number", 0,
         0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=", XMPPC_EPROTO, "iteration", 0, 0},
        {"r={n}SRV,s=!!!!,i=4096", XMPPC_EPROTO, "salt is not valid base64", 0,
         0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf9,i=4096", XMPPC_EPROTO, "salt", 0, 0},
        {"r={n}SRV,s=QSXC R+Q6sek8bf9,i=4096", XMPPC_EPROTO, "salt", 0, 0},
        {"r={n}SRV,s=,i=4096", XMPPC_EPROTO, "empty SCRAM salt", 0, 0},
        {"r={n}SRV,i=4096", XMPPC_EPROTO, "malformed", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92", XMPPC_EPROTO, "malformed", 0, 0},
        {"s=QSXCR+Q6sek8bf92,i=4096", XMPPC_EPROTO, "malformed", 0, 0},
        {"s=QSXCR+Q6sek8bf92,r={n}SRV,i=4096", XMPPC_EPROTO, "malformed", 0, 0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=4096,", XMPPC_EPROTO, "malformed", 0,
         0},
        {"r={n}SRV,s=QSXCR+Q6sek8bf92,i=4096,=x", XMPPC_EPROTO, "extension", 0,
         0},
        {"m=ext,r={n}SRV,s=QSXCR+Q6sek8bf92,i=4096", XMPPC_EPROTO, "(m=)", 0,
         0},
        {"e=unknown-user", XMPPC_EAUTH, "unknown-user", 0, 0},
        {"r={n}SRV\t,s=QSXCR+Q6sek8bf92,i=4096", XMPPC_EPROTO, "control", 0, 0},
        {"", XMPPC_EPROTO, "empty", 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        xmppc__sasl_config cfg = config(PASSWORD);
        cfg.min_iterations = rows[i].min;
        cfg.max_iterations = rows[i].max;
        char nonce[128], sf[512];
        xmppc__sasl *s = started(&cfg, nonce, sizeof nonce);
        XT_CHECK(strlen(nonce) == 24);
        subst(sf, sizeof sf, rows[i].fmt, nonce);
        char *sf64 = b64(sf);
        char *resp = NULL;
        int rc = xmppc__sasl_step(s, sf64, &resp);
        if (rc != rows[i].want)
            printf("# row %zu: \"%s\"\n", i, sf);
        XT_EQ_INT(rc, rows[i].want);
        if (rows[i].err)
            XT_ERR_HAS(rows[i].err);
        if (rc == 0) {
            XT_CHECK(strncmp(unb64(resp), "c=biws,r=", 9) == 0);
        } else {
            XT_CHECK(resp == NULL);
            /* failed for good */
            XT_EQ_INT(xmppc__sasl_step(s, sf64, &resp), XMPPC_ESTATE);
        }
        xmppc__free_secret(resp);
        gsasl_free(sf64);
        xmppc__sasl_free(s);
    }

    /* bad base64 or no data at all in the <challenge/> */
    const char *bad[] = {"abc", "YWJj\n", "====", NULL, "", "="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xmppc__sasl_config cfg = config(PASSWORD);
        char nonce[128];
        xmppc__sasl *s = started(&cfg, nonce, sizeof nonce);
        char *resp = NULL;
        XT_EQ_INT(xmppc__sasl_step(s, bad[i], &resp), XMPPC_EPROTO);
        xmppc__sasl_free(s);
    }
    xmppc_error_clear();
}

static void test_success_checks(void)
{
    /* <success/> straight after <auth/>: the server proved nothing */
    xmppc__sasl_config cfg = config(PASSWORD);
    char nonce[128];
    xmppc__sasl *s = started(&cfg, nonce, sizeof nonce);
    XT_EQ_INT(xmppc__sasl_success(s, NULL), XMPPC_EAUTH);
    XT_ERR_HAS("server signature missing");
    xmppc__sasl_free(s);

    /* a challenge where none belongs */
    cfg.authcid = "juliet";
    s = started(&cfg, nonce, sizeof nonce);
    char sf[256];
    snprintf(sf, sizeof sf, "r=%sSRV,s=QSXCR+Q6sek8bf92,i=4096", nonce);
    char *sf64 = b64(sf), *resp = NULL;
    XT_EQ_INT(xmppc__sasl_step(s, sf64, &resp), 0);
    xmppc__free_secret(resp);
    resp = NULL;
    XT_EQ_INT(xmppc__sasl_step(s, sf64, &resp), XMPPC_EAUTH); /* not v= */
    XT_ERR_HAS("server signature missing");
    gsasl_free(sf64);
    xmppc__sasl_free(s);

    /* A wrong or missing v= in the 'y' path (checked by our own code) */
    xmppc__sasl_tls_info tls12u = tls12(XMPPC__SASL_CB_TLS_UNIQUE);
    const char *finals[] = {"v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=", "v=AAAA", NULL,
                            "e=invalid-proof"};
    const char *errs[] = {"server signature wrong", "malformed",
                          "server signature missing", "invalid-proof"};
    for (int i = 0; i < 4; i++) {
        for (int in_challenge = 0; in_challenge < 2; in_challenge++) {
            if (in_challenge && !finals[i])
                continue;
            s = started_over(&cfg, &tls12u, nonce, sizeof nonce);
            snprintf(sf, sizeof sf, "r=%sSRV,s=QSXCR+Q6sek8bf92,i=4096", nonce);
            sf64 = b64(sf);
            XT_EQ_INT(xmppc__sasl_step(s, sf64, &resp), 0);
            XT_CHECK(strncmp(unb64(resp), "c=eSws,", 7) == 0);
            xmppc__free_secret(resp);
            resp = NULL;
            gsasl_free(sf64);
            char *v64 = finals[i] ? b64(finals[i]) : NULL;
            if (in_challenge)
                XT_EQ_INT(xmppc__sasl_step(s, v64, &resp), XMPPC_EAUTH);
            else
                XT_EQ_INT(xmppc__sasl_success(s, v64), XMPPC_EAUTH);
            XT_ERR_HAS(errs[i]);
            gsasl_free(v64);
            xmppc__sasl_free(s);
        }
    }

    /* PLAIN takes no challenge */
    const char *plain[] = {"PLAIN"};
    const char *mech;
    xmppc__sasl_tls_info tls = tls13(0);
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), 0);
    XT_EQ_INT(xmppc__sasl_choose(s, plain, 1, &tls, &mech), 0);
    XT_EQ_INT(xmppc__sasl_start(s, NULL, 0, &resp), 0);
    xmppc__free_secret(resp);
    resp = NULL;
    XT_EQ_INT(xmppc__sasl_step(s, "", &resp), XMPPC_EPROTO);
    xmppc__sasl_free(s);
    xmppc_error_clear();
}

/* ---- <failure/> ---------------------------------------------------------- */

static void test_failure_mapping(void)
{
    struct {
        const char *condition;
        const char *text;
        int want;
    } rows[] = {
        {"not-authorized", NULL, XMPPC_EAUTH},
        {"not-authorized", "Invalid username or password", XMPPC_EAUTH},
        {"credentials-expired", NULL, XMPPC_EAUTH},
        {"account-disabled", "Account disabled until 2040", XMPPC_EAUTH},
        {"encryption-required", NULL, XMPPC_ETLS},
        {"temporary-auth-failure", "try later", XMPPC_EAGAIN},
        {"aborted", NULL, XMPPC_EAUTH},
        {"incorrect-encoding", NULL, XMPPC_EAUTH},
        {"invalid-authzid", NULL, XMPPC_EAUTH},
        {"invalid-mechanism", NULL, XMPPC_EAUTH},
        {"malformed-request", NULL, XMPPC_EAUTH},
        {"mechanism-too-weak", NULL, XMPPC_EAUTH},
        {"some-future-condition", NULL, XMPPC_EAUTH},
        {NULL, "no condition", XMPPC_EAUTH},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        xmppc__sasl_config cfg = config(PASSWORD);
        char nonce[128];
        xmppc__sasl *s = started(&cfg, nonce, sizeof nonce);
        XT_EQ_INT(xmppc__sasl_failure(s, rows[i].condition, rows[i].text),
                  rows[i].want);
        const xmppc_error *e = xmppc_error_last();
        XT_EQ_INT(e->code, rows[i].want);
        XT_EQ_STR(e->condition, rows[i].condition);
        XT_EQ_STR(e->text, rows[i].text);
        if (rows[i].condition)
            XT_ERR_HAS(rows[i].condition);
        if (rows[i].text)
            XT_ERR_HAS(rows[i].text);
        char *resp = NULL;
        XT_EQ_INT(xmppc__sasl_step(s, "", &resp), XMPPC_ESTATE);
        xmppc__sasl_free(s);
        /* also without an object */
        XT_EQ_INT(xmppc__sasl_failure(NULL, rows[i].condition, rows[i].text),
                  rows[i].want);
    }
    xmppc_error_clear();
}

/* ---- API misuse and settings --------------------------------------------- */

static void test_states_and_arguments(void)
{
    xmppc__sasl_config cfg = config(PASSWORD);
    xmppc__sasl *s;
    char *out = NULL;
    const char *mech;
    const char *offered[] = {"SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"};
    xmppc__sasl_tls_info tls = tls12(XMPPC__SASL_CB_TLS_UNIQUE);
    xmppc__sasl_cached_key key = {0};

    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), 0);
    XT_CHECK(xmppc__sasl_mechanism(s) == NULL);
    XT_EQ_INT(xmppc__sasl_start(s, NULL, 0, &out), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_step(s, "", &out), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_success(s, NULL), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_get_cached_key(s, &key), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_choose(s, NULL, 1, &tls, &mech), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 2, &tls, NULL), XMPPC_EINVAL);
    /* choosing twice is fine before the start */
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 2, NULL, &mech), 0);
    XT_EQ_STR(mech, "SCRAM-SHA-1");
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 2, &tls, &mech), 0);
    XT_EQ_STR(mech, "SCRAM-SHA-1-PLUS");
    XT_EQ_STR(xmppc__sasl_cb_name(xmppc__sasl_channel_binding(s)),
              "tls-unique");
    XT_EQ_INT(xmppc__sasl_start(s, NULL, 0, NULL), XMPPC_EINVAL);
    /* -PLUS without channel-binding data */
    XT_EQ_INT(xmppc__sasl_start(s, cb_a, 0, &out), XMPPC_EINVAL);
    XT_ERR_HAS("tls-unique");
    XT_EQ_INT(xmppc__sasl_start(s, cb_a, sizeof cb_a, &out), XMPPC_ESTATE);
    xmppc__sasl_free(s);

    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), 0);
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 2, &tls, &mech), 0);
    XT_EQ_INT(xmppc__sasl_start(s, cb_a, sizeof cb_a, &out), 0);
    xmppc__free_secret(out);
    XT_EQ_INT(xmppc__sasl_choose(s, offered, 2, &tls, &mech), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_start(s, cb_a, sizeof cb_a, &out), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_step(s, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__sasl_success(NULL, NULL), XMPPC_EINVAL);
    xmppc__sasl_free(s);

    /* PLAIN succeeds but has no key to cache */
    const char *plain[] = {"PLAIN"};
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), 0);
    XT_EQ_INT(xmppc__sasl_choose(s, plain, 1, &tls, &mech), 0);
    XT_EQ_INT(xmppc__sasl_start(s, NULL, 0, &out), 0);
    xmppc__free_secret(out);
    XT_EQ_INT(xmppc__sasl_success(s, NULL), 0);
    XT_EQ_INT(xmppc__sasl_success(s, NULL), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__sasl_get_cached_key(s, &key), XMPPC_ESTATE);
    xmppc__sasl_free(s);

    XT_CHECK(xmppc__sasl_cb_name(XMPPC__SASL_CB_NONE) == NULL);
    XT_EQ_STR(xmppc__sasl_cb_name(XMPPC__SASL_CB_TLS_EXPORTER), "tls-exporter");
    xmppc__sasl_free(NULL);
    xmppc__sasl_cached_key_clear(NULL);
    xmppc_error_clear();
}

static void test_config_validation(void)
{
    xmppc__sasl *s = NULL;
    xmppc__sasl_config cfg = config(PASSWORD);
    XT_EQ_INT(xmppc__sasl_new(NULL, &cfg), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__sasl_new(&s, NULL), XMPPC_EINVAL);
    cfg.authcid = NULL;
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);
    cfg.authcid = "";
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);
    cfg = config(NULL);
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);
    XT_ERR_HAS("password or a cached key");
    cfg = config(PASSWORD);
    cfg.min_iterations = 10000;
    cfg.max_iterations = 5000;
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);

    xmppc__sasl_cached_key good = {.hash = XMPPC__SASL_HASH_SHA1,
                                   .salt_b64 = (char *)"QSXCR+Q6sek8bf92",
                                   .iterations = 4096};
    memset(good.salted_password_hex, 'a', 40);
    cfg = config(NULL);
    cfg.cached_key = &good;
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), 0);
    xmppc__sasl_free(s);

    xmppc__sasl_cached_key bad[6];
    for (int i = 0; i < 6; i++)
        bad[i] = good;
    bad[0].hash = XMPPC__SASL_HASH_NONE;
    bad[1].iterations = 0;
    bad[2].salt_b64 = (char *)"not base64";
    bad[3].salt_b64 = NULL;
    bad[4].salted_password_hex[39] = '\0'; /* too short */
    bad[5].salted_password_hex[7] = 'g';
    for (int i = 0; i < 6; i++) {
        cfg.cached_key = &bad[i];
        s = NULL;
        XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);
        XT_CHECK(s == NULL);
    }
    /* a SHA-256 key needs 64 digits */
    good.hash = XMPPC__SASL_HASH_SHA256;
    cfg.cached_key = &good;
    XT_EQ_INT(xmppc__sasl_new(&s, &cfg), XMPPC_EINVAL);
    XT_ERR_HAS("64 hex digits");
    xmppc_error_clear();
}

/* ---- out of memory ------------------------------------------------------- */

/* Fails our n-th allocation; the libgsasl server's are its own. */
static void oom_sweep(const char *what, const xmppc__sasl_config *cfg,
                      exchange tmpl, server *sv)
{
    int completed = 0;
    for (long n = 1; n < 400 && !completed; n++) {
        exchange ex = tmpl;
        size_t live = xmppc_alloc_live_blocks();
        XT_EQ_INT(xt_failalloc_install(n), 0);
        int rc = login(cfg, &ex, sv);
        XT_EQ_INT(xt_failalloc_remove(), 0);
        if (rc == 0) {
            completed = 1;
            printf("# %s: completes from allocation %ld on\n", what, n);
        } else if (rc != XMPPC_ENOMEM)
            XT_FAIL_AT(__FILE__, __LINE__, "%s: allocation %ld: status %d (%s)",
                       what, n, rc, xmppc_error_last()->message);
        XT_EQ_INT(xmppc_alloc_live_blocks(), live);
    }
    XT_CHECK(completed);
    xmppc_error_clear();
}

static void test_allocation_failures(void)
{
    server sv = {.password = PASSWORD,
                 .cb = cb_a,
                 .cb_len = sizeof cb_a,
                 .salt = "c2FsdHktc2FsdA==",
                 .iter = "4096"};
    xmppc__sasl_config cfg = config(PASSWORD);
    cfg.authzid = "boss";
    exchange plus = {.offered = "SCRAM-SHA-256-PLUS",
                     .tls = tls12(XMPPC__SASL_CB_TLS_UNIQUE),
                     .cb = cb_a,
                     .cb_len = sizeof cb_a,
                     .want_key = true};
    oom_sweep("-PLUS", &cfg, plus, &sv);
    exchange plain = {.offered = "PLAIN", .tls = tls13(0)};
    oom_sweep("PLAIN", &cfg, plain, &sv);
    exchange bad_plus = plus; /* fails in our own checks */
    bad_plus.cb_len = 0;
    exchange none = {.offered = "DIGEST-MD5", .tls = no_tls()};
    for (long n = 1; n < 4; n++) {
        XT_EQ_INT(xt_failalloc_install(n), 0);
        int rc = login(&cfg, &bad_plus, &sv);
        XT_CHECK(rc == XMPPC_EINVAL || rc == XMPPC_ENOMEM);
        rc = login(&cfg, &none, &sv);
        XT_CHECK(rc == XMPPC_EAUTH || rc == XMPPC_ENOMEM);
        XT_EQ_INT(xt_failalloc_remove(), 0);
    }

    /* the 'y' path, and then with a cached key */
    server sv_nocb = {
        .password = PASSWORD, .salt = "c2FsdHktc2FsdA==", .iter = "4096"};
    exchange y = {.offered = "SCRAM-SHA-1",
                  .tls = tls12(XMPPC__SASL_CB_TLS_UNIQUE),
                  .want_key = true};
    oom_sweep("gs2 y", &cfg, y, &sv_nocb);

    xmppc__sasl *cl;
    XT_EQ_INT(xmppc__sasl_new(&cl, &cfg), 0);
    exchange first = y;
    XT_EQ_INT(run(cl, &first, &sv_nocb), 0);
    xmppc__sasl_cached_key key = {0};
    XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &key), 0);
    xmppc__sasl_free(cl);
    /* The failing allocator can only be installed with no live blocks. */
    char salt[64];
    snprintf(salt, sizeof salt, "%s", key.salt_b64);
    xmppc__sasl_cached_key mine = key;
    mine.salt_b64 = salt;
    xmppc__sasl_cached_key_clear(&key);
    xmppc__sasl_config kcfg = config(NULL);
    kcfg.cached_key = &mine;
    oom_sweep("cached key, y", &kcfg, y, &sv_nocb);
    exchange n = {.offered = "SCRAM-SHA-1", .tls = no_tls(), .want_key = true};
    oom_sweep("cached key, n", &kcfg, n, &sv_nocb);

    server_done(&sv);
    server_done(&sv_nocb);
    xmppc_error_clear();
}

/* ---- no secrets in the log ----------------------------------------------- */

static char log_text[16384];

static void capture(xmppc_conn *conn, xmppc_log_level level, const char *area,
                    const char *message, void *userdata)
{
    (void)conn;
    (void)level;
    (void)userdata;
    size_t len = strlen(log_text);
    snprintf(log_text + len, sizeof log_text - len, "[%s] %s\n", area, message);
}

/* Wraps a login and collects every payload we sent (base64 and decoded) so
 * that the log can be searched for them. */
typedef struct secrets {
    char list[64][512];
    size_t n;
} secrets;

static void add_secret(secrets *sec, const char *s)
{
    if (s && *s && sec->n < 64)
        snprintf(sec->list[sec->n++], sizeof sec->list[0], "%s", s);
}

static void test_no_secrets_in_logs(void)
{
    xmppc__logger logger = {.cb = capture, .max_level = XMPPC_LOG_TRACE};
    log_text[0] = '\0';
    static secrets sec;
    sec.n = 0;
    const char *password = "S3cr3t-Passw0rd";
    char *pw64 = b64(password);
    add_secret(&sec, password);
    add_secret(&sec, pw64);
    gsasl_free(pw64);

    struct {
        const char *offered;
        xmppc__sasl_tls_info tls;
        const char *server_password;
        bool use_key;
    } runs[] = {
        {"SCRAM-SHA-256", {0}, "S3cr3t-Passw0rd", false},
        {"SCRAM-SHA-1-PLUS", tls12(XMPPC__SASL_CB_TLS_UNIQUE),
         "S3cr3t-Passw0rd", false},
        {"SCRAM-SHA-1", tls12(XMPPC__SASL_CB_TLS_UNIQUE), "S3cr3t-Passw0rd",
         false},
        {"PLAIN", tls13(0), "S3cr3t-Passw0rd", false},
        {"SCRAM-SHA-256", {0}, "not-it", false},
        {"SCRAM-SHA-256", {0}, "S3cr3t-Passw0rd", true},
    };
    xmppc__sasl_cached_key key = {0};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        xmppc__sasl_config cfg = config(runs[i].use_key ? NULL : password);
        cfg.logger = &logger;
        if (runs[i].use_key)
            cfg.cached_key = &key;
        exchange ex = {.offered = runs[i].offered,
                       .tls = runs[i].tls,
                       .cb = cb_a,
                       .cb_len = sizeof cb_a};
        server sv = {.password = runs[i].server_password,
                     .cb = cb_a,
                     .cb_len = sizeof cb_a,
                     .salt = "c2FsdHktc2FsdA=="};
        if (i == 2)
            sv.cb = NULL; /* 'y' */
        xmppc__sasl *cl;
        XT_EQ_INT(xmppc__sasl_new(&cl, &cfg), 0);
        int rc = run(cl, &ex, &sv);
        XT_EQ_INT(rc, i == 4 ? XMPPC_EAUTH : 0);
        XT_CHECK(!contains(xmppc_error_last()->message, password));
        if (i == 0) {
            XT_EQ_INT(xmppc__sasl_get_cached_key(cl, &key), 0);
            add_secret(&sec, key.salted_password_hex);
        }
        xmppc__sasl_free(cl);
        add_secret(&sec, ex.client_first);
        add_secret(&sec, ex.client_first_b64);
        add_secret(&sec, ex.client_final);
        add_secret(&sec, ex.client_final_b64);
        const char *proof = strstr(ex.client_final, ",p=");
        add_secret(&sec, proof ? proof + 3 : NULL);
        add_secret(&sec, sv.salted_hex);
        server_done(&sv);
    }
    xmppc__sasl_cached_key_clear(&key);

    XT_CHECK(contains(log_text, "[sasl] mechanism SCRAM-SHA-256"));
    XT_CHECK(contains(log_text, "channel binding tls-unique"));
    XT_CHECK(contains(log_text, "gs2 flag 'y'"));
    for (size_t i = 0; i < sec.n; i++)
        if (contains(log_text, sec.list[i]))
            XT_FAIL_AT(__FILE__, __LINE__, "log contains secret \"%s\"",
                       sec.list[i]);
    printf("# log:\n");
    for (char *line = strtok(log_text, "\n"); line; line = strtok(NULL, "\n"))
        printf("#   %s\n", line);
    xmppc_error_clear();
}

static void setup(void)
{
    if (gsasl_init(&server_ctx) != GSASL_OK)
        abort();
    gsasl_callback_set(server_ctx, server_cb);
}

static void test_teardown(void)
{
    gsasl_done(server_ctx);
    server_ctx = NULL;
}

static void test_setup(void)
{
    setup();
    XT_CHECK(server_ctx != NULL);
}

XT_MAIN(XT_TEST(test_setup), XT_TEST(test_scram_sha1_and_sha256),
        XT_TEST(test_scram_plus), XT_TEST(test_plain),
        XT_TEST(test_wrong_password), XT_TEST(test_gs2_y),
        XT_TEST(test_gs2_n_when_plus_offered),
        XT_TEST(test_authzid_and_escaping), XT_TEST(test_saslprep_password),
        XT_TEST(test_choose_table), XT_TEST(test_cached_key),
        XT_TEST(test_rfc5802_vector), XT_TEST(test_server_first_checks),
        XT_TEST(test_success_checks), XT_TEST(test_failure_mapping),
        XT_TEST(test_states_and_arguments), XT_TEST(test_config_validation),
        XT_TEST(test_allocation_failures), XT_TEST(test_no_secrets_in_logs),
        XT_TEST(test_teardown))
