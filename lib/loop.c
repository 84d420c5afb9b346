/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The built-in event loop (epoll) and the blocking helpers. The loop uses
 * only the public external-loop API of io.h, so an application's own loop
 * can do everything this one does.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "conn-private.h"

struct xmppc_loop {
    int epfd;
    xmppc_conn **conns;
    bool *owns_ref; /* false for a connection's private loop (no cycle) */
    size_t nconns, conns_cap;
    xmppc_conn **fd_owner; /* indexed by descriptor */
    size_t fd_cap;
    bool stop;
};

XMPPC_API int xmppc_loop_new(xmppc_loop **out)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_loop_new: out is NULL");
    xmppc_loop *loop = xmppc__calloc(1, sizeof *loop);
    if (!loop)
        return XMPPC_ENOMEM;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        int err = errno;
        xmppc_free(loop);
        return xmppc__error(XMPPC_EIO, "epoll_create1: %s", strerror(err));
    }
    *out = loop;
    return 0;
}

static int grow_fd_table(xmppc_loop *loop, int fd)
{
    if ((size_t)fd < loop->fd_cap)
        return 0;
    size_t cap = loop->fd_cap ? loop->fd_cap : 64;
    while (cap <= (size_t)fd)
        cap *= 2;
    xmppc_conn **p = xmppc__reallocarray(loop->fd_owner, cap, sizeof *p);
    if (!p)
        return XMPPC_ENOMEM;
    memset(p + loop->fd_cap, 0, (cap - loop->fd_cap) * sizeof *p);
    loop->fd_owner = p;
    loop->fd_cap = cap;
    return 0;
}

static int loop_watch(xmppc_conn *conn, xmppc_socket fd, unsigned int events,
                      void *userdata)
{
    xmppc_loop *loop = userdata;
    if (fd < 0 || grow_fd_table(loop, fd) < 0)
        return -1;
    if (events == 0) {
        if (loop->fd_owner[fd] == conn) {
            epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
            loop->fd_owner[fd] = NULL;
        }
        return 0;
    }
    struct epoll_event ev = {0};
    ev.events = (events & XMPPC_IO_READ ? EPOLLIN : 0u) |
                (events & XMPPC_IO_WRITE ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    int op = loop->fd_owner[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0 &&
        !(op == EPOLL_CTL_MOD && errno == ENOENT &&
          epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0))
        return -1;
    loop->fd_owner[fd] = conn;
    return 0;
}

static int attach(xmppc_loop *loop, xmppc_conn *conn, bool take_ref)
{
    if (conn->loop)
        return xmppc__error(XMPPC_ESTATE,
                            "the connection is attached to a loop already");
    if (conn->watch_cb || conn->timer_cb)
        return xmppc__error(XMPPC_ESTATE,
                            "the connection is driven by application io "
                            "callbacks");
    if (loop->nconns == loop->conns_cap) {
        size_t cap = loop->conns_cap ? loop->conns_cap * 2 : 8;
        xmppc_conn **p = xmppc__reallocarray(loop->conns, cap, sizeof *p);
        if (!p)
            return XMPPC_ENOMEM;
        loop->conns = p;
        bool *q = xmppc__reallocarray(loop->owns_ref, cap, sizeof *q);
        if (!q)
            return XMPPC_ENOMEM;
        loop->owns_ref = q;
        loop->conns_cap = cap;
    }
    conn->loop = loop;
    int rc = xmppc_conn_set_io_callbacks(conn, loop_watch, NULL, loop);
    if (rc < 0) {
        xmppc_conn_set_io_callbacks(conn, NULL, NULL, loop);
        conn->loop = NULL;
        return rc;
    }
    loop->conns[loop->nconns] = take_ref ? xmppc_conn_ref(conn) : conn;
    loop->owns_ref[loop->nconns] = take_ref;
    loop->nconns++;
    return 0;
}

XMPPC_API int xmppc_loop_add(xmppc_loop *loop, xmppc_conn *conn)
{
    if (!loop || !conn)
        return xmppc__error(XMPPC_EINVAL, "xmppc_loop_add: NULL argument");
    return attach(loop, conn, true);
}

XMPPC_API int xmppc_loop_remove(xmppc_loop *loop, xmppc_conn *conn)
{
    if (!loop || !conn)
        return xmppc__error(XMPPC_EINVAL, "xmppc_loop_remove: NULL argument");
    for (size_t i = 0; i < loop->nconns; i++) {
        if (loop->conns[i] != conn)
            continue;
        bool owned = loop->owns_ref[i];
        loop->conns[i] = loop->conns[loop->nconns - 1];
        loop->owns_ref[i] = loop->owns_ref[loop->nconns - 1];
        loop->nconns--;
        xmppc_conn_set_io_callbacks(conn, NULL, NULL, loop);
        conn->loop = NULL;
        if (owned)
            xmppc_conn_unref(conn);
        return 0;
    }
    return xmppc__error(XMPPC_EINVAL, "the connection is not in this loop");
}

XMPPC_API void xmppc_loop_free(xmppc_loop *loop)
{
    if (!loop)
        return;
    while (loop->nconns > 0)
        xmppc_loop_remove(loop, loop->conns[0]);
    close(loop->epfd);
    xmppc_free(loop->conns);
    xmppc_free(loop->owns_ref);
    xmppc_free(loop->fd_owner);
    xmppc_free(loop);
}

XMPPC_API int xmppc_loop_run_once(xmppc_loop *loop, int timeout_ms)
{
    if (!loop)
        return xmppc__error(XMPPC_EINVAL, "loop is NULL");
    /* Pull-style timers: wait no longer than the nearest deadline. */
    for (size_t i = 0; i < loop->nconns; i++) {
        int t = xmppc_conn_timeout_ms(loop->conns[i]);
        if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
            timeout_ms = t;
    }
    struct epoll_event events[64];
    int n = epoll_wait(loop->epfd, events, 64, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return xmppc__error(XMPPC_EIO, "epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        int fd = events[i].data.fd;
        xmppc_conn *conn =
            (size_t)fd < loop->fd_cap ? loop->fd_owner[fd] : NULL;
        if (!conn)
            continue; /* removed by an earlier event of this batch */
        unsigned int rev =
            (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? XMPPC_IO_READ
                                                                : 0u) |
            (events[i].events & EPOLLOUT ? XMPPC_IO_WRITE : 0u);
        xmppc_conn_ref(conn); /* a callback may drop the last reference */
        xmppc_conn_process_fd(conn, fd, rev);
        xmppc_conn_unref(conn);
    }
    for (size_t i = 0; i < loop->nconns; i++) {
        xmppc_conn *conn = loop->conns[i];
        if (xmppc_conn_timeout_ms(conn) == 0) {
            xmppc_conn_ref(conn);
            xmppc_conn_process_timeout(conn);
            xmppc_conn_unref(conn);
        }
    }
    return 0;
}

static bool any_active(const xmppc_loop *loop)
{
    for (size_t i = 0; i < loop->nconns; i++)
        if (xmppc__conn_is_active(loop->conns[i]))
            return true;
    return false;
}

XMPPC_API int xmppc_loop_run(xmppc_loop *loop)
{
    if (!loop)
        return xmppc__error(XMPPC_EINVAL, "loop is NULL");
    loop->stop = false;
    while (!loop->stop && any_active(loop)) {
        int rc = xmppc_loop_run_once(loop, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

XMPPC_API void xmppc_loop_stop(xmppc_loop *loop)
{
    if (loop)
        loop->stop = true;
}

/* ---- blocking helpers ---------------------------------------------------- */

/* The loop a blocking helper may run: the connection's built-in loop, or a
 * private one made on first use. */
static int sync_loop(xmppc_conn *conn, xmppc_loop **loop_out)
{
    if (!conn)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (conn->busy)
        return xmppc__error(XMPPC_ESTATE,
                            "blocking calls are not allowed inside "
                            "libxmppc callbacks");
    if (!conn->loop) {
        xmppc_loop *loop = NULL;
        int rc = xmppc_loop_new(&loop);
        if (rc == 0 && (rc = attach(loop, conn, false)) < 0)
            xmppc_loop_free(loop);
        if (rc < 0)
            return rc;
        conn->private_loop = loop;
    }
    *loop_out = conn->loop;
    return 0;
}

/* Milliseconds left before @p deadline (0 = none: -1). */
static int remaining(uint64_t deadline)
{
    if (!deadline)
        return -1;
    uint64_t now = xmppc__now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

static uint64_t deadline_in(int timeout_ms)
{
    return timeout_ms < 0 ? 0 : xmppc__now_ms() + (uint64_t)timeout_ms;
}

/* The status the connection ended with, as the thread's last error. */
static int ended_status(xmppc_conn *conn)
{
    const xmppc_error *err = xmppc_conn_get_error(conn);
    if (!err)
        return xmppc__error(XMPPC_EDISCONNECTED, "disconnected");
    return xmppc__error_xmpp(err->code, err->condition, err->type, err->text,
                             "%s", err->message);
}

XMPPC_API int xmppc_conn_connect_sync(xmppc_conn *conn, int timeout_ms)
{
    xmppc_loop *loop;
    int rc = sync_loop(conn, &loop);
    if (rc < 0)
        return rc;
    if (conn->state == XMPPC_STATE_DISCONNECTED &&
        (rc = xmppc_conn_connect(conn)) < 0)
        return rc;
    uint64_t deadline = deadline_in(timeout_ms);
    while (conn->state != XMPPC_STATE_READY &&
           conn->state != XMPPC_STATE_DISCONNECTED) {
        int left = remaining(deadline);
        if (left == 0) {
            xmppc__conn_abort(conn);
            return xmppc__error(XMPPC_ETIMEDOUT, "not connected after %d ms",
                                timeout_ms);
        }
        if ((rc = xmppc_loop_run_once(loop, left)) < 0)
            return rc;
    }
    return conn->state == XMPPC_STATE_READY ? 0 : ended_status(conn);
}

XMPPC_API int xmppc_conn_disconnect_sync(xmppc_conn *conn, int timeout_ms)
{
    xmppc_loop *loop;
    int rc = sync_loop(conn, &loop);
    if (rc < 0)
        return rc;
    if (conn->state == XMPPC_STATE_DISCONNECTED)
        return 0;
    if ((rc = xmppc_conn_disconnect(conn)) < 0)
        return rc;
    uint64_t deadline = deadline_in(timeout_ms);
    while (conn->state != XMPPC_STATE_DISCONNECTED) {
        int left = remaining(deadline);
        if (left == 0) {
            xmppc__conn_abort(conn);
            return xmppc__error(XMPPC_ETIMEDOUT,
                                "the server did not close the stream within "
                                "%d ms; closed the socket",
                                timeout_ms);
        }
        if ((rc = xmppc_loop_run_once(loop, left)) < 0)
            return rc;
    }
    return 0;
}

XMPPC_API int xmppc_conn_run(xmppc_conn *conn)
{
    xmppc_loop *loop;
    int rc = sync_loop(conn, &loop);
    if (rc < 0)
        return rc;
    if (conn->state == XMPPC_STATE_DISCONNECTED &&
        (rc = xmppc_conn_connect(conn)) < 0)
        return rc;
    conn->run_stop = false;
    while (!conn->run_stop && conn->state != XMPPC_STATE_DISCONNECTED)
        if ((rc = xmppc_loop_run_once(loop, -1)) < 0)
            return rc;
    if (conn->state == XMPPC_STATE_DISCONNECTED && xmppc_conn_get_error(conn))
        return ended_status(conn);
    return 0;
}

XMPPC_API void xmppc_conn_stop(xmppc_conn *conn)
{
    if (conn)
        conn->run_stop = true;
}

struct iq_wait {
    bool done;
    xmppc_stanza *reply;
    xmppc__error_store error;
    bool failed;
};

static void iq_wait_done(xmppc_conn *conn, xmppc_stanza *reply,
                         const xmppc_error *err, void *userdata)
{
    struct iq_wait *w = userdata;
    (void)conn;
    w->done = true;
    if (err) {
        w->failed = true;
        xmppc__error_store_set(&w->error, err->code, err->condition, err->type,
                               err->text, "%s", err->message);
    } else {
        w->reply = xmppc_stanza_ref(reply);
    }
}

XMPPC_API int xmppc_conn_send_iq_sync(xmppc_conn *conn, xmppc_stanza *iq,
                                      int timeout_ms, xmppc_stanza **reply_out)
{
    xmppc_loop *loop;
    int rc = sync_loop(conn, &loop);
    if (rc < 0)
        return rc;
    struct iq_wait w = {0};
    rc = xmppc_conn_send_iq(conn, iq, timeout_ms > 0 ? (unsigned)timeout_ms : 0,
                            iq_wait_done, &w, NULL);
    if (rc < 0)
        return rc;
    /* The request's own timeout guarantees the callback. */
    while (!w.done)
        if ((rc = xmppc_loop_run_once(loop, -1)) < 0)
            return rc;
    if (w.failed)
        return xmppc__error_from_store(&w.error);
    if (reply_out)
        *reply_out = w.reply;
    else
        xmppc_stanza_unref(w.reply);
    return 0;
}

XMPPC_API int xmppc_conn_flush_sync(xmppc_conn *conn, int ack, int timeout_ms)
{
    xmppc_loop *loop;
    int rc = sync_loop(conn, &loop);
    if (rc < 0)
        return rc;
    uint64_t deadline = deadline_in(timeout_ms);
    if (ack) {
        /* Any answer to a ping sent after the stanzas proves the server
         * read them: it processes a stream in order. */
        xmppc_stanza *ping = NULL, *payload = NULL, *reply = NULL;
        rc = xmppc_iq_new(&ping, "get", conn->domain, NULL);
        if (rc == 0)
            rc = xmppc_stanza_new(&payload, "ping", "urn:xmpp:ping");
        if (rc == 0)
            rc = xmppc_stanza_add_child(ping, payload);
        if (rc == 0)
            rc = xmppc_conn_send_iq_sync(conn, ping, timeout_ms, &reply);
        xmppc_stanza_unref(payload);
        xmppc_stanza_unref(ping);
        xmppc_stanza_unref(reply);
        return rc == XMPPC_ESTANZA ? 0 : rc;
    }
    while (xmppc__conn_pending_output(conn) > 0) {
        if (conn->state == XMPPC_STATE_DISCONNECTED)
            return ended_status(conn);
        int left = remaining(deadline);
        if (left == 0)
            return xmppc__error(XMPPC_ETIMEDOUT,
                                "output not written after "
                                "%d ms",
                                timeout_ms);
        if ((rc = xmppc_loop_run_once(loop, left)) < 0)
            return rc;
    }
    return 0;
}

void xmppc__loop_free_private(xmppc_conn *conn)
{
    if (conn->private_loop) {
        xmppc_loop *loop = conn->private_loop;
        conn->private_loop = NULL;
        xmppc_loop_free(loop);
    }
}
