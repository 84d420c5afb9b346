/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Disco against the fixture's Prosody: info and items of the server,
 * find_service for MUC, and disco of another client of ours (its own
 * features and caps node#ver). Runs only under the fixture.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "../xtest.h"
#include "live.h"

/* A connection to the fixture, attached to @p loop and logged in. */
static xmppc_conn *new_conn(xmppc_loop *loop, const char *jid)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, jid, env("XMPPC_TEST_PASSWORD")), 0);
    XT_EQ_INT(xmppc_conn_set_server(c, env("XMPPC_TEST_HOST"),
                                    (unsigned)atoi(env("XMPPC_TEST_PORT"))),
              0);
    XT_EQ_INT(xmppc_conn_set_ca_file(c, env("XMPPC_TEST_CA")), 0);
    XT_EQ_INT(xmppc_conn_set_connect_timeout(c, 10000), 0);
    XT_EQ_INT(xmppc_loop_add(loop, c), 0);
    XT_EQ_INT(xmppc_conn_connect(c), 0);
    for (int i = 0; i < 200 && xmppc_conn_get_state(c) != XMPPC_STATE_READY &&
                    !xmppc_conn_get_error(c);
         i++)
        xmppc_loop_run_once(loop, 50);
    if (xmppc_conn_get_error(c))
        printf("# connect: %s\n", xmppc_conn_get_error(c)->message);
    XT_EQ_INT(xmppc_conn_get_state(c), XMPPC_STATE_READY);
    return c;
}

typedef struct result {
    int calls;
    int code;
    char jid[256];
    xmppc_disco_info *info;
    xmppc_disco_items *items;
} result;

static void on_info(xmppc_disco *d, const char *jid, const char *node,
                    xmppc_disco_info *info, const xmppc_error *err, void *ud)
{
    (void)d;
    (void)jid;
    (void)node;
    result *r = ud;
    r->calls++;
    r->code = err ? err->code : 0;
    if (err)
        printf("# info error: %s\n", err->message);
    r->info = xmppc_disco_info_ref(info);
}

static void on_items(xmppc_disco *d, const char *jid, const char *node,
                     xmppc_disco_items *items, const xmppc_error *err, void *ud)
{
    (void)d;
    (void)jid;
    (void)node;
    result *r = ud;
    r->calls++;
    r->code = err ? err->code : 0;
    r->items = xmppc_disco_items_ref(items);
}

static void on_service(xmppc_disco *d, const char *feature, const char *jid,
                       const xmppc_error *err, void *ud)
{
    (void)d;
    (void)feature;
    result *r = ud;
    r->calls++;
    r->code = err ? err->code : 0;
    snprintf(r->jid, sizeof r->jid, "%s", jid ? jid : "(none)");
}

static void run_until(xmppc_loop *loop, const int *calls)
{
    for (int i = 0; i < 200 && *calls == 0; i++)
        xmppc_loop_run_once(loop, 50);
}

static void test_server_disco(void)
{
    xmppc_loop *loop = NULL;
    XT_EQ_INT(xmppc_loop_new(&loop), 0);
    xmppc_conn *c = new_conn(loop, user(0));
    xmppc_disco *d = xmppc_disco_get(c);

    result info = {0};
    XT_EQ_INT(xmppc_disco_get_info(d, NULL, NULL, on_info, &info, NULL), 0);
    run_until(loop, &info.calls);
    XT_EQ_INT(info.calls, 1);
    XT_EQ_INT(info.code, 0);
    XT_CHECK(xmppc_disco_info_has_feature(info.info, "urn:xmpp:ping"));
    XT_CHECK(xmppc_disco_info_has_identity(info.info, "server", "im"));
    xmppc_disco_info_unref(info.info);

    result items = {0};
    XT_EQ_INT(xmppc_disco_get_items(d, NULL, NULL, on_items, &items, NULL), 0);
    run_until(loop, &items.calls);
    XT_EQ_INT(items.code, 0);
    int found = 0;
    for (size_t i = 0; i < xmppc_disco_items_count(items.items); i++) {
        const char *jid = NULL;
        xmppc_disco_items_at(items.items, i, &jid, NULL, NULL);
        printf("# item %s\n", jid);
        found |= strcmp(jid, env("XMPPC_TEST_MUC")) == 0;
    }
    XT_CHECK(found);
    xmppc_disco_items_unref(items.items);

    result svc = {0};
    XT_EQ_INT(xmppc_disco_find_service(d, "http://jabber.org/protocol/muc",
                                       on_service, &svc, NULL),
              0);
    run_until(loop, &svc.calls);
    XT_EQ_INT(svc.code, 0);
    XT_EQ_STR(svc.jid, env("XMPPC_TEST_MUC"));

    xmppc_conn_disconnect(c);
    for (int i = 0;
         i < 100 && xmppc_conn_get_state(c) != XMPPC_STATE_DISCONNECTED; i++)
        xmppc_loop_run_once(loop, 50);
    xmppc_loop_free(loop);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static void test_client_disco(void)
{
    xmppc_loop *loop = NULL;
    XT_EQ_INT(xmppc_loop_new(&loop), 0);
    xmppc_conn *a = new_conn(loop, user(0));
    xmppc_conn *b = new_conn(loop, user(1));
    xmppc_disco *db = xmppc_disco_get(b);
    XT_EQ_INT(xmppc_disco_add_feature(db, "urn:example:libxmppc-test"), 0);
    xmppc_stanza *pres = NULL;
    XT_EQ_INT(xmppc_presence_new(&pres, NULL, NULL), 0);
    XT_EQ_INT(xmppc_caps_attach(db, pres), 0);
    XT_EQ_INT(xmppc_conn_send(b, pres), 0);
    xmppc_stanza_unref(pres);

    xmppc_disco *da = xmppc_disco_get(a);
    result info = {0};
    XT_EQ_INT(xmppc_disco_get_info(da, xmppc_conn_get_bound_jid(b), NULL,
                                   on_info, &info, NULL),
              0);
    run_until(loop, &info.calls);
    XT_EQ_INT(info.code, 0);
    XT_CHECK(
        xmppc_disco_info_has_feature(info.info, "urn:example:libxmppc-test"));
    XT_CHECK(xmppc_disco_info_has_identity(info.info, "client", "pc"));
    char *ver = NULL;
    XT_EQ_INT(xmppc_caps_compute_ver(&ver, info.info), 0);
    XT_EQ_STR(ver, xmppc_caps_get_ver(db));
    xmppc_free(ver);
    xmppc_disco_info_unref(info.info);

    /* node#ver answers too. */
    char node[512];
    snprintf(node, sizeof node, "%s#%s", xmppc_caps_get_node(db),
             xmppc_caps_get_ver(db));
    result nv = {0};
    XT_EQ_INT(xmppc_disco_get_info(da, xmppc_conn_get_bound_jid(b), node,
                                   on_info, &nv, NULL),
              0);
    run_until(loop, &nv.calls);
    XT_EQ_INT(nv.code, 0);
    XT_EQ_STR(xmppc_disco_info_get_node(nv.info), node);
    xmppc_disco_info_unref(nv.info);

    xmppc_conn_disconnect(a);
    xmppc_conn_disconnect(b);
    for (int i = 0;
         i < 100 && (xmppc_conn_get_state(a) != XMPPC_STATE_DISCONNECTED ||
                     xmppc_conn_get_state(b) != XMPPC_STATE_DISCONNECTED);
         i++)
        xmppc_loop_run_once(loop, 50);
    xmppc_loop_free(loop);
    xmppc_conn_unref(a);
    xmppc_conn_unref(b);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_server_disco), XT_TEST(test_client_disco))
