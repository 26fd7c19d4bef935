/* SPDX-License-Identifier: MIT */
/*
 * Integration, through the public API: a streamed upload whose producer paused
 * (HXC_PAUSE: nothing to send yet) is refused twice by an HTTP/2 server
 * (RST_STREAM REFUSED_STREAM, sent before any byte of the body), so it
 * waits in its backoff; the caller resumes the producer meanwhile
 * (hxc_request_resume_body). The request then runs again and the server
 * never answers it: the client's read timeout (0.5 s) must end it.
 *
 * The resume is made when the client's statistics show the request out of
 * any connection (in its backoff of about a second): no timing is assumed.
 * A hang shows as the request still running 10 s later.
 */
#include <stdatomic.h>
#include <time.h>

#include "itest.h"
#include "rawpeer.h"

static atomic_int heads;

/* Refuses the first two requests (REFUSED_STREAM), then reads and says
 * nothing, until the test stops it. */
static void refuse_twice_then_silence(rawpeer *p, int fd, int index, void *arg)
{
    (void)index, (void)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    rawpeer_frame *f = malloc(sizeof(*f));
    while (f != NULL && !rawpeer_stopping(p)) {
        if (rawpeer_h2_recv(p, fd, f, 200) != 0)
            continue;
        if (f->type != RAWPEER_HEADERS)
            continue;
        if (atomic_fetch_add(&heads, 1) < 2) {
            uint8_t code[4] = {0, 0, 0, 7};
            rawpeer_h2_send(p, fd, RAWPEER_RST_STREAM, 0, f->stream, code, 4);
        }
    }
    free(f);
}

static int calls, resumed;

/* Nothing to send until resumed; then "hello", the whole body. */
static int producer(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof, void *ud)
{
    (void)req, (void)len, (void)ud;
    calls++;
    if (!resumed)
        return HXC_PAUSE;
    memcpy(buf, "hello", 5);
    *written = 5;
    *eof = 1;
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void loop_once(struct event_base *base)
{
    struct timeval tick = {0, 10000};
    event_base_loopexit(base, &tick);
    event_base_loop(base, EVLOOP_ONCE);
}

static void test_resume_during_backoff_keeps_timeouts(void **state)
{
    (void)state;
    rawpeer *peer = rawpeer_start(refuse_twice_then_silence, NULL);
    assert_non_null(peer);
    char url[128];
    rawpeer_url(peer, "/up", url, sizeof(url));
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.read_timeout = cfg.write_timeout = 0.5;
    cfg.total_timeout = 1000; /* a backoff base of 1 s (its thousandth, at most 1 s) */
    itest t;
    itest_open(&t, &cfg);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", url), 0);
    assert_int_equal(hxc_request_set_body_producer(req, producer, 5, NULL), 0);
    hxc_future *fut = hxc_client_request(t.client, req);
    assert_non_null(fut);

    /* Until the server has refused it twice and it waits in its backoff. */
    double start = now_s();
    hxc_client_stats s;
    for (;;) {
        loop_once(t.base);
        hxc_client_get_stats(t.client, &s);
        if (atomic_load(&heads) >= 2 && s.requests_active == 0 && s.requests_queued == 1)
            break;
        if (hxc_future_done(fut) || now_s() - start > 10)
            fail_msg("never saw the request in its backoff (done %d)", hxc_future_done(fut));
    }
    assert_true(calls >= 1); /* it paused while it ran */
    resumed = 1;
    assert_int_equal(hxc_request_resume_body(req), 0);

    double resumed_at = now_s();
    while (!hxc_future_done(fut) && now_s() - resumed_at < 10)
        loop_once(t.base);
    int done = hxc_future_done(fut);
    int err = done ? hxc_future_error(fut) : 0;
    double took = now_s() - resumed_at;
    if (!done)
        hxc_client_abort(t.client);
    hxc_future_free(fut);
    itest_close(&t);
    rawpeer_stop(peer);
    if (!done)
        fail_msg("sent again (third request head seen: %d), the request still ran 10 s after "
                 "the resume: no read timeout (0.5 s) ran for it",
                 atomic_load(&heads) >= 3);
    assert_int_equal(err, HXC_ETIMEOUT_READ);
    assert_true(took < 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_during_backoff_keeps_timeouts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
