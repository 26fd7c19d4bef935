/* SPDX-License-Identifier: MIT */
/*
 * Integration: the HTTP/1.1 client against the project's test server over
 * cleartext: bodies of every framing, keep-alive reuse, concurrency and
 * limits, callbacks and futures, abort, graceful close, the runner, IPv6.
 */
#include "itest.h"

ITEST_SERVER_FIXTURE

static void check_pattern(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] != 'a' + (i % 26))
            fail_msg("body byte %zu is %d", i, b[i]);
}

static void test_get_bytes(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/bytes/100000"), NULL);
    itest_assert_ok(f, 200);
    hxc_response *r = hxc_future_response(f);
    size_t len;
    const uint8_t *b = hxc_response_body(r, &len);
    assert_int_equal(len, 100000);
    assert_int_equal(b[len], 0);
    check_pattern(b, len);
    assert_string_equal(hxc_response_http_version(r), "HTTP/1.1");
    assert_string_equal(hxc_response_reason(r), "OK");
    assert_string_equal(hxc_headers_get(hxc_response_headers(r), "content-length"), "100000");
    assert_int_equal(hxc_response_connection_id(r), 1);
    hxc_timings tm;
    hxc_response_timings(r, &tm);
    assert_true(tm.total > 0);
    assert_true(tm.first_byte > 0 && tm.first_byte <= tm.total);
    assert_true(tm.connect > 0);
    assert_int_equal(tm.reused, 0);
    assert_string_equal(hxc_response_url(r), itest_url(&srv, 0, "/bytes/100000"));
    hxc_future_free(f);
    itest_close(&t);
}

static void test_chunked_trailers(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f =
        itest_fetch(t.client, "GET", itest_url(&srv, 0, "/chunked/5000?chunk=700&trailer=1"), NULL);
    itest_assert_ok(f, 200);
    hxc_response *r = hxc_future_response(f);
    size_t len;
    check_pattern(hxc_response_body(r, &len), 5000);
    assert_int_equal(len, 5000);
    assert_string_equal(hxc_headers_get(hxc_response_trailers(r), "x-trailer"), "yes");
    assert_string_equal(hxc_headers_get(hxc_response_trailers(r), "X-Sum"), "5000");
    assert_null(hxc_headers_get(hxc_response_headers(r), "x-trailer"));
    hxc_future_free(f);
    itest_close(&t);
}

static void test_head_and_reuse(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "HEAD", itest_url(&srv, 0, "/bytes/1000"), NULL);
    itest_assert_ok(f, 200);
    size_t len;
    hxc_response_body(hxc_future_response(f), &len);
    assert_int_equal(len, 0);
    assert_string_equal(
        hxc_headers_get(hxc_response_headers(hxc_future_response(f)), "Content-Length"), "1000");
    uint64_t id = hxc_response_connection_id(hxc_future_response(f));
    hxc_future *g = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/bytes/10"), NULL);
    itest_assert_ok(g, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(g)), id);
    hxc_future_free(f);
    hxc_future_free(g);
    itest_close(&t);
}

static void test_statuses_without_body(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    const int codes[] = {204, 304, 404, 500, 201};
    uint64_t id = 0;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        char path[32];
        snprintf(path, sizeof(path), "/status/%d", codes[i]);
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, path), NULL);
        itest_assert_ok(f, codes[i]); /* a non-2xx status is not an error */
        size_t len;
        hxc_response_body(hxc_future_response(f), &len);
        assert_int_equal(len, codes[i] == 204 || codes[i] == 304 ? 0 : strlen("status 404\n"));
        uint64_t cid = hxc_response_connection_id(hxc_future_response(f));
        if (i > 0)
            assert_int_equal(cid, id); /* all on one keep-alive connection */
        id = cid;
        hxc_future_free(f);
    }
    itest_close(&t);
}

static void test_interim_responses_skipped(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/interim"), NULL);
    itest_assert_ok(f, 200);
    assert_string_equal((const char *)hxc_response_body(hxc_future_response(f), NULL), "hello\n");
    assert_null(hxc_headers_get(hxc_response_headers(hxc_future_response(f)), "link"));
    hxc_future_free(f);
    itest_close(&t);
}

static void test_echo_post(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", itest_url(&srv, 0, "/echo?q=1")), 0);
    assert_int_equal(hxc_request_add_header(req, "X-Test", "one"), 0);
    assert_int_equal(hxc_request_add_header(req, "x-test", "two"), 0);
    assert_int_equal(hxc_request_set_body(req, "a\0c", 3), 0);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    itest_assert_ok(f, 200);
    size_t len;
    const char *b = (const char *)hxc_response_body(hxc_future_response(f), &len);
    assert_true(strncmp(b, "POST /echo?q=1 HTTP/1.1\r\n", 25) == 0);
    char host[64];
    snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", srv.http_port);
    assert_non_null(strstr(b, host));
    assert_non_null(strstr(b, "X-Test: one\r\nx-test: two\r\n"));
    assert_non_null(strstr(b, "Content-Length: 3\r\n"));
    assert_non_null(strstr(b, "User-Agent: hxc/"));
    assert_true(len > 3 && memcmp(b + len - 3, "a\0c", 3) == 0);
    hxc_future_free(f);

    /* A POST without a body still says Content-Length: 0. */
    f = itest_fetch(t.client, "POST", itest_url(&srv, 0, "/echo"), NULL);
    itest_assert_ok(f, 200);
    assert_non_null(strstr((const char *)hxc_response_body(hxc_future_response(f), NULL),
                           "Content-Length: 0\r\n"));
    hxc_future_free(f);
    itest_close(&t);
}

/* The client's default Accept: "*" "/" "*" unless configured; "" sends none;
 * a request's own Accept always wins. */
static void test_default_accept(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.accept = "text/plain";
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/echo"), NULL);
    itest_assert_ok(f, 200);
    const char *b = (const char *)hxc_response_body(hxc_future_response(f), NULL);
    assert_non_null(strstr(b, "\r\nAccept: text/plain\r\n"));
    hxc_future_free(f);
    itest_close(&t);

    cfg.accept = "";
    itest_open(&t, &cfg);
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/echo"), NULL);
    itest_assert_ok(f, 200);
    b = (const char *)hxc_response_body(hxc_future_response(f), NULL);
    assert_null(strcasestr(b, "\r\nAccept:"));
    hxc_future_free(f);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/echo")), 0);
    assert_int_equal(hxc_request_add_header(req, "Accept", "a/b"), 0);
    f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    itest_assert_ok(f, 200);
    b = (const char *)hxc_response_body(hxc_future_response(f), NULL);
    assert_non_null(strstr(b, "\r\nAccept: a/b\r\n"));
    hxc_future_free(f);
    itest_close(&t);

    hxc_client *c = NULL;
    struct event_base *base = event_base_new();
    cfg.accept = "a\r\nX-Injected: 1";
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    assert_null(c);
    event_base_free(base);
}

static void test_discarded_body(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    itest_discarded_body(&t, itest_url(&srv, 0, "/bytes/100000"), "HTTP/1.1");
    itest_close(&t);
}

static void test_shared_request(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    itest_shared_request(&t, itest_url(&srv, 0, "/echo"), "HTTP/1.1", 20);
    itest_close(&t);
}

static void test_repeated_headers(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/repeat-header"), NULL);
    itest_assert_ok(f, 200);
    const hxc_headers *h = hxc_response_headers(hxc_future_response(f));
    assert_int_equal(hxc_headers_count_of(h, "set-cookie"), 3);
    assert_string_equal(hxc_headers_get_nth(h, "Set-Cookie", 0), "a=1");
    assert_string_equal(hxc_headers_get_nth(h, "SET-COOKIE", 2), "c=3");
    assert_null(hxc_headers_get_nth(h, "set-cookie", 3));
    assert_int_equal(hxc_headers_count_of(h, "X-MULTI"), 2);
    assert_string_equal(hxc_headers_get_nth(h, "x-multi", 1), "two");
    size_t seen = 0;
    for (size_t i = 0; i < hxc_headers_count(h); i++) {
        const char *n, *v;
        assert_int_equal(hxc_headers_at(h, i, &n, &v), 0);
        if (strcmp(n, "Set-Cookie") == 0)
            seen++;
    }
    assert_int_equal(seen, 3);
    assert_int_equal(hxc_headers_at(h, hxc_headers_count(h), NULL, NULL), HXC_EINVAL);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_http10_and_close_delimited(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/http10"), NULL);
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), "HTTP/1.0");
    assert_string_equal((const char *)hxc_response_body(hxc_future_response(f), NULL),
                        "hello http/1.0\n");
    hxc_future *g = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/eof-body?n=3000"), NULL);
    itest_assert_ok(g, 200);
    size_t len;
    check_pattern(hxc_response_body(hxc_future_response(g), &len), 3000);
    assert_int_equal(len, 3000);
    assert_string_equal(hxc_response_http_version(hxc_future_response(g)), "HTTP/1.1");
    /* Neither connection could be kept: each request got a new one. */
    assert_int_not_equal(hxc_response_connection_id(hxc_future_response(f)),
                         hxc_response_connection_id(hxc_future_response(g)));
    hxc_future *h = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/close"), NULL);
    itest_assert_ok(h, 200);
    hxc_future *k = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(k, 200);
    assert_int_not_equal(hxc_response_connection_id(hxc_future_response(h)),
                         hxc_response_connection_id(hxc_future_response(k)));
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 4);
    assert_int_equal(st.connections_idle, 1);
    hxc_future_free(f);
    hxc_future_free(g);
    hxc_future_free(h);
    hxc_future_free(k);
    itest_close(&t);
}

static void test_keepalive_reuse(void **state)
{
    (void)state;
    assert_int_equal(testsrv_stats_reset(&srv), 0);
    itest t;
    itest_open(&t, NULL);
    for (int i = 0; i < 5; i++) {
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
        itest_assert_ok(f, 200);
        assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 1);
        hxc_timings tm;
        hxc_response_timings(hxc_future_response(f), &tm);
        assert_int_equal(tm.reused, i > 0);
        hxc_future_free(f);
    }
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    assert_int_equal(st.connections_reused, 4);
    assert_int_equal(st.requests_completed, 5);
    long conns, tls, reqs;
    assert_int_equal(testsrv_stats(&srv, &conns, &tls, &reqs), 0);
    assert_int_equal(conns, 1 + 1); /* ours + the stats request's own connection */
    assert_int_equal(reqs, 5);
    itest_close(&t);
}

static void test_concurrency_limits(void **state)
{
    (void)state;
    assert_int_equal(testsrv_stats_reset(&srv), 0);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 8;
    itest t;
    itest_open(&t, &cfg);
    itest_counter cnt;
    itest_counter_init(&cnt, NULL, -1);
    itest_send_n(t.client, itest_url(&srv, 0, "/bytes/2048"), 300, &cnt);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_queued, 300);
    itest_run_until(t.base, &cnt.done, 300);
    assert_int_equal(cnt.ok, 300);
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 8);
    assert_true(cnt.max_conn_id <= 8);
    assert_int_equal(st.requests_active + st.requests_queued, 0);
    long conns, tls, reqs;
    assert_int_equal(testsrv_stats(&srv, &conns, &tls, &reqs), 0);
    assert_int_equal(conns, 8 + 1);
    assert_int_equal(reqs, 300);
    itest_close(&t);
}

static void test_per_host_limit(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 50;
    cfg.max_connections_per_host = 3;
    itest t;
    itest_open(&t, &cfg);
    itest_counter cnt;
    itest_counter_init(&cnt, NULL, -1);
    itest_send_n(t.client, itest_url(&srv, 0, "/delay/20"), 30, &cnt);
    itest_run_until(t.base, &cnt.done, 30);
    assert_int_equal(cnt.ok, 30);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 3);
    itest_close(&t);
}

static void test_futures_all_any(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    hxc_future *fs[10];
    for (int i = 0; i < 10; i++)
        fs[i] = itest_start(t.client, "GET", itest_url(&srv, 0, "/bytes/64"), NULL);
    hxc_future *all = hxc_future_all(fs, 10);
    assert_int_equal(hxc_future_wait(all), 0);
    for (int i = 0; i < 10; i++) {
        assert_true(hxc_future_done(fs[i]));
        itest_assert_ok(fs[i], 200);
        hxc_future_free(fs[i]);
    }
    assert_null(hxc_future_response(all));
    hxc_future_free(all);

    hxc_future *race[2];
    race[0] = itest_start(t.client, "GET", itest_url(&srv, 0, "/hang"), NULL);
    race[1] = itest_start(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    hxc_future *any = hxc_future_any(race, 2);
    assert_int_equal(hxc_future_wait(any), 0);
    assert_int_equal(hxc_future_any_index(any), 1);
    assert_int_equal(hxc_response_status(hxc_future_response(any)), 200);
    assert_false(hxc_future_done(race[0]));
    hxc_future_cancel(race[0]);
    assert_int_equal(hxc_future_wait(race[0]), HXC_ECANCELLED);
    hxc_future_free(race[0]);
    hxc_future_free(race[1]);
    hxc_future_free(any);
    itest_close(&t);
}

/* ---- calling back into the library from callbacks ------------------------ */

typedef struct reentry {
    itest *t;
    int step;
    hxc_response *kept;
    hxc_future *hanging;
    int cancelled_seen;
} reentry;

static void reentry_cb(hxc_response *r, int err, void *ud)
{
    reentry *re = ud;
    re->step++;
    if (re->step == 1) {
        assert_int_equal(err, 0);
        re->kept = hxc_response_retain(r); /* keep it past the callback */
        /* A new request from inside a callback. */
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", hxc_response_url(r)), 0);
        assert_int_equal(hxc_client_send(re->t->client, req, reentry_cb, re), 0);
        /* Cancel another request from inside a callback. */
        hxc_future_cancel(re->hanging);
    } else if (re->step == 2) {
        assert_int_equal(err, 0);
        /* Abort with nothing in flight, then free the hanging future, from a callback. */
        hxc_client_abort(re->t->client);
        assert_true(hxc_future_done(re->hanging));
        assert_int_equal(hxc_future_error(re->hanging), HXC_ECANCELLED);
        hxc_future_free(re->hanging);
        re->hanging = NULL;
    }
}

static void test_reentrant_calls(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    reentry re = {&t, 0, NULL, NULL, 0};
    re.hanging = itest_start(t.client, "GET", itest_url(&srv, 0, "/hang"), NULL);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/hello")), 0);
    assert_int_equal(hxc_client_send(t.client, req, reentry_cb, &re), 0);
    assert_int_equal(re.step, 0); /* never called from inside send */
    itest_run_until(t.base, &re.step, 2);
    assert_null(re.hanging);
    assert_string_equal((const char *)hxc_response_body(re.kept, NULL), "hello\n");
    hxc_response_release(re.kept);
    /* The client still works. */
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_abort(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 3;
    itest t;
    itest_open(&t, &cfg);
    itest_counter cnt;
    itest_counter_init(&cnt, NULL, -1);
    itest_send_n(t.client, itest_url(&srv, 0, "/hang"), 6, &cnt);
    for (int i = 0; i < 50; i++)
        event_base_loop(t.base, EVLOOP_NONBLOCK);
    hxc_client_abort(t.client);
    itest_run_until(t.base, &cnt.done, 6);
    assert_int_equal(cnt.failed, 6);
    assert_int_equal(cnt.first_err, HXC_ECANCELLED);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_open, 0);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_graceful_close(void **state)
{
    (void)state;
    itest t;
    itest_open(&t, NULL);
    itest_counter cnt;
    itest_counter_init(&cnt, NULL, -1);
    itest_send_n(t.client, itest_url(&srv, 0, "/delay/50"), 10, &cnt);
    assert_int_equal(hxc_client_close(t.client, itest_closed_cb, &t), 0);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/hello")), 0);
    assert_int_equal(hxc_client_send(t.client, req, itest_count_cb, &cnt), HXC_ECLIENT_CLOSED);
    hxc_request_free(req); /* a failed send leaves the request with the caller */
    assert_int_equal(hxc_client_close(t.client, NULL, NULL), HXC_EINVAL);
    for (int i = 0; !t.closed && i < 100000; i++)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_true(t.closed);
    assert_int_equal(cnt.done, 10); /* in-flight requests finished first */
    assert_int_equal(cnt.ok, 10);
    event_base_free(t.base);
}

typedef struct run_arg {
    const char *url;
    itest_counter cnt;
} run_arg;

static int run_body(hxc_client *c, void *arg)
{
    run_arg *ra = arg;
    itest_send_n(c, ra->url, 20, &ra->cnt);
    return 0;
}

static int run_fail(hxc_client *c, void *arg)
{
    (void)c;
    (void)arg;
    return -42;
}

static void test_runner(void **state)
{
    (void)state;
    run_arg ra;
    ra.url = itest_url(&srv, 0, "/bytes/10");
    itest_counter_init(&ra.cnt, NULL, -1);
    assert_int_equal(hxc_run(NULL, NULL, run_body, &ra), 0);
    assert_int_equal(ra.cnt.done, 20);
    assert_int_equal(ra.cnt.ok, 20);
    struct event_base *base = event_base_new();
    assert_int_equal(hxc_run(base, NULL, run_fail, NULL), -42);
    event_base_free(base);
    assert_int_equal(hxc_run(NULL, NULL, NULL, NULL), HXC_EINVAL);
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void test_idle_expiry(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.keepalive_expiry = 0.2;
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_idle, 1);
    /* Let the loop run past the expiry (a timer of our own keeps it busy). */
    struct event *tick = evtimer_new(t.base, stop_loop, t.base);
    struct timeval tv = {0, 400000};
    evtimer_add(tick, &tv);
    event_base_dispatch(t.base);
    event_free(tick);
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_open, 0);
    assert_int_equal(st.connections_idle, 0);
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 2);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_ipv6(void **state)
{
    (void)state;
    testsrv s6;
    const char *args[] = {"--host", "::1", NULL};
    if (testsrv_start(&s6, args) != 0)
        skip(); /* no IPv6 loopback on this machine */
    itest t;
    itest_open(&t, NULL);
    char url[128];
    snprintf(url, sizeof(url), "http://[::1]:%d/hello", s6.http_port);
    hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_bytes),
        cmocka_unit_test(test_chunked_trailers),
        cmocka_unit_test(test_head_and_reuse),
        cmocka_unit_test(test_statuses_without_body),
        cmocka_unit_test(test_interim_responses_skipped),
        cmocka_unit_test(test_echo_post),
        cmocka_unit_test(test_shared_request),
        cmocka_unit_test(test_discarded_body),
        cmocka_unit_test(test_default_accept),
        cmocka_unit_test(test_repeated_headers),
        cmocka_unit_test(test_http10_and_close_delimited),
        cmocka_unit_test(test_keepalive_reuse),
        cmocka_unit_test(test_concurrency_limits),
        cmocka_unit_test(test_per_host_limit),
        cmocka_unit_test(test_futures_all_any),
        cmocka_unit_test(test_reentrant_calls),
        cmocka_unit_test(test_abort),
        cmocka_unit_test(test_graceful_close),
        cmocka_unit_test(test_runner),
        cmocka_unit_test(test_idle_expiry),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
