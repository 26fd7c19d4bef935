/* SPDX-License-Identifier: MIT */
/*
 * test/support/testsrv.h - start and stop the project's test server from a
 * test: a child process on loopback, ephemeral ports read from its READY
 * line, its stdin kept as a pipe so it exits if the test dies.
 */
#ifndef HXC_TESTSRV_H
#define HXC_TESTSRV_H

#include <stddef.h>
#include <sys/types.h>

typedef struct testsrv {
    pid_t pid;
    int stdin_fd;
    int http_port;
    int https_port;
    int http_port2; /* --http-port2: the second origin's port (0: none) */
    char host[64];
} testsrv;

/**
 * Starts HXC_TESTSERVER_PATH with the NULL-terminated extra arguments (may
 * be NULL); adds --http-port 0 unless given, and --quiet. Waits up to 10 s
 * for the READY line. 0 or -1.
 */
int testsrv_start(testsrv *s, const char *const *extra_args);
/** Also serves TLS with DIR/<base>.pem and .key ("server", "wronghost", ...). */
int testsrv_start_tls(testsrv *s, const char *cert_basename, const char *const *extra_args);
/** SIGTERM, wait, close; safe to call twice. */
void testsrv_stop(testsrv *s);
/** Where the test certificates are (HXC_TEST_CERTS_DIR). */
const char *testsrv_certs_dir(void);
/** "http://HOST:PORT/path" (or https) into buf; returns buf. */
char *testsrv_url(const testsrv *s, int tls, const char *path, char *buf, size_t len);
/** "http://HOST:PORT2/path", the second origin (--http-port2 0); returns buf. */
char *testsrv_url2(const testsrv *s, const char *path, char *buf, size_t len);
/**
 * GET path over a blocking socket of its own (Connection: close), the whole
 * response (head and body) into resp, NUL-terminated. 0 if its status is
 * 200, else -1.
 */
int testsrv_get(const testsrv *s, const char *path, char *resp, size_t rlen);
/** GET /stats over a blocking socket. 0 or -1. */
int testsrv_stats(const testsrv *s, long *connections, long *tls_connections, long *requests);
int testsrv_stats_reset(const testsrv *s);
/** One counter of /stats by name ("goaways", ...), or -1. */
long testsrv_stat(const testsrv *s, const char *name);

#endif
