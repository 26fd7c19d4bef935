/* SPDX-License-Identifier: MIT */
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
#define itest_assert_ok(f, st)                                                                     \
    do {                                                                                           \
        hxc_response *r_ = hxc_future_response(f);                                                 \
        if (hxc_future_error(f) != 0)                                                              \
            fail_msg("%s: %s (%s)", hxc_response_url(r_), hxc_error_name(hxc_future_error(f)),     \
                     hxc_response_error_detail(r_));                                               \
        assert_int_equal(hxc_response_status(r_), (st));                                           \
    } while (0)

/** Asserts that a finished future succeeded with `status` and the body `body`. */
static inline void itest_assert_body(hxc_future *f, int status, const char *body)
{
    itest_assert_ok(f, status);
    size_t len;
    const void *b = hxc_response_body(hxc_future_response(f), &len);
    assert_int_equal(len, strlen(body));
    assert_memory_equal(b, body, len);
}

/** Asserts that a finished future failed with exactly `err`. */
#define itest_assert_err(f, err)                                                                   \
    do {                                                                                           \
        hxc_response *r_ = hxc_future_response(f);                                                 \
        if (hxc_future_error(f) != (err))                                                          \
            fail_msg("%s: expected %s, got %s (%s), status %d", hxc_response_url(r_),              \
                     hxc_error_name(err), hxc_error_name(hxc_future_error(f)),                     \
                     hxc_response_error_detail(r_), hxc_response_status(r_));                      \
        assert_true(hxc_response_error_detail(r_)[0] != '\0');                                     \
    } while (0)

/* Counting responses of a burst: ok means 200, and the version and body length
 * asked for (NULL / -1: any). */
typedef struct itest_counter {
    int done, ok, failed, first_err;
    uint64_t max_conn_id;
    const char *want_version;
    long want_len;
} itest_counter;

static inline void itest_counter_init(itest_counter *c, const char *version, long len)
{
    memset(c, 0, sizeof(*c));
    c->want_version = version;
    c->want_len = len;
}

static inline void itest_count_cb(hxc_response *r, int err, void *ud)
{
    itest_counter *c = ud;
    size_t len;
    hxc_response_body(r, &len);
    c->done++;
    if (err == 0 && hxc_response_status(r) == 200 &&
        (c->want_version == NULL || strcmp(hxc_response_http_version(r), c->want_version) == 0) &&
        (c->want_len < 0 || (long)len == c->want_len)) {
        c->ok++;
    } else {
        c->failed++;
        if (!c->first_err)
            c->first_err = err;
    }
    if (hxc_response_connection_id(r) > c->max_conn_id)
        c->max_conn_id = hxc_response_connection_id(r);
}

/** Sends `n` GETs of `url` at once (callbacks), without running the loop. */
static inline void itest_send_n(hxc_client *client, const char *url, int n, itest_counter *c)
{
    for (int i = 0; i < n; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", url), 0);
        assert_int_equal(hxc_client_send(client, req, itest_count_cb, c), 0);
    }
}

/** Runs the loop until `*done` reaches `target` (bounded). */
static inline void itest_run_until(struct event_base *base, const int *done, int target)
{
    for (int i = 0; *done < target && i < 1000000; i++)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(*done, target);
}

/** itest_send_n, then runs the loop until all of them are done. */
static inline void itest_burst(itest *t, const char *url, int n, itest_counter *c)
{
    int before = c->done;
    itest_send_n(t->client, url, n, c);
    itest_run_until(t->base, &c->done, before + n);
}

/* Responses to /echo of the shared request below: each must carry its header
 * and body (the request is read by every send, never changed). */
static inline void itest_shared_cb(hxc_response *r, int err, void *ud)
{
    itest_counter *c = ud;
    size_t len;
    const char *b = (const char *)hxc_response_body(r, &len);
    c->done++;
    if (err == 0 && hxc_response_status(r) == 200 &&
        strcmp(hxc_response_http_version(r), c->want_version) == 0 &&
        strcasestr(b, "x-shared: yes") != NULL && len >= 6 && memcmp(b + len - 6, "shared", 6) == 0)
        c->ok++;
    else
        c->failed++;
}

static inline int itest_never_produces(hxc_request *req, uint8_t *buf, size_t len, size_t *n,
                                       int *eof, void *ud)
{
    (void)req, (void)buf, (void)len, (void)ud;
    *n = 0;
    *eof = 1;
    return 0;
}

/** One request sent `n` times at once through hxc_request_retain, over the
 *  protocol `version` names: all arrive whole; the request is frozen while
 *  shared and the caller's again once every response is released. */
static inline void itest_shared_request(itest *t, const char *echo_url, const char *version, int n)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", echo_url), 0);
    assert_int_equal(hxc_request_add_header(req, "X-Shared", "yes"), 0);
    assert_int_equal(hxc_request_set_body(req, "shared", 6), 0);
    itest_counter c;
    itest_counter_init(&c, version, -1);
    for (int i = 0; i < n; i++)
        assert_int_equal(hxc_client_send(t->client, hxc_request_retain(req), itest_shared_cb, &c), 0);
    assert_int_equal(hxc_request_add_header(req, "X-Late", "no"), HXC_EINVAL);
    assert_int_equal(hxc_request_set_header(req, "X-Shared", "no"), HXC_EINVAL);
    assert_int_equal(hxc_request_remove_header(req, "X-Shared"), HXC_EINVAL);
    assert_int_equal(hxc_request_set_body(req, "x", 1), HXC_EINVAL);
    assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_READ, 1), HXC_EINVAL);
    /* An upload's state belongs to one send: a shared one is refused. */
    hxc_request *up;
    assert_int_equal(hxc_request_new(&up, "PUT", echo_url), 0);
    assert_int_equal(hxc_request_set_body_producer(up, itest_never_produces, -1, NULL), 0);
    assert_ptr_equal(hxc_request_retain(up), up);
    assert_int_equal(hxc_client_send(t->client, up, itest_shared_cb, &c), HXC_EINVAL);
    hxc_request_free(up);
    assert_int_equal(hxc_request_set_timeout(up, HXC_TIMEOUT_READ, 1), 0); /* the caller's alone */
    hxc_request_free(up);
    itest_run_until(t->base, &c.done, n);
    assert_int_equal(c.ok, n);
    assert_int_equal(hxc_request_add_header(req, "X-Late", "ok"), 0);
    hxc_request_free(req);
}

/** GET /bytes/100000 with its body discarded, over `version`: counted, not
 *  kept; the body limit still applies; a kept body counts the same; the
 *  connection goes on (one connection for all). */
static inline void itest_discarded_body(itest *t, const char *url, const char *version)
{
    hxc_future *f[3];
    for (int i = 0; i < 3; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", url), 0);
        if (i != 1)
            assert_int_equal(hxc_request_discard_body(req, 1), 0);
        if (i == 2)
            assert_int_equal(hxc_request_set_max_body(req, 1000), 0);
        f[i] = hxc_client_request(t->client, req);
        assert_non_null(f[i]);
        assert_int_equal(hxc_future_wait(f[i]), i == 2 ? HXC_EBODY_TOO_LARGE : 0);
    }
    size_t len;
    itest_assert_ok(f[0], 200);
    hxc_response *r = hxc_future_response(f[0]);
    assert_string_equal(hxc_response_http_version(r), version);
    assert_ptr_not_equal(hxc_response_body(r, &len), NULL);
    assert_int_equal(len, 0);
    assert_int_equal(hxc_response_body_received(r), 100000);
    r = hxc_future_response(f[1]);
    hxc_response_body(r, &len);
    assert_int_equal(len, 100000);
    assert_int_equal(hxc_response_body_received(r), 100000);
    assert_int_equal(hxc_response_connection_id(r), hxc_response_connection_id(hxc_future_response(f[0])));
    for (int i = 0; i < 3; i++)
        hxc_future_free(f[i]);
}

/* One test server for a whole group: `srv`, with cmocka group setup/teardown. */
#define ITEST_SERVER_FIXTURE                                                                       \
    static testsrv srv;                                                                            \
    static int setup(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        return testsrv_start(&srv, NULL);                                                          \
    }                                                                                              \
    static int teardown(void **state)                                                              \
    {                                                                                              \
        (void)state;                                                                               \
        testsrv_stop(&srv);                                                                        \
        return 0;                                                                                  \
    }

static inline char *itest_url(const testsrv *s, int tls, const char *path)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    return testsrv_url(s, tls, path, b, sizeof(bufs[0]));
}

#endif
