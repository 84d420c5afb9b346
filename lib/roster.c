/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The roster (RFC 6121 §2-3) with XEP-0237 versioning, written on the
 * public stanza and connection API only. The stored roster is read back
 * with xmppc_stanza_from_string() (the restricted reader).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listeners.h"
#include "xmppc-private.h"
#include <xmppc/conn.h>
#include <xmppc/jid.h>
#include <xmppc/presence.h>
#include <xmppc/roster.h>
#include <xmppc/stanza.h>

struct xmppc_roster_item {
    char *jid; /* bare, prepared */
    char *name;
    char **groups;
    size_t group_count;
    xmppc_roster_subscription sub;
    bool ask, approved;
};

typedef enum { EV_ADDED, EV_UPDATED, EV_REMOVED } event_kind;

struct xmppc_roster {
    xmppc_conn *conn;
    xmppc_roster_item **items;
    size_t count, cap;
    char *ver;
    bool loaded;
    xmppc_roster_sub_mode mode;
    xmppc_handler *push_handler, *sub_handler;
    xmppc_roster_load_cb load;
    xmppc_roster_save_cb save;
    void *store_ud;
    xmppc_destroy_cb store_destroy;
    xmppc__listeners listeners;
    xmppc_state_listener *state_listener;
    bool load_at_login;
};

static const char manager_key;

static const char *const sub_names[] = {"none", "to", "from", "both", "remove"};

XMPPC_API const char *
xmppc_roster_subscription_name(xmppc_roster_subscription sub)
{
    if ((unsigned)sub > XMPPC_SUB_REMOVE)
        return NULL;
    return sub_names[sub];
}

static void log_msg(xmppc_roster *r, xmppc_log_level level, const char *msg)
{
    xmppc_conn_log(r->conn, level, "roster", msg);
}

/* ---- items -------------------------------------------------------------- */

/* The first (@p prev NULL) or next child element named @p name. */
static const xmppc_stanza *
next_child(const xmppc_stanza *s, const xmppc_stanza *prev, const char *name)
{
    return prev ? xmppc_stanza_get_next_child(s, prev, name, NULL)
                : xmppc_stanza_get_child(s, name, NULL);
}

static void item_free(xmppc_roster_item *it)
{
    if (!it)
        return;
    xmppc_free(it->jid);
    xmppc_free(it->name);
    for (size_t i = 0; i < it->group_count; i++)
        xmppc_free(it->groups[i]);
    xmppc_free(it->groups);
    xmppc_free(it);
}

/* The prepared bare form of @p jid, or NULL (error set). */
static char *bare_of(const char *jid)
{
    xmppc_jid *j = NULL;
    if (!jid || xmppc_jid_parse(&j, jid) < 0)
        return NULL;
    char *bare = xmppc__strdup(xmppc_jid_bare(j));
    xmppc_jid_unref(j);
    return bare;
}

/* Builds an item from an <item/> element; NULL for an invalid one. */
static xmppc_roster_item *item_parse(const xmppc_stanza *el)
{
    xmppc_roster_item *it = xmppc__calloc(1, sizeof *it);
    if (!it)
        return NULL;
    it->jid = bare_of(xmppc_stanza_get_attr(el, "jid"));
    const char *name = xmppc_stanza_get_attr(el, "name");
    const char *sub = xmppc_stanza_get_attr(el, "subscription");
    const char *ask = xmppc_stanza_get_attr(el, "ask");
    const char *approved = xmppc_stanza_get_attr(el, "approved");
    if (!it->jid || (name && !(it->name = xmppc__strdup(name))))
        goto fail;
    it->sub = XMPPC_SUB_NONE;
    for (int s = 0; sub && s <= XMPPC_SUB_REMOVE; s++)
        if (strcmp(sub, sub_names[s]) == 0)
            it->sub = (xmppc_roster_subscription)s;
    it->ask = ask && strcmp(ask, "subscribe") == 0;
    it->approved = approved && (strcmp(approved, "true") == 0 ||
                                strcmp(approved, "1") == 0);
    const xmppc_stanza *g = NULL;
    while ((g = next_child(el, g, "group"))) {
        const char *text = xmppc_stanza_get_text(g);
        if (!text || !*text)
            continue;
        char **n =
            xmppc__reallocarray(it->groups, it->group_count + 1, sizeof *n);
        if (!n)
            goto fail;
        it->groups = n;
        if (!(n[it->group_count] = xmppc__strdup(text)))
            goto fail;
        it->group_count++;
    }
    return it;
fail:
    item_free(it);
    return NULL;
}

static bool item_equal(const xmppc_roster_item *a, const xmppc_roster_item *b)
{
    if (a->sub != b->sub || a->ask != b->ask || a->approved != b->approved ||
        a->group_count != b->group_count)
        return false;
    if ((a->name == NULL) != (b->name == NULL) ||
        (a->name && strcmp(a->name, b->name) != 0))
        return false;
    for (size_t i = 0; i < a->group_count; i++) { /* groups are a set */
        bool found = false;
        for (size_t k = 0; k < b->group_count && !found; k++)
            found = strcmp(a->groups[i], b->groups[k]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* <item/> for @p it; @p full adds subscription, ask and approved. */
static int item_to_stanza(xmppc_stanza **out, const char *jid, const char *name,
                          const char *const *groups, size_t group_count,
                          const xmppc_roster_item *full)
{
    xmppc_stanza *el = NULL;
    int rc = xmppc_stanza_new(&el, "item", NULL);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(el, "jid", jid);
    if (rc == 0 && name)
        rc = xmppc_stanza_set_attr(el, "name", name);
    if (rc == 0 && full)
        rc = xmppc_stanza_set_attr(el, "subscription", sub_names[full->sub]);
    if (rc == 0 && full && full->ask)
        rc = xmppc_stanza_set_attr(el, "ask", "subscribe");
    if (rc == 0 && full && full->approved)
        rc = xmppc_stanza_set_attr(el, "approved", "true");
    for (size_t i = 0; rc == 0 && i < group_count; i++) {
        if (!groups[i] || !*groups[i])
            rc = xmppc__error(XMPPC_EINVAL, "roster: empty group name");
        else
            rc = xmppc_stanza_add_text_child(el, "group", NULL, groups[i]);
    }
    if (rc < 0) {
        xmppc_stanza_unref(el);
        return rc;
    }
    *out = el;
    return 0;
}

static ssize_t find_index(const xmppc_roster *r, const char *bare)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->items[i]->jid, bare) == 0)
            return (ssize_t)i;
    return -1;
}

/* ---- listeners of item events ------------------------------------------- */

static void fire(xmppc_roster *r, event_kind kind, const xmppc_roster_item *it)
{
    xmppc__listeners_begin(&r->listeners);
    XMPPC__LISTENERS_EACH(l, &r->listeners, kind)
    ((xmppc_roster_item_cb)l->fn)(r, it, l->userdata);
    xmppc__listeners_end(&r->listeners);
}

static int add_ev_listener(xmppc_roster *r, xmppc_handler **handle_out,
                           event_kind kind, xmppc_roster_item_cb cb,
                           void *userdata, xmppc_destroy_cb destroy)
{
    if (!r || !cb)
        return xmppc__error(XMPPC_EINVAL, "roster listener: NULL argument");
    return xmppc__listeners_add(&r->listeners, r->conn, handle_out, kind,
                                (xmppc__listener_fn)cb, userdata, destroy, NULL,
                                NULL);
}

XMPPC_API int xmppc_roster_on_added(xmppc_roster *roster,
                                    xmppc_handler **handle_out,
                                    xmppc_roster_item_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy)
{
    return add_ev_listener(roster, handle_out, EV_ADDED, cb, userdata, destroy);
}

XMPPC_API int xmppc_roster_on_updated(xmppc_roster *roster,
                                      xmppc_handler **handle_out,
                                      xmppc_roster_item_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy)
{
    return add_ev_listener(roster, handle_out, EV_UPDATED, cb, userdata,
                           destroy);
}

XMPPC_API int xmppc_roster_on_removed(xmppc_roster *roster,
                                      xmppc_handler **handle_out,
                                      xmppc_roster_item_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy)
{
    return add_ev_listener(roster, handle_out, EV_REMOVED, cb, userdata,
                           destroy);
}

/* ---- the store ---------------------------------------------------------- */

static void save(xmppc_roster *r)
{
    if (!r->save)
        return;
    xmppc_stanza *q = NULL, *el = NULL;
    int rc = xmppc_stanza_new(&q, "query", XMPPC_NS_ROSTER);
    if (rc == 0 && r->ver)
        rc = xmppc_stanza_set_attr(q, "ver", r->ver);
    for (size_t i = 0; rc == 0 && i < r->count; i++) {
        const xmppc_roster_item *it = r->items[i];
        rc = item_to_stanza(&el, it->jid, it->name,
                            (const char *const *)it->groups, it->group_count,
                            it);
        if (rc == 0)
            rc = xmppc_stanza_add_child(q, el);
        el = xmppc_stanza_unref(el);
    }
    char *xml = NULL;
    if (rc == 0)
        rc = xmppc_stanza_to_string(&xml, NULL, q);
    if (rc == 0)
        r->save(r, r->ver ? r->ver : "", xml, r->store_ud);
    else
        log_msg(r, XMPPC_LOG_WARN, "cannot serialize the roster for the store");
    xmppc_free(xml);
    xmppc_stanza_unref(q);
    xmppc_error_clear();
}

/* Parses a stored query element; NULL when malformed. */
static xmppc_stanza *parse_stored(const char *xml)
{
    xmppc_stanza *q = NULL;
    if (xmppc_stanza_from_string(&q, xml) < 0)
        return NULL;
    const char *name = xmppc_stanza_get_name(q);
    if (!name || strcmp(name, "query") != 0 ||
        strcmp(xmppc_stanza_get_ns(q), XMPPC_NS_ROSTER) != 0)
        q = xmppc_stanza_unref(q);
    return q;
}

XMPPC_API int xmppc_roster_set_store(xmppc_roster *roster,
                                     xmppc_roster_load_cb load,
                                     xmppc_roster_save_cb save_cb,
                                     void *userdata, xmppc_destroy_cb destroy)
{
    if (!roster || (!load) != (!save_cb))
        return xmppc__error(XMPPC_EINVAL, "roster_set_store: bad arguments");
    if (roster->store_destroy)
        roster->store_destroy(roster->store_ud);
    roster->load = load;
    roster->save = save_cb;
    roster->store_ud = load ? userdata : NULL;
    roster->store_destroy = load ? destroy : NULL;
    return 0;
}

/* ---- the file store ----------------------------------------------------- */

/* File format: "xmppc-roster 1\n", the version, "\n", the query element. */
typedef struct file_store {
    char *path;
    char *version, *query; /* the last load */
} file_store;

static void file_store_free(void *data)
{
    file_store *fs = data;
    xmppc_free(fs->path);
    xmppc_free(fs->version);
    xmppc_free(fs->query);
    xmppc_free(fs);
}

static int file_load(xmppc_roster *r, const char **version_out,
                     const char **query_out, void *userdata)
{
    (void)r;
    file_store *fs = userdata;
    xmppc_free(fs->version);
    xmppc_free(fs->query);
    fs->version = fs->query = NULL;
    FILE *f = fopen(fs->path, "rb");
    if (!f)
        return 0;
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *n = xmppc__realloc(data, cap = (cap ? cap * 2 : 8192));
            if (!n)
                break;
            data = n;
        }
        size_t got = fread(data + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (!data)
        return 0;
    data[len] = '\0';
    static const char magic[] = "xmppc-roster 1\n";
    char *v = data + strlen(magic);
    char *nl =
        strncmp(data, magic, strlen(magic)) == 0 ? strchr(v, '\n') : NULL;
    int found = 0;
    if (nl) {
        *nl = '\0';
        fs->version = xmppc__strdup(v);
        fs->query = xmppc__strdup(nl + 1);
        found = fs->version && fs->query;
    }
    xmppc_free(data);
    *version_out = fs->version;
    *query_out = fs->query;
    return found;
}

static void file_save(xmppc_roster *r, const char *version, const char *query,
                      void *userdata)
{
    file_store *fs = userdata;
    if (strchr(version, '\n'))
        version = ""; /* cannot be stored: fetch everything next time */
    size_t n = strlen(fs->path) + 16;
    char *tmp = xmppc__malloc(n);
    if (!tmp)
        return;
    snprintf(tmp, n, "%s.tmpXXXXXX", fs->path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    bool ok = f && fprintf(f, "xmppc-roster 1\n%s\n%s", version, query) >= 0;
    if (f) {
        ok = fflush(f) == 0 && ok;
        ok = fsync(fileno(f)) == 0 && ok;
        ok = fclose(f) == 0 && ok;
    } else if (fd >= 0) {
        close(fd);
    }
    if (fd >= 0 && (!ok || rename(tmp, fs->path) != 0)) {
        unlink(tmp);
        ok = false;
    }
    if (!ok) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot write the roster file %s: %s",
                 fs->path, strerror(errno));
        log_msg(r, XMPPC_LOG_WARN, msg);
    }
    xmppc_free(tmp);
}

XMPPC_API int xmppc_roster_use_file_store(xmppc_roster *roster,
                                          const char *path)
{
    if (!roster || !path || !*path)
        return xmppc__error(XMPPC_EINVAL, "roster_use_file_store: no path");
    file_store *fs = xmppc__calloc(1, sizeof *fs);
    if (!fs || !(fs->path = xmppc__strdup(path))) {
        xmppc_free(fs);
        return xmppc__error(XMPPC_ENOMEM, "roster: out of memory");
    }
    return xmppc_roster_set_store(roster, file_load, file_save, fs,
                                  file_store_free);
}

/* ---- applying changes --------------------------------------------------- */

static int set_ver(xmppc_roster *r, const char *ver)
{
    char *copy = NULL;
    if (ver && !(copy = xmppc__strdup(ver)))
        return XMPPC_ENOMEM;
    xmppc_free(r->ver);
    r->ver = copy;
    return 0;
}

/* Replaces every item with those of @p query (a full roster). */
static int replace_all(xmppc_roster *r, const xmppc_stanza *query)
{
    xmppc_roster_item **items = NULL;
    size_t count = 0;
    const xmppc_stanza *el = NULL;
    while ((el = next_child(query, el, "item"))) {
        xmppc_roster_item *it = item_parse(el);
        if (!it) {
            log_msg(r, XMPPC_LOG_WARN, "ignoring an invalid roster item");
            xmppc_error_clear();
            continue;
        }
        if (it->sub == XMPPC_SUB_REMOVE) {
            item_free(it);
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < count && !dup; i++)
            dup = strcmp(items[i]->jid, it->jid) == 0;
        xmppc_roster_item **n =
            dup ? NULL : xmppc__reallocarray(items, count + 1, sizeof *n);
        if (!n) {
            item_free(it);
            if (dup)
                continue;
            for (size_t i = 0; i < count; i++)
                item_free(items[i]);
            xmppc_free(items);
            return XMPPC_ENOMEM;
        }
        items = n;
        items[count++] = it;
    }
    xmppc_roster_item **old = r->items;
    size_t old_count = r->count;
    r->items = items;
    r->count = r->cap = count;
    for (size_t i = 0; i < old_count; i++)
        if (find_index(r, old[i]->jid) < 0)
            fire(r, EV_REMOVED, old[i]);
    for (size_t i = 0; i < r->count; i++) {
        const xmppc_roster_item *prev = NULL;
        for (size_t k = 0; k < old_count && !prev; k++)
            if (strcmp(old[k]->jid, r->items[i]->jid) == 0)
                prev = old[k];
        if (!prev)
            fire(r, EV_ADDED, r->items[i]);
        else if (!item_equal(prev, r->items[i]))
            fire(r, EV_UPDATED, r->items[i]);
    }
    for (size_t i = 0; i < old_count; i++)
        item_free(old[i]);
    xmppc_free(old);
    return 0;
}

/* Applies one pushed item. */
static int apply_push(xmppc_roster *r, xmppc_roster_item *it)
{
    ssize_t at = find_index(r, it->jid);
    if (it->sub == XMPPC_SUB_REMOVE) {
        if (at >= 0) {
            xmppc_roster_item *gone = r->items[at];
            memmove(&r->items[at], &r->items[at + 1],
                    (r->count - (size_t)at - 1) * sizeof r->items[0]);
            r->count--;
            fire(r, EV_REMOVED, gone);
            item_free(gone);
        }
        item_free(it);
        return 0;
    }
    if (at >= 0) {
        xmppc_roster_item *prev = r->items[at];
        r->items[at] = it;
        fire(r, EV_UPDATED, it);
        item_free(prev);
        return 0;
    }
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        xmppc_roster_item **n = xmppc__reallocarray(r->items, cap, sizeof *n);
        if (!n) {
            item_free(it);
            return XMPPC_ENOMEM;
        }
        r->items = n;
        r->cap = cap;
    }
    r->items[r->count++] = it;
    fire(r, EV_ADDED, it);
    return 0;
}

static void reply_error(xmppc_conn *conn, const xmppc_stanza *iq,
                        const char *type, const char *condition)
{
    xmppc_stanza *err = NULL;
    if (xmppc_stanza_reply_error(&err, iq, type, condition, NULL) == 0)
        xmppc_conn_send(conn, err);
    xmppc_stanza_unref(err);
    xmppc_error_clear();
}

/* Whether a push comes from the own account (RFC 6121 §2.1.6). */
static bool from_own_account(xmppc_conn *conn, const char *from)
{
    if (!from)
        return true;
    const char *own = xmppc_conn_get_jid(conn);
    const char *bound = xmppc_conn_get_bound_jid(conn);
    bool ok = false;
    if (own) {
        xmppc_jid *j = NULL;
        if (xmppc_jid_parse(&j, own) == 0)
            ok = xmppc_jid_str_equal(from, xmppc_jid_bare(j)) == 1;
        xmppc_jid_unref(j);
    }
    if (!ok && bound)
        ok = xmppc_jid_str_equal(from, bound) == 1;
    xmppc_error_clear();
    return ok;
}

static int on_push(xmppc_conn *conn, xmppc_stanza *iq, void *userdata)
{
    xmppc_roster *r = userdata;
    const char *from = xmppc_stanza_get_from(iq);
    if (!from_own_account(conn, from)) {
        char msg[600];
        snprintf(msg, sizeof msg, "ignoring a roster push from %.500s", from);
        log_msg(r, XMPPC_LOG_WARN, msg);
        reply_error(conn, iq, "cancel", "service-unavailable");
        return XMPPC_HANDLED;
    }
    const xmppc_stanza *q =
        xmppc_stanza_get_child(iq, "query", XMPPC_NS_ROSTER);
    const xmppc_stanza *el = xmppc_stanza_get_child(q, "item", NULL);
    if (!el || xmppc_stanza_get_next_child(q, el, "item", NULL)) {
        log_msg(r, XMPPC_LOG_WARN, "roster push without exactly one item");
        reply_error(conn, iq, "modify", "bad-request");
        return XMPPC_HANDLED;
    }
    xmppc_roster_item *it = item_parse(el);
    if (!it) {
        xmppc_error_clear();
        log_msg(r, XMPPC_LOG_WARN, "roster push with an invalid item");
        reply_error(conn, iq, "modify", "bad-request");
        return XMPPC_HANDLED;
    }
    const char *ver = xmppc_stanza_get_attr(q, "ver");
    xmppc_stanza *result = NULL;
    if (xmppc_stanza_reply(&result, iq) == 0)
        xmppc_conn_send(conn, result);
    xmppc_stanza_unref(result);
    if (ver)
        set_ver(r, ver);
    if (apply_push(r, it) < 0)
        log_msg(r, XMPPC_LOG_WARN, "out of memory applying a roster push");
    save(r);
    xmppc_error_clear();
    return XMPPC_HANDLED;
}

/* ---- subscriptions ------------------------------------------------------ */

static int send_sub(xmppc_roster *r, const char *type, const char *jid,
                    const char *status)
{
    if (!r || !jid)
        return xmppc__error(XMPPC_EINVAL, "roster: NULL argument");
    char *bare = bare_of(jid);
    if (!bare)
        return xmppc_error_last()->code;
    xmppc_stanza *p = NULL;
    int rc = xmppc_presence_new(&p, type, bare);
    if (rc == 0 && status)
        rc = xmppc_stanza_add_text_child(p, "status", NULL, status);
    if (rc == 0)
        rc = xmppc_conn_send(r->conn, p);
    xmppc_stanza_unref(p);
    xmppc_free(bare);
    return rc;
}

XMPPC_API int xmppc_roster_subscribe(xmppc_roster *roster, const char *jid,
                                     const char *status)
{
    return send_sub(roster, "subscribe", jid, status);
}

XMPPC_API int xmppc_roster_unsubscribe(xmppc_roster *roster, const char *jid)
{
    return send_sub(roster, "unsubscribe", jid, NULL);
}

XMPPC_API int xmppc_roster_approve(xmppc_roster *roster, const char *jid)
{
    return send_sub(roster, "subscribed", jid, NULL);
}

XMPPC_API int xmppc_roster_deny(xmppc_roster *roster, const char *jid)
{
    return send_sub(roster, "unsubscribed", jid, NULL);
}

XMPPC_API int xmppc_roster_preapprove(xmppc_roster *roster, const char *jid)
{
    if (roster && xmppc_conn_get_state(roster->conn) == XMPPC_STATE_READY &&
        !xmppc_conn_has_stream_feature(roster->conn, "sub",
                                       "urn:xmpp:features:pre-approval"))
        return xmppc__error(XMPPC_ENOTSUP,
                            "roster: the server does not offer pre-approval");
    return send_sub(roster, "subscribed", jid, NULL);
}

XMPPC_API int xmppc_roster_set_subscription_mode(xmppc_roster *roster,
                                                 xmppc_roster_sub_mode mode)
{
    if (!roster || (unsigned)mode > XMPPC_ROSTER_REJECT_ALL)
        return xmppc__error(XMPPC_EINVAL, "roster: invalid subscription mode");
    roster->mode = mode;
    return 0;
}

XMPPC_API xmppc_roster_sub_mode
xmppc_roster_get_subscription_mode(const xmppc_roster *roster)
{
    return roster ? roster->mode : XMPPC_ROSTER_MANUAL;
}

static int on_subscribe(xmppc_conn *conn, xmppc_stanza *p, void *userdata)
{
    (void)conn;
    xmppc_roster *r = userdata;
    const char *from = xmppc_stanza_get_from(p);
    if (!from || r->mode == XMPPC_ROSTER_MANUAL)
        return XMPPC_CONTINUE;
    if (send_sub(r,
                 r->mode == XMPPC_ROSTER_ACCEPT_ALL ? "subscribed"
                                                    : "unsubscribed",
                 from, NULL) < 0)
        log_msg(r, XMPPC_LOG_WARN, "cannot answer a subscription request");
    xmppc_error_clear();
    return XMPPC_CONTINUE;
}

typedef struct sub_listener {
    xmppc_roster *mgr;
    xmppc_roster_sub_request_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} sub_listener;

static void sub_listener_destroy(void *data)
{
    sub_listener *l = data;
    if (l->destroy)
        l->destroy(l->userdata);
    xmppc_free(l);
}

static int sub_request_handler(xmppc_conn *conn, xmppc_stanza *p,
                               void *userdata)
{
    const sub_listener *l = userdata;
    if (l->mgr->mode != XMPPC_ROSTER_MANUAL)
        return XMPPC_CONTINUE;
    char *bare = bare_of(xmppc_stanza_get_from(p));
    if (bare)
        l->cb(conn, bare, xmppc_stanza_get_child_text(p, "status", NULL),
              l->userdata);
    xmppc_free(bare);
    xmppc_error_clear();
    return XMPPC_CONTINUE;
}

XMPPC_API int xmppc_roster_on_subscription_request(
    xmppc_roster *roster, xmppc_handler **handle_out,
    xmppc_roster_sub_request_cb cb, void *userdata, xmppc_destroy_cb destroy)
{
    if (!roster || !cb)
        return xmppc__error(XMPPC_EINVAL, "roster listener: NULL argument");
    sub_listener *l = xmppc__malloc(sizeof *l);
    if (!l)
        return xmppc__error(XMPPC_ENOMEM, "roster: out of memory");
    *l = (sub_listener){roster, cb, userdata, destroy};
    int rc = xmppc_conn_add_handler(roster->conn, handle_out, "presence",
                                    "subscribe", NULL, sub_request_handler, l,
                                    sub_listener_destroy);
    if (rc < 0)
        xmppc_free(l);
    return rc;
}

/* Presence of roster contacts only: a filter around a presence listener. */
typedef struct pres_listener {
    xmppc_roster *mgr;
    xmppc_presence_change_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} pres_listener;

static void pres_filter(xmppc_conn *conn, const char *from,
                        const xmppc_presence_info *info, void *userdata)
{
    const pres_listener *l = userdata;
    if (xmppc_roster_find(l->mgr, from))
        l->cb(conn, from, info, l->userdata);
}

XMPPC_API int xmppc_roster_on_presence_changed(xmppc_roster *roster,
                                               xmppc_handler **handle_out,
                                               xmppc_presence_change_cb cb,
                                               void *userdata,
                                               xmppc_destroy_cb destroy)
{
    if (!roster || !cb)
        return xmppc__error(XMPPC_EINVAL, "roster listener: NULL argument");
    pres_listener *l = xmppc__malloc(sizeof *l);
    if (!l)
        return xmppc__error(XMPPC_ENOMEM, "roster: out of memory");
    *l = (pres_listener){roster, cb, userdata, destroy};
    int rc = xmppc_presence_on_change(roster->conn, handle_out, pres_filter, l,
                                      sub_listener_destroy);
    if (rc < 0)
        xmppc_free(l);
    return rc;
}

/* ---- the manager -------------------------------------------------------- */

static void manager_free(void *data)
{
    xmppc_roster *r = data;
    xmppc_handler_free(r->push_handler);
    xmppc_handler_free(r->sub_handler);
    xmppc_state_listener_free(r->state_listener);
    xmppc__listeners_detach(&r->listeners);
    if (r->store_destroy)
        r->store_destroy(r->store_ud);
    for (size_t i = 0; i < r->count; i++)
        item_free(r->items[i]);
    xmppc_free(r->items);
    xmppc_free(r->ver);
    xmppc_free(r);
}

/* Fetches the roster at each login (RFC 6121 §2.2: before initial
 * presence, hence registered before the presence manager's listener). */
static void on_state(xmppc_conn *conn, xmppc_conn_state state,
                     const xmppc_error *err, void *userdata)
{
    (void)conn, (void)err;
    xmppc_roster *r = userdata;
    if (state == XMPPC_STATE_READY && r->load_at_login &&
        xmppc_roster_request(r, NULL, NULL, NULL) < 0)
        log_msg(r, XMPPC_LOG_WARN, xmppc_error_last()->message);
}

XMPPC_API xmppc_roster *xmppc_roster_get(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "roster_get: NULL connection");
        return NULL;
    }
    xmppc_roster *r = xmppc_conn_attached(conn, &manager_key);
    if (r)
        return r;
    r = xmppc__calloc(1, sizeof *r);
    if (!r) {
        xmppc__error(XMPPC_ENOMEM, "roster: out of memory");
        return NULL;
    }
    r->conn = conn;
    r->load_at_login = true;
    if (xmppc_conn_attach(conn, &manager_key, r, manager_free) < 0) {
        xmppc_free(r);
        return NULL;
    }
    if (xmppc_conn_add_state_listener(conn, &r->state_listener, on_state, r,
                                      NULL) < 0) {
        xmppc_conn_attach(conn, &manager_key, NULL, NULL); /* frees r */
        xmppc__error(XMPPC_ENOMEM, "roster: out of memory");
        return NULL;
    }
    /* The presence manager before the roster's handlers, so that it tracks
     * presence before the roster's listeners look at it. */
    if (xmppc_presence_count(conn, "") == 0)
        xmppc_error_clear();
    if (xmppc_conn_add_handler(conn, &r->push_handler, "iq", "set",
                               XMPPC_NS_ROSTER, on_push, r, NULL) < 0 ||
        xmppc_conn_add_handler(conn, &r->sub_handler, "presence", "subscribe",
                               NULL, on_subscribe, r, NULL) < 0) {
        int code = xmppc_error_last()->code;
        xmppc_conn_attach(conn, &manager_key, NULL, NULL); /* frees r */
        xmppc__error(code, "roster: cannot set up the roster manager");
        return NULL;
    }
    return r;
}

XMPPC_API xmppc_conn *xmppc_roster_get_conn(const xmppc_roster *roster)
{
    return roster ? roster->conn : NULL;
}

XMPPC_API int xmppc_roster_set_load_at_login(xmppc_roster *roster, int enabled)
{
    if (!roster)
        return xmppc__error(XMPPC_EINVAL, "roster: NULL roster");
    roster->load_at_login = enabled != 0;
    return 0;
}

XMPPC_API int xmppc_roster_is_loaded(const xmppc_roster *roster)
{
    return roster && roster->loaded;
}

XMPPC_API const char *xmppc_roster_get_version(const xmppc_roster *roster)
{
    return roster ? roster->ver : NULL;
}

XMPPC_API size_t xmppc_roster_count(const xmppc_roster *roster)
{
    return roster ? roster->count : 0;
}

XMPPC_API const xmppc_roster_item *xmppc_roster_at(const xmppc_roster *roster,
                                                   size_t index)
{
    return roster && index < roster->count ? roster->items[index] : NULL;
}

XMPPC_API const xmppc_roster_item *xmppc_roster_find(const xmppc_roster *roster,
                                                     const char *jid)
{
    if (!roster || !jid)
        return NULL;
    char *bare = bare_of(jid);
    if (!bare) {
        xmppc_error_clear();
        return NULL;
    }
    ssize_t at = find_index(roster, bare);
    xmppc_free(bare);
    return at >= 0 ? roster->items[at] : NULL;
}

XMPPC_API const char *xmppc_roster_item_jid(const xmppc_roster_item *item)
{
    return item ? item->jid : NULL;
}

XMPPC_API const char *xmppc_roster_item_name(const xmppc_roster_item *item)
{
    return item ? item->name : NULL;
}

XMPPC_API xmppc_roster_subscription
xmppc_roster_item_subscription(const xmppc_roster_item *item)
{
    return item ? item->sub : XMPPC_SUB_NONE;
}

XMPPC_API int xmppc_roster_item_ask(const xmppc_roster_item *item)
{
    return item && item->ask;
}

XMPPC_API int xmppc_roster_item_approved(const xmppc_roster_item *item)
{
    return item && item->approved;
}

XMPPC_API size_t xmppc_roster_item_group_count(const xmppc_roster_item *item)
{
    return item ? item->group_count : 0;
}

XMPPC_API const char *xmppc_roster_item_group_at(const xmppc_roster_item *item,
                                                 size_t index)
{
    return item && index < item->group_count ? item->groups[index] : NULL;
}

/* ---- requests ----------------------------------------------------------- */

typedef struct request {
    xmppc_roster *r;
    bool fetch;
    xmppc_stanza *stored; /* the stored query of a versioned fetch */
    xmppc_roster_result_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} request;

static void request_free(void *data)
{
    request *q = data;
    if (q->destroy)
        q->destroy(q->userdata);
    xmppc_stanza_unref(q->stored);
    xmppc_free(q);
}

static void on_reply(xmppc_conn *conn, xmppc_stanza *reply,
                     const xmppc_error *err, void *userdata)
{
    (void)conn;
    request *q = userdata;
    xmppc_roster *r = q->r;
    if (!err && q->fetch) {
        const xmppc_stanza *query =
            xmppc_stanza_get_child(reply, "query", XMPPC_NS_ROSTER);
        const xmppc_stanza *use = query ? query : q->stored;
        int rc = 0;
        if (use) {
            rc = set_ver(r, xmppc_stanza_get_attr(use, "ver"));
            if (rc == 0)
                rc = replace_all(r, use);
        }
        if (rc < 0) {
            xmppc__error(rc, "roster: out of memory");
            err = xmppc_error_last();
        } else {
            r->loaded = true;
            if (query)
                save(r);
        }
    }
    if (q->cb)
        q->cb(r, err, q->userdata);
    xmppc_error_clear();
}

static int send_request(xmppc_roster *r, xmppc_stanza *iq, request *tmpl)
{
    request *q = xmppc__malloc(sizeof *q);
    if (!q) {
        xmppc_stanza_unref(tmpl->stored);
        return xmppc__error(XMPPC_ENOMEM, "roster: out of memory");
    }
    *q = *tmpl;
    int rc = xmppc_conn_send_iq(r->conn, iq, 0, on_reply, q, request_free);
    if (rc < 0) {
        xmppc_stanza_unref(q->stored);
        xmppc_free(q);
    }
    return rc;
}

XMPPC_API int xmppc_roster_request(xmppc_roster *roster,
                                   xmppc_roster_result_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy)
{
    if (!roster)
        return xmppc__error(XMPPC_EINVAL, "roster_request: NULL roster");
    request tmpl = {roster, true, NULL, cb, userdata, destroy};
    const char *ver = NULL;
    /* RFC 6121 §2.6.1: ver only to a server that offers versioning. */
    if (roster->load &&
        xmppc_conn_has_stream_feature(roster->conn, "ver",
                                      "urn:xmpp:features:rosterver")) {
        const char *v = NULL, *query = NULL;
        if (roster->load(roster, &v, &query, roster->store_ud) > 0 && v &&
            query) {
            tmpl.stored = parse_stored(query);
            if (tmpl.stored &&
                xmppc_stanza_set_attr(tmpl.stored, "ver", v) == 0)
                ver = xmppc_stanza_get_attr(tmpl.stored, "ver");
            else
                log_msg(roster, XMPPC_LOG_WARN,
                        "the stored roster is unreadable: fetching it all");
        }
        if (!ver)
            ver = "";
    }
    xmppc_stanza *iq = NULL, *query = NULL;
    int rc = xmppc_iq_new(&iq, "get", NULL, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&query, "query", XMPPC_NS_ROSTER);
    if (rc == 0 && ver)
        rc = xmppc_stanza_set_attr(query, "ver", ver);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, query);
    if (rc == 0)
        rc = send_request(roster, iq, &tmpl);
    else
        xmppc_stanza_unref(tmpl.stored);
    xmppc_stanza_unref(query);
    xmppc_stanza_unref(iq);
    return rc;
}

/* iq set with one item. */
static int send_item(xmppc_roster *r, xmppc_stanza *item,
                     xmppc_roster_result_cb cb, void *userdata,
                     xmppc_destroy_cb destroy)
{
    xmppc_stanza *iq = NULL, *query = NULL;
    int rc = xmppc_iq_new(&iq, "set", NULL, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&query, "query", XMPPC_NS_ROSTER);
    if (rc == 0)
        rc = xmppc_stanza_add_child(query, item);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, query);
    request tmpl = {r, false, NULL, cb, userdata, destroy};
    if (rc == 0)
        rc = send_request(r, iq, &tmpl);
    xmppc_stanza_unref(query);
    xmppc_stanza_unref(iq);
    return rc;
}

static int set_item(xmppc_roster *r, const char *jid, const char *name,
                    const char *const *groups, size_t group_count,
                    xmppc_roster_result_cb cb, void *userdata,
                    xmppc_destroy_cb destroy)
{
    if (!r || !jid || (group_count && !groups))
        return xmppc__error(XMPPC_EINVAL, "roster: NULL argument");
    char *bare = bare_of(jid);
    if (!bare)
        return xmppc_error_last()->code;
    xmppc_stanza *item = NULL;
    int rc = item_to_stanza(&item, bare, name, groups, group_count, NULL);
    if (rc == 0)
        rc = send_item(r, item, cb, userdata, destroy);
    xmppc_stanza_unref(item);
    xmppc_free(bare);
    return rc;
}

XMPPC_API int xmppc_roster_add(xmppc_roster *roster, const char *jid,
                               const char *name, const char *const *groups,
                               size_t group_count, xmppc_roster_result_cb cb,
                               void *userdata, xmppc_destroy_cb destroy)
{
    return set_item(roster, jid, name, groups, group_count, cb, userdata,
                    destroy);
}

XMPPC_API int xmppc_roster_rename(xmppc_roster *roster, const char *jid,
                                  const char *name, xmppc_roster_result_cb cb,
                                  void *userdata, xmppc_destroy_cb destroy)
{
    const xmppc_roster_item *it = xmppc_roster_find(roster, jid);
    return set_item(roster, jid, name,
                    it ? (const char *const *)it->groups : NULL,
                    it ? it->group_count : 0, cb, userdata, destroy);
}

XMPPC_API int xmppc_roster_set_groups(xmppc_roster *roster, const char *jid,
                                      const char *const *groups,
                                      size_t group_count,
                                      xmppc_roster_result_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy)
{
    const xmppc_roster_item *it = xmppc_roster_find(roster, jid);
    return set_item(roster, jid, it ? it->name : NULL, groups, group_count, cb,
                    userdata, destroy);
}

XMPPC_API int xmppc_roster_remove(xmppc_roster *roster, const char *jid,
                                  xmppc_roster_result_cb cb, void *userdata,
                                  xmppc_destroy_cb destroy)
{
    if (!roster || !jid)
        return xmppc__error(XMPPC_EINVAL, "roster_remove: NULL argument");
    char *bare = bare_of(jid);
    if (!bare)
        return xmppc_error_last()->code;
    xmppc_stanza *item = NULL;
    int rc = xmppc_stanza_new(&item, "item", NULL);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(item, "jid", bare);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(item, "subscription", "remove");
    if (rc == 0)
        rc = send_item(roster, item, cb, userdata, destroy);
    xmppc_stanza_unref(item);
    xmppc_free(bare);
    return rc;
}
