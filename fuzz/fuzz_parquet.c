/*
 * fuzz_parquet.c - libFuzzer driver for the Parquet reader.
 *
 * Files are untrusted input (compaction reads what other writers left in a
 * lake): arbitrary bytes are opened as a file and read to the end twice,
 * once whole with the default readahead and once with a tiny readahead (so
 * every page needs window refills) and a projection of every other column
 * in reverse order. Pages are limited to 4 MiB and the rows read per pass
 * bounded, so that a file whose runs claim billions of values does not turn
 * into a timeout. Any crash, leak, over-read or undefined behaviour is
 * found; every failure must come with a message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *data;
    size_t size;
} mem_file;

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len, char *errstr, size_t es)
{
    const mem_file *m = ctx;
    if (off > m->size || len > m->size - off) {
        snprintf(errstr, es, "read past the end");
        return -1;
    }
    memcpy(buf, m->data + off, len);
    return 0;
}

static void read_all(const mem_file *m, int pass)
{
    pgcdc_pq_reader *r;
    char err[600];
    err[0] = 0;
    if (pgcdc_pq_reader_open(&r, mem_read, (void *)m, m->size, err, sizeof(err)) != 0) {
        if (!err[0])
            __builtin_trap();
        return;
    }
    pgcdc_pq_reader_set_max_page(r, (size_t)4 << 20);
    int ncols = pgcdc_pq_reader_ncols(r);
    if (pass == 1) {
        pgcdc_pq_reader_set_readahead(r, 16);
        int *sel = calloc((size_t)ncols, sizeof(int)), n = 0;
        for (int i = ncols - 1; i >= 0; i -= 2)
            sel[n++] = i;
        if (pgcdc_pq_reader_select(r, sel, n, err, sizeof(err)) != 0)
            __builtin_trap();
        free(sel);
    }
    for (int g = 0; g < pgcdc_pq_reader_num_row_groups(r); g++)
        for (int i = 0; i < ncols; i++)
            if (!pgcdc_pq_reader_chunk(r, g, i))
                __builtin_trap();
    pgcdc_pq_datum *vals = calloc((size_t)ncols, sizeof(pgcdc_pq_datum));
    size_t sum = 0;
    int rc;
    for (int64_t rows = 0; rows < 100000; rows++) {
        err[0] = 0;
        rc = pgcdc_pq_reader_next(r, vals, err, sizeof(err));
        if (rc < 0 && !err[0])
            __builtin_trap();
        if (rc != 1)
            break;
        for (int i = 0; i < (pass == 1 ? (ncols + 1) / 2 : ncols); i++)
            if (!vals[i].null && vals[i].len)
                sum += ((const unsigned char *)vals[i].bytes)[vals[i].len - 1]; /* touch */
    }
    (void)sum;
    free(vals);
    pgcdc_pq_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mem_file m = {data, size};
    read_all(&m, 0);
    read_all(&m, 1);
    return 0;
}
