/*
 * cli.h - the pgcdc subcommands. Each takes the arguments after its name
 * and returns the process exit code (0 success, 1 failure, 2 usage error).
 */
#ifndef PGCDC_CLI_CLI_H
#define PGCDC_CLI_CLI_H

#include "core/config.h"

int pgcdc_cli_run(int argc, char **argv);
int pgcdc_cli_check(int argc, char **argv);
int pgcdc_cli_slots(int argc, char **argv);
int pgcdc_cli_ddl_sql(int argc, char **argv);
int pgcdc_cli_status(int argc, char **argv);
int pgcdc_cli_lake(int argc, char **argv);

/*
 * Shared option parsing: --config FILE (required), --data-dir DIR,
 * --log-level L, --help. Loads the config into *cfg. Returns 0, 1 (error
 * printed), 2 (usage printed) or 3 (--help printed).
 * Subcommand options: names listed in extra_opts ("--drop") take a value,
 * stored in extra_vals; names in flag_opts ("--json") take none and set
 * flag_vals to 1. Both lists are NULL-terminated, or NULL.
 */
int pgcdc_cli_parse(int argc, char **argv, const char *usage, pgcdc_config *cfg,
                    const char *const *extra_opts, const char **extra_vals,
                    const char *const *flag_opts, int *flag_vals);

#endif
