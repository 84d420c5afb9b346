/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Server resolution on c-ares (see dns.h): RFC 6120 section 3.2 with
 * XEP-0368's _xmpps-client records merged in, RFC 2782 ordering, and the
 * addresses of each target interleaved for happy eyeballs (RFC 8305).
 *
 * One resolution at a time per resolver, in two phases: both SRV queries
 * in parallel, then one ares_getaddrinfo() per distinct target, all in
 * parallel. c-ares may complete a query inside the call that starts it,
 * so each phase counts its pending queries and only moves on once it has
 * finished issuing them. The user's callback never runs inside c-ares: a
 * finished job waits in dns->job until the end of the public call that
 * finished it (or the next xmppc__dns_process_timeout()), so the callback
 * may free the resolver.
 *
 * Each c-ares query gets its own small context naming the resolver and the
 * job's generation; c-ares runs every query callback exactly once (also on
 * cancel and destroy), which frees it, and a callback whose job has ended
 * does nothing else.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#include <ares.h>
#include <gnutls/gnutls.h>

#include "dns.h"

#define AREA "dns"
/* RFC 1035 class IN, RFC 2782 type SRV. */
#define DNS_CLASS_IN 1
#define DNS_TYPE_SRV 33
#define NAME_MAX_LEN 253
#define LABEL_MAX_LEN 63
/* Addresses read from one ares_getaddrinfo() answer before interleaving. */
#define RAW_ADDRS_MAX 64
/* Invalid names quoted in logs are cut to this many bytes. */
#define QUOTE_MAX 64
/* Failed targets named in an error message. */
#define ERROR_TARGETS_MAX 3

enum { SVC_TLS = 0, SVC_PLAIN = 1 };

static const char *const service_prefix[2] = {"_xmpps-client._tcp.",
                                              "_xmpp-client._tcp."};

typedef enum job_phase { PHASE_SRV, PHASE_ADDR, PHASE_DONE } job_phase;

typedef struct target_info {
    char *name;             /* borrowed from the job's ordered records */
    xmppc__dns_addr *addrs; /* interleaved, port not set yet */
    size_t naddrs;
    int status; /* ares status of its lookup */
} target_info;

typedef struct job {
    unsigned generation;
    job_phase phase;
    char *domain; /* ASCII, no trailing dot; the literal for IP literals */
    bool want_direct_tls;
    xmppc__dns_done_cb cb;
    void *userdata;

    int pending;  /* c-ares queries of the current phase not yet answered */
    bool issuing; /* still starting them: do not finish the phase yet */
    bool nomem;   /* an allocation failed inside a c-ares callback */

    xmppc__dns_srv_set sets[2]; /* indexed by SVC_* */
    char srv_error[2][96];      /* why a lookup FAILED */
    xmppc__dns_srv *ordered;    /* merged, RFC 2782 order */
    size_t nordered;
    bool fallback;
    size_t *target_of;    /* ordered[i] -> targets[] */
    target_info *targets; /* distinct target names */
    size_t ntargets;

    xmppc__dns_result *result; /* when PHASE_DONE: success */
    xmppc__error_store error;  /* when PHASE_DONE: failure */
} job;

typedef struct query_ctx {
    xmppc__dns *dns;
    unsigned generation;
    size_t index; /* service (SRV) or target (addresses) */
} query_ctx;

typedef struct watched_fd {
    int fd;
    unsigned events;
} watched_fd;

struct xmppc__dns {
    ares_channel channel;
    xmppc__dns_io io;
    void *io_ud;
    xmppc__dns_config config;
    const xmppc__logger *logger;
    uint64_t rng; /* state of the default generator */
    watched_fd *fds;
    size_t nfds, capfds;
    int io_error; /* first failure of io.watch since the last check */
    unsigned generation;
    job *job;
    bool freeing;
};

/* ---- random numbers for RFC 2782 weights -------------------------------- */

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
        /* Weights only spread load; a weak seed is acceptable here. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        seed = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u ^
               (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&seed;
    }
    return seed ? seed : 0x2545F4914F6CDD1Du;
}

/* xorshift64*: plenty for picking among a few dozen records. */
static uint32_t random_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Du) >> 32);
}

static uint32_t default_random(void *userdata, uint32_t max)
{
    uint64_t *state = userdata;
    uint64_t range = (uint64_t)max + 1;
    /* Rejection sampling, so small ranges are not biased. */
    uint64_t limit = (UINT64_C(1) << 32) - ((UINT64_C(1) << 32) % range);
    for (;;) {
        uint64_t v = random_next(state);
        if (v < limit)
            return (uint32_t)(v % range);
    }
}

/* ---- pure parts ---------------------------------------------------------- */

void xmppc__dns_config_default(xmppc__dns_config *config)
{
    memset(config, 0, sizeof *config);
    config->timeout_ms = XMPPC__DNS_DEFAULT_TIMEOUT_MS;
    config->tries = XMPPC__DNS_DEFAULT_TRIES;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool xmppc__dns_hostname_valid(const char *name)
{
    if (!name)
        return false;
    size_t len = strlen(name);
    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    size_t start = 0;
    bool all_digits = true;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            size_t label_len = i - start;
            if (label_len == 0 || label_len > LABEL_MAX_LEN)
                return false;
            if (name[start] == '-' || name[i - 1] == '-')
                return false;
            /* RFC 1123 2.1: the top label is never numeric, so a host name
             * never reads as a dotted quad. */
            if (i == len && all_digits)
                return false;
            start = i + 1;
            all_digits = true;
        } else if (is_alpha(name[i]) || name[i] == '-') {
            all_digits = false;
        } else if (!is_digit(name[i])) {
            return false;
        }
    }
    return true;
}

/* The domain we query may have '_' in a label (JIDs allow it); otherwise
 * the same shape as a host name. */
static bool domain_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > NAME_MAX_LEN)
        return false;
    size_t label_len = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            if (label_len == 0 || label_len > LABEL_MAX_LEN)
                return false;
            label_len = 0;
        } else if (is_alpha(name[i]) || is_digit(name[i]) || name[i] == '-' ||
                   name[i] == '_') {
            label_len++;
        } else {
            return false;
        }
    }
    return true;
}

bool xmppc__dns_parse_ip_literal(const char *domain, uint16_t port,
                                 xmppc__dns_addr *out)
{
    if (!domain || !out)
        return false;
    memset(out, 0, sizeof *out);
    size_t len = strlen(domain);
    char buf[INET6_ADDRSTRLEN];
    const char *v6 = NULL;
    if (len >= 2 && domain[0] == '[' && domain[len - 1] == ']') {
        if (len - 2 >= sizeof buf)
            return false;
        memcpy(buf, domain + 1, len - 2);
        buf[len - 2] = '\0';
        v6 = buf;
    } else if (strchr(domain, ':')) {
        v6 = domain;
    }
    if (v6) {
        struct sockaddr_in6 sin6;
        memset(&sin6, 0, sizeof sin6);
        if (inet_pton(AF_INET6, v6, &sin6.sin6_addr) != 1)
            return false;
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(port);
        memcpy(&out->addr, &sin6, sizeof sin6);
        out->len = sizeof sin6;
        return true;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    if (inet_pton(AF_INET, domain, &sin.sin_addr) != 1)
        return false;
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    memcpy(&out->addr, &sin, sizeof sin);
    out->len = sizeof sin;
    return true;
}

static bool addr_usable(const xmppc__dns_addr *a)
{
    return (a->addr.ss_family == AF_INET &&
            a->len >= sizeof(struct sockaddr_in)) ||
           (a->addr.ss_family == AF_INET6 &&
            a->len >= sizeof(struct sockaddr_in6));
}

/* Same address, whatever the port. */
static bool addr_same(const xmppc__dns_addr *a, const xmppc__dns_addr *b)
{
    if (a->addr.ss_family != b->addr.ss_family)
        return false;
    if (a->addr.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)&a->addr;
        const struct sockaddr_in *y = (const struct sockaddr_in *)&b->addr;
        return x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->addr;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->addr;
    return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
           x->sin6_scope_id == y->sin6_scope_id;
}

/* The next address of @p family at or after *pos not yet in out[0..count). */
static const xmppc__dns_addr *next_of_family(const xmppc__dns_addr *in,
                                             size_t n, size_t *pos, int family,
                                             const xmppc__dns_addr *out,
                                             size_t count)
{
    while (*pos < n) {
        const xmppc__dns_addr *a = &in[(*pos)++];
        if (a->addr.ss_family != family || !addr_usable(a))
            continue;
        bool seen = false;
        for (size_t i = 0; i < count && !seen; i++)
            seen = addr_same(a, &out[i]);
        if (!seen)
            return a;
    }
    return NULL;
}

size_t xmppc__dns_interleave(const xmppc__dns_addr *in, size_t n,
                             xmppc__dns_addr *out, size_t max, size_t *ignored)
{
    static const int families[2] = {AF_INET6, AF_INET};
    size_t pos[2] = {0, 0};
    size_t count = 0;
    int turn = 0;
    while (count < max) {
        const xmppc__dns_addr *next = NULL;
        for (int k = 0; k < 2 && !next; k++) {
            int f = (turn + k) % 2;
            next = next_of_family(in, n, &pos[f], families[f], out, count);
            if (next)
                turn = 1 - f;
        }
        if (!next)
            break;
        out[count++] = *next;
    }
    if (ignored) {
        size_t distinct = 0;
        for (size_t i = 0; i < n; i++) {
            if (!addr_usable(&in[i]))
                continue;
            bool dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = addr_usable(&in[j]) && addr_same(&in[i], &in[j]);
            distinct += !dup;
        }
        *ignored = distinct - count;
    }
    return count;
}

void xmppc__dns_order_srv(xmppc__dns_srv *recs, size_t n,
                          xmppc__dns_random_cb random, void *random_userdata)
{
    uint64_t local_state;
    if (!random) {
        local_state = random_seed();
        random = default_random;
        random_userdata = &local_state;
    }
    /* Stable insertion sort by priority (n is at most a few dozen). */
    for (size_t i = 1; i < n; i++) {
        xmppc__dns_srv tmp = recs[i];
        size_t j = i;
        for (; j > 0 && recs[j - 1].priority > tmp.priority; j--)
            recs[j] = recs[j - 1];
        recs[j] = tmp;
    }
    for (size_t start = 0, end; start < n; start = end) {
        for (end = start; end < n && recs[end].priority == recs[start].priority;
             end++)
            ;
        /* RFC 2782: weight-0 records first, the others in any order
         * (here: as received). Removing picked records keeps it so. */
        size_t zeros = start;
        for (size_t i = start; i < end; i++) {
            if (recs[i].weight != 0)
                continue;
            xmppc__dns_srv tmp = recs[i];
            memmove(&recs[zeros + 1], &recs[zeros], (i - zeros) * sizeof *recs);
            recs[zeros++] = tmp;
        }
        for (size_t pos = start; pos + 1 < end; pos++) {
            uint32_t sum = 0;
            for (size_t k = pos; k < end; k++)
                sum += recs[k].weight;
            uint32_t r = random(random_userdata, sum);
            if (r > sum)
                r = sum; /* a broken generator must not break the order */
            /* The first record whose running sum reaches r. */
            size_t pick = end - 1;
            uint32_t running = 0;
            for (size_t k = pos; k < end; k++) {
                running += recs[k].weight;
                if (running >= r) {
                    pick = k;
                    break;
                }
            }
            xmppc__dns_srv tmp = recs[pick];
            memmove(&recs[pos + 1], &recs[pos], (pick - pos) * sizeof *recs);
            recs[pos] = tmp;
        }
    }
}

static bool is_root(const char *target)
{
    return !target || target[0] == '\0' || strcmp(target, ".") == 0;
}

/* Copies at most QUOTE_MAX bytes of untrusted @p s for a log message,
 * with anything but printable ASCII replaced by '?'. */
static const char *quote(char *buf, size_t cap, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap && i < QUOTE_MAX; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
    return buf;
}

void xmppc__dns_srv_set_clear(xmppc__dns_srv_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        xmppc__free(set->recs[i].target);
    xmppc__free(set->recs);
    set->recs = NULL;
    set->count = 0;
}

int xmppc__dns_srv_set_fill(xmppc__dns_srv_set *set, const xmppc__dns_srv *raw,
                            size_t n, bool direct_tls,
                            const xmppc__logger *logger)
{
    const char *service = direct_tls ? "_xmpps-client" : "_xmpp-client";
    set->recs = NULL;
    set->count = 0;
    if (n == 0) {
        set->status = XMPPC__DNS_SRV_NONE;
        return 0;
    }
    /* RFC 2782: "A Target of '.' means that the service is decidedly not
     * available at this domain" -- when it is the only record. */
    if (n == 1 && is_root(raw[0].target)) {
        set->status = XMPPC__DNS_SRV_NOT_OFFERED;
        return 0;
    }
    size_t cap = n < XMPPC__DNS_MAX_SRV ? n : XMPPC__DNS_MAX_SRV;
    set->recs = xmppc__calloc(cap, sizeof *set->recs);
    if (!set->recs) {
        set->status = XMPPC__DNS_SRV_FAILED;
        return XMPPC_ENOMEM;
    }
    size_t ignored = 0;
    for (size_t i = 0; i < n; i++) {
        const char *t = raw[i].target;
        if (is_root(t)) {
            xmppc__log(logger, XMPPC_LOG_DEBUG, AREA,
                       "%s: ignoring a '.' target among %zu records", service,
                       n);
            continue;
        }
        /* CVE-2021-3672 class: never pass on a name we would not look up. */
        if (!xmppc__dns_hostname_valid(t)) {
            char q[QUOTE_MAX + 1];
            xmppc__log(logger, XMPPC_LOG_WARN, AREA,
                       "%s: ignoring SRV record with invalid target \"%s\"",
                       service, quote(q, sizeof q, t));
            continue;
        }
        if (set->count == cap) {
            ignored++;
            continue;
        }
        size_t len = strlen(t);
        if (t[len - 1] == '.')
            len--;
        xmppc__dns_srv *rec = &set->recs[set->count];
        rec->target = xmppc__strndup(t, len);
        if (!rec->target) {
            xmppc__dns_srv_set_clear(set);
            set->status = XMPPC__DNS_SRV_FAILED;
            return XMPPC_ENOMEM;
        }
        rec->port = raw[i].port;
        rec->priority = raw[i].priority;
        rec->weight = raw[i].weight;
        rec->direct_tls = direct_tls;
        set->count++;
    }
    if (ignored)
        xmppc__log(logger, XMPPC_LOG_DEBUG, AREA,
                   "%s: %zu more SRV records ignored (limit %d)", service,
                   ignored, XMPPC__DNS_MAX_SRV);
    if (set->count == 0) {
        xmppc__dns_srv_set_clear(set);
        set->status = XMPPC__DNS_SRV_UNUSABLE;
    } else {
        set->status = XMPPC__DNS_SRV_FOUND;
    }
    return 0;
}

xmppc__dns_plan xmppc__dns_plan_choose(const xmppc__dns_srv_set *xmpps,
                                       const xmppc__dns_srv_set *xmpp)
{
    if (xmpps->status == XMPPC__DNS_SRV_FOUND ||
        xmpp->status == XMPPC__DNS_SRV_FOUND)
        return XMPPC__DNS_PLAN_SRV;
    /* Falling back after a failed lookup could pick the wrong port for a
     * domain that does publish SRV records; report the failure instead. */
    if (xmpps->status == XMPPC__DNS_SRV_FAILED ||
        xmpp->status == XMPPC__DNS_SRV_FAILED)
        return XMPPC__DNS_PLAN_FAILED;
    if (xmpp->status == XMPPC__DNS_SRV_NOT_OFFERED)
        return XMPPC__DNS_PLAN_NOT_OFFERED;
    if (xmpps->status == XMPPC__DNS_SRV_UNUSABLE ||
        xmpp->status == XMPPC__DNS_SRV_UNUSABLE)
        return XMPPC__DNS_PLAN_UNUSABLE;
    return XMPPC__DNS_PLAN_FALLBACK;
}

/* ---- results ------------------------------------------------------------- */

void xmppc__dns_result_free(xmppc__dns_result *result)
{
    if (!result)
        return;
    for (size_t i = 0; i < result->count; i++) {
        xmppc__free(result->candidates[i].host);
        xmppc__free(result->candidates[i].addrs);
    }
    xmppc__free(result->candidates);
    xmppc__free(result);
}

static void addr_set_port(xmppc__dns_addr *a, uint16_t port)
{
    if (a->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->addr)->sin_port = htons(port);
    else if (a->addr.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->addr)->sin6_port = htons(port);
}

static const char *addr_text(const xmppc__dns_addr *a, char *buf, size_t cap)
{
    const void *bytes =
        a->addr.ss_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)&a->addr)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)&a->addr)->sin6_addr;
    if (!inet_ntop(a->addr.ss_family, bytes, buf, (socklen_t)cap))
        snprintf(buf, cap, "?");
    return buf;
}

static void log_result(const xmppc__dns *dns, const char *domain,
                       const xmppc__dns_result *r)
{
    if (!xmppc__log_enabled(dns->logger, XMPPC_LOG_DEBUG))
        return;
    for (size_t i = 0; i < r->count; i++) {
        const xmppc__dns_candidate *c = &r->candidates[i];
        char first[INET6_ADDRSTRLEN];
        xmppc__log(dns->logger, XMPPC_LOG_DEBUG, AREA,
                   "%s: candidate %zu: %s port %u (%s), %zu address%s, first "
                   "%s",
                   domain, i + 1, c->host, (unsigned)c->port,
                   c->direct_tls ? "direct TLS" : "STARTTLS", c->naddrs,
                   c->naddrs == 1 ? "" : "es",
                   addr_text(&c->addrs[0], first, sizeof first));
    }
}

/* ---- jobs ---------------------------------------------------------------- */

static void job_free(job *j)
{
    if (!j)
        return;
    for (int s = 0; s < 2; s++)
        xmppc__dns_srv_set_clear(&j->sets[s]);
    for (size_t i = 0; i < j->nordered; i++)
        xmppc__free(j->ordered[i].target);
    xmppc__free(j->ordered);
    for (size_t i = 0; i < j->ntargets; i++)
        xmppc__free(j->targets[i].addrs);
    xmppc__free(j->targets);
    xmppc__free(j->target_of);
    xmppc__dns_result_free(j->result);
    xmppc__free(j->domain);
    xmppc__free(j);
}

/* The job a callback with @p generation belongs to, if it still runs. */
static job *live_job(xmppc__dns *dns, unsigned generation)
{
    job *j = dns->job;
    return j && j->generation == generation && j->phase != PHASE_DONE ? j
                                                                      : NULL;
}

static void finish_ok(job *j, xmppc__dns_result *result)
{
    j->phase = PHASE_DONE;
    j->result = result;
}

static void finish_error(job *j, int code, const char *fmt, ...)
    XMPPC_PRINTF(3, 4);

static void finish_error(job *j, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(&j->error, code, NULL, NULL, NULL, fmt, ap);
    va_end(ap);
    j->phase = PHASE_DONE;
    xmppc__dns_result_free(j->result);
    j->result = NULL;
}

/* Ends the running job now (with its queries) with an error; its callback
 * runs at the next deliver(). */
static void fail_job(xmppc__dns *dns, int code, const char *fmt, ...)
    XMPPC_PRINTF(3, 4);

static void fail_job(xmppc__dns *dns, int code, const char *fmt, ...)
{
    job *j = dns->job;
    if (!j)
        return;
    bool running = j->phase != PHASE_DONE;
    va_list ap;
    va_start(ap, fmt);
    xmppc__error_store_vset(&j->error, code, NULL, NULL, NULL, fmt, ap);
    va_end(ap);
    j->phase = PHASE_DONE; /* first: the callbacks ares_cancel runs see it */
    xmppc__dns_result_free(j->result);
    j->result = NULL;
    if (running)
        ares_cancel(dns->channel);
}

/* Runs the callback of a finished job. Must be the last thing a public
 * function does: the callback may free the resolver. */
static void deliver(xmppc__dns *dns)
{
    job *j = dns->job;
    if (!j || j->phase != PHASE_DONE)
        return;
    dns->job = NULL;
    xmppc__dns_done_cb cb = j->cb;
    void *userdata = j->userdata;
    xmppc__dns_result *result = j->result;
    j->result = NULL;
    xmppc__error_store error;
    if (!result)
        xmppc__error_store_copy(&error, &j->error);
    job_free(j);
    cb(result, result ? NULL : &error.pub, userdata);
}

/* A failure of io.watch fails the running job (checked between calls into
 * c-ares, never inside them). */
static void check_io_error(xmppc__dns *dns)
{
    int code = dns->io_error;
    if (!code)
        return;
    dns->io_error = 0;
    if (!xmppc_status_name(code))
        code = XMPPC_EIO;
    if (dns->job && dns->job->phase != PHASE_DONE)
        fail_job(dns, code,
                 "dns: the event loop could not watch a DNS socket (%s)",
                 xmppc_strerror(code));
}

static void addr_phase_done(xmppc__dns *dns, job *j);

static void addr_done(void *arg, int status, int timeouts,
                      struct ares_addrinfo *res)
{
    query_ctx *ctx = arg;
    xmppc__dns *dns = ctx->dns;
    size_t index = ctx->index;
    job *j = live_job(dns, ctx->generation);
    xmppc__free(ctx);
    (void)timeouts;
    if (!j) {
        if (res)
            ares_freeaddrinfo(res);
        return;
    }
    target_info *t = &j->targets[index];
    t->status = status;
    if (status == ARES_SUCCESS && res) {
        xmppc__dns_addr *raw = xmppc__calloc(RAW_ADDRS_MAX, sizeof *raw);
        t->addrs = xmppc__calloc(XMPPC__DNS_MAX_ADDRS, sizeof *t->addrs);
        if (!raw || !t->addrs) {
            j->nomem = true;
        } else {
            size_t nraw = 0, ignored = 0;
            for (struct ares_addrinfo_node *node = res->nodes; node;
                 node = node->ai_next) {
                if ((node->ai_family != AF_INET &&
                     node->ai_family != AF_INET6) ||
                    !node->ai_addr || node->ai_addrlen == 0 ||
                    node->ai_addrlen > sizeof raw[0].addr)
                    continue;
                if (nraw == RAW_ADDRS_MAX) {
                    ignored++;
                    continue;
                }
                memcpy(&raw[nraw].addr, node->ai_addr, node->ai_addrlen);
                raw[nraw].len = (socklen_t)node->ai_addrlen;
                nraw++;
            }
            size_t over = 0;
            t->naddrs = xmppc__dns_interleave(raw, nraw, t->addrs,
                                              XMPPC__DNS_MAX_ADDRS, &over);
            ignored += over;
            if (ignored)
                xmppc__log(dns->logger, XMPPC_LOG_DEBUG, AREA,
                           "%s: %zu more addresses ignored (limit %d)", t->name,
                           ignored, XMPPC__DNS_MAX_ADDRS);
            if (t->naddrs == 0)
                t->status = ARES_ENODATA;
        }
        xmppc__free(raw);
    } else {
        xmppc__log(dns->logger, XMPPC_LOG_DEBUG, AREA, "%s: %s", t->name,
                   ares_strerror(status));
    }
    if (res)
        ares_freeaddrinfo(res);
    if (--j->pending == 0 && !j->issuing)
        addr_phase_done(dns, j);
}

/* Looks up the addresses of every distinct target of j->ordered. */
static void start_addr_phase(xmppc__dns *dns, job *j)
{
    j->phase = PHASE_ADDR;
    j->targets = xmppc__calloc(j->nordered, sizeof *j->targets);
    j->target_of = xmppc__calloc(j->nordered, sizeof *j->target_of);
    if (!j->targets || !j->target_of) {
        finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
        return;
    }
    for (size_t i = 0; i < j->nordered; i++) {
        size_t k = 0;
        while (k < j->ntargets &&
               strcasecmp(j->targets[k].name, j->ordered[i].target) != 0)
            k++;
        if (k == j->ntargets)
            j->targets[j->ntargets++].name = j->ordered[i].target;
        j->target_of[i] = k;
    }
    /* Every context before the first query, so that running out of
     * memory never leaves a phase half started. */
    query_ctx **ctx = xmppc__calloc(j->ntargets, sizeof *ctx);
    bool ok = ctx != NULL;
    for (size_t i = 0; ok && i < j->ntargets; i++)
        ok = (ctx[i] = xmppc__malloc(sizeof **ctx)) != NULL;
    if (!ok) {
        for (size_t i = 0; ctx && i < j->ntargets; i++)
            xmppc__free(ctx[i]);
        xmppc__free(ctx);
        finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
        return;
    }
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC; /* both AAAA and A */
    hints.ai_socktype = SOCK_STREAM;
    /* No RFC 6724 sorting: it opens sockets no watch would see, and we
     * interleave families ourselves. */
    hints.ai_flags = ARES_AI_NOSORT;
    j->issuing = true;
    for (size_t i = 0; i < j->ntargets; i++) {
        *ctx[i] = (query_ctx){dns, j->generation, i};
        j->pending++;
        ares_getaddrinfo(dns->channel, j->targets[i].name, NULL, &hints,
                         addr_done, ctx[i]);
    }
    xmppc__free(ctx);
    j->issuing = false;
    if (j->pending == 0 && j->phase == PHASE_ADDR)
        addr_phase_done(dns, j);
}

static void addr_phase_done(xmppc__dns *dns, job *j)
{
    if (j->nomem) {
        finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
        return;
    }
    xmppc__dns_result *r = xmppc__calloc(1, sizeof *r);
    if (r)
        r->candidates = xmppc__calloc(j->nordered, sizeof *r->candidates);
    if (!r || !r->candidates) {
        xmppc__free(r);
        finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
        return;
    }
    r->from_srv = !j->fallback;
    for (size_t i = 0; i < j->nordered; i++) {
        const target_info *t = &j->targets[j->target_of[i]];
        if (t->naddrs == 0)
            continue;
        xmppc__dns_candidate *c = &r->candidates[r->count];
        c->host = xmppc__strdup(j->ordered[i].target);
        c->addrs = xmppc__memdup(t->addrs, t->naddrs * sizeof *t->addrs);
        if (!c->host || !c->addrs) {
            xmppc__free(c->host);
            xmppc__free(c->addrs);
            xmppc__dns_result_free(r);
            finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
            return;
        }
        c->port = j->ordered[i].port;
        c->direct_tls = j->ordered[i].direct_tls;
        c->naddrs = t->naddrs;
        for (size_t k = 0; k < c->naddrs; k++)
            addr_set_port(&c->addrs[k], c->port);
        r->count++;
    }
    if (r->count > 0) {
        log_result(dns, j->domain, r);
        finish_ok(j, r);
        return;
    }
    xmppc__dns_result_free(r);
    if (j->fallback) {
        finish_error(j, XMPPC_EDNS,
                     "dns: %s has no SRV records and no address: %s", j->domain,
                     ares_strerror(j->targets[0].status));
        return;
    }
    /* Name a few of the targets and why each failed. */
    char why[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < j->ntargets && i < ERROR_TARGETS_MAX; i++) {
        int n =
            snprintf(why + used, sizeof why - used, "%s%s: %s", i ? "; " : "",
                     j->targets[i].name, ares_strerror(j->targets[i].status));
        if (n < 0 || (size_t)n >= sizeof why - used)
            break;
        used += (size_t)n;
    }
    finish_error(j, XMPPC_EDNS,
                 "dns: none of the %zu SRV targets of %s has an address (%s%s)",
                 j->ntargets, j->domain, why,
                 j->ntargets > ERROR_TARGETS_MAX ? "; ..." : "");
}

/* Both SRV answers are in: merge, order, or decide there is nothing. */
static void srv_phase_done(xmppc__dns *dns, job *j)
{
    if (j->nomem) {
        finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
        return;
    }
    xmppc__dns_srv_set *tls = &j->sets[SVC_TLS], *plain = &j->sets[SVC_PLAIN];
    switch (xmppc__dns_plan_choose(tls, plain)) {
    case XMPPC__DNS_PLAN_SRV: {
        size_t n = tls->count + plain->count;
        j->ordered = xmppc__calloc(n, sizeof *j->ordered);
        if (!j->ordered) {
            finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
            return;
        }
        /* XEP-0368: both services are one set of records to order. */
        for (int s = 0; s < 2; s++) {
            for (size_t i = 0; i < j->sets[s].count; i++)
                j->ordered[j->nordered++] = j->sets[s].recs[i];
            j->sets[s].count = 0; /* the targets now belong to ordered */
            xmppc__dns_srv_set_clear(&j->sets[s]);
        }
        xmppc__dns_order_srv(j->ordered, j->nordered, dns->config.random,
                             dns->config.random_userdata);
        break;
    }
    case XMPPC__DNS_PLAN_FALLBACK:
        j->ordered = xmppc__calloc(1, sizeof *j->ordered);
        if (j->ordered)
            j->ordered[0].target = xmppc__strdup(j->domain);
        if (!j->ordered || !j->ordered[0].target) {
            finish_error(j, XMPPC_ENOMEM, "dns: out of memory");
            return;
        }
        j->ordered[0].port = XMPPC__DNS_DEFAULT_PORT;
        j->nordered = 1;
        j->fallback = true;
        xmppc__log(dns->logger, XMPPC_LOG_DEBUG, AREA,
                   "%s: no SRV records, trying the domain on port %d",
                   j->domain, XMPPC__DNS_DEFAULT_PORT);
        break;
    case XMPPC__DNS_PLAN_NOT_OFFERED:
        finish_error(j, XMPPC_EDNS,
                     "dns: %s offers no XMPP client service (SRV target "
                     "\".\")",
                     j->domain);
        return;
    case XMPPC__DNS_PLAN_UNUSABLE:
        finish_error(j, XMPPC_EDNS,
                     "dns: no SRV record of %s has a valid target host name",
                     j->domain);
        return;
    case XMPPC__DNS_PLAN_FAILED: {
        int s = tls->status == XMPPC__DNS_SRV_FAILED ? SVC_TLS : SVC_PLAIN;
        finish_error(j, XMPPC_EDNS, "dns: SRV lookup of %s%s failed: %s",
                     service_prefix[s], j->domain, j->srv_error[s]);
        return;
    }
    }
    start_addr_phase(dns, j);
}

static void srv_answer(xmppc__dns *dns, job *j, int svc, int status,
                       const unsigned char *abuf, int alen)
{
    xmppc__dns_srv_set *set = &j->sets[svc];
    if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
        set->status = XMPPC__DNS_SRV_NONE;
        return;
    }
    struct ares_srv_reply *replies = NULL;
    if (status == ARES_SUCCESS)
        status = ares_parse_srv_reply(abuf, alen, &replies);
    if (status == ARES_ENODATA) { /* e.g. only a CNAME in the answer */
        set->status = XMPPC__DNS_SRV_NONE;
        return;
    }
    if (status != ARES_SUCCESS) {
        set->status = XMPPC__DNS_SRV_FAILED;
        snprintf(j->srv_error[svc], sizeof j->srv_error[svc], "%s",
                 ares_strerror(status));
        xmppc__log(dns->logger, XMPPC_LOG_DEBUG, AREA, "%s%s: %s",
                   service_prefix[svc], j->domain, j->srv_error[svc]);
        return;
    }
    size_t n = 0;
    for (struct ares_srv_reply *r = replies; r; r = r->next)
        n++;
    xmppc__dns_srv *raw = xmppc__calloc(n ? n : 1, sizeof *raw);
    if (!raw) {
        j->nomem = true;
    } else {
        size_t i = 0;
        for (struct ares_srv_reply *r = replies; r; r = r->next, i++)
            raw[i] = (xmppc__dns_srv){r->host, r->port, r->priority, r->weight,
                                      svc == SVC_TLS};
        if (xmppc__dns_srv_set_fill(set, raw, n, svc == SVC_TLS, dns->logger) <
            0)
            j->nomem = true;
        xmppc__free(raw);
    }
    ares_free_data(replies);
}

static void srv_done(void *arg, int status, int timeouts, unsigned char *abuf,
                     int alen)
{
    query_ctx *ctx = arg;
    xmppc__dns *dns = ctx->dns;
    int svc = (int)ctx->index;
    job *j = live_job(dns, ctx->generation);
    xmppc__free(ctx);
    (void)timeouts;
    if (!j)
        return;
    srv_answer(dns, j, svc, status, abuf, alen);
    if (--j->pending == 0 && !j->issuing)
        srv_phase_done(dns, j);
}

/* ---- sockets ------------------------------------------------------------- */

static void sock_state_cb(void *data, ares_socket_t fd, int readable,
                          int writable)
{
    xmppc__dns *dns = data;
    unsigned events =
        (readable ? XMPPC__DNS_READ : 0) | (writable ? XMPPC__DNS_WRITE : 0);
    size_t i = 0;
    while (i < dns->nfds && dns->fds[i].fd != (int)fd)
        i++;
    if (events == 0) {
        if (i < dns->nfds)
            dns->fds[i] = dns->fds[--dns->nfds];
    } else if (i < dns->nfds) {
        if (dns->fds[i].events == events)
            return; /* c-ares repeats itself; the owner need not hear it */
        dns->fds[i].events = events;
    } else {
        if (dns->nfds == dns->capfds) {
            size_t cap = dns->capfds ? 2 * dns->capfds : 4;
            watched_fd *grown =
                xmppc__reallocarray(dns->fds, cap, sizeof *grown);
            if (!grown) {
                if (!dns->io_error)
                    dns->io_error = XMPPC_ENOMEM;
                return;
            }
            dns->fds = grown;
            dns->capfds = cap;
        }
        dns->fds[dns->nfds++] = (watched_fd){(int)fd, events};
    }
    int rc = dns->io.watch(dns->io_ud, (int)fd, events);
    if (rc < 0 && events != 0 && !dns->io_error) {
        dns->io_error = rc;
        xmppc__log(dns->logger, XMPPC_LOG_WARN, AREA,
                   "watch callback refused socket %d (status %d)", (int)fd, rc);
    }
}

/* ---- the resolver -------------------------------------------------------- */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_status = ARES_ENOTINITIALIZED;

static void library_init(void)
{
    library_status = ares_library_init(ARES_LIB_INIT_ALL);
}

int xmppc__dns_new(xmppc__dns **out, const xmppc__dns_io *io, void *io_ud,
                   const char *servers, const xmppc__dns_config *config,
                   const xmppc__logger *logger)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "dns: out is NULL");
    *out = NULL;
    if (!io || !io->watch)
        return xmppc__error(XMPPC_EINVAL, "dns: a watch callback is required");
    if (servers && !*servers)
        return xmppc__error(XMPPC_EINVAL, "dns: empty DNS server list");
    pthread_once(&library_once, library_init);
    if (library_status != ARES_SUCCESS)
        return xmppc__error(XMPPC_EDNS, "dns: c-ares initialization failed: %s",
                            ares_strerror(library_status));

    xmppc__dns *dns = xmppc__calloc(1, sizeof *dns);
    if (!dns)
        return XMPPC_ENOMEM;
    dns->io = *io;
    dns->io_ud = io_ud;
    dns->logger = logger;
    if (config)
        dns->config = *config;
    else
        xmppc__dns_config_default(&dns->config);
    if (dns->config.timeout_ms <= 0)
        dns->config.timeout_ms = XMPPC__DNS_DEFAULT_TIMEOUT_MS;
    if (dns->config.tries <= 0)
        dns->config.tries = XMPPC__DNS_DEFAULT_TRIES;
    if (!dns->config.random) {
        dns->rng = random_seed();
        dns->config.random = default_random;
        dns->config.random_userdata = &dns->rng;
    }

    struct ares_options opts;
    memset(&opts, 0, sizeof opts);
    /* No search list (XMPP domains are fully qualified) and no
     * HOSTALIASES (the environment must not redirect a domain). */
    opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    opts.timeout = dns->config.timeout_ms;
    opts.tries = dns->config.tries;
    opts.domains = NULL;
    opts.ndomains = 0;
    opts.sock_state_cb = sock_state_cb;
    opts.sock_state_cb_data = dns;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
               ARES_OPT_DOMAINS | ARES_OPT_SOCK_STATE_CB;
    int rc = ares_init_options(&dns->channel, &opts, mask);
    if (rc != ARES_SUCCESS) {
        xmppc__free(dns);
        if (rc == ARES_ENOMEM)
            return xmppc__error(XMPPC_ENOMEM, "dns: out of memory");
        return xmppc__error(XMPPC_EDNS, "dns: cannot start c-ares: %s",
                            ares_strerror(rc));
    }
    if (servers) {
        rc = ares_set_servers_ports_csv(dns->channel, servers);
        if (rc != ARES_SUCCESS) {
            char q[QUOTE_MAX + 1];
            ares_destroy(dns->channel);
            xmppc__free(dns->fds);
            xmppc__free(dns);
            if (rc == ARES_ENOMEM)
                return xmppc__error(XMPPC_ENOMEM, "dns: out of memory");
            return xmppc__error(XMPPC_EINVAL,
                                "dns: bad DNS server list \"%s\": %s",
                                quote(q, sizeof q, servers), ares_strerror(rc));
        }
    }
    *out = dns;
    return 0;
}

void xmppc__dns_free(xmppc__dns *dns)
{
    if (!dns)
        return;
    dns->freeing = true;
    if (dns->job) {
        fail_job(dns, XMPPC_ECANCELED, "dns: resolver freed");
        deliver(dns);
    }
    ares_destroy(dns->channel); /* announces each socket it closes */
    for (size_t i = 0; i < dns->nfds; i++)
        dns->io.watch(dns->io_ud, dns->fds[i].fd, 0);
    xmppc__free(dns->fds);
    xmppc__free(dns);
}

bool xmppc__dns_busy(const xmppc__dns *dns)
{
    return dns && dns->job;
}

/* The name to look up: no trailing dot, ASCII (IDNA2008 through GnuTLS,
 * as jid.c checks it), and a plausible domain name. */
static int normalize_domain(const char *domain, char **out)
{
    char q[QUOTE_MAX + 1];
    size_t len = strlen(domain);
    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0)
        return xmppc__error(XMPPC_EINVAL, "dns: empty domain");
    if (len > 4 * NAME_MAX_LEN)
        return xmppc__error(XMPPC_EINVAL, "dns: domain too long");
    bool ascii = true;
    for (size_t i = 0; i < len && ascii; i++)
        ascii = (unsigned char)domain[i] < 0x80;
    char *name;
    if (ascii) {
        name = xmppc__strndup(domain, len);
    } else {
        gnutls_datum_t a = {NULL, 0};
        int rc = gnutls_idna_map(domain, (unsigned)len, &a, 0);
        if (rc == GNUTLS_E_MEMORY_ERROR)
            return xmppc__error(XMPPC_ENOMEM, "dns: out of memory in GnuTLS");
        if (rc < 0)
            return xmppc__error(XMPPC_EINVAL,
                                "dns: \"%s\" is not a valid internationalized "
                                "domain name",
                                quote(q, sizeof q, domain));
        name = xmppc__strndup((const char *)a.data, a.size);
        gnutls_free(a.data);
    }
    if (!name)
        return XMPPC_ENOMEM;
    if (!domain_name_valid(name)) {
        xmppc__error(XMPPC_EINVAL, "dns: \"%s\" is not a valid domain name",
                     quote(q, sizeof q, domain));
        xmppc__free(name);
        return XMPPC_EINVAL;
    }
    *out = name;
    return 0;
}

/* A job that is finished before it starts: the domain is an IP literal. */
static int resolve_literal(xmppc__dns *dns, job *j, const char *domain,
                           const xmppc__dns_addr *addr)
{
    xmppc__dns_result *r = xmppc__calloc(1, sizeof *r);
    if (r)
        r->candidates = xmppc__calloc(1, sizeof *r->candidates);
    if (!r || !r->candidates) {
        xmppc__free(r);
        return XMPPC_ENOMEM;
    }
    xmppc__dns_candidate *c = &r->candidates[0];
    c->host = xmppc__strdup(domain);
    c->addrs = xmppc__memdup(addr, sizeof *addr);
    j->domain = xmppc__strdup(domain);
    if (!c->host || !c->addrs || !j->domain) {
        r->count = 1;
        xmppc__dns_result_free(r);
        return XMPPC_ENOMEM;
    }
    c->port = XMPPC__DNS_DEFAULT_PORT;
    c->naddrs = 1;
    r->count = 1;
    xmppc__log(dns->logger, XMPPC_LOG_DEBUG, AREA,
               "%s is an IP address: no DNS lookup", domain);
    finish_ok(j, r);
    return 0;
}

/* A new job for one resolution, or XMPPC_ESTATE while one runs. */
static int new_job(xmppc__dns *dns, bool want_direct_tls, xmppc__dns_done_cb cb,
                   void *userdata, job **out)
{
    if (dns->freeing || dns->job)
        return xmppc__error(XMPPC_ESTATE, dns->freeing
                                              ? "dns: resolver being freed"
                                              : "dns: a resolution is already "
                                                "in progress");
    job *j = xmppc__calloc(1, sizeof *j);
    if (!j)
        return XMPPC_ENOMEM;
    j->generation = ++dns->generation;
    j->want_direct_tls = want_direct_tls;
    j->cb = cb;
    j->userdata = userdata;
    xmppc__error_store_clear(&j->error);
    *out = j;
    return 0;
}

int xmppc__dns_resolve(xmppc__dns *dns, const char *domain,
                       bool want_direct_tls, xmppc__dns_done_cb cb,
                       void *userdata)
{
    if (!dns || !domain || !cb)
        return xmppc__error(XMPPC_EINVAL, "dns: resolve needs a resolver, a "
                                          "domain and a callback");
    job *j = NULL;
    int rc = new_job(dns, want_direct_tls, cb, userdata, &j);
    if (rc < 0)
        return rc;

    xmppc__dns_addr literal;
    if (xmppc__dns_parse_ip_literal(domain, XMPPC__DNS_DEFAULT_PORT,
                                    &literal)) {
        rc = resolve_literal(dns, j, domain, &literal);
        if (rc < 0) {
            job_free(j);
            return rc;
        }
        dns->job = j; /* delivered by the next process_timeout() */
        return 0;
    }
    rc = normalize_domain(domain, &j->domain);
    if (rc < 0) {
        job_free(j);
        return rc;
    }
    query_ctx *ctx[2] = {NULL, NULL};
    for (int s = 0; s < 2; s++) {
        if (s == SVC_TLS && !want_direct_tls)
            continue;
        if (!(ctx[s] = xmppc__malloc(sizeof *ctx[s]))) {
            xmppc__free(ctx[0]);
            job_free(j);
            return XMPPC_ENOMEM;
        }
    }
    dns->job = j;
    j->phase = PHASE_SRV;
    j->issuing = true;
    for (int s = 0; s < 2; s++) {
        char name[NAME_MAX_LEN + 32];
        int n =
            snprintf(name, sizeof name, "%s%s", service_prefix[s], j->domain);
        if (!ctx[s]) {
            j->sets[s].status = XMPPC__DNS_SRV_NOT_ASKED;
            continue;
        }
        if (n < 0 || n > NAME_MAX_LEN) {
            /* Too long to exist: no SRV record, as NXDOMAIN would say. */
            j->sets[s].status = XMPPC__DNS_SRV_NONE;
            xmppc__free(ctx[s]);
            continue;
        }
        *ctx[s] = (query_ctx){dns, j->generation, (size_t)s};
        j->pending++;
        ares_query(dns->channel, name, DNS_CLASS_IN, DNS_TYPE_SRV, srv_done,
                   ctx[s]);
    }
    j->issuing = false;
    if (j->pending == 0 && j->phase == PHASE_SRV)
        srv_phase_done(dns, j);
    check_io_error(dns);
    return 0;
}

int xmppc__dns_resolve_host(xmppc__dns *dns, const char *host,
                            unsigned int port, bool direct_tls,
                            xmppc__dns_done_cb cb, void *userdata)
{
    if (!dns || !host || !cb || port == 0 || port > 65535)
        return xmppc__error(XMPPC_EINVAL, "dns: resolve_host needs a "
                                          "resolver, a host, a port and a "
                                          "callback");
    job *j = NULL;
    int rc = new_job(dns, direct_tls, cb, userdata, &j);
    if (rc == 0)
        rc = normalize_domain(host, &j->domain);
    if (rc == 0 && !xmppc__dns_hostname_valid(j->domain))
        rc = xmppc__error(XMPPC_EINVAL, "dns: '%.100s' is not a host name",
                          host);
    if (rc == 0 && !(j->ordered = xmppc__calloc(1, sizeof *j->ordered)))
        rc = XMPPC_ENOMEM;
    if (rc == 0 && !(j->ordered[0].target = xmppc__strdup(j->domain)))
        rc = XMPPC_ENOMEM;
    if (rc < 0) {
        if (j && j->ordered)
            j->nordered = 1;
        job_free(j);
        return rc;
    }
    /* A configured server: no SRV records, straight to its addresses. */
    j->ordered[0].port = (uint16_t)port;
    j->ordered[0].direct_tls = direct_tls;
    j->nordered = 1;
    dns->job = j;
    start_addr_phase(dns, j);
    check_io_error(dns);
    return 0;
}

void xmppc__dns_cancel(xmppc__dns *dns)
{
    if (!dns || !dns->job)
        return;
    fail_job(dns, XMPPC_ECANCELED, "dns: resolution of %s canceled",
             dns->job->domain ? dns->job->domain : "?");
    deliver(dns);
}

int xmppc__dns_process_fd(xmppc__dns *dns, int fd, unsigned revents)
{
    if (!dns)
        return xmppc__error(XMPPC_EINVAL, "dns: process_fd on NULL");
    bool write = revents & XMPPC__DNS_WRITE;
    bool read = (revents & ~XMPPC__DNS_WRITE) != 0;
    ares_process_fd(dns->channel, read ? fd : ARES_SOCKET_BAD,
                    write ? fd : ARES_SOCKET_BAD);
    check_io_error(dns);
    deliver(dns);
    return 0;
}

int xmppc__dns_process_timeout(xmppc__dns *dns)
{
    if (!dns)
        return xmppc__error(XMPPC_EINVAL, "dns: process_timeout on NULL");
    ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    check_io_error(dns);
    deliver(dns);
    return 0;
}

int xmppc__dns_timeout_ms(xmppc__dns *dns)
{
    if (!dns)
        return -1;
    if ((dns->job && dns->job->phase == PHASE_DONE) || dns->io_error)
        return 0;
    struct timeval tv;
    if (!ares_timeout(dns->channel, NULL, &tv))
        return -1;
    long long ms = (long long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    if (ms < 0)
        return 0;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}
