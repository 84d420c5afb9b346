/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/muc.h
 * @brief Multi-User Chat (XEP-0045) with direct invitations (XEP-0249)
 *        and self-ping (XEP-0410).
 *
 * **The manager.** xmppc_muc_get() sets up the connection's MUC manager
 * (borrowed; it lives as long as the connection). It tracks every room
 * handle, routes room presence and messages to them, answers nothing on
 * the rooms' behalf, and receives invitations. Set it up before
 * xmppc_conn_connect() or at any time after.
 *
 * **Rooms** (::xmppc_muc_room) are reference-counted and unique per room
 * JID: xmppc_muc_room_get() returns the same object for the same (bare,
 * prepared) JID as long as anyone holds a reference or the room is not
 * ::XMPPC_MUC_LEFT. A joined room is kept alive by the manager until it
 * is left, so an application may drop its reference after joining; each
 * listener registered on a room holds a reference too, until removed.
 *
 * **Joining** sends presence to `room/nick` with the `muc` element
 * (password and history limits as set beforehand). The join completes
 * when the room sends our own presence (status 110); the occupants
 * present were reported before it. A room created by the join (status
 * 201) stays locked until it is configured: xmppc_muc_room_create_instant()
 * accepts the default configuration, xmppc_muc_room_get_config() /
 * xmppc_muc_room_submit_config() set it up as a reserved room,
 * xmppc_muc_room_cancel_config() gives up (the room is destroyed).
 *
 * **Occupants** are borrowed: valid until the next room event or the
 * room is freed; in a listener, for the call. The list is emptied when
 * the room is left (and when the connection drops). The real JID is known only
 * where the room shows it (non-anonymous rooms, or to moderators).
 *
 * **Events.** Listeners registered with xmppc_muc_room_on_event() hear
 * of occupants joining, leaving, changing nick, role, affiliation or
 * presence, and of occupants (us included: xmppc_muc_event_is_self())
 * being kicked (307), banned (301), removed by an affiliation change
 * (321), by the room becoming members-only (322) or by a service
 * shutdown (332), of room destruction, subject changes, declined
 * invitations and errors the room sends back for our messages. The own
 * occupant leaving in any of these ways puts the room in
 * ::XMPPC_MUC_LEFT (no automatic rejoin).
 *
 * **Messages.** Listeners of xmppc_muc_room_on_message() get groupchat
 * messages with a body and private messages from occupants (flag
 * ::XMPPC_MUC_MSG_PRIVATE). History sent at join carries a XEP-0203
 * delay (flag ::XMPPC_MUC_MSG_DELAYED); our own messages reflected by the
 * room carry ::XMPPC_MUC_MSG_OWN. Only messages whose sender is this
 * room (bare JID or `room/nick`) reach a room; the chat manager of
 * chat.h leaves private messages (they carry a `muc#user` element, as
 * XEP-0045 §7.5 requires) and groupchat messages alone, and carbons are
 * never taken for room traffic.
 *
 * **Invitations.** Mediated invitations (XEP-0045 §7.8.2) go through the
 * room (xmppc_muc_room_invite()); direct ones (XEP-0249) go straight to
 * the invitee (xmppc_muc_invite_direct()). Both arrive at the listeners
 * of xmppc_muc_on_invitation(); xmppc_muc_decline() declines a mediated
 * one through the room.
 *
 * **Staying joined.** When the connection drops, joined rooms lose their
 * occupants (no events) and go to ::XMPPC_MUC_JOINING; when it is ready
 * again they are rejoined with the same nick and password, asking for
 * the history since the last message seen (that message itself, sent
 * again because `since` has whole seconds, is recognised by the room's
 * XEP-0359 stanza-id and not delivered twice);
 * xmppc_muc_room_set_auto_rejoin() turns rejoining off per room. A room silent
 * for the self-ping interval (default 5 minutes, xmppc_muc_set_self_ping()) is
 * pinged at our own occupant JID (XEP-0410): a result, `service-unavailable`,
 * `feature-not-implemented` or `item-not-found` means still joined; a
 * timeout or `remote-server-not-found` / `remote-server-timeout` means
 * unknown (tried again later); any other error means we were dropped
 * silently, and the room is rejoined.
 *
 * **Requests** (join, leave, nick change, configuration, subject,
 * moderation, destroy) report once to their callback (may be NULL):
 * NULL error on success; XMPPC_ESTANZA with the condition for an error
 * reply (e.g. `conflict` for a taken nick, `not-authorized` for a wrong
 * password, `forbidden` when banned, `registration-required` for a
 * members-only room); XMPPC_ETIMEDOUT; XMPPC_ECANCELED when the
 * connection closed first or the room was left. Then @p destroy runs.
 * When the call itself fails, neither is called.
 *
 * **Listeners** are ::xmppc_handler handles (xmppc_handler_remove() /
 * xmppc_handler_free()); @p destroy runs once when the listener goes
 * away (removed, or the connection freed).
 *
 * Thread-safety: as conn.h; everything runs on the connection's thread.
 * @since 0.1
 */
#ifndef XMPPC_MUC_H
#define XMPPC_MUC_H

#include <stddef.h>

#include <xmppc/common.h>
#include <xmppc/conn.h>
#include <xmppc/disco.h>
#include <xmppc/error.h>
#include <xmppc/forms.h>
#include <xmppc/handler.h>
#include <xmppc/presence.h>
#include <xmppc/stanza.h>

XMPPC_BEGIN_DECLS

/** The MUC namespace (join presence, disco feature). */
#define XMPPC_NS_MUC "http://jabber.org/protocol/muc"
/** Occupant information in room presence and messages. */
#define XMPPC_NS_MUC_USER "http://jabber.org/protocol/muc#user"
/** Moderation and affiliation lists. */
#define XMPPC_NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"
/** Room configuration and destruction. */
#define XMPPC_NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
/** Direct invitations (XEP-0249). */
#define XMPPC_NS_CONFERENCE "jabber:x:conference"
/** The FORM_TYPE of room configuration forms. */
#define XMPPC_MUC_FORM_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

/** A connection's MUC manager (borrowed from the connection). */
typedef struct xmppc_muc xmppc_muc;
/** A room (reference-counted, one per room JID). */
typedef struct xmppc_muc_room xmppc_muc_room;
/** An occupant of a room (borrowed, see the file description). */
typedef struct xmppc_muc_occupant xmppc_muc_occupant;
/** What happened in a room (borrowed for a listener call). */
typedef struct xmppc_muc_event xmppc_muc_event;
/** An invitation received (borrowed for a listener call). */
typedef struct xmppc_muc_invitation xmppc_muc_invitation;

/** Occupant roles (XEP-0045 §5.1). */
typedef enum xmppc_muc_role {
    XMPPC_MUC_ROLE_NONE = 0,        /**< not in the room */
    XMPPC_MUC_ROLE_VISITOR = 1,     /**< may read, not speak */
    XMPPC_MUC_ROLE_PARTICIPANT = 2, /**< may speak */
    XMPPC_MUC_ROLE_MODERATOR = 3    /**< may kick and grant voice */
} xmppc_muc_role;

/** Affiliations (XEP-0045 §5.2). */
typedef enum xmppc_muc_affiliation {
    XMPPC_MUC_AFFIL_NONE = 0,    /**< no affiliation */
    XMPPC_MUC_AFFIL_OUTCAST = 1, /**< banned */
    XMPPC_MUC_AFFIL_MEMBER = 2,  /**< member */
    XMPPC_MUC_AFFIL_ADMIN = 3,   /**< admin */
    XMPPC_MUC_AFFIL_OWNER = 4    /**< owner */
} xmppc_muc_affiliation;

/** Where a room handle stands. */
typedef enum xmppc_muc_room_state {
    XMPPC_MUC_LEFT = 0,    /**< not in the room */
    XMPPC_MUC_JOINING = 1, /**< join (or rejoin) presence sent */
    XMPPC_MUC_JOINED = 2,  /**< our own presence arrived */
    XMPPC_MUC_LEAVING = 3  /**< unavailable presence sent */
} xmppc_muc_room_state;

/** The protocol name of a role ("none", "visitor", "participant",
 * "moderator"), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_role_name(xmppc_muc_role role);
/** The role named @p name, or -1. @since 0.1 */
XMPPC_API int xmppc_muc_role_parse(const char *name);
/** The protocol name of an affiliation ("none", "outcast", "member",
 * "admin", "owner"), or NULL. @since 0.1 */
XMPPC_API const char *
xmppc_muc_affiliation_name(xmppc_muc_affiliation affiliation);
/** The affiliation named @p name, or -1. @since 0.1 */
XMPPC_API int xmppc_muc_affiliation_parse(const char *name);

/* ---- the manager -------------------------------------------------------- */

/** The connection's MUC manager, set up on first call; NULL (with
 * xmppc_error_last()) for NULL @p conn or out of memory. @since 0.1 */
XMPPC_API xmppc_muc *xmppc_muc_get(xmppc_conn *conn);

/** The connection's MUC manager if one was set up, else NULL (without
 * setting one up; for modules that must tell room traffic apart).
 * @since 0.1 */
XMPPC_API xmppc_muc *xmppc_muc_find(const xmppc_conn *conn);

/** The manager's connection (borrowed). @since 0.1 */
XMPPC_API xmppc_conn *xmppc_muc_get_conn(const xmppc_muc *muc);

/** How long join, leave, nick and subject requests wait for the room's
 * answer before failing with XMPPC_ETIMEDOUT (default 30000 ms).
 * @return 0; XMPPC_EINVAL (NULL or 0). @since 0.1 */
XMPPC_API int xmppc_muc_set_timeout(xmppc_muc *muc, unsigned int timeout_ms);

/**
 * Self-ping (XEP-0410) settings for every room.
 * @param idle_ms silence (no stanza from the room) before a ping; 0
 *        turns self-ping off. Default 300000.
 * @param timeout_ms how long to wait for the answer; 0 for the
 *        connection's iq timeout.
 * @return 0; XMPPC_EINVAL. @since 0.1
 */
XMPPC_API int xmppc_muc_set_self_ping(xmppc_muc *muc, unsigned int idle_ms,
                                      unsigned int timeout_ms);

/** The number of rooms in ::XMPPC_MUC_JOINED. @since 0.1 */
XMPPC_API size_t xmppc_muc_joined_count(const xmppc_muc *muc);
/** Joined room @p index (0 .. count-1; borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_muc_room *xmppc_muc_joined_at(const xmppc_muc *muc,
                                              size_t index);

/**
 * The room handle for @p room_jid (a bare JID, prepared before use):
 * the existing one, or a new one in ::XMPPC_MUC_LEFT.
 * @param[out] room_out a new reference (release with
 *             xmppc_muc_room_unref()).
 * @return 0; XMPPC_EINVAL (NULL argument, invalid JID, JID with a
 *         resource or without a local part); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_get(xmppc_muc *muc, const char *room_jid,
                                 xmppc_muc_room **room_out);

/** The existing handle for @p room_jid (borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_muc_room *xmppc_muc_room_find(const xmppc_muc *muc,
                                              const char *room_jid);

/* ---- discovery ---------------------------------------------------------- */

/**
 * The MUC services found.
 * @param services @p count service JIDs (borrowed for the call).
 * @param err NULL on success (even with @p count 0); else why the
 *        server's item list could not be read.
 * Scope: async.
 */
typedef void (*xmppc_muc_services_cb)(xmppc_muc *muc,
                                      const char *const *services, size_t count,
                                      const xmppc_error *err, void *userdata);

/**
 * Finds the MUC services of the own server: its disco#items, each asked
 * for disco#info; those with the `http://jabber.org/protocol/muc`
 * feature are reported, in the server's order. Items that do not answer
 * are left out.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_discover_services(xmppc_muc *muc,
                                          xmppc_muc_services_cb cb,
                                          void *userdata,
                                          xmppc_destroy_cb destroy);

/**
 * The public rooms of a service (its disco#items: room JID and name).
 * Room details (features such as `muc_passwordprotected`, the
 * `muc#roominfo` form) are the room's disco#info: xmppc_disco_get_info().
 * @return as xmppc_disco_get_items(). @since 0.1
 */
XMPPC_API int xmppc_muc_discover_rooms(xmppc_muc *muc, const char *service,
                                       xmppc_disco_items_cb cb, void *userdata,
                                       xmppc_destroy_cb destroy);

/* ---- room handles ------------------------------------------------------- */

/** Takes a reference. @return @p room (NULL-safe). @since 0.1 */
XMPPC_API xmppc_muc_room *xmppc_muc_room_ref(xmppc_muc_room *room);
/** Drops a reference. @return NULL (NULL-safe). @since 0.1 */
XMPPC_API xmppc_muc_room *xmppc_muc_room_unref(xmppc_muc_room *room);

/** The room's bare JID (borrowed). @since 0.1 */
XMPPC_API const char *xmppc_muc_room_get_jid(const xmppc_muc_room *room);
/** The room's manager (borrowed; NULL once the connection was freed).
 * @since 0.1 */
XMPPC_API xmppc_muc *xmppc_muc_room_get_muc(const xmppc_muc_room *room);
/** Where the handle stands. @since 0.1 */
XMPPC_API xmppc_muc_room_state
xmppc_muc_room_get_state(const xmppc_muc_room *room);
/** Our nick (the one asked for while joining), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_room_get_nick(const xmppc_muc_room *room);
/** 1 when the last join created the room (status 201): it waits for
 * its configuration. @since 0.1 */
XMPPC_API int xmppc_muc_room_is_new(const xmppc_muc_room *room);
/** The subject ("" when the room has none or it was cleared), or NULL
 * before the room sent one. @since 0.1 */
XMPPC_API const char *xmppc_muc_room_get_subject(const xmppc_muc_room *room);

/**
 * Reports the end of a room request (see the file description).
 * Scope: async.
 */
typedef void (*xmppc_muc_room_cb)(xmppc_muc_room *room, const xmppc_error *err,
                                  void *userdata);

/** The password sent when joining (NULL for none; kept for rejoins).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_muc_room_set_password(xmppc_muc_room *room,
                                          const char *password);

/**
 * The history asked for when joining (XEP-0045 §7.2.13). Negative
 * numbers and NULL are not sent (the room's default applies).
 * @param max_stanzas at most this many messages (0: none).
 * @param seconds only messages of the last @p seconds.
 * @param since only messages after this XEP-0082 date-time
 *        (`2026-11-21T08:00:00Z`).
 * @return 0; XMPPC_EINVAL (malformed @p since); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_set_history(xmppc_muc_room *room, int max_stanzas,
                                         int seconds, const char *since);

/** Whether the room is rejoined after the connection comes back (on by
 * default). @return 0; XMPPC_EINVAL. @since 0.1 */
XMPPC_API int xmppc_muc_room_set_auto_rejoin(xmppc_muc_room *room, int enabled);

/**
 * Joins as @p nick. @p cb reports our own presence (success) or an
 * error presence from the room (failure), or XMPPC_ETIMEDOUT after the
 * manager's timeout (xmppc_muc_set_timeout()).
 * @return 0; XMPPC_EINVAL (NULL, empty or invalid nick); XMPPC_ESTATE
 *         unless the connection is ready and the room ::XMPPC_MUC_LEFT;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_join(xmppc_muc_room *room, const char *nick,
                                  xmppc_muc_room_cb cb, void *userdata,
                                  xmppc_destroy_cb destroy);

/**
 * Leaves the room (unavailable presence, optional status text). @p cb
 * reports our own unavailable presence coming back; after the manager's
 * timeout it reports success too (the room counts as left either way).
 * @return 0; XMPPC_ESTATE unless joined or joining; XMPPC_EINVAL.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_leave(xmppc_muc_room *room, const char *status,
                                   xmppc_muc_room_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy);

/**
 * Changes our nick. @p cb reports our presence under the new nick, or
 * the error (e.g. `conflict`); the room's event listeners hear
 * ::XMPPC_MUC_EV_NICK_CHANGED with xmppc_muc_event_is_self().
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless joined or while another
 *         nick change is pending.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_change_nick(xmppc_muc_room *room, const char *nick,
                                         xmppc_muc_room_cb cb, void *userdata,
                                         xmppc_destroy_cb destroy);

/**
 * Our show and status text in the room (rooms get directed presence, not
 * the broadcast of xmppc_presence_set_own()). Sent at once when joined,
 * and with every later join, automatic rejoin and nick change.
 * @param show ::XMPPC_PRESENCE_AVAILABLE (no `<show/>`), CHAT, AWAY, XA or
 *        DND. @param status may be NULL.
 * @return 0; XMPPC_EINVAL (NULL room, ::XMPPC_PRESENCE_UNAVAILABLE or an
 *         unknown value: leave with xmppc_muc_room_leave()); XMPPC_ENOMEM;
 *         as xmppc_conn_send() when joined.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_set_presence(xmppc_muc_room *room,
                                          xmppc_presence_show show,
                                          const char *status);

/* ---- configuration and destruction -------------------------------------- */

/**
 * Accepts the default configuration of a room we created (an empty
 * submit form, XEP-0045 §10.1.2), unlocking it.
 * @return 0; XMPPC_ESTATE unless joined; XMPPC_ENOMEM. @since 0.1
 */
XMPPC_API int xmppc_muc_room_create_instant(xmppc_muc_room *room,
                                            xmppc_muc_room_cb cb,
                                            void *userdata,
                                            xmppc_destroy_cb destroy);

/**
 * The configuration form.
 * @param form the room's form (borrowed; take a reference to keep it),
 *        or NULL on failure.
 * Scope: async.
 */
typedef void (*xmppc_muc_form_cb)(xmppc_muc_room *room, xmppc_form *form,
                                  const xmppc_error *err, void *userdata);

/** Asks for the configuration form (owners only: others get
 * `forbidden`). @return 0; XMPPC_ESTATE unless joined. @since 0.1 */
XMPPC_API int xmppc_muc_room_get_config(xmppc_muc_room *room,
                                        xmppc_muc_form_cb cb, void *userdata,
                                        xmppc_destroy_cb destroy);

/**
 * Submits a configuration: every field of @p form with a `var` and its
 * values, as a submit form (labels, options and descriptions are left
 * out, so the form got from xmppc_muc_room_get_config() can be edited
 * with xmppc_form_field_set_value() and passed back as it is).
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless joined. @since 0.1
 */
XMPPC_API int xmppc_muc_room_submit_config(xmppc_muc_room *room,
                                           const xmppc_form *form,
                                           xmppc_muc_room_cb cb, void *userdata,
                                           xmppc_destroy_cb destroy);

/** Cancels the configuration of a new room (the service destroys it).
 * @return 0; XMPPC_ESTATE unless joined. @since 0.1 */
XMPPC_API int xmppc_muc_room_cancel_config(xmppc_muc_room *room,
                                           xmppc_muc_room_cb cb, void *userdata,
                                           xmppc_destroy_cb destroy);

/**
 * Destroys the room (owners only). Occupants are told the @p reason and
 * @p alternate venue (both may be NULL).
 * @return 0; XMPPC_EINVAL (invalid @p alternate); XMPPC_ESTATE unless
 *         the connection is ready. @since 0.1
 */
XMPPC_API int xmppc_muc_room_destroy(xmppc_muc_room *room, const char *reason,
                                     const char *alternate,
                                     xmppc_muc_room_cb cb, void *userdata,
                                     xmppc_destroy_cb destroy);

/* ---- messages ----------------------------------------------------------- */

/**
 * Sends a groupchat message with body @p text.
 * @param[out] id_out if not NULL, the message id (free with xmppc_free()).
 * @return 0 once queued; XMPPC_EINVAL; XMPPC_ESTATE unless joined.
 * @since 0.1
 */
XMPPC_API int xmppc_muc_room_send_text(xmppc_muc_room *room, const char *text,
                                       char **id_out);

/** Sends a message built by the caller as groupchat to the room (`to`
 * and `type` are set, an id added when missing; the stanza is not
 * consumed). @return as xmppc_muc_room_send_text(). @since 0.1 */
XMPPC_API int xmppc_muc_room_send_message(xmppc_muc_room *room,
                                          xmppc_stanza *message);

/** Sends a private message (type chat, with an empty `muc#user` element)
 * to the occupant @p nick. @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless
 * joined. @since 0.1 */
XMPPC_API int xmppc_muc_room_send_private(xmppc_muc_room *room,
                                          const char *nick, const char *text);

/** Changes the subject. @p cb reports the room reflecting it, or the
 * error message (e.g. `forbidden`). @return 0; XMPPC_EINVAL;
 * XMPPC_ESTATE unless joined. @since 0.1 */
XMPPC_API int xmppc_muc_room_set_subject(xmppc_muc_room *room,
                                         const char *subject,
                                         xmppc_muc_room_cb cb, void *userdata,
                                         xmppc_destroy_cb destroy);

/** Flags of a room message. */
enum xmppc_muc_message_flags {
    XMPPC_MUC_MSG_PRIVATE = 1, /**< a private message (type chat) */
    XMPPC_MUC_MSG_DELAYED = 2, /**< history: carries a XEP-0203 delay */
    XMPPC_MUC_MSG_OWN = 4      /**< sent by us, reflected by the room */
};

/**
 * A room message.
 * @param sender the occupant who sent it (borrowed), or NULL when not
 *        present (history, a message from the room itself).
 * @param nick the sender's nick, or NULL for the room itself (borrowed).
 * @param message the stanza (borrowed for the call).
 * @param flags ::xmppc_muc_message_flags OR-ed.
 * Scope: notified.
 */
typedef void (*xmppc_muc_message_cb)(xmppc_muc_room *room,
                                     const xmppc_muc_occupant *sender,
                                     const char *nick, xmppc_stanza *message,
                                     unsigned int flags, void *userdata);

/** Listens for room messages with a body. @return 0; XMPPC_EINVAL;
 * XMPPC_ENOMEM (@p destroy is not called). @since 0.1 */
XMPPC_API int xmppc_muc_room_on_message(xmppc_muc_room *room,
                                        xmppc_handler **handle_out,
                                        xmppc_muc_message_cb cb, void *userdata,
                                        xmppc_destroy_cb destroy);

/** The XEP-0203 delay stamp of @p message (borrowed), or NULL. Optionally
 * who added it. @since 0.1 */
XMPPC_API const char *xmppc_message_get_delay(const xmppc_stanza *message,
                                              const char **from_out);

/* ---- occupants ---------------------------------------------------------- */

/** The number of occupants (us included once joined). @since 0.1 */
XMPPC_API size_t xmppc_muc_room_occupant_count(const xmppc_muc_room *room);
/** Occupant @p index, or NULL. @since 0.1 */
XMPPC_API const xmppc_muc_occupant *
xmppc_muc_room_occupant_at(const xmppc_muc_room *room, size_t index);
/** The occupant named @p nick (prepared before comparing), or NULL.
 * @since 0.1 */
XMPPC_API const xmppc_muc_occupant *
xmppc_muc_room_find_occupant(const xmppc_muc_room *room, const char *nick);
/** Our own occupant, or NULL unless joined. @since 0.1 */
XMPPC_API const xmppc_muc_occupant *
xmppc_muc_room_get_self(const xmppc_muc_room *room);

/** The nick. @since 0.1 */
XMPPC_API const char *xmppc_muc_occupant_nick(const xmppc_muc_occupant *occ);
/** The occupant JID `room/nick`. @since 0.1 */
XMPPC_API const char *xmppc_muc_occupant_jid(const xmppc_muc_occupant *occ);
/** The real JID when the room shows it, or NULL. @since 0.1 */
XMPPC_API const char *
xmppc_muc_occupant_real_jid(const xmppc_muc_occupant *occ);
/** The role. @since 0.1 */
XMPPC_API xmppc_muc_role xmppc_muc_occupant_role(const xmppc_muc_occupant *occ);
/** The affiliation. @since 0.1 */
XMPPC_API xmppc_muc_affiliation
xmppc_muc_occupant_affiliation(const xmppc_muc_occupant *occ);
/** The presence show value. @since 0.1 */
XMPPC_API xmppc_presence_show
xmppc_muc_occupant_show(const xmppc_muc_occupant *occ);
/** The presence status text, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_occupant_status(const xmppc_muc_occupant *occ);
/** 1 for our own occupant. @since 0.1 */
XMPPC_API int xmppc_muc_occupant_is_self(const xmppc_muc_occupant *occ);

/* ---- events ------------------------------------------------------------- */

/** Kinds of room events. */
typedef enum xmppc_muc_event_kind {
    /** An occupant entered (for us: the join completed). */
    XMPPC_MUC_EV_JOINED = 1,
    /** An occupant left of its own accord (for us: the leave completed). */
    XMPPC_MUC_EV_LEFT = 2,
    /** An occupant changed nick (xmppc_muc_event_old_nick(); status 303;
     * for us also 210 when the room changed the nick we asked for). */
    XMPPC_MUC_EV_NICK_CHANGED = 3,
    /** Role changed (xmppc_muc_event_old_role()). */
    XMPPC_MUC_EV_ROLE_CHANGED = 4,
    /** Affiliation changed (xmppc_muc_event_old_affiliation()). */
    XMPPC_MUC_EV_AFFILIATION_CHANGED = 5,
    /** Show or status text changed. */
    XMPPC_MUC_EV_PRESENCE_CHANGED = 6,
    /** Kicked (307): actor and reason when given. */
    XMPPC_MUC_EV_KICKED = 7,
    /** Banned (301). */
    XMPPC_MUC_EV_BANNED = 8,
    /** Removed by an affiliation change (321). */
    XMPPC_MUC_EV_REMOVED_AFFILIATION = 9,
    /** Removed: the room became members-only (322). */
    XMPPC_MUC_EV_REMOVED_MEMBERS_ONLY = 10,
    /** Removed: the service shuts down (332). */
    XMPPC_MUC_EV_REMOVED_SHUTDOWN = 11,
    /** The room was destroyed (reason and alternate venue when given). */
    XMPPC_MUC_EV_DESTROYED = 12,
    /** The subject changed (xmppc_muc_event_subject(); actor: the nick
     * that set it, NULL when set by the room). */
    XMPPC_MUC_EV_SUBJECT = 13,
    /** Someone declined our mediated invitation (actor: their JID). */
    XMPPC_MUC_EV_DECLINED = 14,
    /** The room answered one of our messages with an error
     * (xmppc_muc_event_error(); the stanza has the id we sent), or refused
     * an automatic rejoin (a presence error, xmppc_muc_event_is_self();
     * the room is then ::XMPPC_MUC_LEFT). */
    XMPPC_MUC_EV_ERROR = 15,
    /** The room announced a configuration change (status 104, 170-174);
     * xmppc_muc_event_has_status() tells which. */
    XMPPC_MUC_EV_CONFIG_CHANGED = 16
} xmppc_muc_event_kind;

/**
 * A room event.
 * @param event borrowed for the call.
 * Scope: notified.
 */
typedef void (*xmppc_muc_event_cb)(xmppc_muc_room *room,
                                   const xmppc_muc_event *event,
                                   void *userdata);

/** Listens for room events. @return 0; XMPPC_EINVAL; XMPPC_ENOMEM
 * (@p destroy is not called). @since 0.1 */
XMPPC_API int xmppc_muc_room_on_event(xmppc_muc_room *room,
                                      xmppc_handler **handle_out,
                                      xmppc_muc_event_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy);

/** The kind. @since 0.1 */
XMPPC_API xmppc_muc_event_kind
xmppc_muc_event_get_kind(const xmppc_muc_event *event);
/** The name of an event kind ("joined", "left", ...), or NULL.
 * @since 0.1 */
XMPPC_API const char *xmppc_muc_event_kind_name(xmppc_muc_event_kind kind);
/** The occupant concerned, or NULL for room-wide events. For departures
 * it is the occupant as it was, but with role none (the role it had is
 * xmppc_muc_event_old_role()); it is gone from the list after the call.
 * @since 0.1 */
XMPPC_API const xmppc_muc_occupant *
xmppc_muc_event_occupant(const xmppc_muc_event *event);
/** 1 when the event concerns our own occupant. @since 0.1 */
XMPPC_API int xmppc_muc_event_is_self(const xmppc_muc_event *event);
/** Who did it (nick or JID as the room says), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_event_actor(const xmppc_muc_event *event);
/** The reason given, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_event_reason(const xmppc_muc_event *event);
/** The nick before a nick change, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_event_old_nick(const xmppc_muc_event *event);
/** The role before the event. @since 0.1 */
XMPPC_API xmppc_muc_role xmppc_muc_event_old_role(const xmppc_muc_event *event);
/** The affiliation before the event. @since 0.1 */
XMPPC_API xmppc_muc_affiliation
xmppc_muc_event_old_affiliation(const xmppc_muc_event *event);
/** The alternate venue of a destroyed room, or NULL. @since 0.1 */
XMPPC_API const char *xmppc_muc_event_alternate(const xmppc_muc_event *event);
/** The new subject (::XMPPC_MUC_EV_SUBJECT; "" when cleared). @since 0.1 */
XMPPC_API const char *xmppc_muc_event_subject(const xmppc_muc_event *event);
/** The error (::XMPPC_MUC_EV_ERROR), or NULL. @since 0.1 */
XMPPC_API const xmppc_error *
xmppc_muc_event_error(const xmppc_muc_event *event);
/** 1 when the stanza carried `<status code='@p code'/>`. @since 0.1 */
XMPPC_API int xmppc_muc_event_has_status(const xmppc_muc_event *event,
                                         int code);
/** The presence or message that caused the event (borrowed). @since 0.1 */
XMPPC_API xmppc_stanza *xmppc_muc_event_stanza(const xmppc_muc_event *event);

/* ---- moderation and administration -------------------------------------- */

/**
 * Sets the role of the occupant @p nick (muc#admin item by nick):
 * ::XMPPC_MUC_ROLE_NONE kicks, ::XMPPC_MUC_ROLE_VISITOR revokes voice,
 * ::XMPPC_MUC_ROLE_PARTICIPANT grants voice (or revokes moderator),
 * ::XMPPC_MUC_ROLE_MODERATOR grants moderator.
 * @param reason may be NULL.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless joined. @since 0.1
 */
XMPPC_API int xmppc_muc_room_set_role(xmppc_muc_room *room, const char *nick,
                                      xmppc_muc_role role, const char *reason,
                                      xmppc_muc_room_cb cb, void *userdata,
                                      xmppc_destroy_cb destroy);

/**
 * Sets the affiliation of the bare JID @p jid (muc#admin item by JID):
 * ::XMPPC_MUC_AFFIL_OUTCAST bans, ::XMPPC_MUC_AFFIL_MEMBER /
 * ::XMPPC_MUC_AFFIL_ADMIN / ::XMPPC_MUC_AFFIL_OWNER grant membership,
 * admin and owner status, ::XMPPC_MUC_AFFIL_NONE revokes them.
 * @return 0; XMPPC_EINVAL (invalid JID); XMPPC_ESTATE unless the
 *         connection is ready. @since 0.1
 */
XMPPC_API int
xmppc_muc_room_set_affiliation(xmppc_muc_room *room, const char *jid,
                               xmppc_muc_affiliation affiliation,
                               const char *reason, xmppc_muc_room_cb cb,
                               void *userdata, xmppc_destroy_cb destroy);

/** Kicks @p nick: xmppc_muc_room_set_role() with ::XMPPC_MUC_ROLE_NONE.
 * @since 0.1 */
XMPPC_API int xmppc_muc_room_kick(xmppc_muc_room *room, const char *nick,
                                  const char *reason, xmppc_muc_room_cb cb,
                                  void *userdata, xmppc_destroy_cb destroy);

/** Bans @p jid: xmppc_muc_room_set_affiliation() with
 * ::XMPPC_MUC_AFFIL_OUTCAST. @since 0.1 */
XMPPC_API int xmppc_muc_room_ban(xmppc_muc_room *room, const char *jid,
                                 const char *reason, xmppc_muc_room_cb cb,
                                 void *userdata, xmppc_destroy_cb destroy);

/** One entry of an affiliation list (all strings borrowed for the call).
 */
typedef struct xmppc_muc_affiliation_entry {
    const char *jid;                   /**< the bare JID */
    const char *nick;                  /**< reserved nick, or NULL */
    const char *reason;                /**< reason (bans), or NULL */
    xmppc_muc_affiliation affiliation; /**< as asked for */
} xmppc_muc_affiliation_entry;

/**
 * An affiliation list.
 * @param entries @p count entries, or NULL on failure.
 * Scope: async.
 */
typedef void (*xmppc_muc_affiliations_cb)(
    xmppc_muc_room *room, const xmppc_muc_affiliation_entry *entries,
    size_t count, const xmppc_error *err, void *userdata);

/** Asks for the JIDs with @p affiliation (outcast, member, admin or
 * owner). @return 0; XMPPC_EINVAL (NULL @p cb, ::XMPPC_MUC_AFFIL_NONE);
 * XMPPC_ESTATE unless the connection is ready. @since 0.1 */
XMPPC_API int xmppc_muc_room_get_affiliations(xmppc_muc_room *room,
                                              xmppc_muc_affiliation affiliation,
                                              xmppc_muc_affiliations_cb cb,
                                              void *userdata,
                                              xmppc_destroy_cb destroy);

/* ---- invitations -------------------------------------------------------- */

/** Invites @p jid through the room (mediated, XEP-0045 §7.8.2).
 * @param reason may be NULL. @return 0; XMPPC_EINVAL; XMPPC_ESTATE
 * unless joined. @since 0.1 */
XMPPC_API int xmppc_muc_room_invite(xmppc_muc_room *room, const char *jid,
                                    const char *reason);

/** Invites @p jid to @p room_jid directly (XEP-0249), optionally with a
 * reason and the room password. @return 0; XMPPC_EINVAL; XMPPC_ESTATE
 * unless the connection is ready. @since 0.1 */
XMPPC_API int xmppc_muc_invite_direct(xmppc_muc *muc, const char *room_jid,
                                      const char *jid, const char *reason,
                                      const char *password);

/** Declines a mediated invitation to @p room_jid from @p inviter (sent
 * through the room). @return 0; XMPPC_EINVAL; XMPPC_ESTATE unless the
 * connection is ready. @since 0.1 */
XMPPC_API int xmppc_muc_decline(xmppc_muc *muc, const char *room_jid,
                                const char *inviter, const char *reason);

/** An invitation arrived. Scope: notified. */
typedef void (*xmppc_muc_invitation_cb)(xmppc_muc *muc,
                                        const xmppc_muc_invitation *invitation,
                                        void *userdata);

/** Listens for invitations of both kinds. @return 0; XMPPC_EINVAL;
 * XMPPC_ENOMEM (@p destroy is not called). @since 0.1 */
XMPPC_API int xmppc_muc_on_invitation(xmppc_muc *muc,
                                      xmppc_handler **handle_out,
                                      xmppc_muc_invitation_cb cb,
                                      void *userdata, xmppc_destroy_cb destroy);

/** The room invited to (bare JID). @since 0.1 */
XMPPC_API const char *
xmppc_muc_invitation_room(const xmppc_muc_invitation *invitation);
/** Who invited (their JID as given; for direct invitations the sender).
 * @since 0.1 */
XMPPC_API const char *
xmppc_muc_invitation_inviter(const xmppc_muc_invitation *invitation);
/** The reason, or NULL. @since 0.1 */
XMPPC_API const char *
xmppc_muc_invitation_reason(const xmppc_muc_invitation *invitation);
/** The room password, or NULL. @since 0.1 */
XMPPC_API const char *
xmppc_muc_invitation_password(const xmppc_muc_invitation *invitation);
/** 1 for a direct (XEP-0249) invitation, 0 for a mediated one.
 * @since 0.1 */
XMPPC_API int
xmppc_muc_invitation_is_direct(const xmppc_muc_invitation *invitation);
/** The message carrying it (borrowed). @since 0.1 */
XMPPC_API xmppc_stanza *
xmppc_muc_invitation_stanza(const xmppc_muc_invitation *invitation);

XMPPC_END_DECLS

#endif /* XMPPC_MUC_H */
