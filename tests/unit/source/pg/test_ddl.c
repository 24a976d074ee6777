/*
 * test_ddl.c - unit tests for the schema.changes message decoder and the
 * trigger SQL (src/source/pg/ddl.c): a message as the trigger writes it,
 * dropped tables, format versions, and errors that name the bad field.
 */
#include <stdio.h>
#include <string.h>

#include "source/pg/ddl.h"
#include "test.h"

static char err[512];

/* The shape the trigger's json_build_object() produces. */
static const char message[] =
    "{\"v\" : 1, \"tag\" : \"ALTER TABLE\", \"ddl\" : \"ALTER TABLE t ADD m mood\", "
    "\"tables\" : [{\"oid\" : 16397, \"type\" : \"ALTER\", \"schema\" : \"public\", "
    "\"name\" : \"t\", \"comment\" : null, \"pk\" : [\"id\"], \"columns\" : ["
    "{\"name\" : \"id\", \"type\" : \"int4\", \"type_oid\" : 23, \"elem_oid\" : 0, "
    "\"typmod\" : -1, \"typtype\" : \"b\", \"array\" : false, \"not_null\" : true, "
    "\"identity\" : false, \"generated\" : false, \"default\" : \"nextval('t_id_seq')\", "
    "\"comment\" : null, \"enum\" : null}, "
    "{\"name\" : \"tags\", \"type\" : \"_text\", \"type_oid\" : 1009, \"elem_oid\" : 25, "
    "\"typmod\" : -1, \"typtype\" : \"b\", \"array\" : true, \"not_null\" : false, "
    "\"identity\" : false, \"generated\" : false, \"default\" : null, "
    "\"comment\" : \"labels\", \"enum\" : null}, "
    "{\"name\" : \"m\", \"type\" : \"mood\", \"type_oid\" : 16388, \"elem_oid\" : 0, "
    "\"typmod\" : -1, \"typtype\" : \"e\", \"array\" : false, \"not_null\" : false, "
    "\"identity\" : false, \"generated\" : false, \"default\" : null, \"comment\" : null, "
    "\"enum\" : [\"sad\", \"ok\"]}]}], "
    "\"dropped\" : [{\"oid\" : 16420, \"schema\" : \"s\", \"name\" : \"gone\"}]}";

static void test_decode(void)
{
    pgcdc_ddl_event ev;
    CHECK_INT(pgcdc_ddl_decode(message, strlen(message), &ev, err, sizeof(err)), 0);
    CHECK_STR(ev.sc.tag, "ALTER TABLE");
    CHECK_STR(ev.sc.ddl, "ALTER TABLE t ADD m mood");
    CHECK_INT(ev.sc.ntables, 2);
    if (ev.sc.ntables == 2) {
        pgcdc_ddl_table *t = &ev.sc.tables[0], *d = &ev.sc.tables[1];
        CHECK_STR(t->change, "ALTER");
        CHECK_INT(t->relid, 16397);
        CHECK_STR(t->schema, "public");
        CHECK_STR(t->name, "t");
        CHECK(t->comment == NULL);
        CHECK_INT(t->described, 1);
        CHECK_INT(t->captured, 1);
        CHECK_INT(t->npk, 1);
        CHECK_STR(t->pk[0], "id");
        CHECK_INT(t->ncols, 3);
        if (t->ncols == 3) {
            CHECK_STR(t->cols[0].name, "id");
            CHECK_INT(t->cols[0].type_oid, 23);
            CHECK_INT(t->cols[0].typmod, -1);
            CHECK_INT(t->cols[0].not_null, 1);
            CHECK_INT(t->cols[0].position, 1);
            CHECK_STR(t->cols[0].default_expr, "nextval('t_id_seq')");
            CHECK_INT(t->cols[0].included, 1);
            CHECK_INT(t->cols[1].is_array, 1);
            CHECK_INT(t->cols[1].elem_oid, 25);
            CHECK_STR(t->cols[1].comment, "labels");
            CHECK_INT(t->cols[1].position, 2);
            CHECK(t->cols[2].typtype == 'e');
            CHECK_INT(t->cols[2].nenum, 2);
            if (t->cols[2].nenum == 2)
                CHECK_STR(t->cols[2].enum_labels[1], "ok");
        }
        CHECK_STR(d->change, "DROP");
        CHECK_STR(d->schema, "s");
        CHECK_STR(d->name, "gone");
        CHECK_INT(d->described, 0);
        CHECK_INT(d->ncols, 0);
    }
    pgcdc_ddl_event_free(&ev);
}

static void expect_error(const char *text, const char *want)
{
    pgcdc_ddl_event ev;
    err[0] = 0;
    CHECK_INT(pgcdc_ddl_decode(text, strlen(text), &ev, err, sizeof(err)), -1);
    if (!strstr(err, want)) {
        fprintf(stderr, "error '%s' lacks '%s'\n", err, want);
        test_current_failed = 1;
    }
    CHECK(ev.sc.tables == NULL && ev.root == NULL); /* nothing left to free */
}

static void test_errors(void)
{
    expect_error("not json", "not JSON");
    expect_error("[1]", "not a JSON object");
    expect_error("{\"v\":2,\"tag\":\"x\",\"tables\":[],\"dropped\":[]}", "format 2");
    expect_error("{\"tag\":\"x\",\"tables\":[],\"dropped\":[]}", "v: missing");
    expect_error("{\"v\":1,\"tag\":\"x\",\"tables\":{},\"dropped\":[]}", "not an array");
    expect_error("{\"v\":1,\"tag\":\"x\",\"tables\":[],\"dropped\":[{\"oid\":1,\"schema\":\"s\"}]}",
                 "dropped[0].name: missing or not a string");
    expect_error("{\"v\":1,\"tag\":\"x\",\"tables\":[{\"oid\":1,\"type\":\"RENAME\",\"schema\":"
                 "\"s\",\"name\":\"n\"}],\"dropped\":[]}",
                 "tables[0].type: neither CREATE nor ALTER");
    /* a bad column after a good one, with an enum list already decoded */
    expect_error("{\"v\":1,\"tag\":\"x\",\"ddl\":null,\"tables\":[{\"oid\":1,\"type\":\"ALTER\","
                 "\"schema\":\"s\",\"name\":\"n\",\"pk\":null,\"columns\":[{\"name\":\"a\","
                 "\"type\":\"e\",\"type_oid\":5,\"elem_oid\":0,\"typmod\":-1,\"typtype\":\"e\","
                 "\"array\":false,\"not_null\":false,\"identity\":false,\"generated\":false,"
                 "\"enum\":[\"x\"]},{\"name\":\"b\",\"type\":\"int4\",\"type_oid\":23,"
                 "\"elem_oid\":0,\"typmod\":\"-1\"}]}],\"dropped\":[]}",
                 "tables[0].columns[1].typmod: missing or not an integer");
    expect_error(
        "{\"v\":1,\"tag\":\"x\",\"tables\":[{\"oid\":1,\"type\":\"ALTER\",\"schema\":\"s\","
        "\"name\":\"n\",\"pk\":[1]}],\"dropped\":[]}",
        "tables[0].pk: holds a non-string");
}

static void test_sql(void)
{
    const char *in = pgcdc_ddl_install_sql(), *out = pgcdc_ddl_remove_sql();
    CHECK(strstr(in, "CREATE OR REPLACE FUNCTION " PGCDC_DDL_FUNCTION) != NULL);
    CHECK(strstr(in, "CREATE EVENT TRIGGER " PGCDC_DDL_TRIGGER " ON ddl_command_end") != NULL);
    CHECK(strstr(in, "CREATE EVENT TRIGGER " PGCDC_DDL_DROP_TRIGGER " ON sql_drop") != NULL);
    CHECK(strstr(in, "pg_logical_emit_message(true, '" PGCDC_DDL_PREFIX "'") != NULL);
    CHECK(strstr(in, "SECURITY DEFINER") == NULL);
    CHECK(strstr(in, "\nBEGIN;\n") != NULL);
    CHECK(strstr(in, "COMMIT;\n") != NULL);
    CHECK(strstr(out, "DROP EVENT TRIGGER IF EXISTS " PGCDC_DDL_TRIGGER ";") != NULL);
    CHECK(strstr(out, "DROP EVENT TRIGGER IF EXISTS " PGCDC_DDL_DROP_TRIGGER ";") != NULL);
    CHECK(strstr(out, "DROP FUNCTION IF EXISTS " PGCDC_DDL_FUNCTION ";") != NULL);
}

int main(void)
{
    TEST_RUN(test_decode);
    TEST_RUN(test_errors);
    TEST_RUN(test_sql);
    TEST_DONE();
}
