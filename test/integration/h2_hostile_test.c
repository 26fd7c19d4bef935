/* SPDX-License-Identifier: MIT */
/*
 * Integration: HTTP/2 servers that break the protocol, written frame by frame
 * with rawpeer (h2c, prior knowledge). Connection errors (each must end every
 * stream of the session at once with HXC_EPROTO_REMOTE, send GOAWAY, close the
 * connection and leave the pool working), stream errors found in a response
 * (that stream alone fails, as a protocol error and not as a reset by the
 * server), refused streams (GOAWAY storms, servers that refuse everything:
 * retried with backoff until the deadline or a count), and a complete
 * response that arrives while the upload is blocked.
 *
 * Timeouts are off in these tests except a total deadline, the safety net: a
 * request that ends by the deadline (HXC_ETIMEOUT_TOTAL) instead of the
 * error under test shows the hang the test is about.
 */
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "rawpeer.h"

#include "api/api.h" /* the pool, for the internal backoff knob */

#define SAFETY 10.0 /* seconds: the deadline that shows a hang */

/* A hostile peer running `script` and a client for it (h2c), on `url`. */
typedef struct pair {
    rawpeer *peer;
    itest t;
    char url[128];
} pair;

/* No timeout but the deadline `total` (0: none either); `max_streams` our
 * cap per session (0: the default cap). */
static void pair_open(pair *pr, rawpeer_script script, void *arg, double total,
                      unsigned max_streams)
{
    pr->peer = rawpeer_start(script, arg);
    assert_non_null(pr->peer);
    rawpeer_url(pr->peer, "/x", pr->url, sizeof(pr->url));
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.connect_timeout = cfg.read_timeout = cfg.write_timeout = cfg.pool_timeout = 0;
    cfg.total_timeout = total;
    if (max_streams > 0)
        cfg.http2_max_concurrent_streams = max_streams;
    itest_open(&pr->t, &cfg);
}

static void pair_close(pair *pr)
{
    itest_close(&pr->t);
    rawpeer_stop(pr->peer);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wait_for(const atomic_int *v, int at_least)
{
    for (int i = 0; i < 1000 && atomic_load(v) < at_least; i++)
        usleep(10000);
}

/* ---- peer helpers ------------------------------------------------------ */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* 200 with "ok" as the body. */
static int answer_ok(rawpeer *p, int fd, uint32_t id)
{
    const char *f[] = {"content-length", "2", NULL};
    if (rawpeer_h2_respond(p, fd, id, 200, 0, f) != 0)
        return -1;
    return rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, "ok", 2);
}

/* A well-behaved server: answers every request with 200 "ok". */
static void serve_ok(rawpeer *p, int fd)
{
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    for (;;) {
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        if (id < 0 || answer_ok(p, fd, (uint32_t)id) != 0)
            return;
    }
}

/* Reads what the client sends until its GOAWAY (its error code is kept,
 * +1, in *seen), then holds the connection open, silent, until the end. */
static void watch_goaway(rawpeer *p, int fd, atomic_int *seen)
{
    rawpeer_frame *f = malloc(sizeof(*f));
    while (f != NULL && rawpeer_h2_recv(p, fd, f, 5000) == 0) {
        if (f->type == RAWPEER_GOAWAY && f->len >= 8) {
            atomic_store(seen, (int)be32(f->payload + 4) + 1);
            break;
        }
    }
    free(f);
    rawpeer_hold(p, -1);
}

/* ---- connection errors ------------------------------------------------- */

enum ce_kind {
    CE_DATA_STREAM0,
    CE_HEADERS_EVEN,
    CE_FRAME_TOO_LARGE,
    CE_SETTINGS_LENGTH,
    CE_SETTINGS_WINDOW,
    CE_PUSH_DISABLED,
    CE_WINDOW_OVERFLOW,
    CE_HTTP1_PREFACE,
    CE_RST_STREAM0,
    CE_HPACK_GARBAGE,
    CE_PING_LENGTH,
    CE_CONTINUATION_ALONE,
    CE_AFTER_GOAWAY,
    CE_DATA_FIRST,
    CE_HTTP1_AFTER_PREFACE,
};

typedef struct ce_case {
    enum ce_kind kind;
    const char *name;
    int nreq;          /* requests the peer waits for before it misbehaves */
    atomic_int goaway; /* the client's GOAWAY code + 1 (0: none seen) */
} ce_case;

static int send_violation(rawpeer *p, int fd, enum ce_kind kind, uint32_t id)
{
    uint8_t b[16400];
    memset(b, 0, sizeof(b));
    switch (kind) {
    case CE_DATA_STREAM0:
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, 0, 0, "x", 1);
    case CE_HEADERS_EVEN: {
        size_t n = rawpeer_hpack(b, ":status", "200");
        return rawpeer_h2_send(p, fd, RAWPEER_HEADERS, RAWPEER_END_HEADERS, 2, b, (uint32_t)n);
    }
    case CE_FRAME_TOO_LARGE: /* our SETTINGS_MAX_FRAME_SIZE is the default, 16384 */
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, 0, id, b, 16385);
    case CE_SETTINGS_LENGTH:
        return rawpeer_h2_send(p, fd, RAWPEER_SETTINGS, 0, 0, b, 5);
    case CE_SETTINGS_WINDOW: /* SETTINGS_INITIAL_WINDOW_SIZE = 2^31 */
        b[1] = 4;
        put32(b + 2, 0x80000000u);
        return rawpeer_h2_send(p, fd, RAWPEER_SETTINGS, 0, 0, b, 6);
    case CE_PUSH_DISABLED: {
        put32(b, 2); /* the promised stream */
        size_t n = 4;
        n += rawpeer_hpack(b + n, ":method", "GET");
        n += rawpeer_hpack(b + n, ":scheme", "http");
        n += rawpeer_hpack(b + n, ":authority", "127.0.0.1");
        n += rawpeer_hpack(b + n, ":path", "/pushed");
        return rawpeer_h2_send(p, fd, RAWPEER_PUSH_PROMISE, RAWPEER_END_HEADERS, id, b,
                               (uint32_t)n);
    }
    case CE_WINDOW_OVERFLOW: /* 65535 + 2^31-1 > 2^31-1 on the connection window */
        put32(b, 0x7fffffffu);
        return rawpeer_h2_send(p, fd, RAWPEER_WINDOW_UPDATE, 0, 0, b, 4);
    case CE_HTTP1_PREFACE:
    case CE_HTTP1_AFTER_PREFACE: /* read as a frame header: 4.7 MB long */
        return rawpeer_send_str(p, fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    case CE_RST_STREAM0:
        return rawpeer_h2_send(p, fd, RAWPEER_RST_STREAM, 0, 0, b, 4);
    case CE_HPACK_GARBAGE: /* an indexed field far past both tables */
        memset(b, 0xff, 6);
        b[5] = 0x7f;
        return rawpeer_h2_send(p, fd, RAWPEER_HEADERS, RAWPEER_END_HEADERS, id, b, 6);
    case CE_PING_LENGTH:
        return rawpeer_h2_send(p, fd, RAWPEER_PING, 0, 0, b, 7);
    case CE_CONTINUATION_ALONE: {
        size_t n = rawpeer_hpack(b, ":status", "200");
        return rawpeer_h2_send(p, fd, RAWPEER_CONTINUATION, RAWPEER_END_HEADERS, id, b,
                               (uint32_t)n);
    }
    case CE_DATA_FIRST: /* before the response's HEADERS: "DATA: stream not opened" */
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, "hello", 5);
    case CE_AFTER_GOAWAY: /* a graceful GOAWAY that keeps this stream, then DATA on 0 */
        put32(b, id);
        if (rawpeer_h2_send(p, fd, RAWPEER_GOAWAY, 0, 0, b, 8) != 0)
            return -1;
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, 0, 0, "x", 1);
    }
    return -1;
}

static void ce_script(rawpeer *p, int fd, int index, void *arg)
{
    ce_case *cc = arg;
    if (index > 0) {
        serve_ok(p, fd);
        return;
    }
    int32_t id = 1;
    if (cc->kind == CE_HTTP1_PREFACE) {
        uint8_t preface[24];
        rawpeer_frame *f = malloc(sizeof(*f));
        int ok = f != NULL && rawpeer_recv_exact(p, fd, preface, 24, 5000) == 0 &&
                 rawpeer_h2_recv(p, fd, f, 5000) == 0;
        free(f);
        if (!ok)
            return;
    } else {
        if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
            return;
        for (int i = 0; i < cc->nreq; i++)
            if ((id = rawpeer_h2_next_request(p, fd, 5000)) < 0)
                return;
    }
    if (send_violation(p, fd, cc->kind, (uint32_t)id) != 0)
        return;
    watch_goaway(p, fd, &cc->goaway);
}

/* One case: `n` requests on the session (the peer misbehaves once it has
 * `cc->nreq` of them); all of them end with HXC_EPROTO_REMOTE long before the
 * deadline, the peer sees our GOAWAY, and the client goes on with a new
 * connection (requests that were queued meanwhile included). */
static void run_conn_error(ce_case *cc, int n)
{
    pair pr;
    pair_open(&pr, ce_script, cc, SAFETY, (unsigned)cc->nreq); /* more wait in the queue */
    hxc_future *f[8];
    for (int i = 0; i < n; i++)
        f[i] = itest_start(pr.t.client, "GET", pr.url, NULL);
    int failed = 0, ok = 0;
    for (int i = 0; i < n; i++) {
        hxc_future_wait(f[i]);
        hxc_response *r = hxc_future_response(f[i]);
        int err = hxc_future_error(f[i]);
        if (err == 0) {
            /* only a request the session could not take (queued) */
            assert_int_equal(hxc_response_connection_id(r), 2);
            ok++;
            continue;
        }
        if (err != HXC_EPROTO_REMOTE)
            fail_msg("%s: request %d: %s (%s)", cc->name, i, hxc_error_name(err),
                     hxc_response_error_detail(r));
        assert_true(hxc_response_error_detail(r)[0] != '\0');
        failed++;
    }
    assert_int_equal(failed, cc->nreq);
    assert_int_equal(ok, n - cc->nreq);
    /* The next request opens a new connection (the dead one left the pool). */
    hxc_future *after = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    itest_assert_ok(after, 200);
    assert_true(hxc_response_connection_id(hxc_future_response(after)) >= 2);
    hxc_future_free(after);
    hxc_client_stats st;
    hxc_client_get_stats(pr.t.client, &st);
    assert_int_equal(st.connections_opened, 2);
    assert_int_equal(st.requests_retried, 0);
    for (int i = 0; i < n; i++)
        hxc_future_free(f[i]);
    wait_for(&cc->goaway, 1);
    if (atomic_load(&cc->goaway) < 2) /* GOAWAY with an error code */
        fail_msg("%s: the peer saw no GOAWAY with an error (%d)", cc->name,
                 atomic_load(&cc->goaway) - 1);
    assert_int_equal(rawpeer_accepted(pr.peer), 2);
    pair_close(&pr);
}

static void test_connection_errors(void **state)
{
    (void)state;
    static ce_case cases[] = {
        {CE_DATA_STREAM0, "DATA on stream 0", 1, 0},
        {CE_HEADERS_EVEN, "HEADERS on an even stream", 1, 0},
        {CE_FRAME_TOO_LARGE, "frame over SETTINGS_MAX_FRAME_SIZE", 1, 0},
        {CE_SETTINGS_LENGTH, "SETTINGS of length 5", 1, 0},
        {CE_SETTINGS_WINDOW, "SETTINGS_INITIAL_WINDOW_SIZE 2^31", 1, 0},
        {CE_PUSH_DISABLED, "PUSH_PROMISE with push disabled", 1, 0},
        {CE_WINDOW_OVERFLOW, "WINDOW_UPDATE overflow", 1, 0},
        {CE_HTTP1_PREFACE, "HTTP/1.1 instead of the preface", 1, 0},
        {CE_RST_STREAM0, "RST_STREAM on stream 0", 1, 0},
        {CE_HPACK_GARBAGE, "undecodable header block", 1, 0},
        {CE_PING_LENGTH, "PING of length 7", 1, 0},
        {CE_CONTINUATION_ALONE, "CONTINUATION without HEADERS", 1, 0},
        {CE_AFTER_GOAWAY, "violation after a graceful GOAWAY", 1, 0},
        {CE_DATA_FIRST, "DATA before HEADERS", 1, 0},
        {CE_HTTP1_AFTER_PREFACE, "HTTP/1.1 after the preface", 1, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        atomic_store(&cases[i].goaway, 0);
        run_conn_error(&cases[i], 1);
    }
}

/* Once nghttp2 has ended a session, the pool never gives it a request
 * again, whatever became of the request that was on it. */
static void test_dead_session_leaves_the_pool(void **state)
{
    (void)state;
    static ce_case cc = {CE_DATA_STREAM0, "dead session", 1, 0};
    pair pr;
    pair_open(&pr, ce_script, &cc, 1, 0);
    hxc_future *f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    assert_int_not_equal(hxc_future_error(f), 0);
    hxc_future_free(f);
    f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    itest_assert_ok(f, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 2);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(pr.t.client, &st);
    assert_int_equal(st.requests_retried, 0); /* nothing was "refused" by a dead session */
    pair_close(&pr);
}

/* Every stream of the session fails at once; the request waiting in the
 * pool's queue (the client takes two streams a session) goes to a new
 * connection. */
static void test_connection_error_fails_all_streams(void **state)
{
    (void)state;
    static ce_case cc = {CE_DATA_STREAM0, "DATA on stream 0, two streams", 2, 0};
    run_conn_error(&cc, 3);
}

/* ---- stream errors in a response ---------------------------------------- */

enum se_kind {
    SE_CL_SHORT,
    SE_CL_LONG,
    SE_NO_STATUS,
    SE_UPPERCASE,
    SE_CONNECTION,
    SE_TRANSFER_ENCODING,
    SE_SERVER_RST, /* a real RST_STREAM(PROTOCOL_ERROR) from the server */
};

static int bad_response(rawpeer *p, int fd, enum se_kind kind, uint32_t id)
{
    uint8_t b[256];
    switch (kind) {
    case SE_CL_SHORT: {
        const char *f[] = {"content-length", "10", NULL};
        if (rawpeer_h2_respond(p, fd, id, 200, 0, f) != 0)
            return -1;
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, "hello", 5);
    }
    case SE_CL_LONG: {
        const char *f[] = {"content-length", "2", NULL};
        if (rawpeer_h2_respond(p, fd, id, 200, 0, f) != 0)
            return -1;
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, "hello", 5);
    }
    case SE_NO_STATUS: {
        size_t n = rawpeer_hpack(b, "x-a", "b");
        return rawpeer_h2_send(p, fd, RAWPEER_HEADERS, RAWPEER_END_HEADERS | RAWPEER_END_STREAM, id,
                               b, (uint32_t)n);
    }
    case SE_UPPERCASE: {
        const char *f[] = {"X-Upper", "1", NULL};
        return rawpeer_h2_respond(p, fd, id, 200, 1, f);
    }
    case SE_CONNECTION: {
        const char *f[] = {"connection", "close", NULL};
        return rawpeer_h2_respond(p, fd, id, 200, 1, f);
    }
    case SE_TRANSFER_ENCODING: {
        const char *f[] = {"transfer-encoding", "chunked", NULL};
        return rawpeer_h2_respond(p, fd, id, 200, 1, f);
    }
    case SE_SERVER_RST:
        put32(b, 1); /* PROTOCOL_ERROR */
        return rawpeer_h2_send(p, fd, RAWPEER_RST_STREAM, 0, id, b, 4);
    }
    return -1;
}

typedef struct se_case {
    enum se_kind kind;
    const char *name;
} se_case;

/* Two requests: the first gets the bad response, the second a good one. */
static void se_script(rawpeer *p, int fd, int index, void *arg)
{
    se_case *sc = arg;
    if (index > 0 || rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    int32_t a = rawpeer_h2_next_request(p, fd, 5000);
    int32_t b = a < 0 ? -1 : rawpeer_h2_next_request(p, fd, 5000);
    if (b < 0 || bad_response(p, fd, sc->kind, (uint32_t)a) != 0 ||
        answer_ok(p, fd, (uint32_t)b) != 0)
        return;
    for (;;) { /* later requests are answered too */
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        if (id < 0 || answer_ok(p, fd, (uint32_t)id) != 0)
            return;
    }
}

static void test_stream_errors(void **state)
{
    (void)state;
    static se_case cases[] = {
        {SE_CL_SHORT, "body shorter than content-length"},
        {SE_CL_LONG, "body longer than content-length"},
        {SE_NO_STATUS, "no :status"},
        {SE_UPPERCASE, "upper-case field name"},
        {SE_CONNECTION, "connection: close"},
        {SE_TRANSFER_ENCODING, "transfer-encoding"},
        {SE_SERVER_RST, "RST_STREAM(PROTOCOL_ERROR) from the server"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pair pr;
        pair_open(&pr, se_script, &cases[i], SAFETY, 0);
        hxc_future *bad = itest_start(pr.t.client, "GET", pr.url, NULL);
        hxc_future *good = itest_start(pr.t.client, "GET", pr.url, NULL);
        hxc_future_wait(bad);
        hxc_future_wait(good);
        hxc_response *r = hxc_future_response(bad);
        const char *detail = hxc_response_error_detail(r);
        int want = cases[i].kind == SE_SERVER_RST ? HXC_ESTREAM_RESET : HXC_EPROTO_REMOTE;
        if (hxc_future_error(bad) != want)
            fail_msg("%s: %s (%s)", cases[i].name, hxc_error_name(hxc_future_error(bad)), detail);
        assert_true(detail[0] != '\0');
        if (want == HXC_EPROTO_REMOTE && strstr(detail, "reset by the server") != NULL)
            fail_msg("%s: %s", cases[i].name, detail);
        itest_assert_ok(good, 200);
        assert_string_equal((const char *)hxc_response_body(hxc_future_response(good), NULL), "ok");
        hxc_future *after = itest_fetch(pr.t.client, "GET", pr.url, NULL);
        itest_assert_ok(after, 200);
        hxc_client_stats st;
        hxc_client_get_stats(pr.t.client, &st);
        assert_int_equal(st.connections_opened, 1); /* the session went on */
        assert_int_equal(st.requests_retried, 0);
        hxc_future_free(bad);
        hxc_future_free(good);
        hxc_future_free(after);
        pair_close(&pr);
    }
}

/* ---- a complete response while the upload is blocked -------------------- */

typedef struct early {
    atomic_int rst; /* the client's RST_STREAM code + 1 */
} early;

/* Answers the POST as soon as its HEADERS arrive, without taking its body
 * (the stream window, 65535, blocks the upload), then watches for our reset
 * and serves what follows. */
static void early_script(rawpeer *p, int fd, int index, void *arg)
{
    early *e = arg;
    if (index > 0 || rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0 || answer_ok(p, fd, (uint32_t)id) != 0)
        return;
    rawpeer_frame *f = malloc(sizeof(*f));
    while (f != NULL && rawpeer_h2_recv(p, fd, f, 5000) == 0) {
        if (f->type == RAWPEER_RST_STREAM && f->stream == (uint32_t)id && f->len == 4) {
            atomic_store(&e->rst, (int)be32(f->payload) + 1);
            break;
        }
    }
    free(f);
    for (;;) {
        int32_t next = rawpeer_h2_next_request(p, fd, -1);
        if (next < 0 || answer_ok(p, fd, (uint32_t)next) != 0)
            return;
    }
}

/* A producer that never ends: the upload only stops on flow control. */
static int endless(hxc_request *req, uint8_t *buf, size_t len, size_t *n, int *eof, void *ud)
{
    (void)req, (void)ud;
    size_t k = len < 16384 ? len : 16384;
    memset(buf, 'u', k);
    *n = k;
    *eof = 0;
    return 0;
}

static void early_response(int streamed)
{
    static early e;
    atomic_store(&e.rst, 0);
    pair pr;
    pair_open(&pr, early_script, &e, SAFETY, 0);
    size_t len = 1 << 20;
    char *body = calloc(1, len);
    assert_non_null(body);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", pr.url), 0);
    if (streamed)
        assert_int_equal(hxc_request_set_body_producer(req, endless, -1, NULL), 0);
    else
        assert_int_equal(hxc_request_set_body(req, body, len), 0);
    hxc_future *f = hxc_client_request(pr.t.client, req);
    hxc_future_wait(f);
    itest_assert_ok(f, 200);
    assert_string_equal((const char *)hxc_response_body(hxc_future_response(f), NULL), "ok");
    uint64_t conn = hxc_response_connection_id(hxc_future_response(f));
    hxc_future_free(f);
    free(body);
    /* Our side of the stream was reset without an error, the session goes on. */
    wait_for(&e.rst, 1);
    int code = atomic_load(&e.rst) - 1;
    assert_true(code == 0 /* NO_ERROR */ || code == 8 /* CANCEL */);
    hxc_future *after = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    itest_assert_ok(after, 200);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(after)), conn);
    hxc_future_free(after);
    pair_close(&pr);
}

static void test_early_response_during_blocked_upload(void **state)
{
    (void)state;
    early_response(0); /* a buffered body */
    early_response(1); /* a streamed one */
}

/* ---- refused streams ----------------------------------------------------- */

/* 100 requests, 50 in flight, against a server that sends GOAWAY after every
 * 10 streams of a connection: all must succeed. */
typedef struct storm {
    itest_counter c;
    hxc_client *client;
    const char *url;
    int sent, total;
} storm;

static void storm_cb(hxc_response *r, int err, void *ud)
{
    storm *s = ud;
    itest_count_cb(r, err, &s->c);
    if (s->sent < s->total) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", s->url), 0);
        assert_int_equal(hxc_client_send(s->client, req, storm_cb, s), 0);
        s->sent++;
    }
}

static void test_goaway_storm(void **state)
{
    (void)state;
    testsrv srv;
    const char *args[] = {"--h2-goaway-after", "10", NULL};
    assert_int_equal(testsrv_start(&srv, args), 0);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg); /* the default deadline: the default backoff */
    cfg.http2_prior_knowledge = 1;
    itest t;
    itest_open(&t, &cfg);
    storm s;
    memset(&s, 0, sizeof(s));
    itest_counter_init(&s.c, "HTTP/2", -1);
    s.client = t.client;
    s.url = itest_url(&srv, 0, "/delay/20");
    s.total = 100;
    for (; s.sent < 50; s.sent++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", s.url), 0);
        assert_int_equal(hxc_client_send(t.client, req, storm_cb, &s), 0);
    }
    itest_run_until(t.base, &s.c.done, 100);
    if (s.c.ok != 100)
        fail_msg("%d of 100 succeeded; first error %s", s.c.ok, hxc_error_name(s.c.first_err));
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_true(st.connections_opened >= 10); /* each connection takes 10 */
    assert_true(st.requests_retried > 0);
    itest_close(&t);
    testsrv_stop(&srv);
}

/* Servers that refuse everything: RST_STREAM(REFUSED_STREAM) on every
 * stream, or GOAWAY(NO_ERROR, last = 0) on every connection. */
typedef struct refuser {
    int goaway;      /* GOAWAY(last = 0) instead of RST_STREAM */
    atomic_int seen; /* requests refused */
} refuser;

static void refuse_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    refuser *rf = arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    for (;;) {
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        if (id < 0)
            return;
        uint8_t b[8] = {0};
        atomic_fetch_add(&rf->seen, 1); /* before the client can know */
        if (rf->goaway) {
            /* last stream id 0, NO_ERROR: nothing processed; wait for the close */
            if (rawpeer_h2_send(p, fd, RAWPEER_GOAWAY, 0, 0, b, 8) != 0)
                return;
            rawpeer_drain_until_eof(p, fd, -1);
            return;
        }
        put32(b, 7); /* REFUSED_STREAM */
        if (rawpeer_h2_send(p, fd, RAWPEER_RST_STREAM, 0, (uint32_t)id, b, 4) != 0)
            return;
    }
}

/* A client of a peer that refuses everything; `backoff` the base of the
 * client's backoff (0: the one its deadline gives). */
static void refusing_open(pair *pr, refuser *rf, int goaway, double total, double backoff)
{
    rf->goaway = goaway;
    atomic_store(&rf->seen, 0);
    pair_open(pr, refuse_script, rf, total, 0);
    hxc__pool_set_refused_backoff(pr->t.client->pool, backoff);
}

/* Without a deadline the count ends it: a protocol error that says what
 * happened, not "stream reset". */
static void test_refused_until_the_count(void **state)
{
    (void)state;
    for (int goaway = 0; goaway < 2; goaway++) {
        static refuser rf;
        pair pr;
        refusing_open(&pr, &rf, goaway, 0, 0.001);
        hxc_future *f = itest_fetch(pr.t.client, "POST", pr.url, "body");
        itest_assert_err(f, HXC_EPROTO_REMOTE);
        const char *detail = hxc_response_error_detail(hxc_future_response(f));
        assert_non_null(strstr(detail, "refused 11 times"));
        assert_non_null(strstr(detail, goaway ? "GOAWAY" : "REFUSED_STREAM"));
        assert_null(strstr(detail, "reset by the server"));
        hxc_client_stats st;
        hxc_client_get_stats(pr.t.client, &st);
        assert_int_equal(st.requests_retried, 10);
        assert_int_equal(atomic_load(&rf.seen), 11);
        hxc_future_free(f);
        pair_close(&pr);
    }
}

/* With a deadline the retries go on until it passes: HXC_ETIMEOUT_TOTAL,
 * saying the server kept refusing. */
static void test_refused_until_the_deadline(void **state)
{
    (void)state;
    for (int goaway = 0; goaway < 2; goaway++) {
        static refuser rf;
        pair pr;
        refusing_open(&pr, &rf, goaway, 2, 0); /* the backoff is scaled to it: 2 ms, 4 ms... */
        hxc_future *f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
        itest_assert_err(f, HXC_ETIMEOUT_TOTAL);
        const char *detail = hxc_response_error_detail(hxc_future_response(f));
        if (strstr(detail, "refused") == NULL)
            fail_msg("%s", detail);
        /* More than the 10 a client without a deadline allows, fewer than
         * a retry every loop turn would make. */
        int seen = atomic_load(&rf.seen);
        if (seen < 5 || seen > 30)
            fail_msg("refused %d times: %s", seen, detail);
        hxc_future_free(f);
        pair_close(&pr);
    }
}

/* A backoff longer than the deadline: the deadline ends it, not the backoff. */
static void test_deadline_shorter_than_backoff(void **state)
{
    (void)state;
    static refuser rf;
    pair pr;
    refusing_open(&pr, &rf, 0, 0.5, 60);
    double t0 = now_s();
    hxc_future *f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    itest_assert_err(f, HXC_ETIMEOUT_TOTAL);
    assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)), "refused 2 times"));
    assert_true(now_s() - t0 < 30);             /* not the 60 s of the backoff */
    assert_int_equal(atomic_load(&rf.seen), 2); /* at once, then the backoff */
    hxc_future_free(f);
    pair_close(&pr);
}

/* Cancel and abort end a request that waits for its backoff at once. */
static void test_cancel_during_backoff(void **state)
{
    (void)state;
    static refuser rf;
    pair pr;
    refusing_open(&pr, &rf, 0, 0, 60);
    for (int abort = 0; abort < 2; abort++) {
        hxc_future *f = itest_start(pr.t.client, "GET", pr.url, NULL);
        hxc_client_stats st;
        for (int i = 0; i < 100000; i++) {
            hxc_client_get_stats(pr.t.client, &st);
            if (st.requests_retried == (uint64_t)(2 * abort + 2) && st.requests_active == 0 &&
                st.requests_queued == 1)
                break; /* refused twice: waiting for its backoff, on no connection */
            event_base_loop(pr.t.base, EVLOOP_ONCE);
        }
        assert_int_equal(st.requests_retried, 2 * abort + 2);
        assert_int_equal(atomic_load(&rf.seen), 2 * abort + 2);
        double t0 = now_s();
        if (abort)
            hxc_client_abort(pr.t.client);
        else
            hxc_future_cancel(f);
        assert_int_equal(hxc_future_wait(f), HXC_ECANCELLED);
        assert_true(now_s() - t0 < 30);
        hxc_client_get_stats(pr.t.client, &st);
        assert_int_equal(st.requests_queued, 0);
        hxc_future_free(f);
    }
    pair_close(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_errors),
        cmocka_unit_test(test_connection_error_fails_all_streams),
        cmocka_unit_test(test_dead_session_leaves_the_pool),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_early_response_during_blocked_upload),
        cmocka_unit_test(test_goaway_storm),
        cmocka_unit_test(test_refused_until_the_count),
        cmocka_unit_test(test_refused_until_the_deadline),
        cmocka_unit_test(test_deadline_shorter_than_backoff),
        cmocka_unit_test(test_cancel_during_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
