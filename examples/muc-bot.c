/*
 * libxmppc example: a bot in a multi-user chat room (XEP-0045).
 * SPDX-License-Identifier: MIT
 *
 *   muc-bot --jid bot@example.org --password-file pw [--server HOST[:PORT]]
 *           [--direct-tls] [--cafile FILE] [--verbose|--debug]
 *           --room ROOM@SERVICE --nick NICK [--history N]
 *
 * Joins the room once online (accepting the default configuration when the
 * join created it), says hello, and then prints one line on stdout for
 * every occupant joining or leaving and for every message:
 *
 *   joined NICK                     NICK entered (our own nick included)
 *   left NICK [(kicked|banned|...)] NICK left, or was removed
 *   renamed OLD NICK                an occupant changed nick
 *   subject: TEXT                   the room's subject, when set
 *   <NICK> TEXT                     a room message ("*" for the room itself)
 *   [history] <NICK> TEXT           a message from before we joined
 *   [private] <NICK> TEXT           a private message
 *
 * (line breaks inside TEXT are printed as "\n"). A message "!echo TEXT"
 * is answered with TEXT: in the room, or privately for a private one.
 * History and the room's copies of our own messages are never answered.
 * --history N asks for at most N messages of history when joining.
 *
 * SIGINT/SIGTERM: leaves the room (waiting up to 5 s for the room to
 * confirm), disconnects and exits 0. Failures (connection, join refused,
 * removed from the room) print one line on stderr and exit 1; usage
 * errors exit 2.
 */
#include <signal.h>
#include <time.h>

#include "example-options.h"

#define LEAVE_WAIT_MS 5000

static volatile sig_atomic_t stop_requested;

typedef struct bot {
    xmppc_muc_room *room;
    const char *room_jid, *nick;
    int fatal;    /* a failure was reported: exit 1 */
    int left;     /* our own departure came back from the room */
    int finished; /* the leave request reported */
} bot;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints @p text on one line: line breaks as "\n", other control
 * characters (but tab) as spaces. */
static void print_text(const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '\n')
            fputs("\\n", stdout);
        else if (*p == '\r')
            fputs("\\r", stdout);
        else if ((unsigned char)*p < 0x20 && *p != '\t')
            putchar(' ');
        else
            putchar(*p);
    }
}

/* The one line on stderr for a failure; the bot then stops. */
static void fail(bot *b, const char *what, const xmppc_error *err)
{
    const char *why = err ? err->message : xmppc_error_last()->message;
    char condition[128] = "";
    if (err && err->condition && !strstr(why, err->condition))
        snprintf(condition, sizeof condition, " (%s)", err->condition);
    /* The library's message usually names the room already. */
    if (strstr(why, b->room_jid))
        fprintf(stderr, "muc-bot: %s: %s%s\n", what, why, condition);
    else
        fprintf(stderr, "muc-bot: %s %s: %s%s\n", what, b->room_jid, why,
                condition);
    b->fatal = 1;
    stop_requested = 1;
}

static void greet(bot *b)
{
    if (xmppc_muc_room_send_text(b->room, "hello! (try: !echo TEXT)", NULL) < 0)
        fail(b, "cannot greet in", NULL);
}

static void on_configured(xmppc_muc_room *room, const xmppc_error *err,
                          void *userdata)
{
    (void)room;
    bot *b = userdata;
    if (err)
        fail(b, "cannot configure", err);
    else
        greet(b);
}

static void on_joined(xmppc_muc_room *room, const xmppc_error *err,
                      void *userdata)
{
    bot *b = userdata;
    if (err) {
        fail(b, "cannot join", err);
        return;
    }
    /* We created the room: it stays locked until configured. */
    if (xmppc_muc_room_is_new(room)) {
        if (xmppc_muc_room_create_instant(room, on_configured, b, NULL) < 0)
            fail(b, "cannot configure", NULL);
    } else {
        greet(b);
    }
}

static void on_left(xmppc_muc_room *room, const xmppc_error *err,
                    void *userdata)
{
    (void)room;
    (void)err; /* the room counts as left either way */
    bot *b = userdata;
    b->finished = 1;
}

/* Why an occupant was removed, or NULL when it left on its own. */
static const char *removal(xmppc_muc_event_kind kind)
{
    switch (kind) {
    case XMPPC_MUC_EV_KICKED:
        return "kicked";
    case XMPPC_MUC_EV_BANNED:
        return "banned";
    case XMPPC_MUC_EV_REMOVED_AFFILIATION:
        return "affiliation changed";
    case XMPPC_MUC_EV_REMOVED_MEMBERS_ONLY:
        return "room is members-only";
    case XMPPC_MUC_EV_REMOVED_SHUTDOWN:
        return "service shut down";
    case XMPPC_MUC_EV_DESTROYED:
        return "room destroyed";
    default:
        return NULL;
    }
}

static void on_event(xmppc_muc_room *room, const xmppc_muc_event *ev,
                     void *userdata)
{
    (void)room;
    bot *b = userdata;
    xmppc_muc_event_kind kind = xmppc_muc_event_get_kind(ev);
    const xmppc_muc_occupant *occ = xmppc_muc_event_occupant(ev);
    const char *nick = occ ? xmppc_muc_occupant_nick(occ) : NULL;
    const char *why = removal(kind);
    if (kind == XMPPC_MUC_EV_JOINED && nick) {
        printf("joined %s\n", nick);
    } else if (kind == XMPPC_MUC_EV_LEFT && nick) {
        printf("left %s\n", nick);
        if (xmppc_muc_event_is_self(ev))
            b->left = 1;
    } else if (kind == XMPPC_MUC_EV_NICK_CHANGED && nick) {
        const char *old = xmppc_muc_event_old_nick(ev);
        printf("renamed %s %s\n", old ? old : "?", nick);
    } else if (kind == XMPPC_MUC_EV_SUBJECT) {
        const char *subject = xmppc_muc_event_subject(ev);
        if (!subject || !*subject)
            return;
        fputs("subject: ", stdout);
        print_text(subject);
        putchar('\n');
    } else if (why) {
        if (nick)
            printf("left %s (%s)\n", nick, why);
        else
            printf("room closed (%s)\n", why);
        fflush(stdout);
        /* Removed ourselves (or the room is gone): nothing left to do. */
        if (!nick || xmppc_muc_event_is_self(ev)) {
            b->left = 1;
            fprintf(stderr, "muc-bot: removed from %s: %s\n", b->room_jid, why);
            b->fatal = 1;
            stop_requested = 1;
        }
    } else if (kind == XMPPC_MUC_EV_ERROR) {
        const xmppc_error *err = xmppc_muc_event_error(ev);
        fprintf(stderr, "muc-bot: the room refused a message: %s\n",
                err ? err->message : "unknown error");
    }
    fflush(stdout);
}

static void on_message(xmppc_muc_room *room, const xmppc_muc_occupant *sender,
                       const char *nick, xmppc_stanza *message,
                       unsigned int flags, void *userdata)
{
    (void)sender;
    (void)userdata;
    const char *body = xmppc_message_get_body(message);
    if (!body)
        return;
    if (flags & XMPPC_MUC_MSG_DELAYED)
        fputs("[history] ", stdout);
    if (flags & XMPPC_MUC_MSG_PRIVATE)
        fputs("[private] ", stdout);
    if (nick)
        printf("<%s> ", nick);
    else
        fputs("* ", stdout);
    print_text(body);
    putchar('\n');
    fflush(stdout);

    /* Commands: only live messages of others. */
    if (flags & (XMPPC_MUC_MSG_DELAYED | XMPPC_MUC_MSG_OWN) || !nick)
        return;
    const char *self = xmppc_muc_room_get_nick(room);
    if (self && strcmp(self, nick) == 0)
        return;
    if (strncmp(body, "!echo ", 6) != 0 || !body[6])
        return;
    int sent = (flags & XMPPC_MUC_MSG_PRIVATE)
                   ? xmppc_muc_room_send_private(room, nick, body + 6)
                   : xmppc_muc_room_send_text(room, body + 6, NULL);
    if (sent < 0)
        fprintf(stderr, "muc-bot: cannot answer %s: %s\n", nick,
                xmppc_error_last()->message);
}

static void usage(const char *problem)
{
    fprintf(stderr,
            "muc-bot: %s (usage: muc-bot --jid JID --password-file FILE "
            "--room ROOM@SERVICE --nick NICK [--history N] [--server "
            "HOST[:PORT]] [--direct-tls] [--cafile FILE] [--verbose|--debug])"
            "\n",
            problem);
}

int main(int argc, char **argv)
{
    example_options o = {0};
    o.log_level = XMPPC_LOG_NONE;
    bot b = {0};
    int history = -1;
    for (int i = 1; i < argc; i++) {
        int r = example_option(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 1)
            continue;
        const char *a = argv[i];
        if ((strcmp(a, "--room") == 0 || strcmp(a, "--nick") == 0 ||
             strcmp(a, "--history") == 0) &&
            i + 1 >= argc) {
            fprintf(stderr, "muc-bot: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--room") == 0) {
            b.room_jid = argv[++i];
        } else if (strcmp(a, "--nick") == 0) {
            b.nick = argv[++i];
        } else if (strcmp(a, "--history") == 0) {
            char *end = NULL;
            long n = strtol(argv[++i], &end, 10);
            if (!*argv[i] || *end || n < 0 || n > 1000000) {
                usage("--history needs a number");
                return 2;
            }
            history = (int)n;
        } else {
            char problem[300];
            snprintf(problem, sizeof problem, "unknown option %s", a);
            usage(problem);
            return 2;
        }
    }
    if (!b.room_jid || !*b.room_jid || !b.nick || !*b.nick) {
        usage(!b.room_jid || !*b.room_jid ? "give --room ROOM@SERVICE"
                                          : "give --nick NICK");
        return 2;
    }

    xmppc_conn *conn = example_connection(&o);
    if (!conn)
        return 1;
    /* The room handle, its listeners and the history we want, all before
     * connecting; an invalid room JID is a usage error. */
    xmppc_muc *muc = xmppc_muc_get(conn);
    if (!muc || xmppc_muc_room_get(muc, b.room_jid, &b.room) < 0) {
        int code = xmppc_error_last()->code;
        fprintf(stderr, "muc-bot: room %s: %s\n", b.room_jid,
                xmppc_error_last()->message);
        xmppc_conn_unref(conn);
        return code == XMPPC_EINVAL ? 2 : 1;
    }
    if ((history >= 0 &&
         xmppc_muc_room_set_history(b.room, history, -1, NULL) < 0) ||
        xmppc_muc_room_on_event(b.room, NULL, on_event, &b, NULL) < 0 ||
        xmppc_muc_room_on_message(b.room, NULL, on_message, &b, NULL) < 0) {
        fprintf(stderr, "muc-bot: %s\n", xmppc_error_last()->message);
        xmppc_muc_room_unref(b.room);
        xmppc_conn_unref(conn);
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    xmppc_loop *loop = NULL;
    if (xmppc_loop_new(&loop) < 0 || xmppc_loop_add(loop, conn) < 0 ||
        xmppc_conn_connect_sync(conn, 30000) < 0) {
        fprintf(stderr, "muc-bot: %s\n", xmppc_error_last()->message);
        xmppc_loop_free(loop);
        xmppc_muc_room_unref(b.room);
        xmppc_conn_unref(conn);
        return 1;
    }
    /* Ready: join. The nick is checked here (a usage error). */
    int status = 0;
    if (xmppc_muc_room_join(b.room, b.nick, on_joined, &b, NULL) < 0) {
        status = xmppc_error_last()->code == XMPPC_EINVAL ? 2 : 1;
        fprintf(stderr, "muc-bot: cannot join %s as %s: %s\n", b.room_jid,
                b.nick, xmppc_error_last()->message);
        b.fatal = 1;
    }
    /* A short wait lets a signal end the loop promptly. */
    int rc = 0;
    while (rc == 0 && !b.fatal && !stop_requested &&
           xmppc_conn_get_state(conn) == XMPPC_STATE_READY)
        rc = xmppc_loop_run_once(loop, 200);
    if (rc < 0) {
        fprintf(stderr, "muc-bot: %s\n", xmppc_error_last()->message);
        b.fatal = 1;
    }

    if (xmppc_conn_get_state(conn) != XMPPC_STATE_READY) {
        const xmppc_error *err = xmppc_conn_get_error(conn);
        if (!b.fatal)
            fprintf(stderr, "muc-bot: connection lost: %s\n",
                    err ? err->message : "closed");
        b.fatal = 1;
    } else {
        /* Leave cleanly: the room tells the others we went. */
        xmppc_muc_room_state st = xmppc_muc_room_get_state(b.room);
        if ((st == XMPPC_MUC_JOINED || st == XMPPC_MUC_JOINING) &&
            xmppc_muc_room_leave(b.room, NULL, on_left, &b, NULL) == 0) {
            long until = now_ms() + LEAVE_WAIT_MS;
            while (!b.left && !b.finished && now_ms() < until &&
                   xmppc_conn_get_state(conn) == XMPPC_STATE_READY &&
                   xmppc_loop_run_once(loop, 100) == 0)
                ;
        }
        xmppc_conn_disconnect(conn);
        while (xmppc_conn_get_state(conn) != XMPPC_STATE_DISCONNECTED &&
               xmppc_loop_run_once(loop, 1000) == 0)
            ;
    }
    xmppc_loop_free(loop);
    xmppc_muc_room_unref(b.room);
    xmppc_conn_unref(conn);
    return status ? status : b.fatal ? 1 : 0;
}
