/* SPDX-License-Identifier: MIT */
/*
 * Integration: query parameters and form bodies, over HTTP/1.1 and h2c,
 * against the test server's /echo (request head and body sent back) and
 * scripted peers:
 * - query parameters reach the server as the request target, encoded;
 * - a urlencoded form arrives as its bytes, with its Content-Type and
 *   Content-Length;
 * - a multipart form with a text part and a 3 MiB file arrives byte for
 *   byte (SHA-256 of the file on disk and of the part the server got), with
 *   a Content-Length (no chunked encoding on HTTP/1.1) equal to its bytes;
 * - a 100 MB file goes up while the client holds less than 4 MiB (counted
 *   through the allocator hooks and libevent's);
 * - a file removed before it is sent, and one truncated while it is sent
 *   (a peer that stops reading after 1 MiB until the test has truncated
 *   it), end the request with HXC_EINVAL and a detail naming the file, and
 *   the client goes on; no file descriptor is left open;
 * - a request cancelled in the middle of its file closes the file as it
 *   ends, while its response is still alive.
 *
 * The files live in a temporary directory; the big ones are sparse.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "flowpeers.h"
#include "tmpdir.h"

static testsrv srv;
static char dir[64];

static int setup(void **state)
{
    (void)state;
    return tmpdir_make(dir, sizeof(dir), "hxc-iform") == 0 ? testsrv_start(&srv, NULL) : -1;
}

static int teardown(void **state)
{
    (void)state;
    testsrv_stop(&srv);
    return tmpdir_remove(dir);
}

static const char *path_of(const char *name) { return tmpdir_path(dir, name); }

/* A sparse file of `size` bytes (zeros, no disk spent). */
static void make_sparse(const char *path, off_t size)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, size), 0);
    close(fd);
}

/* A request of `method` to `url` with a multipart form: the text field
 * `text_name` (unless NULL) and the file at `path` as part "file". */
static hxc_request *file_request(const char *method, const char *url, const char *text_name,
                                 const char *text, const char *path, const char *content_type)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, method, url), 0);
    hxc_form *form = hxc_form_new();
    if (text_name != NULL)
        assert_int_equal(hxc_form_add(form, text_name, text), 0);
    assert_int_equal(hxc_form_add_file(form, "file", path, NULL, content_type), 0);
    assert_int_equal(hxc_request_set_form(req, form, 1), 0);
    return req;
}

/* `why` says both things. */
static void assert_detail(const char *why, const char *a, const char *b)
{
    if (strstr(why, a) == NULL || strstr(why, b) == NULL)
        fail_msg("detail: %s (expected '%s' and '%s')", why, a, b);
}

/* Descriptors open in this process: none may be left by a form. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Whether this process has `path` open (a descriptor of a form's). */
static int is_open(const char *path)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d)) != NULL) {
        char link[300], target[300];
        snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n > 0) {
            target[n] = '\0';
            found |= strcmp(target, path) == 0;
        }
    }
    closedir(d);
    return found;
}

static void open_client(itest *t, int h2c)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2c;
    itest_open(t, &cfg);
}

static const char *version_of(int h2c) { return h2c ? "HTTP/2" : "HTTP/1.1"; }

/* What /echo sent back: the head (NUL-terminated copy) and the body. */
typedef struct echoed {
    char *head;
    const uint8_t *body;
    size_t body_len;
} echoed;

static void echo_split(hxc_future *f, int h2c, echoed *e)
{
    size_t len;
    const uint8_t *b = hxc_response_body(hxc_future_response(f), &len);
    const char *end = h2c ? "\n\n" : "\r\n\r\n";
    const uint8_t *sep = memmem(b, len, end, strlen(end));
    assert_non_null(sep);
    size_t hl = (size_t)(sep - b);
    e->head = malloc(hl + 1);
    memcpy(e->head, b, hl);
    e->head[hl] = '\0';
    e->body = sep + strlen(end);
    e->body_len = len - hl - strlen(end);
}

/* The value of header `name` in an echoed head (to the line's end), or NULL. */
static char *echo_header(const echoed *e, const char *name, char *out, size_t cap)
{
    char key[64];
    snprintf(key, sizeof(key), "\n%s: ", name);
    const char *p = strcasestr(e->head, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)n, p);
    return out;
}

static void sha256(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
    assert_int_equal(n, 32);
}

/* ---- query parameters ------------------------------------------------------- */

static void query_over(int h2c)
{
    itest t;
    open_client(&t, h2c);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, "/echo?x=1#top")), 0);
    assert_int_equal(hxc_request_add_query(req, "q", "a b+c&d"), 0);
    assert_int_equal(hxc_request_add_query(req, "caf\xc3\xa9", NULL), 0);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    itest_assert_ok(f, 200);
    hxc_response *r = hxc_future_response(f);
    assert_string_equal(hxc_response_http_version(r), version_of(h2c));
    const char *want = "GET /echo?x=1&q=a%20b%2Bc%26d&caf%C3%A9";
    size_t len;
    const char *b = (const char *)hxc_response_body(r, &len);
    if (len < strlen(want) || memcmp(b, want, strlen(want)) != 0 ||
        (b[strlen(want)] != ' ' && b[strlen(want)] != '\n'))
        fail_msg("echoed: %.*s", (int)(len < 80 ? len : 80), b);
    assert_non_null(strstr(hxc_response_url(r), "/echo?x=1&q=a%20b%2Bc%26d&caf%C3%A9#top"));
    hxc_future_free(f);
    itest_close(&t);
}

static void test_query_h1(void **state) { (void)state, query_over(0); }
static void test_query_h2c(void **state) { (void)state, query_over(1); }

/* ---- urlencoded ------------------------------------------------------------ */

static void urlencoded_over(int h2c)
{
    itest t;
    open_client(&t, h2c);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", itest_url(&srv, 0, "/echo")), 0);
    hxc_form *form = hxc_form_new();
    assert_int_equal(hxc_form_add(form, "name", "Jane Doe"), 0);
    assert_int_equal(hxc_form_add(form, "tag", "a&b=c"), 0);
    assert_int_equal(hxc_form_add(form, "tag", "\xe2\x82\xac 5"), 0);
    assert_int_equal(hxc_request_set_form(req, form, 0), 0);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), 0);
    itest_assert_ok(f, 200);
    echoed e;
    echo_split(f, h2c, &e);
    const char *want = "name=Jane+Doe&tag=a%26b%3Dc&tag=%E2%82%AC+5";
    assert_int_equal(e.body_len, strlen(want));
    assert_memory_equal(e.body, want, e.body_len);
    char v[128];
    assert_string_equal(echo_header(&e, "content-type", v, sizeof(v)),
                        "application/x-www-form-urlencoded");
    char cl[32];
    snprintf(cl, sizeof(cl), "%zu", strlen(want));
    assert_string_equal(echo_header(&e, "content-length", v, sizeof(v)), cl);
    free(e.head);
    hxc_future_free(f);
    itest_close(&t);
}

static void test_urlencoded_h1(void **state) { (void)state, urlencoded_over(0); }
static void test_urlencoded_h2c(void **state) { (void)state, urlencoded_over(1); }

/* ---- multipart ------------------------------------------------------------- */

/* A file of `size` bytes that no boundary would be found in by chance only:
 * a pseudo-random stream (xorshift), written in 64 KiB pieces. */
static void write_random_file(const char *path, size_t size, unsigned char digest[32])
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    uint64_t x = 88172645463325252ull;
    uint8_t buf[65536];
    for (size_t done = 0; done < size;) {
        size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        assert_int_equal(fwrite(buf, 1, n, fp), n);
        EVP_DigestUpdate(md, buf, n);
        done += n;
    }
    assert_int_equal(fclose(fp), 0);
    unsigned int dl = 0;
    EVP_DigestFinal_ex(md, digest, &dl);
    EVP_MD_CTX_free(md);
}

#define FILE_SIZE ((size_t)3 << 20)

static void multipart_over(int h2c)
{
    const char *path = path_of("photo.raw");
    unsigned char on_disk[32], received[32];
    write_random_file(path, FILE_SIZE, on_disk);
    int fds = open_fds();
    itest t;
    open_client(&t, h2c);
    hxc_request *req = file_request("POST", itest_url(&srv, 0, "/echo"), "caption",
                                    "a \"quoted\" caption\r\non two lines", path, "image/x-raw");
    hxc_future *f = hxc_client_request(t.client, req);
    int err = hxc_future_wait(f);
    if (err != 0)
        fail_msg("%s: %s", hxc_error_name(err), hxc_response_error_detail(hxc_future_response(f)));
    itest_assert_ok(f, 200);
    assert_string_equal(hxc_response_http_version(hxc_future_response(f)), version_of(h2c));
    echoed e;
    echo_split(f, h2c, &e);

    /* Its head: the boundary, and a length equal to the bytes that came. */
    char ct[128], cl[32], want_cl[32];
    assert_non_null(echo_header(&e, "content-type", ct, sizeof(ct)));
    assert_true(strncmp(ct, "multipart/form-data; boundary=", 30) == 0);
    const char *boundary = ct + 30;
    assert_non_null(echo_header(&e, "content-length", cl, sizeof(cl)));
    snprintf(want_cl, sizeof(want_cl), "%zu", e.body_len);
    assert_string_equal(cl, want_cl);
    assert_null(strcasestr(e.head, "transfer-encoding"));

    /* Its body, part by part. */
    char text[512];
    int tl = snprintf(text, sizeof(text),
                      "--%s\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\n"
                      "a \"quoted\" caption\r\non two lines\r\n"
                      "--%s\r\nContent-Disposition: form-data; name=\"file\"; "
                      "filename=\"photo.raw\"\r\nContent-Type: image/x-raw\r\n\r\n",
                      boundary, boundary);
    char close[128];
    int cll = snprintf(close, sizeof(close), "\r\n--%s--\r\n", boundary);
    assert_int_equal(e.body_len, (size_t)tl + FILE_SIZE + (size_t)cll);
    assert_memory_equal(e.body, text, (size_t)tl);
    assert_memory_equal(e.body + tl + FILE_SIZE, close, (size_t)cll);
    sha256(e.body + tl, FILE_SIZE, received);
    assert_memory_equal(received, on_disk, 32);
    free(e.head);
    hxc_future_free(f);
    itest_close(&t);
    assert_int_equal(open_fds(), fds);
}

static void test_multipart_h1(void **state) { (void)state, multipart_over(0); }
static void test_multipart_h2c(void **state) { (void)state, multipart_over(1); }

/* ---- a 100 MB file, in little memory --------------------------------------- */

#define BIG_SIZE ((off_t)100 << 20)

typedef struct big_seen {
    char head[4096]; /* the start of the echo: its head */
    size_t head_len;
    uint64_t bytes;
    size_t held0, grew; /* what the client held: at the start, and most while sending */
} big_seen;

/* The server answers once it has the whole body: sending is over. */
static int big_head(hxc_response *r, void *ud)
{
    (void)r;
    big_seen *s = ud;
    s->grew = rf_meter_grew(s->held0);
    return 0;
}

static int big_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)r;
    big_seen *s = ud;
    size_t room = sizeof(s->head) - 1 - s->head_len;
    size_t take = n < room ? n : room;
    memcpy(s->head + s->head_len, d, take);
    s->head_len += take;
    s->head[s->head_len] = '\0';
    s->bytes += n;
    return 0;
}

static void big_over(int h2c)
{
    const char *path = path_of("big.bin");
    make_sparse(path, BIG_SIZE);
    itest t;
    open_client(&t, h2c);
    hxc_request *req =
        file_request("PUT", itest_url(&srv, 0, "/echo"), "what", "a big file", path, NULL);
    big_seen seen;
    memset(&seen, 0, sizeof(seen));
    /* Streamed back to a consumer, and measured until the echo's head:
     * what sending costs, not what the 16 MiB the server sends back do. */
    assert_int_equal(hxc_request_on_response_stream(req, big_head, big_body, &seen), 0);
    seen.held0 = rf_meter_start();
    double t0 = rf_now();
    hxc_future *f = hxc_client_request(t.client, req);
    int err = hxc_future_wait(f);
    size_t grew = seen.grew;
    print_message("%s: 100 MB form file sent and echoed in %.2f s, held at most +%zu KiB while "
                  "sending\n",
                  version_of(h2c), rf_now() - t0, grew >> 10);
    if (err != 0)
        fail_msg("%s: %s", hxc_error_name(err), hxc_response_error_detail(hxc_future_response(f)));
    itest_assert_ok(f, 200);
    /* The server got it all: its Content-Length counts the whole file. */
    const char *cl = strcasestr(seen.head, "content-length: ");
    assert_non_null(cl);
    unsigned long long n = strtoull(cl + 16, NULL, 10);
    assert_true(n > (unsigned long long)BIG_SIZE && n < (unsigned long long)BIG_SIZE + 1000);
    assert_true(seen.bytes > 0);
    hxc_future_free(f);
    itest_close(&t);
    unlink(path);
    assert_true(grew < (4u << 20));
}

static void test_big_file_h1(void **state) { (void)state, big_over(0); }
static void test_big_file_h2c(void **state) { (void)state, big_over(1); }

/* ---- a file gone before it is sent ----------------------------------------- */

static void missing_over(int h2c)
{
    const char *path = path_of("gone.txt");
    FILE *fp = fopen(path, "w");
    fputs("soon gone\n", fp);
    fclose(fp);
    int fds = open_fds();
    itest t;
    open_client(&t, h2c);
    hxc_request *req = file_request("POST", itest_url(&srv, 0, "/echo"), "a", "b", path, NULL);
    unlink(path);
    hxc_future *f = hxc_client_request(t.client, req);
    assert_int_equal(hxc_future_wait(f), HXC_EINVAL);
    itest_assert_err(f, HXC_EINVAL);
    assert_detail(hxc_response_error_detail(hxc_future_response(f)), path,
                  "No such file or directory");
    hxc_future_free(f);
    /* The client goes on. */
    f = itest_fetch(t.client, "GET", itest_url(&srv, 0, "/hello"), NULL);
    itest_assert_body(f, 200, "hello\n");
    hxc_future_free(f);
    itest_close(&t);
    assert_int_equal(open_fds(), fds);
    /* Missing when added: refused there, named. */
    hxc_form *form = hxc_form_new();
    assert_int_equal(hxc_form_add_file(form, "f", path, NULL, NULL), HXC_EINVAL);
    assert_non_null(strstr(hxc_form_error_detail(form), path));
    hxc_form_free(form);
}

static void test_missing_file_h1(void **state) { (void)state, missing_over(0); }
static void test_missing_file_h2c(void **state) { (void)state, missing_over(1); }

/* ---- a file truncated while it is sent ------------------------------------- */

#define TRUNC_SIZE ((off_t)64 << 20) /* far more than the client and the kernel buffer */

typedef struct trunc_ctx {
    const char *path;
    _Atomic int got;       /* the peer has read 1 MiB of the body and stopped */
    _Atomic int truncated; /* the test has truncated the file: read on */
    struct event *timer;
    hxc_future *cancel; /* instead of truncating, cancel this */
    int was_open;       /* the file was open when the peer stopped */
} trunc_ctx;

/* Waits (reading nothing) until the test has truncated the file. */
static int wait_truncated(rawpeer *p, trunc_ctx *c)
{
    atomic_store(&c->got, 1);
    while (!atomic_load(&c->truncated))
        if (rawpeer_hold(p, 5) != 0)
            return -1;
    return 0;
}

static void trunc_h1_script(rawpeer *p, int fd, int index, void *arg)
{
    trunc_ctx *c = arg;
    char head[4096];
    if (index > 0 || rawpeer_recv_head(p, fd, head, sizeof(head), 10000) < 0)
        return;
    static char buf[65536];
    for (size_t got = 0; got < (1u << 20);) {
        ssize_t n = rawpeer_recv(p, fd, buf, sizeof(buf), 10000);
        if (n <= 0)
            return;
        got += (size_t)n;
    }
    if (wait_truncated(p, c) == 0)
        rawpeer_drain_until_eof(p, fd, 30000); /* the client closes the connection */
}

static void trunc_h2_script(rawpeer *p, int fd, int index, void *arg)
{
    trunc_ctx *c = arg;
    if (index > 0 || rf_accept_wide(p, fd) != 0)
        return;
    rawpeer_frame *fr = malloc(sizeof(*fr));
    uint64_t got = 0;
    while (got < (1u << 20) && rawpeer_h2_recv(p, fd, fr, 10000) == 0)
        if (fr->type == RAWPEER_DATA)
            got += fr->len;
    /* On until the client resets the stream (the session goes on). */
    if (got >= (1u << 20) && wait_truncated(p, c) == 0)
        while (rawpeer_h2_recv(p, fd, fr, 30000) == 0 && fr->type != RAWPEER_RST_STREAM)
            ;
    free(fr);
    rawpeer_hold(p, -1);
}

/* On the client's loop: once the peer has stopped, the file is truncated. */
static void trunc_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    trunc_ctx *c = arg;
    if (atomic_load(&c->got) && !atomic_load(&c->truncated)) {
        c->was_open = is_open(c->path);
        if (c->cancel != NULL)
            hxc_future_cancel(c->cancel);
        else
            assert_int_equal(truncate(c->path, 1000), 0);
        atomic_store(&c->truncated, 1);
    }
}

/* The peer stops after 1 MiB, then the file is truncated (or the request
 * cancelled, with `cancel`): the request ends, and its file is closed as it
 * ends, not when its response is freed. */
static void stopped_peer_over(int h2c, int cancel)
{
    trunc_ctx c;
    memset(&c, 0, sizeof(c));
    c.path = path_of("shrinks.bin");
    make_sparse(c.path, TRUNC_SIZE);
    int fds = open_fds();
    rawpeer *peer = rawpeer_start(h2c ? trunc_h2_script : trunc_h1_script, &c);
    assert_non_null(peer);
    itest t;
    open_client(&t, h2c);
    c.timer = event_new(t.base, -1, EV_PERSIST, trunc_tick, &c);
    struct timeval ms5 = {0, 5000};
    event_add(c.timer, &ms5);
    char url[128];
    hxc_request *req = file_request("POST", rawpeer_url(peer, "/upload", url, sizeof(url)), NULL,
                                    NULL, c.path, NULL);
    hxc_future *f = hxc_client_request(t.client, req);
    if (cancel)
        c.cancel = f;
    int err = hxc_future_wait(f);
    const char *why = hxc_response_error_detail(hxc_future_response(f));
    print_message("%s: %s while sent: %s (%s)\n", version_of(h2c),
                  cancel ? "cancelled" : "truncated", hxc_error_name(err), why);
    assert_true(atomic_load(&c.truncated));
    assert_true(c.was_open);
    assert_false(is_open(c.path)); /* the response is still alive */
    if (cancel) {
        itest_assert_err(f, HXC_ECANCELLED);
    } else {
        itest_assert_err(f, HXC_EINVAL);
        assert_detail(why, c.path, "ended after");
    }
    hxc_future_free(f);
    event_free(c.timer);
    itest_close(&t);
    rawpeer_stop(peer);
    assert_int_equal(open_fds(), fds);
    unlink(c.path);
}

static void test_truncated_h1(void **state) { (void)state, stopped_peer_over(0, 0); }
static void test_truncated_h2c(void **state) { (void)state, stopped_peer_over(1, 0); }
static void test_cancelled_h1(void **state) { (void)state, stopped_peer_over(0, 1); }
static void test_cancelled_h2c(void **state) { (void)state, stopped_peer_over(1, 1); }

int main(void)
{
    rf_meter_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_h1),        cmocka_unit_test(test_query_h2c),
        cmocka_unit_test(test_urlencoded_h1),   cmocka_unit_test(test_urlencoded_h2c),
        cmocka_unit_test(test_multipart_h1),    cmocka_unit_test(test_multipart_h2c),
        cmocka_unit_test(test_big_file_h1),     cmocka_unit_test(test_big_file_h2c),
        cmocka_unit_test(test_missing_file_h1), cmocka_unit_test(test_missing_file_h2c),
        cmocka_unit_test(test_truncated_h1),    cmocka_unit_test(test_truncated_h2c),
        cmocka_unit_test(test_cancelled_h1),    cmocka_unit_test(test_cancelled_h2c),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
