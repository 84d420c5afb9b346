/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/xmppc.h
 * @brief Umbrella header: include this one and get the whole public API.
 * @since 0.1
 */
#ifndef XMPPC_XMPPC_H
#define XMPPC_XMPPC_H

#include <xmppc/common.h>
#include <xmppc/version.h>
#include <xmppc/error.h>
#include <xmppc/log.h>
#include <xmppc/alloc.h>
#include <xmppc/stanza.h>
#include <xmppc/handler.h>
#include <xmppc/conn.h>
#include <xmppc/io.h>
#include <xmppc/loop.h>
#include <xmppc/carbons.h>
#include <xmppc/chat.h>
#include <xmppc/presence.h>
#include <xmppc/roster.h>
#include <xmppc/jid.h>
#include <xmppc/forms.h>
#include <xmppc/disco.h>
#include <xmppc/ping.h>
#include <xmppc/softversion.h>
#include <xmppc/entitytime.h>
#include <xmppc/muc.h>

#endif /* XMPPC_XMPPC_H */
