/* Unit tests of lib/proto/h2.c: the SETTINGS a new session sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "proto/h2.h"

static int collect(void *wud, const uint8_t *p, size_t n) { return hxc__buf_append(wud, p, n); }

/* The value of SETTINGS parameter `id` in the client's first SETTINGS frame,
 * or -1 when it is not there. */
static long first_settings_value(size_t max_header_bytes, uint16_t id)
{
    static const hxc__h2_events ev; /* no stream events are expected */
    hxc__h2_limits lim;
    memset(&lim, 0, sizeof(lim));
    lim.max_header_bytes = max_header_bytes;
    lim.max_streams = 100;
    lim.stream_window = 1 << 20;
    lim.conn_window = 1 << 24;
    hxc__h2 *h = NULL;
    assert_int_equal(hxc__h2_new(&h, &ev, NULL, &lim), 0);
    hxc__buf b;
    hxc__buf_init(&b);
    assert_int_equal(hxc__h2_send(h, collect, &b), 0);
    hxc__h2_free(h);
    /* The 24-byte preface, then a SETTINGS frame (type 4): 6-byte entries. */
    assert_true(b.len > 24 + 9);
    const uint8_t *f = b.data + 24;
    assert_int_equal(f[3], 4);
    size_t len = (size_t)f[0] << 16 | (size_t)f[1] << 8 | f[2];
    long value = -1;
    for (size_t off = 0; off + 6 <= len; off += 6) {
        const uint8_t *e = f + 9 + off;
        if ((e[0] << 8 | e[1]) == id)
            value = (long)((uint32_t)e[2] << 24 | (uint32_t)e[3] << 16 | (uint32_t)e[4] << 8 | e[5]);
    }
    hxc__buf_free(&b);
    return value;
}

/* SETTINGS_MAX_HEADER_LIST_SIZE (0x6) says the limit when there is one; with
 * none (0) it is left out rather than sent as 0 (which asks for empty heads);
 * a limit past 32 bits is sent as the largest value, not truncated. */
static void test_max_header_list_size(void **state)
{
    (void)state;
    assert_int_equal(first_settings_value(65536, 0x6), 65536);
    assert_int_equal(first_settings_value(0, 0x6), -1);
    assert_int_equal(first_settings_value((size_t)1 << 33, 0x6), 0xffffffffL);
    assert_int_equal(first_settings_value(0, 0x2), 0); /* push stays off */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_header_list_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
