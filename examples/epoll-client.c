/*
 * libxmppc example: the echo bot driven by the application's own epoll
 * loop through the external-loop API (io.h). Same options as echo-bot.
 * SPDX-License-Identifier: MIT
 *
 * The application owns the loop: libxmppc tells it which descriptors to
 * watch (DNS, connection attempts, the XMPP socket, its wake-up fd) and
 * how long it may sleep; the application reports readiness back.
 */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <sys/epoll.h>

#include "example-options.h"

struct app {
    int epfd;
    int echoes, max_echoes;
    volatile sig_atomic_t stop;
};

static struct app app = {.epfd = -1};

static void on_signal(int sig)
{
    (void)sig;
    app.stop = 1;
}

static int on_watch(xmppc_conn *conn, xmppc_socket fd, unsigned int events,
                    void *userdata)
{
    struct app *a = userdata;
    (void)conn;
    if (events == 0)
        return epoll_ctl(a->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 &&
                       errno != ENOENT && errno != EBADF
                   ? -1
                   : 0;
    struct epoll_event e = {0};
    e.data.fd = fd;
    e.events = (events & XMPPC_IO_READ ? EPOLLIN : 0u) |
               (events & XMPPC_IO_WRITE ? EPOLLOUT : 0u);
    if (epoll_ctl(a->epfd, EPOLL_CTL_MOD, fd, &e) < 0 && errno == ENOENT)
        return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &e);
    return 0;
}

static void on_state(xmppc_conn *conn, xmppc_conn_state state,
                     const xmppc_error *err, void *userdata)
{
    (void)userdata;
    if (state == XMPPC_STATE_READY) {
        xmppc_stanza *presence = NULL;
        xmppc_presence_new(&presence, NULL, NULL);
        xmppc_conn_send(conn, presence);
        xmppc_stanza_unref(presence);
        printf("epoll-client: online as %s\n", xmppc_conn_get_bound_jid(conn));
        fflush(stdout);
    } else if (state == XMPPC_STATE_DISCONNECTED && err) {
        fprintf(stderr, "xmppc: %s\n", err->message);
    }
}

static int on_message(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    struct app *a = userdata;
    const char *body = xmppc_message_get_body(msg);
    const char *type = xmppc_stanza_get_type(msg);
    if (!body || (type && strcmp(type, "error") == 0))
        return XMPPC_CONTINUE;
    printf("echo: %s: %s\n", xmppc_stanza_get_from(msg), body);
    fflush(stdout);
    xmppc_chat_reply_text(conn, msg, body);
    if (a->max_echoes && ++a->echoes >= a->max_echoes)
        xmppc_conn_disconnect(conn);
    return XMPPC_HANDLED;
}

int main(int argc, char **argv)
{
    example_options o = {0};
    o.log_level = XMPPC_LOG_NONE;
    for (int i = 1; i < argc; i++) {
        int r = example_option(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 0 && strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            app.max_echoes = atoi(argv[++i]);
        } else if (r == 0) {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    xmppc_conn *conn = example_connection(&o);
    if (!conn)
        return 1;
    app.epfd = epoll_create1(EPOLL_CLOEXEC);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    xmppc_conn_set_state_cb(conn, on_state, &app);
    xmppc_conn_add_handler(conn, NULL, "message", NULL, NULL, on_message, &app,
                           NULL);
    if (xmppc_conn_set_io_callbacks(conn, on_watch, NULL /* pull timeouts */,
                                    &app) < 0 ||
        xmppc_conn_connect(conn) < 0) { /* returns at once */
        fprintf(stderr, "xmppc: %s\n", xmppc_error_last()->message);
        xmppc_conn_unref(conn);
        return 1;
    }
    bool disconnecting = false;
    while (xmppc_conn_get_state(conn) != XMPPC_STATE_DISCONNECTED) {
        if (app.stop && !disconnecting) {
            disconnecting = true;
            xmppc_conn_disconnect(conn);
        }
        struct epoll_event events[16];
        int timeout = xmppc_conn_timeout_ms(conn);
        if (timeout < 0 || timeout > 200)
            timeout = 200; /* notice signals promptly */
        int n = epoll_wait(app.epfd, events, 16, timeout);
        for (int i = 0; i < n; i++) {
            unsigned int rev =
                (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)
                     ? XMPPC_IO_READ
                     : 0u) |
                (events[i].events & EPOLLOUT ? XMPPC_IO_WRITE : 0u);
            xmppc_conn_process_fd(conn, events[i].data.fd, rev);
        }
        if (xmppc_conn_timeout_ms(conn) == 0)
            xmppc_conn_process_timeout(conn);
    }
    int failed = xmppc_conn_get_error(conn) != NULL;
    xmppc_conn_unref(conn);
    printf("epoll-client: done (%d echoes)\n", app.echoes);
    return failed;
}
