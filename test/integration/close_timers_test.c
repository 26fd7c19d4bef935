/* SPDX-License-Identifier: MIT */
/*
 * Integration: a client closed gracefully while timers of every kind are or were
 * armed (read timeouts of several durations, so several FIFOs and records'
 * own timers; a total deadline; idle connections with their expiry and
 * HTTP/2 PINGs; a refused stream's backoff) leaves nothing on the caller's
 * loop: once the close callback has run, the loop has no event left, and
 * event_base_dispatch returns at once instead of waiting for a timer.
 */
#include <time.h>

#include "itest.h"

static testsrv srv;

static int setup(void **state)
{
    (void)state;
    return testsrv_start(&srv, NULL);
}

static int teardown(void **state)
{
    (void)state;
    testsrv_stop(&srv);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ended;

static void count_cb(hxc_response *r, int err, void *ud)
{
    (void)r, (void)err, (void)ud;
    ended++;
}

/* GET `path` with a read timeout of `read` and a total deadline of `total`
 * (0: the client's), by callback. */
static void send_get(itest *t, const char *path, double read, double total)
{
    hxc_request *req;
    char url[256];
    assert_int_equal(hxc_request_new(&req, "GET", testsrv_url(&srv, 0, path, url, sizeof(url))), 0);
    if (read > 0)
        assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_READ, read), 0);
    if (total > 0)
        assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, total), 0);
    assert_int_equal(hxc_client_send(t->client, req, count_cb, NULL), 0);
}

static void close_leaves_nothing(int h2)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.http2_ping_interval = h2 ? 0.2 : 0;
    cfg.keepalive_expiry = 60; /* idle connections are still open at the close */
    cfg.read_timeout = 30;
    cfg.total_timeout = 60;
    itest t;
    itest_open(&t, &cfg);
    ended = 0;
    int sent = 0;
    /* Twelve distinct read timeouts on requests that never get an answer:
     * more durations than the reactor has FIFOs. */
    for (int i = 0; i < 12; i++, sent++)
        send_get(&t, "/hang", 0.2 + 0.02 * i, 0);
    for (int i = 0; i < 4; i++, sent++)
        send_get(&t, "/hello", 0, 0);
    if (h2) { /* refused again and again: backoffs, until its deadline */
        send_get(&t, "/reset?code=7", 0, 1);
        sent++;
    }
    double start = now_s();
    while (ended < sent && now_s() - start < 20)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_int_equal(ended, sent);
    /* One more still waits when the client closes: it ends by its timeout. */
    send_get(&t, "/hang", 0.3, 0);
    sent++;
    assert_int_equal(hxc_client_close(t.client, itest_closed_cb, &t), 0);
    start = now_s();
    while (!t.closed && now_s() - start < 20)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_true(t.closed);
    assert_int_equal(ended, sent);
    int left = event_base_get_num_events(t.base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE);
    double before = now_s();
    event_base_dispatch(t.base); /* must return at once: nothing is left */
    double waited = now_s() - before;
    event_base_free(t.base);
    if (left != 0 || waited > 1)
        fail_msg("after the close: %d event(s) left on the loop, dispatch returned after %.2f s",
                 left, waited);
}

static void test_close_h1(void **state)
{
    (void)state;
    close_leaves_nothing(0);
}

static void test_close_h2(void **state)
{
    (void)state;
    close_leaves_nothing(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_h1),
        cmocka_unit_test(test_close_h2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
