/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Entity Time (XEP-0202) over the test transport: the responder's exact
 * answer with an injected clock and with the system clock, XEP-0082
 * parsing, queries and their outcomes (malformed replies are EPROTO),
 * timeouts and disconnects.
 */
#include <time.h>

#include "../transcript.h"
#include "conn-private.h"

/* Internal hooks of lib/entitytime.c. */
typedef int (*xmppc__entitytime_clock)(long long *utc_out, int *tzo_min_out,
                                       void *userdata);
void xmppc__entitytime_set_clock(xmppc_entitytime *et,
                                 xmppc__entitytime_clock clock, void *userdata);
int xmppc__entitytime_parse_utc(const char *s, long long *out);

typedef struct fake_clock {
    long long utc;
    int tzo;
    int fail;
} fake_clock;

static int fake(long long *utc, int *tzo, void *ud)
{
    fake_clock *f = ud;
    if (f->fail)
        return XMPPC_ERROR;
    *utc = f->utc;
    *tzo = f->tzo;
    return 0;
}

static const char query_iq[] =
    "<iq type='get' id='t1' from='romeo@example.net/orchard'><time "
    "xmlns='urn:xmpp:time'/></iq>";

static void test_responder_fake_clock(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_CHECK(strstr(out.last, "service-unavailable") != NULL);

    xmppc_entitytime *et = xmppc_entitytime_get(c);
    XT_CHECK(et != NULL && xmppc_entitytime_get(c) == et);
    XT_CHECK(xmppc_entitytime_get_conn(et) == c);
    fake_clock f = {1166551115, -360, 0}; /* XEP-0202's example */
    xmppc__entitytime_set_clock(et, fake, &f);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_EQ_STR(out.last,
              "<iq to='romeo@example.net/orchard' id='t1' type='result'><time "
              "xmlns='urn:xmpp:time'><tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z"
              "</utc></time></iq>");
    f = (fake_clock){0, 0, 0};
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_CHECK(strstr(out.last, "<tzo>+00:00</tzo><utc>1970-01-01T00:00:00Z"
                              "</utc>") != NULL);
    f = (fake_clock){951825600, 5 * 60 + 45, 0};
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_CHECK(strstr(out.last, "<tzo>+05:45</tzo><utc>2000-02-29T12:00:00Z"
                              "</utc>") != NULL);
    /* A clock that fails: an error reply, never silence. */
    f.fail = 1;
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    XT_CHECK(strstr(out.last, "type='error'") &&
             strstr(out.last, "internal-server-error"));
    XT_CHECK(xmppc_entitytime_get(NULL) == NULL);
    finish(c);
}

static void test_responder_system_clock(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    (void)xmppc_entitytime_get(c);
    time_t before = time(NULL);
    XT_EQ_INT(xmppc__conn_test_inject(c, query_iq), 0);
    time_t after = time(NULL);
    const char *utc = strstr(out.last, "<utc>");
    const char *tzo = strstr(out.last, "<tzo>");
    XT_CHECK(utc && tzo);
    if (!utc || !tzo) {
        finish(c);
        return;
    }
    char text[32];
    snprintf(text, sizeof text, "%.20s", utc + 5);
    long long secs = 0;
    XT_EQ_INT(xmppc__entitytime_parse_utc(text, &secs), 0);
    XT_CHECK(secs >= (long long)before && secs <= (long long)after);
    XT_CHECK((tzo[5] == '+' || tzo[5] == '-') && tzo[8] == ':' &&
             strncmp(tzo + 11, "</tzo>", 6) == 0);
    finish(c);
}

static void test_parse_utc(void)
{
    static const struct {
        const char *text;
        long long secs;
    } good[] = {
        {"1970-01-01T00:00:00Z", 0},
        {"2006-12-19T17:58:35Z", 1166551115},
        {"2006-12-19T11:58:35-06:00", 1166551115},
        {"2006-12-19T23:28:35+05:30", 1166551115},
        {"2006-12-19T17:58:35.123456Z", 1166551115},
        {"2000-02-29T12:00:00Z", 951825600},
        {"0000-01-01T00:00:00Z", -62167219200LL},
        {"9999-12-31T23:59:59Z", 253402300799LL},
        {"1969-12-31T23:59:59Z", -1},
        {"2016-12-31T23:59:60Z", 1483228799}, /* a leap second */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        long long secs = 42;
        XT_EQ_INT(xmppc__entitytime_parse_utc(good[i].text, &secs), 0);
        XT_EQ_INT(secs, good[i].secs);
    }
    static const char *const bad[] = {
        "",
        "2006-12-19",
        "2006-12-19T17:58:35",
        "2006-12-19 17:58:35Z",
        "2006-12-19T17:58Z",
        "2006-12-19T17:58:35.Z",
        "2006-12-19T17:58:35Zjunk",
        "2006-12-19T17:58:35+0600",
        "2006-12-19T17:58:35+24:00",
        "2006-13-01T00:00:00Z",
        "2006-00-01T00:00:00Z",
        "2001-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2006-12-32T00:00:00Z",
        "2006-12-19T24:00:00Z",
        "2006-12-19T17:60:00Z",
        "2006-12-19T17:58:61Z",
        "+2006-12-19T17:58:35Z",
        "06-12-19T17:58:35Z",
        "2006-1a-19T17:58:35Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long secs = 42;
        int rc = xmppc__entitytime_parse_utc(bad[i], &secs);
        if (rc != XMPPC_EPROTO)
            printf("#   accepted '%s'\n", bad[i]);
        XT_EQ_INT(rc, XMPPC_EPROTO);
        XT_EQ_INT(secs, 42);
    }
    long long secs = 0;
    XT_EQ_INT(xmppc__entitytime_parse_utc(NULL, &secs), XMPPC_EPROTO);
}

typedef struct outcome {
    int calls, destroyed, code;
    long long secs;
    char tzo[16], condition[64];
} outcome;

static void on_time(xmppc_conn *c, long long secs, const char *tzo,
                    const xmppc_error *err, void *ud)
{
    (void)c;
    outcome *o = ud;
    o->calls++;
    o->code = err ? err->code : 0;
    o->secs = secs;
    snprintf(o->tzo, sizeof o->tzo, "%s", tzo ? tzo : "(null)");
    snprintf(o->condition, sizeof o->condition, "%s",
             err && err->condition ? err->condition : "(null)");
}

static void on_destroy(void *ud)
{
    ((outcome *)ud)->destroyed++;
}

#define FROM_ROMEO "from='romeo@example.net/orchard'"

static outcome query(xmppc_conn *c, sent *out, const char *reply_fmt)
{
    outcome o = {0};
    xmppc_entitytime *et = xmppc_entitytime_get(c);
    XT_EQ_INT(xmppc_entitytime_get_remote(et, "romeo@example.net/orchard", 5000,
                                          on_time, &o, on_destroy),
              0);
    char expect[256], reply[1024];
    snprintf(expect, sizeof expect,
             "<iq type='get' to='romeo@example.net/orchard' id='%s'><time "
             "xmlns='urn:xmpp:time'/></iq>",
             last_id(out));
    XT_EQ_STR(out->last, expect);
    subst(reply, sizeof reply, reply_fmt, last_id(out));
    XT_EQ_INT(xmppc__conn_test_inject(c, reply), 0);
    XT_EQ_INT(o.calls, 1);
    XT_EQ_INT(o.destroyed, 1);
    return o;
}

#define RESULT(body)                                                           \
    "<iq type='result' id='%s' " FROM_ROMEO                                    \
    "><time xmlns='urn:xmpp:time'>" body "</time></iq>"

static void test_query(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    outcome o = query(
        c, &out, RESULT("<tzo>-06:00</tzo><utc>2006-12-19T17:58:35Z</utc>"));
    XT_EQ_INT(o.code, 0);
    XT_EQ_INT(o.secs, 1166551115);
    XT_EQ_STR(o.tzo, "-06:00");
    o = query(c, &out, RESULT("<utc>2006-12-19T17:58:35.5Z</utc><tzo>Z</tzo>"));
    XT_EQ_INT(o.code, 0);
    XT_EQ_INT(o.secs, 1166551115);
    XT_EQ_STR(o.tzo, "+00:00");

    o = query(c, &out,
              "<iq type='error' id='%s' " FROM_ROMEO "><error "
              "type='cancel'><feature-not-implemented "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    XT_EQ_INT(o.code, XMPPC_ESTANZA);
    XT_EQ_STR(o.condition, "feature-not-implemented");
    XT_EQ_STR(o.tzo, "(null)");

    static const char *const malformed[] = {
        "<iq type='result' id='%s' " FROM_ROMEO "/>",
        RESULT("<tzo>-06:00</tzo>"),
        RESULT("<utc>2006-12-19T17:58:35Z</utc>"),
        RESULT("<tzo>-06:00</tzo><utc>yesterday</utc>"),
        RESULT("<tzo>-06:00</tzo><utc>2006-12-19T17:58:35</utc>"),
        RESULT("<tzo>-6</tzo><utc>2006-12-19T17:58:35Z</utc>"),
        RESULT("<tzo>CET</tzo><utc>2006-12-19T17:58:35Z</utc>"),
        "<iq type='result' id='%s' " FROM_ROMEO "><time xmlns='urn:xmpp:x'>"
        "<tzo>Z</tzo><utc>2006-12-19T17:58:35Z</utc></time></iq>",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        o = query(c, &out, malformed[i]);
        XT_EQ_INT(o.code, XMPPC_EPROTO);
        XT_EQ_INT(o.secs, 0);
        XT_EQ_STR(o.tzo, "(null)");
    }
    finish(c);
}

static void test_query_timeout_disconnect(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_entitytime *et = xmppc_entitytime_get(c);
    outcome o = {0}, o2 = {0};
    XT_EQ_INT(
        xmppc_entitytime_get_remote(et, NULL, 20, on_time, &o, on_destroy), 0);
    char expect[256];
    snprintf(expect, sizeof expect,
             "<iq type='get' to='example.com' id='%s'><time "
             "xmlns='urn:xmpp:time'/></iq>",
             last_id(&out));
    XT_EQ_STR(out.last, expect);
    XT_EQ_INT(
        xmppc_entitytime_get_remote(et, NULL, 60000, on_time, &o2, on_destroy),
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
    outcome o3 = {0};
    XT_EQ_INT(
        xmppc_entitytime_get_remote(et, NULL, 0, on_time, &o3, on_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(
        xmppc_entitytime_get_remote(et, "a@@b", 0, on_time, &o3, on_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(xmppc_entitytime_get_remote(et, NULL, 0, NULL, &o3, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(o3.calls + o3.destroyed, 0);
    xmppc_conn_unref(c);
    XT_EQ_INT(o2.calls, 1);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_responder_fake_clock),
        XT_TEST(test_responder_system_clock), XT_TEST(test_parse_utc),
        XT_TEST(test_query), XT_TEST(test_query_timeout_disconnect))
