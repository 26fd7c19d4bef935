/* SPDX-License-Identifier: MIT */
/* Unit tests of lib/transport/tls.c: the client TLS context's settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "transport/transport.h"
#include "transport/tls.h"

/* Verification on unless asked off by name; TLS 1.2 at least; TLS 1.3 suites
 * in AES-128-GCM, AES-256-GCM, ChaCha20 order. */
static void test_context_settings(void **state)
{
    (void)state;
    for (int insecure = 0; insecure < 2; insecure++) {
        hxc__tls_opts o = {insecure, NULL, NULL};
        hxc__tls_ctx *c = NULL;
        char detail[256];
        assert_int_equal(hxc__tls_ctx_new(&c, &o, detail, sizeof(detail)), 0);
        assert_int_equal(SSL_CTX_get_verify_mode(c->ctx), insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER);
        assert_int_equal(SSL_CTX_get_min_proto_version(c->ctx), TLS1_2_VERSION);
        STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(c->ctx);
        assert_non_null(sk);
        const char *want[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                              "TLS_CHACHA20_POLY1305_SHA256"};
        for (int i = 0; i < 3; i++)
            assert_string_equal(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)), want[i]);
        /* then TLS 1.2 suites (OpenSSL names, no "TLS_" prefix) */
        assert_int_not_equal(strncmp(SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, 3)), "TLS_", 4), 0);
        hxc__tls_ctx_free(c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_context_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
