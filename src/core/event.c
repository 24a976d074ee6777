/*
 * event.c - lifetime of the event model's table descriptions.
 */
#include "core/event.h"

#include <stdlib.h>

void pgcdc_table_clear(pgcdc_table *table)
{
    for (int i = 0; i < table->ncols; i++) {
        free(table->cols[i].name);
        free(table->cols[i].json_name);
        free(table->cols[i].default_expr);
        free(table->cols[i].type_name);
        free(table->cols[i].type_nsp);
        free(table->cols[i].default_json);
        free(table->cols[i].zero_json);
        pgcdc_coltype_clear(&table->cols[i].type);
    }
    free(table->cols);
    free(table->key_cols);
    table->key_cols = NULL;
    free(table->schema);
    free(table->name);
    free(table->topic);
    pgcdc_buf_free(&table->key_head);
    pgcdc_buf_free(&table->value_head);
    pgcdc_buf_free(&table->source_tail);
    table->cols = NULL;
    table->ncols = 0;
}
