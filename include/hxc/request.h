/* SPDX-License-Identifier: MIT */
/*
 * hxc/request.h - building a request.
 *
 * A request is created by the caller, edited, then handed to the client with
 * hxc_client_send() or hxc_client_request(), which take ownership of it. A
 * request that was never handed over is freed with hxc_request_free().
 *
 * Every setter validates its input at once: CR, LF and NUL are refused in
 * methods, header names and values and URLs (HXC_EINVAL), so nothing
 * malformed can reach the wire on any protocol version. A failed setter
 * leaves the request as it was.
 *
 * Threading: a request belongs to the loop thread of the client that sends it.
 */
#ifndef HXC_REQUEST_H
#define HXC_REQUEST_H

#include "hxc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which timeout a per-request override sets. Seconds; 0 turns it off. */
enum hxc_timeout {
    HXC_TIMEOUT_CONNECT = 0, /**< DNS + TCP connect + TLS handshake of a new connection */
    HXC_TIMEOUT_READ,        /**< longest wait for any response byte */
    HXC_TIMEOUT_WRITE,       /**< longest wait for the socket to take request bytes */
    HXC_TIMEOUT_POOL,        /**< longest wait in the queue for a connection (or for a
                                  file descriptor, when the process has none left) */
    HXC_TIMEOUT_TOTAL,       /**< deadline of the whole exchange, retries included */
    HXC_TIMEOUT__COUNT
};

/**
 * Creates a request. `method` is an HTTP token such as "GET" (case kept);
 * `url` an absolute http:// or https:// URL, parsed by libevent's evhttp_uri.
 * On success stores a new request in *out and returns 0. Errors:
 * HXC_EINVAL (bad method, NULL), HXC_EBADURL (unparsable, no host, control
 * bytes), HXC_EUNSUPPORTED_SCHEME (not http/https), HXC_ENOMEM. On error *out
 * is untouched. hxc_url_check() says why a URL is refused.
 */
HXC_EXTERN int hxc_request_new(hxc_request **out, const char *method, const char *url);
/**
 * Checks `url` as hxc_request_new() does, without making a request, and
 * says why it is refused: returns 0 if hxc_request_new() would accept it,
 * else the same error (HXC_EBADURL, HXC_EUNSUPPORTED_SCHEME, HXC_EINVAL for
 * NULL, HXC_ENOMEM) with *detail set to a static string such as "URL has no
 * host" or "bad port". *detail is NULL when the URL is accepted; `detail`
 * itself may be NULL.
 */
HXC_EXTERN int hxc_url_check(const char *url, const char **detail);
/**
 * A copy of `src` (method, URL, headers, body, options and callbacks) without
 * parsing anything again: the cheap way to send the same request many times
 * (load drivers, retries of one's own). An owned body is copied; a static
 * body is shared by reference; a multipart form (hxc/form.h) is shared, its
 * files read again by each copy's send. 0 or HXC_EINVAL / HXC_ENOMEM; *out untouched
 * on error.
 */
HXC_EXTERN int hxc_request_dup(hxc_request **out, const hxc_request *src);
/**
 * Drops the caller's reference to a request: it is freed when no send holds
 * it any more. NULL is ignored.
 */
HXC_EXTERN void hxc_request_free(hxc_request *req);
/**
 * Takes another reference to `req` and returns it (NULL for NULL). Sending a
 * request hands one reference to the client, released with its response, so
 * `hxc_client_send(c, hxc_request_retain(req), cb, ud)` sends the same request
 * again and again, even several times at once, without copying it (a load
 * driver's or a crawler's repeated request). While more than one reference
 * exists the request is frozen: every setter below returns HXC_EINVAL. Not
 * for a request with a body producer, whose upload state belongs to one
 * send: sending such a request while it is shared fails with HXC_EINVAL. The
 * count is not atomic: share a request only on one thread.
 */
HXC_EXTERN hxc_request *hxc_request_retain(hxc_request *req);

/**
 * Appends the query parameter `name`=`value` to the request's URL, as
 * HTTPX's `params` does: after the query the URL has (with "&"), or as its
 * query ("?"), before its fragment; a NULL `value` appends a bare `name`.
 * Name and value are percent-encoded: the unreserved characters of RFC 3986
 * (letters, digits, "-._~") as they are, every other byte as %XX (UTF-8
 * stays its bytes), a space as %20 (not '+': that means a space only to
 * form decoders, %20 to every decoder, and HTTPX and browsers send %20).
 * Repeated names are kept. hxc_request_url() and the target sent change;
 * the pointers hxc_request_url() and hxc_request_method() returned before
 * are no longer valid.
 * 0, HXC_EINVAL (NULL or empty name, a shared request or one being sent,
 * a URL that would pass 64 KiB) or HXC_ENOMEM; a failed call leaves the URL
 * as it was.
 */
HXC_EXTERN int hxc_request_add_query(hxc_request *req, const char *name, const char *value);

/**
 * Appends a header field (repeats allowed). The strings are copied.
 * HXC_EINVAL if the name is not an HTTP token or the value holds CR, LF or
 * NUL. Host, Content-Length, Transfer-Encoding and Connection are managed by
 * the library: setting Host overrides the authority sent; the others are
 * refused with HXC_EINVAL.
 */
HXC_EXTERN int hxc_request_add_header(hxc_request *req, const char *name, const char *value);
/** Like add_header, but first removes every field of that name. */
HXC_EXTERN int hxc_request_set_header(hxc_request *req, const char *name, const char *value);
/** Removes every field called `name`; returns how many were removed. */
HXC_EXTERN int hxc_request_remove_header(hxc_request *req, const char *name);

/** Sets the body to a copy of `len` bytes at `data` (replacing any body). */
HXC_EXTERN int hxc_request_set_body(hxc_request *req, const void *data, size_t len);
/**
 * Sets the body to `len` bytes at `data` without copying: the caller keeps
 * the memory alive and unchanged until the request is freed (after the
 * response callback, or when its future is freed). For load drivers.
 */
HXC_EXTERN int hxc_request_set_body_static(hxc_request *req, const void *data, size_t len);

/**
 * A producer of a streamed request body. Write up to `len` bytes into `buf`
 * and store how many in *written; set *eof once the body is complete (with or
 * without bytes in the same call). Return 0, HXC_PAUSE when there is nothing
 * to send yet (call hxc_request_resume_body() when there is), or a negative
 * hxc error to abort the request. Called from the loop, only when the
 * connection can take more (back-pressure), never inside a library call.
 */
typedef int (*hxc_body_producer)(hxc_request *req, uint8_t *buf, size_t len, size_t *written,
                                 int *eof, void *user_data);

/**
 * Streams the request body from `producer` (replacing any body). `length` is
 * the body's size, or -1 if unknown: HTTP/1.1 then uses chunked encoding,
 * HTTP/2 needs no length. A streamed body cannot be replayed, so such a request
 * is retried only if none of its body had been produced.
 */
HXC_EXTERN int hxc_request_set_body_producer(hxc_request *req, hxc_body_producer producer,
                                             int64_t length, void *user_data);
/** Wakes a producer that returned HXC_PAUSE. 0, or HXC_EINVAL if it is not paused. */
HXC_EXTERN int hxc_request_resume_body(hxc_request *req);

/**
 * Cancels every send of `req` that has not been delivered yet: queued or
 * running, each ends with HXC_ECANCELLED (its callback or future still runs,
 * from the loop, as for any other end); a finished streamed response held by
 * its paused consumer is released as cancelled. Safe from anywhere on the
 * loop's thread, callbacks included. Returns how many sends it cancelled (0
 * when none was left), or HXC_EINVAL for NULL.
 *
 * Sending hands the caller's reference to the client, so to cancel later keep
 * one: `hxc_client_send(c, hxc_request_retain(req), cb, ud)`, then
 * `hxc_request_cancel(req)` whenever, and `hxc_request_free(req)` when done.
 * Inside the request's own callbacks it is alive without that.
 */
HXC_EXTERN int hxc_request_cancel(hxc_request *req);
/** Overrides the client's `retries` for this request (0 to 100; -1: the
 *  client's). See hxc_client_config for what is retried. */
HXC_EXTERN int hxc_request_set_retries(hxc_request *req, int retries);
/** Overrides one of the client's timeouts for this request (seconds, 0 = none). */
HXC_EXTERN int hxc_request_set_timeout(hxc_request *req, enum hxc_timeout which, double seconds);
/**
 * Sets the request's priority the RFC 9218 way: a `priority` header field
 * with urgency 0 (highest) to 7 (lowest; default 3) and the incremental flag,
 * sent on every protocol version (HTTP/2 servers such as h2o and nginx act
 * on it). Replaces an earlier priority. HXC_EINVAL for an urgency out of range.
 */
HXC_EXTERN int hxc_request_set_priority(hxc_request *req, int urgency, int incremental);
/** Returned by a body callback to stop the flow until hxc_response_resume(). */
#define HXC_PAUSE 1

/**
 * Called once the final response head is in (status and headers readable),
 * before any body chunk. Return 0 to go on or a negative hxc error to abort.
 */
typedef int (*hxc_headers_cb)(hxc_response *resp, void *user_data);
/**
 * Called with each piece of the response body, in order. Return 0 for more,
 * HXC_PAUSE to stop the flow (the chunk counts as consumed, but no more is
 * read and no flow-control credit is granted until hxc_response_resume()), or a
 * negative hxc error to abort the request with that error.
 */
typedef int (*hxc_body_cb)(hxc_response *resp, const uint8_t *data, size_t len, void *user_data);

/**
 * Streams the response to callbacks instead of buffering its body: either
 * callback may be NULL; with `body` set, hxc_response_body() only holds what
 * has arrived and not been handed over yet (empty at the end), and that is
 * bounded: HTTP/2 windows are credited and HTTP/1.1 reads resume only as the
 * consumer takes the data. So the client's `max_response_body_bytes` does not
 * apply to a streamed body; hxc_request_set_max_body() does. Both run from
 * the loop, never inside a library call, and before the response callback or
 * future, which still says how the exchange ended.
 */
HXC_EXTERN int hxc_request_on_response_stream(hxc_request *req, hxc_headers_cb headers,
                                              hxc_body_cb body, void *user_data);

/**
 * Caps the response body of this request (bytes, 0 = no cap), in every
 * mode: buffered, streamed to a body callback, or discarded; it replaces
 * the client's `max_response_body_bytes`. The rule for both caps: the
 * client's applies to the bodies the library takes in itself, buffered or
 * discarded, and not to a streamed one, which back-pressure bounds (the
 * consumer takes it as it comes); the request's applies always, since the
 * caller asked for it. Past the cap that applies the request fails with
 * HXC_EBODY_TOO_LARGE: at once when Content-Length announces more, else
 * when the excess arrives.
 */
HXC_EXTERN int hxc_request_set_max_body(hxc_request *req, uint64_t max_bytes);
/**
 * With `discard` nonzero the response body is counted, not kept: it is read
 * (HTTP/2 windows credited at once, the HTTP/1.1 connection reusable) and
 * dropped, hxc_response_body() stays empty and hxc_response_body_received()
 * says how many bytes came; a body callback is not called. The body caps
 * still apply, the client's included (see hxc_request_set_max_body()). For
 * load drivers, link checkers and health probes: no copy and no memory per
 * body. 0 or HXC_EINVAL (NULL, or the request is shared).
 */
HXC_EXTERN int hxc_request_discard_body(hxc_request *req, int discard);

/** An opaque pointer for the caller, returned by hxc_request_user_data(); one
 *  per request, shared by all its sends (per-send data goes through the
 *  send's own user_data). */
HXC_EXTERN void hxc_request_set_user_data(hxc_request *req, void *user_data);
HXC_EXTERN void *hxc_request_user_data(const hxc_request *req);

/** The method as given. Valid until the request is freed or its URL changes
 *  (hxc_request_add_query()). */
HXC_EXTERN const char *hxc_request_method(const hxc_request *req);
/** The URL as given, with the parameters hxc_request_add_query() appended.
 *  Valid until the request is freed or its URL changes (add_query). */
HXC_EXTERN const char *hxc_request_url(const hxc_request *req);
/** The caller's header fields (not those the library adds). */
HXC_EXTERN const hxc_headers *hxc_request_headers(const hxc_request *req);

#ifdef __cplusplus
}
#endif
#endif
