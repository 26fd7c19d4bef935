/* SPDX-License-Identifier: MIT */
/*
 * hxc/form.h - form bodies: application/x-www-form-urlencoded and
 * multipart/form-data (RFC 7578), with file parts streamed from disk.
 *
 * A form is built with hxc_form_new() and the hxc_form_add*() calls, then
 * given to a request with hxc_request_set_form(), which takes it. A form
 * that was never given to a request is freed with hxc_form_free().
 *
 * Each failing call on a form returns an error and describes it in a
 * sentence that hxc_form_error_detail() gives (for a file: its path and
 * the system's reason, "No such file or directory").
 *
 * Threading: a form belongs to one thread, like the request it goes to.
 */
#ifndef HXC_FORM_H
#define HXC_FORM_H

#include "hxc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The fields of an HTML form, in order; names may repeat. */
typedef struct hxc_form hxc_form;

/** A new empty form, or NULL when out of memory. */
HXC_EXTERN hxc_form *hxc_form_new(void);

/**
 * Appends a text field `name` = `value` (both copied; repeated names are
 * kept as separate fields, in order). In a multipart body it is a part
 * without filename or Content-Type (RFC 7578 4.4: text/plain). 0, or
 * HXC_EINVAL (NULL argument), HXC_ENOMEM.
 */
HXC_EXTERN int hxc_form_add(hxc_form *f, const char *name, const char *value);

/**
 * Appends a file part whose content is read from `path` when the request
 * is sent, in pieces: the file is never loaded whole, and it is open only
 * while its bytes are being sent (closed when they are, when the request
 * ends, or when the form is freed). `filename` is the name the server sees
 * (NULL: what follows the last '/' of `path`), `content_type` the part's
 * Content-Type (NULL: application/octet-stream).
 *
 * The file is opened and its size read now (fstat), so that a file that
 * is missing, unreadable or not a regular file fails here with HXC_EINVAL,
 * and hxc_form_error_detail() names it with the system's reason; it is
 * closed again at once. The size is what the body's Content-Length counts:
 * if the file has changed size, or cannot be opened any more, when the
 * request reaches it, the request fails with HXC_EINVAL and a detail that
 * names the file (its response's hxc_response_error_detail()). A multipart
 * form only (hxc_request_set_form() refuses a file in a urlencoded one).
 * 0, or HXC_EINVAL, HXC_ENOMEM.
 */
HXC_EXTERN int hxc_form_add_file(hxc_form *f, const char *name, const char *path,
                                 const char *filename, const char *content_type);

/**
 * Appends a part with `len` bytes at `data` (copied) as its content, sent as
 * a file is: `filename` may be NULL (then the part has no filename
 * parameter), `content_type` defaults to application/octet-stream. A
 * multipart form only. 0, or HXC_EINVAL, HXC_ENOMEM.
 */
HXC_EXTERN int hxc_form_add_data(hxc_form *f, const char *name, const void *data, size_t len,
                                 const char *filename, const char *content_type);

/**
 * Why the last failing call on `f` failed (hxc_form_add*(),
 * hxc_request_set_form()), e.g. "cannot open form file '/tmp/x': No such
 * file or directory"; "" when none has. Valid until the next call on `f`.
 */
HXC_EXTERN const char *hxc_form_error_detail(const hxc_form *f);

/** Frees a form that was not given to a request (and closes nothing: a form
 *  holds no open file). NULL is ignored. */
HXC_EXTERN void hxc_form_free(hxc_form *f);

/**
 * Makes `f` the body of `req` (replacing any body) and sets its
 * Content-Type header (replacing one set before).
 *
 * - `multipart` 0: application/x-www-form-urlencoded, "name=value&...",
 *   each name and value percent-encoded (the unreserved characters of RFC
 *   3986 as they are, a space as '+', other bytes as %XX), as HTTPX's `data=`
 *   and curl's --data-urlencode do. A body of known length, as with
 *   hxc_request_set_body(). Only text fields: a form with a file or data part
 *   is refused with HXC_EINVAL.
 * - `multipart` nonzero: multipart/form-data with a random boundary (128
 *   bits from OpenSSL's RAND_bytes, drawn again if it occurs in a text or
 *   data part). The body is streamed through the request's body producer
 *   (hxc_request_set_body_producer(): the same back-pressure, and the same
 *   rule that it is retried only if none of it was produced), files read
 *   from disk in pieces as the connection takes them, with a Content-Length
 *   computed now from the parts' sizes, so that HTTP/1.1 needs no chunked
 *   encoding. Names and filenames are sent as browsers send them (WHATWG
 *   HTML): in quotes, with '"' as %22, CR as %0D, LF as %0A (and the other
 *   control bytes as %XX), other bytes (UTF-8 included) as they are.
 *   hxc_request_dup() of such a request shares the form (it is never changed
 *   once taken) and reads the files again for its own sends.
 *
 * Ownership: on success the request owns the form, and the caller must not
 * use or free it any more (it is freed with the request, or when the
 * request's body is replaced). On failure nothing is taken: the form is
 * still the caller's, unchanged, and hxc_form_error_detail() says why.
 * Errors: HXC_EINVAL (NULL, a request shared or being sent, files in a
 * urlencoded form, no random bytes), HXC_ENOMEM.
 */
HXC_EXTERN int hxc_request_set_form(hxc_request *req, hxc_form *f, int multipart);

#ifdef __cplusplus
}
#endif
#endif
