/*
 * pool/pool.c - origins, connection choice, the pending queue, limits,
 * timeouts per exchange, idle expiry and the retry of requests that met a
 * dead keep-alive connection.
 *
 * Dispatching runs from one deferred task per loop turn, so a burst of
 * submissions is matched to connections at once and the writes of one turn
 * leave together. Nothing here calls the user: finished exchanges go to the
 * done callback of the API layer, which defers the user's callback.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "core/mem.h"
#include "pool/pool_int.h"

static void schedule_dispatch(hxc__pool *p) { hxc__defer_schedule(p->r, &p->dispatch); }

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
    hxc__list *b = &p->buckets[origin_hash(u->host, u->port, u->tls)];
    for (hxc__list *n = b->next; n != b; n = n->next) {
        hxc__origin *o = HXC__LIST_ENTRY(n, hxc__origin, node);
        if (o->port == u->port && o->tls == u->tls && strcmp(o->host, u->host) == 0)
            return o;
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
    hxc__list_init(&o->idle);
    hxc__list_init(&o->conns);
    hxc__list_init(&o->wait_node);
    hxc__list_insert_tail(b, &o->node);
    return o;
}

/* ---- timers ----------------------------------------------------------- */

static void phase_timer_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__exchange *ex = arg;
    hxc__conn *c = ex->c;
    switch (ex->phase) {
    case PH_POOL:
        hxc__pool_finish(ex, HXC_ETIMEOUT_POOL, "no connection became available in time");
        break;
    case PH_CONNECT:
        hxc__pool_finish(ex, HXC_ETIMEOUT_CONNECT, "connection not established in time");
        if (c)
            hxc__pool_conn_close(c, 0);
        break;
    case PH_WRITE:
        hxc__pool_finish(ex, HXC_ETIMEOUT_WRITE, "the server did not take the request in time");
        if (c)
            hxc__pool_conn_close(c, 0);
        break;
    case PH_READ:
        hxc__pool_finish(ex, HXC_ETIMEOUT_READ, "no data from the server in time");
        if (c)
            hxc__pool_conn_close(c, 0);
        break;
    default:
        break;
    }
}

static void total_timer_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__exchange *ex = arg;
    hxc__conn *c = ex->c;
    int connecting = ex->state == X_CONNECTING;
    int active = ex->state == X_ACTIVE;
    hxc__pool_finish(ex, HXC_ETIMEOUT_TOTAL, "the request's total deadline passed");
    if (c && (connecting || active))
        hxc__pool_conn_close(c, 0);
}

void hxc__pool_phase(hxc__exchange *ex, enum phase ph)
{
    ex->phase = ph;
    double s = 0;
    switch (ph) {
    case PH_POOL: s = ex->timeouts[HXC_TIMEOUT_POOL]; break;
    case PH_CONNECT: s = ex->timeouts[HXC_TIMEOUT_CONNECT]; break;
    case PH_WRITE: s = ex->timeouts[HXC_TIMEOUT_WRITE]; break;
    case PH_READ: s = ex->timeouts[HXC_TIMEOUT_READ]; break;
    default: break;
    }
    if (s > 0)
        hxc__timer_start(&ex->phase_timer, s);
    else
        hxc__timer_stop(&ex->phase_timer);
}

/* ---- connections ------------------------------------------------------ */

static void conn_on_connected(void *ud, int err, const char *detail);
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
static void conn_on_drained(void *ud)
{
    hxc__conn *c = ud;
    c->proto->on_drained(c);
}

static const hxc__transport_handler conn_handler = {
    conn_on_connected, conn_on_read, conn_on_closed, conn_on_drained,
};

static void idle_timer_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__pool_conn_close(arg, 1);
}

static void unlink_idle(hxc__conn *c)
{
    if (c->state == C_IDLE) {
        hxc__list_remove(&c->idle_node);
        hxc__list_remove(&c->lru_node);
        hxc__timer_stop(&c->idle_timer);
        c->pool->nidle--;
    }
}

void hxc__pool_conn_close(hxc__conn *c, int graceful)
{
    hxc__pool *p = c->pool;
    if (c->ex != NULL) { /* detach: the caller has finished it or will */
        c->ex->c = NULL;
        c->ex = NULL;
    }
    unlink_idle(c);
    hxc__list_remove(&c->node);
    c->o->nconns--;
    p->nconns--;
    hxc__timer_stop(&c->idle_timer);
    c->proto->destroy(c);
    hxc__transport_free(c->t, graceful);
    hxc__buf_free(&c->scratch);
    hxc__free(c);
    schedule_dispatch(p);
}

void hxc__pool_conn_idle(hxc__conn *c)
{
    hxc__pool *p = c->pool;
    c->ex = NULL;
    c->state = C_IDLE;
    hxc__list_insert_head(&c->o->idle, &c->idle_node);
    hxc__list_insert_tail(&p->idle_lru, &c->lru_node);
    p->nidle++;
    hxc__timer_start(&c->idle_timer, p->cfg.keepalive_expiry);
    if (p->nidle > p->cfg.max_idle) {
        hxc__conn *old = HXC__LIST_ENTRY(p->idle_lru.next, hxc__conn, lru_node);
        hxc__pool_conn_close(old, 1);
        if (old == c)
            return;
    }
    if (!hxc__list_empty(&c->o->queue))
        schedule_dispatch(p);
}

static void start_on(hxc__conn *c, hxc__exchange *ex)
{
    hxc__pool *p = c->pool;
    c->state = C_BUSY;
    c->ex = ex;
    ex->c = c;
    ex->state = X_ACTIVE;
    ex->t_active = hxc__now();
    struct hxc_response *r = ex->resp;
    r->conn_id = c->id;
    r->timings.reused = c->requests > 0;
    if (c->requests > 0)
        p->stats.connections_reused++;
    else {
        r->timings.dns = c->tt.dns;
        r->timings.connect = c->tt.connect;
        r->timings.tls = c->tt.tls;
    }
    c->requests++;
    c->proto->start(c, ex);
}

static void conn_on_connected(void *ud, int err, const char *detail)
{
    hxc__conn *c = ud;
    hxc__exchange *ex = c->ex;
    if (err != 0) {
        char buf[400];
        snprintf(buf, sizeof(buf), "%s", detail ? detail : "");
        if (ex != NULL)
            hxc__pool_finish(ex, err, buf);
        hxc__pool_conn_close(c, 0);
        return;
    }
    hxc__transport_times_get(c->t, &c->tt);
    if (ex != NULL) {
        start_on(c, ex);
    } else {
        hxc__pool_conn_idle(c);
    }
}

static int conn_open(hxc__pool *p, hxc__origin *o, hxc__exchange *ex)
{
    hxc__conn *c = hxc__calloc(1, sizeof(*c));
    if (c == NULL)
        return HXC_ENOMEM;
    c->pool = p;
    c->o = o;
    c->proto = &hxc__conn_h1;
    c->id = ++p->next_conn_id;
    c->state = C_CONNECTING;
    c->version = "HTTP/1.1";
    hxc__list_init(&c->idle_node);
    hxc__list_init(&c->lru_node);
    hxc__timer_init(p->r, &c->idle_timer, idle_timer_cb, c);
    hxc__h1_init(&c->h1, NULL, NULL, &p->cfg.h1_limits);
    static const unsigned char alpn_h1[] = "\x08http/1.1";
    hxc__endpoint ep = {o->host, o->port, o->tls ? p->tls : NULL, o->tls ? alpn_h1 : NULL,
                        o->tls ? sizeof(alpn_h1) - 1 : 0};
    int rv = hxc__transport_connect(&c->t, p->r, &ep, &conn_handler, c);
    if (rv != 0) {
        hxc__h1_free(&c->h1);
        hxc__free(c);
        return rv;
    }
    hxc__list_insert_tail(&o->conns, &c->node);
    o->nconns++;
    p->nconns++;
    p->stats.connections_opened++;
    c->ex = ex;
    ex->c = c;
    ex->state = X_CONNECTING;
    hxc__pool_phase(ex, PH_CONNECT);
    return 0;
}

/* ---- dispatch --------------------------------------------------------- */

static unsigned per_host_limit(const hxc__pool *p)
{
    return p->cfg.max_per_host ? p->cfg.max_per_host : p->cfg.max_connections;
}

static void dequeue(hxc__exchange *ex)
{
    hxc__pool *p = ex->pool;
    hxc__list_remove(&ex->node);
    p->nqueued--;
    if (hxc__list_empty(&ex->o->queue))
        hxc__list_remove(&ex->o->wait_node);
}

/* Matches queued exchanges of one origin to connections. 1 if it made progress. */
static void dispatch_origin(hxc__pool *p, hxc__origin *o)
{
    while (!hxc__list_empty(&o->queue)) {
        hxc__exchange *ex = HXC__LIST_ENTRY(o->queue.next, hxc__exchange, node);
        if (!ex->fresh_only && !hxc__list_empty(&o->idle)) {
            hxc__conn *c = HXC__LIST_ENTRY(o->idle.next, hxc__conn, idle_node);
            unlink_idle(c);
            if (!hxc__transport_is_alive(c->t)) {
                c->state = C_BUSY;
                hxc__pool_conn_close(c, 0);
                continue;
            }
            dequeue(ex);
            p->nactive++;
            start_on(c, ex);
            continue;
        }
        if (o->nconns >= per_host_limit(p))
            return;
        if (p->nconns >= p->cfg.max_connections) {
            if (hxc__list_empty(&p->idle_lru))
                return;
            /* Make room: the least recently used idle connection goes. */
            hxc__conn *old = HXC__LIST_ENTRY(p->idle_lru.next, hxc__conn, lru_node);
            hxc__pool_conn_close(old, 1);
        }
        dequeue(ex);
        p->nactive++;
        int rv = conn_open(p, o, ex);
        if (rv != 0)
            hxc__pool_finish(ex, rv, "could not start a connection");
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
}

/* ---- exchanges -------------------------------------------------------- */

static void enqueue(hxc__exchange *ex, int head)
{
    hxc__pool *p = ex->pool;
    if (head)
        hxc__list_insert_head(&ex->o->queue, &ex->node);
    else
        hxc__list_insert_tail(&ex->o->queue, &ex->node);
    if (!hxc__list_linked(&ex->o->wait_node))
        hxc__list_insert_tail(&p->waiting, &ex->o->wait_node);
    p->nqueued++;
    ex->state = X_QUEUED;
    hxc__pool_phase(ex, PH_POOL);
    schedule_dispatch(p);
}

int hxc__pool_submit(hxc__pool *p, struct hxc_response *resp, const double *timeouts,
                     uint64_t max_body, hxc__exchange_done_cb cb, void *arg,
                     hxc__exchange **out)
{
    hxc__origin *o = origin_get(p, &resp->req->url);
    if (o == NULL)
        return HXC_ENOMEM;
    hxc__exchange *ex = hxc__calloc(1, sizeof(*ex));
    if (ex == NULL)
        return HXC_ENOMEM;
    ex->pool = p;
    ex->o = o;
    ex->resp = resp;
    memcpy(ex->timeouts, timeouts, sizeof(ex->timeouts));
    ex->max_body = max_body;
    ex->cb = cb;
    ex->arg = arg;
    ex->t_start = hxc__now();
    hxc__list_init(&ex->node);
    hxc__timer_init(p->r, &ex->total_timer, total_timer_cb, ex);
    hxc__timer_init(p->r, &ex->phase_timer, phase_timer_cb, ex);
    if (timeouts[HXC_TIMEOUT_TOTAL] > 0)
        hxc__timer_start(&ex->total_timer, timeouts[HXC_TIMEOUT_TOTAL]);
    p->stats.requests_started++;
    enqueue(ex, 0);
    *out = ex;
    return 0;
}

void hxc__pool_retry(hxc__exchange *ex)
{
    hxc__pool *p = ex->pool;
    if (ex->c) {
        ex->c->ex = NULL;
        ex->c = NULL;
    }
    p->nactive--;
    ex->retries++;
    ex->fresh_only = 1;
    ex->got_bytes = ex->written = 0;
    p->stats.requests_retried++;
    enqueue(ex, 1);
}

void hxc__pool_finish(hxc__exchange *ex, int err, const char *detail)
{
    hxc__pool *p = ex->pool;
    hxc__timer_stop(&ex->phase_timer);
    hxc__timer_stop(&ex->total_timer);
    if (ex->state == X_QUEUED)
        dequeue(ex);
    else
        p->nactive--;
    if (ex->c) {
        ex->c->ex = NULL;
        ex->c = NULL;
    }
    ex->state = X_DONE;
    struct hxc_response *r = ex->resp;
    double now = hxc__now();
    r->timings.total = now - ex->t_start;
    r->timings.queued = (ex->t_active ? ex->t_active : now) - ex->t_start;
    if (err != 0)
        hxc__response_fail(r, err, detail);
    p->stats.requests_completed++;
    hxc__exchange_done_cb cb = ex->cb;
    void *arg = ex->arg;
    hxc__free(ex);
    cb(r, arg);
}

void hxc__pool_cancel(hxc__pool *p, hxc__exchange *ex, int err, const char *detail)
{
    (void)p;
    hxc__conn *c = ex->c;
    hxc__pool_finish(ex, err, detail);
    /* An HTTP/1.1 exchange cannot be abandoned mid-flight: its connection goes. */
    if (c != NULL && c->state != C_IDLE)
        hxc__pool_conn_close(c, 0);
}

void hxc__pool_cancel_all(hxc__pool *p, int err, const char *detail)
{
    for (unsigned i = 0; i < HXC__POOL_BUCKETS; i++) {
        hxc__list *b = &p->buckets[i];
        for (hxc__list *n = b->next; n != b; n = n->next) {
            hxc__origin *o = HXC__LIST_ENTRY(n, hxc__origin, node);
            while (!hxc__list_empty(&o->queue))
                hxc__pool_finish(HXC__LIST_ENTRY(o->queue.next, hxc__exchange, node), err, detail);
            while (!hxc__list_empty(&o->conns)) {
                hxc__conn *c = HXC__LIST_ENTRY(o->conns.next, hxc__conn, node);
                if (c->ex)
                    hxc__pool_finish(c->ex, err, detail);
                hxc__pool_conn_close(c, c->state == C_IDLE);
            }
        }
    }
}

unsigned hxc__pool_busy(const hxc__pool *p) { return p->nqueued + p->nactive; }

void hxc__pool_stats(const hxc__pool *p, hxc_client_stats *out)
{
    *out = p->stats;
    out->connections_open = p->nconns;
    out->connections_idle = p->nidle;
    out->requests_queued = p->nqueued;
    out->requests_active = p->nactive;
}

int hxc__pool_new(hxc__pool **out, hxc__reactor *r, const hxc__pool_config *cfg,
                  hxc__tls_ctx *tls)
{
    hxc__pool *p = hxc__calloc(1, sizeof(*p));
    if (p == NULL)
        return HXC_ENOMEM;
    p->r = r;
    p->cfg = *cfg;
    if (p->cfg.max_connections == 0)
        p->cfg.max_connections = 1;
    p->tls = tls;
    for (unsigned i = 0; i < HXC__POOL_BUCKETS; i++)
        hxc__list_init(&p->buckets[i]);
    hxc__list_init(&p->waiting);
    hxc__list_init(&p->idle_lru);
    hxc__defer_init(&p->dispatch, dispatch_cb, p);
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
    hxc__free(p);
}
