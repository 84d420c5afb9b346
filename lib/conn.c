/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The connection: configuration, and the state machine from connect to
 * disconnected (resolve, happy-eyeballs connect, TLS, stream negotiation,
 * ready, graceful close), gluing dns.c, net.c, tls.c, stream.c and
 * dispatch.c together.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "conn-private.h"
#include "dispatch.h"
#include "dns.h"
#include "parser.h"
#include "stanza-private.h"
#include "stream.h"
#include "tls.h"
#include <xmppc/jid.h>

#define HAPPY_EYEBALLS_DELAY_MS 250 /* RFC 8305 "Connection Attempt Delay" */
#define GRACEFUL_CLOSE_MS 5000
#define READS_PER_EVENT 16 /* fairness between connections of one loop */
#define MAX_SEND_QUEUE (1024 * 1024)

static const char *const state_names[] = {
    "disconnected",   "resolving", "connecting", "securing",
    "authenticating", "binding",   "ready",      "disconnecting"};

XMPPC_API const char *xmppc_conn_state_name(xmppc_conn_state state)
{
    if ((unsigned)state < sizeof state_names / sizeof state_names[0])
        return state_names[state];
    return "unknown";
}

/* ---- lifetime ------------------------------------------------------------ */

static void conn_destroy(xmppc_conn *c);
static void drop_timers(xmppc_conn *c);
static void drop_state_listeners(xmppc_conn *c);
static void notify_state_listeners(xmppc_conn *c, xmppc_conn_state state,
                                   const xmppc_error *err);
static void fire_due_timers(xmppc_conn *c);
static uint64_t timer_deadline(const struct xmppc_timer *t);

void xmppc__conn_enter(xmppc_conn *c)
{
    c->busy++;
}

void xmppc__conn_leave(xmppc_conn *c)
{
    if (--c->busy > 0)
        return;
    if (c->free_pending) {
        conn_destroy(c);
        return;
    }
    /* Stanzas sent from callbacks whose path ends in no output pump
     * (posted functions, state callbacks...) leave once the socket is
     * writable, like any other send. */
    if (c->sock >= 0 && !c->want_write && !c->tls_handshaking && c->stream &&
        xmppc__stream_output(c->stream)->len > 0) {
        c->want_write = true;
        xmppc__io_watch(c, c->sock, XMPPC_IO_READ | XMPPC_IO_WRITE);
    }
}

XMPPC_API xmppc_conn *xmppc_conn_ref(xmppc_conn *c)
{
    if (c)
        c->refs++;
    return c;
}

XMPPC_API xmppc_conn *xmppc_conn_unref(xmppc_conn *c)
{
    if (c && --c->refs == 0) {
        if (c->busy)
            c->free_pending = true; /* inside a callback: free on unwind */
        else
            conn_destroy(c);
    }
    return NULL;
}

/* ---- state changes ------------------------------------------------------- */

static void set_state(xmppc_conn *c, xmppc_conn_state state,
                      const xmppc_error *err)
{
    if (c->state == state && !err)
        return;
    c->state = state;
    xmppc__log(&c->logger, err ? XMPPC_LOG_ERROR : XMPPC_LOG_INFO, "conn",
               "%s%s%s", state_names[state], err ? ": " : "",
               err ? err->message : "");
    if (c->state_cb)
        c->state_cb(c, state, err, c->state_ud);
    notify_state_listeners(c, state, err);
}

static void close_attempts(xmppc_conn *c, int keep_fd)
{
    for (size_t i = 0; i < c->nattempts; i++)
        if (c->attempts[i].fd != keep_fd) {
            xmppc__io_watch(c, c->attempts[i].fd, 0);
            xmppc__net_close(c->attempts[i].fd);
        }
    c->nattempts = 0;
    c->next_attempt_at = 0;
}

/* Releases everything of the current attempt and reports the end:
 * err NULL for a requested disconnect. */
static void teardown(xmppc_conn *c, const xmppc_error *err)
{
    if (c->state == XMPPC_STATE_DISCONNECTED)
        return;
    if (c->dns) {
        struct xmppc__dns *dns = c->dns;
        c->dns = NULL;
        xmppc__dns_free(dns);
    }
    close_attempts(c, -1);
    if (c->sock >= 0) {
        /* Best effort close_notify on a clean close; never wait for it. */
        if (!err && c->tls && !c->tls_handshaking &&
            xmppc__tls_bye(c->tls) == 0) {
            xmppc__buf *tls_out = xmppc__tls_outgoing(c->tls);
            xmppc__net_write(c->sock, tls_out->data, tls_out->len);
        }
        xmppc__io_watch(c, c->sock, 0);
        xmppc__net_close(c->sock);
        c->sock = -1;
    }
    xmppc__tls_free(c->tls);
    c->tls = NULL;
    c->tls_handshaking = false;
    xmppc__stream_free(c->stream);
    c->stream = NULL;
    xmppc_free(c->candidates);
    c->candidates = NULL;
    c->ncandidates = c->next_candidate = 0;
    xmppc__buf_free(&c->wbuf);
    c->want_write = false;
    c->connect_deadline = c->close_deadline = 0;
    if (err) {
        xmppc__error_store_set(&c->error, err->code, err->condition, err->type,
                               err->text, "%s", err->message);
        c->has_error = true;
    }
    /* Pending requests end now, exactly once, with ECANCELED. */
    xmppc__dispatch_cancel_pending(c->dispatch);
    set_state(c, XMPPC_STATE_DISCONNECTED, err ? &c->error.pub : NULL);
}

/* Ends the attempt with an error built from a printf format. */
static void fail(xmppc_conn *c, int code, const char *fmt, ...)
    XMPPC_PRINTF(3, 4);

static void fail(xmppc_conn *c, int code, const char *fmt, ...)
{
    xmppc__error_store store;
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(&store, code, NULL, NULL, NULL, fmt, ap);
    va_end(ap);
    teardown(c, &store.pub);
}

/* ---- output -------------------------------------------------------------- */

static void write_now(xmppc_conn *c)
{
    while (c->wbuf.len > 0) {
        long n = xmppc__net_write(c->sock, c->wbuf.data, c->wbuf.len);
        if (n == XMPPC_EAGAIN)
            break;
        if (n < 0) {
            fail(c, XMPPC_EIO, "%s", xmppc_error_last()->message);
            return;
        }
        xmppc__buf_consume(&c->wbuf, (size_t)n);
    }
    bool want = c->wbuf.len > 0;
    if (want != c->want_write) {
        c->want_write = want;
        xmppc__io_watch(c, c->sock,
                        XMPPC_IO_READ | (want ? XMPPC_IO_WRITE : 0));
    }
}

/* Moves the stream's plaintext through TLS (if any) to the socket. */
static void pump_output(xmppc_conn *c)
{
    if (c->sock < 0 || !c->stream)
        return;
    xmppc__buf *plain = xmppc__stream_output(c->stream);
    if (plain->len > 0 && !c->tls_handshaking) {
        int rc = 0;
        if (c->tls) {
            rc = xmppc__tls_write(c->tls, plain->data, plain->len);
            if (rc == 0)
                rc = xmppc__tls_flush(c->tls);
        } else {
            rc = xmppc__buf_append(&c->wbuf, plain->data, plain->len);
        }
        if (rc < 0) {
            fail(c, rc, "%s", xmppc_error_last()->message);
            return;
        }
        xmppc__buf_consume(plain, plain->len);
    }
    if (c->tls) {
        xmppc__buf *cipher = xmppc__tls_outgoing(c->tls);
        if (cipher->len > 0) {
            if (xmppc__buf_append(&c->wbuf, cipher->data, cipher->len) < 0) {
                fail(c, XMPPC_ENOMEM, "out of memory");
                return;
            }
            xmppc__buf_consume(cipher, cipher->len);
        }
    }
    write_now(c);
}

/* ---- stream hooks -------------------------------------------------------- */

static void stream_start_tls(void *ud)
{
    xmppc_conn *c = ud;
    c->starttls_pending = true; /* started once the reader unwinds */
}

static int stream_tls_version(void *ud)
{
    xmppc_conn *c = ud;
    const char *v = c->tls ? xmppc__tls_version(c->tls) : NULL;
    if (!v)
        return 0;
    return strcmp(v, "TLS1.3") == 0 ? 13 : strcmp(v, "TLS1.2") == 0 ? 12 : 0;
}

static int stream_channel_binding(void *ud, const char *type,
                                  unsigned char **data, size_t *len)
{
    xmppc_conn *c = ud;
    if (!c->tls)
        return XMPPC_ENOTSUP;
    return xmppc__tls_channel_binding(c->tls, type, data, len);
}

static void stream_state(void *ud, xmppc_conn_state state)
{
    xmppc_conn *c = ud;
    if (state == XMPPC_STATE_READY) {
        c->connect_deadline = 0;
        const char *key = xmppc__stream_scram_key(c->stream);
        if (key) {
            xmppc__free_secret(c->last_scram_key);
            c->last_scram_key = xmppc__strdup(key); /* NULL on ENOMEM */
        }
        xmppc__dispatch_set_own_jid(c->dispatch,
                                    xmppc__stream_bound_jid(c->stream));
    }
    set_state(c, state, NULL);
}

static void stream_stanza(void *ud, xmppc_stanza *stanza)
{
    xmppc_conn *c = ud;
    xmppc__dispatch_stanza(c->dispatch, stanza);
}

static void stream_closed(void *ud, const xmppc_error *err)
{
    xmppc_conn *c = ud;
    /* The stream cannot be freed from inside its own callback: note the
     * end and tear down once it has returned. */
    c->stream_ended = true;
    c->stream_end_has_error = err != NULL;
    if (err)
        xmppc__error_store_set(&c->stream_end, err->code, err->condition,
                               err->type, err->text, "%s", err->message);
}

static void start_tls_session(xmppc_conn *c, bool direct);

/* Runs after every call into the stream: acts on what it asked for. */
static void after_stream(xmppc_conn *c)
{
    if (c->stream_ended) {
        c->stream_ended = false;
        teardown(c, c->stream_end_has_error ? &c->stream_end.pub : NULL);
        return;
    }
    if (c->starttls_pending) {
        c->starttls_pending = false;
        start_tls_session(c, false);
        return;
    }
    pump_output(c);
}

static void feed_stream(xmppc_conn *c, const char *data, size_t len)
{
    xmppc__stream_feed(c->stream, data, len);
    after_stream(c);
}

static int begin_stream(xmppc_conn *c)
{
    static const xmppc__stream_hooks hooks = {
        stream_start_tls, stream_tls_version, stream_channel_binding,
        stream_state,     stream_stanza,      stream_closed};
    xmppc__stream_config cfg = {0};
    cfg.local = c->local;
    cfg.domain = c->domain;
    cfg.password = c->password;
    cfg.resource = c->resource;
    cfg.scram_key = c->scram_key;
    cfg.tls_required = c->tls_policy == XMPPC_TLS_REQUIRED;
    cfg.tls_active = c->sock_direct_tls;
    cfg.max_stanza_bytes = c->max_stanza_bytes;
    cfg.logger = &c->logger;
    return xmppc__stream_new(&c->stream, &cfg, &hooks, c);
}

/* ---- TLS ----------------------------------------------------------------- */

static int verify_bridge(void *ud, const xmppc__tls_peer_info *info)
{
    xmppc_conn *c = ud;
    return c->verify_cb(c, info->accepted ? 0 : XMPPC_ECERT,
                        info->reason ? info->reason : "", c->verify_ud)
               ? 1
               : 0;
}

static void continue_handshake(xmppc_conn *c)
{
    int rc = xmppc__tls_handshake(c->tls);
    if (rc == XMPPC_EAGAIN) {
        pump_output(c);
        return;
    }
    if (rc < 0) {
        char message[1024];
        snprintf(message, sizeof message, "%s", xmppc_error_last()->message);
        pump_output(c);             /* the alert, if any */
        fail(c, rc, "%s", message); /* names the domain already */
        return;
    }
    c->tls_handshaking = false;
    xmppc__log(&c->logger, XMPPC_LOG_DEBUG, "tls", "%s established with %s",
               xmppc__tls_version(c->tls), c->domain);
    if (c->sock_direct_tls)
        rc = xmppc__stream_start(c->stream);
    else
        rc = xmppc__stream_tls_ready(c->stream);
    if (rc < 0 && !c->stream_ended) {
        fail(c, rc, "%s", xmppc_error_last()->message);
        return;
    }
    after_stream(c);
}

static void start_tls_session(xmppc_conn *c, bool direct)
{
    int rc = 0;
    if (!c->trust)
        rc = xmppc__tls_trust_get(&c->trust, c->ca_file, true);
    if (rc < 0) {
        fail(c, rc, "%s", xmppc_error_last()->message);
        return;
    }
    xmppc__tls_config cfg = {0};
    cfg.trust = c->trust;
    cfg.reference_name = c->domain; /* never the SRV target */
    cfg.direct_tls = direct;
    cfg.max_tls12 = c->max_tls12;
    cfg.spki_pin_sha256 = c->has_pin ? c->spki_pin : NULL;
    cfg.verify_cb = c->verify_cb ? verify_bridge : NULL;
    cfg.verify_userdata = c;
    cfg.logger = &c->logger;
    if ((rc = xmppc__tls_new(&c->tls, &cfg)) < 0) {
        fail(c, rc, "%s", xmppc_error_last()->message);
        return;
    }
    c->tls_handshaking = true;
    set_state(c, XMPPC_STATE_SECURING, NULL);
    continue_handshake(c);
}

/* ---- connecting ---------------------------------------------------------- */

static void connected(xmppc_conn *c, size_t attempt)
{
    xmppc__candidate *cand = &c->candidates[c->attempts[attempt].candidate];
    char where[80];
    xmppc__net_format((struct sockaddr *)&cand->addr, where, sizeof where);
    c->sock = c->attempts[attempt].fd;
    c->sock_direct_tls = cand->direct_tls;
    close_attempts(c, c->sock);
    xmppc__log(&c->logger, XMPPC_LOG_DEBUG, "net", "connected to %s%s", where,
               c->sock_direct_tls ? " (direct TLS)" : "");
    xmppc__io_watch(c, c->sock, XMPPC_IO_READ);
    int rc = begin_stream(c);
    if (rc < 0) {
        fail(c, rc, "%s", xmppc_error_last()->message);
        return;
    }
    if (c->sock_direct_tls) {
        start_tls_session(c, true);
        return;
    }
    if (c->tls_policy == XMPPC_TLS_REQUIRED)
        set_state(c, XMPPC_STATE_SECURING, NULL);
    if ((rc = xmppc__stream_start(c->stream)) < 0) {
        fail(c, rc, "%s", xmppc_error_last()->message);
        return;
    }
    pump_output(c);
}

/* Starts the next connection attempt; fails the connection when none is
 * left and none is in flight. */
static void start_next_attempt(xmppc_conn *c)
{
    while (c->next_candidate < c->ncandidates &&
           c->nattempts < XMPPC__MAX_ATTEMPTS) {
        size_t idx = c->next_candidate++;
        xmppc__candidate *cand = &c->candidates[idx];
        int fd, err = 0;
        if (xmppc__net_connect((struct sockaddr *)&cand->addr, cand->addr_len,
                               &fd, &err) < 0) {
            c->last_connect_errno = err;
            continue;
        }
        c->attempts[c->nattempts].fd = fd;
        c->attempts[c->nattempts].candidate = idx;
        c->nattempts++;
        xmppc__io_watch(c, fd, XMPPC_IO_WRITE);
        c->next_attempt_at = c->next_candidate < c->ncandidates
                                 ? xmppc__now_ms() + HAPPY_EYEBALLS_DELAY_MS
                                 : 0;
        return;
    }
    if (c->nattempts == 0)
        fail(c, XMPPC_ECONNECT, "cannot connect to %s: %s", c->domain,
             c->last_connect_errno ? strerror(c->last_connect_errno)
                                   : "no address to try");
}

static void attempt_ready(xmppc_conn *c, size_t i)
{
    int err = xmppc__net_connect_result(c->attempts[i].fd);
    if (err == 0) {
        connected(c, i);
        return;
    }
    c->last_connect_errno = err;
    xmppc__io_watch(c, c->attempts[i].fd, 0);
    xmppc__net_close(c->attempts[i].fd);
    c->attempts[i] = c->attempts[--c->nattempts];
    start_next_attempt(c); /* a failure moves on at once */
}

static void start_connecting(xmppc_conn *c)
{
    set_state(c, XMPPC_STATE_CONNECTING, NULL);
    c->next_candidate = 0;
    start_next_attempt(c);
}

static void resolved(xmppc__dns_result *result, const xmppc_error *error,
                     void *ud)
{
    xmppc_conn *c = ud;
    if (error && error->code == XMPPC_ECANCELED)
        return;
    c->dns_done = true;
    if (error) {
        teardown(c, error);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < result->count; i++)
        n += result->candidates[i].naddrs;
    c->candidates = xmppc__calloc(n ? n : 1, sizeof *c->candidates);
    if (!c->candidates) {
        xmppc__dns_result_free(result);
        fail(c, XMPPC_ENOMEM, "out of memory");
        return;
    }
    /* Targets in SRV order, each target's addresses in happy-eyeballs
     * order. */
    for (size_t i = 0; i < result->count; i++) {
        const xmppc__dns_candidate *cand = &result->candidates[i];
        for (size_t k = 0; k < cand->naddrs; k++) {
            xmppc__candidate *out = &c->candidates[c->ncandidates++];
            out->addr = cand->addrs[k].addr;
            out->addr_len = cand->addrs[k].len;
            out->direct_tls = cand->direct_tls;
        }
    }
    xmppc__dns_result_free(result);
    start_connecting(c);
}

static int dns_watch(void *ud, int fd, unsigned int events)
{
    return xmppc__io_watch(ud, fd, events);
}

static void start_resolving(xmppc_conn *c)
{
    set_state(c, XMPPC_STATE_RESOLVING, NULL);
    static const xmppc__dns_io io = {dns_watch};
    int rc = xmppc__dns_new(&c->dns, &io, c, c->dns_servers, NULL, &c->logger);
    if (rc == 0) {
        c->dns_done = false;
        if (c->server_host)
            rc = xmppc__dns_resolve_host(c->dns, c->server_host,
                                         c->server_port  ? c->server_port
                                         : c->direct_tls ? 5223
                                                         : 5222,
                                         c->direct_tls, resolved, c);
        else
            rc = xmppc__dns_resolve(c->dns, c->domain, c->direct_tls, resolved,
                                    c);
    }
    if (rc < 0)
        fail(c, rc, "%s", xmppc_error_last()->message);
}

XMPPC_API int xmppc_conn_connect(xmppc_conn *c)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (c->state != XMPPC_STATE_DISCONNECTED)
        return xmppc__error(XMPPC_ESTATE, "the connection is %s",
                            state_names[c->state]);
    xmppc__conn_enter(c);
    c->has_error = false;
    c->last_connect_errno = 0;
    c->connect_deadline = xmppc__now_ms() + c->connect_timeout_ms;
    struct sockaddr_storage addr;
    socklen_t len;
    unsigned int port =
        c->server_port ? c->server_port : (c->direct_tls ? 5223 : 5222);
    if (c->server_host &&
        xmppc__net_parse_ip(c->server_host, port, &addr, &len) == 0) {
        /* An IP literal needs no DNS. */
        c->candidates = xmppc__calloc(1, sizeof *c->candidates);
        if (!c->candidates) {
            xmppc__conn_leave(c);
            return XMPPC_ENOMEM;
        }
        c->candidates[0].addr = addr;
        c->candidates[0].addr_len = len;
        c->candidates[0].direct_tls = c->direct_tls;
        c->ncandidates = 1;
        start_connecting(c);
    } else {
        start_resolving(c);
    }
    xmppc__io_update_timer(c);
    xmppc__conn_leave(c);
    return 0;
}

XMPPC_API int xmppc_conn_disconnect(xmppc_conn *c)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (c->state == XMPPC_STATE_DISCONNECTED)
        return xmppc__error(XMPPC_ESTATE, "the connection is disconnected");
    if (c->state == XMPPC_STATE_DISCONNECTING)
        return 0;
    xmppc__conn_enter(c);
    if (c->stream && xmppc__stream_is_ready(c->stream)) {
        xmppc__dispatch_cancel_pending(c->dispatch);
        xmppc__stream_close(c->stream);
        c->close_deadline = xmppc__now_ms() + GRACEFUL_CLOSE_MS;
        set_state(c, XMPPC_STATE_DISCONNECTING, NULL);
        after_stream(c);
    } else {
        teardown(c, NULL); /* not logged in yet: just stop */
    }
    xmppc__io_update_timer(c);
    xmppc__conn_leave(c);
    return 0;
}

/* ---- events -------------------------------------------------------------- */

static void read_socket(xmppc_conn *c)
{
    char buf[16384];
    for (int i = 0; i < READS_PER_EVENT && c->sock >= 0; i++) {
        long n = xmppc__net_read(c->sock, buf, sizeof buf);
        if (n == XMPPC_EAGAIN)
            return;
        if (n < 0) {
            fail(c, XMPPC_EIO, "%s", xmppc_error_last()->message);
            return;
        }
        if (n == 0) {
            if (c->state == XMPPC_STATE_DISCONNECTING)
                teardown(c, NULL);
            else
                fail(c, XMPPC_EDISCONNECTED,
                     "the server closed the connection");
            return;
        }
        if (!c->tls) {
            feed_stream(c, buf, (size_t)n);
            continue;
        }
        if (xmppc__tls_feed(c->tls, buf, (size_t)n) < 0) {
            fail(c, XMPPC_ETLS, "%s", xmppc_error_last()->message);
            return;
        }
        if (c->tls_handshaking) {
            continue_handshake(c);
            if (c->tls_handshaking || !c->tls)
                continue;
        }
        char plain[16384];
        while (c->tls && c->stream) {
            ssize_t m = xmppc__tls_read(c->tls, plain, sizeof plain);
            if (m == XMPPC_EAGAIN)
                break;
            if (m == 0) { /* close_notify */
                if (c->state == XMPPC_STATE_DISCONNECTING)
                    teardown(c, NULL);
                else
                    fail(c, XMPPC_EDISCONNECTED,
                         "the server closed the TLS session");
                return;
            }
            if (m < 0) {
                fail(c, (int)m, "%s", xmppc_error_last()->message);
                return;
            }
            feed_stream(c, plain, (size_t)m);
        }
    }
}

void xmppc__conn_handle_fd(xmppc_conn *c, int fd, unsigned int revents)
{
    if (fd == c->sock) {
        if (revents & XMPPC_IO_READ)
            read_socket(c);
        if (c->sock >= 0 && (revents & XMPPC_IO_WRITE))
            pump_output(c);
        return;
    }
    for (size_t i = 0; i < c->nattempts; i++)
        if (c->attempts[i].fd == fd) {
            attempt_ready(c, i);
            return;
        }
    if (c->dns)
        xmppc__dns_process_fd(c->dns, fd, revents);
    if (c->dns && c->dns_done) {
        struct xmppc__dns *dns = c->dns; /* resolution over: drop c-ares */
        c->dns = NULL;
        xmppc__dns_free(dns);
    }
}

void xmppc__conn_handle_timeout(xmppc_conn *c)
{
    uint64_t now = xmppc__now_ms();
    if (c->dns) {
        xmppc__dns_process_timeout(c->dns);
        if (c->dns && c->dns_done) {
            struct xmppc__dns *dns = c->dns;
            c->dns = NULL;
            xmppc__dns_free(dns);
        }
    }
    if (c->next_attempt_at && now >= c->next_attempt_at)
        start_next_attempt(c);
    if (c->connect_deadline && now >= c->connect_deadline &&
        c->state != XMPPC_STATE_DISCONNECTED) {
        fail(c, XMPPC_ETIMEDOUT, "not connected after %u ms (while %s)",
             c->connect_timeout_ms, state_names[c->state]);
        return;
    }
    if (c->close_deadline && now >= c->close_deadline) {
        xmppc__log(&c->logger, XMPPC_LOG_WARN, "conn",
                   "the server did not close the stream in time");
        teardown(c, NULL);
        return;
    }
    xmppc__dispatch_process_timeouts(c->dispatch);
    fire_due_timers(c);
    pump_output(c);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

uint64_t xmppc__conn_next_deadline(const xmppc_conn *c)
{
    uint64_t now = xmppc__now_ms();
    uint64_t d = earliest(c->connect_deadline, c->close_deadline);
    d = earliest(d, c->next_attempt_at);
    if (c->dns) {
        int ms = xmppc__dns_timeout_ms(c->dns);
        if (ms >= 0)
            d = earliest(d, now + (uint64_t)ms);
    }
    int ms = xmppc__dispatch_next_timeout_ms(c->dispatch);
    if (ms >= 0)
        d = earliest(d, now + (uint64_t)ms);
    for (size_t i = 0; i < c->ntimers; i++)
        d = earliest(d, timer_deadline(c->timers[i]));
    return d;
}

bool xmppc__conn_is_active(const xmppc_conn *c)
{
    return c->state != XMPPC_STATE_DISCONNECTED;
}

/* ---- sending ------------------------------------------------------------- */

static int test_send(xmppc_conn *c, const xmppc_stanza *stanza)
{
    char *xml = NULL;
    int rc = xmppc_stanza_to_string(&xml, NULL, stanza);
    if (rc == 0)
        c->test_sink(c->test_sink_ud, xml);
    xmppc_free(xml);
    return rc;
}

XMPPC_API int xmppc_conn_send(xmppc_conn *c, xmppc_stanza *stanza)
{
    if (!c || !stanza)
        return xmppc__error(XMPPC_EINVAL, "xmppc_conn_send: NULL argument");
    if (c->test_sink && c->state == XMPPC_STATE_READY)
        return test_send(c, stanza);
    if (c->state != XMPPC_STATE_READY || !c->stream)
        return xmppc__error(XMPPC_ESTATE, "the connection is %s, not ready",
                            state_names[c->state]);
    if (xmppc__stream_output(c->stream)->len + c->wbuf.len > MAX_SEND_QUEUE)
        return xmppc__error(XMPPC_ELIMIT, "the send queue is full (%d bytes)",
                            MAX_SEND_QUEUE);
    int rc = xmppc__stream_send(c->stream, stanza);
    if (rc < 0)
        return rc;
    /* Written when the socket is writable (or when the current event is
     * done): stanzas sent together leave together. */
    if (!c->busy && !c->want_write) {
        c->want_write = true;
        xmppc__io_watch(c, c->sock, XMPPC_IO_READ | XMPPC_IO_WRITE);
    }
    return 0;
}

static int dispatch_send(void *ud, xmppc_stanza *stanza)
{
    xmppc_conn *c = ud;
    if (c->test_sink && c->state == XMPPC_STATE_READY)
        return test_send(c, stanza);
    if (!c->stream || !xmppc__stream_is_ready(c->stream))
        return xmppc__error(XMPPC_ESTATE, "the connection is not ready");
    return xmppc__stream_send(c->stream, stanza);
}

static uint64_t dispatch_now(void *ud)
{
    (void)ud;
    return xmppc__now_ms();
}

/* ---- handlers and iq ------------------------------------------------------
 */

XMPPC_API int xmppc_conn_add_handler(xmppc_conn *c, xmppc_handler **handle_out,
                                     const char *name, const char *type,
                                     const char *ns, xmppc_stanza_cb cb,
                                     void *userdata, xmppc_destroy_cb destroy)
{
    if (!c || !cb)
        return xmppc__error(XMPPC_EINVAL, "add_handler: NULL argument");
    xmppc__handler_filter filter = {0};
    if (name && strcmp(name, "message") == 0)
        filter.kinds = XMPPC__KIND_MESSAGE;
    else if (name && strcmp(name, "presence") == 0)
        filter.kinds = XMPPC__KIND_PRESENCE;
    else if (name && strcmp(name, "iq") == 0)
        filter.kinds = XMPPC__KIND_IQ;
    else if (name)
        filter.kinds = XMPPC__KIND_OTHER;
    filter.type = type;
    filter.child_ns = ns;
    return xmppc__dispatch_add(c->dispatch, (xmppc__handler **)handle_out,
                               &filter, (xmppc__stanza_cb)cb, userdata,
                               destroy);
}

XMPPC_API void xmppc_handler_remove(xmppc_handler *handle)
{
    xmppc__handler_remove((xmppc__handler *)handle);
}

XMPPC_API void xmppc_handler_free(xmppc_handler *handle)
{
    xmppc__handler_free((xmppc__handler *)handle);
}

XMPPC_API int xmppc_conn_send_iq(xmppc_conn *c, xmppc_stanza *iq,
                                 unsigned int timeout_ms, xmppc_iq_reply_cb cb,
                                 void *userdata, xmppc_destroy_cb destroy)
{
    if (!c || !iq || !cb)
        return xmppc__error(XMPPC_EINVAL, "send_iq: NULL argument");
    if (c->state != XMPPC_STATE_READY)
        return xmppc__error(XMPPC_ESTATE, "the connection is %s, not ready",
                            state_names[c->state]);
    int rc = xmppc__dispatch_send_iq(c->dispatch, iq,
                                     timeout_ms ? timeout_ms : c->iq_timeout_ms,
                                     (xmppc__iq_reply_cb)cb, userdata, destroy);
    if (rc == 0 && c->sock >= 0 && !c->busy && !c->want_write) {
        c->want_write = true;
        xmppc__io_watch(c, c->sock, XMPPC_IO_READ | XMPPC_IO_WRITE);
    }
    if (rc == 0)
        xmppc__io_update_timer(c);
    return rc;
}

/* ---- creation and configuration ----------------------------------------- */

XMPPC_API int xmppc_conn_new(xmppc_conn **out, const char *jid,
                             const char *password)
{
    if (!out || !jid)
        return xmppc__error(XMPPC_EINVAL, "xmppc_conn_new: NULL argument");
    xmppc_jid *parsed = NULL;
    int rc = xmppc_jid_parse(&parsed, jid);
    if (rc < 0)
        return rc;
    if (!xmppc_jid_local(parsed)) {
        xmppc_jid_unref(parsed);
        return xmppc__error(XMPPC_EINVAL,
                            "account JID '%.100s' has no localpart", jid);
    }
    xmppc_conn *c = xmppc__calloc(1, sizeof *c);
    if (!c) {
        xmppc_jid_unref(parsed);
        return XMPPC_ENOMEM;
    }
    c->refs = 1;
    c->sock = -1;
    c->wake_fd = -1;
    c->reported_timeout = -2;
    c->connect_timeout_ms = 30000;
    c->iq_timeout_ms = 30000;
    c->max_stanza_bytes = 256 * 1024;
    c->logger.max_level = XMPPC_LOG_NONE;
    c->logger.conn = c;
    pthread_mutex_init(&c->post_lock, NULL);
    xmppc__error_store_clear(&c->error);
    static const xmppc__dispatch_io dio = {dispatch_send, dispatch_now, NULL};
    xmppc__dispatch_io io = dio;
    io.ud = c;
    if (!(c->bare_jid = xmppc__strdup(xmppc_jid_bare(parsed))) ||
        !(c->local = xmppc__strdup(xmppc_jid_local(parsed))) ||
        !(c->domain = xmppc__strdup(xmppc_jid_domain(parsed))) ||
        (xmppc_jid_resource(parsed) &&
         !(c->resource = xmppc__strdup(xmppc_jid_resource(parsed)))) ||
        (password && !(c->password = xmppc__strdup(password))))
        rc = XMPPC_ENOMEM;
    if (rc == 0)
        rc = xmppc__dispatch_new(&c->dispatch, &io, c, &c->logger);
    xmppc_jid_unref(parsed);
    if (rc < 0) {
        conn_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

static void conn_destroy(xmppc_conn *c)
{
    c->state_cb = NULL; /* the application is letting go: no reports */
    c->busy++;          /* callbacks during teardown must not re-enter */
    teardown(c, NULL);
    xmppc__dispatch_free(c->dispatch);
    drop_timers(c);
    drop_state_listeners(c);
    /* Modules' state goes after their handlers: a handler's destroy may
     * still use it. Last attached, first destroyed. */
    while (c->nattachments > 0) {
        xmppc__attachment a = c->attachments[--c->nattachments];
        if (a.destroy)
            a.destroy(a.data);
    }
    xmppc_free(c->attachments);
    xmppc__loop_free_private(c);
    xmppc__io_free(c);
    xmppc__tls_trust_unref(c->trust);
    pthread_mutex_destroy(&c->post_lock);
    xmppc_free(c->bare_jid);
    xmppc_free(c->local);
    xmppc_free(c->domain);
    xmppc__free_secret(c->password);
    xmppc_free(c->resource);
    xmppc_free(c->server_host);
    xmppc_free(c->ca_file);
    xmppc_free(c->dns_servers);
    xmppc_free(c->test_bound_jid);
    xmppc_stanza_unref(c->test_features);
    xmppc__free_secret(c->scram_key);
    xmppc__free_secret(c->last_scram_key);
    xmppc_free(c);
}

static int check_configurable(const xmppc_conn *c)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (c->state != XMPPC_STATE_DISCONNECTED)
        return xmppc__error(XMPPC_ESTATE,
                            "configure the connection before connecting");
    return 0;
}

/* Replaces *field with a copy of value (NULL clears it). */
static int replace_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = xmppc__strdup(value)))
        return XMPPC_ENOMEM;
    xmppc_free(*field);
    *field = copy;
    return 0;
}

XMPPC_API int xmppc_conn_set_resource(xmppc_conn *c, const char *resource)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    if (resource) {
        xmppc_jid *test = NULL;
        if ((rc = xmppc_jid_new(&test, c->local, c->domain, resource)) < 0)
            return rc;
        rc = replace_string(&c->resource, xmppc_jid_resource(test));
        xmppc_jid_unref(test);
        return rc;
    }
    return replace_string(&c->resource, NULL);
}

XMPPC_API int xmppc_conn_set_server(xmppc_conn *c, const char *host,
                                    unsigned int port)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    if (port > 65535)
        return xmppc__error(XMPPC_EINVAL, "port %u out of range", port);
    if (host && (!*host || strlen(host) > 253))
        return xmppc__error(XMPPC_EINVAL, "invalid server host name");
    if ((rc = replace_string(&c->server_host, host)) < 0)
        return rc;
    c->server_port = port;
    return 0;
}

XMPPC_API int xmppc_conn_set_direct_tls(xmppc_conn *c, int enabled)
{
    int rc = check_configurable(c);
    if (rc == 0)
        c->direct_tls = enabled != 0;
    return rc;
}

XMPPC_API int xmppc_conn_set_tls_policy(xmppc_conn *c, xmppc_tls_policy policy)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    if (policy != XMPPC_TLS_REQUIRED && policy != XMPPC_TLS_DISABLED)
        return xmppc__error(XMPPC_EINVAL, "unknown TLS policy %d", (int)policy);
    c->tls_policy = policy;
    return 0;
}

XMPPC_API int xmppc_conn_set_ca_file(xmppc_conn *c, const char *path)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    xmppc__tls_trust *trust = NULL;
    /* Load (or find in the process cache) now, so a bad file is reported
     * here rather than at connect time. */
    if (path && (rc = xmppc__tls_trust_get(&trust, path, true)) < 0)
        return rc;
    if ((rc = replace_string(&c->ca_file, path)) < 0) {
        xmppc__tls_trust_unref(trust);
        return rc;
    }
    xmppc__tls_trust_unref(c->trust);
    c->trust = trust;
    return 0;
}

XMPPC_API int xmppc_conn_set_spki_pin(xmppc_conn *c, const char *hex)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    if (!hex) {
        c->has_pin = false;
        return 0;
    }
    unsigned char pin[32];
    if (strlen(hex) != 64)
        return xmppc__error(XMPPC_EINVAL,
                            "an SPKI pin is 64 hex digits (SHA-256)");
    for (size_t i = 0; i < 32; i++) {
        unsigned int byte;
        if (!isxdigit((unsigned char)hex[2 * i]) ||
            !isxdigit((unsigned char)hex[2 * i + 1]) ||
            sscanf(hex + 2 * i, "%2x", &byte) != 1)
            return xmppc__error(XMPPC_EINVAL,
                                "the SPKI pin has a non-hex character");
        pin[i] = (unsigned char)byte;
    }
    memcpy(c->spki_pin, pin, sizeof pin);
    c->has_pin = true;
    return 0;
}

XMPPC_API int xmppc_conn_set_cert_verify_cb(xmppc_conn *c,
                                            xmppc_cert_verify_cb cb,
                                            void *userdata)
{
    int rc = check_configurable(c);
    if (rc == 0) {
        c->verify_cb = cb;
        c->verify_ud = userdata;
    }
    return rc;
}

XMPPC_API int xmppc_conn_set_connect_timeout(xmppc_conn *c, unsigned int ms)
{
    int rc = check_configurable(c);
    if (rc == 0 && ms == 0)
        return xmppc__error(XMPPC_EINVAL, "the timeout must be positive");
    if (rc == 0)
        c->connect_timeout_ms = ms;
    return rc;
}

XMPPC_API int xmppc_conn_set_iq_timeout(xmppc_conn *c, unsigned int ms)
{
    if (!c || ms == 0)
        return xmppc__error(XMPPC_EINVAL, "set_iq_timeout: invalid argument");
    c->iq_timeout_ms = ms;
    return 0;
}

XMPPC_API int xmppc_conn_set_max_stanza_bytes(xmppc_conn *c, size_t bytes)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    if (bytes == 0 || bytes > 8 * 1024 * 1024)
        return xmppc__error(XMPPC_EINVAL,
                            "the stanza limit must be 1 byte to 8 MiB");
    c->max_stanza_bytes = bytes;
    return 0;
}

XMPPC_API int xmppc_conn_set_dns_servers(xmppc_conn *c, const char *servers)
{
    int rc = check_configurable(c);
    return rc < 0 ? rc : replace_string(&c->dns_servers, servers);
}

XMPPC_API int xmppc_conn_set_log_cb(xmppc_conn *c, xmppc_log_cb cb,
                                    void *userdata, xmppc_log_level max_level)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (max_level < XMPPC_LOG_NONE || max_level > XMPPC_LOG_TRACE)
        return xmppc__error(XMPPC_EINVAL, "log level %d out of range",
                            (int)max_level);
    c->logger.cb = cb;
    c->logger.userdata = userdata;
    c->logger.max_level = cb ? max_level : XMPPC_LOG_NONE;
    return 0;
}

XMPPC_API int xmppc_conn_set_state_cb(xmppc_conn *c, xmppc_state_cb cb,
                                      void *userdata)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    c->state_cb = cb;
    c->state_ud = userdata;
    return 0;
}

XMPPC_API xmppc_conn_state xmppc_conn_get_state(const xmppc_conn *c)
{
    return c ? c->state : XMPPC_STATE_DISCONNECTED;
}

XMPPC_API const char *xmppc_conn_get_jid(const xmppc_conn *c)
{
    return c ? c->bare_jid : NULL;
}

const char *xmppc__server_if_null(xmppc_conn *c, const char *jid)
{
    if (jid)
        return jid;
    const char *own = xmppc_conn_get_jid(c);
    const char *at = own ? strchr(own, '@') : NULL;
    return at ? at + 1 : own;
}

XMPPC_API const char *xmppc_conn_get_bound_jid(const xmppc_conn *c)
{
    if (c && c->test_sink)
        return c->state == XMPPC_STATE_READY ? c->test_bound_jid : NULL;
    return c && c->stream ? xmppc__stream_bound_jid(c->stream) : NULL;
}

XMPPC_API int xmppc_conn_has_stream_feature(const xmppc_conn *c,
                                            const char *name, const char *ns)
{
    if (!c || !name || !ns || c->state != XMPPC_STATE_READY)
        return 0;
    const xmppc_stanza *features =
        c->test_sink ? c->test_features
                     : (c->stream ? xmppc__stream_features(c->stream) : NULL);
    return features && xmppc_stanza_get_child(features, name, ns) != NULL;
}

XMPPC_API const xmppc_error *xmppc_conn_get_error(const xmppc_conn *c)
{
    return c && c->has_error ? &c->error.pub : NULL;
}

void xmppc__conn_set_max_tls12(xmppc_conn *c, bool cap)
{
    c->max_tls12 = cap;
}

void xmppc__conn_abort(xmppc_conn *c)
{
    xmppc__conn_enter(c);
    teardown(c, NULL);
    xmppc__conn_leave(c);
}

size_t xmppc__conn_pending_output(const xmppc_conn *c)
{
    size_t n = c->wbuf.len;
    if (c->stream)
        n += xmppc__stream_output(c->stream)->len;
    if (c->tls)
        n += xmppc__tls_outgoing(c->tls)->len;
    return n;
}

XMPPC_API int xmppc_conn_set_scram_key(xmppc_conn *c, const char *key)
{
    int rc = check_configurable(c);
    if (rc < 0)
        return rc;
    char *copy = NULL;
    if (key && ((rc = xmppc__stream_check_scram_key(key)) < 0 ||
                !(copy = xmppc__strdup(key))))
        return rc < 0 ? rc : XMPPC_ENOMEM;
    xmppc__free_secret(c->scram_key);
    c->scram_key = copy;
    return 0;
}

XMPPC_API int xmppc_conn_get_scram_key(const xmppc_conn *c, char **out)
{
    if (!c || !out)
        return xmppc__error(XMPPC_EINVAL, "get_scram_key: NULL argument");
    if (!c->last_scram_key)
        return xmppc__error(XMPPC_ESTATE, "no SCRAM login has succeeded yet");
    return (*out = xmppc__strdup(c->last_scram_key)) ? 0 : XMPPC_ENOMEM;
}

XMPPC_API int xmppc_conn_attach(xmppc_conn *c, const void *key, void *data,
                                xmppc_destroy_cb destroy)
{
    if (!c || !key)
        return xmppc__error(XMPPC_EINVAL, "attach: NULL argument");
    for (size_t i = 0; i < c->nattachments; i++) {
        if (c->attachments[i].key != key)
            continue;
        xmppc__attachment old = c->attachments[i];
        if (data)
            c->attachments[i] = (xmppc__attachment){key, data, destroy};
        else
            c->attachments[i] = c->attachments[--c->nattachments];
        if (old.destroy)
            old.destroy(old.data);
        return 0;
    }
    if (!data)
        return 0;
    xmppc__attachment *p =
        xmppc__reallocarray(c->attachments, c->nattachments + 1, sizeof *p);
    if (!p)
        return XMPPC_ENOMEM;
    c->attachments = p;
    c->attachments[c->nattachments++] = (xmppc__attachment){key, data, destroy};
    return 0;
}

XMPPC_API void *xmppc_conn_attached(const xmppc_conn *c, const void *key)
{
    for (size_t i = 0; c && i < c->nattachments; i++)
        if (c->attachments[i].key == key)
            return c->attachments[i].data;
    return NULL;
}

/* ---- test transport ------------------------------------------------------ */

int xmppc__conn_test_ready(xmppc_conn *c, const char *bound_jid,
                           void (*sink)(void *ud, const char *xml), void *ud)
{
    if (!c || !bound_jid || !sink)
        return xmppc__error(XMPPC_EINVAL, "test_ready: NULL argument");
    if (c->state != XMPPC_STATE_DISCONNECTED)
        return xmppc__error(XMPPC_ESTATE, "test_ready: not disconnected");
    int rc = replace_string(&c->test_bound_jid, bound_jid);
    if (rc < 0)
        return rc;
    c->test_sink = sink;
    c->test_sink_ud = ud;
    xmppc__conn_enter(c);
    xmppc__dispatch_set_own_jid(c->dispatch, bound_jid);
    set_state(c, XMPPC_STATE_READY, NULL);
    xmppc__conn_leave(c);
    return 0;
}

static int inject_stanza(void *ud, xmppc_stanza *stanza)
{
    xmppc_conn *c = ud;
    xmppc__dispatch_stanza(c->dispatch, stanza);
    return 0;
}

int xmppc__conn_test_inject(xmppc_conn *c, const char *xml)
{
    if (!c || !xml)
        return xmppc__error(XMPPC_EINVAL, "test_inject: NULL argument");
    if (!c->test_sink || c->state != XMPPC_STATE_READY)
        return xmppc__error(XMPPC_ESTATE, "test_inject: not in test mode");
    static const char header[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    xmppc__parser_callbacks cb = {0};
    cb.stanza = inject_stanza;
    xmppc__parser *p = NULL;
    int rc = xmppc__parser_new(&p, &cb, c);
    xmppc__conn_enter(c);
    if (rc == 0)
        rc = xmppc__parser_feed(p, header, sizeof header - 1);
    if (rc == 0)
        rc = xmppc__parser_feed(p, xml, strlen(xml));
    xmppc__parser_free(p);
    xmppc__conn_leave(c);
    return rc;
}

void xmppc__conn_test_run_timers(xmppc_conn *c)
{
    xmppc__conn_enter(c);
    xmppc__dispatch_process_timeouts(c->dispatch);
    fire_due_timers(c);
    xmppc__conn_leave(c);
}

int xmppc__conn_test_set_features(xmppc_conn *c, const char *xml)
{
    xmppc_stanza *features = NULL;
    if (xml) {
        int rc = xmppc_stanza_from_string(&features, xml);
        if (rc < 0)
            return rc;
    }
    xmppc_stanza_unref(c->test_features);
    c->test_features = features;
    return 0;
}

void xmppc__conn_test_disconnect(xmppc_conn *c)
{
    if (!c->test_sink || c->state == XMPPC_STATE_DISCONNECTED)
        return;
    xmppc__conn_enter(c);
    xmppc__dispatch_cancel_pending(c->dispatch);
    set_state(c, XMPPC_STATE_DISCONNECTED, NULL);
    c->test_sink = NULL;
    xmppc__conn_leave(c);
}

/* ---- timers ---------------------------------------------------------------
 */

struct xmppc_timer {
    xmppc_conn *conn; /* NULL once fired, canceled or orphaned */
    uint64_t deadline;
    xmppc_timer_fire_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
    bool floating; /* no handle: freed by the library */
    bool firing;   /* its callback is running */
    bool orphaned; /* handle freed during the callback: free after it */
};

static uint64_t timer_deadline(const struct xmppc_timer *t)
{
    return t->deadline;
}

static void unlink_timer(xmppc_conn *c, struct xmppc_timer *t)
{
    for (size_t i = 0; i < c->ntimers; i++)
        if (c->timers[i] == t) {
            c->timers[i] = c->timers[--c->ntimers];
            break;
        }
    t->conn = NULL;
}

/* Runs the destroy callback and frees a timer nobody holds any more. */
static void retire_timer(struct xmppc_timer *t)
{
    if (t->destroy)
        t->destroy(t->userdata);
    if (t->floating || t->orphaned)
        xmppc_free(t);
}

XMPPC_API int xmppc_conn_add_timer(xmppc_conn *c, xmppc_timer **handle_out,
                                   unsigned int delay_ms,
                                   xmppc_timer_fire_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy)
{
    if (!c || !cb)
        return xmppc__error(XMPPC_EINVAL, "add_timer: NULL argument");
    struct xmppc_timer *t = xmppc__calloc(1, sizeof *t);
    struct xmppc_timer **list =
        t ? xmppc__reallocarray(c->timers, c->ntimers + 1, sizeof *list) : NULL;
    if (!list) {
        xmppc_free(t);
        return XMPPC_ENOMEM;
    }
    c->timers = list;
    t->conn = c; /* the rest is zero from calloc */
    t->deadline = xmppc__now_ms() + delay_ms;
    t->cb = cb;
    t->userdata = userdata;
    t->destroy = destroy;
    t->floating = handle_out == NULL;
    c->timers[c->ntimers++] = t;
    if (handle_out)
        *handle_out = t;
    xmppc__io_update_timer(c);
    return 0;
}

/* Fires due timers earliest first; callbacks may add or cancel timers. */
static void fire_due_timers(xmppc_conn *c)
{
    uint64_t now = xmppc__now_ms();
    for (;;) {
        struct xmppc_timer *due = NULL;
        for (size_t i = 0; i < c->ntimers; i++)
            if (c->timers[i]->deadline <= now &&
                (!due || c->timers[i]->deadline < due->deadline))
                due = c->timers[i];
        if (!due)
            return;
        unlink_timer(c, due);
        due->firing = true;
        due->cb(c, due->userdata);
        due->firing = false;
        retire_timer(due);
    }
}

XMPPC_API void xmppc_timer_cancel(xmppc_timer *t)
{
    if (!t || !t->conn)
        return;
    unlink_timer(t->conn, t);
    retire_timer(t);
}

XMPPC_API void xmppc_timer_free(xmppc_timer *t)
{
    if (!t)
        return;
    if (t->firing) { /* from its own callback: freed once it returns */
        t->orphaned = true;
        return;
    }
    t->floating = false; /* the handle is going: free it here, once */
    xmppc_timer_cancel(t);
    xmppc_free(t);
}

/* The connection goes: pending timers never fire; handles stay valid. */
static void drop_timers(xmppc_conn *c)
{
    while (c->ntimers > 0) {
        struct xmppc_timer *t = c->timers[c->ntimers - 1];
        unlink_timer(c, t);
        retire_timer(t);
    }
    xmppc_free(c->timers);
    c->timers = NULL;
}

XMPPC_API int xmppc_conn_close_with_error(xmppc_conn *c, int code,
                                          const char *message)
{
    if (!c || code >= 0)
        return xmppc__error(XMPPC_EINVAL,
                            "close_with_error needs a connection and a "
                            "negative status");
    if (c->state == XMPPC_STATE_DISCONNECTED)
        return xmppc__error(XMPPC_ESTATE, "already disconnected");
    xmppc__conn_enter(c);
    fail(c, code, "%s", message ? message : xmppc_strerror(code));
    xmppc__conn_leave(c);
    return 0;
}

XMPPC_API void xmppc_conn_log(xmppc_conn *c, xmppc_log_level level,
                              const char *area, const char *message)
{
    if (!message)
        return;
    xmppc__log(c ? &c->logger : NULL, level, area ? area : "app", "%s",
               message);
}

/* ---- state listeners ------------------------------------------------------
 */

struct xmppc_state_listener {
    xmppc_conn *conn; /* NULL once removed or orphaned */
    xmppc_state_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
    bool floating;        /* no handle: freed by the library */
    unsigned int running; /* its callback is on the stack */
    bool orphaned;        /* handle freed meanwhile: free on return */
};

XMPPC_API int xmppc_conn_add_state_listener(xmppc_conn *c,
                                            xmppc_state_listener **handle_out,
                                            xmppc_state_cb cb, void *userdata,
                                            xmppc_destroy_cb destroy)
{
    if (!c || !cb)
        return xmppc__error(XMPPC_EINVAL, "add_state_listener: NULL argument");
    struct xmppc_state_listener *l = xmppc__calloc(1, sizeof *l);
    struct xmppc_state_listener **list =
        l ? xmppc__reallocarray(c->listeners, c->nlisteners + 1, sizeof *list)
          : NULL;
    if (!list) {
        xmppc_free(l);
        return XMPPC_ENOMEM;
    }
    c->listeners = list;
    l->conn = c;
    l->cb = cb;
    l->userdata = userdata;
    l->destroy = destroy;
    l->floating = handle_out == NULL;
    c->listeners[c->nlisteners++] = l;
    if (handle_out)
        *handle_out = l;
    return 0;
}

/* Detaches @p l, runs its destroy callback, frees it when nobody holds it. */
static void detach_listener(struct xmppc_state_listener *l)
{
    xmppc_conn *c = l->conn;
    if (!c)
        return;
    for (size_t i = 0; i < c->nlisteners; i++)
        if (c->listeners[i] == l) {
            memmove(&c->listeners[i], &c->listeners[i + 1],
                    (c->nlisteners - i - 1) * sizeof l);
            c->nlisteners--;
            break;
        }
    l->conn = NULL;
    if (l->destroy)
        l->destroy(l->userdata);
    if ((l->floating || l->orphaned) && !l->running)
        xmppc_free(l);
}

static void notify_state_listeners(xmppc_conn *c, xmppc_conn_state state,
                                   const xmppc_error *err)
{
    /* A snapshot: listeners may add or remove listeners. Each one is kept
     * alive while its callback runs. */
    size_t n = c->nlisteners;
    if (n == 0)
        return;
    struct xmppc_state_listener *stack[16];
    struct xmppc_state_listener **snap =
        n <= 16 ? stack : xmppc__calloc(n, sizeof *snap);
    if (!snap)
        return; /* out of memory: listeners miss this change (logged) */
    memcpy(snap, c->listeners, n * sizeof *snap);
    for (size_t i = 0; i < n; i++)
        snap[i]->running++;
    for (size_t i = 0; i < n; i++)
        if (snap[i]->conn == c)
            snap[i]->cb(c, state, err, snap[i]->userdata);
    for (size_t i = 0; i < n; i++) {
        struct xmppc_state_listener *l = snap[i];
        if (--l->running == 0 && !l->conn && (l->floating || l->orphaned))
            xmppc_free(l);
    }
    if (snap != stack)
        xmppc_free(snap);
}

XMPPC_API void xmppc_state_listener_remove(xmppc_state_listener *l)
{
    if (l)
        detach_listener(l);
}

XMPPC_API void xmppc_state_listener_free(xmppc_state_listener *l)
{
    if (!l)
        return;
    l->orphaned = true;
    if (l->conn) {
        detach_listener(l); /* frees it unless its callback is running */
        return;
    }
    if (!l->running)
        xmppc_free(l);
}

static void drop_state_listeners(xmppc_conn *c)
{
    while (c->nlisteners > 0)
        detach_listener(c->listeners[c->nlisteners - 1]);
    xmppc_free(c->listeners);
    c->listeners = NULL;
}
