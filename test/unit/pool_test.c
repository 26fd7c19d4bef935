/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/pool over HTTP/1.1 with no socket and no real time: the
 * reactor runs in manual time (hxc__reactor_set_manual_time) on a real
 * event_base, connections are fake transports the test drives
 * (test/support/fake_transport.h), and the peer's bytes are written by hand.
 * Every time below is exact: a timeout fires at its due time, not around it.
 *
 * Expected behaviour is from lib/pool/pool.c and docs/architecture.md
 * ("Timeouts per exchange", "Stale keep-alive connections", "A freed
 * connection goes to its origin's queue first", "Bulk submission", "Out of
 * file descriptors").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/api.h"
#include "fake_transport.h"
#include "pool/pool.h"
#include "pool/pool_int.h"
#include "reactor/reactor.h"

#define T0   1000.0 /* the manual clock's start (0 means "not set" to the pool) */
#define EPS  1e-6
#define MAXR 64

static const char OK2[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

typedef struct fx fx;

/* One request sent through the pool, and how it ended. */
typedef struct req {
    fx *f;
    hxc__exchange *ex;
    struct hxc_response *resp;
    int done;
    int err;
    double at; /* the clock when its done callback ran */
} req;

struct fx {
    struct event_base *base;
    hxc__reactor r;
    fakenet *net;
    hxc__pool *pool;
    hxc__pool_config cfg;
    double t[HXC_TIMEOUT__COUNT];
    req reqs[MAXR];
    int nreqs, ndone;
    void (*on_done)(fx *f, req *q); /* optional: looks inside the done callback */
};

static void done_cb(struct hxc_response *resp, void *arg)
{
    req *q = arg;
    assert_false(q->done); /* exactly once */
    q->done = 1;
    q->err = resp->error;
    q->at = hxc__reactor_now(&q->f->r);
    q->ex = NULL;
    q->f->ndone++;
    if (q->f->on_done)
        q->f->on_done(q->f, q);
}

/* Defaults: timeouts off but the ones a test sets, room for 10 connections. */
static fx *fx_new(void)
{
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    assert_int_equal(hxc__reactor_init(&f->r, f->base, NULL), 0);
    hxc__reactor_set_manual_time(&f->r, T0);
    f->net = fakenet_new(&f->r);
    assert_non_null(f->net);
    f->cfg.max_connections = 10;
    f->cfg.max_idle = 10;
    f->cfg.keepalive_expiry = 5;
    f->cfg.h1_limits.max_header_bytes = 256 * 1024;
    f->cfg.h1_limits.max_headers = 1000;
    f->cfg.user_agent = "pool-test";
    f->cfg.accept = "*/*";
    f->cfg.done = done_cb;
    f->cfg.connect = fakenet_connect;
    return f;
}

/* The pool, once the test has set cfg. */
static void fx_start(fx *f) { assert_int_equal(hxc__pool_new(&f->pool, &f->r, &f->cfg), 0); }

static hxc_client_stats stats(fx *f)
{
    hxc_client_stats s;
    hxc__pool_stats(f->pool, &s);
    return s;
}

/* Ends a scenario: nothing may be left queued or running, and every request
 * started was reported once. */
static void fx_free(fx *f)
{
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_queued, 0);
    assert_int_equal(s.requests_active, 0);
    assert_int_equal(hxc__pool_busy(f->pool), 0);
    assert_int_equal(s.requests_completed, s.requests_started);
    assert_int_equal(f->ndone, f->nreqs);
    hxc__pool_free(f->pool);
    hxc__reactor_settle(&f->r);
    assert_int_equal(fakenet_live(f->net), 0);
    for (int i = 0; i < f->nreqs; i++)
        hxc_response_release(f->reqs[i].resp);
    fakenet_free(f->net);
    hxc__reactor_destroy(&f->r);
    event_base_free(f->base);
    free(f);
}

static double now(fx *f) { return f->r.manual_now; }
static void settle(fx *f) { hxc__reactor_settle(&f->r); }
static void advance(fx *f, double s) { hxc__reactor_advance(&f->r, s); }
/* To T0 + `t` (never back). */
static void advance_to(fx *f, double t)
{
    assert_true(T0 + t >= now(f));
    advance(f, T0 + t - now(f));
}

static req *submit_body(fx *f, const char *method, const char *url, const char *body)
{
    assert_true(f->nreqs < MAXR);
    req *q = &f->reqs[f->nreqs++];
    q->f = f;
    hxc_request *rq;
    assert_int_equal(hxc_request_new(&rq, method, url), 0);
    if (body != NULL)
        assert_int_equal(hxc_request_set_body(rq, body, strlen(body)), 0);
    q->resp = hxc__response_new(rq, NULL);
    assert_non_null(q->resp);
    assert_int_equal(hxc__pool_submit(f->pool, q->resp, f->t, 0, q, &q->ex), 0);
    return q;
}

static req *submit(fx *f, const char *url) { return submit_body(f, "GET", url, NULL); }

/* `n` GETs of `url`, into q[]. */
static void submit_n(fx *f, req **q, int n, const char *url)
{
    for (int i = 0; i < n; i++)
        q[i] = submit(f, url);
}

static fakeconn *conn(fx *f, unsigned i)
{
    fakeconn *c = fakenet_conn(f->net, i);
    assert_non_null(c);
    return c;
}

/* Connects connection `i`, and the request it carries goes out (all of it
 * taken by the kernel): the exchange reads. */
static fakeconn *connect_and_send(fx *f, unsigned i)
{
    fakeconn *c = conn(f, i);
    fakeconn_connected(c, "");
    fakeconn_drain_all(c);
    settle(f);
    return c;
}

static void expect_done(req *q, int err, double at)
{
    assert_true(q->done);
    assert_int_equal(q->err, err);
    if (at > 0)
        assert_true(q->at > T0 + at - EPS && q->at < T0 + at + EPS);
}

/* Nothing ends `q` until T0 + `at`, and then it ends with `err`: the clock
 * goes to a millisecond before, then a millisecond after. */
static void expect_timeout(fx *f, req *q, int err, double at)
{
    advance_to(f, at - 0.001);
    assert_false(q->done);
    advance_to(f, at + 0.001);
    expect_done(q, err, at);
}

static void set_timeouts(fx *f, double connect, double write, double read, double pool,
                         double total)
{
    f->t[HXC_TIMEOUT_CONNECT] = connect;
    f->t[HXC_TIMEOUT_WRITE] = write;
    f->t[HXC_TIMEOUT_READ] = read;
    f->t[HXC_TIMEOUT_POOL] = pool;
    f->t[HXC_TIMEOUT_TOTAL] = total;
}

/* A pool with one connection allowed: A is sent on it and reads, B waits
 * in the queue behind it. */
static fakeconn *one_busy_one_queued(fx *f, req **a, req **b)
{
    *a = submit(f, "http://a.test/a");
    *b = submit(f, "http://a.test/b");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 1);
    return connect_and_send(f, 0);
}

/* A request of its own on connection `i`: sent, read, answered; the
 * connection is left idle (keep-alive). */
static fakeconn *one_exchange(fx *f, unsigned i)
{
    req *q = submit(f, "http://a.test/first");
    settle(f);
    fakeconn *c = connect_and_send(f, i);
    fakeconn_read_str(c, OK2);
    settle(f);
    expect_done(q, 0, 0);
    return c;
}

/* ---- timeouts ------------------------------------------------------------- */

/* A request queued behind the only connection fails at its pool timeout,
 * counted from its submission, not before. */
static void test_pool_timeout(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    f->t[HXC_TIMEOUT_POOL] = 30;
    fx_start(f);
    req *a = submit(f, "http://a.test/a");
    settle(f);
    connect_and_send(f, 0); /* A holds the only connection, with no timeout of its own */
    advance_to(f, 5);
    req *b = submit(f, "http://a.test/b");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 1);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_queued, 1);
    assert_int_equal(s.requests_active, 1);

    expect_timeout(f, b, HXC_ETIMEOUT_POOL, 35);
    assert_true(b->resp->timings.queued > 30 - EPS && b->resp->timings.queued < 30 + EPS);
    assert_false(a->done);
    assert_false(conn(f, 0)->freed); /* not the queued request's connection */

    fakeconn_read_str(conn(f, 0), OK2);
    expect_done(a, 0, 35.001);
    s = stats(f);
    assert_int_equal(s.requests_started, 2);
    assert_int_equal(s.requests_completed, 2);
    assert_int_equal(s.connections_opened, 1);
    assert_int_equal(s.connections_idle, 1);
    fx_free(f);
}

/* The connect never completes: the connect timeout fails the request at
 * exactly its end and drops the connection (not gracefully: it never ran). */
static void test_connect_timeout(void **state)
{
    (void)state;
    fx *f = fx_new();
    set_timeouts(f, 10, 0, 0, 30, 0);
    fx_start(f);
    advance_to(f, 1);
    req *a = submit(f, "http://a.test:8080/a");
    settle(f);
    fakeconn *c = conn(f, 0);
    assert_string_equal(c->host, "a.test");
    assert_int_equal(c->port, 8080);
    assert_int_equal(c->out.len, 0); /* nothing written before the connect */

    expect_timeout(f, a, HXC_ETIMEOUT_CONNECT, 11);
    assert_true(c->freed);
    assert_false(c->graceful);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_open, 0);
    assert_int_equal(s.connections_opened, 1);
    fx_free(f);
}

/* Request bytes that never leave: the write timeout ends the request; each
 * bit of progress (the kernel taking some) starts it over. */
static void test_write_timeout(void **state)
{
    (void)state;
    fx *f = fx_new();
    set_timeouts(f, 10, 30, 30, 0, 0);
    fx_start(f);
    req *a = submit_body(f, "POST", "http://a.test/a", "0123456789");
    settle(f);
    fakeconn *c = conn(f, 0);
    fakeconn_connected(c, "");
    settle(f);
    assert_non_null(strstr(fakeconn_written(c, NULL), "POST /a HTTP/1.1\r\n"));
    assert_true(c->pending > 10);

    advance_to(f, 20);
    fakeconn_drain(c, 5); /* progress at 20: the timeout now ends at 50 */
    assert_true(c->pending > 0);
    expect_timeout(f, a, HXC_ETIMEOUT_WRITE, 50);
    assert_true(c->freed);
    assert_false(c->graceful);
    fx_free(f);
}

/* Silence after the request: the read timeout counts from the last byte
 * taken or received; bytes arriving start it over. */
static void test_read_timeout(void **state)
{
    (void)state;
    fx *f = fx_new();
    set_timeouts(f, 10, 30, 30, 0, 0);
    fx_start(f);
    req *a = submit(f, "http://a.test/a");
    settle(f);
    fakeconn *c = connect_and_send(f, 0); /* all written at T0: reading from T0 */

    for (int t = 10; t <= 20; t += 5) { /* in steps: the lazy timer re-arms */
        advance_to(f, t);
        assert_false(a->done);
    }
    fakeconn_read_str(c, "HTTP/1.1 200 OK\r\n"); /* at 20 */
    for (int t = 25; t <= 45; t += 5) {
        advance_to(f, t);
        assert_false(a->done); /* 25 s after the last byte, not 45 after the request */
    }
    fakeconn_read_str(c, "Content-Length: 5\r\n\r\nab"); /* at 45 */
    advance_to(f, 60);
    expect_timeout(f, a, HXC_ETIMEOUT_READ, 75);
    assert_true(a->resp->timings.first_byte > 20 - EPS && a->resp->timings.first_byte < 20 + EPS);
    assert_true(c->freed);
    fx_free(f);
}

/* The total deadline runs across the phases, and ends a request that no
 * phase timeout would have ended. */
static void test_total_deadline(void **state)
{
    (void)state;
    fx *f = fx_new();
    set_timeouts(f, 10, 30, 30, 30, 25);
    fx_start(f);
    req *a = submit(f, "http://a.test/a");
    settle(f);
    advance_to(f, 5);
    fakeconn *c = conn(f, 0);
    fakeconn_connected(c, ""); /* connect phase: 5 s */
    advance_to(f, 8);
    fakeconn_drain_all(c); /* write phase: 3 s */
    advance_to(f, 20);
    fakeconn_read_str(c, "HTTP/1.1 200 OK\r\n"); /* reading, and bytes still come */
    expect_timeout(f, a, HXC_ETIMEOUT_TOTAL, 25);
    assert_string_equal(a->resp->detail, "the request's total deadline passed");
    assert_true(c->freed);
    fx_free(f);
}

/* Without deadline_after_queue the deadline counts from submission, so a
 * request queued 25 s behind another fails while still queued... */
static void test_deadline_from_submit(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    set_timeouts(f, 0, 0, 0, 100, 25);
    fx_start(f);
    req *a, *b;
    fakeconn *c = one_busy_one_queued(f, &a, &b);
    advance_to(f, 20);
    fakeconn_read_str(c, OK2); /* A done at 20; B takes the connection */
    expect_done(a, 0, 20);
    assert_false(b->done);
    expect_timeout(f, b, HXC_ETIMEOUT_TOTAL, 25);
    fx_free(f);
}

/* ...and with it, the deadline starts when the request leaves the queue. */
static void test_deadline_after_queue(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    f->cfg.deadline_after_queue = 1;
    set_timeouts(f, 0, 0, 0, 100, 25);
    fx_start(f);
    req *a, *b;
    fakeconn *c = one_busy_one_queued(f, &a, &b);
    advance_to(f, 20);
    fakeconn_read_str(c, OK2); /* B leaves the queue at 20: its deadline is 45 */
    expect_done(a, 0, 20);
    assert_int_equal(fakeconn_written_count(c, "GET /b "), 1);
    expect_timeout(f, b, HXC_ETIMEOUT_TOTAL, 45);
    assert_true(c->freed); /* an HTTP/1.1 exchange cannot be abandoned alone */
    fx_free(f);
}

/* ---- idle connections ------------------------------------------------------ */

/* An idle connection expires keepalive_expiry after it became idle, and is
 * closed gracefully. */
static void test_idle_expiry(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.keepalive_expiry = 5;
    fx_start(f);
    req *a = submit(f, "http://a.test/a");
    settle(f);
    fakeconn *c = connect_and_send(f, 0);
    advance_to(f, 1);
    fakeconn_read_str(c, OK2);
    expect_done(a, 0, 1);
    settle(f);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_idle, 1);
    advance_to(f, 5.999);
    assert_false(c->freed);
    advance_to(f, 6.001);
    assert_true(c->freed);
    assert_true(c->graceful);
    s = stats(f);
    assert_int_equal(s.connections_open, 0);
    assert_int_equal(s.connections_idle, 0);
    fx_free(f);
}

/* Idle connections beyond max_idle are closed at the end of the turn (the
 * dispatch task), oldest first, after the callbacks that might reuse them. */
static void test_max_idle_trim_at_end_of_turn(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_idle = 1;
    fx_start(f);
    req *q[3];
    submit_n(f, q, 3, "http://a.test/x");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 3);
    for (unsigned i = 0; i < 3; i++)
        connect_and_send(f, i);
    /* Three responses in one turn: each read callback leaves its connection
     * idle; nothing is trimmed until the turn ends. */
    for (unsigned i = 0; i < 3; i++) {
        fakeconn_read_str(conn(f, i), OK2);
        expect_done(q[i], 0, 0);
    }
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_idle, 3);
    /* A request sent in the same turn takes the first idle one. */
    req *d = submit(f, "http://a.test/d");
    assert_int_equal(fakeconn_written_count(conn(f, 0), "GET /d "), 1);
    for (unsigned i = 0; i < 3; i++)
        assert_false(conn(f, i)->freed);
    settle(f); /* the end of the turn: 2 idle, 1 kept, the older one goes */
    assert_false(conn(f, 0)->freed);
    assert_true(conn(f, 1)->freed);
    assert_true(conn(f, 1)->graceful);
    assert_false(conn(f, 2)->freed);
    s = stats(f);
    assert_int_equal(s.connections_open, 2);
    assert_int_equal(s.connections_idle, 1);
    fakeconn_drain_all(conn(f, 0));
    fakeconn_read_str(conn(f, 0), OK2);
    expect_done(d, 0, 0);
    fx_free(f);
}

/* An idle connection unused for 0.5 s or more is probed before reuse; found
 * dead, it is dropped and the request opens another, failing nothing. One
 * idle for less is not probed. */
static void test_idle_probe(void **state)
{
    (void)state;
    fx *f = fx_new();
    fx_start(f);
    fakeconn *c0 = one_exchange(f, 0);
    advance_to(f, 0.4);
    req *b = submit(f, "http://a.test/b"); /* idle 0.4 s: reused unprobed */
    assert_int_equal(c0->alive_asked, 0);
    assert_int_equal(fakeconn_written_count(c0, "GET /b "), 1);
    fakeconn_drain_all(c0);
    fakeconn_read_str(c0, OK2);
    settle(f);
    advance_to(f, 1);
    c0->alive = 0; /* the server closed it meanwhile, unseen */
    req *c = submit(f, "http://a.test/c");
    assert_int_equal(c0->alive_asked, 1);
    assert_true(c0->freed);
    assert_false(c->done);
    settle(f);
    fakeconn *c1 = connect_and_send(f, 1);
    assert_int_equal(fakeconn_written_count(c1, "GET /c "), 1);
    fakeconn_read_str(c1, OK2);
    expect_done(b, 0, 0);
    expect_done(c, 0, 1);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_opened, 2);
    assert_int_equal(s.connections_reused, 1);
    assert_int_equal(s.requests_retried, 0);
    fx_free(f);
}

/* ---- handoff ------------------------------------------------------------ */

static unsigned b_written_at_a_done;

static void note_b_written(fx *f, req *q)
{
    if (q == &f->reqs[0])
        b_written_at_a_done = fakeconn_written_count(conn(f, 0), "GET /b ");
}

/* A finished response hands its connection to the request queued for the
 * origin, in the same read callback, without a dispatch. */
static void test_handoff(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    fx_start(f);
    req *a, *b;
    fakeconn *c = one_busy_one_queued(f, &a, &b);
    fakeconn_read_str(c, OK2); /* no settle: B must start in this callback */
    expect_done(a, 0, 0);
    assert_int_equal(fakeconn_written_count(c, "GET /b "), 1);
    fakeconn_drain_all(c);
    fakeconn_read_str(c, OK2);
    expect_done(b, 0, 0);
    assert_int_equal(b->resp->conn_id, a->resp->conn_id);
    assert_true(b->resp->timings.reused);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_opened, 1);
    assert_int_equal(s.connections_reused, 1);
    fx_free(f);
}

/* With more bytes possibly following in the same read loop (read_drained 0),
 * the connection is handed over only once the read callback has returned. */
static void test_handoff_after_read(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    fx_start(f);
    req *a, *b;
    fakeconn *c = one_busy_one_queued(f, &a, &b);
    c->read_drained = 0;
    f->on_done = note_b_written;
    b_written_at_a_done = 99;
    fakeconn_read_str(c, OK2);
    expect_done(a, 0, 0);
    assert_int_equal(b_written_at_a_done, 0);                  /* not inside the read... */
    assert_int_equal(fakeconn_written_count(c, "GET /b "), 1); /* ...but right after */
    c->read_drained = 1;
    fakeconn_drain_all(c);
    fakeconn_read_str(c, OK2);
    expect_done(b, 0, 0);
    fx_free(f);
}

/* Bytes that follow a response in the same read loop are never taken for
 * the next request's response: they find no exchange and close the
 * connection; the queued request opens a new one. */
static void test_no_handoff_inside_read(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    fx_start(f);
    req *a, *b;
    fakeconn *c0 = one_busy_one_queued(f, &a, &b);
    c0->read_drained = 0;
    /* Two reads of one read loop: the first ends A's response. */
    fakeconn_read_chunks(
        c0, (const char *const[]){OK2, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbad"}, 2);
    expect_done(a, 0, 0);
    assert_true(c0->freed);
    assert_false(c0->graceful);
    assert_int_equal(fakeconn_written_count(c0, "GET /b "), 0);
    assert_false(b->done);
    settle(f);
    fakeconn *c1 = connect_and_send(f, 1);
    assert_int_equal(fakeconn_written_count(c1, "GET /b "), 1);
    fakeconn_read_str(c1, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood");
    expect_done(b, 0, 0);
    assert_memory_equal(b->resp->body.data, "good", 4);
    fx_free(f);
}

/* ---- the stale keep-alive retry -------------------------------------------- */

/* A reused connection closed before any response byte: an idempotent
 * request goes again, once, on a fresh connection; there a second such
 * close is final. */
static void test_stale_retry_get(void **state)
{
    (void)state;
    fx *f = fx_new();
    fx_start(f);
    fakeconn *c0 = one_exchange(f, 0);
    req *b = submit(f, "http://a.test/b");
    fakeconn_drain_all(c0);                  /* written whole */
    fakeconn_close(c0, 0, "closed by peer"); /* then the server's close */
    assert_false(b->done);
    settle(f);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_retried, 1);
    fakeconn *c1 = connect_and_send(f, 1);
    assert_int_equal(fakeconn_written_count(c1, "GET /b "), 1);
    fakeconn_close(c1, 0, "closed by peer"); /* fresh: never retried */
    expect_done(b, HXC_ECLOSED, 0);
    s = stats(f);
    assert_int_equal(s.requests_retried, 1);
    assert_int_equal(s.connections_opened, 2);
    fx_free(f);
}

/* A POST is not idempotent: written whole, it is not sent again... */
static void test_stale_no_retry_post_written(void **state)
{
    (void)state;
    fx *f = fx_new();
    fx_start(f);
    fakeconn *c0 = one_exchange(f, 0);
    req *b = submit_body(f, "POST", "http://a.test/b", "x=1");
    fakeconn_drain_all(c0);
    fakeconn_close(c0, 0, "closed by peer");
    expect_done(b, HXC_ECLOSED, 0);
    settle(f);
    assert_int_equal(fakenet_count(f->net), 1);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_retried, 0);
    fx_free(f);
}

/* ...but while none of it was taken by the kernel, it is. */
static void test_stale_retry_post_unwritten(void **state)
{
    (void)state;
    fx *f = fx_new();
    fx_start(f);
    fakeconn *c0 = one_exchange(f, 0);
    req *b = submit_body(f, "POST", "http://a.test/b", "x=1");
    fakeconn_close(c0, 0, "closed by peer"); /* nothing drained */
    assert_false(b->done);
    settle(f);
    fakeconn *c1 = connect_and_send(f, 1);
    assert_int_equal(fakeconn_written_count(c1, "POST /b "), 1);
    fakeconn_read_str(c1, OK2);
    expect_done(b, 0, 0);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_retried, 1);
    fx_free(f);
}

/* ---- limits ---------------------------------------------------------------- */

/* max_requests_per_host caps an origin's requests in flight (connecting
 * included); another origin is not held by it. */
static void test_max_requests_per_host(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_per_origin = 2;
    fx_start(f);
    req *q[4];
    submit_n(f, q, 4, "http://a.test/x");
    req *e = submit(f, "http://b.test/e");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 3); /* two for a.test, one for b.test */
    assert_string_equal(conn(f, 2)->host, "b.test");
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_active, 3);
    assert_int_equal(s.requests_queued, 2);
    fakeconn *c0 = connect_and_send(f, 0);
    fakeconn *c1 = connect_and_send(f, 1);
    fakeconn_read_str(c0, OK2); /* room for one more: the third starts on c0 */
    settle(f);
    expect_done(q[0], 0, 0);
    assert_int_equal(fakenet_count(f->net), 3);
    assert_int_equal(fakeconn_written_count(c0, "GET /x "), 2);
    assert_true(q[2]->resp->timings.reused);
    fakeconn_read_str(c1, OK2);
    settle(f);
    assert_int_equal(fakeconn_written_count(c1, "GET /x "), 2);
    s = stats(f);
    assert_int_equal(s.requests_queued, 0);
    fakeconn_drain_all(c0);
    fakeconn_drain_all(c1);
    fakeconn_read_str(c0, OK2);
    fakeconn_read_str(c1, OK2);
    fakeconn *c2 = connect_and_send(f, 2);
    fakeconn_read_str(c2, OK2);
    for (int i = 0; i < 4; i++)
        expect_done(q[i], 0, 0);
    expect_done(e, 0, 0);
    assert_int_equal(fakenet_count(f->net), 3);
    fx_free(f);
}

/* Exact mode opens its count of connections before using any, and no more:
 * the rest wait for room on them. */
static void test_exact_connections(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.exact_conns = 3;
    fx_start(f);
    req *q[5];
    submit_n(f, q, 5, "http://a.test/x");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 3);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_queued, 2);
    for (unsigned i = 0; i < 3; i++)
        connect_and_send(f, i);
    fakeconn_read_str(conn(f, 0), OK2); /* the fourth goes on the first one freed */
    settle(f);
    assert_int_equal(fakeconn_written_count(conn(f, 0), "GET /x "), 2);
    fakeconn_read_str(conn(f, 2), OK2);
    settle(f);
    assert_int_equal(fakeconn_written_count(conn(f, 2), "GET /x "), 2);
    assert_int_equal(fakenet_count(f->net), 3);
    for (unsigned i = 0; i < 3; i++)
        fakeconn_drain_all(conn(f, i));
    for (unsigned i = 0; i < 3; i++)
        fakeconn_read_str(conn(f, i), OK2);
    for (int i = 0; i < 5; i++)
        expect_done(q[i], 0, 0);
    s = stats(f);
    assert_int_equal(s.connections_opened, 3);
    assert_int_equal(s.connections_reused, 2);
    fx_free(f);
}

/* Exact mode with fewer connections allowed than its count uses those it
 * has instead of waiting for a fourth (or closing one to open another). */
static void test_exact_connections_capped(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.exact_conns = 3;
    f->cfg.max_connections = 2;
    fx_start(f);
    req *q[3];
    submit_n(f, q, 3, "http://a.test/x");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 2);
    connect_and_send(f, 0);
    connect_and_send(f, 1);
    fakeconn_read_str(conn(f, 1), OK2);
    settle(f);
    assert_int_equal(fakeconn_written_count(conn(f, 1), "GET /x "), 2);
    fakeconn_drain_all(conn(f, 1));
    fakeconn_read_str(conn(f, 0), OK2);
    fakeconn_read_str(conn(f, 1), OK2);
    for (int i = 0; i < 3; i++)
        expect_done(q[i], 0, 0);
    assert_int_equal(fakenet_count(f->net), 2);
    fx_free(f);
}

/* ---- out of file descriptors ------------------------------------------------ */

/* Fails every connection still connecting with HXC__ENOFD; how many. */
static unsigned fail_connecting(fx *f)
{
    unsigned n = 0;
    for (unsigned i = 0; i < fakenet_count(f->net); i++) {
        fakeconn *c = conn(f, i);
        if (!c->connected && !c->failed && !c->freed) {
            fakeconn_fail(c, HXC__ENOFD, "Too many open files");
            n++;
        }
    }
    return n;
}

/* Sockets fail for want of descriptors: the requests wait (nothing fails),
 * no connection opens beyond the count the pool had, and every 0.1 s half
 * as many again may try, until the cap reaches max_connections. */
static void test_enofd_cap(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->t[HXC_TIMEOUT_POOL] = 30;
    fx_start(f);
    req *x = submit(f, "http://a.test/x");
    req *y = submit(f, "http://a.test/y");
    settle(f);
    connect_and_send(f, 0);
    connect_and_send(f, 1); /* two connections busy */
    req *q[4];
    submit_n(f, q, 4, "http://a.test/q");
    settle(f);
    assert_int_equal(fakenet_count(f->net), 6);
    assert_int_equal(fail_connecting(f), 4);
    settle(f);
    assert_int_equal(fakenet_count(f->net), 6); /* no new attempt before the timer */
    for (int i = 0; i < 4; i++)
        assert_false(q[i]->done);
    assert_int_equal(f->pool->fd_cap, 2);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_queued, 4);
    assert_int_equal(s.connections_open, 2);

    advance_to(f, 0.099);
    assert_int_equal(fakenet_count(f->net), 6);
    advance_to(f, 0.101); /* cap 2 -> 4: two may try */
    assert_int_equal(f->pool->fd_cap, 4);
    assert_int_equal(fakenet_count(f->net), 8);
    connect_and_send(f, 6);
    connect_and_send(f, 7);
    advance_to(f, 0.201); /* cap 4 -> 7: the other two */
    assert_int_equal(f->pool->fd_cap, 7);
    assert_int_equal(fakenet_count(f->net), 10);
    assert_true(f->pool->fd_starved);
    connect_and_send(f, 8);
    connect_and_send(f, 9);
    advance_to(f, 0.301); /* nothing waits any more: the cap ends */
    assert_false(f->pool->fd_starved);
    s = stats(f);
    assert_int_equal(s.requests_queued, 0);
    assert_int_equal(s.connections_open, 6);
    for (unsigned i = 0; i < 10; i++)
        if (!conn(f, i)->failed)
            fakeconn_read_str(conn(f, i), OK2);
    expect_done(x, 0, 0);
    expect_done(y, 0, 0);
    for (int i = 0; i < 4; i++)
        expect_done(q[i], 0, 0.301);
    fx_free(f);
}

/* A request that keeps meeting no descriptor fails at its pool timeout,
 * counted from when it first waited for one (not from its submission, nor
 * from its last attempt). */
static void test_enofd_pool_timeout(void **state)
{
    (void)state;
    fx *f = fx_new();
    set_timeouts(f, 10, 0, 0, 5.07, 0);
    fx_start(f);
    req *a = submit(f, "http://a.test/a");
    settle(f);
    advance_to(f, 1);
    assert_int_equal(fail_connecting(f), 1); /* first wait at 1: fails at 6.07 */
    settle(f);
    advance_to(f, 1.05);
    unsigned attempts = 1;
    /* Steps of 0.1 s, each with one retry of the timer (at 1.1, 1.2, ...),
     * failed at once from the test's side (at 1.15, 1.25, ...). */
    while (!a->done && now(f) < T0 + 7) {
        advance(f, 0.1);
        attempts += fail_connecting(f);
        assert_true(fakenet_live(f->net) <= 1);
    }
    expect_done(a, HXC_ETIMEOUT_POOL, 6.07);
    assert_int_equal(attempts, 51); /* the first, then one per 0.1 s from 1.1 to 6.0 */
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_opened, 51);
    assert_int_equal(s.connections_open, 0);
    fx_free(f);
}

/* ---- cancel ------------------------------------------------------------------ */

static void test_cancel_queued(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    fx_start(f);
    req *a, *b;
    fakeconn *c = one_busy_one_queued(f, &a, &b);
    hxc__pool_cancel(f->pool, b->ex, HXC_ECANCELLED, "cancelled");
    expect_done(b, HXC_ECANCELLED, 0);
    assert_string_equal(b->resp->detail, "cancelled");
    hxc_client_stats s = stats(f);
    assert_int_equal(s.requests_queued, 0);
    assert_false(c->freed);
    fakeconn_read_str(c, OK2);
    expect_done(a, 0, 0);
    settle(f);
    assert_int_equal(fakeconn_written_count(c, "GET /b "), 0);
    fx_free(f);
}

static void test_cancel_connecting(void **state)
{
    (void)state;
    fx *f = fx_new();
    fx_start(f);
    req *a = submit(f, "http://a.test/a");
    settle(f);
    fakeconn *c = conn(f, 0);
    hxc__pool_cancel(f->pool, a->ex, HXC_ECANCELLED, "cancelled");
    expect_done(a, HXC_ECANCELLED, 0);
    assert_true(c->freed);
    assert_false(c->graceful);
    hxc_client_stats s = stats(f);
    assert_int_equal(s.connections_open, 0);
    fx_free(f);
}

/* Cancelling an HTTP/1.1 exchange mid-flight drops its connection; the
 * request queued behind it opens another. */
static void test_cancel_active(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 1;
    fx_start(f);
    req *a, *b;
    fakeconn *c0 = one_busy_one_queued(f, &a, &b);
    fakeconn_read_str(c0, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    hxc__pool_cancel(f->pool, a->ex, HXC_ECANCELLED, "cancelled");
    expect_done(a, HXC_ECANCELLED, 0);
    assert_true(c0->freed);
    assert_false(c0->graceful);
    settle(f);
    fakeconn *c1 = connect_and_send(f, 1);
    assert_int_equal(fakeconn_written_count(c1, "GET /b "), 1);
    fakeconn_read_str(c1, OK2);
    expect_done(b, 0, 0);
    fx_free(f);
}

/* cancel_all (the client's abort) ends queued, connecting and active
 * exchanges alike and closes every connection. */
static void test_cancel_all(void **state)
{
    (void)state;
    fx *f = fx_new();
    f->cfg.max_connections = 2;
    fx_start(f);
    req *q[3];
    submit_n(f, q, 3, "http://a.test/x");
    settle(f);
    connect_and_send(f, 0); /* q0 active, q1 connecting, q2 queued */
    hxc__pool_cancel_all(f->pool, HXC_ECANCELLED, "aborted");
    for (int i = 0; i < 3; i++)
        expect_done(q[i], HXC_ECANCELLED, 0);
    assert_int_equal(fakenet_live(f->net), 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_timeout),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_write_timeout),
        cmocka_unit_test(test_read_timeout),
        cmocka_unit_test(test_total_deadline),
        cmocka_unit_test(test_deadline_from_submit),
        cmocka_unit_test(test_deadline_after_queue),
        cmocka_unit_test(test_idle_expiry),
        cmocka_unit_test(test_max_idle_trim_at_end_of_turn),
        cmocka_unit_test(test_idle_probe),
        cmocka_unit_test(test_handoff),
        cmocka_unit_test(test_handoff_after_read),
        cmocka_unit_test(test_no_handoff_inside_read),
        cmocka_unit_test(test_stale_retry_get),
        cmocka_unit_test(test_stale_no_retry_post_written),
        cmocka_unit_test(test_stale_retry_post_unwritten),
        cmocka_unit_test(test_max_requests_per_host),
        cmocka_unit_test(test_exact_connections),
        cmocka_unit_test(test_exact_connections_capped),
        cmocka_unit_test(test_enofd_cap),
        cmocka_unit_test(test_enofd_pool_timeout),
        cmocka_unit_test(test_cancel_queued),
        cmocka_unit_test(test_cancel_connecting),
        cmocka_unit_test(test_cancel_active),
        cmocka_unit_test(test_cancel_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
