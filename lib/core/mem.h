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

#endif
