/* SPDX-License-Identifier: MIT */
/* core/error.c - names, messages and categories, generated from HXC_ERROR_MAP. */
#include "hxc/error.h"

const char *hxc_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define XX(name, value, cat, msg)                                                                  \
    case value:                                                                                    \
        return msg;
        HXC_ERROR_MAP(XX)
#undef XX
    default:
        return "unknown error";
    }
}

const char *hxc_error_name(int err)
{
    switch (err) {
    case 0:
        return "HXC_OK";
#define XX(name, value, cat, msg)                                                                  \
    case value:                                                                                    \
        return "HXC_" #name;
        HXC_ERROR_MAP(XX)
#undef XX
    default:
        return "HXC_UNKNOWN";
    }
}

enum hxc_error_category hxc_error_category(int err)
{
    switch (err) {
    case 0:
        return HXC_CAT_NONE;
#define XX(name, value, cat, msg)                                                                  \
    case value:                                                                                    \
        return HXC_CAT_##cat;
        HXC_ERROR_MAP(XX)
#undef XX
    default:
        return HXC_CAT_UNKNOWN;
    }
}

int hxc_error_is_timeout(int err) { return hxc_error_category(err) == HXC_CAT_TIMEOUT; }
