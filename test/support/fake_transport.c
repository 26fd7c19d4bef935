/* SPDX-License-Identifier: MIT */
/*
 * test/support/fake_transport.c - a transport with no socket, driven by the
 * test (see fake_transport.h). It must never deliver an event from inside a
 * call of its owner: events come only from the fakeconn_* event functions,
 * which the test calls from its own code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "fake_transport.h"

#define MAX_CONNS 256

/* A test that misuses the fake (an event to a dead transport) is stopped
 * here, in every build type (assert would vanish with NDEBUG). */
#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fake transport misused: %s\n", __FILE__, __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

struct fakenet {
    hxc__reactor *r;
    fakeconn *conns[MAX_CONNS];
    unsigned n;
    int fail_err;
    unsigned fail_count;
    fakenet *next; /* the hook finds its net by reactor */
};

/* The connect hook has no argument of its own: the nets of live tests. */
static fakenet *nets;

static fakeconn *of(hxc__transport *t) { return (fakeconn *)t; }
static const fakeconn *cof(const hxc__transport *t) { return (const fakeconn *)t; }

static int f_write(hxc__transport *t, const void *data, size_t len)
{
    fakeconn *c = of(t);
    MUST(!c->freed);
    if (c->closed || c->failed)
        return HXC_ECLOSED;
    if (hxc__buf_append(&c->out, data, len) != 0)
        return HXC_ENOMEM;
    c->pending += len;
    return 0;
}

static size_t f_pending(const hxc__transport *t) { return cof(t)->pending; }
static int f_read_drained(const hxc__transport *t) { return cof(t)->read_drained; }
static int f_read_limited(const hxc__transport *t) { return !cof(t)->read_drained; }
static int f_full(hxc__transport *t) { return of(t)->full; }
static void f_pause_read(hxc__transport *t, int paused) { of(t)->paused = paused != 0; }

static int f_is_alive(hxc__transport *t)
{
    fakeconn *c = of(t);
    c->alive_asked++;
    return c->alive && !c->closed;
}

static const char *f_alpn(const hxc__transport *t) { return cof(t)->alpn; }

static void f_times_get(const hxc__transport *t, hxc__transport_times *out)
{
    (void)t;
    memset(out, 0, sizeof(*out));
}

static void f_free(hxc__transport *t, int graceful)
{
    fakeconn *c = of(t);
    MUST(!c->freed);
    c->freed = 1;
    c->graceful = graceful != 0;
}

static const hxc__transport_ops fake_ops = {
    f_write,      f_write,    f_pending, f_read_drained, f_read_limited, f_full,
    f_pause_read, f_is_alive, f_alpn,    f_times_get,    f_free,
};

fakenet *fakenet_new(hxc__reactor *r)
{
    fakenet *n = hxc__calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->r = r;
    n->next = nets;
    nets = n;
    return n;
}

void fakenet_free(fakenet *n)
{
    if (n == NULL)
        return;
    for (fakenet **p = &nets; *p != NULL; p = &(*p)->next) {
        if (*p == n) {
            *p = n->next;
            break;
        }
    }
    for (unsigned i = 0; i < n->n; i++) {
        MUST(n->conns[i]->freed);
        hxc__buf_free(&n->conns[i]->out);
        hxc__free(n->conns[i]);
    }
    hxc__free(n);
}

int fakenet_connect(hxc__transport **out, hxc__reactor *r, const hxc__endpoint *ep,
                    const hxc__transport_handler *h, void *ud)
{
    fakenet *n = nets;
    while (n != NULL && n->r != r)
        n = n->next;
    MUST(n != NULL); /* fakenet_new(r) first */
    if (n->fail_count > 0) {
        n->fail_count--;
        return n->fail_err;
    }
    if (n->n == MAX_CONNS)
        return HXC_ENOMEM;
    fakeconn *c = hxc__calloc(1, sizeof(*c));
    if (c == NULL)
        return HXC_ENOMEM;
    c->base.ops = &fake_ops;
    c->net = n;
    c->index = n->n;
    snprintf(c->host, sizeof(c->host), "%s", ep->host);
    c->port = ep->port;
    c->h = h;
    c->ud = ud;
    c->alive = 1;
    c->read_drained = 1;
    hxc__buf_init(&c->out);
    n->conns[n->n++] = c;
    *out = &c->base;
    return 0;
}

unsigned fakenet_count(const fakenet *n) { return n->n; }
fakeconn *fakenet_conn(const fakenet *n, unsigned i) { return i < n->n ? n->conns[i] : NULL; }
fakeconn *fakenet_last(const fakenet *n) { return n->n ? n->conns[n->n - 1] : NULL; }

unsigned fakenet_live(const fakenet *n)
{
    unsigned live = 0;
    for (unsigned i = 0; i < n->n; i++)
        live += !n->conns[i]->freed;
    return live;
}

void fakenet_fail_next(fakenet *n, int err, unsigned count)
{
    n->fail_err = err;
    n->fail_count = count;
}

/* ---- events: each one callback of the loop ------------------------------ */

typedef struct event_args {
    fakeconn *c;
    int kind, err, all;
    const char *detail;
    const void *data;
    size_t len;
} event_args;

enum { FE_CONNECTED, FE_READ, FE_CLOSED, FE_DRAINED, FE_READ_CHUNKS };

/* Several reads of one read loop, as the socket transport's: more may
 * follow each but the last (read_drained 0), and the loop stops once the
 * owner has freed or closed the transport. */
static void read_chunks(fakeconn *c, const char *const *chunks, size_t n)
{
    int last_drained = c->read_drained;
    for (size_t i = 0; i < n && !c->freed && !c->closed; i++) {
        c->read_drained = i + 1 == n ? last_drained : 0;
        c->h->on_read(c->ud, (const uint8_t *)chunks[i], strlen(chunks[i]));
    }
    c->read_drained = last_drained;
}

static void deliver_cb(void *arg)
{
    event_args *a = arg;
    fakeconn *c = a->c;
    switch (a->kind) {
    case FE_CONNECTED:
        c->h->on_connected(c->ud, a->err, a->detail);
        break;
    case FE_READ:
        c->h->on_read(c->ud, a->data, a->len);
        break;
    case FE_CLOSED:
        c->h->on_closed(c->ud, a->err, a->detail);
        break;
    case FE_READ_CHUNKS:
        read_chunks(c, a->data, a->len);
        break;
    default:
        c->h->on_drained(c->ud, a->all);
        break;
    }
}

/* Events reach only a live transport (the owner never hears of one it
 * freed, and a dead one says nothing more): a test that breaks this is
 * wrong, not the owner. */
static void check_live(const fakeconn *c) { MUST(!c->freed && !c->closed && !c->failed); }

static void deliver(event_args *a)
{
    check_live(a->c);
    hxc__reactor_call(a->c->net->r, deliver_cb, a);
}

void fakeconn_connected(fakeconn *c, const char *alpn)
{
    MUST(!c->connected);
    snprintf(c->alpn, sizeof(c->alpn), "%s", alpn ? alpn : "");
    c->connected = 1;
    event_args a = {c, FE_CONNECTED, 0, 0, NULL, NULL, 0};
    deliver(&a);
}

void fakeconn_fail(fakeconn *c, int err, const char *detail)
{
    MUST(!c->connected && err != 0);
    check_live(c);
    event_args a = {c, FE_CONNECTED, err, 0, detail, NULL, 0};
    c->failed = 1; /* dead before the owner hears it; the owner still frees it */
    hxc__reactor_call(c->net->r, deliver_cb, &a);
}

void fakeconn_read(fakeconn *c, const void *data, size_t len)
{
    MUST(c->connected);
    event_args a = {c, FE_READ, 0, 0, NULL, data, len};
    deliver(&a);
}

void fakeconn_read_str(fakeconn *c, const char *s) { fakeconn_read(c, s, strlen(s)); }

void fakeconn_read_chunks(fakeconn *c, const char *const *chunks, size_t n)
{
    MUST(c->connected);
    event_args a = {c, FE_READ_CHUNKS, 0, 0, NULL, chunks, n};
    deliver(&a);
}

void fakeconn_close(fakeconn *c, int err, const char *detail)
{
    MUST(c->connected);
    check_live(c);
    event_args a = {c, FE_CLOSED, err, 0, detail, NULL, 0};
    c->closed = 1; /* dead before the owner hears it, as the socket transport */
    hxc__reactor_call(c->net->r, deliver_cb, &a);
}

void fakeconn_drain(fakeconn *c, size_t n)
{
    MUST(c->connected);
    c->pending -= n < c->pending ? n : c->pending;
    event_args a = {c, FE_DRAINED, 0, c->pending == 0, NULL, NULL, 0};
    deliver(&a);
}

void fakeconn_drain_all(fakeconn *c) { fakeconn_drain(c, c->pending); }

/* ---- what the owner did -------------------------------------------------- */

const char *fakeconn_written(fakeconn *c, size_t *len)
{
    if (len != NULL)
        *len = c->out.len;
    if (hxc__buf_reserve(&c->out, 1) != 0)
        return "";
    c->out.data[c->out.len] = '\0';
    return (const char *)c->out.data;
}

void fakeconn_clear_written(fakeconn *c) { hxc__buf_reset(&c->out); }

unsigned fakeconn_written_count(fakeconn *c, const char *needle)
{
    unsigned count = 0;
    const char *s = fakeconn_written(c, NULL);
    size_t nl = strlen(needle);
    for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + nl, needle))
        count++;
    return count;
}
