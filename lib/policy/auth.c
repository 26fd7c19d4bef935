/* SPDX-License-Identifier: MIT */
/*
 * policy/auth.c - Basic, Bearer and Digest Authorization values, and the
 * WWW-Authenticate parser (see auth.h). Sans-IO, and no allocation of
 * ours: every output goes to the caller's buffer, every view points into
 * the caller's field. OpenSSL does the base64 (EVP_EncodeBlock), the hashes
 * (EVP digests, whose context it allocates) and the client nonce
 * (RAND_bytes).
 *
 * The field comes from a server that may be hostile: nothing here reads
 * past `len`, grows with the input, or copies a value without its cap.
 */
#include <stdio.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/internal.h"
#include "policy/auth.h"

/* ---- output into the caller's buffer ---------------------------------- */

/* Writes while it fits, counts always: the count is the size needed. */
typedef struct sbuf {
    char *p;
    size_t cap, len;
    int over;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (!b->over && b->len + n < b->cap)
        memcpy(b->p + b->len, s, n);
    else
        b->over = 1;
    b->len += n;
}

static void sb_str(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

/* A quoted-string of `s`: '"' and '\' escaped (CTLs never reach here). */
static void sb_quoted(sbuf *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (const char *run = s;; s++) {
        if (*s == '"' || *s == '\\' || *s == '\0') {
            sb_add(b, run, (size_t)(s - run));
            if (*s == '\0')
                break;
            sb_add(b, "\\", 1);
            run = s;
        }
    }
    sb_add(b, "\"", 1);
}

static int sb_finish(sbuf *b, size_t *needed, const char **detail)
{
    if (needed)
        *needed = b->len + 1;
    if (b->over || b->len + 1 > b->cap) {
        *detail = "buffer too small for the Authorization value";
        return HXC_EINVAL;
    }
    b->p[b->len] = '\0';
    return 0;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* ---- Basic, Bearer, userinfo ------------------------------------------ */

int hxc__auth_basic(const char *user, const char *pass, char *out, size_t cap, size_t *needed,
                    const char **detail)
{
    const char *ignored;
    if (detail == NULL)
        detail = &ignored;
    if (user == NULL || pass == NULL || (out == NULL && cap > 0)) {
        *detail = "no user name or password";
        return HXC_EINVAL;
    }
    if (strchr(user, ':') != NULL) {
        *detail = "a Basic user name cannot contain ':' (RFC 7617)";
        return HXC_EINVAL;
    }
    if (has_ctl(user) || has_ctl(pass)) {
        *detail = "control character in a Basic user name or password (RFC 7617)";
        return HXC_EINVAL;
    }
    size_t ul = strlen(user), pl = strlen(pass), n = ul + 1 + pl;
    if (n > SIZE_MAX / 2) {
        *detail = "credentials too long";
        return HXC_EINVAL;
    }
    sbuf b = {out, cap, 0, 0};
    sb_add(&b, "Basic ", 6);
    size_t at = b.len, enc = 4 * ((n + 2) / 3);
    b.len += enc;
    if (b.len + 1 > cap)
        return sb_finish(&b, needed, detail);
    /* "user:pass" is encoded 48 bytes at a time through a stack buffer:
     * base64 of 3-byte-aligned pieces is the base64 of the whole, and the
     * password is never copied to the heap. */
    unsigned char in[48];
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < sizeof(in) ? n - done : sizeof(in);
        for (size_t i = 0; i < k; i++) {
            size_t j = done + i;
            in[i] = (unsigned char)(j < ul ? user[j] : j == ul ? ':' : pass[j - ul - 1]);
        }
        at += (size_t)EVP_EncodeBlock((unsigned char *)out + at, in, (int)k);
        done += k;
    }
    OPENSSL_cleanse(in, sizeof(in));
    return sb_finish(&b, needed, detail);
}

static int is_t68(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

/* token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=";
 * the length of the one starting at s (0 if none). */
static size_t token68_len(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_t68((unsigned char)s[i]))
        i++;
    if (i == 0)
        return 0;
    while (i < len && s[i] == '=')
        i++;
    return i;
}

int hxc__auth_bearer(const char *token, char *out, size_t cap, size_t *needed, const char **detail)
{
    const char *ignored;
    if (detail == NULL)
        detail = &ignored;
    if (token == NULL || (out == NULL && cap > 0)) {
        *detail = "no bearer token";
        return HXC_EINVAL;
    }
    size_t n = strlen(token);
    if (n == 0 || token68_len(token, n) != n) {
        *detail = "a bearer token must be a token68 (RFC 6750 2.1)";
        return HXC_EINVAL;
    }
    sbuf b = {out, cap, 0, 0};
    sb_add(&b, "Bearer ", 7);
    sb_add(&b, token, n);
    return sb_finish(&b, needed, detail);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int pct_decode(const char *s, size_t len, char *out, size_t cap, const char **detail)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || strchr("/?#@[]", c) != NULL) {
            *detail = "character not allowed in the user info of a URL";
            return HXC_EINVAL;
        }
        if (c == '%') {
            int hi = len - i >= 3 ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = len - i >= 3 ? hexval((unsigned char)s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                *detail = "bad percent-encoding in the user info of a URL";
                return HXC_EINVAL;
            }
            c = (unsigned char)(hi << 4 | lo);
            if (c == 0) {
                *detail = "NUL (%00) in the user info of a URL";
                return HXC_EINVAL;
            }
            i += 2;
        }
        if (o + 1 >= cap) {
            *detail = "buffer too small for the user name or password";
            return HXC_EINVAL;
        }
        out[o++] = (char)c;
    }
    if (cap == 0) {
        *detail = "buffer too small for the user name or password";
        return HXC_EINVAL;
    }
    out[o] = '\0';
    return 0;
}

int hxc__auth_userinfo(const char *userinfo, size_t len, char *user, size_t ucap, char *pass,
                       size_t pcap, int *has_pass, const char **detail)
{
    const char *ignored;
    if (detail == NULL)
        detail = &ignored;
    if (userinfo == NULL || user == NULL || pass == NULL) {
        *detail = "no user info";
        return HXC_EINVAL;
    }
    const char *colon = memchr(userinfo, ':', len);
    size_t ul = colon ? (size_t)(colon - userinfo) : len;
    int rv = pct_decode(userinfo, ul, user, ucap, detail);
    if (rv == 0)
        rv = colon ? pct_decode(colon + 1, len - ul - 1, pass, pcap, detail)
                   : pct_decode("", 0, pass, pcap, detail);
    if (rv == 0 && has_pass)
        *has_pass = colon != NULL;
    return rv;
}

/* ---- WWW-Authenticate (RFC 9110 11.2, 11.6.1) ---------------------------- */

static int is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static size_t token_end(const char *s, size_t len, size_t i)
{
    while (i < len && is_tchar((unsigned char)s[i]))
        i++;
    return i;
}

/* Past the closing quote of the quoted-string opening at s[i]; 0 if it is
 * malformed (RFC 9110 5.6.4: qdtext and quoted-pair, no control but HTAB). */
static size_t quoted_end(const char *s, size_t len, size_t i, const char **detail)
{
    for (i++; i < len; i++) {
        if (s[i] == '"')
            return i + 1;
        if (s[i] == '\\' && ++i == len)
            break;
        if (is_ctl((unsigned char)s[i])) {
            *detail = "malformed WWW-Authenticate: control character in a quoted string";
            return 0;
        }
    }
    *detail = "malformed WWW-Authenticate: unterminated quoted string";
    return 0;
}

static int bad(const char **detail, const char *why)
{
    *detail = why;
    return HXC_EINVAL;
}

static int same_name(const char *a, size_t al, const char *b, size_t bl)
{
    return al == bl && strncasecmp(a, b, al) == 0;
}

/* The auth-params of challenge `c` from s[i]; *at ends where the next
 * challenge (or the end) is. */
static int parse_params(const char *s, size_t len, size_t i, hxc__auth_challenge *c, size_t *at,
                        const char **detail)
{
    for (;;) {
        size_t ne = token_end(s, len, i);
        if (ne == i)
            return bad(detail, "malformed WWW-Authenticate: expected a parameter name");
        size_t v = skip_ws(s, len, ne);
        if (v == len || s[v] != '=')
            return bad(detail, "malformed WWW-Authenticate: expected '=' after a parameter name");
        v = skip_ws(s, len, v + 1);
        hxc__auth_param p = {s + i, ne - i, NULL, 0, 0};
        if (v < len && s[v] == '"') {
            size_t qe = quoted_end(s, len, v, detail);
            if (qe == 0)
                return HXC_EINVAL;
            p.value = s + v + 1;
            p.value_len = qe - v - 2;
            p.quoted = 1;
            i = qe;
        } else {
            size_t ve = token_end(s, len, v);
            if (ve == v)
                return bad(detail, "malformed WWW-Authenticate: a parameter value must be a "
                                   "token or a quoted string");
            p.value = s + v;
            p.value_len = ve - v;
            i = ve;
        }
        for (size_t k = 0; k < c->nparams; k++)
            if (same_name(c->params[k].name, c->params[k].name_len, p.name, p.name_len))
                return bad(detail, "malformed WWW-Authenticate: a parameter repeated in one "
                                   "challenge");
        if (c->nparams == HXC__AUTH_MAX_PARAMS)
            return bad(detail, "WWW-Authenticate: too many parameters in one challenge");
        c->params[c->nparams++] = p;
        i = skip_ws(s, len, i);
        if (i < len && s[i] != ',')
            return bad(detail, "malformed WWW-Authenticate: expected ',' after a parameter");
        while (i < len && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
            i++;
        /* After the comma: another parameter (token BWS "=") of this
         * challenge, or the next challenge's scheme. */
        size_t te = token_end(s, len, i), eq = skip_ws(s, len, te);
        if (i == len || te == i || eq == len || s[eq] != '=') {
            *at = i;
            return 0;
        }
    }
}

/* One pass over the field; cb NULL only checks it. */
static int parse_field(const char *s, size_t len, hxc__auth_challenge_cb cb, void *ud,
                       const char **detail)
{
    hxc__auth_challenge c;
    size_t i = 0, n = 0;
    for (;;) {
        while (i < len && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
            i++; /* empty list elements (RFC 9110 5.6.1) */
        if (i == len)
            return 0;
        size_t e = token_end(s, len, i);
        if (e == i)
            return bad(detail, "malformed WWW-Authenticate: expected an auth-scheme");
        if (++n > HXC__AUTH_MAX_CHALLENGES)
            return bad(detail, "WWW-Authenticate: too many challenges");
        c.scheme = s + i;
        c.scheme_len = e - i;
        c.token68 = NULL;
        c.token68_len = 0;
        c.nparams = 0;
        size_t j = skip_ws(s, len, e);
        if (j == len || s[j] == ',') {
            i = j;
        } else if (j == e) {
            return bad(detail, "malformed WWW-Authenticate: expected a space after the scheme");
        } else {
            /* A token68 stands alone up to the next ',' or the end;
             * anything else is the start of auth-params. */
            size_t t = token68_len(s + j, len - j), k = skip_ws(s, len, j + t);
            if (t > 0 && (k == len || s[k] == ',')) {
                c.token68 = s + j;
                c.token68_len = t;
                i = k;
            } else {
                int rv = parse_params(s, len, j, &c, &i, detail);
                if (rv != 0)
                    return rv;
            }
        }
        if (cb != NULL) {
            int rv = cb(&c, ud);
            if (rv != 0)
                return rv;
        }
    }
}

int hxc__auth_parse(const char *field, size_t len, hxc__auth_challenge_cb cb, void *ud,
                    const char **detail)
{
    const char *ignored;
    if (detail == NULL)
        detail = &ignored;
    if (field == NULL && len > 0)
        return bad(detail, "no WWW-Authenticate field");
    if (len > HXC__AUTH_MAX_FIELD)
        return bad(detail, "WWW-Authenticate longer than 16 KiB");
    /* Checked whole first: a callback never sees part of a refused field. */
    int rv = parse_field(field, len, NULL, NULL, detail);
    if (rv == 0 && cb != NULL)
        rv = parse_field(field, len, cb, ud, detail);
    return rv;
}

int hxc__auth_param_value(const hxc__auth_param *p, char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    for (size_t i = 0; i < p->value_len; i++) {
        char c = p->value[i];
        if (p->quoted && c == '\\' && i + 1 < p->value_len)
            c = p->value[++i];
        if (o + 1 >= cap)
            return HXC_EINVAL;
        out[o++] = c;
    }
    if (cap == 0)
        return HXC_EINVAL;
    out[o] = '\0';
    if (len)
        *len = o;
    return 0;
}

static int is_scheme(const hxc__auth_challenge *c, const char *name)
{
    return same_name(c->scheme, c->scheme_len, name, strlen(name));
}

static int scheme_bits(const hxc__auth_challenge *c, void *ud)
{
    unsigned *bits = ud;
    *bits |= is_scheme(c, "Basic")    ? HXC__AUTH_SCHEME_BASIC
             : is_scheme(c, "Digest") ? HXC__AUTH_SCHEME_DIGEST
             : is_scheme(c, "Bearer") ? HXC__AUTH_SCHEME_BEARER
                                      : HXC__AUTH_SCHEME_OTHER;
    return 0;
}

unsigned hxc__auth_schemes(const char *field, size_t len)
{
    unsigned bits = 0;
    if (hxc__auth_parse(field, len, scheme_bits, &bits, NULL) != 0)
        return 0;
    return bits;
}

/* ---- Digest (RFC 7616) ---------------------------------------------------- */

static const char *const alg_names[] = {"", "MD5", "SHA-256", "SHA-512-256"};

static const EVP_MD *alg_md(int alg)
{
    switch (alg) {
    case HXC__DIGEST_MD5:
        return EVP_md5();
    case HXC__DIGEST_SHA256:
        return EVP_sha256();
    case HXC__DIGEST_SHA512_256:
        return EVP_sha512_256();
    default:
        return NULL;
    }
}

/* Lower-case hex of H(parts[0] ":" parts[1] ":" ...), as every Digest
 * hash is (RFC 7616 3.4.1-3.4.4); hex holds 2 * EVP_MAX_MD_SIZE + 1. */
static int hash_hex(const EVP_MD *md, char *hex, const char *const *parts, size_t n)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
    for (size_t i = 0; ok && i < n; i++)
        ok = (i == 0 || EVP_DigestUpdate(ctx, ":", 1) == 1) &&
             EVP_DigestUpdate(ctx, parts[i], strlen(parts[i])) == 1;
    ok = ok && EVP_DigestFinal_ex(ctx, d, &dl) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    for (unsigned i = 0; i < dl; i++) {
        hex[2 * i] = "0123456789abcdef"[d[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    hex[2 * dl] = '\0';
    OPENSSL_cleanse(d, sizeof(d));
    return 0;
}

/* RFC 8187 ext-value of a user name a quoted-string cannot carry. */
static void sb_ext_value(sbuf *b, const char *s)
{
    sb_str(b, "UTF-8''");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            strchr("!#$&+-.^_`|~", c) != NULL) {
            sb_add(b, (const char *)&c, 1);
        } else {
            char pct[4];
            snprintf(pct, sizeof(pct), "%%%02X", c);
            sb_add(b, pct, 3);
        }
    }
}

static int rand_bytes(unsigned char *buf, size_t len, void *ud)
{
    (void)ud;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* The Authorization value answering challenge `d` with nonce count nc. */
static int build(const hxc__digest_state *d, uint32_t nc, const char *method, const char *target,
                 const char *user, const char *pass, hxc__auth_rand_fn rnd, void *rnd_ud, char *out,
                 size_t cap, size_t *needed, const char **detail)
{
    if (method == NULL || target == NULL || user == NULL || pass == NULL ||
        (out == NULL && cap > 0))
        return bad(detail, "no method, target, user name or password");
    if (has_ctl(method) || has_ctl(target) || *method == '\0' || *target == '\0')
        return bad(detail, "bad method or request-target for Digest");
    const EVP_MD *md = alg_md(d->alg);
    if (md == NULL)
        return bad(detail, "Digest algorithm not available in this OpenSSL");
    /* The client nonce: 33 random bytes, 44 base64 characters (the form of
     * RFC 7616's examples, so that tests can replay them). */
    char cnonce[48] = "", ncs[9];
    snprintf(ncs, sizeof(ncs), "%08x", (unsigned)nc);
    if (d->qop) {
        unsigned char r[33];
        if ((rnd ? rnd : rand_bytes)(r, sizeof(r), rnd_ud) != 0)
            return bad(detail, "could not make a Digest client nonce");
        EVP_EncodeBlock((unsigned char *)cnonce, r, (int)sizeof(r));
    }
    char ha1[2 * EVP_MAX_MD_SIZE + 1], ha2[sizeof(ha1)], resp[sizeof(ha1)], uh[sizeof(ha1)];
    const char *a1[] = {user, d->realm, pass};
    const char *a2[] = {method, target};
    int ok = hash_hex(md, ha1, a1, 3) == 0 && hash_hex(md, ha2, a2, 2) == 0;
    if (ok && d->sess) {
        const char *s[] = {ha1, d->nonce, cnonce};
        ok = hash_hex(md, ha1, s, 3) == 0;
    }
    if (ok && d->qop) {
        const char *r[] = {ha1, d->nonce, ncs, cnonce, "auth", ha2};
        ok = hash_hex(md, resp, r, 6) == 0;
    } else if (ok) {
        const char *r[] = {ha1, d->nonce, ha2};
        ok = hash_hex(md, resp, r, 3) == 0;
    }
    if (ok && d->userhash) {
        const char *u[] = {user, d->realm};
        ok = hash_hex(md, uh, u, 2) == 0;
    }
    OPENSSL_cleanse(ha1, sizeof(ha1));
    if (!ok)
        return bad(detail, "Digest hash failed (algorithm not available in this OpenSSL?)");

    sbuf b = {out, cap, 0, 0};
    sb_str(&b, "Digest ");
    if (d->userhash) {
        sb_str(&b, "username=");
        sb_quoted(&b, uh);
    } else if (has_ctl(user)) {
        sb_str(&b, "username*=");
        sb_ext_value(&b, user);
    } else {
        sb_str(&b, "username=");
        sb_quoted(&b, user);
    }
    sb_str(&b, ", realm=");
    sb_quoted(&b, d->realm);
    sb_str(&b, ", uri=");
    sb_quoted(&b, target);
    if (d->alg_named) {
        sb_str(&b, ", algorithm=");
        sb_str(&b, alg_names[d->alg]);
        if (d->sess)
            sb_str(&b, "-sess");
    }
    sb_str(&b, ", nonce=");
    sb_quoted(&b, d->nonce);
    if (d->qop) {
        sb_str(&b, ", nc=");
        sb_str(&b, ncs);
        sb_str(&b, ", cnonce=");
        sb_quoted(&b, cnonce);
        sb_str(&b, ", qop=auth");
    }
    sb_str(&b, ", response=");
    sb_quoted(&b, resp);
    if (d->has_opaque) {
        sb_str(&b, ", opaque=");
        sb_quoted(&b, d->opaque);
    }
    if (d->userhash)
        sb_str(&b, ", userhash=true");
    return sb_finish(&b, needed, detail);
}

static int value_is(const hxc__auth_param *p, const char *s)
{
    char v[32];
    return hxc__auth_param_value(p, v, sizeof(v), NULL) == 0 && strcasecmp(v, s) == 0;
}

/* The qop list ("auth, auth-int"): bit 1 auth, bit 2 auth-int. */
static int qop_bits(const hxc__auth_param *p)
{
    char v[256];
    if (hxc__auth_param_value(p, v, sizeof(v), NULL) != 0)
        return 0;
    int bits = 0;
    for (char *q = v; *q;) {
        q += strspn(q, " \t,");
        size_t n = strcspn(q, " \t,");
        if (n == 4 && strncasecmp(q, "auth", 4) == 0)
            bits |= 1;
        else if (n == 8 && strncasecmp(q, "auth-int", 8) == 0)
            bits |= 2;
        q += n;
    }
    return bits;
}

/* Reads a Digest challenge into d; 0, or -1 with *why. */
static int digest_candidate(const hxc__auth_challenge *c, hxc__digest_state *d, const char **why)
{
    memset(d, 0, sizeof(*d));
    d->alg = HXC__DIGEST_MD5; /* RFC 7616 3.3: no algorithm means MD5 */
    int realm = 0, nonce = 0, qop = -1;
    for (size_t i = 0; i < c->nparams; i++) {
        const hxc__auth_param *p = &c->params[i];
        const char *n = p->name;
        size_t nl = p->name_len;
        if (same_name(n, nl, "realm", 5)) {
            realm = hxc__auth_param_value(p, d->realm, sizeof(d->realm), NULL) == 0;
            if (!realm)
                return *why = "Digest realm longer than 512 bytes", -1;
        } else if (same_name(n, nl, "nonce", 5)) {
            nonce = hxc__auth_param_value(p, d->nonce, sizeof(d->nonce), NULL) == 0;
            if (!nonce)
                return *why = "Digest nonce longer than 512 bytes", -1;
        } else if (same_name(n, nl, "opaque", 6)) {
            d->has_opaque = hxc__auth_param_value(p, d->opaque, sizeof(d->opaque), NULL) == 0;
            if (!d->has_opaque)
                return *why = "Digest opaque longer than 512 bytes", -1;
        } else if (same_name(n, nl, "algorithm", 9)) {
            char a[32];
            size_t al = 0;
            if (hxc__auth_param_value(p, a, sizeof(a), &al) != 0)
                al = 0;
            d->sess = al > 5 && strcasecmp(a + al - 5, "-sess") == 0;
            if (d->sess)
                a[al - 5] = '\0';
            d->alg = 0;
            for (int k = HXC__DIGEST_MD5; k <= HXC__DIGEST_SHA512_256; k++)
                if (al > 0 && strcasecmp(a, alg_names[k]) == 0)
                    d->alg = k;
            if (d->alg == 0)
                return *why = "unsupported Digest algorithm (MD5, SHA-256 and SHA-512-256 "
                              "and their -sess are)",
                       -1;
            d->alg_named = 1;
        } else if (same_name(n, nl, "qop", 3)) {
            qop = qop_bits(p);
        } else if (same_name(n, nl, "stale", 5)) {
            d->stale = value_is(p, "true");
        } else if (same_name(n, nl, "userhash", 8)) {
            d->userhash = value_is(p, "true");
        } else if (same_name(n, nl, "charset", 7)) {
            if (!value_is(p, "UTF-8"))
                return *why = "Digest charset other than UTF-8", -1;
        } /* domain and unknown parameters: ignored (RFC 7616 3.3) */
    }
    if (!realm)
        return *why = "Digest challenge without a realm", -1;
    if (!nonce || d->nonce[0] == '\0')
        return *why = "Digest challenge without a nonce", -1;
    if (qop >= 0 && !(qop & 1))
        return *why = qop & 2 ? "Digest challenge offers only qop=auth-int (not supported)"
                              : "Digest challenge offers no qop known (auth)",
               -1;
    d->qop = qop > 0;
    if (d->sess && !d->qop)
        return *why = "Digest -sess algorithm without qop", -1;
    return 0;
}

typedef struct digest_pick {
    hxc__digest_state best;
    int rank; /* of best; -1: none yet */
    int seen; /* Digest challenges */
    const char *why;
} digest_pick;

static int pick_cb(const hxc__auth_challenge *c, void *ud)
{
    digest_pick *pk = ud;
    if (!is_scheme(c, "Digest"))
        return 0;
    pk->seen++;
    hxc__digest_state d;
    const char *why = NULL;
    if (digest_candidate(c, &d, &why) != 0) {
        if (pk->why == NULL)
            pk->why = why;
        return 0;
    }
    int rank = d.alg * 2 + d.qop;
    if (rank > pk->rank) {
        pk->best = d;
        pk->rank = rank;
    }
    return 0;
}

void hxc__auth_digest_init(hxc__digest_state *st) { memset(st, 0, sizeof(*st)); }

int hxc__auth_digest_respond(const char *challenges, size_t len, const char *method,
                             const char *target, const char *user, const char *pass,
                             hxc__digest_state *st, char *out, size_t cap, size_t *needed,
                             const char **detail)
{
    const char *ignored;
    if (detail == NULL)
        detail = &ignored;
    if (st == NULL)
        return bad(detail, "no Digest state");
    digest_pick pk;
    pk.rank = -1;
    pk.seen = 0;
    pk.why = NULL;
    int rv = hxc__auth_parse(challenges, len, pick_cb, &pk, detail);
    if (rv != 0)
        return rv;
    if (pk.rank < 0)
        return bad(detail, pk.seen ? pk.why : "no Digest challenge in WWW-Authenticate");
    uint32_t nc = 1;
    if (st->have && strcmp(st->nonce, pk.best.nonce) == 0) {
        if (st->nc == UINT32_MAX)
            return bad(detail, "Digest nonce count spent");
        nc = st->nc + 1;
    }
    rv = build(&pk.best, nc, method, target, user, pass, st->rand, st->rand_ud, out, cap, needed,
               detail);
    if (rv != 0)
        return rv;
    pk.best.rand = st->rand;
    pk.best.rand_ud = st->rand_ud;
    pk.best.have = 1;
    pk.best.nc = nc;
    *st = pk.best;
    return 0;
}

int hxc__auth_digest_again(hxc__digest_state *st, const char *method, const char *target,
                           const char *user, const char *pass, char *out, size_t cap,
                           size_t *needed, const char **detail)
{
    const char *ignored;
    if (detail == NULL)
        detail = &ignored;
    if (st == NULL || !st->have)
        return bad(detail, "no Digest challenge answered yet");
    if (!st->qop)
        return bad(detail, "a Digest challenge without qop answers one request only");
    if (st->nc == UINT32_MAX)
        return bad(detail, "Digest nonce count spent");
    int rv = build(st, st->nc + 1, method, target, user, pass, st->rand, st->rand_ud, out, cap,
                   needed, detail);
    if (rv == 0)
        st->nc++;
    return rv;
}
