/*
 * fuzz_config.c - libFuzzer driver for the configuration loader.
 *
 * Feeds arbitrary bytes to pgcdc_config_load_string() (both the YAML and the
 * JSON path, chosen by content) between init and free, so any crash, leak
 * or undefined behaviour in parsing, flattening, value conversion or error
 * formatting is found. A successful load is also dumped, to exercise the
 * formatting of every field.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pgcdc_config cfg;
    char err[512];
    pgcdc_buf out = PGCDC_BUF_INIT;

    pgcdc_config_init(&cfg);
    err[0] = 0;
    if (pgcdc_config_load_string(&cfg, (const char *)data, size, err, sizeof(err)) == 0) {
        pgcdc_config_dump(&cfg, &out);
        pgcdc_config_conninfo(&cfg, 1, &out);
        pgcdc_config_describe_conn(&cfg, &out);
    } else if (strncmp(err, "config: ", 8) != 0) {
        __builtin_trap(); /* every error must carry the prefix */
    }
    pgcdc_buf_free(&out);
    pgcdc_config_free(&cfg);
    return 0;
}
