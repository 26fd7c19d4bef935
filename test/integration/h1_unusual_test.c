/* SPDX-License-Identifier: MIT */
/*
 * Integration: the HTTP/1.1 path through the whole client against a
 * raw peer (test/support/rawpeer.h) that answers with heads that are
 * legal but unusual, and the client must take them as any other.
 */
#include "itest.h"
#include "rawpeer.h"

#include "core/message.h" /* the response's body buffer */

typedef struct peer_arg {
    const char *resp; /* sent whole for every request of the connection */
} peer_arg;

static void script(rawpeer *p, int fd, int index, void *arg)
{
    (void)index;
    peer_arg *a = arg;
    char head[8192];
    while (rawpeer_recv_head(p, fd, head, sizeof(head), 20000) > 0)
        if (rawpeer_send(p, fd, a->resp, strlen(a->resp), 10000) != 0)
            return;
}

typedef struct fixture {
    rawpeer *peer;
    peer_arg arg;
    itest t;
    char url[128];
} fixture;

static void start_total(fixture *x, const char *resp, double total)
{
    memset(x, 0, sizeof(*x));
    x->arg.resp = resp;
    x->peer = rawpeer_start(script, &x->arg);
    assert_non_null(x->peer);
    rawpeer_url(x->peer, "/", x->url, sizeof(x->url));
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.total_timeout = total; /* the safety net: a hang shows as a timeout */
    itest_open(&x->t, &cfg);
}

static void start(fixture *x, const char *resp) { start_total(x, resp, 10); }

static void stop(fixture *x)
{
    itest_close(&x->t);
    rawpeer_stop(x->peer);
}

/* RFC 9112 4: the reason phrase may be absent ("HTTP/1.1 200\r\n" is what
 * llhttp takes without a status span at all). The first response of a
 * connection then has no reason text ever written: the codec hands the
 * status callback a NULL pointer with length 0, which conn_h1 copies with
 * hxc__strndup -> memcpy(d, NULL, 0): undefined behaviour, and UBSan (the
 * ASan build halts on it) stops the program. */
static void test_status_line_without_reason(void **state)
{
    (void)state;
    static const char *const resps[] = {
        "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 100\r\n\r\nHTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
    };
    for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
        fixture x;
        start(&x, resps[i]);
        hxc_future *f = itest_fetch(x.t.client, "GET", x.url, NULL);
        itest_assert_body(f, 200, "ok");
        const char *reason = hxc_response_reason(hxc_future_response(f));
        assert_true(reason == NULL || reason[0] == '\0');
        hxc_future_free(f);
        stop(&x);
    }
}

/* The body cap (553d506: an announced Content-Length over it fails early)
 * is checked on every head, but a HEAD response, a 204 and a 304 have no
 * body whatever Content-Length says (RFC 9110 8.6, 9.3.2, 15.4.5: it is the
 * size of the representation). A HEAD of a 2 GiB file, or a revalidation
 * 304 of one, fails with HXC_EBODY_TOO_LARGE under the default 1 GiB cap. */
static void test_no_body_responses_are_not_capped(void **state)
{
    (void)state;
    static const struct {
        const char *method, *resp;
        int status;
    } cases[] = {
        {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 2147483648\r\n\r\n", 200},
        {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 2147483648\r\n\r\n", 304},
        {"GET", "HTTP/1.1 204 No Content\r\nContent-Length: 2147483648\r\n\r\n", 204},
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture x;
        start(&x, cases[i].resp);
        for (int k = 0; k < 2; k++) { /* the connection is reused, as after any response */
            hxc_future *f = itest_fetch(x.t.client, cases[i].method, x.url, NULL);
            hxc_response *r = hxc_future_response(f);
            size_t len = 1;
            hxc_response_body(r, &len);
            if (hxc_future_error(f) != 0 || hxc_response_status(r) != cases[i].status || len) {
                print_message("%s -> %d: %s (%s)\n", cases[i].method, cases[i].status,
                              hxc_error_name(hxc_future_error(f)), hxc_response_error_detail(r));
                failed++;
            }
            hxc_future_free(f);
        }
        if (!failed)
            assert_int_equal(rawpeer_accepted(x.peer), 1);
        stop(&x);
    }
    assert_int_equal(failed, 0);
}

/* The same announced length also sizes the body buffer in advance
 * (hxc__pool_expect_body, up to 4 MiB): every HEAD or 304 of a file of a
 * few MiB allocates that much for a body that never comes. */
static void test_no_body_responses_reserve_nothing(void **state)
{
    (void)state;
    fixture x;
    start(&x, "HTTP/1.1 200 OK\r\nContent-Length: 4000000\r\n\r\n");
    hxc_future *f = itest_fetch(x.t.client, "HEAD", x.url, NULL);
    itest_assert_body(f, 200, "");
    size_t cap = hxc_future_response(f)->body.cap;
    print_message("HEAD, Content-Length 4000000: %zu bytes reserved for the body\n", cap);
    hxc_future_free(f);
    stop(&x);
    assert_true(cap < 4096);
}

/* A 1xx head is a message of its own to llhttp, and llhttp (built without
 * LLHTTP_STRICT_MODE, as here) decides after it whether the connection
 * stays open: after "HTTP/1.1 1xx" with "Connection: close", or an
 * "HTTP/1.0 1xx", it goes to its `closed` state, which swallows every byte
 * that follows without a word. The final response is never seen: the
 * request waits until the server closes ("connection closed before the
 * response was complete") or, with a server that keeps the connection
 * open, until a timeout (here the 3 s deadline; 30 s read timeout by
 * default). */
static void test_final_response_after_closing_interim(void **state)
{
    (void)state;
    static const char *const resps[] = {
        "HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nConnection: close\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
        fixture x;
        start_total(&x, resps[i], 3);
        hxc_future *f = itest_fetch(x.t.client, "GET", x.url, NULL);
        hxc_response *r = hxc_future_response(f);
        size_t len = 0;
        const void *body = hxc_response_body(r, &len);
        if (hxc_future_error(f) != 0 || hxc_response_status(r) != 200 || len != 2 ||
            memcmp(body, "ok", 2) != 0) {
            print_message("case %zu: %s (%s), status %d\n", i, hxc_error_name(hxc_future_error(f)),
                          hxc_response_error_detail(r), hxc_response_status(r));
            failed++;
        }
        hxc_future_free(f);
        stop(&x);
    }
    assert_int_equal(failed, 0);
}

/* RFC 9110 5.5: a field value does not include leading or trailing
 * whitespace, and "a field parsing implementation MUST exclude such
 * whitespace prior to evaluating the field value". llhttp skips the
 * leading whitespace but its value span runs to the CR: the trailing SP
 * and HTAB reach the user (HTTP/2 cannot carry them at all, so the same
 * response differs by protocol), in the head and in trailers. */
static void test_trailing_whitespace_not_in_values(void **state)
{
    (void)state;
    fixture x;
    start(&x, "HTTP/1.1 200 OK\r\nContent-Type: text/plain \r\nX-Tab: v\t\r\n"
              "Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Sum: 2  \r\n\r\n");
    hxc_future *f = itest_fetch(x.t.client, "GET", x.url, NULL);
    itest_assert_body(f, 200, "ok");
    hxc_response *r = hxc_future_response(f);
    const char *ct = hxc_headers_get(hxc_response_headers(r), "content-type");
    const char *tab = hxc_headers_get(hxc_response_headers(r), "x-tab");
    const char *sum = hxc_headers_get(hxc_response_trailers(r), "x-sum");
    print_message("content-type \"%s\", x-tab \"%s\", x-sum \"%s\"\n", ct ? ct : "(none)",
                  tab ? tab : "(none)", sum ? sum : "(none)");
    assert_non_null(ct);
    assert_non_null(tab);
    assert_non_null(sum);
    int ok = strcmp(ct, "text/plain") == 0 && strcmp(tab, "v") == 0 && strcmp(sum, "2") == 0;
    hxc_future_free(f);
    stop(&x);
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_body_responses_are_not_capped),
        cmocka_unit_test(test_no_body_responses_reserve_nothing),
        cmocka_unit_test(test_final_response_after_closing_interim),
        cmocka_unit_test(test_trailing_whitespace_not_in_values),
        /* last: under UBSan (the ASan build) its defect stops the program */
        cmocka_unit_test(test_status_line_without_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
