/* SPDX-License-Identifier: MIT */
/*
 * api/request.c - building requests; every caller-supplied byte is checked
 * here, before it can reach any protocol encoder.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/internal.h"
#include "core/mem.h"
#include "core/message.h"
#include "api/api.h"
#include "policy/form.h"

/* The six strings one after another in `block`, in the order of enum
 * hxc__request_string; `r`'s pointers are set to them. */
static void place_strings(struct hxc_request *r, char *block, const char *const strs[6])
{
    char **dst[6] = {&r->method,   &r->url_string, &r->url.scheme,
                     &r->url.host, &r->url.target, &r->url.authority};
    for (int i = 0; i < 6; i++) {
        memcpy(block, strs[i], (size_t)r->lens[i] + 1);
        *dst[i] = block;
        block += r->lens[i] + 1;
    }
}

static size_t strings_size(const struct hxc_request *r)
{
    size_t total = 0;
    for (int i = 0; i < 6; i++)
        total += (size_t)r->lens[i] + 1;
    return total;
}

/* Gives `r` the method, the URL and the parts of its parse `u`, packed into
 * one block, so that a copy is one allocation and one copy; the block it
 * had before is freed (`method` may be in it) and so are `u`'s strings. On
 * error `r` is unchanged and `u` still owns its strings. */
static int pack_strings(struct hxc_request *r, const char *method, const char *url, hxc__url *u)
{
    const char *strs[6] = {method, url, u->scheme, u->host, u->target, u->authority};
    uint32_t lens[6];
    size_t total = 0;
    for (int i = 0; i < 6; i++) {
        size_t n = strlen(strs[i]);
        if (n > UINT32_MAX)
            return HXC_EINVAL;
        lens[i] = (uint32_t)n;
        total += n + 1;
    }
    char *block = hxc__malloc(total);
    if (block == NULL)
        return HXC_ENOMEM;
    char *old = r->packed_inline ? NULL : r->packed;
    memcpy(r->lens, lens, sizeof(lens));
    place_strings(r, block, strs);
    r->url.port = u->port;
    r->url.tls = u->tls;
    r->url.ipv6 = u->ipv6;
    r->packed = block;
    r->packed_inline = 0;
    hxc__url_free(u);
    hxc__free(old);
    return 0;
}

int hxc_request_new(hxc_request **out, const char *method, const char *url)
{
    if (out == NULL || method == NULL || url == NULL)
        return HXC_EINVAL;
    if (!hxc__is_token(method, strlen(method)))
        return HXC_EINVAL;
    struct hxc_request *r = hxc__calloc(1, sizeof(*r));
    if (r == NULL)
        return HXC_ENOMEM;
    r->refs = 1;
    const char *detail;
    hxc__url u;
    int rv = hxc__url_parse(&u, url, &detail);
    if (rv == 0 && (rv = pack_strings(r, method, url, &u)) != 0)
        hxc__url_free(&u);
    if (rv != 0) {
        hxc__free(r);
        return rv;
    }
    hxc__headers_init(&r->headers);
    hxc__list_init(&r->sends);
    for (int i = 0; i < HXC_TIMEOUT__COUNT; i++)
        r->timeouts[i] = -1;
    r->retries = -1;
    r->max_body = UINT64_MAX;
    *out = r;
    return 0;
}

int hxc_url_check(const char *url, const char **detail)
{
    const char *why = "no URL";
    int rv = HXC_EINVAL; /* as hxc_request_new for NULL */
    if (url != NULL) {
        hxc__url u;
        rv = hxc__url_parse(&u, url, &why);
        if (rv == 0)
            hxc__url_free(&u);
    }
    if (detail != NULL)
        *detail = rv == 0 ? NULL : why;
    return rv;
}

int hxc_request_dup(hxc_request **out, const hxc_request *src)
{
    if (out == NULL || src == NULL)
        return HXC_EINVAL;
    /* One block for the request and its six strings: a load driver makes a
     * copy per request. The lengths were measured once, when `src` was made. */
    size_t total = strings_size(src);
    struct hxc_request *r = hxc__malloc(sizeof(*r) + total);
    if (r == NULL)
        return HXC_ENOMEM;
    *r = *src;
    r->refs = 1;
    r->call = NULL;
    hxc__list_init(&r->sends);
    r->producer_paused = 0;
    hxc__headers_init(&r->headers);
    r->body = NULL;
    r->body_owned = 0;
    r->form = NULL;
    r->packed = (char *)(r + 1);
    r->packed_inline = 1;
    int rv = 0;
    /* `src`'s strings are packed too, in the same order: one copy, then the
     * pointers at the same offsets. */
    memcpy(r->packed, src->packed, total);
    char *const base = r->packed;
    r->method = base;
    r->url_string = base + (src->url_string - src->packed);
    r->url.scheme = base + (src->url.scheme - src->packed);
    r->url.host = base + (src->url.host - src->packed);
    r->url.target = base + (src->url.target - src->packed);
    r->url.authority = base + (src->url.authority - src->packed);
    r->url.port = src->url.port;
    r->url.tls = src->url.tls;
    r->url.ipv6 = src->url.ipv6;
    for (size_t i = 0; rv == 0 && i < src->headers.count; i++) {
        size_t nl, vl;
        const char *n = hxc__headers_name(&src->headers, i, &nl);
        const char *v = hxc__headers_value(&src->headers, i, &vl);
        rv = hxc__headers_add(&r->headers, n, nl, v, vl);
    }
    if (rv == 0 && src->body_owned && src->body_len > 0) {
        uint8_t *b = hxc__malloc(src->body_len);
        if (b == NULL)
            rv = HXC_ENOMEM;
        else {
            memcpy(b, src->body, src->body_len);
            r->body = b;
            r->body_owned = 1;
        }
    } else if (rv == 0) {
        r->body = src->body_owned ? NULL : src->body;
    }
    if (rv == 0 && src->form != NULL) {
        /* The form is never changed once a request has it: shared, with an
         * upload of the copy's own (its files are read again). */
        r->form = hxc__form_upload_dup(src->form);
        if (r->form == NULL)
            rv = HXC_ENOMEM;
        r->producer_ud = r->form;
    }
    if (rv != 0) {
        hxc_request_free(r);
        return HXC_ENOMEM;
    }
    *out = r;
    return 0;
}

hxc_request *hxc_request_retain(hxc_request *r)
{
    if (r != NULL)
        r->refs++;
    return r;
}

void hxc_request_free(hxc_request *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    if (!r->packed_inline)
        hxc__free(r->packed); /* method, URL and its parts live in it */
    hxc__headers_free(&r->headers);
    if (r->body_owned)
        hxc__free((void *)r->body);
    hxc__form_upload_free(r->form);
    hxc__free(r);
}

static int managed(const char *name)
{
    static const char *const names[] = {"content-length", "transfer-encoding", "connection",
                                        "keep-alive",     "upgrade",           "proxy-connection"};
    for (size_t i = 0; i < HXC__ARRAY_SIZE(names); i++)
        if (hxc__strieq(name, strlen(name), names[i]))
            return 1;
    return 0;
}

int hxc_request_add_header(hxc_request *r, const char *name, const char *value)
{
    if (r == NULL || name == NULL || value == NULL || r->refs > 1)
        return HXC_EINVAL;
    size_t nl = strlen(name), vl = strlen(value);
    if (!hxc__is_token(name, nl) || !hxc__is_field_value(value, vl) || managed(name))
        return HXC_EINVAL;
    /* Leading and trailing blanks are not part of a field value (RFC 9110 5.5). */
    while (vl > 0 && (value[0] == ' ' || value[0] == '\t'))
        value++, vl--;
    while (vl > 0 && (value[vl - 1] == ' ' || value[vl - 1] == '\t'))
        vl--;
    return hxc__headers_add(&r->headers, name, nl, value, vl);
}

int hxc_request_set_header(hxc_request *r, const char *name, const char *value)
{
    if (r == NULL || name == NULL || value == NULL || r->refs > 1)
        return HXC_EINVAL;
    size_t nl = strlen(name), vl = strlen(value);
    if (!hxc__is_token(name, nl) || !hxc__is_field_value(value, vl) || managed(name))
        return HXC_EINVAL;
    hxc__headers_remove(&r->headers, name);
    return hxc_request_add_header(r, name, value);
}

int hxc_request_remove_header(hxc_request *r, const char *name)
{
    if (r == NULL || name == NULL || r->refs > 1)
        return HXC_EINVAL;
    return (int)hxc__headers_remove(&r->headers, name);
}

static void drop_body(hxc_request *r)
{
    if (r->body_owned)
        hxc__free((void *)r->body);
    r->body = NULL;
    r->body_len = 0;
    r->body_owned = 0;
    r->has_body = 0;
    r->producer = NULL;
    r->producer_ud = NULL;
    hxc__form_upload_free(r->form);
    r->form = NULL;
}

int hxc_request_set_body_producer(hxc_request *r, hxc_body_producer producer, int64_t length,
                                  void *user_data)
{
    if (r == NULL || producer == NULL || length < -1 || r->refs > 1)
        return HXC_EINVAL;
    drop_body(r);
    r->producer = producer;
    r->producer_ud = user_data;
    r->producer_len = length;
    r->has_body = 1;
    return 0;
}

int hxc_request_set_body(hxc_request *r, const void *data, size_t len)
{
    if (r == NULL || (data == NULL && len > 0) || r->refs > 1)
        return HXC_EINVAL;
    uint8_t *copy = hxc__malloc(len);
    if (copy == NULL)
        return HXC_ENOMEM;
    if (len)
        memcpy(copy, data, len);
    drop_body(r);
    r->body = copy;
    r->body_len = len;
    r->body_owned = 1;
    r->has_body = 1;
    return 0;
}

int hxc_request_set_body_static(hxc_request *r, const void *data, size_t len)
{
    if (r == NULL || (data == NULL && len > 0) || r->refs > 1)
        return HXC_EINVAL;
    drop_body(r);
    r->body = data;
    r->body_len = len;
    r->has_body = 1;
    return 0;
}

int hxc_request_set_timeout(hxc_request *r, enum hxc_timeout which, double seconds)
{
    if (r == NULL || r->refs > 1 || (int)which < 0 || which >= HXC_TIMEOUT__COUNT || !(seconds >= 0) ||
        isinf(seconds))
        return HXC_EINVAL;
    r->timeouts[which] = seconds;
    return 0;
}

int hxc_request_set_retries(hxc_request *r, int retries)
{
    if (r == NULL || r->refs > 1 || retries < -1 || retries > 100)
        return HXC_EINVAL;
    r->retries = retries;
    return 0;
}

int hxc_request_set_priority(hxc_request *r, int urgency, int incremental)
{
    if (r == NULL || urgency < 0 || urgency > 7 || r->refs > 1)
        return HXC_EINVAL;
    char v[16];
    snprintf(v, sizeof(v), incremental ? "u=%d, i" : "u=%d", urgency);
    return hxc_request_set_header(r, "priority", v);
}

int hxc_request_on_response_stream(hxc_request *r, hxc_headers_cb headers, hxc_body_cb body,
                                   void *user_data)
{
    if (r == NULL || r->refs > 1)
        return HXC_EINVAL;
    r->on_headers = headers;
    r->on_body = body;
    r->stream_ud = user_data;
    return 0;
}

int hxc_request_set_max_body(hxc_request *r, uint64_t max_bytes)
{
    if (r == NULL || r->refs > 1)
        return HXC_EINVAL;
    r->max_body = max_bytes;
    return 0;
}

int hxc_request_discard_body(hxc_request *r, int discard)
{
    if (r == NULL || r->refs > 1)
        return HXC_EINVAL;
    r->discard_body = discard != 0;
    return 0;
}

int hxc_request_add_query(hxc_request *r, const char *name, const char *value)
{
    /* Not while a send reads the strings it would free (nor when shared). */
    if (r == NULL || name == NULL || *name == '\0' || r->refs > 1 || !hxc__list_empty(&r->sends))
        return HXC_EINVAL;
    /* Before the fragment, after the query there is: "?" for the first
     * parameter, "&" between two (none after a query that ends with one). */
    const char *url = r->url_string;
    size_t len = r->lens[HXC__RS_URL];
    const char *hash = memchr(url, '#', len);
    size_t head = hash ? (size_t)(hash - url) : len;
    const char *sep = memchr(url, '?', head) == NULL                 ? "?"
                      : url[head - 1] == '?' || url[head - 1] == '&' ? ""
                                                                     : "&";
    hxc__buf b;
    hxc__buf_init(&b);
    int rv = 0;
    if (hxc__buf_append(&b, url, head) != 0 || hxc__buf_append(&b, sep, strlen(sep)) != 0 ||
        hxc__form_escape(&b, name, strlen(name), 0) != 0 ||
        (value != NULL && (hxc__buf_append(&b, "=", 1) != 0 ||
                           hxc__form_escape(&b, value, strlen(value), 0) != 0)) ||
        hxc__buf_append(&b, url + head, len - head) != 0)
        rv = HXC_ENOMEM;
    /* Parsed again, as a new request's URL is: the target and every later
     * check see the URL that hxc_request_url() shows. */
    hxc__url u;
    const char *detail;
    if (rv == 0 && (rv = hxc__url_parse(&u, (const char *)b.data, &detail)) != 0)
        rv = rv == HXC_ENOMEM ? rv : HXC_EINVAL; /* too long */
    else if (rv == 0 && (rv = pack_strings(r, r->method, (const char *)b.data, &u)) != 0)
        hxc__url_free(&u);
    hxc__buf_free(&b);
    return rv;
}

static int form_refused(hxc_form *f, int err, const char *why)
{
    if (f->error[0] == '\0')
        snprintf(f->error, sizeof(f->error), "%s", why);
    return err;
}

int hxc_request_set_form(hxc_request *r, hxc_form *f, int multipart)
{
    if (r == NULL || f == NULL)
        return HXC_EINVAL;
    f->error[0] = '\0';
    if (r->refs > 1 || !hxc__list_empty(&r->sends) || f->taken)
        return form_refused(f, HXC_EINVAL,
                            "the request is shared or being sent, or the form is taken");
    /* What can fail first; then the request changes, and nothing fails. */
    hxc__buf body;
    hxc__buf_init(&body);
    hxc__form_upload *up = NULL;
    char ctype[64 + HXC__FORM_BOUNDARY_LEN];
    int rv;
    if (!multipart) {
        rv = hxc__form_urlencode(f, &body);
        if (rv == HXC_EINVAL)
            form_refused(f, rv,
                         "a urlencoded form holds text fields only: send files as multipart");
        snprintf(ctype, sizeof(ctype), "application/x-www-form-urlencoded");
    } else {
        rv = hxc__form_layout(f, RAND_bytes);
        if (rv == 0 && (up = hxc__form_upload_new(f)) == NULL)
            rv = HXC_ENOMEM;
        snprintf(ctype, sizeof(ctype), "multipart/form-data; boundary=%s", f->boundary);
    }
    static const char ct[] = "Content-Type";
    if (rv == 0)
        rv = hxc__headers_grow(&r->headers, sizeof(ct) - 1 + strlen(ctype) + 2);
    if (rv != 0) {
        hxc__buf_free(&body);
        hxc__form_upload_free(up);
        return form_refused(f, rv, "out of memory");
    }
    drop_body(r);
    r->has_body = 1;
    if (!multipart) {
        r->body = body.data;
        r->body_len = body.len;
        r->body_owned = 1;
    } else {
        f->taken = 1;
        r->form = up;
        r->producer = hxc__form_produce;
        r->producer_ud = up;
        r->producer_len = (int64_t)f->total;
    }
    hxc__form_unref(f); /* the caller's reference: the request's now (or done with) */
    hxc__headers_remove(&r->headers, ct);
    hxc__headers_add(&r->headers, ct, sizeof(ct) - 1, ctype, strlen(ctype)); /* room made above */
    return 0;
}

void hxc_request_set_user_data(hxc_request *r, void *ud)
{
    if (r)
        r->user_data = ud;
}

void *hxc_request_user_data(const hxc_request *r) { return r ? r->user_data : NULL; }
const char *hxc_request_method(const hxc_request *r) { return r ? r->method : NULL; }
const char *hxc_request_url(const hxc_request *r) { return r ? r->url_string : NULL; }
const hxc_headers *hxc_request_headers(const hxc_request *r) { return r ? &r->headers : NULL; }
