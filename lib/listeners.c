/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include "listeners.h"

#include "xmppc-private.h"

static void unlink_listener(xmppc__listeners *list, xmppc__listener *l)
{
    for (xmppc__listener **p = &list->head; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
}

static void listener_free(xmppc__listener *l)
{
    if (l->unref)
        l->unref(l->ref);
    xmppc_free(l);
}

/* The carrier handler's destroy: the listener goes away. */
static void on_handler_gone(void *data)
{
    xmppc__listener *l = data;
    xmppc_destroy_cb destroy = l->destroy;
    l->destroy = NULL;
    if (destroy)
        destroy(l->userdata);
    if (l->list && l->list->firing) {
        l->dead = true; /* freed at the end of the walk */
        return;
    }
    if (l->list)
        unlink_listener(l->list, l);
    listener_free(l);
}

/* Never called: the carrier matches an element no server sends. */
static int never(xmppc_conn *conn, xmppc_stanza *s, void *userdata)
{
    (void)conn, (void)s, (void)userdata;
    return XMPPC_CONTINUE;
}

int xmppc__listeners_add(xmppc__listeners *list, xmppc_conn *conn,
                         xmppc_handler **handle_out, int kind,
                         xmppc__listener_fn fn, void *userdata,
                         xmppc_destroy_cb destroy, void *ref,
                         void (*unref)(void *ref))
{
    if (!list || !conn || !fn)
        return xmppc__error(XMPPC_EINVAL, "listener: NULL argument");
    xmppc__listener *l = xmppc__calloc(1, sizeof *l);
    if (!l)
        return XMPPC_ENOMEM;
    *l = (xmppc__listener){kind, fn,   userdata, destroy,   list,
                           NULL, NULL, false,    list->head};
    int rc = xmppc_conn_add_handler(conn, handle_out, "listener", NULL,
                                    "urn:xmppc:internal:listener", never, l,
                                    on_handler_gone);
    if (rc < 0) {
        xmppc_free(l);
        return rc;
    }
    l->ref = ref;
    l->unref = unref;
    list->head = l;
    return 0;
}

void xmppc__listeners_begin(xmppc__listeners *list)
{
    list->firing++;
}

void xmppc__listeners_end(xmppc__listeners *list)
{
    if (--list->firing > 0)
        return;
    for (xmppc__listener **p = &list->head; *p;) {
        xmppc__listener *l = *p;
        if (l->dead) {
            *p = l->next;
            listener_free(l);
        } else {
            p = &l->next;
        }
    }
}

void xmppc__listeners_detach(xmppc__listeners *list)
{
    for (xmppc__listener *l = list->head, *next; l; l = next) {
        next = l->next;
        if (l->dead)
            listener_free(l);
        else
            l->list = NULL;
    }
    list->head = NULL;
}
