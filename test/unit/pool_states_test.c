/* SPDX-License-Identifier: MIT */
/*
 * Unit: the exchange and connection states (xset_state, cset_state in
 * pool.c): the rare paths, driven in manual time over fake transports and a
 * hand-written HTTP/2 server (poolfx.h). The legal moves are
 * asserted in debug builds (the sanitizer build is Debug), and every
 * scenario ends with the pool's counters back at zero, every request
 * reported once, every connection freed and no timer left armed.
 */
#include "poolfx.h"

static const char *const CL0[] = {"content-length", "0", NULL};

/* An h2c pool (prior knowledge) with `n` GETs of a.test started on its
 * first connection, the server's SETTINGS given (`kv`, `nkv` pairs). */
static fakeconn *h2_with(rc_fx *f, rc_req **q, int n, const uint32_t *kv, size_t nkv)
{
    f->cfg.http2_prior_knowledge = 1;
    rc_start(f);
    for (int i = 0; i < n; i++)
        q[i] = rc_submit(f, "http://a.test/x");
    rc_settle(f);
    fakeconn *c = rc_conn(f, 0);
    fakeconn_connected(c, "");
    rc_settle(f);
    rc_h2_accept(f, c, kv, nkv);
    return c;
}

/* A GOAWAY as the server's first frame, before its SETTINGS (nghttp2 wants
 * SETTINGS first): a connection error for both requests the session
 * carried (the second started on it at once: it may carry all of them),
 * and nothing left behind. */
static void test_goaway_before_settings(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    f->cfg.http2_prior_knowledge = 1;
    rc_set_timeouts(f, 0, 0, 0, 30, 60);
    rc_start(f);
    rc_req *a = rc_submit(f, "http://a.test/a");
    rc_req *b = rc_submit(f, "http://a.test/b");
    rc_settle(f);
    fakeconn *c = rc_conn(f, 0);
    fakeconn_connected(c, "");
    rc_settle(f);
    rc_wire w = {.n = 0};
    rc_goaway(&w, 0, 0);
    rc_send(c, &w);
    rc_settle(f);
    rc_expect_done(a, HXC_EPROTO_REMOTE, 0);
    rc_expect_done(b, HXC_EPROTO_REMOTE, 0);
    assert_true(c->freed);
    rc_free(f);
}

/* The server answers stream `id` with 200 and an empty body. */
static void answer(rc_fx *f, fakeconn *c, uint32_t id)
{
    rc_wire w = {.n = 0};
    rc_head(&w, id, 200, 1, CL0);
    rc_send(c, &w);
    rc_settle(f);
}

/* Connects the last connection made and starts its session. */
static fakeconn *next_session(rc_fx *f)
{
    fakeconn *c = fakenet_last(f->net);
    fakeconn_connected(c, "");
    rc_settle(f);
    rc_h2_accept(f, c, NULL, 0);
    return c;
}

/* GOAWAY(last 1) with streams 1, 3 and 5 open: 3 and 5 are retried on a new
 * connection; then the draining one fails (a reset) with stream 1 on it. */
static void test_draining_connection_fails(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 0, 0, 30, 60);
    rc_req *q[3];
    fakeconn *c1 = h2_with(f, q, 3, NULL, 0);
    uint32_t ids[8];
    assert_int_equal(rc_client_frames(c1, RC_HEADERS, ids, 8), 3);
    rc_wire w = {.n = 0};
    rc_goaway(&w, 1, 0);
    rc_send(c1, &w);
    rc_settle(f);
    assert_int_equal(fakenet_count(f->net), 2);
    fakeconn_close(c1, HXC_EREAD, "reset by peer");
    rc_settle(f);
    rc_expect_done(q[0], HXC_EREAD, -1);
    fakeconn *c2 = next_session(f);
    unsigned n = rc_client_frames(c2, RC_HEADERS, ids, 8);
    assert_int_equal(n, 2);
    for (unsigned i = 0; i < n; i++)
        answer(f, c2, ids[i]);
    rc_expect_done(q[1], 0, -1);
    rc_expect_done(q[2], 0, -1);
    rc_free(f);
}

/* Refused twice, stream 3 waits in its backoff; the server then sends
 * GOAWAY and the connection closes; the request is cancelled in its backoff
 * in between. */
static void test_cancel_in_backoff_while_closing(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 0, 0, 30, 60);
    rc_req *q[2];
    fakeconn *c1 = h2_with(f, q, 2, NULL, 0);
    hxc__pool_set_refused_backoff(f->pool, 1.0);
    rc_wire w = {.n = 0};
    rc_rst(&w, 3, 7 /* REFUSED_STREAM */);
    rc_send(c1, &w);
    rc_settle(f);
    uint32_t ids[8];
    assert_int_equal(rc_client_frames(c1, RC_HEADERS, ids, 8), 3); /* 1, 3 and its retry 5 */
    rc_rst(&w, ids[2], 7);
    rc_send(c1, &w);
    rc_settle(f);
    assert_int_equal(rc_stats(f).requests_queued, 1); /* in its backoff */
    rc_goaway(&w, 1, 0);
    rc_send(c1, &w);
    rc_settle(f);
    hxc__pool_cancel(f->pool, q[1]->ex, HXC_ECANCELLED, "cancelled in backoff");
    rc_expect_done(q[1], HXC_ECANCELLED, -1);
    fakeconn_close(c1, 0, "closed");
    rc_settle(f);
    rc_expect_done(q[0], HXC_ECLOSED, -1);
    rc_advance(f, 5);
    assert_int_equal(fakenet_count(f->net), 1);
    rc_free(f);
}

/* A request refused by a GOAWAY is retried on a new connection, which finds
 * the process out of descriptors: it waits in the queue, and gets one once
 * the pool tries again. */
static void test_refused_retry_meets_enofd(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 0, 0, 30, 60);
    rc_req *q[2];
    fakeconn *c1 = h2_with(f, q, 2, NULL, 0);
    rc_wire w = {.n = 0};
    rc_goaway(&w, 1, 0);
    rc_send(c1, &w);
    rc_settle(f);
    assert_int_equal(fakenet_count(f->net), 2);
    fakeconn_fail(fakenet_last(f->net), HXC__ENOFD, "Too many open files");
    rc_settle(f);
    assert_false(q[1]->done);
    rc_advance(f, 0.2); /* the pool tries again after 0.1 s */
    assert_int_equal(fakenet_count(f->net), 3);
    fakeconn *c3 = next_session(f);
    uint32_t ids[8];
    assert_int_equal(rc_client_frames(c3, RC_HEADERS, ids, 8), 1);
    answer(f, c3, ids[0]);
    rc_expect_done(q[1], 0, -1);
    answer(f, c1, 1);
    rc_expect_done(q[0], 0, -1);
    rc_free(f);
}

/* ---- server push on a draining session ---------------------------------- */

static rc_fx *push_fx;

static struct hxc_response *push_cb(void *arg, const char *method, const char *url,
                                    const struct hxc_headers *fields, hxc__exchange *ex,
                                    void **cb_arg)
{
    (void)arg, (void)fields;
    rc_fx *f = push_fx;
    assert_true(f->nreqs < RC_MAXR);
    rc_req *q = &f->reqs[f->nreqs++];
    q->f = f;
    q->ex = ex;
    hxc_request *rq;
    assert_int_equal(hxc_request_new(&rq, method, url), 0);
    q->resp = hxc__response_new(rq, NULL);
    *cb_arg = q;
    return q->resp;
}

static void push_promise(rc_wire *w, uint32_t on, uint32_t promised, const char *path)
{
    uint8_t pl[512];
    rc_put32(pl, promised);
    size_t n = 4;
    n += rc_hpack(pl + n, ":method", "GET");
    n += rc_hpack(pl + n, ":scheme", "http");
    n += rc_hpack(pl + n, ":authority", "a.test");
    n += rc_hpack(pl + n, ":path", path);
    rc_frame(w, RC_PUSH, RC_END_HEADERS, on, pl, (uint32_t)n);
}

/* The server drains the session (GOAWAY) and then pushes on its open
 * stream: the push is carried (or refused) and the session closes when
 * everything on it has ended. */
static void test_push_on_draining_session(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    push_fx = f;
    f->cfg.push = push_cb;
    f->cfg.push_timeouts[HXC_TIMEOUT_READ] = 10;
    rc_set_timeouts(f, 0, 0, 10, 30, 60);
    rc_req *q[1];
    fakeconn *c1 = h2_with(f, q, 1, NULL, 0);
    rc_wire w = {.n = 0};
    rc_goaway(&w, 1, 0);
    push_promise(&w, 1, 2, "/pushed");
    rc_head(&w, 1, 200, 1, CL0);
    rc_send(c1, &w);
    rc_settle(f);
    rc_expect_done(q[0], 0, -1);
    if (f->nreqs == 2) { /* taken: it ends with its response, or its read timeout */
        rc_head(&w, 2, 200, 1, CL0);
        rc_send(c1, &w);
        rc_settle(f);
        rc_expect_done(&f->reqs[1], 0, -1);
    }
    rc_settle(f);
    assert_int_equal(fakenet_live(f->net), 0); /* drained and closed */
    rc_free(f);
}

/* ---- exact mode ---------------------------------------------------------- */

/* Exact mode (load testing, one connection), and the server drains that
 * connection (GOAWAY, a reload) while a long response is still on it: the
 * origin has no connection that takes requests any more. A request sent now
 * must get a connection (max_connections allows ten), not wait for the long
 * one to end and fail at its pool timeout. */
static void goaway_with_long_response(unsigned exact)
{
    rc_fx *f = rc_new();
    f->cfg.exact_conns = exact;
    rc_set_timeouts(f, 0, 0, 0, 5, 0);
    rc_req *q[1];
    fakeconn *c1 = h2_with(f, q, 1, NULL, 0);
    rc_wire w = {.n = 0};
    rc_goaway(&w, 1, 0); /* stream 1 goes on: a long download */
    rc_head(&w, 1, 200, 0, NULL);
    rc_send(c1, &w);
    rc_settle(f);
    rc_req *b = rc_submit(f, "http://a.test/b");
    rc_settle(f);
    rc_advance_to(f, 4);
    if (fakenet_count(f->net) < 2)
        fail_msg("after 4 s no connection was opened for the request (pool timeout 5 s); "
                 "the only one is draining");
    fakeconn *c2 = next_session(f);
    uint32_t ids[8];
    assert_int_equal(rc_client_frames(c2, RC_HEADERS, ids, 8), 1);
    answer(f, c2, ids[0]);
    rc_expect_done(b, 0, -1);
    rc_cancel_rest(f);
    rc_free(f);
}

static void test_exact_mode_goaway_replaces(void **state)
{
    (void)state;
    goaway_with_long_response(1);
}

/* The same without exact mode, as a control: a connection is opened. */
static void test_goaway_replaces(void **state)
{
    (void)state;
    goaway_with_long_response(0);
}

/* ---- a pause that outlives its exchange's connection ---------------------- */

/* The user paused the flow (a producer that has nothing yet: HXC_PAUSE)
 * while the request ran; the server refused it twice (REFUSED_STREAM), so
 * it waits in its backoff; the user resumes meanwhile. The request then
 * runs again, and the server never answers: its read timeout (2 s) must end
 * it, as it ends any request the server leaves unanswered. */
static void test_resume_while_in_backoff(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 2, 2, 30, 100);
    rc_req *q[1];
    fakeconn *c1 = h2_with(f, q, 1, NULL, 0);
    hxc__pool_set_refused_backoff(f->pool, 1.0);
    hxc__pool_paused(f->pool, q[0]->ex, 1); /* the producer has nothing yet */
    rc_wire w = {.n = 0};
    rc_rst(&w, 1, 7 /* REFUSED_STREAM: retried at once */);
    rc_send(c1, &w);
    rc_settle(f);
    uint32_t ids[8];
    assert_int_equal(rc_client_frames(c1, RC_HEADERS, ids, 8), 2);
    rc_rst(&w, ids[1], 7); /* again: now it backs off */
    rc_send(c1, &w);
    rc_settle(f);
    assert_int_equal(rc_stats(f).requests_active, 0);
    assert_int_equal(rc_stats(f).requests_queued, 1);
    hxc__pool_paused(f->pool, q[0]->ex, 0); /* the producer has its bytes now */
    rc_advance(f, 1.2);                     /* the backoff ends: it runs again */
    assert_int_equal(rc_client_frames(c1, RC_HEADERS, ids, 8), 3);
    assert_int_equal(rc_stats(f).requests_active, 1);
    double sent = rc_now(f);
    fakeconn_drain_all(c1);
    rc_advance(f, 10);
    if (!q[0]->done)
        fail_msg("the request sent again at %.3f s is still waiting at %.3f s: no read or "
                 "write timeout runs for it (2 s each)",
                 sent, rc_now(f));
    rc_expect_done(q[0], HXC_ETIMEOUT_READ, -1);
    assert_true(q[0]->at - RC_T0 < sent + 2.5);
    rc_free(f);
}

/* The same with a stale HTTP/1.1 connection: paused on a reused connection
 * the server had closed, retried on a new one, resumed while connecting. */
static void test_resume_while_connecting(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 2, 2, 30, 100);
    rc_start(f);
    rc_req *warm = rc_submit(f, "http://a.test/warm");
    rc_settle(f);
    fakeconn *c1 = rc_send_on(f, 0);
    fakeconn_read_str(c1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    rc_settle(f);
    rc_expect_done(warm, 0, -1);
    rc_advance(f, 0.1);
    rc_req *q = rc_submit(f, "http://a.test/again"); /* on the idle connection */
    rc_settle(f);
    hxc__pool_paused(f->pool, q->ex, 1);
    fakeconn_close(c1, 0, "closed by peer"); /* stale: retried on a new connection */
    rc_settle(f);
    assert_int_equal(fakenet_count(f->net), 2);
    hxc__pool_paused(f->pool, q->ex, 0); /* resumed while it connects */
    rc_send_on(f, 1);
    double sent = rc_now(f);
    rc_advance(f, 10);
    if (!q->done)
        fail_msg("the request sent again at %.3f s is still waiting at %.3f s: no read or "
                 "write timeout runs for it (2 s each)",
                 sent, rc_now(f));
    rc_expect_done(q, HXC_ETIMEOUT_READ, sent + 2);
    rc_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_goaway_before_settings),
        cmocka_unit_test(test_draining_connection_fails),
        cmocka_unit_test(test_cancel_in_backoff_while_closing),
        cmocka_unit_test(test_refused_retry_meets_enofd),
        cmocka_unit_test(test_push_on_draining_session),
        cmocka_unit_test(test_resume_while_in_backoff),
        cmocka_unit_test(test_resume_while_connecting),
        cmocka_unit_test(test_goaway_replaces),
        cmocka_unit_test(test_exact_mode_goaway_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
