/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * JIDs: splitting (RFC 7622 section 3), RFC 6122 stringprep preparation
 * through libidn (Nodeprep, Nameprep, Resourceprep), domainpart checks (IP
 * literals, labels, IDNA through GnuTLS) and the immutable JID object.
 *
 * All-ASCII parts skip libidn: for ASCII, Nodeprep and Nameprep only fold
 * A-Z to a-z and Resourceprep changes nothing, and the only ASCII
 * characters they prohibit are checked here directly. The unit test checks
 * that both paths agree.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <stringprep.h>

#include "utf8.h"
#include "xmppc-private.h"

/* RFC 7622 section 3: each part is 1..1023 bytes. */
#define PART_MAX 1023
/* RFC 1035: the ASCII form of a domain name, without the root dot. */
#define LABEL_ASCII_MAX 63
#define DOMAIN_ASCII_MAX 253
/* Input quoted in error messages is cut to about this many bytes. */
#define QUOTE_MAX 64

struct xmppc_jid {
    atomic_uint refs;
    const char *local;    /* its own copy after bare, or NULL */
    const char *domain;   /* the tail of bare */
    const char *resource; /* the tail of full, or NULL */
    const char *bare;     /* full itself when there is no resource */
    char full[]; /* then a copy of bare (with a resource), then local */
};

typedef enum part_kind { PART_LOCAL, PART_DOMAIN, PART_RESOURCE } part_kind;

static const char *const part_names[] = {"localpart", "domainpart",
                                         "resourcepart"};

/* One part after preparation. One byte beyond PART_MAX + 1 so that a
 * domainpart of PART_MAX bytes plus the trailing dot still fits before the
 * dot is stripped. */
typedef struct prepared_part {
    bool present;
    size_t len;
    char text[PART_MAX + 2];
} prepared_part;

typedef struct prepared_jid {
    prepared_part part[3]; /* indexed by part_kind */
} prepared_jid;

/* What error messages quote: the JID string, or the parts given to
 * xmppc_jid_new() with their separators. Always valid UTF-8 when quoted. */
typedef struct jid_source {
    const char *piece[5];
    size_t count;
} jid_source;

/* For the unit test: xmppc_jid_prep() with every part through libidn. */
int xmppc__jid_prep_libidn(char **out, const char *str);

/* ---- error messages ----------------------------------------------------- */

/* Writes the source into dst, cut after at most QUOTE_MAX bytes on a
 * character boundary, with "..." when cut. */
static void quote_source(const jid_source *src, char dst[QUOTE_MAX + 4])
{
    size_t used = 0;
    bool cut = false;
    for (size_t i = 0; i < src->count && !cut; i++) {
        const char *piece = src->piece[i];
        size_t len = strnlen(piece, QUOTE_MAX + 1);
        if (used + len > QUOTE_MAX) {
            len = QUOTE_MAX - used;
            while (len > 0 && ((unsigned char)piece[len] & 0xC0) == 0x80)
                len--;
            cut = true;
        }
        memcpy(dst + used, piece, len);
        used += len;
    }
    if (cut) {
        memcpy(dst + used, "...", 3);
        used += 3;
    }
    dst[used] = '\0';
}

static int jid_invalid(const jid_source *src, const char *fmt, ...)
    XMPPC_PRINTF(2, 3);

/* Sets "jid '<source>': <detail>" as the last error; returns EINVAL. */
static int jid_invalid(const jid_source *src, const char *fmt, ...)
{
    char quoted[QUOTE_MAX + 4];
    char detail[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    quote_source(src, quoted);
    return xmppc__error(XMPPC_EINVAL, "jid '%s': %s", quoted, detail);
}

/* ---- character checks --------------------------------------------------- */

/* Refuses what must reach neither libidn nor an XML attribute: invalid
 * UTF-8 (overlong, surrogate, truncated...), control characters and the
 * non-characters XML forbids. The input is not quoted, as it is not
 * printable. @p base is the offset of @p s in the caller's string and
 * @p where names the part, if any. */
static int check_text(const char *s, size_t len, size_t base, const char *where)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t n = xmppc__utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return xmppc__error(XMPPC_EINVAL,
                                "jid: invalid UTF-8%s at byte %zu", where,
                                base + i);
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
            return xmppc__error(XMPPC_EINVAL,
                                "jid: control character U+%04" PRIX32
                                "%s at byte %zu",
                                cp, where, base + i);
        if (!xmppc__xml_char_ok(cp))
            return xmppc__error(XMPPC_EINVAL,
                                "jid: U+%04" PRIX32 "%s at byte %zu is not "
                                "allowed in XML",
                                cp, where, base + i);
        i += n;
    }
    return 0;
}

static bool is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* The ASCII characters Nodeprep prohibits (RFC 6122 appendix A.5, plus
 * the space of table C.1.1); controls never get this far. */
static bool nodeprep_prohibits(char c)
{
    switch (c) {
    case ' ':
    case '"':
    case '&':
    case '\'':
    case '/':
    case ':':
    case '<':
    case '>':
    case '@':
        return true;
    default:
        return false;
    }
}

/* The ASCII characters of a domain label: letters, digits, '-' and the '_'
 * that the servers accept too. */
static bool label_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* The ideographic full stops RFC 3490 section 3.1 treats as dots:
 * U+3002, U+FF0E, U+FF61. Returns the sequence length, or 0. */
static size_t ideographic_dot_at(const char *s, size_t left)
{
    const unsigned char *u = (const unsigned char *)s;
    if (left < 3)
        return 0;
    if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x82)
        return 3;
    if (u[0] == 0xEF && u[1] == 0xBC && u[2] == 0x8E)
        return 3;
    if (u[0] == 0xEF && u[1] == 0xBD && u[2] == 0xA1)
        return 3;
    return 0;
}

/* Replaces the ideographic full stops of text[0..*len) by '.', in place. */
static void map_ideographic_dots(char *text, size_t *len)
{
    size_t out = 0;
    for (size_t i = 0; i < *len;) {
        size_t n = ideographic_dot_at(text + i, *len - i);
        if (n) {
            text[out++] = '.';
            i += n;
        } else {
            text[out++] = text[i++];
        }
    }
    *len = out;
    text[out] = '\0';
}

/* ---- preparation of one part -------------------------------------------- */

/* Runs the part's stringprep profile on part->text in place; the output
 * may be at most PART_MAX bytes. */
static int run_stringprep(prepared_part *part, part_kind kind,
                          const jid_source *src)
{
    static const Stringprep_profile *const profiles[] = {
        stringprep_xmpp_nodeprep, stringprep_nameprep,
        stringprep_xmpp_resourceprep};
    static const char *const profile_names[] = {"Nodeprep", "Nameprep",
                                                "Resourceprep"};
    const char *name = part_names[kind];

    /* Flags 0: unassigned code points pass, as in Prosody. */
    int rc = stringprep(part->text, PART_MAX + 1, 0, profiles[kind]);
    switch (rc) {
    case STRINGPREP_OK:
        break;
    case STRINGPREP_TOO_SMALL_BUFFER:
        return jid_invalid(src, "%s is longer than %d bytes after preparation",
                           name, PART_MAX);
    case STRINGPREP_CONTAINS_PROHIBITED:
        return jid_invalid(src, "%s contains a character %s prohibits", name,
                           profile_names[kind]);
    case STRINGPREP_CONTAINS_UNASSIGNED:
        return jid_invalid(src, "%s contains an unassigned code point", name);
    case STRINGPREP_BIDI_BOTH_L_AND_RAL:
    case STRINGPREP_BIDI_LEADTRAIL_NOT_RAL:
    case STRINGPREP_BIDI_CONTAINS_PROHIBITED:
        return jid_invalid(src,
                           "%s breaks the bidirectional text rule of "
                           "stringprep (RFC 3454, section 6)",
                           name);
    case STRINGPREP_MALLOC_ERROR:
        return xmppc__error(XMPPC_ENOMEM, "jid: out of memory in libidn");
    default:
        return jid_invalid(src, "%s could not be prepared: %s", name,
                           stringprep_strerror((Stringprep_rc)rc));
    }
    part->len = strlen(part->text);
    if (part->len == 0)
        return jid_invalid(src, "%s is empty after preparation", name);
    return 0;
}

static int check_length(size_t len, part_kind kind, const jid_source *src)
{
    if (len == 0)
        return jid_invalid(src, "%s is empty", part_names[kind]);
    if (len > PART_MAX)
        return jid_invalid(src, "%s is longer than %d bytes", part_names[kind],
                           PART_MAX);
    return 0;
}

static int prepare_local(prepared_part *part, const char *s, size_t len,
                         const jid_source *src, bool fast_path)
{
    int rc = check_length(len, PART_LOCAL, src);
    if (rc < 0)
        return rc;
    /* The prohibited ASCII characters survive any mapping, so naming them
     * here gives a precise message on both paths. */
    for (size_t i = 0; i < len; i++)
        if (nodeprep_prohibits(s[i]))
            return jid_invalid(src,
                               "localpart contains '%c', which is "
                               "not allowed there",
                               s[i]);
    part->present = true;
    if (fast_path && is_ascii(s, len)) {
        for (size_t i = 0; i < len; i++)
            part->text[i] = ascii_lower(s[i]);
        part->text[len] = '\0';
        part->len = len;
        return 0;
    }
    memcpy(part->text, s, len);
    part->text[len] = '\0';
    return run_stringprep(part, PART_LOCAL, src);
}

static int prepare_resource(prepared_part *part, const char *s, size_t len,
                            const jid_source *src, bool fast_path)
{
    int rc = check_length(len, PART_RESOURCE, src);
    if (rc < 0)
        return rc;
    part->present = true;
    memcpy(part->text, s, len);
    part->text[len] = '\0';
    part->len = len;
    /* Resourceprep leaves ASCII alone but for controls, refused earlier. */
    if (fast_path && is_ascii(s, len))
        return 0;
    return run_stringprep(part, PART_RESOURCE, src);
}

/* Checks the labels of a domain name in ASCII form: non-empty, made of
 * label characters, at most 63 bytes each and 253 in all. @p form says
 * which form is checked, for messages. */
static int check_ascii_labels(const char *name, size_t len, const char *form,
                              const jid_source *src)
{
    if (len > DOMAIN_ASCII_MAX)
        return jid_invalid(src, "domainpart is longer than %d bytes%s",
                           DOMAIN_ASCII_MAX, form);
    size_t label_len = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            if (label_len == 0)
                return jid_invalid(src, "domainpart has an empty label");
            if (label_len > LABEL_ASCII_MAX)
                return jid_invalid(src,
                                   "domainpart has a label longer than %d "
                                   "bytes%s",
                                   LABEL_ASCII_MAX, form);
            label_len = 0;
        } else if (!label_char(name[i])) {
            return jid_invalid(src, "domainpart contains '%c'%s", name[i],
                               form);
        } else {
            label_len++;
        }
    }
    return 0;
}

/* An IPv6 address literal, "[...]" (RFC 7622 section 3.2): kept as given,
 * its hex digits already lower-cased by the preparation. */
static int check_ipv6_literal(const char *text, size_t len,
                              const jid_source *src)
{
    char address[INET6_ADDRSTRLEN];
    struct in6_addr parsed;
    if (text[len - 1] != ']')
        return jid_invalid(src, "domainpart starts an IPv6 address with '[' "
                                "but does not end with ']'");
    size_t inner = len - 2;
    if (inner == 0 || inner >= sizeof address)
        return jid_invalid(src, "domainpart is not a valid IPv6 address");
    memcpy(address, text + 1, inner);
    address[inner] = '\0';
    if (inet_pton(AF_INET6, address, &parsed) != 1)
        return jid_invalid(src, "domainpart is not a valid IPv6 address");
    return 0;
}

/* The checks after preparation, the same on both paths. */
static int check_domain(const prepared_part *part, const jid_source *src)
{
    const char *text = part->text;
    size_t len = part->len;

    if (text[0] == '[')
        return check_ipv6_literal(text, len, src);
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if ((unsigned char)c >= 0x80 || c == '.' || label_char(c))
            continue;
        struct in6_addr parsed;
        if (c == ':' && inet_pton(AF_INET6, text, &parsed) == 1)
            return jid_invalid(src, "domainpart is an IPv6 address without "
                                    "the brackets it needs ([...])");
        return jid_invalid(src, "domainpart contains '%c'", c);
    }
    struct in_addr ipv4;
    if (inet_pton(AF_INET, text, &ipv4) == 1)
        return 0; /* a dotted quad, kept as is */
    if (is_ascii(text, len))
        return check_ascii_labels(text, len, "", src);

    /* Empty labels first, as IDNA would quietly accept them. */
    for (size_t i = 0; i < len; i++)
        if (text[i] == '.' && (i == 0 || i + 1 == len || text[i + 1] == '.'))
            return jid_invalid(src, "domainpart has an empty label");
    /* IDNA drops a '_' from a label it converts, which would give another
     * name: only all-ASCII labels may have one. */
    bool label_has_underscore = false, label_non_ascii = false;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '.') {
            if (label_has_underscore && label_non_ascii)
                return jid_invalid(src, "domainpart has a label with both "
                                        "'_' and non-ASCII characters");
            label_has_underscore = label_non_ascii = false;
        } else if (text[i] == '_') {
            label_has_underscore = true;
        } else if ((unsigned char)text[i] >= 0x80) {
            label_non_ascii = true;
        }
    }

    gnutls_datum_t ascii = {NULL, 0};
    int rc = gnutls_idna_map(text, (unsigned)len, &ascii, 0);
    if (rc == GNUTLS_E_MEMORY_ERROR)
        return xmppc__error(XMPPC_ENOMEM, "jid: out of memory in GnuTLS");
    if (rc < 0)
        return jid_invalid(src, "domainpart is not a valid internationalized "
                                "domain name (IDNA2008)");
    rc = check_ascii_labels((const char *)ascii.data, ascii.size,
                            " in ASCII (IDNA) form", src);
    gnutls_free(ascii.data);
    return rc;
}

static int prepare_domain(prepared_part *part, const char *s, size_t len,
                          const jid_source *src, bool fast_path)
{
    /* One byte more than a part may have, for the trailing dot. */
    if (len > PART_MAX + 1)
        return jid_invalid(src, "domainpart is longer than %d bytes", PART_MAX);
    bool ascii = is_ascii(s, len);
    bool skip_libidn = fast_path && ascii;
    for (size_t i = 0; i < len; i++)
        part->text[i] = skip_libidn ? ascii_lower(s[i]) : s[i];
    part->text[len] = '\0';
    part->len = len;
    if (!ascii)
        map_ideographic_dots(part->text, &part->len);
    /* RFC 7622 section 3.2: a trailing dot is stripped, before anything. */
    if (part->len > 0 && part->text[part->len - 1] == '.')
        part->text[--part->len] = '\0';
    int rc = check_length(part->len, PART_DOMAIN, src);
    if (rc < 0)
        return rc;
    part->present = true;
    if (!skip_libidn) {
        rc = run_stringprep(part, PART_DOMAIN, src);
        if (rc < 0)
            return rc;
        if (!is_ascii(part->text, part->len))
            map_ideographic_dots(part->text, &part->len);
    }
    return check_domain(part, src);
}

/* ---- preparation of a JID ----------------------------------------------- */

/* Splits and prepares a JID string (RFC 7622 section 3.1-3.4 structure). */
static int prepare_string(prepared_jid *jid, const char *str, bool fast_path)
{
    jid_source src = {{str}, 1};
    size_t len = strlen(str);
    for (size_t i = 0; i < 3; i++)
        jid->part[i].present = false;

    if (len == 0)
        return xmppc__error(XMPPC_EINVAL, "jid: the string is empty");
    int rc = check_text(str, len, 0, "");
    if (rc < 0)
        return rc;

    const char *slash = memchr(str, '/', len);
    size_t bare_len = slash ? (size_t)(slash - str) : len;
    const char *at = memchr(str, '@', bare_len);
    const char *domain = str;
    if (at) {
        domain = at + 1;
        if (memchr(domain, '@', bare_len - (size_t)(domain - str)))
            return jid_invalid(&src, "more than one '@' before the resource");
        rc = prepare_local(&jid->part[PART_LOCAL], str, (size_t)(at - str),
                           &src, fast_path);
        if (rc < 0)
            return rc;
    }
    rc = prepare_domain(&jid->part[PART_DOMAIN], domain,
                        bare_len - (size_t)(domain - str), &src, fast_path);
    if (rc < 0)
        return rc;
    if (slash) {
        rc = prepare_resource(&jid->part[PART_RESOURCE], slash + 1,
                              len - bare_len - 1, &src, fast_path);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Length of "local@domain". */
static size_t bare_length(const prepared_jid *jid)
{
    const prepared_part *local = &jid->part[PART_LOCAL];
    return (local->present ? local->len + 1 : 0) + jid->part[PART_DOMAIN].len;
}

/* Writes "local@domain/resource" and a NUL to dst; returns its length. */
static size_t write_full(char *dst, const prepared_jid *jid)
{
    const prepared_part *local = &jid->part[PART_LOCAL];
    const prepared_part *domain = &jid->part[PART_DOMAIN];
    const prepared_part *resource = &jid->part[PART_RESOURCE];
    size_t n = 0;
    if (local->present) {
        memcpy(dst, local->text, local->len);
        n = local->len;
        dst[n++] = '@';
    }
    memcpy(dst + n, domain->text, domain->len);
    n += domain->len;
    if (resource->present) {
        dst[n++] = '/';
        memcpy(dst + n, resource->text, resource->len);
        n += resource->len;
    }
    dst[n] = '\0';
    return n;
}

/* Makes the JID object: one block holding full, bare and local. */
static int build_jid(xmppc_jid **out, const prepared_jid *prepared)
{
    const prepared_part *local = &prepared->part[PART_LOCAL];
    bool has_resource = prepared->part[PART_RESOURCE].present;
    size_t bare_len = bare_length(prepared);
    size_t full_len =
        bare_len + (has_resource ? prepared->part[PART_RESOURCE].len + 1 : 0);
    size_t size = sizeof(xmppc_jid) + full_len + 1 +
                  (has_resource ? bare_len + 1 : 0) +
                  (local->present ? local->len + 1 : 0);

    xmppc_jid *jid = xmppc__malloc(size);
    if (!jid)
        return XMPPC_ENOMEM;
    atomic_init(&jid->refs, 1);
    write_full(jid->full, prepared);
    char *next = jid->full + full_len + 1;
    if (has_resource) {
        memcpy(next, jid->full, bare_len);
        next[bare_len] = '\0';
        jid->bare = next;
        jid->resource = jid->full + bare_len + 1;
        next += bare_len + 1;
    } else {
        jid->bare = jid->full;
        jid->resource = NULL;
    }
    jid->domain = jid->bare + (local->present ? local->len + 1 : 0);
    if (local->present) {
        memcpy(next, local->text, local->len);
        next[local->len] = '\0';
        jid->local = next;
    } else {
        jid->local = NULL;
    }
    *out = jid;
    return 0;
}

/* Copies an existing JID's prepared part into a prepared_jid. */
static void copy_part(prepared_part *part, const char *text)
{
    part->present = text != NULL;
    if (text) {
        part->len = strlen(text);
        memcpy(part->text, text, part->len + 1);
    }
}

/* ---- public API --------------------------------------------------------- */

XMPPC_API int xmppc_jid_parse(xmppc_jid **out, const char *str)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_parse: out is NULL");
    if (!str)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_parse: str is NULL");
    prepared_jid prepared;
    int rc = prepare_string(&prepared, str, true);
    if (rc < 0)
        return rc;
    return build_jid(out, &prepared);
}

XMPPC_API int xmppc_jid_new(xmppc_jid **out, const char *local,
                            const char *domain, const char *resource)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_new: out is NULL");
    if (!domain)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_new: domain is NULL");

    jid_source src = {{NULL}, 0};
    if (local) {
        src.piece[src.count++] = local;
        src.piece[src.count++] = "@";
    }
    src.piece[src.count++] = domain;
    if (resource) {
        src.piece[src.count++] = "/";
        src.piece[src.count++] = resource;
    }
    /* Every part is checked before any is quoted in a message. */
    size_t local_len = local ? strlen(local) : 0;
    size_t domain_len = strlen(domain);
    size_t resource_len = resource ? strlen(resource) : 0;
    int rc = 0;
    if (local)
        rc = check_text(local, local_len, 0, " in the localpart");
    if (rc == 0)
        rc = check_text(domain, domain_len, 0, " in the domainpart");
    if (rc == 0 && resource)
        rc = check_text(resource, resource_len, 0, " in the resourcepart");
    if (rc < 0)
        return rc;

    prepared_jid prepared;
    prepared.part[PART_LOCAL].present = false;
    prepared.part[PART_RESOURCE].present = false;
    if (local) {
        rc = prepare_local(&prepared.part[PART_LOCAL], local, local_len, &src,
                           true);
        if (rc < 0)
            return rc;
    }
    rc = prepare_domain(&prepared.part[PART_DOMAIN], domain, domain_len, &src,
                        true);
    if (rc < 0)
        return rc;
    if (resource) {
        rc = prepare_resource(&prepared.part[PART_RESOURCE], resource,
                              resource_len, &src, true);
        if (rc < 0)
            return rc;
    }
    return build_jid(out, &prepared);
}

XMPPC_API xmppc_jid *xmppc_jid_ref(xmppc_jid *jid)
{
    if (jid)
        atomic_fetch_add_explicit(&jid->refs, 1, memory_order_relaxed);
    return jid;
}

XMPPC_API xmppc_jid *xmppc_jid_unref(xmppc_jid *jid)
{
    if (jid &&
        atomic_fetch_sub_explicit(&jid->refs, 1, memory_order_acq_rel) == 1)
        xmppc_free(jid);
    return NULL;
}

XMPPC_API const char *xmppc_jid_local(const xmppc_jid *jid)
{
    return jid ? jid->local : NULL;
}

XMPPC_API const char *xmppc_jid_domain(const xmppc_jid *jid)
{
    return jid ? jid->domain : NULL;
}

XMPPC_API const char *xmppc_jid_resource(const xmppc_jid *jid)
{
    return jid ? jid->resource : NULL;
}

XMPPC_API const char *xmppc_jid_full(const xmppc_jid *jid)
{
    return jid ? jid->full : NULL;
}

XMPPC_API const char *xmppc_jid_bare(const xmppc_jid *jid)
{
    return jid ? jid->bare : NULL;
}

XMPPC_API int xmppc_jid_is_bare(const xmppc_jid *jid)
{
    return jid && !jid->resource;
}

XMPPC_API int xmppc_jid_to_bare(xmppc_jid **out, const xmppc_jid *jid)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_to_bare: out is NULL");
    if (!jid)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_to_bare: jid is NULL");
    if (!jid->resource) {
        /* Immutable, so sharing is safe; only the count changes. */
        *out = xmppc_jid_ref((xmppc_jid *)jid);
        return 0;
    }
    prepared_jid prepared;
    copy_part(&prepared.part[PART_LOCAL], jid->local);
    copy_part(&prepared.part[PART_DOMAIN], jid->domain);
    copy_part(&prepared.part[PART_RESOURCE], NULL);
    return build_jid(out, &prepared);
}

XMPPC_API int xmppc_jid_with_resource(xmppc_jid **out, const xmppc_jid *jid,
                                      const char *resource)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_jid_with_resource: out is NULL");
    if (!jid)
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_jid_with_resource: jid is NULL");
    if (!resource)
        return xmppc__error(XMPPC_EINVAL,
                            "xmppc_jid_with_resource: resource is NULL (use "
                            "xmppc_jid_to_bare to drop it)");
    size_t len = strlen(resource);
    int rc = check_text(resource, len, 0, " in the resourcepart");
    if (rc < 0)
        return rc;
    jid_source src = {{jid->bare, "/", resource}, 3};
    prepared_jid prepared;
    copy_part(&prepared.part[PART_LOCAL], jid->local);
    copy_part(&prepared.part[PART_DOMAIN], jid->domain);
    rc = prepare_resource(&prepared.part[PART_RESOURCE], resource, len, &src,
                          true);
    if (rc < 0)
        return rc;
    return build_jid(out, &prepared);
}

XMPPC_API int xmppc_jid_equal(const xmppc_jid *a, const xmppc_jid *b)
{
    if (!a || !b)
        return 0;
    return a == b || strcmp(a->full, b->full) == 0;
}

XMPPC_API int xmppc_jid_bare_equal(const xmppc_jid *a, const xmppc_jid *b)
{
    if (!a || !b)
        return 0;
    return a == b || strcmp(a->bare, b->bare) == 0;
}

XMPPC_API int xmppc_jid_compare(const xmppc_jid *a, const xmppc_jid *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    int order = strcmp(a->full, b->full);
    return (order > 0) - (order < 0);
}

/* xmppc_jid_prep(), with or without the ASCII fast path. */
static int prep_string(char **out, const char *str, bool fast_path)
{
    if (!out)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_prep: out is NULL");
    if (!str)
        return xmppc__error(XMPPC_EINVAL, "xmppc_jid_prep: str is NULL");
    prepared_jid prepared;
    int rc = prepare_string(&prepared, str, fast_path);
    if (rc < 0)
        return rc;
    const prepared_part *resource = &prepared.part[PART_RESOURCE];
    char *text = xmppc__malloc(bare_length(&prepared) +
                               (resource->present ? resource->len + 1 : 0) + 1);
    if (!text)
        return XMPPC_ENOMEM;
    write_full(text, &prepared);
    *out = text;
    return 0;
}

XMPPC_API int xmppc_jid_prep(char **out, const char *str)
{
    return prep_string(out, str, true);
}

int xmppc__jid_prep_libidn(char **out, const char *str)
{
    return prep_string(out, str, false);
}

static bool parts_equal(const prepared_part *a, const prepared_part *b)
{
    if (a->present != b->present)
        return false;
    return !a->present ||
           (a->len == b->len && memcmp(a->text, b->text, a->len) == 0);
}

/* Prepares both strings and compares their bare or full forms. */
static int compare_strings(const char *a, const char *b, bool bare_only,
                           const char *function)
{
    if (!a || !b)
        return xmppc__error(XMPPC_EINVAL, "%s: %s is NULL", function,
                            a ? "b" : "a");
    prepared_jid pa, pb;
    int rc = prepare_string(&pa, a, true);
    if (rc == 0)
        rc = prepare_string(&pb, b, true);
    if (rc < 0)
        return rc;
    return parts_equal(&pa.part[PART_LOCAL], &pb.part[PART_LOCAL]) &&
           parts_equal(&pa.part[PART_DOMAIN], &pb.part[PART_DOMAIN]) &&
           (bare_only ||
            parts_equal(&pa.part[PART_RESOURCE], &pb.part[PART_RESOURCE]));
}

XMPPC_API int xmppc_jid_str_equal(const char *a, const char *b)
{
    return compare_strings(a, b, false, "xmppc_jid_str_equal");
}

XMPPC_API int xmppc_jid_str_bare_equal(const char *a, const char *b)
{
    return compare_strings(a, b, true, "xmppc_jid_str_bare_equal");
}
