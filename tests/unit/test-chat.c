/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Chat module transcripts over the test transport: text, delivery
 * receipts (XEP-0184), chat states (XEP-0085) and Smack's message
 * properties. Generated ids are shown as id='*'.
 */
#include <math.h>
#include <stdint.h>

#include "../xtest.h"
#include "conn-private.h"

#define ROMEO "romeo@example.net/orchard"

typedef struct sent {
    int count;
    char last[4096];
} sent;

/* Stores the stanza with each generated id (16 characters of
 * [A-Za-z0-9_-]) replaced by '*'. */
static void sink(void *ud, const char *xml)
{
    sent *s = ud;
    s->count++;
    size_t o = 0;
    for (const char *p = xml; *p && o + 1 < sizeof s->last;) {
        /* Only past an "id='" are 4 more bytes known to exist. */
        size_t n = strncmp(p, "id='", 4) != 0
                       ? 0
                       : strspn(p + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                       "klmnopqrstuvwxyz0123456789_-");
        if (n == 16 && p[20] == '\'' && o + 7 < sizeof s->last) {
            memcpy(s->last + o, "id='*'", 6);
            o += 6;
            p += 21;
        } else {
            s->last[o++] = *p++;
        }
    }
    s->last[o] = '\0';
}

static xmppc_conn *ready(sent *out)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "juliet@example.com", "pw"), 0);
    XT_EQ_INT(
        xmppc__conn_test_ready(c, "juliet@example.com/balcony", sink, out), 0);
    return c;
}

static void done(xmppc_conn *c)
{
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static void test_send_text_and_receipt_request(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_EQ_INT(xmppc_chat_send_text(c, "Romeo@Example.NET", "hi & bye"), 0);
    XT_EQ_STR(out.last, "<message type='chat' to='romeo@example.net' "
                        "id='*'><body>hi &amp; bye</body></message>");

    char *id = NULL;
    XT_EQ_INT(xmppc_chat_send_text_receipt(c, ROMEO, "ack me", &id), 0);
    XT_EQ_STR(out.last, "<message type='chat' to='" ROMEO "' id='*'><body>ack "
                        "me</body><request "
                        "xmlns='urn:xmpp:receipts'/></message>");
    XT_CHECK(id && strlen(id) == 16);
    xmppc_free(id);
    XT_EQ_INT(xmppc_chat_send_text_receipt(c, ROMEO, "no id wanted", NULL), 0);
    XT_EQ_INT(out.count, 3);

    /* <active/> with every text message once asked for. */
    XT_EQ_INT(xmppc_chat_set_send_active(c, 1), 0);
    XT_EQ_INT(xmppc_chat_send_text(c, ROMEO, "x"), 0);
    XT_EQ_STR(out.last, "<message type='chat' to='" ROMEO "' "
                        "id='*'><body>x</body><active "
                        "xmlns='http://jabber.org/protocol/chatstates'/>"
                        "</message>");
    id = NULL;
    XT_EQ_INT(xmppc_chat_send_text_receipt(c, ROMEO, "y", &id), 0);
    XT_EQ_STR(out.last,
              "<message type='chat' to='" ROMEO
              "' id='*'><body>y</body><active "
              "xmlns='http://jabber.org/protocol/chatstates'/><request "
              "xmlns='urn:xmpp:receipts'/></message>");
    xmppc_free(id);
    XT_EQ_INT(xmppc_chat_set_send_active(c, 0), 0);

    /* A reply keeps the type and the thread. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='normal' id='r1'><body>"
                     "q</body><thread>t7</thread></message>"),
              0);
    XT_EQ_INT(out.count, 5);

    /* Invalid input is refused, nothing is sent. */
    XT_EQ_INT(xmppc_chat_send_text(c, "@bad", "x"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_send_text(NULL, ROMEO, "x"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_send_text_receipt(c, ROMEO, NULL, &id), XMPPC_EINVAL);
    id = NULL;
    XT_EQ_INT(xmppc_chat_send_text_receipt(c, "@bad", "x", &id), XMPPC_EINVAL);
    XT_CHECK(id == NULL);
    XT_EQ_INT(out.count, 5);
    done(c);
}

static int reply_handler(xmppc_conn *c, xmppc_stanza *msg, void *ud)
{
    (void)ud;
    xmppc_chat_reply_text(c, msg, "answer");
    return XMPPC_HANDLED;
}

static void test_reply_text(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "message", NULL, NULL,
                                     reply_handler, NULL, NULL),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='normal' id='r1'><body>"
                     "q</body><thread>t7</thread></message>"),
              0);
    XT_EQ_STR(out.last, "<message type='normal' to='" ROMEO "' id='*'><body>"
                        "answer</body><thread>t7</thread></message>");
    done(c);
}

static void test_send_state(void)
{
    static const char *const names[] = {"active", "composing", "paused",
                                        "inactive", "gone"};
    sent out = {0};
    xmppc_conn *c = ready(&out);
    for (int i = 0; i < 5; i++) {
        char expected[512];
        XT_EQ_STR(xmppc_chat_state_name((xmppc_chat_state)i), names[i]);
        XT_EQ_INT(xmppc_chat_send_state(c, ROMEO, (xmppc_chat_state)i), 0);
        snprintf(expected, sizeof expected,
                 "<message type='chat' to='" ROMEO "' id='*'><%s "
                 "xmlns='http://jabber.org/protocol/chatstates'/></message>",
                 names[i]);
        XT_EQ_STR(out.last, expected);
    }
    XT_CHECK(xmppc_chat_state_name((xmppc_chat_state)5) == NULL);
    XT_CHECK(xmppc_chat_state_name((xmppc_chat_state)-1) == NULL);
    XT_EQ_INT(xmppc_chat_send_state(c, ROMEO, (xmppc_chat_state)9),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_send_state(c, NULL, XMPPC_CHAT_STATE_ACTIVE),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_send_state(c, "a@b@c", XMPPC_CHAT_STATE_ACTIVE),
              XMPPC_EINVAL);
    XT_EQ_INT(out.count, 5);

    /* On a message being built: the last state set wins. */
    xmppc_stanza *m = NULL;
    xmppc_chat_state st = XMPPC_CHAT_STATE_GONE;
    XT_EQ_INT(xmppc_message_new(&m, "chat", ROMEO, "b"), 0);
    XT_EQ_INT(xmppc_message_get_chat_state(m, &st), 0);
    XT_EQ_INT(xmppc_message_set_chat_state(m, XMPPC_CHAT_STATE_COMPOSING), 0);
    XT_EQ_INT(xmppc_message_set_chat_state(m, XMPPC_CHAT_STATE_PAUSED), 0);
    XT_EQ_INT(xmppc_message_get_chat_state(m, &st), 1);
    XT_EQ_INT(st, XMPPC_CHAT_STATE_PAUSED);
    XT_EQ_INT(xmppc_stanza_child_count(m), 2);
    XT_EQ_INT(xmppc_message_set_chat_state(m, (xmppc_chat_state)7),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_get_chat_state(m, NULL), XMPPC_EINVAL);
    xmppc_stanza *p = NULL;
    XT_EQ_INT(xmppc_presence_new(&p, NULL, NULL), 0);
    XT_EQ_INT(xmppc_message_set_chat_state(p, XMPPC_CHAT_STATE_ACTIVE),
              XMPPC_EINVAL);
    xmppc_stanza_unref(p);
    xmppc_stanza_unref(m);
    done(c);
}

static void test_automatic_receipt(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    /* No chat manager yet: nothing answers. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='m0' type='chat'><body>b"
                     "</body><request xmlns='urn:xmpp:receipts'/></message>"),
              0);
    XT_EQ_INT(out.count, 0);

    XT_EQ_INT(xmppc_chat_enable_receipts(c, 1), 0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='m1' type='chat'><body>b"
                     "</body><request xmlns='urn:xmpp:receipts'/></message>"),
              0);
    XT_EQ_INT(out.count, 1);
    XT_EQ_STR(out.last, "<message to='" ROMEO "' id='*'><received "
                        "xmlns='urn:xmpp:receipts' id='m1'/></message>");
    /* A normal message without body, too. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='m&amp;2'><request "
                     "xmlns='urn:xmpp:receipts'/></message>"),
              0);
    XT_EQ_INT(out.count, 2);
    XT_EQ_STR(out.last, "<message to='" ROMEO "' id='*'><received "
                        "xmlns='urn:xmpp:receipts' id='m&amp;2'/></message>");

    /* Never: errors, groupchat, no id, empty id, no sender, no request, a
     * receipt itself. */
    static const char *const silent[] = {
        "<message from='" ROMEO "' id='e1' type='error'><request "
        "xmlns='urn:xmpp:receipts'/><error type='cancel'><item-not-found "
        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
        "<message from='room@muc.example.net/nick' id='g1' "
        "type='groupchat'><body>b</body><request "
        "xmlns='urn:xmpp:receipts'/></message>",
        "<message from='" ROMEO "' type='chat'><body>b</body><request "
        "xmlns='urn:xmpp:receipts'/></message>",
        "<message from='" ROMEO "' id='' type='chat'><body>b</body><request "
        "xmlns='urn:xmpp:receipts'/></message>",
        "<message id='n1' type='chat'><body>b</body><request "
        "xmlns='urn:xmpp:receipts'/></message>",
        "<message from='" ROMEO "' id='n2' type='chat'><body>b</body>"
        "</message>",
        "<message from='" ROMEO "' id='n3'><received "
        "xmlns='urn:xmpp:receipts' id='m9'/></message>",
        "<message from='" ROMEO "' id='n4'><request "
        "xmlns='urn:xmpp:other'/></message>",
    };
    for (size_t i = 0; i < sizeof silent / sizeof silent[0]; i++) {
        XT_EQ_INT(xmppc__conn_test_inject(c, silent[i]), 0);
        if (out.count != 2)
            xt_diag("answered", silent[i]);
        XT_EQ_INT(out.count, 2);
    }

    /* Turned off, then on again. */
    XT_EQ_INT(xmppc_chat_enable_receipts(c, 0), 0);
    const char *req = "<message from='" ROMEO "' id='m3' type='chat'><body>b"
                      "</body><request xmlns='urn:xmpp:receipts'/></message>";
    XT_EQ_INT(xmppc__conn_test_inject(c, req), 0);
    XT_EQ_INT(out.count, 2);
    XT_EQ_INT(xmppc_chat_enable_receipts(c, 1), 0);
    XT_EQ_INT(xmppc__conn_test_inject(c, req), 0);
    XT_EQ_INT(out.count, 3);
    XT_EQ_INT(xmppc_chat_enable_receipts(NULL, 1), XMPPC_EINVAL);
    done(c);
}

/* The manager's answer comes before a handler registered later that
 * stops dispatch. */
static int swallow(xmppc_conn *c, xmppc_stanza *msg, void *ud)
{
    (void)c;
    (void)msg;
    ++*(int *)ud;
    return XMPPC_HANDLED;
}

static void test_receipt_before_handled(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    int swallowed = 0;
    XT_EQ_INT(xmppc_chat_enable_receipts(c, 1), 0);
    XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "message", NULL, NULL, swallow,
                                     &swallowed, NULL),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='m1' type='chat'><body>b"
                     "</body><request xmlns='urn:xmpp:receipts'/></message>"),
              0);
    XT_EQ_INT(swallowed, 1);
    XT_EQ_INT(out.count, 1);
    done(c);
}

typedef struct seen {
    int calls, destroyed;
    char from[256], id[256];
    xmppc_chat_state state;
} seen;

static void on_receipt(xmppc_conn *c, const char *from, const char *id,
                       void *ud)
{
    (void)c;
    seen *s = ud;
    s->calls++;
    snprintf(s->from, sizeof s->from, "%s", from ? from : "(null)");
    snprintf(s->id, sizeof s->id, "%s", id);
}

static void on_state(xmppc_conn *c, const char *from, xmppc_chat_state state,
                     void *ud)
{
    (void)c;
    seen *s = ud;
    s->calls++;
    s->state = state;
    snprintf(s->from, sizeof s->from, "%s", from ? from : "(null)");
}

static void seen_destroy(void *ud)
{
    ((seen *)ud)->destroyed++;
}

static void test_receipt_listener(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    seen a = {0}, b = {0};
    xmppc_handler *ha = NULL;
    XT_EQ_INT(xmppc_chat_on_receipt(c, &ha, on_receipt, &a, seen_destroy), 0);
    XT_CHECK(ha != NULL);
    XT_EQ_INT(xmppc_chat_on_receipt(c, NULL, on_receipt, &b, seen_destroy), 0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='x'><received "
                     "xmlns='urn:xmpp:receipts' id='abc'/></message>"),
              0);
    XT_EQ_INT(a.calls, 1);
    XT_EQ_INT(b.calls, 1);
    XT_EQ_STR(a.id, "abc");
    XT_EQ_STR(a.from, ROMEO);
    XT_EQ_INT(out.count, 0); /* a receipt is not answered */
    /* Old style: the message's own id. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='old'><received "
                     "xmlns='urn:xmpp:receipts'/></message>"),
              0);
    XT_EQ_INT(a.calls, 2);
    XT_EQ_STR(a.id, "old");
    /* Ignored: errors, no id at all, a request. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='e' type='error'><received "
                     "xmlns='urn:xmpp:receipts' id='abc'/></message>"),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c,
                                      "<message from='" ROMEO "'><received "
                                      "xmlns='urn:xmpp:receipts'/></message>"),
              0);
    XT_EQ_INT(
        xmppc__conn_test_inject(c, "<message from='" ROMEO "' id='q'><request "
                                   "xmlns='urn:xmpp:receipts'/></message>"),
        0);
    XT_EQ_INT(a.calls, 2);
    XT_EQ_INT(out.count, 1); /* the request was answered */

    /* Removed: destroy once, no more calls; the handle stays until freed. */
    xmppc_handler_remove(ha);
    XT_EQ_INT(a.destroyed, 1);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' id='y'><received "
                     "xmlns='urn:xmpp:receipts' id='def'/></message>"),
              0);
    XT_EQ_INT(a.calls, 2);
    XT_EQ_INT(b.calls, 3);
    XT_EQ_STR(b.id, "def");
    xmppc_handler_remove(ha);
    xmppc_handler_free(ha);
    XT_EQ_INT(a.destroyed, 1);

    /* Bad input. */
    xmppc_handler *h = (xmppc_handler *)&a;
    XT_EQ_INT(xmppc_chat_on_receipt(c, &h, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_CHECK(h == NULL);
    XT_EQ_INT(xmppc_chat_on_receipt(NULL, NULL, on_receipt, NULL, NULL),
              XMPPC_EINVAL);

    /* The floating listener goes with the connection. */
    XT_EQ_INT(b.destroyed, 0);
    done(c);
    XT_EQ_INT(b.destroyed, 1);
}

static void test_state_listener(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    seen s = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(xmppc_chat_on_state(c, &h, on_state, &s, seen_destroy), 0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='chat'><composing "
                     "xmlns='http://jabber.org/protocol/chatstates'/>"
                     "</message>"),
              0);
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.state, XMPPC_CHAT_STATE_COMPOSING);
    XT_EQ_STR(s.from, ROMEO);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='chat'><body>hi</body>"
                     "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                     "</message>"),
              0);
    XT_EQ_INT(s.calls, 2);
    XT_EQ_INT(s.state, XMPPC_CHAT_STATE_ACTIVE);
    static const struct {
        const char *name;
        xmppc_chat_state state;
    } all[] = {{"paused", XMPPC_CHAT_STATE_PAUSED},
               {"inactive", XMPPC_CHAT_STATE_INACTIVE},
               {"gone", XMPPC_CHAT_STATE_GONE}};
    for (size_t i = 0; i < 3; i++) {
        char xml[512];
        snprintf(xml, sizeof xml,
                 "<message from='" ROMEO "' type='chat'><%s "
                 "xmlns='http://jabber.org/protocol/chatstates'/></message>",
                 all[i].name);
        XT_EQ_INT(xmppc__conn_test_inject(c, xml), 0);
        XT_EQ_INT(s.state, all[i].state);
    }
    XT_EQ_INT(s.calls, 5);
    /* Ignored: errors, unknown elements, no state. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='error'><composing "
                     "xmlns='http://jabber.org/protocol/chatstates'/>"
                     "</message>"),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='chat'><dancing "
                     "xmlns='http://jabber.org/protocol/chatstates'/>"
                     "</message>"),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<message from='" ROMEO
                                         "' type='chat'><body>b</body>"
                                         "</message>"),
              0);
    XT_EQ_INT(s.calls, 5);
    XT_EQ_INT(out.count, 0);

    xmppc_handler_free(h); /* removes too */
    XT_EQ_INT(s.destroyed, 1);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='" ROMEO "' type='chat'><gone "
                     "xmlns='http://jabber.org/protocol/chatstates'/>"
                     "</message>"),
              0);
    XT_EQ_INT(s.calls, 5);
    XT_EQ_INT(xmppc_chat_on_state(c, NULL, NULL, NULL, NULL), XMPPC_EINVAL);
    done(c);
    XT_EQ_INT(s.destroyed, 1);
}

/* Keeps the last message received. */
static int keep(xmppc_conn *c, xmppc_stanza *msg, void *ud)
{
    (void)c;
    xmppc_stanza **kept = ud;
    xmppc_stanza_unref(*kept);
    *kept = xmppc_stanza_ref(msg);
    return XMPPC_CONTINUE;
}

static xmppc_stanza *receive(xmppc_conn *c, xmppc_stanza **kept,
                             const char *xml)
{
    XT_EQ_INT(xmppc__conn_test_inject(c, xml), 0);
    return *kept;
}

#define PROPS_NS "http://www.jivesoftware.com/xmlns/xmpp/properties"

static void test_properties_round_trip(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_stanza *kept = NULL;
    XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "message", NULL, NULL, keep,
                                     &kept, NULL),
              0);

    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", ROMEO, NULL), 0);
    XT_EQ_INT(xmppc_message_set_property_string(m, "s", "a<b> & 'c' é"), 0);
    XT_EQ_INT(xmppc_message_set_property_int(m, "i", -42), 0);
    XT_EQ_INT(xmppc_message_set_property_long(m, "l", 9000000000LL), 0);
    XT_EQ_INT(xmppc_message_set_property_float(m, "f", 1.5f), 0);
    XT_EQ_INT(xmppc_message_set_property_double(m, "d", 0.1), 0);
    XT_EQ_INT(xmppc_message_set_property_bool(m, "b", 1), 0);
    char *xml = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, m), 0);
    XT_EQ_STR(xml,
              "<message type='chat' to='" ROMEO "'><properties "
              "xmlns='" PROPS_NS "'>"
              "<property><name>s</name><value type='string'>a&lt;b&gt; &amp; "
              "'c' é</value></property>"
              "<property><name>i</name><value "
              "type='integer'>-42</value></property>"
              "<property><name>l</name><value "
              "type='long'>9000000000</value></property>"
              "<property><name>f</name><value "
              "type='float'>1.5</value></property>"
              "<property><name>d</name><value "
              "type='double'>0.1</value></property>"
              "<property><name>b</name><value "
              "type='boolean'>true</value></property>"
              "</properties></message>");

    /* Replacing keeps one property of that name, now of the new type. */
    XT_EQ_INT(xmppc_message_set_property_bool(m, "b", 0), 0);
    XT_EQ_INT(xmppc_message_set_property_string(m, "empty", ""), 0);
    XT_EQ_INT(xmppc_message_property_count(m), 7);
    xmppc_stanza_set_from(m, ROMEO);

    /* Through the wire format and back. */
    char *wire = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&wire, NULL, m), 0);
    xmppc_stanza *r = receive(c, &kept, wire);
    XT_CHECK(r != NULL);
    const char *s = NULL;
    int32_t i = 0;
    int64_t l = 0;
    float f = 0;
    double d = 0;
    int b = -1;
    XT_EQ_INT(xmppc_message_get_property_string(r, "s", &s), 0);
    XT_EQ_STR(s, "a<b> & 'c' é");
    XT_EQ_INT(xmppc_message_get_property_string(r, "empty", &s), 0);
    XT_EQ_STR(s, "");
    XT_EQ_INT(xmppc_message_get_property_int(r, "i", &i), 0);
    XT_EQ_INT(i, -42);
    XT_EQ_INT(xmppc_message_get_property_long(r, "l", &l), 0);
    XT_EQ_INT(l, 9000000000LL);
    XT_EQ_INT(xmppc_message_get_property_float(r, "f", &f), 0);
    XT_CHECK(f == 1.5f);
    XT_EQ_INT(xmppc_message_get_property_double(r, "d", &d), 0);
    XT_CHECK(d == 0.1);
    XT_EQ_INT(xmppc_message_get_property_bool(r, "b", &b), 0);
    XT_EQ_INT(b, 0);

    /* Iteration. */
    static const char *const names[] = {"s", "i", "l", "f", "d", "b", "empty"};
    static const char *const types[] = {"string", "integer", "long",  "float",
                                        "double", "boolean", "string"};
    XT_EQ_INT(xmppc_message_property_count(r), 7);
    for (size_t k = 0; k < 7; k++) {
        const char *n = NULL, *t = NULL;
        XT_EQ_INT(xmppc_message_property_at(r, k, &n, &t), 0);
        XT_EQ_STR(n, names[k]);
        XT_EQ_STR(t, types[k]);
    }
    XT_EQ_INT(xmppc_message_property_at(r, 7, NULL, NULL), XMPPC_EINVAL);

    /* Absent, or of another type: EINVAL, output untouched. */
    i = 7;
    XT_EQ_INT(xmppc_message_get_property_int(r, "nope", &i), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_get_property_int(r, "l", &i), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "long") != NULL);
    XT_EQ_INT(xmppc_message_get_property_string(r, "i", &s), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_get_property_double(r, "f", &d), XMPPC_EINVAL);
    XT_EQ_INT(i, 7);
    xmppc_free(wire);
    xmppc_free(xml);
    xmppc_stanza_unref(m);

    /* Extremes and special values, each through the wire. */
    XT_EQ_INT(xmppc_message_new(&m, "chat", NULL, NULL), 0);
    xmppc_stanza_set_from(m, ROMEO);
    XT_EQ_INT(xmppc_message_set_property_int(m, "imin", INT32_MIN), 0);
    XT_EQ_INT(xmppc_message_set_property_int(m, "imax", INT32_MAX), 0);
    XT_EQ_INT(xmppc_message_set_property_long(m, "lmin", INT64_MIN), 0);
    XT_EQ_INT(xmppc_message_set_property_long(m, "lmax", INT64_MAX), 0);
    XT_EQ_INT(xmppc_message_set_property_float(m, "f01", 0.1f), 0);
    XT_EQ_INT(xmppc_message_set_property_float(m, "fbig", 3.4028235e38f), 0);
    XT_EQ_INT(xmppc_message_set_property_float(m, "fnan", NAN), 0);
    XT_EQ_INT(xmppc_message_set_property_double(m, "dtiny", 5e-324), 0);
    XT_EQ_INT(xmppc_message_set_property_double(m, "dpi", 3.141592653589793),
              0);
    XT_EQ_INT(xmppc_message_set_property_double(m, "dninf", -INFINITY), 0);
    XT_EQ_INT(xmppc_message_set_property_double(m, "dnegz", -0.0), 0);
    XT_EQ_INT(xmppc_stanza_to_string(&wire, NULL, m), 0);
    XT_CHECK(strstr(wire, "<value type='integer'>-2147483648</value>"));
    XT_CHECK(strstr(wire, "<value type='long'>9223372036854775807</value>"));
    XT_CHECK(strstr(wire, "<value type='float'>0.1</value>"));
    XT_CHECK(strstr(wire, "<value type='float'>NaN</value>"));
    XT_CHECK(strstr(wire, "<value type='double'>-Infinity</value>"));
    XT_CHECK(strstr(wire, "<value type='double'>3.141592653589793</value>"));
    r = receive(c, &kept, wire);
    XT_EQ_INT(xmppc_message_get_property_int(r, "imin", &i), 0);
    XT_EQ_INT(i, INT32_MIN);
    XT_EQ_INT(xmppc_message_get_property_int(r, "imax", &i), 0);
    XT_EQ_INT(i, INT32_MAX);
    XT_EQ_INT(xmppc_message_get_property_long(r, "lmin", &l), 0);
    XT_CHECK(l == INT64_MIN);
    XT_EQ_INT(xmppc_message_get_property_long(r, "lmax", &l), 0);
    XT_CHECK(l == INT64_MAX);
    XT_EQ_INT(xmppc_message_get_property_float(r, "f01", &f), 0);
    XT_CHECK(f == 0.1f);
    XT_EQ_INT(xmppc_message_get_property_float(r, "fbig", &f), 0);
    XT_CHECK(f == 3.4028235e38f);
    XT_EQ_INT(xmppc_message_get_property_float(r, "fnan", &f), 0);
    XT_CHECK(isnan(f));
    XT_EQ_INT(xmppc_message_get_property_double(r, "dtiny", &d), 0);
    XT_CHECK(d == 5e-324);
    XT_EQ_INT(xmppc_message_get_property_double(r, "dpi", &d), 0);
    XT_CHECK(d == 3.141592653589793);
    XT_EQ_INT(xmppc_message_get_property_double(r, "dninf", &d), 0);
    XT_CHECK(isinf(d) && d < 0);
    XT_EQ_INT(xmppc_message_get_property_double(r, "dnegz", &d), 0);
    XT_CHECK(d == 0 && signbit(d));
    xmppc_free(wire);
    xmppc_stanza_unref(m);
    xmppc_stanza_unref(kept);
    done(c);
}

static void test_properties_bad_input(void)
{
    xmppc_stanza *m = NULL, *p = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", NULL, NULL), 0);
    XT_EQ_INT(xmppc_presence_new(&p, NULL, NULL), 0);
    XT_EQ_INT(xmppc_message_set_property_int(p, "x", 1), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_set_property_int(NULL, "x", 1), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_set_property_int(m, "", 1), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_set_property_int(m, NULL, 1), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_set_property_string(m, "x", NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_set_property_string(m, "x", "bad\x01"),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_set_property_string(m, "bad\xff", "x"),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_property_count(m), 0);
    XT_EQ_INT(xmppc_stanza_child_count(m), 0); /* unchanged */
    XT_EQ_INT(xmppc_message_set_property_string(m, "x", "1"), 0);
    XT_EQ_INT(xmppc_message_set_property_string(m, "x", "bad\x01"),
              XMPPC_EINVAL);
    const char *s = NULL;
    XT_EQ_INT(xmppc_message_get_property_string(m, "x", &s), 0);
    XT_EQ_STR(s, "1");
    XT_EQ_INT(xmppc_message_get_property_string(m, "x", NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_get_property_string(m, NULL, &s), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_get_property_string(NULL, "x", &s), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_property_count(NULL), 0);
    XT_EQ_INT(xmppc_message_property_at(NULL, 0, NULL, NULL), XMPPC_EINVAL);

    /* Receipts requested on a message being built. */
    XT_EQ_INT(xmppc_message_request_receipt(m), 0);
    XT_EQ_INT(xmppc_message_request_receipt(m), 0);
    XT_CHECK(xmppc_stanza_get_id(m) != NULL);
    XT_EQ_INT(xmppc_stanza_child_count(m), 2);
    XT_EQ_INT(xmppc_message_request_receipt(p), XMPPC_EINVAL);
    xmppc_stanza_unref(p);
    xmppc_stanza_unref(m);
    xmppc_error_clear();
}

#define P(n, t, v)                                                             \
    "<property><name>" n "</name><value type='" t "'>" v "</value></property>"
/* clang-format off */
static const char malformed[] =
    "<message from='" ROMEO "'><properties xmlns='" PROPS_NS "'>"
    P("i1", "integer", "12a")
    P("i2", "integer", "")
    P("i3", "integer", "2147483648")
    P("i4", "integer", " 1")
    P("l1", "long", "9223372036854775808")
    P("l2", "long", "1.0")
    P("f1", "float", "abc")
    P("f2", "float", "inf")
    P("f3", "float", "0x10")
    P("d1", "double", "")
    P("d2", "double", "1.5e")
    P("b1", "boolean", "yes")
    P("b2", "boolean", "")
    P("ok1", "double", " 2.5d ")
    P("ok2", "float", "1e39")
    P("ok3", "boolean", "TRUE")
    P("ok4", "integer", "+7")
    P("jo", "java-object", "rO0AB")
    "<property><name>nov</name></property>"
    "<property><value type='string'>x</value></property>"
    "<property><name>not</name><value>x</value></property>"
    "</properties></message>";
/* clang-format on */
#undef P

static void test_properties_malformed(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_stanza *kept = NULL;
    XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "message", NULL, NULL, keep,
                                     &kept, NULL),
              0);
    xmppc_stanza *r = receive(c, &kept, malformed);
    XT_CHECK(r != NULL);
    int32_t i = 5;
    int64_t l = 5;
    float f = 5;
    double d = 5;
    int b = 5;
    const char *s = NULL;
    static const char *const bad_int[] = {"i1", "i2", "i3", "i4"};
    for (size_t k = 0; k < 4; k++)
        XT_EQ_INT(xmppc_message_get_property_int(r, bad_int[k], &i),
                  XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_long(r, "l1", &l), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_long(r, "l2", &l), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_float(r, "f1", &f), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_float(r, "f2", &f), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_float(r, "f3", &f), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_double(r, "d1", &d), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_double(r, "d2", &d), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_bool(r, "b1", &b), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_bool(r, "b2", &b), XMPPC_EPROTO);
    XT_EQ_INT(i, 5);
    XT_CHECK(l == 5 && f == 5 && d == 5 && b == 5);
    /* What Java reads, we read. */
    XT_EQ_INT(xmppc_message_get_property_double(r, "ok1", &d), 0);
    XT_CHECK(d == 2.5);
    XT_EQ_INT(xmppc_message_get_property_float(r, "ok2", &f), 0);
    XT_CHECK(isinf(f));
    XT_EQ_INT(xmppc_message_get_property_bool(r, "ok3", &b), 0);
    XT_EQ_INT(b, 1);
    XT_EQ_INT(xmppc_message_get_property_int(r, "ok4", &i), 0);
    XT_EQ_INT(i, 7);
    /* Types we do not read are listed but not returned. */
    XT_EQ_INT(xmppc_message_get_property_string(r, "jo", &s), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_message_get_property_string(r, "not", &s), XMPPC_EPROTO);
    XT_EQ_INT(xmppc_message_get_property_string(r, "nov", &s), XMPPC_EPROTO);
    size_t n = xmppc_message_property_count(r);
    XT_EQ_INT(n, 21);
    const char *name = NULL, *type = NULL;
    XT_EQ_INT(xmppc_message_property_at(r, 17, &name, &type), 0);
    XT_EQ_STR(name, "jo");
    XT_EQ_STR(type, "java-object");
    for (size_t k = 18; k < 21; k++)
        XT_EQ_INT(xmppc_message_property_at(r, k, &name, &type), XMPPC_EPROTO);
    xmppc_stanza_unref(kept);
    done(c);
}

static void test_not_ready(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "juliet@example.com", "pw"), 0);
    XT_EQ_INT(xmppc_chat_send_text(c, ROMEO, "x"), XMPPC_ESTATE);
    XT_EQ_INT(xmppc_chat_send_state(c, ROMEO, XMPPC_CHAT_STATE_ACTIVE),
              XMPPC_ESTATE);
    char *id = NULL;
    XT_EQ_INT(xmppc_chat_send_text_receipt(c, ROMEO, "x", &id), XMPPC_ESTATE);
    XT_CHECK(id == NULL);
    XT_EQ_INT(xmppc_chat_set_send_active(NULL, 1), XMPPC_EINVAL);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

/* ---- per-peer chats and the message listener ---------------------------- */

typedef struct inbox {
    int messages, new_chats, carbons_sent;
    char peer[256], body[256];
    xmppc_chat *created;
} inbox;

static void on_message(xmppc_conn *conn, const xmppc_stanza *msg,
                       const char *peer, int is_carbon_sent, void *userdata)
{
    (void)conn;
    inbox *in = userdata;
    in->messages++;
    in->carbons_sent += is_carbon_sent;
    snprintf(in->peer, sizeof in->peer, "%s", peer);
    const char *body = xmppc_message_get_body(msg);
    snprintf(in->body, sizeof in->body, "%s", body ? body : "");
}

static void on_new_chat(xmppc_conn *conn, xmppc_chat *chat, void *userdata)
{
    inbox *in = userdata;
    in->new_chats++;
    in->created = chat;
    XT_CHECK(xmppc_chat_get_conn(chat) == conn);
    /* Before the message listeners (one message per new chat here). */
    XT_EQ_INT(in->messages, in->new_chats - 1);
}

static void test_chat_handles(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    inbox in = {0};
    XT_EQ_INT(xmppc_chat_on_new_chat(c, NULL, on_new_chat, &in, NULL), 0);
    XT_EQ_INT(xmppc_chat_on_message(c, NULL, on_message, &in, NULL), 0);
    XT_EQ_INT(xmppc_chat_count(c), 0);

    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='Romeo@example.net/orchard' type='chat' "
                     "id='m1'><body>hello</body><thread>t1</thread></message>"),
              0);
    XT_EQ_INT(in.new_chats, 1);
    XT_EQ_INT(in.messages, 1);
    XT_EQ_INT(in.carbons_sent, 0);
    XT_EQ_STR(in.peer, "romeo@example.net");
    XT_EQ_STR(in.body, "hello");
    XT_EQ_INT(xmppc_chat_count(c), 1);
    xmppc_chat *chat = xmppc_chat_at(c, 0);
    XT_CHECK(chat == in.created);
    XT_CHECK(xmppc_chat_get(c, "romeo@example.net/other") == chat);
    XT_EQ_STR(xmppc_chat_peer(chat), "romeo@example.net");
    XT_EQ_STR(xmppc_chat_get_address(chat), ROMEO);
    XT_EQ_STR(xmppc_chat_get_thread(chat), "t1");
    XT_EQ_INT(xmppc_chat_send(chat, "hi back"), 0);
    XT_EQ_STR(out.last, "<message type='chat' to='" ROMEO "' id='*'><body>"
                        "hi back</body><thread>t1</thread></message>");

    /* The same peer from another resource: no new chat, new address. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='romeo@example.net/phone'><body>again"
                     "</body></message>"),
              0);
    XT_EQ_INT(in.new_chats, 1);
    XT_EQ_INT(in.messages, 2);
    XT_EQ_STR(xmppc_chat_get_address(chat), "romeo@example.net/phone");
    XT_EQ_STR(xmppc_chat_get_thread(chat), "t1");
    XT_EQ_INT(xmppc_chat_set_thread(chat, NULL), 0);
    XT_EQ_INT(xmppc_chat_send(chat, "x"), 0);
    XT_EQ_STR(out.last, "<message type='chat' to='romeo@example.net/phone' "
                        "id='*'><body>x</body></message>");

    /* Not for chats: no body, groupchat, headline, error, the server. */
    static const char *const ignored[] = {
        "<message from='nurse@example.com/a' type='chat'><composing "
        "xmlns='http://jabber.org/protocol/chatstates'/></message>",
        "<message from='room@muc.example.com/n' type='groupchat'><body>g"
        "</body></message>",
        "<message from='nurse@example.com/a' type='headline'><body>h</body>"
        "</message>",
        "<message from='nurse@example.com/a' type='error'><body>e</body>"
        "</message>",
        "<message from='example.com'><body>motd</body></message>",
        "<message><body>no sender</body></message>",
    };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        XT_EQ_INT(xmppc__conn_test_inject(c, ignored[i]), 0);
    XT_EQ_INT(in.messages, 2);
    XT_EQ_INT(xmppc_chat_count(c), 1);

    /* A chat created locally: no new-chat event; a bare address. */
    xmppc_chat *nurse = xmppc_chat_get(c, "nurse@example.com");
    XT_CHECK(nurse != NULL && nurse != chat);
    XT_EQ_INT(in.new_chats, 1);
    XT_EQ_INT(xmppc_chat_count(c), 2);
    XT_CHECK(xmppc_chat_at(c, 1) == nurse);
    XT_CHECK(xmppc_chat_at(c, 2) == NULL);
    XT_EQ_STR(xmppc_chat_get_address(nurse), "nurse@example.com");
    XT_EQ_INT(xmppc_chat_set_thread(nurse, "th"), 0);
    XT_EQ_INT(xmppc_chat_send(nurse, "hi"), 0);
    XT_EQ_STR(out.last, "<message type='chat' to='nurse@example.com' id='*'>"
                        "<body>hi</body><thread>th</thread></message>");
    XT_CHECK(xmppc_chat_get(c, "@bad") == NULL);
    XT_EQ_INT(xmppc_chat_send(NULL, "x"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_send(nurse, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_on_message(c, NULL, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_count(NULL), 0);
    done(c);
}

#define OWN "juliet@example.com"
#define CARBON(from, dir, inner)                                               \
    "<message from='" from "'><" dir " xmlns='urn:xmpp:carbons:2'><forwarded " \
    "xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' " inner         \
    "</message></forwarded></" dir "></message>"

static void test_chat_carbons(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    inbox in = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(xmppc_chat_on_new_chat(c, NULL, on_new_chat, &in, NULL), 0);
    XT_EQ_INT(xmppc_chat_on_message(c, &h, on_message, &in, NULL), 0);

    /* Received by another resource of ours. */
    XT_EQ_INT(xmppc__conn_test_inject(c, CARBON(OWN, "received",
                                                "from='" ROMEO "' to='" OWN
                                                "/phone' type='chat'>"
                                                "<body>r</body>")),
              0);
    XT_EQ_INT(in.messages, 1);
    XT_EQ_INT(in.new_chats, 1);
    XT_EQ_INT(in.carbons_sent, 0);
    XT_EQ_STR(in.peer, "romeo@example.net");
    XT_EQ_STR(in.body, "r");
    /* Sent by another resource of ours: the peer is the recipient. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, CARBON(OWN, "sent",
                            "from='" OWN "/phone' to='nurse@example.com' "
                            "type='chat'><body>s</body>")),
              0);
    XT_EQ_INT(in.messages, 2);
    XT_EQ_INT(in.new_chats, 2);
    XT_EQ_INT(in.carbons_sent, 1);
    XT_EQ_STR(in.peer, "nurse@example.com");
    XT_EQ_STR(xmppc_chat_get_address(in.created), "nurse@example.com");
    /* Spoofed: delivered to nobody, no chat created, nothing answered. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, CARBON("romeo@example.net", "received",
                            "from='tybalt@example.net/x' to='" OWN "' "
                            "type='chat'><body>spoof</body>")),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, CARBON("example.com", "sent",
                            "from='" OWN "/x' to='tybalt@example.net' "
                            "type='chat'><body>spoof</body>")),
              0);
    XT_EQ_INT(in.messages, 2);
    XT_EQ_INT(xmppc_chat_count(c), 2);
    XT_EQ_INT(out.count, 0);
    /* Removing the listener stops delivery. */
    xmppc_handler_free(h);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<message from='" ROMEO
                                         "'><body>b</body></message>"),
              0);
    XT_EQ_INT(in.messages, 2);
    done(c);
}

static int chat_listener_destroys;

static void count_chat_listener_destroy(void *ud)
{
    (void)ud;
    chat_listener_destroys++;
}

/* Per-chat listeners and messages built by the application. */
static void test_chat_listeners_and_send_message(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    chat_listener_destroys = 0;
    xmppc_chat *romeo = xmppc_chat_get(c, ROMEO);
    xmppc_chat *nurse = xmppc_chat_get(c, "nurse@example.com");
    inbox in_romeo = {0}, in_nurse = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(xmppc_chat_add_message_listener(romeo, &h, on_message, &in_romeo,
                                              count_chat_listener_destroy),
              0);
    XT_EQ_INT(xmppc_chat_add_message_listener(nurse, NULL, on_message,
                                              &in_nurse,
                                              count_chat_listener_destroy),
              0);
    XT_EQ_INT(
        xmppc_chat_add_message_listener(NULL, NULL, on_message, NULL, NULL),
        XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_add_message_listener(romeo, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<message from='" ROMEO "' "
                                         "type='chat'><body>r1</body>"
                                         "</message>"),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<message from='nurse@example.com/"
                                         "k'><body>n1</body></message>"),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<message from='tybalt@example.net/"
                                         "x'><body>t1</body></message>"),
              0);
    XT_EQ_INT(in_romeo.messages, 1);
    XT_EQ_STR(in_romeo.body, "r1");
    XT_EQ_INT(in_nurse.messages, 1);
    XT_EQ_STR(in_nurse.body, "n1");
    xmppc_handler_free(h);
    XT_EQ_INT(chat_listener_destroys, 1);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<message from='" ROMEO "' "
                                         "type='chat'><body>r2</body>"
                                         "</message>"),
              0);
    XT_EQ_INT(in_romeo.messages, 1);

    /* A message with a subject and a language: completed, not replaced. */
    XT_EQ_INT(xmppc_chat_set_thread(romeo, "th"), 0);
    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, NULL, NULL, "bonjour"), 0);
    XT_EQ_INT(xmppc_message_set_subject(m, "salut"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(m, "xml:lang", "fr"), 0);
    XT_EQ_INT(xmppc_chat_send_message(romeo, m), 0);
    XT_EQ_STR(out.last,
              "<message xml:lang='fr' to='" ROMEO "' type='chat' id='*'>"
              "<body>bonjour</body><subject>salut</subject><thread>th"
              "</thread></message>");
    xmppc_stanza_unref(m);
    /* What is set stays: type, address, thread. */
    XT_EQ_INT(xmppc_message_new(&m, "normal", "romeo@example.net/other", "x"),
              0);
    XT_EQ_INT(xmppc_message_set_thread(m, "mine"), 0);
    XT_EQ_INT(xmppc_chat_send_message(romeo, m), 0);
    XT_EQ_STR(out.last, "<message type='normal' to='romeo@example.net/other' "
                        "id='*'><body>x</body><thread>mine</thread>"
                        "</message>");
    xmppc_stanza_unref(m);
    xmppc_stanza *iq = NULL;
    XT_EQ_INT(xmppc_iq_new(&iq, "get", NULL, "q1"), 0);
    int n = out.count;
    XT_EQ_INT(xmppc_chat_send_message(romeo, iq), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_chat_send_message(NULL, iq), XMPPC_EINVAL);
    XT_EQ_INT(out.count, n);
    xmppc_stanza_unref(iq);
    done(c);
    XT_EQ_INT(chat_listener_destroys, 2);
}

XT_MAIN(XT_TEST(test_send_text_and_receipt_request),
        XT_TEST(test_chat_listeners_and_send_message), XT_TEST(test_reply_text),
        XT_TEST(test_send_state), XT_TEST(test_automatic_receipt),
        XT_TEST(test_receipt_before_handled), XT_TEST(test_receipt_listener),
        XT_TEST(test_state_listener), XT_TEST(test_properties_round_trip),
        XT_TEST(test_properties_bad_input), XT_TEST(test_properties_malformed),
        XT_TEST(test_not_ready), XT_TEST(test_chat_handles),
        XT_TEST(test_chat_carbons))
