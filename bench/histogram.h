/* SPDX-License-Identifier: MIT */
/*
 * bench/histogram.h - a log-linear latency histogram (HdrHistogram's idea):
 * values below 2048 are exact, larger ones fall in buckets 1/1024 of their
 * magnitude wide, so every recorded value is known within 0.1% at constant
 * memory (~270 KiB for nanoseconds up to hours). Histograms of the same kind
 * merge by adding counts: across threads, and across runs via JSON.
 */
#ifndef HXC_BENCH_HISTOGRAM_H
#define HXC_BENCH_HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SUB  1024 /* buckets per power of two */
#define HIST_EXPS 42   /* covers values below 2^52 (ns: ~52 days) */
#define HIST_SIZE (HIST_SUB * (HIST_EXPS + 1))

typedef struct hist {
    uint64_t counts[HIST_SIZE];
    uint64_t total;
    uint64_t min, max;
    double sum, sumsq; /* for mean and standard deviation */
} hist;

void hist_init(hist *h);
void hist_record(hist *h, uint64_t value);
void hist_record_n(hist *h, uint64_t value, uint64_t n);
/** Adds every count of `src` to `dst`. */
void hist_merge(hist *dst, const hist *src);
/** The value at percentile p (0..100): the highest value of its bucket; 0 if empty. */
uint64_t hist_percentile(const hist *h, double p);
double hist_mean(const hist *h);
double hist_stddev(const hist *h);
/** Index of the bucket of `value`, and the range of values a bucket holds. */
unsigned hist_index(uint64_t value);
uint64_t hist_low(unsigned index);
uint64_t hist_high(unsigned index);
/** Writes {"total":..,"min":..,"max":..,"sum":..,"sumsq":..,"buckets":[[i,n],...]}. */
void hist_write_json(const hist *h, FILE *f);
/**
 * Reads what hist_write_json wrote, starting at *p (which is advanced past
 * it), adding into `h`. 0, or -1 on malformed input.
 */
int hist_read_json(hist *h, const char **p);

#endif
