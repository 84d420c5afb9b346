/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Multi-User Chat (XEP-0045), direct invitations (XEP-0249) and self-ping
 * (XEP-0410), on the public stanza + dispatcher API.
 */
#include <xmppc/muc.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <xmppc/alloc.h>
#include <xmppc/jid.h>

#include "listeners.h"
#include "xmppc-private.h"

#define NS_DELAY "urn:xmpp:delay"
#define NS_PING "urn:xmpp:ping"
#define NS_DATA "jabber:x:data"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_SID "urn:xmpp:sid:0"
#define DEFAULT_TIMEOUT_MS 30000u
#define DEFAULT_PING_IDLE_MS 300000u
/* Rooms never hold more occupants than this; presences beyond are
 * ignored (logged) so that a hostile room cannot grow memory without
 * bound. */
#define MAX_OCCUPANTS 10000

enum listener_kind { L_EVENT = 1, L_MESSAGE = 2, L_INVITATION = 3 };

struct xmppc_muc_occupant {
    char *nick;
    char *jid; /* room/nick */
    char *real_jid;
    char *status;
    xmppc_muc_role role;
    xmppc_muc_affiliation affiliation;
    xmppc_presence_show show;
    bool self;
};

/* A request answered by presence or a message rather than an iq reply. */
typedef struct pending {
    bool active;
    xmppc_muc_room_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
    xmppc_timer *timer;
    char *arg; /* new nick; subject message id */
} pending;

struct xmppc_muc_room {
    int refs;
    bool held; /* the manager's reference while not LEFT */
    xmppc_muc *muc;
    char *jid;
    char *nick;
    char *password;
    int hist_max, hist_seconds;
    char *hist_since;
    bool auto_rejoin, is_new, rejoin;
    xmppc_presence_show show; /* ours in the room */
    char *status;
    xmppc_muc_room_state state;
    xmppc_muc_occupant **occ;
    size_t nocc, cap;
    char *subject;
    time_t last_seen; /* wall clock of the last room message, for rejoins */
    char *last_sid;   /* its XEP-0359 stanza-id given by the room, or NULL */
    char rejoin_since[64]; /* the 'since' of the last rejoin */
    bool skipping;         /* dropping history already seen (see rejoin) */
    long long last_activity_ms;
    pending join, leave, nick_change, subject_change;
    xmppc_timer *ping_timer;
    bool ping_in_flight;
    xmppc__listeners listeners;
};

struct xmppc_muc {
    xmppc_conn *conn;
    xmppc_handler *presence_handler, *message_handler;
    xmppc_state_listener *state_listener;
    xmppc_muc_room **rooms; /* every live handle (not references) */
    size_t nrooms, cap;
    xmppc__listeners listeners; /* invitations */
    unsigned int timeout_ms, ping_idle_ms, ping_timeout_ms;
    bool was_ready;
};

struct xmppc_muc_event {
    xmppc_muc_event_kind kind;
    const xmppc_muc_occupant *occupant;
    bool self;
    const char *actor, *reason, *old_nick, *alternate, *subject;
    xmppc_muc_role old_role;
    xmppc_muc_affiliation old_affiliation;
    const xmppc_error *error;
    xmppc_stanza *stanza;
    const xmppc_stanza *x; /* muc#user element, for status codes */
};

struct xmppc_muc_invitation {
    const char *room, *inviter, *reason, *password;
    bool direct;
    xmppc_stanza *stanza;
};

static const int manager_key = 0;

/* ---- small helpers ------------------------------------------------------ */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_str(char **dst, const char *src)
{
    char *copy = NULL;
    if (src && !(copy = xmppc__strdup(src)))
        return XMPPC_ENOMEM;
    xmppc_free(*dst);
    *dst = copy;
    return 0;
}

/* Appends a new element to @p parent; borrowed, NULL on failure. */
static xmppc_stanza *add_elem(xmppc_stanza *parent, const char *name,
                              const char *ns)
{
    xmppc_stanza *e = NULL;
    if (!parent || xmppc_stanza_new(&e, name, ns) < 0)
        return NULL;
    int rc = xmppc_stanza_add_child(parent, e);
    xmppc_stanza_unref(e);
    return rc < 0 ? NULL : e;
}

static bool is_type(const xmppc_stanza *s, const char *type)
{
    const char *t = xmppc_stanza_get_type(s);
    return t && strcmp(t, type) == 0;
}

static void log_msg(xmppc_muc *m, xmppc_log_level level, const char *fmt, ...)
    XMPPC_PRINTF(3, 4);
static void log_msg(xmppc_muc *m, xmppc_log_level level, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    xmppc_conn_log(m->conn, level, "muc", text);
}

static const char *const role_names[] = {"none", "visitor", "participant",
                                         "moderator"};
static const char *const affil_names[] = {"none", "outcast", "member", "admin",
                                          "owner"};

static int parse_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

XMPPC_API const char *xmppc_muc_role_name(xmppc_muc_role role)
{
    return (unsigned)role < 4 ? role_names[role] : NULL;
}

XMPPC_API int xmppc_muc_role_parse(const char *name)
{
    return parse_name(role_names, 4, name);
}

XMPPC_API const char *
xmppc_muc_affiliation_name(xmppc_muc_affiliation affiliation)
{
    return (unsigned)affiliation < 5 ? affil_names[affiliation] : NULL;
}

XMPPC_API int xmppc_muc_affiliation_parse(const char *name)
{
    return parse_name(affil_names, 5, name);
}

/* The prepared bare JID of @p str into @p out; @p resource_out gets the
 * prepared resource (or "") when not NULL. 0, or XMPPC_EINVAL. */
static int split_jid(const char *str, char *out, size_t size,
                     char *resource_out, size_t rsize)
{
    xmppc_jid *jid = NULL;
    if (!str || xmppc_jid_parse(&jid, str) < 0)
        return XMPPC_EINVAL;
    snprintf(out, size, "%s", xmppc_jid_bare(jid));
    if (resource_out) {
        const char *r = xmppc_jid_resource(jid);
        snprintf(resource_out, rsize, "%s", r ? r : "");
    }
    xmppc_jid_unref(jid);
    return 0;
}

/* ---- pending requests --------------------------------------------------- */

static void room_release(void *room)
{
    xmppc_muc_room_unref(room);
}

/* Completes @p p with @p err (NULL on success); runs cb then destroy. */
static void pending_done(xmppc_muc_room *room, pending *p,
                         const xmppc_error *err)
{
    if (!p->active)
        return;
    pending done = *p;
    *p = (pending){0};
    xmppc_timer_free(done.timer);
    xmppc_free(done.arg);
    if (done.cb)
        done.cb(room, err, done.userdata);
    if (done.destroy)
        done.destroy(done.userdata);
}

static void pending_fail(xmppc_muc_room *room, pending *p, int code,
                         const char *condition, const char *type,
                         const char *text, const char *what)
{
    if (!p->active)
        return;
    xmppc__error_store store;
    xmppc__error_store_set(&store, code, condition, type, text, "%s: %s%s%s",
                           room->jid, what, condition ? ": " : "",
                           condition ? condition : "");
    pending_done(room, p, &store.pub);
}

/* The error carried by @p stanza as XMPPC_ESTANZA: "ROOM: WHAT: cond". */
static void stanza_error(xmppc__error_store *store, const xmppc_muc_room *room,
                         const xmppc_stanza *stanza, const char *what)
{
    const char *cond = NULL, *type = NULL, *text = NULL;
    if (!xmppc_stanza_get_error(stanza, &cond, &type, &text))
        cond = "undefined-condition";
    xmppc__error_store_set(store, XMPPC_ESTANZA, cond, type, text, "%s: %s: %s",
                           room->jid, what, cond);
}

/* Fails @p p with the error carried by @p stanza. */
static void pending_fail_stanza(xmppc_muc_room *room, pending *p,
                                const xmppc_stanza *stanza, const char *what)
{
    xmppc__error_store store;
    stanza_error(&store, room, stanza, what);
    pending_done(room, p, &store.pub);
}

static void on_pending_timeout(xmppc_conn *conn, void *userdata);

typedef struct timeout_ctx {
    xmppc_muc_room *room;
    pending *p;
} timeout_ctx;

static void timeout_ctx_free(void *data)
{
    timeout_ctx *t = data;
    xmppc_muc_room_unref(t->room);
    xmppc_free(t);
}

/* Drops a request whose stanza could not be sent: its callbacks never
 * run (the call that started it fails instead). */
static void pending_abandon(pending *p)
{
    xmppc_timer_free(p->timer);
    xmppc_free(p->arg);
    *p = (pending){0};
}

static int pending_start(xmppc_muc_room *room, pending *p, xmppc_muc_room_cb cb,
                         void *userdata, xmppc_destroy_cb destroy,
                         const char *arg)
{
    *p = (pending){true, cb, userdata, destroy, NULL, NULL};
    if (arg && !(p->arg = xmppc__strdup(arg))) {
        *p = (pending){0};
        return XMPPC_ENOMEM;
    }
    timeout_ctx *t = xmppc__malloc(sizeof *t);
    if (!t) {
        xmppc_free(p->arg);
        *p = (pending){0};
        return XMPPC_ENOMEM;
    }
    *t = (timeout_ctx){xmppc_muc_room_ref(room), p};
    int rc =
        xmppc_conn_add_timer(room->muc->conn, &p->timer, room->muc->timeout_ms,
                             on_pending_timeout, t, timeout_ctx_free);
    if (rc < 0) {
        timeout_ctx_free(t);
        xmppc_free(p->arg);
        *p = (pending){0};
        return rc;
    }
    return 0;
}

/* ---- occupants ---------------------------------------------------------- */

static void occupant_free(xmppc_muc_occupant *o)
{
    if (!o)
        return;
    xmppc_free(o->nick);
    xmppc_free(o->jid);
    xmppc_free(o->real_jid);
    xmppc_free(o->status);
    xmppc_free(o);
}

static xmppc_muc_occupant *find_occ(const xmppc_muc_room *r, const char *nick)
{
    for (size_t i = 0; i < r->nocc; i++)
        if (strcmp(r->occ[i]->nick, nick) == 0)
            return r->occ[i];
    return NULL;
}

static xmppc_muc_occupant *self_occ(const xmppc_muc_room *r)
{
    for (size_t i = 0; i < r->nocc; i++)
        if (r->occ[i]->self)
            return r->occ[i];
    return NULL;
}

static void remove_occ(xmppc_muc_room *r, xmppc_muc_occupant *o)
{
    for (size_t i = 0; i < r->nocc; i++)
        if (r->occ[i] == o) {
            memmove(&r->occ[i], &r->occ[i + 1],
                    (r->nocc - i - 1) * sizeof *r->occ);
            r->nocc--;
            occupant_free(o);
            return;
        }
}

static void clear_occupants(xmppc_muc_room *r)
{
    for (size_t i = 0; i < r->nocc; i++)
        occupant_free(r->occ[i]);
    r->nocc = 0;
}

static int set_occ_nick(xmppc_muc_room *r, xmppc_muc_occupant *o,
                        const char *nick)
{
    size_t n = strlen(r->jid) + 1 + strlen(nick) + 1;
    char *jid = xmppc__malloc(n), *copy = xmppc__strdup(nick);
    if (!jid || !copy) {
        xmppc_free(jid);
        xmppc_free(copy);
        return XMPPC_ENOMEM;
    }
    snprintf(jid, n, "%s/%s", r->jid, nick);
    xmppc_free(o->nick);
    xmppc_free(o->jid);
    o->nick = copy;
    o->jid = jid;
    return 0;
}

static xmppc_muc_occupant *add_occ(xmppc_muc_room *r, const char *nick)
{
    if (r->nocc >= MAX_OCCUPANTS)
        return NULL;
    if (r->nocc == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        void *p = xmppc__reallocarray(r->occ, cap, sizeof *r->occ);
        if (!p)
            return NULL;
        r->occ = p;
        r->cap = cap;
    }
    xmppc_muc_occupant *o = xmppc__calloc(1, sizeof *o);
    if (!o || set_occ_nick(r, o, nick) < 0) {
        xmppc_free(o);
        return NULL;
    }
    o->show = XMPPC_PRESENCE_AVAILABLE;
    r->occ[r->nocc++] = o;
    return o;
}

/* ---- events ------------------------------------------------------------- */

static void fire_event(xmppc_muc_room *r, const xmppc_muc_event *ev)
{
    xmppc__listeners_begin(&r->listeners);
    XMPPC__LISTENERS_EACH(l, &r->listeners, L_EVENT)
    ((xmppc_muc_event_cb)l->fn)(r, ev, l->userdata);
    xmppc__listeners_end(&r->listeners);
}

static void fire_message(xmppc_muc_room *r, const xmppc_muc_occupant *sender,
                         const char *nick, xmppc_stanza *msg,
                         unsigned int flags)
{
    xmppc__listeners_begin(&r->listeners);
    XMPPC__LISTENERS_EACH(l, &r->listeners, L_MESSAGE)
    ((xmppc_muc_message_cb)l->fn)(r, sender, nick, msg, flags, l->userdata);
    xmppc__listeners_end(&r->listeners);
}

/* ---- room lifetime ------------------------------------------------------ */

static void hold(xmppc_muc_room *r)
{
    if (!r->held) {
        r->held = true;
        xmppc_muc_room_ref(r);
    }
}

static void release_hold(xmppc_muc_room *r)
{
    if (r->held) {
        r->held = false;
        xmppc_muc_room_unref(r);
    }
}

static void stop_ping(xmppc_muc_room *r)
{
    xmppc_timer_free(r->ping_timer);
    r->ping_timer = NULL;
}

static void arm_ping(xmppc_muc_room *r, unsigned int delay_ms);

/* The room is left for good (by us, by the room, or on failure). The
 * caller holds a reference. */
static void become_left(xmppc_muc_room *r)
{
    r->state = XMPPC_MUC_LEFT;
    r->rejoin = false;
    clear_occupants(r);
    stop_ping(r);
    pending_fail(r, &r->nick_change, XMPPC_ECANCELED, NULL, NULL, NULL,
                 "left the room");
    pending_fail(r, &r->subject_change, XMPPC_ECANCELED, NULL, NULL, NULL,
                 "left the room");
    release_hold(r);
}

XMPPC_API xmppc_muc_room *xmppc_muc_room_ref(xmppc_muc_room *room)
{
    if (room)
        room->refs++;
    return room;
}

static void unregister_room(xmppc_muc *m, xmppc_muc_room *r)
{
    for (size_t i = 0; i < m->nrooms; i++)
        if (m->rooms[i] == r) {
            m->rooms[i] = m->rooms[--m->nrooms];
            return;
        }
}

XMPPC_API xmppc_muc_room *xmppc_muc_room_unref(xmppc_muc_room *room)
{
    if (!room || --room->refs > 0)
        return NULL;
    if (room->muc)
        unregister_room(room->muc, room);
    stop_ping(room);
    xmppc__listeners_detach(&room->listeners);
    clear_occupants(room);
    xmppc_free(room->occ);
    xmppc_free(room->jid);
    xmppc_free(room->nick);
    xmppc__free_secret(room->password);
    xmppc_free(room->hist_since);
    xmppc_free(room->subject);
    xmppc_free(room->last_sid);
    xmppc_free(room->status);
    xmppc_free(room);
    return NULL;
}

/* ---- the manager -------------------------------------------------------- */

static xmppc_muc_room *room_by_jid(const xmppc_muc *m, const char *bare)
{
    for (size_t i = 0; i < m->nrooms; i++)
        if (strcmp(m->rooms[i]->jid, bare) == 0)
            return m->rooms[i];
    return NULL;
}

XMPPC_API xmppc_muc *xmppc_muc_find(const xmppc_conn *conn)
{
    return conn ? xmppc_conn_attached(conn, &manager_key) : NULL;
}

XMPPC_API xmppc_conn *xmppc_muc_get_conn(const xmppc_muc *muc)
{
    return muc ? muc->conn : NULL;
}

XMPPC_API int xmppc_muc_set_timeout(xmppc_muc *muc, unsigned int timeout_ms)
{
    if (!muc || !timeout_ms)
        return xmppc__error(XMPPC_EINVAL, "muc_set_timeout: invalid argument");
    muc->timeout_ms = timeout_ms;
    return 0;
}

XMPPC_API int xmppc_muc_set_self_ping(xmppc_muc *muc, unsigned int idle_ms,
                                      unsigned int timeout_ms)
{
    if (!muc)
        return xmppc__error(XMPPC_EINVAL, "muc_set_self_ping: NULL manager");
    muc->ping_idle_ms = idle_ms;
    muc->ping_timeout_ms = timeout_ms;
    for (size_t i = 0; i < muc->nrooms; i++) {
        xmppc_muc_room *r = muc->rooms[i];
        stop_ping(r);
        if (r->state == XMPPC_MUC_JOINED && idle_ms)
            arm_ping(r, idle_ms);
    }
    return 0;
}

XMPPC_API size_t xmppc_muc_joined_count(const xmppc_muc *muc)
{
    size_t n = 0;
    for (size_t i = 0; muc && i < muc->nrooms; i++)
        n += muc->rooms[i]->state == XMPPC_MUC_JOINED;
    return n;
}

XMPPC_API xmppc_muc_room *xmppc_muc_joined_at(const xmppc_muc *muc,
                                              size_t index)
{
    for (size_t i = 0; muc && i < muc->nrooms; i++)
        if (muc->rooms[i]->state == XMPPC_MUC_JOINED && index-- == 0)
            return muc->rooms[i];
    return NULL;
}

XMPPC_API int xmppc_muc_room_get(xmppc_muc *muc, const char *room_jid,
                                 xmppc_muc_room **room_out)
{
    if (room_out)
        *room_out = NULL;
    if (!muc || !room_jid || !room_out)
        return xmppc__error(XMPPC_EINVAL, "muc_room_get: NULL argument");
    xmppc_jid *jid = NULL;
    if (xmppc_jid_parse(&jid, room_jid) < 0)
        return xmppc__error(XMPPC_EINVAL, "muc_room_get: invalid room JID");
    if (!xmppc_jid_is_bare(jid) || !xmppc_jid_local(jid)) {
        xmppc_jid_unref(jid);
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_get: a room JID is room@service, "
                            "without a resource");
    }
    xmppc_muc_room *r = room_by_jid(muc, xmppc_jid_bare(jid));
    if (r) {
        xmppc_jid_unref(jid);
        *room_out = xmppc_muc_room_ref(r);
        return 0;
    }
    if (muc->nrooms == muc->cap) {
        size_t cap = muc->cap ? muc->cap * 2 : 4;
        void *p = xmppc__reallocarray(muc->rooms, cap, sizeof *muc->rooms);
        if (!p) {
            xmppc_jid_unref(jid);
            return XMPPC_ENOMEM;
        }
        muc->rooms = p;
        muc->cap = cap;
    }
    r = xmppc__calloc(1, sizeof *r);
    if (!r || !(r->jid = xmppc__strdup(xmppc_jid_bare(jid)))) {
        xmppc_free(r);
        xmppc_jid_unref(jid);
        return XMPPC_ENOMEM;
    }
    xmppc_jid_unref(jid);
    r->refs = 1;
    r->muc = muc;
    r->hist_max = r->hist_seconds = -1;
    r->auto_rejoin = true;
    r->show = XMPPC_PRESENCE_AVAILABLE;
    muc->rooms[muc->nrooms++] = r;
    *room_out = r;
    return 0;
}

XMPPC_API xmppc_muc_room *xmppc_muc_room_find(const xmppc_muc *muc,
                                              const char *room_jid)
{
    char bare[3072];
    if (!muc || split_jid(room_jid, bare, sizeof bare, NULL, 0) < 0) {
        xmppc_error_clear();
        return NULL;
    }
    return room_by_jid(muc, bare);
}

/* ---- room accessors and settings ---------------------------------------- */

XMPPC_API const char *xmppc_muc_room_get_jid(const xmppc_muc_room *room)
{
    return room ? room->jid : NULL;
}

XMPPC_API xmppc_muc *xmppc_muc_room_get_muc(const xmppc_muc_room *room)
{
    return room ? room->muc : NULL;
}

XMPPC_API xmppc_muc_room_state
xmppc_muc_room_get_state(const xmppc_muc_room *room)
{
    return room ? room->state : XMPPC_MUC_LEFT;
}

XMPPC_API const char *xmppc_muc_room_get_nick(const xmppc_muc_room *room)
{
    return room ? room->nick : NULL;
}

XMPPC_API int xmppc_muc_room_is_new(const xmppc_muc_room *room)
{
    return room && room->is_new;
}

XMPPC_API const char *xmppc_muc_room_get_subject(const xmppc_muc_room *room)
{
    return room ? room->subject : NULL;
}

XMPPC_API int xmppc_muc_room_set_password(xmppc_muc_room *room,
                                          const char *password)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "muc_room_set_password: NULL room");
    char *copy = NULL;
    if (password && !(copy = xmppc__strdup(password)))
        return XMPPC_ENOMEM;
    xmppc__free_secret(room->password);
    room->password = copy;
    return 0;
}

/* XEP-0082 date-time: CCYY-MM-DDThh:mm:ss[.sss](Z|(+|-)hh:mm). */
static bool valid_datetime(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i = 0;
    for (; shape[i]; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
            return false;
    }
    s += i;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if (strcmp(s, "Z") == 0)
        return true;
    return (s[0] == '+' || s[0] == '-') && s[1] >= '0' && s[1] <= '9' &&
           s[2] >= '0' && s[2] <= '9' && s[3] == ':' && s[4] >= '0' &&
           s[4] <= '9' && s[5] >= '0' && s[5] <= '9' && s[6] == '\0';
}

XMPPC_API int xmppc_muc_room_set_history(xmppc_muc_room *room, int max_stanzas,
                                         int seconds, const char *since)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "muc_room_set_history: NULL room");
    if (since && !valid_datetime(since))
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_set_history: 'since' is not a XEP-0082 "
                            "date-time such as 2026-11-21T08:00:00Z");
    if (set_str(&room->hist_since, since) < 0)
        return XMPPC_ENOMEM;
    room->hist_max = max_stanzas < 0 ? -1 : max_stanzas;
    room->hist_seconds = seconds < 0 ? -1 : seconds;
    return 0;
}

XMPPC_API int xmppc_muc_room_set_auto_rejoin(xmppc_muc_room *room, int enabled)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "muc_room_set_auto_rejoin: NULL");
    room->auto_rejoin = enabled != 0;
    return 0;
}

/* ---- joining and leaving ------------------------------------------------ */

static bool ready(const xmppc_muc_room *r)
{
    return r->muc && xmppc_conn_get_state(r->muc->conn) == XMPPC_STATE_READY;
}

/* Checks a nick: 0 with the prepared nick in @p out, or XMPPC_EINVAL. */
static int prep_nick(const xmppc_muc_room *r, const char *nick, char *out,
                     size_t size)
{
    if (!nick || !*nick)
        return xmppc__error(XMPPC_EINVAL, "muc: empty nick");
    char full[4096], bare[3072];
    if ((size_t)snprintf(full, sizeof full, "%s/%s", r->jid, nick) >=
            sizeof full ||
        split_jid(full, bare, sizeof bare, out, size) < 0 || !*out)
        return xmppc__error(XMPPC_EINVAL, "muc: invalid nick '%.64s'", nick);
    return 0;
}

static void format_utc(char *out, size_t size, time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int send_join(xmppc_muc_room *r);

/* Our show and status (and caps) on an available presence to the room. */
static int add_own_presence(const xmppc_muc_room *r, xmppc_stanza *p)
{
    int rc = 0;
    if (r->show != XMPPC_PRESENCE_AVAILABLE)
        rc = xmppc_stanza_add_text_child(p, "show", NULL,
                                         xmppc_presence_show_name(r->show));
    if (rc == 0 && r->status)
        rc = xmppc_stanza_add_text_child(p, "status", NULL, r->status);
    xmppc_disco *disco = xmppc_disco_find(r->muc->conn);
    if (rc == 0 && disco)
        xmppc_caps_attach(disco, p); /* optional: caps are a courtesy */
    return rc;
}

/* Back to JOINING and the join presence again, without callback: the
 * outcome reaches the event listeners (JOINED for us, or ERROR). */
static void rejoin(xmppc_muc_room *r)
{
    clear_occupants(r);
    stop_ping(r);
    r->state = XMPPC_MUC_JOINING;
    r->rejoin = true;
    pending_fail(r, &r->join, XMPPC_ECANCELED, NULL, NULL, NULL, "rejoining");
    if (pending_start(r, &r->join, NULL, NULL, NULL, NULL) < 0 ||
        send_join(r) < 0) {
        log_msg(r->muc, XMPPC_LOG_WARN, "%s: rejoin failed: %s", r->jid,
                xmppc_error_last()->message);
        xmppc_error_clear();
    }
}

/* Sends the join presence (first join or rejoin). */
static int send_join(xmppc_muc_room *r)
{
    char to[4096];
    snprintf(to, sizeof to, "%s/%s", r->jid, r->nick);
    xmppc_stanza *p = NULL;
    int rc = xmppc_presence_new(&p, NULL, to);
    xmppc_stanza *x = rc < 0 ? NULL : add_elem(p, "x", XMPPC_NS_MUC);
    if (!x)
        rc = XMPPC_ENOMEM;
    if (rc == 0 && r->password)
        rc = xmppc_stanza_add_text_child(x, "password", NULL, r->password);
    char since[64] = "", num[32];
    r->skipping = false;
    if (r->rejoin && r->last_seen) {
        format_utc(since, sizeof since, r->last_seen);
        snprintf(r->rejoin_since, sizeof r->rejoin_since, "%s", since);
        r->skipping = r->last_sid != NULL;
    } else if (r->hist_since)
        snprintf(since, sizeof since, "%s", r->hist_since);
    bool history =
        (!r->rejoin && (r->hist_max >= 0 || r->hist_seconds >= 0)) || *since;
    xmppc_stanza *h = NULL;
    if (rc == 0 && history && !(h = add_elem(x, "history", NULL)))
        rc = XMPPC_ENOMEM;
    if (rc == 0 && h && !r->rejoin && r->hist_max >= 0) {
        snprintf(num, sizeof num, "%d", r->hist_max);
        rc = xmppc_stanza_set_attr(h, "maxstanzas", num);
    }
    if (rc == 0 && h && !r->rejoin && r->hist_seconds >= 0) {
        snprintf(num, sizeof num, "%d", r->hist_seconds);
        rc = xmppc_stanza_set_attr(h, "seconds", num);
    }
    if (rc == 0 && h && *since)
        rc = xmppc_stanza_set_attr(h, "since", since);
    if (rc == 0)
        rc = add_own_presence(r, p);
    if (rc == 0)
        rc = xmppc_conn_send(r->muc->conn, p);
    xmppc_stanza_unref(p);
    return rc;
}

XMPPC_API int xmppc_muc_room_join(xmppc_muc_room *room, const char *nick,
                                  xmppc_muc_room_cb cb, void *userdata,
                                  xmppc_destroy_cb destroy)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "muc_room_join: NULL room");
    char prepped[1024];
    int rc = prep_nick(room, nick, prepped, sizeof prepped);
    if (rc < 0)
        return rc;
    if (!ready(room))
        return xmppc__error(XMPPC_ESTATE,
                            "muc_room_join: the connection is not ready");
    if (room->state != XMPPC_MUC_LEFT)
        return xmppc__error(
            XMPPC_ESTATE, "muc_room_join: %s is already %s", room->jid,
            room->state == XMPPC_MUC_JOINED ? "joined" : "being joined");
    if (set_str(&room->nick, prepped) < 0)
        return XMPPC_ENOMEM;
    if ((rc = pending_start(room, &room->join, cb, userdata, destroy, NULL)) <
        0)
        return rc;
    room->rejoin = false;
    room->is_new = false;
    if ((rc = send_join(room)) < 0) {
        pending_abandon(&room->join);
        return rc;
    }
    room->state = XMPPC_MUC_JOINING;
    hold(room);
    return 0;
}

static int send_presence(xmppc_muc_room *r, const char *type, const char *nick,
                         const char *status)
{
    char to[4096];
    snprintf(to, sizeof to, "%s/%s", r->jid, nick);
    xmppc_stanza *p = NULL;
    int rc = xmppc_presence_new(&p, type, to);
    if (rc == 0 && status)
        rc = xmppc_stanza_add_text_child(p, "status", NULL, status);
    if (rc == 0 && !type)
        rc = add_own_presence(r, p);
    if (rc == 0)
        rc = xmppc_conn_send(r->muc->conn, p);
    xmppc_stanza_unref(p);
    return rc;
}

XMPPC_API int xmppc_muc_room_set_presence(xmppc_muc_room *room,
                                          xmppc_presence_show show,
                                          const char *status)
{
    if (!room || show <= XMPPC_PRESENCE_UNAVAILABLE ||
        show > XMPPC_PRESENCE_DND)
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_set_presence: NULL room or invalid "
                            "show (leave the room to be unavailable)");
    if (set_str(&room->status, status) < 0)
        return XMPPC_ENOMEM;
    room->show = show;
    if (room->state != XMPPC_MUC_JOINED || !ready(room))
        return 0;
    return send_presence(room, NULL, room->nick, NULL);
}

XMPPC_API int xmppc_muc_room_leave(xmppc_muc_room *room, const char *status,
                                   xmppc_muc_room_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "muc_room_leave: NULL room");
    if (room->state != XMPPC_MUC_JOINED && room->state != XMPPC_MUC_JOINING)
        return xmppc__error(XMPPC_ESTATE, "muc_room_leave: %s is not joined",
                            room->jid);
    if (!ready(room))
        return xmppc__error(XMPPC_ESTATE,
                            "muc_room_leave: the connection is not ready");
    int rc = pending_start(room, &room->leave, cb, userdata, destroy, NULL);
    if (rc < 0)
        return rc;
    if ((rc = send_presence(room, "unavailable", room->nick, status)) < 0) {
        pending_abandon(&room->leave);
        return rc;
    }
    xmppc_muc_room_ref(room);
    pending_fail(room, &room->join, XMPPC_ECANCELED, NULL, NULL, NULL,
                 "join canceled by leave");
    room->state = XMPPC_MUC_LEAVING;
    room->rejoin = false;
    stop_ping(room);
    xmppc_muc_room_unref(room);
    return 0;
}

XMPPC_API int xmppc_muc_room_change_nick(xmppc_muc_room *room, const char *nick,
                                         xmppc_muc_room_cb cb, void *userdata,
                                         xmppc_destroy_cb destroy)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "muc_room_change_nick: NULL room");
    char prepped[1024];
    int rc = prep_nick(room, nick, prepped, sizeof prepped);
    if (rc < 0)
        return rc;
    if (room->state != XMPPC_MUC_JOINED || !ready(room))
        return xmppc__error(
            XMPPC_ESTATE, "muc_room_change_nick: %s is not joined", room->jid);
    if (room->nick_change.active)
        return xmppc__error(XMPPC_ESTATE, "muc_room_change_nick: a nick "
                                          "change is pending");
    if ((rc = pending_start(room, &room->nick_change, cb, userdata, destroy,
                            prepped)) < 0)
        return rc;
    if ((rc = send_presence(room, NULL, prepped, NULL)) < 0) {
        pending_abandon(&room->nick_change);
    }
    return rc;
}

static void on_pending_timeout(xmppc_conn *conn, void *userdata)
{
    (void)conn;
    timeout_ctx *t = userdata;
    xmppc_muc_room *r = xmppc_muc_room_ref(t->room);
    pending *p = t->p;
    xmppc_timer_free(p->timer); /* this timer: its handle is done */
    p->timer = NULL;
    if (p == &r->leave) {
        pending_done(r, p, NULL); /* left either way */
        if (r->state == XMPPC_MUC_LEAVING)
            become_left(r);
    } else {
        bool joining = p == &r->join && r->state == XMPPC_MUC_JOINING;
        bool rejoining = joining && r->rejoin;
        xmppc__error_store store;
        xmppc__error_store_set(&store, XMPPC_ETIMEDOUT, NULL, NULL, NULL,
                               "%s: no answer from the room", r->jid);
        pending_done(r, p, &store.pub);
        if (joining)
            become_left(r);
        if (rejoining) {
            xmppc_muc_event ev = {
                .kind = XMPPC_MUC_EV_ERROR, .self = true, .error = &store.pub};
            fire_event(r, &ev);
        }
    }
    xmppc_muc_room_unref(r);
}

/* ---- iq requests to the room -------------------------------------------- */

enum req_kind { REQ_PLAIN, REQ_FORM, REQ_AFFILIATIONS };

typedef struct room_req {
    xmppc_muc_room *room;
    enum req_kind kind;
    xmppc_muc_affiliation affiliation;
    union {
        xmppc_muc_room_cb plain;
        xmppc_muc_form_cb form;
        xmppc_muc_affiliations_cb list;
    } cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} room_req;

static void room_req_free(void *data)
{
    room_req *q = data;
    if (q->destroy)
        q->destroy(q->userdata);
    xmppc_muc_room_unref(q->room);
    xmppc_free(q);
}

static void reply_form(room_req *q, xmppc_stanza *reply)
{
    xmppc_stanza *query =
        xmppc_stanza_get_child(reply, "query", XMPPC_NS_MUC_OWNER);
    xmppc_stanza *x = xmppc_stanza_get_child(query, "x", NS_DATA);
    xmppc_form *form = NULL;
    if (!x || xmppc_form_parse(&form, x) < 0) {
        xmppc__error_store store;
        xmppc__error_store_set(&store, XMPPC_EPROTO, NULL, NULL, NULL,
                               "%s: the configuration answer has no valid "
                               "data form",
                               q->room->jid);
        xmppc_error_clear();
        q->cb.form(q->room, NULL, &store.pub, q->userdata);
        return;
    }
    q->cb.form(q->room, form, NULL, q->userdata);
    xmppc_form_unref(form);
}

static void reply_list(room_req *q, xmppc_stanza *reply)
{
    xmppc_stanza *query =
        xmppc_stanza_get_child(reply, "query", XMPPC_NS_MUC_ADMIN);
    size_t n = 0;
    for (xmppc_stanza *it = xmppc_stanza_get_child(query, "item", NULL); it;
         it = xmppc_stanza_get_next_child(query, it, "item", NULL))
        n++;
    xmppc_muc_affiliation_entry *e = xmppc__calloc(n ? n : 1, sizeof *e);
    if (!e) {
        q->cb.list(q->room, NULL, 0, xmppc_error_last(), q->userdata);
        return;
    }
    size_t k = 0;
    for (xmppc_stanza *it = xmppc_stanza_get_child(query, "item", NULL); it;
         it = xmppc_stanza_get_next_child(query, it, "item", NULL)) {
        const char *jid = xmppc_stanza_get_attr(it, "jid");
        if (!jid)
            continue; /* an entry without JID says nothing */
        int a = xmppc_muc_affiliation_parse(
            xmppc_stanza_get_attr(it, "affiliation"));
        e[k++] = (xmppc_muc_affiliation_entry){
            jid, xmppc_stanza_get_attr(it, "nick"),
            xmppc_stanza_get_child_text(it, "reason", NULL),
            a < 0 ? q->affiliation : (xmppc_muc_affiliation)a};
    }
    q->cb.list(q->room, e, k, NULL, q->userdata);
    xmppc_free(e);
}

static void on_room_reply(xmppc_conn *conn, xmppc_stanza *reply,
                          const xmppc_error *err, void *userdata)
{
    (void)conn;
    room_req *q = userdata;
    switch (q->kind) {
    case REQ_PLAIN:
        if (q->cb.plain)
            q->cb.plain(q->room, err, q->userdata);
        break;
    case REQ_FORM:
        if (err)
            q->cb.form(q->room, NULL, err, q->userdata);
        else
            reply_form(q, reply);
        break;
    case REQ_AFFILIATIONS:
        if (err)
            q->cb.list(q->room, NULL, 0, err, q->userdata);
        else
            reply_list(q, reply);
        break;
    }
}

/* Sends @p iq to the room; @p q is consumed (freed on failure without
 * calling destroy). */
static int send_room_iq(xmppc_muc_room *r, xmppc_stanza *iq, room_req *q)
{
    q->room = xmppc_muc_room_ref(r);
    int rc = xmppc_conn_send_iq(r->muc->conn, iq, 0, on_room_reply, q,
                                room_req_free);
    if (rc < 0) {
        q->destroy = NULL;
        room_req_free(q);
    }
    return rc;
}

/* A new iq to the room with a `<query xmlns=ns/>`; the query via
 * @p query_out. */
static int new_room_iq(xmppc_muc_room *r, const char *type, const char *ns,
                       xmppc_stanza **iq_out, xmppc_stanza **query_out)
{
    *iq_out = NULL;
    int rc = xmppc_iq_new(iq_out, type, r->jid, NULL);
    if (rc < 0)
        return rc;
    if (!(*query_out = add_elem(*iq_out, "query", ns))) {
        *iq_out = xmppc_stanza_unref(*iq_out);
        return XMPPC_ENOMEM;
    }
    return 0;
}

static room_req *new_req(enum req_kind kind, void *userdata,
                         xmppc_destroy_cb destroy)
{
    room_req *q = xmppc__calloc(1, sizeof *q);
    if (q) {
        q->kind = kind;
        q->userdata = userdata;
        q->destroy = destroy;
    }
    return q;
}

static int check_room(const xmppc_muc_room *room, const char *what,
                      bool need_joined)
{
    if (!room)
        return xmppc__error(XMPPC_EINVAL, "%s: NULL room", what);
    if (!ready(room))
        return xmppc__error(XMPPC_ESTATE, "%s: the connection is not ready",
                            what);
    if (need_joined && room->state != XMPPC_MUC_JOINED)
        return xmppc__error(XMPPC_ESTATE, "%s: %s is not joined", what,
                            room->jid);
    return 0;
}

/* Sends an owner query whose `x` form has @p form_type (NULL: no form) or
 * the fields of @p form. */
static int owner_form(xmppc_muc_room *room, const char *what,
                      const char *form_type, const xmppc_form *form,
                      xmppc_muc_room_cb cb, void *userdata,
                      xmppc_destroy_cb destroy)
{
    int rc = check_room(room, what, true);
    if (rc < 0)
        return rc;
    xmppc_stanza *iq = NULL, *query = NULL, *x = NULL;
    if ((rc = new_room_iq(room, "set", XMPPC_NS_MUC_OWNER, &iq, &query)) < 0)
        return rc;
    if (!(x = add_elem(query, "x", NS_DATA)) ||
        xmppc_stanza_set_attr(x, "type", form_type) < 0)
        rc = XMPPC_ENOMEM;
    for (size_t i = 0; rc == 0 && form && i < xmppc_form_field_count(form);
         i++) {
        const xmppc_form_field *f = xmppc_form_field_at(form, i);
        const char *var = xmppc_form_field_get_var(f);
        if (!var)
            continue; /* fixed fields carry no value */
        xmppc_stanza *field = add_elem(x, "field", NULL);
        if (!field || xmppc_stanza_set_attr(field, "var", var) < 0) {
            rc = XMPPC_ENOMEM;
            break;
        }
        for (size_t v = 0; rc == 0 && v < xmppc_form_field_value_count(f); v++)
            rc = xmppc_stanza_add_text_child(field, "value", NULL,
                                             xmppc_form_field_value_at(f, v));
    }
    room_req *q = rc < 0 ? NULL : new_req(REQ_PLAIN, userdata, destroy);
    if (q) {
        q->cb.plain = cb;
        rc = send_room_iq(room, iq, q);
    } else if (rc == 0) {
        rc = XMPPC_ENOMEM;
    }
    xmppc_stanza_unref(iq);
    return rc;
}

XMPPC_API int xmppc_muc_room_create_instant(xmppc_muc_room *room,
                                            xmppc_muc_room_cb cb,
                                            void *userdata,
                                            xmppc_destroy_cb destroy)
{
    return owner_form(room, "muc_room_create_instant", "submit", NULL, cb,
                      userdata, destroy);
}

XMPPC_API int xmppc_muc_room_submit_config(xmppc_muc_room *room,
                                           const xmppc_form *form,
                                           xmppc_muc_room_cb cb, void *userdata,
                                           xmppc_destroy_cb destroy)
{
    if (!form)
        return xmppc__error(XMPPC_EINVAL, "muc_room_submit_config: NULL form");
    return owner_form(room, "muc_room_submit_config", "submit", form, cb,
                      userdata, destroy);
}

XMPPC_API int xmppc_muc_room_cancel_config(xmppc_muc_room *room,
                                           xmppc_muc_room_cb cb, void *userdata,
                                           xmppc_destroy_cb destroy)
{
    return owner_form(room, "muc_room_cancel_config", "cancel", NULL, cb,
                      userdata, destroy);
}

XMPPC_API int xmppc_muc_room_get_config(xmppc_muc_room *room,
                                        xmppc_muc_form_cb cb, void *userdata,
                                        xmppc_destroy_cb destroy)
{
    int rc = check_room(room, "muc_room_get_config", true);
    if (rc < 0)
        return rc;
    if (!cb)
        return xmppc__error(XMPPC_EINVAL, "muc_room_get_config: NULL cb");
    xmppc_stanza *iq = NULL, *query = NULL;
    if ((rc = new_room_iq(room, "get", XMPPC_NS_MUC_OWNER, &iq, &query)) < 0)
        return rc;
    room_req *q = new_req(REQ_FORM, userdata, destroy);
    if (!q) {
        xmppc_stanza_unref(iq);
        return XMPPC_ENOMEM;
    }
    q->cb.form = cb;
    rc = send_room_iq(room, iq, q);
    xmppc_stanza_unref(iq);
    return rc;
}

XMPPC_API int xmppc_muc_room_destroy(xmppc_muc_room *room, const char *reason,
                                     const char *alternate,
                                     xmppc_muc_room_cb cb, void *userdata,
                                     xmppc_destroy_cb destroy)
{
    int rc = check_room(room, "muc_room_destroy", false);
    if (rc < 0)
        return rc;
    char alt[3072];
    if (alternate && split_jid(alternate, alt, sizeof alt, NULL, 0) < 0)
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_destroy: invalid alternate venue");
    xmppc_stanza *iq = NULL, *query = NULL, *d = NULL;
    if ((rc = new_room_iq(room, "set", XMPPC_NS_MUC_OWNER, &iq, &query)) < 0)
        return rc;
    if (!(d = add_elem(query, "destroy", NULL)) ||
        (alternate && xmppc_stanza_set_attr(d, "jid", alt) < 0) ||
        (reason && xmppc_stanza_add_text_child(d, "reason", NULL, reason) < 0))
        rc = xmppc__error(XMPPC_EINVAL, "muc_room_destroy: invalid reason");
    room_req *q = rc < 0 ? NULL : new_req(REQ_PLAIN, userdata, destroy);
    if (q) {
        q->cb.plain = cb;
        rc = send_room_iq(room, iq, q);
    } else if (rc == 0) {
        rc = XMPPC_ENOMEM;
    }
    xmppc_stanza_unref(iq);
    return rc;
}

/* ---- moderation --------------------------------------------------------- */

static int admin_item(xmppc_muc_room *room, const char *what,
                      const char *key_attr, const char *key, const char *attr,
                      const char *value, const char *reason,
                      xmppc_muc_room_cb cb, void *userdata,
                      xmppc_destroy_cb destroy)
{
    xmppc_stanza *iq = NULL, *query = NULL, *item = NULL;
    int rc = new_room_iq(room, "set", XMPPC_NS_MUC_ADMIN, &iq, &query);
    if (rc < 0)
        return rc;
    if (!(item = add_elem(query, "item", NULL)) ||
        xmppc_stanza_set_attr(item, key_attr, key) < 0 ||
        xmppc_stanza_set_attr(item, attr, value) < 0 ||
        (reason &&
         xmppc_stanza_add_text_child(item, "reason", NULL, reason) < 0))
        rc = XMPPC_EINVAL;
    room_req *q = rc < 0 ? NULL : new_req(REQ_PLAIN, userdata, destroy);
    if (q) {
        q->cb.plain = cb;
        rc = send_room_iq(room, iq, q);
    } else if (rc == 0) {
        rc = XMPPC_ENOMEM;
    } else {
        xmppc__error(rc, "%s: invalid reason", what);
    }
    xmppc_stanza_unref(iq);
    return rc;
}

XMPPC_API int xmppc_muc_room_set_role(xmppc_muc_room *room, const char *nick,
                                      xmppc_muc_role role, const char *reason,
                                      xmppc_muc_room_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy)
{
    int rc = check_room(room, "muc_room_set_role", true);
    if (rc < 0)
        return rc;
    char prepped[1024];
    if ((rc = prep_nick(room, nick, prepped, sizeof prepped)) < 0)
        return rc;
    if (!xmppc_muc_role_name(role))
        return xmppc__error(XMPPC_EINVAL, "muc_room_set_role: unknown role");
    return admin_item(room, "muc_room_set_role", "nick", prepped, "role",
                      xmppc_muc_role_name(role), reason, cb, userdata, destroy);
}

XMPPC_API int xmppc_muc_room_kick(xmppc_muc_room *room, const char *nick,
                                  const char *reason, xmppc_muc_room_cb cb,
                                  void *userdata, xmppc_destroy_cb destroy)
{
    return xmppc_muc_room_set_role(room, nick, XMPPC_MUC_ROLE_NONE, reason, cb,
                                   userdata, destroy);
}

XMPPC_API int
xmppc_muc_room_set_affiliation(xmppc_muc_room *room, const char *jid,
                               xmppc_muc_affiliation affiliation,
                               const char *reason, xmppc_muc_room_cb cb,
                               void *userdata, xmppc_destroy_cb destroy)
{
    int rc = check_room(room, "muc_room_set_affiliation", false);
    if (rc < 0)
        return rc;
    char bare[3072];
    if (split_jid(jid, bare, sizeof bare, NULL, 0) < 0)
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_set_affiliation: invalid JID");
    if (!xmppc_muc_affiliation_name(affiliation))
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_set_affiliation: unknown affiliation");
    return admin_item(room, "muc_room_set_affiliation", "jid", bare,
                      "affiliation", xmppc_muc_affiliation_name(affiliation),
                      reason, cb, userdata, destroy);
}

XMPPC_API int xmppc_muc_room_ban(xmppc_muc_room *room, const char *jid,
                                 const char *reason, xmppc_muc_room_cb cb,
                                 void *userdata, xmppc_destroy_cb destroy)
{
    return xmppc_muc_room_set_affiliation(room, jid, XMPPC_MUC_AFFIL_OUTCAST,
                                          reason, cb, userdata, destroy);
}

XMPPC_API int xmppc_muc_room_get_affiliations(xmppc_muc_room *room,
                                              xmppc_muc_affiliation affiliation,
                                              xmppc_muc_affiliations_cb cb,
                                              void *userdata,
                                              xmppc_destroy_cb destroy)
{
    int rc = check_room(room, "muc_room_get_affiliations", false);
    if (rc < 0)
        return rc;
    if (!cb || affiliation == XMPPC_MUC_AFFIL_NONE ||
        !xmppc_muc_affiliation_name(affiliation))
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_get_affiliations: NULL callback or "
                            "no list for this affiliation");
    xmppc_stanza *iq = NULL, *query = NULL, *item = NULL;
    if ((rc = new_room_iq(room, "get", XMPPC_NS_MUC_ADMIN, &iq, &query)) < 0)
        return rc;
    room_req *q = NULL;
    if (!(item = add_elem(query, "item", NULL)) ||
        xmppc_stanza_set_attr(item, "affiliation",
                              xmppc_muc_affiliation_name(affiliation)) < 0 ||
        !(q = new_req(REQ_AFFILIATIONS, userdata, destroy))) {
        xmppc_stanza_unref(iq);
        return XMPPC_ENOMEM;
    }
    q->cb.list = cb;
    q->affiliation = affiliation;
    rc = send_room_iq(room, iq, q);
    xmppc_stanza_unref(iq);
    return rc;
}

/* ---- messages ----------------------------------------------------------- */

static int send_to_room(xmppc_muc_room *room, xmppc_stanza *msg, char **id_out)
{
    if (!xmppc_stanza_get_id(msg) && xmppc_stanza_set_new_id(msg) < 0)
        return XMPPC_ENOMEM;
    int rc = xmppc_conn_send(room->muc->conn, msg);
    if (rc == 0 && id_out &&
        !(*id_out = xmppc__strdup(xmppc_stanza_get_id(msg))))
        rc = XMPPC_ENOMEM;
    return rc;
}

XMPPC_API int xmppc_muc_room_send_text(xmppc_muc_room *room, const char *text,
                                       char **id_out)
{
    if (id_out)
        *id_out = NULL;
    int rc = check_room(room, "muc_room_send_text", true);
    if (rc < 0)
        return rc;
    if (!text)
        return xmppc__error(XMPPC_EINVAL, "muc_room_send_text: NULL text");
    xmppc_stanza *msg = NULL;
    if ((rc = xmppc_message_new(&msg, "groupchat", room->jid, text)) < 0)
        return rc;
    rc = send_to_room(room, msg, id_out);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API int xmppc_muc_room_send_message(xmppc_muc_room *room,
                                          xmppc_stanza *message)
{
    int rc = check_room(room, "muc_room_send_message", true);
    if (rc < 0)
        return rc;
    const char *name = xmppc_stanza_get_name(message);
    if (!name || strcmp(name, "message") != 0)
        return xmppc__error(XMPPC_EINVAL,
                            "muc_room_send_message: not a message");
    if (xmppc_stanza_set_to(message, room->jid) < 0 ||
        xmppc_stanza_set_type(message, "groupchat") < 0)
        return XMPPC_ENOMEM;
    return send_to_room(room, message, NULL);
}

XMPPC_API int xmppc_muc_room_send_private(xmppc_muc_room *room,
                                          const char *nick, const char *text)
{
    int rc = check_room(room, "muc_room_send_private", true);
    if (rc < 0)
        return rc;
    char prepped[1024], to[4096];
    if ((rc = prep_nick(room, nick, prepped, sizeof prepped)) < 0)
        return rc;
    if (!text)
        return xmppc__error(XMPPC_EINVAL, "muc_room_send_private: NULL text");
    snprintf(to, sizeof to, "%s/%s", room->jid, prepped);
    xmppc_stanza *msg = NULL;
    if ((rc = xmppc_message_new(&msg, "chat", to, text)) < 0)
        return rc;
    if (!add_elem(msg, "x", XMPPC_NS_MUC_USER))
        rc = XMPPC_ENOMEM;
    else
        rc = send_to_room(room, msg, NULL);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API int xmppc_muc_room_set_subject(xmppc_muc_room *room,
                                         const char *subject,
                                         xmppc_muc_room_cb cb, void *userdata,
                                         xmppc_destroy_cb destroy)
{
    int rc = check_room(room, "muc_room_set_subject", true);
    if (rc < 0)
        return rc;
    if (!subject)
        return xmppc__error(XMPPC_EINVAL, "muc_room_set_subject: NULL");
    if (room->subject_change.active)
        return xmppc__error(XMPPC_ESTATE, "muc_room_set_subject: a subject "
                                          "change is pending");
    xmppc_stanza *msg = NULL;
    if ((rc = xmppc_message_new(&msg, "groupchat", room->jid, NULL)) < 0)
        return rc;
    /* An empty <subject/> clears the subject (XEP-0045 §8.1). */
    if ((rc = xmppc_message_set_subject(msg, subject)) < 0 ||
        (!*subject && !xmppc_message_get_subject(msg) &&
         !add_elem(msg, "subject", NULL)) ||
        (rc = xmppc_stanza_set_new_id(msg)) < 0) {
        xmppc_stanza_unref(msg);
        return rc < 0 ? rc : XMPPC_ENOMEM;
    }
    rc = pending_start(room, &room->subject_change, cb, userdata, destroy,
                       xmppc_stanza_get_id(msg));
    if (rc == 0 && (rc = xmppc_conn_send(room->muc->conn, msg)) < 0) {
        pending_abandon(&room->subject_change);
    }
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API const char *xmppc_message_get_delay(const xmppc_stanza *message,
                                              const char **from_out)
{
    xmppc_stanza *d = xmppc_stanza_get_child(message, "delay", NS_DELAY);
    const char *stamp = d ? xmppc_stanza_get_attr(d, "stamp") : NULL;
    if (from_out)
        *from_out = stamp ? xmppc_stanza_get_attr(d, "from") : NULL;
    return stamp;
}

/* ---- occupant accessors ------------------------------------------------- */

XMPPC_API size_t xmppc_muc_room_occupant_count(const xmppc_muc_room *room)
{
    return room ? room->nocc : 0;
}

XMPPC_API const xmppc_muc_occupant *
xmppc_muc_room_occupant_at(const xmppc_muc_room *room, size_t index)
{
    return room && index < room->nocc ? room->occ[index] : NULL;
}

XMPPC_API const xmppc_muc_occupant *
xmppc_muc_room_find_occupant(const xmppc_muc_room *room, const char *nick)
{
    char prepped[1024];
    if (!room || prep_nick(room, nick, prepped, sizeof prepped) < 0) {
        xmppc_error_clear();
        return NULL;
    }
    return find_occ(room, prepped);
}

XMPPC_API const xmppc_muc_occupant *
xmppc_muc_room_get_self(const xmppc_muc_room *room)
{
    return room && room->state != XMPPC_MUC_LEFT ? self_occ(room) : NULL;
}

XMPPC_API const char *xmppc_muc_occupant_nick(const xmppc_muc_occupant *occ)
{
    return occ ? occ->nick : NULL;
}

XMPPC_API const char *xmppc_muc_occupant_jid(const xmppc_muc_occupant *occ)
{
    return occ ? occ->jid : NULL;
}

XMPPC_API const char *xmppc_muc_occupant_real_jid(const xmppc_muc_occupant *occ)
{
    return occ ? occ->real_jid : NULL;
}

XMPPC_API xmppc_muc_role xmppc_muc_occupant_role(const xmppc_muc_occupant *occ)
{
    return occ ? occ->role : XMPPC_MUC_ROLE_NONE;
}

XMPPC_API xmppc_muc_affiliation
xmppc_muc_occupant_affiliation(const xmppc_muc_occupant *occ)
{
    return occ ? occ->affiliation : XMPPC_MUC_AFFIL_NONE;
}

XMPPC_API xmppc_presence_show
xmppc_muc_occupant_show(const xmppc_muc_occupant *occ)
{
    return occ ? occ->show : XMPPC_PRESENCE_UNAVAILABLE;
}

XMPPC_API const char *xmppc_muc_occupant_status(const xmppc_muc_occupant *occ)
{
    return occ ? occ->status : NULL;
}

XMPPC_API int xmppc_muc_occupant_is_self(const xmppc_muc_occupant *occ)
{
    return occ && occ->self;
}

/* ---- event accessors ---------------------------------------------------- */

XMPPC_API xmppc_muc_event_kind
xmppc_muc_event_get_kind(const xmppc_muc_event *event)
{
    return event ? event->kind : (xmppc_muc_event_kind)0;
}

XMPPC_API const char *xmppc_muc_event_kind_name(xmppc_muc_event_kind kind)
{
    static const char *const names[] = {NULL,
                                        "joined",
                                        "left",
                                        "nick-changed",
                                        "role-changed",
                                        "affiliation-changed",
                                        "presence-changed",
                                        "kicked",
                                        "banned",
                                        "removed-affiliation",
                                        "removed-members-only",
                                        "removed-shutdown",
                                        "destroyed",
                                        "subject",
                                        "declined",
                                        "error",
                                        "config-changed"};
    return (unsigned)kind < sizeof names / sizeof *names ? names[kind] : NULL;
}

XMPPC_API const xmppc_muc_occupant *
xmppc_muc_event_occupant(const xmppc_muc_event *event)
{
    return event ? event->occupant : NULL;
}

XMPPC_API int xmppc_muc_event_is_self(const xmppc_muc_event *event)
{
    return event && event->self;
}

XMPPC_API const char *xmppc_muc_event_actor(const xmppc_muc_event *event)
{
    return event ? event->actor : NULL;
}

XMPPC_API const char *xmppc_muc_event_reason(const xmppc_muc_event *event)
{
    return event ? event->reason : NULL;
}

XMPPC_API const char *xmppc_muc_event_old_nick(const xmppc_muc_event *event)
{
    return event ? event->old_nick : NULL;
}

XMPPC_API xmppc_muc_role xmppc_muc_event_old_role(const xmppc_muc_event *event)
{
    return event ? event->old_role : XMPPC_MUC_ROLE_NONE;
}

XMPPC_API xmppc_muc_affiliation
xmppc_muc_event_old_affiliation(const xmppc_muc_event *event)
{
    return event ? event->old_affiliation : XMPPC_MUC_AFFIL_NONE;
}

XMPPC_API const char *xmppc_muc_event_alternate(const xmppc_muc_event *event)
{
    return event ? event->alternate : NULL;
}

XMPPC_API const char *xmppc_muc_event_subject(const xmppc_muc_event *event)
{
    return event ? event->subject : NULL;
}

XMPPC_API const xmppc_error *xmppc_muc_event_error(const xmppc_muc_event *event)
{
    return event ? event->error : NULL;
}

static bool has_status(const xmppc_stanza *x, int code)
{
    char want[16];
    snprintf(want, sizeof want, "%d", code);
    for (xmppc_stanza *s = xmppc_stanza_get_child(x, "status", NULL); s;
         s = xmppc_stanza_get_next_child(x, s, "status", NULL)) {
        const char *c = xmppc_stanza_get_attr(s, "code");
        if (c && strcmp(c, want) == 0)
            return true;
    }
    return false;
}

XMPPC_API int xmppc_muc_event_has_status(const xmppc_muc_event *event, int code)
{
    return event && event->x && has_status(event->x, code);
}

XMPPC_API xmppc_stanza *xmppc_muc_event_stanza(const xmppc_muc_event *event)
{
    return event ? event->stanza : NULL;
}

/* ---- listeners ---------------------------------------------------------- */

static int room_listener(xmppc_muc_room *room, xmppc_handler **handle_out,
                         int kind, xmppc__listener_fn fn, void *userdata,
                         xmppc_destroy_cb destroy)
{
    if (!room || !fn)
        return xmppc__error(XMPPC_EINVAL, "muc room listener: NULL argument");
    if (!room->muc)
        return xmppc__error(XMPPC_ESTATE,
                            "muc room listener: the connection is gone");
    int rc =
        xmppc__listeners_add(&room->listeners, room->muc->conn, handle_out,
                             kind, fn, userdata, destroy, room, room_release);
    if (rc == 0)
        xmppc_muc_room_ref(room); /* released with the listener */
    return rc;
}

XMPPC_API int xmppc_muc_room_on_event(xmppc_muc_room *room,
                                      xmppc_handler **handle_out,
                                      xmppc_muc_event_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy)
{
    return room_listener(room, handle_out, L_EVENT, (xmppc__listener_fn)cb,
                         userdata, destroy);
}

XMPPC_API int xmppc_muc_room_on_message(xmppc_muc_room *room,
                                        xmppc_handler **handle_out,
                                        xmppc_muc_message_cb cb, void *userdata,
                                        xmppc_destroy_cb destroy)
{
    return room_listener(room, handle_out, L_MESSAGE, (xmppc__listener_fn)cb,
                         userdata, destroy);
}

XMPPC_API int xmppc_muc_on_invitation(xmppc_muc *muc,
                                      xmppc_handler **handle_out,
                                      xmppc_muc_invitation_cb cb,
                                      void *userdata, xmppc_destroy_cb destroy)
{
    if (!muc || !cb)
        return xmppc__error(XMPPC_EINVAL, "muc_on_invitation: NULL argument");
    return xmppc__listeners_add(&muc->listeners, muc->conn, handle_out,
                                L_INVITATION, (xmppc__listener_fn)cb, userdata,
                                destroy, NULL, NULL);
}

/* ---- invitations -------------------------------------------------------- */

XMPPC_API int xmppc_muc_room_invite(xmppc_muc_room *room, const char *jid,
                                    const char *reason)
{
    int rc = check_room(room, "muc_room_invite", true);
    if (rc < 0)
        return rc;
    char to[3072], res[1024];
    if (split_jid(jid, to, sizeof to, res, sizeof res) < 0)
        return xmppc__error(XMPPC_EINVAL, "muc_room_invite: invalid JID");
    xmppc_stanza *msg = NULL, *x, *inv;
    if ((rc = xmppc_message_new(&msg, NULL, room->jid, NULL)) < 0)
        return rc;
    if (!(x = add_elem(msg, "x", XMPPC_NS_MUC_USER)) ||
        !(inv = add_elem(x, "invite", NULL)) ||
        xmppc_stanza_set_attr(inv, "to", jid) < 0 ||
        (reason &&
         xmppc_stanza_add_text_child(inv, "reason", NULL, reason) < 0))
        rc = XMPPC_EINVAL;
    else
        rc = send_to_room(room, msg, NULL);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API int xmppc_muc_invite_direct(xmppc_muc *muc, const char *room_jid,
                                      const char *jid, const char *reason,
                                      const char *password)
{
    if (!muc || !room_jid || !jid)
        return xmppc__error(XMPPC_EINVAL, "muc_invite_direct: NULL argument");
    char room[3072], res[1024], to[3072];
    if (split_jid(room_jid, room, sizeof room, res, sizeof res) < 0 || *res ||
        split_jid(jid, to, sizeof to, NULL, 0) < 0)
        return xmppc__error(XMPPC_EINVAL, "muc_invite_direct: invalid JID");
    if (xmppc_conn_get_state(muc->conn) != XMPPC_STATE_READY)
        return xmppc__error(XMPPC_ESTATE,
                            "muc_invite_direct: the connection is not ready");
    xmppc_stanza *msg = NULL, *x;
    int rc = xmppc_message_new(&msg, NULL, jid, NULL);
    if (rc < 0)
        return rc;
    if (!(x = add_elem(msg, "x", XMPPC_NS_CONFERENCE)) ||
        xmppc_stanza_set_attr(x, "jid", room) < 0 ||
        (reason && xmppc_stanza_set_attr(x, "reason", reason) < 0) ||
        (password && xmppc_stanza_set_attr(x, "password", password) < 0))
        rc = XMPPC_EINVAL;
    else if ((rc = xmppc_stanza_set_new_id(msg)) == 0)
        rc = xmppc_conn_send(muc->conn, msg);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API int xmppc_muc_decline(xmppc_muc *muc, const char *room_jid,
                                const char *inviter, const char *reason)
{
    if (!muc || !room_jid || !inviter)
        return xmppc__error(XMPPC_EINVAL, "muc_decline: NULL argument");
    char room[3072], res[1024], who[3072];
    if (split_jid(room_jid, room, sizeof room, res, sizeof res) < 0 || *res ||
        split_jid(inviter, who, sizeof who, NULL, 0) < 0)
        return xmppc__error(XMPPC_EINVAL, "muc_decline: invalid JID");
    if (xmppc_conn_get_state(muc->conn) != XMPPC_STATE_READY)
        return xmppc__error(XMPPC_ESTATE,
                            "muc_decline: the connection is not ready");
    xmppc_stanza *msg = NULL, *x, *d;
    int rc = xmppc_message_new(&msg, NULL, room, NULL);
    if (rc < 0)
        return rc;
    if (!(x = add_elem(msg, "x", XMPPC_NS_MUC_USER)) ||
        !(d = add_elem(x, "decline", NULL)) ||
        xmppc_stanza_set_attr(d, "to", inviter) < 0 ||
        (reason && xmppc_stanza_add_text_child(d, "reason", NULL, reason) < 0))
        rc = XMPPC_EINVAL;
    else if ((rc = xmppc_stanza_set_new_id(msg)) == 0)
        rc = xmppc_conn_send(muc->conn, msg);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API const char *
xmppc_muc_invitation_room(const xmppc_muc_invitation *invitation)
{
    return invitation ? invitation->room : NULL;
}

XMPPC_API const char *
xmppc_muc_invitation_inviter(const xmppc_muc_invitation *invitation)
{
    return invitation ? invitation->inviter : NULL;
}

XMPPC_API const char *
xmppc_muc_invitation_reason(const xmppc_muc_invitation *invitation)
{
    return invitation ? invitation->reason : NULL;
}

XMPPC_API const char *
xmppc_muc_invitation_password(const xmppc_muc_invitation *invitation)
{
    return invitation ? invitation->password : NULL;
}

XMPPC_API int
xmppc_muc_invitation_is_direct(const xmppc_muc_invitation *invitation)
{
    return invitation && invitation->direct;
}

XMPPC_API xmppc_stanza *
xmppc_muc_invitation_stanza(const xmppc_muc_invitation *invitation)
{
    return invitation ? invitation->stanza : NULL;
}

static void fire_invitation(xmppc_muc *m, const xmppc_muc_invitation *inv)
{
    xmppc__listeners_begin(&m->listeners);
    XMPPC__LISTENERS_EACH(l, &m->listeners, L_INVITATION)
    ((xmppc_muc_invitation_cb)l->fn)(m, inv, l->userdata);
    xmppc__listeners_end(&m->listeners);
}

/* Invitations and declines; true when @p msg was one. */
static bool handle_invitation(xmppc_muc *m, xmppc_stanza *msg, const char *bare,
                              const char *resource)
{
    xmppc_stanza *x = xmppc_stanza_get_child(msg, "x", XMPPC_NS_MUC_USER);
    xmppc_stanza *inv = xmppc_stanza_get_child(x, "invite", NULL);
    xmppc_stanza *dec = xmppc_stanza_get_child(x, "decline", NULL);
    if ((inv || dec) && *resource)
        return true; /* only a room (bare JID) mediates: drop */
    if (inv) {
        const char *from = xmppc_stanza_get_attr(inv, "from");
        if (!from) {
            log_msg(m, XMPPC_LOG_WARN,
                    "mediated invitation from %s without inviter ignored",
                    bare);
            return true;
        }
        xmppc_muc_invitation i = {
            bare,
            from,
            xmppc_stanza_get_child_text(inv, "reason", NULL),
            xmppc_stanza_get_child_text(x, "password", NULL),
            false,
            msg};
        fire_invitation(m, &i);
        return true;
    }
    if (dec) {
        xmppc_muc_room *r = room_by_jid(m, bare);
        if (!r)
            return true;
        xmppc_muc_room_ref(r);
        xmppc_muc_event ev = {
            .kind = XMPPC_MUC_EV_DECLINED,
            .actor = xmppc_stanza_get_attr(dec, "from"),
            .reason = xmppc_stanza_get_child_text(dec, "reason", NULL),
            .stanza = msg,
            .x = x};
        fire_event(r, &ev);
        xmppc_muc_room_unref(r);
        return true;
    }
    xmppc_stanza *direct =
        xmppc_stanza_get_child(msg, "x", XMPPC_NS_CONFERENCE);
    if (!direct || is_type(msg, "error") || is_type(msg, "groupchat"))
        return false;
    char room[3072], res[1024];
    const char *jid = xmppc_stanza_get_attr(direct, "jid");
    if (!jid || split_jid(jid, room, sizeof room, res, sizeof res) < 0 ||
        *res) {
        xmppc_error_clear();
        log_msg(m, XMPPC_LOG_WARN,
                "direct invitation from %s with an invalid room JID ignored",
                bare);
        return true;
    }
    xmppc_muc_invitation i = {room,
                              xmppc_stanza_get_from(msg),
                              xmppc_stanza_get_attr(direct, "reason"),
                              xmppc_stanza_get_attr(direct, "password"),
                              true,
                              msg};
    fire_invitation(m, &i);
    return true;
}

/* ---- incoming messages -------------------------------------------------- */

/* The XEP-0359 id the room gave @p msg (only the room's own counts). */
static const char *room_stanza_id(const xmppc_muc_room *r,
                                  const xmppc_stanza *msg)
{
    for (xmppc_stanza *sid = xmppc_stanza_get_child(msg, "stanza-id", NS_SID);
         sid;
         sid = xmppc_stanza_get_next_child(msg, sid, "stanza-id", NS_SID)) {
        const char *by = xmppc_stanza_get_attr(sid, "by");
        if (by && xmppc_jid_str_equal(by, r->jid) == 1)
            return xmppc_stanza_get_attr(sid, "id");
    }
    xmppc_error_clear();
    return NULL;
}

/* After a rejoin the history starts at the second of the last message
 * seen ('since' has whole seconds), so that message comes again: it is
 * recognised by the room's stanza-id and dropped. Others of that second
 * are delivered (a rare duplicate rather than a possible loss). */
static bool seen_before(xmppc_muc_room *r, const xmppc_stanza *msg)
{
    const char *stamp = xmppc_message_get_delay(msg, NULL);
    if (!stamp || strncmp(stamp, r->rejoin_since, 19) != 0) {
        r->skipping = false; /* past that second */
        return false;
    }
    const char *sid = room_stanza_id(r, msg);
    if (!sid || !r->last_sid || strcmp(sid, r->last_sid) != 0)
        return false;
    r->skipping = false;
    return true;
}

static void on_room_message(xmppc_muc_room *r, xmppc_stanza *msg,
                            const char *resource)
{
    const char *nick = *resource ? resource : NULL;
    xmppc_stanza *x = xmppc_stanza_get_child(msg, "x", XMPPC_NS_MUC_USER);
    if (is_type(msg, "error")) {
        const char *id = xmppc_stanza_get_id(msg);
        pending *sp = &r->subject_change;
        if (sp->active && id && sp->arg && strcmp(id, sp->arg) == 0) {
            pending_fail_stanza(r, sp, msg, "subject change refused");
            return;
        }
        xmppc__error_store store;
        stanza_error(&store, r, msg, "the room refused a message");
        xmppc_muc_event ev = {.kind = XMPPC_MUC_EV_ERROR,
                              .occupant = nick ? find_occ(r, nick) : NULL,
                              .error = &store.pub,
                              .stanza = msg,
                              .x = x};
        fire_event(r, &ev);
        return;
    }
    const char *body = xmppc_message_get_body(msg);
    xmppc_stanza *subject = xmppc_stanza_get_child(msg, "subject", NULL);
    bool groupchat = is_type(msg, "groupchat");
    xmppc_muc_occupant *self = self_occ(r);
    if (groupchat && subject && !body) {
        const char *text = xmppc_stanza_get_text(subject);
        if (!text)
            text = "";
        r->skipping = false; /* the subject ends the history */
        if (set_str(&r->subject, text) < 0) {
            xmppc_error_clear();
            return;
        }
        pending *sp = &r->subject_change;
        const char *id = xmppc_stanza_get_id(msg);
        if (sp->active && ((id && sp->arg && strcmp(id, sp->arg) == 0) ||
                           (nick && self && strcmp(nick, self->nick) == 0)))
            pending_done(r, sp, NULL);
        xmppc_muc_event ev = {.kind = XMPPC_MUC_EV_SUBJECT,
                              .occupant = nick ? find_occ(r, nick) : NULL,
                              .self =
                                  nick && self && strcmp(nick, self->nick) == 0,
                              .actor = nick,
                              .subject = r->subject,
                              .stanza = msg,
                              .x = x};
        fire_event(r, &ev);
        return;
    }
    if (groupchat && !nick && !body && x &&
        (has_status(x, 104) || has_status(x, 170) || has_status(x, 171) ||
         has_status(x, 172) || has_status(x, 173) || has_status(x, 174))) {
        xmppc_muc_event ev = {
            .kind = XMPPC_MUC_EV_CONFIG_CHANGED, .stanza = msg, .x = x};
        fire_event(r, &ev);
        return;
    }
    if (!body)
        return;
    unsigned int flags = 0;
    if (!groupchat) {
        if (!nick)
            return; /* a normal message from the room: not a room message */
        flags |= XMPPC_MUC_MSG_PRIVATE;
    }
    const xmppc_muc_occupant *sender = nick ? find_occ(r, nick) : NULL;
    if (xmppc_stanza_get_child(msg, "delay", NS_DELAY)) {
        flags |= XMPPC_MUC_MSG_DELAYED;
        sender = NULL; /* whoever has that nick now may not have sent it */
    }
    if (groupchat && nick && r->nick && strcmp(nick, r->nick) == 0)
        flags |= XMPPC_MUC_MSG_OWN;
    if (groupchat && (flags & XMPPC_MUC_MSG_DELAYED) && r->skipping &&
        seen_before(r, msg))
        return;
    if (groupchat && !(flags & XMPPC_MUC_MSG_DELAYED)) {
        r->last_seen = time(NULL);
        if (set_str(&r->last_sid, room_stanza_id(r, msg)) < 0)
            xmppc_error_clear();
    }
    fire_message(r, sender, nick, msg, flags);
}

static int on_message(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    (void)conn;
    xmppc_muc *m = userdata;
    const char *from = xmppc_stanza_get_from(msg);
    char bare[3072], resource[1024];
    if (!from ||
        split_jid(from, bare, sizeof bare, resource, sizeof resource) < 0) {
        xmppc_error_clear();
        return XMPPC_CONTINUE;
    }
    if (handle_invitation(m, msg, bare, resource))
        return XMPPC_CONTINUE;
    xmppc_muc_room *r = room_by_jid(m, bare);
    if (!r || r->state == XMPPC_MUC_LEFT)
        return XMPPC_CONTINUE;
    xmppc_muc_room_ref(r);
    r->last_activity_ms = now_ms();
    on_room_message(r, msg, resource);
    xmppc_muc_room_unref(r);
    return XMPPC_CONTINUE;
}

/* ---- incoming presence -------------------------------------------------- */

typedef struct item_info {
    int role, affiliation; /* -1 when absent or unknown */
    const char *jid, *nick, *actor, *reason;
    xmppc_stanza *destroy;
} item_info;

static item_info read_item(const xmppc_stanza *x)
{
    xmppc_stanza *item = xmppc_stanza_get_child(x, "item", NULL);
    xmppc_stanza *actor = xmppc_stanza_get_child(item, "actor", NULL);
    item_info i = {
        xmppc_muc_role_parse(xmppc_stanza_get_attr(item, "role")),
        xmppc_muc_affiliation_parse(xmppc_stanza_get_attr(item, "affiliation")),
        xmppc_stanza_get_attr(item, "jid"),
        xmppc_stanza_get_attr(item, "nick"),
        NULL,
        xmppc_stanza_get_child_text(item, "reason", NULL),
        xmppc_stanza_get_child(x, "destroy", NULL)};
    if (actor) {
        i.actor = xmppc_stanza_get_attr(actor, "nick");
        if (!i.actor)
            i.actor = xmppc_stanza_get_attr(actor, "jid");
    }
    return i;
}

static xmppc_presence_show read_show(const xmppc_stanza *p)
{
    const char *show = xmppc_stanza_get_child_text(p, "show", NULL);
    if (!show)
        return XMPPC_PRESENCE_AVAILABLE;
    static const char *const names[] = {"chat", "away", "xa", "dnd"};
    for (int i = 0; i < 4; i++)
        if (strcmp(show, names[i]) == 0)
            return (xmppc_presence_show)(XMPPC_PRESENCE_CHAT + i);
    return XMPPC_PRESENCE_AVAILABLE;
}

/* Updates @p o from an available presence and reports what changed. */
static void update_occupant(xmppc_muc_room *r, xmppc_muc_occupant *o,
                            xmppc_stanza *p, const xmppc_stanza *x,
                            const item_info *it, bool fire)
{
    xmppc_muc_role old_role = o->role;
    xmppc_muc_affiliation old_affil = o->affiliation;
    xmppc_presence_show old_show = o->show;
    char *old_status = o->status;
    o->status = NULL;
    if (it->role >= 0)
        o->role = (xmppc_muc_role)it->role;
    if (it->affiliation >= 0)
        o->affiliation = (xmppc_muc_affiliation)it->affiliation;
    if (it->jid && !o->real_jid && set_str(&o->real_jid, it->jid) < 0)
        xmppc_error_clear();
    o->show = read_show(p);
    const char *status = xmppc_stanza_get_child_text(p, "status", NULL);
    if (status && set_str(&o->status, status) < 0)
        xmppc_error_clear();
    bool status_changed = (old_status == NULL) != (o->status == NULL) ||
                          (old_status && strcmp(old_status, o->status) != 0);
    xmppc_free(old_status);
    if (!fire)
        return;
    xmppc_muc_event ev = {.occupant = o,
                          .self = o->self,
                          .actor = it->actor,
                          .reason = it->reason,
                          .old_role = old_role,
                          .old_affiliation = old_affil,
                          .stanza = p,
                          .x = x};
    if (o->role != old_role) {
        ev.kind = XMPPC_MUC_EV_ROLE_CHANGED;
        fire_event(r, &ev);
    }
    if (o->affiliation != old_affil) {
        ev.kind = XMPPC_MUC_EV_AFFILIATION_CHANGED;
        fire_event(r, &ev);
    }
    if (o->show != old_show || status_changed) {
        ev.kind = XMPPC_MUC_EV_PRESENCE_CHANGED;
        fire_event(r, &ev);
    }
}

static xmppc_muc_event_kind departure_kind(const xmppc_stanza *x,
                                           const item_info *it)
{
    if (it->destroy)
        return XMPPC_MUC_EV_DESTROYED;
    if (has_status(x, 301))
        return XMPPC_MUC_EV_BANNED;
    if (has_status(x, 307))
        return XMPPC_MUC_EV_KICKED;
    if (has_status(x, 321))
        return XMPPC_MUC_EV_REMOVED_AFFILIATION;
    if (has_status(x, 322))
        return XMPPC_MUC_EV_REMOVED_MEMBERS_ONLY;
    if (has_status(x, 332))
        return XMPPC_MUC_EV_REMOVED_SHUTDOWN;
    return XMPPC_MUC_EV_LEFT;
}

/* A nick change (303): @p o becomes @p new_nick. */
static void rename_occupant(xmppc_muc_room *r, xmppc_muc_occupant *o,
                            const char *new_nick, xmppc_stanza *p,
                            const xmppc_stanza *x)
{
    char prepped[1024];
    if (prep_nick(r, new_nick, prepped, sizeof prepped) < 0 ||
        find_occ(r, prepped)) {
        xmppc_error_clear();
        log_msg(r->muc, XMPPC_LOG_WARN, "%s: bad nick change of %s ignored",
                r->jid, o->nick);
        return;
    }
    char *old = o->nick;
    o->nick = NULL;
    if (set_occ_nick(r, o, prepped) < 0) {
        o->nick = old;
        xmppc_error_clear();
        return;
    }
    if (o->self && set_str(&r->nick, prepped) < 0)
        xmppc_error_clear();
    xmppc_muc_event ev = {.kind = XMPPC_MUC_EV_NICK_CHANGED,
                          .occupant = o,
                          .self = o->self,
                          .old_nick = old,
                          .old_role = o->role,
                          .old_affiliation = o->affiliation,
                          .stanza = p,
                          .x = x};
    fire_event(r, &ev);
    xmppc_free(old);
}

static void on_unavailable(xmppc_muc_room *r, xmppc_stanza *p,
                           const xmppc_stanza *x, const char *nick, bool self)
{
    item_info it = read_item(x);
    xmppc_muc_occupant *o = find_occ(r, nick);
    if (has_status(x, 303) && it.nick && o) {
        rename_occupant(r, o, it.nick, p, x);
        return;
    }
    if (self && !o && r->state != XMPPC_MUC_JOINED) {
        /* Left or removed before the join completed. */
        pending_fail(r, &r->join, XMPPC_ECANCELED, NULL, NULL, NULL,
                     "removed from the room while joining");
        pending_done(r, &r->leave, NULL);
        become_left(r);
        return;
    }
    if (!o)
        return;
    xmppc_muc_event ev = {.kind = departure_kind(x, &it),
                          .occupant = o,
                          .self = self,
                          .actor = it.actor,
                          .reason = it.reason,
                          .old_role = o->role,
                          .old_affiliation = o->affiliation,
                          .stanza = p,
                          .x = x};
    if (it.destroy) {
        ev.alternate = xmppc_stanza_get_attr(it.destroy, "jid");
        ev.reason = xmppc_stanza_get_child_text(it.destroy, "reason", NULL);
    }
    o->role = XMPPC_MUC_ROLE_NONE;
    if (it.affiliation >= 0)
        o->affiliation = (xmppc_muc_affiliation)it.affiliation;
    fire_event(r, &ev);
    if (self) {
        pending_done(r, &r->leave, NULL);
        become_left(r);
    } else {
        remove_occ(r, find_occ(r, nick)); /* a listener may have renamed */
    }
}

/* Our own available presence: completes a join or a nick change. */
static void on_self_available(xmppc_muc_room *r, xmppc_stanza *p,
                              const xmppc_stanza *x, const char *nick,
                              xmppc_muc_occupant *o)
{
    item_info it = read_item(x);
    if (o) {
        update_occupant(r, o, p, x, &it, true);
        /* The nick asked for, or the room's adjustment of it (210). */
        if (r->nick_change.active &&
            (strcmp(nick, r->nick_change.arg) == 0 || has_status(x, 210)))
            pending_done(r, &r->nick_change, NULL);
        return;
    }
    if (r->state != XMPPC_MUC_JOINING)
        return;
    xmppc_muc_occupant *old_self = self_occ(r);
    if (old_self)
        old_self->self = false;
    if (!(o = add_occ(r, nick))) {
        xmppc_error_clear();
        return;
    }
    o->self = true;
    update_occupant(r, o, p, x, &it, false);
    /* 210: the room chose another nick than the one asked for. */
    char *asked = NULL;
    if (strcmp(r->nick, nick) != 0) {
        asked = r->nick;
        r->nick = xmppc__strdup(nick);
        if (!r->nick) {
            r->nick = asked;
            asked = NULL;
            xmppc_error_clear();
        }
    }
    r->is_new = has_status(x, 201);
    r->state = XMPPC_MUC_JOINED;
    r->rejoin = false;
    r->last_activity_ms = now_ms();
    if (!r->last_seen)
        r->last_seen = time(NULL);
    if (r->muc->ping_idle_ms)
        arm_ping(r, r->muc->ping_idle_ms);
    xmppc_muc_event ev = {.kind = XMPPC_MUC_EV_JOINED,
                          .occupant = o,
                          .self = true,
                          .stanza = p,
                          .x = x};
    fire_event(r, &ev);
    if (asked && r->state == XMPPC_MUC_JOINED && (o = self_occ(r))) {
        xmppc_muc_event nc = {.kind = XMPPC_MUC_EV_NICK_CHANGED,
                              .occupant = o,
                              .self = true,
                              .old_nick = asked,
                              .old_role = o->role,
                              .old_affiliation = o->affiliation,
                              .stanza = p,
                              .x = x};
        fire_event(r, &nc);
    }
    xmppc_free(asked);
    pending_done(r, &r->join, NULL);
}

static void on_room_presence(xmppc_muc_room *r, xmppc_stanza *p,
                             const char *nick)
{
    xmppc_stanza *x = xmppc_stanza_get_child(p, "x", XMPPC_NS_MUC_USER);
    if (is_type(p, "error")) {
        pending *nc = &r->nick_change;
        if (nc->active && strcmp(nick, nc->arg) == 0) {
            pending_fail_stanza(r, nc, p, "nick change refused");
        } else if (r->state == XMPPC_MUC_JOINING) {
            if (r->rejoin) {
                xmppc__error_store store;
                stanza_error(&store, r, p, "rejoin refused");
                xmppc_muc_event ev = {.kind = XMPPC_MUC_EV_ERROR,
                                      .self = true,
                                      .error = &store.pub,
                                      .stanza = p,
                                      .x = x};
                pending_done(r, &r->join, NULL);
                become_left(r);
                fire_event(r, &ev);
            } else {
                pending_fail_stanza(r, &r->join, p, "join refused");
                become_left(r);
            }
        }
        return;
    }
    if (!*nick || !x)
        return; /* not occupant presence */
    if (strlen(nick) > 1023)
        return;
    bool self =
        has_status(x, 110) || (r->nick && strcmp(nick, r->nick) == 0) ||
        (r->nick_change.active && strcmp(nick, r->nick_change.arg) == 0);
    if (is_type(p, "unavailable")) {
        on_unavailable(r, p, x, nick, self);
        return;
    }
    if (xmppc_stanza_get_type(p))
        return; /* subscription types have no place here */
    xmppc_muc_occupant *o = find_occ(r, nick);
    if (self) {
        on_self_available(r, p, x, nick, o);
        return;
    }
    item_info it = read_item(x);
    if (o) {
        update_occupant(r, o, p, x, &it, true);
        return;
    }
    if (!(o = add_occ(r, nick))) {
        log_msg(r->muc, XMPPC_LOG_WARN, "%s: occupant %s not tracked (%s)",
                r->jid, nick,
                r->nocc >= MAX_OCCUPANTS ? "too many occupants"
                                         : "out of memory");
        xmppc_error_clear();
        return;
    }
    update_occupant(r, o, p, x, &it, false);
    xmppc_muc_event ev = {
        .kind = XMPPC_MUC_EV_JOINED, .occupant = o, .stanza = p, .x = x};
    fire_event(r, &ev);
}

static int on_presence(xmppc_conn *conn, xmppc_stanza *p, void *userdata)
{
    (void)conn;
    xmppc_muc *m = userdata;
    const char *from = xmppc_stanza_get_from(p);
    char bare[3072], nick[1024];
    if (!from || split_jid(from, bare, sizeof bare, nick, sizeof nick) < 0) {
        xmppc_error_clear();
        return XMPPC_CONTINUE;
    }
    xmppc_muc_room *r = room_by_jid(m, bare);
    if (!r || r->state == XMPPC_MUC_LEFT)
        return XMPPC_CONTINUE;
    xmppc_muc_room_ref(r);
    r->last_activity_ms = now_ms();
    on_room_presence(r, p, nick);
    xmppc_muc_room_unref(r);
    return XMPPC_CONTINUE;
}

/* ---- self-ping (XEP-0410) ----------------------------------------------- */

static void on_ping_timer(xmppc_conn *conn, void *userdata);

static void arm_ping(xmppc_muc_room *r, unsigned int delay_ms)
{
    stop_ping(r);
    if (!r->muc || !delay_ms)
        return;
    if (xmppc_conn_add_timer(r->muc->conn, &r->ping_timer, delay_ms,
                             on_ping_timer, xmppc_muc_room_ref(r),
                             room_release) < 0) {
        xmppc_muc_room_unref(r);
        log_msg(r->muc, XMPPC_LOG_WARN, "%s: self-ping not scheduled", r->jid);
        xmppc_error_clear();
    }
}

static void on_ping_reply(xmppc_conn *conn, xmppc_stanza *reply,
                          const xmppc_error *err, void *userdata)
{
    (void)conn, (void)reply;
    xmppc_muc_room *r = userdata;
    r->ping_in_flight = false;
    if (r->state != XMPPC_MUC_JOINED || !r->muc)
        return;
    const char *cond = err ? err->condition : NULL;
    bool joined = !err || (err->code == XMPPC_ESTANZA && cond &&
                           (strcmp(cond, "service-unavailable") == 0 ||
                            strcmp(cond, "feature-not-implemented") == 0 ||
                            strcmp(cond, "item-not-found") == 0));
    bool unknown = err && !joined &&
                   (err->code != XMPPC_ESTANZA ||
                    (cond && (strcmp(cond, "remote-server-not-found") == 0 ||
                              strcmp(cond, "remote-server-timeout") == 0)));
    if (err && err->code == XMPPC_ECANCELED)
        return;
    if (!joined && !unknown) {
        log_msg(r->muc, XMPPC_LOG_INFO,
                "%s: self-ping says we are no "
                "longer joined (%s); rejoining",
                r->jid, cond ? cond : "?");
        rejoin(r);
        return;
    }
    arm_ping(r, r->muc->ping_idle_ms);
}

static void on_ping_timer(xmppc_conn *conn, void *userdata)
{
    xmppc_muc_room *r = userdata;
    if (r->state != XMPPC_MUC_JOINED || !r->muc || !r->muc->ping_idle_ms ||
        r->ping_in_flight)
        return;
    long long idle = now_ms() - r->last_activity_ms;
    if (idle < (long long)r->muc->ping_idle_ms) {
        arm_ping(r, (unsigned int)(r->muc->ping_idle_ms - idle));
        return;
    }
    char to[4096];
    snprintf(to, sizeof to, "%s/%s", r->jid, r->nick);
    xmppc_stanza *iq = NULL;
    int rc = xmppc_iq_new(&iq, "get", to, NULL);
    if (rc == 0 && !add_elem(iq, "ping", NS_PING))
        rc = XMPPC_ENOMEM;
    if (rc == 0) {
        xmppc_muc_room_ref(r); /* released by the request's destroy */
        rc = xmppc_conn_send_iq(conn, iq, r->muc->ping_timeout_ms,
                                on_ping_reply, r, room_release);
        if (rc < 0)
            xmppc_muc_room_unref(r);
    }
    xmppc_stanza_unref(iq);
    if (rc == 0)
        r->ping_in_flight = true;
    else
        xmppc_error_clear();
}

/* ---- connection state --------------------------------------------------- */

static void on_state(xmppc_conn *conn, xmppc_conn_state state,
                     const xmppc_error *err, void *userdata)
{
    (void)conn, (void)err;
    xmppc_muc *m = userdata;
    if (state == XMPPC_STATE_READY) {
        m->was_ready = true;
        for (size_t i = 0; i < m->nrooms; i++) {
            xmppc_muc_room *r = m->rooms[i];
            if (r->state == XMPPC_MUC_JOINING && r->rejoin)
                rejoin(r);
        }
        return;
    }
    if (state != XMPPC_STATE_DISCONNECTED || !m->was_ready)
        return;
    m->was_ready = false;
    /* A copy: callbacks may release rooms. */
    size_t n = m->nrooms;
    xmppc_muc_room **rooms =
        xmppc__reallocarray(NULL, n ? n : 1, sizeof *rooms);
    if (!rooms) {
        xmppc_error_clear();
        return;
    }
    for (size_t i = 0; i < n; i++)
        rooms[i] = xmppc_muc_room_ref(m->rooms[i]);
    for (size_t i = 0; i < n; i++) {
        xmppc_muc_room *r = rooms[i];
        stop_ping(r);
        r->ping_in_flight = false;
        pending_fail(r, &r->nick_change, XMPPC_ECANCELED, NULL, NULL, NULL,
                     "disconnected");
        pending_fail(r, &r->subject_change, XMPPC_ECANCELED, NULL, NULL, NULL,
                     "disconnected");
        if (r->state == XMPPC_MUC_LEAVING) {
            pending_done(r, &r->leave, NULL);
            become_left(r);
        } else if (r->state == XMPPC_MUC_JOINING && !r->rejoin) {
            pending_fail(r, &r->join, XMPPC_ECANCELED, NULL, NULL, NULL,
                         "disconnected");
            become_left(r);
        } else if (r->state == XMPPC_MUC_JOINED && !r->auto_rejoin) {
            become_left(r);
        } else if (r->state != XMPPC_MUC_LEFT) {
            clear_occupants(r);
            r->state = XMPPC_MUC_JOINING;
            r->rejoin = true;
        }
    }
    for (size_t i = 0; i < n; i++)
        xmppc_muc_room_unref(rooms[i]);
    xmppc_free(rooms);
}

static void manager_free(void *data)
{
    xmppc_muc *m = data;
    xmppc_handler_free(m->presence_handler);
    xmppc_handler_free(m->message_handler);
    xmppc_state_listener_free(m->state_listener);
    xmppc__listeners_detach(&m->listeners);
    /* Rooms outlive the manager only through application references. */
    while (m->nrooms) {
        xmppc_muc_room *r = m->rooms[0];
        xmppc_muc_room_ref(r);
        stop_ping(r);
        pending_fail(r, &r->join, XMPPC_ECANCELED, NULL, NULL, NULL,
                     "connection freed");
        pending_fail(r, &r->leave, XMPPC_ECANCELED, NULL, NULL, NULL,
                     "connection freed");
        become_left(r);
        unregister_room(m, r);
        r->muc = NULL;
        xmppc_muc_room_unref(r);
    }
    xmppc_free(m->rooms);
    xmppc_free(m);
}

XMPPC_API xmppc_muc *xmppc_muc_get(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "muc_get: NULL connection");
        return NULL;
    }
    xmppc_muc *m = xmppc_conn_attached(conn, &manager_key);
    if (m)
        return m;
    m = xmppc__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->conn = conn;
    m->timeout_ms = DEFAULT_TIMEOUT_MS;
    m->ping_idle_ms = DEFAULT_PING_IDLE_MS;
    m->was_ready = xmppc_conn_get_state(conn) == XMPPC_STATE_READY;
    if (xmppc_conn_attach(conn, &manager_key, m, manager_free) < 0) {
        xmppc_free(m);
        return NULL;
    }
    if (xmppc_conn_add_state_listener(conn, &m->state_listener, on_state, m,
                                      NULL) < 0 ||
        xmppc_conn_add_handler(conn, &m->presence_handler, "presence", NULL,
                               NULL, on_presence, m, NULL) < 0 ||
        xmppc_conn_add_handler(conn, &m->message_handler, "message", NULL, NULL,
                               on_message, m, NULL) < 0) {
        int code = xmppc_error_last()->code;
        xmppc_conn_attach(conn, &manager_key, NULL, NULL); /* frees m */
        xmppc__error(code, "muc: cannot set up the MUC manager");
        return NULL;
    }
    /* XEP-0249 §4: clients that accept direct invitations say so. */
    xmppc_disco *d = xmppc_disco_get(conn);
    if (!d || xmppc_disco_add_feature(d, XMPPC_NS_CONFERENCE) < 0)
        xmppc_error_clear();
    return m;
}

/* ---- discovery ---------------------------------------------------------- */

typedef struct disco_walk {
    xmppc_muc *muc;
    xmppc_muc_services_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
    char **jids;  /* candidates, in the server's order */
    bool *is_muc; /* per candidate */
    size_t count, answered;
    int refs;
} disco_walk;

static void walk_unref(void *data)
{
    disco_walk *w = data;
    if (--w->refs > 0)
        return;
    if (w->destroy)
        w->destroy(w->userdata);
    for (size_t i = 0; i < w->count; i++)
        xmppc_free(w->jids[i]);
    xmppc_free(w->jids);
    xmppc_free(w->is_muc);
    xmppc_free(w);
}

static void walk_finish(disco_walk *w, const xmppc_error *err)
{
    const char **found =
        xmppc__reallocarray(NULL, w->count ? w->count : 1, sizeof *found);
    size_t n = 0;
    for (size_t i = 0; found && i < w->count; i++)
        if (w->is_muc[i])
            found[n++] = w->jids[i];
    if (!found && !err)
        err = xmppc_error_last();
    w->cb(w->muc, found ? (const char *const *)found : NULL, found ? n : 0, err,
          w->userdata);
    xmppc_free(found);
}

typedef struct walk_item {
    disco_walk *walk;
    size_t index;
} walk_item;

static void walk_item_free(void *data)
{
    walk_item *wi = data;
    walk_unref(wi->walk);
    xmppc_free(wi);
}

static void on_service_info(xmppc_disco *mgr, const char *jid, const char *node,
                            xmppc_disco_info *info, const xmppc_error *err,
                            void *userdata)
{
    (void)mgr, (void)jid, (void)node, (void)err;
    walk_item *wi = userdata;
    disco_walk *w = wi->walk;
    w->is_muc[wi->index] =
        info && xmppc_disco_info_has_feature(info, XMPPC_NS_MUC);
    if (++w->answered == w->count)
        walk_finish(w, NULL);
}

static void on_server_items(xmppc_disco *mgr, const char *jid, const char *node,
                            xmppc_disco_items *items, const xmppc_error *err,
                            void *userdata)
{
    (void)jid, (void)node;
    disco_walk *w = userdata;
    if (err) {
        w->cb(w->muc, NULL, 0, err, w->userdata);
        return;
    }
    size_t n = xmppc_disco_items_count(items);
    w->jids = xmppc__calloc(n ? n : 1, sizeof *w->jids);
    w->is_muc = xmppc__calloc(n ? n : 1, sizeof *w->is_muc);
    if (!w->jids || !w->is_muc) {
        w->cb(w->muc, NULL, 0, xmppc_error_last(), w->userdata);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *item = NULL, *item_node = NULL;
        if (xmppc_disco_items_at(items, i, &item, &item_node, NULL) == 0 &&
            item && !item_node && (w->jids[w->count] = xmppc__strdup(item)))
            w->count++;
    }
    if (w->count == 0) {
        walk_finish(w, NULL);
        return;
    }
    /* Each query holds the walk; the last answer reports. */
    size_t asked = w->count;
    for (size_t i = 0; i < asked; i++) {
        walk_item *wi = xmppc__malloc(sizeof *wi);
        if (wi) {
            *wi = (walk_item){w, i};
            w->refs++;
        }
        if (!wi || xmppc_disco_get_info(mgr, w->jids[i], NULL, on_service_info,
                                        wi, walk_item_free) < 0) {
            if (wi)
                walk_item_free(wi);
            xmppc_error_clear();
            if (++w->answered == w->count)
                walk_finish(w, NULL);
        }
    }
}

XMPPC_API int xmppc_muc_discover_services(xmppc_muc *muc,
                                          xmppc_muc_services_cb cb,
                                          void *userdata,
                                          xmppc_destroy_cb destroy)
{
    if (!muc || !cb)
        return xmppc__error(XMPPC_EINVAL,
                            "muc_discover_services: NULL argument");
    if (xmppc_conn_get_state(muc->conn) != XMPPC_STATE_READY)
        return xmppc__error(XMPPC_ESTATE, "muc_discover_services: the "
                                          "connection is not ready");
    xmppc_disco *d = xmppc_disco_get(muc->conn);
    if (!d)
        return xmppc_error_last()->code;
    disco_walk *w = xmppc__calloc(1, sizeof *w);
    if (!w)
        return XMPPC_ENOMEM;
    *w = (disco_walk){muc, cb, userdata, destroy, NULL, NULL, 0, 0, 1};
    int rc =
        xmppc_disco_get_items(d, NULL, NULL, on_server_items, w, walk_unref);
    if (rc < 0) {
        w->destroy = NULL;
        walk_unref(w);
    }
    return rc;
}

XMPPC_API int xmppc_muc_discover_rooms(xmppc_muc *muc, const char *service,
                                       xmppc_disco_items_cb cb, void *userdata,
                                       xmppc_destroy_cb destroy)
{
    if (!muc || !service || !cb)
        return xmppc__error(XMPPC_EINVAL, "muc_discover_rooms: NULL argument");
    if (xmppc_conn_get_state(muc->conn) != XMPPC_STATE_READY)
        return xmppc__error(XMPPC_ESTATE, "muc_discover_rooms: the "
                                          "connection is not ready");
    xmppc_disco *d = xmppc_disco_get(muc->conn);
    if (!d)
        return xmppc_error_last()->code;
    /* Room lists change: always ask, never the cache. */
    xmppc_disco_forget(d, service);
    return xmppc_disco_get_items(d, service, NULL, cb, userdata, destroy);
}
