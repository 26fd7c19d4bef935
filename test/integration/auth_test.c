/* SPDX-License-Identifier: MIT */
/*
 * Integration: policy/auth.c against the test server's own Basic and Digest
 * checks (test/server/auth.c, written apart from the client's code), over
 * HTTP/1.1 and h2c. Until the API layer sends credentials itself, the test
 * does the wiring by hand: the first request gets the 401 and its
 * WWW-Authenticate, the second carries the Authorization value the module
 * computed, set with hxc_request_add_header. The server checks the nonce,
 * the nonce count, the uri, opaque, algorithm and the response hash, so a
 * wrong value anywhere is a 401, with the server's reason in the body.
 */
#include "itest.h"
#include "policy/auth.h"

ITEST_SERVER_FIXTURE

static const char *const versions[] = {"HTTP/1.1", "HTTP/2"};

static void open_proto(itest *t, int h2)
{
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2_prior_knowledge = h2;
    itest_open(t, &cfg);
}

/* Runs `body` over HTTP/1.1, then over h2c, each on a client of its own. */
static void on_both(void (*body)(itest *t, int h2))
{
    for (int h2 = 0; h2 < 2; h2++) {
        itest t;
        open_proto(&t, h2);
        body(&t, h2);
        itest_close(&t);
    }
}

/* GET path, with Authorization if authz is not NULL; the future finished. */
static hxc_future *get(itest *t, int h2, const char *path, const char *authz)
{
    hxc_request *req;
    assert_int_equal(hxc_request_new(&req, "GET", itest_url(&srv, 0, path)), 0);
    if (authz)
        assert_int_equal(hxc_request_add_header(req, "Authorization", authz), 0);
    hxc_future *f = hxc_client_request(t->client, req);
    assert_non_null(f);
    hxc_future_wait(f);
    hxc_response *r = hxc_future_response(f);
    if (hxc_future_error(f) != 0)
        fail_msg("%s: %s (%s)", path, hxc_error_name(hxc_future_error(f)),
                 hxc_response_error_detail(r));
    assert_string_equal(hxc_response_http_version(r), versions[h2]);
    return f;
}

static const char *body_of(hxc_future *f)
{
    return (const char *)hxc_response_body(hxc_future_response(f), NULL);
}

/* Asserts the status; on a surprise the server's reason is in the body. */
static void expect(hxc_future *f, int status)
{
    int got = hxc_response_status(hxc_future_response(f));
    if (got != status)
        fail_msg("status %d, expected %d: %s", got, status, body_of(f));
}

/* Every WWW-Authenticate field of a 401, joined with ", " (RFC 9110 5.3). */
static const char *challenges(hxc_future *f, char *buf, size_t cap)
{
    const hxc_headers *h = hxc_response_headers(hxc_future_response(f));
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < hxc_headers_count_of(h, "WWW-Authenticate"); i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
                              hxc_headers_get_nth(h, "WWW-Authenticate", i));
    assert_true(n > 0 && n < cap);
    return buf;
}

/* GET path with authz: asserts the status and, if `part` is not NULL, a
 * piece of the body (the server's reason, on a 401). */
static void expect_get(itest *t, int h2, const char *path, const char *authz, int status,
                       const char *part)
{
    hxc_future *f = get(t, h2, path, authz);
    expect(f, status);
    if (part && strstr(body_of(f), part) == NULL)
        fail_msg("%s: no \"%s\" in %s", path, part, body_of(f));
    hxc_future_free(f);
}

/* Answers the 401 in f with hxc__auth_digest_respond into out. */
static void answer(hxc_future *f, const char *path, const char *user, const char *pass,
                   hxc__digest_state *st, char *out, size_t cap)
{
    expect(f, 401);
    char www[4096];
    challenges(f, www, sizeof(www));
    const char *detail = NULL;
    int rv = hxc__auth_digest_respond(www, strlen(www), "GET", path, user, pass, st, out, cap, NULL,
                                      &detail);
    if (rv != 0)
        fail_msg("%s: %s", www, detail);
    hxc_future_free(f);
}

/* The 401 for `path`, answered into out. */
static void digest_401(itest *t, int h2, const char *path, const char *user, const char *pass,
                       hxc__digest_state *st, char *out, size_t cap)
{
    answer(get(t, h2, path, NULL), path, user, pass, st, out, cap);
}

static void basic_on(itest *t, int h2)
{
    hxc_future *f = get(t, h2, "/basic-auth/user/pass%20word", NULL);
    expect(f, 401);
    char www[512];
    assert_string_equal(challenges(f, www, sizeof(www)), "Basic realm=\"hxc\"");
    assert_int_equal(hxc__auth_schemes(www, strlen(www)), HXC__AUTH_SCHEME_BASIC);
    hxc_future_free(f);
    char authz[256];
    assert_int_equal(hxc__auth_basic("user", "pass word", authz, sizeof(authz), NULL, NULL), 0);
    expect_get(t, h2, "/basic-auth/user/pass%20word", authz, 200, "\"user\": \"user\"");
    /* A wrong password: 401 again. */
    assert_int_equal(hxc__auth_basic("user", "password", authz, sizeof(authz), NULL, NULL), 0);
    expect_get(t, h2, "/basic-auth/user/pass%20word", authz, 401, "wrong user or password");
}

static void test_basic(void **state)
{
    (void)state;
    on_both(basic_on);
}

/* Each algorithm: 401, then 200 with the computed value; a later request
 * with the next nonce count without a new 401; the same value sent twice is
 * a replay the server refuses. */
static void digest_algorithms_on(itest *t, int h2)
{
    static const char *const algs[] = {"MD5",          "SHA-256",     "MD5-sess",
                                       "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"};
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        char path[128], authz[2048], second[2048];
        snprintf(path, sizeof(path), "/digest-auth/auth/user/passwd/%s", algs[a]);
        hxc__digest_state st;
        hxc__auth_digest_init(&st);
        digest_401(t, h2, path, "user", "passwd", &st, authz, sizeof(authz));
        assert_non_null(strstr(authz, "nc=00000001"));
        expect_get(t, h2, path, authz, 200, "\"authenticated\": true");

        const char *detail = NULL;
        assert_int_equal(hxc__auth_digest_again(&st, "GET", path, "user", "passwd", second,
                                                sizeof(second), NULL, &detail),
                         0);
        assert_non_null(strstr(second, "nc=00000002"));
        expect_get(t, h2, path, second, 200, NULL);
        expect_get(t, h2, path, second, 401, "replay");
    }
}

static void test_digest_algorithms(void **state)
{
    (void)state;
    on_both(digest_algorithms_on);
}

/* A wrong password is a 401 again, not stale: the wiring must stop there.
 * So is a value computed for another request-target. */
static void digest_wrong_on(itest *t, int h2)
{
    const char *path = "/digest-auth/auth/user/passwd/SHA-256";
    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    char authz[2048];
    digest_401(t, h2, path, "user", "wrong", &st, authz, sizeof(authz));
    hxc_future *f = get(t, h2, path, authz);
    assert_non_null(strstr(body_of(f), "wrong response"));
    answer(f, path, "user", "wrong", &st, authz, sizeof(authz));
    assert_int_equal(st.stale, 0);

    digest_401(t, h2, path, "user", "passwd", &st, authz, sizeof(authz));
    expect_get(t, h2, "/digest-auth/auth/user/passwd/SHA-256?x=1", authz, 401, "uri");
}

static void test_digest_wrong(void **state)
{
    (void)state;
    on_both(digest_wrong_on);
}

/* stale_after=1: the nonce's second use is answered stale=true with a new
 * nonce; answering that with the same credentials succeeds. */
static void digest_stale_on(itest *t, int h2)
{
    const char *path = "/digest-auth/auth/user/passwd/MD5?stale_after=1";
    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    char authz[2048];
    digest_401(t, h2, path, "user", "passwd", &st, authz, sizeof(authz));
    assert_int_equal(st.stale, 0);
    expect_get(t, h2, path, authz, 200, NULL);
    char old_nonce[sizeof(st.nonce)];
    strcpy(old_nonce, st.nonce);
    assert_int_equal(hxc__auth_digest_again(&st, "GET", path, "user", "passwd", authz,
                                            sizeof(authz), NULL, NULL),
                     0);
    hxc_future *f = get(t, h2, path, authz);
    assert_non_null(
        strstr(hxc_headers_get(hxc_response_headers(hxc_future_response(f)), "WWW-Authenticate"),
               "stale=true"));
    answer(f, path, "user", "passwd", &st, authz, sizeof(authz));
    assert_int_equal(st.stale, 1);
    assert_string_not_equal(st.nonce, old_nonce);
    assert_int_equal(st.nc, 1);
    expect_get(t, h2, path, authz, 200, NULL);
}

static void test_digest_stale(void **state)
{
    (void)state;
    on_both(digest_stale_on);
}

/* Several WWW-Authenticate fields (Basic and an unknown scheme with a
 * quoted-pair before Digest), userhash, and RFC 2069 without qop. */
static void digest_variants_on(itest *t, int h2)
{
    static const char *const paths[] = {
        "/digest-auth/auth/user/passwd/SHA-256?multi=1",
        "/digest-auth/auth/user/passwd/SHA-512-256?userhash=1",
        "/digest-auth/none/user/passwd/MD5",
        "/digest-auth/auth/J%C3%A4s%C3%B8n%20Doe/Secret,%20or%20not%3F/SHA-256-sess",
    };
    static const char *const users[][2] = {
        {"user", "passwd"},
        {"user", "passwd"},
        {"user", "passwd"},
        {"J\xc3\xa4s\xc3\xb8n Doe", "Secret, or not?"},
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        hxc_future *f = get(t, h2, paths[i], NULL);
        expect(f, 401);
        const hxc_headers *h = hxc_response_headers(hxc_future_response(f));
        assert_int_equal(hxc_headers_count_of(h, "WWW-Authenticate"), i == 0 ? 2 : 1);
        hxc_future_free(f);
        hxc__digest_state st;
        hxc__auth_digest_init(&st);
        char authz[2048];
        digest_401(t, h2, paths[i], users[i][0], users[i][1], &st, authz, sizeof(authz));
        if (i == 1)
            assert_non_null(strstr(authz, "userhash=true"));
        if (i == 2)
            assert_null(strstr(authz, "nc="));
        expect_get(t, h2, paths[i], authz, 200, NULL);
    }
}

static void test_digest_variants(void **state)
{
    (void)state;
    on_both(digest_variants_on);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),           cmocka_unit_test(test_digest_algorithms),
        cmocka_unit_test(test_digest_wrong),    cmocka_unit_test(test_digest_stale),
        cmocka_unit_test(test_digest_variants),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
