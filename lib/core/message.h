/* SPDX-License-Identifier: MIT */
/*
 * core/message.h - the data of a request and of a response.
 *
 * Plain data shared by the layers: the API layer owns the lifetimes
 * (api/request.c, api/response.c); the pool and protocol glue fill in a
 * response. Nothing here does I/O.
 */
#ifndef HXC_CORE_MESSAGE_H
#define HXC_CORE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "hxc/request.h"
#include "hxc/response.h"
#include "core/buf.h"
#include "core/cache.h"
#include "core/headers.h"
#include "core/list.h"
#include "core/url.h"

typedef struct hxc__form_upload hxc__form_upload;

/* The request's strings, in the order of hxc_request.lens. */
enum hxc__request_string {
    HXC__RS_METHOD,
    HXC__RS_URL,
    HXC__RS_SCHEME,
    HXC__RS_HOST,
    HXC__RS_TARGET,
    HXC__RS_AUTHORITY
};

struct hxc_request {
    /* What its free and the response's delivery touch, first and together. */
    char *packed;   /* hxc_request_dup: all strings in one block, */
    void *call;     /* a streamed upload's call while it runs (for resume) */
    hxc__list sends; /* the API's calls of it not yet delivered (hxc_request_cancel) */
    void *user_data;
    unsigned refs;     /* the owner's and each send's (hxc_request_retain) */
    int packed_inline; /* ...allocated with the request itself */
    int body_owned;
    int discard_body;          /* hxc_request_discard_body */
    hxc_headers_cb on_headers; /* streaming (both may be NULL) */
    hxc_body_cb on_body;
    struct hxc_headers headers;
    const uint8_t *body;
    uint32_t lens[6]; /* strlen of each, indexed by enum hxc__request_string */
    char *method;
    char *url_string;
    hxc__url url;
    size_t body_len;
    int has_body;                        /* a body was set (even empty) */
    double timeouts[HXC_TIMEOUT__COUNT]; /* < 0: the client's */
    uint64_t max_body;                   /* UINT64_MAX: the client's */
    int retries;                         /* < 0: the client's */
    hxc_body_producer producer;          /* streamed upload, or NULL */
    void *producer_ud;
    int64_t producer_len; /* -1: unknown (chunked on HTTP/1.1) */
    int producer_paused;
    void *stream_ud;
    struct hxc__form_upload *form; /* a multipart form's upload (api/form.c), or NULL */
};

/*
 * Released responses go back to their client's cache, buffers and all, so
 * that steady load allocates no response, header or (small) body memory. A
 * response may outlive its client (a future keeps it): the cache is
 * reference-counted by its responses and freed with the last of them.
 */
#define HXC__RESPONSE_STORES 256
typedef struct hxc__response_cache {
    unsigned refs; /* the client's, and one per response made from it */
    int closed;
    hxc__cache spare; /* released responses */
    /* Head and body storage of released responses, last in first out: a
     * response takes one when its head starts to arrive (see
     * hxc__response_head_start), so what it writes was in use a moment ago. */
    struct {
        struct hxc_headers headers;
        hxc__buf body;
    } stores[HXC__RESPONSE_STORES];
    unsigned nstores;
} hxc__response_cache;

struct hxc_response {
    /* What the head's arrival and the delivery touch is in the first three
     * cache lines (a response is cold by then when a thousand are in flight;
     * the record is allocated aligned to a line). */
    struct hxc__response_cache *cache; /* where it goes back when released, or NULL */
    struct hxc_request *req;           /* owned */
    void *call;                        /* the API layer's call, while it runs */
    const char *version;               /* static string */
    unsigned refs;
    int status;
    int error;
    uint8_t head_done; /* streaming: the final head is in */
    uint8_t extras;    /* trailers or `up` were used (release looks at them only then) */
    uint8_t has_text;  /* reason or detail may be set (release looks at them only then) */
    hxc__buf body;
    struct hxc_headers headers;
    uint64_t body_received; /* set when the exchange ends */
    hxc_timings timings;
    uint64_t conn_id;
    char *reason; /* HTTP/1.x */
    char *detail; /* why it failed */
    /* Used only when `extras` is set (a response that used them is not
     * recycled, so a recycled one finds them as initialised). */
    struct hxc_headers trailers;
    hxc__buf up;       /* streamed upload: produced, not yet sent */
    int up_eof;        /* the producer said the body is complete */
    uint64_t up_total; /* bytes produced so far */
};
/* The layout is planned for 64-bit pointers; narrower ones only pack tighter. */
_Static_assert(sizeof(void *) != 8 || offsetof(struct hxc_response, reason) == 192,
               "a response's hot fields fill its first three cache lines");

/** Sets the error and a copy of the detail (first error wins). */
void hxc__response_fail(struct hxc_response *r, int err, const char *detail);
/** The response's head starts to arrive: it takes head and body storage that
 *  a response released a moment ago (still in the CPU's cache), rather than
 *  carrying its own through the whole flight, cold by the time it is written.
 *  Optional (a response without it allocates on first use). */
void hxc__response_head_start(struct hxc_response *r);

#endif
