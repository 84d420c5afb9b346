/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Presence (RFC 6121 §4): own presence, directed presence, and the
 * presence of others tracked per full JID. Written on the public stanza
 * and connection API only.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xmppc-private.h"
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/jid.h>
#include <xmppc/muc.h>
#include <xmppc/presence.h>
#include <xmppc/stanza.h>

struct xmppc_presence_info {
    char *jid;  /* full (or bare) JID, prepared */
    char *bare; /* its bare JID */
    char *status;
    xmppc_presence_show show;
    int priority;
    int64_t time;
    uint64_t seq; /* arrival order, for "most recent" */
};

typedef struct presence_manager {
    xmppc_presence_show own_show;
    char *own_status;
    int own_priority;
    xmppc_presence_info **entries;
    size_t count, cap;
    uint64_t seq;
    xmppc_handler *tracker;
    xmppc_state_listener *state_listener;
    bool announced; /* own presence sent and not withdrawn: resend on login */
    bool was_ready;
} presence_manager;

static const char manager_key;

static const char *const show_names[] = {"unavailable", "available", "chat",
                                         "away",        "xa",        "dnd"};

XMPPC_API const char *xmppc_presence_show_name(xmppc_presence_show show)
{
    if ((unsigned)show >= sizeof show_names / sizeof show_names[0])
        return NULL;
    return show_names[show];
}

static void info_free(xmppc_presence_info *e)
{
    if (!e)
        return;
    xmppc_free(e->jid);
    xmppc_free(e->bare);
    xmppc_free(e->status);
    xmppc_free(e);
}

static void manager_free(void *data)
{
    presence_manager *m = data;
    xmppc_handler_free(m->tracker);
    xmppc_state_listener_free(m->state_listener);
    for (size_t i = 0; i < m->count; i++)
        info_free(m->entries[i]);
    xmppc_free(m->entries);
    xmppc_free(m->own_status);
    xmppc_free(m);
}

/* Parses an available/unavailable/error presence into @p out (strings
 * borrowed from the stanza, except jid and bare which are allocated).
 * Returns 0, or a negative status when it is not a tracked presence. */
static int parse_presence(const xmppc_stanza *p, xmppc_presence_info *out)
{
    memset(out, 0, sizeof *out);
    const char *type = xmppc_stanza_get_type(p);
    const char *from = xmppc_stanza_get_from(p);
    if (!from || !*from)
        return XMPPC_EINVAL;
    if (type && strcmp(type, "unavailable") != 0 && strcmp(type, "error") != 0)
        return XMPPC_EINVAL; /* subscription types, probe: not ours */
    /* Room occupants are the MUC manager's (muc.h), not contacts. */
    if (xmppc_stanza_get_child(p, "x", XMPPC_NS_MUC_USER))
        return XMPPC_EINVAL;
    xmppc_jid *jid = NULL;
    if (xmppc_jid_parse(&jid, from) < 0) {
        xmppc_error_clear();
        return XMPPC_EINVAL;
    }
    out->jid = xmppc__strdup(xmppc_jid_full(jid));
    out->bare = xmppc__strdup(xmppc_jid_bare(jid));
    xmppc_jid_unref(jid);
    if (!out->jid || !out->bare) {
        xmppc_free(out->jid);
        xmppc_free(out->bare);
        return XMPPC_ENOMEM;
    }
    out->time = (int64_t)time(NULL);
    out->status = (char *)xmppc_stanza_get_child_text(p, "status", NULL);
    if (type) {
        out->show = XMPPC_PRESENCE_UNAVAILABLE;
        return 0;
    }
    out->show = XMPPC_PRESENCE_AVAILABLE;
    const char *show = xmppc_stanza_get_child_text(p, "show", NULL);
    if (show) {
        for (int s = XMPPC_PRESENCE_CHAT; s <= XMPPC_PRESENCE_DND; s++)
            if (strcmp(show, show_names[s]) == 0)
                out->show = (xmppc_presence_show)s;
    }
    const char *prio = xmppc_stanza_get_child_text(p, "priority", NULL);
    if (prio) {
        char *end = NULL;
        long v = strtol(prio, &end, 10);
        if (end != prio && *end == '\0' && v >= -128 && v <= 127)
            out->priority = (int)v;
    }
    return 0;
}

static void remove_at(presence_manager *m, size_t i)
{
    info_free(m->entries[i]);
    memmove(&m->entries[i], &m->entries[i + 1],
            (m->count - i - 1) * sizeof m->entries[0]);
    m->count--;
}

static int track(xmppc_conn *conn, xmppc_stanza *p, void *userdata)
{
    (void)conn;
    presence_manager *m = userdata;
    xmppc_presence_info in;
    if (parse_presence(p, &in) < 0)
        return XMPPC_CONTINUE;
    bool bare_only = strcmp(in.jid, in.bare) == 0;
    if (in.show == XMPPC_PRESENCE_UNAVAILABLE) {
        for (size_t i = m->count; i-- > 0;) {
            const xmppc_presence_info *e = m->entries[i];
            if (bare_only ? strcmp(e->bare, in.bare) == 0
                          : strcmp(e->jid, in.jid) == 0)
                remove_at(m, i);
        }
        xmppc_free(in.jid);
        xmppc_free(in.bare);
        return XMPPC_CONTINUE;
    }
    xmppc_presence_info *e = NULL;
    for (size_t i = 0; i < m->count && !e; i++)
        if (strcmp(m->entries[i]->jid, in.jid) == 0)
            e = m->entries[i];
    char *status = in.status ? xmppc__strdup(in.status) : NULL;
    if (in.status && !status)
        goto fail;
    if (!e) {
        if (m->count == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 8;
            void *n = xmppc__reallocarray(m->entries, cap, sizeof *m->entries);
            if (!n)
                goto fail;
            m->entries = n;
            m->cap = cap;
        }
        e = xmppc__calloc(1, sizeof *e);
        if (!e)
            goto fail;
        e->jid = in.jid;
        e->bare = in.bare;
        in.jid = in.bare = NULL;
        m->entries[m->count++] = e;
    }
    xmppc_free(e->status);
    e->status = status;
    e->show = in.show;
    e->priority = in.priority;
    e->time = in.time;
    e->seq = ++m->seq;
    xmppc_free(in.jid);
    xmppc_free(in.bare);
    return XMPPC_CONTINUE;
fail:
    xmppc_free(status);
    xmppc_free(in.jid);
    xmppc_free(in.bare);
    xmppc_conn_log(conn, XMPPC_LOG_WARN, "presence",
                   "out of memory: a presence was not recorded");
    xmppc_error_clear();
    return XMPPC_CONTINUE;
}

static void forget_entries(presence_manager *m)
{
    for (size_t i = 0; i < m->count; i++)
        info_free(m->entries[i]);
    m->count = 0;
}

static int send_presence(xmppc_conn *conn, const char *to,
                         xmppc_presence_show show, const char *status,
                         int priority);

/* A new session starts with nobody's presence known and, if the
 * application had announced its own, announces it again. */
static void on_state(xmppc_conn *conn, xmppc_conn_state state,
                     const xmppc_error *err, void *userdata)
{
    (void)err;
    presence_manager *m = userdata;
    if (state == XMPPC_STATE_READY) {
        m->was_ready = true;
        if (m->announced && send_presence(conn, NULL, m->own_show,
                                          m->own_status, m->own_priority) < 0)
            xmppc_conn_log(conn, XMPPC_LOG_WARN, "presence",
                           xmppc_error_last()->message);
    } else if (m->was_ready && state == XMPPC_STATE_DISCONNECTED) {
        m->was_ready = false;
        forget_entries(m);
    }
}

static presence_manager *get_manager(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "presence: NULL connection");
        return NULL;
    }
    presence_manager *m = xmppc_conn_attached(conn, &manager_key);
    if (m)
        return m;
    m = xmppc__calloc(1, sizeof *m);
    if (!m) {
        xmppc__error(XMPPC_ENOMEM, "presence: out of memory");
        return NULL;
    }
    m->own_show = XMPPC_PRESENCE_AVAILABLE;
    if (xmppc_conn_attach(conn, &manager_key, m, manager_free) < 0) {
        xmppc_free(m);
        return NULL;
    }
    m->was_ready = xmppc_conn_get_state(conn) == XMPPC_STATE_READY;
    if (xmppc_conn_add_handler(conn, &m->tracker, "presence", NULL, NULL, track,
                               m, NULL) < 0 ||
        xmppc_conn_add_state_listener(conn, &m->state_listener, on_state, m,
                                      NULL) < 0) {
        int code = xmppc_error_last()->code;
        xmppc_conn_attach(conn, &manager_key, NULL, NULL); /* frees m */
        xmppc__error(code, "presence: cannot set up the presence manager");
        return NULL;
    }
    return m;
}

/* ---- sending ------------------------------------------------------------ */

static int build(xmppc_stanza **out, const char *to, xmppc_presence_show show,
                 const char *status, int priority)
{
    if ((unsigned)show > XMPPC_PRESENCE_DND)
        return xmppc__error(XMPPC_EINVAL, "presence: invalid show value");
    if (priority < -128 || priority > 127)
        return xmppc__error(XMPPC_EINVAL, "presence: priority out of range");
    xmppc_stanza *p = NULL;
    int rc = xmppc_presence_new(
        &p, show == XMPPC_PRESENCE_UNAVAILABLE ? "unavailable" : NULL, to);
    if (rc == 0 && show >= XMPPC_PRESENCE_CHAT)
        rc = xmppc_stanza_add_text_child(p, "show", NULL, show_names[show]);
    if (rc == 0 && status)
        rc = xmppc_stanza_add_text_child(p, "status", NULL, status);
    if (rc == 0 && priority != 0 && show != XMPPC_PRESENCE_UNAVAILABLE) {
        char buf[8];
        snprintf(buf, sizeof buf, "%d", priority);
        rc = xmppc_stanza_add_text_child(p, "priority", NULL, buf);
    }
    if (rc < 0) {
        xmppc_stanza_unref(p);
        return rc;
    }
    *out = p;
    return 0;
}

static int send_presence(xmppc_conn *conn, const char *to,
                         xmppc_presence_show show, const char *status,
                         int priority)
{
    xmppc_stanza *p = NULL;
    int rc = build(&p, to, show, status, priority);
    /* XEP-0115: available presence carries the entity capabilities when a
     * disco manager is set up; without them the presence still goes. */
    xmppc_disco *disco = xmppc_disco_find(conn);
    if (rc == 0 && disco && show != XMPPC_PRESENCE_UNAVAILABLE &&
        xmppc_caps_attach(disco, p) < 0)
        xmppc_conn_log(conn, XMPPC_LOG_WARN, "presence",
                       xmppc_error_last()->message);
    if (rc == 0)
        rc = xmppc_conn_send(conn, p);
    xmppc_stanza_unref(p);
    return rc;
}

XMPPC_API int xmppc_presence_set_own(xmppc_conn *conn, xmppc_presence_show show,
                                     const char *status, int priority)
{
    presence_manager *m = get_manager(conn);
    if (!m)
        return xmppc_error_last()->code;
    if (show == XMPPC_PRESENCE_UNAVAILABLE ||
        (unsigned)show > XMPPC_PRESENCE_DND)
        return xmppc__error(XMPPC_EINVAL, "presence_set_own: invalid show");
    if (priority < -128 || priority > 127)
        return xmppc__error(XMPPC_EINVAL, "presence: priority out of range");
    char *copy = NULL;
    if (status && !(copy = xmppc__strdup(status)))
        return xmppc__error(XMPPC_ENOMEM, "presence: out of memory");
    xmppc_free(m->own_status);
    m->own_status = copy;
    m->own_show = show;
    m->own_priority = priority;
    return xmppc_presence_resend_own(conn);
}

XMPPC_API int xmppc_presence_resend_own(xmppc_conn *conn)
{
    presence_manager *m = get_manager(conn);
    if (!m)
        return xmppc_error_last()->code;
    m->announced = true; /* also when not ready: sent at the next login */
    return send_presence(conn, NULL, m->own_show, m->own_status,
                         m->own_priority);
}

XMPPC_API int xmppc_presence_send_to(xmppc_conn *conn, const char *to,
                                     xmppc_presence_show show,
                                     const char *status, int priority)
{
    if (!conn || !to)
        return xmppc__error(XMPPC_EINVAL, "presence_send_to: NULL argument");
    if (!get_manager(conn))
        return xmppc_error_last()->code;
    return send_presence(conn, to, show, status, priority);
}

XMPPC_API int xmppc_presence_update_own(xmppc_conn *conn)
{
    if (!conn)
        return xmppc__error(XMPPC_EINVAL, "presence: NULL connection");
    presence_manager *m = xmppc_conn_attached(conn, &manager_key);
    if (!m || !m->announced || xmppc_conn_get_state(conn) != XMPPC_STATE_READY)
        return 0;
    int rc =
        send_presence(conn, NULL, m->own_show, m->own_status, m->own_priority);
    return rc < 0 ? rc : 1;
}

XMPPC_API int xmppc_presence_send_unavailable(xmppc_conn *conn,
                                              const char *status)
{
    presence_manager *m = get_manager(conn);
    if (!m)
        return xmppc_error_last()->code;
    m->announced = false;
    return send_presence(conn, NULL, XMPPC_PRESENCE_UNAVAILABLE, status, 0);
}

/* ---- queries ------------------------------------------------------------ */

XMPPC_API const char *xmppc_presence_info_jid(const xmppc_presence_info *info)
{
    return info ? info->jid : NULL;
}

XMPPC_API xmppc_presence_show
xmppc_presence_info_show(const xmppc_presence_info *info)
{
    return info ? info->show : XMPPC_PRESENCE_UNAVAILABLE;
}

XMPPC_API const char *
xmppc_presence_info_status(const xmppc_presence_info *info)
{
    return info ? info->status : NULL;
}

XMPPC_API int xmppc_presence_info_priority(const xmppc_presence_info *info)
{
    return info ? info->priority : 0;
}

XMPPC_API int64_t xmppc_presence_info_time(const xmppc_presence_info *info)
{
    return info ? info->time : 0;
}

/* Rank of a show value for the best-presence rule: higher is better. */
static int show_rank(xmppc_presence_show s)
{
    switch (s) {
    case XMPPC_PRESENCE_CHAT:
        return 5;
    case XMPPC_PRESENCE_AVAILABLE:
        return 4;
    case XMPPC_PRESENCE_AWAY:
        return 3;
    case XMPPC_PRESENCE_XA:
        return 2;
    case XMPPC_PRESENCE_DND:
        return 1;
    default:
        return 0;
    }
}

static bool better(const xmppc_presence_info *a, const xmppc_presence_info *b)
{
    if (a->priority != b->priority)
        return a->priority > b->priority;
    if (show_rank(a->show) != show_rank(b->show))
        return show_rank(a->show) > show_rank(b->show);
    return a->seq > b->seq;
}

/* Prepares @p jid into full and bare forms; false when invalid. */
static bool prep(const char *jid, char **full, char **bare)
{
    xmppc_jid *j = NULL;
    if (!jid || xmppc_jid_parse(&j, jid) < 0) {
        xmppc_error_clear();
        return false;
    }
    *full = xmppc__strdup(xmppc_jid_full(j));
    *bare = xmppc__strdup(xmppc_jid_bare(j));
    xmppc_jid_unref(j);
    if (!*full || !*bare) {
        xmppc_free(*full);
        xmppc_free(*bare);
        return false;
    }
    return true;
}

XMPPC_API const xmppc_presence_info *xmppc_presence_get(xmppc_conn *conn,
                                                        const char *jid)
{
    presence_manager *m = get_manager(conn);
    char *full = NULL, *bare = NULL;
    if (!m || !prep(jid, &full, &bare))
        return NULL;
    bool is_bare = strcmp(full, bare) == 0;
    const xmppc_presence_info *best = NULL;
    for (size_t i = 0; i < m->count; i++) {
        const xmppc_presence_info *e = m->entries[i];
        if (!is_bare) {
            if (strcmp(e->jid, full) == 0) {
                best = e;
                break;
            }
        } else if (strcmp(e->bare, bare) == 0 && (!best || better(e, best))) {
            best = e;
        }
    }
    xmppc_free(full);
    xmppc_free(bare);
    return best;
}

XMPPC_API size_t xmppc_presence_count(xmppc_conn *conn, const char *jid)
{
    presence_manager *m = get_manager(conn);
    char *full = NULL, *bare = NULL;
    if (!m || !prep(jid, &full, &bare))
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < m->count; i++)
        n += strcmp(m->entries[i]->bare, bare) == 0;
    xmppc_free(full);
    xmppc_free(bare);
    return n;
}

XMPPC_API const xmppc_presence_info *
xmppc_presence_at(xmppc_conn *conn, const char *jid, size_t index)
{
    presence_manager *m = get_manager(conn);
    char *full = NULL, *bare = NULL;
    if (!m || !prep(jid, &full, &bare))
        return NULL;
    const xmppc_presence_info *found = NULL;
    for (size_t i = 0; i < m->count && !found; i++)
        if (strcmp(m->entries[i]->bare, bare) == 0 && index-- == 0)
            found = m->entries[i];
    xmppc_free(full);
    xmppc_free(bare);
    return found;
}

XMPPC_API void xmppc_presence_clear(xmppc_conn *conn)
{
    presence_manager *m = get_manager(conn);
    if (!m)
        return;
    forget_entries(m);
}

/* ---- listeners ---------------------------------------------------------- */

typedef struct listener {
    xmppc_presence_change_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} listener;

static void listener_destroy(void *data)
{
    listener *l = data;
    if (l->destroy)
        l->destroy(l->userdata);
    xmppc_free(l);
}

static int change_handler(xmppc_conn *conn, xmppc_stanza *p, void *userdata)
{
    const listener *l = userdata;
    xmppc_presence_info in;
    if (parse_presence(p, &in) < 0) {
        xmppc_error_clear();
        return XMPPC_CONTINUE;
    }
    l->cb(conn, in.jid, &in, l->userdata);
    xmppc_free(in.jid);
    xmppc_free(in.bare);
    return XMPPC_CONTINUE;
}

XMPPC_API int xmppc_presence_on_change(xmppc_conn *conn,
                                       xmppc_handler **handle_out,
                                       xmppc_presence_change_cb cb,
                                       void *userdata, xmppc_destroy_cb destroy)
{
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL, "presence_on_change: NULL argument");
    if (!get_manager(conn))
        return xmppc_error_last()->code;
    listener *l = xmppc__malloc(sizeof *l);
    if (!l)
        return xmppc__error(XMPPC_ENOMEM, "presence: out of memory");
    *l = (listener){cb, userdata, destroy};
    int rc = xmppc_conn_add_handler(conn, handle_out, "presence", NULL, NULL,
                                    change_handler, l, listener_destroy);
    if (rc < 0)
        xmppc_free(l);
    return rc;
}
