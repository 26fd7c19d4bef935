/* SPDX-License-Identifier: MIT */
/*
 * Integration: flow (the write queue's marks, the read budgets): streamed uploads and their
 * timeouts, against peers that abuse them.
 *
 * - HTTP/1.1: a producer of a known length that says "end" in a call of its
 *   own, after its last bytes (a file read to EOF does that), and a server
 *   that takes the whole body, thinks, then answers. The body has left, so
 *   the read timeout must run, not the write timeout.
 * - HTTP/2: a server that reads the upload slowly but steadily (a few KiB
 *   every 10 ms). The socket makes progress all the time, so the write
 *   timeout must stay quiet, as it does over HTTP/1.1 against the same
 *   reader (the control case).
 * - HTTP/2: a small GET sent while an upload fills the transport's queue,
 *   to a server that answers the GET as soon as its HEADERS arrive: the
 *   GET's read timeout must not run out while its request is still in the
 *   client's own queue.
 */
#include <errno.h>
#include <unistd.h>

#include "flowpeers.h"

/* ---- a producer that ends in a call of its own --------------------------- */

typedef struct think_arg {
    int think_ms;
    atomic_int got_body;  /* the whole body was read */
    atomic_int head_seen; /* the client's caller has the response head */
    int wait_for_head;    /* read no body before head_seen */
} think_arg;

typedef struct producer {
    uint64_t total, produced;
    int calls_after_end; /* calls that returned eof with no bytes */
    int paused;          /* it waited (for its source, or for the response head) */
    struct event *wake;  /* resumes it (the source says "that was all") */
    struct event_base *base;
    int head_seen;     /* the response head reached the caller */
    int head_then_end; /* it had when the producer gave its last bytes */
    think_arg *peer;   /* told when the head has reached the caller */
} producer;

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hxc_request_resume_body(arg);
}

/* Gives `total` bytes in pieces, never with eof. Then, as a producer fed by
 * another source does, it has nothing for a moment (HXC_PAUSE, resumed 50 ms
 * later) and then learns that the source ended: no byte, and eof. */
static int produce_then_end(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof,
                            void *ud)
{
    producer *p = ud;
    uint64_t left = p->total - p->produced;
    size_t n = left < len ? (size_t)left : len;
    memset(buf, 'u', n);
    p->produced += n;
    *written = n;
    *eof = 0;
    if (n > 0)
        return 0;
    if (!p->paused) {
        p->paused = 1;
        p->wake = evtimer_new(p->base, wake_cb, req);
        struct timeval tv = {0, 50000};
        evtimer_add(p->wake, &tv);
        return HXC_PAUSE;
    }
    p->calls_after_end++;
    *eof = 1;
    return 0;
}

/* Reads the head and the whole Content-Length body, thinks `think_ms`, then
 * answers "done"; serves further requests on the connection the same way. */
/* Reads the Content-Length body that follows `head`. 0, or -1. */
static int take_body(rawpeer *p, int fd, const char *head, think_arg *a)
{
    static char body[65536];
    const char *cl = strcasestr(head, "\r\ncontent-length:");
    unsigned long long left = cl ? strtoull(cl + 17, NULL, 10) : 0;
    while (left > 0) {
        ssize_t k = rawpeer_recv(p, fd, body, left < sizeof(body) ? left : sizeof(body), 10000);
        if (k <= 0)
            return -1;
        left -= (unsigned long long)k;
    }
    atomic_store(&a->got_body, 1);
    return 0;
}

static void think_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    think_arg *a = arg;
    char head[8192];
    while (rawpeer_recv_head(p, fd, head, sizeof(head), 10000) > 0) {
        if (take_body(p, fd, head, a) != 0 || rawpeer_hold(p, a->think_ms) != 0 ||
            rawpeer_send_str(p, fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone") != 0)
            return;
    }
}

/* One upload to `script` (write timeout 0.2 s, read timeout 5 s), run to its
 * end; the outcome is copied out and everything is freed before the caller
 * asserts, so that a failure leaks nothing. */
typedef struct outcome {
    int err, status;
    char body[16], detail[200];
    double took;
    unsigned accepted;
} outcome;

static void run_upload(rawpeer_script script, void *script_arg, hxc_body_producer produce,
                       producer *p, int head_cb, outcome *o);

/* 200 KiB from a producer of known length that ends in a call of its own; the
 * server answers 0.6 s after it read the body; write timeout 0.2 s, read
 * timeout 5 s. The request must succeed: the body left long before. */
static void test_h1_producer_ending_alone_gets_read_timeout(void **state)
{
    (void)state;
    think_arg a;
    memset(&a, 0, sizeof(a));
    a.think_ms = 600;
    producer p;
    memset(&p, 0, sizeof(p));
    p.total = 200 * 1024;
    outcome o;
    run_upload(think_script, &a, produce_then_end, &p, 0, &o);
    print_message("HTTP/1.1 upload, end in a call of its own: %s (%s) after %.2f s; server "
                  "read the body: %d; producer calls after the end: %d\n",
                  hxc_error_name(o.err), o.detail, o.took, atomic_load(&a.got_body),
                  p.calls_after_end);
    assert_int_equal(p.produced, p.total);
    assert_true(atomic_load(&a.got_body));
    assert_int_equal(p.calls_after_end, 1);
    if (o.err != 0)
        fail_msg("the body had left %d ms before the answer; the request failed with %s (%s)",
                 a.think_ms, hxc_error_name(o.err), o.detail);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "done");
}

/* ---- a server that answers the head first ---------------------------------- */

/* Sends its response head (Content-Length 4) as soon as the request head is
 * in, reads the whole body, thinks `think_ms`, then sends the 4 body bytes:
 * what a server that validates the headers before taking the upload does. */
static void early_head_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    think_arg *a = arg;
    char head[8192];
    while (rawpeer_recv_head(p, fd, head, sizeof(head), 10000) > 0) {
        if (rawpeer_send_str(p, fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n") != 0)
            return;
        for (int i = 0; a->wait_for_head && !atomic_load(&a->head_seen) && i < 5000; i++)
            usleep(1000);
        if (take_body(p, fd, head, a) != 0 || rawpeer_hold(p, a->think_ms) != 0 ||
            rawpeer_send_str(p, fd, "done") != 0)
            return;
    }
}

/* Gives half of `total`, then waits (HXC_PAUSE) until the response head has
 * reached the caller (head_cb resumes it), then the rest, eof with the last
 * bytes: the upload ends strictly after the response began. */
static int produce_around_head(hxc_request *req, uint8_t *buf, size_t len, size_t *written,
                               int *eof, void *ud)
{
    (void)req;
    producer *p = ud;
    *written = 0;
    *eof = 0;
    if (p->produced >= p->total / 2 && !p->head_seen) {
        p->paused = 1;
        return HXC_PAUSE;
    }
    uint64_t left = p->total - p->produced;
    size_t n = left < len ? (size_t)left : len;
    memset(buf, 'u', n);
    p->produced += n;
    *written = n;
    *eof = p->produced == p->total;
    if (*eof)
        p->head_then_end = p->head_seen;
    return 0;
}

static int head_cb(hxc_response *r, void *ud)
{
    producer *p = ud;
    p->head_seen = 1;
    if (p->peer != NULL)
        atomic_store(&p->peer->head_seen, 1);
    if (p->paused)
        hxc_request_resume_body(hxc_response_request(r));
    return 0;
}

static void run_upload(rawpeer_script script, void *script_arg, hxc_body_producer produce,
                       producer *p, int with_head_cb, outcome *o)
{
    memset(o, 0, sizeof(*o));
    rawpeer *peer = rawpeer_start(script, script_arg);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.write_timeout = 0.2;
    cfg.read_timeout = 5;
    cfg.total_timeout = 20;
    itest t;
    itest_open(&t, &cfg);
    p->base = t.base;
    char url[128];
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", rawpeer_url(peer, "/upload", url, sizeof(url))),
                     0);
    uint8_t *body = NULL;
    if (produce != NULL) {
        assert_int_equal(hxc_request_set_body_producer(req, produce, (int64_t)p->total, p), 0);
    } else { /* a static body of p->total bytes */
        body = malloc(p->total);
        assert_non_null(body);
        memset(body, 's', p->total);
        assert_int_equal(hxc_request_set_body_static(req, body, p->total), 0);
    }
    if (with_head_cb)
        assert_int_equal(hxc_request_on_response_stream(req, head_cb, NULL, p), 0);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_non_null(f);
    double t0 = rf_now();
    o->err = hxc_future_wait(f);
    o->took = rf_now() - t0;
    hxc_response *r = hxc_future_response(f);
    o->status = hxc_response_status(r);
    snprintf(o->detail, sizeof(o->detail), "%s", hxc_response_error_detail(r));
    size_t n;
    const char *b = (const char *)hxc_response_body(r, &n);
    snprintf(o->body, sizeof(o->body), "%.*s", n < 15 ? (int)n : 15, b ? b : "");
    hxc_future_free(f);
    if (p->wake != NULL)
        event_free(p->wake);
    p->wake = NULL;
    itest_close(&t);
    o->accepted = (unsigned)rawpeer_accepted(peer);
    rawpeer_stop(peer);
    free(body);
}

/* 1 MiB from a producer (its last bytes and eof in one call) that waits for
 * the response head half way; the server answers the head at once, reads
 * the body, thinks 0.6 s and ends the body; write timeout 0.2 s, read
 * timeout 5 s. Everything was written long before: the wait for the rest of
 * the response is a read. */
static void test_h1_upload_after_early_head_gets_read_timeout(void **state)
{
    (void)state;
    think_arg a;
    memset(&a, 0, sizeof(a));
    a.think_ms = 600;
    producer p;
    memset(&p, 0, sizeof(p));
    p.total = 1u << 20;
    outcome o;
    run_upload(early_head_script, &a, produce_around_head, &p, 1, &o);
    print_message("HTTP/1.1 upload after an early response head: %s (%s) after %.2f s; server "
                  "read the body: %d; the head came before the body's end: %d\n",
                  hxc_error_name(o.err), o.detail, o.took, atomic_load(&a.got_body),
                  p.head_then_end);
    assert_int_equal(p.produced, p.total);
    assert_true(p.head_then_end);
    assert_true(atomic_load(&a.got_body));
    if (o.err != 0)
        fail_msg("the body had left %d ms before the rest of the response; the request failed "
                 "with %s (%s)",
                 a.think_ms, hxc_error_name(o.err), o.detail);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "done");
}

/* ---- many uploads on one HTTP/2 session, a steady reader ------------------ */

/* The reader wakes every DRAIN_MS and takes everything the kernel holds for
 * it, with a small receive buffer (64 KiB): the client's socket takes bytes
 * every DRAIN_MS or so, at about 1 MB/s on loopback, all the time. (A
 * reader that takes a few KiB at a time instead meets TCP's window rules:
 * the window reopens only by a segment's worth, and the sender then sees
 * pauses of half a second; draining reopens it whole at each wake-up.) */
#define DRAIN_MS   100
#define STREAMS    40
#define PER_STREAM (64u << 10)

typedef struct drain_arg {
    atomic_ullong taken;   /* bytes the reader took */
    atomic_int answered;   /* streams answered (their END_STREAM arrived) */
    atomic_int longest_ms; /* the longest the reader waited between two reads of bytes */
} drain_arg;

/* HTTP/2 with windows opened wide (flow control never stops the client);
 * frames parsed from what the drains bring; a stream is answered "ok" when
 * its END_STREAM arrives. */
static void drain_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    drain_arg *a = arg;
    int small = 32 << 10;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    rf_shrink_client_sndbuf(fd);
    if (rf_accept_wide(p, fd) != 0)
        return;
    size_t cap = 4u << 20, len = 0;
    uint8_t *b = malloc(cap);
    if (b == NULL)
        return;
    double last = rf_now();
    for (;;) {
        while (len >= 9) {
            size_t flen = (size_t)b[0] << 16 | (size_t)b[1] << 8 | b[2];
            if (len < 9 + flen)
                break;
            uint8_t type = b[3], flags = b[4];
            uint32_t id =
                ((uint32_t)b[5] << 24 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 8 | b[8]) &
                0x7fffffffu;
            if ((type == RAWPEER_HEADERS || type == RAWPEER_DATA) && (flags & RAWPEER_END_STREAM)) {
                if (rawpeer_h2_respond(p, fd, id, 200, 0, NULL) != 0 ||
                    rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, "ok", 2) != 0)
                    goto out;
                atomic_fetch_add(&a->answered, 1);
            }
            memmove(b, b + 9 + flen, len - 9 - flen);
            len -= 9 + flen;
        }
        if (rawpeer_hold(p, DRAIN_MS) != 0)
            goto out;
        for (;;) {
            if (len == cap)
                goto out;
            ssize_t k = recv(fd, b + len, cap - len, MSG_DONTWAIT);
            if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                goto out;
            if (k < 0)
                break;
            len += (size_t)k;
            atomic_fetch_add(&a->taken, (unsigned long long)k);
            double t = rf_now();
            if ((int)((t - last) * 1000) > atomic_load(&a->longest_ms))
                atomic_store(&a->longest_ms, (int)((t - last) * 1000));
            last = t;
        }
    }
out:
    free(b);
}

typedef struct uploads {
    int done, ok;
    int first_err;
    char detail[200];
} uploads;

static void upload_cb(hxc_response *r, int err, void *ud)
{
    uploads *u = ud;
    u->done++;
    if (err == 0 && hxc_response_status(r) == 200) {
        u->ok++;
    } else if (u->first_err == 0) {
        u->first_err = err;
        snprintf(u->detail, sizeof(u->detail), "%s", hxc_response_error_detail(r));
    }
}

/* STREAMS uploads of 64 KiB at once on one HTTP/2 session, to a reader that
 * takes what the kernel holds every 100 ms: the connection makes progress
 * all the time (the reader reports its longest wait), so a write timeout of
 * 0.5 s must stay quiet. The session shares the socket among the streams:
 * each one's frames leave the queue once per turn of all of them. */
static void test_h2_many_uploads_to_a_steady_reader(void **state)
{
    (void)state;
    drain_arg a;
    memset(&a, 0, sizeof(a));
    rawpeer *peer = rawpeer_start(drain_script, &a);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.write_timeout = 0.5;
    cfg.read_timeout = 10;
    cfg.total_timeout = 60;
    itest t;
    itest_open(&t, &cfg);
    static uint8_t body[PER_STREAM];
    memset(body, 'u', sizeof(body));
    char url[128];
    rawpeer_url(peer, "/many", url, sizeof(url));
    uploads u;
    memset(&u, 0, sizeof(u));
    double t0 = rf_now();
    for (int i = 0; i < STREAMS; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "POST", url), 0);
        assert_int_equal(hxc_request_set_body_static(req, body, sizeof(body)), 0);
        assert_int_equal(hxc_client_send(t.client, req, upload_cb, &u), 0);
    }
    itest_run_until(t.base, &u.done, STREAMS);
    double took = rf_now() - t0;
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    itest_close(&t);
    rawpeer_stop(peer);
    print_message("%d HTTP/2 uploads of %u KiB, one session (%llu opened): %d ok in %.2f s, the "
                  "reader took %llu KiB and never waited more than %d ms between two reads; "
                  "first error %s (%s)\n",
                  STREAMS, PER_STREAM >> 10, (unsigned long long)st.connections_opened, u.ok, took,
                  (unsigned long long)(atomic_load(&a.taken) >> 10), atomic_load(&a.longest_ms),
                  hxc_error_name(u.first_err), u.detail);
    assert_int_equal(st.connections_opened, 1);
    if (u.ok != STREAMS)
        fail_msg("%d of %d uploads failed, the first with %s (%s), while the socket took bytes "
                 "at least every %d ms",
                 STREAMS - u.ok, STREAMS, hxc_error_name(u.first_err), u.detail,
                 atomic_load(&a.longest_ms));
}

/* The same with a static body of 64 MiB (by reference): the server reads
 * none of it before the head has reached the caller, so the body's last
 * bytes leave after the response began. */
static void test_h1_static_upload_after_early_head_gets_read_timeout(void **state)
{
    (void)state;
    think_arg a;
    memset(&a, 0, sizeof(a));
    a.think_ms = 600;
    a.wait_for_head = 1;
    producer p;
    memset(&p, 0, sizeof(p));
    p.total = 64u << 20;
    p.peer = &a;
    outcome o;
    run_upload(early_head_script, &a, NULL, &p, 1, &o);
    print_message("HTTP/1.1 static upload after an early response head: %s (%s) after %.2f s; "
                  "server read the body: %d; head seen: %d\n",
                  hxc_error_name(o.err), o.detail, o.took, atomic_load(&a.got_body), p.head_seen);
    assert_true(p.head_seen);
    assert_true(atomic_load(&a.got_body));
    if (o.err != 0)
        fail_msg("the body had left %d ms before the rest of the response; the request failed "
                 "with %s (%s)",
                 a.think_ms, hxc_error_name(o.err), o.detail);
    assert_int_equal(o.status, 200);
    assert_string_equal(o.body, "done");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h1_producer_ending_alone_gets_read_timeout),
        cmocka_unit_test(test_h1_upload_after_early_head_gets_read_timeout),
        cmocka_unit_test(test_h1_static_upload_after_early_head_gets_read_timeout),
        cmocka_unit_test(test_h2_many_uploads_to_a_steady_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
