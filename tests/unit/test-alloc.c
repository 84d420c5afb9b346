/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "../xtest.h"
#include "xmppc-private.h"

static void test_live_block_count(void)
{
    size_t base = xmppc_alloc_live_blocks();
    char *a = xmppc__malloc(10);
    char *b = xmppc__calloc(4, 8);
    XT_CHECK(a && b);
    XT_EQ_INT(xmppc_alloc_live_blocks(), base + 2);
    for (int i = 0; i < 32; i++)
        XT_EQ_INT(b[i], 0);
    b = xmppc__realloc(b, 4096);
    XT_CHECK(b != NULL);
    XT_EQ_INT(xmppc_alloc_live_blocks(), base + 2);
    xmppc_free(a);
    xmppc_free(b);
    xmppc_free(NULL);
    XT_EQ_INT(xmppc_alloc_live_blocks(), base);
}

static void test_string_helpers(void)
{
    char *s = xmppc__strdup("héllo");
    XT_EQ_STR(s, "héllo");
    char *t = xmppc__strndup("abcdef", 3);
    XT_EQ_STR(t, "abc");
    char *u = xmppc__strndup("ab", 10);
    XT_EQ_STR(u, "ab");
    unsigned char raw[3] = {0, 1, 255};
    unsigned char *d = xmppc__memdup(raw, sizeof raw);
    XT_CHECK(d && memcmp(d, raw, sizeof raw) == 0);
    xmppc_free(s);
    xmppc_free(t);
    xmppc_free(u);
    xmppc_free(d);
}

static void test_overflow_is_enomem_not_wraparound(void)
{
    xmppc_error_clear();
    XT_CHECK(xmppc__calloc(SIZE_MAX / 2, 3) == NULL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_ENOMEM);
    char *p = xmppc__malloc(8);
    XT_CHECK(xmppc__reallocarray(p, SIZE_MAX / 4, 8) == NULL);
    /* The original block is intact and still owned by the caller. */
    xmppc_free(p);
    xmppc_error_clear();
}

static void test_nth_allocation_fails(void)
{
    XT_EQ_INT(xt_failalloc_install(3), 0);
    char *a = xmppc__malloc(1);
    char *b = xmppc__strdup("two");
    xmppc_error_clear();
    char *c = xmppc__malloc(1);
    XT_CHECK(a && b);
    XT_CHECK(c == NULL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_ENOMEM);
    XT_CHECK(strstr(xmppc_error_last()->message, "out of memory") != NULL);
    /* A failed realloc leaves the block as it was. */
    char *b2 = xmppc__realloc(b, 1 << 20);
    XT_CHECK(b2 == NULL);
    XT_EQ_STR(b, "two");
    XT_EQ_INT(xt_failalloc.calls, 4);
    xmppc_free(a);
    xmppc_free(b);
    XT_EQ_INT(xt_failalloc_remove(), 0);
    xmppc_error_clear();
}

static void test_allocator_swap_refused_while_memory_is_live(void)
{
    char *held = xmppc__malloc(16);
    XT_EQ_INT(xt_failalloc_install(0), XMPPC_ESTATE);
    XT_CHECK(strstr(xmppc_error_last()->message, "still live") != NULL);
    xmppc_free(held);
    XT_EQ_INT(xt_failalloc_install(0), 0);
    char *p = xmppc__malloc(16);
    XT_EQ_INT(xt_failalloc.calls, 1);
    xmppc_free(p);
    XT_EQ_INT(xt_failalloc_remove(), 0);
    xmppc_error_clear();
}

static void *dummy_malloc(size_t n, void *ud)
{
    (void)ud;
    return malloc(n);
}

static void test_partial_allocator_is_einval(void)
{
    XT_EQ_INT(xmppc_set_allocator(dummy_malloc, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "all three") != NULL);
    /* Still on the system allocator. */
    char *p = xmppc__malloc(4);
    XT_CHECK(p != NULL);
    xmppc_free(p);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_live_block_count), XT_TEST(test_string_helpers),
        XT_TEST(test_overflow_is_enomem_not_wraparound),
        XT_TEST(test_nth_allocation_fails),
        XT_TEST(test_allocator_swap_refused_while_memory_is_live),
        XT_TEST(test_partial_allocator_is_einval))
