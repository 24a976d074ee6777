/*
 * parquet_write.c - test and benchmark driver of the Parquet writer: reads
 * a PostgreSQL table with libpq in text format (the representation pgoutput
 * delivers: DateStyle=ISO, extra_float_digits=3, bytea_output=hex) and
 * writes it as a Parquet file with pgcdc's writer and type mapping.
 *
 *   pgcdc_parquet_write --dsn DSN --table SCHEMA.TABLE --out FILE
 *       [--codec none|snappy|zstd] [--level N] [--no-dictionary]
 *       [--row-group-bytes N] [--row-group-rows N] [--page-bytes N]
 *       [--dictionary-page-bytes N] [--kv KEY=VALUE]... [--order-by COL]
 *       [--bench N]
 *
 * --bench N writes the file N times and prints one JSON line with the
 * seconds (wall and process CPU) of each run in two modes: "text" converts every value from its
 * text (what a sink does per change) and writes; "typed" writes values
 * converted beforehand (the encoder alone). Fetching the rows is not timed.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/parquet/parquet.h"
#include "format/parquet/parquet_pg.h"

typedef struct {
    FILE *f;
} file_out;

static int file_write(void *ctx, const void *p, size_t n, char *errstr, size_t es)
{
    file_out *o = ctx;
    if (fwrite(p, 1, n, o->f) != n) {
        snprintf(errstr, es, "fwrite failed");
        return -1;
    }
    return 0;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: pgcdc_parquet_write --dsn DSN --table SCHEMA.TABLE --out FILE "
                    "[--codec none|snappy|zstd] [--level N] [--no-dictionary] "
                    "[--row-group-bytes N] [--row-group-rows N] [--page-bytes N] "
                    "[--dictionary-page-bytes N] [--kv KEY=VALUE]... [--order-by COL] "
                    "[--bench N]\n");
    exit(2);
}

typedef struct {
    PGresult *rows;
    int ncols;
    pgcdc_column *cols;
    pgcdc_pq_column *pq;
    pgcdc_pq_pgconv *conv;
    pgcdc_pq_datum *datums; /* typed bench: rows x cols */
} table_data;

/* Writes the table once; typed: from t->datums. *wp: the writer of the
 * previous file, reset and reused (as a sink rolling files does), or NULL
 * to open one; left for the next call. Returns 0 or -1. */
static int write_file(const table_data *t, const char *out, const pgcdc_pq_options *opts, int typed,
                      pgcdc_pq_writer **wp)
{
    char err[512];
    static file_out fo;
    fo.f = fopen(out, "wb");
    if (!fo.f) {
        perror(out);
        return -1;
    }
    pgcdc_pq_writer *w = *wp;
    if (w) {
        pgcdc_pq_writer_reset(w, file_write, &fo);
    } else if (pgcdc_pq_writer_open(&w, t->pq, t->ncols, opts, file_write, &fo, err, sizeof(err)) !=
               0) {
        fprintf(stderr, "%s\n", err);
        fclose(fo.f);
        return -1;
    }
    *wp = w;
    int nrows = PQntuples(t->rows), rc = -1;
    for (int r = 0; r < nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            if (typed) {
                if (pgcdc_pq_put_datum(w, c, &t->datums[(size_t)r * (size_t)t->ncols + c]) != 0)
                    break; /* reported by end_row */
                continue;
            }
            pgcdc_value v;
            v.kind = PQgetisnull(t->rows, r, c) ? 'n' : 't';
            v.data = PQgetvalue(t->rows, r, c);
            v.len = (uint32_t)PQgetlength(t->rows, r, c);
            if (pgcdc_pq_pg_put(w, c, t->conv[c], &v, err, sizeof(err)) != 0) {
                fprintf(stderr, "row %d: %s\n", r, err);
                goto done;
            }
        }
        if (pgcdc_pq_writer_end_row(w, err, sizeof(err)) != 0) {
            fprintf(stderr, "row %d: %s\n", r, err);
            goto done;
        }
    }
    if (pgcdc_pq_writer_finish(w, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    rc = 0;
done:
    if (fclose(fo.f) != 0)
        rc = -1;
    return rc;
}

static pgcdc_pq_codec parse_codec(const char *s)
{
    if (strcmp(s, "none") == 0)
        return PGCDC_PQ_UNCOMPRESSED;
    if (strcmp(s, "snappy") == 0)
        return PGCDC_PQ_SNAPPY;
    if (strcmp(s, "zstd") == 0)
        return PGCDC_PQ_ZSTD;
    fprintf(stderr, "unknown codec %s\n", s);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *dsn = NULL, *table = NULL, *out = NULL, *order = NULL;
    int bench = 0;
    pgcdc_pq_options opts;
    pgcdc_pq_options_init(&opts);
    pgcdc_pq_kv kv[16];
    size_t nkv = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--no-dictionary") == 0) {
            opts.dictionary = 0;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--dsn") == 0)
            dsn = v;
        else if (strcmp(a, "--table") == 0)
            table = v;
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--order-by") == 0)
            order = v;
        else if (strcmp(a, "--codec") == 0)
            opts.codec = parse_codec(v);
        else if (strcmp(a, "--level") == 0)
            opts.level = atoi(v);
        else if (strcmp(a, "--row-group-bytes") == 0)
            opts.row_group_bytes = strtoull(v, NULL, 10);
        else if (strcmp(a, "--row-group-rows") == 0)
            opts.row_group_rows = strtoll(v, NULL, 10);
        else if (strcmp(a, "--page-bytes") == 0)
            opts.page_bytes = strtoull(v, NULL, 10);
        else if (strcmp(a, "--dictionary-page-bytes") == 0)
            opts.dictionary_page_bytes = strtoull(v, NULL, 10);
        else if (strcmp(a, "--bench") == 0)
            bench = atoi(v);
        else if (strcmp(a, "--kv") == 0 && nkv < 16) {
            char *eq = strchr(v, '=');
            if (!eq)
                usage();
            *eq = 0;
            kv[nkv].key = v;
            kv[nkv++].value = eq + 1;
        } else
            usage();
    }
    if (!dsn || !table || !out)
        usage();
    opts.kv = kv;
    opts.nkv = nkv;

    PGconn *conn = PQconnectdb(dsn);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(conn));
        return 1;
    }
    PQclear(PQexec(conn, "SET DateStyle = ISO; SET extra_float_digits = 3; "
                         "SET IntervalStyle = postgres; SET bytea_output = hex"));
    const char *params[1] = {table};
    PGresult *cat = PQexecParams(conn,
                                 "SELECT attname, atttypid, atttypmod, attnotnull "
                                 "FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
                                 "AND NOT attisdropped ORDER BY attnum",
                                 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(cat) != PGRES_TUPLES_OK || PQntuples(cat) == 0) {
        fprintf(stderr, "catalog: %s", PQerrorMessage(conn));
        return 1;
    }
    table_data t = {0};
    t.ncols = PQntuples(cat);
    t.cols = calloc((size_t)t.ncols, sizeof(*t.cols));
    t.pq = calloc((size_t)t.ncols, sizeof(*t.pq));
    t.conv = calloc((size_t)t.ncols, sizeof(*t.conv));
    char err[512];
    for (int c = 0; c < t.ncols; c++) {
        t.cols[c].name = PQgetvalue(cat, c, 0);
        t.cols[c].optional = PQgetvalue(cat, c, 3)[0] != 't';
        if (pgcdc_coltype_resolve(&t.cols[c].type,
                                  (uint32_t)strtoul(PQgetvalue(cat, c, 1), NULL, 10),
                                  atoi(PQgetvalue(cat, c, 2)), NULL, NULL, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        pgcdc_pq_pg_column(&t.cols[c], &t.pq[c], &t.conv[c]);
    }
    char sql[1024];
    snprintf(sql, sizeof(sql), "SELECT * FROM %s%s%s", table, order ? " ORDER BY " : "",
             order ? order : "");
    t.rows = PQexec(conn, sql);
    if (PQresultStatus(t.rows) != PGRES_TUPLES_OK) {
        fprintf(stderr, "select: %s", PQerrorMessage(conn));
        return 1;
    }
    int rc = 0;
    pgcdc_pq_writer *w = NULL;
    if (!bench) {
        rc = write_file(&t, out, &opts, 0, &w) ? 1 : 0;
    } else {
        /* typed values converted once, outside the clock (datums stay in
         * place, so decimal bytes pointing into their own fixed[] stay valid) */
        size_t nrows = (size_t)PQntuples(t.rows), n = nrows * (size_t)t.ncols;
        t.datums = calloc(n ? n : 1, sizeof(*t.datums));
        pgcdc_buf scratch = PGCDC_BUF_INIT;
        for (size_t r = 0; r < nrows; r++)
            for (int c = 0; c < t.ncols; c++) {
                pgcdc_pq_datum *d = &t.datums[r * (size_t)t.ncols + c];
                if (PQgetisnull(t.rows, (int)r, c)) {
                    d->null = 1;
                    continue;
                }
                if (t.conv[c] == PGCDC_PQ_PG_BYTEA) {
                    fprintf(stderr, "--bench does not support bytea columns\n");
                    return 1;
                }
                if (pgcdc_pq_pg_parse(t.conv[c], &t.pq[c], PQgetvalue(t.rows, (int)r, c),
                                      (size_t)PQgetlength(t.rows, (int)r, c), d, &scratch, err,
                                      sizeof(err)) != 0) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
            }
        printf("{\"rows\":%zu", nrows);
        const char *only = getenv("PGCDC_PQ_BENCH_ONLY"); /* "text" or "typed": profiling */
        double *cpu = calloc((size_t)bench, sizeof(double));
        for (int typed = 0; typed < 2; typed++) {
            const char *mode = typed ? "typed" : "text";
            if (only && strcmp(only, mode) != 0)
                continue;
            printf(",\"%s\":[", mode);
            for (int k = 0; k < bench; k++) {
                double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
                if (write_file(&t, out, &opts, typed, &w) != 0)
                    return 1;
                cpu[k] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
                printf("%s%.6f", k ? "," : "", clock_s(CLOCK_MONOTONIC) - t0);
            }
            printf("],\"%s_cpu\":[", mode);
            for (int k = 0; k < bench; k++)
                printf("%s%.6f", k ? "," : "", cpu[k]);
            printf("]");
        }
        free(cpu);
        FILE *f = fopen(out, "rb");
        long size = 0;
        if (f) {
            fseek(f, 0, SEEK_END);
            size = ftell(f);
            fclose(f);
        }
        printf(",\"bytes\":%ld}\n", size);
        pgcdc_buf_free(&scratch);
        free(t.datums);
    }
    pgcdc_pq_writer_free(w);
    for (int c = 0; c < t.ncols; c++)
        pgcdc_coltype_clear(&t.cols[c].type);
    free(t.cols);
    free(t.pq);
    free(t.conv);
    PQclear(t.rows);
    PQclear(cat);
    PQfinish(conn);
    return rc;
}
