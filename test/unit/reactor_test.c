/* Unit tests of lib/reactor: when deferred items run (eager vs once per turn). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eager_runs_after_its_callback),
        cmocka_unit_test(test_eager_from_outside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
