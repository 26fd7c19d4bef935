/* SPDX-License-Identifier: MIT */
/*
 * core/cache.h - the one record cache: freed records of one type kept for
 * reuse, up to a cap, in a last-in-first-out list threaded through each
 * record's first word.
 *
 * Per-request records (calls, exchanges, HTTP/2 streams, responses) come and
 * go by the hundred in one read, more than glibc's per-thread cache keeps of
 * a size; reusing the ones freed a moment ago also keeps them in the CPU's
 * cache. It never allocates: the owner makes a record when `take` has none,
 * and frees one that `keep` refuses, with its own functions.
 *
 * Under AddressSanitizer (or with HXC_NO_RECORD_CACHE defined) nothing is
 * kept: `take` always says "none" and `keep` always refuses, so every record
 * is really freed and a use after free of a pooled record is a sanitizer
 * report, not a silent reuse (h2o does the same).
 */
#ifndef HXC_CORE_CACHE_H
#define HXC_CORE_CACHE_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__) && !defined(HXC_NO_RECORD_CACHE)
#define HXC_NO_RECORD_CACHE 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(HXC_NO_RECORD_CACHE)
#define HXC_NO_RECORD_CACHE 1
#endif
#endif

/* As many records as a thousand streams in flight free at once. */
#define HXC__CACHE_MAX 1024

typedef struct hxc__cache {
    void *head;
    unsigned count, max;
} hxc__cache;

static inline void hxc__cache_init(hxc__cache *c, unsigned max)
{
    c->head = NULL;
    c->count = 0;
    c->max = max;
}

/** A kept record (its first pointer-sized bytes are garbage, the rest as it
 *  was kept), or NULL: then the caller makes a new one. */
static inline void *hxc__cache_take(hxc__cache *c)
{
    void *r = c->head;
    if (r != NULL) {
        c->head = *(void **)r;
        c->count--;
    }
    return r;
}

/** Keeps `r` (1) or refuses it (0: the caller frees it). */
static inline int hxc__cache_keep(hxc__cache *c, void *r)
{
#ifdef HXC_NO_RECORD_CACHE
    (void)c;
    (void)r;
    return 0;
#else
    if (c->count >= c->max)
        return 0;
    *(void **)r = c->head;
    c->head = r;
    c->count++;
    return 1;
#endif
}

/** Whether records are kept at all (off under sanitizers). */
static inline int hxc__cache_enabled(void)
{
#ifdef HXC_NO_RECORD_CACHE
    return 0;
#else
    return 1;
#endif
}

#endif
