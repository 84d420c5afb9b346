/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Presence transcripts over the test transport: own and directed
 * presence, tracking per resource, best presence, listeners.
 */
#include "../xtest.h"
#include "conn-private.h"

typedef struct sent {
    int count;
    char last[4096];
} sent;

static void sink(void *ud, const char *xml)
{
    sent *s = ud;
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", xml);
}

static xmppc_conn *ready(sent *out)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "juliet@example.com", "pw"), 0);
    XT_EQ_INT(
        xmppc__conn_test_ready(c, "juliet@example.com/balcony", sink, out), 0);
    return c;
}

static void done(xmppc_conn *c)
{
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

static void test_own_presence(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_AWAY, "at <lunch>", 5),
              0);
    XT_EQ_STR(out.last, "<presence><show>away</show><status>at "
                        "&lt;lunch&gt;</status><priority>5</priority>"
                        "</presence>");
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_AVAILABLE, NULL, 0), 0);
    XT_EQ_STR(out.last, "<presence/>");
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_DND, NULL, -1), 0);
    XT_EQ_INT(xmppc_presence_resend_own(c), 0);
    XT_EQ_STR(out.last,
              "<presence><show>dnd</show><priority>-1</priority></presence>");
    XT_EQ_INT(out.count, 4);
    XT_EQ_INT(xmppc_presence_send_to(c, "room@muc.example.com/nick",
                                     XMPPC_PRESENCE_CHAT, "hi", 0),
              0);
    XT_EQ_STR(out.last, "<presence to='room@muc.example.com/nick'><show>chat"
                        "</show><status>hi</status></presence>");
    XT_EQ_INT(xmppc_presence_send_to(c, "romeo@example.net",
                                     XMPPC_PRESENCE_UNAVAILABLE, NULL, 0),
              0);
    XT_EQ_STR(out.last,
              "<presence type='unavailable' to='romeo@example.net'/>");
    XT_EQ_INT(xmppc_presence_send_unavailable(c, "bye"), 0);
    XT_EQ_STR(out.last,
              "<presence type='unavailable'><status>bye</status></presence>");
    /* Invalid input: nothing sent. */
    int n = out.count;
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_UNAVAILABLE, NULL, 0),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_AWAY, NULL, 200),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_presence_send_to(c, "@bad", XMPPC_PRESENCE_AWAY, NULL, 0),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_presence_set_own(NULL, XMPPC_PRESENCE_AWAY, NULL, 0),
              XMPPC_EINVAL);
    XT_EQ_INT(out.count, n);
    XT_EQ_STR(xmppc_presence_show_name(XMPPC_PRESENCE_XA), "xa");
    XT_CHECK(xmppc_presence_show_name((xmppc_presence_show)9) == NULL);
    done(c);
}

typedef struct changes {
    int count;
    char from[256];
    xmppc_presence_show show;
    char status[64];
    int destroyed;
} changes;

static void on_change(xmppc_conn *c, const char *from,
                      const xmppc_presence_info *info, void *ud)
{
    (void)c;
    changes *ch = ud;
    ch->count++;
    snprintf(ch->from, sizeof ch->from, "%s", from);
    ch->show = xmppc_presence_info_show(info);
    const char *st = xmppc_presence_info_status(info);
    snprintf(ch->status, sizeof ch->status, "%s", st ? st : "");
}

static void on_destroy(void *ud)
{
    ((changes *)ud)->destroyed++;
}

#define ROMEO "romeo@example.net"

static void test_tracking_and_best(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    changes ch = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(xmppc_presence_on_change(c, &h, on_change, &ch, on_destroy), 0);
    XT_CHECK(xmppc_presence_get(c, ROMEO) == NULL);

    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/a'><show>away</show>"
                               "<priority>1</priority></presence>");
    XT_EQ_INT(ch.count, 1);
    XT_EQ_STR(ch.from, ROMEO "/a");
    XT_EQ_INT(ch.show, XMPPC_PRESENCE_AWAY);
    xmppc__conn_test_inject(c, "<presence from='Romeo@Example.NET/b'><status>"
                               "here</status><priority>1</priority>"
                               "</presence>");
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/c'><show>chat</show>"
                               "<priority>0</priority></presence>");
    XT_EQ_INT(xmppc_presence_count(c, ROMEO), 3);
    XT_EQ_INT(xmppc_presence_count(c, ROMEO "/x"), 3);
    /* Highest priority 1: a (away) and b (available): b wins on show. */
    const xmppc_presence_info *best = xmppc_presence_get(c, ROMEO);
    XT_EQ_STR(xmppc_presence_info_jid(best), ROMEO "/b");
    XT_EQ_STR(xmppc_presence_info_status(best), "here");
    XT_EQ_INT(xmppc_presence_info_priority(best), 1);
    XT_CHECK(xmppc_presence_info_time(best) > 0);
    /* Equal priority and show: the most recent wins. */
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/a'><priority>1"
                               "</priority></presence>");
    XT_EQ_STR(xmppc_presence_info_jid(xmppc_presence_get(c, ROMEO)),
              ROMEO "/a");
    XT_EQ_INT(xmppc_presence_count(c, ROMEO), 3);
    /* Higher priority beats everything. */
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/c'><show>dnd</show>"
                               "<priority>9</priority></presence>");
    best = xmppc_presence_get(c, ROMEO);
    XT_EQ_STR(xmppc_presence_info_jid(best), ROMEO "/c");
    XT_EQ_INT(xmppc_presence_info_show(best), XMPPC_PRESENCE_DND);
    /* A full JID gets that resource; iteration in arrival order. */
    XT_EQ_INT(xmppc_presence_info_show(xmppc_presence_get(c, ROMEO "/b")),
              XMPPC_PRESENCE_AVAILABLE);
    XT_EQ_STR(xmppc_presence_info_jid(xmppc_presence_at(c, ROMEO, 0)),
              ROMEO "/a");
    XT_EQ_STR(xmppc_presence_info_jid(xmppc_presence_at(c, ROMEO, 2)),
              ROMEO "/c");
    XT_CHECK(xmppc_presence_at(c, ROMEO, 3) == NULL);

    /* Unavailable removes a resource, with the listener told. */
    xmppc__conn_test_inject(c,
                            "<presence from='" ROMEO "/c' type='unavailable'>"
                            "<status>gone</status></presence>");
    XT_EQ_INT(ch.show, XMPPC_PRESENCE_UNAVAILABLE);
    XT_EQ_STR(ch.status, "gone");
    XT_EQ_INT(xmppc_presence_count(c, ROMEO), 2);
    XT_CHECK(xmppc_presence_get(c, ROMEO "/c") == NULL);
    XT_EQ_STR(xmppc_presence_info_jid(xmppc_presence_get(c, ROMEO)),
              ROMEO "/a");

    /* Subscription types and probes are not tracked, nor reported. */
    int n = ch.count;
    xmppc__conn_test_inject(c, "<presence from='nurse@example.com' "
                               "type='subscribe'/>");
    xmppc__conn_test_inject(c, "<presence from='nurse@example.com' "
                               "type='subscribed'/>");
    XT_EQ_INT(ch.count, n);
    XT_EQ_INT(xmppc_presence_count(c, "nurse@example.com"), 0);

    /* Error presence from the bare JID removes every resource. */
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "' type='error'><error "
                               "type='cancel'><remote-server-not-found "
                               "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                               "</error></presence>");
    XT_EQ_INT(ch.count, n + 1);
    XT_EQ_INT(ch.show, XMPPC_PRESENCE_UNAVAILABLE);
    XT_EQ_INT(xmppc_presence_count(c, ROMEO), 0);
    XT_CHECK(xmppc_presence_get(c, ROMEO) == NULL);

    /* clear() forgets everything; removing the listener runs destroy. */
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/z'/>");
    XT_EQ_INT(xmppc_presence_count(c, ROMEO), 1);
    xmppc_presence_clear(c);
    XT_EQ_INT(xmppc_presence_count(c, ROMEO), 0);
    xmppc_handler_free(h);
    XT_EQ_INT(ch.destroyed, 1);
    n = ch.count;
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/z'/>");
    XT_EQ_INT(ch.count, n);
    XT_EQ_INT(out.count, 0); /* nothing was ever answered */
    /* Invalid priority and unknown show: 0 and available. */
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/q'><show>busy</show>"
                               "<priority>500</priority></presence>");
    XT_EQ_INT(xmppc_presence_info_priority(xmppc_presence_get(c, ROMEO "/q")),
              0);
    XT_EQ_INT(xmppc_presence_info_show(xmppc_presence_get(c, ROMEO "/q")),
              XMPPC_PRESENCE_AVAILABLE);
    done(c);
}

static void test_destroy_with_connection(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    changes ch = {0};
    XT_EQ_INT(xmppc_presence_on_change(c, NULL, on_change, &ch, on_destroy), 0);
    XT_EQ_INT(xmppc_presence_on_change(c, NULL, NULL, &ch, on_destroy),
              XMPPC_EINVAL);
    xmppc__conn_test_inject(c, "<presence from='" ROMEO "/z'/>");
    done(c);
    XT_EQ_INT(ch.destroyed, 1);
}

XT_MAIN(XT_TEST(test_own_presence), XT_TEST(test_tracking_and_best),
        XT_TEST(test_destroy_with_connection))
