/* SPDX-License-Identifier: MIT */
/* docs/examples/get_callback.c - callback style (docs/getting-started.md). */
#include <stdio.h>

#include <event2/event.h>
#include <hxc/hxc.h>

static void on_response(hxc_response *resp, int err, void *user_data)
{
    hxc_client *client = user_data;
    if (err)
        fprintf(stderr, "%s: %s (%s)\n", hxc_response_url(resp), hxc_error_name(err),
                hxc_response_error_detail(resp));
    else {
        size_t len;
        hxc_response_body(resp, &len);
        printf("%d %s, %zu bytes over %s\n", hxc_response_status(resp), hxc_response_reason(resp),
               len, hxc_response_http_version(resp));
    }
    hxc_client_close(client, NULL, NULL); /* safe from inside a callback */
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    struct event_base *base = event_base_new();
    hxc_client *client;
    if (hxc_client_open(&client, base, NULL) != 0)
        return 1;
    hxc_request *req = NULL;
    int err = hxc_request_new(&req, "GET", argv[1]);
    if (err == 0)
        err = hxc_client_send(client, req, on_response, client);
    if (err) {
        fprintf(stderr, "%s\n", hxc_strerror(err));
        hxc_request_free(req); /* a failed send leaves the request with us */
        hxc_client_close(client, NULL, NULL);
    }
    event_base_dispatch(base); /* until the client has closed */
    event_base_free(base);
    return err != 0;
}
