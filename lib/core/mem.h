/* SPDX-License-Identifier: MIT */
/*
 * core/mem.h - every allocation of the library goes through these, so that
 * an embedder's allocator (hxc_set_allocator) sees all of it.
 */
#ifndef HXC_CORE_MEM_H
#define HXC_CORE_MEM_H

#include <stddef.h>

void *hxc__malloc(size_t n);
/** Zeroed, overflow-checked. */
void *hxc__calloc(size_t count, size_t size);
void *hxc__realloc(void *p, size_t n);
void hxc__free(void *p);
char *hxc__strdup(const char *s);
char *hxc__strndup(const char *s, size_t n);

/** Zeroed and aligned to a cache line (64 bytes), for the per-request
 *  records: their hot fields then share one line instead of straddling two.
 *  Freed with hxc__free_lines only. */
void *hxc__calloc_lines(size_t size);
void hxc__free_lines(void *p);

#endif
