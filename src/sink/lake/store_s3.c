/*
 * store_s3.c - the lake store on S3-compatible object storage, through the
 * S3 client (src/common/s3.h).
 *
 * Objects map to keys under the root's prefix. put_if_absent is a PUT with
 * If-None-Match: *, which S3 and MinIO answer with 412 when the key exists:
 * the atomic create Delta commits need. Uploads are written to an unlinked
 * temporary file in the spool directory first and sent when finished (one
 * PUT, or a multipart upload for large files), so a file of any size costs
 * no memory and an upload that never finishes leaves nothing in the bucket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/s3.h"
#include "sink/lake/store.h"

#define GET_MAX (256u << 20) /* Delta commit files are small; bound what one GET may hold */

typedef struct s3_store {
    pgcdc_lake_store base;
    pgcdc_s3_client *client;
    char *spool_dir;
} s3_store;

struct pgcdc_lake_upload {
    s3_store *store;
    int fd;
    uint64_t len;
    char *key;
};

static int s3_put(pgcdc_lake_store *st, const char *key, const void *data, size_t len, char *errstr,
                  size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    return pgcdc_s3_put(s->client, key, data, len, 0, errstr, errstr_size) == PGCDC_S3_OK ? 0 : -1;
}

static int s3_put_if_absent(pgcdc_lake_store *st, const char *key, const void *data, size_t len,
                            char *errstr, size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    int rc = pgcdc_s3_put(s->client, key, data, len, PGCDC_S3_IF_NONE_MATCH, errstr, errstr_size);
    return rc == PGCDC_S3_OK ? 0 : rc == PGCDC_S3_EXISTS ? 1 : -1;
}

static int s3_get(pgcdc_lake_store *st, const char *key, pgcdc_buf *out, char *errstr,
                  size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    pgcdc_buf tmp = PGCDC_BUF_INIT;
    int rc = pgcdc_s3_get(s->client, key, &tmp, GET_MAX, errstr, errstr_size);
    if (rc == PGCDC_S3_OK)
        pgcdc_buf_append(out, tmp.data ? tmp.data : "", tmp.len);
    pgcdc_buf_free(&tmp);
    return rc == PGCDC_S3_OK ? 0 : rc == PGCDC_S3_NOT_FOUND ? 1 : -1;
}

typedef struct list_ctx {
    pgcdc_lake_list_fn fn;
    void *ctx;
} list_ctx;

static int list_cb(void *ctx, const pgcdc_s3_object *obj)
{
    list_ctx *lc = ctx;
    return lc->fn(lc->ctx, obj->key, (int64_t)obj->size, 0);
}

static int s3_list(pgcdc_lake_store *st, const char *prefix, pgcdc_lake_list_fn fn, void *ctx,
                   char *errstr, size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    list_ctx lc = {fn, ctx};
    int rc = pgcdc_s3_list(s->client, prefix, list_cb, &lc, errstr, errstr_size);
    return rc == PGCDC_S3_ERR ? -1 : rc;
}

static int s3_remove(pgcdc_lake_store *st, const char *key, char *errstr, size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    return pgcdc_s3_delete(s->client, key, errstr, errstr_size) == PGCDC_S3_OK ? 0 : -1;
}

static int s3_upload_begin(pgcdc_lake_store *st, const char *key, pgcdc_lake_upload **out,
                           char *errstr, size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    pgcdc_lake_upload *up = calloc(1, sizeof(*up));
    size_t n = strlen(s->spool_dir) + 32;
    char *path = malloc(n);
    if (!up || !path || !(up->key = strdup(key))) {
        if (up)
            free(up->key);
        free(up);
        free(path);
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    snprintf(path, n, "%s/.lake-upload-XXXXXX", s->spool_dir);
    up->fd = mkstemp(path);
    if (up->fd < 0) {
        snprintf(errstr, errstr_size, "lake: cannot create a spool file in %s: %s", s->spool_dir,
                 strerror(errno));
        free(up->key);
        free(up);
        free(path);
        return -1;
    }
    unlink(path); /* nothing is left behind, whatever happens */
    free(path);
    up->store = s;
    *out = up;
    return 0;
}

static int s3_upload_write(pgcdc_lake_upload *up, const void *data, size_t len, char *errstr,
                           size_t errstr_size)
{
    if (pgcdc_write_all(up->fd, data, len) != 0) {
        snprintf(errstr, errstr_size, "lake: spooling %s: %s", up->key, strerror(errno));
        return -1;
    }
    up->len += len;
    return 0;
}

static void s3_upload_abort(pgcdc_lake_upload *up)
{
    close(up->fd);
    free(up->key);
    free(up);
}

static int s3_upload_finish(pgcdc_lake_upload *up, char *errstr, size_t errstr_size)
{
    int rc = pgcdc_s3_put_file(up->store->client, up->key, up->fd, up->len, errstr, errstr_size) ==
                     PGCDC_S3_OK
                 ? 0
                 : -1;
    s3_upload_abort(up);
    return rc;
}

/* Objects are downloaded into an unlinked spool file: any size, no memory. */
static int s3_open_read(pgcdc_lake_store *st, const char *key, int *fd, uint64_t *size,
                        char *errstr, size_t errstr_size)
{
    s3_store *s = (s3_store *)st;
    size_t n = strlen(s->spool_dir) + 32;
    char *path = malloc(n);
    *fd = -1;
    if (path) {
        snprintf(path, n, "%s/.lake-read-XXXXXX", s->spool_dir);
        *fd = mkstemp(path);
        if (*fd >= 0)
            unlink(path);
    }
    free(path);
    if (*fd < 0) {
        snprintf(errstr, errstr_size, "lake: cannot create a spool file in %s: %s", s->spool_dir,
                 strerror(errno));
        return -1;
    }
    int rc = pgcdc_s3_get_fd(s->client, key, *fd, size, errstr, errstr_size);
    if (rc != PGCDC_S3_OK) {
        close(*fd);
        *fd = -1;
        return rc == PGCDC_S3_NOT_FOUND ? 1 : -1;
    }
    return 0;
}

static void s3_close(pgcdc_lake_store *st)
{
    s3_store *s = (s3_store *)st;
    if (!s)
        return;
    pgcdc_s3_client_free(s->client);
    free(s->spool_dir);
    free(s->base.root);
    free(s);
}

static const pgcdc_lake_store_type s3_type = {
    .name = "s3",
    .put = s3_put,
    .put_if_absent = s3_put_if_absent,
    .get = s3_get,
    .list = s3_list,
    .remove = s3_remove,
    .upload_begin = s3_upload_begin,
    .upload_write = s3_upload_write,
    .upload_finish = s3_upload_finish,
    .upload_abort = s3_upload_abort,
    .open_read = s3_open_read,
    .close = s3_close,
};

pgcdc_lake_store *pgcdc_lake_store_s3_open(const pgcdc_s3_config *cfg, const char *root,
                                           const char *spool_dir, char *errstr, size_t errstr_size)
{
    s3_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->base.root = strdup(root)) || !(s->spool_dir = strdup(spool_dir))) {
        if (s) {
            free(s->base.root);
            free(s);
        }
        snprintf(errstr, errstr_size, "lake: out of memory");
        return NULL;
    }
    s->base.type = &s3_type;
    s->client = pgcdc_s3_client_new(cfg, errstr, errstr_size);
    if (!s->client) {
        s3_close(&s->base);
        return NULL;
    }
    return &s->base;
}
