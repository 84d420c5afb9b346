/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * One-to-one messages, delivery receipts (XEP-0184), chat states
 * (XEP-0085) and Smack's message properties, written on the public stanza
 * and connection API only, as an application could write them.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xmppc-private.h"
#include <xmppc/carbons.h>
#include <xmppc/muc.h>
#include <xmppc/chat.h>
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/jid.h>
#include <xmppc/stanza.h>

/* ---- the chat manager: per-connection settings --------------------------- */

struct xmppc_chat {
    xmppc_conn *conn;
    char *peer;    /* bare JID */
    char *address; /* the full JID the peer last wrote from, or NULL */
    char *thread;
};

/* A message or new-chat listener: called by the manager's own handler;
 * its handle is a dispatcher handler that never matches. */
typedef struct chat_listener {
    struct chat_manager *m;
    xmppc_chat_message_cb on_message;
    xmppc_chat_new_cb on_new_chat;
    void *userdata;
    xmppc_destroy_cb destroy;
    bool dead; /* removed while listeners were being called */
    struct chat_listener *next;
    const struct xmppc_chat *only; /* per-chat listener: its chat, else NULL */
} chat_listener;

#define MAX_CHATS 4096

typedef struct chat_manager {
    bool receipts;    /* answer receipt requests */
    bool send_active; /* add <active/> to sent text messages */
    xmppc_handler *answerer;
    /* message tracking, set up on first use */
    xmppc_handler *tracker, *carbons;
    xmppc_chat **chats;
    size_t nchats;
    chat_listener *listeners; /* in registration order */
    int calling;              /* depth of listener calls under way */
} chat_manager;

static const char manager_key; /* its address keys xmppc_conn_attach() */

static bool is_type(const xmppc_stanza *s, const char *type)
{
    const char *t = xmppc_stanza_get_type(s);
    return t && strcmp(t, type) == 0;
}

static bool is_message(const xmppc_stanza *s)
{
    const char *name = xmppc_stanza_get_name(s);
    return name && strcmp(name, "message") == 0;
}

/* Answers a receipt request (XEP-0184 section 5): never for errors or
 * groupchat messages, nor without id or sender. */
static int answer_receipt(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    (void)userdata;
    const chat_manager *m = xmppc_conn_attached(conn, &manager_key);
    if (!m || !m->receipts ||
        !xmppc_stanza_get_child(msg, "request", XMPPC_NS_RECEIPTS) ||
        is_type(msg, "error") || is_type(msg, "groupchat"))
        return XMPPC_CONTINUE;
    const char *id = xmppc_stanza_get_id(msg);
    const char *from = xmppc_stanza_get_from(msg);
    if (!id || !*id || !from || !*from)
        return XMPPC_CONTINUE;
    xmppc_stanza *ack = NULL, *received = NULL;
    int rc = xmppc_message_new(&ack, NULL, from, NULL);
    if (rc == 0)
        rc = xmppc_stanza_set_new_id(ack);
    if (rc == 0)
        rc = xmppc_stanza_new(&received, "received", XMPPC_NS_RECEIPTS);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(received, "id", id);
    if (rc == 0)
        rc = xmppc_stanza_add_child(ack, received);
    if (rc == 0)
        xmppc_conn_send(conn, ack); /* best effort, as any automatic reply */
    xmppc_stanza_unref(received);
    xmppc_stanza_unref(ack);
    xmppc_error_clear();
    return XMPPC_CONTINUE;
}

static void chat_free(xmppc_chat *chat)
{
    xmppc_free(chat->peer);
    xmppc_free(chat->address);
    xmppc_free(chat->thread);
    xmppc_free(chat);
}

static void listeners_free_dead(chat_manager *m)
{
    chat_listener **pp = &m->listeners;
    while (*pp) {
        chat_listener *l = *pp;
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
    chat_manager *m = data;
    xmppc_handler_free(m->answerer);
    xmppc_handler_free(m->tracker);
    xmppc_handler_free(m->carbons);
    for (size_t i = 0; i < m->nchats; i++)
        chat_free(m->chats[i]);
    xmppc_free(m->chats);
    /* The listeners' handlers went away before the attachments. */
    for (chat_listener *l = m->listeners; l; l = l->next)
        l->dead = true;
    listeners_free_dead(m);
    xmppc_free(m);
}

/* The connection's chat manager, set up on first use. */
static chat_manager *get_manager(xmppc_conn *conn)
{
    chat_manager *m = xmppc_conn_attached(conn, &manager_key);
    if (m)
        return m;
    m = xmppc__calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->receipts = true;
    if (xmppc_conn_attach(conn, &manager_key, m, manager_free) < 0) {
        xmppc_free(m);
        return NULL;
    }
    if (xmppc_conn_add_handler(conn, &m->answerer, "message", NULL,
                               XMPPC_NS_RECEIPTS, answer_receipt, NULL,
                               NULL) < 0) {
        int code = xmppc_error_last()->code;
        xmppc_conn_attach(conn, &manager_key, NULL, NULL); /* frees m */
        xmppc__error(code, "chat: cannot set up the chat manager");
        return NULL;
    }
    /* XEP-0184 6 and XEP-0085 5: say that we answer receipts and send
     * chat states. */
    xmppc_disco *disco = xmppc_disco_get(conn);
    if (!disco || xmppc_disco_add_feature(disco, XMPPC_NS_RECEIPTS) < 0 ||
        xmppc_disco_add_feature(disco,
                                "http://jabber.org/protocol/chatstates") < 0)
        xmppc_conn_log(conn, XMPPC_LOG_WARN, "chat",
                       "cannot advertise receipts and chat states in disco");
    return m;
}

/* ---- sending ----------------------------------------------------------------
 */

static int add_empty_child(xmppc_stanza *parent, const char *name,
                           const char *ns)
{
    return xmppc_stanza_add_text_child(parent, name, ns, NULL);
}

static int send_message(xmppc_conn *conn, const char *type, const char *to,
                        const char *text, const char *thread, bool receipt,
                        char **id_out)
{
    chat_manager *m = get_manager(conn);
    if (!m)
        return XMPPC_ENOMEM;
    xmppc_stanza *msg = NULL;
    int rc = xmppc_message_new(&msg, type, to, text);
    if (rc == 0 && thread)
        rc = xmppc_message_set_thread(msg, thread);
    if (rc == 0)
        rc = xmppc_stanza_set_new_id(msg);
    if (rc == 0 && m->send_active)
        rc = add_empty_child(msg, "active", XMPPC_NS_CHATSTATES);
    if (rc == 0 && receipt)
        rc = add_empty_child(msg, "request", XMPPC_NS_RECEIPTS);
    char *id = NULL;
    if (rc == 0 && id_out) {
        id = xmppc__strdup(xmppc_stanza_get_id(msg));
        if (!id)
            rc = XMPPC_ENOMEM;
    }
    if (rc == 0)
        rc = xmppc_conn_send(conn, msg);
    xmppc_stanza_unref(msg);
    if (rc == 0 && id_out)
        *id_out = id;
    else
        xmppc_free(id);
    return rc;
}

XMPPC_API int xmppc_chat_send_text(xmppc_conn *conn, const char *to,
                                   const char *text)
{
    if (!conn || !to || !text)
        return xmppc__error(XMPPC_EINVAL, "chat_send_text: NULL argument");
    return send_message(conn, "chat", to, text, NULL, false, NULL);
}

XMPPC_API int xmppc_chat_reply_text(xmppc_conn *conn,
                                    const xmppc_stanza *message,
                                    const char *text)
{
    if (!conn || !message || !text)
        return xmppc__error(XMPPC_EINVAL, "chat_reply_text: NULL argument");
    const char *from = xmppc_stanza_get_from(message);
    if (!from)
        return xmppc__error(XMPPC_EINVAL, "the message has no sender");
    const char *type = xmppc_stanza_get_type(message);
    if (!type || strcmp(type, "error") == 0 || strcmp(type, "groupchat") == 0)
        type = "chat";
    return send_message(conn, type, from, text,
                        xmppc_message_get_thread(message), false, NULL);
}

/* ---- receipts ---------------------------------------------------------------
 */

XMPPC_API int xmppc_chat_send_text_receipt(xmppc_conn *conn, const char *to,
                                           const char *text, char **id_out)
{
    if (!conn || !to || !text)
        return xmppc__error(XMPPC_EINVAL,
                            "chat_send_text_receipt: NULL argument");
    return send_message(conn, "chat", to, text, NULL, true, id_out);
}

XMPPC_API int xmppc_message_request_receipt(xmppc_stanza *message)
{
    if (!is_message(message))
        return xmppc__error(XMPPC_EINVAL,
                            "message_request_receipt: not a message");
    if (!xmppc_stanza_get_id(message)) {
        int rc = xmppc_stanza_set_new_id(message);
        if (rc < 0)
            return rc;
    }
    if (xmppc_stanza_get_child(message, "request", XMPPC_NS_RECEIPTS))
        return 0;
    return add_empty_child(message, "request", XMPPC_NS_RECEIPTS);
}

XMPPC_API int xmppc_chat_enable_receipts(xmppc_conn *conn, int enabled)
{
    if (!conn)
        return xmppc__error(XMPPC_EINVAL, "chat_enable_receipts: NULL conn");
    chat_manager *m = get_manager(conn);
    if (!m)
        return xmppc_error_last()->code;
    m->receipts = enabled != 0;
    return 0;
}

/* ---- listeners: a handler whose userdata wraps the user's callback ------ */

typedef struct listener {
    xmppc_chat_receipt_cb on_receipt;
    xmppc_chat_state_cb on_state;
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

static int add_listener(xmppc_conn *conn, xmppc_handler **handle_out,
                        const char *ns, xmppc_stanza_cb handler, listener *tmpl)
{
    if (!get_manager(conn))
        return xmppc_error_last()->code;
    listener *l = xmppc__malloc(sizeof *l);
    if (!l)
        return XMPPC_ENOMEM;
    *l = *tmpl;
    int rc = xmppc_conn_add_handler(conn, handle_out, "message", NULL, ns,
                                    handler, l, listener_destroy);
    if (rc < 0)
        xmppc_free(l); /* the destroy callback is not called */
    return rc;
}

static int receipt_handler(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    const listener *l = userdata;
    if (is_type(msg, "error"))
        return XMPPC_CONTINUE;
    const xmppc_stanza *received =
        xmppc_stanza_get_child(msg, "received", XMPPC_NS_RECEIPTS);
    if (!received)
        return XMPPC_CONTINUE;
    const char *id = xmppc_stanza_get_attr(received, "id");
    if (!id || !*id) /* early XEP-0184 versions: the message's own id */
        id = xmppc_stanza_get_id(msg);
    if (id && *id)
        l->on_receipt(conn, xmppc_stanza_get_from(msg), id, l->userdata);
    return XMPPC_CONTINUE;
}

XMPPC_API int xmppc_chat_on_receipt(xmppc_conn *conn,
                                    xmppc_handler **handle_out,
                                    xmppc_chat_receipt_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy)
{
    if (handle_out)
        *handle_out = NULL;
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL, "chat_on_receipt: NULL argument");
    listener tmpl = {cb, NULL, userdata, destroy};
    return add_listener(conn, handle_out, XMPPC_NS_RECEIPTS, receipt_handler,
                        &tmpl);
}

/* ---- chat states ------------------------------------------------------------
 */

static const char *const state_names[] = {"active", "composing", "paused",
                                          "inactive", "gone"};
#define STATE_COUNT (sizeof state_names / sizeof state_names[0])

XMPPC_API const char *xmppc_chat_state_name(xmppc_chat_state state)
{
    unsigned i = (unsigned)state;
    return i < STATE_COUNT ? state_names[i] : NULL;
}

XMPPC_API int xmppc_message_set_chat_state(xmppc_stanza *message,
                                           xmppc_chat_state state)
{
    const char *name = xmppc_chat_state_name(state);
    if (!is_message(message) || !name)
        return xmppc__error(XMPPC_EINVAL, "message_set_chat_state: %s",
                            name ? "not a message" : "invalid state");
    xmppc_stanza *el = NULL;
    int rc = xmppc_stanza_new(&el, name, XMPPC_NS_CHATSTATES);
    if (rc == 0)
        rc = xmppc_stanza_add_child(message, el);
    xmppc_stanza_unref(el);
    if (rc < 0)
        return rc;
    /* Then drop the states it had (all but the new one, the last child). */
    xmppc_stanza *old;
    while ((old = xmppc_stanza_get_child(message, NULL, XMPPC_NS_CHATSTATES)) &&
           old != el)
        xmppc_stanza_remove_child(message, old);
    return 0;
}

XMPPC_API int xmppc_message_get_chat_state(const xmppc_stanza *message,
                                           xmppc_chat_state *state_out)
{
    if (!message || !state_out)
        return xmppc__error(XMPPC_EINVAL, "message_get_chat_state: NULL");
    for (xmppc_stanza *c =
             xmppc_stanza_get_child(message, NULL, XMPPC_NS_CHATSTATES);
         c; c = xmppc_stanza_get_next_child(message, c, NULL,
                                            XMPPC_NS_CHATSTATES)) {
        const char *name = xmppc_stanza_get_name(c);
        for (size_t i = 0; i < STATE_COUNT; i++) {
            if (strcmp(name, state_names[i]) == 0) {
                *state_out = (xmppc_chat_state)i;
                return 1;
            }
        }
    }
    return 0;
}

XMPPC_API int xmppc_chat_send_state(xmppc_conn *conn, const char *to,
                                    xmppc_chat_state state)
{
    if (!conn || !to)
        return xmppc__error(XMPPC_EINVAL, "chat_send_state: NULL argument");
    if (!xmppc_chat_state_name(state))
        return xmppc__error(XMPPC_EINVAL, "chat_send_state: invalid state %d",
                            (int)state);
    if (!get_manager(conn))
        return xmppc_error_last()->code;
    xmppc_stanza *msg = NULL;
    int rc = xmppc_message_new(&msg, "chat", to, NULL);
    if (rc == 0)
        rc = xmppc_stanza_set_new_id(msg);
    if (rc == 0)
        rc = xmppc_message_set_chat_state(msg, state);
    if (rc == 0)
        rc = xmppc_conn_send(conn, msg);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API int xmppc_chat_set_send_active(xmppc_conn *conn, int enabled)
{
    if (!conn)
        return xmppc__error(XMPPC_EINVAL, "chat_set_send_active: NULL conn");
    chat_manager *m = get_manager(conn);
    if (!m)
        return xmppc_error_last()->code;
    m->send_active = enabled != 0;
    return 0;
}

static int state_handler(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    const listener *l = userdata;
    xmppc_chat_state state;
    if (!is_type(msg, "error") &&
        xmppc_message_get_chat_state(msg, &state) == 1)
        l->on_state(conn, xmppc_stanza_get_from(msg), state, l->userdata);
    return XMPPC_CONTINUE;
}

XMPPC_API int xmppc_chat_on_state(xmppc_conn *conn, xmppc_handler **handle_out,
                                  xmppc_chat_state_cb cb, void *userdata,
                                  xmppc_destroy_cb destroy)
{
    if (handle_out)
        *handle_out = NULL;
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL, "chat_on_state: NULL argument");
    listener tmpl = {NULL, cb, userdata, destroy};
    return add_listener(conn, handle_out, XMPPC_NS_CHATSTATES, state_handler,
                        &tmpl);
}

/* ---- per-peer chats and the message listener ---------------------------- */

static xmppc_chat *find_chat(const chat_manager *m, const char *bare)
{
    for (size_t i = 0; i < m->nchats; i++)
        if (strcmp(m->chats[i]->peer, bare) == 0)
            return m->chats[i];
    return NULL;
}

static int set_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = xmppc__strdup(value)))
        return xmppc__error(XMPPC_ENOMEM, "chat: out of memory");
    xmppc_free(*field);
    *field = copy;
    return 0;
}

/* Creates the chat of @p jid (parsed, prepared), which has none. */
static xmppc_chat *new_chat(xmppc_conn *conn, chat_manager *m,
                            const xmppc_jid *jid)
{
    if (m->nchats >= MAX_CHATS) {
        xmppc__error(XMPPC_ELIMIT, "chat: too many chats (%d)", MAX_CHATS);
        return NULL;
    }
    xmppc_chat **chats =
        xmppc__reallocarray(m->chats, m->nchats + 1, sizeof *chats);
    if (!chats) {
        xmppc__error(XMPPC_ENOMEM, "chat: out of memory");
        return NULL;
    }
    m->chats = chats;
    xmppc_chat *chat = xmppc__calloc(1, sizeof *chat);
    if (!chat || set_string(&chat->peer, xmppc_jid_bare(jid)) < 0 ||
        (!xmppc_jid_is_bare(jid) &&
         set_string(&chat->address, xmppc_jid_full(jid)) < 0)) {
        if (chat)
            chat_free(chat);
        xmppc__error(XMPPC_ENOMEM, "chat: out of memory");
        return NULL;
    }
    chat->conn = conn;
    m->chats[m->nchats++] = chat;
    return chat;
}

/* Calls the listeners: new-chat ones when @p created, then message ones. */
static void notify(xmppc_conn *conn, chat_manager *m, xmppc_chat *created,
                   const xmppc_stanza *msg, const char *peer, int sent)
{
    m->calling++;
    for (chat_listener *l = m->listeners; created && l; l = l->next)
        if (!l->dead && l->on_new_chat)
            l->on_new_chat(conn, created, l->userdata);
    for (chat_listener *l = m->listeners; l; l = l->next)
        if (!l->dead && l->on_message &&
            (!l->only || strcmp(l->only->peer, peer) == 0))
            l->on_message(conn, msg, peer, sent, l->userdata);
    if (--m->calling == 0)
        listeners_free_dead(m);
}

/* Private messages from room occupants (XEP-0045 §7.5 marks them with a
 * muc#user element; a room the MUC manager knows needs no mark) belong to
 * the room, not to a 1:1 chat with the room's bare JID. */
static bool is_room_traffic(xmppc_conn *conn, const xmppc_stanza *msg)
{
    if (xmppc_stanza_get_child(msg, "x", XMPPC_NS_MUC_USER))
        return true;
    xmppc_muc *muc = xmppc_muc_find(conn);
    const char *from = xmppc_stanza_get_from(msg),
               *to = xmppc_stanza_get_to(msg);
    return muc && ((from && xmppc_muc_room_find(muc, from)) ||
                   (to && xmppc_muc_room_find(muc, to)));
}

/* A chat or normal message with a body, from @p party (the peer) or, for a
 * sent carbon, to it: updates the peer's chat and tells the listeners. */
static void track(xmppc_conn *conn, chat_manager *m, const xmppc_stanza *msg,
                  const char *party, bool sent)
{
    const char *type = xmppc_stanza_get_type(msg);
    if ((type && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0) ||
        !xmppc_message_get_body(msg) || !party || is_room_traffic(conn, msg))
        return;
    xmppc_jid *jid = NULL;
    if (xmppc_jid_parse(&jid, party) < 0 || !xmppc_jid_local(jid)) {
        xmppc_jid_unref(jid);
        xmppc_error_clear();
        return; /* from a server or service */
    }
    char peer[3072];
    snprintf(peer, sizeof peer, "%s", xmppc_jid_bare(jid));
    xmppc_chat *chat = find_chat(m, peer), *created = NULL;
    if (!chat) {
        chat = created = new_chat(conn, m, jid);
        if (!chat) {
            xmppc_conn_log(conn, XMPPC_LOG_WARN, "chat",
                           xmppc_error_last()->message);
            xmppc_error_clear();
        }
    }
    if (chat && !sent) {
        /* Answer the resource that wrote last (XEP-0296); keep its thread. */
        if (!xmppc_jid_is_bare(jid))
            set_string(&chat->address, xmppc_jid_full(jid));
        const char *thread = xmppc_message_get_thread(msg);
        if (thread && *thread)
            set_string(&chat->thread, thread);
        xmppc_error_clear();
    }
    xmppc_jid_unref(jid);
    /* The stanza stays alive: the dispatcher or the carbon holds it. */
    notify(conn, m, created, msg, peer, sent ? 1 : 0);
}

static int track_handler(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    track(conn, userdata, msg, xmppc_stanza_get_from(msg), false);
    return XMPPC_CONTINUE;
}

static void track_carbon(xmppc_conn *conn, const xmppc_stanza *inner,
                         xmppc_carbon_direction dir, void *userdata)
{
    bool sent = dir == XMPPC_CARBON_SENT;
    track(conn, userdata, inner,
          sent ? xmppc_stanza_get_to(inner) : xmppc_stanza_get_from(inner),
          sent);
}

/* The manager with message tracking set up: the carbons manager first (its
 * handler unwraps and consumes carbons), then the tracking handler. */
static chat_manager *get_tracking(xmppc_conn *conn)
{
    chat_manager *m = get_manager(conn);
    if (!m || m->tracker)
        return m;
    int rc = 0;
    if (!m->carbons)
        rc = xmppc_carbons_on_message(conn, &m->carbons, track_carbon, m, NULL);
    if (rc == 0)
        rc = xmppc_conn_add_handler(conn, &m->tracker, "message", NULL, NULL,
                                    track_handler, m, NULL);
    return rc < 0 ? NULL : m;
}

static int nothing(xmppc_conn *conn, xmppc_stanza *s, void *userdata)
{
    (void)conn;
    (void)s;
    (void)userdata;
    return XMPPC_CONTINUE;
}

static void chat_listener_gone(void *userdata)
{
    chat_listener *l = userdata;
    if (l->destroy)
        l->destroy(l->userdata);
    l->destroy = NULL;
    l->dead = true;
    if (l->m->calling == 0)
        listeners_free_dead(l->m);
}

static int add_chat_listener(xmppc_conn *conn, xmppc_handler **handle_out,
                             const chat_listener *tmpl)
{
    chat_manager *m = get_tracking(conn);
    if (!m)
        return xmppc_error_last()->code;
    chat_listener *l = xmppc__malloc(sizeof *l);
    if (!l)
        return xmppc__error(XMPPC_ENOMEM, "chat: out of memory");
    *l = *tmpl;
    l->m = m;
    int rc = xmppc_conn_add_handler(conn, handle_out, "message", NULL,
                                    "urn:xmppc:internal:chat-listener", nothing,
                                    l, chat_listener_gone);
    if (rc < 0) {
        xmppc_free(l); /* the destroy callback is not called */
        return rc;
    }
    chat_listener **pp = &m->listeners;
    while (*pp)
        pp = &(*pp)->next;
    *pp = l;
    return 0;
}

XMPPC_API int xmppc_chat_on_message(xmppc_conn *conn,
                                    xmppc_handler **handle_out,
                                    xmppc_chat_message_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy)
{
    if (handle_out)
        *handle_out = NULL;
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL, "chat_on_message: NULL argument");
    chat_listener tmpl = {NULL, cb, NULL, userdata, destroy, false, NULL, NULL};
    return add_chat_listener(conn, handle_out, &tmpl);
}

XMPPC_API int xmppc_chat_on_new_chat(xmppc_conn *conn,
                                     xmppc_handler **handle_out,
                                     xmppc_chat_new_cb cb, void *userdata,
                                     xmppc_destroy_cb destroy)
{
    if (handle_out)
        *handle_out = NULL;
    if (!conn || !cb)
        return xmppc__error(XMPPC_EINVAL, "chat_on_new_chat: NULL argument");
    chat_listener tmpl = {NULL, NULL, cb, userdata, destroy, false, NULL, NULL};
    return add_chat_listener(conn, handle_out, &tmpl);
}

XMPPC_API xmppc_chat *xmppc_chat_get(xmppc_conn *conn, const char *peer_jid)
{
    if (!conn || !peer_jid) {
        xmppc__error(XMPPC_EINVAL, "chat_get: NULL argument");
        return NULL;
    }
    xmppc_jid *jid = NULL;
    if (xmppc_jid_parse(&jid, peer_jid) < 0)
        return NULL;
    chat_manager *m = get_tracking(conn);
    xmppc_chat *chat = m ? find_chat(m, xmppc_jid_bare(jid)) : NULL;
    if (m && !chat)
        chat = new_chat(conn, m, jid);
    xmppc_jid_unref(jid);
    return chat;
}

XMPPC_API size_t xmppc_chat_count(const xmppc_conn *conn)
{
    const chat_manager *m =
        conn ? xmppc_conn_attached(conn, &manager_key) : NULL;
    return m ? m->nchats : 0;
}

XMPPC_API xmppc_chat *xmppc_chat_at(const xmppc_conn *conn, size_t index)
{
    const chat_manager *m =
        conn ? xmppc_conn_attached(conn, &manager_key) : NULL;
    return m && index < m->nchats ? m->chats[index] : NULL;
}

XMPPC_API xmppc_conn *xmppc_chat_get_conn(const xmppc_chat *chat)
{
    return chat ? chat->conn : NULL;
}

XMPPC_API const char *xmppc_chat_peer(const xmppc_chat *chat)
{
    return chat ? chat->peer : NULL;
}

XMPPC_API const char *xmppc_chat_get_address(const xmppc_chat *chat)
{
    return !chat ? NULL : chat->address ? chat->address : chat->peer;
}

XMPPC_API const char *xmppc_chat_get_thread(const xmppc_chat *chat)
{
    return chat ? chat->thread : NULL;
}

XMPPC_API int xmppc_chat_set_thread(xmppc_chat *chat, const char *thread)
{
    if (!chat)
        return xmppc__error(XMPPC_EINVAL, "chat_set_thread: NULL chat");
    return set_string(&chat->thread, thread && *thread ? thread : NULL);
}

XMPPC_API int xmppc_chat_send(xmppc_chat *chat, const char *text)
{
    if (!chat || !text)
        return xmppc__error(XMPPC_EINVAL, "chat_send: NULL argument");
    return send_message(chat->conn, "chat", xmppc_chat_get_address(chat), text,
                        chat->thread, false, NULL);
}

XMPPC_API int xmppc_chat_add_message_listener(xmppc_chat *chat,
                                              xmppc_handler **handle_out,
                                              xmppc_chat_message_cb cb,
                                              void *userdata,
                                              xmppc_destroy_cb destroy)
{
    if (handle_out)
        *handle_out = NULL;
    if (!chat || !cb)
        return xmppc__error(XMPPC_EINVAL,
                            "chat_add_message_listener: NULL argument");
    chat_listener tmpl = {NULL, cb, NULL, userdata, destroy, false, NULL, chat};
    return add_chat_listener(chat->conn, handle_out, &tmpl);
}

XMPPC_API int xmppc_chat_send_message(xmppc_chat *chat, xmppc_stanza *message)
{
    if (!chat || !is_message(message))
        return xmppc__error(XMPPC_EINVAL,
                            "chat_send_message: NULL chat or not a message");
    chat_manager *m = get_manager(chat->conn);
    if (!m)
        return XMPPC_ENOMEM;
    int rc = 0;
    if (!xmppc_stanza_get_attr(message, "to"))
        rc = xmppc_stanza_set_attr(message, "to", xmppc_chat_get_address(chat));
    if (rc == 0 && !xmppc_stanza_get_type(message))
        rc = xmppc_stanza_set_attr(message, "type", "chat");
    if (rc == 0 && chat->thread && !xmppc_message_get_thread(message))
        rc = xmppc_message_set_thread(message, chat->thread);
    if (rc == 0 && !xmppc_stanza_get_id(message))
        rc = xmppc_stanza_set_new_id(message);
    if (rc == 0 && m->send_active &&
        !xmppc_stanza_get_child(message, NULL, XMPPC_NS_CHATSTATES))
        rc = add_empty_child(message, "active", XMPPC_NS_CHATSTATES);
    return rc < 0 ? rc : xmppc_conn_send(chat->conn, message);
}

/* ---- message properties (Smack's JivePropertiesExtension) ------------ */

static xmppc_stanza *properties_of(const xmppc_stanza *msg)
{
    return xmppc_stanza_get_child(msg, "properties", XMPPC_NS_PROPERTIES);
}

static xmppc_stanza *find_property(const xmppc_stanza *msg, const char *name)
{
    xmppc_stanza *props = properties_of(msg);
    if (!props)
        return NULL;
    for (xmppc_stanza *p =
             xmppc_stanza_get_child(props, "property", XMPPC_NS_PROPERTIES);
         p; p = xmppc_stanza_get_next_child(props, p, "property",
                                            XMPPC_NS_PROPERTIES)) {
        const char *n =
            xmppc_stanza_get_child_text(p, "name", XMPPC_NS_PROPERTIES);
        if (n && strcmp(n, name) == 0)
            return p;
    }
    return NULL;
}

/* Adds or replaces a property; the message is unchanged on failure. */
static int set_property(xmppc_stanza *msg, const char *name, const char *type,
                        const char *text)
{
    if (!is_message(msg) || !name || !*name || !text)
        return xmppc__error(XMPPC_EINVAL, "message_set_property: %s",
                            !is_message(msg) ? "not a message"
                                             : "NULL or empty argument");
    xmppc_stanza *prop = NULL, *value = NULL, *props = NULL;
    int rc = xmppc_stanza_new(&prop, "property", XMPPC_NS_PROPERTIES);
    if (rc == 0)
        rc = xmppc_stanza_add_text_child(prop, "name", XMPPC_NS_PROPERTIES,
                                         name);
    if (rc == 0)
        rc = xmppc_stanza_new(&value, "value", XMPPC_NS_PROPERTIES);
    if (rc == 0)
        rc = xmppc_stanza_set_attr(value, "type", type);
    if (rc == 0)
        rc = xmppc_stanza_set_text(value, text);
    if (rc == 0)
        rc = xmppc_stanza_add_child(prop, value);
    if (rc == 0) {
        xmppc_stanza *old = find_property(msg, name);
        props = xmppc_stanza_ref(properties_of(msg));
        if (props) {
            rc = xmppc_stanza_add_child(props, prop);
            if (rc == 0 && old)
                xmppc_stanza_remove_child(props, old);
        } else {
            rc = xmppc_stanza_new(&props, "properties", XMPPC_NS_PROPERTIES);
            if (rc == 0)
                rc = xmppc_stanza_add_child(props, prop);
            if (rc == 0)
                rc = xmppc_stanza_add_child(msg, props);
        }
    }
    xmppc_stanza_unref(props);
    xmppc_stanza_unref(value);
    xmppc_stanza_unref(prop);
    return rc;
}

/* The value element of a property of the wanted type. */
static int get_value(const xmppc_stanza *msg, const char *name,
                     const char *type, const void *out, const char **text_out)
{
    if (!msg || !name || !out)
        return xmppc__error(XMPPC_EINVAL,
                            "message_get_property: NULL argument");
    const xmppc_stanza *prop = find_property(msg, name);
    if (!prop)
        return xmppc__error(XMPPC_EINVAL, "no property '%s'", name);
    const xmppc_stanza *value =
        xmppc_stanza_get_child(prop, "value", XMPPC_NS_PROPERTIES);
    const char *t = value ? xmppc_stanza_get_attr(value, "type") : NULL;
    if (!t)
        return xmppc__error(XMPPC_EPROTO, "property '%s' has no typed value",
                            name);
    if (strcmp(t, type) != 0)
        return xmppc__error(XMPPC_EINVAL,
                            "property '%s' is of type '%s', not "
                            "'%s'",
                            name, t, type);
    const char *text = xmppc_stanza_get_text(value);
    *text_out = text ? text : "";
    return 0;
}

/* Numbers are written and read in the C locale whatever the
 * application's locale, as Java does. */
typedef struct c_numeric {
    locale_t c, saved;
} c_numeric;

static int c_numeric_enter(c_numeric *n)
{
    n->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (n->c == (locale_t)0)
        return xmppc__error(XMPPC_ENOMEM, "cannot create the C locale");
    n->saved = uselocale(n->c);
    return 0;
}

static void c_numeric_leave(c_numeric *n)
{
    uselocale(n->saved);
    freelocale(n->c);
}

/* The shortest %g form of @p value that reads back the same (at most
 * @p max_digits significant digits), or Java's names for special values. */
static int format_floating(char *buf, size_t size, double value, bool single)
{
    if (isnan(value)) {
        snprintf(buf, size, "NaN");
        return 0;
    }
    if (isinf(value)) {
        snprintf(buf, size, value < 0 ? "-Infinity" : "Infinity");
        return 0;
    }
    c_numeric n = {0};
    int rc = c_numeric_enter(&n);
    if (rc < 0)
        return rc;
    int max_digits = single ? 9 : 17;
    for (int digits = 1; digits <= max_digits; digits++) {
        snprintf(buf, size, "%.*g", digits, value);
        if (single ? strtof(buf, NULL) == (float)value
                   : strtod(buf, NULL) == value)
            break;
    }
    c_numeric_leave(&n);
    return 0;
}

static bool xml_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads a decimal floating-point number as Java's Double.valueOf() does
 * (surrounding whitespace, NaN, [+-]Infinity, an optional f/F/d/D
 * suffix); hexadecimal and C's "inf"/"nan" spellings are refused. */
static int parse_floating(const char *name, const char *text, double *d_out,
                          float *f_out)
{
    char buf[128];
    while (xml_space(*text))
        text++;
    size_t len = strlen(text);
    while (len && xml_space(text[len - 1]))
        len--;
    if (len == 0 || len >= sizeof buf)
        goto bad;
    memcpy(buf, text, len);
    buf[len] = '\0';
    const char *p = buf;
    bool negative = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    if (strcmp(p, "NaN") == 0) {
        if (d_out)
            *d_out = NAN;
        if (f_out)
            *f_out = NAN;
        return 0;
    }
    if (strcmp(p, "Infinity") == 0) {
        if (d_out)
            *d_out = negative ? -INFINITY : INFINITY;
        if (f_out)
            *f_out = negative ? -INFINITY : INFINITY;
        return 0;
    }
    if (!((*p >= '0' && *p <= '9') || *p == '.') ||
        (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')))
        goto bad;
    if (strchr("fFdD", buf[len - 1]) && len > 1)
        buf[--len] = '\0';
    c_numeric n = {0};
    int rc = c_numeric_enter(&n);
    if (rc < 0)
        return rc;
    char *end = NULL;
    double d = 0;
    float f = 0;
    if (f_out)
        f = strtof(buf, &end);
    else
        d = strtod(buf, &end);
    c_numeric_leave(&n);
    if (end == buf || *end != '\0')
        goto bad;
    /* Overflow reads as infinity and underflow as zero, as in Java. */
    if (d_out)
        *d_out = d;
    if (f_out)
        *f_out = f;
    return 0;
bad:
    return xmppc__error(XMPPC_EPROTO, "property '%s': malformed number", name);
}

/* Reads a decimal integer in [min, max]: an optional sign, then digits. */
static int parse_integer(const char *name, const char *text, int64_t min,
                         int64_t max, int64_t *out)
{
    const char *p = text;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        goto bad;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            goto bad;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end != '\0' || v < min || v > max)
        goto bad;
    *out = (int64_t)v;
    return 0;
bad:
    return xmppc__error(XMPPC_EPROTO, "property '%s': malformed integer", name);
}

XMPPC_API int xmppc_message_set_property_string(xmppc_stanza *message,
                                                const char *name,
                                                const char *value)
{
    return set_property(message, name, "string", value);
}

XMPPC_API int xmppc_message_set_property_int(xmppc_stanza *message,
                                             const char *name, int32_t value)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%" PRId32, value);
    return set_property(message, name, "integer", buf);
}

XMPPC_API int xmppc_message_set_property_long(xmppc_stanza *message,
                                              const char *name, int64_t value)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, value);
    return set_property(message, name, "long", buf);
}

XMPPC_API int xmppc_message_set_property_float(xmppc_stanza *message,
                                               const char *name, float value)
{
    char buf[64];
    int rc = format_floating(buf, sizeof buf, value, true);
    return rc < 0 ? rc : set_property(message, name, "float", buf);
}

XMPPC_API int xmppc_message_set_property_double(xmppc_stanza *message,
                                                const char *name, double value)
{
    char buf[64];
    int rc = format_floating(buf, sizeof buf, value, false);
    return rc < 0 ? rc : set_property(message, name, "double", buf);
}

XMPPC_API int xmppc_message_set_property_bool(xmppc_stanza *message,
                                              const char *name, int value)
{
    return set_property(message, name, "boolean", value ? "true" : "false");
}

XMPPC_API int xmppc_message_get_property_string(const xmppc_stanza *message,
                                                const char *name,
                                                const char **out)
{
    const char *text = NULL;
    int rc = get_value(message, name, "string", out, &text);
    if (rc == 0)
        *out = text;
    return rc;
}

XMPPC_API int xmppc_message_get_property_int(const xmppc_stanza *message,
                                             const char *name, int32_t *out)
{
    const char *text = NULL;
    int64_t v = 0;
    int rc = get_value(message, name, "integer", out, &text);
    if (rc == 0)
        rc = parse_integer(name, text, INT32_MIN, INT32_MAX, &v);
    if (rc == 0)
        *out = (int32_t)v;
    return rc;
}

XMPPC_API int xmppc_message_get_property_long(const xmppc_stanza *message,
                                              const char *name, int64_t *out)
{
    const char *text = NULL;
    int64_t v = 0;
    int rc = get_value(message, name, "long", out, &text);
    if (rc == 0)
        rc = parse_integer(name, text, INT64_MIN, INT64_MAX, &v);
    if (rc == 0)
        *out = v;
    return rc;
}

XMPPC_API int xmppc_message_get_property_float(const xmppc_stanza *message,
                                               const char *name, float *out)
{
    const char *text = NULL;
    float v = 0;
    int rc = get_value(message, name, "float", out, &text);
    if (rc == 0)
        rc = parse_floating(name, text, NULL, &v);
    if (rc == 0)
        *out = v;
    return rc;
}

XMPPC_API int xmppc_message_get_property_double(const xmppc_stanza *message,
                                                const char *name, double *out)
{
    const char *text = NULL;
    double v = 0;
    int rc = get_value(message, name, "double", out, &text);
    if (rc == 0)
        rc = parse_floating(name, text, &v, NULL);
    if (rc == 0)
        *out = v;
    return rc;
}

XMPPC_API int xmppc_message_get_property_bool(const xmppc_stanza *message,
                                              const char *name, int *out)
{
    const char *text = NULL;
    int rc = get_value(message, name, "boolean", out, &text);
    if (rc < 0)
        return rc;
    if (strcasecmp(text, "true") == 0)
        *out = 1;
    else if (strcasecmp(text, "false") == 0)
        *out = 0;
    else
        return xmppc__error(XMPPC_EPROTO, "property '%s': malformed boolean",
                            name);
    return 0;
}

XMPPC_API size_t xmppc_message_property_count(const xmppc_stanza *message)
{
    xmppc_stanza *props = message ? properties_of(message) : NULL;
    size_t n = 0;
    if (!props)
        return 0;
    for (xmppc_stanza *p =
             xmppc_stanza_get_child(props, "property", XMPPC_NS_PROPERTIES);
         p; p = xmppc_stanza_get_next_child(props, p, "property",
                                            XMPPC_NS_PROPERTIES))
        n++;
    return n;
}

XMPPC_API int xmppc_message_property_at(const xmppc_stanza *message,
                                        size_t index, const char **name_out,
                                        const char **type_name_out)
{
    xmppc_stanza *props = message ? properties_of(message) : NULL;
    xmppc_stanza *p =
        props ? xmppc_stanza_get_child(props, "property", XMPPC_NS_PROPERTIES)
              : NULL;
    for (size_t i = 0; p && i < index; i++)
        p = xmppc_stanza_get_next_child(props, p, "property",
                                        XMPPC_NS_PROPERTIES);
    if (!p)
        return xmppc__error(XMPPC_EINVAL,
                            "message_property_at: index %zu "
                            "out of range",
                            index);
    const char *name =
        xmppc_stanza_get_child_text(p, "name", XMPPC_NS_PROPERTIES);
    const xmppc_stanza *value =
        xmppc_stanza_get_child(p, "value", XMPPC_NS_PROPERTIES);
    const char *type = value ? xmppc_stanza_get_attr(value, "type") : NULL;
    if (!name || !type)
        return xmppc__error(XMPPC_EPROTO, "property %zu has no name or type",
                            index);
    if (name_out)
        *name_out = name;
    if (type_name_out)
        *type_name_out = type;
    return 0;
}
