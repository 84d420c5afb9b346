/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Element trees: building, inspecting, copying, comparing, serializing.
 *
 * Each node is one allocation with its name and namespace (or its text)
 * stored inline; well-known namespaces are shared static strings. Parents
 * hold a reference on each child. Freeing is iterative so that deep trees
 * cannot exhaust the stack.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "stanza-private.h"
#include "utf8.h"
#include <xmppc/jid.h>

enum node_kind { NODE_ELEMENT, NODE_TEXT };

struct attr {
    const char *ns;    /* NULL, a static interned URI, or inside block */
    const char *name;  /* inside block */
    const char *value; /* inside block */
    size_t value_len;
    char *block; /* one allocation: name, value and a non-interned ns */
};

struct xmppc_stanza {
    unsigned int refs;
    unsigned char kind;
    xmppc_stanza *parent; /* not a reference; also links the free list */
    union {
        struct {
            const char *name;
            const char *ns; /* NULL = inherited */
            struct attr *attrs;
            size_t nattrs, attrs_cap;
            xmppc_stanza **children;
            size_t nchildren, children_cap;
            char *text_cache; /* joined text runs, see get_text */
        } el;
        struct {
            const char *text;
            size_t len;
        } tx;
    } u;
    char storage[]; /* name and namespace, or text */
};

/* ---- namespaces ----------------------------------------------------------
 */

static const char *const interned_ns[] = {
    XMPPC_NS_CLIENT,
    XMPPC_NS_STREAMS,
    XMPPC_NS_STANZAS,
    XMPPC_NS_XML,
    "urn:ietf:params:xml:ns:xmpp-streams",
    "urn:ietf:params:xml:ns:xmpp-tls",
    "urn:ietf:params:xml:ns:xmpp-sasl",
    "urn:ietf:params:xml:ns:xmpp-bind",
    "urn:ietf:params:xml:ns:xmpp-session",
    "urn:xmpp:sm:3",
    "jabber:iq:roster",
    "http://jabber.org/protocol/disco#info",
    "http://jabber.org/protocol/disco#items",
    "http://jabber.org/protocol/caps",
    "http://jabber.org/protocol/chatstates",
    "http://jabber.org/protocol/muc",
    "http://jabber.org/protocol/muc#user",
    "urn:xmpp:receipts",
    "urn:xmpp:carbons:2",
    "urn:xmpp:forward:0",
    "urn:xmpp:delay",
    "urn:xmpp:ping",
    "urn:xmpp:mam:2",
    "urn:xmpp:sid:0",
    "jabber:x:data",
};

const char *xmppc__ns_intern(const char *ns, size_t len)
{
    for (size_t i = 0; i < sizeof interned_ns / sizeof interned_ns[0]; i++)
        if (strncmp(interned_ns[i], ns, len) == 0 &&
            interned_ns[i][len] == '\0')
            return interned_ns[i];
    return NULL;
}

static bool str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* ---- construction --------------------------------------------------------
 */

xmppc_stanza *xmppc__element_new(const char *name, size_t name_len,
                                 const char *ns, size_t ns_len)
{
    const char *interned = ns ? xmppc__ns_intern(ns, ns_len) : NULL;
    size_t inline_ns = ns && !interned ? ns_len + 1 : 0;
    xmppc_stanza *el = xmppc__malloc(sizeof *el + name_len + 1 + inline_ns);
    if (!el)
        return NULL;
    memset(el, 0, sizeof *el);
    el->refs = 1;
    el->kind = NODE_ELEMENT;
    memcpy(el->storage, name, name_len);
    el->storage[name_len] = '\0';
    el->u.el.name = el->storage;
    if (interned) {
        el->u.el.ns = interned;
    } else if (ns) {
        char *p = el->storage + name_len + 1;
        memcpy(p, ns, ns_len);
        p[ns_len] = '\0';
        el->u.el.ns = p;
    }
    return el;
}

xmppc_stanza *xmppc__text_new(const char *text, size_t len)
{
    xmppc_stanza *tx = xmppc__malloc(sizeof *tx + len + 1);
    if (!tx)
        return NULL;
    memset(tx, 0, sizeof *tx);
    tx->refs = 1;
    tx->kind = NODE_TEXT;
    memcpy(tx->storage, text, len);
    tx->storage[len] = '\0';
    tx->u.tx.text = tx->storage;
    tx->u.tx.len = len;
    return tx;
}

static int check_text(const char *what, const char *s)
{
    size_t bad;
    if (!s)
        return xmppc__error(XMPPC_EINVAL, "%s is NULL", what);
    if (!xmppc__xml_text_ok(s, strlen(s), &bad))
        return xmppc__error(XMPPC_EINVAL,
                            "%s: invalid UTF-8 or a character XML 1.0 "
                            "forbids at byte %zu",
                            what, bad);
    return 0;
}

static int check_name(const char *what, const char *name)
{
    if (!name)
        return xmppc__error(XMPPC_EINVAL, "%s is NULL", what);
    if (!xmppc__xml_ncname_ok(name, strlen(name)))
        return xmppc__error(XMPPC_EINVAL, "%s '%.64s' is not an XML name", what,
                            name);
    return 0;
}

/* Checks a namespace URI; the xml namespace may qualify attributes
 * (xml:lang) but never elements, the xmlns namespace neither. */
static int check_ns(const char *ns, bool for_element)
{
    int rc = check_text("namespace", ns);
    if (rc < 0)
        return rc;
    if (!*ns)
        return xmppc__error(XMPPC_EINVAL, "namespace is empty");
    if (strcmp(ns, "http://www.w3.org/2000/xmlns/") == 0)
        return xmppc__error(XMPPC_EINVAL,
                            "the xmlns namespace cannot be used directly");
    if (for_element && strcmp(ns, XMPPC_NS_XML) == 0)
        return xmppc__error(XMPPC_EINVAL,
                            "the xml namespace cannot be an element's "
                            "namespace");
    return 0;
}

XMPPC_API int xmppc_stanza_new(xmppc_stanza **out, const char *name,
                               const char *ns)
{
    int rc;
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_stanza_new: out is NULL");
    if ((rc = check_name("element name", name)) < 0 ||
        (ns && (rc = check_ns(ns, true)) < 0))
        return rc;
    xmppc_stanza *el =
        xmppc__element_new(name, strlen(name), ns, ns ? strlen(ns) : 0);
    if (!el)
        return XMPPC_ENOMEM;
    *out = el;
    return 0;
}

XMPPC_API int xmppc_stanza_new_text(xmppc_stanza **out, const char *text)
{
    int rc;
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_stanza_new_text: out is NULL");
    if ((rc = check_text("text", text)) < 0)
        return rc;
    if (!*text)
        return xmppc__error(XMPPC_EINVAL, "a text node cannot be empty");
    xmppc_stanza *tx = xmppc__text_new(text, strlen(text));
    if (!tx)
        return XMPPC_ENOMEM;
    *out = tx;
    return 0;
}

/* ---- reference counting --------------------------------------------------
 */

XMPPC_API xmppc_stanza *xmppc_stanza_ref(xmppc_stanza *stanza)
{
    if (stanza)
        stanza->refs++;
    return stanza;
}

static void free_attrs(xmppc_stanza *el)
{
    for (size_t i = 0; i < el->u.el.nattrs; i++)
        xmppc_free(el->u.el.attrs[i].block);
    xmppc_free(el->u.el.attrs);
}

/* Frees a list of unreferenced nodes linked through their parent field;
 * children whose last reference goes join the list, so depth costs no
 * stack. */
static void destroy_list(xmppc_stanza *head)
{
    while (head) {
        xmppc_stanza *node = head;
        head = node->parent;
        if (node->kind == NODE_ELEMENT) {
            for (size_t i = 0; i < node->u.el.nchildren; i++) {
                xmppc_stanza *child = node->u.el.children[i];
                child->parent = NULL;
                if (--child->refs == 0) {
                    child->parent = head;
                    head = child;
                }
            }
            xmppc_free(node->u.el.children);
            free_attrs(node);
            xmppc_free(node->u.el.text_cache);
        }
        xmppc_free(node);
    }
}

XMPPC_API xmppc_stanza *xmppc_stanza_unref(xmppc_stanza *stanza)
{
    if (stanza && --stanza->refs == 0) {
        stanza->parent = NULL; /* attached nodes always hold a parent ref */
        destroy_list(stanza);
    }
    return NULL;
}

/* ---- inspecting ---------------------------------------------------------- */

static bool is_element(const xmppc_stanza *s)
{
    return s && s->kind == NODE_ELEMENT;
}

XMPPC_API int xmppc_stanza_is_text(const xmppc_stanza *stanza)
{
    return stanza && stanza->kind == NODE_TEXT;
}

XMPPC_API const char *xmppc_stanza_get_name(const xmppc_stanza *stanza)
{
    return is_element(stanza) ? stanza->u.el.name : NULL;
}

XMPPC_API const char *xmppc_stanza_get_ns(const xmppc_stanza *stanza)
{
    if (!is_element(stanza))
        return NULL;
    for (const xmppc_stanza *s = stanza; s; s = s->parent)
        if (s->u.el.ns)
            return s->u.el.ns;
    return XMPPC_NS_CLIENT;
}

XMPPC_API xmppc_stanza *xmppc_stanza_get_parent(const xmppc_stanza *stanza)
{
    return stanza ? stanza->parent : NULL;
}

static void invalidate_text(xmppc_stanza *el)
{
    xmppc_free(el->u.el.text_cache);
    el->u.el.text_cache = NULL;
}

XMPPC_API const char *xmppc_stanza_get_text(const xmppc_stanza *stanza)
{
    if (!stanza)
        return NULL;
    if (stanza->kind == NODE_TEXT)
        return stanza->u.tx.text;
    if (stanza->u.el.text_cache)
        return stanza->u.el.text_cache;

    const xmppc_stanza *only = NULL;
    size_t runs = 0, total = 0;
    for (size_t i = 0; i < stanza->u.el.nchildren; i++) {
        const xmppc_stanza *c = stanza->u.el.children[i];
        if (c->kind == NODE_TEXT) {
            only = c;
            runs++;
            total += c->u.tx.len;
        }
    }
    if (runs <= 1)
        return only ? only->u.tx.text : NULL;
    /* Several runs (mixed content, or text added in pieces): join them
     * once and keep the result until the children change. */
    char *joined = xmppc__malloc(total + 1);
    if (!joined)
        return NULL;
    char *p = joined;
    for (size_t i = 0; i < stanza->u.el.nchildren; i++) {
        const xmppc_stanza *c = stanza->u.el.children[i];
        if (c->kind == NODE_TEXT) {
            memcpy(p, c->u.tx.text, c->u.tx.len);
            p += c->u.tx.len;
        }
    }
    *p = '\0';
    ((xmppc_stanza *)stanza)->u.el.text_cache = joined;
    return joined;
}

/* ---- attributes ---------------------------------------------------------- */

static struct attr *find_attr(const xmppc_stanza *el, const char *ns,
                              const char *name)
{
    for (size_t i = 0; i < el->u.el.nattrs; i++) {
        struct attr *a = &el->u.el.attrs[i];
        if (strcmp(a->name, name) == 0 && str_eq(a->ns, ns))
            return a;
    }
    return NULL;
}

static int grow_attrs(xmppc_stanza *el, size_t want)
{
    if (want <= el->u.el.attrs_cap)
        return 0;
    size_t cap = el->u.el.attrs_cap ? el->u.el.attrs_cap * 2 : 4;
    if (cap < want)
        cap = want;
    struct attr *p = xmppc__reallocarray(el->u.el.attrs, cap, sizeof *p);
    if (!p)
        return XMPPC_ENOMEM;
    el->u.el.attrs = p;
    el->u.el.attrs_cap = cap;
    return 0;
}

int xmppc__element_reserve_attrs(xmppc_stanza *el, size_t count)
{
    return grow_attrs(el, el->u.el.nattrs + count);
}

/* Fills @p a with one block holding name, value and a non-interned ns. */
static int make_attr(struct attr *a, const char *ns, size_t ns_len,
                     const char *name, size_t name_len, const char *value,
                     size_t value_len)
{
    const char *interned = ns ? xmppc__ns_intern(ns, ns_len) : NULL;
    size_t extra_ns = ns && !interned ? ns_len + 1 : 0;
    char *block = xmppc__malloc(name_len + 1 + value_len + 1 + extra_ns);
    if (!block)
        return XMPPC_ENOMEM;
    memcpy(block, name, name_len);
    block[name_len] = '\0';
    char *v = block + name_len + 1;
    memcpy(v, value, value_len);
    v[value_len] = '\0';
    a->ns = interned;
    if (extra_ns) {
        char *n = v + value_len + 1;
        memcpy(n, ns, ns_len);
        n[ns_len] = '\0';
        a->ns = n;
    }
    a->name = block;
    a->value = v;
    a->value_len = value_len;
    a->block = block;
    return 0;
}

int xmppc__element_append_attr(xmppc_stanza *el, const char *ns, size_t ns_len,
                               const char *name, size_t name_len,
                               const char *value, size_t value_len)
{
    if (grow_attrs(el, el->u.el.nattrs + 1) < 0)
        return XMPPC_ENOMEM;
    int rc = make_attr(&el->u.el.attrs[el->u.el.nattrs], ns, ns_len, name,
                       name_len, value, value_len);
    if (rc == 0)
        el->u.el.nattrs++;
    return rc;
}

static void remove_attr_at(xmppc_stanza *el, size_t i)
{
    xmppc_free(el->u.el.attrs[i].block);
    memmove(&el->u.el.attrs[i], &el->u.el.attrs[i + 1],
            (el->u.el.nattrs - i - 1) * sizeof el->u.el.attrs[0]);
    el->u.el.nattrs--;
}

/* Splits "xml:lang" into the XML namespace and "lang"; refuses other
 * prefixes and namespace declarations. */
static int split_attr_name(const char *name, const char **ns,
                           const char **local)
{
    if (!name)
        return xmppc__error(XMPPC_EINVAL, "attribute name is NULL");
    if (strncmp(name, "xml:", 4) == 0) {
        *ns = XMPPC_NS_XML;
        *local = name + 4;
    } else if (strchr(name, ':')) {
        return xmppc__error(XMPPC_EINVAL,
                            "attribute '%.64s': use xmppc_stanza_set_attr_ns "
                            "for a namespaced attribute",
                            name);
    } else {
        *ns = NULL;
        *local = name;
    }
    return 0;
}

XMPPC_API int xmppc_stanza_set_attr_ns(xmppc_stanza *stanza, const char *ns,
                                       const char *name, const char *value)
{
    int rc;
    if (!is_element(stanza))
        return xmppc__error(XMPPC_EINVAL,
                            "attributes can only be set on elements");
    if (ns && !*ns)
        ns = NULL;
    if ((rc = check_name("attribute name", name)) < 0 ||
        (ns && (rc = check_ns(ns, false)) < 0))
        return rc;
    if (!ns && strcmp(name, "xmlns") == 0)
        return xmppc__error(XMPPC_EINVAL,
                            "namespace declarations are written by the "
                            "serializer; give the namespace when creating "
                            "the element");
    struct attr *old = find_attr(stanza, ns, name);
    if (!value) {
        if (old)
            remove_attr_at(stanza, (size_t)(old - stanza->u.el.attrs));
        return 0;
    }
    if ((rc = check_text("attribute value", value)) < 0)
        return rc;
    struct attr fresh;
    rc = make_attr(&fresh, ns, ns ? strlen(ns) : 0, name, strlen(name), value,
                   strlen(value));
    if (rc < 0)
        return rc;
    if (old) {
        xmppc_free(old->block);
        *old = fresh;
        return 0;
    }
    if (grow_attrs(stanza, stanza->u.el.nattrs + 1) < 0) {
        xmppc_free(fresh.block);
        return XMPPC_ENOMEM;
    }
    stanza->u.el.attrs[stanza->u.el.nattrs++] = fresh;
    return 0;
}

XMPPC_API int xmppc_stanza_set_attr(xmppc_stanza *stanza, const char *name,
                                    const char *value)
{
    const char *ns = NULL, *local = NULL;
    int rc = split_attr_name(name, &ns, &local);
    return rc < 0 ? rc : xmppc_stanza_set_attr_ns(stanza, ns, local, value);
}

XMPPC_API const char *xmppc_stanza_get_attr_ns(const xmppc_stanza *stanza,
                                               const char *ns, const char *name)
{
    if (!is_element(stanza) || !name)
        return NULL;
    if (ns && !*ns)
        ns = NULL;
    const struct attr *a = find_attr(stanza, ns, name);
    return a ? a->value : NULL;
}

XMPPC_API const char *xmppc_stanza_get_attr(const xmppc_stanza *stanza,
                                            const char *name)
{
    if (!is_element(stanza) || !name)
        return NULL;
    if (strncmp(name, "xml:", 4) == 0)
        return xmppc_stanza_get_attr_ns(stanza, XMPPC_NS_XML, name + 4);
    const struct attr *a = find_attr(stanza, NULL, name);
    return a ? a->value : NULL;
}

XMPPC_API size_t xmppc_stanza_attr_count(const xmppc_stanza *stanza)
{
    return is_element(stanza) ? stanza->u.el.nattrs : 0;
}

XMPPC_API int xmppc_stanza_attr_at(const xmppc_stanza *stanza, size_t index,
                                   const char **ns_out, const char **name_out,
                                   const char **value_out)
{
    if (!is_element(stanza) || index >= stanza->u.el.nattrs)
        return xmppc__error(XMPPC_EINVAL, "attribute index %zu out of range",
                            index);
    const struct attr *a = &stanza->u.el.attrs[index];
    if (ns_out)
        *ns_out = a->ns;
    if (name_out)
        *name_out = a->name;
    if (value_out)
        *value_out = a->value;
    return 0;
}

/* ---- children ------------------------------------------------------------ */

int xmppc__element_append_child(xmppc_stanza *parent, xmppc_stanza *child)
{
    if (parent->u.el.nchildren == parent->u.el.children_cap) {
        size_t cap =
            parent->u.el.children_cap ? parent->u.el.children_cap * 2 : 4;
        xmppc_stanza **p =
            xmppc__reallocarray(parent->u.el.children, cap, sizeof *p);
        if (!p)
            return XMPPC_ENOMEM;
        parent->u.el.children = p;
        parent->u.el.children_cap = cap;
    }
    parent->u.el.children[parent->u.el.nchildren++] = child;
    child->parent = parent;
    if (child->kind == NODE_TEXT && parent->u.el.text_cache)
        invalidate_text(parent);
    return 0;
}

XMPPC_API int xmppc_stanza_add_child(xmppc_stanza *parent, xmppc_stanza *child)
{
    if (!is_element(parent) || !child)
        return xmppc__error(XMPPC_EINVAL,
                            "add_child needs an element parent and a child");
    if (child->parent)
        return xmppc__error(XMPPC_EINVAL,
                            "the child already has a parent; remove or copy "
                            "it first");
    for (const xmppc_stanza *s = parent; s; s = s->parent)
        if (s == child)
            return xmppc__error(XMPPC_EINVAL,
                                "a node cannot become its own descendant");
    int rc = xmppc__element_append_child(parent, child);
    if (rc == 0)
        child->refs++;
    return rc;
}

XMPPC_API int xmppc_stanza_add_text(xmppc_stanza *parent, const char *text)
{
    int rc;
    if (!is_element(parent))
        return xmppc__error(XMPPC_EINVAL, "text can only be added to elements");
    if ((rc = check_text("text", text)) < 0)
        return rc;
    if (!*text)
        return 0;
    xmppc_stanza *tx = xmppc__text_new(text, strlen(text));
    if (!tx)
        return XMPPC_ENOMEM;
    if ((rc = xmppc__element_append_child(parent, tx)) < 0)
        xmppc_stanza_unref(tx);
    return rc;
}

/* Builds <name xmlns=ns>text</name> without attaching it. */
static int new_text_child(xmppc_stanza **out, const char *name, const char *ns,
                          const char *text)
{
    xmppc_stanza *el = NULL;
    int rc = xmppc_stanza_new(&el, name, ns);
    if (rc == 0 && text)
        rc = xmppc_stanza_add_text(el, text);
    if (rc < 0) {
        xmppc_stanza_unref(el);
        return rc;
    }
    *out = el;
    return 0;
}

XMPPC_API int xmppc_stanza_add_text_child(xmppc_stanza *parent,
                                          const char *name, const char *ns,
                                          const char *text)
{
    if (!is_element(parent))
        return xmppc__error(XMPPC_EINVAL,
                            "children can only be added to elements");
    xmppc_stanza *child;
    int rc = new_text_child(&child, name, ns, text);
    if (rc < 0)
        return rc;
    if ((rc = xmppc__element_append_child(parent, child)) < 0)
        xmppc_stanza_unref(child);
    return rc;
}

/* Detaches children[i] and drops the parent's reference. */
static void remove_child_at(xmppc_stanza *parent, size_t i)
{
    xmppc_stanza *child = parent->u.el.children[i];
    memmove(&parent->u.el.children[i], &parent->u.el.children[i + 1],
            (parent->u.el.nchildren - i - 1) * sizeof child);
    parent->u.el.nchildren--;
    if (child->kind == NODE_TEXT)
        invalidate_text(parent);
    child->parent = NULL;
    xmppc_stanza_unref(child);
}

XMPPC_API int xmppc_stanza_remove_child(xmppc_stanza *parent,
                                        xmppc_stanza *child)
{
    if (is_element(parent) && child && child->parent == parent)
        for (size_t i = 0; i < parent->u.el.nchildren; i++)
            if (parent->u.el.children[i] == child) {
                remove_child_at(parent, i);
                return 0;
            }
    return xmppc__error(XMPPC_EINVAL, "not a child of this element");
}

XMPPC_API int xmppc_stanza_set_text(xmppc_stanza *stanza, const char *text)
{
    int rc;
    if (!is_element(stanza))
        return xmppc__error(XMPPC_EINVAL, "set_text needs an element");
    xmppc_stanza *tx = NULL;
    if (text && *text) {
        if ((rc = check_text("text", text)) < 0)
            return rc;
        if (!(tx = xmppc__text_new(text, strlen(text))))
            return XMPPC_ENOMEM;
    } else if (text && (rc = check_text("text", text)) < 0) {
        return rc;
    }
    /* Make room first so that nothing is removed when appending fails. */
    if (tx && stanza->u.el.nchildren == stanza->u.el.children_cap) {
        if ((rc = xmppc__element_append_child(stanza, tx)) < 0) {
            xmppc_stanza_unref(tx);
            return rc;
        }
        stanza->u.el.nchildren--; /* re-appended below, after removals */
        tx->parent = NULL;
    }
    for (size_t i = stanza->u.el.nchildren; i-- > 0;)
        if (stanza->u.el.children[i]->kind == NODE_TEXT)
            remove_child_at(stanza, i);
    if (tx)
        xmppc__element_append_child(stanza, tx); /* room reserved */
    return 0;
}

XMPPC_API size_t xmppc_stanza_child_count(const xmppc_stanza *stanza)
{
    return is_element(stanza) ? stanza->u.el.nchildren : 0;
}

XMPPC_API xmppc_stanza *xmppc_stanza_child_at(const xmppc_stanza *stanza,
                                              size_t index)
{
    if (!is_element(stanza) || index >= stanza->u.el.nchildren)
        return NULL;
    return stanza->u.el.children[index];
}

/* First matching element child at or after index @p from. */
static xmppc_stanza *find_child(const xmppc_stanza *stanza, size_t from,
                                const char *name, const char *ns)
{
    if (!is_element(stanza))
        return NULL;
    for (size_t i = from; i < stanza->u.el.nchildren; i++) {
        xmppc_stanza *c = stanza->u.el.children[i];
        if (c->kind != NODE_ELEMENT)
            continue;
        if (name && strcmp(c->u.el.name, name) != 0)
            continue;
        if (ns && !str_eq(xmppc_stanza_get_ns(c), ns))
            continue;
        return c;
    }
    return NULL;
}

XMPPC_API xmppc_stanza *xmppc_stanza_get_child(const xmppc_stanza *stanza,
                                               const char *name, const char *ns)
{
    return find_child(stanza, 0, name, ns);
}

XMPPC_API xmppc_stanza *xmppc_stanza_get_next_child(const xmppc_stanza *stanza,
                                                    const xmppc_stanza *prev,
                                                    const char *name,
                                                    const char *ns)
{
    if (!is_element(stanza) || !prev || prev->parent != stanza)
        return NULL;
    for (size_t i = 0; i < stanza->u.el.nchildren; i++)
        if (stanza->u.el.children[i] == prev)
            return find_child(stanza, i + 1, name, ns);
    return NULL;
}

XMPPC_API const char *xmppc_stanza_get_child_text(const xmppc_stanza *stanza,
                                                  const char *name,
                                                  const char *ns)
{
    return xmppc_stanza_get_text(find_child(stanza, 0, name, ns));
}

/* ---- copy and equality --------------------------------------------------- */

/* @p depth is the element level: 1 for the root; text is not a level. */
static int copy_node(xmppc_stanza **out, const xmppc_stanza *src,
                     const char *ns_override, unsigned depth)
{
    if (src->kind == NODE_ELEMENT && depth > XMPPC_STANZA_MAX_DEPTH)
        return xmppc__error(XMPPC_ELIMIT, "stanza nested deeper than %d levels",
                            XMPPC_STANZA_MAX_DEPTH);
    if (src->kind == NODE_TEXT) {
        *out = xmppc__text_new(src->u.tx.text, src->u.tx.len);
        return *out ? 0 : XMPPC_ENOMEM;
    }
    const char *ns = ns_override ? ns_override : src->u.el.ns;
    xmppc_stanza *el = xmppc__element_new(
        src->u.el.name, strlen(src->u.el.name), ns, ns ? strlen(ns) : 0);
    if (!el)
        return XMPPC_ENOMEM;
    int rc = xmppc__element_reserve_attrs(el, src->u.el.nattrs);
    for (size_t i = 0; rc == 0 && i < src->u.el.nattrs; i++) {
        const struct attr *a = &src->u.el.attrs[i];
        rc = xmppc__element_append_attr(el, a->ns, a->ns ? strlen(a->ns) : 0,
                                        a->name, strlen(a->name), a->value,
                                        a->value_len);
    }
    for (size_t i = 0; rc == 0 && i < src->u.el.nchildren; i++) {
        xmppc_stanza *child;
        rc = copy_node(&child, src->u.el.children[i], NULL, depth + 1);
        if (rc == 0 && (rc = xmppc__element_append_child(el, child)) < 0)
            xmppc_stanza_unref(child);
    }
    if (rc < 0) {
        xmppc_stanza_unref(el);
        return rc;
    }
    *out = el;
    return 0;
}

XMPPC_API int xmppc_stanza_copy(xmppc_stanza **out, const xmppc_stanza *src)
{
    if (!out || !src)
        return xmppc__error(XMPPC_EINVAL, "xmppc_stanza_copy: NULL argument");
    /* The copy is detached: write the inherited namespace in. */
    return copy_node(
        out, src, src->kind == NODE_ELEMENT ? xmppc_stanza_get_ns(src) : NULL,
        1);
}

/* Compares the text runs starting at children a[*i] and b[*j] as if each
 * run were one string, and moves both indices past their runs. */
static bool text_runs_equal(const xmppc_stanza *a, size_t *i,
                            const xmppc_stanza *b, size_t *j)
{
    xmppc_stanza *const *ca = a->u.el.children, *const *cb = b->u.el.children;
    size_t na = a->u.el.nchildren, nb = b->u.el.nchildren;
    size_t oa = 0, ob = 0; /* offsets inside the current text nodes */
    for (;;) {
        bool a_text = *i < na && ca[*i]->kind == NODE_TEXT;
        bool b_text = *j < nb && cb[*j]->kind == NODE_TEXT;
        if (!a_text || !b_text)
            return !a_text && !b_text;
        size_t la = ca[*i]->u.tx.len - oa, lb = cb[*j]->u.tx.len - ob;
        size_t n = la < lb ? la : lb;
        if (memcmp(ca[*i]->u.tx.text + oa, cb[*j]->u.tx.text + ob, n) != 0)
            return false;
        oa += n, ob += n;
        if (oa == ca[*i]->u.tx.len)
            (*i)++, oa = 0;
        if (ob == cb[*j]->u.tx.len)
            (*j)++, ob = 0;
    }
}

static bool nodes_equal(const xmppc_stanza *a, const char *ns_a,
                        const xmppc_stanza *b, const char *ns_b, unsigned depth)
{
    if (a->kind != b->kind ||
        (a->kind == NODE_ELEMENT && depth > XMPPC_STANZA_MAX_DEPTH))
        return false;
    if (a->kind == NODE_TEXT)
        return a->u.tx.len == b->u.tx.len &&
               memcmp(a->u.tx.text, b->u.tx.text, a->u.tx.len) == 0;
    if (strcmp(a->u.el.name, b->u.el.name) != 0 || !str_eq(ns_a, ns_b) ||
        a->u.el.nattrs != b->u.el.nattrs)
        return false;
    for (size_t k = 0; k < a->u.el.nattrs; k++) {
        const struct attr *x = &a->u.el.attrs[k];
        const struct attr *y = find_attr(b, x->ns, x->name);
        if (!y || x->value_len != y->value_len ||
            memcmp(x->value, y->value, x->value_len) != 0)
            return false;
    }
    size_t i = 0, j = 0;
    while (i < a->u.el.nchildren || j < b->u.el.nchildren) {
        if (i == a->u.el.nchildren || j == b->u.el.nchildren)
            return false;
        const xmppc_stanza *x = a->u.el.children[i], *y = b->u.el.children[j];
        if (x->kind == NODE_TEXT || y->kind == NODE_TEXT) {
            if (!text_runs_equal(a, &i, b, &j))
                return false;
            continue;
        }
        if (!nodes_equal(x, x->u.el.ns ? x->u.el.ns : ns_a, y,
                         y->u.el.ns ? y->u.el.ns : ns_b, depth + 1))
            return false;
        i++, j++;
    }
    return true;
}

XMPPC_API int xmppc_stanza_equal(const xmppc_stanza *a, const xmppc_stanza *b)
{
    if (!a || !b)
        return a == b;
    return nodes_equal(a, xmppc_stanza_get_ns(a), b, xmppc_stanza_get_ns(b), 1);
}

/* ---- serialization ------------------------------------------------------- */

/* Appends s[0..len) replacing the characters that need it; @p attr adds
 * the quote characters and whitespace that attribute normalisation would
 * otherwise change. */
static int escape(xmppc__buf *buf, const char *s, size_t len, bool attr)
{
    size_t start = 0;
    if (xmppc__buf_reserve(buf, len) < 0)
        return XMPPC_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        case '"':
            rep = attr ? "&quot;" : NULL;
            break;
        case '\'':
            rep = attr ? "&apos;" : NULL;
            break;
        case '\t':
            rep = attr ? "&#9;" : NULL;
            break;
        case '\n':
            rep = attr ? "&#10;" : NULL;
            break;
        default:
            rep = NULL;
        }
        if (!rep)
            continue;
        if (xmppc__buf_append(buf, s + start, i - start) < 0 ||
            xmppc__buf_append_str(buf, rep) < 0)
            return XMPPC_ENOMEM;
        start = i + 1;
    }
    return xmppc__buf_append(buf, s + start, len - start);
}

int xmppc__escape_text(xmppc__buf *buf, const char *s, size_t len)
{
    return escape(buf, s, len, false);
}

int xmppc__escape_attr(xmppc__buf *buf, const char *s, size_t len)
{
    return escape(buf, s, len, true);
}

#define APPEND_LIT(b, lit) xmppc__buf_append((b), (lit), sizeof(lit) - 1)

static int append_attr(xmppc__buf *buf, const char *prefix, const char *name,
                       const char *value, size_t value_len)
{
    if (APPEND_LIT(buf, " ") < 0 ||
        (prefix && (xmppc__buf_append_str(buf, prefix) < 0 ||
                    APPEND_LIT(buf, ":") < 0)) ||
        xmppc__buf_append_str(buf, name) < 0 || APPEND_LIT(buf, "='") < 0 ||
        xmppc__escape_attr(buf, value, value_len) < 0 ||
        APPEND_LIT(buf, "'") < 0)
        return XMPPC_ENOMEM;
    return 0;
}

/* Attributes in namespaces other than xml: get a prefix "nsK" declared
 * on their element, K being the index of the first attribute using it. */
static int serialize_attrs(xmppc__buf *buf, const xmppc_stanza *el)
{
    for (size_t i = 0; i < el->u.el.nattrs; i++) {
        const struct attr *a = &el->u.el.attrs[i];
        char prefix[24];
        if (!a->ns) {
            if (append_attr(buf, NULL, a->name, a->value, a->value_len) < 0)
                return XMPPC_ENOMEM;
            continue;
        }
        if (str_eq(a->ns, XMPPC_NS_XML)) {
            if (append_attr(buf, "xml", a->name, a->value, a->value_len) < 0)
                return XMPPC_ENOMEM;
            continue;
        }
        size_t first = i;
        for (size_t k = 0; k < i; k++)
            if (str_eq(el->u.el.attrs[k].ns, a->ns)) {
                first = k;
                break;
            }
        snprintf(prefix, sizeof prefix, "ns%zu", first);
        if (first == i && /* declares the prefix: xmlns:nsK='uri' */
            append_attr(buf, "xmlns", prefix, a->ns, strlen(a->ns)) < 0)
            return XMPPC_ENOMEM;
        if (append_attr(buf, prefix, a->name, a->value, a->value_len) < 0)
            return XMPPC_ENOMEM;
    }
    return 0;
}

static int serialize_node(xmppc__buf *buf, const xmppc_stanza *node,
                          const char *ns, const char *context_ns,
                          unsigned depth)
{
    if (node->kind == NODE_ELEMENT && depth > XMPPC_STANZA_MAX_DEPTH)
        return xmppc__error(XMPPC_ELIMIT, "stanza nested deeper than %d levels",
                            XMPPC_STANZA_MAX_DEPTH);
    if (node->kind == NODE_TEXT)
        return xmppc__escape_text(buf, node->u.tx.text, node->u.tx.len);

    const char *name = node->u.el.name;
    if (APPEND_LIT(buf, "<") < 0 || xmppc__buf_append_str(buf, name) < 0)
        return XMPPC_ENOMEM;
    if (!str_eq(ns, context_ns) &&
        (APPEND_LIT(buf, " xmlns='") < 0 ||
         xmppc__escape_attr(buf, ns, strlen(ns)) < 0 ||
         APPEND_LIT(buf, "'") < 0))
        return XMPPC_ENOMEM;
    if (serialize_attrs(buf, node) < 0)
        return XMPPC_ENOMEM;
    if (node->u.el.nchildren == 0)
        return APPEND_LIT(buf, "/>");
    if (APPEND_LIT(buf, ">") < 0)
        return XMPPC_ENOMEM;
    for (size_t i = 0; i < node->u.el.nchildren; i++) {
        const xmppc_stanza *c = node->u.el.children[i];
        const char *child_ns =
            c->kind == NODE_ELEMENT && c->u.el.ns ? c->u.el.ns : ns;
        int rc = serialize_node(buf, c, child_ns, ns, depth + 1);
        if (rc < 0)
            return rc;
    }
    if (APPEND_LIT(buf, "</") < 0 || xmppc__buf_append_str(buf, name) < 0 ||
        APPEND_LIT(buf, ">") < 0)
        return XMPPC_ENOMEM;
    return 0;
}

int xmppc__stanza_serialize(xmppc__buf *buf, const xmppc_stanza *stanza,
                            const char *context_ns)
{
    size_t mark = buf->len;
    int rc =
        serialize_node(buf, stanza, xmppc_stanza_get_ns(stanza), context_ns, 1);
    if (rc < 0)
        xmppc__buf_truncate(buf, mark);
    return rc;
}

XMPPC_API int xmppc_stanza_to_string(char **out, size_t *len_out,
                                     const xmppc_stanza *stanza)
{
    if (!out || !stanza)
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_stanza_to_string: NULL argument");
    xmppc__buf buf = XMPPC__BUF_INIT;
    int rc = xmppc__stanza_serialize(&buf, stanza, XMPPC_NS_CLIENT);
    if (rc == 0 && !(*out = xmppc__buf_steal(&buf, len_out)))
        rc = XMPPC_ENOMEM;
    xmppc__buf_free(&buf);
    return rc;
}

/* ---- to, from, id, type -------------------------------------------------- */

XMPPC_API const char *xmppc_stanza_get_to(const xmppc_stanza *stanza)
{
    return xmppc_stanza_get_attr(stanza, "to");
}

XMPPC_API const char *xmppc_stanza_get_from(const xmppc_stanza *stanza)
{
    return xmppc_stanza_get_attr(stanza, "from");
}

XMPPC_API const char *xmppc_stanza_get_id(const xmppc_stanza *stanza)
{
    return xmppc_stanza_get_attr(stanza, "id");
}

XMPPC_API const char *xmppc_stanza_get_type(const xmppc_stanza *stanza)
{
    return xmppc_stanza_get_attr(stanza, "type");
}

/* Stores the prepared form of @p jid, so that comparisons with what the
 * server sends back work on equal strings. */
static int set_address(xmppc_stanza *stanza, const char *attr, const char *jid)
{
    if (!is_element(stanza))
        return xmppc__error(XMPPC_EINVAL, "%s: not an element", attr);
    if (!jid)
        return xmppc_stanza_set_attr_ns(stanza, NULL, attr, NULL);
    char *prepared = NULL;
    int rc = xmppc_jid_prep(&prepared, jid);
    if (rc == 0)
        rc = xmppc_stanza_set_attr_ns(stanza, NULL, attr, prepared);
    xmppc_free(prepared);
    return rc;
}

XMPPC_API int xmppc_stanza_set_to(xmppc_stanza *stanza, const char *jid)
{
    return set_address(stanza, "to", jid);
}

XMPPC_API int xmppc_stanza_set_from(xmppc_stanza *stanza, const char *jid)
{
    return set_address(stanza, "from", jid);
}

XMPPC_API int xmppc_stanza_set_id(xmppc_stanza *stanza, const char *id)
{
    return xmppc_stanza_set_attr_ns(stanza, NULL, "id", id);
}

XMPPC_API int xmppc_stanza_set_type(xmppc_stanza *stanza, const char *type)
{
    return xmppc_stanza_set_attr_ns(stanza, NULL, "type", type);
}

#define ID_RANDOM_BYTES 12 /* 96 bits -> 16 base64url characters */

static void random_id(char out[ID_RANDOM_BYTES / 3 * 4 + 1],
                      const unsigned char *rnd)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *p = out;
    for (size_t i = 0; i < ID_RANDOM_BYTES; i += 3) {
        uint32_t v =
            (uint32_t)rnd[i] << 16 | (uint32_t)rnd[i + 1] << 8 | rnd[i + 2];
        *p++ = alphabet[(v >> 18) & 63];
        *p++ = alphabet[(v >> 12) & 63];
        *p++ = alphabet[(v >> 6) & 63];
        *p++ = alphabet[v & 63];
    }
    *p = '\0';
}

static int generate_id(char out[ID_RANDOM_BYTES / 3 * 4 + 1])
{
    unsigned char rnd[ID_RANDOM_BYTES];
    if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof rnd) < 0)
        return xmppc__error(XMPPC_ERROR, "random generator failed");
    random_id(out, rnd);
    return 0;
}

XMPPC_API int xmppc_stanza_new_id(char **out)
{
    char id[ID_RANDOM_BYTES / 3 * 4 + 1];
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_stanza_new_id: out is NULL");
    int rc = generate_id(id);
    if (rc < 0)
        return rc;
    return (*out = xmppc__strdup(id)) ? 0 : XMPPC_ENOMEM;
}

XMPPC_API int xmppc_stanza_set_new_id(xmppc_stanza *stanza)
{
    char id[ID_RANDOM_BYTES / 3 * 4 + 1];
    int rc = generate_id(id);
    return rc < 0 ? rc : xmppc_stanza_set_id(stanza, id);
}

/* ---- message, presence, iq ---------------------------------------------- */

static int new_stanza(xmppc_stanza **out, const char *name, const char *type,
                      const char *to)
{
    xmppc_stanza *s = NULL;
    int rc;
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "%s: out is NULL", name);
    if ((rc = xmppc_stanza_new(&s, name, NULL)) < 0 ||
        (type && (rc = xmppc_stanza_set_type(s, type)) < 0) ||
        (to && (rc = xmppc_stanza_set_to(s, to)) < 0)) {
        xmppc_stanza_unref(s);
        return rc;
    }
    *out = s;
    return 0;
}

XMPPC_API int xmppc_message_new(xmppc_stanza **out, const char *type,
                                const char *to, const char *body)
{
    xmppc_stanza *msg;
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "message: out is NULL");
    int rc = new_stanza(&msg, "message", type, to);
    if (rc == 0 && body && (rc = xmppc_message_set_body(msg, body)) < 0)
        msg = xmppc_stanza_unref(msg);
    if (rc == 0)
        *out = msg;
    return rc;
}

XMPPC_API int xmppc_presence_new(xmppc_stanza **out, const char *type,
                                 const char *to)
{
    return new_stanza(out, "presence", type, to);
}

XMPPC_API int xmppc_iq_new(xmppc_stanza **out, const char *type, const char *to,
                           const char *id)
{
    xmppc_stanza *iq;
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "iq: out is NULL");
    if (!type)
        return xmppc__error(XMPPC_EINVAL, "an iq needs a type");
    int rc = new_stanza(&iq, "iq", type, to);
    if (rc == 0 && (rc = id ? xmppc_stanza_set_id(iq, id)
                            : xmppc_stanza_set_new_id(iq)) < 0)
        iq = xmppc_stanza_unref(iq);
    if (rc == 0)
        *out = iq;
    return rc;
}

XMPPC_API const char *xmppc_message_get_body(const xmppc_stanza *message)
{
    const char *ns = xmppc_stanza_get_ns(message);
    xmppc_stanza *first = find_child(message, 0, "body", ns);
    for (xmppc_stanza *b = first; b;
         b = xmppc_stanza_get_next_child(message, b, "body", ns))
        if (!xmppc_stanza_get_attr_ns(b, XMPPC_NS_XML, "lang"))
            return xmppc_stanza_get_text(b);
    return xmppc_stanza_get_text(first);
}

XMPPC_API const char *xmppc_message_get_subject(const xmppc_stanza *message)
{
    return xmppc_stanza_get_child_text(message, "subject",
                                       xmppc_stanza_get_ns(message));
}

XMPPC_API const char *xmppc_message_get_thread(const xmppc_stanza *message)
{
    return xmppc_stanza_get_child_text(message, "thread",
                                       xmppc_stanza_get_ns(message));
}

/* Replaces every <name/> child of the message with one holding @p text
 * (none when NULL); the message is unchanged on failure. */
static int replace_text_child(xmppc_stanza *message, const char *name,
                              const char *text)
{
    if (!is_element(message))
        return xmppc__error(XMPPC_EINVAL, "%s: not an element", name);
    xmppc_stanza *fresh = NULL;
    int rc;
    if (text && (rc = new_text_child(&fresh, name, NULL, text)) < 0)
        return rc;
    if (fresh && (rc = xmppc__element_append_child(message, fresh)) < 0) {
        xmppc_stanza_unref(fresh);
        return rc;
    }
    const char *ns = xmppc_stanza_get_ns(message);
    for (size_t i = message->u.el.nchildren; i-- > 0;) {
        xmppc_stanza *c = message->u.el.children[i];
        if (c != fresh && c->kind == NODE_ELEMENT &&
            strcmp(c->u.el.name, name) == 0 &&
            str_eq(xmppc_stanza_get_ns(c), ns))
            remove_child_at(message, i);
    }
    return 0;
}

XMPPC_API int xmppc_message_set_body(xmppc_stanza *message, const char *body)
{
    return replace_text_child(message, "body", body);
}

XMPPC_API int xmppc_message_set_subject(xmppc_stanza *message,
                                        const char *subject)
{
    return replace_text_child(message, "subject", subject);
}

XMPPC_API int xmppc_message_set_thread(xmppc_stanza *message,
                                       const char *thread)
{
    return replace_text_child(message, "thread", thread);
}

/* ---- errors and replies ------------------------------------------------- */

XMPPC_API int xmppc_stanza_get_error(const xmppc_stanza *stanza,
                                     const char **condition_out,
                                     const char **type_out,
                                     const char **text_out)
{
    xmppc_stanza *error =
        find_child(stanza, 0, "error", xmppc_stanza_get_ns(stanza));
    if (!error)
        return 0;
    const char *condition = NULL;
    for (size_t i = 0; i < error->u.el.nchildren; i++) {
        const xmppc_stanza *c = error->u.el.children[i];
        if (c->kind == NODE_ELEMENT && strcmp(c->u.el.name, "text") != 0 &&
            str_eq(xmppc_stanza_get_ns(c), XMPPC_NS_STANZAS)) {
            condition = c->u.el.name;
            break;
        }
    }
    if (condition_out)
        *condition_out = condition;
    if (type_out)
        *type_out = xmppc_stanza_get_attr(error, "type");
    if (text_out)
        *text_out =
            xmppc_stanza_get_child_text(error, "text", XMPPC_NS_STANZAS);
    return 1;
}

XMPPC_API int xmppc_stanza_reply(xmppc_stanza **out, const xmppc_stanza *stanza)
{
    if (!out || !is_element(stanza))
        return xmppc__error(XMPPC_EINVAL, "reply: needs an element");
    const char *ns = xmppc_stanza_get_ns(stanza);
    const char *name = stanza->u.el.name;
    xmppc_stanza *reply = xmppc__element_new(
        name, strlen(name), str_eq(ns, XMPPC_NS_CLIENT) ? NULL : ns,
        str_eq(ns, XMPPC_NS_CLIENT) ? 0 : strlen(ns));
    if (!reply)
        return XMPPC_ENOMEM;
    const char *type =
        strcmp(name, "iq") == 0 ? "result" : xmppc_stanza_get_type(stanza);
    const char *from = xmppc_stanza_get_from(stanza);
    const char *id = xmppc_stanza_get_id(stanza);
    int rc = 0;
    if ((from &&
         (rc = xmppc_stanza_set_attr_ns(reply, NULL, "to", from)) < 0) ||
        (id && (rc = xmppc_stanza_set_id(reply, id)) < 0) ||
        (type && (rc = xmppc_stanza_set_type(reply, type)) < 0)) {
        xmppc_stanza_unref(reply);
        return rc;
    }
    *out = reply;
    return 0;
}

XMPPC_API int xmppc_stanza_reply_error(xmppc_stanza **out,
                                       const xmppc_stanza *stanza,
                                       const char *type, const char *condition,
                                       const char *text)
{
    static const char *const types[] = {"auth", "cancel", "continue", "modify",
                                        "wait"};
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "error reply: out is NULL");
    bool type_ok = false;
    for (size_t i = 0; type && i < sizeof types / sizeof types[0]; i++)
        type_ok = type_ok || strcmp(type, types[i]) == 0;
    if (!type_ok)
        return xmppc__error(XMPPC_EINVAL,
                            "error type '%.32s' is not auth, cancel, "
                            "continue, modify or wait",
                            type ? type : "(null)");
    int rc = check_name("error condition", condition);
    if (rc < 0)
        return rc;
    if (text && (rc = check_text("error text", text)) < 0)
        return rc;

    xmppc_stanza *reply = NULL, *error = NULL, *cond = NULL;
    if ((rc = xmppc_stanza_reply(&reply, stanza)) < 0 ||
        (rc = xmppc_stanza_set_type(reply, "error")) < 0 ||
        (rc = xmppc_stanza_new(&error, "error", NULL)) < 0 ||
        (rc = xmppc__element_append_child(reply, error)) < 0)
        goto fail;
    error->refs++; /* the reply holds it now; ours is dropped below */
    if ((rc = xmppc_stanza_set_type(error, type)) < 0 ||
        (rc = xmppc_stanza_new(&cond, condition, XMPPC_NS_STANZAS)) < 0 ||
        (rc = xmppc_stanza_add_child(error, cond)) < 0 ||
        (text && text[0] &&
         (rc = xmppc_stanza_add_text_child(error, "text", XMPPC_NS_STANZAS,
                                           text)) < 0))
        goto fail;
    xmppc_stanza_unref(cond);
    xmppc_stanza_unref(error);
    *out = reply;
    return 0;
fail:
    xmppc_stanza_unref(cond);
    xmppc_stanza_unref(error);
    xmppc_stanza_unref(reply);
    return rc;
}
