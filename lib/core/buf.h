/* SPDX-License-Identifier: MIT */
/*
 * core/buf.h - a growable byte buffer. Capacity doubles; a cap given by the
 * caller bounds growth (every size a server controls has a limit).
 */
#ifndef HXC_CORE_BUF_H
#define HXC_CORE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct hxc__buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} hxc__buf;

static inline void hxc__buf_init(hxc__buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}
/** Appends n bytes; keeps one spare byte zeroed after the data. 0 or HXC_ENOMEM. */
int hxc__buf_append(hxc__buf *b, const void *p, size_t n);
/** Makes room for `extra` more bytes (plus the spare NUL). 0 or HXC_ENOMEM. */
int hxc__buf_reserve(hxc__buf *b, size_t extra);
/** Like hxc__buf_reserve, but grows to exactly what is asked (a known size). */
int hxc__buf_reserve_exact(hxc__buf *b, size_t extra);
void hxc__buf_reset(hxc__buf *b);
void hxc__buf_free(hxc__buf *b);

#endif
