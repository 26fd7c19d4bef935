/* SPDX-License-Identifier: MIT */
/*
 * samples/get.c - one GET in callback style, on an event_base of our own.
 *
 *   hxc-sample-get URL
 *
 * The whole life of a client, step by step:
 *   1. create a libevent loop (the caller owns it, hxc never runs it on its own);
 *   2. open a client on it;
 *   3. build a request and send it: the response arrives in a callback;
 *   4. close the client gracefully; a "closed" callback says when it is gone;
 *   5. run the loop: it returns once nothing is left on it;
 *   6. free the loop.
 */
#include <stdio.h>

#include <event2/event.h>

#include "hxc/hxc.h"

/* What the callbacks share: passed to them as `user_data`. */
typedef struct app {
    hxc_client *client;
    int failed;
} app;

/* Step 4b: runs from the loop once every connection is closed. The client's
 * memory is freed when this returns, so forget the pointer. */
static void on_closed(hxc_client *client, void *user_data)
{
    app *a = user_data;
    (void)client;
    a->client = NULL;
    fprintf(stderr, "(client closed)\n");
}

/* Step 3b: the response callback. It runs exactly once per request sent, on
 * success and on failure alike: `err` is 0 or a negative hxc error. */
static void on_response(hxc_response *resp, int err, void *user_data)
{
    app *a = user_data;

    if (err) {
        /* A failure: the name ("HXC_ECONNECT"), the sentence, and a detail
         * from the layer that failed (errno text, OpenSSL reason...). */
        fprintf(stderr, "failed: %s: %s (%s)\n", hxc_error_name(err), hxc_strerror(err),
                hxc_response_error_detail(resp));
        a->failed = 1;
    } else {
        /* Any status is a response, 404 and 500 included: not an error. */
        printf("%s %d %s\n", hxc_response_http_version(resp), hxc_response_status(resp),
               hxc_response_reason(resp));

        /* Header fields in the order they came, names in the server's case. */
        const hxc_headers *h = hxc_response_headers(resp);
        for (size_t i = 0; i < hxc_headers_count(h); i++) {
            const char *name, *value;
            hxc_headers_at(h, i, &name, &value);
            printf("%s: %s\n", name, value);
        }
        printf("\n");

        /* The body is buffered whole (see hxc_request_on_response_stream()
         * for large bodies). It may hold NUL bytes: write it with its length. */
        size_t len;
        const uint8_t *body = hxc_response_body(resp, &len);
        fwrite(body, 1, len, stdout);
    }

    /* Step 4a: calling back into the library from a callback is safe, so the
     * client can be closed right here. Close is graceful: had other requests
     * been running they would finish first. `resp` is freed when this
     * callback returns (hxc_response_retain() would keep it). */
    hxc_client_close(a->client, on_closed, a);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }

    /* Step 1: the loop. */
    struct event_base *base = event_base_new();
    if (base == NULL) {
        fprintf(stderr, "event_base_new failed\n");
        return 1;
    }

    /* Step 2: the client. NULL settings mean the defaults (timeouts, pool
     * size, TLS verification on); see hxc_client_config_init() to change them. */
    app a = {NULL, 0};
    int err = hxc_client_open(&a.client, base, NULL);
    if (err) {
        fprintf(stderr, "open: %s\n", hxc_strerror(err));
        event_base_free(base);
        return 1;
    }

    /* Step 3a: the request. hxc_request_new() parses and checks the URL at
     * once, so a bad URL fails here and not later in the callback. */
    hxc_request *req = NULL;
    err = hxc_request_new(&req, "GET", argv[1]);
    if (err == 0)
        err = hxc_client_send(a.client, req, on_response, &a); /* takes req on success */
    if (err) {
        fprintf(stderr, "%s: %s: %s\n", argv[1], hxc_error_name(err), hxc_strerror(err));
        hxc_request_free(req); /* still ours: a failed send never takes it (NULL is fine) */
        a.failed = 1;
        hxc_client_close(a.client, on_closed, &a); /* nothing was sent: close at once */
    }

    /* Step 5: run the loop. The request, then the close, happen in here; once
     * the client has closed nothing is left on the loop and dispatch returns. */
    event_base_dispatch(base);

    /* Step 6: the client is gone (on_closed ran); the loop is ours to free. */
    event_base_free(base);
    return a.failed ? 1 : 0;
}
