/* SPDX-License-Identifier: MIT */
/*
 * Interop: hxc against Debian's nginx, started by the test on loopback
 * ports (cleartext and TLS with the test CA): static files with
 * Content-Length, HEAD, 404, redirects returned as-is, keep-alive reuse up to
 * nginx's keepalive_requests, chunked bodies from nginx's gzip-less
 * `return`, and many concurrent requests through a small pool.
 */
#include "../integration/itest.h"
#include "interop.h"

static interop_proc nginx;
static int http_port, https_port;
static char ca[512];
static char big[200000];

#define NGINX "/usr/sbin/nginx"

static int setup(void **state)
{
    (void)state;
    if (access(NGINX, X_OK) != 0) {
        fprintf(stderr, "nginx is not installed: run `make deps`\n");
        return -1;
    }
    if (interop_mkdtemp(&nginx, "nginx") != 0)
        return -1;
    http_port = interop_free_port();
    https_port = interop_free_port();
    const char *certs = testsrv_certs_dir();
    snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
    char conf[4096];
    snprintf(conf, sizeof(conf),
             "worker_processes 1;\n"
             "daemon off;\n"
             "master_process off;\n"
             "pid %s/nginx.pid;\n"
             "error_log %s/error.log warn;\n"
             "events { worker_connections 1024; }\n"
             "http {\n"
             "  access_log off;\n"
             "  client_body_temp_path %s;\n"
             "  proxy_temp_path %s;\n"
             "  fastcgi_temp_path %s;\n"
             "  uwsgi_temp_path %s;\n"
             "  scgi_temp_path %s;\n"
             "  keepalive_requests 3;\n"
             "  default_type application/octet-stream;\n"
             "  server {\n"
             "    listen 127.0.0.1:%d;\n"
             "    listen 127.0.0.1:%d ssl;\n"
             "    ssl_certificate %s/server.pem;\n"
             "    ssl_certificate_key %s/server.key;\n"
             "    root %s/www;\n"
             "    location = /text { return 200 \"hello from nginx\\n\"; }\n"
             "    location = /moved { return 301 /big.bin; }\n"
             "  }\n"
             "}\n",
             nginx.dir, nginx.dir, nginx.dir, nginx.dir, nginx.dir, nginx.dir, nginx.dir, http_port,
             https_port, certs, certs, nginx.dir);
    if (interop_write_file(nginx.dir, "nginx.conf", conf, strlen(conf)) != 0)
        return -1;
    char www[300];
    snprintf(www, sizeof(www), "%s/www", nginx.dir);
    mkdir(www, 0755);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('A' + i % 23);
    if (interop_write_file(www, "big.bin", big, sizeof(big)) != 0 ||
        interop_write_file(www, "small.txt", "small\n", 6) != 0)
        return -1;
    char confpath[300];
    snprintf(confpath, sizeof(confpath), "%s/nginx.conf", nginx.dir);
    char *argv[] = {NGINX, "-p", nginx.dir, "-c", confpath, NULL};
    if (interop_spawn(&nginx, argv, http_port) != 0) {
        fprintf(stderr, "nginx did not start; see %s/log\n", nginx.dir);
        return -1;
    }
    for (int i = 0; i < 100 && !interop_port_open(https_port); i++)
        usleep(50000);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    interop_stop(&nginx);
    return 0;
}

static char *url(int tls, const char *path)
{
    static char bufs[4][256];
    static int n;
    char *b = bufs[n++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s://%s:%d%s", tls ? "https" : "http",
             tls ? "localhost" : "127.0.0.1", tls ? https_port : http_port, path);
    return b;
}

static void open_client(itest *t)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.ca_file = ca;
    itest_open(t, &cfg);
}

static void static_files(int tls)
{
    itest t;
    open_client(&t);
    hxc_future *f = itest_fetch(t.client, "GET", url(tls, "/big.bin"), NULL);
    itest_assert_ok(f, 200);
    hxc_response *r = hxc_future_response(f);
    size_t len;
    const uint8_t *b = hxc_response_body(r, &len);
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(b, big, sizeof(big));
    assert_string_equal(hxc_response_http_version(r), "HTTP/1.1");
    assert_non_null(hxc_headers_get(hxc_response_headers(r), "server"));
    hxc_future_free(f);

    f = itest_fetch(t.client, "HEAD", url(tls, "/big.bin"), NULL);
    itest_assert_ok(f, 200);
    hxc_response_body(hxc_future_response(f), &len);
    assert_int_equal(len, 0);
    hxc_future_free(f);

    f = itest_fetch(t.client, "GET", url(tls, "/nope"), NULL);
    itest_assert_ok(f, 404);
    hxc_future_free(f);

    f = itest_fetch(t.client, "GET", url(tls, "/moved"), NULL);
    itest_assert_ok(f, 301); /* redirects are not followed yet: returned as they are */
    assert_non_null(strstr(
        hxc_headers_get(hxc_response_headers(hxc_future_response(f)), "location"), "/big.bin"));
    hxc_future_free(f);

    f = itest_fetch(t.client, "GET", url(tls, "/text"), NULL);
    itest_assert_ok(f, 200);
    assert_string_equal((const char *)hxc_response_body(hxc_future_response(f), NULL),
                        "hello from nginx\n");
    hxc_future_free(f);

    /* Five requests so far with keepalive_requests 3: nginx closed after the
     * third with Connection: close, so exactly two connections were used. */
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 2);
    assert_int_equal(st.requests_completed, 5);
    itest_close(&t);
}

static void test_static_http(void **state)
{
    (void)state;
    static_files(0);
}

static void test_static_https(void **state)
{
    (void)state;
    static_files(1);
}

typedef struct counter {
    int done, ok;
} counter;

static void cb(hxc_response *r, int err, void *ud)
{
    counter *c = ud;
    c->done++;
    size_t len;
    hxc_response_body(r, &len);
    if (err == 0 && hxc_response_status(r) == 200 && len == 6)
        c->ok++;
}

static void concurrent(int tls)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.ca_file = ca;
    cfg.max_connections = 10;
    itest t;
    itest_open(&t, &cfg);
    counter c = {0, 0};
    for (int i = 0; i < 500; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", url(tls, "/small.txt")), 0);
        assert_int_equal(hxc_client_send(t.client, req, cb, &c), 0);
    }
    for (int i = 0; c.done < 500 && i < 1000000; i++)
        event_base_loop(t.base, EVLOOP_ONCE);
    assert_int_equal(c.ok, 500);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    /* keepalive_requests 3: at least 500/3 connections, never more than 10 at once. */
    assert_true(st.connections_opened >= 167);
    assert_true(st.connections_open <= 10);
    itest_close(&t);
}

static void test_concurrent_http(void **state)
{
    (void)state;
    concurrent(0);
}

static void test_concurrent_https(void **state)
{
    (void)state;
    concurrent(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_http),
        cmocka_unit_test(test_static_https),
        cmocka_unit_test(test_concurrent_http),
        cmocka_unit_test(test_concurrent_https),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
