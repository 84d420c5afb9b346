/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The stream reader: bytes of an XMPP stream in, stream events out (the
 * stream header, each complete top-level stanza as an xmppc_stanza tree,
 * the stream close), on libxml2's SAX2 push parser. Sans-I/O: it never
 * reads or writes anything itself. Not installed.
 *
 * Restricted XML (RFC 6120 section 11) is enforced: comments, processing
 * instructions, DTDs, entity declarations and references to undefined
 * entities, unbound prefixes, encodings other than UTF-8, XML other than
 * 1.0 and every well-formedness error end the stream with an error that
 * carries the RFC 6120 stream-error condition. No entity is ever expanded,
 * the network is never used (XML_PARSE_NONET) and XML_PARSE_HUGE is never
 * set. Limits are enforced while reading, before memory is committed to
 * the offending input.
 */
#ifndef XMPPC_PARSER_H
#define XMPPC_PARSER_H

#include <stddef.h>

#include <xmppc/stanza.h>

typedef struct xmppc__parser xmppc__parser;

/* The stream header's attributes, borrowed for the callback; NULL when
 * absent. */
typedef struct xmppc__stream_header {
    const char *from;
    const char *to;
    const char *id;
    const char *version;
    const char *lang;       /* xml:lang */
    const char *content_ns; /* the default namespace, i.e. jabber:client */
} xmppc__stream_header;

typedef struct xmppc__parser_limits {
    /* Bytes of one stanza, counted from the end of the previous stanza (or
     * the stream header); the stream header itself counts too. RFC 6120
     * servers use ~10 KB before authentication; the default is 256 KiB. */
    size_t max_stanza_bytes;
    /* Element nesting inside a stanza; the stanza element is level 1. */
    unsigned int max_depth;
    /* Attributes plus namespace declarations on one element. */
    unsigned int max_attrs;
    /* Bytes of one attribute value. */
    size_t max_attr_bytes;
} xmppc__parser_limits;

#define XMPPC__PARSER_DEFAULT_MAX_STANZA_BYTES (256 * 1024)
#define XMPPC__PARSER_DEFAULT_MAX_DEPTH 64
#define XMPPC__PARSER_DEFAULT_MAX_ATTRS 64
#define XMPPC__PARSER_DEFAULT_MAX_ATTR_BYTES (64 * 1024)
/* Ceiling for max_stanza_bytes: below libxml2's own 10 MB token limit, so
 * our limit always triggers first, with a clear condition. */
#define XMPPC__PARSER_MAX_STANZA_BYTES_CEILING (8 * 1024 * 1024)

/* Callbacks run inside xmppc__parser_feed(). stream_open and stanza return
 * 0 to go on or non-zero to stop: the rest of the fed chunk is discarded
 * and the parser needs xmppc__parser_reset() before more input (used for
 * STARTTLS <proceed/> and SASL <success/>, after which buffered plaintext
 * must not be read). */
typedef struct xmppc__parser_callbacks {
    int (*stream_open)(void *userdata, const xmppc__stream_header *header);
    /* The stanza is borrowed: take a reference to keep it. */
    int (*stanza)(void *userdata, xmppc_stanza *stanza);
    void (*stream_close)(void *userdata);
    /* Called once when the stream is broken; @p condition is the RFC 6120
     * stream-error condition ("not-well-formed", "restricted-xml",
     * "bad-namespace-prefix", "invalid-namespace", "unsupported-encoding",
     * "policy-violation"), or NULL when we ran out of memory. */
    void (*error)(void *userdata, int code, const char *condition,
                  const char *message);
} xmppc__parser_callbacks;

void xmppc__parser_limits_default(xmppc__parser_limits *limits);

/* Any callback may be NULL. Returns 0, XMPPC_EINVAL or XMPPC_ENOMEM. */
int xmppc__parser_new(xmppc__parser **out,
                      const xmppc__parser_callbacks *callbacks, void *userdata);
void xmppc__parser_free(xmppc__parser *parser);

/* Applies new limits (e.g. larger after authentication); they take effect
 * from the next byte. Returns 0 or XMPPC_EINVAL for a zero value or a
 * stanza limit above the ceiling. */
int xmppc__parser_set_limits(xmppc__parser *parser,
                             const xmppc__parser_limits *limits);
void xmppc__parser_get_limits(const xmppc__parser *parser,
                              xmppc__parser_limits *limits);

/* Feeds bytes. Every stanza whose closing '>' is in this chunk is
 * delivered before it returns, whatever the chunk boundaries. Returns 0
 * (all read, or stopped by a callback); XMPPC_EPARSE (bad XML),
 * XMPPC_ELIMIT (a limit; condition policy-violation) or XMPPC_ENOMEM after
 * the error callback ran, with the details also in xmppc_error_last();
 * XMPPC_ESTATE when fed after an error, a stop or the stream close without
 * a reset. */
int xmppc__parser_feed(xmppc__parser *parser, const char *data, size_t len);

/* Starts a new stream (after STARTTLS, after SASL success): drops every
 * buffered byte, the partial stanza and the error or stop state; the
 * limits stay. Returns 0 or XMPPC_ENOMEM. */
int xmppc__parser_reset(xmppc__parser *parser);

/* The condition and message of the error that stopped the parser, or NULL
 * while there is none. */
const char *xmppc__parser_error_condition(const xmppc__parser *parser);
const char *xmppc__parser_error_message(const xmppc__parser *parser);

#endif /* XMPPC_PARSER_H */
