/* SPDX-License-Identifier: MIT */
/*
 * samples/crawler.c - many URLs with a concurrency cap, per-request
 * timeouts, and failures counted by category.
 *
 *   hxc-sample-crawler [--max N] URL...
 *
 * At most N requests run at once (default 50): each response callback
 * starts the next URL. A crawler must not let one slow server hold a slot
 * for ever, so every request gets timeouts of its own, shorter than the
 * client's defaults. Failures are sorted by hxc_error_category(): the kind
 * of failure (timeout, network, TLS...) is what a crawler acts on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hxc/hxc.h"

typedef struct crawl {
    hxc_client *client;
    char **urls;
    int n, next; /* URLs, and the index of the next one to start */
    int running, max;
    int ok;                            /* got a response (any status) */
    int failed[HXC_CAT_UNKNOWN + 1];   /* failures, indexed by category */
} crawl;

static const char *const category_names[HXC_CAT_UNKNOWN + 1] = {
    [HXC_CAT_NONE] = "none",           [HXC_CAT_USAGE] = "usage",
    [HXC_CAT_TIMEOUT] = "timeout",     [HXC_CAT_NETWORK] = "network",
    [HXC_CAT_TLS] = "tls",             [HXC_CAT_PROTOCOL] = "protocol",
    [HXC_CAT_POLICY] = "policy",       [HXC_CAT_CANCELLED] = "cancelled",
    [HXC_CAT_UNKNOWN] = "unknown",
};

static void launch(crawl *c);

static void done_if_finished(crawl *c)
{
    /* Nothing running and nothing left: close, and the loop will end. */
    if (c->running == 0 && c->next == c->n && c->client) {
        hxc_client_close(c->client, NULL, NULL);
        c->client = NULL; /* freed by the library once closed */
    }
}

static void on_response(hxc_response *r, int err, void *user_data)
{
    crawl *c = user_data;
    c->running--;
    if (err == 0) {
        c->ok++;
        printf("%-50s %3d %s\n", hxc_response_url(r), hxc_response_status(r),
               hxc_response_http_version(r));
    } else {
        /* The category says what kind of failure it was; the name says which. */
        c->failed[hxc_error_category(err)]++;
        printf("%-50s %3d %s (%s)\n", hxc_response_url(r), hxc_response_status(r),
               hxc_error_name(err), hxc_response_error_detail(r));
    }
    launch(c); /* a slot is free: refill it from inside the callback, that is allowed */
    done_if_finished(c);
}

/* Starts URLs until `max` run at once or none is left. */
static void launch(crawl *c)
{
    while (c->running < c->max && c->next < c->n) {
        const char *url = c->urls[c->next++];
        hxc_request *req = NULL;
        int err = hxc_request_new(&req, "GET", url); /* a bad URL fails here */
        if (err == 0) {
            /* Per-request overrides of the client's timeouts (seconds):
             * connect, the longest silence while reading, and a deadline
             * for the whole exchange. */
            hxc_request_set_timeout(req, HXC_TIMEOUT_CONNECT, 5);
            hxc_request_set_timeout(req, HXC_TIMEOUT_READ, 5);
            hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, 20);
            /* And no page bigger than 10 MiB (HXC_EBODY_TOO_LARGE, a policy failure). */
            hxc_request_set_max_body(req, 10u << 20);
            err = hxc_client_send(c->client, req, on_response, c); /* takes req */
        }
        if (err) {
            hxc_request_free(req); /* not taken: still ours (NULL is fine) */
            c->failed[hxc_error_category(err)]++;
            printf("%-50s     %s\n", url, hxc_error_name(err));
            continue;
        }
        c->running++;
    }
}

int main(int argc, char **argv)
{
    crawl c;
    memset(&c, 0, sizeof(c));
    c.max = 50;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--max") == 0) {
        char *end;
        errno = 0;
        long v = strtol(argv[2], &end, 10);
        c.max = (errno || *end || v < 1 || v > 10000) ? 0 : (int)v;
        i = 3;
    }
    if (i >= argc || c.max < 1) {
        fprintf(stderr, "usage: %s [--max N] URL...\n", argv[0]);
        return 2;
    }
    c.urls = argv + i;
    c.n = argc - i;

    struct event_base *base = event_base_new();
    if (base == NULL)
        return 1;

    /* The pool follows the cap, but no more than 6 connections to one host:
     * be polite. Requests beyond that wait in the pool's queue. */
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = (unsigned)c.max;
    cfg.max_connections_per_host = 6;
    int err = hxc_client_open(&c.client, base, &cfg);
    if (err) {
        fprintf(stderr, "open: %s\n", hxc_strerror(err));
        event_base_free(base);
        return 1;
    }

    launch(&c);
    done_if_finished(&c);      /* in case no URL could even be started */
    event_base_dispatch(base); /* until the client has closed */
    event_base_free(base);

    int nfailed = c.n - c.ok;
    printf("\n%d of %d fetched, %d failed", c.ok, c.n, nfailed);
    for (int k = HXC_CAT_USAGE; k <= HXC_CAT_UNKNOWN; k++)
        if (c.failed[k])
            printf(", %s %d", category_names[k], c.failed[k]);
    printf("\n");
    return nfailed ? 1 : 0;
}
