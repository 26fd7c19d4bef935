/* SPDX-License-Identifier: MIT */
/*
 * proto/h1.c - llhttp glue and the request serialiser. See h1.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "proto/h1.h"

#define H1(p) ((hxc__h1 *)(p)->data)

static int set_err(hxc__h1 *h, int err, const char *detail)
{
    if (h->err == 0) {
        h->err = err;
        h->detail = detail;
    }
    return -1;
}

/* Trailer fields are counted span by span (heads are counted whole, in
 * hxc__h1_feed). */
static int count_bytes(hxc__h1 *h, size_t n)
{
    if (h->whole)
        return 0; /* the read is counted whole (hxc__h1_feed) */
    h->header_bytes += n;
    if (h->limits.max_header_bytes && h->header_bytes > h->limits.max_header_bytes)
        return set_err(h, HXC_EHEADERS_TOO_LARGE, "response header section exceeds the byte limit");
    return 0;
}

static int fold_err(hxc__h1 *h)
{
    return set_err(h, HXC_EPROTO_REMOTE, "obsolete line folding in a response header");
}

static unsigned count_cr(const char *p, const char *end)
{
    unsigned n = 0;
    for (; p < end; p++)
        n += *p == '\r';
    return n;
}

/* ---- texts: views of the bytes being parsed, copied only when needed ---- */

static void text_reset(hxc__h1_text *t)
{
    t->view = NULL;
    hxc__buf_reset(&t->buf);
}

/* The view becomes a copy (its bytes are about to go away, or more come). */
static int text_keep(hxc__h1 *h, hxc__h1_text *t)
{
    if (t->view == NULL)
        return 0;
    const char *v = t->view;
    t->view = NULL;
    return hxc__buf_append(&t->buf, v, t->vlen) == 0 ? 0
                                                     : set_err(h, HXC_ENOMEM, "out of memory");
}

static int text_add(hxc__h1 *h, hxc__h1_text *t, const char *at, size_t len)
{
    if (t->view == NULL && t->buf.len == 0) {
        t->view = at; /* the first span: a view until it must be kept */
        t->vlen = len;
        return 0;
    }
    if (text_keep(h, t) != 0)
        return -1;
    return hxc__buf_append(&t->buf, at, len) == 0 ? 0 : set_err(h, HXC_ENOMEM, "out of memory");
}

static const char *text_get(const hxc__h1_text *t, size_t *len)
{
    if (t->view != NULL) {
        *len = t->vlen;
        return t->view;
    }
    *len = t->buf.len;
    return t->buf.data != NULL ? (const char *)t->buf.data : ""; /* never a text: empty */
}

static int text_empty(const hxc__h1_text *t) { return t->view == NULL && t->buf.len == 0; }

static int on_message_begin(llhttp_t *p)
{
    hxc__h1 *h = H1(p);
    h->started = 1;
    h->interim = 0;
    h->in_trailers = 0;
    h->in_value = 0;
    text_reset(&h->name);
    text_reset(&h->value);
    return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t len)
{
    hxc__h1 *h = H1(p);
    h->started = 1;
    return text_add(h, &h->value, at, len);
}

static int emit_field(hxc__h1 *h)
{
    h->fold_state = 0;
    if (!h->in_value && text_empty(&h->name))
        return 0;
    int rv = 0;
    if (!h->interim) {
        size_t nl, vl;
        const char *n = text_get(&h->name, &nl), *v = text_get(&h->value, &vl);
        /* llhttp drops the whitespace before a value, not after it: RFC 9110
         * 5.5 has both go (and HTTP/2 could not even carry it). */
        while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (h->in_trailers) {
            if (h->ev->on_trailer)
                rv = h->ev->on_trailer(h->ud, n, nl, v, vl);
        } else {
            rv = h->ev->on_header(h->ud, n, nl, v, vl);
        }
    }
    text_reset(&h->name);
    text_reset(&h->value);
    h->in_value = 0;
    if (rv != 0)
        return set_err(h, rv, "response rejected while reading headers");
    return 0;
}

static int on_status_complete(llhttp_t *p)
{
    hxc__h1 *h = H1(p);
    int status = p->status_code;
    /* llhttp takes any three digits, or fewer: 0 would read as "no response". */
    if (status < 100 || status > 599)
        return set_err(h, HXC_EPROTO_REMOTE, "status code out of range");
    if (status < 200) {
        if (status == 101)
            return set_err(h, HXC_EPROTO_REMOTE, "unexpected 101 Switching Protocols");
        if (++h->interims > HXC__MAX_INTERIM)
            return set_err(h, HXC_EPROTO_REMOTE, "too many interim (1xx) responses");
        h->interim = 1;
    } else {
        h->interim = 0;
        const char *version = p->http_major == 1 && p->http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
        if (p->http_major != 1)
            return set_err(h, HXC_EPROTO_REMOTE, "unsupported HTTP version in status line");
        size_t rl;
        const char *reason = text_get(&h->value, &rl);
        int rv = h->ev->on_status(h->ud, status, reason, rl, version);
        if (rv != 0)
            return set_err(h, rv, "response rejected at the status line");
    }
    text_reset(&h->value);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    hxc__h1 *h = H1(p);
    if (h->in_value && emit_field(h) != 0)
        return -1;
    if (h->in_trailers && count_bytes(h, len) != 0)
        return -1;
    h->gap = at + len; /* the ':' once the name is whole */
    return text_add(h, &h->name, at, len);
}

static int on_header_field_complete(llhttp_t *p)
{
    hxc__h1 *h = H1(p);
    h->header_count++;
    if (h->limits.max_headers && h->header_count > h->limits.max_headers)
        return set_err(h, HXC_EHEADERS_TOO_LARGE, "too many response header fields");
    h->in_value = 1;
    h->fold_state = HXC__H1_IN_GAP;
    return 0;
}

/*
 * llhttp 8.1 unfolds obs-fold without a word, so it is found from where the
 * value spans lie. A value span always starts after the gap of whitespace
 * that follows the ':', and ends at the end of the bytes being parsed (cut:
 * it goes on in the next ones) or at its line's CR. So the field was folded
 * if a span follows one that ended at a CR, or if the gap held a line end:
 * any CR before a value; more than one before an empty value (llhttp
 * gives an empty value as an empty span at the start of the next line).
 */
static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    hxc__h1 *h = H1(p);
    if (hxc__unlikely(h->fold_state == HXC__H1_VALUE_ENDED))
        return fold_err(h);
    /* The usual gap, ":" or ": ", is too short to hold a fold: that takes
     * a CR, one more byte and a space at least. */
    if (h->fold_state == HXC__H1_IN_GAP && hxc__unlikely(h->gap_cr != 0 || at - h->gap > 2)) {
        unsigned cr = h->gap_cr + count_cr(h->gap, at);
        h->gap_cr = 0;
        if (cr > (len == 0 ? 1u : 0u))
            return fold_err(h);
    }
    h->fold_state = at + len != h->end ? HXC__H1_VALUE_ENDED : 0;
    h->in_value = 1;
    if (h->in_trailers && count_bytes(h, len) != 0)
        return -1;
    return text_add(h, &h->value, at, len);
}

static int on_header_value_complete(llhttp_t *p) { return emit_field(H1(p)); }

static int on_headers_complete(llhttp_t *p)
{
    hxc__h1 *h = H1(p);
    if (emit_field(h) != 0)
        return -1;
    if (h->interim)
        return 1; /* RFC 9110 15.2: a 1xx ends with its head, whatever it announces */
    h->head_done = 1;
    /* llhttp cannot know the request was HEAD, and llhttp 8 would read a body
     * announced by Content-Length after 204 or 304: 1 means "no body". */
    int status = p->status_code;
    int no_body = h->head_request || status == 204 || status == 304;
    int64_t length = no_body                        ? 0
                     : (p->flags & F_CONTENT_LENGTH) ? (int64_t)(p->content_length & INT64_MAX)
                                                     : -1;
    int rv = h->ev->on_headers_done(h->ud, length);
    if (rv != 0)
        return set_err(h, rv, "response rejected after headers");
    return no_body;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    hxc__h1 *h = H1(p);
    int rv = h->ev->on_body(h->ud, (const uint8_t *)at, len);
    if (rv != 0)
        return set_err(h, rv, "response body rejected");
    return 0;
}

/* Chunk extensions are kept by no one: they are only counted, as many in a
 * response as a head may hold, so that endless ones end (found in review). */
static int on_chunk_extension(llhttp_t *p, const char *at, size_t len)
{
    (void)at;
    hxc__h1 *h = H1(p);
    h->ext_bytes += len;
    if (h->limits.max_header_bytes && h->ext_bytes > h->limits.max_header_bytes)
        return set_err(h, HXC_EPROTO_REMOTE, "chunk extensions exceed the header byte limit");
    return 0;
}

static int on_chunk_header(llhttp_t *p)
{
    /* After the last (empty) chunk, further fields are trailers: a section
     * of its own, with a limit of its own (the head's bytes are done). */
    if (p->content_length == 0) {
        H1(p)->in_trailers = 1;
        H1(p)->header_bytes = 0;
    }
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    hxc__h1 *h = H1(p);
    if (emit_field(h) != 0)
        return -1;
    if (h->interim) {
        /* A 1xx ends its own message: wait for the final response. One that
         * says "Connection: close" closes the connection after it (RFC 9112
         * 9.6), though llhttp, lenient there, forgets it (found in review). */
        h->interim = 0;
        if (p->flags & F_CONNECTION_CLOSE)
            h->interim_close = 1;
        return 0;
    }
    h->complete = 1;
    h->keep_alive = llhttp_should_keep_alive(p) && !h->interim_close;
    return HPE_PAUSED; /* stop here: never parse what follows as a response */
}

static llhttp_settings_t settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

static void fill_settings(void)
{
    llhttp_settings_t s;
    llhttp_settings_init(&s);
    s.on_message_begin = on_message_begin;
    s.on_status = on_status;
    s.on_status_complete = on_status_complete;
    s.on_header_field = on_header_field;
    s.on_header_field_complete = on_header_field_complete;
    s.on_header_value = on_header_value;
    s.on_header_value_complete = on_header_value_complete;
    s.on_headers_complete = on_headers_complete;
    s.on_body = on_body;
    s.on_chunk_header = on_chunk_header;
    s.on_chunk_extension_name = on_chunk_extension;
    s.on_chunk_extension_value = on_chunk_extension;
    s.on_message_complete = on_message_complete;
    settings = s;
}

/* Clients may live on several threads (one loop each): fill the table once. */
static void init_settings(void) { pthread_once(&settings_once, fill_settings); }

void hxc__h1_init(hxc__h1 *h, const hxc__h1_events *ev, void *ud, const hxc__h1_limits *lim)
{
    memset(h, 0, sizeof(*h));
    init_settings();
    h->ev = ev;
    h->ud = ud;
    h->limits = *lim;
    hxc__buf_init(&h->name.buf);
    hxc__buf_init(&h->value.buf);
    llhttp_init(&h->parser, HTTP_RESPONSE, &settings);
    h->parser.data = h;
}

void hxc__h1_free(hxc__h1 *h)
{
    hxc__buf_free(&h->name.buf);
    hxc__buf_free(&h->value.buf);
}

void hxc__h1_begin(hxc__h1 *h, int head)
{
    llhttp_init(&h->parser, HTTP_RESPONSE, &settings);
    /* A 1xx with "Connection: close" (or an HTTP/1.0 one) would put llhttp
     * in its closed state, which eats every byte after it: the final
     * response with it. Keep-alive is decided for the final response
     * (on_message_complete), and parsing stops there anyway. */
    llhttp_set_lenient_keep_alive(&h->parser, 1);
    h->parser.data = h;
    h->head_request = head;
    h->interim = h->in_trailers = h->started = h->complete = h->keep_alive = 0;
    h->in_value = h->head_done = 0;
    h->interims = 0;
    h->interim_close = 0;
    h->header_bytes = 0;
    h->ext_bytes = 0;
    h->header_count = 0;
    h->fold_state = 0;
    h->gap_cr = 0;
    h->err = 0;
    h->detail = NULL;
    text_reset(&h->name);
    text_reset(&h->value);
}

/* One llhttp run over `len` bytes, telling the callbacks where they end
 * and carrying an open gap (see on_header_value) across runs. */
static llhttp_errno_t run(hxc__h1 *h, const uint8_t *data, size_t len)
{
    h->end = (const char *)data + len;
    if (h->fold_state == HXC__H1_IN_GAP)
        h->gap = (const char *)data;
    llhttp_errno_t e = llhttp_execute(&h->parser, (const char *)data, len);
    if (e == HPE_OK && h->fold_state == HXC__H1_IN_GAP)
        h->gap_cr += count_cr(h->gap, h->end);
    /* These bytes go away: a text still open keeps its own copy. */
    if (e == HPE_OK && (text_keep(h, &h->name) != 0 || text_keep(h, &h->value) != 0))
        return HPE_USER;
    return e;
}

int hxc__h1_feed(hxc__h1 *h, const uint8_t *data, size_t len, size_t *used)
{
    *used = 0;
    if (h->err)
        return h->err;
    if (h->complete)
        return 1;
    if (len > 0)
        h->started = 1;
    /* Until the final head has ended every byte is a byte of a head (1xx
     * heads, blank lines, whitespace and all): llhttp gets no more of them
     * than the limit has room for. A head that ends within them is whole
     * and within the limit, and the rest (body) is parsed in a second run;
     * one that does not is over it. One compare per read, none per byte. */
    /* The same holds for the trailer section, once the last chunk is in: a
     * read that starts in it counts whole (its spans are not counted again),
     * so endless whitespace in trailers ends too. */
    size_t n = len;
    int in_head = !h->head_done, in_trailers = h->in_trailers;
    h->whole = in_trailers;
    if ((in_head || in_trailers) && h->limits.max_header_bytes &&
        n > h->limits.max_header_bytes - h->header_bytes)
        n = h->limits.max_header_bytes - h->header_bytes;
    llhttp_errno_t e = run(h, data, n);
    h->whole = 0;
    if (e == HPE_OK && ((in_head && !h->head_done) || in_trailers)) {
        h->header_bytes += n;
        if (n < len)
            set_err(h, HXC_EHEADERS_TOO_LARGE, "response header section exceeds the byte limit");
        else
            *used = len;
        return h->err;
    }
    if (e == HPE_OK && n < len)
        e = run(h, data + n, len - n);
    if (e == HPE_OK) {
        *used = len;
        return 0;
    }
    if (e == HPE_PAUSED && h->complete) {
        *used = (size_t)(llhttp_get_error_pos(&h->parser) - (const char *)data);
        return 1;
    }
    if (h->err)
        return h->err;
    h->err = HXC_EPROTO_REMOTE;
    h->detail = llhttp_get_error_reason(&h->parser);
    if (h->detail == NULL)
        h->detail = llhttp_errno_name(e);
    return h->err;
}

int hxc__h1_eof(hxc__h1 *h)
{
    if (h->err)
        return h->err;
    if (h->complete)
        return 1;
    if (!h->started) {
        h->err = HXC_ECLOSED;
        h->detail = "server closed the connection without sending a response";
        return h->err;
    }
    llhttp_errno_t e = llhttp_finish(&h->parser);
    if (e == HPE_OK && h->complete)
        return 1;
    if (e == HPE_OK || e == HPE_PAUSED) {
        /* llhttp_finish ran on_message_complete: a close-delimited body ended. */
        if (h->complete)
            return 1;
    }
    if (h->err)
        return h->err;
    h->err = HXC_EPROTO_REMOTE;
    h->detail = "connection closed before the response was complete";
    return h->err;
}

static int put(hxc__buf *b, const char *s) { return hxc__buf_append(b, s, strlen(s)); }

static int encode(hxc__buf *out, const char *method, const char *target, const char *authority,
                  const struct hxc_headers *headers, int has_body, size_t body_len, int chunked,
                  const char *ua, const char *accept)
{
    int rv = 0;
    rv |= put(out, method);
    rv |= put(out, " ");
    rv |= put(out, target);
    rv |= put(out, " HTTP/1.1\r\n");
    int have_host = 0, have_ua = 0, have_accept = 0;
    for (size_t i = 0; i < headers->count; i++) {
        size_t nl;
        const char *n = hxc__headers_name(headers, i, &nl);
        if (hxc__strieq(n, nl, "host"))
            have_host = 1;
        else if (hxc__strieq(n, nl, "user-agent"))
            have_ua = 1;
        else if (hxc__strieq(n, nl, "accept"))
            have_accept = 1;
    }
    if (!have_host) {
        rv |= put(out, "Host: ");
        rv |= put(out, authority);
        rv |= put(out, "\r\n");
    }
    if (!have_ua && ua && *ua) {
        rv |= put(out, "User-Agent: ");
        rv |= put(out, ua);
        rv |= put(out, "\r\n");
    }
    if (!have_accept && accept && *accept) {
        rv |= put(out, "Accept: ");
        rv |= put(out, accept);
        rv |= put(out, "\r\n");
    }
    for (size_t i = 0; i < headers->count; i++) {
        size_t nl, vl;
        const char *n = hxc__headers_name(headers, i, &nl);
        const char *v = hxc__headers_value(headers, i, &vl);
        rv |= hxc__buf_append(out, n, nl);
        rv |= hxc__buf_append(out, ": ", 2);
        rv |= hxc__buf_append(out, v, vl);
        rv |= hxc__buf_append(out, "\r\n", 2);
    }
    if (chunked) {
        rv |= put(out, "Transfer-Encoding: chunked\r\n");
    } else if (has_body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
               strcmp(method, "PATCH") == 0) {
        char cl[48];
        snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", body_len);
        rv |= put(out, cl);
    }
    rv |= put(out, "\r\n");
    return rv ? HXC_ENOMEM : 0;
}

int hxc__h1_encode_request(hxc__buf *out, const char *method, const char *target,
                           const char *authority, const struct hxc_headers *headers, int has_body,
                           size_t body_len, const char *ua, const char *accept)
{
    return encode(out, method, target, authority, headers, has_body, body_len, 0, ua, accept);
}

int hxc__h1_encode_request_chunked(hxc__buf *out, const char *method, const char *target,
                                   const char *authority, const struct hxc_headers *headers,
                                   const char *ua, const char *accept)
{
    return encode(out, method, target, authority, headers, 1, 0, 1, ua, accept);
}
