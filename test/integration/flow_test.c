/* SPDX-License-Identifier: MIT */
/*
 * Integration: flow. Every library task yields to the
 * loop after a bounded amount of work, and every buffer a peer or a producer
 * can fill has a high-water mark:
 * - a 10 ms timer of the caller's own, on the client's event_base, keeps
 *   ticking through large uploads (producer and static bodies, to a peer
 *   that reads faster than the client writes) and downloads (buffered and
 *   streamed), over HTTP/1.1 and HTTP/2, cleartext and TLS, and no loop turn
 *   moves more than a few megabytes;
 * - a future cancelled from a timer in the middle of an upload is cancelled
 *   there, not after the whole body went;
 * - an HTTP/2 server that opens its windows and stops reading stops the
 *   producer near the mark and the client's memory with it, the request ends
 *   with a write timeout, and the connection with bytes still queued is not
 *   filed as idle (nor kept for ever);
 * - a peer that sends SETTINGS and PINGs as fast as it can and never reads
 *   ends its connection with a protocol error (nghttp2's limit on the ACKs
 *   it owes), with the client's memory bounded, and is not reused.
 *
 * FLOW_ONLY=pattern runs only the tests whose names match (cmocka's filter).
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "rawpeer.h"

ITEST_SERVER_FIXTURE

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- what the client holds ---------------------------------------------- */

/* Every allocation of the library (its allocator hooks) and of libevent (the
 * transport's write queue is an evbuffer) is counted, set up in main() before
 * anything is made: a test reads the most that was live over a stretch. The
 * client is the only user of either in this process (the peers are threads
 * with plain malloc, the test server is another process). Counting, not the
 * process's RSS: that one also holds what a sanitizer keeps in quarantine. */
static size_t live, peak;

static void *count(void *p)
{
    if (p != NULL && (live += malloc_usable_size(p)) > peak)
        peak = live;
    return p;
}

static void *m_malloc(size_t n) { return count(malloc(n)); }
static void m_free(void *p)
{
    live -= p ? malloc_usable_size(p) : 0;
    free(p);
}
static void *m_realloc(void *p, size_t n)
{
    size_t before = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q == NULL)
        return NULL;
    live -= before;
    return count(q);
}
static void *h_malloc(size_t n, void *ud) { return (void)ud, m_malloc(n); }
static void *h_realloc(void *p, size_t n, void *ud) { return (void)ud, m_realloc(p, n); }
static void h_free(void *p, void *ud) { (void)ud, m_free(p); }

static void meter_install(void)
{
    static const hxc_allocator a = {h_malloc, h_realloc, h_free, NULL};
    hxc_set_allocator(&a);
    event_set_mem_functions(m_malloc, m_realloc, m_free);
}

/* Starts a stretch: returns what is live now. */
static size_t meter_start(void)
{
    peak = live;
    return live;
}

/* The most the client held over the stretch, beyond what it held at its start. */
static size_t meter_grew(size_t at_start) { return peak > at_start ? peak - at_start : 0; }

/* ---- the caller's timer ------------------------------------------------ */

/* Two timers of the caller's while a transfer runs: a 10 ms persistent one,
 * whose ticks must keep pace with the clock, and a zero-delay one re-added
 * each time it fires, which fires once per loop turn: it samples how far the
 * transfer went (`progress`: bytes produced, sent or received) and keeps the
 * most it moved in one turn. That one counts bytes, not time: a turn that
 * moved a hundred megabytes shows even on a loaded machine, where ticks
 * missed could also be the scheduler's. */
typedef struct ticker {
    struct event *ev, *turn_ev;
    int running;
    int ticks;
    double t0, t1;
    const _Atomic uint64_t *progress; /* NULL: only ticks are counted */
    uint64_t last, most;
} ticker;

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ticker *t = arg;
    if (t != NULL && t->running)
        t->ticks++;
}

static void turn_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    static const struct timeval next = {0, 0};
    ticker *t = arg;
    if (t->running && t->progress != NULL) {
        uint64_t now = atomic_load_explicit(t->progress, memory_order_relaxed);
        if (now - t->last > t->most)
            t->most = now - t->last;
        t->last = now;
    }
    evtimer_add(t->turn_ev, &next);
}

static void ticker_init(ticker *t, struct event_base *base, const _Atomic uint64_t *progress)
{
    memset(t, 0, sizeof(*t));
    t->progress = progress;
    t->ev = event_new(base, -1, EV_PERSIST, tick_cb, t);
    t->turn_ev = evtimer_new(base, turn_cb, t);
    assert_non_null(t->ev);
    assert_non_null(t->turn_ev);
    struct timeval tv = {0, 10000}, next = {0, 0};
    assert_int_equal(evtimer_add(t->ev, &tv), 0);
    assert_int_equal(evtimer_add(t->turn_ev, &next), 0);
}

/* The transfer started (first byte produced, response head in). */
static void ticker_go(ticker *t)
{
    if (!t->running && t->t1 == 0) {
        t->running = 1;
        t->t0 = now_s();
        t->last = t->progress ? atomic_load_explicit(t->progress, memory_order_relaxed) : 0;
    }
}

/* The transfer is over: the 10 ms timer ticked at least a fifth of what the
 * time allowed (a loop the transfer froze ticks once or twice), and no loop
 * turn moved more than 32 MiB (the library's tasks move a megabyte or two
 * per turn; the rest is what the kernel buffers between the two ends). */
static void ticker_check(ticker *t, const char *what)
{
    t->t1 = now_s();
    t->running = 0;
    event_free(t->ev);
    event_free(t->turn_ev);
    double took = t->t1 - t->t0;
    int expected = (int)(took / 0.010);
    print_message("%s: %.3f s, %d ticks of 10 ms (%d possible)", what, took, t->ticks, expected);
    if (t->progress != NULL)
        print_message(", at most %llu KiB in a turn", (unsigned long long)(t->most >> 10));
    print_message("\n");
    if (expected >= 10 && t->ticks < expected / 5)
        fail_msg("%s: the caller's 10 ms timer ticked %d times in %.3f s", what, t->ticks, took);
    if (t->most > (32u << 20))
        fail_msg("%s: %llu bytes in one loop turn", what, (unsigned long long)t->most);
}

/* ---- uploads ------------------------------------------------------------ */

typedef struct producer {
    uint64_t total;
    _Atomic uint64_t produced;
    ticker *tk;
    int spin_us; /* time spent making each piece (a producer that computes its data) */
} producer;

/* Busy for `us` microseconds: a consumer or producer that does some work. */
static void spin(double us)
{
    double until = now_s() + us / 1e6;
    while (now_s() < until)
        ;
}

static int produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof, void *ud)
{
    (void)req;
    producer *p = ud;
    if (p->tk != NULL)
        ticker_go(p->tk);
    uint64_t left = p->total - atomic_load(&p->produced);
    size_t n = left < len ? (size_t)left : len;
    spin(p->spin_us);
    memset(buf, 'u', n);
    *written = n;
    *eof = (p->produced += n) == p->total;
    return 0;
}

static hxc_future *start_upload(itest *t, const char *url, producer *p, const void *body,
                                size_t len)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", url), 0);
    if (p != NULL)
        assert_int_equal(hxc_request_set_body_producer(req, produce, (int64_t)p->total, p), 0);
    else
        assert_int_equal(hxc_request_set_body_static(req, body, len), 0);
    hxc_future *f = hxc_client_request(t->client, req);
    assert_non_null(f);
    return f;
}

/* /sink answered with the length of the body it read. */
static void assert_sunk(hxc_future *f, uint64_t len)
{
    itest_assert_ok(f, 200);
    size_t n;
    const char *b = (const char *)hxc_response_body(hxc_future_response(f), &n);
    char want[32];
    snprintf(want, sizeof(want), "%llu\n", (unsigned long long)len);
    if (n != strlen(want) || memcmp(b, want, n) != 0)
        fail_msg("/sink read %.*s bytes, not %s", (int)n, b, want);
}

/* ---- a fast sink ------------------------------------------------------- */

/* A server that takes request bodies faster than the client can send them
 * (the project's test server reads 16 KiB per loop turn; nginx reads fast
 * enough that the client's socket never fills, which is what froze its loop)
 * and answers each with the body's length: a thread of the rawpeer's that
 * reads 16 MiB per recv and drops HTTP/1.1 bodies uncopied. Over HTTP/2
 * (`arg` is &speak_h2) it opens its windows to 2^31 - 1 first. */
static int speak_h2;
static _Atomic uint64_t sink_bytes; /* body bytes the sink took, for the tickers */

typedef struct rbuf {
    uint8_t *b;
    size_t len, off, cap;
} rbuf;

/* At least `n` bytes (n <= cap) at r->b + r->off: 0, or -1 at EOF or error. */
static int rbuf_need(rawpeer *p, int fd, rbuf *r, size_t n)
{
    if (r->len - r->off >= n)
        return 0;
    memmove(r->b, r->b + r->off, r->len - r->off);
    r->len -= r->off;
    r->off = 0;
    while (r->len < n) {
        ssize_t k = rawpeer_recv(p, fd, r->b + r->len, r->cap - r->len, 10000);
        if (k <= 0)
            return -1;
        r->len += (size_t)k;
    }
    return 0;
}

/* Drops the next `n` bytes of the stream: the kernel frees them uncopied
 * (MSG_TRUNC), so this reader always keeps ahead of the client. */
static int drop(rawpeer *p, int fd, rbuf *r, uint64_t n)
{
    while (n > 0) {
        /* Not written, but offered whole (a sanitizer checks the length). */
        size_t want = n < r->cap ? (size_t)n : r->cap;
        ssize_t k = recv(fd, r->b, want, MSG_TRUNC | MSG_DONTWAIT);
        if (k > 0) {
            n -= (uint64_t)k;
            sink_bytes += (uint64_t)k;
            continue;
        }
        if (k == 0 || (errno != EAGAIN && errno != EINTR))
            return -1;
        struct pollfd pfd = {fd, POLLIN, 0};
        if (rawpeer_stopping(p) || poll(&pfd, 1, 50) < 0)
            return -1;
    }
    return 0;
}

static void sink_answer_h1(rawpeer *p, int fd, unsigned long long n)
{
    char out[128], body[32];
    int bl = snprintf(body, sizeof(body), "%llu\n", n);
    snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", bl, body);
    rawpeer_send_str(p, fd, out);
}

static void sink_h1(rawpeer *p, int fd, rbuf *r)
{
    for (;;) {
        /* The head, up to its blank line. */
        size_t end = 0;
        for (;;) {
            uint8_t *h = r->b + r->off;
            size_t have = r->len - r->off;
            for (size_t i = 3; i < have && end == 0; i++)
                if (memcmp(h + i - 3, "\r\n\r\n", 4) == 0)
                    end = i + 1;
            if (end != 0)
                break;
            if (have == r->cap || rbuf_need(p, fd, r, have + 1) != 0)
                return;
        }
        char head[4096];
        size_t hl = end < sizeof(head) - 1 ? end : sizeof(head) - 1;
        memcpy(head, r->b + r->off, hl);
        head[hl] = '\0';
        r->off += end;
        const char *cl = strcasestr(head, "\r\ncontent-length:");
        unsigned long long left = cl ? strtoull(cl + 17, NULL, 10) : 0, n = left;
        size_t take = r->len - r->off < left ? r->len - r->off : (size_t)left;
        r->off += take;
        left -= take;
        sink_bytes += take;
        if (drop(p, fd, r, left) != 0)
            return;
        sink_answer_h1(p, fd, n);
    }
}

static void sink_h2(rawpeer *p, int fd, rbuf *r)
{
    const uint32_t settings[] = {0x4 /* INITIAL_WINDOW_SIZE */, 0x7fffffff};
    if (rawpeer_h2_accept(p, fd, settings, 1, 5000) != 0)
        return;
    const uint8_t grow[4] = {0x7f, 0xff, 0x00, 0x00}; /* the connection window to 2^31 - 1 */
    if (rawpeer_h2_send(p, fd, RAWPEER_WINDOW_UPDATE, 0, 0, grow, 4) != 0)
        return;
    unsigned long long n = 0;
    for (;;) {
        if (rbuf_need(p, fd, r, 9) != 0)
            return;
        const uint8_t *h = r->b + r->off;
        size_t len = (size_t)h[0] << 16 | (size_t)h[1] << 8 | h[2];
        uint8_t type = h[3], flags = h[4];
        uint32_t id = ((uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 8 | h[8]) &
                      0x7fffffffu;
        if (9 + len > r->cap || rbuf_need(p, fd, r, 9 + len) != 0)
            return;
        r->off += 9 + len;
        if (type == RAWPEER_HEADERS)
            n = 0;
        else if (type == RAWPEER_DATA)
            n += len, sink_bytes += len;
        if ((type == RAWPEER_HEADERS || type == RAWPEER_DATA) && (flags & RAWPEER_END_STREAM)) {
            char body[32];
            int bl = snprintf(body, sizeof(body), "%llu\n", n);
            if (rawpeer_h2_respond(p, fd, id, 200, 0, NULL) != 0 ||
                rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, body, (uint32_t)bl) !=
                    0)
                return;
        }
    }
}

static void sink_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    rbuf r = {malloc(16u << 20), 0, 0, 16u << 20};
    if (r.b == NULL)
        return;
    if (arg == &speak_h2)
        sink_h2(p, fd, &r);
    else
        sink_h1(p, fd, &r);
    free(r.b);
}

/* 256 MiB from a producer that takes 100 us per 64 KiB piece (0.4 s at
 * least), or a static body of 1 GiB (sent by reference: as fast as loopback
 * goes, a quarter of a second or more). */
static void upload_ticks(int h2, int from_producer)
{
    rawpeer *peer = rawpeer_start(sink_script, h2 ? &speak_h2 : NULL);
    assert_non_null(peer);
    char url[128];
    rawpeer_url(peer, "/sink", url, sizeof(url));
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    itest t;
    itest_open(&t, &cfg);
    ticker tk;
    uint64_t size = from_producer ? 256ull << 20 : 1ull << 30;
    producer p = {size, 0, &tk, 100};
    sink_bytes = 0;
    ticker_init(&tk, t.base, from_producer ? &p.produced : &sink_bytes);
    uint8_t *body = NULL;
    if (!from_producer) {
        body = malloc(size);
        assert_non_null(body);
        memset(body, 's', size);
    }
    hxc_future *f = start_upload(&t, url, from_producer ? &p : NULL, body, size);
    if (!from_producer)
        ticker_go(&tk);
    assert_int_equal(hxc_future_wait(f), 0);
    char what[64];
    snprintf(what, sizeof(what), "%s upload of %s", h2 ? "HTTP/2" : "HTTP/1.1",
             from_producer ? "256 MiB (producer)" : "1 GiB (static body)");
    ticker_check(&tk, what);
    assert_sunk(f, size);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)),
                        h2 ? "HTTP/2" : "HTTP/1.1");
    hxc_future_free(f);
    free(body);
    itest_close(&t);
    rawpeer_stop(peer);
}

static void test_timer_ticks_during_h1_upload(void **state)
{
    (void)state;
    upload_ticks(0, 1);
    upload_ticks(0, 0);
}

static void test_timer_ticks_during_h2_upload(void **state)
{
    (void)state;
    upload_ticks(1, 1);
    upload_ticks(1, 0);
}

static void cancel_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    hxc_future_cancel(arg);
}

/* Cancelled from the caller's 30 ms timer: the cancel lands while the body is
 * being sent, so most of it is never produced (at 64 KiB per 100 us at most,
 * half of it takes 0.8 s). */
static void cancel_upload(int h2)
{
    rawpeer *peer = rawpeer_start(sink_script, h2 ? &speak_h2 : NULL);
    assert_non_null(peer);
    char url[128];
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    itest t;
    itest_open(&t, &cfg);
    producer p = {1ull << 30, 0, NULL, 100};
    hxc_future *f = start_upload(&t, rawpeer_url(peer, "/sink", url, sizeof(url)), &p, NULL, 0);
    struct event *tm = evtimer_new(t.base, cancel_cb, f);
    struct timeval tv = {0, 30000};
    evtimer_add(tm, &tv);
    assert_int_equal(hxc_future_wait(f), HXC_ECANCELLED);
    print_message("%s: cancelled after %llu of %llu bytes produced\n", h2 ? "HTTP/2" : "HTTP/1.1",
                  (unsigned long long)p.produced, (unsigned long long)p.total);
    assert_true(p.produced < p.total / 2);
    event_free(tm);
    hxc_future_free(f);
    /* The client goes on. */
    f = itest_fetch(t.client, "GET", rawpeer_url(peer, "/hello", url, sizeof(url)), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
    rawpeer_stop(peer);
}

static void test_cancel_from_timer_during_upload(void **state)
{
    (void)state;
    cancel_upload(0);
    cancel_upload(1);
}

/* ---- downloads ---------------------------------------------------------- */

typedef struct download {
    ticker *tk;
    _Atomic uint64_t bytes;
} download;

static int dl_head(hxc_response *r, void *ud)
{
    (void)r;
    ticker_go(((download *)ud)->tk);
    return 0;
}

/* A consumer that works on what it gets (4 us per KiB, 256 MB/s at most): the
 * server stays ahead, and what the socket and OpenSSL hold is always more. */
static int dl_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r;
    (void)d;
    ((download *)ud)->bytes += n;
    spin((double)n / 256.0);
    return 0;
}

#define DOWNLOAD_BIG (96u << 20)

static void download_ticks(const testsrv *s, int tls, int h2, int streamed)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    char ca[512];
    if (tls) {
        snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
        cfg.ca_file = ca;
        cfg.http2 = h2;
    } else {
        cfg.http2_prior_knowledge = h2;
    }
    itest t;
    itest_open(&t, &cfg);
    ticker tk;
    download dl = {&tk, 0};
    ticker_init(&tk, t.base, streamed ? &dl.bytes : NULL);
    char path[64];
    snprintf(path, sizeof(path), "/bytes/%u", DOWNLOAD_BIG);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(s, tls, path)), 0);
    assert_int_equal(hxc_request_on_response_stream(req, dl_head, streamed ? dl_body : NULL, &dl),
                     0);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    char what[80];
    snprintf(what, sizeof(what), "%s%s download of 96 MiB (%s)", h2 ? "HTTP/2" : "HTTP/1.1",
             tls ? " over TLS" : "", streamed ? "streamed" : "buffered");
    ticker_check(&tk, what);
    itest_assert_ok(f, 200);
    hxc_response *r = hxc_future_response(f);
    assert_string_equal(hxc_response_http_version(r), h2 ? "HTTP/2" : "HTTP/1.1");
    size_t len;
    hxc_response_body(r, &len);
    assert_int_equal(streamed ? dl.bytes : len, DOWNLOAD_BIG);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_timer_ticks_during_download(void **state)
{
    (void)state;
    for (int h2 = 0; h2 <= 1; h2++)
        for (int streamed = 0; streamed <= 1; streamed++)
            download_ticks(&srv, 0, h2, streamed);
}

static void test_timer_ticks_during_tls_download(void **state)
{
    (void)state;
    testsrv tsrv;
    assert_int_equal(testsrv_start_tls(&tsrv, "server", NULL), 0);
    for (int h2 = 0; h2 <= 1; h2++)
        for (int streamed = 0; streamed <= 1; streamed++)
            download_ticks(&tsrv, 1, h2, streamed);
    testsrv_stop(&tsrv);
}

/* ---- an HTTP/2 server that opens its windows and stops reading ---------- */

/* A peer that stops reading, with a small receive buffer: the kernel then
 * holds little of what the client sends, and the client's own queue is
 * what fills (the tests are about that one). */
static void stop_reading(int fd)
{
    int small = 16384;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
}

static void stall_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    (void)arg;
    const uint32_t settings[] = {0x4 /* INITIAL_WINDOW_SIZE */, 0x7fffffff};
    if (rawpeer_h2_accept(p, fd, settings, 1, 5000) != 0)
        return;
    const uint8_t grow[4] = {0x7f, 0xff, 0x00, 0x00}; /* the connection window to 2^31 - 1 */
    if (rawpeer_h2_send(p, fd, RAWPEER_WINDOW_UPDATE, 0, 0, grow, 4) != 0 ||
        rawpeer_h2_next_request(p, fd, 5000) < 0)
        return;
    stop_reading(fd);
    rawpeer_hold(p, -1);
}

/* A producer's 1 GiB, or a static body of 256 MiB (its memory is the
 * caller's; the client must not copy it all into its queue). */
static void stalled_upload(int from_producer)
{
    rawpeer *peer = rawpeer_start(stall_script, NULL);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.write_timeout = 1;
    cfg.keepalive_expiry = 0.5;
    itest t;
    itest_open(&t, &cfg);
    size_t static_len = 256u << 20;
    uint8_t *body = NULL;
    if (!from_producer) {
        body = malloc(static_len);
        assert_non_null(body);
        memset(body, 's', static_len);
    }
    size_t held0 = meter_start();
    producer p = {1ull << 30, 0, NULL, 0};
    char url[128];
    hxc_future *f = start_upload(&t, rawpeer_url(peer, "/upload", url, sizeof(url)),
                                 from_producer ? &p : NULL, body, static_len);
    int err = hxc_future_wait(f);
    size_t grew = meter_grew(held0);
    print_message("stalled upload (%s): %s after %llu bytes produced, held at most +%zu KiB\n",
                  from_producer ? "producer" : "static body", hxc_error_name(err),
                  (unsigned long long)p.produced, grew >> 10);
    /* The producer stopped near the mark plus what the kernel buffers, and
     * the client never held more than about the mark: not the body. */
    assert_true(p.produced < (64u << 20));
    assert_true(grew < (8u << 20));
    /* The stream was still sending when the server stopped taking it. */
    itest_assert_err(f, HXC_ETIMEOUT_WRITE);
    hxc_future_free(f);
    /* Its connection still holds bytes that cannot leave: not idle. */
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_open, 1);
    assert_int_equal(st.connections_idle, 0);
    /* Nor is it kept for ever: it goes when it would have expired idle (a
     * timer of ours wakes the loop up should nothing else). */
    struct event *wake = event_new(t.base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval every = {0, 100000};
    evtimer_add(wake, &every);
    for (double end = now_s() + 10; st.connections_open > 0 && now_s() < end;) {
        event_base_loop(t.base, EVLOOP_ONCE);
        hxc_client_get_stats(t.client, &st);
    }
    event_free(wake);
    assert_int_equal(st.connections_open, 0);
    rawpeer_stop(peer);
    itest_close(&t);
    free(body);
}

static void test_h2_upload_to_a_server_that_stops_reading(void **state)
{
    (void)state;
    stalled_upload(1);
    stalled_upload(0);
}

/* ---- a peer that floods SETTINGS and PINGs and never reads -------------- */

static void flood_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)arg;
    if (rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0)
        return;
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0)
        return;
    if (index > 0) { /* the next connection is a polite one */
        rawpeer_h2_respond(p, fd, (uint32_t)id, 200, 1, NULL);
        rawpeer_drain_until_eof(p, fd, 10000);
        return;
    }
    stop_reading(fd);
    /* SETTINGS and PINGs, each asking for an ACK, as fast as the socket takes
     * them. The SETTINGS carry 20 (harmless) entries each: then no read of
     * the client's (64 KiB) brings nghttp2 1000 frames to acknowledge, which
     * would end the session within that one read whatever the client does
     * with its queue; the ACKs must pile up across reads. */
    static const uint8_t opaque[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t entries[20 * 6];
    for (int i = 0; i < 20; i++) {
        uint8_t *e = entries + 6 * i;
        int frame_size = i % 2 == 0; /* MAX_FRAME_SIZE 16384, MAX_HEADER_LIST_SIZE 65536 */
        e[0] = 0, e[1] = frame_size ? 0x5 : 0x6;
        e[2] = 0, e[3] = frame_size ? 0 : 1, e[4] = frame_size ? 0x40 : 0, e[5] = 0;
    }
    size_t cap = 20 * (9 + sizeof(entries)) + 5 * 17, n = 0;
    uint8_t *batch = malloc(cap);
    if (batch == NULL)
        return;
    for (int i = 0; i < 20; i++)
        n += rawpeer_h2_pack(batch + n, RAWPEER_SETTINGS, 0, 0, entries, sizeof(entries));
    for (int i = 0; i < 5; i++)
        n += rawpeer_h2_pack(batch + n, RAWPEER_PING, 0, 0, opaque, 8);
    while (rawpeer_send(p, fd, batch, n, 30000) == 0)
        ;
    free(batch);
}

static void test_h2_ping_flood_from_a_peer_that_never_reads(void **state)
{
    (void)state;
    rawpeer *peer = rawpeer_start(flood_script, NULL);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.total_timeout = 60; /* the bound on "never hangs" */
    itest t;
    itest_open(&t, &cfg);
    size_t held0 = meter_start();
    char url[128];
    double t0 = now_s();
    hxc_future *f = itest_start(t.client, "GET", rawpeer_url(peer, "/", url, sizeof(url)), NULL);
    int err = hxc_future_wait(f);
    size_t grew = meter_grew(held0);
    print_message("flooded: %s (%s) after %.2f s, held at most +%zu KiB\n", hxc_error_name(err),
                  hxc_response_error_detail(hxc_future_response(f)), now_s() - t0, grew >> 10);
    /* The ACKs it is owed pile up in nghttp2, which ends the session. */
    itest_assert_err(f, HXC_EPROTO_REMOTE);
    assert_true(grew < (4u << 20));
    hxc_future_free(f);
    /* That connection is gone: the next request opens another one. */
    f = itest_fetch(t.client, "GET", rawpeer_url(peer, "/", url, sizeof(url)), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 2);
    assert_int_equal(rawpeer_accepted(peer), 2);
    itest_close(&t);
    rawpeer_stop(peer);
}

int main(void)
{
    meter_install();
    if (getenv("FLOW_ONLY"))
        cmocka_set_test_filter(getenv("FLOW_ONLY"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_ticks_during_h1_upload),
        cmocka_unit_test(test_timer_ticks_during_h2_upload),
        cmocka_unit_test(test_cancel_from_timer_during_upload),
        cmocka_unit_test(test_timer_ticks_during_download),
        cmocka_unit_test(test_timer_ticks_during_tls_download),
        cmocka_unit_test(test_h2_upload_to_a_server_that_stops_reading),
        cmocka_unit_test(test_h2_ping_flood_from_a_peer_that_never_reads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
