/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include "../xtest.h"
#include "buf.h"

static void test_append_consume_truncate(void)
{
    xmppc__buf b = XMPPC__BUF_INIT;
    XT_EQ_INT(xmppc__buf_append_str(&b, "hello "), 0);
    XT_EQ_INT(xmppc__buf_append(&b, "world!", 5), 0);
    XT_EQ_STR(b.data, "hello world");
    XT_EQ_INT(b.len, 11);
    xmppc__buf_consume(&b, 6);
    XT_EQ_STR(b.data, "world");
    xmppc__buf_truncate(&b, 3);
    XT_EQ_STR(b.data, "wor");
    xmppc__buf_truncate(&b, 10); /* longer than the contents: no-op */
    XT_EQ_INT(b.len, 3);
    xmppc__buf_consume(&b, 100);
    XT_EQ_INT(b.len, 0);
    XT_EQ_STR(b.data, "");
    xmppc__buf_free(&b);
    XT_CHECK(b.data == NULL && b.cap == 0);
}

static void test_growth_is_amortised(void)
{
    xmppc__buf b = XMPPC__BUF_INIT;
    int reallocs = 0;
    size_t cap = 0;
    for (int i = 0; i < 100000; i++) {
        XT_EQ_INT(xmppc__buf_append(&b, "0123456789", 10), 0);
        if (b.cap != cap)
            reallocs++, cap = b.cap;
    }
    XT_EQ_INT(b.len, 1000000);
    XT_CHECK(reallocs < 20); /* doubling, not one step per append */
    xmppc__buf_free(&b);
}

static void test_steal(void)
{
    xmppc__buf b = XMPPC__BUF_INIT;
    size_t len = 7;
    char *empty = xmppc__buf_steal(&b, &len);
    XT_EQ_STR(empty, "");
    XT_EQ_INT(len, 0);
    xmppc_free(empty);
    xmppc__buf_append_str(&b, "abc");
    char *s = xmppc__buf_steal(&b, &len);
    XT_EQ_STR(s, "abc");
    XT_EQ_INT(len, 3);
    XT_CHECK(b.data == NULL && b.len == 0);
    xmppc_free(s);
}

static void test_out_of_memory_keeps_contents(void)
{
    xmppc__buf b = XMPPC__BUF_INIT;
    XT_EQ_INT(xt_failalloc_install(2), 0);
    XT_EQ_INT(xmppc__buf_append_str(&b, "kept"), 0);
    char big[1024] = {0};
    XT_EQ_INT(xmppc__buf_append(&b, big, sizeof big), XMPPC_ENOMEM);
    XT_EQ_STR(b.data, "kept");
    XT_EQ_INT(b.len, 4);
    xmppc__buf_free(&b);
    XT_EQ_INT(xt_failalloc_remove(), 0);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_append_consume_truncate),
        XT_TEST(test_growth_is_amortised), XT_TEST(test_steal),
        XT_TEST(test_out_of_memory_keeps_contents))
