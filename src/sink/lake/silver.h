/*
 * silver.h - silver tables: the current state of each captured table,
 * compacted from its bronze change log.
 *
 * <root>/silver/<topic>/ is a Delta table with one row per primary key (the
 * bronze table's pgcdc.key.columns): the row's columns as its latest change
 * left them, plus _commit_lsn, _lsn and _commit_ts of that change. Deleted
 * rows are gone; a truncate empties it. Its rows are spread over hash
 * buckets of the key, one Parquet file per bucket, so a compaction rewrites
 * only the buckets its changes touch.
 *
 * A compaction applies the bronze commits made since the one the silver
 * table records (txn appId "pgcdc.bronze"), in one Delta commit that
 * replaces the touched buckets' files. Memory holds the changes of one
 * bucket at a time (split further when they exceed the budget) while the
 * bucket's current rows stream through, so tables larger than memory
 * compact. A crash leaves the silver table at its last commit (new files
 * that never made it into a commit are removed by the next compaction);
 * bronze is never changed.
 */
#ifndef PGCDC_SINK_LAKE_SILVER_H
#define PGCDC_SINK_LAKE_SILVER_H

#include <stddef.h>
#include <stdint.h>

#include "format/parquet/parquet.h"
#include "sink/lake/store.h"

typedef struct pgcdc_silver_opts {
    int buckets;           /* buckets of a new silver table */
    size_t memory_bytes;   /* changes of one bucket held at once */
    pgcdc_pq_codec codec;  /* of the files written */
    const char *spool_dir; /* local scratch for the changes sorted by bucket */
} pgcdc_silver_opts;

typedef struct pgcdc_silver_stats {
    int64_t bronze_version; /* the bronze version silver now reflects; -1: no bronze yet */
    int64_t changes;        /* bronze rows applied */
    int64_t rows;           /* rows in the buckets rewritten */
    int buckets_rewritten;
} pgcdc_silver_stats;

/* The Parquet codec lake.parquet.compression names. */
pgcdc_pq_codec pgcdc_lake_codec(const pgcdc_config *cfg);

/* The file name ending of Parquet files in codec c (".snappy.parquet"). */
const char *pgcdc_lake_parquet_ext(pgcdc_pq_codec c);

/* Compaction options from the lake.* keys (spill files in data.dir). */
void pgcdc_silver_opts_from_config(pgcdc_silver_opts *opts, const pgcdc_config *cfg);

/*
 * Brings silver/<topic> up to date with bronze/<topic> on store. Returns 0
 * (with *stats), or -1 with errstr naming the table. Uses the store from
 * the calling thread only.
 */
int pgcdc_silver_compact(pgcdc_lake_store *store, const char *topic, const pgcdc_silver_opts *opts,
                         pgcdc_silver_stats *stats, char *errstr, size_t errstr_size);

/* Calls fn for every topic with a bronze table under the store's root. */
int pgcdc_silver_topics(pgcdc_lake_store *store, int (*fn)(void *ctx, const char *topic), void *ctx,
                        char *errstr, size_t errstr_size);

/* Compacts every bronze table of the store, logging each result; one
 * table failing does not stop the others. -1 with the first error. */
int pgcdc_silver_compact_all(pgcdc_lake_store *store, const pgcdc_silver_opts *opts, char *errstr,
                             size_t errstr_size);

#endif
