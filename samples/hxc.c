/* SPDX-License-Identifier: MIT */
/*
 * samples/hxc.c - `hxc`, a small curl-like command over the library.
 *
 *   hxc [options] URL...
 *
 * Every URL on the command line (times --repeat) is fetched concurrently
 * through one client, at most --parallel in flight: the response callback
 * of each request starts the next one. Without --json a single response is
 * streamed to stdout (or -o FILE) as it arrives, whatever its size; several
 * responses are printed whole, in completion order. --json prints one line
 * per response instead. It uses only the public API, like any user program.
 *
 * Exit status: 0 when every request got a response (whatever its status),
 * 1 when any failed, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "hxc/hxc.h"

/* Everything the command line says, and the state of the run. */
typedef struct cli {
    /* Options */
    const char *method; /* NULL until -X or the default */
    char **hdr_names;   /* -H, split at the colon (argc entries at most) */
    char **hdr_values;
    int nheaders;
    const char *data; /* -d or the contents of --data-file */
    size_t data_len;
    int has_data;
    char *data_buf; /* --data-file, owned */
    const char *out_path;
    long repeat, parallel;
    int json, verbose;
    char **urls;
    int nurls;

    /* The run */
    hxc_client *client;
    hxc_request **templates; /* one per URL, checked up front, duplicated per send */
    long total, started, done, failed;
    FILE *out;       /* where a streamed body goes: stdout or -o FILE */
    int stream_body; /* one response only: its body is written as it arrives */
    int count_body;  /* the body goes through on_body (streamed or just counted) */
    int write_errno; /* writing the streamed body failed */
    int closing;
} cli;

/* One request in flight: what its callbacks need beyond the response. */
typedef struct job {
    cli *c;
    uint64_t bytes;  /* body bytes seen by on_body */
    int heads_shown; /* -v: the heads were printed when they arrived */
} job;

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

/* ---- Parsing helpers ---------------------------------------------------- */

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *s == '\0' || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_secs(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *s == '\0' || *end != '\0' || !(v >= 0) || v > 1e9) /* NaN fails v >= 0 */
        return -1;
    *out = v;
    return 0;
}

/* 'Name: value' -> name and value, in place. -1 if there is no name or colon. */
static int split_header(char *arg, char **name, char **value)
{
    char *colon = strchr(arg, ':');
    if (colon == NULL || colon == arg)
        return -1;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        v[--n] = '\0';
    *name = arg;
    *value = v;
    return 0;
}

/* Reads a whole file; returns 0, or an errno value. */
static int slurp(const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno;
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    int err = b ? 0 : ENOMEM;
    while (err == 0) {
        size_t r = fread(b + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
        if (n == cap) {
            char *nb = cap <= SIZE_MAX / 2 ? realloc(b, cap * 2) : NULL;
            if (nb == NULL)
                err = ENOMEM;
            else
                b = nb, cap *= 2;
        }
    }
    fclose(f);
    if (err) {
        free(b);
        return err;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* ---- Output ------------------------------------------------------------- */

/* The characters of a JSON string, without the quotes. */
static void json_chars(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
}

static void json_line(const char *url, int status, const char *version, uint64_t bytes,
                      uint64_t conn, int err, const char *detail, double total)
{
    printf("{\"url\":\"");
    json_chars(stdout, url);
    printf("\",\"status\":%d,\"http_version\":\"", status);
    json_chars(stdout, version);
    printf("\",\"bytes\":%llu,\"connection\":%llu,\"error\":", (unsigned long long)bytes,
           (unsigned long long)conn);
    if (err) {
        printf("\"%s: ", hxc_error_name(err));
        json_chars(stdout, detail);
        printf("\"");
    } else {
        printf("null");
    }
    printf(",\"time_total\":%.6f}\n", total);
    fflush(stdout); /* a line per response, as it completes */
}

/* The explanation of a failure: the response's detail, else the error's sentence. */
static const char *error_detail(const cli *c, hxc_response *r, int err, char *buf, size_t size)
{
    if (c->write_errno) {
        snprintf(buf, size, "cannot write %s: %s", c->out_path ? c->out_path : "stdout",
                 strerror(c->write_errno));
        return buf;
    }
    const char *d = r ? hxc_response_error_detail(r) : "";
    return *d ? d : hxc_strerror(err);
}

static void print_request_head(hxc_response *r)
{
    hxc_request *q = hxc_response_request(r); /* the request lives in the response */
    fprintf(stderr, "> %s %s\n", hxc_request_method(q), hxc_request_url(q));
    const hxc_headers *h = hxc_request_headers(q); /* the caller's fields only */
    const char *name, *value;
    for (size_t i = 0; hxc_headers_at(h, i, &name, &value) == 0; i++)
        fprintf(stderr, "> %s: %s\n", name, value);
}

static void print_response_head(hxc_response *r)
{
    fprintf(stderr, "< %s %d %s\n", hxc_response_http_version(r), hxc_response_status(r),
            hxc_response_reason(r));
    const hxc_headers *h = hxc_response_headers(r);
    const char *name, *value;
    for (size_t i = 0; hxc_headers_at(h, i, &name, &value) == 0; i++)
        fprintf(stderr, "< %s: %s\n", name, value);
}

/* ---- Callbacks ---------------------------------------------------------- */

static void start_more(cli *c);

/* -v: the heads as soon as the final response head is in. */
static int on_heads(hxc_response *r, void *ud)
{
    job *j = ud;
    print_request_head(r);
    print_response_head(r);
    j->heads_shown = 1;
    return 0;
}

/* Each piece of the body: counted, and written out when it is the only response. */
static int on_body(hxc_response *r, const uint8_t *data, size_t len, void *ud)
{
    (void)r;
    job *j = ud;
    cli *c = j->c;
    j->bytes += len;
    if (c->stream_body && len > 0 && fwrite(data, 1, len, c->out) != len) {
        c->write_errno = errno ? errno : EIO;
        return HXC_ECANCELLED; /* the output is gone: abort the transfer */
    }
    return 0;
}

static void finish_if_done(cli *c)
{
    if (!c->closing && c->done == c->total) {
        c->closing = 1;
        hxc_client_close(c->client, NULL, NULL); /* the loop ends once it has closed */
    }
}

static void on_response(hxc_response *r, int err, void *ud)
{
    job *j = ud;
    cli *c = j->c;
    char buf[512];
    const char *detail = err ? error_detail(c, r, err, buf, sizeof(buf)) : "";
    c->done++;
    if (c->verbose) {
        if (!j->heads_shown) {
            print_request_head(r);
            if (hxc_response_status(r) != 0)
                print_response_head(r);
        }
        if (err)
            fprintf(stderr, "* error: %s: %s\n", hxc_error_name(err), detail);
    }
    if (err) {
        c->failed++;
        fprintf(stderr, "hxc: %s: %s: %s (%s)\n", hxc_response_url(r), hxc_error_name(err),
                hxc_strerror(err), detail);
    }
    if (c->json) {
        hxc_timings t;
        hxc_response_timings(r, &t);
        json_line(hxc_response_url(r), hxc_response_status(r), hxc_response_http_version(r),
                  j->bytes, hxc_response_connection_id(r), err, detail, t.total);
    } else if (!c->stream_body && !err) {
        size_t len;
        const uint8_t *body = hxc_response_body(r, &len); /* buffered whole */
        fwrite(body, 1, len, stdout);
        fflush(stdout);
    }
    free(j);
    start_more(c); /* a slot is free: calling the library from a callback is fine */
    finish_if_done(c);
}

/* Starts requests until --parallel are in flight or all have started. */
static void start_more(cli *c)
{
    while (!c->closing && c->started < c->total && c->started - c->done < c->parallel) {
        hxc_request *tpl = c->templates[c->started % c->nurls];
        c->started++;
        hxc_request *req = NULL;
        job *j = calloc(1, sizeof(*j));
        int rv = j ? hxc_request_dup(&req, tpl) : HXC_ENOMEM; /* no parsing again */
        if (rv == 0)
            j->c = c;
        if (rv == 0 && (c->count_body || c->verbose)) /* NULL callbacks are skipped */
            rv = hxc_request_on_response_stream(req, c->verbose ? on_heads : NULL,
                                                c->count_body ? on_body : NULL, j);
        if (rv == 0)
            rv = hxc_client_send(c->client, req, on_response, j); /* takes req on success */
        if (rv != 0) {
            hxc_request_free(req); /* a failed send leaves it with us */
            free(j);
            c->done++;
            c->failed++;
            fprintf(stderr, "hxc: %s: %s: %s\n", hxc_request_url(tpl), hxc_error_name(rv),
                    hxc_strerror(rv));
            if (c->json)
                json_line(hxc_request_url(tpl), 0, "", 0, 0, rv, hxc_strerror(rv), 0);
        }
    }
}

/* ---- main --------------------------------------------------------------- */

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
    cli c;
    memset(&c, 0, sizeof(c));
    c.repeat = 1;
    c.parallel = 100;
    c.out = stdout;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg); /* defaults first, then what the options say */
    struct event_base *base = NULL;
    int ch, rc = 2, err;
    long v;

    c.hdr_names = calloc((size_t)argc, sizeof(char *));
    c.hdr_values = calloc((size_t)argc, sizeof(char *));
    if (c.hdr_names == NULL || c.hdr_values == NULL) {
        fprintf(stderr, "hxc: out of memory\n");
        rc = 1;
        goto out;
    }
    while ((ch = getopt_long(argc, argv, "X:H:d:o:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'X':
            c.method = optarg;
            break;
        case 'H':
            if (split_header(optarg, &c.hdr_names[c.nheaders], &c.hdr_values[c.nheaders]) != 0) {
                fprintf(stderr, "hxc: bad header '%s' (want 'Name: value')\n", optarg);
                goto out;
            }
            c.nheaders++;
            break;
        case 'd':
            c.data = optarg;
            c.data_len = strlen(optarg);
            c.has_data = 1;
            break;
        case O_DATAFILE:
            free(c.data_buf);
            c.data_buf = NULL;
            if ((err = slurp(optarg, &c.data_buf, &c.data_len)) != 0) {
                fprintf(stderr, "hxc: cannot read %s: %s\n", optarg, strerror(err));
                goto out;
            }
            c.data = c.data_buf;
            c.has_data = 1;
            break;
        case 'o':
            c.out_path = optarg;
            break;
        case 'v':
            c.verbose = 1;
            break;
        case O_REPEAT:
            if (parse_long(optarg, 1, 1000000000L, &c.repeat) != 0)
                goto badnum;
            break;
        case O_PARALLEL:
            if (parse_long(optarg, 1, 1000000L, &c.parallel) != 0)
                goto badnum;
            break;
        case O_MAXCONN:
            if (parse_long(optarg, 1, 1000000L, &v) != 0)
                goto badnum;
            cfg.max_connections = (unsigned)v;
            break;
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
            c.json = 1;
            break;
        case O_VERSION:
            printf("hxc %s (libevent %s)\n", hxc_version(), event_get_version());
            rc = 0;
            goto out;
        case 'h':
            usage(stdout);
            rc = 0;
            goto out;
        default: /* getopt_long has said what was wrong */
            usage(stderr);
            goto out;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "hxc: no URL\n");
        usage(stderr);
        goto out;
    }
    c.urls = argv + optind;
    c.nurls = argc - optind;
    if (c.repeat > LONG_MAX / c.nurls) {
        fprintf(stderr, "hxc: too many requests\n");
        goto out;
    }
    c.total = c.repeat * c.nurls;
    if (c.out_path && c.total > 1) {
        fprintf(stderr, "hxc: -o takes a single URL fetched once\n");
        goto out;
    }
    if (c.method == NULL)
        c.method = c.has_data ? "POST" : "GET";

    /* One template request per URL: the URL, method and headers are checked
     * here, before anything is sent, and each send is a cheap duplicate. */
    c.templates = calloc((size_t)c.nurls, sizeof(*c.templates));
    if (c.templates == NULL) {
        fprintf(stderr, "hxc: out of memory\n");
        rc = 1;
        goto out;
    }
    for (int i = 0; i < c.nurls; i++) {
        const char *why; /* the URL checked first: it says why it is refused */
        err = hxc_url_check(c.urls[i], &why);
        if (err == 0 && (err = hxc_request_new(&c.templates[i], c.method, c.urls[i])) != 0)
            why = hxc_strerror(err);
        if (err) {
            fprintf(stderr, "hxc: %s: %s: %s\n", c.urls[i], hxc_error_name(err), why);
            goto out;
        }
        for (int k = 0; k < c.nheaders; k++) {
            err = hxc_request_add_header(c.templates[i], c.hdr_names[k], c.hdr_values[k]);
            if (err) {
                fprintf(stderr, "hxc: bad header '%s: %s': %s: %s\n", c.hdr_names[k],
                        c.hdr_values[k], hxc_error_name(err), hxc_strerror(err));
                goto out;
            }
        }
        /* The data outlives every request, so it is shared rather than copied:
         * duplicates of the template refer to the same bytes. */
        if (c.has_data &&
            (err = hxc_request_set_body_static(c.templates[i], c.data, c.data_len)) != 0) {
            fprintf(stderr, "hxc: %s: %s: %s\n", c.urls[i], hxc_error_name(err),
                    hxc_strerror(err));
            goto out;
        }
    }

    /* Where bodies go: a single response is streamed to stdout or -o FILE
     * (nothing buffered, any size); with --json bodies are only counted; else
     * each is buffered and printed whole when it completes. */
    c.stream_body = c.total == 1 && (!c.json || c.out_path);
    c.count_body = c.stream_body || c.json;
    if (c.count_body)
        cfg.max_response_body_bytes = 0; /* nothing is buffered: no cap needed */
    if (c.out_path && (c.out = fopen(c.out_path, "wb")) == NULL) {
        c.out = stdout;
        fprintf(stderr, "hxc: cannot write %s: %s\n", c.out_path, strerror(errno));
        goto out;
    }

    base = event_base_new();
    err = base ? hxc_client_open(&c.client, base, &cfg) : HXC_ENOMEM;
    if (err) {
        fprintf(stderr, "hxc: %s: %s\n", hxc_error_name(err), hxc_strerror(err));
        rc = 1;
        goto out;
    }
    start_more(&c);
    finish_if_done(&c);        /* in case nothing could be started */
    event_base_dispatch(base); /* returns once the client has closed */
    rc = c.failed ? 1 : 0;
    goto out;

badnum:
    fprintf(stderr, "hxc: bad number '%s'\n", optarg);
out:
    if (c.templates)
        for (int i = 0; i < c.nurls; i++)
            hxc_request_free(c.templates[i]); /* never handed over: still ours */
    free(c.templates);
    if (base)
        event_base_free(base);
    if (c.out != stdout && fclose(c.out) != 0 && rc == 0) {
        fprintf(stderr, "hxc: cannot write %s: %s\n", c.out_path, strerror(errno));
        rc = 1;
    }
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        fprintf(stderr, "hxc: cannot write stdout: %s\n", strerror(errno));
        rc = 1;
    }
    free(c.data_buf);
    free(c.hdr_names);
    free(c.hdr_values);
    return rc;
}
