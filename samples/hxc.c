/*
 * samples/hxc.c - `hxc`, a small curl-like command over the library.
 *
 * Every URL on the command line (times --repeat) is fetched concurrently
 * through one client, at most --parallel in flight; --json prints one line
 * per response. It uses only the public API, like any user program.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hxc/hxc.h"

typedef struct header {
    char *name, *value;
} header;

typedef struct opts {
    const char *method;
    header headers[64];
    int nheaders;
    const char *data;
    size_t data_len;
    char *data_file_buf;
    const char *out_file;
    long repeat, parallel;
    int json, verbose;
    char **urls;
    int nurls;
} opts;

typedef struct state {
    opts *o;
    hxc_client *client;
    long total, started, done, failed;
    FILE *out;
    int streaming; /* a single response goes out as it arrives */
} state;

static int write_chunk(hxc_response *resp, const uint8_t *data, size_t len, void *ud)
{
    (void)resp;
    state *st = ud;
    if (fwrite(data, 1, len, st->out) != len)
        return HXC_EINVAL; /* the output is gone: abort the transfer */
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hxc [options] URL...\n"
               "  -X METHOD  -H 'Name: value'  -d DATA | --data-file FILE\n"
               "  -o FILE                 body of a single URL to FILE (default stdout)\n"
               "  --repeat K              fetch each URL K times\n"
               "  --parallel N            at most N requests in flight (default 100)\n"
               "  --max-connections N     total connection limit of the pool\n"
               "  --http2                 offer HTTP/2 by ALPN (default: HTTP/1.1 only)\n"
               "  --http2-prior-knowledge HTTP/2 over cleartext for http:// URLs\n"
               "  --cacert FILE  --insecure\n"
               "  --connect-timeout S  --read-timeout S  --max-time S\n"
               "  --json                  one JSON object per response instead of bodies\n"
               "  -v                      request and response heads on stderr\n"
               "  -h, --help  --version\n");
}

static int parse_long(const char *s, long min, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < min)
        return -1;
    *out = v;
    return 0;
}

static int parse_secs(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *s == '\0' || *end != '\0' || !(v >= 0) || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void start_more(state *st);

static void print_heads(hxc_response *r)
{
    hxc_request *q = hxc_response_request(r);
    fprintf(stderr, "> %s %s\n", hxc_request_method(q), hxc_request_url(q));
    const hxc_headers *qh = hxc_request_headers(q);
    for (size_t i = 0; i < hxc_headers_count(qh); i++) {
        const char *n, *v;
        hxc_headers_at(qh, i, &n, &v);
        fprintf(stderr, "> %s: %s\n", n, v);
    }
    if (hxc_response_status(r) != 0) {
        fprintf(stderr, "< %s %d %s\n", hxc_response_http_version(r), hxc_response_status(r),
                hxc_response_reason(r));
        const hxc_headers *h = hxc_response_headers(r);
        for (size_t i = 0; i < hxc_headers_count(h); i++) {
            const char *n, *v;
            hxc_headers_at(h, i, &n, &v);
            fprintf(stderr, "< %s: %s\n", n, v);
        }
    }
    if (hxc_response_error(r))
        fprintf(stderr, "* error: %s: %s\n", hxc_error_name(hxc_response_error(r)),
                hxc_response_error_detail(r));
}

static void on_response(hxc_response *r, int err, void *ud)
{
    state *st = ud;
    opts *o = st->o;
    st->done++;
    size_t len;
    const uint8_t *body = hxc_response_body(r, &len);
    if (o->verbose)
        print_heads(r);
    if (err) {
        st->failed++;
        fprintf(stderr, "hxc: %s: %s: %s (%s)\n", hxc_response_url(r), hxc_error_name(err),
                hxc_strerror(err), hxc_response_error_detail(r));
    }
    if (o->json) {
        hxc_timings t;
        hxc_response_timings(r, &t);
        printf("{\"url\":");
        json_str(stdout, hxc_response_url(r));
        printf(",\"status\":%d,\"http_version\":", hxc_response_status(r));
        json_str(stdout, hxc_response_http_version(r));
        printf(",\"bytes\":%zu,\"connection\":%llu,\"error\":", len,
               (unsigned long long)hxc_response_connection_id(r));
        if (err) {
            char e[600];
            snprintf(e, sizeof(e), "%s: %s", hxc_error_name(err), hxc_response_error_detail(r));
            json_str(stdout, e);
        } else {
            printf("null");
        }
        printf(",\"time_total\":%.6f}\n", t.total);
        fflush(stdout);
    } else if (!err && !st->streaming) {
        fwrite(body, 1, len, st->out);
        fflush(st->out);
    }
    start_more(st);
}

static void start_more(state *st)
{
    opts *o = st->o;
    while (st->started < st->total && st->started - st->done < o->parallel) {
        const char *url = o->urls[st->started % o->nurls];
        st->started++;
        hxc_request *req = NULL;
        int rv = hxc_request_new(&req, o->method, url);
        for (int i = 0; rv == 0 && i < o->nheaders; i++)
            rv = hxc_request_add_header(req, o->headers[i].name, o->headers[i].value);
        if (rv == 0 && o->data)
            rv = hxc_request_set_body_static(req, o->data, o->data_len);
        if (rv == 0 && st->streaming) /* one response: write it as it comes, any size */
            rv = hxc_request_on_response_stream(req, NULL, write_chunk, st);
        if (rv == 0)
            rv = hxc_client_send(st->client, req, on_response, st);
        if (rv != 0)
            hxc_request_free(req); /* a failed send leaves it with us */
        if (rv != 0) {
            st->done++;
            st->failed++;
            fprintf(stderr, "hxc: %s: %s: %s\n", url, hxc_error_name(rv), hxc_strerror(rv));
        }
    }
}

static int read_file(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (nb == NULL) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f) || b == NULL;
    fclose(f);
    if (bad) {
        free(b);
        return -1;
    }
    *buf = b;
    *len = n;
    return 0;
}

enum {
    O_REPEAT = 256,
    O_PARALLEL,
    O_MAXCONN,
    O_HTTP2,
    O_H2PK,
    O_CACERT,
    O_INSECURE,
    O_CTO,
    O_RTO,
    O_MAXTIME,
    O_JSON,
    O_DATAFILE,
    O_VERSION
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"repeat", required_argument, 0, O_REPEAT},
        {"parallel", required_argument, 0, O_PARALLEL},
        {"max-connections", required_argument, 0, O_MAXCONN},
        {"http2", no_argument, 0, O_HTTP2},
        {"http2-prior-knowledge", no_argument, 0, O_H2PK},
        {"cacert", required_argument, 0, O_CACERT},
        {"insecure", no_argument, 0, O_INSECURE},
        {"connect-timeout", required_argument, 0, O_CTO},
        {"read-timeout", required_argument, 0, O_RTO},
        {"max-time", required_argument, 0, O_MAXTIME},
        {"json", no_argument, 0, O_JSON},
        {"data-file", required_argument, 0, O_DATAFILE},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, O_VERSION},
        {0, 0, 0, 0},
    };
    opts o;
    memset(&o, 0, sizeof(o));
    o.repeat = 1;
    o.parallel = 100;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    int c, rc = 2;
    while ((c = getopt_long(argc, argv, "X:H:d:o:vh", longopts, NULL)) != -1) {
        switch (c) {
        case 'X':
            o.method = optarg;
            break;
        case 'H': {
            char *colon = strchr(optarg, ':');
            if (colon == NULL || colon == optarg || o.nheaders == 64) {
                fprintf(stderr, "hxc: bad header '%s' (want 'Name: value')\n", optarg);
                goto out;
            }
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            o.headers[o.nheaders].name = optarg;
            o.headers[o.nheaders].value = v;
            o.nheaders++;
            break;
        }
        case 'd':
            o.data = optarg;
            o.data_len = strlen(optarg);
            break;
        case O_DATAFILE:
            free(o.data_file_buf);
            o.data_file_buf = NULL;
            if (read_file(optarg, &o.data_file_buf, &o.data_len) != 0) {
                fprintf(stderr, "hxc: cannot read %s: %s\n", optarg, strerror(errno));
                goto out;
            }
            o.data = o.data_file_buf;
            break;
        case 'o':
            o.out_file = optarg;
            break;
        case 'v':
            o.verbose = 1;
            break;
        case O_REPEAT:
            if (parse_long(optarg, 1, &o.repeat) != 0)
                goto badnum;
            break;
        case O_PARALLEL:
            if (parse_long(optarg, 1, &o.parallel) != 0)
                goto badnum;
            break;
        case O_MAXCONN: {
            long v;
            if (parse_long(optarg, 1, &v) != 0 || v > 1000000)
                goto badnum;
            cfg.max_connections = (unsigned)v;
            break;
        }
        case O_HTTP2:
            cfg.http2 = 1;
            break;
        case O_H2PK:
            cfg.http2_prior_knowledge = 1;
            break;
        case O_CACERT:
            cfg.ca_file = optarg;
            break;
        case O_INSECURE:
            cfg.insecure = 1;
            break;
        case O_CTO:
            if (parse_secs(optarg, &cfg.connect_timeout) != 0)
                goto badnum;
            break;
        case O_RTO:
            if (parse_secs(optarg, &cfg.read_timeout) != 0)
                goto badnum;
            break;
        case O_MAXTIME:
            if (parse_secs(optarg, &cfg.total_timeout) != 0)
                goto badnum;
            break;
        case O_JSON:
            o.json = 1;
            break;
        case O_VERSION:
            printf("hxc %s\n", hxc_version());
            rc = 0;
            goto out;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default:
            usage(stderr);
            goto out;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        goto out;
    }
    o.urls = argv + optind;
    o.nurls = argc - optind;
    if (o.method == NULL)
        o.method = o.data ? "POST" : "GET";
    /* Check every URL and header before anything is sent. */
    for (int i = 0; i < o.nurls; i++) {
        hxc_request *req = NULL;
        int rv = hxc_request_new(&req, o.method, o.urls[i]);
        for (int k = 0; rv == 0 && k < o.nheaders; k++)
            rv = hxc_request_add_header(req, o.headers[k].name, o.headers[k].value);
        hxc_request_free(req);
        if (rv != 0) {
            fprintf(stderr, "hxc: %s: %s: %s\n", o.urls[i], hxc_error_name(rv), hxc_strerror(rv));
            goto out;
        }
    }
    if (o.out_file && (o.nurls > 1 || o.repeat > 1)) {
        fprintf(stderr, "hxc: -o takes a single URL fetched once\n");
        goto out;
    }

    state st;
    memset(&st, 0, sizeof(st));
    st.o = &o;
    st.total = o.repeat * o.nurls;
    st.out = stdout;
    st.streaming = st.total == 1 && !o.json;
    if (st.streaming)
        cfg.max_response_body_bytes = 0; /* nothing is buffered: any size can be saved */
    if (o.out_file && (st.out = fopen(o.out_file, "wb")) == NULL) {
        fprintf(stderr, "hxc: cannot write %s: %s\n", o.out_file, strerror(errno));
        goto out;
    }
    struct event_base *base = event_base_new();
    int rv = base ? hxc_client_open(&st.client, base, &cfg) : HXC_ENOMEM;
    if (rv != 0) {
        fprintf(stderr, "hxc: %s: %s\n", hxc_error_name(rv), hxc_strerror(rv));
        rc = 1;
    } else {
        start_more(&st);
        while (st.done < st.total && event_base_loop(base, EVLOOP_ONCE) == 0)
            ;
        hxc_client_close(st.client, NULL, NULL);
        event_base_dispatch(base); /* until the client has closed: nothing else is on it */
        rc = st.failed ? 1 : 0;
    }
    if (base)
        event_base_free(base);
    if (st.out != stdout)
        fclose(st.out);
    goto out;
badnum:
    fprintf(stderr, "hxc: bad number for an option\n");
out:
    free(o.data_file_buf);
    return rc;
}
