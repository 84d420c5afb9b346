/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Stanza internals shared with the stream reader (which builds trees from
 * input libxml2 has already checked) and the serializer's users. Not
 * installed.
 */
#ifndef XMPPC_STANZA_PRIVATE_H
#define XMPPC_STANZA_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "xmppc-private.h"
#include <xmppc/stanza.h>

/* A static copy of a well-known namespace URI equal to ns[0..len), or
 * NULL; lets trees share these strings instead of copying them. */
const char *xmppc__ns_intern(const char *ns, size_t len);

/* Unchecked constructors for the reader: the input is well-formed XML
 * already (names, UTF-8, characters), so only memory can fail. The
 * namespace (ns, ns_len) is the element's own, never inherited. */
xmppc_stanza *xmppc__element_new(const char *name, size_t name_len,
                                 const char *ns, size_t ns_len);
xmppc_stanza *xmppc__text_new(const char *text, size_t len);
/* Reserves room for @p count attributes (exact size, for the reader). */
int xmppc__element_reserve_attrs(xmppc_stanza *el, size_t count);
/* Appends an attribute known not to be present yet. ns may be NULL. */
int xmppc__element_append_attr(xmppc_stanza *el, const char *ns, size_t ns_len,
                               const char *name, size_t name_len,
                               const char *value, size_t value_len);
/* Appends a detached child, taking over the caller's reference. */
int xmppc__element_append_child(xmppc_stanza *parent, xmppc_stanza *child);

/* Appends the serialization of @p stanza to @p buf, as inside an element
 * whose namespace is @p context_ns (XMPPC_NS_CLIENT for a stanza at the
 * top of a client stream). On error @p buf is left as it was. */
int xmppc__stanza_serialize(xmppc__buf *buf, const xmppc_stanza *stanza,
                            const char *context_ns);

/* Appends text / an attribute value with XML escaping. */
int xmppc__escape_text(xmppc__buf *buf, const char *s, size_t len);
int xmppc__escape_attr(xmppc__buf *buf, const char *s, size_t len);

#endif /* XMPPC_STANZA_PRIVATE_H */
