/* SPDX-License-Identifier: MIT */
/*
 * Integration: the pool under bulk load. Connections are reused by the
 * requests that queue for them (never closed as "excess idle" while their
 * origin has work), bulk submission does not time out in the queue when the
 * caller says so, a per-origin cap on requests in flight holds, and requests
 * can be cancelled one by one in callback style.
 */
#include "itest.h"

#define NSRV 20

static testsrv srv[NSRV];

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < NSRV; i++)
        if (testsrv_start(&srv[i], NULL) != 0)
            return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NSRV; i++)
        testsrv_stop(&srv[i]);
    return 0;
}

/* Keeps `window` requests in flight until `total` have been sent, each
 * response callback sending the next, as a crawler does. */
typedef struct feeder {
    hxc_client *client;
    const char *const *urls;
    int nurls;
    int sent, total, done, ok;
    int same_origin; /* the next request goes where the last one went */
    int first_err;
    char first_detail[256];
} feeder;

static void feed(feeder *f, int which);

static void fed_cb(hxc_response *r, int err, void *ud)
{
    feeder *f = ud;
    f->done++;
    if (err == 0 && hxc_response_status(r) == 200)
        f->ok++;
    else if (f->first_err == 0) {
        f->first_err = err;
        snprintf(f->first_detail, sizeof(f->first_detail), "%s", hxc_response_error_detail(r));
    }
    if (f->sent < f->total)
        feed(f, f->same_origin ? (int)(intptr_t)hxc_request_user_data(hxc_response_request(r))
                               : f->sent % f->nurls);
}

static void feed(feeder *f, int which)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", f->urls[which]), 0);
    hxc_request_set_user_data(req, (void *)(intptr_t)which);
    f->sent++;
    assert_int_equal(hxc_client_send(f->client, req, fed_cb, f), 0);
}

static void run_feeder(itest *t, feeder *f, int window)
{
    f->client = t->client;
    for (int i = 0; i < window && f->sent < f->total; i++)
        feed(f, f->sent % f->nurls);
    itest_run_until(t->base, &f->done, f->total);
    if (f->ok != f->total)
        fail_msg("%d of %d failed, first: %s (%s)", f->total - f->ok, f->total,
                 hxc_error_name(f->first_err), f->first_detail);
}

/* More requests than connections, with the default limits (100 connections,
 * 20 idle): a connection that finishes while requests wait is handed the
 * next one, never closed as excess idle. */
static void test_queue_reuses_connections(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    const char *url = itest_url(&srv[0], 0, "/hello");
    feeder f = {.urls = &url, .nurls = 1, .total = 5000};
    run_feeder(&t, &f, 150);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_true(st.connections_opened <= 100);
    itest_close(&t);
}

static const char *const *origin_urls(const char *path)
{
    static char urls[NSRV][128];
    static const char *u[NSRV];
    for (int i = 0; i < NSRV; i++)
        u[i] = testsrv_url(&srv[i], 0, path, urls[i], sizeof(urls[i]));
    return u;
}

static uint64_t opened(itest *t)
{
    hxc_client_stats st;
    hxc_client_get_stats(t->client, &st);
    return st.connections_opened;
}

/* A crawler over NSRV origins keeping 3 requests in flight on each (each
 * response starts the next request to its origin): 3 * NSRV connections in
 * all, whatever max_idle_connections (20) says. */
static void test_crawler_connections(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    feeder f = {.urls = origin_urls("/delay/2"), .nurls = NSRV, .total = 3000, .same_origin = 1};
    run_feeder(&t, &f, 3 * NSRV);
    if (opened(&t) > 3 * NSRV + 5)
        fail_msg("%llu connections opened", (unsigned long long)opened(&t));
    itest_close(&t);
}

/* Bulk submission over NSRV origins, 5 connections each: every request
 * queued at once is carried by those connections. */
static void test_bulk_connections(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections_per_host = 5;
    itest t;
    itest_open(&t, &cfg);
    feeder f = {.urls = origin_urls("/delay/2"), .nurls = NSRV, .total = 3000};
    run_feeder(&t, &f, 3000);
    if (opened(&t) > 5 * NSRV)
        fail_msg("%llu connections opened", (unsigned long long)opened(&t));
    itest_close(&t);
}

/* Bulk submission to one slow origin: 600 requests behind 10 connections
 * queue for over a second. A total deadline of 0.5 s counted from submission
 * fails most of them in the queue; counted from the queue's end
 * (deadline_after_queue, pool_timeout 0) every one succeeds. */
static void test_bulk_deadline_after_queue(void **state)
{
    (void)state;
    const char *url = itest_url(&srv[0], 0, "/delay/20");
    for (int after = 0; after < 2; after++) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.max_connections_per_host = 10;
        cfg.total_timeout = 0.5;
        cfg.pool_timeout = 0;
        cfg.deadline_after_queue = after;
        itest t;
        itest_open(&t, &cfg);
        itest_counter c;
        itest_counter_init(&c, NULL, -1);
        itest_burst(&t, url, 600, &c);
        if (after)
            assert_int_equal(c.ok, 600);
        else
            assert_true(c.failed > 300 && c.first_err == HXC_ETIMEOUT_TOTAL);
        itest_close(&t);
    }
}

/* max_requests_per_host caps the requests in flight to an origin, over
 * HTTP/1.1 (connections) and over one HTTP/2 session (streams). */
static void test_requests_per_host(void **state)
{
    (void)state;
    for (int h2 = 0; h2 < 2; h2++) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.max_requests_per_host = 7;
        cfg.http2_prior_knowledge = h2;
        itest t;
        itest_open(&t, &cfg);
        assert_int_equal(testsrv_stats_reset(&srv[1]), 0);
        itest_counter c;
        itest_counter_init(&c, h2 ? "HTTP/2" : "HTTP/1.1", -1);
        itest_burst(&t, itest_url(&srv[1], 0, "/delay/10"), 200, &c);
        assert_int_equal(c.ok, 200);
        long most = testsrv_stat(&srv[1], "max_open_streams");
        if (h2)
            assert_true(most >= 1 && most <= 7);
        else
            assert_true(opened(&t) <= 7);
        itest_close(&t);
    }
}

/* ---- hxc_request_cancel: cancelling one send in callback style ---------- */

typedef struct cancels {
    int done, cancelled, ok;
    hxc_request *victim; /* cancelled from the first response's callback */
    int cancelled_by_cb;
} cancels;

static void cancel_cb(hxc_response *r, int err, void *ud)
{
    cancels *k = ud;
    k->done++;
    if (err == HXC_ECANCELLED)
        k->cancelled++;
    else if (err == 0 && hxc_response_status(r) == 200)
        k->ok++;
    if (k->victim != NULL) { /* from inside a callback: allowed */
        k->cancelled_by_cb = hxc_request_cancel(k->victim);
        hxc_request_free(k->victim);
        k->victim = NULL;
    }
}

static void on_timer_cancel(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    assert_int_equal(hxc_request_cancel(arg), 1);
}

static void test_request_cancel(void **state)
{
    (void)state;
    for (int h2 = 0; h2 < 2; h2++) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.http2_prior_knowledge = h2;
        cfg.max_connections = 2; /* so that one request queues (HTTP/1.1) */
        itest t;
        itest_open(&t, &cfg);
        cancels k;
        memset(&k, 0, sizeof(k));
        /* A request that hangs, cancelled from a libevent timer of the caller's. */
        hxc_request *hang, *quick, *queued, *shared;
        assert_int_equal(hxc_request_new(&hang, "GET", itest_url(&srv[2], 0, "/hang")), 0);
        assert_int_equal(hxc_client_send(t.client, hxc_request_retain(hang), cancel_cb, &k), 0);
        /* A quick one whose callback cancels a queued or running third one. */
        assert_int_equal(hxc_request_new(&quick, "GET", itest_url(&srv[2], 0, "/delay/50")), 0);
        assert_int_equal(hxc_client_send(t.client, quick, cancel_cb, &k), 0);
        assert_int_equal(hxc_request_new(&queued, "GET", itest_url(&srv[2], 0, "/hang")), 0);
        k.victim = hxc_request_retain(queued);
        assert_int_equal(hxc_client_send(t.client, queued, cancel_cb, &k), 0);
        /* One request sent three times at once: one cancel ends all three. */
        assert_int_equal(hxc_request_new(&shared, "GET", itest_url(&srv[2], 0, "/hang")), 0);
        for (int i = 0; i < 3; i++)
            assert_int_equal(hxc_client_send(t.client, hxc_request_retain(shared), cancel_cb, &k),
                             0);
        struct event *ev = evtimer_new(t.base, on_timer_cancel, hang);
        struct timeval tv = {0, 100000};
        evtimer_add(ev, &tv);
        itest_run_until(t.base, &k.done, 3);
        assert_int_equal(k.ok, 1);
        assert_int_equal(k.cancelled, 2); /* the queued one and the hanging one */
        assert_int_equal(k.cancelled_by_cb, 1);
        assert_int_equal(hxc_request_cancel(hang), 0); /* delivered: nothing left */
        assert_int_equal(hxc_request_cancel(shared), 3);
        itest_run_until(t.base, &k.done, 6);
        assert_int_equal(k.cancelled, 5);
        assert_int_equal(hxc_request_cancel(shared), 0);
        assert_int_equal(hxc_request_cancel(NULL), HXC_EINVAL);
        event_free(ev);
        hxc_request_free(hang);
        hxc_request_free(shared);
        /* The client goes on. */
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv[2], 0, "/hello"), NULL);
        itest_assert_ok(f, 200);
        hxc_future_free(f);
        itest_close(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_reuses_connections),
        cmocka_unit_test(test_crawler_connections),
        cmocka_unit_test(test_bulk_connections),
        cmocka_unit_test(test_bulk_deadline_after_queue),
        cmocka_unit_test(test_requests_per_host),
        cmocka_unit_test(test_request_cancel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
