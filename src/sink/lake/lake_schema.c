/*
 * lake_schema.c - Connect schema -> lake columns, and JSON values -> Parquet
 * values (see lake_schema.h).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"
#include "sink/lake/lake_schema.h"

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int col_init(pgcdc_lake_col *c, const char *prefix, const char *field, pgcdc_lake_conv conv,
                    int precision, int scale, int nullable)
{
    memset(c, 0, sizeof(*c));
    size_t n = strlen(prefix) + strlen(field) + 1;
    c->name = malloc(n);
    c->field = strdup(field);
    if (!c->name || !c->field) {
        free(c->name);
        free(c->field);
        return -1;
    }
    snprintf(c->name, n, "%s%s", prefix, field);
    for (char *p = c->name; *p; p++)
        if (strchr(" ,;{}()\n\t=", *p))
            *p = '_';
    c->conv = conv;
    pgcdc_pq_column *q = &c->pq;
    q->name = c->name;
    q->nullable = nullable;
    const char *dt = "string";
    switch (conv) {
    case PGCDC_LAKE_BOOL:
        q->physical = PGCDC_PQ_BOOLEAN;
        dt = "boolean";
        break;
    case PGCDC_LAKE_I8:
    case PGCDC_LAKE_I16:
        q->physical = PGCDC_PQ_INT32;
        q->logical = PGCDC_PQ_LOGICAL_INT;
        q->int_bits = conv == PGCDC_LAKE_I8 ? 8 : 16;
        dt = conv == PGCDC_LAKE_I8 ? "byte" : "short";
        break;
    case PGCDC_LAKE_I32:
        q->physical = PGCDC_PQ_INT32;
        dt = "integer";
        break;
    case PGCDC_LAKE_I64:
        q->physical = PGCDC_PQ_INT64;
        dt = "long";
        break;
    case PGCDC_LAKE_F32:
        q->physical = PGCDC_PQ_FLOAT;
        dt = "float";
        break;
    case PGCDC_LAKE_F64:
        q->physical = PGCDC_PQ_DOUBLE;
        dt = "double";
        break;
    case PGCDC_LAKE_BINARY:
        q->physical = PGCDC_PQ_BYTE_ARRAY;
        dt = "binary";
        break;
    case PGCDC_LAKE_DATE:
        q->physical = PGCDC_PQ_INT32;
        q->logical = PGCDC_PQ_LOGICAL_DATE;
        dt = "date";
        break;
    case PGCDC_LAKE_TS_MICROS:
    case PGCDC_LAKE_TS_MILLIS:
    case PGCDC_LAKE_TS_NANOS:
    case PGCDC_LAKE_TS_ZONED:
        q->physical = PGCDC_PQ_INT64;
        q->logical = PGCDC_PQ_LOGICAL_TIMESTAMP_MICROS;
        q->utc = conv == PGCDC_LAKE_TS_ZONED;
        dt = q->utc ? "timestamp" : "timestamp_ntz";
        break;
    case PGCDC_LAKE_DECIMAL:
        q->physical = PGCDC_PQ_FIXED_LEN_BYTE_ARRAY;
        q->logical = PGCDC_PQ_LOGICAL_DECIMAL;
        q->precision = precision;
        q->scale = scale;
        q->type_length = pgcdc_pq_decimal_bytes(precision);
        snprintf(c->delta_type, sizeof(c->delta_type), "decimal(%d,%d)", precision, scale);
        return 0;
    case PGCDC_LAKE_DECIMAL_TEXT:
        c->scale = scale;
        /* fall through */
    case PGCDC_LAKE_STRING:
    case PGCDC_LAKE_JSON_TEXT:
        q->physical = PGCDC_PQ_BYTE_ARRAY;
        q->logical = PGCDC_PQ_LOGICAL_STRING;
        break;
    }
    snprintf(c->delta_type, sizeof(c->delta_type), "%s", dt);
    return 0;
}

static int push(pgcdc_lake_col **cols, int *ncols)
{
    pgcdc_lake_col *n = realloc(*cols, (size_t)(*ncols + 1) * sizeof(*n));
    if (!n)
        return -1;
    *cols = n;
    return 0;
}

int pgcdc_lake_col_add(pgcdc_lake_col **cols, int *ncols, const char *name, pgcdc_lake_conv conv,
                       int nullable)
{
    if (push(cols, ncols) != 0 || col_init(&(*cols)[*ncols], "", name, conv, 0, 0, nullable) != 0)
        return -1;
    (*ncols)++;
    return 0;
}

/* The conversion for one Connect field schema; precision/scale for decimals. */
static pgcdc_lake_conv conv_of(const json_t *f, int *precision, int *scale)
{
    const char *type = str_of(f, "type"), *name = str_of(f, "name");
    if (!type)
        type = "";
    if (name) {
        if (!strcmp(name, "io.debezium.time.Date") ||
            !strcmp(name, "org.apache.kafka.connect.data.Date"))
            return PGCDC_LAKE_DATE;
        if (!strcmp(name, "io.debezium.time.MicroTimestamp"))
            return PGCDC_LAKE_TS_MICROS;
        if (!strcmp(name, "io.debezium.time.Timestamp") ||
            !strcmp(name, "org.apache.kafka.connect.data.Timestamp"))
            return PGCDC_LAKE_TS_MILLIS;
        if (!strcmp(name, "io.debezium.time.NanoTimestamp"))
            return PGCDC_LAKE_TS_NANOS;
        if (!strcmp(name, "io.debezium.time.ZonedTimestamp"))
            return PGCDC_LAKE_TS_ZONED;
        if (!strcmp(name, "org.apache.kafka.connect.data.Decimal")) {
            const json_t *params = json_object_get(f, "parameters");
            const char *s = str_of(params, "scale"),
                       *p = str_of(params, "connect.decimal.precision");
            *scale = s ? atoi(s) : 0;
            *precision = p ? atoi(p) : 0;
            if (*precision >= 1 && *precision <= 38 && *scale >= 0 && *scale <= *precision)
                return PGCDC_LAKE_DECIMAL;
            return PGCDC_LAKE_DECIMAL_TEXT;
        }
    }
    if (!strcmp(type, "boolean"))
        return PGCDC_LAKE_BOOL;
    if (!strcmp(type, "int8"))
        return PGCDC_LAKE_I8;
    if (!strcmp(type, "int16"))
        return PGCDC_LAKE_I16;
    if (!strcmp(type, "int32"))
        return PGCDC_LAKE_I32;
    if (!strcmp(type, "int64"))
        return PGCDC_LAKE_I64;
    if (!strcmp(type, "float32"))
        return PGCDC_LAKE_F32;
    if (!strcmp(type, "float64") || !strcmp(type, "double"))
        return PGCDC_LAKE_F64;
    if (!strcmp(type, "string"))
        return PGCDC_LAKE_STRING;
    if (!strcmp(type, "bytes"))
        return PGCDC_LAKE_BINARY;
    return PGCDC_LAKE_JSON_TEXT; /* struct, array, map */
}

int pgcdc_lake_cols_from_connect(const json_t *schema, const char *prefix, pgcdc_lake_col **cols,
                                 int *ncols, char *errstr, size_t errstr_size)
{
    const json_t *fields = json_object_get(schema, "fields");
    if (!json_is_array(fields)) {
        snprintf(errstr, errstr_size, "the row schema has no fields");
        return -1;
    }
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *field = str_of(f, "field");
        if (!field || !*field) {
            snprintf(errstr, errstr_size, "field %zu of the row schema has no name", i);
            return -1;
        }
        int precision = 0, scale = 0;
        pgcdc_lake_conv conv = conv_of(f, &precision, &scale);
        if (push(cols, ncols) != 0 ||
            col_init(&(*cols)[*ncols], prefix, field, conv, precision, scale, 1) != 0) {
            snprintf(errstr, errstr_size, "out of memory");
            return -1;
        }
        (*ncols)++;
    }
    return 0;
}

void pgcdc_lake_cols_free(pgcdc_lake_col *cols, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        free(cols[i].name);
        free(cols[i].field);
    }
    free(cols);
}

/* ---------- values ---------- */

/* A JSON string of base64 (bytes, Connect decimals) decoded into out. */
static int decode_b64(const json_t *v, pgcdc_buf *out)
{
    if (!json_is_string(v))
        return -1;
    pgcdc_buf_reset(out);
    return pgcdc_base64_decode(out, json_string_value(v), json_string_length(v));
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int pgcdc_lake_parse_zoned(const char *s, int64_t *micros)
{
    int y, mo, d, h, mi, se;
    if (strlen(s) < 20 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
        digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int nd = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, nd++)
            if (nd < 6)
                frac = frac * 10 + (*p - '0');
        if (nd == 0)
            return -1;
        for (; nd < 6; nd++)
            frac *= 10;
    }
    if (strcmp(p, "Z"))
        return -1;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    *micros = secs * 1000000 + frac;
    return 0;
}

/* Unscaled big-endian two's complement -> decimal text with `scale`. */
static void decimal_text(const unsigned char *b, size_t n, int scale, pgcdc_buf *out)
{
    int neg = n && (b[0] & 0x80);
    unsigned char *mag = malloc(n ? n : 1);
    if (!mag)
        return;
    /* magnitude: two's complement negation for negatives */
    int carry = 1;
    for (size_t i = n; i-- > 0;) {
        unsigned v = neg ? (unsigned)(~b[i] & 0xff) + (unsigned)carry : b[i];
        if (neg)
            carry = v > 0xff;
        mag[i] = (unsigned char)(v & 0xff);
    }
    char *dig = malloc(n * 3 + 2);
    size_t nd = 0;
    if (!dig) {
        free(mag);
        return;
    }
    /* repeated division by 10 of the big-endian magnitude */
    for (;;) {
        int nonzero = 0;
        unsigned rem = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            nonzero |= mag[i];
        }
        dig[nd++] = (char)('0' + rem);
        if (!nonzero)
            break;
    }
    while ((int)nd <= scale)
        dig[nd++] = '0';
    if (neg)
        pgcdc_buf_putc(out, '-');
    for (size_t i = nd; i-- > 0;) {
        pgcdc_buf_putc(out, dig[i]);
        if (scale > 0 && i == (size_t)scale)
            pgcdc_buf_putc(out, '.');
    }
    free(dig);
    free(mag);
}

static int bad(const pgcdc_lake_col *c, const json_t *v, char *errstr, size_t errstr_size)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(errstr, errstr_size, "column %s (%s): cannot store the value %.80s", c->name,
             c->delta_type, text ? text : "?");
    free(text);
    return -1;
}

static int float_of(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s)
        return -1;
    if (!strcmp(s, "NaN"))
        *out = NAN;
    else if (!strcmp(s, "Infinity"))
        *out = INFINITY;
    else if (!strcmp(s, "-Infinity"))
        *out = -INFINITY;
    else
        return -1;
    return 0;
}

int pgcdc_lake_put(pgcdc_pq_writer *w, int col, const pgcdc_lake_col *c, const json_t *v,
                   char *errstr, size_t errstr_size)
{
    if (!v || json_is_null(v))
        return pgcdc_pq_put_null(w, col) == 0 ? 0 : bad(c, v, errstr, errstr_size);
    json_int_t i = json_integer_value(v);
    double d;
    int rc = -1;
    pgcdc_buf *scratch;
    switch (c->conv) {
    case PGCDC_LAKE_BOOL:
        if (json_is_boolean(v))
            rc = pgcdc_pq_put_bool(w, col, json_is_true(v));
        break;
    case PGCDC_LAKE_I8:
    case PGCDC_LAKE_I16:
    case PGCDC_LAKE_I32:
    case PGCDC_LAKE_DATE: {
        json_int_t lim = c->conv == PGCDC_LAKE_I8    ? 127
                         : c->conv == PGCDC_LAKE_I16 ? 32767
                                                     : INT_MAX;
        if (json_is_integer(v) && i <= lim && i >= -lim - 1)
            rc = pgcdc_pq_put_i32(w, col, (int32_t)i);
        break;
    }
    case PGCDC_LAKE_I64:
    case PGCDC_LAKE_TS_MICROS:
        if (json_is_integer(v))
            rc = pgcdc_pq_put_i64(w, col, (int64_t)i);
        break;
    case PGCDC_LAKE_TS_MILLIS:
        if (json_is_integer(v) && i <= INT64_MAX / 1000 && i >= INT64_MIN / 1000)
            rc = pgcdc_pq_put_i64(w, col, (int64_t)i * 1000);
        break;
    case PGCDC_LAKE_TS_NANOS:
        if (json_is_integer(v)) /* floor division: instants before 1970 too */
            rc = pgcdc_pq_put_i64(w, col, (int64_t)(i >= 0 ? i / 1000 : -((-(i + 1)) / 1000) - 1));
        break;
    case PGCDC_LAKE_TS_ZONED: {
        const char *s = json_string_value(v);
        int64_t us;
        if (s && !strcmp(s, "infinity"))
            rc = pgcdc_pq_put_i64(w, col, INT64_MAX);
        else if (s && !strcmp(s, "-infinity"))
            rc = pgcdc_pq_put_i64(w, col, INT64_MIN);
        else if (s && pgcdc_lake_parse_zoned(s, &us) == 0)
            rc = pgcdc_pq_put_i64(w, col, us);
        break;
    }
    case PGCDC_LAKE_F32:
        if (float_of(v, &d) == 0)
            rc = pgcdc_pq_put_float(w, col, (float)d);
        break;
    case PGCDC_LAKE_F64:
        if (float_of(v, &d) == 0)
            rc = pgcdc_pq_put_double(w, col, d);
        break;
    case PGCDC_LAKE_STRING:
        if (json_is_string(v))
            rc = pgcdc_pq_put_bytes(w, col, json_string_value(v), json_string_length(v));
        break;
    case PGCDC_LAKE_BINARY:
        scratch = pgcdc_pq_writer_scratch(w);
        if (decode_b64(v, scratch) == 0)
            rc = pgcdc_pq_put_bytes(w, col, scratch->data, scratch->len);
        break;
    case PGCDC_LAKE_DECIMAL: {
        scratch = pgcdc_pq_writer_scratch(w);
        if (decode_b64(v, scratch) != 0)
            break;
        size_t want = (size_t)c->pq.type_length, n = scratch->len;
        const unsigned char *b = (const unsigned char *)scratch->data;
        unsigned char fixed[32], sign = n && (b[0] & 0x80) ? 0xff : 0;
        /* drop redundant sign bytes, then sign-extend to the fixed width */
        while (n > want && b[0] == sign && ((b[1] & 0x80) ? 0xff : 0) == sign) {
            b++;
            n--;
        }
        if (n > want || want > sizeof(fixed))
            break;
        memset(fixed, sign, want - n);
        memcpy(fixed + (want - n), b, n);
        rc = pgcdc_pq_put_bytes(w, col, fixed, want);
        break;
    }
    case PGCDC_LAKE_DECIMAL_TEXT: {
        scratch = pgcdc_pq_writer_scratch(w);
        if (decode_b64(v, scratch) != 0)
            break;
        pgcdc_buf text = PGCDC_BUF_INIT;
        decimal_text((const unsigned char *)scratch->data, scratch->len, c->scale, &text);
        if (text.len)
            rc = pgcdc_pq_put_bytes(w, col, text.data, text.len);
        pgcdc_buf_free(&text);
        break;
    }
    case PGCDC_LAKE_JSON_TEXT: {
        char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (text)
            rc = pgcdc_pq_put_bytes(w, col, text, strlen(text));
        free(text);
        break;
    }
    }
    return rc == 0 ? 0 : bad(c, v, errstr, errstr_size);
}

int pgcdc_lake_pq_from_delta(const char *name, const char *type, pgcdc_pq_column *out)
{
    static const struct {
        const char *type;
        pgcdc_lake_conv conv;
    } map[] = {{"boolean", PGCDC_LAKE_BOOL},       {"byte", PGCDC_LAKE_I8},
               {"short", PGCDC_LAKE_I16},          {"integer", PGCDC_LAKE_I32},
               {"long", PGCDC_LAKE_I64},           {"float", PGCDC_LAKE_F32},
               {"double", PGCDC_LAKE_F64},         {"string", PGCDC_LAKE_STRING},
               {"binary", PGCDC_LAKE_BINARY},      {"date", PGCDC_LAKE_DATE},
               {"timestamp", PGCDC_LAKE_TS_ZONED}, {"timestamp_ntz", PGCDC_LAKE_TS_MICROS}};
    pgcdc_lake_col c;
    int precision = 0, scale = 0, found = 0;
    pgcdc_lake_conv conv = PGCDC_LAKE_STRING;
    if (sscanf(type, "decimal(%d,%d)", &precision, &scale) == 2 && precision >= 1 &&
        precision <= 38 && scale >= 0 && scale <= precision) {
        conv = PGCDC_LAKE_DECIMAL;
        found = 1;
    }
    for (size_t i = 0; !found && i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(type, map[i].type)) {
            conv = map[i].conv;
            found = 1;
        }
    if (!found || col_init(&c, "", name, conv, precision, scale, 1) != 0)
        return -1;
    *out = c.pq;
    out->name = name;
    free(c.name);
    free(c.field);
    return 0;
}
