/* SPDX-License-Identifier: MIT */
/*
 * proto/h2.h - HTTP/2 client codec over nghttp2: requests in, frames out,
 * frames in, per-stream events out. Sans-IO: the caller moves the bytes
 * (hxc__h2_recv / hxc__h2_send) and owns the socket.
 *
 * nghttp2 does the framing, HPACK, flow control and stream state; this file
 * sets it up safely (push off, flood and header limits on, large windows),
 * enforces the decoded header-list limit itself (HPACK bombs), and maps
 * nghttp2's callbacks onto a small event table keyed by stream user data.
 */
#ifndef HXC_PROTO_H2_H
#define HXC_PROTO_H2_H

#include <stddef.h>
#include <stdint.h>

#include "core/headers.h"

typedef struct hxc__h2 hxc__h2;

#define HXC__H2_KEEP 1

/* Why a stream was not processed (on_close's `refused`). */
#define HXC__H2_REFUSED_RST    1 /* RST_STREAM(REFUSED_STREAM) from the server */
#define HXC__H2_REFUSED_GOAWAY 2 /* above a GOAWAY's last stream id (or never sent) */
#define HXC__H2_REFUSED_OVER   3 /* the same, of a stream over the server's limit */

/** Per-stream events; `sud` is the pointer given to hxc__h2_submit. 0 or a negative hxc error. */
typedef struct hxc__h2_events {
    /** The final head's status (1xx heads are skipped): set *fields to the
     *  list its fields are to be appended to (it stays NULL: not kept). */
    int (*on_status)(void *sud, int status, struct hxc_headers **fields);
    /** The final head is complete; `content_length` is its content-length,
     *  or -1 if it has none. */
    int (*on_headers_done)(void *sud, int64_t content_length);
    /** Body bytes: 0 (consumed, window credited now), HXC__H2_KEEP (the owner
     *  credits it later with hxc__h2_consume), or a negative hxc error. */
    int (*on_data)(void *sud, const uint8_t *data, size_t len);
    int (*on_trailer)(void *sud, const char *n, size_t nl, const char *v, size_t vl);
    /**
     * The stream ended: err 0 when the response completed, else a negative
     * hxc error: HXC_ESTREAM_RESET (`code`) for a RST_STREAM of the server's,
     * HXC_EPROTO_REMOTE for a response nghttp2 or we found malformed (and
     * for every stream of a session that ended on a connection error), ...
     * `refused` (HXC__H2_REFUSED_*) when the server is known not to have
     * processed it, so it may be retried anywhere.
     *
     * A complete response may end the stream while the request is still
     * being sent (RFC 9113 8.1): it is reported as a success, and our side of
     * the stream is reset (NO_ERROR).
     */
    void (*on_close)(void *sud, int err, uint32_t code, int refused, const char *detail);
    /** The peer sent GOAWAY (called once per GOAWAY frame). */
    void (*on_goaway)(void *ud, int32_t last_stream_id, uint32_t code);
    /** The peer's SETTINGS arrived (its stream limit may have changed). */
    void (*on_settings)(void *ud);
    /**
     * A PUSH_PROMISE (only when push is enabled): `req` holds the promised
     * request's fields, pseudo-headers included. Return the stream user data
     * for the pushed response, or NULL to refuse it (RST_STREAM CANCEL).
     */
    void *(*on_push)(void *ud, int32_t promised_id, const struct hxc_headers *req);
    /** The peer acknowledged our PING. */
    void (*on_ping_ack)(void *ud);
    /** A HEADERS or DATA frame of the stream left; `end` when it ended the request. */
    void (*on_sent)(void *sud, int end);
} hxc__h2_events;

typedef struct hxc__h2_limits {
    size_t max_header_bytes; /* decoded header list of one response */
    unsigned max_headers;
    unsigned max_streams;           /* our own cap on concurrent streams */
    uint32_t stream_window;         /* initial stream receive window */
    uint32_t conn_window;           /* connection receive window */
    int enable_push;                /* SETTINGS_ENABLE_PUSH (and room for pushed streams) */
    struct hxc__recycler *recycler; /* nghttp2's memory goes through it (NULL: none) */
} hxc__h2_limits;

/** A request to submit; strings need not outlive the call except `body`. */
typedef struct hxc__h2_request {
    const char *method, *scheme, *authority, *path;
    size_t method_len, scheme_len, authority_len, path_len;
    const struct hxc_headers *headers;
    const char *user_agent; /* NULL or "" for none */
    const char *accept;     /* the default Accept: NULL or "" for none */
    const uint8_t *body;    /* must stay valid until the stream closes */
    size_t body_len;
    int has_body;
    /* A streamed body instead: fills buf, sets *n and *eof; returns 0, or
     * HXC__H2_DEFER (nothing yet: hxc__h2_resume_body later), or an hxc error. */
    int (*read)(void *sud, uint8_t *buf, size_t len, size_t *n, int *eof);
    int64_t read_len; /* its length, or -1 (no content-length) */
} hxc__h2_request;

#define HXC__H2_DEFER 2

/** 0, HXC_ENOMEM. `ud` is given to on_goaway. */
int hxc__h2_new(hxc__h2 **out, const hxc__h2_events *ev, void *ud, const hxc__h2_limits *lim);
void hxc__h2_free(hxc__h2 *h);
/** Submits a request; returns the stream id (> 0) or a negative hxc error. */
int32_t hxc__h2_submit(hxc__h2 *h, const hxc__h2_request *req, void *sud);
/**
 * Feeds received bytes. 0, or a negative hxc error with *detail saying why:
 * the session is over. HXC_EPROTO_REMOTE when the server broke the protocol
 * (a connection error): nghttp2 has queued a GOAWAY, which hxc__h2_send
 * still sends; then hxc__h2_fail_all. Other errors are fatal at once.
 */
int hxc__h2_recv(hxc__h2 *h, const uint8_t *data, size_t len, const char **detail);
/**
 * Whether the session ended on a connection error (HXC_EPROTO_REMOTE, and
 * why in *detail), found in what was received or in the GOAWAY nghttp2 sent
 * for it; 0 if not. After a GOAWAY either way nghttp2 cannot be asked while
 * receiving, so its own GOAWAY, once sent, is what shows the error.
 */
int hxc__h2_failed(const hxc__h2 *h, const char **detail);
/**
 * Serialises pending frames through `write` (called with chunks; returns 0
 * or a negative error), `limit` bytes at most (one chunk more at most; 0
 * sends nothing): 0 when nghttp2 has nothing more to send now, 1 when it
 * stopped at the limit (the rest stays in nghttp2, which bounds the ACKs it
 * owes a peer), or a negative hxc error.
 */
int hxc__h2_send(hxc__h2 *h, int (*write)(void *wud, const uint8_t *p, size_t n), void *wud,
                 size_t limit);
/** Whether the stream may send DATA now: the peer's windows (the stream's
 *  and the connection's) are open; a stream not opened yet may (HEADERS). */
int hxc__h2_can_send(const hxc__h2 *h, int32_t stream_id);
/** Whether the last hxc__h2_send stopped at its limit (frames may be left). */
int hxc__h2_stopped(const hxc__h2 *h);
/** Streams that may still be opened now (0 after GOAWAY). */
unsigned hxc__h2_capacity(const hxc__h2 *h);
/** Streams open. */
unsigned hxc__h2_open_streams(const hxc__h2 *h);
/** Queues a PING (health check). */
void hxc__h2_ping(hxc__h2 *h);
/** A deferred streamed body has data again. */
void hxc__h2_resume_body(hxc__h2 *h, int32_t stream_id);
/** Credits `n` bytes of a stream (and the connection) back to the peer's window. */
void hxc__h2_consume(hxc__h2 *h, int32_t stream_id, size_t n);
/** Credits the connection window only (bytes of a stream that is gone). */
void hxc__h2_consume_connection(hxc__h2 *h, size_t n);
/** Resets a stream (CANCEL); its on_close will not be called. */
void hxc__h2_cancel(hxc__h2 *h, int32_t stream_id);
/** Starts a graceful shutdown: GOAWAY(NO_ERROR) after the open streams. */
void hxc__h2_shutdown(hxc__h2 *h);
/** Whether the session has nothing more to do (both sides done). */
int hxc__h2_finished(const hxc__h2 *h);
/** Whether a GOAWAY was received or sent, or the session ended (no new streams). */
int hxc__h2_going_away(const hxc__h2 *h);
/** Fails every open stream with `err` (the connection died); no on_close afterwards. */
void hxc__h2_fail_all(hxc__h2 *h, int err, const char *detail);

#endif
