/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/jid.h
 * @brief XMPP addresses (JIDs): parsing, preparation and comparison.
 *
 * A JID is `[localpart@]domainpart[/resourcepart]` (RFC 7622, section 3). An
 * ::xmppc_jid holds one in prepared (canonical) form: two JIDs name the same
 * entity exactly when their prepared strings are equal, so comparisons are
 * plain string comparisons.
 *
 * Splitting: the resourcepart is everything after the first '/' (it may
 * itself contain '/' and '@'); before it, the localpart is what precedes
 * the first '@' and the domainpart the rest. A second '@' before the
 * resource, or an empty localpart, domainpart or resourcepart, is invalid.
 *
 * Preparation is RFC 6122 stringprep (RFC 3454), the one Prosody 0.12 and
 * ejabberd 23.01 apply, so a JID prepared here compares equal exactly when
 * it does on those servers:
 * - localpart: Nodeprep (case-folded, NFKC; space and
 *   `" & ' / : < > @` are prohibited);
 * - domainpart: one trailing '.' is removed, then Nameprep (case-folded,
 *   NFKC). The ideographic full stops U+3002, U+FF0E and U+FF61 separate
 *   labels like '.' (RFC 3490, section 3.1). The result is either an IPv4
 *   address (dotted quad), an IPv6 address in brackets (`[2001:db8::1]`,
 *   hex digits lower-cased) or labels separated by '.': none empty, ASCII
 *   characters limited to letters, digits, '-' and '_', and convertible to
 *   ASCII with IDNA (at most 63 bytes per ASCII label and 253 in all). The
 *   Unicode form is kept, not the `xn--` form; an `xn--` label given in
 *   ASCII is kept as given. Like both servers, Nameprep is applied to the
 *   whole domainpart, not label by label, so its bidirectional rule also
 *   refuses a right-to-left label next to a left-to-right one.
 * - resourcepart: Resourceprep (NFKC, case kept).
 *
 * Unassigned code points (in Unicode 3.2, which stringprep uses) are
 * accepted, as Prosody does, so that newer characters such as emoji work in
 * resources. Each part must be 1 to 1023 bytes long, both as given and
 * after preparation.
 *
 * This is not the PRECIS preparation of RFC 7622 (RFC 8264/8265), which
 * differs in corner cases: here a sharp s (U+00DF) in a localpart becomes
 * "ss", a final sigma (U+03C2) becomes U+03C3, U+2163 ROMAN NUMERAL FOUR
 * becomes "iv", and symbols such as U+265A BLACK CHESS KING are allowed in
 * a localpart, where PRECIS keeps the first two and rejects the last two.
 *
 * Errors: invalid input makes a function return XMPPC_EINVAL, and
 * xmppc_error_last() names the part at fault, e.g.
 * "jid 'a@b@c': more than one '@' before the resource" (long input is cut
 * to about 64 bytes in messages).
 *
 * Thread-safety: an ::xmppc_jid never changes after creation, so it may be
 * read, compared, ref'd and unref'd from several threads at once (the
 * reference count is atomic). Every function may be called from any
 * thread.
 * @since 0.1
 */
#ifndef XMPPC_JID_H
#define XMPPC_JID_H

#include <xmppc/common.h>

XMPPC_BEGIN_DECLS

/** A prepared XMPP address (opaque, immutable, ref-counted). */
typedef struct xmppc_jid xmppc_jid;

/**
 * Parses and prepares a JID string such as "User@Example.com/Phone".
 *
 * @param out receives a new JID (one reference, release it with
 *        xmppc_jid_unref()); left untouched on failure.
 * @param str the JID as UTF-8, NUL-terminated.
 * @return 0; XMPPC_EINVAL when @p out or @p str is NULL or @p str is not a
 *         valid JID (invalid UTF-8, a control character, a wrong
 *         structure, a character the part's profile prohibits, a part too
 *         long or empty); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_parse(xmppc_jid **out, const char *str);

/**
 * Makes a JID from its parts, each prepared on its own (so a localpart may
 * not smuggle in a '@', but a resourcepart may contain any '/' and '@').
 *
 * @param out receives a new JID (one reference); left untouched on
 *        failure.
 * @param local the localpart, or NULL for none.
 * @param domain the domainpart; required.
 * @param resource the resourcepart, or NULL for none.
 * @return 0; XMPPC_EINVAL when @p out or @p domain is NULL or a part is
 *         invalid (an empty string is invalid: pass NULL for no part);
 *         XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_new(xmppc_jid **out, const char *local,
                            const char *domain, const char *resource);

/**
 * Adds a reference.
 *
 * @return @p jid (NULL when @p jid is NULL).
 * @since 0.1
 */
XMPPC_API xmppc_jid *xmppc_jid_ref(xmppc_jid *jid);

/**
 * Drops a reference; the JID is freed with its last one.
 *
 * @return NULL, so that `jid = xmppc_jid_unref(jid);` clears the pointer.
 *         A NULL @p jid is ignored.
 * @since 0.1
 */
XMPPC_API xmppc_jid *xmppc_jid_unref(xmppc_jid *jid);

/**
 * The prepared localpart.
 *
 * @return a string borrowed from @p jid (valid while it is referenced), or
 *         NULL when the JID has no localpart or @p jid is NULL.
 * @since 0.1
 */
XMPPC_API const char *xmppc_jid_local(const xmppc_jid *jid);

/**
 * The prepared domainpart, without a trailing '.'.
 *
 * @return a string borrowed from @p jid (valid while it is referenced);
 *         NULL only when @p jid is NULL.
 * @since 0.1
 */
XMPPC_API const char *xmppc_jid_domain(const xmppc_jid *jid);

/**
 * The prepared resourcepart.
 *
 * @return a string borrowed from @p jid (valid while it is referenced), or
 *         NULL when the JID has no resourcepart or @p jid is NULL.
 * @since 0.1
 */
XMPPC_API const char *xmppc_jid_resource(const xmppc_jid *jid);

/**
 * The whole prepared JID, "local@domain/resource" with the absent parts
 * (and their separators) left out.
 *
 * @return a string borrowed from @p jid (valid while it is referenced);
 *         NULL only when @p jid is NULL.
 * @since 0.1
 */
XMPPC_API const char *xmppc_jid_full(const xmppc_jid *jid);

/**
 * The prepared bare JID: "local@domain", or "domain" without a localpart.
 *
 * @return a string borrowed from @p jid (valid while it is referenced);
 *         NULL only when @p jid is NULL.
 * @since 0.1
 */
XMPPC_API const char *xmppc_jid_bare(const xmppc_jid *jid);

/**
 * Whether the JID has no resourcepart.
 *
 * @return 1 for a bare JID, 0 for a full JID or a NULL @p jid.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_is_bare(const xmppc_jid *jid);

/**
 * The bare JID of @p jid as a JID object.
 *
 * @param out receives a new reference: to @p jid itself when it is already
 *        bare, else to a new JID. Left untouched on failure.
 * @return 0; XMPPC_EINVAL when @p out or @p jid is NULL; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_to_bare(xmppc_jid **out, const xmppc_jid *jid);

/**
 * The JID with the same localpart and domainpart and another resourcepart,
 * e.g. to address one occupant of a room.
 *
 * @param out receives a new JID (one reference); left untouched on
 *        failure.
 * @param jid the JID whose resourcepart (if any) is replaced.
 * @param resource the new resourcepart, prepared here; to drop the
 *        resource use xmppc_jid_to_bare().
 * @return 0; XMPPC_EINVAL when an argument is NULL or @p resource is not a
 *         valid resourcepart; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_with_resource(xmppc_jid **out, const xmppc_jid *jid,
                                      const char *resource);

/**
 * Whether two JIDs are the same full address (all three parts equal after
 * preparation).
 *
 * @return 1 when equal, 0 when not or when either is NULL.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_equal(const xmppc_jid *a, const xmppc_jid *b);

/**
 * Whether two JIDs have the same bare JID (localpart and domainpart),
 * whatever their resourceparts.
 *
 * @return 1 when equal, 0 when not or when either is NULL.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_bare_equal(const xmppc_jid *a, const xmppc_jid *b);

/**
 * A total order on JIDs for sorting and searching: the byte order of the
 * prepared full strings (which is Unicode code point order).
 *
 * @return a negative number, 0 or a positive number as @p a sorts before,
 *         equal to or after @p b. NULL sorts before any JID and equal to
 *         NULL.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_compare(const xmppc_jid *a, const xmppc_jid *b);

/**
 * Validates and prepares a JID string without making a JID object, e.g. to
 * normalize a stanza's 'to' or 'from'. Already prepared ASCII input takes a
 * fast path that does not call libidn.
 *
 * @param out receives the prepared JID, to free with xmppc_free(); left
 *        untouched on failure.
 * @param str the JID as UTF-8, NUL-terminated.
 * @return 0; XMPPC_EINVAL as for xmppc_jid_parse(); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_prep(char **out, const char *str);

/**
 * Whether two JID strings name the same full address after preparation.
 *
 * @return 1 when equal, 0 when not; XMPPC_EINVAL when either is NULL or
 *         not a valid JID; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_str_equal(const char *a, const char *b);

/**
 * Whether two JID strings have the same bare JID after preparation,
 * whatever their resourceparts.
 *
 * @return 1 when equal, 0 when not; XMPPC_EINVAL when either is NULL or
 *         not a valid JID; XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_jid_str_bare_equal(const char *a, const char *b);

XMPPC_END_DECLS

#endif /* XMPPC_JID_H */
