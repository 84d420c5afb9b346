/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/log.h
 * @brief Log levels and the log callback.
 *
 * libxmppc never writes to stdout or stderr. Everything it has to say goes
 * to a log callback: the one set on a connection, or else the process-wide
 * default set here. With no callback set, messages are dropped and cost
 * nothing beyond a level check. SASL payloads and passwords are never
 * logged, not even at XMPPC_LOG_TRACE.
 *
 * @since 0.1
 */
#ifndef XMPPC_LOG_H
#define XMPPC_LOG_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/** Log levels, from the most to the least important. */
typedef enum xmppc_log_level {
    XMPPC_LOG_NONE = -1, /**< as a threshold: log nothing */
    XMPPC_LOG_ERROR = 0, /**< a connection or operation failed */
    XMPPC_LOG_WARN = 1,  /**< something unexpected was ignored or refused,
                            e.g. a spoofed roster push */
    XMPPC_LOG_INFO = 2,  /**< state changes: connected, secured, bound */
    XMPPC_LOG_DEBUG = 3, /**< protocol decisions: chosen mechanism, SRV
                            candidates */
    XMPPC_LOG_TRACE = 4  /**< every XML chunk sent and received (SASL
                            redacted) */
} xmppc_log_level;

/**
 * Receives one log message.
 *
 * @param conn the connection the message is about (borrowed), or NULL for
 *        process-wide messages.
 * @param level the message's level.
 * @param area the module that logs, e.g. "tls", "sasl", "xml" (static).
 * @param message the text, without a trailing newline (borrowed for the
 *        call).
 * @param userdata as registered.
 *
 * Scope: notified. Called on the thread that drives @p conn (for process-wide
 * messages, the thread that caused them); it may be called from several
 * threads at once when several connections are driven by several threads.
 */
typedef void (*xmppc_log_cb)(xmppc_conn *conn, xmppc_log_level level,
                             const char *area, const char *message,
                             void *userdata);

/**
 * Sets the process-wide default log callback, used for connections that
 * have none of their own and for messages not tied to a connection.
 *
 * @param cb the callback, or NULL to drop messages.
 * @param userdata passed to @p cb.
 * @param max_level the most verbose level delivered; XMPPC_LOG_NONE
 *        delivers nothing.
 * @return 0, or XMPPC_EINVAL for a level out of range.
 *
 * Thread-safety: may be called from any thread; a message being logged
 * concurrently goes to either the old or the new callback. The previous
 * userdata may still be in use by such a concurrent call when this
 * returns, so free it only once no other thread can be logging.
 * @since 0.1
 */
XMPPC_API int xmppc_set_log_cb(xmppc_log_cb cb, void *userdata,
                               xmppc_log_level max_level);

/**
 * The name of a log level: "error", "warn", "info", "debug", "trace".
 *
 * @return a static string; "unknown" for a value out of range.
 * @since 0.1
 */
XMPPC_API const char *xmppc_log_level_name(xmppc_log_level level);

XMPPC_END_DECLS

#endif /* XMPPC_LOG_H */
