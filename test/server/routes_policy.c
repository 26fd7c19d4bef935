/* SPDX-License-Identifier: MIT */
/*
 * test/server/routes_policy.c - the routes the policy layer's tests need
 * (redirects, content codings and bombs, retries, the crawler's link tree),
 * written once for both protocols: http1.c and http2.c describe a request
 * in a ts_request and write the ts_reply this file fills.
 *
 * Bodies are made by a generator, a source (the text pattern, zeros, or
 * bytes in memory) piped through a chain of streaming encoders (zlib,
 * brotli, zstd), so that a 1 GiB bomb is never held whole: it is encoded as
 * the connection drains, a few MiB of input per loop turn. Behaviour of
 * each route: docs/internals/test-server.md.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <brotli/encode.h>
#include <event2/buffer.h>
#include <zlib.h>
#include <zstd.h>

#include "testserver.h"

#define MAX_CODINGS 8
#define TURN_BUDGET (16u << 20)   /* source bytes encoded per loop turn */
#define MAX_BOMB    (64ULL << 30) /* /bomb's size= is capped here */
#define MAX_TEXT    (1ULL << 30)  /* /encoding's n= likewise */
#define TEXT_TAIL   "the quick brown fox jumps over the lazy dog 0123456789"

/* ---- small helpers ----------------------------------------------------- */

/* What an evbuffer holds, moved into a malloc'd string (NUL-terminated);
 * the evbuffer is freed. */
static char *take(struct evbuffer *b, size_t *len)
{
    size_t n = evbuffer_get_length(b);
    char *p = malloc(n + 1);
    if (p == NULL)
        abort();
    evbuffer_remove(b, p, n);
    p[n] = '\0';
    evbuffer_free(b);
    *len = n;
    return p;
}

static struct evbuffer *newbuf(void)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL)
        abort();
    return b;
}

static char *dupn(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void field(ts_reply *rep, const char *name, const char *fmt, ...)
{
    if (rep->n_fields >= TS_REPLY_MAX_FIELDS)
        abort(); /* a route's own bug, not a peer's */
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    rep->fields[rep->n_fields].name = dupn(name, strlen(name));
    rep->fields[rep->n_fields].value = dupn(tmp, strlen(tmp));
    rep->n_fields++;
}

static void start(ts_reply *rep, int status, const char *content_type)
{
    memset(rep, 0, sizeof(*rep));
    rep->status = status;
    field(rep, "Content-Type", "%s", content_type);
}

static void set_body(ts_reply *rep, const void *p, size_t n)
{
    free(rep->body);
    rep->body = dupn(p, n);
    rep->body_len = n;
}

static void text(ts_reply *rep, int status, const char *t)
{
    start(rep, status, "text/plain");
    set_body(rep, t, strlen(t));
}

void ts_reply_free(ts_reply *rep)
{
    for (int i = 0; i < rep->n_fields; i++) {
        free(rep->fields[i].name);
        free(rep->fields[i].value);
    }
    free(rep->body);
    ts_gen_free(rep->gen);
    memset(rep, 0, sizeof(*rep));
}

const char *ts_policy_reason(int status)
{
    switch (status) {
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 429:
        return "Too Many Requests";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return NULL;
    }
}

/* The raw value of query parameter `key` (not decoded), or NULL. */
static const char *qraw(const char *target, const char *key, size_t *len)
{
    const char *q = strchr(target, '?');
    size_t kl = strlen(key);
    while (q) {
        q++;
        if (strncmp(q, key, kl) == 0 && q[kl] == '=') {
            *len = strcspn(q + kl + 1, "&#");
            return q + kl + 1;
        }
        q = strchr(q, '&');
    }
    return NULL;
}

static unsigned long long qnum(const char *target, const char *key, unsigned long long dflt,
                               unsigned long long max)
{
    size_t len;
    const char *v = qraw(target, key, &len);
    if (v == NULL || len == 0 || !isdigit((unsigned char)*v))
        return dflt;
    unsigned long long n = strtoull(v, NULL, 10);
    return n > max ? max : n;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX decoded (nothing else: '+' stays '+'), malloc'd; *len its length. */
static char *pct_decode(const char *p, size_t n, size_t *len)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int h, l;
        if (p[i] == '%' && i + 2 < n && (h = hexval(p[i + 1])) >= 0 &&
            (l = hexval(p[i + 2])) >= 0) {
            s[o++] = (char)(h * 16 + l);
            i += 2;
        } else {
            s[o++] = p[i];
        }
    }
    s[o] = '\0';
    *len = o;
    return s;
}

/* The value of request header `name` (the first one), or NULL. */
static const char *header(const ts_request *rq, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = rq->headers, *end = rq->headers + rq->headers_len;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

/* Does Accept-Encoding take `coding` (by name or "*", and not with q=0)? */
static int accepts(const ts_request *rq, const char *coding)
{
    size_t len;
    const char *v = header(rq, "accept-encoding", &len);
    if (v == NULL)
        return 0;
    char *s = dupn(v, len), *save = NULL;
    int ok = 0;
    for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t')
            t++;
        size_t tl = strcspn(t, " \t;");
        if (!((tl == strlen(coding) && strncasecmp(t, coding, tl) == 0) || (tl == 1 && *t == '*')))
            continue;
        const char *q = strstr(t, "q=");
        ok = q == NULL || strtod(q + 2, NULL) > 0;
        break;
    }
    free(s);
    return ok;
}

/* ---- generators: a source through a chain of streaming encoders -------- */

enum coding { C_IDENTITY, C_GZIP, C_DEFLATE, C_DEFLATE_RAW, C_BR, C_ZSTD };
enum op { OP_PROCESS, OP_FLUSH, OP_FINISH };
enum source { SRC_TEXT, SRC_ZEROS, SRC_MEM };

static const struct {
    const char *path, *header; /* the name in routes, the Content-Encoding token */
    enum coding c;
} codings[] = {
    {"identity", "identity", C_IDENTITY},
    {"gzip", "gzip", C_GZIP},
    {"deflate", "deflate", C_DEFLATE},
    {"deflate-raw", "deflate", C_DEFLATE_RAW},
    {"br", "br", C_BR},
    {"zstd", "zstd", C_ZSTD},
};

typedef struct stage {
    enum coding c;
    z_stream z;
    BrotliEncoderState *br;
    ZSTD_CCtx *zs;
    unsigned char in[32768];
    size_t in_len, in_off;
    int in_eof, done;
    uint64_t consumed, produced;
    uint64_t flush_at;  /* flush once this much input went in (UINT64_MAX: never) */
    uint64_t flush_out; /* the output offset right after that flush */
    int flushed;
} stage;

struct ts_gen {
    enum source src;
    uint64_t total, pos;
    const unsigned char *mem; /* SRC_MEM, borrowed */
    uint64_t turn_in;         /* source bytes read this turn */
    int unlimited;            /* no turn budget (bodies made whole at once) */
    int n;
    stage st[MAX_CODINGS];
};

/* Byte `off` on of the text pattern: 64-byte lines, line k being k in eight
 * digits (mod 10^8), a space, TEXT_TAIL and LF. */
static void text_at(unsigned char *dst, uint64_t off, size_t n)
{
    while (n > 0) {
        char line[80];
        uint64_t k = off / 64, col = off % 64;
        snprintf(line, sizeof(line), "%08llu %s\n", (unsigned long long)(k % 100000000), TEXT_TAIL);
        size_t take = 64 - col < n ? (size_t)(64 - col) : n;
        memcpy(dst, line + col, take);
        dst += take;
        off += take;
        n -= take;
    }
}

static int stage_init(stage *s, enum coding c)
{
    memset(s, 0, sizeof(*s));
    s->c = c;
    s->flush_at = UINT64_MAX;
    switch (c) {
    case C_GZIP:
    case C_DEFLATE:
    case C_DEFLATE_RAW:
        return deflateInit2(&s->z, 6, Z_DEFLATED,
                            c == C_GZIP      ? 31
                            : c == C_DEFLATE ? 15
                                             : -15,
                            8, Z_DEFAULT_STRATEGY) == Z_OK
                   ? 0
                   : -1;
    case C_BR:
        /* Quality 5: the default 11 takes seconds a megabyte. */
        s->br = BrotliEncoderCreateInstance(NULL, NULL, NULL);
        return s->br && BrotliEncoderSetParameter(s->br, BROTLI_PARAM_QUALITY, 5) ? 0 : -1;
    case C_ZSTD:
        /* With a checksum, so that any corruption is detectable. */
        s->zs = ZSTD_createCCtx();
        return s->zs && !ZSTD_isError(ZSTD_CCtx_setParameter(s->zs, ZSTD_c_compressionLevel, 3)) &&
                       !ZSTD_isError(ZSTD_CCtx_setParameter(s->zs, ZSTD_c_checksumFlag, 1))
                   ? 0
                   : -1;
    case C_IDENTITY:
        return 0;
    }
    return -1;
}

static void stage_end(stage *s)
{
    if (s->c == C_GZIP || s->c == C_DEFLATE || s->c == C_DEFLATE_RAW)
        deflateEnd(&s->z);
    if (s->br)
        BrotliEncoderDestroyInstance(s->br);
    ZSTD_freeCCtx(s->zs);
}

/* One encoder call; 1 once `op` is complete (FLUSH flushed, FINISH ended). */
static int step(stage *s, enum op op, const unsigned char **in, size_t *il, unsigned char **out,
                size_t *ol)
{
    switch (s->c) {
    case C_GZIP:
    case C_DEFLATE:
    case C_DEFLATE_RAW: {
        s->z.next_in = (unsigned char *)*in;
        s->z.avail_in = (uInt)*il;
        s->z.next_out = *out;
        s->z.avail_out = (uInt)*ol;
        int r = deflate(&s->z, op == OP_FINISH  ? Z_FINISH
                               : op == OP_FLUSH ? Z_FULL_FLUSH
                                                : Z_NO_FLUSH);
        *in = s->z.next_in;
        *il = s->z.avail_in;
        *out = s->z.next_out;
        *ol = s->z.avail_out;
        if (r == Z_STREAM_ERROR)
            abort();
        return op == OP_FINISH ? r == Z_STREAM_END : op == OP_FLUSH ? *ol > 0 : 0;
    }
    case C_BR: {
        BrotliEncoderOperation bo = op == OP_FINISH  ? BROTLI_OPERATION_FINISH
                                    : op == OP_FLUSH ? BROTLI_OPERATION_FLUSH
                                                     : BROTLI_OPERATION_PROCESS;
        if (!BrotliEncoderCompressStream(s->br, bo, il, in, ol, out, NULL))
            abort();
        return op == OP_FINISH  ? BrotliEncoderIsFinished(s->br)
               : op == OP_FLUSH ? !BrotliEncoderHasMoreOutput(s->br) && *il == 0
                                : 0;
    }
    case C_ZSTD: {
        ZSTD_inBuffer ib = {*in, *il, 0};
        ZSTD_outBuffer ob = {*out, *ol, 0};
        size_t r = ZSTD_compressStream2(s->zs, &ob, &ib,
                                        op == OP_FINISH  ? ZSTD_e_end
                                        : op == OP_FLUSH ? ZSTD_e_flush
                                                         : ZSTD_e_continue);
        if (ZSTD_isError(r))
            abort();
        *in += ib.pos;
        *il -= ib.pos;
        *out += ob.pos;
        *ol -= ob.pos;
        return op != OP_PROCESS && r == 0;
    }
    case C_IDENTITY: {
        size_t n = *il < *ol ? *il : *ol;
        memcpy(*out, *in, n);
        *in += n;
        *il -= n;
        *out += n;
        *ol -= n;
        return op != OP_PROCESS && *il == 0;
    }
    }
    return 0;
}

static size_t source_read(ts_gen *g, unsigned char *b, size_t cap, int *eof)
{
    uint64_t left = g->total - g->pos;
    size_t n = left < cap ? (size_t)left : cap;
    if (!g->unlimited && g->turn_in >= TURN_BUDGET)
        n = 0;
    if (g->src == SRC_TEXT)
        text_at(b, g->pos, n);
    else if (g->src == SRC_ZEROS)
        memset(b, 0, n);
    else if (n > 0)
        memcpy(b, g->mem + g->pos, n);
    g->pos += n;
    g->turn_in += n;
    *eof = g->pos == g->total;
    return n;
}

/* Output of stage k (k < 0: the source). */
static size_t pull(ts_gen *g, int k, unsigned char *out, size_t cap, int *eof)
{
    if (k < 0)
        return source_read(g, out, cap, eof);
    stage *s = &g->st[k];
    size_t got = 0;
    while (got < cap && !s->done) {
        if (s->in_off == s->in_len && !s->in_eof) {
            s->in_len = pull(g, k - 1, s->in, sizeof(s->in), &s->in_eof);
            s->in_off = 0;
            if (s->in_len == 0 && !s->in_eof)
                break; /* the turn's budget is spent */
        }
        size_t avail = s->in_len - s->in_off;
        enum op op = OP_PROCESS;
        if (!s->flushed && s->consumed + avail >= s->flush_at) {
            avail = (size_t)(s->flush_at - s->consumed);
            if (avail == 0)
                op = OP_FLUSH;
        }
        if (op == OP_PROCESS && avail == 0 && s->in_eof)
            op = OP_FINISH;
        const unsigned char *ip = s->in + s->in_off;
        size_t il = avail, ol = cap - got;
        unsigned char *op_out = out + got;
        int complete = step(s, op, &ip, &il, &op_out, &ol);
        s->in_off += avail - il;
        s->consumed += avail - il;
        got = cap - ol;
        if (op == OP_FLUSH && complete) {
            s->flushed = 1;
            s->flush_out = s->produced + got;
        }
        if (op == OP_FINISH && complete)
            s->done = 1;
    }
    s->produced += got;
    *eof = s->done;
    return got;
}

size_t ts_gen_read(ts_gen *g, unsigned char *b, size_t cap, int *eof)
{
    return pull(g, g->n - 1, b, cap, eof);
}

void ts_gen_new_turn(ts_gen *g)
{
    if (g)
        g->turn_in = 0;
}

void ts_gen_free(ts_gen *g)
{
    if (g == NULL)
        return;
    for (int i = 0; i < g->n; i++)
        stage_end(&g->st[i]);
    free(g);
}

/* "gzip,br" into codings[] indices; the count, or -1 if one is unknown. */
static int parse_codings(const char *list, size_t len, int *idx)
{
    int n = 0;
    size_t i = 0;
    while (i < len) {
        size_t tl = 0;
        while (i + tl < len && list[i + tl] != ',')
            tl++;
        int found = -1;
        for (size_t c = 0; c < sizeof(codings) / sizeof(codings[0]); c++)
            if (strlen(codings[c].path) == tl && strncmp(codings[c].path, list + i, tl) == 0)
                found = (int)c;
        if (found < 0 || n == MAX_CODINGS)
            return -1;
        idx[n++] = found;
        i += tl + 1;
    }
    return n;
}

static ts_gen *gen_new(enum source src, uint64_t total, const void *mem, const int *idx, int n)
{
    ts_gen *g = calloc(1, sizeof(*g));
    if (g == NULL)
        abort();
    g->src = src;
    g->total = total;
    g->mem = mem;
    for (int i = 0; i < n; i++) {
        if (stage_init(&g->st[i], codings[idx[i]].c) != 0)
            abort();
        g->n = i + 1;
    }
    return g;
}

/* Runs g to its end into rep's body, with no turn budget. */
static void gen_drain(ts_gen *g, ts_reply *rep)
{
    struct evbuffer *b = newbuf();
    unsigned char tmp[65536];
    int eof = 0;
    g->unlimited = 1;
    while (!eof) {
        size_t n = ts_gen_read(g, tmp, sizeof(tmp), &eof);
        evbuffer_add(b, tmp, n);
    }
    free(rep->body);
    rep->body = take(b, &rep->body_len);
}

static void content_encoding(ts_reply *rep, const int *idx, int n)
{
    char v[256] = "";
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(v, ", ");
        strcat(v, codings[idx[i]].header);
    }
    field(rep, "Content-Encoding", "%s", v);
}

/* The codings named after `prefix` in the path, or -1 (rep: a 400). */
static int path_codings(const ts_request *rq, size_t prefix, int *idx, ts_reply *rep)
{
    size_t pl = strcspn(rq->target, "?#");
    int n = pl > prefix ? parse_codings(rq->target + prefix, pl - prefix, idx) : -1;
    if (n > 0)
        return n;
    text(rep, 400, "unknown coding (gzip, deflate, deflate-raw, br, zstd, identity)\n");
    return -1;
}

/* /encoding/CODINGS?n=N&chunked=1: N bytes of text through the codings. */
static void route_encoding(const ts_request *rq, ts_reply *rep)
{
    int idx[MAX_CODINGS];
    int n = path_codings(rq, 10, idx, rep);
    if (n < 0)
        return;
    uint64_t len = qnum(rq->target, "n", 100000, MAX_TEXT);
    start(rep, 200, "text/plain");
    content_encoding(rep, idx, n);
    field(rep, "X-Decoded-Length", "%llu", (unsigned long long)len);
    rep->gen = gen_new(SRC_TEXT, len, NULL, idx, n);
    if (qnum(rq->target, "chunked", 0, 1)) {
        rep->no_length = 1;
    } else {
        gen_drain(rep->gen, rep);
        ts_gen_free(rep->gen);
        rep->gen = NULL;
    }
}

/* /bomb/CODING?size=N: N zeros (1 GiB by default), encoded as they are sent. */
static void route_bomb(const ts_request *rq, ts_reply *rep)
{
    int idx[MAX_CODINGS];
    int n = path_codings(rq, 6, idx, rep);
    if (n < 0)
        return;
    uint64_t size = qnum(rq->target, "size", 1ULL << 30, MAX_BOMB);
    start(rep, 200, "application/octet-stream");
    content_encoding(rep, idx, n);
    field(rep, "X-Decoded-Length", "%llu", (unsigned long long)size);
    rep->gen = gen_new(SRC_ZEROS, size, NULL, idx, n);
    rep->no_length = 1;
}

/* /corrupt/CODING and /truncated/CODING?cut=K: the encoded text, flushed at
 * its middle (where a block begins, on a byte); corrupt breaks the block
 * that follows the flush (a reserved block type: every decoder must fail
 * there), truncated drops the last K bytes (half by default) with the HTTP
 * framing intact. */
static void route_damaged(const ts_request *rq, ts_reply *rep, int corrupt)
{
    int idx[MAX_CODINGS];
    int n = path_codings(rq, corrupt ? 9 : 11, idx, rep);
    if (n < 0)
        return;
    enum coding last = codings[idx[n - 1]].c;
    if (last == C_IDENTITY || (corrupt && n > 1)) {
        text(rep, 400, "one coding, not identity\n");
        return;
    }
    uint64_t len = qnum(rq->target, "n", 100000, 64u << 20);
    if (len < 2)
        len = 2;
    start(rep, 200, "text/plain");
    content_encoding(rep, idx, n);
    ts_gen *g = gen_new(SRC_TEXT, len, NULL, idx, n);
    if (n == 1)
        g->st[0].flush_at = len / 2;
    gen_drain(g, rep);
    uint64_t mid = g->st[n - 1].flushed ? g->st[n - 1].flush_out : rep->body_len / 2;
    ts_gen_free(g);
    if (corrupt && mid < rep->body_len) {
        unsigned char *p = (unsigned char *)rep->body + mid;
        /* deflate: BTYPE 11; zstd: Block_Type 3; brotli: a metadata
         * meta-block with its reserved bit set. */
        if (last == C_BR)
            *p = 0x0E;
        else
            *p |= 0x06;
        field(rep, "X-Corrupt-Offset", "%llu", (unsigned long long)mid);
    }
    if (!corrupt) {
        uint64_t cut = qnum(rq->target, "cut", rep->body_len / 2, rep->body_len);
        rep->body_len -= (size_t)cut;
    }
}

/* ---- redirects --------------------------------------------------------- */

static void redirect(const ts_request *rq, ts_reply *rep, int status, const char *location)
{
    start(rep, status, "text/plain");
    field(rep, "Location", "%s", location);
    /* What this hop received, for the tests of each status's method rules. */
    field(rep, "X-Received-Method", "%s", rq->method);
    field(rep, "X-Received-Body-Length", "%zu", rq->body_len);
    struct evbuffer *b = newbuf();
    evbuffer_add_printf(b, "redirecting to %s (this body must be discarded)\n", location);
    rep->body = take(b, &rep->body_len);
}

static long path_num(const char *target, size_t prefix)
{
    long v = strtol(target + prefix, NULL, 10);
    return v < 0 ? 0 : v > 1000000 ? 1000000 : v;
}

static void route_redirect_n(const ts_request *rq, ts_reply *rep, const char *prefix, int absolute)
{
    long n = path_num(rq->target, strlen(prefix));
    char loc[1024];
    const char *scheme = rq->tls ? "https" : "http";
    if (n <= 0) {
        text(rep, 200, "hello\n");
        return;
    }
    if (n == 1 && absolute)
        snprintf(loc, sizeof(loc), "%s://%s/hello", scheme, rq->authority);
    else if (n == 1)
        snprintf(loc, sizeof(loc), "/hello");
    else if (absolute)
        snprintf(loc, sizeof(loc), "%s://%s%s%ld", scheme, rq->authority, prefix, n - 1);
    else
        snprintf(loc, sizeof(loc), "%s%ld", prefix, n - 1);
    redirect(rq, rep, 302, loc);
}

static void route_redirect_to(const ts_request *rq, ts_reply *rep)
{
    size_t rl, len;
    const char *raw = qraw(rq->target, "url", &rl);
    if (raw == NULL) {
        text(rep, 400, "url= missing\n");
        return;
    }
    char *loc = pct_decode(raw, rl, &len);
    long status = (long)qnum(rq->target, "status", 302, 999);
    if (strlen(loc) != len || strpbrk(loc, "\r\n") || status < 200) {
        text(rep, 400, "the url cannot be a header value\n");
    } else {
        redirect(rq, rep, (int)status, loc);
    }
    free(loc);
}

/* Locations that are not URLs; ?v=K picks one. */
static const char *const bad_locations[] = {
    "http://[::1",          /* unclosed IPv6 literal */
    "ht tp://x",            /* space in the scheme */
    "http://host:99999/",   /* port out of range */
    "http://",              /* no host */
    "http://exa mple.com/", /* space in the host */
    "http://x:80:80/",      /* two ports */
};

static void route_bad_redirect(const ts_request *rq, ts_reply *rep)
{
    size_t n = sizeof(bad_locations) / sizeof(bad_locations[0]);
    unsigned long long v = qnum(rq->target, "v", 0, n - 1);
    redirect(rq, rep, 302, bad_locations[v]);
}

/* ---- retries: counters per key ----------------------------------------- */

#define MAX_KEYS 256
static struct {
    char key[64];
    long count;
} keys[MAX_KEYS];
static int n_keys, next_evict;

/* The count of key (after adding `add`); a full table forgets its oldest. */
static long key_count(const ts_request *rq, long add)
{
    size_t rl;
    const char *raw = qraw(rq->target, "key", &rl);
    char k[64];
    snprintf(k, sizeof(k), "%.*s", raw ? (int)rl : 0, raw ? raw : "");
    for (int i = 0; i < n_keys; i++)
        if (strcmp(keys[i].key, k) == 0)
            return keys[i].count += add;
    if (add == 0)
        return 0;
    int i = n_keys < MAX_KEYS ? n_keys++ : next_evict++ % MAX_KEYS;
    snprintf(keys[i].key, sizeof(keys[i].key), "%s", k);
    keys[i].count = add;
    return add;
}

static void route_retry_after(const ts_request *rq, ts_reply *rep)
{
    long attempt = key_count(rq, 1);
    long fail = (long)qnum(rq->target, "fail", 1, 1000000);
    long status = (long)qnum(rq->target, "status", 503, 999);
    unsigned long long after = qnum(rq->target, "after", 1, 1000000);
    char b[64];
    if (attempt > fail || status < 200) {
        snprintf(b, sizeof(b), "ok after %ld attempts\n", attempt);
        text(rep, 200, b);
    } else {
        snprintf(b, sizeof(b), "attempt %ld of %ld fails\n", attempt, fail);
        text(rep, (int)status, b);
        if (qnum(rq->target, "date", 0, 1)) {
            time_t t = time(NULL) + (time_t)after;
            struct tm tm;
            char d[64];
            gmtime_r(&t, &tm);
            strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            field(rep, "Retry-After", "%s", d);
        } else {
            field(rep, "Retry-After", "%llu", after);
        }
    }
    field(rep, "X-Attempt", "%ld", attempt);
}

static void route_drop_first(const ts_request *rq, ts_reply *rep)
{
    long attempt = key_count(rq, 1);
    char b[64];
    if (attempt <= (long)qnum(rq->target, "n", 1, 1000000)) {
        memset(rep, 0, sizeof(*rep));
        rep->drop = 1;
        return;
    }
    snprintf(b, sizeof(b), "ok after %ld attempts\n", attempt);
    text(rep, 200, b);
    field(rep, "X-Attempt", "%ld", attempt);
}

static void route_drop_accept(ts_server *s, const ts_request *rq, ts_reply *rep)
{
    s->drop_accepts = (long)qnum(rq->target, "n", (unsigned long long)s->drop_accepts, 1000000);
    char b[96];
    snprintf(b, sizeof(b), "{\"dropped\":%ld,\"pending\":%ld}", s->dropped_accepts,
             s->drop_accepts);
    start(rep, 200, "application/json");
    set_body(rep, b, strlen(b));
}

/* ---- the link tree for the crawler --------------------------------------- */

/* Another origin than the request's: the other name of this loopback. */
static void other_authority(const ts_request *rq, char *out, size_t cap)
{
    const char *a = rq->authority;
    const char *colon = a[0] == '[' ? strchr(a, ']') : a;
    colon = colon ? strrchr(colon, ':') : NULL;
    size_t hl = colon ? (size_t)(colon - a) : strlen(a);
    int localhost = hl == 9 && strncasecmp(a, "localhost", 9) == 0;
    snprintf(out, cap, "%s%s", localhost ? "127.0.0.1" : "localhost", colon ? colon : "");
}

static void tree_html(ts_server *s, const ts_request *rq, const char *path, struct evbuffer *b,
                      int *status)
{
    const char *scheme = rq->tls ? "https" : "http";
    char other[300];
    other_authority(rq, other, sizeof(other));
    evbuffer_add_printf(b,
                        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>"
                        "</head>\n<body id=\"top\">\n<h1>%s</h1>\n",
                        path, path);
    if (!strcmp(path, "/tree/")) {
        evbuffer_add_printf(
            b,
            "<a href=\"a/\">section a</a>\n"
            "<a href=\"/tree/b/\">section b</a>\n"
            "<a href=\"%s://%s/tree/c/\">section c</a>\n"
            "<a href=\"a/\">section a again</a>\n"
            "<a href=\"#top\">top</a>\n"
            "<a href=\"/redirect-to?url=%%2Ftree%%2Fmoved&amp;status=301\">moved</a>\n"
            "<a href=\"notes.txt\">notes</a>\n"
            "<a href=\"missing\">missing</a>\n"
            "<a href=\"http://%s/tree/\">another origin</a>\n"
            "<a href=\"mailto:tree@example.invalid\">mail</a>\n",
            scheme, rq->authority, other);
        if (s->http_port2 > 0) {
            char host[300];
            snprintf(host, sizeof(host), "%s", rq->authority);
            char *colon = strrchr(host, ':');
            if (colon && !strchr(colon, ']'))
                *colon = '\0';
            evbuffer_add_printf(b, "<a href=\"http://%s:%d/tree/\">second port</a>\n", host,
                                s->http_port2);
        }
    } else if (strlen(path) == 8 && path[6] >= 'a' && path[6] <= 'c' && path[7] == '/') {
        char sec = path[6];
        evbuffer_add_printf(b,
                            "<a href=\"1\">1</a>\n<a class=\"next\" href=\"./2\">2</a>\n"
                            "<a href='3'>3</a>\n<A HREF=\"/tree/%c/4\">4</A>\n"
                            "<a href=\"%s://%s/tree/%c/5#part\">5</a>\n<a href=\"../%c/6\">6</a>\n"
                            "<a href=\"7#frag\">7</a>\n<a href=8>8</a>\n<a href=\"8\">8 again</a>\n"
                            "<a href=\"../\">up</a>\n<a href=\"/tree/\">root</a>\n",
                            sec, scheme, rq->authority, sec, sec);
    } else if (strlen(path) == 9 && path[6] >= 'a' && path[6] <= 'c' && path[7] == '/' &&
               path[8] >= '1' && path[8] <= '8') {
        char sec = path[6];
        int k = path[8] - '0';
        evbuffer_add_printf(b,
                            "<a href=\"../\">section %c</a>\n<a href=\"#top\">top</a>\n"
                            "<a href=\"/tree/\">root</a>\n",
                            sec);
        if (k < 8)
            evbuffer_add_printf(b, "<a href=\"%d\">next</a>\n", k + 1);
        if (sec == 'a' && k == 5)
            evbuffer_add_printf(b, "<a href=\"javascript:void(0)\">script</a>\n");
        if (sec == 'b' && k == 1) {
            char up[8];
            snprintf(up, sizeof(up), "%s", scheme);
            for (char *p = up; *p; p++)
                *p = (char)toupper((unsigned char)*p);
            evbuffer_add_printf(b, "<a href=\"%s://%s/tree/a/3\">a/3, scheme in capitals</a>\n", up,
                                rq->authority);
        }
        if (sec == 'a' && k == 8)
            evbuffer_add_printf(b, "<a href=\"../b/1\">b/1</a>\n");
        if (sec == 'b' && k == 8)
            evbuffer_add_printf(b,
                                "<a href=\"http://%s/tree/b/9\">another origin</a>\n"
                                "<a href=\"https://%s/tree/secure\">another scheme</a>\n",
                                other, rq->authority);
        if (sec == 'c' && k == 8)
            evbuffer_add_printf(b,
                                "<a href=\"/redirect-to?url=%%2Ftree%%2Fdeep%%2Fend\">deep</a>\n"
                                "<a href=\"//%s/tree/c/9\">another origin</a>\n",
                                other);
    } else if (!strcmp(path, "/tree/moved")) {
        evbuffer_add_printf(b, "<a href=\"/tree/\">root</a>\n<a href=\"a/1\">a/1</a>\n");
    } else if (!strcmp(path, "/tree/deep/end")) {
        evbuffer_add_printf(b,
                            "<a href=\"../a/2\">a/2</a>\n<a href=\"./../../../tree/b/\">b</a>\n");
    } else if (!strcmp(path, "/tree/trap")) {
        evbuffer_add_printf(b, "linked only from a text/plain page\n");
    } else {
        *status = 404;
    }
    evbuffer_add_printf(b, "</body></html>\n");
}

static void route_tree(ts_server *s, const ts_request *rq, ts_reply *rep)
{
    char path[256];
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(rq->target, "?#"), rq->target);
    if (!strcmp(path, "/tree")) {
        redirect(rq, rep, 301, "/tree/");
        return;
    }
    struct evbuffer *b = newbuf();
    int status = 200;
    const char *type = "text/html; charset=utf-8";
    if (!strcmp(path, "/tree/notes.txt")) {
        type = "text/plain; charset=utf-8";
        evbuffer_add_printf(b, "Notes, in text/plain: what looks like a link here is not one:\n"
                               "<a href=\"/tree/trap\">trap</a>\n");
    } else {
        tree_html(s, rq, path, b, &status);
    }
    size_t len;
    char *page = take(b, &len);
    if (status != 200) {
        free(page);
        text(rep, status, "not found\n");
        return;
    }
    start(rep, 200, type);
    field(rep, "Vary", "Accept-Encoding");
    if (accepts(rq, "gzip")) {
        int gz = 1; /* codings[1] */
        content_encoding(rep, &gz, 1);
        ts_gen *g = gen_new(SRC_MEM, len, page, &gz, 1);
        gen_drain(g, rep);
        ts_gen_free(g);
        free(page);
    } else {
        rep->body = page;
        rep->body_len = len;
    }
}

/* ---- the route table ----------------------------------------------------- */

static int prefixed(const char *target, const char *prefix)
{
    return strncmp(target, prefix, strlen(prefix)) == 0;
}

/* Exactly `p`, followed by nothing but a query. */
static int is(const char *target, const char *p)
{
    size_t l = strlen(p);
    return strncmp(target, p, l) == 0 && (target[l] == '\0' || target[l] == '?');
}

int ts_policy_route(ts_server *s, const ts_request *rq, ts_reply *rep)
{
    const char *t = rq->target;
    ts_reply r;
    memset(&r, 0, sizeof(r));
    if (prefixed(t, "/redirect/"))
        route_redirect_n(rq, &r, "/redirect/", 0);
    else if (prefixed(t, "/relative-redirect/"))
        route_redirect_n(rq, &r, "/relative-redirect/", 0);
    else if (prefixed(t, "/absolute-redirect/"))
        route_redirect_n(rq, &r, "/absolute-redirect/", 1);
    else if (is(t, "/redirect-to"))
        route_redirect_to(rq, &r);
    else if (is(t, "/redirect-loop"))
        redirect(rq, &r,
                 qnum(t, "status", 302, 399) >= 300 ? (int)qnum(t, "status", 302, 399) : 302, t);
    else if (is(t, "/bad-redirect"))
        route_bad_redirect(rq, &r);
    else if (prefixed(t, "/encoding/"))
        route_encoding(rq, &r);
    else if (prefixed(t, "/bomb/"))
        route_bomb(rq, &r);
    else if (prefixed(t, "/corrupt/"))
        route_damaged(rq, &r, 1);
    else if (prefixed(t, "/truncated/"))
        route_damaged(rq, &r, 0);
    else if (is(t, "/unknown-encoding")) {
        text(&r, 200, "snappy? no: plain bytes under an unknown coding\n");
        field(&r, "Content-Encoding", "snappy");
    } else if (is(t, "/retry-after"))
        route_retry_after(rq, &r);
    else if (is(t, "/retry-count")) {
        char b[32];
        snprintf(b, sizeof(b), "%ld\n", key_count(rq, 0));
        text(&r, 200, b);
    } else if (is(t, "/drop-first"))
        route_drop_first(rq, &r);
    else if (is(t, "/drop-accept"))
        route_drop_accept(s, rq, &r);
    else if (is(t, "/tree") || prefixed(t, "/tree/"))
        route_tree(s, rq, &r);
    else
        return 0;
    *rep = r;
    return 1;
}
