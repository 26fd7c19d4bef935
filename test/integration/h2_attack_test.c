/* SPDX-License-Identifier: MIT */
/*
 * Integration: attacks on the HTTP/2 path (proto/h2.c, pool/conn_h2.c and
 * the refused-stream retries of pool/pool.c), against servers written frame
 * by frame with rawpeer (h2c, prior knowledge).
 */
#include <stdatomic.h>

#include "itest.h"
#include "rawpeer.h"

#include "api/api.h" /* the pool, for the internal backoff knob */

/* A hostile peer running a script, and a client of it. */
typedef struct pair {
    rawpeer *peer;
    itest t;
    char url[128];
} pair;

/* h2c, no timeout but the total deadline `total`. */
static void h2c_config(hxc_client_config *cfg, double total)
{
    hxc_client_config_init(cfg);
    cfg->http2_prior_knowledge = 1;
    cfg->connect_timeout = cfg->read_timeout = cfg->write_timeout = cfg->pool_timeout = 0;
    cfg->total_timeout = total;
}

static void pair_open_cfg(pair *pr, rawpeer_script script, void *arg, const hxc_client_config *cfg)
{
    pr->peer = rawpeer_start(script, arg);
    assert_non_null(pr->peer);
    rawpeer_url(pr->peer, "/x", pr->url, sizeof(pr->url));
    itest_open(&pr->t, cfg);
}

static void pair_open(pair *pr, rawpeer_script script, void *arg, double total)
{
    hxc_client_config cfg;
    h2c_config(&cfg, total);
    pair_open_cfg(pr, script, arg, &cfg);
}

static void pair_close(pair *pr)
{
    itest_close(&pr->t);
    rawpeer_stop(pr->peer);
}

/* A count shared by a peer's scripts and the test. */
typedef struct counter {
    atomic_int n;
} counter;

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

/* Answers every request of the connection with 200 "ok". */
static void serve_ok(rawpeer *p, int fd)
{
    for (;;) {
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        if (id < 0 || answer_ok(p, fd, (uint32_t)id) != 0)
            return;
    }
}

/* RST_STREAM(`code`) on `stream`, or GOAWAY(`last`, `code`). */
static int send_code(rawpeer *p, int fd, uint8_t type, uint32_t stream, uint32_t last,
                     uint32_t code)
{
    uint8_t b[8];
    if (type == RAWPEER_RST_STREAM) {
        put32(b, code);
        return rawpeer_h2_send(p, fd, type, 0, stream, b, 4);
    }
    put32(b, last);
    put32(b + 4, code);
    return rawpeer_h2_send(p, fd, RAWPEER_GOAWAY, 0, 0, b, 8);
}

/* ---- responses without a body are not held to the body cap ------------- */

/* Answers every request with a head that announces 2 GiB and ends the
 * stream: what a server says to HEAD of a 2 GiB file, or in a 304. */
static void big_head_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    int status = *(int *)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    for (;;) {
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        const char *f[] = {"content-length", "2147483648", NULL};
        if (id < 0 || rawpeer_h2_respond(p, fd, (uint32_t)id, status, 1, f) != 0)
            return;
    }
}

/* The same defect as over HTTP/1.1 (h1_unusual_test): the announced
 * content-length is checked against the body cap (1 GiB by default) for a
 * HEAD response and a 304, which have no body (nghttp2 itself knows: it
 * lets them end without DATA). */
static void test_no_body_responses_are_not_capped(void **state)
{
    (void)state;
    static const struct {
        const char *method;
        int status;
    } cases[] = {{"HEAD", 200}, {"GET", 304}};
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static int status;
        status = cases[i].status;
        pair pr;
        pair_open(&pr, big_head_script, &status, 10);
        hxc_future *f = itest_fetch(pr.t.client, cases[i].method, pr.url, NULL);
        hxc_response *r = hxc_future_response(f);
        if (hxc_future_error(f) != 0 || hxc_response_status(r) != cases[i].status) {
            print_message("%s -> %d: %s (%s)\n", cases[i].method, cases[i].status,
                          hxc_error_name(hxc_future_error(f)), hxc_response_error_detail(r));
            failed++;
        }
        hxc_future_free(f);
        pair_close(&pr);
    }
    assert_int_equal(failed, 0);
}

/* ---- a server whose stream limit is 0 ----------------------------------- */

/* SETTINGS_MAX_CONCURRENT_STREAMS = 0 (RFC 9113 6.5.2 allows it: "no new
 * streams for now"), and the request the client sent before it saw them
 * refused; then the connection is left open until the client goes. */
static void zero_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    counter *refused = arg;
    static const uint32_t settings[] = {3 /* MAX_CONCURRENT_STREAMS */, 0};
    if (rawpeer_h2_accept(p, fd, settings, 1, 5000) != 0)
        return;
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0)
        return;
    atomic_fetch_add(&refused->n, 1);
    if (send_code(p, fd, RAWPEER_RST_STREAM, (uint32_t)id, 0, 7 /* REFUSED_STREAM */) != 0)
        return;
    rawpeer_drain_until_eof(p, fd, -1);
}

/* A refusal while more streams were open than the server's limit counts as
 * the client's own doing (HXC__H2_REFUSED_OVER) and is retried at once,
 * without backoff; the count of retries only bounds a request without a
 * deadline. With a limit of 0 every connection the retry opens sends its
 * request before the SETTINGS arrive, is "over" again, and so on: the
 * client reconnects in a tight loop for the whole deadline (300 s by
 * default). Here the deadline is 2 s, and the peer, which takes 256
 * connections at most, ends the loop sooner: the refusals must stay about
 * what the backoff (or the count of 10) allows, not hundreds. */
static void test_zero_stream_limit_is_not_hammered(void **state)
{
    (void)state;
    static counter z;
    atomic_store(&z.n, 0);
    pair pr;
    pair_open(&pr, zero_script, &z, 2);
    hxc_future *f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    int err = hxc_future_error(f);
    assert_int_not_equal(err, 0);
    hxc_client_stats st;
    hxc_client_get_stats(pr.t.client, &st);
    int refused = atomic_load(&z.n);
    print_message("%s (%s): %d refusals, %llu connections, %llu retries\n", hxc_error_name(err),
                  hxc_response_error_detail(hxc_future_response(f)), refused,
                  (unsigned long long)st.connections_opened,
                  (unsigned long long)st.requests_retried);
    hxc_future_free(f);
    pair_close(&pr);
    assert_true(refused <= 30);
    assert_true(st.connections_opened <= 30);
}

/* ---- GOAWAYs: a last stream id past every stream, then lowered --------- */

/* Connection 0: takes two requests, says GOAWAY(last = 2^31-1), then
 * GOAWAY(last = the first) (lowering is allowed, RFC 9113 6.8), answers the
 * first and waits; later connections serve. The second request was not
 * processed: it is retried on a new connection, the first succeeds. */
static void goaway_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    if (index > 0) {
        serve_ok(p, fd);
        return;
    }
    int32_t a = rawpeer_h2_next_request(p, fd, 5000);
    int32_t b = a < 0 ? -1 : rawpeer_h2_next_request(p, fd, 5000);
    if (b < 0 || send_code(p, fd, RAWPEER_GOAWAY, 0, 0x7fffffffu, 0) != 0 ||
        send_code(p, fd, RAWPEER_GOAWAY, 0, (uint32_t)a, 0) != 0 || answer_ok(p, fd, (uint32_t)a))
        return;
    rawpeer_drain_until_eof(p, fd, -1);
}

static void test_goaway_high_then_lowered(void **state)
{
    (void)state;
    pair pr;
    pair_open(&pr, goaway_script, NULL, 10);
    hxc_future *a = itest_start(pr.t.client, "GET", pr.url, NULL);
    hxc_future *b = itest_start(pr.t.client, "POST", pr.url, "not processed");
    hxc_future_wait(a);
    hxc_future_wait(b);
    itest_assert_body(a, 200, "ok");
    itest_assert_body(b, 200, "ok");
    assert_int_equal(hxc_response_connection_id(hxc_future_response(a)), 1);
    assert_int_equal(hxc_response_connection_id(hxc_future_response(b)), 2);
    hxc_client_stats st;
    hxc_client_get_stats(pr.t.client, &st);
    assert_int_equal(st.requests_retried, 1);
    hxc_future_free(a);
    hxc_future_free(b);
    pair_close(&pr);
}

/* ---- an early complete response, then the server's RST_STREAM ---------- */

static void early_rst_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index, (void)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    /* RFC 9113 8.1: a complete response, then RST_STREAM(NO_ERROR) to stop
     * the upload; then a RST_STREAM(CANCEL) for good measure */
    if (id < 0 || answer_ok(p, fd, (uint32_t)id) != 0 ||
        send_code(p, fd, RAWPEER_RST_STREAM, (uint32_t)id, 0, 0) != 0 ||
        send_code(p, fd, RAWPEER_RST_STREAM, (uint32_t)id, 0, 8) != 0)
        return;
    serve_ok(p, fd);
}

static void test_early_response_then_server_reset(void **state)
{
    (void)state;
    pair pr;
    pair_open(&pr, early_rst_script, NULL, 10);
    size_t len = 1 << 20; /* more than the stream window: the upload is blocked */
    char *body = calloc(1, len);
    assert_non_null(body);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", pr.url), 0);
    assert_int_equal(hxc_request_set_body(req, body, len), 0);
    hxc_future *f = hxc_client_request(pr.t.client, req);
    hxc_future_wait(f);
    itest_assert_body(f, 200, "ok");
    hxc_future_free(f);
    free(body);
    f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
    itest_assert_body(f, 200, "ok");
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 1);
    hxc_future_free(f);
    pair_close(&pr);
}

/* ---- a refused stream whose upload had started is not replayed -------- */

typedef struct upl {
    atomic_int produced; /* producer calls */
    atomic_int requests; /* request HEADERS seen by the peer */
} upl;

/* Refuses the request once a DATA frame of it has arrived. */
static void upload_refuse_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    upl *u = arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    rawpeer_frame *f = malloc(sizeof(*f));
    while (f != NULL && rawpeer_h2_recv(p, fd, f, -1) == 0) {
        if (f->type == RAWPEER_HEADERS)
            atomic_fetch_add(&u->requests, 1);
        if (f->type == RAWPEER_DATA && f->len > 0 &&
            send_code(p, fd, RAWPEER_RST_STREAM, f->stream, 0, 7 /* REFUSED_STREAM */) != 0)
            break;
    }
    free(f);
}

static int slow_producer(hxc_request *req, uint8_t *buf, size_t len, size_t *n, int *eof, void *ud)
{
    (void)req, (void)len;
    upl *u = ud;
    int k = atomic_fetch_add(&u->produced, 1);
    memcpy(buf, "abc", 3);
    *n = 3;
    *eof = k >= 1000; /* long enough for the refusal to come first */
    return 0;
}

static void test_refused_after_upload_started(void **state)
{
    (void)state;
    static upl u;
    atomic_store(&u.produced, 0);
    atomic_store(&u.requests, 0);
    pair pr;
    pair_open(&pr, upload_refuse_script, &u, 10);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", pr.url), 0);
    assert_int_equal(hxc_request_set_body_producer(req, slow_producer, -1, &u), 0);
    hxc_future *f = hxc_client_request(pr.t.client, req);
    hxc_future_wait(f);
    itest_assert_err(f, HXC_ESTREAM_RESET);
    hxc_client_stats st;
    hxc_client_get_stats(pr.t.client, &st);
    assert_int_equal(st.requests_retried, 0);
    assert_int_equal(atomic_load(&u.requests), 1);
    hxc_future_free(f);
    pair_close(&pr);
}

/* ---- refusals, backoff and the per-origin cap on requests in flight ----- */

/* The first two requests (over all connections) are refused, the rest
 * answered. */
static void capped_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    counter *seen = arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    for (;;) {
        int32_t id = rawpeer_h2_next_request(p, fd, -1);
        if (id < 0)
            return;
        int rv = atomic_fetch_add(&seen->n, 1) < 2
                     ? send_code(p, fd, RAWPEER_RST_STREAM, (uint32_t)id, 0, 7)
                     : answer_ok(p, fd, (uint32_t)id);
        if (rv != 0)
            return;
    }
}

/* max_requests_per_host = 1: the first request is refused twice and waits
 * for its backoff on no connection; the second, queued behind the cap, goes
 * meanwhile; both end well, the counts come back to zero and a third
 * request still goes (the cap was not left taken). Then the same with the
 * first cancelled during its backoff. */
static void test_refused_backoff_and_origin_cap(void **state)
{
    (void)state;
    for (int cancel = 0; cancel < 2; cancel++) {
        static counter seen;
        atomic_store(&seen.n, 0);
        hxc_client_config cfg;
        h2c_config(&cfg, 20);
        cfg.max_requests_per_host = 1;
        pair pr;
        pair_open_cfg(&pr, capped_script, &seen, &cfg);
        hxc_client *client = pr.t.client;
        hxc__pool_set_refused_backoff(client->pool, cancel ? 30 : 0.2);
        hxc_future *a = itest_start(client, "GET", pr.url, NULL);
        hxc_future *b = itest_start(client, "GET", pr.url, NULL);
        if (cancel) {
            hxc_client_stats st;
            for (int i = 0; i < 100000; i++) {
                hxc_client_get_stats(client, &st);
                if (st.requests_retried == 2)
                    break;
                event_base_loop(pr.t.base, EVLOOP_ONCE);
            }
            assert_int_equal(st.requests_retried, 2);
            hxc_future_cancel(a);
        }
        hxc_future_wait(b);
        itest_assert_body(b, 200, "ok");
        hxc_future_wait(a);
        if (cancel)
            assert_int_equal(hxc_future_error(a), HXC_ECANCELLED);
        else
            itest_assert_body(a, 200, "ok");
        hxc_future *d = itest_fetch(client, "GET", pr.url, NULL);
        itest_assert_body(d, 200, "ok");
        hxc_client_stats st;
        hxc_client_get_stats(client, &st);
        assert_int_equal(st.requests_active, 0);
        assert_int_equal(st.requests_queued, 0);
        hxc_future_free(a);
        hxc_future_free(b);
        hxc_future_free(d);
        pair_close(&pr);
    }
}

/* ---- malformed responses on pushed streams ----------------------------- */

enum push_kind { PK_CONNECTION, PK_CL_SHORT, PK_NO_STATUS, PK_STATUS_000, PK_INTERIMS, PK__N };

typedef struct pushy {
    enum push_kind kind;
    int promised, delivered, err;
    char detail[200];
} pushy;

static int push_bad(rawpeer *p, int fd, enum push_kind kind)
{
    uint8_t b[512];
    size_t n = 0;
    switch (kind) {
    case PK_CONNECTION: {
        const char *f[] = {"connection", "close", NULL};
        return rawpeer_h2_respond(p, fd, 2, 200, 1, f);
    }
    case PK_CL_SHORT: {
        const char *f[] = {"content-length", "10", NULL};
        if (rawpeer_h2_respond(p, fd, 2, 200, 0, f) != 0)
            return -1;
        return rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, 2, "hello", 5);
    }
    case PK_NO_STATUS:
        n = rawpeer_hpack(b, "x-a", "b");
        return rawpeer_h2_send(p, fd, RAWPEER_HEADERS, RAWPEER_END_HEADERS | RAWPEER_END_STREAM, 2,
                               b, (uint32_t)n);
    case PK_STATUS_000:
        return rawpeer_h2_respond(p, fd, 2, 0, 1, NULL); /* ":status: 0" */
    case PK_INTERIMS:
        for (int i = 0; i < 7; i++)
            if (rawpeer_h2_respond(p, fd, 2, 103, 0, NULL) != 0)
                return -1;
        return rawpeer_h2_respond(p, fd, 2, 200, 1, NULL);
    default:
        return -1;
    }
}

static void push_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    pushy *py = arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0)
        return;
    char authority[64];
    snprintf(authority, sizeof(authority), "127.0.0.1:%d", rawpeer_port(p));
    uint8_t b[512];
    put32(b, 2); /* the promised stream */
    size_t n = 4;
    n += rawpeer_hpack(b + n, ":method", "GET");
    n += rawpeer_hpack(b + n, ":scheme", "http");
    n += rawpeer_hpack(b + n, ":authority", authority);
    n += rawpeer_hpack(b + n, ":path", "/pushed");
    if (rawpeer_h2_send(p, fd, RAWPEER_PUSH_PROMISE, RAWPEER_END_HEADERS, (uint32_t)id, b,
                        (uint32_t)n) != 0 ||
        push_bad(p, fd, py->kind) != 0 || answer_ok(p, fd, (uint32_t)id) != 0)
        return;
    serve_ok(p, fd);
}

static int accept_push(hxc_client *c, const hxc_request *promised, void *ud)
{
    (void)c, (void)promised;
    ((pushy *)ud)->promised++;
    return 1;
}

static void pushed(hxc_response *r, int err, void *ud)
{
    pushy *py = ud;
    py->delivered++;
    py->err = err;
    snprintf(py->detail, sizeof(py->detail), "%s", err ? hxc_response_error_detail(r) : "");
}

/* Each pushed response breaks a rule: it ends as an error of its own (the
 * push callback), the request that caused it and the session are fine. */
static void test_malformed_pushed_responses(void **state)
{
    (void)state;
    for (int k = 0; k < PK__N; k++) {
        static pushy py;
        memset(&py, 0, sizeof(py));
        py.kind = (enum push_kind)k;
        hxc_client_config cfg;
        h2c_config(&cfg, 10);
        cfg.push_promise = accept_push;
        cfg.push_response = pushed;
        cfg.push_user_data = &py;
        pair pr;
        pair_open_cfg(&pr, push_script, &py, &cfg);
        hxc_future *f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
        itest_assert_body(f, 200, "ok");
        hxc_future_free(f);
        for (int i = 0; i < 1000 && py.delivered == 0; i++)
            event_base_loop(pr.t.base, EVLOOP_ONCE);
        if (py.promised != 1 || py.delivered != 1 || py.err != HXC_EPROTO_REMOTE)
            fail_msg("push case %d: promised %d delivered %d: %s (%s)", k, py.promised,
                     py.delivered, hxc_error_name(py.err), py.detail);
        f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
        itest_assert_body(f, 200, "ok");
        assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 1);
        hxc_future_free(f);
        pair_close(&pr);
    }
}

/* ---- header blocks: CONTINUATION flood, HPACK bomb ---------------------- */

enum hb_kind { HB_CONTINUATIONS, HB_BOMB, HB_BOMB_AFTER_INTERIM };

/* Request 1 gets the hostile header block, later ones 200 "ok" (on a new
 * connection after a flood, which ends the session). */
static void hb_script(rawpeer *p, int fd, int index, void *arg)
{
    enum hb_kind kind = *(enum hb_kind *)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    if (index > 0) {
        serve_ok(p, fd);
        return;
    }
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0)
        return;
    static uint8_t b[16384];
    size_t n = 0;
    if (kind == HB_CONTINUATIONS) {
        n = rawpeer_hpack(b, ":status", "200");
        if (rawpeer_h2_send(p, fd, RAWPEER_HEADERS, 0, (uint32_t)id, b, (uint32_t)n) != 0)
            return;
        n = rawpeer_hpack(b, "x-c", "c");
        for (int i = 0; i < 10000; i++)
            if (rawpeer_h2_send(p, fd, RAWPEER_CONTINUATION, 0, (uint32_t)id, b, (uint32_t)n) != 0)
                break;
        rawpeer_drain_until_eof(p, fd, -1);
        return;
    }
    if (kind == HB_BOMB_AFTER_INTERIM && rawpeer_h2_respond(p, fd, (uint32_t)id, 103, 0, NULL))
        return;
    /* one 120-byte value into the dynamic table, then 16000 one-byte
     * references to it: 2.5 MB of decoded fields in a 16 KB frame */
    n = rawpeer_hpack(b, ":status", "200");
    b[n++] = 0x40; /* literal with incremental indexing, new name */
    b[n++] = 3;
    memcpy(b + n, "x-b", 3), n += 3;
    b[n++] = 120;
    memset(b + n, 'v', 120), n += 120;
    while (n < 16384)
        b[n++] = 0x80 | 62; /* indexed: the newest dynamic entry */
    if (rawpeer_h2_send(p, fd, RAWPEER_HEADERS, RAWPEER_END_HEADERS | RAWPEER_END_STREAM,
                        (uint32_t)id, b, (uint32_t)n) != 0)
        return;
    serve_ok(p, fd);
}

/* A flood of CONTINUATION frames ends the session at once (nghttp2's cap of
 * 16); an HPACK bomb fails its stream alone with HXC_EHEADERS_TOO_LARGE and
 * the session goes on. Either way the next request succeeds. */
static void test_header_block_attacks(void **state)
{
    (void)state;
    static const struct {
        enum hb_kind kind;
        int err;
        uint64_t conn;
    } cases[] = {
        {HB_CONTINUATIONS, HXC_EPROTO_REMOTE, 2},
        {HB_BOMB, HXC_EHEADERS_TOO_LARGE, 1},
        {HB_BOMB_AFTER_INTERIM, HXC_EHEADERS_TOO_LARGE, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        static enum hb_kind kind;
        kind = cases[i].kind;
        pair pr;
        pair_open(&pr, hb_script, &kind, 10);
        hxc_future *f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
        itest_assert_err(f, cases[i].err);
        hxc_future_free(f);
        f = itest_fetch(pr.t.client, "GET", pr.url, NULL);
        itest_assert_body(f, 200, "ok");
        assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), cases[i].conn);
        hxc_future_free(f);
        pair_close(&pr);
    }
}

/* ---- a connection error after a GOAWAY, while our writes are stuck ----- */

/* Opens both windows wide, takes the request's HEADERS, then stops reading
 * (our upload fills the socket, then the transport past its mark). Then
 * GOAWAY(NO_ERROR, last = the request), if `goaway_first`, and a DATA frame on
 * stream 0: a connection error. It never reads again. */
static void stalled_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    int goaway_first = *(int *)arg;
    static const uint32_t settings[] = {4 /* INITIAL_WINDOW_SIZE */, 0x7fffffffu};
    if (rawpeer_h2_accept(p, fd, settings, 1, 5000) != 0)
        return;
    uint8_t b[4];
    put32(b, 0x7fffffffu - 65535u);
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0 || rawpeer_h2_send(p, fd, RAWPEER_WINDOW_UPDATE, 0, 0, b, 4) != 0)
        return;
    rawpeer_hold(p, 500); /* the client writes all it can */
    if (goaway_first && send_code(p, fd, RAWPEER_GOAWAY, 0, (uint32_t)id, 0) != 0)
        return;
    if (rawpeer_h2_send(p, fd, RAWPEER_DATA, 0, 0, "x", 1) != 0)
        return;
    rawpeer_hold(p, -1);
}

/* hxc__h2_recv finds a connection error from nghttp2's state, unless a
 * GOAWAY was received: then only the GOAWAY nghttp2 sends for it shows the
 * error (on_frame_send), and it is framed only below the transport's
 * high-water mark. A peer that stops reading keeps it above: the session is
 * dead (nghttp2 ignores all input) but the request waits for a timeout (the
 * write timeout, 30 s by default; here the 4 s deadline) instead of ending at
 * once with HXC_EPROTO_REMOTE as it does without the GOAWAY. */
static void test_connection_error_after_goaway_while_stuck(void **state)
{
    (void)state;
    size_t len = 32u << 20;
    char *body = calloc(1, len);
    assert_non_null(body);
    int errs[2];
    for (int goaway_first = 0; goaway_first < 2; goaway_first++) {
        static int arg;
        arg = goaway_first;
        pair pr;
        pair_open(&pr, stalled_script, &arg, 4);
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "POST", pr.url), 0);
        assert_int_equal(hxc_request_set_body(req, body, len), 0);
        hxc_future *f = hxc_client_request(pr.t.client, req);
        hxc_future_wait(f);
        errs[goaway_first] = hxc_future_error(f);
        print_message("%s: %s (%s)\n", goaway_first ? "GOAWAY, then the error" : "the error",
                      hxc_error_name(errs[goaway_first]),
                      hxc_response_error_detail(hxc_future_response(f)));
        hxc_future_free(f);
        pair_close(&pr);
    }
    free(body);
    assert_int_equal(errs[0], HXC_EPROTO_REMOTE);
    assert_int_equal(errs[1], HXC_EPROTO_REMOTE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_body_responses_are_not_capped),
        cmocka_unit_test(test_zero_stream_limit_is_not_hammered),
        cmocka_unit_test(test_goaway_high_then_lowered),
        cmocka_unit_test(test_early_response_then_server_reset),
        cmocka_unit_test(test_refused_after_upload_started),
        cmocka_unit_test(test_refused_backoff_and_origin_cap),
        cmocka_unit_test(test_malformed_pushed_responses),
        cmocka_unit_test(test_header_block_attacks),
        cmocka_unit_test(test_connection_error_after_goaway_while_stuck),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
