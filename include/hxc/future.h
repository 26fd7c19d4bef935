/* SPDX-License-Identifier: MIT */
/*
 * hxc/future.h - futures: the second way to receive a response.
 *
 * hxc_client_request() returns a future for one request; hxc_future_all()
 * and hxc_future_any() combine futures. A future settles exactly once, on
 * the loop; hxc_future_then() callbacks run from the loop after it settles
 * (never from inside the call that registers them), and hxc_future_wait()
 * runs the client's loop until the future has settled.
 *
 * Ownership: the caller owns every future it gets and frees each one with
 * hxc_future_free(), settled or not (freeing an unsettled future cancels its
 * request). A combined future holds its own references to its inputs, so
 * the inputs may be freed in any order.
 */
#ifndef HXC_FUTURE_H
#define HXC_FUTURE_H

#include "hxc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Called once the future has settled. */
typedef void (*hxc_future_cb)(hxc_future *future, void *user_data);

/**
 * Registers `cb` to run once `future` settles (or on the next loop turn if
 * it already has). Several callbacks run in registration order. Once the
 * future's client has closed (or for an empty combination) there is no loop
 * of the library's any more, and `cb` runs at once. Returns 0, HXC_EINVAL or
 * HXC_ENOMEM.
 */
HXC_EXTERN int hxc_future_then(hxc_future *future, hxc_future_cb cb, void *user_data);
/**
 * Runs the loop (event_base_loop with EVLOOP_ONCE turns) until `future`
 * settles, then returns its error (0 on success). Must not be called from
 * inside a callback of the same loop (returns HXC_EINVAL).
 */
HXC_EXTERN int hxc_future_wait(hxc_future *future);
/** 1 once settled, else 0. */
HXC_EXTERN int hxc_future_done(const hxc_future *future);
/** The error the future settled with (0 on success or while pending). */
HXC_EXTERN int hxc_future_error(const hxc_future *future);
/**
 * The response (also on failure, see response.h), or NULL while pending and
 * for futures made by hxc_future_all(). For hxc_future_any() it is the
 * winner's response. Valid until the future is freed.
 */
HXC_EXTERN hxc_response *hxc_future_response(const hxc_future *future);

/**
 * A future that settles when every one of the `n` futures has settled. Its
 * error is the first nonzero error among them in array order, or 0. With
 * n == 0 it is settled at once. NULL only when out of memory or invalid
 * arguments.
 */
HXC_EXTERN hxc_future *hxc_future_all(hxc_future *const *futures, size_t n);
/**
 * A future that settles with the first of the `n` futures to succeed (its
 * response is the winner's), or, if all fail, with the last failure.
 * The losers keep running; cancel them if they are no longer wanted. With
 * n == 0 there is no winner: it is settled at once with HXC_EINVAL, no
 * response and index -1 (as Python's asyncio.wait refuses an empty set).
 * NULL only when out of memory or invalid arguments.
 */
HXC_EXTERN hxc_future *hxc_future_any(hxc_future *const *futures, size_t n);
/**
 * Index (in the array given to hxc_future_any) of the winner, or -1.
 */
HXC_EXTERN long hxc_future_any_index(const hxc_future *future);

/**
 * Cancels the request behind `future` (settles with HXC_ECANCELLED unless it
 * had settled already). Cancelling a combined future cancels its inputs.
 */
HXC_EXTERN void hxc_future_cancel(hxc_future *future);
/** Frees the caller's reference; cancels the request if still pending. */
HXC_EXTERN void hxc_future_free(hxc_future *future);

#ifdef __cplusplus
}
#endif
#endif
