/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>

#include "../xtest.h"
#include "utf8.h"
#include "xmppc-private.h"

/* lib/jid.c: xmppc_jid_prep() with every part through libidn. */
int xmppc__jid_prep_libidn(char **out, const char *str);

/* ---- helpers ------------------------------------------------------------ */

/* Parses @p in and checks the prepared full form (NULL: must be invalid). */
#define CHECK_PREP(in, expected)                                               \
    check_prep(__FILE__, __LINE__, (in), (expected))

static void check_prep(const char *file, int line, const char *in,
                       const char *expected)
{
    xmppc_jid *jid = NULL;
    int rc = xmppc_jid_parse(&jid, in);
    if (expected && rc != 0) {
        XT_FAIL_AT(file, line, "'%s' rejected: %s", in,
                   xmppc_error_last()->message);
    } else if (!expected && rc != XMPPC_EINVAL) {
        XT_FAIL_AT(file, line, "'%s' gave %d, expected XMPPC_EINVAL", in, rc);
    } else if (expected && strcmp(xmppc_jid_full(jid), expected) != 0) {
        XT_FAIL_AT(file, line, "'%s' prepared to '%s', expected '%s'", in,
                   xmppc_jid_full(jid), expected);
    }
    if (expected && rc == 0) {
        /* The prepared form is stable and means the same JID. */
        char *again = NULL;
        if (xmppc_jid_prep(&again, xmppc_jid_full(jid)) != 0 ||
            strcmp(again, xmppc_jid_full(jid)) != 0)
            XT_FAIL_AT(file, line, "'%s' is not stable under preparation",
                       xmppc_jid_full(jid));
        xmppc_free(again);
    }
    xmppc_jid_unref(jid);
}

/* Checks that @p in is invalid and the message contains @p fragment. */
#define CHECK_INVALID(in, fragment)                                            \
    check_invalid(__FILE__, __LINE__, (in), (fragment))

static void check_invalid(const char *file, int line, const char *in,
                          const char *fragment)
{
    xmppc_jid *jid = (xmppc_jid *)&jid; /* must stay untouched */
    xmppc_jid *const sentinel = jid;
    int rc = xmppc_jid_parse(&jid, in);
    if (rc != XMPPC_EINVAL)
        XT_FAIL_AT(file, line, "'%s' gave %d, expected XMPPC_EINVAL", in, rc);
    if (jid != sentinel)
        XT_FAIL_AT(file, line, "'%s': *out was changed on failure", in);
    if (rc != 0 && !strstr(xmppc_error_last()->message, fragment))
        XT_FAIL_AT(file, line, "'%s': message \"%s\" lacks \"%s\"", in,
                   xmppc_error_last()->message, fragment);
    if (rc == 0)
        xmppc_jid_unref(jid);
    xmppc_error_clear();
}

/* A string of @p count copies of @p unit (freed by the caller). */
static char *repeat(const char *unit, size_t count)
{
    size_t n = strlen(unit);
    char *s = malloc(n * count + 1);
    if (!s)
        abort();
    for (size_t i = 0; i < count; i++)
        memcpy(s + i * n, unit, n);
    s[n * count] = '\0';
    return s;
}

static char *concat3(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *s = malloc(la + lb + lc + 1);
    if (!s)
        abort();
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    memcpy(s + la + lb, c, lc + 1);
    return s;
}

/* ---- structure ---------------------------------------------------------- */

static void test_parse_splits_the_three_parts(void)
{
    xmppc_jid *jid = NULL;
    XT_EQ_INT(xmppc_jid_parse(&jid, "User@EXAMPLE.com/Res"), 0);
    XT_EQ_STR(xmppc_jid_local(jid), "user");
    XT_EQ_STR(xmppc_jid_domain(jid), "example.com");
    XT_EQ_STR(xmppc_jid_resource(jid), "Res");
    XT_EQ_STR(xmppc_jid_full(jid), "user@example.com/Res");
    XT_EQ_STR(xmppc_jid_bare(jid), "user@example.com");
    XT_EQ_INT(xmppc_jid_is_bare(jid), 0);
    jid = xmppc_jid_unref(jid);
    XT_CHECK(jid == NULL);

    XT_EQ_INT(xmppc_jid_parse(&jid, "Example.COM"), 0);
    XT_CHECK(xmppc_jid_local(jid) == NULL);
    XT_EQ_STR(xmppc_jid_domain(jid), "example.com");
    XT_CHECK(xmppc_jid_resource(jid) == NULL);
    XT_EQ_STR(xmppc_jid_full(jid), "example.com");
    XT_EQ_STR(xmppc_jid_bare(jid), "example.com");
    XT_EQ_INT(xmppc_jid_is_bare(jid), 1);
    jid = xmppc_jid_unref(jid);

    XT_EQ_INT(xmppc_jid_parse(&jid, "example.com/Some Thing"), 0);
    XT_CHECK(xmppc_jid_local(jid) == NULL);
    XT_EQ_STR(xmppc_jid_domain(jid), "example.com");
    XT_EQ_STR(xmppc_jid_resource(jid), "Some Thing");
    XT_EQ_STR(xmppc_jid_bare(jid), "example.com");
    jid = xmppc_jid_unref(jid);

    XT_EQ_INT(xmppc_jid_parse(&jid, "juliet@capulet.lit"), 0);
    XT_EQ_STR(xmppc_jid_local(jid), "juliet");
    XT_EQ_STR(xmppc_jid_domain(jid), "capulet.lit");
    XT_CHECK(xmppc_jid_resource(jid) == NULL);
    XT_EQ_STR(xmppc_jid_bare(jid), "juliet@capulet.lit");
    XT_EQ_INT(xmppc_jid_is_bare(jid), 1);
    xmppc_jid_unref(jid);
}

static void test_resource_is_everything_after_the_first_slash(void)
{
    xmppc_jid *jid = NULL;
    XT_EQ_INT(xmppc_jid_parse(&jid, "a@b/c@d/e"), 0);
    XT_EQ_STR(xmppc_jid_local(jid), "a");
    XT_EQ_STR(xmppc_jid_domain(jid), "b");
    XT_EQ_STR(xmppc_jid_resource(jid), "c@d/e");
    jid = xmppc_jid_unref(jid);
    /* An '@' after the slash does not make a localpart. */
    XT_EQ_INT(xmppc_jid_parse(&jid, "a.example.com/b@example.net"), 0);
    XT_CHECK(xmppc_jid_local(jid) == NULL);
    XT_EQ_STR(xmppc_jid_domain(jid), "a.example.com");
    XT_EQ_STR(xmppc_jid_resource(jid), "b@example.net");
    jid = xmppc_jid_unref(jid);
    XT_EQ_INT(xmppc_jid_parse(&jid, "x/y//"), 0);
    XT_EQ_STR(xmppc_jid_resource(jid), "y//");
    xmppc_jid_unref(jid);
}

static void test_structural_errors_name_the_part(void)
{
    CHECK_INVALID("a@b@c", "jid 'a@b@c': more than one '@' before the "
                           "resource");
    CHECK_INVALID("juliet@@example.com", "more than one '@'");
    CHECK_INVALID("@example.com", "jid '@example.com': localpart is empty");
    CHECK_INVALID("@", "localpart is empty");
    CHECK_INVALID("juliet@", "jid 'juliet@': domainpart is empty");
    CHECK_INVALID("/foobar", "jid '/foobar': domainpart is empty");
    CHECK_INVALID("a@/b", "domainpart is empty");
    CHECK_INVALID("/", "domainpart is empty");
    CHECK_INVALID("juliet@example.com/",
                  "jid 'juliet@example.com/': resourcepart is empty");
    CHECK_INVALID("", "jid: the string is empty");
}

/* ---- RFC 7622 section 3.5 ----------------------------------------------- */

static void test_rfc7622_valid_examples(void)
{
    CHECK_PREP("juliet@example.com", "juliet@example.com");
    CHECK_PREP("juliet@example.com/foo", "juliet@example.com/foo");
    CHECK_PREP("juliet@example.com/foo bar", "juliet@example.com/foo bar");
    CHECK_PREP("juliet@example.com/foo@bar", "juliet@example.com/foo@bar");
    CHECK_PREP("foo\\20bar@example.com", "foo\\20bar@example.com");
    CHECK_PREP("fussball@example.com", "fussball@example.com");
    /* Nodeprep folds the sharp s to "ss" (PRECIS would keep it). */
    CHECK_PREP("fu\xc3\x9f"
               "ball@example.com",
               "fussball@example.com");
    CHECK_PREP("\xcf\x80@example.com", "\xcf\x80@example.com"); /* pi */
    /* Capital sigma and final sigma both fold to small sigma. */
    CHECK_PREP("\xce\xa3@example.com/foo", "\xcf\x83@example.com/foo");
    CHECK_PREP("\xcf\x83@example.com/foo", "\xcf\x83@example.com/foo");
    CHECK_PREP("\xcf\x82@example.com/foo", "\xcf\x83@example.com/foo");
    CHECK_PREP("king@example.com/\xe2\x99\x9a",
               "king@example.com/\xe2\x99\x9a");
    CHECK_PREP("example.com", "example.com");
    CHECK_PREP("example.com/foobar", "example.com/foobar");
    CHECK_PREP("a.example.com/b@example.net", "a.example.com/b@example.net");
}

static void test_rfc7622_invalid_examples(void)
{
    CHECK_INVALID("\"juliet\"@example.com", "localpart contains '\"'");
    CHECK_INVALID("foo bar@example.com", "localpart contains ' '");
    CHECK_INVALID("juliet@", "domainpart is empty");
    CHECK_INVALID("/foobar", "domainpart is empty");
    /* Valid under stringprep, invalid under PRECIS (documented in jid.h):
     * U+2163 ROMAN NUMERAL FOUR becomes "iv"; a chess king stays. */
    CHECK_PREP("henry\xe2\x85\xa3@example.com", "henryiv@example.com");
    CHECK_PREP("\xe2\x99\x9a@example.com", "\xe2\x99\x9a@example.com");
}

static void test_nodeprep_prohibited_characters(void)
{
    static const char *const bad[] = {
        "a\"b@x", "a&b@x", "a'b@x", "a:b@x", "a<b@x", "a>b@x", "a b@x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INVALID(bad[i], "localpart contains");
    /* A fullwidth '@' (U+FF20) maps to '@', which Nodeprep prohibits. */
    CHECK_INVALID("a\xef\xbc\xa0"
                  "b@x",
                  "localpart contains a character Nodeprep prohibits");
    /* The same in the domainpart becomes a plain '@' after Nameprep. */
    CHECK_INVALID("x@a\xef\xbc\xa0"
                  "b",
                  "domainpart contains '@'");
    /* The resourcepart takes spaces and separators, not controls. */
    CHECK_PREP("x/ a&b<c>'d\":e ", "x/ a&b<c>'d\":e ");
}

/* ---- case folding and Unicode ------------------------------------------- */

static void test_case_folding_keeps_resource_case(void)
{
    CHECK_PREP("User@EXAMPLE.com/Res", "user@example.com/Res");
    CHECK_PREP("ROMEO@Montague.LIT/ORCHARD", "romeo@montague.lit/ORCHARD");
    CHECK_PREP("\xc3\x84pfel@B\xc3\x9c"
               "CHER.de/\xc3\x84",
               "\xc3\xa4pfel@b\xc3\xbc"
               "cher.de/\xc3\x84");
}

static void test_non_ascii_mappings(void)
{
    /* Fullwidth letters are mapped by NFKC; the resource keeps its case. */
    CHECK_PREP("\xef\xbc\xaa\xef\xbc\xb5\xef\xbc\xac@"
               "\xef\xbd\x85\xef\xbd\x98.com/\xef\xbc\xb2\xef\xbd\x85",
               "jul@ex.com/Re");
    /* The sharp s of a domain also becomes "ss" under Nameprep. */
    CHECK_PREP("x@stra\xc3\x9f"
               "e.de",
               "x@strasse.de");
    /* U+00AD SOFT HYPHEN is mapped to nothing. */
    CHECK_PREP("ju\xc2\xad"
               "liet@example.com",
               "juliet@example.com");
    CHECK_INVALID("\xc2\xad@example.com",
                  "localpart is empty after preparation");
    CHECK_INVALID("x/\xc2\xad", "resourcepart is empty after preparation");
    /* A combining sequence is composed (NFKC). */
    CHECK_PREP("e\xcc\x81@x/e\xcc\x81", "\xc3\xa9@x/\xc3\xa9");
    /* Code points unassigned in Unicode 3.2 pass, as in Prosody: U+0237
     * and an emoji (whose variation selector is mapped to nothing). */
    CHECK_PREP("\xc8\xb7@x", "\xc8\xb7@x");
    CHECK_PREP("x/res\xf0\x9f\x98\x80\xef\xb8\x8f", "x/res\xf0\x9f\x98\x80");
    /* Hebrew alone is fine; mixed with Latin it breaks the bidi rule. */
    CHECK_PREP("\xd7\x90\xd7\x91@x", "\xd7\x90\xd7\x91@x");
    CHECK_INVALID("x/\xd7\x90"
                  "b",
                  "resourcepart breaks the bidirectional text rule");
    CHECK_INVALID("\xd7\x90"
                  "b@x",
                  "localpart breaks the bidirectional text rule");
}

static void test_bidi_rule_in_domain(void)
{
    /* Arabic letters followed by a Latin letter in one label. */
    CHECK_INVALID("x@\xd9\x85\xd8\xb1"
                  "a.com",
                  "domainpart breaks the bidirectional text rule");
    /* Nameprep sees the whole domainpart, as in Prosody and ejabberd, so
     * an Arabic label next to a Latin one is refused too. */
    CHECK_INVALID("x@\xd9\x85\xd8\xb1.com",
                  "domainpart breaks the bidirectional text rule");
    CHECK_PREP("x@\xd9\x85\xd8\xb1.\xd9\x85\xd8\xb1",
               "x@\xd9\x85\xd8\xb1.\xd9\x85\xd8\xb1");
}

/* ---- invalid input ------------------------------------------------------ */

static void test_invalid_utf8(void)
{
    CHECK_INVALID("a\xc0\xaf@x", "jid: invalid UTF-8 at byte 1"); /* overlong */
    CHECK_INVALID("ab\xed\xa0\x80@x",
                  "jid: invalid UTF-8 at byte 2"); /* surr. */
    CHECK_INVALID("x@ab\xe2\x82",
                  "jid: invalid UTF-8 at byte 4");           /* truncated */
    CHECK_INVALID("x/\x80", "jid: invalid UTF-8 at byte 2"); /* stray byte */
    CHECK_INVALID("x/\xf4\x90\x80\x80",
                  "invalid UTF-8 at byte 2"); /* >10FFFF */
    CHECK_INVALID("\xfe@x", "invalid UTF-8 at byte 0");
    /* The bad input is not copied into the message. */
    CHECK_INVALID("a@b@\xff", "jid: invalid UTF-8 at byte 4");
}

static void test_control_characters(void)
{
    CHECK_INVALID("a\x01"
                  "b@x",
                  "jid: control character U+0001 at byte 1");
    CHECK_INVALID("x@a\tb", "control character U+0009 at byte 3");
    CHECK_INVALID("x/a\nb", "control character U+000A at byte 3");
    CHECK_INVALID("x/a\x7f", "control character U+007F at byte 3");
    CHECK_INVALID("x/a\xc2\x85", "control character U+0085 at byte 3");
    CHECK_INVALID("x/a\xef\xbf\xbe", "U+FFFE at byte 3 is not allowed in XML");
}

static void test_part_length_limits(void)
{
    char *local1023 = repeat("a", 1023), *local1024 = repeat("a", 1024);
    char *jid1 = concat3(local1023, "@", "x");
    char *jid2 = concat3(local1024, "@", "x");
    char *jid3 = concat3("x/", local1023, "");
    char *jid4 = concat3("x/", local1024, "");
    char *expected = concat3(local1023, "@x", "");
    CHECK_PREP(jid1, expected);
    CHECK_INVALID(jid2, "localpart is longer than 1023 bytes");
    CHECK_PREP(jid3, jid3);
    CHECK_INVALID(jid4, "resourcepart is longer than 1023 bytes");
    free(jid1), free(jid2), free(jid3), free(jid4), free(expected);
    free(local1023), free(local1024);

    /* Non-ASCII: 511 two-byte characters and one ASCII byte, then one
     * character more. */
    char *e511 = repeat("\xc3\xa9", 511), *e512 = repeat("\xc3\xa9", 512);
    jid1 = concat3(e511, "a@x", "");
    jid2 = concat3(e512, "@x", "");
    jid3 = concat3("x/", e511, "a");
    jid4 = concat3("x/", e512, "");
    CHECK_PREP(jid1, jid1);
    CHECK_INVALID(jid2, "localpart is longer than 1023 bytes");
    CHECK_PREP(jid3, jid3);
    CHECK_INVALID(jid4, "resourcepart is longer than 1023 bytes");
    free(jid1), free(jid2), free(jid3), free(jid4), free(e511), free(e512);

    /* Short as given, too long after preparation: U+FDFA expands from 3 to
     * 33 bytes under NFKC. */
    char *ligatures = repeat("\xef\xb7\xba", 40);
    jid1 = concat3("x/", ligatures, "");
    CHECK_INVALID(jid1, "resourcepart is longer than 1023 bytes after "
                        "preparation");
    free(jid1), free(ligatures);

    /* A domainpart is held to 253 bytes in ASCII long before 1023. */
    char *label = repeat("a", 63);
    char *label64 = repeat("a", 64);
    jid1 = concat3("x@", label, ".com");
    jid2 = concat3("x@", label64, ".com");
    CHECK_PREP(jid1, jid1);
    CHECK_INVALID(jid2, "domainpart has a label longer than 63 bytes");
    free(jid1), free(jid2), free(label64);
    /* 4 labels of 63 and dots: 255 bytes; of 62: 251. */
    char *four = concat3(label, ".", label);
    char *eight = concat3(four, ".", four);
    CHECK_INVALID(eight, "domainpart is longer than 253 bytes");
    free(four), free(eight), free(label);
    char *l62 = repeat("b", 62);
    four = concat3(l62, ".", l62);
    eight = concat3(four, ".", four);
    char *jid253 = concat3(eight, ".", "a"); /* 251 + 2 = 253 */
    char *jid254 = concat3(eight, ".", "ab");
    CHECK_PREP(jid253, jid253);
    CHECK_INVALID(jid254, "domainpart is longer than 253 bytes");
    free(l62), free(four), free(eight), free(jid253), free(jid254);

    char *d1024 = repeat("a", 1024), *d1023 = repeat("a", 1023);
    CHECK_INVALID(d1024, "domainpart is longer than 1023 bytes");
    CHECK_INVALID(d1023, "domainpart is longer than 253 bytes");
    /* The trailing dot is stripped before the length is checked. */
    jid1 = concat3(d1023, ".", "");
    CHECK_INVALID(jid1, "domainpart is longer than 253 bytes");
    free(jid1), free(d1024), free(d1023);
}

static void test_idna_limits(void)
{
    /* 57 x U+00E4 is "xn--" plus 59 bytes, 58 one more: IDNA refuses. */
    char *a57 = repeat("\xc3\xa4", 57), *a58 = repeat("\xc3\xa4", 58);
    char *jid57 = concat3("x@", a57, ".de"), *jid58 = concat3("x@", a58, "");
    CHECK_PREP(jid57, jid57);
    CHECK_INVALID(jid58, "not a valid internationalized domain name");
    /* Four such labels are 255 bytes in ASCII form, over 253. */
    char *two = concat3(a57, ".", a57);
    char *four = concat3(two, ".", two);
    CHECK_INVALID(four, "not a valid internationalized domain name");
    free(two), free(four);
    free(a57), free(a58), free(jid57), free(jid58);
    CHECK_PREP("x@B\xc3\xbc"
               "cher.example",
               "x@b\xc3\xbc"
               "cher.example");
    /* A hyphen at the end of a U-label breaks IDNA2008. */
    CHECK_INVALID("x@\xc3\xa4-.de", "not a valid internationalized domain");
    CHECK_INVALID("x@\xc3\xa4_b.de", "both '_' and non-ASCII characters");
    /* An xn-- label given in ASCII is kept as given. */
    CHECK_PREP("x@xn--bcher-kva.example", "x@xn--bcher-kva.example");
}

/* ---- domainpart --------------------------------------------------------- */

static void test_ip_literals(void)
{
    CHECK_PREP("juliet@123.123.123.123/res", "juliet@123.123.123.123/res");
    CHECK_PREP("1.2.3.4", "1.2.3.4");
    CHECK_PREP("[::1]", "[::1]");
    CHECK_PREP("x@[2001:DB8::1]/r", "x@[2001:db8::1]/r");
    CHECK_PREP("juliet@[2002:4559:1FE2::4559:1FE2]/res",
               "juliet@[2002:4559:1fe2::4559:1fe2]/res");
    CHECK_PREP("[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]");
    /* Fullwidth brackets are mapped to ASCII ones by Nameprep. */
    CHECK_PREP("\xef\xbc\xbb::1\xef\xbc\xbd", "[::1]");
    CHECK_INVALID("x@[::1", "does not end with ']'");
    CHECK_INVALID("x@::1", "IPv6 address without the brackets");
    CHECK_INVALID("[]", "not a valid IPv6 address");
    CHECK_INVALID("[1.2.3.4]", "not a valid IPv6 address");
    CHECK_INVALID("[::1%eth0]", "not a valid IPv6 address");
    CHECK_INVALID("[::g]", "not a valid IPv6 address");
    CHECK_INVALID("[::1]x", "does not end with ']'");
    CHECK_INVALID("x[::1]", "domainpart contains '['");
    CHECK_INVALID("example.com:5222", "domainpart contains ':'");
}

static void test_trailing_dot(void)
{
    CHECK_PREP("example.com.", "example.com");
    CHECK_PREP("a@example.com./r", "a@example.com/r");
    CHECK_PREP("[::1].", "[::1]");
    /* U+3002 IDEOGRAPHIC FULL STOP separates labels too. */
    CHECK_PREP("a@example\xe3\x80\x82"
               "com\xe3\x80\x82",
               "a@example.com");
    CHECK_PREP("a@example\xef\xbd\xa1"
               "com",
               "a@example.com");
    CHECK_INVALID("example.com..", "domainpart has an empty label");
    CHECK_INVALID(".", "domainpart is empty");
    CHECK_INVALID("a@./r", "domainpart is empty");
}

static void test_domain_labels(void)
{
    CHECK_INVALID(".example.com", "domainpart has an empty label");
    CHECK_INVALID("a..b", "domainpart has an empty label");
    CHECK_INVALID("x@\xc3\xa4..de", "domainpart has an empty label");
    CHECK_INVALID("exa mple.com", "domainpart contains ' '");
    CHECK_INVALID("a,b", "domainpart contains ','");
    CHECK_INVALID("a\\b", "domainpart contains '\\'");
    CHECK_INVALID("x@a<b", "domainpart contains '<'");
    /* Both servers accept '_' and hyphens anywhere in ASCII labels. */
    CHECK_PREP("x@under_score.example", "x@under_score.example");
    CHECK_PREP("x@-a-.example", "x@-a-.example");
    /* "1." from U+2488 DIGIT ONE FULL STOP: the dot splits a label. */
    CHECK_PREP("x@\xe2\x92\x88"
               "com",
               "x@1.com");
    CHECK_INVALID("x@com\xe2\x92\x88", "domainpart has an empty label");
}

/* ---- the other constructors --------------------------------------------- */

static void test_new_prepares_each_part(void)
{
    xmppc_jid *jid = NULL;
    XT_EQ_INT(xmppc_jid_new(&jid, "Romeo", "Montague.LIT", "Or/ch@rd"), 0);
    XT_EQ_STR(xmppc_jid_full(jid), "romeo@montague.lit/Or/ch@rd");
    XT_EQ_STR(xmppc_jid_resource(jid), "Or/ch@rd");
    jid = xmppc_jid_unref(jid);
    XT_EQ_INT(xmppc_jid_new(&jid, NULL, "Example.com.", NULL), 0);
    XT_EQ_STR(xmppc_jid_full(jid), "example.com");
    XT_CHECK(xmppc_jid_local(jid) == NULL);
    XT_CHECK(xmppc_jid_resource(jid) == NULL);
    jid = xmppc_jid_unref(jid);
    XT_EQ_INT(xmppc_jid_new(&jid, NULL, "example.com", "r"), 0);
    XT_EQ_STR(xmppc_jid_full(jid), "example.com/r");
    jid = xmppc_jid_unref(jid);

    xmppc_jid *const sentinel = (xmppc_jid *)&jid;
    jid = sentinel;
    XT_EQ_INT(xmppc_jid_new(&jid, "a@b", "x", NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "jid 'a@b@x': localpart contains '@', which is not allowed "
              "there");
    XT_EQ_INT(xmppc_jid_new(&jid, "", "x", NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "jid '@x': localpart is empty");
    XT_EQ_INT(xmppc_jid_new(&jid, NULL, "x", ""), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "jid 'x/': resourcepart is empty");
    XT_EQ_INT(xmppc_jid_new(&jid, NULL, "", NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "jid '': domainpart is empty");
    XT_EQ_INT(xmppc_jid_new(&jid, NULL, "a/b", NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "jid 'a/b': domainpart contains '/'");
    XT_EQ_INT(xmppc_jid_new(&jid, "ok", "x\xff", "r"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "jid: invalid UTF-8 in the domainpart at byte 1");
    XT_EQ_INT(xmppc_jid_new(&jid, "a", "x", "r\x01"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "jid: control character U+0001 in the resourcepart at byte 1");
    XT_EQ_INT(xmppc_jid_new(&jid, "a", NULL, "r"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "xmppc_jid_new: domain is NULL");
    XT_EQ_INT(xmppc_jid_new(NULL, "a", "x", "r"), XMPPC_EINVAL);
    XT_CHECK(jid == sentinel);
    xmppc_error_clear();
}

static void test_new_equals_parse(void)
{
    static const char *const parts[][4] = {
        {("ju\xc2\xad"
          "Liet"),
         "Capulet.LIT.", "Balcony", "juliet@capulet.lit/Balcony"},
        {NULL, "\xef\xbc\xa5x.com", NULL, "ex.com"},
        {"\xce\xa3", "[2001:DB8::1]", "\xe2\x99\x9a",
         "\xcf\x83@[2001:db8::1]/\xe2\x99\x9a"},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        xmppc_jid *built = NULL, *parsed = NULL;
        XT_EQ_INT(xmppc_jid_new(&built, parts[i][0], parts[i][1], parts[i][2]),
                  0);
        XT_EQ_INT(xmppc_jid_parse(&parsed, parts[i][3]), 0);
        XT_EQ_STR(xmppc_jid_full(built), parts[i][3]);
        XT_EQ_INT(xmppc_jid_equal(built, parsed), 1);
        xmppc_jid_unref(built);
        xmppc_jid_unref(parsed);
    }
}

static void test_ref_and_unref(void)
{
    size_t live = xmppc_alloc_live_blocks();
    xmppc_jid *jid = NULL;
    XT_EQ_INT(xmppc_jid_parse(&jid, "a@b/c"), 0);
    XT_EQ_INT(xmppc_alloc_live_blocks(), live + 1); /* one block per JID */
    XT_CHECK(xmppc_jid_ref(jid) == jid);
    XT_CHECK(xmppc_jid_unref(jid) == NULL);
    XT_EQ_STR(xmppc_jid_full(jid), "a@b/c"); /* still referenced once */
    XT_CHECK(xmppc_jid_unref(jid) == NULL);
    XT_EQ_INT(xmppc_alloc_live_blocks(), live);
    XT_CHECK(xmppc_jid_ref(NULL) == NULL);
    XT_CHECK(xmppc_jid_unref(NULL) == NULL);
}

static void test_to_bare(void)
{
    xmppc_jid *full = NULL, *bare = NULL, *bare2 = NULL;
    XT_EQ_INT(xmppc_jid_parse(&full, "Juliet@Capulet.lit/Balcony"), 0);
    XT_EQ_INT(xmppc_jid_to_bare(&bare, full), 0);
    XT_CHECK(bare != full);
    XT_EQ_STR(xmppc_jid_full(bare), "juliet@capulet.lit");
    XT_EQ_STR(xmppc_jid_local(bare), "juliet");
    XT_EQ_STR(xmppc_jid_domain(bare), "capulet.lit");
    XT_CHECK(xmppc_jid_resource(bare) == NULL);
    XT_EQ_INT(xmppc_jid_is_bare(bare), 1);
    /* Already bare: the same object, one more reference. */
    XT_EQ_INT(xmppc_jid_to_bare(&bare2, bare), 0);
    XT_CHECK(bare2 == bare);
    xmppc_jid_unref(bare2);
    XT_EQ_STR(xmppc_jid_full(bare), "juliet@capulet.lit");
    xmppc_jid_unref(bare);
    xmppc_jid_unref(full);

    XT_EQ_INT(xmppc_jid_parse(&full, "capulet.lit/x"), 0);
    XT_EQ_INT(xmppc_jid_to_bare(&bare, full), 0);
    XT_EQ_STR(xmppc_jid_full(bare), "capulet.lit");
    XT_CHECK(xmppc_jid_local(bare) == NULL);
    xmppc_jid_unref(bare);
    XT_EQ_INT(xmppc_jid_to_bare(NULL, full), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_to_bare(&bare, NULL), XMPPC_EINVAL);
    xmppc_jid_unref(full);
    xmppc_error_clear();
}

static void test_with_resource(void)
{
    xmppc_jid *room = NULL, *occupant = NULL, *other = NULL;
    XT_EQ_INT(xmppc_jid_parse(&room, "Coven@Chat.Shakespeare.lit"), 0);
    XT_EQ_INT(
        xmppc_jid_with_resource(&occupant, room, "\xef\xbc\xb4hird Witch"), 0);
    XT_EQ_STR(xmppc_jid_full(occupant),
              "coven@chat.shakespeare.lit/Third Witch");
    XT_EQ_STR(xmppc_jid_resource(occupant), "Third Witch");
    XT_EQ_STR(xmppc_jid_bare(occupant), "coven@chat.shakespeare.lit");
    /* Replacing an existing resource. */
    XT_EQ_INT(xmppc_jid_with_resource(&other, occupant, "a/b@c"), 0);
    XT_EQ_STR(xmppc_jid_full(other), "coven@chat.shakespeare.lit/a/b@c");
    XT_EQ_INT(xmppc_jid_bare_equal(other, room), 1);
    xmppc_jid_unref(other);

    xmppc_jid *const sentinel = (xmppc_jid *)&other;
    other = sentinel;
    XT_EQ_INT(xmppc_jid_with_resource(&other, room, ""), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "jid 'coven@chat.shakespeare.lit/': resourcepart is empty");
    XT_EQ_INT(xmppc_jid_with_resource(&other, room, "a\tb"), XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "in the resourcepart"));
    XT_EQ_INT(xmppc_jid_with_resource(&other, room, "\xd7\x90x"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_with_resource(&other, room, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_with_resource(&other, NULL, "r"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_with_resource(NULL, room, "r"), XMPPC_EINVAL);
    XT_CHECK(other == sentinel);
    xmppc_jid_unref(occupant);
    xmppc_jid_unref(room);
    xmppc_error_clear();
}

/* ---- comparison --------------------------------------------------------- */

static void test_equal_and_bare_equal(void)
{
    xmppc_jid *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    XT_EQ_INT(xmppc_jid_parse(&a, "User@Example.com/Phone"), 0);
    XT_EQ_INT(xmppc_jid_parse(&b, "user@EXAMPLE.COM./Phone"), 0);
    XT_EQ_INT(xmppc_jid_parse(&c, "user@example.com/phone"), 0);
    XT_EQ_INT(xmppc_jid_parse(&d, "user@example.com"), 0);
    XT_EQ_INT(xmppc_jid_equal(a, b), 1);
    XT_EQ_INT(xmppc_jid_equal(a, a), 1);
    XT_EQ_INT(xmppc_jid_equal(a, c), 0); /* resources keep case */
    XT_EQ_INT(xmppc_jid_equal(a, d), 0);
    XT_EQ_INT(xmppc_jid_bare_equal(a, c), 1);
    XT_EQ_INT(xmppc_jid_bare_equal(a, d), 1);
    XT_EQ_INT(xmppc_jid_equal(a, NULL), 0);
    XT_EQ_INT(xmppc_jid_equal(NULL, NULL), 0);
    XT_EQ_INT(xmppc_jid_bare_equal(NULL, d), 0);
    xmppc_jid_unref(a), xmppc_jid_unref(b), xmppc_jid_unref(c);
    xmppc_jid_unref(d);

    /* A domain-only JID is not the bare JID of a user at that domain. */
    XT_EQ_INT(xmppc_jid_parse(&a, "example.com/x"), 0);
    XT_EQ_INT(xmppc_jid_parse(&b, "x@example.com"), 0);
    XT_EQ_INT(xmppc_jid_bare_equal(a, b), 0);
    xmppc_jid_unref(a), xmppc_jid_unref(b);
}

static int compare_for_qsort(const void *a, const void *b)
{
    return xmppc_jid_compare(*(xmppc_jid *const *)a, *(xmppc_jid *const *)b);
}

static void test_compare_is_a_total_order(void)
{
    static const char *const inputs[] = {
        "b@x",        "a@x/2", "A@X/1",       "x",     "x/r",
        "\xce\xa3@x", "a@x",   "a@x.example", "a@x/1",
    };
    /* Byte order: '.' (0x2E) sorts before '/' (0x2F). */
    static const char *const sorted[] = {
        "a@x", "a@x.example", "a@x/1", "a@x/1",      "a@x/2",
        "b@x", "x",           "x/r",   "\xcf\x83@x",
    };
    enum { N = sizeof inputs / sizeof inputs[0] };
    xmppc_jid *jids[N];
    for (size_t i = 0; i < N; i++)
        XT_EQ_INT(xmppc_jid_parse(&jids[i], inputs[i]), 0);
    qsort(jids, N, sizeof jids[0], compare_for_qsort);
    for (size_t i = 0; i < N; i++)
        XT_EQ_STR(xmppc_jid_full(jids[i]), sorted[i]);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++) {
            int ij = xmppc_jid_compare(jids[i], jids[j]);
            int ji = xmppc_jid_compare(jids[j], jids[i]);
            XT_CHECK((ij > 0) == (ji < 0) && (ij == 0) == (ji == 0));
            XT_CHECK((ij == 0) == xmppc_jid_equal(jids[i], jids[j]));
        }
    XT_CHECK(xmppc_jid_compare(NULL, jids[0]) < 0);
    XT_CHECK(xmppc_jid_compare(jids[0], NULL) > 0);
    XT_EQ_INT(xmppc_jid_compare(NULL, NULL), 0);
    for (size_t i = 0; i < N; i++)
        xmppc_jid_unref(jids[i]);
}

/* ---- string functions --------------------------------------------------- */

static void test_prep_strings(void)
{
    char *out = NULL;
    XT_EQ_INT(xmppc_jid_prep(&out, "Juliet@Capulet.LIT./Balcony"), 0);
    XT_EQ_STR(out, "juliet@capulet.lit/Balcony");
    xmppc_free(out);
    XT_EQ_INT(xmppc_jid_prep(&out, "\xce\xa3@\xef\xbc\xa5X.com"), 0);
    XT_EQ_STR(out, "\xcf\x83@ex.com");
    xmppc_free(out);
    XT_EQ_INT(xmppc_jid_prep(&out, "capulet.lit"), 0);
    XT_EQ_STR(out, "capulet.lit");
    xmppc_free(out);

    char *const sentinel = (char *)&out;
    out = sentinel;
    XT_EQ_INT(xmppc_jid_prep(&out, "a@b@c"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "jid 'a@b@c': more than one '@' before the resource");
    XT_EQ_INT(xmppc_jid_prep(&out, NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "xmppc_jid_prep: str is NULL");
    XT_EQ_INT(xmppc_jid_prep(NULL, "a@b"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "xmppc_jid_prep: out is NULL");
    XT_CHECK(out == sentinel);
    xmppc_error_clear();
}

static void test_str_equal(void)
{
    XT_EQ_INT(xmppc_jid_str_equal("User@Example.com/R", "user@example.com./R"),
              1);
    XT_EQ_INT(xmppc_jid_str_equal("user@example.com/R", "user@example.com/r"),
              0);
    XT_EQ_INT(xmppc_jid_str_equal("user@example.com", "user@example.com/r"), 0);
    XT_EQ_INT(xmppc_jid_str_equal("example.com", "x@example.com"), 0);
    XT_EQ_INT(xmppc_jid_str_equal("fu\xc3\x9f"
                                  "ball@x",
                                  "FUSSBALL@X"),
              1);
    XT_EQ_INT(xmppc_jid_str_equal("a@b", "a@b@c"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_str_equal("a@@b", "a@b"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_str_equal(NULL, "a@b"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "xmppc_jid_str_equal: a is NULL");
    XT_EQ_INT(xmppc_jid_str_equal("a@b", NULL), XMPPC_EINVAL);

    XT_EQ_INT(
        xmppc_jid_str_bare_equal("User@Example.com/A", "user@example.com/B"),
        1);
    XT_EQ_INT(
        xmppc_jid_str_bare_equal("user@example.com", "user@example.com/B"), 1);
    XT_EQ_INT(xmppc_jid_str_bare_equal("a@example.com/x", "b@example.com/x"),
              0);
    XT_EQ_INT(xmppc_jid_str_bare_equal("example.com/x", "x@example.com"), 0);
    XT_EQ_INT(xmppc_jid_str_bare_equal("a@b/", "a@b"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_jid_str_bare_equal("a@b", NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message,
              "xmppc_jid_str_bare_equal: b is NULL");
    xmppc_error_clear();
}

static void test_null_arguments(void)
{
    xmppc_jid *jid = NULL;
    XT_EQ_INT(xmppc_jid_parse(NULL, "a@b"), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "xmppc_jid_parse: out is NULL");
    XT_EQ_INT(xmppc_jid_parse(&jid, NULL), XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "xmppc_jid_parse: str is NULL");
    XT_CHECK(jid == NULL);
    XT_CHECK(xmppc_jid_local(NULL) == NULL);
    XT_CHECK(xmppc_jid_domain(NULL) == NULL);
    XT_CHECK(xmppc_jid_resource(NULL) == NULL);
    XT_CHECK(xmppc_jid_full(NULL) == NULL);
    XT_CHECK(xmppc_jid_bare(NULL) == NULL);
    XT_EQ_INT(xmppc_jid_is_bare(NULL), 0);
    xmppc_error_clear();
}

static void test_long_input_is_cut_in_messages(void)
{
    /* An odd ASCII prefix so that a cut at 64 bytes would split a two-byte
     * character; the message must stay valid UTF-8 and short. */
    char *body = repeat("\xc3\xa9", 2000);
    char *in = concat3("x", body, " @example.com");
    xmppc_jid *jid = NULL;
    XT_EQ_INT(xmppc_jid_parse(&jid, in), XMPPC_EINVAL);
    const char *msg = xmppc_error_last()->message;
    XT_CHECK(strlen(msg) < 160);
    XT_CHECK(strstr(msg, "...': localpart is longer than 1023 bytes") != NULL);
    size_t bad = 0;
    XT_CHECK(xmppc__xml_text_ok(msg, strlen(msg), &bad));
    XT_CHECK(strncmp(msg, "jid 'x\xc3\xa9\xc3\xa9", 9) == 0);
    free(body), free(in);
    xmppc_error_clear();
}

/* ---- out of memory ------------------------------------------------------ */

static void test_out_of_memory_on_every_allocation(void)
{
    static const char *const inputs[] = {
        "User@Example.com/Res",
        ("\xce\xa3@b\xc3\xbc"
         "cher.de/\xe2\x99\x9a"),
        "example.com",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        int rc = XMPPC_ENOMEM;
        for (long n = 1; rc != 0 && n < 100; n++) {
            XT_EQ_INT(xt_failalloc_install(n), 0);
            xmppc_jid *jid = NULL, *bare = NULL, *other = NULL, *built = NULL;
            char *text = NULL;
            rc = xmppc_jid_parse(&jid, inputs[i]);
            if (rc == 0)
                rc = xmppc_jid_to_bare(&bare, jid);
            if (rc == 0)
                rc = xmppc_jid_with_resource(&other, jid, "r");
            if (rc == 0)
                rc = xmppc_jid_new(&built, "a", "b", "c");
            if (rc == 0)
                rc = xmppc_jid_prep(&text, inputs[i]);
            if (rc != 0) {
                XT_EQ_INT(rc, XMPPC_ENOMEM);
                XT_EQ_INT(xmppc_error_last()->code, XMPPC_ENOMEM);
            }
            xmppc_free(text);
            xmppc_jid_unref(built);
            xmppc_jid_unref(other);
            xmppc_jid_unref(bare);
            xmppc_jid_unref(jid);
            XT_EQ_INT(xmppc_alloc_live_blocks(), 0);
            XT_EQ_INT(xt_failalloc_remove(), 0);
        }
        XT_EQ_INT(rc, 0);
    }
    xmppc_error_clear();
}

static void test_out_of_memory_in_parse_alone(void)
{
    int rc = XMPPC_ENOMEM;
    long n;
    for (n = 1; rc != 0 && n < 10; n++) {
        XT_EQ_INT(xt_failalloc_install(n), 0);
        xmppc_jid *jid = NULL;
        rc = xmppc_jid_parse(&jid, "juliet@example.com/balcony");
        if (rc != 0) {
            XT_EQ_INT(rc, XMPPC_ENOMEM);
            XT_CHECK(jid == NULL);
        }
        xmppc_jid_unref(jid);
        XT_EQ_INT(xmppc_alloc_live_blocks(), 0);
        XT_EQ_INT(xt_failalloc_remove(), 0);
    }
    XT_EQ_INT(rc, 0);
    XT_EQ_INT(n, 3); /* parse makes exactly one allocation */
    xmppc_error_clear();
}

/* ---- ASCII fast path against libidn ------------------------------------- */

static uint32_t rng_state = 0x2545F491u;

static uint32_t next_random(void)
{
    /* xorshift32: deterministic, so a failure can be replayed. */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Appends 0..max characters from @p alphabet to s at *len. */
static void append_random(char *s, size_t *len, const char *alphabet,
                          size_t max)
{
    size_t count = next_random() % (max + 1), n = strlen(alphabet);
    for (size_t i = 0; i < count; i++)
        s[(*len)++] = alphabet[next_random() % n];
}

static void test_ascii_fast_path_matches_libidn(void)
{
    /* Mostly plausible parts, with some of every character the rules treat
     * specially. */
    static const char local_chars[] = "abcXYZ019._-+\\=~!$%*";
    static const char special[] = " \"&'/:<>@[]._-,;()\\";
    static const char domain_chars[] = "abcDEFxyz019-_..";
    static const char resource_chars[] = "aZ9 /@&<>'\":._-";
    int valid = 0, invalid = 0;
    for (int i = 0; i < 600; i++) {
        char in[256];
        size_t len = 0;
        uint32_t shape = next_random();
        if (shape & 1) {
            append_random(in, &len, local_chars, 8);
            if (shape & 2)
                append_random(in, &len, special, 1);
            in[len++] = '@';
        }
        if (shape & 4) {
            in[len++] = '[';
            append_random(in, &len, "0123456789abcdefABCDEF:", 12);
            if (!(shape & 8))
                in[len++] = ']';
        } else {
            append_random(in, &len, domain_chars, 20);
            if (shape & 16)
                append_random(in, &len, special, 1);
        }
        if (shape & 32) {
            in[len++] = '/';
            append_random(in, &len, resource_chars, 10);
        }
        in[len] = '\0';

        char *fast = NULL, *slow = NULL;
        int rc_fast = xmppc_jid_prep(&fast, in);
        char fast_message[1024];
        snprintf(fast_message, sizeof fast_message, "%s",
                 xmppc_error_last()->message);
        int rc_slow = xmppc__jid_prep_libidn(&slow, in);
        if (rc_fast != rc_slow)
            XT_FAIL_AT(__FILE__, __LINE__,
                       "'%s': fast path %d (%s), libidn %d (%s)", in, rc_fast,
                       fast_message, rc_slow, xmppc_error_last()->message);
        else if (rc_fast == 0 && strcmp(fast, slow) != 0)
            XT_FAIL_AT(__FILE__, __LINE__, "'%s': fast path '%s', libidn '%s'",
                       in, fast, slow);
        else if (rc_fast != 0 &&
                 strcmp(fast_message, xmppc_error_last()->message) != 0)
            XT_FAIL_AT(__FILE__, __LINE__, "'%s': messages '%s' and '%s'", in,
                       fast_message, xmppc_error_last()->message);
        if (rc_fast == 0)
            valid++;
        else
            invalid++;
        xmppc_free(fast);
        xmppc_free(slow);
    }
    /* Both outcomes must be well represented for the test to mean much. */
    XT_CHECK(valid >= 150);
    XT_CHECK(invalid >= 150);
    printf("# fast path vs libidn: %d valid, %d invalid\n", valid, invalid);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_parse_splits_the_three_parts),
        XT_TEST(test_resource_is_everything_after_the_first_slash),
        XT_TEST(test_structural_errors_name_the_part),
        XT_TEST(test_rfc7622_valid_examples),
        XT_TEST(test_rfc7622_invalid_examples),
        XT_TEST(test_nodeprep_prohibited_characters),
        XT_TEST(test_case_folding_keeps_resource_case),
        XT_TEST(test_non_ascii_mappings), XT_TEST(test_bidi_rule_in_domain),
        XT_TEST(test_invalid_utf8), XT_TEST(test_control_characters),
        XT_TEST(test_part_length_limits), XT_TEST(test_idna_limits),
        XT_TEST(test_ip_literals), XT_TEST(test_trailing_dot),
        XT_TEST(test_domain_labels), XT_TEST(test_new_prepares_each_part),
        XT_TEST(test_new_equals_parse), XT_TEST(test_ref_and_unref),
        XT_TEST(test_to_bare), XT_TEST(test_with_resource),
        XT_TEST(test_equal_and_bare_equal),
        XT_TEST(test_compare_is_a_total_order), XT_TEST(test_prep_strings),
        XT_TEST(test_str_equal), XT_TEST(test_null_arguments),
        XT_TEST(test_long_input_is_cut_in_messages),
        XT_TEST(test_out_of_memory_on_every_allocation),
        XT_TEST(test_out_of_memory_in_parse_alone),
        XT_TEST(test_ascii_fast_path_matches_libidn))
