/* SPDX-License-Identifier: MIT */
/*
 * policy/retry.h - when a request is tried again, and after how long.
 * Sans-IO: decisions from an error, a status and a Retry-After value; the
 * API layer waits and sends again.
 *
 * HTTPX's transport retries connect failures only (`retries`); so does hxc
 * by default, and only those the server did not answer: refused, reset, no
 * address, a connect timeout, a TLS handshake that failed on I/O. A
 * certificate that fails verification is never retried (the answer would
 * be the same). Statuses are retried only when the caller lists them
 * (`retry_on_status`), only for idempotent methods with a body that can be
 * sent again, honouring Retry-After.
 */
#ifndef HXC_POLICY_RETRY_H
#define HXC_POLICY_RETRY_H

#include <stddef.h>

/** The longest Retry-After honoured (s): a longer one delivers the answer. */
#define HXC__RETRY_AFTER_MAX 300.0

/** Whether `err` (with `detail`) is a connect failure worth another try. */
int hxc__retry_connect_error(int err, const char *detail);
/** Whether a method may be sent twice (RFC 9110 9.2.2). */
int hxc__retry_idempotent(const char *method);
/**
 * The wait before try number `attempt` (2 for the first retry): none for the
 * first retry, then 0.5 s doubling (httpcore's schedule), with up to a tenth
 * of jitter from `*rng` (xorshift state, never 0), capped at 30 s.
 */
double hxc__retry_backoff(unsigned attempt, unsigned long long *rng);
/**
 * A Retry-After field value (RFC 9110 10.2.3): delay-seconds or an
 * HTTP-date (IMF-fixdate, and the two obsolete forms), relative to `now_unix`
 * (the wall clock). Returns the wait in seconds (0 for a date in the past),
 * or -1 when the value is neither.
 */
double hxc__retry_after(const char *value, size_t len, double now_unix);

#endif
