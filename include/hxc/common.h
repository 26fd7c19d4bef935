/* SPDX-License-Identifier: MIT */
/*
 * hxc/common.h - shared declarations of the public API.
 *
 * Every public header includes this one. It forward-declares the opaque
 * handles and the few plain value types, and never includes a dependency's
 * header: the only foreign type a user meets is `struct event_base`, the
 * libevent loop that the caller owns.
 */
#ifndef HXC_COMMON_H
#define HXC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define HXC_EXTERN __declspec(dllimport)
#elif defined(BUILDING_HXC) && defined(__GNUC__)
#define HXC_EXTERN __attribute__((visibility("default")))
#else
#define HXC_EXTERN
#endif

/** The libevent loop. The caller creates it, runs it and frees it. */
struct event_base;

/** A client context: the pool, the settings, the requests in flight. */
typedef struct hxc_client hxc_client;
/** One HTTP request: method, URL, headers, body, per-request options. */
typedef struct hxc_request hxc_request;
/** What came back: status, headers, body, timings, or an error. */
typedef struct hxc_response hxc_response;
/** A read-only list of header fields. */
typedef struct hxc_headers hxc_headers;
/** A response that will be there later. */
typedef struct hxc_future hxc_future;

/**
 * Allocator hooks, in the manner of nghttp2_mem. Set once with
 * hxc_set_allocator() before any other call; all memory of the library
 * goes through them. Each function gets `user_data` as its last argument.
 */
typedef struct hxc_allocator {
    void *(*malloc)(size_t size, void *user_data);
    void *(*realloc)(void *ptr, size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *user_data;
} hxc_allocator;

/**
 * Replaces the allocator (NULL restores malloc/realloc/free). Must be called
 * before any object is created and never while objects are alive.
 */
HXC_EXTERN void hxc_set_allocator(const hxc_allocator *a);

#ifdef __cplusplus
}
#endif
#endif
