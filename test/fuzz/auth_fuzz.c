/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: arbitrary bytes as a WWW-Authenticate field, through the
 * challenge parser and the Digest answer (policy/auth.c). Whatever is
 * accepted must come out safe to put in a header: no control byte but HTAB (legal in a field
 * value), the size it says, views inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hxc/hxc.h"
#include "policy/auth.h"

typedef struct span {
    const char *p;
    size_t len;
} span;

static void inside(const span *in, const char *p, size_t len)
{
    if (len > 0 && (p < in->p || p + len > in->p + in->len))
        abort();
}

static int check(const hxc__auth_challenge *c, void *ud)
{
    const span *in = ud;
    if (c->scheme_len == 0 || c->nparams > HXC__AUTH_MAX_PARAMS)
        abort();
    inside(in, c->scheme, c->scheme_len);
    if (c->token68)
        inside(in, c->token68, c->token68_len);
    for (size_t i = 0; i < c->nparams; i++) {
        const hxc__auth_param *p = &c->params[i];
        inside(in, p->name, p->name_len);
        inside(in, p->value, p->value_len);
        char v[HXC__AUTH_MAX_FIELD + 1];
        size_t len = 0;
        if (hxc__auth_param_value(p, v, sizeof(v), &len) != 0 || len > p->value_len ||
            strlen(v) != len)
            abort();
    }
    return 0;
}

static int zero_rand(unsigned char *buf, size_t len, void *ud)
{
    (void)ud;
    memset(buf, 0x5a, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *f = (const char *)data;
    span in = {f, size};
    const char *detail = NULL;
    int rv = hxc__auth_parse(f, size, check, &in, &detail);
    if (rv != 0 && (rv != HXC_EINVAL || detail == NULL))
        abort();
    if ((hxc__auth_schemes(f, size) != 0) && rv != 0)
        abort();

    hxc__digest_state st;
    hxc__auth_digest_init(&st);
    st.rand = zero_rand;
    char out[4096];
    size_t needed = 0;
    for (int round = 0; round < 2; round++) {
        detail = NULL;
        rv = hxc__auth_digest_respond(f, size, "GET", "/p?q", "user", "pass", &st, out, sizeof(out),
                                      &needed, &detail);
        if (rv != 0) {
            if (rv != HXC_EINVAL || detail == NULL || st.nc != (uint32_t)round)
                abort();
            break;
        }
        if (strlen(out) + 1 != needed || st.nc != (uint32_t)round + 1 || !st.have)
            abort();
        for (const char *p = out; *p; p++)
            if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
                abort();
    }
    if (st.have && st.qop &&
        hxc__auth_digest_again(&st, "GET", "/", "u", "p", out, sizeof(out), NULL, NULL) != 0)
        abort();

    /* The same bytes as a URL's userinfo. */
    char user[256], pass[256];
    if (size < sizeof(user) &&
        hxc__auth_userinfo(f, size, user, sizeof(user), pass, sizeof(pass), NULL, NULL) == 0 &&
        (strlen(user) > size || strlen(pass) > size))
        abort();
    return 0;
}
