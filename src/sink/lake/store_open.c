/*
 * store_open.c - the lake store a configuration names: lake.root is a
 * local directory or an s3:// URL (with the lake.s3.* keys and the AWS_*
 * environment variables).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
