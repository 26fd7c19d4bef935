/* SPDX-License-Identifier: MIT */
/*
 * core/url.h - absolute http(s) URLs, parsed once by libevent's evhttp_uri;
 * the parts kept here are what every later check and the connection use, so
 * policy and connecting never see two different parses of one URL.
 */
#ifndef HXC_CORE_URL_H
#define HXC_CORE_URL_H

#include <stdint.h>

typedef struct hxc__url {
    char *scheme;    /* "http" or "https" */
    char *host;      /* without brackets; lower case */
    uint16_t port;   /* explicit or the scheme's default */
    int tls;         /* https */
    int ipv6;        /* host is an IPv6 literal */
    char *target;    /* path[?query], at least "/" */
    char *authority; /* Host header value: host[:port], brackets for IPv6 */
} hxc__url;

/**
 * Parses `s`. Returns 0, HXC_EBADURL, HXC_EUNSUPPORTED_SCHEME or HXC_ENOMEM,
 * with *detail set to a static string saying why (what hxc_url_check gives
 * the user). On error `u` holds nothing to free.
 */
int hxc__url_parse(hxc__url *u, const char *s, const char **detail);
void hxc__url_free(hxc__url *u);

#endif
