/* SPDX-License-Identifier: MIT */
/*
 * bench/hxc-load.c - a load driver on hxc's public API (what it achieves, the
 * library achieves), with h2load's interface:
 *
 *   hxc-load [-n N | -D SECS] [-c CONNS] [-m STREAMS] [-t THREADS] [-R RATE]
 *            [--warm-up-time SECS] [--h1] [-H 'Name: value']... [-d FILE]
 *            [-i URI_FILE] [--cacert FILE] [--insecure] [--json] [--html FILE]
 *            [-q] URI...
 *   hxc-load --merge FILE.json...
 *
 * Closed model by default (as h2load: c x m requests in flight). -R sets an
 * open model at a constant total rate (wrk2's idea): every request has an
 * intended start time and its latency counts from then, so a stalled server
 * shows in the percentiles instead of slowing the load down (no coordinated
 * omission). The open model's bases keep precise time (libevent's default
 * clock on Linux is the coarse one, a jiffy of 4 ms here) and its timer is
 * armed for exactly the next intended start, so requests start when they are
 * meant to, not up to a tick later; how late each one started is reported.
 * Latencies go to a log-linear histogram (bench/histogram.c), merged across
 * threads and, through --json and --merge, across runs.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "hxc/hxc.h"
#include "histogram.h"

#define MAX_HEADERS 32

typedef struct options {
    long n;
    double duration, warmup, rate;
    int c, m, t;
    int h1, json, quiet, insecure;
    const char *cacert, *html;
    char *body;
    size_t body_len;
    char *hname[MAX_HEADERS], *hvalue[MAX_HEADERS];
    int nheaders;
    char **urls;
    int nurls;
} options;

typedef struct stats {
    uint64_t started, done, succeeded, errored, timeouts;
    uint64_t status[6]; /* [1] 1xx .. [5] 5xx, [0] other */
    uint64_t errors[HXC_CAT_UNKNOWN + 1];
    uint64_t bytes;
    double seconds; /* measured wall time */
    hist *latency, *ttfb, *connect;
    hist *lag; /* -R only (else NULL): how late each request started after its intended time */
} stats;

/* What one send carries to its callback: the request itself is shared by
 * all sends (hxc_request_retain), so its start time travels here. */
typedef struct send_slot {
    struct worker *w;
    uint64_t intended; /* ns since t0: when it was meant to start */
    struct send_slot *next;
} send_slot;

#define SLOTS_PER_CHUNK 256
typedef struct slot_chunk {
    struct slot_chunk *next;
    send_slot slots[SLOTS_PER_CHUNK];
} slot_chunk;

typedef struct worker {
    int id;
    pthread_t thread;
    const options *o;
    struct event_base *base;
    hxc_client *client;
    int closed;
    stats st;
    long quota;         /* -n share, or -1 with -D */
    double rate;        /* -R share (requests/s), 0 for the closed model */
    uint64_t t0;        /* ns */
    uint64_t end_rel;   /* -D: no request starts after t0 + end_rel (0: none) */
    uint64_t warm_rel;  /* record only requests meant to start after this */
    uint64_t scheduled; /* open model: requests scheduled so far */
    unsigned inflight, window;
    int stopping, closing;
    struct event *tick, *stop_ev, *hard_ev;
    long next_url;
    hxc_request **templates;      /* one per URI, parsed once, sent shared */
    send_slot *free_slots;        /* slots of sends not in flight */
    slot_chunk *chunks;           /* where the slots live (freed at the end) */
    uint64_t done_shared;         /* read by the progress line */
    uint64_t issued, issued_done; /* every request, warm-up included */
} worker;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static hist *new_hist(void)
{
    hist *h = malloc(sizeof(*h));
    if (h == NULL) {
        fprintf(stderr, "hxc-load: out of memory\n");
        exit(1);
    }
    hist_init(h);
    return h;
}

/* The start-lag histogram is made only where it is used (-R, or merged
 * runs that have one): the closed model's memory stays as it was. */
static void stats_init(stats *s)
{
    memset(s, 0, sizeof(*s));
    s->latency = new_hist();
    s->ttfb = new_hist();
    s->connect = new_hist();
}

static void stats_free(stats *s)
{
    free(s->latency);
    free(s->ttfb);
    free(s->connect);
    free(s->lag);
}

static void stats_merge(stats *d, const stats *s)
{
    d->started += s->started;
    d->done += s->done;
    d->succeeded += s->succeeded;
    d->errored += s->errored;
    d->timeouts += s->timeouts;
    for (int i = 0; i < 6; i++)
        d->status[i] += s->status[i];
    for (int i = 0; i <= HXC_CAT_UNKNOWN; i++)
        d->errors[i] += s->errors[i];
    d->bytes += s->bytes;
    if (s->seconds > d->seconds)
        d->seconds = s->seconds;
    hist_merge(d->latency, s->latency);
    hist_merge(d->ttfb, s->ttfb);
    hist_merge(d->connect, s->connect);
    if (s->lag != NULL) {
        if (d->lag == NULL)
            d->lag = new_hist();
        hist_merge(d->lag, s->lag);
    }
}

/* ---- one worker: an event_base and a client of its own ------------------ */

static int may_start(worker *w, uint64_t intended)
{
    if (w->stopping)
        return 0;
    if (w->quota >= 0 && w->issued >= (uint64_t)w->quota)
        return 0;
    if (w->end_rel && intended >= w->end_rel) {
        w->stopping = 1;
        return 0;
    }
    return 1;
}

static void on_client_closed(hxc_client *c, void *ud);

static int no_more(const worker *w)
{
    return w->stopping || (w->quota >= 0 && w->issued >= (uint64_t)w->quota);
}

static void finish_if_done(worker *w)
{
    if (!no_more(w) || w->inflight > 0 || w->closing)
        return;
    w->closing = 1;
    if (w->tick)
        event_del(w->tick);
    if (w->stop_ev)
        event_del(w->stop_ev);
    if (w->hard_ev)
        event_del(w->hard_ev);
    uint64_t elapsed = now_ns() - w->t0;
    w->st.seconds = (double)(elapsed > w->warm_rel ? elapsed - w->warm_rel : 0) / 1e9;
    hxc_client_close(w->client, on_client_closed, w);
}

static void on_response(hxc_response *r, int err, void *ud);
static void on_client_closed(hxc_client *c, void *ud);

static send_slot *slot_get(worker *w)
{
    if (w->free_slots == NULL) {
        slot_chunk *ch = malloc(sizeof(*ch));
        if (ch == NULL)
            return NULL;
        ch->next = w->chunks;
        w->chunks = ch;
        for (int i = SLOTS_PER_CHUNK - 1; i >= 0; i--) {
            ch->slots[i].w = w;
            ch->slots[i].next = w->free_slots;
            w->free_slots = &ch->slots[i];
        }
    }
    send_slot *sl = w->free_slots;
    w->free_slots = sl->next;
    return sl;
}

static void slot_put(send_slot *sl)
{
    sl->next = sl->w->free_slots;
    sl->w->free_slots = sl;
}

static void start_one(worker *w, uint64_t intended)
{
    const options *o = w->o;
    hxc_request *req = w->templates[w->next_url++ % o->nurls];
    send_slot *sl = slot_get(w);
    int rv = sl ? 0 : HXC_ENOMEM;
    w->issued++;
    int counted = intended >= w->warm_rel;
    if (counted)
        w->st.started++;
    if (rv == 0) {
        sl->intended = intended;
        /* The same request every time: each send holds a reference. */
        rv = hxc_client_send(w->client, hxc_request_retain(req), on_response, sl);
        if (rv != 0) {
            hxc_request_free(req); /* the reference this send did not take */
            slot_put(sl);
        }
    }
    if (rv != 0) { /* counted like any failed request */
        w->issued_done++;
        if (counted) {
            w->st.done++;
            w->st.errored++;
            w->st.errors[hxc_error_category(rv)]++;
        }
        return;
    }
    w->inflight++;
}

static void on_response(hxc_response *r, int err, void *ud)
{
    send_slot *sl = ud;
    worker *w = sl->w;
    uint64_t intended = sl->intended;
    slot_put(sl);
    uint64_t now = now_ns() - w->t0;
    w->inflight--;
    w->issued_done++;
    stats *s = &w->st;
    __atomic_store_n(&w->done_shared, w->issued_done, __ATOMIC_RELAXED);
    if (intended >= w->warm_rel) { /* warm-up requests are not counted at all */
        s->done++;
        if (err) {
            s->errored++;
            s->errors[hxc_error_category(err)]++;
            if (hxc_error_is_timeout(err))
                s->timeouts++;
        } else {
            int status = hxc_response_status(r);
            s->status[status >= 100 && status < 600 ? status / 100 : 0]++;
            if (status < 400)
                s->succeeded++;
            s->bytes += hxc_response_body_received(r);
            hxc_timings tm;
            hxc_response_timings(r, &tm);
            hist_record(s->ttfb, (uint64_t)(tm.first_byte * 1e9));
            if (!tm.reused)
                hist_record(s->connect, (uint64_t)((tm.dns + tm.connect + tm.tls) * 1e9));
            hist_record(s->latency, now > intended ? now - intended : 0);
        }
    }
    if (w->rate <= 0 && may_start(w, now)) /* closed model: one out, one in */
        start_one(w, now);
    finish_if_done(w);
}

/* Open model: start every request whose intended time has come, then arm
 * the one-shot timer for exactly the next intended time. Those that come due
 * while this batch starts wait for the next loop turn (a zero timeout), so
 * responses are read between batches even when the driver falls behind. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    uint64_t now = now_ns() - w->t0, next;
    for (;;) {
        next = (uint64_t)((double)w->scheduled * 1e9 / w->rate);
        if (next > now || !may_start(w, next))
            break;
        w->scheduled++;
        if (next >= w->warm_rel) {
            uint64_t at = now_ns() - w->t0;
            hist_record(w->st.lag, at > next ? at - next : 0);
        }
        start_one(w, next);
    }
    if (!no_more(w)) {
        /* libevent adds the delay to the time it cached when this loop turn
         * woke up: refreshed, the timer fires at `next`, not early. */
        event_base_update_cache_time(w->base);
        now = now_ns() - w->t0;
        uint64_t wait = next > now ? (next - now + 999) / 1000 : 0; /* us, rounded up */
        struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
        evtimer_add(w->tick, &tv);
    }
    finish_if_done(w);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    w->stopping = 1; /* -D elapsed: no new requests; those in flight may finish */
    finish_if_done(w);
}

static void on_hard_stop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    hxc_client_abort(w->client); /* the run ends on time: stragglers are cancelled */
}

static void on_client_closed(hxc_client *c, void *ud)
{
    (void)c;
    __atomic_store_n(&((worker *)ud)->closed, 1, __ATOMIC_RELAXED);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    const options *o = w->o;
    w->base = NULL;
    if (w->rate > 0) {
        /* Precise time (CLOCK_MONOTONIC, and a timerfd under epoll) for the
         * open model's start times; the closed model never waits on a timer
         * and keeps the cheaper default. */
        struct event_config *ec = event_config_new();
        if (ec && event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER) == 0)
            w->base = event_base_new_with_config(ec);
        if (ec)
            event_config_free(ec);
    } else {
        w->base = event_base_new();
    }
    if (w->base == NULL) {
        fprintf(stderr, "hxc-load: cannot make an event base\n");
        w->closed = 1;
        return NULL;
    }
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    int conns = o->c / o->t + (w->id < o->c % o->t ? 1 : 0);
    if (conns < 1)
        conns = 1;
    int plain = strncmp(o->urls[0], "http://", 7) == 0;
    cfg.http2 = !o->h1;
    cfg.http2_prior_knowledge = !o->h1 && plain;
    cfg.exact_connections = (unsigned)conns;
    cfg.max_connections = (unsigned)conns * (unsigned)(o->nurls > 0 ? o->nurls : 1);
    cfg.http2_max_concurrent_streams = (unsigned)o->m;
    cfg.max_idle_connections = cfg.max_connections;
    cfg.insecure = o->insecure;
    cfg.accept = ""; /* h2load's request: no Accept unless -H gives one */
    cfg.ca_file = o->cacert;
    cfg.total_timeout = 0; /* the run's own deadline governs */
    w->templates = calloc((size_t)o->nurls, sizeof(*w->templates));
    int rv = w->templates ? 0 : HXC_ENOMEM;
    for (int i = 0; rv == 0 && i < o->nurls; i++) {
        rv = hxc_request_new(&w->templates[i], o->body ? "POST" : "GET", o->urls[i]);
        if (rv == 0 && o->body)
            rv = hxc_request_set_body_static(w->templates[i], o->body, o->body_len);
        for (int k = 0; rv == 0 && k < o->nheaders; k++)
            rv = hxc_request_add_header(w->templates[i], o->hname[k], o->hvalue[k]);
        if (rv == 0) /* counted, not kept: as h2load and wrk do */
            rv = hxc_request_discard_body(w->templates[i], 1);
    }
    if (rv == 0)
        rv = hxc_client_open(&w->client, w->base, &cfg);
    if (rv != 0) {
        fprintf(stderr, "hxc-load: %s\n", hxc_strerror(rv));
        event_base_free(w->base);
        for (int i = 0; w->templates && i < o->nurls; i++)
            hxc_request_free(w->templates[i]);
        free(w->templates);
        w->closed = 1;
        return NULL;
    }
    w->window = (unsigned)conns * (unsigned)(o->h1 ? 1 : o->m);
    w->t0 = now_ns();
    w->warm_rel = (uint64_t)(o->warmup * 1e9);
    if (o->duration > 0) {
        w->end_rel = (uint64_t)((o->warmup + o->duration) * 1e9);
        struct timeval tv = {(time_t)(o->warmup + o->duration),
                             (suseconds_t)(fmod(o->warmup + o->duration, 1.0) * 1e6)};
        w->stop_ev = evtimer_new(w->base, on_stop, w);
        evtimer_add(w->stop_ev, &tv);
        tv.tv_sec += 10; /* grace for requests in flight */
        w->hard_ev = evtimer_new(w->base, on_hard_stop, w);
        evtimer_add(w->hard_ev, &tv);
    }
    if (w->rate > 0) {
        w->tick = evtimer_new(w->base, on_tick, w);
        if (w->tick != NULL) {
            on_tick(-1, 0, w);
        } else {
            fprintf(stderr, "hxc-load: out of memory\n");
            w->stopping = 1;
            finish_if_done(w);
        }
    } else {
        for (unsigned i = 0; i < w->window && may_start(w, 0); i++)
            start_one(w, 0);
        finish_if_done(w);
    }
    while (!w->closed)
        if (event_base_loop(w->base, EVLOOP_ONCE) != 0)
            break;
    if (w->tick)
        event_free(w->tick);
    if (w->stop_ev)
        event_free(w->stop_ev);
    if (w->hard_ev)
        event_free(w->hard_ev);
    event_base_free(w->base);
    for (int i = 0; i < o->nurls; i++)
        hxc_request_free(w->templates[i]);
    free(w->templates);
    while (w->chunks != NULL) {
        slot_chunk *next = w->chunks->next;
        free(w->chunks);
        w->chunks = next;
    }
    return NULL;
}

/* ---- output ------------------------------------------------------------- */

static void fmt_time(char *b, size_t n, double ns)
{
    if (ns < 1e3)
        snprintf(b, n, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(b, n, "%.2fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(b, n, "%.2fms", ns / 1e6);
    else
        snprintf(b, n, "%.2fs", ns / 1e9);
}

static void print_row(const char *label, const hist *h)
{
    char mn[32], mx[32], mean[32], sd[32];
    fmt_time(mn, sizeof(mn), h->total ? (double)h->min : 0);
    fmt_time(mx, sizeof(mx), (double)h->max);
    fmt_time(mean, sizeof(mean), hist_mean(h));
    fmt_time(sd, sizeof(sd), hist_stddev(h));
    printf("%-18s %10s %10s %10s %10s\n", label, mn, mx, mean, sd);
}

static const double pcts[] = {50, 90, 99, 99.9, 99.99};

static void print_percentiles(const char *label, const hist *h)
{
    printf("%s percentiles:", label);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
        char b[32];
        fmt_time(b, sizeof(b), (double)hist_percentile(h, pcts[i]));
        printf(" p%g=%s", pcts[i], b);
    }
    char b[32];
    fmt_time(b, sizeof(b), (double)h->max);
    printf(" max=%s\n", b);
}

static void print_summary(const stats *s)
{
    double secs = s->seconds > 0 ? s->seconds : 1e-9;
    printf("finished in %.2fs, %.2f req/s, %.2fMB/s\n", s->seconds, (double)s->done / secs,
           (double)s->bytes / secs / 1e6);
    printf("requests: %llu total, %llu started, %llu done, %llu succeeded, %llu failed, "
           "%llu errored, %llu timeout\n",
           (unsigned long long)s->started, (unsigned long long)s->started,
           (unsigned long long)s->done, (unsigned long long)s->succeeded,
           (unsigned long long)(s->done - s->succeeded), (unsigned long long)s->errored,
           (unsigned long long)s->timeouts);
    printf("status codes: %llu 2xx, %llu 3xx, %llu 4xx, %llu 5xx\n",
           (unsigned long long)s->status[2], (unsigned long long)s->status[3],
           (unsigned long long)s->status[4], (unsigned long long)s->status[5]);
    printf("traffic: %.2fMB (%llu) data\n", (double)s->bytes / 1e6, (unsigned long long)s->bytes);
    if (s->errored)
        printf("errors: %llu timeout, %llu network, %llu tls, %llu protocol, %llu other\n",
               (unsigned long long)s->errors[HXC_CAT_TIMEOUT],
               (unsigned long long)s->errors[HXC_CAT_NETWORK],
               (unsigned long long)s->errors[HXC_CAT_TLS],
               (unsigned long long)s->errors[HXC_CAT_PROTOCOL],
               (unsigned long long)(s->errors[HXC_CAT_USAGE] + s->errors[HXC_CAT_POLICY] +
                                    s->errors[HXC_CAT_CANCELLED] + s->errors[HXC_CAT_UNKNOWN]));
    printf("%-18s %10s %10s %10s %10s\n", "", "min", "max", "mean", "sd");
    print_row("time for request:", s->latency);
    print_row("time for connect:", s->connect);
    print_row("time to 1st byte:", s->ttfb);
    if (s->lag != NULL) /* -R: the driver's own lateness, part of every latency */
        print_row("start lag:", s->lag);
    print_percentiles("latency", s->latency);
    if (s->lag != NULL)
        print_percentiles("start lag", s->lag);
}

static void write_json(const stats *s, FILE *f)
{
    fprintf(f,
            "{\"seconds\":%.9f,\"started\":%llu,\"done\":%llu,\"succeeded\":%llu,"
            "\"errored\":%llu,\"timeout\":%llu,\"bytes\":%llu,\"status\":[%llu,%llu,%llu,%llu,%llu,"
            "%llu],"
            "\"errors\":[",
            s->seconds, (unsigned long long)s->started, (unsigned long long)s->done,
            (unsigned long long)s->succeeded, (unsigned long long)s->errored,
            (unsigned long long)s->timeouts, (unsigned long long)s->bytes,
            (unsigned long long)s->status[0], (unsigned long long)s->status[1],
            (unsigned long long)s->status[2], (unsigned long long)s->status[3],
            (unsigned long long)s->status[4], (unsigned long long)s->status[5]);
    for (int i = 0; i <= HXC_CAT_UNKNOWN; i++)
        fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)s->errors[i]);
    fprintf(f, "],\"req_per_s\":%.3f,\"percentiles_ns\":{",
            s->seconds > 0 ? (double)s->done / s->seconds : 0);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        fprintf(f, "%s\"p%g\":%llu", i ? "," : "", pcts[i],
                (unsigned long long)hist_percentile(s->latency, pcts[i]));
    fprintf(f, ",\"max\":%llu},\"latency\":", (unsigned long long)s->latency->max);
    hist_write_json(s->latency, f);
    fprintf(f, ",\"ttfb\":");
    hist_write_json(s->ttfb, f);
    fprintf(f, ",\"connect\":");
    hist_write_json(s->connect, f);
    if (s->lag != NULL) {
        fprintf(f, ",\"start_lag\":");
        hist_write_json(s->lag, f);
    }
    fprintf(f, "}\n");
}

/* Reads one run written by write_json and adds it into `s`. 0 or -1. */
static int read_json(stats *s, const char *text)
{
    unsigned long long v[13];
    double secs;
    const char *p = text;
    if (sscanf(p,
               "{\"seconds\":%lf,\"started\":%llu,\"done\":%llu,\"succeeded\":%llu,"
               "\"errored\":%llu,\"timeout\":%llu,\"bytes\":%llu,\"status\":[%llu,%llu,%llu,"
               "%llu,%llu,%llu]",
               &secs, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
               &v[11]) != 13)
        return -1;
    const char *e = strstr(p, "\"errors\":[");
    if (e == NULL)
        return -1;
    e += 10;
    uint64_t errs[HXC_CAT_UNKNOWN + 1];
    for (int i = 0; i <= HXC_CAT_UNKNOWN; i++) {
        char *end;
        errs[i] = strtoull(e, &end, 10);
        if (end == e)
            return -1;
        e = end + 1;
    }
    const char *keys[] = {"\"latency\":", "\"ttfb\":", "\"connect\":"};
    hist *hs[] = {s->latency, s->ttfb, s->connect};
    for (int i = 0; i < 3; i++) {
        const char *h = strstr(p, keys[i]);
        if (h == NULL)
            return -1;
        h += strlen(keys[i]);
        if (hist_read_json(hs[i], &h) != 0)
            return -1;
    }
    const char *lag = strstr(p, "\"start_lag\":"); /* -R runs only */
    if (lag != NULL) {
        lag += strlen("\"start_lag\":");
        if (s->lag == NULL)
            s->lag = new_hist();
        if (hist_read_json(s->lag, &lag) != 0)
            return -1;
    }
    if (secs > s->seconds)
        s->seconds = secs; /* runs side by side: the longest one's time */
    s->started += v[0];
    s->done += v[1];
    s->succeeded += v[2];
    s->errored += v[3];
    s->timeouts += v[4];
    s->bytes += v[5];
    for (int i = 0; i < 6; i++)
        s->status[i] += v[6 + i];
    for (int i = 0; i <= HXC_CAT_UNKNOWN; i++)
        s->errors[i] += errs[i];
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap + 1);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (b) {
        b[n] = '\0';
        if (len)
            *len = n;
    }
    return b;
}

static void write_html(const stats *s, const options *o, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "hxc-load: cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f,
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>hxc-load report</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 10px;text-align:right}"
            "th{text-align:left}</style></head><body><h1>hxc-load report</h1><p>");
    for (int i = 0; i < o->nurls; i++)
        fprintf(f, "%s<br>", o->urls[i]);
    double secs = s->seconds > 0 ? s->seconds : 1e-9;
    fprintf(f,
            "</p><table><tr><th>duration</th><td>%.2f s</td></tr><tr><th>requests done</th>"
            "<td>%llu</td></tr><tr><th>succeeded</th><td>%llu</td></tr><tr><th>errored</th>"
            "<td>%llu</td></tr><tr><th>req/s</th><td>%.1f</td></tr><tr><th>data</th><td>%.2f "
            "MB</td></tr>",
            s->seconds, (unsigned long long)s->done, (unsigned long long)s->succeeded,
            (unsigned long long)s->errored, (double)s->done / secs, (double)s->bytes / 1e6);
    for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
        fprintf(f, "<tr><th>p%g</th><td>%.3f ms</td></tr>", pcts[i],
                (double)hist_percentile(s->latency, pcts[i]) / 1e6);
    fprintf(f, "<tr><th>max</th><td>%.3f ms</td></tr></table>", (double)s->latency->max / 1e6);
    /* Latency by percentile, x on the 1/(1-p) log scale as HdrHistogram plots it. */
    const int W = 800, H = 400;
    double maxv = s->latency->max > 0 ? (double)s->latency->max / 1e6 : 1;
    fprintf(f,
            "<h2>Latency by percentile</h2><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\" "
            "stroke=\"#999\"/><polyline fill=\"none\" stroke=\"#c33\" stroke-width=\"2\" points=\"",
            W + 60, H + 40, W + 60, H + 40, W, H);
    for (int i = 0; i <= 200; i++) {
        double x = (double)i / 200.0 * 5.0; /* 10^0 .. 10^5: p0 .. p99.999 */
        double p = 100.0 * (1.0 - pow(10.0, -x));
        double v = (double)hist_percentile(s->latency, p) / 1e6;
        fprintf(f, "%.1f,%.1f ", x / 5.0 * W, H - v / maxv * (H - 10));
    }
    fprintf(f, "\"/>");
    const char *labels[] = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
    for (int i = 0; i <= 5; i++)
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>", i * W / 5, H + 16,
                labels[i]);
    fprintf(f, "<text x=\"%d\" y=\"14\" font-size=\"12\">%.3f ms</text></svg></body></html>\n",
            W + 4, maxv);
    fclose(f);
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: hxc-load [-n N | -D SECS] [-c CONNS] [-m STREAMS] [-t THREADS] [-R RATE]\n"
               "                [--warm-up-time SECS] [--h1] [-H 'Name: value'] [-d FILE]\n"
               "                [-i URI_FILE] [--cacert FILE] [--insecure] [--json] [--html FILE]\n"
               "                [-q] URI...\n"
               "       hxc-load --merge FILE.json...\n");
}

static int add_urls_from(options *o, const char *path)
{
    char *text = slurp(path, NULL);
    if (text == NULL)
        return -1;
    for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line;
         line = strtok_r(NULL, "\r\n", &save)) {
        if (*line == '\0' || *line == '#')
            continue;
        char **u = realloc(o->urls, (size_t)(o->nurls + 1) * sizeof(*u));
        if (u == NULL)
            return -1;
        o->urls = u;
        o->urls[o->nurls++] = strdup(line);
    }
    free(text);
    return 0;
}

static void free_options(options *o)
{
    for (int i = 0; i < o->nurls; i++)
        free(o->urls[i]);
    free(o->urls);
    free(o->body);
    o->urls = NULL;
    o->nurls = 0;
    o->body = NULL;
}

enum { O_WARMUP = 256, O_H1, O_CACERT, O_INSECURE, O_JSON, O_HTML, O_MERGE };

/* The live line on stderr while the workers run (its own thread). */
typedef struct progress_arg {
    worker *ws;
    int t;
} progress_arg;

static void *progress_main(void *arg)
{
    progress_arg *pa = arg;
    for (;;) {
        int alive = 0;
        uint64_t done = 0;
        for (int i = 0; i < pa->t; i++) {
            done += __atomic_load_n(&pa->ws[i].done_shared, __ATOMIC_RELAXED);
            alive += !__atomic_load_n(&pa->ws[i].closed, __ATOMIC_RELAXED);
        }
        fprintf(stderr, "\r%llu done", (unsigned long long)done);
        if (!alive)
            break;
        usleep(200000);
    }
    fprintf(stderr, "\n");
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"warm-up-time", required_argument, 0, O_WARMUP},
        {"h1", no_argument, 0, O_H1},
        {"cacert", required_argument, 0, O_CACERT},
        {"insecure", no_argument, 0, O_INSECURE},
        {"json", no_argument, 0, O_JSON},
        {"html", required_argument, 0, O_HTML},
        {"merge", no_argument, 0, O_MERGE},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    /* A load driver keeps a steady working set: do not hand memory back to the
     * kernel after each burst (glibc would madvise and fault it in again). */
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 16 << 20);
    options o;
    memset(&o, 0, sizeof(o));
    o.n = 1;
    o.c = 1;
    o.m = 1;
    o.t = 1;
    int merge = 0, ch;
    int n_given = 0;
    while ((ch = getopt_long(argc, argv, "n:c:m:t:D:R:H:d:i:qh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            o.n = atol(optarg);
            n_given = 1;
            break;
        case 'c':
            o.c = atoi(optarg);
            break;
        case 'm':
            o.m = atoi(optarg);
            break;
        case 't':
            o.t = atoi(optarg);
            break;
        case 'D':
            o.duration = atof(optarg);
            break;
        case 'R':
            o.rate = atof(optarg);
            break;
        case 'H': {
            char *colon = strchr(optarg, ':');
            if (colon == NULL || o.nheaders == MAX_HEADERS) {
                fprintf(stderr, "hxc-load: bad header '%s'\n", optarg);
                free_options(&o);
                return 2;
            }
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            o.hname[o.nheaders] = optarg;
            o.hvalue[o.nheaders++] = v;
            break;
        }
        case 'd':
            o.body = slurp(optarg, &o.body_len);
            if (o.body == NULL) {
                fprintf(stderr, "hxc-load: cannot read %s\n", optarg);
                free_options(&o);
                return 2;
            }
            break;
        case 'i':
            if (add_urls_from(&o, optarg) != 0) {
                fprintf(stderr, "hxc-load: cannot read %s\n", optarg);
                free_options(&o);
                return 2;
            }
            break;
        case 'q':
            o.quiet = 1;
            break;
        case O_WARMUP:
            o.warmup = atof(optarg);
            break;
        case O_H1:
            o.h1 = 1;
            break;
        case O_CACERT:
            o.cacert = optarg;
            break;
        case O_INSECURE:
            o.insecure = 1;
            break;
        case O_JSON:
            o.json = 1;
            break;
        case O_HTML:
            o.html = optarg;
            break;
        case O_MERGE:
            merge = 1;
            break;
        case 'h':
            usage(stdout);
            free_options(&o);
            return 0;
        default:
            usage(stderr);
            free_options(&o);
            return 2;
        }
    }
    if (merge) {
        stats total;
        stats_init(&total);
        if (optind >= argc) {
            usage(stderr);
            stats_free(&total);
            free_options(&o);
            return 2;
        }
        for (int i = optind; i < argc; i++) {
            char *text = slurp(argv[i], NULL);
            if (text == NULL || read_json(&total, text) != 0) {
                fprintf(stderr, "hxc-load: %s is not an hxc-load --json result\n", argv[i]);
                free(text);
                stats_free(&total);
                free_options(&o);
                return 2;
            }
            free(text);
        }
        if (o.json)
            write_json(&total, stdout);
        else
            print_summary(&total);
        stats_free(&total);
        free_options(&o);
        return 0;
    }
    for (int i = optind; i < argc; i++) {
        char **u = realloc(o.urls, (size_t)(o.nurls + 1) * sizeof(*u));
        if (u == NULL)
            return 1;
        o.urls = u;
        o.urls[o.nurls++] = strdup(argv[i]);
    }
    if (o.nurls == 0 || o.c < 1 || o.m < 1 || o.t < 1 || o.n < 1 || o.duration < 0 ||
        o.warmup < 0 || o.rate < 0 || (o.duration > 0 && n_given)) {
        usage(stderr);
        free_options(&o);
        return 2;
    }
    if (o.t > o.c)
        o.t = o.c;
    for (int i = 0; i < o.nurls; i++) { /* every URI is checked before anything is sent */
        const char *why;
        int rv = hxc_url_check(o.urls[i], &why);
        if (rv != 0) {
            fprintf(stderr, "hxc-load: %s: %s: %s\n", o.urls[i], hxc_error_name(rv), why);
            free_options(&o);
            return 2;
        }
    }
    worker *ws = calloc((size_t)o.t, sizeof(*ws));
    for (int i = 0; i < o.t; i++) {
        ws[i].id = i;
        ws[i].o = &o;
        stats_init(&ws[i].st);
        ws[i].quota = o.duration > 0 ? -1 : o.n / o.t + (i < o.n % o.t ? 1 : 0);
        ws[i].rate = o.rate / o.t;
        if (ws[i].rate > 0)
            ws[i].st.lag = new_hist();
    }
    /* Worker 0 runs on the main thread: its memory comes from glibc's main
     * arena, which grows in M_TOP_PAD steps (a thread's arena grows a page at
     * a time, one mprotect each: 7,000 of them for 10,000 connections). */
    for (int i = 1; i < o.t; i++)
        pthread_create(&ws[i].thread, NULL, run_worker, &ws[i]);
    progress_arg pa = {ws, o.t};
    pthread_t pt;
    int have_progress =
        !o.quiet && isatty(STDERR_FILENO) && pthread_create(&pt, NULL, progress_main, &pa) == 0;
    run_worker(&ws[0]);
    if (have_progress)
        pthread_join(pt, NULL);
    stats total;
    stats_init(&total);
    for (int i = 0; i < o.t; i++) {
        if (i > 0)
            pthread_join(ws[i].thread, NULL);
        stats_merge(&total, &ws[i].st);
        stats_free(&ws[i].st);
    }
    if (o.json)
        write_json(&total, stdout);
    else
        print_summary(&total);
    if (o.html)
        write_html(&total, &o, o.html);
    int failed = total.done == 0 || total.errored == total.done;
    stats_free(&total);
    free_options(&o);
    free(ws);
    return failed ? 1 : 0;
}
