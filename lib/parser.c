/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The stream reader on libxml2's SAX2 push parser (see parser.h).
 *
 * libxml2 traps handled here (measured with 2.9.14):
 * - attribute values: XML_PARSE_NOENT makes `&amp;` arrive as `&` (without
 *   it SAX2 hands `&#38;`); safe because any DTD, and so any entity
 *   declaration, stops the stream first;
 * - an unbound prefix is only a warning and the element arrives with a NULL
 *   URI: refused here;
 * - a non-UTF-8 encoding declaration is honoured by transcoding, XML 1.1 is
 *   a warning: both refused at the stream header;
 * - no depth limit with custom SAX handlers: ours is checked per element;
 * - invalid UTF-8 shares a generic error code with other bad characters, so
 *   UTF-8 is validated here, before libxml2 sees the bytes.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "buf.h"
#include "parser.h"
#include "stanza-private.h"
#include "utf8.h"

/* Not XML_PARSE_HUGE, ever: libxml2's own size limits stay as a backstop. */
/* IGNORE_ENC: libxml2 never transcodes (nor prints encoder errors to
 * stderr); the declared encoding is checked here instead. */
#define READER_OPTIONS                                                         \
    (XML_PARSE_NONET | XML_PARSE_NOENT | XML_PARSE_IGNORE_ENC)
#define DECL_PEEK 128 /* an XML declaration longer than this is not checked */
#define MAX_DEPTH_CEILING 200 /* below libxml2's own nesting limit (256) */

enum reader_state { READING, STOPPED, FAILED, CLOSED };

struct xmppc__parser {
    xmlParserCtxtPtr ctxt;
    xmppc__parser_callbacks cb;
    void *userdata;
    xmppc__parser_limits limits;
    enum reader_state state;
    bool in_feed;
    bool free_pending; /* freed from inside a callback: finish at the end */

    unsigned int depth;    /* 0 before the header, 1 inside the stream */
    xmppc_stanza *stanza;  /* the stanza being built */
    xmppc_stanza *current; /* its innermost open element */
    xmppc__buf text;       /* character data not yet made a text node */

    /* Byte accounting for max_stanza_bytes, in libxml2's input offsets. */
    long long fed;      /* bytes given to libxml2 since the stream began */
    long long boundary; /* where the current stanza began */

    /* The start of the stream, kept until the XML declaration (if any) has
     * been read and its encoding checked. */
    char decl[DECL_PEEK];
    size_t decl_len;
    bool decl_checked;

    /* UTF-8 validation across chunk boundaries. */
    unsigned char utf8_pending[4];
    size_t utf8_have, utf8_need;

    int error_code;
    char error_condition[32];
    char error_message[256];
};

static pthread_once_t libxml2_once = PTHREAD_ONCE_INIT;

static void init_libxml2(void)
{
    xmlInitParser();
}

void xmppc__parser_limits_default(xmppc__parser_limits *limits)
{
    limits->max_stanza_bytes = XMPPC__PARSER_DEFAULT_MAX_STANZA_BYTES;
    limits->max_depth = XMPPC__PARSER_DEFAULT_MAX_DEPTH;
    limits->max_attrs = XMPPC__PARSER_DEFAULT_MAX_ATTRS;
    limits->max_attr_bytes = XMPPC__PARSER_DEFAULT_MAX_ATTR_BYTES;
}

/* ---- errors -------------------------------------------------------------- */

/* Records the first error, stops libxml2 and tells the owner. Later errors
 * (libxml2 often reports several for one cause) are ignored. */
static void fail(xmppc__parser *p, int code, const char *condition,
                 const char *fmt, ...) XMPPC_PRINTF(4, 5);

static void fail(xmppc__parser *p, int code, const char *condition,
                 const char *fmt, ...)
{
    if (p->state != READING) /* the first cause wins; a stop is no error */
        return;
    p->state = FAILED;
    p->error_code = code;
    snprintf(p->error_condition, sizeof p->error_condition, "%s",
             condition ? condition : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error_message, sizeof p->error_message, fmt, ap);
    va_end(ap);
    if (p->ctxt)
        xmlStopParser(p->ctxt);
    if (p->cb.error)
        p->cb.error(p->userdata, code, condition, p->error_message);
}

static void fail_nomem(xmppc__parser *p)
{
    fail(p, XMPPC_ENOMEM, NULL, "out of memory while reading the stream");
}

/* Maps libxml2's errors to RFC 6120 stream-error conditions. */
static const char *condition_for(int xml_error)
{
    switch (xml_error) {
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
    case XML_ERR_UNPARSED_ENTITY:
    case XML_ERR_ENTITY_LOOP:
    case XML_ERR_ENTITY_BOUNDARY:
    case XML_ERR_PEREF_AT_EOF:
    case XML_ERR_PEREF_IN_PROLOG:
    case XML_ERR_PEREF_IN_EPILOG:
    case XML_ERR_PEREF_IN_INT_SUBSET:
    case XML_ERR_EXT_ENTITY_STANDALONE:
    case XML_ERR_ENTITY_IS_EXTERNAL:
    case XML_ERR_ENTITY_IS_PARAMETER:
        return "restricted-xml";
    case XML_ERR_UNSUPPORTED_ENCODING:
    case XML_ERR_UNKNOWN_ENCODING:
    case XML_ERR_INVALID_ENCODING:
        return "unsupported-encoding";
    case XML_NS_ERR_UNDEFINED_NAMESPACE:
        return "bad-namespace-prefix";
    default:
        return "not-well-formed";
    }
}

static void on_structured_error(void *userdata, xmlErrorPtr error)
{
    xmppc__parser *p = userdata;
    if (!error || p->state != READING)
        return;
    /* libxml2's messages end with a newline; ours do not. */
    char msg[200];
    snprintf(msg, sizeof msg, "%s",
             error->message ? error->message : "malformed XML");
    msg[strcspn(msg, "\n")] = '\0';
    if (error->level == XML_ERR_WARNING) {
        /* Warnings libxml2 lets pass but XMPP does not; others (such as a
         * relative namespace URI) are harmless. */
        if (error->code == XML_WAR_UNKNOWN_VERSION)
            fail(p, XMPPC_EPARSE, "not-well-formed",
                 "XML version other than 1.0");
        return;
    }
    /* Namespace URIs that are not valid URI syntax: servers forward them
     * (expat does not check), so refusing them would let any sender break
     * our stream. */
    if (error->code == XML_WAR_NS_URI || error->code == XML_WAR_NS_URI_RELATIVE)
        return;
    /* Other errors libxml2 recovers from (namespace errors: unbound or
     * empty prefixes, malformed QNames, duplicate attributes through two
     * prefixes, misuse of the xml and xmlns namespaces) are fatal here. */
    fail(p, XMPPC_EPARSE, condition_for(error->code), "%s (line %d)", msg,
         error->line);
}

static void restricted(xmppc__parser *p, const char *what)
{
    fail(p, XMPPC_EPARSE, "restricted-xml", "%s is not allowed in XMPP", what);
}

static void on_comment(void *userdata, const xmlChar *value)
{
    (void)value;
    restricted(userdata, "an XML comment");
}

static void on_pi(void *userdata, const xmlChar *target, const xmlChar *data)
{
    (void)target;
    (void)data;
    restricted(userdata, "a processing instruction");
}

static void on_subset(void *userdata, const xmlChar *name,
                      const xmlChar *external_id, const xmlChar *system_id)
{
    (void)name;
    (void)external_id;
    (void)system_id;
    restricted(userdata, "a document type declaration");
}

static void on_entity_decl(void *userdata, const xmlChar *name, int type,
                           const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content)
{
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
    restricted(userdata, "an entity declaration");
}

/* Only the five predefined entities exist (libxml2 resolves those without
 * asking); anything else is an undeclared entity. */
static xmlEntityPtr on_get_entity(void *userdata, const xmlChar *name)
{
    xmppc__parser *p = userdata;
    fail(p, XMPPC_EPARSE, "restricted-xml", "undefined entity &%.40s;",
         (const char *)name);
    return NULL;
}

/* ---- building stanzas ---------------------------------------------------- */

static long long offset_now(const xmppc__parser *p)
{
    return (long long)xmlByteConsumed(p->ctxt);
}

static int flush_text(xmppc__parser *p)
{
    if (p->text.len == 0)
        return 0;
    xmppc_stanza *tx = xmppc__text_new(p->text.data, p->text.len);
    p->text.len = 0;
    if (!tx || xmppc__element_append_child(p->current, tx) < 0) {
        xmppc_stanza_unref(tx);
        return XMPPC_ENOMEM;
    }
    return 0;
}

static void stop_by_callback(xmppc__parser *p)
{
    p->state = STOPPED;
    xmlStopParser(p->ctxt);
}

/* Copies an attribute value given as [begin, end) into a C string. */
static char *dup_value(const xmlChar *begin, const xmlChar *end)
{
    return xmppc__strndup((const char *)begin, (size_t)(end - begin));
}

static void open_stream(xmppc__parser *p, const xmlChar *localname,
                        const xmlChar *prefix, const xmlChar *uri,
                        int nb_namespaces, const xmlChar **namespaces,
                        int nb_attributes, const xmlChar **attributes)
{
    xmlParserInputPtr in = p->ctxt->input;
    if ((in && in->buf && in->buf->encoder) ||
        (p->ctxt->encoding &&
         xmlStrcasecmp(p->ctxt->encoding, BAD_CAST "UTF-8") != 0)) {
        fail(p, XMPPC_EPARSE, "unsupported-encoding",
             "the stream is not declared as UTF-8 (%.40s)",
             p->ctxt->encoding ? (const char *)p->ctxt->encoding : "?");
        return;
    }
    if (p->ctxt->version && xmlStrcmp(p->ctxt->version, BAD_CAST "1.0") != 0) {
        fail(p, XMPPC_EPARSE, "not-well-formed", "XML version %.10s, not 1.0",
             (const char *)p->ctxt->version);
        return;
    }
    if (prefix && !uri) {
        fail(p, XMPPC_EPARSE, "bad-namespace-prefix",
             "unbound prefix %.40s on the stream header", (const char *)prefix);
        return;
    }
    if (!uri || xmlStrcmp(uri, BAD_CAST XMPPC_NS_STREAMS) != 0 ||
        xmlStrcmp(localname, BAD_CAST "stream") != 0) {
        fail(p, XMPPC_EPARSE, "invalid-namespace",
             "the stream header is <%.40s xmlns='%.80s'>, not <stream> in %s",
             (const char *)localname, uri ? (const char *)uri : "",
             XMPPC_NS_STREAMS);
        return;
    }
    const xmlChar *content_ns = NULL;
    for (int i = 0; i < nb_namespaces; i++)
        if (!namespaces[2 * i])
            content_ns = namespaces[2 * i + 1];
    if (!content_ns || xmlStrcmp(content_ns, BAD_CAST XMPPC_NS_CLIENT) != 0) {
        fail(p, XMPPC_EPARSE, "invalid-namespace",
             "the stream's content namespace is '%.80s', not %s",
             content_ns ? (const char *)content_ns : "(none)", XMPPC_NS_CLIENT);
        return;
    }

    char *values[5] = {NULL};
    static const char *const names[5] = {"from", "to", "id", "version", "lang"};
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i;
        bool xml_ns = a[2] && xmlStrcmp(a[2], BAD_CAST XMPPC_NS_XML) == 0;
        for (int k = 0; k < 5; k++) {
            bool wanted = k == 4 ? xml_ns : !a[2];
            if (wanted && !values[k] &&
                xmlStrcmp(a[0], BAD_CAST names[k]) == 0 &&
                !(values[k] = dup_value(a[3], a[4]))) {
                fail_nomem(p);
                goto out;
            }
        }
    }
    xmppc__stream_header header = {values[0], values[1],
                                   values[2], values[3],
                                   values[4], (const char *)content_ns};
    p->depth = 1;
    /* startElementNs runs before libxml2 consumes the header's '>'. */
    p->boundary = offset_now(p) + 1;
    if (p->cb.stream_open && p->cb.stream_open(p->userdata, &header) != 0)
        stop_by_callback(p);
out:
    for (int k = 0; k < 5; k++)
        xmppc_free(values[k]);
}

static void on_start(void *userdata, const xmlChar *localname,
                     const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces,
                     int nb_attributes, int nb_defaulted,
                     const xmlChar **attributes)
{
    xmppc__parser *p = userdata;
    (void)nb_defaulted; /* no DTD, so never any */
    if (p->state != READING)
        return;
    if ((unsigned)nb_attributes + (unsigned)nb_namespaces >
        p->limits.max_attrs) {
        fail(p, XMPPC_ELIMIT, "policy-violation",
             "<%.40s> has %d attributes and namespace declarations; the "
             "limit is %u",
             (const char *)localname, nb_attributes + nb_namespaces,
             p->limits.max_attrs);
        return;
    }
    if (p->depth == 0) {
        open_stream(p, localname, prefix, uri, nb_namespaces, namespaces,
                    nb_attributes, attributes);
        return;
    }
    if (p->depth > p->limits.max_depth) {
        fail(p, XMPPC_ELIMIT, "policy-violation",
             "elements nested deeper than %u levels", p->limits.max_depth);
        return;
    }
    if (prefix && !uri) {
        fail(p, XMPPC_EPARSE, "bad-namespace-prefix",
             "unbound prefix %.40s on <%.40s>", (const char *)prefix,
             (const char *)localname);
        return;
    }
    if (!uri) {
        fail(p, XMPPC_EPARSE, "invalid-namespace", "<%.40s> is in no namespace",
             (const char *)localname);
        return;
    }
    /* Namespaces in XML: the xml namespace is never a default namespace,
     * and our serializer declares element namespaces as defaults. */
    if (xmlStrcmp(uri, BAD_CAST XMPPC_NS_XML) == 0) {
        fail(p, XMPPC_EPARSE, "invalid-namespace",
             "<%.40s> is in the xml namespace", (const char *)localname);
        return;
    }
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i;
        if (a[1] && !a[2]) {
            fail(p, XMPPC_EPARSE, "bad-namespace-prefix",
                 "unbound prefix %.40s on attribute %.40s", (const char *)a[1],
                 (const char *)a[0]);
            return;
        }
        if ((size_t)(a[4] - a[3]) > p->limits.max_attr_bytes) {
            fail(p, XMPPC_ELIMIT, "policy-violation",
                 "attribute %.40s is %zu bytes; the limit is %zu",
                 (const char *)a[0], (size_t)(a[4] - a[3]),
                 p->limits.max_attr_bytes);
            return;
        }
    }

    if (p->current && flush_text(p) < 0) {
        fail_nomem(p);
        return;
    }
    xmppc_stanza *el = xmppc__element_new(
        (const char *)localname, strlen((const char *)localname),
        (const char *)uri, strlen((const char *)uri));
    if (!el || (nb_attributes &&
                xmppc__element_reserve_attrs(el, (size_t)nb_attributes) < 0)) {
        xmppc_stanza_unref(el);
        fail_nomem(p);
        return;
    }
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attributes + 5 * i;
        const char *ans = (const char *)a[2];
        if (xmppc__element_append_attr(
                el, ans, ans ? strlen(ans) : 0, (const char *)a[0],
                strlen((const char *)a[0]), (const char *)a[3],
                (size_t)(a[4] - a[3])) < 0) {
            xmppc_stanza_unref(el);
            fail_nomem(p);
            return;
        }
    }
    if (p->current) {
        if (xmppc__element_append_child(p->current, el) < 0) {
            xmppc_stanza_unref(el);
            fail_nomem(p);
            return;
        }
    } else {
        p->stanza = el;
    }
    p->current = el;
    p->depth++;
}

static void deliver_stanza(xmppc__parser *p)
{
    xmppc_stanza *stanza = p->stanza;
    p->stanza = p->current = NULL;
    p->boundary = offset_now(p);
    /* A huge text leaves a huge buffer: give the memory back. */
    if (p->text.cap > 16 * 1024)
        xmppc__buf_free(&p->text);
    int rc = p->cb.stanza ? p->cb.stanza(p->userdata, stanza) : 0;
    xmppc_stanza_unref(stanza);
    if (rc != 0 && p->state == READING)
        stop_by_callback(p);
}

static void on_end(void *userdata, const xmlChar *localname,
                   const xmlChar *prefix, const xmlChar *uri)
{
    xmppc__parser *p = userdata;
    (void)localname;
    (void)prefix;
    (void)uri;
    if (p->state != READING)
        return;
    if (p->depth == 1) { /* </stream:stream> */
        p->depth = 0;
        p->state = CLOSED;
        xmlStopParser(p->ctxt); /* nothing after the close is read */
        if (p->cb.stream_close)
            p->cb.stream_close(p->userdata);
        return;
    }
    if (flush_text(p) < 0) {
        fail_nomem(p);
        return;
    }
    p->depth--;
    if (p->depth == 1)
        deliver_stanza(p);
    else
        p->current = xmppc_stanza_get_parent(p->current);
}

static bool all_whitespace(const xmlChar *s, int len)
{
    for (int i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
            return false;
    return true;
}

static void on_characters(void *userdata, const xmlChar *s, int len)
{
    xmppc__parser *p = userdata;
    if (p->state != READING)
        return;
    if (p->depth <= 1) {
        /* Between stanzas only whitespace keepalives are allowed; they do
         * not count towards the next stanza's size. */
        if (!all_whitespace(s, len))
            fail(p, XMPPC_EPARSE, "not-well-formed", "text outside a stanza");
        else
            p->boundary = offset_now(p);
        return;
    }
    if (xmppc__buf_append(&p->text, s, (size_t)len) < 0)
        fail_nomem(p);
}

/* ---- lifecycle ----------------------------------------------------------- */

static xmlSAXHandler reader_sax(void)
{
    xmlSAXHandler sax;
    memset(&sax, 0, sizeof sax);
    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = on_start;
    sax.endElementNs = on_end;
    sax.characters = on_characters;
    sax.ignorableWhitespace = on_characters;
    sax.cdataBlock = on_characters;
    sax.comment = on_comment;
    sax.processingInstruction = on_pi;
    sax.internalSubset = on_subset;
    sax.externalSubset = on_subset;
    sax.entityDecl = on_entity_decl;
    sax.getEntity = on_get_entity;
    sax.getParameterEntity = on_get_entity;
    sax.serror = on_structured_error;
    return sax;
}

static int start_stream(xmppc__parser *p)
{
    if (p->ctxt) {
        if (xmlCtxtResetPush(p->ctxt, NULL, 0, NULL, NULL) != 0)
            return xmppc__error(XMPPC_ENOMEM, "cannot reset the XML reader");
    } else {
        xmlSAXHandler sax = reader_sax();
        p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL);
        if (!p->ctxt)
            return xmppc__error(XMPPC_ENOMEM, "cannot create the XML reader");
    }
    xmlCtxtUseOptions(p->ctxt, READER_OPTIONS);
    p->ctxt->userData = p;
    p->state = READING;
    p->depth = 0;
    p->stanza = xmppc_stanza_unref(p->stanza);
    p->current = NULL;
    p->text.len = 0;
    p->fed = p->boundary = 0;
    p->utf8_have = p->utf8_need = 0;
    p->decl_len = 0;
    p->decl_checked = false;
    p->error_code = 0;
    p->error_condition[0] = p->error_message[0] = '\0';
    return 0;
}

int xmppc__parser_new(xmppc__parser **out,
                      const xmppc__parser_callbacks *callbacks, void *userdata)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "parser: out is NULL");
    pthread_once(&libxml2_once, init_libxml2);
    xmppc__parser *p = xmppc__calloc(1, sizeof *p);
    if (!p)
        return XMPPC_ENOMEM;
    if (callbacks)
        p->cb = *callbacks;
    p->userdata = userdata;
    xmppc__parser_limits_default(&p->limits);
    int rc = start_stream(p);
    if (rc < 0) {
        xmppc__parser_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void xmppc__parser_free(xmppc__parser *parser)
{
    if (!parser)
        return;
    if (parser->in_feed) {
        parser->free_pending = true;
        parser->state = STOPPED;
        if (parser->ctxt)
            xmlStopParser(parser->ctxt);
        return;
    }
    if (parser->ctxt)
        xmlFreeParserCtxt(parser->ctxt);
    xmppc_stanza_unref(parser->stanza);
    xmppc__buf_free(&parser->text);
    xmppc_free(parser);
}

int xmppc__parser_reset(xmppc__parser *parser)
{
    if (!parser)
        return xmppc__error(XMPPC_EINVAL, "parser is NULL");
    if (parser->in_feed)
        return xmppc__error(XMPPC_ESTATE,
                            "the reader cannot restart from inside its own "
                            "callback; return non-zero and reset after feed");
    return start_stream(parser);
}

int xmppc__parser_set_limits(xmppc__parser *parser,
                             const xmppc__parser_limits *limits)
{
    if (!parser || !limits)
        return xmppc__error(XMPPC_EINVAL, "parser limits: NULL argument");
    if (limits->max_stanza_bytes == 0 || limits->max_depth == 0 ||
        limits->max_attrs == 0 || limits->max_attr_bytes == 0)
        return xmppc__error(XMPPC_EINVAL, "parser limits must not be 0");
    if (limits->max_stanza_bytes > XMPPC__PARSER_MAX_STANZA_BYTES_CEILING)
        return xmppc__error(XMPPC_EINVAL,
                            "stanza size limit %zu is above the ceiling of "
                            "%d bytes",
                            limits->max_stanza_bytes,
                            XMPPC__PARSER_MAX_STANZA_BYTES_CEILING);
    if (limits->max_depth > MAX_DEPTH_CEILING)
        return xmppc__error(XMPPC_EINVAL,
                            "depth limit %u is above the ceiling of %d",
                            limits->max_depth, MAX_DEPTH_CEILING);
    parser->limits = *limits;
    return 0;
}

void xmppc__parser_get_limits(const xmppc__parser *parser,
                              xmppc__parser_limits *limits)
{
    *limits = parser->limits;
}

const char *xmppc__parser_error_condition(const xmppc__parser *parser)
{
    return parser && parser->state == FAILED && parser->error_condition[0]
               ? parser->error_condition
               : NULL;
}

const char *xmppc__parser_error_message(const xmppc__parser *parser)
{
    return parser && parser->state == FAILED ? parser->error_message : NULL;
}

/* ---- feeding ------------------------------------------------------------- */

/* Length of the valid UTF-8 prefix of data[0..len), continuing a sequence
 * split by the previous chunk. A sequence cut by the end of the chunk is
 * kept for the next call and counts as valid. */
static size_t valid_utf8_prefix(xmppc__parser *p, const char *data, size_t len)
{
    size_t i = 0;
    while (p->utf8_need > 0 && i < len) {
        p->utf8_pending[p->utf8_have++] = (unsigned char)data[i++];
        if (p->utf8_have < p->utf8_need)
            continue;
        uint32_t cp;
        if (xmppc__utf8_decode((const char *)p->utf8_pending, p->utf8_have,
                               &cp) != p->utf8_have)
            return 0;
        p->utf8_have = p->utf8_need = 0;
    }
    while (i < len) {
        /* Mostly ASCII: skip eight bytes at a time (none >= 0x80, none
         * zero). */
        while (len - i >= 8) {
            uint64_t word;
            memcpy(&word, data + i, 8);
            uint64_t zero = (word - UINT64_C(0x0101010101010101)) & ~word &
                            UINT64_C(0x8080808080808080);
            if ((word & UINT64_C(0x8080808080808080)) || zero)
                break;
            i += 8;
        }
        if (i == len)
            break;
        unsigned char c = (unsigned char)data[i];
        /* NUL is never XML; refusing it here also keeps libxml2 from
         * taking NULs at the start for UTF-16/UCS-4 and transcoding (and
         * printing encoder errors to stderr). */
        if (c == 0)
            return i;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
        uint32_t cp;
        if (need && i + need > len) {
            /* Cut by the chunk end: check the bytes we have, keep them. */
            size_t have = len - i;
            for (size_t k = 1; k < have; k++)
                if (((unsigned char)data[i + k] & 0xC0) != 0x80)
                    return i;
            if (need == 0 || c > 0xF4 || c == 0xC0 || c == 0xC1)
                return i;
            memcpy(p->utf8_pending, data + i, have);
            p->utf8_have = have;
            p->utf8_need = need;
            return len;
        }
        size_t n = xmppc__utf8_decode(data + i, len - i, &cp);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

/* memmem is not POSIX. */
static const char *find_bytes(const char *hay, size_t n, const char *needle,
                              size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

/* Reads the encoding declared in the XML declaration at the start of the
 * stream; RFC 6120 11.6 allows only UTF-8. Returns false (after failing
 * the stream) for any other. */
static bool check_declaration(xmppc__parser *p, const char *data, size_t len)
{
    static const char prefix[] = "<?xml";
    size_t take = len < DECL_PEEK - p->decl_len ? len : DECL_PEEK - p->decl_len;
    memcpy(p->decl + p->decl_len, data, take);
    p->decl_len += take;
    size_t cmp = p->decl_len < 5 ? p->decl_len : 5;
    if (memcmp(p->decl, prefix, cmp) != 0) {
        p->decl_checked = true; /* no declaration: UTF-8 by default */
        return true;
    }
    const char *end = find_bytes(p->decl, p->decl_len, "?>", 2);
    if (!end) {
        if (p->decl_len == DECL_PEEK)
            p->decl_checked = true; /* libxml2 judges the rest */
        return true;
    }
    p->decl_checked = true;
    size_t decl_len = (size_t)(end - p->decl);
    const char *enc = find_bytes(p->decl, decl_len, "encoding", 8);
    if (!enc)
        return true;
    const char *q = enc + 8, *stop = p->decl + decl_len;
    while (q < stop && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
        q++;
    if (q < stop && *q == '=')
        q++;
    while (q < stop && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
        q++;
    if (q >= stop || (*q != '\'' && *q != '"'))
        return true; /* malformed: libxml2 reports it */
    char quote = *q++;
    const char *value = q;
    while (q < stop && *q != quote)
        q++;
    size_t n = (size_t)(q - value);
    if (n == 5 && strncasecmp(value, "UTF-8", 5) == 0)
        return true;
    fail(p, XMPPC_EPARSE, "unsupported-encoding",
         "the stream is declared as %.*s, not UTF-8", (int)(n > 40 ? 40 : n),
         value);
    return false;
}

static void check_libxml2_result(xmppc__parser *p, int rc)
{
    if (rc == 0 || p->state != READING)
        return;
    const xmlError *e = xmlCtxtGetLastError(p->ctxt);
    fail(p, XMPPC_EPARSE, condition_for(rc), "%s",
         e && e->message ? e->message : "malformed XML");
}

static int finish_feed(xmppc__parser *p)
{
    p->in_feed = false;
    if (p->free_pending) {
        p->free_pending = false;
        xmppc__parser_free(p);
        return XMPPC_ECANCELED;
    }
    if (p->state == FAILED) {
        const char *cond = p->error_condition[0] ? p->error_condition : NULL;
        return xmppc__error_xmpp(p->error_code, cond, "cancel", NULL,
                                 "stream %s: %s", cond ? cond : "error",
                                 p->error_message);
    }
    return 0;
}

int xmppc__parser_feed(xmppc__parser *parser, const char *data, size_t len)
{
    xmppc__parser *p = parser;
    if (!p || (!data && len))
        return xmppc__error(XMPPC_EINVAL, "parser feed: NULL argument");
    if (p->in_feed)
        return xmppc__error(XMPPC_ESTATE,
                            "the reader cannot be fed from its own callback");
    if (p->state != READING)
        return xmppc__error(XMPPC_ESTATE,
                            p->state == CLOSED ? "the stream is closed"
                            : p->state == FAILED
                                ? "the stream failed; reset it first"
                                : "the reader was stopped; reset it first");
    p->in_feed = true;
    if (!p->decl_checked && !check_declaration(p, data, len))
        return finish_feed(p);
    size_t valid = valid_utf8_prefix(p, data, len);
    while (len > 0 && p->state == READING) {
        long long in_stanza = p->fed - p->boundary;
        long long allowed = (long long)p->limits.max_stanza_bytes - in_stanza;
        if (allowed <= 0) {
            fail(p, XMPPC_ELIMIT, "policy-violation",
                 "a stanza is larger than %zu bytes",
                 p->limits.max_stanza_bytes);
            break;
        }
        if (valid == 0) {
            /* NUL before anything else: a UTF-16 or UCS-4 stream. Later:
             * a character XML forbids. */
            if (data[0] == '\0' && p->fed > 0)
                fail(p, XMPPC_EPARSE, "not-well-formed",
                     "NUL character in the stream");
            else
                fail(p, XMPPC_EPARSE, "unsupported-encoding",
                     "the stream is not valid UTF-8");
            break;
        }
        size_t piece = len;
        if ((long long)piece > allowed)
            piece = (size_t)allowed;
        if (piece > valid)
            piece = valid;
        if (piece > INT32_MAX)
            piece = INT32_MAX;
        p->fed += (long long)piece;
        check_libxml2_result(p, xmlParseChunk(p->ctxt, data, (int)piece, 0));
        data += piece;
        len -= piece;
        valid -= piece;
    }
    return finish_feed(p);
}

/* ---- one element from a string --------------------------------------------
 */

struct one_element {
    xmppc_stanza *element;
    int count;
};

static int keep_element(void *ud, xmppc_stanza *stanza)
{
    struct one_element *one = ud;
    if (one->count++ == 0)
        one->element = xmppc_stanza_ref(stanza);
    return 0;
}

XMPPC_API int xmppc_stanza_from_string(xmppc_stanza **out, const char *xml)
{
    static const char header[] =
        "<stream:stream xmlns='jabber:client' "
        "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
    static const char footer[] = "</stream:stream>";
    if (!out || !xml)
        return xmppc__error(XMPPC_EINVAL, "stanza_from_string: NULL argument");
    size_t len = strlen(xml);
    if (len > XMPPC__PARSER_MAX_STANZA_BYTES_CEILING)
        return xmppc__error(XMPPC_ELIMIT,
                            "stanza_from_string: %zu bytes is above the "
                            "limit of %d",
                            len, XMPPC__PARSER_MAX_STANZA_BYTES_CEILING);
    struct one_element one = {NULL, 0};
    xmppc__parser_callbacks cb = {NULL, keep_element, NULL, NULL};
    xmppc__parser *p = NULL;
    xmppc__parser_limits limits;
    int rc = xmppc__parser_new(&p, &cb, &one);
    if (rc == 0) {
        xmppc__parser_get_limits(p, &limits);
        limits.max_stanza_bytes = XMPPC__PARSER_MAX_STANZA_BYTES_CEILING;
        rc = xmppc__parser_set_limits(p, &limits);
    }
    if (rc == 0)
        rc = xmppc__parser_feed(p, header, sizeof header - 1);
    if (rc == 0)
        rc = xmppc__parser_feed(p, xml, len);
    if (rc == 0)
        rc = xmppc__parser_feed(p, footer, sizeof footer - 1);
    if (rc == 0 && one.count != 1)
        rc = xmppc__error(XMPPC_EINVAL,
                          "stanza_from_string: %d elements; expected one",
                          one.count);
    xmppc__parser_free(p);
    if (rc < 0) {
        xmppc_stanza_unref(one.element);
        return rc;
    }
    *out = one.element;
    return 0;
}
