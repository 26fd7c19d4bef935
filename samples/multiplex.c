/* SPDX-License-Identifier: MIT */
/*
 * samples/multiplex.c - 1000 concurrent requests over one HTTP/2 connection.
 *
 *   hxc-sample-multiplex URL [N]
 *
 * https:// URLs negotiate HTTP/2 by ALPN (http2 = 1, as HTTPX's
 * http2=True); http:// URLs use HTTP/2 by prior knowledge (h2c). The
 * client's stream cap is raised to N so that, if the server allows as many
 * concurrent streams, everything shares one connection. Prints how many
 * responses came over which protocol and which connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hxc/hxc.h>

typedef struct tally {
    int n, done, failed, h2, h1;
    uint64_t conns[64];
    int per_conn[64];
    int nconns;
} tally;

static void on_response(hxc_response *r, int err, void *ud)
{
    tally *t = ud;
    t->done++;
    if (err) {
        t->failed++;
        if (t->failed <= 3)
            fprintf(stderr, "error: %s (%s)\n", hxc_error_name(err), hxc_response_error_detail(r));
        return;
    }
    if (strcmp(hxc_response_http_version(r), "HTTP/2") == 0)
        t->h2++;
    else
        t->h1++;
    uint64_t id = hxc_response_connection_id(r);
    int i = 0;
    while (i < t->nconns && t->conns[i] != id)
        i++;
    if (i == t->nconns && t->nconns < 64)
        t->conns[t->nconns++] = id;
    if (i < 64)
        t->per_conn[i]++;
}

static const char *target_url;

static int body(hxc_client *client, void *arg)
{
    tally *t = arg;
    for (int i = 0; i < t->n; i++) {
        hxc_request *req = NULL;
        int err = hxc_request_new(&req, "GET", target_url);
        if (err == 0)
            err = hxc_client_send(client, req, on_response, t);
        if (err) {
            hxc_request_free(req);
            fprintf(stderr, "%s: %s\n", target_url, hxc_strerror(err));
            return 1;
        }
    }
    return 0; /* hxc_run closes the client once all of them are done */
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s URL [N]\n", argv[0]);
        return 2;
    }
    target_url = argv[1];
    tally t;
    memset(&t, 0, sizeof(t));
    t.n = argc == 3 ? atoi(argv[2]) : 1000;
    if (t.n < 1)
        return 2;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2 = 1; /* offer h2 by ALPN on https:// */
    cfg.http2_prior_knowledge = strncmp(target_url, "http://", 7) == 0; /* h2c */
    cfg.http2_max_concurrent_streams = (unsigned)t.n;
    const char *ca = getenv("HXC_CA_FILE");
    if (ca)
        cfg.ca_file = ca;
    int rv = hxc_run(NULL, &cfg, body, &t);
    printf("%d responses: %d over HTTP/2, %d over HTTP/1.x, %d failed, %d connection%s\n", t.done,
           t.h2, t.h1, t.failed, t.nconns, t.nconns == 1 ? "" : "s");
    for (int i = 0; i < t.nconns; i++)
        printf("  connection %llu carried %d\n", (unsigned long long)t.conns[i], t.per_conn[i]);
    return rv || t.failed ? 1 : 0;
}
