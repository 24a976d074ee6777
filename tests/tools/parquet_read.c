/*
 * parquet_read.c - test and benchmark driver of the Parquet reader: reads a
 * file with pgcdc's reader and prints its rows as JSON lines, or copies
 * them into a new file with pgcdc's writer (what compaction does).
 *
 *   pgcdc_parquet_read FILE [--columns A,B,...] [--schema] [--readahead N]
 *       [--copy OUT [--codec none|snappy|zstd]] [--bench N]
 *
 * Rows are JSON arrays of the values in physical form: null, true/false,
 * integers (dates, times, timestamps and INT32/INT64 decimals unconverted),
 * floats (%.17g; "NaN", "Infinity", "-Infinity" as strings), byte arrays
 * with a STRING/JSON/ENUM annotation as strings, other byte arrays, fixed
 * length ones and INT96 as lowercase hex. --schema prints the schema and
 * footer metadata as one JSON object first. --bench N reads the file N
 * times without printing and prints one JSON line with the rows and the
 * seconds (wall and process CPU) of each run. Exit status 1 with the
 * reader's message on stderr when the file cannot be read.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format/parquet/parquet.h"
#include "format/parquet/reader.h"

static void usage(void)
{
    fprintf(stderr, "usage: pgcdc_parquet_read FILE [--columns A,B,...] [--schema] "
                    "[--readahead N] [--copy OUT [--codec none|snappy|zstd]] [--bench N]\n");
    exit(2);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_json_string(FILE *f, const unsigned char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void put_hex(FILE *f, const unsigned char *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
    fputc('"', f);
}

static void put_double(FILE *f, double v)
{
    if (isnan(v))
        fputs("\"NaN\"", f);
    else if (isinf(v))
        fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", f);
    else
        fprintf(f, "%.17g", v);
}

static void put_value(FILE *f, const pgcdc_pq_column *c, const pgcdc_pq_datum *d)
{
    if (d->null) {
        fputs("null", f);
        return;
    }
    switch (c->physical) {
    case PGCDC_PQ_BOOLEAN:
        fputs(d->v.i32 ? "true" : "false", f);
        break;
    case PGCDC_PQ_INT32:
        if (c->logical == PGCDC_PQ_LOGICAL_UINT)
            fprintf(f, "%u", (unsigned)d->v.i32);
        else
            fprintf(f, "%d", d->v.i32);
        break;
    case PGCDC_PQ_INT64:
        if (c->logical == PGCDC_PQ_LOGICAL_UINT)
            fprintf(f, "%llu", (unsigned long long)d->v.i64);
        else
            fprintf(f, "%lld", (long long)d->v.i64);
        break;
    case PGCDC_PQ_FLOAT:
        put_double(f, d->v.f4);
        break;
    case PGCDC_PQ_DOUBLE:
        put_double(f, d->v.f8);
        break;
    case PGCDC_PQ_BYTE_ARRAY:
        if (c->logical == PGCDC_PQ_LOGICAL_STRING || c->logical == PGCDC_PQ_LOGICAL_JSON ||
            c->logical == PGCDC_PQ_LOGICAL_ENUM)
            put_json_string(f, d->bytes, d->len);
        else
            put_hex(f, d->bytes, d->len);
        break;
    default:
        put_hex(f, d->bytes, d->len);
    }
}

static void put_schema(FILE *f, const pgcdc_pq_reader *r)
{
    fprintf(f, "{\"num_rows\": %lld, \"row_groups\": [", (long long)pgcdc_pq_reader_num_rows(r));
    for (int g = 0; g < pgcdc_pq_reader_num_row_groups(r); g++)
        fprintf(f, "%s%lld", g ? ", " : "", (long long)pgcdc_pq_reader_row_group_rows(r, g));
    fputs("], \"columns\": [", f);
    for (int i = 0; i < pgcdc_pq_reader_ncols(r); i++) {
        const pgcdc_pq_column *c = pgcdc_pq_reader_column(r, i);
        fprintf(f, "%s{\"name\": ", i ? ", " : "");
        put_json_string(f, (const unsigned char *)c->name, strlen(c->name));
        fprintf(f,
                ", \"physical\": %d, \"logical\": %d, \"nullable\": %s, \"type_length\": %d, "
                "\"precision\": %d, \"scale\": %d, \"int_bits\": %d, \"utc\": %s, \"chunks\": [",
                (int)c->physical, (int)c->logical, c->nullable ? "true" : "false", c->type_length,
                c->precision, c->scale, c->int_bits, c->utc ? "true" : "false");
        for (int g = 0; g < pgcdc_pq_reader_num_row_groups(r); g++) {
            const pgcdc_pq_chunk_meta *m = pgcdc_pq_reader_chunk(r, g, i);
            fprintf(f, "%s{\"codec\": %d, \"encodings\": %u, \"null_count\": %lld, \"min\": ",
                    g ? ", " : "", m->codec, m->encodings, (long long)m->null_count);
            if (m->min)
                put_hex(f, m->min, m->min_len);
            else
                fputs("null", f);
            fputs(", \"max\": ", f);
            if (m->max)
                put_hex(f, m->max, m->max_len);
            else
                fputs("null", f);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("], \"kv\": {", f);
    size_t nkv;
    const pgcdc_pq_kv *kv = pgcdc_pq_reader_kv(r, &nkv);
    for (size_t i = 0; i < nkv; i++) {
        fputs(i ? ", " : "", f);
        put_json_string(f, (const unsigned char *)kv[i].key, strlen(kv[i].key));
        fputs(": ", f);
        if (kv[i].value)
            put_json_string(f, (const unsigned char *)kv[i].value, strlen(kv[i].value));
        else
            fputs("null", f);
    }
    fputs("}, \"created_by\": ", f);
    const char *cb = pgcdc_pq_reader_created_by(r);
    if (cb)
        put_json_string(f, (const unsigned char *)cb, strlen(cb));
    else
        fputs("null", f);
    fputs("}\n", f);
}

static int file_write(void *ctx, const void *p, size_t n, char *errstr, size_t es)
{
    if (fwrite(p, 1, n, ctx) != n) {
        snprintf(errstr, es, "fwrite failed");
        return -1;
    }
    return 0;
}

typedef struct {
    const char *path, *columns, *copy, *codec;
    int schema, bench;
    size_t readahead;
} args_t;

/* Opens the file's reader with the projection of args. */
static pgcdc_pq_reader *open_reader(const args_t *a, int fd, uint64_t size, int *fdp)
{
    char err[512];
    pgcdc_pq_reader *r;
    *fdp = fd;
    if (pgcdc_pq_reader_open(&r, pgcdc_pq_read_fd, fdp, size, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", a->path, err);
        return NULL;
    }
    if (a->readahead)
        pgcdc_pq_reader_set_readahead(r, a->readahead);
    if (a->columns) {
        int n = 0, *sel = calloc((size_t)pgcdc_pq_reader_ncols(r) + 1, sizeof(int));
        char *list = strdup(a->columns), *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int i = pgcdc_pq_reader_find(r, t);
            if (i < 0 || n == pgcdc_pq_reader_ncols(r)) {
                fprintf(stderr, "%s: no column \"%s\"\n", a->path, t);
                exit(1);
            }
            sel[n++] = i;
        }
        free(list);
        if (pgcdc_pq_reader_select(r, sel, n, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", a->path, err);
            exit(1);
        }
        free(sel);
    }
    return r;
}

int main(int argc, char **argv)
{
    args_t a = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--columns") && i + 1 < argc)
            a.columns = argv[++i];
        else if (!strcmp(argv[i], "--schema"))
            a.schema = 1;
        else if (!strcmp(argv[i], "--copy") && i + 1 < argc)
            a.copy = argv[++i];
        else if (!strcmp(argv[i], "--codec") && i + 1 < argc)
            a.codec = argv[++i];
        else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
            a.bench = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--readahead") && i + 1 < argc)
            a.readahead = (size_t)strtoull(argv[++i], NULL, 10);
        else if (argv[i][0] != '-' && !a.path)
            a.path = argv[i];
        else
            usage();
    }
    if (!a.path)
        usage();
    int fd = open(a.path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(a.path);
        return 1;
    }
    static int fdbox;
    char err[512];
    pgcdc_pq_reader *r = open_reader(&a, fd, (uint64_t)st.st_size, &fdbox);
    if (!r)
        return 1;
    int ncols = pgcdc_pq_reader_ncols(r);
    pgcdc_pq_datum *vals = calloc((size_t)ncols, sizeof(pgcdc_pq_datum));
    int rc = 0;

    if (a.bench > 0) {
        printf("{\"rows\": %lld, \"wall\": [", (long long)pgcdc_pq_reader_num_rows(r));
        for (int run = 0; run < a.bench; run++) {
            if (run) {
                pgcdc_pq_reader_free(r);
                r = open_reader(&a, fd, (uint64_t)st.st_size, &fdbox);
            }
            double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            int64_t rows = 0;
            size_t check = 0;
            int n;
            while ((n = pgcdc_pq_reader_next(r, vals, err, sizeof(err))) == 1) {
                rows++;
                check += vals[0].len + (size_t)vals[0].null;
            }
            double w1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
            if (n < 0) {
                fprintf(stderr, "%s: %s\n", a.path, err);
                return 1;
            }
            printf("%s[%.6f, %.6f, %zu]", run ? ", " : "", w1 - w0, c1 - c0, check % 10);
        }
        printf("]}\n");
    } else if (a.copy) {
        pgcdc_pq_options o;
        pgcdc_pq_options_init(&o);
        if (a.codec)
            o.codec = !strcmp(a.codec, "none")     ? PGCDC_PQ_UNCOMPRESSED
                      : !strcmp(a.codec, "snappy") ? PGCDC_PQ_SNAPPY
                                                   : PGCDC_PQ_ZSTD;
        FILE *out = fopen(a.copy, "wb");
        pgcdc_pq_writer *w = NULL;
        if (!out || pgcdc_pq_writer_open(&w, pgcdc_pq_reader_columns(r), ncols, &o, file_write, out,
                                         err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", a.copy, out ? err : "cannot create");
            return 1;
        }
        int n;
        while ((n = pgcdc_pq_reader_next(r, vals, err, sizeof(err))) == 1) {
            for (int i = 0; i < ncols; i++)
                pgcdc_pq_put_datum(w, i, &vals[i]);
            if (pgcdc_pq_writer_end_row(w, err, sizeof(err)) != 0) {
                n = -1;
                break;
            }
        }
        if (n < 0 || pgcdc_pq_writer_finish(w, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", a.path, err);
            rc = 1;
        }
        pgcdc_pq_writer_free(w);
        fclose(out);
    } else {
        if (a.schema)
            put_schema(stdout, r);
        int n;
        int nsel = ncols;
        int *idx = calloc((size_t)ncols, sizeof(int));
        for (int i = 0; i < ncols; i++)
            idx[i] = i;
        if (a.columns) { /* the projection's order */
            nsel = 0;
            char *list = strdup(a.columns), *save = NULL;
            for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save))
                idx[nsel++] = pgcdc_pq_reader_find(r, t);
            free(list);
        }
        while ((n = pgcdc_pq_reader_next(r, vals, err, sizeof(err))) == 1) {
            fputc('[', stdout);
            for (int i = 0; i < nsel; i++) {
                if (i)
                    fputs(", ", stdout);
                put_value(stdout, pgcdc_pq_reader_column(r, idx[i]), &vals[i]);
            }
            fputs("]\n", stdout);
        }
        free(idx);
        if (n < 0) {
            fprintf(stderr, "%s: %s\n", a.path, err);
            rc = 1;
        }
    }
    free(vals);
    pgcdc_pq_reader_free(r);
    close(fd);
    return rc;
}
