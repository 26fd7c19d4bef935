/* SPDX-License-Identifier: MIT */
/*
 * Integration: TLS. Verification is on by default (chain and host name or
 * IP SAN), a CA file can replace the system store, `insecure` turns it off by
 * name, and every failure names OpenSSL's reason.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>

#include <openssl/ssl.h>

#include "itest.h"

/* OpenSSL's SSL_CTX_new, made to fail on demand: this binary's definition
 * comes before libssl's, and passes through to it otherwise. */
static int fail_ssl_ctx;

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
    static SSL_CTX *(*real)(const SSL_METHOD *);
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, "SSL_CTX_new");
    if (fail_ssl_ctx || real == NULL)
        return NULL;
    return real(method);
}

static char ca[512];

static int setup(void **state)
{
    (void)state;
    snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
    return 0;
}

static void tls_config(hxc_client_config *cfg)
{
    hxc_client_config_init(cfg);
    cfg->ca_file = ca;
}

static char *url_for(const testsrv *s, const char *host, const char *path)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "https://%s:%d%s", host, s->https_port, path);
    return buf;
}

static void test_verified_get_and_reuse(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start_tls(&s, "server", NULL), 0);
    hxc_client_config cfg;
    tls_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f;
    for (int i = 0; i < 3; i++) {
        f = itest_fetch(t.client, "GET", url_for(&s, "localhost", "/bytes/50000"), NULL);
        itest_assert_ok(f, 200);
        hxc_response *r = hxc_future_response(f);
        size_t len;
        hxc_response_body(r, &len);
        assert_int_equal(len, 50000);
        assert_string_equal(hxc_response_http_version(r), "HTTP/1.1");
        assert_int_equal(hxc_response_connection_id(r), 1);
        hxc_timings tm;
        hxc_response_timings(r, &tm);
        if (i == 0)
            assert_true(tm.tls > 0);
        else
            assert_true(tm.reused);
        hxc_future_free(f);
    }
    /* SNI carries the host name; ALPN offered http/1.1 and the server took it. */
    f = itest_fetch(t.client, "GET", url_for(&s, "localhost", "/tls-info"), NULL);
    itest_assert_ok(f, 200);
    const char *info = (const char *)hxc_response_body(hxc_future_response(f), NULL);
    if (strstr(info, "sni=localhost alpn=http/1.1 version=TLSv1.") == NULL)
        fail_msg("tls-info: %s", info);
    hxc_future_free(f);
    /* An IP literal is checked against the IP SANs, and sends no SNI (RFC 6066). */
    f = itest_fetch(t.client, "GET", url_for(&s, "127.0.0.1", "/tls-info"), NULL);
    itest_assert_ok(f, 200);
    info = (const char *)hxc_response_body(hxc_future_response(f), NULL);
    if (strstr(info, "sni=(none) alpn=http/1.1") == NULL)
        fail_msg("tls-info: %s", info);
    hxc_future_free(f);
    f = itest_fetch(t.client, "GET", url_for(&s, "127.0.0.1", "/hello"), NULL);
    itest_assert_ok(f, 200);
    /* A different host name is another origin: another connection. */
    assert_int_equal(hxc_response_connection_id(hxc_future_response(f)), 2);
    hxc_future_free(f);
    /* Chunked and a POST body over TLS. */
    f = itest_fetch(t.client, "GET", url_for(&s, "localhost", "/chunked/30000?chunk=4096"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    f = itest_fetch(t.client, "POST", url_for(&s, "localhost", "/echo"), "over tls");
    itest_assert_ok(f, 200);
    size_t len;
    const char *b = (const char *)hxc_response_body(hxc_future_response(f), &len);
    assert_true(len > 8 && memcmp(b + len - 8, "over tls", 8) == 0);
    hxc_future_free(f);
    itest_close(&t);
    long conns, tls, reqs;
    assert_int_equal(testsrv_stats(&s, &conns, &tls, &reqs), 0);
    assert_int_equal(tls, 2);
    testsrv_stop(&s);
}

static void expect_verify_failure(const char *cert, const char *host, const char *why)
{
    testsrv s;
    assert_int_equal(testsrv_start_tls(&s, cert, NULL), 0);
    hxc_client_config cfg;
    tls_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    hxc_future *f = itest_fetch(t.client, "GET", url_for(&s, host, "/hello"), NULL);
    itest_assert_err(f, HXC_ETLS_VERIFY);
    assert_int_equal(hxc_error_category(hxc_future_error(f)), HXC_CAT_TLS);
    const char *detail = hxc_response_error_detail(hxc_future_response(f));
    if (strstr(detail, why) == NULL)
        fail_msg("detail \"%s\" does not mention \"%s\"", detail, why);
    hxc_future_free(f);
    /* The same client keeps working. */
    f = itest_fetch(t.client, "GET", itest_url(&s, 0, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);

    /* The same server is reachable when verification is turned off by name. */
    cfg.insecure = 1;
    itest_open(&t, &cfg);
    f = itest_fetch(t.client, "GET", url_for(&s, host, "/hello"), NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_wrong_host(void **state)
{
    (void)state;
    expect_verify_failure("wronghost", "localhost", "mismatch");
}

static void test_expired(void **state)
{
    (void)state;
    expect_verify_failure("expired", "localhost", "expired");
}

static void test_self_signed(void **state)
{
    (void)state;
    expect_verify_failure("selfsigned", "localhost", "self");
}

static void test_ip_not_in_san(void **state)
{
    (void)state;
    /* wronghost.pem has only DNS:wrong.invalid: an IP literal must not match. */
    expect_verify_failure("wronghost", "127.0.0.1", "mismatch");
}

static void test_unknown_ca_with_system_store(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start_tls(&s, "server", NULL), 0);
    itest t;
    itest_open(&t, NULL); /* the system store does not know our test CA */
    hxc_future *f = itest_fetch(t.client, "GET", url_for(&s, "localhost", "/hello"), NULL);
    itest_assert_err(f, HXC_ETLS_VERIFY);
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

static void test_bad_ca_file(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.ca_file = "/nonexistent/ca.pem";
    hxc_client *c = NULL;
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_ETLS_HANDSHAKE);
    assert_null(c);
    event_base_free(base);
}

static void test_tls_to_cleartext_port(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start(&s, NULL), 0);
    hxc_client_config cfg;
    tls_config(&cfg);
    itest t;
    itest_open(&t, &cfg);
    char url[128];
    snprintf(url, sizeof(url), "https://127.0.0.1:%d/hello", s.http_port);
    hxc_future *f = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_err(f, HXC_ETLS_HANDSHAKE);
    hxc_future_free(f);
    itest_close(&t);
    testsrv_stop(&s);
}

/* The TLS context is made on the first https request: when it cannot be,
 * each waiting request fails with a reason, the pool's counters stay right,
 * cleartext goes on, and a later https request tries again. */
static void test_tls_context_cannot_be_made(void **state)
{
    (void)state;
    testsrv s;
    assert_int_equal(testsrv_start_tls(&s, "server", NULL), 0);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.insecure = 1; /* no CA file: the context waits for the first https request */
    itest t;
    itest_open(&t, &cfg);
    fail_ssl_ctx = 1;
    hxc_future *f[3];
    for (int i = 0; i < 3; i++)
        f[i] = itest_start(t.client, "GET", url_for(&s, "127.0.0.1", "/hello"), NULL);
    for (int i = 0; i < 3; i++) {
        int err = hxc_future_wait(f[i]);
        assert_int_not_equal(err, 0);
        assert_true(hxc_response_error_detail(hxc_future_response(f[i]))[0] != '\0');
        hxc_future_free(f[i]);
    }
    fail_ssl_ctx = 0;
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.requests_queued, 0);
    assert_int_equal(st.requests_active, 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", s.http_port);
    hxc_future *g = itest_fetch(t.client, "GET", url, NULL);
    itest_assert_ok(g, 200);
    hxc_future_free(g);
    g = itest_fetch(t.client, "GET", url_for(&s, "127.0.0.1", "/hello"), NULL);
    itest_assert_ok(g, 200);
    hxc_future_free(g);
    itest_close(&t);
    testsrv_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verified_get_and_reuse),
        cmocka_unit_test(test_wrong_host),
        cmocka_unit_test(test_expired),
        cmocka_unit_test(test_self_signed),
        cmocka_unit_test(test_ip_not_in_san),
        cmocka_unit_test(test_unknown_ca_with_system_store),
        cmocka_unit_test(test_bad_ca_file),
        cmocka_unit_test(test_tls_context_cannot_be_made),
        cmocka_unit_test(test_tls_to_cleartext_port),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
