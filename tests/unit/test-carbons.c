/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Message Carbons (XEP-0280) transcripts over the test transport: enable
 * and disable, received and sent carbons, spoofed carbons ignored
 * (XEP-0280 section 11), private messages.
 */
#include "../xtest.h"
#include "conn-private.h"

#define OWN "juliet@example.com"
#define ME OWN "/balcony"
#define ROMEO "romeo@example.net/orchard"
#define FWD "<forwarded xmlns='urn:xmpp:forward:0'>"
/* The forwarded message declares jabber:client, as XEP-0297 requires
 * (without it, it would be in the forward namespace). */
#define MSG "<message xmlns='jabber:client'"
#define CARBON(from, dir, inner)                                               \
    "<message from='" from "' to='" ME "'><" dir                               \
    " xmlns='urn:xmpp:carbons:2'>" FWD inner "</forwarded></" dir              \
    "></message>"

typedef struct sent {
    int count;
    char last[4096];
    char id[64]; /* the id of the last stanza */
} sent;

static void sink(void *ud, const char *xml)
{
    sent *s = ud;
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", xml);
    s->id[0] = '\0';
    const char *p = strstr(xml, " id='");
    if (p) {
        p += 5;
        size_t n = strcspn(p, "'");
        if (n < sizeof s->id) {
            memcpy(s->id, p, n);
            s->id[n] = '\0';
        }
    }
}

/* The last stanza with its id replaced by '*'. */
static const char *masked(sent *s)
{
    static char buf[4096];
    const char *p = s->id[0] ? strstr(s->last, s->id) : NULL;
    if (!p)
        return s->last;
    snprintf(buf, sizeof buf, "%.*s*%s", (int)(p - s->last), s->last,
             p + strlen(s->id));
    return buf;
}

typedef struct seen {
    int count;
    xmppc_carbon_direction dir;
    char inner[2048];
    int warnings;
    int app_messages; /* messages seen by a handler registered later */
} seen;

static seen *log_target;

static void on_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                   const char *message, void *userdata)
{
    (void)conn;
    (void)userdata;
    if (level == XMPPC_LOG_WARN && strcmp(area, "carbons") == 0 && log_target)
        log_target->warnings++;
    (void)message;
}

static void on_carbon(xmppc_conn *conn, const xmppc_stanza *inner,
                      xmppc_carbon_direction dir, void *userdata)
{
    (void)conn;
    seen *s = userdata;
    s->count++;
    s->dir = dir;
    char *xml = NULL;
    if (xmppc_stanza_to_string(&xml, NULL, inner) == 0)
        snprintf(s->inner, sizeof s->inner, "%s", xml);
    xmppc_free(xml);
}

static int app_handler(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    (void)conn;
    (void)msg;
    seen *s = userdata;
    s->app_messages++;
    return XMPPC_CONTINUE;
}

static xmppc_conn *ready(sent *out, seen *s)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, OWN, "pw"), 0);
    log_target = s;
    xmppc_conn_set_log_cb(c, on_log, NULL, XMPPC_LOG_DEBUG);
    XT_EQ_INT(xmppc__conn_test_ready(c, ME, sink, out), 0);
    if (s) {
        XT_EQ_INT(xmppc_carbons_on_message(c, NULL, on_carbon, s, NULL), 0);
        XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "message", NULL, NULL,
                                         app_handler, s, NULL),
                  0);
    }
    return c;
}

static void done(xmppc_conn *c)
{
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    xmppc_error_clear();
    log_target = NULL;
}

typedef struct result {
    int calls, enabled, code, destroyed;
} result;

static void on_result(xmppc_conn *conn, int enabled, const xmppc_error *err,
                      void *userdata)
{
    (void)conn;
    result *r = userdata;
    r->calls++;
    r->enabled = enabled;
    r->code = err ? err->code : 0;
}

static void on_result_destroy(void *userdata)
{
    ((result *)userdata)->destroyed++;
}

static void test_enable_disable(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out, NULL);
    result r = {0};
    XT_EQ_INT(xmppc_carbons_is_enabled(c), 0);
    XT_EQ_INT(xmppc_carbons_enable(c, on_result, &r, on_result_destroy), 0);
    XT_EQ_STR(masked(&out), "<iq type='set' id='*'><enable "
                            "xmlns='urn:xmpp:carbons:2'/></iq>");
    char reply[256];
    /* A reply from someone else is not the answer. */
    snprintf(reply, sizeof reply,
             "<iq type='result' id='%s' from='romeo@example.net'/>", out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(r.calls, 0);
    snprintf(reply, sizeof reply, "<iq type='result' id='%s' to='" ME "'/>",
             out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.enabled, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(xmppc_carbons_is_enabled(c), 1);
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0); /* a duplicate */
    XT_EQ_INT(r.calls, 1);

    /* A refused disable leaves carbons enabled. */
    r = (result){0};
    XT_EQ_INT(xmppc_carbons_disable(c, on_result, &r, on_result_destroy), 0);
    XT_EQ_STR(masked(&out), "<iq type='set' id='*'><disable "
                            "xmlns='urn:xmpp:carbons:2'/></iq>");
    snprintf(reply, sizeof reply,
             "<iq type='error' id='%s' from='" OWN "'><error type='cancel'>"
             "<not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
             "</error></iq>",
             out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_INT(r.enabled, 1);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(xmppc_carbons_is_enabled(c), 1);

    /* Then accepted; a NULL callback is fine. */
    XT_EQ_INT(xmppc_carbons_disable(c, NULL, NULL, NULL), 0);
    snprintf(reply, sizeof reply, "<iq type='result' id='%s'/>", out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(xmppc_carbons_is_enabled(c), 0);

    /* The feature is advertised. */
    XT_EQ_INT(xmppc_disco_has_feature(xmppc_disco_get(c), XMPPC_NS_CARBONS), 1);

    /* Unanswered at disconnect: canceled, exactly once. */
    r = (result){0};
    XT_EQ_INT(xmppc_carbons_enable(c, on_result, &r, on_result_destroy), 0);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ECANCELED);
    XT_EQ_INT(r.enabled, 0);
    XT_EQ_INT(r.destroyed, 1);
    /* Not ready: refused, no callback. */
    r = (result){0};
    XT_EQ_INT(xmppc_carbons_enable(c, on_result, &r, on_result_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(r.calls + r.destroyed, 0);
    XT_EQ_INT(xmppc_carbons_enable(NULL, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_carbons_is_enabled(NULL), 0);
    done(c);
}

static void test_received_and_sent(void)
{
    sent out = {0};
    seen s = {0};
    xmppc_conn *c = ready(&out, &s);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, CARBON(OWN, "received",
                            MSG " from='" ROMEO "' to='" OWN "/phone' "
                                "type='chat'><body>hi</body></message>")),
              0);
    XT_EQ_INT(s.count, 1);
    XT_EQ_INT(s.dir, XMPPC_CARBON_RECEIVED);
    XT_EQ_STR(s.inner, "<message from='" ROMEO "' to='" OWN "/phone' "
                       "type='chat'><body>hi</body></message>");
    /* Handled: a handler registered after the manager never sees it. */
    XT_EQ_INT(s.app_messages, 0);

    /* With a <delay/>, whitespace, and an uppercase own JID. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='Juliet@EXAMPLE.com'><sent "
                     "xmlns='urn:xmpp:carbons:2'>\n " FWD
                     "<delay xmlns='urn:xmpp:delay' "
                     "stamp='2026-01-01T00:00:00Z'/>\n" MSG " from='" OWN
                     "/phone' to='" ROMEO "' "
                     "type='chat'><body>bye</body></message></forwarded>"
                     "</sent></message>"),
              0);
    XT_EQ_INT(s.count, 2);
    XT_EQ_INT(s.dir, XMPPC_CARBON_SENT);
    XT_EQ_STR(s.inner, "<message from='" OWN "/phone' to='" ROMEO "' "
                       "type='chat'><body>bye</body></message>");
    XT_EQ_INT(s.app_messages, 0);
    XT_EQ_INT(s.warnings, 0);

    /* A normal message goes on to other handlers, even with <private/>. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='chat'><body>x</body>"
                     "<private xmlns='urn:xmpp:carbons:2'/></message>"),
              0);
    XT_EQ_INT(s.count, 2);
    XT_EQ_INT(s.app_messages, 1);
    XT_EQ_STR(xmppc_carbon_direction_name(XMPPC_CARBON_SENT), "sent");
    XT_EQ_STR(xmppc_carbon_direction_name(XMPPC_CARBON_RECEIVED), "received");
    XT_CHECK(xmppc_carbon_direction_name((xmppc_carbon_direction)7) == NULL);
    done(c);
}

static void test_spoofed(void)
{
    sent out = {0};
    seen s = {0};
    xmppc_conn *c = ready(&out, &s);
    static const char *const spoofs[] = {
        /* another account */
        CARBON("romeo@example.net", "received",
               MSG " from='mallory@evil.example' to='" OWN
                   "' type='chat'><body>trust me</body></message>"),
        /* another account's full JID */
        CARBON(ROMEO, "sent",
               MSG " from='" OWN "/phone' to='" ROMEO
                   "' type='chat'><body>I said this</body></message>"),
        /* the own server */
        CARBON("example.com", "received",
               MSG " from='" ROMEO "' to='" OWN
                   "' type='chat'><body>x</body></message>"),
        /* a full JID of the own account: carbons come from the bare JID */
        CARBON(OWN "/phone", "received",
               MSG " from='" ROMEO "' to='" OWN
                   "' type='chat'><body>x</body></message>"),
        /* a different user on the own server */
        CARBON("juliet2@example.com", "received",
               MSG " from='" ROMEO "' to='" OWN
                   "' type='chat'><body>x</body></message>"),
        /* no sender */
        "<message><received xmlns='urn:xmpp:carbons:2'>" FWD MSG " from='" ROMEO
        "' to='" OWN "' type='chat'><body>x</body>"
        "</message></forwarded></received></message>",
        /* a carbon inside a carbon */
        CARBON(OWN, "received",
               MSG " from='" ROMEO "' to='" OWN "'><sent "
                   "xmlns='urn:xmpp:carbons:2'>" FWD MSG " from='" OWN
                   "/x' to='" ROMEO "'><body>nested</body></message>"
                   "</forwarded></sent></message>"),
        /* a received copy not addressed to us */
        CARBON(OWN, "received",
               MSG " from='" ROMEO "' to='nurse@example.com' "
                   "type='chat'><body>x</body></message>"),
        /* a sent copy not from us */
        CARBON(OWN, "sent",
               MSG " from='romeo@example.net/x' to='" ROMEO "' "
                   "type='chat'><body>x</body></message>"),
        /* two forwarded messages */
        CARBON(OWN, "received",
               MSG " from='" ROMEO "' type='chat'><body>1</body></message>" MSG
                   " from='" ROMEO "' type='chat'><body>2</body>"
                   "</message>"),
        /* no forwarded message */
        CARBON(OWN, "received", ""),
        /* received and sent at once */
        "<message from='" OWN "'><received xmlns='urn:xmpp:carbons:2'>" FWD MSG
        " from='" ROMEO "'><body>1</body></message></forwarded>"
        "</received><sent xmlns='urn:xmpp:carbons:2'>" FWD MSG " from='" OWN
        "/x'><body>2</body></message></forwarded></sent></message>",
        /* an error */
        "<message from='" OWN "' type='error'><received "
        "xmlns='urn:xmpp:carbons:2'>" FWD MSG " from='" ROMEO "'><body>1"
        "</body></message></forwarded></received></message>",
        /* the forwarded message in another namespace */
        "<message from='" OWN "'><received xmlns='urn:xmpp:carbons:2'>" FWD
        "<message xmlns='jabber:server' from='" ROMEO "'><body>1</body>"
        "</message></forwarded></received></message>",
        /* a carbons element without <forwarded/> */
        "<message from='" OWN "'><received xmlns='urn:xmpp:carbons:2'>"
        "<message from='" ROMEO "'><body>1</body></message></received>"
        "</message>",
    };
    size_t n = sizeof spoofs / sizeof spoofs[0];
    for (size_t i = 0; i < n; i++) {
        XT_EQ_INT(xmppc__conn_test_inject(c, spoofs[i]), 0);
        if (s.count != 0 || s.app_messages != 0 || s.warnings != (int)i + 1)
            XT_FAIL_AT(__FILE__, __LINE__, "spoof %zu was not ignored", i);
    }
    XT_EQ_INT(s.count, 0);
    XT_EQ_INT(s.app_messages, 0);
    XT_EQ_INT(out.count, 0); /* no answer either */
    done(c);
}

typedef struct remover {
    xmppc_handler *self;
    int calls, destroyed;
} remover;

static void remove_self(xmppc_conn *conn, const xmppc_stanza *inner,
                        xmppc_carbon_direction dir, void *userdata)
{
    (void)conn;
    (void)inner;
    (void)dir;
    remover *r = userdata;
    r->calls++;
    xmppc_handler_remove(r->self);
}

static void remover_destroy(void *userdata)
{
    ((remover *)userdata)->destroyed++;
}

static void test_listener_handles(void)
{
    sent out = {0};
    seen s = {0};
    xmppc_conn *c = ready(&out, NULL);
    remover r = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(
        xmppc_carbons_on_message(c, &r.self, remove_self, &r, remover_destroy),
        0);
    XT_EQ_INT(xmppc_carbons_on_message(c, &h, on_carbon, &s, NULL), 0);
    const char *carbon = CARBON(OWN, "received",
                                MSG " from='" ROMEO "' type='chat'>"
                                    "<body>x</body></message>");
    XT_EQ_INT(xmppc__conn_test_inject(c, carbon), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(s.count, 1);
    XT_EQ_INT(xmppc__conn_test_inject(c, carbon), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(s.count, 2);
    xmppc_handler_free(h);
    XT_EQ_INT(xmppc__conn_test_inject(c, carbon), 0);
    XT_EQ_INT(s.count, 2);
    xmppc_handler_free(r.self);
    XT_EQ_INT(xmppc_carbons_on_message(c, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    /* A listener alive when the connection goes: destroyed then. */
    remover r2 = {0};
    XT_EQ_INT(xmppc_carbons_on_message(c, &r2.self, remove_self, &r2,
                                       remover_destroy),
              0);
    done(c);
    XT_EQ_INT(r2.destroyed, 1);
    xmppc_handler_free(r2.self);
}

static void test_private(void)
{
    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", ROMEO, "secret"), 0);
    XT_EQ_INT(xmppc_carbons_is_private(m), 0);
    XT_EQ_INT(xmppc_carbons_mark_private(m), 0);
    XT_EQ_INT(xmppc_carbons_mark_private(m), 0);
    XT_EQ_INT(xmppc_carbons_is_private(m), 1);
    char *xml = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, m), 0);
    XT_EQ_STR(xml, "<message type='chat' to='" ROMEO "'><body>secret</body>"
                   "<private xmlns='urn:xmpp:carbons:2'/><no-copy "
                   "xmlns='urn:xmpp:hints'/></message>");
    xmppc_free(xml);
    xmppc_stanza_unref(m);
    xmppc_stanza *iq = NULL;
    XT_EQ_INT(xmppc_iq_new(&iq, "get", NULL, NULL), 0);
    XT_EQ_INT(xmppc_carbons_mark_private(iq), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_carbons_mark_private(NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_carbons_is_private(NULL), 0);
    xmppc_stanza_unref(iq);
    xmppc_error_clear();
}

typedef struct support {
    int calls, supported, code;
} support;

static void on_support(xmppc_conn *conn, int supported, const xmppc_error *err,
                       void *userdata)
{
    (void)conn;
    support *s = userdata;
    s->calls++;
    s->supported = supported;
    s->code = err ? err->code : 0;
}

static void test_server_supports(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out, NULL);
    support s = {0};
    XT_EQ_INT(xmppc_carbons_server_supports(c, on_support, &s, NULL), 0);
    XT_EQ_STR(masked(&out),
              "<iq type='get' to='example.com' id='*'><query "
              "xmlns='http://jabber.org/protocol/disco#info'/></iq>");
    char reply[512];
    snprintf(reply, sizeof reply,
             "<iq type='result' id='%s' from='example.com'><query "
             "xmlns='http://jabber.org/protocol/disco#info'><identity "
             "category='server' type='im'/><feature "
             "var='urn:xmpp:carbons:2'/></query></iq>",
             out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.supported, 1);
    XT_EQ_INT(s.code, 0);
    XT_EQ_INT(xmppc_carbons_server_supports(c, NULL, NULL, NULL), XMPPC_EINVAL);
    done(c);
}

XT_MAIN(XT_TEST(test_enable_disable), XT_TEST(test_received_and_sent),
        XT_TEST(test_spoofed), XT_TEST(test_listener_handles),
        XT_TEST(test_private), XT_TEST(test_server_supports))
