/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * SASL client on libgsasl: mechanism choice, our own checks of the SCRAM
 * server messages, channel binding, salted-password caching.
 *
 * libgsasl 2.2 runs PLAIN and SCRAM with gs2 flags 'n' and 'p'. It cannot
 * produce flag 'y' (RFC 5802 §6: "client supports channel binding but
 * thinks the server does not"): a non-PLUS SCRAM client that is given any
 * channel-binding data fails its first step. So for 'y' we let libgsasl
 * write client-first with 'n', turn the flag into 'y' and compute
 * client-final and the server signature here, from libgsasl's key
 * derivation and GnuTLS's HMAC.
 */
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gsasl.h>

#include "buf.h"
#include "sasl.h"

#define AREA "sasl"
#define DEFAULT_MIN_ITERATIONS 4096u
#define DEFAULT_MAX_ITERATIONS 1000000u
#define MAX_HASH_LEN 32

enum mech { MECH_NONE, MECH_PLAIN, MECH_SCRAM };

enum state {
    ST_NEW,        /* no mechanism yet */
    ST_CHOSEN,     /* mechanism chosen, exchange not started */
    ST_STARTED,    /* initial response out; SCRAM waits for server-first */
    ST_FINAL_SENT, /* SCRAM client-final out; waiting for v= */
    ST_VERIFIED,   /* SCRAM server signature verified; waiting for success */
    ST_DONE,       /* authenticated */
    ST_FAILED
};

struct xmppc__sasl {
    const xmppc__logger *logger;
    char *authcid;
    char *authzid;
    char *password;                /* wiped once used */
    xmppc__sasl_cached_key cached; /* hash NONE: no key */
    unsigned int min_iter, max_iter;
    bool allow_plain;

    enum state state;
    enum mech mech;
    const char *mech_name;
    xmppc__sasl_hash hash;
    bool plus;
    xmppc__sasl_cb cb_type; /* for -PLUS, or the type behind a 'y' */
    char gs2_flag;          /* SCRAM: 'p', 'y' or 'n' */

    Gsasl_session *session;
    char *cb_b64;       /* -PLUS channel-binding data, for libgsasl */
    char *gs2_header;   /* as sent, e.g. "n,," */
    char *cfmb;         /* client-first-message-bare */
    char *client_nonce; /* our r= */
    bool use_cached;    /* the cached key fits the server's salt/iterations */
    char *salt_b64;     /* from server-first, for the cached key */
    unsigned int iterations;
    char salted_hex[2 * MAX_HASH_LEN + 1];  /* SaltedPassword, after v= */
    unsigned char server_sig[MAX_HASH_LEN]; /* 'y' only: the expected v= */
};

/* ---- small helpers ------------------------------------------------------- */

/* volatile: stores to memory that is about to be freed must not be
 * dropped. */
static void wipe(void *p, size_t len)
{
    volatile unsigned char *q = p;
    while (len--)
        *q++ = 0;
}

static size_t hash_len(xmppc__sasl_hash hash)
{
    return hash == XMPPC__SASL_HASH_SHA256 ? 32 : 20;
}

static Gsasl_hash gsasl_hash_of(xmppc__sasl_hash hash)
{
    return hash == XMPPC__SASL_HASH_SHA256 ? GSASL_HASH_SHA256
                                           : GSASL_HASH_SHA1;
}

static const char *scram_name(xmppc__sasl_hash hash)
{
    return hash == XMPPC__SASL_HASH_SHA256 ? "SCRAM-SHA-256" : "SCRAM-SHA-1";
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* Server text quoted in error messages: printable ASCII or UTF-8, no
 * control characters (which also keeps NULs away from libgsasl). */
static bool clean_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

/* ---- base64 (RFC 4648 §4; RFC 6120 §6.4.2 forbids whitespace) ------------ */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Returns a NUL-terminated string, or NULL (XMPPC_ENOMEM set). */
static char *b64_encode(const void *data, size_t len)
{
    const unsigned char *in = data;
    if (len / 3 >= SIZE_MAX / 4 - 1) {
        xmppc__error(XMPPC_ENOMEM, "sasl: base64 size overflow");
        return NULL;
    }
    char *out = xmppc__malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t q = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            q |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            q |= in[i + 2];
        out[o++] = b64_alphabet[q >> 18];
        out[o++] = b64_alphabet[(q >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(q >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_alphabet[q & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict decoding: whole 4-character groups, padding only at the end.
 * Returns 0 with a NUL-terminated buffer (free with xmppc_free), 1 when
 * the input is not valid base64 (no error set), or XMPPC_ENOMEM. */
static int b64_decode(const char *in, size_t len, unsigned char **out,
                      size_t *out_len)
{
    if (len % 4 != 0)
        return 1;
    size_t pad = 0;
    if (len > 0 && in[len - 1] == '=')
        pad = len > 1 && in[len - 2] == '=' ? 2 : 1;
    size_t n = len / 4 * 3 - pad;
    unsigned char *buf = xmppc__malloc(n + 1);
    if (!buf)
        return XMPPC_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t q = 0;
        for (size_t k = 0; k < 4; k++) {
            int v = b64_value((unsigned char)in[i + k]);
            if (v < 0) {
                /* '=' only in the last group's padding positions */
                if (in[i + k] != '=' || i + 4 != len || k < 4 - pad) {
                    xmppc__free(buf);
                    return 1;
                }
                v = 0;
            }
            q = q << 6 | (uint32_t)v;
        }
        buf[o++] = (unsigned char)(q >> 16);
        if (o < n)
            buf[o++] = (unsigned char)(q >> 8);
        if (o < n)
            buf[o++] = (unsigned char)q;
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    return 0;
}

/* Decodes an element's text where NULL, "" and "=" all mean "no data".
 * Returns as b64_decode(). */
static int decode_payload(const char *b64, unsigned char **out, size_t *out_len)
{
    if (!b64 || strcmp(b64, "=") == 0)
        b64 = "";
    return b64_decode(b64, strlen(b64), out, out_len);
}

/* ---- the process-wide libgsasl context ----------------------------------- */

static pthread_once_t gsasl_once = PTHREAD_ONCE_INIT;
static Gsasl *gsasl_ctx;
static int gsasl_init_rc;

static int give(Gsasl_session *sctx, Gsasl_property prop, const char *value)
{
    if (!value)
        return GSASL_NO_CALLBACK;
    return gsasl_property_set(sctx, prop, value);
}

/* libgsasl asks for what it needs when it needs it; each session's hook
 * points to its xmppc__sasl. Channel-binding data is handed out only for
 * -PLUS: a non-PLUS libgsasl client that gets any would fail (see top). */
static int property_cb(Gsasl *ctx, Gsasl_session *sctx, Gsasl_property prop)
{
    (void)ctx;
    xmppc__sasl *s = sctx ? gsasl_session_hook_get(sctx) : NULL;
    if (!s)
        return GSASL_NO_CALLBACK;
    switch (prop) {
    case GSASL_AUTHID:
        return give(sctx, prop, s->authcid);
    case GSASL_AUTHZID:
        return give(sctx, prop, s->authzid);
    case GSASL_PASSWORD:
        return give(sctx, prop, s->password);
    case GSASL_SCRAM_SALTED_PASSWORD:
        /* Asked before the password; only after our server-first checks
         * found that the key fits this salt and iteration count. */
        return give(sctx, prop,
                    s->use_cached ? s->cached.salted_password_hex : NULL);
    case GSASL_CB_TLS_UNIQUE:
        return give(sctx, prop,
                    s->plus && s->cb_type == XMPPC__SASL_CB_TLS_UNIQUE
                        ? s->cb_b64
                        : NULL);
    case GSASL_CB_TLS_EXPORTER:
        return give(sctx, prop,
                    s->plus && s->cb_type == XMPPC__SASL_CB_TLS_EXPORTER
                        ? s->cb_b64
                        : NULL);
    default:
        return GSASL_NO_CALLBACK;
    }
}

static void gsasl_init_once(void)
{
    gsasl_init_rc = gsasl_init(&gsasl_ctx);
    if (gsasl_init_rc == GSASL_OK)
        gsasl_callback_set(gsasl_ctx, property_cb);
}

static int global_ctx(Gsasl **out)
{
    pthread_once(&gsasl_once, gsasl_init_once);
    if (gsasl_init_rc != GSASL_OK)
        return xmppc__error(XMPPC_ERROR, "sasl: cannot initialise libgsasl: %s",
                            gsasl_strerror(gsasl_init_rc));
    *out = gsasl_ctx;
    return 0;
}

/* libgsasl frees its copies of properties without clearing them. They are
 * its own malloc'ed strings, so clearing them through the pointer is
 * fine. */
static void wipe_property(Gsasl_session *sctx, Gsasl_property prop)
{
    char *p = (char *)gsasl_property_fast(sctx, prop);
    if (p)
        wipe(p, strlen(p));
}

static void release_session(xmppc__sasl *s)
{
    if (!s->session)
        return;
    wipe_property(s->session, GSASL_PASSWORD);
    wipe_property(s->session, GSASL_SCRAM_SALTED_PASSWORD);
    gsasl_finish(s->session);
    s->session = NULL;
}

/* The password and the cached key are not needed once client-final (or
 * PLAIN's response) is computed. */
static void drop_secrets(xmppc__sasl *s)
{
    xmppc__free_secret(s->password);
    s->password = NULL;
    wipe(s->cached.salted_password_hex, sizeof s->cached.salted_password_hex);
}

/* Every failure of an exchange ends it. */
static int fail(xmppc__sasl *s, int code)
{
    s->state = ST_FAILED;
    release_session(s);
    drop_secrets(s);
    wipe(s->salted_hex, sizeof s->salted_hex);
    return code;
}

static int fail_msg(xmppc__sasl *s, int code, const char *fmt, ...)
    XMPPC_PRINTF(3, 4);

static int fail_msg(xmppc__sasl *s, int code, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xmppc__error(code, "sasl: %s", msg);
    return fail(s, code);
}

static int fail_gsasl(xmppc__sasl *s, int rc, const char *what)
{
    switch (rc) {
    case GSASL_MALLOC_ERROR:
        return fail_msg(s, XMPPC_ENOMEM, "out of memory in libgsasl (%s)",
                        what);
    case GSASL_SASLPREP_ERROR:
        return fail_msg(s, XMPPC_EINVAL,
                        "the username or password is not valid for "
                        "SASLprep (RFC 4013)");
    case GSASL_AUTHENTICATION_ERROR:
        return fail_msg(s, XMPPC_EAUTH, "%s: rejected by libgsasl", what);
    case GSASL_MECHANISM_PARSE_ERROR:
        return fail_msg(s, XMPPC_EPROTO, "%s: malformed SCRAM message", what);
    default:
        return fail_msg(s, XMPPC_EAUTH, "%s: %s (%s)", what, gsasl_strerror(rc),
                        gsasl_strerror_name(rc));
    }
}

/* Copies libgsasl output into our allocation as base64, wiping libgsasl's
 * buffer (PLAIN's holds the password). empty: what an empty response is
 * written as. */
static int take_output(xmppc__sasl *s, char *raw, size_t raw_len,
                       const char *empty, char **b64_out)
{
    char *b64 = raw_len ? b64_encode(raw, raw_len) : xmppc__strdup(empty);
    if (raw) {
        wipe(raw, raw_len);
        gsasl_free(raw);
    }
    if (!b64)
        return fail(s, XMPPC_ENOMEM);
    *b64_out = b64;
    return 0;
}

/* ---- creation ------------------------------------------------------------ */

static int copy_cached_key(xmppc__sasl_cached_key *dst,
                           const xmppc__sasl_cached_key *src)
{
    if (src->hash != XMPPC__SASL_HASH_SHA1 &&
        src->hash != XMPPC__SASL_HASH_SHA256)
        return xmppc__error(XMPPC_EINVAL, "sasl: cached key: unknown hash");
    if (src->iterations == 0)
        return xmppc__error(XMPPC_EINVAL,
                            "sasl: cached key: iteration count is 0");
    if (!src->salt_b64)
        return xmppc__error(XMPPC_EINVAL, "sasl: cached key: no salt");
    unsigned char *salt;
    size_t salt_len;
    int rc = b64_decode(src->salt_b64, strlen(src->salt_b64), &salt, &salt_len);
    if (rc < 0)
        return rc;
    if (rc > 0 || salt_len == 0) {
        if (rc == 0)
            xmppc__free(salt);
        return xmppc__error(XMPPC_EINVAL,
                            "sasl: cached key: salt is not valid base64");
    }
    xmppc__free(salt);
    size_t hex_len = 2 * hash_len(src->hash);
    const char *hex = src->salted_password_hex;
    if (strnlen(hex, sizeof src->salted_password_hex) != hex_len)
        return xmppc__error(XMPPC_EINVAL,
                            "sasl: cached key: salted password must be %zu "
                            "hex digits",
                            hex_len);
    for (size_t i = 0; i < hex_len; i++)
        if (hex_digit((unsigned char)hex[i]) < 0)
            return xmppc__error(XMPPC_EINVAL,
                                "sasl: cached key: salted password is not "
                                "hex");
    dst->salt_b64 = xmppc__strdup(src->salt_b64);
    if (!dst->salt_b64)
        return XMPPC_ENOMEM;
    dst->hash = src->hash;
    dst->iterations = src->iterations;
    /* libgsasl accepts lowercase only and would silently ignore the key. */
    for (size_t i = 0; i <= hex_len; i++) {
        char c = hex[i];
        dst->salted_password_hex[i] =
            (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    }
    return 0;
}

int xmppc__sasl_new(xmppc__sasl **out, const xmppc__sasl_config *cfg)
{
    if (!out || !cfg)
        return xmppc__error(XMPPC_EINVAL, "sasl_new: NULL argument");
    if (!cfg->authcid || !*cfg->authcid)
        return xmppc__error(XMPPC_EINVAL,
                            "sasl: an authentication identity (the JID "
                            "localpart) is required");
    if (!cfg->password && !cfg->cached_key)
        return xmppc__error(XMPPC_EINVAL,
                            "sasl: a password or a cached key is required");
    unsigned int min_iter =
        cfg->min_iterations ? cfg->min_iterations : DEFAULT_MIN_ITERATIONS;
    unsigned int max_iter =
        cfg->max_iterations ? cfg->max_iterations : DEFAULT_MAX_ITERATIONS;
    if (min_iter > max_iter)
        return xmppc__error(XMPPC_EINVAL,
                            "sasl: min_iterations %u > max_iterations %u",
                            min_iter, max_iter);
    Gsasl *ctx = NULL;
    int rc = global_ctx(&ctx);
    if (rc < 0)
        return rc;
    if (cfg->password) {
        /* Refuse early what SCRAM would refuse mid-exchange (where libgsasl
         * 2.2 also leaks). The flag is the one its key derivation uses. */
        char *prepped = NULL;
        rc = gsasl_saslprep(cfg->password, GSASL_ALLOW_UNASSIGNED, &prepped,
                            NULL);
        if (rc == GSASL_OK) {
            wipe(prepped, strlen(prepped));
            gsasl_free(prepped);
        } else if (rc == GSASL_MALLOC_ERROR) {
            return xmppc__error(XMPPC_ENOMEM, "sasl: out of memory");
        } else {
            return xmppc__error(XMPPC_EINVAL,
                                "sasl: the password is not valid for "
                                "SASLprep (RFC 4013)");
        }
    }

    xmppc__sasl *s = xmppc__calloc(1, sizeof *s);
    if (!s)
        return XMPPC_ENOMEM;
    s->logger = cfg->logger;
    s->min_iter = min_iter;
    s->max_iter = max_iter;
    s->allow_plain = cfg->allow_plain;
    s->state = ST_NEW;
    rc = XMPPC_ENOMEM;
    s->authcid = xmppc__strdup(cfg->authcid);
    if (!s->authcid)
        goto error;
    if (cfg->authzid && *cfg->authzid) {
        s->authzid = xmppc__strdup(cfg->authzid);
        if (!s->authzid)
            goto error;
    }
    if (cfg->password) {
        s->password = xmppc__strdup(cfg->password);
        if (!s->password)
            goto error;
    }
    if (cfg->cached_key) {
        rc = copy_cached_key(&s->cached, cfg->cached_key);
        if (rc < 0)
            goto error;
    }
    *out = s;
    return 0;

error:
    xmppc__sasl_free(s);
    return rc;
}

void xmppc__sasl_free(xmppc__sasl *s)
{
    if (!s)
        return;
    release_session(s);
    xmppc__free_secret(s->password);
    xmppc__sasl_cached_key_clear(&s->cached);
    xmppc__free(s->authcid);
    xmppc__free(s->authzid);
    xmppc__free(s->cb_b64);
    xmppc__free(s->gs2_header);
    xmppc__free(s->cfmb);
    xmppc__free(s->client_nonce);
    xmppc__free(s->salt_b64);
    wipe(s, sizeof *s);
    xmppc__free(s);
}

void xmppc__sasl_cached_key_clear(xmppc__sasl_cached_key *key)
{
    if (!key)
        return;
    xmppc__free(key->salt_b64);
    wipe(key, sizeof *key);
}

/* ---- mechanism choice ---------------------------------------------------- */

static const struct {
    const char *name;
    xmppc__sasl_hash hash;
    bool plus;
} scram_mechs[] = {
    {"SCRAM-SHA-256-PLUS", XMPPC__SASL_HASH_SHA256, true},
    {"SCRAM-SHA-1-PLUS", XMPPC__SASL_HASH_SHA1, true},
    {"SCRAM-SHA-256", XMPPC__SASL_HASH_SHA256, false},
    {"SCRAM-SHA-1", XMPPC__SASL_HASH_SHA1, false},
};

static bool is_offered(const char *const *offered, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (offered[i] && strcmp(offered[i], name) == 0)
            return true;
    return false;
}

const char *xmppc__sasl_cb_name(xmppc__sasl_cb type)
{
    switch (type) {
    case XMPPC__SASL_CB_TLS_UNIQUE:
        return "tls-unique";
    case XMPPC__SASL_CB_TLS_EXPORTER:
        return "tls-exporter";
    default:
        return NULL;
    }
}

/* The channel-binding type to use, if any. */
static xmppc__sasl_cb pick_cb(const xmppc__sasl_tls_info *tls)
{
    if (!tls || !tls->active)
        return XMPPC__SASL_CB_NONE;
    unsigned int avail = tls->cb_available;
    /* tls-unique is undefined for TLS 1.3 (RFC 9266 §1). */
    if (tls->version != 12)
        avail &= ~(unsigned int)XMPPC__SASL_CB_TLS_UNIQUE;
    if (tls->server_cb_types) {
        /* XEP-0440: the server's order, first one we can provide. */
        for (size_t i = 0; i < tls->n_server_cb_types; i++) {
            const char *t = tls->server_cb_types[i];
            if (!t)
                continue;
            if (strcmp(t, "tls-exporter") == 0 &&
                (avail & XMPPC__SASL_CB_TLS_EXPORTER))
                return XMPPC__SASL_CB_TLS_EXPORTER;
            if (strcmp(t, "tls-unique") == 0 &&
                (avail & XMPPC__SASL_CB_TLS_UNIQUE))
                return XMPPC__SASL_CB_TLS_UNIQUE;
        }
        return XMPPC__SASL_CB_NONE;
    }
    /* Without XEP-0440 we must guess. tls-unique is the type every -PLUS
     * server knows, on TLS 1.2. On TLS 1.3 there is no safe guess: servers
     * such as ejabberd 23.01 offer -PLUS there and then fail tls-exporter. */
    if (avail & XMPPC__SASL_CB_TLS_UNIQUE)
        return XMPPC__SASL_CB_TLS_UNIQUE;
    return XMPPC__SASL_CB_NONE;
}

/* Appends to a fixed buffer, truncating; for error messages. */
static void append(char *buf, size_t size, const char *fmt, ...)
    XMPPC_PRINTF(3, 4);

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

static int no_mechanism(const xmppc__sasl *s, const char *const *offered,
                        size_t n, bool tls_active, xmppc__sasl_cb cb)
{
    char list[384] = "";
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        const char *m = offered[i];
        if (!m)
            continue;
        /* Names come from the server: show only the SASL name alphabet. */
        char name[24];
        size_t k = 0;
        for (; m[k] && k < sizeof name - 1; k++) {
            char c = m[k];
            bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '_';
            name[k] = ok ? c : '?';
        }
        name[k] = '\0';
        append(list, sizeof list, "%s%s", shown++ ? ", " : "", name);
    }

    char why[384] = "";
    if (is_offered(offered, n, "PLAIN")) {
        if (!tls_active)
            append(why, sizeof why, "; PLAIN is refused without TLS");
        else if (!s->allow_plain)
            append(why, sizeof why, "; PLAIN is not allowed by the settings");
        else if (!s->password)
            append(why, sizeof why, "; PLAIN needs the password");
    }
    if (!s->password && s->cached.hash != XMPPC__SASL_HASH_NONE)
        append(why, sizeof why, "; the cached key is for %s",
               scram_name(s->cached.hash));
    bool only_plus = false;
    for (size_t i = 0; i < sizeof scram_mechs / sizeof scram_mechs[0]; i++)
        if (is_offered(offered, n, scram_mechs[i].name))
            only_plus = scram_mechs[i].plus;
    if (only_plus && cb == XMPPC__SASL_CB_NONE)
        append(why, sizeof why,
               "; -PLUS needs channel binding, which is not available on "
               "this connection");
    return xmppc__error(XMPPC_EAUTH,
                        "sasl: no acceptable mechanism; the server offers: "
                        "%s%s",
                        shown ? list : "nothing", why);
}

int xmppc__sasl_choose(xmppc__sasl *s, const char *const *offered,
                       size_t n_offered, const xmppc__sasl_tls_info *tls,
                       const char **mech_out)
{
    if (!s || !mech_out || (n_offered && !offered))
        return xmppc__error(XMPPC_EINVAL, "sasl_choose: NULL argument");
    if (s->state != ST_NEW && s->state != ST_CHOSEN)
        return xmppc__error(XMPPC_ESTATE,
                            "sasl_choose: the exchange has already started");
    bool tls_active = tls && tls->active;
    xmppc__sasl_cb cb = pick_cb(tls);
    bool plus_offered = is_offered(offered, n_offered, "SCRAM-SHA-256-PLUS") ||
                        is_offered(offered, n_offered, "SCRAM-SHA-1-PLUS");

    for (size_t i = 0; i < sizeof scram_mechs / sizeof scram_mechs[0]; i++) {
        if (!is_offered(offered, n_offered, scram_mechs[i].name))
            continue;
        if (!s->password && s->cached.hash != scram_mechs[i].hash)
            continue;
        if (scram_mechs[i].plus && cb == XMPPC__SASL_CB_NONE)
            continue;
        s->mech = MECH_SCRAM;
        s->mech_name = scram_mechs[i].name;
        s->hash = scram_mechs[i].hash;
        s->plus = scram_mechs[i].plus;
        /* 'y' tells a server that supports channel binding that -PLUS was
         * stripped on the way; it must not be sent when the server did
         * offer -PLUS (we just cannot use it), or the server must fail. */
        if (s->plus) {
            s->gs2_flag = 'p';
            s->cb_type = cb;
        } else if (cb != XMPPC__SASL_CB_NONE && !plus_offered) {
            s->gs2_flag = 'y';
            s->cb_type = cb;
        } else {
            s->gs2_flag = 'n';
            s->cb_type = XMPPC__SASL_CB_NONE;
        }
        if (s->gs2_flag == 'p')
            xmppc__log(s->logger, XMPPC_LOG_DEBUG, AREA,
                       "mechanism %s, channel binding %s", s->mech_name,
                       xmppc__sasl_cb_name(s->cb_type));
        else if (s->gs2_flag == 'y')
            xmppc__log(s->logger, XMPPC_LOG_DEBUG, AREA,
                       "mechanism %s, gs2 flag 'y' (we could bind with %s "
                       "but the server offers no -PLUS)",
                       s->mech_name, xmppc__sasl_cb_name(s->cb_type));
        else
            xmppc__log(s->logger, XMPPC_LOG_DEBUG, AREA,
                       "mechanism %s, no channel binding", s->mech_name);
        goto chosen;
    }
    if (is_offered(offered, n_offered, "PLAIN") && s->allow_plain &&
        tls_active && s->password) {
        s->mech = MECH_PLAIN;
        s->mech_name = "PLAIN";
        s->hash = XMPPC__SASL_HASH_NONE;
        s->plus = false;
        s->cb_type = XMPPC__SASL_CB_NONE;
        s->gs2_flag = 0;
        xmppc__log(s->logger, XMPPC_LOG_DEBUG, AREA,
                   "mechanism PLAIN (over TLS)");
        goto chosen;
    }
    return no_mechanism(s, offered, n_offered, tls_active, cb);

chosen:
    s->state = ST_CHOSEN;
    *mech_out = s->mech_name;
    return 0;
}

const char *xmppc__sasl_mechanism(const xmppc__sasl *s)
{
    return s && s->state != ST_NEW ? s->mech_name : NULL;
}

xmppc__sasl_cb xmppc__sasl_channel_binding(const xmppc__sasl *s)
{
    return s && s->plus ? s->cb_type : XMPPC__SASL_CB_NONE;
}

/* ---- start --------------------------------------------------------------- */

/* Remembers what later steps need from libgsasl's client-first-message
 * (gs2 header, bare message, nonce) and applies the 'y' flag. */
static int note_client_first(xmppc__sasl *s, char *msg, size_t len)
{
    const char *end = msg + len;
    char *c1 = memchr(msg, ',', len);
    char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(end - c1 - 1)) : NULL;
    if (!c2)
        return fail_msg(s, XMPPC_ERROR,
                        "libgsasl wrote a client-first-message without a "
                        "gs2 header");
    /* Check that libgsasl binds exactly as chosen. */
    bool ok;
    if (s->gs2_flag == 'p') {
        const char *name = xmppc__sasl_cb_name(s->cb_type);
        ok = msg[0] == 'p' && msg[1] == '=' &&
             (size_t)(c1 - msg - 2) == strlen(name) &&
             memcmp(msg + 2, name, strlen(name)) == 0;
    } else {
        ok = msg[0] == 'n' && c1 == msg + 1;
    }
    if (!ok)
        return fail_msg(s, XMPPC_ERROR,
                        "libgsasl wrote an unexpected gs2 header for %s",
                        s->mech_name);
    if (s->gs2_flag == 'y')
        msg[0] = 'y';

    const char *bare = c2 + 1;
    const char *nonce = NULL;
    size_t nonce_len = 0;
    for (const char *a = bare; a < end;) {
        const char *comma = memchr(a, ',', (size_t)(end - a));
        const char *stop = comma ? comma : end;
        if (stop - a >= 2 && a[0] == 'r' && a[1] == '=') {
            nonce = a + 2;
            nonce_len = (size_t)(stop - nonce);
            break;
        }
        a = comma ? comma + 1 : end;
    }
    if (!nonce || nonce_len == 0)
        return fail_msg(s, XMPPC_ERROR,
                        "libgsasl wrote a client-first-message without a "
                        "nonce");
    s->gs2_header = xmppc__strndup(msg, (size_t)(bare - msg));
    s->cfmb = xmppc__strndup(bare, (size_t)(end - bare));
    s->client_nonce = xmppc__strndup(nonce, nonce_len);
    if (!s->gs2_header || !s->cfmb || !s->client_nonce)
        return fail(s, XMPPC_ENOMEM);
    return 0;
}

int xmppc__sasl_start(xmppc__sasl *s, const unsigned char *cb_data,
                      size_t cb_len, char **initial_b64_out)
{
    if (!s || !initial_b64_out)
        return xmppc__error(XMPPC_EINVAL, "sasl_start: NULL argument");
    if (s->state != ST_CHOSEN)
        return xmppc__error(XMPPC_ESTATE,
                            s->state == ST_NEW
                                ? "sasl_start: no mechanism chosen"
                                : "sasl_start: the exchange has already "
                                  "started");
    if (s->plus) {
        if (!cb_data || cb_len == 0)
            return fail_msg(s, XMPPC_EINVAL, "%s needs %s channel-binding data",
                            s->mech_name, xmppc__sasl_cb_name(s->cb_type));
        s->cb_b64 = b64_encode(cb_data, cb_len);
        if (!s->cb_b64)
            return fail(s, XMPPC_ENOMEM);
    }
    Gsasl *ctx = NULL;
    int rc = global_ctx(&ctx);
    if (rc < 0)
        return fail(s, rc);
    rc = gsasl_client_start(ctx, s->mech_name, &s->session);
    if (rc != GSASL_OK) {
        s->session = NULL;
        return fail_gsasl(s, rc, "starting the client");
    }
    gsasl_session_hook_set(s->session, s);

    char *raw = NULL;
    size_t raw_len = 0;
    rc = gsasl_step(s->session, NULL, 0, &raw, &raw_len);
    /* On errors the output is unspecified (not even safe to free). */
    if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
        return fail_gsasl(s, rc, "initial response");
    if (s->mech == MECH_SCRAM) {
        rc = note_client_first(s, raw, raw_len);
        if (rc < 0) {
            gsasl_free(raw);
            return rc;
        }
    } else {
        drop_secrets(s); /* PLAIN: the response was the whole exchange */
    }
    rc = take_output(s, raw, raw_len, "=", initial_b64_out);
    if (rc < 0)
        return rc;
    s->state = ST_STARTED;
    return 0;
}

/* ---- server-first-message (RFC 5802 §7) ---------------------------------- */

typedef struct span {
    const char *p;
    size_t len;
} span;

/* Takes attribute "<name>=value" at *pos; any name when name == 0. */
static bool take_attr(const char *msg, size_t len, size_t *pos, char name,
                      span *value)
{
    size_t i = *pos;
    if (i + 2 > len || msg[i + 1] != '=')
        return false;
    char c = msg[i];
    if (name ? c != name : !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        return false;
    const char *v = msg + i + 2;
    const char *comma = memchr(v, ',', len - i - 2);
    value->p = v;
    value->len = comma ? (size_t)(comma - v) : len - i - 2;
    *pos = comma ? (size_t)(comma - msg) + 1 : len;
    return !comma || *pos < len; /* no trailing comma */
}

/* e=: RFC 5802 §7 server-error, in server-first or server-final. */
static int server_error(xmppc__sasl *s, const char *msg, size_t len)
{
    const char *comma = memchr(msg, ',', len);
    size_t vlen = (comma ? (size_t)(comma - msg) : len) - 2;
    return fail_msg(s, XMPPC_EAUTH, "the server rejected the exchange: %.*s",
                    (int)(vlen > 128 ? 128 : vlen), msg + 2);
}

/* Parses and checks server-first; on success fills the spans and the
 * decoded salt (caller frees). */
static int check_server_first(xmppc__sasl *s, const char *msg, size_t len,
                              span *nonce, unsigned char **salt,
                              size_t *salt_len, span *salt_b64)
{
    if (len == 0)
        return fail_msg(s, XMPPC_EPROTO, "empty SCRAM server-first-message");
    if (!clean_text(msg, len))
        return fail_msg(s, XMPPC_EPROTO,
                        "SCRAM server-first-message contains control "
                        "characters");
    if (starts_with(msg, len, "e="))
        return server_error(s, msg, len);
    if (starts_with(msg, len, "m="))
        return fail_msg(s, XMPPC_EPROTO,
                        "the server demands an unsupported SCRAM extension "
                        "(m=)");
    size_t pos = 0;
    span iter;
    if (!take_attr(msg, len, &pos, 'r', nonce) ||
        !take_attr(msg, len, &pos, 's', salt_b64) ||
        !take_attr(msg, len, &pos, 'i', &iter))
        return fail_msg(s, XMPPC_EPROTO,
                        "malformed SCRAM server-first-message (expected "
                        "r=,s=,i=)");
    while (pos < len) {
        span ext;
        if (!take_attr(msg, len, &pos, 0, &ext))
            return fail_msg(s, XMPPC_EPROTO,
                            "malformed extension in SCRAM "
                            "server-first-message");
    }

    /* The nonce: ours plus the server's part (RFC 5802 §5.1), so that the
     * exchange is fresh and cannot be a replay. */
    for (size_t i = 0; i < nonce->len; i++)
        if ((unsigned char)nonce->p[i] < 0x21 ||
            (unsigned char)nonce->p[i] > 0x7e)
            return fail_msg(s, XMPPC_EPROTO,
                            "invalid characters in the SCRAM nonce");
    size_t cn_len = strlen(s->client_nonce);
    if (nonce->len <= cn_len || memcmp(nonce->p, s->client_nonce, cn_len))
        return fail_msg(s, XMPPC_EAUTH,
                        "the server's nonce does not extend our client nonce "
                        "(replayed or forged SCRAM exchange)");

    if (iter.len == 0)
        return fail_msg(s, XMPPC_EPROTO, "empty SCRAM iteration count");
    unsigned long long n = 0;
    for (size_t i = 0; i < iter.len; i++) {
        char c = iter.p[i];
        if (c < '0' || c > '9')
            return fail_msg(s, XMPPC_EPROTO,
                            "SCRAM iteration count is not a number");
        if (n < 1000000000000ull) /* saturate: only the range matters */
            n = n * 10 + (unsigned long long)(c - '0');
    }
    int ilen = (int)(iter.len > 20 ? 20 : iter.len);
    if (n < s->min_iter)
        return fail_msg(s, XMPPC_EAUTH,
                        "too few SCRAM iterations (%.*s; at least %u "
                        "required)",
                        ilen, iter.p, s->min_iter);
    if (n > s->max_iter)
        return fail_msg(s, XMPPC_EAUTH,
                        "too many SCRAM iterations (%.*s; at most %u "
                        "accepted): refusing a denial of service",
                        ilen, iter.p, s->max_iter);
    s->iterations = (unsigned int)n;

    int rc = b64_decode(salt_b64->p, salt_b64->len, salt, salt_len);
    if (rc < 0)
        return fail(s, rc);
    if (rc > 0)
        return fail_msg(s, XMPPC_EPROTO, "SCRAM salt is not valid base64");
    if (*salt_len == 0) {
        xmppc__free(*salt);
        return fail_msg(s, XMPPC_EPROTO, "empty SCRAM salt");
    }
    return 0;
}

/* Whether the cached key was made for exactly this salt and count. */
static int cached_key_fits(const xmppc__sasl *s, const unsigned char *salt,
                           size_t salt_len, bool *fits)
{
    *fits = false;
    if (s->cached.hash != s->hash || s->cached.iterations != s->iterations)
        return 0;
    unsigned char *mine;
    size_t mine_len;
    int rc = b64_decode(s->cached.salt_b64, strlen(s->cached.salt_b64), &mine,
                        &mine_len);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        *fits = mine_len == salt_len && memcmp(mine, salt, salt_len) == 0;
        xmppc__free(mine);
    }
    return 0;
}

static int hmac(xmppc__sasl_hash hash, const void *key, size_t key_len,
                const void *data, size_t len, unsigned char *out)
{
    gnutls_mac_algorithm_t alg =
        hash == XMPPC__SASL_HASH_SHA256 ? GNUTLS_MAC_SHA256 : GNUTLS_MAC_SHA1;
    int rc = gnutls_hmac_fast(alg, key, key_len, data, len, out);
    if (rc < 0)
        return xmppc__error(XMPPC_ERROR, "sasl: HMAC failed: %s",
                            gnutls_strerror(rc));
    return 0;
}

/* gs2 flag 'y': client-final computed here (RFC 5802 §3), since libgsasl
 * cannot. The keys come from libgsasl (with its SASLprep), so the result
 * is what libgsasl would compute with c= naming our gs2 header. */
static int y_client_final(xmppc__sasl *s, const char *sf, size_t sf_len,
                          span nonce, const unsigned char *salt,
                          size_t salt_len, char **out, size_t *out_len)
{
    size_t hlen = hash_len(s->hash);
    char salted[MAX_HASH_LEN], ckey[MAX_HASH_LEN], skey[MAX_HASH_LEN],
        stkey[MAX_HASH_LEN];
    unsigned char csig[MAX_HASH_LEN], proof[MAX_HASH_LEN];
    char *gs2_b64 = NULL, *proof_b64 = NULL;
    xmppc__buf cf = XMPPC__BUF_INIT, auth = XMPPC__BUF_INIT;
    int rc;

    if (s->use_cached) {
        for (size_t i = 0; i < hlen; i++)
            salted[i] =
                (char)(hex_digit(s->cached.salted_password_hex[2 * i]) << 4 |
                       hex_digit(s->cached.salted_password_hex[2 * i + 1]));
        rc = gsasl_scram_secrets_from_salted_password(
            gsasl_hash_of(s->hash), salted, ckey, skey, stkey);
    } else {
        rc = gsasl_scram_secrets_from_password(
            gsasl_hash_of(s->hash), s->password, s->iterations,
            (const char *)salt, salt_len, salted, ckey, skey, stkey);
    }
    if (rc != GSASL_OK) {
        rc = fail_gsasl(s, rc, "deriving the SCRAM keys");
        goto done;
    }
    hex_encode((const unsigned char *)salted, hlen, s->salted_hex);

    /* client-final-message-without-proof, then AuthMessage. */
    gs2_b64 = b64_encode(s->gs2_header, strlen(s->gs2_header));
    if (!gs2_b64)
        goto oom;
    size_t cf_len = 2 + strlen(gs2_b64) + 3 + nonce.len;
    if (xmppc__buf_reserve(&cf, cf_len + 3 + (hlen + 2) / 3 * 4) < 0 ||
        xmppc__buf_append_str(&cf, "c=") < 0 ||
        xmppc__buf_append_str(&cf, gs2_b64) < 0 ||
        xmppc__buf_append_str(&cf, ",r=") < 0 ||
        xmppc__buf_append(&cf, nonce.p, nonce.len) < 0)
        goto oom;
    if (xmppc__buf_append_str(&auth, s->cfmb) < 0 ||
        xmppc__buf_append_str(&auth, ",") < 0 ||
        xmppc__buf_append(&auth, sf, sf_len) < 0 ||
        xmppc__buf_append_str(&auth, ",") < 0 ||
        xmppc__buf_append(&auth, cf.data, cf.len) < 0)
        goto oom;

    /* ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage);
     * ServerSignature = HMAC(ServerKey, AuthMessage), checked later. */
    if ((rc = hmac(s->hash, stkey, hlen, auth.data, auth.len, csig)) < 0 ||
        (rc = hmac(s->hash, skey, hlen, auth.data, auth.len, s->server_sig)) <
            0) {
        rc = fail(s, rc);
        goto done;
    }
    for (size_t i = 0; i < hlen; i++)
        proof[i] = (unsigned char)ckey[i] ^ csig[i];
    proof_b64 = b64_encode(proof, hlen);
    if (!proof_b64 || xmppc__buf_append_str(&cf, ",p=") < 0 ||
        xmppc__buf_append_str(&cf, proof_b64) < 0)
        goto oom;
    *out = xmppc__buf_steal(&cf, out_len);
    rc = 0;
    goto done;

oom:
    rc = fail(s, XMPPC_ENOMEM);
done:
    wipe(salted, sizeof salted);
    wipe(ckey, sizeof ckey);
    wipe(skey, sizeof skey);
    wipe(stkey, sizeof stkey);
    wipe(csig, sizeof csig);
    wipe(proof, sizeof proof);
    xmppc__free_secret(proof_b64);
    xmppc__free(gs2_b64);
    if (cf.data)
        wipe(cf.data, cf.len);
    xmppc__buf_free(&cf);
    xmppc__buf_free(&auth);
    return rc;
}

static int server_first(xmppc__sasl *s, const char *msg, size_t len,
                        char **response_b64_out)
{
    span nonce, salt_b64;
    unsigned char *salt = NULL;
    size_t salt_len = 0;
    int rc =
        check_server_first(s, msg, len, &nonce, &salt, &salt_len, &salt_b64);
    if (rc < 0)
        return rc;
    bool fits = false;
    if (s->cached.hash != XMPPC__SASL_HASH_NONE) {
        rc = cached_key_fits(s, salt, salt_len, &fits);
        if (rc < 0) {
            xmppc__free(salt);
            return fail(s, rc);
        }
    }
    s->use_cached = fits;
    if (!fits && !s->password) {
        xmppc__free(salt);
        return fail_msg(s, XMPPC_EAUTH,
                        "cached key does not match the server's "
                        "salt/iterations; the password is needed");
    }
    s->salt_b64 = xmppc__strndup(salt_b64.p, salt_b64.len);
    if (!s->salt_b64) {
        xmppc__free(salt);
        return fail(s, XMPPC_ENOMEM);
    }

    char *raw = NULL;
    size_t raw_len = 0;
    if (s->gs2_flag == 'y') {
        rc = y_client_final(s, msg, len, nonce, salt, salt_len, &raw, &raw_len);
        xmppc__free(salt);
        if (rc < 0)
            return rc;
        drop_secrets(s);
        char *b64 = b64_encode(raw, raw_len);
        wipe(raw, raw_len);
        xmppc__free(raw);
        if (!b64)
            return fail(s, XMPPC_ENOMEM);
        *response_b64_out = b64;
    } else {
        xmppc__free(salt);
        rc = gsasl_step(s->session, msg, len, &raw, &raw_len);
        if (rc == GSASL_OK) { /* cannot happen: no v= yet */
            wipe(raw, raw_len);
            gsasl_free(raw);
            rc = GSASL_MECHANISM_CALLED_TOO_MANY_TIMES;
        }
        if (rc != GSASL_NEEDS_MORE)
            return fail_gsasl(s, rc, "SCRAM server-first-message");
        drop_secrets(s);
        rc = take_output(s, raw, raw_len, "", response_b64_out);
        if (rc < 0)
            return rc;
    }
    s->state = ST_FINAL_SENT;
    return 0;
}

/* ---- server-final-message: the server signature -------------------------- */

static int server_final(xmppc__sasl *s, const char *msg, size_t len)
{
    if (!clean_text(msg, len))
        return fail_msg(s, XMPPC_EAUTH,
                        "server signature missing (garbled "
                        "server-final-message)");
    if (starts_with(msg, len, "e="))
        return server_error(s, msg, len);
    if (!starts_with(msg, len, "v="))
        return fail_msg(s, XMPPC_EAUTH,
                        "server signature missing (no v=): the server did "
                        "not prove it knows the password");
    const char *comma = memchr(msg, ',', len);
    size_t v_len = (comma ? (size_t)(comma - msg) : len) - 2;
    unsigned char *sig;
    size_t sig_len;
    int rc = b64_decode(msg + 2, v_len, &sig, &sig_len);
    if (rc < 0)
        return fail(s, rc);
    size_t hlen = hash_len(s->hash);
    if (rc > 0 || sig_len != hlen) {
        if (rc == 0)
            xmppc__free(sig);
        return fail_msg(s, XMPPC_EAUTH, "server signature malformed");
    }

    bool good;
    if (s->gs2_flag == 'y') {
        unsigned char diff = 0; /* constant time */
        for (size_t i = 0; i < hlen; i++)
            diff |= sig[i] ^ s->server_sig[i];
        good = diff == 0;
        xmppc__free(sig);
    } else {
        xmppc__free(sig);
        /* Only v=...: libgsasl need not understand extensions. */
        char *out = NULL;
        size_t out_len = 0;
        rc = gsasl_step(s->session, msg, v_len + 2, &out, &out_len);
        if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE)
            gsasl_free(out);
        if (rc != GSASL_OK && rc != GSASL_AUTHENTICATION_ERROR)
            return fail_gsasl(s, rc, "SCRAM server-final-message");
        good = rc == GSASL_OK;
        if (good) {
            const char *hex =
                gsasl_property_fast(s->session, GSASL_SCRAM_SALTED_PASSWORD);
            if (hex && strlen(hex) == 2 * hlen)
                memcpy(s->salted_hex, hex, 2 * hlen + 1);
        }
    }
    if (!good)
        return fail_msg(s, XMPPC_EAUTH,
                        "server signature wrong: the server does not know "
                        "the password (impostor?)");
    s->state = ST_VERIFIED;
    return 0;
}

int xmppc__sasl_step(xmppc__sasl *s, const char *challenge_b64,
                     char **response_b64_out)
{
    if (!s || !response_b64_out)
        return xmppc__error(XMPPC_EINVAL, "sasl_step: NULL argument");
    if (s->state != ST_STARTED && s->state != ST_FINAL_SENT &&
        s->state != ST_VERIFIED)
        return xmppc__error(XMPPC_ESTATE, "sasl_step: no exchange in progress");
    if (s->mech != MECH_SCRAM)
        return fail_msg(s, XMPPC_EPROTO, "unexpected challenge for %s",
                        s->mech_name);
    if (s->state == ST_VERIFIED)
        return fail_msg(s, XMPPC_EPROTO,
                        "unexpected challenge after the server signature");
    unsigned char *data;
    size_t len;
    int rc = decode_payload(challenge_b64, &data, &len);
    if (rc < 0)
        return fail(s, rc);
    if (rc > 0)
        return fail_msg(s, XMPPC_EPROTO, "challenge is not valid base64");
    if (s->state == ST_STARTED) {
        rc = server_first(s, (const char *)data, len, response_b64_out);
    } else {
        /* v= as a challenge: verify it, answer with an empty response. */
        rc = server_final(s, (const char *)data, len);
        if (rc == 0) {
            *response_b64_out = xmppc__strdup("");
            if (!*response_b64_out)
                rc = fail(s, XMPPC_ENOMEM);
        }
    }
    xmppc__free(data);
    return rc;
}

/* ---- outcome ------------------------------------------------------------- */

int xmppc__sasl_success(xmppc__sasl *s, const char *additional_b64)
{
    if (!s)
        return xmppc__error(XMPPC_EINVAL, "sasl_success: NULL argument");
    if (s->state != ST_STARTED && s->state != ST_FINAL_SENT &&
        s->state != ST_VERIFIED)
        return xmppc__error(XMPPC_ESTATE,
                            "sasl_success: no exchange in progress");
    if (s->mech == MECH_SCRAM && s->state == ST_STARTED)
        return fail_msg(s, XMPPC_EAUTH,
                        "server signature missing: <success/> before the "
                        "SCRAM exchange finished (impostor?)");
    if (s->mech == MECH_SCRAM && s->state == ST_FINAL_SENT) {
        unsigned char *data;
        size_t len;
        int rc = decode_payload(additional_b64, &data, &len);
        if (rc < 0)
            return fail(s, rc);
        if (rc > 0)
            return fail_msg(s, XMPPC_EAUTH,
                            "server signature missing: <success/> data is "
                            "not valid base64");
        if (len == 0) {
            xmppc__free(data);
            return fail_msg(s, XMPPC_EAUTH,
                            "server signature missing: <success/> without "
                            "v= (impostor?)");
        }
        rc = server_final(s, (const char *)data, len);
        xmppc__free(data);
        if (rc < 0)
            return rc;
    }
    /* PLAIN has no additional data, and once v= was verified in a
     * challenge nothing further can change the verdict: data is ignored. */
    s->state = ST_DONE;
    release_session(s);
    drop_secrets(s);
    xmppc__log(s->logger, XMPPC_LOG_DEBUG, AREA, "authenticated with %s%s",
               s->mech_name,
               s->mech == MECH_SCRAM ? " (server signature verified)" : "");
    return 0;
}

int xmppc__sasl_failure(xmppc__sasl *s, const char *condition, const char *text)
{
    static const struct {
        const char *condition;
        int code;
        const char *explanation;
    } map[] = {
        {"not-authorized", XMPPC_EAUTH, "wrong username or password"},
        {"credentials-expired", XMPPC_EAUTH, "the password has expired"},
        {"account-disabled", XMPPC_EAUTH, "the account is disabled"},
        {"encryption-required", XMPPC_ETLS,
         "the server requires encryption for this mechanism"},
        {"temporary-auth-failure", XMPPC_EAGAIN,
         "temporary failure on the server; try again later"},
        {"aborted", XMPPC_EAUTH, "the exchange was aborted"},
        {"incorrect-encoding", XMPPC_EAUTH, "the server could not decode us"},
        {"invalid-authzid", XMPPC_EAUTH, "invalid authorization identity"},
        {"invalid-mechanism", XMPPC_EAUTH, "mechanism not supported"},
        {"malformed-request", XMPPC_EAUTH,
         "the server found a malformed "
         "request"},
        {"mechanism-too-weak", XMPPC_EAUTH,
         "the mechanism is too weak for "
         "this account"},
    };
    int code = XMPPC_EAUTH;
    const char *explanation = "unknown condition";
    if (!condition)
        explanation = "no condition given";
    for (size_t i = 0; condition && i < sizeof map / sizeof map[0]; i++) {
        if (strcmp(condition, map[i].condition) == 0) {
            code = map[i].code;
            explanation = map[i].explanation;
            break;
        }
    }
    if (s) {
        if (s->state != ST_DONE)
            fail(s, code);
        xmppc__log(s->logger, XMPPC_LOG_DEBUG, AREA, "<failure/>: %.64s",
                   condition ? condition : "(none)");
    }
    bool has_text = text && *text;
    return xmppc__error_xmpp(
        code, condition, NULL, has_text ? text : NULL,
        "sasl: authentication failed: %.64s (%s)%s%.300s%s",
        condition ? condition : "no condition", explanation,
        has_text ? ": \"" : "", has_text ? text : "", has_text ? "\"" : "");
}

int xmppc__sasl_get_cached_key(const xmppc__sasl *s,
                               xmppc__sasl_cached_key *out)
{
    if (!s || !out)
        return xmppc__error(XMPPC_EINVAL, "sasl_get_cached_key: NULL "
                                          "argument");
    if (s->state != ST_DONE || s->mech != MECH_SCRAM || !s->salt_b64 ||
        s->salted_hex[0] == '\0')
        return xmppc__error(XMPPC_ESTATE,
                            "sasl_get_cached_key: no SCRAM authentication "
                            "has succeeded");
    char *salt = xmppc__strdup(s->salt_b64);
    if (!salt)
        return XMPPC_ENOMEM;
    memset(out, 0, sizeof *out);
    out->hash = s->hash;
    out->salt_b64 = salt;
    out->iterations = s->iterations;
    memcpy(out->salted_password_hex, s->salted_hex, sizeof s->salted_hex);
    return 0;
}
