/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include <pthread.h>

#include "../xtest.h"
#include "xmppc-private.h"

static void test_last_error_starts_clear(void)
{
    const xmppc_error *err = xmppc_error_last();
    XT_CHECK(err != NULL);
    XT_EQ_INT(err->version, XMPPC_ERROR_VERSION);
    XT_EQ_INT(err->code, XMPPC_OK);
    XT_EQ_STR(err->message, "no error");
    XT_CHECK(err->condition == NULL);
    XT_CHECK(err->type == NULL);
    XT_CHECK(err->text == NULL);
    XT_CHECK(err->stanza == NULL);
}

static void test_internal_error_sets_message_and_returns_code(void)
{
    int rc = xmppc__error(XMPPC_EINVAL, "jid: empty %s", "domain");
    XT_EQ_INT(rc, XMPPC_EINVAL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_EINVAL);
    XT_EQ_STR(xmppc_error_last()->message, "jid: empty domain");
    xmppc_error_clear();
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_OK);
    XT_EQ_STR(xmppc_error_last()->message, "no error");
}

static void test_xmpp_error_fields(void)
{
    xmppc__error_xmpp(XMPPC_ESTREAM, "see-other-host", NULL, "moved",
                      "stream error: %s", "see-other-host");
    const xmppc_error *err = xmppc_error_last();
    XT_EQ_INT(err->code, XMPPC_ESTREAM);
    XT_EQ_STR(err->condition, "see-other-host");
    XT_CHECK(err->type == NULL);
    XT_EQ_STR(err->text, "moved");
    XT_EQ_STR(err->message, "stream error: see-other-host");
    /* A later plain error drops the XMPP fields. */
    xmppc__error(XMPPC_EINVAL, "plain");
    XT_CHECK(xmppc_error_last()->condition == NULL);
    XT_CHECK(xmppc_error_last()->text == NULL);
    xmppc_error_clear();
}

static void test_message_may_quote_previous_error(void)
{
    xmppc__error(XMPPC_ETLS, "handshake failed");
    xmppc__error(XMPPC_ECONNECT, "connect: %s (%s)",
                 xmppc_error_last()->message, "127.0.0.1");
    XT_EQ_STR(xmppc_error_last()->message,
              "connect: handshake failed (127.0.0.1)");
    xmppc_error_clear();
}

static void test_long_message_truncated_on_character_boundary(void)
{
    /* 2-byte "é" repeated well past the 1024-byte buffer, offset by one
     * ASCII byte so a naive cut would split a character. */
    char text[3001];
    text[0] = 'x';
    for (size_t i = 1; i + 1 < sizeof text; i += 2) {
        text[i] = (char)0xC3;
        text[i + 1] = (char)0xA9;
    }
    text[sizeof text - 1] = '\0';
    xmppc__error_xmpp(XMPPC_ESTANZA, "bad-request", "modify", text, "%s", text);
    const xmppc_error *err = xmppc_error_last();
    size_t len = strlen(err->message);
    XT_CHECK(len > 1000 && len < 1024);
    XT_CHECK(((unsigned char)err->message[len - 1] & 0xC0) == 0x80);
    XT_CHECK((unsigned char)err->message[len - 2] == 0xC3);
    XT_CHECK(strlen(err->text) < 1024);
    xmppc_error_clear();
}

static void test_public_set(void)
{
    XT_EQ_INT(xmppc_error_set(XMPPC_EUSER, "callback refused"), XMPPC_EUSER);
    XT_EQ_STR(xmppc_error_last()->message, "callback refused");
    XT_EQ_INT(xmppc_error_set(XMPPC_EUSER, NULL), XMPPC_EUSER);
    XT_EQ_STR(xmppc_error_last()->message, xmppc_strerror(XMPPC_EUSER));
    XT_EQ_INT(xmppc_error_set(0, "not an error"), XMPPC_EINVAL);
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_EINVAL);
    XT_CHECK(strstr(xmppc_error_last()->message, "not a negative") != NULL);
    xmppc_error_clear();
}

static void test_strerror_and_names_cover_every_code(void)
{
    static const int codes[] = {
        XMPPC_OK,      XMPPC_ERROR,         XMPPC_ENOMEM,       XMPPC_EINVAL,
        XMPPC_ESTATE,  XMPPC_EAGAIN,        XMPPC_ETIMEDOUT,    XMPPC_ECANCELED,
        XMPPC_ELIMIT,  XMPPC_ENOTSUP,       XMPPC_EDNS,         XMPPC_ECONNECT,
        XMPPC_ETLS,    XMPPC_ECERT,         XMPPC_EAUTH,        XMPPC_ESTREAM,
        XMPPC_ESTANZA, XMPPC_EDISCONNECTED, XMPPC_EPARSE,       XMPPC_EPROTO,
        XMPPC_EIO,     XMPPC_EUSER,         XMPPC_EPASSTHROUGH,
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        XT_CHECK(strcmp(xmppc_strerror(codes[i]), "unknown status") != 0);
        XT_CHECK(xmppc_status_name(codes[i]) != NULL);
        for (size_t j = 0; j < i; j++)
            XT_CHECK(strcmp(xmppc_strerror(codes[i]),
                            xmppc_strerror(codes[j])) != 0);
    }
    XT_EQ_STR(xmppc_status_name(XMPPC_ECERT), "XMPPC_ECERT");
    XT_EQ_STR(xmppc_strerror(-12345), "unknown status");
    XT_CHECK(xmppc_status_name(-12345) == NULL);
    XT_EQ_STR(xmppc_strerror(7), "unknown status");
}

static void *other_thread(void *arg)
{
    const xmppc_error **seen = arg;
    *seen = xmppc_error_last();
    /* This thread starts clean and its error stays its own. */
    if ((*seen)->code == XMPPC_OK)
        xmppc__error(XMPPC_ETIMEDOUT, "other thread");
    return NULL;
}

static void test_last_error_is_per_thread(void)
{
    xmppc__error(XMPPC_EAUTH, "main thread");
    const xmppc_error *seen = NULL;
    pthread_t t;
    XT_EQ_INT(pthread_create(&t, NULL, other_thread, &seen), 0);
    pthread_join(t, NULL);
    XT_CHECK(seen != NULL && seen != xmppc_error_last());
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_EAUTH);
    XT_EQ_STR(xmppc_error_last()->message, "main thread");
    xmppc_error_clear();
}

static void test_store_for_async_errors(void)
{
    xmppc__error_store store;
    xmppc__error_store_clear(&store);
    XT_EQ_INT(store.pub.code, XMPPC_OK);
    XT_EQ_INT(xmppc__error_store_set(&store, XMPPC_ESTANZA, "item-not-found",
                                     "cancel", NULL, "iq %s failed", "q1"),
              XMPPC_ESTANZA);
    XT_EQ_STR(store.pub.condition, "item-not-found");
    XT_EQ_STR(store.pub.type, "cancel");
    XT_EQ_STR(store.pub.message, "iq q1 failed");
    /* The thread's last error is untouched until asked. */
    XT_EQ_INT(xmppc_error_last()->code, XMPPC_OK);
    XT_EQ_INT(xmppc__error_from_store(&store), XMPPC_ESTANZA);
    XT_EQ_STR(xmppc_error_last()->condition, "item-not-found");
    XT_EQ_STR(xmppc_error_last()->message, "iq q1 failed");
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_last_error_starts_clear),
        XT_TEST(test_internal_error_sets_message_and_returns_code),
        XT_TEST(test_xmpp_error_fields),
        XT_TEST(test_message_may_quote_previous_error),
        XT_TEST(test_long_message_truncated_on_character_boundary),
        XT_TEST(test_public_set),
        XT_TEST(test_strerror_and_names_cover_every_code),
        XT_TEST(test_last_error_is_per_thread),
        XT_TEST(test_store_for_async_errors))
