/* SPDX-License-Identifier: MIT */
/*
 * Unit: the HTTP/1.1 codec's framing (proto/h1.c over llhttp 8.1, compiled
 * in strict mode). Found in review: in llhttp's loose mode what follows a
 * chunk's data was not checked (any two bytes passed as its CRLF) and any
 * byte after the status line's CR passed as its LF (so "\rContent-Length"
 * became a field named "ontent-Length"). Each response here must end as a
 * protocol error, fed whole and byte by byte. A lone LF as a line end is
 * taken where RFC 9112 2.2 lets a recipient take it and llhttp does (after
 * the status line, ending a head or the trailers), and refused inside a
 * field line (test/integration/faults_test.c, /bad/bare-lf).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hxc/hxc.h"
#include "core/internal.h"
#include "proto/h1.h"

static int r_status(void *ud, int st, const char *r, size_t rl, const char *v)
{
    (void)ud, (void)st, (void)r, (void)rl, (void)v;
    return 0;
}
static int r_field(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    (void)ud, (void)n, (void)nl, (void)v, (void)vl;
    return 0;
}
static int r_done(void *ud, int64_t content_length)
{
    (void)ud;
    return 0;
}
static int r_body(void *ud, const uint8_t *d, size_t n)
{
    (void)ud, (void)d, (void)n;
    return 0;
}

static const hxc__h1_events events = {r_status, r_field, r_done, r_body, r_field};

/* The result of feeding `s` in pieces of `step` bytes (0: whole), then EOF. */
static int parse(const char *s, size_t step)
{
    static const hxc__h1_limits lim = {8192, 100};
    hxc__h1 h;
    hxc__h1_init(&h, &events, NULL, &lim);
    hxc__h1_begin(&h, 0);
    size_t len = strlen(s), off = 0, used;
    int rv = 0;
    while (off < len && rv == 0) {
        size_t n = step && len - off > step ? step : len - off;
        rv = hxc__h1_feed(&h, (const uint8_t *)s + off, n, &used);
        off += n;
    }
    if (rv == 0)
        rv = hxc__h1_eof(&h);
    hxc__h1_free(&h);
    return rv;
}

/* `s` with CR and LF written as \r and \n, for messages. */
static const char *escaped(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 3 < cap; s++) {
        if (*s == '\r' || *s == '\n') {
            out[o++] = '\\';
            out[o++] = *s == '\r' ? 'r' : 'n';
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

static int expect_rejected(const char *what, const char *const *resps, size_t n)
{
    int accepted = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t step = 0; step <= 1; step++) {
            int rv = parse(resps[i], step);
            if (rv != HXC_EPROTO_REMOTE) {
                char e[256];
                print_message("%s, %s: accepted (%d): %s\n", what, step ? "byte by byte" : "whole",
                              rv, escaped(resps[i], e, sizeof(e)));
                accepted++;
            }
        }
    return accepted;
}

/* A chunk's data must be followed by CRLF (RFC 9112 7.1). */
static void test_chunk_data_needs_crlf(void **state)
{
    (void)state;
    static const char *const resps[] = {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcZZ0\r\n\r\n",
    };
    assert_int_equal(expect_rejected("chunk data without CRLF", resps, HXC__ARRAY_SIZE(resps)), 0);
}

/* A CR not followed by LF ends no line: here it ate the next byte. */
static void test_bare_cr_after_status_line(void **state)
{
    (void)state;
    static const char *const resps[] = {
        "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\rXContent-Length: 5\r\n\r\nhello",
    };
    assert_int_equal(
        expect_rejected("bare CR after the status line", resps, HXC__ARRAY_SIZE(resps)), 0);
}

/* A lone LF ending the status line, a head or a trailer section is taken as
 * its line end (RFC 9112 2.2 lets a recipient do so), with the same head. */
static void test_bare_lf_line_ends(void **state)
{
    (void)state;
    static const char *const resps[] = {
        "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n",
    };
    for (size_t i = 0; i < HXC__ARRAY_SIZE(resps); i++)
        for (size_t step = 0; step <= 1; step++)
            assert_int_equal(parse(resps[i], step), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunk_data_needs_crlf),
        cmocka_unit_test(test_bare_cr_after_status_line),
        cmocka_unit_test(test_bare_lf_line_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
