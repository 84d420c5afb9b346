/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Disco (XEP-0030/0128) and caps (XEP-0115) transcripts over the test
 * transport, and the XEP-0115 test vectors.
 */
#include <time.h>

#include "../xtest.h"
#include "conn-private.h"
#include "xmppc/presence.h"

typedef struct sent {
    int count;
    char last[8192];
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

/* The id of the last stanza sent. */
static const char *last_id(const sent *out)
{
    static char id[64];
    const char *p = strstr(out->last, "id='");
    id[0] = '\0';
    if (p)
        sscanf(p + 4, "%63[^']", id);
    return id;
}

/* Injects @p tmpl with its "%s" replaced by @p id. */
static int inject(xmppc_conn *c, const char *tmpl, const char *id)
{
    char buf[8192];
    const char *p = strstr(tmpl, "%s");
    if (!p)
        return xmppc__conn_test_inject(c, tmpl);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - tmpl), tmpl, id, p + 2);
    return xmppc__conn_test_inject(c, buf);
}

static int catch_stanza(xmppc_conn *c, xmppc_stanza *s, void *ud)
{
    (void)c;
    *(xmppc_stanza **)ud = xmppc_stanza_ref(s);
    return XMPPC_HANDLED;
}

/* Parses one element with the library's reader (inside a message). */
static xmppc_stanza *parse_xml(const char *xml)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_stanza *msg = NULL, *copy = NULL;
    char buf[8192];
    snprintf(buf, sizeof buf, "<message from='a@b'>%s</message>", xml);
    xmppc_conn_add_handler(c, NULL, "message", NULL, NULL, catch_stanza, &msg,
                           NULL);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
    if (msg)
        xmppc_stanza_copy(&copy, xmppc_stanza_child_at(msg, 0));
    xmppc_stanza_unref(msg);
    done(c);
    XT_CHECK(copy != NULL);
    return copy;
}

/* ---- XEP-0115 test vectors ------------------------------------------------
 */

static const char *simple_query =
    "<query xmlns='http://jabber.org/protocol/disco#info' "
    "node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>"
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/></query>";

static const char *complex_query =
    "<query xmlns='http://jabber.org/protocol/disco#info' "
    "node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>"
    "<identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>"
    "<identity xml:lang='el' category='client' name='\xce\xa8 0.11' "
    "type='pc'/>"
    "<feature var='http://jabber.org/protocol/caps'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<feature var='http://jabber.org/protocol/disco#items'/>"
    "<feature var='http://jabber.org/protocol/muc'/>"
    "<x xmlns='jabber:x:data' type='result'>"
    "<field var='FORM_TYPE' type='hidden'>"
    "<value>urn:xmpp:dataforms:softwareinfo</value></field>"
    "<field var='ip_version'><value>ipv4</value><value>ipv6</value></field>"
    "<field var='os'><value>Mac</value></field>"
    "<field var='os_version'><value>10.5.1</value></field>"
    "<field var='software'><value>Psi</value></field>"
    "<field var='software_version'><value>0.11</value></field>"
    "</x></query>";

static void check_vector(const char *xml, const char *expected)
{
    xmppc_stanza *q = parse_xml(xml);
    xmppc_disco_info *info = NULL;
    XT_EQ_INT(xmppc_disco_info_parse(&info, q), 0);
    char *ver = NULL;
    XT_EQ_INT(xmppc_caps_compute_ver(&ver, info), 0);
    XT_EQ_STR(ver, expected);
    xmppc_free(ver);
    xmppc_disco_info_unref(info);
    xmppc_stanza_unref(q);
}

static void test_caps_vectors(void)
{
    check_vector(simple_query, "QgayPKawpkPSDYmwT/WM94uAlu0=");
    check_vector(complex_query, "q07IKJEyjvHSyhy//CH0CxmKi8w=");
}

/* Our own ver follows §5.2 when configured like Exodus, and the complex
 * one with the software form (built with forms.h). */
static void test_own_caps(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_disco *d = xmppc_disco_get(c);
    XT_CHECK(d && xmppc_disco_get(c) == d);
    const char *v0 = xmppc_caps_get_ver(d);
    XT_CHECK(v0 && strlen(v0) == 28);
    XT_EQ_INT(xmppc_disco_remove_identity(d, "client", "pc"), 1);
    XT_EQ_INT(xmppc_disco_add_identity(d, "client", "pc", "Exodus 0.9.1", NULL),
              0);
    XT_EQ_INT(xmppc_disco_add_feature(d, "http://jabber.org/protocol/muc"), 0);
    XT_EQ_INT(xmppc_disco_add_feature(d, "http://jabber.org/protocol/caps"), 0);
    XT_EQ_INT(xmppc_disco_add_feature(d, "http://jabber.org/protocol/muc"), 0);
    XT_EQ_STR(xmppc_caps_get_ver(d), "QgayPKawpkPSDYmwT/WM94uAlu0=");

    XT_EQ_INT(xmppc_disco_remove_identity(d, "client", "pc"), 1);
    XT_EQ_INT(
        xmppc_disco_add_identity(d, "client", "pc", "\xce\xa8 0.11", "el"), 0);
    XT_EQ_INT(xmppc_disco_add_identity(d, "client", "pc", "Psi 0.11", "en"), 0);
    xmppc_form *f = NULL;
    XT_EQ_INT(xmppc_form_new(&f, XMPPC_FORM_RESULT), 0);
    XT_EQ_INT(xmppc_form_set_form_type(f, "urn:xmpp:dataforms:softwareinfo"),
              0);
    const char *vars[][2] = {{"software_version", "0.11"},
                             {"software", "Psi"},
                             {"os", "Mac"},
                             {"os_version", "10.5.1"}};
    for (int i = 0; i < 4; i++) {
        int k =
            xmppc_form_add_field(f, vars[i][0], XMPPC_FIELD_UNSPECIFIED, NULL);
        XT_CHECK(k >= 0);
        xmppc_form_field_add_value(xmppc_form_field_at(f, (size_t)k),
                                   vars[i][1]);
    }
    int k = xmppc_form_add_field(f, "ip_version", XMPPC_FIELD_TEXT_MULTI, NULL);
    xmppc_form_field_add_value(xmppc_form_field_at(f, (size_t)k), "ipv6");
    xmppc_form_field_add_value(xmppc_form_field_at(f, (size_t)k), "ipv4");
    XT_EQ_INT(xmppc_disco_add_form(d, f), 0);
    xmppc_form_unref(f);
    XT_EQ_STR(xmppc_caps_get_ver(d), "q07IKJEyjvHSyhy//CH0CxmKi8w=");

    /* Attached to presence (replacing an old <c/>). */
    xmppc_stanza *p = NULL;
    XT_EQ_INT(xmppc_presence_new(&p, NULL, NULL), 0);
    XT_EQ_INT(xmppc_caps_attach(d, p), 0);
    XT_EQ_INT(xmppc_caps_set_node(d, "urn:test"), 0);
    XT_EQ_INT(xmppc_caps_attach(d, p), 0);
    char *xml = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, p), 0);
    XT_EQ_STR(xml, "<presence><c xmlns='http://jabber.org/protocol/caps' "
                   "hash='sha-1' node='urn:test' "
                   "ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/></presence>");
    xmppc_free(xml);
    xmppc_stanza_unref(p);
    XT_EQ_INT(xmppc_caps_attach(d, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_disco_add_feature(d, NULL), XMPPC_EINVAL);
    XT_CHECK(xmppc_disco_get(NULL) == NULL);

    /* A feature change changes ver. */
    XT_EQ_INT(xmppc_disco_remove_feature(d, "http://jabber.org/protocol/muc"),
              1);
    XT_CHECK(strcmp(xmppc_caps_get_ver(d), "q07IKJEyjvHSyhy//CH0CxmKi8w=") !=
             0);
    XT_EQ_INT(xmppc_disco_remove_form(d, "urn:xmpp:dataforms:softwareinfo"), 1);
    done(c);
}

/* ---- automatic answers ----------------------------------------------------
 */

static void test_answers(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_disco *d = xmppc_disco_get(c);
    XT_EQ_INT(xmppc_disco_add_feature(d, "urn:xmpp:ping"), 0);
    xmppc_form *f = NULL;
    xmppc_form_new(&f, XMPPC_FORM_RESULT);
    xmppc_form_set_form_type(f, "urn:x");
    XT_EQ_INT(xmppc_disco_add_form(d, f), 0);
    xmppc_form_unref(f);

    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='get' id='i1' from='romeo@example.net/o'>"
                     "<query xmlns='http://jabber.org/protocol/disco#info'/>"
                     "</iq>"),
              0);
    XT_EQ_INT(out.count, 1);
    XT_CHECK(strstr(out.last, "type='result'") && strstr(out.last, "id='i1'"));
    XT_CHECK(strstr(out.last, "<identity category='client' type='pc' "
                              "name='libxmppc'/>"));
    XT_CHECK(strstr(out.last, "<feature var='urn:xmpp:ping'/>"));
    XT_CHECK(strstr(out.last, "<feature var='http://jabber.org/protocol/"
                              "disco#info'/>"));
    XT_CHECK(strstr(out.last, "<value>urn:x</value>"));

    /* node#ver answers too, echoing the node. */
    char buf[512];
    snprintf(buf, sizeof buf,
             "<iq type='get' id='i2' from='romeo@example.net/o'><query "
             "xmlns='http://jabber.org/protocol/disco#info' node='%s#%s'/>"
             "</iq>",
             xmppc_caps_get_node(d), xmppc_caps_get_ver(d));
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
    XT_EQ_INT(out.count, 2);
    XT_CHECK(strstr(out.last, "type='result'") && strstr(out.last, "node='") &&
             strstr(out.last, "urn:xmpp:ping"));

    /* Another node: item-not-found. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='get' id='i3' from='romeo@example.net/o'>"
                     "<query xmlns='http://jabber.org/protocol/disco#info' "
                     "node='urn:nope'/></iq>"),
              0);
    XT_CHECK(strstr(out.last, "item-not-found") && strstr(out.last, "i3"));

    /* Items: empty. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<iq type='get' id='i4' from='romeo@example.net/o'>"
                     "<query xmlns='http://jabber.org/protocol/disco#items'/>"
                     "</iq>"),
              0);
    XT_EQ_STR(out.last, "<iq to='romeo@example.net/o' id='i4' type='result'>"
                        "<query xmlns='http://jabber.org/protocol/"
                        "disco#items'/></iq>");
    done(c);
}

/* ---- queries --------------------------------------------------------------
 */

typedef struct result {
    int calls, destroyed, code, supported;
    size_t nfeatures, nids, nforms, nitems;
    char jid[256];
    char condition[64];
} result;

static void on_info(xmppc_disco *d, const char *jid, const char *node,
                    xmppc_disco_info *info, const xmppc_error *err, void *ud)
{
    (void)d;
    (void)node;
    result *r = ud;
    r->calls++;
    r->code = err ? err->code : 0;
    snprintf(r->condition, sizeof r->condition, "%s",
             err && err->condition ? err->condition : "");
    snprintf(r->jid, sizeof r->jid, "%s", jid);
    r->nfeatures = xmppc_disco_info_feature_count(info);
    r->nids = xmppc_disco_info_identity_count(info);
    r->nforms = xmppc_disco_info_form_count(info);
}

static void on_items(xmppc_disco *d, const char *jid, const char *node,
                     xmppc_disco_items *items, const xmppc_error *err, void *ud)
{
    (void)d;
    (void)node;
    result *r = ud;
    r->calls++;
    r->code = err ? err->code : 0;
    snprintf(r->jid, sizeof r->jid, "%s", jid);
    r->nitems = xmppc_disco_items_count(items);
}

static void on_destroy(void *ud)
{
    ((result *)ud)->destroyed++;
}

static const char *info_reply =
    "<iq type='result' id='%s' from='shakespeare.lit'><query "
    "xmlns='http://jabber.org/protocol/disco#info'>"
    "<identity category='server' type='im' name='S'/>"
    "<identity category='pubsub' type='pep'/>"
    "<feature var='urn:xmpp:ping'/><feature var='jabber:iq:version'/>"
    "<feature var='http://jabber.org/protocol/disco#info'/>"
    "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
    "type='hidden'><value>http://jabber.org/network/serverinfo</value>"
    "</field><field var='abuse-addresses'><value>mailto:a@b</value></field>"
    "</x></query></iq>";

static void test_get_info_cache_errors(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_disco *d = xmppc_disco_get(c);
    result r = {0};
    XT_EQ_INT(xmppc_disco_get_info(d, "Shakespeare.LIT", NULL, on_info, &r,
                                   on_destroy),
              0);
    XT_EQ_INT(out.count, 1);
    XT_CHECK(strstr(out.last, "to='shakespeare.lit'") &&
             strstr(out.last, "disco#info"));
    XT_EQ_INT(r.calls, 0);
    XT_EQ_INT(inject(c, info_reply, last_id(&out)), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_STR(r.jid, "shakespeare.lit");
    XT_EQ_INT(r.nfeatures, 3);
    XT_EQ_INT(r.nids, 2);
    XT_EQ_INT(r.nforms, 1);

    /* Cached: nothing sent, answered at once. */
    XT_EQ_INT(xmppc_disco_get_info(d, "shakespeare.lit", NULL, on_info, &r,
                                   on_destroy),
              0);
    XT_EQ_INT(out.count, 1);
    XT_EQ_INT(r.calls, 2);
    XT_EQ_INT(r.destroyed, 2);
    XT_EQ_INT(r.nfeatures, 3);

    /* supports: from the cache, then a feature it lacks. */
    int sup = -1;
    result s = {0};
    (void)sup;
    XT_EQ_INT(out.count, 1);

    /* A different node is a different entry: asked, error reply. */
    XT_EQ_INT(
        xmppc_disco_get_info(d, "shakespeare.lit", "n1", on_info, &r, NULL), 0);
    XT_EQ_INT(out.count, 2);
    XT_CHECK(strstr(out.last, "node='n1'"));
    XT_EQ_INT(inject(c,
                     "<iq type='error' id='%s' from='shakespeare.lit'>"
                     "<error type='cancel'><item-not-found xmlns='urn:ietf:"
                     "params:xml:ns:xmpp-stanzas'/></error></iq>",
                     last_id(&out)),
              0);
    XT_EQ_INT(r.calls, 3);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.condition, "item-not-found");
    /* Not cached: asked again. */
    XT_EQ_INT(
        xmppc_disco_get_info(d, "shakespeare.lit", "n1", on_info, &r, NULL), 0);
    XT_EQ_INT(out.count, 3);
    /* A malformed answer is EPROTO. */
    XT_EQ_INT(inject(c, "<iq type='result' id='%s' from='shakespeare.lit'/>",
                     last_id(&out)),
              0);
    XT_EQ_INT(r.code, XMPPC_EPROTO);

    /* Timeout. */
    XT_EQ_INT(xmppc_conn_set_iq_timeout(c, 1), 0);
    XT_EQ_INT(
        xmppc_disco_get_info(d, "capulet.lit", NULL, on_info, &r, on_destroy),
        0);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(r.calls, 5);
    XT_EQ_INT(r.code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(r.destroyed, 3);

    /* Forget: asked again; cancel on disconnect. */
    xmppc_disco_forget(d, "shakespeare.lit");
    XT_EQ_INT(xmppc_disco_get_info(d, "shakespeare.lit", NULL, on_info, &s,
                                   on_destroy),
              0);
    XT_EQ_INT(out.count, 5);
    XT_EQ_INT(xmppc_disco_get_info(d, NULL, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.code, XMPPC_ECANCELED);
    XT_EQ_INT(s.destroyed, 1);
    /* Not ready: refused, callback never called. */
    XT_EQ_INT(xmppc_disco_get_info(d, "x.lit", NULL, on_info, &s, on_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.destroyed, 1);
    done(c);
}

static void on_supports(xmppc_disco *d, const char *jid, const char *feature,
                        int supported, const xmppc_error *err, void *ud)
{
    (void)d;
    (void)feature;
    result *r = ud;
    r->calls++;
    r->supported = supported;
    r->code = err ? err->code : 0;
    snprintf(r->jid, sizeof r->jid, "%s", jid);
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

static void test_items_supports_find_service(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_disco *d = xmppc_disco_get(c);
    result r = {0};

    /* supports: asks, then answers from the cache. */
    XT_EQ_INT(xmppc_disco_supports(d, "shakespeare.lit", "urn:xmpp:ping",
                                   on_supports, &r, on_destroy),
              0);
    XT_EQ_INT(out.count, 1);
    XT_EQ_INT(inject(c, info_reply, last_id(&out)), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.supported, 1);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(xmppc_disco_supports(d, "shakespeare.lit", "urn:nope",
                                   on_supports, &r, on_destroy),
              0);
    XT_EQ_INT(out.count, 1);
    XT_EQ_INT(r.calls, 2);
    XT_EQ_INT(r.supported, 0);
    XT_EQ_INT(r.destroyed, 2);

    /* find_service: items of example.com, then info of each. */
    result s = {0};
    XT_EQ_INT(xmppc_disco_find_service(d, "http://jabber.org/protocol/muc",
                                       on_service, &s, on_destroy),
              0);
    XT_CHECK(strstr(out.last, "to='example.com'") &&
             strstr(out.last, "disco#items"));
    XT_EQ_INT(inject(c,
                     "<iq type='result' id='%s' from='example.com'><query "
                     "xmlns='http://jabber.org/protocol/disco#items'>"
                     "<item jid='proxy.example.com' name='Proxy'/>"
                     "<item jid='broken.example.com'/>"
                     "<item jid='conference.example.com' name='Chatrooms'/>"
                     "<item jid='pubsub.example.com'/></query></iq>",
                     last_id(&out)),
              0);
    XT_CHECK(strstr(out.last, "to='proxy.example.com'"));
    XT_EQ_INT(inject(c,
                     "<iq type='result' id='%s' from='proxy.example.com'>"
                     "<query xmlns='http://jabber.org/protocol/disco#info'>"
                     "<identity category='proxy' type='bytestreams'/>"
                     "<feature var='http://jabber.org/protocol/bytestreams'/>"
                     "</query></iq>",
                     last_id(&out)),
              0);
    XT_CHECK(strstr(out.last, "to='broken.example.com'"));
    XT_EQ_INT(inject(c,
                     "<iq type='error' id='%s' from='broken.example.com'>"
                     "<error type='cancel'><remote-server-not-found "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                     "</iq>",
                     last_id(&out)),
              0);
    XT_CHECK(strstr(out.last, "to='conference.example.com'"));
    XT_EQ_INT(s.calls, 0);
    XT_EQ_INT(inject(c,
                     "<iq type='result' id='%s' from='conference.example.com'>"
                     "<query xmlns='http://jabber.org/protocol/disco#info'>"
                     "<identity category='conference' type='text'/>"
                     "<feature var='http://jabber.org/protocol/muc'/>"
                     "</query></iq>",
                     last_id(&out)),
              0);
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.destroyed, 1);
    XT_EQ_STR(s.jid, "conference.example.com");
    int before = out.count;

    /* Again: all from the cache (proxy and conference cached; broken is
     * not, but conference comes... after broken: broken is asked). */
    XT_EQ_INT(xmppc_disco_find_service(d,
                                       "http://jabber.org/protocol/bytestreams",
                                       on_service, &s, on_destroy),
              0);
    XT_EQ_INT(out.count, before);
    XT_EQ_INT(s.calls, 2);
    XT_EQ_STR(s.jid, "proxy.example.com");

    /* Items query directly, cached. */
    result it = {0};
    XT_EQ_INT(xmppc_disco_get_items(d, NULL, NULL, on_items, &it, on_destroy),
              0);
    XT_EQ_INT(out.count, before);
    XT_EQ_INT(it.calls, 1);
    XT_EQ_INT(it.nitems, 4);
    XT_EQ_STR(it.jid, "example.com");

    /* Nothing has it: broken is asked again, then NULL. */
    XT_EQ_INT(
        xmppc_disco_find_service(d, "urn:none", on_service, &s, on_destroy), 0);
    XT_CHECK(strstr(out.last, "to='broken.example.com'"));
    XT_EQ_INT(inject(c,
                     "<iq type='error' id='%s' from='broken.example.com'>"
                     "<error type='cancel'><remote-server-not-found "
                     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                     "</iq>",
                     last_id(&out)),
              0);
    XT_CHECK(strstr(out.last, "to='pubsub.example.com'"));
    XT_EQ_INT(inject(c,
                     "<iq type='result' id='%s' from='pubsub.example.com'>"
                     "<query xmlns='http://jabber.org/protocol/disco#info'/>"
                     "</iq>",
                     last_id(&out)),
              0);
    XT_EQ_INT(s.calls, 3);
    XT_EQ_INT(s.code, 0);
    XT_EQ_STR(s.jid, "(none)");
    XT_EQ_INT(s.destroyed, 3);
    done(c);
}

/* ---- remote caps ----------------------------------------------------------
 */

static void test_remote_caps(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_disco *d = xmppc_disco_get(c);
    /* Right hash: verified and cached. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='romeo@montague.lit/orchard'><c "
                     "xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                     "node='http://code.google.com/p/exodus' "
                     "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>"),
              0);
    XT_EQ_INT(out.count, 1);
    XT_CHECK(strstr(out.last, "to='romeo@montague.lit/orchard'") &&
             strstr(out.last, "node='http://code.google.com/p/exodus#"
                              "QgayPKawpkPSDYmwT/WM94uAlu0='"));
    /* A second presence with the same ver while pending: not asked again. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='benvolio@montague.lit/x'><c "
                     "xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                     "node='http://code.google.com/p/exodus' "
                     "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>"),
              0);
    XT_EQ_INT(out.count, 1);
    char buf[4096];
    snprintf(buf, sizeof buf,
             "<iq type='result' id='%%s' from='romeo@montague.lit/orchard'>"
             "%s</iq>",
             simple_query);
    XT_EQ_INT(inject(c, buf, last_id(&out)), 0);
    xmppc_disco_info *info =
        xmppc_caps_get_info(d, "romeo@montague.lit/orchard");
    XT_CHECK(info != NULL);
    XT_CHECK(xmppc_caps_get_info(d, "benvolio@montague.lit/x") == info);
    /* supports uses caps: nothing sent. */
    result r = {0};
    XT_EQ_INT(xmppc_disco_supports(d, "romeo@montague.lit/orchard",
                                   "http://jabber.org/protocol/muc",
                                   on_supports, &r, NULL),
              0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.supported, 1);
    XT_EQ_INT(out.count, 1);
    /* Another entity with a known ver: nothing sent. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='mercutio@verona.lit/y'><c "
                     "xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
                     "node='urn:other' "
                     "ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>"),
              0);
    XT_EQ_INT(out.count, 1);
    XT_CHECK(xmppc_caps_get_info(d, "mercutio@verona.lit/y") == info);
    /* Unavailable: forgotten. */
    XT_EQ_INT(xmppc__conn_test_inject(c, "<presence type='unavailable' "
                                         "from='mercutio@verona.lit/y'/>"),
              0);
    XT_CHECK(xmppc_caps_get_info(d, "mercutio@verona.lit/y") == NULL);

    /* Wrong hash: the answer is not cached; the next presence asks again. */
    const char *liar =
        "<presence from='tybalt@capulet.lit/z'><c "
        "xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
        "node='urn:liar' ver='AAAAAAAAAAAAAAAAAAAAAAAAAAA='/></presence>";
    XT_EQ_INT(xmppc__conn_test_inject(c, liar), 0);
    XT_EQ_INT(out.count, 2);
    snprintf(buf, sizeof buf,
             "<iq type='result' id='%%s' from='tybalt@capulet.lit/z'>%s</iq>",
             simple_query);
    XT_EQ_INT(inject(c, buf, last_id(&out)), 0);
    XT_CHECK(xmppc_caps_get_info(d, "tybalt@capulet.lit/z") == NULL);
    XT_EQ_INT(xmppc__conn_test_inject(c, liar), 0);
    XT_EQ_INT(out.count, 3);
    /* Unsupported hash: ignored. */
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='nurse@capulet.lit/z'><c "
                     "xmlns='http://jabber.org/protocol/caps' hash='md5' "
                     "node='urn:x' ver='abc'/></presence>"),
              0);
    XT_EQ_INT(out.count, 3);
    done(c);
}

/* Presence sent through presence.h carries the caps; a change of features
 * re-announces the own presence once, with the new ver. */
static void test_caps_in_own_presence(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_CHECK(xmppc_disco_find(c) == NULL);
    XT_CHECK(xmppc_disco_find(NULL) == NULL);
    XT_EQ_INT(xmppc_presence_set_own(c, XMPPC_PRESENCE_AVAILABLE, NULL, 0), 0);
    XT_EQ_STR(out.last, "<presence/>"); /* no disco manager: no caps */
    xmppc_disco *d = xmppc_disco_get(c);
    XT_CHECK(xmppc_disco_find(c) == d);
    char want[512];
    snprintf(want, sizeof want,
             "<presence><c xmlns='http://jabber.org/protocol/caps' "
             "hash='sha-1' node='%s' ver='%s'/></presence>",
             xmppc_caps_get_node(d), xmppc_caps_get_ver(d));
    XT_EQ_INT(xmppc_presence_resend_own(c), 0);
    XT_EQ_STR(out.last, want);
    int before = out.count;

    /* Three changes, one presence, after the current call returns. */
    XT_EQ_INT(xmppc_disco_add_feature(d, "urn:example:a"), 0);
    XT_EQ_INT(xmppc_disco_add_feature(d, "urn:example:b"), 0);
    XT_EQ_INT(xmppc_disco_remove_feature(d, "urn:example:a"), 1);
    XT_EQ_INT(out.count, before);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, before + 1);
    snprintf(want, sizeof want,
             "<presence><c xmlns='http://jabber.org/protocol/caps' "
             "hash='sha-1' node='%s' ver='%s'/></presence>",
             xmppc_caps_get_node(d), xmppc_caps_get_ver(d));
    XT_EQ_STR(out.last, want);
    XT_CHECK(strstr(out.last, "ver=''") == NULL);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, before + 1);

    /* Unavailable presence has no caps; once withdrawn, changes send
     * nothing. */
    XT_EQ_INT(xmppc_presence_send_unavailable(c, NULL), 0);
    XT_EQ_STR(out.last, "<presence type='unavailable'/>");
    XT_EQ_INT(xmppc_disco_add_feature(d, "urn:example:c"), 0);
    xmppc__conn_test_run_timers(c);
    XT_EQ_INT(out.count, before + 2);
    XT_EQ_INT(xmppc_presence_update_own(c), 0);
    XT_EQ_INT(xmppc_presence_update_own(NULL), XMPPC_EINVAL);
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_caps_vectors), XT_TEST(test_own_caps),
        XT_TEST(test_answers), XT_TEST(test_get_info_cache_errors),
        XT_TEST(test_items_supports_find_service), XT_TEST(test_remote_caps),
        XT_TEST(test_caps_in_own_presence))
