/* SPDX-License-Identifier: MIT */
/*
 * test/support/rawpeer.h - a scripted hostile peer for tests.
 *
 * It listens on 127.0.0.1 (an ephemeral port) and runs a script of the
 * test's own, on a thread of its own, for every connection it accepts. The
 * scripts use blocking helpers with timeouts, so a test can write, in a few
 * lines, the server no real server would be: raw HTTP/1.1 bytes, hand-packed
 * HTTP/2 frames, a peer that stalls, lies or stops reading. The client under
 * test runs on the test's thread, on its own loop, unaware.
 *
 * Every helper returns -1 once the peer is stopping, so scripts that loop
 * ("never read", "send PINGs forever") end when the test stops the peer.
 */
#ifndef HXC_RAWPEER_H
#define HXC_RAWPEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rawpeer rawpeer;

/** A connection's script: `index` counts accepted connections from 0. The
 *  connection is closed when the script returns. */
typedef void (*rawpeer_script)(rawpeer *p, int fd, int index, void *arg);

/** Starts listening and accepting; NULL on failure. */
rawpeer *rawpeer_start(rawpeer_script script, void *arg);
/** Stops accepting, shuts every live connection down (the scripts' calls
 *  fail), waits for every script to return, frees. NULL is ignored. */
void rawpeer_stop(rawpeer *p);
int rawpeer_port(const rawpeer *p);
/** Connections accepted so far. */
int rawpeer_accepted(const rawpeer *p);
/** "http://127.0.0.1:PORT" + path into buf; returns buf. */
char *rawpeer_url(const rawpeer *p, const char *path, char *buf, size_t len);
/** Whether rawpeer_stop has been called. */
int rawpeer_stopping(const rawpeer *p);

/* ---- script helpers (blocking, on the script's thread) ---------------- */

/** Sends all `len` bytes: 0, or -1 (closed, stopping, or no room within
 *  `timeout_ms` when the client stops reading; < 0 waits forever). */
int rawpeer_send(rawpeer *p, int fd, const void *data, size_t len, int timeout_ms);
/** rawpeer_send of a C string, no timeout. */
int rawpeer_send_str(rawpeer *p, int fd, const char *s);
/** Some bytes: > 0, 0 at EOF, -1 on error, timeout or stop. */
ssize_t rawpeer_recv(rawpeer *p, int fd, void *buf, size_t cap, int timeout_ms);
/** Exactly `len` bytes: 0, or -1. */
int rawpeer_recv_exact(rawpeer *p, int fd, void *buf, size_t len, int timeout_ms);
/** Reads an HTTP/1.1 request head (up to and including the blank line, byte
 *  by byte: nothing of a following body is taken) into buf, NUL-terminated.
 *  Its length, or -1. */
ssize_t rawpeer_recv_head(rawpeer *p, int fd, char *buf, size_t cap, int timeout_ms);
/** Reads and drops everything until EOF: 0 at EOF, -1 on timeout or stop. */
int rawpeer_drain_until_eof(rawpeer *p, int fd, int timeout_ms);
/** Does nothing with the connection (never reads it) for `ms` (< 0: until
 *  the peer stops). Returns -1 if the peer is stopping. */
int rawpeer_hold(rawpeer *p, int ms);

/* ---- HTTP/2, packed by hand ------------------------------------------- */

enum {
    RAWPEER_DATA = 0,
    RAWPEER_HEADERS = 1,
    RAWPEER_PRIORITY = 2,
    RAWPEER_RST_STREAM = 3,
    RAWPEER_SETTINGS = 4,
    RAWPEER_PUSH_PROMISE = 5,
    RAWPEER_PING = 6,
    RAWPEER_GOAWAY = 7,
    RAWPEER_WINDOW_UPDATE = 8,
    RAWPEER_CONTINUATION = 9
};
enum { RAWPEER_END_STREAM = 0x1, RAWPEER_ACK = 0x1, RAWPEER_END_HEADERS = 0x4 };

typedef struct rawpeer_frame {
    uint32_t len;
    uint8_t type, flags;
    uint32_t stream;
    uint8_t payload[65536]; /* frames longer than this are read and truncated here */
} rawpeer_frame;

/** Packs a frame header (9 bytes) and the payload into `out`; its size. */
size_t rawpeer_h2_pack(uint8_t *out, uint8_t type, uint8_t flags, uint32_t stream,
                       const void *payload, uint32_t len);
/** Sends one frame (header + `len` payload bytes). 0 or -1. */
int rawpeer_h2_send(rawpeer *p, int fd, uint8_t type, uint8_t flags, uint32_t stream,
                    const void *payload, uint32_t len);
/** Reads one frame. 0 or -1. */
int rawpeer_h2_recv(rawpeer *p, int fd, rawpeer_frame *f, int timeout_ms);
/** The server's side of the connection start: reads the client's preface and
 *  first SETTINGS, sends `settings` (pairs of id and value, `n` of them; may
 *  be empty) and the ACK of the client's. 0 or -1. */
int rawpeer_h2_accept(rawpeer *p, int fd, const uint32_t *settings, size_t n, int timeout_ms);
/** Reads frames until a HEADERS frame arrives (other frames are dropped):
 *  its stream id, or -1. */
int32_t rawpeer_h2_next_request(rawpeer *p, int fd, int timeout_ms);
/** Appends an HPACK "literal header field without indexing, new name" (no
 *  Huffman) to `out`; returns the bytes written. Names and values < 127 bytes. */
size_t rawpeer_hpack(uint8_t *out, const char *name, const char *value);
/** Sends a HEADERS frame (END_HEADERS set) with `:status` and the given
 *  NULL-terminated name, value, ... list; `end_stream` sets END_STREAM. */
int rawpeer_h2_respond(rawpeer *p, int fd, uint32_t stream, int status, int end_stream,
                       const char *const *fields);

#endif
