/* SPDX-License-Identifier: MIT */
/*
 * Integration: streamed bodies over HTTP/1.1 and HTTP/2. Downloads: chunks
 * arrive in order, a paused consumer bounds what is held in memory (reads
 * stop / windows are not credited), resume carries on, a callback can abort
 * its request without hurting the connection. Uploads: a producer callback,
 * chunked or with a length, paused and resumed, failing, or lying about its
 * length.
 */
#include "itest.h"

ITEST_SERVER_FIXTURE

typedef struct sink {
    struct event_base *base;
    int headers_seen;
    int status_at_head;
    uint64_t bytes;
    int chunks;
    int bad_pattern;
    int pause_at_first; /* return HXC_PAUSE on the first chunk */
    int abort_after;    /* bytes after which to return an error */
    hxc_response *paused;
    size_t held_while_paused;
    int resumed;
} sink;

static int on_head(hxc_response *r, void *ud)
{
    sink *s = ud;
    s->headers_seen++;
    s->status_at_head = hxc_response_status(r);
    return 0;
}

static int on_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    sink *s = ud;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 'a' + (s->bytes + i) % 26)
            s->bad_pattern = 1;
    s->bytes += n;
    s->chunks++;
    if (s->abort_after && s->bytes >= (uint64_t)s->abort_after)
        return HXC_ECANCELLED;
    if (s->pause_at_first && s->chunks == 1) {
        s->paused = r;
        return HXC_PAUSE;
    }
    return 0;
}

static void resume_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sink *s = arg;
    size_t held;
    hxc_response_body(s->paused, &held);
    s->held_while_paused = held;
    s->resumed = 1;
    assert_int_equal(hxc_response_resume(s->paused), 0);
    assert_int_equal(hxc_response_resume(s->paused), HXC_EINVAL); /* not paused any more */
}

static hxc_future *start_stream(itest *t, const char *url, sink *s)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", url), 0);
    assert_int_equal(hxc_request_on_response_stream(req, on_head, on_body, s), 0);
    hxc_future *f = hxc_client_request(t->client, req);
    assert_non_null(f);
    return f;
}

/* Over TLS (`tls`): records that OpenSSL read ahead wait inside it, not in
 * the socket; a pause, and the end of a read round, must not strand them. */
static void stream_big(int h2, size_t n, int pause, int tls)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    testsrv tsrv;
    const testsrv *server = &srv;
    char ca[512];
    if (tls) {
        assert_int_equal(testsrv_start_tls(&tsrv, "server", NULL), 0);
        server = &tsrv;
        snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
        cfg.ca_file = ca;
        cfg.http2 = h2; /* by ALPN */
    } else {
        cfg.http2_prior_knowledge = h2;
    }
    cfg.http2_stream_window = 65535; /* small windows: the pause must hold the server */
    cfg.http2_connection_window = 65535 * 4;
    cfg.max_response_body_bytes = 0; /* streamed: no buffer to cap */
    cfg.read_timeout = 0.15; /* shorter than the pause: a paused consumer is not a slow server */
    itest t;
    itest_open(&t, &cfg);
    sink s;
    memset(&s, 0, sizeof(s));
    s.pause_at_first = pause;
    char path[64];
    snprintf(path, sizeof(path), "/bytes/%zu", n);
    hxc_future *f = start_stream(&t, itest_url(server, tls, path), &s);
    struct event *tm = NULL;
    if (pause) {
        /* Run until paused, then let time pass with the consumer stalled. */
        for (int i = 0; s.paused == NULL && i < 100000; i++)
            event_base_loop(t.base, EVLOOP_ONCE);
        assert_non_null(s.paused);
        tm = evtimer_new(t.base, resume_later, &s);
        struct timeval tv = {0, 300000};
        evtimer_add(tm, &tv);
    }
    assert_int_equal(hxc_future_wait(f), 0);
    if (tm)
        event_free(tm);
    hxc_response *r = hxc_future_response(f);
    assert_int_equal(hxc_response_status(r), 200);
    assert_string_equal(hxc_response_http_version(r), h2 ? "HTTP/2" : "HTTP/1.1");
    assert_int_equal(s.headers_seen, 1);
    assert_int_equal(s.status_at_head, 200);
    assert_int_equal(s.bytes, n);
    assert_int_equal(s.bad_pattern, 0);
    size_t len;
    hxc_response_body(r, &len);
    assert_int_equal(len, 0); /* nothing was kept */
    if (pause) {
        assert_true(s.resumed);
        /* While paused, what was held stayed bounded: HTTP/2 by the stream
         * window, HTTP/1.1 by the read stop (1 MiB plus one 64 KiB read). */
        if (h2) {
            assert_true(s.held_while_paused <= 65535);
        } else {
            assert_true(s.held_while_paused <= (1u << 20) + 65536);
            assert_true(s.held_while_paused > 0); /* reading went on up to the mark */
        }
    }
    hxc_future_free(f);
    /* The connection is still good. */
    f = itest_fetch(t.client, "GET", itest_url(server, tls, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    itest_close(&t);
    if (tls)
        testsrv_stop(&tsrv);
}

static void test_h1_stream(void **state)
{
    (void)state;
    stream_big(0, 5000000, 0, 0);
}

static void test_h1_stream_paused(void **state)
{
    (void)state;
    stream_big(0, 8000000, 1, 0);
}

static void test_h2_stream(void **state)
{
    (void)state;
    stream_big(1, 5000000, 0, 0);
}

static void test_h2_stream_paused(void **state)
{
    (void)state;
    stream_big(1, 3000000, 1, 0);
}

static void test_h1_stream_tls(void **state)
{
    (void)state;
    stream_big(0, 5000000, 0, 1);
}

static void test_h1_stream_paused_tls(void **state)
{
    (void)state;
    stream_big(0, 8000000, 1, 1);
    /* The read stop comes just past 1 MiB: the rest of this body is then in
     * OpenSSL's read-ahead buffer, none in the socket to wake the loop. */
    for (size_t tail = 1000; tail <= 61000; tail += 20000)
        stream_big(0, (1u << 20) + tail, 1, 1);
}

static void test_h2_stream_paused_tls(void **state)
{
    (void)state;
    stream_big(1, 3000000, 1, 1);
}

static void abort_from_callback(int h2)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    itest t;
    itest_open(&t, &cfg);
    sink s;
    memset(&s, 0, sizeof(s));
    s.abort_after = 100000;
    hxc_future *f = start_stream(&t, itest_url(&srv, 0, "/bytes/2000000"), &s);
    assert_int_equal(hxc_future_wait(f), HXC_ECANCELLED);
    assert_true(s.bytes >= 100000 && s.bytes < 2000000);
    hxc_future_free(f);
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/bytes/70000"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_abort_from_body_callback(void **state)
{
    (void)state;
    abort_from_callback(0);
    abort_from_callback(1);
}

static void closed_flag(hxc_client *c, void *ud)
{
    (void)c;
    *(int *)ud = 1;
}

static void paused_then_abort(const char *path)
{
    itest t;
    itest_open(&t, NULL);
    sink s;
    memset(&s, 0, sizeof(s));
    s.pause_at_first = 1;
    hxc_future *f = start_stream(&t, itest_url(&srv, 0, path), &s);
    for (int i = 0; s.paused == NULL && i < 100000; i++)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_non_null(s.paused);
    int closed = 0;
    assert_int_equal(hxc_client_close(t.client, closed_flag, &closed), 0);
    for (int i = 0; i < 200; i++)
        event_base_loop(t.base, EVLOOP_NONBLOCK);
    assert_false(closed); /* the paused stream holds the close */
    assert_false(hxc_future_done(f));
    hxc_client_abort(t.client); /* ends it: what it held is dropped */
    assert_int_equal(hxc_future_wait(f), HXC_ECANCELLED);
    hxc_future_free(f);
    for (int i = 0; !closed && i < 100000; i++)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_true(closed);
    event_base_free(t.base);
}

static void test_paused_stream_holds_close_until_abort(void **state)
{
    (void)state;
    paused_then_abort("/bytes/200000");        /* arrives whole while paused: finished, held */
    paused_then_abort("/hang-body?n=4000000"); /* still in flight when aborted */
}

/* ---- streamed uploads ---------------------------------------------------- */

typedef struct producer {
    size_t total, sent, piece;
    int pause_first; /* return HXC_PAUSE once, resumed by a timer */
    int paused_once;
    int fail_at; /* return an error after this many bytes (0: never) */
    int overrun; /* produce more than announced */
    int drip;    /* pause 60 ms before every piece (a slow producer) */
    int dripped;
    hxc_request *req;
    struct event *timer;
} producer;

static void resume_body(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    producer *p = arg;
    assert_int_equal(hxc_request_resume_body(p->req), 0);
}

static int produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof, void *ud)
{
    producer *p = ud;
    p->req = req;
    if (p->pause_first && !p->paused_once) {
        p->paused_once = 1;
        struct timeval tv = {0, 100000};
        evtimer_add(p->timer, &tv);
        assert_int_equal(hxc_request_resume_body(req), HXC_EINVAL); /* not paused yet */
        return HXC_PAUSE;
    }
    if (p->fail_at && p->sent >= (size_t)p->fail_at)
        return HXC_ECANCELLED;
    if (p->drip && !p->dripped) {
        p->dripped = 1; /* next call produces; the one after pauses again */
        struct timeval tv = {0, 60000};
        evtimer_add(p->timer, &tv);
        return HXC_PAUSE;
    }
    p->dripped = 0;
    size_t want = p->overrun ? p->piece : p->total - p->sent;
    size_t n = want < p->piece ? want : p->piece;
    if (n > len)
        n = len;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)('A' + (p->sent + i) % 26);
    p->sent += n;
    *written = n;
    *eof = !p->overrun && p->sent == p->total;
    return 0;
}

static int upload_drip; /* set by test_slow_producer */

static void upload(int h2, int known_length, int pause, int fail_at, int overrun, int expect_err)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    if (upload_drip) {
        /* Shorter than the whole upload and than each pause of the producer:
         * neither a paused producer nor a long upload is a silent server. */
        cfg.read_timeout = 0.15;
        cfg.write_timeout = 0.15;
    }
    itest t;
    itest_open(&t, &cfg);
    producer p;
    memset(&p, 0, sizeof(p));
    p.total = 300000;
    p.piece = 7000;
    p.pause_first = pause;
    p.fail_at = fail_at;
    p.overrun = overrun;
    p.drip = upload_drip;
    if (upload_drip)
        p.piece = 30000; /* 10 pieces, 60 ms apart: 0.6 s in all */
    p.timer = evtimer_new(t.base, resume_body, &p);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", itest_url(&srv, 0, "/echo")), 0);
    assert_int_equal(hxc_request_set_body_producer(req, produce, known_length ? 300000 : -1, &p),
                     0);
    hxc_future *f = hxc_client_request(t.client, req);
    int err = hxc_future_wait(f);
    event_free(p.timer);
    if (expect_err) {
        assert_int_equal(err, expect_err);
        hxc_future_free(f);
    } else {
        assert_int_equal(err, 0);
        size_t len;
        const char *b = (const char *)hxc_response_body(hxc_future_response(f), &len);
        assert_true(len > 300000);
        const char *body = b + len - 300000;
        for (size_t i = 0; i < 300000; i++)
            if (body[i] != (char)('A' + i % 26))
                fail_msg("upload byte %zu is %d", i, body[i]);
        if (!h2) {
            assert_non_null(strstr(b, known_length ? "Content-Length: 300000\r\n"
                                                   : "Transfer-Encoding: chunked\r\n"));
        } else if (known_length) {
            assert_non_null(strstr(b, "content-length: 300000\n"));
        }
        hxc_future_free(f);
    }
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_upload_h1(void **state)
{
    (void)state;
    upload(0, 0, 0, 0, 0, 0); /* chunked */
    upload(0, 1, 0, 0, 0, 0); /* Content-Length */
    upload(0, 0, 1, 0, 0, 0); /* paused, then resumed */
}

static void test_upload_h2(void **state)
{
    (void)state;
    upload(1, 0, 0, 0, 0, 0);
    upload(1, 1, 0, 0, 0, 0);
    upload(1, 1, 1, 0, 0, 0);
}

static void test_slow_producer_is_not_a_timeout(void **state)
{
    (void)state;
    upload_drip = 1;
    upload(0, 0, 0, 0, 0, 0);
    upload(1, 1, 0, 0, 0, 0);
    upload_drip = 0;
}

static void test_upload_failures(void **state)
{
    (void)state;
    upload(0, 0, 0, 50000, 0, HXC_ECANCELLED); /* the producer's own error */
    upload(1, 0, 0, 50000, 0, HXC_ECANCELLED);
    upload(0, 1, 0, 0, 1, HXC_EINVAL); /* more than announced */
    upload(1, 1, 0, 0, 1, HXC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_stream),
        cmocka_unit_test(test_h1_stream_paused),
        cmocka_unit_test(test_h2_stream),
        cmocka_unit_test(test_h2_stream_paused),
        cmocka_unit_test(test_h1_stream_tls),
        cmocka_unit_test(test_h1_stream_paused_tls),
        cmocka_unit_test(test_h2_stream_paused_tls),
        cmocka_unit_test(test_abort_from_body_callback),
        cmocka_unit_test(test_paused_stream_holds_close_until_abort),
        cmocka_unit_test(test_upload_h1),
        cmocka_unit_test(test_upload_h2),
        cmocka_unit_test(test_upload_failures),
        cmocka_unit_test(test_slow_producer_is_not_a_timeout),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
