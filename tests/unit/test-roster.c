/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Roster transcripts over the test transport: fetch, pushes from the own
 * account (and spoofed ones), editing, subscriptions, listeners,
 * XEP-0237 versioning and the file store. Generated ids are shown as
 * id='*'.
 */
#include <unistd.h>

#include "../xtest.h"
#include "conn-private.h"

#define OWN "juliet@example.com"
#define OWN_FULL OWN "/balcony"
#define NS "jabber:iq:roster"
#define ROSTERVER                                                              \
    "<features><ver xmlns='urn:xmpp:features:rosterver'/></features>"

typedef struct sent {
    int count;
    char raw[8192];  /* the last stanza as sent */
    char last[8192]; /* the same with its generated id replaced by '*' */
    char id[64];     /* that id */
} sent;

static void sink(void *ud, const char *xml)
{
    sent *s = ud;
    s->count++;
    snprintf(s->raw, sizeof s->raw, "%s", xml);
    s->id[0] = '\0';
    size_t o = 0;
    for (const char *p = xml; *p && o + 8 < sizeof s->last;) {
        /* strspn only past a complete "id='": never beyond the NUL. */
        size_t n =
            strncmp(p, "id='", 4) == 0
                ? strspn(p + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
                                "opqrstuvwxyz0123456789_-")
                : 0;
        if (n == 16 && p[20] == '\'') {
            memcpy(s->id, p + 4, 16);
            s->id[16] = '\0';
            memcpy(s->last + o, "id='*'", 6);
            o += 6;
            p += 21;
        } else {
            s->last[o++] = *p++;
        }
    }
    s->last[o] = '\0';
}

static xmppc_conn *ready(sent *out)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, OWN, "pw"), 0);
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN_FULL, sink, out), 0);
    return c;
}

static void done(xmppc_conn *c)
{
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

/* Injects a reply to the last request: "<iq type='result' id='ID'" + rest. */
static void reply(xmppc_conn *c, const sent *out, const char *rest)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "<iq type='result' id='%s'%s", out->id, rest);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
}

typedef struct events {
    int results, errors, added, updated, removed, destroyed;
    int last_code;
    char log[2048];
} events;

static void on_result(xmppc_roster *r, const xmppc_error *err, void *ud)
{
    (void)r;
    events *e = ud;
    if (err) {
        e->errors++;
        e->last_code = err->code;
    } else {
        e->results++;
    }
}

static void append(events *e, const char *what, const xmppc_roster_item *it)
{
    size_t n = strlen(e->log);
    snprintf(e->log + n, sizeof e->log - n, "%s %s;", what,
             xmppc_roster_item_jid(it));
}

static void on_added(xmppc_roster *r, const xmppc_roster_item *it, void *ud)
{
    (void)r;
    ((events *)ud)->added++;
    append(ud, "+", it);
}

static void on_updated(xmppc_roster *r, const xmppc_roster_item *it, void *ud)
{
    (void)r;
    ((events *)ud)->updated++;
    append(ud, "~", it);
}

static void on_removed(xmppc_roster *r, const xmppc_roster_item *it, void *ud)
{
    (void)r;
    ((events *)ud)->removed++;
    append(ud, "-", it);
}

static void on_destroy(void *ud)
{
    ((events *)ud)->destroyed++;
}

static const char roster_result[] =
    " to='" OWN_FULL "'><query xmlns='" NS "' ver='v1'>"
    "<item jid='romeo@example.net' name='Romeo' subscription='both'>"
    "<group>Friends</group><group>Lovers</group></item>"
    "<item jid='mercutio@example.com' name='Mercutio' subscription='from'/>"
    "<item jid='benvolio@example.net' subscription='none' ask='subscribe' "
    "approved='true'/>"
    "<item jid='@invalid' subscription='both'/>"
    "</query></iq>";

static void test_fetch(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_roster *r = xmppc_roster_get(c);
    XT_CHECK(r != NULL);
    XT_CHECK(xmppc_roster_get(c) == r);
    XT_CHECK(xmppc_roster_get_conn(r) == c);
    XT_CHECK(xmppc_roster_get(NULL) == NULL);
    events e = {0};
    XT_EQ_INT(xmppc_roster_on_added(r, NULL, on_added, &e, on_destroy), 0);
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, on_destroy), 0);
    XT_EQ_STR(out.last, "<iq type='get' id='*'><query xmlns='" NS "'/></iq>");
    XT_EQ_INT(xmppc_roster_is_loaded(r), 0);
    reply(c, &out, roster_result);
    XT_EQ_INT(e.results, 1);
    XT_EQ_INT(e.destroyed, 1); /* the request's */
    XT_EQ_INT(xmppc_roster_is_loaded(r), 1);
    XT_EQ_STR(xmppc_roster_get_version(r), "v1");
    XT_EQ_INT(xmppc_roster_count(r), 3);
    XT_EQ_INT(e.added, 3);
    const xmppc_roster_item *it = xmppc_roster_find(r, "Romeo@Example.NET/x");
    XT_EQ_STR(xmppc_roster_item_jid(it), "romeo@example.net");
    XT_EQ_STR(xmppc_roster_item_name(it), "Romeo");
    XT_EQ_INT(xmppc_roster_item_subscription(it), XMPPC_SUB_BOTH);
    XT_EQ_INT(xmppc_roster_item_group_count(it), 2);
    XT_EQ_STR(xmppc_roster_item_group_at(it, 1), "Lovers");
    XT_CHECK(xmppc_roster_item_group_at(it, 2) == NULL);
    XT_EQ_INT(xmppc_roster_item_ask(it), 0);
    it = xmppc_roster_at(r, 2);
    XT_EQ_STR(xmppc_roster_item_jid(it), "benvolio@example.net");
    XT_CHECK(xmppc_roster_item_name(it) == NULL);
    XT_EQ_INT(xmppc_roster_item_ask(it), 1);
    XT_EQ_INT(xmppc_roster_item_approved(it), 1);
    XT_EQ_INT(xmppc_roster_item_subscription(xmppc_roster_at(r, 1)),
              XMPPC_SUB_FROM);
    XT_CHECK(xmppc_roster_at(r, 3) == NULL);
    XT_CHECK(xmppc_roster_find(r, "nobody@example.net") == NULL);
    XT_EQ_STR(xmppc_roster_subscription_name(XMPPC_SUB_TO), "to");

    /* A second fetch: the differences reach the listeners. */
    XT_EQ_INT(xmppc_roster_on_updated(r, NULL, on_updated, &e, NULL), 0);
    XT_EQ_INT(xmppc_roster_on_removed(r, NULL, on_removed, &e, NULL), 0);
    e.log[0] = '\0';
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    reply(c, &out,
          "><query xmlns='" NS "'><item jid='romeo@example.net' "
          "name='Romeo' subscription='both'><group>Friends</group><group>"
          "Lovers</group></item><item jid='mercutio@example.com' "
          "subscription='both'/><item jid='nurse@example.com'/></query></iq>");
    XT_EQ_STR(e.log, "- benvolio@example.net;~ mercutio@example.com;+ "
                     "nurse@example.com;");
    XT_CHECK(xmppc_roster_get_version(r) == NULL);

    /* An error reply is reported and changes nothing. */
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    char buf[512];
    snprintf(buf, sizeof buf,
             "<iq type='error' id='%s'><error type='wait'><resource-"
             "constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
             "</error></iq>",
             out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
    XT_EQ_INT(e.errors, 1);
    XT_EQ_INT(e.last_code, XMPPC_ESTANZA);
    XT_EQ_INT(xmppc_roster_count(r), 3);

    /* A request pending at disconnect is canceled, exactly once. */
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    done(c);
    XT_EQ_INT(e.errors, 2);
    XT_EQ_INT(e.last_code, XMPPC_ECANCELED);
    XT_EQ_INT(e.destroyed, 2); /* the on_added listener with the conn */
}

#define PUSH_TAIL                                                              \
    "><query xmlns='" NS "' ver='v%d'><item jid='nurse@example.com' "          \
    "name='Nurse %d' subscription='none'><group>Servants</group></item>"       \
    "</query></iq>"

static void push(xmppc_conn *c, const char *from_attr, const char *id, int n)
{
    char buf[1024], tail[512];
    snprintf(tail, sizeof tail, PUSH_TAIL, n, n);
    if (*from_attr)
        snprintf(buf, sizeof buf, "<iq type='set' id='%s'%s'%s", id, from_attr,
                 tail);
    else
        snprintf(buf, sizeof buf, "<iq type='set' id='%s'%s", id, tail);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
}

static void test_pushes_from_own_account(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_roster *r = xmppc_roster_get(c);
    events e = {0};
    XT_EQ_INT(xmppc_roster_on_added(r, NULL, on_added, &e, NULL), 0);
    XT_EQ_INT(xmppc_roster_on_updated(r, NULL, on_updated, &e, NULL), 0);
    XT_EQ_INT(xmppc_roster_on_removed(r, NULL, on_removed, &e, NULL), 0);

    /* No from. */
    push(c, "", "p1", 1);
    XT_EQ_STR(out.last, "<iq id='p1' type='result'/>");
    XT_EQ_INT(xmppc_roster_count(r), 1);
    XT_EQ_INT(e.added, 1);
    XT_EQ_STR(xmppc_roster_item_name(xmppc_roster_at(r, 0)), "Nurse 1");
    XT_EQ_STR(xmppc_roster_get_version(r), "v1");
    /* From the own bare JID (any case). */
    push(c, " from='Juliet@Example.com", "p2", 2);
    XT_EQ_STR(out.last, "<iq to='Juliet@Example.com' id='p2' type='result'/>");
    XT_EQ_INT(e.updated, 1);
    XT_EQ_STR(xmppc_roster_item_name(xmppc_roster_at(r, 0)), "Nurse 2");
    XT_EQ_STR(xmppc_roster_get_version(r), "v2");
    /* From the own full JID. */
    push(c, " from='" OWN_FULL, "p3", 3);
    XT_EQ_STR(out.last, "<iq to='" OWN_FULL "' id='p3' type='result'/>");
    XT_EQ_INT(e.updated, 2);
    XT_EQ_STR(xmppc_roster_item_group_at(xmppc_roster_at(r, 0), 0), "Servants");
    /* Removal. */
    XT_EQ_INT(
        xmppc__conn_test_inject(c, "<iq type='set' id='p4'><query xmlns='" NS
                                   "' ver='v4'><item jid='nurse@example.com' "
                                   "subscription='remove'/></query></iq>"),
        0);
    XT_EQ_STR(out.last, "<iq id='p4' type='result'/>");
    XT_EQ_INT(e.removed, 1);
    XT_EQ_INT(xmppc_roster_count(r), 0);
    XT_EQ_STR(xmppc_roster_get_version(r), "v4");
    XT_EQ_STR(e.log, "+ nurse@example.com;~ nurse@example.com;~ "
                     "nurse@example.com;- nurse@example.com;");
    /* Not exactly one item: bad-request, nothing applied. */
    XT_EQ_INT(xmppc__conn_test_inject(c,
                                      "<iq type='set' id='p5'><query xmlns='" NS
                                      "'><item jid='a@example.com'/><item "
                                      "jid='b@example.com'/></query></iq>"),
              0);
    XT_CHECK(strstr(out.last, "id='p5' type='error'") &&
             strstr(out.last, "<bad-request"));
    XT_EQ_INT(xmppc_roster_count(r), 0);
    XT_EQ_INT(out.count, 5);
    done(c);
}

typedef struct logs {
    int warnings;
    char last[512];
} logs;

static void log_cb(xmppc_conn *c, xmppc_log_level level, const char *area,
                   const char *message, void *ud)
{
    (void)c;
    logs *l = ud;
    if (level == XMPPC_LOG_WARN && strcmp(area, "roster") == 0) {
        l->warnings++;
        snprintf(l->last, sizeof l->last, "%s", message);
    }
}

static void test_spoofed_pushes(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    logs lg = {0};
    xmppc_conn_set_log_cb(c, log_cb, &lg, XMPPC_LOG_WARN);
    xmppc_roster *r = xmppc_roster_get(c);
    events e = {0};
    XT_EQ_INT(xmppc_roster_on_added(r, NULL, on_added, &e, NULL), 0);
    static const char *const spoofers[] = {
        " from='romeo@example.net",         /* another account */
        " from='romeo@example.net/orchard", /* another full JID */
        " from='example.com",               /* the own server */
        " from='juliet@example.com.evil.org",
        " from='juliet@evil.org/balcony",
        " from='balcony@example.com",
        " from='example.com/juliet",
    };
    for (size_t i = 0; i < sizeof spoofers / sizeof spoofers[0]; i++) {
        char id[8];
        snprintf(id, sizeof id, "s%zu", i);
        push(c, spoofers[i], id, 1);
        XT_CHECK(strstr(out.last, "type='error'") != NULL);
        XT_CHECK(strstr(out.last, "<service-unavailable") != NULL);
        XT_CHECK(strstr(out.last, id) != NULL);
    }
    XT_EQ_INT(out.count, 7);
    XT_EQ_INT(xmppc_roster_count(r), 0);
    XT_EQ_INT(e.added, 0);
    XT_CHECK(xmppc_roster_get_version(r) == NULL);
    XT_EQ_INT(lg.warnings, 7);
    XT_CHECK(strstr(lg.last, "example.com/juliet") != NULL);
    done(c);
}

static void test_editing(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_roster *r = xmppc_roster_get(c);
    events e = {0};
    const char *groups[] = {"Friends", "A & B"};
    XT_EQ_INT(xmppc_roster_add(r, "Romeo@Example.NET/orchard", "Romeo <3",
                               groups, 2, on_result, &e, on_destroy),
              0);
    XT_EQ_STR(out.last, "<iq type='set' id='*'><query xmlns='" NS
                        "'><item jid='romeo@example.net' name='Romeo "
                        "&lt;3'><group>Friends</group><group>A &amp; "
                        "B</group></item></query></iq>");
    reply(c, &out, "/>");
    XT_EQ_INT(e.results, 1);
    XT_EQ_INT(e.destroyed, 1);
    XT_EQ_INT(xmppc_roster_count(r), 0); /* only the push adds it */
    push(c, "", "p1", 1);
    /* Rename keeps the groups, set_groups keeps the name. */
    XT_EQ_INT(xmppc_roster_rename(r, "nurse@example.com", "Angelica", on_result,
                                  &e, NULL),
              0);
    XT_EQ_STR(out.last, "<iq type='set' id='*'><query xmlns='" NS
                        "'><item jid='nurse@example.com' "
                        "name='Angelica'><group>Servants</group></item>"
                        "</query></iq>");
    reply(c, &out, "/>");
    const char *g2[] = {"Capulets"};
    XT_EQ_INT(xmppc_roster_set_groups(r, "nurse@example.com", g2, 1, NULL, NULL,
                                      NULL),
              0);
    XT_EQ_STR(out.last, "<iq type='set' id='*'><query xmlns='" NS
                        "'><item jid='nurse@example.com' name='Nurse "
                        "1'><group>Capulets</group></item></query></iq>");
    reply(c, &out, "/>");
    XT_EQ_INT(xmppc_roster_remove(r, "nurse@example.com", on_result, &e, NULL),
              0);
    XT_EQ_STR(out.last, "<iq type='set' id='*'><query xmlns='" NS
                        "'><item jid='nurse@example.com' "
                        "subscription='remove'/></query></iq>");
    char buf[512];
    snprintf(buf, sizeof buf,
             "<iq type='error' id='%s'><error type='cancel'><item-not-found "
             "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
             out.id);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
    XT_EQ_INT(e.results, 2);
    XT_EQ_INT(e.errors, 1);
    XT_EQ_INT(e.last_code, XMPPC_ESTANZA);
    /* Invalid input: nothing sent, no callback. */
    int n = out.count;
    XT_EQ_INT(xmppc_roster_add(r, "@bad", NULL, NULL, 0, on_result, &e, NULL),
              XMPPC_EINVAL);
    const char *empty[] = {""};
    XT_EQ_INT(xmppc_roster_add(r, "a@b", NULL, empty, 1, on_result, &e, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_roster_remove(NULL, "a@b", NULL, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(out.count, n);
    XT_EQ_INT(e.results + e.errors, 3);
    done(c);
}

typedef struct requests {
    int count;
    char from[256], status[64];
} requests;

static void on_request(xmppc_conn *c, const char *from, const char *status,
                       void *ud)
{
    (void)c;
    requests *q = ud;
    q->count++;
    snprintf(q->from, sizeof q->from, "%s", from);
    snprintf(q->status, sizeof q->status, "%s", status ? status : "");
}

static void test_subscriptions(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_roster *r = xmppc_roster_get(c);
    XT_EQ_INT(xmppc_roster_subscribe(r, "Romeo@Example.NET/orchard", "me?"), 0);
    XT_EQ_STR(out.last, "<presence type='subscribe' to='romeo@example.net'>"
                        "<status>me?</status></presence>");
    XT_EQ_INT(xmppc_roster_unsubscribe(r, "romeo@example.net"), 0);
    XT_EQ_STR(out.last,
              "<presence type='unsubscribe' to='romeo@example.net'/>");
    XT_EQ_INT(xmppc_roster_approve(r, "romeo@example.net"), 0);
    XT_EQ_STR(out.last, "<presence type='subscribed' to='romeo@example.net'/>");
    XT_EQ_INT(xmppc_roster_deny(r, "romeo@example.net"), 0);
    XT_EQ_STR(out.last,
              "<presence type='unsubscribed' to='romeo@example.net'/>");
    /* Pre-approval only when the server offers it. */
    XT_EQ_INT(xmppc_roster_preapprove(r, "nurse@example.com"), XMPPC_ENOTSUP);
    XT_EQ_INT(out.count, 4);
    XT_EQ_INT(xmppc__conn_test_set_features(
                  c, "<features><sub xmlns='urn:xmpp:features:pre-approval'/>"
                     "</features>"),
              0);
    XT_EQ_INT(xmppc_roster_preapprove(r, "nurse@example.com"), 0);
    XT_EQ_STR(out.last, "<presence type='subscribed' to='nurse@example.com'/>");
    XT_EQ_INT(xmppc_roster_subscribe(r, "@bad", NULL), XMPPC_EINVAL);
    XT_EQ_INT(out.count, 5);

    /* Manual (default): the listener is asked, nothing is sent. */
    requests q = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(xmppc_roster_get_subscription_mode(r), XMPPC_ROSTER_MANUAL);
    XT_EQ_INT(xmppc_roster_on_subscription_request(r, &h, on_request, &q, NULL),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='tybalt@example.net/x' type='subscribe'>"
                     "<status>let me in</status></presence>"),
              0);
    XT_EQ_INT(q.count, 1);
    XT_EQ_STR(q.from, "tybalt@example.net");
    XT_EQ_STR(q.status, "let me in");
    XT_EQ_INT(out.count, 5);
    /* Other subscription types are not requests. */
    XT_EQ_INT(xmppc__conn_test_inject(c, "<presence from='tybalt@example.net' "
                                         "type='unsubscribe'/>"),
              0);
    XT_EQ_INT(q.count, 1);

    /* Accept all: approved at once, listener not called. */
    XT_EQ_INT(xmppc_roster_set_subscription_mode(r, XMPPC_ROSTER_ACCEPT_ALL),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<presence from='paris@example.net' "
                                         "type='subscribe'/>"),
              0);
    XT_EQ_STR(out.last, "<presence type='subscribed' to='paris@example.net'/>");
    XT_EQ_INT(q.count, 1);
    /* Reject all. */
    XT_EQ_INT(xmppc_roster_set_subscription_mode(r, XMPPC_ROSTER_REJECT_ALL),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<presence from='paris@example.net' "
                                         "type='subscribe'/>"),
              0);
    XT_EQ_STR(out.last,
              "<presence type='unsubscribed' to='paris@example.net'/>");
    XT_EQ_INT(q.count, 1);
    XT_EQ_INT(out.count, 7);
    XT_EQ_INT(xmppc_roster_set_subscription_mode(r, (xmppc_roster_sub_mode)7),
              XMPPC_EINVAL);
    xmppc_handler_free(h);
    done(c);
}

typedef struct pres {
    int count;
    char from[256];
} pres;

static void on_pres(xmppc_conn *c, const char *from,
                    const xmppc_presence_info *info, void *ud)
{
    (void)c;
    (void)info;
    pres *p = ud;
    p->count++;
    snprintf(p->from, sizeof p->from, "%s", from);
}

static void test_presence_of_contacts(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_roster *r = xmppc_roster_get(c);
    pres p = {0};
    events e = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(xmppc_roster_on_presence_changed(r, &h, on_pres, &p, on_destroy),
              0);
    push(c, "", "p1", 1); /* nurse@example.com */
    XT_EQ_INT(xmppc__conn_test_inject(c, "<presence from='nurse@example.com/"
                                         "kitchen'/>"),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(c, "<presence from='stranger@example."
                                         "com/x'/>"),
              0);
    XT_EQ_INT(p.count, 1);
    XT_EQ_STR(p.from, "nurse@example.com/kitchen");
    XT_EQ_INT(xmppc_presence_count(c, "nurse@example.com"), 1);
    /* A listener removed inside an item event is not called again. */
    xmppc_handler *added = NULL;
    XT_EQ_INT(xmppc_roster_on_added(r, &added, on_added, &e, on_destroy), 0);
    xmppc_handler_remove(added);
    XT_EQ_INT(e.destroyed, 1);
    push(c, "", "p2", 2);
    XT_EQ_INT(e.added, 0);
    xmppc_handler_free(added);
    xmppc_handler_free(h);
    done(c);
}

/* ---- versioning -------------------------------------------------------- */

typedef struct store {
    int loads, saves;
    char version[64];
    char query[4096];
    int has;
} store;

static int store_load(xmppc_roster *r, const char **v, const char **q, void *ud)
{
    (void)r;
    store *s = ud;
    s->loads++;
    if (!s->has)
        return 0;
    *v = s->version;
    *q = s->query;
    return 1;
}

static void store_save(xmppc_roster *r, const char *v, const char *q, void *ud)
{
    (void)r;
    store *s = ud;
    s->saves++;
    s->has = 1;
    snprintf(s->version, sizeof s->version, "%s", v);
    snprintf(s->query, sizeof s->query, "%s", q);
}

static void test_versioned_fetch(void)
{
    store s = {0};
    events e = {0};
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_roster *r = xmppc_roster_get(c);
    XT_EQ_INT(xmppc_roster_set_store(r, store_load, store_save, &s, NULL), 0);
    /* A server without the rosterver feature gets no ver (RFC 6121
     * §2.6.1). */
    XT_EQ_INT(xmppc_roster_request(r, NULL, NULL, NULL), 0);
    XT_EQ_STR(out.last, "<iq type='get' id='*'><query xmlns='" NS "'/></iq>");
    XT_EQ_INT(xmppc__conn_test_set_features(c, ROSTERVER), 0);
    XT_EQ_INT(
        xmppc_conn_has_stream_feature(c, "ver", "urn:xmpp:features:rosterver"),
        1);
    XT_EQ_INT(xmppc_conn_has_stream_feature(c, "ver", "urn:other"), 0);
    XT_EQ_INT(xmppc_conn_has_stream_feature(c, NULL, "x"), 0);
    /* Nothing stored: ver=''. */
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    XT_EQ_STR(out.last,
              "<iq type='get' id='*'><query xmlns='" NS "' ver=''/></iq>");
    reply(c, &out, roster_result);
    XT_EQ_INT(s.saves, 1);
    XT_EQ_STR(s.version, "v1");
    XT_CHECK(strstr(s.query,
                    "<item jid='romeo@example.net' name='Romeo' "
                    "subscription='both'><group>Friends</group>") != NULL);
    XT_CHECK(strstr(s.query, "ask='subscribe' approved='true'") != NULL);
    /* A push is saved with its version. */
    push(c, "", "p1", 2);
    XT_EQ_INT(s.saves, 2);
    XT_EQ_STR(s.version, "v2");
    XT_CHECK(strstr(s.query, "Nurse 2") != NULL);
    done(c);

    /* A second login: the stored version is sent; an empty result means
     * "unchanged", and the stored items are the roster. */
    c = ready(&out);
    XT_EQ_INT(xmppc__conn_test_set_features(c, ROSTERVER), 0);
    r = xmppc_roster_get(c);
    XT_EQ_INT(xmppc_roster_set_store(r, store_load, store_save, &s, NULL), 0);
    XT_EQ_INT(xmppc_roster_on_added(r, NULL, on_added, &e, NULL), 0);
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    XT_EQ_STR(out.last,
              "<iq type='get' id='*'><query xmlns='" NS "' ver='v2'/></iq>");
    reply(c, &out, "/>");
    XT_EQ_INT(e.results, 2);
    XT_EQ_INT(xmppc_roster_count(r), 4);
    XT_EQ_INT(e.added, 4);
    XT_EQ_STR(xmppc_roster_get_version(r), "v2");
    const xmppc_roster_item *it = xmppc_roster_find(r, "romeo@example.net");
    XT_EQ_STR(xmppc_roster_item_name(it), "Romeo");
    XT_EQ_INT(xmppc_roster_item_group_count(it), 2);
    XT_EQ_INT(xmppc_roster_item_approved(
                  xmppc_roster_find(r, "benvolio@example.net")),
              1);
    XT_EQ_INT(s.saves, 2); /* unchanged: not saved again */
    /* Then pushes (versioned) follow. */
    XT_EQ_INT(
        xmppc__conn_test_inject(c, "<iq type='set' id='p9'><query xmlns='" NS
                                   "' ver='v3'><item jid='romeo@example.net' "
                                   "subscription='remove'/></query></iq>"),
        0);
    XT_EQ_INT(xmppc_roster_count(r), 3);
    XT_EQ_STR(s.version, "v3");
    XT_CHECK(strstr(s.query, "romeo") == NULL);
    done(c);

    /* A corrupt store: the whole roster is fetched. */
    snprintf(s.query, sizeof s.query, "<query xmlns='" NS "'><item");
    c = ready(&out);
    XT_EQ_INT(xmppc__conn_test_set_features(c, ROSTERVER), 0);
    r = xmppc_roster_get(c);
    XT_EQ_INT(xmppc_roster_set_store(r, store_load, store_save, &s, NULL), 0);
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    XT_EQ_STR(out.last,
              "<iq type='get' id='*'><query xmlns='" NS "' ver=''/></iq>");
    snprintf(s.query, sizeof s.query,
             "<!DOCTYPE q [<!ENTITY x 'y'>]><query xmlns='" NS "'/>");
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    XT_EQ_STR(out.last,
              "<iq type='get' id='*'><query xmlns='" NS "' ver=''/></iq>");
    done(c);
}

static void test_file_store(void)
{
    char dir[] = "/tmp/xmppc-roster-XXXXXX";
    XT_CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/roster.xml", dir);
    sent out = {0};
    events e = {0};
    xmppc_conn *c = ready(&out);
    XT_EQ_INT(xmppc__conn_test_set_features(c, ROSTERVER), 0);
    xmppc_roster *r = xmppc_roster_get(c);
    XT_EQ_INT(xmppc_roster_use_file_store(r, path), 0);
    XT_EQ_INT(xmppc_roster_use_file_store(r, ""), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    XT_EQ_STR(out.last,
              "<iq type='get' id='*'><query xmlns='" NS "' ver=''/></iq>");
    reply(c, &out, roster_result);
    push(c, "", "p1", 7);
    done(c);
    XT_CHECK(access(path, R_OK) == 0);

    c = ready(&out);
    XT_EQ_INT(xmppc__conn_test_set_features(c, ROSTERVER), 0);
    r = xmppc_roster_get(c);
    XT_EQ_INT(xmppc_roster_use_file_store(r, path), 0);
    XT_EQ_INT(xmppc_roster_request(r, on_result, &e, NULL), 0);
    XT_EQ_STR(out.last,
              "<iq type='get' id='*'><query xmlns='" NS "' ver='v7'/></iq>");
    reply(c, &out, "/>");
    XT_EQ_INT(xmppc_roster_count(r), 4);
    XT_EQ_STR(xmppc_roster_item_name(xmppc_roster_find(r, "nurse@example.com")),
              "Nurse 7");
    XT_EQ_STR(xmppc_roster_item_group_at(
                  xmppc_roster_find(r, "romeo@example.net"), 0),
              "Friends");
    done(c);
    XT_EQ_INT(e.results, 2);
    unlink(path);
    rmdir(dir);
}

/* Output of a whole login: each stanza's first 60 characters, in order. */
typedef struct login_log {
    sent out; /* first: sink() takes the same pointer */
    char order[1024];
    char get_id[64];
} login_log;

static void login_sink(void *ud, const char *xml)
{
    login_log *l = ud;
    sink(&l->out, xml);
    if (strstr(xml, "xmlns='" NS "'") && strstr(xml, "type='get'"))
        snprintf(l->get_id, sizeof l->get_id, "%s", l->out.id);
    size_t n = strlen(l->order);
    snprintf(l->order + n, sizeof l->order - n, "%.60s|", l->out.last);
}

static void test_load_at_login(void)
{
    login_log l = {0};
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, OWN, "pw"), 0);
    xmppc_roster *r = xmppc_roster_get(c); /* before connecting */
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_AWAY, NULL, 0),
              XMPPC_ESTATE); /* kept for the login */
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN_FULL, login_sink, &l), 0);
    /* RFC 6121 §2.2: the roster first, then initial presence. */
    XT_EQ_STR(l.order, "<iq type='get' id='*'><query xmlns='" NS "'/></iq>"
                       "|<presence><show>away</show></presence>|");
    char buf[512];
    snprintf(buf, sizeof buf,
             "<iq type='result' id='%s'><query xmlns='" NS "'>"
             "<item jid='romeo@example.net' subscription='both'/>"
             "</query></iq>",
             l.get_id);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
    XT_EQ_INT(xmppc_roster_is_loaded(r), 1);
    XT_EQ_INT(xmppc_roster_count(r), 1);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='romeo@example.net/orchard'/>"),
              0);
    XT_EQ_INT(xmppc_presence_count(c, "romeo@example.net"), 1);

    /* The connection drops: presence from that session is forgotten, the
     * roster kept; the next login fetches and announces again. */
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(xmppc_presence_count(c, "romeo@example.net"), 0);
    XT_EQ_INT(xmppc_roster_count(r), 1);
    l.order[0] = '\0';
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN_FULL, login_sink, &l), 0);
    XT_EQ_STR(l.order, "<iq type='get' id='*'><query xmlns='" NS "'/></iq>"
                       "|<presence><show>away</show></presence>|");

    /* Withdrawn presence is not announced; a disabled fetch not made. */
    XT_EQ_INT(xmppc_presence_send_unavailable(c, NULL), 0);
    xmppc__conn_test_disconnect(c);
    l.order[0] = '\0';
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN_FULL, login_sink, &l), 0);
    XT_EQ_STR(l.order, "<iq type='get' id='*'><query xmlns='" NS "'/></iq>|");
    XT_EQ_INT(xmppc_roster_set_load_at_login(r, 0), 0);
    XT_EQ_INT(xmppc_roster_set_load_at_login(NULL, 0), XMPPC_EINVAL);
    xmppc__conn_test_disconnect(c);
    l.order[0] = '\0';
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN_FULL, login_sink, &l), 0);
    XT_EQ_STR(l.order, "");
    done(c);
}

XT_MAIN(XT_TEST(test_fetch), XT_TEST(test_load_at_login),
        XT_TEST(test_pushes_from_own_account), XT_TEST(test_spoofed_pushes),
        XT_TEST(test_editing), XT_TEST(test_subscriptions),
        XT_TEST(test_presence_of_contacts), XT_TEST(test_versioned_fetch),
        XT_TEST(test_file_store))
