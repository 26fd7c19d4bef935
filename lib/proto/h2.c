/* SPDX-License-Identifier: MIT */
/*
 * proto/h2.c - nghttp2 glue for the client side. See h2.h.
 *
 * Debian 12 ships nghttp2 1.52: the ssize_t mem_recv/mem_send API is used
 * here; the *2 variants of 1.60+ can replace them behind
 * NGHTTP2_VERSION_NUM when the floor moves.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "core/cache.h"
#include "core/internal.h"
#include "core/mem.h"
#include "core/recycle.h"
#include "proto/h2.h"

typedef struct stream {
    /* What a response's frames touch, in the record's first cache line (it is
     * allocated aligned to one): see pool_int.h's exchange, the record is
     * cold by the time they arrive. */
    struct stream *prev, *next; /* every stream of ours, sent or still queued */
    void *sud;
    int32_t id;
    int err;           /* set by a callback: reset the stream with it */
    uint8_t got_final; /* a final (non-1xx) HEADERS arrived */
    uint8_t in_trailers;
    uint8_t closed;
    uint8_t pushed;       /* a promised stream: not one of ours, not counted in `open` */
    uint8_t counted;      /* counted in `open` (until it closes, or is cancelled unsent) */
    uint8_t interim;      /* 1xx heads so far */
    uint8_t peer_reset;   /* the server sent RST_STREAM (else nghttp2 closed it) */
    uint8_t local_done;   /* our END_STREAM left: the request is all sent */
    uint8_t detail_owned; /* `detail` was allocated for this stream */
    unsigned header_count;
    size_t header_bytes;
    size_t unacked; /* body bytes taken, not yet credited to the stream's window */
    /* The request's side and the rare cases. */
    const char *detail;
    const uint8_t *body;
    size_t body_len, body_off;
    int (*read)(void *sud, uint8_t *buf, size_t len, size_t *n, int *eof);
    struct hxc_headers promise; /* the promised request, until on_push */
} stream;
_Static_assert(offsetof(stream, detail) <= 64, "a stream's hot fields fit one cache line");

struct hxc__h2 {
    nghttp2_session *s;
    stream *streams; /* all our stream records: freed with the session */
    hxc__cache spare; /* freed records kept for reuse */
    const hxc__h2_events *ev;
    void *ud;
    hxc__h2_limits lim;
    size_t max_header_bytes; /* lim's, with 0 (no limit) as the largest value */
    unsigned max_headers;
    unsigned open;
    uint32_t peer_max_streams; /* the peer's SETTINGS_MAX_CONCURRENT_STREAMS */
    uint32_t max_open;         /* streams that may be open: the peer's limit, under ours */
    uint8_t no_new;            /* dead, going away, ended or out of ids: no new stream */
    size_t conn_unacked;       /* body bytes taken during this read, not yet credited */
    size_t stream_ack_at;      /* a stream is credited once this much is taken */
    int32_t last_id;           /* stream_of's memo */
    stream *last;
    int goaway;      /* a GOAWAY received or sent: no new streams */
    int goaway_recv; /* one received (nghttp2 then cannot be asked about errors) */
    int dead;
    int term;      /* nghttp2 ended the session on a connection error (its GOAWAY queued) */
    int inv_code;  /* the last invalid frame's nghttp2 error, for `reason` */
    int stopped;   /* the last hxc__h2_send stopped at its limit: frames may be left */
    int ids_spent; /* stream ids are running out: no new stream (hxc__h2_capacity) */
    /* The header block being read (HTTP/2 never interleaves two): where its
     * fields go, and its content-length (-1: none yet). */
    struct hxc_headers *fields;
    int64_t content_length;
    int block_status;  /* the header block being read had a :status */
    struct diag *diag; /* made on the first error only: most sessions never need it */
};

/* nghttp2's own words on the last error (error_callback2), and why the
 * session ended (`term`): the stream records and the glue only point here. */
struct diag {
    int errmsg_code;
    char errmsg[200];
    char reason[300];
};

static struct diag *diag_of(hxc__h2 *h)
{
    if (h->diag == NULL)
        h->diag = hxc__calloc(1, sizeof(*h->diag));
    return h->diag;
}

/* The reason for `term`, whether or not it could be written down. */
static const char *reason_of(const hxc__h2 *h)
{
    return h->diag && h->diag->reason[0] ? h->diag->reason : "the server broke the HTTP/2 protocol";
}

/* nghttp2's message on the error `lib_error`, if it gave one. */
static const char *errmsg_of(const hxc__h2 *h, int lib_error)
{
    return h->diag && h->diag->errmsg[0] && h->diag->errmsg_code == lib_error ? h->diag->errmsg
                                                                              : NULL;
}

/* The peer's limit, under ours: set when the peer's SETTINGS change it, not
 * computed at every capacity query (three a request). */
static void set_max_open(hxc__h2 *h)
{
    uint32_t peer = h->peer_max_streams;
    h->max_open = h->lim.max_streams && h->lim.max_streams < peer ? h->lim.max_streams : peer;
}

/* nghttp2's allocations: through the client's recycler when there is one
 * (its per-stream objects come and go by the hundred), else hxc's hooks. */
static void *h2_malloc(size_t n, void *ud)
{
    return ud ? hxc__recycler_alloc(ud, n) : hxc__malloc(n);
}
static void h2_free(void *p, void *ud)
{
    if (ud)
        hxc__recycler_free(ud, p);
    else
        hxc__free(p);
}
static void *h2_calloc(size_t c, size_t n, void *ud)
{
    return ud ? hxc__recycler_calloc(ud, c, n) : hxc__calloc(c, n);
}
static void *h2_realloc(void *p, size_t n, void *ud)
{
    return ud ? hxc__recycler_realloc(ud, p, n) : hxc__realloc(p, n);
}

static stream *stream_new(hxc__h2 *h)
{
    stream *st = hxc__cache_take(&h->spare);
    if (st == NULL)
        return hxc__calloc_lines(sizeof(*st));
    /* `promise` is left as it is: only a pushed stream uses it, and frees it
     * (so a recycled record finds it empty) without touching its line. */
    memset(st, 0, offsetof(stream, promise));
    return st;
}

static void stream_free(hxc__h2 *h, stream *st)
{
    if (h->last == st || (st->id != 0 && h->last_id == st->id))
        h->last_id = 0, h->last = NULL;
    if (st->pushed)
        hxc__headers_free(&st->promise);
    if (st->detail_owned)
        hxc__free((char *)st->detail);
    if (!hxc__cache_keep(&h->spare, st))
        hxc__free_lines(st);
}

static void link_stream(hxc__h2 *h, stream *st)
{
    st->prev = NULL;
    st->next = h->streams;
    if (h->streams)
        h->streams->prev = st;
    h->streams = st;
}

static void unlink_stream(hxc__h2 *h, stream *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else
        h->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    st->prev = st->next = NULL;
}

/* The fields of a header block arrive one callback each, for one stream:
 * the last lookup is kept (and forgotten when its record is freed). */
static stream *stream_of(hxc__h2 *h, int32_t id)
{
    if (id == h->last_id && id != 0)
        return h->last;
    stream *st = nghttp2_session_get_stream_user_data(h->s, id);
    if (st != NULL) { /* only hits are kept: a stream not open yet may open later */
        h->last_id = id;
        h->last = st;
    }
    return st;
}

/* A callback refused the stream: remember why and reset it. */
static int stream_fail(hxc__h2 *h, stream *st, int err, const char *detail)
{
    if (st->err == 0) {
        st->err = err;
        st->detail = detail;
    }
    /* Over our header-list limit the response is not wanted (CANCEL; a
     * client's REFUSED_STREAM would mean "not processed", which is false). */
    uint32_t code = err == HXC_EPROTO_REMOTE ? NGHTTP2_PROTOCOL_ERROR : NGHTTP2_CANCEL;
    nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, st->id, code);
    return 0; /* the stream is reset; the session goes on (nonzero would be fatal) */
}

/* The server's response on this stream broke HTTP/2's rules, as nghttp2
 * found (it resets the stream itself): the stream ends with a protocol
 * error, not as "reset by the server". `extra` (nghttp2's words) is copied
 * after `what`. */
static void stream_malformed(stream *st, const char *what, const char *extra)
{
    if (st->err != 0 || st->closed || st->sud == NULL)
        return;
    st->err = HXC_EPROTO_REMOTE;
    st->detail = what;
    if (extra == NULL || extra[0] == '\0')
        return;
    size_t n = strlen(what) + strlen(extra) + 4;
    char *d = hxc__malloc(n);
    if (d == NULL)
        return; /* `what` says enough */
    snprintf(d, n, "%s (%s)", what, extra);
    st->detail = d;
    st->detail_owned = 1;
}

static const char *code_name(uint32_t code)
{
    const char *n = nghttp2_http2_strerror(code);
    return n ? n : "unknown";
}

/* nghttp2 rejected a response's HEADERS as an HTTP message: say which rule
 * from what the stream had (nghttp2 only says "messaging"). */
static const char *messaging_error(const hxc__h2 *h, const stream *st, const nghttp2_frame *f)
{
    if (f->hd.type != NGHTTP2_HEADERS)
        return "malformed response";
    int end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (!st->in_trailers && !h->block_status)
        return "malformed response: HEADERS without :status";
    if (st->in_trailers && !end)
        return "malformed response: trailers without END_STREAM";
    if (end && !st->got_final)
        return "malformed response: the stream ended without a final response";
    if (end)
        return "malformed response: its body does not match its content-length";
    return "malformed response";
}

/* A RST_STREAM left that none of ours asked for (those mark the stream
 * first: stream_fail, a cancel, a refused push): nghttp2 reset the stream
 * because the server's response broke a rule it checks without telling
 * (content-length, DATA before the head, the stream's window). */
static void rst_sent(hxc__h2 *h, int32_t id, uint32_t code)
{
    stream *st = stream_of(h, id);
    if (st == NULL || st->err || st->closed || st->sud == NULL)
        return;
    const char *what = "the HTTP/2 library reset the stream";
    if (code == NGHTTP2_PROTOCOL_ERROR)
        what = st->got_final ? "malformed response: its body does not match its content-length"
                             : "malformed response: DATA before the final response head";
    else if (code == NGHTTP2_FLOW_CONTROL_ERROR)
        what = "the server overflowed the stream's flow-control window";
    stream_malformed(st, what, code_name(code));
}

/* Why the session ended: nghttp2's GOAWAY code and reason once it sent them
 * (NULL before), with its message on the error or the invalid frame's. */
static void set_reason(hxc__h2 *h, const char *code, const uint8_t *why, size_t len)
{
    struct diag *d = diag_of(h);
    if (d == NULL)
        return; /* reason_of says it in general */
    const char *more = d->errmsg[0] && d->errmsg_code != NGHTTP2_ERR_HTTP_HEADER ? d->errmsg
                       : code == NULL && h->inv_code != 0 ? nghttp2_strerror(h->inv_code)
                                                          : NULL;
    snprintf(d->reason, sizeof(d->reason), "%s%s%.*s%s%s%s",
             code ? code : "the server broke the HTTP/2 protocol", len ? ": " : "",
             len > 120 ? 120 : (int)len, why ? (const char *)why : "", more ? " (" : "",
             more ? more : "", more ? ")" : "");
}

/* The server's END_STREAM: its response is complete (nghttp2 has checked
 * its framing). If our request is not (a body still going, or blocked by
 * flow control), RFC 9113 8.1 lets the server answer first: the response is
 * delivered now and our side of the stream is reset, as over HTTP/1.1. */
static void response_ended(hxc__h2 *h, int32_t id)
{
    stream *st = stream_of(h, id);
    if (st == NULL || st->local_done || st->err || st->closed || !st->got_final || st->sud == NULL)
        return;
    void *sud = st->sud;
    st->closed = 1; /* reported here, not again when nghttp2 closes it */
    st->sud = NULL;
    nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, id, NGHTTP2_NO_ERROR);
    h->ev->on_close(sud, 0, NGHTTP2_NO_ERROR, 0, NULL);
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    hxc__h2 *h = ud;
    if (f->hd.type == NGHTTP2_PUSH_PROMISE) {
        stream *ps = stream_new(h);
        if (ps == NULL)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
        ps->id = f->push_promise.promised_stream_id;
        ps->pushed = 1;
        ps->local_done = 1; /* reserved (remote): we send nothing on it */
        link_stream(h, ps);
        hxc__headers_init(&ps->promise);
        nghttp2_session_set_stream_user_data(s, ps->id, ps);
        return 0;
    }
    h->fields = NULL;
    h->content_length = -1;
    h->block_status = 0;
    stream *st = stream_of(h, f->hd.stream_id);
    if (st && st->got_final)
        st->in_trailers = 1;
    return 0;
}

/* A field of a PUSH_PROMISE: the promised request, kept until on_push. */
static int on_promise_header(hxc__h2 *h, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                             const uint8_t *value, size_t vl)
{
    stream *ps = stream_of(h, f->push_promise.promised_stream_id);
    if (ps == NULL)
        return 0;
    ps->header_bytes += nl + vl + 32;
    if (ps->header_bytes > h->max_header_bytes)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* nghttp2 resets the promised stream */
    return hxc__headers_add(&ps->promise, (const char *)name, nl, (const char *)value, vl) == 0
               ? 0
               : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* Whether the n bytes at p (4 <= n <= 16) are those of the literal `lit`:
 * two overlapping 8- or 4-byte compares instead of a call to memcmp. */
static inline int hxc__eq_lit(const uint8_t *p, const char *lit, size_t n)
{
    if (n >= 8) {
        uint64_t a, b, c, d;
        memcpy(&a, p, 8), memcpy(&b, p + n - 8, 8);
        memcpy(&c, lit, 8), memcpy(&d, lit + n - 8, 8);
        return a == c && b == d;
    }
    uint32_t a, b, c, d;
    memcpy(&a, p, 4), memcpy(&b, p + n - 4, 4);
    memcpy(&c, lit, 4), memcpy(&d, lit + n - 4, 4);
    return a == c && b == d;
}

/* A pseudo-header of a response: :status (nghttp2 has checked its form:
 * three digits, not 101; 000-099 and 600-999 pass it). */
static int on_pseudo_header(hxc__h2 *h, stream *st, const uint8_t *name, size_t nl,
                            const uint8_t *value, size_t vl)
{
    if (nl != 7 || !hxc__eq_lit(name, ":status", 7))
        return 0;
    h->block_status = 1;
    int status = 0;
    for (size_t i = 0; i < vl; i++)
        status = status * 10 + (value[i] - '0');
    if (status < 100 || status > 599)
        return stream_fail(h, st, HXC_EPROTO_REMOTE, "status code out of range");
    if (status < 200) /* 1xx: skipped, up to a point */
        return ++st->interim > HXC__MAX_INTERIM
                   ? stream_fail(h, st, HXC_EPROTO_REMOTE, "too many interim (1xx) responses")
                   : 0;
    st->got_final = 1;
    int rv = h->ev->on_status(st->sud, status, &h->fields);
    return rv != 0 ? stream_fail(h, st, rv, "response rejected while reading headers") : 0;
}

/* Called once per field of every response head: the common case (a regular
 * field of a final head) is kept short, the rest is out of line. */
static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    hxc__h2 *h = ud;
    if (f->hd.type != NGHTTP2_HEADERS)
        return f->hd.type == NGHTTP2_PUSH_PROMISE ? on_promise_header(h, f, name, nl, value, vl)
                                                  : 0;
    stream *st = stream_of(h, f->hd.stream_id);
    if (st == NULL || st->err || st->closed)
        return 0; /* failed, or cancelled by its owner (whose response may be gone) */
    /* The decoded size, 1xx heads included: nghttp2 does not bound it for us. */
    st->header_bytes += nl + vl + 32;
    if (st->header_bytes > h->max_header_bytes || ++st->header_count > h->max_headers)
        return stream_fail(h, st, HXC_EHEADERS_TOO_LARGE, "response header list exceeds the limit");
    if (name[0] == ':')
        return on_pseudo_header(h, st, name, nl, value, vl);
    if (!st->got_final)
        return 0; /* a field of a 1xx head */
    if (st->in_trailers) {
        int rv = h->ev->on_trailer
                     ? h->ev->on_trailer(st->sud, (const char *)name, nl, (const char *)value, vl)
                     : 0;
        return rv != 0 ? stream_fail(h, st, rv, "response rejected while reading trailers") : 0;
    }
    /* A field of the final head goes straight to its list. nghttp2 has checked
     * it (lower-case name; one content-length, all digits, within 63 bits). */
    if (nl == 14 && hxc__eq_lit(name, "content-length", 14)) {
        int64_t len = 0;
        for (size_t i = 0; i < vl; i++) {
            int64_t d = value[i] - '0';
            len = len > (INT64_MAX - d) / 10 ? INT64_MAX : len * 10 + d; /* saturates */
        }
        h->content_length = len;
    }
    if (h->fields != NULL &&
        hxc__headers_add(h->fields, (const char *)name, nl, (const char *)value, vl) != 0)
        return stream_fail(h, st, HXC_ENOMEM, "out of memory while reading headers");
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    hxc__h2 *h = ud;
    if (f->hd.type == NGHTTP2_GOAWAY) {
        h->goaway = 1;
        h->no_new = 1;
        h->goaway_recv = 1;
        if (h->ev->on_goaway)
            h->ev->on_goaway(h->ud, f->goaway.last_stream_id, f->goaway.error_code);
        return 0;
    }
    if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK)) {
        if (h->ev->on_ping_ack)
            h->ev->on_ping_ack(h->ud);
        return 0;
    }
    if (f->hd.type == NGHTTP2_SETTINGS && !(f->hd.flags & NGHTTP2_FLAG_ACK)) {
        /* nghttp2 has applied them: the stream limit is read here, not per request. */
        h->peer_max_streams =
            nghttp2_session_get_remote_settings(h->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
        set_max_open(h);
        if (h->ev->on_settings)
            h->ev->on_settings(h->ud);
        return 0;
    }
    if (f->hd.type == NGHTTP2_PUSH_PROMISE) {
        stream *ps = stream_of(h, f->push_promise.promised_stream_id);
        if (ps == NULL)
            return 0;
        void *sud = h->ev->on_push ? h->ev->on_push(h->ud, ps->id, &ps->promise) : NULL;
        hxc__headers_free(&ps->promise);
        ps->header_bytes = 0;
        if (sud == NULL) {
            ps->closed = 1; /* refused: no events for it */
            nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, ps->id, NGHTTP2_CANCEL);
        } else {
            ps->sud = sud;
        }
        return 0;
    }
    if (f->hd.type == NGHTTP2_HEADERS) {
        stream *st = stream_of(h, f->hd.stream_id);
        if (st && !st->err && !st->closed && st->got_final && !st->in_trailers &&
            (f->headers.cat == NGHTTP2_HCAT_RESPONSE ||
             f->headers.cat == NGHTTP2_HCAT_PUSH_RESPONSE)) {
            int rv = h->ev->on_headers_done(st->sud, h->content_length);
            if (rv != 0)
                return stream_fail(h, st, rv, "response rejected after headers");
        }
        if (st && !st->got_final && (f->hd.flags & NGHTTP2_FLAG_END_STREAM))
            st->err = HXC_EPROTO_REMOTE, st->detail = "stream ended without a final response";
    } else if (f->hd.type == NGHTTP2_RST_STREAM) {
        stream *st = stream_of(h, f->hd.stream_id);
        if (st != NULL)
            st->peer_reset = 1; /* the server's reset, not one of nghttp2's */
        return 0;
    } else if (f->hd.type != NGHTTP2_DATA) {
        return 0;
    }
    if (f->hd.flags & NGHTTP2_FLAG_END_STREAM)
        response_ended(h, f->hd.stream_id);
    return 0;
}

/* A frame nghttp2 found invalid: a stream error (it resets the stream
 * itself) or a connection error (it ends the session: seen by
 * hxc__h2_recv). A stream of ours ends as a malformed response, in nghttp2's
 * words; a connection error is reported for all of them. */
static int on_invalid_frame(nghttp2_session *s, const nghttp2_frame *f, int lib_error, void *ud)
{
    (void)s;
    hxc__h2 *h = ud;
    int http = lib_error == NGHTTP2_ERR_HTTP_HEADER || lib_error == NGHTTP2_ERR_HTTP_MESSAGING;
    int32_t id = f->hd.type == NGHTTP2_PUSH_PROMISE && http ? f->push_promise.promised_stream_id
                                                            : f->hd.stream_id;
    stream *st = id > 0 ? stream_of(h, id) : NULL;
    if (st == NULL) {
        h->inv_code = lib_error; /* for the session's end, if it is one */
        return 0;
    }
    const char *what = lib_error == NGHTTP2_ERR_HTTP_HEADER
                           ? "malformed response: a forbidden or invalid header field"
                       : lib_error == NGHTTP2_ERR_HTTP_MESSAGING
                           ? messaging_error(h, st, f)
                           : "malformed response: an invalid frame";
    const char *extra = errmsg_of(h, lib_error);
    if (extra == NULL)
        extra = nghttp2_strerror(lib_error);
    stream_malformed(st, what, extra);
    return 0;
}

/* nghttp2's message on an error (for people, says its manual): the invalid
 * header field it names, or why the session is ending. */
static int on_error(nghttp2_session *s, int lib_error, const char *msg, size_t len, void *ud)
{
    (void)s;
    struct diag *d = diag_of(ud);
    if (d != NULL) {
        d->errmsg_code = lib_error;
        snprintf(d->errmsg, sizeof(d->errmsg), "%.*s", len > INT_MAX ? INT_MAX : (int)len, msg);
    }
    return 0;
}

static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    hxc__h2 *h = ud;
    if (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) {
        stream *st = stream_of(h, f->hd.stream_id);
        if (st == NULL)
            return 0;
        int end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
        if (end)
            st->local_done = 1;
        if (!st->pushed && !st->closed && st->sud != NULL && h->ev->on_sent)
            h->ev->on_sent(st->sud, end);
    } else if (f->hd.type == NGHTTP2_RST_STREAM) {
        rst_sent(h, f->hd.stream_id, f->rst_stream.error_code);
    } else if (f->hd.type == NGHTTP2_GOAWAY && f->goaway.error_code != NGHTTP2_NO_ERROR) {
        /* Ours are NO_ERROR (hxc__h2_shutdown): this is nghttp2 ending the
         * session on a connection error, with its reason as debug data. */
        h->term = 1;
        h->no_new = 1;
        h->goaway = 1;
        h->no_new = 1;
        set_reason(h, code_name(f->goaway.error_code), f->goaway.opaque_data,
                   f->goaway.opaque_data_len);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)s;
    (void)flags;
    hxc__h2 *h = ud;
    stream *st = stream_of(h, id);
    if (st == NULL || st->err || st->closed) {
        nghttp2_session_consume_connection(s, len); /* nobody wants it: credit it back */
        return 0;
    }
    int rv = h->ev->on_data(st->sud, data, len);
    if (rv == HXC__H2_KEEP)
        return 0; /* the owner credits it as its consumer takes it */
    /* Taken: the connection is credited once per read (hxc__h2_recv), the
     * stream only when its body has used a quarter of its window (a small
     * response never needs its own WINDOW_UPDATE). */
    h->conn_unacked += len;
    st->unacked += len;
    if (st->unacked >= h->stream_ack_at) {
        nghttp2_session_consume_stream(s, id, st->unacked);
        st->unacked = 0;
    }
    if (rv != 0)
        return stream_fail(h, st, rv, "response body rejected");
    return 0;
}

void hxc__h2_ping(hxc__h2 *h)
{
    if (!h->dead)
        nghttp2_submit_ping(h->s, NGHTTP2_FLAG_NONE, NULL);
}

void hxc__h2_resume_body(hxc__h2 *h, int32_t id)
{
    if (!h->dead)
        nghttp2_session_resume_data(h->s, id);
}

void hxc__h2_consume(hxc__h2 *h, int32_t id, size_t n)
{
    if (h->dead || n == 0)
        return;
    if (nghttp2_session_consume(h->s, id, n) != 0)
        nghttp2_session_consume_connection(h->s, n);
}

void hxc__h2_consume_connection(hxc__h2 *h, size_t n)
{
    if (!h->dead && n > 0)
        nghttp2_session_consume_connection(h->s, n);
}

static int on_stream_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)s;
    hxc__h2 *h = ud;
    stream *st = stream_of(h, id);
    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(h->s, id, NULL);
    h->last_id = 0, h->last = NULL;
    /* More streams open than the server allows (its SETTINGS came after
     * them): a refusal of ours to fix, not the server's state. A limit of 0
     * is the server's state (it takes no stream at all): it backs off. */
    int over = st->counted && h->peer_max_streams > 0 && h->open > h->peer_max_streams;
    if (st->counted) {
        st->counted = 0;
        h->open--;
    }
    if (!st->closed && st->sud != NULL) {
        st->closed = 1;
        int err = st->err, refused = 0;
        const char *detail = err != 0 ? st->detail : NULL; /* its line is cold otherwise */
        char buf[96];
        if (h->term) { /* closed while the session ends on a connection error */
            err = HXC_EPROTO_REMOTE;
            detail = reason_of(h);
        } else if (err == 0 && code != NGHTTP2_NO_ERROR && st->peer_reset) {
            refused = code != NGHTTP2_REFUSED_STREAM ? 0
                      : over                         ? HXC__H2_REFUSED_OVER
                                                     : HXC__H2_REFUSED_RST;
            err = HXC_ESTREAM_RESET;
            snprintf(buf, sizeof(buf), "stream reset by the server: %s (0x%x)", code_name(code),
                     (unsigned)code);
            detail = buf;
        } else if (err == 0 && code == NGHTTP2_REFUSED_STREAM) {
            /* nghttp2's own: above the last stream id of the server's GOAWAY
             * (or not sent at all, the session closing): never processed. */
            refused = HXC__H2_REFUSED_GOAWAY;
            err = HXC_EPROTO_REMOTE;
            detail = h->goaway_recv
                         ? "not processed: above the last stream id of the server's GOAWAY"
                         : "not sent: the HTTP/2 session was closing";
        } else if (err == 0 && code != NGHTTP2_NO_ERROR) {
            err = HXC_EPROTO_REMOTE; /* nghttp2 reset it without telling why */
            snprintf(buf, sizeof(buf), "the HTTP/2 stream was reset: %s (0x%x)", code_name(code),
                     (unsigned)code);
            detail = buf;
        } else if (err == 0 && !st->got_final) {
            err = HXC_EPROTO_REMOTE;
            detail = "stream closed before a final response";
        }
        h->ev->on_close(st->sud, err, code, refused, detail);
    }
    unlink_stream(h, st);
    stream_free(h, st);
    return 0;
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    (void)ud;
    stream *st = src->ptr;
    if (st->read != NULL) {
        size_t got = 0;
        int eof = 0;
        int rv = st->closed || st->sud == NULL ? HXC_ECANCELLED
                                               : st->read(st->sud, buf, len, &got, &eof);
        if (rv == HXC__H2_DEFER)
            return NGHTTP2_ERR_DEFERRED;
        if (rv != 0) {
            if (st->err == 0 && !st->closed)
                st->err = rv, st->detail = "the request body could not be produced";
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
        }
        if (eof)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t)got;
    }
    if (st->closed || st->sud == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* cancelled: its body may be gone */
    size_t n = st->body_len - st->body_off;
    if (n > len)
        n = len;
    if (n)
        memcpy(buf, st->body + st->body_off, n);
    st->body_off += n;
    if (st->body_off == st->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

int hxc__h2_new(hxc__h2 **out, const hxc__h2_events *ev, void *ud, const hxc__h2_limits *lim)
{
    hxc__h2 *h = hxc__calloc(1, sizeof(*h));
    if (h == NULL)
        return HXC_ENOMEM;
    h->ev = ev;
    h->ud = ud;
    h->lim = *lim;
    hxc__cache_init(&h->spare, HXC__CACHE_MAX);
    h->max_header_bytes = lim->max_header_bytes ? lim->max_header_bytes : SIZE_MAX;
    h->max_headers = lim->max_headers ? lim->max_headers : UINT_MAX;
    h->stream_ack_at = lim->stream_window / 4 > 0 ? lim->stream_window / 4 : 1;
    nghttp2_session_callbacks *cb;
    nghttp2_option *opt;
    if (nghttp2_session_callbacks_new(&cb) != 0) {
        hxc__free(h);
        return HXC_ENOMEM;
    }
    if (nghttp2_option_new(&opt) != 0) {
        nghttp2_session_callbacks_del(cb);
        hxc__free(h);
        return HXC_ENOMEM;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb, on_invalid_frame);
    nghttp2_session_callbacks_set_error_callback2(cb, on_error);
    /* Before the peer's SETTINGS arrive, assume a modest limit (RFC 9113 says 100+). */
    nghttp2_option_set_peer_max_concurrent_streams(opt, 100);
    /* Windows are credited as data is consumed: at once for buffered bodies,
     * as the user takes it for streamed ones (back-pressure to the server). */
    nghttp2_option_set_no_auto_window_update(opt, 1);
    nghttp2_option_set_max_reserved_remote_streams(opt, lim->enable_push ? 100 : 0);
    nghttp2_option_set_max_settings(opt, 64);
    nghttp2_option_set_max_outbound_ack(opt, 1000);
    nghttp2_option_set_max_continuations(opt, 16);
    nghttp2_mem mem = {lim->recycler, h2_malloc, h2_free, h2_calloc, h2_realloc};
    int rv = nghttp2_session_client_new3(&h->s, cb, h, opt, &mem); /* copies `mem` */
    nghttp2_session_callbacks_del(cb);
    nghttp2_option_del(opt);
    if (rv != 0) {
        hxc__free(h);
        return HXC_ENOMEM;
    }
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, lim->enable_push ? 1u : 0u},
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, lim->enable_push ? 100u : 0u}, /* pushes */
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, lim->stream_window},
        /* Advertised only when there is one (0 would ask for empty heads). */
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
         lim->max_header_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)lim->max_header_bytes},
    };
    size_t niv = HXC__ARRAY_SIZE(iv) - (lim->max_header_bytes == 0);
    /* Until the peer's SETTINGS arrive: the assumed limit set above. */
    h->peer_max_streams =
        nghttp2_session_get_remote_settings(h->s, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
    set_max_open(h);
    rv = nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, niv);
    if (rv == 0 && lim->conn_window > 65535)
        rv = nghttp2_session_set_local_window_size(h->s, NGHTTP2_FLAG_NONE, 0,
                                                   (int32_t)lim->conn_window);
    if (rv != 0) {
        nghttp2_session_del(h->s);
        hxc__free(h);
        return HXC_ENOMEM;
    }
    *out = h;
    return 0;
}

void hxc__h2_free(hxc__h2 *h)
{
    if (h == NULL)
        return;
    hxc__h2_fail_all(h, 0, NULL);
    nghttp2_session_del(h->s);
    stream *st;
    while ((st = hxc__cache_take(&h->spare)) != NULL)
        hxc__free_lines(st);
    hxc__free(h->diag);
    hxc__free(h);
}

/* `flags` tell nghttp2 which strings it may keep by pointer instead of
 * copying: names that are string literals, and values that live in the
 * request (or the client) until the stream is over. nghttp2 reads them only
 * while serializing the HEADERS frame; a request cancelled before that has its
 * queued HEADERS dropped unread (RST_STREAM on a pending stream cancels it),
 * and the HPACK table keeps copies of its own. What lives on our stack (lower-
 * cased names, content-length) is copied. */
static void push_nv(nghttp2_nv *nv, size_t *n, const char *name, size_t nl, const char *value,
                    size_t vl, uint8_t flags)
{
    nv[*n].name = (uint8_t *)name;
    nv[*n].namelen = nl;
    nv[*n].value = (uint8_t *)value;
    nv[*n].valuelen = vl;
    nv[*n].flags = flags;
    (*n)++;
}

int32_t hxc__h2_submit(hxc__h2 *h, const hxc__h2_request *r, void *sud)
{
    if (h->dead)
        return HXC_ECLOSED;
    if (hxc__h2_capacity(h) == 0)
        return HXC_EPROTO_LOCAL;
    size_t count = r->headers ? r->headers->count : 0;
    nghttp2_nv stack[32];
    nghttp2_nv *nv =
        count + 7 <= HXC__ARRAY_SIZE(stack) ? stack : hxc__calloc(count + 7, sizeof(*nv));
    /* Lower-cased names live in one buffer (HTTP/2 field names are lower case). */
    size_t names = 0;
    for (size_t i = 0; i < count; i++)
        names += r->headers->fields[i].name_len + 1;
    char lower_stack[512];
    char *lower = names <= sizeof(lower_stack) ? lower_stack : hxc__malloc(names);
    if (nv == NULL || lower == NULL) {
        if (nv != stack)
            hxc__free(nv);
        if (lower != lower_stack)
            hxc__free(lower);
        return HXC_ENOMEM;
    }
    size_t n = 0;
    const char *authority = r->authority;
    size_t authority_len = r->authority_len;
    for (size_t i = 0; i < count; i++) {
        size_t nl;
        const char *name = hxc__headers_name(r->headers, i, &nl);
        if (hxc__strieq(name, nl, "host"))
            authority = hxc__headers_value(r->headers, i, &authority_len);
    }
    push_nv(nv, &n, ":method", 7, r->method, r->method_len,
            NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    push_nv(nv, &n, ":scheme", 7, r->scheme, r->scheme_len,
            NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    push_nv(nv, &n, ":authority", 10, authority, authority_len,
            NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    push_nv(nv, &n, ":path", 5, r->path, r->path_len,
            NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    int have_ua = 0, have_accept = 0;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        size_t nl, vl;
        const char *name = hxc__headers_name(r->headers, i, &nl);
        const char *value = hxc__headers_value(r->headers, i, &vl);
        if (hxc__strieq(name, nl, "host") || hxc__strieq(name, nl, "te"))
            continue; /* connection-specific in HTTP/2 */
        have_ua |= hxc__strieq(name, nl, "user-agent");
        have_accept |= hxc__strieq(name, nl, "accept");
        for (size_t k = 0; k < nl; k++) {
            char c = name[k];
            lower[off + k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        push_nv(nv, &n, lower + off, nl, value, vl, NGHTTP2_NV_FLAG_NO_COPY_VALUE);
        off += nl + 1;
    }
    if (!have_ua && r->user_agent && *r->user_agent)
        push_nv(nv, &n, "user-agent", 10, r->user_agent, strlen(r->user_agent),
                NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    if (!have_accept && r->accept && *r->accept)
        push_nv(nv, &n, "accept", 6, r->accept, strlen(r->accept),
                NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE);
    char cl[32];
    /* POST, PUT and PATCH announce their (maybe empty) body's length. */
    int want_body =
        r->has_body ||
        (r->method[0] == 'P' &&
         (!strcmp(r->method, "POST") || !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH")));
    if (r->read != NULL) {
        if (r->read_len >= 0) {
            int l = snprintf(cl, sizeof(cl), "%lld", (long long)r->read_len);
            push_nv(nv, &n, "content-length", 14, cl, (size_t)l, NGHTTP2_NV_FLAG_NO_COPY_NAME);
        }
    } else if (want_body) {
        int l = snprintf(cl, sizeof(cl), "%zu", r->body_len);
        push_nv(nv, &n, "content-length", 14, cl, (size_t)l, NGHTTP2_NV_FLAG_NO_COPY_NAME);
    }
    stream *st = stream_new(h);
    int32_t id = HXC_ENOMEM;
    if (st != NULL) {
        st->sud = sud;
        st->body = r->body;
        st->body_len = r->body_len;
        st->read = r->read;
        nghttp2_data_provider prd;
        prd.source.ptr = st;
        prd.read_callback = read_body;
        id =
            nghttp2_submit_request(h->s, NULL, nv, n, r->body_len > 0 || r->read ? &prd : NULL, st);
        if (id < 0) {
            stream_free(h, st);
            id = id == NGHTTP2_ERR_NOMEM ? HXC_ENOMEM : HXC_EPROTO_LOCAL;
        } else {
            st->id = id;
            h->ids_spent = (uint32_t)id + 2 > 0x7ffffff0u; /* nghttp2 would open the next one */
            h->no_new |= h->ids_spent;
            h->open++;
            st->counted = 1;
            link_stream(h, st);
        }
    }
    if (nv != stack)
        hxc__free(nv);
    if (lower != lower_stack)
        hxc__free(lower);
    return id;
}

int hxc__h2_recv(hxc__h2 *h, const uint8_t *data, size_t len, const char **detail)
{
    if (h->dead || h->term) {
        *detail = h->term ? reason_of(h) : "the HTTP/2 session is over";
        return HXC_EPROTO_REMOTE;
    }
    ssize_t rv = nghttp2_session_mem_recv(h->s, data, len);
    if (rv >= 0 && h->conn_unacked > 0) {
        nghttp2_session_consume_connection(h->s, h->conn_unacked);
        h->conn_unacked = 0;
    }
    if (rv < 0) {
        h->dead = 1; /* never feed nghttp2 again after a fatal error */
        h->no_new = 1;
        *detail = nghttp2_strerror((int)rv);
        return rv == NGHTTP2_ERR_NOMEM ? HXC_ENOMEM : HXC_EPROTO_REMOTE;
    }
    /* A connection error does not fail mem_recv: nghttp2 queues a GOAWAY and
     * ignores everything after. It shows as a session that allows no new
     * request although no GOAWAY went either way and stream ids remain
     * (after a GOAWAY, only nghttp2's own, once sent, shows it). */
    if (!h->goaway && !h->ids_spent && !nghttp2_session_check_request_allowed(h->s)) {
        h->term = 1;
        h->no_new = 1;
        set_reason(h, NULL, NULL, 0); /* until its GOAWAY says more (on_frame_send) */
    }
    if (h->term) {
        *detail = reason_of(h);
        return HXC_EPROTO_REMOTE;
    }
    return 0;
}

int hxc__h2_failed(const hxc__h2 *h, const char **detail)
{
    if (!h->term)
        return 0;
    *detail = reason_of(h);
    return HXC_EPROTO_REMOTE;
}

int hxc__h2_send(hxc__h2 *h, int (*write)(void *wud, const uint8_t *p, size_t n), void *wud,
                 size_t limit)
{
    h->stopped = 0;
    if (h->dead)
        return 0;
    for (size_t sent = 0; sent < limit;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(h->s, &p);
        if (n < 0) {
            h->dead = 1;
            h->no_new = 1;
            return HXC_EPROTO_LOCAL;
        }
        if (n == 0)
            return 0;
        int rv = write(wud, p, (size_t)n);
        if (rv != 0)
            return rv;
        sent += (size_t)n;
    }
    h->stopped = 1; /* the rest stays in nghttp2 */
    return 1;
}

int hxc__h2_stopped(const hxc__h2 *h) { return h->stopped && !h->dead; }

int hxc__h2_can_send(const hxc__h2 *h, int32_t id)
{
    if (h->dead)
        return 0;
    if (nghttp2_session_get_remote_window_size(h->s) <= 0)
        return 0;
    /* Negative: no such stream yet (its HEADERS wait to be framed). */
    return id <= 0 || nghttp2_session_get_stream_remote_window_size(h->s, id) != 0;
}

unsigned hxc__h2_capacity(const hxc__h2 *h)
{
    /* Dead, going away, ended on an error, or near the end of the stream
     * ids (2^31: a session there takes no more): `no_new`. */
    if (h->no_new)
        return 0;
    return h->max_open > h->open ? h->max_open - h->open : 0;
}

unsigned hxc__h2_open_streams(const hxc__h2 *h) { return h->open; }

void hxc__h2_cancel(hxc__h2 *h, int32_t id)
{
    stream *st = stream_of(h, id);
    if (st == NULL) {
        /* Not opened yet (its HEADERS still queued): find our record, give
         * back its place at once; nghttp2 drops the queued request on RST. */
        for (st = h->streams; st != NULL && st->id != id; st = st->next)
            ;
        if (st == NULL || st->closed)
            return;
        if (st->counted) {
            st->counted = 0;
            h->open--;
        }
    }
    st->closed = 1; /* the owner knows: no on_close, no more fields (on_header) */
    st->sud = NULL;
    if (!h->dead)
        nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
}

void hxc__h2_shutdown(hxc__h2 *h)
{
    if (h->dead || h->goaway)
        return;
    h->goaway = 1;
    h->no_new = 1;
    nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(h->s),
                          NGHTTP2_NO_ERROR, NULL, 0);
}

int hxc__h2_finished(const hxc__h2 *h)
{
    return h->dead || (!nghttp2_session_want_read(h->s) && !nghttp2_session_want_write(h->s));
}

int hxc__h2_going_away(const hxc__h2 *h) { return h->goaway || h->dead || h->term; }

void hxc__h2_fail_all(hxc__h2 *h, int err, const char *detail)
{
    /* Our own list, not stream ids: a request still queued in nghttp2 has no
     * stream object yet, and must not leak with the session. */
    h->dead = 1;
    h->no_new = 1;
    while (h->streams != NULL) {
        stream *st = h->streams;
        unlink_stream(h, st);
        if (st->id > 0 && nghttp2_session_get_stream_user_data(h->s, st->id) == st)
            nghttp2_session_set_stream_user_data(h->s, st->id, NULL);
        if (st->counted)
            h->open--;
        int closed = st->closed;
        void *sud = st->sud;
        stream_free(h, st);
        if (!closed && sud != NULL && err != 0)
            h->ev->on_close(sud, err, 0, 0, detail);
    }
}
