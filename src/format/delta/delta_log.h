/*
 * delta_log.h - the Delta Lake transaction log: writing commits and reading
 * a table's state back from them.
 *
 * A Delta table is a directory of Parquet files plus _delta_log/, where
 * commit N is the file %020d.json holding one JSON action per line
 * (protocol, metaData, add, remove, txn, commitInfo). Writers create commit
 * N+1 only if it does not exist yet (put-if-absent), which is what makes a
 * commit atomic; this module only produces and interprets the text, the
 * storage layer does the atomic create.
 *
 * pgcdc records its source position in `txn` actions (an application id and
 * a version that only grows), so that after a crash it can tell which of
 * its changes a table already holds and commit nothing twice.
 *
 * Everything here is single-threaded and allocation happens only while
 * reading a log back (state), never on the append path.
 */
#ifndef PGCDC_FORMAT_DELTA_LOG_H
#define PGCDC_FORMAT_DELTA_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* One column of a table's schema. type is a Delta primitive type as the
 * protocol spells it: "boolean", "byte", "short", "integer", "long",
 * "float", "double", "string", "binary", "date", "timestamp",
 * "timestamp_ntz" or "decimal(P,S)". */
typedef struct pgcdc_delta_field {
    const char *name;
    const char *type;
    int nullable;
} pgcdc_delta_field;

/* A key/value string pair (partition values, table configuration). */
typedef struct pgcdc_delta_kv {
    const char *key;
    const char *value; /* NULL: a null partition value */
} pgcdc_delta_kv;

/* A data file as add and remove actions describe it. path is relative to
 * the table root and not encoded (this module percent-encodes it). */
typedef struct pgcdc_delta_file {
    const char *path;
    const pgcdc_delta_kv *partition_values;
    size_t npartition_values;
    int64_t size;
} pgcdc_delta_file;

typedef struct pgcdc_delta_metadata {
    const char *id;            /* the table's UUID, fixed at creation */
    const char *name;          /* NULL: none */
    const char *schema_string; /* from pgcdc_delta_schema_string() */
    const char *const *partition_columns;
    size_t npartition_columns;
    const pgcdc_delta_kv *configuration;
    size_t nconfiguration;
    int64_t created_ms;
} pgcdc_delta_metadata;

/* Appends the StructType JSON of `fields` (the text that goes into
 * metaData.schemaString, not yet escaped as a JSON string). */
void pgcdc_delta_schema_string(pgcdc_buf *out, const pgcdc_delta_field *fields, size_t nfields);

/* True when a schema uses a type that needs a table feature: "timestamp_ntz"
 * needs protocol 3/7 with the timestampNtz feature. */
int pgcdc_delta_schema_needs_ntz(const pgcdc_delta_field *fields, size_t nfields);

/*
 * Action writers: each appends one action and its newline to a commit being
 * built in `b`. Strings are escaped here; none of them fails.
 */
void pgcdc_delta_put_protocol(pgcdc_buf *b, int timestamp_ntz);
void pgcdc_delta_put_metadata(pgcdc_buf *b, const pgcdc_delta_metadata *md);
/* stats_json: the add action's statistics object as JSON text
 * ({"numRecords":..,"minValues":..}), or NULL. */
void pgcdc_delta_put_add(pgcdc_buf *b, const pgcdc_delta_file *f, int64_t mtime_ms, int data_change,
                         const char *stats_json);
void pgcdc_delta_put_remove(pgcdc_buf *b, const pgcdc_delta_file *f, int64_t deletion_ms,
                            int data_change);
void pgcdc_delta_put_txn(pgcdc_buf *b, const char *app_id, int64_t version,
                         int64_t last_updated_ms);
/* operation: "WRITE", "MERGE", ...; read_version < 0 leaves it out. */
void pgcdc_delta_put_commit_info(pgcdc_buf *b, int64_t ts_ms, const char *operation,
                                 int64_t read_version, int blind_append);

/* A random (version 4) UUID, for table ids and file names. */
void pgcdc_delta_new_id(char out[37]);

/* Writes "_delta_log/%020lld.json" into out (at least 38 bytes). */
void pgcdc_delta_log_name(char *out, size_t out_size, int64_t version);
/* Parses a log entry name ("00000000000000000012.json", without the
 * directory) into its version; -1 if it is not a commit file. */
int64_t pgcdc_delta_log_version(const char *name);

/* Percent-decodes an add/remove path (malloc'd); NULL when malformed. */
char *pgcdc_delta_path_decode(const char *path);

/* ---- reading a table back ---- */

typedef struct pgcdc_delta_live_file {
    char *path;           /* decoded, relative to the table root */
    char *partition_json; /* partitionValues as JSON text */
    int64_t size;
} pgcdc_delta_live_file;

typedef struct pgcdc_delta_txn {
    char *app_id;
    int64_t version;
} pgcdc_delta_txn;

typedef struct pgcdc_delta_state {
    int64_t version; /* the last commit applied; -1: none */
    int min_reader_version, min_writer_version;
    char *table_id;
    char *schema_string;
    char *configuration; /* metaData.configuration as compact JSON, keys sorted */
    char **partition_columns;
    size_t npartition_columns;
    pgcdc_delta_txn *txns;
    size_t ntxns;
    /* files currently in the table: an open-addressing set keyed by path */
    pgcdc_delta_live_file *files;
    size_t files_cap, nfiles;
} pgcdc_delta_state;

void pgcdc_delta_state_init(pgcdc_delta_state *st);
void pgcdc_delta_state_free(pgcdc_delta_state *st);

/*
 * Applies commit `version` (its text, one JSON action per line) to st.
 * Versions must come in order without gaps. Fails with errstr on malformed
 * JSON, a version out of order, and on reader features pgcdc cannot honour
 * (deletion vectors, column mapping...), naming them: writing into such a
 * table would corrupt it for other readers.
 */
int pgcdc_delta_state_apply(pgcdc_delta_state *st, int64_t version, const char *text, size_t len,
                            char *errstr, size_t errstr_size);

/* The txn version recorded for app_id; -1 when there is none. */
int64_t pgcdc_delta_state_txn(const pgcdc_delta_state *st, const char *app_id);
/* The live file with this (decoded) path, or NULL. */
const pgcdc_delta_live_file *pgcdc_delta_state_file(const pgcdc_delta_state *st, const char *path);

#endif
