/* SPDX-License-Identifier: MIT */
/*
 * api/response.c - response getters and the reference count that lets a
 * callback keep a response past its return.
 */
#include <stddef.h>
#include <string.h>

#include "core/internal.h"
#include "core/mem.h"
#include "core/message.h"
#include "api/api.h"

/* Released responses are kept (up to HXC__CACHE_MAX), and
 * HXC__RESPONSE_STORES sets of their head and body storage, each buffer up
 * to: */
#define KEEP_BYTES (16u << 10)

hxc__response_cache *hxc__response_cache_new(void)
{
    hxc__response_cache *rc = hxc__calloc(1, sizeof(*rc));
    if (rc) {
        rc->refs = 1;
        hxc__cache_init(&rc->spare, HXC__CACHE_MAX);
    }
    return rc;
}

static void destroy(struct hxc_response *r)
{
    hxc__headers_free(&r->headers);
    hxc__headers_free(&r->trailers);
    hxc__buf_free(&r->body);
    hxc__buf_free(&r->up);
    hxc__free_lines(r);
}

static void cache_drain(hxc__response_cache *rc)
{
    struct hxc_response *r;
    while ((r = hxc__cache_take(&rc->spare)) != NULL)
        destroy(r);
    while (rc->nstores > 0) {
        rc->nstores--;
        hxc__headers_free(&rc->stores[rc->nstores].headers);
        hxc__buf_free(&rc->stores[rc->nstores].body);
    }
}

static void cache_unref(hxc__response_cache *rc)
{
    if (--rc->refs > 0)
        return;
    cache_drain(rc);
    hxc__free(rc);
}

void hxc__response_cache_close(hxc__response_cache *rc)
{
    if (rc == NULL)
        return;
    rc->closed = 1;
    cache_drain(rc); /* responses still out are freed when released */
    cache_unref(rc);
}

struct hxc_response *hxc__response_new(struct hxc_request *req, hxc__response_cache *rc)
{
    struct hxc_response *r = rc != NULL ? hxc__cache_take(&rc->spare) : NULL;
    if (r != NULL) {
        /* A response kept here never used its trailers or upload fields
         * (`extras`: it would have been freed), so they are still as
         * initialised, and its release cleared `reason` and `detail`: only
         * what comes before them starts over (three cache lines, not four). */
        memset(r, 0, offsetof(struct hxc_response, reason));
        hxc__headers_init(&r->headers); /* storage comes with the head */
        hxc__buf_init(&r->body);
    } else {
        r = hxc__calloc_lines(sizeof(*r));
        if (r == NULL)
            return NULL;
        hxc__headers_init(&r->headers);
        hxc__headers_init(&r->trailers);
        hxc__buf_init(&r->body);
        hxc__buf_init(&r->up);
    }
    r->refs = 1;
    r->req = req;
    r->version = "";
    if (rc != NULL) {
        r->cache = rc;
        rc->refs++;
    }
    return r;
}

hxc_response *hxc_response_retain(hxc_response *r)
{
    if (r)
        r->refs++;
    return r;
}

void hxc_response_release(hxc_response *r)
{
    if (r == NULL || --r->refs > 0)
        return;
    hxc_request_free(r->req);
    if (r->has_text) {
        hxc__free(r->reason);
        hxc__free(r->detail);
        r->reason = r->detail = NULL;
        r->has_text = 0;
    }
    hxc__response_cache *rc = r->cache;
    if (rc == NULL) {
        destroy(r);
        return;
    }
    if (rc->closed || !hxc__cache_enabled() || r->body.cap > KEEP_BYTES ||
        r->headers.bytes.cap > KEEP_BYTES ||
        (r->extras && (r->trailers.cap > 0 || r->trailers.bytes.cap > 0 || r->up.cap > 0))) {
        destroy(r);
    } else {
        if (rc->nstores < HXC__RESPONSE_STORES &&
            (r->headers.fields != NULL || r->headers.bytes.data != NULL || r->body.data != NULL)) {
            hxc__headers_clear(&r->headers);
            hxc__buf_reset(&r->body);
            rc->stores[rc->nstores].headers = r->headers;
            rc->stores[rc->nstores].body = r->body;
            rc->nstores++;
            hxc__headers_init(&r->headers);
            hxc__buf_init(&r->body);
        } else {
            hxc__headers_free(&r->headers);
            hxc__buf_free(&r->body);
        }
        if (!hxc__cache_keep(&rc->spare, r))
            destroy(r);
    }
    cache_unref(rc);
}

int hxc_response_status(const hxc_response *r) { return r ? r->status : 0; }
const char *hxc_response_reason(const hxc_response *r) { return r && r->reason ? r->reason : ""; }
const char *hxc_response_http_version(const hxc_response *r) { return r ? r->version : ""; }
const hxc_headers *hxc_response_headers(const hxc_response *r) { return r ? &r->headers : NULL; }
const hxc_headers *hxc_response_trailers(const hxc_response *r) { return r ? &r->trailers : NULL; }

const uint8_t *hxc_response_body(const hxc_response *r, size_t *len)
{
    static const uint8_t empty[1] = {0};
    if (len)
        *len = r && r->body.data ? r->body.len : 0;
    return r && r->body.data ? r->body.data : empty;
}

const char *hxc_response_url(const hxc_response *r) { return r ? r->req->url_string : ""; }

void hxc_response_timings(const hxc_response *r, hxc_timings *out)
{
    if (r && out)
        *out = r->timings;
}

uint64_t hxc_response_connection_id(const hxc_response *r) { return r ? r->conn_id : 0; }
uint64_t hxc_response_body_received(const hxc_response *r) { return r ? r->body_received : 0; }
int hxc_response_error(const hxc_response *r) { return r ? r->error : HXC_EINVAL; }
const char *hxc_response_error_detail(const hxc_response *r)
{
    return r && r->detail ? r->detail : "";
}
hxc_request *hxc_response_request(const hxc_response *r) { return r ? r->req : NULL; }
