/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Service Discovery (XEP-0030, XEP-0128) and Entity Capabilities
 * (XEP-0115), written on the public stanza and connection API only.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "xmppc-private.h"
#include <xmppc/disco.h>
#include <xmppc/presence.h>

/* ---- small helpers ------------------------------------------------------ */

static int streq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static const char *nz(const char *s)
{
    return s ? s : "";
}

static int dup_opt(char **dst, const char *s)
{
    *dst = NULL;
    if (s && !(*dst = xmppc__strdup(s)))
        return XMPPC_ENOMEM;
    return 0;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int err;
} sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->err)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = xmppc__realloc(b->p, cap);
        if (!p) {
            b->err = XMPPC_ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

/* ---- info and items objects --------------------------------------------- */

typedef struct ident {
    char *category, *type, *name, *lang;
} ident;

struct xmppc_disco_info {
    int refs;
    char *node;
    ident *ids;
    size_t nids;
    char **features;
    size_t nfeatures;
    xmppc_form **forms;
    size_t nforms;
};

typedef struct item {
    char *jid, *node, *name;
} item;

struct xmppc_disco_items {
    int refs;
    item *v;
    size_t n;
};

static void ident_free(ident *i)
{
    xmppc_free(i->category);
    xmppc_free(i->type);
    xmppc_free(i->name);
    xmppc_free(i->lang);
}

static int info_new(xmppc_disco_info **out)
{
    *out = xmppc__calloc(1, sizeof **out);
    if (!*out)
        return XMPPC_ENOMEM;
    (*out)->refs = 1;
    return 0;
}

XMPPC_API xmppc_disco_info *xmppc_disco_info_ref(xmppc_disco_info *info)
{
    if (info)
        info->refs++;
    return info;
}

XMPPC_API xmppc_disco_info *xmppc_disco_info_unref(xmppc_disco_info *info)
{
    if (!info || --info->refs > 0)
        return NULL;
    xmppc_free(info->node);
    for (size_t i = 0; i < info->nids; i++)
        ident_free(&info->ids[i]);
    xmppc_free(info->ids);
    for (size_t i = 0; i < info->nfeatures; i++)
        xmppc_free(info->features[i]);
    xmppc_free(info->features);
    for (size_t i = 0; i < info->nforms; i++)
        xmppc_form_unref(info->forms[i]);
    xmppc_free(info->forms);
    xmppc_free(info);
    return NULL;
}

static int info_add_identity(xmppc_disco_info *info, const char *category,
                             const char *type, const char *name,
                             const char *lang)
{
    ident id;
    ident *nv = NULL;
    if (dup_opt(&id.category, category) < 0 || dup_opt(&id.type, type) < 0 ||
        dup_opt(&id.name, name) < 0 || dup_opt(&id.lang, lang) < 0 ||
        !(nv = xmppc__reallocarray(info->ids, info->nids + 1, sizeof *nv))) {
        ident_free(&id);
        return XMPPC_ENOMEM;
    }
    nv[info->nids++] = id;
    info->ids = nv;
    return 0;
}

static int info_add_feature(xmppc_disco_info *info, const char *feature)
{
    char *copy = xmppc__strdup(feature);
    char **nv = NULL;
    if (!copy || !(nv = xmppc__reallocarray(info->features, info->nfeatures + 1,
                                            sizeof *nv))) {
        xmppc_free(copy);
        return XMPPC_ENOMEM;
    }
    nv[info->nfeatures++] = copy;
    info->features = nv;
    return 0;
}

static int info_add_form(xmppc_disco_info *info, xmppc_form *form)
{
    xmppc_form **nv =
        xmppc__reallocarray(info->forms, info->nforms + 1, sizeof *nv);
    if (!nv)
        return XMPPC_ENOMEM;
    nv[info->nforms++] = xmppc_form_ref(form);
    info->forms = nv;
    return 0;
}

XMPPC_API int xmppc_disco_info_parse(xmppc_disco_info **out,
                                     const xmppc_stanza *query)
{
    if (!out || !query)
        return xmppc__error(XMPPC_EINVAL, "disco_info_parse: NULL argument");
    *out = NULL;
    if (!streq(xmppc_stanza_get_name(query), "query") ||
        !streq(xmppc_stanza_get_ns(query), XMPPC_NS_DISCO_INFO))
        return xmppc__error(XMPPC_EINVAL,
                            "disco_info_parse: not a disco#info query");
    xmppc_disco_info *info = NULL;
    int rc = info_new(&info);
    if (rc < 0)
        return rc;
    rc = dup_opt(&info->node, xmppc_stanza_get_attr(query, "node"));
    size_t n = xmppc_stanza_child_count(query);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        xmppc_stanza *c = xmppc_stanza_child_at(query, i);
        if (xmppc_stanza_is_text(c))
            continue;
        const char *name = xmppc_stanza_get_name(c);
        const char *ns = xmppc_stanza_get_ns(c);
        if (streq(ns, XMPPC_NS_DISCO_INFO) && streq(name, "identity")) {
            const char *cat = xmppc_stanza_get_attr(c, "category");
            const char *type = xmppc_stanza_get_attr(c, "type");
            if (!cat || !type)
                rc = xmppc__error(XMPPC_EINVAL,
                                  "disco: identity without category or type");
            else
                rc = info_add_identity(info, cat, type,
                                       xmppc_stanza_get_attr(c, "name"),
                                       xmppc_stanza_get_attr(c, "xml:lang"));
        } else if (streq(ns, XMPPC_NS_DISCO_INFO) && streq(name, "feature")) {
            const char *var = xmppc_stanza_get_attr(c, "var");
            if (!var)
                rc = xmppc__error(XMPPC_EINVAL, "disco: feature without var");
            else
                rc = info_add_feature(info, var);
        } else if (streq(ns, XMPPC_NS_DATA_FORMS) && streq(name, "x")) {
            xmppc_form *form = NULL;
            rc = xmppc_form_parse(&form, c);
            if (rc == 0)
                rc = info_add_form(info, form);
            xmppc_form_unref(form);
        }
    }
    if (rc < 0) {
        xmppc_disco_info_unref(info);
        return rc;
    }
    *out = info;
    return 0;
}

XMPPC_API int xmppc_disco_info_to_stanza(xmppc_stanza **out,
                                         const xmppc_disco_info *info)
{
    if (!out || !info)
        return xmppc__error(XMPPC_EINVAL, "disco_info_to_stanza: NULL");
    *out = NULL;
    xmppc_stanza *q = NULL;
    int rc = xmppc_stanza_new(&q, "query", XMPPC_NS_DISCO_INFO);
    if (rc == 0 && info->node)
        rc = xmppc_stanza_set_attr(q, "node", info->node);
    for (size_t i = 0; rc == 0 && i < info->nids; i++) {
        xmppc_stanza *c = NULL;
        const ident *id = &info->ids[i];
        rc = xmppc_stanza_new(&c, "identity", NULL);
        if (rc == 0)
            rc = xmppc_stanza_set_attr(c, "category", id->category);
        if (rc == 0)
            rc = xmppc_stanza_set_attr(c, "type", id->type);
        if (rc == 0 && id->name)
            rc = xmppc_stanza_set_attr(c, "name", id->name);
        if (rc == 0 && id->lang)
            rc = xmppc_stanza_set_attr(c, "xml:lang", id->lang);
        if (rc == 0)
            rc = xmppc_stanza_add_child(q, c);
        xmppc_stanza_unref(c);
    }
    for (size_t i = 0; rc == 0 && i < info->nfeatures; i++) {
        xmppc_stanza *c = NULL;
        rc = xmppc_stanza_new(&c, "feature", NULL);
        if (rc == 0)
            rc = xmppc_stanza_set_attr(c, "var", info->features[i]);
        if (rc == 0)
            rc = xmppc_stanza_add_child(q, c);
        xmppc_stanza_unref(c);
    }
    for (size_t i = 0; rc == 0 && i < info->nforms; i++) {
        xmppc_stanza *x = NULL;
        rc = xmppc_form_to_stanza(&x, info->forms[i]);
        if (rc == 0)
            rc = xmppc_stanza_add_child(q, x);
        xmppc_stanza_unref(x);
    }
    if (rc < 0) {
        xmppc_stanza_unref(q);
        return rc;
    }
    *out = q;
    return 0;
}

XMPPC_API const char *xmppc_disco_info_get_node(const xmppc_disco_info *info)
{
    return info ? info->node : NULL;
}

XMPPC_API size_t xmppc_disco_info_identity_count(const xmppc_disco_info *info)
{
    return info ? info->nids : 0;
}

XMPPC_API int
xmppc_disco_info_identity_at(const xmppc_disco_info *info, size_t index,
                             const char **category_out, const char **type_out,
                             const char **name_out, const char **lang_out)
{
    if (!info || index >= info->nids)
        return xmppc__error(XMPPC_EINVAL, "disco: no identity %zu", index);
    const ident *id = &info->ids[index];
    if (category_out)
        *category_out = id->category;
    if (type_out)
        *type_out = id->type;
    if (name_out)
        *name_out = id->name;
    if (lang_out)
        *lang_out = id->lang;
    return 0;
}

XMPPC_API int xmppc_disco_info_has_identity(const xmppc_disco_info *info,
                                            const char *category,
                                            const char *type)
{
    for (size_t i = 0; info && category && i < info->nids; i++)
        if (streq(info->ids[i].category, category) &&
            (!type || streq(info->ids[i].type, type)))
            return 1;
    return 0;
}

XMPPC_API size_t xmppc_disco_info_feature_count(const xmppc_disco_info *info)
{
    return info ? info->nfeatures : 0;
}

XMPPC_API const char *xmppc_disco_info_feature_at(const xmppc_disco_info *info,
                                                  size_t index)
{
    return info && index < info->nfeatures ? info->features[index] : NULL;
}

XMPPC_API int xmppc_disco_info_has_feature(const xmppc_disco_info *info,
                                           const char *feature)
{
    for (size_t i = 0; info && feature && i < info->nfeatures; i++)
        if (strcmp(info->features[i], feature) == 0)
            return 1;
    return 0;
}

XMPPC_API size_t xmppc_disco_info_form_count(const xmppc_disco_info *info)
{
    return info ? info->nforms : 0;
}

XMPPC_API xmppc_form *xmppc_disco_info_form_at(const xmppc_disco_info *info,
                                               size_t index)
{
    return info && index < info->nforms ? info->forms[index] : NULL;
}

XMPPC_API xmppc_form *xmppc_disco_info_get_form(const xmppc_disco_info *info,
                                                const char *form_type)
{
    for (size_t i = 0; info && form_type && i < info->nforms; i++)
        if (streq(xmppc_form_get_form_type(info->forms[i]), form_type))
            return info->forms[i];
    return NULL;
}

XMPPC_API xmppc_disco_items *xmppc_disco_items_ref(xmppc_disco_items *items)
{
    if (items)
        items->refs++;
    return items;
}

XMPPC_API xmppc_disco_items *xmppc_disco_items_unref(xmppc_disco_items *items)
{
    if (!items || --items->refs > 0)
        return NULL;
    for (size_t i = 0; i < items->n; i++) {
        xmppc_free(items->v[i].jid);
        xmppc_free(items->v[i].node);
        xmppc_free(items->v[i].name);
    }
    xmppc_free(items->v);
    xmppc_free(items);
    return NULL;
}

XMPPC_API size_t xmppc_disco_items_count(const xmppc_disco_items *items)
{
    return items ? items->n : 0;
}

XMPPC_API int xmppc_disco_items_at(const xmppc_disco_items *items, size_t index,
                                   const char **jid_out, const char **node_out,
                                   const char **name_out)
{
    if (!items || index >= items->n)
        return xmppc__error(XMPPC_EINVAL, "disco: no item %zu", index);
    if (jid_out)
        *jid_out = items->v[index].jid;
    if (node_out)
        *node_out = items->v[index].node;
    if (name_out)
        *name_out = items->v[index].name;
    return 0;
}

static int items_parse(xmppc_disco_items **out, const xmppc_stanza *query)
{
    xmppc_disco_items *items = xmppc__calloc(1, sizeof *items);
    if (!items)
        return XMPPC_ENOMEM;
    items->refs = 1;
    int rc = 0;
    for (xmppc_stanza *c =
             xmppc_stanza_get_child(query, "item", XMPPC_NS_DISCO_ITEMS);
         c && rc == 0; c = xmppc_stanza_get_next_child(query, c, "item",
                                                       XMPPC_NS_DISCO_ITEMS)) {
        const char *jid = xmppc_stanza_get_attr(c, "jid");
        if (!jid)
            continue; /* malformed item: skip it */
        item it;
        item *nv = NULL;
        if (dup_opt(&it.jid, jid) < 0 ||
            dup_opt(&it.node, xmppc_stanza_get_attr(c, "node")) < 0 ||
            dup_opt(&it.name, xmppc_stanza_get_attr(c, "name")) < 0 ||
            !(nv = xmppc__reallocarray(items->v, items->n + 1, sizeof *nv))) {
            xmppc_free(it.jid);
            xmppc_free(it.node);
            xmppc_free(it.name);
            rc = XMPPC_ENOMEM;
            break;
        }
        nv[items->n++] = it;
        items->v = nv;
    }
    if (rc < 0) {
        xmppc_disco_items_unref(items);
        return rc;
    }
    *out = items;
    return 0;
}

/* ---- caps ver (XEP-0115 §5.1) ------------------------------------------- */

static int cmp_ident(const void *a, const void *b)
{
    const ident *x = *(const ident *const *)a, *y = *(const ident *const *)b;
    int c = strcmp(nz(x->category), nz(y->category));
    if (!c)
        c = strcmp(nz(x->type), nz(y->type));
    if (!c)
        c = strcmp(nz(x->lang), nz(y->lang));
    if (!c)
        c = strcmp(nz(x->name), nz(y->name));
    return c;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_form(const void *a, const void *b)
{
    return strcmp(xmppc_form_get_form_type(*(xmppc_form *const *)a),
                  xmppc_form_get_form_type(*(xmppc_form *const *)b));
}

static int cmp_field(const void *a, const void *b)
{
    return strcmp(
        nz(xmppc_form_field_get_var(*(const xmppc_form_field *const *)a)),
        nz(xmppc_form_field_get_var(*(const xmppc_form_field *const *)b)));
}

static void base64(char *out, const unsigned char *in, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* Appends one form's part of S: FORM_TYPE, then fields by var with their
 * values sorted. */
static int caps_add_form(sbuf *s, const xmppc_form *form)
{
    size_t nf = xmppc_form_field_count(form);
    const xmppc_form_field **fields =
        xmppc__calloc(nf ? nf : 1, sizeof *fields);
    if (!fields)
        return XMPPC_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < nf; i++) {
        const xmppc_form_field *f = xmppc_form_field_at(form, i);
        if (!streq(xmppc_form_field_get_var(f), "FORM_TYPE"))
            fields[k++] = f;
    }
    qsort(fields, k, sizeof *fields, cmp_field);
    sb_add(s, xmppc_form_get_form_type(form));
    sb_add(s, "<");
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        sb_add(s, nz(xmppc_form_field_get_var(fields[i])));
        sb_add(s, "<");
        size_t nv = xmppc_form_field_value_count(fields[i]);
        const char **vals = xmppc__calloc(nv ? nv : 1, sizeof *vals);
        if (!vals) {
            rc = XMPPC_ENOMEM;
            break;
        }
        for (size_t j = 0; j < nv; j++)
            vals[j] = xmppc_form_field_value_at(fields[i], j);
        qsort(vals, nv, sizeof *vals, cmp_str);
        for (size_t j = 0; j < nv; j++) {
            sb_add(s, vals[j]);
            sb_add(s, "<");
        }
        xmppc_free(vals);
    }
    xmppc_free(fields);
    return rc;
}

XMPPC_API int xmppc_caps_compute_ver(char **out, const xmppc_disco_info *info)
{
    if (!out || !info)
        return xmppc__error(XMPPC_EINVAL, "caps_compute_ver: NULL argument");
    int rc = 0;
    sbuf s = {0};
    const ident **ids = xmppc__calloc(info->nids + 1, sizeof *ids);
    const char **feats = xmppc__calloc(info->nfeatures + 1, sizeof *feats);
    xmppc_form **forms = xmppc__calloc(info->nforms + 1, sizeof *forms);
    if (!ids || !feats || !forms) {
        rc = XMPPC_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < info->nids; i++)
        ids[i] = &info->ids[i];
    qsort(ids, info->nids, sizeof *ids, cmp_ident);
    for (size_t i = 0; i < info->nids; i++) {
        sb_add(&s, nz(ids[i]->category));
        sb_add(&s, "/");
        sb_add(&s, nz(ids[i]->type));
        sb_add(&s, "/");
        sb_add(&s, nz(ids[i]->lang));
        sb_add(&s, "/");
        sb_add(&s, nz(ids[i]->name));
        sb_add(&s, "<");
    }
    for (size_t i = 0; i < info->nfeatures; i++)
        feats[i] = info->features[i];
    qsort(feats, info->nfeatures, sizeof *feats, cmp_str);
    for (size_t i = 0; i < info->nfeatures; i++) {
        sb_add(&s, feats[i]);
        sb_add(&s, "<");
    }
    size_t nforms = 0;
    for (size_t i = 0; i < info->nforms; i++)
        if (xmppc_form_get_form_type(info->forms[i]))
            forms[nforms++] = info->forms[i];
    qsort(forms, nforms, sizeof *forms, cmp_form);
    for (size_t i = 0; i < nforms && rc == 0; i++)
        rc = caps_add_form(&s, forms[i]);
    if (rc == 0 && s.err)
        rc = s.err;
    if (rc == 0) {
        unsigned char digest[20];
        char b64[32];
        if (gnutls_hash_fast(GNUTLS_DIG_SHA1, s.p ? s.p : "", s.len, digest) <
            0) {
            rc = xmppc__error(XMPPC_ERROR, "caps: SHA-1 failed");
        } else {
            base64(b64, digest, sizeof digest);
            if (!(*out = xmppc__strdup(b64)))
                rc = XMPPC_ENOMEM;
        }
    }
done:
    xmppc_free(s.p);
    xmppc_free(ids);
    xmppc_free(feats);
    xmppc_free(forms);
    return rc;
}

/* XEP-0115 §5.4 step 3: answers the ver of which must not be trusted. */
static bool caps_acceptable(const xmppc_disco_info *info)
{
    for (size_t i = 0; i < info->nids; i++)
        for (size_t j = i + 1; j < info->nids; j++)
            if (cmp_ident(&(const ident *){&info->ids[i]},
                          &(const ident *){&info->ids[j]}) == 0)
                return false;
    for (size_t i = 0; i < info->nfeatures; i++)
        for (size_t j = i + 1; j < info->nfeatures; j++)
            if (strcmp(info->features[i], info->features[j]) == 0)
                return false;
    for (size_t i = 0; i < info->nforms; i++) {
        const char *ft = xmppc_form_get_form_type(info->forms[i]);
        if (!ft)
            continue;
        const xmppc_form_field *f =
            xmppc_form_get_field(info->forms[i], "FORM_TYPE");
        if (xmppc_form_field_get_type(f) != XMPPC_FIELD_HIDDEN)
            return false;
        for (size_t j = i + 1; j < info->nforms; j++)
            if (streq(ft, xmppc_form_get_form_type(info->forms[j])))
                return false;
    }
    return true;
}

/* ---- the manager -------------------------------------------------------- */

typedef struct cache_entry {
    char *jid;
    char *node;
    xmppc_disco_info *info; /* one of these two */
    xmppc_disco_items *items;
} cache_entry;

typedef struct caps_entry {
    char *key;              /* a ver, or a JID */
    char *ver;              /* for JIDs: their announced ver */
    xmppc_disco_info *info; /* for vers: the verified info */
} caps_entry;

typedef struct entries {
    void *v;
    size_t n;
} entries;

struct xmppc_disco {
    xmppc_conn *conn;
    xmppc__logger log;
    xmppc_disco_info *own;
    char *node;
    char *ver; /* NULL: to be recomputed */
    cache_entry *cache;
    size_t ncache;
    caps_entry *vers; /* verified vers */
    size_t nvers;
    caps_entry *jids; /* JID -> announced ver */
    size_t njids;
    char **pending; /* vers being verified */
    size_t npending;
    xmppc_timer *refresh; /* pending resend of the own presence */
    bool announced;       /* caps attached to some presence */
};

#define CACHE_MAX 512

static const int disco_key;

static void cache_entry_free(cache_entry *e)
{
    xmppc_free(e->jid);
    xmppc_free(e->node);
    xmppc_disco_info_unref(e->info);
    xmppc_disco_items_unref(e->items);
}

static void caps_entry_free(caps_entry *e)
{
    xmppc_free(e->key);
    xmppc_free(e->ver);
    xmppc_disco_info_unref(e->info);
}

static void mgr_free(void *data)
{
    xmppc_disco *mgr = data;
    xmppc_timer_free(mgr->refresh);
    xmppc_disco_info_unref(mgr->own);
    xmppc_free(mgr->node);
    xmppc_free(mgr->ver);
    for (size_t i = 0; i < mgr->ncache; i++)
        cache_entry_free(&mgr->cache[i]);
    xmppc_free(mgr->cache);
    for (size_t i = 0; i < mgr->nvers; i++)
        caps_entry_free(&mgr->vers[i]);
    xmppc_free(mgr->vers);
    for (size_t i = 0; i < mgr->njids; i++)
        caps_entry_free(&mgr->jids[i]);
    xmppc_free(mgr->jids);
    for (size_t i = 0; i < mgr->npending; i++)
        xmppc_free(mgr->pending[i]);
    xmppc_free(mgr->pending);
    xmppc_free(mgr);
}

static const char *own_ver(xmppc_disco *mgr)
{
    if (!mgr->ver && xmppc_caps_compute_ver(&mgr->ver, mgr->own) < 0)
        return NULL;
    return mgr->ver;
}

static void refresh_presence(xmppc_conn *conn, void *userdata)
{
    xmppc_disco *mgr = userdata;
    xmppc_timer_free(mgr->refresh); /* safe inside its own callback */
    mgr->refresh = NULL;
    if (xmppc_presence_update_own(conn) < 0)
        xmppc_conn_log(conn, XMPPC_LOG_WARN, "disco",
                       xmppc_error_last()->message);
}

/* The ver changes: contacts learn it from the next presence (XEP-0115
 * §4), sent once after a burst of changes such as a module's setup. */
static void changed(xmppc_disco *mgr)
{
    xmppc_free(mgr->ver);
    mgr->ver = NULL;
    if (mgr->announced && !mgr->refresh &&
        xmppc_conn_get_state(mgr->conn) == XMPPC_STATE_READY &&
        xmppc_conn_add_timer(mgr->conn, &mgr->refresh, 0, refresh_presence, mgr,
                             NULL) < 0)
        xmppc_error_clear(); /* out of memory: the next presence has it */
}

static int send_and_free(xmppc_conn *conn, xmppc_stanza *s)
{
    int rc = xmppc_conn_send(conn, s);
    xmppc_stanza_unref(s);
    return rc;
}

static int reply_error(xmppc_conn *conn, xmppc_stanza *iq, const char *cond)
{
    xmppc_stanza *r = NULL;
    if (xmppc_stanza_reply_error(&r, iq, "cancel", cond, NULL) == 0)
        send_and_free(conn, r);
    return XMPPC_HANDLED;
}

static int on_info_request(xmppc_conn *conn, xmppc_stanza *iq, void *ud)
{
    xmppc_disco *mgr = ud;
    xmppc_stanza *q = xmppc_stanza_get_child(iq, "query", XMPPC_NS_DISCO_INFO);
    const char *node = xmppc_stanza_get_attr(q, "node");
    if (node) {
        const char *ver = own_ver(mgr);
        size_t nl = strlen(mgr->node);
        if (!ver || strncmp(node, mgr->node, nl) != 0 || node[nl] != '#' ||
            strcmp(node + nl + 1, ver) != 0)
            return reply_error(conn, iq, "item-not-found");
    }
    xmppc_stanza *reply = NULL, *query = NULL;
    int rc = xmppc_stanza_reply(&reply, iq);
    if (rc == 0)
        rc = xmppc_disco_info_to_stanza(&query, mgr->own);
    if (rc == 0 && node)
        rc = xmppc_stanza_set_attr(query, "node", node);
    if (rc == 0)
        rc = xmppc_stanza_add_child(reply, query);
    xmppc_stanza_unref(query);
    if (rc == 0)
        send_and_free(conn, reply);
    else {
        xmppc_stanza_unref(reply);
        return reply_error(conn, iq, "internal-server-error");
    }
    return XMPPC_HANDLED;
}

static int on_items_request(xmppc_conn *conn, xmppc_stanza *iq, void *ud)
{
    (void)ud;
    xmppc_stanza *q = xmppc_stanza_get_child(iq, "query", XMPPC_NS_DISCO_ITEMS);
    const char *node = xmppc_stanza_get_attr(q, "node");
    if (node)
        return reply_error(conn, iq, "item-not-found");
    xmppc_stanza *reply = NULL;
    int rc = xmppc_stanza_reply(&reply, iq);
    if (rc == 0)
        rc = xmppc_stanza_add_text_child(reply, "query", XMPPC_NS_DISCO_ITEMS,
                                         NULL);
    if (rc == 0)
        send_and_free(conn, reply);
    else
        xmppc_stanza_unref(reply);
    return XMPPC_HANDLED;
}

static int on_presence(xmppc_conn *conn, xmppc_stanza *p, void *ud);

XMPPC_API xmppc_disco *xmppc_disco_get(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "disco_get: NULL connection");
        return NULL;
    }
    xmppc_disco *mgr = xmppc_conn_attached(conn, &disco_key);
    if (mgr)
        return mgr;
    mgr = xmppc__calloc(1, sizeof *mgr);
    if (!mgr)
        return NULL;
    mgr->conn = conn;
    mgr->log.conn = conn;
    int rc = info_new(&mgr->own);
    if (rc == 0 && !(mgr->node = xmppc__strdup(XMPPC_CAPS_DEFAULT_NODE)))
        rc = XMPPC_ENOMEM;
    if (rc == 0)
        rc = info_add_identity(mgr->own, "client", "pc", "libxmppc", NULL);
    if (rc == 0)
        rc = info_add_feature(mgr->own, XMPPC_NS_DISCO_INFO);
    if (rc == 0)
        rc = info_add_feature(mgr->own, XMPPC_NS_DISCO_ITEMS);
    if (rc == 0)
        rc = xmppc_conn_attach(conn, &disco_key, mgr, mgr_free);
    if (rc < 0) {
        mgr_free(mgr);
        return NULL;
    }
    /* Floating handlers: they live as long as the connection, like the
     * manager (which is destroyed after them). */
    if (xmppc_conn_add_handler(conn, NULL, "iq", "get", XMPPC_NS_DISCO_INFO,
                               on_info_request, mgr, NULL) < 0 ||
        xmppc_conn_add_handler(conn, NULL, "iq", "get", XMPPC_NS_DISCO_ITEMS,
                               on_items_request, mgr, NULL) < 0 ||
        xmppc_conn_add_handler(conn, NULL, "presence", NULL, NULL, on_presence,
                               mgr, NULL) < 0) {
        /* Already-added handlers point at mgr: detach would free it under
         * them, so keep it attached and report the failure. */
        return NULL;
    }
    return mgr;
}

XMPPC_API xmppc_disco *xmppc_disco_find(xmppc_conn *conn)
{
    return conn ? xmppc_conn_attached(conn, &disco_key) : NULL;
}

XMPPC_API xmppc_conn *xmppc_disco_get_conn(const xmppc_disco *mgr)
{
    return mgr ? mgr->conn : NULL;
}

XMPPC_API int xmppc_disco_add_identity(xmppc_disco *mgr, const char *category,
                                       const char *type, const char *name,
                                       const char *lang)
{
    if (!mgr || !category || !type || !*category || !*type)
        return xmppc__error(XMPPC_EINVAL,
                            "disco_add_identity: category and type needed");
    for (size_t i = 0; i < mgr->own->nids; i++) {
        const ident *id = &mgr->own->ids[i];
        if (streq(id->category, category) && streq(id->type, type) &&
            streq(id->name, name) && streq(id->lang, lang))
            return 0;
    }
    int rc = info_add_identity(mgr->own, category, type, name, lang);
    if (rc == 0)
        changed(mgr);
    return rc;
}

XMPPC_API int xmppc_disco_remove_identity(xmppc_disco *mgr,
                                          const char *category,
                                          const char *type)
{
    if (!mgr || !category || !type)
        return xmppc__error(XMPPC_EINVAL, "disco_remove_identity: NULL");
    int removed = 0;
    for (size_t i = 0; i < mgr->own->nids;) {
        ident *id = &mgr->own->ids[i];
        if (streq(id->category, category) && streq(id->type, type)) {
            ident_free(id);
            memmove(id, id + 1, (mgr->own->nids - i - 1) * sizeof *id);
            mgr->own->nids--;
            removed++;
        } else {
            i++;
        }
    }
    if (removed)
        changed(mgr);
    return removed;
}

XMPPC_API int xmppc_disco_add_feature(xmppc_disco *mgr, const char *feature)
{
    if (!mgr || !feature || !*feature)
        return xmppc__error(XMPPC_EINVAL, "disco_add_feature: NULL or empty");
    if (xmppc_disco_info_has_feature(mgr->own, feature))
        return 0;
    int rc = info_add_feature(mgr->own, feature);
    if (rc == 0)
        changed(mgr);
    return rc;
}

XMPPC_API int xmppc_disco_remove_feature(xmppc_disco *mgr, const char *feature)
{
    if (!mgr || !feature)
        return xmppc__error(XMPPC_EINVAL, "disco_remove_feature: NULL");
    xmppc_disco_info *o = mgr->own;
    for (size_t i = 0; i < o->nfeatures; i++) {
        if (strcmp(o->features[i], feature) == 0) {
            xmppc_free(o->features[i]);
            memmove(o->features + i, o->features + i + 1,
                    (o->nfeatures - i - 1) * sizeof *o->features);
            o->nfeatures--;
            changed(mgr);
            return 1;
        }
    }
    return 0;
}

XMPPC_API int xmppc_disco_has_feature(const xmppc_disco *mgr,
                                      const char *feature)
{
    return mgr ? xmppc_disco_info_has_feature(mgr->own, feature) : 0;
}

XMPPC_API int xmppc_disco_remove_form(xmppc_disco *mgr, const char *form_type)
{
    if (!mgr || !form_type)
        return xmppc__error(XMPPC_EINVAL, "disco_remove_form: NULL");
    xmppc_disco_info *o = mgr->own;
    for (size_t i = 0; i < o->nforms; i++) {
        if (streq(xmppc_form_get_form_type(o->forms[i]), form_type)) {
            xmppc_form_unref(o->forms[i]);
            memmove(o->forms + i, o->forms + i + 1,
                    (o->nforms - i - 1) * sizeof *o->forms);
            o->nforms--;
            changed(mgr);
            return 1;
        }
    }
    return 0;
}

XMPPC_API int xmppc_disco_add_form(xmppc_disco *mgr, xmppc_form *form)
{
    if (!mgr || !form)
        return xmppc__error(XMPPC_EINVAL, "disco_add_form: NULL argument");
    const char *ft = xmppc_form_get_form_type(form);
    if (!ft)
        return xmppc__error(XMPPC_EINVAL, "disco_add_form: no FORM_TYPE");
    int rc = info_add_form(mgr->own, form);
    if (rc < 0)
        return rc;
    /* Drop an older form of the same FORM_TYPE (not the one just added). */
    xmppc_disco_info *o = mgr->own;
    for (size_t i = 0; i + 1 < o->nforms; i++) {
        if (streq(xmppc_form_get_form_type(o->forms[i]), ft)) {
            xmppc_form_unref(o->forms[i]);
            memmove(o->forms + i, o->forms + i + 1,
                    (o->nforms - i - 1) * sizeof *o->forms);
            o->nforms--;
            break;
        }
    }
    changed(mgr);
    return 0;
}

XMPPC_API const xmppc_disco_info *xmppc_disco_get_own_info(xmppc_disco *mgr)
{
    return mgr ? mgr->own : NULL;
}

/* ---- cache -------------------------------------------------------------- */

static cache_entry *cache_find(xmppc_disco *mgr, const char *jid,
                               const char *node, bool items)
{
    for (size_t i = 0; i < mgr->ncache; i++) {
        cache_entry *e = &mgr->cache[i];
        if ((e->items != NULL) == items && strcmp(e->jid, jid) == 0 &&
            streq(e->node, node))
            return e;
    }
    return NULL;
}

/* Stores info or items (one reference taken); failures only lose caching. */
static void cache_put(xmppc_disco *mgr, const char *jid, const char *node,
                      xmppc_disco_info *info, xmppc_disco_items *items)
{
    cache_entry *e = cache_find(mgr, jid, node, items != NULL);
    if (e) {
        xmppc_disco_info_unref(e->info);
        xmppc_disco_items_unref(e->items);
        e->info = xmppc_disco_info_ref(info);
        e->items = xmppc_disco_items_ref(items);
        return;
    }
    if (mgr->ncache >= CACHE_MAX) { /* drop the oldest */
        cache_entry_free(&mgr->cache[0]);
        memmove(mgr->cache, mgr->cache + 1, --mgr->ncache * sizeof *mgr->cache);
    }
    cache_entry ne = {0};
    cache_entry *nv = NULL;
    if (dup_opt(&ne.jid, jid) < 0 || dup_opt(&ne.node, node) < 0 ||
        !(nv = xmppc__reallocarray(mgr->cache, mgr->ncache + 1, sizeof *nv))) {
        cache_entry_free(&ne);
        xmppc_error_clear();
        return;
    }
    ne.info = xmppc_disco_info_ref(info);
    ne.items = xmppc_disco_items_ref(items);
    nv[mgr->ncache++] = ne;
    mgr->cache = nv;
}

XMPPC_API void xmppc_disco_forget(xmppc_disco *mgr, const char *jid)
{
    if (!mgr)
        return;
    char *prepped = NULL;
    if (jid && xmppc_jid_prep(&prepped, jid) < 0)
        return;
    for (size_t i = 0; i < mgr->ncache;) {
        if (!prepped || strcmp(mgr->cache[i].jid, prepped) == 0) {
            cache_entry_free(&mgr->cache[i]);
            memmove(mgr->cache + i, mgr->cache + i + 1,
                    (mgr->ncache - i - 1) * sizeof *mgr->cache);
            mgr->ncache--;
        } else {
            i++;
        }
    }
    xmppc_free(prepped);
}

/* ---- queries ------------------------------------------------------------ */

typedef struct request {
    xmppc_disco *mgr;
    char *jid, *node;
    xmppc_disco_info_cb info_cb;
    xmppc_disco_items_cb items_cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} request;

static void request_free(void *data)
{
    request *r = data;
    if (r->destroy)
        r->destroy(r->userdata);
    xmppc_free(r->jid);
    xmppc_free(r->node);
    xmppc_free(r);
}

static void request_reply(xmppc_conn *conn, xmppc_stanza *reply,
                          const xmppc_error *err, void *ud)
{
    (void)conn;
    request *r = ud;
    xmppc_disco_info *info = NULL;
    xmppc_disco_items *items = NULL;
    xmppc__error_store store;
    if (!err) {
        const char *ns =
            r->items_cb ? XMPPC_NS_DISCO_ITEMS : XMPPC_NS_DISCO_INFO;
        xmppc_stanza *q = xmppc_stanza_get_child(reply, "query", ns);
        int rc = !q            ? XMPPC_EPROTO
                 : r->items_cb ? items_parse(&items, q)
                               : xmppc_disco_info_parse(&info, q);
        if (rc < 0) {
            xmppc__error_store_set(
                &store, rc == XMPPC_ENOMEM ? rc : XMPPC_EPROTO, NULL, NULL,
                NULL, "disco: malformed answer from %s", r->jid);
            err = &store.pub;
        } else {
            cache_put(r->mgr, r->jid, r->node, info, items);
        }
    }
    if (r->items_cb)
        r->items_cb(r->mgr, r->jid, r->node, items, err, r->userdata);
    else
        r->info_cb(r->mgr, r->jid, r->node, info, err, r->userdata);
    xmppc_disco_info_unref(info);
    xmppc_disco_items_unref(items);
}

/* The JID to ask: prepared @p jid, or the own server's domain. */
static int target_jid(char **out, xmppc_disco *mgr, const char *jid)
{
    if (jid)
        return xmppc_jid_prep(out, jid);
    const char *own = xmppc_conn_get_jid(mgr->conn);
    const char *at = own ? strchr(own, '@') : NULL;
    const char *domain = at ? at + 1 : own;
    const char *slash = domain ? strchr(domain, '/') : NULL;
    *out = domain ? xmppc__strndup(domain, slash ? (size_t)(slash - domain)
                                                 : strlen(domain))
                  : NULL;
    return *out ? 0 : XMPPC_ENOMEM;
}

static int query(xmppc_disco *mgr, const char *jid, const char *node,
                 xmppc_disco_info_cb info_cb, xmppc_disco_items_cb items_cb,
                 void *userdata, xmppc_destroy_cb destroy)
{
    if (!mgr || (!info_cb && !items_cb))
        return xmppc__error(XMPPC_EINVAL, "disco query: NULL argument");
    char *to = NULL;
    int rc = target_jid(&to, mgr, jid);
    if (rc < 0)
        return rc;
    cache_entry *e = cache_find(mgr, to, node, items_cb != NULL);
    if (e) {
        /* Hold references: the callback may forget the cache. */
        xmppc_disco_info *info = xmppc_disco_info_ref(e->info);
        xmppc_disco_items *items = xmppc_disco_items_ref(e->items);
        if (items_cb)
            items_cb(mgr, to, node, items, NULL, userdata);
        else
            info_cb(mgr, to, node, info, NULL, userdata);
        xmppc_disco_info_unref(info);
        xmppc_disco_items_unref(items);
        xmppc_free(to);
        if (destroy)
            destroy(userdata);
        return 0;
    }
    request *r = xmppc__calloc(1, sizeof *r);
    xmppc_stanza *iq = NULL, *q = NULL;
    if (!r) {
        xmppc_free(to);
        return XMPPC_ENOMEM;
    }
    r->mgr = mgr;
    r->jid = to;
    r->info_cb = info_cb;
    r->items_cb = items_cb;
    r->userdata = userdata;
    rc = dup_opt(&r->node, node);
    if (rc == 0)
        rc = xmppc_iq_new(&iq, "get", to, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(
            &q, "query", items_cb ? XMPPC_NS_DISCO_ITEMS : XMPPC_NS_DISCO_INFO);
    if (rc == 0 && node)
        rc = xmppc_stanza_set_attr(q, "node", node);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, q);
    if (rc == 0)
        rc = xmppc_conn_send_iq(mgr->conn, iq, 0, request_reply, r,
                                request_free);
    xmppc_stanza_unref(q);
    xmppc_stanza_unref(iq);
    if (rc < 0) {
        request_free(r); /* r->destroy is NULL: the caller's is not run */
        return rc;
    }
    r->destroy = destroy; /* the reply cannot come before we return */
    return 0;
}

XMPPC_API int xmppc_disco_get_info(xmppc_disco *mgr, const char *jid,
                                   const char *node, xmppc_disco_info_cb cb,
                                   void *userdata, xmppc_destroy_cb destroy)
{
    if (!cb)
        return xmppc__error(XMPPC_EINVAL, "disco_get_info: NULL callback");
    return query(mgr, jid, node, cb, NULL, userdata, destroy);
}

XMPPC_API int xmppc_disco_get_items(xmppc_disco *mgr, const char *jid,
                                    const char *node, xmppc_disco_items_cb cb,
                                    void *userdata, xmppc_destroy_cb destroy)
{
    if (!cb)
        return xmppc__error(XMPPC_EINVAL, "disco_get_items: NULL callback");
    return query(mgr, jid, node, NULL, cb, userdata, destroy);
}

/* ---- supports ----------------------------------------------------------- */

typedef struct supports_ctx {
    char *feature;
    xmppc_disco_supports_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} supports_ctx;

static void supports_free(void *data)
{
    supports_ctx *s = data;
    if (s->destroy)
        s->destroy(s->userdata);
    xmppc_free(s->feature);
    xmppc_free(s);
}

static void supports_info(xmppc_disco *mgr, const char *jid, const char *node,
                          xmppc_disco_info *info, const xmppc_error *err,
                          void *ud)
{
    (void)node;
    supports_ctx *s = ud;
    s->cb(mgr, jid, s->feature,
          info && !err && xmppc_disco_info_has_feature(info, s->feature), err,
          s->userdata);
}

XMPPC_API int xmppc_disco_supports(xmppc_disco *mgr, const char *jid,
                                   const char *feature,
                                   xmppc_disco_supports_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy)
{
    if (!mgr || !jid || !feature || !cb)
        return xmppc__error(XMPPC_EINVAL, "disco_supports: NULL argument");
    xmppc_disco_info *caps = xmppc_caps_get_info(mgr, jid);
    if (caps) {
        char *prepped = NULL;
        int rc = xmppc_jid_prep(&prepped, jid);
        if (rc < 0)
            return rc;
        cb(mgr, prepped, feature, xmppc_disco_info_has_feature(caps, feature),
           NULL, userdata);
        xmppc_free(prepped);
        if (destroy)
            destroy(userdata);
        return 0;
    }
    supports_ctx *s = xmppc__calloc(1, sizeof *s);
    if (!s || !(s->feature = xmppc__strdup(feature))) {
        xmppc_free(s);
        return XMPPC_ENOMEM;
    }
    s->cb = cb;
    s->userdata = userdata;
    s->destroy = destroy;
    int rc =
        xmppc_disco_get_info(mgr, jid, NULL, supports_info, s, supports_free);
    if (rc < 0) { /* neither callback ran */
        s->destroy = NULL;
        supports_free(s);
    }
    return rc;
}

/* ---- find_service ------------------------------------------------------- */

typedef struct service_ctx {
    xmppc_disco *mgr;
    char *feature;
    xmppc_disco_items *items;
    size_t next;
    bool stepping; /* inside service_step(): answers are recorded only */
    bool answered; /* an info answer came while stepping */
    bool found;
    xmppc_disco_service_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} service_ctx;

static void service_finish(service_ctx *s, const char *jid,
                           const xmppc_error *err)
{
    s->cb(s->mgr, s->feature, jid, err, s->userdata);
    if (s->destroy)
        s->destroy(s->userdata);
    xmppc_disco_items_unref(s->items);
    xmppc_free(s->feature);
    xmppc_free(s);
}

static void service_step(service_ctx *s);

static void service_info(xmppc_disco *mgr, const char *jid, const char *node,
                         xmppc_disco_info *info, const xmppc_error *err,
                         void *ud)
{
    (void)mgr;
    (void)node;
    (void)err; /* an item that does not answer is skipped */
    service_ctx *s = ud;
    if (info && xmppc_disco_info_has_feature(info, s->feature)) {
        s->found = true;
        if (!s->stepping) {
            service_finish(s, jid, NULL);
            return;
        }
    }
    if (s->stepping)
        s->answered = true;
    else
        service_step(s);
}

/* Asks the next items in turn; answers from the cache come synchronously
 * and are handled in this loop rather than by recursion. */
static void service_step(service_ctx *s)
{
    while (s->next < s->items->n) {
        const item *it = &s->items->v[s->next++];
        s->stepping = true;
        s->answered = false;
        int rc = xmppc_disco_get_info(s->mgr, it->jid, it->node, service_info,
                                      s, NULL);
        s->stepping = false;
        if (s->found) {
            service_finish(s, it->jid, NULL);
            return;
        }
        if (rc == 0 && !s->answered)
            return; /* waiting for the answer */
    }
    service_finish(s, NULL, NULL);
}

static void service_items(xmppc_disco *mgr, const char *jid, const char *node,
                          xmppc_disco_items *items, const xmppc_error *err,
                          void *ud)
{
    (void)mgr;
    (void)jid;
    (void)node;
    service_ctx *s = ud;
    if (!items) {
        service_finish(s, NULL, err);
        return;
    }
    s->items = xmppc_disco_items_ref(items);
    service_step(s);
}

XMPPC_API int xmppc_disco_find_service(xmppc_disco *mgr, const char *feature,
                                       xmppc_disco_service_cb cb,
                                       void *userdata, xmppc_destroy_cb destroy)
{
    if (!mgr || !feature || !cb)
        return xmppc__error(XMPPC_EINVAL, "disco_find_service: NULL argument");
    service_ctx *s = xmppc__calloc(1, sizeof *s);
    if (!s || !(s->feature = xmppc__strdup(feature))) {
        xmppc_free(s);
        return XMPPC_ENOMEM;
    }
    s->mgr = mgr;
    s->cb = cb;
    s->userdata = userdata;
    s->destroy = destroy;
    int rc = xmppc_disco_get_items(mgr, NULL, NULL, service_items, s, NULL);
    if (rc < 0) {
        xmppc_free(s->feature);
        xmppc_free(s);
    }
    return rc;
}

/* ---- Entity Capabilities ------------------------------------------------- */

XMPPC_API int xmppc_caps_set_node(xmppc_disco *mgr, const char *node)
{
    if (!mgr || !node || !*node)
        return xmppc__error(XMPPC_EINVAL, "caps_set_node: NULL or empty");
    char *copy = xmppc__strdup(node);
    if (!copy)
        return XMPPC_ENOMEM;
    xmppc_free(mgr->node);
    mgr->node = copy;
    return 0;
}

XMPPC_API const char *xmppc_caps_get_node(const xmppc_disco *mgr)
{
    return mgr ? mgr->node : NULL;
}

XMPPC_API const char *xmppc_caps_get_ver(xmppc_disco *mgr)
{
    if (!mgr) {
        xmppc__error(XMPPC_EINVAL, "caps_get_ver: NULL manager");
        return NULL;
    }
    return own_ver(mgr);
}

XMPPC_API int xmppc_caps_attach(xmppc_disco *mgr, xmppc_stanza *presence)
{
    if (!mgr || !presence ||
        !streq(xmppc_stanza_get_name(presence), "presence"))
        return xmppc__error(XMPPC_EINVAL, "caps_attach: not a presence");
    const char *ver = own_ver(mgr);
    if (!ver)
        return xmppc_error_last()->code;
    xmppc_stanza *old = xmppc_stanza_get_child(presence, "c", XMPPC_NS_CAPS);
    if (old)
        xmppc_stanza_remove_child(presence, old);
    xmppc_stanza *c = NULL;
    int rc = xmppc_stanza_new(&c, "c", XMPPC_NS_CAPS);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(c, "hash", "sha-1");
    if (rc == 0)
        rc = xmppc_stanza_set_attr(c, "node", mgr->node);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(c, "ver", ver);
    if (rc == 0)
        rc = xmppc_stanza_add_child(presence, c);
    xmppc_stanza_unref(c);
    if (rc == 0)
        mgr->announced = true;
    return rc;
}

static caps_entry *caps_find(caps_entry *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return &v[i];
    return NULL;
}

static int caps_put(caps_entry **v, size_t *n, const char *key, const char *ver,
                    xmppc_disco_info *info)
{
    caps_entry *e = caps_find(*v, *n, key);
    char *nver = NULL;
    if (dup_opt(&nver, ver) < 0)
        return XMPPC_ENOMEM;
    if (e) {
        xmppc_free(e->ver);
        e->ver = nver;
        xmppc_disco_info_unref(e->info);
        e->info = xmppc_disco_info_ref(info);
        return 0;
    }
    if (*n >= CACHE_MAX) {
        caps_entry_free(&(*v)[0]);
        memmove(*v, *v + 1, --*n * sizeof **v);
    }
    caps_entry ne = {xmppc__strdup(key), nver, NULL};
    caps_entry *nv = NULL;
    if (!ne.key || !(nv = xmppc__reallocarray(*v, *n + 1, sizeof *nv))) {
        caps_entry_free(&ne);
        return XMPPC_ENOMEM;
    }
    ne.info = xmppc_disco_info_ref(info);
    nv[(*n)++] = ne;
    *v = nv;
    return 0;
}

static void caps_remove(caps_entry *v, size_t *n, const char *key)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(v[i].key, key) == 0) {
            caps_entry_free(&v[i]);
            memmove(v + i, v + i + 1, (*n - i - 1) * sizeof *v);
            (*n)--;
            return;
        }
    }
}

XMPPC_API xmppc_disco_info *xmppc_caps_get_info(xmppc_disco *mgr,
                                                const char *jid)
{
    char *prepped = NULL;
    if (!mgr || !jid || xmppc_jid_prep(&prepped, jid) < 0)
        return NULL;
    caps_entry *j = caps_find(mgr->jids, mgr->njids, prepped);
    xmppc_free(prepped);
    caps_entry *v = j ? caps_find(mgr->vers, mgr->nvers, j->ver) : NULL;
    return v ? v->info : NULL;
}

static void pending_remove(xmppc_disco *mgr, const char *ver)
{
    for (size_t i = 0; i < mgr->npending; i++) {
        if (strcmp(mgr->pending[i], ver) == 0) {
            xmppc_free(mgr->pending[i]);
            mgr->pending[i] = mgr->pending[--mgr->npending];
            return;
        }
    }
}

typedef struct caps_query {
    xmppc_disco *mgr;
    char *ver;
    char *jid;
} caps_query;

static void caps_query_free(void *data)
{
    caps_query *q = data;
    pending_remove(q->mgr, q->ver);
    xmppc_free(q->ver);
    xmppc_free(q->jid);
    xmppc_free(q);
}

static void caps_reply(xmppc_conn *conn, xmppc_stanza *reply,
                       const xmppc_error *err, void *ud)
{
    (void)conn;
    caps_query *q = ud;
    xmppc_disco *mgr = q->mgr;
    if (err) {
        xmppc__log(&mgr->log, XMPPC_LOG_DEBUG, "disco",
                   "caps: %s did not answer for ver %s: %s", q->jid, q->ver,
                   err->message);
        return;
    }
    xmppc_disco_info *info = NULL;
    char *ver = NULL;
    xmppc_stanza *query =
        xmppc_stanza_get_child(reply, "query", XMPPC_NS_DISCO_INFO);
    if (!query || xmppc_disco_info_parse(&info, query) < 0 ||
        !caps_acceptable(info) || xmppc_caps_compute_ver(&ver, info) < 0 ||
        strcmp(ver, q->ver) != 0) {
        xmppc__log(&mgr->log, XMPPC_LOG_WARN, "disco",
                   "caps: the answer of %s does not match ver %s (hash %s); "
                   "not cached",
                   q->jid, q->ver, ver ? ver : "not computed");
        xmppc_error_clear();
    } else if (caps_put(&mgr->vers, &mgr->nvers, q->ver, NULL, info) < 0) {
        xmppc_error_clear();
    }
    xmppc_free(ver);
    xmppc_disco_info_unref(info);
}

static void caps_lookup(xmppc_disco *mgr, const char *jid, const char *node,
                        const char *ver)
{
    for (size_t i = 0; i < mgr->npending; i++)
        if (strcmp(mgr->pending[i], ver) == 0)
            return; /* already asked someone */
    char **np =
        xmppc__reallocarray(mgr->pending, mgr->npending + 1, sizeof *np);
    if (!np)
        return;
    mgr->pending = np;
    caps_query *q = xmppc__calloc(1, sizeof *q);
    if (!q)
        return;
    q->mgr = mgr;
    sbuf nodever = {0};
    sb_add(&nodever, node);
    sb_add(&nodever, "#");
    sb_add(&nodever, ver);
    xmppc_stanza *iq = NULL, *query = NULL;
    int rc = nodever.err;
    if (rc == 0 &&
        (!(q->ver = xmppc__strdup(ver)) || !(q->jid = xmppc__strdup(jid)) ||
         !(mgr->pending[mgr->npending] = xmppc__strdup(ver))))
        rc = XMPPC_ENOMEM;
    if (rc == 0)
        mgr->npending++;
    if (rc == 0)
        rc = xmppc_iq_new(&iq, "get", jid, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&query, "query", XMPPC_NS_DISCO_INFO);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(query, "node", nodever.p);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, query);
    if (rc == 0)
        rc = xmppc_conn_send_iq(mgr->conn, iq, 0, caps_reply, q,
                                caps_query_free);
    if (rc < 0) {
        if (q->ver)
            pending_remove(mgr, q->ver);
        xmppc_free(q->ver);
        xmppc_free(q->jid);
        xmppc_free(q);
        xmppc_error_clear();
    }
    xmppc_stanza_unref(query);
    xmppc_stanza_unref(iq);
    xmppc_free(nodever.p);
}

static void presence_caps(xmppc_disco *mgr, xmppc_stanza *p, const char *from)
{
    const char *type = xmppc_stanza_get_type(p);
    if (type && strcmp(type, "unavailable") == 0) {
        caps_remove(mgr->jids, &mgr->njids, from);
        return;
    }
    if (type)
        return; /* subscriptions, errors, probes */
    xmppc_stanza *c = xmppc_stanza_get_child(p, "c", XMPPC_NS_CAPS);
    const char *hash = xmppc_stanza_get_attr(c, "hash");
    const char *node = xmppc_stanza_get_attr(c, "node");
    const char *ver = xmppc_stanza_get_attr(c, "ver");
    if (!hash || !node || !ver || strcmp(hash, "sha-1") != 0)
        return; /* legacy or other hash: not supported */
    if (caps_put(&mgr->jids, &mgr->njids, from, ver, NULL) < 0)
        return;
    if (!caps_find(mgr->vers, mgr->nvers, ver))
        caps_lookup(mgr, from, node, ver);
}

static int on_presence(xmppc_conn *conn, xmppc_stanza *p, void *ud)
{
    char *from = NULL;
    const char *raw = xmppc_stanza_get_from(p);
    const char *own = xmppc_conn_get_bound_jid(conn);
    /* Our own presence echoed by the server: we know our caps. */
    if (raw && xmppc_jid_prep(&from, raw) == 0 &&
        !(own && strcmp(from, own) == 0))
        presence_caps(ud, p, from);
    xmppc_free(from);
    xmppc_error_clear();
    return XMPPC_CONTINUE;
}
