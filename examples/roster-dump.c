/*
 * libxmppc examples: roster-dump — prints the roster, one item a line:
 *
 *   JID<TAB>subscription<TAB>name<TAB>group,group
 *
 * then exits 0 (non-zero, with one line on stderr, on failure).
 *
 *   roster-dump [connection options, see example-options.h]
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "example-options.h"

typedef struct fetch {
    xmppc_loop *loop;
    int done;
    int code;
    char message[512];
} fetch;

static void on_roster(xmppc_roster *roster, const xmppc_error *err,
                      void *userdata)
{
    (void)roster;
    fetch *f = userdata;
    f->done = 1;
    if (err) {
        f->code = err->code;
        snprintf(f->message, sizeof f->message, "%s", err->message);
    }
}

int main(int argc, char **argv)
{
    example_options o = {0};
    o.log_level = XMPPC_LOG_NONE;
    for (int i = 1; i < argc; i++) {
        int r = example_option(&o, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == 0) {
            fprintf(stderr, "roster-dump: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    xmppc_conn *conn = example_connection(&o);
    if (!conn)
        return 1;
    fetch f = {0};
    /* Set up before connecting, the manager would fetch at login by
     * itself; here the fetch is explicit, for its result callback. */
    xmppc_roster *roster = xmppc_roster_get(conn);
    if (!roster || xmppc_roster_set_load_at_login(roster, 0) < 0 ||
        xmppc_loop_new(&f.loop) < 0 || xmppc_loop_add(f.loop, conn) < 0 ||
        xmppc_conn_connect_sync(conn, 30000) < 0 ||
        xmppc_roster_request(roster, on_roster, &f, NULL) < 0) {
        fprintf(stderr, "roster-dump: %s\n", xmppc_error_last()->message);
        xmppc_loop_free(f.loop);
        xmppc_conn_unref(conn);
        return 1;
    }
    while (!f.done && xmppc_loop_run_once(f.loop, 1000) == 0)
        ;
    int rc = 0;
    if (!f.done || f.code) {
        const xmppc_error *err = xmppc_conn_get_error(conn);
        fprintf(stderr, "roster-dump: cannot fetch the roster: %s\n",
                f.done ? f.message
                       : (err ? err->message : "the connection ended"));
        rc = 1;
    } else {
        for (size_t i = 0; i < xmppc_roster_count(roster); i++) {
            const xmppc_roster_item *it = xmppc_roster_at(roster, i);
            const char *name = xmppc_roster_item_name(it);
            printf("%s\t%s\t%s\t", xmppc_roster_item_jid(it),
                   xmppc_roster_subscription_name(
                       xmppc_roster_item_subscription(it)),
                   name ? name : "");
            for (size_t g = 0; g < xmppc_roster_item_group_count(it); g++)
                printf("%s%s", g ? "," : "", xmppc_roster_item_group_at(it, g));
            printf("\n");
        }
    }
    if (xmppc_conn_get_state(conn) != XMPPC_STATE_DISCONNECTED &&
        xmppc_conn_disconnect(conn) == 0)
        while (xmppc_conn_get_state(conn) != XMPPC_STATE_DISCONNECTED &&
               xmppc_loop_run_once(f.loop, 1000) == 0)
            ;
    xmppc_loop_free(f.loop);
    xmppc_conn_unref(conn);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "roster-dump: cannot write the output\n");
        rc = 1;
    }
    return rc;
}
