/* SPDX-License-Identifier: MIT */
/*
 * docs/examples/stream_file.c - streaming both ways (docs/getting-started.md):
 *   stream_file get URL OUTFILE     download without buffering the body
 *   stream_file put URL INFILE      upload a file of unknown length
 */
#include <stdio.h>
#include <string.h>

#include <hxc/hxc.h>

static int on_head(hxc_response *resp, void *ud)
{
    (void)ud;
    fprintf(stderr, "%s %d\n", hxc_response_http_version(resp), hxc_response_status(resp));
    return 0;
}

static int on_chunk(hxc_response *resp, const uint8_t *data, size_t len, void *ud)
{
    (void)resp;
    return fwrite(data, 1, len, ud) == len ? 0 : HXC_EINVAL; /* an error aborts */
}

static int produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof, void *ud)
{
    (void)req;
    *written = fread(buf, 1, len, ud);
    *eof = feof((FILE *)ud);
    return ferror((FILE *)ud) ? HXC_EINVAL : 0;
}

typedef struct job {
    const char *mode, *url;
    FILE *file;
} job;

static int body(hxc_client *client, void *arg)
{
    job *j = arg;
    int put = strcmp(j->mode, "put") == 0;
    hxc_request *req = NULL;
    int err = hxc_request_new(&req, put ? "PUT" : "GET", j->url);
    if (err == 0 && put)
        err = hxc_request_set_body_producer(req, produce, -1, j->file);
    if (err == 0 && !put)
        err = hxc_request_on_response_stream(req, on_head, on_chunk, j->file);
    if (err) {
        hxc_request_free(req);
        fprintf(stderr, "%s\n", hxc_strerror(err));
        return 1;
    }
    hxc_future *f = hxc_client_request(client, req);
    err = hxc_future_wait(f);
    if (err)
        fprintf(stderr, "%s: %s\n", hxc_error_name(err),
                hxc_response_error_detail(hxc_future_response(f)));
    else if (put)
        fprintf(stderr, "uploaded: %d\n", hxc_response_status(hxc_future_response(f)));
    hxc_future_free(f);
    return err != 0;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "get") != 0 && strcmp(argv[1], "put") != 0))
        return 2;
    job j = {argv[1], argv[2], fopen(argv[3], strcmp(argv[1], "put") == 0 ? "rb" : "wb")};
    if (j.file == NULL)
        return 2;
    hxc_client_config cfg;
    hxc_client_config_init(&cfg);
    cfg.http2 = 1;
    int rv = hxc_run(NULL, &cfg, body, &j);
    fclose(j.file);
    return rv;
}
