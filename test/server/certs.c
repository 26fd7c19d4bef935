/* SPDX-License-Identifier: MIT */
/*
 * test/server/certs.c - a throwaway CA and the certificates the TLS tests
 * need, made with OpenSSL's C API so the tests need no openssl CLI:
 *   ca.pem/key, server (localhost, 127.0.0.1, ::1), wronghost (wrong.invalid),
 *   expired (localhost, in the past), selfsigned (localhost, no CA).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "testserver.h"

static EVP_PKEY *new_key(void) { return EVP_EC_gen("P-256"); }

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* Makes a certificate for `key`, signed by (issuer, ikey) or self-signed. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, int is_ca, long from_days,
                       long to_days, X509 *issuer, EVP_PKEY *ikey, long serial)
{
    X509 *x = X509_new();
    if (x == NULL)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400L);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"hxc tests", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509 *iss = issuer ? issuer : x;
    X509_set_issuer_name(x, X509_get_subject_name(iss));
    int rv = 0;
    if (is_ca) {
        rv |= add_ext(x, iss, NID_basic_constraints, "critical,CA:TRUE");
        rv |= add_ext(x, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        rv |= add_ext(x, iss, NID_basic_constraints, "critical,CA:FALSE");
        rv |= add_ext(x, iss, NID_key_usage, "critical,digitalSignature");
        rv |= add_ext(x, iss, NID_ext_key_usage, "serverAuth");
    }
    rv |= add_ext(x, iss, NID_subject_key_identifier, "hash");
    if (issuer)
        rv |= add_ext(x, iss, NID_authority_key_identifier, "keyid:always");
    if (san)
        rv |= add_ext(x, iss, NID_subject_alt_name, san);
    if (rv != 0 || X509_sign(x, ikey ? ikey : key, EVP_sha256()) == 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pair(const char *dir, const char *base, X509 *x, EVP_PKEY *k)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s.pem", dir, base);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    int ok = PEM_write_X509(f, x);
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s.key", dir, base);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    ok &= PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : -1;
}

int ts_make_certs(const char *dir)
{
    static const char *local_san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    int rv = -1;
    EVP_PKEY *cak = new_key(), *k1 = new_key(), *k2 = new_key(), *k3 = new_key(), *k4 = new_key();
    X509 *ca = NULL, *c1 = NULL, *c2 = NULL, *c3 = NULL, *c4 = NULL;
    if (!cak || !k1 || !k2 || !k3 || !k4)
        goto out;
    ca = make_cert(cak, "hxc test CA", NULL, 1, -1, 3650, NULL, NULL, 1);
    c1 = make_cert(k1, "localhost", local_san, 0, -1, 3650, ca, cak, 2);
    c2 = make_cert(k2, "wrong.invalid", "DNS:wrong.invalid", 0, -1, 3650, ca, cak, 3);
    c3 = make_cert(k3, "localhost", local_san, 0, -30, -2, ca, cak, 4);
    c4 = make_cert(k4, "localhost", local_san, 0, -1, 3650, NULL, NULL, 5);
    if (!ca || !c1 || !c2 || !c3 || !c4)
        goto out;
    if (write_pair(dir, "ca", ca, cak) || write_pair(dir, "server", c1, k1) ||
        write_pair(dir, "wronghost", c2, k2) || write_pair(dir, "expired", c3, k3) ||
        write_pair(dir, "selfsigned", c4, k4))
        goto out;
    rv = 0;
out:
    X509_free(ca), X509_free(c1), X509_free(c2), X509_free(c3), X509_free(c4);
    EVP_PKEY_free(cak), EVP_PKEY_free(k1), EVP_PKEY_free(k2), EVP_PKEY_free(k3), EVP_PKEY_free(k4);
    return rv;
}
