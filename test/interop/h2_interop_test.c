/* SPDX-License-Identifier: MIT */
/*
 * Interop over HTTP/2: hxc against Debian's nghttpd (h2c by prior knowledge
 * and h2 over TLS), nginx (h2 by ALPN, and a listener without h2 where ALPN
 * falls back to HTTP/1.1) and h2o, all started by the test on loopback.
 */
#include "../integration/itest.h"
#include "interop.h"

#define NGHTTPD "/usr/sbin/nghttpd"
#define NGINX   "/usr/sbin/nginx"
#define H2O     "/usr/bin/h2o"

static interop_proc nghttpd_c, nghttpd_tls, nghttpd_small, nginx, h2o;
static int p_c, p_tls, p_small, p_nginx_h2, p_nginx_h1, p_h2o_tls, p_h2o_c;
static char ca[512], www[300];
static char big[300000];

static int start_nghttpd(interop_proc *p, int *port, int tls, const char *max_streams)
{
    if (interop_mkdtemp(p, "nghttpd") != 0)
        return -1;
    *port = interop_free_port();
    char ports[16], key[512], cert[512], streams[64];
    snprintf(ports, sizeof(ports), "%d", *port);
    snprintf(key, sizeof(key), "%s/server.key", testsrv_certs_dir());
    snprintf(cert, sizeof(cert), "%s/server.pem", testsrv_certs_dir());
    snprintf(streams, sizeof(streams), "--max-concurrent-streams=%s", max_streams);
    char *argv[12];
    int n = 0;
    argv[n++] = NGHTTPD;
    argv[n++] = "-a";
    argv[n++] = "127.0.0.1";
    argv[n++] = "-d";
    argv[n++] = www;
    argv[n++] = streams;
    if (!tls)
        argv[n++] = "--no-tls";
    argv[n++] = ports;
    if (tls) {
        argv[n++] = key;
        argv[n++] = cert;
    }
    argv[n] = NULL;
    return interop_spawn(p, argv, *port);
}

static int start_nginx(void)
{
    if (interop_mkdtemp(&nginx, "nginx-h2") != 0)
        return -1;
    p_nginx_h2 = interop_free_port();
    p_nginx_h1 = interop_free_port();
    const char *d = nginx.dir, *certs = testsrv_certs_dir();
    char conf[4096];
    snprintf(conf, sizeof(conf),
             "worker_processes 1; daemon off; master_process off;\n"
             "pid %s/nginx.pid; error_log %s/error.log warn;\n"
             "events { worker_connections 4096; }\n"
             "http {\n access_log off; client_body_temp_path %s; proxy_temp_path %s;\n"
             " fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
             " http2_max_concurrent_streams 128;\n"
             " server { listen 127.0.0.1:%d ssl http2; listen 127.0.0.1:%d ssl;\n"
             "  ssl_certificate %s/server.pem; ssl_certificate_key %s/server.key;\n"
             "  root %s;\n"
             "  location = /text { return 200 \"hello from nginx\\n\"; } }\n"
             "}\n",
             d, d, d, d, d, d, d, p_nginx_h2, p_nginx_h1, certs, certs, www);
    if (interop_write_file(d, "nginx.conf", conf, strlen(conf)) != 0)
        return -1;
    char confpath[400];
    snprintf(confpath, sizeof(confpath), "%s/nginx.conf", d);
    char *argv[] = {NGINX, "-p", nginx.dir, "-c", confpath, NULL};
    if (interop_spawn(&nginx, argv, p_nginx_h2) != 0)
        return -1;
    for (int i = 0; i < 100 && !interop_port_open(p_nginx_h1); i++)
        usleep(50000);
    return 0;
}

static int start_h2o(void)
{
    if (interop_mkdtemp(&h2o, "h2o") != 0)
        return -1;
    chmod(h2o.dir, 0777);
    p_h2o_tls = interop_free_port();
    p_h2o_c = interop_free_port();
    const char *certs = testsrv_certs_dir();
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "listen:\n  host: 127.0.0.1\n  port: %d\n  ssl:\n"
             "    certificate-file: %s/server.pem\n    key-file: %s/server.key\n"
             "    ocsp-update-interval: 0\n"
             "listen:\n  host: 127.0.0.1\n  port: %d\n"
             "user: nobody\nerror-log: %s/error.log\naccess-log: /dev/null\n"
             "hosts:\n  default:\n    paths:\n      /:\n        file.dir: %s\n",
             p_h2o_tls, certs, certs, p_h2o_c, h2o.dir, www);
    if (interop_write_file(h2o.dir, "h2o.conf", conf, strlen(conf)) != 0)
        return -1;
    char confpath[400];
    snprintf(confpath, sizeof(confpath), "%s/h2o.conf", h2o.dir);
    char *argv[] = {H2O, "-c", confpath, NULL};
    if (interop_spawn(&h2o, argv, p_h2o_c) != 0)
        return -1;
    for (int i = 0; i < 100 && !interop_port_open(p_h2o_tls); i++)
        usleep(50000);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
    snprintf(www, sizeof(www), "/tmp/hxc-h2www-%d", (int)getpid());
    mkdir(www, 0755);
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('0' + i % 10);
    if (interop_write_file(www, "big.bin", big, sizeof(big)) != 0 ||
        interop_write_file(www, "small.txt", "small\n", 6) != 0)
        return -1;
    chmod(www, 0755); /* h2o serves as "nobody": readable whatever the umask */
    char f[400];
    snprintf(f, sizeof(f), "%s/big.bin", www);
    chmod(f, 0644);
    snprintf(f, sizeof(f), "%s/small.txt", www);
    chmod(f, 0644);
    if (start_nghttpd(&nghttpd_c, &p_c, 0, "1000") ||
        start_nghttpd(&nghttpd_tls, &p_tls, 1, "100") ||
        start_nghttpd(&nghttpd_small, &p_small, 0, "10")) {
        fprintf(stderr, "nghttpd did not start (run `make deps`)\n");
        return -1;
    }
    if (start_nginx() != 0) {
        fprintf(stderr, "nginx did not start; see %s\n", nginx.dir);
        return -1;
    }
    if (start_h2o() != 0) {
        fprintf(stderr, "h2o did not start; see %s\n", h2o.dir);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    interop_stop(&nghttpd_c);
    interop_stop(&nghttpd_tls);
    interop_stop(&nghttpd_small);
    interop_stop(&nginx);
    interop_stop(&h2o);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", www);
    return system(cmd) == 0 ? 0 : -1;
}

static char *url(const char *scheme, const char *host, int port, const char *path)
{
    static char bufs[4][256];
    static int n;
    char *b = bufs[n++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s://%s:%d%s", scheme, host, port, path);
    return b;
}

static void test_h2c_1000_streams_one_connection(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.http2_max_concurrent_streams = 1000;
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, "HTTP/2", (long)(6));
    itest_burst(&t, url("http", "127.0.0.1", p_c, "/small.txt"), 1000, &c);
    assert_int_equal(c.ok, 1000);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    assert_int_equal(st.requests_completed, 1000);
    itest_close(&t);
}

static void test_peer_stream_limit_respected(void **state)
{
    (void)state;
    /* nghttpd allows 10 streams; one connection: the rest wait in the queue. */
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = 1;
    cfg.max_connections = 1;
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, "HTTP/2", (long)(sizeof(big)));
    itest_burst(&t, url("http", "127.0.0.1", p_small, "/big.bin"), 100, &c);
    assert_int_equal(c.ok, 100);
    hxc_client_stats st;
    hxc_client_get_stats(t.client, &st);
    assert_int_equal(st.connections_opened, 1);
    itest_close(&t);

    /* With more connections allowed, new sessions open only as sessions fill. */
    cfg.max_connections = 100;
    itest_open(&t, &cfg);
    itest_counter d;
    itest_counter_init(&d, "HTTP/2", (long)(6));
    itest_burst(&t, url("http", "127.0.0.1", p_small, "/small.txt"), 35, &d);
    assert_int_equal(d.ok, 35);
    hxc_client_get_stats(t.client, &st);
    assert_true(st.connections_opened >= 1 && st.connections_opened <= 4);
    itest_close(&t);
}

static void fetch_big(const char *scheme, const char *host, int port, int http2,
                      const char *version)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.ca_file = ca;
    cfg.http2 = http2;
    itest t;
    itest_open(&t, &cfg);
    itest_counter c;
    itest_counter_init(&c, version, (long)sizeof(big));
    itest_burst(&t, url(scheme, host, port, "/big.bin"), 20, &c);
    assert_int_equal(c.ok, 20);
    hxc_future *f = itest_fetch(t.client, "GET", url(scheme, host, port, "/big.bin"), NULL);
    itest_assert_ok(f, 200);
    size_t len;
    const uint8_t *b = hxc_response_body(hxc_future_response(f), &len);
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(b, big, sizeof(big));
    hxc_future_free(f);
    f = itest_fetch(t.client, "HEAD", url(scheme, host, port, "/big.bin"), NULL);
    itest_assert_ok(f, 200);
    hxc_response_body(hxc_future_response(f), &len);
    assert_int_equal(len, 0);
    hxc_future_free(f);
    f = itest_fetch(t.client, "GET", url(scheme, host, port, "/missing"), NULL);
    itest_assert_ok(f, 404);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), version);
    hxc_future_free(f);
    if (strcmp(version, "HTTP/2") == 0) {
        hxc_client_stats st;
        hxc_client_get_stats(t.client, &st);
        assert_int_equal(st.connections_opened, 1); /* everything multiplexed */
    }
    itest_close(&t);
}

static void test_nghttpd_tls_alpn(void **state)
{
    (void)state;
    fetch_big("https", "localhost", p_tls, 1, "HTTP/2");
}

static void test_nginx_h2_and_fallback(void **state)
{
    (void)state;
    fetch_big("https", "localhost", p_nginx_h2, 1, "HTTP/2");
    /* HTTP/2 is opt-in: without it the same listener speaks HTTP/1.1. */
    fetch_big("https", "localhost", p_nginx_h2, 0, "HTTP/1.1");
    /* A listener without h2: ALPN picks http/1.1 and the requests still succeed. */
    fetch_big("https", "localhost", p_nginx_h1, 1, "HTTP/1.1");
}

static void test_h2o(void **state)
{
    (void)state;
    fetch_big("https", "localhost", p_h2o_tls, 1, "HTTP/2");
    fetch_big("http", "127.0.0.1", p_h2o_c, 1, "HTTP/1.1"); /* http:// stays HTTP/1.1 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h2c_1000_streams_one_connection),
        cmocka_unit_test(test_peer_stream_limit_respected),
        cmocka_unit_test(test_nghttpd_tls_alpn),
        cmocka_unit_test(test_nginx_h2_and_fallback),
        cmocka_unit_test(test_h2o),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
