/* SPDX-License-Identifier: MIT */
/*
 * Integration: the API layer's cancel paths (hxc_request_cancel, abort)
 * reached from inside the request's own callbacks (a producer that cancels
 * its request, a body callback that aborts after the response ended, a
 * shared request cancelled from one of its callbacks, paused streams):
 * hxc_request_cancel is "safe from anywhere on the loop's thread, callbacks
 * included".
 */
#include <unistd.h>

#include "itest.h"

ITEST_SERVER_FIXTURE

typedef struct prod {
    hxc_client *client;
    int calls;
    int abort_instead; /* hxc_client_abort rather than hxc_request_cancel */
} prod;

/* A producer that has nothing yet and gives up on its own request: it
 * cancels it, then says "nothing now" (HXC_PAUSE), as it would have if it
 * had not cancelled. */
static int cancel_then_pause(hxc_request *req, uint8_t *buf, size_t len, size_t *written,
                             int *eof, void *ud)
{
    (void)buf, (void)len;
    prod *p = ud;
    p->calls++;
    *written = 0;
    *eof = 0;
    if (p->abort_instead)
        hxc_client_abort(p->client);
    else
        assert_int_equal(hxc_request_cancel(req), 1);
    return HXC_PAUSE;
}

typedef struct ended {
    int done, err;
} ended;

static void ended_cb(hxc_response *r, int err, void *ud)
{
    (void)r;
    ended *e = ud;
    e->done++;
    e->err = err;
}

static void producer_cancels_itself(int abort_instead, int h2)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    itest t;
    itest_open(&t, &cfg);
    prod p = {t.client, 0, abort_instead};
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "PUT", itest_url(&srv, 0, "/echo")), 0);
    assert_int_equal(hxc_request_set_body_producer(req, cancel_then_pause, -1, &p), 0);
    ended e = {0, 0};
    assert_int_equal(hxc_client_send(t.client, req, ended_cb, &e), 0);
    itest_run_until(t.base, &e.done, 1);
    assert_int_equal(p.calls, 1);
    assert_int_equal(e.err, HXC_ECANCELLED);
    itest_close(&t);
}

/* The producer cancels its own request and returns HXC_PAUSE. */
static void test_producer_cancel_then_pause_h1(void **state)
{
    (void)state;
    producer_cancels_itself(0, 0);
}

static void test_producer_cancel_then_pause_h2(void **state)
{
    (void)state;
    producer_cancels_itself(0, 1);
}

/* The same with hxc_client_abort from inside the producer. */
static void test_producer_abort_then_pause(void **state)
{
    (void)state;
    producer_cancels_itself(1, 0);
}

/* ---- a shared request cancelled from its own callbacks ------------------ */

typedef struct shared {
    hxc_request *req;
    int done, ok, cancelled, other;
    int bodies_after_cancel;
    int cancel_rv;
    int cancel_in_body; /* cancel from the first body chunk, not the completion */
} shared;

static int shared_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r, (void)d, (void)n;
    shared *s = ud;
    if (s->cancel_rv != -100)
        s->bodies_after_cancel++;
    else if (s->cancel_in_body)
        s->cancel_rv = hxc_request_cancel(s->req);
    return 0;
}

static void shared_cb(hxc_response *r, int err, void *ud)
{
    (void)r;
    shared *s = ud;
    s->done++;
    if (err == 0)
        s->ok++;
    else if (err == HXC_ECANCELLED)
        s->cancelled++;
    else
        s->other++;
    if (!s->cancel_in_body && s->cancel_rv == -100)
        s->cancel_rv = hxc_request_cancel(s->req); /* alive: its response holds it */
}

/* One request sent three times (one connection, one request in flight: two
 * wait in the queue). The first completion cancels the
 * request: the other two end cancelled, exactly once each. */
static void shared_cancel(int h2, int in_body)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.max_connections = 1;
    cfg.max_requests_per_host = 1; /* h2c too: one at a time */
    itest t;
    itest_open(&t, &cfg);
    shared s;
    memset(&s, 0, sizeof(s));
    s.cancel_rv = -100;
    s.cancel_in_body = in_body;
    assert_int_equal(hxc_request_new(&s.req, "GET", itest_url(&srv, 0, in_body ? "/bytes/300000" : "/delay/30")), 0);
    if (in_body)
        assert_int_equal(hxc_request_on_response_stream(s.req, NULL, shared_body, &s), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(hxc_client_send(t.client, hxc_request_retain(s.req), shared_cb, &s), 0);
    itest_run_until(t.base, &s.done, 3);
    assert_int_equal(s.other, 0);
    if (in_body) {
        assert_int_equal(s.cancel_rv, 3);
        assert_int_equal(s.cancelled, 3);
    } else {
        assert_int_equal(s.cancel_rv, 2);
        assert_int_equal(s.ok, 1);
        assert_int_equal(s.cancelled, 2);
    }
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_queued, 0);
    assert_int_equal(st.requests_active, 0);
    hxc_request_free(s.req);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_shared_cancel_from_own_callback(void **state)
{
    (void)state;
    for (int h2 = 0; h2 < 2; h2++)
        shared_cancel(h2, 0);
}

static void test_shared_cancel_from_own_body(void **state)
{
    (void)state;
    for (int h2 = 0; h2 < 2; h2++)
        shared_cancel(h2, 1);
}

/* ---- cancel of a paused streamed response ----------------------------- */

typedef struct paused {
    hxc_request *req;
    int chunks, done, err;
} paused;

static int pause_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r, (void)d, (void)n;
    paused *p = ud;
    p->chunks++;
    return HXC_PAUSE;
}

static void paused_cb(hxc_response *r, int err, void *ud)
{
    (void)r;
    paused *p = ud;
    p->done++;
    p->err = err;
}

/* A streamed response whose consumer paused at the first chunk, cancelled
 * while the server is still sending (running) or after it has ended (held);
 * the session goes on: its connection window is given back (h2c: two more
 * bodies of 3 MiB each on the same session need it). */
static void paused_cancel(int h2, const char *path)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.max_connections = 1;
    cfg.http2_connection_window = 4u << 20;
    itest t;
    itest_open(&t, &cfg);
    paused p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(hxc_request_new(&p.req, "GET", itest_url(&srv, 0, path)), 0);
    assert_int_equal(hxc_request_on_response_stream(p.req, NULL, pause_body, &p), 0);
    assert_int_equal(hxc_client_send(t.client, hxc_request_retain(p.req), paused_cb, &p), 0);
    itest_run_until(t.base, &p.chunks, 1);
    for (int i = 0; i < 50; i++) { /* let the server send what the windows allow */
        event_base_loop(t.base, EVLOOP_NONBLOCK);
        usleep(2000);
    }
    assert_int_equal(p.done, 0);
    assert_int_equal(hxc_request_cancel(p.req), 1);
    itest_run_until(t.base, &p.done, 1);
    assert_int_equal(p.err, HXC_ECANCELLED);
    assert_int_equal(p.chunks, 1);
    hxc_request_free(p.req);
    for (int i = 0; i < 2; i++) {
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/bytes/3000000"), NULL);
        itest_assert_ok(f, 200);
        hxc_future_free(f);
    }
    itest_close(&t);
}

static void test_cancel_paused_stream(void **state)
{
    (void)state;
    for (int h2 = 0; h2 < 2; h2++) {
        paused_cancel(h2, "/bytes/3000000"); /* still running */
        paused_cancel(h2, "/bytes/1000");    /* finished: held */
    }
}

/* ---- HTTP/2: a stream cancelled before its HEADERS left ------------------ */

static long live_blocks;

static void *c_malloc(size_t n, void *ud)
{
    (void)ud;
    void *p = malloc(n);
    if (p)
        live_blocks++;
    return p;
}

static void *c_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    void *q = realloc(p, n);
    if (q && !p)
        live_blocks++;
    return q;
}

static void c_free(void *p, void *ud)
{
    (void)ud;
    if (p)
        live_blocks--;
    free(p);
}

/* Sends a request on the open h2c session and cancels it at once, before
 * the loop runs (its HEADERS are still queued in nghttp2), `n` times. */
static void send_and_cancel(itest *t, const char *url, int n)
{
    for (int i = 0; i < n; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", url), 0);
        ended e = {0, 0};
        assert_int_equal(hxc_client_send(t->client, hxc_request_retain(req), ended_cb, &e), 0);
        assert_int_equal(hxc_request_cancel(req), 1);
        hxc_request_free(req);
        itest_run_until(t->base, &e.done, 1);
        assert_int_equal(e.err, HXC_ECANCELLED);
    }
}

/* The library's memory must not grow with the number of such cancels on
 * one long-lived session: the stream record of a request cancelled before
 * its HEADERS were sent is never freed (nghttp2 drops the queued HEADERS
 * without closing a stream, so no on_stream_close ever frees it) until the
 * session ends. */
static void test_h2_cancel_before_send_does_not_grow(void **state)
{
    (void)state;
    hxc_allocator a = {c_malloc, c_realloc, c_free, NULL};
    hxc_set_allocator(&a);
    live_blocks = 0;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    itest t;
    itest_open(&t, &cfg);
    const char *url = itest_url(&srv, 0, "/hello");
    hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    send_and_cancel(&t, url, 50); /* warm: caches filled */
    long before = live_blocks;
    send_and_cancel(&t, url, 2000);
    long grown = live_blocks - before;
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    itest_close(&t);
    hxc_set_allocator(NULL);
    print_message("%ld blocks more after 2000 cancels (%llu connections opened)\n", grown,
                  (unsigned long long)st.connections_opened);
    assert_int_equal(st.connections_opened, 1);
    if (grown > 100)
        fail_msg("2000 cancels before sending left %ld more blocks allocated", grown);
}

/* ---- a body callback's abort when the exchange has already ended -------- */

static int abort_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r, (void)d, (void)n;
    (*(int *)ud)++;
    return HXC_ECANCELLED; /* "a negative hxc error to abort the request with that error" */
}

/* A small response arrives whole in one read: by the time its body callback
 * runs the exchange is over, so the abort it returns reaches no exchange
 * (stream_abort needs call->ex) and the response is delivered as a
 * success, though the callback aborted it. */
static void test_body_abort_after_end(void **state)
{
    (void)state;
    for (int h2 = 0; h2 < 2; h2++) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.http2_prior_knowledge = h2;
        itest t;
        itest_open(&t, &cfg);
        int calls = 0;
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/hello")), 0);
        assert_int_equal(hxc_request_on_response_stream(req, NULL, abort_body, &calls), 0);
        ended e = {0, 0};
        assert_int_equal(hxc_client_send(t.client, req, ended_cb, &e), 0);
        itest_run_until(t.base, &e.done, 1);
        itest_close(&t);
        assert_int_equal(calls, 1);
        if (e.err != HXC_ECANCELLED)
            fail_msg("h2=%d: the body callback aborted, the request ended with %s", h2,
                     e.err ? hxc_error_name(e.err) : "success");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_abort_after_end),
        cmocka_unit_test(test_h2_cancel_before_send_does_not_grow),
        cmocka_unit_test(test_shared_cancel_from_own_callback),
        cmocka_unit_test(test_shared_cancel_from_own_body),
        cmocka_unit_test(test_cancel_paused_stream),
        cmocka_unit_test(test_producer_cancel_then_pause_h1),
        cmocka_unit_test(test_producer_cancel_then_pause_h2),
        cmocka_unit_test(test_producer_abort_then_pause),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
