/* SPDX-License-Identifier: MIT */
/*
 * samples/embed.c - hxc inside an event-loop server.
 *
 *   hxc-sample-embed PORT        (0: any free port, printed at start)
 *   curl 'http://127.0.0.1:PORT/fetch?url=http://example.com/'
 *
 * An evhttp server (libevent's own HTTP server) listens on 127.0.0.1:PORT.
 * For each /fetch?url=URL it fetches URL with an hxc client that runs on the
 * SAME event_base, and relays the status and body back. The handler only
 * starts the fetch and returns; the reply is sent later, from the response
 * callback. Nothing ever blocks, so one thread serves any number of
 * clients and fetches at once.
 *
 * SIGINT (an evsignal event, so it too is handled on the loop) closes the
 * client gracefully: fetches in flight finish and are relayed, then the
 * loop ends and everything is freed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "hxc/hxc.h"

typedef struct server {
    struct event_base *base;
    hxc_client *client; /* NULL once closing: no new fetches */
    struct evhttp *http;
    struct evhttp_bound_socket *listener;
    struct event *sigint;
} server;

/* While closing, every reply also closes its connection, so that none is
 * left open and the loop can end once the last reply has been written. */
static void send_reply(server *s, struct evhttp_request *in, int code, const char *reason,
                       struct evbuffer *body)
{
    if (s->client == NULL)
        evhttp_add_header(evhttp_request_get_output_headers(in), "Connection", "close");
    if (body)
        evhttp_send_reply(in, code, reason, body);
    else
        evhttp_send_error(in, code, reason);
}

/* The response callback: relay what came back to the waiting evhttp request. */
static void relay(hxc_response *resp, int err, void *user_data)
{
    server *s = user_data;
    /* The evhttp request we are answering travels with the hxc request. */
    struct evhttp_request *in = hxc_request_user_data(hxc_response_request(resp));
    struct evbuffer *out = evbuffer_new();
    if (out == NULL) {
        send_reply(s, in, 500, NULL, NULL);
        return;
    }
    if (err) {
        /* The fetch failed: say why. The category would tell a timeout
         * (504 Gateway Timeout would fit) from the rest. */
        int code = hxc_error_is_timeout(err) ? 504 : 502;
        evbuffer_add_printf(out, "upstream failed: %s: %s (%s)\n", hxc_error_name(err),
                            hxc_strerror(err), hxc_response_error_detail(resp));
        send_reply(s, in, code, code == 504 ? "Gateway Timeout" : "Bad Gateway", out);
    } else {
        struct evkeyvalq *h = evhttp_request_get_output_headers(in);
        const char *type = hxc_headers_get(hxc_response_headers(resp), "Content-Type");
        if (type)
            evhttp_add_header(h, "Content-Type", type);
        evhttp_add_header(h, "X-Upstream-Version", hxc_response_http_version(resp));

        /* The buffered body; evbuffer_add copies it, since `resp` is freed
         * when this callback returns. */
        size_t len;
        const uint8_t *body = hxc_response_body(resp, &len);
        evbuffer_add(out, body, len);
        const char *reason = hxc_response_reason(resp); /* "" over HTTP/2 */
        send_reply(s, in, hxc_response_status(resp), *reason ? reason : NULL, out);
    }
    evbuffer_free(out);
}

/* evhttp's handler for /fetch: start the fetch, answer later. */
static void on_fetch(struct evhttp_request *in, void *arg)
{
    server *s = arg;
    if (s->client == NULL) { /* shutting down */
        send_reply(s, in, 503, "Shutting down", NULL);
        return;
    }

    /* The target is the `url` parameter of the query string (decoded). */
    struct evkeyvalq q;
    memset(&q, 0, sizeof(q));
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(in);
    const char *query = u ? evhttp_uri_get_query(u) : NULL;
    const char *target = NULL;
    if (query && evhttp_parse_query_str(query, &q) == 0)
        target = evhttp_find_header(&q, "url");

    hxc_request *req = NULL;
    int err = target ? hxc_request_new(&req, "GET", target) : HXC_EINVAL;
    if (err == 0) {
        /* A relay should neither keep its own client waiting for ever nor
         * buffer a body of any size: a deadline and a cap of our own. */
        hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, 30);
        hxc_request_set_max_body(req, 16u << 20);
        /* `in` goes with the request: evhttp keeps it until we reply (if
         * its client hangs up first, replying just frees it). */
        hxc_request_set_user_data(req, in);
        err = hxc_client_send(s->client, req, relay, s);
    }
    if (err) {
        hxc_request_free(req); /* not taken by the client: still ours */
        char msg[256];
        snprintf(msg, sizeof(msg), "%s: %s", target ? "cannot fetch" : "want /fetch?url=URL",
                 hxc_strerror(err));
        send_reply(s, in, 400, msg, NULL);
    }
    evhttp_clear_headers(&q); /* `target` pointed in here: it is used up above */
}

/* The client has closed: every fetch has finished and been relayed. */
static void on_closed(hxc_client *client, void *arg)
{
    (void)client;
    (void)arg;
    fprintf(stderr, "client closed; the loop ends once the last replies are written\n");
}

/* SIGINT, delivered on the loop like any event. */
static void on_sigint(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    server *s = arg;
    fprintf(stderr, "closing: fetches in flight finish first (^C again to quit now)\n");
    hxc_client *c = s->client;
    s->client = NULL; /* /fetch answers 503 from now on, and replies close connections */
    hxc_client_close(c, on_closed, s);

    /* No graceful step ends the loop by force (event_base_loopexit would
     * drop replies not yet written): instead, everything that keeps it
     * running goes away. No new connections: */
    evhttp_del_accept_socket(s->http, s->listener);
    s->listener = NULL;
    /* No more SIGINT handling: libevent restores the default action. */
    event_del(s->sigint);
    /* Left on the loop: the client until it has closed, and evhttp's
     * connections until their last reply is written (or they time out). */
}

int main(int argc, char **argv)
{
    char *end = NULL;
    errno = 0;
    long port = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || errno || *end || port < 0 || port > 65535) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }

    /* One loop for everything: the server, the client, the signal. */
    server s = {event_base_new(), NULL, NULL, NULL, NULL};
    if (s.base == NULL)
        return 1;
    int err = hxc_client_open(&s.client, s.base, NULL);
    if (err) {
        fprintf(stderr, "open: %s\n", hxc_strerror(err));
        event_base_free(s.base);
        return 1;
    }

    /* The server, on the same loop. */
    s.http = evhttp_new(s.base);
    if (s.http)
        s.listener = evhttp_bind_socket_with_handle(s.http, "127.0.0.1", (ev_uint16_t)port);
    if (s.listener == NULL) {
        fprintf(stderr, "cannot listen on 127.0.0.1:%ld\n", port);
        if (s.http)
            evhttp_free(s.http);
        hxc_client_close(s.client, NULL, NULL);
        event_base_dispatch(s.base); /* lets the close finish */
        event_base_free(s.base);
        return 1;
    }
    evhttp_set_timeout(s.http, 10); /* idle or silent connections go after 10 s */
    evhttp_set_cb(s.http, "/fetch", on_fetch, &s);
    if (port == 0) { /* PORT 0: the system chose one; say which */
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        if (getsockname(evhttp_bound_socket_get_fd(s.listener), (struct sockaddr *)&sin,
                        &len) == 0)
            port = ntohs(sin.sin_port);
    }

    /* SIGINT as an event: its callback runs on the loop, where calling hxc
     * is allowed (a plain signal handler could not). */
    s.sigint = evsignal_new(s.base, SIGINT, on_sigint, &s);
    if (s.sigint == NULL || event_add(s.sigint, NULL) != 0) {
        fprintf(stderr, "cannot handle SIGINT\n");
        return 1;
    }

    printf("listening on http://127.0.0.1:%ld/fetch?url=...  (^C to stop)\n", port);
    fflush(stdout);
    event_base_dispatch(s.base); /* returns once nothing is left on the loop */

    /* The client freed itself after on_closed; the rest is ours. */
    event_free(s.sigint);
    evhttp_free(s.http);
    event_base_free(s.base);
    return 0;
}
