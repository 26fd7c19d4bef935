/* SPDX-License-Identifier: MIT */
/* Unit tests of the URL parser (core/url.c) and of request construction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hxc/hxc.h"
#include "core/message.h"
#include "core/url.h"

static void parse_ok(const char *s, const char *host, int port, int tls, const char *target,
                     const char *authority, int ipv6)
{
    hxc__url u;
    const char *detail;
    int rv = hxc__url_parse(&u, s, &detail);
    if (rv != 0)
        fail_msg("%s: %s (%s)", s, hxc_error_name(rv), detail);
    assert_string_equal(u.host, host);
    assert_int_equal(u.port, port);
    assert_int_equal(u.tls, tls);
    assert_string_equal(u.target, target);
    assert_string_equal(u.authority, authority);
    assert_int_equal(u.ipv6, ipv6);
    assert_string_equal(u.scheme, tls ? "https" : "http");
    hxc__url_free(&u);
}

static void parse_err(const char *s, int err)
{
    hxc__url u;
    const char *detail;
    int rv = hxc__url_parse(&u, s, &detail);
    if (rv != err)
        fail_msg("%s: expected %s, got %s", s, hxc_error_name(err), hxc_error_name(rv));
    assert_true(detail != NULL && detail[0] != '\0');
}

static void test_valid(void **state)
{
    (void)state;
    parse_ok("http://example.com", "example.com", 80, 0, "/", "example.com", 0);
    parse_ok("https://example.com/", "example.com", 443, 1, "/", "example.com", 0);
    parse_ok("http://example.com:8080/a/b?c=d&e", "example.com", 8080, 0, "/a/b?c=d&e",
             "example.com:8080", 0);
    parse_ok("https://example.com:443/x", "example.com", 443, 1, "/x", "example.com", 0);
    parse_ok("http://EXAMPLE.Com/Path", "example.com", 80, 0, "/Path", "example.com", 0);
    parse_ok("HTTP://h/", "h", 80, 0, "/", "h", 0);
    parse_ok("http://[::1]:8080/x?y=1", "::1", 8080, 0, "/x?y=1", "[::1]:8080", 1);
    parse_ok("https://[::1]/", "::1", 443, 1, "/", "[::1]", 1);
    parse_ok("http://127.0.0.1:1/p#frag", "127.0.0.1", 1, 0, "/p", "127.0.0.1:1", 0);
    parse_ok("http://h?q=1", "h", 80, 0, "/?q=1", "h", 0);
}

static void test_invalid(void **state)
{
    (void)state;
    parse_err("", HXC_EBADURL);
    parse_err(NULL, HXC_EBADURL);
    parse_err("example.com/path", HXC_EBADURL);
    parse_err("ftp://example.com/", HXC_EUNSUPPORTED_SCHEME);
    parse_err("file:///etc/passwd", HXC_EUNSUPPORTED_SCHEME);
    parse_err("http:///path", HXC_EBADURL);
    parse_err("http://h:0/", HXC_EBADURL);
    parse_err("http://h:70000/", HXC_EBADURL);
    parse_err("http://user:pass@h/", HXC_EBADURL);
    parse_err("http://h/a b", HXC_EBADURL);
    parse_err("http://h/\r\nX-Injected: 1", HXC_EBADURL);
    parse_err("http://h/\x01", HXC_EBADURL);
    parse_err("http://h/\x7f", HXC_EBADURL);
    parse_err("http://[::1/", HXC_EBADURL);
    size_t n = 70 * 1024;
    char *big = malloc(n + 1);
    memcpy(big, "http://h/", 9);
    memset(big + 9, 'a', n - 9);
    big[n] = '\0';
    parse_err(big, HXC_EBADURL);
    free(big);
}

/* hxc_url_check gives the parser's reason, and agrees with hxc_request_new. */
static void check_url(const char *url, int err, const char *why)
{
    const char *detail = "unset";
    int rv = hxc_url_check(url, &detail);
    if (rv != err || (why == NULL ? detail != NULL : detail == NULL || strcmp(detail, why) != 0))
        fail_msg("%s: expected %s (%s), got %s (%s)", url ? url : "NULL", hxc_error_name(err),
                 why ? why : "NULL", hxc_error_name(rv), detail ? detail : "NULL");
    hxc_request *r = NULL;
    assert_int_equal(hxc_request_new(&r, "GET", url), err);
    hxc_request_free(r);
}

static void *no_malloc(size_t n, void *ud)
{
    (void)n;
    (void)ud;
    return NULL;
}

static void *no_realloc(void *p, size_t n, void *ud)
{
    (void)p;
    (void)n;
    (void)ud;
    return NULL;
}

static void plain_free(void *p, void *ud)
{
    (void)ud;
    free(p);
}

static void test_url_check(void **state)
{
    (void)state;
    check_url("http://h/x", 0, NULL);
    check_url("https://[::1]:8443/", 0, NULL);
    check_url(NULL, HXC_EINVAL, "no URL");
    check_url("", HXC_EBADURL, "empty URL");
    check_url("example.com/path", HXC_EBADURL, "URL has no scheme");
    check_url("ftp://example.com/", HXC_EUNSUPPORTED_SCHEME,
              "only http and https URLs are supported");
    check_url("http:///path", HXC_EBADURL, "URL has no host");
    check_url("http://h:0/", HXC_EBADURL, "bad port");
    check_url("http://h:70000/", HXC_EBADURL, "URL could not be parsed"); /* by evhttp_uri */
    check_url("http://user:pass@h/", HXC_EBADURL,
              "credentials in the URL are not supported; set an Authorization header");
    check_url("http://h/a b", HXC_EBADURL, "control character or space in URL");
    check_url("http://h/\r\nX-Injected: 1", HXC_EBADURL, "control character or space in URL");
    check_url("http://[::1/", HXC_EBADURL, "URL could not be parsed");
    /* `detail` may be NULL */
    assert_int_equal(hxc_url_check("http://h:0/", NULL), HXC_EBADURL);
    assert_int_equal(hxc_url_check(NULL, NULL), HXC_EINVAL);
    assert_int_equal(hxc_url_check("http://h/", NULL), 0);
    const hxc_allocator none = {no_malloc, no_realloc, plain_free, NULL};
    hxc_set_allocator(&none);
    check_url("http://h/", HXC_ENOMEM, "out of memory");
    hxc_set_allocator(NULL);
}

static void test_request_new(void **state)
{
    (void)state;
    hxc_request *r = (hxc_request *)0x1;
    assert_int_equal(hxc_request_new(&r, "GE T", "http://h/"), HXC_EINVAL);
    assert_int_equal(hxc_request_new(&r, "GET\r\n", "http://h/"), HXC_EINVAL);
    assert_int_equal(hxc_request_new(&r, "", "http://h/"), HXC_EINVAL);
    assert_int_equal(hxc_request_new(&r, NULL, "http://h/"), HXC_EINVAL);
    assert_int_equal(hxc_request_new(&r, "GET", "gopher://h/"), HXC_EUNSUPPORTED_SCHEME);
    assert_int_equal(hxc_request_new(&r, "GET", "not a url"), HXC_EBADURL);
    assert_int_equal(hxc_request_new(NULL, "GET", "http://h/"), HXC_EINVAL);
    assert_ptr_equal(r, (hxc_request *)0x1); /* untouched on error */
    assert_int_equal(hxc_request_new(&r, "PROPFIND", "http://h/x"), 0);
    assert_string_equal(hxc_request_method(r), "PROPFIND");
    assert_string_equal(hxc_request_url(r), "http://h/x");
    assert_int_equal(hxc_headers_count(hxc_request_headers(r)), 0);
    int x;
    hxc_request_set_user_data(r, &x);
    assert_ptr_equal(hxc_request_user_data(r), &x);
    hxc_request_free(r);
    hxc_request_free(NULL);
}

static void test_request_headers(void **state)
{
    (void)state;
    hxc_request *r;
    assert_int_equal(hxc_request_new(&r, "GET", "http://h/"), 0);
    assert_int_equal(hxc_request_add_header(r, "X-A", "  padded value\t "), 0);
    assert_string_equal(hxc_headers_get(hxc_request_headers(r), "x-a"), "padded value");
    assert_int_equal(hxc_request_add_header(r, "X-A", "second"), 0);
    /* Injection attempts are refused and change nothing. */
    assert_int_equal(hxc_request_add_header(r, "X-B", "v\r\nX-Evil: 1"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "X-B", "v\nX-Evil: 1"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "X-B\r\nX-Evil", "1"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "X B", "1"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "", "1"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "X-B", NULL), HXC_EINVAL);
    assert_int_equal(hxc_request_set_header(r, "X-A", "bad\r"), HXC_EINVAL);
    assert_int_equal(hxc_headers_count(hxc_request_headers(r)), 2);
    /* Framing headers belong to the library. */
    assert_int_equal(hxc_request_add_header(r, "Content-Length", "5"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "transfer-encoding", "chunked"), HXC_EINVAL);
    assert_int_equal(hxc_request_add_header(r, "Connection", "close"), HXC_EINVAL);
    assert_int_equal(hxc_request_set_header(r, "Upgrade", "h2c"), HXC_EINVAL);
    assert_int_equal(hxc_request_set_header(r, "x-a", "only"), 0);
    assert_int_equal(hxc_headers_count_of(hxc_request_headers(r), "X-A"), 1);
    assert_string_equal(hxc_headers_get(hxc_request_headers(r), "X-A"), "only");
    assert_int_equal(hxc_request_remove_header(r, "X-A"), 1);
    assert_int_equal(hxc_request_remove_header(r, "X-A"), 0);
    hxc_request_free(r);
}

static void test_request_body_and_options(void **state)
{
    (void)state;
    hxc_request *r;
    assert_int_equal(hxc_request_new(&r, "POST", "http://h/"), 0);
    char src[] = "payload";
    assert_int_equal(hxc_request_set_body(r, src, 7), 0);
    src[0] = 'X'; /* the request kept a copy */
    assert_memory_equal(r->body, "payload", 7);
    assert_int_equal(r->body_len, 7);
    static const char fixed[] = "static";
    assert_int_equal(hxc_request_set_body_static(r, fixed, 6), 0);
    assert_ptr_equal(r->body, fixed);
    assert_int_equal(hxc_request_set_body(r, NULL, 3), HXC_EINVAL);
    assert_int_equal(hxc_request_set_body(r, NULL, 0), 0);
    assert_int_equal(r->body_len, 0);
    assert_int_equal(r->has_body, 1);
    assert_int_equal(hxc_request_set_timeout(r, HXC_TIMEOUT_READ, 1.5), 0);
    assert_true(r->timeouts[HXC_TIMEOUT_READ] == 1.5);
    assert_int_equal(hxc_request_set_timeout(r, HXC_TIMEOUT_READ, -1), HXC_EINVAL);
    assert_int_equal(hxc_request_set_timeout(r, HXC_TIMEOUT_READ, NAN), HXC_EINVAL);
    assert_int_equal(hxc_request_set_timeout(r, HXC_TIMEOUT_READ, INFINITY), HXC_EINVAL);
    assert_int_equal(hxc_request_set_timeout(r, (enum hxc_timeout)99, 1), HXC_EINVAL);
    assert_int_equal(hxc_request_set_timeout(r, HXC_TIMEOUT_TOTAL, 0), 0);
    assert_int_equal(hxc_request_set_max_body(r, 10), 0);
    assert_int_equal(r->max_body, 10);
    assert_int_equal(hxc_request_set_max_body(NULL, 10), HXC_EINVAL);
    hxc_request_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_request_new),
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_request_body_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
