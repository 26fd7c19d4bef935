/* SPDX-License-Identifier: MIT */
/*
 * docs/examples/form_upload.c - forms and query parameters (docs/forms.md):
 *   form_upload URL FILE     POST FILE as multipart/form-data to URL?source=example,
 *                            with a text field beside it, streamed from disk
 *   form_upload URL          POST a urlencoded form to URL?source=example
 */
#include <stdio.h>

#include <hxc/hxc.h>

typedef struct job {
    const char *url, *file;
} job;

static int body(hxc_client *client, void *arg)
{
    job *j = arg;
    hxc_request *req = NULL;
    hxc_form *form = hxc_form_new();
    int err = form ? hxc_request_new(&req, "POST", j->url) : HXC_ENOMEM;
    if (err == 0)
        err = hxc_request_add_query(req, "source", "example"); /* URL?source=example */
    if (err == 0)
        err = hxc_form_add(form, "comment", "sent by hxc");
    if (err == 0 && j->file != NULL) /* opened and measured now, read while sending */
        err = hxc_form_add_file(form, "upload", j->file, NULL, NULL);
    if (err == 0)
        err = hxc_request_set_form(req, form, j->file != NULL); /* takes the form */
    if (err) {
        fprintf(stderr, "%s: %s\n", hxc_strerror(err), hxc_form_error_detail(form));
        hxc_form_free(form); /* still ours: set_form failed or was not reached */
        hxc_request_free(req);
        return 1;
    }
    hxc_future *f = hxc_client_request(client, req);
    err = hxc_future_wait(f);
    hxc_response *resp = hxc_future_response(f);
    if (err) /* a file that changed or vanished since it was added is named here */
        fprintf(stderr, "%s: %s\n", hxc_error_name(err), hxc_response_error_detail(resp));
    else
        printf("%d from %s\n", hxc_response_status(resp), hxc_response_url(resp));
    hxc_future_free(f);
    return err != 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return 2;
    job j = {argv[1], argc == 3 ? argv[2] : NULL};
    return hxc_run(NULL, NULL, body, &j);
}
