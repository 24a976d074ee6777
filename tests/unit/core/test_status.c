/*
 * test_status.c - unit tests for the status model: progress arithmetic and
 * its wording, per-table and per-kind aggregates, thread-safe counters, the
 * status.json document and its writer.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"
#include "test.h"

static char dir[64];

static const char *fmt_progress(uint64_t done, int64_t est, int finished, double elapsed)
{
    static pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_progress p;
    pgcdc_progress_compute(done, est, finished, elapsed, &p);
    pgcdc_buf_reset(&b);
    pgcdc_progress_format(&p, &b);
    return b.data;
}

static const char *fmt_duration(double s)
{
    static pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_reset(&b);
    pgcdc_duration_format(s, &b);
    return b.data;
}

static void test_progress_compute(void)
{
    pgcdc_progress p;
    pgcdc_progress_compute(250, 1000, 0, 10, &p);
    CHECK_INT(p.done, 250);
    CHECK_INT(p.estimate, 1000);
    CHECK(p.percent == 25.0);
    CHECK(p.rate == 25.0);
    CHECK(p.eta_s == 30.0);
    CHECK(p.started && !p.finished);

    /* unknown estimate: no percentage, no ETA, but a rate */
    pgcdc_progress_compute(100, -1, 0, 4, &p);
    CHECK_INT(p.estimate, -1);
    CHECK(p.percent == -1 && p.eta_s == -1);
    CHECK(p.rate == 25.0);

    /* stale statistics: the estimate is raised to what was copied */
    pgcdc_progress_compute(1500, 1000, 0, 10, &p);
    CHECK_INT(p.estimate, 1500);
    CHECK(p.percent == 99.9);
    CHECK(p.eta_s == 0);

    /* finished: exact count, 100%, whatever the estimate said */
    pgcdc_progress_compute(900, 1000, 1, 9, &p);
    CHECK_INT(p.estimate, 900);
    CHECK(p.percent == 100 && p.eta_s == 0 && p.finished);
    pgcdc_progress_compute(0, -1, 1, 0, &p);
    CHECK(p.percent == 100 && p.rate == 0);

    /* nothing copied yet: no rate, so no ETA */
    pgcdc_progress_compute(0, 1000, 0, 0, &p);
    CHECK(p.eta_s == -1 && p.percent == 0 && !p.started);
    /* an estimate of 0 on a table still being read */
    pgcdc_progress_compute(0, 0, 0, 1, &p);
    CHECK(p.percent == 0);
}

static void test_progress_format(void)
{
    CHECK_STR(fmt_progress(250, 1000, 0, 10), "250 of ~1000 rows (25.0%), 25 rows/s, ETA 30s");
    CHECK_STR(fmt_progress(100, -1, 0, 4), "100 of unknown rows, 25 rows/s");
    CHECK_STR(fmt_progress(0, 1000, 0, 0), "waiting, ~1000 rows");
    CHECK_STR(fmt_progress(0, -1, 0, 0), "waiting, row count unknown");
    CHECK_STR(fmt_progress(900, 1000, 1, 90), "900 rows in 1m30s (10 rows/s)");
    /* copied, no rate yet: no ETA */
    CHECK_STR(fmt_progress(5, 1000, 0, 0), "5 of ~1000 rows (0.5%), 0 rows/s");
}

static void test_duration_format(void)
{
    CHECK_STR(fmt_duration(0), "0s");
    CHECK_STR(fmt_duration(44.6), "45s");
    CHECK_STR(fmt_duration(725), "12m05s");
    CHECK_STR(fmt_duration(3600 * 3 + 120 + 59), "3h02m");
    CHECK_STR(fmt_duration(-3), "0s");
}

static void test_null_status_is_a_no_op(void)
{
    pgcdc_status_set_phase(NULL, PGCDC_PHASE_SNAPSHOT);
    pgcdc_status_set_message(NULL, "x");
    pgcdc_status_set_stream(NULL, 1, 2, 3);
    CHECK_INT(pgcdc_status_table_add(NULL, "snapshot", "s", "t", 1), -1);
    pgcdc_status_table_begin(NULL, 0);
    pgcdc_status_table_add_rows(NULL, 0, 5);
    pgcdc_status_table_finish(NULL, 0);
    pgcdc_progress p;
    CHECK_INT(pgcdc_status_table_progress(NULL, 0, &p), -1);
    pgcdc_status_overall o;
    pgcdc_status_overall_get(NULL, "snapshot", &o);
    CHECK_INT(o.tables_total, 0);
    CHECK_INT(pgcdc_status_write(NULL, NULL, 0), 0);
    pgcdc_status_free(NULL);
}

static void test_tables_and_overall(void)
{
    pgcdc_status *st = pgcdc_status_new(NULL, "slot_a");
    CHECK(st != NULL);
    int a = pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, "public", "a", 100);
    int b = pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, "public", "b", 50);
    int c = pgcdc_status_table_add(st, "incremental", "public", "c", -1);
    CHECK_INT(a, 0);
    CHECK_INT(b, 1);
    CHECK_INT(c, 2);
    /* unknown ids are ignored */
    pgcdc_status_table_add_rows(st, 7, 10);
    pgcdc_status_table_add_rows(st, -1, 10);
    pgcdc_progress p;
    CHECK_INT(pgcdc_status_table_progress(st, 7, &p), -1);

    pgcdc_status_overall o;
    pgcdc_status_overall_get(st, PGCDC_STATUS_KIND_SNAPSHOT, &o);
    CHECK_INT(o.tables_total, 2);
    CHECK_INT(o.tables_done, 0);
    CHECK_INT(o.progress.estimate, 150);
    CHECK(!o.progress.started);

    pgcdc_status_table_begin(st, a);
    pgcdc_status_table_add_rows(st, a, 60);
    pgcdc_status_table_add_rows(st, a, 60); /* more than the estimate */
    pgcdc_status_table_finish(st, a);
    pgcdc_status_table_add_rows(st, b, 10); /* begins implicitly */
    CHECK_INT(pgcdc_status_table_progress(st, a, &p), 0);
    CHECK(p.finished && p.done == 120 && p.estimate == 120);
    CHECK_INT(pgcdc_status_table_progress(st, b, &p), 0);
    CHECK(p.started && !p.finished && p.done == 10 && p.estimate == 50);

    pgcdc_status_overall_get(st, PGCDC_STATUS_KIND_SNAPSHOT, &o);
    CHECK_INT(o.tables_done, 1);
    CHECK_INT(o.progress.done, 130);
    /* a finished table counts what it copied, a running one its estimate */
    CHECK_INT(o.progress.estimate, 170);
    CHECK(o.progress.started && !o.progress.finished);

    /* kinds are aggregated apart; one unknown estimate makes the sum unknown */
    pgcdc_status_table_add_rows(st, c, 5);
    pgcdc_status_overall_get(st, "incremental", &o);
    CHECK_INT(o.tables_total, 1);
    CHECK_INT(o.progress.estimate, -1);
    CHECK_INT(o.progress.done, 5);

    pgcdc_status_table_finish(st, b);
    pgcdc_status_overall_get(st, PGCDC_STATUS_KIND_SNAPSHOT, &o);
    CHECK(o.progress.finished);
    CHECK_INT(o.tables_done, 2);
    CHECK_INT(o.progress.estimate, 130);
    CHECK(o.progress.percent == 100);
    pgcdc_status_free(st);
}

typedef struct adder {
    pgcdc_status *st;
    int id;
} adder;

static void *add_many(void *arg)
{
    adder *a = arg;
    for (int i = 0; i < 10000; i++)
        pgcdc_status_table_add_rows(a->st, a->id, 3);
    return NULL;
}

static void test_concurrent_workers(void)
{
    pgcdc_status *st = pgcdc_status_new(NULL, "s");
    int id = pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, "public", "big", -1);
    pthread_t t[4];
    adder a = {st, id};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, add_many, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    pgcdc_progress p;
    pgcdc_status_table_progress(st, id, &p);
    CHECK_INT(p.done, 4 * 10000 * 3);
    pgcdc_status_free(st);
}

static json_t *render_json(pgcdc_status *st)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_status_render(st, &b);
    CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
    json_error_t jerr;
    json_t *root = json_loads(b.data, 0, &jerr);
    if (!root)
        fprintf(stderr, "not JSON: %s: %s\n", jerr.text, b.data);
    pgcdc_buf_free(&b);
    return root;
}

static void test_render(void)
{
    pgcdc_status *st = pgcdc_status_new(NULL, "slot_r");
    json_t *root = render_json(st);
    CHECK(root != NULL);
    CHECK_STR(json_string_value(json_object_get(root, "phase")), "starting");
    CHECK_STR(json_string_value(json_object_get(root, "slot")), "slot_r");
    CHECK_INT(json_integer_value(json_object_get(root, "pid")), getpid());
    CHECK(json_array_size(json_object_get(root, "tables")) == 0);
    CHECK(json_object_get(root, "streaming") == NULL);
    CHECK(json_object_get(root, "message") == NULL);
    json_decref(root);

    pgcdc_status_set_phase(st, PGCDC_PHASE_SNAPSHOT);
    int a = pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, "public", "we\"ird", 10);
    pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, "public", "b", -1);
    pgcdc_status_table_add_rows(st, a, 4);
    pgcdc_status_set_stream(st, 42, 100, 0x16B374D848ULL);
    pgcdc_status_set_message(st, "retrying:\nconnection lost");
    root = render_json(st);
    CHECK(root != NULL);
    CHECK_STR(json_string_value(json_object_get(root, "phase")), "snapshot");
    CHECK_STR(json_string_value(json_object_get(root, "message")), "retrying: connection lost");
    json_t *tables = json_object_get(root, "tables");
    CHECK(json_array_size(tables) == 2);
    json_t *t0 = json_array_get(tables, 0), *t1 = json_array_get(tables, 1);
    CHECK_STR(json_string_value(json_object_get(t0, "kind")), "snapshot");
    CHECK_STR(json_string_value(json_object_get(t0, "table")), "we\"ird");
    CHECK_STR(json_string_value(json_object_get(t0, "state")), "copying");
    CHECK(json_is_false(json_object_get(t0, "done")));
    CHECK_INT(json_integer_value(json_object_get(t0, "rows_done")), 4);
    CHECK_INT(json_integer_value(json_object_get(t0, "rows_estimate")), 10);
    CHECK(json_number_value(json_object_get(t0, "percent")) == 40.0);
    CHECK_STR(json_string_value(json_object_get(t1, "state")), "waiting");
    CHECK(json_is_null(json_object_get(t1, "rows_estimate")));
    CHECK(json_is_null(json_object_get(t1, "percent")));
    CHECK(json_is_null(json_object_get(t1, "eta_s")));
    json_t *o = json_object_get(json_object_get(root, "overall"), "snapshot");
    CHECK(o != NULL);
    CHECK_INT(json_integer_value(json_object_get(o, "tables_total")), 2);
    CHECK_INT(json_integer_value(json_object_get(o, "tables_done")), 0);
    CHECK_INT(json_integer_value(json_object_get(o, "rows_done")), 4);
    CHECK(json_is_null(json_object_get(o, "rows_estimate")));
    json_t *s = json_object_get(root, "streaming");
    CHECK_INT(json_integer_value(json_object_get(s, "events_acked")), 42);
    CHECK_INT(json_integer_value(json_object_get(s, "bytes_queued")), 100);
    CHECK_STR(json_string_value(json_object_get(s, "confirmed_lsn")), "16/B374D848");
    json_decref(root);

    pgcdc_status_set_message(st, NULL);
    root = render_json(st);
    CHECK(json_object_get(root, "message") == NULL);
    json_decref(root);
    pgcdc_status_free(st);
}

static json_t *load_status_file(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/status.json", dir);
    return json_load_file(path, 0, NULL);
}

static void test_write_file(void)
{
    char err[512], tmp[128];
    pgcdc_status *st = pgcdc_status_new(dir, "slot_w");
    pgcdc_status_set_phase(st, PGCDC_PHASE_STREAMING);
    CHECK_INT(pgcdc_status_write(st, err, sizeof(err)), 0);
    json_t *root = load_status_file();
    CHECK(root != NULL);
    CHECK_STR(json_string_value(json_object_get(root, "phase")), "streaming");
    json_decref(root);
    snprintf(tmp, sizeof(tmp), "%s/status.json.tmp", dir);
    CHECK(access(tmp, F_OK) != 0);
    /* freeing records the stop */
    pgcdc_status_free(st);
    root = load_status_file();
    CHECK_STR(json_string_value(json_object_get(root, "phase")), "stopped");
    json_decref(root);

    /* an unwritable directory is reported, not fatal */
    st = pgcdc_status_new("/nonexistent/pgcdc-status-test", "s");
    err[0] = 0;
    CHECK_INT(pgcdc_status_write(st, err, sizeof(err)), -1);
    CHECK(strstr(err, "status.json") != NULL);
    pgcdc_status_free(st);
}

static void test_writer_thread(void)
{
    char err[512];
    pgcdc_status *st = pgcdc_status_new(dir, "slot_t");
    CHECK_INT(pgcdc_status_start_writer(st, err, sizeof(err)), 0);
    pgcdc_status_set_phase(st, PGCDC_PHASE_SNAPSHOT);
    int id = pgcdc_status_table_add(st, PGCDC_STATUS_KIND_SNAPSHOT, "public", "t", 1000);
    pgcdc_status_table_add_rows(st, id, 123);
    int seen = 0;
    for (int i = 0; i < 50 && !seen; i++) {
        usleep(100000);
        json_t *root = load_status_file();
        json_t *t = json_array_get(json_object_get(root, "tables"), 0);
        seen = root && !strcmp(json_string_value(json_object_get(root, "phase")), "snapshot") &&
               json_integer_value(json_object_get(t, "rows_done")) == 123;
        json_decref(root);
    }
    CHECK(seen);
    pgcdc_status_free(st);
    json_t *root = load_status_file();
    CHECK_STR(json_string_value(json_object_get(root, "phase")), "stopped");
    json_decref(root);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pgcdc-test-status-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    TEST_RUN(test_progress_compute);
    TEST_RUN(test_progress_format);
    TEST_RUN(test_duration_format);
    TEST_RUN(test_null_status_is_a_no_op);
    TEST_RUN(test_tables_and_overall);
    TEST_RUN(test_concurrent_workers);
    TEST_RUN(test_render);
    TEST_RUN(test_write_file);
    TEST_RUN(test_writer_thread);
    char path[128];
    snprintf(path, sizeof(path), "%s/status.json", dir);
    unlink(path);
    rmdir(dir);
    TEST_DONE();
}
