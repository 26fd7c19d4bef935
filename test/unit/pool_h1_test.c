/* SPDX-License-Identifier: MIT */
/*
 * Unit: the HTTP/1.1 glue in manual time over fake transports:
 *
 * - the hand-off (conn_h1.c refile_cb): a response that ends in a read loop
 *   which stopped at its limit, with bytes still waiting, closes the
 *   connection instead of handing it on; the request queued for it must
 *   then get a new connection at once, with its own connect timeout from
 *   then, and its pool timeout must not end it meanwhile;
 * - "Connection: close" in a 1xx (llhttp's lenient keep-alive lets the
 *   final response through; the connection must still not be reused).
 */
#include "poolfx.h"

static const char OK2[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/* One connection allowed (connect timeout 3 s, pool 10 s, read `read`): A
 * is sent on it and reads, B waits in the queue. */
static fakeconn *one_busy_one_queued(rc_fx *f, double read, rc_req **a, rc_req **b)
{
    f->cfg.max_connections = 1;
    rc_set_timeouts(f, 3, 0, read, 10, 0);
    rc_start(f);
    *a = rc_submit(f, "http://a.test/a");
    *b = rc_submit(f, "http://a.test/b");
    rc_settle(f);
    return rc_send_on(f, 0);
}

static void test_refile_closes_queued_gets_new(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_req *a, *b;
    fakeconn *c1 = one_busy_one_queued(f, 0, &a, &b);
    rc_advance_to(f, 1);
    /* The read loop stops at its limit right after the response (more
     * bytes wait in the socket: not alive). */
    c1->read_drained = 0;
    c1->alive = 0;
    fakeconn_read_str(c1, OK2);
    rc_settle(f);
    rc_expect_done(a, 0, 1);
    assert_true(c1->freed);
    assert_false(b->done);
    assert_int_equal(fakenet_count(f->net), 2); /* at once */
    /* Its connect timeout counts from now (3 s), not its pool timeout. */
    rc_advance_to(f, 1 + 3 - 0.001);
    assert_false(b->done);
    rc_advance_to(f, 1 + 3 + 0.001);
    rc_expect_done(b, HXC_ETIMEOUT_CONNECT, 4);
    rc_free(f);
}

/* The same read loop stopped at its limit, the connection quiet (alive):
 * handed on to the queued request, which is sent on it. */
static void test_refile_hands_on_when_quiet(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_req *a, *b;
    fakeconn *c1 = one_busy_one_queued(f, 5, &a, &b);
    c1->read_drained = 0;
    fakeconn_read_str(c1, OK2);
    rc_settle(f);
    rc_expect_done(a, 0, 0);
    assert_false(c1->freed);
    assert_int_equal(fakeconn_written_count(c1, "GET /b "), 1);
    fakeconn_drain_all(c1);
    fakeconn_read_str(c1, OK2);
    rc_settle(f);
    rc_expect_done(b, 0, 0);
    rc_free(f);
}

/* RFC 9112 9.6: a client that receives a "close" connection option MUST
 * cease sending requests on that connection after the response message
 * that contained it. A 1xx is such a message: the server said it closes
 * after this exchange, so the next request goes on a new connection. (The
 * review fix that keeps llhttp parsing after a 1xx with "Connection: close"
 * decides keep-alive from the final response alone.) */
static void test_close_in_interim_response(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 0, 5, 10, 0);
    rc_start(f);
    rc_req *a = rc_submit(f, "http://a.test/a");
    rc_settle(f);
    fakeconn *c1 = rc_send_on(f, 0);
    fakeconn_read_str(c1, "HTTP/1.1 103 Early Hints\r\nConnection: close\r\n"
                          "Link: </s.css>; rel=preload\r\n\r\n");
    fakeconn_read_str(c1, OK2);
    rc_settle(f);
    rc_expect_done(a, 0, 0);
    rc_req *b = rc_submit(f, "http://a.test/b");
    rc_settle(f);
    if (fakeconn_written_count(c1, "GET /b ") != 0)
        fail_msg("the next request was sent on the connection whose server said "
                 "\"Connection: close\" (in its 103)");
    assert_int_equal(fakenet_count(f->net), 2);
    fakeconn *c2 = rc_send_on(f, 1);
    fakeconn_read_str(c2, OK2);
    rc_settle(f);
    rc_expect_done(b, 0, 0);
    rc_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refile_closes_queued_gets_new),
        cmocka_unit_test(test_refile_hands_on_when_quiet),
        cmocka_unit_test(test_close_in_interim_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
