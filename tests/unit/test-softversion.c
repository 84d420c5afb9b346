/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Software Version (XEP-0092) over the test transport: the responder's
 * exact answers (defaults, configured, no OS unless set), queries and
 * their outcomes, malformed replies, timeouts and disconnects.
 */
#include <time.h>

#include "../transcript.h"
#include "conn-private.h"

static const char query_iq[] =
    "<iq type='get' id='v1' from='romeo@example.net/orchard'><query "
    "xmlns='jabber:iq:version'/></iq>";

static void test_responder(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_CHECK(strstr(out.last, "service-unavailable") != NULL);

    xmppc_softversion *sv = xmppc_softversion_get(c);
    XT_CHECK(sv != NULL);
    XT_CHECK(xmppc_softversion_get(c) == sv);
    XT_CHECK(xmppc_softversion_get_conn(sv) == c);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    char expect[512];
    snprintf(expect, sizeof expect,
             "<iq to='romeo@example.net/orchard' id='v1' type='result'><query "
             "xmlns='jabber:iq:version'><name>libxmppc</name><version>%s"
             "</version></query></iq>",
             xmppc_version());
    XT_EQ_STR(out.last, expect);

    XT_EQ_INT(xmppc_softversion_set(sv, "Balcony & Co", "2.0", "Linux"), 0);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_EQ_STR(out.last,
              "<iq to='romeo@example.net/orchard' id='v1' type='result'><query "
              "xmlns='jabber:iq:version'><name>Balcony &amp; Co</name>"
              "<version>2.0</version><os>Linux</os></query></iq>");

    /* Defaults back; the OS is omitted again. */
    XT_EQ_INT(xmppc_softversion_set(sv, NULL, NULL, NULL), 0);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_EQ_STR(out.last, expect);

    /* Bad input leaves the configuration alone. */
    XT_EQ_INT(xmppc_softversion_set(NULL, "a", "b", NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_softversion_set(sv, "", "1", NULL), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "name") != NULL);
    XT_EQ_INT(xmppc_softversion_set(sv, "a", "1", "bad\x01os"), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "os") != NULL);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_EQ_STR(out.last, expect);
    XT_CHECK(xmppc_softversion_get(NULL) == NULL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_EINVAL);
    finish(c);
}

typedef struct outcome {
    int calls, destroyed, code;
    char name[64], version[64], os[64], condition[64];
} outcome;

static void copy(char *dst, const char *s)
{
    snprintf(dst, 64, "%s", s ? s : "(null)");
}

static void on_version(xmppc_conn *c, const char *name, const char *version,
                       const char *os, const xmppc_error *err, void *ud)
{
    (void)c;
    outcome *o = ud;
    o->calls++;
    o->code = err ? err->code : 0;
    copy(o->name, name);
    copy(o->version, version);
    copy(o->os, os);
    copy(o->condition, err ? err->condition : NULL);
}

static void on_destroy(void *ud)
{
    ((outcome *)ud)->destroyed++;
}

/* Sends a query to romeo and injects @p reply_fmt (with %s for the id). */
static outcome query(xmppc_conn *c, sent *out, const char *reply_fmt)
{
    outcome o = {0};
    xmppc_softversion *sv = xmppc_softversion_get(c);
    XT_EQ_INT(xmppc_softversion_get_remote(sv, "romeo@example.net/orchard",
                                           5000, on_version, &o, on_destroy),
              0);
    char expect[256], reply[1024];
    snprintf(expect, sizeof expect,
             "<iq type='get' to='romeo@example.net/orchard' id='%s'><query "
             "xmlns='jabber:iq:version'/></iq>",
             last_id(out));
    XT_EQ_STR(out->last, expect);
    subst(reply, sizeof reply, reply_fmt, last_id(out));
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.destroyed, 1);
    return o;
}

#define FROM_ROMEO "from='romeo@example.net/orchard'"

static void test_query(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    outcome o =
        query(c, &out,
              "<iq type='result' id='%s' " FROM_ROMEO "><query "
              "xmlns='jabber:iq:version'><name>Exodus</name><version>0.7.0.4"
              "</version><os>Windows-XP 5.01.2600</os></query></iq>");
    XT_EQ_INT(o.code, 0);
    XT_EQ_STR(o.name, "Exodus");
    XT_EQ_STR(o.version, "0.7.0.4");
    XT_EQ_STR(o.os, "Windows-XP 5.01.2600");

    o = query(c, &out,
              "<iq type='result' id='%s' " FROM_ROMEO "><query "
              "xmlns='jabber:iq:version'><name>Psi</name></query></iq>");
    XT_EQ_INT(o.code, 0);
    XT_EQ_STR(o.name, "Psi");
    XT_EQ_STR(o.version, "(null)");
    XT_EQ_STR(o.os, "(null)");

    o = query(c, &out,
              "<iq type='error' id='%s' " FROM_ROMEO "><error "
              "type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    XT_EQ_INT(o.code, XMPPC_ESTANZA);
    XT_EQ_STR(o.condition, "service-unavailable");
    XT_EQ_STR(o.name, "(null)");

    /* Malformed results. */
    o = query(c, &out, "<iq type='result' id='%s' " FROM_ROMEO "/>");
    XT_EQ_INT(o.code, XMPPC_EPROTO);
    o = query(c, &out,
              "<iq type='result' id='%s' " FROM_ROMEO "><query "
              "xmlns='jabber:iq:version'><version>1</version></query></iq>");
    XT_EQ_INT(o.code, XMPPC_EPROTO);
    XT_EQ_STR(o.name, "(null)");
    o = query(c, &out,
              "<iq type='result' id='%s' " FROM_ROMEO "><query "
              "xmlns='jabber:iq:other'><name>x</name></query></iq>");
    XT_EQ_INT(o.code, XMPPC_EPROTO);
    finish(c);
}

static void test_query_server_timeout_disconnect(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_softversion *sv = xmppc_softversion_get(c);
    outcome o = {0}, o2 = {0};
    XT_EQ_INT(
        xmppc_softversion_get_remote(sv, NULL, 20, on_version, &o, on_destroy),
        0);
    char expect[256];
    snprintf(expect, sizeof expect,
             "<iq type='get' to='example.com' id='%s'><query "
             "xmlns='jabber:iq:version'/></iq>",
             last_id(&out));
    XT_EQ_STR(out.last, expect);
    XT_EQ_INT(xmppc_softversion_get_remote(sv, "example.com", 60000, on_version,
                                           &o2, on_destroy),
              0);
    struct timespec ts = {0, 40 * 1000000L};
    nanosleep(&ts, NULL);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(o.destroyed, 1);
    XT_EQ_INT(o2.calls, 0);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(o2.calls, 1);
    XT_EQ_INT(o2.code, XMPPC_ECANCELED);
    XT_EQ_INT(o2.destroyed, 1);
    XT_EQ_INT(o.calls, 1);
    outcome o3 = {0};
    XT_EQ_INT(
        xmppc_softversion_get_remote(sv, NULL, 0, on_version, &o3, on_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(xmppc_softversion_get_remote(sv, NULL, 0, NULL, &o3, on_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_softversion_get_remote(NULL, NULL, 0, on_version, &o3,
                                           on_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(o3.calls + o3.destroyed, 0);
    xmppc_conn_unref(c);
    XT_EQ_INT(o2.calls, 1);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_responder), XT_TEST(test_query),
        XT_TEST(test_query_server_timeout_disconnect))
