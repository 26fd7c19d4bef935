/* SPDX-License-Identifier: MIT */
/*
 * core/message.c - what every layer may do to a response it fills in:
 * fail it, and give it head and body storage when its head arrives. The
 * lifetimes (creation, release, the cache they go back to) are the API
 * layer's (api/response.c); these only read and write the data.
 */
#include <stddef.h>
#include <string.h>

#include "core/internal.h"
#include "core/mem.h"
#include "core/message.h"

void hxc__response_head_start(struct hxc_response *r)
{
    hxc__response_cache *rc = r->cache;
    if (rc == NULL || rc->nstores == 0 || r->headers.fields != NULL ||
        r->headers.bytes.data != NULL || r->body.data != NULL)
        return;
    rc->nstores--;
    r->headers = rc->stores[rc->nstores].headers;
    r->body = rc->stores[rc->nstores].body;
}

void hxc__response_fail(struct hxc_response *r, int err, const char *detail)
{
    if (r->error != 0)
        return;
    r->error = err;
    r->has_text = 1;
    hxc__free(r->detail);
    r->detail = hxc__strdup(detail ? detail : hxc_strerror(err));
}

