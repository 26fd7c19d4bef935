/* SPDX-License-Identifier: MIT */
/*
 * api/form.c - forms as the caller builds them (hxc_form_*), and the
 * producer that streams a multipart form's body: the encoding is
 * policy/form.c's, the files are read here, a piece at a time as the
 * connection takes the body, one file open at a time and only while its
 * bytes are being sent. Every way a file can change under us ends the
 * request with a detail that names it; none sends a body of the wrong size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/mem.h"
#include "api/api.h"
#include "policy/form.h"

hxc_form *hxc_form_new(void) { return hxc__form_new(); }

void hxc_form_free(hxc_form *f) { hxc__form_unref(f); }

const char *hxc_form_error_detail(const hxc_form *f) { return f ? f->error : ""; }

static int refuse(hxc_form *f, const char *why)
{
    snprintf(f->error, sizeof(f->error), "%s", why);
    return HXC_EINVAL;
}

int hxc_form_add(hxc_form *f, const char *name, const char *value)
{
    if (f == NULL)
        return HXC_EINVAL;
    if (name == NULL || *name == '\0' || value == NULL)
        return refuse(f, "a field needs a name and a value");
    return hxc__form_add_part(f, HXC__PART_TEXT, name, value, strlen(value), NULL, NULL, NULL);
}

int hxc_form_add_data(hxc_form *f, const char *name, const void *data, size_t len,
                      const char *filename, const char *content_type)
{
    if (f == NULL)
        return HXC_EINVAL;
    if (name == NULL || *name == '\0' || (data == NULL && len > 0))
        return refuse(f, "a part needs a name, and data for its length");
    return hxc__form_add_part(f, HXC__PART_DATA, name, data, len, NULL, filename,
                              content_type ? content_type : "application/octet-stream");
}

/* Opens `path` for reading: never blocks (a FIFO would, until a writer
 * came) and never becomes the controlling terminal. */
static int open_file(const char *path)
{
    return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

int hxc_form_add_file(hxc_form *f, const char *name, const char *path, const char *filename,
                      const char *content_type)
{
    if (f == NULL)
        return HXC_EINVAL;
    if (name == NULL || *name == '\0' || path == NULL || *path == '\0')
        return refuse(f, "a file part needs a name and a path");
    /* Opened and measured now, so that a missing or unreadable file fails
     * here, where the caller can still act, rather than in the middle of a
     * body; closed at once: the request opens it again when it gets there. */
    int fd = open_file(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(f->error, sizeof(f->error), "cannot open form file '%s': %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return HXC_EINVAL;
    }
    close(fd);
    if (!S_ISREG(st.st_mode)) {
        snprintf(f->error, sizeof(f->error), "form file '%s' is not a regular file", path);
        return HXC_EINVAL;
    }
    if (filename == NULL) {
        const char *slash = strrchr(path, '/');
        filename = slash ? slash + 1 : path;
    }
    return hxc__form_add_part(f, HXC__PART_FILE, name, NULL, (uint64_t)st.st_size, path, filename,
                              content_type ? content_type : "application/octet-stream");
}

/* ---- a multipart body, streamed --------------------------------------------- */

struct hxc__form_upload {
    hxc_form *form; /* a reference; never changed once a request has it */
    hxc__form_cursor cur;
    int fd;       /* the file part being sent, or -1 */
    char *detail; /* why the upload failed, or NULL */
};

hxc__form_upload *hxc__form_upload_new(hxc_form *f)
{
    hxc__form_upload *u = hxc__calloc(1, sizeof(*u));
    if (u == NULL)
        return NULL;
    u->form = f;
    f->refs++;
    u->fd = -1;
    hxc__form_cursor_init(&u->cur, f);
    return u;
}

hxc__form_upload *hxc__form_upload_dup(const hxc__form_upload *u)
{
    return hxc__form_upload_new(u->form);
}

void hxc__form_upload_close(hxc__form_upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}

void hxc__form_upload_rewind(hxc__form_upload *u)
{
    hxc__form_upload_close(u);
    hxc__free(u->detail);
    u->detail = NULL;
    hxc__form_cursor_init(&u->cur, u->form);
}

void hxc__form_upload_free(hxc__form_upload *u)
{
    if (u == NULL)
        return;
    hxc__form_upload_close(u);
    hxc__free(u->detail);
    hxc__form_unref(u->form);
    hxc__free(u);
}

const char *hxc__form_upload_detail(const hxc__form_upload *u) { return u->detail; }

/* Ends the upload: the file is closed, and the detail names it. */
static int fail(hxc__form_upload *u, const char *fmt, ...)
{
    hxc__form_upload_close(u);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    hxc__free(u->detail);
    u->detail = n >= 0 ? hxc__malloc((size_t)n + 1) : NULL;
    if (u->detail != NULL) {
        va_start(ap, fmt);
        vsnprintf(u->detail, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return HXC_EINVAL;
}

static int file_open(hxc__form_upload *u, const hxc__form_part *p)
{
    struct stat st;
    u->fd = open_file(p->path);
    if (u->fd < 0 || fstat(u->fd, &st) != 0)
        return fail(u, "cannot open form file '%s': %s", p->path, strerror(errno));
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != p->len)
        return fail(u, "form file '%s' changed before it was sent: %llu bytes when added, %llu now",
                    p->path, (unsigned long long)p->len, (unsigned long long)st.st_size);
    return 0;
}

/* All of the part's bytes were read: one that grew (or shrank behind what
 * was read) did not send what it holds now, so that is an error too. */
static int file_done(hxc__form_upload *u, const hxc__form_part *p)
{
    struct stat st;
    if (fstat(u->fd, &st) != 0)
        return fail(u, "cannot read form file '%s': %s", p->path, strerror(errno));
    if ((uint64_t)st.st_size != p->len)
        return fail(u, "form file '%s' changed while it was sent: %llu bytes when added, %llu now",
                    p->path, (unsigned long long)p->len, (unsigned long long)st.st_size);
    hxc__form_upload_close(u);
    return 0;
}

int hxc__form_produce(hxc_request *req, uint8_t *buf, size_t len, size_t *written, int *eof,
                      void *ud)
{
    (void)req;
    hxc__form_upload *u = ud;
    const hxc_form *f = u->form;
    size_t w = 0, part;
    uint64_t left;
    int rv = 0;
    for (;;) {
        w += hxc__form_emit(&u->cur, f, buf + w, len - w);
        if (!hxc__form_at_file(&u->cur, f, &part, &left) || (w == len && left > 0))
            break; /* the end, or the buffer is full */
        const hxc__form_part *p = &f->parts[part];
        if (u->fd < 0 && (rv = file_open(u, p)) != 0)
            break;
        if (left == 0) {
            if ((rv = file_done(u, p)) != 0)
                break;
            hxc__form_file_end(&u->cur, f);
            continue;
        }
        size_t want = left < len - w ? (size_t)left : len - w;
        ssize_t n = read(u->fd, buf + w, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rv = fail(u, "cannot read form file '%s': %s", p->path, strerror(errno));
            break;
        }
        if (n == 0) {
            rv = fail(
                u,
                "form file '%s' ended after %llu of its %llu bytes: it changed while it was sent",
                p->path, (unsigned long long)(p->len - left), (unsigned long long)p->len);
            break;
        }
        w += (size_t)n;
        hxc__form_file_advance(&u->cur, (uint64_t)n);
    }
    *written = rv == 0 ? w : 0;
    *eof = rv == 0 && hxc__form_done(&u->cur);
    return rv;
}
