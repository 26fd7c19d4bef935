/* SPDX-License-Identifier: MIT */
/*
 * hxc/hxc.h - the umbrella header: include this one.
 *
 * hxc is an asynchronous HTTP client on a libevent loop that the caller owns.
 * See docs/getting-started.md for a first program.
 */
#ifndef HXC_HXC_H
#define HXC_HXC_H

#include "hxc/common.h"
#include "hxc/version.h"
#include "hxc/error.h"
#include "hxc/headers.h"
#include "hxc/request.h"
#include "hxc/response.h"
#include "hxc/future.h"
#include "hxc/client.h"
#include "hxc/form.h"

#endif
