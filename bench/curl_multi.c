/* SPDX-License-Identifier: MIT */
/*
 * bench/curl_multi.c - the libcurl side of the comparison: a small driver on
 * curl's multi interface with the same shape of load as h2load/hxc-load:
 *
 *   curl-multi -n N -c CONNS -m STREAMS [--h1 | --h2c] [--insecure] URL
 *
 * CONNS x STREAMS easy handles stay busy (HTTP/2 multiplexing through
 * CURLPIPE_MULTIPLEX, at most CONNS connections); each finished transfer is
 * restarted until N are done. Prints "finished in S s, R req/s, N requests,
 * F failed" like the other tools' summary lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

static size_t sink(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    *(size_t *)ud += s * n;
    return s * n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = 1000, c = 1, m = 1;
    int h1 = 0, h2c = 0, insecure = 0;
    const char *url = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = atol(argv[++i]);
        else if (!strcmp(argv[i], "-c") && i + 1 < argc)
            c = atol(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            m = atol(argv[++i]);
        else if (!strcmp(argv[i], "--h1"))
            h1 = 1;
        else if (!strcmp(argv[i], "--h2c"))
            h2c = 1;
        else if (!strcmp(argv[i], "--insecure"))
            insecure = 1;
        else
            url = argv[i];
    }
    if (url == NULL || n < 1 || c < 1 || m < 1) {
        fprintf(stderr,
                "usage: curl-multi -n N -c CONNS -m STREAMS [--h1|--h2c] [--insecure] URL\n");
        return 2;
    }
    if (h1)
        m = 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, h1 ? CURLPIPE_NOTHING : CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, c);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, c);
    curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, m);
    long slots = c * m, started = 0, done = 0, failed = 0;
    size_t bytes = 0;
    CURL **easy = calloc((size_t)slots, sizeof(*easy));
    for (long i = 0; i < slots && started < n; i++, started++) {
        easy[i] = curl_easy_init();
        curl_easy_setopt(easy[i], CURLOPT_URL, url);
        curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, sink);
        curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &bytes);
        curl_easy_setopt(easy[i], CURLOPT_HTTP_VERSION,
                         h1    ? CURL_HTTP_VERSION_1_1
                         : h2c ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                               : CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(easy[i], CURLOPT_PIPEWAIT, 1L); /* wait to multiplex, not a new conn */
        if (insecure) {
            curl_easy_setopt(easy[i], CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(easy[i], CURLOPT_SSL_VERIFYHOST, 0L);
        }
        curl_multi_add_handle(multi, easy[i]);
    }
    double t0 = now();
    int running = 1;
    while (done < n && running >= 0) {
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *e = msg->easy_handle;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            done++;
            if (msg->data.result != CURLE_OK || code >= 400) {
                if (failed++ == 0)
                    fprintf(stderr, "curl-multi: first failure: %s (status %ld)\n",
                            curl_easy_strerror(msg->data.result), code);
            }
            curl_multi_remove_handle(multi, e);
            if (started < n) { /* same handle, next transfer: connections are reused */
                started++;
                curl_multi_add_handle(multi, e);
            }
        }
        if (done < n)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    double secs = now() - t0;
    printf("finished in %.3fs, %.2f req/s, %ld requests, %ld failed, %zu bytes\n", secs,
           (double)done / secs, done, failed, bytes);
    for (long i = 0; i < slots; i++)
        if (easy[i])
            curl_easy_cleanup(easy[i]);
    free(easy);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
