/* SPDX-License-Identifier: MIT */
/*
 * core/internal.h - macros shared by every file of the library.
 *
 * Depends on nothing but libc. Internal non-static functions are named
 * hxc__<module>_<verb>; file-local ones are static and unprefixed.
 */
#ifndef HXC_CORE_INTERNAL_H
#define HXC_CORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hxc/error.h"

#define HXC__CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define HXC__ARRAY_SIZE(a)                   (sizeof(a) / sizeof((a)[0]))
#define HXC__UNUSED(x)                       ((void)(x))

#if defined(__GNUC__)
#define hxc__likely(x)   __builtin_expect(!!(x), 1)
#define hxc__unlikely(x) __builtin_expect(!!(x), 0)
#else
#define hxc__likely(x)   (x)
#define hxc__unlikely(x) (x)
#endif

/** Interim (1xx) responses taken before the final one, on every protocol
 *  (Go's limit): the next is a protocol error. */
#define HXC__MAX_INTERIM 5

/** Monotonic time in seconds. */
double hxc__now(void);

#endif
