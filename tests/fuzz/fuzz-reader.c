/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Fuzz target for the stream reader (lib/parser.c).
 *
 * Input: 4 bytes seeding a small PRNG, then the stream bytes. The stream
 * is read twice:
 *   1. in one feed call: every stanza delivered is serialized, read back
 *      by a second reader and must come out xmppc_stanza_equal (a
 *      serializer/reader disagreement is a bug);
 *   2. in PRNG-chosen chunks of 1..512 bytes, with the callbacks sometimes
 *      asking to stop, after which the reader is reset and the rest of the
 *      input is read as a new stream. Until the first restart, the stanzas
 *      must be those of pass 1 (chunking must not change what is read),
 *      and when neither pass failed, as many.
 * Both passes also check the parser.h contract: return codes, one error
 * callback per failure with a condition, XMPPC_ESTATE when fed after a
 * failure, stanzas within the configured limits. Any violation aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include <xmppc/xmppc.h>

/* Small limits, so that inputs of a few KiB reach them. */
#define FUZZ_MAX_STANZA_BYTES (64 * 1024)
#define FUZZ_MAX_DEPTH 32
#define FUZZ_MAX_ATTRS 32
#define FUZZ_MAX_ATTR_BYTES (16 * 1024)

/* The round-trip reader reads what the serializer wrote, which may be
 * larger than the input (escaping, namespace declarations repeated where
 * the input used a prefix declared higher up). */
#define CHECK_MAX_STANZA_BYTES XMPPC__PARSER_MAX_STANZA_BYTES_CEILING
#define CHECK_HEADER                                                           \
    "<stream:stream xmlns='jabber:client' "                                    \
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.org' "      \
    "id='check' version='1.0'>"

static void fail_check(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-reader: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    abort();
}

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (!(cond))                                                           \
            fail_check((what), #cond);                                         \
    } while (0)

static uint32_t rng_next(uint32_t *state)
{
    uint32_t x = *state; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

/* ---- a list of kept stanzas ---------------------------------------------- */

typedef struct stanza_list {
    xmppc_stanza **items;
    size_t len, cap;
} stanza_list;

static int list_push(stanza_list *l, xmppc_stanza *s)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        xmppc_stanza **items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = xmppc_stanza_ref(s);
    return 0;
}

static void list_clear(stanza_list *l)
{
    for (size_t i = 0; i < l->len; i++)
        xmppc_stanza_unref(l->items[i]);
    l->len = 0;
}

static void list_free(stanza_list *l)
{
    list_clear(l);
    free(l->items);
    l->items = NULL;
    l->cap = 0;
}

/* ---- the round-trip reader ----------------------------------------------- */

typedef struct check_reader {
    xmppc__parser *parser;
    stanza_list got;
    int errors;
} check_reader;

static int check_on_stanza(void *userdata, xmppc_stanza *stanza)
{
    check_reader *c = userdata;
    if (list_push(&c->got, stanza) < 0)
        fail_check("round trip", "out of memory");
    return 0;
}

static void check_on_error(void *userdata, int code, const char *condition,
                           const char *message)
{
    (void)code;
    ((check_reader *)userdata)->errors++;
    fprintf(stderr, "fuzz-reader: round-trip reader: %s: %s\n",
            condition ? condition : "out of memory", message ? message : "");
}

static void check_open(check_reader *c)
{
    static const xmppc__parser_callbacks cbs = {NULL, check_on_stanza, NULL,
                                                check_on_error};
    xmppc__parser_limits lim = {CHECK_MAX_STANZA_BYTES, 200, 1000,
                                CHECK_MAX_STANZA_BYTES};
    memset(c, 0, sizeof *c);
    if (xmppc__parser_new(&c->parser, &cbs, c) != 0 ||
        xmppc__parser_set_limits(c->parser, &lim) != 0 ||
        xmppc__parser_feed(c->parser, CHECK_HEADER, strlen(CHECK_HEADER)) != 0)
        fail_check("round trip", "cannot start the second reader");
}

static void check_close(check_reader *c)
{
    xmppc__parser_free(c->parser);
    list_free(&c->got);
}

/* Serializes @p stanza and reads it back: the tree must be the same. */
static void round_trip(check_reader *c, const xmppc_stanza *stanza)
{
    char *xml;
    size_t len;
    int rc = xmppc_stanza_to_string(&xml, &len, stanza);
    if (rc == XMPPC_ENOMEM)
        return;
    CHECK(rc == 0, "serializing a stanza the reader built failed");
    CHECK(strlen(xml) == len, "serialized length");
    /* Too big for any reader: the expansion is legitimate (see above). */
    if (len > CHECK_MAX_STANZA_BYTES / 2) {
        xmppc_free(xml);
        return;
    }
    list_clear(&c->got);
    rc = xmppc__parser_feed(c->parser, xml, len);
    if (rc != 0 || c->got.len != 1 ||
        !xmppc_stanza_equal(stanza, c->got.items[0])) {
        fprintf(stderr,
                "fuzz-reader: serializer/reader disagreement (feed %d, %zu "
                "stanzas back)\nserialized: %s\n",
                rc, c->got.len, xml);
        if (c->got.len == 1) {
            char *again;
            if (xmppc_stanza_to_string(&again, NULL, c->got.items[0]) == 0) {
                fprintf(stderr, "read back:  %s\n", again);
                xmppc_free(again);
            }
        }
        abort();
    }
    xmppc_free(xml);
    list_clear(&c->got);
}

/* ---- the reader under test ----------------------------------------------- */

typedef struct fuzz_run {
    stanza_list stanzas; /* delivered since the last check */
    uint32_t *rng;       /* NULL: never ask to stop */
    int errors, opens, closes;
    int stopped; /* a callback of ours asked to stop */
    int last_code;
} fuzz_run;

static unsigned tree_depth(const xmppc_stanza *s)
{
    unsigned deepest = 0;
    for (size_t i = 0, n = xmppc_stanza_child_count(s); i < n; i++) {
        const xmppc_stanza *c = xmppc_stanza_child_at(s, i);
        if (!xmppc_stanza_is_text(c)) {
            unsigned d = tree_depth(c);
            if (d > deepest)
                deepest = d;
        }
    }
    return deepest + 1;
}

static void check_limits(const xmppc_stanza *s)
{
    CHECK(!xmppc_stanza_is_text(s), "text node delivered as a stanza");
    CHECK(xmppc_stanza_get_name(s) && xmppc_stanza_get_ns(s),
          "stanza without name or namespace");
    CHECK(xmppc_stanza_attr_count(s) <= FUZZ_MAX_ATTRS, "attribute limit");
    for (size_t i = 0, n = xmppc_stanza_attr_count(s); i < n; i++) {
        const char *value = NULL;
        CHECK(xmppc_stanza_attr_at(s, i, NULL, NULL, &value) == 0 && value,
              "attribute iteration");
        CHECK(strlen(value) <= FUZZ_MAX_ATTR_BYTES, "attribute size limit");
    }
    for (size_t i = 0, n = xmppc_stanza_child_count(s); i < n; i++) {
        const xmppc_stanza *c = xmppc_stanza_child_at(s, i);
        CHECK(c, "child iteration");
        CHECK(xmppc_stanza_get_parent(c) == s, "child's parent");
        if (!xmppc_stanza_is_text(c))
            check_limits(c);
    }
}

static int on_open(void *userdata, const xmppc__stream_header *header)
{
    fuzz_run *r = userdata;
    CHECK(header && header->content_ns, "stream header");
    r->opens++;
    /* Rarely stop right after the header, as before a STARTTLS restart. */
    if (r->rng && rng_next(r->rng) % 64 == 0) {
        r->stopped = 1;
        return 1;
    }
    return 0;
}

static int on_stanza(void *userdata, xmppc_stanza *stanza)
{
    fuzz_run *r = userdata;
    CHECK(stanza, "NULL stanza");
    CHECK(xmppc_stanza_get_parent(stanza) == NULL, "stanza with a parent");
    check_limits(stanza);
    CHECK(tree_depth(stanza) <= FUZZ_MAX_DEPTH, "depth limit");
    if (list_push(&r->stanzas, stanza) < 0)
        fail_check("stanza list", "out of memory");
    if (r->rng && rng_next(r->rng) % 16 == 0) {
        r->stopped = 1;
        return 1;
    }
    return 0;
}

static void on_close(void *userdata)
{
    ((fuzz_run *)userdata)->closes++;
}

static void on_error(void *userdata, int code, const char *condition,
                     const char *message)
{
    fuzz_run *r = userdata;
    r->errors++;
    r->last_code = code;
    CHECK(message, "error without message");
    CHECK(condition || code == XMPPC_ENOMEM, "error without condition");
}

static const xmppc__parser_callbacks fuzz_callbacks = {on_open, on_stanza,
                                                       on_close, on_error};

static xmppc__parser *new_reader(fuzz_run *r)
{
    xmppc__parser *p;
    xmppc__parser_limits lim = {FUZZ_MAX_STANZA_BYTES, FUZZ_MAX_DEPTH,
                                FUZZ_MAX_ATTRS, FUZZ_MAX_ATTR_BYTES};
    if (xmppc__parser_new(&p, &fuzz_callbacks, r) != 0)
        return NULL;
    CHECK(xmppc__parser_set_limits(p, &lim) == 0, "set_limits");
    return p;
}

/* Checks one feed's outcome. Returns 1 when the stream failed. */
static int check_feed(xmppc__parser *p, fuzz_run *r, int rc, int errors_before)
{
    if (rc == 0) {
        CHECK(r->errors == errors_before, "error callback but feed said 0");
        CHECK(xmppc__parser_error_message(p) == NULL, "error message on 0");
        return 0;
    }
    CHECK(rc == XMPPC_EPARSE || rc == XMPPC_ELIMIT || rc == XMPPC_ENOMEM,
          "unexpected feed status");
    CHECK(r->errors == errors_before + 1, "one error callback per failure");
    CHECK(r->last_code == rc, "error callback code differs from feed's");
    CHECK(rc == XMPPC_ENOMEM || xmppc__parser_error_condition(p),
          "failed without condition");
    CHECK(xmppc__parser_error_message(p), "failed without message");
    CHECK(xmppc__parser_feed(p, "<", 1) == XMPPC_ESTATE,
          "fed after a failure without ESTATE");
    return 1;
}

/* Position of the next stream header ("<?xml" or "<stream:") in
 * data[from..size), or @p size. */
static size_t next_header(const uint8_t *data, size_t size, size_t from)
{
    for (size_t i = from; i + 5 <= size; i++)
        if (data[i] == '<' &&
            (memcmp(data + i, "<?xml", 5) == 0 ||
             (i + 8 <= size && memcmp(data + i, "<stream:", 8) == 0)))
            return i;
    return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t rng = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
                   (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
    if (rng == 0)
        rng = 0x9E3779B9u;
    data += 4;
    size -= 4;

    /* Pass 1: one feed. */
    fuzz_run ref;
    memset(&ref, 0, sizeof ref);
    xmppc__parser *p = new_reader(&ref);
    if (!p)
        return 0;
    int rc = xmppc__parser_feed(p, (const char *)data, size);
    int ref_failed = check_feed(p, &ref, rc, 0);
    xmppc__parser_free(p);

    check_reader check;
    check_open(&check);
    for (size_t i = 0; i < ref.stanzas.len; i++)
        round_trip(&check, ref.stanzas.items[i]);

    /* Pass 2: chunks, stops and restarts. */
    fuzz_run run;
    memset(&run, 0, sizeof run);
    run.rng = &rng;
    p = new_reader(&run);
    if (!p) {
        check_close(&check);
        list_free(&ref.stanzas);
        return 0;
    }
    int restarted = 0, failed = 0;
    size_t compared = 0; /* stanzas of pass 2 matched against pass 1 */
    size_t off = 0;
    while (off < size && !failed) {
        uint32_t r = rng_next(&rng);
        /* Half the chunks are tiny, to split every token somewhere. */
        size_t n = (r & 1) ? 1 + (r >> 1) % 8 : 1 + (r >> 1) % 512;
        if (n > size - off)
            n = size - off;
        int errors_before = run.errors;
        int closes_before = run.closes;
        rc = xmppc__parser_feed(p, (const char *)data + off, n);
        off += n;
        failed = check_feed(p, &run, rc, errors_before);

        for (size_t i = 0; i < run.stanzas.len; i++) {
            const xmppc_stanza *s = run.stanzas.items[i];
            if (restarted) {
                round_trip(&check, s);
            } else if (compared < ref.stanzas.len) {
                if (!xmppc_stanza_equal(s, ref.stanzas.items[compared]))
                    fail_check("chunking changed a stanza", NULL);
                compared++;
            } else if (!ref_failed) {
                fail_check("chunked feeding delivered more stanzas", NULL);
            } else {
                /* Pass 1 failed before this stanza: pass 2 may legitimately
                 * read further (libxml2 looks ahead differently). */
                round_trip(&check, s);
                compared++;
            }
        }
        list_clear(&run.stanzas);

        if (failed)
            break;
        if (run.stopped || run.closes != closes_before) {
            /* The rest of the chunk was dropped; read on as a new stream,
             * half the time from the next stream header. */
            CHECK(xmppc__parser_feed(p, "<", 1) == XMPPC_ESTATE,
                  "fed after a stop or close without ESTATE");
            restarted = 1;
            if (xmppc__parser_reset(p) != 0)
                break;
            run.stopped = 0;
            if (rng_next(&rng) & 1)
                off = next_header(data, size, off);
        }
    }
    /* Chunking must not change how much is read of a clean stream. */
    if (!restarted && !failed && !ref_failed && compared != ref.stanzas.len)
        fail_check("chunked feeding delivered fewer stanzas", NULL);

    xmppc__parser_free(p);
    list_free(&run.stanzas);
    list_free(&ref.stanzas);
    check_close(&check);
    return 0;
}
