/*
 * cli_ddl.c - `pgcdc ddl-sql`: prints the SQL of the schema.changes event
 * trigger, for a superuser to install (or, with --drop, remove) by hand.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "source/pg/ddl.h"

static const char usage[] =
    "Usage: pgcdc ddl-sql [--drop]\n"
    "\n"
    "Prints the SQL that installs what schema.changes=true needs in the captured\n"
    "database: the function " PGCDC_DDL_FUNCTION " and the event triggers\n" PGCDC_DDL_TRIGGER
    " (ddl_command_end) and " PGCDC_DDL_DROP_TRIGGER " (sql_drop), which write each DDL\n"
    "command on a table as a logical decoding message with prefix '" PGCDC_DDL_PREFIX "'.\n"
    "Creating event triggers needs superuser: pgcdc run installs them itself only\n"
    "with schema.changes=true and a superuser as database.user. Otherwise a\n"
    "superuser runs, for example:\n"
    "\n"
    "  pgcdc ddl-sql | psql -d DBNAME\n"
    "\n"
    "  --drop    print the SQL that removes them instead\n"
    "\n"
    "See docs/SCHEMA_CHANGES.md.\n";

int pgcdc_cli_ddl_sql(int argc, char **argv)
{
    int drop = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--drop") != 0) {
            fprintf(stderr, "pgcdc: ddl-sql: unknown option '%s'\n\n%s", argv[i], usage);
            return 2;
        }
        drop = 1;
    }
    fputs(drop ? pgcdc_ddl_remove_sql() : pgcdc_ddl_install_sql(), stdout);
    return 0;
}
