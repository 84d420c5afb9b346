/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The test transport that feature-module transcript tests use: a
 * connection made READY without a server, whose output is captured and
 * whose input is injected.
 */
#include "../xtest.h"
#include "conn-private.h"

typedef struct sent {
    int count;
    char last[2048];
} sent;

static void sink(void *ud, const char *xml)
{
    sent *s = ud;
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", xml);
}

static int on_ping(xmppc_conn *c, xmppc_stanza *iq, void *ud)
{
    xmppc_stanza *reply = NULL;
    ++*(int *)ud;
    xmppc_stanza_reply(&reply, iq);
    xmppc_conn_send(c, reply);
    xmppc_stanza_unref(reply);
    return XMPPC_HANDLED;
}

static void reply_cb(xmppc_conn *c, xmppc_stanza *reply, const xmppc_error *err,
                     void *ud)
{
    (void)c;
    int *result = ud;
    *result = err ? err->code : (reply ? 1 : -100);
}

static void test_ready_inject_and_capture(void)
{
    xmppc_conn *c = NULL;
    sent out = {0};
    XT_EQ_INT(xmppc_conn_new(&c, "juliet@example.com", "pw"), 0);
    XT_EQ_INT(
        xmppc__conn_test_ready(c, "juliet@example.com/balcony", sink, &out), 0);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_READY);
    XT_EQ_STR(xmppc_conn_get_bound_jid(c), "juliet@example.com/balcony");

    /* An unhandled iq get gets service-unavailable. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='get' id='v1' from='example.com'><query "
                     "xmlns='jabber:iq:version'/></iq>"),
              0);
    XT_EQ_INT(out.count, 1);
    XT_CHECK(strstr(out.last, "service-unavailable") && strstr(out.last, "v1"));

    /* A handler answers instead. */
    int pings = 0;
    XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "iq", "get", "urn:xmpp:ping",
                                     on_ping, &pings, NULL),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<iq type='get' id='p1' "
                                         "from='example.com'><ping "
                                         "xmlns='urn:xmpp:ping'/></iq>"),
              0);
    XT_EQ_INT(pings, 1);
    XT_EQ_STR(out.last, "<iq to='example.com' id='p1' type='result'/>");

    /* A request, a spoofed reply (ignored), the real reply. */
    xmppc_stanza *iq = NULL;
    XT_EQ_INT(xmppc_iq_new(&iq, "get", "romeo@example.net/orchard", "q1"), 0);
    int result = 0;
    XT_EQ_INT(xmppc_conn_send_iq(c, iq, 5000, reply_cb, &result, NULL), 0);
    xmppc_stanza_unref(iq);
    XT_CHECK(strstr(out.last, "id='q1'") != NULL);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='result' id='q1' from='evil@example.org'/>"),
              0);
    XT_EQ_INT(result, 0);
    XT_EQ_INT(
        xmppc__conn_test_inject(
            c, "<iq type='result' id='q1' from='romeo@example.net/orchard'/>"),
        0);
    XT_EQ_INT(result, 1);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<iq type='get'></message>"),
              XMPPC_EPARSE);

    /* Pending requests are canceled, exactly once, at the end. */
    XT_EQ_INT(xmppc_iq_new(&iq, "get", "example.com", "q2"), 0);
    result = 0;
    XT_EQ_INT(xmppc_conn_send_iq(c, iq, 5000, reply_cb, &result, NULL), 0);
    xmppc_stanza_unref(iq);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(result, XMPPC_ECANCELED);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_DISCONNECTED);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_ready_inject_and_capture))
