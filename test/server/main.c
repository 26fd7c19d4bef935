/* SPDX-License-Identifier: MIT */
/*
 * test/server/main.c - process, listeners, TLS context, signals.
 *
 * Prints "READY http=P https=Q" (and " http2=R" with --http-port2) once
 * listening; exits cleanly on SIGTERM, SIGINT, or when stdin reaches EOF (so
 * a test that dies never leaves it behind). Listens on loopback only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/err.h>

#include "testserver.h"

static ts_server srv;

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (unsigned i = 0; i < inlen;) {
        unsigned l = in[i];
        if (i + 1 + l > inlen)
            break;
        if (l == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1; /* h2 first when offered */
            *outlen = (unsigned char)l;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + l;
    }
    for (unsigned i = 0; i < inlen;) {
        unsigned l = in[i];
        if (i + 1 + l > inlen)
            break;
        if (l == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
            *out = in + i + 1;
            *outlen = (unsigned char)l;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + l;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    int tls = arg != NULL;
    int one = 1;
    if (srv.drop_accepts > 0) {
        /* A connection that dies at once (RST): a connect or TLS handshake
         * failure for the client (--drop-accept, /drop-accept). */
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        close(fd);
        srv.drop_accepts--;
        srv.dropped_accepts++;
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* no Nagle stalls in tests */
    struct bufferevent *bev;
    if (tls) {
        SSL *ssl = SSL_new(srv.ssl_ctx);
        bev = bufferevent_openssl_socket_new(srv.base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
        if (bev)
            bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(srv.base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (bev == NULL) {
        close(fd);
        return;
    }
    srv.connections++;
    if (tls)
        srv.tls_connections++;
    ts_http1_accept(&srv, bev, tls);
}

static struct evconnlistener *listen_on(const char *host, int port, int tls, int *bound)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len;
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return NULL;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return NULL;
        len = sizeof(*a);
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        srv.base, on_accept, tls ? (void *)&srv : NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
        4096, (struct sockaddr *)&ss, (int)len);
    if (l == NULL)
        return NULL;
    struct sockaddr_storage got;
    socklen_t glen = sizeof(got);
    getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&got, &glen);
    *bound = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                             : ((struct sockaddr_in *)&got)->sin_port);
    return l;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopexit(srv.base, NULL);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0 && !(n < 0 && errno == EAGAIN))
        event_base_loopexit(srv.base, NULL);
}

static void usage(void)
{
    fprintf(stderr, "usage: hxc-testserver [--host ADDR] [--http-port N] [--https-port N]\n"
                    "         [--cert FILE --key FILE] [--drop-request-after K] [--quiet]\n"
                    "         [--h2-max-streams N] [--h2-goaway-after K]\n"
                    "         [--http-port2 N] [--drop-accept N]\n"
                    "       hxc-testserver --make-certs DIR\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *cert = NULL, *key = NULL;
    int http_port = -1, https_port = -1, http_port2 = -1;
    srv.drop_after = -1;
    srv.h2_max_streams = 100;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--make-certs") == 0 && v)
            return ts_make_certs(v) == 0 ? 0 : 1;
        else if (strcmp(a, "--host") == 0 && v)
            host = v, i++;
        else if (strcmp(a, "--http-port") == 0 && v)
            http_port = atoi(v), i++;
        else if (strcmp(a, "--http-port2") == 0 && v)
            http_port2 = atoi(v), i++;
        else if (strcmp(a, "--drop-accept") == 0 && v)
            srv.drop_accepts = atol(v), i++;
        else if (strcmp(a, "--https-port") == 0 && v)
            https_port = atoi(v), i++;
        else if (strcmp(a, "--cert") == 0 && v)
            cert = v, i++;
        else if (strcmp(a, "--key") == 0 && v)
            key = v, i++;
        else if (strcmp(a, "--drop-request-after") == 0 && v)
            srv.drop_after = atol(v), i++;
        else if (strcmp(a, "--h2-max-streams") == 0 && v)
            srv.h2_max_streams = atol(v), i++;
        else if (strcmp(a, "--h2-goaway-after") == 0 && v)
            srv.h2_goaway_after = atol(v), i++;
        else if (strcmp(a, "--quiet") == 0)
            srv.quiet = 1;
        else
            usage();
    }
    if (http_port < 0 && https_port < 0)
        http_port = 0;
    if (https_port >= 0 && (cert == NULL || key == NULL))
        usage();
    signal(SIGPIPE, SIG_IGN);
    clock_gettime(CLOCK_MONOTONIC, &srv.started);
    srv.base = event_base_new();
    if (srv.base == NULL)
        return 1;
    if (https_port >= 0) {
        srv.ssl_ctx = SSL_CTX_new(TLS_server_method());
        if (srv.ssl_ctx == NULL || SSL_CTX_use_certificate_chain_file(srv.ssl_ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(srv.ssl_ctx, key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "hxc-testserver: cannot load %s / %s\n", cert, key);
            return 1;
        }
        SSL_CTX_set_alpn_select_cb(srv.ssl_ctx, alpn_select, NULL);
    }
    struct evconnlistener *lh = NULL, *ls = NULL, *l2 = NULL;
    int hp = 0, sp = 0;
    if (http_port >= 0 && (lh = listen_on(host, http_port, 0, &hp)) == NULL) {
        fprintf(stderr, "hxc-testserver: cannot listen on %s port %d\n", host, http_port);
        return 1;
    }
    if (https_port >= 0 && (ls = listen_on(host, https_port, 1, &sp)) == NULL) {
        fprintf(stderr, "hxc-testserver: cannot listen on %s port %d\n", host, https_port);
        return 1;
    }
    /* A second origin (another port) for the cross-origin redirect tests. */
    if (http_port2 >= 0 && (l2 = listen_on(host, http_port2, 0, &srv.http_port2)) == NULL) {
        fprintf(stderr, "hxc-testserver: cannot listen on %s port %d\n", host, http_port2);
        return 1;
    }
    struct event *sigterm = evsignal_new(srv.base, SIGTERM, on_signal, NULL);
    struct event *sigint = evsignal_new(srv.base, SIGINT, on_signal, NULL);
    struct event *in = event_new(srv.base, 0, EV_READ | EV_PERSIST, on_stdin, NULL);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    struct stat sb;
    if (fstat(0, &sb) == 0 && (S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode) || isatty(0)))
        event_add(in, NULL); /* a pipe from the test: its EOF means the test is gone */
    printf("READY http=%d https=%d", hp, sp);
    if (l2) /* only when asked: scripts read "https=Q" as the end of the line */
        printf(" http2=%d", srv.http_port2);
    printf("\n");
    fflush(stdout);
    event_base_dispatch(srv.base);
    event_free(sigterm);
    event_free(sigint);
    event_free(in);
    if (lh)
        evconnlistener_free(lh);
    if (ls)
        evconnlistener_free(ls);
    if (l2)
        evconnlistener_free(l2);
    ts_http1_shutdown();
    event_base_free(srv.base);
    SSL_CTX_free(srv.ssl_ctx);
    return 0;
}
