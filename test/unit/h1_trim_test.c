/* SPDX-License-Identifier: MIT */
/*
 * Unit: the HTTP/1.1 codec (proto/h1.c): the trim of trailing
 * whitespace in field values (values all of whitespace, trailers, values
 * split over reads, whose bytes go away after each read), and llhttp's
 * strict mode against response shapes real servers send (chunk extensions,
 * no reason phrase, obs-text, 1xx heads, HTTP/1.0). Each response is fed
 * whole and in pieces of every size from 1 to 40 bytes, each piece from a
 * buffer overwritten after the feed (as the socket transport's read buffer
 * is): the events must be the same.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hxc/hxc.h"
#include "core/internal.h"
#include "proto/h1.h"

static char out[8192];
static size_t on;

static void emit(const char *fmt, const char *a, size_t al, const char *b, size_t bl)
{
    int n = snprintf(out + on, sizeof(out) - on, fmt, (int)al, a, (int)bl, b);
    if (n > 0 && (size_t)n < sizeof(out) - on)
        on += (size_t)n;
}

static int ev_status(void *ud, int st, const char *r, size_t rl, const char *v)
{
    (void)ud;
    char s[8];
    snprintf(s, sizeof(s), "%d", st);
    emit("S %.*s [%.*s]|", s, strlen(s), r, rl);
    emit("%.*s%.*s|", v, strlen(v), "", 0);
    return 0;
}
static int ev_field(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    (void)ud;
    emit("F %.*s=[%.*s]|", n, nl, v, vl);
    return 0;
}
static int ev_trailer(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    (void)ud;
    emit("T %.*s=[%.*s]|", n, nl, v, vl);
    return 0;
}
static int ev_done(void *ud, int64_t cl)
{
    (void)ud;
    char s[24];
    snprintf(s, sizeof(s), "%lld", (long long)cl);
    emit("D %.*s%.*s|", s, strlen(s), "", 0);
    return 0;
}
static int ev_body(void *ud, const uint8_t *d, size_t n)
{
    (void)ud;
    emit("%.*s%.*s", (const char *)d, n, "", 0); /* pieces concatenate */
    return 0;
}

static const hxc__h1_events events = {ev_status, ev_field, ev_done, ev_body, ev_trailer};

/* The events of `s` fed in pieces of `step` (0: whole), then the result. */
static const char *parse(const char *s, size_t step, int *rv_out)
{
    static const hxc__h1_limits lim = {8192, 100};
    static char piece[4096];
    hxc__h1 h;
    hxc__h1_init(&h, &events, NULL, &lim);
    hxc__h1_begin(&h, 0);
    on = 0;
    size_t len = strlen(s), off = 0, used;
    int rv = 0;
    while (off < len && rv == 0) {
        size_t n = step && len - off > step ? step : len - off;
        memcpy(piece, s + off, n);
        rv = hxc__h1_feed(&h, (const uint8_t *)piece, n, &used);
        memset(piece, '#', n); /* the read's bytes are gone */
        off += n;
    }
    if (rv == 0)
        rv = hxc__h1_eof(&h);
    hxc__h1_free(&h);
    *rv_out = rv;
    return out;
}

/* `s` parses to `want` (with rv 1), whole and in every piece size. */
static void expect(const char *s, const char *want)
{
    static char whole[8192];
    int rv;
    snprintf(whole, sizeof(whole), "%s", parse(s, 0, &rv));
    if (rv != 1 || strcmp(whole, want) != 0)
        fail_msg("whole: rv %d, events %s\nexpected %s", rv, whole, want);
    for (size_t step = 1; step <= 40; step++) {
        const char *got = parse(s, step, &rv);
        if (rv != 1 || strcmp(got, whole) != 0)
            fail_msg("in pieces of %zu: rv %d, events %s\nwhole gave %s", step, rv, got, whole);
    }
}

static void test_trim(void **state)
{
    (void)state;
    expect("HTTP/1.1 200 OK\r\nA:    \t \r\nB:  v  \t\r\nC:\r\nD: x  y \r\n"
           "Content-Length: 2\r\n\r\nok",
           "S 200 [OK]|HTTP/1.1|F A=[]|F B=[v]|F C=[]|F D=[x  y]|F Content-Length=[2]|D 2|ok");
    expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
           "X-T:  v \t\r\nX-E:   \r\nX-F:\r\n\r\n",
           "S 200 [OK]|HTTP/1.1|F Transfer-Encoding=[chunked]|D -1|ok"
           "T X-T=[v]|T X-E=[]|T X-F=[]|");
}

static void test_real_shapes(void **state)
{
    (void)state;
    /* Chunk extensions (RFC 9112 7.1.1), quoted or bare, on the last chunk too. */
    expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           "2;name=value\r\nok\r\n1;q=\"a b\"\r\n!\r\n0;last\r\n\r\n",
           "S 200 [OK]|HTTP/1.1|F Transfer-Encoding=[chunked]|D -1|ok!");
    /* No reason phrase, with and without its space; a 103 before. */
    expect("HTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\n"
           "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
           "S 200 []|HTTP/1.1|F Content-Length=[0]|D 0|");
    expect("HTTP/1.1 204 \r\n\r\n", "S 204 []|HTTP/1.1|D 0|");
    /* obs-text in a value and in the reason (UTF-8 file names, local words). */
    expect("HTTP/1.1 200 D\xc3\xa9j\xc3\xa0\r\nContent-Disposition: attachment; "
           "filename=\"caf\xc3\xa9.txt\"\r\nContent-Length: 0\r\n\r\n",
           "S 200 [D\xc3\xa9j\xc3\xa0]|HTTP/1.1|F Content-Disposition=[attachment; "
           "filename=\"caf\xc3\xa9.txt\"]|F Content-Length=[0]|D 0|");
    /* HTTP/1.0, delimited by the close; upper-case hex, leading zeros. */
    expect("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nhello",
           "S 200 [OK]|HTTP/1.0|F Server=[old]|D -1|hello");
    expect("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000A\r\n0123456789\r\n0\r\n\r\n",
           "S 200 [OK]|HTTP/1.1|F Transfer-Encoding=[chunked]|D -1|0123456789");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_real_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
