/*
 * filter.c - include/exclude regular-expression lists (see filter.h).
 */
#include "core/filter.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct re_list {
    regex_t *re;
    int n;
    int present; /* the key was set (an empty include list is "not set") */
} re_list;

struct pgcdc_filter {
    re_list schema_in, schema_ex, table_in, table_ex, column_in, column_ex;
};

/* Whether parentheses outside bracket expressions and escapes balance. */
static int parens_balanced(const char *p)
{
    int depth = 0;
    for (; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return 0;
            p++;
        } else if (*p == '[') {
            /* a bracket expression: ']' right after '[' or '[^' is literal */
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p && *p != ']')
                p++;
            if (!*p)
                return 0;
        } else if (*p == '(') {
            depth++;
        } else if (*p == ')') {
            if (--depth < 0)
                return 0;
        }
    }
    return depth == 0;
}

int pgcdc_regex_full_compile(regex_t *re, const char *item, char *err, size_t err_size)
{
    if (!parens_balanced(item)) {
        snprintf(err, err_size, "unbalanced parentheses or brackets");
        return -1;
    }
    pgcdc_buf anchored = PGCDC_BUF_INIT;
    pgcdc_buf_printf(&anchored, "^(%s)$", item);
    int rc = regcomp(re, anchored.data, REG_EXTENDED | REG_NOSUB);
    pgcdc_buf_free(&anchored);
    if (rc != 0) {
        regerror(rc, re, err, err_size);
        regfree(re);
        return -1;
    }
    return 0;
}

static int compile_list(re_list *list, const char *key, const char *text, char *errstr,
                        size_t errstr_size)
{
    memset(list, 0, sizeof(*list));
    if (!text || !*text)
        return 0;
    list->present = 1;
    int cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    list->re = calloc((size_t)cap, sizeof(regex_t));
    if (!list->re) {
        snprintf(errstr, errstr_size, "config: out of memory");
        return -1;
    }
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = text;
    int rc = 0;
    while (pgcdc_config_list_next(&pos, &item)) {
        char msg[128];
        if (pgcdc_regex_full_compile(&list->re[list->n], item.data, msg, sizeof(msg)) != 0) {
            snprintf(errstr, errstr_size, "config: %s: invalid regular expression '%s': %s", key,
                     item.data, msg);
            rc = -1;
            break;
        }
        list->n++;
    }
    pgcdc_buf_free(&item);
    return rc;
}

static void free_list(re_list *list)
{
    for (int i = 0; i < list->n; i++)
        regfree(&list->re[i]);
    free(list->re);
}

static int matches(const re_list *list, const char *s)
{
    for (int i = 0; i < list->n; i++)
        if (regexec(&list->re[i], s, 0, NULL, 0) == 0)
            return 1;
    return 0;
}

pgcdc_filter *pgcdc_filter_new(const pgcdc_config *cfg, char *errstr, size_t errstr_size)
{
    pgcdc_filter *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(errstr, errstr_size, "config: out of memory");
        return NULL;
    }
    if (compile_list(&f->schema_in, "schema.include.list", cfg->schema_include, errstr,
                     errstr_size) ||
        compile_list(&f->schema_ex, "schema.exclude.list", cfg->schema_exclude, errstr,
                     errstr_size) ||
        compile_list(&f->table_in, "table.include.list", cfg->table_include, errstr, errstr_size) ||
        compile_list(&f->table_ex, "table.exclude.list", cfg->table_exclude, errstr, errstr_size) ||
        compile_list(&f->column_in, "column.include.list", cfg->column_include, errstr,
                     errstr_size) ||
        compile_list(&f->column_ex, "column.exclude.list", cfg->column_exclude, errstr,
                     errstr_size)) {
        pgcdc_filter_free(f);
        return NULL;
    }
    return f;
}

void pgcdc_filter_free(pgcdc_filter *f)
{
    if (!f)
        return;
    free_list(&f->schema_in);
    free_list(&f->schema_ex);
    free_list(&f->table_in);
    free_list(&f->table_ex);
    free_list(&f->column_in);
    free_list(&f->column_ex);
    free(f);
}

int pgcdc_filter_table(const pgcdc_filter *f, const char *schema, const char *table)
{
    if (f->schema_in.present && !matches(&f->schema_in, schema))
        return 0;
    if (f->schema_ex.present && matches(&f->schema_ex, schema))
        return 0;
    char full[1024];
    snprintf(full, sizeof(full), "%s.%s", schema, table);
    if (f->table_in.present && !matches(&f->table_in, full))
        return 0;
    if (f->table_ex.present && matches(&f->table_ex, full))
        return 0;
    return 1;
}

int pgcdc_filter_column(const pgcdc_filter *f, const char *schema, const char *table,
                        const char *column)
{
    if (!f->column_in.present && !f->column_ex.present)
        return 1;
    char full[1536];
    snprintf(full, sizeof(full), "%s.%s.%s", schema, table, column);
    if (f->column_in.present && !matches(&f->column_in, full))
        return 0;
    if (f->column_ex.present && matches(&f->column_ex, full))
        return 0;
    return 1;
}
