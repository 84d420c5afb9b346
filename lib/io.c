/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Event-loop integration (io.h): which descriptors a connection wants
 * watched, when it next needs time, and the cross-thread post queue with
 * its eventfd wake-up.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "conn-private.h"

uint64_t xmppc__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static xmppc__watch *find_watch(const xmppc_conn *c, int fd)
{
    for (size_t i = 0; i < c->nwatches; i++)
        if (c->watches[i].fd == fd)
            return &c->watches[i];
    return NULL;
}

int xmppc__io_watch(xmppc_conn *c, int fd, unsigned int events)
{
    xmppc__watch *w = find_watch(c, fd);
    if (w && w->events == events)
        return 0;
    if (!w && events == 0)
        return 0;
    if (!w) {
        if (c->nwatches == c->watches_cap) {
            size_t cap = c->watches_cap ? c->watches_cap * 2 : 4;
            xmppc__watch *p = xmppc__reallocarray(c->watches, cap, sizeof *p);
            if (!p)
                return XMPPC_ENOMEM;
            c->watches = p;
            c->watches_cap = cap;
        }
        w = &c->watches[c->nwatches++];
        w->fd = fd;
    }
    w->events = events;
    if (events == 0)
        *w = c->watches[--c->nwatches];
    if (c->watch_cb && c->watch_cb(c, fd, events, c->io_ud) < 0)
        return xmppc__error(XMPPC_EIO,
                            "the application's watch callback failed for "
                            "descriptor %d",
                            fd);
    return 0;
}

XMPPC_API int xmppc_conn_timeout_ms(const xmppc_conn *c)
{
    if (!c)
        return -1;
    uint64_t deadline = xmppc__conn_next_deadline(c);
    if (deadline == 0)
        return -1;
    uint64_t now = xmppc__now_ms();
    if (deadline <= now)
        return 0;
    uint64_t ms = deadline - now;
    return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

void xmppc__io_update_timer(xmppc_conn *c)
{
    if (!c->timer_cb)
        return;
    int ms = xmppc_conn_timeout_ms(c);
    /* Only changes are reported; a due timer is re-reported each time. */
    if (ms != c->reported_timeout || ms == 0) {
        c->reported_timeout = ms;
        c->timer_cb(c, ms, c->io_ud);
    }
}

/* The eventfd is created on the owner thread; xmppc_conn_post() only
 * writes to it. */
static int ensure_wake_fd(xmppc_conn *c)
{
    pthread_mutex_lock(&c->post_lock);
    int fd = c->wake_fd;
    if (fd < 0) {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        c->wake_fd = fd;
    }
    bool pending = c->posts != NULL;
    pthread_mutex_unlock(&c->post_lock);
    if (fd < 0)
        return xmppc__error(XMPPC_EIO, "eventfd: %s", strerror(errno));
    if (pending) { /* posted before there was anything to wake */
        uint64_t one = 1;
        ssize_t n = write(fd, &one, sizeof one);
        (void)n;
    }
    return xmppc__io_watch(c, fd, XMPPC_IO_READ);
}

XMPPC_API int xmppc_conn_set_io_callbacks(xmppc_conn *c, xmppc_watch_cb watch,
                                          xmppc_timer_cb timer, void *userdata)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (c->loop && userdata != (void *)c->loop)
        return xmppc__error(XMPPC_ESTATE,
                            "the connection is attached to a built-in loop");
    /* Descriptors the old loop watched are dropped from it first. */
    if (c->watch_cb)
        for (size_t i = 0; i < c->nwatches; i++)
            c->watch_cb(c, c->watches[i].fd, 0, c->io_ud);
    c->watch_cb = watch;
    c->timer_cb = timer;
    c->io_ud = userdata;
    c->reported_timeout = -2;
    if (!watch && !timer)
        return 0;
    int rc = ensure_wake_fd(c);
    if (rc < 0)
        return rc;
    if (watch)
        for (size_t i = 0; i < c->nwatches; i++)
            if (watch(c, c->watches[i].fd, c->watches[i].events, userdata) < 0)
                return xmppc__error(XMPPC_EIO,
                                    "the application's watch callback failed");
    xmppc__io_update_timer(c);
    return 0;
}

XMPPC_API int xmppc_conn_get_fds(const xmppc_conn *c, xmppc_pollfd *fds,
                                 size_t n)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    for (size_t i = 0; i < c->nwatches && i < n; i++) {
        fds[i].fd = c->watches[i].fd;
        fds[i].events = c->watches[i].events;
    }
    return (int)c->nwatches;
}

void xmppc__io_run_posts(xmppc_conn *c)
{
    uint64_t count;
    ssize_t n = read(c->wake_fd, &count, sizeof count); /* drain */
    (void)n;
    pthread_mutex_lock(&c->post_lock);
    xmppc__post *list = c->posts;
    c->posts = NULL;
    pthread_mutex_unlock(&c->post_lock);
    /* The list was built newest first; run in posting order. */
    xmppc__post *ordered = NULL;
    while (list) {
        xmppc__post *next = list->next;
        list->next = ordered;
        ordered = list;
        list = next;
    }
    while (ordered) {
        xmppc__post *p = ordered;
        ordered = p->next;
        p->cb(c, p->userdata);
        xmppc_free(p);
    }
}

XMPPC_API int xmppc_conn_post(xmppc_conn *c, xmppc_post_cb cb, void *userdata)
{
    if (!c || !cb)
        return xmppc__error(XMPPC_EINVAL, "xmppc_conn_post: NULL argument");
    xmppc__post *p = xmppc__malloc(sizeof *p);
    if (!p)
        return XMPPC_ENOMEM;
    p->cb = cb;
    p->userdata = userdata;
    pthread_mutex_lock(&c->post_lock);
    p->next = c->posts;
    c->posts = p;
    int fd = c->wake_fd;
    pthread_mutex_unlock(&c->post_lock);
    if (fd >= 0) {
        uint64_t one = 1;
        if (write(fd, &one, sizeof one) < 0 && errno != EAGAIN)
            return xmppc__error(XMPPC_EIO, "wake-up: %s", strerror(errno));
    }
    return 0;
}

XMPPC_API int xmppc_conn_process_fd(xmppc_conn *c, xmppc_socket fd,
                                    unsigned int revents)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    if (!find_watch(c, fd))
        return xmppc__error(XMPPC_EINVAL,
                            "descriptor %d is not watched by this connection",
                            fd);
    xmppc__conn_enter(c);
    if (fd == c->wake_fd)
        xmppc__io_run_posts(c);
    else
        xmppc__conn_handle_fd(c, fd, revents);
    xmppc__io_update_timer(c);
    xmppc__conn_leave(c);
    return 0;
}

XMPPC_API int xmppc_conn_process_timeout(xmppc_conn *c)
{
    if (!c)
        return xmppc__error(XMPPC_EINVAL, "connection is NULL");
    xmppc__conn_enter(c);
    xmppc__conn_handle_timeout(c);
    xmppc__io_update_timer(c);
    xmppc__conn_leave(c);
    return 0;
}

void xmppc__io_free(xmppc_conn *c)
{
    if (c->wake_fd >= 0) {
        xmppc__io_watch(c, c->wake_fd, 0);
        close(c->wake_fd);
        c->wake_fd = -1;
    }
    while (c->posts) {
        xmppc__post *p = c->posts;
        c->posts = p->next;
        xmppc_free(p);
    }
    xmppc_free(c->watches);
    c->watches = NULL;
    c->nwatches = c->watches_cap = 0;
}
