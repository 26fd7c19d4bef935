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
    /** The kernel took queued bytes: all of them (`all`), or some (progress). */
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

/** Starts connecting (from the next loop turn). 0 or HXC_ENOMEM. */
int hxc__transport_connect(hxc__transport **out, hxc__reactor *r, const hxc__endpoint *ep,
                           const hxc__transport_handler *h, void *ud);
/** Queues bytes (copied). 0, HXC_ENOMEM, or HXC_ECLOSED when dead. */
int hxc__transport_write(hxc__transport *t, const void *data, size_t len);
/** Queues bytes by reference: they must stay valid until drained or freed. */
int hxc__transport_write_ref(hxc__transport *t, const void *data, size_t len);
/** Bytes queued but not yet taken by the kernel. */
size_t hxc__transport_pending(const hxc__transport *t);
/** Stops or resumes reading. */
void hxc__transport_pause_read(hxc__transport *t, int paused);
/**
 * Whether an idle connection looks alive: no EOF, no error, no unexpected
 * bytes waiting (curl's "dead connection" check before reuse).
 */
int hxc__transport_is_alive(hxc__transport *t);
/** The ALPN protocol the server selected ("" if none). */
const char *hxc__transport_alpn(const hxc__transport *t);
void hxc__transport_times_get(const hxc__transport *t, hxc__transport_times *out);
/**
 * Closes and frees. With `graceful`, TLS close_notify is attempted first
 * (best effort, never blocking). No event is delivered afterwards. NULL ok.
 */
void hxc__transport_free(hxc__transport *t, int graceful);

/* TLS settings shared by every connection of a client. */
typedef struct hxc__tls_opts {
    int insecure;
    const char *ca_file;
    const char *ca_path;
} hxc__tls_opts;

int hxc__tls_ctx_new(hxc__tls_ctx **out, const hxc__tls_opts *o, char *detail, size_t dlen);
void hxc__tls_ctx_free(hxc__tls_ctx *c);

#endif
