/*
 * test_filter.c - unit tests for the include/exclude regular-expression
 * filters: schema, table and column lists, full-match semantics, several
 * expressions per list, escaped commas, and errors naming the key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/filter.h"
#include "test.h"

static char err[1024];

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

/* Builds a filter from up to three key/value pairs (NULL-terminated). */
static pgcdc_filter *make(pgcdc_config *cfg, const char *k1, const char *v1, const char *k2,
                          const char *v2, const char *k3, const char *v3)
{
    pgcdc_config_init(cfg);
    err[0] = 0;
    const char *keys[3] = {k1, k2, k3}, *vals[3] = {v1, v2, v3};
    for (int i = 0; i < 3; i++) {
        if (!keys[i])
            break;
        if (pgcdc_config_set(cfg, keys[i], vals[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "config_set %s=%s: %s\n", keys[i], vals[i], err);
            return NULL;
        }
    }
    pgcdc_filter *f = pgcdc_filter_new(cfg, err, sizeof(err));
    if (!f)
        fprintf(stderr, "filter_new: %s\n", err);
    return f;
}

static void test_no_lists(void)
{
    pgcdc_config cfg;
    pgcdc_filter *f = make(&cfg, NULL, NULL, NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "pg_catalog", "pg_class"), 1);
        CHECK_INT(pgcdc_filter_column(f, "public", "a", "x"), 1);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
    pgcdc_filter_free(NULL); /* no-op */
}

/* message.key.columns replaces the primary key of matching tables. */
static void test_key_columns(void)
{
    pgcdc_config cfg;
    pgcdc_filter *f = make(&cfg, "message.key.columns", "public.orders:c, b ;public\\.log.*:a",
                           NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        char n_a[] = "a", n_b[] = "b", n_c[] = "c", sch[] = "public", tbl[] = "orders";
        pgcdc_column cols[3];
        memset(cols, 0, sizeof(cols));
        cols[0].name = n_a;
        cols[0].is_key = 1;
        cols[1].name = n_b;
        cols[2].name = n_c;
        pgcdc_table t;
        memset(&t, 0, sizeof(t));
        t.schema = sch;
        t.name = tbl;
        t.cols = cols;
        t.ncols = 3;
        t.nkeys = 1;
        CHECK_INT(pgcdc_filter_key_columns(f, &t, err, sizeof(err)), 0);
        CHECK_INT(t.nkeys, 2);
        CHECK(!cols[0].is_key && cols[1].is_key == 2 && cols[2].is_key == 1); /* listed order */
        char tbl2[] = "logs";
        t.name = tbl2;
        CHECK_INT(pgcdc_filter_key_columns(f, &t, err, sizeof(err)), 0);
        CHECK(cols[0].is_key && !cols[1].is_key && t.nkeys == 1);
        char tbl3[] = "other";
        t.name = tbl3;
        cols[1].is_key = 1;
        CHECK_INT(pgcdc_filter_key_columns(f, &t, err, sizeof(err)), 0);
        CHECK(cols[1].is_key); /* untouched */
        cols[2].name = n_a;
        cols[1].name = n_a;
        t.name = tbl;
        CHECK_INT(pgcdc_filter_key_columns(f, &t, err, sizeof(err)), -1);
        CHECK(strstr(err, "has no column 'c'") != NULL);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
    /* a column listed twice is one key column */
    f = make(&cfg, "message.key.columns", "public.t:b,a,b", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        char n_a[] = "a", n_b[] = "b", sch[] = "public", tbl[] = "t";
        pgcdc_column cols[2];
        memset(cols, 0, sizeof(cols));
        cols[0].name = n_a;
        cols[1].name = n_b;
        pgcdc_table t;
        memset(&t, 0, sizeof(t));
        t.schema = sch;
        t.name = tbl;
        t.cols = cols;
        t.ncols = 2;
        CHECK_INT(pgcdc_filter_key_columns(f, &t, err, sizeof(err)), 0);
        CHECK_INT(t.nkeys, 2);
        CHECK(cols[1].is_key == 1 && cols[0].is_key == 2);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
    pgcdc_config_init(&cfg);
    CHECK_INT(pgcdc_config_set(&cfg, "message.key.columns", "public.t", err, sizeof(err)), -1);
    CHECK(strstr(err, "not <schema.table regex>:<column>") != NULL);
    CHECK_INT(pgcdc_config_set(&cfg, "message.key.columns", "bad(:a", err, sizeof(err)), -1);
    CHECK(strstr(err, "invalid regular expression 'bad('") != NULL);
    pgcdc_config_free(&cfg);
}

static void test_schema_lists(void)
{
    pgcdc_config cfg;
    pgcdc_filter *f = make(&cfg, "schema.include.list", "public,inv.*", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "inventory", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "inv", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public2", "a"), 0); /* full match */
        CHECK_INT(pgcdc_filter_table(f, "xpublic", "a"), 0); /* full match */
        CHECK_INT(pgcdc_filter_table(f, "other", "public"), 0);
        /* columns are unaffected by schema lists */
        CHECK_INT(pgcdc_filter_column(f, "other", "a", "b"), 1);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    f = make(&cfg, "schema.exclude.list", "audit, tmp_.*", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "audit", "a"), 0);
        CHECK_INT(pgcdc_filter_table(f, "audit_log", "a"), 1); /* full match */
        CHECK_INT(pgcdc_filter_table(f, "tmp_1", "a"), 0);
        CHECK_INT(pgcdc_filter_table(f, "tmp", "a"), 1);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    /* include and exclude together: both must agree */
    f = make(&cfg, "schema.include.list", "s.*", "schema.exclude.list", "secret", NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "sales", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "secret", "a"), 0);
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
}

static void test_table_lists(void)
{
    pgcdc_config cfg;
    pgcdc_filter *f = make(&cfg, "table.include.list", "public.a", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "ab"), 0); /* "public.a" !~ "public.ab" */
        CHECK_INT(pgcdc_filter_table(f, "public", "ba"), 0);
        CHECK_INT(pgcdc_filter_table(f, "xpublic", "a"), 0);
        CHECK_INT(pgcdc_filter_table(f, "other", "a"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    /* several items, with spaces around them */
    f = make(&cfg, "table.include.list", " public\\.orders , inv\\.item_[0-9]+ ,s.t", NULL, NULL,
             NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "orders"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "orders2"), 0);
        CHECK_INT(pgcdc_filter_table(f, "inv", "item_1"), 1);
        CHECK_INT(pgcdc_filter_table(f, "inv", "item_123"), 1);
        CHECK_INT(pgcdc_filter_table(f, "inv", "item_"), 0);
        CHECK_INT(pgcdc_filter_table(f, "inv", "item_1x"), 0);
        CHECK_INT(pgcdc_filter_table(f, "s", "t"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "customers"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    /* alternation inside an item is anchored as a whole */
    f = make(&cfg, "table.include.list", "public.a|public.b", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "b"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "ab"), 0);
        CHECK_INT(pgcdc_filter_table(f, "xpublic", "a"), 0);
        CHECK_INT(pgcdc_filter_table(f, "public", "bx"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    f = make(&cfg, "table.exclude.list", "public\\.tmp_.*,.*\\.audit", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "tmp_x"), 0);
        CHECK_INT(pgcdc_filter_table(f, "other", "tmp_x"), 1);
        CHECK_INT(pgcdc_filter_table(f, "other", "audit"), 0);
        CHECK_INT(pgcdc_filter_table(f, "other", "audit2"), 1);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    /* schema include combined with table exclude */
    f = make(&cfg, "schema.include.list", "public", "table.exclude.list", "public\\.b", NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "a"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "b"), 0);
        CHECK_INT(pgcdc_filter_table(f, "other", "a"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
}

static void test_column_lists(void)
{
    pgcdc_config cfg;
    pgcdc_filter *f = make(&cfg, "column.exclude.list",
                           "public\\.users\\.(password|ssn),.*\\.secret", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_column(f, "public", "users", "id"), 1);
        CHECK_INT(pgcdc_filter_column(f, "public", "users", "password"), 0);
        CHECK_INT(pgcdc_filter_column(f, "public", "users", "ssn"), 0);
        CHECK_INT(pgcdc_filter_column(f, "public", "users", "ssn2"), 1);
        CHECK_INT(pgcdc_filter_column(f, "public", "orders", "password"), 1);
        CHECK_INT(pgcdc_filter_column(f, "a", "b", "secret"), 0);
        CHECK_INT(pgcdc_filter_column(f, "a", "b", "secrets"), 1);
        /* column lists never filter tables */
        CHECK_INT(pgcdc_filter_table(f, "public", "users"), 1);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    f = make(&cfg, "column.include.list", "public.t.id,public.t.name", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_column(f, "public", "t", "id"), 1);
        CHECK_INT(pgcdc_filter_column(f, "public", "t", "name"), 1);
        CHECK_INT(pgcdc_filter_column(f, "public", "t", "ident"), 0); /* full match */
        CHECK_INT(pgcdc_filter_column(f, "public", "t", "other"), 0);
        CHECK_INT(pgcdc_filter_column(f, "public", "u", "id"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    f = make(&cfg, "column.include.list", "public\\.t\\..*", "column.exclude.list",
             "public\\.t\\.blob", NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_column(f, "public", "t", "id"), 1);
        CHECK_INT(pgcdc_filter_column(f, "public", "t", "blob"), 0);
        CHECK_INT(pgcdc_filter_column(f, "public", "u", "id"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
}

static void test_escaped_comma(void)
{
    pgcdc_config cfg;
    /* "a{1\,2}" is one expression: a or aa */
    pgcdc_filter *f = make(&cfg, "schema.include.list", "a{1\\,2},b", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "a", "t"), 1);
        CHECK_INT(pgcdc_filter_table(f, "aa", "t"), 1);
        CHECK_INT(pgcdc_filter_table(f, "aaa", "t"), 0);
        CHECK_INT(pgcdc_filter_table(f, "b", "t"), 1);
        CHECK_INT(pgcdc_filter_table(f, "a{1", "t"), 0);
        CHECK_INT(pgcdc_filter_table(f, "2}", "t"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);

    /* a literal comma in a name */
    f = make(&cfg, "table.include.list", "public\\.x\\,y", NULL, NULL, NULL, NULL);
    CHECK(f != NULL);
    if (f) {
        CHECK_INT(pgcdc_filter_table(f, "public", "x,y"), 1);
        CHECK_INT(pgcdc_filter_table(f, "public", "x"), 0);
        CHECK_INT(pgcdc_filter_table(f, "public", "y"), 0);
    }
    pgcdc_filter_free(f);
    pgcdc_config_free(&cfg);
}

static void test_invalid_regex(void)
{
    static const char *const keys[] = {"schema.include.list", "schema.exclude.list",
                                       "table.include.list",  "table.exclude.list",
                                       "column.include.list", "column.exclude.list"};
    /* the config layer already rejects the value, naming the key */
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        pgcdc_config cfg;
        pgcdc_config_init(&cfg);
        err[0] = 0;
        CHECK_INT(pgcdc_config_set(&cfg, keys[i], "ok,a(b", err, sizeof(err)), -1);
        CHECK(contains(err, keys[i]));
        CHECK(contains(err, "a(b"));
        pgcdc_config_free(&cfg);
    }

    /* filter_new itself names the key and the expression (fields set directly,
     * as a config built by other means might hold them) */
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        pgcdc_config cfg;
        pgcdc_config_init(&cfg);
        char **fields[] = {&cfg.schema_include, &cfg.schema_exclude, &cfg.table_include,
                           &cfg.table_exclude,  &cfg.column_include, &cfg.column_exclude};
        free(*fields[i]);
        *fields[i] = strdup("good, [z-a] ");
        err[0] = 0;
        pgcdc_filter *f = pgcdc_filter_new(&cfg, err, sizeof(err));
        CHECK(f == NULL);
        if (!contains(err, keys[i]) || !contains(err, "[z-a]")) {
            fprintf(stderr, "error '%s' should name %s and [z-a]\n", err, keys[i]);
            test_current_failed = 1;
        }
        pgcdc_filter_free(f);
        pgcdc_config_free(&cfg);
    }
}

/*
 * Each item is wrapped as ^(item)$. An item with unbalanced parentheses such
 * as "public.a)|(public.b" (which Java's Pattern rejects) must not escape
 * the anchoring: either the key is rejected, or the filter still matches
 * whole names only.
 */
static void test_unbalanced_item_keeps_full_match(void)
{
    pgcdc_config cfg;
    pgcdc_config_init(&cfg);
    err[0] = 0;
    if (pgcdc_config_set(&cfg, "table.include.list", "public.a)|(public.b", err, sizeof(err)) ==
        0) {
        pgcdc_filter *f = pgcdc_filter_new(&cfg, err, sizeof(err));
        if (f) {
            CHECK_INT(pgcdc_filter_table(f, "public", "abc"), 0);
            CHECK_INT(pgcdc_filter_table(f, "xpublic", "b"), 0);
        }
        pgcdc_filter_free(f);
    } else {
        CHECK(contains(err, "table.include.list"));
    }
    pgcdc_config_free(&cfg);
}

int main(void)
{
    TEST_RUN(test_no_lists);
    TEST_RUN(test_schema_lists);
    TEST_RUN(test_key_columns);
    TEST_RUN(test_table_lists);
    TEST_RUN(test_column_lists);
    TEST_RUN(test_escaped_comma);
    TEST_RUN(test_invalid_regex);
    TEST_RUN(test_unbalanced_item_keeps_full_match);
    TEST_DONE();
}
