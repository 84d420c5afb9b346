/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Login latency benchmark (DESIGN.md target P7). Against the private
 * Prosody of tests/fixtures/xmppc_fixture.py (run it with `xmppc_fixture.py
 * run --no-mam -- build/bench/login`), it logs one account in N times over
 * STARTTLS, N times over direct TLS and N times over STARTTLS while
 * another connection keeps the CA file cached, one login at a time
 * through xmppc_conn_connect_sync(), and measures for each login the wall
 * time from the call to XMPPC_STATE_READY, the CPU time this process
 * spent (CLOCK_PROCESS_CPUTIME_ID), the time of each phase (state
 * callback) and, when the fixture's Prosody can be found, the CPU time
 * the server spent (its threads' schedstat). The CPU time of creating and
 * configuring the connection (set_ca_file() loads the trust store) is
 * reported apart; the graceful disconnect after each login is not timed.
 * One untimed login first warms up the process (GnuTLS and libgsasl
 * initialisation) and is reported on its own.
 *
 * It prints figures and PASS or MISS against the target; it exits 0
 * whatever the figures and 1 when a login or logout fails.
 */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmppc/xmppc.h>

#define TARGET_P7_MS 25.0
/* libstrophe 0.12.2 through the same kind of Prosody, perf_security.md
 * section 1.1.6: median over 20 logins and client CPU per login. */
#define STROPHE_MEDIAN_MS 90.3
#define STROPHE_CPU_MS 50.0

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr,
                "login: %s is not set: run under tests/fixtures/"
                "xmppc_fixture.py run --no-mam -- %s\n",
                name, "build/bench/login");
        exit(1);
    }
    return v;
}

static double now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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

/* CPU time of all the server's threads in ms (schedstat counts
 * nanoseconds, where /proc/PID/stat only has 10 ms ticks); -1 when
 * unknown. */
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

/* ---- one login ------------------------------------------------------------
 */

/* Wall and CPU time at each state reached during one login. */
typedef struct timeline {
    double wall[XMPPC_STATE_DISCONNECTING + 1];
    double cpu[XMPPC_STATE_DISCONNECTING + 1];
    int seen[XMPPC_STATE_DISCONNECTING + 1];
} timeline;

static void on_state(xmppc_conn *conn, xmppc_conn_state state,
                     const xmppc_error *err, void *userdata)
{
    timeline *t = userdata;
    (void)conn;
    (void)err;
    if (!t || state > XMPPC_STATE_DISCONNECTING)
        return;
    t->wall[state] = now_ms(CLOCK_MONOTONIC);
    t->cpu[state] = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    t->seen[state] = 1;
}

/* The warm-up login says which TLS version and mechanism were used. */
static void on_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                   const char *message, void *userdata)
{
    (void)conn;
    (void)level;
    (void)userdata;
    if (strstr(message, "authenticating with") ||
        strstr(message, "established with"))
        printf("  (%s) %s\n", area, message);
}

typedef struct sample {
    double wall_ms, cpu_ms, server_ms;
    /* xmppc_conn_new() and the setters, before connecting (not in the
     * login time): set_ca_file() loads the trust store when no other
     * connection holds it */
    double setup_cpu_ms;
    /* phases: TCP connect, TLS (with the stream header exchange and, for
     * STARTTLS, the <starttls/> round trip), SASL, bind; wall and CPU */
    double phase_wall[4], phase_cpu[4];
} sample;

typedef struct config {
    const char *host, *jid, *password, *ca;
    unsigned int port, tls_port;
} config;

static int login_once(const config *cfg, int direct, int verbose, sample *out)
{
    xmppc_conn *c = NULL;
    timeline t;
    memset(&t, 0, sizeof t);
    double setup0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    if (xmppc_conn_new(&c, cfg->jid, cfg->password) < 0 ||
        xmppc_conn_set_server(c, cfg->host,
                              direct ? cfg->tls_port : cfg->port) < 0 ||
        xmppc_conn_set_direct_tls(c, direct) < 0 ||
        xmppc_conn_set_ca_file(c, cfg->ca) < 0 ||
        xmppc_conn_set_state_cb(c, on_state, &t) < 0) {
        fprintf(stderr, "login: setting up the connection: %s\n",
                xmppc_error_last()->message);
        xmppc_conn_unref(c);
        return -1;
    }
    out->setup_cpu_ms = now_ms(CLOCK_PROCESS_CPUTIME_ID) - setup0;
    if (verbose)
        xmppc_conn_set_log_cb(c, on_log, NULL, XMPPC_LOG_DEBUG);
    double s0 = server_cpu_ms();
    double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    double w0 = now_ms(CLOCK_MONOTONIC);
    int rc = xmppc_conn_connect_sync(c, 10000);
    double w1 = now_ms(CLOCK_MONOTONIC);
    double c1 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    double s1 = server_cpu_ms();
    if (rc < 0) {
        fprintf(stderr, "login: %s login failed: %s\n",
                direct ? "direct TLS" : "STARTTLS",
                xmppc_error_last()->message);
        xmppc_conn_unref(c);
        return -1;
    }
    out->wall_ms = w1 - w0;
    out->cpu_ms = c1 - c0;
    out->server_ms = s0 >= 0 && s1 >= 0 ? s1 - s0 : -1;
    /* Phase boundaries: the states the login went through, in order. */
    static const xmppc_conn_state marks[5] = {
        XMPPC_STATE_CONNECTING, XMPPC_STATE_SECURING,
        XMPPC_STATE_AUTHENTICATING, XMPPC_STATE_BINDING, XMPPC_STATE_READY};
    for (int i = 0; i < 4; i++) {
        if (t.seen[marks[i]] && t.seen[marks[i + 1]]) {
            out->phase_wall[i] = t.wall[marks[i + 1]] - t.wall[marks[i]];
            out->phase_cpu[i] = t.cpu[marks[i + 1]] - t.cpu[marks[i]];
        } else {
            out->phase_wall[i] = out->phase_cpu[i] = -1;
        }
    }
    xmppc_conn_set_state_cb(c, NULL, NULL);
    rc = xmppc_conn_disconnect_sync(c, 5000);
    if (rc < 0) {
        fprintf(stderr, "login: disconnect failed: %s\n",
                xmppc_error_last()->message);
        xmppc_conn_unref(c);
        return -1;
    }
    xmppc_conn_unref(c);
    return 0;
}

/* ---- statistics -----------------------------------------------------------
 */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stats {
    double min, median, p90, max, mean;
} stats;

/* Median of an even count is the mean of the middle two; p90 is the
 * nearest rank. */
static stats summarize(const double *v, int n)
{
    stats s = {0};
    if (n <= 0)
        return s;
    double *w = malloc((size_t)n * sizeof *w);
    if (!w) {
        fputs("login: out of memory\n", stderr);
        exit(1);
    }
    memcpy(w, v, (size_t)n * sizeof *w);
    qsort(w, (size_t)n, sizeof *w, cmp_double);
    s.min = w[0];
    s.max = w[n - 1];
    s.median = n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
    int rank = (9 * n + 9) / 10; /* ceil(0.9 n) */
    s.p90 = w[rank - 1];
    for (int i = 0; i < n; i++)
        s.mean += w[i];
    s.mean /= n;
    free(w);
    return s;
}

typedef struct result {
    stats wall, cpu, server, setup;
    double phase_wall[4], phase_cpu[4];
    double total_wall_s;
} result;

static int run_mode(const config *cfg, int direct, int count, result *r)
{
    sample *samples = calloc((size_t)count, sizeof *samples);
    double *v = calloc((size_t)count, sizeof *v);
    if (!samples || !v) {
        fputs("login: out of memory\n", stderr);
        exit(1);
    }
    double t0 = now_ms(CLOCK_MONOTONIC);
    for (int i = 0; i < count; i++) {
        if (login_once(cfg, direct, 0, &samples[i]) < 0) {
            free(samples);
            free(v);
            return -1;
        }
    }
    r->total_wall_s = (now_ms(CLOCK_MONOTONIC) - t0) / 1e3;
    for (int i = 0; i < count; i++)
        v[i] = samples[i].wall_ms;
    r->wall = summarize(v, count);
    for (int i = 0; i < count; i++)
        v[i] = samples[i].cpu_ms;
    r->cpu = summarize(v, count);
    for (int i = 0; i < count; i++)
        v[i] = samples[i].server_ms;
    r->server = summarize(v, count);
    for (int i = 0; i < count; i++)
        v[i] = samples[i].setup_cpu_ms;
    r->setup = summarize(v, count);
    for (int p = 0; p < 4; p++) {
        for (int i = 0; i < count; i++)
            v[i] = samples[i].phase_wall[p];
        r->phase_wall[p] = summarize(v, count).median;
        for (int i = 0; i < count; i++)
            v[i] = samples[i].phase_cpu[p];
        r->phase_cpu[p] = summarize(v, count).median;
    }
    free(samples);
    free(v);
    return 0;
}

static void print_mode(const char *name, const result *r, int have_server)
{
    printf("  %-11s %7.2f %7.2f %7.2f %7.2f   %8.2f", name, r->wall.min,
           r->wall.median, r->wall.p90, r->wall.max, r->cpu.median);
    if (have_server)
        printf("   %8.2f", r->server.median);
    printf("   %8.2f\n", r->setup.median);
}

static void print_phases(const char *name, const result *r)
{
    printf("  %-11s", name);
    for (int p = 0; p < 4; p++)
        printf("   %6.2f / %5.2f", r->phase_wall[p], r->phase_cpu[p]);
    printf("\n");
}

static int parse_count(const char *s, const char *opt)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || n < 1 || n > 100000) {
        fprintf(stderr, "login: %s wants a number from 1 to 100000\n", opt);
        exit(2);
    }
    return (int)n;
}

int main(int argc, char **argv)
{
    int count = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            count = parse_count(argv[++i], "--count");
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            printf("usage: xmppc_fixture.py run --no-mam -- %s [--count N]\n"
                   "  N logins over STARTTLS and N over direct TLS "
                   "(default 50)\n",
                   argv[0]);
            return 0;
        } else {
            fprintf(stderr, "login: unknown option %s (try --help)\n", argv[i]);
            return 2;
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0); /* figures before any error */
    static char jid[512];
    char users[512];
    snprintf(users, sizeof users, "%s", env("XMPPC_TEST_USERS"));
    char *save = NULL;
    const char *user = strtok_r(users, " ", &save);
    snprintf(jid, sizeof jid, "%s@%s", user ? user : "alice",
             env("XMPPC_TEST_DOMAIN"));
    config cfg = {
        .host = env("XMPPC_TEST_HOST"),
        .jid = jid,
        .password = env("XMPPC_TEST_PASSWORD"),
        .ca = env("XMPPC_TEST_CA"),
        .port = (unsigned)atoi(env("XMPPC_TEST_PORT")),
        .tls_port = (unsigned)atoi(env("XMPPC_TEST_TLS_PORT")),
    };
    find_server();
    int have_server = server_cpu_ms() >= 0;

    printf("libxmppc login benchmark (P7): %d logins per mode of %s to "
           "%s server at %s (STARTTLS :%u, direct TLS :%u)\n",
           count, jid,
           getenv("XMPPC_TEST_SERVER") ? getenv("XMPPC_TEST_SERVER") : "the",
           cfg.host, cfg.port, cfg.tls_port);
    printf("wall = connect_sync() until ready; client CPU = this process "
           "(CLOCK_PROCESS_CPUTIME_ID);\nserver CPU = the server's threads "
           "during the same interval (%s)\n\n",
           have_server ? "/proc schedstat" : "server pid not found: not shown");

    /* Warm-up: the first login of the process pays one-time costs. */
    sample first;
    printf("warm-up login (STARTTLS, first of the process):\n");
    if (login_once(&cfg, 0, 1, &first) < 0)
        return 1;
    printf("  wall %.2f ms, client CPU %.2f ms", first.wall_ms, first.cpu_ms);
    if (first.server_ms >= 0)
        printf(", server CPU %.2f ms", first.server_ms);
    printf("\n\n");

    result starttls, direct, kept;
    if (run_mode(&cfg, 0, count, &starttls) < 0 ||
        run_mode(&cfg, 1, count, &direct) < 0)
        return 1;
    /* Again with a connection that never connects but holds the CA file:
     * the trust cache lives as long as some connection uses it. */
    xmppc_conn *keeper = NULL;
    if (xmppc_conn_new(&keeper, cfg.jid, NULL) < 0 ||
        xmppc_conn_set_ca_file(keeper, cfg.ca) < 0) {
        fprintf(stderr, "login: %s\n", xmppc_error_last()->message);
        return 1;
    }
    if (run_mode(&cfg, 0, count, &kept) < 0)
        return 1;
    xmppc_conn_unref(keeper);

    printf("  %-11s %7s %7s %7s %7s   %8s", "mode", "min", "median", "p90",
           "max", "cli CPU");
    if (have_server)
        printf("   %8s", "srv CPU");
    printf("   %8s   (ms; CPU columns are medians)\n", "setup");
    print_mode("STARTTLS", &starttls, have_server);
    print_mode("direct TLS", &direct, have_server);
    print_mode("STARTTLS*", &kept, have_server);
    printf("  setup = client CPU of xmppc_conn_new() and the setters before "
           "connecting (not in the login time);\n"
           "  * = with another connection holding the same CA file, so the "
           "trust store stays cached\n");
    printf("  (%d logins + untimed logouts took %.2f s with STARTTLS, "
           "%.2f s with direct TLS)\n\n",
           count, starttls.total_wall_s, direct.total_wall_s);

    printf("  phase medians, wall / client CPU ms:\n");
    printf("  %-11s   %-14s   %-14s   %-14s   %-14s\n", "mode", "TCP connect",
           "TLS (+stream)", "SASL", "bind");
    print_phases("STARTTLS", &starttls);
    print_phases("direct TLS", &direct);
    print_phases("STARTTLS*", &kept);
    if (have_server) {
        /* Client and server run on different cores and overlap a little,
         * so the two shares need not add up to the wall time. */
        printf("\n  STARTTLS median %.2f ms: client CPU %.2f ms (%.0f %%), "
               "server CPU %.2f ms (%.0f %%)\n",
               starttls.wall.median, starttls.cpu.median,
               100.0 * starttls.cpu.median / starttls.wall.median,
               starttls.server.median,
               100.0 * starttls.server.median / starttls.wall.median);
    }

    /* libstrophe's CPU figure includes loading the trust store for every
     * connection, which libxmppc does in set_ca_file() unless another
     * connection holds it: compare with and without that setup. */
    double cpu_with_setup = starttls.cpu.median + starttls.setup.median;
    printf("\nlibstrophe 0.12.2 baseline (perf_security.md 1.1.6): median "
           "%.1f ms, ~%.0f ms client CPU per login\n",
           STROPHE_MEDIAN_MS, STROPHE_CPU_MS);
    printf("  STARTTLS median login: %.2fx faster\n",
           STROPHE_MEDIAN_MS / starttls.wall.median);
    printf("  client CPU per login: %.2f ms, %.1fx less; with the setup "
           "(trust store reloaded): %.2f ms, %.1fx less\n",
           starttls.cpu.median, STROPHE_CPU_MS / starttls.cpu.median,
           cpu_with_setup, STROPHE_CPU_MS / cpu_with_setup);

    printf("\ntarget (DESIGN.md):\n");
    printf("  P7 STARTTLS login, median      %6.2f ms  <= %.0f ms  %s\n",
           starttls.wall.median, TARGET_P7_MS,
           starttls.wall.median <= TARGET_P7_MS ? "PASS" : "MISS");
    printf("     direct TLS login, median    %6.2f ms  <= %.0f ms  %s\n",
           direct.wall.median, TARGET_P7_MS,
           direct.wall.median <= TARGET_P7_MS ? "PASS" : "MISS");
    return 0;
}
