/* SPDX-License-Identifier: MIT */
/*
 * transport/tls.c - SSL_CTX from the client's settings and SSL objects for
 * connections: verification on by default (chain + host name or IP), TLS
 * 1.2 minimum, no compression, ALPN, a socket BIO that never raises SIGPIPE.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/internal.h"
#include "core/mem.h"
#include "transport/tls.h"

static BIO_METHOD *sock_method;

/* The fd lives in the BIO's data pointer, cast, to avoid an allocation. */
static int fd_of(BIO *b) { return (int)(intptr_t)BIO_get_data(b); }

static int bio_write(BIO *b, const char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = send(fd_of(b), data, (size_t)len, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_write(b);
        return -1;
    }
    return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n = recv(fd_of(b), data, (size_t)len, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            BIO_set_retry_read(b);
        return -1;
    }
    if (n == 0)
        BIO_set_flags(b, BIO_FLAGS_IN_EOF);
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF:
        return BIO_test_flags(b, BIO_FLAGS_IN_EOF) ? 1 : 0;
    default:
        return 0;
    }
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hxc-socket");
    if (m == NULL)
        return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    sock_method = m; /* one per process, kept for its lifetime */
}

static BIO_METHOD *method(void)
{
    pthread_once(&method_once, make_method);
    return sock_method;
}

int hxc__tls_ctx_new(hxc__tls_ctx **out, const hxc__tls_opts *o, char *detail, size_t dlen)
{
    hxc__tls_ctx *c = hxc__calloc(1, sizeof(*c));
    if (c == NULL)
        return HXC_ENOMEM;
    c->insecure = o->insecure;
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        hxc__free(c);
        return HXC_ENOMEM;
    }
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    /* TLS 1.3: OpenSSL's three suites, AES-128-GCM first as browsers, Go and
     * nghttp2 order them (OpenSSL puts AES-256 first): 128-bit security, and
     * about a third less CPU per byte where the server takes our order.
     * Should it fail, OpenSSL's own list stays: the same suites. */
    (void)SSL_CTX_set_ciphersuites(c->ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
                                           "TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                 SSL_MODE_RELEASE_BUFFERS);
    /* Read ahead: one recv takes up to four 16 KiB records (a socket read per
     * record was a fifth of a load driver's syscalls). The buffer is still
     * released whenever it is empty (an idle connection holds none). */
    SSL_CTX_set_read_ahead(c->ctx, 1);
    SSL_CTX_set_default_read_buffer_len(c->ctx, HXC__READ_BUF);
    SSL_CTX_set_verify(c->ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    int ok;
    if (o->ca_file != NULL || o->ca_path != NULL)
        ok = SSL_CTX_load_verify_locations(c->ctx, o->ca_file, o->ca_path);
    else
        /* The system store as a hashed directory: certificates are read when a
         * chain needs them, instead of parsing the whole bundle (~150 CAs) up
         * front for every client (which cost more than 10 ms per client). */
        ok = SSL_CTX_set_default_verify_dir(c->ctx);
    if (ok != 1) {
        unsigned long e = ERR_get_error();
        snprintf(detail, dlen, "cannot load CA certificates%s%s: %s", o->ca_file ? " from " : "",
                 o->ca_file ? o->ca_file : "", e ? ERR_reason_error_string(e) : "unknown");
        ERR_clear_error();
        SSL_CTX_free(c->ctx);
        hxc__free(c);
        return HXC_ETLS_HANDSHAKE;
    }
    *out = c;
    return 0;
}

void hxc__tls_ctx_free(hxc__tls_ctx *c)
{
    if (c == NULL)
        return;
    SSL_CTX_free(c->ctx);
    hxc__free(c);
}

SSL *hxc__tls_ssl_new(hxc__tls_ctx *c, int fd, const char *host, const unsigned char *alpn,
                      size_t alpn_len)
{
    BIO_METHOD *m = method();
    if (m == NULL)
        return NULL;
    SSL *ssl = SSL_new(c->ctx);
    if (ssl == NULL)
        return NULL;
    BIO *bio = BIO_new(m);
    if (bio == NULL) {
        SSL_free(ssl);
        return NULL;
    }
    BIO_set_data(bio, (void *)(intptr_t)fd);
    SSL_set_bio(ssl, bio, bio);
    SSL_set_connect_state(ssl);

    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    if (!c->insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : SSL_set1_host(ssl, host);
        if (!is_ip)
            X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (ok != 1) {
            SSL_free(ssl);
            return NULL;
        }
    }
    if (!is_ip)
        SSL_set_tlsext_host_name(ssl, host); /* no SNI for IP literals (RFC 6066) */
    if (alpn != NULL && alpn_len > 0)
        SSL_set_alpn_protos(ssl, alpn, (unsigned)alpn_len);
    return ssl;
}

int hxc__tls_error(SSL *ssl, int ret, int fallback, char *detail, size_t dlen)
{
    int e = SSL_get_error(ssl, ret);
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK && !SSL_is_init_finished(ssl)) {
        snprintf(detail, dlen, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
        ERR_clear_error();
        return HXC_ETLS_VERIFY;
    }
    unsigned long code = ERR_peek_last_error();
    if (e == SSL_ERROR_SYSCALL && code == 0) {
        int err = errno;
        snprintf(detail, dlen, "%s",
                 ret == 0 || err == 0 ? "connection closed by peer" : strerror(err));
    } else if (code != 0) {
        char buf[256];
        ERR_error_string_n(code, buf, sizeof(buf));
        snprintf(detail, dlen, "%s", buf);
    } else {
        snprintf(detail, dlen, "SSL error %d", e);
    }
    ERR_clear_error();
    return fallback;
}
