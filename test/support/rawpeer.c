/* SPDX-License-Identifier: MIT */
/* test/support/rawpeer.c - see rawpeer.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rawpeer.h"

#define MAX_CONNS 256
#define SLICE_MS  50 /* how often a blocked helper looks at the stop flag */

typedef struct conn {
    rawpeer *p;
    int fd;
    int index;
    int closed;
    pthread_t thread;
} conn;

struct rawpeer {
    int lfd;
    int port;
    rawpeer_script script;
    void *arg;
    volatile int stopping;
    pthread_t acceptor;
    pthread_mutex_t mu;
    conn *conns[MAX_CONNS];
    int nconns;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd: 1 ready, 0 timed out, -1 stopping or error. */
static int wait_fd(rawpeer *p, int fd, short events, int timeout_ms)
{
    long long end = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    for (;;) {
        if (p->stopping)
            return -1;
        int slice = SLICE_MS;
        if (end >= 0) {
            long long left = end - now_ms();
            if (left <= 0)
                return 0;
            if (left < slice)
                slice = (int)left;
        }
        struct pollfd pfd = {fd, events, 0};
        int rv = poll(&pfd, 1, slice);
        if (rv > 0)
            return 1;
        if (rv < 0 && errno != EINTR)
            return -1;
    }
}

static void *conn_main(void *a)
{
    conn *c = a;
    c->p->script(c->p, c->fd, c->index, c->p->arg);
    pthread_mutex_lock(&c->p->mu);
    close(c->fd);
    c->closed = 1;
    pthread_mutex_unlock(&c->p->mu);
    return NULL;
}

static void *accept_main(void *a)
{
    rawpeer *p = a;
    while (!p->stopping) {
        if (wait_fd(p, p->lfd, POLLIN, -1) != 1)
            break;
        int fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn *c = calloc(1, sizeof(*c));
        pthread_mutex_lock(&p->mu);
        if (c == NULL || p->nconns == MAX_CONNS) {
            pthread_mutex_unlock(&p->mu);
            free(c);
            close(fd);
            continue;
        }
        c->p = p;
        c->fd = fd;
        c->index = p->nconns;
        p->conns[p->nconns++] = c;
        if (pthread_create(&c->thread, NULL, conn_main, c) != 0) {
            p->conns[--p->nconns] = NULL;
            pthread_mutex_unlock(&p->mu);
            close(fd);
            free(c);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

rawpeer *rawpeer_start(rawpeer_script script, void *arg)
{
    rawpeer *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->script = script;
    p->arg = arg;
    pthread_mutex_init(&p->mu, NULL);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(p->lfd, 128) != 0 || getsockname(p->lfd, (struct sockaddr *)&sa, &len) != 0) {
        if (p->lfd >= 0)
            close(p->lfd);
        free(p);
        return NULL;
    }
    p->port = ntohs(sa.sin_port);
    if (pthread_create(&p->acceptor, NULL, accept_main, p) != 0) {
        close(p->lfd);
        free(p);
        return NULL;
    }
    return p;
}

void rawpeer_stop(rawpeer *p)
{
    if (p == NULL)
        return;
    p->stopping = 1;
    pthread_join(p->acceptor, NULL);
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nconns; i++)
        if (!p->conns[i]->closed)
            shutdown(p->conns[i]->fd, SHUT_RDWR);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nconns; i++) {
        pthread_join(p->conns[i]->thread, NULL);
        free(p->conns[i]);
    }
    close(p->lfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int rawpeer_port(const rawpeer *p) { return p->port; }
int rawpeer_stopping(const rawpeer *p) { return p->stopping; }

int rawpeer_accepted(const rawpeer *p)
{
    rawpeer *m = (rawpeer *)p;
    pthread_mutex_lock(&m->mu);
    int n = m->nconns;
    pthread_mutex_unlock(&m->mu);
    return n;
}

char *rawpeer_url(const rawpeer *p, const char *path, char *buf, size_t len)
{
    snprintf(buf, len, "http://127.0.0.1:%d%s", p->port, path);
    return buf;
}

int rawpeer_send(rawpeer *p, int fd, const void *data, size_t len, int timeout_ms)
{
    const uint8_t *d = data;
    while (len > 0) {
        if (wait_fd(p, fd, POLLOUT, timeout_ms) != 1)
            return -1;
        ssize_t n = send(fd, d, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            return -1;
        d += n;
        len -= (size_t)n;
    }
    return 0;
}

int rawpeer_send_str(rawpeer *p, int fd, const char *s)
{
    return rawpeer_send(p, fd, s, strlen(s), -1);
}

ssize_t rawpeer_recv(rawpeer *p, int fd, void *buf, size_t cap, int timeout_ms)
{
    for (;;) {
        if (wait_fd(p, fd, POLLIN, timeout_ms) != 1)
            return -1;
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        return n;
    }
}

int rawpeer_recv_exact(rawpeer *p, int fd, void *buf, size_t len, int timeout_ms)
{
    uint8_t *b = buf;
    while (len > 0) {
        ssize_t n = rawpeer_recv(p, fd, b, len, timeout_ms);
        if (n <= 0)
            return -1;
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t rawpeer_recv_head(rawpeer *p, int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (rawpeer_recv_exact(p, fd, buf + n, 1, timeout_ms) != 0)
            return -1;
        n++;
        buf[n] = '\0';
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
            return (ssize_t)n;
    }
    return -1;
}

int rawpeer_drain_until_eof(rawpeer *p, int fd, int timeout_ms)
{
    char buf[16384];
    for (;;) {
        ssize_t n = rawpeer_recv(p, fd, buf, sizeof(buf), timeout_ms);
        if (n == 0)
            return 0;
        if (n < 0)
            return -1;
    }
}

int rawpeer_hold(rawpeer *p, int ms)
{
    long long end = ms < 0 ? -1 : now_ms() + ms;
    while (!p->stopping && (end < 0 || now_ms() < end)) {
        struct timespec ts = {0, SLICE_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return p->stopping ? -1 : 0;
}

size_t rawpeer_h2_pack(uint8_t *out, uint8_t type, uint8_t flags, uint32_t stream,
                       const void *payload, uint32_t len)
{
    out[0] = (uint8_t)(len >> 16);
    out[1] = (uint8_t)(len >> 8);
    out[2] = (uint8_t)len;
    out[3] = type;
    out[4] = flags;
    out[5] = (uint8_t)((stream >> 24) & 0x7f);
    out[6] = (uint8_t)(stream >> 16);
    out[7] = (uint8_t)(stream >> 8);
    out[8] = (uint8_t)stream;
    if (len > 0)
        memcpy(out + 9, payload, len);
    return 9 + (size_t)len;
}

int rawpeer_h2_send(rawpeer *p, int fd, uint8_t type, uint8_t flags, uint32_t stream,
                    const void *payload, uint32_t len)
{
    uint8_t hd[9];
    rawpeer_h2_pack(hd, type, flags, stream, NULL, 0);
    hd[0] = (uint8_t)(len >> 16);
    hd[1] = (uint8_t)(len >> 8);
    hd[2] = (uint8_t)len;
    if (rawpeer_send(p, fd, hd, 9, 10000) != 0)
        return -1;
    return len > 0 ? rawpeer_send(p, fd, payload, len, 10000) : 0;
}

int rawpeer_h2_recv(rawpeer *p, int fd, rawpeer_frame *f, int timeout_ms)
{
    uint8_t hd[9];
    if (rawpeer_recv_exact(p, fd, hd, 9, timeout_ms) != 0)
        return -1;
    f->len = (uint32_t)hd[0] << 16 | (uint32_t)hd[1] << 8 | hd[2];
    f->type = hd[3];
    f->flags = hd[4];
    f->stream = ((uint32_t)hd[5] << 24 | (uint32_t)hd[6] << 16 | (uint32_t)hd[7] << 8 | hd[8]) &
                0x7fffffffu;
    uint32_t keep = f->len < sizeof(f->payload) ? f->len : (uint32_t)sizeof(f->payload);
    if (rawpeer_recv_exact(p, fd, f->payload, keep, timeout_ms) != 0)
        return -1;
    for (uint32_t left = f->len - keep; left > 0;) {
        uint8_t sink[4096];
        uint32_t n = left < sizeof(sink) ? left : (uint32_t)sizeof(sink);
        if (rawpeer_recv_exact(p, fd, sink, n, timeout_ms) != 0)
            return -1;
        left -= n;
    }
    return 0;
}

int rawpeer_h2_accept(rawpeer *p, int fd, const uint32_t *settings, size_t n, int timeout_ms)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    char got[24];
    if (rawpeer_recv_exact(p, fd, got, 24, timeout_ms) != 0 || memcmp(got, preface, 24) != 0)
        return -1;
    rawpeer_frame *f = malloc(sizeof(*f));
    if (f == NULL)
        return -1;
    int rv = rawpeer_h2_recv(p, fd, f, timeout_ms);
    int ok = rv == 0 && f->type == RAWPEER_SETTINGS && !(f->flags & RAWPEER_ACK);
    free(f);
    if (!ok || n > 32)
        return -1;
    uint8_t iv[32 * 6];
    for (size_t i = 0; i < n; i++) {
        uint32_t id = settings[2 * i], v = settings[2 * i + 1];
        uint8_t *e = iv + 6 * i;
        e[0] = (uint8_t)(id >> 8), e[1] = (uint8_t)id;
        e[2] = (uint8_t)(v >> 24), e[3] = (uint8_t)(v >> 16), e[4] = (uint8_t)(v >> 8),
        e[5] = (uint8_t)v;
    }
    if (rawpeer_h2_send(p, fd, RAWPEER_SETTINGS, 0, 0, iv, (uint32_t)(6 * n)) != 0)
        return -1;
    return rawpeer_h2_send(p, fd, RAWPEER_SETTINGS, RAWPEER_ACK, 0, NULL, 0);
}

int32_t rawpeer_h2_next_request(rawpeer *p, int fd, int timeout_ms)
{
    rawpeer_frame *f = malloc(sizeof(*f));
    if (f == NULL)
        return -1;
    int32_t id = -1;
    while (rawpeer_h2_recv(p, fd, f, timeout_ms) == 0) {
        if (f->type == RAWPEER_HEADERS) {
            id = (int32_t)f->stream;
            break;
        }
    }
    free(f);
    return id;
}

size_t rawpeer_hpack(uint8_t *out, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), n = 0;
    out[n++] = 0x00; /* literal without indexing, new name */
    out[n++] = (uint8_t)nl;
    memcpy(out + n, name, nl);
    n += nl;
    out[n++] = (uint8_t)vl;
    memcpy(out + n, value, vl);
    return n + vl;
}

int rawpeer_h2_respond(rawpeer *p, int fd, uint32_t stream, int status, int end_stream,
                       const char *const *fields)
{
    uint8_t block[16384];
    char st[16];
    snprintf(st, sizeof(st), "%d", status);
    size_t n = rawpeer_hpack(block, ":status", st);
    for (size_t i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
        if (n + strlen(fields[i]) + strlen(fields[i + 1]) + 3 > sizeof(block))
            return -1;
        n += rawpeer_hpack(block + n, fields[i], fields[i + 1]);
    }
    uint8_t flags = RAWPEER_END_HEADERS | (end_stream ? RAWPEER_END_STREAM : 0);
    return rawpeer_h2_send(p, fd, RAWPEER_HEADERS, flags, stream, block, (uint32_t)n);
}
