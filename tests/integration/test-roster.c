/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Roster and presence against the private server started by
 * tests/fixtures/xmppc_fixture.py, several connections on one loop,
 * through the public API only: the subscription handshake between two
 * accounts with mutual presence; add / rename / remove with the pushes
 * seen by a second resource of the same account; a versioned roster on a
 * second login through the file store; examples/roster-dump's output.
 *
 * argv[1]: the roster-dump program.
 */
#include <unistd.h>

#include "../xtest.h"
#include "live.h"

static const char *dump_program;

typedef struct client {
    xmppc_conn *conn;
    xmppc_roster *roster;
    int ready, failed;
    int added, updated, removed, requests;
    int gets;            /* roster gets sent */
    char trace_ver[128]; /* the ver of the last roster get sent */
} client;

static void print_log(xmppc_conn *conn, xmppc_log_level level, const char *area,
                      const char *message, void *userdata)
{
    (void)conn;
    client *cl = userdata;
    if (strstr(message, "<query xmlns='jabber:iq:roster'") &&
        strstr(message, "type='get'"))
        cl->gets++;
    const char *q = strstr(message, "<query xmlns='jabber:iq:roster' ver='");
    if (q && strstr(message, "type='get'")) {
        q += strlen("<query xmlns='jabber:iq:roster' ver='");
        size_t n = strcspn(q, "'");
        snprintf(cl->trace_ver, sizeof cl->trace_ver, "%.*s", (int)n, q);
    }
    if (getenv("XMPPC_TEST_TRACE"))
        printf("# [%s %s] %s\n", xmppc_log_level_name(level), area, message);
}

static void on_state(xmppc_conn *conn, xmppc_conn_state state,
                     const xmppc_error *err, void *userdata)
{
    (void)conn;
    client *cl = userdata;
    /* Nothing to do at READY: the roster manager fetches the roster and
     * then the presence manager sends the presence announced in start(). */
    if (state == XMPPC_STATE_READY) {
        cl->ready++;
    } else if (state == XMPPC_STATE_DISCONNECTED && err) {
        printf("# %s\n", err->message);
        cl->failed++;
    }
}

static void ev_added(xmppc_roster *r, const xmppc_roster_item *it, void *ud)
{
    (void)r;
    (void)it;
    ((client *)ud)->added++;
}

static void ev_updated(xmppc_roster *r, const xmppc_roster_item *it, void *ud)
{
    (void)r;
    (void)it;
    ((client *)ud)->updated++;
}

static void ev_removed(xmppc_roster *r, const xmppc_roster_item *it, void *ud)
{
    (void)r;
    (void)it;
    ((client *)ud)->removed++;
}

static void on_request(xmppc_conn *conn, const char *from, const char *status,
                       void *ud)
{
    (void)conn;
    (void)status;
    client *cl = ud;
    cl->requests++;
    /* Approve, and ask back. */
    XT_EQ_INT(xmppc_roster_approve(cl->roster, from), 0);
    XT_EQ_INT(xmppc_roster_subscribe(cl->roster, from, NULL), 0);
}

static xmppc_loop *loop;

static void start(client *cl, int user_index, const char *resource,
                  const char *store)
{
    memset(cl, 0, sizeof *cl);
    if (!loop)
        XT_EQ_INT(xmppc_loop_new(&loop), 0);
    XT_EQ_INT(
        xmppc_conn_new(&cl->conn, user(user_index), env("XMPPC_TEST_PASSWORD")),
        0);
    xmppc_conn *c = cl->conn;
    XT_EQ_INT(xmppc_conn_set_server(c, env("XMPPC_TEST_HOST"),
                                    (unsigned)atoi(env("XMPPC_TEST_PORT"))),
              0);
    XT_EQ_INT(xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")), 0);
    if (resource)
        XT_EQ_INT(xmppc_conn_set_resource(c, resource), 0);
    xmppc_conn_set_log_cb(c, print_log, cl, XMPPC_LOG_TRACE);
    xmppc_conn_set_state_cb(c, on_state, cl);
    cl->roster = xmppc_roster_get(c);
    XT_CHECK(cl->roster != NULL);
    if (store)
        XT_EQ_INT(xmppc_roster_use_file_store(cl->roster, store), 0);
    XT_EQ_INT(xmppc_roster_on_added(cl->roster, NULL, ev_added, cl, NULL), 0);
    XT_EQ_INT(xmppc_roster_on_updated(cl->roster, NULL, ev_updated, cl, NULL),
              0);
    XT_EQ_INT(xmppc_roster_on_removed(cl->roster, NULL, ev_removed, cl, NULL),
              0);
    /* Announced before connecting: kept and sent at login. */
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_AVAILABLE, NULL, 0),
              XMPPC_ESTATE);
    xmppc_error_clear();
    XT_EQ_INT(xmppc_loop_add(loop, c), 0);
    XT_EQ_INT(xmppc_conn_connect(c), 0);
}

/* Waits for the fetch made at login; exactly one roster get goes out. */
static int loaded(client *cl)
{
    for (int i = 0; i < 200 && !xmppc_roster_is_loaded(cl->roster); i++)
        xmppc_loop_run_once(loop, 50);
    return xmppc_roster_is_loaded(cl->roster) && cl->gets == 1 &&
           cl->ready == 1;
}

static void stop(client *cl)
{
    xmppc_presence_send_unavailable(cl->conn, "bye");
    xmppc_conn_disconnect(cl->conn);
    for (int i = 0;
         i < 100 && xmppc_conn_get_state(cl->conn) != XMPPC_STATE_DISCONNECTED;
         i++)
        xmppc_loop_run_once(loop, 50);
    xmppc_loop_remove(loop, cl->conn);
    cl->conn = xmppc_conn_unref(cl->conn);
    xmppc_error_clear();
}

/* Frees the loop at the end of a test (it is made on first use). */
static void end_test(void)
{
    xmppc_loop_free(loop);
    loop = NULL;
}

/* Runs the loop until *a >= want (at most ~10 s). */
static void run_until(const int *a, int want)
{
    for (int i = 0; i < 200 && *a < want; i++)
        xmppc_loop_run_once(loop, 50);
}

static int sub_of(const client *cl, const char *jid)
{
    const xmppc_roster_item *it = xmppc_roster_find(cl->roster, jid);
    return it ? (int)xmppc_roster_item_subscription(it) : -1;
}

/* Runs roster-dump as user @p i; its output into @p out. */
static int run_dump(int i, char *out, size_t size)
{
    char cmd[1024];
    setenv("XMPPC_JID", user(i), 1);
    setenv("XMPPC_PASSWORD", env("XMPPC_TEST_PASSWORD"), 1);
    snprintf(cmd, sizeof cmd, "'%s' --server '%s:%s' --cafile '%s'",
             dump_program, env("XMPPC_TEST_HOST"), env("XMPPC_TEST_PORT"),
             env("XMPPC_TEST_CA"));
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    return pclose(p);
}

static void clean_roster(client *cl)
{
    while (xmppc_roster_count(cl->roster) > 0) {
        int before = cl->removed;
        XT_EQ_INT(xmppc_roster_remove(
                      cl->roster,
                      xmppc_roster_item_jid(xmppc_roster_at(cl->roster, 0)),
                      NULL, NULL, NULL),
                  0);
        run_until(&cl->removed, before + 1);
        if (cl->removed == before)
            break;
    }
}

static int mutual(client *a, client *b)
{
    return sub_of(a, xmppc_conn_get_jid(b->conn)) == XMPPC_SUB_BOTH &&
           sub_of(b, xmppc_conn_get_jid(a->conn)) == XMPPC_SUB_BOTH &&
           xmppc_presence_get(a->conn, xmppc_conn_get_bound_jid(b->conn)) &&
           xmppc_presence_get(b->conn, xmppc_conn_get_bound_jid(a->conn));
}

static void test_subscription_handshake(void)
{
    client a, b;
    start(&a, 0, "hs", NULL);
    start(&b, 1, "hs", NULL);
    XT_CHECK(loaded(&a));
    XT_CHECK(loaded(&b));
    clean_roster(&a);
    clean_roster(&b);
    /* alice accepts everything; bob decides (approves and asks back). */
    XT_EQ_INT(
        xmppc_roster_set_subscription_mode(a.roster, XMPPC_ROSTER_ACCEPT_ALL),
        0);
    XT_EQ_INT(xmppc_roster_on_subscription_request(b.roster, NULL, on_request,
                                                   &b, NULL),
              0);
    XT_EQ_INT(xmppc_roster_subscribe(a.roster, user(1), "hello"), 0);
    for (int i = 0; i < 300 && !mutual(&a, &b); i++)
        xmppc_loop_run_once(loop, 50);
    XT_EQ_INT(b.requests, 1);
    XT_EQ_INT(sub_of(&a, user(1)), XMPPC_SUB_BOTH);
    XT_EQ_INT(sub_of(&b, user(0)), XMPPC_SUB_BOTH);
    XT_CHECK(mutual(&a, &b));
    const xmppc_presence_info *pi = xmppc_presence_get(a.conn, user(1));
    XT_EQ_STR(xmppc_presence_info_jid(pi), xmppc_conn_get_bound_jid(b.conn));
    XT_EQ_INT(xmppc_presence_info_show(pi), XMPPC_PRESENCE_AVAILABLE);

    /* bob goes away: alice sees it. */
    XT_EQ_INT(xmppc_presence_set_own(b.conn, XMPPC_PRESENCE_AWAY, "brb", 3), 0);
    for (int i = 0; i < 200; i++) {
        pi = xmppc_presence_get(a.conn, user(1));
        if (pi && xmppc_presence_info_show(pi) == XMPPC_PRESENCE_AWAY)
            break;
        xmppc_loop_run_once(loop, 50);
    }
    XT_EQ_INT(xmppc_presence_info_show(pi), XMPPC_PRESENCE_AWAY);
    XT_EQ_STR(xmppc_presence_info_status(pi), "brb");
    XT_EQ_INT(xmppc_presence_info_priority(pi), 3);

    /* roster-dump shows bob in alice's roster. */
    char out[4096], want[512];
    XT_EQ_INT(run_dump(0, out, sizeof out), 0);
    snprintf(want, sizeof want, "%s\tboth\t\t\n", user(1));
    XT_CHECK(strstr(out, want) != NULL);
    if (!strstr(out, want))
        xt_diag("roster-dump", out);

    /* bob leaves: alice's table forgets him. */
    stop(&b);
    for (int i = 0; i < 200 && xmppc_presence_count(a.conn, user(1)) > 0; i++)
        xmppc_loop_run_once(loop, 50);
    XT_EQ_INT(xmppc_presence_count(a.conn, user(1)), 0);
    stop(&a);
    end_test();
}

static void test_pushes_to_second_resource(void)
{
    client a1, a2;
    start(&a1, 0, "one", NULL);
    start(&a2, 0, "two", NULL);
    XT_CHECK(loaded(&a1));
    XT_CHECK(loaded(&a2));
    const char *carol = user(2);
    if (xmppc_roster_find(a1.roster, carol)) {
        XT_EQ_INT(xmppc_roster_remove(a1.roster, carol, NULL, NULL, NULL), 0);
        run_until(&a2.removed, 1);
    }
    /* Each change is awaited on both resources: a1's next edit starts
     * from a1's copy of the item. */
    int added = a2.added, updated = a2.updated, removed = a2.removed;
    int added1 = a1.added, updated1 = a1.updated, removed1 = a1.removed;
    const char *groups[] = {"Friends", "Work"};
    XT_EQ_INT(xmppc_roster_add(a1.roster, carol, "Carol", groups, 2, NULL, NULL,
                               NULL),
              0);
    run_until(&a2.added, added + 1);
    run_until(&a1.added, added1 + 1);
    XT_EQ_INT(a2.added, added + 1);
    const xmppc_roster_item *it = xmppc_roster_find(a2.roster, carol);
    XT_EQ_STR(xmppc_roster_item_name(it), "Carol");
    XT_EQ_INT(xmppc_roster_item_group_count(it), 2);
    XT_EQ_INT(xmppc_roster_item_subscription(it), XMPPC_SUB_NONE);

    char out[4096], want[512];
    XT_EQ_INT(run_dump(0, out, sizeof out), 0);
    /* Groups are a set: the server may return them in any order. */
    char want2[512];
    snprintf(want, sizeof want, "%s\tnone\tCarol\tFriends,Work\n", carol);
    snprintf(want2, sizeof want2, "%s\tnone\tCarol\tWork,Friends\n", carol);
    XT_CHECK(strstr(out, want) || strstr(out, want2));
    if (!strstr(out, want) && !strstr(out, want2))
        xt_diag("roster-dump", out);

    XT_EQ_INT(
        xmppc_roster_rename(a1.roster, carol, "Caroline", NULL, NULL, NULL), 0);
    run_until(&a2.updated, updated + 1);
    run_until(&a1.updated, updated1 + 1);
    it = xmppc_roster_find(a2.roster, carol);
    XT_EQ_STR(xmppc_roster_item_name(it), "Caroline");
    XT_EQ_INT(xmppc_roster_item_group_count(it), 2);
    const char *g2[] = {"Family"};
    XT_EQ_INT(
        xmppc_roster_set_groups(a1.roster, carol, g2, 1, NULL, NULL, NULL), 0);
    run_until(&a2.updated, updated + 2);
    run_until(&a1.updated, updated1 + 2);
    it = xmppc_roster_find(a2.roster, carol);
    XT_EQ_STR(xmppc_roster_item_name(it), "Caroline");
    XT_EQ_STR(xmppc_roster_item_group_at(it, 0), "Family");
    XT_EQ_INT(xmppc_roster_item_group_count(it), 1);

    XT_EQ_INT(xmppc_roster_remove(a1.roster, carol, NULL, NULL, NULL), 0);
    run_until(&a2.removed, removed + 1);
    run_until(&a1.removed, removed1 + 1);
    XT_EQ_INT(a2.removed, removed + 1);
    XT_CHECK(xmppc_roster_find(a2.roster, carol) == NULL);
    XT_CHECK(xmppc_roster_find(a1.roster, carol) == NULL);
    XT_EQ_INT(run_dump(0, out, sizeof out), 0);
    XT_CHECK(strstr(out, carol) == NULL);
    stop(&a1);
    stop(&a2);
    end_test();
}

static void test_versioned_second_login(void)
{
    char dir[] = "/tmp/xmppc-roster-live-XXXXXX";
    XT_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/roster", dir);
    client a;
    start(&a, 3, "v", path);
    XT_CHECK(loaded(&a));
    XT_EQ_INT(xmppc_conn_has_stream_feature(a.conn, "ver",
                                            "urn:xmpp:features:rosterver"),
              1);
    XT_EQ_STR(a.trace_ver, ""); /* nothing stored yet */
    const char *groups[] = {"Versioned"};
    int added = a.added;
    XT_EQ_INT(
        xmppc_roster_add(a.roster, user(2), "C", groups, 1, NULL, NULL, NULL),
        0);
    run_until(&a.added, added + 1);
    char ver[128];
    snprintf(ver, sizeof ver, "%s",
             xmppc_roster_get_version(a.roster)
                 ? xmppc_roster_get_version(a.roster)
                 : "");
    XT_CHECK(ver[0] != '\0');
    size_t count = xmppc_roster_count(a.roster);
    stop(&a);

    /* The second login sends the stored version; the server answers
     * "unchanged" and the items come from the file. */
    start(&a, 3, "v", path);
    XT_CHECK(loaded(&a));
    XT_EQ_STR(a.trace_ver, ver);
    XT_EQ_INT(xmppc_roster_count(a.roster), count);
    XT_EQ_STR(xmppc_roster_item_name(xmppc_roster_find(a.roster, user(2))),
              "C");
    XT_EQ_STR(xmppc_roster_get_version(a.roster), ver);
    XT_EQ_INT(xmppc_roster_remove(a.roster, user(2), NULL, NULL, NULL), 0);
    run_until(&a.removed, 1);
    stop(&a);
    end_test();
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        printf("Bail out! usage: %s ROSTER-DUMP\n", argv[0]);
        return 1;
    }
    dump_program = argv[1];
    static const xt_test tests[] = {XT_TEST(test_subscription_handshake),
                                    XT_TEST(test_pushes_to_second_resource),
                                    XT_TEST(test_versioned_second_login)};
    return xt_run(tests, sizeof tests / sizeof tests[0]);
}
