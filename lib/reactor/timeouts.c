/* SPDX-License-Identifier: MIT */
/* reactor/timeouts.c - FIFOs of timeouts per duration. See timeouts.h. */
#include "core/internal.h"
#include "reactor/timeouts.h"

static void queue_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__tqueue *q = arg;
    double now = hxc__reactor_now(q->r);
    while (!hxc__list_empty(&q->items)) {
        hxc__timeout *to = HXC__LIST_ENTRY(q->items.next, hxc__timeout, node);
        if (to->due > now + 0.0005) {
            hxc__timer_start_once(&q->timer, to->due - now); /* the oldest left */
            return;
        }
        hxc__list_remove(&to->node);
        to->q = NULL;
        to->due = 0;
        q->cb(to); /* may set it again (at the tail) or free its record */
    }
}

static void own_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__timeout *to = arg;
    to->due = 0;
    t->on_timeout(to);
}

/* The FIFO for timeouts of `seconds` with callback `cb`, or NULL when every
 * queue serves another duration. */
static hxc__tqueue *queue_for(hxc__reactor *r, double seconds, hxc__timeout_cb cb)
{
    for (unsigned i = 0; i < r->ntq; i++)
        if (r->tq[i].seconds == seconds && r->tq[i].cb == cb)
            return &r->tq[i];
    if (r->ntq == HXC__TQUEUES)
        return NULL;
    hxc__tqueue *q = &r->tq[r->ntq++];
    q->seconds = seconds;
    q->cb = cb;
    q->r = r;
    hxc__list_init(&q->items);
    hxc__timer_init(r, &q->timer, queue_cb, q);
    return q;
}

void hxc__timeout_clear(hxc__timeout *to, hxc__timer *own)
{
    if (to->q != NULL) {
        hxc__list_remove(&to->node);
        if (hxc__list_empty(&to->q->items))
            hxc__timer_stop(&to->q->timer);
        to->q = NULL;
    } else if (to->due > 0) {
        hxc__timer_stop(own);
    }
    to->due = 0;
}

void hxc__timeout_set(hxc__reactor *r, hxc__timeout *to, hxc__timer *own, hxc__timeout_cb cb,
                      double due, double now, double period)
{
    hxc__timeout_clear(to, own);
    hxc__tqueue *q = period > 0 ? queue_for(r, period, cb) : NULL;
    if (q != NULL) {
        if (hxc__list_empty(&q->items))
            hxc__timer_start(&q->timer, period);
        hxc__list_insert_tail(&q->items, &to->node); /* due times only grow: sorted */
        to->q = q;
    } else {
        if (!own->initialised)
            hxc__timer_init(r, own, own_cb, to);
        own->on_timeout = cb;
        hxc__timer_start_once(own, due - now > 1e-6 ? due - now : 1e-6);
    }
    to->due = due;
}
