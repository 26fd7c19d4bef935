/* SPDX-License-Identifier: MIT */
/*
 * policy/auth.h - HTTP authentication, sans-IO: the Authorization values of
 * Basic (RFC 7617), Bearer (RFC 6750) and Digest (RFC 7616), the parser of
 * WWW-Authenticate (RFC 9110 11.6.1), and user:password out of a URL's
 * userinfo. Strings in, strings out: no request, no socket, no timer.
 *
 * Every function writes into the caller's buffer: 0 on success, or a
 * negative HXC_E* with *detail set to a static sentence. A buffer too small
 * is HXC_EINVAL with *needed (may be NULL) set to the size it takes, the NUL
 * included; nothing else changes then, so the call can be repeated with a
 * larger buffer. A WWW-Authenticate field comes from the server: its size,
 * the number of its challenges and parameters, and the length of every
 * value kept are capped (below); anything over a cap, or not in RFC 9110's
 * grammar, is HXC_EINVAL, never a crash or an allocation.
 *
 * Wiring (the API layer's part): send Basic or Bearer at once; for Digest
 * send the request without Authorization, and on a 401 join its
 * WWW-Authenticate fields with ", " (RFC 9110 5.3: the same list), call
 * hxc__auth_digest_respond() and send the request again with the value. If
 * the answer to that is a 401 again, retry once more only when the new
 * challenge says stale=true (st->stale after the call): the credentials were
 * right, the nonce had expired; otherwise hand the 401 to the user (wrong
 * credentials; asking again would loop). Later requests to the same origin
 * can carry hxc__auth_digest_again() at once, saving the 401 round trip.
 */
#ifndef HXC_POLICY_AUTH_H
#define HXC_POLICY_AUTH_H

#include <stddef.h>
#include <stdint.h>

/** Bytes of WWW-Authenticate parsed (all of a response's fields joined). */
#define HXC__AUTH_MAX_FIELD (16 * 1024)
/** Challenges in that field, and parameters in one challenge. */
#define HXC__AUTH_MAX_CHALLENGES 16
#define HXC__AUTH_MAX_PARAMS     32
/** Bytes of a Digest realm, nonce or opaque, unescaped: a longer one makes
 *  its challenge unusable (they are kept in the state for later requests). */
#define HXC__DIGEST_MAX_VALUE 512

/**
 * `Basic base64(user ":" pass)` (RFC 7617; the bytes as given, UTF-8 as the
 * charset="UTF-8" of RFC 7617 2.1 expects). HXC_EINVAL: NULL, a user name
 * with ':' (the server could not split it), a control character in either.
 */
int hxc__auth_basic(const char *user, const char *pass, char *out, size_t cap, size_t *needed,
                    const char **detail);
/** `Bearer TOKEN` (RFC 6750 2.1). HXC_EINVAL unless TOKEN is a token68. */
int hxc__auth_bearer(const char *token, char *out, size_t cap, size_t *needed, const char **detail);
/**
 * Splits a URL's userinfo (`len` bytes, without the '@') at its first ':'
 * and percent-decodes both halves into `user` and `pass` (NUL-terminated;
 * neither is longer than `len`, so buffers of len + 1 bytes always do).
 * *has_pass (may be NULL) tells whether there was a ':' ("user@" gives an
 * empty password and 0). HXC_EINVAL: bad percent-encoding, an encoded NUL,
 * a character that cannot be in a userinfo (control, space, '/', '?', '#',
 * '@', '[', ']'), or a buffer too small.
 */
int hxc__auth_userinfo(const char *userinfo, size_t len, char *user, size_t ucap, char *pass,
                       size_t pcap, int *has_pass, const char **detail);

/* ---- WWW-Authenticate ------------------------------------------------- */

/** A parameter as it stands in the field: views into the caller's bytes. A
 *  quoted value is the text between the quotes, escapes still in
 *  (hxc__auth_param_value unescapes). */
typedef struct hxc__auth_param {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
    int quoted;
} hxc__auth_param;

/** One challenge: its scheme, then a token68 or parameters (or neither). */
typedef struct hxc__auth_challenge {
    const char *scheme;
    size_t scheme_len;
    const char *token68; /* NULL if none */
    size_t token68_len;
    size_t nparams;
    hxc__auth_param params[HXC__AUTH_MAX_PARAMS];
} hxc__auth_challenge;

/** Called for each challenge in field order; nonzero stops the parse and is
 *  what hxc__auth_parse returns. */
typedef int (*hxc__auth_challenge_cb)(const hxc__auth_challenge *c, void *ud);

/**
 * Parses a WWW-Authenticate (or Proxy-Authenticate) value: `#challenge`,
 * any schemes, in any order, empty list elements skipped. Strict: a byte
 * outside the grammar, an unterminated quoted string, a repeated parameter
 * name, more than HXC__AUTH_MAX_CHALLENGES challenges or
 * HXC__AUTH_MAX_PARAMS parameters, or a field longer than
 * HXC__AUTH_MAX_FIELD is HXC_EINVAL for the whole field, since where a
 * broken challenge ends cannot be known. The whole field is checked before
 * `cb` sees any challenge, so a refused field calls it never. Returns 0, the
 * callback's nonzero value, or HXC_EINVAL.
 */
int hxc__auth_parse(const char *field, size_t len, hxc__auth_challenge_cb cb, void *ud,
                    const char **detail);
/** A parameter's value, unescaped, NUL-terminated, into out; its length in
 *  *len (may be NULL). HXC_EINVAL if it does not fit in cap - 1 bytes. */
int hxc__auth_param_value(const hxc__auth_param *p, char *out, size_t cap, size_t *len);

/** Which schemes a field offers (bits below); 0 for a field that does not
 *  parse. For the API layer to choose between Basic and Digest. */
#define HXC__AUTH_SCHEME_BASIC  1u
#define HXC__AUTH_SCHEME_DIGEST 2u
#define HXC__AUTH_SCHEME_BEARER 4u
#define HXC__AUTH_SCHEME_OTHER  8u
unsigned hxc__auth_schemes(const char *field, size_t len);

/* ---- Digest ----------------------------------------------------------- */

/** Digest algorithms, weakest first (the choice takes the strongest). */
enum hxc__digest_alg {
    HXC__DIGEST_MD5 = 1,
    HXC__DIGEST_SHA256,
    HXC__DIGEST_SHA512_256,
};

/** Fills `buf` with `len` random bytes: 0 on success. */
typedef int (*hxc__auth_rand_fn)(unsigned char *buf, size_t len, void *ud);

/**
 * What Digest keeps between requests to one protection space: the challenge
 * chosen last and how many times its nonce was used. Plain memory (about
 * 1.6 KiB, nothing to free); one per (origin, credentials), used from one
 * thread. `rand` (NULL: OpenSSL's RAND_bytes) makes the client nonce; tests
 * set it to replay the RFC's.
 */
typedef struct hxc__digest_state {
    int have;       /* a challenge was chosen: _again() can answer it */
    int stale;      /* the challenge chosen last said stale=true */
    int alg;        /* enum hxc__digest_alg */
    int sess;       /* -sess: HA1 also covers nonce and cnonce */
    int qop;        /* 1: qop=auth; 0: RFC 2069 (the server offered no qop) */
    int userhash;   /* send H(user:realm) as the user name */
    int alg_named;  /* the challenge named its algorithm: name it back */
    int has_opaque; /* echo `opaque` back */
    uint32_t nc;    /* uses of `nonce` so far (the nonce count last sent) */
    char realm[HXC__DIGEST_MAX_VALUE + 1];
    char nonce[HXC__DIGEST_MAX_VALUE + 1];
    char opaque[HXC__DIGEST_MAX_VALUE + 1];
    hxc__auth_rand_fn rand;
    void *rand_ud;
} hxc__digest_state;

/** Zeroes a state (no challenge, RAND_bytes). */
void hxc__auth_digest_init(hxc__digest_state *st);

/**
 * Answers a 401: parses `challenges` (the WWW-Authenticate fields joined),
 * chooses the strongest Digest challenge supported (SHA-512-256, then
 * SHA-256, then MD5; with qop=auth over none; on a tie the first listed)
 * and writes the Authorization value for `method` and `target` (the
 * request-target as sent: path and query) into out. Supported: algorithms
 * MD5, SHA-256, SHA-512-256 and their -sess variants, qop=auth and the
 * RFC 2069 form without qop, userhash=true, charset=UTF-8, opaque. Not
 * supported: qop=auth-int (it hashes the body, which may be streamed and
 * is not at hand here; a server offering it usually offers auth too, as
 * RFC 7616's example does), other charsets, other algorithms. The nonce count goes up by one when
 * the chosen nonce is the one last used (st->nc), else starts at 1; the client nonce is 33 random
 * bytes in base64, fresh on every call. st->stale tells whether the challenge said stale=true (see
 * the wiring above). The user name goes as a quoted string, as `username*` (RFC 8187) if it holds a
 * control character, or hashed with userhash. The state changes only on
 * success. HXC_EINVAL with a detail: a malformed field (as
 * hxc__auth_parse), no Digest challenge, none supported (the detail says
 * why the first was refused: no realm, no nonce, an unknown algorithm,
 * qop=auth-int only...), a buffer too small.
 */
int hxc__auth_digest_respond(const char *challenges, size_t len, const char *method,
                             const char *target, const char *user, const char *pass,
                             hxc__digest_state *st, char *out, size_t cap, size_t *needed,
                             const char **detail);
/**
 * The Authorization value for another request under the challenge chosen
 * last, without a new 401: same nonce, the next nonce count, a fresh client
 * nonce. HXC_EINVAL if no challenge was chosen yet, if the challenge has no
 * qop (RFC 2069 has no nonce count: a reused nonce would be a replay), or
 * if the nonce count is spent.
 */
int hxc__auth_digest_again(hxc__digest_state *st, const char *method, const char *target,
                           const char *user, const char *pass, char *out, size_t cap,
                           size_t *needed, const char **detail);

#endif
