/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 */

/**
 * @file xmppc/disco.h
 * @brief Service Discovery (XEP-0030, with XEP-0128 extended info) and
 *        Entity Capabilities (XEP-0115).
 *
 * Each connection has one disco manager (xmppc_disco_get(), borrowed,
 * created on first use). It
 * - holds this client's identities (by default one: category "client",
 *   type "pc", name "libxmppc"), features (by default disco#info and
 *   disco#items; other modules add theirs) and extended info forms;
 * - answers disco#info requests, with or without our caps node
 *   ("node#ver"; other nodes get item-not-found), and disco#items
 *   requests with an empty list;
 * - queries other entities (info and items), caching results per
 *   (JID, node) for the connection's lifetime;
 * - computes our caps `ver` (XEP-0115 §5, SHA-1) whenever identities,
 *   features or forms changed, and adds `<c/>` to presence on request;
 * - learns other entities' caps from incoming presence: a `ver` not seen
 *   before is looked up with disco#info at "node#ver" and cached only if
 *   the answer hashes to that `ver` (otherwise a warning is logged).
 *
 * Query callbacks are async: called exactly once if the call returned 0
 * (with the result, an error reply, XMPPC_ETIMEDOUT or XMPPC_ECANCELED),
 * never if it failed; then @p destroy runs. A query answered from the
 * cache calls back before the function returns.
 *
 * Thread-safety: the manager belongs to its connection's thread.
 * @since 0.1
 */
#ifndef XMPPC_DISCO_H
#define XMPPC_DISCO_H

#include <stddef.h>

#include <xmppc/common.h>
#include <xmppc/conn.h>
#include <xmppc/error.h>
#include <xmppc/forms.h>
#include <xmppc/handler.h>
#include <xmppc/stanza.h>

XMPPC_BEGIN_DECLS

/** disco#info namespace. */
#define XMPPC_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
/** disco#items namespace. */
#define XMPPC_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"
/** Entity Capabilities namespace. */
#define XMPPC_NS_CAPS "http://jabber.org/protocol/caps"
/** The default caps node. */
#define XMPPC_CAPS_DEFAULT_NODE "https://github.com/libxmppc"

/** A connection's disco manager (borrowed from the connection). */
typedef struct xmppc_disco xmppc_disco;
/** The parsed answer to a disco#info query (reference-counted). */
typedef struct xmppc_disco_info xmppc_disco_info;
/** The parsed answer to a disco#items query (reference-counted). */
typedef struct xmppc_disco_items xmppc_disco_items;

/**
 * The connection's disco manager, created (with its handlers) on first
 * call; it lives as long as the connection.
 * @return the manager (borrowed), or NULL with xmppc_error_last() set
 *         (XMPPC_EINVAL for NULL @p conn, XMPPC_ENOMEM).
 * @since 0.1
 */
XMPPC_API xmppc_disco *xmppc_disco_get(xmppc_conn *conn);

/** The connection's disco manager if one is set up, else NULL (never
 * sets one up; no error). @since 0.1 */
XMPPC_API xmppc_disco *xmppc_disco_find(xmppc_conn *conn);

/** The manager's connection (borrowed). @since 0.1 */
XMPPC_API xmppc_conn *xmppc_disco_get_conn(const xmppc_disco *mgr);

/* ---- own identities, features and forms -------------------------------- */

/**
 * Adds an identity (XEP-0030 §3.1; categories and types from the
 * registry, e.g. "client"/"bot").
 * @param name a human name, or NULL.
 * @param lang its xml:lang, or NULL.
 * @return 0 (also when already present); XMPPC_EINVAL (NULL category or
 *         type); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_disco_add_identity(xmppc_disco *mgr, const char *category,
                                       const char *type, const char *name,
                                       const char *lang);

/** Removes every identity with this category and type (e.g. the default
 * client/pc). @return the number removed; XMPPC_EINVAL. @since 0.1 */
XMPPC_API int xmppc_disco_remove_identity(xmppc_disco *mgr,
                                          const char *category,
                                          const char *type);

/** Advertises a feature (a namespace such as "urn:xmpp:ping").
 * @return 0 (also when already present); XMPPC_EINVAL; XMPPC_ENOMEM.
 * @since 0.1 */
XMPPC_API int xmppc_disco_add_feature(xmppc_disco *mgr, const char *feature);

/** Stops advertising a feature. @return 1 if removed, 0 if absent;
 * XMPPC_EINVAL. @since 0.1 */
XMPPC_API int xmppc_disco_remove_feature(xmppc_disco *mgr, const char *feature);

/** 1 if we advertise @p feature, else 0. @since 0.1 */
XMPPC_API int xmppc_disco_has_feature(const xmppc_disco *mgr,
                                      const char *feature);

/**
 * Adds an extended info form (XEP-0128), e.g. software information
 * (FORM_TYPE urn:xmpp:dataforms:softwareinfo). It replaces a form with
 * the same FORM_TYPE.
 * @param form a "result" form with a FORM_TYPE (a reference is taken; do
 *        not change it afterwards).
 * @return 0; XMPPC_EINVAL (no FORM_TYPE); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_disco_add_form(xmppc_disco *mgr, xmppc_form *form);

/** Removes the extended info form with this FORM_TYPE.
 * @return 1 if removed, 0 if absent; XMPPC_EINVAL. @since 0.1 */
XMPPC_API int xmppc_disco_remove_form(xmppc_disco *mgr, const char *form_type);

/** Our own info as answered to disco#info (borrowed; changes with the
 * add/remove calls above). @since 0.1 */
XMPPC_API const xmppc_disco_info *xmppc_disco_get_own_info(xmppc_disco *mgr);

/* ---- info objects ------------------------------------------------------- */

/**
 * Parses a `<query xmlns='http://jabber.org/protocol/disco#info'/>`.
 * @param[out] out the info (caller owns one reference).
 * @param query the element (borrowed).
 * @return 0; XMPPC_EINVAL (not such a query, identity without category or
 *         type, feature without var, bad form); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_disco_info_parse(xmppc_disco_info **out,
                                     const xmppc_stanza *query);

/** Serializes info as a new disco#info `<query/>` (caller owns it).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_disco_info_to_stanza(xmppc_stanza **out,
                                         const xmppc_disco_info *info);

/** Takes a reference. @return @p info (NULL-safe). @since 0.1 */
XMPPC_API xmppc_disco_info *xmppc_disco_info_ref(xmppc_disco_info *info);

/** Drops a reference. @return NULL (NULL-safe). @since 0.1 */
XMPPC_API xmppc_disco_info *xmppc_disco_info_unref(xmppc_disco_info *info);

/** The node of the answer (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_disco_info_get_node(const xmppc_disco_info *info);

/** The number of identities. @since 0.1 */
XMPPC_API size_t xmppc_disco_info_identity_count(const xmppc_disco_info *info);

/**
 * The identity at @p index. Out parameters may be NULL; strings are
 * borrowed; name and lang may be NULL.
 * @return 0; XMPPC_EINVAL when out of range.
 * @since 0.1
 */
XMPPC_API int
xmppc_disco_info_identity_at(const xmppc_disco_info *info, size_t index,
                             const char **category_out, const char **type_out,
                             const char **name_out, const char **lang_out);

/** 1 if an identity has this category and type (NULL type: any).
 * @since 0.1 */
XMPPC_API int xmppc_disco_info_has_identity(const xmppc_disco_info *info,
                                            const char *category,
                                            const char *type);

/** The number of features. @since 0.1 */
XMPPC_API size_t xmppc_disco_info_feature_count(const xmppc_disco_info *info);

/** The feature at @p index (borrowed), or NULL. @since 0.1 */
XMPPC_API const char *xmppc_disco_info_feature_at(const xmppc_disco_info *info,
                                                  size_t index);

/** 1 if @p feature is listed, else 0. @since 0.1 */
XMPPC_API int xmppc_disco_info_has_feature(const xmppc_disco_info *info,
                                           const char *feature);

/** The number of extended info forms. @since 0.1 */
XMPPC_API size_t xmppc_disco_info_form_count(const xmppc_disco_info *info);

/** The form at @p index (borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_form *xmppc_disco_info_form_at(const xmppc_disco_info *info,
                                               size_t index);

/** The form with this FORM_TYPE (borrowed), or NULL. @since 0.1 */
XMPPC_API xmppc_form *xmppc_disco_info_get_form(const xmppc_disco_info *info,
                                                const char *form_type);

/* ---- items objects ------------------------------------------------------ */

/** Takes a reference. @return @p items (NULL-safe). @since 0.1 */
XMPPC_API xmppc_disco_items *xmppc_disco_items_ref(xmppc_disco_items *items);

/** Drops a reference. @return NULL (NULL-safe). @since 0.1 */
XMPPC_API xmppc_disco_items *xmppc_disco_items_unref(xmppc_disco_items *items);

/** The number of items. @since 0.1 */
XMPPC_API size_t xmppc_disco_items_count(const xmppc_disco_items *items);

/**
 * The item at @p index. Out parameters may be NULL; strings are
 * borrowed; node and name may be NULL.
 * @return 0; XMPPC_EINVAL when out of range.
 * @since 0.1
 */
XMPPC_API int xmppc_disco_items_at(const xmppc_disco_items *items, size_t index,
                                   const char **jid_out, const char **node_out,
                                   const char **name_out);

/* ---- queries ------------------------------------------------------------ */

/**
 * The answer to xmppc_disco_get_info().
 * @param jid, node as queried (borrowed).
 * @param info the answer (borrowed; take a reference to keep it), or NULL
 *        on failure.
 * @param err NULL on success; else XMPPC_ESTANZA (error reply, condition
 *        filled in), XMPPC_EPROTO (malformed answer), XMPPC_ETIMEDOUT or
 *        XMPPC_ECANCELED.
 * Scope: async.
 */
typedef void (*xmppc_disco_info_cb)(xmppc_disco *mgr, const char *jid,
                                    const char *node, xmppc_disco_info *info,
                                    const xmppc_error *err, void *userdata);

/**
 * The answer to xmppc_disco_get_items(); as ::xmppc_disco_info_cb.
 * Scope: async.
 */
typedef void (*xmppc_disco_items_cb)(xmppc_disco *mgr, const char *jid,
                                     const char *node, xmppc_disco_items *items,
                                     const xmppc_error *err, void *userdata);

/**
 * Asks @p jid for its info (cached per (JID, node) on success).
 * @param jid the entity, or NULL for the own server.
 * @param node a node, or NULL.
 * @param cb called once (see above); @p destroy (may be NULL) runs after.
 * @return 0; XMPPC_EINVAL; XMPPC_ESTATE (not ready, and the answer not
 *         cached: cached answers are given even offline); XMPPC_ENOMEM.
 *         On failure neither @p cb nor @p destroy is called.
 * @since 0.1
 */
XMPPC_API int xmppc_disco_get_info(xmppc_disco *mgr, const char *jid,
                                   const char *node, xmppc_disco_info_cb cb,
                                   void *userdata, xmppc_destroy_cb destroy);

/** Asks @p jid for its items (cached like info); as
 * xmppc_disco_get_info(). @since 0.1 */
XMPPC_API int xmppc_disco_get_items(xmppc_disco *mgr, const char *jid,
                                    const char *node, xmppc_disco_items_cb cb,
                                    void *userdata, xmppc_destroy_cb destroy);

/** Forgets cached info and items of @p jid (NULL: of everyone).
 * @since 0.1 */
XMPPC_API void xmppc_disco_forget(xmppc_disco *mgr, const char *jid);

/**
 * The answer to xmppc_disco_supports().
 * @param supported 1 or 0 (0 also on failure).
 * @param err NULL, or why the entity could not be asked.
 * Scope: async.
 */
typedef void (*xmppc_disco_supports_cb)(xmppc_disco *mgr, const char *jid,
                                        const char *feature, int supported,
                                        const xmppc_error *err, void *userdata);

/**
 * Whether @p jid supports @p feature: from its verified caps if known,
 * else from (cached) disco#info.
 * @return as xmppc_disco_get_info().
 * @since 0.1
 */
XMPPC_API int xmppc_disco_supports(xmppc_disco *mgr, const char *jid,
                                   const char *feature,
                                   xmppc_disco_supports_cb cb, void *userdata,
                                   xmppc_destroy_cb destroy);

/**
 * The answer to xmppc_disco_find_service().
 * @param jid the first service advertising the feature (borrowed), or
 *        NULL when none does (then @p err is NULL) or on failure.
 * Scope: async.
 */
typedef void (*xmppc_disco_service_cb)(xmppc_disco *mgr, const char *feature,
                                       const char *jid, const xmppc_error *err,
                                       void *userdata);

/**
 * Finds a service of the own server that advertises @p feature (e.g.
 * "http://jabber.org/protocol/muc"): the server's items, then the info
 * of each in order. Items that do not answer are skipped.
 * @return as xmppc_disco_get_info().
 * @since 0.1
 */
XMPPC_API int xmppc_disco_find_service(xmppc_disco *mgr, const char *feature,
                                       xmppc_disco_service_cb cb,
                                       void *userdata,
                                       xmppc_destroy_cb destroy);

/* ---- Entity Capabilities (XEP-0115) ------------------------------------- */

/**
 * Computes the XEP-0115 §5.1 verification string of @p info with SHA-1,
 * base64-encoded (forms without FORM_TYPE are left out).
 * @param[out] out the ver (caller frees it with xmppc_free()).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM; XMPPC_ERROR (hashing failed).
 * @since 0.1
 */
XMPPC_API int xmppc_caps_compute_ver(char **out, const xmppc_disco_info *info);

/** Sets our caps node (default XMPPC_CAPS_DEFAULT_NODE; copied).
 * @return 0; XMPPC_EINVAL; XMPPC_ENOMEM. @since 0.1 */
XMPPC_API int xmppc_caps_set_node(xmppc_disco *mgr, const char *node);

/** Our caps node (borrowed). @since 0.1 */
XMPPC_API const char *xmppc_caps_get_node(const xmppc_disco *mgr);

/** Our current ver (borrowed; valid until identities, features or forms
 * change), or NULL with xmppc_error_last() set. @since 0.1 */
XMPPC_API const char *xmppc_caps_get_ver(xmppc_disco *mgr);

/**
 * Adds (or replaces) `<c xmlns='http://jabber.org/protocol/caps'
 * hash='sha-1' node=... ver=.../>` in an outgoing presence. The
 * presence functions of presence.h do it for the presence they send, and
 * resend the own presence when identities, features or forms change;
 * call it for available presence you build yourself.
 * @return 0; XMPPC_EINVAL (NULL, not a presence); XMPPC_ENOMEM.
 * @since 0.1
 */
XMPPC_API int xmppc_caps_attach(xmppc_disco *mgr, xmppc_stanza *presence);

/**
 * The verified info behind the caps last announced by @p jid (a full
 * JID; borrowed), or NULL when unknown or not (yet) verified.
 * @since 0.1
 */
XMPPC_API xmppc_disco_info *xmppc_caps_get_info(xmppc_disco *mgr,
                                                const char *jid);

XMPPC_END_DECLS

#endif /* XMPPC_DISCO_H */
