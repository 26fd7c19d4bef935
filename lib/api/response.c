/*
 * api/response.c - response getters and the reference count that lets a
 * callback keep a response past its return.
 */
#include "core/internal.h"
#include "core/mem.h"
#include "core/message.h"
#include "api/api.h"

struct hxc_response *hxc__response_new(struct hxc_request *req)
{
    struct hxc_response *r = hxc__calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->refs = 1;
    r->req = req;
    r->version = "";
    hxc__headers_init(&r->headers);
    hxc__headers_init(&r->trailers);
    hxc__buf_init(&r->body);
    hxc__buf_init(&r->up);
    return r;
}

void hxc__response_fail(struct hxc_response *r, int err, const char *detail)
{
    if (r->error != 0)
        return;
    r->error = err;
    hxc__free(r->detail);
    r->detail = hxc__strdup(detail ? detail : hxc_strerror(err));
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
    hxc__free(r->reason);
    hxc__free(r->detail);
    hxc__headers_free(&r->headers);
    hxc__headers_free(&r->trailers);
    hxc__buf_free(&r->body);
    hxc__buf_free(&r->up);
    hxc__free(r);
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
int hxc_response_error(const hxc_response *r) { return r ? r->error : HXC_EINVAL; }
const char *hxc_response_error_detail(const hxc_response *r)
{
    return r && r->detail ? r->detail : "";
}
hxc_request *hxc_response_request(const hxc_response *r) { return r ? r->req : NULL; }
