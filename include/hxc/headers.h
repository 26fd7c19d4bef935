/* SPDX-License-Identifier: MIT */
/*
 * hxc/headers.h - read-only access to a list of header fields.
 *
 * Lookups are case-insensitive; repeated fields keep their order; names keep
 * the case the peer sent (HTTP/2 names are lower case on the wire). Every
 * pointer returned lives as long as the object the list belongs to (the
 * request or the response).
 */
#ifndef HXC_HEADERS_H
#define HXC_HEADERS_H

#include "hxc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Number of fields; 0 for NULL. */
HXC_EXTERN size_t hxc_headers_count(const hxc_headers *h);
/**
 * The i-th field (0-based). Returns 0 and sets *name and *value (either may
 * be NULL), or HXC_EINVAL when i is out of range; then the outputs are left
 * untouched.
 */
HXC_EXTERN int hxc_headers_at(const hxc_headers *h, size_t i, const char **name,
                              const char **value);
/** The value of the first field called `name` (any case), or NULL. */
HXC_EXTERN const char *hxc_headers_get(const hxc_headers *h, const char *name);
/** The value of the n-th (0-based) field called `name`, or NULL. */
HXC_EXTERN const char *hxc_headers_get_nth(const hxc_headers *h, const char *name, size_t n);
/** How many fields are called `name`. */
HXC_EXTERN size_t hxc_headers_count_of(const hxc_headers *h, const char *name);

#ifdef __cplusplus
}
#endif
#endif
