/*
 * delta_commit.c - test driver for the Delta log code: commits Parquet
 * files that are already in a table's directory, or prints what pgcdc reads
 * from a table's log, so the end-to-end tests can check both directions
 * against real Delta readers and writers (delta-rs, Spark).
 *
 *   pgcdc_delta_commit ROOT TABLE [--schema "name:type:nullable;..."]
 *                      [--partition COL] [--add PATH|COL=VALUE|SIZE]...
 *                      [--remove PATH|COL=VALUE|SIZE]... [--txn APP:VERSION]...
 *   pgcdc_delta_commit ROOT TABLE --state
 *
 * The first form commits one version (protocol and metaData when --schema
 * is given) and prints "committed N" or "conflict N"; --state prints a JSON
 * object: version, txns, files (sorted), schemaString, partitionColumns.
 * Exit status 1 with the error on stderr on failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"
#include "sink/lake/delta_table.h"

#define MAX_ITEMS 256

typedef struct file_arg {
    char *path;
    pgcdc_delta_kv pv;
    int has_pv;
    int64_t size;
} file_arg;

/* PATH|COL=VALUE|SIZE, COL=VALUE may be empty. Modifies s. */
static int parse_file(char *s, file_arg *f)
{
    char *a = strchr(s, '|');
    char *b = a ? strchr(a + 1, '|') : NULL;
    if (!a || !b)
        return -1;
    *a = *b = 0;
    f->path = s;
    f->size = strtoll(b + 1, NULL, 10);
    char *eq = strchr(a + 1, '=');
    f->has_pv = eq != NULL;
    if (eq) {
        *eq = 0;
        f->pv.key = a + 1;
        f->pv.value = eq + 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_state(const pgcdc_delta_state *st)
{
    pgcdc_buf o = PGCDC_BUF_INIT;
    PGCDC_BUF_LIT(&o, "{\"version\":");
    pgcdc_buf_put_i64(&o, st->version);
    PGCDC_BUF_LIT(&o, ",\"txns\":{");
    for (size_t i = 0; i < st->ntxns; i++) {
        if (i)
            pgcdc_buf_putc(&o, ',');
        pgcdc_json_cstr(&o, st->txns[i].app_id);
        pgcdc_buf_putc(&o, ':');
        pgcdc_buf_put_i64(&o, st->txns[i].version);
    }
    PGCDC_BUF_LIT(&o, "},\"files\":[");
    char **paths = calloc(st->nfiles + 1, sizeof(*paths));
    size_t n = 0;
    for (size_t i = 0; paths && i < st->files_cap; i++)
        if (st->files[i].path)
            paths[n++] = st->files[i].path;
    if (n)
        qsort(paths, n, sizeof(*paths), cmp_str);
    for (size_t i = 0; i < n; i++) {
        const pgcdc_delta_live_file *f = pgcdc_delta_state_file(st, paths[i]);
        if (i)
            pgcdc_buf_putc(&o, ',');
        PGCDC_BUF_LIT(&o, "{\"path\":");
        pgcdc_json_cstr(&o, f->path);
        PGCDC_BUF_LIT(&o, ",\"size\":");
        pgcdc_buf_put_i64(&o, f->size);
        PGCDC_BUF_LIT(&o, ",\"partitionValues\":");
        pgcdc_buf_puts(&o, f->partition_json);
        pgcdc_buf_putc(&o, '}');
    }
    free(paths);
    PGCDC_BUF_LIT(&o, "],\"schemaString\":");
    if (st->schema_string)
        pgcdc_json_cstr(&o, st->schema_string);
    else
        PGCDC_BUF_LIT(&o, "null");
    PGCDC_BUF_LIT(&o, ",\"partitionColumns\":[");
    for (size_t i = 0; i < st->npartition_columns; i++) {
        if (i)
            pgcdc_buf_putc(&o, ',');
        pgcdc_json_cstr(&o, st->partition_columns[i]);
    }
    PGCDC_BUF_LIT(&o, "]}\n");
    fwrite(o.data, 1, o.len, stdout);
    pgcdc_buf_free(&o);
}

int main(int argc, char **argv)
{
    char err[1024];
    if (argc < 4) {
        fprintf(stderr, "usage: %s ROOT TABLE --state | [--schema ...] [--add ...] ...\n", argv[0]);
        return 2;
    }
    pgcdc_lake_store *store = pgcdc_lake_store_local_open(argv[1], err, sizeof(err));
    if (!store) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    pgcdc_delta_table t;
    int rc = 1;
    pgcdc_buf c = PGCDC_BUF_INIT, schema = PGCDC_BUF_INIT;
    pgcdc_delta_field fields[MAX_ITEMS];
    size_t nfields = 0;
    const char *parts[1] = {NULL};
    size_t nparts = 0;
    if (pgcdc_delta_table_open(&t, store, argv[2], err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    if (!strcmp(argv[3], "--state")) {
        print_state(&t.state);
        rc = 0;
        goto out;
    }
    pgcdc_delta_put_commit_info(&c, 1700000000000, "WRITE", t.state.version, 1);
    for (int i = 3; i + 1 < argc; i += 2) {
        char *v = argv[i + 1];
        if (!strcmp(argv[i], "--schema")) {
            for (char *tok = strtok(v, ";"); tok && nfields < MAX_ITEMS; tok = strtok(NULL, ";")) {
                char *c1 = strchr(tok, ':'), *c2 = c1 ? strrchr(tok, ':') : NULL;
                if (!c1 || c2 == c1) {
                    fprintf(stderr, "bad --schema item %s\n", tok);
                    goto out;
                }
                *c1 = *c2 = 0;
                fields[nfields++] = (pgcdc_delta_field){tok, c1 + 1, atoi(c2 + 1)};
            }
        } else if (!strcmp(argv[i], "--partition")) {
            parts[0] = v;
            nparts = 1;
        }
    }
    if (nfields) {
        pgcdc_delta_schema_string(&schema, fields, nfields);
        pgcdc_buf_putc(&schema, 0);
        pgcdc_delta_metadata md = {"8d7f3a52-5b2c-4c1e-9f39-2f0d3c3c0001",
                                   NULL,
                                   schema.data,
                                   parts,
                                   nparts,
                                   NULL,
                                   0,
                                   1700000000000};
        pgcdc_delta_put_protocol(&c, pgcdc_delta_schema_needs_ntz(fields, nfields));
        pgcdc_delta_put_metadata(&c, &md);
    }
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--add") || !strcmp(argv[i], "--remove")) {
            file_arg f;
            if (parse_file(argv[i + 1], &f) != 0) {
                fprintf(stderr, "bad %s argument\n", argv[i]);
                goto out;
            }
            pgcdc_delta_file df = {f.path, &f.pv, (size_t)f.has_pv, f.size};
            if (argv[i][2] == 'a')
                pgcdc_delta_put_add(&c, &df, 1700000000000, 1, NULL);
            else
                pgcdc_delta_put_remove(&c, &df, 1700000000000, 1);
        } else if (!strcmp(argv[i], "--txn")) {
            char *colon = strrchr(argv[i + 1], ':');
            if (!colon) {
                fprintf(stderr, "bad --txn argument\n");
                goto out;
            }
            *colon = 0;
            pgcdc_delta_put_txn(&c, argv[i + 1], strtoll(colon + 1, NULL, 10), 1700000000000);
        }
    }
    int64_t v = t.state.version + 1;
    int crc = pgcdc_delta_table_commit(&t, c.data, c.len, err, sizeof(err));
    if (crc < 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    printf("%s %" PRId64 "\n", crc ? "conflict" : "committed", v);
    rc = 0;
out:
    pgcdc_delta_table_close(&t);
    pgcdc_buf_free(&c);
    pgcdc_buf_free(&schema);
    store->type->close(store);
    return rc;
}
