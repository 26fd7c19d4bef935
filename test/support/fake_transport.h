/* SPDX-License-Identifier: MIT */
/*
 * test/support/fake_transport.h - a transport with no socket, driven by the
 * test: the pool (or anything that takes an hxc__connect_fn) runs against it
 * in unit tests, deterministically, with the reactor in manual time.
 *
 * fakenet_connect is the connect hook. It records each connection (the
 * endpoint's host and port, the handler and its ud) and then nothing happens
 * until the test says so: the test completes or fails the connect, delivers
 * bytes, closes the stream, reports drained bytes. Each event reaches the
 * owner as the socket transport's do: never from inside a call the owner
 * made into the transport, but from the test's own code (which is "the
 * loop"), through hxc__reactor_call (the time read afresh, eager items run
 * when it returns). Deferred work then waits for the test to settle the
 * reactor (hxc__reactor_settle, or hxc__reactor_advance).
 *
 * What the owner wrote (write and write_ref, concatenated) stays readable;
 * `pending` counts the bytes written and not yet reported drained. The
 * answers to full, is_alive and read_drained are fields the test sets. A
 * connection freed by its owner stays recorded (freed, graceful) until
 * fakenet_free; no event may be delivered to it any more.
 */
#ifndef HXC_FAKE_TRANSPORT_H
#define HXC_FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "transport/transport.h"

typedef struct fakeconn {
    hxc__transport base; /* first: the table */
    struct fakenet *net;
    unsigned index; /* 0 for the first connection made, and so on */
    char host[256];
    uint16_t port;
    const hxc__transport_handler *h;
    void *ud;
    /* What happened to it. */
    int connected;  /* on_connected(0) delivered */
    int failed;     /* on_connected(error) delivered */
    int closed;     /* on_closed delivered */
    int freed;      /* the owner freed it */
    int graceful;   /* ...gracefully (TLS close_notify would be tried) */
    int paused;     /* reading stopped by the owner */
    hxc__buf out;   /* every byte written, in order */
    size_t pending; /* written, not reported drained yet */
    /* The answers the owner gets; the test may change them at any time. */
    int full;             /* hxc__transport_full (default 0) */
    int alive;            /* hxc__transport_is_alive (default 1) */
    int read_drained;     /* hxc__transport_read_drained (default 1: a short read) */
    char alpn[32];        /* given at fakeconn_connected */
    unsigned alive_asked; /* times is_alive was asked (the idle probe) */
} fakeconn;

typedef struct fakenet fakenet;

/** Serves the connect hook for every connection made on reactor `r`. */
fakenet *fakenet_new(hxc__reactor *r);
/** Frees every connection record (each must have been freed by its owner). */
void fakenet_free(fakenet *n);
/** The connect hook (an hxc__connect_fn): records, connects nothing yet. */
int fakenet_connect(hxc__transport **out, hxc__reactor *r, const hxc__endpoint *ep,
                    const hxc__transport_handler *h, void *ud);
/** Connections made so far (freed ones included). */
unsigned fakenet_count(const fakenet *n);
/** The `i`-th connection made (from 0), or NULL. */
fakeconn *fakenet_conn(const fakenet *n, unsigned i);
/** The last connection made, or NULL. */
fakeconn *fakenet_last(const fakenet *n);
/** Connections not freed by their owner. */
unsigned fakenet_live(const fakenet *n);
/** The next `count` calls of the hook fail with `err` (nothing recorded). */
void fakenet_fail_next(fakenet *n, int err, unsigned count);

/* ---- events, from the test (each as one callback of the loop) ----------- */

/** The connect succeeded; `alpn` is what the server chose ("" or NULL: none). */
void fakeconn_connected(fakeconn *c, const char *alpn);
/** The connect failed with `err` (any hxc error, HXC__ENOFD included). */
void fakeconn_fail(fakeconn *c, int err, const char *detail);
/** Bytes arrived (one on_read). */
void fakeconn_read(fakeconn *c, const void *data, size_t len);
/** fakeconn_read of a C string. */
void fakeconn_read_str(fakeconn *c, const char *s);
/** Several reads in one read loop (one callback): read_drained answers 0
 *  during all but the last; the loop stops if the owner frees the
 *  transport. Each chunk is a C string. */
void fakeconn_read_chunks(fakeconn *c, const char *const *chunks, size_t n);
/** The stream ended: 0 for a clean EOF, else an hxc error (transport.h). */
void fakeconn_close(fakeconn *c, int err, const char *detail);
/** The kernel took `n` of the pending bytes (all of them if more): on_drained,
 *  with `all` when nothing is pending any more. */
void fakeconn_drain(fakeconn *c, size_t n);
/** fakeconn_drain of everything pending. */
void fakeconn_drain_all(fakeconn *c);

/* ---- what the owner did -------------------------------------------------- */

/** Every byte written so far, NUL-terminated (*len if not NULL). */
const char *fakeconn_written(fakeconn *c, size_t *len);
/** Forgets what was written so far (pending is unchanged). */
void fakeconn_clear_written(fakeconn *c);
/** How many times `needle` occurs in what was written. */
unsigned fakeconn_written_count(fakeconn *c, const char *needle);

#endif
