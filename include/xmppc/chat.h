/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/chat.h
 * @brief One-to-one messages: text, delivery receipts (XEP-0184), chat
 *        states (XEP-0085) and Smack-compatible typed message properties.
 *
 * **The chat manager.** The first call of a function of this header that
 * takes a connection (sending, listening, configuring) sets up the
 * connection's chat manager: per-connection settings and one message
 * handler that answers receipt requests. Its handler is registered at
 * that moment, so to answer receipts for messages that a handler of
 * yours marks XMPPC_HANDLED, set the manager up first, e.g. with
 * xmppc_chat_enable_receipts(conn, 1) before xmppc_conn_add_handler().
 * The manager lives as long as the connection.
 *
 * **Delivery receipts (XEP-0184).** xmppc_chat_send_text_receipt() asks
 * the recipient to acknowledge a message; xmppc_chat_on_receipt() reports
 * the acknowledgements. Once the manager is set up, requests in incoming
 * messages are answered automatically with
 * `<message to='SENDER' id='NEW'><received xmlns='urn:xmpp:receipts'
 * id='ORIGINAL'/></message>` (turn this off with
 * xmppc_chat_enable_receipts(conn, 0)). No answer is sent for messages of
 * type "error" or "groupchat", messages without id or without sender.
 *
 * **Chat states (XEP-0085).** xmppc_chat_send_state() sends a standalone
 * notification; xmppc_chat_set_send_active() adds `<active/>` to every
 * message sent with xmppc_chat_send_text() and friends;
 * xmppc_chat_on_state() reports incoming states, standalone or attached
 * to a message with a body.
 *
 * **Listeners** are ordinary stanza handlers (see conn.h): each
 * registration returns an ::xmppc_handler handle released with
 * xmppc_handler_remove() / xmppc_handler_free(), calls @p destroy once
 * when the listener goes away, and never stops dispatch (other handlers
 * still see the message).
 *
 * **Message properties** are Smack's `JivePropertiesExtension`:
 * `<properties xmlns='http://www.jivesoftware.com/xmlns/xmpp/properties'>
 * <property><name>N</name><value type='T'>V</value></property>...
 * </properties>` with T one of "string", "integer" (32-bit), "long"
 * (64-bit), "float", "double", "boolean" ("true"/"false"). They work on
 * any message stanza, built or received.
 *
 * **Chats** (Smack's ChatManager): xmppc_chat_on_message() reports
 * incoming chat and normal messages with a body, and carbons of them
 * (carbons.h); xmppc_chat_get() gives the ::xmppc_chat of a peer, which
 * remembers where to answer; xmppc_chat_on_new_chat() reports peers that
 * write for the first time.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_CHAT_H
#define XMPPC_CHAT_H

#include <stdint.h>

#include <xmppc/common.h>
#include <xmppc/conn.h>
#include <xmppc/handler.h>

XMPPC_BEGIN_DECLS

/** The XEP-0184 namespace. */
#define XMPPC_NS_RECEIPTS "urn:xmpp:receipts"
/** The XEP-0085 namespace. */
#define XMPPC_NS_CHATSTATES "http://jabber.org/protocol/chatstates"
/** The namespace of Smack's message properties. */
#define XMPPC_NS_PROPERTIES "http://www.jivesoftware.com/xmlns/xmpp/properties"

/* ---- text ------------------------------------------------------------------
 */

/**
 * Sends a chat message with a body (plus `<active/>` when
 * xmppc_chat_set_send_active() is on).
 * @param to the recipient JID (validated and prepared).
 * @param text the body (UTF-8, XML 1.0 characters).
 * @return 0 once queued (see xmppc_conn_send()); XMPPC_EINVAL for an
 *         invalid JID or text; XMPPC_ESTATE unless ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_send_text(xmppc_conn *conn, const char *to,
                                   const char *text);

/**
 * Answers a received message: a message of the same type (chat by
 * default) with @p text as body, addressed to its sender and carrying its
 * thread, if any (plus `<active/>` when xmppc_chat_set_send_active() is
 * on).
 * @return as xmppc_chat_send_text(); XMPPC_EINVAL when @p message has no
 *         sender.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_reply_text(xmppc_conn *conn,
                                    const xmppc_stanza *message,
                                    const char *text);

/* ---- delivery receipts (XEP-0184) --------------------------------------- */

/**
 * Sends a chat message with a body and a receipt request
 * (`<request xmlns='urn:xmpp:receipts'/>`); the acknowledgement, if the
 * recipient sends one, reaches the listeners of xmppc_chat_on_receipt()
 * with the message's id.
 * @param[out] id_out the message's id (caller frees it with
 *             xmppc_free()), or NULL when not needed. Set only on success.
 * @return as xmppc_chat_send_text().
 * @since 0.1
 */
XMPPC_API int xmppc_chat_send_text_receipt(xmppc_conn *conn, const char *to,
                                           const char *text, char **id_out);

/**
 * Adds a receipt request to a message you build (for example one with
 * properties), and a fresh id when it has none. A second call changes
 * nothing.
 * @return 0; XMPPC_EINVAL when @p message is NULL or not a message;
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_message_request_receipt(xmppc_stanza *message);

/**
 * Turns the automatic answer to receipt requests on or off (on by default
 * once the chat manager is set up; see the file description).
 * @return 0; XMPPC_EINVAL for NULL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_enable_receipts(xmppc_conn *conn, int enabled);

/**
 * A delivery receipt arrived.
 * @param from the sender of the receipt (borrowed for the call; may be
 *        NULL when the server omitted it).
 * @param acked_id the id of the acknowledged message (borrowed for the
 *        call).
 * Scope: notified (until the listener is removed).
 */
typedef void (*xmppc_chat_receipt_cb)(xmppc_conn *conn, const char *from,
                                      const char *acked_id, void *userdata);

/**
 * Listens for delivery receipts (`<received/>` with an id, in messages
 * not of type "error").
 * @param[out] handle_out the listener's handle (caller owns it; release
 *             it with xmppc_handler_free()), or NULL for a listener that
 *             lives as long as the connection.
 * @param cb the listener; @p userdata is passed to it and to @p destroy.
 * @param destroy called once when the listener goes away (may be NULL).
 * @return 0; XMPPC_EINVAL for NULL @p conn or @p cb; XMPPC_ENOMEM
 *         (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_chat_on_receipt(xmppc_conn *conn,
                                    xmppc_handler **handle_out,
                                    xmppc_chat_receipt_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy);

/* ---- chat states (XEP-0085) --------------------------------------------- */

/** Chat states. */
typedef enum xmppc_chat_state {
    XMPPC_CHAT_STATE_ACTIVE = 0,    /**< paying attention */
    XMPPC_CHAT_STATE_COMPOSING = 1, /**< typing */
    XMPPC_CHAT_STATE_PAUSED = 2,    /**< stopped typing for a while */
    XMPPC_CHAT_STATE_INACTIVE = 3,  /**< not paying attention */
    XMPPC_CHAT_STATE_GONE = 4       /**< has ended the conversation */
} xmppc_chat_state;

/** The element name of a state ("active", "composing", "paused",
 * "inactive", "gone"), or NULL for a value out of range. @since 0.1 */
XMPPC_API const char *xmppc_chat_state_name(xmppc_chat_state state);

/**
 * Sends a standalone chat state notification: a message of type chat
 * with the state element and no body.
 * @return 0 once queued; XMPPC_EINVAL (invalid JID or state);
 *         XMPPC_ESTATE unless ready; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_send_state(xmppc_conn *conn, const char *to,
                                    xmppc_chat_state state);

/**
 * Whether messages sent with xmppc_chat_send_text(),
 * xmppc_chat_reply_text() and xmppc_chat_send_text_receipt() carry
 * `<active/>` (off by default).
 * @return 0; XMPPC_EINVAL for NULL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_set_send_active(xmppc_conn *conn, int enabled);

/**
 * Sets the chat state of a message you build (replacing any state it
 * has).
 * @return 0; XMPPC_EINVAL (not a message, invalid state); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_message_set_chat_state(xmppc_stanza *message,
                                           xmppc_chat_state state);

/**
 * Reads the chat state of a message.
 * @param[out] state_out the state.
 * @return 1 when the message carries a known state, 0 when it carries
 *         none; XMPPC_EINVAL for NULL arguments.
 * @since 0.1
 */
XMPPC_API int xmppc_message_get_chat_state(const xmppc_stanza *message,
                                           xmppc_chat_state *state_out);

/**
 * A chat state arrived (standalone or with a message body).
 * @param from the sender (borrowed for the call; may be NULL).
 * Scope: notified (until the listener is removed).
 */
typedef void (*xmppc_chat_state_cb)(xmppc_conn *conn, const char *from,
                                    xmppc_chat_state state, void *userdata);

/**
 * Listens for chat states in incoming messages (not of type "error").
 * Handle, @p userdata and @p destroy as xmppc_chat_on_receipt().
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_chat_on_state(xmppc_conn *conn, xmppc_handler **handle_out,
                                  xmppc_chat_state_cb cb, void *userdata,
                                  xmppc_destroy_cb destroy);

/* ---- incoming messages and per-peer chats (Smack's ChatManager) --------- */

/**
 * A one-to-one conversation with a peer (a bare JID): remembers the full
 * JID the peer last wrote from, so that xmppc_chat_send() answers that
 * resource until the peer writes from another one, and an optional thread
 * id. Borrowed from the connection (see xmppc_chat_get()); lives as long
 * as the connection.
 */
typedef struct xmppc_chat xmppc_chat;

/**
 * A chat or normal message with a body arrived, directly or as a carbon
 * (XEP-0280, carbons.h) of a message another resource of the account
 * received or sent.
 * @param msg the message (borrowed for the call); for a carbon, the
 *        forwarded message.
 * @param peer_bare_jid the other party (borrowed for the call): the
 *        sender's bare JID, or, for a sent carbon, the recipient's.
 * @param is_carbon_sent 1 for a carbon of a message sent by another
 *        resource of the account (then @p msg is from the account to the
 *        peer), else 0.
 * Scope: notified (until the listener is removed).
 */
typedef void (*xmppc_chat_message_cb)(xmppc_conn *conn, const xmppc_stanza *msg,
                                      const char *peer_bare_jid,
                                      int is_carbon_sent, void *userdata);

/**
 * Listens for incoming chat and normal messages with a body (not
 * "groupchat", "headline" or "error"; not from the server itself), and
 * for carbons of such messages. Also sets up the carbons manager
 * (carbons.h) so that only carbons from the own bare JID arrive here.
 * Handle, @p userdata and @p destroy as xmppc_chat_on_receipt().
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_chat_on_message(xmppc_conn *conn,
                                    xmppc_handler **handle_out,
                                    xmppc_chat_message_cb cb, void *userdata,
                                    xmppc_destroy_cb destroy);

/**
 * A message (or a carbon) came from or went to a peer that had no chat
 * yet; @p chat was just created. Called before the message listeners.
 * @param chat borrowed from the connection.
 * Scope: notified (until the listener is removed).
 */
typedef void (*xmppc_chat_new_cb)(xmppc_conn *conn, xmppc_chat *chat,
                                  void *userdata);

/**
 * Listens for new chats (sets up message tracking as
 * xmppc_chat_on_message()). Handle, @p userdata and @p destroy as
 * xmppc_chat_on_receipt().
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_chat_on_new_chat(xmppc_conn *conn,
                                     xmppc_handler **handle_out,
                                     xmppc_chat_new_cb cb, void *userdata,
                                     xmppc_destroy_cb destroy);

/**
 * The chat with @p peer_jid's bare JID, created when there is none (no
 * new-chat listener runs for chats created here). Sets up message
 * tracking as xmppc_chat_on_message(). A connection keeps at most 4096
 * chats; messages from further peers still reach the message listeners.
 * @param peer_jid any JID of the peer; a full JID is remembered as the
 *        address for xmppc_chat_send() when the chat is new.
 * @return the chat (borrowed; valid as long as the connection), or NULL:
 *         XMPPC_EINVAL (invalid JID), XMPPC_ELIMIT, XMPPC_ENOMEM via
 *         xmppc_error_last().
 * @since 0.1
 */
XMPPC_API xmppc_chat *xmppc_chat_get(xmppc_conn *conn, const char *peer_jid);

/** The number of chats of the connection (0 for NULL). @since 0.1 */
XMPPC_API size_t xmppc_chat_count(const xmppc_conn *conn);

/** The chat at @p index (0 .. count-1, in creation order; borrowed), or
 * NULL out of range. @since 0.1 */
XMPPC_API xmppc_chat *xmppc_chat_at(const xmppc_conn *conn, size_t index);

/** The chat's connection (borrowed). @since 0.1 */
XMPPC_API xmppc_conn *xmppc_chat_get_conn(const xmppc_chat *chat);

/** The peer's bare JID (borrowed, prepared). @since 0.1 */
XMPPC_API const char *xmppc_chat_peer(const xmppc_chat *chat);

/** Where xmppc_chat_send() sends: the full JID the peer last wrote from,
 * else the bare JID (borrowed; valid until the next message from the
 * peer). @since 0.1 */
XMPPC_API const char *xmppc_chat_get_address(const xmppc_chat *chat);

/** The chat's thread id (borrowed), or NULL. Taken from incoming messages
 * that carry one; set with xmppc_chat_set_thread(). @since 0.1 */
XMPPC_API const char *xmppc_chat_get_thread(const xmppc_chat *chat);

/** Sets (or with NULL clears) the thread id sent with xmppc_chat_send().
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_chat_set_thread(xmppc_chat *chat, const char *thread);

/**
 * Sends a chat message with a body to xmppc_chat_get_address(), with the
 * chat's thread if any (plus `<active/>` when xmppc_chat_set_send_active()
 * is on).
 * @return as xmppc_chat_send_text().
 * @since 0.1
 */
XMPPC_API int xmppc_chat_send(xmppc_chat *chat, const char *text);

/**
 * Sends a message you built (with a subject, `xml:lang`, properties,
 * another type...) in this chat, completing what it lacks: `to` (the
 * chat's address), type "chat", the chat's thread, an id, and `<active/>`
 * when xmppc_chat_set_send_active() is on and it has no chat state. The
 * message is changed in place; you keep your reference.
 * @return as xmppc_conn_send(); XMPPC_EINVAL for a NULL chat or a stanza
 *         that is not a message.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_send_message(xmppc_chat *chat, xmppc_stanza *message);

/**
 * Listens for the messages of one chat (Smack's Chat message listener):
 * as xmppc_chat_on_message(), but only those from or (sent carbons) to
 * the chat's peer.
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM (@p destroy is not called).
 * @since 0.1
 */
XMPPC_API int xmppc_chat_add_message_listener(xmppc_chat *chat,
                                              xmppc_handler **handle_out,
                                              xmppc_chat_message_cb cb,
                                              void *userdata,
                                              xmppc_destroy_cb destroy);

/* ---- message properties (Smack) ----------------------------------------- */

/**
 * Sets a property on a message, replacing one of the same name (whatever
 * its type). The setters write the value as Smack does: decimal integers,
 * "true"/"false", and floating-point numbers in the shortest form that
 * reads back to the same value ("NaN", "Infinity", "-Infinity" for the
 * special values, as Java writes them).
 * @param message a `<message/>` element.
 * @param name the property name (non-empty; UTF-8, XML 1.0 characters).
 * @return 0; XMPPC_EINVAL (not a message, invalid name or value);
 *         XMPPC_ENOMEM (the message is unchanged).
 * @since 0.1
 */
XMPPC_API int xmppc_message_set_property_string(xmppc_stanza *message,
                                                const char *name,
                                                const char *value);
/** A 32-bit "integer" property; as xmppc_message_set_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_set_property_int(xmppc_stanza *message,
                                             const char *name, int32_t value);
/** A 64-bit "long" property; as xmppc_message_set_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_set_property_long(xmppc_stanza *message,
                                              const char *name, int64_t value);
/** A "float" property; as xmppc_message_set_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_set_property_float(xmppc_stanza *message,
                                               const char *name, float value);
/** A "double" property; as xmppc_message_set_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_set_property_double(xmppc_stanza *message,
                                                const char *name, double value);
/** A "boolean" property (any non-zero @p value is true); as
 * xmppc_message_set_property_string(). @since 0.1 */
XMPPC_API int xmppc_message_set_property_bool(xmppc_stanza *message,
                                              const char *name, int value);

/**
 * Reads a property (the first of that name).
 * @param[out] out the value; for strings borrowed from the message ("" for
 *             an empty value). Untouched on failure.
 * @return 0; XMPPC_EINVAL when NULL arguments, no such property or a
 *         property of another type; XMPPC_EPROTO when the value is
 *         malformed (not a number, out of range, not "true"/"false").
 * @since 0.1
 */
XMPPC_API int xmppc_message_get_property_string(const xmppc_stanza *message,
                                                const char *name,
                                                const char **out);
/** Reads an "integer" property; as xmppc_message_get_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_get_property_int(const xmppc_stanza *message,
                                             const char *name, int32_t *out);
/** Reads a "long" property; as xmppc_message_get_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_get_property_long(const xmppc_stanza *message,
                                              const char *name, int64_t *out);
/** Reads a "float" property; as xmppc_message_get_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_get_property_float(const xmppc_stanza *message,
                                               const char *name, float *out);
/** Reads a "double" property; as xmppc_message_get_property_string().
 * @since 0.1 */
XMPPC_API int xmppc_message_get_property_double(const xmppc_stanza *message,
                                                const char *name, double *out);
/** Reads a "boolean" property (1 or 0; "true"/"false" in any case); as
 * xmppc_message_get_property_string(). @since 0.1 */
XMPPC_API int xmppc_message_get_property_bool(const xmppc_stanza *message,
                                              const char *name, int *out);

/** The number of `<property/>` elements of a message (0 without
 * properties or for NULL). @since 0.1 */
XMPPC_API size_t xmppc_message_property_count(const xmppc_stanza *message);

/**
 * The property at @p index (0 .. count-1), for iteration.
 * @param[out] name_out its name (borrowed; may be NULL).
 * @param[out] type_name_out its type as written, e.g. "integer" or a type
 *             this library does not read such as "java-object" (borrowed;
 *             may be NULL).
 * @return 0; XMPPC_EINVAL for an index out of range; XMPPC_EPROTO for a
 *         property without name, value or type.
 * @since 0.1
 */
XMPPC_API int xmppc_message_property_at(const xmppc_stanza *message,
                                        size_t index, const char **name_out,
                                        const char **type_name_out);

XMPPC_END_DECLS

#endif /* XMPPC_CHAT_H */
