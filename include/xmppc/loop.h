/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/loop.h
 * @brief The built-in event loop and blocking helpers.
 *
 * ::xmppc_loop runs any number of connections on one thread (epoll on
 * Linux). It is written only on the public io.h API, so an application
 * loop can do everything it does. The `_sync` helpers run a private loop
 * for one connection until something happens; they are for bots and
 * command-line tools, and refuse (XMPPC_ESTATE) when called from inside a
 * libxmppc callback or on a connection driven by application callbacks.
 *
 * @since 0.1
 */
#ifndef XMPPC_LOOP_H
#define XMPPC_LOOP_H

#include <xmppc/common.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** A built-in event loop (opaque). */
typedef struct xmppc_loop xmppc_loop;

/** Creates a loop. @return 0; XMPPC_EIO; XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_loop_new(xmppc_loop **out);

/** Frees a loop; connections still attached are detached (not closed).
 * NULL-safe. @since 0.1 */
XMPPC_API void xmppc_loop_free(xmppc_loop *loop);

/**
 * Attaches a connection (the loop takes a reference until it is
 * detached or the loop is freed). A connection is attached to one loop.
 * @return 0; XMPPC_ESTATE when it has io callbacks already; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_loop_add(xmppc_loop *loop, xmppc_conn *conn);

/** Detaches a connection (its io callbacks are cleared). @since 0.1 */
XMPPC_API int xmppc_loop_remove(xmppc_loop *loop, xmppc_conn *conn);

/**
 * Runs until xmppc_loop_stop() or until no attached connection is active
 * (all disconnected).
 * @return 0; XMPPC_EIO when waiting failed.
 * @since 0.1
 */
XMPPC_API int xmppc_loop_run(xmppc_loop *loop);

/**
 * Runs one iteration, waiting at most @p timeout_ms (-1: until something
 * happens).
 * @return 0; XMPPC_EIO.
 * @since 0.1
 */
XMPPC_API int xmppc_loop_run_once(xmppc_loop *loop, int timeout_ms);

/** Makes xmppc_loop_run() return after the current iteration. Call it on
 * the loop's thread (from a callback), or use xmppc_conn_post().
 * @since 0.1 */
XMPPC_API void xmppc_loop_stop(xmppc_loop *loop);

/**
 * Runs @p conn on a private loop until it is disconnected or
 * xmppc_conn_stop() is called; connects first if it is disconnected.
 * @return 0 after a clean disconnect or a stop; otherwise the status of
 *         the failure that ended the connection.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_run(xmppc_conn *conn);

/** Makes xmppc_conn_run() return. @since 0.1 */
XMPPC_API void xmppc_conn_stop(xmppc_conn *conn);

/**
 * Connects and waits until the connection is ready.
 * @return 0 when XMPPC_STATE_READY; otherwise the status of the failure
 *         (XMPPC_EDNS, XMPPC_ECONNECT, XMPPC_ETLS, XMPPC_ECERT,
 *         XMPPC_EAUTH, XMPPC_ESTREAM, XMPPC_ETIMEDOUT...) with details in
 *         xmppc_error_last().
 * @since 0.1
 */
XMPPC_API int xmppc_conn_connect_sync(xmppc_conn *conn, int timeout_ms);

/**
 * Flushes what is queued, closes the stream gracefully and waits for the
 * server to close too, at most @p timeout_ms.
 * @return 0; XMPPC_ETIMEDOUT (the socket is closed anyway).
 * @since 0.1
 */
XMPPC_API int xmppc_conn_disconnect_sync(xmppc_conn *conn, int timeout_ms);

/**
 * Sends an iq get/set and waits for its reply.
 * @param[out] reply_out the result stanza (caller owns a reference), on
 *             success only.
 * @return 0; XMPPC_ESTANZA (an error reply: details in
 *         xmppc_error_last()); XMPPC_ETIMEDOUT; XMPPC_ECANCELED;
 *         XMPPC_ESTATE; XMPPC_EINVAL.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_send_iq_sync(xmppc_conn *conn, xmppc_stanza *iq,
                                      int timeout_ms, xmppc_stanza **reply_out);

/**
 * Waits until everything queued has been written to the socket and, when
 * @p ack is set, until the server has answered a ping sent after it
 * (proof that it took the stanzas).
 * @return 0; XMPPC_ETIMEDOUT; XMPPC_EDISCONNECTED.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_flush_sync(xmppc_conn *conn, int ack, int timeout_ms);

/** A function run on the connection's thread by xmppc_conn_post(). */
typedef void (*xmppc_post_cb)(xmppc_conn *conn, void *userdata);

/**
 * Queues @p cb to run on the thread driving @p conn, and wakes its loop.
 * The one function that may be called from any thread (hold a reference
 * on @p conn while doing so).
 * @return 0; XMPPC_ENOMEM; XMPPC_EIO.
 * @since 0.1
 */
XMPPC_API int xmppc_conn_post(xmppc_conn *conn, xmppc_post_cb cb,
                              void *userdata);

XMPPC_END_DECLS

#endif /* XMPPC_LOOP_H */
