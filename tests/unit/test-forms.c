/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Data Forms (XEP-0004): parse, build, serialize, validation.
 */
#include "../xtest.h"
#include "conn-private.h"

static int catch_stanza(xmppc_conn *c, xmppc_stanza *s, void *ud)
{
    (void)c;
    *(xmppc_stanza **)ud = xmppc_stanza_ref(s);
    return XMPPC_HANDLED;
}

static void no_sink(void *ud, const char *xml)
{
    (void)ud;
    (void)xml;
}

/* Parses @p xml (one element) with the library's reader: injected inside
 * a message on a test connection; returns a detached copy. */
static xmppc_stanza *parse_xml(const char *xml)
{
    xmppc_conn *c = NULL;
    xmppc_stanza *msg = NULL, *copy = NULL;
    char buf[4096];
    snprintf(buf, sizeof buf, "<message from='a@b'>%s</message>", xml);
    xmppc_conn_new(&c, "t@example.com", "pw");
    xmppc__conn_test_ready(c, "t@example.com/r", no_sink, NULL);
    xmppc_conn_add_handler(c, NULL, "message", NULL, NULL, catch_stanza, &msg,
                           NULL);
    XT_EQ_INT(xmppc__conn_test_inject(c, buf), 0);
    if (msg)
        xmppc_stanza_copy(&copy, xmppc_stanza_child_at(msg, 0));
    xmppc_stanza_unref(msg);
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    XT_CHECK(copy != NULL);
    return copy;
}

static const char *all_types_xml =
    "<x xmlns='jabber:x:data' type='form'>"
    "<title>Bot Configuration</title>"
    "<instructions>Fill out this form.</instructions>"
    "<instructions>Second line.</instructions>"
    "<field var='FORM_TYPE' type='hidden'><value>jabber:bot</value></field>"
    "<field type='fixed'><value>Section 1</value></field>"
    "<field var='botname' type='text-single' label='Name'/>"
    "<field var='description' type='text-multi' label='Desc'>"
    "<value>line 1</value><value>line 2</value></field>"
    "<field var='public' type='boolean' label='Public?'><required/>"
    "<value>0</value></field>"
    "<field var='password' type='text-private'><desc>Secret</desc></field>"
    "<field var='features' type='list-multi' label='Features'>"
    "<value>news</value><value>search</value>"
    "<option label='News'><value>news</value></option>"
    "<option label='Search'><value>search</value></option></field>"
    "<field var='maxsubs' type='list-single'>"
    "<value>10</value><option><value>10</value></option></field>"
    "<field var='invitelist' type='jid-multi'>"
    "<value>a@example.org</value><value>b@example.org</value></field>"
    "<field var='owner' type='jid-single'><value>o@example.org</value></field>"
    "<field var='untyped'><value>x</value></field>"
    "</x>";

static void test_parse_every_type(void)
{
    xmppc_stanza *x = parse_xml(all_types_xml);
    xmppc_form *f = NULL;
    XT_EQ_INT(xmppc_form_parse(&f, x), 0);
    XT_EQ_INT(xmppc_form_get_type(f), XMPPC_FORM_FORM);
    XT_EQ_STR(xmppc_form_get_title(f), "Bot Configuration");
    XT_EQ_INT(xmppc_form_instructions_count(f), 2);
    XT_EQ_STR(xmppc_form_instructions_at(f, 1), "Second line.");
    XT_EQ_STR(xmppc_form_get_form_type(f), "jabber:bot");
    XT_EQ_INT(xmppc_form_field_count(f), 11);
    XT_EQ_INT(xmppc_form_field_get_type(xmppc_form_field_at(f, 1)),
              XMPPC_FIELD_FIXED);
    XT_CHECK(xmppc_form_field_get_var(xmppc_form_field_at(f, 1)) == NULL);
    const xmppc_form_field *fl = xmppc_form_get_field(f, "features");
    XT_EQ_INT(xmppc_form_field_get_type(fl), XMPPC_FIELD_LIST_MULTI);
    XT_EQ_INT(xmppc_form_field_value_count(fl), 2);
    XT_EQ_INT(xmppc_form_field_option_count(fl), 2);
    const char *label = NULL, *value = NULL;
    XT_EQ_INT(xmppc_form_field_option_at(fl, 1, &label, &value), 0);
    XT_EQ_STR(label, "Search");
    XT_EQ_STR(value, "search");
    XT_EQ_INT(xmppc_form_field_option_at(fl, 2, &label, &value), XMPPC_EINVAL);
    const xmppc_form_field *pub = xmppc_form_get_field(f, "public");
    XT_EQ_INT(xmppc_form_field_is_required(pub), 1);
    XT_EQ_INT(xmppc_form_field_get_bool(pub), 0);
    XT_EQ_STR(xmppc_form_field_get_desc(xmppc_form_get_field(f, "password")),
              "Secret");
    XT_EQ_INT(xmppc_form_field_get_type(xmppc_form_get_field(f, "untyped")),
              XMPPC_FIELD_UNSPECIFIED);
    XT_EQ_INT(
        xmppc_form_field_value_count(xmppc_form_get_field(f, "invitelist")), 2);
    for (int t = XMPPC_FIELD_BOOLEAN; t <= XMPPC_FIELD_TEXT_SINGLE; t++) {
        int found = 0;
        for (size_t i = 0; i < xmppc_form_field_count(f); i++)
            found |=
                (int)xmppc_form_field_get_type(xmppc_form_field_at(f, i)) == t;
        XT_CHECK(found);
        XT_EQ_INT(xmppc_form_field_type_parse(
                      xmppc_form_field_type_name((xmppc_form_field_type)t)),
                  t);
    }

    /* Round trip: serialize and compare with the input tree. */
    xmppc_stanza *back = NULL;
    XT_EQ_INT(xmppc_form_to_stanza(&back, f), 0);
    XT_CHECK(xmppc_stanza_equal(back, x));
    xmppc_stanza_unref(back);
    xmppc_form_unref(f);
    xmppc_stanza_unref(x);
}

static void test_result_reported_items(void)
{
    const char *xml = "<x xmlns='jabber:x:data' type='result'>"
                      "<title>Search</title>"
                      "<reported><field var='name' label='Name'/>"
                      "<field var='url' type='text-single'/></reported>"
                      "<item><field var='name'><value>A</value></field>"
                      "<field var='url'><value>http://a</value></field></item>"
                      "<item><field var='name'><value>B</value></field>"
                      "<field var='url'><value>http://b</value></field></item>"
                      "</x>";
    xmppc_stanza *x = parse_xml(xml);
    xmppc_form *f = NULL;
    XT_EQ_INT(xmppc_form_parse(&f, x), 0);
    XT_EQ_INT(xmppc_form_get_type(f), XMPPC_FORM_RESULT);
    XT_EQ_INT(xmppc_form_reported_count(f), 2);
    XT_EQ_INT(xmppc_form_item_count(f), 2);
    XT_EQ_STR(xmppc_form_field_get_value(xmppc_form_item_field_at(f, 1, 0)),
              "B");
    XT_CHECK(xmppc_form_item_field_at(f, 2, 0) == NULL);
    xmppc_stanza *back = NULL;
    XT_EQ_INT(xmppc_form_to_stanza(&back, f), 0);
    XT_CHECK(xmppc_stanza_equal(back, x));
    xmppc_stanza_unref(back);
    xmppc_form_unref(f);
    xmppc_stanza_unref(x);
}

static void test_build_and_serialize(void)
{
    xmppc_form *f = NULL;
    XT_EQ_INT(xmppc_form_new(&f, XMPPC_FORM_SUBMIT), 0);
    XT_EQ_INT(xmppc_form_add_field(f, "muc#roomconfig_roomname",
                                   XMPPC_FIELD_TEXT_SINGLE, NULL),
              0);
    XT_EQ_INT(xmppc_form_set_form_type(
                  f, "http://jabber.org/protocol/muc#roomconfig"),
              0);
    /* FORM_TYPE goes first. */
    XT_EQ_STR(xmppc_form_field_get_var(xmppc_form_field_at(f, 0)), "FORM_TYPE");
    XT_EQ_INT(xmppc_form_set_form_type(f, "urn:other"), 0);
    XT_EQ_STR(xmppc_form_get_form_type(f), "urn:other");
    xmppc_form_field *name = xmppc_form_get_field(f, "muc#roomconfig_roomname");
    XT_EQ_INT(xmppc_form_field_set_value(name, "Room"), 0);
    XT_EQ_INT(xmppc_form_field_set_value(name, "Room 2"), 0);
    int idx = xmppc_form_add_field(f, "list", XMPPC_FIELD_LIST_MULTI, "L");
    XT_EQ_INT(idx, 2);
    xmppc_form_field *l = xmppc_form_field_at(f, (size_t)idx);
    XT_EQ_INT(xmppc_form_field_add_option(l, "One", "1"), 0);
    XT_EQ_INT(xmppc_form_field_add_value(l, "1"), 0);
    XT_EQ_INT(xmppc_form_field_add_value(l, "2"), 0);
    XT_EQ_INT(xmppc_form_field_set_required(l, 1), 0);
    XT_EQ_INT(xmppc_form_field_set_desc(l, "a list"), 0);
    XT_EQ_INT(xmppc_form_set_title(f, "T"), 0);
    XT_EQ_INT(xmppc_form_add_instructions(f, "I"), 0);
    xmppc_stanza *x = NULL;
    XT_EQ_INT(xmppc_form_to_stanza(&x, f), 0);
    char *xml = NULL;
    XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, x), 0);
    XT_EQ_STR(xml,
              "<x xmlns='jabber:x:data' type='submit'><title>T</title>"
              "<instructions>I</instructions>"
              "<field var='FORM_TYPE' type='hidden'><value>urn:other</value>"
              "</field><field var='muc#roomconfig_roomname' "
              "type='text-single'><value>Room 2</value></field>"
              "<field var='list' type='list-multi' label='L'><desc>a list"
              "</desc><required/><value>1</value><value>2</value>"
              "<option label='One'><value>1</value></option></field></x>");
    xmppc_free(xml);
    /* Reparse equals. */
    xmppc_form *g = NULL;
    XT_EQ_INT(xmppc_form_parse(&g, x), 0);
    xmppc_stanza *y = NULL;
    XT_EQ_INT(xmppc_form_to_stanza(&y, g), 0);
    XT_CHECK(xmppc_stanza_equal(x, y));
    XT_EQ_INT(xmppc_form_remove_field(g, 0), 0);
    XT_CHECK(xmppc_form_get_form_type(g) == NULL);
    xmppc_stanza_unref(y);
    xmppc_form_unref(g);
    xmppc_stanza_unref(x);
    xmppc_form_unref(f);
}

static void test_validation(void)
{
    xmppc_form *f = NULL;
    XT_EQ_INT(xmppc_form_new(&f, (xmppc_form_type)9), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_new(NULL, XMPPC_FORM_FORM), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_new(&f, XMPPC_FORM_FORM), 0);
    XT_EQ_INT(xmppc_form_add_field(f, NULL, XMPPC_FIELD_TEXT_SINGLE, NULL),
              XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "var") != NULL);
    XT_EQ_INT(xmppc_form_add_field(f, NULL, XMPPC_FIELD_FIXED, NULL), 0);
    XT_EQ_INT(xmppc_form_add_field(f, "a", (xmppc_form_field_type)42, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_add_field(f, "a", XMPPC_FIELD_BOOLEAN, NULL), 1);
    XT_EQ_INT(xmppc_form_add_field(f, "a", XMPPC_FIELD_BOOLEAN, NULL),
              XMPPC_EINVAL);
    xmppc_form_field *b = xmppc_form_get_field(f, "a");
    XT_EQ_INT(xmppc_form_field_add_value(b, "yes"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_field_add_value(b, "true"), 0);
    XT_EQ_INT(xmppc_form_field_get_bool(b), 1);
    XT_EQ_INT(xmppc_form_field_add_value(b, "false"), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "single") != NULL);
    XT_EQ_INT(xmppc_form_field_add_option(b, NULL, "x"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_field_add_value(NULL, "x"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_field_type_parse("bogus"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_remove_field(f, 7), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_form_to_stanza(NULL, f), XMPPC_EINVAL);
    xmppc_form_unref(f);
    xmppc_form_unref(NULL);

    const char *bad[] = {
        "<x xmlns='jabber:x:data'/>",
        "<x xmlns='jabber:x:data' type='weird'/>",
        "<y xmlns='jabber:x:data' type='form'/>",
        "<x xmlns='urn:other' type='form'/>",
        "<x xmlns='jabber:x:data' type='form'><field type='nope' var='a'/></x>",
        "<x xmlns='jabber:x:data' type='form'><field type='text-single'/></x>",
        "<x xmlns='jabber:x:data' type='form'><field var='a' "
        "type='jid-single'><value>a@b</value><value>c@d</value></field></x>",
        "<x xmlns='jabber:x:data' type='form'><field var='a'/>"
        "<field var='a'/></x>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xmppc_stanza *x = parse_xml(bad[i]);
        f = NULL;
        XT_EQ_INT(xmppc_form_parse(&f, x), XMPPC_EINVAL);
        XT_CHECK(f == NULL);
        xmppc_stanza_unref(x);
    }
    XT_EQ_INT(xmppc_form_parse(&f, NULL), XMPPC_EINVAL);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_parse_every_type), XT_TEST(test_result_reported_items),
        XT_TEST(test_build_and_serialize), XT_TEST(test_validation))
