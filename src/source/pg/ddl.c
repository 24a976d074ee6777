/*
 * ddl.c - schema.changes: the DDL event trigger's SQL, its installation
 * check, and the decoder of its "pgcdc.ddl" messages (see ddl.h).
 */
#include "source/pg/ddl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* The function's comment doubles as its version: a different text means
 * another message format, and the function is replaced. */
#define DDL_COMMENT                                                                                \
    "pgcdc schema.changes: writes each DDL command on a table as a logical decoding message "      \
    "with prefix pgcdc.ddl (format 1)"
#define DDL_FORMAT 1

/*
 * The trigger function runs as the user who issued the DDL (no SECURITY
 * DEFINER: pg_logical_emit_message is executable by everyone). At
 * ddl_command_end it describes every permanent table the command created
 * or altered, with its columns as the catalog shows them inside the
 * transaction. Dropped tables are no longer in the catalog by then, so the
 * sql_drop trigger, which fires just before, hands their names over in a
 * transaction-local setting. Commands that touch no table emit nothing.
 */
static const char install_sql[] =
    "-- pgcdc schema.changes: an event trigger that writes each DDL command creating,\n"
    "-- altering or dropping a table as a transactional logical decoding message\n"
    "-- (prefix 'pgcdc.ddl'), so schema change events arrive in commit order with the\n"
    "-- row changes. Run it as a superuser in the captured database.\n"
    "BEGIN;\n"
    "SET LOCAL client_min_messages = warning;\n"
    "\n"
    "CREATE OR REPLACE FUNCTION public.pgcdc_emit_ddl() RETURNS event_trigger\n"
    "LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $pgcdc$\n"
    "DECLARE\n"
    "    dropped json;\n"
    "    tables json;\n"
    "BEGIN\n"
    "    IF tg_event = 'sql_drop' THEN\n"
    "        -- dropped tables are gone from the catalogs at ddl_command_end,\n"
    "        -- which fires next: hand their names over\n"
    "        SELECT json_agg(json_build_object('oid', d.objid::bigint, 'schema', d.schema_name,\n"
    "                                          'name', d.object_name))\n"
    "          INTO dropped\n"
    "          FROM pg_event_trigger_dropped_objects() d\n"
    "         WHERE d.object_type = 'table' AND NOT d.is_temporary;\n"
    "        PERFORM set_config('pgcdc.dropped_tables', coalesce(dropped::text, ''), true);\n"
    "        RETURN;\n"
    "    END IF;\n"
    "    dropped := nullif(current_setting('pgcdc.dropped_tables', true), '')::json;\n"
    "    IF dropped IS NOT NULL THEN\n"
    "        PERFORM set_config('pgcdc.dropped_tables', '', true);\n"
    "    END IF;\n"
    "    WITH cmd AS (\n"
    "        -- the table each command touched: itself, or an index's, constraint's or\n"
    "        -- trigger's table\n"
    "        SELECT CASE c.classid\n"
    "                 WHEN 'pg_class'::regclass THEN\n"
    "                   coalesce((SELECT i.indrelid FROM pg_index i WHERE i.indexrelid = "
    "c.objid),\n"
    "                            c.objid)\n"
    "                 WHEN 'pg_constraint'::regclass THEN\n"
    "                   (SELECT k.conrelid FROM pg_constraint k WHERE k.oid = c.objid)\n"
    "                 WHEN 'pg_trigger'::regclass THEN\n"
    "                   (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = c.objid)\n"
    "               END AS relid,\n"
    "               c.classid, c.objid, c.command_tag\n"
    "          FROM pg_event_trigger_ddl_commands() c\n"
    "    ), rel AS (\n"
    "        SELECT cmd.relid,\n"
    "               bool_or(cmd.classid = 'pg_class'::regclass AND cmd.objid = cmd.relid\n"
    "                       AND cmd.command_tag IN ('CREATE TABLE', 'CREATE TABLE AS',\n"
    "                                               'SELECT INTO')) AS created\n"
    "          FROM cmd JOIN pg_class r ON r.oid = cmd.relid\n"
    "         WHERE r.relkind IN ('r', 'p') AND r.relpersistence = 'p'\n"
    "         GROUP BY cmd.relid\n"
    "    )\n"
    "    SELECT json_agg(json_build_object(\n"
    "             'oid', r.oid::bigint,\n"
    "             'type', CASE WHEN rel.created THEN 'CREATE' ELSE 'ALTER' END,\n"
    "             'schema', n.nspname,\n"
    "             'name', r.relname,\n"
    "             'comment', obj_description(r.oid, 'pg_class'),\n"
    "             'pk', (SELECT json_agg(a.attname ORDER BY k.ord)\n"
    "                      FROM pg_index i\n"
    "                      CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)\n"
    "                      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum\n"
    "                     WHERE i.indrelid = r.oid AND i.indisprimary),\n"
    "             'columns', (SELECT json_agg(json_build_object(\n"
    "                             'name', a.attname,\n"
    "                             'type', t.typname,\n"
    "                             'type_oid', a.atttypid::bigint,\n"
    "                             'elem_oid', t.typelem::bigint,\n"
    "                             'typmod', a.atttypmod,\n"
    "                             'typtype', t.typtype,\n"
    "                             'array', t.typcategory = 'A',\n"
    "                             'not_null', a.attnotnull,\n"
    "                             'identity', a.attidentity <> '',\n"
    "                             'generated', a.attgenerated <> '',\n"
    "                             'default', pg_get_expr(d.adbin, d.adrelid),\n"
    "                             'comment', col_description(r.oid, a.attnum),\n"
    "                             'enum', (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)\n"
    "                                        FROM pg_enum e WHERE e.enumtypid = t.oid))\n"
    "                           ORDER BY a.attnum)\n"
    "                          FROM pg_attribute a\n"
    "                          JOIN pg_type t ON t.oid = a.atttypid\n"
    "                          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid\n"
    "                                                AND d.adnum = a.attnum\n"
    "                         WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped))\n"
    "           ORDER BY r.oid)\n"
    "      INTO tables\n"
    "      FROM rel JOIN pg_class r ON r.oid = rel.relid\n"
    "      JOIN pg_namespace n ON n.oid = r.relnamespace;\n"
    "    IF tables IS NULL AND dropped IS NULL THEN\n"
    "        RETURN; -- no table involved: functions, types, schemas, temporary tables, ...\n"
    "    END IF;\n"
    "    PERFORM pg_logical_emit_message(true, 'pgcdc.ddl', json_build_object(\n"
    "        'v', 1, 'tag', tg_tag, 'ddl', current_query(),\n"
    "        'tables', coalesce(tables, '[]'), 'dropped', coalesce(dropped, '[]'))::text);\n"
    "END\n"
    "$pgcdc$;\n"
    "COMMENT ON FUNCTION public.pgcdc_emit_ddl() IS\n"
    "    '" DDL_COMMENT "';\n"
    "\n"
    "DROP EVENT TRIGGER IF EXISTS pgcdc_ddl;\n"
    "CREATE EVENT TRIGGER pgcdc_ddl ON ddl_command_end\n"
    "    EXECUTE FUNCTION public.pgcdc_emit_ddl();\n"
    "DROP EVENT TRIGGER IF EXISTS pgcdc_ddl_drop;\n"
    "CREATE EVENT TRIGGER pgcdc_ddl_drop ON sql_drop\n"
    "    EXECUTE FUNCTION public.pgcdc_emit_ddl();\n"
    "COMMIT;\n";

static const char remove_sql[] =
    "-- Removes pgcdc's schema.changes event trigger (as a superuser).\n"
    "BEGIN;\n"
    "DROP EVENT TRIGGER IF EXISTS pgcdc_ddl;\n"
    "DROP EVENT TRIGGER IF EXISTS pgcdc_ddl_drop;\n"
    "DROP FUNCTION IF EXISTS public.pgcdc_emit_ddl();\n"
    "COMMIT;\n";

const char *pgcdc_ddl_install_sql(void)
{
    return install_sql;
}

const char *pgcdc_ddl_remove_sql(void)
{
    return remove_sql;
}

/* ------------------------------------------------------------------------ */
/* installation                                                              */
/* ------------------------------------------------------------------------ */

static void pq_error(char *errstr, size_t errstr_size, const char *what, PGresult *res,
                     PGconn *conn)
{
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    size_t l = strlen(msg);
    while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
        l--;
    snprintf(errstr, errstr_size, "%s: %.*s", what, (int)l, msg);
}

int pgcdc_ddl_status_read(PGconn *conn, pgcdc_ddl_status *st, char *errstr, size_t errstr_size)
{
    const char *params[1] = {DDL_COMMENT};
    memset(st, 0, sizeof(*st));
    PGresult *res = PQexecParams(
        conn,
        "SELECT p.oid IS NOT NULL, "
        "       coalesce(pg_catalog.obj_description(p.oid, 'pg_proc') = $1, false), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger e WHERE e.evtname = "
        "'" PGCDC_DDL_TRIGGER "' AND e.evtevent = 'ddl_command_end' AND e.evtfoid = p.oid), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger e WHERE e.evtname = "
        "'" PGCDC_DDL_DROP_TRIGGER "' AND e.evtevent = 'sql_drop' AND e.evtfoid = p.oid), "
        "       coalesce((SELECT pg_catalog.string_agg(e.evtname::text, ', ' ORDER BY e.evtname) "
        "                 FROM pg_catalog.pg_event_trigger e WHERE e.evtname IN "
        "('" PGCDC_DDL_TRIGGER "', '" PGCDC_DDL_DROP_TRIGGER "') AND e.evtenabled = 'D'), ''), "
        "       coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r "
        "                 WHERE r.rolname = current_user), false) "
        "FROM (SELECT pg_catalog.to_regprocedure('" PGCDC_DDL_FUNCTION "') AS oid) p",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        pq_error(errstr, errstr_size, "reading pg_event_trigger", res, conn);
        PQclear(res);
        return -1;
    }
    st->function_exists = PQgetvalue(res, 0, 0)[0] == 't';
    st->function_current = PQgetvalue(res, 0, 1)[0] == 't';
    st->on_command_end = PQgetvalue(res, 0, 2)[0] == 't';
    st->on_sql_drop = PQgetvalue(res, 0, 3)[0] == 't';
    snprintf(st->disabled, sizeof(st->disabled), "%s", PQgetvalue(res, 0, 4));
    st->superuser = PQgetvalue(res, 0, 5)[0] == 't';
    PQclear(res);
    return 0;
}

int pgcdc_ddl_status_ready(const pgcdc_ddl_status *st)
{
    return st->function_exists && st->function_current && st->on_command_end && st->on_sql_drop &&
           st->disabled[0] == 0;
}

/*
 * Installation is the one write pgcdc makes outside its slot and
 * publication, so it happens only here, only with schema.changes=true, and
 * is logged object by object.
 */
int pgcdc_ddl_ensure(PGconn *conn, int server_version, const char *dbname, const char *user,
                     char *errstr, size_t errstr_size)
{
    pgcdc_ddl_status st;
    if (server_version < PGCDC_DDL_MIN_SERVER) {
        snprintf(errstr, errstr_size,
                 "schema.changes=true needs PostgreSQL 14 or newer (this server is %d.%d): "
                 "older pgoutput does not pass logical decoding messages on. Set "
                 "schema.changes=false",
                 server_version / 10000, server_version % 10000);
        return -1;
    }
    if (pgcdc_ddl_status_read(conn, &st, errstr, errstr_size) != 0)
        return -1;
    if (pgcdc_ddl_status_ready(&st)) {
        pgcdc_log_info("source",
                       "schema.changes: event triggers " PGCDC_DDL_TRIGGER
                       " and " PGCDC_DDL_DROP_TRIGGER " (function " PGCDC_DDL_FUNCTION
                       ") are installed in database %s",
                       dbname);
        return 0;
    }
    if (st.disabled[0]) {
        snprintf(errstr, errstr_size,
                 "schema.changes=true but event trigger %s in database %s is disabled, so DDL "
                 "would go unnoticed: have a superuser run ALTER EVENT TRIGGER ... ENABLE for "
                 "it, or set schema.changes=false",
                 st.disabled, dbname);
        return -1;
    }
    const char *state = !st.function_exists && !st.on_command_end && !st.on_sql_drop
                            ? "not installed"
                        : !st.function_current ? "from another pgcdc version"
                                               : "incomplete";
    if (!st.superuser) {
        snprintf(errstr, errstr_size,
                 "schema.changes=true needs pgcdc's DDL event trigger in database %s, which is "
                 "%s, and user %s may not install it (creating event triggers needs superuser). "
                 "Have a superuser run the SQL that `pgcdc ddl-sql` prints, in database %s "
                 "(e.g. pgcdc ddl-sql | psql -d %s), or set schema.changes=false. "
                 "docs/SCHEMA_CHANGES.md describes what it installs",
                 dbname, state, user, dbname, dbname);
        return -1;
    }
    PGresult *res = PQexec(conn, install_sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        char what[256];
        snprintf(what, sizeof(what), "schema.changes: installing the DDL event trigger in %s",
                 dbname);
        pq_error(errstr, errstr_size, what, res, conn);
        PQclear(res);
        /* a failed statement leaves the transaction open on this connection */
        PQclear(PQexec(conn, "ROLLBACK"));
        return -1;
    }
    PQclear(res);
    pgcdc_log_info("source",
                   "schema.changes: %s in database %s (the DDL event trigger was %s): "
                   "function " PGCDC_DDL_FUNCTION ", event trigger " PGCDC_DDL_TRIGGER
                   " on ddl_command_end and event trigger " PGCDC_DDL_DROP_TRIGGER
                   " on sql_drop. They write each DDL command on a table as a logical decoding "
                   "message with prefix '" PGCDC_DDL_PREFIX
                   "'; `pgcdc ddl-sql --drop` prints the SQL that removes them",
                   st.function_exists ? "replaced" : "created", dbname, state);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* message decoding                                                          */
/* ------------------------------------------------------------------------ */

typedef struct decoder {
    char *errstr;
    size_t errstr_size;
    char where[96];
} decoder;

static int bad(decoder *d, const char *key, const char *what)
{
    snprintf(d->errstr, d->errstr_size, "%s%s%s: %s", d->where, d->where[0] ? "." : "", key, what);
    return -1;
}

/* Required string (nullable: JSON null gives NULL). */
static int get_str(decoder *d, json_t *obj, const char *key, int nullable, const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (nullable && (!v || json_is_null(v))) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return bad(d, key, nullable ? "not a string or null" : "missing or not a string");
    *out = json_string_value(v);
    return 0;
}

static int get_int(decoder *d, json_t *obj, const char *key, long long min, long long max,
                   long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v))
        return bad(d, key, "missing or not an integer");
    *out = json_integer_value(v);
    if (*out < min || *out > max)
        return bad(d, key, "out of range");
    return 0;
}

static int get_bool(decoder *d, json_t *obj, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_boolean(v))
        return bad(d, key, "missing or not a boolean");
    *out = json_is_true(v);
    return 0;
}

/* A nullable array of strings; *items is malloc'd (NULL when empty). */
static int get_str_array(decoder *d, json_t *obj, const char *key, const char ***items, size_t *n)
{
    json_t *v = json_object_get(obj, key);
    *items = NULL;
    *n = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_array(v))
        return bad(d, key, "not an array or null");
    if (json_array_size(v) == 0)
        return 0;
    *items = calloc(json_array_size(v), sizeof(char *));
    if (!*items)
        return bad(d, key, "out of memory");
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            free(*items);
            *items = NULL;
            *n = 0;
            return bad(d, key, "holds a non-string");
        }
        (*items)[(*n)++] = json_string_value(s);
    }
    return 0;
}

static int decode_column(decoder *d, json_t *o, int position, pgcdc_ddl_column *c)
{
    const char *typtype;
    long long oid, elem, typmod;
    if (!json_is_object(o))
        return bad(d, "columns", "holds a non-object");
    if (get_str(d, o, "name", 0, &c->name) || get_str(d, o, "type", 0, &c->type_name) ||
        get_int(d, o, "type_oid", 0, UINT32_MAX, &oid) ||
        get_int(d, o, "elem_oid", 0, UINT32_MAX, &elem) ||
        get_int(d, o, "typmod", INT32_MIN, INT32_MAX, &typmod) ||
        get_str(d, o, "typtype", 0, &typtype) || get_bool(d, o, "array", &c->is_array) ||
        get_bool(d, o, "not_null", &c->not_null) || get_bool(d, o, "identity", &c->identity) ||
        get_bool(d, o, "generated", &c->generated) ||
        get_str(d, o, "default", 1, &c->default_expr) || get_str(d, o, "comment", 1, &c->comment) ||
        get_str_array(d, o, "enum", &c->enum_labels, &c->nenum))
        return -1;
    c->type_oid = (uint32_t)oid;
    c->elem_oid = c->is_array ? (uint32_t)elem : 0;
    c->typmod = (int32_t)typmod;
    c->typtype = typtype[0];
    c->position = position;
    c->included = 1;
    return 0;
}

/* One entry of "tables" (described) or "dropped" (names only). */
static int decode_table(decoder *d, json_t *o, int dropped, pgcdc_ddl_table *t)
{
    long long oid;
    if (!json_is_object(o))
        return bad(d, dropped ? "dropped" : "tables", "holds a non-object");
    if (get_int(d, o, "oid", 0, UINT32_MAX, &oid) || get_str(d, o, "schema", 0, &t->schema) ||
        get_str(d, o, "name", 0, &t->name))
        return -1;
    t->relid = (uint32_t)oid;
    t->captured = 1;
    if (dropped) {
        t->change = "DROP";
        return 0;
    }
    if (get_str(d, o, "type", 0, &t->change))
        return -1;
    if (strcmp(t->change, "CREATE") != 0 && strcmp(t->change, "ALTER") != 0)
        return bad(d, "type", "neither CREATE nor ALTER");
    if (get_str(d, o, "comment", 1, &t->comment) || get_str_array(d, o, "pk", &t->pk, &t->npk))
        return -1;
    json_t *cols = json_object_get(o, "columns");
    t->described = 1;
    if (!cols || json_is_null(cols))
        return 0; /* a table without columns */
    if (!json_is_array(cols))
        return bad(d, "columns", "not an array or null");
    t->cols = calloc(json_array_size(cols) ? json_array_size(cols) : 1, sizeof(*t->cols));
    if (!t->cols)
        return bad(d, "columns", "out of memory");
    size_t base = strlen(d->where);
    for (size_t i = 0; i < json_array_size(cols); i++) {
        snprintf(d->where + base, sizeof(d->where) - base, ".columns[%zu]", i);
        /* counted first, so that a half-decoded column is freed too */
        pgcdc_ddl_column *c = &t->cols[t->ncols++];
        if (decode_column(d, json_array_get(cols, i), (int)i + 1, c) != 0)
            return -1;
    }
    d->where[base] = 0;
    return 0;
}

int pgcdc_ddl_decode(const char *content, size_t len, pgcdc_ddl_event *ev, char *errstr,
                     size_t errstr_size)
{
    decoder d = {errstr, errstr_size, ""};
    json_error_t jerr;
    long long version;
    memset(ev, 0, sizeof(*ev));
    json_t *root = json_loadb(content, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "not JSON (%s at position %d)", jerr.text, jerr.position);
        return -1;
    }
    ev->root = root;
    if (!json_is_object(root)) {
        snprintf(errstr, errstr_size, "not a JSON object");
        goto fail;
    }
    if (get_int(&d, root, "v", 0, 1000000, &version) != 0)
        goto fail;
    if (version != DDL_FORMAT) {
        snprintf(errstr, errstr_size,
                 "format %lld, this pgcdc reads format %d (the trigger comes from another pgcdc "
                 "version)",
                 version, DDL_FORMAT);
        goto fail;
    }
    if (get_str(&d, root, "tag", 0, &ev->sc.tag) || get_str(&d, root, "ddl", 1, &ev->sc.ddl))
        goto fail;
    json_t *tables = json_object_get(root, "tables"), *dropped = json_object_get(root, "dropped");
    if (!json_is_array(tables) || !json_is_array(dropped)) {
        snprintf(errstr, errstr_size, "tables or dropped: missing or not an array");
        goto fail;
    }
    size_t n = json_array_size(tables) + json_array_size(dropped);
    ev->sc.tables = calloc(n ? n : 1, sizeof(*ev->sc.tables));
    if (!ev->sc.tables) {
        snprintf(errstr, errstr_size, "out of memory");
        goto fail;
    }
    for (int pass = 0; pass < 2; pass++) {
        json_t *arr = pass ? dropped : tables;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            snprintf(d.where, sizeof(d.where), "%s[%zu]", pass ? "dropped" : "tables", i);
            if (decode_table(&d, json_array_get(arr, i), pass, &ev->sc.tables[ev->sc.ntables++]) !=
                0)
                goto fail;
        }
    }
    return 0;
fail:
    pgcdc_ddl_event_free(ev);
    return -1;
}

void pgcdc_ddl_event_free(pgcdc_ddl_event *ev)
{
    for (size_t i = 0; i < ev->sc.ntables; i++) {
        pgcdc_ddl_table *t = &ev->sc.tables[i];
        for (size_t c = 0; c < t->ncols; c++)
            free(t->cols[c].enum_labels);
        free(t->cols);
        free(t->pk);
    }
    free(ev->sc.tables);
    if (ev->root)
        json_decref(ev->root);
    memset(ev, 0, sizeof(*ev));
}
