/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * XMPP Ping (XEP-0199): responder, pings with round-trip times, keepalive.
 * Written on the public stanza and connection API only.
 *
 * The keepalive is a small state machine:
 *   waiting   -> (timer) -> silent long enough? ping the server
 *                           : wait again
 *   pinging   -> reply (result or error): traffic seen, wait again
 *             -> timeout: silent for dead_after_ms? dead : wait again
 * A dead connection is closed with XMPPC_ETIMEDOUT as its reason.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xmppc-private.h"
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/ping.h>
#include <xmppc/stanza.h>

struct xmppc_ping {
    xmppc_conn *conn;
    xmppc_handler *watcher;   /* catch-all: when the last stanza came */
    xmppc_handler *responder; /* iq get urn:xmpp:ping */
    /* keepalive */
    unsigned int interval_ms, dead_after_ms; /* interval 0 = off */
    unsigned int generation; /* bumped on every change: stale requests */
    bool running;            /* the wait timer or a ping is outstanding */
    uint64_t last_seen;
    xmppc_timer *wait; /* the keepalive's timer, or NULL */
    xmppc_ping_dead_cb dead_cb;
    void *dead_ud;
    xmppc_destroy_cb dead_destroy;
};

static const char ping_key = 0;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int new_ping_iq(xmppc_stanza **out, const char *to)
{
    xmppc_stanza *iq = NULL, *child = NULL;
    int rc = xmppc_iq_new(&iq, "get", to, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&child, "ping", XMPPC_NS_PING);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, child);
    xmppc_stanza_unref(child);
    if (rc < 0) {
        xmppc_stanza_unref(iq);
        return rc;
    }
    *out = iq;
    return 0;
}

/* ---- responder and watcher ---------------------------------------------- */

static int on_ping(xmppc_conn *conn, xmppc_stanza *iq, void *userdata)
{
    (void)userdata;
    xmppc_stanza *reply = NULL;
    if (xmppc_stanza_reply(&reply, iq) == 0) {
        xmppc_conn_send(conn, reply);
        xmppc_stanza_unref(reply);
    }
    return XMPPC_HANDLED;
}

static void keepalive_start(xmppc_ping *p);

static int on_any(xmppc_conn *conn, xmppc_stanza *stanza, void *userdata)
{
    xmppc_ping *p = userdata;
    (void)conn;
    (void)stanza;
    p->last_seen = now_ms();
    if (p->interval_ms && !p->running)
        keepalive_start(p);
    return XMPPC_CONTINUE;
}

/* ---- pings --------------------------------------------------------------- */

typedef struct ping_req {
    xmppc_ping_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
    uint64_t sent_at;
} ping_req;

static void ping_req_free(void *userdata)
{
    ping_req *r = userdata;
    if (r->destroy)
        r->destroy(r->userdata);
    xmppc__free(r);
}

static void ping_done(xmppc_conn *conn, xmppc_stanza *reply,
                      const xmppc_error *err, void *userdata)
{
    ping_req *r = userdata;
    (void)reply;
    unsigned int rtt = 0;
    if (!err || err->code == XMPPC_ESTANZA) {
        uint64_t d = now_ms() - r->sent_at;
        rtt = d > UINT32_MAX ? UINT32_MAX : (unsigned int)d;
    }
    r->cb(conn, rtt, err, r->userdata);
}

XMPPC_API int xmppc_ping_send(xmppc_ping *p, const char *jid,
                              unsigned int timeout_ms, xmppc_ping_cb cb,
                              void *userdata, xmppc_destroy_cb destroy)
{
    if (!p || !cb)
        return xmppc__error(XMPPC_EINVAL, "ping_send: %s is NULL",
                            p ? "cb" : "ping");
    xmppc_stanza *iq = NULL;
    int rc = new_ping_iq(&iq, xmppc__server_if_null(p->conn, jid));
    if (rc < 0)
        return rc;
    ping_req *r = xmppc__calloc(1, sizeof *r);
    if (!r) {
        xmppc_stanza_unref(iq);
        return XMPPC_ENOMEM;
    }
    *r = (ping_req){cb, userdata, destroy, now_ms()};
    rc = xmppc_conn_send_iq(p->conn, iq, timeout_ms, ping_done, r,
                            ping_req_free);
    xmppc_stanza_unref(iq);
    if (rc < 0)
        xmppc__free(r); /* not taken: the user's destroy is not called */
    return rc;
}

/* ---- keepalive ----------------------------------------------------------- */

typedef struct ka_req {
    xmppc_ping *p;
    unsigned int generation;
} ka_req;

static void ka_req_free(void *userdata)
{
    xmppc__free(userdata);
}

static void keepalive_tick(xmppc_ping *p);

static void declare_dead(xmppc_ping *p, uint64_t silence)
{
    p->running = false;
    p->generation++;
    if (p->dead_cb)
        p->dead_cb(p->conn,
                   silence > UINT32_MAX ? UINT32_MAX : (unsigned int)silence,
                   p->dead_ud);
    if (xmppc_conn_get_state(p->conn) != XMPPC_STATE_DISCONNECTED) {
        char why[96];
        snprintf(why, sizeof why,
                 "keepalive: no traffic from the server for %llu ms",
                 (unsigned long long)silence);
        xmppc_conn_close_with_error(p->conn, XMPPC_ETIMEDOUT, why);
    }
}

/* Is this callback about the keepalive as it is now? */
static xmppc_ping *current(ka_req *r, const xmppc_error *err)
{
    xmppc_ping *p = r->p;
    if (r->generation != p->generation)
        return NULL;
    if (err && err->code == XMPPC_ECANCELED) { /* disconnected or freed */
        p->running = false;
        return NULL;
    }
    return p;
}

static void on_wait_over(xmppc_conn *conn, void *userdata)
{
    xmppc_ping *p = userdata;
    (void)conn;
    xmppc_timer_free(p->wait); /* from its own callback: freed on return */
    p->wait = NULL;
    keepalive_tick(p);
}

static void stop_waiting(xmppc_ping *p)
{
    xmppc_timer_free(p->wait);
    p->wait = NULL;
}

static void ka_ping_done(xmppc_conn *conn, xmppc_stanza *reply,
                         const xmppc_error *err, void *userdata)
{
    (void)conn;
    (void)reply;
    xmppc_ping *p = current(userdata, err);
    if (!p)
        return;
    if (!err || err->code == XMPPC_ESTANZA)
        p->last_seen = now_ms();
    else if (err->code == XMPPC_ETIMEDOUT) {
        uint64_t silence = now_ms() - p->last_seen;
        if (silence >= p->dead_after_ms) {
            declare_dead(p, silence);
            return;
        }
    }
    keepalive_tick(p);
}

/* Pings the server, or waits @p ms; on failure the keepalive stops until
 * the next incoming stanza. */
static void ka_send(xmppc_ping *p, bool wait, unsigned int ms)
{
    int rc;
    if (wait) {
        stop_waiting(p);
        rc = xmppc_conn_add_timer(p->conn, &p->wait, ms, on_wait_over, p, NULL);
    } else {
        xmppc_stanza *iq = NULL;
        ka_req *r = NULL;
        rc = new_ping_iq(&iq, NULL);
        if (rc == 0 && !(r = xmppc__calloc(1, sizeof *r)))
            rc = XMPPC_ENOMEM;
        if (rc == 0) {
            *r = (ka_req){p, p->generation};
            rc = xmppc_conn_send_iq(p->conn, iq, ms, ka_ping_done, r,
                                    ka_req_free);
            if (rc < 0)
                xmppc__free(r);
        }
        xmppc_stanza_unref(iq);
    }
    p->running = rc == 0;
}

static void keepalive_tick(xmppc_ping *p)
{
    p->running = false;
    if (!p->interval_ms || xmppc_conn_get_state(p->conn) != XMPPC_STATE_READY)
        return;
    uint64_t silence = now_ms() - p->last_seen;
    if (silence >= p->dead_after_ms) {
        declare_dead(p, silence);
    } else if (silence >= p->interval_ms) {
        ka_send(p, false, (unsigned int)(p->dead_after_ms - silence));
    } else {
        ka_send(p, true, (unsigned int)(p->interval_ms - silence));
    }
}

static void keepalive_start(xmppc_ping *p)
{
    if (p->running || !p->interval_ms ||
        xmppc_conn_get_state(p->conn) != XMPPC_STATE_READY)
        return;
    keepalive_tick(p);
}

XMPPC_API int xmppc_ping_set_keepalive(xmppc_ping *p, unsigned int interval_ms,
                                       unsigned int dead_after_ms)
{
    if (!p)
        return xmppc__error(XMPPC_EINVAL, "ping_set_keepalive: ping is NULL");
    if (interval_ms && interval_ms < 10)
        return xmppc__error(XMPPC_EINVAL,
                            "ping_set_keepalive: interval %u ms is below 10",
                            interval_ms);
    if (interval_ms && dead_after_ms <= interval_ms)
        return xmppc__error(XMPPC_EINVAL,
                            "ping_set_keepalive: dead_after_ms (%u) must be "
                            "greater than interval_ms (%u)",
                            dead_after_ms, interval_ms);
    /* An outstanding keepalive ping cannot be withdrawn: it completes later
     * and is ignored as stale. */
    p->generation++;
    p->running = false;
    stop_waiting(p);
    p->interval_ms = interval_ms;
    p->dead_after_ms = interval_ms ? dead_after_ms : 0;
    p->last_seen = now_ms();
    keepalive_start(p);
    return 0;
}

XMPPC_API int xmppc_ping_set_dead_cb(xmppc_ping *p, xmppc_ping_dead_cb cb,
                                     void *userdata, xmppc_destroy_cb destroy)
{
    if (!p)
        return xmppc__error(XMPPC_EINVAL, "ping_set_dead_cb: ping is NULL");
    xmppc_destroy_cb old = p->dead_destroy;
    void *old_ud = p->dead_ud;
    p->dead_cb = cb;
    p->dead_ud = userdata;
    p->dead_destroy = destroy;
    if (old)
        old(old_ud);
    return 0;
}

/* ---- the manager --------------------------------------------------------- */

static void ping_free(void *data)
{
    xmppc_ping *p = data;
    xmppc_handler_free(p->watcher);
    xmppc_handler_free(p->responder);
    if (p->dead_destroy)
        p->dead_destroy(p->dead_ud);
    xmppc_timer_free(p->wait);
    xmppc__free(p);
}

XMPPC_API xmppc_ping *xmppc_ping_get(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "ping_get: conn is NULL");
        return NULL;
    }
    xmppc_ping *p = xmppc_conn_attached(conn, &ping_key);
    if (p)
        return p;
    p = xmppc__calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->conn = conn;
    p->last_seen = now_ms();
    if (xmppc_conn_add_handler(conn, &p->watcher, NULL, NULL, NULL, on_any, p,
                               NULL) < 0 ||
        xmppc_conn_add_handler(conn, &p->responder, "iq", "get", XMPPC_NS_PING,
                               on_ping, p, NULL) < 0 ||
        xmppc_conn_attach(conn, &ping_key, p, ping_free) < 0) {
        ping_free(p);
        return NULL;
    }
    /* Advertised through service discovery, as the XEP asks. */
    xmppc_disco *disco = xmppc_disco_get(conn);
    if (!disco || xmppc_disco_add_feature(disco, "urn:xmpp:ping") < 0)
        xmppc_conn_log(conn, XMPPC_LOG_WARN, "ping",
                       "cannot advertise urn:xmpp:ping in disco");
    return p;
}

XMPPC_API xmppc_conn *xmppc_ping_get_conn(const xmppc_ping *p)
{
    return p ? p->conn : NULL;
}
