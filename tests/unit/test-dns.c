/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The DNS module without a network: RFC 2782 ordering with a scripted
 * random generator, "." targets, limits, host name checks, IP literals,
 * family interleaving, and the resolver's life cycle on IP literals (which
 * never reach c-ares' sockets). Live lookups are in
 * tests/integration/test-dns-live.c.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "../xtest.h"
#include "dns.h"

/* ---- helpers ------------------------------------------------------------ */

/* A random generator that replays a script and records each max asked. */
typedef struct script_rng {
    const uint32_t *values;
    size_t nvalues, next;
    uint32_t asked[64];
    size_t nasked;
} script_rng;

static uint32_t script_random(void *userdata, uint32_t max)
{
    script_rng *s = userdata;
    if (s->nasked < sizeof s->asked / sizeof s->asked[0])
        s->asked[s->nasked++] = max;
    return s->next < s->nvalues ? s->values[s->next++] : 0;
}

static uint32_t max_random(void *userdata, uint32_t max)
{
    (void)userdata;
    return max;
}

static uint32_t too_big_random(void *userdata, uint32_t max)
{
    (void)userdata;
    (void)max;
    return UINT32_MAX;
}

static xmppc__dns_srv rec(const char *target, uint16_t priority,
                          uint16_t weight)
{
    xmppc__dns_srv r = {(char *)target, 5222, priority, weight, false};
    return r;
}

/* The targets of @p recs joined with spaces, for compact checks. */
static const char *order_of(const xmppc__dns_srv *recs, size_t n)
{
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s",
                                 i ? " " : "", recs[i].target);
    return buf;
}

static xmppc__dns_addr v4(const char *text)
{
    xmppc__dns_addr a;
    XT_CHECK(xmppc__dns_parse_ip_literal(text, 0, &a));
    return a;
}

static const char *addr_str(const xmppc__dns_addr *a)
{
    static char buf[INET6_ADDRSTRLEN];
    const void *bytes =
        a->addr.ss_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)&a->addr)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
    return inet_ntop(a->addr.ss_family, bytes, buf, sizeof buf) ? buf : "?";
}

static unsigned addr_port(const xmppc__dns_addr *a)
{
    if (a->addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->addr)->sin6_port);
}

struct log_capture {
    int warnings, debugs;
    char last[512];
};

static void capture_log(xmppc_conn *conn, xmppc_log_level level,
                        const char *area, const char *message, void *userdata)
{
    struct log_capture *cap = userdata;
    (void)conn;
    (void)area;
    if (level == XMPPC_LOG_WARN)
        cap->warnings++;
    if (level == XMPPC_LOG_DEBUG)
        cap->debugs++;
    snprintf(cap->last, sizeof cap->last, "%s", message);
}

/* ---- host names and IP literals ------------------------------------------ */

static void test_hostname_valid(void)
{
    char label63[64], label64[65], long_name[300];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';

    static const char *const good[] = {
        "xmpp.example.org", "a",
        "a-b.example",      "xn--bcher-kva.example",
        "example.org.",     "1a.example",
        "host1.b2",         "UPPER.Example.ORG"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!xmppc__dns_hostname_valid(good[i]))
            XT_FAIL_AT(__FILE__, __LINE__, "should be valid: %s", good[i]);
    XT_CHECK(xmppc__dns_hostname_valid(label63));

    static const char *const bad[] = {
        "",      ".",         "a..b",      ".a",    "a.b..",
        "-a.b",  "a-.b",      "a.-b",      "a b.c", "a_b.example",
        "a/b",   "127.0.0.1", "1.2.3.4.",  "a.123", "\xc3\xa9.example",
        "a\\.b", "a.b\n",     "*.example", "a@b.c"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (xmppc__dns_hostname_valid(bad[i]))
            XT_FAIL_AT(__FILE__, __LINE__, "should be invalid: \"%s\"", bad[i]);
    XT_CHECK(!xmppc__dns_hostname_valid(label64));
    XT_CHECK(!xmppc__dns_hostname_valid(NULL));

    /* 253 bytes is the most; one trailing dot does not count. */
    size_t len = 0;
    while (len + 64 <= 253) {
        memcpy(long_name + len, label63, 63);
        long_name[len + 63] = '.';
        len += 64;
    }
    /* 192 bytes so far; fill to exactly 253 with a 61-byte label. */
    memset(long_name + len, 'b', 253 - len);
    long_name[253] = '\0';
    XT_EQ_INT(strlen(long_name), 253);
    XT_CHECK(xmppc__dns_hostname_valid(long_name));
    long_name[253] = '.';
    long_name[254] = '\0';
    XT_CHECK(xmppc__dns_hostname_valid(long_name));
    long_name[253] = 'b';
    XT_CHECK(!xmppc__dns_hostname_valid(long_name)); /* 254 bytes */
}

static void test_ip_literals(void)
{
    xmppc__dns_addr a;
    XT_CHECK(xmppc__dns_parse_ip_literal("127.0.0.1", 5222, &a));
    XT_EQ_INT(a.addr.ss_family, AF_INET);
    XT_EQ_INT(a.len, sizeof(struct sockaddr_in));
    XT_EQ_STR(addr_str(&a), "127.0.0.1");
    XT_EQ_INT(addr_port(&a), 5222);

    XT_CHECK(xmppc__dns_parse_ip_literal("[::1]", 5223, &a));
    XT_EQ_INT(a.addr.ss_family, AF_INET6);
    XT_EQ_INT(a.len, sizeof(struct sockaddr_in6));
    XT_EQ_STR(addr_str(&a), "::1");
    XT_EQ_INT(addr_port(&a), 5223);

    XT_CHECK(xmppc__dns_parse_ip_literal("2001:db8::7", 1, &a));
    XT_EQ_STR(addr_str(&a), "2001:db8::7");

    static const char *const not_literals[] = {
        "example.org",  "[127.0.0.1]",  "[::1", "::1]", "1.2.3",
        "1.2.3.4.5",    "fe80::1%eth0", "[]",   "",     "256.1.1.1",
        "[example.org]"};
    for (size_t i = 0; i < sizeof not_literals / sizeof not_literals[0]; i++)
        if (xmppc__dns_parse_ip_literal(not_literals[i], 1, &a))
            XT_FAIL_AT(__FILE__, __LINE__, "not an IP literal: \"%s\"",
                       not_literals[i]);
    XT_CHECK(!xmppc__dns_parse_ip_literal(NULL, 1, &a));
}

/* ---- happy-eyeballs interleaving ----------------------------------------- */

static void test_interleave(void)
{
    xmppc__dns_addr in[8], out[16];
    size_t ignored = 99;
    in[0] = v4("192.0.2.1");
    in[1] = v4("192.0.2.2");
    in[2] = v4("2001:db8::1");
    in[3] = v4("2001:db8::2");
    in[4] = v4("2001:db8::3");
    in[5] = v4("192.0.2.1"); /* duplicate, dropped */
    in[6] = v4("::1");
    size_t n = xmppc__dns_interleave(in, 7, out, 16, &ignored);
    XT_EQ_INT(n, 6);
    XT_EQ_INT(ignored, 0);
    static const char *const want[] = {"2001:db8::1", "192.0.2.1",
                                       "2001:db8::2", "192.0.2.2",
                                       "2001:db8::3", "::1"};
    for (size_t i = 0; i < n && i < 6; i++)
        XT_EQ_STR(addr_str(&out[i]), want[i]);

    /* Truncation keeps both families and says how many were left out. */
    n = xmppc__dns_interleave(in, 7, out, 3, &ignored);
    XT_EQ_INT(n, 3);
    XT_EQ_INT(ignored, 3);
    XT_EQ_STR(addr_str(&out[2]), "2001:db8::2");

    /* One family only: its order is kept. */
    n = xmppc__dns_interleave(in, 2, out, 16, NULL);
    XT_EQ_INT(n, 2);
    XT_EQ_STR(addr_str(&out[0]), "192.0.2.1");
    XT_EQ_STR(addr_str(&out[1]), "192.0.2.2");

    /* The port does not make a different address. */
    xmppc__dns_addr two[2];
    XT_CHECK(xmppc__dns_parse_ip_literal("::1", 1, &two[0]));
    XT_CHECK(xmppc__dns_parse_ip_literal("::1", 2, &two[1]));
    XT_EQ_INT(xmppc__dns_interleave(two, 2, out, 16, &ignored), 1);

    /* Other families and nothing at all. */
    xmppc__dns_addr odd;
    memset(&odd, 0, sizeof odd);
    odd.addr.ss_family = AF_UNIX;
    odd.len = sizeof odd.addr;
    XT_EQ_INT(xmppc__dns_interleave(&odd, 1, out, 16, &ignored), 0);
    XT_EQ_INT(ignored, 0);
    XT_EQ_INT(xmppc__dns_interleave(in, 0, out, 16, &ignored), 0);
}

/* ---- RFC 2782 ordering ----------------------------------------------------
 */

static void test_order_priorities(void)
{
    xmppc__dns_srv r[] = {rec("c", 30, 5), rec("a1", 10, 5), rec("b", 20, 5),
                          rec("a2", 10, 5)};
    script_rng s = {0};
    xmppc__dns_order_srv(r, 4, script_random, &s);
    /* r = 0 picks the first of each group: priorities ascend, and the
     * records of one priority keep their order. */
    XT_EQ_STR(order_of(r, 4), "a1 a2 b c");
    /* One draw per group with more than one record left: only the first
     * group has two. */
    XT_EQ_INT(s.nasked, 1);
    XT_EQ_INT(s.asked[0], 10);
}

static void test_order_weights(void)
{
    /* Running sums A=60, B=100 over [0, 100]. */
    static const struct {
        uint32_t r;
        const char *want;
    } cases[] = {{0, "A B"}, {60, "A B"}, {61, "B A"}, {100, "B A"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmppc__dns_srv r[] = {rec("A", 10, 60), rec("B", 10, 40)};
        script_rng s = {&cases[i].r, 1, 0, {0}, 0};
        xmppc__dns_order_srv(r, 2, script_random, &s);
        XT_EQ_STR(order_of(r, 2), cases[i].want);
        XT_EQ_INT(s.asked[0], 100);
    }

    /* The sum shrinks as records are taken: 10+20+30, then what is left. */
    xmppc__dns_srv r[] = {rec("x", 1, 10), rec("y", 1, 20), rec("z", 1, 30)};
    static const uint32_t values[] = {60, 25};
    script_rng s = {values, 2, 0, {0}, 0};
    xmppc__dns_order_srv(r, 3, script_random, &s);
    XT_EQ_STR(order_of(r, 3), "z y x");
    XT_EQ_INT(s.nasked, 2);
    XT_EQ_INT(s.asked[0], 60);
    XT_EQ_INT(s.asked[1], 30);
}

static void test_order_weight_zero(void)
{
    /* Weight-0 records go first in each draw: only r == 0 picks one. */
    xmppc__dns_srv r[] = {rec("A", 1, 10), rec("Z", 1, 0), rec("B", 1, 20)};
    static const uint32_t zero_first[] = {0, 0};
    script_rng s = {zero_first, 2, 0, {0}, 0};
    xmppc__dns_order_srv(r, 3, script_random, &s);
    XT_EQ_STR(order_of(r, 3), "Z A B");

    xmppc__dns_srv r2[] = {rec("A", 1, 10), rec("Z", 1, 0), rec("B", 1, 20)};
    static const uint32_t one[] = {1, 1};
    script_rng s2 = {one, 2, 0, {0}, 0};
    xmppc__dns_order_srv(r2, 3, script_random, &s2);
    /* r = 1: running sums Z=0, A=10, B=30 pick A; then Z=0, B=20 pick B;
     * the weight-0 record comes last. */
    XT_EQ_STR(order_of(r2, 3), "A B Z");

    /* Only weight 0 left: the sum is 0 and the records keep their order. */
    xmppc__dns_srv r3[] = {rec("p", 7, 0), rec("q", 7, 0), rec("s", 7, 0)};
    script_rng s3 = {0};
    xmppc__dns_order_srv(r3, 3, script_random, &s3);
    XT_EQ_STR(order_of(r3, 3), "p q s");
    XT_EQ_INT(s3.nasked, 2);
    XT_EQ_INT(s3.asked[0], 0);
    XT_EQ_INT(s3.asked[1], 0);

    /* The largest draw takes the heaviest end of the running sums. */
    xmppc__dns_srv r4[] = {rec("A", 1, 10), rec("Z", 1, 0), rec("B", 1, 20)};
    xmppc__dns_order_srv(r4, 3, max_random, NULL);
    XT_EQ_STR(order_of(r4, 3), "B A Z");

    /* A generator out of range is clamped, not trusted. */
    xmppc__dns_srv r5[] = {rec("A", 1, 10), rec("Z", 1, 0), rec("B", 1, 20)};
    xmppc__dns_order_srv(r5, 3, too_big_random, NULL);
    XT_EQ_STR(order_of(r5, 3), "B A Z");
}

static void test_order_default_random(void)
{
    /* Weights 1 and 3. RFC 2782 draws from [0, sum] inclusive, so the
     * first record in the draw owns one value more: the heavier one goes
     * first 3 times in 5, not 3 in 4. */
    int heavy_first = 0;
    for (int i = 0; i < 4000; i++) {
        xmppc__dns_srv r[] = {rec("light", 0, 1), rec("heavy", 0, 3)};
        xmppc__dns_order_srv(r, 2, NULL, NULL);
        heavy_first += strcmp(r[0].target, "heavy") == 0;
    }
    /* 2400 expected, standard deviation about 31. */
    XT_CHECK(heavy_first > 2200 && heavy_first < 2600);
    xmppc__dns_order_srv(NULL, 0, NULL, NULL); /* nothing to do */
}

/* ---- one service's answer --------------------------------------------------
 */

static void test_srv_set_dot(void)
{
    xmppc__dns_srv_set set;
    xmppc__dns_srv dot[] = {rec("", 0, 0)};
    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, dot, 1, false, NULL), 0);
    XT_EQ_INT(set.status, XMPPC__DNS_SRV_NOT_OFFERED);
    XT_EQ_INT(set.count, 0);

    xmppc__dns_srv dot2[] = {rec(".", 0, 0)};
    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, dot2, 1, true, NULL), 0);
    XT_EQ_INT(set.status, XMPPC__DNS_SRV_NOT_OFFERED);

    /* "." among other records is not the "no service" signal: skipped. */
    xmppc__dns_srv mixed[] = {rec(".", 0, 0), rec("xmpp.example.org.", 5, 1)};
    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, mixed, 2, true, NULL), 0);
    XT_EQ_INT(set.status, XMPPC__DNS_SRV_FOUND);
    XT_EQ_INT(set.count, 1);
    XT_EQ_STR(set.recs[0].target, "xmpp.example.org"); /* dot stripped */
    XT_EQ_INT(set.recs[0].priority, 5);
    XT_CHECK(set.recs[0].direct_tls);
    xmppc__dns_srv_set_clear(&set);
    XT_EQ_INT(set.count, 0);

    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, NULL, 0, false, NULL), 0);
    XT_EQ_INT(set.status, XMPPC__DNS_SRV_NONE);
}

static void test_srv_set_invalid_and_limit(void)
{
    struct log_capture cap = {0};
    xmppc__logger logger = {capture_log, &cap, XMPPC_LOG_DEBUG, NULL};
    xmppc__dns_srv_set set;

    xmppc__dns_srv bad[] = {rec("bad_name.example", 0, 0),
                            rec("ok.example", 1, 1), rec("10.0.0.1", 0, 0),
                            rec("evil\x01name.example", 0, 0)};
    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, bad, 4, false, &logger), 0);
    XT_EQ_INT(set.status, XMPPC__DNS_SRV_FOUND);
    XT_EQ_INT(set.count, 1);
    XT_EQ_STR(set.recs[0].target, "ok.example");
    XT_CHECK(!set.recs[0].direct_tls);
    XT_EQ_INT(cap.warnings, 3);
    /* The untrusted name reaches the log sanitized. */
    XT_CHECK(strstr(cap.last, "\"evil?name.example\"") != NULL);
    xmppc__dns_srv_set_clear(&set);

    xmppc__dns_srv all_bad[] = {rec("-x.example", 0, 0), rec("a..b", 0, 0)};
    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, all_bad, 2, false, &logger), 0);
    XT_EQ_INT(set.status, XMPPC__DNS_SRV_UNUSABLE);
    XT_EQ_INT(set.count, 0);
    XT_CHECK(set.recs == NULL);

    /* 40 records: the first 32 valid ones are kept. */
    char names[40][16];
    xmppc__dns_srv many[40];
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "h%d.example", i);
        many[i] = rec(names[i], (uint16_t)i, 1);
    }
    many[0].target = (char *)"not valid"; /* skipped: h1..h32 are kept */
    cap.debugs = 0;
    XT_EQ_INT(xmppc__dns_srv_set_fill(&set, many, 40, false, &logger), 0);
    XT_EQ_INT(set.count, XMPPC__DNS_MAX_SRV);
    XT_EQ_STR(set.recs[0].target, "h1.example");
    XT_EQ_STR(set.recs[31].target, "h32.example");
    XT_EQ_INT(cap.debugs, 1);
    XT_CHECK(strstr(cap.last, "7 more SRV records ignored") != NULL);
    xmppc__dns_srv_set_clear(&set);
}

static void test_srv_set_out_of_memory(void)
{
    xmppc__dns_srv two[] = {rec("a.example", 0, 0), rec("b.example", 0, 0)};
    for (long nth = 1; nth <= 3; nth++) {
        xmppc__dns_srv_set set;
        XT_EQ_INT(xt_failalloc_install(nth), 0);
        int rc = xmppc__dns_srv_set_fill(&set, two, 2, false, NULL);
        XT_EQ_INT(xt_failalloc_remove(), 0);
        XT_EQ_INT(rc, XMPPC_ENOMEM);
        XT_EQ_INT(set.count, 0);
        XT_CHECK(set.recs == NULL);
    }
}

/* ---- what to do with both answers -----------------------------------------
 */

static void test_plan(void)
{
    enum {
        NA = XMPPC__DNS_SRV_NOT_ASKED,
        FOUND = XMPPC__DNS_SRV_FOUND,
        NONE = XMPPC__DNS_SRV_NONE,
        DOT = XMPPC__DNS_SRV_NOT_OFFERED,
        BAD = XMPPC__DNS_SRV_UNUSABLE,
        FAIL = XMPPC__DNS_SRV_FAILED
    };
    static const struct {
        int xmpps, xmpp;
        xmppc__dns_plan want;
    } cases[] = {
        {FOUND, FOUND, XMPPC__DNS_PLAN_SRV},
        {FOUND, DOT, XMPPC__DNS_PLAN_SRV}, /* direct TLS only */
        {DOT, FOUND, XMPPC__DNS_PLAN_SRV},
        {FAIL, FOUND, XMPPC__DNS_PLAN_SRV},
        {NA, FOUND, XMPPC__DNS_PLAN_SRV},
        {DOT, DOT, XMPPC__DNS_PLAN_NOT_OFFERED},
        {NONE, DOT, XMPPC__DNS_PLAN_NOT_OFFERED},
        {NA, DOT, XMPPC__DNS_PLAN_NOT_OFFERED},
        {NONE, NONE, XMPPC__DNS_PLAN_FALLBACK},
        {NA, NONE, XMPPC__DNS_PLAN_FALLBACK},
        {DOT, NONE, XMPPC__DNS_PLAN_FALLBACK}, /* only no direct TLS */
        {FAIL, NONE, XMPPC__DNS_PLAN_FAILED},
        {NONE, FAIL, XMPPC__DNS_PLAN_FAILED},
        {FAIL, DOT, XMPPC__DNS_PLAN_FAILED},
        {BAD, NONE, XMPPC__DNS_PLAN_UNUSABLE},
        {NA, BAD, XMPPC__DNS_PLAN_UNUSABLE},
        {BAD, DOT, XMPPC__DNS_PLAN_NOT_OFFERED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmppc__dns_srv_set a = {(xmppc__dns_srv_status)cases[i].xmpps, NULL, 0};
        xmppc__dns_srv_set b = {(xmppc__dns_srv_status)cases[i].xmpp, NULL, 0};
        xmppc__dns_plan got = xmppc__dns_plan_choose(&a, &b);
        if (got != cases[i].want)
            XT_FAIL_AT(__FILE__, __LINE__, "case %zu: plan %d, expected %d", i,
                       (int)got, (int)cases[i].want);
    }
}

/* ---- the resolver on IP literals (no socket is ever opened) ---------------
 */

struct outcome {
    int calls;
    int code;
    char message[256];
    xmppc__dns_result *result;
};

static void on_done(xmppc__dns_result *result, const xmppc_error *error,
                    void *userdata)
{
    struct outcome *o = userdata;
    o->calls++;
    XT_CHECK((result == NULL) != (error == NULL));
    o->code = error ? error->code : 0;
    if (error)
        snprintf(o->message, sizeof o->message, "%s", error->message);
    xmppc__dns_result_free(o->result);
    o->result = result;
}

static int watch_calls;

static int count_watch(void *userdata, int fd, unsigned events)
{
    (void)userdata;
    (void)fd;
    (void)events;
    watch_calls++;
    return 0;
}

static const xmppc__dns_io io = {count_watch};

/* Nothing listens there, and nothing is ever sent there by these tests. */
#define NOWHERE "127.0.0.1:9"

static void test_resolver_ip_literal(void)
{
    xmppc__dns *dns = NULL;
    struct outcome o = {0};
    watch_calls = 0;
    XT_EQ_INT(xmppc__dns_new(&dns, &io, NULL, NOWHERE, NULL, NULL), 0);
    XT_EQ_INT(xmppc__dns_timeout_ms(dns), -1);
    XT_CHECK(!xmppc__dns_busy(dns));

    XT_EQ_INT(xmppc__dns_resolve(dns, "127.0.0.1", true, on_done, &o), 0);
    XT_EQ_INT(o.calls, 0); /* never inside resolve */
    XT_CHECK(xmppc__dns_busy(dns));
    XT_EQ_INT(xmppc__dns_timeout_ms(dns), 0);
    XT_EQ_INT(xmppc__dns_resolve(dns, "127.0.0.1", true, on_done, &o),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc__dns_process_timeout(dns), 0);
    XT_EQ_INT(o.calls, 1);
    XT_CHECK(!xmppc__dns_busy(dns));
    XT_CHECK(o.result != NULL);
    if (o.result) {
        XT_CHECK(!o.result->from_srv);
        XT_EQ_INT(o.result->count, 1);
        const xmppc__dns_candidate *c = &o.result->candidates[0];
        XT_EQ_STR(c->host, "127.0.0.1");
        XT_EQ_INT(c->port, 5222);
        XT_CHECK(!c->direct_tls);
        XT_EQ_INT(c->naddrs, 1);
        XT_EQ_STR(addr_str(&c->addrs[0]), "127.0.0.1");
        XT_EQ_INT(addr_port(&c->addrs[0]), 5222);
    }
    XT_EQ_INT(xmppc__dns_process_timeout(dns), 0);
    XT_EQ_INT(o.calls, 1); /* exactly once */

    XT_EQ_INT(xmppc__dns_resolve(dns, "[::1]", false, on_done, &o), 0);
    XT_EQ_INT(xmppc__dns_process_fd(dns, 12345, XMPPC__DNS_READ), 0);
    XT_EQ_INT(o.calls, 2); /* any processing call delivers */
    if (o.result) {
        XT_EQ_STR(o.result->candidates[0].host, "[::1]");
        XT_EQ_STR(addr_str(&o.result->candidates[0].addrs[0]), "::1");
    }
    xmppc__dns_result_free(o.result);
    xmppc__dns_free(dns);
    XT_EQ_INT(watch_calls, 0); /* no socket was needed */
}

static void test_resolver_cancel_and_free(void)
{
    xmppc__dns *dns = NULL;
    struct outcome o = {0};
    XT_EQ_INT(xmppc__dns_new(&dns, &io, NULL, NOWHERE, NULL, NULL), 0);

    xmppc__dns_cancel(dns); /* idle: nothing happens */
    XT_EQ_INT(o.calls, 0);

    XT_EQ_INT(xmppc__dns_resolve(dns, "192.0.2.7", false, on_done, &o), 0);
    xmppc__dns_cancel(dns);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.code, XMPPC_ECANCELED);
    XT_CHECK(o.result == NULL);
    XT_EQ_INT(xmppc__dns_process_timeout(dns), 0);
    XT_EQ_INT(o.calls, 1);

    XT_EQ_INT(xmppc__dns_resolve(dns, "192.0.2.8", false, on_done, &o), 0);
    xmppc__dns_free(dns);
    XT_EQ_INT(o.calls, 2);
    XT_EQ_INT(o.code, XMPPC_ECANCELED);
    XT_CHECK(strstr(o.message, "freed") != NULL);
    xmppc__dns_free(NULL);
}

/* The callback may start the next resolution or free the resolver. */
struct chain {
    xmppc__dns *dns;
    int calls;
    bool free_in_callback;
};

static void chain_done(xmppc__dns_result *result, const xmppc_error *error,
                       void *userdata)
{
    struct chain *c = userdata;
    (void)error;
    xmppc__dns_result_free(result);
    if (++c->calls == 1 && !c->free_in_callback) {
        XT_EQ_INT(xmppc__dns_resolve(c->dns, "10.1.2.3", false, chain_done, c),
                  0);
    } else if (c->free_in_callback) {
        xmppc__dns_free(c->dns);
        c->dns = NULL;
    }
}

static void test_resolver_reentry(void)
{
    struct chain c = {NULL, 0, false};
    XT_EQ_INT(xmppc__dns_new(&c.dns, &io, NULL, NOWHERE, NULL, NULL), 0);
    XT_EQ_INT(xmppc__dns_resolve(c.dns, "10.1.2.2", false, chain_done, &c), 0);
    XT_EQ_INT(xmppc__dns_process_timeout(c.dns), 0);
    XT_EQ_INT(c.calls, 1);
    XT_CHECK(xmppc__dns_busy(c.dns));
    XT_EQ_INT(xmppc__dns_process_timeout(c.dns), 0);
    XT_EQ_INT(c.calls, 2);
    xmppc__dns_free(c.dns);

    struct chain f = {NULL, 0, true};
    XT_EQ_INT(xmppc__dns_new(&f.dns, &io, NULL, NOWHERE, NULL, NULL), 0);
    XT_EQ_INT(xmppc__dns_resolve(f.dns, "10.1.2.2", false, chain_done, &f), 0);
    XT_EQ_INT(xmppc__dns_process_timeout(f.dns), 0);
    XT_EQ_INT(f.calls, 1);
    XT_CHECK(f.dns == NULL);
}

static void test_resolver_bad_arguments(void)
{
    xmppc__dns *dns = NULL;
    struct outcome o = {0};
    static const xmppc__dns_io no_watch = {NULL};
    XT_EQ_INT(xmppc__dns_new(NULL, &io, NULL, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_new(&dns, NULL, NULL, NULL, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_new(&dns, &no_watch, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_new(&dns, &io, NULL, "", NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_new(&dns, &io, NULL, "not an address", NULL, NULL),
              XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "not an address") != NULL);
    XT_CHECK(dns == NULL);

    xmppc__dns_config config;
    xmppc__dns_config_default(&config);
    XT_EQ_INT(config.timeout_ms, 2000);
    XT_EQ_INT(config.tries, 2);
    config.timeout_ms = 150;
    XT_EQ_INT(
        xmppc__dns_new(&dns, &io, NULL, "127.0.0.1:9,[::1]:9", &config, NULL),
        0);
    static const char *const bad_domains[] = {
        "", ".", "a..b", "a b", "exa$mple.org", "..", "a.b\n", "\xff.example"};
    for (size_t i = 0; i < sizeof bad_domains / sizeof bad_domains[0]; i++) {
        int rc = xmppc__dns_resolve(dns, bad_domains[i], false, on_done, &o);
        if (rc != XMPPC_EINVAL)
            XT_FAIL_AT(__FILE__, __LINE__, "\"%s\": %d", bad_domains[i], rc);
    }
    XT_EQ_INT(xmppc__dns_resolve(dns, NULL, false, on_done, &o), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_resolve(dns, "127.0.0.1", false, NULL, &o),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_resolve(NULL, "127.0.0.1", false, on_done, &o),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_process_fd(NULL, 3, 1), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_process_timeout(NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dns_timeout_ms(NULL), -1);
    XT_CHECK(!xmppc__dns_busy(NULL));
    XT_EQ_INT(o.calls, 0); /* failed calls never call back */
    xmppc__dns_free(dns);
}

/* Every allocation failing in turn: a clean error, no leak, no call. */
static void test_resolver_out_of_memory(void)
{
    for (long nth = 1; nth < 100; nth++) {
        xmppc__dns *dns = NULL;
        struct outcome o = {0};
        XT_EQ_INT(xt_failalloc_install(nth), 0);
        int rc = xmppc__dns_new(&dns, &io, NULL, NOWHERE, NULL, NULL);
        if (rc == 0)
            rc = xmppc__dns_resolve(dns, "[2001:db8::5]", true, on_done, &o);
        if (rc == 0)
            xmppc__dns_process_timeout(dns);
        long calls = xt_failalloc.calls;
        xmppc__dns_result_free(o.result);
        xmppc__dns_free(dns);
        XT_EQ_INT(xt_failalloc_remove(), 0);
        if (rc < 0) {
            XT_EQ_INT(rc, XMPPC_ENOMEM);
            XT_EQ_INT(o.calls, 0);
        } else {
            XT_EQ_INT(o.calls, 1);
        }
        if (calls < nth)
            break; /* every allocation succeeded: all paths done */
    }
}

XT_MAIN(XT_TEST(test_hostname_valid), XT_TEST(test_ip_literals),
        XT_TEST(test_interleave), XT_TEST(test_order_priorities),
        XT_TEST(test_order_weights), XT_TEST(test_order_weight_zero),
        XT_TEST(test_order_default_random), XT_TEST(test_srv_set_dot),
        XT_TEST(test_srv_set_invalid_and_limit),
        XT_TEST(test_srv_set_out_of_memory), XT_TEST(test_plan),
        XT_TEST(test_resolver_ip_literal),
        XT_TEST(test_resolver_cancel_and_free), XT_TEST(test_resolver_reentry),
        XT_TEST(test_resolver_bad_arguments),
        XT_TEST(test_resolver_out_of_memory))
