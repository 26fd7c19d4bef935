/* SPDX-License-Identifier: MIT */
/*
 * hxc/client.h - the client context.
 *
 * A client holds the connection pool and the settings, and runs every
 * request on the caller's libevent loop: it never runs or owns the loop,
 * except inside hxc_future_wait() and hxc_run(). It must be used from the
 * loop's thread only. Any hxc call is safe from inside an hxc callback,
 * freeing and cancelling included: frees are deferred to a safe point.
 *
 * The model is HTTPX's `async with httpx.AsyncClient() as client:` —
 * hxc_client_open() enters, hxc_client_close() leaves gracefully (requests
 * in flight finish, then every connection, timer and byte is released),
 * hxc_client_abort() cancels everything now, and hxc_run() wraps the three
 * around a function of the caller's and runs the loop.
 */
#ifndef HXC_CLIENT_H
#define HXC_CLIENT_H

#include "hxc/common.h"
#include "hxc/request.h"
#include "hxc/response.h"
#include "hxc/future.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * HTTP/2 server push: called for each PUSH_PROMISE (from the loop, like every
 * callback) with the promised request head. Return 1 to accept the pushed
 * response, which is then delivered to `push_response` of the config like any
 * response, or 0 to refuse it (the stream is reset). `promised` is valid during
 * the call only.
 */
typedef int (*hxc_push_promise_cb)(hxc_client *client, const hxc_request *promised,
                                   void *user_data);

/**
 * Client settings. Initialise with hxc_client_config_init(), then set the
 * fields you need: new fields are added at the end, with defaults, so old
 * code keeps working. Times are seconds; a timeout of 0 means "none".
 *
 * `struct_size` tells the library which version of this struct the caller was
 * compiled with (hxc_client_config_init() sets it to the caller's sizeof), and
 * hxc_client_open() and hxc_run() read the config by this rule (that of
 * Linux's copy_struct_from_user):
 * - 0, or too small to hold `struct_size` itself: HXC_EINVAL (the config was
 *   not initialised with hxc_client_config_init());
 * - up to the library's own size (a caller built against this version or an
 *   older one): that many bytes are read, and the fields the caller's struct
 *   does not have keep their defaults;
 * - larger (a caller built against a newer version): accepted only if every
 *   byte past the fields this library knows is 0, that is if the newer fields
 *   are left unset, else HXC_EINVAL rather than a setting silently ignored.
 *   Over 4096 bytes, HXC_EINVAL: no config is that large.
 */
typedef struct hxc_client_config {
    size_t struct_size; /**< set by hxc_client_config_init(): never by hand */

    /* Protocols */
    int http2;                 /**< offer h2 by ALPN on https (default 0, as HTTPX) */
    int http2_prior_knowledge; /**< speak HTTP/2 on http:// without upgrade (default 0) */

    /* TLS: verification is on unless `insecure` is set by name. */
    int insecure;        /**< 1 = do not verify certificates or host names */
    const char *ca_file; /**< PEM bundle replacing the system CA store */
    const char *ca_path; /**< hashed CA directory replacing the system store */

    /* Timeouts (defaults: connect 10, read 30, write 30, pool 30, total 300). */
    double connect_timeout;
    double read_timeout;
    double write_timeout;
    double pool_timeout;
    double total_timeout; /**< deadline of each request, on by default */

    /* Pool */
    unsigned max_connections;          /**< total open connections (default 100) */
    unsigned max_connections_per_host; /**< per origin (default 0 = max_connections) */
    unsigned max_idle_connections;     /**< idle keep-alive connections kept (default 20) */
    double keepalive_expiry;           /**< idle connections close after this (default 5) */

    /* Limits on what a server controls */
    size_t max_response_header_bytes; /**< every byte of the response heads (status
                                           lines, fields, line ends, whitespace), 1xx
                                           included, and as much again for a trailer
                                           section; on HTTP/2 the decoded list
                                           (256 KiB) */
    unsigned max_response_headers;    /**< number of fields (default 1000) */
    uint64_t max_response_body_bytes; /**< cap on a buffered or discarded body, not on a
                                           streamed one (default 1 GiB; 0 = none);
                                           hxc_request_set_max_body() states the rule */

    /* Requests */
    const char *user_agent; /**< default "hxc/VERSION"; "" sends none */
    const char *accept;     /**< Accept sent when a request has none: default
                                 all media types (as curl and HTTPX); "" none */

    /* Name resolution (libevent's evdns) */
    const char *dns_servers; /**< "IP[:port],..." instead of resolv.conf (curl's
                                  CURLOPT_DNS_SERVERS); /etc/hosts is still read */

    /* HTTP/2 (used when `http2` or `http2_prior_knowledge` is set) */
    unsigned http2_max_concurrent_streams; /**< our cap per session, under the peer's
                                                SETTINGS_MAX_CONCURRENT_STREAMS (100) */
    uint32_t http2_stream_window;          /**< initial receive window of a stream (4 MiB) */
    uint32_t http2_connection_window;      /**< receive window of a session (16 MiB) */
    double http2_ping_interval;            /**< > 0: PING idle sessions this often; one
                                                unanswered by the next PING is dropped
                                                before it is reused (default 0: off) */

    /* Load testing (h2load's -c and -m) */
    unsigned exact_connections; /**< > 0: open exactly this many connections to each origin
                                     at once and spread requests evenly over them, with
                                     http2_max_concurrent_streams streams each (default 0) */

    /* HTTP/2 server push: off (SETTINGS_ENABLE_PUSH = 0) unless push_promise is set. */
    hxc_push_promise_cb push_promise; /**< decides on each promise */
    void (*push_response)(hxc_response *resp, int err, void *user_data); /**< accepted pushes */
    void *push_user_data;                                                /**< given to both */
    /* Bulk work: submitting thousands of requests at once, as crawlers do.
     * Requests beyond the connections (and the caps below) wait in the pool's
     * queue, where pool_timeout and, by default, total_timeout run. For bulk
     * submission set pool_timeout to 0 (waiting in the queue is the caller's
     * choice) and deadline_after_queue to 1 (each request then has its whole
     * total_timeout once it gets a connection), and bound what one origin
     * takes with max_connections_per_host and max_requests_per_host. */
    unsigned max_requests_per_host; /**< requests in flight per origin, HTTP/2 streams
                                         included; more wait in the queue (default 0 =
                                         no cap but the connections' own) */
    int deadline_after_queue;       /**< 1 = total_timeout starts when the request leaves
                                         the queue, not when it is sent (default 0) */
    /* Retries (HTTPX's transport `retries`). A request that could not connect
     * (refused, reset or cut TLS handshake, no address, connect timeout; never
     * a certificate that fails verification) is tried again up to `retries`
     * times: the first retry at once, then after 0.5 s doubling, with up to a
     * tenth of jitter. The responses listed in `retry_on_status` (e.g. 429,
     * 503) are retried within the same budget, for idempotent methods with a
     * body that can be sent again, after their Retry-After (seconds or a date)
     * or the same backoff; one that would wait past the total deadline is
     * delivered as it is. hxc_request_set_retries overrides `retries`. */
    unsigned retries;                /**< default 0 */
    const uint16_t *retry_on_status; /**< statuses to retry (copied at open), or NULL */
    size_t n_retry_on_status;        /**< how many (at most 64) */
} hxc_client_config;

/**
 * What hxc_client_config_init() calls, with the size of the struct the caller
 * was compiled with: writes the defaults into the first `size` bytes of
 * `cfg` (zeros past the fields this library knows: a newer caller's fields
 * are left unset) and never beyond, and sets struct_size to `size`. Does
 * nothing if `cfg` is NULL or `size` cannot hold struct_size.
 */
HXC_EXTERN void hxc_client_config_init_size(hxc_client_config *cfg, size_t size);

/**
 * Fills `cfg` with the defaults listed above. Inline, so that struct_size is
 * the size this program was compiled with, whatever the library's version.
 */
static inline void hxc_client_config_init(hxc_client_config *cfg)
{
    hxc_client_config_init_size(cfg, sizeof(*cfg));
}

/**
 * Opens a client on `base` (which the caller owns and must outlive the
 * client). `cfg` may be NULL for the defaults; it is copied, and so are its
 * strings. Returns 0 and sets *out, or HXC_EINVAL / HXC_ENOMEM /
 * HXC_ETLS_HANDSHAKE (the CA file could not be loaded); *out is untouched on
 * error.
 */
HXC_EXTERN int hxc_client_open(hxc_client **out, struct event_base *base,
                               const hxc_client_config *cfg);

/** Called once the client has closed; the client is freed when it returns. */
typedef void (*hxc_client_closed_cb)(hxc_client *client, void *user_data);

/**
 * Closes the client gracefully: new requests fail with HXC_ECLIENT_CLOSED,
 * queued and running requests finish (their callbacks run), then every
 * connection is closed and `cb` (may be NULL) runs from the loop, after
 * which the client's memory is freed. A streamed response paused by its
 * consumer (HXC_PAUSE) holds the close until it is resumed, or until
 * hxc_client_abort(). Calling it twice returns HXC_EINVAL.
 */
HXC_EXTERN int hxc_client_close(hxc_client *client, hxc_client_closed_cb cb, void *user_data);
/**
 * Cancels every queued and running request now (each completes with
 * HXC_ECANCELLED) and drops every connection. The client stays open for new
 * requests; after hxc_client_close() it finishes the close at once.
 */
HXC_EXTERN void hxc_client_abort(hxc_client *client);

/**
 * The response callback: `resp` is never NULL; `err` equals
 * hxc_response_error(resp). See response.h for its lifetime.
 */
typedef void (*hxc_response_cb)(hxc_response *resp, int err, void *user_data);

/**
 * Sends `req`, taking ownership of it (of one reference: see
 * hxc_request_retain to send a request several times); `cb` runs exactly
 * once, from the loop, never from inside this call, with `user_data`. Returns
 * 0, or HXC_EINVAL / HXC_ECLIENT_CLOSED / HXC_ENOMEM, in which case `cb` never
 * runs and the caller still owns `req`.
 */
HXC_EXTERN int hxc_client_send(hxc_client *client, hxc_request *req, hxc_response_cb cb,
                               void *user_data);
/**
 * Sends `req` (always taking ownership) and returns a future for its
 * response. Errors at submission settle the future with that error. Returns
 * NULL only when out of memory (then `req` has been freed).
 */
HXC_EXTERN hxc_future *hxc_client_request(hxc_client *client, hxc_request *req);

/** Counters of the pool, for tests, demos and load drivers. */
typedef struct hxc_client_stats {
    uint64_t connections_opened; /**< connections ever started */
    uint64_t connections_reused; /**< requests carried by an already used connection */
    uint64_t requests_started;
    uint64_t requests_completed; /**< settled, with or without error */
    uint64_t requests_retried;   /**< retried on a fresh connection */
    unsigned connections_open;   /**< open now (busy, idle or connecting) */
    unsigned connections_idle;   /**< idle keep-alive now */
    unsigned requests_queued;    /**< waiting for a connection now (or to retry, refused) */
    unsigned requests_active;    /**< on a connection now */
    unsigned requests_waiting;   /**< between two attempts now: a retry's delay */
} hxc_client_stats;

/** Fills *out with the client's counters. */
HXC_EXTERN void hxc_client_get_stats(const hxc_client *client, hxc_client_stats *out);
/** The loop the client runs on. */
HXC_EXTERN struct event_base *hxc_client_base(const hxc_client *client);

/** The body of an hxc_run(): schedule requests on `client`, return 0 or an error. */
typedef int (*hxc_run_fn)(hxc_client *client, void *arg);

/**
 * The `async with` of C: opens a client on `base` (or on a loop of its own
 * when `base` is NULL), calls `body`, then closes the client gracefully and
 * runs the loop until it has closed (so every request `body` started
 * finishes). Returns body's return value if nonzero, else 0, or the error of
 * opening the client.
 */
HXC_EXTERN int hxc_run(struct event_base *base, const hxc_client_config *cfg, hxc_run_fn body,
                       void *arg);

#ifdef __cplusplus
}
#endif
#endif
