/* SPDX-License-Identifier: MIT */
/*
 * pool/pool.h - origins, connections and the queue of requests waiting for
 * one. The pool takes exchanges (a response object holding its request)
 * and reports each one exactly once through its done callback.
 *
 * The done callback runs synchronously from inside the pool (often from a
 * transport event); it must not call back into the pool. The API layer only
 * queues the response there and calls the user later, from the loop.
 */
#ifndef HXC_POOL_H
#define HXC_POOL_H

#include "hxc/client.h"
#include "core/message.h"
#include "proto/h1.h"
#include "reactor/reactor.h"
#include "transport/transport.h"

typedef struct hxc__pool hxc__pool;
typedef struct hxc__exchange hxc__exchange;

typedef void (*hxc__exchange_done_cb)(struct hxc_response *resp, void *arg);
/** Streaming: the response head or more body is ready for the consumer. */
typedef void (*hxc__exchange_progress_cb)(struct hxc_response *resp, void *arg);

typedef struct hxc__pool_config {
    unsigned max_connections;
    unsigned max_per_host;
    unsigned max_idle;
    unsigned max_per_origin;  /* requests in flight per origin, HTTP/2 streams too (0: no cap) */
    int deadline_after_queue; /* the total deadline starts when an exchange leaves the queue */
    double keepalive_expiry;
    hxc__h1_limits h1_limits;
    const char *user_agent; /* borrowed from the client; may be NULL */
    const char *accept;     /* the same: the default Accept ("" or NULL: none) */
    int http2;
    int http2_prior_knowledge;
    unsigned h2_max_streams;   /* our cap per session (0: the peer's) */
    uint32_t h2_stream_window; /* initial stream receive window */
    uint32_t h2_conn_window;   /* connection receive window */
    unsigned exact_conns;      /* load testing: exactly this many per origin (0: off) */
    double h2_ping_interval;   /* PING idle sessions (0: off) */
    /* An exchange ended (every exchange, pushed ones too): `arg` is the one
     * given at submit (or by `push`). The pool is done with it. */
    hxc__exchange_done_cb done;
    /* HTTP/2 server push, for the connection's own origin: `method` and `url`
     * from the promise's pseudo-header fields, `fields` all of them. `ex` is
     * the exchange that will carry the pushed response (the callee's handle
     * to refuse it later): return that response, whose request the callee
     * made, and set *cb_arg, the `arg` of its callbacks; or NULL to refuse. */
    struct hxc_response *(*push)(void *arg, const char *method, const char *url,
                                 const struct hxc_headers *fields, hxc__exchange *ex,
                                 void **cb_arg);
    void *push_arg;
    hxc__exchange_progress_cb progress;  /* streamed responses */
    hxc__exchange_progress_cb need_body; /* streamed uploads: produce more into resp->up */
    double push_timeouts[HXC_TIMEOUT__COUNT];
    uint64_t push_max_body;
    /* The TLS context, asked for when the first TLS connection opens (a client
     * that only speaks cleartext never builds one): 0 and *out, or an hxc
     * error with *detail saying why. The pool does not own it. */
    int (*tls_get)(void *arg, hxc__tls_ctx **out, const char **detail);
    void *tls_arg;
    /* How connections are made (NULL: the socket transport,
     * hxc__transport_connect); the pool's unit tests give their own. */
    hxc__connect_fn connect;
} hxc__pool_config;

int hxc__pool_new(hxc__pool **out, hxc__reactor *r, const hxc__pool_config *cfg);
/**
 * Queues `resp` (whose request is resp->req). `timeouts` are resolved
 * seconds (0 = none); `max_body` 0 = no cap. On success *out identifies the
 * exchange until the `done` callback of the config runs for it (with `arg`). HXC_ENOMEM on failure
 * (nothing queued, the callback never runs).
 */
int hxc__pool_submit(hxc__pool *p, struct hxc_response *resp, const double *timeouts,
                     uint64_t max_body, void *arg, hxc__exchange **out);
/** Ends one exchange now with `err` (its done callback runs before return). */
void hxc__pool_cancel(hxc__pool *p, hxc__exchange *ex, int err, const char *detail);
/** A streamed upload has new data in resp->up (or reached its end). */
void hxc__pool_body_ready(hxc__pool *p, hxc__exchange *ex);
/**
 * The user paused (1) or resumed (0) a streamed body (the consumer of a
 * response, or the producer of an upload): while paused the read and write
 * timeouts do not run (the silence is ours, not the server's); the total
 * deadline still does.
 */
void hxc__pool_paused(hxc__pool *p, hxc__exchange *ex, int paused);
/** The consumer of a streamed body took `n` more bytes: credit the flow. */
void hxc__pool_consumed(hxc__pool *p, hxc__exchange *ex, size_t n);
/**
 * Internal, for tests: the base (seconds) of the backoff between retries of
 * a refused request, instead of the share of each request's deadline; 0
 * restores that. Not in the public API: the backoff follows the deadline.
 */
void hxc__pool_set_refused_backoff(hxc__pool *p, double base);
/** Ends every exchange with `err` and closes every connection. */
void hxc__pool_cancel_all(hxc__pool *p, int err, const char *detail);
/** Exchanges queued or running. */
unsigned hxc__pool_busy(const hxc__pool *p);
void hxc__pool_stats(const hxc__pool *p, hxc_client_stats *out);
/** Closes every connection (TLS close_notify where possible) and frees; exchanges must be done. */
void hxc__pool_free(hxc__pool *p);

#endif
