/* SPDX-License-Identifier: MIT */
/*
 * test/support/tmpdir.h - a temporary directory for a test's files, made in
 * the group setup and removed, with all it holds, in the teardown.
 * Header-only, for unit and integration tests alike.
 */
#ifndef HXC_TMPDIR_H
#define HXC_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

/** Makes /tmp/<prefix>-XXXXXX into `dir` (64 bytes at least). 0 or -1. */
static inline int tmpdir_make(char *dir, size_t cap, const char *prefix)
{
    snprintf(dir, cap, "/tmp/%s-XXXXXX", prefix);
    return mkdtemp(dir) ? 0 : -1;
}

/** Removes `dir` and everything in it. 0 or -1. */
static inline int tmpdir_remove(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/** "dir/name" in one of four rotating static buffers. */
static inline const char *tmpdir_path(const char *dir, const char *name)
{
    static char p[4][160];
    static int next;
    char *b = p[next++ % 4];
    snprintf(b, sizeof(p[0]), "%s/%s", dir, name);
    return b;
}

#endif
