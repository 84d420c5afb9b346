/*
 * libxmppc example: a bot that answers every chat message with its body.
 * SPDX-License-Identifier: MIT
 *
 *   echo-bot --jid bot@example.org --password-file pw [--server HOST[:PORT]]
 *            [--direct-tls] [--cafile FILE] [--verbose|--debug] [--count N]
 *
 * Runs until SIGINT/SIGTERM (or after N echoes), then disconnects cleanly.
 * Prints "echo: FROM: TEXT" for every message it answers. Before each echo
 * it sends a "composing" chat state (XEP-0085); the echo carries "active".
 * Delivery receipt requests (XEP-0184) are answered by the library.
 */
#include <signal.h>

#include "example-options.h"

static volatile sig_atomic_t stop_requested;
static int echoes, max_echoes;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int on_message(xmppc_conn *conn, xmppc_stanza *msg, void *userdata)
{
    (void)userdata;
    const char *body = xmppc_message_get_body(msg);
    const char *type = xmppc_stanza_get_type(msg);
    if (!body || (type && strcmp(type, "error") == 0))
        return XMPPC_CONTINUE;
    printf("echo: %s: %s\n", xmppc_stanza_get_from(msg), body);
    fflush(stdout);
    /* "Typing...", then the echo (with <active/>, see main()). */
    if (xmppc_chat_send_state(conn, xmppc_stanza_get_from(msg),
                              XMPPC_CHAT_STATE_COMPOSING) < 0)
        fprintf(stderr, "state: %s\n", xmppc_error_last()->message);
    if (xmppc_chat_reply_text(conn, msg, body) < 0)
        fprintf(stderr, "reply: %s\n", xmppc_error_last()->message);
    if (max_echoes && ++echoes >= max_echoes)
        stop_requested = 1;
    return XMPPC_HANDLED;
}

int main(int argc, char **argv)
{
    example_options o = {0};
    o.log_level = XMPPC_LOG_NONE;
    for (int i = 1; i < argc; i++) {
        int r = example_option(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 0 && strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            max_echoes = atoi(argv[++i]);
        } else if (r == 0) {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    xmppc_conn *conn = example_connection(&o);
    if (!conn)
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* Receipts are answered by the chat manager, set up before our handler
     * (which stops dispatch) so that it sees every message first. */
    if (xmppc_chat_enable_receipts(conn, 1) < 0 ||
        xmppc_chat_set_send_active(conn, 1) < 0 ||
        xmppc_conn_add_handler(conn, NULL, "message", NULL, NULL, on_message,
                               NULL, NULL) < 0) {
        fprintf(stderr, "xmppc: %s\n", xmppc_error_last()->message);
        xmppc_conn_unref(conn);
        return 1;
    }
    /* Our own loop, so that the blocking connect and the echo loop share
     * it. */
    xmppc_loop *loop = NULL;
    if (xmppc_loop_new(&loop) < 0 || xmppc_loop_add(loop, conn) < 0 ||
        xmppc_conn_connect_sync(conn, 30000) < 0) {
        xmppc_loop_free(loop);
        fprintf(stderr, "xmppc: %s\n", xmppc_error_last()->message);
        xmppc_conn_unref(conn);
        return 1;
    }
    /* Available presence, so that messages to the bare JID reach us. */
    xmppc_stanza *presence = NULL;
    xmppc_presence_new(&presence, NULL, NULL);
    xmppc_conn_send(conn, presence);
    xmppc_stanza_unref(presence);
    printf("echo-bot: online as %s\n", xmppc_conn_get_bound_jid(conn));
    fflush(stdout);

    int rc = 0;
    /* A short wait lets a signal end the loop promptly. */
    while (rc == 0 && !stop_requested &&
           xmppc_conn_get_state(conn) == XMPPC_STATE_READY)
        rc = xmppc_loop_run_once(loop, 200);
    const xmppc_error *err = xmppc_conn_get_error(conn);
    if (xmppc_conn_get_state(conn) == XMPPC_STATE_DISCONNECTED && err) {
        fprintf(stderr, "xmppc: %s\n", err->message);
        rc = err->code;
    } else {
        xmppc_conn_disconnect(conn);
        while (xmppc_conn_get_state(conn) != XMPPC_STATE_DISCONNECTED &&
               xmppc_loop_run_once(loop, 1000) == 0)
            ;
    }
    xmppc_loop_free(loop);
    xmppc_conn_unref(conn);
    printf("echo-bot: done (%d echoes)\n", echoes);
    return rc < 0;
}
