/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The connection object without a server: construction, setters and their
 * validation, attachments, handler handles, state rules. Logins are in
 * tests/integration/test-conn.c.
 */
#include "../xtest.h"

static void test_new_validates_the_account(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "example.org", "pw"), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "localpart") != NULL);
    XT_EQ_INT(xmppc_conn_new(&c, "a@b@c", "pw"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_new(&c, NULL, "pw"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_new(NULL, "a@b", "pw"), XMPPC_EINVAL);
    XT_CHECK(c == NULL);
    XT_EQ_INT(xmppc_conn_new(&c, "Alice@Example.ORG/Home", "pw"), 0);
    XT_EQ_STR(xmppc_conn_get_jid(c), "alice@example.org");
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_DISCONNECTED);
    XT_CHECK(xmppc_conn_get_bound_jid(c) == NULL);
    XT_CHECK(xmppc_conn_get_error(c) == NULL);
    XT_CHECK(xmppc_conn_unref(c) == NULL);
    XT_CHECK(xmppc_conn_unref(NULL) == NULL);
    xmppc_error_clear();
}

static void test_setters_validate(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    XT_EQ_INT(xmppc_conn_set_server(c, "127.0.0.1", 5222), 0);
    XT_EQ_INT(xmppc_conn_set_server(c, "127.0.0.1", 70000), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_server(c, "", 5222), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_resource(c, "laptop"), 0);
    XT_EQ_INT(xmppc_conn_set_resource(c, "bad\x01"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_tls_policy(c, (xmppc_tls_policy)7), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_connect_timeout(c, 0), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_iq_timeout(c, 0), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_max_stanza_bytes(c, 0), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_max_stanza_bytes(c, 9 * 1024 * 1024),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_max_stanza_bytes(c, 65536), 0);
    XT_EQ_INT(xmppc_conn_set_spki_pin(c, "abc"), XMPPC_EINVAL);
    char pin[65];
    memset(pin, 'a', 64);
    pin[64] = '\0';
    XT_EQ_INT(xmppc_conn_set_spki_pin(c, pin), 0);
    pin[10] = 'x';
    XT_EQ_INT(xmppc_conn_set_spki_pin(c, pin), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_ca_file(c, "/nonexistent/ca.pem"), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "/nonexistent/ca.pem"));
    XT_EQ_INT(xmppc_conn_set_scram_key(c, "scram-sha-1:4096:c2FsdA==:"
                                          "0123"),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_conn_set_log_cb(c, NULL, NULL, (xmppc_log_level)12),
              XMPPC_EINVAL);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static void test_state_rules(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    xmppc_stanza *msg = NULL;
    XT_EQ_INT(xmppc_message_new(&msg, "chat", "bob@example.org", "hi"), 0);
    XT_EQ_INT(xmppc_conn_send(c, msg), XMPPC_ESTATE);
    XT_EQ_INT(xmppc_chat_send_text(c, "bob@example.org", "hi"), XMPPC_ESTATE);
    XT_EQ_INT(xmppc_conn_disconnect(c), XMPPC_ESTATE);
    char *key = NULL;
    XT_EQ_INT(xmppc_conn_get_scram_key(c, &key), XMPPC_ESTATE);
    xmppc_stanza_unref(msg);
    XT_EQ_STR(xmppc_conn_state_name(XMPPC_STATE_READY), "ready");
    XT_EQ_STR(xmppc_conn_state_name((xmppc_conn_state)99), "unknown");
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static int destroyed[4], destroy_order;

static void note_destroy(void *data)
{
    destroyed[*(int *)data] = ++destroy_order;
}

static void test_attachments(void)
{
    static int key_a, key_b;
    int ids[4] = {0, 1, 2, 3};
    memset(destroyed, 0, sizeof destroyed);
    destroy_order = 0;
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    XT_CHECK(xmppc_conn_attached(c, &key_a) == NULL);
    XT_EQ_INT(xmppc_conn_attach(c, &key_a, &ids[0], note_destroy), 0);
    XT_EQ_INT(xmppc_conn_attach(c, &key_b, &ids[1], note_destroy), 0);
    XT_CHECK(xmppc_conn_attached(c, &key_a) == &ids[0]);
    XT_CHECK(xmppc_conn_attached(c, &key_b) == &ids[1]);
    /* Replacing destroys the old data at once. */
    XT_EQ_INT(xmppc_conn_attach(c, &key_a, &ids[2], note_destroy), 0);
    XT_EQ_INT(destroyed[0], 1);
    XT_CHECK(xmppc_conn_attached(c, &key_a) == &ids[2]);
    XT_EQ_INT(xmppc_conn_attach(c, NULL, &ids[3], NULL), XMPPC_EINVAL);
    xmppc_conn_unref(c);
    /* The rest goes with the connection, each exactly once. */
    XT_CHECK(destroyed[1] > 1 && destroyed[2] > 1 && destroyed[3] == 0);
    XT_EQ_INT(destroy_order, 3);
    xmppc_error_clear();
}

static int handler_destroys;

static int never_called(xmppc_conn *c, xmppc_stanza *s, void *ud)
{
    (void)c;
    (void)s;
    (void)ud;
    return XMPPC_HANDLED;
}

static void count_destroy(void *ud)
{
    (void)ud;
    handler_destroys++;
}

/* A handle outlives its connection safely (bindings free late). */
static void test_handler_handles(void)
{
    handler_destroys = 0;
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    xmppc_handler *h1 = NULL, *h2 = NULL;
    XT_EQ_INT(xmppc_conn_add_handler(c, &h1, "message", NULL, NULL,
                                     never_called, NULL, count_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_handler(c, &h2, "iq", "get", "urn:xmpp:ping",
                                     never_called, NULL, count_destroy),
              0);
    XT_EQ_INT(
        xmppc_conn_add_handler(c, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        XMPPC_EINVAL);
    xmppc_handler_remove(h1);
    XT_EQ_INT(handler_destroys, 1);
    xmppc_handler_remove(h1); /* twice: no second destroy */
    XT_EQ_INT(handler_destroys, 1);
    xmppc_conn_unref(c);
    XT_EQ_INT(handler_destroys, 2);
    xmppc_handler_free(h1);
    xmppc_handler_free(h2); /* after the connection: still safe */
    xmppc_handler_free(NULL);
    xmppc_error_clear();
}

static void posted(xmppc_conn *c, void *ud)
{
    (void)c;
    ++*(int *)ud;
}

/* Posting before any loop drives the connection queues the call; it runs
 * once a loop processes the wake-up descriptor. */
static void test_post_before_a_loop(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    int runs = 0;
    XT_EQ_INT(xmppc_conn_post(c, posted, &runs), 0);
    XT_EQ_INT(xmppc_conn_post(NULL, posted, &runs), XMPPC_EINVAL);
    xmppc_pollfd fds[4];
    XT_EQ_INT(xmppc_conn_get_fds(c, fds, 4), 0);
    xmppc_loop *loop = NULL;
    XT_EQ_INT(xmppc_loop_new(&loop), 0);
    XT_EQ_INT(xmppc_loop_add(loop, c), 0);
    XT_EQ_INT(xmppc_conn_get_fds(c, fds, 4), 1); /* the wake-up fd */
    XT_EQ_INT(xmppc_loop_run_once(loop, 1000), 0);
    XT_EQ_INT(runs, 1);
    XT_EQ_INT(xmppc_conn_set_io_callbacks(c, NULL, NULL, NULL), XMPPC_ESTATE);
    xmppc_loop_free(loop); /* detaches (and drops its reference) */
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static int fired, timer_destroys;
static char fire_order[8];

static void on_fire(xmppc_conn *c, void *ud)
{
    (void)c;
    fire_order[fired++] = *(const char *)ud;
}

static void on_timer_destroy(void *ud)
{
    (void)ud;
    timer_destroys++;
}

static void test_timers(void)
{
    fired = timer_destroys = 0;
    memset(fire_order, 0, sizeof fire_order);
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    xmppc_loop *loop = NULL;
    XT_EQ_INT(xmppc_loop_new(&loop), 0);
    XT_EQ_INT(xmppc_loop_add(loop, c), 0);
    xmppc_timer *late = NULL, *canceled = NULL;
    static const char a = 'a', b = 'b', x = 'x';
    XT_EQ_INT(xmppc_conn_add_timer(c, NULL, 40, on_fire, (void *)&b,
                                   on_timer_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_timer(c, NULL, 10, on_fire, (void *)&a,
                                   on_timer_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_timer(c, &canceled, 20, on_fire, (void *)&x,
                                   on_timer_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_timer(c, &late, 60000, on_fire, (void *)&x,
                                   on_timer_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_timer(c, NULL, 1, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_CHECK(xmppc_conn_timeout_ms(c) >= 0 && xmppc_conn_timeout_ms(c) <= 10);
    xmppc_timer_cancel(canceled);
    XT_EQ_INT(timer_destroys, 1);
    xmppc_timer_cancel(canceled); /* twice: nothing more */
    XT_EQ_INT(timer_destroys, 1);
    for (int i = 0; i < 50 && fired < 2; i++)
        xmppc_loop_run_once(loop, 100);
    XT_EQ_INT(fired, 2);
    XT_EQ_STR(fire_order, "ab"); /* earliest first */
    XT_EQ_INT(timer_destroys, 3);
    xmppc_loop_free(loop);
    xmppc_conn_unref(c); /* the late timer never fires; its destroy runs */
    XT_EQ_INT(fired, 2);
    XT_EQ_INT(timer_destroys, 4);
    xmppc_timer_free(late); /* after the connection: still safe */
    xmppc_timer_free(canceled);
    xmppc_timer_free(NULL);
    xmppc_error_clear();
}

static void test_close_with_error_and_log(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    XT_EQ_INT(xmppc_conn_close_with_error(c, XMPPC_ETIMEDOUT, "dead"),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_conn_close_with_error(c, 0, "x"), XMPPC_EINVAL);
    xmppc_conn_log(c, XMPPC_LOG_INFO, "test", "nobody listens"); /* no-op */
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_new_validates_the_account), XT_TEST(test_setters_validate),
        XT_TEST(test_state_rules), XT_TEST(test_attachments),
        XT_TEST(test_handler_handles), XT_TEST(test_post_before_a_loop),
        XT_TEST(test_timers), XT_TEST(test_close_with_error_and_log))
