/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Helpers for the integration tests run under tests/fixtures/
 * xmppc_fixture.py: its environment variables and test accounts.
 * Include after xtest.h, in tests that use both functions.
 */
#ifndef XMPPC_LIVE_H
#define XMPPC_LIVE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An environment variable the fixture sets; bails out without it. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        printf("Bail out! %s is not set: run under tests/fixtures/"
               "xmppc_fixture.py\n",
               name);
        exit(1);
    }
    return v;
}

/* The bare JID of test account @p i (0..7) of XMPPC_TEST_USERS; static
 * storage per index. */
static const char *user(int i)
{
    static char user_jid[8][256];
    char users[512];
    snprintf(users, sizeof users, "%s", env("XMPPC_TEST_USERS"));
    char *save = NULL, *name = strtok_r(users, " ", &save);
    for (int k = 0; k < i && name; k++)
        name = strtok_r(NULL, " ", &save);
    snprintf(user_jid[i & 7], sizeof user_jid[0], "%s@%s",
             name ? name : "nobody", env("XMPPC_TEST_DOMAIN"));
    return user_jid[i & 7];
}

#endif /* XMPPC_LIVE_H */
