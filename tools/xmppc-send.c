/*
 * xmppc-send: send a message from the command line, like sendxmpp.
 * SPDX-License-Identifier: MIT
 *
 *   xmppc-send [options] RECIPIENT...
 *     -m, --message TEXT     the message (default: standard input)
 *     --jid JID              sender (or env XMPPC_JID)
 *     --password-file FILE   first line is the password (or env
 *                            XMPPC_PASSWORD)
 *     --server HOST[:PORT]   connect there instead of looking up SRV
 *     --direct-tls           TLS from the first byte (XEP-0368)
 *     --cafile FILE          extra trusted CA (PEM)
 *     --timeout SECONDS      for the whole job (default 30)
 *     --type chat|normal|headline   (default chat)
 *     --verbose, --debug     log to stderr (debug: XML, secrets redacted)
 *
 * Exits 0 only once the server has taken the messages (a ping sent after
 * them was answered). Exit codes: 2 usage, 3 DNS/connect, 4 TLS or
 * certificate, 5 authentication, 6 timeout, 7 stream or stanza error, 1
 * anything else; each failure prints one line on stderr.
 */
#include <time.h>

#include "../examples/example-options.h"

static int exit_code(int status)
{
    switch (status) {
    case XMPPC_EDNS:
    case XMPPC_ECONNECT:
        return 3;
    case XMPPC_ETLS:
    case XMPPC_ECERT:
        return 4;
    case XMPPC_EAUTH:
        return 5;
    case XMPPC_ETIMEDOUT:
        return 6;
    case XMPPC_ESTREAM:
    case XMPPC_ESTANZA:
        return 7;
    default:
        return 1;
    }
}

static const char usage_text[] =
    "usage: xmppc-send [--message TEXT] [--jid JID] [--password-file FILE]\n"
    "                  [--server HOST[:PORT]] [--direct-tls] [--cafile FILE]\n"
    "                  [--timeout SECONDS] [--type chat|normal|headline]\n"
    "                  [--verbose|--debug] RECIPIENT...\n"
    "The message is read from standard input without --message. The password\n"
    "comes from XMPPC_PASSWORD or --password-file, the JID from --jid or\n"
    "XMPPC_JID. Exit codes: 0 the server took the messages, 2 usage,\n"
    "3 DNS/connect, 4 TLS/certificate, 5 authentication, 6 timeout,\n"
    "7 stream or stanza error, 1 other.\n";

/* Every failure is one line on stderr. */
static int usage(const char *problem)
{
    fprintf(stderr, "xmppc-send: %s (see xmppc-send --help)\n", problem);
    return 2;
}

/* Reads standard input whole (bounded: a message, not a file transfer). */
static char *read_stdin(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (len + 1 == cap) {
            if (cap >= 1024 * 1024) {
                free(buf);
                return NULL;
            }
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger)
                free(buf);
            buf = bigger;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    example_options o = {0};
    o.log_level = XMPPC_LOG_NONE;
    const char *message = NULL, *type = "chat";
    int timeout_s = 30;
    const char *recipients[64];
    int nrecipients = 0;
    for (int i = 1; i < argc; i++) {
        int r = example_option(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 1)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
        if ((strcmp(a, "--message") == 0 || strcmp(a, "-m") == 0) &&
            i + 1 < argc)
            message = argv[++i];
        else if (strcmp(a, "--timeout") == 0 && i + 1 < argc)
            timeout_s = atoi(argv[++i]);
        else if (strcmp(a, "--type") == 0 && i + 1 < argc)
            type = argv[++i];
        else if (a[0] == '-')
            return usage("unknown option or missing value");
        else if (nrecipients < 64)
            recipients[nrecipients++] = a;
        else
            return usage("at most 64 recipients");
    }
    if (nrecipients == 0)
        return usage("no recipient");
    if (timeout_s <= 0)
        return usage("--timeout must be a positive number of seconds");
    if (strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0 &&
        strcmp(type, "headline") != 0)
        return usage("--type must be chat, normal or headline");
    char *from_stdin = NULL;
    if (!message) {
        if (!(from_stdin = read_stdin()))
            return fprintf(stderr, "xmppc-send: cannot read the message "
                                   "(at most 1 MiB) from standard input\n"),
                   1;
        size_t len = strlen(from_stdin);
        while (len &&
               (from_stdin[len - 1] == '\n' || from_stdin[len - 1] == '\r'))
            from_stdin[--len] = '\0';
        message = from_stdin;
    }

    xmppc_conn *conn = example_connection(&o);
    if (!conn) {
        free(from_stdin);
        return 2;
    }
    long long deadline = now_ms() + timeout_s * 1000LL;
    int rc = xmppc_conn_connect_sync(conn, timeout_s * 1000);
    for (int i = 0; rc == 0 && i < nrecipients; i++) {
        xmppc_stanza *msg = NULL;
        rc = xmppc_message_new(&msg, type, recipients[i], message);
        if (rc == 0)
            rc = xmppc_stanza_set_new_id(msg);
        if (rc == 0)
            rc = xmppc_conn_send(conn, msg);
        xmppc_stanza_unref(msg);
    }
    if (rc == 0) {
        long long left = deadline - now_ms();
        rc = xmppc_conn_flush_sync(conn, 1, left > 0 ? (int)left : 1);
    }
    int code = 0;
    if (rc < 0) {
        fprintf(stderr, "xmppc-send: %s\n", xmppc_error_last()->message);
        code = rc == XMPPC_EINVAL ? 2 : exit_code(rc);
    } else if (o.log_level >= XMPPC_LOG_INFO) {
        fprintf(stderr,
                "xmppc-send: delivered to the server for %d "
                "recipient(s)\n",
                nrecipients);
    }
    long long left = deadline - now_ms();
    if (xmppc_conn_get_state(conn) != XMPPC_STATE_DISCONNECTED)
        xmppc_conn_disconnect_sync(conn, left > 5000 ? 5000
                                         : left > 0  ? (int)left
                                                     : 1);
    xmppc_conn_unref(conn);
    free(from_stdin);
    return code;
}
