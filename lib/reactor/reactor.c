/* SPDX-License-Identifier: MIT */
/*
 * reactor/reactor.c - timers, fd watchers and the deferred queues (once per
 * loop turn, or eager: when the current callback returns) over a caller-owned
 * event_base. An item runs at most once per pass of the queues; queued again
 * in the same pass, it waits for the next loop turn (see reactor.h).
 */
#include <event2/dns.h>

#include <string.h>

#include "core/internal.h"
#include "core/mem.h"
#include "reactor/reactor.h"

static void run_deferred_cb(evutil_socket_t fd, short what, void *arg);

/* The next loop turn has come (the loop polled and ran its due timers): what
 * waited for it joins the queues, and a new pass runs them. */
static void later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hxc__reactor *r = arg;
    r->later_armed = 0;
    r->pass_open = 0;
    while (!hxc__list_empty(&r->later)) {
        hxc__defer *d = HXC__LIST_ENTRY(r->later.next, hxc__defer, node);
        hxc__list_remove(&d->node);
        hxc__list_insert_tail(d->eager ? &r->eager : &r->deferred, &d->node);
    }
    if (!r->defer_armed && !(hxc__list_empty(&r->eager) && hxc__list_empty(&r->deferred))) {
        r->defer_armed = 1;
        event_active(&r->defer_ev, EV_TIMEOUT, 0);
    }
}

int hxc__reactor_init(hxc__reactor *r, struct event_base *base, const char *dns_servers)
{
    r->base = base;
    r->dns = NULL;
    r->dns_servers = NULL;
    r->ncommon = 0;
    r->ntq = 0;
    r->now_valid = 0;
    r->in_callback = 0;
    r->alive = NULL;
    r->read_buf = NULL;
    r->read_buf_busy = 0;
    r->manual = 0;
    r->manual_now = 0;
    hxc__list_init(&r->manual_timers);
    if (dns_servers != NULL && (r->dns_servers = hxc__strdup(dns_servers)) == NULL)
        return HXC_ENOMEM;
    hxc__list_init(&r->deferred);
    hxc__list_init(&r->eager);
    hxc__list_init(&r->later);
    r->defer_armed = r->later_armed = 0;
    r->pass = 0;
    r->pass_open = r->running = 0;
    if (event_assign(&r->defer_ev, base, -1, 0, run_deferred_cb, r) != 0 ||
        evtimer_assign(&r->later_ev, base, later_cb, r) != 0)
        return HXC_EINVAL;
    return 0;
}

/* Runs what `list` holds now; items queued meanwhile wait for the next run.
 * Returns 0 if an item destroyed the reactor: then `r` is not touched again. */
static int run_batch(hxc__reactor *r, hxc__list *list)
{
    hxc__list batch;
    if (hxc__list_empty(list))
        return 1;
    batch.next = list->next;
    batch.prev = list->prev;
    batch.next->prev = &batch;
    batch.prev->next = &batch;
    hxc__list_init(list);
    /* An item may destroy the reactor (the client's last task frees the
     * client that holds it): destroy clears `alive`, and then nothing here
     * touches `r` again. */
    int alive = 1;
    int *outer = r->alive;
    r->alive = &alive;
    while (!hxc__list_empty(&batch)) {
        hxc__defer *d = HXC__LIST_ENTRY(batch.next, hxc__defer, node);
        hxc__list_remove(&d->node);
        d->ran = r->pass;
        r->now_valid = 0;
        r->in_callback++;
        d->cb(d, d->arg);
        if (!alive) {
            if (outer != NULL)
                *outer = 0;
            return 0;
        }
        r->in_callback--;
    }
    r->alive = outer;
    r->now_valid = 0;
    return 1;
}

/* Eager items first: the requests a delivery sends are then flushed with
 * the turn's other frames. 0 if an item destroyed the reactor. */
static int run_queues(hxc__reactor *r)
{
    return run_batch(r, &r->eager) && run_batch(r, &r->deferred);
}

void hxc__reactor_run_deferred(hxc__reactor *r) { run_queues(r); }

/* The queues' pass in this loop turn. What its items queue (items that have
 * not run in it yet) is run by the pass itself, in one more run in this
 * turn; what already ran waits in `later` for the next turn. */
static void run_deferred_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hxc__reactor *r = arg;
    r->defer_armed = 0;
    if (!r->pass_open) {
        if (++r->pass == 0)
            r->pass = 1; /* 0 is "never ran" */
        r->pass_open = 1;
    }
    r->running = 1;
    if (!run_queues(r))
        return; /* destroyed by an item */
    r->running = 0;
    if (hxc__list_empty(&r->eager) && hxc__list_empty(&r->deferred)) {
        r->pass_open = 0;
        return;
    }
    r->defer_armed = 1; /* the pass goes on after the turn's other callbacks */
    event_active(&r->defer_ev, EV_TIMEOUT, 0);
}

void hxc__defer_schedule(hxc__reactor *r, hxc__defer *d)
{
    static const struct timeval next_turn = {0, 0};
    if (hxc__list_linked(&d->node))
        return;
    if (r->pass_open && d->ran == r->pass) {
        hxc__list_insert_tail(&r->later, &d->node);
        if (!r->later_armed) {
            r->later_armed = 1;
            event_add(&r->later_ev, &next_turn);
        }
        return;
    }
    hxc__list_insert_tail(d->eager ? &r->eager : &r->deferred, &d->node);
    if (!r->defer_armed && !r->running) {
        r->defer_armed = 1;
        event_active(&r->defer_ev, EV_TIMEOUT, 0);
    }
}

/* A reactor callback returned. At the outermost level, eager items run now;
 * this is the last thing a callback does (an item may free the reactor). */
static void callback_returned(hxc__reactor *r)
{
    r->in_callback--;
    r->now_valid = 0;
    /* What eager items queue runs too (a delivery's requests are flushed),
     * a few rounds at most: the rest waits for the end of the turn. */
    for (int round = 0; round < 4 && r->in_callback == 0 && !hxc__list_empty(&r->eager); round++)
        if (!run_batch(r, &r->eager))
            return;
}

void hxc__reactor_destroy(hxc__reactor *r)
{
    if (r->base == NULL)
        return; /* never initialised */
    if (r->alive != NULL)
        *r->alive = 0; /* destroyed from a deferred item: its runner stops */
    event_del(&r->defer_ev);
    event_del(&r->later_ev);
    r->defer_armed = r->later_armed = 0;
    r->running = r->pass_open = 0;
    if (r->dns != NULL) {
        evdns_base_free(r->dns, 1); /* fails pending lookups: their tickets free */
        r->dns = NULL;
    }
    hxc__free(r->dns_servers);
    r->dns_servers = NULL;
    hxc__free(r->read_buf);
    r->read_buf = NULL;
    for (unsigned i = 0; i < r->ntq; i++)
        hxc__timer_stop(&r->tq[i].timer);
}

struct evdns_base *hxc__reactor_dns(hxc__reactor *r)
{
    if (r->dns == NULL && r->dns_servers != NULL) {
        r->dns = evdns_base_new(r->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (r->dns == NULL)
            return NULL;
        evdns_base_load_hosts(r->dns, NULL);
        char *list = hxc__strdup(r->dns_servers), *save = NULL;
        int added = 0;
        for (char *tok = list ? strtok_r(list, ", ", &save) : NULL; tok;
             tok = strtok_r(NULL, ", ", &save))
            added += evdns_base_nameserver_ip_add(r->dns, tok) == 0;
        hxc__free(list);
        if (!added) {
            evdns_base_free(r->dns, 0);
            r->dns = NULL;
        }
        return r->dns;
    }
    if (r->dns == NULL) {
        r->dns = evdns_base_new(r->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                             EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (r->dns == NULL) {
            /* No usable resolv.conf: /etc/hosts and numeric hosts still work. */
            r->dns = evdns_base_new(r->base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
            if (r->dns != NULL)
                evdns_base_load_hosts(r->dns, NULL);
        }
    }
    return r->dns;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hxc__timer *t = arg;
    hxc__reactor *r = t->r;
    r->now_valid = 0;
    r->in_callback++;
    t->cb(t, t->arg); /* may free t, never the reactor */
    callback_returned(r);
}

void hxc__timer_init(hxc__reactor *r, hxc__timer *t, hxc__timer_cb cb, void *arg)
{
    t->r = r;
    t->cb = cb;
    t->arg = arg;
    if (hxc__unlikely(r->manual)) {
        hxc__list_init(&t->mnode);
        t->mdue = 0;
        t->initialised = HXC__TIMER_MANUAL;
        return;
    }
    evtimer_assign(&t->ev, r->base, timer_cb, t);
    t->initialised = HXC__TIMER_EVENT;
}

/* Manual time: into the reactor's list, after every timer due no later. */
static void manual_timer_start(hxc__timer *t, double seconds)
{
    hxc__reactor *r = t->r;
    hxc__list_remove(&t->mnode);
    t->mdue = r->manual_now + seconds;
    hxc__list *pos = r->manual_timers.prev;
    while (pos != &r->manual_timers && HXC__LIST_ENTRY(pos, hxc__timer, mnode)->mdue > t->mdue)
        pos = pos->prev;
    hxc__list_insert_head(pos, &t->mnode); /* after `pos` */
}

/* `common`: the duration recurs, so it may take one of libevent's common
 * timeout queues (16 per base, first come first served). */
static void timer_start(hxc__timer *t, double seconds, int common)
{
    if (seconds <= 0) {
        hxc__timer_stop(t);
        return;
    }
    if (hxc__unlikely(t->initialised == HXC__TIMER_MANUAL)) {
        manual_timer_start(t, seconds);
        return;
    }
    hxc__reactor *r = t->r;
    if (!common) {
        struct timeval tv;
        tv.tv_sec = (time_t)seconds;
        tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
        evtimer_add(&t->ev, &tv);
        return;
    }
    for (int i = 0; i < r->ncommon; i++) {
        if (r->common[i].seconds == seconds) {
            evtimer_add(&t->ev, r->common[i].tv);
            return;
        }
    }
    struct timeval tv;
    tv.tv_sec = (time_t)seconds;
    tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
    if (r->ncommon < (int)HXC__ARRAY_SIZE(r->common)) {
        const struct timeval *ctv = event_base_init_common_timeout(r->base, &tv);
        if (ctv != NULL) {
            r->common[r->ncommon].seconds = seconds;
            r->common[r->ncommon].tv = ctv;
            r->ncommon++;
            evtimer_add(&t->ev, ctv);
            return;
        }
    }
    evtimer_add(&t->ev, &tv);
}

void hxc__timer_start(hxc__timer *t, double seconds) { timer_start(t, seconds, 1); }

void hxc__timer_start_once(hxc__timer *t, double seconds) { timer_start(t, seconds, 0); }

void hxc__timer_stop(hxc__timer *t)
{
    if (hxc__likely(t->initialised == HXC__TIMER_EVENT))
        evtimer_del(&t->ev);
    else if (t->initialised == HXC__TIMER_MANUAL)
        hxc__list_remove(&t->mnode);
}

int hxc__timer_armed(const hxc__timer *t)
{
    if (hxc__unlikely(t->initialised == HXC__TIMER_MANUAL))
        return hxc__list_linked(&t->mnode);
    return t->initialised && evtimer_pending(&t->ev, NULL);
}

/* ---- manual time (tests) ------------------------------------------------ */

void hxc__reactor_set_manual_time(hxc__reactor *r, double start)
{
    r->manual = 1;
    r->manual_now = start;
    r->now_valid = 0;
}

void hxc__reactor_call(hxc__reactor *r, void (*fn)(void *arg), void *arg)
{
    r->now_valid = 0;
    r->in_callback++;
    fn(arg); /* never frees the reactor (as an fd callback) */
    callback_returned(r);
}

/* Whether deferred work waits for the loop. */
static int deferred_waiting(const hxc__reactor *r)
{
    return r->defer_armed || r->later_armed || !hxc__list_empty(&r->deferred) ||
           !hxc__list_empty(&r->eager) || !hxc__list_empty(&r->later);
}

void hxc__reactor_settle(hxc__reactor *r)
{
    /* Bounded: a task that re-armed itself for ever would otherwise hang
     * the test instead of failing it. */
    for (int turn = 0; turn < 10000 && deferred_waiting(r); turn++)
        event_base_loop(r->base, EVLOOP_NONBLOCK);
}

void hxc__reactor_advance(hxc__reactor *r, double seconds)
{
    double end = r->manual_now + seconds;
    hxc__reactor_settle(r);
    while (!hxc__list_empty(&r->manual_timers)) {
        hxc__timer *t = HXC__LIST_ENTRY(r->manual_timers.next, hxc__timer, mnode);
        if (t->mdue > end)
            break;
        if (t->mdue > r->manual_now)
            r->manual_now = t->mdue;
        hxc__list_remove(&t->mnode); /* fired: no longer armed, as in libevent */
        r->now_valid = 0;
        r->in_callback++;
        t->cb(t, t->arg); /* as timer_cb: may free t */
        callback_returned(r);
        hxc__reactor_settle(r);
    }
    r->manual_now = end;
    r->now_valid = 0;
}

static void io_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    hxc__io *io = arg;
    hxc__reactor *r = io->r;
    int events = 0;
    if (what & EV_READ)
        events |= HXC__IO_READ;
    if (what & EV_WRITE)
        events |= HXC__IO_WRITE;
    r->now_valid = 0;
    r->in_callback++;
    io->cb(io, events, io->arg); /* may free io, never the reactor */
    callback_returned(r);
}

void hxc__io_init(hxc__reactor *r, hxc__io *io, int fd, hxc__io_cb cb, void *arg)
{
    io->r = r;
    io->fd = fd;
    io->want = 0;
    io->cb = cb;
    io->arg = arg;
    event_assign(&io->rev, r->base, fd, EV_READ | EV_PERSIST, io_cb, io);
    event_assign(&io->wev, r->base, fd, EV_WRITE | EV_PERSIST, io_cb, io);
}

void hxc__io_want(hxc__io *io, int events)
{
    if ((events & HXC__IO_READ) && !(io->want & HXC__IO_READ))
        event_add(&io->rev, NULL);
    else if (!(events & HXC__IO_READ) && (io->want & HXC__IO_READ))
        event_del(&io->rev);
    if ((events & HXC__IO_WRITE) && !(io->want & HXC__IO_WRITE))
        event_add(&io->wev, NULL);
    else if (!(events & HXC__IO_WRITE) && (io->want & HXC__IO_WRITE))
        event_del(&io->wev);
    io->want = events;
}

void hxc__io_stop(hxc__io *io) { hxc__io_want(io, 0); }
