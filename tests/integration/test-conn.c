/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Connection tests against the private server started by
 * tests/fixtures/xmppc_fixture.py (Prosody or ejabberd), through the public
 * API only: logins over STARTTLS and direct TLS, failures with the right
 * status (wrong password, wrong certificate name, closed port), a message
 * round trip between two accounts, an iq to the server, graceful
 * disconnects. Runs only under the fixture: without XMPPC_TEST_* it fails.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../xtest.h"
#include "live.h"
#include "conn-private.h"

static void print_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                      const char *message, void *userdata)
{
    (void)conn;
    (void)userdata;
    printf("# [%s %s] %s\n", xmppc_log_level_name(level), area, message);
}

/* A connection to the fixture: STARTTLS port unless direct. */
static xmppc_conn *new_conn(const char *jid, const char *password, bool direct)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, jid, password), 0);
    unsigned port =
        (unsigned)atoi(env(direct ? "XMPPC_TEST_TLS_PORT" : "XMPPC_TEST_PORT"));
    XT_EQ_INT(xmppc_conn_set_server(c, env("XMPPC_TEST_HOST"), port), 0);
    XT_EQ_INT(xmppc_conn_set_direct_tls(c, direct), 0);
    XT_EQ_INT(xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")), 0);
    XT_EQ_INT(xmppc_conn_set_connect_timeout(c, 10000), 0);
    if (getenv("XMPPC_TEST_TRACE"))
        xmppc_conn_set_log_cb(c, print_log, NULL, XMPPC_LOG_TRACE);
    return c;
}

static void login_and_out(bool direct)
{
    xmppc_conn *c = new_conn(user(0), env("XMPPC_TEST_PASSWORD"), direct);
    int rc = xmppc_conn_connect_sync(c, 10000);
    if (rc < 0)
        printf("# connect: %s\n", xmppc_error_last()->message);
    XT_EQ_INT(rc, 0);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_READY);
    const char *bound = xmppc_conn_get_bound_jid(c);
    XT_CHECK(bound && strncmp(bound, user(0), strlen(user(0))) == 0 &&
             bound[strlen(user(0))] == '/');
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_DISCONNECTED);
    XT_CHECK(xmppc_conn_get_error(c) == NULL);
    xmppc_conn_unref(c);
}

static void test_login_starttls(void)
{
    login_and_out(false);
}

static void test_login_direct_tls(void)
{
    login_and_out(true);
}

static void test_wrong_password_is_eauth(void)
{
    xmppc_conn *c = new_conn(user(0), "not-the-password", false);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 10000), XMPPC_EAUTH);
    XT_EQ_STR(xmppc_error_last()->condition, "not-authorized");
    XT_CHECK(xmppc_conn_get_error(c) &&
             xmppc_conn_get_error(c)->code == XMPPC_EAUTH);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static void test_wrong_certificate_name_is_ecert(void)
{
    char jid[256];
    snprintf(jid, sizeof jid, "alice@%s", env("XMPPC_TEST_BADCERT_DOMAIN"));
    xmppc_conn *c = new_conn(jid, "whatever", false);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 10000), XMPPC_ECERT);
    printf("# %s\n", xmppc_error_last()->message);
    XT_CHECK(strstr(xmppc_error_last()->message,
                    env("XMPPC_TEST_BADCERT_DOMAIN")) != NULL);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static void test_closed_port_is_econnect(void)
{
    /* A port that was free a moment ago: nothing listens there. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &len);
    close(s);
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, user(0), "x"), 0);
    XT_EQ_INT(xmppc_conn_set_server(c, "127.0.0.1", ntohs(a.sin_port)), 0);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 5000), XMPPC_ECONNECT);
    printf("# %s\n", xmppc_error_last()->message);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

struct inbox {
    int count;
    char body[256];
    char from[256];
};

static int on_message(xmppc_conn *conn, xmppc_stanza *stanza, void *userdata)
{
    struct inbox *in = userdata;
    (void)conn;
    const char *body = xmppc_message_get_body(stanza);
    if (!body)
        return XMPPC_CONTINUE;
    in->count++;
    snprintf(in->body, sizeof in->body, "%s", body);
    snprintf(in->from, sizeof in->from, "%s",
             xmppc_stanza_get_from(stanza) ? xmppc_stanza_get_from(stanza)
                                           : "");
    return XMPPC_HANDLED;
}

static void test_message_round_trip(void)
{
    xmppc_conn *a = new_conn(user(0), env("XMPPC_TEST_PASSWORD"), false);
    xmppc_conn *b = new_conn(user(1), env("XMPPC_TEST_PASSWORD"), true);
    struct inbox in = {0};
    XT_EQ_INT(xmppc_conn_add_handler(b, NULL, "message", NULL, NULL, on_message,
                                     &in, NULL),
              0);
    XT_EQ_INT(xmppc_conn_connect_sync(a, 10000), 0);
    XT_EQ_INT(xmppc_conn_connect_sync(b, 10000), 0);
    /* Available presence so the server routes to b's resource. */
    xmppc_stanza *pres = NULL;
    XT_EQ_INT(xmppc_presence_new(&pres, NULL, NULL), 0);
    XT_EQ_INT(xmppc_conn_send(b, pres), 0);
    xmppc_stanza_unref(pres);
    XT_EQ_INT(xmppc_conn_flush_sync(b, 1, 5000), 0);

    XT_EQ_INT(
        xmppc_chat_send_text(a, xmppc_conn_get_bound_jid(b), "héllo <b> & 'c'"),
        0);
    XT_EQ_INT(xmppc_conn_flush_sync(a, 1, 5000), 0);
    /* Drive b until the message arrives (its own loop, bounded). */
    for (int i = 0; i < 50 && in.count == 0; i++) {
        xmppc_stanza *ping = NULL, *reply = NULL;
        XT_EQ_INT(xmppc_iq_new(&ping, "get", env("XMPPC_TEST_DOMAIN"), NULL),
                  0);
        xmppc_stanza_add_text_child(ping, "ping", "urn:xmpp:ping", NULL);
        xmppc_conn_send_iq_sync(b, ping, 2000, &reply);
        xmppc_stanza_unref(reply);
        xmppc_stanza_unref(ping);
    }
    XT_EQ_INT(in.count, 1);
    XT_EQ_STR(in.body, "héllo <b> & 'c'");
    XT_CHECK(strncmp(in.from, user(0), strlen(user(0))) == 0);
    XT_EQ_INT(xmppc_conn_disconnect_sync(a, 5000), 0);
    XT_EQ_INT(xmppc_conn_disconnect_sync(b, 5000), 0);
    xmppc_conn_unref(a);
    xmppc_conn_unref(b);
}

static void test_iq_to_server(void)
{
    xmppc_conn *c = new_conn(user(2), env("XMPPC_TEST_PASSWORD"), false);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 10000), 0);
    xmppc_stanza *iq = NULL, *reply = NULL;
    XT_EQ_INT(xmppc_iq_new(&iq, "get", env("XMPPC_TEST_DOMAIN"), NULL), 0);
    XT_EQ_INT(
        xmppc_stanza_add_text_child(iq, "query", "jabber:iq:version", NULL), 0);
    XT_EQ_INT(xmppc_conn_send_iq_sync(c, iq, 5000, &reply), 0);
    const char *name = xmppc_stanza_get_child_text(
        xmppc_stanza_get_child(reply, "query", "jabber:iq:version"), "name",
        NULL);
    printf("# server software: %s\n", name ? name : "(none)");
    XT_CHECK(name != NULL);
    xmppc_stanza_unref(reply);
    xmppc_stanza_unref(iq);
    /* An error reply comes back as XMPPC_ESTANZA with its condition. */
    XT_EQ_INT(xmppc_iq_new(&iq, "get", env("XMPPC_TEST_DOMAIN"), NULL), 0);
    XT_EQ_INT(
        xmppc_stanza_add_text_child(iq, "nonsense", "urn:xmppc:none", NULL), 0);
    XT_EQ_INT(xmppc_conn_send_iq_sync(c, iq, 5000, &reply), XMPPC_ESTANZA);
    XT_CHECK(xmppc_error_last()->condition != NULL);
    printf("# unknown payload: %s\n", xmppc_error_last()->message);
    xmppc_stanza_unref(iq);
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

/* Collects log messages so a test can check what was negotiated. */
struct captured {
    char text[16384];
    size_t len;
};

static void capture_log(xmppc_conn *conn, xmppc_log_level level,
                        const char *area, const char *message, void *userdata)
{
    struct captured *cap = userdata;
    (void)conn;
    (void)level;
    int n = snprintf(cap->text + cap->len, sizeof cap->text - cap->len,
                     "[%s] %s\n", area, message);
    if (n > 0 && cap->len + (size_t)n < sizeof cap->text)
        cap->len += (size_t)n;
}

/* The mechanism each server negotiates with us, over TLS 1.3. */
static void test_sasl_mechanism_over_tls13(void)
{
    struct captured cap = {0};
    xmppc_conn *c = new_conn(user(0), env("XMPPC_TEST_PASSWORD"), false);
    xmppc_conn_set_log_cb(c, capture_log, &cap, XMPPC_LOG_DEBUG);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 10000), 0);
    /* ejabberd offers SCRAM-SHA-256 (and -PLUS, unusable on TLS 1.3
     * without XEP-0440); Prosody 0.12 offers SCRAM-SHA-1. */
    bool ejabberd = strcmp(env("XMPPC_TEST_SERVER"), "ejabberd") == 0;
    const char *want = ejabberd ? "with SCRAM-SHA-256\n" : "with SCRAM-SHA-1\n";
    XT_CHECK(strstr(cap.text, want) != NULL);
    XT_CHECK(strstr(cap.text, "TLS1.3") != NULL);
    if (!strstr(cap.text, want))
        printf("# log:\n%s", cap.text);
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    xmppc_conn_unref(c);
}

/* TLS 1.2: both servers offer -PLUS with tls-unique, which we use. */
static void test_channel_binding_over_tls12(void)
{
    struct captured cap = {0};
    xmppc_conn *c = new_conn(user(1), env("XMPPC_TEST_PASSWORD"), false);
    xmppc__conn_set_max_tls12(c, true);
    xmppc_conn_set_log_cb(c, capture_log, &cap, XMPPC_LOG_DEBUG);
    int rc = xmppc_conn_connect_sync(c, 10000);
    if (rc < 0)
        printf("# %s\n", xmppc_error_last()->message);
    XT_EQ_INT(rc, 0);
    XT_CHECK(strstr(cap.text, "TLS1.2") != NULL);
    XT_CHECK(strstr(cap.text, "-PLUS over tls-unique") != NULL);
    if (!strstr(cap.text, "-PLUS over tls-unique"))
        printf("# log:\n%s", cap.text);
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    xmppc_conn_unref(c);
}

/* xmppc_conn_post(): the one call allowed from another thread. The posted
 * function runs on the thread that drives the connection. */
struct post_check {
    xmppc_conn *conn;
    pthread_t loop_thread;
    int ran_on_loop_thread;
    int runs;
};

static void posted(xmppc_conn *conn, void *userdata)
{
    struct post_check *pc = userdata;
    pc->runs++;
    pc->ran_on_loop_thread = pthread_equal(pthread_self(), pc->loop_thread);
    /* Sent from a posted function: must leave without other traffic. */
    xmppc_stanza *presence = NULL;
    xmppc_presence_new(&presence, NULL, NULL);
    xmppc_conn_send(conn, presence);
    xmppc_stanza_unref(presence);
    xmppc_conn_stop(conn);
}

static void *poster(void *arg)
{
    struct post_check *pc = arg;
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL); /* let the loop go to sleep in epoll_wait */
    xmppc_conn_post(pc->conn, posted, pc);
    return NULL;
}

static void test_post_from_another_thread(void)
{
    xmppc_conn *c = new_conn(user(2), env("XMPPC_TEST_PASSWORD"), false);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 10000), 0);
    struct post_check pc = {c, pthread_self(), 0, 0};
    pthread_t t;
    XT_EQ_INT(pthread_create(&t, NULL, poster, &pc), 0);
    /* Returns only when the posted function stops it. */
    XT_EQ_INT(xmppc_conn_run(c), 0);
    pthread_join(t, NULL);
    XT_EQ_INT(pc.runs, 1);
    XT_CHECK(pc.ran_on_loop_thread);
    XT_EQ_INT(xmppc_conn_flush_sync(c, 0, 3000), 0); /* written, no ack */
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_READY);
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    xmppc_conn_unref(c);
}

/* Two connections on one built-in loop: both connect through the state
 * machine (no blocking helper), then exchange a message each way. */
struct pair {
    xmppc_loop *loop;
    xmppc_conn *a, *b;
    int ready;
    struct inbox in_a, in_b;
};

static void pair_state(xmppc_conn *conn, xmppc_conn_state state,
                       const xmppc_error *err, void *userdata)
{
    struct pair *p = userdata;
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

static void test_two_connections_one_loop(void)
{
    struct pair p = {0};
    XT_EQ_INT(xmppc_loop_new(&p.loop), 0);
    p.a = new_conn(user(0), env("XMPPC_TEST_PASSWORD"), true);
    p.b = new_conn(user(1), env("XMPPC_TEST_PASSWORD"), false);
    xmppc_conn *both[2] = {p.a, p.b};
    struct inbox *boxes[2] = {&p.in_a, &p.in_b};
    for (int i = 0; i < 2; i++) {
        xmppc_conn_set_state_cb(both[i], pair_state, &p);
        XT_EQ_INT(xmppc_conn_add_handler(both[i], NULL, "message", "chat", NULL,
                                         on_message, boxes[i], NULL),
                  0);
        XT_EQ_INT(xmppc_loop_add(p.loop, both[i]), 0);
        XT_EQ_INT(xmppc_conn_connect(both[i]), 0);
    }
    for (int i = 0; i < 500 && p.ready < 2; i++)
        xmppc_loop_run_once(p.loop, 50);
    XT_EQ_INT(p.ready, 2);
    XT_EQ_INT(xmppc_chat_send_text(p.a, xmppc_conn_get_bound_jid(p.b), "a->b"),
              0);
    XT_EQ_INT(xmppc_chat_send_text(p.b, xmppc_conn_get_bound_jid(p.a), "b->a"),
              0);
    for (int i = 0; i < 500 && (p.in_a.count == 0 || p.in_b.count == 0); i++)
        xmppc_loop_run_once(p.loop, 50);
    XT_EQ_STR(p.in_b.body, "a->b");
    XT_EQ_STR(p.in_a.body, "b->a");
    xmppc_conn_disconnect(p.a);
    xmppc_conn_disconnect(p.b);
    /* xmppc_loop_run returns once no connection is active. */
    XT_EQ_INT(xmppc_loop_run(p.loop), 0);
    XT_EQ_INT(xmppc_conn_get_state(p.a), XMPPC_STATE_DISCONNECTED);
    XT_EQ_INT(xmppc_conn_get_state(p.b), XMPPC_STATE_DISCONNECTED);
    xmppc_loop_free(p.loop);
    xmppc_conn_unref(p.a);
    xmppc_conn_unref(p.b);
}

/* Apps need not store the password: the SCRAM key of one login logs in
 * again without it; a tampered key is refused. */
static void test_login_with_scram_key(void)
{
    xmppc_conn *c = new_conn(user(3), env("XMPPC_TEST_PASSWORD"), false);
    char *key = NULL;
    XT_EQ_INT(xmppc_conn_get_scram_key(c, &key), XMPPC_ESTATE);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 10000), 0);
    XT_EQ_INT(xmppc_conn_get_scram_key(c, &key), 0);
    XT_CHECK(key && strncmp(key, "scram-sha-", 10) == 0);
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    xmppc_conn_unref(c);

    xmppc_conn *again = new_conn(user(3), NULL, true);
    XT_EQ_INT(xmppc_conn_set_scram_key(again, key), 0);
    int rc = xmppc_conn_connect_sync(again, 10000);
    if (rc < 0)
        printf("# %s\n", xmppc_error_last()->message);
    if (strcmp(env("XMPPC_TEST_SERVER"), "ejabberd") == 0) {
        /* ejabberd with plain password storage draws a new salt for every
         * exchange, so no cached key can match; that must be said. */
        XT_EQ_INT(rc, XMPPC_EAUTH);
        XT_CHECK(strstr(xmppc_error_last()->message, "password is needed"));
    } else {
        XT_EQ_INT(rc, 0);
        XT_EQ_INT(xmppc_conn_disconnect_sync(again, 5000), 0);
    }
    xmppc_conn_unref(again);

    /* Flip the last hex digit of the salted password. */
    size_t n = strlen(key);
    key[n - 1] = key[n - 1] == '0' ? '1' : '0';
    xmppc_conn *bad = new_conn(user(3), NULL, false);
    XT_EQ_INT(xmppc_conn_set_scram_key(bad, key), 0);
    XT_EQ_INT(xmppc_conn_connect_sync(bad, 10000), XMPPC_EAUTH);
    xmppc_conn_unref(bad);
    XT_EQ_INT(xmppc_conn_set_scram_key(bad = NULL, "x"), XMPPC_EINVAL);
    xmppc_conn *c2 = new_conn(user(3), NULL, false);
    XT_EQ_INT(xmppc_conn_set_scram_key(c2, "scram-sha-1:0:abc:00"),
              XMPPC_EINVAL);
    xmppc_conn_unref(c2);
    memset(key, 0, n);
    xmppc_free(key);
    xmppc_error_clear();
}

/* An application loop on poll(), driven only by the watch and timer
 * callbacks (push-style timers, no xmppc_conn_timeout_ms()). */
struct app_loop {
    struct pollfd fds[32];
    xmppc_conn *owner[32];
    int nfds;
    xmppc_conn *timed[2];
    uint64_t due[2]; /* 0 = no timer */
    int timer_calls;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int app_watch(xmppc_conn *conn, xmppc_socket fd, unsigned int events,
                     void *userdata)
{
    struct app_loop *l = userdata;
    int i = 0;
    while (i < l->nfds && l->fds[i].fd != fd)
        i++;
    if (events == 0) {
        if (i < l->nfds) {
            l->fds[i] = l->fds[--l->nfds];
            l->owner[i] = l->owner[l->nfds];
        }
        return 0;
    }
    if (i == l->nfds && l->nfds == 32)
        return -1;
    if (i == l->nfds)
        l->nfds++;
    l->fds[i].fd = fd;
    l->fds[i].events = (short)((events & XMPPC_IO_READ ? POLLIN : 0) |
                               (events & XMPPC_IO_WRITE ? POLLOUT : 0));
    l->owner[i] = conn;
    return 0;
}

static int app_timer(xmppc_conn *conn, int timeout_ms, void *userdata)
{
    struct app_loop *l = userdata;
    l->timer_calls++;
    int k = l->timed[0] == conn ? 0 : 1;
    l->timed[k] = conn;
    l->due[k] = timeout_ms < 0 ? 0 : mono_ms() + (uint64_t)timeout_ms;
    return 0;
}

static void app_run_once(struct app_loop *l, int max_wait)
{
    uint64_t now = mono_ms();
    int wait = max_wait;
    for (int k = 0; k < 2; k++)
        if (l->due[k]) {
            int left = l->due[k] <= now ? 0 : (int)(l->due[k] - now);
            if (left < wait)
                wait = left;
        }
    struct pollfd fds[32];
    xmppc_conn *owner[32];
    int n = l->nfds;
    memcpy(fds, l->fds, sizeof fds);
    memcpy(owner, l->owner, sizeof owner);
    if (poll(fds, (nfds_t)n, wait) > 0)
        for (int i = 0; i < n; i++)
            if (fds[i].revents)
                xmppc_conn_process_fd(
                    owner[i], fds[i].fd,
                    (fds[i].revents & (POLLIN | POLLERR | POLLHUP)
                         ? XMPPC_IO_READ
                         : 0u) |
                        (fds[i].revents & POLLOUT ? XMPPC_IO_WRITE : 0u));
    now = mono_ms();
    for (int k = 0; k < 2; k++)
        if (l->due[k] && l->due[k] <= now) {
            l->due[k] = 0;
            xmppc_conn_process_timeout(l->timed[k]);
        }
}

static int swallow_iq(xmppc_conn *conn, xmppc_stanza *stanza, void *userdata)
{
    (void)conn;
    (void)stanza;
    ++*(int *)userdata;
    return XMPPC_HANDLED; /* handled, and never answered */
}

struct iq_outcome {
    int calls;
    int code;
};

static void iq_done(xmppc_conn *conn, xmppc_stanza *reply,
                    const xmppc_error *err, void *userdata)
{
    struct iq_outcome *o = userdata;
    (void)conn;
    (void)reply;
    o->calls++;
    o->code = err ? err->code : 0;
}

static void test_iq_timeout_with_push_timers(void)
{
    struct app_loop l = {0};
    xmppc_conn *a = new_conn(user(0), env("XMPPC_TEST_PASSWORD"), false);
    xmppc_conn *b = new_conn(user(1), env("XMPPC_TEST_PASSWORD"), false);
    int swallowed = 0;
    XT_EQ_INT(xmppc_conn_add_handler(b, NULL, "iq", "get", "urn:xmppc:test",
                                     swallow_iq, &swallowed, NULL),
              0);
    XT_EQ_INT(xmppc_conn_set_io_callbacks(a, app_watch, app_timer, &l), 0);
    XT_EQ_INT(xmppc_conn_set_io_callbacks(b, app_watch, app_timer, &l), 0);
    /* Blocking helpers refuse connections with application callbacks. */
    XT_EQ_INT(xmppc_conn_connect_sync(a, 100), XMPPC_ESTATE);
    XT_EQ_INT(xmppc_conn_connect(a), 0);
    XT_EQ_INT(xmppc_conn_connect(b), 0);
    for (int i = 0; i < 400 && (xmppc_conn_get_state(a) != XMPPC_STATE_READY ||
                                xmppc_conn_get_state(b) != XMPPC_STATE_READY);
         i++)
        app_run_once(&l, 50);
    XT_EQ_INT(xmppc_conn_get_state(a), XMPPC_STATE_READY);
    XT_EQ_INT(xmppc_conn_get_state(b), XMPPC_STATE_READY);

    xmppc_stanza *iq = NULL;
    XT_EQ_INT(xmppc_iq_new(&iq, "get", xmppc_conn_get_bound_jid(b), NULL), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(iq, "q", "urn:xmppc:test", NULL), 0);
    struct iq_outcome out = {0};
    uint64_t start = mono_ms();
    XT_EQ_INT(xmppc_conn_send_iq(a, iq, 300, iq_done, &out, NULL), 0);
    xmppc_stanza_unref(iq);
    while (out.calls == 0 && mono_ms() - start < 5000)
        app_run_once(&l, 1000); /* long waits: only the timer ends them */
    XT_EQ_INT(swallowed, 1);
    XT_EQ_INT(out.calls, 1);
    XT_EQ_INT(out.code, XMPPC_ETIMEDOUT);
    uint64_t took = mono_ms() - start;
    printf("# iq timed out after %llu ms (timer calls: %d)\n",
           (unsigned long long)took, l.timer_calls);
    XT_CHECK(took >= 290 && took < 1500);
    xmppc_conn_disconnect(a);
    xmppc_conn_disconnect(b);
    for (int i = 0;
         i < 200 && (xmppc_conn_get_state(a) != XMPPC_STATE_DISCONNECTED ||
                     xmppc_conn_get_state(b) != XMPPC_STATE_DISCONNECTED);
         i++)
        app_run_once(&l, 50);
    XT_EQ_INT(out.calls, 1); /* exactly once, also after the disconnect */
    xmppc_conn_unref(a);
    xmppc_conn_unref(b);
    XT_EQ_INT(l.nfds, 0); /* every descriptor was withdrawn */
}

/* ---- through DNS (run as `test-conn srv` under srv_login.py) ------------- */

static void srv_login(bool direct, const char *expect)
{
    char jid[600];
    struct captured cap = {0};
    char users[256];
    snprintf(users, sizeof users, "%s", env("XMPPC_TEST_USERS"));
    users[strcspn(users, " ")] = '\0';
    snprintf(jid, sizeof jid, "%s@%s", users, env("XMPPC_TEST_DOMAIN2"));
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, jid, env("XMPPC_TEST_PASSWORD")), 0);
    XT_EQ_INT(xmppc_conn_set_dns_servers(c, env("XMPPC_TEST_DNS_SERVER")), 0);
    XT_EQ_INT(xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")), 0);
    XT_EQ_INT(xmppc_conn_set_direct_tls(c, direct), 0);
    xmppc_conn_set_log_cb(c, capture_log, &cap, XMPPC_LOG_DEBUG);
    int rc = xmppc_conn_connect_sync(c, 15000);
    if (rc < 0)
        printf("# %s\n", xmppc_error_last()->message);
    XT_EQ_INT(rc, 0);
    XT_CHECK(strstr(cap.text, expect) != NULL);
    if (!strstr(cap.text, expect))
        printf("# log:\n%s", cap.text);
    XT_EQ_INT(xmppc_conn_disconnect_sync(c, 5000), 0);
    xmppc_conn_unref(c);
}

static void test_srv_prefers_direct_tls(void)
{
    char expect[64];
    snprintf(expect, sizeof expect, "connected to 127.0.0.1:%s (direct TLS)",
             env("XMPPC_TEST_TLS_PORT"));
    srv_login(true, expect);
}

/* Without direct TLS only _xmpp-client is used; its target's ::1 refuses
 * and 127.0.0.1 answers. */
static void test_srv_starttls_falls_back_to_ipv4(void)
{
    char expect[64];
    snprintf(expect, sizeof expect, "connected to 127.0.0.1:%s\n",
             env("XMPPC_TEST_PORT"));
    srv_login(false, expect);
}

static void test_srv_not_offered_is_edns(void)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "someone@nothere.test", "x"), 0);
    XT_EQ_INT(xmppc_conn_set_dns_servers(c, env("XMPPC_TEST_DNS_SERVER")), 0);
    XT_EQ_INT(xmppc_conn_set_direct_tls(c, 1), 0);
    XT_EQ_INT(xmppc_conn_connect_sync(c, 15000), XMPPC_EDNS);
    printf("# %s\n", xmppc_error_last()->message);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "srv") == 0) {
        static const xt_test srv_tests[] = {
            XT_TEST(test_srv_prefers_direct_tls),
            XT_TEST(test_srv_starttls_falls_back_to_ipv4),
            XT_TEST(test_srv_not_offered_is_edns)};
        return xt_run(srv_tests, sizeof srv_tests / sizeof srv_tests[0]);
    }
    static const xt_test tests[] = {
        XT_TEST(test_login_starttls),
        XT_TEST(test_login_direct_tls),
        XT_TEST(test_wrong_password_is_eauth),
        XT_TEST(test_wrong_certificate_name_is_ecert),
        XT_TEST(test_closed_port_is_econnect),
        XT_TEST(test_message_round_trip),
        XT_TEST(test_iq_to_server),
        XT_TEST(test_sasl_mechanism_over_tls13),
        XT_TEST(test_channel_binding_over_tls12),
        XT_TEST(test_post_from_another_thread),
        XT_TEST(test_two_connections_one_loop),
        XT_TEST(test_login_with_scram_key),
        XT_TEST(test_iq_timeout_with_push_timers)};
    return xt_run(tests, sizeof tests / sizeof tests[0]);
}
