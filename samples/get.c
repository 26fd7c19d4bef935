/*
 * samples/get.c - one GET in callback style, on an event_base of our own.
 *
 *   hxc-sample-get URL
 *
 * Shows the whole life of a client: open on a loop, send, receive the
 * response in a callback, close gracefully, run the loop until closed.
 */
#include <stdio.h>

#include <event2/event.h>

#include "hxc/hxc.h"

static void on_response(hxc_response *resp, int err, void *user_data)
{
    hxc_client *client = user_data;
    if (err) {
        fprintf(stderr, "failed: %s (%s)\n", hxc_strerror(err), hxc_response_error_detail(resp));
    } else {
        printf("%s %d %s\n", hxc_response_http_version(resp), hxc_response_status(resp),
               hxc_response_reason(resp));
        const hxc_headers *h = hxc_response_headers(resp);
        for (size_t i = 0; i < hxc_headers_count(h); i++) {
            const char *name, *value;
            hxc_headers_at(h, i, &name, &value);
            printf("%s: %s\n", name, value);
        }
        size_t len;
        const uint8_t *body = hxc_response_body(resp, &len);
        printf("\n");
        fwrite(body, 1, len, stdout);
    }
    /* Calling back into the library from a callback is safe: close now.
     * The response itself is freed when this callback returns. */
    hxc_client_close(client, NULL, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s URL\n", argv[0]);
        return 2;
    }
    struct event_base *base = event_base_new();
    hxc_client *client;
    int err = hxc_client_open(&client, base, NULL); /* NULL: default settings */
    if (err) {
        fprintf(stderr, "open: %s\n", hxc_strerror(err));
        return 1;
    }
    hxc_request *req = NULL;
    err = hxc_request_new(&req, "GET", argv[1]);
    if (err == 0)
        err = hxc_client_send(client, req, on_response, client); /* takes req on success */
    if (err) {
        fprintf(stderr, "%s: %s\n", argv[1], hxc_strerror(err));
        hxc_request_free(req); /* still ours: a failed call never takes ownership */
        hxc_client_close(client, NULL, NULL);
    }
    event_base_dispatch(base); /* returns once the client has closed */
    event_base_free(base);
    return err ? 1 : 0;
}
