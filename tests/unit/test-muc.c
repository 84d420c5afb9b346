/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Multi-User Chat (XEP-0045), direct invitations (XEP-0249) and self-ping
 * (XEP-0410) over the test transport: joining (occupants, errors, room
 * creation and configuration), occupant changes and removals, moderation
 * and administration requests, room messages and subjects, invitations,
 * leaving, self-ping, reconnection, malformed input and API misuse.
 * Stanzas sent are checked piece by piece (attribute order is free).
 */
#include <time.h>

#include "../transcript.h"
#include "conn-private.h"

#define ROOM "coven@chat.shakespeare.lit"
#define NICK "thirdwitch"
#define SELF ROOM "/" NICK
#define NS_USER "http://jabber.org/protocol/muc#user"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
#define X_USER "<x xmlns='" NS_USER "'>"
#define MUC_X "<x xmlns='" XMPPC_NS_MUC "'"
#define NIL "(null)"

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Copies @p s, or "(null)". */
static void keep(char *dst, size_t size, const char *s)
{
    snprintf(dst, size, "%s", s ? s : NIL);
}

#define INJECT(c, xml) XT_EQ_INT(xmppc__conn_test_inject((c), (xml)), 0)

/* The last stanza sent contains (or lacks) @p s. */
#define SENT(out, s)                                                           \
    do {                                                                       \
        if (!strstr((out).last, (s))) {                                        \
            XT_FAIL_AT(__FILE__, __LINE__, "last stanza sent lacks %s", (s));  \
            xt_diag("sent", (out).last);                                       \
        }                                                                      \
    } while (0)
#define NOT_SENT(out, s)                                                       \
    do {                                                                       \
        if (strstr((out).last, (s))) {                                         \
            XT_FAIL_AT(__FILE__, __LINE__, "last stanza sent has %s", (s));    \
            xt_diag("sent", (out).last);                                       \
        }                                                                      \
    } while (0)
#define STARTS(out, s) XT_CHECK(strncmp((out).last, (s), strlen(s)) == 0)

/* Injects @p fmt with its "%s" replaced by the id of the last stanza sent. */
#define REPLY(f, fmt)                                                          \
    do {                                                                       \
        char reply_[8192];                                                     \
        subst(reply_, sizeof reply_, (fmt), last_id(&(f)->out));               \
        INJECT((f)->c, reply_);                                                \
    } while (0)

/* ---- recorders ------------------------------------------------------------
 */

typedef struct result {
    int calls, destroyed, code;
    char cond[64];
    xmppc_muc_room *room;
} result;

static void on_done(xmppc_muc_room *room, const xmppc_error *err, void *ud)
{
    result *r = ud;
    r->calls++;
    r->room = room;
    r->code = err ? err->code : 0;
    keep(r->cond, sizeof r->cond, err ? err->condition : NULL);
}

static void on_done_destroy(void *ud)
{
    ((result *)ud)->destroyed++;
}

static const char *kind_tag(xmppc_muc_event_kind kind)
{
    switch (kind) {
    case XMPPC_MUC_EV_JOINED:
        return "joined";
    case XMPPC_MUC_EV_LEFT:
        return "left";
    case XMPPC_MUC_EV_NICK_CHANGED:
        return "nick";
    case XMPPC_MUC_EV_ROLE_CHANGED:
        return "role";
    case XMPPC_MUC_EV_AFFILIATION_CHANGED:
        return "affil";
    case XMPPC_MUC_EV_PRESENCE_CHANGED:
        return "presence";
    case XMPPC_MUC_EV_KICKED:
        return "kicked";
    case XMPPC_MUC_EV_BANNED:
        return "banned";
    case XMPPC_MUC_EV_REMOVED_AFFILIATION:
        return "rm-affil";
    case XMPPC_MUC_EV_REMOVED_MEMBERS_ONLY:
        return "rm-members";
    case XMPPC_MUC_EV_REMOVED_SHUTDOWN:
        return "rm-shutdown";
    case XMPPC_MUC_EV_DESTROYED:
        return "destroyed";
    case XMPPC_MUC_EV_SUBJECT:
        return "subject";
    case XMPPC_MUC_EV_DECLINED:
        return "declined";
    case XMPPC_MUC_EV_ERROR:
        return "error";
    case XMPPC_MUC_EV_CONFIG_CHANGED:
        return "config";
    default:
        return "?";
    }
}

/* Every event as "tag nick;" ("*" after our own nick, "-" for none), and
 * the details of the last one. */
typedef struct evlog {
    int count;
    char log[4096];
    int kind, is_self;
    char nick[1200], actor[128], reason[256], alternate[128], subject[256];
    char cond[64];
    char old_nick[128]; /* of the last NICK_CHANGED */
    int old_role, old_affil, role, affil;
    int has_stanza, st104, st110;
    xmppc_muc_room *room;
} evlog;

static void on_event(xmppc_muc_room *room, const xmppc_muc_event *ev, void *ud)
{
    evlog *e = ud;
    const xmppc_muc_occupant *occ = xmppc_muc_event_occupant(ev);
    e->count++;
    e->room = room;
    e->kind = (int)xmppc_muc_event_get_kind(ev);
    e->is_self = xmppc_muc_event_is_self(ev);
    keep(e->nick, sizeof e->nick, occ ? xmppc_muc_occupant_nick(occ) : NULL);
    keep(e->actor, sizeof e->actor, xmppc_muc_event_actor(ev));
    keep(e->reason, sizeof e->reason, xmppc_muc_event_reason(ev));
    keep(e->alternate, sizeof e->alternate, xmppc_muc_event_alternate(ev));
    keep(e->subject, sizeof e->subject, xmppc_muc_event_subject(ev));
    const xmppc_error *err = xmppc_muc_event_error(ev);
    keep(e->cond, sizeof e->cond, err ? err->condition : NULL);
    if (e->kind == XMPPC_MUC_EV_NICK_CHANGED)
        keep(e->old_nick, sizeof e->old_nick, xmppc_muc_event_old_nick(ev));
    e->old_role = (int)xmppc_muc_event_old_role(ev);
    e->old_affil = (int)xmppc_muc_event_old_affiliation(ev);
    e->role = occ ? (int)xmppc_muc_occupant_role(occ) : -1;
    e->affil = occ ? (int)xmppc_muc_occupant_affiliation(occ) : -1;
    e->has_stanza = xmppc_muc_event_stanza(ev) != NULL;
    e->st104 = xmppc_muc_event_has_status(ev, 104);
    e->st110 = xmppc_muc_event_has_status(ev, 110);
    size_t n = strlen(e->log);
    snprintf(e->log + n, sizeof e->log - n, "%s %s%s;",
             kind_tag((xmppc_muc_event_kind)e->kind),
             occ ? xmppc_muc_occupant_nick(occ) : "-", e->is_self ? "*" : "");
}

/* How many times @p needle occurs in @p hay. */
static int occurrences(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

typedef struct msglog {
    int count;
    unsigned int flags;
    char nick[128], sender[128], body[256], id[64], stamp[64], delay_from[128];
    int sender_self;
    xmppc_muc_room *room;
} msglog;

static void on_message(xmppc_muc_room *room, const xmppc_muc_occupant *sender,
                       const char *nick, xmppc_stanza *message,
                       unsigned int flags, void *ud)
{
    msglog *m = ud;
    m->count++;
    m->room = room;
    m->flags = flags;
    keep(m->nick, sizeof m->nick, nick);
    keep(m->sender, sizeof m->sender,
         sender ? xmppc_muc_occupant_nick(sender) : NULL);
    m->sender_self = sender ? xmppc_muc_occupant_is_self(sender) : -1;
    keep(m->body, sizeof m->body, xmppc_message_get_body(message));
    keep(m->id, sizeof m->id, xmppc_stanza_get_id(message));
    const char *from = NULL;
    keep(m->stamp, sizeof m->stamp, xmppc_message_get_delay(message, &from));
    keep(m->delay_from, sizeof m->delay_from, from);
}

/* ---- a joined room ----------------------------------------------------- */

typedef struct fixture {
    sent out;
    xmppc_conn *c;
    xmppc_muc *muc;
    xmppc_muc_room *room; /* ROOM, our reference */
    evlog ev;
    msglog msg;
    result join;
} fixture;

static void setup(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->c = ready(&f->out);
    f->muc = xmppc_muc_get(f->c);
    XT_CHECK(f->muc != NULL);
    XT_EQ_INT(xmppc_muc_room_get(f->muc, ROOM, &f->room), 0);
    XT_EQ_INT(xmppc_muc_room_on_event(f->room, NULL, on_event, &f->ev, NULL),
              0);
    XT_EQ_INT(
        xmppc_muc_room_on_message(f->room, NULL, on_message, &f->msg, NULL), 0);
}

static void teardown(fixture *f)
{
    xmppc_muc_room_unref(f->room);
    finish(f->c);
}

/* Presence of the occupant @p nick of ROOM; @p before goes ahead of the
 * muc#user element (show, status), @p inside after the item. */
static void occupant_full(fixture *f, const char *type, const char *nick,
                          const char *affil, const char *role, const char *jid,
                          const char *before, const char *inside)
{
    char xml[4096];
    snprintf(xml, sizeof xml,
             "<presence from='" ROOM "/%s' to='" OWN "'%s%s%s>%s" X_USER
             "<item affiliation='%s' role='%s'%s%s%s/>%s</x></presence>",
             nick, type ? " type='" : "", type ? type : "", type ? "'" : "",
             before ? before : "", affil, role, jid ? " jid='" : "",
             jid ? jid : "", jid ? "'" : "", inside ? inside : "");
    INJECT(f->c, xml);
}

static void occupant(fixture *f, const char *nick, const char *affil,
                     const char *role, const char *jid, const char *before)
{
    occupant_full(f, NULL, nick, affil, role, jid, before, NULL);
}

static const char self_presence[] =
    "<presence from='" SELF "' to='" OWN "'>" X_USER
    "<item affiliation='member' role='participant' jid='" OWN "'/>"
    "<status code='100'/><status code='110'/></x></presence>";

/* Joins ROOM as NICK with firstwitch (owner), secondwitch (admin) and
 * hecate (no real JID, away) present; clears the event log. */
static void join_room(fixture *f)
{
    memset(&f->join, 0, sizeof f->join);
    XT_EQ_INT(xmppc_muc_room_join(f->room, NICK, on_done, &f->join, NULL), 0);
    occupant(f, "firstwitch", "owner", "moderator",
             "crone1@shakespeare.lit/desktop", NULL);
    occupant(f, "secondwitch", "admin", "moderator",
             "wiccarocks@shakespeare.lit/laptop", NULL);
    occupant(f, "hecate", "none", "participant", NULL,
             "<show>away</show><status>brewing</status>");
    INJECT(f->c, self_presence);
    XT_EQ_INT(f->join.calls, 1);
    XT_EQ_INT(f->join.code, 0);
    XT_EQ_INT(xmppc_muc_room_get_state(f->room), XMPPC_MUC_JOINED);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f->room), 4);
    memset(&f->ev, 0, sizeof f->ev);
}

/* ---- joining ------------------------------------------------------------- */

static void test_join(void)
{
    fixture f;
    setup(&f);
    xmppc_muc_room *same = NULL;
    XT_EQ_INT(xmppc_muc_room_get(f.muc, "Coven@Chat.Shakespeare.LIT", &same),
              0);
    XT_CHECK(same == f.room);
    xmppc_muc_room_unref(same);
    XT_CHECK(xmppc_muc_get(f.c) == f.muc);
    XT_CHECK(xmppc_muc_get_conn(f.muc) == f.c);
    XT_CHECK(xmppc_muc_room_find(f.muc, ROOM) == f.room);
    XT_CHECK(xmppc_muc_room_find(f.muc, "heath@chat.shakespeare.lit") == NULL);
    XT_EQ_STR(xmppc_muc_room_get_jid(f.room), ROOM);
    XT_CHECK(xmppc_muc_room_get_muc(f.room) == f.muc);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    XT_CHECK(xmppc_muc_room_get_nick(f.room) == NULL);
    XT_CHECK(xmppc_muc_room_get_self(f.room) == NULL);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 0);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);

    XT_EQ_INT(xmppc_muc_room_set_password(f.room, "cauldronburn"), 0);
    XT_EQ_INT(
        xmppc_muc_room_set_history(f.room, 20, 180, "2026-11-21T08:00:00Z"), 0);
    int before = f.out.count;
    XT_EQ_INT(
        xmppc_muc_room_join(f.room, NICK, on_done, &f.join, on_done_destroy),
        0);
    XT_EQ_INT(f.out.count, before + 1);
    STARTS(f.out, "<presence");
    SENT(f.out, "to='" SELF "'");
    SENT(f.out, MUC_X ">");
    SENT(f.out, "<password>cauldronburn</password>");
    SENT(f.out, "<history ");
    SENT(f.out, "maxstanzas='20'");
    SENT(f.out, "seconds='180'");
    SENT(f.out, "since='2026-11-21T08:00:00Z'");
    NOT_SENT(f.out, "type='");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINING);
    XT_EQ_STR(xmppc_muc_room_get_nick(f.room), NICK);

    /* Occupants first, then our own presence (110). */
    occupant(&f, "firstwitch", "owner", "moderator",
             "crone1@shakespeare.lit/desktop", NULL);
    occupant(&f, "secondwitch", "admin", "moderator",
             "wiccarocks@shakespeare.lit/laptop", NULL);
    occupant(&f, "hecate", "none", "participant", NULL,
             "<show>away</show><status>brewing</status>");
    XT_EQ_INT(f.join.calls, 0);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINING);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 3);
    XT_CHECK(xmppc_muc_room_get_self(f.room) == NULL);
    INJECT(f.c, self_presence);
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, 0);
    XT_EQ_INT(f.join.destroyed, 1);
    XT_CHECK(f.join.room == f.room);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    XT_EQ_STR(f.ev.log, "joined firstwitch;joined secondwitch;joined "
                        "hecate;joined thirdwitch*;");
    XT_EQ_INT(f.ev.st110, 1);
    XT_CHECK(f.ev.room == f.room);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 1);
    XT_CHECK(xmppc_muc_joined_at(f.muc, 0) == f.room);
    XT_CHECK(xmppc_muc_joined_at(f.muc, 1) == NULL);
    XT_EQ_INT(xmppc_muc_room_is_new(f.room), 0);
    XT_CHECK(xmppc_muc_room_get_subject(f.room) == NULL);

    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);
    XT_CHECK(xmppc_muc_room_occupant_at(f.room, 4) == NULL);
    const xmppc_muc_occupant *self = xmppc_muc_room_get_self(f.room);
    XT_CHECK(self != NULL);
    if (self) {
        XT_EQ_STR(xmppc_muc_occupant_nick(self), NICK);
        XT_EQ_STR(xmppc_muc_occupant_jid(self), SELF);
        XT_EQ_STR(xmppc_muc_occupant_real_jid(self), OWN);
        XT_EQ_INT(xmppc_muc_occupant_is_self(self), 1);
        XT_EQ_INT(xmppc_muc_occupant_role(self), XMPPC_MUC_ROLE_PARTICIPANT);
        XT_EQ_INT(xmppc_muc_occupant_affiliation(self), XMPPC_MUC_AFFIL_MEMBER);
        XT_CHECK(xmppc_muc_room_find_occupant(f.room, NICK) == self);
    }
    const xmppc_muc_occupant *first =
        xmppc_muc_room_find_occupant(f.room, "firstwitch");
    XT_CHECK(first != NULL);
    if (first) {
        XT_EQ_STR(xmppc_muc_occupant_jid(first), ROOM "/firstwitch");
        XT_EQ_STR(xmppc_muc_occupant_real_jid(first),
                  "crone1@shakespeare.lit/desktop");
        XT_EQ_INT(xmppc_muc_occupant_role(first), XMPPC_MUC_ROLE_MODERATOR);
        XT_EQ_INT(xmppc_muc_occupant_affiliation(first), XMPPC_MUC_AFFIL_OWNER);
        XT_EQ_INT(xmppc_muc_occupant_is_self(first), 0);
        XT_EQ_INT(xmppc_muc_occupant_show(first), XMPPC_PRESENCE_AVAILABLE);
        XT_CHECK(xmppc_muc_occupant_status(first) == NULL);
    }
    const xmppc_muc_occupant *second =
        xmppc_muc_room_find_occupant(f.room, "secondwitch");
    XT_CHECK(second != NULL);
    if (second)
        XT_EQ_INT(xmppc_muc_occupant_affiliation(second),
                  XMPPC_MUC_AFFIL_ADMIN);
    const xmppc_muc_occupant *hecate =
        xmppc_muc_room_find_occupant(f.room, "hecate");
    XT_CHECK(hecate != NULL);
    if (hecate) {
        XT_CHECK(xmppc_muc_occupant_real_jid(hecate) == NULL);
        XT_EQ_INT(xmppc_muc_occupant_show(hecate), XMPPC_PRESENCE_AWAY);
        XT_EQ_STR(xmppc_muc_occupant_status(hecate), "brewing");
        XT_EQ_INT(xmppc_muc_occupant_affiliation(hecate), XMPPC_MUC_AFFIL_NONE);
    }
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "nobody") == NULL);
    teardown(&f);
}

/* History limits: left out when unset, 0 sent as it is; no password. */
static void test_join_history_options(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_room_join(f.room, NICK, NULL, NULL, NULL), 0);
    SENT(f.out, MUC_X);
    NOT_SENT(f.out, "<history");
    NOT_SENT(f.out, "<password");

    xmppc_muc_room *b = NULL, *c = NULL;
    XT_EQ_INT(xmppc_muc_room_get(f.muc, "heath@chat.shakespeare.lit", &b), 0);
    XT_EQ_INT(xmppc_muc_room_set_history(b, 0, -1, NULL), 0);
    XT_EQ_INT(xmppc_muc_room_set_password(b, "pw"), 0);
    XT_EQ_INT(xmppc_muc_room_set_password(b, NULL), 0);
    XT_EQ_INT(xmppc_muc_room_join(b, "hag", NULL, NULL, NULL), 0);
    SENT(f.out, "to='heath@chat.shakespeare.lit/hag'");
    SENT(f.out, "maxstanzas='0'");
    NOT_SENT(f.out, "seconds=");
    NOT_SENT(f.out, "since=");
    NOT_SENT(f.out, "<password");

    XT_EQ_INT(xmppc_muc_room_get(f.muc, "darkcave@chat.shakespeare.lit", &c),
              0);
    XT_EQ_INT(xmppc_muc_room_set_history(c, -1, 60, NULL), 0);
    XT_EQ_INT(xmppc_muc_room_join(c, "hag", NULL, NULL, NULL), 0);
    SENT(f.out, "seconds='60'");
    NOT_SENT(f.out, "maxstanzas=");
    xmppc_muc_room_unref(b);
    xmppc_muc_room_unref(c);
    teardown(&f);
}

static void test_join_errors(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(
        xmppc_muc_room_join(f.room, NICK, on_done, &f.join, on_done_destroy),
        0);
    occupant(&f, "firstwitch", "owner", "moderator", NULL, NULL);
    INJECT(f.c, "<presence from='" SELF "' to='" OWN "' type='error'>"
                "<x xmlns='" XMPPC_NS_MUC "'/><error by='" ROOM "' "
                "type='cancel'><conflict xmlns='" NS_STANZAS "'/></error>"
                "</presence>");
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, XMPPC_ESTANZA);
    XT_EQ_STR(f.join.cond, "conflict");
    XT_EQ_INT(f.join.destroyed, 1);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    XT_CHECK(xmppc_muc_room_get_self(f.room) == NULL);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);
    XT_CHECK(strstr(f.ev.log, "thirdwitch") == NULL);

    /* A wrong password. */
    memset(&f.join, 0, sizeof f.join);
    XT_EQ_INT(xmppc_muc_room_join(f.room, "hag66", on_done, &f.join, NULL), 0);
    SENT(f.out, "to='" ROOM "/hag66'");
    INJECT(f.c, "<presence from='" ROOM
                "/hag66' type='error'><x xmlns='" XMPPC_NS_MUC
                "'/><error type='auth'><not-authorized xmlns='" NS_STANZAS
                "'/></error></presence>");
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, XMPPC_ESTANZA);
    XT_EQ_STR(f.join.cond, "not-authorized");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);

    /* No answer within the manager's timeout. */
    XT_EQ_INT(xmppc_muc_set_timeout(f.muc, 1), 0);
    memset(&f.join, 0, sizeof f.join);
    XT_EQ_INT(
        xmppc_muc_room_join(f.room, NICK, on_done, &f.join, on_done_destroy),
        0);
    sleep_ms(20);
    xmppc__conn_test_run_timers(f.c);
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(f.join.destroyed, 1);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);

    /* The connection closes first. */
    XT_EQ_INT(xmppc_muc_set_timeout(f.muc, 30000), 0);
    memset(&f.join, 0, sizeof f.join);
    XT_EQ_INT(
        xmppc_muc_room_join(f.room, NICK, on_done, &f.join, on_done_destroy),
        0);
    xmppc__conn_test_disconnect(f.c);
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, XMPPC_ECANCELED);
    XT_EQ_INT(f.join.destroyed, 1);
    teardown(&f);
}

/* ---- creating and configuring rooms --------------------------------------
 */

static const char created_presence[] =
    "<presence from='" SELF "' to='" OWN "'>" X_USER
    "<item affiliation='owner' role='moderator' jid='" OWN "'/>"
    "<status code='110'/><status code='201'/></x></presence>";

static void test_create_instant(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_room_join(f.room, NICK, on_done, &f.join, NULL), 0);
    INJECT(f.c, created_presence);
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, 0);
    XT_EQ_INT(xmppc_muc_room_is_new(f.room), 1);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);

    result r = {0};
    XT_EQ_INT(
        xmppc_muc_room_create_instant(f.room, on_done, &r, on_done_destroy), 0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='set'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_OWNER "'><x "
                "xmlns='jabber:x:data' type='submit'/></query>");
    /* A reply from someone else is not the room's. */
    REPLY(&f, "<iq type='result' from='romeo@example.net/orchard' id='%s'/>");
    XT_EQ_INT(r.calls, 0);
    REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_CHECK(r.room == f.room);

    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_create_instant(f.room, on_done, &r, NULL), 0);
    REPLY(&f, "<iq type='error' from='" ROOM "' id='%s'><error type='auth'>"
              "<forbidden xmlns='" NS_STANZAS "'/></error></iq>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.cond, "forbidden");
    teardown(&f);
}

typedef struct formres {
    int calls, code, destroyed;
    char cond[64];
    xmppc_form *form; /* a reference */
} formres;

static void on_form(xmppc_muc_room *room, xmppc_form *form,
                    const xmppc_error *err, void *ud)
{
    (void)room;
    formres *r = ud;
    r->calls++;
    r->code = err ? err->code : 0;
    keep(r->cond, sizeof r->cond, err ? err->condition : NULL);
    if (form)
        r->form = xmppc_form_ref(form);
}

static void on_form_destroy(void *ud)
{
    ((formres *)ud)->destroyed++;
}

static const char config_form[] =
    "<iq type='result' from='" ROOM
    "' id='%s'><query xmlns='" XMPPC_NS_MUC_OWNER
    "'><x xmlns='jabber:x:data' type='form'><title>Configuration for the "
    "coven</title><instructions>Complete this form</instructions>"
    "<field type='hidden' var='FORM_TYPE'><value>" XMPPC_MUC_FORM_ROOMCONFIG
    "</value></field>"
    "<field label='Natural-Language Room Name' type='text-single' "
    "var='muc#roomconfig_roomname'/>"
    "<field label='Make Room Persistent?' type='boolean' "
    "var='muc#roomconfig_persistentroom'><value>0</value></field>"
    "<field label='Who May Discover Real JIDs?' type='list-single' "
    "var='muc#roomconfig_whois'><desc>Affects anonymity</desc>"
    "<option label='Moderators Only'><value>moderators</value></option>"
    "<option label='Anyone'><value>anyone</value></option>"
    "<value>moderators</value></field>"
    "<field type='fixed'><value>You may specify additional owners</value>"
    "</field>"
    "<field label='Room Admins' type='jid-multi' "
    "var='muc#roomconfig_roomadmins'><value>wiccarocks@shakespeare.lit</value>"
    "<value>hecate@shakespeare.lit</value></field>"
    "</x></query></iq>";

static void test_reserved_config(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_room_join(f.room, NICK, on_done, &f.join, NULL), 0);
    INJECT(f.c, created_presence);
    XT_EQ_INT(xmppc_muc_room_is_new(f.room), 1);

    formres fr = {0};
    XT_EQ_INT(xmppc_muc_room_get_config(f.room, on_form, &fr, on_form_destroy),
              0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='get'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_OWNER "'/>");
    XT_EQ_INT(fr.calls, 0);
    REPLY(&f, config_form);
    XT_EQ_INT(fr.calls, 1);
    XT_EQ_INT(fr.destroyed, 1);
    XT_EQ_INT(fr.code, 0);
    XT_CHECK(fr.form != NULL);
    if (!fr.form) {
        teardown(&f);
        return;
    }
    XT_EQ_INT(xmppc_form_get_type(fr.form), XMPPC_FORM_FORM);
    XT_EQ_STR(xmppc_form_get_form_type(fr.form), XMPPC_MUC_FORM_ROOMCONFIG);
    XT_EQ_INT(xmppc_form_field_count(fr.form), 6);
    xmppc_form_field *name =
        xmppc_form_get_field(fr.form, "muc#roomconfig_roomname");
    xmppc_form_field *persistent =
        xmppc_form_get_field(fr.form, "muc#roomconfig_persistentroom");
    xmppc_form_field *whois =
        xmppc_form_get_field(fr.form, "muc#roomconfig_whois");
    XT_CHECK(name && persistent && whois);
    if (name && persistent && whois) {
        XT_EQ_INT(xmppc_form_field_option_count(whois), 2);
        XT_EQ_INT(xmppc_form_field_set_value(name, "A Dark Cave"), 0);
        XT_EQ_INT(xmppc_form_field_set_value(persistent, "1"), 0);
        XT_EQ_INT(xmppc_form_field_set_value(whois, "anyone"), 0);
    }

    result r = {0};
    XT_EQ_INT(xmppc_muc_room_submit_config(f.room, fr.form, on_done, &r,
                                           on_done_destroy),
              0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='set'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_OWNER "'>");
    SENT(f.out, "<x xmlns='jabber:x:data' type='submit'>");
    SENT(f.out, "var='FORM_TYPE'");
    SENT(f.out, "<value>" XMPPC_MUC_FORM_ROOMCONFIG "</value>");
    SENT(f.out, "var='muc#roomconfig_roomname'");
    SENT(f.out, "<value>A Dark Cave</value>");
    SENT(f.out, "var='muc#roomconfig_persistentroom'");
    SENT(f.out, "<value>1</value>");
    SENT(f.out, "<value>anyone</value>");
    SENT(f.out, "<value>wiccarocks@shakespeare.lit</value>");
    SENT(f.out, "<value>hecate@shakespeare.lit</value>");
    NOT_SENT(f.out, "label=");
    NOT_SENT(f.out, "<option");
    NOT_SENT(f.out, "<desc");
    NOT_SENT(f.out, "<title");
    NOT_SENT(f.out, "<instructions");
    NOT_SENT(f.out, "<value>moderators</value>");
    NOT_SENT(f.out, "You may specify additional owners");
    XT_EQ_INT(r.calls, 0);
    REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    xmppc_form_unref(fr.form);

    /* Not an owner. */
    memset(&fr, 0, sizeof fr);
    XT_EQ_INT(xmppc_muc_room_get_config(f.room, on_form, &fr, NULL), 0);
    REPLY(&f, "<iq type='error' from='" ROOM
              "' id='%s'><query xmlns='" XMPPC_NS_MUC_OWNER
              "'/><error type='auth'><forbidden xmlns='" NS_STANZAS
              "'/></error></iq>");
    XT_EQ_INT(fr.calls, 1);
    XT_EQ_INT(fr.code, XMPPC_ESTANZA);
    XT_EQ_STR(fr.cond, "forbidden");
    XT_CHECK(fr.form == NULL);
    xmppc_form_unref(fr.form);

    /* Giving up on a new room. */
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_cancel_config(f.room, on_done, &r, NULL), 0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='set'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_OWNER "'><x "
                "xmlns='jabber:x:data' type='cancel'/></query>");
    REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);

    XT_EQ_INT(xmppc_muc_room_submit_config(f.room, NULL, on_done, &r, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(r.calls, 1);
    teardown(&f);
}

/* ---- nicks -------------------------------------------------------------- */

/* The room changes the nick we asked for (210). */
static void test_status_210(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_room_join(f.room, NICK, on_done, &f.join, NULL), 0);
    occupant(&f, "firstwitch", "owner", "moderator", NULL, NULL);
    INJECT(f.c, "<presence from='" ROOM "/oldhag' to='" OWN "'>" X_USER
                "<item affiliation='member' role='participant'/>"
                "<status code='110'/><status code='210'/></x></presence>");
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, 0);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    XT_EQ_STR(xmppc_muc_room_get_nick(f.room), "oldhag");
    const xmppc_muc_occupant *self = xmppc_muc_room_get_self(f.room);
    XT_CHECK(self != NULL);
    if (self) {
        XT_EQ_STR(xmppc_muc_occupant_nick(self), "oldhag");
        XT_EQ_STR(xmppc_muc_occupant_jid(self), ROOM "/oldhag");
    }
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, NICK) == NULL);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 2);
    XT_CHECK(strstr(f.ev.log, "joined oldhag*;") != NULL);
    XT_CHECK(strstr(f.ev.log, "nick oldhag*;") != NULL);
    XT_EQ_STR(f.ev.old_nick, NICK);

    /* Messages from the new nick are ours. */
    INJECT(f.c, "<message from='" ROOM "/oldhag' type='groupchat' id='o1'>"
                "<body>mine</body></message>");
    XT_EQ_INT(f.msg.count, 1);
    XT_CHECK(f.msg.flags & XMPPC_MUC_MSG_OWN);
    teardown(&f);
}

static void test_nick_change_other(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    INJECT(f.c,
           "<presence from='" ROOM "/firstwitch' type='unavailable'>" X_USER
           "<item affiliation='owner' role='moderator' "
           "jid='crone1@shakespeare.lit/desktop' nick='oldhag'/>"
           "<status code='303'/></x></presence>");
    occupant(&f, "oldhag", "owner", "moderator",
             "crone1@shakespeare.lit/desktop", NULL);
    XT_EQ_STR(f.ev.log, "nick oldhag;");
    XT_EQ_STR(f.ev.old_nick, "firstwitch");
    XT_EQ_INT(f.ev.is_self, 0);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "firstwitch") == NULL);
    const xmppc_muc_occupant *o =
        xmppc_muc_room_find_occupant(f.room, "oldhag");
    XT_CHECK(o != NULL);
    if (o) {
        XT_EQ_STR(xmppc_muc_occupant_jid(o), ROOM "/oldhag");
        XT_EQ_STR(xmppc_muc_occupant_real_jid(o),
                  "crone1@shakespeare.lit/desktop");
        XT_EQ_INT(xmppc_muc_occupant_affiliation(o), XMPPC_MUC_AFFIL_OWNER);
        XT_EQ_INT(xmppc_muc_occupant_role(o), XMPPC_MUC_ROLE_MODERATOR);
        XT_EQ_INT(xmppc_muc_occupant_is_self(o), 0);
    }

    /* Anonymous room: no real JID; show carried over to the new nick. */
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<presence from='" ROOM "/hecate' type='unavailable'>" X_USER
                "<item affiliation='none' role='participant' nick='hag66'/>"
                "<status code='303'/></x></presence>");
    occupant(&f, "hag66", "none", "participant", NULL,
             "<show>away</show><status>brewing</status>");
    XT_EQ_STR(f.ev.log, "nick hag66;");
    XT_EQ_STR(f.ev.old_nick, "hecate");
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "hecate") == NULL);
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "hag66") != NULL);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    teardown(&f);
}

static void test_own_nick_change(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    result r = {0}, r2 = {0};
    XT_EQ_INT(xmppc_muc_room_change_nick(f.room, "oldhag", on_done, &r,
                                         on_done_destroy),
              0);
    STARTS(f.out, "<presence");
    SENT(f.out, "to='" ROOM "/oldhag'");
    NOT_SENT(f.out, "type='unavailable'");
    int n = f.out.count;
    XT_EQ_INT(xmppc_muc_room_change_nick(f.room, "crone", on_done, &r2,
                                         on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(r2.calls + r2.destroyed, 0);

    INJECT(f.c, "<presence from='" SELF "' type='unavailable'>" X_USER
                "<item affiliation='member' role='participant' jid='" OWN
                "' nick='oldhag'/><status code='303'/><status code='110'/>"
                "</x></presence>");
    INJECT(f.c, "<presence from='" ROOM "/oldhag'>" X_USER
                "<item affiliation='member' role='participant' jid='" OWN
                "'/><status code='110'/></x></presence>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_STR(f.ev.log, "nick oldhag*;");
    XT_EQ_STR(f.ev.old_nick, NICK);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    XT_EQ_STR(xmppc_muc_room_get_nick(f.room), "oldhag");
    const xmppc_muc_occupant *self = xmppc_muc_room_get_self(f.room);
    XT_CHECK(self && strcmp(xmppc_muc_occupant_nick(self), "oldhag") == 0);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 1);

    /* A taken nick: the error comes from the nick asked for. */
    memset(&r, 0, sizeof r);
    memset(&f.ev, 0, sizeof f.ev);
    XT_EQ_INT(
        xmppc_muc_room_change_nick(f.room, "firstwitch", on_done, &r, NULL), 0);
    SENT(f.out, "to='" ROOM "/firstwitch'");
    INJECT(f.c, "<presence from='" ROOM "/firstwitch' type='error'>"
                "<error type='cancel'><conflict xmlns='" NS_STANZAS "'/>"
                "</error></presence>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.cond, "conflict");
    XT_EQ_STR(xmppc_muc_room_get_nick(f.room), "oldhag");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "firstwitch") != NULL);
    XT_EQ_INT(occurrences(f.ev.log, "nick "), 0);

    /* No answer. */
    XT_EQ_INT(xmppc_muc_set_timeout(f.muc, 1), 0);
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_change_nick(f.room, "crone", on_done, &r,
                                         on_done_destroy),
              0);
    sleep_ms(20);
    xmppc__conn_test_run_timers(f.c);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ETIMEDOUT);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_STR(xmppc_muc_room_get_nick(f.room), "oldhag");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    teardown(&f);
}

/* The room adjusts the nick we ask for in a nick change (303, then 210). */
static void test_own_nick_change_210(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    result r = {0};
    /* The room adjusts the nick asked for (210): done all the same. */
    memset(&f.ev, 0, sizeof f.ev);
    XT_EQ_INT(xmppc_muc_room_change_nick(f.room, "Crone", on_done, &r,
                                         on_done_destroy),
              0);
    SENT(f.out, "to='" ROOM "/Crone'");
    INJECT(f.c,
           "<presence from='" ROOM "/thirdwitch' type='unavailable'>" X_USER
           "<item affiliation='member' role='participant' nick='crone'/>"
           "<status code='303'/><status code='110'/></x></presence>");
    INJECT(f.c, "<presence from='" ROOM "/crone'>" X_USER
                "<item affiliation='member' role='participant'/>"
                "<status code='110'/><status code='210'/></x></presence>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_STR(xmppc_muc_room_get_nick(f.room), "crone");
    XT_EQ_STR(f.ev.old_nick, NICK);
    XT_EQ_INT(occurrences(f.ev.log, "nick crone*;"), 1);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);

    /* No nick change left pending. */
    XT_EQ_INT(xmppc_muc_room_change_nick(f.room, "hag", NULL, NULL, NULL), 0);
    teardown(&f);
}

/* ---- occupant changes ---------------------------------------------------- */

static void test_role_affiliation_change(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    /* Moderator revoked. */
    occupant(&f, "secondwitch", "admin", "participant",
             "wiccarocks@shakespeare.lit/laptop", NULL);
    XT_EQ_STR(f.ev.log, "role secondwitch;");
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_ROLE_CHANGED);
    XT_EQ_INT(f.ev.old_role, XMPPC_MUC_ROLE_MODERATOR);
    XT_EQ_INT(f.ev.role, XMPPC_MUC_ROLE_PARTICIPANT);
    XT_EQ_INT(f.ev.is_self, 0);
    XT_EQ_INT(f.ev.has_stanza, 1);

    /* Admin to member. */
    memset(&f.ev, 0, sizeof f.ev);
    occupant(&f, "secondwitch", "member", "participant",
             "wiccarocks@shakespeare.lit/laptop", NULL);
    XT_EQ_STR(f.ev.log, "affil secondwitch;");
    XT_EQ_INT(f.ev.old_affil, XMPPC_MUC_AFFIL_ADMIN);
    XT_EQ_INT(f.ev.affil, XMPPC_MUC_AFFIL_MEMBER);
    const xmppc_muc_occupant *o =
        xmppc_muc_room_find_occupant(f.room, "secondwitch");
    XT_CHECK(o && xmppc_muc_occupant_affiliation(o) == XMPPC_MUC_AFFIL_MEMBER);
    XT_CHECK(o && xmppc_muc_occupant_role(o) == XMPPC_MUC_ROLE_PARTICIPANT);

    /* Show and status. */
    memset(&f.ev, 0, sizeof f.ev);
    occupant(&f, "firstwitch", "owner", "moderator",
             "crone1@shakespeare.lit/desktop",
             "<show>dnd</show><status>stirring</status>");
    XT_EQ_STR(f.ev.log, "presence firstwitch;");
    o = xmppc_muc_room_find_occupant(f.room, "firstwitch");
    XT_CHECK(o && xmppc_muc_occupant_show(o) == XMPPC_PRESENCE_DND);
    XT_EQ_STR(o ? xmppc_muc_occupant_status(o) : NULL, "stirring");

    /* Our own voice revoked. */
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<presence from='" SELF "'>" X_USER
                "<item affiliation='member' role='visitor' jid='" OWN "'/>"
                "<status code='110'/></x></presence>");
    XT_EQ_STR(f.ev.log, "role thirdwitch*;");
    XT_EQ_INT(f.ev.old_role, XMPPC_MUC_ROLE_PARTICIPANT);
    const xmppc_muc_occupant *self = xmppc_muc_room_get_self(f.room);
    XT_CHECK(self && xmppc_muc_occupant_role(self) == XMPPC_MUC_ROLE_VISITOR);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);

    /* The same presence again changes nothing. */
    memset(&f.ev, 0, sizeof f.ev);
    occupant(&f, "firstwitch", "owner", "moderator",
             "crone1@shakespeare.lit/desktop",
             "<show>dnd</show><status>stirring</status>");
    XT_EQ_INT(occurrences(f.ev.log, "role "), 0);
    XT_EQ_INT(occurrences(f.ev.log, "affil "), 0);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 4);

    /* A newcomer. */
    memset(&f.ev, 0, sizeof f.ev);
    occupant(&f, "hag66", "none", "participant", NULL, NULL);
    XT_EQ_STR(f.ev.log, "joined hag66;");
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 5);
    teardown(&f);
}

static void test_removals_of_others(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    occupant_full(&f, "unavailable", "secondwitch", "admin", "none", NULL, NULL,
                  "<status code='307'/>");
    XT_EQ_STR(f.ev.log, "kicked secondwitch;");
    /* Again with actor and reason inside the item, as XEP-0045 has it. */
    occupant(&f, "hag66", "none", "participant", NULL, NULL);
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<presence from='" ROOM "/hag66' type='unavailable'>" X_USER
                "<item affiliation='none' role='none'><actor "
                "nick='firstwitch'/><reason>Avaunt, you cullion!</reason>"
                "</item><status code='307'/></x></presence>");
    XT_EQ_STR(f.ev.log, "kicked hag66;");
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_KICKED);
    XT_EQ_INT(f.ev.is_self, 0);
    XT_EQ_STR(f.ev.actor, "firstwitch");
    XT_EQ_STR(f.ev.reason, "Avaunt, you cullion!");
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "hag66") == NULL);
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "secondwitch") == NULL);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 3);

    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<presence from='" ROOM "/hecate' type='unavailable'>" X_USER
                "<item affiliation='outcast' role='none'><actor "
                "jid='crone1@shakespeare.lit'/><reason>Treason</reason>"
                "</item><status code='301'/></x></presence>");
    XT_EQ_STR(f.ev.log, "banned hecate;");
    XT_EQ_STR(f.ev.actor, "crone1@shakespeare.lit");
    XT_EQ_STR(f.ev.reason, "Treason");
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, "hecate") == NULL);

    static const struct {
        const char *code, *expect;
    } removals[] = {{"321", "rm-affil wyrd;"},
                    {"322", "rm-members wyrd;"},
                    {"332", "rm-shutdown wyrd;"},
                    {NULL, "left wyrd;"}};
    for (size_t i = 0; i < sizeof removals / sizeof removals[0]; i++) {
        char status[64] = "";
        if (removals[i].code)
            snprintf(status, sizeof status, "<status code='%s'/>",
                     removals[i].code);
        occupant(&f, "wyrd", "member", "participant", NULL, NULL);
        memset(&f.ev, 0, sizeof f.ev);
        occupant_full(&f, "unavailable", "wyrd", "none", "none", NULL, NULL,
                      status);
        XT_EQ_STR(f.ev.log, removals[i].expect);
        XT_CHECK(xmppc_muc_room_find_occupant(f.room, "wyrd") == NULL);
    }
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 2);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    teardown(&f);
}

/* We are removed: each way puts the room in LEFT, no rejoin. */
static void test_removed_self(void)
{
    static const struct {
        const char *code;
        xmppc_muc_event_kind kind;
    } cases[] = {{"307", XMPPC_MUC_EV_KICKED},
                 {"301", XMPPC_MUC_EV_BANNED},
                 {"321", XMPPC_MUC_EV_REMOVED_AFFILIATION},
                 {"322", XMPPC_MUC_EV_REMOVED_MEMBERS_ONLY},
                 {"332", XMPPC_MUC_EV_REMOVED_SHUTDOWN}};
    fixture f;
    setup(&f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        join_room(&f);
        int n = f.out.count;
        char xml[1024];
        snprintf(xml, sizeof xml,
                 "<presence from='" SELF "' to='" OWN
                 "' type='unavailable'>" X_USER
                 "<item affiliation='none' role='none'><actor "
                 "nick='firstwitch'/><reason>Avaunt</reason></item>"
                 "<status code='110'/><status code='%s'/></x></presence>",
                 cases[i].code);
        INJECT(f.c, xml);
        XT_EQ_INT(f.ev.count, 1);
        XT_EQ_INT(f.ev.kind, cases[i].kind);
        XT_EQ_INT(f.ev.is_self, 1);
        XT_EQ_STR(f.ev.actor, "firstwitch");
        XT_EQ_STR(f.ev.reason, "Avaunt");
        XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
        XT_CHECK(xmppc_muc_room_get_self(f.room) == NULL);
        XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 0);
        XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);
        XT_EQ_INT(f.out.count, n); /* no automatic rejoin */
        if (xt_current_failed)
            printf("#   (status %s)\n", cases[i].code);
    }
    /* Nothing is sent to a room we are no longer in. */
    XT_EQ_INT(xmppc_muc_room_send_text(f.room, "hello?", NULL), XMPPC_ESTATE);
    teardown(&f);
}

/* ---- destruction --------------------------------------------------------- */

static void test_destroyed(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    INJECT(f.c,
           "<presence from='" SELF "' to='" OWN "' type='unavailable'>" X_USER
           "<item affiliation='none' role='none'/><status code='110'/>"
           "<destroy jid='chamber@chat.shakespeare.lit'><reason>Macbeth "
           "doth come.</reason></destroy></x></presence>");
    XT_EQ_INT(occurrences(f.ev.log, "destroyed "), 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_DESTROYED);
    XT_EQ_STR(f.ev.alternate, "chamber@chat.shakespeare.lit");
    XT_EQ_STR(f.ev.reason, "Macbeth doth come.");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);

    /* XEP-0045 example 201: no status 110, no alternate. */
    join_room(&f);
    INJECT(f.c,
           "<presence from='" SELF "' to='" OWN "' type='unavailable'>" X_USER
           "<item affiliation='none' role='none'/><destroy><reason>"
           "Gone</reason></destroy></x></presence>");
    XT_EQ_INT(occurrences(f.ev.log, "destroyed "), 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_DESTROYED);
    XT_EQ_STR(f.ev.alternate, NIL);
    XT_EQ_STR(f.ev.reason, "Gone");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    teardown(&f);
}

static void test_destroy_request(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    result r = {0};
    XT_EQ_INT(xmppc_muc_room_destroy(f.room, "Macbeth doth come.",
                                     "chamber@chat.shakespeare.lit", on_done,
                                     &r, on_done_destroy),
              0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='set'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_OWNER "'><destroy ");
    SENT(f.out, "jid='chamber@chat.shakespeare.lit'");
    SENT(f.out, "<reason>Macbeth doth come.</reason></destroy></query>");
    REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);

    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_destroy(f.room, NULL, NULL, on_done, &r, NULL), 0);
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_OWNER "'><destroy/></query>");
    REPLY(&f, "<iq type='error' from='" ROOM "' id='%s'><error type='auth'>"
              "<forbidden xmlns='" NS_STANZAS "'/></error></iq>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.cond, "forbidden");

    memset(&r, 0, sizeof r);
    int n = f.out.count;
    XT_EQ_INT(xmppc_muc_room_destroy(f.room, NULL, "@bad", on_done, &r,
                                     on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(r.calls + r.destroyed, 0);

    /* A room we are not in may be destroyed too. */
    xmppc_muc_room *other = NULL;
    XT_EQ_INT(xmppc_muc_room_get(f.muc, "heath@chat.shakespeare.lit", &other),
              0);
    XT_EQ_INT(xmppc_muc_room_destroy(other, NULL, NULL, NULL, NULL, NULL), 0);
    SENT(f.out, "to='heath@chat.shakespeare.lit'");
    SENT(f.out, "<destroy");
    xmppc_muc_room_unref(other);
    teardown(&f);
}

/* ---- moderation and administration -------------------------------------- */

static void test_moderation_requests(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    result r = {0};
    XT_EQ_INT(xmppc_muc_room_kick(f.room, "hecate", "Avaunt", on_done, &r,
                                  on_done_destroy),
              0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='set'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_ADMIN "'><item ");
    SENT(f.out, "nick='hecate'");
    SENT(f.out, "role='none'");
    SENT(f.out, "<reason>Avaunt</reason></item></query>");
    NOT_SENT(f.out, "affiliation=");
    REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);

    static const struct {
        xmppc_muc_role role;
        const char *attr;
    } roles[] = {{XMPPC_MUC_ROLE_VISITOR, "role='visitor'"},
                 {XMPPC_MUC_ROLE_PARTICIPANT, "role='participant'"},
                 {XMPPC_MUC_ROLE_MODERATOR, "role='moderator'"},
                 {XMPPC_MUC_ROLE_NONE, "role='none'"}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        memset(&r, 0, sizeof r);
        XT_EQ_INT(xmppc_muc_room_set_role(f.room, "hecate", roles[i].role, NULL,
                                          on_done, &r, NULL),
                  0);
        SENT(f.out, "nick='hecate'");
        SENT(f.out, roles[i].attr);
        NOT_SENT(f.out, "<reason");
        REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
        XT_EQ_INT(r.calls, 1);
    }

    /* Refused. */
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_set_role(f.room, "firstwitch",
                                      XMPPC_MUC_ROLE_VISITOR, "Hush", on_done,
                                      &r, NULL),
              0);
    REPLY(&f, "<iq type='error' from='" ROOM "' id='%s'><error type='cancel'>"
              "<not-allowed xmlns='" NS_STANZAS "'/></error></iq>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.cond, "not-allowed");

    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_ban(f.room, "earlofcambridge@shakespeare.lit",
                                 "Treason", on_done, &r, on_done_destroy),
              0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='set'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_ADMIN "'><item ");
    SENT(f.out, "affiliation='outcast'");
    SENT(f.out, "jid='earlofcambridge@shakespeare.lit'");
    SENT(f.out, "<reason>Treason</reason></item></query>");
    NOT_SENT(f.out, "role=");
    REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);

    static const struct {
        xmppc_muc_affiliation affil;
        const char *attr;
    } affils[] = {{XMPPC_MUC_AFFIL_MEMBER, "affiliation='member'"},
                  {XMPPC_MUC_AFFIL_ADMIN, "affiliation='admin'"},
                  {XMPPC_MUC_AFFIL_OWNER, "affiliation='owner'"},
                  {XMPPC_MUC_AFFIL_NONE, "affiliation='none'"},
                  {XMPPC_MUC_AFFIL_OUTCAST, "affiliation='outcast'"}};
    for (size_t i = 0; i < sizeof affils / sizeof affils[0]; i++) {
        memset(&r, 0, sizeof r);
        XT_EQ_INT(xmppc_muc_room_set_affiliation(
                      f.room, "hecate@shakespeare.lit", affils[i].affil, NULL,
                      on_done, &r, NULL),
                  0);
        SENT(f.out, "jid='hecate@shakespeare.lit'");
        SENT(f.out, affils[i].attr);
        NOT_SENT(f.out, "<reason");
        REPLY(&f, "<iq type='result' from='" ROOM "' id='%s'/>");
        XT_EQ_INT(r.calls, 1);
    }

    /* Error reply: the last owner cannot step down. */
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_set_affiliation(f.room, "crone1@shakespeare.lit",
                                             XMPPC_MUC_AFFIL_ADMIN, NULL,
                                             on_done, &r, on_done_destroy),
              0);
    REPLY(&f, "<iq type='error' from='" ROOM "' id='%s'><error type='cancel'>"
              "<conflict xmlns='" NS_STANZAS "'/></error></iq>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.cond, "conflict");
    XT_EQ_INT(r.destroyed, 1);

    /* Refused calls send nothing and call nothing. */
    memset(&r, 0, sizeof r);
    int n = f.out.count;
    XT_EQ_INT(xmppc_muc_room_set_role(f.room, NULL, XMPPC_MUC_ROLE_VISITOR,
                                      NULL, on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_role(f.room, "hecate", (xmppc_muc_role)9, NULL,
                                      on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_muc_room_kick(f.room, NULL, NULL, on_done, &r, on_done_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_affiliation(f.room, "@bad",
                                             XMPPC_MUC_AFFIL_MEMBER, NULL,
                                             on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_affiliation(f.room, "hecate@shakespeare.lit",
                                             (xmppc_muc_affiliation)9, NULL,
                                             on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_muc_room_ban(f.room, NULL, NULL, on_done, &r, on_done_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_role(NULL, "hecate", XMPPC_MUC_ROLE_VISITOR,
                                      NULL, on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(r.calls + r.destroyed, 0);

    /* Roles need the room joined; affiliations only the connection. */
    xmppc_muc_room *other = NULL;
    XT_EQ_INT(xmppc_muc_room_get(f.muc, "heath@chat.shakespeare.lit", &other),
              0);
    XT_EQ_INT(xmppc_muc_room_set_role(other, "hecate", XMPPC_MUC_ROLE_VISITOR,
                                      NULL, on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(r.calls + r.destroyed, 0);
    XT_EQ_INT(xmppc_muc_room_set_affiliation(other, "hecate@shakespeare.lit",
                                             XMPPC_MUC_AFFIL_MEMBER, NULL, NULL,
                                             NULL, NULL),
              0);
    SENT(f.out, "to='heath@chat.shakespeare.lit'");
    SENT(f.out, "affiliation='member'");
    xmppc_muc_room_unref(other);
    teardown(&f);
}

typedef struct affils {
    int calls, code;
    size_t count;
    int entries_null;
    char cond[64];
    char jid[4][128], nick[4][64], reason[4][64];
    int affil[4];
    int destroyed;
} affils;

static void on_affils(xmppc_muc_room *room,
                      const xmppc_muc_affiliation_entry *entries, size_t count,
                      const xmppc_error *err, void *ud)
{
    (void)room;
    affils *a = ud;
    a->calls++;
    a->code = err ? err->code : 0;
    keep(a->cond, sizeof a->cond, err ? err->condition : NULL);
    a->count = count;
    a->entries_null = entries == NULL;
    for (size_t i = 0; entries && i < count && i < 4; i++) {
        keep(a->jid[i], sizeof a->jid[i], entries[i].jid);
        keep(a->nick[i], sizeof a->nick[i], entries[i].nick);
        keep(a->reason[i], sizeof a->reason[i], entries[i].reason);
        a->affil[i] = (int)entries[i].affiliation;
    }
}

static void on_affils_destroy(void *ud)
{
    ((affils *)ud)->destroyed++;
}

static void test_get_affiliations(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    affils a = {0};
    XT_EQ_INT(xmppc_muc_room_get_affiliations(f.room, XMPPC_MUC_AFFIL_OUTCAST,
                                              on_affils, &a, on_affils_destroy),
              0);
    STARTS(f.out, "<iq");
    SENT(f.out, "type='get'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<query xmlns='" XMPPC_NS_MUC_ADMIN "'><item "
                "affiliation='outcast'/></query>");
    REPLY(&f, "<iq type='result' from='" ROOM
              "' id='%s'><query xmlns='" XMPPC_NS_MUC_ADMIN
              "'><item affiliation='outcast' "
              "jid='earlofcambridge@shakespeare.lit'><reason>Treason</reason>"
              "</item><item affiliation='outcast' jid='lordscroop@shakespeare"
              ".lit'/><item affiliation='outcast'/></query></iq>");
    XT_EQ_INT(a.calls, 1);
    XT_EQ_INT(a.destroyed, 1);
    XT_EQ_INT(a.code, 0);
    XT_EQ_INT(a.count, 2); /* the item without a JID is left out */
    XT_EQ_STR(a.jid[0], "earlofcambridge@shakespeare.lit");
    XT_EQ_STR(a.reason[0], "Treason");
    XT_EQ_STR(a.nick[0], NIL);
    XT_EQ_INT(a.affil[0], XMPPC_MUC_AFFIL_OUTCAST);
    XT_EQ_STR(a.jid[1], "lordscroop@shakespeare.lit");
    XT_EQ_STR(a.reason[1], NIL);
    XT_EQ_INT(a.affil[1], XMPPC_MUC_AFFIL_OUTCAST);
    for (size_t i = 0; i < a.count && i < 4; i++)
        XT_CHECK(strcmp(a.jid[i], NIL) != 0);

    memset(&a, 0, sizeof a);
    XT_EQ_INT(xmppc_muc_room_get_affiliations(f.room, XMPPC_MUC_AFFIL_MEMBER,
                                              on_affils, &a, NULL),
              0);
    SENT(f.out, "<item affiliation='member'/>");
    REPLY(&f, "<iq type='result' from='" ROOM
              "' id='%s'><query xmlns='" XMPPC_NS_MUC_ADMIN
              "'><item affiliation='member' jid='hag66@shakespeare.lit' "
              "nick='thirdwitch' role='participant'/></query></iq>");
    XT_EQ_INT(a.calls, 1);
    XT_EQ_INT(a.count, 1);
    XT_EQ_STR(a.jid[0], "hag66@shakespeare.lit");
    XT_EQ_STR(a.nick[0], "thirdwitch");
    XT_EQ_INT(a.affil[0], XMPPC_MUC_AFFIL_MEMBER);

    memset(&a, 0, sizeof a);
    XT_EQ_INT(xmppc_muc_room_get_affiliations(f.room, XMPPC_MUC_AFFIL_OWNER,
                                              on_affils, &a, NULL),
              0);
    SENT(f.out, "<item affiliation='owner'/>");
    REPLY(&f, "<iq type='result' from='" ROOM
              "' id='%s'><query xmlns='" XMPPC_NS_MUC_ADMIN "'/></iq>");
    XT_EQ_INT(a.calls, 1);
    XT_EQ_INT(a.code, 0);
    XT_EQ_INT(a.count, 0);

    memset(&a, 0, sizeof a);
    XT_EQ_INT(xmppc_muc_room_get_affiliations(f.room, XMPPC_MUC_AFFIL_ADMIN,
                                              on_affils, &a, NULL),
              0);
    SENT(f.out, "<item affiliation='admin'/>");
    REPLY(&f, "<iq type='error' from='" ROOM "' id='%s'><error type='auth'>"
              "<forbidden xmlns='" NS_STANZAS "'/></error></iq>");
    XT_EQ_INT(a.calls, 1);
    XT_EQ_INT(a.code, XMPPC_ESTANZA);
    XT_EQ_STR(a.cond, "forbidden");
    XT_EQ_INT(a.entries_null, 1);
    XT_EQ_INT(a.count, 0);

    memset(&a, 0, sizeof a);
    int n = f.out.count;
    XT_EQ_INT(xmppc_muc_room_get_affiliations(f.room, XMPPC_MUC_AFFIL_NONE,
                                              on_affils, &a, on_affils_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_get_affiliations(f.room, XMPPC_MUC_AFFIL_MEMBER,
                                              NULL, &a, on_affils_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_get_affiliations(NULL, XMPPC_MUC_AFFIL_MEMBER,
                                              on_affils, &a, on_affils_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(a.calls + a.destroyed, 0);
    teardown(&f);
}

/* ---- messages ----------------------------------------------------------- */

static void test_messages(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    INJECT(f.c, "<message from='" ROOM "/firstwitch' to='" OWN "' "
                "type='groupchat' id='m1'><body>Thrice the brinded cat hath "
                "mewed.</body></message>");
    XT_EQ_INT(f.msg.count, 1);
    XT_CHECK(f.msg.room == f.room);
    XT_EQ_STR(f.msg.nick, "firstwitch");
    XT_EQ_STR(f.msg.sender, "firstwitch");
    XT_EQ_INT(f.msg.sender_self, 0);
    XT_EQ_INT(f.msg.flags, 0);
    XT_EQ_STR(f.msg.body, "Thrice the brinded cat hath mewed.");
    XT_EQ_STR(f.msg.stamp, NIL);

    /* History from someone no longer present. */
    INJECT(f.c, "<message from='" ROOM "/oldcrone' type='groupchat' id='h1'>"
                "<body>Thrice and once the hedge-pig whined.</body><delay "
                "xmlns='urn:xmpp:delay' from='" ROOM "' "
                "stamp='2002-10-13T23:58:37Z'/></message>");
    XT_EQ_INT(f.msg.count, 2);
    XT_EQ_INT(f.msg.flags, XMPPC_MUC_MSG_DELAYED);
    XT_EQ_STR(f.msg.nick, "oldcrone");
    XT_EQ_STR(f.msg.sender, NIL);
    XT_EQ_STR(f.msg.stamp, "2002-10-13T23:58:37Z");
    XT_EQ_STR(f.msg.delay_from, ROOM);

    /* From the room itself. */
    INJECT(f.c, "<message from='" ROOM "' type='groupchat' id='r1'>"
                "<body>The room is now open.</body></message>");
    XT_EQ_INT(f.msg.count, 3);
    XT_EQ_STR(f.msg.nick, NIL);
    XT_EQ_STR(f.msg.sender, NIL);
    XT_EQ_INT(f.msg.flags, 0);

    /* Our own, reflected. */
    char *id = NULL;
    XT_EQ_INT(xmppc_muc_room_send_text(f.room, "Harpier cries", &id), 0);
    STARTS(f.out, "<message");
    SENT(f.out, "type='groupchat'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<body>Harpier cries</body>");
    XT_CHECK(id != NULL);
    XT_EQ_STR(id, last_id(&f.out));
    XT_EQ_INT(f.msg.count, 3);
    char xml[1024];
    snprintf(xml, sizeof xml,
             "<message from='" SELF "' type='groupchat' id='%s'><body>"
             "Harpier cries</body></message>",
             id ? id : "x");
    INJECT(f.c, xml);
    XT_EQ_INT(f.msg.count, 4);
    XT_CHECK(f.msg.flags & XMPPC_MUC_MSG_OWN);
    XT_CHECK(!(f.msg.flags & XMPPC_MUC_MSG_PRIVATE));
    XT_EQ_STR(f.msg.nick, NICK);
    XT_EQ_INT(f.msg.sender_self, 1);
    xmppc_free(id);

    /* Private. */
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='chat' id='p1'>"
                "<body>psst</body><x xmlns='" NS_USER "'/></message>");
    XT_EQ_INT(f.msg.count, 5);
    XT_EQ_INT(f.msg.flags, XMPPC_MUC_MSG_PRIVATE);
    XT_EQ_STR(f.msg.nick, "firstwitch");
    XT_EQ_STR(f.msg.sender, "firstwitch");
    XT_EQ_STR(f.msg.body, "psst");

    /* Not for the message listeners: no body, other senders. */
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat'>"
                "<composing xmlns='http://jabber.org/protocol/chatstates'/>"
                "</message>");
    INJECT(f.c, "<message from='romeo@example.net/orchard' type='groupchat' "
                "id='x1'><body>spoof</body></message>");
    INJECT(f.c, "<message from='heath@chat.shakespeare.lit/firstwitch' "
                "type='groupchat' id='x2'><body>other room</body></message>");
    INJECT(f.c, "<message from='chat.shakespeare.lit' type='groupchat' "
                "id='x3'><body>service</body></message>");
    INJECT(f.c, "<message from='romeo@example.net/orchard' type='chat' "
                "id='x4'><body>hi</body><x xmlns='" NS_USER "'/></message>");
    INJECT(f.c, "<message from='coven@chat.shakespeare.lit.evil.example/"
                "firstwitch' type='groupchat' id='x5'><body>evil</body>"
                "</message>");
    XT_EQ_INT(f.msg.count, 5);
    XT_CHECK(strstr(f.ev.log, "subject") == NULL);

    /* Our message refused by the room. */
    id = NULL;
    XT_EQ_INT(xmppc_muc_room_send_text(f.room, "Harpier cries", &id), 0);
    memset(&f.ev, 0, sizeof f.ev);
    snprintf(
        xml, sizeof xml,
        "<message from='" ROOM "' type='error' id='%s'><body>Harpier "
        "cries</body><error type='modify'><not-acceptable xmlns='" NS_STANZAS
        "'/></error></message>",
        id ? id : "x");
    INJECT(f.c, xml);
    XT_EQ_INT(f.msg.count, 5);
    XT_EQ_INT(f.ev.count, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_ERROR);
    XT_EQ_STR(f.ev.cond, "not-acceptable");
    xmppc_free(id);

    /* Configuration change announced. */
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<message from='" ROOM "' type='groupchat' id='c1'>" X_USER
                "<status code='104'/></x></message>");
    XT_EQ_INT(f.ev.count, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_CONFIG_CHANGED);
    XT_EQ_INT(f.ev.st104, 1);
    XT_EQ_INT(f.msg.count, 5);

    /* Sending private and prepared messages. */
    XT_EQ_INT(xmppc_muc_room_send_private(f.room, "firstwitch", "psst"), 0);
    STARTS(f.out, "<message");
    SENT(f.out, "type='chat'");
    SENT(f.out, "to='" ROOM "/firstwitch'");
    SENT(f.out, "<body>psst</body>");
    SENT(f.out, "<x xmlns='" NS_USER "'/>");

    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_message_new(&m, "chat", "romeo@example.net", "prepared"),
              0);
    XT_EQ_INT(xmppc_muc_room_send_message(f.room, m), 0);
    STARTS(f.out, "<message");
    SENT(f.out, "type='groupchat'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<body>prepared</body>");
    SENT(f.out, " id='");
    NOT_SENT(f.out, "romeo");
    XT_EQ_STR(xmppc_message_get_body(m), "prepared"); /* not consumed */
    xmppc_stanza_unref(m);
    teardown(&f);
}

/* ---- subject ----------------------------------------------------------- */

static void test_subject(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    INJECT(f.c, "<message from='" ROOM "/secondwitch' type='groupchat' "
                "id='s1'><subject>Fire Burn and Cauldron Bubble!</subject>"
                "</message>");
    XT_EQ_INT(f.ev.count, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_SUBJECT);
    XT_EQ_STR(f.ev.subject, "Fire Burn and Cauldron Bubble!");
    XT_EQ_STR(f.ev.actor, "secondwitch");
    XT_EQ_STR(xmppc_muc_room_get_subject(f.room),
              "Fire Burn and Cauldron Bubble!");
    XT_EQ_INT(f.msg.count, 0);

    /* Set by the room. */
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<message from='" ROOM "' type='groupchat' id='s2'>"
                "<subject>Cauldron</subject></message>");
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_SUBJECT);
    XT_EQ_STR(f.ev.actor, NIL);
    XT_EQ_STR(xmppc_muc_room_get_subject(f.room), "Cauldron");

    /* A body as well: a message, not a subject change (XEP-0045 §8.1). */
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat' "
                "id='s3'><subject>Not a change</subject><body>hello</body>"
                "</message>");
    XT_EQ_INT(f.msg.count, 1);
    XT_EQ_INT(f.ev.count, 0);
    XT_EQ_STR(xmppc_muc_room_get_subject(f.room), "Cauldron");

    /* Spoofed. */
    INJECT(f.c, "<message from='romeo@example.net/orchard' type='groupchat' "
                "id='s4'><subject>spoof</subject></message>");
    XT_EQ_INT(f.ev.count, 0);
    XT_EQ_STR(xmppc_muc_room_get_subject(f.room), "Cauldron");

    /* Cleared. */
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat' "
                "id='s5'><subject/></message>");
    XT_EQ_INT(f.ev.count, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_SUBJECT);
    XT_EQ_STR(f.ev.subject, "");

    /* Ours, reflected. */
    result r = {0};
    memset(&f.ev, 0, sizeof f.ev);
    XT_EQ_INT(xmppc_muc_room_set_subject(f.room, "Double, double toil", on_done,
                                         &r, on_done_destroy),
              0);
    STARTS(f.out, "<message");
    SENT(f.out, "type='groupchat'");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, "<subject>Double, double toil</subject>");
    NOT_SENT(f.out, "<body");
    XT_EQ_INT(r.calls, 0);
    REPLY(&f, "<message from='" SELF "' type='groupchat' id='%s'><subject>"
              "Double, double toil</subject></message>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_SUBJECT);
    XT_EQ_STR(f.ev.actor, NICK);
    XT_EQ_STR(xmppc_muc_room_get_subject(f.room), "Double, double toil");

    /* Refused. */
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_set_subject(f.room, "Mine now", on_done, &r, NULL),
              0);
    REPLY(&f, "<message from='" ROOM "' type='error' id='%s'><subject>Mine "
              "now</subject><error type='auth'><forbidden xmlns='" NS_STANZAS
              "'/></error></message>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ESTANZA);
    XT_EQ_STR(r.cond, "forbidden");
    XT_EQ_STR(xmppc_muc_room_get_subject(f.room), "Double, double toil");
    teardown(&f);
}

/* ---- invitations -------------------------------------------------------- */

typedef struct invlog {
    int count, destroyed, direct, has_stanza;
    char room[128], inviter[128], reason[128], password[64];
    xmppc_muc *muc;
} invlog;

static void on_invite(xmppc_muc *muc, const xmppc_muc_invitation *inv, void *ud)
{
    invlog *l = ud;
    l->count++;
    l->muc = muc;
    keep(l->room, sizeof l->room, xmppc_muc_invitation_room(inv));
    keep(l->inviter, sizeof l->inviter, xmppc_muc_invitation_inviter(inv));
    keep(l->reason, sizeof l->reason, xmppc_muc_invitation_reason(inv));
    keep(l->password, sizeof l->password, xmppc_muc_invitation_password(inv));
    l->direct = xmppc_muc_invitation_is_direct(inv);
    l->has_stanza = xmppc_muc_invitation_stanza(inv) != NULL;
}

static void on_invite_destroy(void *ud)
{
    ((invlog *)ud)->destroyed++;
}

static void test_invitations_received(void)
{
    fixture f;
    setup(&f);
    invlog l = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(
        xmppc_muc_on_invitation(f.muc, &h, on_invite, &l, on_invite_destroy),
        0);
    /* Mediated. */
    INJECT(f.c,
           "<message from='" ROOM "' to='juliet@example.com' id='i1'>" X_USER
           "<invite from='crone1@shakespeare.lit/desktop'><reason>Hey "
           "Hecate, this is the place for all good witches!</reason>"
           "</invite><password>cauldronburn</password></x></message>");
    XT_EQ_INT(l.count, 1);
    XT_CHECK(l.muc == f.muc);
    XT_EQ_INT(l.direct, 0);
    XT_EQ_STR(l.room, ROOM);
    XT_EQ_STR(l.inviter, "crone1@shakespeare.lit/desktop");
    XT_EQ_STR(l.reason, "Hey Hecate, this is the place for all good witches!");
    XT_EQ_STR(l.password, "cauldronburn");
    XT_EQ_INT(l.has_stanza, 1);

    /* Direct. */
    INJECT(f.c, "<message from='crone1@shakespeare.lit/desktop' "
                "to='juliet@example.com' id='i2'><x xmlns='" XMPPC_NS_CONFERENCE
                "' jid='darkcave@macbeth.shakespeare.lit' "
                "password='cauldronburn' reason='Hey Hecate'/></message>");
    XT_EQ_INT(l.count, 2);
    XT_EQ_INT(l.direct, 1);
    XT_EQ_STR(l.room, "darkcave@macbeth.shakespeare.lit");
    XT_EQ_STR(l.inviter, "crone1@shakespeare.lit/desktop");
    XT_EQ_STR(l.reason, "Hey Hecate");
    XT_EQ_STR(l.password, "cauldronburn");

    INJECT(f.c,
           "<message from='crone1@shakespeare.lit/desktop' id='i3'>"
           "<x xmlns='" XMPPC_NS_CONFERENCE "' jid='" ROOM "'/></message>");
    XT_EQ_INT(l.count, 3);
    XT_EQ_INT(l.direct, 1);
    XT_EQ_STR(l.room, ROOM);
    XT_EQ_STR(l.reason, NIL);
    XT_EQ_STR(l.password, NIL);

    /* Not invitations. */
    INJECT(f.c, "<message from='crone1@shakespeare.lit/desktop' id='i4'>"
                "<x xmlns='" XMPPC_NS_CONFERENCE "' jid='@bad'/></message>");
    INJECT(f.c, "<message from='crone1@shakespeare.lit/desktop' id='i5'>"
                "<x xmlns='" XMPPC_NS_CONFERENCE "'/></message>");
    INJECT(f.c, "<message from='" ROOM "' id='i6'>" X_USER "<status "
                "code='104'/></x></message>");
    INJECT(f.c, "<message from='" ROOM "' id='i7'>" X_USER
                "<invite/></x></message>");
    XT_EQ_INT(l.count, 3);

    XT_EQ_INT(l.destroyed, 0);
    xmppc_handler_remove(h);
    XT_EQ_INT(l.destroyed, 1);
    INJECT(f.c,
           "<message from='crone1@shakespeare.lit/desktop' id='i8'>"
           "<x xmlns='" XMPPC_NS_CONFERENCE "' jid='" ROOM "'/></message>");
    XT_EQ_INT(l.count, 3);
    xmppc_handler_free(h);
    XT_EQ_INT(l.destroyed, 1);
    teardown(&f);
}

/* Invitation listeners: every one hears it; destroy runs once, also
 * when the connection goes. */
static void test_invitation_listeners(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_muc *muc = xmppc_muc_get(c);
    invlog a = {0}, b = {0};
    xmppc_handler *h = NULL;
    XT_EQ_INT(
        xmppc_muc_on_invitation(muc, &h, on_invite, &a, on_invite_destroy), 0);
    XT_EQ_INT(
        xmppc_muc_on_invitation(muc, NULL, on_invite, &b, on_invite_destroy),
        0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c,
                  "<message from='crone1@shakespeare.lit/desktop'><x "
                  "xmlns='" XMPPC_NS_CONFERENCE "' jid='" ROOM "'/></message>"),
              0);
    XT_EQ_INT(a.count, 1);
    XT_EQ_INT(b.count, 1);
    xmppc_handler_remove(h);
    xmppc_handler_remove(h);
    XT_EQ_INT(a.destroyed, 1);
    xmppc_handler_free(h);
    XT_EQ_INT(a.destroyed, 1);
    XT_EQ_INT(b.destroyed, 0);
    finish(c);
    XT_EQ_INT(b.destroyed, 1);
}

static void test_invitations_sent(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    XT_EQ_INT(
        xmppc_muc_room_invite(f.room, "hecate@shakespeare.lit", "Hey Hecate"),
        0);
    STARTS(f.out, "<message");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, X_USER "<invite to='hecate@shakespeare.lit'><reason>Hey "
                       "Hecate</reason></invite></x>");
    NOT_SENT(f.out, "type='groupchat'");
    XT_EQ_INT(xmppc_muc_room_invite(f.room, "hecate@shakespeare.lit", NULL), 0);
    SENT(f.out, X_USER "<invite to='hecate@shakespeare.lit'/></x>");

    XT_EQ_INT(xmppc_muc_invite_direct(f.muc, ROOM, "hecate@shakespeare.lit",
                                      "Join us", "cauldronburn"),
              0);
    STARTS(f.out, "<message");
    SENT(f.out, "to='hecate@shakespeare.lit'");
    SENT(f.out, "<x xmlns='" XMPPC_NS_CONFERENCE "'");
    SENT(f.out, "jid='" ROOM "'");
    SENT(f.out, "reason='Join us'");
    SENT(f.out, "password='cauldronburn'");
    XT_EQ_INT(xmppc_muc_invite_direct(f.muc, ROOM, "hecate@shakespeare.lit",
                                      NULL, NULL),
              0);
    SENT(f.out, "jid='" ROOM "'");
    NOT_SENT(f.out, "reason=");
    NOT_SENT(f.out, "password=");

    XT_EQ_INT(xmppc_muc_decline(f.muc, ROOM, "crone1@shakespeare.lit/desktop",
                                "Sorry"),
              0);
    STARTS(f.out, "<message");
    SENT(f.out, "to='" ROOM "'");
    SENT(f.out, X_USER "<decline to='crone1@shakespeare.lit/desktop'><reason>"
                       "Sorry</reason></decline></x>");

    int n = f.out.count;
    XT_EQ_INT(xmppc_muc_room_invite(f.room, "@bad", NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_invite(f.room, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_invite_direct(f.muc, "@bad", "hecate@shakespeare.lit",
                                      NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_invite_direct(f.muc, ROOM, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_invite_direct(NULL, ROOM, "hecate@shakespeare.lit",
                                      NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_decline(f.muc, ROOM, "@bad", NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_decline(f.muc, NULL, "crone1@shakespeare.lit", NULL),
              XMPPC_EINVAL);
    xmppc_muc_room *other = NULL;
    XT_EQ_INT(xmppc_muc_room_get(f.muc, "heath@chat.shakespeare.lit", &other),
              0);
    XT_EQ_INT(xmppc_muc_room_invite(other, "hecate@shakespeare.lit", NULL),
              XMPPC_ESTATE);
    xmppc_muc_room_unref(other);
    XT_EQ_INT(f.out.count, n);

    xmppc__conn_test_disconnect(f.c);
    XT_EQ_INT(xmppc_muc_invite_direct(f.muc, ROOM, "hecate@shakespeare.lit",
                                      NULL, NULL),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_decline(f.muc, ROOM, "crone1@shakespeare.lit", NULL),
              XMPPC_ESTATE);
    teardown(&f);
}

static void test_decline_received(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    INJECT(f.c, "<message from='" ROOM "' to='" OWN "' id='d1'>" X_USER
                "<decline from='hecate@shakespeare.lit'><reason>Sorry, too "
                "busy right now.</reason></decline></x></message>");
    XT_EQ_INT(f.ev.count, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_DECLINED);
    XT_EQ_STR(f.ev.actor, "hecate@shakespeare.lit");
    XT_EQ_STR(f.ev.reason, "Sorry, too busy right now.");
    XT_EQ_INT(f.msg.count, 0);

    /* Not from the room: ignored. */
    INJECT(f.c, "<message from='romeo@example.net/orchard' id='d2'>" X_USER
                "<decline from='hecate@shakespeare.lit'/></x></message>");
    XT_EQ_INT(f.ev.count, 1);
    teardown(&f);
}

/* ---- leaving ------------------------------------------------------------- */

static void test_leave(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    result r = {0};
    XT_EQ_INT(
        xmppc_muc_room_leave(f.room, "Exeunt", on_done, &r, on_done_destroy),
        0);
    STARTS(f.out, "<presence");
    SENT(f.out, "type='unavailable'");
    SENT(f.out, "to='" SELF "'");
    SENT(f.out, "<status>Exeunt</status>");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEAVING);
    XT_EQ_INT(r.calls, 0);
    XT_EQ_INT(xmppc_muc_room_leave(f.room, NULL, NULL, NULL, NULL),
              XMPPC_ESTATE);

    occupant_full(&f, "unavailable", "firstwitch", "owner", "none", NULL, NULL,
                  NULL);
    XT_EQ_STR(f.ev.log, "left firstwitch;");
    XT_EQ_INT(r.calls, 0);
    INJECT(f.c, "<presence from='" SELF "' type='unavailable'>" X_USER
                "<item affiliation='member' role='none'/><status code='110'/>"
                "</x></presence>");
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_CHECK(r.room == f.room);
    XT_EQ_STR(f.ev.log, "left firstwitch;left thirdwitch*;");
    XT_EQ_INT(f.ev.is_self, 1);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 0);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);
    XT_EQ_INT(xmppc_muc_room_leave(f.room, NULL, NULL, NULL, NULL),
              XMPPC_ESTATE);

    /* Leave without status; the answer never comes. */
    join_room(&f);
    XT_EQ_INT(xmppc_muc_set_timeout(f.muc, 1), 0);
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_leave(f.room, NULL, on_done, &r, on_done_destroy),
              0);
    SENT(f.out, "type='unavailable'");
    NOT_SENT(f.out, "<status");
    sleep_ms(20);
    xmppc__conn_test_run_timers(f.c);
    XT_EQ_INT(r.calls, 1);
    /* "the room counts as left either way": success or the timeout. */
    XT_CHECK(r.code == 0 || r.code == XMPPC_ETIMEDOUT);
    XT_EQ_INT(r.destroyed, 1);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);
    XT_EQ_INT(xmppc_muc_set_timeout(f.muc, 30000), 0);

    /* Leaving while joining cancels the join. */
    memset(&f.join, 0, sizeof f.join);
    memset(&r, 0, sizeof r);
    XT_EQ_INT(xmppc_muc_room_join(f.room, NICK, on_done, &f.join, NULL), 0);
    XT_EQ_INT(xmppc_muc_room_leave(f.room, NULL, on_done, &r, NULL), 0);
    SENT(f.out, "type='unavailable'");
    INJECT(f.c, "<presence from='" SELF "' type='unavailable'>" X_USER
                "<item affiliation='none' role='none'/><status code='110'/>"
                "</x></presence>");
    XT_EQ_INT(f.join.calls, 1);
    XT_EQ_INT(f.join.code, XMPPC_ECANCELED);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    teardown(&f);
}

/* The manager holds a joined room the application let go of, until it is
 * left (a handle without listeners: those hold the room as well). */
static void test_room_held_while_joined(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_muc *muc = xmppc_muc_get(c);
    xmppc_muc_room *room = NULL;
    XT_EQ_INT(xmppc_muc_room_get(muc, ROOM, &room), 0);
    XT_EQ_INT(xmppc_muc_room_join(room, NICK, NULL, NULL, NULL), 0);
    XT_EQ_INT(xmppc__conn_test_inject(c, self_presence), 0);
    XT_EQ_INT(xmppc_muc_room_get_state(room), XMPPC_MUC_JOINED);
    xmppc_muc_room_unref(room);
    XT_CHECK(xmppc_muc_room_find(muc, ROOM) == room);
    XT_CHECK(xmppc_muc_joined_at(muc, 0) == room);
    result r = {0};
    XT_EQ_INT(xmppc_muc_room_leave(room, NULL, on_done, &r, on_done_destroy),
              0);
    XT_EQ_INT(xmppc__conn_test_inject(
                  c, "<presence from='" SELF "' type='unavailable'>" X_USER
                     "<item affiliation='member' role='none'/><status "
                     "code='110'/></x></presence>"),
              0);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, 0);
    XT_EQ_INT(r.destroyed, 1);
    XT_CHECK(xmppc_muc_room_find(muc, ROOM) == NULL);
    /* A fresh handle again. */
    XT_EQ_INT(xmppc_muc_room_get(muc, ROOM, &room), 0);
    XT_EQ_INT(xmppc_muc_room_get_state(room), XMPPC_MUC_LEFT);
    XT_CHECK(xmppc_muc_room_get_self(room) == NULL);
    xmppc_muc_room_unref(room);
    XT_CHECK(xmppc_muc_room_find(muc, ROOM) == NULL);
    finish(c);
}

/* ---- self-ping (XEP-0410) ------------------------------------------------ */

static const char ping_error_fmt_head[] =
    "<iq type='error' from='" SELF "' id='%s'><ping xmlns='urn:xmpp:ping'/>"
    "<error type='cancel'><";

static void ping_error(fixture *f, const char *condition)
{
    char fmt[1024];
    snprintf(fmt, sizeof fmt, "%s%s xmlns='" NS_STANZAS "'/></error></iq>",
             ping_error_fmt_head, condition);
    REPLY(f, fmt);
}

/* Waits past the idle time; checks a ping went to our occupant JID. */
static int expect_ping(fixture *f, long wait_ms)
{
    int n = f->out.count;
    sleep_ms(wait_ms);
    xmppc__conn_test_run_timers(f->c);
    XT_EQ_INT(f->out.count, n + 1);
    STARTS(f->out, "<iq");
    SENT(f->out, "type='get'");
    SENT(f->out, "to='" SELF "'");
    SENT(f->out, "<ping xmlns='urn:xmpp:ping'/>");
    return f->out.count == n + 1 && strstr(f->out.last, "urn:xmpp:ping");
}

static void test_self_ping(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_set_self_ping(f.muc, 30, 0), 0);
    join_room(&f);
    int n = f.out.count;
    xmppc__conn_test_run_timers(f.c);
    XT_EQ_INT(f.out.count, n); /* not silent long enough yet */

    /* Still joined: result, item-not-found. Unknown: remote-server-*. */
    if (expect_ping(&f, 60)) {
        REPLY(&f, "<iq type='result' from='" SELF "' id='%s'/>");
        XT_EQ_INT(f.out.count, n + 1);
        XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    }
    static const char *const harmless[] = {
        "item-not-found", "service-unavailable", "feature-not-implemented",
        "remote-server-not-found", "remote-server-timeout"};
    for (size_t i = 0; i < sizeof harmless / sizeof harmless[0]; i++) {
        if (!expect_ping(&f, 60))
            break;
        n = f.out.count;
        ping_error(&f, harmless[i]);
        XT_EQ_INT(f.out.count, n);
        XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
        if (xt_current_failed)
            printf("#   (after %s)\n", harmless[i]);
    }

    /* Dropped silently: rejoined with the same nick. */
    if (expect_ping(&f, 60)) {
        n = f.out.count;
        ping_error(&f, "not-acceptable");
        XT_EQ_INT(f.out.count, n + 1);
        STARTS(f.out, "<presence");
        SENT(f.out, "to='" SELF "'");
        SENT(f.out, MUC_X);
        NOT_SENT(f.out, "type='unavailable'");
        XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINING);
        INJECT(f.c, self_presence);
        XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    }
    teardown(&f);
}

/* Traffic from the room postpones the ping; a timeout is no verdict. */
static void test_self_ping_idle_and_timeout(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_set_self_ping(f.muc, 200, 10), 0);
    join_room(&f);
    int n = f.out.count;
    for (int i = 0; i < 8; i++) {
        sleep_ms(50);
        INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat'>"
                    "<body>still here</body></message>");
        xmppc__conn_test_run_timers(f.c);
    }
    XT_EQ_INT(f.out.count, n);
    if (expect_ping(&f, 260)) {
        sleep_ms(30); /* past the 10 ms answer timeout */
        xmppc__conn_test_run_timers(f.c);
        NOT_SENT(f.out, "<presence");
        XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    }
    teardown(&f);

    /* 0 turns it off. */
    setup(&f);
    XT_EQ_INT(xmppc_muc_set_self_ping(f.muc, 0, 0), 0);
    join_room(&f);
    n = f.out.count;
    sleep_ms(40);
    xmppc__conn_test_run_timers(f.c);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(xmppc_muc_set_self_ping(NULL, 10, 0), XMPPC_EINVAL);
    teardown(&f);
}

/* ---- reconnection ------------------------------------------------------- */

static void test_reconnect_rejoin(void)
{
    fixture f;
    setup(&f);
    XT_EQ_INT(xmppc_muc_room_set_password(f.room, "cauldronburn"), 0);
    join_room(&f);
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat' "
                "id='m1'><body>seen</body></message>");
    xmppc_muc_room *heath = NULL;
    XT_EQ_INT(xmppc_muc_room_get(f.muc, "heath@chat.shakespeare.lit", &heath),
              0);
    XT_EQ_INT(xmppc_muc_room_set_auto_rejoin(heath, 0), 0);
    XT_EQ_INT(xmppc_muc_room_join(heath, NICK, NULL, NULL, NULL), 0);
    INJECT(f.c, "<presence from='heath@chat.shakespeare.lit/" NICK "'>" X_USER
                "<item affiliation='none' role='participant'/>"
                "<status code='110'/></x></presence>");
    XT_EQ_INT(xmppc_muc_room_get_state(heath), XMPPC_MUC_JOINED);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 2);
    memset(&f.ev, 0, sizeof f.ev);

    xmppc__conn_test_disconnect(f.c);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINING);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), 0);
    XT_EQ_INT(f.ev.count, 0);
    XT_CHECK(xmppc_muc_room_get_state(heath) != XMPPC_MUC_JOINED);

    int n = f.out.count;
    XT_EQ_INT(xmppc__conn_test_ready(f.c, OWN, sink, &f.out), 0);
    XT_EQ_INT(f.out.count, n + 1); /* only the room with auto-rejoin */
    STARTS(f.out, "<presence");
    SENT(f.out, "to='" SELF "'");
    SENT(f.out, MUC_X ">");
    SENT(f.out, "<password>cauldronburn</password>");
    SENT(f.out, "since='");
    NOT_SENT(f.out, "heath");
    INJECT(f.c, self_presence);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 1);
    XT_EQ_INT(xmppc_muc_room_set_auto_rejoin(NULL, 1), XMPPC_EINVAL);

    /* A rejoin the room refuses: an ERROR event about us, then LEFT. */
    xmppc__conn_test_disconnect(f.c);
    XT_EQ_INT(xmppc__conn_test_ready(f.c, OWN, sink, &f.out), 0);
    SENT(f.out, "to='" SELF "'");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINING);
    memset(&f.ev, 0, sizeof f.ev);
    INJECT(f.c,
           "<presence from='" SELF "' type='error'><x xmlns='" XMPPC_NS_MUC
           "'/><error type='auth'><registration-required xmlns='" NS_STANZAS
           "'/></error></presence>");
    XT_EQ_INT(f.ev.count, 1);
    XT_EQ_INT(f.ev.kind, XMPPC_MUC_EV_ERROR);
    XT_EQ_INT(f.ev.is_self, 1);
    XT_EQ_STR(f.ev.cond, "registration-required");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_LEFT);
    XT_EQ_INT(xmppc_muc_joined_count(f.muc), 0);
    xmppc_muc_room_unref(heath);
    teardown(&f);
}

/* After a rejoin the room sends the last message seen again ('since' has
 * whole seconds): it is dropped by its stanza-id; a message of the same
 * second with another id, or one carrying an id from someone else than
 * the room, is delivered. */
static void test_rejoin_history_dedupe(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat'>"
                "<body>seen</body><stanza-id xmlns='urn:xmpp:sid:0' id='s1' "
                "by='" ROOM "'/></message>");
    XT_EQ_INT(f.msg.count, 1);
    xmppc__conn_test_disconnect(f.c);
    XT_EQ_INT(xmppc__conn_test_ready(f.c, OWN, sink, &f.out), 0);
    const char *at = strstr(f.out.last, "since='");
    XT_CHECK(at != NULL);
    char second[20] = "";
    if (at)
        snprintf(second, sizeof second, "%.19s", at + 7);
    INJECT(f.c, self_presence);
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    char xml[1024];
    static const char *const ids[] = {"s0", "s1", "s2"};
    static const char *const bys[] = {ROOM, ROOM, "firstwitch@shakespeare.lit"};
    int before = f.msg.count;
    for (int i = 0; i < 3; i++) {
        snprintf(xml, sizeof xml,
                 "<message from='" ROOM "/firstwitch' type='groupchat'>"
                 "<body>%s</body><delay xmlns='urn:xmpp:delay' "
                 "stamp='%s.5Z'/><stanza-id xmlns='urn:xmpp:sid:0' id='%s' "
                 "by='%s'/></message>",
                 ids[i], second, i == 2 ? "s1" : ids[i], bys[i]);
        INJECT(f.c, xml);
    }
    /* s0 (same second, another id) and the spoofed s1 come through. */
    XT_EQ_INT(f.msg.count - before, 2);
    XT_EQ_STR(f.msg.body, "s2");
    XT_CHECK(f.msg.flags & XMPPC_MUC_MSG_DELAYED);
    teardown(&f);
}

/* Our show and status in the room: kept, sent when joined, and carried
 * by later joins, nick changes and rejoins. */
static void test_own_room_presence(void)
{
    fixture f;
    setup(&f);
    int n = f.out.count;
    XT_EQ_INT(xmppc_muc_room_set_presence(f.room, XMPPC_PRESENCE_DND, "busy"),
              0);
    XT_EQ_INT(f.out.count, n); /* not joined: nothing sent yet */
    XT_EQ_INT(xmppc_muc_room_join(f.room, NICK, NULL, NULL, NULL), 0);
    SENT(f.out, "<show>dnd</show><status>busy</status>");
    SENT(f.out, MUC_X);
    INJECT(f.c, self_presence);
    XT_EQ_INT(xmppc_muc_room_set_presence(f.room, XMPPC_PRESENCE_AWAY, "brb"),
              0);
    STARTS(f.out, "<presence");
    SENT(f.out, "to='" SELF "'");
    SENT(f.out, "<show>away</show><status>brb</status>");
    NOT_SENT(f.out, MUC_X);
    NOT_SENT(f.out, "type=");
    XT_EQ_INT(xmppc_muc_room_change_nick(f.room, "Crone", NULL, NULL, NULL), 0);
    SENT(f.out, "to='" ROOM "/Crone'");
    SENT(f.out, "<show>away</show><status>brb</status>");
    xmppc__conn_test_disconnect(f.c);
    XT_EQ_INT(xmppc__conn_test_ready(f.c, OWN, sink, &f.out), 0);
    SENT(f.out, MUC_X);
    SENT(f.out, "<show>away</show><status>brb</status>");
    n = f.out.count;
    XT_EQ_INT(
        xmppc_muc_room_set_presence(f.room, XMPPC_PRESENCE_AVAILABLE, NULL), 0);
    XT_EQ_INT(f.out.count, n); /* rejoining, not joined: kept for later */
    INJECT(f.c, self_presence);
    XT_EQ_INT(
        xmppc_muc_room_set_presence(f.room, XMPPC_PRESENCE_UNAVAILABLE, NULL),
        XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_presence(f.room, (xmppc_presence_show)9, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_presence(NULL, XMPPC_PRESENCE_AWAY, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(f.out.count, n);
    XT_EQ_INT(xmppc_muc_room_set_presence(f.room, XMPPC_PRESENCE_CHAT, NULL),
              0);
    SENT(f.out, "<show>chat</show>");
    NOT_SENT(f.out, "<status>");
    teardown(&f);
}

/* ---- discovery ----------------------------------------------------------- */

/* Every stanza sent, for requests that go out together. */
typedef struct trail {
    int count;
    char all[8][2048];
} trail;

static void record(void *ud, const char *xml)
{
    trail *t = ud;
    if (t->count < 8)
        snprintf(t->all[t->count], sizeof t->all[0], "%s", xml);
    t->count++;
}

/* The id of the recorded stanza containing @p needle, or "". */
static const char *id_sent(const trail *t, const char *needle)
{
    static char id[64];
    id[0] = '\0';
    for (int i = 0; i < t->count && i < 8; i++) {
        if (!strstr(t->all[i], needle))
            continue;
        const char *p = strstr(t->all[i], " id='");
        if (p) {
            p += 5;
            snprintf(id, sizeof id, "%.*s", (int)strcspn(p, "'"), p);
        }
        break;
    }
    return id;
}

typedef struct services {
    int calls, code;
    size_t count;
    char names[4][128];
} services;

static void on_services(xmppc_muc *muc, const char *const *list, size_t count,
                        const xmppc_error *err, void *ud)
{
    (void)muc;
    services *s = ud;
    s->calls++;
    s->code = err ? err->code : 0;
    s->count = count;
    for (size_t i = 0; i < count && i < 4; i++)
        keep(s->names[i], sizeof s->names[i], list[i]);
}

static void on_rooms(xmppc_disco *mgr, const char *jid, const char *node,
                     xmppc_disco_items *items, const xmppc_error *err, void *ud)
{
    (void)mgr, (void)jid, (void)node;
    services *s = ud;
    s->calls++;
    s->code = err ? err->code : 0;
    s->count = items ? xmppc_disco_items_count(items) : 0;
    for (size_t i = 0; i < s->count && i < 4; i++) {
        const char *j = NULL;
        xmppc_disco_items_at(items, i, &j, NULL, NULL);
        keep(s->names[i], sizeof s->names[i], j);
    }
}

static void inject_reply(xmppc_conn *c, const char *fmt, const char *id)
{
    char xml[4096];
    subst(xml, sizeof xml, fmt, id);
    INJECT(c, xml);
}

static void test_discovery(void)
{
    trail t = {0};
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "juliet@example.com", "pw"), 0);
    XT_EQ_INT(xmppc__conn_test_ready(c, OWN, record, &t), 0);
    xmppc_muc *muc = xmppc_muc_get(c);
    services s = {0};
    int base = t.count;
    XT_EQ_INT(xmppc_muc_discover_services(muc, on_services, &s, NULL), 0);
    XT_EQ_INT(t.count, base + 1);
    XT_CHECK(strstr(t.all[base], NS_DISCO_ITEMS) != NULL);
    XT_CHECK(strstr(t.all[base], "type='get'") != NULL);
    inject_reply(c,
                 "<iq type='result' from='example.com' id='%s'><query "
                 "xmlns='" NS_DISCO_ITEMS "'><item jid='conference.example.com'"
                 "/><item jid='pubsub.example.com'/><item "
                 "jid='dead.example.com'/><item "
                 "jid='rooms.example.com'/></query></iq>",
                 id_sent(&t, NS_DISCO_ITEMS));
    /* The info requests may go out together or one by one: answer each
     * once it is there, conference.example.com last. */
    static const struct {
        const char *to, *reply;
    } answers[] = {
        {"to='pubsub.example.com'",
         "<iq type='result' from='pubsub.example.com' id='%s'><query "
         "xmlns='" NS_DISCO_INFO "'><identity category='pubsub' "
         "type='service'/><feature var='http://jabber.org/protocol/"
         "pubsub'/></query></iq>"},
        {"to='rooms.example.com'",
         "<iq type='result' from='rooms.example.com' id='%s'><query "
         "xmlns='" NS_DISCO_INFO "'><identity category='conference' "
         "type='text'/><feature var='" XMPPC_NS_MUC "'/></query></iq>"},
        {"to='dead.example.com'",
         "<iq type='error' from='dead.example.com' id='%s'><error "
         "type='cancel'><remote-server-not-found xmlns='" NS_STANZAS
         "'/></error></iq>"},
        {"to='conference.example.com'",
         "<iq type='result' from='conference.example.com' id='%s'>"
         "<query xmlns='" NS_DISCO_INFO "'><identity "
         "category='conference' type='text'/><feature var='" XMPPC_NS_MUC
         "'/></query></iq>"}};
    int answered[4] = {0}, total = 0;
    for (int round = 0; round < 4 && total < 4; round++) {
        for (int i = 0; i < 4; i++) {
            if (answered[i])
                continue;
            const char *id = id_sent(&t, answers[i].to);
            if (!*id)
                continue;
            XT_EQ_INT(s.calls, 0);
            inject_reply(c, answers[i].reply, id);
            answered[i] = 1;
            total++;
        }
    }
    XT_EQ_INT(total, 4);
    XT_EQ_INT(t.count, base + 5);
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.code, 0);
    XT_EQ_INT(s.count, 2);
    XT_EQ_STR(s.names[0], "conference.example.com");
    XT_EQ_STR(s.names[1], "rooms.example.com");

    /* Rooms of a service. */
    memset(&s, 0, sizeof s);
    memset(&t, 0, sizeof t);
    XT_EQ_INT(xmppc_muc_discover_rooms(muc, "conference.example.com", on_rooms,
                                       &s, NULL),
              0);
    XT_EQ_INT(t.count, 1);
    XT_CHECK(strstr(t.all[0], "to='conference.example.com'") != NULL);
    XT_CHECK(strstr(t.all[0], NS_DISCO_ITEMS) != NULL);
    inject_reply(c,
                 "<iq type='result' from='conference.example.com' id='%s'>"
                 "<query xmlns='" NS_DISCO_ITEMS "'><item jid='" ROOM
                 "' name='A Dark Cave'/><item jid='heath@conference.example"
                 ".com'/></query></iq>",
                 id_sent(&t, NS_DISCO_ITEMS));
    XT_EQ_INT(s.calls, 1);
    XT_EQ_INT(s.count, 2);
    XT_EQ_STR(s.names[0], ROOM);

    XT_EQ_INT(xmppc_muc_discover_services(NULL, on_services, &s, NULL),
              XMPPC_EINVAL);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(xmppc_muc_discover_services(muc, on_services, &s, NULL),
              XMPPC_ESTATE);
    finish(c);
}

/* ---- bad input ----------------------------------------------------------- */

/* The occupant list is coherent: found by nick, one self, valid values. */
static void check_consistent(xmppc_muc_room *room, int line)
{
    size_t n = xmppc_muc_room_occupant_count(room);
    int selves = 0;
    for (size_t i = 0; i < n; i++) {
        const xmppc_muc_occupant *o = xmppc_muc_room_occupant_at(room, i);
        if (!o) {
            XT_FAIL_AT(__FILE__, line, "occupant %zu is NULL", i);
            continue;
        }
        const char *nick = xmppc_muc_occupant_nick(o);
        const char *jid = xmppc_muc_occupant_jid(o);
        if (!nick || !jid || strncmp(jid, ROOM "/", sizeof ROOM) != 0 ||
            strcmp(jid + sizeof ROOM, nick) != 0)
            XT_FAIL_AT(__FILE__, line, "occupant %zu: nick %s jid %s", i,
                       nick ? nick : NIL, jid ? jid : NIL);
        else if (xmppc_muc_room_find_occupant(room, nick) != o)
            XT_FAIL_AT(__FILE__, line, "occupant %s not found by nick", nick);
        int role = (int)xmppc_muc_occupant_role(o);
        int affil = (int)xmppc_muc_occupant_affiliation(o);
        if (role < 0 || role > 3 || affil < 0 || affil > 4)
            XT_FAIL_AT(__FILE__, line, "occupant %zu: role %d affiliation %d",
                       i, role, affil);
        selves += xmppc_muc_occupant_is_self(o) != 0;
    }
    if (selves != 1)
        XT_FAIL_AT(__FILE__, line, "%d own occupants", selves);
}

static void test_bad_input(void)
{
    fixture f;
    setup(&f);
    join_room(&f);
    size_t n = xmppc_muc_room_occupant_count(f.room);

    /* From the bare room JID: no occupant. */
    INJECT(f.c, "<presence from='" ROOM "'>" X_USER "<item affiliation='none' "
                "role='participant'/></x></presence>");
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), n);
    XT_EQ_INT(f.ev.count, 0);
    check_consistent(f.room, __LINE__);

    /* No item, no muc#user element, unknown role and affiliation. */
    INJECT(f.c, "<presence from='" ROOM "/noitem'>" X_USER "</x></presence>");
    INJECT(f.c, "<presence from='" ROOM "/nox'/>");
    INJECT(f.c, "<presence from='" ROOM "/weird'>" X_USER "<item "
                "affiliation='emperor' role='overlord' jid='@@@'/></x>"
                "</presence>");
    INJECT(f.c, "<presence from='" ROOM "/twice'>" X_USER "<item "
                "affiliation='none' role='participant'/><item "
                "affiliation='owner' role='moderator'/><status/><status "
                "code='abc'/><status code='-1'/></x><x xmlns='" NS_USER
                "'/></presence>");
    check_consistent(f.room, __LINE__);

    /* A nick too long for a JID. */
    char huge[4096];
    char nick[1201];
    memset(nick, 'n', sizeof nick - 1);
    nick[sizeof nick - 1] = '\0';
    size_t before = xmppc_muc_room_occupant_count(f.room);
    snprintf(huge, sizeof huge,
             "<presence from='" ROOM "/%s'>" X_USER "<item affiliation='none' "
             "role='participant'/></x></presence>",
             nick);
    xmppc__conn_test_inject(f.c, huge);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), before);
    XT_CHECK(xmppc_muc_room_find_occupant(f.room, nick) == NULL);
    check_consistent(f.room, __LINE__);

    /* Departures of strangers; a 303 naming no nick; an empty resource. */
    memset(&f.ev, 0, sizeof f.ev);
    occupant_full(&f, "unavailable", "ghost", "none", "none", NULL, NULL,
                  "<status code='307'/>");
    XT_EQ_INT(f.ev.count, 0);
    occupant_full(&f, "unavailable", "hecate", "none", "none", NULL, NULL,
                  "<status code='303'/>");
    xmppc__conn_test_inject(f.c, "<presence from='" ROOM "/'>" X_USER
                                 "<item affiliation='none' role='none'/>"
                                 "</x></presence>");
    INJECT(f.c, "<presence from='" ROOM "/firstwitch' type='error'><error "
                "type='cancel'><item-not-found xmlns='" NS_STANZAS "'/>"
                "</error></presence>");
    INJECT(f.c, "<presence from='" ROOM "/secondwitch' type='subscribe'/>");
    check_consistent(f.room, __LINE__);

    /* Another room claiming to be us; a message claiming a destroy. */
    INJECT(f.c, "<presence from='heath@chat.shakespeare.lit/" NICK "' "
                "type='unavailable'>" X_USER "<item affiliation='none' "
                "role='none'/><status code='110'/><status code='307'/></x>"
                "</presence>");
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat'>" X_USER
                "<destroy/></x></message>");
    INJECT(f.c, "<message from='" ROOM "/firstwitch' type='groupchat'><body>"
                "x</body><delay xmlns='urn:xmpp:delay'/></message>");
    XT_EQ_INT(xmppc_muc_room_get_state(f.room), XMPPC_MUC_JOINED);
    check_consistent(f.room, __LINE__);
    XT_CHECK(strstr(f.ev.log, "destroyed") == NULL);
    XT_CHECK(strstr(f.ev.log, "*") == NULL);

    /* Still working. */
    memset(&f.ev, 0, sizeof f.ev);
    before = xmppc_muc_room_occupant_count(f.room);
    occupant(&f, "newcomer", "none", "participant", NULL, NULL);
    XT_EQ_INT(xmppc_muc_room_occupant_count(f.room), before + 1);
    XT_EQ_STR(f.ev.log, "joined newcomer;");
    check_consistent(f.room, __LINE__);
    teardown(&f);
}

static void test_names(void)
{
    XT_EQ_STR(xmppc_muc_role_name(XMPPC_MUC_ROLE_NONE), "none");
    XT_EQ_STR(xmppc_muc_role_name(XMPPC_MUC_ROLE_VISITOR), "visitor");
    XT_EQ_STR(xmppc_muc_role_name(XMPPC_MUC_ROLE_PARTICIPANT), "participant");
    XT_EQ_STR(xmppc_muc_role_name(XMPPC_MUC_ROLE_MODERATOR), "moderator");
    XT_CHECK(xmppc_muc_role_name((xmppc_muc_role)4) == NULL);
    XT_CHECK(xmppc_muc_role_name((xmppc_muc_role)-1) == NULL);
    XT_EQ_INT(xmppc_muc_role_parse("moderator"), XMPPC_MUC_ROLE_MODERATOR);
    XT_EQ_INT(xmppc_muc_role_parse("none"), XMPPC_MUC_ROLE_NONE);
    XT_EQ_INT(xmppc_muc_role_parse("overlord"), -1);
    XT_EQ_INT(xmppc_muc_role_parse(""), -1);
    XT_EQ_INT(xmppc_muc_role_parse(NULL), -1);
    XT_EQ_STR(xmppc_muc_affiliation_name(XMPPC_MUC_AFFIL_NONE), "none");
    XT_EQ_STR(xmppc_muc_affiliation_name(XMPPC_MUC_AFFIL_OUTCAST), "outcast");
    XT_EQ_STR(xmppc_muc_affiliation_name(XMPPC_MUC_AFFIL_MEMBER), "member");
    XT_EQ_STR(xmppc_muc_affiliation_name(XMPPC_MUC_AFFIL_ADMIN), "admin");
    XT_EQ_STR(xmppc_muc_affiliation_name(XMPPC_MUC_AFFIL_OWNER), "owner");
    XT_CHECK(xmppc_muc_affiliation_name((xmppc_muc_affiliation)5) == NULL);
    XT_EQ_INT(xmppc_muc_affiliation_parse("outcast"), XMPPC_MUC_AFFIL_OUTCAST);
    XT_EQ_INT(xmppc_muc_affiliation_parse("owner"), XMPPC_MUC_AFFIL_OWNER);
    XT_EQ_INT(xmppc_muc_affiliation_parse("emperor"), -1);
    XT_EQ_INT(xmppc_muc_affiliation_parse(NULL), -1);
    XT_EQ_STR(xmppc_muc_event_kind_name(XMPPC_MUC_EV_JOINED), "joined");
    XT_EQ_STR(xmppc_muc_event_kind_name(XMPPC_MUC_EV_LEFT), "left");
    for (int k = XMPPC_MUC_EV_JOINED; k <= XMPPC_MUC_EV_CONFIG_CHANGED; k++)
        XT_CHECK(xmppc_muc_event_kind_name((xmppc_muc_event_kind)k) != NULL);
    XT_CHECK(xmppc_muc_event_kind_name((xmppc_muc_event_kind)0) == NULL);
    XT_CHECK(xmppc_muc_event_kind_name((xmppc_muc_event_kind)99) == NULL);

    xmppc_stanza *m = NULL;
    XT_EQ_INT(xmppc_stanza_from_string(
                  &m, "<message xmlns='jabber:client'><delay "
                      "xmlns='urn:xmpp:delay' from='capulet.com' "
                      "stamp='2002-09-10T23:08:25Z'/></message>"),
              0);
    const char *from = NULL;
    XT_EQ_STR(xmppc_message_get_delay(m, &from), "2002-09-10T23:08:25Z");
    XT_EQ_STR(from, "capulet.com");
    XT_EQ_STR(xmppc_message_get_delay(m, NULL), "2002-09-10T23:08:25Z");
    xmppc_stanza_unref(m);
    m = NULL;
    XT_EQ_INT(xmppc_stanza_from_string(&m, "<message xmlns='jabber:client'/>"),
              0);
    from = "x";
    XT_CHECK(xmppc_message_get_delay(m, &from) == NULL);
    xmppc_stanza_unref(m);
    XT_CHECK(xmppc_message_get_delay(NULL, NULL) == NULL);
}

/* ---- API misuse --------------------------------------------------------- */

static void test_api_misuse(void)
{
    XT_CHECK(xmppc_muc_get(NULL) == NULL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_EINVAL);
    XT_CHECK(xmppc_muc_find(NULL) == NULL);
    sent out = {0};
    xmppc_conn *c = ready(&out);
    XT_CHECK(xmppc_muc_find(c) == NULL);
    xmppc_muc *muc = xmppc_muc_get(c);
    XT_CHECK(muc != NULL);
    XT_CHECK(xmppc_muc_find(c) == muc);
    XT_EQ_INT(xmppc_muc_set_timeout(NULL, 1000), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_set_timeout(muc, 0), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_set_timeout(muc, 1000), 0);
    xmppc_muc_room *room = NULL;
    static const char *const bad_rooms[] = {
        ROOM "/resource", "chat.shakespeare.lit", "@bad", "", "a@b@c"};
    for (size_t i = 0; i < sizeof bad_rooms / sizeof bad_rooms[0]; i++) {
        XT_EQ_INT(xmppc_muc_room_get(muc, bad_rooms[i], &room), XMPPC_EINVAL);
        XT_CHECK(room == NULL);
    }
    XT_EQ_INT(xmppc_muc_room_get(muc, NULL, &room), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_get(muc, ROOM, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_get(NULL, ROOM, &room), XMPPC_EINVAL);
    XT_CHECK(xmppc_muc_room_find(muc, NULL) == NULL);
    XT_CHECK(xmppc_muc_room_find(NULL, ROOM) == NULL);
    XT_CHECK(xmppc_muc_room_find(muc, ROOM) == NULL);
    XT_CHECK(xmppc_muc_room_ref(NULL) == NULL);
    XT_CHECK(xmppc_muc_room_unref(NULL) == NULL);
    XT_CHECK(xmppc_muc_joined_at(muc, 0) == NULL);
    XT_EQ_INT(xmppc_muc_set_self_ping(NULL, 1000, 0), XMPPC_EINVAL);

    XT_EQ_INT(xmppc_muc_room_get(muc, ROOM, &room), 0);
    XT_CHECK(xmppc_muc_room_ref(room) == room);
    xmppc_muc_room_unref(room);
    int n = out.count;
    result r = {0};
    /* Joining: bad nicks. */
    XT_EQ_INT(xmppc_muc_room_join(room, NULL, on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_join(room, "", on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_muc_room_join(room, "bad\xc3\x28", on_done, &r, on_done_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_join(NULL, NICK, on_done, &r, on_done_destroy),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_history(room, 5, -1, "yesterday"),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_history(room, -1, -1, NULL), 0);
    XT_EQ_INT(xmppc_muc_room_set_password(NULL, "pw"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_set_auto_rejoin(NULL, 0), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_on_event(room, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_on_message(room, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_on_invitation(muc, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_on_invitation(NULL, NULL, on_invite, NULL, NULL),
              XMPPC_EINVAL);

    /* Not joined. */
    xmppc_form *form = NULL;
    XT_EQ_INT(xmppc_form_new(&form, XMPPC_FORM_SUBMIT), 0);
    XT_EQ_INT(xmppc_muc_room_send_text(room, "hi", NULL), XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_send_private(room, "firstwitch", "hi"),
              XMPPC_ESTATE);
    XT_EQ_INT(
        xmppc_muc_room_set_subject(room, "s", on_done, &r, on_done_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(
        xmppc_muc_room_change_nick(room, "hag", on_done, &r, on_done_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_leave(room, NULL, on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_create_instant(room, on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    formres fr = {0};
    XT_EQ_INT(xmppc_muc_room_get_config(room, on_form, &fr, on_form_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(fr.calls + fr.destroyed, 0);
    XT_EQ_INT(
        xmppc_muc_room_submit_config(room, form, on_done, &r, on_done_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_cancel_config(room, on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_invite(room, "hecate@shakespeare.lit", NULL),
              XMPPC_ESTATE);
    XT_EQ_INT(
        xmppc_muc_room_kick(room, "hecate", NULL, on_done, &r, on_done_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(out.count, n);

    /* Joining twice. */
    XT_EQ_INT(xmppc_muc_room_join(room, NICK, NULL, NULL, NULL), 0);
    XT_EQ_INT(out.count, n + 1);
    XT_EQ_INT(xmppc_muc_room_join(room, NICK, on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_send_text(room, "early", NULL), XMPPC_ESTATE);
    XT_EQ_INT(xmppc__conn_test_inject(c, self_presence), 0);
    XT_EQ_INT(xmppc_muc_room_get_state(room), XMPPC_MUC_JOINED);
    XT_EQ_INT(xmppc_muc_room_join(room, "other", on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    /* Joined: bad arguments. */
    XT_EQ_INT(xmppc_muc_room_send_text(room, NULL, NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_send_text(NULL, "hi", NULL), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_send_private(room, NULL, "hi"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_send_private(room, "firstwitch", NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(xmppc_muc_room_send_message(room, NULL), XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_muc_room_submit_config(room, NULL, on_done, &r, on_done_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_muc_room_change_nick(room, "", on_done, &r, on_done_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_muc_room_change_nick(room, NULL, on_done, &r, on_done_destroy),
        XMPPC_EINVAL);
    XT_EQ_INT(out.count, n + 1);
    XT_EQ_INT(r.calls + r.destroyed, 0);

    /* Not connected. */
    xmppc_muc_room *other = NULL;
    XT_EQ_INT(xmppc_muc_room_get(muc, "heath@chat.shakespeare.lit", &other), 0);
    xmppc__conn_test_disconnect(c);
    XT_EQ_INT(xmppc_muc_room_join(other, NICK, on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(
        xmppc_muc_room_destroy(other, NULL, NULL, on_done, &r, on_done_destroy),
        XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_set_affiliation(other, "hecate@shakespeare.lit",
                                             XMPPC_MUC_AFFIL_MEMBER, NULL,
                                             on_done, &r, on_done_destroy),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_get_affiliations(other, XMPPC_MUC_AFFIL_MEMBER,
                                              on_affils, NULL, NULL),
              XMPPC_ESTATE);
    XT_EQ_INT(xmppc_muc_room_send_text(room, "hi", NULL), XMPPC_ESTATE);
    XT_EQ_INT(r.calls + r.destroyed, 0);
    xmppc_form_unref(form);
    xmppc_muc_room_unref(other);
    xmppc_muc_room_unref(room);
    finish(c);
}

/* A room handle outliving its connection. */
static void test_room_outlives_conn(void)
{
    sent out = {0};
    xmppc_conn *c = ready(&out);
    xmppc_muc *muc = xmppc_muc_get(c);
    xmppc_muc_room *room = NULL;
    XT_EQ_INT(xmppc_muc_room_get(muc, ROOM, &room), 0);
    result r = {0};
    XT_EQ_INT(xmppc_muc_room_join(room, NICK, on_done, &r, on_done_destroy), 0);
    finish(c);
    XT_EQ_INT(r.calls, 1);
    XT_EQ_INT(r.code, XMPPC_ECANCELED);
    XT_EQ_INT(r.destroyed, 1);
    XT_CHECK(xmppc_muc_room_get_muc(room) == NULL);
    XT_EQ_STR(xmppc_muc_room_get_jid(room), ROOM);
    XT_EQ_INT(xmppc_muc_room_send_text(room, "hi", NULL), XMPPC_ESTATE);
    xmppc_muc_room_unref(room);
}

XT_MAIN(XT_TEST(test_join), XT_TEST(test_join_history_options),
        XT_TEST(test_join_errors), XT_TEST(test_create_instant),
        XT_TEST(test_reserved_config), XT_TEST(test_status_210),
        XT_TEST(test_nick_change_other), XT_TEST(test_own_nick_change),
        XT_TEST(test_own_nick_change_210),
        XT_TEST(test_role_affiliation_change), XT_TEST(test_removals_of_others),
        XT_TEST(test_removed_self), XT_TEST(test_destroyed),
        XT_TEST(test_destroy_request), XT_TEST(test_moderation_requests),
        XT_TEST(test_get_affiliations), XT_TEST(test_messages),
        XT_TEST(test_subject), XT_TEST(test_invitations_received),
        XT_TEST(test_invitation_listeners), XT_TEST(test_invitations_sent),
        XT_TEST(test_decline_received), XT_TEST(test_leave),
        XT_TEST(test_room_held_while_joined), XT_TEST(test_self_ping),
        XT_TEST(test_self_ping_idle_and_timeout),
        XT_TEST(test_reconnect_rejoin), XT_TEST(test_rejoin_history_dedupe),
        XT_TEST(test_own_room_presence), XT_TEST(test_discovery),
        XT_TEST(test_bad_input), XT_TEST(test_names), XT_TEST(test_api_misuse),
        XT_TEST(test_room_outlives_conn))
