/*
 * catalog.c - catalog queries over an ordinary connection (see catalog.h).
 */
#include "source/pg/catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/offsets.h"

struct catalog_type {
    uint32_t oid;
    char typtype;
    uint32_t elem_oid;
    uint32_t base_oid;
    int32_t base_typmod;
    char *name;
    char *labels;
};

void pgcdc_catalog_pq_error(char *errstr, size_t errstr_size, const char *what, PGconn *conn,
                            const PGresult *res)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    char clean[512];
    snprintf(clean, sizeof(clean), "%s", msg ? msg : "");
    size_t l = strlen(clean);
    while (l && (clean[l - 1] == '\n' || clean[l - 1] == ' '))
        clean[--l] = 0;
    snprintf(errstr, errstr_size, "%s: %s", what, clean);
}

int pgcdc_catalog_connect(pgcdc_catalog *cat, const pgcdc_config *cfg, char *errstr,
                          size_t errstr_size)
{
    memset(cat, 0, sizeof(*cat));
    pgcdc_buf ci = PGCDC_BUF_INIT, who = PGCDC_BUF_INIT;
    pgcdc_config_conninfo(cfg, 0, &ci);
    pgcdc_config_describe_conn(cfg, &who);
    cat->conn = PQconnectdb(ci.data);
    pgcdc_buf_free(&ci);
    if (PQstatus(cat->conn) != CONNECTION_OK) {
        char what[300];
        snprintf(what, sizeof(what),
                 "cannot connect to PostgreSQL at %s (check database.hostname, database.port, "
                 "database.user, database.password)",
                 who.data);
        pgcdc_catalog_pq_error(errstr, errstr_size, what, cat->conn, NULL);
        pgcdc_buf_free(&who);
        PQfinish(cat->conn);
        cat->conn = NULL;
        return -1;
    }
    pgcdc_buf_free(&who);
    cat->server_version = PQserverVersion(cat->conn);
    cat->dbname = strdup(PQdb(cat->conn));
    /* stable text formats for anything we read back */
    PGresult *res = PQexec(cat->conn, "SET search_path = pg_catalog; SET DateStyle = ISO");
    PQclear(res);
    return 0;
}

void pgcdc_catalog_close(pgcdc_catalog *cat)
{
    if (cat->conn)
        PQfinish(cat->conn);
    for (size_t i = 0; i < cat->ntypes; i++) {
        free(cat->types[i].name);
        free(cat->types[i].labels);
    }
    free(cat->types);
    free(cat->dbname);
    memset(cat, 0, sizeof(*cat));
}

int pgcdc_catalog_query_value(pgcdc_catalog *cat, const char *sql, char **value, char *errstr,
                              size_t errstr_size)
{
    *value = NULL;
    PGresult *res = PQexec(cat->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size, sql, cat->conn, res);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        *value = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

int pgcdc_catalog_check_wal_level(pgcdc_catalog *cat, char *errstr, size_t errstr_size)
{
    char *level = NULL;
    if (pgcdc_catalog_query_value(cat, "SHOW wal_level", &level, errstr, errstr_size) != 0)
        return -1;
    int ok = level && !strcmp(level, "logical");
    if (!ok)
        snprintf(errstr, errstr_size,
                 "PostgreSQL has wal_level = '%s'; logical decoding needs wal_level = logical. "
                 "Run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL",
                 level ? level : "?");
    free(level);
    return ok ? 0 : -1;
}

/* Copies a column's DEFAULT expression and type facts from row r of the
 * query below (columns 3-6). Returns 0 or -1 when out of memory. */
static int set_default_src(pgcdc_column *c, const PGresult *res, int r)
{
    free(c->default_expr);
    free(c->type_name);
    free(c->type_nsp);
    c->default_expr = c->type_name = c->type_nsp = NULL;
    c->type_is_enum = PQgetvalue(res, r, 6)[0] == 't';
    if (PQgetisnull(res, r, 3))
        return 0;
    c->default_expr = strdup(PQgetvalue(res, r, 3));
    c->type_name = strdup(PQgetvalue(res, r, 4));
    c->type_nsp = strdup(PQgetvalue(res, r, 5));
    return c->default_expr && c->type_name && c->type_nsp ? 0 : -1;
}

int pgcdc_catalog_table_info(pgcdc_catalog *cat, pgcdc_table *table, char *errstr,
                             size_t errstr_size)
{
    char relid[16];
    snprintf(relid, sizeof(relid), "%u", table->relid);
    const char *params[1] = {relid};
    PGresult *res =
        PQexecParams(cat->conn,
                     "SELECT a.attname, a.attnotnull, "
                     "       coalesce(array_position(pk.indkey::int2[], a.attnum) "
                     "                - array_lower(pk.indkey::int2[], 1) + 1, 0), "
                     "       pg_get_expr(d.adbin, d.adrelid), t.typname, n.nspname, "
                     "       t.typtype = 'e' "
                     "FROM pg_attribute a "
                     "JOIN pg_type t ON t.oid = a.atttypid "
                     "JOIN pg_namespace n ON n.oid = t.typnamespace "
                     "LEFT JOIN pg_index pk ON pk.indrelid = a.attrelid AND pk.indisprimary "
                     "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                     "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped",
                     1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size, "reading table columns", cat->conn, res);
        PQclear(res);
        return -1;
    }
    table->nkeys = 0;
    for (int i = 0; i < table->ncols; i++) {
        pgcdc_column *c = &table->cols[i];
        c->optional = 1;
        c->is_key = 0;
        for (int r = 0; r < PQntuples(res); r++) {
            if (strcmp(PQgetvalue(res, r, 0), c->name) != 0)
                continue;
            c->optional = PQgetvalue(res, r, 1)[0] != 't';
            c->is_key = atoi(PQgetvalue(res, r, 2)); /* the primary key's order */
            if (set_default_src(c, res, r) != 0) {
                snprintf(errstr, errstr_size, "catalog: out of memory");
                PQclear(res);
                return -1;
            }
            break;
        }
        table->nkeys += c->is_key > 0;
    }
    PQclear(res);
    return 0;
}

int pgcdc_catalog_type_lookup(void *ctx, uint32_t oid, pgcdc_type_info *info)
{
    pgcdc_catalog *cat = ctx;
    struct catalog_type *t = NULL;
    for (size_t i = 0; i < cat->ntypes; i++)
        if (cat->types[i].oid == oid)
            t = &cat->types[i];
    if (!t) {
        char soid[16];
        snprintf(soid, sizeof(soid), "%u", oid);
        const char *params[1] = {soid};
        PGresult *res = PQexecParams(
            cat->conn,
            "SELECT t.typtype, CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE 0 END, "
            "       t.typbasetype, t.typtypmod, t.typname, "
            "       (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) "
            "          FROM pg_enum e WHERE e.enumtypid = t.oid) "
            "FROM pg_type t WHERE t.oid = $1::oid",
            1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            pgcdc_log_warn("catalog", "type %u not found: %s", oid, PQresultErrorMessage(res));
            PQclear(res);
            return -1;
        }
        if (cat->ntypes == cat->types_cap) {
            size_t cap = cat->types_cap ? cat->types_cap * 2 : 16;
            struct catalog_type *n = realloc(cat->types, cap * sizeof(*n));
            if (!n) {
                PQclear(res);
                return -1;
            }
            cat->types = n;
            cat->types_cap = cap;
        }
        t = &cat->types[cat->ntypes++];
        t->oid = oid;
        t->typtype = PQgetvalue(res, 0, 0)[0];
        t->elem_oid = (uint32_t)strtoul(PQgetvalue(res, 0, 1), NULL, 10);
        t->base_oid = (uint32_t)strtoul(PQgetvalue(res, 0, 2), NULL, 10);
        t->base_typmod = (int32_t)strtol(PQgetvalue(res, 0, 3), NULL, 10);
        t->name = strdup(PQgetvalue(res, 0, 4));
        t->labels = PQgetisnull(res, 0, 5) ? NULL : strdup(PQgetvalue(res, 0, 5));
        PQclear(res);
    }
    memset(info, 0, sizeof(*info));
    info->oid = t->oid;
    info->typtype = t->typtype;
    info->elem_oid = t->elem_oid;
    info->base_oid = t->base_oid;
    info->base_typmod = t->base_typmod;
    info->name = t->name;
    info->enum_labels = t->labels;
    return 0;
}

/* Ordinary and partitioned user tables (partitions are published through
 * their parent): schema, name, replica identity, has a primary key. */
static PGresult *user_tables(pgcdc_catalog *cat, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(
        cat->conn, "SELECT n.nspname, c.relname, c.relreplident, "
                   "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) "
                   "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
                   "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                   "AND n.nspname !~ '^pg_' ORDER BY 1, 2");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size, "listing tables", cat->conn, res);
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Every ordinary/partitioned user table passing the filters, as a quoted
 * comma-separated list for CREATE/ALTER PUBLICATION. */
static int filtered_tables(pgcdc_catalog *cat, const pgcdc_filter *filter, const char *signal,
                           pgcdc_buf *list, int *count, char *errstr, size_t errstr_size)
{
    PGresult *res = user_tables(cat, errstr, errstr_size);
    if (!res)
        return -1;
    *count = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *s = PQgetvalue(res, r, 0), *t = PQgetvalue(res, r, 1);
        /* the signal table must be published for signals to arrive */
        size_t sl = strlen(s);
        int is_signal =
            signal && !strncmp(signal, s, sl) && signal[sl] == '.' && !strcmp(signal + sl + 1, t);
        if (!is_signal && !pgcdc_filter_table(filter, s, t))
            continue;
        char *qs = PQescapeIdentifier(cat->conn, s, strlen(s));
        char *qt = PQescapeIdentifier(cat->conn, t, strlen(t));
        if (*count)
            PGCDC_BUF_LIT(list, ", ");
        pgcdc_buf_printf(list, "%s.%s", qs, qt);
        PQfreemem(qs);
        PQfreemem(qt);
        (*count)++;
    }
    PQclear(res);
    return 0;
}

static int exec_command(pgcdc_catalog *cat, const char *sql, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(cat->conn, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        pgcdc_catalog_pq_error(errstr, errstr_size, sql, cat->conn, res);
    PQclear(res);
    return ok ? 0 : -1;
}

int pgcdc_catalog_ensure_publication(pgcdc_catalog *cat, const pgcdc_config *cfg,
                                     const pgcdc_filter *filter, char *errstr, size_t errstr_size)
{
    const char *params[1] = {cfg->publication_name};
    PGresult *res = PQexecParams(cat->conn,
                                 "SELECT puballtables FROM pg_publication "
                                 "WHERE pubname = $1",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size, "reading pg_publication", cat->conn, res);
        PQclear(res);
        return -1;
    }
    int exists = PQntuples(res) == 1;
    PQclear(res);
    char *qpub =
        PQescapeIdentifier(cat->conn, cfg->publication_name, strlen(cfg->publication_name));
    pgcdc_buf sql = PGCDC_BUF_INIT, list = PGCDC_BUF_INIT;
    int rc = -1, n = 0;
    switch (cfg->publication_mode) {
    case PGCDC_PUBLICATION_DISABLED:
        if (!exists) {
            snprintf(errstr, errstr_size,
                     "publication '%s' does not exist and publication.autocreate.mode = "
                     "disabled: create it (CREATE PUBLICATION %s FOR TABLE ...) or set "
                     "publication.autocreate.mode to all_tables or filtered",
                     cfg->publication_name, qpub);
            goto out;
        }
        break;
    case PGCDC_PUBLICATION_ALL_TABLES:
        if (!exists) {
            pgcdc_buf_printf(&sql, "CREATE PUBLICATION %s FOR ALL TABLES", qpub);
            if (exec_command(cat, sql.data, errstr, errstr_size) != 0)
                goto out;
            pgcdc_log_info("catalog", "created publication %s for all tables", qpub);
        }
        break;
    case PGCDC_PUBLICATION_NO_TABLES:
        if (!exists) {
            pgcdc_buf_printf(&sql, "CREATE PUBLICATION %s", qpub);
            if (exec_command(cat, sql.data, errstr, errstr_size) != 0)
                goto out;
        }
        break;
    case PGCDC_PUBLICATION_FILTERED:
        if (filtered_tables(cat, filter, cfg->signal_data_collection, &list, &n, errstr,
                            errstr_size) != 0)
            goto out;
        if (n == 0) {
            snprintf(errstr, errstr_size,
                     "publication.autocreate.mode = filtered but no table matches "
                     "table.include.list / schema.include.list: check the lists");
            goto out;
        }
        pgcdc_buf_printf(&sql,
                         exists ? "ALTER PUBLICATION %s SET TABLE %s"
                                : "CREATE PUBLICATION %s FOR TABLE %s",
                         qpub, list.data);
        if (exec_command(cat, sql.data, errstr, errstr_size) != 0)
            goto out;
        pgcdc_log_info("catalog", "publication %s covers %d table(s)", qpub, n);
        break;
    }
    rc = 0;
out:
    PQfreemem(qpub);
    pgcdc_buf_free(&sql);
    pgcdc_buf_free(&list);
    return rc;
}

int pgcdc_catalog_slot_info(pgcdc_catalog *cat, const char *slot, pgcdc_slot_info *info,
                            char *errstr, size_t errstr_size)
{
    memset(info, 0, sizeof(*info));
    info->lag_bytes = -1;
    info->failover = -1;
    const char *params[1] = {slot};
    pgcdc_buf sql = PGCDC_BUF_INIT;
    /* the view grew columns over the releases: ask only for what exists */
    pgcdc_buf_printf(
        &sql,
        "SELECT coalesce(plugin, ''), coalesce(database, ''), active, coalesce(active_pid, 0), "
        "coalesce(confirmed_flush_lsn::text, ''), coalesce(restart_lsn::text, ''), %s, "
        "CASE WHEN pg_is_in_recovery() THEN NULL ELSE "
        "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint END, %s "
        "FROM pg_replication_slots WHERE slot_name = $1",
        cat->server_version >= 130000 ? "coalesce(wal_status, '')" : "''",
        cat->server_version >= 170000 ? "failover" : "NULL::bool");
    PGresult *res = PQexecParams(cat->conn, sql.data, 1, NULL, params, NULL, NULL, 0);
    pgcdc_buf_free(&sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        pgcdc_catalog_pq_error(errstr, errstr_size, "reading pg_replication_slots", cat->conn, res);
        PQclear(res);
        return -1;
    }
    if (PQntuples(res) == 1) {
        info->exists = 1;
        snprintf(info->plugin, sizeof(info->plugin), "%s", PQgetvalue(res, 0, 0));
        snprintf(info->database, sizeof(info->database), "%s", PQgetvalue(res, 0, 1));
        info->active = PQgetvalue(res, 0, 2)[0] == 't';
        info->active_pid = atoi(PQgetvalue(res, 0, 3));
        pgcdc_lsn_parse(PQgetvalue(res, 0, 4), &info->confirmed_flush_lsn);
        pgcdc_lsn_parse(PQgetvalue(res, 0, 5), &info->restart_lsn);
        snprintf(info->wal_status, sizeof(info->wal_status), "%s", PQgetvalue(res, 0, 6));
        if (!PQgetisnull(res, 0, 7))
            info->lag_bytes = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
        if (!PQgetisnull(res, 0, 8))
            info->failover = PQgetvalue(res, 0, 8)[0] == 't';
    }
    PQclear(res);
    return 0;
}

int pgcdc_catalog_describe_capture(pgcdc_catalog *cat, const pgcdc_filter *filter, pgcdc_buf *out,
                                   pgcdc_buf *warnings, int *ncaptured, char *errstr,
                                   size_t errstr_size)
{
    PGresult *res = user_tables(cat, errstr, errstr_size);
    if (!res)
        return -1;
    *ncaptured = 0;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *s = PQgetvalue(res, r, 0), *t = PQgetvalue(res, r, 1);
        if (!pgcdc_filter_table(filter, s, t))
            continue;
        char ident = PQgetvalue(res, r, 2)[0];
        int has_pk = PQgetvalue(res, r, 3)[0] == 't';
        pgcdc_buf_printf(out, "  %s.%s (replica identity %s%s)\n", s, t,
                         ident == 'd'   ? "default"
                         : ident == 'f' ? "full"
                         : ident == 'i' ? "index"
                                        : "nothing",
                         has_pk ? ", primary key" : ", no primary key");
        if (!has_pk && (ident == 'd' || ident == 'n'))
            pgcdc_buf_printf(warnings,
                             "  %s.%s has no primary key and replica identity %s: PostgreSQL "
                             "rejects its UPDATE/DELETE while it is published; add a primary key "
                             "or run ALTER TABLE %s.%s REPLICA IDENTITY FULL\n",
                             s, t, ident == 'd' ? "default" : "nothing", s, t);
        else if (!has_pk)
            pgcdc_buf_printf(warnings, "  %s.%s has no primary key: its events have a null key\n",
                             s, t);
        (*ncaptured)++;
    }
    PQclear(res);
    return 0;
}
