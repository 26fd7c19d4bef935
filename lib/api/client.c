/* SPDX-License-Identifier: MIT */
/*
 * api/client.c - the client context: open, send, graceful close, abort,
 * the runner, and delivery: the one place user callbacks run. Delivery is a
 * deferred task, so a callback never runs inside the call that caused it,
 * and anything a callback does (free, cancel, send, close) is safe.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "hxc/version.h"
#include "core/internal.h"
#include "core/mem.h"
#include "api/api.h"

/* The smallest and largest struct_size a config can have (client.h). */
#define CONFIG_SIZE_MIN (offsetof(hxc_client_config, struct_size) + sizeof(size_t))
#define CONFIG_SIZE_MAX 4096
/* A newer caller's fields must not hide in padding at the end of ours, where
 * the zero-tail check would not see them: the last field ends the struct.
 * (When adding a field at the end, name it here.) */
_Static_assert(offsetof(hxc_client_config, n_retry_on_status) + sizeof(size_t) ==
                   sizeof(hxc_client_config),
               "hxc_client_config must end with its last field");

static void config_defaults(hxc_client_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->struct_size = sizeof(*cfg);
    cfg->connect_timeout = 10;
    cfg->read_timeout = 30;
    cfg->write_timeout = 30;
    cfg->pool_timeout = 30;
    cfg->total_timeout = 300;
    cfg->max_connections = 100;
    cfg->max_connections_per_host = 0;
    cfg->max_idle_connections = 20;
    cfg->keepalive_expiry = 5;
    cfg->max_response_header_bytes = 256 * 1024;
    cfg->max_response_headers = 1000;
    cfg->max_response_body_bytes = (uint64_t)1 << 30;
    cfg->user_agent = NULL;
    cfg->accept = NULL;
    cfg->http2_max_concurrent_streams = 100;
    cfg->http2_stream_window = 4u << 20;
    cfg->http2_connection_window = 16u << 20;
}

void hxc_client_config_init_size(hxc_client_config *cfg, size_t size)
{
    if (cfg == NULL || size < CONFIG_SIZE_MIN)
        return;
    hxc_client_config defaults;
    config_defaults(&defaults);
    if (size > sizeof(defaults))
        memset((char *)cfg + sizeof(defaults), 0, size - sizeof(defaults));
    memcpy(cfg, &defaults, size < sizeof(defaults) ? size : sizeof(defaults));
    cfg->struct_size = size;
}

/* The caller's config as this version reads it (the rule in client.h): only
 * the bytes its struct has, over the defaults. */
static int config_from_caller(hxc_client_config *cfg, const hxc_client_config *user)
{
    config_defaults(cfg);
    if (user == NULL)
        return 0;
    size_t size = user->struct_size;
    if (size < CONFIG_SIZE_MIN || size > CONFIG_SIZE_MAX)
        return HXC_EINVAL;
    const unsigned char *bytes = (const unsigned char *)user;
    for (size_t i = sizeof(*cfg); i < size; i++)
        if (bytes[i] != 0)
            return HXC_EINVAL; /* a newer setting we cannot honour */
    memcpy(cfg, user, size < sizeof(*cfg) ? size : sizeof(*cfg));
    cfg->struct_size = sizeof(*cfg);
    return 0;
}

static int valid_time(double s) { return s >= 0 && s < 1e9; }

/* Call records are kept for reuse: steady load does not malloc them. */
static hxc__call *call_new(hxc_client *c)
{
    hxc__call *call = hxc__cache_take(&c->spare);
    if (call == NULL)
        return hxc__calloc_lines(sizeof(*call));
    memset(call, 0, sizeof(*call));
    return call;
}

static void call_free(hxc_client *c, hxc__call *call)
{
    if (!hxc__cache_keep(&c->spare, call))
        hxc__free_lines(call);
}

static void maybe_finish_close(hxc_client *c);

#ifndef NDEBUG
static int call_legal(int from, int to)
{
    switch (from) {
    case HXC__CALL_RUNNING:
        return to == HXC__CALL_DONE;
    case HXC__CALL_DONE:
        return to == HXC__CALL_HELD || to == HXC__CALL_RUNNING || to == HXC__CALL_WAITING;
    case HXC__CALL_HELD:
        return to == HXC__CALL_DONE;
    case HXC__CALL_WAITING:
        return to == HXC__CALL_RUNNING || to == HXC__CALL_DONE;
    default:
        return 0;
    }
}
#endif

/* The one place a call changes state: RUNNING -> DONE when the pool is done
 * with it, DONE -> HELD when its paused consumer holds the delivery, HELD ->
 * DONE when resumed or cancelled; DONE -> RUNNING or WAITING when the policy
 * sends it again (a retry, a redirect: hops.c), WAITING -> RUNNING when its
 * delay is over, WAITING -> DONE when cancelled. Delivery frees a DONE call.
 * A WAITING call is counted in `ncalls`, as a RUNNING one: a graceful close
 * waits for it. */
void hxc__call_set_state(hxc__call *call, enum hxc__call_state st)
{
    hxc_client *c = call->client;
    assert(call_legal(call->state, st));
    hxc__list_remove(&call->node);
    if (call->state == HXC__CALL_WAITING)
        c->ncalls--, c->nwaiting--;
    call->state = st;
    switch (st) {
    case HXC__CALL_HELD:
        hxc__list_insert_tail(&c->held, &call->node); /* until hxc_response_resume */
        break;
    case HXC__CALL_DONE:
        hxc__list_insert_tail(&c->done, &call->node);
        hxc__defer_schedule(&c->r, &c->deliver);
        break;
    case HXC__CALL_WAITING:
        hxc__list_insert_tail(&c->waiting, &call->node);
        c->ncalls++, c->nwaiting++;
        break;
    default:
        break;
    }
}

/* A callback of the user's ended the exchange: cancelled in the pool if it
 * still runs, else (the whole response came before the callback ran) the
 * response carries the error, so that a consumer whose write failed learns
 * that its request did not succeed. */
static void stream_abort(hxc__call *call, int err, const char *why)
{
    if (call->ex != NULL)
        hxc__pool_cancel(call->client->pool, call->ex, err, why);
    else
        hxc__response_fail(call->resp, err, why);
}

/* Hands what a streamed response has to its consumer; from the delivery task only. */
static void stream_deliver(hxc__call *call)
{
    hxc_client *c = call->client;
    struct hxc_response *resp = call->resp;
    struct hxc_request *q = resp->req;
    if (call->paused)
        return;
    if (!call->head_delivered && resp->head_done) {
        call->head_delivered = 1;
        /* A response the policy will not deliver (it retries or follows)
         * never reaches the consumer: its body is taken and dropped. */
        call->swallow = hxc__hops_will_go_on(call);
        if (q->on_headers != NULL && resp->error == 0 && !call->swallow) {
            c->in_callback++;
            int rv = q->on_headers(resp, q->stream_ud);
            hxc__user_returned(c);
            if (rv < 0) {
                stream_abort(call, rv, "aborted by the headers callback");
                return;
            }
        }
    }
    if (q->on_body == NULL || resp->body.len == 0 || call->paused)
        return;
    size_t n = resp->body.len;
    if (call->swallow) {
        hxc__buf_reset(&resp->body);
        if (call->ex != NULL)
            hxc__pool_consumed(c->pool, call->ex, n);
        return;
    }
    c->in_callback++;
    int rv = resp->error == 0 ? q->on_body(resp, resp->body.data, n, q->stream_ud) : 0;
    hxc__user_returned(c);
    hxc__buf_reset(&resp->body); /* handed over: only unconsumed bytes are held */
    if (rv == HXC_PAUSE) {
        call->paused = 1;
        call->unacked += n;
        if (call->ex != NULL)
            hxc__pool_paused(c->pool, call->ex, 1);
    } else if (rv < 0) {
        stream_abort(call, rv, "aborted by the body callback");
    } else if (call->ex != NULL) {
        hxc__pool_consumed(c->pool, call->ex, n);
    }
}

/* Calls the producer of a streamed upload; from the delivery task only. */
static void upload_produce(hxc__call *call)
{
    hxc_client *c = call->client;
    struct hxc_response *resp = call->resp;
    struct hxc_request *q = resp->req;
    if (call->ex == NULL || q->producer_paused || resp->up_eof)
        return;
    const size_t piece = 64 * 1024;
    resp->extras = 1;
    if (hxc__buf_reserve(&resp->up, piece) != 0) {
        stream_abort(call, HXC_ENOMEM, "out of memory");
        return;
    }
    size_t written = 0;
    int eof = 0;
    c->in_callback++;
    int rv = q->producer(q, resp->up.data + resp->up.len, piece, &written, &eof, q->producer_ud);
    hxc__user_returned(c);
    if (call->ex == NULL)
        return; /* the producer cancelled its request (or the client was aborted) */
    if (rv < 0) {
        const char *why = q->form ? hxc__form_upload_detail(q->form) : NULL;
        stream_abort(call, rv, why ? why : "aborted by the body producer");
        return;
    }
    if (written > piece)
        written = piece;
    if (rv == HXC_PAUSE) {
        q->producer_paused = 1;
        written = 0;
        hxc__pool_paused(c->pool, call->ex, 1);
    } else if (eof) {
        resp->up_eof = 1;
    }
    resp->up.len += written;
    resp->up_total += written;
    if (q->producer_len >= 0 && resp->up_total > (uint64_t)q->producer_len) {
        stream_abort(call, HXC_EINVAL, "the body producer gave more than the announced length");
        return;
    }
    if (resp->up_eof && q->producer_len >= 0 && resp->up_total != (uint64_t)q->producer_len) {
        stream_abort(call, HXC_EINVAL, "the body producer ended before the announced length");
        return;
    }
    if ((written > 0 || resp->up_eof) && call->ex != NULL)
        hxc__pool_body_ready(c->pool, call->ex);
}

static void need_body(struct hxc_response *resp, void *arg)
{
    (void)resp;
    hxc__call *call = arg;
    hxc_client *c = call->client;
    if (!hxc__list_linked(&call->unode))
        hxc__list_insert_tail(&c->uploads, &call->unode);
    hxc__defer_schedule(&c->r, &c->deliver);
}

int hxc_request_resume_body(hxc_request *req)
{
    hxc__call *call = req ? req->call : NULL;
    if (call == NULL || !req->producer_paused)
        return HXC_EINVAL;
    req->producer_paused = 0;
    if (call->ex != NULL)
        hxc__pool_paused(call->client->pool, call->ex, 0);
    need_body(call->resp, call);
    return 0;
}

static void stream_progress(struct hxc_response *resp, void *arg)
{
    (void)resp;
    hxc__call *call = arg;
    hxc_client *c = call->client;
    if (!hxc__list_linked(&call->snode))
        hxc__list_insert_tail(&c->progress, &call->snode);
    hxc__defer_schedule(&c->r, &c->deliver);
}

int hxc_response_resume(hxc_response *resp)
{
    hxc__call *call = resp ? resp->call : NULL;
    if (call == NULL || !call->paused)
        return HXC_EINVAL;
    hxc_client *c = call->client;
    call->paused = 0;
    if (call->ex != NULL) {
        hxc__pool_paused(c->pool, call->ex, 0);
        hxc__pool_consumed(c->pool, call->ex, call->unacked);
    }
    call->unacked = 0;
    if (call->state == HXC__CALL_HELD) { /* completion can go ahead now */
        hxc__call_set_state(call, HXC__CALL_DONE);
    } else if (call->state == HXC__CALL_RUNNING && !hxc__list_linked(&call->snode)) {
        hxc__list_insert_tail(&c->progress, &call->snode);
    }
    hxc__defer_schedule(&c->r, &c->deliver);
    return 0;
}

static void deliver_cb(hxc__defer *d, void *arg)
{
    (void)d;
    hxc_client *c = arg;
    while (!hxc__list_empty(&c->uploads)) {
        hxc__call *call = HXC__LIST_ENTRY(c->uploads.next, hxc__call, unode);
        hxc__list_remove(&call->unode);
        upload_produce(call);
    }
    while (!hxc__list_empty(&c->progress)) {
        hxc__call *call = HXC__LIST_ENTRY(c->progress.next, hxc__call, snode);
        hxc__list_remove(&call->snode);
        stream_deliver(call);
    }
    /* Promises first: a pushed response is delivered only once accepted. */
    while (!hxc__list_empty(&c->promised)) {
        hxc__call *call = HXC__LIST_ENTRY(c->promised.next, hxc__call, pnode);
        hxc__list_remove(&call->pnode);
        c->in_callback++;
        call->accepted = c->cfg.push_promise(c, call->resp->req, c->cfg.push_user_data) == 1;
        hxc__user_returned(c);
        if (!call->accepted && call->ex != NULL)
            hxc__pool_cancel(c->pool, call->ex, HXC_ECANCELLED, "push refused");
    }
    while (!hxc__list_empty(&c->done)) {
        hxc__call *call = HXC__LIST_ENTRY(c->done.next, hxc__call, node);
        struct hxc_response *resp = call->resp;
        hxc__list_remove(&call->snode);
        hxc__list_remove(&call->unode);
        if (resp->req->on_headers != NULL || resp->req->on_body != NULL)
            stream_deliver(call); /* what the stream still holds goes first */
        if (hxc__hops_next(call))
            continue; /* retried or followed: another exchange, or a wait */
        resp = call->resp;
        if (resp->req->call == call)
            resp->req->call = NULL;
        if (call->paused && resp->error == 0) {
            hxc__call_set_state(call, HXC__CALL_HELD);
            continue;
        }
        hxc__list_remove(&call->node);
        resp->call = NULL;
        hxc__list_remove(&call->rnode); /* delivered: nothing left to cancel */
        c->in_callback++;
        if (call->push) {
            if (call->accepted && c->cfg.push_response)
                c->cfg.push_response(resp, resp->error, c->cfg.push_user_data);
        } else if (call->future != NULL) {
            hxc__future_settle(call->future, resp, resp->error);
            hxc__future_unref(call->future);
        } else if (call->cb != NULL) {
            call->cb(resp, resp->error, call->ud);
        }
        hxc__user_returned(c);
        hxc_response_release(resp);
        hxc__hops_free(call);
        call_free(c, call);
    }
    maybe_finish_close(c);
}

static void exchange_done(struct hxc_response *resp, void *arg)
{
    hxc__call *call = arg;
    hxc_client *c = call->client;
    call->ex = NULL;
    c->ncalls--;
    if (resp->req->form != NULL)
        hxc__form_upload_close(resp->req->form); /* its file is not held until delivery */
    hxc__call_set_state(call, HXC__CALL_DONE);
}

/* The promised request, as the user will see it: its URL and its regular
 * fields (the pseudo-header fields are the URL). NULL if it cannot be made. */
static hxc_request *promised_request(const char *method, const char *url,
                                     const struct hxc_headers *fields)
{
    hxc_request *req;
    if (hxc_request_new(&req, method, url) != 0)
        return NULL;
    for (size_t i = 0; i < fields->count; i++) {
        size_t nl, vl;
        const char *n = hxc__headers_name(fields, i, &nl);
        const char *v = hxc__headers_value(fields, i, &vl);
        if (nl > 0 && n[0] != ':' && hxc__headers_add(&req->headers, n, nl, v, vl) != 0) {
            hxc_request_free(req);
            return NULL;
        }
    }
    return req;
}

/* The pool was offered a pushed response: make its call, ask the user later. */
static struct hxc_response *push_hook(void *arg, const char *method, const char *url,
                                      const struct hxc_headers *fields, hxc__exchange *ex,
                                      void **cb_arg)
{
    hxc_client *c = arg;
    if (c->closing || c->cfg.push_promise == NULL)
        return NULL;
    hxc_request *promised = promised_request(method, url, fields);
    hxc__call *call = promised ? call_new(c) : NULL;
    struct hxc_response *resp = call ? hxc__response_new(promised, c->responses) : NULL;
    if (resp == NULL) {
        if (call)
            call_free(c, call);
        hxc_request_free(promised);
        return NULL;
    }
    call->client = c;
    call->resp = resp;
    call->ex = ex;
    call->push = 1;
    hxc__list_init(&call->snode);
    hxc__list_init(&call->unode);
    hxc__list_init(&call->node);
    hxc__list_init(&call->rnode);
    c->ncalls++;
    hxc__list_insert_tail(&c->promised, &call->pnode);
    hxc__defer_schedule(&c->r, &c->deliver);
    *cb_arg = call;
    return resp;
}

static void close_task_cb(hxc__defer *d, void *arg)
{
    (void)d;
    hxc_client *c = arg;
    hxc__pool_free(c->pool);
    c->pool = NULL;
    hxc__tls_ctx_free(c->tls);
    hxc__defer_cancel(&c->deliver);
    hxc__future_detach_all(c);
    hxc__reactor_destroy(&c->r);
    if (c->close_cb) {
        c->in_callback++;
        c->close_cb(c, c->close_ud);
    }
    hxc__call *call;
    while ((call = hxc__cache_take(&c->spare)) != NULL)
        hxc__free_lines(call);
    hxc__response_cache_close(c->responses);
    hxc__free(c->ca_file);
    hxc__free(c->ca_path);
    hxc__free(c->user_agent);
    hxc__free(c->accept);
    hxc__free(c->retry_status);
    hxc__free(c);
}

static void maybe_finish_close(hxc_client *c)
{
    if (c->closing && c->ncalls == 0 && hxc__list_empty(&c->done) && hxc__list_empty(&c->held) &&
        hxc__pool_busy(c->pool) == 0)
        hxc__defer_schedule(&c->r, &c->close_task);
}

/* The client's one TLS context, made on first use (see hxc_client_open). */
static int tls_get(void *arg, hxc__tls_ctx **out, const char **detail)
{
    hxc_client *c = arg;
    if (c->tls == NULL) {
        hxc__tls_opts to = {c->cfg.insecure, c->ca_file, c->ca_path};
        snprintf(c->tls_error, sizeof(c->tls_error), "out of memory");
        int rv = hxc__tls_ctx_new(&c->tls, &to, c->tls_error, sizeof(c->tls_error));
        if (rv != 0) {
            c->tls = NULL;
            *detail = c->tls_error;
            return rv;
        }
    }
    *out = c->tls;
    return 0;
}

int hxc_client_open(hxc_client **out, struct event_base *base, const hxc_client_config *user)
{
    hxc_client_config copy;
    if (out == NULL || base == NULL || config_from_caller(&copy, user) != 0)
        return HXC_EINVAL;
    const hxc_client_config *cfg = &copy;
    if (!valid_time(cfg->connect_timeout) || !valid_time(cfg->read_timeout) ||
        !valid_time(cfg->write_timeout) || !valid_time(cfg->pool_timeout) ||
        !valid_time(cfg->total_timeout) || !valid_time(cfg->keepalive_expiry) ||
        !valid_time(cfg->http2_ping_interval) || cfg->max_connections == 0 ||
        cfg->http2_stream_window > 0x7fffffffu || cfg->http2_connection_window > 0x7fffffffu)
        return HXC_EINVAL;
    hxc_client *c = hxc__calloc(1, sizeof(*c));
    if (c == NULL)
        return HXC_ENOMEM;
    c->cfg = *cfg;
    hxc__cache_init(&c->spare, HXC__CACHE_MAX);
    int rv = HXC_ENOMEM;
    if ((cfg->ca_file && !(c->ca_file = hxc__strdup(cfg->ca_file))) ||
        (cfg->ca_path && !(c->ca_path = hxc__strdup(cfg->ca_path))))
        goto fail;
    if (cfg->user_agent)
        c->user_agent = hxc__strdup(cfg->user_agent);
    else
        c->user_agent = hxc__strdup("hxc/" HXC_VERSION_STRING);
    if (c->user_agent == NULL)
        goto fail;
    c->accept = hxc__strdup(cfg->accept ? cfg->accept : "*/*");
    if (c->accept == NULL)
        goto fail;
    if (cfg->n_retry_on_status > 64 || (cfg->n_retry_on_status > 0 && cfg->retry_on_status == NULL)) {
        rv = HXC_EINVAL;
        goto fail;
    }
    if (cfg->n_retry_on_status > 0) {
        c->retry_status = hxc__calloc(cfg->n_retry_on_status, sizeof(uint16_t));
        if (c->retry_status == NULL)
            goto fail;
        memcpy(c->retry_status, cfg->retry_on_status, cfg->n_retry_on_status * sizeof(uint16_t));
    }
    c->cfg.retry_on_status = c->retry_status;
    if (hxc__is_field_value(c->user_agent, strlen(c->user_agent)) == 0 ||
        hxc__is_field_value(c->accept, strlen(c->accept)) == 0) {
        rv = HXC_EINVAL;
        goto fail;
    }
    c->cfg.ca_file = c->ca_file;
    c->cfg.ca_path = c->ca_path;
    c->cfg.user_agent = c->user_agent;
    c->cfg.accept = c->accept;
    c->cfg.dns_servers = NULL; /* the reactor keeps its own copy */
    c->responses = hxc__response_cache_new();
    if (c->responses == NULL)
        goto fail;
    rv = hxc__reactor_init(&c->r, base, cfg->dns_servers);
    if (rv != 0)
        goto fail;
    /* CA files named by the caller are loaded now, so that a bad one fails
     * here; with the system store the context waits for the first TLS
     * connection (building one costs about 3 ms, which a client that only
     * speaks cleartext never pays). */
    if (c->ca_file != NULL || c->ca_path != NULL) {
        const char *detail;
        hxc__tls_ctx *tls;
        rv = tls_get(c, &tls, &detail);
        if (rv != 0)
            goto fail;
    }
    hxc__pool_config pc;
    memset(&pc, 0, sizeof(pc));
    pc.max_connections = cfg->max_connections;
    pc.max_per_host = cfg->max_connections_per_host;
    pc.max_idle = cfg->max_idle_connections;
    pc.max_per_origin = cfg->max_requests_per_host;
    pc.deadline_after_queue = cfg->deadline_after_queue != 0;
    pc.keepalive_expiry = cfg->keepalive_expiry;
    pc.h1_limits.max_header_bytes = cfg->max_response_header_bytes;
    pc.h1_limits.max_headers = cfg->max_response_headers;
    pc.user_agent = c->user_agent;
    pc.accept = c->accept;
    pc.http2 = cfg->http2;
    pc.http2_prior_knowledge = cfg->http2_prior_knowledge;
    pc.h2_max_streams = cfg->http2_max_concurrent_streams;
    pc.h2_stream_window = cfg->http2_stream_window;
    pc.h2_conn_window = cfg->http2_connection_window;
    pc.exact_conns = cfg->exact_connections;
    pc.h2_ping_interval = cfg->http2_ping_interval;
    pc.done = exchange_done;
    pc.progress = stream_progress;
    pc.need_body = need_body;
    if (cfg->push_promise != NULL) {
        pc.push = push_hook;
        pc.push_arg = c;
        pc.push_timeouts[HXC_TIMEOUT_CONNECT] = cfg->connect_timeout;
        pc.push_timeouts[HXC_TIMEOUT_READ] = cfg->read_timeout;
        pc.push_timeouts[HXC_TIMEOUT_WRITE] = cfg->write_timeout;
        pc.push_timeouts[HXC_TIMEOUT_POOL] = cfg->pool_timeout;
        pc.push_timeouts[HXC_TIMEOUT_TOTAL] = cfg->total_timeout;
        pc.push_max_body = cfg->max_response_body_bytes;
    }
    pc.tls_get = tls_get;
    pc.tls_arg = c;
    rv = hxc__pool_new(&c->pool, &c->r, &pc);
    if (rv != 0)
        goto fail;
    hxc__list_init(&c->done);
    hxc__list_init(&c->futures);
    hxc__list_init(&c->promised);
    hxc__list_init(&c->progress);
    hxc__list_init(&c->held);
    hxc__list_init(&c->uploads);
    hxc__list_init(&c->waiting);
    c->rng = 0x9e3779b97f4a7c15ull ^ (unsigned long long)(uintptr_t)c;
    hxc__defer_init_eager(&c->deliver, deliver_cb, c);
    hxc__defer_init(&c->close_task, close_task_cb, c);
    *out = c;
    return 0;
fail:
    hxc__response_cache_close(c->responses);
    hxc__pool_free(c->pool);
    hxc__tls_ctx_free(c->tls);
    hxc__reactor_destroy(&c->r);
    hxc__free(c->ca_file);
    hxc__free(c->ca_path);
    hxc__free(c->user_agent);
    hxc__free(c->accept);
    hxc__free(c->retry_status);
    hxc__free(c);
    return rv;
}

static int start_exchange(hxc__call *call, struct hxc_response *resp);

static int submit(hxc_client *c, hxc_request *req, hxc__call **out)
{
    if (c->closing)
        return HXC_ECLIENT_CLOSED;
    if (req->producer != NULL && req->refs > 1)
        return HXC_EINVAL; /* an upload's state is per send: it cannot be shared */
    hxc__call *call = call_new(c);
    if (call == NULL)
        return HXC_ENOMEM;
    struct hxc_response *resp = hxc__response_new(req, c->responses);
    if (resp == NULL) {
        call_free(c, call);
        return HXC_ENOMEM;
    }
    call->client = c;
    call->resp = resp;
    resp->call = call;
    if (req->producer != NULL)
        req->call = call; /* for hxc_request_resume_body */
    if (req->form != NULL)
        hxc__form_upload_rewind(req->form); /* files are opened as the body reaches them */
    hxc__list_init(&call->snode);
    hxc__list_init(&call->unode);
    hxc__list_insert_tail(&req->sends, &call->rnode);
    hxc__list_init(&call->node);
    call->t0 = hxc__reactor_now(&c->r);
    int rv = start_exchange(call, resp);
    if (rv != 0) {
        hxc__list_remove(&call->rnode);
        resp->req = NULL; /* the caller keeps the request */
        req->call = NULL;
        hxc_response_release(resp);
        call_free(c, call);
        return rv;
    }
    *out = call;
    return 0;
}

/* Submits `resp` (its request: resp->req) to the pool for `call`, with the
 * timeouts the request and the client say; the total deadline is what is
 * left of the call's (it covers every exchange of a call). 0 or an hxc error
 * (nothing submitted, the call not counted). */
static int start_exchange(hxc__call *call, struct hxc_response *resp)
{
    hxc_client *c = call->client;
    struct hxc_request *req = resp->req;
    double t[HXC_TIMEOUT__COUNT] = {c->cfg.connect_timeout, c->cfg.read_timeout,
                                    c->cfg.write_timeout, c->cfg.pool_timeout,
                                    c->cfg.total_timeout};
    for (int i = 0; i < HXC_TIMEOUT__COUNT; i++)
        if (req->timeouts[i] >= 0)
            t[i] = req->timeouts[i];
    if (call->hops != NULL && t[HXC_TIMEOUT_TOTAL] > 0) {
        double left = call->t0 + t[HXC_TIMEOUT_TOTAL] - hxc__reactor_now(&c->r);
        if (left <= 0)
            return HXC_ETIMEOUT_TOTAL;
        t[HXC_TIMEOUT_TOTAL] = left;
    }
    /* The client's cap is on the bodies the library takes in itself
     * (buffered or discarded): a streamed one is bounded by back-pressure
     * instead. A cap set on the request applies in every mode. */
    uint64_t max_body = c->cfg.max_response_body_bytes;
    if (req->max_body != UINT64_MAX)
        max_body = req->max_body;
    else if (req->on_body != NULL && !req->discard_body)
        max_body = 0;
    /* Counted first: the pool may start the exchange at once, and even finish
     * it (a connection found dead), which moves the call to `done`. */
    c->ncalls++;
    int rv = hxc__pool_submit(c->pool, resp, t, max_body, call, &call->ex);
    if (rv != 0)
        c->ncalls--;
    return rv;
}

int hxc__call_exchange(hxc__call *call, struct hxc_request *req)
{
    hxc_client *c = call->client;
    struct hxc_response *resp = hxc__response_new(req, c->responses);
    if (resp == NULL) {
        hxc_request_free(req);
        return HXC_ENOMEM;
    }
    resp->call = call;
    struct hxc_response *old = call->resp;
    call->resp = resp;
    call->head_delivered = 0;
    call->swallow = 0;
    /* RUNNING first: the pool may finish it at once (DONE again). */
    hxc__call_set_state(call, HXC__CALL_RUNNING);
    int rv = start_exchange(call, resp);
    if (rv != 0) {
        call->resp = old; /* back to delivery, with the response it had */
        hxc__call_set_state(call, HXC__CALL_DONE);
        resp->call = NULL;
        hxc_response_release(resp); /* releases `req` */
        return rv;
    }
    old->call = NULL;
    hxc_response_release(old);
    return 0;
}

int hxc_client_send(hxc_client *c, hxc_request *req, hxc_response_cb cb, void *ud)
{
    if (c == NULL || req == NULL || cb == NULL)
        return HXC_EINVAL;
    hxc__call *call;
    int rv = submit(c, req, &call);
    if (rv != 0)
        return rv;
    call->cb = cb;
    call->ud = ud;
    return 0;
}

hxc_future *hxc_client_request(hxc_client *c, hxc_request *req)
{
    if (c == NULL || req == NULL) {
        hxc_request_free(req);
        return NULL;
    }
    hxc_future *f = hxc__future_new(c);
    if (f == NULL) {
        hxc_request_free(req);
        return NULL;
    }
    hxc__call *call;
    int rv = submit(c, req, &call);
    if (rv != 0) {
        /* Settle at once with a response that carries the error. */
        struct hxc_response *resp = hxc__response_new(req, c->responses);
        if (resp == NULL) {
            hxc_request_free(req);
            hxc__future_unref(f);
            return NULL;
        }
        hxc__response_fail(resp, rv, hxc_strerror(rv));
        hxc__future_settle(f, resp, rv);
        hxc_response_release(resp);
        return f;
    }
    hxc__future_attach(f, call);
    return f;
}

/* A finished streamed response held by its paused consumer goes to
 * delivery now, failed with `err` (what it still holds is dropped). */
static void release_held(hxc__call *call, int err, const char *why)
{
    call->paused = 0;
    hxc__buf_reset(&call->resp->body);
    hxc__response_fail(call->resp, err, why);
    if (call->state == HXC__CALL_HELD)
        hxc__call_set_state(call, HXC__CALL_DONE);
}

void hxc__call_cancel(hxc__call *call)
{
    if (call->state == HXC__CALL_RUNNING)
        hxc__pool_cancel(call->client->pool, call->ex, HXC_ECANCELLED, "cancelled by the caller");
    else if (call->state == HXC__CALL_WAITING)
        hxc__hops_cancel(call, HXC_ECANCELLED, "cancelled by the caller");
    else if (call->paused)
        release_held(call, HXC_ECANCELLED, "cancelled by the caller");
}

int hxc_request_cancel(hxc_request *req)
{
    if (req == NULL)
        return HXC_EINVAL;
    int n = 0;
    /* Cancelling finishes a call at once (it stays listed until delivered):
     * walk with the next one in hand. */
    hxc__list *pos, *tmp;
    HXC__LIST_FOREACH_SAFE(pos, tmp, &req->sends)
    {
        hxc__call *call = HXC__LIST_ENTRY(pos, hxc__call, rnode);
        if (call->state == HXC__CALL_RUNNING || call->state == HXC__CALL_WAITING ||
            call->paused) {
            hxc__call_cancel(call);
            n++;
        }
    }
    return n;
}

int hxc_client_close(hxc_client *c, hxc_client_closed_cb cb, void *ud)
{
    if (c == NULL || c->closing)
        return HXC_EINVAL;
    c->closing = 1;
    c->close_cb = cb;
    c->close_ud = ud;
    maybe_finish_close(c);
    return 0;
}

void hxc_client_abort(hxc_client *c)
{
    if (c == NULL || c->pool == NULL)
        return;
    hxc__pool_cancel_all(c->pool, HXC_ECANCELLED, "aborted");
    while (!hxc__list_empty(&c->waiting))
        hxc__hops_cancel(HXC__LIST_ENTRY(c->waiting.next, hxc__call, node), HXC_ECANCELLED,
                         "aborted");
    /* Streams paused by their consumer end now too: what they hold is dropped. */
    while (!hxc__list_empty(&c->held))
        release_held(HXC__LIST_ENTRY(c->held.next, hxc__call, node), HXC_ECANCELLED, "aborted");
    hxc__defer_schedule(&c->r, &c->deliver);
    maybe_finish_close(c);
}

void hxc_client_get_stats(const hxc_client *c, hxc_client_stats *out)
{
    if (c == NULL || out == NULL)
        return;
    hxc__pool_stats(c->pool, out);
    out->requests_waiting = c->nwaiting;
}

struct event_base *hxc_client_base(const hxc_client *c) { return c ? c->r.base : NULL; }

static void run_closed(hxc_client *c, void *ud)
{
    (void)c;
    *(int *)ud = 1;
}

int hxc_run(struct event_base *base, const hxc_client_config *cfg, hxc_run_fn body, void *arg)
{
    if (body == NULL)
        return HXC_EINVAL;
    struct event_base *own = NULL;
    if (base == NULL) {
        own = base = event_base_new();
        if (base == NULL)
            return HXC_ENOMEM;
    }
    hxc_client *c;
    int rv = hxc_client_open(&c, base, cfg);
    if (rv != 0) {
        if (own)
            event_base_free(own);
        return rv;
    }
    int brv = body(c, arg);
    int closed = 0;
    hxc_client_close(c, run_closed, &closed);
    while (!closed) {
        if (event_base_loop(base, EVLOOP_ONCE) != 0)
            break; /* error, or nothing left that could ever close it */
    }
    if (own)
        event_base_free(own);
    return brv;
}
