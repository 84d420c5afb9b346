/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Stream reader benchmark (DESIGN.md targets P1-P3). Generates a
 * deterministic synthetic client stream in memory, then measures in the
 * same process, as CPU time, best of N runs:
 *   (a) a raw libxml2 SAX2 push pass with no-op callbacks (the baseline),
 *   (b) the libxmppc stream reader, both fed in 4 KiB chunks,
 *   (c) both fed in 256-byte chunks,
 *   (d) one 1 MiB stanza (body text, then a single attribute value) fed
 *       whole and in 1400-byte pieces, plus a 4 MiB attribute in pieces.
 * It prints ratios against the targets. It exits 0 whatever the figures
 * (a benchmark reports, it does not assert), 1 on an internal error such
 * as the reader rejecting the generated stream or miscounting stanzas.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xmlversion.h>

#include "parser.h"
#include <xmppc/xmppc.h>

#define KIB 1024
#define MIB (1024 * 1024)

/* ---- output buffer and PRNG --------------------------------------------- */

typedef struct sbuf {
    char *data;
    size_t len, cap;
} sbuf;

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("parse: internal error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void sb_reserve(sbuf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        die("out of memory (%zu bytes)", cap);
    b->data = p;
    b->cap = cap;
}

static void sb_add(sbuf *b, const char *s, size_t n)
{
    sb_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_fmt(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_fmt(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf failed");
    sb_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* xorshift64*: fixed seed, so every run (and every machine) parses the very
 * same bytes. */
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform in [0, n). */
static unsigned rng_below(unsigned n)
{
    return (unsigned)(((rng_next() >> 32) * (uint64_t)n) >> 32);
}

/* True with probability percent/100. */
static int rng_pct(unsigned percent)
{
    return rng_below(100) < percent;
}

#define PICK(array) (array)[rng_below(sizeof(array) / sizeof((array)[0]))]

/* ---- the synthetic stream ------------------------------------------------ */

static const char *const localparts[] = {
    "romeo",  "juliet", "benvolio", "mercutio",  "tybalt",  "nurse",
    "alice",  "bob",    "carol",    "dave",      "erin",    "frank",
    "grace",  "heidi",  "ivan",     "judy",      "mallory", "niaj",
    "olivia", "peggy",  "rupert",   "sybil",     "trent",   "victor",
    "walter", "zoe",    "anna.k",   "m.mueller", "jp",      "support",
};
static const char *const domains[] = {
    "example.org",      "example.com",      "jabber.example.net",
    "chat.example.de",  "im.example.co.uk", "xmpp.example.fr",
    "montague.example", "capulet.example",
};
static const char *const resources[] = {
    "phone",      "laptop",        "desktop",        "Conversations.Xa3f",
    "gajim.K2JD", "profanity",     "Psi+",           "work",
    "home",       "Dino.5c1e9b0a", "monal-iOS.8f2d", "tablet",
};
static const char *const words_ascii[] = {
    "hello",   "see",    "you",     "tomorrow", "the",
    "meeting", "is",     "at",      "noon",     "ok",
    "thanks",  "for",    "lunch",   "where",    "are",
    "we",      "going",  "tonight", "call",     "me",
    "later",   "file",   "sent",    "yes",      "no",
    "maybe",   "great",  "idea",    "let's",    "check",
    "build",   "passed", "server",  "coffee",   "a",
    "I",       "think",  "so",      "about",    "time",
    "train",   "late",   "again",   "sorry",    "review",
    "patch",   "done",   "what",    "do",       "meant",
    "please",  "send",   "link",    "tests",    "https://example.org/x/42",
    "10:30",   "2024",   "OK!",
};
/* Multi-byte UTF-8: 2, 3 and 4-byte sequences. */
static const char *const words_utf8[] = {
    "caf\xc3\xa9",
    "na\xc3\xafve",
    "Gr\xc3\xbc\xc3\x9f"
    "e",
    "se\xc3\xb1or",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf",
    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82",
    "\xce\x95\xce\xbb\xce\xbb\xce\xac\xce\xb4\xce\xb1",
    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d",
    "\xf0\x9f\x98\x80",
    "\xf0\x9f\x91\x8d",
    "\xf0\x9f\x8e\x89",
    "\xe2\x80\xa6",
    "\xe2\x82\xac"
    "5",
    "\xc2\xbd",
};
static const char *const entities[] = {
    "&amp;", "&lt;", "&gt;", "&apos;", "&#65;", "&#x263A;",
};
static const char *const shows[] = {"away", "chat", "dnd", "xa"};
static const char *const caps_nodes[] = {
    "http://conversations.im",
    "https://gajim.org",
    "https://dino.im",
    "http://psi-im.org",
    "https://profanity-im.github.io",
};
static const char *const features[] = {
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/chatstates",
    "urn:xmpp:receipts",
    "urn:xmpp:ping",
    "urn:xmpp:time",
    "jabber:iq:version",
    "urn:xmpp:carbons:2",
    "http://jabber.org/protocol/muc",
    "urn:xmpp:message-correct:0",
    "urn:xmpp:chat-markers:0",
};
static const char *const groups[] = {"Friends", "Work", "Family",
                                     "Caf\xc3\xa9 & co"};

static const char alnum[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void add_random(sbuf *b, const char *alphabet, size_t alphabet_len,
                       size_t n)
{
    sb_reserve(b, n);
    for (size_t i = 0; i < n; i++)
        b->data[b->len++] = alphabet[rng_below((unsigned)alphabet_len)];
    b->data[b->len] = '\0';
}

static void add_id(sbuf *b)
{
    add_random(b, alnum, sizeof alnum - 1, 8 + rng_below(9));
}

static void add_bare_jid(sbuf *b)
{
    sb_str(b, PICK(localparts));
    sb_str(b, "@");
    sb_str(b, PICK(domains));
}

static void add_full_jid(sbuf *b)
{
    add_bare_jid(b);
    sb_str(b, "/");
    sb_str(b, PICK(resources));
}

/* Chat-like text: mostly ASCII words, some multi-byte UTF-8 and entity and
 * character references, as element text (escaped where XML needs it). */
static void add_text(sbuf *b, unsigned words)
{
    for (unsigned i = 0; i < words; i++) {
        if (i)
            sb_str(b, rng_pct(8) ? ", " : " ");
        unsigned r = rng_below(100);
        if (r < 82)
            sb_str(b, PICK(words_ascii));
        else if (r < 94)
            sb_str(b, PICK(words_utf8));
        else
            sb_str(b, PICK(entities));
    }
    if (rng_pct(30))
        sb_str(b, rng_pct(50) ? "." : "?");
}

typedef struct gen_stats {
    size_t stanzas, messages, presences, iqs;
} gen_stats;

static void gen_message(sbuf *b)
{
    sb_str(b, "<message to='");
    add_full_jid(b);
    sb_str(b, "' from='");
    add_full_jid(b);
    sb_str(b, "' id='");
    add_id(b);
    sb_str(b, "' type='chat'><body>");
    add_text(b, 2 + rng_below(16));
    sb_str(b, "</body>");
    if (rng_pct(15)) {
        sb_str(b, "<thread>");
        add_random(b, alnum, sizeof alnum - 1, 16 + rng_below(17));
        sb_str(b, "</thread>");
    }
    if (rng_pct(60))
        sb_str(b, "<active xmlns='http://jabber.org/protocol/chatstates'/>");
    if (rng_pct(40))
        sb_str(b, "<request xmlns='urn:xmpp:receipts'/>");
    sb_str(b, "</message>");
}

static void gen_presence(sbuf *b)
{
    sb_str(b, "<presence from='");
    add_full_jid(b);
    sb_str(b, "' to='");
    add_bare_jid(b);
    if (rng_pct(10)) {
        sb_str(b, "' type='unavailable'/>");
        return;
    }
    sb_str(b, "' id='");
    add_id(b);
    sb_str(b, "'>");
    if (rng_pct(50))
        sb_fmt(b, "<show>%s</show>", PICK(shows));
    if (rng_pct(60)) {
        sb_str(b, "<status>");
        add_text(b, 1 + rng_below(6));
        sb_str(b, "</status>");
    }
    if (rng_pct(70))
        sb_fmt(b, "<priority>%u</priority>", rng_below(51));
    sb_fmt(b,
           "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
           "node='%s' ver='",
           PICK(caps_nodes));
    add_random(b, b64, sizeof b64 - 1, 27);
    sb_str(b, "='/></presence>");
}

static void gen_iq(sbuf *b)
{
    unsigned kind = rng_below(4);
    sb_str(b, "<iq ");
    if (kind == 0 || kind == 2) {
        /* A query to us: from someone, no payload beyond the query. */
        sb_str(b, "type='get' from='");
        add_full_jid(b);
        sb_str(b, "' to='");
        add_full_jid(b);
        sb_str(b, "' id='");
        add_id(b);
        sb_str(b, kind == 0 ? "'><query xmlns='jabber:iq:roster'/></iq>"
                            : "'><query xmlns='http://jabber.org/protocol/"
                              "disco#info'/></iq>");
        return;
    }
    sb_str(b, "type='result' to='");
    add_full_jid(b);
    sb_str(b, "' id='");
    add_id(b);
    if (kind == 1) {
        sb_fmt(b, "'><query xmlns='jabber:iq:roster' ver='ver%u'>",
               rng_below(1000));
        for (unsigned i = 0, n = 1 + rng_below(4); i < n; i++) {
            sb_str(b, "<item jid='");
            add_bare_jid(b);
            sb_fmt(b, "' name='%s' subscription='both'>", PICK(localparts));
            if (rng_pct(50)) {
                sb_str(b, "<group>");
                /* escape the '&' of "Café & co" */
                const char *g = PICK(groups);
                const char *amp = strchr(g, '&');
                if (amp) {
                    sb_add(b, g, (size_t)(amp - g));
                    sb_str(b, "&amp;");
                    sb_str(b, amp + 1);
                } else {
                    sb_str(b, g);
                }
                sb_str(b, "</group>");
            }
            sb_str(b, "</item>");
        }
        sb_str(b, "</query></iq>");
        return;
    }
    sb_fmt(b,
           "'><query xmlns='http://jabber.org/protocol/disco#info' "
           "node='%s#",
           PICK(caps_nodes));
    add_random(b, b64, sizeof b64 - 1, 27);
    sb_str(b, "='><identity category='client' type='pc' name='");
    sb_str(b, PICK(resources));
    sb_str(b, "'/>");
    for (unsigned i = 0, n = 2 + rng_below(5); i < n; i++)
        sb_fmt(b, "<feature var='%s'/>", PICK(features));
    sb_str(b, "</query></iq>");
}

static const char stream_header[] =
    "<stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='example.org' "
    "id='Vh9Xm3kQ2pLr7tYc' version='1.0' xml:lang='en'>";
static const char stream_close[] = "</stream:stream>";

/* A stream of at least @p target bytes: header, stanzas, close. */
static void gen_stream(sbuf *b, size_t target, gen_stats *st)
{
    memset(st, 0, sizeof *st);
    sb_reserve(b, target + 4 * KIB);
    sb_str(b, stream_header);
    while (b->len < target) {
        unsigned r = rng_below(100);
        if (r < 90)
            gen_message(b), st->messages++;
        else if (r < 97)
            gen_presence(b), st->presences++;
        else
            gen_iq(b), st->iqs++;
        st->stanzas++;
    }
    sb_str(b, stream_close);
}

/* A stream holding one big message: a body of @p text_bytes of chat text,
 * or (attr) an element whose one attribute value is @p text_bytes of
 * base64 as large inline payloads are. */
static void gen_big(sbuf *b, size_t text_bytes, int attr)
{
    sb_str(b, stream_header);
    sb_str(b, "<message to='romeo@montague.example/orchard' "
              "from='juliet@capulet.example/balcony' id='big1' "
              "type='chat'>");
    if (attr) {
        sb_str(b, "<data xmlns='urn:xmppc:bench' value='");
        add_random(b, b64, sizeof b64 - 1, text_bytes);
        sb_str(b, "'/>");
    } else {
        sb_str(b, "<body>");
        size_t end = b->len + text_bytes;
        while (b->len < end) {
            add_text(b, 16);
            sb_str(b, "\n");
        }
        sb_str(b, "</body>");
    }
    sb_str(b, "</message>");
    sb_str(b, stream_close);
}

/* ---- timing ----------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        die("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- (a) raw libxml2 SAX2 push ------------------------------------------ */

typedef struct raw_counts {
    int depth;
    size_t stanzas, elements;
} raw_counts;

static void noop_start(void *ctx, const xmlChar *localname,
                       const xmlChar *prefix, const xmlChar *uri,
                       int nb_namespaces, const xmlChar **namespaces,
                       int nb_attributes, int nb_defaulted,
                       const xmlChar **attributes)
{
    (void)ctx, (void)localname, (void)prefix, (void)uri;
    (void)nb_namespaces, (void)namespaces, (void)nb_attributes;
    (void)nb_defaulted, (void)attributes;
}

static void noop_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                     const xmlChar *uri)
{
    (void)ctx, (void)localname, (void)prefix, (void)uri;
}

static void noop_characters(void *ctx, const xmlChar *ch, int len)
{
    (void)ctx, (void)ch, (void)len;
}

/* Counting variants for the untimed verification pass. */
static void count_start(void *ctx, const xmlChar *localname,
                        const xmlChar *prefix, const xmlChar *uri,
                        int nb_namespaces, const xmlChar **namespaces,
                        int nb_attributes, int nb_defaulted,
                        const xmlChar **attributes)
{
    raw_counts *c = ctx;
    (void)localname, (void)prefix, (void)uri;
    (void)nb_namespaces, (void)namespaces, (void)nb_attributes;
    (void)nb_defaulted, (void)attributes;
    c->depth++;
    c->elements++;
}

static void count_end(void *ctx, const xmlChar *localname,
                      const xmlChar *prefix, const xmlChar *uri)
{
    raw_counts *c = ctx;
    (void)localname, (void)prefix, (void)uri;
    if (--c->depth == 1) /* depth 1 is inside <stream:stream> */
        c->stanzas++;
}

/* Parses data in chunks of @p chunk bytes; returns the CPU seconds taken.
 * The raw pass has no limits or checks: it is the ceiling to compare to. */
static double run_raw(const char *data, size_t len, size_t chunk, int counting,
                      raw_counts *counts)
{
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = counting ? count_start : noop_start;
    sax.endElementNs = counting ? count_end : noop_end;
    sax.characters = noop_characters;

    double t0 = cpu_seconds();
    xmlParserCtxtPtr ctxt =
        xmlCreatePushParserCtxt(&sax, counts, NULL, 0, NULL);
    if (!ctxt)
        die("xmlCreatePushParserCtxt failed");
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (xmlParseChunk(ctxt, data + off, (int)n, 0) != 0)
            die("libxml2 rejected the generated stream at byte %zu", off);
    }
    if (xmlParseChunk(ctxt, NULL, 0, 1) != 0 || !ctxt->wellFormed)
        die("libxml2 rejected the end of the generated stream");
    xmlFreeParserCtxt(ctxt);
    return cpu_seconds() - t0;
}

/* ---- (b), (c), (d) the libxmppc reader ---------------------------------- */

typedef struct reader_counts {
    size_t stanzas;
    int opened, closed, errors;
    int verify_big; /* check the delivered stanza's payload size */
    size_t big_bytes;
} reader_counts;

static int on_open(void *userdata, const xmppc__stream_header *header)
{
    (void)header;
    ((reader_counts *)userdata)->opened++;
    return 0;
}

static int on_stanza(void *userdata, xmppc_stanza *stanza)
{
    reader_counts *c = userdata;
    c->stanzas++;
    if (c->verify_big) {
        const char *v = xmppc_stanza_get_child_text(stanza, "body", NULL);
        if (!v) {
            xmppc_stanza *d =
                xmppc_stanza_get_child(stanza, "data", "urn:xmppc:bench");
            v = xmppc_stanza_get_attr(d, "value");
        }
        c->big_bytes = v ? strlen(v) : 0;
    }
    return 0;
}

static void on_close(void *userdata)
{
    ((reader_counts *)userdata)->closed++;
}

static void on_error(void *userdata, int code, const char *condition,
                     const char *message)
{
    ((reader_counts *)userdata)->errors++;
    fprintf(stderr, "parse: reader error %d (%s): %s\n", code,
            condition ? condition : "out of memory", message ? message : "");
}

static const xmppc__parser_callbacks reader_callbacks = {
    on_open,
    on_stanza,
    on_close,
    on_error,
};

/* Feeds data in chunks of @p chunk bytes to a new reader; returns the CPU
 * seconds taken, parser creation and destruction included. */
static double run_reader(const char *data, size_t len, size_t chunk,
                         const xmppc__parser_limits *limits,
                         reader_counts *counts)
{
    xmppc__parser *p;
    double t0 = cpu_seconds();
    if (xmppc__parser_new(&p, &reader_callbacks, counts) != 0)
        die("xmppc__parser_new failed");
    if (limits && xmppc__parser_set_limits(p, limits) != 0)
        die("xmppc__parser_set_limits refused the benchmark's limits");
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int rc = xmppc__parser_feed(p, data + off, n);
        if (rc != 0) {
            const char *cond = xmppc__parser_error_condition(p);
            const char *msg = xmppc__parser_error_message(p);
            die("the reader rejected the generated stream at byte %zu: "
                "%s (%s: %s)",
                off, xmppc_strerror(rc), cond ? cond : "-", msg ? msg : "-");
        }
    }
    xmppc__parser_free(p);
    return cpu_seconds() - t0;
}

static void check_reader(const reader_counts *c, size_t want_stanzas,
                         const char *what)
{
    if (c->errors || c->opened != 1 || c->closed != 1 ||
        c->stanzas != want_stanzas)
        die("%s: reader delivered %zu stanzas (want %zu), %d stream opens, "
            "%d closes, %d errors",
            what, c->stanzas, want_stanzas, c->opened, c->closed, c->errors);
}

/* ---- driver ----------------------------------------------------------- */

/* One measured configuration. Runs of all the cases of a table are
 * interleaved, so that a burst of noise on this shared machine spoils one
 * run of every case rather than every run of one case. */
typedef struct bench_case {
    const char *name;
    int reader; /* 0: raw libxml2, 1: libxmppc reader */
    size_t chunk;
    double best; /* CPU seconds */
} bench_case;

static void run_cases(bench_case *cases, size_t ncases, const sbuf *s,
                      const xmppc__parser_limits *limits, size_t want_stanzas,
                      int runs)
{
    for (int i = 0; i < runs; i++)
        for (size_t k = 0; k < ncases; k++) {
            bench_case *bc = &cases[k];
            size_t chunk = bc->chunk ? bc->chunk : s->len;
            double t;
            if (bc->reader) {
                reader_counts c;
                memset(&c, 0, sizeof c);
                t = run_reader(s->data, s->len, chunk, limits, &c);
                check_reader(&c, want_stanzas, bc->name);
            } else {
                t = run_raw(s->data, s->len, chunk, 0, NULL);
            }
            if (i == 0 || t < bc->best)
                bc->best = t;
        }
}

static void print_rate(const char *what, size_t chunk, double secs,
                       size_t bytes, size_t stanzas)
{
    printf("  %-34s %6zu %9.1f %12.3f %9.1f\n", what, chunk,
           (double)bytes / secs / 1e6, (double)stanzas / secs / 1e6,
           secs * 1e3);
}

static const char *verdict(int ok)
{
    return ok ? "PASS" : "MISS";
}

static void usage(FILE *f)
{
    fputs("usage: parse [--size MB] [--runs N] [--quick]\n"
          "  --size MB  synthetic stream size in MB (default 100)\n"
          "  --runs N   best of N runs per case (default 5)\n"
          "  --quick    same as --size 10 --runs 2\n",
          f);
}

static long parse_count(const char *arg, const char *opt, long max)
{
    char *end;
    long v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "parse: %s wants a number from 1 to %ld\n", opt, max);
        exit(2);
    }
    return v;
}

/* The 1 MiB cases: fed whole, then in 1400-byte pieces (a TCP segment's
 * payload). Returns pieces/whole. */
static double big_case(const char *what, int attr, size_t bytes, int runs,
                       double *whole_out, double *pieces_out)
{
    sbuf s = {NULL, 0, 0};
    gen_big(&s, bytes, attr);

    xmppc__parser_limits lim;
    xmppc__parser_limits_default(&lim);
    lim.max_stanza_bytes = XMPPC__PARSER_MAX_STANZA_BYTES_CEILING;
    lim.max_attr_bytes = XMPPC__PARSER_MAX_STANZA_BYTES_CEILING;

    /* Untimed check that the payload arrives complete, whatever the
     * chunking. */
    size_t chunks[] = {s.len, 1400};
    for (size_t i = 0; i < 2; i++) {
        reader_counts c;
        memset(&c, 0, sizeof c);
        c.verify_big = 1;
        run_reader(s.data, s.len, chunks[i], &lim, &c);
        check_reader(&c, 1, what);
        /* Entity references make the decoded text a little shorter. */
        if (c.big_bytes < bytes / 10 * 9)
            die("%s: payload of %zu bytes delivered, want about %zu", what,
                c.big_bytes, bytes);
    }

    /* chunk 0 means the whole stream in one feed */
    bench_case cases[] = {
        {"reader whole", 1, 0, 0},
        {"reader pieces", 1, 1400, 0},
        {"raw whole", 0, 0, 0},
        {"raw pieces", 0, 1400, 0},
    };
    run_cases(cases, 4, &s, &lim, 1, runs);
    double whole = cases[0].best, pieces = cases[1].best;
    printf("  %-30s %9.2f %9.2f %7.2f   (raw libxml2 %.2f / %.2f)\n", what,
           whole * 1e3, pieces * 1e3, pieces / whole, cases[2].best * 1e3,
           cases[3].best * 1e3);
    free(s.data);
    *whole_out = whole;
    *pieces_out = pieces;
    return pieces / whole;
}

int main(int argc, char **argv)
{
    long size_mb = 100, runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            size_mb = parse_count(argv[++i], "--size", 4000);
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = parse_count(argv[++i], "--runs", 1000);
        } else if (strcmp(argv[i], "--quick") == 0) {
            size_mb = 10;
            runs = 2;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }

    LIBXML_TEST_VERSION
    xmlInitParser();

    sbuf s = {NULL, 0, 0};
    gen_stats st;
    gen_stream(&s, (size_t)size_mb * 1000000, &st);

    /* Untimed verification: libxml2 and the reader agree with the
     * generator on the number of stanzas. */
    raw_counts rc;
    memset(&rc, 0, sizeof rc);
    run_raw(s.data, s.len, 4096, 1, &rc);
    if (rc.stanzas != st.stanzas)
        die("libxml2 counted %zu stanzas, %zu were generated", rc.stanzas,
            st.stanzas);
    size_t stanza_bytes = s.len - strlen(stream_header) - strlen(stream_close);

    printf("libxmppc stream reader benchmark: libxml2 %s, CPU time "
           "(CLOCK_PROCESS_CPUTIME_ID), best of %ld runs\n",
           LIBXML_DOTTED_VERSION, runs);
    printf("input: %zu bytes, %zu stanzas averaging %.1f bytes "
           "(%.1f %% message, %.1f %% presence, %.1f %% iq), %zu elements\n\n",
           s.len, st.stanzas, (double)stanza_bytes / (double)st.stanzas,
           100.0 * (double)st.messages / (double)st.stanzas,
           100.0 * (double)st.presences / (double)st.stanzas,
           100.0 * (double)st.iqs / (double)st.stanzas, rc.elements);

    printf("  %-34s %6s %9s %12s %9s\n", "stream", "chunk", "MB/s",
           "M stanzas/s", "ms");
    bench_case cases[] = {
        {"(a) raw libxml2 SAX2, no-op", 0, 4096, 0},
        {"(b) libxmppc reader", 1, 4096, 0},
        {"(c) libxmppc reader", 1, 256, 0},
        {"    raw libxml2 SAX2, no-op", 0, 256, 0},
    };
    run_cases(cases, 4, &s, NULL, st.stanzas, (int)runs);
    for (size_t k = 0; k < 4; k++)
        print_rate(cases[k].name, cases[k].chunk, cases[k].best, s.len,
                   st.stanzas);
    double raw4k = cases[0].best, rd4k = cases[1].best, rd256 = cases[2].best;
    free(s.data);

    printf("\n  %-30s %9s %9s %7s\n", "(d) one big stanza, CPU ms", "whole",
           "1400 B", "ratio");
    double w, p;
    double p3_body = big_case("1 MiB body text", 0, MIB, (int)runs, &w, &p);
    double p3_attr =
        big_case("1 MiB attribute value", 1, MIB, (int)runs, &w, &p);
    double attr4_pieces;
    big_case("4 MiB attribute value", 1, 4 * MIB, (int)runs, &w, &attr4_pieces);

    /* Ratios of throughput: reader over raw, small chunks over large. */
    double p1 = raw4k / rd4k, p2 = rd4k / rd256;
    printf("\ntargets (DESIGN.md):\n");
    printf("  P1 reader / raw libxml2, 4 KiB chunks   %6.3f  >= 0.60  %s\n", p1,
           verdict(p1 >= 0.60));
    printf("  P2 reader 256 B / 4 KiB chunks          %6.3f  >= 0.85  %s\n", p2,
           verdict(p2 >= 0.85));
    printf("  P3 1 MiB body, 1400 B pieces / whole    %6.2f  <= 5     %s\n",
           p3_body, verdict(p3_body <= 5));
    printf("  P3 1 MiB attribute, pieces / whole      %6.2f  <= 5     %s\n",
           p3_attr, verdict(p3_attr <= 5));
    printf("  P3 4 MiB attribute in 1400 B pieces     %6.2f  <= 20 ms %s\n",
           attr4_pieces * 1e3, verdict(attr4_pieces <= 0.020));

    xmlCleanupParser();
    return 0;
}
