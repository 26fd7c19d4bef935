/* SPDX-License-Identifier: MIT */
/*
 * proto/h1.h - HTTP/1.1 codec over llhttp: bytes in, events out; request
 * heads out. Sans-IO: no sockets, no timers, no allocation per byte.
 *
 * Strict framing (llhttp in strict mode): conflicting or duplicate
 * Content-Length, Content-Length with Transfer-Encoding, bad chunk sizes or
 * chunk ends, a CR without LF, a lone LF inside a field line and a missing
 * status line are errors (a lone LF ending a line of its own is a line end,
 * RFC 9112 2.2); so are obs-fold (which
 * llhttp 8.1 would unfold silently: found here from where its spans start
 * and end) and a status outside 100-599. 1xx interim responses are skipped,
 * at most HXC__MAX_INTERIM of them, and end with their head (no body);
 * 101 is an error, as we never ask to upgrade. Every byte of every head,
 * 1xx included, counts against the header limit: the parser is never fed
 * more head bytes than the limit has room for; a trailer section has a limit
 * of its own, counted the same way. The parser stops at the end
 * of each response: bytes after it are reported, never parsed as a second
 * response (no pipelining).
 */
#ifndef HXC_PROTO_H1_H
#define HXC_PROTO_H1_H

#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "core/buf.h"
#include "core/headers.h"

enum { HXC__H1_IN_GAP = 1, HXC__H1_VALUE_ENDED = 2 };

/** Events of one response. Each returns 0 to go on or a negative hxc error to stop. */
typedef struct hxc__h1_events {
    int (*on_status)(void *ud, int status, const char *reason, size_t rlen, const char *version);
    int (*on_header)(void *ud, const char *name, size_t nlen, const char *value, size_t vlen);
    /** The final head is in; `content_length` is the length of the body to
     *  come: its Content-Length, 0 when none can follow (HEAD, 204, 304),
     *  -1 when not announced (chunked, or delimited by the close). */
    int (*on_headers_done)(void *ud, int64_t content_length);
    int (*on_body)(void *ud, const uint8_t *data, size_t len);
    int (*on_trailer)(void *ud, const char *name, size_t nlen, const char *value, size_t vlen);
} hxc__h1_events;

typedef struct hxc__h1_limits {
    size_t max_header_bytes; /* every byte of every response head, 1xx included; 0 = none */
    unsigned max_headers;
} hxc__h1_limits;

/* A field's name or value, or a reason phrase, being read. Nearly always it
 * comes in one span, kept as a view of the bytes being parsed; one split over
 * two reads (llhttp gives it in pieces) or still open when a read ends is
 * copied into `buf`. */
typedef struct hxc__h1_text {
    const char *view; /* NULL: the text so far is in `buf` */
    size_t vlen;
    hxc__buf buf;
} hxc__h1_text;

typedef struct hxc__h1 {
    llhttp_t parser;
    const hxc__h1_events *ev;
    void *ud;
    hxc__h1_limits limits;
    hxc__h1_text name, value; /* the field being read (the value: or the reason) */
    int in_value;
    int head_request;
    int interim; /* the current message is a 1xx */
    int in_trailers;
    int started; /* a byte of the response arrived */
    int complete;
    int keep_alive;
    int interim_close; /* a 1xx said "Connection: close" */
    int head_done;       /* the final head is in: what follows is not a head */
    unsigned interims;   /* 1xx heads so far */
    int whole;             /* this read is counted whole against the limit */
    size_t header_bytes; /* bytes of heads so far (then of the trailer section) */
    size_t ext_bytes;    /* bytes of chunk extensions (bounded like a head) */
    unsigned header_count;
    /* obs-fold is a line end in the gap of whitespace between a field's
     * ':' and its value, or a value span that goes on after its line ended
     * (h1.c, on_header_value). `end`: where the bytes being parsed end. */
    const char *end;
    const char *gap;    /* where the open gap starts in these bytes */
    unsigned gap_cr;    /* CRs of the open gap in bytes parsed before */
    uint8_t fold_state; /* HXC__H1_IN_GAP, HXC__H1_VALUE_ENDED or 0 */
    int err;            /* hxc error set by a callback or a limit */
    const char *detail;
} hxc__h1;

void hxc__h1_init(hxc__h1 *h, const hxc__h1_events *ev, void *ud, const hxc__h1_limits *lim);
void hxc__h1_free(hxc__h1 *h);
/** Prepares for the next response; `head` when the request was HEAD. */
void hxc__h1_begin(hxc__h1 *h, int head);

/**
 * Feeds bytes. Returns 0 when all were taken and more are needed, 1 when
 * the response completed (*used says how many bytes it took; any rest is
 * trailing garbage), or a negative hxc error (h->detail says why).
 */
int hxc__h1_feed(hxc__h1 *h, const uint8_t *data, size_t len, size_t *used);
/**
 * The peer closed. Returns 1 if that completed the response (a body
 * delimited by close), or a negative hxc error: HXC_ECLOSED when no byte of
 * the response had arrived, HXC_EPROTO_REMOTE when it was cut short.
 */
int hxc__h1_eof(hxc__h1 *h);
/** 1 once a complete response allows the connection to be reused. */
static inline int hxc__h1_keep_alive(const hxc__h1 *h) { return h->complete && h->keep_alive; }

/**
 * Serialises a request head into `out`: request line, Host (unless the
 * caller's headers have one), User-Agent (unless given or ua is NULL/""),
 * Accept (unless given), the caller's fields, Content-Length when a body is
 * sent or the method implies one. 0 or HXC_ENOMEM.
 */
int hxc__h1_encode_request(hxc__buf *out, const char *method, const char *target,
                           const char *authority, const struct hxc_headers *headers, int has_body,
                           size_t body_len, const char *ua, const char *accept);
/** Like hxc__h1_encode_request, for a body of unknown length: chunked. */
int hxc__h1_encode_request_chunked(hxc__buf *out, const char *method, const char *target,
                                   const char *authority, const struct hxc_headers *headers,
                                   const char *ua, const char *accept);

#endif
