/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/proto/h2.c: the SETTINGS a new session sends; a stream
 * cancelled in the middle of its response head (an in-process nghttp2 server
 * makes the frames). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <nghttp2/nghttp2.h>

#include "core/buf.h"
#include "core/headers.h"
#include "proto/h2.h"

static int collect(void *wud, const uint8_t *p, size_t n) { return hxc__buf_append(wud, p, n); }

/* The value of SETTINGS parameter `id` in the client's first SETTINGS frame,
 * or -1 when it is not there. */
static long first_settings_value(size_t max_header_bytes, uint16_t id)
{
    static const hxc__h2_events ev; /* no stream events are expected */
    hxc__h2_limits lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_header_bytes = max_header_bytes;
    lim.max_streams = 100;
    lim.stream_window = 1 << 20;
    lim.conn_window = 1 << 24;
    hxc__h2 *h = NULL;
    assert_int_equal(hxc__h2_new(&h, &ev, NULL, &lim), 0);
    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__h2_send(h, collect, &b, SIZE_MAX), 0);
    hxc__h2_free(h);
    /* The 24-byte preface, then a SETTINGS frame (type 4): 6-byte entries. */
    assert_true(b.len > 24 + 9);
    const uint8_t *f = b.data + 24;
    assert_int_equal(f[3], 4);
    size_t len = (size_t)f[0] << 16 | (size_t)f[1] << 8 | f[2];
    long value = -1;
    for (size_t off = 0; off + 6 <= len; off += 6) {
        const uint8_t *e = f + 9 + off;
        if ((e[0] << 8 | e[1]) == id)
            value =
                (long)((uint32_t)e[2] << 24 | (uint32_t)e[3] << 16 | (uint32_t)e[4] << 8 | e[5]);
    }
    hxc__buf_free(&b);
    return value;
}

/* SETTINGS_MAX_HEADER_LIST_SIZE (0x6) says the limit when there is one; with
 * none (0) it is left out rather than sent as 0 (which asks for empty heads);
 * a limit past 32 bits is sent as the largest value, not truncated. */
static void test_max_header_list_size(void **state)
{
    (void)state;
    assert_int_equal(first_settings_value(65536, 0x6), 65536);
    assert_int_equal(first_settings_value(0, 0x6), -1);
    assert_int_equal(first_settings_value((size_t)1 << 33, 0x6), 0xffffffffL);
    assert_int_equal(first_settings_value(0, 0x2), 0); /* push stays off */
}

/* ---- a stream cancelled between its HEADERS and CONTINUATION frames ---- */

typedef struct events_seen {
    struct hxc_headers fields; /* where the head's fields go */
    int status, headers_done, closed, trailers;
} events_seen;

static int t_status(void *sud, int status, struct hxc_headers **fields)
{
    events_seen *e = sud;
    e->status = status;
    *fields = &e->fields;
    return 0;
}
static int t_headers_done(void *sud, int64_t content_length)
{
    (void)content_length;
    ((events_seen *)sud)->headers_done++;
    return 0;
}
static int t_data(void *sud, const uint8_t *d, size_t n)
{
    (void)sud, (void)d, (void)n;
    return 0;
}
static int t_trailer(void *sud, const char *n, size_t nl, const char *v, size_t vl)
{
    (void)n, (void)nl, (void)v, (void)vl;
    ((events_seen *)sud)->trailers++;
    return 0;
}
static void t_close(void *sud, int err, uint32_t code, int refused, const char *detail)
{
    (void)err, (void)code, (void)refused, (void)detail;
    ((events_seen *)sud)->closed++;
}
static void t_goaway(void *ud, int32_t last, uint32_t code) { (void)ud, (void)last, (void)code; }
static void t_settings(void *ud) { (void)ud; }
static void t_ping_ack(void *ud) { (void)ud; }
static void t_sent(void *sud, int end) { (void)sud, (void)end; }

/* The server answers every request with a head too big for one frame. */
static int srv_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)ud;
    if (f->hd.type != NGHTTP2_HEADERS || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
        return 0;
    static uint8_t big[8000];
    memset(big, 'v', sizeof(big));
    nghttp2_nv nv[] = {
        {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE},
        {(uint8_t *)"x-a", big, 3, sizeof(big), NGHTTP2_NV_FLAG_NO_INDEX},
        {(uint8_t *)"x-b", big, 3, sizeof(big), NGHTTP2_NV_FLAG_NO_INDEX},
        {(uint8_t *)"x-c", big, 3, sizeof(big), NGHTTP2_NV_FLAG_NO_INDEX},
    };
    return nghttp2_submit_response(s, f->hd.stream_id, nv, 4, NULL);
}

static void srv_recv(nghttp2_session *srv, const hxc__buf *b)
{
    assert_int_equal(nghttp2_session_mem_recv(srv, b->data, b->len), (ssize_t)b->len);
}

static void srv_send(nghttp2_session *srv, hxc__buf *out)
{
    const uint8_t *p;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(srv, &p)) > 0)
        assert_int_equal(hxc__buf_append(out, p, (size_t)n), 0);
    assert_true(n == 0);
}

/* The owner cancels a stream whose head has begun (HEADERS read) but not
 * ended (CONTINUATION still to come), then releases what the head was being
 * written to: the rest of the block must go nowhere, and no event follows. */
static void test_cancel_mid_header_block(void **state)
{
    (void)state;
    static const hxc__h2_events ev = {t_status, t_headers_done, t_data, t_trailer,  t_close,
                                      t_goaway, t_settings,     NULL,   t_ping_ack, t_sent};
    hxc__h2_limits lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_header_bytes = 1 << 20;
    lim.max_headers = 100;
    lim.max_streams = 100;
    lim.stream_window = 1 << 20;
    lim.conn_window = 1 << 24;
    hxc__h2 *h = NULL;
    assert_int_equal(hxc__h2_new(&h, &ev, NULL, &lim), 0);

    nghttp2_session_callbacks *cb;
    assert_int_equal(nghttp2_session_callbacks_new(&cb), 0);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, srv_frame_recv);
    nghttp2_session *srv;
    assert_int_equal(nghttp2_session_server_new(&srv, cb, NULL), 0);
    nghttp2_session_callbacks_del(cb);
    assert_int_equal(nghttp2_submit_settings(srv, NGHTTP2_FLAG_NONE, NULL, 0), 0);

    events_seen e;
    memset(&e, 0, sizeof(e));
    hxc__headers_init(&e.fields);
    hxc__h2_request rq;
    memset(&rq, 0, sizeof(rq));
    rq.method = "GET", rq.method_len = 3;
    rq.scheme = "http", rq.scheme_len = 4;
    rq.authority = "example.test", rq.authority_len = 12;
    rq.path = "/", rq.path_len = 1;
    int32_t id = hxc__h2_submit(h, &rq, &e);
    assert_int_equal(id, 1);

    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__h2_send(h, collect, &b, SIZE_MAX), 0); /* preface, SETTINGS, HEADERS */
    srv_recv(srv, &b);
    hxc__buf_reset(&b);
    srv_send(srv, &b); /* SETTINGS, its ACK, HEADERS, CONTINUATION */

    /* Find the end of the HEADERS frame of stream 1. */
    size_t off = 0, cut = 0;
    while (off + 9 <= b.len) {
        size_t len = (size_t)b.data[off] << 16 | (size_t)b.data[off + 1] << 8 | b.data[off + 2];
        uint8_t type = b.data[off + 3], flags = b.data[off + 4];
        if (type == NGHTTP2_HEADERS) {
            assert_false(flags & NGHTTP2_FLAG_END_HEADERS); /* the head does not fit one frame */
            cut = off + 9 + len;
        }
        off += 9 + len;
    }
    assert_int_equal(off, b.len);
    assert_true(cut > 0 && cut < b.len);
    const char *detail = NULL;
    assert_int_equal(hxc__h2_recv(h, b.data, cut, &detail), 0);
    assert_int_equal(e.status, 200);
    size_t kept = e.fields.count; /* what the first frame carried */
    assert_true(kept < 3);

    hxc__h2_cancel(h, id);
    hxc__headers_free(&e.fields); /* the owner releases the response at once */
    e.fields.count = 0x5eed;      /* anything added now would show (or crash under ASan) */
    assert_int_equal(hxc__h2_recv(h, b.data + cut, b.len - cut, &detail), 0);
    assert_int_equal(e.fields.count, 0x5eed);
    assert_null(e.fields.fields);
    assert_int_equal(e.headers_done, 0);
    assert_int_equal(e.closed, 0); /* cancelled: the owner is not told again */
    assert_int_equal(e.trailers, 0);

    hxc__buf_free(&b);
    nghttp2_session_del(srv);
    hxc__h2_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_header_list_size),
        cmocka_unit_test(test_cancel_mid_header_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
