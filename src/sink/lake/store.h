/*
 * store.h - where the lake sink keeps its tables: a small object-store
 * interface with one implementation per kind of root (a local directory,
 * S3-compatible storage).
 *
 * Keys are '/'-separated paths relative to the root. Every write is durable
 * when it returns (fsynced, or acknowledged by the object store), because
 * the sink acknowledges changes on the strength of it. put_if_absent is the
 * one atomic primitive Delta commits need: of two writers creating the same
 * key, exactly one succeeds.
 *
 * A store is used by one thread at a time.
 */
#ifndef PGCDC_SINK_LAKE_STORE_H
#define PGCDC_SINK_LAKE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/s3.h"
#include "core/config.h"

typedef struct pgcdc_lake_store pgcdc_lake_store;
typedef struct pgcdc_lake_upload pgcdc_lake_upload;

/* Called once per key found by list, in no particular order; a non-zero
 * return stops the listing and is returned by it. */
typedef int (*pgcdc_lake_list_fn)(void *ctx, const char *key, int64_t size, int64_t mtime_ms);

typedef struct pgcdc_lake_store_type {
    const char *name;
    /* Creates key (and its parent "directories") with data, replacing it. */
    int (*put)(pgcdc_lake_store *s, const char *key, const void *data, size_t len, char *errstr,
               size_t errstr_size);
    /* Creates key only if it does not exist: 0 created, 1 existed, -1 error. */
    int (*put_if_absent)(pgcdc_lake_store *s, const char *key, const void *data, size_t len,
                         char *errstr, size_t errstr_size);
    /* Reads key into out (appended): 0, 1 when absent, -1 error. */
    int (*get)(pgcdc_lake_store *s, const char *key, pgcdc_buf *out, char *errstr,
               size_t errstr_size);
    /* Lists the keys under prefix (recursively). */
    int (*list)(pgcdc_lake_store *s, const char *prefix, pgcdc_lake_list_fn fn, void *ctx,
                char *errstr, size_t errstr_size);
    /* Deletes key; absent is not an error. */
    int (*remove)(pgcdc_lake_store *s, const char *key, char *errstr, size_t errstr_size);
    /* Streams a large object: begin, write in pieces, finish makes it
     * durable and visible under key; abort leaves nothing behind. finish
     * and abort always free the upload (a failed finish also aborts). */
    int (*upload_begin)(pgcdc_lake_store *s, const char *key, pgcdc_lake_upload **up, char *errstr,
                        size_t errstr_size);
    int (*upload_write)(pgcdc_lake_upload *up, const void *data, size_t len, char *errstr,
                        size_t errstr_size);
    int (*upload_finish)(pgcdc_lake_upload *up, char *errstr, size_t errstr_size);
    void (*upload_abort)(pgcdc_lake_upload *up);
    /* Opens key for reading: *fd (the caller closes it) and its size; 1
     * when absent. An object store downloads it to an unlinked spool file. */
    int (*open_read)(pgcdc_lake_store *s, const char *key, int *fd, uint64_t *size, char *errstr,
                     size_t errstr_size);
    void (*close)(pgcdc_lake_store *s);
} pgcdc_lake_store_type;

/* Every store starts with this header. */
struct pgcdc_lake_store {
    const pgcdc_lake_store_type *type;
    char *root; /* as configured, for messages */
};

/*
 * Opens a store on a local directory (created if missing). Returns NULL
 * with errstr when it cannot be created or written.
 */
pgcdc_lake_store *pgcdc_lake_store_local_open(const char *dir, char *errstr, size_t errstr_size);

/*
 * Opens a store on S3-compatible storage; root is the s3:// URL, for
 * messages. Uploads are spooled to unlinked files in spool_dir. Returns NULL
 * with errstr on a bad configuration (nothing is contacted yet).
 */
pgcdc_lake_store *pgcdc_lake_store_s3_open(const pgcdc_s3_config *cfg, const char *root,
                                           const char *spool_dir, char *errstr, size_t errstr_size);

/*
 * Deletes every key under prefix for which doomed(ctx, rel) is true, rel
 * being the key after the prefix: the whole listing is taken first, then
 * the keys are deleted, each logged with `why`. Returns 0, or -1 with
 * errstr.
 */
int pgcdc_lake_store_remove_if(pgcdc_lake_store *s, const char *prefix,
                               int (*doomed)(void *ctx, const char *rel), void *ctx,
                               const char *why, char *errstr, size_t errstr_size);

/* The store lake.root names (see store_open.c); NULL with errstr. */
pgcdc_lake_store *pgcdc_lake_store_open(const pgcdc_config *cfg, char *errstr, size_t errstr_size);

#endif
