/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Message round-trip benchmark (DESIGN.md targets P5 and P6). Against the
 * private Prosody of tests/fixtures/xmppc_fixture.py (run it with
 * `xmppc_fixture.py run --no-mam -- build/bench/roundtrip`), two accounts
 * log in over STARTTLS on one built-in xmppc_loop in this process; bob
 * sends available presence, then:
 *
 *   P5: alice sends M chat messages (~200 bytes each) to bob's full JID
 *       with xmppc_chat_send_text(), at most W in flight (refilled to W
 *       whenever half of them have arrived), and the process CPU time and
 *       wall time of the whole transfer are measured. Both ends are in this
 *       process, so the CPU per message counts one send (build, serialize,
 *       encrypt, write) and one receive (read, decrypt, parse, dispatch).
 *   P6: alice queues 1000 messages with no loop turn in between, then
 *       xmppc_conn_flush_sync(alice, 0) runs the loop until they are all
 *       written; the library's count of successful socket writes
 *       (xmppc__net_write_calls, net.c) says how many write calls that
 *       took.
 *
 * bob checks that every message arrives once, in order. The program
 * prints figures and PASS or MISS against the targets; it exits 0 whatever
 * the figures and 1 when something fails (login, a lost or reordered
 * message, a connection that drops).
 */
#include <dirent.h>
#include <glob.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "conn-private.h"
#include <xmppc/xmppc.h>

#define TARGET_P5_US 12.0
#define TARGET_P6_WRITES 70
#define P6_BURST 1000
#define P6_RUNS 5
/* libstrophe 0.12.2 through the same kind of Prosody, perf_security.md
 * section 1.1.6 (20 000 messages of ~200 B, both ends in one process). */
#define STROPHE_US_PER_MSG 17.1
#define STROPHE_MSGS_PER_S 10486.0
/* Without progress for this long, messages are considered lost. */
#define STALL_MS 15000

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr,
                "roundtrip: %s is not set: run under tests/fixtures/"
                "xmppc_fixture.py run --no-mam -- build/bench/roundtrip\n",
                name);
        exit(1);
    }
    return v;
}

static void die(const char *what)
{
    fprintf(stderr, "roundtrip: %s: %s\n", what, xmppc_error_last()->message);
    exit(1);
}

static double now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static unsigned long write_calls(void)
{
    return atomic_load_explicit(&xmppc__net_write_calls, memory_order_relaxed);
}

/* ---- the server's CPU time ----------------------------------------------- */

static long server_pid = -1;

/* The fixture writes <workdir>/server-<attempt>/prosody.pid; the last
 * attempt is the one that started. */
static void find_server(void)
{
    const char *workdir = getenv("XMPPC_TEST_WORKDIR");
    if (!workdir)
        return;
    char pattern[1024];
    snprintf(pattern, sizeof pattern, "%s/server-*/prosody.pid", workdir);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0)
        return;
    FILE *f = fopen(g.gl_pathv[g.gl_pathc - 1], "r");
    if (f) {
        if (fscanf(f, "%ld", &server_pid) != 1)
            server_pid = -1;
        fclose(f);
    }
    globfree(&g);
}

/* CPU time of all the server's threads in ms (schedstat, nanoseconds);
 * -1 when unknown. */
static double server_cpu_ms(void)
{
    if (server_pid <= 0)
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", server_pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    unsigned long long total = 0;
    int threads = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char file[300];
        snprintf(file, sizeof file, "/proc/%ld/task/%s/schedstat", server_pid,
                 e->d_name);
        FILE *f = fopen(file, "r");
        unsigned long long ns = 0;
        if (f && fscanf(f, "%llu", &ns) == 1) {
            total += ns;
            threads++;
        }
        if (f)
            fclose(f);
    }
    closedir(d);
    return threads ? (double)total / 1e6 : -1;
}

/* ---- the two ends ----------------------------------------------------------
 */

typedef struct inbox {
    unsigned long received;  /* messages with our body that arrived */
    unsigned long next;      /* the sequence number expected next */
    unsigned long misplaced; /* arrived out of order, twice, or mangled */
} inbox;

static unsigned long bounced; /* error messages back at alice */

static int on_bob_message(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    inbox *in = userdata;
    (void)conn;
    const char *body = xmppc_message_get_body(msg);
    if (!body || strncmp(body, "msg ", 4) != 0)
        return XMPPC_CONTINUE;
    unsigned long seq = strtoul(body + 4, NULL, 10);
    if (seq != in->next)
        in->misplaced++;
    in->next = seq + 1;
    in->received++;
    return XMPPC_HANDLED;
}

static int on_alice_error(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    (void)conn;
    (void)msg;
    (void)userdata;
    bounced++;
    return XMPPC_HANDLED;
}

static xmppc_conn *new_conn(xmppc_loop *loop, const char *user, int direct)
{
    char jid[512];
    snprintf(jid, sizeof jid, "%s@%s", user, env("XMPPC_TEST_DOMAIN"));
    xmppc_conn *c = NULL;
    if (xmppc_conn_new(&c, jid, env("XMPPC_TEST_PASSWORD")) < 0)
        die("xmppc_conn_new");
    unsigned port =
        (unsigned)atoi(env(direct ? "XMPPC_TEST_TLS_PORT" : "XMPPC_TEST_PORT"));
    if (xmppc_conn_set_server(c, env("XMPPC_TEST_HOST"), port) < 0 ||
        xmppc_conn_set_direct_tls(c, direct) < 0 ||
        xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")) < 0 ||
        xmppc_loop_add(loop, c) < 0)
        die("setting up the connection");
    /* The loop holds its own reference. */
    xmppc_conn_unref(c);
    if (xmppc_conn_connect_sync(c, 10000) < 0)
        die(user);
    return c;
}

typedef struct bench {
    xmppc_loop *loop;
    xmppc_conn *alice, *bob;
    char bob_jid[512];
    inbox in;
    unsigned long sent; /* sequence number of the next message */
} bench;

/* ~110-byte bodies: with bob's full JID, an id and type="chat" a message
 * serializes to about 200 bytes, as in the libstrophe baseline. */
static void send_one(bench *b)
{
    char body[160];
    snprintf(body, sizeof body,
             "msg %06lu the quick brown fox jumps over the lazy dog; "
             "pack my box with five dozen liquor jugs: %05lu",
             b->sent, b->sent * 7919u % 100000u);
    if (xmppc_chat_send_text(b->alice, b->bob_jid, body) < 0)
        die("xmppc_chat_send_text");
    b->sent++;
}

static void check_alive(const bench *b)
{
    const xmppc_conn *ends[2] = {b->alice, b->bob};
    for (int i = 0; i < 2; i++) {
        if (xmppc_conn_get_state(ends[i]) != XMPPC_STATE_READY) {
            const xmppc_error *err = xmppc_conn_get_error(ends[i]);
            fprintf(stderr, "roundtrip: %s dropped: %s\n", i ? "bob" : "alice",
                    err ? err->message : "disconnected");
            exit(1);
        }
    }
}

/* Runs the loop until bob has everything sent so far. */
static void drain(bench *b)
{
    double last = now_ms(CLOCK_MONOTONIC);
    unsigned long seen = b->in.received;
    while (b->in.received < b->sent) {
        if (xmppc_loop_run_once(b->loop, 1000) < 0)
            die("xmppc_loop_run_once");
        check_alive(b);
        double t = now_ms(CLOCK_MONOTONIC);
        if (b->in.received != seen) {
            seen = b->in.received;
            last = t;
        } else if (t - last > STALL_MS) {
            fprintf(stderr,
                    "roundtrip: lost messages: bob has %lu of %lu after "
                    "%d s without progress (%lu bounced)\n",
                    b->in.received, b->sent, STALL_MS / 1000, bounced);
            exit(1);
        }
    }
}

/* Sends @p count messages with at most @p window in flight, refilling the
 * window once half of it has arrived, so that sends go out in batches of
 * window/2 while the other half is on its way. */
static void transfer(bench *b, unsigned long count, unsigned long window)
{
    unsigned long end = b->sent + count;
    double last = now_ms(CLOCK_MONOTONIC);
    unsigned long seen = b->in.received;
    while (b->in.received < end) {
        unsigned long in_flight = b->sent - b->in.received;
        if (b->sent < end && in_flight <= window / 2)
            while (b->sent < end && b->sent - b->in.received < window)
                send_one(b);
        if (xmppc_loop_run_once(b->loop, 1000) < 0)
            die("xmppc_loop_run_once");
        check_alive(b);
        double t = now_ms(CLOCK_MONOTONIC);
        if (b->in.received != seen) {
            seen = b->in.received;
            last = t;
        } else if (t - last > STALL_MS) {
            fprintf(stderr,
                    "roundtrip: lost messages: bob has %lu of %lu after "
                    "%d s without progress (%lu bounced)\n",
                    b->in.received, b->sent, STALL_MS / 1000, bounced);
            exit(1);
        }
    }
}

static double tv_ms(struct timeval tv)
{
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

static unsigned long parse_count(const char *s, const char *opt,
                                 unsigned long max)
{
    char *end;
    unsigned long n = strtoul(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || n < 1 || n > max) {
        fprintf(stderr, "roundtrip: %s wants a number from 1 to %lu\n", opt,
                max);
        exit(2);
    }
    return n;
}

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned long messages = 20000, window = 500;
    int direct = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
            messages = parse_count(argv[++i], "--messages", 100000000);
        } else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) {
            window = parse_count(argv[++i], "--window", 4000);
        } else if (strcmp(argv[i], "--direct-tls") == 0) {
            direct = 1;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            printf("usage: xmppc_fixture.py run --no-mam -- %s [--messages M] "
                   "[--window W] [--direct-tls]\n"
                   "  M messages alice -> bob (default 20000), at most W in "
                   "flight (default 500)\n",
                   argv[0]);
            return 0;
        } else {
            fprintf(stderr, "roundtrip: unknown option %s (try --help)\n",
                    argv[i]);
            return 2;
        }
    }
    if (window < 2)
        window = 2;
    setvbuf(stdout, NULL, _IOLBF, 0); /* figures before any error */

    char users[512];
    snprintf(users, sizeof users, "%s", env("XMPPC_TEST_USERS"));
    char *save = NULL;
    const char *alice_name = strtok_r(users, " ", &save);
    const char *bob_name = strtok_r(NULL, " ", &save);
    if (!alice_name || !bob_name) {
        fputs("roundtrip: XMPPC_TEST_USERS needs two accounts\n", stderr);
        return 1;
    }
    find_server();

    bench b;
    memset(&b, 0, sizeof b);
    if (xmppc_loop_new(&b.loop) < 0)
        die("xmppc_loop_new");
    b.alice = new_conn(b.loop, alice_name, direct);
    b.bob = new_conn(b.loop, bob_name, direct);
    snprintf(b.bob_jid, sizeof b.bob_jid, "%s",
             xmppc_conn_get_bound_jid(b.bob));
    if (xmppc_conn_add_handler(b.bob, NULL, "message", NULL, NULL,
                               on_bob_message, &b.in, NULL) < 0 ||
        xmppc_conn_add_handler(b.alice, NULL, "message", "error", NULL,
                               on_alice_error, NULL, NULL) < 0)
        die("xmppc_conn_add_handler");
    /* Available presence, as a real client; then make sure the server has
     * it before the first message. */
    xmppc_stanza *presence = NULL;
    if (xmppc_presence_new(&presence, NULL, NULL) < 0 ||
        xmppc_conn_send(b.bob, presence) < 0)
        die("presence");
    xmppc_stanza_unref(presence);
    if (xmppc_conn_flush_sync(b.bob, 1, 10000) < 0)
        die("flushing bob's presence");

    /* The size of one message as alice sends it. */
    size_t msg_bytes = 0;
    {
        xmppc_stanza *m = NULL;
        char *xml = NULL;
        if (xmppc_message_new(&m, "chat", b.bob_jid,
                              "msg 000000 the quick brown fox jumps over the "
                              "lazy dog; pack my box with five dozen liquor "
                              "jugs: 00000") == 0 &&
            xmppc_stanza_set_new_id(m) == 0 &&
            xmppc_stanza_to_string(&xml, &msg_bytes, m) == 0)
            xmppc_free(xml);
        xmppc_stanza_unref(m);
    }

    printf("libxmppc round-trip benchmark (P5, P6): %s@%s -> %s over %s, "
           "both on one xmppc_loop in this process\n",
           alice_name, env("XMPPC_TEST_DOMAIN"), b.bob_jid,
           direct ? "direct TLS" : "STARTTLS");
    printf("messages: type=chat with a body, about %zu bytes as sent "
           "(the server adds from=)\n\n",
           msg_bytes);

    /* Warm-up: allocator, buffers, the server's session caches. */
    transfer(&b, 1000 < messages ? 1000 : messages, window);

    /* ---- P5 ---- */
    struct rusage ru0, ru1;
    unsigned long w0 = write_calls();
    double s0 = server_cpu_ms();
    getrusage(RUSAGE_SELF, &ru0);
    double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    double t0 = now_ms(CLOCK_MONOTONIC);
    transfer(&b, messages, window);
    double t1 = now_ms(CLOCK_MONOTONIC);
    double c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    getrusage(RUSAGE_SELF, &ru1);
    double s1 = server_cpu_ms();
    unsigned long w1 = write_calls();

    double wall_s = (t1 - t0) / 1e3;
    double us_per_msg = (c1 - c0) * 1e3 / (double)messages;
    double user_us =
        (tv_ms(ru1.ru_utime) - tv_ms(ru0.ru_utime)) * 1e3 / (double)messages;
    double sys_us =
        (tv_ms(ru1.ru_stime) - tv_ms(ru0.ru_stime)) * 1e3 / (double)messages;
    double rate = (double)messages / wall_s;
    printf("P5: %lu messages, at most %lu in flight (refilled at half), "
           "after %d warm-up messages\n",
           messages, window, 1000 < (int)messages ? 1000 : (int)messages);
    printf("  wall time                         %9.3f s\n", wall_s);
    printf("  throughput                        %9.0f messages/s\n", rate);
    printf("  client CPU (this process)         %9.1f ms\n", c1 - c0);
    printf("  client CPU per message            %9.2f us  (user %.2f + "
           "system %.2f;\n"
           "                                     one send + one receive: "
           "both ends are in this process)\n",
           us_per_msg, user_us, sys_us);
    printf("  client CPU / wall                 %9.0f %%\n",
           100.0 * (c1 - c0) / (t1 - t0));
    if (s0 >= 0 && s1 >= 0)
        printf("  server CPU per message            %9.2f us  (Prosody "
               "%.0f ms, %.0f %% of wall)\n",
               (s1 - s0) * 1e3 / (double)messages, s1 - s0,
               100.0 * (s1 - s0) / (t1 - t0));
    printf("  socket writes                     %9lu  (%.1f messages per "
           "write)\n",
           w1 - w0, (double)messages / (double)(w1 - w0 ? w1 - w0 : 1));

    /* ---- P6 ---- */
    unsigned long p6[P6_RUNS];
    size_t queued_bytes = 0;
    unsigned long stray = 0;
    for (int r = 0; r < P6_RUNS; r++) {
        for (int i = 0; i < P6_BURST; i++)
            send_one(&b);
        queued_bytes = xmppc__conn_pending_output(b.alice);
        unsigned long before = write_calls();
        if (xmppc_conn_flush_sync(b.alice, 0, 10000) < 0)
            die("xmppc_conn_flush_sync");
        p6[r] = write_calls() - before;
        /* bob only reads; a write here would mean the counts above may
         * include some of his. */
        unsigned long after = write_calls();
        drain(&b);
        stray += write_calls() - after;
    }
    qsort(p6, P6_RUNS, sizeof p6[0], cmp_ulong);
    printf("\nP6: %d messages queued with no loop turn in between (%zu "
           "bytes of XML),\n    then xmppc_conn_flush_sync(alice, 0); %d "
           "runs\n",
           P6_BURST, queued_bytes, P6_RUNS);
    printf("  socket write calls                min %lu, median %lu, max "
           "%lu\n",
           p6[0], p6[P6_RUNS / 2], p6[P6_RUNS - 1]);
    if (stray)
        printf("  (%lu writes by bob while draining: the counts may include "
               "some)\n",
               stray);

    /* Everything sent arrived, once and in order? */
    if (b.in.received != b.sent || b.in.misplaced || bounced) {
        fprintf(stderr,
                "roundtrip: bob received %lu of %lu messages, %lu out of "
                "order, %lu bounced\n",
                b.in.received, b.sent, b.in.misplaced, bounced);
        return 1;
    }
    printf("\nall %lu messages arrived once and in order\n", b.sent);

    printf("\nlibstrophe 0.12.2 baseline (perf_security.md 1.1.6): %.1f us "
           "client CPU per message, %.0f messages/s\n",
           STROPHE_US_PER_MSG, STROPHE_MSGS_PER_S);
    printf("  client CPU per message: %.2fx less; throughput: %.2fx\n",
           STROPHE_US_PER_MSG / us_per_msg, rate / STROPHE_MSGS_PER_S);

    printf("\ntargets (DESIGN.md):\n");
    printf("  P5 client CPU per message          %6.2f us  <= %.0f us  %s\n",
           us_per_msg, TARGET_P5_US,
           us_per_msg <= TARGET_P5_US ? "PASS" : "MISS");
    /* The worst of the runs counts. */
    printf("  P6 write calls per %d queued (max) %4lu     <= %d     %s\n",
           P6_BURST, p6[P6_RUNS - 1], TARGET_P6_WRITES,
           p6[P6_RUNS - 1] <= TARGET_P6_WRITES ? "PASS" : "MISS");

    if (xmppc_conn_disconnect_sync(b.alice, 5000) < 0)
        die("disconnecting alice");
    if (xmppc_conn_disconnect_sync(b.bob, 5000) < 0)
        die("disconnecting bob");
    xmppc_loop_free(b.loop);
    return 0;
}
