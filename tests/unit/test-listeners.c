/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * State listeners (xmppc_conn_add_state_listener): order after the
 * application's callback, removal inside a callback, destroy exactly once,
 * handles that outlive the connection. State changes come from the test
 * transport.
 */
#include <string.h>

#include "../xtest.h"
#include "conn-private.h"
#include "xmppc/conn.h"

/* ---- state listeners ---- */
static char seen[32];
static int listener_destroys;
static xmppc_state_listener *self_removing;

static void add_seen(char tag, xmppc_conn_state state)
{
    size_t n = strlen(seen);
    if (n + 2 < sizeof seen) {
        seen[n] = tag;
        seen[n + 1] = state == XMPPC_STATE_READY ? 'R' : 'D';
    }
}

static void app_state(xmppc_conn *c, xmppc_conn_state state,
                      const xmppc_error *err, void *ud)
{
    (void)c, (void)err, (void)ud;
    add_seen('A', state);
}

static void listener_state(xmppc_conn *c, xmppc_conn_state state,
                           const xmppc_error *err, void *ud)
{
    (void)c, (void)err;
    add_seen(*(const char *)ud, state);
}

static void removes_itself(xmppc_conn *c, xmppc_conn_state state,
                           const xmppc_error *err, void *ud)
{
    listener_state(c, state, err, ud);
    xmppc_state_listener_free(self_removing); /* inside its own callback */
    self_removing = NULL;
}

static void on_listener_destroy(void *ud)
{
    (void)ud;
    listener_destroys++;
}

static void ignore_sent(void *ud, const char *xml)
{
    (void)ud, (void)xml;
}

static void test_state_listeners(void)
{
    memset(seen, 0, sizeof seen);
    listener_destroys = 0;
    xmppc_conn *c = NULL;
    XT_EQ_INT(xmppc_conn_new(&c, "alice@example.org", "pw"), 0);
    XT_EQ_INT(xmppc_conn_set_state_cb(c, app_state, NULL), 0);
    static const char one = '1', two = '2', three = '3';
    xmppc_state_listener *kept = NULL;
    XT_EQ_INT(xmppc_conn_add_state_listener(c, &kept, listener_state,
                                            (void *)&one, on_listener_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_state_listener(c, &self_removing, removes_itself,
                                            (void *)&two, on_listener_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_state_listener(
                  c, NULL, listener_state, (void *)&three, on_listener_destroy),
              0);
    XT_EQ_INT(xmppc_conn_add_state_listener(c, NULL, NULL, NULL, NULL),
              XMPPC_EINVAL);
    XT_EQ_INT(
        xmppc_conn_add_state_listener(NULL, NULL, listener_state, NULL, NULL),
        XMPPC_EINVAL);

    XT_EQ_INT(
        xmppc__conn_test_ready(c, "alice@example.org/r", ignore_sent, NULL), 0);
    XT_EQ_STR(seen, "AR1R2R3R");     /* app first, then in registration order */
    XT_EQ_INT(listener_destroys, 1); /* '2' removed itself */
    XT_CHECK(self_removing == NULL);

    xmppc_state_listener_remove(kept);
    XT_EQ_INT(listener_destroys, 2);
    xmppc_state_listener_remove(kept); /* twice: nothing more */
    XT_EQ_INT(listener_destroys, 2);

    memset(seen, 0, sizeof seen);
    xmppc__conn_test_disconnect(c);
    XT_EQ_STR(seen, "AD3D");
    xmppc_conn_unref(c); /* the floating listener goes with it */
    XT_EQ_INT(listener_destroys, 3);
    xmppc_state_listener_free(kept); /* after the connection: still safe */
    xmppc_state_listener_free(NULL);
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_state_listeners))
