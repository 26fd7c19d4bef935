/* SPDX-License-Identifier: MIT */
/*
 * Integration: allocation failures (nghttp2's failmalloc idea). The library's
 * allocator hook fails the N-th allocation, for every N along a complete
 * exchange (client open, HTTP/1.1 and HTTP/2 requests, close): each run must
 * end cleanly, with a response or with an error, never a crash, a hang or a
 * leak (the ASan build checks the last two). Also along the pool's queue:
 * handoff, the per-origin cap, deadline_after_queue, cancel from a callback.
 */
#include <stdlib.h>

#include "itest.h"

static long alloc_count, fail_at;

static void *f_malloc(size_t n, void *ud)
{
    (void)ud;
    if (++alloc_count == fail_at)
        return NULL;
    return malloc(n);
}

static void *f_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (++alloc_count == fail_at)
        return NULL;
    return realloc(p, n);
}

static void f_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

ITEST_SERVER_FIXTURE

#define NREQ 5

typedef struct outcome {
    int done, ok, failed, per[NREQ];
    hxc_request *victim; /* queue mode: cancelled from the first callback */
} outcome;

static void on_done(hxc_response *r, int err, void *ud)
{
    outcome *o = ud;
    int i = (int)(intptr_t)hxc_request_user_data(hxc_response_request(r));
    o->per[i]++;
    o->done++;
    if (err == 0 && hxc_response_status(r) == 200)
        o->ok++;
    else
        o->failed++;
    if (o->victim != NULL) {
        hxc_request_cancel(o->victim);
        hxc_request_free(o->victim);
        o->victim = NULL;
    }
}

static void closed_cb(hxc_client *c, void *ud)
{
    (void)c;
    *(int *)ud = 1;
}

/* One complete run with the fail_at-th allocation failing. Returns the
 * number of allocations the run made (to know when to stop). The plain run
 * sends three requests of different shapes at once; the queue run sends five
 * over one connection, so that every request after the first waits in the
 * queue and is handed the freed connection (where a failing proto->start
 * finishes the exchange inside hxc__pool_conn_update), with the per-origin
 * cap, deadline_after_queue and a cancel of a queued request from a callback. */
static long one_run(int h2, int queue)
{
    alloc_count = 0;
    hxc_allocator a = {f_malloc, f_realloc, f_free, NULL};
    hxc_set_allocator(&a);
    struct event_base *base = event_base_new();
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.total_timeout = 5;
    if (queue) {
        cfg.max_connections = 1;
        cfg.max_requests_per_host = h2 ? 2 : 0;
        cfg.deadline_after_queue = 1;
        cfg.pool_timeout = 0;
    }
    static const char *const plain[] = {"/bytes/5000", "/chunked/3000?chunk=500&trailer=1",
                                        "/repeat-header"};
    int n = queue ? NREQ : 3;
    hxc_client *c = NULL;
    outcome o;
    memset(&o, 0, sizeof(o));
    int sent = 0;
    if (hxc_client_open(&c, base, &cfg) == 0) {
        for (int i = 0; i < n; i++) {
            const char *path = !queue ? plain[i] : i == 0 ? "/delay/5" : "/hello";
            hxc_request *req = NULL;
            int rv = hxc_request_new(&req, "GET", itest_url(&srv, 0, path));
            if (rv == 0) {
                hxc_request_set_user_data(req, (void *)(intptr_t)i);
                rv = hxc_request_add_header(req, "X-Test", "failmalloc");
            }
            if (rv == 0 && queue && i == n - 1)
                o.victim = hxc_request_retain(req);
            if (rv == 0)
                rv = hxc_client_send(c, req, on_done, &o);
            if (rv != 0) {
                assert_true(rv == HXC_ENOMEM);
                if (req != NULL && o.victim == req) {
                    hxc_request_free(o.victim);
                    o.victim = NULL;
                }
                hxc_request_free(req);
            } else {
                sent++;
            }
        }
        for (int i = 0; o.done < sent && i < 20000; i++)
            event_base_loop(base, EVLOOP_ONCE);
        if (o.done != sent) /* every sent request ended, one way or the other */
            fail_msg("fail_at %ld (h2 %d): %d of %d requests ended", fail_at, h2, o.done, sent);
        for (int i = 0; i < n; i++)
            assert_true(o.per[i] <= 1); /* and once */
        if (o.victim != NULL) {
            hxc_request_free(o.victim);
            o.victim = NULL;
        }
        int closed = 0;
        assert_int_equal(hxc_client_close(c, closed_cb, &closed), 0);
        for (int i = 0; !closed && i < 20000; i++)
            event_base_loop(base, EVLOOP_ONCE);
        if (!closed)
            fail_msg("fail_at %ld (h2 %d): the client never closed", fail_at, h2);
    }
    event_base_free(base);
    long made = alloc_count;
    hxc_set_allocator(NULL);
    return made;
}

static void sweep(int h2, int queue)
{
    fail_at = 0; /* nothing fails: how many allocations does a run make? */
    long total = one_run(h2, queue);
    assert_true(total > 10);
    print_message("%s%s: %ld allocations in a run; failing each in turn\n", h2 ? "h2c" : "http/1.1",
                  queue ? " (queue)" : "", total);
    for (fail_at = 1; fail_at <= total + 5; fail_at++)
        one_run(h2, queue);
    /* And the library is fine afterwards. */
    fail_at = 0;
    one_run(h2, queue);
}

static void test_failmalloc_h1(void **state)
{
    (void)state;
    sweep(0, 0);
}

static void test_failmalloc_h2(void **state)
{
    (void)state;
    sweep(1, 0);
}

static void test_failmalloc_queue_h1(void **state)
{
    (void)state;
    sweep(0, 1);
}

static void test_failmalloc_queue_h2(void **state)
{
    (void)state;
    sweep(1, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failmalloc_h1),
        cmocka_unit_test(test_failmalloc_h2),
        cmocka_unit_test(test_failmalloc_queue_h1),
        cmocka_unit_test(test_failmalloc_queue_h2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
