/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The client stream state machine (see stream.h): RFC 6120 sections 4-7.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "sasl.h"
#include "stanza-private.h"
#include "stream.h"

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_SASL_CB "urn:xss:sasl-cb:0" /* XEP-0440 */

/* RFC 6120 servers allow ~10 KB before authentication; so do we. */
#define PRE_AUTH_MAX_STANZA_BYTES 10000

enum phase {
    PHASE_IDLE,          /* not started */
    PHASE_FEATURES,      /* header sent, waiting for header + features */
    PHASE_STARTTLS,      /* <starttls/> sent, waiting for <proceed/> */
    PHASE_TLS_HANDSHAKE, /* conn runs the handshake */
    PHASE_SASL,          /* <auth/> sent, exchanging challenges */
    PHASE_BIND,          /* bind iq sent */
    PHASE_SESSION,       /* session iq sent */
    PHASE_READY,
    PHASE_CLOSING, /* </stream:stream> sent */
    PHASE_CLOSED
};

struct xmppc__stream {
    xmppc__stream_hooks hooks;
    void *ud;
    char *local, *domain, *password, *resource;
    bool tls_required;
    bool tls_active;
    bool authenticated;
    bool restart_pending; /* reset the reader once feed unwinds */
    bool header_received;
    bool session_needed; /* legacy session iq after bind */
    size_t max_stanza_bytes;
    const xmppc__logger *logger;

    enum phase phase;
    xmppc__parser *parser;
    xmppc__buf out;
    xmppc__sasl *sasl;
    char *iq_id;     /* of the pending bind or session request */
    char *scram_key; /* obtained at SASL success (secret) */
    char *bound_jid;
    xmppc_stanza *features; /* the last <stream:features> (after SASL) */
    xmppc__error_store error;
};

/* ---- failure ------------------------------------------------------------- */

static void finish(xmppc__stream *s, const xmppc_error *err)
{
    if (s->phase == PHASE_CLOSED)
        return;
    s->phase = PHASE_CLOSED;
    if (err && err != &s->error.pub)
        xmppc__error_store_set(&s->error, err->code, err->condition, err->type,
                               err->text, "%s", err->message);
    if (s->hooks.closed)
        s->hooks.closed(s->ud, err ? &s->error.pub : NULL);
}

/* Fails the stream; returns the code for `return fail(...)`. */
static int fail(xmppc__stream *s, int code, const char *condition,
                const char *text, const char *fmt, ...) XMPPC_PRINTF(5, 6);

static int fail(xmppc__stream *s, int code, const char *condition,
                const char *text, const char *fmt, ...)
{
    if (s->phase == PHASE_CLOSED)
        return code;
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(&s->error, code, condition, NULL, text, fmt, ap);
    va_end(ap);
    xmppc__log(s->logger, XMPPC_LOG_ERROR, "stream", "%s",
               s->error.pub.message);
    finish(s, &s->error.pub);
    return code;
}

void xmppc__stream_fail(xmppc__stream *s, const xmppc_error *err)
{
    if (s && err)
        fail(s, err->code, err->condition, err->text, "%s", err->message);
}

/* ---- output -------------------------------------------------------------- */

static int out_str(xmppc__stream *s, const char *str)
{
    return xmppc__buf_append_str(&s->out, str);
}

static int send_stanza(xmppc__stream *s, const xmppc_stanza *stanza)
{
    size_t mark = s->out.len;
    int rc = xmppc__stanza_serialize(&s->out, stanza, XMPPC_NS_CLIENT);
    if (rc == 0 && xmppc__log_enabled(s->logger, XMPPC_LOG_TRACE)) {
        /* SASL payloads carry secrets: never show them. */
        const char *name = xmppc_stanza_get_name(stanza);
        if (strcmp(xmppc_stanza_get_ns(stanza), NS_SASL) == 0)
            xmppc__log(s->logger, XMPPC_LOG_TRACE, "xml",
                       "SEND <%s xmlns='%s'>[redacted]</%s>", name, NS_SASL,
                       name);
        else
            xmppc__log(s->logger, XMPPC_LOG_TRACE, "xml", "SEND %.*s",
                       (int)(s->out.len - mark), s->out.data + mark);
    }
    return rc;
}

static int send_header(xmppc__stream *s)
{
    size_t mark = s->out.len;
    int rc = 0;
    if (out_str(s,
                "<?xml version='1.0'?><stream:stream "
                "xmlns='jabber:client' "
                "xmlns:stream='http://etherx.jabber.org/streams' to='") < 0 ||
        xmppc__escape_attr(&s->out, s->domain, strlen(s->domain)) < 0)
        rc = XMPPC_ENOMEM;
    /* RFC 6120 4.7.1: announce who we are once the stream is encrypted. */
    if (rc == 0 && s->tls_active &&
        (out_str(s, "' from='") < 0 ||
         xmppc__escape_attr(&s->out, s->local, strlen(s->local)) < 0 ||
         out_str(s, "@") < 0 ||
         xmppc__escape_attr(&s->out, s->domain, strlen(s->domain)) < 0))
        rc = XMPPC_ENOMEM;
    if (rc == 0 && out_str(s, "' version='1.0' xml:lang='en'>") < 0)
        rc = XMPPC_ENOMEM;
    if (rc < 0) {
        xmppc__buf_truncate(&s->out, mark);
        return fail(s, rc, NULL, NULL, "out of memory");
    }
    xmppc__log(s->logger, XMPPC_LOG_TRACE, "xml", "SEND %s",
               s->out.data + mark);
    s->phase = PHASE_FEATURES;
    s->header_received = false;
    return 0;
}

/* Builds <name xmlns=ns [mechanism=...]>text</name> and sends it. */
static int send_simple(xmppc__stream *s, const char *name, const char *ns,
                       const char *attr, const char *attr_value,
                       const char *text)
{
    xmppc_stanza *el = NULL;
    int rc = xmppc_stanza_new(&el, name, ns);
    if (rc == 0 && attr)
        rc = xmppc_stanza_set_attr(el, attr, attr_value);
    if (rc == 0 && text)
        rc = xmppc_stanza_add_text(el, text);
    if (rc == 0)
        rc = send_stanza(s, el);
    xmppc_stanza_unref(el);
    return rc < 0 ? fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message)
                  : 0;
}

/* ---- stream errors ------------------------------------------------------- */

static int stream_error(xmppc__stream *s, xmppc_stanza *error)
{
    const char *condition = NULL, *text = NULL, *other_host = NULL;
    for (size_t i = 0; i < xmppc_stanza_child_count(error); i++) {
        xmppc_stanza *c = xmppc_stanza_child_at(error, i);
        const char *name = xmppc_stanza_get_name(c);
        if (!name || strcmp(xmppc_stanza_get_ns(c), NS_STREAM_ERRORS) != 0)
            continue;
        if (strcmp(name, "text") == 0) {
            text = xmppc_stanza_get_text(c);
        } else if (!condition) {
            condition = name;
            if (strcmp(name, "see-other-host") == 0)
                other_host = xmppc_stanza_get_text(c);
        }
    }
    if (other_host)
        return fail(s, XMPPC_ESTREAM, condition, text,
                    "stream error see-other-host: the server redirects to "
                    "%.200s",
                    other_host);
    return fail(s, XMPPC_ESTREAM, condition ? condition : "undefined-condition",
                text, "stream error %s%s%.300s",
                condition ? condition : "(no condition)", text ? ": " : "",
                text ? text : "");
}

/* ---- features ------------------------------------------------------------ */

static int start_sasl(xmppc__stream *s, xmppc_stanza *mechanisms,
                      xmppc_stanza *features)
{
    const char *offered[32];
    size_t n = 0;
    for (xmppc_stanza *m =
             xmppc_stanza_get_child(mechanisms, "mechanism", NS_SASL);
         m && n < 32;
         m = xmppc_stanza_get_next_child(mechanisms, m, "mechanism", NS_SASL))
        if (xmppc_stanza_get_text(m))
            offered[n++] = xmppc_stanza_get_text(m);

    /* XEP-0440: the channel-binding types the server supports. */
    const char *cb_types[8];
    size_t n_cb = 0;
    xmppc_stanza *cb =
        xmppc_stanza_get_child(features, "sasl-channel-binding", NS_SASL_CB);
    for (xmppc_stanza *t = xmppc_stanza_get_child(cb, "channel-binding", NULL);
         t && n_cb < 7;
         t = xmppc_stanza_get_next_child(cb, t, "channel-binding", NULL))
        if (xmppc_stanza_get_attr(t, "type"))
            cb_types[n_cb++] = xmppc_stanza_get_attr(t, "type");
    cb_types[n_cb] = NULL;

    int tls_version = s->hooks.tls_version ? s->hooks.tls_version(s->ud) : 0;
    xmppc__sasl_tls_info tls = {0};
    tls.active = s->tls_active;
    tls.version = tls_version;
    tls.cb_available = tls_version >= 13   ? XMPPC__SASL_CB_TLS_EXPORTER
                       : tls_version == 12 ? XMPPC__SASL_CB_TLS_UNIQUE
                                           : 0;
    tls.server_cb_types = cb ? cb_types : NULL;
    tls.n_server_cb_types = n_cb;

    const char *mech = NULL;
    int rc = xmppc__sasl_choose(s->sasl, offered, n,
                                s->tls_active ? &tls : NULL, &mech);
    if (rc < 0)
        return fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message);

    unsigned char *cb_data = NULL;
    size_t cb_len = 0;
    const char *cb_type =
        xmppc__sasl_cb_name(xmppc__sasl_channel_binding(s->sasl));
    if (cb_type) {
        if (!s->hooks.channel_binding ||
            s->hooks.channel_binding(s->ud, cb_type, &cb_data, &cb_len) < 0)
            return fail(s, XMPPC_ETLS, NULL, NULL,
                        "no %s channel binding from the TLS session", cb_type);
    }
    char *initial = NULL;
    rc = xmppc__sasl_start(s->sasl, cb_data, cb_len, &initial);
    xmppc_free(cb_data);
    if (rc < 0)
        return fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message);
    xmppc__log(s->logger, XMPPC_LOG_DEBUG, "sasl", "authenticating with %s%s%s",
               mech, cb_type ? " over " : "", cb_type ? cb_type : "");
    s->phase = PHASE_SASL;
    if (s->hooks.state)
        s->hooks.state(s->ud, XMPPC_STATE_AUTHENTICATING);
    rc = send_simple(s, "auth", NS_SASL, "mechanism", mech,
                     initial ? initial : "=");
    xmppc__free_secret(initial);
    return rc;
}

static int start_bind(xmppc__stream *s)
{
    xmppc_stanza *iq = NULL, *bind = NULL;
    int rc = xmppc_iq_new(&iq, "set", NULL, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&bind, "bind", NS_BIND);
    if (rc == 0 && s->resource)
        rc = xmppc_stanza_add_text_child(bind, "resource", NULL, s->resource);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, bind);
    xmppc_free(s->iq_id);
    s->iq_id = NULL;
    if (rc == 0 && !(s->iq_id = xmppc__strdup(xmppc_stanza_get_id(iq))))
        rc = XMPPC_ENOMEM;
    if (rc == 0)
        rc = send_stanza(s, iq);
    xmppc_stanza_unref(bind);
    xmppc_stanza_unref(iq);
    if (rc < 0)
        return fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message);
    s->phase = PHASE_BIND;
    if (s->hooks.state)
        s->hooks.state(s->ud, XMPPC_STATE_BINDING);
    return 0;
}

static int on_features(xmppc__stream *s, xmppc_stanza *features)
{
    if (!s->tls_active) {
        xmppc_stanza *starttls =
            xmppc_stanza_get_child(features, "starttls", NS_TLS);
        if (starttls) {
            s->phase = PHASE_STARTTLS;
            if (s->hooks.state)
                s->hooks.state(s->ud, XMPPC_STATE_SECURING);
            return send_simple(s, "starttls", NS_TLS, NULL, NULL, NULL);
        }
        if (s->tls_required)
            /* Nothing else may be sent: no downgrade to plaintext. */
            return fail(s, XMPPC_ETLS, NULL, NULL,
                        "the server does not offer STARTTLS and TLS is "
                        "required");
    }
    if (!s->authenticated) {
        xmppc_stanza *mechanisms =
            xmppc_stanza_get_child(features, "mechanisms", NS_SASL);
        if (!mechanisms)
            return fail(s, XMPPC_EAUTH, NULL, NULL,
                        "the server offers no SASL mechanism");
        return start_sasl(s, mechanisms, features);
    }
    if (!xmppc_stanza_get_child(features, "bind", NS_BIND))
        return fail(s, XMPPC_EPROTO, NULL, NULL,
                    "the server offers no resource binding");
    xmppc_stanza_unref(s->features);
    s->features = xmppc_stanza_ref(features);
    /* Legacy session establishment only when not marked optional. */
    xmppc_stanza *session =
        xmppc_stanza_get_child(features, "session", NS_SESSION);
    s->session_needed =
        session && !xmppc_stanza_get_child(session, "optional", NULL);
    return start_bind(s);
}

/* ---- SASL replies -------------------------------------------------------- */

/* ---- SCRAM keys -----------------------------------------------------------
 * "scram-sha-1:ITERATIONS:SALT_B64:HEX" or "scram-sha-256:...". */

/* Parses @p text into @p key, whose salt points into @p buf (a copy of the
 * text); returns 0 or XMPPC_EINVAL. */
static int parse_scram_key(const char *text, char *buf, size_t cap,
                           xmppc__sasl_cached_key *key)
{
    if (!text || strlen(text) >= cap)
        return xmppc__error(XMPPC_EINVAL, "SCRAM key: missing or too long");
    strcpy(buf, text);
    char *fields[4];
    char *save = NULL, *p = buf;
    for (int i = 0; i < 4; i++, p = NULL)
        if (!(fields[i] = strtok_r(p, ":", &save)))
            return xmppc__error(XMPPC_EINVAL,
                                "SCRAM key: expected "
                                "scram-sha-1|scram-sha-256:ITERATIONS:SALT:"
                                "HEX");
    memset(key, 0, sizeof *key);
    size_t hex_len;
    if (strcmp(fields[0], "scram-sha-1") == 0)
        key->hash = XMPPC__SASL_HASH_SHA1, hex_len = 40;
    else if (strcmp(fields[0], "scram-sha-256") == 0)
        key->hash = XMPPC__SASL_HASH_SHA256, hex_len = 64;
    else
        return xmppc__error(XMPPC_EINVAL, "SCRAM key: unknown hash '%.20s'",
                            fields[0]);
    char *end = NULL;
    unsigned long iterations = strtoul(fields[1], &end, 10);
    if (!*fields[1] || *end || iterations == 0 || iterations > 100000000UL)
        return xmppc__error(XMPPC_EINVAL, "SCRAM key: bad iteration count");
    key->iterations = (unsigned int)iterations;
    key->salt_b64 = fields[2];
    if (strlen(fields[3]) != hex_len ||
        strspn(fields[3], "0123456789abcdef") != hex_len)
        return xmppc__error(XMPPC_EINVAL,
                            "SCRAM key: the salted password must be %zu "
                            "lowercase hex digits",
                            hex_len);
    memcpy(key->salted_password_hex, fields[3], hex_len + 1);
    return 0;
}

int xmppc__stream_check_scram_key(const char *key)
{
    char buf[512];
    xmppc__sasl_cached_key parsed;
    int rc = parse_scram_key(key, buf, sizeof buf, &parsed);
    memset(buf, 0, sizeof buf);
    memset(&parsed, 0, sizeof parsed);
    return rc;
}

/* Keeps the key a later login may use instead of the password. */
static void keep_scram_key(xmppc__stream *s)
{
    xmppc__sasl_cached_key key = {0};
    if (xmppc__sasl_get_cached_key(s->sasl, &key) < 0)
        return; /* PLAIN: nothing to keep */
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s:%u:%s:%s",
                     key.hash == XMPPC__SASL_HASH_SHA256 ? "scram-sha-256"
                                                         : "scram-sha-1",
                     key.iterations, key.salt_b64, key.salted_password_hex);
    xmppc__sasl_cached_key_clear(&key);
    if (n > 0 && (size_t)n < sizeof buf) {
        xmppc__free_secret(s->scram_key);
        s->scram_key = xmppc__strdup(buf); /* NULL on ENOMEM: no key */
    }
    memset(buf, 0, sizeof buf);
}

const char *xmppc__stream_scram_key(const xmppc__stream *s)
{
    return s->scram_key;
}

static int restart_after_auth(xmppc__stream *s)
{
    s->authenticated = true;
    keep_scram_key(s);
    xmppc__sasl_free(s->sasl);
    s->sasl = NULL;
    /* The reader is reset once feed unwinds (it cannot restart from inside
     * its own callback); the bytes after <success/> are dropped. */
    s->restart_pending = true;
    return 0;
}

static int on_sasl(xmppc__stream *s, xmppc_stanza *el)
{
    const char *name = xmppc_stanza_get_name(el);
    const char *data = xmppc_stanza_get_text(el);
    int rc;
    if (strcmp(name, "challenge") == 0) {
        char *response = NULL;
        rc = xmppc__sasl_step(s->sasl, data, &response);
        if (rc < 0)
            return fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message);
        rc = send_simple(s, "response", NS_SASL, NULL, NULL,
                         response && *response ? response : NULL);
        xmppc__free_secret(response);
        return rc;
    }
    if (strcmp(name, "success") == 0) {
        rc = xmppc__sasl_success(s->sasl, data);
        if (rc < 0)
            return fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message);
        return restart_after_auth(s);
    }
    if (strcmp(name, "failure") == 0) {
        const char *condition = NULL;
        const char *text = xmppc_stanza_get_child_text(el, "text", NS_SASL);
        for (size_t i = 0; i < xmppc_stanza_child_count(el); i++) {
            const char *n = xmppc_stanza_get_name(xmppc_stanza_child_at(el, i));
            if (n && strcmp(n, "text") != 0) {
                condition = n;
                break;
            }
        }
        rc = xmppc__sasl_failure(s->sasl, condition, text);
        return fail(s, rc, condition, text, "%s", xmppc_error_last()->message);
    }
    return fail(s, XMPPC_EPROTO, NULL, NULL, "unexpected SASL element <%s>",
                name);
}

/* ---- bind and session ---------------------------------------------------- */

static int iq_failure(xmppc__stream *s, xmppc_stanza *iq, const char *what)
{
    const char *condition = NULL, *type = NULL, *text = NULL;
    xmppc_stanza_get_error(iq, &condition, &type, &text);
    xmppc__error_store_set(&s->error, XMPPC_ESTANZA, condition, type, text,
                           "%s failed: %s%s%.200s", what,
                           condition ? condition : "error", text ? ": " : "",
                           text ? text : "");
    xmppc__log(s->logger, XMPPC_LOG_ERROR, "stream", "%s",
               s->error.pub.message);
    finish(s, &s->error.pub);
    return XMPPC_ESTANZA;
}

static int become_ready(xmppc__stream *s)
{
    s->phase = PHASE_READY;
    xmppc__log(s->logger, XMPPC_LOG_INFO, "stream", "ready as %s",
               s->bound_jid);
    if (s->hooks.state)
        s->hooks.state(s->ud, XMPPC_STATE_READY);
    return 0;
}

static int on_iq_during_login(xmppc__stream *s, xmppc_stanza *iq)
{
    const char *id = xmppc_stanza_get_id(iq);
    const char *type = xmppc_stanza_get_type(iq);
    if (!id || !s->iq_id || strcmp(id, s->iq_id) != 0 || !type)
        return 0; /* not ours; nothing else is expected before ready */
    if (strcmp(type, "error") == 0)
        return iq_failure(s, iq,
                          s->phase == PHASE_BIND ? "resource binding"
                                                 : "session start");
    if (strcmp(type, "result") != 0)
        return 0;
    if (s->phase == PHASE_BIND) {
        const char *jid = xmppc_stanza_get_child_text(
            xmppc_stanza_get_child(iq, "bind", NS_BIND), "jid", NS_BIND);
        /* RFC 6120 7.6.1: the result carries the full JID. */
        xmppc_jid *bound = NULL;
        int rc = jid ? xmppc_jid_parse(&bound, jid) : XMPPC_EINVAL;
        if (rc == XMPPC_ENOMEM)
            return fail(s, rc, NULL, NULL, "out of memory");
        if (rc < 0 || !xmppc_jid_resource(bound)) {
            xmppc_jid_unref(bound);
            return fail(s, XMPPC_EPROTO, NULL, NULL,
                        "the server bound '%.100s', not a full JID",
                        jid ? jid : "");
        }
        char *prepared = xmppc__strdup(xmppc_jid_full(bound));
        xmppc_jid_unref(bound);
        if (!prepared)
            return fail(s, XMPPC_ENOMEM, NULL, NULL, "out of memory");
        s->bound_jid = prepared;
        if (s->session_needed) {
            xmppc_stanza *sess = NULL, *el = NULL;
            rc = xmppc_iq_new(&sess, "set", NULL, NULL);
            if (rc == 0)
                rc = xmppc_stanza_new(&el, "session", NS_SESSION);
            if (rc == 0)
                rc = xmppc_stanza_add_child(sess, el);
            xmppc_free(s->iq_id);
            s->iq_id =
                rc == 0 ? xmppc__strdup(xmppc_stanza_get_id(sess)) : NULL;
            if (rc == 0 && !s->iq_id)
                rc = XMPPC_ENOMEM;
            if (rc == 0)
                rc = send_stanza(s, sess);
            xmppc_stanza_unref(el);
            xmppc_stanza_unref(sess);
            if (rc < 0)
                return fail(s, rc, NULL, NULL, "%s",
                            xmppc_error_last()->message);
            s->phase = PHASE_SESSION;
            return 0;
        }
    }
    return become_ready(s);
}

/* ---- reader callbacks ---------------------------------------------------- */

static int on_stream_open(void *ud, const xmppc__stream_header *header)
{
    xmppc__stream *s = ud;
    if (!header->version || strncmp(header->version, "1.", 2) != 0) {
        fail(s, XMPPC_EPROTO, "unsupported-version", NULL,
             "the server speaks XMPP version '%.10s', not 1.0",
             header->version ? header->version : "(none)");
        return 1;
    }
    s->header_received = true;
    return 0;
}

static int on_stanza(void *ud, xmppc_stanza *stanza)
{
    xmppc__stream *s = ud;
    const char *name = xmppc_stanza_get_name(stanza);
    const char *ns = xmppc_stanza_get_ns(stanza);
    if (xmppc__log_enabled(s->logger, XMPPC_LOG_TRACE)) {
        bool secret = strcmp(ns, NS_SASL) == 0 && strcmp(name, "failure") != 0;
        char *xml = NULL;
        if (!secret && xmppc_stanza_to_string(&xml, NULL, stanza) == 0)
            xmppc__log(s->logger, XMPPC_LOG_TRACE, "xml", "RECV %s", xml);
        else
            xmppc__log(s->logger, XMPPC_LOG_TRACE, "xml",
                       "RECV <%s xmlns='%s'>[redacted]</%s>", name, ns, name);
        xmppc_free(xml);
    }
    if (strcmp(ns, XMPPC_NS_STREAMS) == 0 && strcmp(name, "error") == 0) {
        stream_error(s, stanza);
        return 1;
    }
    int rc = 0;
    switch (s->phase) {
    case PHASE_FEATURES:
        if (strcmp(ns, XMPPC_NS_STREAMS) != 0 || strcmp(name, "features") != 0)
            rc = fail(s, XMPPC_EPROTO, NULL, NULL,
                      "expected <stream:features>, got <%s>", name);
        else
            rc = on_features(s, stanza);
        break;
    case PHASE_STARTTLS:
        if (strcmp(ns, NS_TLS) == 0 && strcmp(name, "proceed") == 0) {
            s->phase = PHASE_TLS_HANDSHAKE;
            if (s->hooks.start_tls)
                s->hooks.start_tls(s->ud);
            return 1; /* read nothing more in plaintext */
        }
        rc = fail(s, XMPPC_ETLS, NULL, NULL, "the server refused STARTTLS");
        break;
    case PHASE_SASL:
        if (strcmp(ns, NS_SASL) != 0)
            rc = fail(s, XMPPC_EPROTO, NULL, NULL,
                      "unexpected <%s> during authentication", name);
        else
            rc = on_sasl(s, stanza);
        if (s->restart_pending)
            return 1;
        break;
    case PHASE_BIND:
    case PHASE_SESSION:
        if (strcmp(name, "iq") == 0 && strcmp(ns, XMPPC_NS_CLIENT) == 0)
            rc = on_iq_during_login(s, stanza);
        break;
    case PHASE_READY:
    case PHASE_CLOSING:
        if (s->hooks.stanza)
            s->hooks.stanza(s->ud, stanza);
        break;
    default:
        break;
    }
    return rc < 0 || s->phase == PHASE_CLOSED ? 1 : 0;
}

static void on_stream_close(void *ud)
{
    xmppc__stream *s = ud;
    if (s->phase == PHASE_CLOSING) {
        finish(s, NULL);
        return;
    }
    fail(s, XMPPC_EDISCONNECTED, NULL, NULL, "the server closed the stream");
}

static void on_reader_error(void *ud, int code, const char *condition,
                            const char *message)
{
    xmppc__stream *s = ud;
    fail(s, code, condition, NULL, "bad XML from the server: %s", message);
}

/* ---- public -------------------------------------------------------------- */

int xmppc__stream_new(xmppc__stream **out, const xmppc__stream_config *cfg,
                      const xmppc__stream_hooks *hooks, void *ud)
{
    static const xmppc__parser_callbacks callbacks = {
        on_stream_open, on_stanza, on_stream_close, on_reader_error};
    if (cfg->max_stanza_bytes > XMPPC__PARSER_MAX_STANZA_BYTES_CEILING)
        return xmppc__error(XMPPC_EINVAL,
                            "stanza limit %zu above the reader's ceiling",
                            cfg->max_stanza_bytes);
    xmppc__stream *s = xmppc__calloc(1, sizeof *s);
    if (!s)
        return XMPPC_ENOMEM;
    s->hooks = *hooks;
    s->ud = ud;
    s->tls_required = cfg->tls_required;
    s->tls_active = cfg->tls_active;
    s->max_stanza_bytes = cfg->max_stanza_bytes
                              ? cfg->max_stanza_bytes
                              : XMPPC__PARSER_DEFAULT_MAX_STANZA_BYTES;
    s->logger = cfg->logger;
    xmppc__error_store_clear(&s->error);
    int rc = 0;
    if (!(s->local = xmppc__strdup(cfg->local)) ||
        !(s->domain = xmppc__strdup(cfg->domain)) ||
        (cfg->password && !(s->password = xmppc__strdup(cfg->password))) ||
        (cfg->resource && !(s->resource = xmppc__strdup(cfg->resource))))
        rc = XMPPC_ENOMEM;
    xmppc__sasl_config sasl_cfg = {0};
    xmppc__sasl_cached_key key;
    char key_buf[512];
    if (rc == 0 && cfg->scram_key) {
        rc = parse_scram_key(cfg->scram_key, key_buf, sizeof key_buf, &key);
        if (rc == 0)
            sasl_cfg.cached_key = &key;
    }
    sasl_cfg.authcid = cfg->local;
    sasl_cfg.password = cfg->password;
    sasl_cfg.allow_plain = true; /* the SASL module refuses it without TLS */
    sasl_cfg.logger = cfg->logger;
    if (rc == 0)
        rc = xmppc__sasl_new(&s->sasl, &sasl_cfg); /* copies the key */
    memset(key_buf, 0, sizeof key_buf);
    memset(&key, 0, sizeof key);
    if (rc == 0)
        rc = xmppc__parser_new(&s->parser, &callbacks, s);
    xmppc__parser_limits limits;
    if (rc == 0) {
        xmppc__parser_get_limits(s->parser, &limits);
        limits.max_stanza_bytes = PRE_AUTH_MAX_STANZA_BYTES;
        rc = xmppc__parser_set_limits(s->parser, &limits);
    }
    if (rc < 0) {
        xmppc__stream_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void xmppc__stream_free(xmppc__stream *s)
{
    if (!s)
        return;
    xmppc__parser_free(s->parser);
    xmppc__sasl_free(s->sasl);
    xmppc__buf_free(&s->out);
    xmppc_free(s->local);
    xmppc_free(s->domain);
    xmppc__free_secret(s->password);
    xmppc_free(s->resource);
    xmppc_free(s->iq_id);
    xmppc_free(s->bound_jid);
    xmppc_stanza_unref(s->features);
    xmppc__free_secret(s->scram_key);
    xmppc_free(s);
}

int xmppc__stream_start(xmppc__stream *s)
{
    if (s->phase != PHASE_IDLE)
        return xmppc__error(XMPPC_ESTATE, "the stream has started already");
    return send_header(s);
}

/* Resets the reader for a new stream and sends our header again (after
 * TLS and after SASL success). */
static int restart(xmppc__stream *s)
{
    s->restart_pending = false;
    int rc = xmppc__parser_reset(s->parser);
    if (rc == 0 && s->authenticated) {
        xmppc__parser_limits limits;
        xmppc__parser_get_limits(s->parser, &limits);
        limits.max_stanza_bytes = s->max_stanza_bytes;
        rc = xmppc__parser_set_limits(s->parser, &limits);
    }
    if (rc < 0)
        return fail(s, rc, NULL, NULL, "%s", xmppc_error_last()->message);
    return send_header(s);
}

int xmppc__stream_feed(xmppc__stream *s, const char *data, size_t len)
{
    if (s->phase == PHASE_CLOSED)
        return s->error.pub.code ? s->error.pub.code : XMPPC_EDISCONNECTED;
    if (s->phase == PHASE_TLS_HANDSHAKE || s->phase == PHASE_IDLE)
        return 0; /* plaintext now would be an injection: ignore it */
    int rc = xmppc__parser_feed(s->parser, data, len);
    if (s->phase == PHASE_CLOSED)
        return s->error.pub.code ? s->error.pub.code : XMPPC_EDISCONNECTED;
    if (rc < 0 && rc != XMPPC_ESTATE)
        return rc;
    if (s->restart_pending)
        return restart(s);
    return 0;
}

xmppc__buf *xmppc__stream_output(xmppc__stream *s)
{
    return &s->out;
}

int xmppc__stream_tls_ready(xmppc__stream *s)
{
    if (s->phase != PHASE_TLS_HANDSHAKE)
        return xmppc__error(XMPPC_ESTATE, "no TLS handshake was pending");
    s->tls_active = true;
    /* RFC 6120 5.4.3.3: everything from before TLS is forgotten. */
    xmppc__buf_truncate(&s->out, 0);
    return restart(s);
}

int xmppc__stream_send(xmppc__stream *s, const xmppc_stanza *stanza)
{
    if (s->phase != PHASE_READY)
        return xmppc__error(XMPPC_ESTATE, "the stream is not ready");
    return send_stanza(s, stanza);
}

int xmppc__stream_close(xmppc__stream *s)
{
    if (s->phase == PHASE_CLOSED || s->phase == PHASE_CLOSING)
        return 0;
    if (s->phase == PHASE_IDLE) {
        finish(s, NULL);
        return 0;
    }
    if (out_str(s, "</stream:stream>") < 0)
        return fail(s, XMPPC_ENOMEM, NULL, NULL, "out of memory");
    s->phase = PHASE_CLOSING;
    return 0;
}

bool xmppc__stream_is_ready(const xmppc__stream *s)
{
    return s->phase == PHASE_READY;
}

bool xmppc__stream_is_closed(const xmppc__stream *s)
{
    return s->phase == PHASE_CLOSED;
}

const xmppc_stanza *xmppc__stream_features(const xmppc__stream *s)
{
    return s->phase == PHASE_READY || s->phase == PHASE_CLOSING ? s->features
                                                                : NULL;
}

const char *xmppc__stream_bound_jid(const xmppc__stream *s)
{
    return s->phase == PHASE_READY || s->phase == PHASE_CLOSING ? s->bound_jid
                                                                : NULL;
}
