/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of policy/auth.c: Basic (RFC 7617's examples), Bearer, user
 * info from URLs, the WWW-Authenticate parser against good, hostile and
 * oversized fields, and Digest against RFC 7616's worked examples, replayed
 * exactly (their client nonces injected through the state's rand hook).
 * Values not printed in an RFC were computed independently with Python's
 * hashlib from the same inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "hxc/hxc.h"
#include "policy/auth.h"

/* ---- Basic, Bearer, userinfo ------------------------------------------ */

static void basic_is(const char *user, const char *pass, const char *want)
{
    char out[256];
    size_t needed = 0;
    const char *detail = NULL;
    int rv = hxc__auth_basic(user, pass, out, sizeof(out), &needed, &detail);
    if (rv != 0)
        fail_msg("%s:%s: %s", user, pass, detail);
    assert_string_equal(out, want);
    assert_int_equal(needed, strlen(want) + 1);
}

static void test_basic_rfc7617(void **state)
{
    (void)state;
    basic_is("Aladdin", "open sesame", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="); /* RFC 7617 2 */
    basic_is("test", "123\xc2\xa3", "Basic dGVzdDoxMjPCow==");                /* RFC 7617 2.1 */
    basic_is("", "", "Basic Og==");
    char out[64];
    const char *detail = NULL;
    assert_int_equal(hxc__auth_basic("a:b", "c", out, sizeof(out), NULL, &detail), HXC_EINVAL);
    assert_non_null(strstr(detail, "':'"));
    assert_int_equal(hxc__auth_basic("a\r\nX: y", "c", out, sizeof(out), NULL, &detail),
                     HXC_EINVAL);
    assert_int_equal(hxc__auth_basic("a", "c\x01", out, sizeof(out), NULL, &detail), HXC_EINVAL);
    assert_int_equal(hxc__auth_basic(NULL, "c", out, sizeof(out), NULL, &detail), HXC_EINVAL);
    /* Too small: the size needed, nothing written past the buffer; exactly
     * that size then works. */
    size_t needed = 0;
    memset(out, 'z', sizeof(out));
    assert_int_equal(hxc__auth_basic("Aladdin", "open sesame", out, 10, &needed, &detail),
                     HXC_EINVAL);
    assert_int_equal(needed, strlen("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==") + 1);
    assert_int_equal(out[10], 'z');
    assert_int_equal(hxc__auth_basic("Aladdin", "open sesame", out, needed, NULL, &detail), 0);
    assert_string_equal(out, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert_int_equal(hxc__auth_basic("Aladdin", "open sesame", out, needed - 1, NULL, &detail),
                     HXC_EINVAL);
}

/* The encoding goes 48 bytes at a time: every split of user and password
 * around those boundaries gives what one EVP_EncodeBlock of the whole does. */
static void test_basic_long(void **state)
{
    (void)state;
    char user[160], pass[160], plain[330], want[512], out[512];
    for (size_t ul = 0; ul < 110; ul += 7) {
        for (size_t pl = 0; pl < 150; pl++) {
            for (size_t i = 0; i < ul; i++)
                user[i] = (char)('A' + i % 26);
            user[ul] = '\0';
            for (size_t i = 0; i < pl; i++)
                pass[i] = (char)('!' + (i * 7) % 90);
            pass[pl] = '\0';
            int n = snprintf(plain, sizeof(plain), "%s:%s", user, pass);
            memcpy(want, "Basic ", 6);
            EVP_EncodeBlock((unsigned char *)want + 6, (const unsigned char *)plain, n);
            const char *detail = NULL;
            assert_int_equal(hxc__auth_basic(user, pass, out, sizeof(out), NULL, &detail), 0);
            assert_string_equal(out, want);
        }
    }
}

static void test_bearer(void **state)
{
    (void)state;
    char out[64];
    const char *detail = NULL;
    size_t needed = 0;
    assert_int_equal(hxc__auth_bearer("mF_9.B5f-4.1JqM", out, sizeof(out), &needed, &detail), 0);
    assert_string_equal(out, "Bearer mF_9.B5f-4.1JqM"); /* RFC 6750 2.1 */
    assert_int_equal(needed, 23);
    assert_int_equal(hxc__auth_bearer("a+b/c~==", out, sizeof(out), NULL, &detail), 0);
    const char *bad[] = {"", "a b", "=abc", "a=b", "a\r\n", "tok\"en", "a,b", "a==b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        detail = NULL;
        assert_int_equal(hxc__auth_bearer(bad[i], out, sizeof(out), NULL, &detail), HXC_EINVAL);
        assert_non_null(detail);
    }
    assert_int_equal(hxc__auth_bearer("abcdef", out, 8, &needed, &detail), HXC_EINVAL);
    assert_int_equal(needed, 14);
}

static void userinfo_is(const char *ui, const char *user, const char *pass, int has_pass)
{
    char u[64], p[64];
    int hp = -1;
    const char *detail = NULL;
    int rv = hxc__auth_userinfo(ui, strlen(ui), u, sizeof(u), p, sizeof(p), &hp, &detail);
    if (rv != 0)
        fail_msg("%s: %s", ui, detail);
    assert_string_equal(u, user);
    assert_string_equal(p, pass);
    assert_int_equal(hp, has_pass);
}

static void test_userinfo(void **state)
{
    (void)state;
    userinfo_is("user:pass", "user", "pass", 1);
    userinfo_is("us%40er:pa%3Ass", "us@er", "pa:ss", 1);
    userinfo_is("u:p:q", "u", "p:q", 1);
    userinfo_is("user", "user", "", 0);
    userinfo_is("user:", "user", "", 1);
    userinfo_is(":secret", "", "secret", 1);
    userinfo_is("J%C3%A4s%C3%B8n:%25x", "J\xc3\xa4s\xc3\xb8n", "%x", 1);
    userinfo_is("caf\xc3\xa9:p", "caf\xc3\xa9", "p", 1); /* raw UTF-8 as typed */
    const char *bad[] = {"%zz:p", "u:%4", "u:%", "u%00:p", "a b:c", "u:p@h", "u/x:p", "u:\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char u[64], p[64];
        const char *detail = NULL;
        if (hxc__auth_userinfo(bad[i], strlen(bad[i]), u, sizeof(u), p, sizeof(p), NULL, &detail) !=
            HXC_EINVAL)
            fail_msg("%s accepted", bad[i]);
        assert_non_null(detail);
    }
    /* Only `len` bytes are read: what follows is not the userinfo. */
    char u[8], p[8];
    assert_int_equal(hxc__auth_userinfo("ab:cd@host", 5, u, sizeof(u), p, sizeof(p), NULL, NULL),
                     0);
    assert_string_equal(p, "cd");
    /* len + 1 bytes always suffice; fewer may not. */
    assert_int_equal(hxc__auth_userinfo("abcd", 4, u, 5, p, 1, NULL, NULL), 0);
    assert_int_equal(hxc__auth_userinfo("abcd", 4, u, 4, p, 1, NULL, NULL), HXC_EINVAL);
    assert_int_equal(hxc__auth_userinfo("a:bcd", 5, u, 8, p, 3, NULL, NULL), HXC_EINVAL);
}

/* ---- the WWW-Authenticate parser -------------------------------------- */

typedef struct seen {
    int n;
    char text[16][256]; /* "scheme|t68|name=value|..." per challenge */
} seen;

static int collect(const hxc__auth_challenge *c, void *ud)
{
    seen *s = ud;
    char *t = s->text[s->n++];
    int k = snprintf(t, 256, "%.*s", (int)c->scheme_len, c->scheme);
    if (c->token68)
        k += snprintf(t + k, 256 - (size_t)k, "|%.*s", (int)c->token68_len, c->token68);
    for (size_t i = 0; i < c->nparams; i++) {
        char v[128];
        assert_int_equal(hxc__auth_param_value(&c->params[i], v, sizeof(v), NULL), 0);
        k += snprintf(t + k, 256 - (size_t)k, "|%.*s=%s", (int)c->params[i].name_len,
                      c->params[i].name, v);
    }
    return 0;
}

static void parse_ok(const char *field, int n, ...)
{
    seen s;
    memset(&s, 0, sizeof(s));
    const char *detail = NULL;
    int rv = hxc__auth_parse(field, strlen(field), collect, &s, &detail);
    if (rv != 0)
        fail_msg("[%s]: %s", field, detail);
    assert_int_equal(s.n, n);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(s.text[i], va_arg(ap, const char *));
    va_end(ap);
}

static void parse_bad(const char *field, size_t len)
{
    seen s;
    memset(&s, 0, sizeof(s));
    const char *detail = NULL;
    if (hxc__auth_parse(field, len, collect, &s, &detail) != HXC_EINVAL)
        fail_msg("accepted: [%.*s]", (int)len, field);
    assert_non_null(detail);
    assert_int_equal(s.n, 0); /* the callback never saw part of it */
    assert_int_equal(hxc__auth_schemes(field, len), 0);
}

static void test_parse(void **state)
{
    (void)state;
    parse_ok("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic "
             "realm=\"simple\"",
             2, "Newauth|realm=apps|type=1|title=Login to \"apps\"", "Basic|realm=simple");
    parse_ok("Basic realm=\"x\", Digest realm=\"y\", nonce=\"n\", qop=\"auth\"", 2, "Basic|realm=x",
             "Digest|realm=y|nonce=n|qop=auth");
    parse_ok("Negotiate YIIB+/w==, Basic realm=\"a\"", 2, "Negotiate|YIIB+/w==", "Basic|realm=a");
    parse_ok("Negotiate, NTLM", 2, "Negotiate", "NTLM");
    parse_ok("Bearer", 1, "Bearer");
    parse_ok("Basic token68", 1, "Basic|token68");
    parse_ok("", 0);
    parse_ok(" , ,", 0);
    /* Empty list elements, BWS around '=', tabs, case kept as sent. */
    parse_ok(", ,DIGEST realm = \"a\" ,, nonce\t=\tb ,,", 1, "DIGEST|realm=a|nonce=b");
    parse_ok("Digest realm=\"a\\\\b\\\"c\", nonce=\"\"", 1, "Digest|realm=a\\b\"c|nonce=");
    parse_ok("Digest realm=\"caf\xc3\xa9\"", 1, "Digest|realm=caf\xc3\xa9"); /* obs-text */
    parse_ok("A a=1, B b=2, C", 3, "A|a=1", "B|b=2", "C");

    const char *bad[] = {
        "Digest realm=\"x",                /* unterminated */
        "Digest realm=\"x\\",              /* escape at the end */
        "Digest realm=\"x\\\"",            /* the closing quote escaped */
        "Digest realm=x nonce=y",          /* no comma */
        "Digest realm=",                   /* fine: a token68 by the grammar */
        "Digest realm=, nonce=\"a\"",      /* empty value */
        "Digest realm",                    /* fine alone (a token68)... */
        "\"Digest\" realm=x",              /* a quoted scheme */
        "Digest realm=\"a\r\nX-Evil: 1\"", /* CR LF in a quoted string */
        "Digest realm=\"a\x01\"",          /* a control */
        "Digest realm=\"a\\\x7f\"",        /* an escaped control */
        "Digest realm=a, realm=b",         /* repeated parameter */
        "Digest REALM=a, realm=b",         /* repeated, other case */
        "Digest@ realm=a",                 /* scheme not a token */
        "Digest realm=a; nonce=b",         /* ';' */
        "Digest =a",                       /* no name */
        "Basic abc==def",                  /* token68 then more */
        "Basic YWJj, =",                   /* garbage after a token68 */
        "Digest realm=a b",                /* value of two tokens */
        "Digest realm=\"a\"b",             /* text after a quoted string */
        "Digest\trealm",                   /* fine: HTAB is whitespace */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strcmp(bad[i], "Digest realm") == 0 || strcmp(bad[i], "Digest\trealm") == 0 ||
            strcmp(bad[i], "Digest realm=") == 0) {
            assert_int_equal(hxc__auth_parse(bad[i], strlen(bad[i]), NULL, NULL, NULL), 0);
            continue;
        }
        parse_bad(bad[i], strlen(bad[i]));
    }
    /* A NUL inside the length is a byte like any other: refused. */
    parse_bad("Digest realm=\"a\0b\"", 18);
    /* The bytes after `len` are not read. */
    parse_ok("Basic realm=\"a\"", 1, "Basic|realm=a");
    assert_int_equal(hxc__auth_parse("Basic realm=\"a\"GARBAGE", 15, NULL, NULL, NULL), 0);
    assert_int_equal(hxc__auth_parse("Basic realm=\"a", 14, NULL, NULL, NULL), HXC_EINVAL);

    assert_int_equal(hxc__auth_schemes("Basic realm=a, Digest realm=b, nonce=c", 38),
                     HXC__AUTH_SCHEME_BASIC | HXC__AUTH_SCHEME_DIGEST);
    assert_int_equal(hxc__auth_schemes("bearer, Foo", 11),
                     HXC__AUTH_SCHEME_BEARER | HXC__AUTH_SCHEME_OTHER);
}

static void test_parse_limits(void **state)
{
    (void)state;
    /* 16 challenges pass, 17 do not. */
    char f[HXC__AUTH_MAX_FIELD + 64];
    size_t n = 0;
    for (int i = 0; i < 17; i++)
        n += (size_t)snprintf(f + n, sizeof(f) - n, "%sS%d", i ? ", " : "", i);
    parse_bad(f, n);
    assert_int_equal(hxc__auth_parse(f, n - 5, NULL, NULL, NULL), 0);
    /* 32 parameters pass, 33 do not. */
    n = (size_t)snprintf(f, sizeof(f), "Digest");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(f + n, sizeof(f) - n, "%sp%d=v", i ? ", " : " ", i);
    parse_bad(f, n);
    assert_int_equal(hxc__auth_parse(f, n - 6, NULL, NULL, NULL), 0);
    /* The field's size. */
    memset(f, 'a', sizeof(f));
    memcpy(f, "Digest realm=\"", 14);
    f[HXC__AUTH_MAX_FIELD - 1] = '"';
    assert_int_equal(hxc__auth_parse(f, HXC__AUTH_MAX_FIELD, NULL, NULL, NULL), 0);
    f[HXC__AUTH_MAX_FIELD - 1] = 'a';
    f[HXC__AUTH_MAX_FIELD] = '"';
    parse_bad(f, HXC__AUTH_MAX_FIELD + 1);
    /* A value that does not fit the caller's buffer. */
    hxc__auth_param p = {"realm", 5, "abcdef", 6, 0};
    char v[6];
    assert_int_equal(hxc__auth_param_value(&p, v, sizeof(v), NULL), HXC_EINVAL);
    assert_int_equal(hxc__auth_param_value(&p, v, 0, NULL), HXC_EINVAL);
    p.value_len = 5;
    size_t len = 0;
    assert_int_equal(hxc__auth_param_value(&p, v, sizeof(v), &len), 0);
    assert_int_equal(len, 5);
}

/* ---- Digest ----------------------------------------------------------- */

/* Replays a client nonce: the 33 bytes whose base64 is the RFC's cnonce. */
static int fixed_rand(unsigned char *buf, size_t len, void *ud)
{
    assert_int_equal(len, 33);
    memcpy(buf, ud, len);
    return 0;
}

static unsigned char rfc_cnonce[33];  /* f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ */
static unsigned char rfc2_cnonce[33]; /* NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v */

static void decode_cnonce(const char *b64, unsigned char out[33])
{
    unsigned char tmp[48];
    assert_int_equal(EVP_DecodeBlock(tmp, (const unsigned char *)b64, 44), 33);
    memcpy(out, tmp, 33);
}

static void digest_init(hxc__digest_state *st, unsigned char *cnonce)
{
    hxc__auth_digest_init(st);
    st->rand = fixed_rand;
    st->rand_ud = cnonce;
}

#define RFC_NONCE  "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
#define RFC_OPAQUE "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
#define RFC_SHA256_CHALLENGE                                                                       \
    "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "          \
    "nonce=\"" RFC_NONCE "\", opaque=\"" RFC_OPAQUE "\""
#define RFC_MD5_CHALLENGE                                                                          \
    "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, "              \
    "nonce=\"" RFC_NONCE "\", opaque=\"" RFC_OPAQUE "\""

static char *respond(const char *challenge, hxc__digest_state *st, const char *user,
                     const char *pass, const char *target)
{
    static char out[2048];
    const char *detail = NULL;
    size_t needed = 0;
    int rv = hxc__auth_digest_respond(challenge, strlen(challenge), "GET", target, user, pass, st,
                                      out, sizeof(out), &needed, &detail);
    if (rv != 0)
        fail_msg("%s: %s", challenge, detail);
    assert_int_equal(needed, strlen(out) + 1);
    return out;
}

static const char *refused(const char *challenge)
{
    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    char out[1024];
    const char *detail = NULL;
    if (hxc__auth_digest_respond(challenge, strlen(challenge), "GET", "/", "u", "p", &st, out,
                                 sizeof(out), NULL, &detail) != HXC_EINVAL)
        fail_msg("accepted: %s", challenge);
    assert_non_null(detail);
    assert_int_equal(st.have, 0);
    return detail;
}

/* RFC 7616 3.9.1: both challenges, in one response as two fields (joined
 * with ", " as RFC 9110 5.3 lets a recipient). The values must be the RFC's
 * own Authorization fields, byte for byte in this parameter order. */
static void test_digest_rfc7616_examples(void **state)
{
    (void)state;
    hxc__digest_state st;
    digest_init(&st, rfc_cnonce);
    const char *both = RFC_SHA256_CHALLENGE ", " RFC_MD5_CHALLENGE;
    assert_string_equal(
        respond(both, &st, "Mufasa", "Circle of Life", "/dir/index.html"),
        "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
        "algorithm=SHA-256, nonce=\"" RFC_NONCE "\", nc=00000001, "
        "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
        "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
        "opaque=\"" RFC_OPAQUE "\"");
    assert_int_equal(st.alg, HXC__DIGEST_SHA256);
    assert_int_equal(st.nc, 1);
    assert_int_equal(st.stale, 0);
    /* The other order: SHA-256 is still the one taken. */
    digest_init(&st, rfc_cnonce);
    const char *rev = RFC_MD5_CHALLENGE ", " RFC_SHA256_CHALLENGE;
    assert_non_null(strstr(respond(rev, &st, "Mufasa", "Circle of Life", "/dir/index.html"),
                           "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"));
    /* The MD5 challenge alone. */
    digest_init(&st, rfc_cnonce);
    assert_string_equal(
        respond(RFC_MD5_CHALLENGE, &st, "Mufasa", "Circle of Life", "/dir/index.html"),
        "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", uri=\"/dir/index.html\", "
        "algorithm=MD5, nonce=\"" RFC_NONCE "\", nc=00000001, "
        "cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", qop=auth, "
        "response=\"8ca523f5e9506fed4657c9700eebdbec\", opaque=\"" RFC_OPAQUE "\"");
}

static const char *response_of(const char *auth)
{
    static char r[160];
    const char *p = strstr(auth, "response=\"");
    assert_non_null(p);
    p += 10;
    size_t n = strcspn(p, "\"");
    assert_true(n < sizeof(r));
    memcpy(r, p, n);
    r[n] = '\0';
    return r;
}

/* The nonce count: up by one for each use of the same nonce, 1 again for a
 * new one; -sess folds nonce and cnonce into HA1. */
static void test_digest_nc_and_sess(void **state)
{
    (void)state;
    hxc__digest_state st;
    digest_init(&st, rfc_cnonce);
    const char *md5 = RFC_MD5_CHALLENGE;
    respond(md5, &st, "Mufasa", "Circle of Life", "/dir/index.html");
    char *a = respond(md5, &st, "Mufasa", "Circle of Life", "/dir/index.html");
    assert_non_null(strstr(a, "nc=00000002"));
    assert_string_equal(response_of(a), "4b5d595ecf2db9df612ea5b45cd97101");
    char out[1024];
    const char *detail = NULL;
    assert_int_equal(hxc__auth_digest_again(&st, "GET", "/dir/index.html", "Mufasa",
                                            "Circle of Life", out, sizeof(out), NULL, &detail),
                     0);
    assert_non_null(strstr(out, "nc=00000003"));
    assert_int_equal(st.nc, 3);
    /* A buffer too small changes nothing: the count stays. */
    size_t needed = 0;
    assert_int_equal(hxc__auth_digest_again(&st, "GET", "/dir/index.html", "Mufasa",
                                            "Circle of Life", out, 20, &needed, &detail),
                     HXC_EINVAL);
    assert_int_equal(needed, strlen(out) + 1);
    assert_int_equal(st.nc, 3);
    const char *again = "Digest realm=\"http-auth@example.org\", qop=\"auth\", algorithm=MD5, "
                        "nonce=\"another\", opaque=\"" RFC_OPAQUE "\"";
    assert_non_null(strstr(respond(again, &st, "Mufasa", "Circle of Life", "/"), "nc=00000001"));
    assert_string_equal(st.nonce, "another");

    static const struct {
        const char *alg, *nc1, *nc2;
    } sess[] = {
        {"MD5-sess", "e783283f46242139c486a698fec7211d", "6914b51e16f9459d9abc967ad41c4599"},
        {"SHA-256-sess", "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7",
         "6bb0010aa4bdf46422a798c509ea32e256f27bd37de5cc3bdf8ed51e1d77d650"},
        {"sha-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
         "8c8db27f49ff1c202f9fb49fa9d2e9eabf078dcc93db40dfd6527010091d1c8e"},
    };
    for (size_t i = 0; i < sizeof(sess) / sizeof(sess[0]); i++) {
        char ch[512];
        snprintf(ch, sizeof(ch),
                 "Digest realm=\"http-auth@example.org\", qop=auth, algorithm=%s, "
                 "nonce=\"" RFC_NONCE "\"",
                 sess[i].alg);
        digest_init(&st, rfc_cnonce);
        a = respond(ch, &st, "Mufasa", "Circle of Life", "/dir/index.html");
        assert_string_equal(response_of(a), sess[i].nc1);
        assert_null(strstr(a, "opaque"));
        a = respond(ch, &st, "Mufasa", "Circle of Life", "/dir/index.html");
        assert_string_equal(response_of(a), sess[i].nc2);
    }
    assert_non_null(strstr(a, "algorithm=SHA-256,")); /* named back in its own spelling */
}

/* RFC 7616 3.9.2: SHA-512-256 with userhash, a UTF-8 user name. The RFC
 * prints username "488869477bf2..." and response "ae66e67d6b42...": those
 * are the first 256 bits of plain SHA-512, not SHA-512/256 (FIPS 180-4,
 * other initial values) that the algorithm names (checked with Python's
 * hashlib: sha512(...)[:64] gives the RFC's numbers, sha512_256 gives
 * these). So this replays the example's inputs and expects SHA-512/256. */
static void test_digest_rfc7616_userhash(void **state)
{
    (void)state;
    hxc__digest_state st;
    digest_init(&st, rfc2_cnonce);
    const char *ch = "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, "
                     "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", "
                     "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, "
                     "userhash=true";
    assert_string_equal(
        respond(ch, &st, "J\xc3\xa4s\xc3\xb8n Doe", "Secret, or not?", "/doe.json"),
        "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", "
        "realm=\"api@example.org\", uri=\"/doe.json\", algorithm=SHA-512-256, "
        "nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", nc=00000001, "
        "cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, "
        "response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", "
        "opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", userhash=true");
    assert_int_equal(st.userhash, 1);
    /* SHA-512-256 is taken over SHA-256 and MD5. */
    digest_init(&st, rfc2_cnonce);
    char both[1024];
    snprintf(both, sizeof(both), "%s, %s, %s", RFC_MD5_CHALLENGE, ch, RFC_SHA256_CHALLENGE);
    respond(both, &st, "u", "p", "/");
    assert_int_equal(st.alg, HXC__DIGEST_SHA512_256);
}

/* RFC 2069 (no qop, no nc, no cnonce): its own example. */
static void test_digest_rfc2069(void **state)
{
    (void)state;
    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    const char *ch = "Digest realm=\"testrealm@host.com\", "
                     "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                     "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    assert_string_equal(respond(ch, &st, "Mufasa", "CircleOfLife", "/dir/index.html"),
                        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
                        "uri=\"/dir/index.html\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
                        "response=\"1949323746fe6a43ef61f9606e7febea\", "
                        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"");
    char out[512];
    const char *detail = NULL;
    assert_int_equal(
        hxc__auth_digest_again(&st, "GET", "/", "u", "p", out, sizeof(out), NULL, &detail),
        HXC_EINVAL);
    assert_non_null(detail);
    /* qop offered and auth among them wins over a qop-less challenge. */
    char both[512];
    snprintf(both, sizeof(both), "%s, Digest realm=\"r\", nonce=\"n\", qop=\"auth-int,auth\"", ch);
    hxc__auth_digest_init(&st);
    assert_non_null(strstr(respond(both, &st, "u", "p", "/"), "qop=auth,"));
    assert_string_equal(st.realm, "r");
}

static void test_digest_choice_and_refusals(void **state)
{
    (void)state;
    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    /* Basic first, other schemes around, a token68: Digest still found. */
    respond("Basic realm=\"hxc\", Negotiate YII=, Digest realm=\"r\", nonce=\"n\", qop=auth, "
            "Bearer",
            &st, "u", "p", "/");
    assert_string_equal(st.nonce, "n");
    assert_int_equal(st.alg_named, 0);
    /* The refusals, each with its reason. */
    assert_non_null(strstr(refused("Basic realm=\"hxc\""), "no Digest"));
    assert_non_null(strstr(refused(""), "no Digest"));
    assert_non_null(strstr(refused("Digest nonce=\"n\", qop=auth"), "realm"));
    assert_non_null(strstr(refused("Digest realm=\"r\", qop=auth"), "nonce"));
    assert_non_null(strstr(refused("Digest realm=\"r\", nonce=\"\""), "nonce"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, algorithm=SHA-512"), "algorithm"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, algorithm=MD6"), "algorithm"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, algorithm=-sess"), "algorithm"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, algorithm=\"\""), "algorithm"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, qop=\"auth-int\""), "auth-int"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, qop=\"x\""), "qop"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, algorithm=MD5-sess"), "-sess"));
    assert_non_null(strstr(refused("Digest realm=r, nonce=n, charset=latin1"), "charset"));
    assert_non_null(strstr(refused("Digest realm=\"r, nonce=n"), "unterminated"));
    /* The first refusal is the one told; a good one beside it is taken. */
    assert_non_null(strstr(refused("Digest realm=r, algorithm=MD6, Digest nonce=n"), "algorithm"));
    respond("Digest realm=r, nonce=n, algorithm=MD6, Digest realm=r2, nonce=n2", &st, "u", "p",
            "/");
    assert_string_equal(st.realm, "r2");
    /* Values over the cap: the challenge is refused, never cut short. */
    char big[2048];
    snprintf(big, sizeof(big), "Digest realm=r, nonce=\"%0*d\", qop=auth",
             HXC__DIGEST_MAX_VALUE + 1, 0);
    assert_non_null(strstr(refused(big), "nonce longer"));
    snprintf(big, sizeof(big), "Digest realm=\"%0*d\", nonce=n", HXC__DIGEST_MAX_VALUE + 1, 0);
    assert_non_null(strstr(refused(big), "realm longer"));
    snprintf(big, sizeof(big), "Digest realm=r, nonce=n, opaque=\"%0*d\"",
             HXC__DIGEST_MAX_VALUE + 1, 0);
    assert_non_null(strstr(refused(big), "opaque longer"));
    snprintf(big, sizeof(big), "Digest realm=r, nonce=\"%0*d\"", HXC__DIGEST_MAX_VALUE, 0);
    hxc__auth_digest_init(&st);
    respond(big, &st, "u", "p", "/");
    assert_int_equal(strlen(st.nonce), HXC__DIGEST_MAX_VALUE);
    /* Bad arguments. */
    char out[256];
    const char *detail = NULL;
    assert_int_equal(hxc__auth_digest_respond("Digest realm=r, nonce=n", 23, "GET", "/\r\n", "u",
                                              "p", &st, out, sizeof(out), NULL, &detail),
                     HXC_EINVAL);
    assert_int_equal(hxc__auth_digest_respond("Digest realm=r, nonce=n", 23, "GET", "/", NULL, "p",
                                              &st, out, sizeof(out), NULL, &detail),
                     HXC_EINVAL);
    assert_int_equal(hxc__auth_digest_respond("Digest realm=r, nonce=n", 23, "GET", "/", "u", "p",
                                              NULL, out, sizeof(out), NULL, &detail),
                     HXC_EINVAL);
    hxc__auth_digest_init(&st);
    assert_int_equal(
        hxc__auth_digest_again(&st, "GET", "/", "u", "p", out, sizeof(out), NULL, &detail),
        HXC_EINVAL);
}

static void test_digest_stale_and_quoting(void **state)
{
    (void)state;
    hxc__digest_state st;
    digest_init(&st, rfc_cnonce);
    respond("Digest realm=r, nonce=n1, qop=auth, stale=TRUE", &st, "u", "p", "/");
    assert_int_equal(st.stale, 1);
    respond("Digest realm=r, nonce=n2, qop=auth, stale=\"false\"", &st, "u", "p", "/");
    assert_int_equal(st.stale, 0);
    respond("Digest realm=r, nonce=n3, qop=auth, stale=\"true\"", &st, "u", "p", "/");
    assert_int_equal(st.stale, 1);
    /* A nonce with a quote and a backslash: hashed unescaped, sent escaped. */
    char *a = respond("Digest realm=\"r\", nonce=\"a\\\"b\\\\c\", qop=auth", &st, "u", "p", "/x");
    assert_non_null(strstr(a, "nonce=\"a\\\"b\\\\c\""));
    /* user name and uri escaped too */
    a = respond("Digest realm=r, nonce=n, qop=auth", &st, "a\"b\\c", "p", "/q?x=\"y\"");
    assert_non_null(strstr(a, "username=\"a\\\"b\\\\c\""));
    assert_non_null(strstr(a, "uri=\"/q?x=\\\"y\\\"\""));
    /* A user name a quoted-string cannot carry goes as username* (RFC 8187). */
    a = respond("Digest realm=r, nonce=n, qop=auth", &st, "a\tb\x01\xc3\xa4", "p", "/");
    assert_non_null(strstr(a, "username*=UTF-8''a%09b%01%C3%A4,"));
    assert_null(strchr(a, '\t'));
    /* The quoted nonce's response, computed independently. */
    digest_init(&st, rfc_cnonce);
    a = respond("Digest realm=\"r\", nonce=\"a\\\"b\\\\c\", qop=auth", &st, "u", "p", "/x");
    assert_string_equal(response_of(a), "06c82fa69daca9524e58e5f34a1f6f12");
}

static int failing_rand(unsigned char *buf, size_t len, void *ud)
{
    (void)buf, (void)len, (void)ud;
    return -1;
}

/* The client nonce comes from RAND_bytes by default: fresh each time; a
 * random source that fails is an error, never a fixed nonce. */
static void test_digest_cnonce(void **state)
{
    (void)state;
    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    char a[1024], b[1024];
    strcpy(a, respond("Digest realm=r, nonce=n, qop=auth", &st, "u", "p", "/"));
    strcpy(b, respond("Digest realm=r, nonce=n, qop=auth", &st, "u", "p", "/"));
    const char *ca = strstr(a, "cnonce=\""), *cb = strstr(b, "cnonce=\"");
    assert_non_null(ca);
    assert_non_null(cb);
    assert_int_equal(strcspn(ca + 8, "\""), 44);
    assert_memory_not_equal(ca, cb, 52);
    st.rand = failing_rand;
    const char *detail = NULL;
    assert_int_equal(hxc__auth_digest_again(&st, "GET", "/", "u", "p", a, sizeof(a), NULL, &detail),
                     HXC_EINVAL);
    assert_non_null(strstr(detail, "nonce"));
    assert_int_equal(st.nc, 2);
}

static int setup(void **state)
{
    (void)state;
    decode_cnonce("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", rfc_cnonce);
    decode_cnonce("NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v", rfc2_cnonce);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_rfc7617),
        cmocka_unit_test(test_basic_long),
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_userinfo),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_digest_rfc7616_examples),
        cmocka_unit_test(test_digest_nc_and_sess),
        cmocka_unit_test(test_digest_rfc7616_userhash),
        cmocka_unit_test(test_digest_rfc2069),
        cmocka_unit_test(test_digest_choice_and_refusals),
        cmocka_unit_test(test_digest_stale_and_quoting),
        cmocka_unit_test(test_digest_cnonce),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
