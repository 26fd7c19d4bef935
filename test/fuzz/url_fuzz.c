/* SPDX-License-Identifier: MIT */
/* Fuzz target: arbitrary strings into the URL parser and request builder. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hxc/hxc.h"
#include "core/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    hxc__url u;
    const char *detail;
    if (hxc__url_parse(&u, s, &detail) == 0) {
        /* Whatever parsed must be safe to put on the wire. */
        for (const char *p = u.target; *p; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                abort();
        for (const char *p = u.authority; *p; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                abort();
        hxc__url_free(&u);
    }
    hxc_request *req;
    if (hxc_request_new(&req, "GET", s) == 0) {
        hxc_request_add_header(req, "X-Fuzz", s);
        hxc_request_free(req);
    }
    free(s);
    return 0;
}
