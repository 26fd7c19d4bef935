/* SPDX-License-Identifier: MIT */
/*
 * test/server/http2.c - HTTP/2 for the test server (nghttp2's server API):
 * TLS connections that negotiated "h2" and cleartext ones that start with
 * the connection preface come here from http1.c.
 *
 * Routes (a subset of the HTTP/1.1 ones, plus HTTP/2 faults):
 *   /, /hello, /bytes/N, /status/CODE, /delay/MS, /stall, /hang, /echo, /stats
 *   /trailers            body then trailers x-trailer: yes
 *   /reset?code=N        RST_STREAM(N) before any response
 *   /reset-mid?code=N    headers and 1000 bytes, then RST_STREAM(N)
 *   /push, /push-other  PUSH_PROMISE of /pushed (same origin, or another one), then hello
 *   /kill                closes the connection at once, under every open stream
 *   /interim             a 103 Early Hints, then 200
 *   /freeze              answers, then stops reading the connection (PINGs unanswered)
 *   /headers?n=N&size=S  N response header fields of S bytes
 *   /settings?max=N      new SETTINGS_MAX_CONCURRENT_STREAMS mid-session
 *   /goaway              GOAWAY(NO_ERROR, last = this stream), answers it, closes when done
 *   /goaway-error        GOAWAY(ENHANCE_YOUR_CALM, last = 0), then closes
 *   /no-status           HEADERS without :status-worthy final response (a 103 then END_STREAM)
 *   /basic-auth/..., /digest-auth/...  as over HTTP/1.1 (auth.c)
 *   and routes_policy.c's routes (redirects, codings, retries, the link tree)
 * Flags: --h2-max-streams N (SETTINGS_MAX_CONCURRENT_STREAMS, default 100),
 *        --h2-goaway-after K (GOAWAY after the K-th stream of each connection).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <nghttp2/nghttp2.h>

#include "testserver.h"

typedef struct h2conn h2conn;

typedef struct h2stream {
    h2conn *hc;
    int32_t id;
    char method[16];
    char path[4096];
    char authority[256];
    char *hdrs; /* "name: value\n" lines for /echo */
    size_t hdrs_len;
    char *body;
    size_t body_len, body_cap;
    char *out; /* response body */
    size_t out_len, out_off;
    int trailers;
    struct event *timer;
    int delay_status;
    long stall_ms, stall_period;
    ts_gen *gen; /* routes_policy.c: a body still being made */
} h2stream;

struct h2conn {
    long open;
    int kill;
    int tls;
    ts_server *srv;
    struct bufferevent *bev;
    nghttp2_session *s;
    long streams;
    int closing;
};

static void h2_flush(h2conn *hc);

static void h2conn_free(h2conn *hc)
{
    hc->srv->open_conns--;
    nghttp2_session_del(hc->s); /* streams were freed by free_streams() */
    bufferevent_free(hc->bev);
    free(hc);
}

static ssize_t read_out(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                        nghttp2_data_source *src, void *ud)
{
    (void)ud;
    h2stream *st = src->ptr;
    size_t n = st->out_len - st->out_off;
    if (n > len)
        n = len;
    memcpy(buf, st->out + st->out_off, n);
    st->out_off += n;
    if (st->out_off == st->out_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (st->trailers) {
            nghttp2_nv t[] = {{(uint8_t *)"x-trailer", (uint8_t *)"yes", 9, 3, 0}};
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
            nghttp2_submit_trailer(s, id, t, 1);
        }
    }
    return (ssize_t)n;
}

/* A response with `nextra` more header fields after the usual three. */
static void respond_with(h2stream *st, int status, const nghttp2_nv *extra, size_t nextra,
                         const char *body, size_t len)
{
    char code[8];
    snprintf(code, sizeof(code), "%d", status);
    char cl[32];
    snprintf(cl, sizeof(cl), "%zu", len);
    nghttp2_nv hdrs[8] = {
        {(uint8_t *)":status", (uint8_t *)code, 7, strlen(code), 0},
        {(uint8_t *)"content-length", (uint8_t *)cl, 14, strlen(cl), 0},
        {(uint8_t *)"content-type", (uint8_t *)"text/plain", 12, 10, 0},
    };
    size_t nh = st->trailers ? 1 : 3;
    for (size_t i = 0; i < nextra && nh < 8; i++)
        hdrs[nh++] = extra[i];
    free(st->out);
    st->out = NULL;
    st->out_len = st->out_off = 0;
    int head = strcmp(st->method, "HEAD") == 0;
    if (len > 0 && !head) {
        st->out = malloc(len);
        memcpy(st->out, body, len);
        st->out_len = len;
    }
    nghttp2_data_provider prd = {{.ptr = st}, read_out};
    int with_body = (st->out_len > 0 || st->trailers) && !head;
    nghttp2_submit_response(st->hc->s, st->id, hdrs, nh, with_body ? &prd : NULL);
}

static void respond(h2stream *st, int status, const char *body, size_t len)
{
    respond_with(st, status, NULL, 0, body, len);
}

/* /basic-auth and /digest-auth: auth.c decides, each challenge its own field. */
static void route_auth(h2stream *st)
{
    char authz[8192];
    int has =
        st->hdrs && ts_header_value(st->hdrs, st->hdrs_len, "authorization", authz, sizeof(authz));
    ts_auth_reply r;
    ts_auth_route(st->method, st->path, has ? authz : NULL, &r);
    nghttp2_nv www[2];
    for (int i = 0; i < r.n_www; i++)
        www[i] = (nghttp2_nv){(uint8_t *)"www-authenticate", (uint8_t *)r.www[i], 16,
                              strlen(r.www[i]), 0};
    respond_with(st, r.status, www, (size_t)r.n_www, r.body, strlen(r.body));
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h2stream *st = arg;
    respond(st, 200, "hello\n", 6);
    h2_flush(st->hc);
}

/* /stall: answered once the server's stall is over (checked again when the
 * timer fires: libevent's coarse clock may wake it a little early). */
static int stalled(h2stream *st, event_callback_fn fn)
{
    struct timeval left;
    if (!ts_stall_left(st->hc->srv, st->stall_ms, st->stall_period, &left))
        return 0;
    if (st->timer == NULL)
        st->timer = evtimer_new(st->hc->srv->base, fn, st);
    evtimer_add(st->timer, &left);
    return 1;
}

static void on_stall(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h2stream *st = arg;
    if (stalled(st, on_stall))
        return;
    respond(st, 200, "hello\n", 6);
    h2_flush(st->hc);
}

static long num(const char *s, long dflt)
{
    if (s == NULL || *s == '\0')
        return dflt;
    long v = strtol(s, NULL, 10);
    return v < 0 ? 0 : v > (1L << 30) ? (1L << 30) : v;
}

static const char *qparam(const char *path, const char *key)
{
    const char *q = strchr(path, '?');
    size_t kl = strlen(key);
    while (q) {
        q++;
        if (strncmp(q, key, kl) == 0 && q[kl] == '=')
            return q + kl + 1;
        q = strchr(q, '&');
    }
    return NULL;
}

/* ---- routes_policy.c's replies over HTTP/2 -------------------------------- */

static void on_gen_turn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    h2stream *st = arg;
    ts_gen_new_turn(st->gen);
    nghttp2_session_resume_data(st->hc->s, st->id);
    h2_flush(st->hc);
}

/* DATA of a generated body, as flow control lets it go; when the
 * generator's turn is spent, deferred to a timer so the loop turns. */
static ssize_t read_gen(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                        uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    (void)ud;
    h2stream *st = src->ptr;
    int eof = 0;
    size_t n = ts_gen_read(st->gen, buf, len, &eof);
    if (eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
        if (st->timer == NULL)
            st->timer = evtimer_new(st->hc->srv->base, on_gen_turn, st);
        struct timeval now = {0, 0};
        evtimer_add(st->timer, &now);
        return NGHTTP2_ERR_DEFERRED;
    }
    return (ssize_t)n;
}

static void send_reply(h2stream *st, ts_reply *rep)
{
    h2conn *hc = st->hc;
    if (rep->drop) {
        hc->kill = 1; /* the connection closes, no byte of an answer */
        ts_reply_free(rep);
        return;
    }
    nghttp2_nv nv[TS_REPLY_MAX_FIELDS + 2];
    char names[TS_REPLY_MAX_FIELDS][64], code[8], cl[32];
    size_t n = 0;
    int head = strcmp(st->method, "HEAD") == 0;
    snprintf(code, sizeof(code), "%d", rep->status);
    nv[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)code, 7, strlen(code), 0};
    for (int i = 0; i < rep->n_fields; i++) {
        size_t l = strlen(rep->fields[i].name);
        for (size_t j = 0; j < l && j < 63; j++)
            names[i][j] = (char)tolower((unsigned char)rep->fields[i].name[j]);
        nv[n++] = (nghttp2_nv){(uint8_t *)names[i], (uint8_t *)rep->fields[i].value,
                               l < 63 ? l : 63, strlen(rep->fields[i].value), 0};
    }
    if (!rep->gen && !rep->no_length && rep->status != 204 && rep->status != 304) {
        snprintf(cl, sizeof(cl), "%zu", rep->body_len);
        nv[n++] = (nghttp2_nv){(uint8_t *)"content-length", (uint8_t *)cl, 14, strlen(cl), 0};
    }
    free(st->out);
    st->out = NULL;
    st->out_len = st->out_off = 0;
    nghttp2_data_provider prd = {{.ptr = st}, read_out};
    if (!head && rep->gen) {
        st->gen = rep->gen;
        rep->gen = NULL;
        prd.read_callback = read_gen;
    } else if (!head && rep->body_len > 0 && rep->status != 204 && rep->status != 304) {
        st->out = rep->body;
        st->out_len = rep->body_len;
        rep->body = NULL;
    }
    int with_body = st->gen != NULL || st->out_len > 0;
    nghttp2_submit_response(hc->s, st->id, nv, n, with_body ? &prd : NULL);
    ts_reply_free(rep);
}

/* A route of routes_policy.c? Then it is answered (1). */
static int policy_route(h2stream *st)
{
    ts_request rq = {0};
    ts_reply rep;
    rq.method = st->method;
    rq.target = st->path;
    rq.headers = st->hdrs ? st->hdrs : "";
    rq.headers_len = st->hdrs_len;
    rq.authority = st->authority;
    rq.body_len = st->body_len;
    rq.tls = st->hc->tls;
    if (!ts_policy_route(st->hc->srv, &rq, &rep))
        return 0;
    send_reply(st, &rep);
    return 1;
}

static void route(h2stream *st)
{
    h2conn *hc = st->hc;
    char path[1024];
    size_t pl = strcspn(st->path, "?");
    snprintf(path, sizeof(path), "%.*s", (int)pl, st->path);
    if (strcmp(path, "/stats") != 0)
        hc->srv->requests++;
    if (policy_route(st)) {
        /* answered by routes_policy.c (its own paths, shared with HTTP/1.1) */
    } else if (!strcmp(path, "/") || !strcmp(path, "/hello")) {
        respond(st, 200, "hello\n", 6);
    } else if (!strncmp(path, "/bytes/", 7)) {
        long n = num(path + 7, 0);
        char *b = malloc((size_t)n + 1);
        for (long i = 0; i < n; i++)
            b[i] = (char)('a' + i % 26);
        respond(st, 200, b, (size_t)n);
        free(b);
    } else if (!strncmp(path, "/status/", 8)) {
        long code = num(path + 8, 200);
        if (code < 200 || code > 999)
            code = 500;
        char b[32];
        int n = snprintf(b, sizeof(b), "status %ld\n", code);
        respond(st, (int)code, b, code == 204 || code == 304 ? 0 : (size_t)n);
    } else if (!strncmp(path, "/delay/", 7)) {
        long ms = num(path + 7, 0);
        st->timer = evtimer_new(hc->srv->base, on_delay, st);
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        evtimer_add(st->timer, &tv);
    } else if (!strcmp(path, "/stall")) {
        st->stall_ms = num(qparam(st->path, "ms"), 200);
        st->stall_period = num(qparam(st->path, "period"), 1000);
        if (!stalled(st, on_stall))
            respond(st, 200, "hello\n", 6);
    } else if (!strcmp(path, "/hang")) {
        /* never answer */
    } else if (!strcmp(path, "/echo")) {
        size_t len = strlen(st->method) + strlen(st->path) + st->hdrs_len + st->body_len + 4;
        char *b = malloc(len);
        int n = snprintf(b, len, "%s %s\n", st->method, st->path);
        memcpy(b + n, st->hdrs ? st->hdrs : "", st->hdrs_len);
        n += (int)st->hdrs_len;
        b[n++] = '\n';
        memcpy(b + n, st->body ? st->body : "", st->body_len);
        respond(st, 200, b, (size_t)n + st->body_len);
        free(b);
    } else if (!strcmp(path, "/trailers")) {
        st->trailers = 1;
        respond(st, 200, "hello\n", 6);
    } else if (!strcmp(path, "/reset")) {
        nghttp2_submit_rst_stream(hc->s, NGHTTP2_FLAG_NONE, st->id,
                                  (uint32_t)num(qparam(st->path, "code"), 2));
    } else if (!strcmp(path, "/reset-mid")) {
        nghttp2_nv h[] = {{(uint8_t *)":status", (uint8_t *)"200", 7, 3, 0}};
        nghttp2_submit_headers(hc->s, NGHTTP2_FLAG_NONE, st->id, NULL, h, 1, NULL);
        static char kb[1000];
        memset(kb, 'm', sizeof(kb));
        st->out = malloc(sizeof(kb));
        memcpy(st->out, kb, sizeof(kb));
        st->out_len = sizeof(kb);
        nghttp2_data_provider prd = {{.ptr = st}, read_out};
        /* Send the bytes without END_STREAM, then reset. */
        nghttp2_submit_data(hc->s, NGHTTP2_FLAG_NONE, st->id, &prd);
        nghttp2_submit_rst_stream(hc->s, NGHTTP2_FLAG_NONE, st->id,
                                  (uint32_t)num(qparam(st->path, "code"), 2));
    } else if (!strcmp(path, "/push") || !strcmp(path, "/push-other")) {
        /* Promise /pushed (for /push-other: on another origin), then answer both. */
        const char *scheme = hc->tls ? "https" : "http";
        const char *auth = !strcmp(path, "/push") ? st->authority : "other.invalid";
        nghttp2_nv promise[] = {
            {(uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0},
            {(uint8_t *)":scheme", (uint8_t *)scheme, 7, strlen(scheme), 0},
            {(uint8_t *)":authority", (uint8_t *)auth, 10, strlen(auth), 0},
            {(uint8_t *)":path", (uint8_t *)"/pushed", 5, 7, 0},
        };
        int32_t pid = -1;
        if (nghttp2_session_get_remote_settings(hc->s, NGHTTP2_SETTINGS_ENABLE_PUSH))
            pid = nghttp2_submit_push_promise(hc->s, NGHTTP2_FLAG_NONE, st->id, promise, 4, NULL);
        if (pid > 0) {
            h2stream *ps = calloc(1, sizeof(*ps));
            ps->hc = hc;
            ps->id = pid;
            snprintf(ps->method, sizeof(ps->method), "GET");
            snprintf(ps->path, sizeof(ps->path), "/pushed");
            nghttp2_session_set_stream_user_data(hc->s, pid, ps);
            hc->open++;
            hc->srv->pushes++;
            respond(ps, 200, "pushed\n", 7);
        }
        respond(st, 200, "hello\n", 6);
    } else if (!strcmp(path, "/kill")) {
        /* The connection dies under every open stream. */
        hc->kill = 1;
    } else if (!strcmp(path, "/interim")) {
        nghttp2_nv early[] = {{(uint8_t *)":status", (uint8_t *)"103", 7, 3, 0},
                              {(uint8_t *)"link", (uint8_t *)"</a.css>; rel=preload", 4, 21, 0}};
        nghttp2_submit_headers(hc->s, NGHTTP2_FLAG_NONE, st->id, NULL, early, 2, NULL);
        respond(st, 200, "hello\n", 6);
    } else if (!strcmp(path, "/freeze")) {
        /* Answer, then never read this connection again (a dead peer that
         * still holds the socket open): PINGs go unanswered. */
        respond(st, 200, "frozen\n", 7);
        h2_flush(hc);
        bufferevent_disable(hc->bev, EV_READ);
    } else if (!strcmp(path, "/headers")) {
        long n = num(qparam(st->path, "n"), 10), size = num(qparam(st->path, "size"), 10);
        if (n > 10000)
            n = 10000;
        if (size > 65536)
            size = 65536;
        nghttp2_nv *nv = calloc((size_t)n + 1, sizeof(*nv));
        char *v = malloc((size_t)size + 1);
        memset(v, 'v', (size_t)size);
        char(*names)[32] = calloc((size_t)n + 1, 32);
        nv[0] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)"200", 7, 3, 0};
        for (long i = 0; i < n; i++) {
            snprintf(names[i], 32, "x-h-%ld", i);
            nv[i + 1] = (nghttp2_nv){(uint8_t *)names[i], (uint8_t *)v, strlen(names[i]),
                                     (size_t)size, NGHTTP2_NV_FLAG_NO_INDEX};
        }
        nghttp2_submit_response(hc->s, st->id, nv, (size_t)n + 1, NULL);
        free(nv);
        free(v);
        free(names);
    } else if (!strcmp(path, "/settings")) {
        /* A mid-session change of our stream limit. */
        nghttp2_settings_entry iv[] = {
            {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)num(qparam(st->path, "max"), 100)}};
        nghttp2_submit_settings(hc->s, NGHTTP2_FLAG_NONE, iv, 1);
        respond(st, 200, "settings\n", 9);
    } else if (!strcmp(path, "/goaway")) {
        nghttp2_submit_goaway(hc->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR, NULL, 0);
        hc->closing = 1;
        respond(st, 200, "goaway\n", 7);
    } else if (!strcmp(path, "/goaway-error")) {
        nghttp2_submit_goaway(hc->s, NGHTTP2_FLAG_NONE, 0, NGHTTP2_ENHANCE_YOUR_CALM,
                              (const uint8_t *)"calm down", 9);
        hc->closing = 1;
    } else if (!strcmp(path, "/stats")) {
        char b[200];
        int n = snprintf(b, sizeof(b),
                         "{\"connections\":%ld,\"tls_connections\":%ld,\"requests\":%ld,"
                         "\"goaways\":%ld,\"max_open_streams\":%ld}",
                         hc->srv->connections, hc->srv->tls_connections, hc->srv->requests,
                         hc->srv->goaways, hc->srv->max_open_streams);
        respond(st, 200, b, (size_t)n);
    } else if (ts_auth_is_route(path)) {
        route_auth(st);
    } else {
        respond(st, 404, "not found\n", 10);
    }
    if (hc->srv->h2_goaway_after > 0 && hc->streams == hc->srv->h2_goaway_after && !hc->closing) {
        nghttp2_submit_goaway(hc->s, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR, NULL, 0);
        hc->closing = 1;
    }
}

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2conn *hc = ud;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    h2stream *st = calloc(1, sizeof(*st));
    st->hc = hc;
    st->id = f->hd.stream_id;
    hc->streams++;
    if (++hc->open > hc->srv->max_open_streams)
        hc->srv->max_open_streams = hc->open;
    nghttp2_session_set_stream_user_data(s, st->id, st);
    return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *n, size_t nl,
                     const uint8_t *v, size_t vl, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    h2stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (st == NULL)
        return 0;
    if (nl == 7 && !memcmp(n, ":method", 7))
        snprintf(st->method, sizeof(st->method), "%.*s", (int)vl, v);
    else if (nl == 5 && !memcmp(n, ":path", 5))
        snprintf(st->path, sizeof(st->path), "%.*s", (int)vl, v);
    else if (nl == 10 && !memcmp(n, ":authority", 10))
        snprintf(st->authority, sizeof(st->authority), "%.*s", (int)vl, v);
    if (n[0] != ':' || (nl == 10 && !memcmp(n, ":authority", 10))) {
        st->hdrs = realloc(st->hdrs, st->hdrs_len + nl + vl + 4);
        st->hdrs_len +=
            (size_t)sprintf(st->hdrs + st->hdrs_len, "%.*s: %.*s\n", (int)nl, n, (int)vl, v);
    }
    return 0;
}

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t len,
                   void *ud)
{
    (void)flags;
    (void)ud;
    h2stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (st && st->body_len < (16u << 20)) {
        /* Doubling: one realloc per frame copied megabytes each time under
         * ASan (whose realloc always moves), minutes for a large upload. */
        if (st->body_len + len > st->body_cap) {
            size_t cap = st->body_cap ? st->body_cap : 16384;
            while (cap < st->body_len + len)
                cap *= 2;
            char *b = realloc(st->body, cap);
            if (b == NULL)
                return 0;
            st->body = b;
            st->body_cap = cap;
        }
        memcpy(st->body + st->body_len, d, len);
        st->body_len += len;
    }
    return 0;
}

static int on_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    h2conn *hc = ud;
    if (f->hd.type == NGHTTP2_GOAWAY)
        hc->srv->goaways++;
    if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
        (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
        h2stream *st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
        if (st)
            route(st);
    }
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)code;
    (void)ud;
    h2stream *st = nghttp2_session_get_stream_user_data(s, id);
    if (st == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(s, id, NULL);
    st->hc->open--;
    if (st->timer)
        event_free(st->timer);
    ts_gen_free(st->gen);
    free(st->hdrs);
    free(st->body);
    free(st->out);
    free(st);
    return 0;
}

static void free_streams(h2conn *hc)
{
    /* Streams still open when the connection goes: free their state. */
    for (int32_t id = 1; id <= nghttp2_session_get_last_proc_stream_id(hc->s); id += 2)
        on_close(hc->s, id, 0, hc);
}

static void h2_close(h2conn *hc)
{
    free_streams(hc);
    h2conn_free(hc);
}

static void h2_flush(h2conn *hc)
{
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(hc->s, &p);
        if (n <= 0)
            break;
        bufferevent_write(hc->bev, p, (size_t)n);
    }
}

static void h2_read(struct bufferevent *bev, void *arg)
{
    h2conn *hc = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    const uint8_t *data = evbuffer_pullup(in, -1);
    ssize_t rv = nghttp2_session_mem_recv(hc->s, data, len);
    evbuffer_drain(in, len);
    if (rv < 0 || hc->kill) {
        h2_flush(hc);
        h2_close(hc);
        return;
    }
    h2_flush(hc);
}

static void h2_write(struct bufferevent *bev, void *arg)
{
    h2conn *hc = arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return;
    /* After a GOAWAY with nothing left open, nghttp2 wants neither. */
    if (!nghttp2_session_want_read(hc->s) && !nghttp2_session_want_write(hc->s))
        h2_close(hc);
}

static void h2_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        h2_close(arg);
}

void ts_http2_takeover(ts_server *s, struct bufferevent *bev, int tls)
{
    h2conn *hc = calloc(1, sizeof(*hc));
    hc->srv = s;
    hc->tls = tls;
    hc->bev = bev;
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_server_new(&hc->s, cb, hc);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)s->h2_max_streams},
    };
    nghttp2_submit_settings(hc->s, NGHTTP2_FLAG_NONE, iv, 1);
    bufferevent_setcb(bev, h2_read, h2_write, h2_event, hc);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    h2_flush(hc);
    if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
        h2_read(bev, hc);
}
