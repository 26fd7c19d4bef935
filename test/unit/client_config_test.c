/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the client config's versioning (api/client.c): struct_size
 * says how much of the caller's struct exists. An older caller's shorter
 * struct is read only as far as it goes (what lies past it is not the
 * caller's, here garbage) and the rest keeps its defaults; a newer caller's
 * longer struct is accepted only with its unknown tail all zero; 0 is
 * refused. Checked through hxc_run, whose client's settings are looked at
 * from inside its body.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "api/api.h"

static int never_called(hxc_client *c, const hxc_request *promised, void *ud)
{
    (void)c;
    (void)promised;
    (void)ud;
    fail_msg("push_promise called");
    return 0;
}

/* The caller's struct ends at `size`; the memory after it is garbage. */
static hxc_client_config *short_config(size_t size)
{
    unsigned char *mem = malloc(sizeof(hxc_client_config));
    assert_non_null(mem);
    memset(mem, 0xff, sizeof(hxc_client_config)); /* doubles: NaN, pointers: wild */
    hxc_client_config *cfg = (hxc_client_config *)mem;
    hxc_client_config_init_size(cfg, size);
    assert_int_equal(cfg->struct_size, size);
    for (size_t i = size; i < sizeof(hxc_client_config); i++)
        assert_int_equal(mem[i], 0xff); /* init wrote nothing past the caller's struct */
    return cfg;
}

/* hxc_run's body: the client has the caller's fields, and defaults for the rest. */
static int expect_defaults_after_user_agent(hxc_client *c, void *arg)
{
    (void)arg;
    const hxc_client_config *cfg = &c->cfg;
    assert_int_equal(cfg->struct_size, sizeof(hxc_client_config));
    assert_string_equal(cfg->user_agent, "old/1.0"); /* the caller's */
    assert_int_equal(cfg->max_connections, 7);       /* the caller's */
    assert_string_equal(cfg->accept, "*/*");         /* defaults from here on */
    assert_null(cfg->dns_servers);
    assert_int_equal(cfg->http2_max_concurrent_streams, 100);
    assert_int_equal(cfg->http2_stream_window, 4u << 20);
    assert_int_equal(cfg->http2_connection_window, 16u << 20);
    assert_true(cfg->http2_ping_interval == 0);
    assert_int_equal(cfg->exact_connections, 0);
    assert_null(cfg->push_promise);
    assert_null(cfg->push_response);
    assert_null(cfg->push_user_data);
    return 0;
}

static void test_older_struct_before_accept(void **state)
{
    (void)state;
    hxc_client_config *cfg = short_config(offsetof(hxc_client_config, accept));
    cfg->user_agent = "old/1.0";
    cfg->max_connections = 7;
    assert_int_equal(hxc_run(NULL, cfg, expect_defaults_after_user_agent, NULL), 0);
    free(cfg);
}

static int expect_no_push(hxc_client *c, void *arg)
{
    (void)arg;
    assert_null(c->cfg.push_promise);
    assert_null(c->cfg.push_response);
    assert_null(c->cfg.push_user_data);
    assert_int_equal(c->cfg.http2, 1); /* the caller's */
    return 0;
}

static void test_older_struct_before_push(void **state)
{
    (void)state;
    hxc_client_config *cfg = short_config(offsetof(hxc_client_config, push_promise));
    cfg->http2 = 1;
    /* What lies past the caller's struct looks like a push callback. */
    cfg->push_promise = never_called;
    cfg->push_user_data = cfg;
    assert_int_equal(hxc_run(NULL, cfg, expect_no_push, NULL), 0);
    free(cfg);
}

/* Exactly as large as its struct_size says: under ASan, a read past it
 * fails. Its fields are written by offset, as the struct is not all there. */
static void test_older_struct_alone(void **state)
{
    (void)state;
    size_t size = offsetof(hxc_client_config, accept);
    unsigned char *mem = malloc(size);
    assert_non_null(mem);
    hxc_client_config_init_size((hxc_client_config *)mem, size);
    const char *ua = "old/1.0";
    unsigned conns = 7;
    memcpy(mem + offsetof(hxc_client_config, user_agent), &ua, sizeof(ua));
    memcpy(mem + offsetof(hxc_client_config, max_connections), &conns, sizeof(conns));
    assert_int_equal(
        hxc_run(NULL, (hxc_client_config *)mem, expect_defaults_after_user_agent, NULL), 0);
    free(mem);
}

static int nothing(hxc_client *c, void *arg)
{
    (void)c;
    (void)arg;
    return 0;
}

static void test_newer_struct(void **state)
{
    (void)state;
    size_t size = sizeof(hxc_client_config) + 24; /* three fields of a newer version */
    unsigned char *mem = malloc(size);
    assert_non_null(mem);
    memset(mem, 0xff, size);
    hxc_client_config *cfg = (hxc_client_config *)mem;
    hxc_client_config_init_size(cfg, size);
    assert_int_equal(cfg->struct_size, size);
    for (size_t i = sizeof(hxc_client_config); i < size; i++)
        assert_int_equal(mem[i], 0); /* fields this version does not know: unset */
    assert_int_equal(hxc_run(NULL, cfg, nothing, NULL), 0);
    /* A newer setting this version cannot honour is refused, not ignored. */
    mem[size - 1] = 1;
    assert_int_equal(hxc_run(NULL, cfg, nothing, NULL), HXC_EINVAL);
    mem[size - 1] = 0;
    mem[sizeof(hxc_client_config)] = 1;
    assert_int_equal(hxc_run(NULL, cfg, nothing, NULL), HXC_EINVAL);
    free(mem);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    hxc_client *c = NULL;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    assert_int_equal(cfg.struct_size, sizeof(cfg));
    cfg.struct_size = 0; /* not made by hxc_client_config_init */
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    assert_int_equal(hxc_run(NULL, &cfg, nothing, NULL), HXC_EINVAL);
    cfg.struct_size = sizeof(size_t) - 1; /* cannot even hold itself */
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    cfg.struct_size = (size_t)-1; /* garbage: never read that far */
    assert_int_equal(hxc_client_open(&c, base, &cfg), HXC_EINVAL);
    assert_null(c);
    /* struct_size just enough for itself: every setting a default */
    cfg.struct_size = sizeof(size_t);
    assert_int_equal(hxc_client_open(&c, base, &cfg), 0);
    assert_int_equal(c->cfg.max_connections, 100);
    hxc_client_abort(c);
    hxc_client_close(c, NULL, NULL);
    event_base_dispatch(base);
    /* too small to hold struct_size: init writes nothing */
    memset(&cfg, 0xff, sizeof(cfg));
    hxc_client_config_init_size(&cfg, sizeof(size_t) - 1);
    hxc_client_config_init_size(NULL, sizeof(cfg));
    assert_int_equal(cfg.struct_size, (size_t)-1);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_older_struct_before_accept),
        cmocka_unit_test(test_older_struct_before_push),
        cmocka_unit_test(test_older_struct_alone),
        cmocka_unit_test(test_newer_struct),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
