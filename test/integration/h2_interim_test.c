/* SPDX-License-Identifier: MIT */
/*
 * Integration: HTTP/2 (h2c) responses whose :status nghttp2 lets through
 * but HTTP does not allow (000-099, 600-999), and more interim (1xx) heads
 * than a client takes, from a hand-packed raw peer. Each fails its request
 * with HXC_EPROTO_REMOTE and a RST_STREAM; the session goes on, and the
 * next request on it succeeds.
 */
#include <stdlib.h>

#include "itest.h"
#include "rawpeer.h"

#define MAX_HEADS 8

typedef struct peer_arg {
    /* The first request gets these heads (the last one ends the stream,
     * with a body "ok"); later ones a plain 200. */
    const char *statuses[MAX_HEADS];
    int nstatuses;
    /* What the peer saw (read after rawpeer_stop). */
    int requests;
    uint32_t first_stream;
    uint32_t rst_stream; /* a RST_STREAM from the client: its stream, 0 if none */
} peer_arg;

static int send_head(rawpeer *p, int fd, uint32_t id, const char *status, int final)
{
    uint8_t block[256];
    size_t n = rawpeer_hpack(block, ":status", status);
    if (final)
        n += rawpeer_hpack(block + n, "content-length", "2");
    if (rawpeer_h2_send(p, fd, RAWPEER_HEADERS, RAWPEER_END_HEADERS, id, block, (uint32_t)n) != 0)
        return -1;
    return final ? rawpeer_h2_send(p, fd, RAWPEER_DATA, RAWPEER_END_STREAM, id, "ok", 2) : 0;
}

static void script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    peer_arg *a = arg;
    rawpeer_frame *f = malloc(sizeof(*f));
    if (f == NULL || rawpeer_h2_accept(p, fd, NULL, 0, 10000) != 0) {
        free(f);
        return;
    }
    while (rawpeer_h2_recv(p, fd, f, 20000) == 0) {
        if (f->type == RAWPEER_RST_STREAM && a->rst_stream == 0)
            a->rst_stream = f->stream;
        if (f->type != RAWPEER_HEADERS)
            continue;
        int rv = 0;
        if (a->requests++ == 0) {
            a->first_stream = f->stream;
            for (int i = 0; i < a->nstatuses && rv == 0; i++)
                rv = send_head(p, fd, f->stream, a->statuses[i], i == a->nstatuses - 1);
        } else {
            rv = send_head(p, fd, f->stream, "200", 1);
        }
        if (rv != 0)
            break;
    }
    free(f);
}

/* Runs the first request against the heads of `a`, then a second one,
 * which must succeed on the same session; returns the first's future (the
 * caller frees it). */
static hxc_future *exchange(peer_arg *a)
{
    rawpeer *peer = rawpeer_start(script, a);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.total_timeout = 10;
    itest t;
    itest_open(&t, &cfg);
    char url[128];
    rawpeer_url(peer, "/", url, sizeof(url));
    hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
    hxc_future *g = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(g, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(g)), "HTTP/2");
    hxc_future_free(g);
    itest_close(&t);
    assert_int_equal(rawpeer_accepted(peer), 1); /* one session for both */
    rawpeer_stop(peer);
    return f;
}

static void expect_reset(const char *const *statuses, int n, const char *detail)
{
    peer_arg a;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < n; i++)
        a.statuses[i] = statuses[i];
    a.nstatuses = n;
    hxc_future *f = exchange(&a);
    itest_assert_err(f, HXC_EPROTO_REMOTE);
    const char *d = hxc_response_error_detail(hxc_future_response(f));
    if (strstr(d, detail) == NULL)
        fail_msg("detail \"%s\", want \"%s\"", d, detail);
    hxc_future_free(f);
    assert_int_equal(a.requests, 2);
    assert_int_equal(a.rst_stream, a.first_stream); /* the bad stream was reset */
}

static void test_status_range(void **state)
{
    (void)state;
    static const char *const bad[] = {"000", "099", "600", "999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_reset(&bad[i], 1, "status code out of range");
    /* Out of range after an interim head too. */
    static const char *const late[] = {"100", "000"};
    expect_reset(late, 2, "status code out of range");
    /* The edges of the range are fine. */
    peer_arg a;
    memset(&a, 0, sizeof(a));
    a.statuses[0] = "100";
    a.statuses[1] = "599";
    a.nstatuses = 2;
    hxc_future *f = exchange(&a);
    itest_assert_ok(f, 599);
    hxc_future_free(f);
}

static void test_interim_cap(void **state)
{
    (void)state;
    static const char *const six[] = {"103", "103", "100", "103", "103", "103", "200"};
    expect_reset(six, 7, "too many interim (1xx) responses");
    peer_arg a;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 5; i++)
        a.statuses[i] = "103";
    a.statuses[5] = "200";
    a.nstatuses = 6;
    hxc_future *f = exchange(&a);
    itest_assert_body(f, 200, "ok");
    hxc_future_free(f);
    assert_int_equal(a.rst_stream, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_range),
        cmocka_unit_test(test_interim_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
