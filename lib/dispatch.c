/*
 * libxmppc - embeddable XMPP client library
 * SPDX-License-Identifier: MIT
 *
 * Stanza dispatcher and IQ request engine (see dispatch.h for the
 * contract).
 *
 * Reentrancy is handled with two counters:
 * - busy: how many dispatcher calls that run user code are on the stack.
 *   xmppc__dispatch_free() inside one only marks the dispatcher dead; the
 *   outermost call frees it when it unwinds.
 * - walkers: how many loops over the handler list are on the stack. While
 *   it is non-zero, removed handlers stay linked (only marked detached), so
 *   a walk can always step to the next node.
 *
 * Pending IQ requests live in three structures at once: a hash table on
 * the id (reply matching), a binary min-heap on (deadline, sequence)
 * (timeouts, O(log n) insert and removal) and a list in sending order
 * (cancel). The ids we generate are random and ids from the peer only
 * ever look up entries, so the table needs no protection against
 * flooding.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "dispatch.h"

#define AREA "dispatch"

struct xmppc__handler {
    xmppc__dispatch *d; /* NULL once unlinked from the dispatcher's list */
    xmppc__handler *prev, *next;
    uint64_t seq; /* registration order; hides the stanza being dispatched */
    unsigned int kinds;
    const char *type; /* these four point into strings[], or are NULL */
    const char *child_name;
    const char *child_ns;
    const char *from; /* prepared */
    bool from_is_bare;
    bool attached; /* sees stanzas; its destroy callback has not run */
    bool owned;    /* the caller holds the handle (not floating, not freed) */
    xmppc__stanza_cb cb;
    void *userdata;
    xmppc__destroy_cb destroy;
    char strings[];
};

#define NO_HEAP_POS SIZE_MAX

typedef struct pending {
    struct pending *hnext;         /* hash chain */
    struct pending *lprev, *lnext; /* sending order */
    uint32_t hash;
    size_t heap_pos; /* NO_HEAP_POS without a deadline */
    uint64_t deadline;
    uint64_t seq;
    unsigned int timeout_ms;
    xmppc__iq_reply_cb cb;
    void *userdata;
    xmppc__destroy_cb destroy;
    char *to; /* prepared; into the same block, or NULL */
    char id[];
} pending;

struct xmppc__dispatch {
    xmppc__dispatch_io io;
    xmppc_conn *owner;
    const xmppc__logger *logger;
    xmppc_jid *own;

    xmppc__handler *head, *tail;
    uint64_t next_handler_seq;
    size_t from_filters; /* attached handlers with a 'from' filter */
    unsigned int walkers;
    unsigned int busy;
    bool dead;    /* free requested: start nothing new */
    bool freeing; /* the final teardown is running */

    pending **buckets; /* power-of-two count, or NULL */
    size_t nbuckets;
    size_t npending;
    size_t max_pending;
    pending **heap;
    size_t heap_len, heap_cap;
    pending *lhead, *ltail;
    uint64_t next_iq_seq;
};

enum iq_type { IQ_GET, IQ_SET, IQ_RESULT, IQ_ERROR, IQ_BAD };

static void really_free(xmppc__dispatch *d);

/* ---- reentrancy -----------------------------------------------------------
 */

static void enter(xmppc__dispatch *d)
{
    d->busy++;
}

/* After this, @p d may be gone. */
static void leave(xmppc__dispatch *d)
{
    if (--d->busy == 0 && d->dead && !d->freeing)
        really_free(d);
}

/* ---- handler list -----------------------------------------------------------
 */

static void unlink_handler(xmppc__dispatch *d, xmppc__handler *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        d->head = h->next;
    if (h->next)
        h->next->prev = h->prev;
    else
        d->tail = h->prev;
    h->prev = h->next = NULL;
    h->d = NULL;
    if (!h->owned)
        xmppc__free(h);
}

/* Unlinks the handlers removed while the list was being walked. */
static void sweep(xmppc__dispatch *d)
{
    xmppc__handler *h = d->head;
    while (h) {
        xmppc__handler *next = h->next;
        if (!h->attached)
            unlink_handler(d, h);
        h = next;
    }
}

/* Detaches @p h and runs its destroy callback. Everything about @p h is
 * settled before the callback runs, because the callback may free the
 * handle (bindings do); @p h is not touched afterwards. Call with the
 * dispatcher busy. */
static void detach(xmppc__dispatch *d, xmppc__handler *h)
{
    xmppc__destroy_cb destroy = h->destroy;
    void *userdata = h->userdata;
    h->attached = false;
    h->cb = NULL;
    h->destroy = NULL;
    if (h->from)
        d->from_filters--;
    if (d->walkers == 0)
        unlink_handler(d, h);
    if (destroy)
        destroy(userdata);
}

int xmppc__dispatch_add(xmppc__dispatch *d, xmppc__handler **handle_out,
                        const xmppc__handler_filter *filter,
                        xmppc__stanza_cb cb, void *userdata,
                        xmppc__destroy_cb destroy)
{
    static const xmppc__handler_filter any = {0};
    const unsigned int all_kinds = XMPPC__KIND_MESSAGE | XMPPC__KIND_PRESENCE |
                                   XMPPC__KIND_IQ | XMPPC__KIND_OTHER;
    if (!d || !cb)
        return xmppc__error(XMPPC_EINVAL, "add handler: %s is NULL",
                            d ? "the callback" : "the dispatcher");
    if (d->dead)
        return xmppc__error(XMPPC_ESTATE,
                            "add handler: the connection is being freed");
    if (!filter)
        filter = &any;
    if (filter->kinds & ~all_kinds)
        return xmppc__error(XMPPC_EINVAL, "add handler: unknown kind bits 0x%x",
                            filter->kinds & ~all_kinds);

    xmppc_jid *from = NULL;
    int rc;
    if (filter->from && (rc = xmppc_jid_parse(&from, filter->from)) < 0)
        return rc;
    const char *from_prep = from ? xmppc_jid_full(from) : NULL;
    const char *src[4] = {filter->type, filter->child_name, filter->child_ns,
                          from_prep};
    size_t len[4], total = 0;
    for (int i = 0; i < 4; i++) {
        len[i] = src[i] ? strlen(src[i]) + 1 : 0;
        total += len[i];
    }
    /* One block for the handler and its strings: one allocation to fail. */
    xmppc__handler *h = xmppc__calloc(1, sizeof *h + total);
    if (!h) {
        xmppc_jid_unref(from);
        return XMPPC_ENOMEM;
    }
    const char **dst[4] = {&h->type, &h->child_name, &h->child_ns, &h->from};
    char *p = h->strings;
    for (int i = 0; i < 4; i++) {
        if (!src[i])
            continue;
        memcpy(p, src[i], len[i]);
        *dst[i] = p;
        p += len[i];
    }
    h->from_is_bare = from && xmppc_jid_is_bare(from);
    xmppc_jid_unref(from);

    h->kinds = filter->kinds;
    h->cb = cb;
    h->userdata = userdata;
    h->destroy = destroy;
    h->attached = true;
    h->owned = handle_out != NULL;
    h->seq = d->next_handler_seq++;
    h->d = d;
    h->prev = d->tail;
    if (d->tail)
        d->tail->next = h;
    else
        d->head = h;
    d->tail = h;
    if (h->from)
        d->from_filters++;
    if (handle_out)
        *handle_out = h;
    return 0;
}

void xmppc__handler_remove(xmppc__handler *h)
{
    if (!h || !h->attached)
        return;
    xmppc__dispatch *d = h->d;
    enter(d);
    detach(d, h);
    leave(d);
}

void xmppc__handler_free(xmppc__handler *h)
{
    if (!h)
        return;
    /* Disowned first: if it gets unlinked below, the dispatcher frees it
     * right there, before the destroy callback runs. */
    h->owned = false;
    if (h->attached) {
        xmppc__handler_remove(h);
        return;
    }
    if (!h->d)
        xmppc__free(h);
    /* else still linked in a list being walked: the sweep frees it. */
}

int xmppc__handler_is_attached(const xmppc__handler *h)
{
    return h && h->attached;
}

/* ---- matching
 * ----------------------------------------------------------------- */

static unsigned int kind_of(const xmppc_stanza *stanza)
{
    const char *name = xmppc_stanza_get_name(stanza);
    if (strcmp(xmppc_stanza_get_ns(stanza), XMPPC_NS_CLIENT) != 0)
        return XMPPC__KIND_OTHER;
    if (strcmp(name, "message") == 0)
        return XMPPC__KIND_MESSAGE;
    if (strcmp(name, "presence") == 0)
        return XMPPC__KIND_PRESENCE;
    if (strcmp(name, "iq") == 0)
        return XMPPC__KIND_IQ;
    return XMPPC__KIND_OTHER;
}

static enum iq_type iq_type_of(const char *type)
{
    if (!type)
        return IQ_BAD;
    if (strcmp(type, "get") == 0)
        return IQ_GET;
    if (strcmp(type, "set") == 0)
        return IQ_SET;
    if (strcmp(type, "result") == 0)
        return IQ_RESULT;
    if (strcmp(type, "error") == 0)
        return IQ_ERROR;
    return IQ_BAD;
}

/* What the dispatch of one stanza has worked out once for every handler. */
typedef struct incoming {
    xmppc_stanza *stanza;
    unsigned int kind;
    const char *type; /* with the RFC 6121 defaults applied */
    bool has_from;
    xmppc_jid *from; /* prepared 'from', NULL when absent or invalid */
} incoming;

static bool handler_matches(const xmppc__dispatch *d, const xmppc__handler *h,
                            const incoming *in)
{
    if (h->kinds && !(h->kinds & in->kind))
        return false;
    if (h->type && (!in->type || strcmp(h->type, in->type) != 0))
        return false;
    if ((h->child_name || h->child_ns) &&
        !xmppc_stanza_get_child(in->stanza, h->child_name, h->child_ns))
        return false;
    if (h->from) {
        const char *bare, *full;
        if (in->has_from) {
            if (!in->from)
                return false;
            bare = xmppc_jid_bare(in->from);
            full = xmppc_jid_full(in->from);
        } else {
            /* No 'from': the own account (RFC 6120 section 8.1.2.1). */
            if (!d->own)
                return false;
            bare = full = xmppc_jid_bare(d->own);
        }
        if (strcmp(h->from_is_bare ? bare : full, h->from) != 0)
            return false;
    }
    return true;
}

/* Whether @p in may answer request @p p (see xmppc__dispatch_send_iq()). */
static bool reply_sender_ok(const xmppc__dispatch *d, const pending *p,
                            const incoming *in)
{
    if (in->has_from && !in->from)
        return false; /* not even a JID */
    const char *from = in->has_from ? xmppc_jid_full(in->from) : NULL;
    if (p->to && from && strcmp(from, p->to) == 0)
        return true;
    const char *own_bare = d->own ? xmppc_jid_bare(d->own) : NULL;
    const char *own_domain = d->own ? xmppc_jid_domain(d->own) : NULL;
    bool to_own_server = !p->to || (d->own && (strcmp(p->to, own_bare) == 0 ||
                                               strcmp(p->to, own_domain) == 0));
    if (!to_own_server)
        return false;
    if (!from)
        return true;
    return d->own &&
           (strcmp(from, own_bare) == 0 || strcmp(from, own_domain) == 0);
}

/* ---- pending requests
 * ------------------------------------------------------------ */

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static pending *lookup(const xmppc__dispatch *d, const char *id)
{
    if (!d->nbuckets)
        return NULL;
    uint32_t h = hash_id(id);
    for (pending *p = d->buckets[h & (d->nbuckets - 1)]; p; p = p->hnext)
        if (p->hash == h && strcmp(p->id, id) == 0)
            return p;
    return NULL;
}

/* Makes room for one more request, so that inserting cannot fail. */
static int reserve_one(xmppc__dispatch *d, bool with_deadline)
{
    if (d->npending + 1 > d->nbuckets) {
        size_t n = d->nbuckets ? d->nbuckets * 2 : 16;
        pending **b = xmppc__calloc(n, sizeof *b);
        if (!b)
            return XMPPC_ENOMEM;
        for (size_t i = 0; i < d->nbuckets; i++) {
            pending *p = d->buckets[i];
            while (p) {
                pending *next = p->hnext;
                p->hnext = b[p->hash & (n - 1)];
                b[p->hash & (n - 1)] = p;
                p = next;
            }
        }
        xmppc__free(d->buckets);
        d->buckets = b;
        d->nbuckets = n;
    }
    if (with_deadline && d->heap_len == d->heap_cap) {
        size_t n = d->heap_cap ? d->heap_cap * 2 : 16;
        pending **h = xmppc__reallocarray(d->heap, n, sizeof *h);
        if (!h)
            return XMPPC_ENOMEM;
        d->heap = h;
        d->heap_cap = n;
    }
    return 0;
}

static bool earlier(const pending *a, const pending *b)
{
    return a->deadline != b->deadline ? a->deadline < b->deadline
                                      : a->seq < b->seq;
}

static void heap_set(xmppc__dispatch *d, size_t i, pending *p)
{
    d->heap[i] = p;
    p->heap_pos = i;
}

static void heap_up(xmppc__dispatch *d, size_t i)
{
    pending *p = d->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(p, d->heap[parent]))
            break;
        heap_set(d, i, d->heap[parent]);
        i = parent;
    }
    heap_set(d, i, p);
}

static void heap_down(xmppc__dispatch *d, size_t i)
{
    pending *p = d->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= d->heap_len)
            break;
        if (child + 1 < d->heap_len &&
            earlier(d->heap[child + 1], d->heap[child]))
            child++;
        if (!earlier(d->heap[child], p))
            break;
        heap_set(d, i, d->heap[child]);
        i = child;
    }
    heap_set(d, i, p);
}

static void heap_remove(xmppc__dispatch *d, pending *p)
{
    size_t i = p->heap_pos;
    p->heap_pos = NO_HEAP_POS;
    pending *last = d->heap[--d->heap_len];
    if (last == p)
        return;
    heap_set(d, i, last);
    if (i > 0 && earlier(last, d->heap[(i - 1) / 2]))
        heap_up(d, i);
    else
        heap_down(d, i);
}

/* Needs the room reserve_one() made. */
static void insert_pending(xmppc__dispatch *d, pending *p)
{
    size_t b = p->hash & (d->nbuckets - 1);
    p->hnext = d->buckets[b];
    d->buckets[b] = p;
    p->lprev = d->ltail;
    p->lnext = NULL;
    if (d->ltail)
        d->ltail->lnext = p;
    else
        d->lhead = p;
    d->ltail = p;
    if (p->heap_pos != NO_HEAP_POS) {
        d->heap[d->heap_len] = p;
        p->heap_pos = d->heap_len++;
        heap_up(d, p->heap_pos);
    }
    d->npending++;
}

static void remove_pending(xmppc__dispatch *d, pending *p)
{
    pending **pp = &d->buckets[p->hash & (d->nbuckets - 1)];
    while (*pp != p)
        pp = &(*pp)->hnext;
    *pp = p->hnext;
    if (p->lprev)
        p->lprev->lnext = p->lnext;
    else
        d->lhead = p->lnext;
    if (p->lnext)
        p->lnext->lprev = p->lprev;
    else
        d->ltail = p->lprev;
    if (p->heap_pos != NO_HEAP_POS)
        heap_remove(d, p);
    d->npending--;
}

/* Takes @p p out, then fires its callback and destroy callback; @p p is
 * freed first so that the callbacks see a consistent dispatcher. Call with
 * the dispatcher busy. */
static void complete(xmppc__dispatch *d, pending *p, xmppc_stanza *reply,
                     const xmppc_error *err)
{
    xmppc__iq_reply_cb cb = p->cb;
    void *userdata = p->userdata;
    xmppc__destroy_cb destroy = p->destroy;
    remove_pending(d, p);
    xmppc__free(p);
    cb(d->owner, reply, err, userdata);
    if (destroy)
        destroy(userdata);
}

static void fail_pending(xmppc__dispatch *d, pending *p, int code,
                         const char *what)
{
    xmppc__error_store err;
    if (code == XMPPC_ETIMEDOUT)
        xmppc__error_store_set(&err, code, NULL, NULL, NULL,
                               "iq '%s' to %s: no reply within %u ms", p->id,
                               p->to ? p->to : "the server", p->timeout_ms);
    else
        xmppc__error_store_set(&err, code, NULL, NULL, NULL,
                               "iq '%s' to %s canceled (%s)", p->id,
                               p->to ? p->to : "the server", what);
    xmppc__log(d->logger, XMPPC_LOG_DEBUG, AREA, "%s", err.pub.message);
    complete(d, p, NULL, &err.pub);
}

/* Cancels the requests sent before sequence number @p limit. */
static void cancel_before(xmppc__dispatch *d, uint64_t limit, const char *why)
{
    while (d->lhead && d->lhead->seq < limit)
        fail_pending(d, d->lhead, XMPPC_ECANCELED, why);
}

static void complete_with_reply(xmppc__dispatch *d, pending *p,
                                xmppc_stanza *reply, enum iq_type type)
{
    if (type == IQ_RESULT) {
        complete(d, p, reply, NULL);
        return;
    }
    const char *condition = NULL, *etype = NULL, *text = NULL;
    xmppc__error_store err;
    if (xmppc_stanza_get_error(reply, &condition, &etype, &text))
        xmppc__error_store_set(&err, XMPPC_ESTANZA, condition, etype, text,
                               "iq '%s': error reply (%s%s%s)", p->id,
                               condition ? condition : "no condition",
                               text ? ": " : "", text ? text : "");
    else
        xmppc__error_store_set(&err, XMPPC_ESTANZA, NULL, NULL, NULL,
                               "iq '%s': error reply without an error element",
                               p->id);
    err.pub.stanza = reply;
    complete(d, p, NULL, &err.pub);
}

int xmppc__dispatch_send_iq(xmppc__dispatch *d, xmppc_stanza *iq,
                            unsigned int timeout_ms, xmppc__iq_reply_cb cb,
                            void *userdata, xmppc__destroy_cb destroy)
{
    if (!d || !iq || !cb)
        return xmppc__error(XMPPC_EINVAL, "send iq: %s is NULL",
                            !d    ? "the dispatcher"
                            : !iq ? "the iq"
                                  : "cb");
    if (d->dead)
        return xmppc__error(XMPPC_ESTATE,
                            "send iq: the connection is being freed");
    const char *name = xmppc_stanza_get_name(iq);
    enum iq_type type = iq_type_of(xmppc_stanza_get_type(iq));
    if (!name || kind_of(iq) != XMPPC__KIND_IQ ||
        (type != IQ_GET && type != IQ_SET))
        return xmppc__error(XMPPC_EINVAL,
                            "send iq: not an iq of type get or set");
    if (d->npending >= d->max_pending)
        return xmppc__error(XMPPC_ELIMIT,
                            "send iq: %zu requests already wait for a reply",
                            d->npending);

    int rc;
    char *to = NULL;
    const char *to_raw = xmppc_stanza_get_to(iq);
    if (to_raw && (rc = xmppc_jid_prep(&to, to_raw)) < 0)
        return rc;
    bool generated = false;
    if (!xmppc_stanza_get_id(iq)) {
        if ((rc = xmppc_stanza_set_new_id(iq)) < 0)
            goto fail;
        generated = true;
    }
    const char *id = xmppc_stanza_get_id(iq);
    if (lookup(d, id)) {
        rc = xmppc__error(XMPPC_EINVAL, "send iq: id '%s' is already pending",
                          id);
        goto fail;
    }
    size_t id_len = strlen(id) + 1, to_len = to ? strlen(to) + 1 : 0;
    pending *p = xmppc__malloc(sizeof *p + id_len + to_len);
    if (!p) {
        rc = XMPPC_ENOMEM;
        goto fail;
    }
    if ((rc = reserve_one(d, timeout_ms > 0)) < 0) {
        xmppc__free(p);
        goto fail;
    }
    memcpy(p->id, id, id_len);
    p->to = to ? memcpy(p->id + id_len, to, to_len) : NULL;
    xmppc__free(to);
    to = NULL;
    p->hash = hash_id(p->id);
    p->seq = d->next_iq_seq++;
    p->timeout_ms = timeout_ms;
    p->deadline = timeout_ms ? d->io.now_ms(d->io.ud) + timeout_ms : 0;
    p->heap_pos = timeout_ms ? 0 : NO_HEAP_POS; /* placed by insert_pending */
    p->cb = cb;
    p->userdata = userdata;
    p->destroy = destroy;
    /* In the table before it leaves, so no reply can ever miss it. */
    insert_pending(d, p);
    if ((rc = d->io.send(d->io.ud, iq)) < 0) {
        remove_pending(d, p);
        xmppc__free(p);
        goto fail;
    }
    xmppc__log(d->logger, XMPPC_LOG_DEBUG, AREA,
               "iq '%s' sent to %s, %zu pending", p->id,
               p->to ? p->to : "the server", d->npending);
    return 0;

fail:
    if (generated)
        xmppc_stanza_set_id(iq, NULL); /* removing never allocates */
    xmppc__free(to);
    return rc;
}

void xmppc__dispatch_cancel_pending(xmppc__dispatch *d)
{
    if (!d || d->dead)
        return;
    enter(d);
    cancel_before(d, d->next_iq_seq, "canceled");
    leave(d);
}

int xmppc__dispatch_next_timeout_ms(const xmppc__dispatch *d)
{
    if (!d || d->dead || d->heap_len == 0)
        return -1;
    uint64_t now = d->io.now_ms(d->io.ud);
    uint64_t deadline = d->heap[0]->deadline;
    if (deadline <= now)
        return 0;
    return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

void xmppc__dispatch_process_timeouts(xmppc__dispatch *d)
{
    if (!d || d->dead)
        return;
    /* One reading of the clock: requests sent from the callbacks are due
     * after it, so the loop ends. */
    uint64_t now = d->io.now_ms(d->io.ud);
    enter(d);
    while (!d->dead && d->heap_len > 0 && d->heap[0]->deadline <= now)
        fail_pending(d, d->heap[0], XMPPC_ETIMEDOUT, NULL);
    leave(d);
}

size_t xmppc__dispatch_pending_count(const xmppc__dispatch *d)
{
    return d ? d->npending : 0;
}

int xmppc__dispatch_set_max_pending(xmppc__dispatch *d, size_t max_pending)
{
    if (!d || max_pending == 0)
        return xmppc__error(XMPPC_EINVAL, "max pending: must be at least 1");
    d->max_pending = max_pending;
    return 0;
}

/* ---- the dispatcher
 * ----------------------------------------------------------------- */

int xmppc__dispatch_new(xmppc__dispatch **out, const xmppc__dispatch_io *io,
                        xmppc_conn *owner, const xmppc__logger *logger)
{
    if (!out || !io || !io->send || !io->now_ms)
        return xmppc__error(XMPPC_EINVAL,
                            "dispatcher: out, send or now_ms is NULL");
    xmppc__dispatch *d = xmppc__calloc(1, sizeof *d);
    if (!d)
        return XMPPC_ENOMEM;
    d->io = *io;
    d->owner = owner;
    d->logger = logger;
    d->max_pending = XMPPC__DISPATCH_DEFAULT_MAX_PENDING;
    *out = d;
    return 0;
}

static void really_free(xmppc__dispatch *d)
{
    d->freeing = true;
    d->busy++;
    /* Requests first: a handler's destroy callback may free module state
     * that the requests' callbacks still use. */
    cancel_before(d, UINT64_MAX, "connection freed");
    d->walkers++;
    for (xmppc__handler *h = d->head; h; h = h->next)
        if (h->attached)
            detach(d, h);
    d->walkers--;
    d->busy--;
    sweep(d); /* owned handles stay, inert, until xmppc__handler_free() */
    xmppc__free(d->buckets);
    xmppc__free(d->heap);
    xmppc_jid_unref(d->own);
    xmppc__free(d);
}

void xmppc__dispatch_free(xmppc__dispatch *d)
{
    if (!d || d->dead)
        return;
    d->dead = true;
    if (d->busy == 0)
        really_free(d);
}

int xmppc__dispatch_set_own_jid(xmppc__dispatch *d, const char *full_jid)
{
    if (!d)
        return xmppc__error(XMPPC_EINVAL, "own jid: no dispatcher");
    xmppc_jid *jid = NULL;
    int rc;
    if (full_jid && (rc = xmppc_jid_parse(&jid, full_jid)) < 0)
        return rc;
    xmppc_jid_unref(d->own);
    d->own = jid;
    return 0;
}

static int auto_reply(xmppc__dispatch *d, xmppc_stanza *stanza,
                      const char *type, const char *condition)
{
    xmppc_stanza *reply = NULL;
    int rc = xmppc_stanza_reply_error(&reply, stanza, type, condition, NULL);
    if (rc == 0) {
        rc = d->io.send(d->io.ud, reply);
        xmppc_stanza_unref(reply);
    }
    if (rc < 0)
        xmppc__log(d->logger, XMPPC_LOG_WARN, AREA,
                   "could not answer an iq with %s: %s", condition,
                   xmppc_strerror(rc));
    else
        xmppc__log(d->logger, XMPPC_LOG_DEBUG, AREA, "answered an iq with %s",
                   condition);
    return rc;
}

/* Offers the stanza to the handlers registered before this dispatch. */
static int run_handlers(xmppc__dispatch *d, const incoming *in, bool *handled)
{
    int rc = 0;
    uint64_t limit = d->next_handler_seq;
    d->walkers++;
    for (xmppc__handler *h = d->head; h && !d->dead; h = h->next) {
        if (!h->attached || h->seq >= limit || !handler_matches(d, h, in))
            continue;
        int r = h->cb(d->owner, in->stanza, h->userdata);
        if (r < 0) {
            rc = XMPPC_EUSER;
            break;
        }
        if ((r & XMPPC_REMOVE) && h->attached)
            detach(d, h);
        if (r & XMPPC_HANDLED) {
            *handled = true;
            break;
        }
    }
    if (--d->walkers == 0)
        sweep(d);
    return rc;
}

int xmppc__dispatch_stanza(xmppc__dispatch *d, xmppc_stanza *stanza)
{
    if (!d || !stanza || xmppc_stanza_is_text(stanza))
        return xmppc__error(XMPPC_EINVAL, "dispatch: needs an element");
    if (d->dead)
        return xmppc__error(XMPPC_ESTATE,
                            "dispatch: the connection is being freed");

    incoming in = {.stanza = stanza, .kind = kind_of(stanza)};
    const char *type = xmppc_stanza_get_type(stanza);
    const char *from = xmppc_stanza_get_from(stanza);
    enum iq_type iq_type = IQ_BAD;
    pending *p = NULL;
    if (in.kind == XMPPC__KIND_IQ) {
        const char *id = xmppc_stanza_get_id(stanza);
        iq_type = iq_type_of(type);
        if (!id) {
            xmppc__log(d->logger, XMPPC_LOG_DEBUG, AREA,
                       "dropped an iq without id");
            return 0;
        }
        if (iq_type == IQ_BAD)
            return auto_reply(d, stanza, "modify", "bad-request");
        if (iq_type == IQ_RESULT || iq_type == IQ_ERROR)
            p = lookup(d, id);
    } else if (!type) {
        if (in.kind == XMPPC__KIND_MESSAGE)
            type = "normal";
        else if (in.kind == XMPPC__KIND_PRESENCE)
            type = "available";
    }
    in.type = type;
    in.has_from = from != NULL;
    /* Prepared up front, only when someone looks at it, so that running
     * out of memory here leaves nothing half dispatched. */
    if (from && (p || d->from_filters > 0)) {
        int rc = xmppc_jid_parse(&in.from, from);
        if (rc == XMPPC_ENOMEM)
            return rc;
    }

    int rc = 0;
    bool handled = false;
    xmppc_stanza_ref(stanza);
    enter(d);
    if (p && reply_sender_ok(d, p, &in)) {
        complete_with_reply(d, p, stanza, iq_type);
        goto done;
    }
    if (p)
        xmppc__log(d->logger, XMPPC_LOG_WARN, AREA,
                   "spoofed iq reply to '%s' ignored: from %s, expected %s",
                   p->id,
                   !in.has_from ? "(none)"
                   : in.from    ? xmppc_jid_full(in.from)
                                : "(invalid jid)",
                   p->to ? p->to : "the own server");
    rc = run_handlers(d, &in, &handled);
    if (d->dead)
        goto done;
    if ((iq_type == IQ_GET || iq_type == IQ_SET) && !handled) {
        int reply_rc = auto_reply(d, stanza, "cancel", "service-unavailable");
        if (rc == 0)
            rc = reply_rc;
    } else if ((iq_type == IQ_RESULT || iq_type == IQ_ERROR) && !handled) {
        xmppc__log(d->logger, XMPPC_LOG_DEBUG, AREA,
                   "dropped an iq %s matching no request", type);
    }
done:
    xmppc_jid_unref(in.from);
    leave(d); /* may free d */
    xmppc_stanza_unref(stanza);
    return rc;
}
