/* SPDX-License-Identifier: MIT */
/*
 * api/api.h - what the public functions share inside the API layer: the
 * client, the "call" that ties a request to its callback or future, and the
 * single place where user callbacks are invoked (client.c's delivery task).
 */
#ifndef HXC_API_H
#define HXC_API_H

#include "hxc/client.h"
#include "hxc/form.h"
#include "core/cache.h"
#include "core/list.h"
#include "core/message.h"
#include "pool/pool.h"
#include "reactor/reactor.h"
#include "transport/transport.h"

typedef struct hxc__call hxc__call;

struct hxc_client {
    hxc__reactor r;
    hxc_client_config cfg;
    char *ca_file, *ca_path, *user_agent, *accept; /* owned copies */
    hxc__tls_ctx *tls;                    /* made on first use (NULL until then) */
    char tls_error[300];                  /* why it could not be made */
    hxc__pool *pool;
    unsigned ncalls;    /* in flight: the pool still has them */
    hxc__list done;     /* finished, waiting to be delivered */
    hxc__list futures;  /* alive, so they can be detached when the client goes */
    hxc__list promised; /* pushes waiting for the user's decision */
    hxc__list progress; /* streamed responses with something to deliver */
    hxc__list held;     /* finished streamed responses, paused by their consumer */
    hxc__list uploads;  /* streamed uploads whose producer is to be called */
    hxc__list waiting;  /* calls between two exchanges (a retry's delay) */
    unsigned nwaiting;  /* calls in `waiting` */
    unsigned long long rng; /* retry jitter (xorshift; never 0) */
    uint16_t *retry_status; /* cfg.retry_on_status, owned copy */
    hxc__cache spare;   /* freed calls kept for reuse */
    struct hxc__response_cache *responses;
    hxc__defer deliver;
    hxc__defer close_task;
    int closing;
    int in_callback;
    hxc_client_closed_cb close_cb;
    void *close_ud;
};

/* A user callback returned: time has passed (the cached loop time is stale). */
static inline void hxc__user_returned(hxc_client *c)
{
    c->in_callback--;
    hxc__reactor_forget_now(&c->r);
}

/* Where a call is in its life; changed only by call_set_state (client.c),
 * which keeps `node` in the list the state names. */
enum hxc__call_state {
    HXC__CALL_RUNNING, /* the pool has its exchange (`ex`) */
    HXC__CALL_DONE,    /* the pool is done with it: in client->done, to be delivered */
    HXC__CALL_HELD,    /* done, but its paused consumer holds it: in client->held */
    HXC__CALL_WAITING  /* between two exchanges (a retry's delay): in client->waiting */
};

/* What a call needs when it takes more than one exchange (hops.c): made
 * the first time it does, so that one exchange costs nothing more. */
typedef struct hxc__hops {
    struct hxc_request *next; /* the request of the exchange it waits to start */
    unsigned tries;           /* exchanges started for the current URL (1: the first) */
    hxc__timer timer;         /* a retry's delay (WAITING) */
} hxc__hops;

struct hxc__call {
    /* What completion and delivery touch first, together. */
    hxc__list node; /* client->done or client->held, as `state` says */
    hxc_client *client;
    struct hxc_response *resp;
    hxc__exchange *ex; /* while RUNNING */
    hxc_response_cb cb;
    void *ud;
    hxc_future *future;
    int state;    /* enum hxc__call_state */
    int push;     /* a server push */
    int accepted;
    int head_delivered;
    int paused;      /* the body callback said HXC_PAUSE */
    int swallow;     /* this exchange's response goes to the policy, not the consumer */
    hxc__list snode; /* in client->progress */
    hxc__list unode; /* in client->uploads */
    hxc__list pnode; /* in client->promised until decided */
    hxc__list rnode; /* in its request's `sends` until delivered */
    size_t unacked;  /* consumed while paused, credited on resume */
    double t0;       /* when it was sent: the total deadline covers every exchange */
    hxc__hops *hops; /* retries and redirects under way, or NULL */
};

hxc__response_cache *hxc__response_cache_new(void);
/** The client is gone: what the cache holds is freed, and nothing more is kept. */
void hxc__response_cache_close(hxc__response_cache *rc);
/** A response for `req`, from `rc` when it has one (rc may be NULL). */
struct hxc_response *hxc__response_new(struct hxc_request *req, hxc__response_cache *rc);

/* form.c: a multipart form's upload, one per request (api/form.c). */
/** An upload of `f`, which it takes a reference of; NULL when out of memory. */
hxc__form_upload *hxc__form_upload_new(hxc_form *f);
/** An upload of the same form from its first byte (hxc_request_dup). */
hxc__form_upload *hxc__form_upload_dup(const hxc__form_upload *u);
void hxc__form_upload_free(hxc__form_upload *u);
/** A send starts: from the body's first byte (no file open). */
void hxc__form_upload_rewind(hxc__form_upload *u);
/** A send ended: its file, if one is open, is closed. */
void hxc__form_upload_close(hxc__form_upload *u);
/** Why the upload failed (it names the file), or NULL. */
const char *hxc__form_upload_detail(const hxc__form_upload *u);
/** The body producer of a multipart form; `ud` is its upload. */
int hxc__form_produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof,
                      void *ud);

/* future.c */
hxc_future *hxc__future_new(hxc_client *c);
void hxc__future_attach(hxc_future *f, hxc__call *call);
/** Settles a request future with `resp` (the future takes a reference). */
void hxc__future_settle(hxc_future *f, struct hxc_response *resp, int err);
void hxc__future_unref(hxc_future *f);
/** Detaches every future from the client (at close): later then() runs at once. */
void hxc__future_detach_all(hxc_client *c);
/* client.c */
/** The one place a call changes state (see enum hxc__call_state). */
void hxc__call_set_state(hxc__call *call, enum hxc__call_state st);
/** Starts an exchange of the call for `req` (the response takes the
 *  reference), within what is left of the call's deadline. 0, or an hxc
 *  error: then the call stays as it was and `req`'s reference is released. */
int hxc__call_exchange(hxc__call *call, struct hxc_request *req);

/* hops.c: the policy's turn once an exchange of a call ended. */
/** Retries or follows: 1 if the call goes on (another exchange, or a wait),
 *  0 to deliver its response. From the delivery task only. */
int hxc__hops_next(hxc__call *call);
/** Whether the policy will not deliver this response, as it stands (its head
 *  is in): it will retry or follow. No side effect. */
int hxc__hops_will_go_on(hxc__call *call);
/** Ends a WAITING call now with `err` (cancel, abort); it goes to delivery. */
void hxc__hops_cancel(hxc__call *call, int err, const char *why);
/** Frees what the call's hops hold (at delivery). */
void hxc__hops_free(hxc__call *call);

/** Cancels a call (a request future's, or hxc_request_cancel's): running or
 *  queued, it ends with HXC_ECANCELLED; finished but held by its paused
 *  consumer, it is released to delivery as cancelled (client.c). */
void hxc__call_cancel(hxc__call *call);

#endif
