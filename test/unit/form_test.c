/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of forms and query parameters: the encoders of policy/form.c
 * (urlencoded escaping, the multipart layout byte for byte, the boundary
 * drawn again when it occurs in a part, name and filename escaping, the
 * Content-Length against the bytes produced however the body is cut), the
 * producer of api/form.c on real files in a temporary directory (a file
 * truncated, grown or removed under it, at its exact moments), and
 * hxc_request_add_query / hxc_request_set_form on a request.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "hxc/hxc.h"
#include "api/api.h"
#include "core/message.h"
#include "policy/form.h"
#include "tmpdir.h"

/* ---- helpers ------------------------------------------------------------- */

/* A deterministic random source: draw k gives bytes k*16 .. k*16+15. */
static int draws;
static int counting_random(unsigned char *buf, int n)
{
    for (int i = 0; i < n; i++)
        buf[i] = (unsigned char)(draws * 16 + i);
    draws++;
    return 1;
}
static int same_random(unsigned char *buf, int n)
{
    memset(buf, 0xab, (size_t)n);
    return 1;
}
static int broken_random(unsigned char *buf, int n)
{
    (void)buf, (void)n;
    return 0;
}

static char *escaped(const char *s, int plus)
{
    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__form_escape(&b, s, strlen(s), plus), 0);
    return (char *)b.data; /* freed by the caller with free(): the default allocator */
}

/* The whole multipart body of `f` through the encoder, `piece` bytes at a
 * time, file parts filled with their index's letter ('A' + part). */
static uint8_t *encode_all(const hxc_form *f, size_t piece, size_t *len)
{
    uint8_t *out = malloc((size_t)f->total + 1);
    size_t n = 0;
    hxc__form_cursor c;
    hxc__form_cursor_init(&c, f);
    uint8_t *buf = malloc(piece);
    for (int guard = 0; !hxc__form_done(&c); guard++) {
        assert_true(guard < 10000000);
        size_t w = hxc__form_emit(&c, f, buf, piece);
        size_t part;
        uint64_t left;
        while (w < piece && hxc__form_at_file(&c, f, &part, &left)) {
            if (left == 0) {
                hxc__form_file_end(&c, f);
                w += hxc__form_emit(&c, f, buf + w, piece - w);
                continue;
            }
            size_t take = left < piece - w ? (size_t)left : piece - w;
            memset(buf + w, 'A' + (int)part, take);
            hxc__form_file_advance(&c, take);
            w += take;
            w += hxc__form_emit(&c, f, buf + w, piece - w);
        }
        assert_true(n + w <= f->total);
        memcpy(out + n, buf, w);
        n += w;
    }
    free(buf);
    *len = n;
    return out;
}

static hxc_form *small_form(void)
{
    hxc_form *f = hxc__form_new();
    assert_int_equal(
        hxc__form_add_part(f, HXC__PART_TEXT, "title", "Hello, world", 12, NULL, NULL, NULL), 0);
    assert_int_equal(hxc__form_add_part(f, HXC__PART_DATA, "blob", "\x00\x01\r\n", 4, NULL, "b.bin",
                                        "application/octet-stream"),
                     0);
    assert_int_equal(hxc__form_add_part(f, HXC__PART_FILE, "doc", NULL, 5, "/nowhere/doc.txt",
                                        "doc.txt", "text/plain"),
                     0);
    assert_int_equal(hxc__form_add_part(f, HXC__PART_TEXT, "title", "", 0, NULL, NULL, NULL), 0);
    return f;
}

/* ---- urlencoded ------------------------------------------------------------ */

static void test_escape(void **state)
{
    (void)state;
    char *s = escaped("AZaz09-._~", 1);
    assert_string_equal(s, "AZaz09-._~"); /* RFC 3986 unreserved: as they are */
    free(s);
    s = escaped("a b+c&d=e/f?g#h%i*j'k", 1);
    assert_string_equal(s, "a+b%2Bc%26d%3De%2Ff%3Fg%23h%25i%2Aj%27k");
    free(s);
    s = escaped("a b", 0);
    assert_string_equal(s, "a%20b"); /* query strings: %20 */
    free(s);
    s = escaped("\xc3\xa9\t\x7f\xff", 0);
    assert_string_equal(s, "%C3%A9%09%7F%FF"); /* bytes, upper-case hex */
    free(s);
    /* Every byte: unreserved ones as they are, the rest as exactly %XX. */
    for (int c = 1; c < 256; c++) {
        char in[2] = {(char)c, 0}, want[4];
        int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-._~", c) != NULL;
        snprintf(want, sizeof(want), plain ? "%c" : "%%%02X", c);
        s = escaped(in, 0);
        assert_string_equal(s, want);
        free(s);
    }
}

static void test_urlencode(void **state)
{
    (void)state;
    hxc_form *f = hxc__form_new();
    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__form_urlencode(f, &b), 0);
    assert_non_null(b.data); /* empty, not NULL */
    assert_int_equal(b.len, 0);
    assert_int_equal(hxc_form_add(f, "q", "C & C++ = 100%"), 0);
    assert_int_equal(hxc_form_add(f, "tag", "a"), 0);
    assert_int_equal(hxc_form_add(f, "tag", ""), 0); /* repeated, and empty */
    assert_int_equal(hxc_form_add(f, "na me", "caf\xc3\xa9"), 0);
    assert_int_equal(hxc__form_urlencode(f, &b), 0);
    assert_string_equal((char *)b.data, "q=C+%26+C%2B%2B+%3D+100%25&tag=a&tag=&na+me=caf%C3%A9");
    hxc__buf_free(&b);
    /* Files and data need multipart. */
    assert_int_equal(hxc_form_add_data(f, "d", "x", 1, NULL, NULL), 0);
    hxc__buf_init(&b);
    assert_int_equal(hxc__form_urlencode(f, &b), HXC_EINVAL);
    hxc__buf_free(&b);
    hxc_form_free(f);
}

/* ---- multipart ------------------------------------------------------------- */

static const char small_boundary[] = "hxc-000102030405060708090a0b0c0d0e0f";

static const char small_body[] =
    "--hxc-000102030405060708090a0b0c0d0e0f\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello, world\r\n"
    "--hxc-000102030405060708090a0b0c0d0e0f\r\n"
    "Content-Disposition: form-data; name=\"blob\"; filename=\"b.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\x00\x01\r\n\r\n"
    "--hxc-000102030405060708090a0b0c0d0e0f\r\n"
    "Content-Disposition: form-data; name=\"doc\"; filename=\"doc.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "CCCCC\r\n"
    "--hxc-000102030405060708090a0b0c0d0e0f\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "\r\n"
    "--hxc-000102030405060708090a0b0c0d0e0f--\r\n";

static void test_multipart_layout(void **state)
{
    (void)state;
    hxc_form *f = small_form();
    draws = 0;
    assert_int_equal(hxc__form_layout(f, counting_random), 0);
    assert_string_equal(f->boundary, small_boundary);
    assert_int_equal(f->total, sizeof(small_body) - 1);
    /* The same bytes however the buffer cuts them: a byte at a time, at
     * odd sizes, and all at once. */
    const size_t pieces[] = {1, 2, 3, 7, 41, 64, 65536};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        size_t len;
        uint8_t *body = encode_all(f, pieces[i], &len);
        assert_int_equal(len, sizeof(small_body) - 1);
        assert_memory_equal(body, small_body, len);
        free(body);
    }
    /* The encoder stops at a file's bytes, and only there. */
    hxc__form_cursor c;
    hxc__form_cursor_init(&c, f);
    uint8_t buf[1024];
    size_t w = hxc__form_emit(&c, f, buf, sizeof(buf));
    const char *doc = memmem(small_body, sizeof(small_body) - 1, "CCCCC", 5);
    assert_int_equal(w, (size_t)(doc - small_body));
    size_t part;
    uint64_t left;
    assert_true(hxc__form_at_file(&c, f, &part, &left));
    assert_int_equal(part, 2);
    assert_int_equal(left, 5);
    assert_int_equal(hxc__form_emit(&c, f, buf, sizeof(buf)), 0);
    hxc__form_unref(f);
}

static void test_multipart_empty(void **state)
{
    (void)state;
    hxc_form *f = hxc__form_new();
    draws = 0;
    assert_int_equal(hxc__form_layout(f, counting_random), 0);
    size_t len;
    uint8_t *body = encode_all(f, 10, &len);
    assert_int_equal(len, f->total);
    assert_memory_equal(body, "--hxc-000102030405060708090a0b0c0d0e0f--\r\n", len);
    free(body);
    hxc__form_unref(f);
}

/* A boundary found in a text or data part is drawn again; one that cannot
 * be got out of the content, or no random bytes at all, is an error. */
static void test_boundary_not_in_content(void **state)
{
    (void)state;
    const char *first = small_boundary; /* what the first draw makes */
    char text[200];
    snprintf(text, sizeof(text), "a value that holds\r\n--%s\r\nby chance", first);
    for (int kind = HXC__PART_TEXT; kind <= HXC__PART_DATA; kind++) {
        hxc_form *f = hxc__form_new();
        assert_int_equal(hxc__form_add_part(f, kind, "x", text, strlen(text), NULL, NULL, NULL), 0);
        draws = 0;
        assert_int_equal(hxc__form_layout(f, counting_random), 0);
        assert_int_equal(draws, 2);
        assert_string_not_equal(f->boundary, first);
        assert_string_equal(f->boundary, "hxc-101112131415161718191a1b1c1d1e1f");
        size_t len;
        uint8_t *body = encode_all(f, 100, &len);
        assert_int_equal(len, f->total);
        /* The boundary occurs where it delimits, and nowhere else. */
        int seen = 0;
        for (const uint8_t *p = body;
             (p = memmem(p, len - (size_t)(p - body), f->boundary, strlen(f->boundary))) != NULL;
             p++)
            seen++;
        assert_int_equal(seen, 2);
        free(body);
        hxc__form_unref(f);
    }
    hxc_form *f = hxc__form_new();
    char same[64];
    memset(same, 0, sizeof(same));
    memcpy(same, "hxc-", 4);
    for (int i = 0; i < 16; i++)
        memcpy(same + 4 + 2 * i, "ab", 2);
    assert_int_equal(
        hxc__form_add_part(f, HXC__PART_TEXT, "x", same, strlen(same), NULL, NULL, NULL), 0);
    assert_int_equal(hxc__form_layout(f, same_random), HXC_EINVAL);
    assert_string_equal(f->error, "no random bytes for the multipart boundary");
    assert_int_equal(hxc__form_layout(f, broken_random), HXC_EINVAL);
    hxc__form_unref(f);
}

static void test_name_escaping(void **state)
{
    (void)state;
    hxc_form *f = hxc__form_new();
    assert_int_equal(hxc__form_add_part(f, HXC__PART_DATA, "a\"b\r\nc\x01\x7f\\d", "v", 1, NULL,
                                        "x\"y\r\n.txt", "text/plain"),
                     0);
    assert_int_equal(hxc__form_add_part(f, HXC__PART_DATA, "caf\xc3\xa9", "v", 1, NULL,
                                        "r\xc3\xa9sum\xc3\xa9 \\ 1;2.pdf", "application/pdf"),
                     0);
    draws = 0;
    assert_int_equal(hxc__form_layout(f, counting_random), 0);
    const char *h0 = "--hxc-000102030405060708090a0b0c0d0e0f\r\n"
                     "Content-Disposition: form-data; name=\"a%22b%0D%0Ac%01%7F\\d\"; "
                     "filename=\"x%22y%0D%0A.txt\"\r\n"
                     "Content-Type: text/plain\r\n\r\n";
    const char *h1 = "--hxc-000102030405060708090a0b0c0d0e0f\r\n"
                     "Content-Disposition: form-data; name=\"caf\xc3\xa9\"; "
                     "filename=\"r\xc3\xa9sum\xc3\xa9 \\ 1;2.pdf\"\r\n"
                     "Content-Type: application/pdf\r\n\r\n";
    assert_int_equal(f->parts[0].head_len, strlen(h0));
    assert_memory_equal(f->parts[0].head, h0, strlen(h0));
    assert_int_equal(f->parts[1].head_len, strlen(h1));
    assert_memory_equal(f->parts[1].head, h1, strlen(h1));
    /* A Content-Type that would break the head is refused. */
    assert_int_equal(
        hxc__form_add_part(f, HXC__PART_DATA, "n", "v", 1, NULL, NULL, "text/plain\r\nX-Evil: 1"),
        HXC_EINVAL);
    assert_int_equal(hxc__form_add_part(f, HXC__PART_DATA, "n", "v", 1, NULL, NULL, ""),
                     HXC_EINVAL);
    assert_int_equal(f->n, 2);
    hxc__form_unref(f);
}

/* ---- the producer, on files ------------------------------------------------ */

static char dir[64];

static int make_dir(void **state) { return (void)state, tmpdir_make(dir, sizeof(dir), "hxc-form"); }
static int remove_dir(void **state) { return (void)state, tmpdir_remove(dir); }
static const char *path_of(const char *name) { return tmpdir_path(dir, name); }

/* `why` is set and says both things. */
static void assert_detail(const char *why, const char *a, const char *b)
{
    if (why == NULL || strstr(why, a) == NULL || strstr(why, b) == NULL)
        fail_msg("detail: %s (expected '%s' and '%s')", why ? why : "NULL", a, b);
}

/* A file of `size` bytes, byte i = (i * 7 + 3) % 251. */
static void write_file(const char *path, size_t size)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    for (size_t i = 0; i < size; i++)
        fputc((int)((i * 7 + 3) % 251), fp);
    assert_int_equal(fclose(fp), 0);
}

/* Calls the request's producer as the client does (64 KiB at a time) until
 * it ends or fails; the bytes go to *out (malloc'd, caller frees). */
static int produce_all(hxc_request *req, uint8_t **out, size_t *len, int stop_after_calls)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    int eof = 0, rv = 0, calls = 0;
    while (!eof && rv == 0 && calls++ != stop_after_calls) {
        buf = realloc(buf, n + (1 << 16));
        size_t w = 0;
        rv = req->producer(req, buf + n, 1 << 16, &w, &eof, req->producer_ud);
        assert_true(w <= (1 << 16));
        n += w;
    }
    *out = buf;
    *len = n;
    return rv;
}

static hxc_request *file_request(const char *path, hxc_form **fout)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", "http://h/upload"), 0);
    hxc_form *f = hxc_form_new();
    assert_int_equal(hxc_form_add(f, "note", "a file follows"), 0);
    assert_int_equal(hxc_form_add_file(f, "file", path, NULL, "application/x-test"), 0);
    assert_int_equal(hxc_request_set_form(req, f, 1), 0);
    if (fout)
        *fout = f;
    return req;
}

/* The producer sends exactly Content-Length bytes: the framing, and the
 * file's bytes as they are on disk. */
static void test_producer_file(void **state)
{
    (void)state;
    const char *p = path_of("data.bin");
    size_t size = 300000; /* several producer calls */
    write_file(p, size);
    hxc_request *req = file_request(p, NULL);
    const char *ct = hxc_headers_get(hxc_request_headers(req), "content-type");
    assert_non_null(ct);
    assert_true(strncmp(ct, "multipart/form-data; boundary=hxc-", 34) == 0);
    assert_int_equal(strlen(ct), 30 + HXC__FORM_BOUNDARY_LEN);
    uint8_t *body;
    size_t len;
    assert_int_equal(produce_all(req, &body, &len, -1), 0);
    assert_int_equal((int64_t)len, req->producer_len);
    const char *boundary = ct + 30;
    char head[512];
    int hl =
        snprintf(head, sizeof(head),
                 "--%s\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\na file follows\r\n"
                 "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"data.bin\"\r\n"
                 "Content-Type: application/x-test\r\n\r\n",
                 boundary, boundary);
    assert_memory_equal(body, head, (size_t)hl);
    for (size_t i = 0; i < size; i++)
        if (body[(size_t)hl + i] != (uint8_t)((i * 7 + 3) % 251))
            fail_msg("byte %zu of the file differs", i);
    char tail[128];
    int tl = snprintf(tail, sizeof(tail), "\r\n--%s--\r\n", boundary);
    assert_int_equal(len, (size_t)hl + size + (size_t)tl);
    assert_memory_equal(body + hl + size, tail, (size_t)tl);
    free(body);
    /* A copy reads the file again, from the start, into the same bytes. */
    hxc_request *copy;
    assert_int_equal(hxc_request_dup(&copy, req), 0);
    uint8_t *again;
    size_t len2;
    assert_int_equal(produce_all(copy, &again, &len2, -1), 0);
    assert_int_equal(len2, len);
    free(again);
    hxc_request_free(copy);
    hxc_request_free(req);
}

/* A file truncated after its first bytes were sent: the next call fails,
 * naming the file; no byte of the wrong size body is given. */
static void test_producer_truncated(void **state)
{
    (void)state;
    const char *p = path_of("shrinks.bin");
    write_file(p, 500000);
    hxc_request *req = file_request(p, NULL);
    uint8_t *body;
    size_t len;
    assert_int_equal(produce_all(req, &body, &len, 2), 0); /* two calls: the file is open */
    free(body);
    assert_int_equal(truncate(p, 1000), 0);
    assert_int_equal(produce_all(req, &body, &len, -1), HXC_EINVAL);
    free(body);
    assert_detail(hxc__form_upload_detail(req->form), p, "ended after");
    hxc_request_free(req);
}

/* A file that grew while it was sent, changed before, or disappeared. */
static void test_producer_changed(void **state)
{
    (void)state;
    const char *p = path_of("grows.bin");
    write_file(p, 100000);
    hxc_request *req = file_request(p, NULL);
    uint8_t *body;
    size_t len;
    assert_int_equal(produce_all(req, &body, &len, 1), 0);
    free(body);
    FILE *fp = fopen(p, "ab");
    fputs("more", fp);
    fclose(fp);
    assert_int_equal(produce_all(req, &body, &len, -1), HXC_EINVAL);
    free(body);
    assert_detail(hxc__form_upload_detail(req->form), p, "changed while it was sent");
    /* Sent again (a rewind, as at a new send), the grown file is refused
     * when it is reached: its size is not the one counted. */
    hxc__form_upload_rewind(req->form);
    assert_null(hxc__form_upload_detail(req->form));
    assert_int_equal(produce_all(req, &body, &len, -1), HXC_EINVAL);
    free(body);
    assert_detail(hxc__form_upload_detail(req->form), p, "changed before it was sent");
    /* Removed: named, with the system's reason. */
    unlink(p);
    hxc__form_upload_rewind(req->form);
    assert_int_equal(produce_all(req, &body, &len, -1), HXC_EINVAL);
    free(body);
    assert_detail(hxc__form_upload_detail(req->form), p, "No such file");
    hxc_request_free(req);
}

/* An empty file, and the file descriptor: open only while its bytes go. */
static void test_producer_fds(void **state)
{
    (void)state;
    const char *p = path_of("empty.bin"), *q = path_of("big.bin");
    write_file(p, 0);
    write_file(q, 200000);
    int probe = open("/dev/null", O_RDONLY); /* the lowest free descriptor */
    close(probe);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", "http://h/"), 0);
    hxc_form *f = hxc_form_new();
    assert_int_equal(hxc_form_add_file(f, "e", p, "e.txt", NULL), 0);
    assert_int_equal(hxc_form_add_file(f, "b", q, NULL, NULL), 0);
    assert_int_equal(fcntl(probe, F_GETFD), -1); /* add_file closed what it opened */
    assert_int_equal(hxc_request_set_form(req, f, 1), 0);
    uint8_t *body;
    size_t len;
    assert_int_equal(produce_all(req, &body, &len, 1), 0);
    assert_true(fcntl(probe, F_GETFD) >= 0); /* the big one, in the middle */
    const char *empty =
        "filename=\"e.txt\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--";
    assert_non_null(memmem(body, len, empty, strlen(empty)));
    free(body);
    hxc__form_upload_close(req->form); /* the send ended */
    assert_int_equal(fcntl(probe, F_GETFD), -1);
    hxc__form_upload_rewind(req->form);
    assert_int_equal(produce_all(req, &body, &len, 1), 0);
    free(body);
    assert_true(fcntl(probe, F_GETFD) >= 0);
    hxc_request_free(req); /* freed with its request */
    assert_int_equal(fcntl(probe, F_GETFD), -1);
}

/* ---- the public calls ------------------------------------------------------ */

static void test_add_file_errors(void **state)
{
    (void)state;
    hxc_form *f = hxc_form_new();
    const char *missing = path_of("missing.txt");
    assert_int_equal(hxc_form_add_file(f, "f", missing, NULL, NULL), HXC_EINVAL);
    assert_detail(hxc_form_error_detail(f), missing, "No such file or directory");
    assert_int_equal(hxc_form_add_file(f, "f", dir, NULL, NULL), HXC_EINVAL);
    assert_non_null(strstr(hxc_form_error_detail(f), "not a regular file"));
    assert_int_equal(hxc_form_add_file(f, "", dir, NULL, NULL), HXC_EINVAL);
    assert_int_equal(hxc_form_add_file(f, "f", NULL, NULL, NULL), HXC_EINVAL);
    assert_int_equal(hxc_form_add(f, NULL, "v"), HXC_EINVAL);
    assert_int_equal(hxc_form_add(f, "n", NULL), HXC_EINVAL);
    assert_int_equal(hxc_form_add_data(f, "n", NULL, 3, NULL, NULL), HXC_EINVAL);
    assert_int_equal(hxc_form_add(NULL, "n", "v"), HXC_EINVAL);
    assert_int_equal(f->n, 0);
    assert_int_equal(hxc_form_add(f, "n", "v"), 0);
    assert_string_equal(hxc_form_error_detail(f), ""); /* the last call succeeded */
    hxc_form_free(f);
    hxc_form_free(NULL);
    assert_string_equal(hxc_form_error_detail(NULL), "");
}

static void test_set_form(void **state)
{
    (void)state;
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", "http://h/"), 0);
    assert_int_equal(hxc_request_add_header(req, "Content-Type", "text/old"), 0);
    hxc_form *f = hxc_form_new();
    assert_int_equal(hxc_form_add(f, "a b", "1+1=2"), 0);
    assert_int_equal(hxc_form_add(f, "x", "y"), 0);
    assert_int_equal(hxc_request_set_form(req, f, 0), 0); /* f is the request's: freed */
    assert_string_equal(hxc_headers_get(hxc_request_headers(req), "content-type"),
                        "application/x-www-form-urlencoded");
    assert_int_equal(hxc_headers_count_of(hxc_request_headers(req), "content-type"), 1);
    assert_true(req->has_body);
    assert_int_equal(req->body_len, strlen("a+b=1%2B1%3D2&x=y"));
    assert_memory_equal(req->body, "a+b=1%2B1%3D2&x=y", req->body_len);
    assert_null(req->producer);

    /* Files in a urlencoded form: refused, the form still the caller's and
     * the request unchanged. */
    f = hxc_form_new();
    assert_int_equal(hxc_form_add_data(f, "d", "123", 3, NULL, NULL), 0);
    assert_int_equal(hxc_request_set_form(req, f, 0), HXC_EINVAL);
    assert_non_null(strstr(hxc_form_error_detail(f), "multipart"));
    assert_memory_equal(req->body, "a+b=1%2B1%3D2&x=y", req->body_len);
    /* A shared request is frozen. */
    hxc_request_retain(req);
    assert_int_equal(hxc_request_set_form(req, f, 1), HXC_EINVAL);
    hxc_request_free(req);
    /* As multipart: a producer of known length; the body before is gone. */
    assert_int_equal(hxc_request_set_form(req, f, 1), 0);
    assert_null(req->body);
    assert_ptr_equal(req->producer, hxc__form_produce);
    const char *ct = hxc_headers_get(hxc_request_headers(req), "content-type");
    assert_true(strncmp(ct, "multipart/form-data; boundary=", 30) == 0);
    uint8_t *body;
    size_t len;
    assert_int_equal(produce_all(req, &body, &len, -1), 0);
    assert_int_equal((int64_t)len, req->producer_len);
    free(body);
    /* Replacing the body frees the form. */
    assert_int_equal(hxc_request_set_body(req, "x", 1), 0);
    assert_null(req->form);
    assert_null(req->producer);
    assert_int_equal(hxc_request_set_form(NULL, NULL, 0), HXC_EINVAL);
    hxc_request_free(req);
}

static void query(const char *url, const char *name, const char *value, const char *want,
                  const char *target)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", url), 0);
    assert_int_equal(hxc_request_add_query(req, name, value), 0);
    assert_string_equal(hxc_request_url(req), want);
    assert_string_equal(req->url.target, target);
    assert_int_equal(req->lens[HXC__RS_URL], strlen(want));
    assert_int_equal(req->lens[HXC__RS_TARGET], strlen(target));
    assert_string_equal(hxc_request_method(req), "GET");
    assert_string_equal(req->url.host, "h");
    hxc_request_free(req);
}

static void test_add_query(void **state)
{
    (void)state;
    query("http://h/p", "q", "a b", "http://h/p?q=a%20b", "/p?q=a%20b");
    query("http://h/p?x=1", "q", "1+1=2&c", "http://h/p?x=1&q=1%2B1%3D2%26c",
          "/p?x=1&q=1%2B1%3D2%26c");
    query("http://h/p?", "q", "v", "http://h/p?q=v", "/p?q=v");
    query("http://h/p?x=1&", "q", "v", "http://h/p?x=1&q=v", "/p?x=1&q=v");
    query("http://h/p#frag", "q", "v", "http://h/p?q=v#frag", "/p?q=v");
    query("http://h/p?x#f?g&h", "q", "v", "http://h/p?x&q=v#f?g&h", "/p?x&q=v");
    query("http://h", "q", "v", "http://h?q=v", "/?q=v");
    query("http://h:8080/", "flag", NULL, "http://h:8080/?flag", "/?flag");
    query("http://h/", "caf\xc3\xa9", "\xe2\x82\xac", "http://h/?caf%C3%A9=%E2%82%AC",
          "/?caf%C3%A9=%E2%82%AC");
    query("http://h/", "k", "", "http://h/?k=", "/?k=");

    hxc_request *req, *copy;
    assert_int_equal(hxc_request_new(&req, "GET", "http://h/s?a=1"), 0);
    assert_int_equal(hxc_request_add_query(req, "b", "2"), 0);
    assert_int_equal(hxc_request_add_query(req, "b", "3"), 0); /* repeated */
    assert_string_equal(hxc_request_url(req), "http://h/s?a=1&b=2&b=3");
    /* A copy has the URL as it is now. */
    assert_int_equal(hxc_request_dup(&copy, req), 0);
    assert_string_equal(hxc_request_url(copy), "http://h/s?a=1&b=2&b=3");
    assert_int_equal(hxc_request_add_query(copy, "c", NULL), 0);
    assert_string_equal(copy->url.target, "/s?a=1&b=2&b=3&c");
    assert_string_equal(req->url.target, "/s?a=1&b=2&b=3");
    hxc_request_free(copy);
    /* Refused, and nothing changes. */
    assert_int_equal(hxc_request_add_query(req, "", "v"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_query(req, NULL, "v"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_query(NULL, "n", "v"), HXC_EINVAL);
    hxc_request_retain(req);
    assert_int_equal(hxc_request_add_query(req, "n", "v"), HXC_EINVAL); /* shared: frozen */
    hxc_request_free(req);
    char *big = malloc(30000);
    memset(big, ' ', 29999);
    big[29999] = '\0';
    assert_int_equal(hxc_request_add_query(req, "big", big), HXC_EINVAL); /* > 64 KiB encoded */
    free(big);
    assert_string_equal(hxc_request_url(req), "http://h/s?a=1&b=2&b=3");
    hxc_request_free(req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_urlencode),
        cmocka_unit_test(test_multipart_layout),
        cmocka_unit_test(test_multipart_empty),
        cmocka_unit_test(test_boundary_not_in_content),
        cmocka_unit_test(test_name_escaping),
        cmocka_unit_test(test_producer_file),
        cmocka_unit_test(test_producer_truncated),
        cmocka_unit_test(test_producer_changed),
        cmocka_unit_test(test_producer_fds),
        cmocka_unit_test(test_add_file_errors),
        cmocka_unit_test(test_set_form),
        cmocka_unit_test(test_add_query),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
