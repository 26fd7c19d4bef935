/* SPDX-License-Identifier: MIT */
/*
 * test/integration/flowpeers.h - helpers shared by the flow_*
 * tests: the clock, a meter of what the
 * client holds (through the allocator hooks), a peer's ways of making the
 * client's own write queue fill, and a producer of a known length.
 * Header-only, like itest.h: each test stays one file and one binary.
 */
#ifndef HXC_FLOWPEERS_H
#define HXC_FLOWPEERS_H

#include <malloc.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "itest.h"
#include "rawpeer.h"

static inline double rf_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- what the client holds ------------------------------------------------ */

/* Every allocation of the library (its hooks) and of libevent (the write
 * queue is an evbuffer), installed in main() before anything is made. The
 * client is the only user of either in the test process (peers are threads
 * with plain malloc). */
static size_t rf_live, rf_peak;

static inline void *rf_count(void *p)
{
    if (p != NULL && (rf_live += malloc_usable_size(p)) > rf_peak)
        rf_peak = rf_live;
    return p;
}
static inline void *rf_malloc(size_t n) { return rf_count(malloc(n)); }
static inline void rf_free(void *p)
{
    rf_live -= p ? malloc_usable_size(p) : 0;
    free(p);
}
static inline void *rf_realloc(void *p, size_t n)
{
    size_t before = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n);
    if (q == NULL)
        return NULL;
    rf_live -= before;
    return rf_count(q);
}
static inline void *rf_h_malloc(size_t n, void *ud) { return (void)ud, rf_malloc(n); }
static inline void *rf_h_realloc(void *p, size_t n, void *ud) { return (void)ud, rf_realloc(p, n); }
static inline void rf_h_free(void *p, void *ud) { (void)ud, rf_free(p); }

static inline void rf_meter_install(void)
{
    static const hxc_allocator a = {rf_h_malloc, rf_h_realloc, rf_h_free, NULL};
    hxc_set_allocator(&a);
    event_set_mem_functions(rf_malloc, rf_realloc, rf_free);
}

/** Starts a stretch: returns what is live now. */
static inline size_t rf_meter_start(void)
{
    rf_peak = rf_live;
    return rf_live;
}

/** The most held over the stretch beyond what was held at its start. */
static inline size_t rf_meter_grew(size_t at_start)
{
    return rf_peak > at_start ? rf_peak - at_start : 0;
}

/* ---- peers that make the client's queue fill ------------------------------ */

/** The client's end of a peer's connection `fd` (same process), given a small
 *  send buffer (16 KiB): loopback's autotuned buffers otherwise take megabytes
 *  at once, and the client's own queue, the subject of these tests, would not
 *  fill. A slow path does the same to a real client. */
static inline void rf_shrink_client_sndbuf(int fd)
{
    struct sockaddr_storage peer, mine;
    socklen_t pl = sizeof(peer);
    if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0)
        return;
    for (int cfd = 3; cfd < 4096; cfd++) {
        socklen_t ml = sizeof(mine);
        if (cfd == fd || getsockname(cfd, (struct sockaddr *)&mine, &ml) != 0 || ml != pl ||
            memcmp(&mine, &peer, pl) != 0)
            continue;
        int small = 16 << 10;
        setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        return;
    }
}

/** A peer about to stop reading: little buffered on either side. */
static inline void rf_stop_reading(int fd)
{
    int small = 16 << 10;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    rf_shrink_client_sndbuf(fd);
}

/** Accepts an h2c connection with the windows opened wide (flow control never
 *  stops the client). 0 or -1. */
static inline int rf_accept_wide(rawpeer *p, int fd)
{
    const uint32_t settings[] = {0x4 /* INITIAL_WINDOW_SIZE */, 0x7fffffff};
    if (rawpeer_h2_accept(p, fd, settings, 1, 5000) != 0)
        return -1;
    const uint8_t grow[4] = {0x7f, 0xff, 0x00, 0x00};
    return rawpeer_h2_send(p, fd, RAWPEER_WINDOW_UPDATE, 0, 0, grow, 4);
}

/* ---- a producer of a known length ------------------------------------------ */

typedef struct rf_producer {
    uint64_t total;
    _Atomic uint64_t produced;
} rf_producer;

/** `total` bytes in 64 KiB pieces, eof with the last ones. */
static inline int rf_produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof,
                             void *ud)
{
    (void)req;
    rf_producer *p = ud;
    uint64_t left = p->total - p->produced;
    size_t n = left < len ? (size_t)left : len;
    memset(buf, 'u', n);
    *written = n;
    *eof = (p->produced += n) == p->total;
    return 0;
}

/** A POST of `url` with `p`'s body; its future. */
static inline hxc_future *rf_start_upload(hxc_client *c, const char *url, rf_producer *p)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "POST", url), 0);
    assert_int_equal(hxc_request_set_body_producer(req, rf_produce, (int64_t)p->total, p), 0);
    hxc_future *f = hxc_client_request(c, req);
    assert_non_null(f);
    return f;
}

#endif
