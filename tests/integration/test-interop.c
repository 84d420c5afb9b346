/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The libxmppc side of the interoperability test with a foreign client
 * (tests/integration/interop_slixmpp.py drives it; it is no test on its
 * own). One connection through the public API only, to the server of
 * tests/fixtures/xmppc_fixture.py (XMPPC_TEST_HOST, _PORT, _CA, _PASSWORD):
 *
 *   test-interop --jid JID --peer BAREJID [--echo] [--no-receipts]
 *
 * It reports what happens on stdout, one event a line (texts hex-encoded
 * UTF-8; lines starting with '#' are comments):
 *
 *   ready BOUNDJID CAPSNODE CAPSVER   online, available presence with caps sent
 *   mode api|raw                      how subscriptions and the roster are
 *                                     handled: with xmppc/roster.h when the
 *                                     library has it, else raw stanzas
 *   roster N [JID:SUBSCRIPTION...]    the answer to our roster request, sent
 *                                     when online (a server delivers
 *                                     subscription approvals only to
 *                                     resources that asked for the roster)
 *   roster-item JID SUBSCRIPTION      an item added or changed by a push
 *   sub-request BAREJID               a subscription request
 *   message FROM HEXBODY              a chat message with a body from the peer
 *   echoed ID                         (--echo) the body sent back to FROM after
 *                                     <composing/>, with <active/> and a
 *                                     receipt request with this id
 *   receipt FROM ID                   a delivery receipt for our message ID
 *   state FROM NAME                   a chat state notification
 *   presence FROM TYPE                any presence (TYPE "available" if none)
 *   caps FROM VER NFEATURES HASRCPT   the caps FROM announced, verified by the
 *                                     library: xmppc_caps_get_info() non-NULL;
 *                                     VER recomputed from that info
 *   sent WHAT                         a command below was carried out
 *   bye                               disconnected cleanly (exit status 0)
 *   error TEXT                        something failed (exit status 1)
 *
 * and takes commands on stdin, one a line:
 *
 *   presence [JID]           send our available presence (with caps) again,
 *                            directed to JID if given
 *   subscribe JID            ask JID for a subscription (type subscribe)
 *   subscribed JID           approve JID's request (type subscribed)
 *   state JID NAME           send a standalone chat state
 *   quit                     disconnect and exit (so does end of input)
 *
 * It gives up after 50 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppc/xmppc.h>

#include "interop.h"

/* The roster API is used when the library has it (it is being written);
 * until then the same protocol is spoken with raw stanzas. */
#if defined(__has_include)
#if __has_include(<xmppc/roster.h>)
#include <xmppc/roster.h>
#define HAVE_ROSTER_API 1
#endif
#endif
#ifndef HAVE_ROSTER_API
#define HAVE_ROSTER_API 0
#endif

#define MAX_WATCH 16

typedef struct watched {
    char jid[512];
    char reported_ver[128];
} watched;

typedef struct app {
    interop io;
    xmppc_disco *disco;
    const char *peer; /* bare JID */
    int echo;
    watched watch[MAX_WATCH];
    int nwatch;
} app;

static void fail(app *a, const char *what)
{
    const xmppc_error *e = xmppc_error_last();
    emit("error %s (%s)", what, e && e->message ? e->message : "no detail");
    a->io.failed = 1;
}

/* The bare part of @p jid into @p out. */
static void bare_of(const char *jid, char *out, size_t size)
{
    snprintf(out, size, "%s", jid ? jid : "");
    char *slash = strchr(out, '/');
    if (slash)
        *slash = '\0';
}

static int send_presence(app *a, const char *type, const char *to)
{
    xmppc_stanza *p = NULL;
    int rc = xmppc_presence_new(&p, type, to);
    if (rc == 0 && !type)
        rc = xmppc_caps_attach(a->disco, p);
    if (rc == 0)
        rc = xmppc_conn_send(a->io.conn, p);
    xmppc_stanza_unref(p);
    return rc;
}

#define NS_ROSTER "jabber:iq:roster"

#if HAVE_ROSTER_API
static void on_roster_loaded(xmppc_roster *roster, const xmppc_error *err,
                             void *userdata)
{
    app *a = userdata;
    if (err) {
        emit("error roster request: %s", err->message);
        a->io.failed = 1;
        return;
    }
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "roster %zu",
                                xmppc_roster_count(roster));
    for (size_t i = 0; i < xmppc_roster_count(roster) && n < sizeof line; i++) {
        const xmppc_roster_item *it = xmppc_roster_at(roster, i);
        n += (size_t)snprintf(
            line + n, sizeof line - n, " %s:%s", xmppc_roster_item_jid(it),
            xmppc_roster_subscription_name(xmppc_roster_item_subscription(it)));
    }
    emit("%s", line);
}

static int request_roster(app *a)
{
    return xmppc_roster_request(xmppc_roster_get(a->io.conn), on_roster_loaded,
                                a, NULL);
}

static void on_roster_item(xmppc_roster *roster, const xmppc_roster_item *item,
                           void *userdata)
{
    (void)roster;
    (void)userdata;
    emit("roster-item %s %s", xmppc_roster_item_jid(item),
         xmppc_roster_subscription_name(xmppc_roster_item_subscription(item)));
}

static void on_sub_request(xmppc_conn *conn, const char *from,
                           const char *status, void *userdata)
{
    (void)conn;
    (void)status;
    (void)userdata;
    emit("sub-request %s", from);
}

static int setup_roster(app *a)
{
    xmppc_roster *r = xmppc_roster_get(a->io.conn);
    if (!r || xmppc_roster_on_added(r, NULL, on_roster_item, a, NULL) < 0 ||
        xmppc_roster_on_updated(r, NULL, on_roster_item, a, NULL) < 0 ||
        xmppc_roster_on_subscription_request(r, NULL, on_sub_request, a, NULL) <
            0)
        return -1;
    return 0;
}

static int send_subscription(app *a, const char *verb, const char *jid)
{
    xmppc_roster *r = xmppc_roster_get(a->io.conn);
    return strcmp(verb, "subscribe") == 0 ? xmppc_roster_subscribe(r, jid, NULL)
                                          : xmppc_roster_approve(r, jid);
}
#else

/* Prints "PREFIX" then " JID:SUBSCRIPTION" for each item of @p query. */
static void print_items(const char *prefix, const xmppc_stanza *query)
{
    char line[4096];
    size_t n = (size_t)snprintf(line, sizeof line, "%s", prefix);
    for (xmppc_stanza *it = xmppc_stanza_get_child(query, "item", NS_ROSTER);
         it && n < sizeof line;
         it = xmppc_stanza_get_next_child(query, it, "item", NS_ROSTER)) {
        const char *sub = xmppc_stanza_get_attr(it, "subscription");
        n += (size_t)snprintf(line + n, sizeof line - n, " %s:%s",
                              xmppc_stanza_get_attr(it, "jid"),
                              sub ? sub : "none");
    }
    emit("%s", line);
}

static void on_roster(xmppc_conn *conn, xmppc_stanza *reply,
                      const xmppc_error *err, void *userdata)
{
    (void)conn;
    app *a = userdata;
    if (err) {
        emit("error roster request: %s", err->message);
        a->io.failed = 1;
        return;
    }
    xmppc_stanza *q = xmppc_stanza_get_child(reply, "query", NS_ROSTER);
    size_t count = 0;
    for (xmppc_stanza *it = q ? xmppc_stanza_get_child(q, "item", NS_ROSTER)
                              : NULL;
         it; it = xmppc_stanza_get_next_child(q, it, "item", NS_ROSTER))
        count++;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "roster %zu", count);
    if (q)
        print_items(prefix, q);
    else
        emit("%s", prefix);
}

static int request_roster(app *a)
{
    xmppc_stanza *iq = NULL, *q = NULL;
    int rc = xmppc_iq_new(&iq, "get", NULL, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&q, "query", NS_ROSTER);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, q);
    if (rc == 0)
        rc = xmppc_conn_send_iq(a->io.conn, iq, 0, on_roster, a, NULL);
    xmppc_stanza_unref(q);
    xmppc_stanza_unref(iq);
    return rc;
}

/* Roster pushes: only from our own account (RFC 6121 2.1.6). */
static int on_roster_push(xmppc_conn *conn, xmppc_stanza *iq, void *userdata)
{
    (void)userdata;
    const char *from = xmppc_stanza_get_from(iq);
    char own[512];
    bare_of(xmppc_conn_get_bound_jid(conn), own, sizeof own);
    if (from && strcmp(from, own) != 0)
        return XMPPC_CONTINUE;
    xmppc_stanza *q = xmppc_stanza_get_child(iq, "query", NS_ROSTER);
    if (!q)
        return XMPPC_CONTINUE;
    for (xmppc_stanza *it = xmppc_stanza_get_child(q, "item", NS_ROSTER); it;
         it = xmppc_stanza_get_next_child(q, it, "item", NS_ROSTER)) {
        const char *sub = xmppc_stanza_get_attr(it, "subscription");
        emit("roster-item %s %s", xmppc_stanza_get_attr(it, "jid"),
             sub ? sub : "none");
    }
    xmppc_stanza *reply = NULL;
    if (xmppc_stanza_reply(&reply, iq) == 0) {
        xmppc_stanza_set_type(reply, "result");
        xmppc_conn_send(conn, reply);
    }
    xmppc_stanza_unref(reply);
    return XMPPC_HANDLED;
}

static int setup_roster(app *a)
{
    return xmppc_conn_add_handler(a->io.conn, NULL, "iq", "set", NS_ROSTER,
                                  on_roster_push, a, NULL);
}

static int send_subscription(app *a, const char *verb, const char *jid)
{
    return send_presence(a, verb, jid);
}
#endif

static void on_conn_state(xmppc_conn *conn, xmppc_conn_state state,
                          const xmppc_error *err, void *userdata)
{
    app *a = userdata;
    if (state == XMPPC_STATE_READY) {
        if (request_roster(a) < 0) {
            fail(a, "roster request");
            return;
        }
        if (send_presence(a, NULL, NULL) < 0) {
            fail(a, "initial presence");
            return;
        }
        a->io.ready = 1;
        emit("ready %s %s %s", xmppc_conn_get_bound_jid(conn),
             xmppc_caps_get_node(a->disco), xmppc_caps_get_ver(a->disco));
    } else if (state == XMPPC_STATE_DISCONNECTED) {
        interop_disconnected(&a->io, err);
    }
}

static int is_peer(const app *a, const char *from)
{
    char bare[512];
    bare_of(from, bare, sizeof bare);
    return strcmp(bare, a->peer) == 0;
}

static int on_message(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    app *a = userdata;
    const char *from = xmppc_stanza_get_from(msg);
    const char *body = xmppc_message_get_body(msg);
    if (!from || !body || !is_peer(a, from))
        return XMPPC_CONTINUE;
    char h[8192];
    emit("message %s %s", from, hex(body, h, sizeof h));
    if (!a->echo)
        return XMPPC_CONTINUE;
    /* Typing, then the text (with <active/>) and a receipt request. */
    if (xmppc_chat_send_state(conn, from, XMPPC_CHAT_STATE_COMPOSING) < 0) {
        fail(a, "send composing");
        return XMPPC_CONTINUE;
    }
    char *id = NULL;
    if (xmppc_chat_send_text_receipt(conn, from, body, &id) < 0) {
        fail(a, "echo");
        return XMPPC_CONTINUE;
    }
    emit("echoed %s", id);
    xmppc_free(id);
    return XMPPC_CONTINUE;
}

static void on_receipt(xmppc_conn *conn, const char *from, const char *id,
                       void *userdata)
{
    (void)conn;
    (void)userdata;
    emit("receipt %s %s", from ? from : "-", id ? id : "-");
}

static void on_chat_state(xmppc_conn *conn, const char *from,
                          xmppc_chat_state state, void *userdata)
{
    (void)conn;
    (void)userdata;
    emit("state %s %s", from ? from : "-", xmppc_chat_state_name(state));
}

static int on_presence(xmppc_conn *conn, xmppc_stanza *p, void *userdata)
{
    app *a = userdata;
    const char *from = xmppc_stanza_get_from(p);
    const char *type = xmppc_stanza_get_type(p);
    if (!from)
        return XMPPC_CONTINUE;
    emit("presence %s %s", from, type ? type : "available");
    if (!HAVE_ROSTER_API && type && strcmp(type, "subscribe") == 0) {
        char bare[512];
        bare_of(from, bare, sizeof bare);
        emit("sub-request %s", bare);
    }
    const char *self = xmppc_conn_get_bound_jid(conn);
    if (type || (self && strcmp(from, self) == 0) || !strchr(from, '/'))
        return XMPPC_CONTINUE;
    for (int i = 0; i < a->nwatch; i++)
        if (strcmp(a->watch[i].jid, from) == 0)
            return XMPPC_CONTINUE;
    if (a->nwatch < MAX_WATCH)
        snprintf(a->watch[a->nwatch++].jid, sizeof a->watch[0].jid, "%s", from);
    return XMPPC_CONTINUE;
}

/* Reports the caps of watched JIDs once the library has verified them. */
static void check_caps(void *ctx)
{
    app *a = ctx;
    for (int i = 0; i < a->nwatch; i++) {
        watched *w = &a->watch[i];
        xmppc_disco_info *info = xmppc_caps_get_info(a->disco, w->jid);
        if (!info)
            continue;
        char *ver = NULL;
        if (xmppc_caps_compute_ver(&ver, info) < 0) {
            fail(a, "caps_compute_ver on verified info");
            continue;
        }
        if (strcmp(ver, w->reported_ver) != 0) {
            snprintf(w->reported_ver, sizeof w->reported_ver, "%s", ver);
            emit("caps %s %s %zu %d", w->jid, ver,
                 xmppc_disco_info_feature_count(info),
                 xmppc_disco_info_has_feature(info, XMPPC_NS_RECEIPTS));
        }
        xmppc_free(ver);
    }
}

static int parse_state(const char *name, xmppc_chat_state *out)
{
    for (int s = XMPPC_CHAT_STATE_ACTIVE; s <= XMPPC_CHAT_STATE_GONE; s++)
        if (strcmp(name, xmppc_chat_state_name((xmppc_chat_state)s)) == 0) {
            *out = (xmppc_chat_state)s;
            return 0;
        }
    return -1;
}

/* Carries out one command (interop_command_fn). */
static void command(void *ctx, const char *verb, const char *arg1,
                    const char *arg2)
{
    app *a = ctx;
    int rc = -1;
    if (strcmp(verb, "presence") == 0)
        rc = send_presence(a, NULL, arg1);
    else if ((strcmp(verb, "subscribe") == 0 ||
              strcmp(verb, "subscribed") == 0) &&
             arg1)
        rc = send_subscription(a, verb, arg1);
    else if (strcmp(verb, "state") == 0 && arg1 && arg2) {
        xmppc_chat_state st;
        rc = parse_state(arg2, &st) == 0
                 ? xmppc_chat_send_state(a->io.conn, arg1, st)
                 : -1;
    } else {
        emit("error unknown command: %s", verb);
        a->io.failed = 1;
        return;
    }
    if (rc < 0)
        fail(a, verb);
    else
        emit("sent %s", verb);
}

static void usage(void)
{
    fprintf(stderr, "usage: test-interop --jid JID --peer BAREJID [--echo] "
                    "[--no-receipts]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    app a = {0};
    const char *jid = NULL;
    int receipts = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jid") == 0 && i + 1 < argc)
            jid = argv[++i];
        else if (strcmp(argv[i], "--peer") == 0 && i + 1 < argc)
            a.peer = argv[++i];
        else if (strcmp(argv[i], "--echo") == 0)
            a.echo = 1;
        else if (strcmp(argv[i], "--no-receipts") == 0)
            receipts = 0;
        else
            usage();
    }
    if (!jid || !a.peer)
        usage();

    if (interop_open(&a.io, jid, on_conn_state, &a) < 0) {
        fail(&a, "setup");
        return 1;
    }
    /* Managers first (chat answers receipt requests, disco answers caps
     * queries and verifies the caps of others), then our listeners. */
    a.disco = xmppc_disco_get(a.io.conn);
    emit("mode %s", HAVE_ROSTER_API ? "api" : "raw");
    if (!a.disco || xmppc_chat_enable_receipts(a.io.conn, receipts) < 0 ||
        xmppc_chat_set_send_active(a.io.conn, 1) < 0 ||
        xmppc_chat_on_receipt(a.io.conn, NULL, on_receipt, &a, NULL) < 0 ||
        xmppc_chat_on_state(a.io.conn, NULL, on_chat_state, &a, NULL) < 0 ||
        xmppc_conn_add_handler(a.io.conn, NULL, "message", NULL, NULL,
                               on_message, &a, NULL) < 0 ||
        xmppc_conn_add_handler(a.io.conn, NULL, "presence", NULL, NULL,
                               on_presence, &a, NULL) < 0 ||
        setup_roster(&a) < 0 || xmppc_loop_add(a.io.loop, a.io.conn) < 0 ||
        xmppc_conn_connect(a.io.conn) < 0) {
        fail(&a, "setup");
        xmppc_loop_free(a.io.loop);
        xmppc_conn_unref(a.io.conn);
        return 1;
    }

    char buf[4096];
    if (interop_run(&a.io, command, check_caps, &a, buf, sizeof buf) < 0)
        fail(&a, "loop_run while disconnecting");
    return interop_close(&a.io);
}
