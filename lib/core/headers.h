/* SPDX-License-Identifier: MIT */
/*
 * core/headers.h - the header-field list behind the public hxc_headers.
 *
 * Fields live in one byte buffer (name NUL value NUL) plus one array of
 * offsets: two allocations however many fields, and nothing from the wire
 * is ever measured with strlen (lengths are kept).
 */
#ifndef HXC_CORE_HEADERS_H
#define HXC_CORE_HEADERS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hxc/error.h"
#include "core/buf.h"

/* Offsets and lengths in `bytes`: 32 bits each (a list is at most 4 GiB),
 * so a typical response head's index fits in one cache line or two. */
typedef struct hxc__field {
    uint32_t name_off, name_len, value_off, value_len;
} hxc__field;

struct hxc_headers {
    hxc__buf bytes;
    hxc__field *fields;
    size_t count, cap;
};

void hxc__headers_init(struct hxc_headers *h);
void hxc__headers_free(struct hxc_headers *h);
void hxc__headers_clear(struct hxc_headers *h);
/** Makes room for one more field of `need` bytes. 0 or HXC_ENOMEM (also
 *  when the list would pass 4 GiB). */
int hxc__headers_grow(struct hxc_headers *h, size_t need);

/* Copies n bytes: the short strings of header fields without a call to
 * memcpy (two overlapping loads and stores), longer ones with it. */
static inline void hxc__copy_short(uint8_t *d, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            d[i] = (uint8_t)s[i];
    } else {
        memcpy(d, s, n);
    }
}

/** Appends a field (no validation here). 0 or HXC_ENOMEM. Inline: a response
 *  head's fields arrive one call each, a dozen per request. */
static inline __attribute__((always_inline)) int hxc__headers_add(struct hxc_headers *h,
                                                                  const char *name, size_t nlen,
                                                                  const char *value, size_t vlen)
{
    size_t need = nlen + vlen + 2;
    if ((h->count == h->cap || need + 1 > h->bytes.cap - h->bytes.len ||
         h->bytes.len + need >= UINT32_MAX) &&
        hxc__headers_grow(h, need) != 0)
        return HXC_ENOMEM;
    hxc__field *f = &h->fields[h->count++];
    uint8_t *p = h->bytes.data + h->bytes.len;
    f->name_off = (uint32_t)h->bytes.len;
    f->name_len = (uint32_t)nlen;
    f->value_off = (uint32_t)(h->bytes.len + nlen + 1);
    f->value_len = (uint32_t)vlen;
    hxc__copy_short(p, name, nlen);
    p[nlen] = '\0';
    hxc__copy_short(p + nlen + 1, value, vlen);
    p[nlen + 1 + vlen] = '\0';
    p[need] = '\0';
    h->bytes.len += need;
    return 0;
}
/** Appends to the value of the last field (llhttp may deliver a value in pieces). */
int hxc__headers_append_value(struct hxc_headers *h, const char *v, size_t vlen);
/** Appends to the name of the last field (names may also come in pieces). */
int hxc__headers_append_name(struct hxc_headers *h, const char *n, size_t nlen);
/** Removes every field named `name` (any case); returns how many. */
size_t hxc__headers_remove(struct hxc_headers *h, const char *name);
const char *hxc__headers_name(const struct hxc_headers *h, size_t i, size_t *len);
const char *hxc__headers_value(const struct hxc_headers *h, size_t i, size_t *len);
/** Total bytes of names and values (for limits). */
size_t hxc__headers_bytes(const struct hxc_headers *h);

/** Case-insensitive equality of a counted string with a C string. */
int hxc__strieq(const char *a, size_t alen, const char *b);
/** Whether s[0..n) is an HTTP token (RFC 9110 tchar+). */
int hxc__is_token(const char *s, size_t n);
/** Whether s[0..n) is a valid field value: no CR, LF or NUL, no other controls but HTAB. */
int hxc__is_field_value(const char *s, size_t n);

#endif
