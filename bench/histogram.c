/* SPDX-License-Identifier: MIT */
/* bench/histogram.c - see histogram.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

void hist_init(hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned hist_index(uint64_t v)
{
    if (v < 2 * HIST_SUB)
        return (unsigned)v;
    unsigned lz = (unsigned)__builtin_clzll(v);
    unsigned e = 63 - lz - 10; /* v >> e is in [1024, 2047] */
    if (e > HIST_EXPS - 1)
        return HIST_SIZE - 1;
    return HIST_SUB * (e + 1) + (unsigned)((v >> e) - HIST_SUB);
}

uint64_t hist_low(unsigned i)
{
    if (i < 2 * HIST_SUB)
        return i;
    unsigned e = i / HIST_SUB - 1;
    uint64_t m = (uint64_t)(i % HIST_SUB) + HIST_SUB;
    return m << e;
}

uint64_t hist_high(unsigned i)
{
    if (i < 2 * HIST_SUB)
        return i;
    unsigned e = i / HIST_SUB - 1;
    return hist_low(i) + (((uint64_t)1 << e) - 1);
}

void hist_record_n(hist *h, uint64_t v, uint64_t n)
{
    if (n == 0)
        return;
    h->counts[hist_index(v)] += n;
    h->total += n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
    h->sum += (double)v * (double)n;
    h->sumsq += (double)v * (double)v * (double)n;
}

void hist_record(hist *h, uint64_t v) { hist_record_n(h, v, 1); }

void hist_merge(hist *dst, const hist *src)
{
    if (src->total == 0)
        return;
    for (unsigned i = 0; i < HIST_SIZE; i++)
        dst->counts[i] += src->counts[i];
    dst->total += src->total;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->sum += src->sum;
    dst->sumsq += src->sumsq;
}

uint64_t hist_percentile(const hist *h, double p)
{
    if (h->total == 0)
        return 0;
    if (p <= 0)
        return h->min;
    if (p >= 100)
        return h->max;
    uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->total);
    if (want == 0)
        want = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_SIZE; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t v = hist_high(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double hist_mean(const hist *h) { return h->total ? h->sum / (double)h->total : 0; }

double hist_stddev(const hist *h)
{
    if (h->total < 2)
        return 0;
    double m = hist_mean(h);
    double var = h->sumsq / (double)h->total - m * m;
    return var > 0 ? sqrt(var) : 0;
}

void hist_write_json(const hist *h, FILE *f)
{
    fprintf(f,
            "{\"total\":%llu,\"min\":%llu,\"max\":%llu,\"sum\":%.17g,\"sumsq\":%.17g,\"buckets\":[",
            (unsigned long long)h->total, (unsigned long long)(h->total ? h->min : 0),
            (unsigned long long)h->max, h->sum, h->sumsq);
    int first = 1;
    for (unsigned i = 0; i < HIST_SIZE; i++) {
        if (h->counts[i] == 0)
            continue;
        fprintf(f, "%s[%u,%llu]", first ? "" : ",", i, (unsigned long long)h->counts[i]);
        first = 0;
    }
    fprintf(f, "]}");
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static int expect(const char **p, const char *lit)
{
    const char *q = skip_ws(*p);
    size_t n = strlen(lit);
    if (strncmp(q, lit, n) != 0)
        return -1;
    *p = q + n;
    return 0;
}

static int read_u64(const char **p, uint64_t *out)
{
    const char *q = skip_ws(*p);
    char *end;
    unsigned long long v = strtoull(q, &end, 10);
    if (end == q)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

static int read_double(const char **p, double *out)
{
    const char *q = skip_ws(*p);
    char *end;
    double v = strtod(q, &end);
    if (end == q)
        return -1;
    *out = v;
    *p = end;
    return 0;
}

static int read_into(hist *h, const char **pp);

int hist_read_json(hist *h, const char **pp)
{
    /* Into a scratch histogram first: malformed input leaves `h` untouched. */
    hist *tmp = malloc(sizeof(*tmp));
    if (tmp == NULL)
        return -1;
    hist_init(tmp);
    int rv = read_into(tmp, pp);
    if (rv == 0)
        hist_merge(h, tmp);
    free(tmp);
    return rv;
}

static int read_into(hist *h, const char **pp)
{
    const char *p = *pp;
    uint64_t total, mn, mx;
    double sum, sumsq;
    if (expect(&p, "{\"total\":") || read_u64(&p, &total) || expect(&p, ",\"min\":") ||
        read_u64(&p, &mn) || expect(&p, ",\"max\":") || read_u64(&p, &mx) ||
        expect(&p, ",\"sum\":") || read_double(&p, &sum) || expect(&p, ",\"sumsq\":") ||
        read_double(&p, &sumsq) || expect(&p, ",\"buckets\":["))
        return -1;
    uint64_t counted = 0;
    p = skip_ws(p);
    if (*p != ']') {
        for (;;) {
            uint64_t i, n;
            if (expect(&p, "[") || read_u64(&p, &i) || expect(&p, ",") || read_u64(&p, &n) ||
                expect(&p, "]") || i >= HIST_SIZE)
                return -1;
            h->counts[i] += n;
            counted += n;
            p = skip_ws(p);
            if (*p == ',') {
                p++;
                continue;
            }
            break;
        }
    }
    if (expect(&p, "]") || expect(&p, "}") || counted != total)
        return -1;
    if (total > 0) {
        if (mn < h->min)
            h->min = mn;
        if (mx > h->max)
            h->max = mx;
    }
    h->total += total;
    h->sum += sum;
    h->sumsq += sumsq;
    *pp = p;
    return 0;
}
