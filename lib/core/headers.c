/* SPDX-License-Identifier: MIT */
/* core/headers.c - header field list: one byte buffer + one offset array. */
#include <strings.h>

#include "core/headers.h"
#include "core/internal.h"
#include "core/mem.h"

void hxc__headers_init(struct hxc_headers *h)
{
    hxc__buf_init(&h->bytes);
    h->fields = NULL;
    h->count = h->cap = 0;
}

void hxc__headers_free(struct hxc_headers *h)
{
    hxc__buf_free(&h->bytes);
    hxc__free(h->fields);
    hxc__headers_init(h);
}

void hxc__headers_clear(struct hxc_headers *h)
{
    hxc__buf_reset(&h->bytes);
    h->count = 0;
}

int hxc__headers_grow(struct hxc_headers *h, size_t need)
{
    if (need > UINT32_MAX / 2 || h->bytes.len + need >= UINT32_MAX)
        return HXC_ENOMEM; /* beyond what a field list holds */
    if (h->count == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        hxc__field *f = hxc__realloc(h->fields, cap * sizeof(*f));
        if (f == NULL)
            return HXC_ENOMEM;
        h->fields = f;
        h->cap = cap;
    }
    if (need + 1 > h->bytes.cap - h->bytes.len) {
        /* A first field makes room for a typical header section at once. */
        size_t want = h->bytes.cap == 0 && need < 255 ? 255 : need;
        if (hxc__buf_reserve(&h->bytes, want) != 0)
            return HXC_ENOMEM;
    }
    return 0;
}

int hxc__headers_append_value(struct hxc_headers *h, const char *v, size_t vlen)
{
    if (h->count == 0)
        return HXC_EINVAL;
    hxc__field *f = &h->fields[h->count - 1];
    if (vlen > UINT32_MAX / 4 || h->bytes.len + vlen + 2 >= UINT32_MAX)
        return HXC_ENOMEM;
    /* The value is the last thing in the buffer: drop its NUL, extend, re-terminate. */
    h->bytes.len--;
    if (hxc__buf_append(&h->bytes, v, vlen) != 0 || hxc__buf_append(&h->bytes, "", 1) != 0) {
        h->bytes.len = f->value_off + f->value_len + 1;
        return HXC_ENOMEM;
    }
    f->value_len += (uint32_t)vlen;
    return 0;
}

int hxc__headers_append_name(struct hxc_headers *h, const char *n, size_t nlen)
{
    if (h->count == 0)
        return HXC_EINVAL;
    hxc__field *f = &h->fields[h->count - 1];
    if (f->value_len != 0)
        return HXC_EINVAL;
    if (nlen > UINT32_MAX / 4 || h->bytes.len + nlen + 3 >= UINT32_MAX)
        return HXC_ENOMEM;
    /* Layout is name NUL "" NUL: rebuild the tail. */
    h->bytes.len = f->name_off + f->name_len;
    if (hxc__buf_append(&h->bytes, n, nlen) != 0 || hxc__buf_append(&h->bytes, "\0", 2) != 0) {
        h->bytes.len = f->name_off + f->name_len;
        hxc__buf_append(&h->bytes, "\0", 2);
        return HXC_ENOMEM;
    }
    f->name_len += (uint32_t)nlen;
    f->value_off = f->name_off + f->name_len + 1;
    return 0;
}

size_t hxc__headers_remove(struct hxc_headers *h, const char *name)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < h->count; i++) {
        hxc__field *f = &h->fields[i];
        if (hxc__strieq((const char *)h->bytes.data + f->name_off, f->name_len, name))
            removed++;
        else
            h->fields[kept++] = *f; /* bytes stay; only the index forgets them */
    }
    h->count = kept;
    return removed;
}

const char *hxc__headers_name(const struct hxc_headers *h, size_t i, size_t *len)
{
    if (len)
        *len = h->fields[i].name_len;
    return (const char *)h->bytes.data + h->fields[i].name_off;
}

const char *hxc__headers_value(const struct hxc_headers *h, size_t i, size_t *len)
{
    if (len)
        *len = h->fields[i].value_len;
    return (const char *)h->bytes.data + h->fields[i].value_off;
}

size_t hxc__headers_bytes(const struct hxc_headers *h)
{
    size_t n = 0;
    for (size_t i = 0; i < h->count; i++)
        n += h->fields[i].name_len + h->fields[i].value_len;
    return n;
}

int hxc__strieq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int hxc__is_token(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    return 1;
}

int hxc__is_field_value(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return 0;
    }
    return 1;
}
