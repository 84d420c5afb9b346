/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The allocator hook and the library's allocation helpers.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmppc-private.h"

static void *system_malloc(size_t size, void *userdata)
{
    (void)userdata;
    return malloc(size);
}

static void *system_realloc(void *ptr, size_t size, void *userdata)
{
    (void)userdata;
    return realloc(ptr, size);
}

static void system_free(void *ptr, void *userdata)
{
    (void)userdata;
    free(ptr);
}

static struct {
    xmppc_malloc_cb malloc_cb;
    xmppc_realloc_cb realloc_cb;
    xmppc_free_cb free_cb;
    void *userdata;
} allocator = {system_malloc, system_realloc, system_free, NULL};

/* Live blocks, so that swapping allocators under live memory is refused and
 * tests can check that everything was released. */
static atomic_size_t live_blocks;

XMPPC_API int xmppc_set_allocator(xmppc_malloc_cb malloc_cb,
                                  xmppc_realloc_cb realloc_cb,
                                  xmppc_free_cb free_cb, void *userdata)
{
    bool all_null = !malloc_cb && !realloc_cb && !free_cb;
    bool all_set = malloc_cb && realloc_cb && free_cb;

    if (!all_null && !all_set)
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_set_allocator: give all three callbacks "
                            "or none");
    size_t live = atomic_load(&live_blocks);
    if (live != 0)
        return xmppc__error(XMPPC_ESTATE,
                            "xmppc_set_allocator: %zu blocks from the current "
                            "allocator are still live",
                            live);
    if (all_null) {
        allocator.malloc_cb = system_malloc;
        allocator.realloc_cb = system_realloc;
        allocator.free_cb = system_free;
        allocator.userdata = NULL;
    } else {
        allocator.malloc_cb = malloc_cb;
        allocator.realloc_cb = realloc_cb;
        allocator.free_cb = free_cb;
        allocator.userdata = userdata;
    }
    return 0;
}

XMPPC_API size_t xmppc_alloc_live_blocks(void)
{
    return atomic_load(&live_blocks);
}

XMPPC_API void xmppc_free(void *ptr)
{
    if (!ptr)
        return;
    allocator.free_cb(ptr, allocator.userdata);
    atomic_fetch_sub(&live_blocks, 1);
}

static void *out_of_memory(size_t size)
{
    xmppc__error(XMPPC_ENOMEM, "out of memory (allocating %zu bytes)", size);
    return NULL;
}

void *xmppc__malloc(size_t size)
{
    if (size == 0)
        size = 1; /* a valid, unique pointer rather than maybe-NULL */
    void *p = allocator.malloc_cb(size, allocator.userdata);
    if (!p)
        return out_of_memory(size);
    atomic_fetch_add(&live_blocks, 1);
    return p;
}

void *xmppc__calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return out_of_memory(SIZE_MAX);
    size_t total = count * size;
    void *p = xmppc__malloc(total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void *xmppc__realloc(void *ptr, size_t size)
{
    if (!ptr)
        return xmppc__malloc(size);
    if (size == 0)
        size = 1;
    void *p = allocator.realloc_cb(ptr, size, allocator.userdata);
    if (!p)
        return out_of_memory(size);
    return p;
}

void *xmppc__reallocarray(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return out_of_memory(SIZE_MAX);
    return xmppc__realloc(ptr, count * size);
}

void *xmppc__memdup(const void *src, size_t len)
{
    void *p = xmppc__malloc(len);
    if (p && len)
        memcpy(p, src, len);
    return p;
}

char *xmppc__strndup(const char *s, size_t max_len)
{
    size_t len = strnlen(s, max_len);
    char *p = xmppc__malloc(len + 1);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *xmppc__strdup(const char *s)
{
    return xmppc__strndup(s, SIZE_MAX);
}

void xmppc__free_secret(char *secret)
{
    if (!secret)
        return;
    /* volatile: the compiler may not drop stores to memory about to die. */
    for (volatile char *p = secret; *p; p++)
        *p = 0;
    xmppc_free(secret);
}
