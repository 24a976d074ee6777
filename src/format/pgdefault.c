/*
 * pgdefault.c - column DEFAULTs and zero values as Debezium writes them
 * (see pgdefault.h).
 */
#include "format/pgdefault.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ZERO_UUID "00000000-0000-0000-0000-000000000000"

/* How Debezium maps one pg_type name: its placeholder for generated values,
 * whether a "NULL::type" text means no default, whether it trims. */
typedef enum {
    R_NONE = 0,
    R_INT,
    R_FLOAT,
    R_NUMERIC,
    R_BOOL,
    R_STRING, /* text, varchar, bpchar, json, jsonb, xml */
    R_UUID,
    R_TEMPORAL, /* date, time, timestamp, timestamptz */
    R_BIT,
    R_ENUM,
} rule_kind;

typedef struct rule {
    const char *type_name;
    rule_kind kind;
    const char *placeholder; /* in PostgreSQL's text output format; NULL: none */
    int64_t min, max;        /* R_INT */
} rule;

static const rule rules[] = {
    {"int2", R_INT, "0", INT16_MIN, INT16_MAX},
    {"int4", R_INT, "0", INT32_MIN, INT32_MAX},
    {"int8", R_INT, "0", INT64_MIN, INT64_MAX},
    {"float4", R_FLOAT, "0.0", 0, 0},
    {"float8", R_FLOAT, "0.0", 0, 0},
    {"numeric", R_NUMERIC, "0.0", 0, 0},
    {"bool", R_BOOL, "false", 0, 0},
    {"text", R_STRING, "", 0, 0},
    {"varchar", R_STRING, "", 0, 0},
    {"bpchar", R_STRING, "", 0, 0},
    {"xml", R_STRING, "", 0, 0},
    {"json", R_STRING, "{}", 0, 0},
    {"jsonb", R_STRING, "{}", 0, 0},
    {"uuid", R_UUID, ZERO_UUID, 0, 0},
    {"date", R_TEMPORAL, "1970-01-01", 0, 0},
    {"time", R_TEMPORAL, "00:00:00", 0, 0},
    {"timestamp", R_TEMPORAL, "1970-01-01 00:00:00", 0, 0},
    {"timestamptz", R_TEMPORAL, "1970-01-01 00:00:00+00", 0, 0},
    /* its placeholder, "epoch", is no interval pgjdbc's PGInterval reads */
    {"interval", R_TEMPORAL, NULL, 0, 0},
    {"bit", R_BIT, "00", 0, 0},
    {"varbit", R_BIT, "0", 0, 0},
};

/* Debezium's FUNCTION_DEFAULT_PATTERN, ^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\),
 * searched with find(): an identifier (after an optional parenthesis), an
 * opening parenthesis, and a closing one later on the same line. */
static int looks_like_call(const char *s)
{
    const char *p = s + (*s == '(');
    const char *q = p;
    while (isalnum((unsigned char)*q) || *q == '_' || *q == '.')
        q++;
    if (q == p || *q != '(')
        return 0;
    for (q++; *q && *q != '\n' && *q != '\r'; q++)
        if (*q == ')')
            return 1;
    return 0;
}

static int is_current_datetime(const char *s)
{
    static const char *const names[] = {"current_timestamp", "current_time", "current_date",
                                        "localtime", "localtimestamp"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!strcasecmp(s, names[i]))
            return 1;
    return 0;
}

/*
 * Debezium's extractDefault(): the placeholder for generated values, else
 * the text inside the first pair of single quotes, else the text itself.
 * Sets *text and *len; returns 0, or -1 when there is no default (NULL::type,
 * an unterminated quote).
 */
static int extract(const char *expr, const char *placeholder, const char **text, size_t *len)
{
    if (looks_like_call(expr) || is_current_datetime(expr)) {
        if (!placeholder)
            return -1;
        *text = placeholder;
        *len = strlen(placeholder);
        return 0;
    }
    const char *q = strchr(expr, '\'');
    if (!q) {
        if (!strncmp(expr, "NULL::", 6))
            return -1;
        *text = expr;
        *len = strlen(expr);
        return 0;
    }
    const char *end = strchr(q + 1, '\'');
    if (!end)
        return -1;
    *text = q + 1;
    *len = (size_t)(end - q - 1);
    return 0;
}

/* Java's Integer/Short/Long.parseXxx: an optional sign and decimal digits. */
static int parse_java_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    const char *d = tmp + (tmp[0] == '+' || tmp[0] == '-');
    if (!*d)
        return -1;
    for (const char *p = d; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A plain decimal number: [+-](digits[.digits]|.digits), plus an exponent
 * when allowed. Returns the number of fraction digits, or -1. */
static int decimal_syntax(const char *s, size_t n, int exponent)
{
    size_t i = 0, digits = 0;
    int frac = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && isdigit((unsigned char)s[i]))
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++, digits++, frac++;
    }
    if (!digits)
        return -1;
    if (exponent && i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == e)
            return -1;
    }
    return i == n ? frac : -1;
}

static const rule *find_rule(const pgcdc_default_src *src)
{
    if (src->is_enum)
        return NULL;
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (!strcmp(src->type_name, rules[i].type_name))
            return &rules[i];
    return NULL;
}

/*
 * Debezium's extractEnumDefault(): 'label'::type, with the type named as its
 * JDBC connection prints it (unqualified for types in public, its default
 * search path; pgcdc's catalog connection qualifies them).
 */
static int enum_label(const pgcdc_default_src *src, const char **text, size_t *len)
{
    const char *e = src->expr;
    size_t n = strlen(e), tn = strlen(src->type_name);
    if (!src->type_nsp || strcmp(src->type_nsp, "public") != 0)
        return -1;
    if (n < tn + 2 || strcmp(e + n - tn, src->type_name) != 0)
        return -1;
    n -= tn;
    if (n >= 7 && !strncmp(e + n - 7, "public.", 7))
        n -= 7;
    if (n < 2 || e[n - 1] != ':' || e[n - 2] != ':')
        return -1;
    n -= 2;
    if (n < 2 || e[0] != '\'' || e[n - 1] != '\'')
        return -1;
    *text = e + 1;
    *len = n - 2;
    return 0;
}

int pgcdc_coltype_default(pgcdc_buf *out, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                          const pgcdc_default_src *src)
{
    if (!src->expr || !src->type_name)
        return 0;
    const rule *r = find_rule(src);
    if (!r && !src->is_enum)
        return 0;
    /* Debezium trims the expressions of numeric and temporal types first;
     * pg_get_expr never pads them */
    const char *expr = src->expr;
    const char *text;
    size_t len;
    if (src->is_enum) {
        if (enum_label(src, &text, &len) != 0)
            return 0;
    } else if (extract(expr, r->placeholder, &text, &len) != 0) {
        return 0;
    }
    pgcdc_buf tmp = PGCDC_BUF_INIT;
    size_t mark = out->len;
    int rc = 0;
    int64_t iv;
    switch (r ? r->kind : R_ENUM) {
    case R_INT:
        if (parse_java_int(text, len, r->min, r->max, &iv) != 0)
            goto none;
        pgcdc_buf_put_i64(out, iv);
        rc = 1;
        goto done;
    case R_FLOAT:
        if (decimal_syntax(text, len, 1) < 0)
            goto none;
        break;
    case R_NUMERIC: {
        int frac = decimal_syntax(text, len, 0);
        if (frac < 0)
            goto none;
        /* a VariableScaleDecimal is a struct: Debezium drops struct defaults */
        if (opts->decimal_mode == PGCDC_DECIMAL_PRECISE && ct->precision < 0)
            goto none;
        /* BigDecimal.setScale(column scale) when that raises the scale */
        if (ct->precision >= 0 && ct->scale > frac) {
            pgcdc_buf_append(&tmp, text, len);
            if (frac == 0)
                pgcdc_buf_putc(&tmp, '.');
            for (int i = frac; i < ct->scale; i++)
                pgcdc_buf_putc(&tmp, '0');
            text = tmp.data;
            len = tmp.len;
        }
        break;
    }
    case R_BOOL:
        if (len == 4 && !strncasecmp(text, "true", 4))
            PGCDC_BUF_LIT(out, "true");
        else
            PGCDC_BUF_LIT(out, "false");
        rc = 1;
        goto done;
    default:
        break;
    }
    char err[256];
    if (pgcdc_coltype_value(out, ct, opts, text, len, err, sizeof(err)) == 0) {
        rc = 1;
        goto done;
    }
none:
    out->len = mark; /* drop a partly written value, keeping the terminator */
    if (out->data)
        out->data[mark] = 0;
    rc = 0;
done:
    pgcdc_buf_free(&tmp);
    return rc;
}

void pgcdc_coltype_zero(pgcdc_buf *out, const pgcdc_coltype *ct, const pgcdc_type_opts *opts)
{
    switch (ct->kind) {
    case PGCDC_T_BOOL:
        PGCDC_BUF_LIT(out, "false");
        return;
    case PGCDC_T_INT16:
    case PGCDC_T_INT32:
    case PGCDC_T_INT64:
    case PGCDC_T_OID:
    case PGCDC_T_DATE:
    case PGCDC_T_TIME:
    case PGCDC_T_TIMESTAMP:
        PGCDC_BUF_LIT(out, "0");
        return;
    case PGCDC_T_FLOAT32:
    case PGCDC_T_FLOAT64:
        PGCDC_BUF_LIT(out, "0.0");
        return;
    case PGCDC_T_NUMERIC:
    case PGCDC_T_MONEY: {
        int scale = ct->kind == PGCDC_T_MONEY ? 2 : ct->precision >= 0 ? ct->scale : 0;
        if (opts->decimal_mode == PGCDC_DECIMAL_DOUBLE) {
            PGCDC_BUF_LIT(out, "0.0");
        } else if (opts->decimal_mode == PGCDC_DECIMAL_STRING) {
            PGCDC_BUF_LIT(out, "\"0");
            if (scale > 0)
                pgcdc_buf_putc(out, '.');
            for (int i = 0; i < scale; i++)
                pgcdc_buf_putc(out, '0');
            pgcdc_buf_putc(out, '"');
        } else if (ct->kind == PGCDC_T_NUMERIC && ct->precision < 0) {
            PGCDC_BUF_LIT(out, "{\"scale\":0,\"value\":\"AA==\"}");
        } else {
            PGCDC_BUF_LIT(out, "\"AA==\""); /* BigInteger.ZERO.toByteArray(): one 0 byte */
        }
        return;
    }
    case PGCDC_T_TIMETZ:
        PGCDC_BUF_LIT(out, "\"00:00:00Z\"");
        return;
    case PGCDC_T_TIMESTAMPTZ:
        PGCDC_BUF_LIT(out, "\"1970-01-01T00:00:00Z\"");
        return;
    case PGCDC_T_INTERVAL:
        if (opts->interval_mode == PGCDC_INTERVAL_STRING)
            PGCDC_BUF_LIT(out, "\"P0Y0M0DT0H0M0S\"");
        else
            PGCDC_BUF_LIT(out, "0");
        return;
    case PGCDC_T_BIT:
        if (ct->precision > 1)
            PGCDC_BUF_LIT(out, "\"\"");
        else
            PGCDC_BUF_LIT(out, "false");
        return;
    case PGCDC_T_ARRAY:
        PGCDC_BUF_LIT(out, "[]");
        return;
    case PGCDC_T_HSTORE:
        if (opts->hstore_mode == PGCDC_HSTORE_MAP)
            PGCDC_BUF_LIT(out, "{}");
        else
            PGCDC_BUF_LIT(out, "\"{}\"");
        return;
    case PGCDC_T_POINT: /* the point (0,0), with its WKB */
        PGCDC_BUF_LIT(out, "{\"x\":0.0,\"y\":0.0,\"wkb\":\"AQEAAAAAAAAAAAAAAAAAAAAAAAAA\","
                           "\"srid\":null}");
        return;
    default: /* strings, bytes in every binary.handling.mode, enums, uuid, json, ... */
        PGCDC_BUF_LIT(out, "\"\"");
        return;
    }
}
