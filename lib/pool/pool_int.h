/* SPDX-License-Identifier: MIT */
/*
 * pool/pool_int.h - structures shared by the pool core (pool.c) and the
 * per-protocol connection glue (conn_h1.c, conn_h2.c). The core never
 * branches on the protocol: it asks a connection through `proto` how many
 * more exchanges it can carry, and hands it exchanges.
 */
#ifndef HXC_POOL_INT_H
#define HXC_POOL_INT_H

#include <stddef.h>

#include "core/cache.h"
#include "core/list.h"
#include "core/recycle.h"
#include "pool/pool.h"
#include "proto/h2.h"
#include "reactor/timeouts.h"

typedef struct hxc__origin hxc__origin;
typedef struct hxc__conn hxc__conn;

enum phase { PH_NONE, PH_POOL, PH_CONNECT, PH_WRITE, PH_READ, PH_BACKOFF };
/* Where an exchange is in its life; changed only by xset_state (pool.c):
 * X_NEW        just made
 * X_QUEUED     in its origin's queue, waiting for a connection
 * X_CONNECTING bound to the connection it opened, until that one is ready
 * X_ACTIVE     on a connection, carried by its protocol
 * X_BACKOFF    refused unprocessed, waiting to be retried (no queue, no connection)
 * X_DONE       reported; its record is freed */
enum xstate { X_NEW, X_QUEUED, X_CONNECTING, X_ACTIVE, X_BACKOFF, X_DONE };
/* Where a connection is in its life; changed only by cset_state (pool.c):
 * C_CONNECTING its transport connects (DNS, TCP, TLS), its exchange bound to it
 * C_ACTIVE     ready: carrying exchanges, or bytes still to send
 * C_IDLE       ready and carrying nothing: in the pool's idle list, expiring
 * C_DRAINING   takes nothing new (HTTP/2 GOAWAY); closes when its exchanges end
 * C_CLOSED     closed, freed at once
 * Whether its protocol's limits are known yet (`negotiating`) is a fact
 * beside the state: a TLS connection that may turn out HTTP/2 negotiates
 * from CONNECTING until the peer's SETTINGS, which may come when ACTIVE. */
enum cstate { C_CONNECTING, C_ACTIVE, C_IDLE, C_DRAINING, C_CLOSED };

/*
 * Requests the server refused unprocessed (HTTP/2 REFUSED_STREAM, or above a
 * GOAWAY's last stream id) are retried while their total deadline allows:
 * the first retry at once, then after base * 2^(k-1) * (1 + 0.1 * rand) for
 * the k-th wait (Go's schedule; Go's base is 1 s). The base is the
 * request's deadline / 1000, within [1 ms, 1 s]: whatever the deadline,
 * about ten retries fit in it, spaced geometrically (0.3 s for the default
 * 300 s: waits of 0.3, 0.6, ... 76.8 s, ten retries in 153 s, the eleventh
 * would end past the deadline). A short deadline retries quickly rather than
 * spending its time waiting, a long one is capped at Go's pace. Without a
 * deadline the base is the default deadline's (0.3 s) and the count is
 * bounded by what the default deadline lets through: 10 retries.
 */
#define HXC__MAX_REFUSED_RETRIES   10
#define HXC__REFUSED_BACKOFF_SHARE 1000.0
#define HXC__REFUSED_BACKOFF_MIN   0.001
#define HXC__REFUSED_BACKOFF_MAX   1.0
#define HXC__REFUSED_BACKOFF_NONE  0.3 /* without a deadline */
/* Idle connections older than this (seconds) are probed before reuse. */
#define HXC__PROBE_AFTER 0.5
/* HTTP/1.1 stops reading while a streamed body has this much unconsumed... */
#define HXC__STREAM_HIGH (1u << 20)
/* ...and starts again below this. */
#define HXC__STREAM_LOW (256u << 10)

struct hxc__exchange {
    /* What a response's arrival touches is in the first two cache lines (the
     * record is allocated aligned to one): with a thousand requests in flight
     * each record is cold by then, and every line of it touched is a miss
     * (measured with cachegrind). The first line: */
    hxc__list node; /* origin queue, or the connection's exchanges */
    hxc__conn *c;
    struct hxc_response *resp;
    hxc__pool *pool;
    double phase_since; /* last activity in this phase (the timer is lazy) */
    double deadline;    /* absolute end of the total timeout (0: none) */
    uint8_t state;      /* enum xstate */
    uint8_t phase;      /* enum phase */
    uint8_t got_bytes;
    uint8_t consumer_paused; /* no read timeout while the consumer holds the flow */
    uint8_t streaming;       /* body goes to the consumer, not kept */
    uint8_t discard;         /* the body is counted, not kept */
    uint8_t head_cb;         /* the consumer wants the head as soon as it is in */
    /* The second line: */
    void *arg;         /* given to the pool's callbacks */
    double t_start;
    uint64_t received; /* body bytes so far (the max_body check) */
    uint64_t max_body;
    hxc__timeout to; /* its one timeout: the phase's or the deadline, whichever first */
    /* Touched when a request starts, is retried, streams or times out. */
    size_t held; /* streamed bytes not yet consumed (streaming only) */
    uint64_t frame_end; /* HTTP/2: its connection's bytes queued when its last frame was */
    hxc__origin *o;
    int32_t stream_id; /* HTTP/2 */
    int retries;
    double fd_wait_since; /* waiting for a file descriptor since (0: not) */
    uint8_t written;
    uint8_t fresh_only;
    uint8_t pushed;          /* a server push: never retried */
    uint8_t uploading;       /* a streamed upload is in progress */
    uint8_t want_body;       /* asked the producer for more, not answered yet */
    uint16_t refusals;       /* times the server refused it unprocessed */
    const char *refused_how; /* the last refusal, for the final error (static text) */
    double retry_at;         /* the end of its backoff (X_BACKOFF) */
    double timeouts[HXC_TIMEOUT__COUNT];
    /* Last, so that a recycled record keeps it: set up once per record. */
    hxc__timer timer; /* `to`'s own timer, off the reactor's FIFOs */
};
/* The layout is planned for 64-bit pointers; narrower ones only pack tighter. */
_Static_assert(sizeof(void *) != 8 ||
                   (offsetof(hxc__exchange, arg) == 64 && offsetof(hxc__exchange, held) == 128),
               "an exchange's hot fields fill its first two cache lines");

/* What the core asks of a protocol. */
typedef struct hxc__conn_proto {
    const char *name;
    /** Sets the protocol up once the transport is connected. 0 or an hxc error. */
    int (*init)(hxc__conn *c);
    /** Exchanges it can start now. */
    unsigned (*capacity)(hxc__conn *c);
    /** Whether an idle connection is still usable (checked before reuse). */
    int (*usable)(hxc__conn *c);
    /** Starts `ex` (already linked to the connection). 0, or nonzero if `ex`
     *  was finished instead and the connection closed or re-filed: the caller
     *  must not touch the connection again. */
    int (*start)(hxc__conn *c, hxc__exchange *ex);
    /** Abandons `ex` (cancel, timeout); it is finished by the caller afterwards. */
    void (*cancel)(hxc__conn *c, hxc__exchange *ex);
    void (*on_read)(hxc__conn *c, const uint8_t *data, size_t len);
    void (*on_closed)(hxc__conn *c, int err, const char *detail);
    /** The socket took bytes: all that was queued (`all`), or some. */
    void (*on_drained)(hxc__conn *c, int all);
    /** The producer of `ex`'s streamed upload has more (resp->up) or ended. */
    void (*body_ready)(hxc__conn *c, hxc__exchange *ex);
    /** The consumer took `n` bytes of `ex`'s streamed body. */
    void (*consumed)(hxc__conn *c, hxc__exchange *ex, size_t n);
    /** Best-effort goodbye before a graceful close (HTTP/2 GOAWAY). */
    void (*goodbye)(hxc__conn *c);
    void (*destroy)(hxc__conn *c);
} hxc__conn_proto;

struct hxc__conn {
    hxc__list node;       /* origin->conns */
    hxc__list avail_node; /* origin->avail: can take exchanges now */
    hxc__list lru_node;   /* pool->idle_lru, oldest first: no exchange */
    hxc__pool *pool;
    hxc__origin *o;
    hxc__transport *t;
    const hxc__conn_proto *proto;
    uint64_t id;
    enum cstate state;
    int negotiating;   /* counted in o->negotiating until the protocol is known */
    double idle_since; /* when it last became idle */
    int read_paused;       /* HTTP/1.1 back-pressure from a streamed body */
    uint32_t goaway_error; /* HTTP/2: error code of a GOAWAY received, 0 if none or NO_ERROR */
    hxc__list exchanges;
    unsigned nexchanges;
    hxc__exchange *bound; /* the exchange that opened it, while connecting */
    hxc__timer idle_timer;
    hxc__timer ping_timer; /* HTTP/2 health check while idle */
    int ping_outstanding;
    hxc__defer flush_task; /* HTTP/2: frames out; HTTP/1.1: re-filing after a response */
    unsigned requests; /* exchanges started on it */
    /* HTTP/2: bytes queued on the transport in all, and of those gone when
     * last drained; `writing`: a request body is going out (its frames'
     * leaving restarts its write timeout, conn_h2.c on_drained). */
    uint64_t queued, left;
    int writing;
    const char *version;
    hxc__transport_times tt;
    hxc__buf scratch;
    hxc__h1 h1;
    hxc__h2 *h2;
};

struct hxc__origin {
    hxc__list node;      /* hash bucket */
    hxc__list wait_node; /* pool->waiting when the queue is not empty */
    char *host;
    uint16_t port;
    int tls;
    hxc__list queue;
    hxc__list avail;
    hxc__list conns;
    unsigned nconns;
    unsigned negotiating;
    unsigned nactive; /* its exchanges out of the queue (pushes not counted) */
    unsigned ndraining; /* its connections in C_DRAINING */
};

#define HXC__POOL_BUCKETS 256


struct hxc__pool {
    hxc__reactor *r;
    hxc__pool_config cfg;
    hxc__list buckets[HXC__POOL_BUCKETS];
    hxc__origin *last_origin; /* the one found last (origins live as long as the pool) */
    hxc__list waiting;        /* origins with queued exchanges, FIFO */
    hxc__list backoff;        /* refused exchanges waiting to be retried (X_BACKOFF) */
    unsigned nbackoff;
    uint64_t rng;        /* the backoff's jitter (xorshift) */
    double backoff_base; /* tests: the backoff's base instead of the deadline's share */
    hxc__list idle_lru;
    hxc__defer dispatch;
    unsigned nconns, nidle, nqueued, nactive;
    uint64_t next_conn_id;
    hxc_client_stats stats;
    hxc__cache spare;       /* freed exchanges kept for reuse (no malloc per request) */
    hxc__recycler recycler; /* nghttp2's per-stream memory, for every session of the pool */
    /* Out of file descriptors: no connection opens while `fd_starved` (the
     * pool waits for one of its own to close, or closes an idle one), until
     * `fd_timer` lets it try again. */
    int fd_starved;
    unsigned fd_cap; /* connections open when a socket last failed */
    hxc__timer fd_timer;
};

extern const hxc__conn_proto hxc__conn_h1;
extern const hxc__conn_proto hxc__conn_h2;

/* Services of the core to the protocol glue. */
/** Ends `ex` (unlinks it from its connection first) and reports it. */
void hxc__pool_finish(hxc__exchange *ex, int err, const char *detail);
/** Sets the timeout phase of an exchange and arms its timer. */
void hxc__pool_phase(hxc__exchange *ex, enum phase ph);
/** Re-files the connection after its load or state changed (avail, idle). */
void hxc__pool_conn_update(hxc__conn *c);
/** Closes and frees the connection; its exchanges must have been finished. */
void hxc__pool_conn_close(hxc__conn *c, int graceful);
/** The protocol of a connection is settled (HTTP/2: the peer's SETTINGS arrived). */
void hxc__pool_conn_negotiated(hxc__conn *c);
/** The connection takes no new exchange (HTTP/2 GOAWAY): it closes when the
 *  ones it carries have ended. */
void hxc__pool_conn_drain(hxc__conn *c);
/** Makes an exchange for a pushed response on `c` (HTTP/2), promised with
 *  `fields` (pseudo-headers included) on stream `id`; NULL if refused. */
hxc__exchange *hxc__pool_adopt_push(hxc__conn *c, const struct hxc_headers *fields, int32_t id);
/** Puts `ex` back at the head of its queue; `fresh` for a new connection only. */
void hxc__pool_retry(hxc__exchange *ex, int fresh);
/**
 * The server refused `ex` without processing it (`how`, static text for the
 * final error): it is retried, at once the first time (or `at_once`, when
 * the refusal was the client's doing) and after a backoff afterwards, until
 * its deadline passes (HXC_ETIMEOUT_TOTAL) or, without a deadline,
 * HXC__MAX_REFUSED_RETRIES retries (then HXC_EPROTO_REMOTE).
 */
void hxc__pool_retry_refused(hxc__exchange *ex, const char *how, int at_once);
/**
 * Protocol glue: a response head is complete (`data` NULL) or body bytes
 * arrived. Checks the body limit, buffers or hands over to the consumer.
 * Returns 0, or a negative hxc error (the limit).
 */
int hxc__pool_body(hxc__exchange *ex, const uint8_t *data, size_t len);
/** Protocol glue: asks the producer of a streamed upload for more (once at a time). */
void hxc__pool_want_body(hxc__exchange *ex);
/** Whether the request can be sent again (its body is replayable). */
int hxc__pool_replayable(const hxc__exchange *ex);
/** Protocol glue: the head announced a body of `length` bytes. */
void hxc__pool_expect_body(hxc__exchange *ex, uint64_t length);
/** Protocol glue: the final head is in (streaming consumers are told). */
void hxc__pool_head_done(hxc__exchange *ex);
/** The first (HTTP/1.1: the only) exchange on the connection, or NULL. */
static inline hxc__exchange *hxc__conn_first(hxc__conn *c)
{
    return hxc__list_empty(&c->exchanges) ? NULL
                                          : HXC__LIST_ENTRY(c->exchanges.next, hxc__exchange, node);
}

#endif
