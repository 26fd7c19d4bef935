/*
 * test/server/testserver.h - the project's fault-injecting test server.
 *
 * main.c owns the listeners and the process (signals, stdin EOF); http1.c
 * speaks HTTP/1.1 on each accepted connection and implements the routes
 * (docs/internals/test-server.md). HTTP/2 will be a sibling of http1.c,
 * chosen by ALPN or the h2c preface, sharing the server state and stats.
 */
#ifndef HXC_TESTSERVER_H
#define HXC_TESTSERVER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

typedef struct ts_server {
    struct event_base *base;
    SSL_CTX *ssl_ctx;
    long drop_after;    /* --drop-request-after K, or -1 */
    int quiet;
    long connections;  /* stats since start or /stats/reset */
    long tls_connections;
    long requests;
    long open_conns;
} ts_server;

/** Takes over a connected socket (already wrapped in a bufferevent). */
void ts_http1_accept(ts_server *s, struct bufferevent *bev, int tls);
/** Writes the certificate set into dir; 0 or -1. */
int ts_make_certs(const char *dir);
/** Frees every connection still open (at exit). */
void ts_http1_shutdown(void);

#endif
