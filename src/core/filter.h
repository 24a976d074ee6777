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

#include <stddef.h>

#include "core/config.h"

typedef struct pgcdc_filter pgcdc_filter;

/* Compiles the six lists of cfg. Returns NULL with errstr naming the key and
 * the bad expression. */
pgcdc_filter *pgcdc_filter_new(const pgcdc_config *cfg, char *errstr, size_t errstr_size);
void pgcdc_filter_free(pgcdc_filter *filter);

int pgcdc_filter_table(const pgcdc_filter *filter, const char *schema, const char *table);
int pgcdc_filter_column(const pgcdc_filter *filter, const char *schema, const char *table,
                        const char *column);

#endif
