/* SPDX-License-Identifier: MIT */
/*
 * Unit: reactor/timeouts.c and the pool's use of it, in manual time:
 * the FIFO per duration (at most HXC__TQUEUES of them, the rest on the
 * record's own timer), records recycled while their FIFO runs (the record
 * cache is on in the plain build, off under ASan: run both), timeouts set
 * and cleared from inside the callback of the FIFO that fires, and no timer
 * left armed once nothing waits.
 */
#include "poolfx.h"

#include "reactor/timeouts.h"

/* ---- timeouts.c alone ---------------------------------------------------- */

typedef struct tevent {
    hxc__timeout to;
    hxc__timer own;
    int fired;
    double at;
    void (*then)(struct tevent *e);
} tevent;

static hxc__reactor *tr;
static tevent tev[16];

static void tev_cb(hxc__timeout *to)
{
    tevent *e = HXC__CONTAINER_OF(to, tevent, to);
    e->fired++;
    e->at = hxc__reactor_now(tr) - RC_T0;
    if (e->then)
        e->then(e);
}

static void tset(tevent *e, double period)
{
    double now = hxc__reactor_now(tr);
    hxc__timeout_set(tr, &e->to, &e->own, tev_cb, now + period, now, period);
}

static rc_fx *tfx(void)
{
    rc_fx *f = rc_new();
    rc_start(f);
    tr = &f->r;
    memset(tev, 0, sizeof(tev));
    for (int i = 0; i < 16; i++)
        hxc__timeout_init(&tev[i].to);
    return f;
}

static void expect_fired(int i, int times, double at)
{
    if (tev[i].fired != times)
        fail_msg("timeout %d fired %d times, expected %d", i, tev[i].fired, times);
    if (times > 0 && (tev[i].at < at - RC_EPS || tev[i].at > at + RC_EPS))
        fail_msg("timeout %d fired at %.6f, expected %.6f", i, tev[i].at, at);
}

/* More durations than FIFOs: each fires at its own time, those beyond the
 * FIFOs on their record's timer; cleared, they leave no timer armed. */
static void test_more_durations_than_fifos(void **state)
{
    (void)state;
    rc_fx *f = tfx();
    for (int i = 0; i < 12; i++)
        tset(&tev[i], 1 + i);
    rc_advance(f, 6.5);
    for (int i = 0; i < 12; i++)
        expect_fired(i, i < 6, 1 + i);
    for (int i = 6; i < 12; i++)
        hxc__timeout_clear(&tev[i].to, &tev[i].own);
    assert_int_equal(rc_timers(f), 0);
    rc_advance(f, 20);
    for (int i = 6; i < 12; i++)
        expect_fired(i, 0, 0);
    rc_free(f);
}

/* From the callback of the first of a FIFO: the second is cleared, the
 * callback's own timeout set again (at the tail), a fourth one joins. */
static void first_cb(tevent *e)
{
    (void)e;
    hxc__timeout_clear(&tev[1].to, &tev[1].own);
    tset(&tev[0], 1);
    tev[0].then = NULL;
    tset(&tev[3], 1);
}

static void test_set_and_clear_inside_the_fifo_callback(void **state)
{
    (void)state;
    rc_fx *f = tfx();
    tev[0].then = first_cb;
    tset(&tev[0], 1); /* due 1.0 */
    rc_advance(f, 0.2);
    tset(&tev[1], 1); /* due 1.2: cleared by the first */
    rc_advance(f, 0.2);
    tset(&tev[2], 1); /* due 1.4 */
    rc_advance(f, 3);
    expect_fired(0, 2, 2.0);
    expect_fired(1, 0, 0);
    expect_fired(2, 1, 1.4);
    expect_fired(3, 1, 2.0);
    assert_int_equal(rc_timers(f), 0);
    rc_free(f);
}

/* The oldest of a FIFO is cleared: the FIFO's timer fires for nothing at
 * its time and is armed again for the next, which fires exactly. */
static void test_oldest_cleared(void **state)
{
    (void)state;
    rc_fx *f = tfx();
    tset(&tev[0], 2);
    rc_advance(f, 0.5);
    tset(&tev[1], 2);
    rc_advance(f, 0.5);
    hxc__timeout_clear(&tev[0].to, &tev[0].own);
    rc_advance(f, 3);
    expect_fired(0, 0, 0);
    expect_fired(1, 1, 2.5);
    assert_int_equal(rc_timers(f), 0);
    rc_free(f);
}

/* ---- the pool's timeouts ------------------------------------------------- */

/* Ten requests with read timeouts of ten durations (1..10 s): more than the
 * reactor has FIFOs. Each fails exactly at its own. */
static void test_ten_read_timeouts(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    f->cfg.max_connections = 12;
    rc_start(f);
    rc_req *q[10];
    for (int i = 0; i < 10; i++) {
        rc_set_timeouts(f, 0, 0, 1 + i, 0, 0);
        q[i] = rc_submit(f, "http://a.test/x");
    }
    rc_settle(f);
    assert_int_equal(fakenet_count(f->net), 10);
    for (unsigned i = 0; i < 10; i++)
        rc_send_on(f, i);
    for (int i = 0; i < 10; i++) {
        rc_advance_to(f, 1 + i - 0.001);
        assert_false(q[i]->done);
        rc_advance_to(f, 1 + i + 0.001);
        rc_expect_done(q[i], HXC_ETIMEOUT_READ, 1 + i);
    }
    rc_free(f);
}

static const char OK0[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

/* One keep-alive connection; its requests take turns, each one's record
 * (plain build) the one just freed, all in the read timeout's FIFO, while
 * a request on a second connection, the FIFO's oldest, is answered just
 * before its time. The last request fails exactly at its timeout. */
static void test_fifo_of_recycled_records(void **state)
{
    (void)state;
    rc_fx *f = rc_new();
    rc_set_timeouts(f, 0, 0, 10, 0, 0);
    rc_start(f);
    rc_req *first = rc_submit(f, "http://a.test/first");
    rc_req *other = rc_submit(f, "http://a.test/other");
    rc_settle(f);
    fakeconn *c = rc_send_on(f, 0);
    fakeconn *c2 = rc_send_on(f, 1);
    rc_req *q = first;
    for (int i = 1; i <= 6; i++) {
        rc_advance_to(f, i);
        fakeconn_read_str(c, OK0);
        rc_settle(f);
        rc_expect_done(q, 0, i);
        q = rc_submit(f, "http://a.test/next"); /* takes the idle connection */
        rc_settle(f);
        fakeconn_drain_all(c);
        rc_settle(f);
    }
    rc_advance_to(f, 9.9);
    fakeconn_read_str(c2, OK0); /* the oldest leaves its FIFO */
    rc_settle(f);
    rc_expect_done(other, 0, 9.9);
    rc_advance_to(f, 16 - 0.001);
    assert_false(q->done);
    rc_advance_to(f, 16 + 0.001);
    rc_expect_done(q, HXC_ETIMEOUT_READ, 16);
    rc_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_more_durations_than_fifos),
        cmocka_unit_test(test_set_and_clear_inside_the_fifo_callback),
        cmocka_unit_test(test_oldest_cleared),
        cmocka_unit_test(test_ten_read_timeouts),
        cmocka_unit_test(test_fifo_of_recycled_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
