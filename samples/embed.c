/*
 * samples/embed.c - hxc inside an event-loop server.
 *
 *   hxc-sample-embed PORT      then: curl 'http://127.0.0.1:PORT/fetch?url=http://...'
 *
 * An evhttp server on 127.0.0.1 relays each /fetch to the URL given, with
 * an hxc client on the same event_base: the server never blocks while the
 * fetch runs. SIGINT closes the client gracefully, then the loop ends.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "hxc/hxc.h"

static hxc_client *client;
static struct evhttp *http;

static void relay(hxc_response *resp, int err, void *ud)
{
    struct evhttp_request *in = ud;
    struct evbuffer *out = evbuffer_new();
    if (err) {
        evbuffer_add_printf(out, "upstream failed: %s (%s)\n", hxc_strerror(err),
                            hxc_response_error_detail(resp));
        evhttp_send_reply(in, 502, "Bad Gateway", out);
    } else {
        size_t len;
        const uint8_t *body = hxc_response_body(resp, &len);
        evbuffer_add(out, body, len);
        evhttp_add_header(evhttp_request_get_output_headers(in), "X-Upstream-Version",
                          hxc_response_http_version(resp));
        evhttp_send_reply(in, hxc_response_status(resp), hxc_response_reason(resp), out);
    }
    evbuffer_free(out);
}

static void on_fetch(struct evhttp_request *in, void *arg)
{
    (void)arg;
    struct evkeyvalq q;
    const char *uri = evhttp_request_get_uri(in);
    struct evhttp_uri *u = evhttp_uri_parse(uri);
    const char *query = u ? evhttp_uri_get_query(u) : NULL;
    memset(&q, 0, sizeof(q));
    const char *target = NULL;
    if (query && evhttp_parse_query_str(query, &q) == 0)
        target = evhttp_find_header(&q, "url");
    hxc_request *req = NULL;
    int err = target ? hxc_request_new(&req, "GET", target) : HXC_EINVAL;
    if (err == 0)
        err = hxc_client_send(client, req, relay, in);
    if (err) {
        hxc_request_free(req);
        evhttp_send_error(in, 400, hxc_strerror(err));
    }
    evhttp_clear_headers(&q);
    if (u)
        evhttp_uri_free(u);
}

static void on_closed(hxc_client *c, void *ud)
{
    (void)c;
    event_base_loopexit(ud, NULL);
}

static void on_sigint(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    hxc_client_close(client, on_closed, arg); /* in-flight fetches finish first */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    if (hxc_client_open(&client, base, NULL) != 0)
        return 1;
    http = evhttp_new(base);
    if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
        fprintf(stderr, "cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    evhttp_set_cb(http, "/fetch", on_fetch, NULL);
    struct event *sig = evsignal_new(base, SIGINT, on_sigint, base);
    event_add(sig, NULL);
    printf("listening on http://127.0.0.1:%s/fetch?url=...\n", argv[1]);
    fflush(stdout);
    event_base_dispatch(base);
    event_free(sig);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
