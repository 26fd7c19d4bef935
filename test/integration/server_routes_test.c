/* SPDX-License-Identifier: MIT */
/*
 * Integration: the test server's routes for the policy layer
 * (test/server/routes_policy.c), fetched once each through the public API
 * as it is before the policy layer (no redirect followed, no body decoded),
 * over HTTP/1.1, h2c and h2 over TLS. What arrives raw is checked here: the
 * status, Location, the method and body length a redirect saw, the
 * Content-Encoding, and the bodies, decoded in this file with zlib, brotli
 * and zstd to show that the server encodes (and damages) them as documented
 * in docs/internals/test-server.md. The policy layer's own tests rely on it.
 */
#include <brotli/decode.h>
#include <stdint.h>
#include <time.h>
#include <zlib.h>
#include <zstd.h>

#include "itest.h"

enum mode { H1, H2C, H2TLS };
static const char *const mode_names[] = {"HTTP/1.1", "h2c", "h2 over TLS"};

static testsrv srv;
static char ca[512];

static int setup(void **state)
{
    (void)state;
    snprintf(ca, sizeof(ca), "%s/ca.pem", testsrv_certs_dir());
    const char *args[] = {"--http-port2", "0", NULL};
    if (testsrv_start_tls(&srv, "server", args) != 0 || srv.http_port2 <= 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    testsrv_stop(&srv);
    return 0;
}

static void open_mode(itest *t, enum mode m)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = m == H2C;
    cfg.http2 = m == H2TLS;
    cfg.ca_file = ca;
    itest_open(t, &cfg);
}

static char *url(enum mode m, const char *path) { return itest_url(&srv, m == H2TLS, path); }

/* One request: `hdrs` is name, value, ..., NULL (may be NULL). Fails the
 * test on a transport error or another protocol than the mode's. */
static hxc_future *fetch_h(itest *t, enum mode m, const char *method, const char *target,
                           const char *body, const char *const *hdrs, uint64_t max_body)
{
    hxc_request *req;
    const char *u = strncmp(target, "http", 4) == 0 ? target : url(m, target);
    int rv = hxc_request_new(&req, method, u);
    if (rv != 0)
        fail_msg("%s: %s", u, hxc_strerror(rv));
    for (int i = 0; hdrs && hdrs[i]; i += 2)
        assert_int_equal(hxc_request_add_header(req, hdrs[i], hdrs[i + 1]), 0);
    if (body)
        assert_int_equal(hxc_request_set_body(req, body, strlen(body)), 0);
    if (max_body)
        assert_int_equal(hxc_request_set_max_body(req, max_body), 0);
    hxc_future *f = hxc_client_request(t->client, req);
    assert_non_null(f);
    hxc_future_wait(f);
    return f;
}

static hxc_future *fetch(itest *t, enum mode m, const char *method, const char *target,
                         const char *body, const char *const *hdrs)
{
    hxc_future *f = fetch_h(t, m, method, target, body, hdrs, 0);
    hxc_response *r = hxc_future_response(f);
    if (hxc_future_error(f) != 0)
        fail_msg("%s %s over %s: %s (%s)", method, target, mode_names[m],
                 hxc_error_name(hxc_future_error(f)), hxc_response_error_detail(r));
    if (strncmp(target, "http", 4) != 0)
        assert_string_equal(hxc_response_http_version(r), m == H1 ? "HTTP/1.1" : "HTTP/2");
    return f;
}

static const char *hdr(hxc_future *f, const char *name)
{
    return hxc_headers_get(hxc_response_headers(hxc_future_response(f)), name);
}

static void assert_hdr(hxc_future *f, const char *name, const char *want)
{
    const char *v = hdr(f, name);
    if (v == NULL || strcmp(v, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", name, v ? v : "(none)", want);
}

static const uint8_t *body(hxc_future *f, size_t *len)
{
    return hxc_response_body(hxc_future_response(f), len);
}

/* ---- decoding, here in the test ----------------------------------------- */

/* The server's text pattern: 64-byte lines, line k = k in eight digits, a
 * space, the tail, LF (docs/internals/test-server.md). */
static void text_at(char *dst, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++, off++) {
        char line[80];
        snprintf(line, sizeof(line),
                 "%08llu the quick brown fox jumps over the lazy dog 0123456789\n",
                 (unsigned long long)(off / 64 % 100000000));
        dst[i] = line[off % 64];
    }
}

static int is_text(const char *p, size_t n)
{
    char *want = malloc(n + 1);
    text_at(want, 0, n);
    int same = memcmp(p, want, n) == 0;
    free(want);
    return same;
}

typedef struct sink {
    char *p; /* kept, unless count_only */
    size_t len, cap;
    uint64_t total;
    int nonzero, count_only;
} sink;

static void sink_add(sink *s, const uint8_t *p, size_t n)
{
    static const uint8_t zeros[65536];
    s->total += n;
    for (size_t o = 0; o < n; o += sizeof(zeros)) {
        size_t k = n - o < sizeof(zeros) ? n - o : sizeof(zeros);
        if (memcmp(p + o, zeros, k) != 0)
            s->nonzero = 1;
    }
    if (s->count_only)
        return;
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
}

enum { DEC_OK = 0, DEC_ERROR = -1, DEC_TRUNCATED = -2, DEC_TRAILING = -3 };
enum dec { D_GZIP, D_ZLIB, D_RAW, D_BR, D_ZSTD, D_IDENTITY };

static int decode(enum dec d, const uint8_t *in, size_t len, sink *out)
{
    static uint8_t o[65536];
    if (d == D_IDENTITY) {
        sink_add(out, in, len);
        return DEC_OK;
    }
    if (d == D_BR) {
        BrotliDecoderState *st = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        size_t ai = len;
        const uint8_t *ni = in;
        BrotliDecoderResult r;
        do {
            size_t ao = sizeof(o);
            uint8_t *no = o;
            r = BrotliDecoderDecompressStream(st, &ai, &ni, &ao, &no, NULL);
            sink_add(out, o, sizeof(o) - ao);
        } while (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT);
        BrotliDecoderDestroyInstance(st);
        return r == BROTLI_DECODER_RESULT_ERROR              ? DEC_ERROR
               : r == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT ? DEC_TRUNCATED
               : ai != 0                                     ? DEC_TRAILING
                                                             : DEC_OK;
    }
    if (d == D_ZSTD) {
        ZSTD_DCtx *z = ZSTD_createDCtx();
        ZSTD_inBuffer ib = {in, len, 0};
        size_t r = 1;
        for (;;) {
            ZSTD_outBuffer ob = {o, sizeof(o), 0};
            r = ZSTD_decompressStream(z, &ob, &ib);
            sink_add(out, o, ob.pos);
            if (ZSTD_isError(r) || r == 0 || (ib.pos == ib.size && ob.pos < ob.size))
                break;
        }
        ZSTD_freeDCtx(z);
        return ZSTD_isError(r)     ? DEC_ERROR
               : r != 0            ? DEC_TRUNCATED
               : ib.pos != ib.size ? DEC_TRAILING
                                   : DEC_OK;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, d == D_GZIP ? 31 : d == D_ZLIB ? 15 : -15), Z_OK);
    z.next_in = (uint8_t *)in;
    z.avail_in = (uInt)len;
    int r;
    do {
        z.next_out = o;
        z.avail_out = sizeof(o);
        r = inflate(&z, Z_NO_FLUSH);
        sink_add(out, o, sizeof(o) - z.avail_out);
    } while (r == Z_OK && (z.avail_out == 0 || z.avail_in > 0));
    inflateEnd(&z);
    return r == Z_STREAM_END               ? (z.avail_in ? DEC_TRAILING : DEC_OK)
           : r == Z_OK || r == Z_BUF_ERROR ? DEC_TRUNCATED
                                           : DEC_ERROR;
}

/* Decodes a body coded with the codings `list` (applied in that order). */
static int decode_chain(const char *const *list, int n, const uint8_t *in, size_t len, sink *out)
{
    uint8_t *cur = malloc(len + 1);
    memcpy(cur, in, len);
    for (int i = n - 1; i >= 0; i--) {
        static const char *const names[] = {"gzip", "deflate", "deflate-raw",
                                            "br",   "zstd",    "identity"};
        int d = 0;
        while (strcmp(names[d], list[i]) != 0)
            d++;
        sink s = {.count_only = i == 0 && out->count_only};
        int rv = decode((enum dec)d, cur, len, &s);
        free(cur);
        if (rv != DEC_OK || i == 0) {
            *out = s;
            return rv;
        }
        cur = (uint8_t *)s.p;
        len = s.len;
    }
    return DEC_OK;
}

/* ---- redirects ----------------------------------------------------------- */

static void redirect_is(hxc_future *f, int status, const char *location, const char *method,
                        size_t body_len)
{
    size_t len;
    assert_int_equal(hxc_response_status(hxc_future_response(f)), status);
    assert_hdr(f, "location", location);
    assert_hdr(f, "x-received-method", method);
    char n[32];
    snprintf(n, sizeof(n), "%zu", body_len);
    assert_hdr(f, "x-received-body-length", n);
    const uint8_t *b = body(f, &len);
    if (strcmp(method, "HEAD") == 0) {
        assert_int_equal(len, 0);
    } else {
        assert_true(len > 0); /* a body to discard */
        assert_non_null(strstr((const char *)b, "must be discarded"));
    }
    hxc_future_free(f);
}

static void redirects(enum mode m)
{
    itest t;
    open_mode(&t, m);
    char origin[128], loc[512];
    testsrv_url(&srv, m == H2TLS, "", origin, sizeof(origin));

    redirect_is(fetch(&t, m, "POST", "/redirect/3", "hello", NULL), 302, "/redirect/2", "POST", 5);
    redirect_is(fetch(&t, m, "GET", "/redirect/1", NULL, NULL), 302, "/hello", "GET", 0);
    hxc_future *f = fetch(&t, m, "GET", "/redirect/0", NULL, NULL);
    itest_assert_body(f, 200, "hello\n");
    hxc_future_free(f);
    redirect_is(fetch(&t, m, "GET", "/relative-redirect/2", NULL, NULL), 302,
                "/relative-redirect/1", "GET", 0);
    redirect_is(fetch(&t, m, "HEAD", "/relative-redirect/1", NULL, NULL), 302, "/hello", "HEAD", 0);
    snprintf(loc, sizeof(loc), "%s/absolute-redirect/1", origin);
    redirect_is(fetch(&t, m, "GET", "/absolute-redirect/2", NULL, NULL), 302, loc, "GET", 0);
    snprintf(loc, sizeof(loc), "%s/hello", origin);
    redirect_is(fetch(&t, m, "DELETE", "/absolute-redirect/1", NULL, NULL), 302, loc, "DELETE", 0);

    /* /redirect-to: every status, Location exactly as given (decoded once). */
    static const struct {
        const char *query, *location;
    } to[] = {
        {"url=/echo", "/echo"},
        {"url=..%2Fa%20b%3Fc%3Dd%26e", "../a b?c=d&e"},
        {"url=%2F%2Flocalhost%3A1%2Fx", "//localhost:1/x"},
        {"url=http%3A%2F%2F127.0.0.1%3A1%2Fecho%23frag", "http://127.0.0.1:1/echo#frag"},
        {"url=%2Fcaf%C3%A9%3Fq%3D%E2%82%AC", "/caf\xc3\xa9?q=\xe2\x82\xac"},
        {"url=http%3A%2F%2Fb%C3%BCcher.example%2F", "http://b\xc3\xbc"
                                                    "cher.example/"},
        {"url=a+b", "a+b"},
    };
    static const int statuses[] = {301, 302, 303, 307, 308, 300, 305, 399, 201};
    for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++) {
        for (size_t j = 0; j < sizeof(statuses) / sizeof(statuses[0]); j++) {
            char target[256];
            snprintf(target, sizeof(target), "/redirect-to?%s&status=%d", to[i].query, statuses[j]);
            const char *method = j % 3 == 0 ? "POST" : j % 3 == 1 ? "PUT" : "GET";
            const char *b = strcmp(method, "GET") ? "a body" : NULL;
            redirect_is(fetch(&t, m, method, target, b, NULL), statuses[j], to[i].location, method,
                        b ? 6 : 0);
        }
    }
    /* status defaults to 302; a Location that cannot be a header is refused */
    redirect_is(fetch(&t, m, "GET", "/redirect-to?url=%2Fhello", NULL, NULL), 302, "/hello", "GET",
                0);
    f = fetch(&t, m, "GET", "/redirect-to?url=%2Fa%0D%0AX-Injected%3A%201", NULL, NULL);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 400);
    assert_null(hdr(f, "x-injected"));
    hxc_future_free(f);

    redirect_is(fetch(&t, m, "GET", "/redirect-loop", NULL, NULL), 302, "/redirect-loop", "GET", 0);
    redirect_is(fetch(&t, m, "POST", "/redirect-loop?status=307", "x", NULL), 307,
                "/redirect-loop?status=307", "POST", 1);
    static const char *const bad[] = {"http://[::1",          "ht tp://x",
                                      "http://host:99999/",   "http://",
                                      "http://exa mple.com/", "http://x:80:80/"};
    redirect_is(fetch(&t, m, "GET", "/bad-redirect", NULL, NULL), 302, bad[0], "GET", 0);
    for (int v = 0; v < 6; v++) {
        char target[64];
        snprintf(target, sizeof(target), "/bad-redirect?v=%d", v);
        redirect_is(fetch(&t, m, "GET", target, NULL, NULL), 302, bad[v], "GET", 0);
    }
    itest_close(&t);
}

/* ---- the second origin, and /echo showing every header as received -------- */

static void echo_shows(hxc_future *f)
{
    size_t len;
    const char *b = (const char *)body(f, &len);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 200);
    static const char *const want[] = {
        "authorization: Basic dXNlcjpwYXNz", "cookie: a=1; b=2", "proxy-authorization: Bearer t",
        "accept-encoding: gzip, br",         "x-dup: one",       "x-dup: two",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strcasestr(b, want[i]) == NULL)
            fail_msg("/echo lacks \"%s\":\n%s", want[i], b);
    hxc_future_free(f);
}

static void echo_and_second_origin(enum mode m)
{
    itest t;
    open_mode(&t, m);
    static const char *const hdrs[] = {"Authorization",
                                       "Basic dXNlcjpwYXNz",
                                       "Cookie",
                                       "a=1; b=2",
                                       "Proxy-Authorization",
                                       "Bearer t",
                                       "Accept-Encoding",
                                       "gzip, br",
                                       "X-Dup",
                                       "one",
                                       "X-Dup",
                                       "two",
                                       NULL};
    echo_shows(fetch(&t, m, "GET", "/echo", NULL, hdrs));
    /* The second origin (cleartext, HTTP/1.1 unless h2c) serves the same routes. */
    char u[256];
    testsrv_url2(&srv, "/echo", u, sizeof(u));
    assert_int_not_equal(srv.http_port2, srv.http_port);
    echo_shows(fetch(&t, m, "POST", u, "body", hdrs));
    /* A redirect from one origin to the other, as a cross-origin test does it. */
    char target[512], loc[256];
    testsrv_url2(&srv, "/echo", loc, sizeof(loc));
    snprintf(target, sizeof(target), "/redirect-to?url=%s&status=307", loc);
    redirect_is(fetch(&t, m, "POST", target, "abc", hdrs), 307, loc, "POST", 3);
    itest_close(&t);
}

/* ---- content codings ------------------------------------------------------ */

static void check_encoded(itest *t, enum mode m, const char *list, int chunked, size_t n)
{
    char target[256], ce[256] = "", nb[32];
    snprintf(target, sizeof(target), "/encoding/%s?n=%zu%s", list, n, chunked ? "&chunked=1" : "");
    const char *names[8];
    int k = 0;
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", list);
    for (char *save, *c = strtok_r(copy, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        names[k++] = c;
        if (k > 1)
            strcat(ce, ", ");
        strcat(ce, strcmp(c, "deflate-raw") == 0 ? "deflate" : c);
    }
    hxc_future *f = fetch(t, m, "GET", target, NULL, NULL);
    itest_assert_ok(f, 200);
    assert_hdr(f, "content-encoding", ce);
    snprintf(nb, sizeof(nb), "%zu", n);
    assert_hdr(f, "x-decoded-length", nb);
    size_t len;
    const uint8_t *b = body(f, &len);
    if (chunked) {
        assert_null(hdr(f, "content-length"));
        if (m == H1)
            assert_hdr(f, "transfer-encoding", "chunked");
    } else {
        snprintf(nb, sizeof(nb), "%zu", len);
        assert_hdr(f, "content-length", nb);
    }
    sink s = {0};
    int rv = decode_chain(names, k, b, len, &s);
    if (rv != DEC_OK)
        fail_msg("%s over %s: decoding failed (%d)", target, mode_names[m], rv);
    assert_int_equal(s.len, n);
    assert_true(is_text(s.p, n));
    /* "deflate" is zlib-wrapped; deflate-raw is the bare stream under the same name. */
    if (k == 1 && (!strcmp(names[0], "deflate") || !strcmp(names[0], "deflate-raw"))) {
        sink w = {0};
        int zlib = !strcmp(names[0], "deflate");
        assert_int_equal(decode(zlib ? D_RAW : D_ZLIB, b, len, &w), DEC_ERROR);
        free(w.p);
    }
    free(s.p);
    hxc_future_free(f);
}

static void encodings(enum mode m)
{
    itest t;
    open_mode(&t, m);
    static const char *const lists[] = {
        "identity",    "gzip",     "deflate", "deflate-raw",
        "br",          "zstd",     "gzip,br", "deflate-raw,zstd,gzip",
        "br,identity", "zstd,zstd"};
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        check_encoded(&t, m, lists[i], 0, 100000);
        check_encoded(&t, m, lists[i], 1, 300000);
    }
    check_encoded(&t, m, "gzip", 0, 0);
    check_encoded(&t, m, "br", 1, 1);
    /* Unknown codings are refused; /unknown-encoding names one. */
    hxc_future *f = fetch(&t, m, "GET", "/encoding/gzip,snappy", NULL, NULL);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 400);
    hxc_future_free(f);
    f = fetch(&t, m, "GET", "/unknown-encoding", NULL, NULL);
    itest_assert_ok(f, 200);
    assert_hdr(f, "content-encoding", "snappy");
    hxc_future_free(f);
    /* HEAD: the head of a chunked encoding, no body. */
    f = fetch(&t, m, "HEAD", "/encoding/gzip?chunked=1", NULL, NULL);
    itest_assert_ok(f, 200);
    assert_hdr(f, "content-encoding", "gzip");
    size_t len;
    body(f, &len);
    assert_int_equal(len, 0);
    hxc_future_free(f);
    itest_close(&t);
}

/* /corrupt and /truncated: whole HTTP messages whose coding fails to decode. */
static void damaged(enum mode m)
{
    itest t;
    open_mode(&t, m);
    static const char *const cs[] = {"gzip", "deflate", "deflate-raw", "br", "zstd"};
    for (size_t i = 0; i < 5; i++) {
        char target[128];
        size_t len;
        snprintf(target, sizeof(target), "/corrupt/%s?n=50000", cs[i]);
        hxc_future *f = fetch(&t, m, "GET", target, NULL, NULL);
        itest_assert_ok(f, 200);
        const uint8_t *b = body(f, &len);
        sink s = {0};
        if (decode_chain(&cs[i], 1, b, len, &s) != DEC_ERROR)
            fail_msg("%s over %s: decoded without an error", target, mode_names[m]);
        /* What came out before the damage is the text, and stops short of it
         * (brotli's and zstd's decoders may hold theirs back until the error). */
        if ((s.len == 0 && cs[i][0] != 'b' && cs[i][0] != 'z') || s.len >= 50000 ||
            !is_text(s.p ? s.p : "", s.len))
            fail_msg("%s over %s: %zu bytes decoded before the damage", target, mode_names[m],
                     s.len);
        assert_non_null(hdr(f, "x-corrupt-offset"));
        free(s.p);
        hxc_future_free(f);

        snprintf(target, sizeof(target), "/truncated/%s?n=50000", cs[i]);
        f = fetch(&t, m, "GET", target, NULL, NULL);
        itest_assert_ok(f, 200);
        b = body(f, &len);
        memset(&s, 0, sizeof(s));
        if (decode_chain(&cs[i], 1, b, len, &s) != DEC_TRUNCATED)
            fail_msg("%s over %s: not seen as truncated", target, mode_names[m]);
        assert_true(s.len < 50000);
        assert_true(is_text(s.p ? s.p : "", s.len));
        free(s.p);
        hxc_future_free(f);
    }
    /* Only the gzip trailer missing: all the data decodes, the end does not. */
    hxc_future *f = fetch(&t, m, "GET", "/truncated/gzip?n=50000&cut=8", NULL, NULL);
    size_t len;
    const uint8_t *b = body(f, &len);
    sink s = {0};
    const char *gz = "gzip";
    assert_int_equal(decode_chain(&gz, 1, b, len, &s), DEC_TRUNCATED);
    assert_int_equal(s.len, 50000);
    free(s.p);
    hxc_future_free(f);
    f = fetch(&t, m, "GET", "/corrupt/identity", NULL, NULL);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 400);
    hxc_future_free(f);
    itest_close(&t);
}

static long server_hwm_kib(void)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)srv.pid);
    FILE *fp = fopen(path, "r");
    long kib = -1;
    while (fp && fgets(line, sizeof(line), fp))
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (fp)
        fclose(fp);
    return kib;
}

static void bombs(enum mode m)
{
    itest t;
    open_mode(&t, m);
    static const char *const cs[] = {"gzip", "deflate", "deflate-raw", "br", "zstd"};
    const uint64_t size = 64u << 20;
    for (size_t i = 0; i < 5; i++) {
        char target[128];
        size_t len;
        snprintf(target, sizeof(target), "/bomb/%s?size=%llu", cs[i], (unsigned long long)size);
        hxc_future *f = fetch(&t, m, "GET", target, NULL, NULL);
        itest_assert_ok(f, 200);
        assert_null(hdr(f, "content-length"));
        const uint8_t *b = body(f, &len);
        sink s = {.count_only = 1};
        if (decode_chain(&cs[i], 1, b, len, &s) != DEC_OK)
            fail_msg("%s over %s: not decoded", target, mode_names[m]);
        assert_int_equal(s.total, size);
        assert_false(s.nonzero);
        assert_true(len * 200 < size); /* a bomb: over 200 times smaller than it decodes */
        hxc_future_free(f);
    }
    /* 1 GiB, given up by the client after 256 KiB: the server goes on
     * answering, and never held a bomb whole (its peak RSS, below). */
    hxc_future *f = fetch_h(&t, m, "GET", "/bomb/gzip", NULL, NULL, 256u << 10);
    itest_assert_err(f, HXC_EBODY_TOO_LARGE);
    hxc_future_free(f);
    f = fetch(&t, m, "GET", "/hello", NULL, NULL);
    itest_assert_body(f, 200, "hello\n");
    hxc_future_free(f);
    if (m == H1) {
        /* The whole 1 GiB once: zstd is fast to make and to check. */
        f = fetch(&t, m, "GET", "/bomb/zstd", NULL, NULL);
        size_t len;
        const uint8_t *b = body(f, &len);
        sink s = {.count_only = 1};
        const char *z = "zstd";
        assert_int_equal(decode_chain(&z, 1, b, len, &s), DEC_OK);
        assert_int_equal(s.total, 1ULL << 30);
        assert_false(s.nonzero);
        hxc_future_free(f);
    }
    long kib = server_hwm_kib();
    if (kib > 512 * 1024)
        fail_msg("the server's peak RSS is %ld KiB: a bomb was held whole", kib);
    itest_close(&t);
}

/* ---- retries ------------------------------------------------------------- */

static void retries(enum mode m)
{
    itest t;
    open_mode(&t, m);
    char target[256], resp[1024];
    /* Retry-After in seconds, then 200; counted per key. */
    for (int i = 1; i <= 3; i++) {
        snprintf(target, sizeof(target), "/retry-after?key=ra-%d&fail=2&status=503&after=7", m);
        hxc_future *f = fetch(&t, m, "GET", target, NULL, NULL);
        char a[8];
        snprintf(a, sizeof(a), "%d", i);
        assert_hdr(f, "x-attempt", a);
        if (i <= 2) {
            assert_int_equal(hxc_response_status(hxc_future_response(f)), 503);
            assert_hdr(f, "retry-after", "7");
        } else {
            assert_int_equal(hxc_response_status(hxc_future_response(f)), 200);
            assert_null(hdr(f, "retry-after"));
        }
        hxc_future_free(f);
    }
    snprintf(target, sizeof(target), "/retry-count?key=ra-%d", m);
    assert_int_equal(testsrv_get(&srv, target, resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, "\r\n\r\n3\n"));
    assert_int_equal(testsrv_get(&srv, "/retry-count?key=never-used", resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, "\r\n\r\n0\n"));
    /* As an HTTP-date, with another status. */
    snprintf(target, sizeof(target), "/retry-after?key=rd-%d&fail=1&status=429&after=120&date=1",
             m);
    hxc_future *f = fetch(&t, m, "GET", target, NULL, NULL);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 429);
    const char *d = hdr(f, "retry-after");
    assert_non_null(d);
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    assert_true(end != NULL && *end == '\0');
    time_t when = timegm(&tm), now = time(NULL);
    assert_true(when > now + 60 && when <= now + 121);
    hxc_future_free(f);
    f = fetch(&t, m, "GET", target, NULL, NULL);
    itest_assert_ok(f, 200);
    hxc_future_free(f);

    /* /drop-first: the connection closes with no byte, twice, then 200. Each
     * attempt on a client of its own, so that nothing is retried underneath. */
    snprintf(target, sizeof(target), "/drop-first?key=df-%d&n=2", m);
    for (int i = 1; i <= 3; i++) {
        itest t2;
        open_mode(&t2, m);
        f = fetch_h(&t2, m, "GET", target, NULL, NULL, 0);
        if (i <= 2) {
            assert_int_not_equal(hxc_future_error(f), 0);
            assert_int_equal(hxc_response_status(hxc_future_response(f)), 0);
        } else {
            itest_assert_ok(f, 200);
            assert_hdr(f, "x-attempt", "3");
        }
        hxc_future_free(f);
        itest_close(&t2);
    }
    snprintf(target, sizeof(target), "/retry-count?key=df-%d", m);
    assert_int_equal(testsrv_get(&srv, target, resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, "\r\n\r\n3\n"));

    /* /drop-accept: the next connection is reset at accept (a failed
     * connect, or TLS handshake), the one after is served. */
    assert_int_equal(testsrv_get(&srv, "/drop-accept", resp, sizeof(resp)), 0);
    long before = strtol(strstr(resp, "\"dropped\":") + 10, NULL, 10);
    assert_int_equal(testsrv_get(&srv, "/drop-accept?n=1", resp, sizeof(resp)), 0);
    assert_non_null(strstr(resp, "\"pending\":1}"));
    itest t3;
    open_mode(&t3, m);
    f = fetch_h(&t3, m, "GET", "/hello", NULL, NULL, 0);
    assert_int_not_equal(hxc_future_error(f), 0);
    hxc_future_free(f);
    f = fetch(&t3, m, "GET", "/hello", NULL, NULL);
    itest_assert_body(f, 200, "hello\n");
    hxc_future_free(f);
    itest_close(&t3);
    assert_int_equal(testsrv_get(&srv, "/drop-accept", resp, sizeof(resp)), 0);
    assert_int_equal(strtol(strstr(resp, "\"dropped\":") + 10, NULL, 10), before + 1);
    assert_non_null(strstr(resp, "\"pending\":0}"));
    itest_close(&t);
}

/* ---- the link tree --------------------------------------------------------- */

/* The pages reachable from /tree/ on its origin, as documented. */
static const char *const tree_pages[] = {
    "/tree/",    "/tree/a/",  "/tree/b/",  "/tree/c/",  "/tree/a/1",   "/tree/a/2",
    "/tree/a/3", "/tree/a/4", "/tree/a/5", "/tree/a/6", "/tree/a/7",   "/tree/a/8",
    "/tree/b/1", "/tree/b/2", "/tree/b/3", "/tree/b/4", "/tree/b/5",   "/tree/b/6",
    "/tree/b/7", "/tree/b/8", "/tree/c/1", "/tree/c/2", "/tree/c/3",   "/tree/c/4",
    "/tree/c/5", "/tree/c/6", "/tree/c/7", "/tree/c/8", "/tree/moved", "/tree/deep/end",
};

static void tree(enum mode m)
{
    itest t;
    open_mode(&t, m);
    static const char *const gz[] = {"Accept-Encoding", "gzip, br", NULL};
    assert_int_equal(sizeof(tree_pages) / sizeof(tree_pages[0]), 30);
    for (size_t i = 0; i < 30; i++) {
        hxc_future *plain = fetch(&t, m, "GET", tree_pages[i], NULL, NULL);
        itest_assert_ok(plain, 200);
        assert_hdr(plain, "content-type", "text/html; charset=utf-8");
        assert_null(hdr(plain, "content-encoding"));
        size_t plen, zlen;
        const uint8_t *pb = body(plain, &plen);
        assert_non_null(strstr((const char *)pb, "<a href="));
        hxc_future *zipped = fetch(&t, m, "GET", tree_pages[i], NULL, gz);
        itest_assert_ok(zipped, 200);
        assert_hdr(zipped, "content-encoding", "gzip");
        assert_hdr(zipped, "vary", "Accept-Encoding");
        const uint8_t *zb = body(zipped, &zlen);
        sink s = {0};
        assert_int_equal(decode(D_GZIP, zb, zlen, &s), DEC_OK);
        assert_int_equal(s.len, plen);
        assert_memory_equal(s.p, pb, plen);
        free(s.p);
        hxc_future_free(plain);
        hxc_future_free(zipped);
    }
    /* The links of the root, as the page writes them. */
    char other[128], self[128], port2[128];
    hxc_future *f = fetch(&t, m, "GET", "/tree/", NULL, NULL);
    const char *root = (const char *)body(f, NULL);
    testsrv_url(&srv, m == H2TLS, "/tree/c/", self, sizeof(self));
    snprintf(other, sizeof(other), "http://localhost:%d/tree/",
             m == H2TLS ? srv.https_port : srv.http_port);
    snprintf(port2, sizeof(port2), "http://127.0.0.1:%d/tree/", srv.http_port2);
    const char *links[] = {"href=\"a/\"",
                           "href=\"/tree/b/\"",
                           self,
                           "href=\"#top\"",
                           "href=\"/redirect-to?url=%2Ftree%2Fmoved&amp;status=301\"",
                           "href=\"notes.txt\"",
                           "href=\"missing\"",
                           other,
                           port2,
                           "mailto:"};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
        if (strstr(root, links[i]) == NULL)
            fail_msg("/tree/ lacks %s:\n%s", links[i], root);
    hxc_future_free(f);
    /* The redirects of the tree, the text page, the trap it names, a 404. */
    redirect_is(fetch(&t, m, "GET", "/redirect-to?url=%2Ftree%2Fmoved&status=301", NULL, NULL), 301,
                "/tree/moved", "GET", 0);
    redirect_is(fetch(&t, m, "GET", "/redirect-to?url=%2Ftree%2Fdeep%2Fend", NULL, NULL), 302,
                "/tree/deep/end", "GET", 0);
    redirect_is(fetch(&t, m, "GET", "/tree", NULL, NULL), 301, "/tree/", "GET", 0);
    f = fetch(&t, m, "GET", "/tree/notes.txt", NULL, NULL);
    itest_assert_ok(f, 200);
    assert_hdr(f, "content-type", "text/plain; charset=utf-8");
    assert_non_null(strstr((const char *)body(f, NULL), "href=\"/tree/trap\""));
    hxc_future_free(f);
    f = fetch(&t, m, "GET", "/tree/missing", NULL, NULL);
    assert_int_equal(hxc_response_status(hxc_future_response(f)), 404);
    hxc_future_free(f);
    itest_close(&t);
}

#define MODES(fn)                                                                                  \
    static void test_##fn##_h1(void **state)                                                       \
    {                                                                                              \
        (void)state;                                                                               \
        fn(H1);                                                                                    \
    }                                                                                              \
    static void test_##fn##_h2c(void **state)                                                      \
    {                                                                                              \
        (void)state;                                                                               \
        fn(H2C);                                                                                   \
    }                                                                                              \
    static void test_##fn##_h2tls(void **state)                                                    \
    {                                                                                              \
        (void)state;                                                                               \
        fn(H2TLS);                                                                                 \
    }
#define MODE_TESTS(fn)                                                                             \
    cmocka_unit_test(test_##fn##_h1), cmocka_unit_test(test_##fn##_h2c),                           \
        cmocka_unit_test(test_##fn##_h2tls)

MODES(redirects)
MODES(echo_and_second_origin)
MODES(encodings)
MODES(damaged)
MODES(bombs)
MODES(retries)
MODES(tree)

int main(void)
{
    const struct CMUnitTest tests[] = {
        MODE_TESTS(redirects), MODE_TESTS(echo_and_second_origin),
        MODE_TESTS(encodings), MODE_TESTS(damaged),
        MODE_TESTS(bombs),     MODE_TESTS(retries),
        MODE_TESTS(tree),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
