/* SPDX-License-Identifier: MIT */
/*
 * test/unit/poolfx.h - the fixture of the pool_* unit tests:
 * the pool in manual time over fake transports (as test/unit/pool_test.c),
 * plus an HTTP/2 server written by hand (frames packed here, HPACK
 * literals without Huffman), so that the pool's rare paths (GOAWAY,
 * refusals, windows, write progress) can be driven to exact times.
 *
 * Header-only: each test including it is one binary.
 */
#ifndef HXC_POOLFX_H
#define HXC_POOLFX_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/api.h"
#include "fake_transport.h"
#include "pool/pool.h"
#include "pool/pool_int.h"
#include "rawpeer.h"
#include "reactor/reactor.h"

#define RC_T0   1000.0 /* the manual clock's start */
#define RC_EPS  1e-6
#define RC_MAXR 128

typedef struct rc_fx rc_fx;

typedef struct rc_req {
    rc_fx *f;
    hxc__exchange *ex;
    struct hxc_response *resp;
    int done;
    int err;
    char detail[200];
    double at; /* the clock when it ended */
} rc_req;

struct rc_fx {
    struct event_base *base;
    hxc__reactor r;
    fakenet *net;
    hxc__pool *pool;
    hxc__pool_config cfg;
    double t[HXC_TIMEOUT__COUNT]; /* the timeouts of the next submit */
    rc_req reqs[RC_MAXR];
    int nreqs, ndone;
};

static inline void rc_done_cb(struct hxc_response *resp, void *arg)
{
    rc_req *q = arg;
    assert_false(q->done); /* exactly once */
    q->done = 1;
    q->err = resp->error;
    snprintf(q->detail, sizeof(q->detail), "%s", resp->detail ? resp->detail : "");
    q->at = hxc__reactor_now(&q->f->r);
    q->ex = NULL;
    q->f->ndone++;
}

static inline rc_fx *rc_new(void)
{
    rc_fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->base = event_base_new();
    assert_non_null(f->base);
    assert_int_equal(hxc__reactor_init(&f->r, f->base, NULL), 0);
    hxc__reactor_set_manual_time(&f->r, RC_T0);
    f->net = fakenet_new(&f->r);
    assert_non_null(f->net);
    f->cfg.max_connections = 10;
    f->cfg.max_idle = 10;
    f->cfg.keepalive_expiry = 5;
    f->cfg.h1_limits.max_header_bytes = 64 * 1024;
    f->cfg.h1_limits.max_headers = 100;
    f->cfg.user_agent = "rc";
    f->cfg.accept = "*/*";
    f->cfg.h2_stream_window = 65535;
    f->cfg.h2_conn_window = 65535;
    f->cfg.done = rc_done_cb;
    f->cfg.connect = fakenet_connect;
    return f;
}

static inline void rc_start(rc_fx *f)
{
    assert_int_equal(hxc__pool_new(&f->pool, &f->r, &f->cfg), 0);
}

static inline hxc_client_stats rc_stats(rc_fx *f)
{
    hxc_client_stats s;
    hxc__pool_stats(f->pool, &s);
    return s;
}

static inline double rc_now(rc_fx *f) { return f->r.manual_now - RC_T0; }
static inline void rc_settle(rc_fx *f) { hxc__reactor_settle(&f->r); }
static inline void rc_advance(rc_fx *f, double s) { hxc__reactor_advance(&f->r, s); }
static inline void rc_advance_to(rc_fx *f, double t)
{
    assert_true(t >= rc_now(f) - RC_EPS);
    rc_advance(f, t - rc_now(f));
}

/* Timers the reactor holds (manual time): what would keep a loop alive. */
static inline unsigned rc_timers(rc_fx *f)
{
    unsigned n = 0;
    for (hxc__list *p = f->r.manual_timers.next; p != &f->r.manual_timers; p = p->next)
        n++;
    return n;
}

/* Everything reported once, nothing left, nothing leaked, no timer armed. */
static inline void rc_free(rc_fx *f)
{
    hxc_client_stats s = rc_stats(f);
    assert_int_equal(s.requests_queued, 0);
    assert_int_equal(s.requests_active, 0);
    assert_int_equal(hxc__pool_busy(f->pool), 0);
    assert_int_equal(s.requests_completed, s.requests_started);
    assert_int_equal(f->ndone, f->nreqs);
    hxc__pool_free(f->pool);
    rc_settle(f);
    assert_int_equal(fakenet_live(f->net), 0);
    for (int i = 0; i < f->nreqs; i++)
        hxc_response_release(f->reqs[i].resp);
    fakenet_free(f->net);
    /* Before the reactor stops its FIFOs' timers itself (destroy): none may
     * still be armed, or a loop would stay alive for them. */
    if (rc_timers(f) != 0)
        fail_msg("%u timer(s) still armed after the pool was freed", rc_timers(f));
    hxc__reactor_destroy(&f->r);
    event_base_free(f->base);
    free(f);
}

static inline rc_req *rc_submit_body(rc_fx *f, const char *method, const char *url,
                                     const char *body, size_t body_len)
{
    assert_true(f->nreqs < RC_MAXR);
    rc_req *q = &f->reqs[f->nreqs++];
    q->f = f;
    hxc_request *rq;
    assert_int_equal(hxc_request_new(&rq, method, url), 0);
    if (body != NULL)
        assert_int_equal(hxc_request_set_body(rq, body, body_len), 0);
    q->resp = hxc__response_new(rq, NULL);
    assert_non_null(q->resp);
    assert_int_equal(hxc__pool_submit(f->pool, q->resp, f->t, 0, q, &q->ex), 0);
    return q;
}

static inline rc_req *rc_submit(rc_fx *f, const char *url)
{
    return rc_submit_body(f, "GET", url, NULL, 0);
}

static inline fakeconn *rc_conn(rc_fx *f, unsigned i)
{
    fakeconn *c = fakenet_conn(f->net, i);
    assert_non_null(c);
    return c;
}

/* Connects connection `i`, and its request leaves whole: it reads. */
static inline fakeconn *rc_send_on(rc_fx *f, unsigned i)
{
    fakeconn *c = rc_conn(f, i);
    fakeconn_connected(c, "");
    fakeconn_drain_all(c);
    rc_settle(f);
    return c;
}

/* Ends what a test leaves running (it saw what it wanted). */
static inline void rc_cancel_rest(rc_fx *f)
{
    for (int i = 0; i < f->nreqs; i++)
        if (!f->reqs[i].done)
            hxc__pool_cancel(f->pool, f->reqs[i].ex, HXC_ECANCELLED, "test over");
    rc_settle(f);
}

static inline void rc_set_timeouts(rc_fx *f, double connect, double write, double read, double pool,
                                   double total)
{
    f->t[HXC_TIMEOUT_CONNECT] = connect;
    f->t[HXC_TIMEOUT_WRITE] = write;
    f->t[HXC_TIMEOUT_READ] = read;
    f->t[HXC_TIMEOUT_POOL] = pool;
    f->t[HXC_TIMEOUT_TOTAL] = total;
}

static inline void rc_expect_done(rc_req *q, int err, double at)
{
    if (!q->done)
        fail_msg("request not done (expected %s at %.3f)", hxc_error_name(err), at);
    if (q->err != err)
        fail_msg("ended with %s (%s) at %.6f, expected %s", hxc_error_name(q->err), q->detail,
                 q->at - RC_T0, hxc_error_name(err));
    if (at >= 0 && !(q->at > RC_T0 + at - RC_EPS && q->at < RC_T0 + at + RC_EPS))
        fail_msg("ended at %.6f, expected at %.6f", q->at - RC_T0, at);
}

/* ---- HTTP/2, by hand ------------------------------------------------------ */

/* Frame types and flags: rawpeer.h's (its constants only: the unit tests
 * do not link the peer itself). */
#define RC_DATA        RAWPEER_DATA
#define RC_HEADERS     RAWPEER_HEADERS
#define RC_RST         RAWPEER_RST_STREAM
#define RC_SETTINGS    RAWPEER_SETTINGS
#define RC_PUSH        RAWPEER_PUSH_PROMISE
#define RC_GOAWAY      RAWPEER_GOAWAY
#define RC_WINDOW      RAWPEER_WINDOW_UPDATE
#define RC_END_STREAM  RAWPEER_END_STREAM
#define RC_ACK         RAWPEER_ACK
#define RC_END_HEADERS RAWPEER_END_HEADERS

typedef struct rc_wire {
    uint8_t b[1 << 16];
    size_t n;
} rc_wire;

static inline void rc_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static inline void rc_frame(rc_wire *w, uint8_t type, uint8_t flags, uint32_t sid,
                            const void *payload, uint32_t len)
{
    assert_true(w->n + 9 + len <= sizeof(w->b));
    uint8_t *p = w->b + w->n;
    p[0] = (uint8_t)(len >> 16), p[1] = (uint8_t)(len >> 8), p[2] = (uint8_t)len;
    p[3] = type, p[4] = flags;
    rc_put32(p + 5, sid & 0x7fffffffu);
    if (len)
        memcpy(p + 9, payload, len);
    w->n += 9 + len;
}

/* SETTINGS with `n` (id, value) pairs. */
static inline void rc_settings(rc_wire *w, const uint32_t *kv, size_t n)
{
    uint8_t pl[6 * 16];
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++) {
        pl[6 * i] = (uint8_t)(kv[2 * i] >> 8), pl[6 * i + 1] = (uint8_t)kv[2 * i];
        rc_put32(pl + 6 * i + 2, kv[2 * i + 1]);
    }
    rc_frame(w, RC_SETTINGS, 0, 0, pl, (uint32_t)(6 * n));
}

static inline void rc_window(rc_wire *w, uint32_t sid, uint32_t inc)
{
    uint8_t pl[4];
    rc_put32(pl, inc);
    rc_frame(w, RC_WINDOW, 0, sid, pl, 4);
}

static inline void rc_goaway(rc_wire *w, uint32_t last, uint32_t code)
{
    uint8_t pl[8];
    rc_put32(pl, last);
    rc_put32(pl + 4, code);
    rc_frame(w, RC_GOAWAY, 0, 0, pl, 8);
}

static inline void rc_rst(rc_wire *w, uint32_t sid, uint32_t code)
{
    uint8_t pl[4];
    rc_put32(pl, code);
    rc_frame(w, RC_RST, 0, sid, pl, 4);
}

/* HPACK: a literal field without indexing, new name, no Huffman (< 127 bytes). */
static inline size_t rc_hpack(uint8_t *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), n = 0;
    out[n++] = 0;
    out[n++] = (uint8_t)nl;
    memcpy(out + n, name, nl), n += nl;
    out[n++] = (uint8_t)vl;
    memcpy(out + n, value, vl), n += vl;
    return n;
}

/* A response head: `status` and a NULL-terminated name, value list. */
static inline void rc_head(rc_wire *w, uint32_t sid, int status, int end_stream,
                           const char *const *fields)
{
    uint8_t pl[2048];
    char st[8];
    snprintf(st, sizeof(st), "%d", status);
    size_t n = rc_hpack(pl, ":status", st);
    for (size_t i = 0; fields && fields[i]; i += 2)
        n += rc_hpack(pl + n, fields[i], fields[i + 1]);
    rc_frame(w, RC_HEADERS, (uint8_t)(RC_END_HEADERS | (end_stream ? RC_END_STREAM : 0)), sid, pl,
             (uint32_t)n);
}

static inline void rc_data(rc_wire *w, uint32_t sid, const char *s, int end_stream)
{
    rc_frame(w, RC_DATA, end_stream ? RC_END_STREAM : 0, sid, s, (uint32_t)strlen(s));
}

/* The server's bytes, in one read. */
static inline void rc_send(fakeconn *c, rc_wire *w)
{
    fakeconn_read(c, w->b, w->n);
    w->n = 0;
}

/* The server's start: SETTINGS (the pairs given) and the ACK of the client's. */
static inline void rc_h2_accept(rc_fx *f, fakeconn *c, const uint32_t *kv, size_t n)
{
    rc_wire w = {.n = 0};
    rc_settings(&w, kv, n);
    rc_frame(&w, RC_SETTINGS, RC_ACK, 0, NULL, 0);
    rc_send(c, &w);
    rc_settle(f);
}

/* Frames the client wrote (after its preface) of `type`, counted; their
 * stream ids into ids[] (up to `cap`). */
static inline unsigned rc_client_frames(fakeconn *c, uint8_t type, uint32_t *ids, unsigned cap)
{
    size_t len;
    const uint8_t *p = (const uint8_t *)fakeconn_written(c, &len);
    size_t off = 24; /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */
    unsigned k = 0;
    if (len < off || memcmp(p, "PRI * HTTP/2.0", 14) != 0)
        return 0;
    while (off + 9 <= len) {
        uint32_t fl = (uint32_t)p[off] << 16 | (uint32_t)p[off + 1] << 8 | p[off + 2];
        uint32_t sid = ((uint32_t)p[off + 5] << 24 | (uint32_t)p[off + 6] << 16 |
                        (uint32_t)p[off + 7] << 8 | p[off + 8]) &
                       0x7fffffffu;
        if (p[off + 3] == type) {
            if (k < cap)
                ids[k] = sid;
            k++;
        }
        off += 9 + fl;
    }
    return k;
}

#endif
