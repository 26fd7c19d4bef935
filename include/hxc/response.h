/* SPDX-License-Identifier: MIT */
/*
 * hxc/response.h - what came back.
 *
 * A response is handed to the response callback (or kept by a future) both
 * on success and on failure: on failure hxc_response_error() is negative,
 * hxc_response_error_detail() says why, and status is 0 unless a status line
 * had arrived before the failure.
 *
 * Lifetime: in callback style the response is freed when the callback
 * returns, unless the callback calls hxc_response_retain(); each retain is
 * matched by one hxc_response_release(). A future's response lives until
 * the future is freed. Every pointer a getter returns lives as long as the
 * response.
 */
#ifndef HXC_RESPONSE_H
#define HXC_RESPONSE_H

#include "hxc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Durations in seconds of the phases of one exchange. */
typedef struct hxc_timings {
    double queued;     /**< waiting in the pool for a connection (until it last started, or
                            until its end if it never started) */
    double dns;        /**< name resolution (0 if the connection was reused) */
    double connect;    /**< TCP connect (0 if reused) */
    double tls;        /**< TLS handshake (0 if reused or cleartext) */
    double first_byte; /**< from the request's start to the first response byte */
    double total;      /**< from the request's start to its end */
    int reused;        /**< 1 if a pooled connection carried it */
} hxc_timings;

/** HTTP status code, or 0 if no status line arrived. */
HXC_EXTERN int hxc_response_status(const hxc_response *resp);
/** Reason phrase as sent ("" for HTTP/2 or none). */
HXC_EXTERN const char *hxc_response_reason(const hxc_response *resp);
/** "HTTP/1.0", "HTTP/1.1" or "HTTP/2": the protocol that carried it; "" if none. */
HXC_EXTERN const char *hxc_response_http_version(const hxc_response *resp);
/** The header fields of the final response (1xx responses are skipped). */
HXC_EXTERN const hxc_headers *hxc_response_headers(const hxc_response *resp);
/** Trailer fields (empty list if none). */
HXC_EXTERN const hxc_headers *hxc_response_trailers(const hxc_response *resp);
/**
 * The buffered body; *len (if not NULL) gets its size. The bytes are followed
 * by a NUL that is not counted, so a text body can be printed directly.
 * Never NULL.
 */
HXC_EXTERN const uint8_t *hxc_response_body(const hxc_response *resp, size_t *len);
/** Body bytes received from the server, kept, streamed or discarded alike
 *  (set when the exchange ends). */
HXC_EXTERN uint64_t hxc_response_body_received(const hxc_response *resp);
/** The URL that was fetched. */
HXC_EXTERN const char *hxc_response_url(const hxc_response *resp);
/** Copies the phase durations into *out. */
HXC_EXTERN void hxc_response_timings(const hxc_response *resp, hxc_timings *out);
/**
 * Id of the pooled connection that carried the response: unique within the
 * client, counting from 1; 0 when no connection was involved. Two responses
 * with the same id shared a connection.
 */
HXC_EXTERN uint64_t hxc_response_connection_id(const hxc_response *resp);
/** 0, or the negative hxc_error that ended the request. */
HXC_EXTERN int hxc_response_error(const hxc_response *resp);
/** A short explanation of the error ("" when none). */
HXC_EXTERN const char *hxc_response_error_detail(const hxc_response *resp);
/** The request that produced this response (owned by the response). */
HXC_EXTERN hxc_request *hxc_response_request(const hxc_response *resp);

/**
 * Resumes a streamed body paused by HXC_PAUSE (from any callback or later,
 * from the loop's thread). 0, or HXC_EINVAL if the response is not paused.
 */
HXC_EXTERN int hxc_response_resume(hxc_response *resp);

/** Keeps the response alive after its callback; returns `resp`. */
HXC_EXTERN hxc_response *hxc_response_retain(hxc_response *resp);
/** Drops one reference taken with hxc_response_retain(). NULL is ignored. */
HXC_EXTERN void hxc_response_release(hxc_response *resp);

#ifdef __cplusplus
}
#endif
#endif
