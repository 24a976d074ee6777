/*
 * pgdefault.h - column DEFAULTs and zero values as Debezium writes them.
 *
 * Debezium's PostgreSQL connector puts a column's DEFAULT into the field
 * schema ("default") when it can read a constant out of the catalog's text
 * of the expression (pg_get_expr of pg_attrdef.adbin), with a per-type set
 * of rules (PostgresDefaultValueConverter); Kafka's JsonConverter then
 * writes that default in place of a null value (replace.null.with.default).
 * A null in a required (NOT NULL) field, as in the old image of a delete
 * under REPLICA IDENTITY DEFAULT, becomes the default or, without one, the
 * zero value of the field's type (Debezium's converters' "fallback").
 *
 * Both are computed once per relation, when its description is prepared;
 * the encoder only copies the JSON.
 */
#ifndef PGCDC_FORMAT_PGDEFAULT_H
#define PGCDC_FORMAT_PGDEFAULT_H

#include "common/buf.h"
#include "format/pgtypes.h"

/* Catalog facts about a column's DEFAULT, supplied by the source. */
typedef struct pgcdc_default_src {
    const char *expr;      /* pg_get_expr(adbin, adrelid); NULL: no DEFAULT */
    const char *type_name; /* pg_type.typname of the column's type (domains: theirs) */
    const char *type_nsp;  /* its schema (enum casts may be qualified with it) */
    int is_enum;           /* pg_type.typtype = 'e' */
} pgcdc_default_src;

/*
 * Appends the JSON value of the column's default as Debezium 3.0 derives
 * it, and returns 1; returns 0 and appends nothing when Debezium gives the
 * field no default (no DEFAULT, NULL, an expression it cannot read, a type
 * it has no rule for, a struct-valued schema). The rules, by pg_type name:
 *
 *  - any expression that looks like a function call (`name(...)`, also
 *    `nextval(...)`, `now()`, `gen_random_uuid()`) or is one of
 *    CURRENT_TIMESTAMP / CURRENT_TIME / CURRENT_DATE / LOCALTIME /
 *    LOCALTIMESTAMP stands for a placeholder: 0, 0.0, false, "", "{}", the
 *    nil UUID, the epoch (1970-01-01, 00:00);
 *  - otherwise the text between the first pair of single quotes (so
 *    `'it''s'::text` reads "it" and `('a'::text || 'b'::text)` "a"), or the
 *    whole text when it has no quote (`NULL::type` is no default);
 *  - int2/int4/int8, float4/float8, numeric (raised to the column's scale),
 *    bool (true only for "true"), text/varchar/bpchar, json/jsonb, xml,
 *    uuid, date, time, timestamp, timestamptz, bit/varbit and enums (a
 *    quoted label cast to the enum) are converted like a value of the column;
 *    everything else (money, bytea, arrays, timetz, interval placeholders,
 *    domains, inet, ...) has no default.
 */
int pgcdc_coltype_default(pgcdc_buf *out, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                          const pgcdc_default_src *src);

/*
 * Appends the value Debezium writes for a null in a required field without
 * a default: 0, 0.0, false, "", [], the epoch (0, or "1970-01-01T00:00:00Z"
 * and "00:00:00Z" for the zoned types), a zero decimal in the column's
 * decimal.handling.mode, "P0Y0M0DT0H0M0S" for string intervals.
 */
void pgcdc_coltype_zero(pgcdc_buf *out, const pgcdc_coltype *ct, const pgcdc_type_opts *opts);

#endif
