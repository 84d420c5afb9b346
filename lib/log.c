/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Log routing: a component's own logger, else the process default. The
 * library never prints.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "xmppc-private.h"

/* The level is read without the lock so that disabled logging costs one
 * atomic load; the lock only guards the (cb, userdata) pair. */
static atomic_int default_max_level = XMPPC_LOG_NONE;
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;
static xmppc_log_cb default_cb;
static void *default_userdata;

static bool level_valid(xmppc_log_level level)
{
    return level >= XMPPC_LOG_NONE && level <= XMPPC_LOG_TRACE;
}

XMPPC_API int xmppc_set_log_cb(xmppc_log_cb cb, void *userdata,
                               xmppc_log_level max_level)
{
    if (!level_valid(max_level))
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_set_log_cb: log level %d out of range",
                            (int)max_level);
    pthread_mutex_lock(&default_lock);
    default_cb = cb;
    default_userdata = userdata;
    atomic_store(&default_max_level, cb ? (int)max_level : XMPPC_LOG_NONE);
    pthread_mutex_unlock(&default_lock);
    return 0;
}

XMPPC_API const char *xmppc_log_level_name(xmppc_log_level level)
{
    switch (level) {
    case XMPPC_LOG_NONE:
        return "none";
    case XMPPC_LOG_ERROR:
        return "error";
    case XMPPC_LOG_WARN:
        return "warn";
    case XMPPC_LOG_INFO:
        return "info";
    case XMPPC_LOG_DEBUG:
        return "debug";
    case XMPPC_LOG_TRACE:
        return "trace";
    }
    return "unknown";
}

bool xmppc__log_enabled(const xmppc__logger *logger, xmppc_log_level level)
{
    if (level < XMPPC_LOG_ERROR || level > XMPPC_LOG_TRACE)
        return false;
    if (logger && logger->cb)
        return level <= logger->max_level;
    return (int)level <= atomic_load(&default_max_level);
}

static void deliver(const xmppc__logger *logger, xmppc_log_level level,
                    const char *area, const char *message)
{
    xmppc_conn *conn = logger ? logger->conn : NULL;

    if (logger && logger->cb) {
        logger->cb(conn, level, area, message, logger->userdata);
        return;
    }
    pthread_mutex_lock(&default_lock);
    xmppc_log_cb cb = default_cb;
    void *userdata = default_userdata;
    pthread_mutex_unlock(&default_lock);
    /* Called outside the lock so the callback may itself reconfigure
     * logging. */
    if (cb && (int)level <= atomic_load(&default_max_level))
        cb(conn, level, area, message, userdata);
}

void xmppc__logv(const xmppc__logger *logger, xmppc_log_level level,
                 const char *area, const char *fmt, va_list ap)
{
    if (!xmppc__log_enabled(logger, level))
        return;

    /* Most messages fit on the stack; long ones (XML traces) get an exact
     * heap buffer rather than being cut. */
    char stack_buf[512];
    va_list ap2;
    va_copy(ap2, ap);
    int len = vsnprintf(stack_buf, sizeof stack_buf, fmt, ap);
    if (len < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)len < sizeof stack_buf) {
        va_end(ap2);
        deliver(logger, level, area, stack_buf);
        return;
    }
    char *heap_buf = xmppc__malloc((size_t)len + 1);
    if (heap_buf) {
        vsnprintf(heap_buf, (size_t)len + 1, fmt, ap2);
        deliver(logger, level, area, heap_buf);
        xmppc__free(heap_buf);
    } else {
        deliver(logger, level, area, stack_buf); /* truncated beats lost */
    }
    va_end(ap2);
}

void xmppc__log(const xmppc__logger *logger, xmppc_log_level level,
                const char *area, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xmppc__logv(logger, level, area, fmt, ap);
    va_end(ap);
}
