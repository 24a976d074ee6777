/*
 * cli_common.c - option parsing shared by the subcommands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"

int pgcdc_cli_parse(int argc, char **argv, const char *usage, pgcdc_config *cfg,
                    const char *const *extra_opts, const char **extra_vals,
                    const char *const *flag_opts, int *flag_vals)
{
    const char *config_path = NULL, *data_dir = NULL, *log_level = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 3;
        }
        int flag = -1;
        for (int k = 0; flag_opts && flag_opts[k]; k++)
            if (!strcmp(a, flag_opts[k]))
                flag = k;
        if (flag >= 0) {
            flag_vals[flag] = 1;
            continue;
        }
        const char **target = NULL;
        if (!strcmp(a, "--config") || !strcmp(a, "-c"))
            target = &config_path;
        else if (!strcmp(a, "--data-dir"))
            target = &data_dir;
        else if (!strcmp(a, "--log-level"))
            target = &log_level;
        else if (extra_opts)
            for (int k = 0; extra_opts[k]; k++)
                if (!strcmp(a, extra_opts[k]))
                    target = &extra_vals[k];
        if (!target) {
            fprintf(stderr, "pgcdc: unknown option '%s'\n\n%s", a, usage);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "pgcdc: option '%s' needs a value\n\n%s", a, usage);
            return 2;
        }
        *target = argv[++i];
    }
    if (!config_path) {
        fprintf(stderr, "pgcdc: --config FILE is required\n\n%s", usage);
        return 2;
    }
    char err[1024];
    pgcdc_config_init(cfg);
    if (pgcdc_config_load(cfg, config_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "pgcdc: %s: %s\n", config_path, err);
        pgcdc_config_free(cfg);
        return 1;
    }
    if (data_dir && pgcdc_config_set(cfg, "data.dir", data_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "pgcdc: --data-dir: %s\n", err);
        pgcdc_config_free(cfg);
        return 1;
    }
    if (log_level && pgcdc_config_set(cfg, "log.level", log_level, err, sizeof(err)) != 0) {
        fprintf(stderr, "pgcdc: --log-level: %s\n", err);
        pgcdc_config_free(cfg);
        return 1;
    }
    int level = pgcdc_log_level_parse(cfg->log_level ? cfg->log_level : "info");
    pgcdc_log_set_level(level < 0 ? PGCDC_LOG_INFO : (pgcdc_log_level)level);
    return 0;
}
