/* SPDX-License-Identifier: MIT */
/*
 * Integration: HTTP/1.1 servers that abuse the response head, scripted byte
 * by byte with the raw peer (test/support/rawpeer.h): endless interim
 * responses, a head padded with whitespace without end, too many 1xx,
 * status codes outside 100-599, obs-fold, and a close-delimited body cut
 * by a connection reset. Each must end fast with its own clear error
 * (never the total deadline), and a connection that carried a bad response
 * is never reused.
 */
#include <sys/socket.h>

#include "itest.h"
#include "rawpeer.h"

enum behaviour {
    ANSWER,  /* `resp` to every request of the connection (keep-alive) */
    ENDLESS, /* `resp`, then `unit` again and again until the client goes */
    RESET    /* `resp`, a moment, then a reset (SO_LINGER 0 and close) */
};

typedef struct peer_arg {
    enum behaviour how;
    const char *resp;
    const char *unit;
    long long sent; /* bytes sent by ENDLESS (read after rawpeer_stop) */
} peer_arg;

static void script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    peer_arg *a = arg;
    char head[8192];
    while (rawpeer_recv_head(p, fd, head, sizeof(head), 20000) > 0) {
        if (rawpeer_send(p, fd, a->resp, strlen(a->resp), 10000) != 0)
            return;
        if (a->how == ENDLESS) {
            size_t n = strlen(a->unit);
            while (rawpeer_send(p, fd, a->unit, n, 10000) == 0)
                a->sent += (long long)n;
            return;
        }
        if (a->how == RESET) {
            rawpeer_hold(p, 200); /* let the client read what was sent */
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            return; /* closed with SO_LINGER 0: RST, not FIN */
        }
    }
}

typedef struct fixture {
    rawpeer *peer;
    peer_arg arg;
    itest t;
} fixture;

static void start(fixture *x, enum behaviour how, const char *resp, const char *unit)
{
    memset(x, 0, sizeof(*x));
    x->arg.how = how;
    x->arg.resp = resp;
    x->arg.unit = unit;
    x->peer = rawpeer_start(script, &x->arg);
    assert_non_null(x->peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.total_timeout = 10; /* what an unbounded head would run into */
    itest_open(&x->t, &cfg);
}

static void stop(fixture *x)
{
    itest_close(&x->t);
    rawpeer_stop(x->peer);
}

/* One GET; its future (the caller frees it). */
static hxc_future *get(fixture *x)
{
    char url[128];
    return itest_fetch(x->t.client, "GET", rawpeer_url(x->peer, "/", url, sizeof(url)), NULL);
}

/* One GET that must fail with `err` and a detail containing `detail`; then
 * a second GET, which must not reuse the first connection. */
static void expect_failure(fixture *x, int err, const char *detail)
{
    hxc_future *f = get(x);
    itest_assert_err(f, err);
    const char *d = hxc_response_error_detail(hxc_future_response(f));
    if (strstr(d, detail) == NULL)
        fail_msg("detail \"%s\", want \"%s\"", d, detail);
    hxc_future_free(f);
    hxc_future_free(get(x));
    assert_int_equal(rawpeer_accepted(x->peer), 2);
}

static void test_endless_interim(void **state)
{
    (void)state;
    /* Empty-reason 100s: a few bytes each, nothing llhttp reports as a span. */
    fixture x;
    start(&x, ENDLESS, "", "HTTP/1.1 100\r\n\r\n");
    hxc_future *f = get(&x);
    itest_assert_err(f, HXC_EPROTO_REMOTE);
    assert_non_null(strstr(hxc_response_error_detail(hxc_future_response(f)),
                           "too many interim (1xx) responses"));
    hxc_future_free(f);
    stop(&x);
    assert_true(x.arg.sent > 0);
}

static void test_endless_whitespace(void **state)
{
    (void)state;
    /* Whitespace llhttp skips before a value: never in a span, still bytes. */
    static char pad[4096];
    memset(pad, ' ', sizeof(pad) - 1);
    fixture x;
    start(&x, ENDLESS, "HTTP/1.1 200 OK\r\nX-Pad:", pad);
    hxc_future *f = get(&x);
    itest_assert_err(f, HXC_EHEADERS_TOO_LARGE);
    hxc_future_free(f);
    stop(&x);
    /* The default limit is 256 KiB: it took about that much, not 10 s of it. */
    assert_true(x.arg.sent >= 256 * 1024 - 8192);
}

static void test_interim_cap(void **state)
{
    (void)state;
    char resp[2048] = "";
    for (int i = 0; i < 5; i++)
        strcat(resp, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
    size_t five = strlen(resp);
    strcat(resp, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    /* Five are fine, and the connection is reused. */
    fixture x;
    start(&x, ANSWER, resp, NULL);
    for (int i = 0; i < 2; i++) {
        hxc_future *f = get(&x);
        itest_assert_body(f, 200, "ok");
        hxc_future_free(f);
    }
    assert_int_equal(rawpeer_accepted(x.peer), 1);
    stop(&x);
    /* The sixth ends the request, and the connection. */
    char six[2048];
    snprintf(six, sizeof(six), "%.*sHTTP/1.1 102 Processing\r\n\r\n%s", (int)five, resp,
             resp + five);
    start(&x, ANSWER, six, NULL);
    expect_failure(&x, HXC_EPROTO_REMOTE, "too many interim (1xx) responses");
    stop(&x);
}

static void test_status_range(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "HTTP/1.1 000 Nothing\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 999 High\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fixture x;
        start(&x, ANSWER, bad[i], NULL);
        expect_failure(&x, HXC_EPROTO_REMOTE, "status code out of range");
        stop(&x);
    }
    fixture x;
    start(&x, ANSWER, "HTTP/1.1 100\r\n\r\nHTTP/1.1 599 Edge\r\nContent-Length: 0\r\n\r\n", NULL);
    hxc_future *f = get(&x);
    itest_assert_ok(f, 599);
    hxc_future_free(f);
    stop(&x);
}

static void test_obs_fold(void **state)
{
    (void)state;
    fixture x;
    start(&x, ANSWER, "HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", NULL);
    expect_failure(&x, HXC_EPROTO_REMOTE, "obsolete line folding");
    stop(&x);
}

static void test_reset_ends_close_delimited_body(void **state)
{
    (void)state;
    /* A reset is not an end: the body may be cut, and it is plain TCP, so no
     * word of TLS. */
    fixture x;
    start(&x, RESET, "HTTP/1.1 200 OK\r\n\r\npart of a body", NULL);
    hxc_future *f = get(&x);
    itest_assert_err(f, HXC_EREAD);
    const char *d = hxc_response_error_detail(hxc_future_response(f));
    if (strstr(d, "body may be truncated") == NULL || strstr(d, "reset") == NULL ||
        strstr(d, "TLS") != NULL)
        fail_msg("detail \"%s\"", d);
    hxc_future_free(f);
    stop(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endless_interim),
        cmocka_unit_test(test_endless_whitespace),
        cmocka_unit_test(test_interim_cap),
        cmocka_unit_test(test_status_range),
        cmocka_unit_test(test_obs_fold),
        cmocka_unit_test(test_reset_ends_close_delimited_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
