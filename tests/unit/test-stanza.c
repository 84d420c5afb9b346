/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Element trees (xmppc/stanza.h): building, inspecting, validation,
 * serialization, copy and equality, the message/presence/iq helpers, and
 * the out-of-memory paths.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../xtest.h"
#include <xmppc/stanza.h>

#define NS_ROSTER "jabber:iq:roster"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"

/* ---- helpers -------------------------------------------------------------
 */

/* Serializes @p s and compares with @p expected. */
static void check_xml_at(const char *file, int line, const xmppc_stanza *s,
                         const char *expected)
{
    char *xml = NULL;
    size_t len = 0;
    int rc = xmppc_stanza_to_string(&xml, &len, s);
    if (rc != 0) {
        XT_FAIL_AT(file, line, "to_string returned %d (%s)", rc,
                   xmppc_error_last()->message);
        return;
    }
    if (strcmp(xml, expected) != 0) {
        XT_FAIL_AT(file, line, "unexpected serialization");
        xt_diag("got", xml);
        xt_diag("expected", expected);
    }
    if (len != strlen(xml))
        XT_FAIL_AT(file, line, "len_out %zu, strlen %zu", len, strlen(xml));
    xmppc_free(xml);
}
#define CHECK_XML(s, expected) check_xml_at(__FILE__, __LINE__, (s), (expected))

/* The serialization of @p s (caller frees with xmppc_free), or NULL. */
static char *to_xml(const xmppc_stanza *s)
{
    char *xml = NULL;
    return xmppc_stanza_to_string(&xml, NULL, s) == 0 ? xml : NULL;
}

/* A refusal must be XMPPC_EINVAL with an explanation in the last error. */
static void check_einval_at(const char *file, int line, int rc,
                            const char *what)
{
    const xmppc_error *err = xmppc_error_last();
    if (rc != XMPPC_EINVAL)
        XT_FAIL_AT(file, line, "%s returned %d, expected XMPPC_EINVAL", what,
                   rc);
    else if (err->code != XMPPC_EINVAL || !err->message || !err->message[0] ||
             strcmp(err->message, "no error") == 0)
        XT_FAIL_AT(file, line, "%s: no explanation in xmppc_error_last()",
                   what);
    xmppc_error_clear();
}
#define CHECK_EINVAL(call)                                                     \
    do {                                                                       \
        xmppc_error_clear();                                                   \
        check_einval_at(__FILE__, __LINE__, (call), #call);                    \
    } while (0)

static xmppc_stanza *new_el(const char *name, const char *ns)
{
    xmppc_stanza *s = NULL;
    XT_EQ_INT(xmppc_stanza_new(&s, name, ns), 0);
    return s;
}

/* Appends a new element and returns it, borrowed from @p parent. */
static xmppc_stanza *add_el(xmppc_stanza *parent, const char *name,
                            const char *ns)
{
    xmppc_stanza *c = new_el(name, ns);
    XT_EQ_INT(xmppc_stanza_add_child(parent, c), 0);
    xmppc_stanza_unref(c);
    return c;
}

/* Invalid UTF-8 and characters XML 1.0 forbids. NUL cannot be passed in a
 * C string, so the C0 controls and the two noncharacters stand for it. */
static const char *const bad_texts[] = {
    "a\xC0\xAF",            /* overlong '/' (2 bytes) */
    "\xE0\x80\xAF",         /* overlong '/' (3 bytes) */
    "\xF0\x80\x80\xAF",     /* overlong '/' (4 bytes) */
    "x\xED\xA0\x80y",       /* UTF-16 surrogate U+D800 */
    "\xED\xBF\xBF",         /* surrogate U+DFFF */
    "abc\xC3",              /* truncated 2-byte sequence */
    "\xE2\x82",             /* truncated 3-byte sequence */
    "\xF0\x9F\x98",         /* truncated 4-byte sequence */
    "\x80",                 /* lone continuation byte */
    "\xF8\x88\x80\x80\x80", /* 5-byte form */
    "\xF4\x90\x80\x80",     /* above U+10FFFF */
    "\xFF",                 /* never valid in UTF-8 */
    "a\x01",                /* U+0001 */
    "\x1F",                 /* U+001F */
    "\x0B",                 /* vertical tab */
    "\xEF\xBF\xBE",         /* U+FFFE */
    "\xEF\xBF\xBF",         /* U+FFFF */
};
#define N_BAD_TEXTS (sizeof bad_texts / sizeof bad_texts[0])

/* ---- creating, ref counting, inspecting --------------------------------- */

static void test_new_element_and_inspect(void)
{
    xmppc_stanza *s = new_el("query", NS_ROSTER);
    XT_EQ_STR(xmppc_stanza_get_name(s), "query");
    XT_EQ_STR(xmppc_stanza_get_ns(s), NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_is_text(s), 0);
    XT_CHECK(xmppc_stanza_get_parent(s) == NULL);
    XT_CHECK(xmppc_stanza_get_text(s) == NULL);
    XT_EQ_INT(xmppc_stanza_child_count(s), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(s), 0);
    XT_CHECK(xmppc_stanza_child_at(s, 0) == NULL);
    xmppc_stanza_unref(s);
}

static void test_null_namespace_means_jabber_client_at_top(void)
{
    xmppc_stanza *s = new_el("message", NULL);
    XT_EQ_STR(xmppc_stanza_get_ns(s), XMPPC_NS_CLIENT);
    xmppc_stanza_unref(s);
}

static void test_non_ascii_name_accepted(void)
{
    xmppc_stanza *s = new_el("caf\xC3\xA9", "urn:x");
    XT_EQ_STR(xmppc_stanza_get_name(s), "caf\xC3\xA9");
    CHECK_XML(s, "<caf\xC3\xA9 xmlns='urn:x'/>");
    xmppc_stanza_unref(s);
}

static void test_new_text_node(void)
{
    xmppc_stanza *t = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&t, "hello"), 0);
    XT_EQ_INT(xmppc_stanza_is_text(t), 1);
    XT_EQ_STR(xmppc_stanza_get_text(t), "hello");
    XT_CHECK(xmppc_stanza_get_name(t) == NULL);
    XT_CHECK(xmppc_stanza_get_ns(t) == NULL);
    XT_EQ_INT(xmppc_stanza_child_count(t), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(t), 0);
    CHECK_XML(t, "hello");
    xmppc_stanza_unref(t);
}

static void test_bad_names_refused(void)
{
    static const char *const names[] = {"1abc", "a:b", "",  "-x",  ".x",
                                        "a b",  "a>",  "<", "\xC3"};
    xmppc_stanza *s = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EINVAL(xmppc_stanza_new(&s, names[i], NULL));
    CHECK_EINVAL(xmppc_stanza_new(&s, NULL, NULL));
    CHECK_EINVAL(xmppc_stanza_new(NULL, "a", NULL));
    XT_CHECK(s == NULL);
}

static void test_bad_namespaces_refused(void)
{
    xmppc_stanza *s = NULL;
    CHECK_EINVAL(xmppc_stanza_new(&s, "a", ""));
    /* The xmlns namespace is reserved for declarations. */
    CHECK_EINVAL(xmppc_stanza_new(&s, "a", "http://www.w3.org/2000/xmlns/"));
    for (size_t i = 0; i < N_BAD_TEXTS; i++)
        CHECK_EINVAL(xmppc_stanza_new(&s, "a", bad_texts[i]));
    XT_CHECK(s == NULL);
}

static void test_xml_namespace_cannot_be_an_element_namespace(void)
{
    /* Namespaces in XML 1.0: the xml namespace must not be declared as the
     * default namespace, so <a xmlns='http://www.w3.org/XML/1998/namespace'/>
     * is not namespace-well-formed and must never be produced. */
    xmppc_stanza *s = NULL;
    CHECK_EINVAL(xmppc_stanza_new(&s, "a", XMPPC_NS_XML));
    xmppc_stanza_unref(s);
}

static void test_new_text_refuses_empty_and_invalid(void)
{
    xmppc_stanza *t = NULL;
    CHECK_EINVAL(xmppc_stanza_new_text(&t, ""));
    CHECK_EINVAL(xmppc_stanza_new_text(&t, NULL));
    CHECK_EINVAL(xmppc_stanza_new_text(NULL, "x"));
    for (size_t i = 0; i < N_BAD_TEXTS; i++)
        CHECK_EINVAL(xmppc_stanza_new_text(&t, bad_texts[i]));
    XT_CHECK(t == NULL);
}

static void test_ref_unref_null_safe(void)
{
    XT_CHECK(xmppc_stanza_ref(NULL) == NULL);
    XT_CHECK(xmppc_stanza_unref(NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_text(NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_name(NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_ns(NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_parent(NULL) == NULL);
    XT_EQ_INT(xmppc_stanza_is_text(NULL), 0);
    XT_EQ_INT(xmppc_stanza_child_count(NULL), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(NULL), 0);
}

static void test_ref_keeps_alive_and_unref_returns_null(void)
{
    xmppc_stanza *s = new_el("a", NULL);
    XT_CHECK(xmppc_stanza_ref(s) == s);
    XT_CHECK(xmppc_stanza_unref(s) == NULL);
    /* Still alive: one reference left. */
    XT_EQ_STR(xmppc_stanza_get_name(s), "a");
    size_t live = xmppc_alloc_live_blocks();
    s = xmppc_stanza_unref(s);
    XT_CHECK(s == NULL);
    XT_CHECK(xmppc_alloc_live_blocks() < live);
}

static void test_parent_keeps_child_alive(void)
{
    xmppc_stanza *parent = new_el("iq", NULL);
    xmppc_stanza *child = new_el("query", NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_add_child(parent, child), 0);
    xmppc_stanza_unref(child); /* the parent holds it now */
    XT_CHECK(xmppc_stanza_child_at(parent, 0) == child);
    XT_EQ_STR(xmppc_stanza_get_name(child), "query");
    XT_CHECK(xmppc_stanza_get_parent(child) == parent);
    xmppc_stanza_unref(parent);
}

static void test_child_outlives_parent_when_referenced(void)
{
    xmppc_stanza *parent = new_el("iq", NULL);
    xmppc_stanza *child = add_el(parent, "query", NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_add_text(child, "kept"), 0);
    xmppc_stanza_ref(child);
    xmppc_stanza_unref(parent);
    /* Detached by the parent's death: no dangling parent pointer, and it
     * can join another tree. */
    XT_CHECK(xmppc_stanza_get_parent(child) == NULL);
    XT_EQ_STR(xmppc_stanza_get_text(child), "kept");
    XT_EQ_STR(xmppc_stanza_get_ns(child), NS_ROSTER);
    xmppc_stanza *other = new_el("iq", NULL);
    XT_EQ_INT(xmppc_stanza_add_child(other, child), 0);
    xmppc_stanza_unref(child);
    CHECK_XML(other, "<iq><query xmlns='jabber:iq:roster'>kept</query></iq>");
    xmppc_stanza_unref(other);
}

static void test_add_child_refuses_attached_child(void)
{
    xmppc_stanza *a = new_el("a", NULL), *b = new_el("b", NULL);
    xmppc_stanza *c = add_el(a, "c", NULL);
    CHECK_EINVAL(xmppc_stanza_add_child(b, c));
    XT_EQ_INT(xmppc_stanza_child_count(b), 0);
    XT_CHECK(xmppc_stanza_get_parent(c) == a);
    /* Re-adding to the same parent is refused too. */
    CHECK_EINVAL(xmppc_stanza_add_child(a, c));
    XT_EQ_INT(xmppc_stanza_child_count(a), 1);
    xmppc_stanza_unref(a);
    xmppc_stanza_unref(b);
}

static void test_add_child_refuses_cycles(void)
{
    xmppc_stanza *a = new_el("a", NULL);
    xmppc_stanza *b = add_el(a, "b", NULL);
    xmppc_stanza *c = add_el(b, "c", NULL);
    CHECK_EINVAL(xmppc_stanza_add_child(a, a));
    /* a is the root: it has no parent, only the ancestor check stops it. */
    CHECK_EINVAL(xmppc_stanza_add_child(c, a));
    CHECK_EINVAL(xmppc_stanza_add_child(b, b));
    XT_EQ_INT(xmppc_stanza_child_count(c), 0);
    CHECK_XML(a, "<a><b><c/></b></a>");
    xmppc_stanza_unref(a);
}

static void test_add_child_refuses_text_parent_and_null(void)
{
    xmppc_stanza *t = NULL, *e = new_el("e", NULL);
    XT_EQ_INT(xmppc_stanza_new_text(&t, "x"), 0);
    CHECK_EINVAL(xmppc_stanza_add_child(t, e));
    CHECK_EINVAL(xmppc_stanza_add_child(e, NULL));
    CHECK_EINVAL(xmppc_stanza_add_child(NULL, e));
    CHECK_EINVAL(xmppc_stanza_add_text(t, "y"));
    CHECK_EINVAL(xmppc_stanza_add_text_child(t, "c", NULL, "y"));
    CHECK_EINVAL(xmppc_stanza_set_text(t, "y"));
    CHECK_EINVAL(xmppc_stanza_set_attr(t, "a", "1"));
    XT_CHECK(xmppc_stanza_get_parent(e) == NULL);
    XT_EQ_STR(xmppc_stanza_get_text(t), "x");
    xmppc_stanza_unref(t);
    xmppc_stanza_unref(e);
}

static void test_text_node_as_child(void)
{
    xmppc_stanza *p = new_el("p", NULL), *t = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&t, "a<b"), 0);
    XT_EQ_INT(xmppc_stanza_add_child(p, t), 0);
    xmppc_stanza_unref(t);
    add_el(p, "br", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(p, "c"), 0);
    XT_EQ_INT(xmppc_stanza_child_count(p), 3);
    XT_EQ_INT(xmppc_stanza_is_text(xmppc_stanza_child_at(p, 0)), 1);
    XT_CHECK(xmppc_stanza_get_parent(xmppc_stanza_child_at(p, 0)) == p);
    XT_EQ_INT(xmppc_stanza_is_text(xmppc_stanza_child_at(p, 1)), 0);
    XT_CHECK(xmppc_stanza_child_at(p, 3) == NULL);
    CHECK_XML(p, "<p>a&lt;b<br/>c</p>");
    xmppc_stanza_unref(p);
}

static void test_remove_child(void)
{
    xmppc_stanza *p = new_el("p", NULL);
    xmppc_stanza *a = add_el(p, "a", NULL);
    xmppc_stanza *b = add_el(p, "b", NULL);
    add_el(p, "c", NULL);
    xmppc_stanza_ref(b);
    XT_EQ_INT(xmppc_stanza_remove_child(p, b), 0);
    XT_CHECK(xmppc_stanza_get_parent(b) == NULL);
    XT_EQ_INT(xmppc_stanza_child_count(p), 2);
    CHECK_XML(p, "<p><a/><c/></p>");
    /* Not (or no longer) a child: refused. */
    CHECK_EINVAL(xmppc_stanza_remove_child(p, b));
    CHECK_EINVAL(xmppc_stanza_remove_child(b, a));
    CHECK_EINVAL(xmppc_stanza_remove_child(p, NULL));
    /* Removed without an extra reference: freed with the parent's. */
    size_t live = xmppc_alloc_live_blocks();
    XT_EQ_INT(xmppc_stanza_remove_child(p, a), 0);
    XT_CHECK(xmppc_alloc_live_blocks() < live);
    CHECK_XML(p, "<p><c/></p>");
    xmppc_stanza_unref(b);
    xmppc_stanza_unref(p);
}

static void test_removed_child_inherits_no_more(void)
{
    /* An element created with a NULL namespace follows its parent; once
     * detached it is back in jabber:client. */
    xmppc_stanza *q = new_el("query", NS_ROSTER);
    xmppc_stanza *item = add_el(q, "item", NULL);
    XT_EQ_STR(xmppc_stanza_get_ns(item), NS_ROSTER);
    xmppc_stanza_ref(item);
    XT_EQ_INT(xmppc_stanza_remove_child(q, item), 0);
    XT_EQ_STR(xmppc_stanza_get_ns(item), XMPPC_NS_CLIENT);
    xmppc_stanza_unref(item);
    xmppc_stanza_unref(q);
}

/* ---- text ---------------------------------------------------------------- */

static void test_add_text_empty_adds_nothing(void)
{
    xmppc_stanza *s = new_el("body", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(s, ""), 0);
    XT_EQ_INT(xmppc_stanza_child_count(s), 0);
    CHECK_EINVAL(xmppc_stanza_add_text(s, NULL));
    XT_EQ_INT(xmppc_stanza_child_count(s), 0);
    xmppc_stanza_unref(s);
}

static void test_get_text_joins_runs(void)
{
    xmppc_stanza *s = new_el("p", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(s, "one "), 0);
    XT_EQ_STR(xmppc_stanza_get_text(s), "one ");
    xmppc_stanza *em = add_el(s, "em", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(em, "inner"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(s, "two "), 0);
    /* Only direct text children, not the descendants'. */
    XT_EQ_STR(xmppc_stanza_get_text(s), "one two ");
    /* The joined text follows later changes. */
    XT_EQ_INT(xmppc_stanza_add_text(s, "three"), 0);
    XT_EQ_STR(xmppc_stanza_get_text(s), "one two three");
    XT_EQ_INT(xmppc_stanza_remove_child(s, xmppc_stanza_child_at(s, 0)), 0);
    XT_EQ_STR(xmppc_stanza_get_text(s), "two three");
    xmppc_stanza_unref(s);
}

static void test_set_text_replaces_text_keeps_elements(void)
{
    xmppc_stanza *s = new_el("p", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(s, "a"), 0);
    add_el(s, "x", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(s, "b"), 0);
    add_el(s, "y", NULL);
    XT_EQ_STR(xmppc_stanza_get_text(s), "ab"); /* caches the join */
    XT_EQ_INT(xmppc_stanza_set_text(s, "new"), 0);
    XT_EQ_STR(xmppc_stanza_get_text(s), "new");
    CHECK_XML(s, "<p><x/><y/>new</p>");
    XT_EQ_INT(xmppc_stanza_set_text(s, ""), 0);
    XT_CHECK(xmppc_stanza_get_text(s) == NULL);
    CHECK_XML(s, "<p><x/><y/></p>");
    XT_EQ_INT(xmppc_stanza_set_text(s, "again"), 0);
    XT_EQ_INT(xmppc_stanza_set_text(s, NULL), 0);
    CHECK_XML(s, "<p><x/><y/></p>");
    xmppc_stanza_unref(s);
}

static void test_invalid_text_refused_and_never_emitted(void)
{
    xmppc_stanza *s = new_el("body", NULL);
    XT_EQ_INT(xmppc_stanza_set_text(s, "ok"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "a", "v"), 0);
    for (size_t i = 0; i < N_BAD_TEXTS; i++) {
        CHECK_EINVAL(xmppc_stanza_add_text(s, bad_texts[i]));
        CHECK_EINVAL(xmppc_stanza_set_text(s, bad_texts[i]));
        CHECK_EINVAL(xmppc_stanza_set_attr(s, "a", bad_texts[i]));
        CHECK_EINVAL(xmppc_stanza_set_attr(s, "b", bad_texts[i]));
        CHECK_EINVAL(xmppc_stanza_add_text_child(s, "c", NULL, bad_texts[i]));
        CHECK_EINVAL(xmppc_message_set_body(s, bad_texts[i]));
    }
    CHECK_XML(s, "<body a='v'>ok</body>");
    xmppc_stanza_unref(s);
}

static void test_text_escaping(void)
{
    xmppc_stanza *s = new_el("body", NULL);
    XT_EQ_INT(xmppc_stanza_set_text(s, "a&b<c>d\"e'f\rg\nh\ti]]>"), 0);
    /* In text only & < > need escaping, and CR (which a reader would
     * otherwise turn into LF). */
    CHECK_XML(s, "<body>a&amp;b&lt;c&gt;d\"e'f&#13;g\nh\ti]]&gt;</body>");
    /* get_text gives back the raw text. */
    XT_EQ_STR(xmppc_stanza_get_text(s), "a&b<c>d\"e'f\rg\nh\ti]]>");
    xmppc_stanza_unref(s);
}

static void test_text_node_alone_escaped(void)
{
    xmppc_stanza *t = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&t, "<&>\r"), 0);
    CHECK_XML(t, "&lt;&amp;&gt;&#13;");
    xmppc_stanza_unref(t);
}

static void test_multibyte_text_unescaped(void)
{
    xmppc_stanza *s = new_el("body", NULL);
    /* é, ☺, 𝄞, U+FFFD and U+10FFFF are valid XML characters. */
    const char *text = "\xC3\xA9\xE2\x98\xBA\xF0\x9D\x84\x9E\xEF\xBF\xBD"
                       "\xF4\x8F\xBF\xBF\x7F";
    XT_EQ_INT(xmppc_stanza_set_text(s, text), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "v", text), 0);
    char expected[128];
    snprintf(expected, sizeof expected, "<body v='%s'>%s</body>", text, text);
    CHECK_XML(s, expected);
    xmppc_stanza_unref(s);
}

/* ---- attributes ---------------------------------------------------------- */

static void test_attr_set_get_replace_remove(void)
{
    xmppc_stanza *s = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "type", "chat"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "id", "m1"), 0);
    XT_EQ_STR(xmppc_stanza_get_attr(s, "type"), "chat");
    XT_EQ_INT(xmppc_stanza_attr_count(s), 2);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "type", "normal"), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(s), 2);
    XT_EQ_STR(xmppc_stanza_get_attr(s, "type"), "normal");
    XT_EQ_INT(xmppc_stanza_set_attr(s, "type", NULL), 0);
    XT_CHECK(xmppc_stanza_get_attr(s, "type") == NULL);
    XT_EQ_INT(xmppc_stanza_attr_count(s), 1);
    /* Removing an absent attribute is fine. */
    XT_EQ_INT(xmppc_stanza_set_attr(s, "nothere", NULL), 0);
    XT_CHECK(xmppc_stanza_get_attr(s, "nothere") == NULL);
    XT_CHECK(xmppc_stanza_get_attr(s, NULL) == NULL);
    /* An empty value is a value. */
    XT_EQ_INT(xmppc_stanza_set_attr(s, "e", ""), 0);
    XT_EQ_STR(xmppc_stanza_get_attr(s, "e"), "");
    CHECK_XML(s, "<message id='m1' e=''/>");
    xmppc_stanza_unref(s);
}

static void test_attr_escaping(void)
{
    xmppc_stanza *s = new_el("x", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "v", "a&b<c>d\"e'f\tg\nh\ri"), 0);
    /* Quotes and the whitespace that attribute-value normalisation would
     * change become character references. */
    CHECK_XML(s, "<x v='a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g&#10;h&#13;i'/>");
    XT_EQ_STR(xmppc_stanza_get_attr(s, "v"), "a&b<c>d\"e'f\tg\nh\ri");
    xmppc_stanza_unref(s);
}

static void test_attr_bad_names_refused(void)
{
    static const char *const names[] = {"1abc", "a:b",       "",    "xmlns",
                                        "xml:", "xmlns:foo", "a b", "x=y"};
    xmppc_stanza *s = new_el("x", NULL);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_EINVAL(xmppc_stanza_set_attr(s, names[i], "v"));
    CHECK_EINVAL(xmppc_stanza_set_attr(s, NULL, "v"));
    CHECK_EINVAL(xmppc_stanza_set_attr_ns(s, "urn:x", "a:b", "v"));
    CHECK_EINVAL(xmppc_stanza_set_attr_ns(s, "urn:x", "1a", "v"));
    CHECK_EINVAL(xmppc_stanza_set_attr_ns(s, NULL, "xmlns", "v"));
    CHECK_EINVAL(
        xmppc_stanza_set_attr_ns(s, "http://www.w3.org/2000/xmlns/", "a", "v"));
    CHECK_EINVAL(xmppc_stanza_set_attr_ns(s, "urn:\x01", "a", "v"));
    XT_EQ_INT(xmppc_stanza_attr_count(s), 0);
    CHECK_XML(s, "<x/>");
    xmppc_stanza_unref(s);
}

static void test_xml_lang(void)
{
    xmppc_stanza *s = new_el("body", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "xml:lang", "en"), 0);
    XT_EQ_STR(xmppc_stanza_get_attr(s, "xml:lang"), "en");
    XT_EQ_STR(xmppc_stanza_get_attr_ns(s, XMPPC_NS_XML, "lang"), "en");
    /* "lang" without the prefix is another attribute. */
    XT_CHECK(xmppc_stanza_get_attr(s, "lang") == NULL);
    const char *ns = NULL, *name = NULL, *value = NULL;
    XT_EQ_INT(xmppc_stanza_attr_at(s, 0, &ns, &name, &value), 0);
    XT_EQ_STR(ns, XMPPC_NS_XML);
    XT_EQ_STR(name, "lang");
    XT_EQ_STR(value, "en");
    /* The same attribute through the namespaced setter. */
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, XMPPC_NS_XML, "lang", "de"), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(s), 1);
    XT_EQ_STR(xmppc_stanza_get_attr(s, "xml:lang"), "de");
    CHECK_XML(s, "<body xml:lang='de'/>");
    xmppc_stanza_unref(s);
}

static void test_namespaced_attrs_get_declared_prefix(void)
{
    xmppc_stanza *s = new_el("x", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "plain", "0"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, "urn:a", "one", "1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, "urn:b", "two", "2"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, "urn:a", "three", "3"), 0);
    /* Same local name, different namespaces: three attributes. */
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, "urn:b", "one", "4"), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(s), 5);
    XT_EQ_STR(xmppc_stanza_get_attr_ns(s, "urn:a", "one"), "1");
    XT_EQ_STR(xmppc_stanza_get_attr_ns(s, "urn:b", "one"), "4");
    XT_CHECK(xmppc_stanza_get_attr(s, "one") == NULL);
    XT_CHECK(xmppc_stanza_get_attr_ns(s, "urn:c", "one") == NULL);
    /* NULL and "" both mean no namespace. */
    XT_EQ_STR(xmppc_stanza_get_attr_ns(s, NULL, "plain"), "0");
    XT_EQ_STR(xmppc_stanza_get_attr_ns(s, "", "plain"), "0");
    CHECK_XML(s, "<x plain='0' xmlns:ns1='urn:a' ns1:one='1' "
                 "xmlns:ns2='urn:b' ns2:two='2' ns1:three='3' ns2:one='4'/>");
    xmppc_stanza_unref(s);
}

static void test_attr_ns_empty_means_none(void)
{
    xmppc_stanza *s = new_el("x", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, "", "a", "1"), 0);
    XT_EQ_STR(xmppc_stanza_get_attr(s, "a"), "1");
    const char *ns = "sentinel";
    XT_EQ_INT(xmppc_stanza_attr_at(s, 0, &ns, NULL, NULL), 0);
    XT_CHECK(ns == NULL);
    CHECK_XML(s, "<x a='1'/>");
    xmppc_stanza_unref(s);
}

static void test_namespace_uri_escaped_in_declarations(void)
{
    const char *uri = "urn:a&b'c\"d<e>";
    xmppc_stanza *s = new_el("x", uri);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, uri, "a", "v"), 0);
    CHECK_XML(s, "<x xmlns='urn:a&amp;b&apos;c&quot;d&lt;e&gt;' "
                 "xmlns:ns0='urn:a&amp;b&apos;c&quot;d&lt;e&gt;' ns0:a='v'/>");
    xmppc_stanza_unref(s);
}

static void test_attr_at_iterates_and_bounds(void)
{
    xmppc_stanza *s = new_el("x", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "a", "1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(s, "urn:n", "b", "2"), 0);
    const char *ns = "sentinel", *name = NULL, *value = NULL;
    XT_EQ_INT(xmppc_stanza_attr_at(s, 0, &ns, &name, &value), 0);
    XT_CHECK(ns == NULL);
    XT_EQ_STR(name, "a");
    XT_EQ_STR(value, "1");
    XT_EQ_INT(xmppc_stanza_attr_at(s, 1, &ns, &name, &value), 0);
    XT_EQ_STR(ns, "urn:n");
    XT_EQ_STR(name, "b");
    XT_EQ_STR(value, "2");
    XT_EQ_INT(xmppc_stanza_attr_at(s, 1, NULL, NULL, NULL), 0);
    CHECK_EINVAL(xmppc_stanza_attr_at(s, 2, &ns, &name, &value));
    CHECK_EINVAL(xmppc_stanza_attr_at(NULL, 0, &ns, &name, &value));
    xmppc_stanza_unref(s);
}

/* ---- children lookup ----------------------------------------------------- */

static void test_get_child_and_next_child(void)
{
    xmppc_stanza *q = new_el("query", NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_add_text(q, "  "), 0);
    xmppc_stanza *i1 = add_el(q, "item", NULL);
    xmppc_stanza *other = add_el(q, "item", "urn:other");
    xmppc_stanza *i2 = add_el(q, "item", NS_ROSTER);
    xmppc_stanza *g = add_el(q, "group", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(g, "Friends"), 0);

    /* The namespace filter compares the effective namespace. */
    XT_CHECK(xmppc_stanza_get_child(q, "item", NS_ROSTER) == i1);
    XT_CHECK(xmppc_stanza_get_next_child(q, i1, "item", NS_ROSTER) == i2);
    XT_CHECK(xmppc_stanza_get_next_child(q, i2, "item", NS_ROSTER) == NULL);
    XT_CHECK(xmppc_stanza_get_child(q, "item", "urn:other") == other);
    /* NULL matches anything; text children are skipped. */
    XT_CHECK(xmppc_stanza_get_child(q, NULL, NULL) == i1);
    XT_CHECK(xmppc_stanza_get_next_child(q, i1, NULL, NULL) == other);
    XT_CHECK(xmppc_stanza_get_next_child(q, other, "item", NULL) == i2);
    XT_CHECK(xmppc_stanza_get_child(q, NULL, "urn:other") == other);
    XT_CHECK(xmppc_stanza_get_child(q, "missing", NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_child(q, "item", XMPPC_NS_CLIENT) == NULL);

    size_t n = 0;
    for (xmppc_stanza *c = xmppc_stanza_get_child(q, "item", NS_ROSTER); c;
         c = xmppc_stanza_get_next_child(q, c, "item", NS_ROSTER))
        n++;
    XT_EQ_INT(n, 2);

    XT_EQ_STR(xmppc_stanza_get_child_text(q, "group", NULL), "Friends");
    XT_CHECK(xmppc_stanza_get_child_text(q, "item", NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_child_text(q, "missing", NULL) == NULL);

    /* prev must be a child of the element. */
    xmppc_stanza *stray = new_el("item", NS_ROSTER);
    XT_CHECK(xmppc_stanza_get_next_child(q, stray, NULL, NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_next_child(q, NULL, NULL, NULL) == NULL);
    xmppc_stanza_unref(stray);
    xmppc_stanza_unref(q);
}

static void test_add_text_child(void)
{
    xmppc_stanza *q = new_el("query", NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_add_text_child(q, "group", NULL, "A&B"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(q, "x", "urn:x", NULL), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(q, "y", NS_ROSTER, ""), 0);
    XT_EQ_STR(xmppc_stanza_get_ns(xmppc_stanza_child_at(q, 0)), NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_child_count(xmppc_stanza_child_at(q, 2)), 0);
    CHECK_XML(q, "<query xmlns='jabber:iq:roster'><group>A&amp;B</group>"
                 "<x xmlns='urn:x'/><y/></query>");
    CHECK_EINVAL(xmppc_stanza_add_text_child(q, "1bad", NULL, "t"));
    CHECK_EINVAL(xmppc_stanza_add_text_child(q, "ok", "", "t"));
    XT_EQ_INT(xmppc_stanza_child_count(q), 3);
    xmppc_stanza_unref(q);
}

/* ---- namespaces in the serializer ---------------------------------------- */

static void test_top_level_jabber_client_not_declared(void)
{
    xmppc_stanza *a = new_el("message", NULL);
    xmppc_stanza *b = new_el("message", XMPPC_NS_CLIENT);
    CHECK_XML(a, "<message/>");
    CHECK_XML(b, "<message/>");
    XT_EQ_INT(xmppc_stanza_equal(a, b), 1);
    xmppc_stanza_unref(a);
    xmppc_stanza_unref(b);

    xmppc_stanza *s = new_el("starttls", NS_TLS);
    CHECK_XML(s, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    xmppc_stanza_unref(s);
}

static void test_namespace_declared_only_where_it_changes(void)
{
    xmppc_stanza *iq = new_el("iq", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "type", "set"), 0);
    xmppc_stanza *q = add_el(iq, "query", NS_ROSTER);
    xmppc_stanza *item = add_el(q, "item", NULL);
    add_el(item, "group", NS_ROSTER); /* explicit, same as the parent */
    add_el(item, "x", XMPPC_NS_CLIENT);
    xmppc_stanza *d = add_el(item, "d", "urn:d");
    add_el(d, "e", NULL);
    add_el(d, "f", NS_ROSTER);
    CHECK_XML(iq, "<iq type='set'><query xmlns='jabber:iq:roster'><item>"
                  "<group/><x xmlns='jabber:client'/><d xmlns='urn:d'><e/>"
                  "<f xmlns='jabber:iq:roster'/></d></item></query></iq>");
    /* A subtree serialized alone declares its effective namespace. */
    CHECK_XML(item, "<item xmlns='jabber:iq:roster'><group/>"
                    "<x xmlns='jabber:client'/><d xmlns='urn:d'><e/>"
                    "<f xmlns='jabber:iq:roster'/></d></item>");
    xmppc_stanza_unref(iq);
}

static void test_serialization_is_deterministic(void)
{
    xmppc_stanza *a[2];
    char *xml[2];
    for (int k = 0; k < 2; k++) {
        a[k] = new_el("message", NULL);
        XT_EQ_INT(xmppc_stanza_set_attr(a[k], "type", "chat"), 0);
        XT_EQ_INT(xmppc_stanza_set_attr_ns(a[k], "urn:q", "q", "1"), 0);
        XT_EQ_INT(xmppc_stanza_set_attr(a[k], "xml:lang", "en"), 0);
        XT_EQ_INT(xmppc_stanza_add_text_child(a[k], "body", NULL, "hi"), 0);
        xml[k] = to_xml(a[k]);
        XT_CHECK(xml[k] != NULL);
    }
    XT_EQ_STR(xml[0], xml[1]);
    char *again = to_xml(a[0]);
    XT_EQ_STR(again, xml[0]);
    for (int k = 0; k < 2; k++) {
        xmppc_free(xml[k]);
        xmppc_stanza_unref(a[k]);
    }
    xmppc_free(again);
}

static void test_to_string_null_arguments(void)
{
    char *xml = NULL;
    xmppc_stanza *s = new_el("a", NULL);
    CHECK_EINVAL(xmppc_stanza_to_string(&xml, NULL, NULL));
    CHECK_EINVAL(xmppc_stanza_to_string(NULL, NULL, s));
    XT_CHECK(xml == NULL);
    xmppc_stanza_unref(s);
}

/* ---- copy and equality ----------------------------------------------------
 */

static void test_copy_is_deep_and_detached(void)
{
    xmppc_stanza *iq = new_el("iq", NULL);
    xmppc_stanza *q = add_el(iq, "query", NS_ROSTER);
    xmppc_stanza *item = add_el(q, "item", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(item, "jid", "a@b"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(item, "urn:x", "y", "z"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(item, "t1"), 0);
    add_el(item, "group", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(item, "t2"), 0);

    xmppc_stanza *c = NULL;
    XT_EQ_INT(xmppc_stanza_copy(&c, item), 0);
    XT_CHECK(c != item);
    XT_CHECK(xmppc_stanza_get_parent(c) == NULL);
    /* The inherited namespace is written into the copy. */
    XT_EQ_STR(xmppc_stanza_get_ns(c), NS_ROSTER);
    XT_EQ_STR(xmppc_stanza_get_ns(xmppc_stanza_get_child(c, "group", NULL)),
              NS_ROSTER);
    XT_EQ_INT(xmppc_stanza_equal(c, item), 1);
    CHECK_XML(c, "<item xmlns='jabber:iq:roster' jid='a@b' xmlns:ns1='urn:x' "
                 "ns1:y='z'>t1<group/>t2</item>");
    /* Changing the copy leaves the original alone. */
    XT_EQ_INT(xmppc_stanza_set_attr(c, "jid", "c@d"), 0);
    XT_EQ_INT(
        xmppc_stanza_set_text(xmppc_stanza_get_child(c, "group", NULL), "G"),
        0);
    XT_EQ_STR(xmppc_stanza_get_attr(item, "jid"), "a@b");
    XT_CHECK(xmppc_stanza_get_child_text(item, "group", NULL) == NULL);
    XT_EQ_INT(xmppc_stanza_equal(c, item), 0);
    xmppc_stanza_unref(c);

    /* A whole tree, and a text node. */
    XT_EQ_INT(xmppc_stanza_copy(&c, iq), 0);
    XT_EQ_INT(xmppc_stanza_equal(c, iq), 1);
    char *x1 = to_xml(c), *x2 = to_xml(iq);
    XT_EQ_STR(x1, x2);
    xmppc_free(x1);
    xmppc_free(x2);
    xmppc_stanza_unref(c);
    XT_EQ_INT(xmppc_stanza_copy(&c, xmppc_stanza_child_at(item, 0)), 0);
    XT_EQ_INT(xmppc_stanza_is_text(c), 1);
    XT_EQ_STR(xmppc_stanza_get_text(c), "t1");
    XT_CHECK(xmppc_stanza_get_parent(c) == NULL);
    xmppc_stanza_unref(c);

    c = NULL;
    CHECK_EINVAL(xmppc_stanza_copy(&c, NULL));
    CHECK_EINVAL(xmppc_stanza_copy(NULL, iq));
    XT_CHECK(c == NULL);
    xmppc_stanza_unref(iq);
}

static void test_equal_ignores_attribute_order(void)
{
    xmppc_stanza *a = new_el("x", NULL), *b = new_el("x", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(a, "p", "1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(a, "q", "2"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(a, "urn:n", "p", "3"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(b, "urn:n", "p", "3"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(b, "q", "2"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(b, "p", "1"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 1);
    XT_EQ_INT(xmppc_stanza_equal(b, a), 1);
    /* But not the values or the namespaces. */
    XT_EQ_INT(xmppc_stanza_set_attr(b, "p", "9"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(b, "p", "1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(b, "urn:n", "p", NULL), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(b, "urn:m", "p", "3"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 0);
    XT_EQ_INT(xmppc_stanza_set_attr_ns(b, "urn:m", "p", NULL), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 0); /* one attribute fewer */
    XT_EQ_INT(xmppc_stanza_equal(b, a), 0);
    xmppc_stanza_unref(a);
    xmppc_stanza_unref(b);
}

static void test_equal_merges_adjacent_text_runs(void)
{
    xmppc_stanza *a = new_el("p", NULL), *b = new_el("p", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(a, "hello world"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(b, "hel"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(b, "lo wo"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(b, "rld"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 1);
    XT_EQ_INT(xmppc_stanza_equal(b, a), 1);
    /* Runs on either side of an element are not adjacent. */
    add_el(a, "br", NULL);
    add_el(b, "br", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(a, "x"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 0);
    XT_EQ_INT(xmppc_stanza_add_text(b, "x"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 1);
    /* Same total text, split differently around the element. */
    xmppc_stanza *c = new_el("p", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(c, "hello"), 0);
    add_el(c, "br", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(c, " worldx"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, c), 0);
    XT_EQ_INT(xmppc_stanza_equal(c, a), 0);
    /* A prefix is not equal. */
    xmppc_stanza *d = new_el("p", NULL), *e = new_el("p", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(d, "ab"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(e, "a"), 0);
    XT_EQ_INT(xmppc_stanza_equal(d, e), 0);
    XT_EQ_INT(xmppc_stanza_equal(e, d), 0);
    xmppc_stanza_unref(a);
    xmppc_stanza_unref(b);
    xmppc_stanza_unref(c);
    xmppc_stanza_unref(d);
    xmppc_stanza_unref(e);
}

static void test_equal_names_namespaces_children(void)
{
    xmppc_stanza *a = new_el("x", "urn:a");
    xmppc_stanza *b = new_el("x", "urn:a");
    xmppc_stanza *c = new_el("x", "urn:b");
    xmppc_stanza *d = new_el("y", "urn:a");
    XT_EQ_INT(xmppc_stanza_equal(a, b), 1);
    XT_EQ_INT(xmppc_stanza_equal(a, c), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, d), 0);
    /* Inherited and explicit namespaces compare as their effective URI. */
    add_el(a, "k", NULL);
    add_el(b, "k", "urn:a");
    XT_EQ_INT(xmppc_stanza_equal(a, b), 1);
    add_el(a, "m", NULL);
    add_el(a, "n", NULL);
    add_el(b, "n", NULL);
    add_el(b, "m", NULL);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 0); /* children order matters */
    xmppc_stanza *t = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&t, "x"), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, t), 0);
    XT_EQ_INT(xmppc_stanza_equal(t, t), 1);
    XT_EQ_INT(xmppc_stanza_equal(a, NULL), 0);
    XT_EQ_INT(xmppc_stanza_equal(NULL, a), 0);
    xmppc_stanza_unref(t);
    xmppc_stanza_unref(a);
    xmppc_stanza_unref(b);
    xmppc_stanza_unref(c);
    xmppc_stanza_unref(d);
}

/* ---- to, from, id, type ---------------------------------------------------
 */

static void test_set_to_and_from_prepare_jids(void)
{
    xmppc_stanza *s = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_set_to(s, "User@Example.COM/Res"), 0);
    XT_EQ_STR(xmppc_stanza_get_to(s), "user@example.com/Res");
    XT_EQ_INT(xmppc_stanza_set_from(s, "Juliet@Capulet.LIT/Balcony"), 0);
    XT_EQ_STR(xmppc_stanza_get_from(s), "juliet@capulet.lit/Balcony");
    XT_EQ_INT(xmppc_stanza_set_to(s, "example.com."), 0);
    XT_EQ_STR(xmppc_stanza_get_to(s), "example.com");
    XT_EQ_INT(xmppc_stanza_set_from(s, NULL), 0);
    XT_CHECK(xmppc_stanza_get_from(s) == NULL);
    CHECK_XML(s, "<message to='example.com'/>");
    xmppc_stanza_unref(s);
}

static void test_set_to_refuses_invalid_jids(void)
{
    static const char *const bad[] = {"a@b@c",
                                      "",
                                      "@example.com",
                                      "user@",
                                      "user@host/",
                                      "us er@example.com",
                                      "user@exa\x01mple",
                                      "\xC0\xAF@x"};
    xmppc_stanza *s = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_set_to(s, "romeo@example.net"), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EINVAL(xmppc_stanza_set_to(s, bad[i]));
        CHECK_EINVAL(xmppc_stanza_set_from(s, bad[i]));
    }
    /* The previous value stays; nothing reached the element. */
    XT_EQ_STR(xmppc_stanza_get_to(s), "romeo@example.net");
    XT_CHECK(xmppc_stanza_get_from(s) == NULL);
    xmppc_stanza *t = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&t, "x"), 0);
    CHECK_EINVAL(xmppc_stanza_set_to(t, "a@b"));
    xmppc_stanza_unref(t);
    xmppc_stanza_unref(s);
}

static void test_id_and_type(void)
{
    xmppc_stanza *s = new_el("iq", NULL);
    XT_EQ_INT(xmppc_stanza_set_id(s, "abc"), 0);
    XT_EQ_INT(xmppc_stanza_set_type(s, "get"), 0);
    XT_EQ_STR(xmppc_stanza_get_id(s), "abc");
    XT_EQ_STR(xmppc_stanza_get_type(s), "get");
    CHECK_XML(s, "<iq id='abc' type='get'/>");
    XT_EQ_INT(xmppc_stanza_set_id(s, NULL), 0);
    XT_EQ_INT(xmppc_stanza_set_type(s, NULL), 0);
    XT_CHECK(xmppc_stanza_get_id(s) == NULL);
    XT_CHECK(xmppc_stanza_get_type(s) == NULL);
    CHECK_EINVAL(xmppc_stanza_set_id(s, "\xED\xA0\x80"));
    XT_CHECK(xmppc_stanza_get_to(NULL) == NULL);
    XT_CHECK(xmppc_stanza_get_id(NULL) == NULL);
    xmppc_stanza_unref(s);
}

static bool id_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_new_id_format_and_uniqueness(void)
{
    enum { N = 1000 };
    static char *ids[N];
    for (size_t i = 0; i < N; i++) {
        ids[i] = NULL;
        XT_EQ_INT(xmppc_stanza_new_id(&ids[i]), 0);
        XT_CHECK(ids[i] != NULL);
        if (!ids[i])
            return;
        XT_EQ_INT(strlen(ids[i]), 16);
        for (const char *p = ids[i]; *p; p++)
            XT_CHECK(id_char_ok(*p));
    }
    qsort(ids, N, sizeof ids[0], cmp_strp);
    size_t dups = 0;
    for (size_t i = 1; i < N; i++)
        dups += strcmp(ids[i - 1], ids[i]) == 0;
    XT_EQ_INT(dups, 0);
    for (size_t i = 0; i < N; i++)
        xmppc_free(ids[i]);
    CHECK_EINVAL(xmppc_stanza_new_id(NULL));
}

static void test_set_new_id(void)
{
    xmppc_stanza *s = new_el("iq", NULL);
    XT_EQ_INT(xmppc_stanza_set_new_id(s), 0);
    const char *id1 = xmppc_stanza_get_id(s);
    XT_CHECK(id1 && strlen(id1) == 16);
    char *saved = id1 ? strdup(id1) : NULL;
    XT_EQ_INT(xmppc_stanza_set_new_id(s), 0);
    XT_CHECK(saved && strcmp(saved, xmppc_stanza_get_id(s)) != 0);
    free(saved);
    xmppc_stanza_unref(s);
}

/* ---- message, presence, iq ------------------------------------------------
 */

static void test_message_new(void)
{
    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", "Romeo@Example.NET", "hi & bye"),
              0);
    XT_EQ_STR(xmppc_stanza_get_name(m), "message");
    XT_EQ_STR(xmppc_stanza_get_ns(m), XMPPC_NS_CLIENT);
    XT_EQ_STR(xmppc_stanza_get_type(m), "chat");
    XT_EQ_STR(xmppc_stanza_get_to(m), "romeo@example.net");
    XT_EQ_STR(xmppc_message_get_body(m), "hi & bye");
    XT_EQ_INT(xmppc_stanza_child_count(m), 1);
    xmppc_stanza_unref(m);

    XT_EQ_INT(xmppc_message_new(&m, NULL, NULL, NULL), 0);
    CHECK_XML(m, "<message/>");
    xmppc_stanza_unref(m);

    m = NULL;
    CHECK_EINVAL(xmppc_message_new(&m, "chat", "a@b@c", "x"));
    CHECK_EINVAL(xmppc_message_new(&m, "chat", NULL, "\xED\xA0\x80"));
    XT_CHECK(m == NULL);
}

static void test_presence_new(void)
{
    xmppc_stanza *p = NULL;
    XT_EQ_INT(xmppc_presence_new(&p, NULL, NULL), 0);
    CHECK_XML(p, "<presence/>");
    xmppc_stanza_unref(p);
    XT_EQ_INT(xmppc_presence_new(&p, "subscribe", "Juliet@Capulet.lit"), 0);
    XT_EQ_STR(xmppc_stanza_get_name(p), "presence");
    XT_EQ_STR(xmppc_stanza_get_type(p), "subscribe");
    XT_EQ_STR(xmppc_stanza_get_to(p), "juliet@capulet.lit");
    xmppc_stanza_unref(p);
    p = NULL;
    CHECK_EINVAL(xmppc_presence_new(&p, NULL, "@x"));
    XT_CHECK(p == NULL);
}

static void test_iq_new(void)
{
    xmppc_stanza *iq = NULL;
    XT_EQ_INT(xmppc_iq_new(&iq, "get", "Example.COM", "q1"), 0);
    XT_EQ_STR(xmppc_stanza_get_name(iq), "iq");
    XT_EQ_STR(xmppc_stanza_get_type(iq), "get");
    XT_EQ_STR(xmppc_stanza_get_to(iq), "example.com");
    XT_EQ_STR(xmppc_stanza_get_id(iq), "q1");
    XT_EQ_INT(xmppc_stanza_child_count(iq), 0);
    xmppc_stanza_unref(iq);

    /* No id given: a fresh one. */
    XT_EQ_INT(xmppc_iq_new(&iq, "set", NULL, NULL), 0);
    const char *id = xmppc_stanza_get_id(iq);
    XT_CHECK(id && strlen(id) == 16);
    XT_CHECK(xmppc_stanza_get_to(iq) == NULL);
    xmppc_stanza_unref(iq);

    iq = NULL;
    CHECK_EINVAL(xmppc_iq_new(&iq, NULL, NULL, "x"));
    CHECK_EINVAL(xmppc_iq_new(&iq, "get", "a@b@c", "x"));
    XT_CHECK(iq == NULL);
}

static void test_body_without_lang_preferred(void)
{
    xmppc_stanza *m = new_el("message", NULL);
    xmppc_stanza *b = NULL;
    XT_CHECK(xmppc_message_get_body(m) == NULL);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Hallo"), 0);
    b = xmppc_stanza_child_at(m, 0);
    XT_EQ_INT(xmppc_stanza_set_attr(b, "xml:lang", "de"), 0);
    /* Only a body with xml:lang: the first body. */
    XT_EQ_STR(xmppc_message_get_body(m), "Hallo");
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", "urn:other", "Nope"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Hello"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Second"), 0);
    XT_EQ_STR(xmppc_message_get_body(m), "Hello");
    xmppc_stanza_unref(m);
}

static void test_body_in_other_namespace_ignored(void)
{
    xmppc_stanza *m = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", "urn:other", "x"), 0);
    XT_CHECK(xmppc_message_get_body(m) == NULL);
    xmppc_stanza_unref(m);
}

static size_t count_children(const xmppc_stanza *s, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < xmppc_stanza_child_count(s); i++) {
        const char *cn = xmppc_stanza_get_name(xmppc_stanza_child_at(s, i));
        n += cn && strcmp(cn, name) == 0;
    }
    return n;
}

static void test_set_body_replaces_all_bodies(void)
{
    xmppc_stanza *m = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Hallo"), 0);
    XT_EQ_INT(
        xmppc_stanza_set_attr(xmppc_stanza_child_at(m, 0), "xml:lang", "de"),
        0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "subject", NULL, "S"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Hello"), 0);
    XT_EQ_INT(xmppc_message_set_body(m, "new"), 0);
    XT_EQ_INT(count_children(m, "body"), 1);
    XT_EQ_STR(xmppc_message_get_body(m), "new");
    XT_EQ_STR(xmppc_message_get_subject(m), "S");
    CHECK_XML(m, "<message><subject>S</subject><body>new</body></message>");
    XT_EQ_INT(xmppc_message_set_body(m, NULL), 0);
    XT_EQ_INT(count_children(m, "body"), 0);
    XT_CHECK(xmppc_message_get_body(m) == NULL);
    CHECK_XML(m, "<message><subject>S</subject></message>");
    xmppc_stanza_unref(m);
}

static void test_subject_and_thread(void)
{
    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", NULL, "b"), 0);
    XT_CHECK(xmppc_message_get_subject(m) == NULL);
    XT_CHECK(xmppc_message_get_thread(m) == NULL);
    XT_EQ_INT(xmppc_message_set_subject(m, "Sub"), 0);
    XT_EQ_INT(xmppc_message_set_thread(m, "th1"), 0);
    XT_EQ_INT(xmppc_message_set_subject(m, "Sub2"), 0);
    XT_EQ_STR(xmppc_message_get_subject(m), "Sub2");
    XT_EQ_STR(xmppc_message_get_thread(m), "th1");
    XT_EQ_INT(count_children(m, "subject"), 1);
    XT_EQ_INT(xmppc_message_set_thread(m, NULL), 0);
    XT_CHECK(xmppc_message_get_thread(m) == NULL);
    CHECK_XML(m, "<message type='chat'><body>b</body>"
                 "<subject>Sub2</subject></message>");
    CHECK_EINVAL(xmppc_message_set_subject(NULL, "x"));
    xmppc_stanza_unref(m);
}

/* ---- errors and replies ---------------------------------------------------
 */

static void test_reply_to_iq(void)
{
    xmppc_stanza *iq = new_el("iq", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "from", "juliet@example.com/balcony"),
              0);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "to", "romeo@example.net"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "id", "r1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "type", "get"), 0);
    add_el(iq, "query", NS_ROSTER);
    xmppc_stanza *r = NULL;
    XT_EQ_INT(xmppc_stanza_reply(&r, iq), 0);
    XT_EQ_STR(xmppc_stanza_get_name(r), "iq");
    XT_EQ_STR(xmppc_stanza_get_to(r), "juliet@example.com/balcony");
    XT_CHECK(xmppc_stanza_get_from(r) == NULL);
    XT_EQ_STR(xmppc_stanza_get_id(r), "r1");
    XT_EQ_STR(xmppc_stanza_get_type(r), "result");
    XT_EQ_INT(xmppc_stanza_child_count(r), 0);
    XT_EQ_INT(xmppc_stanza_attr_count(r), 3);
    xmppc_stanza_unref(r);
    xmppc_stanza_unref(iq);
}

static void test_reply_to_message_keeps_type(void)
{
    xmppc_stanza *m = NULL, *r = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", "a@example.com", "hi"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(m, "from", "b@example.com/x"), 0);
    XT_EQ_INT(xmppc_stanza_reply(&r, m), 0);
    XT_EQ_STR(xmppc_stanza_get_type(r), "chat");
    XT_EQ_STR(xmppc_stanza_get_to(r), "b@example.com/x");
    XT_EQ_INT(xmppc_stanza_child_count(r), 0);
    xmppc_stanza_unref(r);
    /* No from: no to, no id, no type. */
    xmppc_stanza *p = new_el("presence", NULL);
    XT_EQ_INT(xmppc_stanza_reply(&r, p), 0);
    CHECK_XML(r, "<presence/>");
    xmppc_stanza_unref(r);
    xmppc_stanza *t = NULL;
    XT_EQ_INT(xmppc_stanza_new_text(&t, "x"), 0);
    r = NULL;
    CHECK_EINVAL(xmppc_stanza_reply(&r, t));
    CHECK_EINVAL(xmppc_stanza_reply(&r, NULL));
    CHECK_EINVAL(xmppc_stanza_reply(NULL, m));
    XT_CHECK(r == NULL);
    xmppc_stanza_unref(t);
    xmppc_stanza_unref(p);
    xmppc_stanza_unref(m);
}

static xmppc_stanza *sample_iq_get(void)
{
    xmppc_stanza *iq = new_el("iq", NULL);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "from", "juliet@example.com/balcony"),
              0);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "id", "r1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(iq, "type", "get"), 0);
    add_el(iq, "query", "jabber:iq:version");
    return iq;
}

static void test_reply_error_exact_form(void)
{
    xmppc_stanza *iq = sample_iq_get(), *r = NULL;
    XT_EQ_INT(xmppc_stanza_reply_error(&r, iq, "cancel", "service-unavailable",
                                       "Not <here> & gone"),
              0);
    CHECK_XML(r, "<iq to='juliet@example.com/balcony' id='r1' type='error'>"
                 "<error type='cancel'><service-unavailable "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>Not &lt;here&gt; "
                 "&amp; gone</text></error></iq>");
    xmppc_stanza_unref(r);
    /* Without text. */
    XT_EQ_INT(xmppc_stanza_reply_error(&r, iq, "modify", "bad-request", NULL),
              0);
    CHECK_XML(r, "<iq to='juliet@example.com/balcony' id='r1' type='error'>"
                 "<error type='modify'><bad-request "
                 "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
    xmppc_stanza_unref(r);
    xmppc_stanza_unref(iq);
}

static void test_reply_error_refuses_bad_arguments(void)
{
    xmppc_stanza *iq = sample_iq_get(), *r = NULL;
    CHECK_EINVAL(
        xmppc_stanza_reply_error(&r, iq, "bogus", "bad-request", NULL));
    CHECK_EINVAL(xmppc_stanza_reply_error(&r, iq, NULL, "bad-request", NULL));
    CHECK_EINVAL(
        xmppc_stanza_reply_error(&r, iq, "cancel", "bad request", NULL));
    CHECK_EINVAL(xmppc_stanza_reply_error(&r, iq, "cancel", NULL, NULL));
    CHECK_EINVAL(
        xmppc_stanza_reply_error(&r, iq, "cancel", "bad-request", "\x01"));
    CHECK_EINVAL(xmppc_stanza_reply_error(&r, NULL, "cancel", "x", NULL));
    XT_CHECK(r == NULL);
    xmppc_stanza_unref(iq);
}

static void test_get_error_on_reply(void)
{
    xmppc_stanza *iq = sample_iq_get(), *r = NULL;
    XT_EQ_INT(
        xmppc_stanza_reply_error(&r, iq, "wait", "resource-constraint", "busy"),
        0);
    const char *cond = NULL, *type = NULL, *text = NULL;
    XT_EQ_INT(xmppc_stanza_get_error(r, &cond, &type, &text), 1);
    XT_EQ_STR(cond, "resource-constraint");
    XT_EQ_STR(type, "wait");
    XT_EQ_STR(text, "busy");
    /* Any output may be NULL. */
    XT_EQ_INT(xmppc_stanza_get_error(r, NULL, NULL, NULL), 1);
    xmppc_stanza_unref(r);
    /* No error: 0, outputs untouched. */
    cond = type = text = "untouched";
    XT_EQ_INT(xmppc_stanza_get_error(iq, &cond, &type, &text), 0);
    XT_EQ_STR(cond, "untouched");
    XT_EQ_STR(type, "untouched");
    XT_EQ_STR(text, "untouched");
    XT_EQ_INT(xmppc_stanza_get_error(NULL, &cond, &type, &text), 0);
    xmppc_stanza_unref(iq);
}

static void test_get_error_condition_after_text_and_app_condition(void)
{
    /* <message type='error'><error type='cancel'><text>..</text>
     * <item-not-found/><app xmlns='urn:app'/></error></message>, built as
     * a reader would hand it: the condition is the first element in the
     * stanzas namespace that is not <text/>. */
    xmppc_stanza *m = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_set_type(m, "error"), 0);
    xmppc_stanza *e = add_el(m, "error", NULL);
    XT_EQ_INT(xmppc_stanza_set_type(e, "cancel"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(e, "text", XMPPC_NS_STANZAS, "gone"),
              0);
    add_el(e, "app-specific", "urn:app");
    add_el(e, "item-not-found", XMPPC_NS_STANZAS);
    const char *cond = NULL, *type = NULL, *text = NULL;
    XT_EQ_INT(xmppc_stanza_get_error(m, &cond, &type, &text), 1);
    XT_EQ_STR(cond, "item-not-found");
    XT_EQ_STR(type, "cancel");
    XT_EQ_STR(text, "gone");
    xmppc_stanza_unref(m);
}

/* ---- deep trees -----------------------------------------------------------
 */

/* A chain of @p depth nested <d/> elements built bottom-up (so that the
 * ancestor check of add_child stays cheap). */
static xmppc_stanza *deep_chain(size_t depth, const char *leaf_text)
{
    xmppc_stanza *node = new_el("d", NULL);
    if (leaf_text)
        XT_EQ_INT(xmppc_stanza_add_text(node, leaf_text), 0);
    for (size_t i = 1; i < depth; i++) {
        xmppc_stanza *parent = new_el("d", NULL);
        if (xmppc_stanza_add_child(parent, node) != 0) {
            XT_CHECK(!"add_child failed");
            xmppc_stanza_unref(parent);
            break;
        }
        xmppc_stanza_unref(node);
        node = parent;
    }
    return node;
}

static void *free_in_thread(void *arg)
{
    xmppc_stanza_unref(arg);
    return NULL;
}

static void test_deep_tree_free_uses_no_stack(void)
{
    xmppc_stanza *root = deep_chain(10000, "leaf");
    size_t live = xmppc_alloc_live_blocks();
    XT_CHECK(live >= 10000);
    /* Freed on a thread with a 128 KiB stack: a recursive free of 10,000
     * levels would overflow it. */
    pthread_attr_t attr;
    pthread_t t;
    XT_EQ_INT(pthread_attr_init(&attr), 0);
    XT_EQ_INT(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
    XT_EQ_INT(pthread_create(&t, &attr, free_in_thread, root), 0);
    XT_EQ_INT(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
}

static void test_deep_tree_refused_by_serialize_copy_equal(void)
{
    xmppc_stanza *a = deep_chain(10000, NULL);
    xmppc_stanza *b = deep_chain(10000, NULL);
    char *xml = NULL;
    xmppc_stanza *c = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, a), XMPPC_ELIMIT);
    XT_CHECK(xml == NULL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_ELIMIT);
    XT_EQ_INT(xmppc_stanza_copy(&c, a), XMPPC_ELIMIT);
    XT_CHECK(c == NULL);
    XT_EQ_INT(xmppc_stanza_equal(a, b), 0);
    XT_EQ_INT(xmppc_stanza_equal(a, a), 0);
    xmppc_error_clear();
    xmppc_stanza_unref(a);
    xmppc_stanza_unref(b);
}

static void test_max_depth_boundary(void)
{
    /* The top element is level 1: XMPPC_STANZA_MAX_DEPTH levels are fine,
     * one more is refused. The leaf's text is not a level. */
    xmppc_stanza *ok = deep_chain(XMPPC_STANZA_MAX_DEPTH, "t");
    xmppc_stanza *ok2 = deep_chain(XMPPC_STANZA_MAX_DEPTH, "t");
    xmppc_stanza *over = deep_chain(XMPPC_STANZA_MAX_DEPTH + 1, NULL);
    xmppc_stanza *over2 = deep_chain(XMPPC_STANZA_MAX_DEPTH + 1, NULL);
    char *xml = NULL;
    xmppc_stanza *c = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, ok), 0);
    xmppc_free(xml);
    XT_EQ_INT(xmppc_stanza_copy(&c, ok), 0);
    xmppc_stanza_unref(c);
    XT_EQ_INT(xmppc_stanza_equal(ok, ok2), 1);
    xml = NULL;
    c = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, over), XMPPC_ELIMIT);
    XT_EQ_INT(xmppc_stanza_copy(&c, over), XMPPC_ELIMIT);
    XT_EQ_INT(xmppc_stanza_equal(over, over2), 0);
    XT_CHECK(xml == NULL && c == NULL);
    xmppc_free(xml); /* in case they were accepted */
    xmppc_stanza_unref(c);
    xmppc_error_clear();
    xmppc_stanza_unref(ok);
    xmppc_stanza_unref(ok2);
    xmppc_stanza_unref(over);
    xmppc_stanza_unref(over2);
}

/* ---- out of memory ---------------------------------------------------------
 */

/* Builds a stanza that touches every allocating path: JID preparation,
 * attributes (plain, xml:, namespaced, replaced), text runs, nested
 * children, body replacement, copy, reply_error and new ids. Cleans up and
 * returns the first error. */
static int build_nontrivial(char **xml_out)
{
    xmppc_stanza *m = NULL, *x = NULL, *copy = NULL, *err = NULL;
    char *xml = NULL, *xml2 = NULL, *id = NULL;
    int rc;
    if ((rc = xmppc_message_new(&m, "chat", "Romeo@Example.NET/Orchard",
                                "first")) < 0 ||
        (rc = xmppc_stanza_set_from(m, "juliet@example.com/balcony")) < 0 ||
        (rc = xmppc_stanza_set_id(m, "m1")) < 0 ||
        (rc = xmppc_stanza_set_attr(m, "xml:lang", "en")) < 0 ||
        (rc = xmppc_stanza_set_attr_ns(m, "urn:a", "a", "1&2")) < 0 ||
        (rc = xmppc_stanza_set_attr(m, "type", "normal")) < 0 ||
        (rc = xmppc_message_set_body(m, "second <b>")) < 0 ||
        (rc = xmppc_message_set_subject(m, "s")) < 0 ||
        (rc = xmppc_stanza_new(&x, "x", "jabber:x:data")) < 0 ||
        (rc = xmppc_stanza_add_child(m, x)) < 0 ||
        (rc = xmppc_stanza_add_text(x, "one")) < 0 ||
        (rc = xmppc_stanza_add_text_child(x, "field", NULL, "v")) < 0 ||
        (rc = xmppc_stanza_add_text(x, "two")) < 0 ||
        (rc = xmppc_stanza_add_text_child(x, "f2", "urn:b", NULL)) < 0 ||
        (rc = xmppc_stanza_add_text_child(x, "f3", NULL, "\xE2\x98\xBA")) < 0 ||
        (rc = xmppc_stanza_set_text(x, "three")) < 0 ||
        (rc = xmppc_stanza_copy(&copy, m)) < 0 ||
        (rc = xmppc_stanza_reply_error(&err, copy, "cancel",
                                       "service-unavailable", "t")) < 0 ||
        (rc = xmppc_stanza_new_id(&id)) < 0 ||
        (rc = xmppc_stanza_to_string(&xml, NULL, m)) < 0 ||
        (rc = xmppc_stanza_to_string(&xml2, NULL, err)) < 0)
        goto done;
    rc = xmppc_stanza_equal(m, copy) ? 0 : XMPPC_ERROR;
    if (rc == 0) {
        *xml_out = xml;
        xml = NULL;
    }
done:
    xmppc_free(xml);
    xmppc_free(xml2);
    xmppc_free(id);
    xmppc_stanza_unref(x);
    xmppc_stanza_unref(copy);
    xmppc_stanza_unref(err);
    xmppc_stanza_unref(m);
    return rc;
}

static void test_enomem_sweep_build_and_serialize(void)
{
    /* The expected output, kept in the test's own memory: the failing
     * allocator can only be installed while no libxmppc block is live. */
    char *built = NULL, *reference = NULL;
    XT_EQ_INT(build_nontrivial(&built), 0);
    XT_CHECK(built != NULL);
    reference = built ? strdup(built) : NULL;
    xmppc_free(built);
    long n;
    for (n = 1; n < 10000; n++) {
        XT_EQ_INT(xt_failalloc_install(n), 0);
        char *xml = NULL;
        xmppc_error_clear();
        int rc = build_nontrivial(&xml);
        if (rc == 0) {
            XT_EQ_STR(xml, reference);
            xmppc_free(xml);
            XT_EQ_INT(xt_failalloc_remove(), 0);
            break;
        }
        if (rc != XMPPC_ENOMEM)
            XT_FAIL_AT(__FILE__, __LINE__,
                       "allocation %ld failing: returned %d (%s)", n, rc,
                       xmppc_error_last()->message);
        XT_EQ_INT(xmppc_error_last()->code, XMPPC_ENOMEM);
        /* Everything built before the failure was released. */
        if (xmppc_alloc_live_blocks() != 0)
            XT_FAIL_AT(__FILE__, __LINE__,
                       "allocation %ld failing: %zu blocks leaked", n,
                       xmppc_alloc_live_blocks());
        if (xt_failalloc_remove() != 0)
            break;
        if (xt_current_failed)
            break;
    }
    XT_CHECK(n > 20 && n < 10000);
    free(reference);
    xmppc_error_clear();
}

/* The harness fails "the n-th allocation from now" when installed, which it
 * refuses while blocks are live; these tests build the element first under
 * the counting allocator (installed with 0) and then arm the failure. */
static void arm_failure(long nth)
{
    xt_failalloc.countdown = nth - 1;
    xt_failalloc.calls = 0;
}

static void disarm_failure(void)
{
    xt_failalloc.countdown = -1;
}

/* Runs @p op with the 1st, 2nd... allocation failing until it succeeds;
 * each failure must be ENOMEM and leave @p s serialized as before. */
static void sweep_unchanged_at(const char *file, int line, xmppc_stanza *s,
                               int (*op)(xmppc_stanza *), const char *after)
{
    char *before = to_xml(s);
    size_t live_before = xmppc_alloc_live_blocks();
    long n;
    for (n = 1; n < 100; n++) {
        arm_failure(n);
        int rc = op(s);
        disarm_failure();
        if (rc == 0)
            break;
        if (rc != XMPPC_ENOMEM) {
            XT_FAIL_AT(file, line, "allocation %ld failing: returned %d", n,
                       rc);
            break;
        }
        char *now = to_xml(s);
        if (!now || strcmp(now, before) != 0) {
            XT_FAIL_AT(file, line, "allocation %ld failing changed the element",
                       n);
            xt_diag("now", now);
            xt_diag("before", before);
        }
        xmppc_free(now);
        if (xmppc_alloc_live_blocks() != live_before)
            XT_FAIL_AT(file, line, "allocation %ld failing leaked", n);
    }
    XT_CHECK(n > 1); /* at least one allocation was exercised */
    char *now = to_xml(s);
    if (!now || strcmp(now, after) != 0) {
        XT_FAIL_AT(file, line, "unexpected result after success");
        xt_diag("got", now);
        xt_diag("expected", after);
    }
    xmppc_free(now);
    xmppc_free(before);
}
#define SWEEP_UNCHANGED(s, op, after)                                          \
    sweep_unchanged_at(__FILE__, __LINE__, (s), (op), (after))

static int op_add_attr(xmppc_stanza *s)
{
    return xmppc_stanza_set_attr(s, "e", "5");
}

static int op_replace_attr(xmppc_stanza *s)
{
    return xmppc_stanza_set_attr(s, "a", "new");
}

static int op_add_ns_attr(xmppc_stanza *s)
{
    return xmppc_stanza_set_attr_ns(s, "urn:fresh", "n", "6");
}

static int op_set_text(xmppc_stanza *s)
{
    return xmppc_stanza_set_text(s, "replaced");
}

static int op_set_body(xmppc_stanza *s)
{
    return xmppc_message_set_body(s, "new body");
}

static int op_set_to(xmppc_stanza *s)
{
    return xmppc_stanza_set_to(s, "Other@Example.ORG/R");
}

static void test_enomem_set_attr_leaves_element_unchanged(void)
{
    XT_EQ_INT(xt_failalloc_install(0), 0);
    xmppc_stanza *s = new_el("x", NULL);
    /* Four attributes: adding a fifth has to grow the array. */
    XT_EQ_INT(xmppc_stanza_set_attr(s, "a", "1"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "b", "2"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "c", "3"), 0);
    XT_EQ_INT(xmppc_stanza_set_attr(s, "d", "4"), 0);
    SWEEP_UNCHANGED(s, op_add_attr, "<x a='1' b='2' c='3' d='4' e='5'/>");
    SWEEP_UNCHANGED(s, op_replace_attr, "<x a='new' b='2' c='3' d='4' e='5'/>");
    SWEEP_UNCHANGED(s, op_add_ns_attr,
                    "<x a='new' b='2' c='3' d='4' e='5' "
                    "xmlns:ns5='urn:fresh' ns5:n='6'/>");
    SWEEP_UNCHANGED(
        s, op_set_to,
        "<x a='new' b='2' c='3' d='4' e='5' "
        "xmlns:ns5='urn:fresh' ns5:n='6' to='other@example.org/R'/>");
    xmppc_stanza_unref(s);
    XT_EQ_INT(xt_failalloc_remove(), 0);
}

static void test_enomem_set_text_leaves_element_unchanged(void)
{
    XT_EQ_INT(xt_failalloc_install(0), 0);
    xmppc_stanza *s = new_el("p", NULL);
    /* Four children fill the first array: set_text must grow it. */
    XT_EQ_INT(xmppc_stanza_add_text(s, "a"), 0);
    add_el(s, "x", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(s, "b"), 0);
    add_el(s, "y", NULL);
    SWEEP_UNCHANGED(s, op_set_text, "<p><x/><y/>replaced</p>");
    xmppc_stanza_unref(s);
    /* Four element children and no text: nothing to remove makes room. */
    s = new_el("p", NULL);
    add_el(s, "w", NULL);
    add_el(s, "x", NULL);
    add_el(s, "y", NULL);
    add_el(s, "z", NULL);
    SWEEP_UNCHANGED(s, op_set_text, "<p><w/><x/><y/><z/>replaced</p>");
    xmppc_stanza_unref(s);
    XT_EQ_INT(xt_failalloc_remove(), 0);
}

static void test_enomem_set_body_leaves_message_unchanged(void)
{
    XT_EQ_INT(xt_failalloc_install(0), 0);
    xmppc_stanza *m = new_el("message", NULL);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Hallo"), 0);
    XT_EQ_INT(
        xmppc_stanza_set_attr(xmppc_stanza_child_at(m, 0), "xml:lang", "de"),
        0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "body", NULL, "Hello"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "thread", NULL, "t"), 0);
    XT_EQ_INT(xmppc_stanza_add_text_child(m, "subject", NULL, "s"), 0);
    SWEEP_UNCHANGED(m, op_set_body,
                    "<message><thread>t</thread><subject>s</subject>"
                    "<body>new body</body></message>");
    xmppc_stanza_unref(m);
    XT_EQ_INT(xt_failalloc_remove(), 0);
}

static void test_enomem_get_text_join_returns_null(void)
{
    XT_EQ_INT(xt_failalloc_install(0), 0);
    xmppc_stanza *s = new_el("p", NULL);
    XT_EQ_INT(xmppc_stanza_add_text(s, "a"), 0);
    XT_EQ_INT(xmppc_stanza_add_text(s, "b"), 0);
    arm_failure(1);
    XT_CHECK(xmppc_stanza_get_text(s) == NULL);
    disarm_failure();
    XT_EQ_STR(xmppc_stanza_get_text(s), "ab");
    xmppc_stanza_unref(s);
    XT_EQ_INT(xt_failalloc_remove(), 0);
    xmppc_error_clear();
}

/* ---- NULL out parameters ---------------------------------------------------
 */

/* Runs @p fn in a child process, so that a crash fails this check instead
 * of ending the whole run. */
static void check_no_crash_at(const char *file, int line, void (*fn)(void),
                              const char *what)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        XT_FAIL_AT(file, line, "fork failed");
        return;
    }
    if (pid == 0) {
        xt_current_failed = 0;
        fn();
        fflush(stdout);
        _exit(xt_current_failed ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        XT_FAIL_AT(file, line, "%s crashed (signal %d)", what,
                   WTERMSIG(status));
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        XT_FAIL_AT(file, line, "%s failed (exit status %d)", what,
                   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
#define CHECK_NO_CRASH(fn) check_no_crash_at(__FILE__, __LINE__, (fn), #fn)

static void message_new_null_out(void)
{
    CHECK_EINVAL(xmppc_message_new(NULL, "chat", NULL, "x"));
}

static void presence_new_null_out(void)
{
    CHECK_EINVAL(xmppc_presence_new(NULL, NULL, NULL));
}

static void iq_new_null_out(void)
{
    CHECK_EINVAL(xmppc_iq_new(NULL, "get", NULL, "x"));
}

static void reply_error_null_out(void)
{
    xmppc_stanza *iq = new_el("iq", NULL);
    CHECK_EINVAL(xmppc_stanza_reply_error(NULL, iq, "cancel",
                                          "service-unavailable", NULL));
    xmppc_stanza_unref(iq);
}

static void test_constructors_refuse_null_out(void)
{
    /* Every constructor reports a NULL out parameter as XMPPC_EINVAL
     * rather than writing through it. */
    CHECK_NO_CRASH(message_new_null_out);
    CHECK_NO_CRASH(presence_new_null_out);
    CHECK_NO_CRASH(iq_new_null_out);
    CHECK_NO_CRASH(reply_error_null_out);
}

XT_MAIN(XT_TEST(test_new_element_and_inspect),
        XT_TEST(test_null_namespace_means_jabber_client_at_top),
        XT_TEST(test_non_ascii_name_accepted), XT_TEST(test_new_text_node),
        XT_TEST(test_bad_names_refused), XT_TEST(test_bad_namespaces_refused),
        XT_TEST(test_xml_namespace_cannot_be_an_element_namespace),
        XT_TEST(test_new_text_refuses_empty_and_invalid),
        XT_TEST(test_ref_unref_null_safe),
        XT_TEST(test_ref_keeps_alive_and_unref_returns_null),
        XT_TEST(test_parent_keeps_child_alive),
        XT_TEST(test_child_outlives_parent_when_referenced),
        XT_TEST(test_add_child_refuses_attached_child),
        XT_TEST(test_add_child_refuses_cycles),
        XT_TEST(test_add_child_refuses_text_parent_and_null),
        XT_TEST(test_text_node_as_child), XT_TEST(test_remove_child),
        XT_TEST(test_removed_child_inherits_no_more),
        XT_TEST(test_add_text_empty_adds_nothing),
        XT_TEST(test_get_text_joins_runs),
        XT_TEST(test_set_text_replaces_text_keeps_elements),
        XT_TEST(test_invalid_text_refused_and_never_emitted),
        XT_TEST(test_text_escaping), XT_TEST(test_text_node_alone_escaped),
        XT_TEST(test_multibyte_text_unescaped),
        XT_TEST(test_attr_set_get_replace_remove), XT_TEST(test_attr_escaping),
        XT_TEST(test_attr_bad_names_refused), XT_TEST(test_xml_lang),
        XT_TEST(test_namespaced_attrs_get_declared_prefix),
        XT_TEST(test_attr_ns_empty_means_none),
        XT_TEST(test_namespace_uri_escaped_in_declarations),
        XT_TEST(test_attr_at_iterates_and_bounds),
        XT_TEST(test_get_child_and_next_child), XT_TEST(test_add_text_child),
        XT_TEST(test_top_level_jabber_client_not_declared),
        XT_TEST(test_namespace_declared_only_where_it_changes),
        XT_TEST(test_serialization_is_deterministic),
        XT_TEST(test_to_string_null_arguments),
        XT_TEST(test_copy_is_deep_and_detached),
        XT_TEST(test_equal_ignores_attribute_order),
        XT_TEST(test_equal_merges_adjacent_text_runs),
        XT_TEST(test_equal_names_namespaces_children),
        XT_TEST(test_set_to_and_from_prepare_jids),
        XT_TEST(test_set_to_refuses_invalid_jids), XT_TEST(test_id_and_type),
        XT_TEST(test_new_id_format_and_uniqueness), XT_TEST(test_set_new_id),
        XT_TEST(test_message_new), XT_TEST(test_presence_new),
        XT_TEST(test_iq_new), XT_TEST(test_body_without_lang_preferred),
        XT_TEST(test_body_in_other_namespace_ignored),
        XT_TEST(test_set_body_replaces_all_bodies),
        XT_TEST(test_subject_and_thread), XT_TEST(test_reply_to_iq),
        XT_TEST(test_reply_to_message_keeps_type),
        XT_TEST(test_reply_error_exact_form),
        XT_TEST(test_reply_error_refuses_bad_arguments),
        XT_TEST(test_get_error_on_reply),
        XT_TEST(test_get_error_condition_after_text_and_app_condition),
        XT_TEST(test_deep_tree_free_uses_no_stack),
        XT_TEST(test_deep_tree_refused_by_serialize_copy_equal),
        XT_TEST(test_max_depth_boundary),
        XT_TEST(test_enomem_sweep_build_and_serialize),
        XT_TEST(test_enomem_set_attr_leaves_element_unchanged),
        XT_TEST(test_enomem_set_text_leaves_element_unchanged),
        XT_TEST(test_enomem_set_body_leaves_message_unchanged),
        XT_TEST(test_enomem_get_text_join_returns_null),
        XT_TEST(test_constructors_refuse_null_out))
