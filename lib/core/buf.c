/* SPDX-License-Identifier: MIT */
/* core/buf.c - growable byte buffer. */
#include "core/buf.h"
#include "core/internal.h"
#include "core/mem.h"

/* Room for `extra` more bytes plus the spare NUL: 0 and *need, 1 when there
 * already is, or HXC_ENOMEM when the size cannot be expressed. */
static int needed(const hxc__buf *b, size_t extra, size_t *need)
{
    if (extra > SIZE_MAX - b->len - 1)
        return HXC_ENOMEM;
    *need = b->len + extra + 1;
    return *need <= b->cap;
}

static int resize(hxc__buf *b, size_t cap)
{
    uint8_t *d = hxc__realloc(b->data, cap);
    if (d == NULL)
        return HXC_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

int hxc__buf_reserve(hxc__buf *b, size_t extra)
{
    size_t need;
    int rv = needed(b, extra, &need);
    if (rv != 0)
        return rv < 0 ? rv : 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    return resize(b, cap);
}

int hxc__buf_reserve_exact(hxc__buf *b, size_t extra)
{
    size_t need;
    int rv = needed(b, extra, &need);
    if (rv != 0)
        return rv < 0 ? rv : 0;
    return resize(b, need);
}

int hxc__buf_append(hxc__buf *b, const void *p, size_t n)
{
    int rv = hxc__buf_reserve(b, n);
    if (rv != 0)
        return rv;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

void hxc__buf_reset(hxc__buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void hxc__buf_free(hxc__buf *b)
{
    hxc__free(b->data);
    hxc__buf_init(b);
}
