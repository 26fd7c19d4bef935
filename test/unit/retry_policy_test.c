/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of policy/retry.c: which failures are retried, the backoff
 * schedule, and Retry-After in both its forms (delay-seconds and the three
 * HTTP-date forms), with the bad values a server may send.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "hxc/error.h"
#include "policy/retry.h"

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T1994 784111777.0

static double ra(const char *v, double now) { return hxc__retry_after(v, strlen(v), now); }

static void test_connect_errors(void **state)
{
    (void)state;
    assert_true(hxc__retry_connect_error(HXC_ECONNECT, "refused"));
    assert_true(hxc__retry_connect_error(HXC_EDNS, NULL));
    assert_true(hxc__retry_connect_error(HXC_ETIMEOUT_CONNECT, NULL));
    assert_false(hxc__retry_connect_error(HXC_ETLS_VERIFY, NULL));
    assert_false(hxc__retry_connect_error(HXC_ETLS_HANDSHAKE, NULL));
    assert_false(hxc__retry_connect_error(HXC_ETIMEOUT_READ, NULL));
    assert_false(hxc__retry_connect_error(HXC_EPROTO_REMOTE, NULL));
    assert_true(hxc__retry_idempotent("GET"));
    assert_true(hxc__retry_idempotent("PUT"));
    assert_true(hxc__retry_idempotent("DELETE"));
    assert_false(hxc__retry_idempotent("POST"));
    assert_false(hxc__retry_idempotent("PATCH"));
    assert_false(hxc__retry_idempotent("get")); /* methods are case-sensitive */
}

static void test_backoff(void **state)
{
    (void)state;
    unsigned long long rng = 0x1234567;
    assert_true(hxc__retry_backoff(2, &rng) == 0);
    double expect = 0.5;
    for (unsigned a = 3; a < 20; a++) {
        double d = hxc__retry_backoff(a, &rng);
        double lo = expect < 30 ? expect : 30;
        assert_true(d >= lo && d <= 30 && d <= lo * 1.1 + 1e-9);
        expect *= 2;
    }
    assert_true(hxc__retry_backoff(1000, &rng) <= 30);
}

static void test_retry_after_seconds(void **state)
{
    (void)state;
    assert_true(ra("0", 0) == 0);
    assert_true(ra("120", 0) == 120);
    assert_true(ra("  7\t", 0) == 7);
    assert_true(ra("99999999999999999999999999", 0) >= 1e9); /* huge: no overflow */
    assert_true(ra("", 0) < 0);
    assert_true(ra("-1", 0) < 0);
    assert_true(ra("1.5", 0) < 0);
    assert_true(ra("12abc", 0) < 0);
    assert_true(ra("0x10", 0) < 0);
    char longv[100];
    memset(longv, '1', sizeof(longv) - 1);
    longv[99] = '\0';
    assert_true(ra(longv, 0) < 0);
}

static void test_retry_after_dates(void **state)
{
    (void)state;
    assert_true(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994 - 10) == 10);
    assert_true(ra("Sunday, 06-Nov-94 08:49:37 GMT", T1994 - 10) == 10);
    assert_true(ra("Sun Nov  6 08:49:37 1994", T1994 - 10) == 10);
    assert_true(ra("Sun Nov 16 08:49:37 1994", T1994) == 10 * 86400);
    /* In the past: at once. */
    assert_true(ra("Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 100) == 0);
    /* Malformed. */
    assert_true(ra("Sun, 06 Nov 1994 08:49:37 UTC", 0) < 0);
    assert_true(ra("Sun, 06 Nov 1994 08:49:37", 0) < 0);
    assert_true(ra("Sun, 06 Foo 1994 08:49:37 GMT", 0) < 0);
    assert_true(ra("Sun, 36 Nov 1994 08:49:37 GMT", 0) < 0);
    assert_true(ra("Sun, 06 Nov 1994 25:49:37 GMT", 0) < 0);
    assert_true(ra("Sun, 06 Nov 1994 08:49:37 GMT extra", 0) < 0);
    assert_true(ra("Sun, 6 Nov 1994 08:49:37 GMT", 0) < 0);
    assert_true(ra("Sun Nov  6 08:49:37 94", 0) < 0);
    assert_true(ra("soon", 0) < 0);
    assert_true(ra(",", 0) < 0);
    assert_true(ra(", ", 0) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_errors),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
