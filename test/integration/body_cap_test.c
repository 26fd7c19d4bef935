/* SPDX-License-Identifier: MIT */
/*
 * Integration: which body cap applies in which mode, over HTTP/1.1 and
 * HTTP/2 (h2c). The client's max_response_body_bytes caps a buffered or a
 * discarded body, not a streamed one (back-pressure bounds that); a cap set
 * on the request applies in every mode. Announced (Content-Length) and
 * unannounced (chunked) bodies both.
 */
#include "itest.h"

ITEST_SERVER_FIXTURE

enum mode { BUFFERED, STREAMED, DISCARDED };

static int count_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r, (void)d;
    *(uint64_t *)ud += n;
    return 0;
}

/* GET `path` in `mode`, with a request cap unless `cap` is < 0; returns the
 * error and the body bytes the caller saw (kept, streamed or counted). */
static int fetch(itest *t, int h2, const char *path, enum mode mode, long long cap, uint64_t *seen)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, path)), 0);
    *seen = 0;
    if (mode == STREAMED)
        assert_int_equal(hxc_request_on_response_stream(req, NULL, count_body, seen), 0);
    if (mode == DISCARDED)
        assert_int_equal(hxc_request_discard_body(req, 1), 0);
    if (cap >= 0)
        assert_int_equal(hxc_request_set_max_body(req, (uint64_t)cap), 0);
    hxc_future *f = hxc_client_request(t->client, req);
    assert_non_null(f);
    int err = hxc_future_wait(f);
    hxc_response *r = hxc_future_response(f);
    if (err == 0) {
        assert_int_equal(hxc_response_status(r), 200);
        assert_string_equal(hxc_response_http_version(r), h2 ? "HTTP/2" : "HTTP/1.1");
        size_t len;
        hxc_response_body(r, &len);
        if (mode == BUFFERED)
            *seen = len;
        else if (mode == DISCARDED)
            *seen = hxc_response_body_received(r);
    } else {
        assert_true(hxc_response_error_detail(r)[0] != '\0');
    }
    hxc_future_free(f);
    return err;
}

static void caps(int h2)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    cfg.max_response_body_bytes = 10000;
    itest t;
    itest_open(&t, &cfg);
    /* HTTP/2's test server has no chunked route: its bodies all announce a
     * length; HTTP/1.1 tries both. */
    const char *big[2] = {"/bytes/50000", h2 ? "/bytes/50001" : "/chunked/50001?chunk=1000"};
    const uint64_t big_len[2] = {50000, 50001};
    for (int i = 0; i < 2; i++) {
        uint64_t seen;
        /* Buffered: the client's cap, or the request's in its place. */
        assert_int_equal(fetch(&t, h2, big[i], BUFFERED, -1, &seen), HXC_EBODY_TOO_LARGE);
        assert_int_equal(fetch(&t, h2, big[i], BUFFERED, 100000, &seen), 0);
        assert_int_equal(seen, big_len[i]);
        /* Streamed: not the client's cap (nothing is kept), only the request's. */
        assert_int_equal(fetch(&t, h2, big[i], STREAMED, -1, &seen), 0);
        assert_int_equal(seen, big_len[i]);
        assert_int_equal(fetch(&t, h2, big[i], STREAMED, 1000, &seen), HXC_EBODY_TOO_LARGE);
        assert_true(seen <= 1000);
        assert_int_equal(fetch(&t, h2, big[i], STREAMED, 0, &seen), 0); /* 0: no cap */
        assert_int_equal(seen, big_len[i]);
        /* Discarded: both caps, as documented. */
        assert_int_equal(fetch(&t, h2, big[i], DISCARDED, -1, &seen), HXC_EBODY_TOO_LARGE);
        assert_int_equal(fetch(&t, h2, big[i], DISCARDED, 0, &seen), 0);
        assert_int_equal(seen, big_len[i]);
        assert_int_equal(fetch(&t, h2, "/bytes/5000", DISCARDED, 1000, &seen), HXC_EBODY_TOO_LARGE);
    }
    /* Within the client's cap, every mode gets the whole body. */
    for (int m = BUFFERED; m <= DISCARDED; m++) {
        uint64_t seen;
        assert_int_equal(fetch(&t, h2, "/bytes/10000", (enum mode)m, -1, &seen), 0);
        assert_int_equal(seen, 10000);
    }
    itest_close(&t);
}

static void test_caps_h1(void **state)
{
    (void)state;
    caps(0);
}

static void test_caps_h2(void **state)
{
    (void)state;
    caps(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_h1),
        cmocka_unit_test(test_caps_h2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
