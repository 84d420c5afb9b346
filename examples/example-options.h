/*
 * libxmppc examples: the connection options every example takes.
 * SPDX-License-Identifier: MIT
 *
 *   --jid JID            account (or env XMPPC_JID)
 *   --password-file F    first line is the password (or env XMPPC_PASSWORD)
 *   --server HOST[:PORT] connect there instead of looking up SRV records
 *   --direct-tls         TLS from the first byte (XEP-0368)
 *   --cafile FILE        extra trusted CA (PEM)
 *   --verbose / --debug  log to stderr (debug: XML trace, secrets redacted)
 */
#ifndef XMPPC_EXAMPLE_OPTIONS_H
#define XMPPC_EXAMPLE_OPTIONS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmppc/xmppc.h>

typedef struct example_options {
    const char *jid, *password_file, *server, *cafile;
    int direct_tls;
    xmppc_log_level log_level;
    char password[1024];
} example_options;

static void example_log(xmppc_conn *conn, xmppc_log_level level,
                        const char *area, const char *message, void *userdata)
{
    (void)conn;
    (void)userdata;
    fprintf(stderr, "[%s %s] %s\n", xmppc_log_level_name(level), area, message);
}

/* Consumes a connection option at argv[*i]; 1 if it was one, 0 if not,
 * -1 on a usage error. */
static int example_option(example_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char **target = NULL;
    if (strcmp(a, "--jid") == 0)
        target = &o->jid;
    else if (strcmp(a, "--password-file") == 0)
        target = &o->password_file;
    else if (strcmp(a, "--server") == 0)
        target = &o->server;
    else if (strcmp(a, "--cafile") == 0)
        target = &o->cafile;
    else if (strcmp(a, "--direct-tls") == 0)
        return o->direct_tls = 1;
    else if (strcmp(a, "--verbose") == 0)
        return o->log_level = XMPPC_LOG_INFO, 1;
    else if (strcmp(a, "--debug") == 0)
        return o->log_level = XMPPC_LOG_TRACE, 1;
    else
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", a);
        return -1;
    }
    *target = argv[++*i];
    return 1;
}

/* Creates and configures the connection; prints the problem and returns
 * NULL on failure. */
static xmppc_conn *example_connection(example_options *o)
{
    const char *jid = o->jid ? o->jid : getenv("XMPPC_JID");
    const char *password = getenv("XMPPC_PASSWORD");
    if (o->password_file) {
        FILE *f = fopen(o->password_file, "r");
        if (!f || !fgets(o->password, sizeof o->password, f)) {
            fprintf(stderr, "cannot read the password from %s\n",
                    o->password_file);
            if (f)
                fclose(f);
            return NULL;
        }
        fclose(f);
        o->password[strcspn(o->password, "\r\n")] = '\0';
        password = o->password;
    }
    if (!jid || !password) {
        fprintf(stderr, "give --jid (or XMPPC_JID) and --password-file (or "
                        "XMPPC_PASSWORD)\n");
        return NULL;
    }
    xmppc_conn *conn = NULL;
    int rc = xmppc_conn_new(&conn, jid, password);
    if (rc == 0 && o->server) {
        char host[256];
        unsigned int port = 0;
        if (sscanf(o->server, "%255[^:]:%u", host, &port) < 1 ||
            (host[0] == '[' &&
             sscanf(o->server, "[%255[^]]]:%u", host, &port) < 1))
            rc = xmppc_error_set(XMPPC_EINVAL, "bad --server value");
        else
            rc = xmppc_conn_set_server(conn, host, port);
    }
    if (rc == 0)
        rc = xmppc_conn_set_direct_tls(conn, o->direct_tls);
    if (rc == 0 && o->cafile)
        rc = xmppc_conn_set_ca_file(conn, o->cafile);
    if (rc == 0 && o->log_level > XMPPC_LOG_NONE)
        rc = xmppc_conn_set_log_cb(conn, example_log, NULL, o->log_level);
    if (rc < 0) {
        fprintf(stderr, "xmppc: %s\n", xmppc_error_last()->message);
        xmppc_conn_unref(conn);
        return NULL;
    }
    return conn;
}

#endif /* XMPPC_EXAMPLE_OPTIONS_H */
