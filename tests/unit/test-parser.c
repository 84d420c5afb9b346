/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The stream reader (lib/parser.h): events and trees, delivery latency
 * whatever the chunk boundaries, restarts, restricted XML, limits, and a
 * corpus of hostile input.
 */
#include <stdarg.h>
#include <stdbool.h>

#include <unistd.h>

#include "../xtest.h"
#include "parser.h"
#include "xmppc-private.h"

#define HDR                                                                    \
    "<stream:stream xmlns='jabber:client' "                                    \
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"

/* ---- recording the reader's events ----------------------------------------
 */

typedef struct events {
    char *log; /* one line per event, to compare runs */
    size_t len, cap;
    int opens, stanzas, closes, errors;
    int error_code;
    char error_cond[64];
    char *hdr[6]; /* from, to, id, version, lang, content_ns */
    bool hdr_seen_null[6];
    xmppc_stanza *kept[16]; /* the first stanzas, referenced */
    size_t nkept;
    bool parent_not_null; /* a delivered stanza had a parent */
    const char *stop_on;  /* a stanza with this name stops the reader */
    bool stop_on_open;
} events;

/* The test's own memory comes from malloc, not libxmppc's allocator, so
 * that it neither counts as a leak nor fails in out-of-memory sweeps. */
static void log_add(events *ev, const char *fmt, ...) XMPPC_PRINTF(2, 3);

static void log_add(events *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (ev->len + (size_t)n + 1 > ev->cap) {
        size_t cap = ev->cap ? ev->cap : 256;
        while (cap < ev->len + (size_t)n + 1)
            cap *= 2;
        char *p = realloc(ev->log, cap);
        if (!p)
            abort();
        ev->log = p;
        ev->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(ev->log + ev->len, ev->cap - ev->len, fmt, ap);
    va_end(ap);
    ev->len += (size_t)n;
}

static const char *or_null(const char *s)
{
    return s ? s : "(null)";
}

static int on_open(void *ud, const xmppc__stream_header *h)
{
    events *ev = ud;
    const char *f[6] = {h->from,    h->to,   h->id,
                        h->version, h->lang, h->content_ns};
    ev->opens++;
    for (int i = 0; i < 6; i++) {
        free(ev->hdr[i]);
        ev->hdr[i] = f[i] ? strdup(f[i]) : NULL;
        ev->hdr_seen_null[i] = f[i] == NULL;
    }
    log_add(ev, "open from=%s to=%s id=%s version=%s lang=%s ns=%s\n",
            or_null(h->from), or_null(h->to), or_null(h->id),
            or_null(h->version), or_null(h->lang), or_null(h->content_ns));
    return ev->stop_on_open ? 1 : 0;
}

static int on_stanza(void *ud, xmppc_stanza *s)
{
    events *ev = ud;
    ev->stanzas++;
    if (xmppc_stanza_get_parent(s))
        ev->parent_not_null = true;
    char *xml = NULL;
    if (xmppc_stanza_to_string(&xml, NULL, s) == 0)
        log_add(ev, "stanza %s\n", xml);
    else
        log_add(ev, "stanza (not serializable)\n");
    xmppc_free(xml);
    if (ev->nkept < sizeof ev->kept / sizeof ev->kept[0])
        ev->kept[ev->nkept++] = xmppc_stanza_ref(s);
    return ev->stop_on && strcmp(xmppc_stanza_get_name(s), ev->stop_on) == 0;
}

static void on_close(void *ud)
{
    events *ev = ud;
    ev->closes++;
    log_add(ev, "close\n");
}

static void on_error(void *ud, int code, const char *condition,
                     const char *message)
{
    events *ev = ud;
    ev->errors++;
    ev->error_code = code;
    snprintf(ev->error_cond, sizeof ev->error_cond, "%s", or_null(condition));
    log_add(ev, "error %d %s (%s)\n", code, or_null(condition),
            or_null(message));
}

static const xmppc__parser_callbacks recording = {on_open, on_stanza, on_close,
                                                  on_error};

static void events_free(events *ev)
{
    free(ev->log);
    for (int i = 0; i < 6; i++)
        free(ev->hdr[i]);
    for (size_t i = 0; i < ev->nkept; i++)
        xmppc_stanza_unref(ev->kept[i]);
    memset(ev, 0, sizeof *ev);
}

static xmppc__parser *new_reader(events *ev)
{
    xmppc__parser *p = NULL;
    memset(ev, 0, sizeof *ev);
    XT_EQ_INT(xmppc__parser_new(&p, &recording, ev), 0);
    return p;
}

static int feed_str(xmppc__parser *p, const char *s)
{
    return xmppc__parser_feed(p, s, strlen(s));
}

/* Feeds a whole stream in one call; returns the reader (caller frees). */
static xmppc__parser *read_all(events *ev, const char *stream)
{
    xmppc__parser *p = new_reader(ev);
    XT_EQ_INT(feed_str(p, stream), 0);
    XT_EQ_INT(ev->errors, 0);
    return p;
}

static const char *attr(const xmppc_stanza *s, const char *name)
{
    return xmppc_stanza_get_attr(s, name);
}

/* ---- basics ---------------------------------------------------------------
 */

static void test_new_free_and_arguments(void)
{
    xmppc__parser *p = NULL;
    XT_EQ_INT(xmppc__parser_new(NULL, &recording, NULL), XMPPC_EINVAL);
    /* No callbacks at all is allowed. */
    XT_EQ_INT(xmppc__parser_new(&p, NULL, NULL), 0);
    XT_EQ_INT(feed_str(p, HDR "<message/>"), 0);
    XT_EQ_INT(xmppc__parser_feed(p, NULL, 0), 0);
    XT_EQ_INT(xmppc__parser_feed(p, "", 0), 0);
    XT_EQ_INT(xmppc__parser_feed(NULL, "x", 1), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__parser_feed(p, NULL, 1), XMPPC_EINVAL);
    XT_CHECK(xmppc__parser_error_condition(p) == NULL);
    XT_CHECK(xmppc__parser_error_message(p) == NULL);
    xmppc__parser_free(p);
    xmppc__parser_free(NULL);
    xmppc_error_clear();
}

static void test_stream_header_fields(void)
{
    events ev;
    xmppc__parser *p =
        read_all(&ev, "<?xml version='1.0'?><stream:stream from='example.com' "
                      "to='juliet@example.com' id='s&amp;1' version='1.0' "
                      "xml:lang='en' xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams'>");
    /* Delivered without any byte after the header's '>'. */
    XT_EQ_INT(ev.opens, 1);
    XT_EQ_STR(ev.hdr[0], "example.com");
    XT_EQ_STR(ev.hdr[1], "juliet@example.com");
    XT_EQ_STR(ev.hdr[2], "s&1");
    XT_EQ_STR(ev.hdr[3], "1.0");
    XT_EQ_STR(ev.hdr[4], "en");
    XT_EQ_STR(ev.hdr[5], XMPPC_NS_CLIENT);
    XT_EQ_INT(ev.stanzas, 0);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_stream_header_absent_fields_null(void)
{
    events ev;
    xmppc__parser *p =
        read_all(&ev, "<stream:stream xmlns='jabber:client' "
                      "xmlns:stream='http://etherx.jabber.org/streams'>");
    XT_EQ_INT(ev.opens, 1);
    for (int i = 0; i < 5; i++)
        XT_CHECK(ev.hdr_seen_null[i]);
    XT_EQ_STR(ev.hdr[5], XMPPC_NS_CLIENT);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_stream_header_delivered_at_its_last_byte(void)
{
    static const char header[] = "<?xml version='1.0'?>" HDR;
    events ev;
    xmppc__parser *p = new_reader(&ev);
    for (size_t i = 0; i + 1 < sizeof header; i++) {
        XT_EQ_INT(xmppc__parser_feed(p, header + i, 1), 0);
        /* Not before the '>', and without waiting for more. */
        XT_EQ_INT(ev.opens, i + 2 == sizeof header ? 1 : 0);
    }
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_stanza_tree(void)
{
    events ev;
    xmppc__parser *p = read_all(
        &ev, HDR "<message from='romeo@example.net/orchard' type='chat' "
                 "xml:lang='en' xmlns:p='urn:p' p:flag='1'>"
                 "<body>Hi \xE2\x98\xBA</body>"
                 "<x xmlns='urn:x' a='1'><y/><p:z>zz</p:z></x>"
                 "</message>");
    XT_EQ_INT(ev.stanzas, 1);
    XT_CHECK(!ev.parent_not_null);
    xmppc_stanza *m = ev.kept[0];
    XT_EQ_STR(xmppc_stanza_get_name(m), "message");
    XT_EQ_STR(xmppc_stanza_get_ns(m), XMPPC_NS_CLIENT);
    XT_EQ_STR(attr(m, "from"), "romeo@example.net/orchard");
    XT_EQ_STR(attr(m, "type"), "chat");
    XT_EQ_STR(attr(m, "xml:lang"), "en");
    XT_EQ_STR(xmppc_stanza_get_attr_ns(m, "urn:p", "flag"), "1");
    /* Namespace declarations are not attributes. */
    XT_EQ_INT(xmppc_stanza_attr_count(m), 4);
    XT_EQ_STR(xmppc_message_get_body(m), "Hi \xE2\x98\xBA");
    xmppc_stanza *x = xmppc_stanza_get_child(m, "x", "urn:x");
    XT_CHECK(x != NULL);
    XT_EQ_STR(attr(x, "a"), "1");
    XT_EQ_STR(xmppc_stanza_get_ns(xmppc_stanza_get_child(x, "y", NULL)),
              "urn:x");
    XT_EQ_STR(xmppc_stanza_get_child_text(x, "z", "urn:p"), "zz");
    XT_EQ_INT(xmppc_stanza_child_count(m), 2);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_stanza_outlives_reader_when_referenced(void)
{
    events ev;
    xmppc__parser *p = read_all(&ev, HDR "<iq type='get' id='1'/>");
    xmppc__parser_free(p);
    XT_EQ_INT(ev.nkept, 1);
    XT_EQ_STR(attr(ev.kept[0], "id"), "1");
    events_free(&ev);
}

static void test_mixed_content_and_whitespace_inside_stanza(void)
{
    events ev;
    xmppc__parser *p =
        read_all(&ev, HDR "<message><body> </body><p>a<b/>c</p></message>");
    xmppc_stanza *m = ev.kept[0];
    XT_EQ_STR(xmppc_stanza_get_child_text(m, "body", NULL), " ");
    xmppc_stanza *para = xmppc_stanza_get_child(m, "p", NULL);
    XT_EQ_INT(xmppc_stanza_child_count(para), 3);
    XT_EQ_STR(xmppc_stanza_get_text(para), "ac");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_whitespace_keepalives_ignored(void)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR), 0);
    XT_EQ_INT(feed_str(p, " "), 0);
    XT_EQ_INT(feed_str(p, "\n"), 0);
    XT_EQ_INT(feed_str(p, "<message/>"), 0);
    XT_EQ_INT(feed_str(p, " \r\n\t "), 0);
    XT_EQ_INT(feed_str(p, "<presence/> "), 0);
    XT_EQ_INT(ev.stanzas, 2);
    XT_EQ_INT(ev.errors, 0);
    XT_CHECK(ev.log && strcmp(ev.log, "open from=(null) to=(null) id=(null) "
                                      "version=1.0 lang=(null) "
                                      "ns=jabber:client\n"
                                      "stanza <message/>\n"
                                      "stanza <presence/>\n") == 0);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_stream_close(void)
{
    events ev;
    xmppc__parser *p = read_all(&ev, HDR "<message/></stream:stream>");
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_INT(ev.closes, 1);
    /* Nothing more is read after the close. */
    XT_EQ_INT(feed_str(p, "<message/>"), XMPPC_ESTATE);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_INT(ev.errors, 0);
    /* A new stream after a reset. */
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    XT_EQ_INT(feed_str(p, HDR "<message/>"), 0);
    XT_EQ_INT(ev.opens, 2);
    XT_EQ_INT(ev.stanzas, 2);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_cdata_allowed(void)
{
    events ev;
    xmppc__parser *p =
        read_all(&ev, HDR "<message><body>x<![CDATA[a<b>&c;]]]]>y"
                          "<![CDATA[]]></body></message>");
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_STR(xmppc_message_get_body(ev.kept[0]), "xa<b>&c;]]y");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_entities_in_attributes_decoded(void)
{
    /* libxml2 2.9 hands "&#38;" for "&amp;" in attributes unless told. */
    events ev;
    xmppc__parser *p = read_all(
        &ev, HDR "<message id='a&amp;b&#38;c&lt;d&quot;e&#x263A;f&apos;g&gt;h"
                 "&#60;'/>");
    XT_EQ_STR(attr(ev.kept[0], "id"), "a&b&c<d\"e\xE2\x98\xBA"
                                      "f'g>h<");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_entities_in_text_decoded(void)
{
    events ev;
    xmppc__parser *p = read_all(
        &ev, HDR "<message><body>a&amp;b&#38;c&lt;d&quot;e&#x263A;f&apos;g"
                 "&gt;h&#x1F600;</body></message>");
    XT_EQ_STR(xmppc_message_get_body(ev.kept[0]), "a&b&c<d\"e\xE2\x98\xBA"
                                                  "f'g>h\xF0\x9F\x98\x80");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_attribute_whitespace_normalised(void)
{
    /* Literal tab/newline become spaces (XML 1.0 section 3.3.3), character
     * references keep them; this is why the serializer escapes them. */
    events ev;
    xmppc__parser *p =
        read_all(&ev, HDR "<message a='x\ty\nz\r\nw' b='x&#9;y&#10;z&#13;w'/>");
    XT_EQ_STR(attr(ev.kept[0], "a"), "x y z w");
    XT_EQ_STR(attr(ev.kept[0], "b"), "x\ty\nz\rw");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_line_endings_in_text(void)
{
    events ev;
    xmppc__parser *p =
        read_all(&ev, HDR "<message><body>a\r\nb\rc&#13;d</body></message>");
    XT_EQ_STR(xmppc_message_get_body(ev.kept[0]), "a\nb\nc\rd");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_top_level_in_other_namespaces(void)
{
    events ev;
    xmppc__parser *p = read_all(
        &ev, HDR "<stream:features><starttls "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"
                 "<r xmlns='urn:xmpp:sm:3'/>");
    XT_EQ_INT(ev.stanzas, 2);
    XT_EQ_STR(xmppc_stanza_get_name(ev.kept[0]), "features");
    XT_EQ_STR(xmppc_stanza_get_ns(ev.kept[0]), XMPPC_NS_STREAMS);
    XT_CHECK(xmppc_stanza_get_child(ev.kept[0], "starttls",
                                    "urn:ietf:params:xml:ns:xmpp-tls"));
    XT_EQ_STR(xmppc_stanza_get_ns(ev.kept[1]), "urn:xmpp:sm:3");
    xmppc__parser_free(p);
    events_free(&ev);
}

/* Servers (expat) forward namespace names that are not valid URIs; if they
 * broke the stream, any sender could disconnect us with one message. */
static void test_invalid_uri_namespace_delivered(void)
{
    events ev;
    xmppc__parser *p = read_all(
        &ev, HDR "<message><x xmlns='urn:a&amp;b c&lt;d'/><y xmlns='rel/x'/>"
                 "</message>");
    XT_EQ_INT(ev.stanzas, 1);
    XT_CHECK(xmppc_stanza_get_child(ev.kept[0], "x", "urn:a&b c<d"));
    XT_CHECK(xmppc_stanza_get_child(ev.kept[0], "y", "rel/x"));
    xmppc__parser_free(p);
    events_free(&ev);
}

/* The public one-element parser uses the same reader and rules. */
static void test_stanza_from_string(void)
{
    xmppc_stanza *s = NULL;
    XT_EQ_INT(xmppc_stanza_from_string(
                  &s, "  <query xmlns='jabber:iq:roster' ver='v1'><item "
                      "jid='a@b' name='A &amp; B'/></query>\n"),
              0);
    XT_EQ_STR(xmppc_stanza_get_ns(s), "jabber:iq:roster");
    XT_EQ_STR(
        xmppc_stanza_get_attr(xmppc_stanza_get_child(s, "item", NULL), "name"),
        "A & B");
    s = xmppc_stanza_unref(s);
    XT_EQ_INT(xmppc_stanza_from_string(&s, "<message><body>x</body></message>"),
              0);
    XT_EQ_STR(xmppc_stanza_get_ns(s), XMPPC_NS_CLIENT);
    s = xmppc_stanza_unref(s);
    XT_EQ_INT(xmppc_stanza_from_string(&s, "<a/><b/>"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_stanza_from_string(&s, "   "), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_stanza_from_string(&s, "<a><!-- c --></a>"), XMPPC_EPARSE);
    XT_EQ_STR(xmppc_error_last()->condition, "restricted-xml");
    XT_EQ_INT(xmppc_stanza_from_string(&s, "<!DOCTYPE a><a/>"), XMPPC_EPARSE);
    XT_EQ_INT(xmppc_stanza_from_string(&s, "x<a/>"), XMPPC_EPARSE);
    XT_EQ_INT(xmppc_stanza_from_string(&s, "<a>"), XMPPC_EPARSE);
    XT_EQ_INT(xmppc_stanza_from_string(&s, NULL), XMPPC_EINVAL);
    XT_CHECK(s == NULL);
    xmppc_error_clear();
}

/* ---- chunk boundaries ------------------------------------------------------
 */

/* A realistic stream with its parts, so that the offset of every event's
 * last byte is known. */
enum part_kind { PROLOG, HEADER, STANZA, SPACE, CLOSE };
static const struct part {
    enum part_kind kind;
    const char *text;
} parts[] = {
    {PROLOG, "<?xml version='1.0'?>"},
    {HEADER, "<stream:stream from='example.com' id='s\xC3\xA9"
             "ance' version='1.0' xml:lang='fr' xmlns='jabber:client' "
             "xmlns:stream='http://etherx.jabber.org/streams'>"},
    {STANZA, "<stream:features><starttls "
             "xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
             "</stream:features>"},
    {SPACE, "\n  "},
    {STANZA, "<message from='juliette@example.com/balcon' "
             "to='rom\xC3\xA9o@example.net' type='chat' id='m&amp;1'>"
             "<body>Bonjour \xE2\x98\xBA &lt;3 &#x1F600; caf\xC3\xA9</body>"
             "<thread>t\xF0\x9D\x84\x9E</thread></message>"},
    {SPACE, " "},
    {STANZA, "<iq type='result' id='r1'><query xmlns='jabber:iq:roster' "
             "ver='v&#38;1'><item jid='a@b' name='\xE5\x90\x8D\xE5\x89\x8D'>"
             "<group>Fr&#xE9;res</group></item><item jid='c@d' "
             "subscription='both'/></query></iq>"},
    {STANZA, "<message><body><![CDATA[<not> & ]] a \xE2\x82\xAC tag]]>"
             "</body><x xmlns='urn:x' xmlns:p='urn:p' "
             "p:attr='&quot;q&quot; \xF0\x9F\x98\x80'>mixed<y/>text&apos;s"
             "</x></message>"},
    {SPACE, "\r\n"},
    {STANZA, "<presence xml:lang='de'><status>Ich bin \xC3\xBC"
             "ber&#10;</status><c xmlns='http://jabber.org/protocol/caps' "
             "hash='sha-1' node='n' ver='abc='/></presence>"},
    {STANZA, "<a><b><c><d>deep</d></c></b></a>"},
    {STANZA, "<message id='x>y' a=\"'>\" b='\">'><body>1 > 0, it's "
             "\"quoted\" > </body></message>"},
    {CLOSE, "</stream:stream>"},
};
#define N_PARTS (sizeof parts / sizeof parts[0])

typedef struct split_stream {
    char text[2048];
    size_t len;
    size_t header_end, close_end;
    size_t stanza_end[N_PARTS];
    size_t nstanzas;
} split_stream;

static void build_split_stream(split_stream *s)
{
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < N_PARTS; i++) {
        size_t n = strlen(parts[i].text);
        memcpy(s->text + s->len, parts[i].text, n);
        s->len += n;
        if (parts[i].kind == HEADER)
            s->header_end = s->len;
        else if (parts[i].kind == STANZA)
            s->stanza_end[s->nstanzas++] = s->len;
        else if (parts[i].kind == CLOSE)
            s->close_end = s->len;
    }
}

/* Checks the events after the first @p fed bytes were given. */
static bool check_progress_at(const char *file, int line, const split_stream *s,
                              const events *ev, size_t fed, const char *how)
{
    int want_stanzas = 0;
    for (size_t i = 0; i < s->nstanzas; i++)
        want_stanzas += s->stanza_end[i] <= fed;
    int want_open = fed >= s->header_end, want_close = fed >= s->close_end;
    if (ev->opens != want_open || ev->stanzas != want_stanzas ||
        ev->closes != want_close || ev->errors != 0) {
        XT_FAIL_AT(file, line,
                   "%s, after %zu bytes: %d opens, %d stanzas, %d closes, "
                   "%d errors; expected %d, %d, %d, 0",
                   how, fed, ev->opens, ev->stanzas, ev->closes, ev->errors,
                   want_open, want_stanzas, want_close);
        return false;
    }
    return true;
}
#define CHECK_PROGRESS(s, ev, fed, how)                                        \
    check_progress_at(__FILE__, __LINE__, (s), (ev), (fed), (how))

static bool same_run(const events *ref, const events *ev, const char *how)
{
    bool same =
        ev->log && strcmp(ref->log, ev->log) == 0 && ref->nkept == ev->nkept;
    for (size_t i = 0; same && i < ref->nkept; i++)
        same = xmppc_stanza_equal(ref->kept[i], ev->kept[i]) == 1;
    if (!same) {
        XT_FAIL_AT(__FILE__, __LINE__, "%s: events differ from one feed", how);
        xt_diag("events", ev->log);
        xt_diag("one feed", ref->log);
    }
    return same;
}

static void test_split_reference_run(void)
{
    split_stream s;
    build_split_stream(&s);
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(xmppc__parser_feed(p, s.text, s.len), 0);
    CHECK_PROGRESS(&s, &ev, s.len, "one feed");
    XT_EQ_INT(ev.stanzas, 7);
    XT_EQ_STR(attr(ev.kept[6], "a"), "'>");
    XT_EQ_STR(xmppc_message_get_body(ev.kept[6]), "1 > 0, it's \"quoted\" > ");
    XT_EQ_STR(ev.hdr[2], "s\xC3\xA9"
                         "ance");
    XT_EQ_STR(attr(ev.kept[1], "id"), "m&1");
    XT_EQ_STR(attr(ev.kept[1], "to"), "rom\xC3\xA9o@example.net");
    XT_EQ_STR(xmppc_message_get_body(ev.kept[1]),
              "Bonjour \xE2\x98\xBA <3 \xF0\x9F\x98\x80 caf\xC3\xA9");
    XT_EQ_STR(xmppc_message_get_body(ev.kept[3]),
              "<not> & ]] a \xE2\x82\xAC tag");
    XT_EQ_STR(
        xmppc_stanza_get_attr_ns(
            xmppc_stanza_get_child(ev.kept[3], "x", "urn:x"), "urn:p", "attr"),
        "\"q\" \xF0\x9F\x98\x80");
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_split_at_every_offset(void)
{
    split_stream s;
    build_split_stream(&s);
    events ref;
    xmppc__parser *p = new_reader(&ref);
    XT_EQ_INT(xmppc__parser_feed(p, s.text, s.len), 0);
    xmppc__parser_free(p);
    size_t failures = 0;
    for (size_t k = 1; k < s.len && failures < 5; k++) {
        events ev;
        char how[64];
        snprintf(how, sizeof how, "split at %zu", k);
        p = new_reader(&ev);
        bool ok = xmppc__parser_feed(p, s.text, k) == 0 &&
                  CHECK_PROGRESS(&s, &ev, k, how) &&
                  xmppc__parser_feed(p, s.text + k, s.len - k) == 0 &&
                  CHECK_PROGRESS(&s, &ev, s.len, how) &&
                  same_run(&ref, &ev, how);
        if (!ok) {
            failures++;
            XT_FAIL_AT(__FILE__, __LINE__, "%s failed", how);
        }
        xmppc__parser_free(p);
        events_free(&ev);
    }
    events_free(&ref);
}

static void test_split_one_byte_at_a_time(void)
{
    split_stream s;
    build_split_stream(&s);
    events ref, ev;
    xmppc__parser *p = new_reader(&ref);
    XT_EQ_INT(xmppc__parser_feed(p, s.text, s.len), 0);
    xmppc__parser_free(p);
    p = new_reader(&ev);
    for (size_t i = 0; i < s.len; i++) {
        int rc = xmppc__parser_feed(p, s.text + i, 1);
        if (rc != 0) {
            XT_FAIL_AT(__FILE__, __LINE__, "byte %zu: feed returned %d (%s)", i,
                       rc, xmppc_error_last()->message);
            break;
        }
        if (!CHECK_PROGRESS(&s, &ev, i + 1, "one byte at a time"))
            break;
    }
    same_run(&ref, &ev, "one byte at a time");
    xmppc__parser_free(p);
    events_free(&ev);
    events_free(&ref);
}

/* ---- stopping and restarting -----------------------------------------------
 */

static void test_stop_discards_rest_of_chunk_then_restart(void)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    ev.stop_on = "proceed";
    XT_EQ_INT(feed_str(p, HDR), 0);
    /* What follows <proceed/> in the same read is plaintext injected
     * before TLS: it must never be parsed. */
    XT_EQ_INT(feed_str(p, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
                          "<message>injected</message>"),
              0);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_STR(xmppc_stanza_get_name(ev.kept[0]), "proceed");
    XT_EQ_INT(ev.errors, 0);
    XT_CHECK(xmppc__parser_error_condition(p) == NULL);
    /* Stopped: no more input until the reset. */
    XT_EQ_INT(feed_str(p, "<message>injected</message>"), XMPPC_ESTATE);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    /* The new stream starts from scratch, XML declaration allowed. */
    XT_EQ_INT(feed_str(p, "<?xml version='1.0'?>" HDR
                          "<message><body>after</body></message>"),
              0);
    XT_EQ_INT(ev.opens, 2);
    XT_EQ_INT(ev.stanzas, 2);
    XT_EQ_STR(xmppc_message_get_body(ev.kept[1]), "after");
    XT_EQ_INT(ev.errors, 0);
    XT_CHECK(ev.log && strstr(ev.log, "injected") == NULL);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_stop_ignores_garbage_after_stop(void)
{
    /* Bytes after the stop are not even checked (here: a TLS record and
     * invalid UTF-8). */
    static const char chunk[] =
        "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
        "\x16\x03\x01\x02\x00\x01\x00\xFF\xFE<<<";
    events ev;
    xmppc__parser *p = new_reader(&ev);
    ev.stop_on = "success";
    XT_EQ_INT(feed_str(p, HDR), 0);
    XT_EQ_INT(xmppc__parser_feed(p, chunk, sizeof chunk - 1), 0);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_INT(ev.errors, 0);
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    XT_EQ_INT(feed_str(p, HDR "<message/>"), 0);
    XT_EQ_INT(ev.stanzas, 2);
    XT_EQ_INT(ev.errors, 0);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_stop_in_stream_open(void)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    ev.stop_on_open = true;
    XT_EQ_INT(feed_str(p, HDR "<message/>"), 0);
    XT_EQ_INT(ev.opens, 1);
    XT_EQ_INT(ev.stanzas, 0);
    XT_EQ_INT(feed_str(p, "<message/>"), XMPPC_ESTATE);
    ev.stop_on_open = false;
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    XT_EQ_INT(feed_str(p, HDR "<message/>"), 0);
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_reset_mid_stanza_drops_partial_stanza(void)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR "<message><body>half"), 0);
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    XT_EQ_INT(feed_str(p, HDR "<presence/>"), 0);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_STR(xmppc_stanza_get_name(ev.kept[0]), "presence");
    XT_EQ_INT(ev.errors, 0);
    xmppc__parser_free(p);
    events_free(&ev);
}

/* ---- hostile input ----------------------------------------------------------
 */

typedef struct bad_outcome {
    long allocations; /* libxmppc allocations while reading (one feed) */
    size_t error_at;  /* bytes fed when the error came (piecewise run) */
} bad_outcome;

/* Feeds @p input whole and then in @p piece-byte pieces; each run must end
 * in one error with @p want_rc and @p want_cond, reported by the error
 * callback, the return code, the last error and
 * xmppc__parser_error_condition, with no stanza delivered; then the reader
 * refuses input until a reset, after which it works again. */
static bad_outcome check_bad_at(const char *file, int line, const char *input,
                                size_t len, size_t piece, int want_rc,
                                const char *want_cond)
{
    bad_outcome out = {0, 0};
    events ev;
    bool counting = xt_failalloc_install(0) == 0;
    xmppc__parser *p = new_reader(&ev);
    xmppc_error_clear();
    int rc = xmppc__parser_feed(p, input, len);
    out.allocations = xt_failalloc.calls;
    const char *cond = xmppc__parser_error_condition(p);
    const char *msg = xmppc__parser_error_message(p);
    if (rc != want_rc || ev.errors != 1 || ev.error_code != want_rc ||
        strcmp(ev.error_cond, want_cond) != 0 || !cond ||
        strcmp(cond, want_cond) != 0)
        XT_FAIL_AT(file, line,
                   "one feed: rc %d, %d error callbacks (last: code %d, %s), "
                   "condition %s; expected rc %d and %s",
                   rc, ev.errors, ev.error_code, ev.error_cond, or_null(cond),
                   want_rc, want_cond);
    if (!msg || !*msg)
        XT_FAIL_AT(file, line, "no error message");
    if (xmppc_error_last()->code != want_rc || !xmppc_error_last()->condition ||
        strcmp(xmppc_error_last()->condition, want_cond) != 0)
        XT_FAIL_AT(file, line, "xmppc_error_last(): code %d condition %s",
                   xmppc_error_last()->code,
                   or_null(xmppc_error_last()->condition));
    if (ev.stanzas != 0) {
        XT_FAIL_AT(file, line, "%d stanzas delivered", ev.stanzas);
        xt_diag("events", ev.log);
    }
    if (feed_str(p, HDR "<message/>") != XMPPC_ESTATE || ev.errors != 1)
        XT_FAIL_AT(file, line, "input accepted after the error");
    int before = ev.stanzas;
    if (xmppc__parser_reset(p) != 0 || xmppc__parser_error_condition(p) ||
        feed_str(p, HDR "<message/>") != 0 || ev.stanzas != before + 1 ||
        ev.errors != 1) {
        XT_FAIL_AT(file, line, "no clean restart after reset");
        xt_diag("events", ev.log);
    }
    xmppc__parser_free(p);
    events_free(&ev);
    if (counting)
        xt_failalloc_remove();

    p = new_reader(&ev);
    rc = 0;
    size_t fed = 0;
    while (fed < len && rc == 0) {
        size_t n = len - fed < piece ? len - fed : piece;
        rc = xmppc__parser_feed(p, input + fed, n);
        fed += n;
    }
    out.error_at = fed;
    cond = xmppc__parser_error_condition(p);
    if (rc != want_rc || ev.errors != 1 || !cond ||
        strcmp(cond, want_cond) != 0 || ev.stanzas != 0)
        XT_FAIL_AT(file, line,
                   "in %zu-byte pieces: rc %d after %zu bytes, %d errors, "
                   "condition %s, %d stanzas; expected rc %d and %s",
                   piece, rc, fed, ev.errors, or_null(cond), ev.stanzas,
                   want_rc, want_cond);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
    return out;
}
#define CHECK_BAD(input, rc, cond)                                             \
    check_bad_at(__FILE__, __LINE__, (input), sizeof(input) - 1, 1, (rc),      \
                 (cond))
#define CHECK_BAD_LEN(input, len, piece, rc, cond)                             \
    check_bad_at(__FILE__, __LINE__, (input), (len), (piece), (rc), (cond))

static void test_bad_comment(void)
{
    CHECK_BAD(HDR "<!-- hello -->", XMPPC_EPARSE, "restricted-xml");
    CHECK_BAD(HDR "<message><!-- hello --></message>", XMPPC_EPARSE,
              "restricted-xml");
    CHECK_BAD("<!-- before -->" HDR, XMPPC_EPARSE, "restricted-xml");
}

static void test_bad_processing_instruction(void)
{
    CHECK_BAD(HDR "<?foo bar?>", XMPPC_EPARSE, "restricted-xml");
    CHECK_BAD(HDR "<message><?foo?></message>", XMPPC_EPARSE, "restricted-xml");
    CHECK_BAD("<?xml version='1.0'?><?xml-stylesheet href='a'?>" HDR,
              XMPPC_EPARSE, "restricted-xml");
}

static void test_bad_dtd(void)
{
    CHECK_BAD("<?xml version='1.0'?><!DOCTYPE stream:stream>" HDR, XMPPC_EPARSE,
              "restricted-xml");
    CHECK_BAD("<!DOCTYPE stream:stream [<!ENTITY x 'y'>]>" HDR
              "<message>&x;</message>",
              XMPPC_EPARSE, "restricted-xml");
    CHECK_BAD("<!DOCTYPE stream:stream SYSTEM 'http://example.com/x.dtd'>" HDR,
              XMPPC_EPARSE, "restricted-xml");
}

static void test_bad_billion_laughs(void)
{
    bad_outcome o = CHECK_BAD(
        "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
        "<!ENTITY lol1 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
        "<!ENTITY lol2 '&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;'>"
        "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
        "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"
        "<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"
        "<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"
        "<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"
        "<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"
        "<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>"
        "]>" HDR "<message a='&lol9;'><body>&lol9;</body></message>",
        XMPPC_EPARSE, "restricted-xml");
    /* Nothing was expanded into a tree. */
    XT_CHECK(o.allocations < 10);
}

static void test_bad_undefined_entity(void)
{
    CHECK_BAD(HDR "<message><body>&xxe;</body></message>", XMPPC_EPARSE,
              "restricted-xml");
    CHECK_BAD(HDR "<message id='&xxe;'/>", XMPPC_EPARSE, "restricted-xml");
}

static void test_bad_unbound_prefix(void)
{
    CHECK_BAD(HDR "<foo:message/>", XMPPC_EPARSE, "bad-namespace-prefix");
    CHECK_BAD(HDR "<message><foo:x/></message>", XMPPC_EPARSE,
              "bad-namespace-prefix");
    CHECK_BAD(HDR "<message foo:bar='1'/>", XMPPC_EPARSE,
              "bad-namespace-prefix");
}

/* Feeds HDR + @p input; the reader must refuse it as not namespace-well-
 * formed (either condition names the fault) and deliver nothing. */
static void check_not_ns_well_formed_at(const char *file, int line,
                                        const char *input)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR), 0);
    int rc = feed_str(p, input);
    const char *cond = xmppc__parser_error_condition(p);
    if (rc != XMPPC_EPARSE || !cond ||
        (strcmp(cond, "not-well-formed") != 0 &&
         strcmp(cond, "bad-namespace-prefix") != 0) ||
        ev.stanzas != 0) {
        XT_FAIL_AT(file, line, "accepted (rc %d, condition %s): %s", rc,
                   or_null(cond), input);
        xt_diag("events", ev.log);
    }
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}
#define CHECK_NOT_NS_WELL_FORMED(input)                                        \
    check_not_ns_well_formed_at(__FILE__, __LINE__, (input))

static void test_bad_qnames(void)
{
    /* Names with more than one colon, or an empty local part: a tree only
     * holds NCNames, and these would come out as broken XML. */
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:a='urn:a'><a:b:c/></message>");
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:a='urn:a' a:b:c='1'/>");
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:a='urn:a'><a:/></message>");
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:a='urn:a' a:='1'/>");
}

static void test_bad_namespace_declarations(void)
{
    /* Namespaces in XML 1.0 section 3: a prefix cannot be undeclared, xml
     * and xmlns cannot be rebound, their URIs cannot be bound to other
     * prefixes or be the default namespace. */
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:a=''/>");
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:xml='urn:other'/>");
    CHECK_NOT_NS_WELL_FORMED("<message xmlns:xmlns='urn:x'/>");
    CHECK_NOT_NS_WELL_FORMED(
        "<message xmlns:foo='http://www.w3.org/XML/1998/namespace'/>");
    CHECK_NOT_NS_WELL_FORMED(
        "<message xmlns='http://www.w3.org/XML/1998/namespace'/>");
    CHECK_NOT_NS_WELL_FORMED(
        "<message xmlns='http://www.w3.org/2000/xmlns/'/>");
}

static void test_bad_encoding_declaration(void)
{
    CHECK_BAD("<?xml version='1.0' encoding='ISO-8859-1'?>" HDR, XMPPC_EPARSE,
              "unsupported-encoding");
    CHECK_BAD("<?xml version='1.0' encoding='ISO-8859-1'?>" HDR
              "<message><body>caf\xE9</body></message>",
              XMPPC_EPARSE, "unsupported-encoding");
    CHECK_BAD("<?xml version='1.0' encoding='UTF-16'?>" HDR, XMPPC_EPARSE,
              "unsupported-encoding");
}

/* Found by fuzzing: an element in the xml namespace would re-serialize as a
 * forbidden default-namespace declaration. */
static void test_bad_element_in_xml_namespace(void)
{
    CHECK_BAD(HDR "<message><xml:foo/></message>", XMPPC_EPARSE,
              "invalid-namespace");
}

/* libxml2 prints encoder errors to stderr for some encodings; the library
 * must never print, so the declaration is refused before libxml2 sees it.
 * Checked at every split of the declaration. */
static void test_exotic_encoding_declarations_silent(void)
{
    static const char *const encodings[] = {"UTF-32", "ISO-10646-UCS-4",
                                            "UCS-2", "EBCDIC-US"};
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = tmpfile();
    dup2(fileno(capture), 2);
    for (size_t i = 0; i < sizeof encodings / sizeof encodings[0]; i++) {
        char stream[512];
        snprintf(stream, sizeof stream,
                 "<?xml version='1.0' encoding='%s'?>" HDR "<m/>",
                 encodings[i]);
        for (size_t split = 1; split < 60; split++) {
            events ev;
            xmppc__parser *p = new_reader(&ev);
            int rc = xmppc__parser_feed(p, stream, split);
            if (rc == 0)
                rc = xmppc__parser_feed(p, stream + split,
                                        strlen(stream) - split);
            XT_EQ_INT(rc, XMPPC_EPARSE);
            XT_EQ_STR(xmppc__parser_error_condition(p), "unsupported-encoding");
            XT_EQ_INT(ev.stanzas, 0);
            xmppc__parser_free(p);
            events_free(&ev);
        }
    }
    /* Found by fuzzing: streams that ARE UCS-4 or UTF-16 (NUL bytes
     * first), which libxml2 detects and transcodes whatever the options. */
    static const struct {
        const char *bytes;
        size_t len;
    } raw[] = {
        {"\0\0\0<\0\0\0s", 8},                /* UCS-4 big endian */
        {"<\0\0\0s\0\0\0", 8},                /* UCS-4 little endian */
        {"<\0?\0x\0m\0l\0", 10},              /* UTF-16 little endian */
        {"\0<\0?\0x\0m\0l", 10},              /* UTF-16 big endian */
        {HDR "<m>a\0b</m>", sizeof HDR + 10}, /* a NUL later on */
    };
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        events ev;
        xmppc__parser *p = new_reader(&ev);
        XT_EQ_INT(xmppc__parser_feed(p, raw[i].bytes, raw[i].len),
                  XMPPC_EPARSE);
        XT_EQ_INT(ev.stanzas, 0);
        xmppc__parser_free(p);
        events_free(&ev);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    XT_EQ_INT(ftell(capture), 0);
    fclose(capture);
    xmppc_error_clear();
}

static void test_utf8_encoding_declaration_accepted(void)
{
    events ev;
    xmppc__parser *p = read_all(
        &ev, "<?xml version='1.0' encoding='utf-8'?>" HDR "<message/>");
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_bad_xml_version(void)
{
    CHECK_BAD("<?xml version='1.1'?>" HDR, XMPPC_EPARSE, "not-well-formed");
}

static void test_bad_utf8(void)
{
    /* RFC 6120 section 4.9.3.22: violating the UTF-8 rules is
     * <unsupported-encoding/>. */
    CHECK_BAD(HDR "<message><body>a\xC0\xAF</body></message>", XMPPC_EPARSE,
              "unsupported-encoding");
    CHECK_BAD(HDR "<message><body>\xE0\x80\xAF</body></message>", XMPPC_EPARSE,
              "unsupported-encoding");
    CHECK_BAD(HDR "<message><body>\xED\xA0\x80</body></message>", XMPPC_EPARSE,
              "unsupported-encoding");
    CHECK_BAD(HDR "<message><body>\xF8\x88\x80\x80\x80</body></message>",
              XMPPC_EPARSE, "unsupported-encoding");
    CHECK_BAD(HDR "<message><body>x\x80y</body></message>", XMPPC_EPARSE,
              "unsupported-encoding");
    CHECK_BAD(HDR "<message><body>\xF4\x90\x80\x80</body></message>",
              XMPPC_EPARSE, "unsupported-encoding");
    CHECK_BAD(HDR "<message><body>\xFE\xFF</body></message>", XMPPC_EPARSE,
              "unsupported-encoding");
    /* A truncated sequence followed by ASCII. */
    CHECK_BAD(HDR "<message><body>\xE2\x82<</body></message>", XMPPC_EPARSE,
              "unsupported-encoding");
    CHECK_BAD(HDR "<message id='\xC3('/>", XMPPC_EPARSE,
              "unsupported-encoding");
}

static void test_bad_characters(void)
{
    CHECK_BAD(HDR "<message><body>&#0;</body></message>", XMPPC_EPARSE,
              "not-well-formed");
    CHECK_BAD(HDR "<message><body>a\x01</body></message>", XMPPC_EPARSE,
              "not-well-formed");
    CHECK_BAD(HDR "<message id='\x01'/>", XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message><body>&#1;</body></message>", XMPPC_EPARSE,
              "not-well-formed");
    CHECK_BAD(HDR "<message><body>\xEF\xBF\xBE</body></message>", XMPPC_EPARSE,
              "not-well-formed");
    CHECK_BAD(HDR "<message><body>&#xFFFF;</body></message>", XMPPC_EPARSE,
              "not-well-formed");
    CHECK_BAD(HDR "<message><body>&#xD800;</body></message>", XMPPC_EPARSE,
              "not-well-formed");
}

static void test_bad_nul_byte(void)
{
    static const char input[] = HDR "<message><body>a\0b</body></message>";
    CHECK_BAD_LEN(input, sizeof input - 1, 1, XMPPC_EPARSE, "not-well-formed");
}

static void test_bad_structure(void)
{
    CHECK_BAD(HDR "<message></stream:stream>", XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message><body></stream:stream></body></message>",
              XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message a='1' a='2'/>", XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message><body></message>", XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message></presence>", XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message a=1/>", XMPPC_EPARSE, "not-well-formed");
    CHECK_BAD(HDR "<message><1a/></message>", XMPPC_EPARSE, "not-well-formed");
}

static void test_bad_duplicate_namespaced_attribute(void)
{
    /* Two prefixes bound to one URI: the same expanded name twice, which
     * Namespaces in XML forbids (libxml2 reports it as a mere error). */
    CHECK_BAD(HDR "<message xmlns:a='urn:x' xmlns:b='urn:x' a:f='1' b:f='2'/>",
              XMPPC_EPARSE, "not-well-formed");
}

static void test_bad_stream_namespace(void)
{
    CHECK_BAD("<stream:stream xmlns='jabber:client' "
              "xmlns:stream='urn:wrong' version='1.0'>",
              XMPPC_EPARSE, "invalid-namespace");
    CHECK_BAD("<stream xmlns='jabber:client' version='1.0'>", XMPPC_EPARSE,
              "invalid-namespace");
}

static void test_bad_content_namespace(void)
{
    CHECK_BAD("<stream:stream xmlns='jabber:server' "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
              XMPPC_EPARSE, "invalid-namespace");
    CHECK_BAD("<stream:stream "
              "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
              XMPPC_EPARSE, "invalid-namespace");
}

static void test_bad_element_in_no_namespace(void)
{
    CHECK_BAD(HDR "<message xmlns=''/>", XMPPC_EPARSE, "invalid-namespace");
    CHECK_BAD(HDR "<message><x xmlns=''/></message>", XMPPC_EPARSE,
              "invalid-namespace");
}

static void test_bad_deep_nesting_stops_early(void)
{
    enum { DEPTH = 10000 };
    static char input[sizeof HDR + DEPTH * 3];
    size_t len = strlen(HDR);
    memcpy(input, HDR, len);
    for (int i = 0; i < DEPTH; i++, len += 3)
        memcpy(input + len, "<a>", 3);
    bad_outcome o =
        CHECK_BAD_LEN(input, len, 3, XMPPC_ELIMIT, "policy-violation");
    /* Stopped at the limit, long before building 10,000 elements. */
    XT_CHECK(o.allocations < 500);
    XT_CHECK(o.error_at <=
             strlen(HDR) + 3 * (XMPPC__PARSER_DEFAULT_MAX_DEPTH + 1));
}

static void test_bad_many_attributes(void)
{
    enum { N = 10000 };
    static char input[sizeof HDR + 16 + N * 16];
    int len = snprintf(input, sizeof input, "%s<message", HDR);
    for (int i = 0; i < N; i++)
        len += snprintf(input + len, sizeof input - (size_t)len, " a%d=''", i);
    len += snprintf(input + len, sizeof input - (size_t)len, "/>");
    bad_outcome o = CHECK_BAD_LEN(input, (size_t)len, 1400, XMPPC_ELIMIT,
                                  "policy-violation");
    XT_CHECK(o.allocations < 50);
}

static void test_bad_huge_attribute(void)
{
    /* 1 MiB: over both the attribute and the stanza limit; reading stops
     * before the end of it. */
    size_t n = 1 << 20;
    size_t cap = strlen(HDR) + n + 64;
    char *input = malloc(cap);
    XT_CHECK(input != NULL);
    if (!input)
        return;
    size_t len = (size_t)snprintf(input, cap, "%s<message id='", HDR);
    memset(input + len, 'x', n);
    len += n;
    len += (size_t)snprintf(input + len, cap - len, "'/>");
    bad_outcome o =
        CHECK_BAD_LEN(input, len, 1400, XMPPC_ELIMIT, "policy-violation");
    XT_CHECK(o.error_at < len);
    XT_CHECK(o.allocations < 50);
    free(input);
}

static void test_attribute_over_attr_limit_under_stanza_limit(void)
{
    /* 100 KB: only max_attr_bytes (64 KiB) applies. */
    size_t n = 100 * 1000;
    size_t cap = strlen(HDR) + n + 64;
    char *input = malloc(cap);
    XT_CHECK(input != NULL);
    if (!input)
        return;
    size_t len = (size_t)snprintf(input, cap, "%s<message id='", HDR);
    memset(input + len, 'x', n);
    len += n;
    len += (size_t)snprintf(input + len, cap - len, "'/>");
    CHECK_BAD_LEN(input, len, 1400, XMPPC_ELIMIT, "policy-violation");
    free(input);
}

/* ---- limits -----------------------------------------------------------------
 */

static void test_limits_default_and_setter(void)
{
    xmppc__parser_limits lim, got;
    xmppc__parser_limits_default(&lim);
    XT_EQ_INT(lim.max_stanza_bytes, XMPPC__PARSER_DEFAULT_MAX_STANZA_BYTES);
    XT_EQ_INT(lim.max_depth, XMPPC__PARSER_DEFAULT_MAX_DEPTH);
    XT_EQ_INT(lim.max_attrs, XMPPC__PARSER_DEFAULT_MAX_ATTRS);
    XT_EQ_INT(lim.max_attr_bytes, XMPPC__PARSER_DEFAULT_MAX_ATTR_BYTES);

    events ev;
    xmppc__parser *p = new_reader(&ev);
    xmppc__parser_get_limits(p, &got);
    XT_CHECK(memcmp(&got, &lim, sizeof lim) == 0);

    xmppc__parser_limits bad = lim;
    bad.max_stanza_bytes = 0;
    XT_EQ_INT(xmppc__parser_set_limits(p, &bad), XMPPC_EINVAL);
    bad = lim;
    bad.max_depth = 0;
    XT_EQ_INT(xmppc__parser_set_limits(p, &bad), XMPPC_EINVAL);
    bad = lim;
    bad.max_attrs = 0;
    XT_EQ_INT(xmppc__parser_set_limits(p, &bad), XMPPC_EINVAL);
    bad = lim;
    bad.max_attr_bytes = 0;
    XT_EQ_INT(xmppc__parser_set_limits(p, &bad), XMPPC_EINVAL);
    bad = lim;
    bad.max_stanza_bytes = XMPPC__PARSER_MAX_STANZA_BYTES_CEILING + 1;
    XT_EQ_INT(xmppc__parser_set_limits(p, &bad), XMPPC_EINVAL);
    XT_EQ_INT(xmppc__parser_set_limits(p, NULL), XMPPC_EINVAL);
    /* Refused values changed nothing. */
    xmppc__parser_get_limits(p, &got);
    XT_CHECK(memcmp(&got, &lim, sizeof lim) == 0);

    xmppc__parser_limits big = lim;
    big.max_stanza_bytes = XMPPC__PARSER_MAX_STANZA_BYTES_CEILING;
    XT_EQ_INT(xmppc__parser_set_limits(p, &big), 0);
    xmppc__parser_get_limits(p, &got);
    XT_EQ_INT(got.max_stanza_bytes, XMPPC__PARSER_MAX_STANZA_BYTES_CEILING);
    /* Limits survive a reset. */
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    xmppc__parser_get_limits(p, &got);
    XT_EQ_INT(got.max_stanza_bytes, XMPPC__PARSER_MAX_STANZA_BYTES_CEILING);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static xmppc__parser *reader_with(events *ev, size_t stanza_bytes,
                                  unsigned depth, unsigned attrs,
                                  size_t attr_bytes)
{
    xmppc__parser *p = new_reader(ev);
    xmppc__parser_limits lim;
    xmppc__parser_limits_default(&lim);
    if (stanza_bytes)
        lim.max_stanza_bytes = stanza_bytes;
    if (depth)
        lim.max_depth = depth;
    if (attrs)
        lim.max_attrs = attrs;
    if (attr_bytes)
        lim.max_attr_bytes = attr_bytes;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    return p;
}

static void test_depth_limit_boundary(void)
{
    /* The stanza element is level 1. */
    events ev;
    xmppc__parser *p = reader_with(&ev, 0, 3, 0, 0);
    XT_EQ_INT(feed_str(p, HDR "<a><b><c>t</c></b></a>"), 0);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_INT(feed_str(p, "<a><b><c><d/></c></b></a>"), XMPPC_ELIMIT);
    XT_EQ_STR(xmppc__parser_error_condition(p), "policy-violation");
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_attr_count_limit_boundary(void)
{
    /* Namespace declarations count as attributes. The stream header has
     * three, so the limit is lowered after it. */
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR), 0);
    xmppc__parser_limits lim;
    xmppc__parser_get_limits(p, &lim);
    lim.max_attrs = 2;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    XT_EQ_INT(feed_str(p, "<a x='1' y='2'/><b xmlns='urn:b' x='1'/>"), 0);
    XT_EQ_INT(ev.stanzas, 2);
    XT_EQ_INT(feed_str(p, "<c xmlns='urn:c' x='1' y='2'/>"), XMPPC_ELIMIT);
    XT_EQ_STR(xmppc__parser_error_condition(p), "policy-violation");
    XT_EQ_INT(ev.stanzas, 2);
    xmppc__parser_free(p);
    events_free(&ev);

    /* The header itself is subject to the limit. */
    p = reader_with(&ev, 0, 0, 2, 0);
    XT_EQ_INT(feed_str(p, HDR), XMPPC_ELIMIT);
    XT_EQ_INT(ev.opens, 0);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_attr_bytes_limit_boundary(void)
{
    events ev;
    xmppc__parser *p = reader_with(&ev, 0, 0, 0, 4);
    XT_EQ_INT(feed_str(p, HDR "<a x='1234' y='&amp;&amp;&amp;&amp;'/>"), 0);
    XT_EQ_INT(ev.stanzas, 1);
    XT_EQ_INT(feed_str(p, "<a x='12345'/>"), XMPPC_ELIMIT);
    XT_EQ_STR(xmppc__parser_error_condition(p), "policy-violation");
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static const char limit_stanza[] = "<message><body>0123456789</body></message>";

/* A reader that has read the header and one stanza, with the stanza limit
 * then set to @p limit. */
static xmppc__parser *reader_after_one_stanza(events *ev, size_t limit)
{
    xmppc__parser *p = new_reader(ev);
    XT_EQ_INT(feed_str(p, HDR "<presence/>"), 0);
    xmppc__parser_limits lim;
    xmppc__parser_get_limits(p, &lim);
    lim.max_stanza_bytes = limit;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    return p;
}

static void test_stanza_bytes_limit_boundary(void)
{
    size_t n = sizeof limit_stanza - 1;
    /* Exactly at the limit: fine, also after a keepalive. */
    events ev;
    xmppc__parser *p = reader_after_one_stanza(&ev, n);
    XT_EQ_INT(feed_str(p, limit_stanza), 0);
    XT_EQ_INT(feed_str(p, limit_stanza), 0);
    XT_EQ_INT(feed_str(p, " "), 0);
    XT_EQ_INT(feed_str(p, limit_stanza), 0);
    XT_EQ_INT(ev.stanzas, 4);
    XT_EQ_INT(ev.errors, 0);
    xmppc__parser_free(p);
    events_free(&ev);
    /* One byte over: refused. */
    p = reader_after_one_stanza(&ev, n - 1);
    XT_EQ_INT(feed_str(p, limit_stanza), XMPPC_ELIMIT);
    XT_EQ_STR(xmppc__parser_error_condition(p), "policy-violation");
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_stanza_bytes_counted_from_header_end(void)
{
    /* parser.h: counted from the end of the stream header for the first
     * stanza; the header's own bytes do not count against it. */
    size_t n = sizeof limit_stanza - 1;
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR), 0);
    xmppc__parser_limits lim;
    xmppc__parser_get_limits(p, &lim);
    lim.max_stanza_bytes = n;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    XT_EQ_INT(feed_str(p, limit_stanza), 0);
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_oversized_stanza_detected_while_feeding(void)
{
    enum { LIMIT = 10000, BODY = 200000, PIECE = 1400 };
    size_t cap = BODY + 256;
    char *stanza = malloc(cap);
    XT_CHECK(stanza != NULL);
    if (!stanza)
        return;
    size_t len = (size_t)snprintf(stanza, cap, "<message><body>");
    memset(stanza + len, 'a', BODY);
    len += BODY;
    len += (size_t)snprintf(stanza + len, cap - len, "</body></message>");

    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR), 0);
    xmppc__parser_limits lim;
    xmppc__parser_limits_default(&lim);
    lim.max_stanza_bytes = LIMIT;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    size_t fed = 0;
    int rc = 0;
    while (fed < len && rc == 0) {
        size_t n = len - fed < PIECE ? len - fed : PIECE;
        rc = xmppc__parser_feed(p, stanza + fed, n);
        fed += n;
        /* The error comes from a feed call, not only at the end. */
        XT_EQ_INT(ev.errors, rc == 0 ? 0 : 1);
    }
    XT_EQ_INT(rc, XMPPC_ELIMIT);
    XT_EQ_INT(ev.error_code, XMPPC_ELIMIT);
    XT_EQ_STR(ev.error_cond, "policy-violation");
    /* Within one piece of crossing the limit. */
    XT_CHECK(fed > LIMIT && fed <= LIMIT + PIECE);
    XT_EQ_INT(ev.stanzas, 0);
    xmppc__parser_free(p);
    events_free(&ev);
    free(stanza);
    xmppc_error_clear();
}

static void test_many_small_stanzas_in_one_big_chunk(void)
{
    enum { N = 3000 };
    static char input[sizeof HDR + N * 64];
    int len = snprintf(input, sizeof input, "%s", HDR);
    for (int i = 0; i < N; i++)
        len += snprintf(input + len, sizeof input - (size_t)len,
                        "<message id='m%d'><body>hello</body></message>%s", i,
                        i % 7 ? "" : " ");
    /* ~170 KB in one chunk with a 1000-byte stanza limit. */
    events ev;
    xmppc__parser *p = reader_with(&ev, 1000, 0, 0, 0);
    XT_EQ_INT(xmppc__parser_feed(p, input, (size_t)len), 0);
    XT_EQ_INT(ev.stanzas, N);
    XT_EQ_INT(ev.errors, 0);
    xmppc__parser_free(p);
    events_free(&ev);

    /* And in 64 KiB chunks, whose boundaries cut stanzas. */
    p = reader_with(&ev, 1000, 0, 0, 0);
    for (int off = 0; off < len; off += 65536) {
        int n = len - off < 65536 ? len - off : 65536;
        XT_EQ_INT(xmppc__parser_feed(p, input + off, (size_t)n), 0);
    }
    XT_EQ_INT(ev.stanzas, N);
    XT_EQ_INT(ev.errors, 0);
    xmppc__parser_free(p);
    events_free(&ev);
}

static void test_tighter_limits_apply_mid_stream(void)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR "<message><a><b/></a></message>"), 0);
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_limits lim;
    xmppc__parser_get_limits(p, &lim);
    lim.max_depth = 2;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    XT_EQ_INT(feed_str(p, "<message><a/></message>"), 0);
    XT_EQ_INT(feed_str(p, "<message><a><b/></a></message>"), XMPPC_ELIMIT);
    XT_EQ_INT(ev.stanzas, 2);
    XT_EQ_STR(xmppc__parser_error_condition(p), "policy-violation");
    xmppc__parser_free(p);
    events_free(&ev);

    /* A smaller stanza limit set in the middle of a stanza. */
    p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR "<message><body>0123456789"), 0);
    xmppc__parser_get_limits(p, &lim);
    lim.max_stanza_bytes = 30;
    XT_EQ_INT(xmppc__parser_set_limits(p, &lim), 0);
    XT_EQ_INT(feed_str(p, "0123456789</body></message>"), XMPPC_ELIMIT);
    XT_EQ_INT(ev.stanzas, 0);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

static void test_error_state_until_reset(void)
{
    events ev;
    xmppc__parser *p = new_reader(&ev);
    XT_EQ_INT(feed_str(p, HDR "<message><!-- x --></message>"), XMPPC_EPARSE);
    XT_EQ_INT(ev.errors, 1);
    XT_EQ_INT(feed_str(p, "<message/>"), XMPPC_ESTATE);
    XT_EQ_INT(feed_str(p, HDR), XMPPC_ESTATE);
    XT_EQ_INT(ev.errors, 1); /* reported once */
    XT_EQ_STR(xmppc__parser_error_condition(p), "restricted-xml");
    XT_EQ_INT(xmppc__parser_reset(p), 0);
    XT_CHECK(xmppc__parser_error_condition(p) == NULL);
    XT_CHECK(xmppc__parser_error_message(p) == NULL);
    XT_EQ_INT(feed_str(p, HDR "<message/>"), 0);
    XT_EQ_INT(ev.stanzas, 1);
    xmppc__parser_free(p);
    events_free(&ev);
    xmppc_error_clear();
}

/* ---- out of memory ----------------------------------------------------------
 */

static void test_enomem_sweep(void)
{
    static const char stream[] =
        HDR "<message from='a@b/c' xml:lang='en' xmlns:p='urn:p' p:x='1'>"
            "<body>one<i>two</i>three</body><x xmlns='urn:x'/></message>"
            "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>"
            "</stream:stream>";
    long n;
    for (n = 1; n < 1000; n++) {
        XT_EQ_INT(xt_failalloc_install(n), 0);
        events ev;
        memset(&ev, 0, sizeof ev);
        xmppc__parser *p = NULL;
        int rc = xmppc__parser_new(&p, &recording, &ev);
        if (rc == 0) {
            rc = xmppc__parser_feed(p, stream, sizeof stream - 1);
            if (rc == XMPPC_ENOMEM) {
                /* Reported as an error without a condition. */
                XT_EQ_INT(ev.errors, 1);
                XT_EQ_STR(ev.error_cond, "(null)");
                XT_CHECK(xmppc__parser_error_condition(p) == NULL);
                XT_EQ_INT(feed_str(p, "<a/>"), XMPPC_ESTATE);
            }
            xmppc__parser_free(p);
        }
        bool done = rc == 0 && ev.stanzas == 2 && ev.closes == 1;
        if (rc != 0 && rc != XMPPC_ENOMEM)
            XT_FAIL_AT(__FILE__, __LINE__, "allocation %ld failing: rc %d (%s)",
                       n, rc, xmppc_error_last()->message);
        events_free(&ev);
        if (xmppc_alloc_live_blocks() != 0)
            XT_FAIL_AT(__FILE__, __LINE__, "allocation %ld failing: leak", n);
        if (xt_failalloc_remove() != 0 || done || xt_current_failed)
            break;
    }
    XT_CHECK(n > 5 && n < 1000);
    xmppc_error_clear();
}

XT_MAIN(
    XT_TEST(test_new_free_and_arguments), XT_TEST(test_stream_header_fields),
    XT_TEST(test_stream_header_absent_fields_null),
    XT_TEST(test_stream_header_delivered_at_its_last_byte),
    XT_TEST(test_stanza_tree),
    XT_TEST(test_stanza_outlives_reader_when_referenced),
    XT_TEST(test_mixed_content_and_whitespace_inside_stanza),
    XT_TEST(test_whitespace_keepalives_ignored), XT_TEST(test_stream_close),
    XT_TEST(test_cdata_allowed), XT_TEST(test_entities_in_attributes_decoded),
    XT_TEST(test_entities_in_text_decoded),
    XT_TEST(test_attribute_whitespace_normalised),
    XT_TEST(test_line_endings_in_text),
    XT_TEST(test_top_level_in_other_namespaces),
    XT_TEST(test_invalid_uri_namespace_delivered),
    XT_TEST(test_stanza_from_string), XT_TEST(test_split_reference_run),
    XT_TEST(test_split_at_every_offset), XT_TEST(test_split_one_byte_at_a_time),
    XT_TEST(test_stop_discards_rest_of_chunk_then_restart),
    XT_TEST(test_stop_ignores_garbage_after_stop),
    XT_TEST(test_stop_in_stream_open),
    XT_TEST(test_reset_mid_stanza_drops_partial_stanza),
    XT_TEST(test_bad_comment), XT_TEST(test_bad_processing_instruction),
    XT_TEST(test_bad_dtd), XT_TEST(test_bad_billion_laughs),
    XT_TEST(test_bad_undefined_entity), XT_TEST(test_bad_unbound_prefix),
    XT_TEST(test_bad_qnames), XT_TEST(test_bad_namespace_declarations),
    XT_TEST(test_bad_encoding_declaration),
    XT_TEST(test_bad_element_in_xml_namespace),
    XT_TEST(test_exotic_encoding_declarations_silent),
    XT_TEST(test_utf8_encoding_declaration_accepted),
    XT_TEST(test_bad_xml_version), XT_TEST(test_bad_utf8),
    XT_TEST(test_bad_characters), XT_TEST(test_bad_nul_byte),
    XT_TEST(test_bad_structure),
    XT_TEST(test_bad_duplicate_namespaced_attribute),
    XT_TEST(test_bad_stream_namespace), XT_TEST(test_bad_content_namespace),
    XT_TEST(test_bad_element_in_no_namespace),
    XT_TEST(test_bad_deep_nesting_stops_early),
    XT_TEST(test_bad_many_attributes), XT_TEST(test_bad_huge_attribute),
    XT_TEST(test_attribute_over_attr_limit_under_stanza_limit),
    XT_TEST(test_limits_default_and_setter), XT_TEST(test_depth_limit_boundary),
    XT_TEST(test_attr_count_limit_boundary),
    XT_TEST(test_attr_bytes_limit_boundary),
    XT_TEST(test_stanza_bytes_limit_boundary),
    XT_TEST(test_stanza_bytes_counted_from_header_end),
    XT_TEST(test_oversized_stanza_detected_while_feeding),
    XT_TEST(test_many_small_stanzas_in_one_big_chunk),
    XT_TEST(test_tighter_limits_apply_mid_stream),
    XT_TEST(test_error_state_until_reset), XT_TEST(test_enomem_sweep))
