/*
 * filter.h - Debezium-style include/exclude lists of regular expressions.
 *
 * A list is comma-separated POSIX extended regular expressions, each
 * matched against the whole identifier ("schema", "schema.table" or
 * "schema.table.column"), as Debezium matches its Java patterns. Filters are
 * evaluated once per relation, never per event.
 */
#ifndef PGCDC_CORE_FILTER_H
#define PGCDC_CORE_FILTER_H

#include <regex.h>
#include <stddef.h>

#include "core/config.h"
#include "core/event.h"

typedef struct pgcdc_filter pgcdc_filter;

/*
 * Compiles one list item so that it matches whole identifiers only, as
 * ^(item)$. Items whose parentheses do not balance are rejected: wrapped,
 * "a)|(b" would otherwise escape the anchors and match any name starting
 * with a or ending with b. Returns 0, or -1 with the reason in err.
 */
int pgcdc_regex_full_compile(regex_t *re, const char *item, char *err, size_t err_size);

/* Compiles the six lists of cfg. Returns NULL with errstr naming the key and
 * the bad expression. */
pgcdc_filter *pgcdc_filter_new(const pgcdc_config *cfg, char *errstr, size_t errstr_size);
void pgcdc_filter_free(pgcdc_filter *filter);

int pgcdc_filter_table(const pgcdc_filter *filter, const char *schema, const char *table);
int pgcdc_filter_column(const pgcdc_filter *filter, const char *schema, const char *table,
                        const char *column);

/* Receives one message.key.columns entry: a table regex and its columns.
 * Returns 0, or -1 with errstr. */
typedef int (*pgcdc_key_columns_fn)(void *ctx, const char *table_re, const char *const *cols,
                                    int ncols, char *errstr, size_t errstr_size);

/* Parses Debezium's message.key.columns ("<schema.table regex>:<col>,...;
 * ..."), calling fn per entry. Returns 0, or -1 with errstr naming the bad
 * entry. */
int pgcdc_key_columns_parse(const char *text, pgcdc_key_columns_fn fn, void *ctx, char *errstr,
                            size_t errstr_size);

/* Applies message.key.columns to a described table: the first matching
 * entry replaces the primary key as the event key. Returns 0, or -1 with
 * errstr when a listed column does not exist. */
int pgcdc_filter_key_columns(const pgcdc_filter *filter, pgcdc_table *table, char *errstr,
                             size_t errstr_size);

#endif
