/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Message Carbons (XEP-0280) against the private server started by
 * tests/fixtures/xmppc_fixture.py, through the public API only: two
 * resources of one account (a and b) and a second account on one loop.
 * a enables carbons; a message to b reaches a as a received carbon, one
 * from b as a sent carbon; a fake carbon sent by the other account is not
 * delivered as a carbon.
 */
#include "../xtest.h"
#include "live.h"

static void print_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                      const char *message, void *userdata)
{
    (void)conn;
    int *warnings = userdata;
    if (level == XMPPC_LOG_WARN && strcmp(area, "carbons") == 0)
        (*warnings)++;
    if (getenv("XMPPC_TEST_TRACE") || level <= XMPPC_LOG_WARN)
        printf("# [%s %s] %s\n", xmppc_log_level_name(level), area, message);
}

typedef struct client {
    xmppc_conn *conn;
    int carbons, received, sent, warnings;
    char body[256], peer[256];
    int messages; /* chat listener */
    int carbon_sent_flag;
} client;

typedef struct world {
    xmppc_loop *loop;
    client a, b, bob;
    int ready, enabled, supported;
} world;

static void on_state_change(xmppc_conn *conn, xmppc_conn_state state,
                            const xmppc_error *err, void *userdata)
{
    world *w = userdata;
    if (state == XMPPC_STATE_READY) {
        xmppc_stanza *pres = NULL;
        xmppc_presence_new(&pres, NULL, NULL);
        xmppc_conn_send(conn, pres);
        xmppc_stanza_unref(pres);
        w->ready++;
    } else if (state == XMPPC_STATE_DISCONNECTED && err) {
        printf("# %s\n", err->message);
        xmppc_loop_stop(w->loop);
    }
}

static void on_carbon(xmppc_conn *conn, const xmppc_stanza *inner,
                      xmppc_carbon_direction dir, void *userdata)
{
    (void)conn;
    client *c = userdata;
    c->carbons++;
    if (dir == XMPPC_CARBON_RECEIVED)
        c->received++;
    else
        c->sent++;
    const char *body = xmppc_message_get_body(inner);
    snprintf(c->body, sizeof c->body, "%s", body ? body : "");
}

static void on_message(xmppc_conn *conn, const xmppc_stanza *msg,
                       const char *peer, int is_carbon_sent, void *userdata)
{
    (void)conn;
    (void)msg;
    client *c = userdata;
    c->messages++;
    c->carbon_sent_flag = is_carbon_sent;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
}

static void on_enabled(xmppc_conn *conn, int enabled, const xmppc_error *err,
                       void *userdata)
{
    (void)conn;
    world *w = userdata;
    if (err)
        printf("# enable: %s\n", err->message);
    w->enabled = enabled ? 1 : -1;
}

static void on_supported(xmppc_conn *conn, int supported,
                         const xmppc_error *err, void *userdata)
{
    (void)conn;
    world *w = userdata;
    w->supported = !err && supported ? 1 : -1;
}

static void start(world *w, client *c, const char *jid, const char *resource)
{
    XT_EQ_INT(xmppc_conn_new(&c->conn, jid, env("XMPPC_TEST_PASSWORD")), 0);
    XT_EQ_INT(xmppc_conn_set_server(c->conn, env("XMPPC_TEST_HOST"),
                                    (unsigned)atoi(env("XMPPC_TEST_PORT"))),
              0);
    XT_EQ_INT(xmppc_conn_set_ca_file(c->conn, env("XMPPC_TEST_CA")), 0);
    XT_EQ_INT(xmppc_conn_set_resource(c->conn, resource), 0);
    xmppc_conn_set_log_cb(c->conn, print_log, &c->warnings, XMPPC_LOG_TRACE);
    xmppc_conn_set_state_cb(c->conn, on_state_change, w);
    XT_EQ_INT(xmppc_carbons_on_message(c->conn, NULL, on_carbon, c, NULL), 0);
    XT_EQ_INT(xmppc_chat_on_message(c->conn, NULL, on_message, c, NULL), 0);
    XT_EQ_INT(xmppc_loop_add(w->loop, c->conn), 0);
    XT_EQ_INT(xmppc_conn_connect(c->conn), 0);
}

static void run_until(world *w, const int *counter, int want)
{
    for (int i = 0; i < 200 && *counter < want; i++)
        xmppc_loop_run_once(w->loop, 50);
}

static void settle(world *w)
{
    for (int i = 0; i < 10; i++)
        xmppc_loop_run_once(w->loop, 50);
}

static void test_carbons_between_resources(void)
{
    world w = {0};
    XT_EQ_INT(xmppc_loop_new(&w.loop), 0);
    start(&w, &w.a, user(0), "a");
    start(&w, &w.b, user(0), "b");
    start(&w, &w.bob, user(1), "c");
    for (int i = 0; i < 400 && w.ready < 3; i++)
        xmppc_loop_run_once(w.loop, 50);
    XT_EQ_INT(w.ready, 3);

    XT_EQ_INT(xmppc_carbons_server_supports(w.a.conn, on_supported, &w, NULL),
              0);
    XT_EQ_INT(xmppc_carbons_enable(w.a.conn, on_enabled, &w, NULL), 0);
    run_until(&w, &w.enabled, 1);
    run_until(&w, &w.supported, 1);
    XT_EQ_INT(w.enabled, 1);
    XT_EQ_INT(w.supported, 1);
    XT_EQ_INT(xmppc_carbons_is_enabled(w.a.conn), 1);

    char a_full[300], b_full[300];
    snprintf(a_full, sizeof a_full, "%s", xmppc_conn_get_bound_jid(w.a.conn));
    snprintf(b_full, sizeof b_full, "%s", xmppc_conn_get_bound_jid(w.b.conn));

    /* bob -> alice/b: a gets a received carbon. */
    XT_EQ_INT(xmppc_chat_send_text(w.bob.conn, b_full, "to b"), 0);
    run_until(&w, &w.a.received, 1);
    XT_EQ_INT(w.a.received, 1);
    XT_EQ_STR(w.a.body, "to b");
    XT_EQ_INT(w.a.messages, 1);
    XT_EQ_INT(w.a.carbon_sent_flag, 0);
    XT_EQ_STR(w.a.peer, user(1));
    XT_EQ_INT(w.b.messages, 1); /* b got it directly */
    XT_EQ_INT(w.b.carbons, 0);  /* b did not enable carbons */

    /* alice/b -> bob: a gets a sent carbon. */
    XT_EQ_INT(xmppc_chat_send_text(w.b.conn, user(1), "from b"), 0);
    run_until(&w, &w.a.sent, 1);
    XT_EQ_INT(w.a.sent, 1);
    XT_EQ_STR(w.a.body, "from b");
    XT_EQ_INT(w.a.messages, 2);
    XT_EQ_INT(w.a.carbon_sent_flag, 1);
    XT_EQ_STR(w.a.peer, user(1));
    run_until(&w, &w.bob.messages, 2);

    /* A private message is not copied. */
    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", user(1), "private"), 0);
    XT_EQ_INT(xmppc_carbons_mark_private(m), 0);
    XT_EQ_INT(xmppc_conn_send(w.b.conn, m), 0);
    xmppc_stanza_unref(m);
    run_until(&w, &w.bob.messages, 2);

    /* bob wraps a fake message in a carbon addressed to alice/a. */
    xmppc_stanza *outer = NULL, *rcv = NULL, *fwd = NULL, *inner = NULL;
    XT_EQ_INT(xmppc_message_new(&outer, "chat", a_full, NULL), 0);
    XT_EQ_INT(xmppc_stanza_new(&rcv, "received", XMPPC_NS_CARBONS), 0);
    XT_EQ_INT(xmppc_stanza_new(&fwd, "forwarded", XMPPC_NS_FORWARD), 0);
    XT_EQ_INT(xmppc_message_new(&inner, "chat", a_full, "spoofed"), 0);
    XT_EQ_INT(xmppc_stanza_set_from(inner, "mallory@evil.example/x"), 0);
    XT_EQ_INT(xmppc_stanza_add_child(fwd, inner), 0);
    XT_EQ_INT(xmppc_stanza_add_child(rcv, fwd), 0);
    XT_EQ_INT(xmppc_stanza_add_child(outer, rcv), 0);
    XT_EQ_INT(xmppc_conn_send(w.bob.conn, outer), 0);
    xmppc_stanza_unref(inner);
    xmppc_stanza_unref(fwd);
    xmppc_stanza_unref(rcv);
    xmppc_stanza_unref(outer);
    run_until(&w, &w.a.warnings, 1);
    settle(&w);
    XT_EQ_INT(w.a.warnings, 1);
    XT_EQ_INT(w.a.carbons, 2);
    XT_EQ_INT(w.a.messages, 2);

    xmppc_conn_disconnect(w.a.conn);
    xmppc_conn_disconnect(w.b.conn);
    xmppc_conn_disconnect(w.bob.conn);
    XT_EQ_INT(xmppc_loop_run(w.loop), 0);
    xmppc_loop_free(w.loop);
    xmppc_conn_unref(w.a.conn);
    xmppc_conn_unref(w.b.conn);
    xmppc_conn_unref(w.bob.conn);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_carbons_between_resources))
