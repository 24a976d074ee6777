/*
 * ddl.h - schema.changes: pgcdc's DDL event trigger and the logical
 * decoding messages it writes.
 *
 * The trigger (function public.pgcdc_emit_ddl(), event triggers pgcdc_ddl on
 * ddl_command_end and pgcdc_ddl_drop on sql_drop) describes each DDL command
 * that creates, alters or drops a table in a transactional logical decoding
 * message with the prefix "pgcdc.ddl". The message is part of the command's
 * transaction, so it reaches pgcdc in commit order with the row changes,
 * before any row written under the new table definition.
 *
 * This file holds the SQL (printed by `pgcdc ddl-sql`, installed at startup
 * only when schema.changes asks for it), the check of what a database has
 * installed, and the decoder of the messages.
 */
#ifndef PGCDC_SOURCE_PG_DDL_H
#define PGCDC_SOURCE_PG_DDL_H

#include <libpq-fe.h>
#include <stddef.h>

#include "core/event.h"

#define PGCDC_DDL_PREFIX "pgcdc.ddl"
#define PGCDC_DDL_FUNCTION "public.pgcdc_emit_ddl()"
#define PGCDC_DDL_TRIGGER "pgcdc_ddl"
#define PGCDC_DDL_DROP_TRIGGER "pgcdc_ddl_drop"
/* Oldest server whose pgoutput passes logical decoding messages on. */
#define PGCDC_DDL_MIN_SERVER 140000

/* The SQL that installs (idempotently, in one transaction) or removes the
 * trigger and its function. Static strings. */
const char *pgcdc_ddl_install_sql(void);
const char *pgcdc_ddl_remove_sql(void);

typedef struct pgcdc_ddl_status {
    int function_exists;
    int function_current; /* installed by a pgcdc writing this message format */
    int on_command_end;   /* event trigger pgcdc_ddl calls the function */
    int on_sql_drop;      /* event trigger pgcdc_ddl_drop calls the function */
    char disabled[160];   /* names of those two that are disabled, comma-separated */
    int superuser;        /* the connected user may install it */
} pgcdc_ddl_status;

/* Reads what is installed in the connected database. 0, or -1 with errstr. */
int pgcdc_ddl_status_read(PGconn *conn, pgcdc_ddl_status *st, char *errstr, size_t errstr_size);

/* 1 when the trigger is installed, current and enabled. */
int pgcdc_ddl_status_ready(const pgcdc_ddl_status *st);

/*
 * Startup with schema.changes=true: returns 0 when the trigger is ready, or
 * after installing (or updating) it as a superuser, logging at info level
 * exactly what was created. Returns -1 with an errstr naming the key and the
 * way out when the user may not install it, a trigger is disabled or the
 * server is too old. Runs on the calling thread's ordinary connection.
 */
int pgcdc_ddl_ensure(PGconn *conn, int server_version, const char *dbname, const char *user,
                     char *errstr, size_t errstr_size);

/* A decoded "pgcdc.ddl" message. `sc` points into storage owned by the
 * event; release it with pgcdc_ddl_event_free(). */
typedef struct pgcdc_ddl_event {
    pgcdc_schema_change sc;
    void *root; /* the parsed document that the strings of sc live in */
} pgcdc_ddl_event;

/*
 * Decodes the content of a "pgcdc.ddl" message. Every table and column
 * starts captured/included; the caller applies its filters. Returns 0, or
 * -1 with errstr (nothing to free) when the content is not a message of
 * this format.
 */
int pgcdc_ddl_decode(const char *content, size_t len, pgcdc_ddl_event *ev, char *errstr,
                     size_t errstr_size);
void pgcdc_ddl_event_free(pgcdc_ddl_event *ev);

#endif
