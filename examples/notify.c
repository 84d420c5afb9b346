/*
 * libxmppc example: the notification bot of DESIGN.md.
 * SPDX-License-Identifier: MIT
 *
 *   XMPP_JID=alerts@example.org XMPP_PASS=... XMPP_TO=ops@example.org \
 *       ./notify "nightly backup: OK"
 *
 * Optional: XMPP_SERVER=host[:port] (skip SRV), XMPP_CAFILE=ca.pem.
 */
#include <stdio.h>
#include <stdlib.h>

#include <xmppc/xmppc.h>

static void optional_settings(xmppc_conn *conn)
{
    const char *server = getenv("XMPP_SERVER"), *ca = getenv("XMPP_CAFILE");
    if (server) {
        char host[256];
        unsigned int port = 0;
        if (sscanf(server, "%255[^:]:%u", host, &port) >= 1)
            xmppc_conn_set_server(conn, host, port);
    }
    if (ca)
        xmppc_conn_set_ca_file(conn, ca);
}

int main(int argc, char **argv)
{
    const char *text = argc > 1 ? argv[1] : "nightly backup: OK";
    xmppc_conn *conn = NULL;
    if (xmppc_conn_new(&conn, getenv("XMPP_JID"), getenv("XMPP_PASS")) < 0 ||
        (optional_settings(conn), xmppc_conn_connect_sync(conn, 15000)) < 0 ||
        xmppc_chat_send_text(conn, getenv("XMPP_TO"), text) < 0 ||
        xmppc_conn_flush_sync(conn, 1, 5000) < 0) { /* the server has it */
        fprintf(stderr, "xmppc: %s\n", xmppc_error_last()->message);
        xmppc_conn_unref(conn);
        return 1;
    }
    xmppc_conn_disconnect_sync(conn, 5000); /* flush, close stream */
    xmppc_conn_unref(conn);
    return 0;
}
