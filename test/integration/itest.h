/*
 * test/integration/itest.h - small helpers shared by the integration tests:
 * a loop + client fixture and one-line request helpers built on futures.
 * Header-only so that each test stays one file and one binary.
 */
#ifndef HXC_ITEST_H
#define HXC_ITEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "hxc/hxc.h"
#include "testsrv.h"

typedef struct itest {
    struct event_base *base;
    hxc_client *client;
    int closed;
} itest;

static inline void itest_closed_cb(hxc_client *c, void *ud)
{
    (void)c;
    ((itest *)ud)->closed = 1;
}

/** Opens a loop and a client; cfg may be NULL. */
static inline void itest_open(itest *t, const hxc_client_config *cfg)
{
    memset(t, 0, sizeof(*t));
    t->base = event_base_new();
    assert_non_null(t->base);
    assert_int_equal(hxc_client_open(&t->client, t->base, cfg), 0);
}

/** Closes the client gracefully, runs the loop until it has closed, frees the loop. */
static inline void itest_close(itest *t)
{
    assert_int_equal(hxc_client_close(t->client, itest_closed_cb, t), 0);
    for (int i = 0; !t->closed && i < 100000; i++)
        event_base_loop(t->base, EVLOOP_ONCE);
    assert_true(t->closed);
    event_base_free(t->base);
    t->base = NULL;
}

/** Starts a request; returns its future (never NULL). */
static inline hxc_future *itest_start(hxc_client *c, const char *method, const char *url,
                                      const char *body)
{
    hxc_request *req;
    int rv = hxc_request_new(&req, method, url);
    if (rv != 0)
        fail_msg("hxc_request_new(%s): %s", url, hxc_strerror(rv));
    if (body != NULL)
        assert_int_equal(hxc_request_set_body(req, body, strlen(body)), 0);
    hxc_future *f = hxc_client_request(c, req);
    assert_non_null(f);
    return f;
}

/** Runs one request to completion; returns its future (caller frees). */
static inline hxc_future *itest_fetch(hxc_client *c, const char *method, const char *url,
                                      const char *body)
{
    hxc_future *f = itest_start(c, method, url, body);
    hxc_future_wait(f);
    assert_true(hxc_future_done(f));
    return f;
}

/** Asserts that a finished future succeeded with `status`. */
#define itest_assert_ok(f, st)                                                                \
    do {                                                                                     \
        hxc_response *r_ = hxc_future_response(f);                                           \
        if (hxc_future_error(f) != 0)                                                        \
            fail_msg("%s: %s (%s)", hxc_response_url(r_), hxc_error_name(hxc_future_error(f)), \
                     hxc_response_error_detail(r_));                                         \
        assert_int_equal(hxc_response_status(r_), (st));                                     \
    } while (0)

/** Asserts that a finished future failed with exactly `err`. */
#define itest_assert_err(f, err)                                                              \
    do {                                                                                     \
        hxc_response *r_ = hxc_future_response(f);                                           \
        if (hxc_future_error(f) != (err))                                                    \
            fail_msg("%s: expected %s, got %s (%s), status %d", hxc_response_url(r_),        \
                     hxc_error_name(err), hxc_error_name(hxc_future_error(f)),               \
                     hxc_response_error_detail(r_), hxc_response_status(r_));                \
        assert_true(hxc_response_error_detail(r_)[0] != '\0');                               \
    } while (0)

static inline char *itest_url(const testsrv *s, int tls, const char *path)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    return testsrv_url(s, tls, path, b, sizeof(bufs[0]));
}

#endif
