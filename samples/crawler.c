/*
 * samples/crawler.c - many URLs with a concurrency cap, per-request
 * timeouts, and failures counted by category.
 *
 *   hxc-sample-crawler [--max N] URL...
 *
 * A crawler never lets one slow server hold a slot forever: each request
 * gets a short read timeout and a total deadline of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hxc/hxc.h"

typedef struct crawl {
    hxc_client *client;
    char **urls;
    int n, next, running, max;
    int ok, by_category[HXC_CAT_UNKNOWN + 1];
} crawl;

static void launch(crawl *c);

static void on_response(hxc_response *r, int err, void *ud)
{
    crawl *c = ud;
    c->running--;
    if (err == 0)
        c->ok++;
    c->by_category[hxc_error_category(err)]++;
    printf("%-50s %3d %s\n", hxc_response_url(r), hxc_response_status(r),
           err ? hxc_error_name(err) : hxc_response_http_version(r));
    launch(c); /* refill the free slot from inside the callback */
    if (c->running == 0 && c->next == c->n)
        hxc_client_close(c->client, NULL, NULL);
}

static void launch(crawl *c)
{
    while (c->running < c->max && c->next < c->n) {
        const char *url = c->urls[c->next++];
        hxc_request *req = NULL;
        int err = hxc_request_new(&req, "GET", url);
        if (err == 0) {
            hxc_request_set_timeout(req, HXC_TIMEOUT_READ, 5);
            hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, 20);
            hxc_request_set_max_body(req, 10u << 20);
            err = hxc_client_send(c->client, req, on_response, c);
        }
        if (err) {
            hxc_request_free(req);
            c->by_category[hxc_error_category(err)]++;
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
        c.max = atoi(argv[2]);
        i = 3;
    }
    if (i >= argc || c.max < 1) {
        fprintf(stderr, "usage: %s [--max N] URL...\n", argv[0]);
        return 2;
    }
    c.urls = argv + i;
    c.n = argc - i;
    struct event_base *base = event_base_new();
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_connections = (unsigned)c.max;
    cfg.max_connections_per_host = 6; /* be polite to each host */
    if (hxc_client_open(&c.client, base, &cfg) != 0)
        return 1;
    launch(&c);
    if (c.running == 0)
        hxc_client_close(c.client, NULL, NULL);
    event_base_dispatch(base);
    event_base_free(base);
    printf("\n%d ok; failures: timeout %d, network %d, tls %d, protocol %d, policy %d, usage %d\n",
           c.ok, c.by_category[HXC_CAT_TIMEOUT], c.by_category[HXC_CAT_NETWORK],
           c.by_category[HXC_CAT_TLS], c.by_category[HXC_CAT_PROTOCOL],
           c.by_category[HXC_CAT_POLICY], c.by_category[HXC_CAT_USAGE]);
    return c.ok == c.n ? 0 : 1;
}
