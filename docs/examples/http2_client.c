/* SPDX-License-Identifier: MIT */
/* docs/examples/http2_client.c - HTTP/2 opt-in, as in HTTPX (docs/http2.md). */
#include <stdio.h>
#include <string.h>

#include <hxc/hxc.h>

static int body(hxc_client *client, void *arg)
{
    const char *url = arg;
    hxc_future *f[3];
    for (int i = 0; i < 3; i++) {
        hxc_request *req = NULL;
        if (hxc_request_new(&req, "GET", url) != 0)
            return 1;
        hxc_request_set_priority(req, i, 0); /* RFC 9218: u=0 is the most urgent */
        f[i] = hxc_client_request(client, req);
    }
    hxc_future *all = hxc_future_all(f, 3);
    int err = hxc_future_wait(all);
    for (int i = 0; i < 3; i++) {
        hxc_response *r = hxc_future_response(f[i]);
        /* "HTTP/2" when the server chose h2 by ALPN, else "HTTP/1.1". */
        printf("%d %s on connection %llu\n", hxc_response_status(r), hxc_response_http_version(r),
               (unsigned long long)hxc_response_connection_id(r));
        hxc_future_free(f[i]);
    }
    hxc_future_free(all);
    return err != 0;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2 = 1; /* offer h2 by ALPN on https:// */
    if (strncmp(argv[1], "http://", 7) == 0)
        cfg.http2_prior_knowledge = 1; /* h2c: the server must speak HTTP/2 */
    return hxc_run(NULL, &cfg, body, argv[1]);
}
