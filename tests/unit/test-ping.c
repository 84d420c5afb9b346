/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * XMPP Ping (XEP-0199) over the test transport: the responder's exact
 * answers, pings with their outcomes (result, error, timeout, disconnect,
 * each reported exactly once) and the keepalive state machine.
 */
#include <time.h>

#include "../transcript.h"
#include "conn-private.h"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct outcome {
    int calls, destroyed;
    int code;
    unsigned int rtt;
    char condition[64];
} outcome;

static void on_pong(xmppc_conn *c, unsigned int rtt, const xmppc_error *err,
                    void *ud)
{
    (void)c;
    outcome *o = ud;
    o->calls++;
    o->rtt = rtt;
    o->code = err ? err->code : 0;
    snprintf(o->condition, sizeof o->condition, "%s",
             err && err->condition ? err->condition : "");
}

static void on_destroy(void *ud)
{
    ((outcome *)ud)->destroyed++;
}

static void test_responder(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    /* Without the manager: the automatic service-unavailable. */
    XT_EQ_INT(xmppc__conn_test_inject(c, "<iq type='get' id='p0' "
                                         "from='example.com'><ping "
                                         "xmlns='urn:xmpp:ping'/></iq>"),
              0);
    XT_CHECK(strstr(out.last, "service-unavailable") != NULL);

    xmppc_ping *p = xmppc_ping_get(c);
    XT_CHECK(p != NULL);
    XT_CHECK(xmppc_ping_get(c) == p); /* one per connection */
    XT_CHECK(xmppc_ping_get_conn(p) == c);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<iq type='get' id='p1' "
                                         "from='example.com'><ping "
                                         "xmlns='urn:xmpp:ping'/></iq>"),
              0);
    XT_EQ_STR(out.last, "<iq to='example.com' id='p1' type='result'/>");
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='get' id='p2' from='romeo@example.net/orchard'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>"),
              0);
    XT_EQ_STR(out.last,
              "<iq to='romeo@example.net/orchard' id='p2' type='result'/>");
    /* A ping set is not a ping: service-unavailable. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='set' id='p3' from='romeo@example.net/orchard'>"
                     "<ping xmlns='urn:xmpp:ping'/></iq>"),
              0);
    XT_CHECK(strstr(out.last, "service-unavailable") && strstr(out.last, "p3"));
    finish(c);
}

static void test_ping_result_and_error(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_ping *p = xmppc_ping_get(c);

    outcome o = {0};
    XT_EQ_INT(xmppc_ping_send(p, NULL, 5000, on_pong, &o, on_destroy), 0);
    char expect[256], reply[256];
    snprintf(expect, sizeof expect,
             "<iq type='get' to='example.com' id='%s'><ping "
             "xmlns='urn:xmpp:ping'/></iq>",
             last_id(&out));
    XT_EQ_STR(out.last, expect);
    sleep_ms(15);
    snprintf(reply, sizeof reply,
             "<iq type='result' id='%s' from='example.com'/>", last_id(&out));
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.destroyed, 1);
    XT_EQ_INT(o.code, 0);
    XT_CHECK(o.rtt >= 10 && o.rtt < 2000);

    /* To a peer; an error reply still has a round-trip time. */
    o = (outcome){0};
    XT_EQ_INT(xmppc_ping_send(p, "romeo@example.net/orchard", 5000, on_pong, &o,
                              on_destroy),
              0);
    snprintf(expect, sizeof expect,
             "<iq type='get' to='romeo@example.net/orchard' id='%s'><ping "
             "xmlns='urn:xmpp:ping'/></iq>",
             last_id(&out));
    XT_EQ_STR(out.last, expect);
    snprintf(reply, sizeof reply,
             "<iq type='error' id='%s' from='romeo@example.net/orchard'>"
             "<error type='cancel'><service-unavailable "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
             last_id(&out));
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.destroyed, 1);
    XT_EQ_INT(o.code, XMPPC_ESTANZA);
    XT_EQ_STR(o.condition, "service-unavailable");
    XT_CHECK(o.rtt < 2000);
    finish(c);
}

static void test_ping_timeout_and_disconnect(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_ping *p = xmppc_ping_get(c);
    outcome o = {0}, o2 = {0};
    XT_EQ_INT(xmppc_ping_send(p, NULL, 20, on_pong, &o, on_destroy), 0);
    XT_EQ_INT(xmppc_ping_send(p, NULL, 60000, on_pong, &o2, on_destroy), 0);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(o.calls, 0);
    sleep_ms(40);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(o.rtt, 0);
    XT_EQ_INT(o.destroyed, 1);
    XT_EQ_INT(o2.calls, 0);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(o2.calls, 1);
    XT_EQ_INT(o2.code, XMPPC_ECANCELED);
    XT_EQ_INT(o2.destroyed, 1);
    XT_EQ_INT(o.calls, 1);
    /* Not ready: refused, no callback, no destroy. */
    outcome o3 = {0};
    XT_EQ_INT(xmppc_ping_send(p, NULL, 20, on_pong, &o3, on_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(o3.calls + o3.destroyed, 0);
    xmppc_conn_unref(c);
    XT_EQ_INT(o2.calls, 1); /* freeing the connection: nothing more */
    xmppc_error_clear();
}

static void test_bad_input(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_ping *p = xmppc_ping_get(c);
    outcome o = {0};
    XT_CHECK(xmppc_ping_get(NULL) == NULL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_EINVAL);
    XT_CHECK(xmppc_ping_get_conn(NULL) == NULL);
    XT_EQ_INT(xmppc_ping_send(NULL, NULL, 0, on_pong, &o, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_ping_send(p, NULL, 0, NULL, &o, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_ping_send(p, "@bad", 0, on_pong, &o, on_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(o.calls + o.destroyed, 0);
    XT_EQ_INT(xmppc_ping_set_keepalive(NULL, 100, 200), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 5, 200), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 100, 100), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "greater") != NULL);
    XT_EQ_INT(xmppc_ping_set_dead_cb(NULL, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(out.count, 0); /* nothing was sent */
    finish(c);
}

typedef struct dead_state {
    int calls;
    unsigned int silence;
    int destroyed;
} dead_state;

static void on_dead(xmppc_conn *c, unsigned int silence_ms, void *ud)
{
    (void)c;
    dead_state *d = ud;
    d->calls++;
    d->silence = silence_ms;
}

static void on_dead_destroy(void *ud)
{
    ((dead_state *)ud)->destroyed++;
}

static void test_keepalive(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_ping *p = xmppc_ping_get(c);
    dead_state dead = {0};
    XT_EQ_INT(xmppc_ping_set_dead_cb(p, on_dead, &dead, on_dead_destroy), 0);

    /* Enabled on a ready connection: it waits out the interval on a
     * timer, sending nothing. */
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 40, 150), 0);
    XT_EQ_INT(out.count, 0);
    XT_CHECK(xmppc_conn_timeout_ms(c) >= 0 && xmppc_conn_timeout_ms(c) <= 40);

    /* Silent for the interval: a ping to the server (no 'to'). */
    sleep_ms(60);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, 1);
    char expect[256], msg[256], ping_id[64];
    snprintf(ping_id, sizeof ping_id, "%s", last_id(&out));
    snprintf(expect, sizeof expect,
             "<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>",
             ping_id);
    XT_EQ_STR(out.last, expect);

    /* The server answers: traffic; wait again, silently. */
    snprintf(msg, sizeof msg, "<iq type='result' id='%s'/>", ping_id);
    XT_EQ_INT(xmppc__conn_test_inject(c, msg), 0);
    XT_EQ_INT(out.count, 1);

    /* Incoming stanzas keep the connection alive: when the timer fires
     * the silence is short, so no ping. */
    sleep_ms(25);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<message from='romeo@example.net/orchard'><body>hi"
                     "</body></message>"),
              0);
    sleep_ms(25);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, 1);

    /* Now silence: a ping after the interval, unanswered; dead after
     * 150 ms of silence in all, closed with ETIMEDOUT as the reason. */
    sleep_ms(60);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, 2);
    XT_CHECK(strstr(out.last, "to=") == NULL && strstr(out.last, "ping"));
    XT_EQ_INT(dead.calls, 0);
    sleep_ms(130);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(dead.calls, 1);
    XT_CHECK(dead.silence >= 150 && dead.silence < 1000);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_DISCONNECTED);
    XT_CHECK(xmppc_conn_get_error(c) &&
             xmppc_conn_get_error(c)->code == XMPPC_ETIMEDOUT);
    XT_CHECK(strstr(xmppc_conn_get_error(c)->message, "keepalive") != NULL);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(dead.calls, 1);
    xmppc_conn_unref(c);
    XT_EQ_INT(dead.calls, 1);
    XT_EQ_INT(dead.destroyed, 1);
    xmppc_error_clear();
}

static void test_keepalive_disable(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_ping *p = xmppc_ping_get(c);
    dead_state dead = {0};
    XT_EQ_INT(xmppc_ping_set_dead_cb(p, on_dead, &dead, NULL), 0);
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 20, 40), 0);
    /* Disabled before the timer fires: nothing is sent, nobody dies. */
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 0, 0), 0);
    XT_EQ_INT(xmppc_conn_timeout_ms(c), -1);
    sleep_ms(60);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, 0);
    XT_EQ_INT(dead.calls, 0);
    /* Re-enabled and changed while a ping is outstanding: the stale ping's
     * timeout is ignored. */
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 20, 40), 0);
    sleep_ms(30);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, 1);
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 500, 5000), 0);
    sleep_ms(60);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(dead.calls, 0);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_READY);
    finish(c);
    XT_EQ_INT(dead.calls, 0);
}

XT_MAIN(XT_TEST(test_responder), XT_TEST(test_ping_result_and_error),
        XT_TEST(test_ping_timeout_and_disconnect), XT_TEST(test_bad_input),
        XT_TEST(test_keepalive), XT_TEST(test_keepalive_disable))
