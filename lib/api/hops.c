/* SPDX-License-Identifier: MIT */
/*
 * api/hops.c - a call that takes more than one exchange: retries (and,
 * with the policy layer's other parts, redirects). The decisions are the
 * policy's (lib/policy/: sans-IO); this file carries them out: it sends the
 * call again, or waits first, from the delivery task, never from inside
 * the pool (whose done callback must not call back into it).
 *
 * A call that goes on keeps its callback or future, its place in its
 * request's list of sends (hxc_request_cancel finds it), and its total
 * deadline, counted from when it was first sent. Each exchange has a
 * response of its own; the one delivered is the last.
 */
#include <string.h>
#include <sys/time.h>

#include "hxc/headers.h"
#include "core/internal.h"
#include "core/mem.h"
#include "api/api.h"
#include "policy/retry.h"

static hxc__hops *hops_of(hxc__call *call)
{
    if (call->hops == NULL) {
        call->hops = hxc__calloc(1, sizeof(*call->hops));
        if (call->hops != NULL)
            call->hops->tries = 1;
    }
    return call->hops;
}

void hxc__hops_free(hxc__call *call)
{
    hxc__hops *h = call->hops;
    if (h == NULL)
        return;
    hxc__timer_stop(&h->timer);
    hxc_request_free(h->next);
    hxc__free(h);
    call->hops = NULL;
}

/* The call could not go on: it is delivered with its last response, which
 * says why (a response that ended well keeps its status, with the error). */
static int give_up(hxc__call *call, int err, const char *why)
{
    hxc__response_fail(call->resp, err, why);
    return 0;
}

static void wait_over(hxc__timer *t, void *arg)
{
    (void)t;
    hxc__call *call = arg;
    struct hxc_request *req = call->hops->next;
    call->hops->next = NULL;
    int rv = hxc__call_exchange(call, req); /* RUNNING, or DONE again on failure */
    if (rv != 0)
        hxc__response_fail(call->resp, rv, "the request could not be sent again");
}

/* Sends `req` (a reference the call gives away) again for the call, now or
 * after `delay` seconds. 1: the call goes on; 0: it could not (the response
 * says why), deliver it. */
static int again(hxc__call *call, struct hxc_request *req, double delay)
{
    hxc_client *c = call->client;
    hxc__hops *h = call->hops;
    if (delay <= 0) {
        int rv = hxc__call_exchange(call, req);
        return rv == 0 ? 1 : give_up(call, rv, "the request could not be sent again");
    }
    if (!h->timer.initialised)
        hxc__timer_init(&c->r, &h->timer, wait_over, call);
    h->next = req;
    hxc__call_set_state(call, HXC__CALL_WAITING);
    hxc__timer_start_once(&h->timer, delay);
    return 1;
}

void hxc__hops_cancel(hxc__call *call, int err, const char *why)
{
    hxc__hops *h = call->hops;
    hxc__timer_stop(&h->timer);
    hxc_request_free(h->next);
    h->next = NULL;
    hxc__response_fail(call->resp, err, why);
    hxc__call_set_state(call, HXC__CALL_DONE);
}

/* Seconds left of the call's total deadline (a large value when none). */
static double time_left(hxc__call *call)
{
    hxc_client *c = call->client;
    struct hxc_request *q = call->resp->req;
    double total = q->timeouts[HXC_TIMEOUT_TOTAL] >= 0 ? q->timeouts[HXC_TIMEOUT_TOTAL]
                                                       : c->cfg.total_timeout;
    if (total <= 0)
        return 1e18;
    return call->t0 + total - hxc__reactor_now(&c->r);
}

static int status_listed(const hxc_client *c, int status)
{
    for (size_t i = 0; i < c->cfg.n_retry_on_status; i++)
        if (c->retry_status[i] == status)
            return 1;
    return 0;
}

/* The wall clock, for a Retry-After that is a date. */
static double unix_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* A retry of the same request, if the policy allows one: 1 if the call goes
 * on, 0 to deliver. `dry`: only say whether it would (at the head). */
static int retry(hxc__call *call, int dry)
{
    hxc_client *c = call->client;
    struct hxc_response *resp = call->resp;
    struct hxc_request *q = resp->req;
    unsigned budget = q->retries >= 0 ? (unsigned)q->retries : c->cfg.retries;
    unsigned tries = call->hops != NULL ? call->hops->tries : 1;
    if (tries > budget)
        return 0;
    /* A streamed body is sent once: again only if none of it was produced. */
    if (q->producer != NULL && resp->up_total > 0)
        return 0;
    double delay;
    if (resp->error != 0) {
        if (!hxc__retry_connect_error(resp->error, resp->detail))
            return 0;
        delay = hxc__retry_backoff(tries + 1, &c->rng);
    } else {
        if (!status_listed(c, resp->status) || !hxc__retry_idempotent(q->method) ||
            q->producer != NULL)
            return 0;
        const char *ra = hxc_headers_get(&resp->headers, "retry-after");
        delay = ra != NULL ? hxc__retry_after(ra, strlen(ra), unix_now()) : -1;
        if (delay > HXC__RETRY_AFTER_MAX)
            return 0; /* a server's wait we will not keep, deadline or not */
        if (delay < 0)
            delay = hxc__retry_backoff(tries + 1, &c->rng);
    }
    if (delay >= time_left(call))
        return 0; /* it would wait past the deadline: this answer is the last */
    if (dry)
        return 1;
    hxc__hops *h = hops_of(call);
    if (h == NULL)
        return 0;
    h->tries++;
    return again(call, hxc_request_retain(q), delay);
}

int hxc__hops_will_go_on(hxc__call *call)
{
    if (call->push || call->client->pool == NULL)
        return 0;
    return retry(call, 1);
}

int hxc__hops_next(hxc__call *call)
{
    if (call->push || call->client->pool == NULL)
        return 0;
    return retry(call, 0);
}
