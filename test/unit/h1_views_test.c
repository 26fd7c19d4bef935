/* SPDX-License-Identifier: MIT */
/*
 * Unit: the HTTP/1.1 codec's texts (proto/h1.c): field
 * names, values and reason phrases are views of the bytes being parsed
 * until a read ends. Every response here is fed in pieces, each piece from
 * a heap copy that is scribbled over and freed right after its
 * hxc__h1_feed call (ASan sees any view used after that), and what the
 * codec reported must be exactly what it reports for the whole response in
 * one read: status, reason, fields, trailers, body, result and bytes used.
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
#include "core/headers.h"
#include "core/internal.h"
#include "proto/h1.h"

/* Everything the codec reported, as one text (the body's chunking aside). */
typedef struct rec {
    hxc__buf log;
} rec;

static void logf_(rec *r, const char *tag, const char *a, size_t al, const char *b, size_t bl)
{
    hxc__buf_append(&r->log, tag, strlen(tag));
    if (a != NULL || al > 0)
        hxc__buf_append(&r->log, a, al);
    hxc__buf_append(&r->log, "=", 1);
    if (b != NULL || bl > 0)
        hxc__buf_append(&r->log, b, bl);
    hxc__buf_append(&r->log, "|", 1);
}

static int r_status(void *ud, int st, const char *reason, size_t rl, const char *v)
{
    char s[32];
    snprintf(s, sizeof(s), "S%d %s ", st, v);
    logf_(ud, s, reason, rl, NULL, 0);
    return 0;
}
static int r_header(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    logf_(ud, "H ", n, nl, v, vl);
    return 0;
}
static int r_done(void *ud, int64_t content_length)
{
    logf_(ud, "D", NULL, 0, NULL, 0);
    return 0;
}
static int r_body(void *ud, const uint8_t *d, size_t n)
{
    /* body bytes: appended raw (their pieces depend on the reads) */
    return hxc__buf_append(&((rec *)ud)->log, d, n);
}
static int r_trailer(void *ud, const char *n, size_t nl, const char *v, size_t vl)
{
    logf_(ud, "T ", n, nl, v, vl);
    return 0;
}

static const hxc__h1_events events = {r_status, r_header, r_done, r_body, r_trailer};

typedef struct outcome {
    int rv;
    size_t used; /* bytes of the input taken in all */
    char *log;
} outcome;

/* Feeds `s` cut at the offsets `cuts` (increasing, 0 < cut < len), each
 * piece from its own heap copy that is scribbled and freed after the call. */
static outcome feed_pieces(const char *s, size_t len, const size_t *cuts, size_t ncuts, int head,
                           const hxc__h1_limits *lim)
{
    rec r;
    hxc__buf_init(&r.log);
    hxc__h1 h;
    hxc__h1_init(&h, &events, &r, lim);
    hxc__h1_begin(&h, head);
    outcome o = {0, 0, NULL};
    size_t off = 0;
    for (size_t i = 0; i <= ncuts && o.rv == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        size_t n = end - off;
        uint8_t *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, s + off, n);
        size_t used = 0;
        o.rv = hxc__h1_feed(&h, copy, n, &used);
        memset(copy, 'Z', n); /* what a view still pointing here would see */
        free(copy);           /* and what ASan would catch */
        o.used += used;
        off = end;
    }
    if (o.rv == 0)
        o.rv = hxc__h1_eof(&h);
    hxc__buf_append(&r.log, "", 0);
    o.log = strdup((const char *)r.log.data);
    hxc__buf_free(&r.log);
    hxc__h1_free(&h);
    return o;
}

static void check_same(const char *s, const outcome *want, const outcome *got, const size_t *cuts,
                       size_t ncuts)
{
    int same = want->rv == got->rv &&
               (want->rv < 0 || (want->used == got->used && strcmp(want->log, got->log) == 0));
    if (!same)
        fail_msg("%s\ncut at %zu%s%zu: rv %d used %zu log\n  %s\nwant rv %d used %zu log\n  %s", s,
                 cuts[0], ncuts > 1 ? "," : "", ncuts > 1 ? cuts[1] : 0, got->rv, got->used,
                 got->log, want->rv, want->used, want->log);
}

/* Whole, then cut once anywhere, then twice anywhere (short inputs), then
 * byte by byte: the same outcome every time. */
static void expect_stable(const char *s, int head, const hxc__h1_limits *lim)
{
    size_t len = strlen(s);
    outcome want = feed_pieces(s, len, NULL, 0, head, lim);
    for (size_t a = 1; a < len; a++) {
        size_t cuts[1] = {a};
        outcome got = feed_pieces(s, len, cuts, 1, head, lim);
        check_same(s, &want, &got, cuts, 1);
        free(got.log);
    }
    if (len <= 160) {
        for (size_t a = 1; a < len; a++)
            for (size_t b = a + 1; b < len; b++) {
                size_t cuts[2] = {a, b};
                outcome got = feed_pieces(s, len, cuts, 2, head, lim);
                check_same(s, &want, &got, cuts, 2);
                free(got.log);
            }
    }
    size_t *all = malloc(len * sizeof(*all));
    assert_non_null(all);
    for (size_t i = 1; i < len; i++)
        all[i - 1] = i;
    outcome got = feed_pieces(s, len, all, len > 0 ? len - 1 : 0, head, lim);
    size_t one[1] = {1};
    check_same(s, &want, &got, one, 1);
    free(got.log);
    free(all);
    free(want.log);
}

static const hxc__h1_limits dflt = {256 * 1024, 1000};

static void test_views_survive_any_cut(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Empty:\r\nX-Long: a b  c\r\n\r\nhello",
        "HTTP/1.1 200 A rather long reason phrase\r\nX-A: 1\r\nX-B:\t2\t\r\n"
        "Content-Length: 0\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 100 Continue\r\nX-I: 1\r\n\r\nHTTP/1.1 103 Early\r\nLink: </a>\r\n\r\n"
        "HTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 2\r\n\r\nok",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-H: head\r\n\r\n"
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\nX-Empty:\r\nX-T: y z\r\n\r\n",
        "HTTP/1.1 204 No Content\r\nX-A: after\r\n\r\n",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"abc\"\r\n\r\n",
        "HTTP/1.0 200 Old\r\nServer: x\r\n\r\nuntil the end",
        "HTTP/1.1 200 OK\r\nX-Last:\r\n\r\n  body until close",
        /* bytes after the response: never parsed, and `used` stops before them */
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-V: v\r\n\r\nokHTTP/1.1 200 OK\r\nX: y\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: t\r\n\r\ngarbage",
    };
    for (size_t i = 0; i < HXC__ARRAY_SIZE(ok); i++)
        expect_stable(ok[i], 0, &dflt);
    expect_stable("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-A: b\r\n\r\n", 1, &dflt);
}

static void test_errors_stable_under_any_cut(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A:\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX-A: 1\r\nX B: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        "HTTP/1.1 600 Big\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < HXC__ARRAY_SIZE(bad); i++)
        expect_stable(bad[i], 0, &dflt);
}

/* A head exactly at the limit and a byte over it, the clamp of
 * hxc__h1_feed falling anywhere in a name, a value or the reason. */
static void test_clamp_inside_texts(void **state)
{
    (void)state;
    static const char s[] = "HTTP/1.1 200 Reason-Phrase\r\nX-Name-Long: value-long\r\n"
                            "Content-Length: 4\r\n\r\nbody";
    size_t head = sizeof(s) - 1 - 4;
    for (size_t lim = head - 30; lim <= head + 1; lim++) {
        hxc__h1_limits l = {lim, 100};
        expect_stable(s, 0, &l);
    }
    static const char t[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabc\r\n0\r\nX-Trailer-Name: trailer-value\r\n\r\n";
    for (size_t lim = 20; lim <= 60; lim++) {
        hxc__h1_limits l = {lim, 100};
        expect_stable(t, 0, &l);
    }
}

/* ---- obs-fold: h1.c finds it from where llhttp's spans lie ------------- */

/* A header section built from random lines: "Name:" + whitespace + value +
 * whitespace, or whitespace + value (a continuation: obs-fold), the
 * whitespace any mix of SP and HTAB, values empty or not. The answer is
 * known without llhttp: a fold iff a line starts with SP or HTAB. */
static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (unsigned)(rng_state % n);
}

static void add_ws(char *s, unsigned max)
{
    for (unsigned i = rnd(max + 1); i > 0; i--)
        strcat(s, rnd(2) ? " " : "\t");
}

static void add_value(char *s)
{
    static const char *const v[] = {"", "a", "a b", "x\ty", "1", "ab  c"};
    strcat(s, v[rnd(HXC__ARRAY_SIZE(v))]);
}

/* Fills `s`; returns whether it holds a fold. */
static int make_section(char *s, int in_trailers)
{
    int fold = 0;
    strcpy(s, in_trailers ? "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                          : "HTTP/1.1 200 OK\r\n");
    unsigned lines = 1 + rnd(4);
    for (unsigned i = 0; i < lines; i++) {
        if (i > 0 && rnd(4) == 0) { /* a continuation line */
            fold = 1;
            strcat(s, rnd(2) ? " " : "\t");
            add_ws(s, 2);
            add_value(s);
            add_ws(s, 2);
        } else {
            char name[8];
            snprintf(name, sizeof(name), "X-%c", 'A' + (int)i);
            strcat(s, name);
            strcat(s, ":");
            add_ws(s, 3);
            add_value(s);
            add_ws(s, 2);
        }
        strcat(s, "\r\n");
    }
    strcat(s, in_trailers ? "\r\n" : "Content-Length: 0\r\n\r\n");
    return fold;
}

static void test_obs_fold_random_sections(void **state)
{
    (void)state;
    char s[512];
    for (int i = 0; i < 1500; i++) {
        int fold = make_section(s, i % 3 == 2);
        size_t len = strlen(s);
        for (size_t a = 0; a < len; a++) {
            size_t cuts[1] = {a};
            outcome o = feed_pieces(s, len, cuts, a > 0, 0, &dflt);
            int ok = fold ? o.rv == HXC_EPROTO_REMOTE : o.rv == 1;
            if (!ok)
                fail_msg("fold %d, cut at %zu: rv %d (log %s)\n%s", fold, a, o.rv, o.log, s);
            free(o.log);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views_survive_any_cut),
        cmocka_unit_test(test_errors_stable_under_any_cut),
        cmocka_unit_test(test_clamp_inside_texts),
        cmocka_unit_test(test_obs_fold_random_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
