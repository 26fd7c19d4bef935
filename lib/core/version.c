/* SPDX-License-Identifier: MIT */
/* core/version.c - the version of the library actually linked. */
#include <time.h>

#include "hxc/version.h"
#include "core/internal.h"

const char *hxc_version(void) { return HXC_VERSION_STRING; }
unsigned hxc_version_num(void) { return HXC_VERSION_NUM; }

double hxc__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
