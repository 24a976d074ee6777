/*
 * store_open.c - the lake store a configuration names (lake.root is a
 * local directory or an s3:// URL, with the lake.s3.* keys and the AWS_*
 * environment variables), and what the stores share above their vtable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/s3.h"
#include "sink/lake/store.h"

pgcdc_lake_store *pgcdc_lake_store_open(const pgcdc_config *cfg, char *errstr, size_t errstr_size)
{
    if (!cfg->lake_root || !*cfg->lake_root) {
        snprintf(errstr, errstr_size, "lake: lake.root is not set");
        return NULL;
    }
    if (!pgcdc_s3_is_url(cfg->lake_root))
        return pgcdc_lake_store_local_open(cfg->lake_root, errstr, errstr_size);
    char *bucket = NULL, *prefix = NULL;
    if (pgcdc_s3_url_parse(cfg->lake_root, "lake.root", &bucket, &prefix, errstr, errstr_size) != 0)
        return NULL;
    static const pgcdc_s3_style styles[] = {PGCDC_S3_STYLE_AUTO, PGCDC_S3_STYLE_PATH,
                                            PGCDC_S3_STYLE_VHOST};
    pgcdc_s3_config s3 = {
        .endpoint = cfg->lake_s3_endpoint,
        .region = cfg->lake_s3_region,
        .bucket = bucket,
        .prefix = prefix,
        .style = styles[cfg->lake_s3_path_style],
        .access_key = cfg->lake_s3_access_key,
        .secret_key = cfg->lake_s3_secret_key,
        .session_token = cfg->lake_s3_session_token,
        .credential_source = "lake.s3.access.key.id/lake.s3.secret.access.key",
        .endpoint_key = "lake.s3.endpoint",
        .bucket_key = "lake.root",
    };
    if (!s3.access_key || !*s3.access_key)
        s3.access_key = s3.secret_key = NULL; /* a pair, from the environment */
    pgcdc_s3_config_from_env(&s3);
    pgcdc_lake_store *st = pgcdc_lake_store_s3_open(
        &s3, cfg->lake_root, cfg->data_dir ? cfg->data_dir : "/tmp", errstr, errstr_size);
    free(bucket);
    free(prefix);
    return st;
}

typedef struct doomed_keys {
    size_t prefix_len;
    int (*doomed)(void *ctx, const char *rel);
    void *ctx;
    char **keys;
    size_t n, cap;
} doomed_keys;

static int collect_doomed(void *ctx, const char *key, int64_t size, int64_t mtime_ms)
{
    (void)size;
    (void)mtime_ms;
    doomed_keys *d = ctx;
    if (!d->doomed(d->ctx, key + d->prefix_len))
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **n = realloc(d->keys, cap * sizeof(*n));
        if (!n)
            return 1; /* stops the listing: out of memory */
        d->keys = n;
        d->cap = cap;
    }
    d->keys[d->n] = strdup(key);
    return d->keys[d->n++] ? 0 : 1;
}

int pgcdc_lake_store_remove_if(pgcdc_lake_store *s, const char *prefix,
                               int (*doomed)(void *ctx, const char *rel), void *ctx,
                               const char *why, char *errstr, size_t errstr_size)
{
    doomed_keys d = {strlen(prefix), doomed, ctx, NULL, 0, 0};
    int rc = s->type->list(s, prefix, collect_doomed, &d, errstr, errstr_size);
    if (rc > 0)
        snprintf(errstr, errstr_size, "lake: out of memory");
    for (size_t i = 0; i < d.n; i++) {
        if (rc == 0) {
            pgcdc_log_info("lake", "removing %s/%s: %s", s->root, d.keys[i], why);
            rc = s->type->remove(s, d.keys[i], errstr, errstr_size);
        }
        free(d.keys[i]);
    }
    free(d.keys);
    return rc == 0 ? 0 : -1;
}
