/* SPDX-License-Identifier: MIT */
/*
 * transport/transport.h - a byte stream to a host: DNS, TCP, optional TLS.
 *
 * Knows nothing of HTTP. The owner gets four events through a handler
 * table; none of them is ever called from inside a transport function the
 * owner called (connecting starts on the next loop turn), so the owner may
 * close the transport from inside any event.
 *
 * Writes are queued and flushed once per loop turn with one sendmsg (or
 * one SSL_write per 16 KiB record): a hundred small writes in one turn
 * leave in one syscall. Reads take up to 64 KiB per recv (the reactor's
 * buffer; over TLS, OpenSSL reads ahead that much).
 *
 * Flow: the write queue has a high-water mark. Over it the transport is
 * "full" until it has drained below the low-water mark; writers check it
 * and stop producing (a body producer is not called, nghttp2 is not asked
 * for frames) until on_drained finds it no longer full. A flush writes at
 * most HXC__IO_BUDGET bytes and a read callback reads at most that much:
 * the rest waits for the next loop turn, so a fast peer never holds the
 * caller's loop.
 */
#ifndef HXC_TRANSPORT_H
#define HXC_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "reactor/reactor.h"

typedef struct hxc__transport hxc__transport;
typedef struct hxc__tls_ctx hxc__tls_ctx;

/* on_connected's error when no socket could be made for want of file
 * descriptors (EMFILE, ENFILE): not the peer's fault, and it passes as
 * descriptors are closed. Internal: never reaches the user. */
#define HXC__ENOFD (-1000)

typedef struct hxc__transport_handler {
    /** Connected (and TLS handshake done) when err == 0; else failed, and closed. */
    void (*on_connected)(void *ud, int err, const char *detail);
    /** Bytes arrived. */
    void (*on_read)(void *ud, const uint8_t *data, size_t len);
    /**
     * The stream ended: err 0 for a clean EOF, HXC_ECLOSED for an EOF without
     * TLS close_notify, HXC_EREAD / HXC_EWRITE for errors. The transport is
     * dead (owner must still call hxc__transport_free).
     */
    void (*on_closed)(void *ud, int err, const char *detail);
    /** The kernel took queued bytes: all of them (`all`), or some (progress).
     *  Writers stopped by the high-water mark look at hxc__transport_full. */
    void (*on_drained)(void *ud, int all);
} hxc__transport_handler;

typedef struct hxc__endpoint {
    const char *host; /* name or IP literal (no brackets) */
    uint16_t port;
    hxc__tls_ctx *tls;         /* NULL for cleartext */
    const unsigned char *alpn; /* wire-format ALPN list offered, or NULL */
    size_t alpn_len;
} hxc__endpoint;

typedef struct hxc__transport_times {
    double dns, connect, tls; /* seconds spent in each phase */
} hxc__transport_times;

/* The write queue's marks: over HIGH writers stop (the size the HTTP/1.1
 * upload queue had), below LOW they go on (a quarter of it: a slow socket is
 * not fed a frame at a time, nor left idle while a writer refills). */
#define HXC__WRITE_HIGH (256u << 10)
#define HXC__WRITE_LOW  (64u << 10)
/* Bytes one flush writes, and one read callback reads, at most. */
#define HXC__IO_BUDGET (1u << 20)

/*
 * What a transport does, behind one table (curl's connection filters have
 * the same shape): the socket transport of tcp.c, or a test's, which lets
 * the pool run without sockets. Every transport begins with its table.
 */
typedef struct hxc__transport_ops {
    /** Queues bytes (copied). 0, HXC_ENOMEM, or HXC_ECLOSED when dead. */
    int (*write)(hxc__transport *t, const void *data, size_t len);
    /** Queues bytes by reference: they must stay valid until drained or freed. */
    int (*write_ref)(hxc__transport *t, const void *data, size_t len);
    /** Bytes queued but not yet taken by the kernel. */
    size_t (*pending)(const hxc__transport *t);
    /** From inside on_read: whether these are the last bytes of this read
     *  loop, nothing more having been waiting (a short read of cleartext).
     *  When 0, more bytes may follow in the same loop (over TLS, always 0). */
    int (*read_drained)(const hxc__transport *t);
    /** After a read loop: whether it stopped at one of its limits (rounds,
     *  bytes, a pause), so that bytes may still be waiting. */
    int (*read_limited)(const hxc__transport *t);
    /** Whether writers must stop: the queue went over HXC__WRITE_HIGH and has
     *  not drained below HXC__WRITE_LOW since. A writer may still queue what
     *  it has in hand (one frame, one piece of a body); it must not ask for
     *  more. */
    int (*full)(hxc__transport *t);
    /** Stops or resumes reading. */
    void (*pause_read)(hxc__transport *t, int paused);
    /** Whether an idle connection looks alive: no EOF, no error, no
     *  unexpected bytes waiting (curl's "dead connection" check before reuse). */
    int (*is_alive)(hxc__transport *t);
    /** The ALPN protocol the server selected ("" if none). */
    const char *(*alpn)(const hxc__transport *t);
    void (*times_get)(const hxc__transport *t, hxc__transport_times *out);
    /** Closes and frees. With `graceful`, TLS close_notify is attempted first
     *  (best effort, never blocking). No event is delivered afterwards. */
    void (*free)(hxc__transport *t, int graceful);
} hxc__transport_ops;

struct hxc__transport {
    const hxc__transport_ops *ops;
};

/** Starts connecting; events reach `h` with `ud`, never from inside this
 *  call. 0 and *out, or an hxc error (nothing started). */
typedef int (*hxc__connect_fn)(hxc__transport **out, hxc__reactor *r, const hxc__endpoint *ep,
                               const hxc__transport_handler *h, void *ud);

/** The socket transport: DNS (evdns), TCP, TLS (from the next loop turn). */
int hxc__transport_connect(hxc__transport **out, hxc__reactor *r, const hxc__endpoint *ep,
                           const hxc__transport_handler *h, void *ud);

/* The operations, for any transport (see hxc__transport_ops). */
static inline int hxc__transport_write(hxc__transport *t, const void *data, size_t len)
{
    return t->ops->write(t, data, len);
}
static inline int hxc__transport_write_ref(hxc__transport *t, const void *data, size_t len)
{
    return t->ops->write_ref(t, data, len);
}
static inline size_t hxc__transport_pending(const hxc__transport *t)
{
    return t->ops->pending(t);
}
static inline int hxc__transport_read_drained(const hxc__transport *t)
{
    return t->ops->read_drained(t);
}
static inline int hxc__transport_read_limited(const hxc__transport *t)
{
    return t->ops->read_limited(t);
}
static inline int hxc__transport_full(hxc__transport *t) { return t->ops->full(t); }
static inline void hxc__transport_pause_read(hxc__transport *t, int paused)
{
    t->ops->pause_read(t, paused);
}
static inline int hxc__transport_is_alive(hxc__transport *t) { return t->ops->is_alive(t); }
static inline const char *hxc__transport_alpn(const hxc__transport *t)
{
    return t->ops->alpn(t);
}
static inline void hxc__transport_times_get(const hxc__transport *t, hxc__transport_times *out)
{
    t->ops->times_get(t, out);
}
/** Closes and frees (see the table). NULL ok. */
static inline void hxc__transport_free(hxc__transport *t, int graceful)
{
    if (t != NULL)
        t->ops->free(t, graceful);
}

/* TLS settings shared by every connection of a client. */
typedef struct hxc__tls_opts {
    int insecure;
    const char *ca_file;
    const char *ca_path;
} hxc__tls_opts;

int hxc__tls_ctx_new(hxc__tls_ctx **out, const hxc__tls_opts *o, char *detail, size_t dlen);
void hxc__tls_ctx_free(hxc__tls_ctx *c);

#endif
