/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/reactor: when deferred items run (eager vs once per turn),
 * that no chain of deferred work keeps the loop from turning, and manual
 * time (the clock and timers of the pool's unit tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "reactor/reactor.h"

/* What ran, in order: 'a'/'b' the two fd callbacks, 'E' the eager item,
 * 'D' the once-per-turn item. */
typedef struct {
    hxc__reactor r;
    hxc__io io[2];
    int fds[2][2];
    hxc__defer eager, eager2, turn;
    char seq[16];
    int n;
} fixture;

static void note(fixture *f, char c)
{
    if (f->n < (int)sizeof(f->seq) - 1)
        f->seq[f->n++] = c;
}

/* A reactor on a new event_base, with `f->eager` an eager item running `cb`. */
static struct event_base *fixture_open(fixture *f, hxc__defer_cb cb)
{
    struct event_base *base = event_base_new();
    assert_non_null(base);
    memset(f, 0, sizeof(*f));
    assert_int_equal(hxc__reactor_init(&f->r, base, NULL), 0);
    hxc__defer_init_eager(&f->eager, cb, f);
    return base;
}

static void fixture_close(fixture *f, struct event_base *base)
{
    hxc__reactor_destroy(&f->r);
    event_base_free(base);
}

static void eager2_cb(hxc__defer *d, void *arg)
{
    (void)d;
    note(arg, 'F');
}

static void eager_cb(hxc__defer *d, void *arg)
{
    (void)d;
    fixture *f = arg;
    note(f, 'E');
    hxc__defer_schedule(&f->r, &f->eager2); /* as a delivery queues its requests' flush */
}

static void turn_cb(hxc__defer *d, void *arg)
{
    (void)d;
    fixture *f = arg;
    note(f, 'D');
    event_base_loopbreak(f->r.base);
}

static void io_cb(hxc__io *io, int events, void *arg)
{
    (void)events;
    fixture *f = arg;
    int which = io == &f->io[0] ? 0 : 1;
    char c;
    assert_int_equal(read(f->fds[which][0], &c, 1), 1);
    hxc__io_stop(io);
    note(f, which == 0 ? 'a' : 'b');
    if (f->n == 1) { /* the first fd callback of the turn queues both kinds */
        hxc__defer_schedule(&f->r, &f->turn);
        hxc__defer_schedule(&f->r, &f->eager);
    }
}

/* Two connections readable in one turn: the eager item runs as soon as the
 * callback that queued it returns, before the second connection is read, and
 * so does the eager item it queues; the other item waits for the end of the
 * turn. */
static void test_eager_runs_after_its_callback(void **state)
{
    (void)state;
    fixture f;
    struct event_base *base = fixture_open(&f, eager_cb);
    hxc__defer_init_eager(&f.eager2, eager2_cb, &f);
    hxc__defer_init(&f.turn, turn_cb, &f);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, f.fds[i]), 0);
        hxc__io_init(&f.r, &f.io[i], f.fds[i][0], io_cb, &f);
        hxc__io_want(&f.io[i], HXC__IO_READ);
        assert_int_equal(write(f.fds[i][1], "x", 1), 1);
    }
    event_base_dispatch(base);
    assert_int_equal(f.n, 5);
    assert_true(strcmp(f.seq, "aEFbD") == 0 || strcmp(f.seq, "bEFaD") == 0);
    for (int i = 0; i < 2; i++) {
        close(f.fds[i][0]);
        close(f.fds[i][1]);
    }
    fixture_close(&f, base);
}

static void requeue_cb(hxc__defer *d, void *arg)
{
    fixture *f = arg;
    note(f, 'E');
    if (f->n < 3)
        hxc__defer_schedule(&f->r, d); /* runs again on a later run, not in this one */
}

/* Queued outside any reactor callback, an eager item still runs (with the
 * turn's other items), and one that queues itself again does not loop. */
static void test_eager_from_outside(void **state)
{
    (void)state;
    fixture f;
    struct event_base *base = fixture_open(&f, requeue_cb);
    hxc__defer_schedule(&f.r, &f.eager);
    assert_int_equal(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    assert_true(f.n >= 1);
    event_base_dispatch(base); /* the requeued runs, then the loop has nothing left */
    assert_int_equal(f.n, 3);
    assert_false(hxc__defer_pending(&f.eager));
    fixture_close(&f, base);
}

/* ---- yielding ------------------------------------------------------------ */

typedef struct chain {
    hxc__reactor r;
    hxc__defer a, b;
    int runs_a, runs_b, limit;
    int ticks; /* the caller's own timer */
} chain;

static void a_cb(hxc__defer *d, void *arg)
{
    (void)d;
    chain *c = arg;
    if (++c->runs_a < c->limit)
        hxc__defer_schedule(&c->r, &c->b); /* B queues A again: a cycle */
}

static void b_cb(hxc__defer *d, void *arg)
{
    (void)d;
    chain *c = arg;
    if (++c->runs_b < c->limit)
        hxc__defer_schedule(&c->r, &c->a);
}

static void self_cb(hxc__defer *d, void *arg)
{
    chain *c = arg;
    if (++c->runs_a < c->limit)
        hxc__defer_schedule(&c->r, d); /* re-arms itself, like an upload's delivery */
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ((chain *)arg)->ticks++;
}

/* Runs the loop one turn at a time: the caller's zero-delay timer (re-added
 * every turn, as a due timer of the caller's would be) fires on each, while
 * deferred work that re-arms itself runs once per turn, not a thousand times
 * in the first one. */
static void run_turns(chain *c, struct event_base *base, struct event *tick)
{
    static const struct timeval now = {0, 0};
    for (int turn = 1; turn <= 5; turn++) {
        evtimer_add(tick, &now);
        assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
        assert_true(c->runs_a <= turn);
        assert_true(c->runs_b <= turn);
    }
    assert_true(c->ticks >= 4);
    assert_true(c->runs_a >= 3);
}

/* A reactor on a new event_base for `c`, with the caller's timer `*tick`. */
static struct event_base *chain_open(chain *c, int limit, struct event **tick)
{
    memset(c, 0, sizeof(*c));
    c->limit = limit;
    struct event_base *base = event_base_new();
    assert_non_null(base);
    assert_int_equal(hxc__reactor_init(&c->r, base, NULL), 0);
    hxc__defer_init(&c->a, a_cb, c);
    hxc__defer_init(&c->b, b_cb, c);
    *tick = evtimer_new(base, tick_cb, c);
    return base;
}

static void chain_close(chain *c, struct event_base *base, struct event *tick)
{
    hxc__defer_cancel(&c->a);
    hxc__defer_cancel(&c->b);
    event_free(tick);
    hxc__reactor_destroy(&c->r);
    event_base_free(base);
}

static void rearming_item(int eager)
{
    chain c;
    struct event *tick;
    struct event_base *base = chain_open(&c, 1000, &tick);
    if (eager)
        hxc__defer_init_eager(&c.a, self_cb, &c);
    else
        hxc__defer_init(&c.a, self_cb, &c);
    hxc__defer_schedule(&c.r, &c.a);
    run_turns(&c, base, tick);
    chain_close(&c, base, tick);
}

static void test_self_rearming_item_yields(void **state)
{
    (void)state;
    rearming_item(0);
    rearming_item(1);
}

static void test_cycle_of_items_yields(void **state)
{
    (void)state;
    chain c;
    struct event *tick;
    struct event_base *base = chain_open(&c, 1000, &tick);
    /* An eager item and a once-per-turn one, as a delivery and a flush. */
    hxc__defer_init_eager(&c.a, a_cb, &c);
    hxc__defer_schedule(&c.r, &c.a);
    run_turns(&c, base, tick);
    assert_true(c.runs_b >= 3);
    chain_close(&c, base, tick);
}

/* What an item queues that has not run in this pass still runs in this turn
 * (an HTTP/2 flush queues the transport's write: both in one turn). */
static void test_new_item_runs_in_the_same_turn(void **state)
{
    (void)state;
    chain c;
    struct event *tick;
    /* A queues B, B queues A once more: A waits for the next turn. */
    struct event_base *base = chain_open(&c, 2, &tick);
    hxc__defer_schedule(&c.r, &c.a);
    assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
    assert_int_equal(c.runs_a, 1);
    assert_int_equal(c.runs_b, 1);
    assert_true(hxc__defer_pending(&c.a));
    assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
    assert_int_equal(c.runs_a, 2);
    assert_false(hxc__defer_pending(&c.b));
    chain_close(&c, base, tick);
}

/* ---- manual time ------------------------------------------------------------ */

typedef struct mclock {
    hxc__reactor r;
    hxc__timer t[4];
    hxc__defer eager, turn;
    char seq[32];
    double at[32];
    int n;
    int rearm; /* t[0] re-arms itself this many times */
} mclock;

static void mnote(mclock *m, char c)
{
    if (m->n < (int)sizeof(m->seq) - 1) {
        m->at[m->n] = hxc__reactor_now(&m->r);
        m->seq[m->n++] = c;
    }
}

static void mtimer_cb(hxc__timer *t, void *arg)
{
    mclock *m = arg;
    int i = (int)(t - m->t);
    mnote(m, (char)('0' + i));
    if (i == 1) { /* queues both kinds of deferred item, as a read would */
        hxc__defer_schedule(&m->r, &m->turn);
        hxc__defer_schedule(&m->r, &m->eager);
    }
    if (i == 0 && m->rearm-- > 0)
        hxc__timer_start(t, 0.5);
}

static void meager_cb(hxc__defer *d, void *arg)
{
    (void)d;
    mnote(arg, 'E');
}

static void mturn_cb(hxc__defer *d, void *arg)
{
    (void)d;
    mnote(arg, 'D');
}

/* In manual time the clock moves only when advanced; timers fire in due
 * order (armed first among equals) with the clock at their due time, each
 * followed by its eager items and then the rest of the loop turn; a stopped
 * timer never fires, one re-armed from its callback fires again within the
 * same advance if due by its end. */
static void test_manual_time(void **state)
{
    (void)state;
    mclock m;
    memset(&m, 0, sizeof(m));
    struct event_base *base = event_base_new();
    assert_non_null(base);
    assert_int_equal(hxc__reactor_init(&m.r, base, NULL), 0);
    hxc__reactor_set_manual_time(&m.r, 100);
    for (int i = 0; i < 4; i++)
        hxc__timer_init(&m.r, &m.t[i], mtimer_cb, &m);
    hxc__defer_init_eager(&m.eager, meager_cb, &m);
    hxc__defer_init(&m.turn, mturn_cb, &m);
    m.rearm = 1;
    hxc__timer_start(&m.t[0], 2);
    hxc__timer_start(&m.t[1], 1);
    hxc__timer_start(&m.t[2], 2); /* due with t[0], armed after it */
    hxc__timer_start(&m.t[3], 1.5);
    hxc__timer_stop(&m.t[3]);
    assert_true(hxc__timer_armed(&m.t[0]));
    assert_false(hxc__timer_armed(&m.t[3]));
    assert_true(hxc__reactor_now(&m.r) == 100);

    hxc__reactor_advance(&m.r, 0.999);
    assert_int_equal(m.n, 0);
    assert_true(hxc__reactor_now(&m.r) == 100.999);
    hxc__reactor_advance(&m.r, 2.001); /* to 103 */
    assert_string_equal(m.seq, "1ED020");
    const double at[] = {101, 101, 101, 102, 102, 102.5};
    for (int i = 0; i < 6; i++)
        assert_true(m.at[i] == at[i]);
    assert_true(hxc__reactor_now(&m.r) == 103);
    for (int i = 0; i < 4; i++)
        assert_false(hxc__timer_armed(&m.t[i]));
    hxc__reactor_destroy(&m.r);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eager_runs_after_its_callback),
        cmocka_unit_test(test_eager_from_outside),
        cmocka_unit_test(test_self_rearming_item_yields),
        cmocka_unit_test(test_cycle_of_items_yields),
        cmocka_unit_test(test_new_item_runs_in_the_same_turn),
        cmocka_unit_test(test_manual_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
