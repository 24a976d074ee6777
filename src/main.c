/*
 * main.c - pgcdc entry point: dispatches to the subcommands in src/cli/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/config.h"

static const char usage[] =
    "pgcdc - PostgreSQL change data capture with Debezium-compatible events\n"
    "\n"
    "Usage: pgcdc <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run --config FILE [--data-dir DIR]   stream changes to the configured sinks\n"
    "  check --config FILE                  validate the config and the server setup\n"
    "  status --config FILE [--json]        what the pipeline is doing: progress, offsets, slot\n"
    "  slots --config FILE [--drop NAME]    list replication slots with their lag; drop one\n"
    "  lake compact --config FILE           bring the lake sink's silver tables up to date\n"
    "  ddl-sql [--drop]                     print the SQL of the schema.changes event trigger\n"
    "  config-docs                          print the configuration reference (Markdown)\n"
    "  version                              print the version\n"
    "\n"
    "FILE is a native YAML pipeline file or a Debezium PostgreSQL connector JSON\n"
    "(see docs/CONFIG.md). Run 'pgcdc <command> --help' for details.\n";

/* For subcommands without options: --help prints `text`, anything else is a
 * usage error. Returns -1 to go on, else the exit code. */
static int no_options(int argc, char **argv, const char *text)
{
    if (argc < 3)
        return -1;
    if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        fputs(text, stdout);
        return 0;
    }
    fprintf(stderr, "pgcdc: %s takes no options\n\n%s", argv[1], text);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "run"))
        return pgcdc_cli_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "check"))
        return pgcdc_cli_check(argc - 1, argv + 1);
    if (!strcmp(cmd, "slots"))
        return pgcdc_cli_slots(argc - 1, argv + 1);
    if (!strcmp(cmd, "ddl-sql"))
        return pgcdc_cli_ddl_sql(argc - 1, argv + 1);
    if (!strcmp(cmd, "status"))
        return pgcdc_cli_status(argc - 1, argv + 1);
    if (!strcmp(cmd, "lake"))
        return pgcdc_cli_lake(argc - 1, argv + 1);
    if (!strcmp(cmd, "config-docs")) {
        int rc = no_options(argc, argv,
                            "Usage: pgcdc config-docs\n\nPrints the configuration reference "
                            "(every key, its type, default and meaning) as Markdown;\n"
                            "docs/CONFIG.md is its output.\n");
        if (rc >= 0)
            return rc;
        pgcdc_config_write_docs(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        int rc = no_options(argc, argv, "Usage: pgcdc version\n\nPrints the pgcdc version.\n");
        if (rc >= 0)
            return rc;
        printf("pgcdc %s\n", PGCDC_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(usage, stdout);
        return 0;
    }
    fprintf(stderr, "pgcdc: unknown command '%s'\n\n%s", cmd, usage);
    return 2;
}
