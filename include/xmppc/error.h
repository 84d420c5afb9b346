/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/error.h
 * @brief Status codes and error details.
 *
 * Every fallible function returns an `int`: zero or a non-negative count on
 * success, a negative ::xmppc_status on failure. The details of the last
 * synchronous failure on the calling thread come from xmppc_error_last().
 * Asynchronous failures (a disconnect, an IQ error reply, a timeout) are
 * handed to the callback concerned as a `const xmppc_error *` argument.
 *
 * Thread-safety: every function here may be called from any thread; the
 * "last error" is kept per thread.
 * @since 0.1
 */
#ifndef XMPPC_ERROR_H
#define XMPPC_ERROR_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/** Status codes. Success is zero (or a non-negative count); failures are
 * negative. New codes are only ever appended. */
typedef enum xmppc_status {
    XMPPC_OK = 0,
    XMPPC_ERROR = -1,     /**< generic failure; see xmppc_error_last() */
    XMPPC_ENOMEM = -2,    /**< out of memory */
    XMPPC_EINVAL = -3,    /**< invalid argument or invalid input data */
    XMPPC_ESTATE = -4,    /**< not allowed in the object's current state */
    XMPPC_EAGAIN = -5,    /**< would block; try again when ready */
    XMPPC_ETIMEDOUT = -6, /**< the operation timed out */
    XMPPC_ECANCELED = -7, /**< canceled (disconnect, free, explicit cancel) */
    XMPPC_ELIMIT = -8,    /**< a configured limit was exceeded */
    XMPPC_ENOTSUP = -9,   /**< not supported (by us or by the peer) */
    XMPPC_EDNS = -10,     /**< name resolution failed */
    XMPPC_ECONNECT = -11, /**< no TCP connection could be established */
    XMPPC_ETLS = -12,     /**< TLS negotiation or record layer failure */
    XMPPC_ECERT = -13,    /**< the server certificate was not accepted */
    XMPPC_EAUTH = -14,    /**< authentication failed */
    XMPPC_ESTREAM = -15,  /**< the server sent a stream error */
    XMPPC_ESTANZA = -16,  /**< a stanza error reply (IQ or message) */
    XMPPC_EDISCONNECTED = -17, /**< the connection is closed */
    XMPPC_EPARSE = -18,        /**< malformed or forbidden XML */
    XMPPC_EPROTO = -19,        /**< the peer broke the XMPP protocol */
    XMPPC_EIO = -20,           /**< an operating-system I/O call failed */
    XMPPC_EUSER = -30,         /**< returned because a callback asked for it */
    XMPPC_EPASSTHROUGH = -31   /**< from a callback: act as if it were unset */
} xmppc_status;

/** The current layout version of ::xmppc_error. */
#define XMPPC_ERROR_VERSION 1

/**
 * Details of a failure. Filled by the library, read by the application.
 *
 * Fields are only ever appended; check @c version before reading a field
 * added after version 1. Strings are borrowed: for xmppc_error_last() they
 * live until the next failing call on the same thread, for an error passed
 * to a callback until the callback returns.
 */
typedef struct xmppc_error {
    unsigned int version;  /**< XMPPC_ERROR_VERSION of the library */
    int code;              /**< an ::xmppc_status (0 when there is no error) */
    const char *message;   /**< human-readable text; never NULL */
    const char *condition; /**< XMPP defined condition such as
                              "item-not-found", or NULL */
    const char *type;      /**< XMPP error type ("cancel", "auth", "modify",
                              "wait", "continue"), or NULL */
    const char *text;      /**< the peer's text element, or NULL */
    xmppc_stanza *stanza;  /**< the offending stanza (borrowed), or NULL */
} xmppc_error;

/**
 * The last error raised on the calling thread.
 *
 * After a function returned a negative status, this describes why. It is
 * not reset by successful calls; call xmppc_error_clear() to reset it.
 *
 * @return a borrowed pointer, never NULL. When no error has been raised on
 *         this thread, @c code is XMPPC_OK and @c message is "no error".
 *         Valid until the next libxmppc call on the same thread.
 * @since 0.1
 */
XMPPC_API const xmppc_error *xmppc_error_last(void);

/**
 * Resets the calling thread's last error to "no error".
 * @since 0.1
 */
XMPPC_API void xmppc_error_clear(void);

/**
 * Sets the calling thread's last error; meant for callbacks (and language
 * bindings) that return XMPPC_EUSER and want to say why.
 *
 * @param code a negative ::xmppc_status.
 * @param message the text to report (copied; truncated to 1023 bytes); NULL
 *        uses xmppc_strerror(code).
 * @return @p code, so that `return xmppc_error_set(XMPPC_EUSER, "...");`
 *         works; XMPPC_EINVAL when @p code is not negative.
 * @since 0.1
 */
XMPPC_API int xmppc_error_set(int code, const char *message);

/**
 * A short static description of a status code.
 *
 * @return a static string, never NULL ("unknown status" for a code this
 *         version does not know).
 * @since 0.1
 */
XMPPC_API const char *xmppc_strerror(int code);

/**
 * The symbolic name of a status code, e.g. "XMPPC_EINVAL"; for bindings
 * that map codes to exceptions.
 *
 * @return a static string, or NULL for an unknown code.
 * @since 0.1
 */
XMPPC_API const char *xmppc_status_name(int code);

XMPPC_END_DECLS

#endif /* XMPPC_ERROR_H */
