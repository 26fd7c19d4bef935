/* SPDX-License-Identifier: MIT */
/*
 * test/server/http1.c - HTTP/1.1 connections and the routes.
 *
 * Requests are parsed with llhttp; each complete request pauses the parser
 * until its response is done (some routes answer later, from a timer), then
 * parsing resumes on what is left in the input. Routes that misbehave on
 * purpose write raw bytes and close; see docs/internals/test-server.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <llhttp.h>
#include <zlib.h>

#include "testserver.h"

#define MAX_SIZE (1L << 30)

typedef struct conn conn;
typedef struct str {
    char *p;
    size_t len, cap;
} str;

struct conn {
    conn *next, *prev;
    ts_server *srv;
    struct bufferevent *bev;
    int tls;
    llhttp_t parser;
    long requests;
    /* the request being read */
    str url, raw_headers, body;
    int last_was_value;
    int busy;        /* a response is in progress */
    int close_after; /* close once the output drained */
    int noread;
    /* timers for delay, drip and stall */
    struct event *timer;
    long drip_left, drip_ms, drip_pos;
    long stall_ms, stall_period;
    ts_gen *gen; /* routes_policy.c: a body still being made (chunked) */
};

static conn *all_conns;
static llhttp_settings_t settings;

static void str_add(str *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (q == NULL)
            abort();
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void str_free(str *s)
{
    free(s->p);
    memset(s, 0, sizeof(*s));
}

static void conn_free(conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        all_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->timer)
        event_free(c->timer);
    ts_gen_free(c->gen);
    bufferevent_free(c->bev);
    str_free(&c->url);
    str_free(&c->raw_headers);
    str_free(&c->body);
    c->srv->open_conns--;
    free(c);
}

void ts_http1_shutdown(void)
{
    while (all_conns)
        conn_free(all_conns);
}

static struct evbuffer *out(conn *c) { return bufferevent_get_output(c->bev); }

static int is_head(conn *c) { return c->parser.method == HTTP_HEAD; }

static const char *reason_for(int code)
{
    switch (code) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void process(conn *c);

/* The response is complete: close if asked, else parse what follows. */
static void finish(conn *c)
{
    c->busy = 0;
    if (c->close_after) {
        if (evbuffer_get_length(out(c)) == 0)
            conn_free(c);
        return; /* freed by the write callback once drained */
    }
    llhttp_resume(&c->parser);
    process(c);
}

/* Writes a complete response with Content-Length. */
static void respond(conn *c, int code, const char *extra, const void *body, size_t len)
{
    int keep = llhttp_should_keep_alive(&c->parser);
    evbuffer_add_printf(out(c), "HTTP/1.1 %d %s\r\n", code, reason_for(code));
    if (code != 204 && code != 304 && code >= 200)
        evbuffer_add_printf(out(c), "Content-Length: %zu\r\nContent-Type: text/plain\r\n", len);
    if (!keep) {
        evbuffer_add_printf(out(c), "Connection: close\r\n");
        c->close_after = 1;
    }
    if (extra)
        evbuffer_add(out(c), extra, strlen(extra));
    evbuffer_add(out(c), "\r\n", 2);
    if (!is_head(c) && len > 0 && code != 204 && code != 304)
        evbuffer_add(out(c), body, len);
    finish(c);
}

static void respond_text(conn *c, int code, const char *text)
{
    respond(c, code, NULL, text, strlen(text));
}

/* Raw bytes, then close: the misbehaving routes. */
static void raw_close(conn *c, const char *bytes, size_t len)
{
    evbuffer_add(out(c), bytes, len);
    c->close_after = 1;
    finish(c);
}

static void pattern(char *p, long n)
{
    for (long i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
}

static long num_after(const char *path, const char *prefix, long dflt)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0)
        return dflt;
    long v = strtol(path + pl, NULL, 10);
    if (v < 0)
        v = 0;
    return v > MAX_SIZE ? MAX_SIZE : v;
}

static long query(const char *url, const char *key, long dflt)
{
    const char *q = strchr(url, '?');
    size_t kl = strlen(key);
    while (q) {
        q++;
        if (strncmp(q, key, kl) == 0 && q[kl] == '=') {
            long v = strtol(q + kl + 1, NULL, 10);
            if (v < 0)
                v = 0;
            return v > MAX_SIZE ? MAX_SIZE : v;
        }
        q = strchr(q, '&');
    }
    return dflt;
}

static void route_bytes(conn *c, long n)
{
    char *b = malloc((size_t)n + 1);
    if (b == NULL)
        abort();
    pattern(b, n);
    respond(c, 200, NULL, b, (size_t)n);
    free(b);
}

static void route_chunked(conn *c, long n, long chunk, int trailer)
{
    if (chunk <= 0)
        chunk = 1000;
    evbuffer_add_printf(out(c),
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Type: text/plain\r\n%s\r\n",
                        trailer ? "Trailer: X-Trailer, X-Sum\r\n" : "");
    if (!is_head(c)) {
        char *b = malloc((size_t)n + 1);
        if (b == NULL)
            abort();
        pattern(b, n);
        for (long off = 0; off < n; off += chunk) {
            long len = n - off < chunk ? n - off : chunk;
            evbuffer_add_printf(out(c), "%lx\r\n", len);
            evbuffer_add(out(c), b + off, (size_t)len);
            evbuffer_add(out(c), "\r\n", 2);
        }
        free(b);
        evbuffer_add_printf(out(c), "0\r\n");
        if (trailer)
            evbuffer_add_printf(out(c), "X-Trailer: yes\r\nX-Sum: %ld\r\n", n);
        evbuffer_add(out(c), "\r\n", 2);
    }
    if (!llhttp_should_keep_alive(&c->parser))
        c->close_after = 1;
    finish(c);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    respond_text(arg, 200, "hello\n");
}

static void on_drip(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (c->drip_left <= 0) {
        finish(c);
        return;
    }
    char b = (char)('a' + c->drip_pos++ % 26);
    evbuffer_add(out(c), &b, 1);
    c->drip_left--;
    if (c->drip_left == 0) {
        finish(c);
        return;
    }
    struct timeval tv = {c->drip_ms / 1000, (c->drip_ms % 1000) * 1000};
    evtimer_add(c->timer, &tv);
}

int ts_stall_left(const ts_server *s, long ms, long period, struct timeval *left)
{
    if (period <= 0)
        period = 1000;
    if (ms > period)
        ms = period;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long since = (long long)(now.tv_sec - s->started.tv_sec) * 1000000 +
                      (now.tv_nsec - s->started.tv_nsec) / 1000; /* us */
    long long phase = since % (period * 1000LL), until = ms * 1000LL;
    if (phase >= until)
        return 0;
    left->tv_sec = (time_t)((until - phase) / 1000000);
    left->tv_usec = (suseconds_t)((until - phase) % 1000000);
    return 1;
}

static void start_timer_tv(conn *c, event_callback_fn fn, const struct timeval *tv)
{
    if (c->timer)
        event_free(c->timer);
    c->timer = evtimer_new(c->srv->base, fn, c);
    evtimer_add(c->timer, tv);
}

static void start_timer(conn *c, event_callback_fn fn, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    start_timer_tv(c, fn, &tv);
}

/* A /stall request is answered once the stall is over; the timer is checked
 * again when it fires (libevent's coarse clock may wake it a little early). */
static void on_stall(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    struct timeval left;
    if (ts_stall_left(c->srv, c->stall_ms, c->stall_period, &left))
        evtimer_add(c->timer, &left);
    else
        respond_text(c, 200, "hello\n");
}

static void route_stats(conn *c)
{
    char b[200];
    snprintf(b, sizeof(b),
             "{\"connections\":%ld,\"tls_connections\":%ld,\"requests\":%ld,\"goaways\":%ld,"
             "\"max_open_streams\":%ld,\"pushes\":%ld}",
             c->srv->connections, c->srv->tls_connections, c->srv->requests, c->srv->goaways,
             c->srv->max_open_streams, c->srv->pushes);
    respond(c, 200, "Content-Type: application/json\r\n", b, strlen(b));
}

static void route_gzip(conn *c)
{
    str plain = {0};
    for (int i = 0; i < 100; i++)
        str_add(&plain, "hello gzip\n", 11);
    unsigned char z[4096];
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = (unsigned char *)plain.p;
    zs.avail_in = (uInt)plain.len;
    zs.next_out = z;
    zs.avail_out = sizeof(z);
    deflate(&zs, Z_FINISH);
    size_t zl = sizeof(z) - zs.avail_out;
    deflateEnd(&zs);
    str_free(&plain);
    respond(c, 200, "Content-Encoding: gzip\r\n", z, zl);
}

static void route_headers(conn *c, long n, long size)
{
    if (n > 100000)
        n = 100000;
    if (size > 1 << 20)
        size = 1 << 20;
    str h = {0};
    char *v = malloc((size_t)size + 1);
    memset(v, 'v', (size_t)size);
    v[size] = '\0';
    for (long i = 0; i < n; i++) {
        char name[40];
        snprintf(name, sizeof(name), "X-H-%ld: ", i);
        str_add(&h, name, strlen(name));
        str_add(&h, v, (size_t)size);
        str_add(&h, "\r\n", 2);
    }
    free(v);
    respond(c, 200, h.p ? h.p : "", "ok\n", 3);
    str_free(&h);
}

/* /basic-auth and /digest-auth: auth.c decides, each challenge its own field. */
static void route_auth(conn *c, const char *target)
{
    char authz[8192];
    int has = c->raw_headers.p && ts_header_value(c->raw_headers.p, c->raw_headers.len,
                                                  "Authorization", authz, sizeof(authz));
    ts_auth_reply r;
    ts_auth_route(llhttp_method_name(c->parser.method), target, has ? authz : NULL, &r);
    char extra[sizeof(r.www) + 64] = "";
    size_t n = 0;
    for (int i = 0; i < r.n_www; i++)
        n += (size_t)snprintf(extra + n, sizeof(extra) - n, "WWW-Authenticate: %s\r\n", r.www[i]);
    respond(c, r.status, extra, r.body, strlen(r.body));
}

/* ---- routes_policy.c's replies over HTTP/1.1 ---------------------------- */

static void on_pump(evutil_socket_t fd, short what, void *arg);

/* Sends the generated body as chunks while the output stays short; on_write
 * calls again as it drains, a timer when the generator's turn is spent. */
static void pump(conn *c)
{
    unsigned char b[16384];
    while (evbuffer_get_length(out(c)) < (256u << 10)) {
        int eof = 0;
        size_t n = ts_gen_read(c->gen, b, sizeof(b), &eof);
        if (n > 0) {
            evbuffer_add_printf(out(c), "%zx\r\n", n);
            evbuffer_add(out(c), b, n);
            evbuffer_add(out(c), "\r\n", 2);
        }
        if (eof) {
            evbuffer_add(out(c), "0\r\n\r\n", 5);
            ts_gen_free(c->gen);
            c->gen = NULL;
            finish(c);
            return;
        }
        if (n == 0) {
            start_timer(c, on_pump, 0);
            return;
        }
    }
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    ts_gen_new_turn(c->gen);
    pump(c);
}

static void send_reply(conn *c, ts_reply *rep)
{
    if (rep->drop) {
        ts_reply_free(rep);
        conn_free(c);
        return;
    }
    int code = rep->status, bodyless = code == 204 || code == 304 || is_head(c);
    const char *reason = ts_policy_reason(code);
    evbuffer_add_printf(out(c), "HTTP/1.1 %d %s\r\n", code, reason ? reason : reason_for(code));
    for (int i = 0; i < rep->n_fields; i++)
        evbuffer_add_printf(out(c), "%s: %s\r\n", rep->fields[i].name, rep->fields[i].value);
    int chunked = rep->gen != NULL || rep->no_length;
    if (code != 204 && code != 304 && chunked)
        evbuffer_add_printf(out(c), "Transfer-Encoding: chunked\r\n");
    else if (code != 204 && code != 304)
        evbuffer_add_printf(out(c), "Content-Length: %zu\r\n", rep->body_len);
    if (!llhttp_should_keep_alive(&c->parser)) {
        evbuffer_add_printf(out(c), "Connection: close\r\n");
        c->close_after = 1;
    }
    evbuffer_add(out(c), "\r\n", 2);
    if (!bodyless && chunked && rep->body_len > 0)
        evbuffer_add_printf(out(c), "%zx\r\n", rep->body_len);
    if (!bodyless && rep->body_len > 0)
        evbuffer_add(out(c), rep->body, rep->body_len);
    if (!bodyless && chunked && rep->body_len > 0)
        evbuffer_add(out(c), "\r\n", 2);
    if (!bodyless && rep->gen) {
        c->gen = rep->gen;
        rep->gen = NULL;
        ts_reply_free(rep);
        pump(c);
        return;
    }
    if (!bodyless && chunked)
        evbuffer_add(out(c), "0\r\n\r\n", 5);
    ts_reply_free(rep);
    finish(c);
}

/* A route of routes_policy.c? Then it is answered (1). */
static int policy_route(conn *c, const char *target)
{
    ts_request rq = {0};
    ts_reply rep;
    size_t hl = 0;
    const char *h = c->raw_headers.p ? c->raw_headers.p : "";
    char host[256] = "";
    for (const char *p = h; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
        if (strncasecmp(p, "host:", 5) == 0) {
            hl = strcspn(p + 5, "\r\n");
            snprintf(host, sizeof(host), "%.*s", (int)hl, p + 5);
            break;
        }
    rq.method = llhttp_method_name(c->parser.method);
    rq.target = target;
    rq.headers = h;
    rq.headers_len = c->raw_headers.len;
    rq.authority = host + strspn(host, " \t");
    rq.body_len = c->body.len;
    rq.tls = c->tls;
    if (!ts_policy_route(c->srv, &rq, &rep))
        return 0;
    send_reply(c, &rep);
    return 1;
}

static void route(conn *c)
{
    const char *u = c->url.p ? c->url.p : "/";
    char path[1024];
    size_t pl = strcspn(u, "?");
    if (pl >= sizeof(path))
        pl = sizeof(path) - 1;
    memcpy(path, u, pl);
    path[pl] = '\0';

    if (strcmp(path, "/stats") != 0)
        c->srv->requests++;
    if (c->srv->drop_after >= 0 && c->requests > c->srv->drop_after) {
        conn_free(c);
        return;
    }
    if (policy_route(c, u)) {
        /* answered by routes_policy.c (its own paths, shared with HTTP/2) */
    } else if (!strcmp(path, "/") || !strcmp(path, "/hello")) {
        respond_text(c, 200, "hello\n");
    } else if (!strncmp(path, "/bytes/", 7)) {
        route_bytes(c, num_after(path, "/bytes/", 0));
    } else if (!strncmp(path, "/chunked/", 9)) {
        route_chunked(c, num_after(path, "/chunked/", 0), query(u, "chunk", 1000),
                      query(u, "trailer", 0) != 0);
    } else if (!strncmp(path, "/status/", 8)) {
        long code = num_after(path, "/status/", 200);
        if (code < 200 || code > 999)
            code = 500;
        char b[32];
        snprintf(b, sizeof(b), "status %ld\n", code);
        respond_text(c, (int)code, b);
    } else if (!strncmp(path, "/delay/", 7)) {
        start_timer(c, on_delay, num_after(path, "/delay/", 0));
    } else if (!strcmp(path, "/stall")) {
        struct timeval left;
        c->stall_ms = query(u, "ms", 200);
        c->stall_period = query(u, "period", 1000);
        if (ts_stall_left(c->srv, c->stall_ms, c->stall_period, &left))
            start_timer_tv(c, on_stall, &left);
        else
            respond_text(c, 200, "hello\n");
    } else if (!strcmp(path, "/drip")) {
        long n = query(u, "n", 10), ms = query(u, "ms", 100);
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\n\r\n", n);
        c->drip_left = is_head(c) ? 0 : n;
        c->drip_ms = ms;
        c->drip_pos = 0;
        start_timer(c, on_drip, ms);
    } else if (!strcmp(path, "/hang")) {
        /* never answer */
    } else if (!strcmp(path, "/hang-body")) {
        long n = query(u, "n", 1000);
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\n\r\n", n);
        char *b = malloc((size_t)n / 2 + 1);
        pattern(b, n / 2);
        evbuffer_add(out(c), b, (size_t)(n / 2));
        free(b);
    } else if (!strcmp(path, "/echo")) {
        str b = {0};
        char line[64];
        str_add(&b, llhttp_method_name(c->parser.method),
                strlen(llhttp_method_name(c->parser.method)));
        str_add(&b, " ", 1);
        str_add(&b, u, strlen(u));
        snprintf(line, sizeof(line), " HTTP/%d.%d\r\n", c->parser.http_major, c->parser.http_minor);
        str_add(&b, line, strlen(line));
        if (c->raw_headers.len)
            str_add(&b, c->raw_headers.p, c->raw_headers.len);
        str_add(&b, "\r\n", 2);
        if (c->body.len)
            str_add(&b, c->body.p, c->body.len);
        respond(c, 200, NULL, b.p, b.len);
        str_free(&b);
    } else if (!strcmp(path, "/close")) {
        c->close_after = 1;
        respond(c, 200, "Connection: close\r\n", "hello\n", 6);
    } else if (!strcmp(path, "/http10")) {
        const char *r = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello http/1.0\n";
        raw_close(c, r, strlen(r));
    } else if (!strcmp(path, "/eof-body")) {
        long n = query(u, "n", 1000);
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        char *b = malloc((size_t)n + 1);
        pattern(b, n);
        raw_close(c, b, (size_t)n);
        free(b);
    } else if (!strcmp(path, "/interim")) {
        evbuffer_add_printf(out(c),
                            "HTTP/1.1 100 Continue\r\n\r\n"
                            "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
        respond_text(c, 200, "hello\n");
    } else if (!strcmp(path, "/headers")) {
        route_headers(c, query(u, "n", 10), query(u, "size", 10));
    } else if (!strcmp(path, "/repeat-header")) {
        respond(c, 200,
                "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nSet-Cookie: c=3\r\n"
                "X-Multi: one\r\nx-multi: two\r\n",
                "ok\n", 3);
    } else if (!strcmp(path, "/drop")) {
        conn_free(c);
    } else if (!strcmp(path, "/noread")) {
        /* handled at headers-complete; the body is never read */
    } else if (!strcmp(path, "/stats")) {
        route_stats(c);
    } else if (!strcmp(path, "/stats/reset")) {
        c->srv->connections = c->srv->tls_connections = c->srv->requests = c->srv->goaways = 0;
        c->srv->max_open_streams = c->srv->pushes = 0;
        respond_text(c, 200, "reset\n");
    } else if (!strcmp(path, "/tls-info")) {
        /* What the client's TLS handshake carried: SNI and ALPN. */
        char b[512];
        const char *sni = NULL;
        const unsigned char *alpn = NULL;
        unsigned alen = 0;
        SSL *ssl = c->tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
        if (ssl) {
            sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            SSL_get0_alpn_selected(ssl, &alpn, &alen);
        }
        snprintf(b, sizeof(b), "sni=%s alpn=%.*s version=%s\n", sni ? sni : "(none)", (int)alen,
                 alen ? (const char *)alpn : "", ssl ? SSL_get_version(ssl) : "(cleartext)");
        respond_text(c, 200, b);
    } else if (!strcmp(path, "/gzip")) {
        route_gzip(c);
    } else if (!strcmp(path, "/bad/chunk-size")) {
        const char *r =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";
        raw_close(c, r, strlen(r));
    } else if (!strcmp(path, "/bad/cl-conflict")) {
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!";
        raw_close(c, r, strlen(r));
    } else if (!strcmp(path, "/bad/cl-te")) {
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n0\r\n\r\n";
        raw_close(c, r, strlen(r));
    } else if (!strcmp(path, "/bad/truncated")) {
        long n = query(u, "n", 1000);
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\nContent-Length: %ld\r\n\r\n", n);
        char *b = malloc((size_t)n / 2 + 1);
        pattern(b, n / 2);
        raw_close(c, b, (size_t)(n / 2));
        free(b);
    } else if (!strcmp(path, "/bad/truncated-chunked")) {
        const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n";
        raw_close(c, r, strlen(r));
    } else if (!strcmp(path, "/bad/no-status")) {
        raw_close(c, "HELLO WORLD\r\n\r\n", 15);
    } else if (!strcmp(path, "/bad/huge-header")) {
        long n = query(u, "n", 1 << 20);
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\nX-Big: ");
        char *b = malloc((size_t)n + 1);
        memset(b, 'x', (size_t)n);
        evbuffer_add(out(c), b, (size_t)n);
        free(b);
        raw_close(c, "\r\nContent-Length: 2\r\n\r\nok", 25);
    } else if (!strcmp(path, "/bad/many-headers")) {
        long n = query(u, "n", 10000);
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\n");
        for (long i = 0; i < n && i < 1000000; i++)
            evbuffer_add_printf(out(c), "X-%ld: v\r\n", i);
        raw_close(c, "Content-Length: 2\r\n\r\nok", 23);
    } else if (!strcmp(path, "/bad/bare-lf")) {
        const char *r = "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello";
        raw_close(c, r, strlen(r));
    } else if (!strcmp(path, "/bad/extra-after")) {
        evbuffer_add_printf(out(c), "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloXXXXXXXX");
        c->busy = 1; /* keep the connection open, answer nothing more */
    } else if (!strcmp(path, "/bad/204-body")) {
        evbuffer_add_printf(out(c), "HTTP/1.1 204 No Content\r\n\r\nunexpected");
        c->busy = 1;
    } else if (!strcmp(path, "/bad/header-eof")) {
        const char *r = "HTTP/1.1 200 OK\r\nX-One: 1\r\n";
        raw_close(c, r, strlen(r));
    } else if (ts_auth_is_route(path)) {
        route_auth(c, u);
    } else {
        respond_text(c, 404, "not found\n");
    }
}

/* ---- llhttp callbacks ------------------------------------------------- */

#define C(p) ((conn *)(p)->data)

static int on_message_begin(llhttp_t *p)
{
    conn *c = C(p);
    c->url.len = c->raw_headers.len = c->body.len = 0;
    c->last_was_value = 0;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    str_add(&C(p)->url, at, len);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    conn *c = C(p);
    if (c->last_was_value) {
        str_add(&c->raw_headers, "\r\n", 2);
        c->last_was_value = 0;
    }
    str_add(&c->raw_headers, at, len);
    return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
    str_add(&C(p)->raw_headers, ": ", 2);
    C(p)->last_was_value = 1;
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    str_add(&C(p)->raw_headers, at, len);
    C(p)->last_was_value = 1;
    return 0;
}

static int on_headers_complete(llhttp_t *p)
{
    conn *c = C(p);
    if (c->last_was_value)
        str_add(&c->raw_headers, "\r\n", 2);
    c->last_was_value = 0;
    if (c->url.p && strncmp(c->url.p, "/noread", 7) == 0 &&
        (c->url.p[7] == '\0' || c->url.p[7] == '?')) {
        c->noread = 1;
        c->busy = 1;
        c->srv->requests++;
        bufferevent_disable(c->bev, EV_READ);
        return HPE_PAUSED;
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    conn *c = C(p);
    if (c->body.len < (16u << 20))
        str_add(&c->body, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    conn *c = C(p);
    c->requests++;
    c->busy = 1;
    return HPE_PAUSED;
}

/* Parses what is buffered until a request completes (then routes it). */
static void process(conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!c->busy && !c->noread) {
        size_t len = evbuffer_get_length(in);
        if (len == 0)
            return;
        const char *data = (const char *)evbuffer_pullup(in, -1);
        llhttp_errno_t e = llhttp_execute(&c->parser, data, len);
        if (e == HPE_OK) {
            evbuffer_drain(in, len);
            return;
        }
        if (e == HPE_PAUSED) {
            evbuffer_drain(in, (size_t)(llhttp_get_error_pos(&c->parser) - data));
            if (c->noread)
                return;
            route(c); /* may free c */
            return;
        }
        if (!c->srv->quiet)
            fprintf(stderr, "hxc-testserver: bad request: %s\n",
                    llhttp_get_error_reason(&c->parser));
        evbuffer_drain(in, len);
        c->busy = 1;
        c->close_after = 1;
        evbuffer_add_printf(out(c), "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                    "Connection: close\r\n\r\n");
        return;
    }
}

/* HTTP/2? ALPN h2 on TLS, or the connection preface on cleartext. */
static int switch_to_h2(conn *c)
{
    if (c->requests > 0 || c->busy)
        return 0;
    int h2 = 0;
    if (c->tls) {
        SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
        const unsigned char *p = NULL;
        unsigned len = 0;
        if (ssl)
            SSL_get0_alpn_selected(ssl, &p, &len);
        h2 = len == 2 && memcmp(p, "h2", 2) == 0;
    } else {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        static const char preface[] = "PRI * HTTP/2.0";
        size_t n = evbuffer_get_length(in);
        if (n < sizeof(preface) - 1)
            return n > 0 && memcmp(evbuffer_pullup(in, -1), preface, n) == 0 ? -1 : 0;
        h2 = memcmp(evbuffer_pullup(in, (ev_ssize_t)sizeof(preface) - 1), preface,
                    sizeof(preface) - 1) == 0;
    }
    if (!h2)
        return 0;
    struct bufferevent *bev = c->bev;
    ts_server *s = c->srv;
    int tls = c->tls;
    c->bev = NULL;
    /* Hand the socket over: free our state, keep the bufferevent. */
    if (c->prev)
        c->prev->next = c->next;
    else
        all_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    str_free(&c->url);
    str_free(&c->raw_headers);
    str_free(&c->body);
    free(c);
    ts_http2_takeover(s, bev, tls);
    return 1;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    if (switch_to_h2(arg) != 0)
        return;
    process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn *c = arg;
    if (c->gen) {
        pump(c);
        return;
    }
    if (c->close_after && evbuffer_get_length(out(c)) == 0)
        conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_free(arg);
}

void ts_http1_accept(ts_server *s, struct bufferevent *bev, int tls)
{
    static int ready;
    if (!ready) {
        llhttp_settings_init(&settings);
        settings.on_message_begin = on_message_begin;
        settings.on_url = on_url;
        settings.on_header_field = on_header_field;
        settings.on_header_field_complete = on_header_field_complete;
        settings.on_header_value = on_header_value;
        settings.on_headers_complete = on_headers_complete;
        settings.on_body = on_body;
        settings.on_message_complete = on_message_complete;
        ready = 1;
    }
    conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        bufferevent_free(bev);
        return;
    }
    c->srv = s;
    c->bev = bev;
    c->tls = tls;
    llhttp_init(&c->parser, HTTP_REQUEST, &settings);
    c->parser.data = c;
    c->next = all_conns;
    if (all_conns)
        all_conns->prev = c;
    all_conns = c;
    s->open_conns++;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}
