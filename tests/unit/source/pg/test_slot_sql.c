/*
 * test_slot_sql.c - the replication commands that create a slot and switch
 * its failover flag, across server versions.
 */
#include "source/pg/pg_source.h"
#include "test.h"

static const char *create(int version, int export_snapshot, int failover)
{
    static pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_buf_reset(&b);
    pgcdc_pg_create_slot_sql(&b, "\"s1\"", version, export_snapshot, failover);
    return b.data;
}

static void test_create(void)
{
    /* before 15: the old keywords, and no failover slots */
    CHECK_STR(create(140010, 1, 0),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput EXPORT_SNAPSHOT");
    CHECK_STR(create(100023, 0, 0),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput NOEXPORT_SNAPSHOT");
    CHECK_STR(create(140010, 1, 1),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput EXPORT_SNAPSHOT");
    /* 15 and 16: the option list, still no failover */
    CHECK_STR(create(150004, 1, 0),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput (SNAPSHOT 'export')");
    CHECK_STR(create(160002, 0, 1),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput (SNAPSHOT 'nothing')");
    /* 17: FAILOVER in the option list */
    CHECK_STR(create(170000, 1, 1),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput (SNAPSHOT 'export', FAILOVER true)");
    CHECK_STR(
        create(180001, 0, 1),
        "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput (SNAPSHOT 'nothing', FAILOVER true)");
    CHECK_STR(create(170002, 1, 0),
              "CREATE_REPLICATION_SLOT \"s1\" LOGICAL pgoutput (SNAPSHOT 'export')");
}

static void test_alter(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_pg_alter_slot_failover_sql(&b, "\"my slot\"", 1);
    CHECK_STR(b.data, "ALTER_REPLICATION_SLOT \"my slot\" (FAILOVER true)");
    pgcdc_buf_reset(&b);
    pgcdc_pg_alter_slot_failover_sql(&b, "\"s\"", 0);
    CHECK_STR(b.data, "ALTER_REPLICATION_SLOT \"s\" (FAILOVER false)");
    pgcdc_buf_free(&b);
}

int main(void)
{
    TEST_RUN(test_create);
    TEST_RUN(test_alter);
    TEST_DONE();
}
