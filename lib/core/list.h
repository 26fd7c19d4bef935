/* SPDX-License-Identifier: MIT */
/*
 * core/list.h - intrusive circular doubly linked list (libuv's queue idea):
 * the node lives inside the element, so linking never allocates.
 */
#ifndef HXC_CORE_LIST_H
#define HXC_CORE_LIST_H

#include <stddef.h>

typedef struct hxc__list {
    struct hxc__list *next, *prev;
} hxc__list;

static inline void hxc__list_init(hxc__list *h) { h->next = h->prev = h; }
static inline int hxc__list_empty(const hxc__list *h) { return h->next == h; }
/** Whether a node initialised with hxc__list_init is linked somewhere. */
static inline int hxc__list_linked(const hxc__list *n) { return n->next != n; }

static inline void hxc__list_insert_tail(hxc__list *h, hxc__list *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static inline void hxc__list_insert_head(hxc__list *h, hxc__list *n)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}

/** Unlinks `n` and leaves it self-linked (safe to unlink twice). */
static inline void hxc__list_remove(hxc__list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

static inline size_t hxc__list_size(const hxc__list *h)
{
    size_t n = 0;
    for (const hxc__list *p = h->next; p != h; p = p->next)
        n++;
    return n;
}

#define HXC__LIST_ENTRY(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define HXC__LIST_FOREACH_SAFE(pos, tmp, head)                                                     \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                               \
         (pos) = (tmp), (tmp) = (pos)->next)

#endif
