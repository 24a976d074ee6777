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

/* One message.key.columns entry: tables matching re get these key columns. */
typedef struct key_override {
    regex_t re;
    char **cols;
    int ncols;
} key_override;

struct pgcdc_filter {
    re_list schema_in, schema_ex, table_in, table_ex, column_in, column_ex;
    key_override *keys;
    int nkeys;
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

int pgcdc_key_columns_parse(const char *text, pgcdc_key_columns_fn fn, void *ctx, char *errstr,
                            size_t errstr_size)
{
    pgcdc_buf entry = PGCDC_BUF_INIT, col = PGCDC_BUF_INIT;
    int rc = 0;
    for (const char *p = text; p && *p && rc == 0;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        pgcdc_buf_reset(&entry);
        pgcdc_buf_append(&entry, p, len);
        p = semi ? semi + 1 : p + len;
        char *e = entry.data;
        while (*e == ' ')
            e++;
        if (!*e)
            continue;
        char *colon = strrchr(e, ':');
        if (!colon || colon == e || !colon[1]) {
            snprintf(errstr, errstr_size,
                     "entry '%s' is not <schema.table regex>:<column>[,<column>...]", e);
            rc = -1;
            break;
        }
        *colon = 0;
        char *cols = colon + 1;
        int n = 0;
        const char *names[64];
        char *save = NULL;
        for (char *c = strtok_r(cols, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
            while (*c == ' ')
                c++;
            size_t cl = strlen(c);
            while (cl && c[cl - 1] == ' ')
                c[--cl] = 0;
            if (!cl)
                continue;
            if (n == 64) {
                snprintf(errstr, errstr_size, "entry for '%s' lists more than 64 columns", e);
                rc = -1;
                break;
            }
            names[n++] = c;
        }
        if (rc == 0 && n == 0) {
            snprintf(errstr, errstr_size, "entry for '%s' names no column", e);
            rc = -1;
        }
        if (rc == 0)
            rc = fn(ctx, e, names, n, errstr, errstr_size);
    }
    pgcdc_buf_free(&entry);
    pgcdc_buf_free(&col);
    return rc;
}

static int add_key_override(void *ctx, const char *table_re, const char *const *cols, int ncols,
                            char *errstr, size_t errstr_size)
{
    pgcdc_filter *f = ctx;
    key_override *k = realloc(f->keys, (size_t)(f->nkeys + 1) * sizeof(*k));
    if (!k) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    f->keys = k;
    k = &f->keys[f->nkeys];
    memset(k, 0, sizeof(*k));
    char msg[128];
    if (pgcdc_regex_full_compile(&k->re, table_re, msg, sizeof(msg)) != 0) {
        snprintf(errstr, errstr_size, "invalid regular expression '%s': %s", table_re, msg);
        return -1;
    }
    f->nkeys++;
    k->cols = calloc((size_t)ncols, sizeof(char *));
    if (!k->cols) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (int i = 0; i < ncols; i++) {
        if (!(k->cols[i] = strdup(cols[i]))) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        k->ncols++;
    }
    return 0;
}

int pgcdc_filter_key_columns(const pgcdc_filter *f, pgcdc_table *table, char *errstr,
                             size_t errstr_size)
{
    char name[512];
    snprintf(name, sizeof(name), "%s.%s", table->schema, table->name);
    for (int i = 0; i < f->nkeys; i++) {
        const key_override *k = &f->keys[i];
        if (regexec(&k->re, name, 0, NULL, 0) != 0)
            continue;
        for (int j = 0; j < k->ncols; j++) {
            int found = 0;
            for (int c = 0; c < table->ncols; c++)
                found |= !strcmp(table->cols[c].name, k->cols[j]);
            if (!found) {
                snprintf(errstr, errstr_size,
                         "message.key.columns: table %s has no column '%s' (columns are named as "
                         "in PostgreSQL, case-sensitive)",
                         name, k->cols[j]);
                return -1;
            }
        }
        table->nkeys = 0;
        for (int c = 0; c < table->ncols; c++)
            table->cols[c].is_key = 0;
        /* the key's order is the listed one; a column listed twice counts once */
        for (int j = 0; j < k->ncols; j++)
            for (int c = 0; c < table->ncols; c++)
                if (!table->cols[c].is_key && !strcmp(table->cols[c].name, k->cols[j]))
                    table->cols[c].is_key = ++table->nkeys;
        return 0;
    }
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
    char msg[384];
    if (cfg->message_key_columns &&
        pgcdc_key_columns_parse(cfg->message_key_columns, add_key_override, f, msg, sizeof(msg)) !=
            0) {
        snprintf(errstr, errstr_size, "config: message.key.columns: %s", msg);
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
    for (int i = 0; i < f->nkeys; i++) {
        regfree(&f->keys[i].re);
        for (int j = 0; j < f->keys[i].ncols; j++)
            free(f->keys[i].cols[j]);
        free(f->keys[i].cols);
    }
    free(f->keys);
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
