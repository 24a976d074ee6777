/*
 * pgtypes_internal.h - helpers shared by the pgtypes*.c translation units.
 *
 * Not part of the public API: only pgtypes.c, pgtypes_numeric.c,
 * pgtypes_time.c, pgtypes_array.c and pgtypes_geo.c include this header,
 * and the Parquet value conversion (format/parquet/parquet_pg.c) for the
 * text parsers.
 *
 * Scratch memory convention: converters never allocate. When a converter
 * needs temporary room proportional to the input (decoded bytea, big-integer
 * limbs, a NUL-terminated copy for strtod), it asks pgcdc_pgt_scratch() for
 * a region inside the output buffer placed *after* the space reserved for
 * its own output. As long as the converter then appends no more than the
 * bytes it reserved, the buffer is not reallocated and the output never
 * reaches the scratch region, so the scratch stays valid while it is read.
 */
#ifndef PGCDC_FORMAT_PGTYPES_INTERNAL_H
#define PGCDC_FORMAT_PGTYPES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "format/pgtypes.h"

/* Returns a scratch region of `n` bytes starting `out_max` bytes past buf->len. */
static inline unsigned char *pgcdc_pgt_scratch(pgcdc_buf *buf, size_t out_max, size_t n)
{
    pgcdc_buf_reserve(buf, out_max + n);
    return (unsigned char *)buf->data + buf->len + out_max;
}

/*
 * Formats the standard conversion error "pgtypes: cannot convert '<text>' to
 * <type>" (text truncated, control bytes replaced) and returns -1.
 */
int pgcdc_pgt_fail(char *errstr, size_t errstr_size, const pgcdc_coltype *ct, const char *text,
                   size_t len);

/* Same with a free-form reason appended after the standard message. */
int pgcdc_pgt_fail_why(char *errstr, size_t errstr_size, const pgcdc_coltype *ct, const char *text,
                       size_t len, const char *why);

/* Short PostgreSQL-ish name of the column type, for messages. */
const char *pgcdc_pgt_type_name(const pgcdc_coltype *ct);

/* Parses an optionally signed decimal integer spanning all of [s, s+len). */
int pgcdc_pgt_parse_i64(const char *s, size_t len, int64_t *out);

/* Appends the base64 (standard or URL-safe alphabet, padded) of p as a JSON string. */
void pgcdc_pgt_base64(pgcdc_buf *buf, const unsigned char *p, size_t len, int url_safe);

/* Numeric and money (pgtypes_numeric.c). */
int pgcdc_pgt_numeric(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                      const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_money(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                    const char *text, size_t len, char *errstr, size_t errstr_size);

/* Temporal types (pgtypes_time.c). */
int pgcdc_pgt_date(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                   const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_time(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                   const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_timetz(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                     const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_timestamp(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                        const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_timestamptz(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                          const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_interval(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                       const char *text, size_t len, char *errstr, size_t errstr_size);

/* Text parsers shared with other output formats (pgtypes_time.c). Each
 * returns 0 or -1 (malformed or out of range). 'infinity' / '-infinity'
 * give INT32_MAX / INT32_MIN days and INT64_MAX / INT64_MIN microseconds,
 * PostgreSQL's own internal values for them. */
int pgcdc_pgt_parse_date(const char *text, size_t len, int32_t *days);
int pgcdc_pgt_parse_time_us(const char *text, size_t len, int64_t *us);
int pgcdc_pgt_parse_timestamp_us(const char *text, size_t len, int with_tz, int64_t *us);

/* Arrays (pgtypes_array.c). */
int pgcdc_pgt_array(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                    const char *text, size_t len, char *errstr, size_t errstr_size);

/* hstore and point (pgtypes_geo.c). */
int pgcdc_pgt_hstore(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                     const char *text, size_t len, char *errstr, size_t errstr_size);
int pgcdc_pgt_point(pgcdc_buf *buf, const pgcdc_coltype *ct, const char *text, size_t len,
                    char *errstr, size_t errstr_size);

/* 1 if the kind's JSON value is always the input text as a JSON string. */
int pgcdc_pgt_is_plain_string(pgcdc_type_kind kind);

#endif
