/*
 * Integration: allocation failures (nghttp2's failmalloc idea). The library's
 * allocator hook fails the N-th allocation, for every N along a complete
 * exchange (client open, HTTP/1.1 and HTTP/2 requests, close): each run must
 * end cleanly, with a response or with an error, never a crash, a hang or a
 * leak (the ASan build checks the last two).
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

typedef struct outcome {
    int done, ok, failed;
} outcome;

static void on_done(hxc_response *r, int err, void *ud)
{
    outcome *o = ud;
    o->done++;
    if (err == 0 && hxc_response_status(r) == 200)
        o->ok++;
    else
        o->failed++;
}

static void closed_cb(hxc_client *c, void *ud)
{
    (void)c;
    *(int *)ud = 1;
}

/* One complete run with the fail_at-th allocation failing. Returns the
 * number of allocations the run made (to know when to stop). */
static long one_run(int h2)
{
    alloc_count = 0;
    hxc_allocator a = {f_malloc, f_realloc, f_free, NULL};
    hxc_set_allocator(&a);
    struct event_base *base = event_base_new();
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.total_timeout = 5;
    hxc_client *c = NULL;
    outcome o = {0, 0, 0};
    int sent = 0;
    if (hxc_client_open(&c, base, &cfg) == 0) {
        const char *paths[] = {"/bytes/5000", "/chunked/3000?chunk=500&trailer=1",
                               "/repeat-header"};
        for (int i = 0; i < 3; i++) {
            hxc_request *req = NULL;
            int rv = hxc_request_new(&req, "GET", itest_url(&srv, 0, paths[i]));
            if (rv == 0)
                rv = hxc_request_add_header(req, "X-Test", "failmalloc");
            if (rv == 0)
                rv = hxc_client_send(c, req, on_done, &o);
            if (rv != 0) {
                assert_true(rv == HXC_ENOMEM);
                hxc_request_free(req);
            } else {
                sent++;
            }
        }
        for (int i = 0; o.done < sent && i < 20000; i++)
            event_base_loop(base, EVLOOP_ONCE);
        assert_int_equal(o.done, sent); /* every sent request ended, one way or the other */
        int closed = 0;
        assert_int_equal(hxc_client_close(c, closed_cb, &closed), 0);
        for (int i = 0; !closed && i < 20000; i++)
            event_base_loop(base, EVLOOP_ONCE);
        assert_true(closed);
    }
    event_base_free(base);
    long made = alloc_count;
    hxc_set_allocator(NULL);
    return made;
}

static void sweep(int h2)
{
    fail_at = 0; /* nothing fails: how many allocations does a run make? */
    long total = one_run(h2);
    assert_true(total > 10);
    print_message("%s: %ld allocations in a run; failing each in turn\n", h2 ? "h2c" : "http/1.1",
                  total);
    for (fail_at = 1; fail_at <= total + 5; fail_at++)
        one_run(h2);
    /* And the library is fine afterwards. */
    fail_at = 0;
    one_run(h2);
}

static void test_failmalloc_h1(void **state)
{
    (void)state;
    sweep(0);
}

static void test_failmalloc_h2(void **state)
{
    (void)state;
    sweep(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failmalloc_h1),
        cmocka_unit_test(test_failmalloc_h2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
