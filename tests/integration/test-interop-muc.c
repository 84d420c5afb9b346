/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * The libxmppc occupant of the MUC interoperability test with a foreign
 * client (tests/integration/interop_muc_slixmpp.py drives it; it is no
 * test on its own). One connection through the public API only, to the
 * server of tests/fixtures/xmppc_fixture.py (XMPPC_TEST_HOST, _PORT, _CA,
 * _PASSWORD), one room:
 *
 *   test-interop-muc --jid JID --room ROOM@SERVICE --nick NICK
 *                    [--history N]
 *
 * It reports on stdout, one event a line. Nicks, texts and subjects are
 * hex-encoded UTF-8 ("-" for none); lines starting with '#' are comments:
 *
 *   ready BOUNDJID                    online
 *   joined NEW                        the join completed (NEW: 1 when it
 *                                     created the room, which is then
 *                                     configured as an instant room)
 *   configured                        the instant configuration was accepted
 *   occupant-joined NICK ROLE AFFILIATION SELF REALJID
 *   occupant-left NICK ROLE AFFILIATION SELF OLDROLE
 *                                     ::XMPPC_MUC_EV_JOINED / _LEFT (SELF 0|1,
 *                                     REALJID "-" when the room hides it,
 *                                     OLDROLE xmppc_muc_event_old_role())
 *   event KIND NICK SELF              any other room event but the subject
 *   subject ACTOR TEXT                ::XMPPC_MUC_EV_SUBJECT
 *   message NICK FLAGS TEXT           a room message; FLAGS "-" or a comma
 *                                     list of private, delayed, own
 *   occupants N NICK:ROLE:AFFILIATION:SELF ...
 *                                     the room's occupant list, on request
 *   current-subject TEXT              xmppc_muc_room_get_subject(), on request
 *   room-state NAME                   xmppc_muc_room_get_state(), on request
 *   sent VERB                         a command below was carried out
 *   done VERB                         its request reported success
 *   failed VERB CONDITION             its request reported an error
 *   refused VERB STATUS               the call itself failed (e.g. ESTATE)
 *   bye                               disconnected cleanly (exit status 0)
 *   error TEXT                        something unexpected (exit status 1)
 *
 * and takes commands on stdin, one a line:
 *
 *   join                   join the room as NICK
 *   say TEXT               a groupchat message
 *   private NICK TEXT      a private message to occupant NICK
 *   set-subject TEXT       change the subject
 *   occupants | subject | state    report as above
 *   leave                  leave the room (status text "bye")
 *   quit                   disconnect and exit (so does end of input)
 *
 * It gives up after 50 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppc/xmppc.h>

#include "interop.h"

#define HEX_MAX 8192

typedef struct app {
    interop io;
    xmppc_muc_room *room;
    const char *nick;
} app;

/* Decodes hex @p in into @p out; -1 if malformed or too long. */
static int unhex(const char *in, char *out, size_t size)
{
    size_t len = strlen(in), n = 0;
    if (len % 2 || len / 2 + 1 > size)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        unsigned int v;
        if (sscanf(in + i, "%2x", &v) != 1)
            return -1;
        out[n++] = (char)v;
    }
    out[n] = '\0';
    return 0;
}

static const char *status_name(int code)
{
    const char *name = xmppc_status_name(code);
    return name ? name : "?";
}

/* The error condition, else the status name. */
static const char *why(const xmppc_error *err)
{
    return err->condition ? err->condition : status_name(err->code);
}

static const char *role(xmppc_muc_role r)
{
    const char *name = xmppc_muc_role_name(r);
    return name ? name : "?";
}

static const char *affiliation(xmppc_muc_affiliation a)
{
    const char *name = xmppc_muc_affiliation_name(a);
    return name ? name : "?";
}

static const char *state_name(xmppc_muc_room_state st)
{
    switch (st) {
    case XMPPC_MUC_LEFT:
        return "left";
    case XMPPC_MUC_JOINING:
        return "joining";
    case XMPPC_MUC_JOINED:
        return "joined";
    case XMPPC_MUC_LEAVING:
        return "leaving";
    }
    return "?";
}

/* ---- request callbacks (userdata: the verb, a string literal) ------------ */

static void on_request(xmppc_muc_room *room, const xmppc_error *err,
                       void *userdata)
{
    (void)room;
    const char *verb = userdata;
    if (err)
        emit("failed %s %s", verb, why(err));
    else
        emit("done %s", verb);
}

static void on_configured(xmppc_muc_room *room, const xmppc_error *err,
                          void *userdata)
{
    (void)room;
    app *a = userdata;
    if (err) {
        emit("error instant configuration: %s", err->message);
        a->io.failed = 1;
    } else {
        emit("configured");
    }
}

static void on_joined(xmppc_muc_room *room, const xmppc_error *err,
                      void *userdata)
{
    app *a = userdata;
    if (err) {
        emit("failed join %s", why(err));
        return;
    }
    int created = xmppc_muc_room_is_new(room);
    emit("joined %d", created);
    if (created &&
        xmppc_muc_room_create_instant(room, on_configured, a, NULL) < 0) {
        emit("error create_instant: %s", xmppc_error_last()->message);
        a->io.failed = 1;
    }
}

/* ---- listeners ----------------------------------------------------------- */

static void on_event(xmppc_muc_room *room, const xmppc_muc_event *ev,
                     void *userdata)
{
    (void)room;
    (void)userdata;
    char h1[HEX_MAX], h2[HEX_MAX];
    xmppc_muc_event_kind kind = xmppc_muc_event_get_kind(ev);
    const xmppc_muc_occupant *occ = xmppc_muc_event_occupant(ev);
    const char *nick = occ ? xmppc_muc_occupant_nick(occ) : NULL;
    int self = xmppc_muc_event_is_self(ev);
    if (kind == XMPPC_MUC_EV_JOINED && occ) {
        const char *real = xmppc_muc_occupant_real_jid(occ);
        emit("occupant-joined %s %s %s %d %s", hex(nick, h1, sizeof h1),
             role(xmppc_muc_occupant_role(occ)),
             affiliation(xmppc_muc_occupant_affiliation(occ)), self,
             real ? real : "-");
    } else if (kind == XMPPC_MUC_EV_LEFT && occ) {
        emit("occupant-left %s %s %s %d %s", hex(nick, h1, sizeof h1),
             role(xmppc_muc_occupant_role(occ)),
             affiliation(xmppc_muc_occupant_affiliation(occ)), self,
             role(xmppc_muc_event_old_role(ev)));
    } else if (kind == XMPPC_MUC_EV_SUBJECT) {
        emit("subject %s %s", hex(xmppc_muc_event_actor(ev), h1, sizeof h1),
             hex(xmppc_muc_event_subject(ev), h2, sizeof h2));
    } else {
        const char *name = xmppc_muc_event_kind_name(kind);
        emit("event %s %s %d", name ? name : "?", hex(nick, h1, sizeof h1),
             self);
    }
}

static void on_message(xmppc_muc_room *room, const xmppc_muc_occupant *sender,
                       const char *nick, xmppc_stanza *message,
                       unsigned int flags, void *userdata)
{
    (void)room;
    app *a = userdata;
    char h1[HEX_MAX], h2[HEX_MAX], list[64] = "";
    static const struct {
        unsigned int flag;
        const char *name;
    } names[] = {{XMPPC_MUC_MSG_PRIVATE, "private"},
                 {XMPPC_MUC_MSG_DELAYED, "delayed"},
                 {XMPPC_MUC_MSG_OWN, "own"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & names[i].flag)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s",
                     *list ? "," : "", names[i].name);
    /* The sender, when given, is the occupant named @p nick. */
    if (sender && (!nick || strcmp(xmppc_muc_occupant_nick(sender), nick))) {
        emit("error message sender %s does not match nick %s",
             xmppc_muc_occupant_nick(sender), nick ? nick : "(none)");
        a->io.failed = 1;
    }
    emit("message %s %s %s", hex(nick, h1, sizeof h1), *list ? list : "-",
         hex(xmppc_message_get_body(message), h2, sizeof h2));
}

static void on_conn_state(xmppc_conn *conn, xmppc_conn_state state,
                          const xmppc_error *err, void *userdata)
{
    app *a = userdata;
    if (state == XMPPC_STATE_READY) {
        a->io.ready = 1;
        emit("ready %s", xmppc_conn_get_bound_jid(conn));
    } else if (state == XMPPC_STATE_DISCONNECTED) {
        interop_disconnected(&a->io, err);
    }
}

/* ---- commands ------------------------------------------------------------ */

static void report_occupants(app *a)
{
    char line[16384], h[HEX_MAX];
    size_t count = xmppc_muc_room_occupant_count(a->room);
    size_t n = (size_t)snprintf(line, sizeof line, "occupants %zu", count);
    for (size_t i = 0; i < count && n < sizeof line; i++) {
        const xmppc_muc_occupant *o = xmppc_muc_room_occupant_at(a->room, i);
        if (!o)
            continue;
        n += (size_t)snprintf(line + n, sizeof line - n, " %s:%s:%s:%d",
                              hex(xmppc_muc_occupant_nick(o), h, sizeof h),
                              role(xmppc_muc_occupant_role(o)),
                              affiliation(xmppc_muc_occupant_affiliation(o)),
                              xmppc_muc_occupant_is_self(o));
    }
    emit("%s", line);
}

/* Carries out one command (interop_command_fn). */
static void command(void *ctx, const char *verb, const char *arg1,
                    const char *arg2)
{
    app *a = ctx;
    char t1[HEX_MAX], t2[HEX_MAX], h[HEX_MAX];
    int rc;
    if (strcmp(verb, "join") == 0) {
        rc = xmppc_muc_room_join(a->room, a->nick, on_joined, a, NULL);
    } else if (strcmp(verb, "say") == 0 && arg1 &&
               unhex(arg1, t1, sizeof t1) == 0) {
        rc = xmppc_muc_room_send_text(a->room, t1, NULL);
    } else if (strcmp(verb, "private") == 0 && arg1 && arg2 &&
               unhex(arg1, t1, sizeof t1) == 0 &&
               unhex(arg2, t2, sizeof t2) == 0) {
        rc = xmppc_muc_room_send_private(a->room, t1, t2);
    } else if (strcmp(verb, "set-subject") == 0 && arg1 &&
               unhex(arg1, t1, sizeof t1) == 0) {
        rc = xmppc_muc_room_set_subject(a->room, t1, on_request,
                                        (void *)"set-subject", NULL);
    } else if (strcmp(verb, "leave") == 0) {
        rc = xmppc_muc_room_leave(a->room, "bye", on_request, (void *)"leave",
                                  NULL);
    } else if (strcmp(verb, "occupants") == 0) {
        report_occupants(a);
        return;
    } else if (strcmp(verb, "subject") == 0) {
        emit("current-subject %s",
             hex(xmppc_muc_room_get_subject(a->room), h, sizeof h));
        return;
    } else if (strcmp(verb, "state") == 0) {
        emit("room-state %s", state_name(xmppc_muc_room_get_state(a->room)));
        return;
    } else {
        emit("error unknown or malformed command: %s", verb);
        a->io.failed = 1;
        return;
    }
    if (rc < 0)
        emit("refused %s %s", verb, status_name(rc));
    else
        emit("sent %s", verb);
}

static void usage(void)
{
    fprintf(stderr, "usage: test-interop-muc --jid JID --room ROOM@SERVICE "
                    "--nick NICK [--history N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    app a = {0};
    const char *jid = NULL, *room_jid = NULL;
    int history = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jid") == 0 && i + 1 < argc)
            jid = argv[++i];
        else if (strcmp(argv[i], "--room") == 0 && i + 1 < argc)
            room_jid = argv[++i];
        else if (strcmp(argv[i], "--nick") == 0 && i + 1 < argc)
            a.nick = argv[++i];
        else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc)
            history = atoi(argv[++i]);
        else
            usage();
    }
    if (!jid || !room_jid || !a.nick)
        usage();

    xmppc_muc *muc = NULL;
    if (interop_open(&a.io, jid, on_conn_state, &a) < 0 ||
        !(muc = xmppc_muc_get(a.io.conn)) ||
        xmppc_muc_room_get(muc, room_jid, &a.room) < 0 ||
        (history >= 0 &&
         xmppc_muc_room_set_history(a.room, history, -1, NULL) < 0) ||
        xmppc_muc_room_on_event(a.room, NULL, on_event, &a, NULL) < 0 ||
        xmppc_muc_room_on_message(a.room, NULL, on_message, &a, NULL) < 0 ||
        xmppc_loop_add(a.io.loop, a.io.conn) < 0) {
        emit("error setup: %s", xmppc_error_last()->message);
        return 1;
    }
    if (xmppc_conn_connect(a.io.conn) < 0) {
        emit("error connect: %s", xmppc_error_last()->message);
        return 1;
    }

    char buf[65536];
    if (interop_run(&a.io, command, NULL, &a, buf, sizeof buf) < 0) {
        emit("error loop_run while disconnecting");
        a.io.failed = 1;
    }
    xmppc_muc_room_unref(a.room);
    return interop_close(&a.io);
}
