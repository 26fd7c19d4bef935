/* SPDX-License-Identifier: MIT */
/*
 * Integration: flow: the reactor's deferred queues (a zero-delay
 * timer for what waits for the next turn) and a client that ends while its
 * transports hold bytes over the mark.
 *
 * - After uploads and downloads that went through the marks and budgets
 *   (HTTP/1.1 and HTTP/2, cleartext and TLS), an idle client whose
 *   connections have expired leaves nothing armed: the caller's loop runs
 *   dry (event_base_loop returns 1) in a few turns, not spinning on the
 *   zero-delay timer.
 * - A response callback aborts and closes the client while another
 *   exchange's upload is stuck over the mark (a peer that stopped reading),
 *   over HTTP/1.1 and HTTP/2: the client is freed from its deferred close
 *   task with those bytes still queued; the sanitizers watch, and the loop
 *   runs dry afterwards.
 * - A producer aborts the client from inside its call.
 * - The stuck upload is cancelled, then the client is closed gracefully:
 *   the close completes at once.
 */
#include <unistd.h>

#include "flowpeers.h"

static testsrv srv;

static int setup(void **state)
{
    (void)state;
    return testsrv_start_tls(&srv, "server", NULL);
}

static int teardown(void **state)
{
    (void)state;
    testsrv_stop(&srv);
    return 0;
}

/* Runs the loop until it has nothing left (1) or `seconds` passed (0);
 * `*turns` counts the loop's turns. */
static int run_dry(struct event_base *base, double seconds, int *turns)
{
    double end = rf_now() + seconds;
    *turns = 0;
    while (rf_now() < end) {
        int rv = event_base_loop(base, EVLOOP_ONCE);
        ++*turns;
        if (rv == 1)
            return 1;
        if (rv < 0)
            return 0;
    }
    return 0;
}

/* ---- an idle client lets the loop run dry --------------------------------- */

static void test_idle_client_lets_the_loop_run_dry(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    char ca[512];
    snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
    cfg.ca_file = ca;
    cfg.http2 = 1; /* TLS: h2; cleartext: HTTP/1.1 */
    cfg.keepalive_expiry = 0.3;
    itest t;
    itest_open(&t, &cfg);
    for (int tls = 0; tls <= 1; tls++) {
        /* Past the 1 MiB read budget, and an upload past the write mark to a
         * server that reads 16 KiB per loop turn. */
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, tls, "/bytes/3000000"), NULL);
        itest_assert_ok(f, 200);
        hxc_future_free(f);
        rf_producer p = {2u << 20, 0};
        f = rf_start_upload(t.client, itest_url(&srv, tls, "/echo"), &p);
        assert_int_equal(hxc_future_wait(f), 0);
        itest_assert_ok(f, 200);
        assert_string_equal(hxc_response_http_version(hxc_future_response(f)),
                            tls ? "HTTP/2" : "HTTP/1.1");
        hxc_future_free(f);
    }
    /* Nothing in flight: once the connections expire (0.3 s), nothing of the
     * client is armed and the loop has nothing to run. */
    int turns;
    double t0 = rf_now();
    int dry = run_dry(t.base, 10, &turns);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    print_message("idle client: the loop %s after %.2f s and %d turns, %llu connections open\n",
                  dry ? "ran dry" : "still had work", rf_now() - t0, turns,
                  (unsigned long long)st.connections_open);
    itest_close(&t);
    assert_true(dry);
    assert_int_equal(st.connections_open, 0);
    assert_true(turns < 1000);
}

/* ---- the client closed while bytes are stuck over the mark --------------- */

static int speak_h2;

/* Takes the request (HTTP/1.1: its head; HTTP/2, `arg` == &speak_h2: its
 * HEADERS, windows opened wide) and stops reading for good. */
static void stuck_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    if (arg == &speak_h2) {
        if (rf_accept_wide(p, fd) != 0 || rawpeer_h2_next_request(p, fd, 5000) < 0)
            return;
    } else {
        char head[8192];
        if (rawpeer_recv_head(p, fd, head, sizeof(head), 5000) <= 0)
            return;
    }
    rf_stop_reading(fd);
    rawpeer_hold(p, -1);
}

/* HTTP/2: answers every request "ok" (HTTP/1.1 goes to the test server). */
static void ok_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    (void)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    for (;;) {
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        if (id < 0 || rawpeer_h2_respond(p, fd, (uint32_t)id, 200, 0, NULL) != 0 ||
            rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, (uint32_t)id, "ok", 2) != 0)
            return;
    }
}

typedef struct ending {
    hxc_client *client;
    int closed;
    int upload_done, upload_err;
    int get_done, get_err;
    rf_producer up;
    int abort_at; /* the producer aborts the client at this call (0: never) */
    int calls;
} ending;

static void closed_cb(hxc_client *c, void *ud)
{
    (void)c;
    ((ending *)ud)->closed = 1;
}

static void upload_cb(hxc_response *r, int err, void *ud)
{
    (void)r;
    ending *e = ud;
    e->upload_done = 1;
    e->upload_err = err;
}

/* The GET's callback ends the client at once: abort, then close. */
static void get_cb(hxc_response *r, int err, void *ud)
{
    (void)r;
    ending *e = ud;
    e->get_done = 1;
    e->get_err = err;
    hxc_client_abort(e->client);
    assert_int_equal(hxc_client_close(e->client, closed_cb, e), 0);
}

static int produce_and_abort(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof,
                             void *ud)
{
    ending *e = ud;
    if (++e->calls == e->abort_at) {
        hxc_client_abort(e->client);
        assert_int_equal(hxc_client_close(e->client, closed_cb, e), 0);
    }
    return rf_produce(req, buf, len, written, eof, &e->up);
}

/* An upload of 1 GiB to a peer that stops reading; once the client's queue
 * is over the mark (the producer is no longer called), a GET whose callback
 * (or, with `abort_at`, the producer itself) aborts and closes the client.
 * The client must end, free everything (ASan), and leave the loop dry. */
static void end_with_bytes_stuck(int h2, int abort_at)
{
    rawpeer *stuck = rawpeer_start(stuck_script, h2 ? &speak_h2 : NULL);
    rawpeer *ok = h2 ? rawpeer_start(ok_script, NULL) : NULL;
    assert_non_null(stuck);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.write_timeout = 30;
    struct event_base *base = event_base_new();
    ending e;
    memset(&e, 0, sizeof(e));
    e.up.total = 1ull << 30;
    e.abort_at = abort_at;
    assert_int_equal(hxc_client_open(&e.client, base, &cfg), 0);
    char url[128];
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", rawpeer_url(stuck, "/up", url, sizeof(url))), 0);
    assert_int_equal(hxc_request_set_body_producer(req, produce_and_abort, (int64_t)e.up.total, &e),
                     0);
    assert_int_equal(hxc_client_send(e.client, req, upload_cb, &e), 0);
    /* Until the producer has stopped being called for a while: the queue
     * is over the mark and the socket takes nothing. */
    uint64_t seen = 0;
    for (int quiet = 0; quiet < 20 && !e.closed && !e.upload_done;) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(5000);
        quiet = e.up.produced == seen ? quiet + 1 : 0;
        seen = e.up.produced;
    }
    if (abort_at == 0) {
        const char *get_url =
            h2 ? rawpeer_url(ok, "/ok", url, sizeof(url)) : itest_url(&srv, 0, "/hello");
        assert_int_equal(hxc_request_new(&req, "GET", get_url), 0);
        assert_int_equal(hxc_client_send(e.client, req, get_cb, &e), 0);
    }
    for (double end = rf_now() + 10; !e.closed && rf_now() < end;)
        event_base_loop(base, EVLOOP_ONCE);
    int turns = 0, dry = e.closed ? run_dry(base, 5, &turns) : 0;
    print_message("%s, %s: closed %d, upload %s after %llu KiB, GET %s; the loop %s in %d "
                  "turns\n",
                  h2 ? "HTTP/2" : "HTTP/1.1",
                  abort_at ? "aborted by the producer" : "aborted by a response callback", e.closed,
                  hxc_error_name(e.upload_err), (unsigned long long)(e.up.produced >> 10),
                  e.get_done ? hxc_error_name(e.get_err) : "not sent", dry ? "ran dry" : "did not",
                  turns);
    event_base_free(base);
    rawpeer_stop(stuck);
    rawpeer_stop(ok);
    assert_true(e.closed);
    assert_true(e.upload_done);
    assert_int_equal(e.upload_err, HXC_ECANCELLED);
    if (abort_at == 0)
        assert_int_equal(e.get_err, 0);
    assert_true(e.up.produced < e.up.total);
    assert_true(dry);
}

static void test_h1_closed_from_a_callback_with_bytes_stuck(void **state)
{
    (void)state;
    end_with_bytes_stuck(0, 0);
}

static void test_h2_closed_from_a_callback_with_bytes_stuck(void **state)
{
    (void)state;
    end_with_bytes_stuck(1, 0);
}

static void test_aborted_by_the_producer(void **state)
{
    (void)state;
    end_with_bytes_stuck(0, 3);
    end_with_bytes_stuck(1, 3);
}

/* ---- a graceful close with bytes stuck ------------------------------------ */

/* The upload to a peer that stopped reading is cancelled (its bytes stay in
 * the connection's queue), then the client is closed gracefully: nothing is
 * in flight, so the close completes at once, not when the stuck connection
 * would have expired (keepalive 30 s), and the loop runs dry. */
static void close_after_cancel(int h2)
{
    rawpeer *stuck = rawpeer_start(stuck_script, h2 ? &speak_h2 : NULL);
    assert_non_null(stuck);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.keepalive_expiry = 30;
    struct event_base *base = event_base_new();
    ending e;
    memset(&e, 0, sizeof(e));
    e.up.total = 1ull << 30;
    assert_int_equal(hxc_client_open(&e.client, base, &cfg), 0);
    char url[128];
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", rawpeer_url(stuck, "/up", url, sizeof(url))), 0);
    assert_int_equal(hxc_request_set_body_producer(req, produce_and_abort, (int64_t)e.up.total, &e),
                     0);
    assert_int_equal(hxc_client_send(e.client, req, upload_cb, &e), 0);
    uint64_t seen = 0;
    for (int quiet = 0; quiet < 20 && !e.upload_done;) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(5000);
        quiet = e.up.produced == seen ? quiet + 1 : 0;
        seen = e.up.produced;
    }
    assert_int_equal(hxc_request_cancel(req), 1);
    for (int i = 0; i < 100 && !e.upload_done; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    hxc_client_stats st;
    hxc_client_get_stats(e.client, &st);
    double t0 = rf_now();
    assert_int_equal(hxc_client_close(e.client, closed_cb, &e), 0);
    for (double end = rf_now() + 10; !e.closed && rf_now() < end;)
        event_base_loop(base, EVLOOP_ONCE);
    double took = rf_now() - t0;
    int turns = 0, dry = e.closed ? run_dry(base, 5, &turns) : 0;
    print_message("%s: upload %s, %llu connection(s) open with bytes stuck; closed %d after "
                  "%.2f s; the loop %s\n",
                  h2 ? "HTTP/2" : "HTTP/1.1", hxc_error_name(e.upload_err),
                  (unsigned long long)st.connections_open, e.closed, took,
                  dry ? "ran dry" : "did not run dry");
    event_base_free(base);
    rawpeer_stop(stuck);
    assert_true(e.upload_done);
    assert_int_equal(e.upload_err, HXC_ECANCELLED);
    assert_true(e.closed);
    assert_true(took < 5);
    assert_true(dry);
}

static void test_graceful_close_after_cancel_with_bytes_stuck(void **state)
{
    (void)state;
    close_after_cancel(0);
    close_after_cancel(1);
}

int main(void)
{
    rf_meter_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_client_lets_the_loop_run_dry),
        cmocka_unit_test(test_h1_closed_from_a_callback_with_bytes_stuck),
        cmocka_unit_test(test_h2_closed_from_a_callback_with_bytes_stuck),
        cmocka_unit_test(test_aborted_by_the_producer),
        cmocka_unit_test(test_graceful_close_after_cancel_with_bytes_stuck),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
