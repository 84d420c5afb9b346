/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Finding an XMPP server (RFC 6120 section 3.2, XEP-0368): SRV lookups of
 * _xmpps-client._tcp and _xmpp-client._tcp, RFC 2782 ordering, fallback to
 * the domain itself on port 5222, then A and AAAA lookups of every target.
 * Everything runs on one c-ares channel per resolver, driven by the owner's
 * event loop: each socket c-ares opens is announced through a watch
 * callback, the owner reports readiness with xmppc__dns_process_fd() and
 * asks for the next deadline with xmppc__dns_timeout_ms(). Nothing blocks.
 * Not installed.
 *
 * Threads: a resolver is used by one thread at a time (its owner's).
 */
#ifndef XMPPC_DNS_H
#define XMPPC_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "xmppc-private.h"

/* Socket interest and readiness, for xmppc__dns_io.watch and
 * xmppc__dns_process_fd(). */
#define XMPPC__DNS_READ 1u
#define XMPPC__DNS_WRITE 2u

/* Records used per service (more are ignored, with a debug log), addresses
 * kept per target, and the port of the fallback candidate. */
#define XMPPC__DNS_MAX_SRV 32
#define XMPPC__DNS_MAX_ADDRS 16
#define XMPPC__DNS_DEFAULT_PORT 5222

/* Defaults of xmppc__dns_config. */
#define XMPPC__DNS_DEFAULT_TIMEOUT_MS 2000
#define XMPPC__DNS_DEFAULT_TRIES 2

typedef struct xmppc__dns xmppc__dns;

/* How the resolver tells its owner which sockets to watch. */
typedef struct xmppc__dns_io {
    /* Called when c-ares opens a socket or changes its interest in one:
     * @p events is XMPPC__DNS_READ | XMPPC__DNS_WRITE, or 0 when the socket
     * is about to be closed and must be forgotten. Called from inside
     * xmppc__dns_resolve(), _process_fd(), _process_timeout(), _cancel()
     * and _free(); it must not call back into the resolver. A negative
     * return fails the resolution in progress with that status
     * (XMPPC_EIO when it is not an xmppc_status). */
    int (*watch)(void *userdata, int fd, unsigned events);
} xmppc__dns_io;

/* A uniformly distributed integer in [0, max], both ends included. */
typedef uint32_t (*xmppc__dns_random_cb)(void *userdata, uint32_t max);

typedef struct xmppc__dns_config {
    int timeout_ms; /* c-ares' first per-try timeout; <= 0: default (2 s) */
    int tries;      /* tries per server; <= 0: default (2) */
    /* Weighted selection among SRV records of one priority; NULL: a
     * generator seeded from getrandom(). Tests inject their own. */
    xmppc__dns_random_cb random;
    void *random_userdata;
} xmppc__dns_config;

/* One address of a candidate, its port already set. */
typedef struct xmppc__dns_addr {
    struct sockaddr_storage addr;
    socklen_t len;
} xmppc__dns_addr;

/* One place to connect to, in the order to try them. */
typedef struct xmppc__dns_candidate {
    char *host; /* SRV target or the domain itself (for logs only: the
                   certificate is checked against the JID's domain) */
    uint16_t port;
    bool direct_tls; /* from _xmpps-client (XEP-0368): TLS at once */
    /* For happy eyeballs (RFC 8305 section 4): families interleaved,
     * IPv6 first; at most XMPPC__DNS_MAX_ADDRS, never 0. */
    xmppc__dns_addr *addrs;
    size_t naddrs;
} xmppc__dns_candidate;

typedef struct xmppc__dns_result {
    xmppc__dns_candidate *candidates; /* at least one */
    size_t count;
    bool from_srv; /* false: the domain itself on port 5222 (no SRV records
                      or an IP literal) */
} xmppc__dns_result;

/* The end of one xmppc__dns_resolve(). Exactly one of @p result and @p error
 * is non-NULL. @p result is owned by the callee (xmppc__dns_result_free());
 * @p error is borrowed for the call: XMPPC_EDNS (with a message saying
 * why), XMPPC_ECANCELED (xmppc__dns_cancel() or xmppc__dns_free() came
 * first), XMPPC_ENOMEM, or the watch callback's failure.
 * The callback may free the resolver, cancel, or start a new resolution
 * -- except when it is run by xmppc__dns_free(), where it must not touch
 * the resolver at all. */
typedef void (*xmppc__dns_done_cb)(xmppc__dns_result *result,
                                   const xmppc_error *error, void *userdata);

/* Fills @p config with the defaults. */
void xmppc__dns_config_default(xmppc__dns_config *config);

/* Creates a resolver with its own c-ares channel.
 * @param io the watch callback (copied; required).
 * @param servers "host[:port],..." such as "127.0.0.1:5353,[::1]:53", or
 *        NULL for the system's resolver configuration.
 * @param config NULL for the defaults (copied).
 * @param logger borrowed; must outlive the resolver (NULL: process default).
 * @return 0 and *out, or XMPPC_EINVAL (bad arguments or server list),
 *         XMPPC_ENOMEM, XMPPC_EDNS (c-ares could not start). */
int xmppc__dns_new(xmppc__dns **out, const xmppc__dns_io *io, void *io_ud,
                   const char *servers, const xmppc__dns_config *config,
                   const xmppc__logger *logger);

/* Cancels a resolution in progress (its callback gets XMPPC_ECANCELED,
 * synchronously), closes every socket (each announced to watch with 0) and
 * frees the resolver. NULL is a no-op. Never call it from watch. */
void xmppc__dns_free(xmppc__dns *dns);

/* Starts finding servers for @p domain (a JID domainpart: a host name,
 * UTF-8 IDNs allowed, or an IP literal such as "127.0.0.1" or "[::1]",
 * which skips DNS). Queries _xmpps-client._tcp (when @p want_direct_tls)
 * and _xmpp-client._tcp in parallel, then the addresses of every target.
 * @p cb fires exactly once, never inside this call: from a later
 * xmppc__dns_process_fd(), _process_timeout(), _cancel() or _free(). When
 * it ended inside this call (an IP literal, a socket the watch refused),
 * xmppc__dns_timeout_ms() returns 0 until the next process call delivers
 * it. io->watch may run inside this call (c-ares opens its sockets).
 * @return 0; XMPPC_EINVAL (bad domain), XMPPC_ESTATE (a resolution is
 *         already running on this resolver, or it is being freed),
 *         XMPPC_ENOMEM. On failure @p cb is never called. */
int xmppc__dns_resolve(xmppc__dns *dns, const char *domain,
                       bool want_direct_tls, xmppc__dns_done_cb cb,
                       void *userdata);

/* Resolves the addresses of a configured server host name (A and AAAA,
 * no SRV), for xmppc_conn_set_server(); the result has one candidate with
 * @p port and @p direct_tls. Callback and errors as xmppc__dns_resolve().
 * IP literals are the caller's business (they need no resolver). */
int xmppc__dns_resolve_host(xmppc__dns *dns, const char *host,
                            unsigned int port, bool direct_tls,
                            xmppc__dns_done_cb cb, void *userdata);

/* Whether a resolution was started and its callback has not run yet. */
bool xmppc__dns_busy(const xmppc__dns *dns);

/* Stops the resolution in progress; its callback runs now with
 * XMPPC_ECANCELED (and may start another). No-op when idle or NULL. */
void xmppc__dns_cancel(xmppc__dns *dns);

/* The owner's loop saw @p revents (XMPPC__DNS_READ / _WRITE; any other bit,
 * such as an error or hang-up, counts as readable so c-ares sees the error)
 * on @p fd, a socket announced through watch. Also handles expired timers.
 * @return 0, or XMPPC_EINVAL for a NULL resolver. */
int xmppc__dns_process_fd(xmppc__dns *dns, int fd, unsigned revents);

/* Handles expired c-ares timers and delivers a result that is ready.
 * @return 0, or XMPPC_EINVAL for a NULL resolver. */
int xmppc__dns_process_timeout(xmppc__dns *dns);

/* Milliseconds until xmppc__dns_process_timeout() must be called (rounded
 * up), 0 when it is due now, -1 when no timer is pending. Ask again after
 * every call into the resolver (pull style, like ares_timeout()). */
int xmppc__dns_timeout_ms(xmppc__dns *dns);

/* Frees a result handed to a xmppc__dns_done_cb. NULL is a no-op. */
void xmppc__dns_result_free(xmppc__dns_result *result);

/* ---- pure parts, exposed for the unit tests -------------------------- */

/* One SRV record. */
typedef struct xmppc__dns_srv {
    char *target; /* without the trailing dot; "" is the root (".") */
    uint16_t port;
    uint16_t priority;
    uint16_t weight;
    bool direct_tls;
} xmppc__dns_srv;

/* What one SRV lookup told us. */
typedef enum xmppc__dns_srv_status {
    XMPPC__DNS_SRV_NOT_ASKED = 0, /* not queried (direct TLS not wanted) */
    XMPPC__DNS_SRV_FOUND,         /* usable records in recs */
    XMPPC__DNS_SRV_NONE,          /* NXDOMAIN or no SRV record (NODATA) */
    XMPPC__DNS_SRV_NOT_OFFERED,   /* a single record with target "." */
    XMPPC__DNS_SRV_UNUSABLE,      /* records, but no valid target */
    XMPPC__DNS_SRV_FAILED         /* the lookup failed (timeout, SERVFAIL) */
} xmppc__dns_srv_status;

typedef struct xmppc__dns_srv_set {
    xmppc__dns_srv_status status;
    xmppc__dns_srv *recs; /* owned copies; count <= XMPPC__DNS_MAX_SRV */
    size_t count;
} xmppc__dns_srv_set;

/* Turns the @p n records of one answer (targets borrowed, as received) into
 * @p set: a lone "." (or empty) target means NOT_OFFERED (RFC 2782); other
 * "." targets and invalid host names are skipped (a warning for the
 * latter); at most XMPPC__DNS_MAX_SRV are kept; each is marked
 * @p direct_tls. n == 0 gives NONE.
 * @return 0 or XMPPC_ENOMEM (set left empty). */
int xmppc__dns_srv_set_fill(xmppc__dns_srv_set *set, const xmppc__dns_srv *raw,
                            size_t n, bool direct_tls,
                            const xmppc__logger *logger);
/* Frees the records; the status is kept. */
void xmppc__dns_srv_set_clear(xmppc__dns_srv_set *set);

/* What to do once both lookups are in. */
typedef enum xmppc__dns_plan {
    XMPPC__DNS_PLAN_SRV,         /* connect to the merged records */
    XMPPC__DNS_PLAN_FALLBACK,    /* no SRV: the domain itself, port 5222 */
    XMPPC__DNS_PLAN_NOT_OFFERED, /* "." for xmpp-client, no xmpps records */
    XMPPC__DNS_PLAN_UNUSABLE,    /* records, but none with a valid target */
    XMPPC__DNS_PLAN_FAILED       /* a lookup failed and nothing was found */
} xmppc__dns_plan;

/* Any usable record wins; then a failed lookup fails the whole; then "."
 * for _xmpp-client means no XMPP here; records without a valid target fail;
 * otherwise (NXDOMAIN/NODATA, or only _xmpps-client said ".") fall back. */
xmppc__dns_plan xmppc__dns_plan_choose(const xmppc__dns_srv_set *xmpps,
                                       const xmppc__dns_srv_set *xmpp);

/* Orders @p n records in place by RFC 2782: priority ascending; within a
 * priority, repeated weighted random selection with weight-0 records
 * placed first in each draw (so they are picked only when the random
 * number is 0 or nothing heavier is left). @p random NULL: a generator
 * seeded from getrandom(). Meant for small n (quadratic). */
void xmppc__dns_order_srv(xmppc__dns_srv *recs, size_t n,
                          xmppc__dns_random_cb random, void *random_userdata);

/* RFC 1123 host name: LDH labels of 1..63 bytes not starting or ending
 * with '-', at most 253 bytes (one trailing dot allowed), and not all
 * digits in the last label (so never a dotted quad). */
bool xmppc__dns_hostname_valid(const char *name);

/* Parses "192.0.2.1", "[2001:db8::1]" or "2001:db8::1" into @p out with
 * @p port. Returns false for anything else (host names, "[...]" with an
 * IPv4 address, zone ids). */
bool xmppc__dns_parse_ip_literal(const char *domain, uint16_t port,
                                 xmppc__dns_addr *out);

/* Copies @p n addresses into @p out (room for @p max), dropping duplicates
 * and families other than IPv4/IPv6, alternating families and starting with
 * IPv6 (RFC 8305 section 4, First Address Family Count 1), each family in
 * its given order. Returns how many were written; *ignored (may be NULL)
 * receives how many distinct usable addresses did not fit. */
size_t xmppc__dns_interleave(const xmppc__dns_addr *in, size_t n,
                             xmppc__dns_addr *out, size_t max, size_t *ignored);

#endif /* XMPPC_DNS_H */
