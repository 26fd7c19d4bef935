/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of futures (api/future.c) without a server: requests to a
 * loopback port nobody listens on fail fast with HXC_ECONNECT, which is
 * enough to test then(), all(), any(), wait(), cancel and freeing in every
 * order, and a future outliving its client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "hxc/hxc.h"

typedef struct fx {
    struct event_base *base;
    hxc_client *client;
    int closed;
} fx;

static void closed_cb(hxc_client *c, void *ud)
{
    (void)c;
    ((fx *)ud)->closed = 1;
}

static int setup(void **state)
{
    static fx f;
    memset(&f, 0, sizeof(f));
    f.base = event_base_new();
    if (hxc_client_open(&f.client, f.base, NULL) != 0)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    hxc_client_close(f->client, closed_cb, f);
    while (!f->closed)
        event_base_loop(f->base, EVLOOP_ONCE);
    event_base_free(f->base);
    return 0;
}

static hxc_future *failing(fx *f)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", "http://127.0.0.1:9/"), 0);
    hxc_future *fut = hxc_client_request(f->client, req);
    assert_non_null(fut);
    assert_int_equal(hxc_future_wait(fut), HXC_ECONNECT);
    return fut;
}

typedef struct log {
    int calls[8];
    int n;
} log_t;

static void note(hxc_future *f, void *ud)
{
    log_t *l = ud;
    assert_true(hxc_future_done(f));
    l->calls[l->n++] = hxc_future_error(f);
}

static void note_second(hxc_future *f, void *ud)
{
    log_t *l = ud;
    (void)f;
    l->calls[l->n++] = 1;
}

static void test_failed_request_future(void **state)
{
    fx *f = *state;
    hxc_future *fut = failing(f);
    assert_true(hxc_future_done(fut));
    assert_int_equal(hxc_future_error(fut), HXC_ECONNECT);
    hxc_response *r = hxc_future_response(fut);
    assert_non_null(r);
    assert_int_equal(hxc_response_error(r), HXC_ECONNECT);
    assert_int_equal(hxc_response_status(r), 0);
    assert_string_equal(hxc_response_http_version(r), "");
    assert_string_equal(hxc_response_url(r), "http://127.0.0.1:9/");
    assert_int_equal(hxc_future_wait(fut), HXC_ECONNECT);
    hxc_future_free(fut);
}

static void test_then_runs_later_in_order(void **state)
{
    fx *f = *state;
    hxc_future *fut = failing(f);
    log_t l = {{0}, 0};
    assert_int_equal(hxc_future_then(fut, note, &l), 0);
    assert_int_equal(hxc_future_then(fut, note_second, &l), 0);
    assert_int_equal(hxc_future_then(fut, NULL, &l), HXC_EINVAL);
    assert_int_equal(l.n, 0); /* never from inside then() */
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.calls[0], HXC_ECONNECT);
    assert_int_equal(l.calls[1], 1);
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    assert_int_equal(l.n, 2); /* once each */
    hxc_future_free(fut);
}

static void test_all_and_any(void **state)
{
    fx *f = *state;
    hxc_future *a = failing(f), *b = failing(f);
    hxc_future *in[2] = {a, b};
    hxc_future *all = hxc_future_all(in, 2);
    hxc_future *any = hxc_future_any(in, 2);
    /* Inputs may be freed before the combinations. */
    hxc_future_free(a);
    hxc_future_free(b);
    assert_int_equal(hxc_future_wait(all), HXC_ECONNECT);
    assert_null(hxc_future_response(all));
    assert_int_equal(hxc_future_wait(any), HXC_ECONNECT); /* all failed: the last failure */
    assert_int_equal(hxc_future_any_index(any), 1);
    assert_non_null(hxc_future_response(any));
    hxc_future_free(all);
    hxc_future_free(any);

    hxc_future *empty = hxc_future_all(NULL, 0);
    assert_non_null(empty);
    assert_true(hxc_future_done(empty));
    assert_int_equal(hxc_future_wait(empty), 0);
    hxc_future_free(empty);
    assert_null(hxc_future_all(NULL, 2));
    hxc_future *nulls[1] = {NULL};
    assert_null(hxc_future_any(nulls, 1));
}

static void record_cb(hxc_future *fut, void *ud) { *(hxc_future **)ud = fut; }

/* any() of nothing has no winner to wait for: it is settled at once with
 * HXC_EINVAL (as asyncio.wait refuses an empty set), never a success
 * without a response; all() of nothing stays a success. */
static void test_any_of_nothing(void **state)
{
    (void)state;
    hxc_future *any = hxc_future_any(NULL, 0);
    assert_non_null(any);
    assert_true(hxc_future_done(any));
    assert_int_equal(hxc_future_error(any), HXC_EINVAL);
    assert_int_equal(hxc_future_wait(any), HXC_EINVAL);
    assert_null(hxc_future_response(any));
    assert_int_equal(hxc_future_any_index(any), -1);
    hxc_future *seen = NULL;
    assert_int_equal(hxc_future_then(any, record_cb, &seen), 0); /* no loop: runs at once */
    assert_ptr_equal(seen, any);
    hxc_future_free(any);
    hxc_future *all = hxc_future_all(NULL, 0);
    assert_int_equal(hxc_future_wait(all), 0);
    hxc_future_free(all);
}

static void test_nested_combinations_and_cancel(void **state)
{
    fx *f = *state;
    hxc_future *a = failing(f);
    hxc_future *inner = hxc_future_all(&a, 1);
    hxc_future *outer = hxc_future_any(&inner, 1);
    hxc_future_cancel(outer); /* already settled: no effect */
    assert_int_equal(hxc_future_wait(outer), HXC_ECONNECT);
    hxc_future_free(outer);
    hxc_future_free(inner);
    hxc_future_free(a);
    hxc_future_free(NULL);
    hxc_future_cancel(NULL);
    assert_int_equal(hxc_future_wait(NULL), HXC_EINVAL);
    assert_int_equal(hxc_future_done(NULL), 0);
}

static void test_after_close(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hxc_client *c;
    assert_int_equal(hxc_client_open(&c, base, NULL), 0);
    assert_int_equal(hxc_client_close(c, NULL, NULL), 0);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", "http://127.0.0.1:9/"), 0);
    hxc_future *fut = hxc_client_request(c, req);
    assert_int_equal(hxc_future_error(fut), HXC_ECLIENT_CLOSED);
    hxc_future_free(fut);
    event_base_dispatch(base); /* the close completes and frees the client */
    event_base_free(base);
}

static void test_future_outlives_client(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hxc_client *c;
    assert_int_equal(hxc_client_open(&c, base, NULL), 0);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", "http://127.0.0.1:9/"), 0);
    hxc_future *fut = hxc_client_request(c, req);
    assert_int_equal(hxc_future_wait(fut), HXC_ECONNECT);
    log_t l = {{0}, 0};
    assert_int_equal(hxc_future_then(fut, note, &l), 0); /* due, not yet run */
    assert_int_equal(hxc_client_close(c, NULL, NULL), 0);
    event_base_dispatch(base); /* the client closes and is freed */
    assert_int_equal(l.n, 1);  /* the due callback ran before the client went */
    assert_int_equal(hxc_future_then(fut, note_second, &l), 0);
    assert_int_equal(l.n, 2); /* no loop of ours left: at once */
    assert_int_equal(hxc_future_wait(fut), HXC_ECONNECT);
    assert_non_null(hxc_future_response(fut));
    hxc_future_free(fut);
    event_base_free(base);
}

static void test_config_validation(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    assert_int_equal(cfg.struct_size, sizeof(cfg));
    assert_true(cfg.total_timeout > 0); /* a deadline is on by default */
    assert_int_equal(cfg.insecure, 0);
    assert_int_equal(cfg.http2, 0);
    hxc_client *c = NULL;
    cfg.read_timeout = -1;
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    hxc_client_config_init(&cfg);
    cfg.max_connections = 0;
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    hxc_client_config_init(&cfg);
    cfg.user_agent = "bad\r\nX: y";
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    assert_int_equal(hxc_client_open(&c, NULL, NULL), HXC_EINVAL);
    assert_null(c);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_request_future),
        cmocka_unit_test(test_then_runs_later_in_order),
        cmocka_unit_test(test_all_and_any),
        cmocka_unit_test(test_any_of_nothing),
        cmocka_unit_test(test_nested_combinations_and_cancel),
        cmocka_unit_test(test_after_close),
        cmocka_unit_test(test_future_outlives_client),
        cmocka_unit_test(test_config_validation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
