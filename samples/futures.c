/* SPDX-License-Identifier: MIT */
/*
 * samples/futures.c - the same requests, received as futures.
 *
 *   hxc-sample-futures URL...
 *
 * Starts every URL at once with hxc_client_request(), which returns a future
 * per request; combines them with hxc_future_all() and waits for that one
 * with hxc_future_wait(), which runs the loop; then prints each response.
 * hxc_future_then() adds a callback to a future: here, a line per request
 * as it settles, in completion order.
 *
 * hxc_run() provides the client: it opens one on a loop of its own, calls
 * `fetch_all`, then closes the client gracefully and runs the loop until it
 * has closed (the `async with httpx.AsyncClient()` of C).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hxc/hxc.h"

typedef struct batch {
    char **urls;
    int n;
    hxc_future **futures; /* one per URL; NULL where the request could not be built */
    hxc_future *all;      /* all of them */
    int failed;
} batch;

/* A hxc_future_then() callback: runs from the loop once `f` has settled. */
static void on_settled(hxc_future *f, void *user_data)
{
    const char *url = user_data;
    int err = hxc_future_error(f);
    printf("settled: %s (%s)\n", url, err ? hxc_error_name(err) : "ok");
}

static void on_all_settled(hxc_future *all, void *user_data)
{
    (void)user_data;
    printf("all settled, first error: %s\n", hxc_error_name(hxc_future_error(all)));
}

/* The body of hxc_run(): runs before the loop does, so it may wait. */
static int fetch_all(hxc_client *client, void *arg)
{
    batch *b = arg;

    /* 1. Start every request. hxc_client_request() always takes the request
     *    and only returns NULL when out of memory; any other failure at
     *    submission settles the future with that error. */
    int m = 0; /* futures actually made */
    hxc_future **started = calloc((size_t)b->n, sizeof(*started));
    if (started == NULL)
        return HXC_ENOMEM;
    for (int i = 0; i < b->n; i++) {
        hxc_request *req = NULL;
        int err = hxc_request_new(&req, "GET", b->urls[i]); /* checks the URL now */
        if (err) {
            fprintf(stderr, "%s: %s: %s\n", b->urls[i], hxc_error_name(err), hxc_strerror(err));
            b->failed++;
            continue;
        }
        b->futures[i] = hxc_client_request(client, req);
        if (b->futures[i] == NULL) {
            b->failed++;
            continue;
        }
        /* 2. A callback for when it settles; it never runs from inside this
         *    call, even for a future that has settled already. */
        hxc_future_then(b->futures[i], on_settled, b->urls[i]);
        started[m++] = b->futures[i];
    }

    /* 3. One future for all of them: it settles when every input has, with
     *    the first error in array order (or 0). It holds references of its
     *    own, so the inputs can be freed in any order. */
    b->all = hxc_future_all(started, (size_t)m);
    free(started); /* hxc_future_all() copied the array */
    if (b->all == NULL)
        return HXC_ENOMEM;
    hxc_future_then(b->all, on_all_settled, NULL);

    /* 4. Run the loop until `all` has settled. Its error is the first one
     *    in array order; each response says more below. */
    hxc_future_wait(b->all);

    /* 5. Every response is there, on success and on failure alike. */
    for (int i = 0; i < b->n; i++) {
        hxc_response *r = hxc_future_response(b->futures[i]); /* NULL for a NULL future */
        if (r == NULL)
            continue;
        int err = hxc_response_error(r);
        if (err) {
            printf("%s -> %s: %s (%s)\n", hxc_response_url(r), hxc_error_name(err),
                   hxc_strerror(err), hxc_response_error_detail(r));
            b->failed++;
            continue;
        }
        size_t len;
        hxc_response_body(r, &len);
        /* The connection id tells which responses shared a connection. */
        printf("%s -> %d %s, %zu bytes, connection %llu\n", hxc_response_url(r),
               hxc_response_status(r), hxc_response_http_version(r), len,
               (unsigned long long)hxc_response_connection_id(r));
    }

    /* The futures are kept until hxc_run() returns (see main): then()
     * callbacks run from the loop, so some may still be due now, and freeing
     * a future would drop those that have not run yet. */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s URL...\n", argv[0]);
        return 2;
    }
    batch b = {argv + 1, argc - 1, NULL, NULL, 0};
    b.futures = calloc((size_t)b.n, sizeof(*b.futures));
    if (b.futures == NULL)
        return 1;

    /* NULL loop: hxc_run() makes one and frees it. NULL settings: defaults. */
    int err = hxc_run(NULL, NULL, fetch_all, &b);
    if (err)
        fprintf(stderr, "hxc_run: %s\n", hxc_strerror(err));

    /* The client has closed, and every then() callback that was due has run.
     * A future outlives its client: its response stays readable until the
     * future is freed, which is always the caller's job. */
    for (int i = 0; i < b.n; i++)
        if (b.futures[i])
            hxc_future_free(b.futures[i]);
    if (b.all)
        hxc_future_free(b.all);
    free(b.futures);
    return err || b.failed ? 1 : 0;
}
