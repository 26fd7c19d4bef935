/* SPDX-License-Identifier: MIT */
/*
 * pool/conn_h1.c - an HTTP/1.1 connection: one exchange at a time, the
 * request head and body written in one go, the response fed to the h1
 * codec, keep-alive decided by the codec and by what follows the response.
 */
#include <stdio.h>
#include <strings.h>

#include "core/internal.h"
#include "core/mem.h"
#include "pool/pool_int.h"

static hxc__exchange *cur(hxc__conn *c) { return hxc__conn_first(c); }

static int h1_on_status(void *ud, int status, const char *reason, size_t rlen, const char *version)
{
    hxc__conn *c = ud;
    struct hxc_response *r = cur(c)->resp;
    hxc__response_head_start(r);
    r->status = status;
    hxc__free(r->reason);
    r->has_text = 1;
    r->reason = hxc__strndup(reason, rlen);
    if (r->reason == NULL)
        return HXC_ENOMEM;
    r->version = version;
    c->version = version;
    return 0;
}

static int h1_on_header(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    hxc__conn *c = ud;
    return hxc__headers_add(&cur(c)->resp->headers, n, nl, v, vl);
}

static int h1_on_headers_done(void *ud, int64_t content_length)
{
    hxc__conn *c = ud;
    hxc__exchange *ex = cur(c);
    if (content_length > 0 && ex->max_body && (uint64_t)content_length > ex->max_body)
        return HXC_EBODY_TOO_LARGE;
    if (content_length > 0)
        hxc__pool_expect_body(ex, (uint64_t)content_length);
    hxc__pool_head_done(ex);
    return 0;
}

static int h1_on_body(void *ud, const uint8_t *data, size_t len)
{
    hxc__conn *c = ud;
    hxc__exchange *ex = cur(c);
    int rv = hxc__pool_body(ex, data, len);
    if (rv == 0 && ex->streaming && ex->held > HXC__STREAM_HIGH && !c->read_paused) {
        c->read_paused = 1; /* back-pressure: the consumer is behind */
        hxc__transport_pause_read(c->t, 1);
    }
    return rv;
}

static int h1_on_trailer(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    hxc__conn *c = ud;
    struct hxc_response *r = cur(c)->resp;
    r->extras = 1;
    return hxc__headers_add(&r->trailers, n, nl, v, vl);
}

static const hxc__h1_events h1_events = {
    h1_on_status, h1_on_header, h1_on_headers_done, h1_on_body, h1_on_trailer,
};

static int idempotent(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS") ||
           !strcmp(m, "TRACE") || !strcmp(m, "PUT") || !strcmp(m, "DELETE");
}

/* A response ended on a connection that may be reused: it is filed again
 * (and may take the origin's next queued request) only once the read
 * callback has returned. Bytes the same read loop still gets then find no
 * exchange and close the connection, as bytes after a response must; filed
 * at once, the next request would have taken them for its response. It runs
 * before the delivery the end scheduled (queued first), so the callback's
 * next request finds the connection available. When the socket was drained
 * by this read, nothing can follow in the loop and it is filed at once. */
static void refile_cb(hxc__defer *d, void *arg)
{
    (void)d;
    hxc__conn *c = arg;
    /* A read loop that stopped at a limit left bytes for a later read: if any
     * wait (after a complete response, never a response of ours), the
     * connection goes rather than handing them to the next request. */
    if (hxc__transport_read_limited(c->t) && !hxc__transport_is_alive(c->t)) {
        hxc__pool_conn_close(c, 0);
        return;
    }
    hxc__pool_conn_update(c);
}

static int init(hxc__conn *c)
{
    hxc__defer_init_eager(&c->flush_task, refile_cb, c);
    return 0;
}

static unsigned capacity(hxc__conn *c) { return c->nexchanges == 0 && c->state != C_DRAINING; }

static int usable(hxc__conn *c) { return hxc__transport_is_alive(c->t); }

/* The request's last byte left: its silence is the server's from now, even
 * when the response's head came before the end of the body. */
static void request_written(hxc__exchange *ex)
{
    ex->written = 1;
    hxc__pool_phase(ex, PH_READ);
}

/* Sends what the producer gave (chunked when the length is unknown), and asks
 * for more while the transport is below its high-water mark: over it, the
 * producer waits until the socket has taken the queue below the low mark. */
static int send_upload(hxc__conn *c, hxc__exchange *ex)
{
    struct hxc_response *r = ex->resp;
    int chunked = r->req->producer_len < 0;
    int rv = 0;
    if (r->up.len > 0) {
        if (chunked) {
            char line[24];
            int l = snprintf(line, sizeof(line), "%zx\r\n", r->up.len);
            rv = hxc__transport_write(c->t, line, (size_t)l);
        }
        if (rv == 0)
            rv = hxc__transport_write(c->t, r->up.data, r->up.len);
        if (rv == 0 && chunked)
            rv = hxc__transport_write(c->t, "\r\n", 2);
        hxc__buf_reset(&r->up);
    }
    if (rv == 0 && r->up_eof) {
        ex->uploading = 0;
        if (chunked)
            rv = hxc__transport_write(c->t, "0\r\n\r\n", 5);
        else if (hxc__transport_pending(c->t) == 0)
            request_written(ex); /* the end wrote nothing: no drain will come */
    } else if (rv == 0 && !hxc__transport_full(c->t)) {
        hxc__pool_want_body(ex);
    }
    return rv;
}

static void body_ready(hxc__conn *c, hxc__exchange *ex)
{
    if (send_upload(c, ex) != 0) {
        hxc__pool_conn_close(c, 0);
        hxc__pool_finish(ex, HXC_EWRITE, "could not queue the request body");
    }
}

static int start(hxc__conn *c, hxc__exchange *ex)
{
    struct hxc_request *q = ex->resp->req;
    c->h1.ev = &h1_events;
    c->h1.ud = c;
    hxc__h1_begin(&c->h1, strcmp(q->method, "HEAD") == 0);
    hxc__buf_reset(&c->scratch);
    int rv;
    if (q->producer != NULL && q->producer_len < 0)
        rv = hxc__h1_encode_request_chunked(&c->scratch, q->method, q->url.target, q->url.authority,
                                            &q->headers, c->pool->cfg.user_agent,
                                            c->pool->cfg.accept);
    else
        rv = hxc__h1_encode_request(&c->scratch, q->method, q->url.target, q->url.authority,
                                    &q->headers, q->has_body,
                                    q->producer ? (size_t)q->producer_len : q->body_len,
                                    c->pool->cfg.user_agent, c->pool->cfg.accept);
    if (rv == 0)
        rv = hxc__transport_write(c->t, c->scratch.data, c->scratch.len);
    if (rv == 0 && q->body_len > 0)
        rv = hxc__transport_write_ref(c->t, q->body, q->body_len);
    if (rv == 0 && q->producer != NULL) {
        ex->uploading = 1;
        rv = send_upload(c, ex); /* anything produced before a retry, then ask for more */
    }
    if (rv != 0) {
        hxc__pool_conn_close(c, 0);
        hxc__pool_finish(ex, rv == HXC_ECLOSED ? HXC_EWRITE : rv, "could not queue the request");
        return -1;
    }
    hxc__pool_phase(ex, PH_WRITE);
    return 0;
}

static void cancel(hxc__conn *c, hxc__exchange *ex)
{
    (void)ex;
    /* An HTTP/1.1 exchange cannot be abandoned mid-flight: its connection goes. */
    hxc__pool_conn_close(c, 0);
}

static void consumed(hxc__conn *c, hxc__exchange *ex, size_t n)
{
    (void)n;
    if (c->read_paused && ex->held < HXC__STREAM_LOW) {
        c->read_paused = 0;
        hxc__transport_pause_read(c->t, 0);
    }
}

static void on_drained(hxc__conn *c, int all)
{
    hxc__exchange *ex = cur(c);
    if (ex != NULL && (ex->uploading || (!ex->written && !all))) {
        hxc__pool_phase(ex, PH_WRITE); /* progress: the write timeout starts over */
        if (ex->uploading && !hxc__transport_full(c->t))
            hxc__pool_want_body(ex); /* below the low mark: more, please */
        return;
    }
    if (ex != NULL && !ex->written)
        request_written(ex);
}

static void on_read(hxc__conn *c, const uint8_t *data, size_t len)
{
    hxc__exchange *ex = cur(c);
    if (ex == NULL) {
        /* Bytes on an idle connection: nothing may follow a response. */
        hxc__pool_conn_close(c, 0);
        return;
    }
    if (!ex->got_bytes) {
        ex->got_bytes = 1;
        ex->resp->timings.first_byte = hxc__reactor_now(ex->pool->r) - ex->t_start;
    }
    hxc__pool_phase(ex, PH_READ);
    size_t used;
    int rv = hxc__h1_feed(&c->h1, data, len, &used);
    if (rv == 0)
        return;
    if (rv < 0) {
        const char *detail = c->h1.detail; /* static strings (ours or llhttp's) */
        hxc__pool_conn_close(c, 0);
        hxc__pool_finish(ex, rv, detail);
        return;
    }
    /* Complete. Reuse only a clean keep-alive connection with nothing left over. */
    int reuse = hxc__h1_keep_alive(&c->h1) && used == len && ex->written;
    if (c->read_paused) { /* an idle connection must read (to see it closed) */
        c->read_paused = 0;
        hxc__transport_pause_read(c->t, 0);
    }
    /* Filed again after this read loop (refile_cb), unless nothing more was
     * waiting in the socket: then no byte of this loop can follow, and it is
     * filed at once. */
    int later = reuse && !hxc__transport_read_drained(c->t);
    if (later)
        hxc__defer_schedule(c->pool->r, &c->flush_task);
    hxc__pool_finish(ex, 0, NULL);
    if (!reuse)
        hxc__pool_conn_close(c, 1);
    else if (!later)
        hxc__pool_conn_update(c);
}

static void on_closed(hxc__conn *c, int err, const char *detail)
{
    hxc__exchange *ex = cur(c);
    if (ex == NULL) {
        hxc__pool_conn_close(c, 0);
        return;
    }
    int rv = hxc__h1_eof(&c->h1);
    const char *h1detail = c->h1.detail;
    int reused = c->requests > 1;
    hxc__pool_conn_close(c, 0); /* detaches ex */
    if (rv == 1 && err == 0) {
        hxc__pool_finish(ex, 0, NULL);
        return;
    }
    if (rv == 1 && err == HXC_ECLOSED) { /* close-delimited body, unclean TLS close */
        hxc__pool_finish(ex, HXC_EPROTO_REMOTE,
                         "body may be truncated: TLS connection closed "
                         "without close_notify");
        return;
    }
    if (rv == 1) { /* close-delimited body ended by a read error (a reset) */
        char why[256];
        snprintf(why, sizeof(why), "body may be truncated: %s",
                 detail ? detail : hxc_strerror(err));
        hxc__pool_finish(ex, err, why);
        return;
    }
    /* Nothing of the response came back on a reused connection: the server
     * closed it as we sent. Retry once on a fresh connection when replaying
     * is safe: the method is idempotent, or nothing was written. */
    if (!ex->got_bytes && reused && ex->retries == 0 && hxc__pool_replayable(ex) &&
        (idempotent(ex->resp->req->method) || !ex->written)) {
        hxc__pool_retry(ex, 1);
        return;
    }
    if (err != 0 && err != HXC_ECLOSED && !ex->got_bytes)
        hxc__pool_finish(ex, err, detail);
    else
        hxc__pool_finish(ex, rv, h1detail);
}

static void destroy(hxc__conn *c) { hxc__h1_free(&c->h1); }

const hxc__conn_proto hxc__conn_h1 = {
    "http/1.1", init,       capacity,   usable,   start, cancel,  on_read,
    on_closed,  on_drained, body_ready, consumed, NULL,  destroy,
};
