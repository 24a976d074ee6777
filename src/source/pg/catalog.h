/*
 * catalog.h - what pgcdc asks PostgreSQL's catalogs over an ordinary
 * (non-replication) connection: server facts, table keys and nullability,
 * non-builtin types, and the publication and slot it needs.
 *
 * All functions run on the source thread, return 0 or -1 with errstr, and
 * phrase errors as what is wrong plus how to fix it.
 */
#ifndef PGCDC_SOURCE_PG_CATALOG_H
#define PGCDC_SOURCE_PG_CATALOG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/event.h"
#include "core/filter.h"
#include "format/pgtypes.h"

typedef struct pgcdc_catalog {
    PGconn *conn;
    int server_version; /* e.g. 150004 */
    char *dbname;
    /* type lookup cache (small; enums/domains are few) */
    struct catalog_type *types;
    size_t ntypes, types_cap;
    char *last_name, *last_labels; /* storage behind the last lookup result */
} pgcdc_catalog;

/* Connects (ordinary connection), reads server_version. */
int pgcdc_catalog_connect(pgcdc_catalog *cat, const pgcdc_config *cfg, char *errstr,
                          size_t errstr_size);
void pgcdc_catalog_close(pgcdc_catalog *cat);

/* Errors unless wal_level = logical (names the setting and the fix). */
int pgcdc_catalog_check_wal_level(pgcdc_catalog *cat, char *errstr, size_t errstr_size);

/*
 * Fills nullability, the Debezium key (primary key; else the replica
 * identity index) and the DEFAULT facts (expression as pg_get_expr prints
 * it, type name, schema, enum-ness; see format/pgdefault.h) of an already
 * column-populated table, matching columns by name. When the table has no
 * such key, nkeys is 0. Reads the catalog as it is now: a Relation message
 * (sent again after ALTER TABLE ... SET DEFAULT) refreshes them.
 */
int pgcdc_catalog_table_info(pgcdc_catalog *cat, pgcdc_table *table, char *errstr,
                             size_t errstr_size);

/* pgcdc_type_lookup_fn for pgcdc_coltype_resolve (ctx = pgcdc_catalog *). */
int pgcdc_catalog_type_lookup(void *ctx, uint32_t oid, pgcdc_type_info *info);

/*
 * Creates the publication if it is missing, according to
 * publication.autocreate.mode: all_tables -> FOR ALL TABLES; filtered -> FOR
 * TABLE <every table passing the filters> (and re-sets an existing one to
 * that list); disabled -> it must exist; no_tables -> an empty publication.
 */
int pgcdc_catalog_ensure_publication(pgcdc_catalog *cat, const pgcdc_config *cfg,
                                     const pgcdc_filter *filter, char *errstr, size_t errstr_size);

typedef struct pgcdc_slot_info {
    int exists;
    int active;
    int active_pid;
    char plugin[64];
    char database[128];
    uint64_t confirmed_flush_lsn;
    uint64_t restart_lsn;
    char wal_status[32];
    int64_t lag_bytes; /* current WAL position - confirmed flush; -1 unknown (standby) */
    int failover;      /* pg_replication_slots.failover (17+); -1 before 17 */
} pgcdc_slot_info;

/* Reads pg_replication_slots for `slot`; exists = 0 when there is none. */
int pgcdc_catalog_slot_info(pgcdc_catalog *cat, const char *slot, pgcdc_slot_info *info,
                            char *errstr, size_t errstr_size);

/* Lists the captured tables (filters applied) as "schema.table" lines into
 * out, and those without a primary key or usable replica identity into
 * warnings. Used by `pgcdc check`. */
int pgcdc_catalog_describe_capture(pgcdc_catalog *cat, const pgcdc_filter *filter, pgcdc_buf *out,
                                   pgcdc_buf *warnings, int *ncaptured, char *errstr,
                                   size_t errstr_size);

/* Formats "<what>: <libpq message>" into errstr: res's error when given, else
 * conn's, without libpq's trailing newline. */
void pgcdc_catalog_pq_error(char *errstr, size_t errstr_size, const char *what, PGconn *conn,
                            const PGresult *res);

/* Runs a query returning one text value (NULL on SQL NULL); returns -1 on
 * error. The result string is malloc'd. */
int pgcdc_catalog_query_value(pgcdc_catalog *cat, const char *sql, char **value, char *errstr,
                              size_t errstr_size);

#endif
