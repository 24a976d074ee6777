/*
 * es_json.h - reading encoded Debezium records without building a tree.
 *
 * The Elasticsearch sink turns each record value into a bulk action. The
 * value's fields (the `after` row, `source.lsn`, `op`) are located as byte
 * spans of the JSON text and copied or converted from there, so numbers and
 * strings reach Elasticsearch exactly as the encoder wrote them and a record
 * costs no allocation. Only the Kafka Connect schema, which changes rarely,
 * is parsed into a tree (jansson, in es_doc.c).
 */
#ifndef PGCDC_SINK_ES_JSON_H
#define PGCDC_SINK_ES_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct pgcdc_es_span {
    const char *p; /* NULL: absent */
    size_t n;
} pgcdc_es_span;

/* Past the JSON value that starts at p (leading whitespace allowed), or
 * NULL when the text is not well-formed JSON there. */
const char *pgcdc_es_json_skip(const char *p, const char *end);

/*
 * Iterates the members of the object `obj` (a span holding `{...}`): *pos
 * starts at NULL. Returns 1 with the raw key (between the quotes, escapes
 * not decoded) and value spans, 0 after the last member, -1 when malformed.
 */
int pgcdc_es_json_next(pgcdc_es_span obj, const char **pos, pgcdc_es_span *key, pgcdc_es_span *val);

/* The value of member `key` of object `obj`; a span with p == NULL when
 * absent or malformed. */
pgcdc_es_span pgcdc_es_json_get(pgcdc_es_span obj, const char *key);

/* 1 if the span is the literal null (or absent). */
int pgcdc_es_json_is_null(pgcdc_es_span v);

/* Appends the decoded content of the JSON string `s` (quotes included in
 * the span). Returns -1 if it is not a well-formed string. */
int pgcdc_es_json_unescape(pgcdc_buf *out, pgcdc_es_span s);

/* Parses a JSON integer span; -1 when it is not one or does not fit. */
int pgcdc_es_json_i64(pgcdc_es_span v, int64_t *out);

/* Standard base64 of a JSON string span, decoded into out. -1 if invalid. */
int pgcdc_es_base64_decode(pgcdc_buf *out, pgcdc_es_span s);

#endif
