/* SPDX-License-Identifier: MIT */
/*
 * transport/tcp.c - the transport: resolve (evdns), connect (nonblocking,
 * each address in turn), optional TLS handshake, then a byte stream with a
 * write queue flushed once per loop turn.
 *
 * Re-entrancy: handler events are delivered only from loop callbacks (the
 * socket's, and the deferred tasks `kick` and `reread`: a read of records
 * OpenSSL holds can come in a later deferred batch of the same turn, after
 * other deferred work such as the client's delivery); the handler may free
 * the transport inside any of them, so after each call the code checks
 * `t->dead` through a guard before touching `t` again.
 *
 * Flow: the write queue's marks (transport.h) tell writers when to stop;
 * one flush writes, and one read callback reads, HXC__IO_BUDGET bytes at
 * most, so the loop turns between them.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/util.h>
#include <openssl/err.h>

#include "core/internal.h"
#include "core/mem.h"
#include "transport/tls.h"
#include "transport/transport.h"

enum state { ST_START, ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_OPEN, ST_DEAD };

/* The DNS request outlives a cancelled transport: evdns may call back later. */
typedef struct dns_ticket {
    struct tcp *t;
} dns_ticket;

typedef struct tcp {
    hxc__transport base; /* first: the table */
    hxc__reactor *r;
    const hxc__transport_handler *h;
    void *ud;
    enum state state;
    int fd;
    hxc__io io;
    SSL *ssl;
    hxc__tls_ctx *tls;
    char *host;
    uint16_t port;
    unsigned char alpn_offer[64];
    size_t alpn_offer_len;
    char alpn[32];

    dns_ticket *ticket;
    struct evutil_addrinfo *addrs, *next_addr;
    int last_connect_errno;

    struct evbuffer *out;
    hxc__defer kick;   /* starts connecting, or flushes the queue */
    hxc__defer reread; /* TLS: records OpenSSL read ahead wait to be taken */
    int read_paused;
    int drained; /* during on_read: nothing more was waiting in the socket */
    int limited; /* the last read loop stopped at a limit, bytes may be waiting */
    int full;                  /* over the high-water mark, not yet below the low one */
    int write_blocked_on_read; /* TLS wants a read before it can write */
    int read_blocked_on_write; /* TLS wants a write before it can read */
    int *dead_flag;            /* set when freed during a callback */

    double t0, t_dns, t_connect, t_tls;
    hxc__transport_times times;
} tcp;

static void flush(tcp *t);
static void start_connect(tcp *t);
static void update_io(tcp *t);
static void reread_if_held(tcp *t);

/* Calls into the owner; returns nonzero if the transport was freed meanwhile. */
#define GUARDED(t, call)                                                                           \
    ({                                                                                             \
        int dead_ = 0;                                                                             \
        int *prev_ = (t)->dead_flag;                                                               \
        (t)->dead_flag = &dead_;                                                                   \
        call;                                                                                      \
        if (!dead_)                                                                                \
            (t)->dead_flag = prev_;                                                                \
        else if (prev_)                                                                            \
            *prev_ = 1;                                                                            \
        dead_;                                                                                     \
    })

static void close_fd(tcp *t)
{
    if (t->fd >= 0) {
        hxc__io_stop(&t->io);
        close(t->fd);
        t->fd = -1;
    }
}

static void fail(tcp *t, int err, const char *detail)
{
    enum state st = t->state;
    t->state = ST_DEAD;
    close_fd(t);
    if (t->ssl) {
        SSL_free(t->ssl);
        t->ssl = NULL;
    }
    if (st == ST_OPEN)
        t->h->on_closed(t->ud, err, detail);
    else
        t->h->on_connected(t->ud, err, detail);
}

static void connected(tcp *t)
{
    t->state = ST_OPEN;
    double now = hxc__now();
    if (t->ssl) {
        t->times.tls = now - t->t_tls;
        const unsigned char *p;
        unsigned len;
        SSL_get0_alpn_selected(t->ssl, &p, &len);
        if (len > 0) {
            /* Only a protocol we offered is acceptable. */
            int offered = 0;
            for (size_t i = 0; i < t->alpn_offer_len;) {
                size_t l = t->alpn_offer[i];
                if (l == len && memcmp(t->alpn_offer + i + 1, p, len) == 0)
                    offered = 1;
                i += 1 + l;
            }
            if (!offered || len >= sizeof(t->alpn)) {
                t->state = ST_HANDSHAKE;
                fail(t, HXC_ETLS_HANDSHAKE, "server selected an ALPN protocol we did not offer");
                return;
            }
            memcpy(t->alpn, p, len);
            t->alpn[len] = '\0';
        }
    }
    update_io(t);
    if (GUARDED(t, t->h->on_connected(t->ud, 0, NULL)))
        return;
    reread_if_held(t); /* the server's first frames may have come with the handshake */
    if (evbuffer_get_length(t->out) > 0)
        flush(t);
}

static void do_handshake(tcp *t)
{
    ERR_clear_error();
    int rv = SSL_do_handshake(t->ssl);
    if (rv == 1) {
        connected(t);
        return;
    }
    int e = SSL_get_error(t->ssl, rv);
    if (e == SSL_ERROR_WANT_READ) {
        hxc__io_want(&t->io, HXC__IO_READ);
    } else if (e == SSL_ERROR_WANT_WRITE) {
        hxc__io_want(&t->io, HXC__IO_WRITE);
    } else {
        /* Cut by the network (a reset, the peer gone: SSL_ERROR_SYSCALL, or
         * EOF in the middle) is a connect failure, as HTTPX's ConnectError,
         * and may be retried; TLS's own refusals and a certificate are not. */
        unsigned long code = ERR_peek_last_error();
        int io = e == SSL_ERROR_SYSCALL ||
                 (e == SSL_ERROR_SSL && ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
        char detail[352], why[300];
        int err = hxc__tls_error(t->ssl, rv, HXC_ETLS_HANDSHAKE, why, sizeof(why));
        if (io && err == HXC_ETLS_HANDSHAKE) {
            err = HXC_ECONNECT;
            snprintf(detail, sizeof(detail), "TLS handshake cut short: %s", why);
        } else {
            snprintf(detail, sizeof(detail), "%s", why);
        }
        fail(t, err, detail);
    }
}

static void on_tcp_connected(tcp *t)
{
    double now = hxc__now();
    t->times.connect = now - t->t_connect;
    int one = 1;
    setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (t->tls == NULL) {
        connected(t);
        return;
    }
    t->state = ST_HANDSHAKE;
    t->t_tls = now;
    t->ssl = hxc__tls_ssl_new(t->tls, t->fd, t->host, t->alpn_offer_len ? t->alpn_offer : NULL,
                              t->alpn_offer_len);
    if (t->ssl == NULL) {
        fail(t, HXC_ETLS_HANDSHAKE, "could not set up the TLS session");
        return;
    }
    do_handshake(t);
}

/* SSL_get_error needs an empty error queue before each SSL_read/SSL_write.
 * Clearing it walks all its slots every time (visible per 16 KiB read);
 * looking first is cheap and nearly always finds it empty. */
static void clear_tls_errors(void)
{
    if (ERR_peek_error() != 0)
        ERR_clear_error();
}

/* OpenSSL reads ahead (up to HXC__READ_BUF per recv): records it holds
 * make the socket look idle, so whenever reading stops for another reason
 * than "nothing more" (the round limit, a pause now lifted, the end of the
 * handshake), a deferred read takes them. */
static void reread_if_held(tcp *t)
{
    if (t->ssl != NULL && t->state == ST_OPEN && !t->read_paused && SSL_has_pending(t->ssl))
        hxc__defer_schedule(t->r, &t->reread);
}

/* Up to 64 reads, and HXC__IO_BUDGET bytes, per callback: what is left
 * waits for the next loop turn (the socket stays readable; records OpenSSL
 * holds are taken by the deferred read, which also runs once per turn). */
static int read_into(tcp *t, uint8_t *buf, size_t cap)
{
    t->limited = 0;
    size_t got = 0;
    for (int rounds = 0; rounds < 64 && got < HXC__IO_BUDGET && !t->read_paused; rounds++) {
        ssize_t n;
        if (t->ssl) {
            clear_tls_errors();
            int rv = SSL_read(t->ssl, buf, (int)cap);
            if (rv <= 0) {
                int e = SSL_get_error(t->ssl, rv);
                if (e == SSL_ERROR_WANT_READ)
                    return 0;
                if (e == SSL_ERROR_WANT_WRITE) {
                    t->read_blocked_on_write = 1;
                    update_io(t);
                    return 0;
                }
                if (e == SSL_ERROR_ZERO_RETURN) {
                    fail(t, 0, "closed by peer");
                    return -1;
                }
                unsigned long code = ERR_peek_last_error();
                if ((e == SSL_ERROR_SSL &&
                     ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
                    (e == SSL_ERROR_SYSCALL && code == 0 && rv == 0)) {
                    ERR_clear_error();
                    fail(t, HXC_ECLOSED, "connection closed without TLS close_notify");
                    return -1;
                }
                char detail[320];
                int err = hxc__tls_error(t->ssl, rv, HXC_EREAD, detail, sizeof(detail));
                fail(t, err, detail);
                return -1;
            }
            n = rv;
        } else {
            n = recv(t->fd, buf, cap, 0);
            if (n == 0) {
                fail(t, 0, "closed by peer");
                return -1;
            }
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    return 0;
                fail(t, HXC_EREAD, strerror(errno));
                return -1;
            }
        }
        got += (size_t)n;
        /* A short read of cleartext drains the socket: these are the last
         * bytes of this read (hxc__transport_read_drained). */
        t->drained = !t->ssl && (size_t)n < cap;
        if (GUARDED(t, t->h->on_read(t->ud, buf, (size_t)n)))
            return -1;
        if (t->state != ST_OPEN)
            return -1;
        if (!t->ssl && (size_t)n < cap)
            return 0; /* short read: the socket is drained */
    }
    /* Stopped by a limit (or a pause): more may be waiting, in the socket or
     * in OpenSSL (hxc__transport_read_limited). */
    t->limited = 1;
    reread_if_held(t); /* the rest may be held */
    return 0;
}

/* Reads what the socket (and OpenSSL) has, into the reactor's buffer, or a
 * smaller one on the stack if that one is in use (a read inside a read) or
 * cannot be made. 0, or -1 when the transport failed or was freed. */
static int read_some(tcp *t)
{
    hxc__reactor *r = t->r;
    if (r->read_buf == NULL && !r->read_buf_busy)
        r->read_buf = hxc__malloc(HXC__READ_BUF);
    if (r->read_buf == NULL || r->read_buf_busy) {
        uint8_t small[16384];
        return read_into(t, small, sizeof(small));
    }
    r->read_buf_busy = 1;
    int rv = read_into(t, r->read_buf, HXC__READ_BUF);
    r->read_buf_busy = 0;
    return rv;
}

static void reread_cb(hxc__defer *d, void *arg)
{
    (void)d;
    tcp *t = arg;
    if (t->state == ST_OPEN && !t->read_paused && read_some(t) == 0)
        update_io(t);
}

static void io_cb(hxc__io *io, int events, void *arg)
{
    tcp *t = arg;
    (void)io;
    switch (t->state) {
    case ST_CONNECTING: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == EINPROGRESS)
            return;
        if (err != 0) {
            t->last_connect_errno = err;
            close_fd(t);
            start_connect(t); /* next address, if any */
            return;
        }
        on_tcp_connected(t);
        return;
    }
    case ST_HANDSHAKE:
        do_handshake(t);
        return;
    case ST_OPEN:
        break;
    default:
        return;
    }
    if (events & HXC__IO_READ) {
        if (t->write_blocked_on_read) {
            t->write_blocked_on_read = 0;
            int dead = GUARDED(t, flush(t));
            if (dead || t->state != ST_OPEN)
                return;
        }
        if (read_some(t) != 0)
            return;
    }
    if (events & HXC__IO_WRITE) {
        if (t->read_blocked_on_write) {
            t->read_blocked_on_write = 0;
            if (read_some(t) != 0)
                return;
        }
        flush(t);
        return;
    }
    update_io(t);
}

static void update_io(tcp *t)
{
    if (t->state != ST_OPEN || t->fd < 0)
        return;
    int want = 0;
    if (!t->read_paused || t->write_blocked_on_read)
        want |= HXC__IO_READ;
    if ((evbuffer_get_length(t->out) > 0 && !t->write_blocked_on_read) || t->read_blocked_on_write)
        want |= HXC__IO_WRITE;
    hxc__io_want(&t->io, want);
}

static void start_connect(tcp *t)
{
    while (t->next_addr != NULL) {
        struct evutil_addrinfo *ai = t->next_addr;
        t->next_addr = ai->ai_next;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
            /* Out of descriptors: no other address will do better. */
            t->state = ST_CONNECTING;
            fail(t, HXC__ENOFD, strerror(errno));
            return;
        }
        if (fd < 0) {
            t->last_connect_errno = errno;
            continue;
        }
        t->fd = fd;
        t->state = ST_CONNECTING;
        t->t_connect = hxc__now();
        hxc__io_init(t->r, &t->io, fd, io_cb, t);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            on_tcp_connected(t);
            return;
        }
        if (errno == EINPROGRESS) {
            hxc__io_want(&t->io, HXC__IO_WRITE);
            return;
        }
        t->last_connect_errno = errno;
        close_fd(t);
    }
    char detail[160];
    snprintf(detail, sizeof(detail), "%s port %u: %s", t->host, (unsigned)t->port,
             t->last_connect_errno ? strerror(t->last_connect_errno) : "no address");
    t->state = ST_CONNECTING;
    fail(t, HXC_ECONNECT, detail);
}

static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
    dns_ticket *ticket = arg;
    tcp *t = ticket->t;
    hxc__free(ticket);
    if (t == NULL) { /* the transport was freed while resolving */
        if (res)
            evutil_freeaddrinfo(res);
        return;
    }
    t->ticket = NULL;
    t->times.dns = hxc__now() - t->t_dns;
    if (result != 0 || res == NULL) {
        char detail[300];
        snprintf(detail, sizeof(detail), "%s: %s", t->host,
                 result ? evutil_gai_strerror(result) : "no address");
        if (res)
            evutil_freeaddrinfo(res);
        t->state = ST_RESOLVING;
        fail(t, HXC_EDNS, detail);
        return;
    }
    t->addrs = t->next_addr = res;
    start_connect(t);
}

static void resolve(tcp *t)
{
    t->state = ST_RESOLVING;
    t->t0 = t->t_dns = hxc__now();
    struct evutil_addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)t->port);

    /* Numeric hosts need no resolver. */
    struct evutil_addrinfo *res = NULL;
    hints.ai_flags = EVUTIL_AI_NUMERICHOST | EVUTIL_AI_NUMERICSERV;
    if (evutil_getaddrinfo(t->host, port, &hints, &res) == 0 && res != NULL) {
        t->times.dns = 0;
        t->addrs = t->next_addr = res;
        start_connect(t);
        return;
    }
    hints.ai_flags = EVUTIL_AI_NUMERICSERV | EVUTIL_AI_ADDRCONFIG;
    struct evdns_base *dns = hxc__reactor_dns(t->r);
    if (dns == NULL) {
        fail(t, HXC_EDNS, "no DNS resolver available");
        return;
    }
    dns_ticket *ticket = hxc__calloc(1, sizeof(*ticket));
    if (ticket == NULL) {
        fail(t, HXC_ENOMEM, "out of memory");
        return;
    }
    ticket->t = t;
    t->ticket = ticket;
    /* May call dns_cb before returning (hosts file): that is fine, we are on the loop. */
    evdns_getaddrinfo(dns, t->host, port, &hints, dns_cb, ticket);
}

static void kick_cb(hxc__defer *d, void *arg)
{
    (void)d;
    tcp *t = arg;
    if (t->state == ST_START)
        resolve(t);
    else if (t->state == ST_OPEN)
        flush(t);
}

static const hxc__transport_ops tcp_ops;

int hxc__transport_connect(hxc__transport **out, hxc__reactor *r, const hxc__endpoint *ep,
                           const hxc__transport_handler *h, void *ud)
{
    tcp *t = hxc__calloc(1, sizeof(*t));
    if (t == NULL)
        return HXC_ENOMEM;
    t->base.ops = &tcp_ops;
    t->r = r;
    t->h = h;
    t->ud = ud;
    t->fd = -1;
    t->state = ST_START;
    t->tls = ep->tls;
    t->port = ep->port;
    t->host = hxc__strdup(ep->host);
    t->out = evbuffer_new();
    if (t->host == NULL || t->out == NULL || ep->alpn_len > sizeof(t->alpn_offer)) {
        int rv = t->host && t->out ? HXC_EINVAL : HXC_ENOMEM;
        hxc__free(t->host);
        if (t->out)
            evbuffer_free(t->out);
        hxc__free(t);
        return rv;
    }
    if (ep->alpn_len) {
        memcpy(t->alpn_offer, ep->alpn, ep->alpn_len);
        t->alpn_offer_len = ep->alpn_len;
    }
    hxc__defer_init(&t->kick, kick_cb, t);
    hxc__defer_init(&t->reread, reread_cb, t);
    hxc__defer_schedule(r, &t->kick);
    *out = &t->base;
    return 0;
}

/* Writes what the socket takes, HXC__IO_BUDGET bytes at most: the rest goes
 * when the socket is writable on a later loop turn (a peer that reads as fast
 * as we write must not hold the loop for a whole upload). */
static void flush(tcp *t)
{
    if (t->state != ST_OPEN)
        return;
    /* The queue's length is kept here: libevent's is a call each time. */
    size_t before = evbuffer_get_length(t->out), left = before;
    while (left > 0 && before - left < HXC__IO_BUDGET) {
        if (t->ssl) {
            size_t len = left;
            if (len > 16384)
                len = 16384;
            unsigned char *p = evbuffer_pullup(t->out, (ev_ssize_t)len);
            clear_tls_errors();
            int rv = SSL_write(t->ssl, p, (int)len);
            if (rv <= 0) {
                int e = SSL_get_error(t->ssl, rv);
                if (e == SSL_ERROR_WANT_WRITE)
                    break;
                if (e == SSL_ERROR_WANT_READ) {
                    t->write_blocked_on_read = 1;
                    break;
                }
                char detail[320];
                int err = hxc__tls_error(t->ssl, rv, HXC_EWRITE, detail, sizeof(detail));
                fail(t, err, detail);
                return;
            }
            evbuffer_drain(t->out, (size_t)rv);
            left -= (size_t)rv;
        } else {
            struct evbuffer_iovec v[64];
            int n = evbuffer_peek(t->out, -1, NULL, v, 64);
            if (n > 64)
                n = 64;
            /* One sendmsg may take a whole static body (by reference) if the
             * peer reads as fast: it is offered the budget's rest at most. */
            size_t room = HXC__IO_BUDGET - (before - left);
            struct iovec iov[64];
            for (int i = 0; i < n; i++) {
                iov[i].iov_base = v[i].iov_base;
                iov[i].iov_len = v[i].iov_len < room ? v[i].iov_len : room;
                room -= iov[i].iov_len;
                if (room == 0)
                    n = i + 1;
            }
            struct msghdr msg;
            memset(&msg, 0, sizeof(msg));
            msg.msg_iov = iov;
            msg.msg_iovlen = (size_t)n;
            ssize_t w = sendmsg(t->fd, &msg, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    break;
                fail(t, HXC_EWRITE, strerror(errno));
                return;
            }
            evbuffer_drain(t->out, (size_t)w);
            left -= (size_t)w;
        }
    }
    update_io(t);
    size_t after = left;
    if (after <= HXC__WRITE_LOW)
        t->full = 0;
    if (after < before && t->h->on_drained)
        t->h->on_drained(t->ud, after == 0); /* progress: all of it, or some */
}

static int queue_check(tcp *t)
{
    if (t->state == ST_DEAD)
        return HXC_ECLOSED;
    if (t->state == ST_OPEN)
        hxc__defer_schedule(t->r, &t->kick);
    return 0;
}

static int tcp_write(hxc__transport *bt, const void *data, size_t len)
{
    tcp *t = (tcp *)bt;
    int rv = queue_check(t);
    if (rv != 0)
        return rv;
    return evbuffer_add(t->out, data, len) == 0 ? 0 : HXC_ENOMEM;
}

static int tcp_write_ref(hxc__transport *bt, const void *data, size_t len)
{
    tcp *t = (tcp *)bt;
    int rv = queue_check(t);
    if (rv != 0)
        return rv;
    if (len < 4096) /* small pieces are cheaper copied than tracked */
        return evbuffer_add(t->out, data, len) == 0 ? 0 : HXC_ENOMEM;
    return evbuffer_add_reference(t->out, data, len, NULL, NULL) == 0 ? 0 : HXC_ENOMEM;
}

static size_t tcp_pending(const hxc__transport *bt)
{
    return evbuffer_get_length(((const tcp *)bt)->out);
}

static int tcp_read_drained(const hxc__transport *bt) { return ((const tcp *)bt)->drained; }

static int tcp_read_limited(const hxc__transport *bt) { return ((const tcp *)bt)->limited; }

/* Looked at when a writer asks, not at every write (a hundred small frames
 * per turn): the flag is set here and cleared by a flush below the low mark. */
static int tcp_full(hxc__transport *bt)
{
    tcp *t = (tcp *)bt;
    if (!t->full && evbuffer_get_length(t->out) >= HXC__WRITE_HIGH)
        t->full = 1;
    return t->full;
}

static void tcp_pause_read(hxc__transport *bt, int paused)
{
    tcp *t = (tcp *)bt;
    t->read_paused = paused;
    update_io(t);
    reread_if_held(t);
}

static int tcp_is_alive(hxc__transport *bt)
{
    tcp *t = (tcp *)bt;
    if (t->state != ST_OPEN)
        return 0;
    if (t->ssl && SSL_has_pending(t->ssl))
        return 0; /* bytes already read (ahead) on an idle connection */
    char c;
    ssize_t n = recv(t->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0)
        return 0; /* EOF */
    if (n > 0)
        return 0; /* unexpected bytes on an idle connection */
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

static const char *tcp_alpn(const hxc__transport *bt) { return ((const tcp *)bt)->alpn; }

static void tcp_times_get(const hxc__transport *bt, hxc__transport_times *out)
{
    *out = ((const tcp *)bt)->times;
}

/* Last words (an HTTP/2 GOAWAY): one nonblocking attempt, no callbacks. */
static void flush_quietly(tcp *t)
{
    for (int i = 0; i < 8 && evbuffer_get_length(t->out) > 0; i++) {
        size_t len = evbuffer_get_length(t->out);
        if (len > 16384)
            len = 16384;
        unsigned char *p = evbuffer_pullup(t->out, (ev_ssize_t)len);
        ssize_t n;
        if (t->ssl) {
            ERR_clear_error();
            int rv = SSL_write(t->ssl, p, (int)len);
            n = rv > 0 ? rv : -1;
        } else {
            n = send(t->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (n <= 0)
            break;
        evbuffer_drain(t->out, (size_t)n);
    }
}

static void tcp_free(hxc__transport *bt, int graceful)
{
    tcp *t = (tcp *)bt;
    if (t == NULL)
        return;
    if (graceful && t->state == ST_OPEN && t->fd >= 0)
        flush_quietly(t);
    if (t->dead_flag)
        *t->dead_flag = 1;
    hxc__defer_cancel(&t->kick);
    hxc__defer_cancel(&t->reread);
    if (t->ticket) {
        t->ticket->t = NULL; /* evdns will still call back; the ticket frees itself */
        t->ticket = NULL;
    }
    if (t->ssl) {
        if (graceful && t->state == ST_OPEN) {
            ERR_clear_error();
            SSL_shutdown(t->ssl); /* best effort close_notify, nonblocking */
        }
        SSL_free(t->ssl);
        t->ssl = NULL;
    }
    close_fd(t);
    if (t->addrs)
        evutil_freeaddrinfo(t->addrs);
    evbuffer_free(t->out);
    hxc__free(t->host);
    ERR_clear_error();
    hxc__free(t);
}

static const hxc__transport_ops tcp_ops = {
    tcp_write,      tcp_write_ref, tcp_pending, tcp_read_drained, tcp_read_limited,
    tcp_full,       tcp_pause_read, tcp_is_alive, tcp_alpn,       tcp_times_get,
    tcp_free,
};
