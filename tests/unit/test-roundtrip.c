/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Property test: for random trees, the reader gives back what the
 * serializer wrote (xmppc_stanza_equal), and serializing that again gives
 * the same bytes.
 *
 * The trees come from a seeded PRNG; a failure prints the seed and the
 * tree's index. To replay or explore other trees:
 *   XMPPC_ROUNDTRIP_SEED=0x1234 build/tests/unit/test-roundtrip
 */
#include <stdbool.h>
#include <stdint.h>

#include "../xtest.h"
#include "parser.h"
#include "xmppc-private.h"

#define TREES 2000
#define MAX_DEPTH 6
#define DEFAULT_SEED UINT64_C(0x786d707063)

#define STREAM_HEADER                                                          \
    "<stream:stream xmlns='jabber:client' "                                    \
    "xmlns:stream='http://etherx.jabber.org/streams'>"

/* ---- a small deterministic PRNG (splitmix64) ------------------------------
 */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

#define PICK(pool) ((pool)[rng_below(sizeof(pool) / sizeof((pool)[0]))])

/* ---- what trees are made of ------------------------------------------------
 */

/* NCNames, some outside ASCII: é, 名前, αβ, a middle dot, U+10000. */
static const char *const element_names[] = {
    "message",
    "body",
    "x",
    "item",
    "query",
    "caf\xC3\xA9",
    "\xE5\x90\x8D\xE5\x89\x8D",
    "\xCE\xB1\xCE\xB2",
    "a-b.c_d",
    "_u",
    "x\xC2\xB7y",
    "\xF0\x90\x80\x80z",
};

/* NULL inherits the parent's namespace. */
static const char *const element_namespaces[] = {
    NULL,
    NULL,
    NULL,
    XMPPC_NS_CLIENT,
    "urn:xmpp:test",
    "urn:a&b'c\"d<e>",
    "http://example.com/ns?x=1&y=2#frag",
    "urn:\xC3\xA9t\xC3\xA9:\xF0\x9F\x98\x80",
    "jabber:iq:roster",
    XMPPC_NS_STANZAS,
};

static const char *const attr_names[] = {
    "id",          "type", "to",  "from",         "a",
    "caf\xC3\xA9", "x-y",  "n.1", "\xE5\x90\x8D",
};

static const char *const attr_namespaces[] = {
    "urn:attr",
    "urn:a&b'c\"d<e>",
    XMPPC_NS_CLIENT,
    "urn:other\t\n",
};

static const char *const langs[] = {"en", "de-CH", "", "x-\xC3\xA9"};

/* Everything that needs escaping or might confuse a reader, plus
 * multi-byte UTF-8 and things that look like markup. */
static const char *const fragments[] = {
    "&",
    "<",
    ">",
    "\"",
    "'",
    "\r",
    "\n",
    "\t",
    "\r\n",
    " ",
    "a",
    "text",
    "\xC3\xA9",
    "\xE2\x98\xBA",
    "\xF0\x9F\x98\x80",
    "]]>",
    "]]",
    "&amp;",
    "<![CDATA[",
    "\xEF\xBF\xBD",
    "--",
    "?>",
    "&#38;",
    "\xF4\x8F\xBF\xBF",
};

/* Random text of @p min..4 fragments into @p out (at least 1 byte when
 * min > 0). */
static void random_text(char *out, size_t cap, size_t min)
{
    size_t n = min + rng_below(5 - min), len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *f = PICK(fragments);
        size_t fl = strlen(f);
        if (len + fl + 1 > cap)
            break;
        memcpy(out + len, f, fl + 1);
        len += fl;
    }
}

static int add_random_attrs(xmppc_stanza *el)
{
    size_t n = rng_below(5);
    char value[128];
    for (size_t i = 0; i < n; i++) {
        int rc;
        random_text(value, sizeof value, 0);
        switch (rng_below(4)) {
        case 0:
            rc = xmppc_stanza_set_attr(el, "xml:lang", PICK(langs));
            break;
        case 1:
            rc = xmppc_stanza_set_attr_ns(el, PICK(attr_namespaces),
                                          PICK(attr_names), value);
            break;
        default:
            rc = xmppc_stanza_set_attr(el, PICK(attr_names), value);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A random element at @p depth (1 for the stanza) with its subtree. */
static int random_element(xmppc_stanza **out, int depth)
{
    xmppc_stanza *el = NULL;
    int rc = xmppc_stanza_new(
        &el, PICK(element_names),
        depth == 1 && rng_below(2) ? NULL : PICK(element_namespaces));
    if (rc < 0)
        return rc;
    if ((rc = add_random_attrs(el)) < 0)
        goto fail;
    size_t children = depth >= MAX_DEPTH ? 0 : rng_below(depth <= 2 ? 5 : 3);
    for (size_t i = 0; i < children; i++) {
        if (rng_below(3) == 0) {
            /* Text, sometimes in adjacent runs (mixed content). */
            char text[128];
            size_t runs = 1 + rng_below(2);
            for (size_t r = 0; r < runs; r++) {
                random_text(text, sizeof text, 1);
                if ((rc = xmppc_stanza_add_text(el, text)) < 0)
                    goto fail;
            }
        } else {
            xmppc_stanza *child = NULL;
            if ((rc = random_element(&child, depth + 1)) < 0)
                goto fail;
            rc = xmppc_stanza_add_child(el, child);
            xmppc_stanza_unref(child);
            if (rc < 0)
                goto fail;
        }
    }
    *out = el;
    return 0;
fail:
    xmppc_stanza_unref(el);
    return rc;
}

/* ---- reading back -----------------------------------------------------------
 */

typedef struct reader_out {
    xmppc_stanza *stanza;
    int stanzas, errors;
    char condition[64];
} reader_out;

static int on_stanza(void *ud, xmppc_stanza *s)
{
    reader_out *r = ud;
    if (r->stanzas++ == 0)
        r->stanza = xmppc_stanza_ref(s);
    return 0;
}

static void on_error(void *ud, int code, const char *condition,
                     const char *message)
{
    reader_out *r = ud;
    (void)code;
    (void)message;
    r->errors++;
    snprintf(r->condition, sizeof r->condition, "%s",
             condition ? condition : "(null)");
}

/* Feeds the stream header and @p xml to a fresh reader. */
static int read_back(reader_out *r, const char *xml, size_t len)
{
    static const xmppc__parser_callbacks cb = {NULL, on_stanza, NULL, on_error};
    xmppc__parser *p = NULL;
    memset(r, 0, sizeof *r);
    int rc = xmppc__parser_new(&p, &cb, r);
    if (rc == 0)
        rc = xmppc__parser_feed(p, STREAM_HEADER, strlen(STREAM_HEADER));
    if (rc == 0)
        rc = xmppc__parser_feed(p, xml, len);
    xmppc__parser_free(p);
    return rc;
}

/* One tree: returns false (after reporting) when the property fails. */
static bool roundtrip_one(uint64_t seed, int index)
{
    xmppc_stanza *tree = NULL;
    char *xml = NULL, *again = NULL;
    size_t len = 0;
    reader_out r = {0};
    bool ok = false;
    const char *what = "";

    if (random_element(&tree, 1) < 0) {
        what = "building the tree failed";
        goto out;
    }
    if (xmppc_stanza_to_string(&xml, &len, tree) < 0) {
        what = "serializing failed";
        goto out;
    }
    int rc = read_back(&r, xml, len);
    if (rc != 0 || r.errors || r.stanzas != 1) {
        printf("#   reader: rc %d, %d errors (%s), %d stanzas\n", rc, r.errors,
               r.condition, r.stanzas);
        what = "the reader refused the serializer's output";
        goto out;
    }
    if (xmppc_stanza_equal(tree, r.stanza) != 1) {
        what = "the tree read back differs";
        goto out;
    }
    if (xmppc_stanza_to_string(&again, NULL, r.stanza) < 0 ||
        strcmp(again, xml) != 0) {
        xt_diag("serialized again", again);
        what = "serializing the tree read back gave other bytes";
        goto out;
    }
    /* The comparison can tell a difference. */
    if (xmppc_stanza_set_attr_ns(r.stanza, "urn:extra", "extra", "1") < 0 ||
        xmppc_stanza_equal(tree, r.stanza) != 0) {
        what = "xmppc_stanza_equal missed an extra attribute";
        goto out;
    }
    ok = true;
out:
    if (!ok) {
        XT_FAIL_AT(__FILE__, __LINE__, "seed 0x%016" PRIx64 ", tree %d: %s",
                   seed, index, what);
        xt_diag("serialized", xml);
    }
    xmppc_free(xml);
    xmppc_free(again);
    xmppc_stanza_unref(r.stanza);
    xmppc_stanza_unref(tree);
    return ok;
}

static uint64_t test_seed(void)
{
    const char *env = getenv("XMPPC_ROUNDTRIP_SEED");
    return env && *env ? (uint64_t)strtoull(env, NULL, 0) : DEFAULT_SEED;
}

static void test_random_trees_roundtrip(void)
{
    uint64_t seed = test_seed();
    int failures = 0;
    rng_state = seed;
    for (int i = 0; i < TREES && failures < 5; i++)
        failures += !roundtrip_one(seed, i);
    printf("# %d trees from seed 0x%016" PRIx64 ", %d failed\n", TREES, seed,
           failures);
}

static void test_generator_covers_the_pools(void)
{
    /* Guard against a generator that silently stopped producing the hard
     * cases: over the trees, every tricky character and a deep tree show
     * up in the serialized output. */
    static const char *const wanted[] = {
        "&amp;",
        "&lt;",
        "&gt;",
        "&quot;",
        "&apos;",
        "&#13;",
        "&#10;",
        "&#9;",
        "]]&gt;",
        "\xF0\x9F\x98\x80",
        "xml:lang=",
        "xmlns:ns",
        "urn:a&amp;b&apos;c&quot;d&lt;e&gt;",
        "\xE5\x90\x8D\xE5\x89\x8D",
    };
    bool seen[sizeof wanted / sizeof wanted[0]] = {false};
    int deepest = 0;
    rng_state = test_seed();
    for (int i = 0; i < 200; i++) {
        xmppc_stanza *tree = NULL;
        char *xml = NULL;
        XT_EQ_INT(random_element(&tree, 1), 0);
        XT_EQ_INT(xmppc_stanza_to_string(&xml, NULL, tree), 0);
        for (size_t k = 0; xml && k < sizeof wanted / sizeof wanted[0]; k++)
            seen[k] = seen[k] || strstr(xml, wanted[k]) != NULL;
        int depth = 0;
        for (const xmppc_stanza *s = tree; s;) {
            depth++;
            const xmppc_stanza *next = NULL;
            for (size_t c = 0; c < xmppc_stanza_child_count(s) && !next; c++)
                if (!xmppc_stanza_is_text(xmppc_stanza_child_at(s, c)))
                    next = xmppc_stanza_child_at(s, c);
            s = next;
        }
        if (depth > deepest)
            deepest = depth;
        xmppc_free(xml);
        xmppc_stanza_unref(tree);
    }
    for (size_t k = 0; k < sizeof wanted / sizeof wanted[0]; k++)
        if (!seen[k])
            XT_FAIL_AT(__FILE__, __LINE__, "never generated: %s", wanted[k]);
    XT_CHECK(deepest >= 4 && deepest <= MAX_DEPTH);
}

XT_MAIN(XT_TEST(test_generator_covers_the_pools),
        XT_TEST(test_random_trees_roundtrip))
