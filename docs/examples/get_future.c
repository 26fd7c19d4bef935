/* SPDX-License-Identifier: MIT */
/* docs/examples/get_future.c - futures and hxc_run (docs/getting-started.md). */
#include <stdio.h>

#include <hxc/hxc.h>

static int body(hxc_client *client, void *arg)
{
    char **urls = arg;
    hxc_future *f[2];
    for (int i = 0; i < 2; i++) {
        hxc_request *req = NULL;
        int err = hxc_request_new(&req, "GET", urls[i]);
        if (err) {
            fprintf(stderr, "%s: %s\n", urls[i], hxc_strerror(err));
            return 1;
        }
        hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, 10); /* this request's deadline */
        f[i] = hxc_client_request(client, req);              /* always takes req */
    }
    hxc_future *both = hxc_future_all(f, 2);
    hxc_future_wait(both); /* runs the loop until both settled */
    for (int i = 0; i < 2; i++) {
        hxc_response *r = hxc_future_response(f[i]);
        int err = hxc_future_error(f[i]);
        if (err && hxc_error_is_timeout(err))
            printf("%s: timed out\n", urls[i]);
        else if (err)
            printf("%s: %s (%s)\n", urls[i], hxc_error_name(err), hxc_response_error_detail(r));
        else
            printf("%s: %d via %s, connection %llu\n", urls[i], hxc_response_status(r),
                   hxc_response_http_version(r), (unsigned long long)hxc_response_connection_id(r));
        hxc_future_free(f[i]);
    }
    hxc_future_free(both);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = 10;
    cfg.read_timeout = 5;
    return hxc_run(NULL, &cfg, body, argv + 1) != 0;
}
