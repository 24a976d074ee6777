/*
 * cli_lake.c - `pgcdc lake compact`: brings the lake sink's silver tables
 * up to date with their bronze change logs, once, on demand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "sink/lake/silver.h"

static const char lake_usage[] =
    "Usage: pgcdc lake compact --config FILE [--data-dir DIR]\n"
    "\n"
    "Applies the changes the bronze tables under lake.root hold and the silver\n"
    "tables do not yet: afterwards <lake.root>/silver/<topic> has the current row\n"
    "of every primary key. Safe beside a running `pgcdc run` only with\n"
    "lake.silver.interval.ms: 0 there (one compactor per lake). Spill files go to\n"
    "the data directory. Exit status 1 when a table could not be compacted.\n";

int pgcdc_cli_lake(int argc, char **argv)
{
    /* the action word may come before or after the options */
    char *args[64];
    int n = 0, compact = 0;
    for (int i = 0; i < argc && n < 63; i++) {
        if (i > 0 && !strcmp(argv[i], "compact") && !compact)
            compact = 1;
        else
            args[n++] = argv[i];
    }
    if (!compact) {
        int help = argc >= 2 && !strcmp(argv[1], "--help");
        fputs(lake_usage, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    argc = n;
    argv = args;
    pgcdc_config cfg;
    int rc = pgcdc_cli_parse(argc, argv, lake_usage, &cfg, NULL, NULL, NULL, NULL);
    if (rc)
        return rc == 3 ? 0 : rc;
    char err[1024];
    const char *failed = NULL;
    if (cfg.data_dir && pgcdc_mkdir_p(cfg.data_dir, &failed) != 0) {
        pgcdc_log_error("lake", "cannot create the data directory %s (%s): %s", cfg.data_dir,
                        failed ? failed : cfg.data_dir, strerror(errno));
        pgcdc_config_free(&cfg);
        return 1;
    }
    pgcdc_lake_store *store = pgcdc_lake_store_open(&cfg, err, sizeof(err));
    if (!store) {
        pgcdc_log_error("lake", "%s", err);
        pgcdc_config_free(&cfg);
        return 1;
    }
    pgcdc_silver_opts opts;
    pgcdc_silver_opts_from_config(&opts, &cfg);
    rc = pgcdc_silver_compact_all(store, &opts, err, sizeof(err)) == 0 ? 0 : 1;
    store->type->close(store);
    pgcdc_config_free(&cfg);
    return rc;
}
