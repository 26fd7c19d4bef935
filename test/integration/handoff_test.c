/* SPDX-License-Identifier: MIT */
/*
 * Integration: the pool's handoff (a queued request takes the connection a
 * response just freed). On HTTP/1.1 the bytes that follow a response in the
 * same read must never be parsed as the next request's response
 * (docs/architecture.md: "bytes that follow a response are never parsed as
 * another response: the connection is closed instead"): the connection is
 * handed over only once the read callback has returned, so a handoff in the
 * middle of the transport's read loop (found in review) cannot give the new
 * request, which the server has not even received, those bytes.
 */
#include <stdatomic.h>
#include <unistd.h>

#include "itest.h"
#include "rawpeer.h"

typedef struct peer_arg {
    atomic_int got_first; /* the first request's head was read */
    atomic_int sent;      /* the first response and the junk after it were sent */
    atomic_int answered_second;
    int total; /* bytes of the first response, head included */
} peer_arg;

/* Connection 0: one response of exactly `total` bytes and, in the same
 * send, a second complete response nobody asked for ("EVIL!"), then holds
 * the connection. Any later connection answers "fresh". */
static void script(rawpeer *p, int fd, int index, void *arg)
{
    peer_arg *a = arg;
    char head[8192];
    if (index > 0) {
        while (rawpeer_recv_head(p, fd, head, sizeof(head), 10000) > 0) {
            atomic_store(&a->answered_second, 1);
            if (rawpeer_send_str(p, fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh") != 0)
                return;
        }
        return;
    }
    if (rawpeer_recv_head(p, fd, head, sizeof(head), 10000) <= 0)
        return;
    atomic_store(&a->got_first, 1);
    const char *junk = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!";
    char h[128];
    int hl = snprintf(h, sizeof(h), "HTTP/1.1 200 OK\r\nContent-Length: %5d\r\n\r\n", 0);
    int body = a->total - hl;
    snprintf(h, sizeof(h), "HTTP/1.1 200 OK\r\nContent-Length: %5d\r\n\r\n", body);
    size_t n = (size_t)a->total + strlen(junk);
    char *buf = malloc(n);
    memcpy(buf, h, (size_t)hl);
    memset(buf + hl, 'a', (size_t)body);
    memcpy(buf + a->total, junk, strlen(junk));
    int rv = rawpeer_send(p, fd, buf, n, 10000);
    free(buf);
    if (rv != 0)
        return;
    atomic_store(&a->sent, 1);
    rawpeer_hold(p, -1); /* never reads the second request */
}

typedef struct got {
    int done;
    int err[2];
    char body[2][16];
} got;

static void got_cb(hxc_response *r, int err, void *ud)
{
    got *g = ud;
    int i = (int)(intptr_t)hxc_request_user_data(hxc_response_request(r));
    size_t len;
    const void *b = hxc_response_body(r, &len);
    g->err[i] = err;
    snprintf(g->body[i], sizeof(g->body[i]), "%.*s", len < 15 ? (int)len : 15, (const char *)b);
    g->done++;
}

/* A response that fills the transport's 64 KiB read buffer exactly, so that
 * the read loop goes on reading the same socket after it; a second request
 * waits in the queue (one connection allowed). The bytes after the first
 * response must close the connection, not answer the second request. */
static void test_bytes_after_response_not_given_to_next(void **state)
{
    (void)state;
    peer_arg a;
    memset(&a, 0, sizeof(a));
    a.total = 64 * 1024;
    rawpeer *peer = rawpeer_start(script, &a);
    assert_non_null(peer);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 1;
    cfg.total_timeout = 10;
    itest t;
    itest_open(&t, &cfg);
    char url[128];
    rawpeer_url(peer, "/", url, sizeof(url));
    got g;
    memset(&g, 0, sizeof(g));
    for (int i = 0; i < 2; i++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", url), 0);
        hxc_request_set_user_data(req, (void *)(intptr_t)i);
        assert_int_equal(hxc_client_send(t.client, req, got_cb, &g), 0);
    }
    /* Run the loop until the peer has the first request, then stop running
     * it while the peer sends, so that the client finds everything there at
     * its next read. */
    for (int i = 0; !atomic_load(&a.got_first) && i < 10000; i++) {
        event_base_loop(t.base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_true(atomic_load(&a.got_first));
    for (int i = 0; !atomic_load(&a.sent) && i < 10000; i++)
        usleep(1000);
    assert_true(atomic_load(&a.sent));
    usleep(100 * 1000);
    itest_run_until(t.base, &g.done, 2);
    int smuggled = g.err[1] == 0 && strcmp(g.body[1], "EVIL!") == 0;
    itest_close(&t);
    rawpeer_stop(peer);
    assert_int_equal(g.err[0], 0);
    if (smuggled)
        fail_msg("the second request got the bytes that followed the first response "
                 "(the server never answered it: answered_second=%d)",
                 atomic_load(&a.answered_second));
    /* What it should be: the connection closed, the second request carried
     * by a new one, answered there. */
    assert_int_equal(g.err[1], 0);
    assert_string_equal(g.body[1], "fresh");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_after_response_not_given_to_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
