/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */
#include "xmppc-private.h"

XMPPC_API const char *xmppc_version(void)
{
    return XMPPC_VERSION;
}

XMPPC_API unsigned long xmppc_version_num(void)
{
    return XMPPC_VERSION_NUM;
}

XMPPC_API int xmppc_version_at_least(unsigned int major, unsigned int minor,
                                     unsigned int patch)
{
    if (major > 0xff || minor > 0xff || patch > 0xff)
        return 0;
    return XMPPC_VERSION_NUM >= XMPPC_VERSION_ENCODE(major, minor, patch);
}
