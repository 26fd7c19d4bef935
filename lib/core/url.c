/* SPDX-License-Identifier: MIT */
/*
 * core/url.c - URL parsing with libevent's evhttp_uri (strict mode).
 * One of the few files outside reactor/ that includes <event2/...>: libevent
 * is our URL parser by design: a well-kept library does the job.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "core/internal.h"
#include "core/mem.h"
#include "core/url.h"

void hxc__url_free(hxc__url *u)
{
    hxc__free(u->scheme);
    hxc__free(u->host);
    hxc__free(u->target);
    hxc__free(u->authority);
    memset(u, 0, sizeof(*u));
}

int hxc__url_parse(hxc__url *u, const char *s, const char **detail)
{
    static const char *none = "";
    *detail = none;
    memset(u, 0, sizeof(*u));
    if (s == NULL || *s == '\0') {
        *detail = "empty URL";
        return HXC_EBADURL;
    }
    size_t slen = strlen(s);
    if (slen > 64 * 1024) {
        *detail = "URL longer than 64 KiB";
        return HXC_EBADURL;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f) {
            *detail = "control character or space in URL";
            return HXC_EBADURL;
        }
    }
    struct evhttp_uri *uri = evhttp_uri_parse_with_flags(s, 0);
    if (uri == NULL) {
        *detail = "URL could not be parsed";
        return HXC_EBADURL;
    }
    int rv = HXC_EBADURL;
    const char *scheme = evhttp_uri_get_scheme(uri);
    const char *host = evhttp_uri_get_host(uri);
    const char *path = evhttp_uri_get_path(uri);
    const char *query = evhttp_uri_get_query(uri);
    int port = evhttp_uri_get_port(uri);

    if (scheme == NULL) {
        *detail = "URL has no scheme";
        goto out;
    }
    if (strcasecmp(scheme, "http") == 0) {
        u->tls = 0;
    } else if (strcasecmp(scheme, "https") == 0) {
        u->tls = 1;
    } else {
        *detail = "only http and https URLs are supported";
        rv = HXC_EUNSUPPORTED_SCHEME;
        goto out;
    }
    if (host == NULL || *host == '\0') {
        *detail = "URL has no host";
        goto out;
    }
    if (evhttp_uri_get_userinfo(uri) != NULL) {
        *detail = "credentials in the URL are not supported; set an Authorization header";
        goto out;
    }
    size_t hlen = strlen(host);
    if (host[0] == '[') {
        if (hlen < 3 || host[hlen - 1] != ']') {
            *detail = "bad IPv6 literal";
            goto out;
        }
        host++;
        hlen -= 2;
        u->ipv6 = 1;
    }
    if (port == 0 || port > 65535) {
        *detail = "bad port";
        goto out;
    }
    u->port = (uint16_t)(port < 0 ? (u->tls ? 443 : 80) : port);

    rv = HXC_ENOMEM;
    u->scheme = hxc__strdup(u->tls ? "https" : "http");
    u->host = hxc__strndup(host, hlen);
    if (u->scheme == NULL || u->host == NULL)
        goto out;
    for (char *p = u->host; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    size_t plen = path && *path ? strlen(path) : 1;
    size_t qlen = query ? strlen(query) + 1 : 0;
    u->target = hxc__malloc(plen + qlen + 1);
    if (u->target == NULL)
        goto out;
    if (path && *path)
        memcpy(u->target, path, plen);
    else
        u->target[0] = '/';
    if (query) {
        u->target[plen] = '?';
        memcpy(u->target + plen + 1, query, qlen - 1);
    }
    u->target[plen + qlen] = '\0';
    if (u->target[0] != '/') {
        *detail = "URL path must be absolute";
        rv = HXC_EBADURL;
        goto out;
    }

    size_t alen = hlen + 2 + 7;
    u->authority = hxc__malloc(alen + 1);
    if (u->authority == NULL)
        goto out;
    int def = u->port == (u->tls ? 443 : 80);
    if (def)
        snprintf(u->authority, alen + 1, u->ipv6 ? "[%s]" : "%s", u->host);
    else
        snprintf(u->authority, alen + 1, u->ipv6 ? "[%s]:%u" : "%s:%u", u->host, (unsigned)u->port);
    rv = 0;
out:
    evhttp_uri_free(uri);
    if (rv == HXC_ENOMEM)
        *detail = "out of memory";
    if (rv != 0)
        hxc__url_free(u);
    return rv;
}
