/* SPDX-License-Identifier: MIT */
/*
 * api/future.c - futures over the same call machinery as callbacks.
 *
 * A future is reference counted: the caller's reference, one per combined
 * future that uses it, one for the call while its request runs. Callbacks
 * registered with then() run from a deferred task of the client's reactor;
 * combined futures are told synchronously (internal links), then defer
 * their own user callbacks the same way.
 */
#include <event2/event.h>

#include "core/internal.h"
#include "core/mem.h"
#include "api/api.h"

enum kind { K_REQUEST, K_ALL, K_ANY };

typedef struct link {
    hxc_future_cb cb;
    void *ud;
    int internal; /* a combined future listening: told synchronously */
    int ran;
} link;

struct hxc_future {
    hxc__list cnode; /* in the client's list of futures */
    unsigned refs;
    int user_freed;
    enum kind kind;
    hxc_client *client; /* NULL only for an empty combination */
    hxc__call *call;    /* request futures, while running */
    int done;
    int err;
    struct hxc_response *resp; /* a reference we hold */
    link *links;
    size_t nlinks, caplinks;
    hxc__defer then_task;
    /* combinations */
    hxc_future **kids;
    size_t nkids, nsettled;
    long winner;
};

static void run_links(hxc__defer *d, void *arg);
void hxc__future_detach_all(hxc_client *c);

static hxc_future *future_alloc(hxc_client *c, enum kind k)
{
    hxc_future *f = hxc__calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->refs = 1;
    f->kind = k;
    f->client = c;
    f->winner = -1;
    hxc__defer_init(&f->then_task, run_links, f);
    hxc__list_init(&f->cnode);
    if (c != NULL)
        hxc__list_insert_tail(&c->futures, &f->cnode);
    return f;
}

void hxc__future_detach_all(hxc_client *c)
{
    /* The client is going away: callbacks already due run now; later ones
     * run at once from hxc_future_then (there is no loop of ours any more). */
    while (!hxc__list_empty(&c->futures)) {
        hxc_future *f = HXC__LIST_ENTRY(c->futures.next, hxc_future, cnode);
        hxc__list_remove(&f->cnode);
        f->refs++;
        if (hxc__defer_pending(&f->then_task)) {
            hxc__defer_cancel(&f->then_task);
            f->client = NULL;
            run_links(&f->then_task, f);
        }
        f->client = NULL;
        hxc__future_unref(f);
    }
}

hxc_future *hxc__future_new(hxc_client *c) { return future_alloc(c, K_REQUEST); }

void hxc__future_attach(hxc_future *f, hxc__call *call)
{
    f->call = call;
    call->future = f;
    f->refs++; /* the call's reference, dropped at delivery */
}

static void destroy(hxc_future *f)
{
    hxc__defer_cancel(&f->then_task);
    hxc__list_remove(&f->cnode);
    for (size_t i = 0; i < f->nkids; i++) {
        hxc_future *k = f->kids[i];
        for (size_t j = 0; j < k->nlinks; j++)
            if (k->links[j].internal && k->links[j].ud == f)
                k->links[j].cb = NULL; /* unhook */
        hxc__future_unref(k);
    }
    hxc__free(f->kids);
    hxc__free(f->links);
    hxc_response_release(f->resp);
    hxc__free(f);
}

void hxc__future_unref(hxc_future *f)
{
    if (f != NULL && --f->refs == 0)
        destroy(f);
}

static void run_links(hxc__defer *d, void *arg)
{
    (void)d;
    hxc_future *f = arg;
    f->refs++; /* a callback may free the future */
    if (f->client)
        f->client->in_callback++;
    hxc_client *c = f->client;
    for (size_t i = 0; i < f->nlinks; i++) {
        link *l = &f->links[i];
        if (l->internal || l->ran || l->cb == NULL)
            continue;
        l->ran = 1;
        l->cb(f, l->ud);
    }
    if (c)
        hxc__user_returned(c);
    hxc__future_unref(f);
}

static void schedule_links(hxc_future *f)
{
    int any = 0;
    for (size_t i = 0; i < f->nlinks; i++)
        if (!f->links[i].internal && !f->links[i].ran)
            any = 1;
    if (!any)
        return;
    if (f->client)
        hxc__defer_schedule(&f->client->r, &f->then_task);
    else
        run_links(&f->then_task, f);
}

static void settle(hxc_future *f, struct hxc_response *resp, int err)
{
    if (f->done)
        return;
    f->done = 1;
    f->err = err;
    if (resp)
        f->resp = hxc_response_retain(resp);
    f->refs++;
    for (size_t i = 0; i < f->nlinks; i++) /* combinations first, synchronously */
        if (f->links[i].internal && f->links[i].cb)
            f->links[i].cb(f, f->links[i].ud);
    schedule_links(f);
    hxc__future_unref(f);
}

void hxc__future_settle(hxc_future *f, struct hxc_response *resp, int err)
{
    f->call = NULL;
    settle(f, resp, err);
}

static int add_link(hxc_future *f, hxc_future_cb cb, void *ud, int internal)
{
    if (f->nlinks == f->caplinks) {
        size_t cap = f->caplinks ? f->caplinks * 2 : 2;
        link *l = hxc__realloc(f->links, cap * sizeof(*l));
        if (l == NULL)
            return HXC_ENOMEM;
        f->links = l;
        f->caplinks = cap;
    }
    f->links[f->nlinks++] = (link){cb, ud, internal, 0};
    return 0;
}

int hxc_future_then(hxc_future *f, hxc_future_cb cb, void *ud)
{
    if (f == NULL || cb == NULL)
        return HXC_EINVAL;
    int rv = add_link(f, cb, ud, 0);
    if (rv == 0 && f->done)
        schedule_links(f);
    return rv;
}

int hxc_future_wait(hxc_future *f)
{
    if (f == NULL)
        return HXC_EINVAL;
    if (!f->done && (f->client == NULL || f->client->in_callback))
        return HXC_EINVAL;
    while (!f->done) {
        int rv = event_base_loop(f->client->r.base, EVLOOP_ONCE);
        if (rv != 0 && !f->done)
            return HXC_EINVAL; /* the loop has nothing left that could settle it */
    }
    return f->err;
}

int hxc_future_done(const hxc_future *f) { return f ? f->done : 0; }
int hxc_future_error(const hxc_future *f) { return f ? f->err : HXC_EINVAL; }
hxc_response *hxc_future_response(const hxc_future *f) { return f ? f->resp : NULL; }
long hxc_future_any_index(const hxc_future *f) { return f ? f->winner : -1; }

static void kid_settled(hxc_future *kid, void *arg)
{
    hxc_future *f = arg;
    if (f->done)
        return;
    f->nsettled++;
    size_t idx = 0;
    while (idx < f->nkids && f->kids[idx] != kid)
        idx++;
    if (f->kind == K_ALL) {
        if (f->nsettled == f->nkids) {
            int err = 0;
            for (size_t i = 0; i < f->nkids && err == 0; i++)
                err = f->kids[i]->err;
            settle(f, NULL, err);
        }
    } else if (kid->err == 0 || f->nsettled == f->nkids) {
        f->winner = (long)idx;
        settle(f, kid->resp, kid->err);
    }
}

static hxc_future *combine(hxc_future *const *fs, size_t n, enum kind k)
{
    if (n > 0 && fs == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (fs[i] == NULL)
            return NULL;
    hxc_future *f = future_alloc(n ? fs[0]->client : NULL, k);
    if (f == NULL)
        return NULL;
    f->kids = hxc__calloc(n ? n : 1, sizeof(*f->kids));
    if (f->kids == NULL) {
        hxc__free(f);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (add_link(fs[i], kid_settled, f, 1) != 0) {
            f->nkids = i;
            destroy(f);
            return NULL;
        }
        fs[i]->refs++;
        f->kids[i] = fs[i];
        f->nkids = i + 1;
    }
    if (n == 0) { /* all of nothing is done; any of nothing has no winner */
        settle(f, NULL, k == K_ANY ? HXC_EINVAL : 0);
        return f;
    }
    /* Some inputs may have settled already. */
    for (size_t i = 0; i < n && !f->done; i++)
        if (fs[i]->done)
            kid_settled(fs[i], f);
    return f;
}

hxc_future *hxc_future_all(hxc_future *const *fs, size_t n) { return combine(fs, n, K_ALL); }
hxc_future *hxc_future_any(hxc_future *const *fs, size_t n) { return combine(fs, n, K_ANY); }

void hxc_future_cancel(hxc_future *f)
{
    if (f == NULL || f->done)
        return;
    if (f->kind == K_REQUEST) {
        if (f->call)
            hxc__call_cancel(f->call);
        return;
    }
    f->refs++;
    for (size_t i = 0; i < f->nkids; i++)
        hxc_future_cancel(f->kids[i]);
    hxc__future_unref(f);
}

void hxc_future_free(hxc_future *f)
{
    if (f == NULL || f->user_freed)
        return;
    f->user_freed = 1;
    if (!f->done)
        hxc_future_cancel(f);
    hxc__future_unref(f);
}
