/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Entity Time (XEP-0202) with XEP-0082 date-times, written on the public
 * stanza and connection API only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "xmppc-private.h"
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/entitytime.h>
#include <xmppc/stanza.h>

/* The clock behind the responder: the current UTC time in seconds and the
 * local zone's offset in minutes. Returns 0 or a negative status. */
typedef int (*xmppc__entitytime_clock)(long long *utc_out, int *tzo_min_out,
                                       void *userdata);

/* Internal, for tests: replaces the clock (NULL restores the system's). */
void xmppc__entitytime_set_clock(xmppc_entitytime *et,
                                 xmppc__entitytime_clock clock, void *userdata);
/* Internal, for tests: parses an XEP-0082 DateTime into seconds since the
 * epoch. Returns 0 or XMPPC_EPROTO. */
int xmppc__entitytime_parse_utc(const char *s, long long *out);

struct xmppc_entitytime {
    xmppc_conn *conn;
    xmppc_handler *responder;
    xmppc__entitytime_clock clock;
    void *clock_ud;
};

static const char entitytime_key = 0;

/* ---- calendar arithmetic (proleptic Gregorian, years 0..9999) ----------- */

static bool is_leap(long long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 0000-01-01 to the first of January of year @p y (y >= 0). */
static long long days_before_year(long long y)
{
    if (y <= 0)
        return 0;
    long long p = y - 1; /* leap years in [0, y): year 0 and those in 1..p */
    return 365 * y + 1 + p / 4 - p / 100 + p / 400;
}

static int days_in_month(long long y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Seconds since the epoch of a valid date and time. */
static long long to_epoch(long long y, int mo, int d, int h, int mi, int s)
{
    long long days = days_before_year(y) - days_before_year(1970);
    for (int m = 1; m < mo; m++)
        days += days_in_month(y, m);
    days += d - 1;
    return days * 86400 + h * 3600 + mi * 60 + s;
}

/* ---- XEP-0082 ------------------------------------------------------------ */

/* Reads exactly @p n digits. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* "Z" or "+hh:mm" / "-hh:mm" -> minutes east of UTC; must end the string. */
static bool parse_tzd(const char *p, int *minutes)
{
    if (p[0] == 'Z' && p[1] == '\0') {
        *minutes = 0;
        return true;
    }
    int sign = p[0] == '+' ? 1 : p[0] == '-' ? -1 : 0;
    int h, m;
    if (!sign)
        return false;
    p++;
    if (!digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &m) ||
        *p != '\0' || h > 23 || m > 59)
        return false;
    *minutes = sign * (h * 60 + m);
    return true;
}

int xmppc__entitytime_parse_utc(const char *s, long long *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, tz;
    if (!s || !digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
        !expect(&p, '-') || !digits(&p, 2, &d) || !expect(&p, 'T') ||
        !digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
        !expect(&p, ':') || !digits(&p, 2, &sec))
        return XMPPC_EPROTO;
    if (*p == '.') { /* fractions of a second: at least one digit */
        p++;
        if (*p < '0' || *p > '9')
            return XMPPC_EPROTO;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (!parse_tzd(p, &tz) || mo < 1 || mo > 12 || d < 1 ||
        d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return XMPPC_EPROTO;
    if (sec == 60) /* a leap second: count it as the one before */
        sec = 59;
    *out = to_epoch(y, mo, d, h, mi, sec) - (long long)tz * 60;
    return 0;
}

static void format_tzo(char buf[16], int minutes)
{
    int a = minutes < 0 ? -minutes : minutes;
    snprintf(buf, 16, "%c%02d:%02d", minutes < 0 ? '-' : '+', (a / 60) % 100,
             a % 60);
}

/* ---- the system clock ---------------------------------------------------- */

static int system_clock(long long *utc_out, int *tzo_min_out, void *userdata)
{
    (void)userdata;
    time_t now = time(NULL);
    struct tm local;
    if (now == (time_t)-1 || !localtime_r(&now, &local))
        return xmppc__error(XMPPC_ERROR, "entity time: no clock");
    /* The local wall time read as if it were UTC, minus the real UTC. */
    long long wall = to_epoch((long long)local.tm_year + 1900, local.tm_mon + 1,
                              local.tm_mday, local.tm_hour, local.tm_min,
                              local.tm_sec > 59 ? 59 : local.tm_sec);
    *utc_out = (long long)now;
    *tzo_min_out = (int)((wall - (long long)now) / 60);
    return 0;
}

void xmppc__entitytime_set_clock(xmppc_entitytime *et,
                                 xmppc__entitytime_clock clock, void *userdata)
{
    et->clock = clock ? clock : system_clock;
    et->clock_ud = clock ? userdata : NULL;
}

/* ---- responder ----------------------------------------------------------- */

static int build_time(xmppc_stanza *reply, xmppc_entitytime *et)
{
    long long utc = 0;
    int tzo_min = 0;
    int rc = et->clock(&utc, &tzo_min, et->clock_ud);
    if (rc < 0)
        return rc;
    time_t t = (time_t)utc;
    struct tm tm;
    if ((long long)t != utc || !gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 ||
        tm.tm_year + 1900 > 9999)
        return xmppc__error(XMPPC_ERROR, "entity time: clock out of range");
    char utc_text[96], tzo_text[16];
    snprintf(utc_text, sizeof utc_text, "%04d-%02d-%02dT%02d:%02d:%02dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
    format_tzo(tzo_text, tzo_min);
    xmppc_stanza *time_el = NULL;
    rc = xmppc_stanza_new(&time_el, "time", XMPPC_NS_ENTITYTIME);
    if (rc == 0)
        rc = xmppc_stanza_add_text_child(time_el, "tzo", NULL, tzo_text);
    if (rc == 0)
        rc = xmppc_stanza_add_text_child(time_el, "utc", NULL, utc_text);
    if (rc == 0)
        rc = xmppc_stanza_add_child(reply, time_el);
    xmppc_stanza_unref(time_el);
    return rc;
}

static int on_query(xmppc_conn *conn, xmppc_stanza *iq, void *userdata)
{
    xmppc_entitytime *et = userdata;
    xmppc_stanza *reply = NULL;
    int rc = xmppc_stanza_reply(&reply, iq);
    if (rc == 0)
        rc = build_time(reply, et);
    if (rc < 0) {
        xmppc_stanza_unref(reply);
        reply = NULL;
        if (xmppc_stanza_reply_error(
                &reply, iq, rc == XMPPC_ENOMEM ? "wait" : "cancel",
                rc == XMPPC_ENOMEM ? "resource-constraint"
                                   : "internal-server-error",
                NULL) < 0)
            return XMPPC_HANDLED;
    }
    xmppc_conn_send(conn, reply);
    xmppc_stanza_unref(reply);
    return XMPPC_HANDLED;
}

/* ---- queries ------------------------------------------------------------- */

typedef struct query_req {
    xmppc_entitytime_cb cb;
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
        r->cb(conn, 0, NULL, err, r->userdata);
        return;
    }
    xmppc_stanza *t =
        xmppc_stanza_get_child(reply, "time", XMPPC_NS_ENTITYTIME);
    const char *utc = xmppc_stanza_get_child_text(t, "utc", NULL);
    const char *tzo = xmppc_stanza_get_child_text(t, "tzo", NULL);
    long long secs = 0;
    int tzo_min = 0;
    const char *problem = !t     ? "has no urn:xmpp:time <time/>"
                          : !utc ? "has no <utc/>"
                          : !tzo ? "has no <tzo/>"
                          : xmppc__entitytime_parse_utc(utc, &secs) < 0
                              ? "has a malformed <utc/>"
                          : !parse_tzd(tzo, &tzo_min) ? "has a malformed <tzo/>"
                                                      : NULL;
    if (problem) {
        xmppc__error_store store;
        xmppc__error_store_set(&store, XMPPC_EPROTO, NULL, NULL, NULL,
                               "entity time: the reply %s", problem);
        store.pub.stanza = reply;
        r->cb(conn, 0, NULL, &store.pub, r->userdata);
        return;
    }
    char tzo_text[16];
    format_tzo(tzo_text, tzo_min);
    r->cb(conn, secs, tzo_text, NULL, r->userdata);
}

XMPPC_API int xmppc_entitytime_get_remote(xmppc_entitytime *et, const char *jid,
                                          unsigned int timeout_ms,
                                          xmppc_entitytime_cb cb,
                                          void *userdata,
                                          xmppc_destroy_cb destroy)
{
    if (!et || !cb)
        return xmppc__error(XMPPC_EINVAL, "entitytime_get_remote: %s is NULL",
                            et ? "cb" : "et");
    xmppc_stanza *iq = NULL, *t = NULL;
    int rc =
        xmppc_iq_new(&iq, "get", xmppc__server_if_null(et->conn, jid), NULL);
    if (rc == 0)
        rc = xmppc_stanza_new(&t, "time", XMPPC_NS_ENTITYTIME);
    if (rc == 0)
        rc = xmppc_stanza_add_child(iq, t);
    xmppc_stanza_unref(t);
    query_req *r = NULL;
    if (rc == 0 && !(r = xmppc__calloc(1, sizeof *r)))
        rc = XMPPC_ENOMEM;
    if (rc == 0) {
        *r = (query_req){cb, userdata, destroy};
        rc = xmppc_conn_send_iq(et->conn, iq, timeout_ms, query_done, r,
                                query_req_free);
        if (rc < 0)
            xmppc__free(r); /* not taken: the user's destroy is not called */
    }
    xmppc_stanza_unref(iq);
    return rc;
}

/* ---- the manager --------------------------------------------------------- */

static void entitytime_free(void *data)
{
    xmppc_entitytime *et = data;
    xmppc_handler_free(et->responder);
    xmppc__free(et);
}

XMPPC_API xmppc_entitytime *xmppc_entitytime_get(xmppc_conn *conn)
{
    if (!conn) {
        xmppc__error(XMPPC_EINVAL, "entitytime_get: conn is NULL");
        return NULL;
    }
    xmppc_entitytime *et = xmppc_conn_attached(conn, &entitytime_key);
    if (et)
        return et;
    if (!(et = xmppc__calloc(1, sizeof *et)))
        return NULL;
    et->conn = conn;
    et->clock = system_clock;
    if (xmppc_conn_add_handler(conn, &et->responder, "iq", "get",
                               XMPPC_NS_ENTITYTIME, on_query, et, NULL) < 0 ||
        xmppc_conn_attach(conn, &entitytime_key, et, entitytime_free) < 0) {
        entitytime_free(et);
        return NULL;
    }
    /* Advertised through service discovery, as the XEP asks. */
    xmppc_disco *disco = xmppc_disco_get(conn);
    if (!disco || xmppc_disco_add_feature(disco, "urn:xmpp:time") < 0)
        xmppc_conn_log(conn, XMPPC_LOG_WARN, "entitytime",
                       "cannot advertise urn:xmpp:time in disco");
    return et;
}

XMPPC_API xmppc_conn *xmppc_entitytime_get_conn(const xmppc_entitytime *et)
{
    return et ? et->conn : NULL;
}
