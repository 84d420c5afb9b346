/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/stanza.h
 * @brief XML element trees: stanzas, their children, text and attributes.
 *
 * An ::xmppc_stanza is a node of an XML tree: an element (name, namespace,
 * attributes, children) or a text node. Stanzas received from the network
 * and stanzas you build are the same type.
 *
 * **Ownership.** Nodes are reference-counted. Constructors hand out a
 * reference through their `**out` parameter; release it with
 * xmppc_stanza_unref(). A parent holds a reference on each of its
 * children, so after xmppc_stanza_add_child() you may drop yours. Pointers
 * returned as values (children, attribute values, text) are borrowed: they
 * stay valid until the node or its parent is changed or freed. A stanza
 * passed to a callback is borrowed for the call; take a reference to keep
 * it.
 *
 * **Namespaces.** Each element has a namespace URI. Passing NULL as the
 * namespace when creating an element means "the parent's namespace" (for a
 * top-level stanza, the stream's content namespace, `jabber:client`);
 * xmppc_stanza_get_ns() always returns the effective URI. The serializer
 * writes an `xmlns` declaration only where an element's namespace differs
 * from its parent's, and never writes prefixes except `xml:` and generated
 * ones for namespaced attributes.
 *
 * **Validation.** Names must be XML NCNames; attribute values and text must
 * be valid UTF-8 made of XML 1.0 characters (no NUL, no C0 controls except
 * tab, newline and carriage return, no U+FFFE/U+FFFF, no surrogates).
 * Anything else is refused with XMPPC_EINVAL and never reaches the wire.
 * Addresses set with xmppc_stanza_set_to() and xmppc_stanza_set_from() are
 * validated and prepared as JIDs.
 *
 * Thread-safety: a stanza (with its tree) may be used by one thread at a
 * time; reference counts are not atomic.
 * @since 0.1
 */
#ifndef XMPPC_STANZA_H
#define XMPPC_STANZA_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/** The content namespace of client streams; the default for top-level
 * stanzas. */
#define XMPPC_NS_CLIENT "jabber:client"
/** The stream namespace (`stream:` prefix). */
#define XMPPC_NS_STREAMS "http://etherx.jabber.org/streams"
/** Stanza error conditions (RFC 6120 section 8.3). */
#define XMPPC_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
/** The namespace bound to the `xml:` prefix (`xml:lang`). */
#define XMPPC_NS_XML "http://www.w3.org/XML/1998/namespace"

/** The deepest tree the serializer, xmppc_stanza_copy() and
 * xmppc_stanza_equal() accept (the stream reader's default limit is far
 * lower). */
#define XMPPC_STANZA_MAX_DEPTH 1024

/* ---- creating and releasing -------------------------------------------- */

/**
 * Creates an element.
 *
 * @param[out] out the new element (caller owns one reference).
 * @param name the local name, an XML NCName (e.g. "message", "body").
 * @param ns the namespace URI, or NULL to inherit the parent's (see above).
 * @return 0; XMPPC_EINVAL for a NULL or invalid name or namespace;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_new(xmppc_stanza **out, const char *name,
                               const char *ns);

/**
 * Creates a text node, for mixed content (text between child elements).
 * For the usual `<body>text</body>`, xmppc_stanza_set_text() or
 * xmppc_stanza_add_text_child() is simpler.
 *
 * @param[out] out the new text node (caller owns one reference).
 * @param text the text (copied); must not be empty.
 * @return 0; XMPPC_EINVAL for NULL, empty or invalid text; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_new_text(xmppc_stanza **out, const char *text);

/**
 * Takes a reference.
 * @return @p stanza (NULL-safe).
 * @since 0.1
 */
XMPPC_API xmppc_stanza *xmppc_stanza_ref(xmppc_stanza *stanza);

/**
 * Drops a reference; the node and its subtree are freed with the last one.
 * A child still attached to a parent lives as long as the parent holds it.
 * @return NULL, so that `s = xmppc_stanza_unref(s);` clears the pointer.
 * @since 0.1
 */
XMPPC_API xmppc_stanza *xmppc_stanza_unref(xmppc_stanza *stanza);

/**
 * Deep-copies a node and its subtree. The copy has no parent; an element
 * that inherited its namespace gets the effective namespace written in.
 *
 * @param[out] out the copy (caller owns one reference).
 * @return 0; XMPPC_EINVAL for NULL; XMPPC_ELIMIT for a tree deeper than
 *         XMPPC_STANZA_MAX_DEPTH; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_copy(xmppc_stanza **out, const xmppc_stanza *src);

/* ---- inspecting ---------------------------------------------------------- */

/** 1 for a text node, 0 for an element (or NULL). @since 0.1 */
XMPPC_API int xmppc_stanza_is_text(const xmppc_stanza *stanza);

/** The element's local name (borrowed), or NULL for a text node or NULL.
 * @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_name(const xmppc_stanza *stanza);

/** The element's effective namespace URI (borrowed); never NULL for an
 * element; NULL for a text node or NULL. @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_ns(const xmppc_stanza *stanza);

/** The parent element (borrowed), or NULL for a top-level node.
 * @since 0.1 */
XMPPC_API xmppc_stanza *xmppc_stanza_get_parent(const xmppc_stanza *stanza);

/**
 * The text directly inside an element (the concatenation of its text
 * children, not of its descendants), or a text node's text.
 *
 * @return borrowed text; NULL when there is none (or on NULL, or when
 *         joining several text runs ran out of memory).
 * @since 0.1
 */
XMPPC_API const char *xmppc_stanza_get_text(const xmppc_stanza *stanza);

/**
 * Structural equality: same names, effective namespaces, attributes (in
 * any order) and children in order, with adjacent text nodes compared as
 * one run.
 * @return 1 if equal, 0 if not (or when a tree is deeper than
 *         XMPPC_STANZA_MAX_DEPTH).
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_equal(const xmppc_stanza *a, const xmppc_stanza *b);

/* ---- attributes ---------------------------------------------------------- */

/**
 * Sets (adds or replaces) an attribute without namespace, or `xml:lang` /
 * another `xml:` attribute when @p name starts with "xml:".
 *
 * @param name an NCName, or "xml:" followed by one; never "xmlns" or
 *        "xmlns:..." (declarations are generated by the serializer).
 * @param value the value (copied); NULL removes the attribute.
 * @return 0; XMPPC_EINVAL for a text node, an invalid name or value;
 *         XMPPC_ENOMEM (the element is unchanged).
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_set_attr(xmppc_stanza *stanza, const char *name,
                                    const char *value);

/**
 * Sets an attribute in a namespace (NULL or "" for none).
 * @return as xmppc_stanza_set_attr().
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_set_attr_ns(xmppc_stanza *stanza, const char *ns,
                                       const char *name, const char *value);

/** An attribute's value (borrowed), or NULL. @p name as in
 * xmppc_stanza_set_attr(). @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_attr(const xmppc_stanza *stanza,
                                            const char *name);

/** A namespaced attribute's value (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_attr_ns(const xmppc_stanza *stanza,
                                               const char *ns,
                                               const char *name);

/** The number of attributes (0 for a text node). @since 0.1 */
XMPPC_API size_t xmppc_stanza_attr_count(const xmppc_stanza *stanza);

/**
 * The attribute at @p index (0 .. count-1), for iteration. Any out
 * parameter may be NULL; strings are borrowed; @p ns_out gets NULL for an
 * attribute without namespace.
 * @return 0; XMPPC_EINVAL for an index out of range.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_attr_at(const xmppc_stanza *stanza, size_t index,
                                   const char **ns_out, const char **name_out,
                                   const char **value_out);

/* ---- children ------------------------------------------------------------ */

/**
 * Appends @p child to @p parent, which takes its own reference.
 *
 * @param child a node without parent (remove it from its old parent or
 *        copy it first).
 * @return 0; XMPPC_EINVAL when @p parent is a text node, @p child already
 *         has a parent, or @p child is @p parent or one of its ancestors;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_add_child(xmppc_stanza *parent, xmppc_stanza *child);

/**
 * Appends a text node with @p text (copied) to @p parent. An empty string
 * adds nothing.
 * @return 0; XMPPC_EINVAL for a text node parent or invalid text;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_add_text(xmppc_stanza *parent, const char *text);

/**
 * Appends `<name xmlns=ns>text</name>` to @p parent: the common shape of
 * body, subject, thread and status.
 * @param ns the child's namespace, or NULL to inherit @p parent's.
 * @param text the child's text; NULL or "" makes an empty element.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (nothing is added).
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_add_text_child(xmppc_stanza *parent,
                                          const char *name, const char *ns,
                                          const char *text);

/**
 * Detaches @p child from @p parent and drops the parent's reference (the
 * child is freed unless you hold a reference).
 * @return 0; XMPPC_EINVAL when @p child is not a child of @p parent.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_remove_child(xmppc_stanza *parent,
                                        xmppc_stanza *child);

/**
 * Replaces the text directly inside an element: removes its text children
 * and, unless @p text is NULL or empty, appends one text node. Element
 * children stay.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (the element is unchanged).
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_set_text(xmppc_stanza *stanza, const char *text);

/** The number of children, text nodes included. @since 0.1 */
XMPPC_API size_t xmppc_stanza_child_count(const xmppc_stanza *stanza);

/** The child at @p index (borrowed), or NULL when out of range.
 * @since 0.1 */
XMPPC_API xmppc_stanza *xmppc_stanza_child_at(const xmppc_stanza *stanza,
                                              size_t index);

/**
 * The first child element with this name and namespace (borrowed).
 * @param name the local name, or NULL for any.
 * @param ns the namespace URI, or NULL for any.
 * @return the element, or NULL.
 * @since 0.1
 */
XMPPC_API xmppc_stanza *xmppc_stanza_get_child(const xmppc_stanza *stanza,
                                               const char *name,
                                               const char *ns);

/**
 * The next child element after @p prev matching @p name and @p ns (NULL
 * for any), for iterating over repeated children such as roster items:
 * `for (c = xmppc_stanza_get_child(q, "item", ns); c;
 *      c = xmppc_stanza_get_next_child(q, c, "item", ns))`.
 * @return the element (borrowed), or NULL.
 * @since 0.1
 */
XMPPC_API xmppc_stanza *xmppc_stanza_get_next_child(const xmppc_stanza *stanza,
                                                    const xmppc_stanza *prev,
                                                    const char *name,
                                                    const char *ns);

/** The text of the first matching child element (borrowed), or NULL.
 * @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_child_text(const xmppc_stanza *stanza,
                                                  const char *name,
                                                  const char *ns);

/* ---- serialization ------------------------------------------------------- */

/**
 * Serializes a node and its subtree as it would be sent in a client
 * stream (whose default namespace is `jabber:client`).
 *
 * @param[out] out the XML text, NUL-terminated (caller frees it with
 *             xmppc_free()).
 * @param[out] len_out its length in bytes (may be NULL).
 * @return 0; XMPPC_EINVAL for NULL; XMPPC_ELIMIT for a tree deeper than
 *         XMPPC_STANZA_MAX_DEPTH; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_to_string(char **out, size_t *len_out,
                                     const xmppc_stanza *stanza);

/**
 * Parses one element from text, with the same restricted-XML rules and
 * checks as the stream reader (no DTD, comment, processing instruction or
 * entity; UTF-8 only; no unbound prefix). The element is read as if it
 * stood at the top of a client stream: without an xmlns it is in
 * `jabber:client`. For stored state (a saved roster) and tests.
 *
 * @param[out] out the element (caller owns one reference).
 * @param xml exactly one element, optionally surrounded by whitespace; at
 *        most 8 MiB.
 * @return 0; XMPPC_EPARSE for bad or forbidden XML, text outside the
 *         element included (the message says what is wrong, the condition
 *         is in xmppc_error_last()); XMPPC_EINVAL for NULL, no element or
 *         more than one; XMPPC_ELIMIT for input above 8 MiB or nested too
 *         deeply; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_from_string(xmppc_stanza **out, const char *xml);

/* ---- stanza attributes: to, from, id, type ------------------------------ */

/** The `to` attribute (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_to(const xmppc_stanza *stanza);
/** The `from` attribute (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_from(const xmppc_stanza *stanza);
/** The `id` attribute (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_id(const xmppc_stanza *stanza);
/** The `type` attribute (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_stanza_get_type(const xmppc_stanza *stanza);

/**
 * Sets the `to` address: validated and prepared as a JID (e.g.
 * "User@Example.COM" is stored as "user@example.com"). NULL removes it.
 * @return 0; XMPPC_EINVAL (invalid JID, message names the part);
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_set_to(xmppc_stanza *stanza, const char *jid);
/** Sets the `from` address; as xmppc_stanza_set_to(). @since 0.1 */
XMPPC_API int xmppc_stanza_set_from(xmppc_stanza *stanza, const char *jid);
/** Sets the `id` attribute (NULL removes it). @since 0.1 */
XMPPC_API int xmppc_stanza_set_id(xmppc_stanza *stanza, const char *id);
/** Sets the `type` attribute (NULL removes it). @since 0.1 */
XMPPC_API int xmppc_stanza_set_type(xmppc_stanza *stanza, const char *type);

/**
 * Generates a new random stanza id: 16 characters from [A-Za-z0-9_-] (96
 * bits from GnuTLS' nonce generator), so ids are unique and cannot be
 * guessed by a third party.
 * @param[out] out the id (caller frees it with xmppc_free()).
 * @return 0; XMPPC_ENOMEM; XMPPC_ERROR if the generator failed.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_new_id(char **out);

/** Sets a freshly generated id (see xmppc_stanza_new_id()) on @p stanza.
 * @return 0 or a negative status. @since 0.1 */
XMPPC_API int xmppc_stanza_set_new_id(xmppc_stanza *stanza);

/* ---- message, presence, iq ---------------------------------------------- */

/**
 * Creates `<message/>` in jabber:client.
 * @param type "chat", "normal", "groupchat", "headline", "error", or NULL
 *        for none (which means "normal").
 * @param to the recipient JID, or NULL.
 * @param body the body text, or NULL for none.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_message_new(xmppc_stanza **out, const char *type,
                                const char *to, const char *body);

/**
 * Creates `<presence/>` in jabber:client.
 * @param type NULL for available, or "unavailable", "subscribe",
 *        "subscribed", "unsubscribe", "unsubscribed", "probe", "error".
 * @param to the recipient JID, or NULL for a broadcast.
 * @since 0.1
 */
XMPPC_API int xmppc_presence_new(xmppc_stanza **out, const char *type,
                                 const char *to);

/**
 * Creates `<iq/>` in jabber:client with an id.
 * @param type "get", "set", "result" or "error" (required).
 * @param to the recipient JID, or NULL (the own account's server).
 * @param id the id, or NULL to generate one (xmppc_stanza_new_id()).
 * @since 0.1
 */
XMPPC_API int xmppc_iq_new(xmppc_stanza **out, const char *type, const char *to,
                           const char *id);

/** The message's `<body/>` text (borrowed), or NULL. The first body
 * without `xml:lang` wins, else the first body. @since 0.1 */
XMPPC_API const char *xmppc_message_get_body(const xmppc_stanza *message);
/** The `<subject/>` text (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_message_get_subject(const xmppc_stanza *message);
/** The `<thread/>` text (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_message_get_thread(const xmppc_stanza *message);

/**
 * Sets the `<body/>` text, replacing every body; NULL removes them.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (the message is unchanged).
 * @since 0.1
 */
XMPPC_API int xmppc_message_set_body(xmppc_stanza *message, const char *body);
/** Sets the `<subject/>` text; as xmppc_message_set_body(). @since 0.1 */
XMPPC_API int xmppc_message_set_subject(xmppc_stanza *message,
                                        const char *subject);
/** Sets the `<thread/>` text; as xmppc_message_set_body(). @since 0.1 */
XMPPC_API int xmppc_message_set_thread(xmppc_stanza *message,
                                       const char *thread);

/* ---- errors and replies ------------------------------------------------- */

/**
 * Reads a stanza error (RFC 6120 section 8.3): the `<error/>` child of a
 * stanza of type "error".
 *
 * @param[out] condition_out the defined condition, e.g. "item-not-found"
 *             (borrowed; may be NULL).
 * @param[out] type_out the error type: "auth", "cancel", "continue",
 *             "modify" or "wait" (borrowed; may be NULL).
 * @param[out] text_out the `<text/>` content, or NULL (may be NULL).
 * @return 1 if the stanza carries an error, 0 if not (outputs untouched).
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_get_error(const xmppc_stanza *stanza,
                                     const char **condition_out,
                                     const char **type_out,
                                     const char **text_out);

/**
 * Creates the reply skeleton to a stanza: same element name, `to` set to
 * the original `from` (omitted when there was none), same id; an iq reply
 * gets type "result", other stanzas keep their type. No children.
 * @return 0; XMPPC_EINVAL for a text node or NULL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_reply(xmppc_stanza **out,
                                 const xmppc_stanza *stanza);

/**
 * Creates an error reply (RFC 6120 section 8.3): as xmppc_stanza_reply()
 * with type "error" and an `<error type='...'>` child holding the condition
 * and, if given, a `<text/>`.
 * @param type "auth", "cancel", "continue", "modify" or "wait".
 * @param condition a defined condition, e.g. "service-unavailable".
 * @param text human-readable text, or NULL.
 * @return 0; XMPPC_EINVAL (unknown type, invalid condition); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_stanza_reply_error(xmppc_stanza **out,
                                       const xmppc_stanza *stanza,
                                       const char *type, const char *condition,
                                       const char *text);

XMPPC_END_DECLS

#endif /* XMPPC_STANZA_H */
