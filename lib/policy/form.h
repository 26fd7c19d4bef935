/* SPDX-License-Identifier: MIT */
/*
 * policy/form.h - form bodies and query strings, sans-IO: the parts of a
 * form, the application/x-www-form-urlencoded serialiser (also the escaping
 * of query parameters) and the multipart/form-data encoder (RFC 7578). The
 * encoder writes the framing and the in-memory parts into a caller's
 * buffer and stops where a file's bytes go: reading files is the API
 * layer's (api/form.c), so that nothing here makes a system call.
 */
#ifndef HXC_POLICY_FORM_H
#define HXC_POLICY_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "hxc/form.h"
#include "core/buf.h"

enum hxc__part_kind {
    HXC__PART_TEXT, /* hxc_form_add: a name and a value */
    HXC__PART_DATA, /* hxc_form_add_data: bytes in memory, sent as a file */
    HXC__PART_FILE  /* hxc_form_add_file: read from `path` while sending */
};

typedef struct hxc__form_part {
    int kind; /* enum hxc__part_kind */
    char *name;
    char *filename;     /* NULL: no filename parameter */
    char *content_type; /* NULL: no Content-Type line (text parts) */
    uint8_t *data;      /* text and data parts: the content (owned) */
    char *path;         /* file parts */
    uint64_t len;       /* the content's length; a file's size when it was added */
    char *head;         /* "--boundary CRLF" and the part's header lines, once laid out */
    size_t head_len;
} hxc__form_part;

/* "hxc-" and 32 hex digits: 128 random bits (RFC 2046 allows 70 characters). */
#define HXC__FORM_BOUNDARY_LEN 36

struct hxc_form {
    hxc__form_part *parts;
    size_t n, cap;
    unsigned refs; /* the caller's, or a request's, and one per hxc_request_dup */
    int taken;     /* given to a request: no more parts */
    char boundary[HXC__FORM_BOUNDARY_LEN + 1];
    uint64_t total; /* the multipart body's length, once laid out */
    char error[512];
};

hxc_form *hxc__form_new(void);
/** Drops a reference; the last one frees the form. NULL is ignored. */
void hxc__form_unref(hxc_form *f);
/** Appends a part, copying every string and the data (`path` and `len` for a
 *  file part are what the caller found). 0, HXC_EINVAL (a Content-Type that
 *  is not a valid field value, a taken form) or HXC_ENOMEM; the error is
 *  described in f->error. */
int hxc__form_add_part(hxc_form *f, int kind, const char *name, const void *data, uint64_t len,
                       const char *path, const char *filename, const char *content_type);

/** Appends `s` percent-encoded as application/x-www-form-urlencoded does:
 *  the unreserved characters of RFC 3986 (ALPHA DIGIT - . _ ~) as they are,
 *  every other byte as %XX (upper-case hex), a space as '+' when `plus` is
 *  set (form bodies) or %20 (query strings). 0 or HXC_ENOMEM. */
int hxc__form_escape(hxc__buf *out, const char *s, size_t n, int plus);
/** The text parts as "name=value&..." (a space as '+'). HXC_EINVAL if the
 *  form has a file or data part, HXC_ENOMEM. */
int hxc__form_urlencode(const hxc_form *f, hxc__buf *out);

/** A random source with RAND_bytes' contract: fills `n` bytes, returns 1. */
typedef int (*hxc__form_random)(unsigned char *buf, int n);
/** Chooses the boundary from `rnd`, again while it occurs in the content of
 *  a text or data part (a file's is not read for it: 128 random bits), makes
 *  each part's head and computes the body's length (f->total). 0,
 *  HXC_EINVAL (the random source failed) or HXC_ENOMEM. */
int hxc__form_layout(hxc_form *f, hxc__form_random rnd);

/* Where an encoder is in the multipart body. */
enum hxc__form_stage { HXC__FS_HEAD, HXC__FS_BODY, HXC__FS_TAIL, HXC__FS_CLOSE, HXC__FS_DONE };
typedef struct hxc__form_cursor {
    size_t part;  /* == n: the close delimiter */
    int stage;    /* enum hxc__form_stage */
    uint64_t off; /* bytes of the stage already written */
} hxc__form_cursor;

void hxc__form_cursor_init(hxc__form_cursor *c, const hxc_form *f);
/** Writes the body from the cursor into buf, up to `len` bytes: the framing
 *  and the content of text and data parts. Stops early at the end, or at the
 *  content of a file part (hxc__form_at_file). Returns the bytes written. */
size_t hxc__form_emit(hxc__form_cursor *c, const hxc_form *f, uint8_t *buf, size_t len);
/** Whether the cursor is at a file part's content (even an empty one, or
 *  one whose bytes have all been counted): then *part is its index and
 *  *left how many of its bytes are still to come. */
int hxc__form_at_file(const hxc__form_cursor *c, const hxc_form *f, size_t *part, uint64_t *left);
/** `n` bytes of the file part's content were written (at most *left). */
void hxc__form_file_advance(hxc__form_cursor *c, uint64_t n);
/** The file part's content is complete (*left was 0): on to the next. */
void hxc__form_file_end(hxc__form_cursor *c, const hxc_form *f);
static inline int hxc__form_done(const hxc__form_cursor *c) { return c->stage == HXC__FS_DONE; }

#endif
