/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The DNS module against a real DNS server: run under
 * tests/fixtures/dnsmasq_fixture.py with the records that
 * tests/integration/meson.build gives it, and driven by a tiny poll() loop
 * through the watch callback, as an application's own loop would.
 *
 * Besides the candidate lists it checks the external-loop contract: every
 * socket the process has open during a resolution was announced through
 * watch, every announced socket is withdrawn (events 0) by the time the
 * resolver is freed, and each callback fires exactly once.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../xtest.h"
#include "dns.h"

#define MAX_FDS 64
#define LOOP_LIMIT_MS 20000

static const char *dns_server; /* 127.0.0.1:PORT of the fixture */

/* ---- the application's side: a watch table and a poll() loop ------------ */

typedef struct app_loop {
    struct {
        int fd;
        unsigned events;
    } w[MAX_FDS];
    size_t n;
    int announced;   /* watch calls with events != 0 for a new fd */
    int withdrawn;   /* watch calls with events 0 */
    bool saw_write;  /* some socket wanted POLLOUT (a TCP connect) */
    bool bad;        /* a call that breaks the contract */
    bool fail_watch; /* make watch refuse new sockets */
    bool baseline[1024];
} app_loop;

static bool is_socket(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int watch_cb(void *userdata, int fd, unsigned events)
{
    app_loop *l = userdata;
    size_t i = 0;
    while (i < l->n && l->w[i].fd != fd)
        i++;
    if (events == 0) {
        if (i == l->n) {
            /* Only a socket this loop refused may be withdrawn unknown. */
            if (!l->fail_watch) {
                printf("# watch: removal of fd %d never announced\n", fd);
                l->bad = true;
            }
            return 0;
        }
        l->w[i] = l->w[--l->n];
        l->withdrawn++;
        return 0;
    }
    if (events & ~(XMPPC__DNS_READ | XMPPC__DNS_WRITE) || !is_socket(fd)) {
        printf("# watch: bad call fd %d events %u\n", fd, events);
        l->bad = true;
    }
    if (events & XMPPC__DNS_WRITE)
        l->saw_write = true;
    if (i == l->n) {
        if (l->fail_watch)
            return XMPPC_ELIMIT;
        if (l->n == MAX_FDS) {
            l->bad = true;
            return XMPPC_ELIMIT;
        }
        l->w[l->n].fd = fd;
        l->n++;
        l->announced++;
    }
    l->w[i].events = events;
    return 0;
}

static const xmppc__dns_io io = {watch_cb};

/* Sockets open now that were not before the test: all must be watched. */
static void snapshot_baseline(app_loop *l)
{
    memset(l->baseline, 0, sizeof l->baseline);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (fd >= 0 && fd < 1024 && is_socket(fd))
            l->baseline[fd] = true;
    }
    closedir(d);
}

static void check_sockets_watched(app_loop *l)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int self = dirfd(d);
    for (struct dirent *e; (e = readdir(d));) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == self || fd < 0 || fd >= 1024 ||
            l->baseline[fd] || !is_socket(fd))
            continue;
        bool watched = false;
        for (size_t i = 0; i < l->n && !watched; i++)
            watched = l->w[i].fd == fd;
        if (!watched) {
            printf("# socket fd %d is open but was never announced\n", fd);
            l->bad = true;
        }
    }
    closedir(d);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One turn of the loop: wait for what the resolver asked, then process it.
 * Returns false when there is nothing to wait for. */
static bool loop_once(xmppc__dns *dns, app_loop *l, int max_wait_ms)
{
    check_sockets_watched(l);
    struct pollfd p[MAX_FDS];
    size_t n = l->n;
    for (size_t i = 0; i < n; i++) {
        p[i].fd = l->w[i].fd;
        p[i].events =
            (short)((l->w[i].events & XMPPC__DNS_READ ? POLLIN : 0) |
                    (l->w[i].events & XMPPC__DNS_WRITE ? POLLOUT : 0));
        p[i].revents = 0;
    }
    int timeout = xmppc__dns_timeout_ms(dns);
    if (timeout < 0 && n == 0)
        return false;
    if (timeout < 0 || timeout > max_wait_ms)
        timeout = max_wait_ms;
    int ready = poll(p, (nfds_t)n, timeout);
    if (ready <= 0) {
        xmppc__dns_process_timeout(dns);
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!p[i].revents)
            continue;
        /* An earlier call may have closed it: c-ares said so through
         * watch, so only fds still watched are passed on. */
        bool still = false;
        for (size_t k = 0; k < l->n && !still; k++)
            still = l->w[k].fd == p[i].fd;
        if (!still)
            continue;
        unsigned ev = 0;
        if (p[i].revents & (POLLIN | POLLERR | POLLHUP))
            ev |= XMPPC__DNS_READ;
        if (p[i].revents & POLLOUT)
            ev |= XMPPC__DNS_WRITE;
        xmppc__dns_process_fd(dns, p[i].fd, ev);
    }
    return true;
}

/* ---- outcomes ----------------------------------------------------------- */

typedef struct outcome {
    int calls;
    int code;
    char message[1024];
    xmppc__dns_result *result;
} outcome;

static void on_done(xmppc__dns_result *result, const xmppc_error *error,
                    void *userdata)
{
    outcome *o = userdata;
    o->calls++;
    if ((result == NULL) == (error == NULL)) {
        printf("# callback with result %p and error %p\n", (void *)result,
               (const void *)error);
        xt_current_failed = 1;
    }
    o->code = error ? error->code : 0;
    snprintf(o->message, sizeof o->message, "%s", error ? error->message : "");
    xmppc__dns_result_free(o->result);
    o->result = result;
}

static void run_until_done(xmppc__dns *dns, app_loop *l, outcome *o)
{
    long long deadline = now_ms() + LOOP_LIMIT_MS;
    while (o->calls == 0 && now_ms() < deadline)
        if (!loop_once(dns, l, 1000))
            break;
    if (o->calls == 0) {
        printf("# no callback (timeout_ms %d, %zu fds watched)\n",
               xmppc__dns_timeout_ms(dns), l->n);
        xt_current_failed = 1;
    }
    /* More turns must not call it again. */
    xmppc__dns_process_timeout(dns);
    XT_EQ_INT(o->calls, 1);
}

static void print_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                      const char *message, void *userdata)
{
    (void)conn;
    (void)userdata;
    printf("# [%s %s] %s\n", xmppc_log_level_name(level), area, message);
}

static const xmppc__logger logger = {print_log, NULL, XMPPC_LOG_DEBUG, NULL};

static uint32_t zero_random(void *userdata, uint32_t max)
{
    (void)userdata;
    (void)max;
    return 0;
}

static uint32_t max_random(void *userdata, uint32_t max)
{
    (void)userdata;
    return max;
}

static xmppc__dns *new_resolver(app_loop *l, const char *servers,
                                xmppc__dns_random_cb random, int timeout_ms)
{
    xmppc__dns *dns = NULL;
    xmppc__dns_config config;
    xmppc__dns_config_default(&config);
    config.random = random;
    if (timeout_ms > 0)
        config.timeout_ms = timeout_ms;
    memset(l, 0, sizeof *l);
    snapshot_baseline(l);
    XT_EQ_INT(xmppc__dns_new(&dns, &io, l, servers, &config, &logger), 0);
    return dns;
}

/* Frees the resolver and checks that every announced socket was withdrawn. */
static void free_resolver(xmppc__dns *dns, app_loop *l)
{
    xmppc__dns_free(dns);
    if (l->n != 0) {
        printf("# %zu fds still watched after free (first %d)\n", l->n,
               l->w[0].fd);
        xt_current_failed = 1;
    }
    XT_EQ_INT(l->announced, l->withdrawn);
    XT_CHECK(!l->bad);
    check_sockets_watched(l); /* and none is left open */
}

/* Resolves @p domain on a fresh resolver and returns the outcome. */
static void resolve(const char *domain, bool want_direct_tls,
                    xmppc__dns_random_cb random, outcome *o, app_loop *l)
{
    memset(o, 0, sizeof *o);
    xmppc__dns *dns = new_resolver(l, dns_server, random, 0);
    if (!dns)
        return;
    printf("# resolving %s%s\n", domain, want_direct_tls ? " (+xmpps)" : "");
    XT_EQ_INT(xmppc__dns_resolve(dns, domain, want_direct_tls, on_done, o), 0);
    XT_EQ_INT(o->calls, 0);
    run_until_done(dns, l, o);
    /* c-ares closes its sockets once no query is left. */
    XT_EQ_INT(l->n, 0);
    free_resolver(dns, l);
}

static const char *addr_str(const xmppc__dns_addr *a)
{
    static char buf[4][INET6_ADDRSTRLEN];
    static int k;
    char *b = buf[k++ % 4];
    const void *bytes =
        a->addr.ss_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)&a->addr)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
    return inet_ntop(a->addr.ss_family, bytes, b, INET6_ADDRSTRLEN) ? b : "?";
}

static unsigned addr_port(const xmppc__dns_addr *a)
{
    if (a->addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->addr)->sin6_port);
}

/* "host:port[+tls] addr,addr" for each candidate, joined by " | ". */
static const char *describe(const xmppc__dns_result *r)
{
    static char buf[8192];
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; r && i < r->count; i++) {
        const xmppc__dns_candidate *c = &r->candidates[i];
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s:%u%s ",
                                 i ? " | " : "", c->host, (unsigned)c->port,
                                 c->direct_tls ? "+tls" : "");
        for (size_t k = 0; k < c->naddrs && used < sizeof buf; k++) {
            if (addr_port(&c->addrs[k]) != c->port)
                xt_current_failed = 1;
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s",
                                     k ? "," : "", addr_str(&c->addrs[k]));
        }
        if (used >= sizeof buf)
            break;
    }
    return buf;
}

/* ---- the tests ------------------------------------------------------------
 */

static void test_srv_both_services(void)
{
    outcome o;
    app_loop l;
    resolve("example.test", true, zero_random, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (!o.result)
        return;
    const char *got = describe(o.result);
    printf("# %s\n", got);
    XT_CHECK(o.result->from_srv);
    XT_EQ_INT(o.result->count, 4);
    /* Priority 5 (xmpps, direct TLS) first, then the two of priority 10
     * in the order the draws give, then priority 20. Addresses: IPv6
     * first, then alternating. */
    const char *a = "a.example.test:5222 ::1,127.0.0.1";
    const char *b = "b.example.test:5322 127.0.0.2";
    char want_ab[1024], want_ba[1024];
    const char *first = "tls.example.test:5223+tls ::1,127.0.0.1";
    const char *last = "c.example.test:5422 ::1";
    snprintf(want_ab, sizeof want_ab, "%s | %s | %s | %s", first, a, b, last);
    snprintf(want_ba, sizeof want_ba, "%s | %s | %s | %s", first, b, a, last);
    XT_CHECK(strcmp(got, want_ab) == 0 || strcmp(got, want_ba) == 0);
    bool a_first_with_zero = strcmp(got, want_ab) == 0;
    xmppc__dns_result_free(o.result);

    /* The largest draw picks the other record of priority 10 first: the
     * weights are applied to live answers too. */
    resolve("example.test", true, max_random, &o, &l);
    if (!o.result)
        return;
    got = describe(o.result);
    printf("# %s\n", got);
    XT_EQ_STR(got, a_first_with_zero ? want_ba : want_ab);
    xmppc__dns_result_free(o.result);
}

static int count_in_log(const char *needle)
{
    const char *path = getenv("XMPPC_TEST_DNS_LOG");
    FILE *f = path ? fopen(path, "r") : NULL;
    int count = 0;
    char line[1024];
    while (f && fgets(line, sizeof line, f))
        count += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return count;
}

static void test_srv_without_direct_tls(void)
{
    outcome o;
    app_loop l;
    int before = count_in_log("query[SRV] _xmpps-client._tcp.example.test");
    resolve("example.test", false, zero_random, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result) {
        XT_EQ_INT(o.result->count, 3);
        for (size_t i = 0; i < o.result->count; i++)
            XT_CHECK(!o.result->candidates[i].direct_tls);
        XT_EQ_STR(o.result->candidates[2].host, "c.example.test");
    }
    xmppc__dns_result_free(o.result);
    /* The _xmpps-client name was not even asked. */
    XT_EQ_INT(count_in_log("query[SRV] _xmpps-client._tcp.example.test"),
              before);
}

static void test_dot_targets(void)
{
    outcome o;
    app_loop l;
    resolve("dot.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, XMPPC_EDNS);
    XT_CHECK(strstr(o.message, "offers no XMPP") != NULL);
    printf("# %s\n", o.message);

    /* Only direct TLS is refused: STARTTLS on the domain itself. */
    resolve("tlsdot.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result) {
        XT_CHECK(!o.result->from_srv);
        XT_EQ_STR(describe(o.result), "tlsdot.test:5222 127.0.0.4");
    }
    xmppc__dns_result_free(o.result);
}

static void test_fallback_and_nxdomain(void)
{
    outcome o;
    app_loop l;
    resolve("fallback.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result) {
        XT_CHECK(!o.result->from_srv);
        XT_EQ_STR(describe(o.result), "fallback.test:5222 ::1,127.0.0.5");
    }
    xmppc__dns_result_free(o.result);

    /* A trailing dot and upper case change nothing. */
    resolve("FallBack.test.", false, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result)
        XT_EQ_INT(o.result->candidates[0].naddrs, 2);
    xmppc__dns_result_free(o.result);

    resolve("missing.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, XMPPC_EDNS);
    XT_CHECK(strstr(o.message, "no SRV records and no address") != NULL);
    printf("# %s\n", o.message);

    /* A UTF-8 domain is looked up in its A-label form. */
    resolve("b\xc3\xbc"
            "cher.test",
            false, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result)
        XT_EQ_STR(describe(o.result), "xn--bcher-kva.test:5222 127.0.0.7");
    xmppc__dns_result_free(o.result);
}

static void test_invalid_and_unresolvable_targets(void)
{
    outcome o;
    app_loop l;
    resolve("invalid.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, XMPPC_EDNS);
    XT_CHECK(strstr(o.message, "valid target") != NULL);

    resolve("mixed.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result)
        XT_EQ_STR(describe(o.result), "ok.mixed.test:5269 127.0.0.6");
    xmppc__dns_result_free(o.result);

    resolve("gone.test", true, NULL, &o, &l);
    XT_EQ_INT(o.code, XMPPC_EDNS);
    XT_CHECK(strstr(o.message, "gone1.gone.test") != NULL);
    printf("# %s\n", o.message);
}

/* "localhost" comes from /etc/hosts, inside ares_getaddrinfo() itself:
 * the address phase ends while it is still being started. */
static void test_target_from_hosts_file(void)
{
    outcome o;
    app_loop l;
    resolve("local.test", false, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (!o.result)
        return;
    printf("# %s\n", describe(o.result));
    const xmppc__dns_candidate *c = &o.result->candidates[0];
    XT_EQ_STR(c->host, "localhost");
    XT_EQ_INT(c->port, 5333);
    XT_CHECK(c->naddrs >= 1);
    for (size_t i = 0; i < c->naddrs; i++) {
        const char *a = addr_str(&c->addrs[i]);
        XT_CHECK(strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0);
    }
    xmppc__dns_result_free(o.result);
}

static void test_limits(void)
{
    outcome o;
    app_loop l;
    /* 40 records do not fit in 512 bytes of UDP: c-ares retries over TCP,
     * whose connect wants write readiness. */
    resolve("many.test", false, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    XT_CHECK(l.saw_write);
    if (o.result) {
        XT_EQ_INT(o.result->count, XMPPC__DNS_MAX_SRV);
        /* Priority i has port 6000 + i: ports ascend strictly. */
        for (size_t i = 0; i < o.result->count; i++) {
            const xmppc__dns_candidate *c = &o.result->candidates[i];
            XT_CHECK(c->port >= 6000 && c->port < 6040);
            if (i > 0)
                XT_CHECK(c->port > o.result->candidates[i - 1].port);
            XT_EQ_INT(c->naddrs, 1);
        }
    }
    xmppc__dns_result_free(o.result);

    /* 21 addresses: 16 kept, IPv6 first. */
    resolve("addrs.test", false, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    if (o.result) {
        const xmppc__dns_candidate *c = &o.result->candidates[0];
        XT_EQ_INT(c->naddrs, XMPPC__DNS_MAX_ADDRS);
        XT_EQ_STR(addr_str(&c->addrs[0]), "::1");
        for (size_t i = 1; i < c->naddrs; i++)
            XT_EQ_INT(c->addrs[i].addr.ss_family, AF_INET);
    }
    xmppc__dns_result_free(o.result);
}

static void test_ip_literal_skips_dns(void)
{
    outcome o;
    app_loop l;
    int before = count_in_log("query[");
    resolve("127.0.0.1", true, NULL, &o, &l);
    XT_EQ_INT(o.code, 0);
    XT_EQ_INT(l.announced, 0);
    if (o.result)
        XT_EQ_STR(describe(o.result), "127.0.0.1:5222 127.0.0.1");
    xmppc__dns_result_free(o.result);
    resolve("[::1]", true, NULL, &o, &l);
    if (o.result)
        XT_EQ_STR(describe(o.result), "[::1]:5222 ::1");
    xmppc__dns_result_free(o.result);
    XT_EQ_INT(count_in_log("query["), before);
}

/* Cancels after k turns of the loop, for every k until the resolution
 * completes first: exactly one callback every time. slow.test's target has
 * 40 addresses, too many for UDP, so its address phase goes on over TCP
 * for a few turns and some cancels land there. */
static void test_cancel_at_every_step(void)
{
    int canceled = 0, canceled_over_tcp = 0, completed = 0;
    for (int k = 0; k < 50 && completed == 0; k++) {
        outcome o = {0};
        app_loop l;
        xmppc__dns *dns = new_resolver(&l, dns_server, NULL, 0);
        if (!dns)
            return;
        XT_EQ_INT(xmppc__dns_resolve(dns, "slow.test", true, on_done, &o), 0);
        for (int turn = 0; turn < k && o.calls == 0; turn++)
            loop_once(dns, &l, 1000);
        if (o.calls == 0) {
            canceled_over_tcp += l.saw_write;
            xmppc__dns_cancel(dns);
            XT_EQ_INT(o.calls, 1);
            XT_EQ_INT(o.code, XMPPC_ECANCELED);
            canceled++;
            /* Nothing runs after a cancel: no query, no socket left. */
            XT_EQ_INT(xmppc__dns_timeout_ms(dns), -1);
            XT_EQ_INT(l.n, 0);
        } else {
            XT_EQ_INT(o.code, 0);
            if (o.result)
                XT_EQ_INT(o.result->candidates[0].naddrs, 16);
            completed++;
        }
        xmppc__dns_process_timeout(dns);
        XT_EQ_INT(o.calls, 1);
        xmppc__dns_result_free(o.result);
        free_resolver(dns, &l);
    }
    printf("# %d canceled (%d during TCP), %d completed\n", canceled,
           canceled_over_tcp, completed);
    XT_CHECK(canceled >= 2);
    XT_CHECK(canceled_over_tcp >= 1); /* in the address phase */
    XT_EQ_INT(completed, 1);
}

/* A UDP port on loopback that swallows every query. */
static int silent_server(char *servers, size_t cap)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        XT_CHECK(!"cannot bind a loopback UDP socket");
        return -1;
    }
    snprintf(servers, cap, "127.0.0.1:%u", ntohs(sin.sin_port));
    return fd;
}

static void test_dead_servers(void)
{
    char servers[64];
    app_loop l;

    /* Nothing listening: ICMP port unreachable, a quick failure. */
    int fd = silent_server(servers, sizeof servers);
    close(fd); /* the port is free again */
    outcome o = {0};
    xmppc__dns *dns = new_resolver(&l, servers, NULL, 300);
    XT_EQ_INT(xmppc__dns_resolve(dns, "example.test", true, on_done, &o), 0);
    run_until_done(dns, &l, &o);
    XT_EQ_INT(o.code, XMPPC_EDNS);
    printf("# closed port: %s\n", o.message);
    free_resolver(dns, &l);

    /* A server that never answers: the configured timeout and tries. */
    fd = silent_server(servers, sizeof servers);
    memset(&o, 0, sizeof o);
    dns = new_resolver(&l, servers, NULL, 200);
    long long t0 = now_ms();
    XT_EQ_INT(xmppc__dns_resolve(dns, "example.test", true, on_done, &o), 0);
    int first = xmppc__dns_timeout_ms(dns);
    XT_CHECK(first > 0 && first <= 200);
    run_until_done(dns, &l, &o);
    long long elapsed = now_ms() - t0;
    XT_EQ_INT(o.code, XMPPC_EDNS);
    printf("# silent server after %lld ms: %s\n", elapsed, o.message);
    XT_CHECK(strstr(o.message, "imeout") != NULL);
    /* Two tries of 200 ms, the second one doubled by c-ares. */
    XT_CHECK(elapsed >= 550 && elapsed < 3000);
    free_resolver(dns, &l);

    /* Freeing in the middle of it: ECANCELED, sockets withdrawn. */
    memset(&o, 0, sizeof o);
    dns = new_resolver(&l, servers, NULL, 200);
    XT_EQ_INT(xmppc__dns_resolve(dns, "example.test", true, on_done, &o), 0);
    loop_once(dns, &l, 50);
    XT_CHECK(l.n > 0);
    free_resolver(dns, &l);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.code, XMPPC_ECANCELED);
    close(fd);
}

/* A loop that refuses the socket fails the resolution with its status. */
static void test_watch_refused(void)
{
    outcome o = {0};
    app_loop l;
    xmppc__dns *dns = new_resolver(&l, dns_server, NULL, 0);
    l.fail_watch = true;
    XT_EQ_INT(xmppc__dns_resolve(dns, "example.test", true, on_done, &o), 0);
    XT_EQ_INT(o.calls, 0);
    XT_EQ_INT(xmppc__dns_timeout_ms(dns), 0);
    xmppc__dns_process_timeout(dns);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.code, XMPPC_ELIMIT);
    printf("# %s\n", o.message);
    free_resolver(dns, &l);
}

int main(void)
{
    dns_server = getenv("XMPPC_TEST_DNS_SERVER");
    if (!dns_server || strncmp(dns_server, "127.", 4) != 0) {
        fprintf(stderr, "test-dns-live: run me under "
                        "tests/fixtures/dnsmasq_fixture.py (XMPPC_TEST_DNS_"
                        "SERVER must be a loopback address)\n");
        return 99;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    static const xt_test tests[] = {
        XT_TEST(test_srv_both_services),
        XT_TEST(test_srv_without_direct_tls),
        XT_TEST(test_dot_targets),
        XT_TEST(test_fallback_and_nxdomain),
        XT_TEST(test_invalid_and_unresolvable_targets),
        XT_TEST(test_target_from_hosts_file),
        XT_TEST(test_limits),
        XT_TEST(test_ip_literal_skips_dns),
        XT_TEST(test_cancel_at_every_step),
        XT_TEST(test_dead_servers),
        XT_TEST(test_watch_refused),
    };
    return xt_run(tests, sizeof tests / sizeof tests[0]);
}
