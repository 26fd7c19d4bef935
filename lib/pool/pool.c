/* SPDX-License-Identifier: MIT */
/*
 * pool/pool.c - origins, connection choice, the pending queue, limits,
 * timeouts per exchange, idle expiry and retries.
 *
 * A connection is filed by what it can take (`proto->capacity`): it is in
 * its origin's `avail` list while it can start another exchange (an idle
 * HTTP/1.1 connection, an HTTP/2 session below its stream limit), and in the
 * pool's idle LRU while it carries nothing. Dispatching runs from one
 * deferred task per loop turn, so a burst of submissions is matched to
 * connections at once and the writes of one turn leave together.
 *
 * While a TLS connection that may turn out HTTP/2 is negotiating, the other
 * requests of its origin wait for it instead of opening more connections;
 * if it fails, they fail with it (they were waiting on it).
 *
 * Nothing here calls the user: finished exchanges go to the done callback of
 * the API layer, which defers the user's callback.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "core/mem.h"
#include "pool/pool_int.h"

#define FD_RETRY 0.1 /* out of descriptors: seconds before more connections try */

static void schedule_dispatch(hxc__pool *p) { hxc__defer_schedule(p->r, &p->dispatch); }

/* An exchange leaves the queue for a connection (or one it opens), and comes
 * back: counted per pool and per origin (the per-origin cap on requests in
 * flight; pushed streams are the server's, not counted there). */
static void activate(hxc__exchange *ex)
{
    ex->pool->nactive++;
    if (!ex->pushed)
        ex->o->nactive++;
}

static void deactivate(hxc__exchange *ex)
{
    ex->pool->nactive--;
    if (!ex->pushed)
        ex->o->nactive--;
}

/* Whether the origin's cap on requests in flight lets one more start. */
static int origin_has_room(const hxc__pool *p, const hxc__origin *o)
{
    return p->cfg.max_per_origin == 0 || o->nactive < p->cfg.max_per_origin;
}

/* ---- exchange records: kept for reuse, so steady load does not malloc ---- */

static hxc__exchange *exchange_new(hxc__pool *p)
{
    hxc__exchange *ex = hxc__cache_take(&p->spare);
    if (ex == NULL)
        return hxc__calloc_lines(sizeof(*ex));
    /* All but the timer, which is stopped and still set up for this record. */
    memset(ex, 0, offsetof(hxc__exchange, timer));
    return ex;
}

static void exchange_free(hxc__pool *p, hxc__exchange *ex)
{
    if (!hxc__cache_keep(&p->spare, ex))
        hxc__free_lines(ex);
}

/* ---- origins ---------------------------------------------------------- */

static unsigned origin_hash(const char *host, uint16_t port, int tls)
{
    uint32_t h = 2166136261u;
    for (const char *s = host; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    h = (h ^ port) * 16777619u;
    h = (h ^ (unsigned)tls) * 16777619u;
    return h % HXC__POOL_BUCKETS;
}

static hxc__origin *origin_get(hxc__pool *p, const hxc__url *u)
{
    hxc__origin *last = p->last_origin; /* a run of requests to one origin skips the hash */
    if (last != NULL && last->port == u->port && last->tls == u->tls &&
        strcmp(last->host, u->host) == 0)
        return last;
    hxc__list *b = &p->buckets[origin_hash(u->host, u->port, u->tls)];
    for (hxc__list *n = b->next; n != b; n = n->next) {
        hxc__origin *o = HXC__LIST_ENTRY(n, hxc__origin, node);
        if (o->port == u->port && o->tls == u->tls && strcmp(o->host, u->host) == 0)
            return p->last_origin = o;
    }
    hxc__origin *o = hxc__calloc(1, sizeof(*o));
    if (o == NULL)
        return NULL;
    o->host = hxc__strdup(u->host);
    if (o->host == NULL) {
        hxc__free(o);
        return NULL;
    }
    o->port = u->port;
    o->tls = u->tls;
    hxc__list_init(&o->queue);
    hxc__list_init(&o->avail);
    hxc__list_init(&o->conns);
    hxc__list_init(&o->wait_node);
    hxc__list_insert_tail(b, &o->node);
    return p->last_origin = o;
}

/* ---- abandoning an exchange (timeouts, cancel) -------------------------- */

static void abandon(hxc__exchange *ex, int err, const char *detail)
{
    hxc__conn *c = ex->c;
    if (c != NULL && ex->state == X_ACTIVE)
        c->proto->cancel(c, ex);
    else if (c != NULL && ex->state == X_CONNECTING)
        hxc__pool_conn_close(c, 0); /* a connection opened for it alone */
    hxc__pool_finish(ex, err, detail);
}

static double phase_timeout(const hxc__exchange *ex, enum phase ph)
{
    switch (ph) {
    case PH_POOL:
        return ex->timeouts[HXC_TIMEOUT_POOL];
    case PH_CONNECT:
        return ex->timeouts[HXC_TIMEOUT_CONNECT];
    case PH_WRITE:
        return ex->timeouts[HXC_TIMEOUT_WRITE];
    case PH_READ:
        return ex->timeouts[HXC_TIMEOUT_READ];
    default:
        return 0;
    }
}

static void exchange_timeout(hxc__exchange *ex);

static void timeout_cb(hxc__timeout *to)
{
    exchange_timeout(HXC__CONTAINER_OF(to, hxc__exchange, to));
}

static void disarm(hxc__exchange *ex) { hxc__timeout_clear(&ex->to, &ex->timer); }

/* Arms the exchange's one timeout for whichever comes first: the end of the
 * current phase's timeout or the total deadline. One already armed to fire no
 * later than that is left alone: when it fires, exchange_timeout sees the
 * activity since and waits out the rest. So a request's phases (queued,
 * writing, reading) cost one timer insertion in all, not one each. */
static void arm(hxc__exchange *ex, double now)
{
    double due = 0, s = phase_timeout(ex, ex->phase), seconds = 0;
    if (s > 0) {
        due = ex->phase_since + s;
        seconds = ex->phase_since == now ? s : 0; /* a whole period from now */
    }
    if (ex->phase == PH_BACKOFF)
        due = ex->retry_at; /* its own timer: the jitter makes every due time unique */
    if (ex->deadline > 0 && (due == 0 || ex->deadline < due)) {
        due = ex->deadline;
        seconds = 0;
    }
    if (due == 0) { /* no timeout applies now */
        disarm(ex);
        return;
    }
    if (ex->to.due > 0 && ex->to.due <= due + 1e-3)
        return;
    /* A whole period from now may join the reactor's FIFO of that duration. */
    hxc__timeout_set(ex->pool->r, &ex->to, &ex->timer, timeout_cb, due, now, seconds);
}

static void backoff_done(hxc__exchange *ex);
static void refused_detail(const hxc__exchange *ex, const char *what, char *buf, size_t len);

static void exchange_timeout(hxc__exchange *ex)
{
    double now = hxc__reactor_now(ex->pool->r); /* it fired: `to` is clear */
    if (ex->deadline > 0 && now >= ex->deadline - 0.0005) {
        char buf[200];
        if (ex->refusals > 0) /* the deadline ended the retries of a refused request */
            refused_detail(ex,
                           "the request's total deadline passed while the server kept "
                           "refusing it",
                           buf, sizeof(buf));
        abandon(ex, HXC_ETIMEOUT_TOTAL,
                ex->refusals > 0 ? buf : "the request's total deadline passed");
        return;
    }
    if (ex->phase == PH_BACKOFF) {
        if (now >= ex->retry_at - 0.0005)
            backoff_done(ex);
        else
            arm(ex, now);
        return;
    }
    /* The timeout is not moved at every read: when it fires it checks whether
     * there was activity since, and waits out the rest if so. */
    double s = phase_timeout(ex, ex->phase);
    if (s <= 0 || now < ex->phase_since + s - 0.0005) {
        arm(ex, now);
        return;
    }
    switch (ex->phase) {
    case PH_POOL:
        abandon(ex, HXC_ETIMEOUT_POOL, "no connection became available in time");
        break;
    case PH_CONNECT:
        abandon(ex, HXC_ETIMEOUT_CONNECT, "connection not established in time");
        break;
    case PH_WRITE:
        abandon(ex, HXC_ETIMEOUT_WRITE, "the server did not take the request in time");
        break;
    case PH_READ:
        abandon(ex, HXC_ETIMEOUT_READ, "no data from the server in time");
        break;
    default:
        break;
    }
}

void hxc__pool_phase(hxc__exchange *ex, enum phase ph)
{
    double now = hxc__reactor_now(ex->pool->r);
    if ((ph == PH_READ || ph == PH_WRITE) && ex->consumer_paused)
        ph = PH_NONE; /* the user holds the flow: the silence is ours, not the server's */
    if (ph == ex->phase && ex->to.due > 0) {
        ex->phase_since = now; /* activity: the armed timer will notice */
        return;
    }
    ex->phase = ph;
    ex->phase_since = now;
    arm(ex, now);
}

static void dequeue(hxc__exchange *ex)
{
    hxc__pool *p = ex->pool;
    hxc__list_remove(&ex->node);
    p->nqueued--;
    if (hxc__list_empty(&ex->o->queue))
        hxc__list_remove(&ex->o->wait_node);
    /* deadline_after_queue: the deadline starts now (once: a retry that
     * queues again keeps it, as the deadline covers retries). */
    if (ex->deadline == 0 && ex->timeouts[HXC_TIMEOUT_TOTAL] > 0)
        ex->deadline = hxc__reactor_now(p->r) + ex->timeouts[HXC_TIMEOUT_TOTAL];
}

static void unlink_from_conn(hxc__exchange *ex)
{
    hxc__conn *c = ex->c;
    if (c == NULL)
        return;
    if (c->bound == ex)
        c->bound = NULL;
    else if (hxc__list_linked(&ex->node)) {
        hxc__list_remove(&ex->node);
        c->nexchanges--;
    }
    ex->c = NULL;
}

/* ---- an exchange's life ---------------------------------------------- */

/* Counted in the pool's and its origin's requests in flight. */
static int in_flight(int st) { return st == X_CONNECTING || st == X_ACTIVE; }

#ifndef NDEBUG
static int xlegal(int from, int to)
{
    switch (from) {
    case X_NEW:
        return to == X_QUEUED || to == X_ACTIVE;
    case X_QUEUED:
        return to == X_CONNECTING || to == X_ACTIVE || to == X_DONE;
    case X_CONNECTING:
        return to == X_ACTIVE || to == X_QUEUED || to == X_DONE;
    case X_ACTIVE:
        return to == X_QUEUED || to == X_BACKOFF || to == X_DONE;
    case X_BACKOFF:
        return to == X_QUEUED || to == X_DONE;
    default:
        return 0;
    }
}
#endif

/*
 * The one place an exchange changes state (enum xstate, pool_int.h). It
 * leaves the old state's place and counts and takes the new one's:
 * X_QUEUED its origin's queue (at the head when `head`) and `nqueued`;
 * X_CONNECTING bound to `c`, the connection it opened; X_ACTIVE `c`'s
 * exchanges; both in flight (`nactive`, and the origin's unless pushed);
 * X_BACKOFF the pool's backoff list and `nbackoff`; X_DONE nothing. The
 * legal moves are asserted in debug builds.
 */
static inline __attribute__((always_inline)) void xset_state(hxc__exchange *ex, enum xstate st,
                                                           hxc__conn *c, int head)
{
    hxc__pool *p = ex->pool;
    int from = ex->state;
    assert(xlegal(from, st));
    if (from == X_QUEUED) {
        dequeue(ex);
    } else if (in_flight(from)) {
        unlink_from_conn(ex);
    } else if (from == X_BACKOFF) {
        hxc__list_remove(&ex->node);
        p->nbackoff--;
    }
    if (in_flight(from) && !in_flight(st))
        deactivate(ex);
    else if (!in_flight(from) && in_flight(st))
        activate(ex);
    ex->state = (uint8_t)st;
    switch (st) {
    case X_QUEUED:
        if (head)
            hxc__list_insert_head(&ex->o->queue, &ex->node);
        else
            hxc__list_insert_tail(&ex->o->queue, &ex->node);
        if (!hxc__list_linked(&ex->o->wait_node))
            hxc__list_insert_tail(&p->waiting, &ex->o->wait_node);
        p->nqueued++;
        break;
    case X_CONNECTING:
        c->bound = ex;
        ex->c = c;
        break;
    case X_ACTIVE:
        hxc__list_insert_tail(&c->exchanges, &ex->node);
        c->nexchanges++;
        ex->c = c;
        break;
    case X_BACKOFF:
        hxc__list_insert_tail(&p->backoff, &ex->node);
        p->nbackoff++;
        break;
    default:
        break;
    }
}

/* ---- connections ------------------------------------------------------ */

static void conn_on_connected(void *ud, int err, const char *detail);
static void fd_starved(hxc__pool *p);
static void wait_for_fd(hxc__exchange *ex);
static void enqueue(hxc__exchange *ex, int head);
static void conn_on_read(void *ud, const uint8_t *data, size_t len)
{
    hxc__conn *c = ud;
    c->proto->on_read(c, data, len);
}
static void conn_on_closed(void *ud, int err, const char *detail)
{
    hxc__conn *c = ud;
    c->proto->on_closed(c, err, detail);
}
static void conn_on_drained(void *ud, int all)
{
    hxc__conn *c = ud;
    c->proto->on_drained(c, all);
}

static const hxc__transport_handler conn_handler = {
    conn_on_connected,
    conn_on_read,
    conn_on_closed,
    conn_on_drained,
};

static void idle_timer_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__conn *c = arg;
    if (c->nexchanges > 0)
        return; /* armed while its bytes were stuck (see conn_update), busy since */
    hxc__pool_conn_close(c, c->state == C_IDLE);
}

#ifndef NDEBUG
static int clegal(int from, int to)
{
    switch (from) {
    case C_CONNECTING:
        return to == C_ACTIVE || to == C_CLOSED;
    case C_ACTIVE:
    case C_IDLE:
        return to == C_ACTIVE || to == C_IDLE || to == C_DRAINING || to == C_CLOSED;
    case C_DRAINING:
        return to == C_CLOSED;
    default:
        return 0;
    }
}
#endif

/* The one place a connection changes state (enum cstate, pool_int.h): an
 * idle one is in the pool's idle list, counted in `nidle`, with its expiry
 * timer armed. The legal moves are asserted in debug builds. */
static inline __attribute__((always_inline)) void cset_state(hxc__conn *c, enum cstate st)
{
    hxc__pool *p = c->pool;
    if (c->state == st)
        return;
    assert(clegal(c->state, st));
    if (c->state == C_IDLE) {
        hxc__list_remove(&c->lru_node);
        p->nidle--;
        hxc__timer_stop(&c->idle_timer);
    }
    if (st == C_DRAINING)
        c->o->ndraining++;
    else if (c->state == C_DRAINING)
        c->o->ndraining--;
    c->state = st;
    if (st == C_IDLE) {
        c->idle_since = hxc__reactor_now(p->r);
        hxc__list_insert_tail(&p->idle_lru, &c->lru_node);
        p->nidle++;
        hxc__timer_start(&c->idle_timer, p->cfg.keepalive_expiry);
    }
}

/* Ready states only: busy or idle as its load says (DRAINING stays). */
static void set_idle(hxc__conn *c, int idle)
{
    if (c->state == C_ACTIVE || c->state == C_IDLE)
        cset_state(c, idle ? C_IDLE : C_ACTIVE);
}

void hxc__pool_conn_drain(hxc__conn *c)
{
    if (c->state == C_ACTIVE || c->state == C_IDLE)
        cset_state(c, C_DRAINING);
}

/* Whether the connection's protocol runs (it may carry exchanges). */
static int ready(const hxc__conn *c)
{
    return c->state == C_ACTIVE || c->state == C_IDLE || c->state == C_DRAINING;
}

static void set_avail(hxc__conn *c, int avail)
{
    if (avail && !hxc__list_linked(&c->avail_node))
        hxc__list_insert_tail(&c->o->avail, &c->avail_node);
    else if (!avail)
        hxc__list_remove(&c->avail_node);
}

static void end_negotiation(hxc__conn *c)
{
    if (c->negotiating) {
        c->negotiating = 0;
        c->o->negotiating--;
    }
}

void hxc__pool_conn_negotiated(hxc__conn *c)
{
    end_negotiation(c);
    schedule_dispatch(c->pool);
}

void hxc__pool_conn_close(hxc__conn *c, int graceful)
{
    hxc__pool *p = c->pool;
    while (!hxc__list_empty(&c->exchanges)) { /* detach: the caller finishes them */
        hxc__exchange *ex = hxc__conn_first(c);
        hxc__list_remove(&ex->node);
        ex->c = NULL;
    }
    c->nexchanges = 0;
    if (c->bound) {
        c->bound->c = NULL;
        c->bound = NULL;
    }
    end_negotiation(c);
    int was_ready = ready(c);
    cset_state(c, C_CLOSED);
    set_avail(c, 0);
    hxc__list_remove(&c->node);
    c->o->nconns--;
    p->nconns--;
    hxc__timer_stop(&c->idle_timer);
    hxc__defer_cancel(&c->flush_task);
    if (graceful && was_ready && c->proto->goodbye)
        c->proto->goodbye(c);
    c->proto->destroy(c);
    hxc__transport_free(c->t, graceful);
    hxc__buf_free(&c->scratch);
    hxc__free(c);
    schedule_dispatch(p);
}

static int handoff(hxc__conn *c);

void hxc__pool_conn_update(hxc__conn *c)
{
    hxc__pool *p = c->pool;
    if (!ready(c))
        return;
    unsigned cap = c->state == C_DRAINING ? 0 : c->proto->capacity(c);
    /* Requests waiting for its origin take it now: a connection whose origin
     * has queued work is never idle, so never closed as excess idle. */
    if (cap > 0 && !hxc__list_empty(&c->o->queue)) {
        if (handoff(c) != 0)
            return; /* the connection is gone */
        cap = c->state == C_DRAINING ? 0 : c->proto->capacity(c);
    }
    set_avail(c, cap > 0);
    if (c->nexchanges == 0 && cap == 0) {
        /* Nothing in flight and nothing more possible (GOAWAY, Connection: close). */
        hxc__pool_conn_close(c, 1);
        return;
    }
    /* Bytes that have not left yet (a peer that stopped reading, a stream's
     * reset behind a full queue): not idle, so nothing reuses it or counts it
     * idle before they leave (the protocol files it again when they have);
     * if they never do, it is closed when it would have expired idle. */
    int unsent = c->nexchanges == 0 && hxc__transport_pending(c->t) > 0;
    set_idle(c, c->nexchanges == 0 && !unsent);
    if (unsent && !hxc__timer_armed(&c->idle_timer))
        hxc__timer_start(&c->idle_timer, p->cfg.keepalive_expiry);
    /* Excess idle connections are closed at the end of the turn (dispatch),
     * not now: requests the callbacks of this turn send may still take them.
     * Closing at once made a crawler that keeps N requests in flight on more
     * than max_idle connections reconnect for nearly every request. */
    if ((c->state == C_IDLE && p->nidle > p->cfg.max_idle) ||
        (cap > 0 && !hxc__list_empty(&c->o->queue)))
        schedule_dispatch(p);
}

/* Starts `ex` on `c`; 0, or nonzero when the connection is gone. */
static int start_on(hxc__conn *c, hxc__exchange *ex)
{
    hxc__pool *p = c->pool;
    xset_state(ex, X_ACTIVE, c, 0);
    struct hxc_response *r = ex->resp;
    r->timings.queued = hxc__reactor_now(p->r) - ex->t_start;
    r->conn_id = c->id;
    r->timings.reused = c->requests > 0;
    if (c->requests > 0) {
        p->stats.connections_reused++;
    } else {
        r->timings.dns = c->tt.dns;
        r->timings.connect = c->tt.connect;
        r->timings.tls = c->tt.tls;
    }
    c->requests++;
    ex->fd_wait_since = 0; /* it has a connection: a later wait starts over */
    set_idle(c, 0);
    return c->proto->start(c, ex);
}

static int is_h2(const char *alpn) { return strcmp(alpn, "h2") == 0; }

static void conn_on_connected(void *ud, int err, const char *detail)
{
    hxc__conn *c = ud;
    hxc__pool *p = c->pool;
    hxc__origin *o = c->o;
    hxc__exchange *ex = c->bound; /* still bound: closing detaches it, starting moves it */
    if (err == HXC__ENOFD) {
        hxc__pool_conn_close(c, 0);
        fd_starved(p);
        if (ex != NULL)
            wait_for_fd(ex);
        return;
    }
    if (err != 0) {
        char buf[400];
        snprintf(buf, sizeof(buf), "%s", detail ? detail : "");
        int waited_on = c->negotiating;
        hxc__pool_conn_close(c, 0);
        if (ex != NULL)
            hxc__pool_finish(ex, err, buf);
        /* Requests that waited for this connection's negotiation share its fate. */
        while (waited_on && o->negotiating == 0 && !hxc__list_empty(&o->queue))
            hxc__pool_finish(HXC__LIST_ENTRY(o->queue.next, hxc__exchange, node), err, buf);
        return;
    }
    hxc__transport_times_get(c->t, &c->tt);
    if (is_h2(hxc__transport_alpn(c->t)) || (!o->tls && p->cfg.http2_prior_knowledge))
        c->proto = &hxc__conn_h2;
    c->version = c->proto == &hxc__conn_h2 ? "HTTP/2" : "HTTP/1.1";
    if (c->proto == &hxc__conn_h1)
        end_negotiation(c); /* HTTP/2 waits for the peer's SETTINGS (its stream limit) */
    cset_state(c, C_ACTIVE);
    int rv = c->proto->init(c);
    if (rv != 0) {
        hxc__pool_conn_close(c, 0);
        if (ex != NULL)
            hxc__pool_finish(ex, rv, "could not set up the protocol");
        return;
    }
    if (ex == NULL || start_on(c, ex) == 0)
        hxc__pool_conn_update(c);
    schedule_dispatch(p);
}

static const unsigned char alpn_h1[] = "\x08http/1.1";
static const unsigned char alpn_h2_h1[] = "\x02h2\x08http/1.1";

static int conn_open(hxc__pool *p, hxc__origin *o, hxc__exchange *ex, const char **detail)
{
    *detail = "could not start a connection";
    hxc__tls_ctx *tls = NULL;
    if (o->tls) {
        int rv = p->cfg.tls_get(p->cfg.tls_arg, &tls, detail);
        if (rv != 0)
            return rv;
    }
    hxc__conn *c = hxc__calloc(1, sizeof(*c));
    if (c == NULL)
        return HXC_ENOMEM;
    c->pool = p;
    c->o = o;
    c->proto = &hxc__conn_h1;
    c->id = ++p->next_conn_id;
    c->state = C_CONNECTING;
    c->version = "HTTP/1.1";
    hxc__list_init(&c->avail_node);
    hxc__list_init(&c->lru_node);
    hxc__list_init(&c->exchanges);
    hxc__list_init(&c->flush_task.node); /* armed only by protocols that use it */
    hxc__timer_init(p->r, &c->idle_timer, idle_timer_cb, c);
    hxc__h1_init(&c->h1, NULL, NULL, &p->cfg.h1_limits);
    int offer_h2 = o->tls && p->cfg.http2;
    hxc__endpoint ep = {o->host, o->port, tls, NULL, 0};
    if (o->tls) {
        ep.alpn = offer_h2 ? alpn_h2_h1 : alpn_h1;
        ep.alpn_len = offer_h2 ? sizeof(alpn_h2_h1) - 1 : sizeof(alpn_h1) - 1;
    }
    int rv = p->cfg.connect(&c->t, p->r, &ep, &conn_handler, c);
    if (rv != 0) {
        hxc__h1_free(&c->h1);
        hxc__free(c);
        return rv;
    }
    hxc__list_insert_tail(&o->conns, &c->node);
    o->nconns++;
    p->nconns++;
    p->stats.connections_opened++;
    if (offer_h2 || (!o->tls && p->cfg.http2_prior_knowledge)) {
        c->negotiating = 1; /* may carry every queued request of the origin */
        o->negotiating++;
    }
    xset_state(ex, X_CONNECTING, c, 0);
    hxc__pool_phase(ex, PH_CONNECT);
    return 0;
}

/* ---- dispatch --------------------------------------------------------- */

static unsigned per_host_limit(const hxc__pool *p)
{
    return p->cfg.max_per_host ? p->cfg.max_per_host : p->cfg.max_connections;
}

/* A connection of the origin that can take `ex` now, or NULL: the first with
 * room. In exact mode (load testing) the one chosen then goes to the back of
 * the list, so that requests go round the connections evenly (a scan for the
 * least loaded cost a capacity query per connection per request).
 * Only the one chosen is probed for liveness (one syscall, if it is idle). */
static hxc__conn *pick(hxc__origin *o, const hxc__exchange *ex)
{
    int spread = o->nconns > 0 && ex->pool->cfg.exact_conns > 0;
    for (;;) {
        hxc__conn *best = NULL;
        for (hxc__list *n = o->avail.next; n != &o->avail; n = n->next) {
            hxc__conn *c = HXC__LIST_ENTRY(n, hxc__conn, avail_node);
            if (ex->fresh_only && c->requests > 0)
                continue;
            if (c->proto->capacity(c) == 0)
                continue;
            best = c;
            break;
        }
        if (best == NULL)
            return NULL;
        if (spread) {
            hxc__list_remove(&best->avail_node);
            hxc__list_insert_tail(&o->avail, &best->avail_node);
        }
        /* A connection idle for a while may have been closed by the server in
         * the meantime: probe it. One that was busy a moment ago is not probed
         * (its close would have been read; the stale-connection retry covers
         * the rest), which saves a syscall per request under load. */
        if (best->nexchanges == 0 &&
            hxc__reactor_now(ex->pool->r) - best->idle_since >= HXC__PROBE_AFTER &&
            !best->proto->usable(best)) {
            hxc__pool_conn_close(best, 0); /* found dead before use: dropped, nothing fails */
            continue;
        }
        return best;
    }
}

/* Whether the pool may open another connection now: under max_connections,
 * and under the count at which sockets last ran out of descriptors. */
/* An origin's connections that take new exchanges (a draining one, after a
 * GOAWAY, is not one of exact mode's count: found in review). */
static unsigned taking(const hxc__origin *o) { return o->nconns - o->ndraining; }

static int may_open(const hxc__pool *p)
{
    return p->nconns < p->cfg.max_connections && !(p->fd_starved && p->nconns >= p->fd_cap);
}

/* Exact mode (load testing) opens an origin's connections before using any;
 * when no more can open (max_connections, or out of descriptors) it uses
 * those it has instead of closing one to open another. */
static int opening_first(const hxc__pool *p, const hxc__origin *o)
{
    unsigned exact = p->cfg.exact_conns;
    return exact && taking(o) < exact && may_open(p);
}

/* A connection that can take `ex` now, or NULL. */
static hxc__conn *ready_conn(hxc__pool *p, hxc__origin *o, const hxc__exchange *ex)
{
    return opening_first(p, o) ? NULL : pick(o, ex);
}

/* Starts `ex` (out of any queue) on `c` and re-files the connection. */
static void run_on(hxc__conn *c, hxc__exchange *ex)
{
    if (start_on(c, ex) == 0)
        hxc__pool_conn_update(c);
}

/* Starts queued exchanges of `c`'s origin on `c` while it has room: the
 * connection a response just freed carries the next request in the same
 * callback. 0, or nonzero when the connection is gone. */
static int handoff(hxc__conn *c)
{
    hxc__pool *p = c->pool;
    hxc__origin *o = c->o;
    if (opening_first(p, o))
        return 0; /* exact mode opens its connections first (dispatch) */
    while (!hxc__list_empty(&o->queue) && c->proto->capacity(c) > 0 && origin_has_room(p, o)) {
        hxc__exchange *ex = HXC__LIST_ENTRY(o->queue.next, hxc__exchange, node);
        if (ex->fresh_only && c->requests > 0)
            return 0;
        if (start_on(c, ex) != 0)
            return 1;
    }
    return 0;
}

/* Closes the least recently used idle connections beyond max_idle. */
static void trim_idle(hxc__pool *p)
{
    while (p->nidle > p->cfg.max_idle) {
        hxc__conn *old = HXC__LIST_ENTRY(p->idle_lru.next, hxc__conn, lru_node);
        hxc__pool_conn_close(old, 1);
    }
}

static void dispatch_origin(hxc__pool *p, hxc__origin *o)
{
    unsigned exact = p->cfg.exact_conns;
    while (!hxc__list_empty(&o->queue)) {
        if (!origin_has_room(p, o))
            return; /* its cap on requests in flight: wait for one to end */
        hxc__exchange *ex = HXC__LIST_ENTRY(o->queue.next, hxc__exchange, node);
        hxc__conn *c = ready_conn(p, o, ex);
        if (c != NULL) {
            run_on(c, ex);
            continue;
        }
        if (exact) {
            if (taking(o) >= exact)
                return; /* exactly that many: wait for room on them */
        } else {
            if (o->negotiating > 0)
                return; /* wait: that connection may carry them all */
            if (o->nconns >= per_host_limit(p))
                return;
        }
        if (!may_open(p)) {
            if (p->fd_starved && !hxc__timer_armed(&p->fd_timer))
                hxc__timer_start(&p->fd_timer, FD_RETRY);
            if (hxc__list_empty(&p->idle_lru))
                return;
            /* Make room: the least recently used idle connection goes. */
            hxc__conn *old = HXC__LIST_ENTRY(p->idle_lru.next, hxc__conn, lru_node);
            hxc__pool_conn_close(old, 1);
        }
        const char *detail; /* queued until conn_open binds it to the new connection */
        int rv = conn_open(p, o, ex, &detail);
        if (rv != 0)
            hxc__pool_finish(ex, rv, detail);
    }
}

static void dispatch_cb(hxc__defer *d, void *arg)
{
    (void)d;
    hxc__pool *p = arg;
    /* Each waiting origin gets a turn, in the order they started waiting. */
    hxc__list round;
    hxc__list_init(&round);
    while (!hxc__list_empty(&p->waiting)) {
        hxc__list *n = p->waiting.next;
        hxc__list_remove(n);
        hxc__list_insert_tail(&round, n);
    }
    while (!hxc__list_empty(&round)) {
        hxc__origin *o = HXC__LIST_ENTRY(round.next, hxc__origin, wait_node);
        hxc__list_remove(&o->wait_node);
        if (hxc__list_empty(&o->queue))
            continue;
        hxc__list_insert_tail(&p->waiting, &o->wait_node);
        dispatch_origin(p, o);
    }
    trim_idle(p);
}

/* ---- exchanges -------------------------------------------------------- */

/* Into its origin's queue (at the head when `head`), waiting for a connection. */
static void enqueue(hxc__exchange *ex, int head)
{
    xset_state(ex, X_QUEUED, NULL, head);
    hxc__pool_phase(ex, PH_POOL);
    schedule_dispatch(ex->pool);
}

int hxc__pool_submit(hxc__pool *p, struct hxc_response *resp, const double *timeouts,
                     uint64_t max_body, void *arg, hxc__exchange **out)
{
    hxc__origin *o = origin_get(p, &resp->req->url);
    if (o == NULL)
        return HXC_ENOMEM;
    hxc__exchange *ex = exchange_new(p);
    if (ex == NULL)
        return HXC_ENOMEM;
    ex->pool = p;
    ex->o = o;
    ex->resp = resp;
    memcpy(ex->timeouts, timeouts, sizeof(ex->timeouts));
    ex->max_body = max_body;
    ex->arg = arg;
    ex->t_start = hxc__reactor_now(p->r);
    ex->discard = resp->req->discard_body != 0;
    ex->streaming = resp->req->on_body != NULL && !ex->discard;
    ex->head_cb = resp->req->on_headers != NULL;
    hxc__list_init(&ex->node);
    hxc__timeout_init(&ex->to);
    /* With deadline_after_queue the total deadline starts when it leaves
     * the queue (dequeue), not now. */
    if (timeouts[HXC_TIMEOUT_TOTAL] > 0 && !p->cfg.deadline_after_queue)
        ex->deadline = ex->t_start + timeouts[HXC_TIMEOUT_TOTAL];
    p->stats.requests_started++;
    *out = ex; /* before it can start, or finish */
    /* Nothing waiting before it and a connection with room: start now rather
     * than on the next dispatch (HTTP/2's frames still leave once per turn). */
    hxc__conn *c = hxc__list_empty(&o->queue) && origin_has_room(p, o) ? ready_conn(p, o, ex) : NULL;
    if (c != NULL && ex->deadline == 0 && timeouts[HXC_TIMEOUT_TOTAL] > 0)
        ex->deadline = ex->t_start + timeouts[HXC_TIMEOUT_TOTAL];
    if (c != NULL) {
        run_on(c, ex);
        return 0;
    }
    enqueue(ex, 0);
    return 0;
}

/* ---- running out of file descriptors ------------------------------------ */

/* No socket could be made: the process is out of descriptors. Connections
 * stop opening at today's count (an idle one is closed to make room, as at
 * max_connections) and requests wait in the queue as for a pool slot, failing
 * only at the pool timeout; every so often an attempt is made again, since
 * descriptors the program holds elsewhere may have been closed. */
/* Lets a few more connections try (half as many again as the cap, so that
 * descriptors freed elsewhere are found without a burst of failing sockets
 * each time), until the cap reaches max_connections. */
static void fd_timer_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__pool *p = arg;
    p->fd_cap += p->fd_cap / 2 + 1;
    /* The cap ends when it reaches max_connections, or when nothing waits
     * any more: a shortage must not slow the next burst down. */
    if (p->fd_cap >= p->cfg.max_connections || p->nqueued == 0)
        p->fd_starved = 0;
    else if (p->nqueued > 0)
        hxc__timer_start(&p->fd_timer, FD_RETRY);
    schedule_dispatch(p);
}

static void fd_starved(hxc__pool *p)
{
    p->fd_starved = 1;
    p->fd_cap = p->nconns;
    if (!hxc__timer_armed(&p->fd_timer))
        hxc__timer_start(&p->fd_timer, FD_RETRY);
}

/* Back to the head of its queue; its pool timeout counts from when it first
 * waited for a descriptor (so retrying does not restart it). */
static void wait_for_fd(hxc__exchange *ex)
{
    double now = hxc__reactor_now(ex->pool->r);
    if (ex->fd_wait_since == 0)
        ex->fd_wait_since = now;
    enqueue(ex, 1);
    ex->phase_since = ex->fd_wait_since;
    arm(ex, now);
}

/* The URL a promise names, from its pseudo-header fields: 0, or nonzero
 * when one is missing or the path is not absolute. */
static int promised_url(const struct hxc_headers *h, const char **method, char *url, size_t cap)
{
    const char *scheme = NULL, *authority = NULL, *path = NULL;
    *method = NULL;
    for (size_t i = 0; i < h->count; i++) {
        size_t nl;
        const char *n = hxc__headers_name(h, i, &nl);
        const char *v = hxc__headers_value(h, i, NULL);
        if (hxc__strieq(n, nl, ":method"))
            *method = v;
        else if (hxc__strieq(n, nl, ":scheme"))
            scheme = v;
        else if (hxc__strieq(n, nl, ":authority"))
            authority = v;
        else if (hxc__strieq(n, nl, ":path"))
            path = v;
    }
    if (!*method || !scheme || !authority || !path || path[0] != '/')
        return -1;
    int n = snprintf(url, cap, "%s://%s%s", scheme, authority, path);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

hxc__exchange *hxc__pool_adopt_push(hxc__conn *c, const struct hxc_headers *fields, int32_t id)
{
    hxc__pool *p = c->pool;
    if (p->cfg.push == NULL)
        return NULL;
    const char *method, *detail;
    char url[8192];
    hxc__url u;
    if (promised_url(fields, &method, url, sizeof(url)) != 0 || hxc__url_parse(&u, url, &detail) != 0)
        return NULL; /* names something we would never have asked */
    /* RFC 9113 8.4: only pushes for the connection's own origin are taken. */
    int same = u.tls == c->o->tls && u.port == c->o->port && strcmp(u.host, c->o->host) == 0;
    hxc__url_free(&u);
    if (!same)
        return NULL;
    hxc__exchange *ex = exchange_new(p);
    if (ex == NULL)
        return NULL;
    void *cb_arg;
    struct hxc_response *resp = p->cfg.push(p->cfg.push_arg, method, url, fields, ex, &cb_arg);
    if (resp == NULL) {
        exchange_free(p, ex);
        return NULL;
    }
    ex->pool = p;
    ex->o = c->o;
    ex->resp = resp;
    memcpy(ex->timeouts, p->cfg.push_timeouts, sizeof(ex->timeouts));
    ex->max_body = p->cfg.push_max_body;
    ex->arg = cb_arg;
    ex->t_start = hxc__reactor_now(p->r);
    ex->stream_id = id;
    ex->pushed = 1;
    hxc__timeout_init(&ex->to);
    if (ex->timeouts[HXC_TIMEOUT_TOTAL] > 0)
        ex->deadline = ex->t_start + ex->timeouts[HXC_TIMEOUT_TOTAL];
    xset_state(ex, X_ACTIVE, c, 0);
    resp->conn_id = c->id;
    resp->timings.reused = 1;
    p->stats.requests_started++;
    set_idle(c, 0);
    hxc__pool_phase(ex, PH_READ);
    return ex;
}

int hxc__pool_body(hxc__exchange *ex, const uint8_t *data, size_t len)
{
    ex->received += len;
    if (ex->max_body && ex->received > ex->max_body)
        return HXC_EBODY_TOO_LARGE;
    if (ex->discard)
        return 0;
    if (hxc__buf_append(&ex->resp->body, data, len) != 0)
        return HXC_ENOMEM;
    if (ex->streaming) {
        ex->held += len;
        ex->pool->cfg.progress(ex->resp, ex->arg);
    }
    return 0;
}

void hxc__pool_expect_body(hxc__exchange *ex, uint64_t length)
{
    /* One allocation for a buffered body of announced size (bounded). */
    if (!ex->streaming && !ex->discard && length > 0 && length <= (4u << 20) &&
        (ex->max_body == 0 || length <= ex->max_body))
        hxc__buf_reserve_exact(&ex->resp->body, (size_t)length);
}

void hxc__pool_head_done(hxc__exchange *ex)
{
    ex->resp->head_done = 1;
    if (ex->streaming || ex->head_cb)
        ex->pool->cfg.progress(ex->resp, ex->arg);
}

void hxc__pool_want_body(hxc__exchange *ex)
{
    if (ex->want_body || ex->resp->up_eof)
        return;
    ex->want_body = 1;
    ex->pool->cfg.need_body(ex->resp, ex->arg);
}

void hxc__pool_body_ready(hxc__pool *p, hxc__exchange *ex)
{
    (void)p;
    ex->want_body = 0;
    if (ex->c != NULL && ex->state == X_ACTIVE && ex->c->proto->body_ready)
        ex->c->proto->body_ready(ex->c, ex);
}

void hxc__pool_paused(hxc__pool *p, hxc__exchange *ex, int paused)
{
    (void)p;
    /* Kept while it waits (queued, connecting, backing off): it runs again
     * later, and a resume then must not be lost (found in review). */
    ex->consumer_paused = paused != 0;
    if (ex->state != X_ACTIVE)
        return;
    hxc__pool_phase(ex, paused ? PH_NONE : ex->written || ex->got_bytes ? PH_READ : PH_WRITE);
}

int hxc__pool_replayable(const hxc__exchange *ex)
{
    return ex->resp->req->producer == NULL || ex->resp->up_total == 0;
}

void hxc__pool_consumed(hxc__pool *p, hxc__exchange *ex, size_t n)
{
    (void)p;
    if (n > ex->held)
        n = ex->held;
    ex->held -= n;
    if (ex->c != NULL && ex->c->proto->consumed)
        ex->c->proto->consumed(ex->c, ex, n);
}

/* Takes `ex` off its connection, to be sent again as if new. */
static void detach_for_retry(hxc__exchange *ex)
{
    hxc__pool *p = ex->pool;
    ex->retries++;
    ex->got_bytes = ex->written = 0;
    ex->stream_id = 0;
    ex->received = 0;
    ex->held = 0;
    ex->uploading = ex->want_body = 0;
    p->stats.requests_retried++;
}

void hxc__pool_retry(hxc__exchange *ex, int fresh)
{
    detach_for_retry(ex);
    ex->fresh_only = fresh != 0;
    enqueue(ex, 1);
}

void hxc__pool_set_refused_backoff(hxc__pool *p, double base) { p->backoff_base = base; }

/* "<what>: refused N times (<how>)" */
static void refused_detail(const hxc__exchange *ex, const char *what, char *buf, size_t len)
{
    snprintf(buf, len, "%s: refused %u time%s (%s)", what, (unsigned)ex->refusals,
             ex->refusals == 1 ? "" : "s", ex->refused_how ? ex->refused_how : "refused");
}

/* The wait before the next retry of a refused request (see pool_int.h):
 * base * 2^(k-1) for the k-th wait, plus up to a tenth of jitter so that the
 * requests one GOAWAY refused together do not all come back together. */
static double refused_backoff(hxc__exchange *ex)
{
    hxc__pool *p = ex->pool;
    double base = p->backoff_base;
    if (base <= 0) {
        double total = ex->timeouts[HXC_TIMEOUT_TOTAL];
        base = total > 0 ? total / HXC__REFUSED_BACKOFF_SHARE : HXC__REFUSED_BACKOFF_NONE;
        base = base < HXC__REFUSED_BACKOFF_MIN   ? HXC__REFUSED_BACKOFF_MIN
               : base > HXC__REFUSED_BACKOFF_MAX ? HXC__REFUSED_BACKOFF_MAX
                                                 : base;
    }
    int k = ex->refusals - 2; /* the second refusal waits `base` */
    double d = base * (double)(1ull << (k < 0 ? 0 : k > 40 ? 40 : k));
    p->rng ^= p->rng << 13; /* xorshift64: not the program's rand() state */
    p->rng ^= p->rng >> 7;
    p->rng ^= p->rng << 17;
    return d * (1 + 0.1 * ((double)(p->rng >> 11) / 9007199254740992.0));
}

void hxc__pool_retry_refused(hxc__exchange *ex, const char *how, int at_once)
{
    hxc__pool *p = ex->pool;
    ex->refused_how = how;
    if (ex->refusals < UINT16_MAX)
        ex->refusals++;
    if (ex->deadline == 0 && ex->refusals > HXC__MAX_REFUSED_RETRIES) {
        char buf[200];
        refused_detail(ex, "the server kept refusing the request without processing it", buf,
                       sizeof(buf));
        hxc__pool_finish(ex, HXC_EPROTO_REMOTE, buf);
        return;
    }
    if (ex->refusals == 1 || at_once) { /* a GOAWAY refuses what was in flight, once */
        hxc__pool_retry(ex, 0);
        return;
    }
    /* Then it waits on its own timer, in no queue and on no connection (the
     * pool's backoff list only lets cancel_all find it); the deadline, a
     * cancel or an abort still end it at once. */
    detach_for_retry(ex);
    ex->fresh_only = 0;
    xset_state(ex, X_BACKOFF, NULL, 0);
    ex->retry_at = hxc__reactor_now(p->r) + refused_backoff(ex);
    hxc__pool_phase(ex, PH_BACKOFF);
}

static void backoff_done(hxc__exchange *ex) { enqueue(ex, 1); }

/* With hundreds of requests in flight their records are out of cache by the
 * time their responses come, and responses on a connection mostly come in the
 * order the requests went. So when one finishes, the records of the next ones
 * are fetched ahead: the exchange after next (its address is in the next
 * one, fetched ahead last time), the next one's response and caller's record
 * (`arg`). Only a hint: a wrong guess costs a few cache lines. */
static void prefetch_next(hxc__conn *c)
{
    if (hxc__list_empty(&c->exchanges))
        return;
    hxc__exchange *n1 = HXC__LIST_ENTRY(c->exchanges.next, hxc__exchange, node);
    if (n1->node.next != &c->exchanges) {
        const char *n2 = (const char *)HXC__LIST_ENTRY(n1->node.next, hxc__exchange, node);
        __builtin_prefetch(n2, 1);
        __builtin_prefetch(n2 + 64, 1);
        __builtin_prefetch(n2 + 128, 1);
    }
    const char *r = (const char *)n1->resp, *a = n1->arg;
    if (r != NULL) {
        __builtin_prefetch(r, 1);
        __builtin_prefetch(r + 64, 1);
        __builtin_prefetch(r + 128, 1);
    }
    if (a != NULL) {
        __builtin_prefetch(a, 1);
        __builtin_prefetch(a + 64, 1);
    }
}

void hxc__pool_finish(hxc__exchange *ex, int err, const char *detail)
{
    hxc__pool *p = ex->pool;
    hxc__conn *c = ex->c;
    struct hxc_response *r = ex->resp;
    double now = hxc__reactor_now(p->r);
    disarm(ex);
    if (ex->state != X_ACTIVE) /* it never started: it waited until now (else set at start) */
        r->timings.queued = now - ex->t_start;
    xset_state(ex, X_DONE, NULL, 0);
    if (c != NULL)
        prefetch_next(c);
    r->timings.total = now - ex->t_start;
    r->body_received = ex->received;
    if (err != 0)
        hxc__response_fail(r, err, detail);
    p->stats.requests_completed++;
    if (p->cfg.max_per_origin && !hxc__list_empty(&ex->o->queue))
        schedule_dispatch(p); /* its origin's cap may let a queued one start */
    void *arg = ex->arg;
    exchange_free(p, ex);
    p->cfg.done(r, arg);
}

void hxc__pool_cancel(hxc__pool *p, hxc__exchange *ex, int err, const char *detail)
{
    (void)p;
    abandon(ex, err, detail);
}

void hxc__pool_cancel_all(hxc__pool *p, int err, const char *detail)
{
    while (!hxc__list_empty(&p->backoff))
        hxc__pool_finish(HXC__LIST_ENTRY(p->backoff.next, hxc__exchange, node), err, detail);
    for (unsigned i = 0; i < HXC__POOL_BUCKETS; i++) {
        hxc__list *b = &p->buckets[i];
        for (hxc__list *n = b->next; n != b; n = n->next) {
            hxc__origin *o = HXC__LIST_ENTRY(n, hxc__origin, node);
            while (!hxc__list_empty(&o->queue))
                hxc__pool_finish(HXC__LIST_ENTRY(o->queue.next, hxc__exchange, node), err, detail);
            while (!hxc__list_empty(&o->conns)) {
                hxc__conn *c = HXC__LIST_ENTRY(o->conns.next, hxc__conn, node);
                hxc__exchange *bound = c->bound;
                hxc__list pending;
                hxc__list_init(&pending);
                /* Detach everything, close, then report (the connection is gone first). */
                while (!hxc__list_empty(&c->exchanges)) {
                    hxc__exchange *ex = hxc__conn_first(c);
                    hxc__list_remove(&ex->node);
                    hxc__list_insert_tail(&pending, &ex->node);
                    ex->c = NULL;
                }
                c->nexchanges = 0;
                hxc__pool_conn_close(c, c->state == C_IDLE);
                if (bound)
                    hxc__pool_finish(bound, err, detail);
                while (!hxc__list_empty(&pending)) {
                    hxc__exchange *ex = HXC__LIST_ENTRY(pending.next, hxc__exchange, node);
                    hxc__list_remove(&ex->node);
                    hxc__pool_finish(ex, err, detail);
                }
            }
        }
    }
}

unsigned hxc__pool_busy(const hxc__pool *p) { return p->nqueued + p->nactive + p->nbackoff; }

void hxc__pool_stats(const hxc__pool *p, hxc_client_stats *out)
{
    *out = p->stats;
    out->connections_open = p->nconns;
    out->connections_idle = p->nidle;
    out->requests_queued = p->nqueued + p->nbackoff; /* waiting: for a connection, or to retry */
    out->requests_active = p->nactive;
}

int hxc__pool_new(hxc__pool **out, hxc__reactor *r, const hxc__pool_config *cfg)
{
    hxc__pool *p = hxc__calloc(1, sizeof(*p));
    if (p == NULL)
        return HXC_ENOMEM;
    p->r = r;
    p->cfg = *cfg;
    if (p->cfg.max_connections == 0)
        p->cfg.max_connections = 1;
    if (p->cfg.connect == NULL)
        p->cfg.connect = hxc__transport_connect;
    for (unsigned i = 0; i < HXC__POOL_BUCKETS; i++)
        hxc__list_init(&p->buckets[i]);
    hxc__list_init(&p->waiting);
    hxc__list_init(&p->backoff);
    p->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)p ^
             (uint64_t)(hxc__reactor_now(r) * 1e6); /* never 0: xorshift would stay there */
    p->rng |= 1;
    hxc__list_init(&p->idle_lru);
    hxc__defer_init(&p->dispatch, dispatch_cb, p);
    hxc__timer_init(r, &p->fd_timer, fd_timer_cb, p);
    hxc__cache_init(&p->spare, HXC__CACHE_MAX);
    hxc__recycler_init(&p->recycler);
    *out = p;
    return 0;
}

void hxc__pool_free(hxc__pool *p)
{
    if (p == NULL)
        return;
    hxc__pool_cancel_all(p, HXC_ECANCELLED, "client closed");
    for (unsigned i = 0; i < HXC__POOL_BUCKETS; i++) {
        hxc__list *b = &p->buckets[i];
        while (!hxc__list_empty(b)) {
            hxc__origin *o = HXC__LIST_ENTRY(b->next, hxc__origin, node);
            hxc__list_remove(&o->node);
            hxc__list_remove(&o->wait_node);
            hxc__free(o->host);
            hxc__free(o);
        }
    }
    hxc__defer_cancel(&p->dispatch);
    hxc__exchange *ex;
    while ((ex = hxc__cache_take(&p->spare)) != NULL)
        hxc__free_lines(ex);
    hxc__timer_stop(&p->fd_timer);
    hxc__recycler_drain(&p->recycler); /* every session is gone: nothing is out */
    hxc__free(p);
}
