/* SPDX-License-Identifier: MIT */
/*
 * test/interop/interop.h - starting Debian's real servers (nginx now; h2o
 * and nghttpd next) on loopback for interop tests: a private directory,
 * ephemeral ports, a child process stopped at the end. Header-only.
 */
#ifndef HXC_INTEROP_H
#define HXC_INTEROP_H

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

typedef struct interop_proc {
    pid_t pid;
    char dir[256];
} interop_proc;

/** A free loopback TCP port (bound then released; good enough for tests). */
static inline int interop_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/** Whether something accepts connections on 127.0.0.1:port. */
static inline int interop_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

static inline int interop_mkdtemp(interop_proc *p, const char *tag)
{
    snprintf(p->dir, sizeof(p->dir), "/tmp/hxc-%s-XXXXXX", tag);
    return mkdtemp(p->dir) ? 0 : -1;
}

static inline int interop_write_file(const char *dir, const char *name, const void *data,
                                     size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    fclose(f);
    return n == len ? 0 : -1;
}

/** Starts argv (argv[0] a path), stdout/stderr to dir/log; waits for `port` to accept. */
static inline int interop_spawn(interop_proc *p, char *const argv[], int port)
{
    if (access(argv[0], X_OK) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char log[512];
        snprintf(log, sizeof(log), "%s/log", p->dir);
        FILE *f = freopen(log, "a", stdout);
        (void)f;
        dup2(STDOUT_FILENO, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    p->pid = pid;
    for (int i = 0; i < 200; i++) { /* up to 10 s */
        if (interop_port_open(port))
            return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            p->pid = 0;
            return -1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static inline void interop_stop(interop_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        int st;
        for (int i = 0; i < 100; i++) {
            if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
                p->pid = 0;
                break;
            }
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (p->pid > 0) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            p->pid = 0;
        }
    }
    if (p->dir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", p->dir);
        p->dir[0] = '\0';
    }
}

#endif
