/*
 * samples/futures.c - the same machinery with futures.
 *
 *   hxc-sample-futures URL...
 *
 * Starts every URL at once, waits for all of them with hxc_future_all(),
 * and shows hxc_future_then() for a callback when one settles.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hxc/hxc.h"

static void announce(hxc_future *f, void *user_data)
{
    printf("settled: %s (%s)\n", (const char *)user_data,
           hxc_future_error(f) ? hxc_strerror(hxc_future_error(f)) : "ok");
}

static int body(hxc_client *client, void *arg)
{
    char **urls = arg;
    int n = 0;
    while (urls[n])
        n++;
    hxc_future **fs = calloc((size_t)n, sizeof(*fs));
    for (int i = 0; i < n; i++) {
        hxc_request *req = NULL;
        int err = hxc_request_new(&req, "GET", urls[i]);
        if (err) {
            fprintf(stderr, "%s: %s\n", urls[i], hxc_strerror(err));
            continue;
        }
        fs[i] = hxc_client_request(client, req); /* always takes req */
        hxc_future_then(fs[i], announce, urls[i]);
    }
    int m = 0;
    for (int i = 0; i < n; i++) /* keep only the started ones */
        if (fs[i])
            fs[m++] = fs[i];
    hxc_future *all = hxc_future_all(fs, (size_t)m);
    int err = hxc_future_wait(all); /* runs the loop */
    for (int i = 0; i < m; i++) {
        hxc_response *r = hxc_future_response(fs[i]);
        size_t len;
        hxc_response_body(r, &len);
        printf("%s -> %d %s, %zu bytes, connection %llu%s%s\n", hxc_response_url(r),
               hxc_response_status(r), hxc_response_http_version(r), len,
               (unsigned long long)hxc_response_connection_id(r),
               hxc_response_error(r) ? ", error: " : "", hxc_response_error_detail(r));
        hxc_future_free(fs[i]);
    }
    hxc_future_free(all);
    free(fs);
    return err ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL...\n", argv[0]);
        return 2;
    }
    int rv = hxc_run(NULL, NULL, body, argv + 1);
    return rv ? 1 : 0;
}
