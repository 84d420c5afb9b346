/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include "../xtest.h"

static void test_header_matches_library(void)
{
    XT_EQ_STR(xmppc_version(), XMPPC_VERSION);
    XT_EQ_INT(xmppc_version_num(), XMPPC_VERSION_NUM);
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", XMPPC_VERSION_MAJOR,
             XMPPC_VERSION_MINOR, XMPPC_VERSION_PATCH);
    XT_EQ_STR(xmppc_version(), expect);
}

static void test_version_checks(void)
{
    XT_CHECK(XMPPC_VERSION_CHECK(0, 0, 0));
    XT_CHECK(XMPPC_VERSION_CHECK(XMPPC_VERSION_MAJOR, XMPPC_VERSION_MINOR,
                                 XMPPC_VERSION_PATCH));
    XT_CHECK(
        !XMPPC_VERSION_CHECK(XMPPC_VERSION_MAJOR, XMPPC_VERSION_MINOR + 1, 0));
    XT_EQ_INT(XMPPC_VERSION_ENCODE(1, 2, 3), 0x010203);
    XT_EQ_INT(xmppc_version_at_least(0, 0, 0), 1);
    XT_EQ_INT(xmppc_version_at_least(XMPPC_VERSION_MAJOR + 1, 0, 0), 0);
    XT_EQ_INT(xmppc_version_at_least(256, 0, 0), 0);
}

XT_MAIN(XT_TEST(test_header_matches_library), XT_TEST(test_version_checks))
