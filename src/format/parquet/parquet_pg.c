/*
 * parquet_pg.c - PostgreSQL types and text values to Parquet (see
 * parquet_pg.h). The type mapping table is in docs/PARQUET.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/parquet/parquet_pg.h"
#include "format/pgtypes_internal.h"

void pgcdc_pq_pg_column(const pgcdc_column *col, pgcdc_pq_column *out, pgcdc_pq_pgconv *conv)
{
    const pgcdc_coltype *ct = &col->type;
    memset(out, 0, sizeof(*out));
    out->name = col->name;
    out->nullable = col->optional;
    out->physical = PGCDC_PQ_BYTE_ARRAY;
    out->logical = PGCDC_PQ_LOGICAL_STRING;
    *conv = PGCDC_PQ_PG_STRING;
    switch (ct->kind) {
    case PGCDC_T_BOOL:
        out->physical = PGCDC_PQ_BOOLEAN;
        out->logical = PGCDC_PQ_LOGICAL_NONE;
        *conv = PGCDC_PQ_PG_BOOL;
        break;
    case PGCDC_T_INT16:
    case PGCDC_T_INT32:
        out->physical = PGCDC_PQ_INT32;
        out->logical = PGCDC_PQ_LOGICAL_INT;
        out->int_bits = ct->kind == PGCDC_T_INT16 ? 16 : 32;
        *conv = ct->kind == PGCDC_T_INT16 ? PGCDC_PQ_PG_INT16 : PGCDC_PQ_PG_INT32;
        break;
    case PGCDC_T_INT64:
    case PGCDC_T_OID: /* unsigned 32-bit: needs 64 signed bits */
        out->physical = PGCDC_PQ_INT64;
        out->logical = PGCDC_PQ_LOGICAL_INT;
        out->int_bits = 64;
        *conv = PGCDC_PQ_PG_INT64;
        break;
    case PGCDC_T_FLOAT32:
        out->physical = PGCDC_PQ_FLOAT;
        out->logical = PGCDC_PQ_LOGICAL_NONE;
        *conv = PGCDC_PQ_PG_FLOAT4;
        break;
    case PGCDC_T_FLOAT64:
        out->physical = PGCDC_PQ_DOUBLE;
        out->logical = PGCDC_PQ_LOGICAL_NONE;
        *conv = PGCDC_PQ_PG_FLOAT8;
        break;
    case PGCDC_T_NUMERIC:
        /* unconstrained, negative scale or wider than 128 bits: text */
        if (ct->scale < 0 || ct->precision < 1 || ct->precision > 38 || ct->scale > ct->precision)
            break;
        out->logical = PGCDC_PQ_LOGICAL_DECIMAL;
        out->precision = ct->precision;
        out->scale = ct->scale;
        if (ct->precision <= 9) {
            out->physical = PGCDC_PQ_INT32;
        } else if (ct->precision <= 18) {
            out->physical = PGCDC_PQ_INT64;
        } else {
            out->physical = PGCDC_PQ_FIXED_LEN_BYTE_ARRAY;
            out->type_length = pgcdc_pq_decimal_bytes(ct->precision);
        }
        *conv = PGCDC_PQ_PG_DECIMAL;
        break;
    case PGCDC_T_DATE:
        out->physical = PGCDC_PQ_INT32;
        out->logical = PGCDC_PQ_LOGICAL_DATE;
        *conv = PGCDC_PQ_PG_DATE;
        break;
    case PGCDC_T_TIME:
        out->physical = PGCDC_PQ_INT64;
        out->logical = PGCDC_PQ_LOGICAL_TIME_MICROS;
        *conv = PGCDC_PQ_PG_TIME;
        break;
    case PGCDC_T_TIMESTAMP:
    case PGCDC_T_TIMESTAMPTZ:
        out->physical = PGCDC_PQ_INT64;
        out->logical = PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS;
        out->utc = ct->kind == PGCDC_T_TIMESTAMPTZ;
        *conv = out->utc ? PGCDC_PQ_PG_TIMESTAMPTZ : PGCDC_PQ_PG_TIMESTAMP;
        break;
    case PGCDC_T_JSON:
        out->logical = PGCDC_PQ_LOGICAL_JSON;
        break;
    case PGCDC_T_BYTEA:
        out->logical = PGCDC_PQ_LOGICAL_NONE;
        *conv = PGCDC_PQ_PG_BYTEA;
        break;
    default:
        break;
    }
}

static int bad(const pgcdc_pq_column *pc, const char *t, size_t n, const char *what, char *errstr,
               size_t es)
{
    snprintf(errstr, es, "parquet: column \"%s\": cannot convert '%.*s' to %s", pc->name,
             n > 64 ? 64 : (int)n, t, what);
    return -1;
}

/* numeric text [-]digits[.digits] -> unscaled integer at the column's
 * scale, as big-endian two's complement / INT32 / INT64. */
static int parse_decimal(const pgcdc_pq_column *pc, const char *t, size_t n, pgcdc_pq_datum *d,
                         char *errstr, size_t es)
{
    if (n == 3 && memcmp(t, "NaN", 3) == 0) {
        snprintf(errstr, es,
                 "parquet: column \"%s\": NaN has no DECIMAL(%d,%d) representation "
                 "(change the column to unconstrained numeric to write it as text)",
                 pc->name, pc->precision, pc->scale);
        return -1;
    }
    size_t i = 0;
    int neg = 0;
    if (i < n && (t[i] == '-' || t[i] == '+'))
        neg = t[i++] == '-';
    unsigned __int128 mag = 0;
    int digits = 0, frac = -1, seen = 0;
    for (; i < n; i++) {
        char c = t[i];
        if (c == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (c < '0' || c > '9')
            return bad(pc, t, n, "decimal", errstr, es);
        seen = 1;
        if (frac >= 0 && ++frac > pc->scale)
            return bad(pc, t, n, "decimal (more fraction digits than the scale)", errstr, es);
        if (mag || c != '0')
            digits++;
        mag = mag * 10 + (unsigned)(c - '0');
        if (digits > 38)
            return bad(pc, t, n, "decimal (too many digits)", errstr, es);
    }
    if (!seen)
        return bad(pc, t, n, "decimal", errstr, es);
    for (int k = frac < 0 ? 0 : frac; k < pc->scale; k++) {
        mag *= 10;
        if (mag)
            digits++;
    }
    if (digits > pc->precision)
        return bad(pc, t, n, "decimal (more digits than the precision)", errstr, es);
    __int128 v = neg ? -(__int128)mag : (__int128)mag;
    if (pc->physical == PGCDC_PQ_INT32) {
        d->v.i32 = (int32_t)v;
    } else if (pc->physical == PGCDC_PQ_INT64) {
        d->v.i64 = (int64_t)v;
    } else {
        for (int k = pc->type_length - 1; k >= 0; k--) {
            d->fixed[k] = (unsigned char)((unsigned __int128)v & 0xff);
            v >>= 8; /* arithmetic: keeps the sign */
        }
        d->bytes = d->fixed;
        d->len = (size_t)pc->type_length;
    }
    return 0;
}

static int parse_float(const pgcdc_pq_column *pc, const char *t, size_t n, double *out,
                       char *errstr, size_t es)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return bad(pc, t, n, "floating point", errstr, es);
    memcpy(tmp, t, n);
    tmp[n] = 0;
    char *end;
    *out = strtod(tmp, &end);
    if (end != tmp + n)
        return bad(pc, t, n, "floating point", errstr, es);
    return 0;
}

int pgcdc_pq_pg_parse(pgcdc_pq_pgconv conv, const pgcdc_pq_column *pc, const char *t, size_t n,
                      pgcdc_pq_datum *d, pgcdc_buf *scratch, char *errstr, size_t es)
{
    int64_t i64;
    double f8;
    d->null = 0;
    switch (conv) {
    case PGCDC_PQ_PG_BOOL:
        if (n != 1 || (t[0] != 't' && t[0] != 'f'))
            return bad(pc, t, n, "boolean", errstr, es);
        d->v.i32 = t[0] == 't';
        return 0;
    case PGCDC_PQ_PG_INT16:
    case PGCDC_PQ_PG_INT32:
        if (pgcdc_pgt_parse_i64(t, n, &i64) != 0 ||
            (conv == PGCDC_PQ_PG_INT16 ? i64 < INT16_MIN || i64 > INT16_MAX
                                       : i64 < INT32_MIN || i64 > INT32_MAX))
            return bad(pc, t, n, conv == PGCDC_PQ_PG_INT16 ? "int16" : "int32", errstr, es);
        d->v.i32 = (int32_t)i64;
        return 0;
    case PGCDC_PQ_PG_INT64:
        if (pgcdc_pgt_parse_i64(t, n, &d->v.i64) != 0)
            return bad(pc, t, n, "int64", errstr, es);
        return 0;
    case PGCDC_PQ_PG_FLOAT4:
        if (parse_float(pc, t, n, &f8, errstr, es) != 0)
            return -1;
        d->v.f4 = (float)f8; /* the shortest-exact text of a float4 rounds back exactly */
        return 0;
    case PGCDC_PQ_PG_FLOAT8:
        return parse_float(pc, t, n, &d->v.f8, errstr, es);
    case PGCDC_PQ_PG_DECIMAL:
        return parse_decimal(pc, t, n, d, errstr, es);
    case PGCDC_PQ_PG_DATE:
        if (pgcdc_pgt_parse_date(t, n, &d->v.i32) != 0)
            return bad(pc, t, n, "date", errstr, es);
        return 0;
    case PGCDC_PQ_PG_TIME:
        if (pgcdc_pgt_parse_time_us(t, n, &d->v.i64) != 0)
            return bad(pc, t, n, "time", errstr, es);
        return 0;
    case PGCDC_PQ_PG_TIMESTAMP:
    case PGCDC_PQ_PG_TIMESTAMPTZ:
        if (pgcdc_pgt_parse_timestamp_us(t, n, conv == PGCDC_PQ_PG_TIMESTAMPTZ, &d->v.i64) != 0)
            return bad(pc, t, n, "timestamp", errstr, es);
        return 0;
    case PGCDC_PQ_PG_BYTEA: {
        if (n < 2 || t[0] != '\\' || t[1] != 'x' || n % 2)
            return bad(pc, t, n, "bytea (hex format expected: set bytea_output=hex)", errstr, es);
        size_t nb = (n - 2) / 2;
        pgcdc_buf_reset(scratch);
        pgcdc_buf_reserve(scratch, nb);
        unsigned char *o = (unsigned char *)scratch->data;
        for (size_t k = 0; k < nb; k++) {
            int hi = pgcdc_hex_digit(t[2 + 2 * k]), lo = pgcdc_hex_digit(t[3 + 2 * k]);
            if (hi < 0 || lo < 0)
                return bad(pc, t, n, "bytea", errstr, es);
            o[k] = (unsigned char)(hi << 4 | lo);
        }
        scratch->len = nb;
        d->bytes = o;
        d->len = nb;
        return 0;
    }
    case PGCDC_PQ_PG_STRING:
    default:
        d->bytes = t;
        d->len = n;
        return 0;
    }
}

static int put_failed(pgcdc_pq_writer *w, char *errstr, size_t es)
{
    const char *e = pgcdc_pq_writer_error(w);
    snprintf(errstr, es, "%s", e ? e : "parquet: put failed");
    return -1;
}

int pgcdc_pq_pg_put(pgcdc_pq_writer *w, int col, pgcdc_pq_pgconv conv, const pgcdc_value *v,
                    char *errstr, size_t es)
{
    pgcdc_pq_datum d;
    if (col < 0 || col >= pgcdc_pq_writer_ncols(w)) {
        pgcdc_pq_put_null(w, col);
        return put_failed(w, errstr, es);
    }
    const pgcdc_pq_column *pc = pgcdc_pq_writer_column(w, col);
    switch (v->kind) {
    case 'n':
        d.null = 1;
        break;
    case 't':
        if (pgcdc_pq_pg_parse(conv, pc, v->data, v->len, &d, pgcdc_pq_writer_scratch(w), errstr,
                              es) != 0)
            return -1;
        break;
    case 'u':
        snprintf(errstr, es,
                 "parquet: column \"%s\": the row carries no value for an unchanged TOASTed "
                 "column (set REPLICA IDENTITY FULL on the table)",
                 pc->name);
        return -1;
    default:
        snprintf(errstr, es, "parquet: column \"%s\": value kind '%c' is not text", pc->name,
                 v->kind);
        return -1;
    }
    if (pgcdc_pq_put_datum(w, col, &d) != 0)
        return put_failed(w, errstr, es);
    return 0;
}
