/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the HTTP/1.1 codec (proto/h1.c): bytes in, events out, no
 * sockets. Every response is fed whole and byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hxc/hxc.h"
#include "core/buf.h"
#include "core/internal.h"
#include "core/headers.h"
#include "proto/h1.h"

typedef struct rec {
    int status;
    char reason[64];
    const char *version;
    struct hxc_headers headers, trailers;
    hxc__buf body;
    int headers_done;
    int fail_at_header; /* return an error on this header index (1-based) */
} rec;

static int r_status(void *ud, int st, const char *r, size_t rl, const char *v)
{
    rec *x = ud;
    x->status = st;
    snprintf(x->reason, sizeof(x->reason), "%.*s", (int)rl, r);
    x->version = v;
    return 0;
}
static int r_header(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    rec *x = ud;
    if (x->fail_at_header && (int)x->headers.count + 1 == x->fail_at_header)
        return -1000;
    return hxc__headers_add(&x->headers, n, nl, v, vl);
}
static int r_done(void *ud, int64_t content_length)
{
    ((rec *)ud)->headers_done = 1;
    return 0;
}
static int r_body(void *ud, const uint8_t *d, size_t n)
{
    return hxc__buf_append(&((rec *)ud)->body, d, n);
}
static int r_trailer(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    return hxc__headers_add(&((rec *)ud)->trailers, n, nl, v, vl);
}

static const hxc__h1_events events = {r_status, r_header, r_done, r_body, r_trailer};

typedef struct run {
    rec r;
    hxc__h1 h;
    int rv;      /* result of the last feed, or of eof when asked */
    size_t used; /* bytes the final feed took */
} run;

static void run_free(run *x)
{
    hxc__h1_free(&x->h);
    hxc__headers_free(&x->r.headers);
    hxc__headers_free(&x->r.trailers);
    hxc__buf_free(&x->r.body);
}

/* Feeds `s` in pieces of `step` bytes (0 = whole); then EOF if `eof`. */
static void feed(run *x, const char *s, size_t len, size_t step, int head, int eof,
                 const hxc__h1_limits *lim)
{
    static const hxc__h1_limits dflt = {256 * 1024, 1000};
    memset(x, 0, sizeof(*x));
    hxc__headers_init(&x->r.headers);
    hxc__headers_init(&x->r.trailers);
    hxc__h1_init(&x->h, &events, &x->r, lim ? lim : &dflt);
    hxc__h1_begin(&x->h, head);
    size_t off = 0, total_used = 0;
    x->rv = 0;
    while (off < len && x->rv == 0) {
        size_t n = step && len - off > step ? step : len - off;
        x->rv = hxc__h1_feed(&x->h, (const uint8_t *)s + off, n, &x->used);
        total_used += x->used;
        off += n;
    }
    x->used = total_used;
    if (eof && x->rv == 0)
        x->rv = hxc__h1_eof(&x->h);
}

#define FEED_BOTH(x, s, head, eof, lim, check)                                                     \
    do {                                                                                           \
        for (size_t step_ = 0; step_ <= 1; step_++) {                                              \
            feed(x, s, sizeof(s) - 1, step_, head, eof, lim);                                      \
            check;                                                                                 \
            run_free(x);                                                                           \
        }                                                                                          \
    } while (0)

static void test_content_length(void **state)
{
    (void)state;
    run x;
    static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Empty:\r\n"
                            "X-Long: a b  c\r\n\r\nhello";
    FEED_BOTH(&x, s, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.used, sizeof(s) - 1);
        assert_int_equal(x.r.status, 200);
        assert_string_equal(x.r.reason, "OK");
        assert_string_equal(x.r.version, "HTTP/1.1");
        assert_int_equal(x.r.headers.count, 3);
        assert_string_equal(hxc_headers_get(&x.r.headers, "x-empty"), "");
        assert_string_equal(hxc_headers_get(&x.r.headers, "X-Long"), "a b  c");
        assert_int_equal(x.r.body.len, 5);
        assert_memory_equal(x.r.body.data, "hello", 5);
        assert_true(hxc__h1_keep_alive(&x.h));
    });
}

static void test_chunked_with_trailers(void **state)
{
    (void)state;
    run x;
    static const char s[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\nX-T: y\r\n\r\n";
    FEED_BOTH(&x, s, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.body.len, 11);
        assert_memory_equal(x.r.body.data, "hello world", 11);
        assert_int_equal(x.r.trailers.count, 2);
        assert_string_equal(hxc_headers_get(&x.r.trailers, "x-sum"), "11");
        assert_null(hxc_headers_get(&x.r.headers, "x-sum"));
        assert_true(hxc__h1_keep_alive(&x.h));
    });
}

static void test_close_delimited(void **state)
{
    (void)state;
    run x;
    static const char s[] = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end";
    FEED_BOTH(&x, s, 0, 1, NULL, {
        assert_int_equal(x.rv, 1);
        assert_string_equal(x.r.version, "HTTP/1.0");
        assert_int_equal(x.r.body.len, 13);
        assert_false(hxc__h1_keep_alive(&x.h));
    });
}

static void test_head_and_no_body_statuses(void **state)
{
    (void)state;
    run x;
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
    FEED_BOTH(&x, head, 1, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.body.len, 0);
        assert_true(hxc__h1_keep_alive(&x.h));
    });
    static const char s204[] = "HTTP/1.1 204 No Content\r\n\r\n";
    FEED_BOTH(&x, s204, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.status, 204);
    });
    static const char s304[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n";
    FEED_BOTH(&x, s304, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.body.len, 0);
    });
}

static void test_interim_skipped(void **state)
{
    (void)state;
    run x;
    static const char s[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                            "Link: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    FEED_BOTH(&x, s, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.status, 201);
        assert_string_equal(x.r.reason, "Created");
        assert_int_equal(x.r.headers.count, 1); /* the Link of the 103 is not kept */
        assert_memory_equal(x.r.body.data, "ok", 2);
    });
    static const char up[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n";
    FEED_BOTH(&x, up, 0, 0, NULL, assert_int_equal(x.rv, HXC_EPROTO_REMOTE));
    /* Interim responses count against the header budget. */
    hxc__h1_limits small = {60, 100};
    static const char many[] = "HTTP/1.1 103 Early Hints\r\nLink: </aaaaaaaaaaaaaaaaaaaaaa>\r\n\r\n"
                               "HTTP/1.1 103 Early Hints\r\nLink: </aaaaaaaaaaaaaaaaaaaaaa>\r\n\r\n"
                               "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    FEED_BOTH(&x, many, 0, 0, &small, assert_int_equal(x.rv, HXC_EHEADERS_TOO_LARGE));
}

static void test_leftover_and_keepalive(void **state)
{
    (void)state;
    run x;
    static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n";
    feed(&x, s, sizeof(s) - 1, 0, 0, 0, NULL);
    assert_int_equal(x.rv, 1);
    assert_int_equal(x.used, 40); /* the rest is never parsed as a response */
    assert_int_equal(x.r.body.len, 2);
    run_free(&x);
    static const char cl[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    FEED_BOTH(&x, cl, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_false(hxc__h1_keep_alive(&x.h));
    });
    static const char ka10[] =
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
    FEED_BOTH(&x, ka10, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_true(hxc__h1_keep_alive(&x.h));
    });
}

static void expect_proto_error(const char *s, size_t len)
{
    for (size_t step = 0; step <= 1; step++) {
        run x;
        feed(&x, s, len, step, 0, 1, NULL);
        if (x.rv != HXC_EPROTO_REMOTE)
            fail_msg("step %zu: %s -> %d", step, s, x.rv);
        assert_non_null(x.h.detail);
        assert_true(x.h.detail[0] != '\0');
        run_free(&x);
    }
}
#define BAD(s) expect_proto_error(s, sizeof(s) - 1)

static void test_malformed(void **state)
{
    (void)state;
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n");
    BAD("HELLO WORLD\r\n\r\n");
    BAD("HTTP/1.1 200 OK\nContent-Length: 5\n\nhello");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n");
    BAD("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    /* Truncations: body, chunked stream, header section. */
    BAD("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf");
    BAD("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n");
    BAD("HTTP/1.1 200 OK\r\nX-One: 1\r\n");
}

/* Feeds `s` in two pieces split at `k`, then EOF. */
static void feed_split(run *x, const char *s, size_t len, size_t k, const hxc__h1_limits *lim)
{
    static const hxc__h1_limits dflt = {256 * 1024, 1000};
    memset(x, 0, sizeof(*x));
    hxc__headers_init(&x->r.headers);
    hxc__headers_init(&x->r.trailers);
    hxc__h1_init(&x->h, &events, &x->r, lim ? lim : &dflt);
    hxc__h1_begin(&x->h, 0);
    x->rv = hxc__h1_feed(&x->h, (const uint8_t *)s, k, &x->used);
    if (x->rv == 0)
        x->rv = hxc__h1_feed(&x->h, (const uint8_t *)s + k, len - k, &x->used);
    if (x->rv == 0)
        x->rv = hxc__h1_eof(&x->h);
}

/* `s` split in two at every place, and byte by byte, ends with `want`
 * (and, for an error, a detail containing `detail` when given). */
static void expect_everywhere(const char *s, int want, const char *detail,
                              const hxc__h1_limits *lim)
{
    size_t len = strlen(s);
    for (size_t k = 0; k <= len + 1; k++) {
        run x;
        if (k <= len)
            feed_split(&x, s, len, k, lim);
        else
            feed(&x, s, len, 1, 0, 1, lim);
        if (x.rv != want)
            fail_msg("split at %zu: %s -> %d (%s), want %d", k, s, x.rv,
                     x.h.detail ? x.h.detail : "", want);
        if (want < 0 && detail && (x.h.detail == NULL || strstr(x.h.detail, detail) == NULL))
            fail_msg("split at %zu: detail \"%s\", want \"%s\"", k, x.h.detail ? x.h.detail : "",
                     detail);
        run_free(&x);
    }
}

static void test_obs_fold_rejected(void **state)
{
    (void)state;
    /* docs/architecture.md: obs-fold is an error (llhttp 8.1 would unfold
     * it silently), in every shape llhttp takes it: after a value, after an
     * empty value, continuing with nothing but spaces, in Content-Length, in
     * a 1xx head and in trailers. */
    static const char *const folds[] = {
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n\tfolded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A:\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A:   \r\n   folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n \r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-A:\r\n \r\nX-B: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-A:\r\n \r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length:\r\n 5\r\n\r\nhello",
        "HTTP/1.1 200 OK\r\nConnection: close\r\n  , x\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n ; rel=preload\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n 2\r\n\r\n",
    };
    for (size_t i = 0; i < HXC__ARRAY_SIZE(folds); i++)
        expect_everywhere(folds[i], HXC_EPROTO_REMOTE, "obsolete line folding", NULL);
    /* A CR alone in the whitespace before a value ends the line to llhttp
     * (it takes any byte as the LF): what follows is a fold or garbage. */
    expect_everywhere("HTTP/1.1 200 OK\r\nX-A:\rZ folded\r\nContent-Length: 0\r\n\r\n",
                      HXC_EPROTO_REMOTE, NULL, NULL);
    /* What looks like it and is not: empty values, spaces inside and around
     * values, a value cut anywhere by the split, a body that starts with a
     * space after a blank line. */
    expect_everywhere("HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Sp:    \r\nX-Long: a b  c \r\n"
                      "A:b\r\nX-Tab:\t1\t\r\nContent-Length: 6\r\n\r\n hello",
                      1, NULL, NULL);
    expect_everywhere("HTTP/1.1 200 OK\r\nX-Last:\r\n\r\n  body until close", 1, NULL, NULL);
    expect_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "2\r\n  \r\n0\r\nX-T:\r\nX-U:  1 2\r\n\r\n",
                      1, NULL, NULL);
}

/* Every byte of every head counts against the limit, 1xx heads included:
 * status lines, separators, line ends, whitespace llhttp skips, blank
 * lines. A head of exactly the limit passes, one byte more does not, fed
 * whole or cut anywhere; the body is never counted. */
static void expect_head_limit(const char *s, size_t head_len)
{
    hxc__h1_limits exact = {head_len, 1000}, under = {head_len - 1, 1000};
    expect_everywhere(s, 1, NULL, &exact);
    expect_everywhere(s, HXC_EHEADERS_TOO_LARGE, "byte limit", &under);
}

static void test_head_bytes_counted(void **state)
{
    (void)state;
    char s[2048];
    /* Whitespace llhttp skips before a value, and after it. */
    int n = snprintf(s, sizeof(s), "HTTP/1.1 200 OK\r\nX-Pad:%600s\r\nContent-Length: 5\r\n\r\n",
                     "x   ");
    strcat(s, "hello");
    expect_head_limit(s, (size_t)n);
    /* Empty-reason interim heads: nothing in them but what llhttp skips. */
    static const char interim[] = "HTTP/1.1 100\r\n\r\nHTTP/1.1 100\r\n\r\nHTTP/1.1 100\r\n\r\n"
                                  "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n";
    snprintf(s, sizeof(s), "%sok", interim);
    expect_head_limit(s, sizeof(interim) - 1);
    /* Blank lines before the status line are bytes of the head too. */
    static const char blank[] = "\r\n\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
    expect_head_limit(blank, sizeof(blank) - 1);
    /* A head that ends the message (HEAD, 204) and one of a chunked body. */
    static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    snprintf(s, sizeof(s), "%s5\r\nhello\r\n0\r\n\r\n", chunked);
    expect_head_limit(s, sizeof(chunked) - 1);
}

/* Endless whitespace in a trailer section counts too: reads that start after
 * the last chunk count whole. */
static void test_trailer_bytes_counted(void **state)
{
    (void)state;
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5\r\nhello\r\n0\r\nX-T:";
    size_t pad = 100000;
    char *s = malloc(sizeof(head) + pad + 16);
    assert_non_null(s);
    memcpy(s, head, sizeof(head) - 1);
    memset(s + sizeof(head) - 1, ' ', pad);
    strcpy(s + sizeof(head) - 1 + pad, "v\r\n\r\n");
    hxc__h1_limits lim = {16 * 1024, 100};
    run x;
    feed(&x, s, strlen(s), 1000, 0, 0, &lim);
    assert_int_equal(x.rv, HXC_EHEADERS_TOO_LARGE);
    run_free(&x);
    /* A small trailer section in reads of any size is fine. */
    strcpy(s + sizeof(head) - 1, " v\r\n\r\n");
    for (size_t step = 0; step <= 3; step++) {
        feed(&x, s, strlen(s), step, 0, 0, &lim);
        assert_int_equal(x.rv, 1);
        assert_string_equal(hxc_headers_get(&x.r.trailers, "x-t"), "v");
        run_free(&x);
    }
    free(s);
}

/* Endless chunk extensions end too: counted like a head (found in review). */
static void test_chunk_extensions_bounded(void **state)
{
    (void)state;
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;";
    size_t pad = 100000;
    char *s = malloc(sizeof(head) + pad + 32);
    assert_non_null(s);
    memcpy(s, head, sizeof(head) - 1);
    memset(s + sizeof(head) - 1, 'x', pad);
    strcpy(s + sizeof(head) - 1 + pad, "=1\r\nhello\r\n0\r\n\r\n");
    hxc__h1_limits lim = {16 * 1024, 100};
    run x;
    feed(&x, s, strlen(s), 1000, 0, 0, &lim);
    assert_int_equal(x.rv, HXC_EPROTO_REMOTE);
    assert_non_null(strstr(x.h.detail, "chunk extensions"));
    run_free(&x);
    /* A few are fine. */
    static const char few[] =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n";
    feed(&x, few, sizeof(few) - 1, 0, 0, 0, &lim);
    assert_int_equal(x.rv, 1);
    run_free(&x);
    free(s);
}

static void test_interim_cap(void **state)
{
    (void)state;
    /* Five interim responses are allowed (as Go does), the sixth is not. */
    char s[1024] = "";
    for (int i = 0; i < 5; i++)
        strcat(s, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
    static const char final[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    char six[sizeof(s) + sizeof(final) + 16];
    snprintf(six, sizeof(six), "%sHTTP/1.1 100\r\n\r\n%s", s, final);
    strcat(s, final);
    expect_everywhere(s, 1, NULL, NULL);
    expect_everywhere(six, HXC_EPROTO_REMOTE, "too many interim (1xx) responses", NULL);
    /* An endless stream of them ends at the sixth, not at the header limit. */
    run x;
    memset(&x, 0, sizeof(x));
    static const hxc__h1_limits lim = {256 * 1024, 1000};
    hxc__h1_init(&x.h, &events, &x.r, &lim);
    hxc__h1_begin(&x.h, 0);
    int rv = 0, fed = 0;
    for (; rv == 0 && fed < 1000; fed++)
        rv = hxc__h1_feed(&x.h, (const uint8_t *)"HTTP/1.1 100\r\n\r\n", 16, &x.used);
    assert_int_equal(rv, HXC_EPROTO_REMOTE);
    assert_int_equal(fed, 6);
    run_free(&x);
}

static void test_status_range(void **state)
{
    (void)state;
    /* llhttp takes any three digits (and fewer): below 100 and above 599 is
     * not an HTTP status (0 would read as "no response"). */
    static const char *const bad[] = {
        "HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 099\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 600 Big\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 999 Big\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < HXC__ARRAY_SIZE(bad); i++)
        expect_everywhere(bad[i], HXC_EPROTO_REMOTE, "status code out of range", NULL);
    run x;
    static const char edge[] = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 599 Edge\r\n"
                               "Content-Length: 0\r\n\r\n";
    FEED_BOTH(&x, edge, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.status, 599);
    });
}

static void test_interim_has_no_body(void **state)
{
    (void)state;
    /* RFC 9110 15.2: a 1xx ends with its head, whatever it announces; its
     * "body" is never read, and never given to the final response. */
    run x;
    static const char s[] = "HTTP/1.1 103 Early Hints\r\nContent-Length: 3\r\n\r\n"
                            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    FEED_BOTH(&x, s, 0, 0, NULL, {
        assert_int_equal(x.rv, 1);
        assert_int_equal(x.r.status, 200);
        assert_int_equal(x.r.body.len, 2);
        assert_memory_equal(x.r.body.data, "ok", 2);
    });
}

static void test_eof_without_bytes(void **state)
{
    (void)state;
    run x;
    feed(&x, "", 0, 0, 0, 1, NULL);
    assert_int_equal(x.rv, HXC_ECLOSED);
    run_free(&x);
}

static void test_limits_and_callback_errors(void **state)
{
    (void)state;
    hxc__h1_limits lim = {100, 3};
    run x;
    static const char big[] =
        "HTTP/1.1 200 OK\r\nX-Big: "
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\r\n";
    FEED_BOTH(&x, big, 0, 0, &lim, assert_int_equal(x.rv, HXC_EHEADERS_TOO_LARGE));
    static const char many[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    FEED_BOTH(&x, many, 0, 0, &lim, assert_int_equal(x.rv, HXC_EHEADERS_TOO_LARGE));
    static const char three[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
    FEED_BOTH(&x, three, 0, 0, &lim, assert_int_equal(x.rv, 1));
    /* A callback's error stops the parse with that error. */
    for (int step = 0; step <= 1; step++) {
        static const hxc__h1_limits dflt = {1000, 100};
        memset(&x, 0, sizeof(x));
        hxc__headers_init(&x.r.headers);
        hxc__headers_init(&x.r.trailers);
        x.r.fail_at_header = 2;
        hxc__h1_init(&x.h, &events, &x.r, &dflt);
        hxc__h1_begin(&x.h, 0);
        size_t used;
        int rv = 0;
        for (size_t i = 0; i < sizeof(three) - 1 && rv == 0; i += step ? 1 : sizeof(three))
            rv =
                hxc__h1_feed(&x.h, (const uint8_t *)three + i, step ? 1 : sizeof(three) - 1, &used);
        assert_int_equal(rv, -1000);
        assert_int_equal(hxc__h1_feed(&x.h, (const uint8_t *)"x", 1, &used), -1000);
        run_free(&x);
    }
}

static void test_reuse_for_next_response(void **state)
{
    (void)state;
    static const hxc__h1_limits lim = {1000, 100};
    rec r;
    memset(&r, 0, sizeof(r));
    hxc__headers_init(&r.headers);
    hxc__headers_init(&r.trailers);
    hxc__h1 h;
    hxc__h1_init(&h, &events, &r, &lim);
    for (int i = 0; i < 3; i++) {
        hxc__h1_begin(&h, 0);
        static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
        size_t used;
        assert_int_equal(hxc__h1_feed(&h, (const uint8_t *)s, sizeof(s) - 1, &used), 1);
        assert_int_equal(used, sizeof(s) - 1);
    }
    assert_int_equal(r.body.len, 3);
    hxc__h1_free(&h);
    hxc__headers_free(&r.headers);
    hxc__headers_free(&r.trailers);
    hxc__buf_free(&r.body);
}

static void test_encode_request(void **state)
{
    (void)state;
    struct hxc_headers h;
    hxc__headers_init(&h);
    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__h1_encode_request(&b, "GET", "/x?y=1", "h:8080", &h, 0, 0, "ua/1", "*/*"),
                     0);
    assert_string_equal((char *)b.data,
                        "GET /x?y=1 HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: ua/1\r\n"
                        "Accept: */*\r\n\r\n");
    hxc__buf_reset(&b);
    hxc__headers_add(&h, "Host", 4, "other", 5);
    hxc__headers_add(&h, "Accept", 6, "text/html", 9);
    hxc__headers_add(&h, "X-A", 3, "1", 1);
    assert_int_equal(hxc__h1_encode_request(&b, "POST", "/", "h", &h, 0, 0, "", "*/*"), 0);
    assert_string_equal((char *)b.data, "POST / HTTP/1.1\r\nHost: other\r\nAccept: text/html\r\n"
                                        "X-A: 1\r\nContent-Length: 0\r\n\r\n");
    hxc__buf_reset(&b);
    hxc__headers_clear(&h);
    assert_int_equal(hxc__h1_encode_request(&b, "DELETE", "/", "h", &h, 1, 42, NULL, "a/b"), 0);
    assert_string_equal((char *)b.data, "DELETE / HTTP/1.1\r\nHost: h\r\nAccept: a/b\r\n"
                                        "Content-Length: 42\r\n\r\n");
    hxc__buf_reset(&b);
    /* No default Accept: the client was configured with "" (or none given). */
    assert_int_equal(hxc__h1_encode_request(&b, "GET", "/", "h", &h, 0, 0, NULL, ""), 0);
    assert_string_equal((char *)b.data, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    hxc__buf_free(&b);
    hxc__headers_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_chunked_with_trailers),
        cmocka_unit_test(test_close_delimited),
        cmocka_unit_test(test_head_and_no_body_statuses),
        cmocka_unit_test(test_interim_skipped),
        cmocka_unit_test(test_leftover_and_keepalive),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_obs_fold_rejected),
        cmocka_unit_test(test_head_bytes_counted),
        cmocka_unit_test(test_interim_cap),
        cmocka_unit_test(test_status_range),
        cmocka_unit_test(test_interim_has_no_body),
        cmocka_unit_test(test_eof_without_bytes),
        cmocka_unit_test(test_limits_and_callback_errors),
        cmocka_unit_test(test_trailer_bytes_counted),
        cmocka_unit_test(test_chunk_extensions_bounded),
        cmocka_unit_test(test_reuse_for_next_response),
        cmocka_unit_test(test_encode_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
