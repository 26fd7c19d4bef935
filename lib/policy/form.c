/* SPDX-License-Identifier: MIT */
/*
 * policy/form.c - the parts of a form and their encodings: urlencoded
 * (also the escaping of query parameters) and multipart/form-data. Sans-IO:
 * the multipart encoder hands the place of each file's bytes back to its
 * caller, which reads the file (api/form.c); nothing here touches a file.
 */
#include <stdio.h>
#include <string.h>

#include "core/headers.h"
#include "core/internal.h"
#include "core/mem.h"
#include "policy/form.h"

hxc_form *hxc__form_new(void)
{
    hxc_form *f = hxc__calloc(1, sizeof(*f));
    if (f != NULL)
        f->refs = 1;
    return f;
}

static void part_free(hxc__form_part *p)
{
    hxc__free(p->name);
    hxc__free(p->filename);
    hxc__free(p->content_type);
    hxc__free(p->data);
    hxc__free(p->path);
    hxc__free(p->head);
}

void hxc__form_unref(hxc_form *f)
{
    if (f == NULL || --f->refs > 0)
        return;
    for (size_t i = 0; i < f->n; i++)
        part_free(&f->parts[i]);
    hxc__free(f->parts);
    hxc__free(f);
}

static char *dup_or_null(const char *s, int *failed)
{
    if (s == NULL)
        return NULL;
    char *d = hxc__strdup(s);
    if (d == NULL)
        *failed = 1;
    return d;
}

int hxc__form_add_part(hxc_form *f, int kind, const char *name, const void *data, uint64_t len,
                       const char *path, const char *filename, const char *content_type)
{
    f->error[0] = '\0';
    if (f->taken) {
        snprintf(f->error, sizeof(f->error), "the form belongs to a request");
        return HXC_EINVAL;
    }
    if (content_type != NULL &&
        (content_type[0] == '\0' || !hxc__is_field_value(content_type, strlen(content_type)))) {
        snprintf(f->error, sizeof(f->error),
                 "the content type of part '%s' is empty or holds control bytes", name);
        return HXC_EINVAL;
    }
    if (kind != HXC__PART_FILE && len > SIZE_MAX - 1)
        return HXC_ENOMEM;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        hxc__form_part *parts = hxc__realloc(f->parts, cap * sizeof(*parts));
        if (parts == NULL)
            goto nomem;
        f->parts = parts;
        f->cap = cap;
    }
    hxc__form_part p;
    memset(&p, 0, sizeof(p));
    p.kind = kind;
    p.len = len;
    int failed = 0;
    p.name = dup_or_null(name, &failed);
    p.filename = dup_or_null(filename, &failed);
    p.content_type = dup_or_null(content_type, &failed);
    p.path = dup_or_null(path, &failed);
    if (kind != HXC__PART_FILE) {
        p.data = hxc__malloc((size_t)len + 1);
        if (p.data == NULL)
            failed = 1;
        else if (len > 0)
            memcpy(p.data, data, (size_t)len);
    }
    if (failed) {
        part_free(&p);
        goto nomem;
    }
    f->parts[f->n++] = p;
    return 0;
nomem:
    snprintf(f->error, sizeof(f->error), "out of memory");
    return HXC_ENOMEM;
}

static int unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static const char hex[] = "0123456789ABCDEF";

int hxc__form_escape(hxc__buf *out, const char *s, size_t n, int plus)
{
    /* The worst case at once: one growth, then plain stores. */
    if (n > (SIZE_MAX - 1) / 3 || hxc__buf_reserve(out, 3 * n) != 0)
        return HXC_ENOMEM;
    uint8_t *w = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c)) {
            *w++ = c;
        } else if (c == ' ' && plus) {
            *w++ = '+';
        } else {
            *w++ = '%';
            *w++ = (uint8_t)hex[c >> 4];
            *w++ = (uint8_t)hex[c & 15];
        }
    }
    out->len = (size_t)(w - out->data);
    out->data[out->len] = 0;
    return 0;
}

int hxc__form_urlencode(const hxc_form *f, hxc__buf *out)
{
    for (size_t i = 0; i < f->n; i++) {
        const hxc__form_part *p = &f->parts[i];
        if (p->kind != HXC__PART_TEXT)
            return HXC_EINVAL;
        if ((i > 0 && hxc__buf_append(out, "&", 1) != 0) ||
            hxc__form_escape(out, p->name, strlen(p->name), 1) != 0 ||
            hxc__buf_append(out, "=", 1) != 0 ||
            hxc__form_escape(out, (const char *)p->data, (size_t)p->len, 1) != 0)
            return HXC_ENOMEM;
    }
    return hxc__buf_reserve(out, 0); /* an empty form is an empty body, not NULL */
}

/* A Content-Disposition parameter as browsers quote it (WHATWG HTML's
 * multipart/form-data encoding): the quote and line ends percent-encoded
 * (and the other control bytes, which no field value may hold), the rest
 * as it is. */
static int append_quoted(hxc__buf *b, const char *s)
{
    if (hxc__buf_append(b, "\"", 1) != 0)
        return HXC_ENOMEM;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        int rv = (*p == '"' || *p < 0x20 || *p == 0x7f) ? hxc__buf_append(b, esc, 3)
                                                        : hxc__buf_append(b, p, 1);
        if (rv != 0)
            return rv;
    }
    return hxc__buf_append(b, "\"", 1);
}

static int append_str(hxc__buf *b, const char *s) { return hxc__buf_append(b, s, strlen(s)); }

static int make_head(hxc_form *f, hxc__form_part *p)
{
    hxc__buf b;
    hxc__buf_init(&b);
    int rv = 0;
    rv = rv ? rv : append_str(&b, "--");
    rv = rv ? rv : append_str(&b, f->boundary);
    rv = rv ? rv : append_str(&b, "\r\nContent-Disposition: form-data; name=");
    rv = rv ? rv : append_quoted(&b, p->name);
    if (p->filename != NULL) {
        rv = rv ? rv : append_str(&b, "; filename=");
        rv = rv ? rv : append_quoted(&b, p->filename);
    }
    if (p->content_type != NULL) {
        rv = rv ? rv : append_str(&b, "\r\nContent-Type: ");
        rv = rv ? rv : append_str(&b, p->content_type);
    }
    rv = rv ? rv : append_str(&b, "\r\n\r\n");
    if (rv != 0) {
        hxc__buf_free(&b);
        return HXC_ENOMEM;
    }
    hxc__free(p->head);
    p->head = (char *)b.data;
    p->head_len = b.len;
    return 0;
}

/* The boundary must not appear in what is sent between two delimiters; the
 * parts in memory are checked, a file's bytes would have to be read twice. */
static int boundary_in_content(const hxc_form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const hxc__form_part *p = &f->parts[i];
        if (p->kind != HXC__PART_FILE &&
            memmem(p->data, (size_t)p->len, f->boundary, HXC__FORM_BOUNDARY_LEN) != NULL)
            return 1;
    }
    return 0;
}

/* The close delimiter: "--" boundary "--" CRLF. */
#define CLOSE_LEN (HXC__FORM_BOUNDARY_LEN + 6)

int hxc__form_layout(hxc_form *f, hxc__form_random rnd)
{
    int tries = 0;
    do {
        unsigned char r[16];
        if (++tries > 8 || rnd(r, (int)sizeof(r)) != 1) {
            /* Eight draws of 128 bits that all occur in the content mean
             * the source is not random. */
            snprintf(f->error, sizeof(f->error), "no random bytes for the multipart boundary");
            return HXC_EINVAL;
        }
        memcpy(f->boundary, "hxc-", 4);
        for (size_t i = 0; i < sizeof(r); i++) {
            f->boundary[4 + 2 * i] = "0123456789abcdef"[r[i] >> 4];
            f->boundary[5 + 2 * i] = "0123456789abcdef"[r[i] & 15];
        }
        f->boundary[HXC__FORM_BOUNDARY_LEN] = '\0';
    } while (boundary_in_content(f));
    uint64_t total = CLOSE_LEN;
    for (size_t i = 0; i < f->n; i++) {
        hxc__form_part *p = &f->parts[i];
        if (make_head(f, p) != 0) {
            snprintf(f->error, sizeof(f->error), "out of memory");
            return HXC_ENOMEM;
        }
        uint64_t room = (uint64_t)INT64_MAX - total; /* a producer's length is an int64_t */
        if (p->head_len + 2 > room || p->len > room - p->head_len - 2) {
            snprintf(f->error, sizeof(f->error), "the form is too large");
            return HXC_EINVAL;
        }
        total += p->head_len + p->len + 2;
    }
    f->total = total;
    return 0;
}

void hxc__form_cursor_init(hxc__form_cursor *c, const hxc_form *f)
{
    c->part = 0;
    c->off = 0;
    c->stage = f->n > 0 ? HXC__FS_HEAD : HXC__FS_CLOSE;
}

static void next_stage(hxc__form_cursor *c, const hxc_form *f)
{
    c->off = 0;
    switch (c->stage) {
    case HXC__FS_HEAD:
        c->stage = HXC__FS_BODY;
        break;
    case HXC__FS_BODY:
        c->stage = HXC__FS_TAIL;
        break;
    case HXC__FS_TAIL:
        c->stage = ++c->part < f->n ? HXC__FS_HEAD : HXC__FS_CLOSE;
        break;
    default:
        c->stage = HXC__FS_DONE;
        break;
    }
}

size_t hxc__form_emit(hxc__form_cursor *c, const hxc_form *f, uint8_t *buf, size_t len)
{
    char close[CLOSE_LEN + 1];
    size_t w = 0;
    while (w < len && c->stage != HXC__FS_DONE) {
        const hxc__form_part *p = c->part < f->n ? &f->parts[c->part] : NULL;
        const uint8_t *src;
        uint64_t n;
        if (c->stage == HXC__FS_HEAD) {
            src = (const uint8_t *)p->head;
            n = p->head_len;
        } else if (c->stage == HXC__FS_BODY) {
            if (p->kind == HXC__PART_FILE)
                break; /* the caller's: hxc__form_at_file */
            src = p->data;
            n = p->len;
        } else if (c->stage == HXC__FS_TAIL) {
            src = (const uint8_t *)"\r\n";
            n = 2;
        } else {
            snprintf(close, sizeof(close), "--%s--\r\n", f->boundary);
            src = (const uint8_t *)close;
            n = CLOSE_LEN;
        }
        uint64_t left = n - c->off;
        size_t take = left < len - w ? (size_t)left : len - w;
        if (take > 0)
            memcpy(buf + w, src + c->off, take);
        w += take;
        c->off += take;
        if (c->off == n)
            next_stage(c, f);
    }
    return w;
}

int hxc__form_at_file(const hxc__form_cursor *c, const hxc_form *f, size_t *part, uint64_t *left)
{
    if (c->stage != HXC__FS_BODY || f->parts[c->part].kind != HXC__PART_FILE)
        return 0;
    *part = c->part;
    *left = f->parts[c->part].len - c->off;
    return 1;
}

void hxc__form_file_advance(hxc__form_cursor *c, uint64_t n) { c->off += n; }

void hxc__form_file_end(hxc__form_cursor *c, const hxc_form *f) { next_stage(c, f); }
