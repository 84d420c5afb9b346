/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/alloc.h
 * @brief Memory the library hands out, and the allocator hook.
 *
 * A `char *` (or other buffer) that a libxmppc function returns as owned is
 * released with xmppc_free(), never with free(): the library may be using a
 * custom allocator, and on some platforms the application and the library
 * use different C runtimes.
 *
 * @since 0.1
 */
#ifndef XMPPC_ALLOC_H
#define XMPPC_ALLOC_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/** Allocates @p size bytes (never called with 0); NULL on failure. */
typedef void *(*xmppc_malloc_cb)(size_t size, void *userdata);
/** Resizes @p ptr (never NULL) to @p size bytes (never 0); NULL on failure,
 * leaving @p ptr intact. */
typedef void *(*xmppc_realloc_cb)(void *ptr, size_t size, void *userdata);
/** Releases @p ptr (never NULL). */
typedef void (*xmppc_free_cb)(void *ptr, void *userdata);

/**
 * Releases memory that libxmppc returned as owned. NULL is a no-op.
 *
 * Thread-safety: any thread.
 * @since 0.1
 */
XMPPC_API void xmppc_free(void *ptr);

/**
 * Replaces the allocator libxmppc uses for its own memory (libxml2, GnuTLS,
 * libgsasl and c-ares keep their own allocators).
 *
 * Meant for embedding (custom heaps) and for tests that fail the n-th
 * allocation. All three callbacks are given, or all three are NULL to go
 * back to the C library's malloc/realloc/free.
 *
 * @return 0 on success; XMPPC_EINVAL when only some callbacks are NULL;
 *         XMPPC_ESTATE while memory obtained from the current allocator is
 *         still live (free every libxmppc object first).
 *
 * Thread-safety: call it while no other thread uses libxmppc.
 * @since 0.1
 */
XMPPC_API int xmppc_set_allocator(xmppc_malloc_cb malloc_cb,
                                  xmppc_realloc_cb realloc_cb,
                                  xmppc_free_cb free_cb, void *userdata);

/**
 * The number of blocks currently allocated by libxmppc through its
 * allocator; 0 once every object has been freed. For leak checks in tests
 * and bindings.
 *
 * Thread-safety: any thread.
 * @since 0.1
 */
XMPPC_API size_t xmppc_alloc_live_blocks(void);

XMPPC_END_DECLS

#endif /* XMPPC_ALLOC_H */
