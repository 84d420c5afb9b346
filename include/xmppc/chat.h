/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/chat.h
 * @brief One-to-one messages.
 *
 * The full Chat manager (per-peer chats, listeners, chat states, receipts)
 * grows here; today it holds the calls a notification bot and an echo bot
 * need.
 *
 * Thread-safety: as conn.h.
 * @since 0.1
 */
#ifndef XMPPC_CHAT_H
#define XMPPC_CHAT_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/**
 * Sends a chat message with a body.
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
 * thread, if any.
 * @return as xmppc_chat_send_text(); XMPPC_EINVAL when @p message has no
 *         sender.
 * @since 0.1
 */
XMPPC_API int xmppc_chat_reply_text(xmppc_conn *conn,
                                    const xmppc_stanza *message,
                                    const char *text);

XMPPC_END_DECLS

#endif /* XMPPC_CHAT_H */
