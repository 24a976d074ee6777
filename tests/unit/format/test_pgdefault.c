/*
 * test_pgdefault.c - unit tests for column DEFAULTs and zero values as
 * Debezium writes them (src/format/pgdefault.c).
 *
 * Expressions are what pg_get_expr() prints for the DEFAULT clauses named in
 * the comments (PostgreSQL 15); the expected JSON is what Debezium 3.0.8 and
 * JsonConverter wrote for them in tests/e2e/test_parity.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "format/pgdefault.h"
#include "format/pgtypes.h"
#include "test.h"

static pgcdc_buf out = PGCDC_BUF_INIT;
static char err[256];

static const pgcdc_type_opts O_DEF = {PGCDC_DECIMAL_PRECISE, PGCDC_TIME_ADAPTIVE,
                                      PGCDC_BINARY_BYTES, PGCDC_INTERVAL_NUMERIC,
                                      PGCDC_HSTORE_JSON};
static const pgcdc_type_opts O_DOUBLE = {PGCDC_DECIMAL_DOUBLE, PGCDC_TIME_CONNECT,
                                         PGCDC_BINARY_BASE64, PGCDC_INTERVAL_STRING,
                                         PGCDC_HSTORE_MAP};
static const pgcdc_type_opts O_STRING = {PGCDC_DECIMAL_STRING,
                                         PGCDC_TIME_ADAPTIVE_TIME_MICROSECONDS, PGCDC_BINARY_HEX,
                                         PGCDC_INTERVAL_NUMERIC, PGCDC_HSTORE_JSON};

#define NUMERIC_10_2 ((10 << 16 | 2) + 4)

/* The default's JSON, or "NONE". */
static const char *dflt_o(uint32_t oid, int32_t typmod, const pgcdc_type_opts *o,
                          const char *type_name, const char *expr)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, typmod, NULL, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    PGCDC_BUF_LIT(&out, "");
    pgcdc_default_src src = {expr, type_name, "pg_catalog", 0};
    int rc = pgcdc_coltype_default(&out, &ct, o, &src);
    pgcdc_coltype_clear(&ct);
    if (rc == 0)
        return out.len == 0 ? "NONE" : "NONE-BUT-WROTE";
    return out.data;
}

static const char *dflt(uint32_t oid, int32_t typmod, const char *type_name, const char *expr)
{
    return dflt_o(oid, typmod, &O_DEF, type_name, expr);
}

static const char *zero(uint32_t oid, int32_t typmod, const pgcdc_type_opts *o)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, typmod, NULL, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    pgcdc_coltype_zero(&out, &ct, o);
    pgcdc_buf_putc(&out, 0);
    pgcdc_coltype_clear(&ct);
    return out.data;
}

static void test_integers(void)
{
    CHECK_STR(dflt(23, -1, "int4", "42"), "42");            /* DEFAULT 42 */
    CHECK_STR(dflt(23, -1, "int4", "'-5'::integer"), "-5"); /* DEFAULT -5 */
    CHECK_STR(dflt(23, -1, "int4", "(1 + 2)"), "NONE");     /* an expression */
    CHECK_STR(dflt(23, -1, "int4", "NULL::integer"), "NONE");
    CHECK_STR(dflt(21, -1, "int2", "7"), "7");
    CHECK_STR(dflt(21, -1, "int2", "40000"), "NONE"); /* out of Short's range */
    CHECK_STR(dflt(20, -1, "int8", "'9007199254740993'::bigint"), "9007199254740993");
    CHECK_STR(dflt(20, -1, "int8", "'-1'::integer"), "-1");
    /* serial: nextval(...) looks like a call, so Debezium's placeholder 0 */
    CHECK_STR(dflt(23, -1, "int4", "nextval('t_s_seq'::regclass)"), "0");
    CHECK_STR(dflt(20, -1, "int8", "nextval('public.t_bs_seq'::regclass)"), "0");
    CHECK_STR(dflt(23, -1, "int4", "floor((random() * (10)::double precision))"), "0");
}

static void test_floats_numeric(void)
{
    CHECK_STR(dflt(700, -1, "float4", "1.5"), "1.5");
    CHECK_STR(dflt(701, -1, "float8", "'-2.25'::numeric"), "-2.25");
    CHECK_STR(dflt(701, -1, "float8", "3"), "3.0");
    CHECK_STR(dflt(701, -1, "float8", "'NaN'::double precision"), "NONE");
    /* numeric(10,2) DEFAULT 1.5: raised to the column's scale, 150 */
    CHECK_STR(dflt(1700, NUMERIC_10_2, "numeric", "1.5"), "\"AJY=\"");
    CHECK_STR(dflt(1700, NUMERIC_10_2, "numeric", "'-3.5'::numeric"), "\"/qI=\"");
    CHECK_STR(dflt_o(1700, NUMERIC_10_2, &O_DOUBLE, "numeric", "1.5"), "1.5");
    CHECK_STR(dflt_o(1700, NUMERIC_10_2, &O_STRING, "numeric", "1.5"), "\"1.50\"");
    CHECK_STR(dflt_o(1700, NUMERIC_10_2, &O_STRING, "numeric", "2"), "\"2.00\"");
    /* unconstrained: a VariableScaleDecimal struct has no default in precise mode */
    CHECK_STR(dflt(1700, -1, "numeric", "12.345"), "NONE");
    CHECK_STR(dflt_o(1700, -1, &O_DOUBLE, "numeric", "12.345"), "12.345");
    CHECK_STR(dflt_o(1700, -1, &O_STRING, "numeric", "12.345"), "\"12.345\"");
    CHECK_STR(dflt(790, -1, "money", "1.5"), "NONE"); /* no rule for money */
}

static void test_bool_strings(void)
{
    CHECK_STR(dflt(16, -1, "bool", "true"), "true");
    CHECK_STR(dflt(16, -1, "bool", "false"), "false");
    CHECK_STR(dflt(16, -1, "bool", "(1 > 0)"), "false"); /* Boolean.parseBoolean */
    CHECK_STR(dflt(16, -1, "bool", "NULL::boolean"), "NONE");
    CHECK_STR(dflt(25, -1, "text", "'x'::text"), "\"x\"");
    CHECK_STR(dflt(25, -1, "text", "'it''s'::text"), "\"it\"");           /* lazy match */
    CHECK_STR(dflt(25, -1, "text", "('a'::text || 'b'::text)"), "\"a\""); /* first literal */
    CHECK_STR(dflt(25, -1, "text", "md5((random())::text)"), "\"\"");     /* a call */
    CHECK_STR(dflt(25, -1, "text", "NULL::text"), "NONE");
    CHECK_STR(dflt(25, -1, "text", "CURRENT_USER"), "\"CURRENT_USER\""); /* no quote: as is */
    CHECK_STR(dflt(1043, 14, "varchar", "'v'::character varying"), "\"v\"");
    CHECK_STR(dflt(1042, 7, "bpchar", "'ab'::bpchar"), "\"ab\"");
    CHECK_STR(dflt(3802, -1, "jsonb", "'{\"a\": 1}'::jsonb"), "\"{\\\"a\\\": 1}\"");
    CHECK_STR(dflt(114, -1, "json", "json_build_object()"), "\"{}\"");
    CHECK_STR(dflt(142, -1, "xml", "'<a/>'::xml"), "\"<a/>\"");
    CHECK_STR(dflt(2950, -1, "uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
              "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    CHECK_STR(dflt(2950, -1, "uuid", "gen_random_uuid()"),
              "\"00000000-0000-0000-0000-000000000000\"");
    /* a domain is looked up by its own name: no rule */
    CHECK_STR(dflt(25, -1, "my_text_domain", "'x'::text"), "NONE");
}

static void test_temporal(void)
{
    CHECK_STR(dflt(1082, -1, "date", "'2024-01-01'::date"), "19723");
    CHECK_STR(dflt(1082, -1, "date", "CURRENT_DATE"), "0");
    CHECK_STR(dflt(1083, -1, "time", "'12:34:56.789'::time without time zone"), "45296789000");
    CHECK_STR(dflt_o(1083, -1, &O_DOUBLE, "time", "'12:34:56.789'::time without time zone"),
              "45296789");
    CHECK_STR(dflt(1083, -1, "time", "LOCALTIME"), "0");
    CHECK_STR(dflt(1114, -1, "timestamp", "'2024-01-01 12:00:00.5'::timestamp without time zone"),
              "1704110400500000");
    CHECK_STR(dflt(1114, -1, "timestamp", "now()"), "0");
    CHECK_STR(dflt(1184, -1, "timestamptz", "'2024-01-01 10:00:00+00'::timestamp with time zone"),
              "\"2024-01-01T10:00:00.000000Z\"");
    CHECK_STR(dflt(1184, -1, "timestamptz", "now()"), "\"1970-01-01T00:00:00.000000Z\"");
    CHECK_STR(dflt(1184, -1, "timestamptz", "CURRENT_TIMESTAMP"),
              "\"1970-01-01T00:00:00.000000Z\"");
    CHECK_STR(dflt(1186, -1, "interval", "'1 day 02:00:00'::interval"), "93600000000");
    CHECK_STR(dflt_o(1186, -1, &O_DOUBLE, "interval", "'1 day 02:00:00'::interval"),
              "\"P0Y0M1DT2H0M0S\"");
    CHECK_STR(dflt(1186, -1, "interval", "make_interval(days => 1)"), "NONE");
    CHECK_STR(dflt(1266, -1, "timetz", "'12:00:00+02'::time with time zone"), "NONE");
}

static void test_bits_enums_others(void)
{
    CHECK_STR(dflt(1560, 1, "bit", "'1'::\"bit\""), "true");
    CHECK_STR(dflt(1560, 3, "bit", "'101'::\"bit\""), "\"BQ==\"");
    CHECK_STR(dflt(1562, -1, "varbit", "'11'::\"bit\""), "\"Aw==\"");
    CHECK_STR(dflt(17, -1, "bytea", "'\\x01'::bytea"), "NONE");
    CHECK_STR(dflt(1007, -1, "_int4", "'{1,2}'::integer[]"), "NONE");
    CHECK_STR(dflt(869, -1, "inet", "'1.2.3.4'::inet"), "NONE");

    /* enums: 'label'::type, the type unqualified as Debezium's connection
     * prints a type of public, qualified as pgcdc's catalog connection does */
    pgcdc_coltype ct;
    memset(&ct, 0, sizeof(ct));
    ct.kind = PGCDC_T_ENUM;
    ct.precision = ct.scale = ct.time_precision = -1;
    pgcdc_default_src src = {"'happy'::public.mood", "mood", "public", 1};
    pgcdc_buf_reset(&out);
    CHECK_INT(pgcdc_coltype_default(&out, &ct, &O_DEF, &src), 1);
    pgcdc_buf_putc(&out, 0);
    CHECK_STR(out.data, "\"happy\"");
    src.expr = "'happy'::mood";
    pgcdc_buf_reset(&out);
    CHECK_INT(pgcdc_coltype_default(&out, &ct, &O_DEF, &src), 1);
    src.expr = "'happy'::other.mood"; /* another schema: qualified for Debezium too */
    src.type_nsp = "other";
    pgcdc_buf_reset(&out);
    CHECK_INT(pgcdc_coltype_default(&out, &ct, &O_DEF, &src), 0);
    CHECK_INT((int)out.len, 0);
    src.expr = NULL; /* no DEFAULT */
    CHECK_INT(pgcdc_coltype_default(&out, &ct, &O_DEF, &src), 0);
}

static void test_zero_values(void)
{
    CHECK_STR(zero(16, -1, &O_DEF), "false");
    CHECK_STR(zero(21, -1, &O_DEF), "0");
    CHECK_STR(zero(20, -1, &O_DEF), "0");
    CHECK_STR(zero(26, -1, &O_DEF), "0"); /* oid */
    CHECK_STR(zero(700, -1, &O_DEF), "0.0");
    CHECK_STR(zero(701, -1, &O_DEF), "0.0");
    CHECK_STR(zero(1700, NUMERIC_10_2, &O_DEF), "\"AA==\"");
    CHECK_STR(zero(1700, -1, &O_DEF), "{\"scale\":0,\"value\":\"AA==\"}");
    CHECK_STR(zero(1700, NUMERIC_10_2, &O_DOUBLE), "0.0");
    CHECK_STR(zero(1700, NUMERIC_10_2, &O_STRING), "\"0.00\"");
    CHECK_STR(zero(1700, -1, &O_STRING), "\"0\"");
    CHECK_STR(zero(790, -1, &O_DEF), "\"AA==\"");
    CHECK_STR(zero(790, -1, &O_STRING), "\"0.00\"");
    CHECK_STR(zero(25, -1, &O_DEF), "\"\"");
    CHECK_STR(zero(2950, -1, &O_DEF), "\"\"");
    CHECK_STR(zero(3802, -1, &O_DEF), "\"\"");
    CHECK_STR(zero(17, -1, &O_DEF), "\"\"");
    CHECK_STR(zero(17, -1, &O_STRING), "\"\"");
    CHECK_STR(zero(1082, -1, &O_DEF), "0");
    CHECK_STR(zero(1083, -1, &O_DOUBLE), "0");
    CHECK_STR(zero(1114, -1, &O_DEF), "0");
    CHECK_STR(zero(1266, -1, &O_DEF), "\"00:00:00Z\"");
    CHECK_STR(zero(1184, -1, &O_DEF), "\"1970-01-01T00:00:00Z\"");
    CHECK_STR(zero(1186, -1, &O_DEF), "0");
    CHECK_STR(zero(1186, -1, &O_DOUBLE), "\"P0Y0M0DT0H0M0S\"");
    CHECK_STR(zero(1007, -1, &O_DEF), "[]");
    CHECK_STR(zero(1560, 1, &O_DEF), "false");
    CHECK_STR(zero(1560, 3, &O_DEF), "\"\"");
    CHECK_STR(zero(869, -1, &O_DEF), "\"\"");
}

int main(void)
{
    TEST_RUN(test_integers);
    TEST_RUN(test_floats_numeric);
    TEST_RUN(test_bool_strings);
    TEST_RUN(test_temporal);
    TEST_RUN(test_bits_enums_others);
    TEST_RUN(test_zero_values);
    pgcdc_buf_free(&out);
    TEST_DONE();
}
