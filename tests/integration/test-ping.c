/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Ping (XEP-0199), Software Version (XEP-0092) and Entity Time (XEP-0202)
 * against the private server started by tests/fixtures/xmppc_fixture.py
 * (Prosody or ejabberd) and between two of our own connections, through
 * the public API only, on the built-in loop. Runs only under the fixture.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "../xtest.h"
#include "live.h"

static bool is_ejabberd(void)
{
    const char *s = getenv("XMPPC_TEST_SERVER");
    return s && strcmp(s, "ejabberd") == 0;
}

static xmppc_loop *loop;
static xmppc_conn *conn_a, *conn_b;

static xmppc_conn *new_conn(int i)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, user(i), env("XMPPC_TEST_PASSWORD")), 0);
    XT_EQ_INT(xmppc_conn_set_server(c, env("XMPPC_TEST_HOST"),
                                    (unsigned)atoi(env("XMPPC_TEST_PORT"))),
              0);
    XT_EQ_INT(xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")), 0);
    XT_EQ_INT(xmppc_conn_set_connect_timeout(c, 15000), 0);
    return c;
}

/* Runs the loop until *flag is set or @p ms pass. */
static void run_until(const int *flag, int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (flag && *flag)
            return;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el =
            (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= ms)
            return;
        xmppc_loop_run_once(loop, (int)(ms - el) < 50 ? (int)(ms - el) : 50);
    }
}

static void test_setup(void)
{
    XT_EQ_INT(xmppc_loop_new(&loop), 0);
    conn_a = new_conn(0);
    conn_b = new_conn(1);
    XT_EQ_INT(xmppc_loop_add(loop, conn_a), 0);
    XT_EQ_INT(xmppc_loop_add(loop, conn_b), 0);
    /* b's responders: enabled by getting the managers (before connecting,
     * so nothing is missed). */
    XT_CHECK(xmppc_ping_get(conn_b) != NULL);
    XT_EQ_INT(xmppc_softversion_set(xmppc_softversion_get(conn_b), "xmppc-it",
                                    "9.9", "TestOS"),
              0);
    XT_CHECK(xmppc_entitytime_get(conn_b) != NULL);
    XT_EQ_INT(xmppc_conn_connect(conn_a), 0);
    XT_EQ_INT(xmppc_conn_connect(conn_b), 0);
    for (int i = 0;
         i < 400 && (xmppc_conn_get_state(conn_a) != XMPPC_STATE_READY ||
                     xmppc_conn_get_state(conn_b) != XMPPC_STATE_READY);
         i++)
        xmppc_loop_run_once(loop, 50);
    XT_EQ_INT(xmppc_conn_get_state(conn_a), XMPPC_STATE_READY);
    XT_EQ_INT(xmppc_conn_get_state(conn_b), XMPPC_STATE_READY);
    if (xmppc_conn_get_state(conn_a) != XMPPC_STATE_READY ||
        xmppc_conn_get_state(conn_b) != XMPPC_STATE_READY) {
        printf("Bail out! could not log in: %s\n", xmppc_error_last()->message);
        exit(1);
    }
}

/* ---- ping ---------------------------------------------------------------- */

typedef struct pong {
    int done, code;
    unsigned int rtt;
    char condition[64];
} pong;

static void on_pong(xmppc_conn *c, unsigned int rtt, const xmppc_error *err,
                    void *ud)
{
    (void)c;
    pong *p = ud;
    p->done++;
    p->rtt = rtt;
    p->code = err ? err->code : 0;
    snprintf(p->condition, sizeof p->condition, "%s",
             err && err->condition ? err->condition : "");
}

static void test_ping_server(void)
{
    pong p = {0};
    XT_EQ_INT(
        xmppc_ping_send(xmppc_ping_get(conn_a), NULL, 5000, on_pong, &p, NULL),
        0);
    run_until(&p.done, 6000);
    XT_EQ_INT(p.done, 1);
    XT_EQ_INT(p.code, 0);
    XT_CHECK(p.rtt < 5000);
    printf("# server ping rtt %u ms\n", p.rtt);
}

static void test_ping_peer(void)
{
    pong p = {0};
    XT_EQ_INT(xmppc_ping_send(xmppc_ping_get(conn_a),
                              xmppc_conn_get_bound_jid(conn_b), 5000, on_pong,
                              &p, NULL),
              0);
    run_until(&p.done, 6000);
    XT_EQ_INT(p.done, 1);
    XT_EQ_INT(p.code, 0);
    printf("# peer ping rtt %u ms\n", p.rtt);
}

/* ---- version ------------------------------------------------------------- */

typedef struct ver {
    int done, code;
    char name[128], version[128], os[128];
} ver;

static void on_version(xmppc_conn *c, const char *name, const char *version,
                       const char *os, const xmppc_error *err, void *ud)
{
    (void)c;
    ver *v = ud;
    v->done++;
    v->code = err ? err->code : 0;
    snprintf(v->name, sizeof v->name, "%s", name ? name : "(null)");
    snprintf(v->version, sizeof v->version, "%s", version ? version : "(null)");
    snprintf(v->os, sizeof v->os, "%s", os ? os : "(null)");
    if (err)
        printf("# version: %s\n", err->message);
}

static void test_version_server(void)
{
    ver v = {0};
    XT_EQ_INT(xmppc_softversion_get_remote(xmppc_softversion_get(conn_a), NULL,
                                           5000, on_version, &v, NULL),
              0);
    run_until(&v.done, 6000);
    XT_EQ_INT(v.done, 1);
    XT_EQ_INT(v.code, 0);
    printf("# server: %s %s (%s)\n", v.name, v.version, v.os);
    XT_EQ_STR(v.name, is_ejabberd() ? "ejabberd" : "Prosody");
    XT_CHECK(strcmp(v.version, "(null)") != 0);
}

static void test_version_peer(void)
{
    ver v = {0};
    XT_EQ_INT(xmppc_softversion_get_remote(xmppc_softversion_get(conn_a),
                                           xmppc_conn_get_bound_jid(conn_b),
                                           5000, on_version, &v, NULL),
              0);
    run_until(&v.done, 6000);
    XT_EQ_INT(v.done, 1);
    XT_EQ_INT(v.code, 0);
    XT_EQ_STR(v.name, "xmppc-it");
    XT_EQ_STR(v.version, "9.9");
    XT_EQ_STR(v.os, "TestOS");
}

/* ---- entity time --------------------------------------------------------- */

typedef struct when {
    int done, code;
    long long secs;
    char tzo[16], condition[64];
} when;

static void on_time(xmppc_conn *c, long long secs, const char *tzo,
                    const xmppc_error *err, void *ud)
{
    (void)c;
    when *w = ud;
    w->done++;
    w->code = err ? err->code : 0;
    w->secs = secs;
    snprintf(w->tzo, sizeof w->tzo, "%s", tzo ? tzo : "(null)");
    snprintf(w->condition, sizeof w->condition, "%s",
             err && err->condition ? err->condition : "");
    if (err)
        printf("# time: %s\n", err->message);
}

static void check_time(const when *w)
{
    long long now = (long long)time(NULL);
    XT_CHECK(w->secs > now - 300 && w->secs < now + 300);
    XT_CHECK(strlen(w->tzo) == 6 && (w->tzo[0] == '+' || w->tzo[0] == '-'));
}

static void test_time_server(void)
{
    when w = {0};
    XT_EQ_INT(xmppc_entitytime_get_remote(xmppc_entitytime_get(conn_a), NULL,
                                          5000, on_time, &w, NULL),
              0);
    run_until(&w.done, 6000);
    XT_EQ_INT(w.done, 1);
    if (is_ejabberd() && w.code == XMPPC_ESTANZA) {
        /* ejabberd has no XEP-0202 module for the server itself: it
         * answers with a stanza error, a valid outcome. */
        printf("# ejabberd: entity time refused with %s\n", w.condition);
        XT_CHECK(strcmp(w.condition, "service-unavailable") == 0 ||
                 strcmp(w.condition, "feature-not-implemented") == 0);
        return;
    }
    XT_EQ_INT(w.code, 0);
    printf("# server time %lld tzo %s\n", w.secs, w.tzo);
    check_time(&w);
}

static void test_time_peer(void)
{
    when w = {0};
    XT_EQ_INT(xmppc_entitytime_get_remote(xmppc_entitytime_get(conn_a),
                                          xmppc_conn_get_bound_jid(conn_b),
                                          5000, on_time, &w, NULL),
              0);
    run_until(&w.done, 6000);
    XT_EQ_INT(w.done, 1);
    XT_EQ_INT(w.code, 0);
    check_time(&w);
}

/* ---- keepalive ----------------------------------------------------------- */

static void on_dead(xmppc_conn *c, unsigned int silence_ms, void *ud)
{
    (void)c;
    printf("# declared dead after %u ms\n", silence_ms);
    ++*(int *)ud;
}

static void test_keepalive_live_server(void)
{
    int dead = 0;
    xmppc_ping *p = xmppc_ping_get(conn_a);
    XT_EQ_INT(xmppc_ping_set_dead_cb(p, on_dead, &dead, NULL), 0);
    /* Several intervals with nothing else going on: the wake-ups come back
     * through the server, pings are answered, nobody dies. */
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 150, 1500), 0);
    run_until(NULL, 1200);
    XT_CHECK(dead == 0);
    XT_EQ_INT(dead, 0);
    XT_EQ_INT(xmppc_conn_get_state(conn_a), XMPPC_STATE_READY);
    /* And the connection still works. */
    pong q = {0};
    XT_EQ_INT(xmppc_ping_send(p, NULL, 5000, on_pong, &q, NULL), 0);
    run_until(&q.done, 6000);
    XT_EQ_INT(q.code, 0);
    XT_EQ_INT(xmppc_ping_set_keepalive(p, 0, 0), 0);
    XT_EQ_INT(xmppc_ping_set_dead_cb(p, NULL, NULL, NULL), 0);
}

static void test_teardown(void)
{
    xmppc_conn_disconnect(conn_a);
    xmppc_conn_disconnect(conn_b);
    run_until(NULL, 0);
    for (int i = 0;
         i < 100 && (xmppc_conn_get_state(conn_a) != XMPPC_STATE_DISCONNECTED ||
                     xmppc_conn_get_state(conn_b) != XMPPC_STATE_DISCONNECTED);
         i++)
        xmppc_loop_run_once(loop, 50);
    xmppc_loop_free(loop);
    xmppc_conn_unref(conn_a);
    xmppc_conn_unref(conn_b);
    xmppc_error_clear();
}

int main(void)
{
    /* The tests share the two connections (opened by the first, closed by
     * the last), so the leak check covers the whole run, not each test. */
    static const xt_test tests[] = {
        XT_TEST(test_setup),        XT_TEST(test_ping_server),
        XT_TEST(test_ping_peer),    XT_TEST(test_version_server),
        XT_TEST(test_version_peer), XT_TEST(test_time_server),
        XT_TEST(test_time_peer),    XT_TEST(test_keepalive_live_server),
        XT_TEST(test_teardown)};
    size_t n = sizeof tests / sizeof tests[0];
    size_t live_before = xmppc_alloc_live_blocks();
    int failed = 0;
    printf("1..%zu\n", n);
    for (size_t i = 0; i < n; i++) {
        xt_current_failed = 0;
        tests[i].fn();
        if (i == n - 1 && xmppc_alloc_live_blocks() != live_before)
            XT_FAIL_AT(__FILE__, __LINE__, "leaked %zu libxmppc blocks",
                       xmppc_alloc_live_blocks() - live_before);
        printf("%sok %zu - %s\n", xt_current_failed ? "not " : "", i + 1,
               tests[i].name);
        fflush(stdout);
        failed += xt_current_failed;
    }
    return failed ? 1 : 0;
}
