/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The connection object, shared by conn.c (lifecycle and state machine),
 * io.c (descriptor and timer bookkeeping, post) and net.c (sockets). Not
 * installed.
 */
#ifndef XMPPC_CONN_PRIVATE_H
#define XMPPC_CONN_PRIVATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "xmppc-private.h"
#include <xmppc/conn.h>
#include <xmppc/io.h>
#include <xmppc/loop.h>

struct xmppc__dns;
struct xmppc__tls;
struct xmppc__tls_trust;
struct xmppc__stream;
struct xmppc__dispatch;

/* One address to try, in happy-eyeballs order. */
typedef struct xmppc__candidate {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool direct_tls;
} xmppc__candidate;

/* A connection attempt in flight. */
typedef struct xmppc__attempt {
    int fd;
    size_t candidate;
} xmppc__attempt;

typedef struct xmppc__watch {
    int fd;
    unsigned int events;
} xmppc__watch;

typedef struct xmppc__attachment {
    const void *key;
    void *data;
    xmppc_destroy_cb destroy;
} xmppc__attachment;

typedef struct xmppc__post {
    xmppc_post_cb cb;
    void *userdata;
    struct xmppc__post *next;
} xmppc__post;

#define XMPPC__MAX_ATTEMPTS 4

struct xmppc_conn {
    unsigned int refs;
    unsigned int busy; /* nested library entry points on the stack */
    bool free_pending; /* last unref happened while busy */

    /* configuration */
    char *bare_jid, *local, *domain, *password, *resource;
    char *server_host;
    unsigned int server_port;
    bool direct_tls;
    xmppc_tls_policy tls_policy;
    char *ca_file;
    unsigned char spki_pin[32];
    bool has_pin;
    xmppc_cert_verify_cb verify_cb;
    void *verify_ud;
    unsigned int connect_timeout_ms, iq_timeout_ms;
    size_t max_stanza_bytes;
    char *dns_servers;
    char *scram_key;      /* configured (secret) */
    char *last_scram_key; /* from the last SCRAM login (secret) */
    xmppc__logger logger;
    xmppc_state_cb state_cb;
    void *state_ud;

    /* event-loop integration (io.c) */
    xmppc_watch_cb watch_cb;
    xmppc_timer_cb timer_cb;
    void *io_ud;
    xmppc_loop *loop;         /* the built-in loop we are attached to */
    xmppc_loop *private_loop; /* made by a blocking helper; freed with us */
    xmppc__watch *watches;
    size_t nwatches, watches_cap;
    int reported_timeout; /* last value given to timer_cb */
    int wake_fd;          /* eventfd for xmppc_conn_post, or -1 */
    pthread_mutex_t post_lock;
    xmppc__post *posts;

    /* one connection attempt, from connect to disconnected */
    xmppc_conn_state state;
    xmppc__error_store error;
    bool has_error;
    uint64_t connect_deadline; /* 0 = none */
    uint64_t close_deadline;   /* graceful close: give up waiting */
    struct xmppc__dns *dns;
    xmppc__candidate *candidates;
    size_t ncandidates, next_candidate;
    xmppc__attempt attempts[XMPPC__MAX_ATTEMPTS];
    size_t nattempts;
    uint64_t next_attempt_at; /* happy eyeballs: start the next one */
    int last_connect_errno;
    int sock;
    bool sock_direct_tls;
    bool want_write; /* output is waiting for the socket */
    struct xmppc__tls_trust *trust;
    struct xmppc__tls *tls;
    bool tls_handshaking;
    struct xmppc__stream *stream;
    xmppc__buf wbuf; /* bytes for the socket (ciphertext under TLS) */
    struct xmppc__dispatch *dispatch;
    bool run_stop;         /* xmppc_conn_stop() */
    bool dns_done;         /* the resolver's callback has fired */
    bool starttls_pending; /* <proceed/> seen: start TLS after the read */
    bool stream_ended;     /* the stream reported its end; tear down */
    bool stream_end_has_error;
    xmppc__error_store stream_end;
    bool max_tls12; /* test knob: cap TLS at 1.2 (tls-unique) */
    /* Test transport (xmppc__conn_test_ready): stanzas sent go here
     * instead of to a stream. */
    void (*test_sink)(void *ud, const char *xml);
    void *test_sink_ud;
    char *test_bound_jid;
    xmppc_stanza *test_features; /* xmppc__conn_test_set_features() */
    struct xmppc_state_listener **listeners; /* in registration order */
    size_t nlisteners;
    struct xmppc_timer **timers; /* pending, unordered (few per connection) */
    size_t ntimers;
    xmppc__attachment *attachments; /* feature modules' state */
    size_t nattachments;
};

/* Closes everything now, without the graceful stream close. */
void xmppc__conn_abort(xmppc_conn *c);
/* Bytes queued but not yet written to the socket. */
size_t xmppc__conn_pending_output(const xmppc_conn *c);

/* ---- test transport ------------------------------------------------------
 * For transcript tests of feature modules: no socket, no stream. */

/* Puts a disconnected connection into XMPPC_STATE_READY as @p bound_jid
 * (state callback included); every stanza it sends is serialized and given
 * to @p sink. Returns 0 or a negative status. */
int xmppc__conn_test_ready(xmppc_conn *c, const char *bound_jid,
                           void (*sink)(void *ud, const char *xml), void *ud);
/* Delivers one stanza (XML text in jabber:client) as if received: handlers,
 * iq matching and automatic replies run. Returns 0, XMPPC_EPARSE, or
 * XMPPC_ESTATE outside test mode. */
int xmppc__conn_test_inject(xmppc_conn *c, const char *xml);
/* Advances nothing but runs due timers now (iq timeouts use the real
 * clock; tests pass short timeouts). */
void xmppc__conn_test_run_timers(xmppc_conn *c);
/* The stream features the test connection reports (a <features/>
 * element in any namespace, e.g. "<features><ver xmlns='...'/></features>");
 * NULL for none. Returns 0 or a negative status. */
int xmppc__conn_test_set_features(xmppc_conn *c, const char *xml);
/* Ends test mode: state DISCONNECTED, pending iq canceled. */
void xmppc__conn_test_disconnect(xmppc_conn *c);

/* ---- loop.c -------------------------------------------------------------- */
void xmppc__loop_free_private(xmppc_conn *c);

/* Test knob: cap TLS at 1.2, e.g. to exercise tls-unique. */
void xmppc__conn_set_max_tls12(xmppc_conn *c, bool cap);

/* ---- io.c ---------------------------------------------------------------- */
uint64_t xmppc__now_ms(void);
/* Sets the events wanted on @p fd (0 removes it) and tells the loop. */
int xmppc__io_watch(xmppc_conn *c, int fd, unsigned int events);
/* Recomputes the next deadline and tells the timer callback if it moved. */
void xmppc__io_update_timer(xmppc_conn *c);
/* Runs queued posts (on the owner thread). */
void xmppc__io_run_posts(xmppc_conn *c);
void xmppc__io_free(xmppc_conn *c);

/* ---- net.c --------------------------------------------------------------- */
/* Starts a non-blocking connect; 0 and *fd_out, or XMPPC_ECONNECT. */
int xmppc__net_connect(const struct sockaddr *addr, socklen_t len, int *fd_out,
                       int *errno_out);
/* The outcome of a connect once the socket is writable: 0 or an errno. */
int xmppc__net_connect_result(int fd);
/* >0 bytes, 0 end of stream, XMPPC_EAGAIN, XMPPC_EIO (message set). */
long xmppc__net_read(int fd, void *buf, size_t len);
long xmppc__net_write(int fd, const void *buf, size_t len);
/* Successful socket write calls since the process started, all
 * connections together: lets bench/roundtrip count writes per burst (P6)
 * without strace. Relaxed atomic; read it with atomic_load. */
extern _Atomic unsigned long xmppc__net_write_calls;
void xmppc__net_close(int fd);
/* Parses an IP literal ("127.0.0.1", "::1", "[::1]"); 0 or XMPPC_EINVAL. */
int xmppc__net_parse_ip(const char *host, unsigned int port,
                        struct sockaddr_storage *addr, socklen_t *len);
/* "127.0.0.1:5222" / "[::1]:5222" for log messages. */
void xmppc__net_format(const struct sockaddr *addr, char *buf, size_t size);

/* ---- conn.c -------------------------------------------------------------- */
/* Entry points that may run user callbacks bracket them so that a last
 * unref inside a callback defers the free until they return. */
void xmppc__conn_enter(xmppc_conn *c);
void xmppc__conn_leave(xmppc_conn *c);
void xmppc__conn_handle_fd(xmppc_conn *c, int fd, unsigned int revents);
void xmppc__conn_handle_timeout(xmppc_conn *c);
/* The earliest deadline of the connection's own machinery, 0 if none. */
uint64_t xmppc__conn_next_deadline(const xmppc_conn *c);
bool xmppc__conn_is_active(const xmppc_conn *c);

#endif /* XMPPC_CONN_PRIVATE_H */
