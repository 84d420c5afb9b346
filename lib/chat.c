/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * One-to-one messages, written on the public stanza and connection API
 * only, as an application could write them.
 */
#include <string.h>

#include "xmppc-private.h"
#include <xmppc/chat.h>
#include <xmppc/conn.h>
#include <xmppc/stanza.h>

static int send_message(xmppc_conn *conn, const char *type, const char *to,
                        const char *text, const char *thread)
{
    xmppc_stanza *msg = NULL;
    int rc = xmppc_message_new(&msg, type, to, text);
    if (rc == 0 && thread)
        rc = xmppc_message_set_thread(msg, thread);
    if (rc == 0)
        rc = xmppc_stanza_set_new_id(msg);
    if (rc == 0)
        rc = xmppc_conn_send(conn, msg);
    xmppc_stanza_unref(msg);
    return rc;
}

XMPPC_API int xmppc_chat_send_text(xmppc_conn *conn, const char *to,
                                   const char *text)
{
    if (!conn || !to || !text)
        return xmppc__error(XMPPC_EINVAL, "chat_send_text: NULL argument");
    return send_message(conn, "chat", to, text, NULL);
}

XMPPC_API int xmppc_chat_reply_text(xmppc_conn *conn,
                                    const xmppc_stanza *message,
                                    const char *text)
{
    if (!conn || !message || !text)
        return xmppc__error(XMPPC_EINVAL, "chat_reply_text: NULL argument");
    const char *from = xmppc_stanza_get_from(message);
    if (!from)
        return xmppc__error(XMPPC_EINVAL, "the message has no sender");
    const char *type = xmppc_stanza_get_type(message);
    if (!type || strcmp(type, "error") == 0 || strcmp(type, "groupchat") == 0)
        type = "chat";
    return send_message(conn, type, from, text,
                        xmppc_message_get_thread(message));
}
