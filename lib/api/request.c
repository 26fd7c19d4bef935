/* SPDX-License-Identifier: MIT */
/*
 * api/request.c - building requests; every caller-supplied byte is checked
 * here, before it can reach any protocol encoder.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "core/mem.h"
#include "core/message.h"

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
    int rv = hxc__url_parse(&r->url, url, &detail);
    if (rv != 0) {
        hxc__free(r);
        return rv;
    }
    r->method = hxc__strdup(method);
    r->url_string = hxc__strdup(url);
    if (r->method == NULL || r->url_string == NULL) {
        hxc_request_free(r);
        return HXC_ENOMEM;
    }
    const char *strs[6] = {r->method,   r->url_string, r->url.scheme,
                           r->url.host, r->url.target, r->url.authority};
    for (int i = 0; i < 6; i++) {
        size_t n = strlen(strs[i]);
        if (n > UINT32_MAX) {
            hxc_request_free(r);
            return HXC_EINVAL;
        }
        r->lens[i] = (uint32_t)n;
    }
    /* Packed into one block, so that a copy is one allocation and one copy. */
    char *block = hxc__malloc(strings_size(r));
    if (block == NULL) {
        hxc_request_free(r);
        return HXC_ENOMEM;
    }
    place_strings(r, block, strs);
    for (int i = 0; i < 6; i++)
        hxc__free((void *)strs[i]);
    r->packed = block;
    r->packed_inline = 0;
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
    if (r->packed) {
        if (!r->packed_inline)
            hxc__free(r->packed); /* method, URL and its parts live in it */
    } else {
        hxc__free(r->method);
        hxc__free(r->url_string);
        hxc__url_free(&r->url);
    }
    hxc__headers_free(&r->headers);
    if (r->body_owned)
        hxc__free((void *)r->body);
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

void hxc_request_set_user_data(hxc_request *r, void *ud)
{
    if (r)
        r->user_data = ud;
}

void *hxc_request_user_data(const hxc_request *r) { return r ? r->user_data : NULL; }
const char *hxc_request_method(const hxc_request *r) { return r ? r->method : NULL; }
const char *hxc_request_url(const hxc_request *r) { return r ? r->url_string : NULL; }
const hxc_headers *hxc_request_headers(const hxc_request *r) { return r ? &r->headers : NULL; }
