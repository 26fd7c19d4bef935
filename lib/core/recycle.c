/* SPDX-License-Identifier: MIT */
/* core/recycle.c - size-class free lists in front of hxc's allocator. */
#include <stdint.h>
#include <string.h>

#include "core/cache.h"
#include "core/mem.h"
#include "core/recycle.h"

/* Each block carries its size in a header as wide as the strictest
 * alignment, so the caller's part stays aligned. */
typedef union header {
    size_t size; /* usable bytes: the class size, or the size asked for (big blocks) */
    max_align_t align;
    void *next; /* while cached */
} header;

#define CLASS_BYTES   32
#define MAX_CACHED    (1u << 20) /* bytes kept in all the lists together */
#define MAX_PER_CLASS 1024u

static size_t class_of(size_t n) { return (n + CLASS_BYTES - 1) / CLASS_BYTES; }

void hxc__recycler_init(hxc__recycler *rc) { memset(rc, 0, sizeof(*rc)); }

void hxc__recycler_drain(hxc__recycler *rc)
{
    for (size_t c = 1; c <= HXC__RECYCLE_CLASSES; c++) {
        while (rc->free[c] != NULL) {
            header *h = rc->free[c];
            rc->free[c] = h->next;
            hxc__free(h);
        }
        rc->count[c] = 0;
    }
    rc->cached = 0;
}

void *hxc__recycler_alloc(hxc__recycler *rc, size_t n)
{
    size_t c = class_of(n ? n : 1);
    header *h;
    /* Under sanitizers every block is its exact size and really freed, so a
     * write past its end or a use after free is seen (core/cache.h). */
    if (c <= HXC__RECYCLE_CLASSES && hxc__cache_enabled()) {
        if (rc->free[c] != NULL) {
            h = rc->free[c];
            rc->free[c] = h->next;
            rc->count[c]--;
            rc->cached -= c * CLASS_BYTES;
        } else {
            h = hxc__malloc(sizeof(header) + c * CLASS_BYTES);
            if (h == NULL)
                return NULL;
        }
        h->size = c * CLASS_BYTES;
        return h + 1;
    }
    if (n > SIZE_MAX - sizeof(header))
        return NULL;
    h = hxc__malloc(sizeof(header) + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    return h + 1;
}

void *hxc__recycler_calloc(hxc__recycler *rc, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = hxc__recycler_alloc(rc, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void hxc__recycler_free(hxc__recycler *rc, void *p)
{
    if (p == NULL)
        return;
    header *h = (header *)p - 1;
    size_t n = h->size;
    size_t c = n / CLASS_BYTES;
    if (hxc__cache_enabled() && n % CLASS_BYTES == 0 && c >= 1 && c <= HXC__RECYCLE_CLASSES &&
        rc->count[c] < MAX_PER_CLASS && rc->cached + n <= MAX_CACHED) {
        h->next = rc->free[c];
        rc->free[c] = h;
        rc->count[c]++;
        rc->cached += n;
        return;
    }
    hxc__free(h);
}

void *hxc__recycler_realloc(hxc__recycler *rc, void *p, size_t n)
{
    if (p == NULL)
        return hxc__recycler_alloc(rc, n);
    size_t old = ((header *)p - 1)->size;
    if (n <= old && n > old / 2)
        return p; /* still fits, and not much too big */
    void *q = hxc__recycler_alloc(rc, n);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old < n ? old : n);
    hxc__recycler_free(rc, p);
    return q;
}
