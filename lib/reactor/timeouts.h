/* SPDX-License-Identifier: MIT */
/*
 * reactor/timeouts.h - timeouts for records that come and go by the
 * thousand (an exchange's phase timeout and total deadline): fire a callback
 * at a due time, with no timer insertion per record in the common case.
 *
 * A timeout set for "now + d", a whole period d from now, joins the
 * reactor's FIFO for d (one per duration, up to HXC__TQUEUES durations):
 * due times in a FIFO only grow, so one libevent timer armed for its oldest
 * serves them all, and setting or clearing one is a list append or removal
 * instead of an event_add and an event_del (about 300 instructions a
 * request). Any other due time, or a duration beyond the queues, uses the
 * record's own timer. A queue's timer stays armed when its oldest entry is
 * cleared (it then fires for nothing, cheaper than moving it), unless the
 * queue is empty: an idle reactor must not keep the loop running.
 */
#ifndef HXC_REACTOR_TIMEOUTS_H
#define HXC_REACTOR_TIMEOUTS_H

#include "reactor/reactor.h"

typedef struct hxc__timeout hxc__timeout;
typedef void (*hxc__timeout_cb)(hxc__timeout *to);

/* The part a record keeps where it looks first (32 bytes); its own timer,
 * used only off the FIFOs, is kept apart (cold) and given to each call. */
struct hxc__timeout {
    hxc__list node;        /* in its queue's FIFO */
    struct hxc__tqueue *q; /* that queue, or NULL (its own timer, if set) */
    double due;            /* when it fires (0: not set) */
};

static inline void hxc__timeout_init(hxc__timeout *to)
{
    hxc__list_init(&to->node);
    to->q = NULL;
    to->due = 0;
}
/**
 * Sets `to` to fire `cb` at `due` (absolute, in hxc__reactor_now's time),
 * replacing any due time it had. `period` > 0 says due is now + period, so
 * the FIFO of that duration may take it. `own` is the record's timer, set up
 * here on first use (keep it with the record: a recycled record keeps it).
 * When it fires, `to` is clear again before `cb` runs, which may set it again
 * or free the record.
 */
void hxc__timeout_set(hxc__reactor *r, hxc__timeout *to, hxc__timer *own, hxc__timeout_cb cb,
                      double due, double now, double period);
/** Clears `to` (nothing if not set). */
void hxc__timeout_clear(hxc__timeout *to, hxc__timer *own);

#endif
