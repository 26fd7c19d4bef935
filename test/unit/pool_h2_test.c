/* SPDX-License-Identifier: MIT */
/*
 * Unit: the pool's HTTP/2 paths in manual time, over a fake transport
 * and a server written frame by frame (poolfx.h).
 *
 * Write progress (conn_h2.c on_drained, ev_sent): the write timeout is the
 * longest wait for the socket to take request bytes. Over the transport's
 * high-water mark the socket's progress restarts the write timeout of each
 * stream still sending that the server lets send (hxc__h2_can_send), and a
 * stream the server gives no window (0, or below 0 after a lowered
 * SETTINGS_INITIAL_WINDOW_SIZE, RFC 9113 6.9.2) still times out. Below the
 * mark, a stream that framed its whole window waits for WINDOW_UPDATE while
 * the socket still takes its bytes: that is progress too (as on HTTP/1.1).
 *
 * HEAD, 204 and 304 responses announcing a length over the body cap, and a
 * body sent anyway after them.
 */
#include "poolfx.h"

#define BODY (200u * 1024)

static char body[BODY];

/* Two uploads on one h2c session, both with their stream windows used up
 * (65,535 bytes each) and the connection window opened wide. */
static fakeconn *two_uploads(rc_fx *f, rc_req **a, rc_req **b)
{
    memset(body, 'x', sizeof(body));
    f->cfg.http2_prior_knowledge = 1;
    rc_set_timeouts(f, 0, 10, 0, 0, 0);
    rc_start(f);
    *a = rc_submit_body(f, "POST", "http://a.test/a", body, sizeof(body));
    *b = rc_submit_body(f, "POST", "http://a.test/b", body, sizeof(body));
    rc_settle(f);
    assert_int_equal(fakenet_count(f->net), 1);
    fakeconn *c = rc_conn(f, 0);
    fakeconn_connected(c, "");
    rc_settle(f);
    rc_wire w = {.n = 0};
    rc_settings(&w, NULL, 0);
    rc_frame(&w, RC_SETTINGS, RC_ACK, 0, NULL, 0);
    rc_window(&w, 0, 16u << 20);
    rc_send(c, &w);
    rc_settle(f);
    uint32_t ids[8];
    assert_int_equal(rc_client_frames(c, RC_HEADERS, ids, 8), 2);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 3);
    return c;
}

/* Frames now wait behind the mark; the socket takes a little every second
 * for `seconds`, while the server has given stream 3 room to send. Every
 * frame of stream 1 (interleaved with stream 3's) has left the socket
 * before: stream 1 is starved by the server, not by our queue. */
static void progress_for(rc_fx *f, fakeconn *c, int seconds)
{
    fakeconn_drain(c, c->pending - 10000);
    rc_settle(f);
    for (int i = 0; i < seconds; i++) {
        rc_advance(f, 1);
        if (c->pending > 300)
            fakeconn_drain(c, 300);
        rc_settle(f);
    }
}

/* Stream 1 starved by the server, stream 3 given a window, frames over the
 * high-water mark: the socket's progress is stream 3's alone, and stream 1
 * times out at its write timeout, counted from its last frame. `lowered`:
 * the server also lowers SETTINGS_INITIAL_WINDOW_SIZE to 0 first. */
static void starved_stream(int lowered)
{
    rc_fx *f = rc_new();
    rc_req *a, *b;
    fakeconn *c = two_uploads(f, &a, &b);
    c->full = 1; /* over the high-water mark from now on */
    rc_wire w = {.n = 0};
    uint32_t kv[] = {4 /* SETTINGS_INITIAL_WINDOW_SIZE */, 0};
    if (lowered)
        rc_settings(&w, kv, 1);
    rc_window(&w, 3, 1u << 20);
    rc_send(c, &w);
    rc_settle(f);
    progress_for(f, c, 20);
    rc_expect_done(a, HXC_ETIMEOUT_WRITE, 10);
    assert_false(b->done);
    rc_cancel_rest(f);
    rc_free(f);
}

/* The design's case, as a control: stream 1's window is 0. */
static void test_zero_window_times_out(void **state)
{
    (void)state;
    starved_stream(0);
}

/* Both streams sent their 65,535 bytes, then the server lowers
 * SETTINGS_INITIAL_WINDOW_SIZE to 0: both windows go to -65,535 (RFC 9113
 * 6.9.2), then stream 3 gets a WINDOW_UPDATE. Stream 1 can send nothing,
 * as with a window of 0 (nghttp2 reports a negative window as 0). */
static void test_negative_window_times_out(void **state)
{
    (void)state;
    starved_stream(1);
}

/* ---- responses that announce a body none may carry ------------------------ */

/* An h2c request of `method` (body cap 10 bytes) answered with `status`, a
 * content-length of 100000, then `data` (NULL: the head ends the stream). */
static rc_req *announced(rc_fx *f, const char *method, int status, const char *data)
{
    f->cfg.http2_prior_knowledge = 1;
    rc_set_timeouts(f, 0, 0, 5, 0, 0);
    rc_start(f);
    rc_req *q = &f->reqs[f->nreqs++];
    q->f = f;
    hxc_request *rq;
    assert_int_equal(hxc_request_new(&rq, method, "http://a.test/x"), 0);
    q->resp = hxc__response_new(rq, NULL);
    assert_int_equal(hxc__pool_submit(f->pool, q->resp, f->t, 10, q, &q->ex), 0);
    rc_settle(f);
    fakeconn *c = rc_conn(f, 0);
    fakeconn_connected(c, "");
    rc_settle(f);
    rc_h2_accept(f, c, NULL, 0);
    rc_wire w = {.n = 0};
    const char *fields[] = {"content-length", "100000", NULL};
    rc_head(&w, 1, status, data == NULL, fields);
    if (data != NULL)
        rc_data(&w, 1, data, 1);
    rc_send(c, &w);
    rc_settle(f);
    return q;
}

static void test_head_304_204_announced_length(void **state)
{
    (void)state;
    static const struct {
        const char *method;
        int status;
    } cases[] = {{"HEAD", 200}, {"GET", 304}, {"GET", 204}, {"HEAD", 404}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc_fx *f = rc_new();
        rc_req *q = announced(f, cases[i].method, cases[i].status, NULL);
        if (cases[i].status == 204) {
            /* RFC 9110 8.6: a 204 carries no content-length; nghttp2 may refuse it */
            assert_true(q->done);
        } else {
            rc_expect_done(q, 0, -1);
            assert_int_equal(q->resp->status, cases[i].status);
            assert_int_equal(q->resp->body.len, 0);
        }
        rc_free(f);
    }
}

/* ...and a body sent anyway after such a head is not taken as the body. */
static void test_body_after_head_response(void **state)
{
    (void)state;
    static const struct {
        const char *method;
        int status;
    } cases[] = {{"HEAD", 200}, {"GET", 304}, {"GET", 204}};
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc_fx *f = rc_new();
        rc_req *q = announced(f, cases[i].method, cases[i].status, "body");
        assert_true(q->done);
        if (q->err == 0)
            fail_msg("%s answered %d with a body: taken (%zu bytes)", cases[i].method,
                     cases[i].status, q->resp->body.len);
        rc_free(f);
    }
}

/* ---- write progress below the high-water mark ---------------------------- */

/* An upload of 200 KiB with a write timeout of 2 s over a socket that takes
 * 10 KiB a second. On HTTP/2 the server's windows are the defaults most
 * servers keep (65,535 bytes, stream and connection): the client frames
 * that much at once, far below the transport's high-water mark, then waits
 * for the server's WINDOW_UPDATE, which a server sends when it has received
 * half of the window (here: when 32 KiB have left the socket, after 4 s).
 * All along the socket takes the request's bytes: the write timeout (the
 * longest wait for the socket to take request bytes) must not end it. */
static void test_h2_window_wait_with_socket_progress(void **state)
{
    (void)state;
    memset(body, 'x', sizeof(body));
    rc_fx *f = rc_new();
    f->cfg.http2_prior_knowledge = 1;
    rc_set_timeouts(f, 0, 2, 0, 0, 0);
    rc_start(f);
    rc_req *a = rc_submit_body(f, "POST", "http://a.test/up", body, sizeof(body));
    rc_settle(f);
    fakeconn *c = rc_conn(f, 0);
    fakeconn_connected(c, "");
    rc_settle(f);
    rc_h2_accept(f, c, NULL, 0);
    size_t framed = c->pending, taken = 0, credited = 0;
    assert_true(framed > 65535 && framed < 70000); /* one window of DATA, and the rest */
    for (int s = 1; s <= 12 && !a->done; s++) {
        rc_advance(f, 1);
        if (c->pending > 0) {
            size_t n = c->pending < 10240 ? c->pending : 10240;
            fakeconn_drain(c, n);
            taken += n;
            rc_settle(f);
        }
        if (taken - credited >= 32768) { /* the server got half a window: it credits it */
            rc_wire w = {.n = 0};
            rc_window(&w, 0, (uint32_t)(taken - credited));
            rc_window(&w, 1, (uint32_t)(taken - credited));
            rc_send(c, &w);
            rc_settle(f);
            credited = taken;
        }
    }
    if (a->done)
        fail_msg("ended with %s (%s) at %.1f s, while the socket took 10 KiB every second "
                 "(%zu bytes taken by then)",
                 hxc_error_name(a->err), a->detail, a->at - RC_T0, taken);
    rc_cancel_rest(f);
    rc_free(f);
}

/* The same upload over HTTP/1.1, as a control: every drain is progress. */
static void test_h1_upload_with_socket_progress(void **state)
{
    (void)state;
    memset(body, 'x', sizeof(body));
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 2, 0, 0, 0);
    rc_start(f);
    rc_req *a = rc_submit_body(f, "POST", "http://a.test/up", body, sizeof(body));
    rc_settle(f);
    fakeconn *c = rc_conn(f, 0);
    fakeconn_connected(c, "");
    rc_settle(f);
    for (int s = 1; s <= 12 && !a->done; s++) {
        rc_advance(f, 1);
        fakeconn_drain(c, 10240);
        rc_settle(f);
    }
    assert_false(a->done);
    rc_cancel_rest(f);
    rc_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_window_times_out),
        cmocka_unit_test(test_negative_window_times_out),
        cmocka_unit_test(test_h1_upload_with_socket_progress),
        cmocka_unit_test(test_h2_window_wait_with_socket_progress),
        cmocka_unit_test(test_head_304_204_announced_length),
        cmocka_unit_test(test_body_after_head_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
