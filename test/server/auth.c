/* SPDX-License-Identifier: MIT */
/*
 * test/server/auth.c - the server's side of HTTP authentication, for the
 * /basic-auth and /digest-auth routes over HTTP/1.1 and HTTP/2: challenges
 * with fresh nonces, and a strict check of the client's Authorization
 * (RFC 7617, RFC 7616): a nonce we issued, the nonce count going up, the
 * uri being the request-target, opaque, algorithm and qop echoed, the user
 * name (plain, username* or hashed) and the response hash.
 *
 * Written apart from lib/policy/auth.c on purpose, sharing none of its code:
 * a server that checked the client with the client's own functions would
 * agree with every mistake they make.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "testserver.h"

#define REALM "hxc"

/* Nonces issued, oldest overwritten first: a client that waits for 64 more
 * challenges before answering gets a fresh challenge, as with any expiry. */
#define NONCES 64
static struct issued {
    char nonce[33];
    char opaque[33];
    unsigned long nc; /* highest nonce count accepted */
    long uses;        /* Authorizations accepted with it */
} issued[NONCES];
static unsigned next_issued;

static void random_hex(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof(r)) != 1)
        abort();
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

static struct issued *new_nonce(void)
{
    struct issued *n = &issued[next_issued++ % NONCES];
    random_hex(n->nonce);
    random_hex(n->opaque);
    n->nc = 0;
    n->uses = 0;
    return n;
}

static struct issued *find_nonce(const char *nonce)
{
    for (int i = 0; i < NONCES; i++)
        if (issued[i].nonce[0] && strcmp(issued[i].nonce, nonce) == 0)
            return &issued[i];
    return NULL;
}

int ts_header_value(const char *block, size_t len, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = block, *end = block + len;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if ((size_t)(ve - v) >= cap)
                return 0;
            memcpy(out, v, (size_t)(ve - v));
            out[ve - v] = '\0';
            return 1;
        }
        p = eol ? eol + 1 : NULL;
    }
    return 0;
}

static int unhex(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes s[0..n) into out; -1 on a bad escape or overflow. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3)
                return -1;
            int h = unhex(s[i + 1]), l = unhex(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

/* Splits "/a/b/c" after its prefix into at most `max` decoded segments. */
static int segments(const char *path, char seg[][256], int max)
{
    int n = 0;
    const char *p = path;
    while (*p) {
        if (n == max)
            return -1;
        size_t l = strcspn(p, "/");
        if (l == 0 || pct_decode(p, l, seg[n], 256) != 0)
            return -1;
        n++;
        p += l;
        if (*p == '/')
            p++;
    }
    return n;
}

static long query_num(const char *target, const char *key)
{
    const char *q = strchr(target, '?');
    size_t kl = strlen(key);
    while (q) {
        q++;
        if (strncmp(q, key, kl) == 0 && q[kl] == '=')
            return strtol(q + kl + 1, NULL, 10);
        q = strchr(q, '&');
    }
    return 0;
}

static void json_reply(ts_auth_reply *r, int status, int ok, const char *user, const char *why)
{
    r->status = status;
    char esc[600];
    size_t o = 0;
    for (const char *s = user ? user : ""; *s && o + 3 < sizeof(esc); s++) {
        if (*s == '"' || *s == '\\')
            esc[o++] = '\\';
        esc[o++] = *s;
    }
    esc[o] = '\0';
    if (ok)
        snprintf(r->body, sizeof(r->body), "{\"authenticated\": true, \"user\": \"%s\"}\n", esc);
    else
        snprintf(r->body, sizeof(r->body), "{\"authenticated\": false, \"reason\": \"%s\"}\n", why);
}

/* ---- Basic ------------------------------------------------------------ */

static void basic(const char *user, const char *pass, const char *authz, ts_auth_reply *r)
{
    const char *why = "no Authorization";
    if (authz && strncasecmp(authz, "Basic ", 6) == 0) {
        const char *b64 = authz + 6;
        size_t bl = strlen(b64);
        unsigned char dec[1024];
        char want[600];
        snprintf(want, sizeof(want), "%s:%s", user, pass);
        why = "bad base64";
        if (bl % 4 == 0 && bl / 4 * 3 < sizeof(dec)) {
            int n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)bl);
            if (n >= 0) {
                n -= (bl > 0 && b64[bl - 1] == '=') + (bl > 1 && b64[bl - 2] == '=');
                why = "wrong user or password";
                if ((size_t)n == strlen(want) && memcmp(dec, want, (size_t)n) == 0) {
                    json_reply(r, 200, 1, user, NULL);
                    return;
                }
            }
        }
    }
    snprintf(r->www[0], sizeof(r->www[0]), "Basic realm=\"" REALM "\"");
    r->n_www = 1;
    json_reply(r, 401, 0, NULL, why);
}

/* ---- Digest ----------------------------------------------------------- */

/* The Authorization's parameters this server looks at. */
enum {
    P_USERNAME,
    P_USERNAME_X,
    P_REALM,
    P_NONCE,
    P_URI,
    P_RESPONSE,
    P_ALGORITHM,
    P_CNONCE,
    P_OPAQUE,
    P_QOP,
    P_NC,
    P_USERHASH,
    P_COUNT
};
static const char *const pnames[P_COUNT] = {"username", "username*", "realm",     "nonce",
                                            "uri",      "response",  "algorithm", "cnonce",
                                            "opaque",   "qop",       "nc",        "userhash"};

/* Reads `name=token` and `name="quoted"` pairs after "Digest ". Every
 * parameter at most once; quoted-pairs unescaped. 0 or -1. */
static int parse_authz(const char *s, char val[P_COUNT][600], int have[P_COUNT])
{
    memset(have, 0, sizeof(int) * P_COUNT);
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (*s == '\0')
            return 0;
        const char *name = s;
        while (*s && *s != '=' && *s != ' ' && *s != ',')
            s++;
        size_t nl = (size_t)(s - name);
        while (*s == ' ')
            s++;
        if (*s++ != '=')
            return -1;
        while (*s == ' ')
            s++;
        char v[600];
        size_t o = 0;
        if (*s == '"') {
            for (s++; *s != '"'; s++) {
                if (*s == '\\')
                    s++;
                if (*s == '\0' || o + 1 >= sizeof(v))
                    return -1;
                v[o++] = *s;
            }
            s++;
        } else {
            while (*s && *s != ',' && *s != ' ') {
                if (o + 1 >= sizeof(v))
                    return -1;
                v[o++] = *s++;
            }
        }
        v[o] = '\0';
        for (int k = 0; k < P_COUNT; k++) {
            if (strlen(pnames[k]) == nl && strncasecmp(name, pnames[k], nl) == 0) {
                if (have[k])
                    return -1;
                have[k] = 1;
                memcpy(val[k], v, o + 1);
            }
        }
    }
}

/* Hex of the digest of `s` with the route's hash. */
static void H(const EVP_MD *md, const char *s, char hex[129])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    if (EVP_Digest(s, strlen(s), d, &dl, md, NULL) != 1)
        abort();
    for (unsigned i = 0; i < dl; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* RFC 8187 ext-value "UTF-8''..." decoded; -1 if it is not one. */
static int ext_value(const char *s, char *out, size_t cap)
{
    if (strncasecmp(s, "UTF-8''", 7) != 0)
        return -1;
    return pct_decode(s + 7, strlen(s + 7), out, cap);
}

typedef struct digest_route {
    int qop; /* 1: auth; 0: none (RFC 2069) */
    int sess;
    const EVP_MD *md;
    char alg[32]; /* as the route names it */
    long stale_after;
    int userhash;
    int multi;
} digest_route;

static void challenge(const digest_route *d, int stale, ts_auth_reply *r, const char *why)
{
    struct issued *n = new_nonce();
    char *w = r->www[r->n_www++];
    snprintf(w, sizeof(r->www[0]),
             "Digest realm=\"" REALM "\", nonce=\"%s\", opaque=\"%s\", algorithm=%s%s%s%s",
             n->nonce, n->opaque, d->alg, d->qop ? ", qop=\"auth\"" : "",
             stale ? ", stale=true" : "", d->userhash ? ", userhash=true, charset=UTF-8" : "");
    json_reply(r, 401, 0, NULL, why);
}

/* Empty if the Authorization is right, else why not. */
static const char *check_digest(const digest_route *d, const char *method, const char *target,
                                const char *user, const char *pass, const char *authz,
                                struct issued **nonce)
{
    static char val[P_COUNT][600];
    int have[P_COUNT];
    *nonce = NULL;
    if (authz == NULL)
        return "no Authorization";
    if (strncasecmp(authz, "Digest ", 7) != 0)
        return "not Digest";
    if (parse_authz(authz + 7, val, have) != 0)
        return "malformed Authorization";
    if (!have[P_REALM] || !have[P_NONCE] || !have[P_URI] || !have[P_RESPONSE] ||
        have[P_USERNAME] == have[P_USERNAME_X])
        return "missing parameter";
    if (strcmp(val[P_REALM], REALM) != 0)
        return "wrong realm";
    if ((*nonce = find_nonce(val[P_NONCE])) == NULL)
        return "not a nonce of ours";
    if (strcmp(val[P_URI], target) != 0)
        return "uri is not the request-target";
    if (have[P_ALGORITHM] ? strcmp(val[P_ALGORITHM], d->alg) != 0 : strcmp(d->alg, "MD5") != 0)
        return "wrong algorithm";
    if (!have[P_OPAQUE] || strcmp(val[P_OPAQUE], (*nonce)->opaque) != 0)
        return "opaque not echoed";
    char uname[600];
    if (d->userhash) {
        char hu[700], h[129];
        snprintf(hu, sizeof(hu), "%s:%s", user, REALM);
        H(d->md, hu, h);
        if (!have[P_USERHASH] || strcmp(val[P_USERHASH], "true") != 0 || !have[P_USERNAME] ||
            strcmp(val[P_USERNAME], h) != 0)
            return "wrong user name hash";
        snprintf(uname, sizeof(uname), "%s", user);
    } else if (have[P_USERNAME_X]) {
        if (ext_value(val[P_USERNAME_X], uname, sizeof(uname)) != 0)
            return "bad username*";
    } else {
        snprintf(uname, sizeof(uname), "%s", val[P_USERNAME]);
    }
    if (strcmp(uname, user) != 0)
        return "wrong user";
    unsigned long nc = 0;
    if (d->qop) {
        if (!have[P_QOP] || strcmp(val[P_QOP], "auth") != 0 || !have[P_NC] || !have[P_CNONCE] ||
            val[P_CNONCE][0] == '\0')
            return "qop, nc or cnonce missing";
        char *end;
        nc = strtoul(val[P_NC], &end, 16);
        if (strlen(val[P_NC]) != 8 || *end != '\0')
            return "nc is not 8 hex digits";
        if (nc <= (*nonce)->nc)
            return "nonce count not increasing (a replay)";
    } else if (have[P_QOP] || have[P_NC] || have[P_CNONCE]) {
        return "qop, nc or cnonce without qop offered";
    }
    /* RFC 7616 3.4.1-3.4.3, written out on its own. */
    char a1[1400], ha1[129], a2[2200], ha2[129], kd[2400], want[129];
    snprintf(a1, sizeof(a1), "%s:%s:%s", user, REALM, pass);
    H(d->md, a1, ha1);
    if (d->sess) {
        snprintf(a1, sizeof(a1), "%s:%s:%s", ha1, val[P_NONCE], val[P_CNONCE]);
        H(d->md, a1, ha1);
    }
    snprintf(a2, sizeof(a2), "%s:%s", method, target);
    H(d->md, a2, ha2);
    if (d->qop)
        snprintf(kd, sizeof(kd), "%s:%s:%s:%s:auth:%s", ha1, val[P_NONCE], val[P_NC], val[P_CNONCE],
                 ha2);
    else
        snprintf(kd, sizeof(kd), "%s:%s:%s", ha1, val[P_NONCE], ha2);
    H(d->md, kd, want);
    if (strcmp(val[P_RESPONSE], want) != 0)
        return "wrong response (password?)";
    (*nonce)->nc = nc;
    return "";
}

static void digest(const char *method, const char *target, char seg[][256], int nseg,
                   const char *authz, ts_auth_reply *r)
{
    digest_route d;
    memset(&d, 0, sizeof(d));
    const char *alg = nseg == 4 ? seg[3] : "MD5";
    if (!strcmp(seg[0], "auth"))
        d.qop = 1;
    else if (strcmp(seg[0], "none") != 0) {
        json_reply(r, 400, 0, NULL, "qop must be auth or none");
        return;
    }
    char base[32];
    snprintf(base, sizeof(base), "%s", alg);
    size_t bl = strlen(base);
    d.sess = bl > 5 && !strcmp(base + bl - 5, "-sess");
    if (d.sess)
        base[bl - 5] = '\0';
    d.md = !strcmp(base, "MD5")           ? EVP_md5()
           : !strcmp(base, "SHA-256")     ? EVP_sha256()
           : !strcmp(base, "SHA-512-256") ? EVP_sha512_256()
                                          : NULL;
    if (d.md == NULL || (d.sess && !d.qop)) {
        json_reply(r, 400, 0, NULL, "unsupported algorithm");
        return;
    }
    snprintf(d.alg, sizeof(d.alg), "%s", alg);
    d.stale_after = query_num(target, "stale_after");
    d.userhash = query_num(target, "userhash") != 0;
    d.multi = query_num(target, "multi") != 0;
    const char *user = seg[1], *pass = seg[2];
    struct issued *n = NULL;
    const char *why = check_digest(&d, method, target, user, pass, authz, &n);
    if (d.multi) /* other schemes first, each in its own field */
        snprintf(r->www[r->n_www++], sizeof(r->www[0]),
                 "Basic realm=\"other\", Newauth realm=\"apps\", title=\"a \\\"quoted\\\" one\"");
    if (*why == '\0' && d.stale_after > 0 && n->uses >= d.stale_after) {
        challenge(&d, 1, r, "nonce used up (stale)");
        return;
    }
    if (*why != '\0') {
        challenge(&d, 0, r, why);
        return;
    }
    n->uses++;
    r->n_www = 0;
    json_reply(r, 200, 1, user, NULL);
}

int ts_auth_is_route(const char *path)
{
    return !strncmp(path, "/basic-auth/", 12) || !strncmp(path, "/digest-auth/", 13);
}

void ts_auth_route(const char *method, const char *target, const char *authz, ts_auth_reply *r)
{
    memset(r, 0, sizeof(*r));
    char path[1024], seg[4][256];
    size_t pl = strcspn(target, "?");
    snprintf(path, sizeof(path), "%.*s", (int)pl, target);
    if (!strncmp(path, "/basic-auth/", 12)) {
        if (segments(path + 12, seg, 2) != 2) {
            json_reply(r, 404, 0, NULL, "use /basic-auth/USER/PASS");
            return;
        }
        basic(seg[0], seg[1], authz, r);
        return;
    }
    int n = segments(path + 13, seg, 4);
    if (n != 3 && n != 4) {
        json_reply(r, 404, 0, NULL, "use /digest-auth/QOP/USER/PASS[/ALGORITHM]");
        return;
    }
    digest(method, target, seg, n, authz, r);
}
