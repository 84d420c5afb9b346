/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Helpers for feature-module transcript tests over the test transport
 * (lib/conn-private.h: xmppc__conn_test_ready/inject/run_timers): a
 * connection made READY as juliet@example.com/balcony whose output is
 * captured. Include after xtest.h.
 */
#ifndef XMPPC_TRANSCRIPT_H
#define XMPPC_TRANSCRIPT_H

#include <stdio.h>
#include <string.h>

#include "conn-private.h"
#include "xtest.h"

#define OWN "juliet@example.com/balcony"

/* What the connection sent: how many stanzas, and the last one. */
typedef struct sent {
    int count;
    char last[8192];
} sent;

static inline void sink(void *ud, const char *xml)
{
    sent *s = ud;
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", xml);
}

/* The id attribute of the last stanza sent ("" if none); static storage. */
static inline const char *last_id(const sent *s)
{
    static char id[64];
    const char *p = strstr(s->last, " id='");
    id[0] = '\0';
    if (p) {
        p += 5;
        size_t n = strcspn(p, "'");
        snprintf(id, sizeof id, "%.*s", (int)n, p);
    }
    return id;
}

/* @p fmt with its one "%s" replaced by @p id (no printf: the format is
 * not a literal). */
static inline void subst(char *dst, size_t size, const char *fmt,
                         const char *id)
{
    const char *at = strstr(fmt, "%s");
    if (!at) {
        snprintf(dst, size, "%s", fmt);
        return;
    }
    snprintf(dst, size, "%.*s%s%s", (int)(at - fmt), fmt, id, at + 2);
}

/* A connection READY as OWN with its output going to @p out. */
static inline xmppc_conn *ready(sent *out)
{
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "juliet@example.com", "pw"), 0);
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN, sink, out), 0);
    return c;
}

/* Ends test mode (pending requests canceled) and frees the connection. */
static inline void finish(xmppc_conn *c)
{
    xmppc__conn_test_disconnect(c);
    xmppc_conn_unref(c);
    xmppc_error_clear();
}

#endif /* XMPPC_TRANSCRIPT_H */
