/* SPDX-License-Identifier: MIT */
/*
 * Integration: flow, HTTP/2 sessions whose transport is over its
 * high-water mark (a peer that stopped reading):
 *
 * - a session that is going away (the server's graceful GOAWAY) and then
 *   broken by the server (DATA on stream 0) while the client's queue is
 *   full: the connection error must end the stream at once with
 *   HXC_EPROTO_REMOTE (docs/architecture.md, "Connection errors"), as it
 *   does when the queue has room; settle() learns of it only from the
 *   GOAWAY nghttp2 frames, which it does not frame over the mark;
 * - a PING/SETTINGS flooder that reads a little: the client's memory stays
 *   bounded;
 * - a peer that echoes a streamed upload back (reading only when its own
 *   writes are done): the exchange completes with bounded memory.
 */
#include <errno.h>
#include <unistd.h>

#include "flowpeers.h"

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24), b[1] = (uint8_t)(v >> 16), b[2] = (uint8_t)(v >> 8),
    b[3] = (uint8_t)v;
}

/* ---- a violation after a graceful GOAWAY, behind a full queue -------------- */

typedef struct goaway_arg {
    int graceful_first; /* GOAWAY(NO_ERROR) before the violation */
    atomic_int violated;
} goaway_arg;

/* Takes the first request, stops reading, lets the client's queue fill, then
 * (optionally) a graceful GOAWAY that keeps stream 1, then DATA on stream 0:
 * a connection error (PROTOCOL_ERROR). Never reads again. */
static void goaway_script(rawpeer *p, int fd, int index, void *arg)
{
    goaway_arg *a = arg;
    if (index > 0 || rf_accept_wide(p, fd) != 0 || rawpeer_h2_next_request(p, fd, 5000) < 0)
        return;
    rf_stop_reading(fd);
    if (rawpeer_hold(p, 300) != 0) /* the client fills its queue meanwhile */
        return;
    uint8_t b[8];
    put32(b, 1); /* last stream id: the upload goes on */
    put32(b + 4, 0);
    if (a->graceful_first && rawpeer_h2_send(p, fd, RAWPEER_GOAWAY, 0, 0, b, 8) != 0)
        return;
    /* Set first: nghttp2 sees the violation in the frame's header, and the
     * client may close before the payload's byte is sent. */
    atomic_store(&a->violated, 1);
    if (rawpeer_h2_send(p, fd, RAWPEER_DATA, 0, 0, "x", 1) != 0)
        return;
    rawpeer_hold(p, -1);
}

/* A 64 MiB upload (write and read timeouts 3 s); the peer breaks the session
 * once the client's queue is full. The stream must end with the connection
 * error, not wait for a timeout. */
static int violation_behind_full_queue(int graceful_first, double *took, char *detail, size_t dlen)
{
    goaway_arg a;
    memset(&a, 0, sizeof(a));
    a.graceful_first = graceful_first;
    rawpeer *peer = rawpeer_start(goaway_script, &a);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.write_timeout = 3;
    cfg.read_timeout = 3;
    cfg.total_timeout = 30;
    itest t;
    itest_open(&t, &cfg);
    rf_producer p = {64u << 20, 0};
    char url[128];
    hxc_future *f = rf_start_upload(t.client, rawpeer_url(peer, "/up", url, sizeof(url)), &p);
    int err = hxc_future_wait(f);
    *took = rf_now();
    snprintf(detail, dlen, "%s (%s)", hxc_error_name(err),
             hxc_response_error_detail(hxc_future_response(f)));
    hxc_future_free(f);
    itest_close(&t);
    rawpeer_stop(peer);
    if (!atomic_load(&a.violated))
        fail_msg("the request ended before the peer broke the session: %s after %.2f s", detail,
                 *took);
    print_message("%s: %s, %llu KiB produced\n",
                  graceful_first ? "graceful GOAWAY, then DATA on stream 0" : "DATA on stream 0",
                  detail, (unsigned long long)(p.produced >> 10));
    return err;
}

/* The control: the same violation without the GOAWAY before it is seen at
 * once (hxc__h2_recv asks nghttp2 whether requests are still allowed). */
static void test_h2_violation_behind_full_queue(void **state)
{
    (void)state;
    double took;
    char detail[256];
    int err = violation_behind_full_queue(0, &took, detail, sizeof(detail));
    if (err != HXC_EPROTO_REMOTE)
        fail_msg("expected HXC_EPROTO_REMOTE, got %s", detail);
}

static void test_h2_violation_after_goaway_behind_full_queue(void **state)
{
    (void)state;
    double took;
    char detail[256];
    int err = violation_behind_full_queue(1, &took, detail, sizeof(detail));
    if (err != HXC_EPROTO_REMOTE)
        fail_msg("the server broke the session after its graceful GOAWAY, with the client's "
                 "queue over the mark: expected HXC_EPROTO_REMOTE, got %s",
                 detail);
}

/* ---- a PING/SETTINGS flooder that reads a little ------------------------- */

/* After the first request: batches of 20 SETTINGS (20 entries each) and 5
 * PINGs, each batch followed by a read of at most 512 bytes of what the
 * client sends: it owes 25 ACKs per batch (about 300 bytes), so its queue
 * neither empties nor is left alone. Answers nothing. */
static void flood_script(rawpeer *p, int fd, int index, void *arg)
{
    (void)arg;
    if (index > 0 || rawpeer_h2_accept(p, fd, NULL, 0, 5000) != 0 ||
        rawpeer_h2_next_request(p, fd, 5000) < 0)
        return;
    rf_stop_reading(fd);
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
    char sink[512];
    while (rawpeer_send(p, fd, batch, n, 30000) == 0) {
        ssize_t k = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            break;
    }
    free(batch);
}

/* The request ends (a flood error, or the read timeout: the flooder never
 * answers) within its deadline, and the client never holds more than a few
 * MiB meanwhile. */
static void test_h2_flooder_that_reads_a_little(void **state)
{
    (void)state;
    rawpeer *peer = rawpeer_start(flood_script, NULL);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.read_timeout = 2;
    cfg.total_timeout = 20;
    itest t;
    itest_open(&t, &cfg);
    size_t held0 = rf_meter_start();
    char url[128];
    double t0 = rf_now();
    hxc_future *f = itest_start(t.client, "GET", rawpeer_url(peer, "/", url, sizeof(url)), NULL);
    int err = hxc_future_wait(f);
    size_t grew = rf_meter_grew(held0);
    print_message("flooder that reads a little: %s (%s) after %.2f s, held at most +%zu KiB\n",
                  hxc_error_name(err), hxc_response_error_detail(hxc_future_response(f)),
                  rf_now() - t0, grew >> 10);
    hxc_future_free(f);
    itest_close(&t);
    rawpeer_stop(peer);
    assert_true(err == HXC_EPROTO_REMOTE || err == HXC_ETIMEOUT_READ);
    assert_true(grew < (4u << 20));
}

/* ---- a peer that echoes the upload, reading only between its writes ------ */

#define ECHO_TOTAL (3u << 20) /* under the client's 4 MiB stream window */

typedef struct echo_arg {
    _Atomic uint64_t echoed;
} echo_arg;

/* Answers the first request's HEADERS with its own (no END_STREAM), then
 * sends back each DATA frame it reads, with a blocking send: while its write
 * waits for the client to read, it reads nothing. */
static void echo_script(rawpeer *p, int fd, int index, void *arg)
{
    echo_arg *a = arg;
    if (index > 0 || rf_accept_wide(p, fd) != 0)
        return;
    int32_t id = rawpeer_h2_next_request(p, fd, 5000);
    if (id < 0 || rawpeer_h2_respond(p, fd, (uint32_t)id, 200, 0, NULL) != 0)
        return;
    rf_shrink_client_sndbuf(fd); /* the client's own queue fills */
    rawpeer_frame *f = malloc(sizeof(*f));
    if (f == NULL)
        return;
    while (rawpeer_h2_recv(p, fd, f, 10000) == 0) {
        if (f->type != RAWPEER_DATA || f->stream != (uint32_t)id)
            continue;
        int end = f->flags & RAWPEER_END_STREAM;
        if (rawpeer_h2_send(p, fd, RAWPEER_DATA, end ? RAWPEER_END_STREAM : 0, (uint32_t)id,
                            f->payload, f->len) != 0)
            break;
        a->echoed += f->len;
        if (end)
            break;
    }
    free(f);
    rawpeer_hold(p, -1);
}

typedef struct echo_seen {
    _Atomic uint64_t bytes;
} echo_seen;

static int echo_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r;
    (void)d;
    ((echo_seen *)ud)->bytes += n;
    return 0;
}

/* 3 MiB streamed up and back down at once on one stream: it completes, the
 * consumer sees every byte, and the client holds a bounded amount. */
static void test_h2_echo_of_a_streamed_upload(void **state)
{
    (void)state;
    echo_arg a;
    memset(&a, 0, sizeof(a));
    rawpeer *peer = rawpeer_start(echo_script, &a);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.write_timeout = 5;
    cfg.read_timeout = 5;
    cfg.total_timeout = 30;
    itest t;
    itest_open(&t, &cfg);
    size_t held0 = rf_meter_start();
    rf_producer p = {ECHO_TOTAL, 0};
    echo_seen seen;
    memset(&seen, 0, sizeof(seen));
    char url[128];
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", rawpeer_url(peer, "/echo", url, sizeof(url))),
                     0);
    assert_int_equal(hxc_request_set_body_producer(req, rf_produce, (int64_t)p.total, &p), 0);
    assert_int_equal(hxc_request_on_response_stream(req, NULL, echo_body, &seen), 0);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_non_null(f);
    double t0 = rf_now();
    int err = hxc_future_wait(f);
    size_t grew = rf_meter_grew(held0);
    char detail[200];
    snprintf(detail, sizeof(detail), "%s", hxc_response_error_detail(hxc_future_response(f)));
    print_message("HTTP/2 echo of %u KiB: %s (%s) after %.2f s, %llu KiB echoed, %llu KiB "
                  "seen, held at most +%zu KiB\n",
                  ECHO_TOTAL >> 10, hxc_error_name(err), detail, rf_now() - t0,
                  (unsigned long long)(a.echoed >> 10), (unsigned long long)(seen.bytes >> 10),
                  grew >> 10);
    hxc_future_free(f);
    itest_close(&t);
    rawpeer_stop(peer);
    if (err != 0)
        fail_msg("the echo failed: %s (%s)", hxc_error_name(err), detail);
    assert_int_equal(seen.bytes, ECHO_TOTAL);
    assert_true(grew < (4u << 20));
}

int main(void)
{
    rf_meter_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h2_violation_behind_full_queue),
        cmocka_unit_test(test_h2_violation_after_goaway_behind_full_queue),
        cmocka_unit_test(test_h2_flooder_that_reads_a_little),
        cmocka_unit_test(test_h2_echo_of_a_streamed_upload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
