/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Listener lists for feature modules whose events are not stanzas (room
 * events, invitations...). Each listener gets an ordinary ::xmppc_handler
 * handle, so applications release every kind of listener the same way:
 * the handle belongs to a handler that matches nothing and only carries
 * the listener's lifetime (removal, connection freed). Not installed.
 */
#ifndef XMPPC_LISTENERS_H
#define XMPPC_LISTENERS_H

#include <stdbool.h>

#include <xmppc/conn.h>

typedef struct xmppc__listener xmppc__listener;
typedef struct xmppc__listeners xmppc__listeners;

/* A generic callback pointer; each module casts it back to its own type. */
typedef void (*xmppc__listener_fn)(void);

struct xmppc__listener {
    int kind;
    xmppc__listener_fn fn;
    void *userdata;
    xmppc_destroy_cb destroy;
    xmppc__listeners *list; /* NULL once the list was detached */
    void *ref;              /* released with unref when the listener goes */
    void (*unref)(void *ref);
    bool dead;
    xmppc__listener *next;
};

/* Embedded in the owner (zero-initialised). */
struct xmppc__listeners {
    xmppc__listener *head;
    int firing;
};

/* Adds a listener in front of @p list. @p ref (may be NULL) is released
 * with @p unref when the listener goes away (e.g. a reference on the
 * object listened to). On failure nothing is kept and @p destroy is not
 * called; @p ref is not released. */
int xmppc__listeners_add(xmppc__listeners *list, xmppc_conn *conn,
                         xmppc_handler **handle_out, int kind,
                         xmppc__listener_fn fn, void *userdata,
                         xmppc_destroy_cb destroy, void *ref,
                         void (*unref)(void *ref));

/* Brackets a walk over the list: listeners removed meanwhile are marked
 * dead (skip them) and freed by the end of the outermost walk. */
void xmppc__listeners_begin(xmppc__listeners *list);
void xmppc__listeners_end(xmppc__listeners *list);

/* Iterates over the live listeners of @p kind (between begin and end). */
#define XMPPC__LISTENERS_EACH(l, list, k)                                      \
    for (xmppc__listener *l = (list)->head; l; l = l->next)                    \
        if (!l->dead && l->kind == (int)(k))

/* The owner goes away: listeners still registered stay (their handles
 * remain valid) but no longer refer to the list. */
void xmppc__listeners_detach(xmppc__listeners *list);

#endif /* XMPPC_LISTENERS_H */
