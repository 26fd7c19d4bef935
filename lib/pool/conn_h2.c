/* SPDX-License-Identifier: MIT */
/*
 * pool/conn_h2.c - an HTTP/2 connection: many exchanges multiplexed on one
 * nghttp2 session (proto/h2.c). Frames are produced by an eager deferred
 * flush (after the reactor callback that submitted them), so a hundred
 * requests submitted together are framed together and leave in the turn's
 * one write. A stream refused by the server (REFUSED_STREAM, or above a GOAWAY's
 * last stream id) is retried, whatever its method, with a backoff (pool.c).
 * A connection error ends every stream of the session at once and the
 * connection with them, after nghttp2's GOAWAY.
 *
 * Flow: frames are pulled from nghttp2 only while the transport is below its
 * high-water mark; over it they stay in nghttp2 (bodies are then not read,
 * so producers are not called) until the socket drains below the low mark.
 * Reading goes on meanwhile: the receive side is bounded by flow control,
 * and the ACKs nghttp2 owes a peer that never reads pile up inside nghttp2,
 * whose outbound-ACK limit then ends the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "core/internal.h"
#include "core/mem.h"
#include "pool/pool_int.h"

static hxc__exchange *X(void *sud) { return sud; }

static void touch(hxc__exchange *ex)
{
    if (!ex->got_bytes) {
        ex->got_bytes = 1;
        ex->resp->timings.first_byte = hxc__reactor_now(ex->pool->r) - ex->t_start;
    }
    hxc__pool_phase(ex, PH_READ); /* the read timeout runs per stream */
}

static int ev_status(void *sud, int status, struct hxc_headers **fields)
{
    hxc__exchange *ex = X(sud);
    touch(ex);
    hxc__response_head_start(ex->resp);
    ex->resp->status = status;
    ex->resp->version = "HTTP/2";
    *fields = &ex->resp->headers;
    return 0;
}

static int ev_headers_done(void *sud, int64_t content_length)
{
    hxc__exchange *ex = X(sud);
    uint64_t length = content_length > 0 ? (uint64_t)content_length : 0;
    /* A HEAD request's, a 204's or a 304's length announces no body to come. */
    int status = ex->resp->status;
    const char *m = ex->resp->req->method;
    if (status == 204 || status == 304 || (m[0] == 'H' && strcmp(m, "HEAD") == 0))
        length = 0;
    if (ex->max_body && length > ex->max_body)
        return HXC_EBODY_TOO_LARGE;
    hxc__pool_expect_body(ex, length);
    hxc__pool_head_done(ex);
    return 0;
}

static int ev_data(void *sud, const uint8_t *data, size_t len)
{
    hxc__exchange *ex = X(sud);
    touch(ex);
    int rv = hxc__pool_body(ex, data, len);
    if (rv != 0)
        return rv;
    /* A streamed body is credited back as the consumer takes it. */
    return ex->streaming ? HXC__H2_KEEP : 0;
}

static int ev_trailer(void *sud, const char *n, size_t nl, const char *v, size_t vl)
{
    struct hxc_response *r = X(sud)->resp;
    r->extras = 1;
    return hxc__headers_add(&r->trailers, n, nl, v, vl);
}

static void ev_close(void *sud, int err, uint32_t code, int refused, const char *detail)
{
    (void)code;
    hxc__exchange *ex = X(sud);
    hxc__conn *c = ex->c;
    if (c != NULL && ex->streaming && ex->held > 0) {
        hxc__h2_consume_connection(c->h2, ex->held); /* the stream is gone: free the window */
        ex->held = 0;
    }
    if (err != 0 && refused && c != NULL && c->goaway_error) {
        /* GOAWAY with an error: retrying could loop (a server that fails
         * every stream would be asked again and again); report it. */
        char buf[128];
        snprintf(buf, sizeof(buf), "the server sent GOAWAY with error %s (0x%x)",
                 nghttp2_http2_strerror(c->goaway_error), (unsigned)c->goaway_error);
        hxc__pool_finish(ex, HXC_EPROTO_REMOTE, buf);
        return;
    }
    if (err != 0 && refused && !ex->pushed && !ex->got_bytes && hxc__pool_replayable(ex)) {
        /* Not processed by the server: safe for any method, as long as the
         * deadline (or the count) allows. REFUSED_STREAM on a live session
         * may be retried on it; after a GOAWAY the session takes no more
         * streams, so another one is used. A stream refused because we had
         * more open than the server's limit (sent before its SETTINGS came)
         * needs no backoff: the pool now keeps to the limit. */
        hxc__pool_retry_refused(ex,
                                refused == HXC__H2_REFUSED_GOAWAY
                                    ? "GOAWAY(NO_ERROR), above its last stream id"
                                    : "RST_STREAM(REFUSED_STREAM)",
                                refused == HXC__H2_REFUSED_OVER);
        return;
    }
    hxc__pool_finish(ex, err, detail);
}

static void ev_goaway(void *ud, int32_t last_stream_id, uint32_t code)
{
    (void)last_stream_id;
    hxc__conn *c = ud;
    c->goaway_error = code;
    hxc__pool_conn_drain(c); /* no new streams; the open ones below last_stream_id finish */
}

static void ev_settings(void *ud)
{
    /* Now the peer's stream limit is known: the origin's other requests may
     * be matched to this session, and more sessions opened if it is full. */
    hxc__pool_conn_negotiated(ud);
}

static void *ev_push(void *ud, int32_t id, const struct hxc_headers *h)
{
    return hxc__pool_adopt_push(ud, h, id); /* NULL: refused */
}

static void ev_ping_ack(void *ud)
{
    hxc__conn *c = ud;
    c->ping_outstanding = 0;
}

/* While a session is idle it is PINGed; one PING unanswered when the next is
 * due means the peer is gone: drop the session before anyone reuses it. */
static void ping_cb(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__conn *c = arg;
    if (c->nexchanges > 0)
        return; /* busy: reads prove it alive; rearmed when idle again */
    if (c->ping_outstanding) {
        hxc__h2_fail_all(c->h2, HXC_ECLOSED, "no PING acknowledgement");
        hxc__pool_conn_close(c, 0);
        return;
    }
    c->ping_outstanding = 1;
    hxc__h2_ping(c->h2);
    hxc__timer_start(&c->ping_timer, c->pool->cfg.h2_ping_interval);
    hxc__defer_schedule(c->pool->r, &c->flush_task);
}

/* The request leaves frame by frame: the write timeout runs until its last
 * frame (END_STREAM) is out, then the read timeout. */
static void ev_sent(void *sud, int end)
{
    hxc__exchange *ex = X(sud);
    if (ex->written)
        return;
    if (end)
        ex->written = 1;
    else if (ex->c != NULL) { /* a body goes on: where its last frame ends */
        ex->frame_end = ex->c->queued;
        ex->c->writing = 1;
    }
    if (!ex->got_bytes)
        hxc__pool_phase(ex, end ? PH_READ : PH_WRITE);
}

static const hxc__h2_events events = {
    ev_status, ev_headers_done, ev_data, ev_trailer,  ev_close,
    ev_goaway, ev_settings,     ev_push, ev_ping_ack, ev_sent,
};

static int write_out(void *wud, const uint8_t *p, size_t n)
{
    hxc__conn *c = wud;
    int rv = hxc__transport_write(c->t, p, n);
    if (rv == 0)
        c->queued += n;
    return rv;
}

/* The mark is looked at every 16 KiB, not at every frame: the hundred HEADERS
 * frames of a turn cost no look, and the queue goes over the mark by 16 KiB
 * and a frame at most. */
#define MARK_EVERY (16u << 10)

/* Sends what nghttp2 has while the transport is below its mark (over it,
 * nothing: the session is then "stopped", see on_drained). 0 or an hxc error. */
/* What a session that is ending may still frame past the high-water mark:
 * its GOAWAY (and the few frames queued before it). */
#define LAST_WORDS (16u << 10)

static int send_frames(hxc__conn *c)
{
    int rv;
    do
        rv = hxc__h2_send(c->h2, write_out, c, hxc__transport_full(c->t) ? 0 : MARK_EVERY);
    while (rv == 1 && !hxc__transport_full(c->t));
    return rv < 0 ? rv : 0;
}

/* The server broke the protocol (or nghttp2 failed): the GOAWAY nghttp2
 * queued goes first (best effort; nothing after a fatal error), framed
 * whatever the transport holds (it is small, and the last thing this
 * connection sends); then every stream fails at once with its reason, and
 * the connection leaves the pool now, its GOAWAY flushed (requests still
 * queued open another). */
static void session_failed(hxc__conn *c, int rv, const char *detail)
{
    hxc__h2_send(c->h2, write_out, c, LAST_WORDS);
    hxc__h2_failed(c->h2, &detail); /* the reason, as its GOAWAY gave it */
    char buf[360];
    snprintf(buf, sizeof(buf), "HTTP/2 connection error: %s", detail ? detail : "unknown");
    hxc__h2_fail_all(c->h2, rv, buf);
    hxc__pool_conn_close(c, 1);
}

/* After any change: send what nghttp2 has (up to the transport's mark), close
 * a finished session, re-file. */
static void settle(hxc__conn *c)
{
    int rv = send_frames(c);
    const char *detail = NULL;
    /* After a GOAWAY nghttp2 cannot be asked whether what came broke the
     * session: the GOAWAY it sends for a connection error tells, once framed
     * (behind a full transport that waits for the socket to drain). */
    if (rv == 0 && hxc__h2_going_away(c->h2)) {
        /* Behind a full transport those frames would wait for the socket: let
         * what nghttp2 queued (its GOAWAY first) past the mark, within a
         * bounded overshoot, so that a broken session is seen now. */
        if (hxc__transport_full(c->t) &&
            hxc__transport_pending(c->t) < HXC__WRITE_HIGH + 4 * LAST_WORDS)
            hxc__h2_send(c->h2, write_out, c, LAST_WORDS);
    }
    if (rv == 0 && hxc__h2_going_away(c->h2) && hxc__h2_failed(c->h2, &detail) != 0) {
        session_failed(c, HXC_EPROTO_REMOTE, detail);
        return;
    }
    if (rv != 0 || (c->state == C_DRAINING && c->nexchanges == 0)) {
        hxc__h2_fail_all(c->h2, rv ? rv : HXC_ECLOSED, "HTTP/2 session ended");
        hxc__pool_conn_close(c, rv == 0);
        return;
    }
    double every = c->pool->cfg.h2_ping_interval;
    if (every > 0 && c->nexchanges == 0 && !hxc__timer_armed(&c->ping_timer))
        hxc__timer_start(&c->ping_timer, every);
    hxc__pool_conn_update(c);
}

static void flush_cb(hxc__defer *d, void *arg)
{
    (void)d;
    settle(arg);
}

static int init(hxc__conn *c)
{
    hxc__pool *p = c->pool;
    hxc__h2_limits lim;
    lim.max_header_bytes = p->cfg.h1_limits.max_header_bytes;
    lim.max_headers = p->cfg.h1_limits.max_headers;
    lim.max_streams = p->cfg.h2_max_streams;
    lim.stream_window = p->cfg.h2_stream_window;
    lim.conn_window = p->cfg.h2_conn_window;
    lim.enable_push = p->cfg.push != NULL;
    lim.recycler = &p->recycler;
    hxc__defer_init_eager(&c->flush_task, flush_cb, c);
    hxc__timer_init(p->r, &c->ping_timer, ping_cb, c);
    int rv = hxc__h2_new(&c->h2, &events, c, &lim);
    if (rv != 0)
        return rv;
    hxc__defer_schedule(p->r, &c->flush_task); /* preface + SETTINGS */
    return 0;
}

static unsigned capacity(hxc__conn *c)
{
    return c->state == C_DRAINING || c->h2 == NULL ? 0 : hxc__h2_capacity(c->h2);
}

static int usable(hxc__conn *c)
{
    return c->state != C_DRAINING && !hxc__h2_going_away(c->h2);
}

/* nghttp2 wants more of a streamed upload: hand over what the producer gave. */
static int read_upload(void *sud, uint8_t *buf, size_t len, size_t *n, int *eof)
{
    hxc__exchange *ex = X(sud);
    struct hxc_response *r = ex->resp;
    size_t take = r->up.len < len ? r->up.len : len;
    if (take > 0) {
        memcpy(buf, r->up.data, take);
        memmove(r->up.data, r->up.data + take, r->up.len - take);
        r->up.len -= take;
    }
    *n = take;
    *eof = r->up_eof && r->up.len == 0;
    if (take == 0 && !*eof) {
        hxc__pool_want_body(ex);
        return HXC__H2_DEFER;
    }
    if (r->up.len == 0 && !r->up_eof)
        hxc__pool_want_body(ex); /* produce the next piece while this one is sent */
    return 0;
}

static void body_ready(hxc__conn *c, hxc__exchange *ex)
{
    hxc__h2_resume_body(c->h2, ex->stream_id);
    hxc__defer_schedule(c->pool->r, &c->flush_task);
}

static int start(hxc__conn *c, hxc__exchange *ex)
{
    struct hxc_request *q = ex->resp->req;
    hxc__h2_request r;
    r.method = q->method;
    r.method_len = q->lens[HXC__RS_METHOD];
    r.scheme = q->url.scheme;
    r.scheme_len = q->lens[HXC__RS_SCHEME];
    r.authority = q->url.authority;
    r.authority_len = q->lens[HXC__RS_AUTHORITY];
    r.path = q->url.target;
    r.path_len = q->lens[HXC__RS_TARGET];
    r.headers = &q->headers;
    r.user_agent = c->pool->cfg.user_agent;
    r.accept = c->pool->cfg.accept;
    r.body = q->body;
    r.body_len = q->body_len;
    r.has_body = q->has_body;
    r.read = q->producer ? read_upload : NULL;
    r.read_len = q->producer ? q->producer_len : -1;
    int32_t id = hxc__h2_submit(c->h2, &r, ex);
    if (id < 0) {
        hxc__pool_finish(ex, id, "could not submit the request on the HTTP/2 session");
        hxc__pool_conn_update(c); /* may close it: the caller must not touch it again */
        return 1;
    }
    ex->stream_id = id;
    hxc__pool_phase(ex, PH_WRITE); /* until the request's last frame is out */
    hxc__defer_schedule(c->pool->r, &c->flush_task);
    return 0;
}

static void cancel(hxc__conn *c, hxc__exchange *ex)
{
    if (ex->held > 0) {
        hxc__h2_consume_connection(c->h2, ex->held);
        ex->held = 0;
    }
    if (ex->stream_id > 0)
        hxc__h2_cancel(c->h2, ex->stream_id);
    hxc__defer_schedule(c->pool->r, &c->flush_task); /* the RST_STREAM, and re-filing */
}

static void on_read(hxc__conn *c, const uint8_t *data, size_t len)
{
    const char *detail = NULL;
    int rv = hxc__h2_recv(c->h2, data, len, &detail);
    if (rv == 0)
        settle(c);
    else
        session_failed(c, rv, detail);
}

static void on_closed(hxc__conn *c, int err, const char *detail)
{
    char buf[200];
    snprintf(buf, sizeof(buf), "connection closed: %s", detail ? detail : "");
    hxc__h2_fail_all(c->h2, err && err != HXC_ECLOSED ? err : HXC_ECLOSED, buf);
    hxc__pool_conn_close(c, 0);
}

/* Progress is followed per stream (ev_sent); here the flow goes on: frames
 * left in nghttp2 at the high-water mark are pulled once the socket has taken
 * the queue below the low one, and a connection that was not idle only
 * because its bytes had not left is filed again. */
static void on_drained(hxc__conn *c, int all)
{
    uint64_t before = c->left;
    c->left = c->queued - hxc__transport_pending(c->t);
    int stopped = hxc__h2_stopped(c->h2);
    if (stopped || c->writing) {
        /* A request body's write timeout measures the socket taking its bytes
         * (found in review): a stream whose own frames were leaving made
         * progress; and while frames wait in nghttp2 behind the high-water
         * mark, not for the server, the socket's progress is the progress of
         * every stream still sending that the server gives window to (one it
         * starves still times out). Only while a body goes out: a GET's
         * request is written whole with its HEADERS. */
        int still = 0;
        for (hxc__list *n = c->exchanges.next; n != &c->exchanges; n = n->next) {
            hxc__exchange *ex = HXC__LIST_ENTRY(n, hxc__exchange, node);
            if (ex->written || ex->phase != PH_WRITE)
                continue;
            still = 1;
            if (ex->frame_end > before ||
                (stopped && hxc__h2_can_send(c->h2, ex->stream_id)))
                hxc__pool_phase(ex, PH_WRITE);
        }
        c->writing = still;
    }
    if (stopped) {
        if (!hxc__transport_full(c->t))
            hxc__defer_schedule(c->pool->r, &c->flush_task);
    }
    if (all && c->nexchanges == 0 && c->state != C_IDLE)
        hxc__pool_conn_update(c);
}

static void consumed(hxc__conn *c, hxc__exchange *ex, size_t n)
{
    hxc__h2_consume(c->h2, ex->stream_id, n); /* WINDOW_UPDATE follows the consumer */
    hxc__defer_schedule(c->pool->r, &c->flush_task);
}

static void goodbye(hxc__conn *c)
{
    hxc__h2_shutdown(c->h2);
    send_frames(c);
}

static void destroy(hxc__conn *c)
{
    hxc__defer_cancel(&c->flush_task);
    hxc__timer_stop(&c->ping_timer);
    hxc__h2_free(c->h2);
    c->h2 = NULL;
    hxc__h1_free(&c->h1);
}

const hxc__conn_proto hxc__conn_h2 = {
    "h2",      init,       capacity,   usable,   start,   cancel,  on_read,
    on_closed, on_drained, body_ready, consumed, goodbye, destroy,
};
