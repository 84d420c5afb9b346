/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * A tiny test harness: each test is a function; results are printed as TAP
 * so meson shows every subtest; a failed check fails its test and the run.
 *
 *   static void test_something(void) { XT_CHECK(1 + 1 == 2); }
 *   XT_MAIN(XT_TEST(test_something))
 */
#ifndef XMPPC_XTEST_H
#define XMPPC_XTEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppc/xmppc.h>

static int xt_current_failed;

#define XT_FAIL_AT(file, line, ...)                                            \
    do {                                                                       \
        printf("#   %s:%d: ", file, line);                                     \
        printf(__VA_ARGS__);                                                   \
        printf("\n");                                                          \
        xt_current_failed = 1;                                                 \
    } while (0)

#define XT_CHECK(cond)                                                         \
    do {                                                                       \
        if (!(cond))                                                           \
            XT_FAIL_AT(__FILE__, __LINE__, "check failed: %s", #cond);         \
    } while (0)

#define XT_EQ_INT(actual, expected)                                            \
    do {                                                                       \
        intmax_t xt_a_ = (intmax_t)(actual), xt_e_ = (intmax_t)(expected);     \
        if (xt_a_ != xt_e_)                                                    \
            XT_FAIL_AT(__FILE__, __LINE__, "%s == %jd, expected %s == %jd",    \
                       #actual, xt_a_, #expected, xt_e_);                      \
    } while (0)

#define XT_EQ_STR(actual, expected)                                            \
    do {                                                                       \
        const char *xt_a_ = (actual), *xt_e_ = (expected);                     \
        if (!xt_a_ || !xt_e_ ? xt_a_ != xt_e_ : strcmp(xt_a_, xt_e_) != 0)     \
            XT_FAIL_AT(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"",    \
                       #actual, xt_a_ ? xt_a_ : "(null)",                      \
                       xt_e_ ? xt_e_ : "(null)");                              \
    } while (0)

typedef struct xt_test {
    const char *name;
    void (*fn)(void);
} xt_test;

#define XT_TEST(fn)                                                            \
    {                                                                          \
#fn, fn                                                                \
    }

/* Runs every test, each followed by a leak check on the library's own
 * allocation counter. */
static inline int xt_run(const xt_test *tests, size_t count)
{
    int failed = 0;
    printf("1..%zu\n", count);
    for (size_t i = 0; i < count; i++) {
        xt_current_failed = 0;
        size_t live_before = xmppc_alloc_live_blocks();
        tests[i].fn();
        size_t live_after = xmppc_alloc_live_blocks();
        if (live_after != live_before)
            XT_FAIL_AT(__FILE__, __LINE__, "%s leaked %zu libxmppc blocks",
                       tests[i].name, live_after - live_before);
        printf("%sok %zu - %s\n", xt_current_failed ? "not " : "", i + 1,
               tests[i].name);
        fflush(stdout);
        failed += xt_current_failed;
    }
    return failed ? 1 : 0;
}

#define XT_MAIN(...)                                                           \
    int main(void)                                                             \
    {                                                                          \
        static const xt_test xt_tests_[] = {__VA_ARGS__};                      \
        return xt_run(xt_tests_, sizeof xt_tests_ / sizeof xt_tests_[0]);      \
    }

/* Prints @p s as TAP diagnostic lines ("#" first), one per line of @p s,
 * with other control characters escaped. */
static inline void xt_diag(const char *label, const char *s)
{
    printf("#     %s:\n#       ", label);
    if (!s) {
        printf("(null)\n");
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' && p[1])
            printf("\\n\n#       ");
        else if (*p == '\n')
            printf("\\n");
        else if (*p == '\r')
            printf("\\r");
        else if (*p == '\t')
            printf("\\t");
        else if (*p < 0x20)
            printf("\\x%02X", *p);
        else
            putchar(*p);
    }
    putchar('\n');
}

/* ---- a failing allocator for out-of-memory paths ------------------------
 * xt_failalloc_install(n): the n-th allocation from now (1-based) and every
 * later one fail until xt_failalloc_remove(); n = 0 never fails (counting
 * only). */
static struct {
    long countdown; /* allocations left before failing; <0: never */
    long calls;
} xt_failalloc;

static inline void *xt_failalloc_malloc(size_t size, void *ud)
{
    (void)ud;
    xt_failalloc.calls++;
    if (xt_failalloc.countdown >= 0 && xt_failalloc.countdown-- == 0)
        return (xt_failalloc.countdown = 0, NULL);
    return malloc(size);
}

static inline void *xt_failalloc_realloc(void *p, size_t size, void *ud)
{
    (void)ud;
    xt_failalloc.calls++;
    if (xt_failalloc.countdown >= 0 && xt_failalloc.countdown-- == 0)
        return (xt_failalloc.countdown = 0, NULL);
    return realloc(p, size);
}

static inline void xt_failalloc_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static inline int xt_failalloc_install(long nth)
{
    xt_failalloc.countdown = nth > 0 ? nth - 1 : -1;
    xt_failalloc.calls = 0;
    return xmppc_set_allocator(xt_failalloc_malloc, xt_failalloc_realloc,
                               xt_failalloc_free, NULL);
}

static inline int xt_failalloc_remove(void)
{
    return xmppc_set_allocator(NULL, NULL, NULL, NULL);
}

#endif /* XMPPC_XTEST_H */
