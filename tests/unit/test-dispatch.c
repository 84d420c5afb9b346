/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include <limits.h>

#include "../xtest.h"
#include "dispatch.h"
#include "parser.h"

/* ---- fixtures: a send sink, a fake clock, a stanza maker ----------------- */

#define SINK_KEEP 32

static struct {
    char *sent[SINK_KEEP]; /* the first SINK_KEEP serialized stanzas */
    int count;             /* every stanza sent */
    int fail;              /* when non-zero, send returns it */
} sink;

static uint64_t fake_now = 1000;

static int owner_tag;
/* The dispatcher never dereferences its owner; this one is only compared. */
#define OWNER ((xmppc_conn *)(void *)&owner_tag)

static void sink_reset(void)
{
    for (int i = 0; i < SINK_KEEP; i++) {
        free(sink.sent[i]);
        sink.sent[i] = NULL;
    }
    sink.count = 0;
    sink.fail = 0;
}

static int sink_send(void *ud, xmppc_stanza *stanza)
{
    XT_CHECK(ud == &sink);
    if (sink.fail)
        return sink.fail;
    char *xml = NULL;
    int rc = xmppc_stanza_to_string(&xml, NULL, stanza);
    if (rc < 0)
        return rc;
    if (sink.count < SINK_KEEP) {
        /* Kept outside the library's allocator, so leak checks and
         * failing-allocator runs only see the dispatcher's memory. */
        sink.sent[sink.count] = strdup(xml);
        XT_CHECK(sink.sent[sink.count] != NULL);
    }
    sink.count++;
    xmppc_free(xml);
    return 0;
}

static uint64_t fake_clock(void *ud)
{
    (void)ud;
    return fake_now;
}

static const xmppc__dispatch_io test_io = {sink_send, fake_clock, &sink};

static xmppc__dispatch *new_dispatch(void)
{
    xmppc__dispatch *d = NULL;
    sink_reset();
    fake_now = 1000;
    XT_EQ_INT(xmppc__dispatch_new(&d, &test_io, OWNER, NULL), 0);
    return d;
}

static int grab_stanza(void *ud, xmppc_stanza *stanza)
{
    xmppc_stanza **out = ud;
    *out = xmppc_stanza_ref(stanza);
    return 1;
}

/* Reads one stanza as the stream reader would deliver it. */
static xmppc_stanza *parse(const char *xml)
{
    static const char header[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    xmppc__parser_callbacks cbs = {.stanza = grab_stanza};
    xmppc_stanza *s = NULL;
    xmppc__parser *p = NULL;
    XT_EQ_INT(xmppc__parser_new(&p, &cbs, &s), 0);
    XT_EQ_INT(xmppc__parser_feed(p, header, strlen(header)), 0);
    XT_EQ_INT(xmppc__parser_feed(p, xml, strlen(xml)), 0);
    xmppc__parser_free(p);
    if (!s)
        XT_FAIL_AT(__FILE__, __LINE__, "did not parse: %s", xml);
    return s;
}

/* Dispatches the stanza written as @p xml. */
static int feed(xmppc__dispatch *d, const char *xml)
{
    xmppc_stanza *s = parse(xml);
    int rc = s ? xmppc__dispatch_stanza(d, s) : -100;
    xmppc_stanza_unref(s);
    return rc;
}

static xmppc_stanza *new_iq(const char *type, const char *to, const char *id)
{
    xmppc_stanza *iq = NULL, *q = NULL;
    XT_EQ_INT(xmppc_stanza_new(&iq, "iq", NULL), 0);
    XT_EQ_INT(xmppc_stanza_set_type(iq, type), 0);
    if (to) /* raw, so that preparation is the dispatcher's job */
        XT_EQ_INT(xmppc_stanza_set_attr(iq, "to", to), 0);
    if (id)
        XT_EQ_INT(xmppc_stanza_set_id(iq, id), 0);
    XT_EQ_INT(xmppc_stanza_new(&q, "ping", "urn:xmpp:ping"), 0);
    XT_EQ_INT(xmppc_stanza_add_child(iq, q), 0);
    xmppc_stanza_unref(q);
    return iq;
}

/* ---- a recording handler ----------------------------------------------------
 */

static char trail[2048]; /* names of the handlers called, in order */

typedef struct probe probe;
struct probe {
    const char *name;
    int ret; /* what the handler returns */
    int calls;
    int destroys;
    xmppc_conn *owner_seen;
    xmppc__dispatch *d;
    xmppc__handler *handle;
    void (*action)(probe *self);     /* run inside the handler */
    void (*on_destroy)(probe *self); /* run inside the destroy callback */
    probe *other;
    int rc; /* what an action's call returned */
};

static int probe_cb(xmppc_conn *owner, xmppc_stanza *stanza, void *userdata)
{
    probe *p = userdata;
    XT_CHECK(stanza != NULL);
    XT_EQ_INT(p->destroys, 0); /* never called after its destroy */
    p->calls++;
    p->owner_seen = owner;
    strcat(trail, p->name);
    strcat(trail, " ");
    if (p->action)
        p->action(p);
    return p->ret;
}

static void probe_destroy(void *userdata)
{
    probe *p = userdata;
    p->destroys++;
    if (p->on_destroy)
        p->on_destroy(p);
}

static xmppc__handler *add_probe(xmppc__dispatch *d, probe *p,
                                 const xmppc__handler_filter *filter,
                                 bool floating)
{
    p->d = d;
    p->handle = NULL;
    XT_EQ_INT(xmppc__dispatch_add(d, floating ? NULL : &p->handle, filter,
                                  probe_cb, p, probe_destroy),
              0);
    return p->handle;
}

/* ---- a recording IQ callback
 * --------------------------------------------------- */

typedef struct iqrec iqrec;
struct iqrec {
    int calls;
    int destroys;
    int code; /* 0 for a result */
    bool got_reply;
    bool err_has_stanza;
    char reply_from[128];
    char condition[64], type[16], text[128], message[256];
    xmppc_conn *owner_seen;
    xmppc__dispatch *d;
    void (*action)(iqrec *self);
    int order; /* when it fired, from a shared counter */
    uint64_t deadline;
    uint64_t fired_at;
};

static int fire_counter;

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "(null)");
}

static void iq_cb(xmppc_conn *owner, xmppc_stanza *reply,
                  const xmppc_error *err, void *userdata)
{
    iqrec *r = userdata;
    XT_EQ_INT(r->destroys, 0);
    r->calls++;
    r->owner_seen = owner;
    r->order = ++fire_counter;
    r->fired_at = fake_now;
    r->got_reply = reply != NULL;
    XT_CHECK((reply == NULL) != (err == NULL)); /* exactly one of them */
    if (reply)
        copy_str(r->reply_from, sizeof r->reply_from,
                 xmppc_stanza_get_from(reply));
    if (err) {
        r->code = err->code;
        r->err_has_stanza = err->stanza != NULL;
        copy_str(r->condition, sizeof r->condition, err->condition);
        copy_str(r->type, sizeof r->type, err->type);
        copy_str(r->text, sizeof r->text, err->text);
        copy_str(r->message, sizeof r->message, err->message);
    }
    if (r->action)
        r->action(r);
}

static void iq_destroy(void *userdata)
{
    iqrec *r = userdata;
    XT_EQ_INT(r->calls, 1); /* after the callback, never instead of it */
    r->destroys++;
}

static int send_ping(xmppc__dispatch *d, iqrec *r, const char *to,
                     const char *id, unsigned int timeout_ms)
{
    xmppc_stanza *iq = new_iq("get", to, id);
    r->d = d;
    int rc = xmppc__dispatch_send_iq(d, iq, timeout_ms, iq_cb, r, iq_destroy);
    xmppc_stanza_unref(iq);
    return rc;
}

/* ---- log capture
 * ------------------------------------------------------------------- */

static struct {
    int warns;
    char last_warn[512];
    bool leaked_secret; /* a message above TRACE contained "SECRET" */
} logs;

static void log_cb(xmppc_conn *conn, xmppc_log_level level, const char *area,
                   const char *message, void *userdata)
{
    (void)userdata;
    XT_CHECK(conn == OWNER);
    XT_EQ_STR(area, "dispatch");
    if (level == XMPPC_LOG_WARN) {
        logs.warns++;
        copy_str(logs.last_warn, sizeof logs.last_warn, message);
    }
    if (level < XMPPC_LOG_TRACE && strstr(message, "SECRET"))
        logs.leaked_secret = true;
}

static const xmppc__logger test_logger = {log_cb, NULL, XMPPC_LOG_DEBUG, OWNER};

static xmppc__dispatch *new_logged_dispatch(void)
{
    xmppc__dispatch *d = NULL;
    sink_reset();
    memset(&logs, 0, sizeof logs);
    XT_EQ_INT(xmppc__dispatch_new(&d, &test_io, OWNER, &test_logger), 0);
    return d;
}

/* ======================================================================== */
/* handlers                                                                  */
/* ======================================================================== */

static void test_registration_order(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a"}, b = {.name = "b"}, c = {.name = "c"};
    add_probe(d, &a, NULL, true);
    add_probe(d, &b, NULL, true);
    add_probe(d, &c, NULL, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message from='x@y.example/r'><body>1</body></message>"),
              0);
    XT_EQ_INT(feed(d, "<presence/>"), 0);
    XT_EQ_STR(trail, "a b c a b c ");
    XT_CHECK(a.owner_seen == OWNER && c.owner_seen == OWNER);
    xmppc__dispatch_free(d);
    XT_EQ_INT(a.destroys + b.destroys + c.destroys, 3);
    sink_reset();
}

static void test_bad_arguments(void)
{
    xmppc__dispatch *d = NULL;
    xmppc__dispatch_io no_send = {NULL, fake_clock, NULL};
    XT_EQ_INT(xmppc__dispatch_new(&d, &no_send, OWNER, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dispatch_new(NULL, &test_io, OWNER, NULL), XMPPC_EINVAL);
    XT_CHECK(d == NULL);
    d = new_dispatch();
    probe p = {.name = "p"};
    xmppc__handler *h = (xmppc__handler *)&p; /* must stay untouched */
    xmppc__handler_filter bad_kind = {.kinds = 1u << 7};
    xmppc__handler_filter bad_from = {.from = "a@b@c"};
    XT_EQ_INT(xmppc__dispatch_add(d, &h, NULL, NULL, &p, probe_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc__dispatch_add(d, &h, &bad_kind, probe_cb, &p, probe_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc__dispatch_add(d, &h, &bad_from, probe_cb, &p, probe_destroy),
        XMPPC_EINVAL);
    XT_CHECK(h == (xmppc__handler *)&p);
    XT_EQ_INT(xmppc__dispatch_stanza(d, NULL), XMPPC_EINVAL);
    xmppc_stanza *text = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&text, "x"), 0);
    XT_EQ_INT(xmppc__dispatch_stanza(d, text), XMPPC_EINVAL);
    xmppc_stanza_unref(text);
    XT_EQ_INT(xmppc__dispatch_set_own_jid(d, "@bad"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__dispatch_set_max_pending(d, 0), XMPPC_EINVAL);
    xmppc__dispatch_free(d);
    xmppc__dispatch_free(NULL);
    xmppc__handler_remove(NULL);
    xmppc__handler_free(NULL);
    XT_EQ_INT(xmppc__handler_is_attached(NULL), 0);
    XT_EQ_INT(p.destroys, 0); /* failed registrations own nothing */
    XT_EQ_INT(p.calls, 0);
    sink_reset();
}

static void test_filter_kind(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe msg = {.name = "msg"}, pres = {.name = "pres"}, iq = {.name = "iq"},
          other = {.name = "other"}, both = {.name = "both"},
          any = {.name = "any"};
    add_probe(d, &msg, &(xmppc__handler_filter){.kinds = XMPPC__KIND_MESSAGE},
              true);
    add_probe(d, &pres, &(xmppc__handler_filter){.kinds = XMPPC__KIND_PRESENCE},
              true);
    add_probe(d, &iq, &(xmppc__handler_filter){.kinds = XMPPC__KIND_IQ}, true);
    add_probe(d, &other, &(xmppc__handler_filter){.kinds = XMPPC__KIND_OTHER},
              true);
    add_probe(d, &both,
              &(xmppc__handler_filter){.kinds = XMPPC__KIND_MESSAGE |
                                                XMPPC__KIND_PRESENCE},
              true);
    add_probe(d, &any, &(xmppc__handler_filter){.kinds = XMPPC__KIND_ANY},
              true);

    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "msg both any ");
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<presence type='unavailable'/>"), 0);
    XT_EQ_STR(trail, "pres both any ");
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<iq type='result' id='x'/>"), 0);
    XT_EQ_STR(trail, "iq any ");
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<r xmlns='urn:xmpp:sm:3'/>"), 0);
    XT_EQ_STR(trail, "other any ");
    trail[0] = 0; /* a message element outside jabber:client is no message */
    XT_EQ_INT(feed(d, "<message xmlns='urn:example:not-client'/>"), 0);
    XT_EQ_STR(trail, "other any ");
    XT_EQ_INT(sink.count, 0);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_filter_type(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe chat = {.name = "chat"}, normal = {.name = "normal"},
          avail = {.name = "avail"}, unavail = {.name = "unavail"};
    add_probe(d, &chat, &(xmppc__handler_filter){.type = "chat"}, true);
    add_probe(d, &normal,
              &(xmppc__handler_filter){.kinds = XMPPC__KIND_MESSAGE,
                                       .type = "normal"},
              true);
    add_probe(d, &avail, &(xmppc__handler_filter){.type = "available"}, true);
    add_probe(d, &unavail, &(xmppc__handler_filter){.type = "unavailable"},
              true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message type='chat'/>"), 0);
    XT_EQ_INT(feed(d, "<message/>"), 0); /* no type: normal */
    XT_EQ_INT(feed(d, "<message type='normal'/>"), 0);
    XT_EQ_INT(feed(d, "<message type='groupchat'/>"), 0);
    XT_EQ_INT(feed(d, "<presence/>"), 0); /* no type: available */
    XT_EQ_INT(feed(d, "<presence type='unavailable'/>"), 0);
    XT_EQ_INT(feed(d, "<r xmlns='urn:xmpp:sm:3'/>"), 0); /* no default */
    XT_EQ_STR(trail, "chat normal normal avail unavail ");
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_filter_child(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe by_name = {.name = "name"}, by_ns = {.name = "ns"},
          both = {.name = "both"}, mixed = {.name = "mixed"};
    add_probe(d, &by_name, &(xmppc__handler_filter){.child_name = "body"},
              true);
    add_probe(d, &by_ns,
              &(xmppc__handler_filter){.child_ns = "http://jabber.org/protocol/"
                                                   "chatstates"},
              true);
    add_probe(
        d, &both,
        &(xmppc__handler_filter){.child_name = "x", .child_ns = "jabber:x:oob"},
        true);
    /* name of one child, namespace of another: must not match */
    add_probe(d, &mixed,
              &(xmppc__handler_filter){.child_name = "body",
                                       .child_ns = "jabber:x:oob"},
              true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message><body>hi</body>"
                      "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                      "<x xmlns='jabber:x:oob'><url>u</url></x></message>"),
              0);
    XT_EQ_STR(trail, "name ns both ");
    trail[0] = 0; /* the matching child need not be the first */
    XT_EQ_INT(feed(d, "<message><thread>t</thread>"
                      "<x xmlns='jabber:x:oob'/></message>"),
              0);
    XT_EQ_STR(trail, "both ");
    trail[0] = 0; /* descendants do not count, only children */
    XT_EQ_INT(feed(d, "<message><y xmlns='urn:example'><body>x</body></y>"
                      "</message>"),
              0);
    XT_EQ_STR(trail, "");
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_filter_from(void)
{
    xmppc__dispatch *d = new_dispatch();
    XT_EQ_INT(xmppc__dispatch_set_own_jid(d, "me@example.org/desk"), 0);
    probe bare = {.name = "bare"}, full = {.name = "full"},
          own = {.name = "own"}, dom = {.name = "dom"};
    add_probe(d, &bare, &(xmppc__handler_filter){.from = "Juliet@Example.COM"},
              true);
    add_probe(d, &full,
              &(xmppc__handler_filter){.from = "juliet@example.com/balcony"},
              true);
    add_probe(d, &own, &(xmppc__handler_filter){.from = "me@example.org"},
              true);
    add_probe(d, &dom, &(xmppc__handler_filter){.from = "example.com"}, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message from='juliet@example.com/balcony'/>"), 0);
    XT_EQ_STR(trail, "bare full ");
    trail[0] = 0; /* compared prepared */
    XT_EQ_INT(feed(d, "<message from='JULIET@example.com/balcony'/>"), 0);
    XT_EQ_STR(trail, "bare full ");
    trail[0] = 0; /* resources are case-sensitive */
    XT_EQ_INT(feed(d, "<message from='juliet@example.com/Balcony'/>"), 0);
    XT_EQ_STR(trail, "bare ");
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message from='juliet@example.com'/>"), 0);
    XT_EQ_STR(trail, "bare ");
    trail[0] = 0; /* no from: the own account */
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "own ");
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message from='me@example.org/phone'/>"), 0);
    XT_EQ_STR(trail, "own ");
    trail[0] = 0; /* a domain is a bare JID: its resources, not its users */
    XT_EQ_INT(feed(d, "<message from='example.com/x'/>"), 0);
    XT_EQ_INT(feed(d, "<message from='romeo@example.com'/>"), 0);
    XT_EQ_STR(trail, "dom ");
    trail[0] = 0; /* an invalid from matches no from filter */
    XT_EQ_INT(feed(d, "<message from='juliet@@example.com'/>"), 0);
    XT_EQ_STR(trail, "");
    /* without an own JID a missing from matches nothing */
    XT_EQ_INT(xmppc__dispatch_set_own_jid(d, NULL), 0);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "");
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_continue_handled_remove(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .ret = XMPPC_CONTINUE},
          b = {.name = "b", .ret = XMPPC_HANDLED},
          c = {.name = "c", .ret = XMPPC_CONTINUE | XMPPC_REMOVE};
    add_probe(d, &a, NULL, true);
    add_probe(d, &b, NULL, true);
    add_probe(d, &c, NULL, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "a b "); /* HANDLED stops */
    b.ret = XMPPC_HANDLED | XMPPC_REMOVE;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "a b a b ");
    XT_EQ_INT(b.destroys, 1);
    XT_EQ_INT(feed(d, "<message/>"), 0); /* b gone; c runs and leaves */
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "a b a b a c a ");
    XT_EQ_INT(c.destroys, 1);
    XT_EQ_INT(a.destroys, 0);
    xmppc__dispatch_free(d);
    XT_EQ_INT(a.destroys, 1);
    XT_EQ_INT(b.destroys, 1);
    XT_EQ_INT(c.destroys, 1);
    sink_reset();
}

static void test_negative_return(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .ret = -1}, b = {.name = "b"};
    add_probe(d, &a, NULL, true);
    add_probe(d, &b, NULL, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), XMPPC_EUSER);
    XT_EQ_STR(trail, "a ");
    /* the REMOVE bit that -1 happens to carry means nothing */
    XT_EQ_INT(feed(d, "<iq type='get' id='n1' from='x@y.example/r'>"
                      "<q xmlns='urn:example'/></iq>"),
              XMPPC_EUSER);
    XT_EQ_INT(a.destroys, 0);
    /* the iq still gets its answer */
    XT_EQ_INT(sink.count, 1);
    XT_CHECK(strstr(sink.sent[0], "service-unavailable") != NULL);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_floating_and_owned(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe fl = {.name = "fl", .ret = XMPPC_REMOVE},
          ow = {.name = "ow", .ret = XMPPC_REMOVE};
    add_probe(d, &fl, NULL, true);
    xmppc__handler *h = add_probe(d, &ow, NULL, false);
    XT_CHECK(h != NULL);
    XT_EQ_INT(xmppc__handler_is_attached(h), 1);
    XT_EQ_INT(feed(d, "<message/>"), 0);
    /* the floating one is freed (the harness checks for leaks); the owned
     * handle stays valid but inert */
    XT_EQ_INT(fl.destroys, 1);
    XT_EQ_INT(ow.destroys, 1);
    XT_EQ_INT(xmppc__handler_is_attached(h), 0);
    xmppc__handler_remove(h); /* no-op */
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_INT(fl.calls, 1);
    XT_EQ_INT(ow.calls, 1);
    xmppc__handler_free(h);
    XT_EQ_INT(ow.destroys, 1);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void remove_self(probe *p)
{
    xmppc__handler_remove(p->handle);
}

static void free_self(probe *p)
{
    xmppc__handler_free(p->handle);
    p->handle = NULL;
}

static void remove_other(probe *p)
{
    xmppc__handler_remove(p->other->handle);
}

static void free_other(probe *p)
{
    xmppc__handler_free(p->other->handle);
    p->other->handle = NULL;
}

static void test_remove_inside_callbacks(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .action = remove_self},
          b = {.name = "b", .action = free_self},
          c = {.name = "c", .action = remove_other}, e = {.name = "e"},
          f = {.name = "f", .action = free_other}, g = {.name = "g"},
          z = {.name = "z"};
    c.other = &e;
    f.other = &g;
    add_probe(d, &a, NULL, false);
    add_probe(d, &b, NULL, false);
    add_probe(d, &c, NULL, false);
    add_probe(d, &e, NULL, false);
    add_probe(d, &f, NULL, false);
    add_probe(d, &g, NULL, false);
    add_probe(d, &z, NULL, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    /* a and b removed themselves mid-dispatch and the walk went on; c
     * removed e and f freed g before their turn */
    XT_EQ_STR(trail, "a b c f z ");
    XT_EQ_INT(a.destroys, 1);
    XT_EQ_INT(b.destroys, 1);
    XT_EQ_INT(e.destroys, 1);
    XT_EQ_INT(g.destroys, 1);
    XT_EQ_INT(e.calls, 0);
    XT_EQ_INT(g.calls, 0);
    trail[0] = 0;
    c.action = NULL;
    f.action = NULL;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_STR(trail, "c f z ");
    xmppc__handler_free(a.handle);
    xmppc__handler_free(c.handle);
    xmppc__handler_free(e.handle);
    xmppc__handler_free(f.handle);
    XT_EQ_INT(c.destroys, 1);
    XT_EQ_INT(f.destroys, 1);
    xmppc__dispatch_free(d);
    XT_EQ_INT(z.destroys, 1);
    XT_EQ_INT(a.destroys + b.destroys + c.destroys + e.destroys + f.destroys +
                  g.destroys,
              6);
    sink_reset();
}

static void test_handle_outlives_dispatcher(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a"}, b = {.name = "b"};
    xmppc__handler *ha = add_probe(d, &a, NULL, false);
    xmppc__handler *hb = add_probe(d, &b, NULL, false);
    xmppc__handler_remove(hb); /* removed before the dispatcher goes */
    XT_EQ_INT(b.destroys, 1);
    xmppc__dispatch_free(d);
    XT_EQ_INT(a.destroys, 1);
    XT_EQ_INT(b.destroys, 1);
    XT_EQ_INT(xmppc__handler_is_attached(ha), 0);
    xmppc__handler_remove(ha); /* inert: no second destroy */
    XT_EQ_INT(a.destroys, 1);
    xmppc__handler_free(ha);
    xmppc__handler_free(hb);
    XT_EQ_INT(a.destroys, 1);
    XT_EQ_INT(b.destroys, 1);
    sink_reset();
}

/* A binding frees its handle from the destroy callback. */
static void destroy_frees_handle(probe *p)
{
    xmppc__handler_free(p->handle);
    p->handle = NULL;
}

static void test_destroy_exactly_once(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe p[6] = {{.name = "0"}, {.name = "1"}, {.name = "2"},
                  {.name = "3"}, {.name = "4"}, {.name = "5"}};
    for (int i = 0; i < 6; i++)
        add_probe(d, &p[i], NULL, false);
    /* remove, then free */
    xmppc__handler_remove(p[0].handle);
    xmppc__handler_remove(p[0].handle);
    xmppc__handler_free(p[0].handle);
    /* free without remove */
    xmppc__handler_free(p[1].handle);
    /* REMOVE from the handler, then free */
    p[2].ret = XMPPC_REMOVE;
    /* the destroy callback frees the handle: outside, inside a dispatch and
     * inside the dispatcher's teardown */
    p[3].on_destroy = destroy_frees_handle;
    p[4].on_destroy = destroy_frees_handle;
    p[4].ret = XMPPC_REMOVE;
    p[5].on_destroy = destroy_frees_handle;
    xmppc__handler_remove(p[3].handle);
    XT_EQ_INT(feed(d, "<message/>"), 0);
    xmppc__handler_free(p[2].handle);
    xmppc__dispatch_free(d);
    for (int i = 0; i < 6; i++)
        XT_EQ_INT(p[i].destroys, 1);
    sink_reset();
}

static void add_late(probe *p)
{
    xmppc__handler_filter f = {0};
    p->rc = xmppc__dispatch_add(p->d, &p->other->handle, &f, probe_cb, p->other,
                                probe_destroy);
    p->action = NULL;
}

static void test_add_during_dispatch(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .action = add_late}, late = {.name = "late"},
          b = {.name = "b"};
    a.other = &late;
    late.d = d;
    add_probe(d, &a, NULL, true);
    add_probe(d, &b, NULL, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_INT(a.rc, 0);
    /* the late handler misses the stanza being dispatched... */
    XT_EQ_STR(trail, "a b ");
    XT_EQ_INT(feed(d, "<message/>"), 0);
    /* ...and sees the next one, after those registered before it */
    XT_EQ_STR(trail, "a b a b late ");
    xmppc__handler_free(late.handle);
    XT_EQ_INT(late.destroys, 1);
    xmppc__dispatch_free(d);
    sink_reset();
}

/* ======================================================================== */
/* automatic replies                                                          */
/* ======================================================================== */

static void test_auto_service_unavailable(void)
{
    xmppc__dispatch *d = new_dispatch();
    static const char get[] =
        "<iq type='get' id='v1' from='juliet@example.com/balcony' "
        "to='me@example.org/desk'><query xmlns='jabber:iq:version'/></iq>";
    XT_EQ_INT(feed(d, get), 0);
    XT_EQ_INT(sink.count, 1);
    XT_EQ_STR(sink.sent[0],
              "<iq to='juliet@example.com/balcony' id='v1' type='error'>"
              "<error type='cancel'><service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    /* set too; and without from the reply goes to the server */
    XT_EQ_INT(feed(d, "<iq type='set' id='s1'><x xmlns='urn:example'/></iq>"),
              0);
    XT_EQ_INT(sink.count, 2);
    XT_EQ_STR(sink.sent[1],
              "<iq id='s1' type='error'><error type='cancel'>"
              "<service-unavailable "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    /* a handler that only looks (CONTINUE) does not answer it */
    probe look = {.name = "look"};
    add_probe(d, &look, NULL, true);
    XT_EQ_INT(feed(d, get), 0);
    XT_EQ_INT(sink.count, 3);
    XT_EQ_INT(look.calls, 1);
    /* HANDLED does */
    probe answer = {.name = "answer", .ret = XMPPC_HANDLED};
    add_probe(d, &answer,
              &(xmppc__handler_filter){.kinds = XMPPC__KIND_IQ,
                                       .type = "get",
                                       .child_ns = "jabber:iq:version"},
              true);
    XT_EQ_INT(feed(d, get), 0);
    XT_EQ_INT(sink.count, 3);
    XT_EQ_INT(answer.calls, 1);
    /* a failing send is reported */
    sink.fail = XMPPC_EIO;
    XT_EQ_INT(feed(d, "<iq type='get' id='g2'><y xmlns='urn:example'/></iq>"),
              XMPPC_EIO);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_no_reply_to_result_or_error(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe look = {.name = "look"};
    add_probe(d, &look, NULL, true);
    XT_EQ_INT(feed(d, "<iq type='result' id='nobody' from='a@b.example/c'/>"),
              0);
    XT_EQ_INT(feed(d, "<iq type='error' id='nobody2' from='a@b.example/c'>"
                      "<error type='cancel'><item-not-found "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>"
                      "</iq>"),
              0);
    XT_EQ_INT(look.calls, 2); /* handlers see unmatched replies */
    XT_EQ_INT(sink.count, 0); /* but nobody answers them */
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_bad_request(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe look = {.name = "look"};
    add_probe(d, &look, NULL, true);
    XT_EQ_INT(feed(d, "<iq type='fetch' id='b1' from='a@b.example/c'>"
                      "<q xmlns='urn:example'/></iq>"),
              0);
    XT_EQ_INT(sink.count, 1);
    XT_EQ_STR(sink.sent[0],
              "<iq to='a@b.example/c' id='b1' type='error'>"
              "<error type='modify'><bad-request "
              "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    XT_EQ_INT(feed(d, "<iq id='b2' from='a@b.example/c'/>"), 0); /* no type */
    XT_EQ_INT(sink.count, 2);
    XT_CHECK(strstr(sink.sent[1], "<bad-request") != NULL);
    XT_EQ_INT(feed(d, "<iq type='get' from='a@b.example/c'/>"), 0); /* no id */
    XT_EQ_INT(feed(d, "<iq type='bogus'/>"), 0);
    XT_EQ_INT(sink.count, 2);
    XT_EQ_INT(look.calls, 0); /* malformed iqs never reach handlers */
    xmppc__dispatch_free(d);
    sink_reset();
}

/* ======================================================================== */
/* IQ requests                                                                */
/* ======================================================================== */

static void test_iq_result(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe look = {.name = "look"};
    add_probe(d, &look, NULL, true);
    iqrec r = {0};
    XT_EQ_INT(send_ping(d, &r, "Juliet@Example.com/balcony", "p1", 30000), 0);
    XT_EQ_INT(sink.count, 1);
    XT_EQ_STR(sink.sent[0], "<iq type='get' to='Juliet@Example.com/balcony' "
                            "id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 1);
    static const char reply[] =
        "<iq type='result' id='p1' from='juliet@example.com/balcony' "
        "to='me@example.org/desk'/>";
    XT_EQ_INT(feed(d, reply), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.destroys, 1);
    XT_CHECK(r.got_reply);
    XT_EQ_INT(r.code, 0);
    XT_CHECK(r.owner_seen == OWNER);
    XT_EQ_STR(r.reply_from, "juliet@example.com/balcony");
    XT_EQ_INT(look.calls, 0); /* a matched reply is consumed */
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 0);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), -1);
    /* the same reply again matches nothing: handlers, no answer */
    XT_EQ_INT(feed(d, reply), 0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(look.calls, 1);
    XT_EQ_INT(sink.count, 1);
    xmppc__dispatch_free(d);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.destroys, 1);
    sink_reset();
}

static void test_iq_error_reply(void)
{
    xmppc__dispatch *d = new_dispatch();
    iqrec r = {0};
    XT_EQ_INT(send_ping(d, &r, "pubsub.example.com", "e1", 30000), 0);
    XT_EQ_INT(feed(d, "<iq type='error' id='e1' from='pubsub.example.com'>"
                      "<ping xmlns='urn:xmpp:ping'/>"
                      "<error type='cancel'><item-not-found "
                      "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                      "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>"
                      "no such node</text></error></iq>"),
              0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.destroys, 1);
    XT_CHECK(!r.got_reply);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.condition, "item-not-found");
    XT_EQ_STR(r.type, "cancel");
    XT_EQ_STR(r.text, "no such node");
    XT_CHECK(r.err_has_stanza);
    XT_CHECK(strstr(r.message, "item-not-found") != NULL);
    XT_EQ_INT(sink.count, 1); /* the request only; errors are not answered */

    /* an error reply without <error/> is still an error */
    iqrec r2 = {0};
    XT_EQ_INT(send_ping(d, &r2, "pubsub.example.com", "e2", 0), 0);
    XT_EQ_INT(feed(d, "<iq type='error' id='e2' from='pubsub.example.com'/>"),
              0);
    XT_EQ_INT(r2.calls, 1);
    XT_EQ_INT(r2.code, XMPPC_ESTANZA);
    XT_EQ_STR(r2.condition, "(null)");
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_iq_timeout(void)
{
    xmppc__dispatch *d = new_dispatch();
    iqrec r = {0};
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), -1);
    XT_EQ_INT(send_ping(d, &r, "juliet@example.com/balcony", "t1", 5000), 0);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), 5000);
    fake_now += 4999;
    xmppc__dispatch_process_timeouts(d);
    XT_EQ_INT(r.calls, 0);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), 1);
    fake_now += 1;
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), 0);
    xmppc__dispatch_process_timeouts(d);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.destroys, 1);
    XT_EQ_INT(r.code, XMPPC_ETIMEDOUT);
    XT_CHECK(!r.got_reply && !r.err_has_stanza);
    XT_CHECK(strstr(r.message, "5000 ms") != NULL);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), -1);
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 0);
    /* the late reply is dropped, not answered, and fires nothing */
    XT_EQ_INT(feed(d, "<iq type='result' id='t1' "
                      "from='juliet@example.com/balcony'/>"),
              0);
    xmppc__dispatch_process_timeouts(d);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(sink.count, 1);
    /* a far deadline is capped */
    iqrec far = {0};
    XT_EQ_INT(send_ping(d, &far, NULL, "far", UINT_MAX), 0);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), INT_MAX);
    xmppc__dispatch_free(d);
    XT_EQ_INT(far.code, XMPPC_ECANCELED);
    sink_reset();
}

static void test_iq_cancel(void)
{
    xmppc__dispatch *d = new_dispatch();
    iqrec r[4] = {{0}};
    fire_counter = 0;
    XT_EQ_INT(send_ping(d, &r[0], NULL, "c0", 9000), 0);
    XT_EQ_INT(send_ping(d, &r[1], NULL, "c1", 0), 0); /* no deadline */
    XT_EQ_INT(send_ping(d, &r[2], NULL, "c2", 100), 0);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), 100);
    xmppc__dispatch_cancel_pending(d);
    for (int i = 0; i < 3; i++) {
        XT_EQ_INT(r[i].calls, 1);
        XT_EQ_INT(r[i].destroys, 1);
        XT_EQ_INT(r[i].code, XMPPC_ECANCELED);
        XT_EQ_INT(r[i].order, i + 1); /* in sending order */
    }
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), -1);
    /* the dispatcher stays usable; freeing it cancels the rest */
    XT_EQ_INT(send_ping(d, &r[3], NULL, "c3", 0), 0);
    fake_now += 1000000;
    xmppc__dispatch_process_timeouts(d); /* no deadline: nothing */
    XT_EQ_INT(r[3].calls, 0);
    xmppc__dispatch_free(d);
    XT_EQ_INT(r[3].calls, 1);
    XT_EQ_INT(r[3].destroys, 1);
    XT_EQ_INT(r[3].code, XMPPC_ECANCELED);
    sink_reset();
}

static void test_iq_spoofed_reply(void)
{
    xmppc__dispatch *d = new_logged_dispatch();
    XT_EQ_INT(xmppc__dispatch_set_own_jid(d, "me@example.org/desk"), 0);
    probe look = {.name = "look"};
    add_probe(d, &look, NULL, true);
    iqrec r = {0};
    XT_EQ_INT(send_ping(d, &r, "juliet@example.com/balcony", "s1", 30000), 0);
    static const char *const spoofs[] = {
        "<iq type='result' id='s1' from='mallory@evil.example/x'/>",
        /* the bare JID of a full-JID target may not answer for it */
        "<iq type='result' id='s1' from='juliet@example.com'/>",
        "<iq type='result' id='s1' from='juliet@example.com/other'/>",
        /* nor the own server or account */
        "<iq type='result' id='s1'/>",
        "<iq type='result' id='s1' from='example.org'/>",
        "<iq type='result' id='s1' from='me@example.org'/>",
        "<iq type='error' id='s1' from='example.com'/>",
        "<iq type='result' id='s1' from='juliet@@example.com/balcony'/>",
    };
    int n = (int)(sizeof spoofs / sizeof spoofs[0]);
    for (int i = 0; i < n; i++)
        XT_EQ_INT(feed(d, spoofs[i]), 0);
    XT_EQ_INT(r.calls, 0);
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 1);
    XT_EQ_INT(logs.warns, n);
    XT_CHECK(strstr(logs.last_warn, "spoofed iq reply") != NULL);
    XT_EQ_INT(look.calls, n); /* ignored replies are ordinary stanzas */
    XT_EQ_INT(sink.count, 1); /* and never answered */
    /* the real one still gets through, compared prepared */
    XT_EQ_INT(feed(d, "<iq type='result' id='s1' "
                      "from='juliet@EXAMPLE.com/balcony'/>"),
              0);
    XT_EQ_INT(r.calls, 1);
    XT_CHECK(r.got_reply);
    XT_EQ_INT(logs.warns, n);

    /* a request to a bare JID is answered by that bare JID only */
    iqrec rb = {0};
    XT_EQ_INT(send_ping(d, &rb, "juliet@example.com", "s2", 30000), 0);
    XT_EQ_INT(feed(d, "<iq type='result' id='s2' "
                      "from='juliet@example.com/balcony'/>"),
              0);
    XT_EQ_INT(rb.calls, 0);
    XT_EQ_INT(feed(d, "<iq type='result' id='s2' from='juliet@example.com'/>"),
              0);
    XT_EQ_INT(rb.calls, 1);
    XT_CHECK(!logs.leaked_secret);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_iq_server_replies(void)
{
    static const struct {
        const char *to;   /* the request's to */
        const char *from; /* the reply's from, NULL for none */
        bool accepted;
    } cases[] = {
        {NULL, NULL, true},
        {NULL, "example.org", true},
        {NULL, "me@example.org", true},
        {NULL, "EXAMPLE.ORG", true},
        {NULL, "me@example.org/desk", false}, /* a client, not the server */
        {NULL, "me@example.org/phone", false},
        {NULL, "other.example", false},
        {NULL, "conference.example.org", false},
        {"me@example.org", NULL, true},
        {"me@example.org", "me@example.org", true},
        {"me@example.org", "example.org", true},
        {"me@example.org", "me@example.org/phone", false},
        {"example.org", NULL, true},
        {"example.org", "example.org", true},
        {"example.org", "me@example.org", true},
        {"Example.org.", "example.org", true},
        {"example.org", "evil.example", false},
        {"me@example.org/desk", "me@example.org/desk", true},
        {"me@example.org/desk", NULL, false},
        {"conference.example.org", "conference.example.org", true},
        {"conference.example.org", NULL, false},
        {"conference.example.org", "example.org", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        xmppc__dispatch *d = new_dispatch();
        XT_EQ_INT(xmppc__dispatch_set_own_jid(d, "me@example.org/desk"), 0);
        iqrec r = {0};
        XT_EQ_INT(send_ping(d, &r, cases[i].to, "x1", 1000), 0);
        char xml[256];
        snprintf(xml, sizeof xml, "<iq type='result' id='x1'%s%s%s/>",
                 cases[i].from ? " from='" : "",
                 cases[i].from ? cases[i].from : "", cases[i].from ? "'" : "");
        XT_EQ_INT(feed(d, xml), 0);
        if (r.calls != (cases[i].accepted ? 1 : 0))
            XT_FAIL_AT(__FILE__, __LINE__, "to %s, reply from %s: %s",
                       cases[i].to ? cases[i].to : "(none)",
                       cases[i].from ? cases[i].from : "(none)",
                       cases[i].accepted ? "refused" : "accepted");
        xmppc__dispatch_free(d);
    }
    /* without an own JID only a reply without from answers the server */
    xmppc__dispatch *d = new_dispatch();
    iqrec r = {0};
    XT_EQ_INT(send_ping(d, &r, NULL, "bind1", 1000), 0);
    XT_EQ_INT(feed(d, "<iq type='result' id='bind1' from='example.org'/>"), 0);
    XT_EQ_INT(r.calls, 0);
    XT_EQ_INT(feed(d, "<iq type='result' id='bind1'/>"), 0);
    XT_EQ_INT(r.calls, 1);
    /* a bare own JID (before binding) is enough */
    iqrec r2 = {0};
    XT_EQ_INT(xmppc__dispatch_set_own_jid(d, "me@example.org"), 0);
    XT_EQ_INT(send_ping(d, &r2, NULL, "x2", 1000), 0);
    XT_EQ_INT(feed(d, "<iq type='result' id='x2' from='example.org'/>"), 0);
    XT_EQ_INT(r2.calls, 1);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_iq_pending_limit(void)
{
    xmppc__dispatch *d = new_dispatch();
    iqrec *r = calloc(XMPPC__DISPATCH_DEFAULT_MAX_PENDING + 1, sizeof *r);
    char id[32];
    for (int i = 0; i < XMPPC__DISPATCH_DEFAULT_MAX_PENDING; i++)
        XT_EQ_INT(send_ping(d, &r[i], NULL, NULL, 1000), 0);
    iqrec *extra = &r[XMPPC__DISPATCH_DEFAULT_MAX_PENDING];
    XT_EQ_INT(send_ping(d, extra, NULL, "extra", 1000), XMPPC_ELIMIT);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_ELIMIT);
    XT_EQ_INT(xmppc__dispatch_set_max_pending(d, 3), 0);
    XT_EQ_INT(send_ping(d, extra, NULL, "extra", 1000), XMPPC_ELIMIT);
    xmppc__dispatch_free(d);
    for (int i = 0; i < XMPPC__DISPATCH_DEFAULT_MAX_PENDING; i++)
        XT_EQ_INT(r[i].calls, 1);
    XT_EQ_INT(extra->calls, 0);
    XT_EQ_INT(extra->destroys, 0);

    d = new_dispatch();
    XT_EQ_INT(xmppc__dispatch_set_max_pending(d, 2), 0);
    iqrec a = {0}, b = {0}, c = {0};
    XT_EQ_INT(send_ping(d, &a, NULL, "a", 1000), 0);
    XT_EQ_INT(send_ping(d, &b, NULL, "b", 1000), 0);
    XT_EQ_INT(send_ping(d, &c, NULL, "c", 1000), XMPPC_ELIMIT);
    XT_EQ_INT(sink.count, 2); /* a refused request is not sent */
    snprintf(id, sizeof id, "<iq type='result' id='a'/>");
    XT_EQ_INT(feed(d, id), 0);
    XT_EQ_INT(send_ping(d, &c, NULL, "c", 1000), 0); /* room again */
    xmppc__dispatch_free(d);
    XT_EQ_INT(a.calls + b.calls + c.calls, 3);
    free(r);
    sink_reset();
}

static void test_iq_ids_and_refusals(void)
{
    xmppc__dispatch *d = new_dispatch();
    iqrec r = {0};
    xmppc_stanza *iq = new_iq("set", NULL, NULL);
    XT_EQ_INT(xmppc__dispatch_send_iq(d, iq, 1000, iq_cb, &r, iq_destroy), 0);
    const char *id = xmppc_stanza_get_id(iq);
    XT_CHECK(id != NULL && strlen(id) == 16);
    char expect[128];
    snprintf(expect, sizeof expect, "<iq type='set' id='%s'>", id ? id : "");
    XT_CHECK(strncmp(sink.sent[0], expect, strlen(expect)) == 0);
    /* an id that is pending already */
    iqrec dup = {0};
    XT_EQ_INT(xmppc__dispatch_send_iq(d, iq, 1000, iq_cb, &dup, iq_destroy),
              XMPPC_EINVAL);
    xmppc_stanza_unref(iq);
    /* a send failure: nothing pending, the generated id is gone again */
    sink.fail = XMPPC_EIO;
    iq = new_iq("get", NULL, NULL);
    XT_EQ_INT(xmppc__dispatch_send_iq(d, iq, 1000, iq_cb, &dup, iq_destroy),
              XMPPC_EIO);
    XT_CHECK(xmppc_stanza_get_id(iq) == NULL);
    xmppc_stanza_set_id(iq, "mine");
    XT_EQ_INT(xmppc__dispatch_send_iq(d, iq, 1000, iq_cb, &dup, iq_destroy),
              XMPPC_EIO);
    XT_EQ_STR(xmppc_stanza_get_id(iq), "mine"); /* a given id stays */
    sink.fail = 0;
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 1);
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), 1000);
    xmppc_stanza_unref(iq);
    /* not a request */
    xmppc_stanza *res = new_iq("result", NULL, "r1");
    XT_EQ_INT(xmppc__dispatch_send_iq(d, res, 1000, iq_cb, &dup, iq_destroy),
              XMPPC_EINVAL);
    xmppc_stanza_unref(res);
    xmppc_stanza *msg = NULL;
    XT_EQ_INT(xmppc_message_new(&msg, "chat", "a@b.example", "hi"), 0);
    XT_EQ_INT(xmppc__dispatch_send_iq(d, msg, 1000, iq_cb, &dup, iq_destroy),
              XMPPC_EINVAL);
    xmppc_stanza_unref(msg);
    XT_EQ_INT(send_ping(d, &dup, "a@b@c", "bad-to", 1000), XMPPC_EINVAL);
    iq = new_iq("get", NULL, "nocb");
    XT_EQ_INT(xmppc__dispatch_send_iq(d, iq, 1000, NULL, &dup, iq_destroy),
              XMPPC_EINVAL);
    xmppc_stanza_unref(iq);
    XT_EQ_INT(sink.count, 1);
    XT_EQ_INT(dup.calls, 0);
    XT_EQ_INT(dup.destroys, 0);
    xmppc__dispatch_free(d);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ECANCELED);
    sink_reset();
}

/* ======================================================================== */
/* reentrancy and deferred free                                               */
/* ======================================================================== */

static struct {
    bool inside; /* a handler or callback is on the stack */
    int estate;  /* calls refused with XMPPC_ESTATE after the free */
    int fired_inside;
} reent;

static int dummy_cb(xmppc_conn *o, xmppc_stanza *s, void *u)
{
    (void)o, (void)s, (void)u;
    return 0;
}

static void try_everything(xmppc__dispatch *d)
{
    xmppc_stanza *iq = new_iq("get", NULL, "late");
    iqrec never = {0};
    xmppc__handler *h = NULL;
    if (xmppc__dispatch_send_iq(d, iq, 100, iq_cb, &never, iq_destroy) ==
        XMPPC_ESTATE)
        reent.estate++;
    if (xmppc__dispatch_add(d, &h, NULL, dummy_cb, NULL, NULL) == XMPPC_ESTATE)
        reent.estate++;
    if (xmppc__dispatch_stanza(d, iq) == XMPPC_ESTATE)
        reent.estate++;
    XT_CHECK(h == NULL);
    XT_EQ_INT(never.calls, 0);
    xmppc_stanza_unref(iq);
}

static void free_dispatcher(probe *p)
{
    reent.inside = true;
    xmppc__dispatch_free(p->d);
    xmppc__dispatch_free(p->d); /* a second request is a no-op */
    try_everything(p->d);
    reent.inside = false;
}

static void iq_notes_inside(iqrec *r)
{
    (void)r;
    if (reent.inside)
        reent.fired_inside++;
}

static void test_deferred_free_in_handler(void)
{
    memset(&reent, 0, sizeof reent);
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a"}, killer = {.name = "k", .action = free_dispatcher},
          b = {.name = "b"}, owned = {.name = "owned"};
    add_probe(d, &a, NULL, true);
    add_probe(d, &killer, NULL, true);
    add_probe(d, &b, NULL, true);
    xmppc__handler *h = add_probe(d, &owned, NULL, false);
    iqrec r = {.action = iq_notes_inside};
    XT_EQ_INT(send_ping(d, &r, NULL, "q1", 1000), 0);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<iq type='get' id='g1' from='a@b.example/c'>"
                      "<q xmlns='urn:example'/></iq>"),
              0);
    XT_EQ_STR(trail, "a k "); /* the dispatch stopped at the free */
    XT_EQ_INT(reent.estate, 3);
    XT_EQ_INT(sink.count, 1); /* no automatic reply from a dead dispatcher */
    XT_EQ_INT(r.calls, 1);    /* canceled once the dispatch unwound */
    XT_EQ_INT(r.destroys, 1);
    XT_EQ_INT(r.code, XMPPC_ECANCELED);
    XT_EQ_INT(reent.fired_inside, 0);
    XT_EQ_INT(a.destroys + killer.destroys + b.destroys + owned.destroys, 4);
    XT_EQ_INT(xmppc__handler_is_attached(h), 0);
    xmppc__handler_free(h);
    sink_reset();
}

static void iq_frees_dispatcher(iqrec *r)
{
    reent.inside = true;
    xmppc__dispatch_free(r->d);
    try_everything(r->d);
    reent.inside = false;
}

static void test_deferred_free_in_iq_callback(void)
{
    memset(&reent, 0, sizeof reent);
    xmppc__dispatch *d = new_dispatch();
    probe look = {.name = "look"};
    add_probe(d, &look, NULL, true);
    iqrec killer = {.action = iq_frees_dispatcher};
    iqrec other = {.action = iq_notes_inside};
    XT_EQ_INT(send_ping(d, &killer, NULL, "k1", 1000), 0);
    XT_EQ_INT(send_ping(d, &other, NULL, "o1", 1000), 0);
    XT_EQ_INT(feed(d, "<iq type='result' id='k1'/>"), 0);
    XT_EQ_INT(killer.calls, 1);
    XT_EQ_INT(killer.destroys, 1);
    XT_EQ_INT(other.calls, 1);
    XT_EQ_INT(other.destroys, 1);
    XT_EQ_INT(other.code, XMPPC_ECANCELED);
    XT_EQ_INT(reent.fired_inside, 0);
    XT_EQ_INT(reent.estate, 3);
    XT_EQ_INT(look.destroys, 1);
    sink_reset();
}

static void test_deferred_free_in_timeout(void)
{
    memset(&reent, 0, sizeof reent);
    xmppc__dispatch *d = new_dispatch();
    iqrec first = {0}, killer = {.action = iq_frees_dispatcher},
          due = {.action = iq_notes_inside}, later = {0};
    fire_counter = 0;
    XT_EQ_INT(send_ping(d, &first, NULL, "t1", 10), 0);
    XT_EQ_INT(send_ping(d, &killer, NULL, "t2", 20), 0);
    XT_EQ_INT(send_ping(d, &due, NULL, "t3", 30), 0);
    XT_EQ_INT(send_ping(d, &later, NULL, "t4", 5000), 0);
    fake_now += 100;
    xmppc__dispatch_process_timeouts(d);
    XT_EQ_INT(first.code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(killer.code, XMPPC_ETIMEDOUT);
    /* due as well, but the dispatcher was dropped first: canceled, once */
    XT_EQ_INT(due.code, XMPPC_ECANCELED);
    XT_EQ_INT(later.code, XMPPC_ECANCELED);
    XT_EQ_INT(first.calls + killer.calls + due.calls + later.calls, 4);
    XT_EQ_INT(first.destroys + killer.destroys + due.destroys + later.destroys,
              4);
    XT_EQ_INT(reent.fired_inside, 0);
    sink_reset();
}

static void destroy_frees_dispatcher(probe *p)
{
    reent.inside = true;
    xmppc__dispatch_free(p->d);
    try_everything(p->d);
    reent.inside = false;
}

static void test_free_from_destroy_callback(void)
{
    memset(&reent, 0, sizeof reent);
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .on_destroy = destroy_frees_dispatcher},
          b = {.name = "b"};
    xmppc__handler *h = add_probe(d, &a, NULL, false);
    add_probe(d, &b, NULL, true);
    iqrec r = {.action = iq_notes_inside};
    XT_EQ_INT(send_ping(d, &r, NULL, "q", 0), 0);
    xmppc__handler_remove(h); /* its destroy callback drops the dispatcher */
    XT_EQ_INT(a.destroys, 1);
    XT_EQ_INT(b.destroys, 1);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ECANCELED);
    XT_EQ_INT(reent.fired_inside, 0);
    XT_EQ_INT(reent.estate, 3);
    xmppc__handler_free(h);
    sink_reset();
}

/* Callbacks run while the dispatcher is being freed may call in; whatever
 * would start something new is refused and fires nothing. */
static void iq_tries_everything(iqrec *r)
{
    reent.inside = true;
    try_everything(r->d);
    reent.inside = false;
}

static void remove_during_teardown(probe *p)
{
    xmppc__handler_remove(p->other->handle);
    xmppc__handler_free(p->other->handle);
    p->other->handle = NULL;
}

static void test_callbacks_during_teardown(void)
{
    memset(&reent, 0, sizeof reent);
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .on_destroy = remove_during_teardown},
          b = {.name = "b"};
    a.other = &b;
    add_probe(d, &a, NULL, true);
    add_probe(d, &b, NULL, false);
    iqrec r = {.action = iq_tries_everything};
    XT_EQ_INT(send_ping(d, &r, NULL, "q", 0), 0);
    xmppc__dispatch_free(d);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(reent.estate, 3);
    XT_EQ_INT(a.destroys, 1);
    XT_EQ_INT(b.destroys, 1);
    sink_reset();
}

/* Requests sent from cancel or timeout callbacks wait for their own turn. */
static void resend(iqrec *r)
{
    iqrec *next = r + 1;
    XT_EQ_INT(send_ping(r->d, next, NULL, NULL, 50), 0);
}

static void test_resend_from_callbacks(void)
{
    xmppc__dispatch *d = new_dispatch();
    iqrec r[3] = {{.action = resend}, {.action = resend}, {0}};
    XT_EQ_INT(send_ping(d, &r[0], NULL, "r0", 50), 0);
    xmppc__dispatch_cancel_pending(d);
    XT_EQ_INT(r[0].code, XMPPC_ECANCELED);
    XT_EQ_INT(r[1].calls, 0); /* sent from the callback: still pending */
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 1);
    fake_now += 50;
    xmppc__dispatch_process_timeouts(d);
    XT_EQ_INT(r[1].code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(r[2].calls, 0); /* due 50 ms after this pass */
    XT_EQ_INT(xmppc__dispatch_next_timeout_ms(d), 50);
    xmppc__dispatch_free(d);
    XT_EQ_INT(r[2].code, XMPPC_ECANCELED);
    sink_reset();
}

static void trail_iq(iqrec *r)
{
    (void)r;
    strcat(trail, "iq ");
}

static void trail_destroy(probe *p)
{
    strcat(trail, "~");
    strcat(trail, p->name);
    strcat(trail, " ");
}

/* Freeing cancels the requests before it detaches the handlers: a module's
 * handler destroy callback may free what its requests' callbacks use. */
static void test_free_order(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .on_destroy = trail_destroy},
          b = {.name = "b", .on_destroy = trail_destroy};
    add_probe(d, &a, NULL, true);
    iqrec r1 = {.action = trail_iq}, r2 = {.action = trail_iq};
    XT_EQ_INT(send_ping(d, &r1, NULL, "1", 100), 0);
    add_probe(d, &b, NULL, false);
    XT_EQ_INT(send_ping(d, &r2, NULL, "2", 0), 0);
    trail[0] = 0;
    xmppc__dispatch_free(d);
    XT_EQ_STR(trail, "iq iq ~a ~b ");
    xmppc__handler_free(b.handle);
    sink_reset();
}

static void nested_dispatch(probe *p)
{
    p->action = NULL; /* once */
    p->rc = feed(p->d, "<presence/>");
}

static void test_nested_dispatch(void)
{
    xmppc__dispatch *d = new_dispatch();
    probe a = {.name = "a", .action = nested_dispatch},
          b = {.name = "b", .ret = XMPPC_REMOVE}, c = {.name = "c"};
    add_probe(d, &a, NULL, true);
    add_probe(d, &b, NULL, true);
    add_probe(d, &c, NULL, true);
    trail[0] = 0;
    XT_EQ_INT(feed(d, "<message/>"), 0);
    XT_EQ_INT(a.rc, 0);
    /* the inner dispatch removed b; the outer one does not call it again */
    XT_EQ_STR(trail, "a a b c c ");
    XT_EQ_INT(b.destroys, 1);
    xmppc__dispatch_free(d);
    sink_reset();
}

static void test_no_content_in_logs(void)
{
    xmppc__dispatch *d = new_logged_dispatch();
    XT_EQ_INT(xmppc__dispatch_set_own_jid(d, "me@example.org/desk"), 0);
    iqrec r = {0};
    XT_EQ_INT(send_ping(d, &r, NULL, "l1", 10), 0);
    XT_EQ_INT(feed(d, "<message from='a@b.example/c'><body>SECRET</body>"
                      "</message>"),
              0);
    XT_EQ_INT(feed(d, "<iq type='get' id='g' from='a@b.example/c'>"
                      "<q xmlns='urn:example:SECRET'/></iq>"),
              0);
    XT_EQ_INT(feed(d, "<iq type='result' id='SECRET' from='a@b.example/c'/>"),
              0);
    XT_EQ_INT(feed(d, "<iq type='SECRET' id='SECRET' from='a@b.example/c'/>"),
              0);
    XT_EQ_INT(feed(d, "<iq type='result' id='l1' from='a@b.example/c'>"
                      "<SECRET xmlns='urn:example'/></iq>"),
              0);
    fake_now += 10;
    xmppc__dispatch_process_timeouts(d);
    XT_EQ_INT(r.code, XMPPC_ETIMEDOUT);
    XT_CHECK(!logs.leaked_secret);
    xmppc__dispatch_free(d);
    sink_reset();
}

/* ======================================================================== */
/* out of memory                                                              */
/* ======================================================================== */

static void arm(long nth)
{
    xt_failalloc.countdown = nth - 1;
}

static void disarm(void)
{
    xt_failalloc.countdown = -1;
}

/* One operation under test, run with its n-th allocation failing. It
 * returns the status; @p d is a fresh dispatcher with some state. */
typedef int (*oom_op)(xmppc__dispatch *d, const void *arg);

/* Runs @p op with allocation 1, 2, ... failing until it succeeds. Every
 * failure must be XMPPC_ENOMEM, fire no callback and leave no block
 * behind. */
static void sweep(const char *what, int (*setup)(xmppc__dispatch *d), oom_op op,
                  const void *arg, int *callbacks)
{
    long n;
    for (n = 1; n < 1000; n++) {
        size_t live = xmppc_alloc_live_blocks();
        xmppc__dispatch *d = new_dispatch();
        if (setup)
            setup(d);
        *callbacks = 0;
        arm(n);
        int rc = op(d, arg);
        disarm();
        bool done = rc >= 0;
        if (!done && rc != XMPPC_ENOMEM)
            XT_FAIL_AT(__FILE__, __LINE__, "%s, allocation %ld failing: %d",
                       what, n, rc);
        if (!done && *callbacks != 0)
            XT_FAIL_AT(__FILE__, __LINE__,
                       "%s, allocation %ld failing: a callback ran", what, n);
        xmppc__dispatch_free(d);
        sink_reset();
        if (xmppc_alloc_live_blocks() != live)
            XT_FAIL_AT(__FILE__, __LINE__,
                       "%s, allocation %ld failing: %zu blocks leaked", what, n,
                       xmppc_alloc_live_blocks() - live);
        if (done || xt_current_failed)
            break;
    }
    XT_CHECK(n > 1 && n < 1000); /* something allocated, and it ended */
    printf("#   %s: succeeded with %ld allocations allowed\n", what, n - 1);
    xmppc_error_clear();
}

static int oom_calls;

static int oom_handler(xmppc_conn *o, xmppc_stanza *s, void *u)
{
    (void)o, (void)s, (void)u;
    oom_calls++;
    return XMPPC_CONTINUE;
}

static void oom_destroy(void *u)
{
    (void)u;
    oom_calls++;
}

static void oom_iq(xmppc_conn *o, xmppc_stanza *s, const xmppc_error *e,
                   void *u)
{
    (void)o, (void)s, (void)e, (void)u;
    oom_calls++;
}

static int op_new(xmppc__dispatch *d, const void *arg)
{
    (void)d, (void)arg;
    xmppc__dispatch *d2 = NULL;
    int rc = xmppc__dispatch_new(&d2, &test_io, OWNER, NULL);
    xmppc__dispatch_free(d2);
    return rc;
}

static int op_add(xmppc__dispatch *d, const void *arg)
{
    (void)arg;
    xmppc__handler *h = NULL;
    xmppc__handler_filter f = {.kinds = XMPPC__KIND_MESSAGE,
                               .type = "chat",
                               .child_name = "body",
                               .child_ns = "jabber:client",
                               .from = "Juliet@Example.com"};
    int rc = xmppc__dispatch_add(d, &h, &f, oom_handler, NULL, oom_destroy);
    if (rc == 0)
        xmppc__handler_free(h);
    return rc;
}

/* Stops the armed failure for the test's own allocations; returns what
 * resume() needs to re-arm it where it was. */
static long suspend(void)
{
    long nth = xt_failalloc.countdown + 1;
    disarm();
    return nth;
}

static void resume(long nth)
{
    arm(nth);
}

static int setup_own_jid(xmppc__dispatch *d)
{
    return xmppc__dispatch_set_own_jid(d, "me@example.org/desk");
}

static int op_own_jid(xmppc__dispatch *d, const void *arg)
{
    (void)arg;
    int rc = xmppc__dispatch_set_own_jid(d, "Other@Example.org/phone");
    disarm();
    if (rc < 0) { /* the old one stays */
        iqrec r = {0};
        XT_EQ_INT(send_ping(d, &r, NULL, "o", 0), 0);
        XT_EQ_INT(feed(d, "<iq type='result' id='o' from='me@example.org'/>"),
                  0);
        XT_EQ_INT(r.calls, 1);
    }
    return rc;
}

/* 17 pending requests: the 17th grows the id table and the heap. */
static int setup_sixteen(xmppc__dispatch *d)
{
    static iqrec r[16];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 16; i++) {
        char id[16];
        snprintf(id, sizeof id, "s%d", i);
        XT_EQ_INT(send_ping(d, &r[i], NULL, id, 100), 0);
    }
    return 0;
}

static int op_send_iq(xmppc__dispatch *d, const void *arg)
{
    (void)arg;
    long nth = suspend();
    xmppc_stanza *iq = new_iq("get", "Juliet@Example.com/balcony", NULL);
    resume(nth);
    size_t before = xmppc__dispatch_pending_count(d);
    int rc = xmppc__dispatch_send_iq(d, iq, 100, oom_iq, NULL, oom_destroy);
    disarm();
    if (rc < 0) {
        XT_CHECK(xmppc_stanza_get_id(iq) == NULL);
        XT_EQ_INT(xmppc__dispatch_pending_count(d), before);
    } else {
        XT_EQ_INT(xmppc__dispatch_pending_count(d), before + 1);
    }
    xmppc_stanza_unref(iq);
    return rc;
}

static int setup_from_handler(xmppc__dispatch *d)
{
    xmppc__handler_filter f = {.from = "juliet@example.com"};
    XT_EQ_INT(xmppc__dispatch_add(d, NULL, &f, oom_handler, NULL, NULL), 0);
    return 0;
}

static int op_dispatch(xmppc__dispatch *d, const void *arg)
{
    long nth = suspend();
    xmppc_stanza *s = parse(arg);
    resume(nth);
    int rc = xmppc__dispatch_stanza(d, s);
    disarm();
    xmppc_stanza_unref(s);
    return rc;
}

static int setup_request(xmppc__dispatch *d)
{
    xmppc_stanza *iq = new_iq("get", "juliet@example.com/balcony", "req");
    XT_EQ_INT(xmppc__dispatch_send_iq(d, iq, 100, oom_iq, NULL, oom_destroy),
              0);
    xmppc_stanza_unref(iq);
    return 0;
}

static int op_reply(xmppc__dispatch *d, const void *arg)
{
    int rc = op_dispatch(d, arg);
    if (rc < 0) /* the reply was not taken: still waiting */
        XT_EQ_INT(xmppc__dispatch_pending_count(d), 1);
    else
        XT_EQ_INT(oom_calls, 2); /* the callback and destroy */
    return rc;
}

static void test_out_of_memory(void)
{
    XT_EQ_INT(xt_failalloc_install(0), 0);
    sweep("dispatch_new", NULL, op_new, NULL, &oom_calls);
    sweep("add", NULL, op_add, NULL, &oom_calls);
    sweep("set_own_jid", setup_own_jid, op_own_jid, NULL, &oom_calls);
    sweep("send_iq", NULL, op_send_iq, NULL, &oom_calls);
    sweep("send_iq growing", setup_sixteen, op_send_iq, NULL, &oom_calls);
    /* the sender has to be prepared for a 'from' filter */
    sweep("dispatch with a from filter", setup_from_handler, op_dispatch,
          "<message from='juliet@example.com/balcony'><body>x</body>"
          "</message>",
          &oom_calls);
    /* the automatic reply */
    sweep("dispatch with an automatic reply", NULL, op_dispatch,
          "<iq type='get' id='g1' from='juliet@example.com/balcony'>"
          "<query xmlns='jabber:iq:version'/></iq>",
          &oom_calls);
    /* a reply to a pending request: its sender has to be prepared */
    sweep("dispatch of a reply", setup_request, op_reply,
          "<iq type='result' id='req' from='juliet@example.com/balcony'/>",
          &oom_calls);
    XT_EQ_INT(xt_failalloc_remove(), 0);
}

/* ======================================================================== */
/* many pending requests                                                      */
/* ======================================================================== */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rng(void)
{
    /* xorshift64*: deterministic, good enough for test data */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717u) >> 32);
}

#define MANY 10000

static void test_many_pending_in_deadline_order(void)
{
    xmppc__dispatch *d = new_dispatch();
    XT_EQ_INT(xmppc__dispatch_set_max_pending(d, MANY), 0);
    iqrec *r = calloc(MANY, sizeof *r);
    fire_counter = 0;
    for (int i = 0; i < MANY; i++) {
        unsigned int timeout = 1 + rng() % 60000;
        char id[16];
        snprintf(id, sizeof id, "m%d", i);
        r[i].deadline = fake_now + timeout;
        XT_EQ_INT(send_ping(d, &r[i], NULL, id, timeout), 0);
        if (i % 3 == 0)
            fake_now += rng() % 3; /* sent over time */
    }
    XT_EQ_INT(xmppc__dispatch_pending_count(d), MANY);
    /* answer every seventh one first: removals from inside the heap */
    int answered = 0;
    for (int i = 0; i < MANY; i += 7) {
        char xml[64];
        snprintf(xml, sizeof xml, "<iq type='result' id='m%d'/>", i);
        XT_EQ_INT(feed(d, xml), 0);
        answered++;
    }
    XT_EQ_INT(xmppc__dispatch_pending_count(d), MANY - answered);
    /* then let time pass in uneven steps */
    int steps = 0;
    for (;;) {
        int next = xmppc__dispatch_next_timeout_ms(d);
        if (next < 0)
            break;
        /* never a deadline in the past that was left unfired */
        XT_CHECK(next > 0 || steps == 0);
        fake_now += (uint64_t)next + rng() % 40;
        xmppc__dispatch_process_timeouts(d);
        steps++;
        for (int i = 0; i < MANY; i++)
            if (r[i].calls == 0 && i % 7 != 0 && r[i].deadline <= fake_now) {
                XT_FAIL_AT(__FILE__, __LINE__, "m%d due but not fired", i);
                break;
            }
        if (xt_current_failed)
            break;
    }
    XT_EQ_INT(xmppc__dispatch_pending_count(d), 0);
    /* every one exactly once; the timed-out ones in deadline order */
    int *by_order = calloc(MANY + 1, sizeof *by_order);
    for (int i = 0; i < MANY; i++) {
        XT_EQ_INT(r[i].calls, 1);
        XT_EQ_INT(r[i].destroys, 1);
        XT_EQ_INT(r[i].code, i % 7 == 0 ? 0 : XMPPC_ETIMEDOUT);
        if (r[i].code == XMPPC_ETIMEDOUT)
            XT_CHECK(r[i].fired_at >= r[i].deadline);
        by_order[r[i].order] = i;
    }
    uint64_t last = 0;
    int last_i = -1;
    for (int k = 1; k <= MANY; k++) {
        int i = by_order[k];
        if (i % 7 == 0)
            continue;
        if (r[i].deadline < last ||
            (r[i].deadline == last && i < last_i)) { /* ties: sending order */
            XT_FAIL_AT(__FILE__, __LINE__,
                       "m%d (due %" PRIu64 ") fired after m%d (due %" PRIu64
                       ")",
                       i, r[i].deadline, last_i, last);
            break;
        }
        last = r[i].deadline;
        last_i = i;
    }
    free(by_order);
    free(r);
    xmppc__dispatch_free(d);
    sink_reset();
}

XT_MAIN(XT_TEST(test_registration_order), XT_TEST(test_bad_arguments),
        XT_TEST(test_filter_kind), XT_TEST(test_filter_type),
        XT_TEST(test_filter_child), XT_TEST(test_filter_from),
        XT_TEST(test_continue_handled_remove), XT_TEST(test_negative_return),
        XT_TEST(test_floating_and_owned), XT_TEST(test_remove_inside_callbacks),
        XT_TEST(test_handle_outlives_dispatcher),
        XT_TEST(test_destroy_exactly_once), XT_TEST(test_add_during_dispatch),
        XT_TEST(test_auto_service_unavailable),
        XT_TEST(test_no_reply_to_result_or_error), XT_TEST(test_bad_request),
        XT_TEST(test_iq_result), XT_TEST(test_iq_error_reply),
        XT_TEST(test_iq_timeout), XT_TEST(test_iq_cancel),
        XT_TEST(test_iq_spoofed_reply), XT_TEST(test_iq_server_replies),
        XT_TEST(test_iq_pending_limit), XT_TEST(test_iq_ids_and_refusals),
        XT_TEST(test_deferred_free_in_handler),
        XT_TEST(test_deferred_free_in_iq_callback),
        XT_TEST(test_deferred_free_in_timeout),
        XT_TEST(test_free_from_destroy_callback),
        XT_TEST(test_callbacks_during_teardown),
        XT_TEST(test_resend_from_callbacks), XT_TEST(test_free_order),
        XT_TEST(test_nested_dispatch), XT_TEST(test_no_content_in_logs),
        XT_TEST(test_out_of_memory),
        XT_TEST(test_many_pending_in_deadline_order))
