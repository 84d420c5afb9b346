/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/io.h
 * @brief Driving a connection from your own event loop (epoll, GLib,
 *        libuv...).
 *
 * A connection uses several sockets over its life: DNS queries, parallel
 * connection attempts (happy eyeballs), then the XMPP socket, plus a
 * wake-up descriptor for xmppc_conn_post(). It tells you which descriptors
 * to watch through the watch callback, and when it next needs time through
 * the timer callback or xmppc_conn_timeout_ms(). You call
 * xmppc_conn_process_fd() when a descriptor is ready and
 * xmppc_conn_process_timeout() when the time has come. Nothing in
 * libxmppc blocks.
 *
 *     epoll_wait(epfd, events, n, xmppc_conn_timeout_ms(conn));
 *     for each event: xmppc_conn_process_fd(conn, fd, XMPPC_IO_READ...);
 *     xmppc_conn_process_timeout(conn);
 *
 * examples/epoll-client.c is a complete program.
 *
 * Thread-safety: as conn.h; call these on the connection's thread.
 * @since 0.1
 */
#ifndef XMPPC_IO_H
#define XMPPC_IO_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/** Event bits for watch callbacks and xmppc_conn_process_fd(). */
#define XMPPC_IO_READ 1u
#define XMPPC_IO_WRITE 2u

/**
 * Start, change or stop watching a descriptor.
 * @param events XMPPC_IO_READ and/or XMPPC_IO_WRITE; 0 means stop watching
 *        (the descriptor may be closed right after).
 * @return 0; a negative value makes the connection fail with XMPPC_EIO.
 * Scope: notified.
 */
typedef int (*xmppc_watch_cb)(xmppc_conn *conn, xmppc_socket fd,
                              unsigned int events, void *userdata);

/**
 * The connection needs xmppc_conn_process_timeout() in @p timeout_ms
 * milliseconds (0 = as soon as possible); -1 cancels the timer.
 * Scope: notified.
 */
typedef int (*xmppc_timer_cb)(xmppc_conn *conn, int timeout_ms, void *userdata);

/**
 * Installs the loop callbacks. Descriptors already in use are announced at
 * once through @p watch. Either callback may be NULL: without @p timer,
 * ask xmppc_conn_timeout_ms() before each wait; without @p watch, ask
 * xmppc_conn_get_fds().
 * @return 0; XMPPC_ESTATE when the connection is attached to the built-in
 *         loop.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_set_io_callbacks(xmppc_conn *conn,
                                          xmppc_watch_cb watch,
                                          xmppc_timer_cb timer, void *userdata);

/**
 * Handles readiness of a descriptor the connection asked to watch.
 * @param revents XMPPC_IO_READ and/or XMPPC_IO_WRITE (report errors and
 *        hang-ups as XMPPC_IO_READ).
 * @return 0 (also when the connection failed: that is reported through the
 *         state callback); XMPPC_EINVAL for a descriptor it does not know.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_process_fd(xmppc_conn *conn, xmppc_socket fd,
                                    unsigned int revents);

/** Runs whatever is due (timeouts, happy-eyeballs steps, iq timeouts).
 * @return 0. @since 0.1 */
XMPPC_API int xmppc_conn_process_timeout(xmppc_conn *conn);

/** Milliseconds until xmppc_conn_process_timeout() is needed; -1 when
 * nothing is scheduled. @since 0.1 */
XMPPC_API int xmppc_conn_timeout_ms(const xmppc_conn *conn);

/** One descriptor and the events wanted on it (for poll()-style loops). */
typedef struct xmppc_pollfd {
    xmppc_socket fd;
    unsigned int events; /**< XMPPC_IO_READ | XMPPC_IO_WRITE */
} xmppc_pollfd;

/**
 * The descriptors to watch now.
 * @param fds an array of @p n entries to fill (may be NULL when n is 0).
 * @return the number of descriptors in use (may exceed @p n: call again
 *         with a larger array).
 * @since 0.1
 */
XMPPC_API int xmppc_conn_get_fds(const xmppc_conn *conn, xmppc_pollfd *fds,
                                 size_t n);

XMPPC_END_DECLS

#endif /* XMPPC_IO_H */
