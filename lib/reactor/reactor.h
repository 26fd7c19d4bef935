/* SPDX-License-Identifier: MIT */
/*
 * reactor/reactor.h - the library's only doorway to libevent's loop.
 *
 * Wraps a caller-owned event_base: fd watchers, timers, and the deferred
 * queue that runs once per loop turn (coalesced writes, user callbacks that
 * must never run inside the call that caused them, deferred frees). The
 * reactor never runs the loop itself (but in manual time, for tests: see
 * hxc__reactor_set_manual_time) and never keeps it alive on its own: only
 * armed timers and watched fds do.
 *
 * A deferred item runs at most once per pass of the queue: queued again
 * after it ran in the current pass (a task that re-arms itself, or two that
 * re-arm each other), it waits for the next loop turn, after the loop has
 * polled its fds and run its due timers. So no chain of deferred work keeps
 * the caller's loop from turning.
 */
#ifndef HXC_REACTOR_H
#define HXC_REACTOR_H

#include <event2/event.h>
#include <event2/event_struct.h>

#include "core/internal.h"
#include "core/list.h"

typedef struct hxc__reactor hxc__reactor;
typedef struct hxc__defer hxc__defer;
typedef struct hxc__timer hxc__timer;
typedef struct hxc__io hxc__io;

typedef struct hxc__timeout hxc__timeout;
typedef void (*hxc__defer_cb)(hxc__defer *d, void *arg);
/** A timeout fired (reactor/timeouts.h). */
typedef void (*hxc__timeout_cb)(hxc__timeout *to);
typedef void (*hxc__timer_cb)(hxc__timer *t, void *arg);
/** `events` is a mix of HXC__IO_READ and HXC__IO_WRITE. */
typedef void (*hxc__io_cb)(hxc__io *io, int events, void *arg);

enum { HXC__IO_READ = 1, HXC__IO_WRITE = 2 };

struct hxc__defer {
    hxc__list node;
    hxc__defer_cb cb;
    void *arg;
    int eager;    /* runs as soon as the reactor's callback that queued it returns */
    unsigned ran; /* the pass of the deferred queue it last ran in */
};

/* A timer's `initialised`: never set up, a libevent timer, or one of a
 * reactor in manual time (kept in its `manual_timers`, not in libevent). */
enum { HXC__TIMER_NONE, HXC__TIMER_EVENT, HXC__TIMER_MANUAL };

struct hxc__timer {
    union {
        struct event ev;     /* real time */
        struct {             /* manual time (tests): never given to libevent */
            hxc__list mnode; /* in r->manual_timers while armed, by due time */
            double mdue;
        };
    };
    hxc__reactor *r;
    hxc__timer_cb cb;
    void *arg;
    int initialised;            /* HXC__TIMER_* */
    hxc__timeout_cb on_timeout; /* a record's own timer for its timeout (timeouts.c) */
};

/* A FIFO of timeouts of one duration (reactor/timeouts.h). */
#define HXC__TQUEUES 8
typedef struct hxc__tqueue {
    double seconds;
    hxc__timeout_cb cb;
    hxc__list items;  /* oldest first */
    hxc__timer timer; /* armed for the oldest */
    hxc__reactor *r;
} hxc__tqueue;

struct hxc__io {
    struct event rev, wev;
    hxc__reactor *r;
    int fd;
    int want; /* HXC__IO_READ | HXC__IO_WRITE currently registered */
    hxc__io_cb cb;
    void *arg;
};

/* Bytes a transport asks the socket for at once: four TLS records, or as
 * much cleartext, per syscall. */
#define HXC__READ_BUF (64u << 10)

struct hxc__reactor {
    struct event_base *base;
    struct evdns_base *dns; /* created on first use */
    struct event defer_ev;  /* made active: runs the queues in this loop turn */
    struct event later_ev;  /* a zero timeout: fires on the next turn, after the poll */
    hxc__list deferred;     /* run once per loop turn (HTTP/2 flushes: one write each) */
    hxc__list eager;        /* run when the current fd or timer callback returns */
    hxc__list later;        /* ran in this pass already: wait for the next turn */
    int defer_armed, later_armed;
    /* A pass of the deferred queue: one run of it, and the runs it chains in
     * the same loop turn (what its items queued). `pass_open` while it goes
     * on; `running` while its items run (what they queue is run by the pass
     * itself, not by another activation). */
    unsigned pass;
    int pass_open;
    int running;
    char *dns_servers; /* NULL: the system's resolv.conf */
    /* libevent "common timeouts": timers of one duration share an O(1) queue
     * instead of each going through the min-heap. */
    struct {
        double seconds;
        const struct timeval *tv;
    } common[16];
    int ncommon;
    hxc__tqueue tq[HXC__TQUEUES]; /* timeouts.c's FIFOs, one per duration */
    unsigned ntq;
    /* The time, read once per callback from the loop: a read that completes
     * fifteen responses stamps them all with the moment it ran, instead of
     * reading the clock a dozen times per request. Only inside the
     * reactor's own callbacks (`in_callback` > 0): it is forgotten when one
     * returns and after every user callback, and any call from elsewhere (the
     * caller's code before the loop runs, its own libevent callbacks, evdns)
     * reads the clock. */
    double now;
    int now_valid;
    int in_callback;
    /* The transports' socket reads land here (HXC__READ_BUF bytes, made on
     * first use): one buffer per loop thread, not one per connection or
     * 64 KiB on the stack. `read_buf_busy` while a read is in it. */
    uint8_t *read_buf;
    int read_buf_busy;
    int *alive; /* while the deferred queue runs: cleared by destroy */
    /* Manual time (tests, hxc__reactor_set_manual_time): the clock is
     * `manual_now`, moved only by hxc__reactor_advance, and timers wait in
     * `manual_timers` (by due time) instead of libevent. */
    int manual;
    double manual_now;
    hxc__list manual_timers;
};

double hxc__now(void);

/** The reactor's clock: the monotonic time, or the manual time in tests. */
static inline double hxc__reactor_clock(const hxc__reactor *r)
{
    if (hxc__unlikely(r->manual))
        return r->manual_now;
    return hxc__now();
}

/** The monotonic time in seconds, cached for the current callback. */
static inline double hxc__reactor_now(hxc__reactor *r)
{
    if (r->in_callback == 0)
        return hxc__reactor_clock(r);
    if (!r->now_valid) {
        r->now = hxc__reactor_clock(r);
        r->now_valid = 1;
    }
    return r->now;
}
/** Forgets the cached time (time may have passed: a callback ran or returned). */
static inline void hxc__reactor_forget_now(hxc__reactor *r) { r->now_valid = 0; }

/** `dns_servers` ("IP[:port],...", may be NULL) is copied. 0, HXC_EINVAL, HXC_ENOMEM. */
int hxc__reactor_init(hxc__reactor *r, struct event_base *base, const char *dns_servers);
/** Drops the DNS base; the deferred queue must be empty (callers flush first). */
void hxc__reactor_destroy(hxc__reactor *r);
/** The evdns base, created on first use (NULL if it cannot be made). */
struct evdns_base *hxc__reactor_dns(hxc__reactor *r);
/** Runs every deferred item now (used while tearing down). */
void hxc__reactor_run_deferred(hxc__reactor *r);

/*
 * Manual time, for deterministic tests of the layers above (the pool's
 * timeouts, idle expiry, retries) with no real time passing. Set right after
 * hxc__reactor_init, before any timer is set up: from then on the clock
 * reads `start` (> 0: the layers above take 0 for "not set") and moves only
 * when the test advances it, and timers are kept by the reactor, not by
 * libevent. Deferred items still go through the event_base. Costs nothing
 * on the hot path when unused but one predictable branch.
 */
void hxc__reactor_set_manual_time(hxc__reactor *r, double start);
/**
 * Manual time: runs the loop without blocking until no deferred item waits
 * (the rest of the current loop turn, and the turns it chains). Never from
 * inside a callback of the loop.
 */
void hxc__reactor_settle(hxc__reactor *r);
/**
 * Manual time: moves the clock `seconds` forward. Settles first (what was
 * queued runs at the current time), then fires each timer that comes due,
 * in due-time order (armed first, first fired among equals), with the clock
 * at its due time, as the loop would (an eager item runs when its callback
 * returns), and settles after each. The clock ends at now + seconds.
 */
void hxc__reactor_advance(hxc__reactor *r, double seconds);
/**
 * Runs `fn(arg)` as the reactor runs an fd callback: the time read afresh,
 * the eager items it queued run when it returns. For a transport that no fd
 * drives (a test's), whose events must reach their owner as from the loop.
 */
void hxc__reactor_call(hxc__reactor *r, void (*fn)(void *arg), void *arg);

static inline void hxc__defer_init(hxc__defer *d, hxc__defer_cb cb, void *arg)
{
    hxc__list_init(&d->node);
    d->cb = cb;
    d->arg = arg;
    d->eager = 0;
    d->ran = 0;
}
/** An eager item runs when the reactor callback (fd or timer) that queued it
 *  returns, rather than at the end of the loop turn: still never inside the
 *  call that caused it, but before the loop reads the next connection; eager
 *  items queued by eager items run then too (a few rounds). The client's
 *  delivery and HTTP/2 flushes are eager: the requests a delivery sends reuse
 *  the memory just released, and are framed, while it is still in cache (with
 *  a thousand streams on ten connections, once per turn cycled every in-flight
 *  request's records through the cache between uses). Queued from anywhere
 *  else it runs with the turn's other items. */
static inline void hxc__defer_init_eager(hxc__defer *d, hxc__defer_cb cb, void *arg)
{
    hxc__defer_init(d, cb, arg);
    d->eager = 1;
}
/** Queues `d` to run once, in this loop turn, or in the next one if it
 *  already ran in the current pass of the queue; no-op if queued. */
void hxc__defer_schedule(hxc__reactor *r, hxc__defer *d);
static inline void hxc__defer_cancel(hxc__defer *d) { hxc__list_remove(&d->node); }
static inline int hxc__defer_pending(const hxc__defer *d) { return hxc__list_linked(&d->node); }

void hxc__timer_init(hxc__reactor *r, hxc__timer *t, hxc__timer_cb cb, void *arg);
/** (Re)arms the timer `seconds` from now; seconds <= 0 stops it. */
void hxc__timer_start(hxc__timer *t, double seconds);
/** Like hxc__timer_start, for a duration that will not recur (the rest of a
 *  wait): it takes none of the base's common-timeout queues, which are kept
 *  for the durations that do (the first 16 a base sees). */
void hxc__timer_start_once(hxc__timer *t, double seconds);
void hxc__timer_stop(hxc__timer *t);
int hxc__timer_armed(const hxc__timer *t);

void hxc__io_init(hxc__reactor *r, hxc__io *io, int fd, hxc__io_cb cb, void *arg);
/** Sets the events watched (0 stops watching). */
void hxc__io_want(hxc__io *io, int events);
/** Stops watching; the fd itself is the caller's to close. */
void hxc__io_stop(hxc__io *io);

#endif
