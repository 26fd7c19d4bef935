/*
 * pool/pool_int.h - structures shared by the pool core (pool.c) and the
 * per-protocol connection glue (conn_h1.c; conn_h2.c next). The core never
 * branches on the protocol: it asks a connection through `proto`.
 */
#ifndef HXC_POOL_INT_H
#define HXC_POOL_INT_H

#include "core/list.h"
#include "pool/pool.h"

typedef struct hxc__origin hxc__origin;
typedef struct hxc__conn hxc__conn;

enum phase { PH_NONE, PH_POOL, PH_CONNECT, PH_WRITE, PH_READ };
enum xstate { X_QUEUED, X_CONNECTING, X_ACTIVE, X_DONE };
enum cstate { C_CONNECTING, C_BUSY, C_IDLE };

struct hxc__exchange {
    hxc__list node; /* origin queue */
    hxc__pool *pool;
    hxc__origin *o;
    hxc__conn *c;
    struct hxc_response *resp;
    double timeouts[HXC_TIMEOUT__COUNT];
    uint64_t max_body;
    enum xstate state;
    enum phase phase;
    hxc__timer total_timer, phase_timer;
    double t_start, t_active;
    int retries;
    int got_bytes;
    int written;
    int fresh_only;
    hxc__exchange_done_cb cb;
    void *arg;
};

/* What the core asks of a protocol. */
typedef struct hxc__conn_proto {
    const char *name;
    /** Starts `ex` on the connection (state already set by the core). */
    void (*start)(hxc__conn *c, hxc__exchange *ex);
    void (*on_read)(hxc__conn *c, const uint8_t *data, size_t len);
    void (*on_closed)(hxc__conn *c, int err, const char *detail);
    void (*on_drained)(hxc__conn *c);
    void (*destroy)(hxc__conn *c);
} hxc__conn_proto;

struct hxc__conn {
    hxc__list node;      /* origin->conns */
    hxc__list idle_node; /* origin->idle, most recent first */
    hxc__list lru_node;  /* pool->idle_lru, oldest first */
    hxc__pool *pool;
    hxc__origin *o;
    hxc__transport *t;
    const hxc__conn_proto *proto;
    uint64_t id;
    enum cstate state;
    hxc__exchange *ex;   /* HTTP/1.1: the one exchange in flight */
    hxc__timer idle_timer;
    unsigned requests;   /* exchanges started on it */
    const char *version; /* "HTTP/1.1" until a response says otherwise */
    hxc__transport_times tt;
    hxc__buf scratch;
    hxc__h1 h1;
};

struct hxc__origin {
    hxc__list node;  /* hash bucket */
    hxc__list wait_node; /* pool->waiting when the queue is not empty */
    char *host;
    uint16_t port;
    int tls;
    hxc__list queue;
    hxc__list idle;
    hxc__list conns;
    unsigned nconns;
};

#define HXC__POOL_BUCKETS 256

struct hxc__pool {
    hxc__reactor *r;
    hxc__pool_config cfg;
    hxc__tls_ctx *tls;
    hxc__list buckets[HXC__POOL_BUCKETS];
    hxc__list waiting;  /* origins with queued exchanges, FIFO */
    hxc__list idle_lru;
    hxc__defer dispatch;
    unsigned nconns, nidle, nqueued, nactive;
    uint64_t next_conn_id;
    hxc_client_stats stats;
};

extern const hxc__conn_proto hxc__conn_h1;

/* Services of the core to the protocol glue. */
/** Ends `ex` (unlinks it from its connection first). */
void hxc__pool_finish(hxc__exchange *ex, int err, const char *detail);
/** Sets the timeout phase of an exchange and arms its timer. */
void hxc__pool_phase(hxc__exchange *ex, enum phase ph);
/** The connection has nothing in flight and may be reused. */
void hxc__pool_conn_idle(hxc__conn *c);
/** Closes and frees the connection (its exchange must have been finished or detached). */
void hxc__pool_conn_close(hxc__conn *c, int graceful);
/** Puts `ex` back at the head of its queue for a fresh connection. */
void hxc__pool_retry(hxc__exchange *ex);

#endif
