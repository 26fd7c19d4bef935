/* SPDX-License-Identifier: MIT */
/* api/headers.c - the public, read-only view of a header list. */
#include <string.h>

#include "hxc/headers.h"
#include "core/headers.h"
#include "core/internal.h"

size_t hxc_headers_count(const hxc_headers *h) { return h ? h->count : 0; }

int hxc_headers_at(const hxc_headers *h, size_t i, const char **name, const char **value)
{
    if (h == NULL || i >= h->count)
        return HXC_EINVAL;
    if (name)
        *name = hxc__headers_name(h, i, NULL);
    if (value)
        *value = hxc__headers_value(h, i, NULL);
    return 0;
}

const char *hxc_headers_get_nth(const hxc_headers *h, const char *name, size_t n)
{
    if (h == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < h->count; i++) {
        size_t nl;
        const char *fn = hxc__headers_name(h, i, &nl);
        if (hxc__strieq(fn, nl, name) && n-- == 0)
            return hxc__headers_value(h, i, NULL);
    }
    return NULL;
}

const char *hxc_headers_get(const hxc_headers *h, const char *name)
{
    return hxc_headers_get_nth(h, name, 0);
}

size_t hxc_headers_count_of(const hxc_headers *h, const char *name)
{
    size_t n = 0;
    if (h == NULL || name == NULL)
        return 0;
    for (size_t i = 0; i < h->count; i++) {
        size_t nl;
        const char *fn = hxc__headers_name(h, i, &nl);
        if (hxc__strieq(fn, nl, name))
            n++;
    }
    return n;
}
