/* SPDX-License-Identifier: MIT */
/*
 * Tests of bench/histogram.c on known data: bucket bounds, percentiles within
 * the promised 0.1%, mean and deviation, merging, and the JSON round trip
 * that --merge relies on.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "histogram.h"

static hist *new_hist(void)
{
    hist *h = malloc(sizeof(*h));
    assert_non_null(h);
    hist_init(h);
    return h;
}

static void test_buckets(void **state)
{
    (void)state;
    for (uint64_t v = 0; v < 5000; v++) {
        unsigned i = hist_index(v);
        assert_true(hist_low(i) <= v && v <= hist_high(i));
    }
    for (uint64_t v = 1; v < (1ull << 50); v = v * 3 + 7) {
        unsigned i = hist_index(v);
        assert_true(hist_low(i) <= v && v <= hist_high(i));
        /* bucket width at most 1/1024 of the value */
        assert_true((double)(hist_high(i) - hist_low(i)) <= (double)v / 1024.0 + 1);
        assert_int_equal(hist_index(hist_low(i)), i);
        assert_int_equal(hist_index(hist_high(i)), i);
    }
    assert_int_equal(hist_index(0), 0);
    assert_int_equal(hist_index(2047), 2047);
    assert_int_equal(hist_low(hist_index(2048)), 2048);
}

static void test_percentiles_on_known_data(void **state)
{
    (void)state;
    hist *h = new_hist();
    /* 1..100000 microseconds, once each: percentile p is p*1000 us. */
    for (uint64_t v = 1; v <= 100000; v++)
        hist_record(h, v * 1000);
    assert_int_equal(h->total, 100000);
    assert_int_equal(h->min, 1000);
    assert_int_equal(h->max, 100000000);
    const double ps[] = {50, 90, 99, 99.9, 99.99};
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        double want = ps[i] * 1e6;
        double got = (double)hist_percentile(h, ps[i]);
        if (fabs(got - want) > want * 0.001 + 1000)
            fail_msg("p%g: got %.0f want %.0f", ps[i], got, want);
    }
    assert_int_equal(hist_percentile(h, 100), 100000000);
    assert_int_equal(hist_percentile(h, 0), 1000);
    assert_true(fabs(hist_mean(h) - 50000500.0) < 1);
    /* The standard deviation of 1..N scaled: N/sqrt(12) * 1000 */
    assert_true(fabs(hist_stddev(h) - 100000.0 / sqrt(12.0) * 1000.0) < 1000);
    free(h);

    hist *e = new_hist();
    assert_int_equal(hist_percentile(e, 50), 0);
    assert_true(hist_mean(e) == 0);
    hist_record_n(e, 5, 3);
    hist_record(e, 500000);
    assert_int_equal(hist_percentile(e, 75), 5);
    assert_int_equal(hist_percentile(e, 76), 500000); /* capped at the real maximum */
    free(e);
}

static void test_merge_and_json(void **state)
{
    (void)state;
    hist *a = new_hist(), *b = new_hist(), *all = new_hist();
    for (uint64_t v = 1; v <= 50000; v++) {
        hist_record(a, v * 7);
        hist_record(all, v * 7);
    }
    for (uint64_t v = 1; v <= 20000; v++) {
        hist_record(b, v * 1000 + 3);
        hist_record(all, v * 1000 + 3);
    }
    /* Two runs written as JSON and merged give the same as one run of both. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    hist_write_json(a, f);
    fputc(' ', f);
    hist_write_json(b, f);
    fclose(f);
    hist *m = new_hist();
    const char *p = buf;
    assert_int_equal(hist_read_json(m, &p), 0);
    assert_int_equal(hist_read_json(m, &p), 0);
    assert_int_equal(m->total, all->total);
    assert_int_equal(m->min, all->min);
    assert_int_equal(m->max, all->max);
    assert_memory_equal(m->counts, all->counts, sizeof(all->counts));
    for (double q = 1; q < 100; q += 7.5)
        assert_int_equal(hist_percentile(m, q), hist_percentile(all, q));
    assert_true(fabs(hist_mean(m) - hist_mean(all)) < 1e-6 * hist_mean(all));
    hist_merge(a, b);
    assert_memory_equal(a->counts, all->counts, sizeof(all->counts));
    free(buf);
    /* Malformed input is refused and changes nothing. */
    const char *bad[] = {
        "", "{\"total\":1}",
        ("{\"total\":2,\"min\":1,\"max\":1,\"sum\":2,"
         "\"sumsq\":2,\"buckets\":[[1,1]]}"),
        "{\"total\":1,\"min\":1,\"max\":1,\"sum\":1,\"sumsq\":1,\"buckets\":[[999999,1]]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t before = m->total;
        const char *q = bad[i];
        assert_int_equal(hist_read_json(m, &q), -1);
        assert_int_equal(m->total, before);
    }
    free(a);
    free(b);
    free(all);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_percentiles_on_known_data),
        cmocka_unit_test(test_merge_and_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
