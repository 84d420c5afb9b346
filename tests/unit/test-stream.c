/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The client stream negotiator driven by scripted server transcripts
 * (RFC 6120 sections 4-7). The test plays the server: it feeds the bytes a
 * server would send and reads what the client wrote with a second stream
 * reader, restarted at each new stream header as a server would. SCRAM
 * server messages come from an in-process libgsasl server that checks the
 * client's proof; the client nonce is fixed.
 */
#include <gnutls/crypto.h>
#include <gsasl.h>

#include "../xtest.h"
#include "parser.h"
#include "stream.h"

#define DOMAIN "example.com"
#define LOCAL "user"
#define PASSWORD "pencil"
#define BARE_JID LOCAL "@" DOMAIN
/* RFC 5802's example nonce: 18 bytes, as libgsasl draws them. */
#define CLIENT_NONCE "fyko+d2lbbFgONRv9qkxdawL"
/* base64("\0user\0pencil") */
#define PLAIN_B64 "AHVzZXIAcGVuY2ls"

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"

#define SERVER_HEADER                                                          \
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "               \
    "xmlns:stream='http://etherx.jabber.org/streams' from='" DOMAIN "' "       \
    "id='s1' version='1.0' xml:lang='en'>"
#define FEATURES(x) "<stream:features>" x "</stream:features>"
#define STARTTLS_FEATURE "<starttls xmlns='" NS_TLS "'><required/></starttls>"
#define MECHS(x) "<mechanisms xmlns='" NS_SASL "'>" x "</mechanisms>"
#define MECH(x) "<mechanism>" x "</mechanism>"
#define BIND_FEATURE "<bind xmlns='" NS_BIND "'/>"
#define PROCEED "<proceed xmlns='" NS_TLS "'/>"
#define STREAM_ERROR(x) "<stream:error>" x "</stream:error></stream:stream>"
#define SE(cond) "<" cond " xmlns='" NS_STREAM_ERRORS "'/>"

/* ---- deterministic client nonce -------------------------------------------
 * libgsasl draws SCRAM nonces from gsasl_nonce(), which it calls through
 * the PLT: this definition replaces it (as in test-sasl.c). A queued nonce
 * comes out once, then random bytes (for the libgsasl server's nonce and
 * salt). */

static struct {
    unsigned char data[64];
    size_t len;
} queued_nonce;

static void queue_nonce_b64(const char *b64)
{
    char *bin;
    size_t len;
    if (gsasl_base64_from(b64, strlen(b64), &bin, &len) != GSASL_OK ||
        len > sizeof queued_nonce.data)
        abort();
    memcpy(queued_nonce.data, bin, len);
    queued_nonce.len = len;
    gsasl_free(bin);
}

int gsasl_nonce(char *data, size_t len)
{
    if (queued_nonce.len == len) {
        memcpy(data, queued_nonce.data, len);
        queued_nonce.len = 0;
        return GSASL_OK;
    }
    return gnutls_rnd(GNUTLS_RND_NONCE, data, len) == 0 ? GSASL_OK
                                                        : GSASL_CRYPTO_ERROR;
}

/* ---- the SCRAM server: libgsasl ------------------------------------------ */

static Gsasl *gsasl_server;
static const char *server_cb_b64; /* channel binding the server expects */

static int server_cb(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
    (void)ctx;
    switch (prop) {
    case GSASL_PASSWORD:
        return gsasl_property_set(sctx, prop, PASSWORD);
    case GSASL_CB_TLS_UNIQUE:
    case GSASL_CB_TLS_EXPORTER:
        return server_cb_b64 ? gsasl_property_set(sctx, prop, server_cb_b64)
                             : GSASL_NO_CALLBACK;
    default:
        return GSASL_NO_CALLBACK;
    }
}

static void server_done(void)
{
    gsasl_done(gsasl_server);
    gsasl_server = NULL;
}

static Gsasl_session *server_start(const char *mech)
{
    if (!gsasl_server) {
        if (gsasl_init(&gsasl_server) != GSASL_OK)
            abort();
        gsasl_callback_set(gsasl_server, server_cb);
        atexit(server_done);
    }
    Gsasl_session *sess;
    if (gsasl_server_start(gsasl_server, mech, &sess) != GSASL_OK)
        abort();
    return sess;
}

/* Decodes base64 into a static buffer ("" for invalid input). */
static const char *unb64(const char *s)
{
    static char buf[1024];
    char *bin;
    size_t len;
    buf[0] = '\0';
    if (!s || gsasl_base64_from(s, strlen(s), &bin, &len) != GSASL_OK)
        return buf;
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, bin, len);
    buf[len] = '\0';
    gsasl_free(bin);
    return buf;
}

static char *b64(const char *s)
{
    char *out;
    if (gsasl_base64_to(s, strlen(s), &out, NULL) != GSASL_OK)
        abort();
    return out; /* gsasl_free */
}

static bool contains(const char *hay, const char *needle)
{
    return hay && needle && *needle && strstr(hay, needle) != NULL;
}

/* ---- the client under test and what it did ------------------------------- */

#define KEEP 16

static struct {
    xmppc__stream *s;
    /* what the hooks answer */
    int tls_version;
    const char *cb_data; /* channel-binding data; NULL: the hook fails */
    /* what the hooks saw */
    char events[512]; /* hook calls in order */
    char cb_type[32];
    int closed_calls;
    bool closed_ok; /* closed(NULL) */
    int err_code;
    char err_condition[64], err_type[16], err_text[256], err_message[1024];
    xmppc_stanza *got[KEEP]; /* given to the stanza hook (refs) */
    size_t n_got;
    /* the client's output, read as the server reads it */
    xmppc__parser *reader; /* NULL in failing-allocator runs */
    char raw[65536];       /* the output taken by the last pump() */
    int headers;           /* stream headers the client sent, in all */
    int new_headers;       /* ... in the last pump() */
    char hdr_to[64], hdr_from[128], hdr_version[16];
    bool hdr_has_from;
    xmppc_stanza *sent[KEEP]; /* stanzas in the last pump() (refs) */
    size_t n_sent;
    bool client_closed; /* </stream:stream> from the client */
    bool client_bad_xml;
} P;

/* Failing-allocator runs keep no reader: it would allocate too. */
static bool raw_only;

static void event(const char *e)
{
    size_t len = strlen(P.events);
    snprintf(P.events + len, sizeof P.events - len, "%s%s", len ? " " : "", e);
}

static void hook_start_tls(void *ud)
{
    XT_CHECK(ud == &P);
    event("start_tls");
}

static int hook_tls_version(void *ud)
{
    XT_CHECK(ud == &P);
    return P.tls_version;
}

static int hook_channel_binding(void *ud, const char *type,
                                unsigned char **data, size_t *len)
{
    XT_CHECK(ud == &P);
    snprintf(P.cb_type, sizeof P.cb_type, "%s", type ? type : "(null)");
    event("channel_binding");
    if (!P.cb_data)
        return XMPPC_ENOTSUP;
    *len = strlen(P.cb_data);
    *data = xmppc__memdup(P.cb_data, *len); /* the stream frees it */
    return *data ? 0 : XMPPC_ENOMEM;
}

static void hook_state(void *ud, xmppc_conn_state state)
{
    XT_CHECK(ud == &P);
    switch (state) {
    case XMPPC_STATE_SECURING:
        event("securing");
        break;
    case XMPPC_STATE_AUTHENTICATING:
        event("authenticating");
        break;
    case XMPPC_STATE_BINDING:
        event("binding");
        break;
    case XMPPC_STATE_READY:
        event("ready");
        break;
    default:
        event("unexpected-state");
        break;
    }
}

static void hook_stanza(void *ud, xmppc_stanza *stanza)
{
    XT_CHECK(ud == &P);
    event("stanza");
    if (P.n_got < KEEP)
        P.got[P.n_got++] = xmppc_stanza_ref(stanza);
}

static void hook_closed(void *ud, const xmppc_error *err)
{
    XT_CHECK(ud == &P);
    event("closed");
    P.closed_calls++;
    P.closed_ok = err == NULL;
    if (!err)
        return;
    P.err_code = err->code;
    snprintf(P.err_condition, sizeof P.err_condition, "%s",
             err->condition ? err->condition : "");
    snprintf(P.err_type, sizeof P.err_type, "%s", err->type ? err->type : "");
    snprintf(P.err_text, sizeof P.err_text, "%s", err->text ? err->text : "");
    snprintf(P.err_message, sizeof P.err_message, "%s",
             err->message ? err->message : "(null)");
}

static const xmppc__stream_hooks hooks = {
    hook_start_tls, hook_tls_version, hook_channel_binding,
    hook_state,     hook_stanza,      hook_closed};

/* The server's reader of the client's bytes. */
static int reader_open(void *ud, const xmppc__stream_header *h)
{
    (void)ud;
    P.headers++;
    P.new_headers++;
    snprintf(P.hdr_to, sizeof P.hdr_to, "%s", h->to ? h->to : "");
    snprintf(P.hdr_from, sizeof P.hdr_from, "%s", h->from ? h->from : "");
    snprintf(P.hdr_version, sizeof P.hdr_version, "%s",
             h->version ? h->version : "");
    P.hdr_has_from = h->from != NULL;
    return 0;
}

static int reader_stanza(void *ud, xmppc_stanza *stanza)
{
    (void)ud;
    XT_CHECK(P.n_sent < KEEP);
    if (P.n_sent < KEEP)
        P.sent[P.n_sent++] = xmppc_stanza_ref(stanza);
    return 0;
}

static void reader_close(void *ud)
{
    (void)ud;
    P.client_closed = true;
}

static void reader_error(void *ud, int code, const char *condition,
                         const char *message)
{
    (void)ud;
    printf("# the client sent bad XML (%d, %s): %s\n", code,
           condition ? condition : "-", message);
    P.client_bad_xml = true;
}

static const xmppc__parser_callbacks reader_callbacks = {
    reader_open, reader_stanza, reader_close, reader_error};

static void clear_sent(void)
{
    for (size_t i = 0; i < P.n_sent; i++)
        xmppc_stanza_unref(P.sent[i]);
    P.n_sent = 0;
}

/* Takes everything the client wrote and reads it as the server would: a
 * new stream header (after TLS, after SASL) restarts the reader. */
static void pump(void)
{
    clear_sent();
    P.new_headers = 0;
    P.raw[0] = '\0';
    xmppc__buf *out = xmppc__stream_output(P.s);
    if (out->len == 0)
        return;
    XT_CHECK(out->len < sizeof P.raw);
    size_t len = out->len < sizeof P.raw ? out->len : sizeof P.raw - 1;
    memcpy(P.raw, out->data, len);
    P.raw[len] = '\0';
    xmppc__buf_consume(out, out->len);
    if (!P.reader)
        return;
    const char *p = P.raw, *end = P.raw + len;
    while (p < end) {
        if (strncmp(p, "<?xml", 5) == 0)
            XT_EQ_INT(xmppc__parser_reset(P.reader), 0);
        const char *next = strstr(p + 1, "<?xml");
        if (!next)
            next = end;
        XT_EQ_INT(xmppc__parser_feed(P.reader, p, (size_t)(next - p)), 0);
        p = next;
    }
    XT_CHECK(!P.client_bad_xml);
}

static xmppc__stream_config base_config(void)
{
    xmppc__stream_config cfg = {0};
    cfg.local = LOCAL;
    cfg.domain = DOMAIN;
    cfg.password = PASSWORD;
    cfg.resource = "balcony";
    cfg.tls_required = true;
    return cfg;
}

/* Creates and starts the client; its header is read by pump(). */
static int start(const xmppc__stream_config *cfg)
{
    memset(&P, 0, sizeof P);
    queued_nonce.len = 0; /* a nonce left by a failed test must not leak */
    P.tls_version = cfg->tls_active ? 13 : 0;
    if (!raw_only && xmppc__parser_new(&P.reader, &reader_callbacks, NULL) < 0)
        return XMPPC_ENOMEM;
    int rc = xmppc__stream_new(&P.s, cfg, &hooks, &P);
    if (rc < 0)
        return rc;
    rc = xmppc__stream_start(P.s);
    pump();
    return rc;
}

static void stop(void)
{
    clear_sent();
    for (size_t i = 0; i < P.n_got; i++)
        xmppc_stanza_unref(P.got[i]);
    P.n_got = 0;
    xmppc__stream_free(P.s);
    P.s = NULL;
    xmppc__parser_free(P.reader);
    P.reader = NULL;
}

/* The server speaks. */
static int feed_n(const char *data, size_t len)
{
    int rc = xmppc__stream_feed(P.s, data, len);
    pump();
    return rc;
}

static int feed(const char *xml)
{
    return feed_n(xml, strlen(xml));
}

/* <name xmlns=SASL>text</name> */
static int feed_sasl(const char *name, const char *text)
{
    char xml[4096];
    snprintf(xml, sizeof xml, "<%s xmlns='" NS_SASL "'>%s</%s>", name,
             text ? text : "", name);
    return feed(xml);
}

/* The TLS handshake is done. */
static int tls_ready(void)
{
    P.tls_version = 13;
    int rc = xmppc__stream_tls_ready(P.s);
    pump();
    return rc;
}

/* ---- expectations -------------------------------------------------------- */

#define CHECK_AT(file, line, cond, ...)                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            XT_FAIL_AT(file, line, __VA_ARGS__);                               \
    } while (0)

/* The client sent nothing at all since the last pump. */
#define EXPECT_NOTHING_SENT()                                                  \
    CHECK_AT(__FILE__, __LINE__, P.raw[0] == '\0',                             \
             "expected no output, the client sent \"%s\"", P.raw)

/* Exactly one stanza <name xmlns=ns>, nothing else. */
#define EXPECT_ONE(name, ns) expect_one_at(__FILE__, __LINE__, name, ns)
static xmppc_stanza *expect_one_at(const char *file, int line, const char *name,
                                   const char *ns)
{
    xmppc_stanza *st = P.n_sent == 1 ? P.sent[0] : NULL;
    const char *n = xmppc_stanza_get_name(st), *s = xmppc_stanza_get_ns(st);
    bool ok = n && s && strcmp(n, name) == 0 && strcmp(s, ns) == 0 &&
              P.new_headers == 0;
    CHECK_AT(file, line, ok,
             "expected one <%s xmlns='%s'>; %zu stanzas, %d headers: %s", name,
             ns, P.n_sent, P.new_headers, P.raw);
    return ok ? st : NULL;
}

/* One new stream header, from the client's account or (NULL) without a
 * from attribute, and nothing after it. */
#define EXPECT_HEADER(from) expect_header_at(__FILE__, __LINE__, from)
static void expect_header_at(const char *file, int line, const char *from)
{
    CHECK_AT(file, line, P.new_headers == 1,
             "expected one stream header, got %d: %s", P.new_headers, P.raw);
    CHECK_AT(file, line, strcmp(P.hdr_to, DOMAIN) == 0, "to='%s'", P.hdr_to);
    CHECK_AT(file, line, strcmp(P.hdr_version, "1.0") == 0, "version='%s'",
             P.hdr_version);
    if (from)
        CHECK_AT(file, line, P.hdr_has_from && strcmp(P.hdr_from, from) == 0,
                 "from='%s', expected '%s'", P.hdr_from, from);
    else
        CHECK_AT(file, line, !P.hdr_has_from, "from='%s' before TLS",
                 P.hdr_from);
    CHECK_AT(file, line, P.n_sent == 0, "%zu stanzas after the header: %s",
             P.n_sent, P.raw);
}

/* The stream ended once, with this code and condition (NULL: none). */
#define EXPECT_CLOSED(code, cond)                                              \
    expect_closed_at(__FILE__, __LINE__, code, cond)
static void expect_closed_at(const char *file, int line, int code,
                             const char *condition)
{
    bool ok = P.closed_calls == 1 && !P.closed_ok && P.err_code == code &&
              strcmp(P.err_condition, condition ? condition : "") == 0 &&
              xmppc__stream_is_closed(P.s) && !xmppc__stream_is_ready(P.s);
    CHECK_AT(file, line, ok,
             "closed %d times with %s, condition '%s', message \"%s\"; "
             "expected %s, '%s'",
             P.closed_calls, xmppc_status_name(P.err_code), P.err_condition,
             P.err_message, xmppc_status_name(code),
             condition ? condition : "");
}

/* ---- transcripts --------------------------------------------------------- */

/* PLAIN up to the bind request (cfg has tls_active); returns its id. */
static const char *login_to_bind(const xmppc__stream_config *cfg,
                                 const char *bind_features)
{
    static char id[128];
    id[0] = '\0';
    XT_EQ_INT(start(cfg), 0);
    EXPECT_HEADER(BARE_JID);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    XT_EQ_STR(xmppc_stanza_get_text(EXPECT_ONE("auth", NS_SASL)), PLAIN_B64);
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/>"), 0);
    EXPECT_HEADER(BARE_JID);
    XT_EQ_INT(feed(SERVER_HEADER), 0);
    XT_EQ_INT(feed(bind_features), 0);
    xmppc_stanza *iq = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    const char *v = xmppc_stanza_get_id(iq);
    snprintf(id, sizeof id, "%s", v ? v : "");
    XT_CHECK(id[0] != '\0');
    return id;
}

static int feed_bind_result(const char *id, const char *jid)
{
    char xml[1024];
    snprintf(xml, sizeof xml,
             "<iq type='result' id='%s'><bind xmlns='" NS_BIND
             "'><jid>%s</jid></bind></iq>",
             id, jid);
    return feed(xml);
}

/* A logged-in client (direct TLS, PLAIN); cfg NULL for the defaults. */
static void login_ready(const xmppc__stream_config *cfg)
{
    xmppc__stream_config def = base_config();
    def.tls_active = true;
    const char *id = login_to_bind(cfg ? cfg : &def, FEATURES(BIND_FEATURE));
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    XT_CHECK(xmppc__stream_is_ready(P.s));
    EXPECT_NOTHING_SENT();
}

/* STARTTLS then <auth mechanism='SCRAM-SHA-1'/>, with the fixed nonce. */
static void starttls_to_scram(const xmppc__stream_config *cfg)
{
    XT_EQ_INT(start(cfg), 0);
    EXPECT_HEADER(NULL);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(STARTTLS_FEATURE)), 0);
    EXPECT_ONE("starttls", NS_TLS);
    XT_EQ_INT(feed(PROCEED), 0);
    XT_EQ_INT(tls_ready(), 0);
    EXPECT_HEADER(BARE_JID);
    queue_nonce_b64(CLIENT_NONCE);
    XT_EQ_INT(
        feed(SERVER_HEADER FEATURES(MECHS(MECH("SCRAM-SHA-1") MECH("PLAIN")))),
        0);
}

/* What the SCRAM exchange carried, for the log test. */
typedef struct scram_trace {
    char auth[256], challenge[512], response[512], proof[64], final[128];
} scram_trace;

enum final_kind { FINAL_GOOD, FINAL_WRONG, FINAL_NONE };

/* From <auth/> (in P.sent) to <success/>: the libgsasl server checks our
 * proof; the success carries its signature, a wrong one or none. */
static void scram_exchange(enum final_kind kind, scram_trace *tr)
{
    xmppc_stanza *auth = EXPECT_ONE("auth", NS_SASL);
    XT_EQ_STR(xmppc_stanza_get_attr(auth, "mechanism"), "SCRAM-SHA-1");
    const char *first = xmppc_stanza_get_text(auth);
    XT_EQ_STR(unb64(first), "n,,n=" LOCAL ",r=" CLIENT_NONCE);
    Gsasl_session *sv = server_start("SCRAM-SHA-1");
    char *out = NULL;
    XT_EQ_INT(gsasl_step64(sv, first ? first : "", &out), GSASL_NEEDS_MORE);
    if (tr) {
        snprintf(tr->auth, sizeof tr->auth, "%s", first ? first : "");
        snprintf(tr->challenge, sizeof tr->challenge, "%s", out);
    }
    XT_EQ_INT(feed_sasl("challenge", out), 0);
    gsasl_free(out);

    xmppc_stanza *resp = EXPECT_ONE("response", NS_SASL);
    const char *final = xmppc_stanza_get_text(resp);
    const char *plain = unb64(final);
    XT_CHECK(strncmp(plain, "c=biws,r=" CLIENT_NONCE, 33) == 0);
    const char *proof = strstr(plain, ",p=");
    XT_CHECK(proof != NULL);
    if (tr) {
        snprintf(tr->response, sizeof tr->response, "%s", final ? final : "");
        snprintf(tr->proof, sizeof tr->proof, "%s", proof ? proof + 3 : "");
    }
    out = NULL;
    /* GSASL_OK: the server accepted our proof. */
    XT_EQ_INT(gsasl_step64(sv, final ? final : "", &out), GSASL_OK);
    XT_CHECK(strncmp(unb64(out), "v=", 2) == 0);
    if (tr)
        snprintf(tr->final, sizeof tr->final, "%s", out);
    if (kind == FINAL_GOOD) {
        XT_EQ_INT(feed_sasl("success", out), 0);
    } else if (kind == FINAL_WRONG) {
        char *wrong = b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA=");
        feed_sasl("success", wrong);
        gsasl_free(wrong);
    } else {
        feed("<success xmlns='" NS_SASL "'/>");
    }
    gsasl_free(out);
    gsasl_finish(sv);
}

/* ---- 1. STARTTLS + SCRAM-SHA-1 + bind ------------------------------------ */

static void test_starttls_scram_login(void)
{
    xmppc__stream_config cfg = base_config();
    XT_EQ_INT(start(&cfg), 0);
    /* RFC 6120 4.7.1: no from before the stream is encrypted. */
    EXPECT_HEADER(NULL);
    XT_CHECK(!contains(P.raw, "from="));
    XT_CHECK(xmppc__stream_bound_jid(P.s) == NULL);
    XT_EQ_STR(P.events, "");

    XT_EQ_INT(feed(SERVER_HEADER FEATURES(
                  STARTTLS_FEATURE MECHS(MECH("SCRAM-SHA-1") MECH("PLAIN")))),
              0);
    xmppc_stanza *st = EXPECT_ONE("starttls", NS_TLS);
    XT_EQ_INT(xmppc_stanza_child_count(st), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(st), 0);
    XT_EQ_STR(P.events, "securing");

    /* An attacker appends a fake <success/> and a message to the plaintext
     * after <proceed/>: none of it may be read (the STARTTLS injection
     * class of bugs). */
    XT_EQ_INT(feed(PROCEED "<success xmlns='" NS_SASL "'/>"
                           "<message from='" BARE_JID "'><body>x</body>"
                           "</message>" STREAM_ERROR(SE("conflict"))),
              0);
    XT_EQ_STR(P.events, "securing start_tls");
    EXPECT_NOTHING_SENT();
    /* Plaintext during the handshake is ignored as well. */
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/></stream:stream>"), 0);
    EXPECT_NOTHING_SENT();
    XT_EQ_STR(P.events, "securing start_tls");
    XT_EQ_INT(P.closed_calls, 0);
    XT_EQ_INT(P.n_got, 0);

    XT_EQ_INT(tls_ready(), 0);
    EXPECT_HEADER(BARE_JID);
    XT_EQ_INT(xmppc__stream_tls_ready(P.s), XMPPC_ESTATE); /* only once */

    queue_nonce_b64(CLIENT_NONCE);
    XT_EQ_INT(
        feed(SERVER_HEADER FEATURES(MECHS(MECH("SCRAM-SHA-1") MECH("PLAIN")))),
        0);
    XT_EQ_STR(P.events, "securing start_tls authenticating");
    scram_exchange(FINAL_GOOD, NULL);
    /* Authenticated: the stream restarts, still announcing who we are. */
    EXPECT_HEADER(BARE_JID);
    XT_EQ_STR(P.events, "securing start_tls authenticating");

    XT_EQ_INT(feed(SERVER_HEADER FEATURES(BIND_FEATURE
                                          "<sm xmlns='urn:xmpp:sm:3'/>")),
              0);
    st = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    XT_EQ_STR(xmppc_stanza_get_type(st), "set");
    XT_CHECK(xmppc_stanza_get_to(st) == NULL);
    char id[128];
    snprintf(id, sizeof id, "%s",
             xmppc_stanza_get_id(st) ? xmppc_stanza_get_id(st) : "");
    XT_CHECK(id[0] != '\0');
    xmppc_stanza *bind = xmppc_stanza_get_child(st, "bind", NS_BIND);
    XT_CHECK(bind != NULL);
    XT_EQ_INT(xmppc_stanza_child_count(bind), 1);
    XT_EQ_STR(xmppc_stanza_get_child_text(bind, "resource", NS_BIND),
              "balcony");
    XT_EQ_STR(P.events, "securing start_tls authenticating binding");
    XT_CHECK(!xmppc__stream_is_ready(P.s));
    XT_CHECK(xmppc__stream_bound_jid(P.s) == NULL);

    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    EXPECT_NOTHING_SENT();
    XT_EQ_STR(P.events, "securing start_tls authenticating binding ready");
    XT_CHECK(xmppc__stream_is_ready(P.s));
    XT_EQ_STR(xmppc__stream_bound_jid(P.s), BARE_JID "/balcony");
    XT_EQ_INT(P.closed_calls, 0);
    XT_EQ_INT(P.n_got, 0); /* the injected message never surfaced */
    stop();
}

/* The same transcript fed one byte at a time: chunk boundaries must not
 * matter. */
static void test_login_byte_by_byte(void)
{
    static const char *const script[] = {
        SERVER_HEADER FEATURES(STARTTLS_FEATURE),
        PROCEED,
        NULL,
        SERVER_HEADER FEATURES(MECHS(MECH("PLAIN"))),
        "<success xmlns='" NS_SASL "'/>",
        SERVER_HEADER FEATURES(BIND_FEATURE)};
    xmppc__stream_config cfg = base_config();
    XT_EQ_INT(start(&cfg), 0);
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        if (!script[i]) {
            XT_EQ_INT(tls_ready(), 0);
            continue;
        }
        for (const char *c = script[i]; *c; c++)
            XT_EQ_INT(feed_n(c, 1), 0);
    }
    xmppc_stanza *iq = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    char xml[512];
    snprintf(xml, sizeof xml,
             "<iq type='result' id='%s'><bind xmlns='" NS_BIND
             "'><jid>" BARE_JID "/balcony</jid></bind></iq>",
             xmppc_stanza_get_id(iq) ? xmppc_stanza_get_id(iq) : "");
    for (const char *c = xml; *c; c++)
        XT_EQ_INT(feed_n(c, 1), 0);
    XT_EQ_STR(P.events, "securing start_tls authenticating binding ready");
    XT_EQ_STR(xmppc__stream_bound_jid(P.s), BARE_JID "/balcony");
    stop();
}

/* ---- 2. direct TLS + PLAIN ----------------------------------------------- */

static void test_direct_tls_plain(void)
{
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;
    cfg.resource = NULL;
    XT_EQ_INT(start(&cfg), 0);
    /* TLS is up before the first byte: announce ourselves at once. */
    EXPECT_HEADER(BARE_JID);

    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    xmppc_stanza *auth = EXPECT_ONE("auth", NS_SASL);
    XT_EQ_STR(xmppc_stanza_get_attr(auth, "mechanism"), "PLAIN");
    XT_EQ_STR(xmppc_stanza_get_text(auth), PLAIN_B64);
    XT_CHECK(memcmp(unb64(xmppc_stanza_get_text(auth)), "\0user\0pencil", 12) ==
             0);
    XT_EQ_STR(P.events, "authenticating");

    /* Bytes after <success/> belong to the old stream: dropped, even a
     * stream error or a close. */
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/><message><body>x</body>"
                   "</message>" STREAM_ERROR(SE("conflict"))),
              0);
    XT_EQ_INT(P.closed_calls, 0);
    XT_EQ_INT(P.n_got, 0);
    EXPECT_HEADER(BARE_JID);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(BIND_FEATURE)), 0);
    xmppc_stanza *iq = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    xmppc_stanza *bind = xmppc_stanza_get_child(iq, "bind", NS_BIND);
    XT_CHECK(bind != NULL);
    /* No resource configured: an empty <bind/> asks the server for one. */
    XT_EQ_INT(xmppc_stanza_child_count(bind), 0);
    char id[128];
    snprintf(id, sizeof id, "%s",
             xmppc_stanza_get_id(iq) ? xmppc_stanza_get_id(iq) : "");
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/4db06f06-1ea4"), 0);
    XT_EQ_STR(P.events, "authenticating binding ready");
    XT_EQ_STR(xmppc__stream_bound_jid(P.s), BARE_JID "/4db06f06-1ea4");
    EXPECT_NOTHING_SENT();
    stop();
}

/* RFC 6120 5.4.3.3: plaintext the client had not written yet when TLS
 * started is dropped, never sent inside TLS. */
static void test_tls_restart_forgets_plaintext(void)
{
    xmppc__stream_config cfg = base_config();
    XT_EQ_INT(start(&cfg), 0);
    EXPECT_HEADER(NULL);
    static const char in[] = SERVER_HEADER FEATURES(STARTTLS_FEATURE) PROCEED;
    /* <starttls/> stays in the output: the connection has not written it */
    XT_EQ_INT(xmppc__stream_feed(P.s, in, sizeof in - 1), 0);
    XT_EQ_STR(P.events, "securing start_tls");
    XT_EQ_INT(tls_ready(), 0);
    EXPECT_HEADER(BARE_JID);
    XT_CHECK(strncmp(P.raw, "<?xml", 5) == 0);
    XT_CHECK(!contains(P.raw, "starttls"));
    stop();
}

/* SCRAM-SHA-1-PLUS over TLS 1.3 with XEP-0440: the hook is asked for
 * tls-exporter data, and the libgsasl server checks the binding. */
static void test_channel_binding(void)
{
    static const char cb[] = "exporter-bytes";
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;
    XT_EQ_INT(start(&cfg), 0);
    P.cb_data = cb;
    queue_nonce_b64(CLIENT_NONCE);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("SCRAM-SHA-1") MECH(
                  "SCRAM-SHA-1-PLUS")) "<sasl-channel-binding "
                                       "xmlns='urn:xss:sasl-cb:0'>"
                                       "<channel-binding type='tls-exporter'/>"
                                       "</sasl-channel-binding>")),
              0);
    XT_EQ_STR(P.cb_type, "tls-exporter");
    xmppc_stanza *auth = EXPECT_ONE("auth", NS_SASL);
    XT_EQ_STR(xmppc_stanza_get_attr(auth, "mechanism"), "SCRAM-SHA-1-PLUS");
    const char *first = xmppc_stanza_get_text(auth);
    XT_EQ_STR(unb64(first), "p=tls-exporter,,n=" LOCAL ",r=" CLIENT_NONCE);

    char *cb_b64 = b64(cb);
    server_cb_b64 = cb_b64;
    Gsasl_session *sv = server_start("SCRAM-SHA-1-PLUS");
    char *out = NULL;
    XT_EQ_INT(gsasl_step64(sv, first ? first : "", &out), GSASL_NEEDS_MORE);
    XT_EQ_INT(feed_sasl("challenge", out), 0);
    gsasl_free(out);
    const char *final = xmppc_stanza_get_text(EXPECT_ONE("response", NS_SASL));
    out = NULL;
    XT_EQ_INT(gsasl_step64(sv, final ? final : "", &out), GSASL_OK);
    XT_EQ_INT(feed_sasl("success", out), 0);
    gsasl_free(out);
    gsasl_finish(sv);
    server_cb_b64 = NULL;
    gsasl_free(cb_b64);
    EXPECT_HEADER(BARE_JID);
    XT_EQ_STR(P.events, "channel_binding authenticating");
    stop();

    /* No binding data from the TLS layer: fail rather than downgrade. */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(
        feed(SERVER_HEADER FEATURES(MECHS(MECH("SCRAM-SHA-1-PLUS") MECH(
            "SCRAM-SHA-1")) "<sasl-channel-binding xmlns='urn:xss:sasl-cb:0'>"
                            "<channel-binding type='tls-exporter'/>"
                            "</sasl-channel-binding>")),
        XMPPC_ETLS);
    XT_EQ_STR(P.cb_type, "tls-exporter");
    EXPECT_NOTHING_SENT();
    EXPECT_CLOSED(XMPPC_ETLS, NULL);
    stop();

    /* TLS 1.2 and no -PLUS offered: SCRAM says 'y' (we could bind, the
     * server did not offer it), so a downgrade by a MITM is detected. The
     * binding data is not needed. */
    XT_EQ_INT(start(&cfg), 0);
    P.tls_version = 12;
    P.cb_data = cb;
    queue_nonce_b64(CLIENT_NONCE);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("SCRAM-SHA-1")))), 0);
    auth = EXPECT_ONE("auth", NS_SASL);
    XT_EQ_STR(unb64(xmppc_stanza_get_text(auth)),
              "y,,n=" LOCAL ",r=" CLIENT_NONCE);
    XT_EQ_STR(P.events, "authenticating");
    stop();
}

/* ---- 3. legacy session --------------------------------------------------- */

static void test_legacy_session(void)
{
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;

    /* <session/> without <optional/>: RFC 3921 session before ready. */
    const char *id = login_to_bind(
        &cfg, FEATURES(BIND_FEATURE "<session xmlns='" NS_SESSION "'/>"));
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    xmppc_stanza *iq = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    XT_EQ_STR(xmppc_stanza_get_type(iq), "set");
    xmppc_stanza *sess = xmppc_stanza_get_child(iq, "session", NS_SESSION);
    XT_CHECK(sess != NULL);
    XT_EQ_INT(xmppc_stanza_child_count(sess), 0);
    char sid[128];
    snprintf(sid, sizeof sid, "%s",
             xmppc_stanza_get_id(iq) ? xmppc_stanza_get_id(iq) : "");
    XT_CHECK(sid[0] != '\0' && strcmp(sid, id) != 0);
    XT_CHECK(!xmppc__stream_is_ready(P.s));
    XT_EQ_STR(P.events, "authenticating binding");
    /* a reply to another id changes nothing */
    XT_EQ_INT(feed("<iq type='result' id='other'/>"), 0);
    XT_CHECK(!xmppc__stream_is_ready(P.s));
    char xml[256];
    snprintf(xml, sizeof xml, "<iq type='result' id='%s'/>", sid);
    XT_EQ_INT(feed(xml), 0);
    XT_EQ_STR(P.events, "authenticating binding ready");
    XT_EQ_STR(xmppc__stream_bound_jid(P.s), BARE_JID "/balcony");
    EXPECT_NOTHING_SENT();
    stop();

    /* <optional/> (RFC 6121 errata): no session request. */
    id = login_to_bind(&cfg, FEATURES(BIND_FEATURE "<session xmlns='" NS_SESSION
                                                   "'><optional/></session>"));
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    EXPECT_NOTHING_SENT();
    XT_EQ_STR(P.events, "authenticating binding ready");
    stop();

    /* a session error ends the stream */
    id = login_to_bind(
        &cfg, FEATURES(BIND_FEATURE "<session xmlns='" NS_SESSION "'/>"));
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    iq = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    snprintf(xml, sizeof xml,
             "<iq type='error' id='%s'><error type='wait'>"
             "<internal-server-error xmlns='urn:ietf:params:xml:ns:"
             "xmpp-stanzas'/></error></iq>",
             xmppc_stanza_get_id(iq) ? xmppc_stanza_get_id(iq) : "");
    XT_EQ_INT(feed(xml), XMPPC_ESTANZA);
    EXPECT_CLOSED(XMPPC_ESTANZA, "internal-server-error");
    XT_EQ_STR(P.err_type, "wait");
    XT_CHECK(xmppc__stream_bound_jid(P.s) == NULL);
    stop();
}

/* ---- 4. no STARTTLS ------------------------------------------------------ */

static void test_missing_starttls(void)
{
    /* TLS required but not offered: say nothing, not even <auth/>. */
    xmppc__stream_config cfg = base_config();
    XT_EQ_INT(start(&cfg), 0);
    EXPECT_HEADER(NULL);
    XT_EQ_INT(
        feed(SERVER_HEADER FEATURES(MECHS(MECH("SCRAM-SHA-1") MECH("PLAIN")))),
        XMPPC_ETLS);
    EXPECT_NOTHING_SENT();
    EXPECT_CLOSED(XMPPC_ETLS, NULL);
    XT_EQ_STR(P.events, "closed");
    /* and nothing afterwards either */
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/>"), XMPPC_ETLS);
    EXPECT_NOTHING_SENT();
    XT_EQ_INT(P.closed_calls, 1);
    stop();

    /* TLS optional and absent: PLAIN would show the password, SCRAM does
     * not. */
    cfg.tls_required = false;
    XT_EQ_INT(start(&cfg), 0);
    queue_nonce_b64(CLIENT_NONCE);
    XT_EQ_INT(
        feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN") MECH("SCRAM-SHA-1")))),
        0);
    xmppc_stanza *auth = EXPECT_ONE("auth", NS_SASL);
    XT_EQ_STR(xmppc_stanza_get_attr(auth, "mechanism"), "SCRAM-SHA-1");
    XT_EQ_STR(unb64(xmppc_stanza_get_text(auth)),
              "n,,n=" LOCAL ",r=" CLIENT_NONCE);
    XT_EQ_STR(P.events, "authenticating");
    stop();

    /* only PLAIN offered in the clear: refuse */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), XMPPC_EAUTH);
    EXPECT_NOTHING_SENT();
    EXPECT_CLOSED(XMPPC_EAUTH, NULL);
    stop();

    /* no mechanisms at all */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(BIND_FEATURE)), XMPPC_EAUTH);
    EXPECT_NOTHING_SENT();
    EXPECT_CLOSED(XMPPC_EAUTH, NULL);
    stop();
}

/* ---- 5. STARTTLS refused ------------------------------------------------- */

static void test_starttls_failure(void)
{
    xmppc__stream_config cfg = base_config();
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(STARTTLS_FEATURE)), 0);
    EXPECT_ONE("starttls", NS_TLS);
    XT_EQ_INT(feed("<failure xmlns='" NS_TLS "'/></stream:stream>"),
              XMPPC_ETLS);
    EXPECT_NOTHING_SENT();
    EXPECT_CLOSED(XMPPC_ETLS, NULL);
    XT_EQ_STR(P.events, "securing closed");
    XT_EQ_INT(xmppc__stream_tls_ready(P.s), XMPPC_ESTATE);
    stop();
}

/* ---- 6. SASL failure ----------------------------------------------------- */

static void test_sasl_failure(void)
{
    static const struct {
        const char *condition;
        int code;
    } cases[] = {{"not-authorized", XMPPC_EAUTH},
                 {"account-disabled", XMPPC_EAUTH},
                 {"encryption-required", XMPPC_ETLS},
                 {"temporary-auth-failure", XMPPC_EAGAIN}};
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        XT_EQ_INT(start(&cfg), 0);
        XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
        EXPECT_ONE("auth", NS_SASL);
        char xml[512];
        snprintf(xml, sizeof xml,
                 "<failure xmlns='" NS_SASL "'><%s/><text xml:lang='en'>"
                 "Wrong password &amp; more</text></failure>",
                 cases[i].condition);
        XT_EQ_INT(feed(xml), cases[i].code);
        EXPECT_NOTHING_SENT();
        EXPECT_CLOSED(cases[i].code, cases[i].condition);
        XT_EQ_STR(P.err_text, "Wrong password & more");
        XT_EQ_STR(P.events, "authenticating closed");
        stop();
    }

    /* no text, no condition */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    XT_EQ_INT(feed("<failure xmlns='" NS_SASL "'/>"), XMPPC_EAUTH);
    XT_EQ_INT(P.closed_calls, 1);
    XT_EQ_INT(P.err_code, XMPPC_EAUTH);
    XT_EQ_STR(P.err_text, "");
    stop();
}

/* ---- 7. the server must prove it knows the password ---------------------- */

static void test_server_signature(void)
{
    enum final_kind kinds[] = {FINAL_WRONG, FINAL_NONE};
    for (size_t i = 0; i < 2; i++) {
        xmppc__stream_config cfg = base_config();
        starttls_to_scram(&cfg);
        scram_exchange(kinds[i], NULL);
        /* A fake server must not log us in: no restart, no bind. */
        EXPECT_NOTHING_SENT();
        EXPECT_CLOSED(XMPPC_EAUTH, NULL);
        XT_EQ_STR(P.events, "securing start_tls authenticating closed");
        XT_EQ_INT(feed(SERVER_HEADER FEATURES(BIND_FEATURE)), XMPPC_EAUTH);
        EXPECT_NOTHING_SENT();
        stop();
    }

    /* The good signature in a final <challenge/>, then an empty success. */
    xmppc__stream_config cfg = base_config();
    starttls_to_scram(&cfg);
    xmppc_stanza *auth = EXPECT_ONE("auth", NS_SASL);
    const char *first = xmppc_stanza_get_text(auth);
    Gsasl_session *sv = server_start("SCRAM-SHA-1");
    char *out = NULL;
    XT_EQ_INT(gsasl_step64(sv, first ? first : "", &out), GSASL_NEEDS_MORE);
    XT_EQ_INT(feed_sasl("challenge", out), 0);
    gsasl_free(out);
    const char *final = xmppc_stanza_get_text(EXPECT_ONE("response", NS_SASL));
    out = NULL;
    XT_EQ_INT(gsasl_step64(sv, final ? final : "", &out), GSASL_OK);
    XT_EQ_INT(feed_sasl("challenge", out), 0);
    gsasl_free(out);
    gsasl_finish(sv);
    /* RFC 6120 6.4.2: an empty response is sent as an empty element */
    xmppc_stanza *resp = EXPECT_ONE("response", NS_SASL);
    XT_CHECK(xmppc_stanza_get_text(resp) == NULL ||
             strcmp(xmppc_stanza_get_text(resp), "") == 0 ||
             strcmp(xmppc_stanza_get_text(resp), "=") == 0);
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/>"), 0);
    EXPECT_HEADER(BARE_JID);
    XT_EQ_INT(P.closed_calls, 0);
    stop();
}

/* ---- 8. stream errors ---------------------------------------------------- */

/* Brings a client to a phase: 0 header sent, 1 STARTTLS, 2 SASL, 3 bind,
 * 4 ready. */
static void to_phase(int phase)
{
    xmppc__stream_config cfg = base_config();
    if (phase == 4) {
        login_ready(NULL);
        return;
    }
    if (phase == 3) {
        cfg.tls_active = true;
        login_to_bind(&cfg, FEATURES(BIND_FEATURE));
        return;
    }
    cfg.tls_active = phase == 2;
    XT_EQ_INT(start(&cfg), 0);
    if (phase == 1) {
        XT_EQ_INT(feed(SERVER_HEADER FEATURES(STARTTLS_FEATURE)), 0);
    } else if (phase == 2) {
        XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    } else {
        XT_EQ_INT(feed(SERVER_HEADER), 0); /* no features yet */
    }
}

static void test_stream_errors(void)
{
    /* see-other-host: the message names the host */
    to_phase(0);
    XT_EQ_INT(feed(STREAM_ERROR("<see-other-host xmlns='" NS_STREAM_ERRORS
                                "'>other.example:5222</see-other-host>")),
              XMPPC_ESTREAM);
    EXPECT_CLOSED(XMPPC_ESTREAM, "see-other-host");
    XT_CHECK(contains(P.err_message, "other.example:5222"));
    EXPECT_NOTHING_SENT();
    stop();

    /* condition and text */
    to_phase(0);
    XT_EQ_INT(
        feed(STREAM_ERROR(SE("host-unknown") "<text xmlns='" NS_STREAM_ERRORS
                                             "'>No such domain</text>")),
        XMPPC_ESTREAM);
    EXPECT_CLOSED(XMPPC_ESTREAM, "host-unknown");
    XT_EQ_STR(P.err_text, "No such domain");
    XT_CHECK(contains(P.err_message, "host-unknown"));
    stop();

    /* text before the condition; an unknown application element */
    to_phase(0);
    XT_EQ_INT(
        feed(STREAM_ERROR("<text xmlns='" NS_STREAM_ERRORS "'>bye</text>" SE(
            "policy-violation") "<x xmlns='urn:example:app'/>")),
        XMPPC_ESTREAM);
    EXPECT_CLOSED(XMPPC_ESTREAM, "policy-violation");
    XT_EQ_STR(P.err_text, "bye");
    stop();

    /* no defined condition */
    to_phase(0);
    XT_EQ_INT(feed(STREAM_ERROR("")), XMPPC_ESTREAM);
    EXPECT_CLOSED(XMPPC_ESTREAM, "undefined-condition");
    stop();

    /* at every phase: STARTTLS, SASL, bind, ready */
    static const char *const conds[] = {"internal-server-error",
                                        "not-authorized", "resource-constraint",
                                        "conflict"};
    for (int phase = 1; phase <= 4; phase++) {
        to_phase(phase);
        XT_EQ_INT(P.closed_calls, 0);
        char xml[512];
        snprintf(xml, sizeof xml,
                 "<stream:error><%s xmlns='" NS_STREAM_ERRORS
                 "'/><text xmlns='" NS_STREAM_ERRORS
                 "'>phase %d</text></stream:error></stream:stream>",
                 conds[phase - 1], phase);
        XT_EQ_INT(feed(xml), XMPPC_ESTREAM);
        EXPECT_CLOSED(XMPPC_ESTREAM, conds[phase - 1]);
        char text[32];
        snprintf(text, sizeof text, "phase %d", phase);
        XT_EQ_STR(P.err_text, text);
        EXPECT_NOTHING_SENT();
        XT_EQ_INT(P.n_got, 0); /* never handed out as a stanza */
        stop();
    }
}

/* ---- 9. bind errors ------------------------------------------------------ */

static void test_bind_errors(void)
{
    static const char *const conds[] = {"conflict", "not-allowed"};
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;
    for (size_t i = 0; i < 2; i++) {
        const char *id = login_to_bind(&cfg, FEATURES(BIND_FEATURE));
        char xml[512];
        snprintf(xml, sizeof xml,
                 "<iq type='error' id='%s'><error type='cancel'><%s "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text>"
                 "</error></iq>",
                 id, conds[i]);
        XT_EQ_INT(feed(xml), XMPPC_ESTANZA);
        EXPECT_CLOSED(XMPPC_ESTANZA, conds[i]);
        XT_EQ_STR(P.err_type, "cancel");
        XT_EQ_STR(P.err_text, "nope");
        XT_EQ_STR(P.events, "authenticating binding closed");
        EXPECT_NOTHING_SENT();
        stop();
    }

    /* invalid JIDs, and a result without one */
    static const char *const bad[] = {"@" DOMAIN "/r", BARE_JID "/",
                                      "a@b@" DOMAIN "/r", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *id = login_to_bind(&cfg, FEATURES(BIND_FEATURE));
        XT_EQ_INT(feed_bind_result(id, bad[i]), XMPPC_EPROTO);
        EXPECT_CLOSED(XMPPC_EPROTO, NULL);
        XT_CHECK(xmppc__stream_bound_jid(P.s) == NULL);
        stop();
    }
    const char *id = login_to_bind(&cfg, FEATURES(BIND_FEATURE));
    char xml[256];
    snprintf(xml, sizeof xml, "<iq type='result' id='%s'/>", id);
    XT_EQ_INT(feed(xml), XMPPC_EPROTO);
    EXPECT_CLOSED(XMPPC_EPROTO, NULL);
    stop();

    /* replies to other ids and other stanzas are not ours */
    id = login_to_bind(&cfg, FEATURES(BIND_FEATURE));
    XT_EQ_INT(feed_bind_result("not-the-id", BARE_JID "/evil"), 0);
    XT_EQ_INT(feed("<message><body>early</body></message>"), 0);
    XT_CHECK(!xmppc__stream_is_ready(P.s));
    XT_EQ_INT(P.n_got, 0);
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    XT_EQ_STR(xmppc__stream_bound_jid(P.s), BARE_JID "/balcony");
    stop();

    /* no bind feature after authentication */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/>"), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES("<sm xmlns='urn:xmpp:sm:3'/>"
                                          "<session xmlns='" NS_SESSION "'/>")),
              XMPPC_EPROTO);
    EXPECT_CLOSED(XMPPC_EPROTO, NULL);
    EXPECT_NOTHING_SENT();
    stop();
}

/* RFC 6120 7.6.1: the result carries the full JID. A bare JID leaves the
 * client without a resource, which everything after bind relies on. */
static void test_bind_result_needs_resource(void)
{
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;
    const char *id = login_to_bind(&cfg, FEATURES(BIND_FEATURE));
    XT_EQ_INT(feed_bind_result(id, BARE_JID), XMPPC_EPROTO);
    EXPECT_CLOSED(XMPPC_EPROTO, NULL);
    stop();
}

/* ---- 10. bad server headers ---------------------------------------------- */

static void test_bad_server_header(void)
{
    static const char *const headers[] = {
        "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' from='" DOMAIN "'>",
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='2.0'>",
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='0.9'>"};
    xmppc__stream_config cfg = base_config();
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        XT_EQ_INT(start(&cfg), 0);
        char xml[1024];
        snprintf(xml, sizeof xml, "%s%s", headers[i],
                 FEATURES(STARTTLS_FEATURE));
        XT_CHECK(feed(xml) < 0);
        EXPECT_CLOSED(XMPPC_EPROTO, "unsupported-version");
        XT_CHECK(contains(P.err_message, "version"));
        EXPECT_NOTHING_SENT(); /* not even <starttls/> */
        stop();
    }

    /* features must be the first element */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER "<message><body>hi</body></message>" FEATURES(
                  STARTTLS_FEATURE)),
              XMPPC_EPROTO);
    EXPECT_CLOSED(XMPPC_EPROTO, NULL);
    EXPECT_NOTHING_SENT();
    XT_EQ_INT(P.n_got, 0);
    stop();

    /* not a stream at all */
    XT_EQ_INT(start(&cfg), 0);
    XT_CHECK(feed("<html><body>hello</body></html>") < 0);
    XT_EQ_INT(P.closed_calls, 1);
    XT_EQ_INT(P.err_code, XMPPC_EPARSE);
    XT_EQ_STR(P.err_condition, "invalid-namespace");
    stop();
}

/* ---- 11. ready: stanzas in and out, closing ------------------------------ */

static void test_ready_stanzas(void)
{
    login_ready(NULL);
    /* in order, whatever the chunks */
    static const char in[] =
        "<message id='m1' from='a@" DOMAIN "'><body>one</body></message>"
        "<presence id='p2'/><iq type='get' id='i3'>"
        "<query xmlns='jabber:iq:version'/></iq>";
    XT_EQ_INT(feed_n(in, 20), 0);
    XT_EQ_INT(P.n_got, 0);
    XT_EQ_INT(feed_n(in + 20, sizeof in - 1 - 20), 0);
    XT_EQ_INT(P.n_got, 3);
    XT_EQ_STR(xmppc_stanza_get_id(P.got[0]), "m1");
    XT_EQ_STR(xmppc_message_get_body(P.got[0]), "one");
    XT_EQ_STR(xmppc_stanza_get_id(P.got[1]), "p2");
    XT_EQ_STR(xmppc_stanza_get_name(P.got[2]), "iq");
    XT_EQ_STR(xmppc_stanza_get_ns(P.got[2]), XMPPC_NS_CLIENT);
    EXPECT_NOTHING_SENT(); /* the stream answers nothing itself */

    /* out */
    xmppc_stanza *msg = NULL;
    XT_EQ_INT(
        xmppc_message_new(&msg, "chat", "romeo@example.net", "a < b & 'c'"), 0);
    XT_EQ_INT(xmppc__stream_send(P.s, msg), 0);
    pump();
    xmppc_stanza *sent = EXPECT_ONE("message", XMPPC_NS_CLIENT);
    XT_CHECK(xmppc_stanza_equal(sent, msg));
    XT_EQ_STR(xmppc_message_get_body(sent), "a < b & 'c'");
    xmppc_stanza_unref(msg);

    /* we close; the server's close is then not an error */
    XT_EQ_INT(xmppc__stream_close(P.s), 0);
    pump();
    XT_EQ_STR(P.raw, "</stream:stream>");
    XT_CHECK(P.client_closed);
    XT_EQ_INT(xmppc__stream_close(P.s), 0); /* idempotent */
    pump();
    EXPECT_NOTHING_SENT();
    XT_CHECK(xmppc__stream_send(P.s, P.got[1]) == XMPPC_ESTATE);
    /* what the server still had in flight is delivered */
    /* (feed's return value is not checked here: see the report) */
    feed("<message id='late'/></stream:stream>");
    XT_EQ_INT(P.n_got, 4);
    XT_EQ_STR(xmppc_stanza_get_id(P.got[3]), "late");
    XT_EQ_INT(P.closed_calls, 1);
    XT_CHECK(P.closed_ok);
    XT_CHECK(xmppc__stream_is_closed(P.s));
    XT_EQ_STR(P.events,
              "authenticating binding ready stanza stanza stanza stanza "
              "closed");
    XT_CHECK(feed("<message/>") < 0);
    XT_EQ_INT(P.closed_calls, 1);
    stop();

    /* the server closes first */
    login_ready(NULL);
    XT_EQ_INT(feed("<message id='x'/></stream:stream>"), XMPPC_EDISCONNECTED);
    EXPECT_CLOSED(XMPPC_EDISCONNECTED, NULL);
    XT_EQ_INT(P.n_got, 1);
    stop();

    /* bad XML: the reader's condition */
    static const struct {
        const char *xml;
        int code;
        const char *condition;
    } bad[] = {
        {"<!-- a comment -->", XMPPC_EPARSE, "restricted-xml"},
        {"<?pi x?>", XMPPC_EPARSE, "restricted-xml"},
        {"<message><body>x</message>", XMPPC_EPARSE, "not-well-formed"},
        {"<foo:bar/>", XMPPC_EPARSE, "bad-namespace-prefix"},
        {"<message>&ent;</message>", XMPPC_EPARSE, "restricted-xml"},
        {"<message><body>\xff</body></message>", XMPPC_EPARSE,
         "unsupported-encoding"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        login_ready(NULL);
        XT_EQ_INT(feed(bad[i].xml), bad[i].code);
        EXPECT_CLOSED(bad[i].code, bad[i].condition);
        XT_EQ_INT(P.n_got, 0);
        stop();
    }
}

/* ---- 12. stanza size limits ---------------------------------------------- */

/* <pad xmlns='urn:example:pad'>aaaa...</pad> of n bytes of text. */
static const char *pad(size_t n)
{
    static char buf[40000];
    static const char head[] = "<pad xmlns='urn:example:pad'>";
    static const char tail[] = "</pad>";
    if (n + sizeof head + sizeof tail > sizeof buf)
        abort();
    memcpy(buf, head, sizeof head - 1);
    memset(buf + sizeof head - 1, 'a', n);
    memcpy(buf + sizeof head - 1 + n, tail, sizeof tail);
    return buf;
}

static int feed_wrapped(const char *before, const char *inner,
                        const char *after)
{
    static char buf[41000];
    snprintf(buf, sizeof buf, "%s%s%s", before, inner, after);
    return feed(buf);
}

static void test_stanza_limits(void)
{
    xmppc__stream_config cfg = base_config();

    /* before authentication: 10 000 bytes */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER), 0);
    XT_EQ_INT(
        feed_wrapped("<stream:features>", pad(20000), "</stream:features>"),
        XMPPC_ELIMIT);
    EXPECT_CLOSED(XMPPC_ELIMIT, "policy-violation");
    EXPECT_NOTHING_SENT();
    stop();

    /* 9 000 bytes is fine */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed_wrapped(SERVER_HEADER "<stream:features>", pad(9000),
                           STARTTLS_FEATURE "</stream:features>"),
              0);
    EXPECT_ONE("starttls", NS_TLS);
    stop();

    /* still after the TLS restart */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(STARTTLS_FEATURE)), 0);
    XT_EQ_INT(feed(PROCEED), 0);
    XT_EQ_INT(tls_ready(), 0);
    XT_EQ_INT(feed_wrapped(SERVER_HEADER "<stream:features>", pad(20000),
                           "</stream:features>"),
              XMPPC_ELIMIT);
    EXPECT_CLOSED(XMPPC_ELIMIT, "policy-violation");
    stop();

    /* and during SASL */
    cfg.tls_active = true;
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    XT_EQ_INT(feed_wrapped("<challenge xmlns='" NS_SASL "'>", pad(20000),
                           "</challenge>"),
              XMPPC_ELIMIT);
    EXPECT_CLOSED(XMPPC_ELIMIT, "policy-violation");
    stop();

    /* after authentication: the configured limit (default 256 KiB) */
    login_ready(NULL);
    XT_EQ_INT(feed_wrapped("<message id='big'>", pad(20000), "</message>"), 0);
    XT_EQ_INT(P.n_got, 1);
    XT_EQ_STR(xmppc_stanza_get_id(P.got[0]), "big");
    XT_EQ_INT(P.closed_calls, 0);
    stop();

    /* a configured limit of 15 000 bytes */
    cfg.max_stanza_bytes = 15000;
    login_ready(&cfg);
    XT_EQ_INT(feed_wrapped("<message id='14k'>", pad(14000), "</message>"), 0);
    XT_EQ_INT(P.n_got, 1);
    XT_EQ_INT(feed_wrapped("<message id='20k'>", pad(20000), "</message>"),
              XMPPC_ELIMIT);
    EXPECT_CLOSED(XMPPC_ELIMIT, "policy-violation");
    XT_EQ_INT(P.n_got, 1);
    stop();
}

/* ---- 13. no secrets in the trace log ------------------------------------- */

static char log_text[1 << 17];
static size_t log_lines;

static void capture(xmppc_conn *conn, xmppc_log_level level, const char *area,
                    const char *message, void *userdata)
{
    (void)conn;
    (void)level;
    XT_CHECK(userdata == log_text);
    size_t len = strlen(log_text);
    snprintf(log_text + len, sizeof log_text - len, "[%s] %s\n", area, message);
    log_lines++;
}

static void test_no_secrets_in_trace(void)
{
    xmppc__logger logger = {
        .cb = capture, .userdata = log_text, .max_level = XMPPC_LOG_TRACE};
    log_text[0] = '\0';
    log_lines = 0;

    /* SCRAM over STARTTLS */
    xmppc__stream_config cfg = base_config();
    cfg.logger = &logger;
    scram_trace tr;
    starttls_to_scram(&cfg);
    scram_exchange(FINAL_GOOD, &tr);
    EXPECT_HEADER(BARE_JID);
    stop();

    /* a wrong server signature: the error is logged as well */
    scram_trace tr2;
    starttls_to_scram(&cfg);
    scram_exchange(FINAL_WRONG, &tr2);
    EXPECT_CLOSED(XMPPC_EAUTH, NULL);
    stop();

    /* PLAIN over direct TLS, and a SASL failure */
    cfg.tls_active = true;
    const char *id = login_to_bind(&cfg, FEATURES(BIND_FEATURE));
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    stop();
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    XT_EQ_INT(feed("<failure xmlns='" NS_SASL "'><not-authorized/></failure>"),
              XMPPC_EAUTH);
    stop();

    const char *const secrets[] = {
        PASSWORD,  PLAIN_B64,     tr.auth,      tr.challenge,    tr.response,
        tr.proof,  tr.final,      CLIENT_NONCE, unb64(tr.final), tr2.response,
        tr2.proof, tr2.challenge, tr2.final};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        XT_CHECK(secrets[i][0] != '\0');
        if (contains(log_text, secrets[i]))
            XT_FAIL_AT(__FILE__, __LINE__, "the log contains \"%s\"",
                       secrets[i]);
    }
    /* it did log the XML */
    XT_CHECK(contains(log_text, "[xml] SEND <?xml"));
    XT_CHECK(contains(log_text, "[xml] SEND <starttls"));
    XT_CHECK(contains(log_text, "[xml] RECV <stream:features") ||
             contains(log_text, "[xml] RECV <features"));
    XT_CHECK(contains(log_text, "[redacted]"));
    XT_CHECK(contains(log_text, "not-authorized"));
    XT_CHECK(contains(log_text, "SCRAM-SHA-1"));
    /* every trace line shows something */
    XT_CHECK(!contains(log_text, "[xml] SEND \n"));
    XT_CHECK(!contains(log_text, "[xml] RECV \n"));
    printf("# %zu log lines:\n", log_lines);
    for (char *line = strtok(log_text, "\n"); line; line = strtok(NULL, "\n"))
        printf("#   %.160s\n", line);
}

/* Every hook is optional. */
static void test_null_hooks(void)
{
    static const xmppc__stream_hooks none = {0};
    xmppc__stream_config cfg = base_config();
    cfg.tls_active = true;
    memset(&P, 0, sizeof P);
    XT_EQ_INT(xmppc__parser_new(&P.reader, &reader_callbacks, NULL), 0);
    XT_EQ_INT(xmppc__stream_new(&P.s, &cfg, &none, NULL), 0);
    XT_EQ_INT(xmppc__stream_start(P.s), 0);
    pump();
    EXPECT_HEADER(BARE_JID);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(MECHS(MECH("PLAIN")))), 0);
    EXPECT_ONE("auth", NS_SASL);
    XT_EQ_INT(feed("<success xmlns='" NS_SASL "'/>"), 0);
    XT_EQ_INT(feed(SERVER_HEADER FEATURES(BIND_FEATURE)), 0);
    xmppc_stanza *iq = EXPECT_ONE("iq", XMPPC_NS_CLIENT);
    char id[128];
    snprintf(id, sizeof id, "%s",
             xmppc_stanza_get_id(iq) ? xmppc_stanza_get_id(iq) : "");
    XT_EQ_INT(feed_bind_result(id, BARE_JID "/balcony"), 0);
    XT_CHECK(xmppc__stream_is_ready(P.s));
    XT_EQ_INT(feed("<message/>"), 0);
    XT_EQ_INT(xmppc__stream_close(P.s), 0);
    feed("</stream:stream>");
    XT_CHECK(xmppc__stream_is_closed(P.s));
    XT_EQ_STR(P.events, "");
    stop();
}

/* ---- API state rules ----------------------------------------------------- */

static void test_api_states(void)
{
    xmppc__stream_config cfg = base_config();
    memset(&P, 0, sizeof P);
    XT_EQ_INT(xmppc__stream_new(&P.s, &cfg, &hooks, &P), 0);
    XT_EQ_INT(xmppc__stream_feed(P.s, SERVER_HEADER, strlen(SERVER_HEADER)), 0);
    XT_EQ_INT(xmppc__stream_output(P.s)->len, 0);
    XT_EQ_INT(xmppc__stream_tls_ready(P.s), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__stream_close(P.s), 0); /* before start: closed now */
    XT_EQ_INT(P.closed_calls, 1);
    XT_CHECK(P.closed_ok);
    xmppc__stream_free(P.s);
    P.s = NULL;

    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(xmppc__stream_start(P.s), XMPPC_ESTATE);
    pump();
    EXPECT_NOTHING_SENT();
    xmppc_stanza *msg = NULL;
    XT_EQ_INT(xmppc_message_new(&msg, NULL, "a@" DOMAIN, "early"), 0);
    XT_EQ_INT(xmppc__stream_send(P.s, msg), XMPPC_ESTATE);
    pump();
    EXPECT_NOTHING_SENT();

    /* the connection fails the stream (socket error, timeout) */
    xmppc__error_store err;
    xmppc__error_store_clear(&err);
    xmppc__error_store_set(&err, XMPPC_ETIMEDOUT, NULL, NULL, NULL,
                           "timed out after %d ms", 30000);
    xmppc__stream_fail(P.s, &err.pub);
    EXPECT_CLOSED(XMPPC_ETIMEDOUT, NULL);
    XT_EQ_STR(P.err_message, "timed out after 30000 ms");
    xmppc__stream_fail(P.s, &err.pub);
    XT_EQ_INT(P.closed_calls, 1);
    XT_EQ_INT(feed(SERVER_HEADER), XMPPC_ETIMEDOUT);
    XT_EQ_INT(xmppc__stream_close(P.s), 0);
    XT_EQ_INT(P.closed_calls, 1);
    stop();

    /* closing during negotiation */
    XT_EQ_INT(start(&cfg), 0);
    XT_EQ_INT(xmppc__stream_close(P.s), 0);
    pump();
    XT_EQ_STR(P.raw, "</stream:stream>");
    feed(SERVER_HEADER FEATURES(STARTTLS_FEATURE) "</stream:stream>");
    EXPECT_NOTHING_SENT(); /* no <starttls/> after our close */
    XT_EQ_INT(P.closed_calls, 1);
    XT_CHECK(P.closed_ok);
    stop();
    xmppc_stanza_unref(msg);
    xmppc_error_clear();
}

/* ---- 14. allocation failures --------------------------------------------- */

/* A whole login on the raw bytes only: STARTTLS, PLAIN, bind, session.
 * Returns 1 when ready. */
static int scripted_login(const xmppc__logger *logger)
{
    xmppc__stream_config cfg = base_config();
    cfg.logger = logger;
    int rc = start(&cfg);
    if (rc < 0)
        return rc;
    static const char *const script[] = {
        SERVER_HEADER FEATURES(STARTTLS_FEATURE),
        PROCEED,
        NULL, /* TLS handshake */
        SERVER_HEADER FEATURES(MECHS(MECH("PLAIN"))),
        "<success xmlns='" NS_SASL "'/>",
        SERVER_HEADER FEATURES(BIND_FEATURE "<session xmlns='" NS_SESSION
                                            "'/>"),
        "bind",
        "session",
        "<message id='m'><body>hi</body></message>"};
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        if (!script[i]) {
            rc = tls_ready();
        } else if (strcmp(script[i], "bind") == 0 ||
                   strcmp(script[i], "session") == 0) {
            /* answer the iq just sent, by id */
            const char *at = strstr(P.raw, "id='");
            char id[128] = "";
            if (at) {
                at += 4;
                size_t n = strcspn(at, "'");
                snprintf(id, sizeof id, "%.*s", (int)(n < 100 ? n : 100), at);
            }
            char xml[512];
            if (script[i][0] == 'b')
                snprintf(xml, sizeof xml,
                         "<iq type='result' id='%s'><bind xmlns='" NS_BIND
                         "'><jid>" BARE_JID "/balcony</jid></bind></iq>",
                         id);
            else
                snprintf(xml, sizeof xml, "<iq type='result' id='%s'/>", id);
            rc = feed(xml);
        } else {
            rc = feed(script[i]);
        }
        if (rc < 0 || P.closed_calls)
            return rc < 0 ? rc : XMPPC_ERROR;
    }
    return xmppc__stream_is_ready(P.s) && P.n_got == 1 ? 1 : XMPPC_ERROR;
}

static void oom_sweep(const char *what, const xmppc__logger *logger)
{
    raw_only = true;
    size_t live = xmppc_alloc_live_blocks();
    long n;
    for (n = 1; n < 100000; n++) {
        log_text[0] = '\0';
        XT_EQ_INT(xt_failalloc_install(n), 0);
        int rc = scripted_login(logger);
        long calls = xt_failalloc.calls;
        bool closed_ok = P.closed_ok;
        int closed = P.closed_calls, code = P.err_code;
        char message[256];
        snprintf(message, sizeof message, "%.200s", P.err_message);
        stop();
        XT_EQ_INT(xt_failalloc_remove(), 0);
        if (xmppc_alloc_live_blocks() != live)
            XT_FAIL_AT(__FILE__, __LINE__, "%s: allocation %ld leaked %zu",
                       what, n, xmppc_alloc_live_blocks() - live);
        if (calls < n) {
            /* nothing failed any more: every allocation has been tried */
            XT_EQ_INT(rc, 1);
            break;
        }
        if (rc == 1) {
            XT_EQ_INT(closed, 0); /* the failed allocation was optional */
            continue;
        }
        /* Failed: either before the stream existed (no hook) or with
         * exactly one closed(ENOMEM). */
        if (closed == 0 ? rc != XMPPC_ENOMEM
                        : closed != 1 || closed_ok || code != XMPPC_ENOMEM)
            XT_FAIL_AT(__FILE__, __LINE__,
                       "%s: allocation %ld: rc %s, closed %d times with %s "
                       "(%s)",
                       what, n, xmppc_status_name(rc), closed,
                       xmppc_status_name(code), message);
    }
    printf("# %s: %ld allocations swept\n", what, n);
    XT_CHECK(n > 20);
    raw_only = false;
}

static void test_allocation_failures(void)
{
    /* the script itself works */
    raw_only = true;
    XT_EQ_INT(scripted_login(NULL), 1);
    stop();
    raw_only = false;
    oom_sweep("login", NULL);
    xmppc__logger logger = {
        .cb = capture, .userdata = log_text, .max_level = XMPPC_LOG_TRACE};
    log_text[0] = '\0';
    oom_sweep("login with trace", &logger);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_starttls_scram_login), XT_TEST(test_login_byte_by_byte),
        XT_TEST(test_direct_tls_plain),
        XT_TEST(test_tls_restart_forgets_plaintext),
        XT_TEST(test_channel_binding), XT_TEST(test_legacy_session),
        XT_TEST(test_missing_starttls), XT_TEST(test_starttls_failure),
        XT_TEST(test_sasl_failure), XT_TEST(test_server_signature),
        XT_TEST(test_stream_errors), XT_TEST(test_bind_errors),
        XT_TEST(test_bind_result_needs_resource),
        XT_TEST(test_bad_server_header), XT_TEST(test_ready_stanzas),
        XT_TEST(test_stanza_limits), XT_TEST(test_no_secrets_in_trace),
        XT_TEST(test_null_hooks), XT_TEST(test_api_states),
        XT_TEST(test_allocation_failures))
