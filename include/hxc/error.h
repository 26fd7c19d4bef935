/* SPDX-License-Identifier: MIT */
/*
 * hxc/error.h - one error enum for the whole library.
 *
 * Every function that can fail returns 0 or a negative `enum hxc_error`
 * value (libuv's convention). A failed request also carries a short detail
 * string (the OpenSSL verify reason, the llhttp reason...), see
 * hxc_response_error_detail(). A non-2xx status is NOT an error.
 *
 * The errors fall in categories modelled on HTTPX's exception tree, so that
 * a caller can act on the kind of failure: hxc_error_category().
 */
#ifndef HXC_ERROR_H
#define HXC_ERROR_H

#include "hxc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* XX(name, value, category, message) */
#define HXC_ERROR_MAP(XX)                                                                          \
    XX(EINVAL, -1, USAGE, "invalid argument")                                                      \
    XX(ENOMEM, -2, USAGE, "out of memory")                                                         \
    XX(EBADURL, -3, USAGE, "malformed URL")                                                        \
    XX(EUNSUPPORTED_SCHEME, -4, USAGE, "unsupported URL scheme")                                   \
    XX(EUNSUPPORTED, -5, USAGE, "not supported")                                                   \
    XX(ECLIENT_CLOSED, -6, USAGE, "client is closing or closed")                                   \
    XX(ETIMEOUT_CONNECT, -20, TIMEOUT, "connect timed out")                                        \
    XX(ETIMEOUT_READ, -21, TIMEOUT, "read timed out")                                              \
    XX(ETIMEOUT_WRITE, -22, TIMEOUT, "write timed out")                                            \
    XX(ETIMEOUT_POOL, -23, TIMEOUT, "timed out waiting for a pooled connection")                   \
    XX(ETIMEOUT_TOTAL, -24, TIMEOUT, "request deadline exceeded")                                  \
    XX(EDNS, -40, NETWORK, "could not resolve host")                                               \
    XX(ECONNECT, -41, NETWORK, "could not connect")                                                \
    XX(EREAD, -42, NETWORK, "error while reading from the connection")                             \
    XX(EWRITE, -43, NETWORK, "error while writing to the connection")                              \
    XX(ECLOSED, -44, NETWORK, "connection closed by peer before the response ended")               \
    XX(ETLS_HANDSHAKE, -60, TLS, "TLS handshake failed")                                           \
    XX(ETLS_VERIFY, -61, TLS, "TLS certificate verification failed")                               \
    XX(EPROTO_REMOTE, -80, PROTOCOL, "the server broke the HTTP protocol")                         \
    XX(EPROTO_LOCAL, -81, PROTOCOL, "the request could not be sent as valid HTTP")                 \
    XX(ESTREAM_RESET, -82, PROTOCOL, "the server reset the stream")                                \
    XX(EHEADERS_TOO_LARGE, -83, PROTOCOL, "response headers exceed the limit")                     \
    XX(EBODY_TOO_LARGE, -100, POLICY, "response body exceeds the limit")                           \
    XX(ETOO_MANY_REDIRECTS, -101, POLICY, "too many redirects")                                    \
    XX(EDECODING, -102, POLICY, "could not decode the response body")                              \
    XX(ECANCELLED, -120, CANCELLED, "request cancelled")

/** Error codes: always negative; 0 means success. */
enum hxc_error {
    HXC_OK = 0,
#define HXC__ERR_ENUM(name, value, cat, msg) HXC_##name = value,
    HXC_ERROR_MAP(HXC__ERR_ENUM)
#undef HXC__ERR_ENUM
};

/** What kind of failure an error is (HTTPX: TimeoutException, NetworkError, ...). */
enum hxc_error_category {
    HXC_CAT_NONE = 0,  /**< not an error */
    HXC_CAT_USAGE,     /**< the caller's input: bad argument, URL, scheme */
    HXC_CAT_TIMEOUT,   /**< connect, read, write, pool, total */
    HXC_CAT_NETWORK,   /**< dns, connect, read, write, closed */
    HXC_CAT_TLS,       /**< handshake, verification */
    HXC_CAT_PROTOCOL,  /**< the peer (or we) broke HTTP */
    HXC_CAT_POLICY,    /**< a limit or rule of ours: size, redirects, decoding */
    HXC_CAT_CANCELLED, /**< cancelled by the caller or by abort/close */
    HXC_CAT_UNKNOWN    /**< a value that is not an hxc error */
};

/** A short English sentence for `err`; never NULL ("unknown error" if unknown). */
HXC_EXTERN const char *hxc_strerror(int err);
/** The symbolic name, e.g. "HXC_ETIMEOUT_READ"; never NULL. */
HXC_EXTERN const char *hxc_error_name(int err);
/** The category of `err`. */
HXC_EXTERN enum hxc_error_category hxc_error_category(int err);
/** Nonzero when `err` is one of the timeouts. */
HXC_EXTERN int hxc_error_is_timeout(int err);

#ifdef __cplusplus
}
#endif
#endif
