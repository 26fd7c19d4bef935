/* SPDX-License-Identifier: MIT */
/*
 * Integration: running out of file descriptors (EMFILE). The pool caps its
 * connections at the count it had when a socket failed (fd_cap) and lets
 * more try every 0.1 s. Checked here: exact_connections mode (load
 * testing) under that cap, and what the cap leaves behind once the
 * descriptors are back.
 */
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include "itest.h"

ITEST_SERVER_FIXTURE

/* The lowest descriptor above every open one (the limit is on numbers). */
static int fd_ceiling(void)
{
    int top = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d) && atoi(e->d_name) >= top)
            top = atoi(e->d_name) + 1;
    closedir(d);
    return top;
}

/* Takes every free descriptor below `ceiling`; returns how many. */
static int fill_holes(int ceiling, int *held, int cap)
{
    int n = 0;
    for (;;) {
        int fd = dup(0);
        if (fd < 0)
            break;
        if (fd >= ceiling || n == cap) {
            close(fd);
            break;
        }
        held[n++] = fd;
    }
    return n;
}

typedef struct starve {
    struct rlimit old;
    int held[256], nheld;
} starve;

/* From now on only `room` more descriptors can be made. */
static void starve_begin(starve *s, int room)
{
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &s->old), 0);
    int top = fd_ceiling();
    s->nheld = fill_holes(top, s->held, 256);
    struct rlimit lim = s->old;
    lim.rlim_cur = (rlim_t)(top + room);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
}

static void starve_end(starve *s)
{
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &s->old), 0);
    while (s->nheld > 0)
        close(s->held[--s->nheld]);
}

static void stats(itest *t, hxc_client_stats *st) { hxc_client_get_stats(t->client, st); }

/* exact_connections 8 with room for only 3 sockets: the requests should be
 * carried by the 3 connections that could be made, as without exact mode.
 * Instead, a connection that finishes is refused the queue (exact mode
 * "opens its connections first"), goes idle, and the dispatch closes it to
 * make room under the descriptor cap and opens a new one for the next
 * request: a TCP handshake per request, while the reused count stays
 * near 0. */
static void test_exact_mode_out_of_descriptors(void **state)
{
    (void)state;
    for (int exact = 0; exact < 2; exact++) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.exact_connections = exact ? 8 : 0;
        cfg.max_connections_per_host = 8;
        cfg.max_idle_connections = 100;
        cfg.pool_timeout = 0;
        itest t;
        itest_open(&t, &cfg);
        starve s;
        starve_begin(&s, 3);
        itest_counter c;
        itest_counter_init(&c, NULL, -1);
        itest_burst(&t, itest_url(&srv, 0, "/delay/5"), 200, &c);
        starve_end(&s);
        hxc_client_stats st;
        stats(&t, &st);
        print_message("exact=%d: %d ok, %llu connections opened (attempts included), %llu "
                      "requests on a reused connection\n",
                      exact, c.ok, (unsigned long long)st.connections_opened,
                      (unsigned long long)st.connections_reused);
        itest_close(&t);
        assert_int_equal(c.ok, 200);
        /* 200 requests over 3 connections: most of them ride a reused one. */
        if (st.connections_reused < 150)
            fail_msg("exact=%d: only %llu of 200 requests reused a connection (%llu opened)",
                     exact, (unsigned long long)st.connections_reused,
                     (unsigned long long)st.connections_opened);
    }
}

/* A short shortage (room for 3 sockets during one small burst) leaves the
 * pool starved for good: the cap grows only while requests queue, so once
 * the burst is served the pool stays capped at a handful of connections.
 * Long after the descriptors are back, a burst of 50 starts on 5 or so
 * connections and ramps up by half every 0.1 s instead of opening its 50
 * connections at once (counted right after the first dispatch: no timer
 * can have run by then). */
static void test_starvation_cap_outlives_the_shortage(void **state)
{
    (void)state;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.max_idle_connections = 100;
    cfg.pool_timeout = 0;
    itest t;
    itest_open(&t, &cfg);
    starve s;
    starve_begin(&s, 3);
    itest_counter c;
    itest_counter_init(&c, NULL, -1);
    itest_burst(&t, itest_url(&srv, 0, "/delay/5"), 30, &c);
    starve_end(&s);
    assert_int_equal(c.ok, 30);
    /* Descriptors are plentiful again; let any timer of the shortage run out. */
    hxc_client_stats st;
    for (int i = 0; i < 100; i++) {
        event_base_loop(t.base, EVLOOP_NONBLOCK);
        usleep(5000);
    }
    stats(&t, &st);
    assert_int_equal(st.requests_queued, 0);
    itest_counter_init(&c, NULL, -1);
    itest_send_n(t.client, itest_url(&srv, 0, "/delay/300"), 50, &c);
    event_base_loop(t.base, EVLOOP_NONBLOCK); /* the dispatch */
    stats(&t, &st);
    unsigned started = st.requests_active;
    print_message("after the first dispatch: %u active, %u queued, %u connections open\n",
                  st.requests_active, st.requests_queued, st.connections_open);
    itest_run_until(t.base, &c.done, 50);
    itest_close(&t);
    assert_int_equal(c.ok, 50);
    if (started != 50)
        fail_msg("only %u of 50 requests started at once, long after the shortage", started);
}

/* A burst of requests with room for only a few more descriptors: they wait
 * for descriptors as for a pool slot (connections closed and reused), and
 * all succeed; with none at all they fail at the pool timeout, not at once
 * with HXC_ECONNECT as before. */
static void test_out_of_descriptors(void **state)
{
    (void)state;
    for (int room = 0; room < 2; room++) {
        hxc_client_config cfg;
        hxc_client_config_init(&cfg);
        cfg.pool_timeout = room ? 0 : 0.5;
        cfg.max_idle_connections = 100;
        itest t;
        itest_open(&t, &cfg);
        starve s;
        starve_begin(&s, room ? 6 : 0); /* the client's own descriptors exist now */
        itest_counter c;
        itest_counter_init(&c, NULL, -1);
        itest_send_n(t.client, itest_url(&srv, 0, "/delay/20"), 60, &c);
        itest_run_until(t.base, &c.done, 60);
        starve_end(&s);
        if (room) {
            if (c.ok != 60)
                fail_msg("%d failed, first %s", c.failed, hxc_error_name(c.first_err));
            hxc_client_stats st;
            stats(&t, &st);
            /* Attempts count as opened: the first burst's 60, then a few. */
            assert_true(st.connections_opened <= 120);
        } else {
            assert_int_equal(c.failed, 60);
            assert_int_equal(c.first_err, HXC_ETIMEOUT_POOL);
        }
        itest_close(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_descriptors),
        cmocka_unit_test(test_exact_mode_out_of_descriptors),
        cmocka_unit_test(test_starvation_cap_outlives_the_shortage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
