/* SPDX-License-Identifier: MIT */
/*
 * test/server/testserver.h - the project's fault-injecting test server.
 *
 * main.c owns the listeners and the process (signals, stdin EOF); http1.c
 * speaks HTTP/1.1 on each accepted connection and implements the routes
 * (docs/internals/test-server.md). http2.c is its HTTP/2 sibling, chosen by
 * ALPN or the h2c preface, sharing the server state and stats;
 * routes_policy.c holds the routes both protocols share for the policy layer.
 */
#ifndef HXC_TESTSERVER_H
#define HXC_TESTSERVER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <time.h>

typedef struct ts_server {
    struct event_base *base;
    SSL_CTX *ssl_ctx;
    long drop_after; /* --drop-request-after K, or -1 */
    int quiet;
    long connections; /* stats since start or /stats/reset */
    long tls_connections;
    long requests;
    long open_conns;
    long goaways;          /* HTTP/2 GOAWAY frames received from clients */
    long max_open_streams; /* HTTP/2: most streams open at once on one connection */
    long pushes;           /* HTTP/2 pushes promised */
    long h2_max_streams;   /* SETTINGS_MAX_CONCURRENT_STREAMS we announce */
    long h2_goaway_after;  /* GOAWAY after this many streams of a connection (0: never) */
    /* CLOCK_MONOTONIC at start: /stall's phase counts from it */
    struct timespec started;
    /* routes_policy.c: the second origin and the connections dropped at accept */
    int http_port2;        /* --http-port2: a second cleartext listener (0: none) */
    long drop_accepts;     /* accepted connections still to close at once (RST) */
    long dropped_accepts;  /* how many were */
} ts_server;

/** Takes over a connected socket (already wrapped in a bufferevent). */
void ts_http1_accept(ts_server *s, struct bufferevent *bev, int tls);
/** Takes over a connection that speaks HTTP/2 (ALPN h2, or the h2c preface). */
void ts_http2_takeover(ts_server *s, struct bufferevent *bev, int tls);
/**
 * /stall: the server is stalled for the first `ms` of every `period` ms since
 * it started. 1 with the time left of the current stall in *left, or 0
 * (in http1.c, with the routes).
 */
int ts_stall_left(const ts_server *s, long ms, long period, struct timeval *left);
/** The answer of an authentication route (auth.c). */
typedef struct ts_auth_reply {
    int status;
    int n_www; /* WWW-Authenticate fields, each sent on its own */
    char www[2][700];
    char body[700];
} ts_auth_reply;
/** 1 for /basic-auth/... and /digest-auth/... (path without query). */
int ts_auth_is_route(const char *path);
/** Answers an authentication route: `target` is the request-target as
 *  received, `authz` the Authorization value or NULL. */
void ts_auth_route(const char *method, const char *target, const char *authz, ts_auth_reply *r);
/** The value of field `name` in "Name: value" lines (CRLF or LF), trimmed,
 *  into out: 1 if found and it fits. */
int ts_header_value(const char *block, size_t len, const char *name, char *out, size_t cap);
/** Writes the certificate set into dir; 0 or -1. */
int ts_make_certs(const char *dir);
/** Frees every connection still open (at exit). */
void ts_http1_shutdown(void);

/* ---- Routes for the policy layer (routes_policy.c) ---------------------
 * Redirects, content codings, bombs, retries and the crawler's link tree,
 * the same over HTTP/1.1 and HTTP/2: each protocol describes the request in
 * a ts_request, routes_policy.c answers with a ts_reply, and the protocol
 * writes it (http1.c: Content-Length or chunked; http2.c: DATA frames). */

/** A response body made while it is sent (a streaming encoder). */
typedef struct ts_gen ts_gen;

typedef struct ts_request {
    const char *method;
    const char *target;    /* path and query, as received */
    const char *headers;   /* "name: value" lines, each ended by LF or CRLF */
    size_t headers_len;
    const char *authority; /* Host or :authority ("" if none) */
    size_t body_len;       /* request body bytes received */
    int tls;
} ts_request;

#define TS_REPLY_MAX_FIELDS 16

typedef struct ts_reply {
    int status;
    int n_fields;
    struct {
        char *name, *value;
    } fields[TS_REPLY_MAX_FIELDS];
    char *body; /* malloc'd */
    size_t body_len;
    ts_gen *gen;   /* or a body produced as it is sent, of no known length */
    int no_length; /* no Content-Length: chunked over HTTP/1.1, bare DATA over HTTP/2 */
    int drop;      /* no answer: close the connection without a byte */
} ts_reply;

/**
 * Answers rq if it is one of routes_policy.c's routes: 1 with *rep filled
 * (the caller writes it and calls ts_reply_free), or 0 with *rep untouched.
 */
int ts_policy_route(ts_server *s, const ts_request *rq, ts_reply *rep);
void ts_reply_free(ts_reply *rep);
/** The reason phrase of the statuses these routes use, or NULL. */
const char *ts_policy_reason(int status);
/**
 * Up to cap bytes of the body into buf; *eof once it ended. 0 bytes without
 * *eof: this turn's work is spent (a few MiB of input), call
 * ts_gen_new_turn() from a later loop turn and read again.
 */
size_t ts_gen_read(ts_gen *g, unsigned char *buf, size_t cap, int *eof);
void ts_gen_new_turn(ts_gen *g);
void ts_gen_free(ts_gen *g);

#endif
