/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/common.h
 * @brief Export macro, C++ guards and forward declarations shared by every
 *        public header.
 *
 * Thread-safety: declarations only.
 * @since 0.1
 */
#ifndef XMPPC_COMMON_H
#define XMPPC_COMMON_H

#include <stddef.h>

/** Marks a symbol exported from the shared library. */
#if defined(_WIN32) && !defined(XMPPC_STATIC)
#if defined(BUILDING_XMPPC)
#define XMPPC_API __declspec(dllexport)
#else
#define XMPPC_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define XMPPC_API __attribute__((visibility("default")))
#else
#define XMPPC_API
#endif

#ifdef __cplusplus
#define XMPPC_BEGIN_DECLS extern "C" {
#define XMPPC_END_DECLS }
#else
#define XMPPC_BEGIN_DECLS
#define XMPPC_END_DECLS
#endif

/** Marks a function whose use draws a compiler warning naming @p f. */
#if defined(__GNUC__) &&                                                       \
    (__GNUC__ > 4 || (__GNUC__ == 4 && __GNUC_MINOR__ >= 5))
#define XMPPC_DEPRECATED_FOR(f) __attribute__((deprecated("use " #f)))
#else
#define XMPPC_DEPRECATED_FOR(f)
#endif

/** printf-style format checking for the library's own varargs helpers. */
#if defined(__GNUC__)
#define XMPPC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define XMPPC_PRINTF(fmt, args)
#endif

XMPPC_BEGIN_DECLS

/** A socket descriptor as the operating system names it. */
#if defined(_WIN32)
typedef unsigned long long xmppc_socket;
#else
typedef int xmppc_socket;
#endif

/** An XMPP connection (opaque, ref-counted). */
typedef struct xmppc_conn xmppc_conn;
/** An XML element tree: a stanza or one of its children (opaque,
 * ref-counted). */
typedef struct xmppc_stanza xmppc_stanza;

XMPPC_END_DECLS

#endif /* XMPPC_COMMON_H */
