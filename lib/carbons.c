/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Message Carbons (XEP-0280) with stanza forwarding (XEP-0297), written on
 * the public stanza, JID, connection and disco API only, as an application
 * could write them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "xmppc-private.h"
#include <xmppc/carbons.h>
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/jid.h>
#include <xmppc/stanza.h>

#define NS_CLIENT "jabber:client"
/* Listener handles are dispatcher handlers that never match anything: they
 * give the listener its handle and its destroy callback; the manager's
 * handler calls the listeners itself. */
#define NS_NEVER "urn:xmppc:internal:carbons-listener"

typedef struct carbons_listener {
    struct carbons_manager *m;
    xmppc_carbon_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
    bool dead; /* removed while the listeners were being called */
    struct carbons_listener *next;
} carbons_listener;

typedef struct carbons_manager {
    bool enabled; /* the server confirmed <enable/> */
    xmppc_handler *guard;
    carbons_listener *listeners; /* in registration order */
    int calling;                 /* depth of listener calls under way */
} carbons_manager;

static const char manager_key; /* its address keys xmppc_conn_attach() */

static void listener_free_dead(carbons_manager *m)
{
    carbons_listener **pp = &m->listeners;
    while (*pp) {
        carbons_listener *l = *pp;
        if (l->dead) {
            *pp = l->next;
            xmppc_free(l);
        } else {
            pp = &l->next;
        }
    }
}

static void manager_free(void *data)
{
    carbons_manager *m = data;
    xmppc_handler_free(m->guard);
    /* The listeners' handlers went away before the attachments. */
    for (carbons_listener *l = m->listeners; l; l = l->next)
        l->dead = true;
    listener_free_dead(m);
    xmppc_free(m);
}

static void warn(xmppc_conn *conn, const char *why, const xmppc_stanza *msg)
{
    const char *from = xmppc_stanza_get_from(msg);
    char line[256];
    snprintf(line, sizeof line,
             "ignored a carbon from '%.100s': %s (XEP-0280 section 11)",
             from ? from : "(none)", why);
    xmppc_conn_log(conn, XMPPC_LOG_WARN, "carbons", line);
}

/* The only element child of @p parent, or NULL when it has none or
 * several; text (whitespace) is skipped. */
static const xmppc_stanza *only_element(const xmppc_stanza *parent)
{
    const xmppc_stanza *found = NULL;
    size_t n = xmppc_stanza_child_count(parent);
    for (size_t i = 0; i < n; i++) {
        const xmppc_stanza *c = xmppc_stanza_child_at(parent, i);
        if (xmppc_stanza_is_text(c))
            continue;
        if (found)
            return NULL;
        found = c;
    }
    return found;
}

static bool named(const xmppc_stanza *s, const char *name, const char *ns)
{
    const char *n = xmppc_stanza_get_name(s), *x = xmppc_stanza_get_ns(s);
    return n && strcmp(n, name) == 0 && x && strcmp(x, ns) == 0;
}

/* A carbons element (received or sent) among the children of @p msg;
 * *count_out says how many there are. */
static const xmppc_stanza *find_carbon(const xmppc_stanza *msg,
                                       xmppc_carbon_direction *dir_out,
                                       int *count_out)
{
    const xmppc_stanza *found = NULL;
    int count = 0;
    size_t n = xmppc_stanza_child_count(msg);
    for (size_t i = 0; i < n; i++) {
        const xmppc_stanza *c = xmppc_stanza_child_at(msg, i);
        if (xmppc_stanza_is_text(c))
            continue;
        bool received = named(c, "received", XMPPC_NS_CARBONS);
        if (received || named(c, "sent", XMPPC_NS_CARBONS)) {
            count++;
            found = c;
            *dir_out = received ? XMPPC_CARBON_RECEIVED : XMPPC_CARBON_SENT;
        }
    }
    *count_out = count;
    return found;
}

/* Whether @p jid is a valid JID whose bare form is @p own_bare; with
 * @p must_be_bare, also that it has no resource. */
static bool is_own(const char *jid, const char *own_bare, bool must_be_bare)
{
    xmppc_jid *j = NULL;
    if (!jid || xmppc_jid_parse(&j, jid) < 0) {
        xmppc_error_clear();
        return false;
    }
    bool ok = (!must_be_bare || xmppc_jid_is_bare(j)) &&
              strcmp(xmppc_jid_bare(j), own_bare) == 0;
    xmppc_jid_unref(j);
    return ok;
}

/* Checks a message that carries a carbons element and finds the
 * forwarded message. Returns NULL with *why set when it must be ignored. */
static const xmppc_stanza *unwrap(xmppc_conn *conn, const xmppc_stanza *msg,
                                  const xmppc_stanza *carbon,
                                  xmppc_carbon_direction dir, const char **why)
{
    const char *own = xmppc_conn_get_jid(conn);
    if (!own || !is_own(xmppc_stanza_get_from(msg), own, true)) {
        *why = "not from the own bare JID";
        return NULL;
    }
    const char *type = xmppc_stanza_get_type(msg);
    if (type && strcmp(type, "error") == 0) {
        *why = "an error message";
        return NULL;
    }
    const xmppc_stanza *fwd = only_element(carbon);
    if (!fwd || !named(fwd, "forwarded", XMPPC_NS_FORWARD)) {
        *why = "no single <forwarded/> element";
        return NULL;
    }
    /* <forwarded/>: one message, optionally with a <delay/> (XEP-0297). */
    const xmppc_stanza *inner = NULL;
    size_t n = xmppc_stanza_child_count(fwd);
    for (size_t i = 0; i < n; i++) {
        const xmppc_stanza *c = xmppc_stanza_child_at(fwd, i);
        if (xmppc_stanza_is_text(c))
            continue;
        if (named(c, "message", NS_CLIENT)) {
            if (inner) {
                *why = "more than one forwarded message";
                return NULL;
            }
            inner = c;
        } else if (!named(c, "delay", "urn:xmpp:delay")) {
            *why = "unexpected content in <forwarded/>";
            return NULL;
        }
    }
    if (!inner) {
        *why = "no forwarded message";
        return NULL;
    }
    xmppc_carbon_direction nested_dir;
    int nested = 0;
    find_carbon(inner, &nested_dir, &nested);
    if (nested) {
        *why = "a carbon inside a carbon";
        return NULL;
    }
    /* A received copy was addressed to us; a sent copy came from us. */
    const char *party = dir == XMPPC_CARBON_RECEIVED
                            ? xmppc_stanza_get_to(inner)
                            : xmppc_stanza_get_from(inner);
    if (party && !is_own(party, own, false)) {
        *why = dir == XMPPC_CARBON_RECEIVED
                   ? "the received message was not addressed to the account"
                   : "the sent message was not from the account";
        return NULL;
    }
    return inner;
}

static int guard_handler(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    carbons_manager *m = userdata;
    xmppc_carbon_direction dir = XMPPC_CARBON_RECEIVED;
    int count = 0;
    const xmppc_stanza *carbon = find_carbon(msg, &dir, &count);
    if (count == 0)
        return XMPPC_CONTINUE; /* e.g. a message marked <private/> */
    const char *why = "more than one carbons element";
    const xmppc_stanza *inner =
        count == 1 ? unwrap(conn, msg, carbon, dir, &why) : NULL;
    if (!inner) {
        warn(conn, why, msg);
        return XMPPC_HANDLED;
    }
    /* Keep the stanza alive whatever the listeners do. */
    xmppc_stanza_ref(msg);
    m->calling++;
    for (carbons_listener *l = m->listeners; l; l = l->next)
        if (!l->dead)
            l->cb(conn, inner, dir, l->userdata);
    if (--m->calling == 0)
        listener_free_dead(m);
    xmppc_stanza_unref(msg);
    return XMPPC_HANDLED;
}

static carbons_manager *get_manager(xmppc_conn *conn)
{
    carbons_manager *m = xmppc_conn_attached(conn, &manager_key);
    if (m)
        return m;
    m = xmppc__calloc(1, sizeof *m);
    if (!m) {
        xmppc__error(XMPPC_ENOMEM, "carbons: out of memory");
        return NULL;
    }
    if (xmppc_conn_attach(conn, &manager_key, m, manager_free) < 0) {
        xmppc_free(m);
        return NULL;
    }
    int rc = xmppc_conn_add_handler(conn, &m->guard, "message", NULL,
                                    XMPPC_NS_CARBONS, guard_handler, m, NULL);
    xmppc_disco *disco = rc == 0 ? xmppc_disco_get(conn) : NULL;
    if (rc == 0 && !disco)
        rc = xmppc_error_last()->code;
    if (rc == 0)
        rc = xmppc_disco_add_feature(disco, XMPPC_NS_CARBONS);
    if (rc < 0) {
        xmppc_conn_attach(conn, &manager_key, NULL, NULL); /* frees m */
        return xmppc__error(rc, "carbons: cannot set up the manager"), NULL;
    }
    return m;
}

XMPPC_API const char *
xmppc_carbon_direction_name(xmppc_carbon_direction direction)
{
    switch (direction) {
    case XMPPC_CARBON_RECEIVED:
        return "received";
    case XMPPC_CARBON_SENT:
        return "sent";
    }
    return NULL;
}

/* ---- enable / disable ---------------------------------------------------- */

typedef struct request {
    bool enable;
    xmppc_carbons_result_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} request;

static void request_reply(xmppc_conn *conn, xmppc_stanza *reply,
                          const xmppc_error *err, void *userdata)
{
    (void)reply;
    request *r = userdata;
    carbons_manager *m = xmppc_conn_attached(conn, &manager_key);
    if (!err && m)
        m->enabled = r->enable;
    if (r->cb)
        r->cb(conn, m ? m->enabled : 0, err, r->userdata);
}

static void request_destroy(void *userdata)
{
    request *r = userdata;
    if (r->destroy)
        r->destroy(r->userdata);
    xmppc_free(r);
}

static int send_toggle(xmppc_conn *conn, bool enable,
                       xmppc_carbons_result_cb cb, void *userdata,
                       xmppc_destroy_cb destroy)
{
    if (!conn)
        return xmppc__error(XMPPC_EINVAL, "carbons_%s: NULL connection",
                            enable ? "enable" : "disable");
    if (!get_manager(conn))
        return xmppc_error_last()->code;
    xmppc_stanza *iq = NULL, *el = NULL;
    int rc = xmppc_iq_new(&iq, "set", NULL, NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&el, enable ? "enable" : "disable",
                              XMPPC_NS_CARBONS);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, el);
    request *r = NULL;
    if (rc == 0 && !(r = xmppc__malloc(sizeof *r)))
        rc = xmppc__error(XMPPC_ENOMEM, "carbons: out of memory");
    if (rc == 0) {
        *r = (request){enable, cb, userdata, destroy};
        rc = xmppc_conn_send_iq(conn, iq, 0, request_reply, r, request_destroy);
        if (rc < 0)
            xmppc_free(r); /* neither callback runs */
    }
    xmppc_stanza_unref(el);
    xmppc_stanza_unref(iq);
    return rc;
}

XMPPC_API int xmppc_carbons_enable(xmppc_conn *conn, xmppc_carbons_result_cb cb,
                                   void *userdata, xmppc_destroy_cb destroy)
{
    return send_toggle(conn, true, cb, userdata, destroy);
}

XMPPC_API int xmppc_carbons_disable(xmppc_conn *conn,
                                    xmppc_carbons_result_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy)
{
    return send_toggle(conn, false, cb, userdata, destroy);
}

XMPPC_API int xmppc_carbons_is_enabled(const xmppc_conn *conn)
{
    const carbons_manager *m =
        conn ? xmppc_conn_attached(conn, &manager_key) : NULL;
    return m && m->enabled && xmppc_conn_get_state(conn) == XMPPC_STATE_READY;
}

/* ---- server support --------------------------------------------------- */

typedef struct support_query {
    xmppc_carbons_supported_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} support_query;

static void support_answer(xmppc_disco *mgr, const char *jid,
                           const char *feature, int supported,
                           const xmppc_error *err, void *userdata)
{
    (void)jid;
    (void)feature;
    support_query *q = userdata;
    q->cb(xmppc_disco_get_conn(mgr), supported, err, q->userdata);
}

static void support_destroy(void *userdata)
{
    support_query *q = userdata;
    if (q->destroy)
        q->destroy(q->userdata);
    xmppc_free(q);
}

XMPPC_API int xmppc_carbons_server_supports(xmppc_conn *conn,
                                            xmppc_carbons_supported_cb cb,
                                            void *userdata,
                                            xmppc_destroy_cb destroy)
{
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL,
                            "carbons_server_supports: NULL argument");
    if (!get_manager(conn))
        return xmppc_error_last()->code;
    xmppc_jid *own = NULL;
    int rc = xmppc_jid_parse(&own, xmppc_conn_get_jid(conn));
    if (rc < 0)
        return rc;
    support_query *q = xmppc__malloc(sizeof *q);
    if (!q) {
        xmppc_jid_unref(own);
        return xmppc__error(XMPPC_ENOMEM, "carbons: out of memory");
    }
    *q = (support_query){cb, userdata, destroy};
    rc = xmppc_disco_supports(xmppc_disco_get(conn), xmppc_jid_domain(own),
                              XMPPC_NS_CARBONS, support_answer, q,
                              support_destroy);
    if (rc < 0)
        xmppc_free(q);
    xmppc_jid_unref(own);
    return rc;
}

/* ---- listeners ------------------------------------------------------------
 */

static int never_matches(xmppc_conn *conn, xmppc_stanza *s, void *userdata)
{
    (void)conn;
    (void)s;
    (void)userdata;
    return XMPPC_CONTINUE;
}

static void listener_gone(void *userdata)
{
    carbons_listener *l = userdata;
    if (l->destroy)
        l->destroy(l->userdata);
    l->destroy = NULL;
    l->dead = true;
    if (l->m->calling == 0)
        listener_free_dead(l->m);
}

XMPPC_API int xmppc_carbons_on_message(xmppc_conn *conn,
                                       xmppc_handler **handle_out,
                                       xmppc_carbon_cb cb, void *userdata,
                                       xmppc_destroy_cb destroy)
{
    if (handle_out)
        *handle_out = NULL;
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL, "carbons_on_message: NULL argument");
    carbons_manager *m = get_manager(conn);
    if (!m)
        return xmppc_error_last()->code;
    carbons_listener *l = xmppc__calloc(1, sizeof *l);
    if (!l)
        return xmppc__error(XMPPC_ENOMEM, "carbons: out of memory");
    *l = (carbons_listener){m, cb, userdata, destroy, false, NULL};
    int rc = xmppc_conn_add_handler(conn, handle_out, "message", NULL, NS_NEVER,
                                    never_matches, l, listener_gone);
    if (rc < 0) {
        xmppc_free(l); /* the destroy callback is not called */
        return rc;
    }
    carbons_listener **pp = &m->listeners;
    while (*pp)
        pp = &(*pp)->next;
    *pp = l;
    return 0;
}

/* ---- private messages ------------------------------------------------------
 */

XMPPC_API int xmppc_carbons_mark_private(xmppc_stanza *message)
{
    const char *name = message ? xmppc_stanza_get_name(message) : NULL;
    if (!name || strcmp(name, "message") != 0)
        return xmppc__error(XMPPC_EINVAL,
                            "carbons_mark_private: not a message");
    int rc = 0;
    if (!xmppc_stanza_get_child(message, "private", XMPPC_NS_CARBONS))
        rc = xmppc_stanza_add_text_child(message, "private", XMPPC_NS_CARBONS,
                                         NULL);
    if (rc == 0 && !xmppc_stanza_get_child(message, "no-copy", XMPPC_NS_HINTS))
        rc = xmppc_stanza_add_text_child(message, "no-copy", XMPPC_NS_HINTS,
                                         NULL);
    return rc;
}

XMPPC_API int xmppc_carbons_is_private(const xmppc_stanza *message)
{
    return message &&
           xmppc_stanza_get_child(message, "private", XMPPC_NS_CARBONS) != NULL;
}
