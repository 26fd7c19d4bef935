/* SPDX-License-Identifier: MIT */
/*
 * Integration: retries (the client's `retries`, `retry_on_status`, and
 * hxc_request_set_retries). Connect failures are tried again, TLS's own
 * refusals are not; listed statuses are retried for idempotent requests
 * after their Retry-After, within the total deadline; a retry's wait can be
 * cancelled, aborted, and is waited for by a graceful close.
 */
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>

#include "itest.h"
#include "rawpeer.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- connect failures -------------------------------------------------- */

/* Accepts and closes at once: a TLS client sees its handshake cut short. */
static void slam(rawpeer *p, int fd, int index, void *arg)
{
    (void)p, (void)fd, (void)index, (void)arg;
}

static void test_connect_failures_retried(void **state)
{
    (void)state;
    rawpeer *p = rawpeer_start(slam, NULL);
    assert_non_null(p);
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/x", rawpeer_port(p));
    for (int retries = 0; retries <= 2; retries += 2) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.insecure = 1;
        cfg.retries = (unsigned)retries;
        itest t;
        itest_open(&t, &cfg);
        int before = rawpeer_accepted(p);
        double t0 = now_s();
        hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
        itest_assert_err(f, HXC_ECONNECT);
        assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)), "TLS"));
        hxc_future_free(f);
        itest_close(&t);
        /* The first retry at once, the second after about 0.5 s. */
        assert_int_equal(rawpeer_accepted(p) - before, retries + 1);
        if (retries == 2)
            assert_true(now_s() - t0 >= 0.45);
    }
    /* Per request: hxc_request_set_retries overrides the client's. */
    itest t;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.insecure = 1;
    cfg.retries = 5;
    itest_open(&t, &cfg);
    int before = rawpeer_accepted(p);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", url), 0);
    assert_int_equal(hxc_request_set_retries(req, 1), 0);
    assert_int_equal(hxc_request_set_retries(req, 101), HXC_EINVAL);
    hxc_future *f = hxc_client_request(t.client, req);
    hxc_future_wait(f);
    itest_assert_err(f, HXC_ECONNECT);
    hxc_future_free(f);
    itest_close(&t);
    assert_int_equal(rawpeer_accepted(p) - before, 2);
    rawpeer_stop(p);
}

/* A refused port is retried too; a certificate that fails verification is
 * never retried (the answer would be the same). */
static void test_refused_and_verify(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start_tls(&s, "wronghost", NULL), 0);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.retries = 3;
    char ca[512];
    snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
    cfg.ca_file = ca;
    itest t;
    itest_open(&t, &cfg);
    assert_int_equal(testsrv_stats_reset(&s), 0);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&s, 1, "/hello"), NULL);
    itest_assert_err(f, HXC_ETLS_VERIFY);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1); /* no retry */
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

/* ---- statuses ---------------------------------------------------------- */

typedef struct busy {
    int fail;       /* answer 503 this many times first */
    const char *ra; /* its Retry-After, or NULL */
    atomic_int seen;
} busy;

static void busy_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    busy *b = arg;
    char head[4096], resp[512];
    while (rawpeer_recv_head(p, fd, head, sizeof(head), 10000) > 0) {
        int n = atomic_fetch_add(&b->seen, 1);
        if (n < b->fail)
            snprintf(resp, sizeof(resp),
                     "HTTP/1.1 503 Busy\r\n%s%s%sContent-Length: 4\r\n\r\nbusy",
                     b->ra ? "Retry-After: " : "", b->ra ? b->ra : "", b->ra ? "\r\n" : "");
        else
            snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        if (rawpeer_send_str(p, fd, resp) != 0)
            return;
    }
}

static const uint16_t retry_503[] = {503, 429};

static hxc_future *busy_fetch(busy *b, const char *method, double total, int retries,
                              double *took, int *seen)
{
    rawpeer *p = rawpeer_start(busy_script, b);
    assert_non_null(p);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.retries = (unsigned)retries;
    cfg.retry_on_status = retry_503;
    cfg.n_retry_on_status = 2;
    cfg.total_timeout = total;
    itest t;
    itest_open(&t, &cfg);
    char url[128];
    double t0 = now_s();
    hxc_future *f = itest_fetch(t.client, method, rawpeer_url(p, "/busy", url, sizeof(url)),
                                NULL);
    *took = now_s() - t0;
    itest_close(&t);
    rawpeer_stop(p);
    *seen = atomic_load(&b->seen);
    return f;
}

static void test_status_retried_after(void **state)
{
    (void)state;
    double took;
    int seen;
    /* Retry-After in seconds: waited, then the answer. */
    busy b = {.fail = 1, .ra = "1"};
    hxc_future *f = busy_fetch(&b, "GET", 30, 2, &took, &seen);
    itest_assert_ok(f, 200);
    assert_int_equal(seen, 2);
    assert_true(took >= 0.95);
    hxc_future_free(f);
    /* As an HTTP-date (one second in the past: at once). */
    char date[64];
    time_t past = time(NULL) - 1;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&past));
    busy d = {.fail = 2, .ra = date};
    f = busy_fetch(&d, "GET", 30, 2, &took, &seen);
    itest_assert_ok(f, 200);
    assert_int_equal(seen, 3);
    assert_true(took < 5);
    hxc_future_free(f);
    /* Without Retry-After: the backoff; out of budget: the last 503 is the answer. */
    busy e = {.fail = 5};
    f = busy_fetch(&e, "GET", 30, 1, &took, &seen);
    assert_int_equal(hxc_future_error(f), 0);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 503);
    assert_int_equal(seen, 2);
    hxc_future_free(f);
}

/* A 503 that must be the answer, delivered without waiting for its
 * Retry-After (far longer than the bound checked). */
static void expect_503_at_once(const char *method, const char *ra, double total)
{
    double took;
    int seen;
    busy b = {.fail = 1, .ra = ra};
    hxc_future *f = busy_fetch(&b, method, total, 3, &took, &seen);
    assert_int_equal(hxc_future_error(f), 0);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 503);
    assert_int_equal(seen, 1);
    assert_true(took < 20);
    hxc_future_free(f);
}

static void test_status_not_retried(void **state)
{
    (void)state;
    double took;
    int seen;
    /* POST is not idempotent: not retried. */
    expect_503_at_once("POST", "0", 30);
    /* A wait past the total deadline: the 503 is delivered at once. */
    expect_503_at_once("GET", "60", 2);
    /* No deadline at all: a Retry-After past the cap (300 s) is not kept. */
    expect_503_at_once("GET", "86400", 0);
    /* A Retry-After that means nothing: the backoff instead (first retry at once). */
    busy h = {.fail = 1, .ra = "tomorrow"};
    hxc_future *f = busy_fetch(&h, "GET", 30, 3, &took, &seen);
    itest_assert_ok(f, 200);
    assert_int_equal(seen, 2);
    hxc_future_free(f);
    /* Not listed: not retried. */
    busy d = {.fail = 1};
    rawpeer *p = rawpeer_start(busy_script, &d);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.retries = 3;
    itest t;
    itest_open(&t, &cfg);
    char url[128];
    f = itest_fetch(t.client, "GET", rawpeer_url(p, "/", url, sizeof(url)), NULL);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 503);
    hxc_future_free(f);
    itest_close(&t);
    rawpeer_stop(p);
    assert_int_equal(atomic_load(&d.seen), 1);
}

/* A call waiting for its retry: cancelled at once, aborted at once, and a
 * graceful close waits for it. Streamed consumers never see the 503. */
typedef struct seen_heads {
    int heads, statuses[4];
} seen_heads;

static int on_head(hxc_response *r, void *ud)
{
    seen_heads *s = ud;
    if (s->heads < 4)
        s->statuses[s->heads] = hxc_response_status(r);
    s->heads++;
    return 0;
}

static int on_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r, (void)d, (void)n, (void)ud;
    return 0;
}

static void test_waiting_call(void **state)
{
    (void)state;
    busy b = {.fail = 1000, .ra = "30"};
    rawpeer *p = rawpeer_start(busy_script, &b);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.retries = 3;
    cfg.retry_on_status = retry_503;
    cfg.n_retry_on_status = 1;
    itest t;
    itest_open(&t, &cfg);
    char url[128];
    rawpeer_url(p, "/", url, sizeof(url));
    for (int how = 0; how < 2; how++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", url), 0);
        hxc_future *f = hxc_client_request(t.client, hxc_request_retain(req));
        /* Run until the 503 is in and the call waits (30 s). */
        hxc_client_stats st;
        hxc_client_get_stats(t.client, &st);
        double give_up = now_s() + 10;
        while (st.requests_waiting == 0 && now_s() < give_up) {
            event_base_loop(t.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
            hxc_client_get_stats(t.client, &st);
        }
        assert_int_equal(st.requests_waiting, 1);
        assert_false(hxc_future_done(f));
        double t0 = now_s();
        if (how == 0)
            assert_int_equal(hxc_request_cancel(req), 1);
        else
            hxc_client_abort(t.client);
        assert_int_equal(hxc_future_wait(f), HXC_ECANCELLED);
        assert_true(now_s() - t0 < 1);
        /* The response it carries is the 503's, marked cancelled. */
        assert_int_equal(hxc_response_status(hxc_future_response(f)), 503);
        hxc_future_free(f);
        hxc_request_free(req);
    }
    /* Streamed: the consumer sees only the final answer's head. */
    busy d = {.fail = 1, .ra = "0"};
    rawpeer *q = rawpeer_start(busy_script, &d);
    seen_heads sh;
    memset(&sh, 0, sizeof(sh));
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", rawpeer_url(q, "/", url, sizeof(url))), 0);
    assert_int_equal(hxc_request_on_response_stream(req, on_head, on_body, &sh), 0);
    hxc_future *f = hxc_client_request(t.client, req);
    hxc_future_wait(f);
    itest_assert_ok(f, 200);
    assert_int_equal(sh.heads, 1);
    assert_int_equal(sh.statuses[0], 200);
    hxc_future_free(f);
    itest_close(&t);
    rawpeer_stop(q);
    rawpeer_stop(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_failures_retried),
        cmocka_unit_test(test_refused_and_verify),
        cmocka_unit_test(test_status_retried_after),
        cmocka_unit_test(test_status_not_retried),
        cmocka_unit_test(test_waiting_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
