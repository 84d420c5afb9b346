/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Software Version (XEP-0092), written on the public stanza and connection
 * API only.
 */
#include <string.h>

#include "xmppc-private.h"
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/softversion.h>
#include <xmppc/stanza.h>

struct xmppc_softversion {
    xmppc_conn *conn;
    xmppc_handler *responder;
    char *name, *version, *os; /* NULL name/version = the defaults */
};

static const char softversion_key = 0;

static int add_query(xmppc_stanza *iq, xmppc_stanza **query_out)
{
    xmppc_stanza *q = NULL;
    int rc = xmppc_stanza_new(&q, "query", XMPPC_NS_SOFTVERSION);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, q);
    xmppc_stanza_unref(q); /* the parent holds it */
    if (rc == 0 && query_out)
        *query_out = q;
    return rc;
}

static int on_query(xmppc_conn *conn, xmppc_stanza *iq, void *userdata)
{
    xmppc_softversion *sv = userdata;
    xmppc_stanza *reply = NULL, *q = NULL;
    int rc = xmppc_stanza_reply(&reply, iq);
    if (rc == 0)
        rc = add_query(reply, &q);
    if (rc == 0)
        rc = xmppc_stanza_add_text_child(q, "name", NULL,
                                         sv->name ? sv->name : "libxmppc");
    if (rc == 0)
        rc = xmppc_stanza_add_text_child(
            q, "version", NULL, sv->version ? sv->version : xmppc_version());
    if (rc == 0 && sv->os)
        rc = xmppc_stanza_add_text_child(q, "os", NULL, sv->os);
    if (rc == 0)
        xmppc_conn_send(conn, reply);
    else {
        xmppc_stanza_unref(reply);
        reply = NULL;
        if (xmppc_stanza_reply_error(&reply, iq, "wait", "resource-constraint",
                                     NULL) == 0)
            xmppc_conn_send(conn, reply);
    }
    xmppc_stanza_unref(reply);
    return XMPPC_HANDLED;
}

/* Validates a string as element text by building one. */
static int check_text(const char *what, const char *s)
{
    if (!s)
        return 0;
    if (!*s)
        return xmppc__error(XMPPC_EINVAL, "softversion_set: %s is empty", what);
    xmppc_stanza *probe = NULL;
    int rc = xmppc_stanza_new(&probe, "x", NULL);
    if (rc == 0)
        rc = xmppc_stanza_set_text(probe, s);
    xmppc_stanza_unref(probe);
    if (rc == XMPPC_EINVAL)
        return xmppc__error(XMPPC_EINVAL,
                            "softversion_set: %s is not valid XML text", what);
    return rc;
}

XMPPC_API int xmppc_softversion_set(xmppc_softversion *sv, const char *name,
                                    const char *version, const char *os)
{
    if (!sv)
        return xmppc__error(XMPPC_EINVAL, "softversion_set: sv is NULL");
    int rc;
    if ((rc = check_text("name", name)) < 0 ||
        (rc = check_text("version", version)) < 0 ||
        (rc = check_text("os", os)) < 0)
        return rc;
    char *n = NULL, *v = NULL, *o = NULL;
    if ((name && !(n = xmppc__strdup(name))) ||
        (version && !(v = xmppc__strdup(version))) ||
        (os && !(o = xmppc__strdup(os)))) {
        xmppc__free(n);
        xmppc__free(v);
        xmppc__free(o);
        return XMPPC_ENOMEM;
    }
    xmppc__free(sv->name);
    xmppc__free(sv->version);
    xmppc__free(sv->os);
    sv->name = n;
    sv->version = v;
    sv->os = o;
    return 0;
}

/* ---- queries ------------------------------------------------------------- */

typedef struct query_req {
    xmppc_softversion_cb cb;
    void *userdata;
    xmppc_destroy_cb destroy;
} query_req;

static void query_req_free(void *userdata)
{
    query_req *r = userdata;
    if (r->destroy)
        r->destroy(r->userdata);
    xmppc__free(r);
}

static void query_done(xmppc_conn *conn, xmppc_stanza *reply,
                       const xmppc_error *err, void *userdata)
{
    query_req *r = userdata;
    if (err) {
        r->cb(conn, NULL, NULL, NULL, err, r->userdata);
        return;
    }
    xmppc_stanza *q =
        xmppc_stanza_get_child(reply, "query", XMPPC_NS_SOFTVERSION);
    const char *name = xmppc_stanza_get_child_text(q, "name", NULL);
    const char *version = xmppc_stanza_get_child_text(q, "version", NULL);
    const char *os = xmppc_stanza_get_child_text(q, "os", NULL);
    if (!q || !name || !*name) {
        xmppc__error_store store;
        xmppc__error_store_set(&store, XMPPC_EPROTO, NULL, NULL, NULL,
                               "software version: the reply has no %s",
                               q ? "<name/>" : "jabber:iq:version <query/>");
        store.pub.stanza = reply;
        r->cb(conn, NULL, NULL, NULL, &store.pub, r->userdata);
        return;
    }
    r->cb(conn, name, version && *version ? version : NULL,
          os && *os ? os : NULL, NULL, r->userdata);
}

XMPPC_API int
xmppc_softversion_get_remote(xmppc_softversion *sv, const char *jid,
                             unsigned int timeout_ms, xmppc_softversion_cb cb,
                             void *userdata, xmppc_destroy_cb destroy)
{
    if (!sv || !cb)
        return xmppc__error(XMPPC_EINVAL, "softversion_get_remote: %s is NULL",
                            sv ? "cb" : "sv");
    xmppc_stanza *iq = NULL;
    int rc =
        xmppc_iq_new(&iq, "get", xmppc__server_if_null(sv->conn, jid), NULL);
    if (rc == 0)
        rc = add_query(iq, NULL);
    query_req *r = NULL;
    if (rc == 0 && !(r = xmppc__calloc(1, sizeof *r)))
        rc = XMPPC_ENOMEM;
    if (rc == 0) {
        *r = (query_req){cb, userdata, destroy};
        rc = xmppc_conn_send_iq(sv->conn, iq, timeout_ms, query_done, r,
                                query_req_free);
        if (rc < 0)
            xmppc__free(r); /* not taken: the user's destroy is not called */
    }
    xmppc_stanza_unref(iq);
    return rc;
}

/* ---- the manager --------------------------------------------------------- */

static void softversion_free(void *data)
{
    xmppc_softversion *sv = data;
    xmppc_handler_free(sv->responder);
    xmppc__free(sv->name);
    xmppc__free(sv->version);
    xmppc__free(sv->os);
    xmppc__free(sv);
}

XMPPC_API xmppc_softversion *xmppc_softversion_get(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "softversion_get: conn is NULL");
        return NULL;
    }
    xmppc_softversion *sv = xmppc_conn_attached(conn, &softversion_key);
    if (sv)
        return sv;
    if (!(sv = xmppc__calloc(1, sizeof *sv)))
        return NULL;
    sv->conn = conn;
    if (xmppc_conn_add_handler(conn, &sv->responder, "iq", "get",
                               XMPPC_NS_SOFTVERSION, on_query, sv, NULL) < 0 ||
        xmppc_conn_attach(conn, &softversion_key, sv, softversion_free) < 0) {
        softversion_free(sv);
        return NULL;
    }
    /* Advertised through service discovery, as the XEP asks. */
    xmppc_disco *disco = xmppc_disco_get(conn);
    if (!disco || xmppc_disco_add_feature(disco, "jabber:iq:version") < 0)
        xmppc_conn_log(conn, XMPPC_LOG_WARN, "softversion",
                       "cannot advertise jabber:iq:version in disco");
    return sv;
}

XMPPC_API xmppc_conn *xmppc_softversion_get_conn(const xmppc_softversion *sv)
{
    return sv ? sv->conn : NULL;
}
