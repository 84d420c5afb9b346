/*
 * libxmppc benchmark: memory per idle logged-in TLS connection (P8).
 * SPDX-License-Identifier: MIT
 *
 *   python3 tests/fixtures/xmppc_fixture.py run --no-mam -- build/bench/idle
 *       [--count N]
 *
 * Logs N connections (default 200) of one account, each with its own
 * resource, into the fixture's Prosody over STARTTLS on one built-in loop,
 * then reports the growth of the process's resident set per connection
 * (from /proc/self/statm), against DESIGN.md's P8: <= 64 KiB. A report,
 * not a test: exits 0 unless logins fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xmppc/xmppc.h>

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v) {
        fprintf(stderr, "idle: %s not set (run under the fixture)\n", name);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    int count = 200;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--count") == 0)
            count = atoi(argv[++i]);
    if (count <= 0)
        return 2;
    char jid[600];
    char users[256];
    snprintf(users, sizeof users, "%s", env("XMPPC_TEST_USERS"));
    users[strcspn(users, " ")] = '\0';
    snprintf(jid, sizeof jid, "%s@%s", users, env("XMPPC_TEST_DOMAIN"));
    unsigned port = (unsigned)atoi(env("XMPPC_TEST_PORT"));

    xmppc_loop *loop = NULL;
    if (xmppc_loop_new(&loop) < 0)
        return 1;
    xmppc_conn **conns = calloc((size_t)count, sizeof *conns);
    /* The first connection loads the trust store and warms the caches:
     * it is not counted. */
    xmppc_conn *warm = NULL;
    if (xmppc_conn_new(&warm, jid, env("XMPPC_TEST_PASSWORD")) < 0 ||
        xmppc_conn_set_server(warm, env("XMPPC_TEST_HOST"), port) < 0 ||
        xmppc_conn_set_ca_file(warm, env("XMPPC_TEST_CA")) < 0 ||
        xmppc_conn_set_resource(warm, "warm") < 0 ||
        xmppc_loop_add(loop, warm) < 0 ||
        xmppc_conn_connect_sync(warm, 10000) < 0) {
        fprintf(stderr, "idle: %s\n", xmppc_error_last()->message);
        return 1;
    }
    long before = rss_kib();
    for (int i = 0; i < count; i++) {
        char resource[32];
        snprintf(resource, sizeof resource, "idle%d", i);
        if (xmppc_conn_new(&conns[i], jid, env("XMPPC_TEST_PASSWORD")) < 0 ||
            xmppc_conn_set_server(conns[i], env("XMPPC_TEST_HOST"), port) < 0 ||
            xmppc_conn_set_ca_file(conns[i], env("XMPPC_TEST_CA")) < 0 ||
            xmppc_conn_set_resource(conns[i], resource) < 0 ||
            xmppc_loop_add(loop, conns[i]) < 0 ||
            xmppc_conn_connect(conns[i]) < 0) {
            fprintf(stderr, "idle: %s\n", xmppc_error_last()->message);
            return 1;
        }
    }
    for (int round = 0; round < 2000; round++) {
        int ready = 0, failed = 0;
        for (int i = 0; i < count; i++) {
            xmppc_conn_state st = xmppc_conn_get_state(conns[i]);
            ready += st == XMPPC_STATE_READY;
            failed += st == XMPPC_STATE_DISCONNECTED &&
                      xmppc_conn_get_error(conns[i]) != NULL;
        }
        if (failed) {
            fprintf(stderr, "idle: %d logins failed\n", failed);
            return 1;
        }
        if (ready == count)
            break;
        xmppc_loop_run_once(loop, 50);
    }
    /* Let the servers' post-login traffic settle. */
    for (int i = 0; i < 20; i++)
        xmppc_loop_run_once(loop, 10);
    long after = rss_kib();
    double per = (double)(after - before) / count;
    printf("idle connections: %d logged in over STARTTLS (TLS 1.3)\n", count);
    printf("RSS before %ld KiB, after %ld KiB: %.1f KiB per connection\n",
           before, after, per);
    printf("P8 <= 64 KiB per idle connection: %s\n",
           per <= 64.0 ? "PASS" : "MISS");
    for (int i = 0; i < count; i++) {
        xmppc_conn_disconnect(conns[i]);
    }
    for (int round = 0; round < 200; round++) {
        int left = 0;
        for (int i = 0; i < count; i++)
            left += xmppc_conn_get_state(conns[i]) != XMPPC_STATE_DISCONNECTED;
        if (!left)
            break;
        xmppc_loop_run_once(loop, 50);
    }
    xmppc_conn_disconnect_sync(warm, 2000);
    xmppc_loop_free(loop);
    for (int i = 0; i < count; i++)
        xmppc_conn_unref(conns[i]);
    xmppc_conn_unref(warm);
    free(conns);
    return 0;
}
