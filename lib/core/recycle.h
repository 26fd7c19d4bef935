/* SPDX-License-Identifier: MIT */
/*
 * core/recycle.h - a cache of freed small blocks, for allocations that come
 * and go at the rate of requests on one thread.
 *
 * nghttp2 allocates a few small objects per stream (the queued request, its
 * header copy, the stream) and frees them a moment later, a hundred at a
 * time. glibc's per-thread cache holds seven blocks of a size, so bursts
 * like these fall through to its slower bins; a size-class free list in
 * front of the allocator keeps them instead. It is not an allocator: blocks
 * come from hxc's allocator hooks and go back to them when the cache is full
 * or drained. One recycler serves one client (one thread), never shared.
 * Under sanitizers it keeps nothing and rounds nothing up (core/cache.h).
 */
#ifndef HXC_CORE_RECYCLE_H
#define HXC_CORE_RECYCLE_H

#include <stddef.h>

#define HXC__RECYCLE_CLASSES 32 /* 32-byte classes: blocks up to 1 KiB are kept */

typedef struct hxc__recycler {
    void *free[HXC__RECYCLE_CLASSES + 1];
    unsigned count[HXC__RECYCLE_CLASSES + 1];
    size_t cached; /* bytes held in the free lists */
} hxc__recycler;

void hxc__recycler_init(hxc__recycler *rc);
/** Gives every cached block back to the allocator. */
void hxc__recycler_drain(hxc__recycler *rc);
void *hxc__recycler_alloc(hxc__recycler *rc, size_t n);
void *hxc__recycler_calloc(hxc__recycler *rc, size_t count, size_t size);
void *hxc__recycler_realloc(hxc__recycler *rc, void *p, size_t n);
/** `p` must come from the same recycler (or be NULL). */
void hxc__recycler_free(hxc__recycler *rc, void *p);

#endif
