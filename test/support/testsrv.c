/* SPDX-License-Identifier: MIT */
/* test/support/testsrv.c - see testsrv.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testsrv.h"

const char *testsrv_certs_dir(void) { return HXC_TEST_CERTS_DIR; }

int testsrv_start(testsrv *s, const char *const *extra)
{
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->stdin_fd = -1;
    snprintf(s->host, sizeof(s->host), "127.0.0.1");
    const char *argv[64];
    int n = 0, have_port = 0;
    argv[n++] = HXC_TESTSERVER_PATH;
    for (int i = 0; extra && extra[i] && n < 58; i++) {
        if (strcmp(extra[i], "--http-port") == 0)
            have_port = 1;
        if (strcmp(extra[i], "--host") == 0 && extra[i + 1])
            snprintf(s->host, sizeof(s->host), "%s", extra[i + 1]);
        argv[n++] = extra[i];
    }
    if (!have_port) {
        argv[n++] = "--http-port";
        argv[n++] = "0";
    }
    argv[n++] = "--quiet";
    argv[n] = NULL;

    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->pid = pid;
    s->stdin_fd = in[1];

    char line[256];
    size_t len = 0;
    for (;;) {
        struct pollfd pfd = {out[0], POLLIN, 0};
        if (poll(&pfd, 1, 10000) <= 0)
            break;
        ssize_t r = read(out[0], line + len, sizeof(line) - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        line[len] = '\0';
        if (strchr(line, '\n'))
            break;
    }
    close(out[0]);
    line[len] = '\0';
    if (sscanf(line, "READY http=%d https=%d", &s->http_port, &s->https_port) != 2) {
        testsrv_stop(s);
        return -1;
    }
    const char *p2 = strstr(line, " http2=");
    if (p2)
        s->http_port2 = atoi(p2 + 7);
    return 0;
}

int testsrv_start_tls(testsrv *s, const char *base, const char *const *extra)
{
    char cert[512], key[512];
    snprintf(cert, sizeof(cert), "%s/%s.pem", HXC_TEST_CERTS_DIR, base);
    snprintf(key, sizeof(key), "%s/%s.key", HXC_TEST_CERTS_DIR, base);
    const char *argv[64];
    int n = 0;
    argv[n++] = "--https-port";
    argv[n++] = "0";
    argv[n++] = "--cert";
    argv[n++] = cert;
    argv[n++] = "--key";
    argv[n++] = key;
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return testsrv_start(s, argv);
}

void testsrv_stop(testsrv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        for (int i = 0; i < 200; i++) {
            if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                s->pid = -1;
                break;
            }
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
        }
        s->pid = -1;
    }
    if (s->stdin_fd >= 0) {
        close(s->stdin_fd);
        s->stdin_fd = -1;
    }
}

char *testsrv_url(const testsrv *s, int tls, const char *path, char *buf, size_t len)
{
    int v6 = strchr(s->host, ':') != NULL;
    snprintf(buf, len, "%s://%s%s%s:%d%s", tls ? "https" : "http", v6 ? "[" : "", s->host,
             v6 ? "]" : "", tls ? s->https_port : s->http_port, path);
    return buf;
}

char *testsrv_url2(const testsrv *s, const char *path, char *buf, size_t len)
{
    int v6 = strchr(s->host, ':') != NULL;
    snprintf(buf, len, "http://%s%s%s:%d%s", v6 ? "[" : "", s->host, v6 ? "]" : "",
             s->http_port2, path);
    return buf;
}

int testsrv_get(const testsrv *s, const char *path, char *resp, size_t rlen)
{
    int v6 = strchr(s->host, ':') != NULL;
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)s->http_port);
        inet_pton(AF_INET6, s->host, &a->sin6_addr);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)s->http_port);
        inet_pton(AF_INET, s->host, &a->sin_addr);
        sl = sizeof(*a);
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        close(fd);
        return -1;
    }
    char req[1024];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    size_t len = 0;
    ssize_t r;
    while (len + 1 < rlen && (r = read(fd, resp + len, rlen - 1 - len)) > 0)
        len += (size_t)r;
    resp[len] = '\0';
    close(fd);
    return strncmp(resp, "HTTP/1.1 200", 12) == 0 ? 0 : -1;
}

int testsrv_stats(const testsrv *s, long *conns, long *tls, long *reqs)
{
    char resp[1024];
    if (testsrv_get(s, "/stats", resp, sizeof(resp)) != 0)
        return -1;
    const char *b = strstr(resp, "\r\n\r\n");
    if (b == NULL || sscanf(b + 4, "{\"connections\":%ld,\"tls_connections\":%ld,\"requests\":%ld",
                            conns, tls, reqs) != 3)
        return -1;
    return 0;
}

int testsrv_stats_reset(const testsrv *s)
{
    char resp[512];
    return testsrv_get(s, "/stats/reset", resp, sizeof(resp));
}

long testsrv_stat(const testsrv *s, const char *name)
{
    char resp[1024], key[64];
    if (testsrv_get(s, "/stats", resp, sizeof(resp)) != 0)
        return -1;
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *p = strstr(resp, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}
