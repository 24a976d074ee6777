/*
 * test_snapshot.c - COPY text-format row parsing used by the snapshot, and
 * the row estimates its progress reports rest on.
 */
#include <string.h>

#include "source/pg/snapshot.h"
#include "test.h"

static char err[256];

static int parse(const char *row, int ncols, pgcdc_buf *scratch, pgcdc_value *v)
{
    return pgcdc_copy_row_parse(row, strlen(row), ncols, scratch, v, err, sizeof(err));
}

static int is(const pgcdc_value *v, const char *want)
{
    return v->kind == 't' && v->len == strlen(want) && !memcmp(v->data, want, v->len);
}

static void test_plain_and_null(void)
{
    pgcdc_buf s = PGCDC_BUF_INIT;
    pgcdc_value v[3];
    CHECK_INT(parse("1\t\\N\thello\n", 3, &s, v), 0);
    CHECK(is(&v[0], "1"));
    CHECK(v[1].kind == 'n');
    CHECK(is(&v[2], "hello"));
    /* an empty string is not NULL */
    CHECK_INT(parse("\t\t", 3, &s, v), 0);
    CHECK(is(&v[0], "") && is(&v[1], "") && is(&v[2], ""));
    pgcdc_buf_free(&s);
}

static void test_escapes(void)
{
    pgcdc_buf s = PGCDC_BUF_INIT;
    pgcdc_value v[2];
    CHECK_INT(parse("a\\tb\\nc\\\\d\\r\\b\\f\\v\t\\101\\x41\\x4a\\7\\q", 2, &s, v), 0);
    CHECK(is(&v[0], "a\tb\nc\\d\r\b\f\v"));
    CHECK(is(&v[1], "AAJ\aq"));
    /* a literal "\N" inside text is escaped by the server as "\\N" */
    CHECK_INT(parse("\\\\N\tx", 2, &s, v), 0);
    CHECK(is(&v[0], "\\N"));
    /* UTF-8 passes through */
    CHECK_INT(parse("h\xc3\xa9\t\xe2\x82\xac", 2, &s, v), 0);
    CHECK(is(&v[0], "h\xc3\xa9") && is(&v[1], "\xe2\x82\xac"));
    pgcdc_buf_free(&s);
}

static void test_field_count_mismatch(void)
{
    pgcdc_buf s = PGCDC_BUF_INIT;
    pgcdc_value v[3];
    CHECK_INT(parse("1\t2\n", 3, &s, v), -1);
    CHECK(strstr(err, "fewer") != NULL);
    CHECK_INT(parse("1\t2\t3\t4\n", 3, &s, v), -1);
    CHECK(strstr(err, "more") != NULL);
    pgcdc_buf_free(&s);
}

static void test_values_stay_valid_across_fields(void)
{
    /* every value points into the scratch buffer, which must not move while
     * the row is parsed: a long row after a short one */
    pgcdc_buf s = PGCDC_BUF_INIT;
    pgcdc_value v[2];
    CHECK_INT(parse("a\tb", 2, &s, v), 0);
    char big[5000];
    memset(big, 'x', sizeof(big));
    memcpy(big + 2500, "\t", 1);
    big[sizeof(big) - 1] = 0;
    CHECK_INT(parse(big, 2, &s, v), 0);
    CHECK_INT(v[0].len, 2500);
    CHECK_INT(v[1].len, sizeof(big) - 1 - 2501);
    CHECK(v[0].data[0] == 'x' && v[1].data[v[1].len - 1] == 'x');
    pgcdc_buf_free(&s);
}

static void test_row_estimate(void)
{
    /* statistics: their density times the size now (the table grew) */
    CHECK_INT(pgcdc_snapshot_estimate_rows(1000, 10, 20, 8, 8192), 2000);
    CHECK_INT(pgcdc_snapshot_estimate_rows(1000, 10, 10, 8, 8192), 1000);
    CHECK_INT(pgcdc_snapshot_estimate_rows(1000.4, 3, 3, 8, 8192), 1000);
    /* no heap pages: nothing to copy, whatever the statistics say */
    CHECK_INT(pgcdc_snapshot_estimate_rows(-1, 0, 0, 8, 8192), 0);
    CHECK_INT(pgcdc_snapshot_estimate_rows(500, 5, 0, 8, 8192), 0);
    /* never analyzed (-1) or empty when analyzed (0): the planner's guess
     * from the widths, (8192 - 24) / (8 + 24 + 4) = 226 rows of two int4 */
    CHECK_INT(pgcdc_snapshot_estimate_rows(-1, 0, 1328, 8, 8192), 226 * 1328);
    CHECK_INT(pgcdc_snapshot_estimate_rows(0, 4, 10, 8, 8192), 2260);
    CHECK_INT(pgcdc_snapshot_estimate_rows(0, 0, 10, 8, 8192), 2260);
    /* very wide rows still count at least one per page */
    CHECK_INT(pgcdc_snapshot_estimate_rows(-1, 0, 7, 100000, 8192), 7);
    /* nothing usable */
    CHECK_INT(pgcdc_snapshot_estimate_rows(-1, 0, 7, -1, 8192), -1);
    CHECK_INT(pgcdc_snapshot_estimate_rows(-1, 0, 7, 8, 0), -1);
}

int main(void)
{
    TEST_RUN(test_plain_and_null);
    TEST_RUN(test_escapes);
    TEST_RUN(test_field_count_mismatch);
    TEST_RUN(test_values_stay_valid_across_fields);
    TEST_RUN(test_row_estimate);
    TEST_DONE();
}
