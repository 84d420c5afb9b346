/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include "../xtest.h"
#include "utf8.h"

static size_t decode(const char *s, uint32_t *cp)
{
    return xmppc__utf8_decode(s, strlen(s), cp);
}

static void test_decode_valid_lengths(void)
{
    uint32_t cp = 0;
    XT_EQ_INT(decode("A", &cp), 1);
    XT_EQ_INT(cp, 0x41);
    XT_EQ_INT(decode("\xC3\xA9", &cp), 2);
    XT_EQ_INT(cp, 0xE9);
    XT_EQ_INT(decode("\xE2\x98\xBA", &cp), 3);
    XT_EQ_INT(cp, 0x263A);
    XT_EQ_INT(decode("\xF0\x9F\x98\x80", &cp), 4);
    XT_EQ_INT(cp, 0x1F600);
    XT_EQ_INT(decode("\xF4\x8F\xBF\xBF", &cp), 4);
    XT_EQ_INT(cp, 0x10FFFF);
}

static void test_decode_rejects_invalid(void)
{
    uint32_t cp;
    XT_EQ_INT(decode("\xC0\xAF", &cp), 0);             /* overlong '/' */
    XT_EQ_INT(decode("\xE0\x80\xAF", &cp), 0);         /* overlong, 3 bytes */
    XT_EQ_INT(decode("\xF0\x80\x80\xAF", &cp), 0);     /* overlong, 4 bytes */
    XT_EQ_INT(decode("\xED\xA0\x80", &cp), 0);         /* surrogate U+D800 */
    XT_EQ_INT(decode("\xF4\x90\x80\x80", &cp), 0);     /* above U+10FFFF */
    XT_EQ_INT(decode("\xF8\x88\x80\x80\x80", &cp), 0); /* 5-byte form */
    XT_EQ_INT(decode("\x80", &cp), 0);                 /* lone continuation */
    XT_EQ_INT(decode("\xC3", &cp), 0);                 /* truncated */
    XT_EQ_INT(decode("\xE2\x98", &cp), 0);             /* truncated */
    XT_EQ_INT(decode("\xC3\x41", &cp), 0);             /* bad continuation */
    XT_EQ_INT(xmppc__utf8_decode("", 0, &cp), 0);
}

static void test_xml_chars(void)
{
    XT_CHECK(xmppc__xml_char_ok('\t') && xmppc__xml_char_ok('\n') &&
             xmppc__xml_char_ok('\r') && xmppc__xml_char_ok(' '));
    XT_CHECK(!xmppc__xml_char_ok(0) && !xmppc__xml_char_ok(1) &&
             !xmppc__xml_char_ok(0x1F));
    XT_CHECK(xmppc__xml_char_ok(0xD7FF) && !xmppc__xml_char_ok(0xD800));
    XT_CHECK(xmppc__xml_char_ok(0xE000) && xmppc__xml_char_ok(0xFFFD));
    XT_CHECK(!xmppc__xml_char_ok(0xFFFE) && !xmppc__xml_char_ok(0xFFFF));
    XT_CHECK(xmppc__xml_char_ok(0x10000) && xmppc__xml_char_ok(0x10FFFF));
    XT_CHECK(!xmppc__xml_char_ok(0x110000));
}

static void test_text_check_reports_offset(void)
{
    size_t bad = 99;
    XT_CHECK(xmppc__xml_text_ok("plain \xC3\xA9 text\n", 14, &bad));
    XT_EQ_INT(bad, 99);
    XT_CHECK(!xmppc__xml_text_ok("ab\x01", 3, &bad));
    XT_EQ_INT(bad, 2);
    XT_CHECK(!xmppc__xml_text_ok("a\xEF\xBF\xBE", 4, &bad)); /* U+FFFE */
    XT_EQ_INT(bad, 1);
    XT_CHECK(!xmppc__xml_text_ok("abc\xC3", 4, NULL));
    XT_CHECK(xmppc__xml_text_ok("", 0, NULL));
}

static void test_ncnames(void)
{
    static const char *const good[] = {
        "a", "message", "_x", "a-b.c9", "\xC3\xA9t\xC3\xA9", "x\xC2\xB7y"};
    static const char *const bad[] = {"",    "1a",  "-a",    ".a",
                                      "a:b", "a b", "a\xC3", "\xC2\xB7x"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        XT_CHECK(xmppc__xml_ncname_ok(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        XT_CHECK(!xmppc__xml_ncname_ok(bad[i], strlen(bad[i])));
}

XT_MAIN(XT_TEST(test_decode_valid_lengths),
        XT_TEST(test_decode_rejects_invalid), XT_TEST(test_xml_chars),
        XT_TEST(test_text_check_reports_offset), XT_TEST(test_ncnames))
