/* SPDX-License-Identifier: MIT */
/*
 * Integration: every fault of the HTTP/1.1 path ends the request with its
 * exact error, and the client keeps working afterwards (the next request
 * on the same client succeeds).
 */
#include <netinet/in.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "itest.h"

ITEST_SERVER_FIXTURE

/* The request fails with `err` and a following request on the same client succeeds. */
static void expect_then_ok(itest *t, const char *method, const char *path, int err)
{
    hxc_future *f = itest_fetch(t->client, method, itest_url(&srv, 0, path), NULL);
    itest_assert_err(f, err);
    hxc_future_free(f);
    hxc_future *g = itest_fetch(t->client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(g, 200);
    hxc_future_free(g);
}

static void test_malformed_responses(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    expect_then_ok(&t, "GET", "/bad/chunk-size", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/cl-conflict", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/cl-te", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/truncated?n=1000", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/truncated-chunked", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/no-status", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/bare-lf", HXC_EPROTO_REMOTE);
    expect_then_ok(&t, "GET", "/bad/header-eof", HXC_EPROTO_REMOTE);
    itest_close(&t);
}

static void test_trailing_garbage_drops_connection(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    const char *paths[] = {"/bad/extra-after", "/bad/204-body"};
    for (int i = 0; i < 2; i++) {
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, paths[i]), NULL);
        itest_assert_ok(f, i == 0 ? 200 : 204);
        hxc_future *g = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
        itest_assert_ok(g, 200);
        /* The connection that carried junk was not reused. */
        assert_int_not_equal(hxc_response_connection_id(hxc_future_response(f)),
                             hxc_response_connection_id(hxc_future_response(g)));
        hxc_future_free(f);
        hxc_future_free(g);
    }
    itest_close(&t);
}

static void test_header_limits(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_response_header_bytes = 16 * 1024;
    cfg.max_response_headers = 100;
    itest t;
    itest_open(&t, &cfg);
    expect_then_ok(&t, "GET", "/bad/huge-header?n=100000", HXC_EHEADERS_TOO_LARGE);
    expect_then_ok(&t, "GET", "/bad/many-headers?n=500", HXC_EHEADERS_TOO_LARGE);
    /* Within the limits: fine. */
    hxc_future *f =
        itest_fetch(t.client, "GET", itest_url(&srv, 0, "/headers?n=50&size=100"), NULL);
    itest_assert_ok(f, 200);
    assert_int_equal(hxc_headers_count_of(hxc_response_headers(hxc_future_response(f)), "X-H-7"),
                     1);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_body_limit(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_response_body_bytes = 10000;
    itest t;
    itest_open(&t, &cfg);
    expect_then_ok(&t, "GET", "/bytes/10001", HXC_EBODY_TOO_LARGE); /* by Content-Length */
    expect_then_ok(&t, "GET", "/chunked/20000?chunk=1000", HXC_EBODY_TOO_LARGE); /* while reading */
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/bytes/10000"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    /* A per-request cap overrides the client's. */
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/bytes/5000")), 0);
    assert_int_equal(hxc_request_set_max_body(req, 100), 0);
    f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), HXC_EBODY_TOO_LARGE);
    hxc_future_free(f);
    itest_close(&t);
}

static hxc_future *start_with_timeout(itest *t, const char *method, const char *url,
                                      enum hxc_timeout which, double s, const void *body,
                                      size_t blen)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, method, url), 0);
    assert_int_equal(hxc_request_set_timeout(req, which, s), 0);
    if (body)
        assert_int_equal(hxc_request_set_body_static(req, body, blen), 0);
    hxc_future *f = hxc_client_request(t->client, req);
    assert_non_null(f);
    return f;
}

static void test_read_and_total_timeouts(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f =
        start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hang"), HXC_TIMEOUT_READ, 0.3, NULL, 0);
    assert_int_equal(hxc_future_wait(f), HXC_ETIMEOUT_READ);
    itest_assert_err(f, HXC_ETIMEOUT_READ);
    hxc_future_free(f);
    /* A slow drip keeps each read under the read timeout: only the deadline catches it. */
    f = start_with_timeout(&t, "GET", itest_url(&srv, 0, "/drip?n=1000&ms=50"), HXC_TIMEOUT_TOTAL,
                           0.5, NULL, 0);
    assert_int_equal(hxc_future_wait(f), HXC_ETIMEOUT_TOTAL);
    hxc_timings tm;
    hxc_response_timings(hxc_future_response(f), &tm);
    assert_true(tm.total >= 0.45 && tm.total < 5);
    hxc_future_free(f);
    /* Headers then a stall mid-body: read timeout. */
    f = start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hang-body?n=1000"), HXC_TIMEOUT_READ,
                           0.3, NULL, 0);
    assert_int_equal(hxc_future_wait(f), HXC_ETIMEOUT_READ);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 200);
    hxc_future_free(f);
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

/* Timeouts of one duration share a queue: many expire together, each with its
 * own error, while requests with other timeouts on the same client finish. */
static void test_many_timeouts_share_a_queue(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    enum { SHORT = 30, LONGER = 10, QUICK = 30 };
    hxc_future *f[SHORT + LONGER + QUICK];
    int k = 0;
    for (int i = 0; i < SHORT; i++)
        f[k++] = start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hang"), HXC_TIMEOUT_READ, 0.3,
                                    NULL, 0);
    for (int i = 0; i < LONGER; i++)
        f[k++] = start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hang"), HXC_TIMEOUT_READ, 0.8,
                                    NULL, 0);
    for (int i = 0; i < QUICK; i++)
        f[k++] = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    hxc_future *all = hxc_future_all(f, (size_t)k);
    hxc_future_wait(all);
    for (int i = 0; i < k; i++) {
        hxc_timings tm;
        hxc_response_timings(hxc_future_response(f[i]), &tm);
        if (i < SHORT + LONGER) {
            itest_assert_err(f[i], HXC_ETIMEOUT_READ);
            double want = i < SHORT ? 0.3 : 0.8;
            assert_true(tm.total >= want - 0.05 && tm.total < want + 2);
        } else {
            itest_assert_ok(f[i], 200);
        }
        hxc_future_free(f[i]);
    }
    hxc_future_free(all);
    hxc_future *g = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(g, 200);
    hxc_future_free(g);
    itest_close(&t);
}

static void test_write_timeout(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    size_t n = 64u << 20; /* far more than the socket buffers hold */
    char *big = calloc(1, n);
    assert_non_null(big);
    hxc_future *f = start_with_timeout(&t, "POST", itest_url(&srv, 0, "/noread"), HXC_TIMEOUT_WRITE,
                                       0.5, big, n);
    assert_int_equal(hxc_future_wait(f), HXC_ETIMEOUT_WRITE);
    hxc_future_free(f);
    free(big);
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_pool_timeout(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 1;
    cfg.read_timeout = 2;
    itest t;
    itest_open(&t, &cfg);
    hxc_future *busy = itest_start(t.client, "GET", itest_url(&srv, 0, "/delay/1000"), NULL);
    hxc_future *f =
        start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hello"), HXC_TIMEOUT_POOL, 0.2, NULL, 0);
    assert_int_equal(hxc_future_wait(f), HXC_ETIMEOUT_POOL);
    assert_false(hxc_future_done(busy));
    hxc_future_free(f);
    assert_int_equal(hxc_future_wait(busy), 0);
    hxc_future_free(busy);
    itest_close(&t);
}

/* A timeout runs from when its request was sent, even when the program did
 * other work between two sends outside the loop (the loop's cached time must
 * not leak out of the loop's callbacks). */
static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_timeout_counts_from_send_outside_the_loop(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 1;
    itest t;
    itest_open(&t, &cfg);
    hxc_future *busy = itest_start(t.client, "GET", itest_url(&srv, 0, "/delay/2000"), NULL);
    /* Both wait for the one connection, with the same pool timeout. */
    double t1 = mono_now();
    hxc_future *first =
        start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hello"), HXC_TIMEOUT_POOL, 0.6, NULL, 0);
    usleep(400 * 1000); /* the program is busy elsewhere; the loop does not run */
    double t2 = mono_now();
    hxc_future *second =
        start_with_timeout(&t, "GET", itest_url(&srv, 0, "/hello"), HXC_TIMEOUT_POOL, 0.6, NULL, 0);
    assert_int_equal(hxc_future_wait(first), HXC_ETIMEOUT_POOL);
    double e1 = mono_now() - t1;
    assert_int_equal(hxc_future_wait(second), HXC_ETIMEOUT_POOL);
    double e2 = mono_now() - t2;
    assert_true(e1 >= 0.55);
    assert_true(e2 >= 0.55); /* not expired with the first, 0.4 s too early */
    hxc_timings tm;
    hxc_response_timings(hxc_future_response(second), &tm);
    assert_true(tm.total >= 0.55 && tm.total < 0.95);
    hxc_future_free(first);
    hxc_future_free(second);
    assert_int_equal(hxc_future_wait(busy), 0);
    hxc_future_free(busy);
    itest_close(&t);
}

/* A socket of `type` bound to an ephemeral loopback port; *port gets the port. */
static int loopback_socket(int type, int *port)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t alen = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &alen);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_connect_timeout(void **state)
{
    (void)state;
    /* A listener that is never accepted from: TCP completes in the backlog but
     * the TLS handshake never gets an answer, so connecting never finishes. */
    int port;
    int fd = loopback_socket(SOCK_STREAM, &port);
    assert_int_equal(listen(fd, 16), 0);
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/", port);
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = start_with_timeout(&t, "GET", url, HXC_TIMEOUT_CONNECT, 0.3, NULL, 0);
    assert_int_equal(hxc_future_wait(f), HXC_ETIMEOUT_CONNECT);
    hxc_future_free(f);
    close(fd);
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_connect_refused(void **state)
{
    (void)state;
    int port;
    close(loopback_socket(SOCK_STREAM, &port)); /* a port that nobody listens on */
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_err(f, HXC_ECONNECT);
    assert_int_equal(hxc_error_category(hxc_future_error(f)), HXC_CAT_NETWORK);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_stale_keepalive_retry(void **state)
{
    (void)state;
    testsrv s;
    const char *args[] = {"--drop-request-after", "1", NULL};
    assert_int_equal(testsrv_start(&s, args), 0);
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    /* The server drops the second request on that connection: retried on a fresh one. */
    f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 2);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_retried, 1);
    /* A POST that was fully written is not replayed. */
    f = itest_fetch(t.client, "POST", itest_url(&s, 0, "/echo"), "data");
    itest_assert_err(f, HXC_ECLOSED);
    hxc_future_free(f);
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_retried, 1);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_fresh_connection_not_retried(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    expect_then_ok(&t, "GET", "/drop", HXC_ECLOSED);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_retried, 0);
    itest_close(&t);
}

/* A DNS server on loopback that answers every query with NXDOMAIN. */
static void dns_reply(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    unsigned char q[512];
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
    if (n < 12)
        return;
    q[2] = 0x81; /* response, recursion desired */
    q[3] = 0x83; /* recursion available, NXDOMAIN */
    sendto(fd, q, (size_t)n, 0, (struct sockaddr *)&from, flen);
}

static void test_dns_failure(void **state)
{
    (void)state;
    int port;
    int fd = loopback_socket(SOCK_DGRAM, &port);
    char servers[64];
    snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.dns_servers = servers;
    itest t;
    itest_open(&t, &cfg);
    struct event *ev = event_new(t.base, fd, EV_READ | EV_PERSIST, dns_reply, NULL);
    event_add(ev, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", "http://no-such-host.invalid/", NULL);
    itest_assert_err(f, HXC_EDNS);
    hxc_future_free(f);
    /* Names from /etc/hosts still resolve without asking the server. */
    char url[128];
    snprintf(url, sizeof(url), "http://localhost:%d/hello", srv.http_port);
    f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    event_free(ev);
    close(fd);
    itest_close(&t);
}

static void test_bad_input_rejected_before_sending(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", "ftp://127.0.0.1/"), HXC_EUNSUPPORTED_SCHEME);
    assert_int_equal(hxc_request_new(&req, "GET", "http://127.0.0.1/\r\nX: y"), HXC_EBADURL);
    assert_int_equal(hxc_request_new(&req, "GET\r\n", "http://127.0.0.1/"), HXC_EINVAL);
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/echo")), 0);
    assert_int_equal(hxc_request_add_header(req, "X-A", "1\r\nX-Injected: 1"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(req, "X-A\n", "1"), HXC_EINVAL);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    assert_null(strstr((const char *)hxc_response_body(hxc_future_response(f), NULL), "Injected"));
    hxc_future_free(f);
    assert_int_equal(hxc_client_send(t.client, NULL, NULL, NULL), HXC_EINVAL);
    itest_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malformed_responses),
        cmocka_unit_test(test_trailing_garbage_drops_connection),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_read_and_total_timeouts),
        cmocka_unit_test(test_many_timeouts_share_a_queue),
        cmocka_unit_test(test_write_timeout),
        cmocka_unit_test(test_pool_timeout),
        cmocka_unit_test(test_timeout_counts_from_send_outside_the_loop),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_stale_keepalive_retry),
        cmocka_unit_test(test_fresh_connection_not_retried),
        cmocka_unit_test(test_dns_failure),
        cmocka_unit_test(test_bad_input_rejected_before_sending),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
