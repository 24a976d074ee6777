/*
 * test_delta_table.c - the local lake store (durable put, atomic
 * put-if-absent, listing, uploads) and Delta tables on it: commits, commit
 * conflicts between two writers, reopening, and logs pgcdc must refuse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink/lake/delta_table.h"
#include "test.h"

static char err[512];
static char root[256];

static int count_cb(void *ctx, const char *key, int64_t size, int64_t mtime_ms)
{
    (void)mtime_ms;
    (void)size;
    int *n = ctx;
    (*n)++;
    CHECK(strncmp(key, "t/", 2) == 0);
    return 0;
}

static void test_store(void)
{
    pgcdc_lake_store *s = pgcdc_lake_store_local_open(root, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    const pgcdc_lake_store_type *st = s->type;
    CHECK_INT(st->put(s, "t/a/x.txt", "one", 3, err, sizeof(err)), 0);
    CHECK_INT(st->put(s, "t/a/x.txt", "two", 3, err, sizeof(err)), 0);
    CHECK_INT(st->put_if_absent(s, "t/a/x.txt", "three", 5, err, sizeof(err)), 1);
    CHECK_INT(st->put_if_absent(s, "t/b/y.txt", "four", 4, err, sizeof(err)), 0);
    pgcdc_buf b = PGCDC_BUF_INIT;
    CHECK_INT(st->get(s, "t/a/x.txt", &b, err, sizeof(err)), 0);
    CHECK_INT(b.len, 3);
    CHECK(b.data && !memcmp(b.data, "two", 3));
    pgcdc_buf_reset(&b);
    CHECK_INT(st->get(s, "t/none", &b, err, sizeof(err)), 1);

    pgcdc_lake_upload *up = NULL;
    CHECK_INT(st->upload_begin(s, "t/c/big.bin", &up, err, sizeof(err)), 0);
    for (int i = 0; i < 100; i++)
        CHECK_INT(st->upload_write(up, "0123456789", 10, err, sizeof(err)), 0);
    int n = 0;
    CHECK_INT(st->list(s, "t/", count_cb, &n, err, sizeof(err)), 0);
    CHECK_INT(n, 2); /* the upload is not visible before finish */
    CHECK_INT(st->upload_finish(up, err, sizeof(err)), 0);
    CHECK_INT(st->get(s, "t/c/big.bin", &b, err, sizeof(err)), 0);
    CHECK_INT(b.len, 1000);
    CHECK_INT(st->upload_begin(s, "t/c/gone.bin", &up, err, sizeof(err)), 0);
    st->upload_abort(up);
    n = 0;
    CHECK_INT(st->list(s, "t/", count_cb, &n, err, sizeof(err)), 0);
    CHECK_INT(n, 3);
    n = 0;
    CHECK_INT(st->list(s, "t/a", count_cb, &n, err, sizeof(err)), 0);
    CHECK_INT(n, 1);
    CHECK_INT(st->remove(s, "t/a/x.txt", err, sizeof(err)), 0);
    CHECK_INT(st->remove(s, "t/a/x.txt", err, sizeof(err)), 0);
    n = 0;
    CHECK_INT(st->list(s, "t/", count_cb, &n, err, sizeof(err)), 0);
    CHECK_INT(n, 2);
    pgcdc_buf_free(&b);
    st->close(s);
}

static void first_commit(pgcdc_buf *c)
{
    pgcdc_buf schema = PGCDC_BUF_INIT;
    pgcdc_delta_field f[] = {{"id", "long", 0}};
    pgcdc_delta_schema_string(&schema, f, 1);
    pgcdc_buf_putc(&schema, 0);
    pgcdc_delta_metadata md = {
        "00000000-0000-4000-8000-000000000000", NULL, schema.data, NULL, 0, NULL, 0, 1};
    pgcdc_delta_put_protocol(c, 0);
    pgcdc_delta_put_metadata(c, &md);
    pgcdc_buf_free(&schema);
}

static void test_table(void)
{
    pgcdc_lake_store *s = pgcdc_lake_store_local_open(root, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    pgcdc_delta_table a, b;
    CHECK_INT(pgcdc_delta_table_open(&a, s, "tables/orders/", err, sizeof(err)), 0);
    CHECK_INT(a.state.version, -1);
    CHECK_INT(pgcdc_delta_table_open(&b, s, "tables/orders", err, sizeof(err)), 0);

    pgcdc_buf c = PGCDC_BUF_INIT;
    first_commit(&c);
    pgcdc_delta_file f = {"part-0.parquet", NULL, 0, 10};
    pgcdc_delta_put_add(&c, &f, 1, 1, NULL);
    pgcdc_delta_put_txn(&c, "pgcdc", 5, 1);
    CHECK_INT(pgcdc_delta_table_commit(&a, c.data, c.len, err, sizeof(err)), 0);
    CHECK_INT(a.state.version, 0);
    CHECK_INT(pgcdc_delta_state_txn(&a.state, "pgcdc"), 5);

    /* b still believes the table is empty: its commit 0 conflicts */
    CHECK_INT(pgcdc_delta_table_commit(&b, c.data, c.len, err, sizeof(err)), 1);
    CHECK_INT(b.state.version, -1);
    CHECK_INT(pgcdc_delta_table_refresh(&b, err, sizeof(err)), 0);
    CHECK_INT(b.state.version, 0);
    pgcdc_buf_reset(&c);
    pgcdc_delta_put_remove(&c, &f, 2, 1);
    pgcdc_delta_put_txn(&c, "pgcdc", 6, 2);
    CHECK_INT(pgcdc_delta_table_commit(&b, c.data, c.len, err, sizeof(err)), 0);
    CHECK_INT(b.state.nfiles, 0);
    pgcdc_delta_table_close(&b);

    pgcdc_delta_table r;
    CHECK_INT(pgcdc_delta_table_open(&r, s, "tables/orders", err, sizeof(err)), 0);
    CHECK_INT(r.state.version, 1);
    CHECK_INT(pgcdc_delta_state_txn(&r.state, "pgcdc"), 6);
    pgcdc_delta_table_close(&r);

    /* a gap in the log */
    CHECK_INT(s->type->put(s, "tables/orders/_delta_log/00000000000000000003.json", "{}\n", 3, err,
                           sizeof(err)),
              0);
    CHECK_INT(pgcdc_delta_table_open(&r, s, "tables/orders", err, sizeof(err)), -1);
    CHECK(strstr(err, "commit 2 is missing") != NULL);
    pgcdc_delta_table_close(&r);

    /* a log that starts at a checkpoint */
    CHECK_INT(s->type->put(s, "tables/cp/_delta_log/00000000000000000010.checkpoint.parquet", "x",
                           1, err, sizeof(err)),
              0);
    CHECK_INT(s->type->put(s, "tables/cp/_delta_log/00000000000000000011.json", "{}\n", 3, err,
                           sizeof(err)),
              0);
    CHECK_INT(pgcdc_delta_table_open(&r, s, "tables/cp", err, sizeof(err)), -1);
    CHECK(strstr(err, "replaced by a checkpoint") != NULL);
    pgcdc_delta_table_close(&r);

    pgcdc_delta_table_close(&a);
    pgcdc_buf_free(&c);
    s->type->close(s);
}

static void test_bad_root(void)
{
    CHECK(pgcdc_lake_store_local_open("/proc/pgcdc-lake-test", err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/proc/pgcdc-lake-test") != NULL);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/pgcdc-test-lake-XXXXXX");
    if (!mkdtemp(root))
        return 1;
    TEST_RUN(test_store);
    TEST_RUN(test_table);
    TEST_RUN(test_bad_root);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    TEST_DONE();
}
