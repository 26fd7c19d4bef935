/* SPDX-License-Identifier: MIT */
/* core/mem.c - allocator hooks (nghttp2_mem's idea). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hxc/common.h"
#include "core/mem.h"

static void *default_malloc(size_t n, void *ud)
{
    (void)ud;
    return malloc(n);
}
static void *default_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    return realloc(p, n);
}
static void default_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static hxc_allocator allocator = {default_malloc, default_realloc, default_free, NULL};

void hxc_set_allocator(const hxc_allocator *a)
{
    if (a == NULL || a->malloc == NULL || a->realloc == NULL || a->free == NULL) {
        allocator.malloc = default_malloc;
        allocator.realloc = default_realloc;
        allocator.free = default_free;
        allocator.user_data = NULL;
        return;
    }
    allocator = *a;
}

void *hxc__malloc(size_t n) { return allocator.malloc(n ? n : 1, allocator.user_data); }

void *hxc__calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    void *p = hxc__malloc(count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

void *hxc__realloc(void *p, size_t n)
{
    return allocator.realloc(p, n ? n : 1, allocator.user_data);
}

void hxc__free(void *p)
{
    if (p != NULL)
        allocator.free(p, allocator.user_data);
}

/* The hooks have no aligned allocation: a line more is taken, and the block's
 * own address is kept in the word before the aligned one. */
void *hxc__calloc_lines(size_t size)
{
    const size_t extra = 63 + sizeof(char *);
    if (size > SIZE_MAX - extra)
        return NULL;
    char *raw = hxc__malloc(size + extra);
    if (raw == NULL)
        return NULL;
    char *p = (char *)(((uintptr_t)raw + extra) & ~(uintptr_t)63);
    memcpy(p - sizeof(raw), &raw, sizeof(raw));
    memset(p, 0, size);
    return p;
}

void hxc__free_lines(void *p)
{
    if (p == NULL)
        return;
    char *raw;
    memcpy(&raw, (char *)p - sizeof(raw), sizeof(raw));
    hxc__free(raw);
}

char *hxc__strndup(const char *s, size_t n)
{
    char *d = hxc__malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *hxc__strdup(const char *s) { return s ? hxc__strndup(s, strlen(s)) : NULL; }
