/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: hostile server bytes into the HTTP/1.1 response codec.
 * The first byte picks where the input is split (so state carried across
 * feeds is exercised) and whether the request was HEAD. Never crashes,
 * never leaks, always ends with a complete response or a clean error.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/headers.h"
#include "proto/h1.h"

typedef struct sink {
    struct hxc_headers h;
    size_t body;
} sink;

static int on_status(void *ud, int st, const char *r, size_t rl, const char *v)
{
    (void)ud, (void)st, (void)r, (void)rl, (void)v;
    return 0;
}
static int on_header(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    return hxc__headers_add(&((sink *)ud)->h, n, nl, v, vl);
}
static int on_done(void *ud, int64_t content_length)
{
    (void)ud;
    return 0;
}
static int on_body(void *ud, const uint8_t *d, size_t n)
{
    (void)d;
    ((sink *)ud)->body += n;
    return ((sink *)ud)->body > (1u << 20) ? -100 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const hxc__h1_events ev = {on_status, on_header, on_done, on_body, on_header};
    hxc__h1_limits lim = {8192, 64};
    sink s = {0};
    hxc__headers_init(&s.h);
    hxc__h1 h;
    hxc__h1_init(&h, &ev, &s, &lim);
    hxc__h1_begin(&h, data[0] & 1);
    size_t split = size > 1 ? (data[0] >> 1) % size : 0;
    data++, size--;
    if (split > size)
        split = size;
    size_t used;
    int rv = hxc__h1_feed(&h, data, split, &used);
    if (rv == 0)
        rv = hxc__h1_feed(&h, data + split, size - split, &used);
    if (rv == 0)
        rv = hxc__h1_eof(&h);
    (void)rv;
    hxc__h1_free(&h);
    hxc__headers_free(&s.h);
    return 0;
}
