/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * UTF-8 and XML 1.0 character checks shared by the stanza and JID modules.
 * Not installed.
 */
#ifndef XMPPC_UTF8_H
#define XMPPC_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence at s[0..len). Returns its length (1..4) and
 * stores the code point in *cp, or returns 0 for an invalid sequence:
 * truncated, overlong, a surrogate (U+D800..U+DFFF) or above U+10FFFF. */
size_t xmppc__utf8_decode(const char *s, size_t len, uint32_t *cp);

/* Whether the code point is a Char of XML 1.0 (5th edition, production 2):
 * #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]. */
bool xmppc__xml_char_ok(uint32_t cp);

/* Whether s[0..len) is valid UTF-8 made only of XML 1.0 characters. On
 * failure *bad_offset (if not NULL) receives the offset of the first bad
 * byte. */
bool xmppc__xml_text_ok(const char *s, size_t len, size_t *bad_offset);

/* Whether s is an XML NCName (a name without a colon), e.g. an element's
 * local name or an attribute name without prefix. */
bool xmppc__xml_ncname_ok(const char *s, size_t len);

#endif /* XMPPC_UTF8_H */
