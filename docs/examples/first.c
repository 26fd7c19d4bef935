/* SPDX-License-Identifier: MIT */
/* docs/examples/first.c - the first program of README.md, compiled by the build. */
#include <hxc/hxc.h>
#include <stdio.h>

static int body(hxc_client *client, void *arg)
{
    hxc_request *req;
    if (hxc_request_new(&req, "GET", arg) != 0)
        return 1;
    hxc_future *f = hxc_client_request(client, req);   /* takes the request */
    int err = hxc_future_wait(f);                      /* runs the loop until done */
    hxc_response *resp = hxc_future_response(f);
    if (err)
        fprintf(stderr, "%s: %s\n", hxc_strerror(err), hxc_response_error_detail(resp));
    else
        printf("%d %s via %s\n%s", hxc_response_status(resp),
               hxc_response_reason(resp), hxc_response_http_version(resp),
               (const char *)hxc_response_body(resp, NULL));
    hxc_future_free(f);
    return err != 0;
}

int main(int argc, char **argv)
{
    /* Opens a client on a loop of its own, runs body(), closes gracefully. */
    return argc > 1 ? hxc_run(NULL, NULL, body, argv[1]) : 2;
}
