/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Chat against the private server started by tests/fixtures/
 * xmppc_fixture.py, with two accounts on one loop, through the public API
 * only: a delivery receipt requested by one side is answered by the other
 * side's library and reported to the sender; chat states are seen by the
 * other side; message properties of every type survive the server.
 */
#include <math.h>
#include <stdint.h>

#include "../xtest.h"
#include "live.h"

static void print_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                      const char *message, void *userdata)
{
    (void)conn;
    (void)userdata;
    printf("# [%s %s] %s\n", xmppc_log_level_name(level), area, message);
}

typedef struct peer {
    xmppc_conn *conn;
    int receipts;
    char acked[256], receipt_from[256];
    int states;
    xmppc_chat_state state_seen[8];
    xmppc_stanza *last; /* the last message with properties */
} peer;

typedef struct pair {
    xmppc_loop *loop;
    peer a, b;
    int ready;
} pair;

static void on_state_change(xmppc_conn *conn, xmppc_conn_state state,
                            const xmppc_error *err, void *userdata)
{
    pair *p = userdata;
    if (state == XMPPC_STATE_READY) {
        xmppc_stanza *pres = NULL;
        xmppc_presence_new(&pres, NULL, NULL);
        xmppc_conn_send(conn, pres);
        xmppc_stanza_unref(pres);
        p->ready++;
    } else if (state == XMPPC_STATE_DISCONNECTED && err) {
        printf("# %s\n", err->message);
        xmppc_loop_stop(p->loop);
    }
}

static void on_receipt(xmppc_conn *conn, const char *from, const char *id,
                       void *userdata)
{
    (void)conn;
    peer *pe = userdata;
    pe->receipts++;
    snprintf(pe->acked, sizeof pe->acked, "%s", id);
    snprintf(pe->receipt_from, sizeof pe->receipt_from, "%s", from ? from : "");
}

static void on_state(xmppc_conn *conn, const char *from, xmppc_chat_state st,
                     void *userdata)
{
    (void)conn;
    (void)from;
    peer *pe = userdata;
    if (pe->states < 8)
        pe->state_seen[pe->states] = st;
    pe->states++;
}

static int keep_properties(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    (void)conn;
    peer *pe = userdata;
    if (xmppc_message_property_count(msg) > 0) {
        xmppc_stanza_unref(pe->last);
        pe->last = xmppc_stanza_ref(msg);
    }
    return XMPPC_CONTINUE;
}

static void pair_up(pair *p)
{
    XT_EQ_INT(xmppc_loop_new(&p->loop), 0);
    peer *both[2] = {&p->a, &p->b};
    for (int i = 0; i < 2; i++) {
        xmppc_conn *c = NULL;
        XT_EQ_INT(xmppc_conn_new(&c, user(i), env("XMPPC_TEST_PASSWORD")), 0);
        XT_EQ_INT(xmppc_conn_set_server(c, env("XMPPC_TEST_HOST"),
                                        (unsigned)atoi(env("XMPPC_TEST_PORT"))),
                  0);
        XT_EQ_INT(xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")), 0);
        if (getenv("XMPPC_TEST_TRACE"))
            xmppc_conn_set_log_cb(c, print_log, NULL, XMPPC_LOG_TRACE);
        xmppc_conn_set_state_cb(c, on_state_change, p);
        both[i]->conn = c;
        /* The chat manager first, then listeners and handlers. */
        XT_EQ_INT(xmppc_chat_enable_receipts(c, 1), 0);
        XT_EQ_INT(xmppc_chat_on_receipt(c, NULL, on_receipt, both[i], NULL), 0);
        XT_EQ_INT(xmppc_chat_on_state(c, NULL, on_state, both[i], NULL), 0);
        XT_EQ_INT(xmppc_conn_add_handler(c, NULL, "message", NULL, NULL,
                                         keep_properties, both[i], NULL),
                  0);
        XT_EQ_INT(xmppc_loop_add(p->loop, c), 0);
        XT_EQ_INT(xmppc_conn_connect(c), 0);
    }
    for (int i = 0; i < 400 && p->ready < 2; i++)
        xmppc_loop_run_once(p->loop, 50);
    XT_EQ_INT(p->ready, 2);
}

static void pair_down(pair *p)
{
    xmppc_conn_disconnect(p->a.conn);
    xmppc_conn_disconnect(p->b.conn);
    XT_EQ_INT(xmppc_loop_run(p->loop), 0);
    xmppc_loop_free(p->loop);
    xmppc_stanza_unref(p->a.last);
    xmppc_stanza_unref(p->b.last);
    xmppc_conn_unref(p->a.conn);
    xmppc_conn_unref(p->b.conn);
    xmppc_error_clear();
}

/* Runs the loop until *counter reaches @p want (at most ~10 s). */
static void run_until(pair *p, const int *counter, int want)
{
    for (int i = 0; i < 200 && *counter < want; i++)
        xmppc_loop_run_once(p->loop, 50);
}

static void test_receipt_round_trip(void)
{
    pair p = {0};
    pair_up(&p);
    char *id = NULL;
    XT_EQ_INT(xmppc_chat_send_text_receipt(
                  p.a.conn, xmppc_conn_get_bound_jid(p.b.conn), "ack me", &id),
              0);
    run_until(&p, &p.a.receipts, 1);
    XT_EQ_INT(p.a.receipts, 1);
    XT_EQ_STR(p.a.acked, id);
    XT_EQ_STR(p.a.receipt_from, xmppc_conn_get_bound_jid(p.b.conn));
    XT_EQ_INT(p.b.receipts, 0); /* b got no receipt for its receipt */
    xmppc_free(id);

    /* Turned off on b: no receipt comes back (a message without request
     * after it proves the first one was processed). */
    XT_EQ_INT(xmppc_chat_enable_receipts(p.b.conn, 0), 0);
    XT_EQ_INT(xmppc_chat_send_text_receipt(
                  p.a.conn, xmppc_conn_get_bound_jid(p.b.conn), "silent", NULL),
              0);
    XT_EQ_INT(xmppc_chat_send_state(p.a.conn,
                                    xmppc_conn_get_bound_jid(p.b.conn),
                                    XMPPC_CHAT_STATE_GONE),
              0);
    run_until(&p, &p.b.states, 1);
    XT_EQ_INT(p.b.states, 1);
    for (int i = 0; i < 10; i++)
        xmppc_loop_run_once(p.loop, 50);
    XT_EQ_INT(p.a.receipts, 1);
    pair_down(&p);
}

static void test_chat_states(void)
{
    pair p = {0};
    pair_up(&p);
    const char *b = xmppc_conn_get_bound_jid(p.b.conn);
    XT_EQ_INT(xmppc_chat_send_state(p.a.conn, b, XMPPC_CHAT_STATE_COMPOSING),
              0);
    XT_EQ_INT(xmppc_chat_set_send_active(p.a.conn, 1), 0);
    XT_EQ_INT(xmppc_chat_send_text(p.a.conn, b, "here it is"), 0);
    XT_EQ_INT(xmppc_chat_send_state(p.a.conn, b, XMPPC_CHAT_STATE_PAUSED), 0);
    run_until(&p, &p.b.states, 3);
    XT_EQ_INT(p.b.states, 3);
    XT_EQ_INT(p.b.state_seen[0], XMPPC_CHAT_STATE_COMPOSING);
    XT_EQ_INT(p.b.state_seen[1], XMPPC_CHAT_STATE_ACTIVE);
    XT_EQ_INT(p.b.state_seen[2], XMPPC_CHAT_STATE_PAUSED);
    XT_EQ_INT(p.a.states, 0);
    pair_down(&p);
}

static void test_properties_survive_the_server(void)
{
    pair p = {0};
    pair_up(&p);
    xmppc_stanza *m = NULL;
    XT_EQ_INT(
        xmppc_message_new(&m, "chat", xmppc_conn_get_bound_jid(p.b.conn), NULL),
        0);
    XT_EQ_INT(xmppc_message_set_property_string(m, "s", "x < y & 'z' ü"), 0);
    XT_EQ_INT(xmppc_message_set_property_int(m, "i", INT32_MIN), 0);
    XT_EQ_INT(xmppc_message_set_property_long(m, "l", INT64_MAX), 0);
    XT_EQ_INT(xmppc_message_set_property_float(m, "f", 0.1f), 0);
    XT_EQ_INT(xmppc_message_set_property_double(m, "d", 1.0 / 3.0), 0);
    XT_EQ_INT(xmppc_message_set_property_bool(m, "b", 1), 0);
    XT_EQ_INT(xmppc_message_request_receipt(m), 0);
    char id[64];
    snprintf(id, sizeof id, "%s", xmppc_stanza_get_id(m));
    XT_EQ_INT(xmppc_conn_send(p.a.conn, m), 0);
    xmppc_stanza_unref(m);
    run_until(&p, &p.a.receipts, 1);
    XT_EQ_INT(p.a.receipts, 1);
    XT_EQ_STR(p.a.acked, id);
    xmppc_stanza *r = p.b.last;
    XT_CHECK(r != NULL);
    if (r) {
        const char *s = NULL;
        int32_t i = 0;
        int64_t l = 0;
        float f = 0;
        double d = 0;
        int b = 0;
        XT_EQ_INT(xmppc_message_property_count(r), 6);
        XT_EQ_INT(xmppc_message_get_property_string(r, "s", &s), 0);
        XT_EQ_STR(s, "x < y & 'z' ü");
        XT_EQ_INT(xmppc_message_get_property_int(r, "i", &i), 0);
        XT_EQ_INT(i, INT32_MIN);
        XT_EQ_INT(xmppc_message_get_property_long(r, "l", &l), 0);
        XT_CHECK(l == INT64_MAX);
        XT_EQ_INT(xmppc_message_get_property_float(r, "f", &f), 0);
        XT_CHECK(f == 0.1f);
        XT_EQ_INT(xmppc_message_get_property_double(r, "d", &d), 0);
        XT_CHECK(d == 1.0 / 3.0);
        XT_EQ_INT(xmppc_message_get_property_bool(r, "b", &b), 0);
        XT_EQ_INT(b, 1);
    }
    pair_down(&p);
}

typedef struct chat_inbox {
    int messages;
    char subject[64], lang[16], body[64];
} chat_inbox;

static void on_chat_message(xmppc_conn *conn, const xmppc_stanza *msg,
                            const char *peer_bare, int is_carbon_sent, void *ud)
{
    (void)conn, (void)peer_bare, (void)is_carbon_sent;
    chat_inbox *in = ud;
    in->messages++;
    const char *subject = xmppc_message_get_subject(msg);
    const char *lang = xmppc_stanza_get_attr(msg, "xml:lang");
    const char *body = xmppc_message_get_body(msg);
    snprintf(in->subject, sizeof in->subject, "%s", subject ? subject : "");
    snprintf(in->lang, sizeof in->lang, "%s", lang ? lang : "");
    snprintf(in->body, sizeof in->body, "%s", body ? body : "");
}

/* A chat handle on each side: a built message with subject and language
 * reaches the per-chat listener of the other side, and the answer through
 * xmppc_chat_send() comes back to the first chat's listener. */
static void test_chats_and_built_messages(void)
{
    pair p = {0};
    pair_up(&p);
    chat_inbox at_a = {0}, at_b = {0};
    xmppc_chat *to_b =
        xmppc_chat_get(p.a.conn, xmppc_conn_get_bound_jid(p.b.conn));
    xmppc_chat *to_a = xmppc_chat_get(p.b.conn, user(0));
    XT_CHECK(to_b != NULL && to_a != NULL);
    XT_EQ_INT(xmppc_chat_add_message_listener(to_b, NULL, on_chat_message,
                                              &at_a, NULL),
              0);
    XT_EQ_INT(xmppc_chat_add_message_listener(to_a, NULL, on_chat_message,
                                              &at_b, NULL),
              0);
    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, NULL, NULL, "bonjour"), 0);
    XT_EQ_INT(xmppc_message_set_subject(m, "salut"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(m, "xml:lang", "fr"), 0);
    XT_EQ_INT(xmppc_chat_send_message(to_b, m), 0);
    xmppc_stanza_unref(m);
    run_until(&p, &at_b.messages, 1);
    XT_EQ_INT(at_b.messages, 1);
    XT_EQ_STR(at_b.subject, "salut");
    XT_EQ_STR(at_b.lang, "fr");
    XT_EQ_STR(at_b.body, "bonjour");
    /* b's chat now answers the resource a wrote from. */
    XT_EQ_STR(xmppc_chat_get_address(to_a), xmppc_conn_get_bound_jid(p.a.conn));
    XT_EQ_INT(xmppc_chat_send(to_a, "merci"), 0);
    run_until(&p, &at_a.messages, 1);
    XT_EQ_INT(at_a.messages, 1);
    XT_EQ_STR(at_a.body, "merci");
    pair_down(&p);
}

XT_MAIN(XT_TEST(test_receipt_round_trip), XT_TEST(test_chat_states),
        XT_TEST(test_properties_survive_the_server),
        XT_TEST(test_chats_and_built_messages))
