/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Fuzzes JID parsing and preparation. Every valid JID must be stable:
 * preparing its prepared form changes nothing, parsing it again gives an
 * equal JID with the same parts, and no part exceeds 1023 bytes. A broken
 * invariant aborts, which is how a fuzz target reports a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xmppc/xmppc.h>

#define MAX_INPUT 4096
#define PART_MAX 1023

static void require(int condition)
{
    if (!condition)
        abort();
}

static int same_optional(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_invariants(const xmppc_jid *jid)
{
    const char *full = xmppc_jid_full(jid);
    const char *local = xmppc_jid_local(jid);
    const char *domain = xmppc_jid_domain(jid);
    const char *resource = xmppc_jid_resource(jid);
    require(full && domain && xmppc_jid_bare(jid));
    require(!local || (local[0] && strlen(local) <= PART_MAX));
    require(domain[0] && strlen(domain) <= PART_MAX);
    require(!resource || (resource[0] && strlen(resource) <= PART_MAX));
    require(xmppc_jid_is_bare(jid) == (resource == NULL));

    /* Preparation is idempotent. */
    char *again = NULL;
    require(xmppc_jid_prep(&again, full) == 0);
    require(strcmp(again, full) == 0);
    xmppc_free(again);

    /* The prepared form parses back to the same JID, part by part. */
    xmppc_jid *reparsed = NULL;
    require(xmppc_jid_parse(&reparsed, full) == 0);
    require(xmppc_jid_equal(jid, reparsed));
    require(xmppc_jid_compare(jid, reparsed) == 0);
    require(same_optional(local, xmppc_jid_local(reparsed)));
    require(strcmp(domain, xmppc_jid_domain(reparsed)) == 0);
    require(same_optional(resource, xmppc_jid_resource(reparsed)));

    /* The bare JID is the bare JID of the parsed bare string. */
    xmppc_jid *bare = NULL, *bare_parsed = NULL;
    require(xmppc_jid_to_bare(&bare, jid) == 0);
    require(xmppc_jid_parse(&bare_parsed, xmppc_jid_bare(jid)) == 0);
    require(xmppc_jid_equal(bare, bare_parsed));
    require(strcmp(xmppc_jid_full(bare), xmppc_jid_bare(jid)) == 0);
    require(xmppc_jid_bare_equal(jid, bare_parsed));
    require(xmppc_jid_str_equal(full, xmppc_jid_full(reparsed)) == 1);

    /* Building it from its parts gives the same JID. */
    xmppc_jid *built = NULL;
    require(xmppc_jid_new(&built, local, domain, resource) == 0);
    require(xmppc_jid_equal(jid, built));

    xmppc_jid_unref(built);
    xmppc_jid_unref(bare_parsed);
    xmppc_jid_unref(bare);
    xmppc_jid_unref(reparsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_INPUT || memchr(data, 0, size))
        return 0;
    char *str = malloc(size + 1);
    if (!str)
        return 0;
    memcpy(str, data, size);
    str[size] = '\0';

    xmppc_jid *jid = NULL;
    int rc = xmppc_jid_parse(&jid, str);
    require(rc == 0 || rc == XMPPC_EINVAL);
    /* xmppc_jid_prep() agrees with xmppc_jid_parse(). */
    char *prepared = NULL;
    require(xmppc_jid_prep(&prepared, str) == rc);
    if (rc == 0) {
        require(strcmp(prepared, xmppc_jid_full(jid)) == 0);
        check_invariants(jid);
    } else {
        /* A readable message is always set. */
        const char *message = xmppc_error_last()->message;
        require(message && strncmp(message, "jid", 3) == 0);
        require(strlen(message) < 512);
    }
    xmppc_free(prepared);
    xmppc_jid_unref(jid);
    free(str);
    require(xmppc_alloc_live_blocks() == 0);
    return 0;
}
