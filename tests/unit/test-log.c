/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include "../xtest.h"
#include "xmppc-private.h"

struct capture {
    int calls;
    xmppc_log_level level;
    xmppc_conn *conn;
    char area[32];
    char message[4096];
};

static void capture_cb(xmppc_conn *conn, xmppc_log_level level,
                       const char *area, const char *message, void *userdata)
{
    struct capture *cap = userdata;
    cap->calls++;
    cap->level = level;
    cap->conn = conn;
    snprintf(cap->area, sizeof cap->area, "%s", area);
    snprintf(cap->message, sizeof cap->message, "%s", message);
}

static void test_silent_without_callback(void)
{
    XT_CHECK(!xmppc__log_enabled(NULL, XMPPC_LOG_ERROR));
    xmppc__log(NULL, XMPPC_LOG_ERROR, "test", "nobody hears %d", 1);
}

static void test_default_callback_filters_by_level(void)
{
    struct capture cap = {0};
    XT_EQ_INT(xmppc_set_log_cb(capture_cb, &cap, XMPPC_LOG_INFO), 0);
    XT_CHECK(xmppc__log_enabled(NULL, XMPPC_LOG_INFO));
    XT_CHECK(!xmppc__log_enabled(NULL, XMPPC_LOG_DEBUG));
    xmppc__log(NULL, XMPPC_LOG_DEBUG, "tls", "too verbose");
    XT_EQ_INT(cap.calls, 0);
    xmppc__log(NULL, XMPPC_LOG_WARN, "roster", "push from %s ignored",
               "mallory@evil.example");
    XT_EQ_INT(cap.calls, 1);
    XT_EQ_INT(cap.level, XMPPC_LOG_WARN);
    XT_EQ_STR(cap.area, "roster");
    XT_EQ_STR(cap.message, "push from mallory@evil.example ignored");
    XT_CHECK(cap.conn == NULL);
    XT_EQ_INT(xmppc_set_log_cb(NULL, NULL, XMPPC_LOG_TRACE), 0);
    xmppc__log(NULL, XMPPC_LOG_ERROR, "x", "dropped");
    XT_EQ_INT(cap.calls, 1);
}

static void test_component_logger_overrides_default(void)
{
    struct capture global = {0}, own = {0};
    xmppc_conn *fake_conn = (xmppc_conn *)&own; /* only compared, never used */
    XT_EQ_INT(xmppc_set_log_cb(capture_cb, &global, XMPPC_LOG_TRACE), 0);
    xmppc__logger logger = {capture_cb, &own, XMPPC_LOG_DEBUG, fake_conn};
    xmppc__log(&logger, XMPPC_LOG_DEBUG, "sasl", "mechanism %s", "SCRAM");
    xmppc__log(&logger, XMPPC_LOG_TRACE, "xml", "<not-shown/>");
    XT_EQ_INT(own.calls, 1);
    XT_EQ_STR(own.message, "mechanism SCRAM");
    XT_CHECK(own.conn == fake_conn);
    XT_EQ_INT(global.calls, 0);
    /* A logger without a callback falls back to the default, with conn. */
    xmppc__logger bare = {NULL, NULL, XMPPC_LOG_NONE, fake_conn};
    xmppc__log(&bare, XMPPC_LOG_TRACE, "xml", "<shown/>");
    XT_EQ_INT(global.calls, 1);
    XT_CHECK(global.conn == fake_conn);
    xmppc_set_log_cb(NULL, NULL, XMPPC_LOG_NONE);
}

static void test_long_message_is_not_cut(void)
{
    struct capture cap = {0};
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    xmppc__logger logger = {capture_cb, &cap, XMPPC_LOG_TRACE, NULL};
    xmppc__log(&logger, XMPPC_LOG_TRACE, "xml", "<%s/>", big);
    XT_EQ_INT(cap.calls, 1);
    XT_EQ_INT(strlen(cap.message), sizeof big - 1 + 3);
    /* Out of memory: delivered truncated rather than lost. */
    XT_EQ_INT(xt_failalloc_install(1), 0);
    xmppc__log(&logger, XMPPC_LOG_TRACE, "xml", "<%s/>", big);
    XT_EQ_INT(cap.calls, 2);
    XT_EQ_INT(strlen(cap.message), 511);
    XT_EQ_INT(xt_failalloc_remove(), 0);
    xmppc_error_clear();
}

static void test_levels(void)
{
    XT_EQ_STR(xmppc_log_level_name(XMPPC_LOG_ERROR), "error");
    XT_EQ_STR(xmppc_log_level_name(XMPPC_LOG_TRACE), "trace");
    XT_EQ_STR(xmppc_log_level_name((xmppc_log_level)42), "unknown");
    XT_EQ_INT(xmppc_set_log_cb(capture_cb, NULL, (xmppc_log_level)9),
              XMPPC_EINVAL);
    XT_CHECK(!xmppc__log_enabled(NULL, XMPPC_LOG_ERROR));
    xmppc__logger logger = {capture_cb, NULL, XMPPC_LOG_TRACE, NULL};
    XT_CHECK(!xmppc__log_enabled(&logger, XMPPC_LOG_NONE));
    xmppc_error_clear();
}

XT_MAIN(XT_TEST(test_silent_without_callback),
        XT_TEST(test_default_callback_filters_by_level),
        XT_TEST(test_component_logger_overrides_default),
        XT_TEST(test_long_message_is_not_cut), XT_TEST(test_levels))
