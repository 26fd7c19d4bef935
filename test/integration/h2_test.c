/* SPDX-License-Identifier: MIT */
/*
 * Integration: HTTP/2 against the project's test server: opt-in by ALPN,
 * prior knowledge (h2c), multiplexing and session counts, the peer's stream
 * limit, RST_STREAM codes, REFUSED_STREAM and GOAWAY retries, cancellation
 * and timeouts of single streams on a session that carries on.
 */
#include <unistd.h>

#include "itest.h"

static char ca[512];

static int setup(void **state)
{
    (void)state;
    snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
    return 0;
}

static void h2c_config(hxc_client_config *cfg)
{
    hxc_client_config_init(cfg);
    cfg->http2_prior_knowledge = 1;
}

static void test_alpn_opt_in(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start_tls(&s, "server", NULL), 0);
    char url[128];
    snprintf(url, sizeof(url), "https://localhost:%d/hello", s.https_port);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.ca_file = ca;
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), "HTTP/1.1");
    hxc_future_free(f);
    itest_close(&t);

    cfg.http2 = 1;
    itest_open(&t, &cfg);
    f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), "HTTP/2");
    assert_string_equal((const char *)hxc_response_body(hxc_future_response(f), NULL), "hello\n");
    hxc_timings tm;
    hxc_response_timings(hxc_future_response(f), &tm);
    assert_true(tm.tls > 0);
    hxc_future_free(f);
    /* http:// without prior knowledge stays HTTP/1.1, as in HTTPX. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", s.http_port);
    f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), "HTTP/1.1");
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_multiplexing_1000_on_one_connection(void **state)
{
    (void)state;
    testsrv s;
    const char *args[] = {"--h2-max-streams", "1000", NULL};
    assert_int_equal(testsrv_start(&s, args), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.http2_max_concurrent_streams = 1000;
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, "HTTP/2", -1);
    itest_burst(&t, itest_url(&s, 0, "/bytes/1024"), 1000, &c);
    assert_int_equal(c.ok, 1000);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    long conns, tls, reqs;
    assert_int_equal(testsrv_stats(&s, &conns, &tls, &reqs), 0);
    assert_int_equal(conns, 1 + 1); /* ours + the stats request's */
    assert_int_equal(reqs, 1000);
    assert_int_equal(testsrv_stat(&s, "goaways"), 0);
    /* One request object sent as 200 concurrent streams (hxc_request_retain). */
    itest_shared_request(&t, itest_url(&s, 0, "/echo"), "HTTP/2", 200);
    itest_discarded_body(&t, itest_url(&s, 0, "/bytes/100000"), "HTTP/2");
    itest_close(&t);
    /* A graceful close says goodbye with GOAWAY. */
    for (int i = 0; i < 50 && testsrv_stat(&s, "goaways") < 1; i++)
        usleep(10000);
    assert_int_equal(testsrv_stat(&s, "goaways"), 1);
    testsrv_stop(&s);
}

/* The default Accept over HTTP/2 (HPACK): sent unless configured as "". */
static void test_default_accept_h2(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    for (int none = 0; none < 2; none++) {
        cfg.accept = none ? "" : NULL;
        itest t;
        itest_open(&t, &cfg);
        hxc_future *f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/echo"), NULL);
        itest_assert_ok(f, 200);
        assert_string_equal(hxc_response_http_version(hxc_future_response(f)), "HTTP/2");
        const char *b = (const char *)hxc_response_body(hxc_future_response(f), NULL);
        if (none)
            assert_null(strstr(b, "accept:"));
        else
            assert_non_null(strstr(b, "\naccept: */*\n"));
        hxc_future_free(f);
        itest_close(&t);
    }
    testsrv_stop(&s);
}

static void test_peer_limit_and_new_sessions(void **state)
{
    (void)state;
    testsrv s;
    const char *args[] = {"--h2-max-streams", "5", NULL};
    assert_int_equal(testsrv_start(&s, args), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.max_connections = 1;
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, "HTTP/2", -1);
    itest_burst(&t, itest_url(&s, 0, "/delay/20"), 40, &c);
    assert_int_equal(c.ok, 40);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    itest_close(&t);

    /* Room for more connections: a new session opens only when the others are full. */
    cfg.max_connections = 10;
    itest_open(&t, &cfg);
    itest_counter d;
    itest_counter_init(&d, "HTTP/2", -1);
    itest_burst(&t, itest_url(&s, 0, "/delay/200"), 20, &d);
    assert_int_equal(d.ok, 20);
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 4);
    itest_close(&t);
    testsrv_stop(&s);
}

typedef struct spread {
    int done;
    int per_conn[16];
} spread;

static void spread_cb(hxc_response *r, int err, void *ud)
{
    spread *sp = ud;
    sp->done++;
    uint64_t id = hxc_response_connection_id(r);
    if (err == 0 && id > 0 && id < 16)
        sp->per_conn[id]++;
}

static void test_cancelled_streams_free_their_slots(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.max_connections = 1;
    cfg.http2_max_concurrent_streams = 2;
    cfg.pool_timeout = 2;
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    for (int round = 0; round < 8; round++) {
        /* Started, then cancelled: RST_STREAM gives the slot back. From round
         * 5 on they are cancelled before their HEADERS left (no loop turn in
         * between): nghttp2 drops the queued frames unsent, and the slots come
         * back too. */
        hxc_future *a = itest_start(t.client, "GET", itest_url(&s, 0, "/hang"), NULL);
        hxc_future *b = itest_start(t.client, "GET", itest_url(&s, 0, "/hang"), NULL);
        if (round < 5)
            event_base_loop(t.base, EVLOOP_NONBLOCK); /* dispatched onto the session */
        hxc_future_cancel(a);
        hxc_future_cancel(b);
        assert_int_equal(hxc_future_wait(a), HXC_ECANCELLED);
        assert_int_equal(hxc_future_wait(b), HXC_ECANCELLED);
        hxc_future_free(a);
        hxc_future_free(b);
    }
    /* Both stream slots are free again: two requests run on the one connection. */
    hxc_future *x = itest_start(t.client, "GET", itest_url(&s, 0, "/delay/50"), NULL);
    hxc_future *y = itest_start(t.client, "GET", itest_url(&s, 0, "/delay/50"), NULL);
    assert_int_equal(hxc_future_wait(x), 0);
    assert_int_equal(hxc_future_wait(y), 0);
    hxc_future_free(x);
    hxc_future_free(y);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_exact_connections_and_streams(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.exact_connections = 4;             /* h2load -c 4 */
    cfg.http2_max_concurrent_streams = 10; /* h2load -m 10 */
    itest t;
    itest_open(&t, &cfg);
    spread sp;
    memset(&sp, 0, sizeof(sp));
    for (int i = 0; i < 40; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", itest_url(&s, 0, "/delay/100")), 0);
        assert_int_equal(hxc_client_send(t.client, req, spread_cb, &sp), 0);
    }
    for (int i = 0; sp.done < 40 && i < 100000; i++)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_int_equal(sp.done, 40);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 4);
    for (int id = 1; id <= 4; id++)
        assert_int_equal(sp.per_conn[id], 10);
    itest_close(&t);
    testsrv_stop(&s);
}

typedef struct pushes {
    int promised, delivered, accept;
    char last_url[256];
    char body[64];
    char version[16];
} pushes;

static int on_promise(hxc_client *c, const hxc_request *promised, void *ud)
{
    (void)c;
    pushes *p = ud;
    p->promised++;
    snprintf(p->last_url, sizeof(p->last_url), "%s %s", hxc_request_method(promised),
             hxc_request_url(promised));
    return p->accept;
}

static void on_pushed(hxc_response *r, int err, void *ud)
{
    pushes *p = ud;
    p->delivered++;
    assert_int_equal(err, 0);
    assert_int_equal(hxc_response_status(r), 200);
    snprintf(p->body, sizeof(p->body), "%s", (const char *)hxc_response_body(r, NULL));
    snprintf(p->version, sizeof(p->version), "%s", hxc_response_http_version(r));
}

static void run_push(const testsrv *s, int with_cb, int accept, const char *path, pushes *p)
{
    hxc_client_config cfg;
    h2c_config(&cfg);
    memset(p, 0, sizeof(*p));
    p->accept = accept;
    if (with_cb) {
        cfg.push_promise = on_promise;
        cfg.push_response = on_pushed;
        cfg.push_user_data = p;
    }
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(s, 0, path), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    /* The pushed stream may finish after the main one: let the loop settle. */
    for (int i = 0; i < 50 && with_cb && accept && p->delivered == 0; i++)
        event_base_loop(t.base, EVLOOP_ONCE);
    f = itest_fetch(t.client, "GET", itest_url(s, 0, "/hello"), NULL); /* still fine */
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_server_push(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    pushes p;
    /* Off by default: the server is told SETTINGS_ENABLE_PUSH = 0. */
    run_push(&s, 0, 0, "/push", &p);
    assert_int_equal(testsrv_stat(&s, "pushes"), 0);
    /* Accepted: delivered as a response. */
    run_push(&s, 1, 1, "/push", &p);
    assert_int_equal(testsrv_stat(&s, "pushes"), 1);
    assert_int_equal(p.promised, 1);
    char want[128];
    snprintf(want, sizeof(want), "GET %s", itest_url(&s, 0, "/pushed"));
    assert_string_equal(p.last_url, want);
    assert_int_equal(p.delivered, 1);
    assert_string_equal(p.body, "pushed\n");
    assert_string_equal(p.version, "HTTP/2");
    /* Refused: never delivered. */
    run_push(&s, 1, 0, "/push", &p);
    assert_int_equal(p.promised, 1);
    assert_int_equal(p.delivered, 0);
    /* A push for another origin is refused before the user is even asked. */
    run_push(&s, 1, 1, "/push-other", &p);
    assert_int_equal(testsrv_stat(&s, "pushes"), 3);
    assert_int_equal(p.promised, 0);
    assert_int_equal(p.delivered, 0);
    testsrv_stop(&s);
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static hxc_future *h2_fetch_path(itest *t, const testsrv *s, const char *path)
{
    return itest_fetch(t->client, "GET", itest_url(s, 0, path), NULL);
}

static void test_ping_drops_dead_idle_session(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.http2_ping_interval = 0.1;
    itest t;
    itest_open(&t, &cfg);
    /* A live idle session answers its PINGs and stays. */
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    struct event *tick = evtimer_new(t.base, stop_loop, t.base);
    struct timeval tv = {0, 450000};
    evtimer_add(tick, &tv);
    event_base_dispatch(t.base);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_open, 1);
    /* A peer that stops reading: its session is dropped before reuse. */
    f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/freeze"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    evtimer_add(tick, &tv);
    event_base_dispatch(t.base);
    event_free(tick);
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_open, 0);
    f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 2);
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_session_death_fails_open_streams_once(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    hxc_future *hang[5];
    for (int i = 0; i < 5; i++)
        hang[i] = itest_start(t.client, "GET", itest_url(&s, 0, "/hang"), NULL);
    hxc_future *ok = itest_fetch(t.client, "GET", itest_url(&s, 0, "/interim"), NULL);
    itest_assert_ok(ok, 200); /* a 103 before the final response is skipped */
    assert_string_equal((const char *)hxc_response_body(hxc_future_response(ok), NULL), "hello\n");
    assert_null(hxc_headers_get(hxc_response_headers(hxc_future_response(ok)), "link"));
    hxc_future_free(ok);
    hxc_future *kill = itest_fetch(t.client, "GET", itest_url(&s, 0, "/kill"), NULL);
    itest_assert_err(kill, HXC_ECLOSED);
    hxc_future_free(kill);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(hxc_future_wait(hang[i]), HXC_ECLOSED);
        hxc_future_free(hang[i]);
    }
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_completed, 7); /* each failed exactly once */
    assert_int_equal(st.requests_retried, 0);   /* they may have been processed */
    hxc_future *after = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(after, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(after)), 2);
    hxc_future_free(after);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_h2_header_limits(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.max_response_header_bytes = 16 * 1024;
    cfg.max_response_headers = 100;
    itest t;
    itest_open(&t, &cfg);
    /* Decoded size over the limit (HPACK makes the wire small: counted decoded). */
    hxc_future *f = h2_fetch_path(&t, &s, "/headers?n=50&size=1000");
    itest_assert_err(f, HXC_EHEADERS_TOO_LARGE);
    hxc_future_free(f);
    f = h2_fetch_path(&t, &s, "/headers?n=500&size=1");
    itest_assert_err(f, HXC_EHEADERS_TOO_LARGE);
    hxc_future_free(f);
    f = h2_fetch_path(&t, &s, "/headers?n=20&size=100");
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), "HTTP/2");
    assert_int_equal(hxc_headers_count_of(hxc_response_headers(hxc_future_response(f)), "x-h-19"),
                     1);
    hxc_future_free(f);
    /* Fields are kept byte for byte whatever their length (short ones are
     * copied without memcpy: every length class is crossed here). */
    static const int sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 100, 4000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        char path[64];
        snprintf(path, sizeof(path), "/headers?n=3&size=%d", sizes[k]);
        f = h2_fetch_path(&t, &s, path);
        itest_assert_ok(f, 200);
        const hxc_headers *h = hxc_response_headers(hxc_future_response(f));
        assert_int_equal(hxc_headers_count(h), 3);
        for (size_t i = 0; i < 3; i++) {
            const char *name, *value;
            char want[8];
            assert_int_equal(hxc_headers_at(h, i, &name, &value), 0);
            snprintf(want, sizeof(want), "x-h-%zu", i);
            assert_string_equal(name, want);
            assert_int_equal(strlen(value), (size_t)sizes[k]);
            assert_int_equal(strspn(value, "v"), (size_t)sizes[k]);
        }
        hxc_future_free(f);
    }
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1); /* only the streams were reset */
    itest_close(&t);
    testsrv_stop(&s);
}

static hxc_future *h2_fetch(itest *t, const testsrv *s, const char *path)
{
    return itest_fetch(t->client, "GET", itest_url(s, 0, path), NULL);
}

static void test_settings_change_mid_session(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.max_connections = 1;
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, "HTTP/2", -1);
    itest_burst(&t, itest_url(&s, 0, "/delay/50"), 20, &c);
    assert_int_equal(c.ok, 20);
    assert_int_equal(testsrv_stat(&s, "max_open_streams"), 20);
    hxc_future *f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/settings?max=3"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    assert_int_equal(testsrv_stats_reset(&s), 0);
    itest_counter d;
    itest_counter_init(&d, "HTTP/2", -1);
    itest_burst(&t, itest_url(&s, 0, "/delay/50"), 20, &d);
    assert_int_equal(d.ok, 20);
    assert_int_equal(testsrv_stat(&s, "max_open_streams"), 3); /* the new limit was honoured */
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_stream_reset_keeps_session(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = h2_fetch(&t, &s, "/reset?code=8");
    itest_assert_err(f, HXC_ESTREAM_RESET);
    assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)), "CANCEL"));
    hxc_future_free(f);
    f = h2_fetch(&t, &s, "/reset-mid?code=2");
    itest_assert_err(f, HXC_ESTREAM_RESET);
    assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)), "INTERNAL_ERROR"));
    hxc_future_free(f);
    f = h2_fetch(&t, &s, "/hello");
    itest_assert_ok(f, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 1);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_retried, 0);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_refused_stream_retried_with_a_budget(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.total_timeout = 1; /* the budget: retried with backoff until it passes */
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "POST", itest_url(&s, 0, "/reset?code=7"), "body");
    itest_assert_err(f, HXC_ETIMEOUT_TOTAL);
    assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)), "REFUSED_STREAM"));
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_true(st.requests_retried >= 3); /* any method: unprocessed */
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_goaway_streams_above_last_id_retried(void **state)
{
    (void)state;
    testsrv s;
    const char *args[] = {"--h2-goaway-after", "5", NULL};
    assert_int_equal(testsrv_start(&s, args), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, "HTTP/2", -1);
    itest_burst(&t, itest_url(&s, 0, "/delay/50"), 20, &c);
    assert_int_equal(c.ok, 20);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_true(st.connections_opened >= 4); /* each session takes 5 */
    assert_true(st.requests_retried >= 15);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_goaway_error_not_retried(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = h2_fetch(&t, &s, "/goaway-error");
    itest_assert_err(f, HXC_EPROTO_REMOTE);
    assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)), "GOAWAY"));
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_retried, 0);
    /* A graceful GOAWAY: this stream is answered, the next request uses a new session. */
    f = h2_fetch(&t, &s, "/goaway");
    itest_assert_ok(f, 200);
    uint64_t id = hxc_response_connection_id(hxc_future_response(f));
    hxc_future_free(f);
    f = h2_fetch(&t, &s, "/hello");
    itest_assert_ok(f, 200);
    assert_true(hxc_response_connection_id(hxc_future_response(f)) > id);
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

/* Buffered bodies far larger than the windows: the stream is credited each
 * quarter window, the connection after each read, so nothing stalls; several
 * at once share the connection window. */
static void test_bodies_larger_than_windows(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.http2_stream_window = 65535;
    cfg.http2_connection_window = 65535 * 2;
    cfg.read_timeout = 5; /* a window never credited would stall into this */
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f[3];
    for (int i = 0; i < 3; i++)
        f[i] = itest_start(t.client, "GET", itest_url(&s, 0, "/bytes/1000000"), NULL);
    for (int i = 0; i < 3; i++) {
        hxc_future_wait(f[i]);
        itest_assert_ok(f[i], 200);
        size_t len;
        const uint8_t *b = hxc_response_body(hxc_future_response(f[i]), &len);
        assert_int_equal(len, 1000000);
        assert_int_equal(b[999999], 'a' + 999999 % 26);
        assert_string_equal(hxc_response_http_version(hxc_future_response(f[i])), "HTTP/2");
        hxc_future_free(f[i]);
    }
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_bodies_trailers_limits(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    cfg.max_response_body_bytes = 500000;
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = h2_fetch(&t, &s, "/bytes/400000");
    itest_assert_ok(f, 200);
    size_t len;
    const uint8_t *b = hxc_response_body(hxc_future_response(f), &len);
    assert_int_equal(len, 400000);
    assert_int_equal(b[399999], 'a' + 399999 % 26);
    hxc_future_free(f);
    f = h2_fetch(&t, &s, "/trailers");
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_headers_get(hxc_response_trailers(hxc_future_response(f)), "X-Trailer"),
                        "yes");
    hxc_future_free(f);
    f = h2_fetch(&t, &s, "/bytes/600000");
    itest_assert_err(f, HXC_EBODY_TOO_LARGE);
    hxc_future_free(f);
    f = itest_fetch(t.client, "POST", itest_url(&s, 0, "/echo"), "posted over h2");
    itest_assert_ok(f, 200);
    const char *e = (const char *)hxc_response_body(hxc_future_response(f), &len);
    assert_true(strncmp(e, "POST /echo\n", 11) == 0);
    assert_non_null(strstr(e, "content-length: 14\n"));
    assert_non_null(strstr(e, "user-agent: hxc/"));
    assert_true(len > 14 && memcmp(e + len - 14, "posted over h2", 14) == 0);
    hxc_future_free(f);
    /* RFC 9218 priority travels as a header field. */
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&s, 0, "/echo")), 0);
    assert_int_equal(hxc_request_set_priority(req, 8, 0), HXC_EINVAL);
    assert_int_equal(hxc_request_set_priority(req, 5, 0), 0);
    assert_int_equal(hxc_request_set_priority(req, 1, 1), 0); /* replaces */
    f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    e = (const char *)hxc_response_body(hxc_future_response(f), &len);
    assert_non_null(strstr(e, "\npriority: u=1, i\n"));
    assert_null(strstr(e, "u=5"));
    hxc_future_free(f);
    f = h2_fetch(&t, &s, "/status/204");
    itest_assert_ok(f, 204);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1); /* the body limit reset only its stream */
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_cancel_and_timeout_one_stream(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    h2c_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    hxc_future *ok = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(ok, 200);
    hxc_future_free(ok);
    hxc_future *hang = itest_start(t.client, "GET", itest_url(&s, 0, "/hang"), NULL);
    hxc_future *other = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(other, 200);
    hxc_future_free(other);
    hxc_future_cancel(hang);
    assert_int_equal(hxc_future_wait(hang), HXC_ECANCELLED);
    hxc_future_free(hang);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&s, 0, "/hang")), 0);
    assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_READ, 0.3), 0);
    hxc_future *slow = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(slow), HXC_ETIMEOUT_READ);
    hxc_future_free(slow);
    hxc_future *after = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(after, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(after)), 1);
    hxc_future_free(after);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    itest_close(&t);
    testsrv_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alpn_opt_in),
        cmocka_unit_test(test_multiplexing_1000_on_one_connection),
        cmocka_unit_test(test_default_accept_h2),
        cmocka_unit_test(test_peer_limit_and_new_sessions),
        cmocka_unit_test(test_settings_change_mid_session),
        cmocka_unit_test(test_stream_reset_keeps_session),
        cmocka_unit_test(test_refused_stream_retried_with_a_budget),
        cmocka_unit_test(test_goaway_streams_above_last_id_retried),
        cmocka_unit_test(test_goaway_error_not_retried),
        cmocka_unit_test(test_bodies_larger_than_windows),
        cmocka_unit_test(test_bodies_trailers_limits),
        cmocka_unit_test(test_cancel_and_timeout_one_stream),
        cmocka_unit_test(test_exact_connections_and_streams),
        cmocka_unit_test(test_cancelled_streams_free_their_slots),
        cmocka_unit_test(test_server_push),
        cmocka_unit_test(test_ping_drops_dead_idle_session),
        cmocka_unit_test(test_h2_header_limits),
        cmocka_unit_test(test_session_death_fails_open_streams_once),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
