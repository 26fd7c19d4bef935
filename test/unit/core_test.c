/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/core: buffers, header lists, validation, lists, errors, allocator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hxc/hxc.h"
#include "core/buf.h"
#include "core/headers.h"
#include "core/list.h"
#include "core/mem.h"
#include "core/cache.h"
#include "core/recycle.h"

static void test_buf(void **state)
{
    (void)state;
    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3);
    assert_int_equal(b.data[3], 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(hxc__buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 10003);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[b.len], 0);
    assert_memory_equal(b.data + 3, "0123456789", 10);
    hxc__buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(hxc__buf_reserve(&b, SIZE_MAX), HXC_ENOMEM);
    hxc__buf_free(&b);
    assert_null(b.data);
}

static void test_headers_list(void **state)
{
    (void)state;
    struct hxc_headers h;
    hxc__headers_init(&h);
    assert_int_equal(hxc__headers_add(&h, "Content-Type", 12, "text/plain", 10), 0);
    assert_int_equal(hxc__headers_add(&h, "Set-Cookie", 10, "a=1", 3), 0);
    assert_int_equal(hxc__headers_add(&h, "set-cookie", 10, "b=2", 3), 0);
    assert_int_equal(hxc__headers_add(&h, "Empty", 5, "", 0), 0);
    assert_int_equal(hxc_headers_count(&h), 4);
    assert_string_equal(hxc_headers_get(&h, "CONTENT-TYPE"), "text/plain");
    assert_string_equal(hxc_headers_get_nth(&h, "Set-Cookie", 1), "b=2");
    assert_null(hxc_headers_get_nth(&h, "Set-Cookie", 2));
    assert_int_equal(hxc_headers_count_of(&h, "SET-cookie"), 2);
    assert_string_equal(hxc_headers_get(&h, "empty"), "");
    assert_null(hxc_headers_get(&h, "missing"));
    const char *n, *v;
    assert_int_equal(hxc_headers_at(&h, 2, &n, &v), 0);
    assert_string_equal(n, "set-cookie");
    assert_string_equal(v, "b=2");
    assert_int_equal(hxc_headers_at(&h, 4, &n, &v), HXC_EINVAL);
    assert_int_equal(hxc__headers_bytes(&h), 12 + 10 + 10 + 3 + 10 + 3 + 5);
    /* Values and names that arrive in pieces. */
    assert_int_equal(hxc__headers_add(&h, "X-Pie", 5, "", 0), 0);
    assert_int_equal(hxc__headers_append_value(&h, "ab", 2), 0);
    assert_int_equal(hxc__headers_append_value(&h, "cd", 2), 0);
    assert_string_equal(hxc_headers_get(&h, "x-pie"), "abcd");
    assert_int_equal(hxc__headers_add(&h, "X-Na", 4, "", 0), 0);
    assert_int_equal(hxc__headers_append_name(&h, "me", 2), 0);
    assert_int_equal(hxc__headers_append_value(&h, "v", 1), 0);
    assert_string_equal(hxc_headers_get(&h, "X-Name"), "v");
    assert_int_equal(hxc__headers_remove(&h, "set-cookie"), 2);
    assert_int_equal(hxc_headers_count(&h), 4);
    assert_string_equal(hxc_headers_get(&h, "x-pie"), "abcd");
    hxc__headers_free(&h);
    assert_int_equal(hxc_headers_count(NULL), 0);
    assert_null(hxc_headers_get(NULL, "x"));
}

static void test_validation(void **state)
{
    (void)state;
    assert_true(hxc__is_token("GET", 3));
    assert_true(hxc__is_token("X-Custom_1.2~!", 14));
    assert_false(hxc__is_token("", 0));
    assert_false(hxc__is_token("GE T", 4));
    assert_false(hxc__is_token("A:B", 3));
    assert_false(hxc__is_token("A\r", 2));
    assert_false(hxc__is_token("\xc3\xa9", 2));
    assert_true(hxc__is_field_value("a b\tc", 5));
    assert_true(hxc__is_field_value("", 0));
    assert_true(hxc__is_field_value("caf\xc3\xa9", 5)); /* obs-text is allowed */
    assert_false(hxc__is_field_value("a\rb", 3));
    assert_false(hxc__is_field_value("a\nb", 3));
    assert_false(hxc__is_field_value("a\0b", 3));
    assert_false(hxc__is_field_value("a\x7f", 2));
    assert_false(hxc__is_field_value("\x01", 1));
}

typedef struct item {
    int v;
    hxc__list node;
} item;

static void test_list(void **state)
{
    (void)state;
    hxc__list h;
    hxc__list_init(&h);
    assert_true(hxc__list_empty(&h));
    item a = {1, {0}}, b = {2, {0}}, c = {3, {0}};
    hxc__list_init(&a.node);
    assert_false(hxc__list_linked(&a.node));
    hxc__list_insert_tail(&h, &a.node);
    hxc__list_insert_tail(&h, &b.node);
    hxc__list_insert_head(&h, &c.node);
    assert_int_equal(hxc__list_size(&h), 3);
    assert_int_equal(HXC__LIST_ENTRY(h.next, item, node)->v, 3);
    assert_int_equal(HXC__LIST_ENTRY(h.prev, item, node)->v, 2);
    hxc__list_remove(&a.node);
    hxc__list_remove(&a.node); /* twice is harmless */
    assert_false(hxc__list_linked(&a.node));
    int sum = 0;
    hxc__list *p, *t;
    HXC__LIST_FOREACH_SAFE(p, t, &h)
    {
        sum += HXC__LIST_ENTRY(p, item, node)->v;
        hxc__list_remove(p);
    }
    assert_int_equal(sum, 5);
    assert_true(hxc__list_empty(&h));
}

static void test_errors(void **state)
{
    (void)state;
    assert_string_equal(hxc_strerror(0), "success");
    assert_string_equal(hxc_error_name(HXC_ETIMEOUT_READ), "HXC_ETIMEOUT_READ");
    assert_string_equal(hxc_error_name(-9999), "HXC_UNKNOWN");
    assert_string_equal(hxc_strerror(-9999), "unknown error");
    assert_int_equal(hxc_error_category(0), HXC_CAT_NONE);
    assert_int_equal(hxc_error_category(-9999), HXC_CAT_UNKNOWN);
    const struct {
        int err;
        enum hxc_error_category cat;
    } cases[] = {
        {HXC_EINVAL, HXC_CAT_USAGE},
        {HXC_EBADURL, HXC_CAT_USAGE},
        {HXC_EUNSUPPORTED_SCHEME, HXC_CAT_USAGE},
        {HXC_ETIMEOUT_CONNECT, HXC_CAT_TIMEOUT},
        {HXC_ETIMEOUT_READ, HXC_CAT_TIMEOUT},
        {HXC_ETIMEOUT_WRITE, HXC_CAT_TIMEOUT},
        {HXC_ETIMEOUT_POOL, HXC_CAT_TIMEOUT},
        {HXC_ETIMEOUT_TOTAL, HXC_CAT_TIMEOUT},
        {HXC_EDNS, HXC_CAT_NETWORK},
        {HXC_ECONNECT, HXC_CAT_NETWORK},
        {HXC_EREAD, HXC_CAT_NETWORK},
        {HXC_EWRITE, HXC_CAT_NETWORK},
        {HXC_ECLOSED, HXC_CAT_NETWORK},
        {HXC_ETLS_HANDSHAKE, HXC_CAT_TLS},
        {HXC_ETLS_VERIFY, HXC_CAT_TLS},
        {HXC_EPROTO_REMOTE, HXC_CAT_PROTOCOL},
        {HXC_EPROTO_LOCAL, HXC_CAT_PROTOCOL},
        {HXC_ESTREAM_RESET, HXC_CAT_PROTOCOL},
        {HXC_EHEADERS_TOO_LARGE, HXC_CAT_PROTOCOL},
        {HXC_EBODY_TOO_LARGE, HXC_CAT_POLICY},
        {HXC_ETOO_MANY_REDIRECTS, HXC_CAT_POLICY},
        {HXC_EDECODING, HXC_CAT_POLICY},
        {HXC_ECANCELLED, HXC_CAT_CANCELLED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(hxc_error_category(cases[i].err), cases[i].cat);
        assert_int_equal(hxc_error_is_timeout(cases[i].err), cases[i].cat == HXC_CAT_TIMEOUT);
        assert_string_not_equal(hxc_strerror(cases[i].err), "unknown error");
        assert_true(cases[i].err < 0);
    }
    assert_string_equal(hxc_version(), HXC_VERSION_STRING);
    assert_int_equal(hxc_version_num(), HXC_VERSION_NUM);
}

static long n_alloc, n_free;
static void *c_malloc(size_t n, void *ud)
{
    (void)ud;
    n_alloc++;
    return malloc(n);
}
static void *c_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (p == NULL)
        n_alloc++;
    return realloc(p, n);
}
static void c_free(void *p, void *ud)
{
    (void)ud;
    n_free++;
    free(p);
}

static void test_allocator_hooks(void **state)
{
    (void)state;
    hxc_allocator a = {c_malloc, c_realloc, c_free, NULL};
    hxc_set_allocator(&a);
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", "http://example.test/x?y"), 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(hxc_request_add_header(req, "X-Many", "value"), 0);
    assert_int_equal(hxc_request_set_body(req, "body", 4), 0);
    hxc_request_free(req);
    hxc_set_allocator(NULL);
    assert_true(n_alloc > 5);
    assert_int_equal(n_alloc, n_free);
}

/* An allocator whose blocks are only 8-byte aligned (as an embedder's may be). */
static void *odd_malloc(size_t n, void *ud)
{
    (void)ud;
    n_alloc++;
    char *p = malloc(n + 8);
    return p ? p + 8 : NULL;
}
static void *odd_realloc(void *p, size_t n, void *ud)
{
    (void)ud;
    if (p == NULL)
        n_alloc++;
    char *q = realloc(p ? (char *)p - 8 : NULL, n + 8);
    return q ? q + 8 : NULL;
}
static void odd_free(void *p, void *ud)
{
    (void)ud;
    n_free++;
    free(p ? (char *)p - 8 : NULL);
}

/* Records aligned to a cache line: aligned and zeroed whatever the hooks
 * return, through the hooks, every byte usable (ASan checks), freed whole. */
static void test_line_alloc(void **state)
{
    (void)state;
    hxc_allocator a = {odd_malloc, odd_realloc, odd_free, NULL};
    n_alloc = n_free = 0;
    hxc_set_allocator(&a);
    static const size_t sizes[] = {1, 63, 64, 65, 200, 424, 4096};
    void *p[sizeof(sizes) / sizeof(sizes[0])];
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        p[i] = hxc__calloc_lines(sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 64, 0);
        for (size_t j = 0; j < sizes[i]; j++)
            assert_int_equal(((unsigned char *)p[i])[j], 0);
        memset(p[i], 0xab, sizes[i]);
    }
    assert_null(hxc__calloc_lines(SIZE_MAX - 10)); /* overflow refused, not wrapped */
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        hxc__free_lines(p[i]);
    hxc__free_lines(NULL);
    hxc_set_allocator(NULL);
    assert_int_equal(n_alloc, sizeof(sizes) / sizeof(sizes[0]));
    assert_int_equal(n_free, n_alloc);
}

/* The recycler: blocks come back by size class, big ones are never kept,
 * realloc keeps the bytes, and a drain gives everything back (ASan checks). */
static void test_recycler(void **state)
{
    (void)state;
    hxc__recycler rc;
    hxc__recycler_init(&rc);
    void *a = hxc__recycler_alloc(&rc, 100);
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % _Alignof(max_align_t), 0);
    memset(a, 0xab, 100);
    hxc__recycler_free(&rc, a);
    void *b;
    if (hxc__cache_enabled()) {
        assert_true(rc.cached >= 100);
        b = hxc__recycler_alloc(&rc, 97); /* same class: the same block */
        assert_ptr_equal(a, b);
        assert_int_equal(rc.cached, 0);
    } else { /* under sanitizers: nothing kept, every block really freed */
        assert_int_equal(rc.cached, 0);
        b = hxc__recycler_alloc(&rc, 97);
    }
    uint8_t *z = hxc__recycler_calloc(&rc, 10, 10); /* zeroed, even when recycled */
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    hxc__recycler_free(&rc, z);
    char *big = hxc__recycler_alloc(&rc, 5000); /* beyond the classes */
    assert_non_null(big);
    memset(big, 'x', 5000);
    size_t before = rc.cached;
    hxc__recycler_free(&rc, big);
    assert_int_equal(rc.cached, before); /* not kept */
    char *g = hxc__recycler_realloc(&rc, NULL, 10);
    memcpy(g, "0123456789", 10);
    g = hxc__recycler_realloc(&rc, g, 3000); /* grows across classes into a big block */
    assert_memory_equal(g, "0123456789", 10);
    g = hxc__recycler_realloc(&rc, g, 20); /* shrinks back */
    assert_memory_equal(g, "0123456789", 10);
    hxc__recycler_free(&rc, g);
    hxc__recycler_free(&rc, b);
    hxc__recycler_free(&rc, NULL);
    for (int i = 0; i < 1000; i++) /* bounded: a burst is not all kept */
        hxc__recycler_free(&rc, hxc__recycler_alloc(&rc, 1024));
    void *many[1500];
    for (int i = 0; i < 1500; i++)
        many[i] = hxc__recycler_alloc(&rc, 1000);
    for (int i = 0; i < 1500; i++)
        hxc__recycler_free(&rc, many[i]);
    assert_true(rc.cached <= (1u << 20));
    assert_true(rc.count[HXC__RECYCLE_CLASSES] <= 1024);
    hxc__recycler_drain(&rc);
    assert_int_equal(rc.cached, 0);
}

/* The record cache: last in, first out, up to its cap; nothing at all under
 * sanitizers, so every record is really freed (use after free is seen). */
static void test_record_cache(void **state)
{
    (void)state;
    hxc__cache c;
    hxc__cache_init(&c, 2);
    void *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = hxc__malloc(64);
    assert_null(hxc__cache_take(&c));
    if (!hxc__cache_enabled()) {
        for (int i = 0; i < 3; i++) {
            assert_int_equal(hxc__cache_keep(&c, r[i]), 0);
            hxc__free(r[i]);
        }
        assert_null(hxc__cache_take(&c));
        return;
    }
    assert_int_equal(hxc__cache_keep(&c, r[0]), 1);
    assert_int_equal(hxc__cache_keep(&c, r[1]), 1);
    assert_int_equal(hxc__cache_keep(&c, r[2]), 0); /* over the cap: the caller frees */
    hxc__free(r[2]);
    assert_ptr_equal(hxc__cache_take(&c), r[1]);
    assert_ptr_equal(hxc__cache_take(&c), r[0]);
    assert_null(hxc__cache_take(&c));
    hxc__free(r[0]);
    hxc__free(r[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),        cmocka_unit_test(test_headers_list),
        cmocka_unit_test(test_validation), cmocka_unit_test(test_list),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_allocator_hooks),
        cmocka_unit_test(test_recycler),   cmocka_unit_test(test_record_cache),
        cmocka_unit_test(test_line_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
