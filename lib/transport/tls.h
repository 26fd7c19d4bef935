/* SPDX-License-Identifier: MIT */
/*
 * transport/tls.h - OpenSSL glue private to the transport layer.
 */
#ifndef HXC_TRANSPORT_TLS_H
#define HXC_TRANSPORT_TLS_H

#include <openssl/ssl.h>

#include "transport/transport.h"

struct hxc__tls_ctx {
    SSL_CTX *ctx;
    int insecure;
};

/**
 * A client SSL over `fd` through our own socket BIO (send with MSG_NOSIGNAL,
 * so a dead peer never raises SIGPIPE in the embedding process), with SNI
 * (names only), host name or IP verification, and ALPN.
 */
SSL *hxc__tls_ssl_new(hxc__tls_ctx *c, int fd, const char *host, const unsigned char *alpn,
                      size_t alpn_len);
/** Describes the last failure of `ssl` into detail; returns the hxc error. */
int hxc__tls_error(SSL *ssl, int ret, int fallback, char *detail, size_t dlen);

#endif
