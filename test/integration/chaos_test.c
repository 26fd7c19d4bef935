/* SPDX-License-Identifier: MIT */
/*
 * Integration: a seeded random mix of everything the pool does, on
 * one client at a time: queues and handoff (few connections), the per-origin
 * cap, deadline_after_queue, exact mode, cancels from timers and from the
 * request's own callbacks, shared requests, paused and aborted streams,
 * uploads, HTTP/2 refusals, GOAWAY, resets and pushes, client aborts.
 *
 * Invariants checked after each round: every send's callback ran exactly
 * once; the pool has nothing queued or active; once the connections are
 * dropped no event of the library is left in the loop (an idle client must
 * not keep the loop running); the client closes. The ASan build checks use
 * after free and leaks.
 */
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "itest.h"

#define NSRV 3
static testsrv srv[NSRV];

static int setup(void **state)
{
    (void)state;
    static const char *const drop[] = {"--drop-request-after", "2", "--h2-goaway-after", "3",
                                       NULL};
    static const char *const few[] = {"--h2-max-streams", "2", NULL};
    if (testsrv_start(&srv[0], NULL) != 0 || testsrv_start(&srv[1], drop) != 0 ||
        testsrv_start(&srv[2], few) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NSRV; i++)
        testsrv_stop(&srv[i]);
    return 0;
}

/* xorshift: the same run for the same seed. */
static unsigned long long rng_state;
static unsigned rnd(unsigned n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (unsigned)(rng_state % n) : 0;
}

#define MAX_SLOTS 256
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

typedef struct chaos chaos;

typedef struct slot {
    chaos *ch;
    int used, done, stream_mode, upload_left, upload_paused;
    hxc_request *req; /* our reference, freed at the end of the round */
    hxc_response *paused;
    struct event *resume_ev, *cancel_ev;
} slot;

struct chaos {
    itest t;
    int h2;
    int nslots, sent, done, budget;
    slot slots[MAX_SLOTS];
    struct event *abort_ev;
};

static void send_one(chaos *ch);

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    slot *s = arg;
    if (s->paused != NULL) {
        hxc_response *r = s->paused;
        s->paused = NULL;
        hxc_response_resume(r);
    }
    if (s->upload_paused) {
        s->upload_paused = 0;
        hxc_request_resume_body(s->req);
    }
}

static void cancel_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    slot *s = arg;
    int n = hxc_request_cancel(s->req);
    assert_true(n >= 0);
}

static void abort_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    chaos *ch = arg;
    hxc_client_abort(ch->t.client);
}

static void later(struct event *ev, unsigned ms)
{
    struct timeval tv = {0, (suseconds_t)ms * 1000};
    evtimer_add(ev, &tv);
}

static int on_body(hxc_response *r, const uint8_t *d, size_t n, void *ud)
{
    (void)d, (void)n;
    slot *s = ud;
    assert_false(s->done);
    unsigned x = rnd(100);
    if (s->stream_mode == 2 && x < 10) {
        hxc_request_cancel(s->req); /* its own send, from its own callback */
        return 0;
    }
    if (x < 15 && s->paused == NULL) {
        s->paused = r;
        later(s->resume_ev, 1 + rnd(15));
        return HXC_PAUSE;
    }
    if (x < 18)
        return HXC_ECANCELLED;
    return 0;
}

static int produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof,
                   void *ud)
{
    (void)req;
    slot *s = ud;
    if (rnd(100) < 15 && !s->upload_paused) {
        s->upload_paused = 1;
        later(s->resume_ev, 1 + rnd(10));
        *written = 0;
        return HXC_PAUSE;
    }
    size_t n = (size_t)s->upload_left < len ? (size_t)s->upload_left : len;
    if (n > 3000)
        n = 1 + rnd(3000);
    memset(buf, 'u', n);
    s->upload_left -= (int)n;
    *written = n;
    *eof = s->upload_left == 0;
    return 0;
}

static unsigned long long errs[128], oks;

static void done_cb(hxc_response *r, int err, void *ud)
{
    (void)r;
    if (err == 0)
        oks++;
    else if (-err < 128)
        errs[-err]++;
    slot *s = ud;
    assert_false(s->done); /* exactly once */
    s->done = 1;
    s->paused = NULL;
    event_del(s->resume_ev);
    chaos *ch = s->ch;
    ch->done++;
    if (ch->budget > 0 && rnd(100) < 30)
        send_one(ch); /* from a callback: may take a connection just freed */
}

static const char *pick_path(chaos *ch, char *buf, size_t cap)
{
    static const char *const common[] = {
        "/hello",          "/delay/%u",   "/bytes/%u", "/hang",         "/close",
        "/drop",           "/status/204", "/chunked/5000?chunk=700",    "/drip?n=20&ms=3",
        "/eof-body?n=900", "/stall?ms=20&period=40",
    };
    static const char *const h2only[] = {
        "/reset?code=7", "/reset?code=8", "/goaway", "/kill", "/push", "/reset-mid?code=8",
        "/settings?max=1", "/goaway-error",
    };
    const char *fmt = ch->h2 && rnd(3) == 0 ? h2only[rnd(NELEM(h2only))]
                                            : common[rnd(NELEM(common))];
    snprintf(buf, cap, fmt, strstr(fmt, "bytes") ? rnd(300000) : 1 + rnd(40));
    return buf;
}

static void pushed(hxc_response *r, int err, void *ud)
{
    (void)r, (void)err, (void)ud;
}

static int promise(hxc_client *c, const hxc_request *req, void *ud)
{
    (void)c, (void)req, (void)ud;
    return (int)rnd(2);
}

static void send_one(chaos *ch)
{
    if (ch->budget <= 0 || ch->nslots >= MAX_SLOTS - 3)
        return;
    ch->budget--;
    char path[128];
    const testsrv *s = &srv[rnd(NSRV)];
    int upload = rnd(100) < 10;
    const char *url = itest_url(s, 0, upload ? "/echo" : pick_path(ch, path, sizeof(path)));
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, upload ? "PUT" : "GET", url), 0);
    assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, 0.2 + rnd(800) / 1000.0), 0);
    if (rnd(2))
        assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_READ, 0.1 + rnd(300) / 1000.0),
                         0);
    int copies = 1;
    int stream = !upload && rnd(100) < 35;
    slot *first = &ch->slots[ch->nslots];
    if (upload) {
        first->upload_left = (int)rnd(200000);
        assert_int_equal(hxc_request_set_body_producer(req, produce, rnd(2) ? first->upload_left : -1,
                                                       first),
                         0);
    } else if (stream) {
        first->stream_mode = 1 + (int)rnd(2);
        assert_int_equal(hxc_request_on_response_stream(req, NULL, on_body, first), 0);
    } else if (rnd(100) < 15) {
        copies = 2 + (int)rnd(2); /* one request, sent several times */
    }
    for (int i = 0; i < copies; i++) {
        slot *sl = &ch->slots[ch->nslots++];
        sl->ch = ch;
        sl->used = 1;
        sl->req = hxc_request_retain(req);
        sl->resume_ev = evtimer_new(ch->t.base, resume_cb, sl);
        sl->cancel_ev = evtimer_new(ch->t.base, cancel_cb, sl);
        if (rnd(100) < 20)
            later(sl->cancel_ev, rnd(60));
        int rv = hxc_client_send(ch->t.client, i + 1 < copies ? hxc_request_retain(req) : req,
                                 done_cb, sl);
        if (rv != 0) {
            /* closed or refused: never called back */
            sl->done = 1;
            ch->done++;
            if (i + 1 == copies)
                hxc_request_free(req);
        }
        ch->sent++;
    }
}

/* Out of descriptors for a while: only `room` more can be made. */
static struct rlimit saved_lim;
static int held_fds[512], nheld_fds, starved;

static void starve(int room)
{
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved_lim), 0);
    int top = 0;
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d) && atoi(e->d_name) >= top)
            top = atoi(e->d_name) + 1;
    closedir(d);
    for (nheld_fds = 0; nheld_fds < 512;) {
        int fd = dup(0);
        if (fd < 0)
            break;
        if (fd >= top) {
            close(fd);
            break;
        }
        held_fds[nheld_fds++] = fd;
    }
    struct rlimit lim = saved_lim;
    lim.rlim_cur = (rlim_t)(top + room);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
    starved = 1;
}

static void unstarve(void)
{
    if (!starved)
        return;
    starved = 0;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved_lim), 0);
    while (nheld_fds > 0)
        close(held_fds[--nheld_fds]);
}

static void unstarve_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    unstarve();
}

static void round_once(unsigned seed)
{
    rng_state = 0x9E3779B97F4A7C15ull ^ ((unsigned long long)seed * 0x100000001B3ull);
    for (int i = 0; i < 4; i++)
        rnd(2);
    static chaos ch; /* big */
    memset(&ch, 0, sizeof(ch));
    ch.h2 = (int)rnd(2);
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = ch.h2;
    cfg.max_connections = 1 + rnd(4);
    cfg.max_connections_per_host = rnd(3);
    cfg.max_requests_per_host = rnd(4);
    cfg.max_idle_connections = rnd(3);
    cfg.deadline_after_queue = (int)rnd(2);
    cfg.pool_timeout = rnd(2) ? 0 : 0.3;
    cfg.total_timeout = 2;
    cfg.keepalive_expiry = 0.05 + rnd(200) / 1000.0;
    if (rnd(4) == 0)
        cfg.exact_connections = 1 + rnd(3);
    if (ch.h2 && rnd(2)) {
        cfg.push_promise = promise;
        cfg.push_response = pushed;
    }
    itest_open(&ch.t, &cfg);
    ch.budget = 20 + (int)rnd(40);
    ch.abort_ev = evtimer_new(ch.t.base, abort_cb, &ch);
    if (rnd(5) == 0)
        later(ch.abort_ev, rnd(150));
    struct event *unstarve_ev = evtimer_new(ch.t.base, unstarve_cb, NULL);
    if (rnd(5) == 0) {
        starve((int)rnd(4));
        later(unstarve_ev, 50 + rnd(300));
    }
    int first = 5 + (int)rnd(20);
    for (int i = 0; i < first; i++)
        send_one(&ch);
    for (int i = 0; ch.done < ch.sent && i < 200000; i++) {
        event_base_loop(ch.t.base, EVLOOP_ONCE);
        if (ch.done == ch.sent && ch.budget > 0 && rnd(3) == 0)
            send_one(&ch); /* a late one, on whatever is left */
    }
    unstarve();
    event_free(unstarve_ev);
    if (ch.done != ch.sent)
        fail_msg("seed %u: %d of %d sends called back", seed, ch.done, ch.sent);
    hxc_client_stats st;
    hxc_client_get_stats(ch.t.client, &st);
    if (st.requests_queued != 0 || st.requests_active != 0)
        fail_msg("seed %u: all called back, yet %u queued and %u active", seed, st.requests_queued,
                 st.requests_active);
    /* Counters that drifted (an origin's count of requests in flight stuck
     * at its cap, say) would leave a new request waiting: one more to each
     * origin, with time to spare, must not time out. */
    for (int k = 0; k < NSRV; k++) {
        hxc_request *req;
        assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv[k], 0, "/hello")), 0);
        assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_TOTAL, 5), 0);
        assert_int_equal(hxc_request_set_timeout(req, HXC_TIMEOUT_POOL, 5), 0);
        hxc_future *f = hxc_client_request(ch.t.client, req);
        assert_non_null(f);
        hxc_future_wait(f);
        int err = hxc_future_error(f);
        hxc_future_free(f);
        if (hxc_error_is_timeout(err))
            fail_msg("seed %u: a request to origin %d after the round: %s", seed, k,
                     hxc_error_name(err));
    }
    /* Our events go; the connections go: nothing of the library's may be
     * left in the loop. */
    for (int i = 0; i < ch.nslots; i++) {
        event_free(ch.slots[i].resume_ev);
        event_free(ch.slots[i].cancel_ev);
    }
    event_free(ch.abort_ev);
    hxc_client_abort(ch.t.client);
    for (int i = 0; i < 10; i++)
        event_base_loop(ch.t.base, EVLOOP_NONBLOCK);
    /* (The descriptor-shortage retry timer may still fire once, 0.1 s.) */
    int left = 1;
    for (int i = 0; i < 200 && left; i++) {
        event_base_loop(ch.t.base, EVLOOP_NONBLOCK);
        left = event_base_get_num_events(ch.t.base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE);
        if (left)
            usleep(10000);
    }
    if (left != 0)
        fail_msg("seed %u: %d events still in the loop 2 s after the client went idle", seed, left);
    for (int i = 0; i < ch.nslots; i++)
        hxc_request_free(ch.slots[i].req);
    itest_close(&ch.t);
}

static void test_chaos(void **state)
{
    (void)state;
    const char *env = getenv("HXC_CHAOS_ROUNDS");
    unsigned rounds = env ? (unsigned)atoi(env) : 40;
    const char *from = getenv("HXC_CHAOS_SEED");
    unsigned seed0 = from ? (unsigned)atoi(from) : 1;
    for (unsigned s = seed0; s < seed0 + rounds; s++)
        round_once(s);
    print_message("%llu ok", oks);
    for (int i = 1; i < 128; i++)
        if (errs[i])
            print_message(", %llu %s", errs[i], hxc_error_name(-i));
    print_message("\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chaos),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
