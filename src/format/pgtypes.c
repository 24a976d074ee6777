/*
 * pgtypes.c - PostgreSQL column types to Debezium / Kafka Connect values.
 *
 * This file holds the type resolver (OID + typmod -> pgcdc_coltype), the
 * Kafka Connect schema writer, the per-value dispatcher and the simple scalar
 * converters (bool, integers, floats, text-like, bytea, bit strings). Numeric
 * and money live in pgtypes_numeric.c, temporal types in pgtypes_time.c and
 * arrays in pgtypes_array.c.
 *
 * Reference behaviour: Debezium 3.x PostgresValueConverter /
 * JdbcValueConverters with the pgoutput decoder (values arrive as text and are
 * first turned into Java objects by PgOutputColumnValue), serialised by Kafka
 * Connect's JsonConverter. Deliberate deviations are marked "DEVIATION" at
 * the place they are implemented.
 *
 * Thread safety: every function here is reentrant; there is no mutable
 * static state. pgcdc_coltype_value() never allocates except by growing the
 * caller's output buffer.
 */
#include "format/pgtypes.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"
#include "format/pgtypes_internal.h"

/* ------------------------------------------------------------------------ */
/* Builtin types                                                             */
/* ------------------------------------------------------------------------ */

typedef struct builtin_type {
    uint32_t oid;
    pgcdc_type_kind kind;
    const char *name;
    uint32_t elem; /* element OID for arrays */
} builtin_type;

/* OIDs from PostgreSQL's src/include/catalog/pg_type.dat. */
static const builtin_type builtin_types[] = {
    {16, PGCDC_T_BOOL, "bool", 0},
    {17, PGCDC_T_BYTEA, "bytea", 0},
    {18, PGCDC_T_TEXT, "char", 0},
    {19, PGCDC_T_TEXT, "name", 0},
    {20, PGCDC_T_INT64, "int8", 0},
    {21, PGCDC_T_INT16, "int2", 0},
    {23, PGCDC_T_INT32, "int4", 0},
    {25, PGCDC_T_TEXT, "text", 0},
    {26, PGCDC_T_OID, "oid", 0},
    {114, PGCDC_T_JSON, "json", 0},
    {142, PGCDC_T_XML, "xml", 0},
    {650, PGCDC_T_TEXT, "cidr", 0},
    {700, PGCDC_T_FLOAT32, "float4", 0},
    {701, PGCDC_T_FLOAT64, "float8", 0},
    {774, PGCDC_T_TEXT, "macaddr8", 0},
    {600, PGCDC_T_POINT, "point", 0},
    {790, PGCDC_T_MONEY, "money", 0},
    {829, PGCDC_T_TEXT, "macaddr", 0},
    {869, PGCDC_T_TEXT, "inet", 0},
    {1042, PGCDC_T_TEXT, "bpchar", 0},
    {1043, PGCDC_T_TEXT, "varchar", 0},
    {1082, PGCDC_T_DATE, "date", 0},
    {1083, PGCDC_T_TIME, "time", 0},
    {1114, PGCDC_T_TIMESTAMP, "timestamp", 0},
    {1184, PGCDC_T_TIMESTAMPTZ, "timestamptz", 0},
    {1186, PGCDC_T_INTERVAL, "interval", 0},
    {1266, PGCDC_T_TIMETZ, "timetz", 0},
    {1560, PGCDC_T_BIT, "bit", 0},
    {1562, PGCDC_T_BIT, "varbit", 0},
    {1700, PGCDC_T_NUMERIC, "numeric", 0},
    {2950, PGCDC_T_UUID, "uuid", 0},
    {3614, PGCDC_T_TSVECTOR, "tsvector", 0},
    {3802, PGCDC_T_JSON, "jsonb", 0},
    /* ranges are strings in Debezium */
    {3904, PGCDC_T_TEXT, "int4range", 0},
    {3906, PGCDC_T_TEXT, "numrange", 0},
    {3908, PGCDC_T_TEXT, "tsrange", 0},
    {3910, PGCDC_T_TEXT, "tstzrange", 0},
    {3912, PGCDC_T_TEXT, "daterange", 0},
    {3926, PGCDC_T_TEXT, "int8range", 0},
    /* arrays */
    {1000, PGCDC_T_ARRAY, "_bool", 16},
    {1001, PGCDC_T_ARRAY, "_bytea", 17},
    {1002, PGCDC_T_ARRAY, "_char", 18},
    {1003, PGCDC_T_ARRAY, "_name", 19},
    {1016, PGCDC_T_ARRAY, "_int8", 20},
    {1005, PGCDC_T_ARRAY, "_int2", 21},
    {1007, PGCDC_T_ARRAY, "_int4", 23},
    {1009, PGCDC_T_ARRAY, "_text", 25},
    {1028, PGCDC_T_ARRAY, "_oid", 26},
    {199, PGCDC_T_ARRAY, "_json", 114},
    {143, PGCDC_T_ARRAY, "_xml", 142},
    {651, PGCDC_T_ARRAY, "_cidr", 650},
    {1021, PGCDC_T_ARRAY, "_float4", 700},
    {1022, PGCDC_T_ARRAY, "_float8", 701},
    {775, PGCDC_T_ARRAY, "_macaddr8", 774},
    {791, PGCDC_T_ARRAY, "_money", 790},
    {1040, PGCDC_T_ARRAY, "_macaddr", 829},
    {1041, PGCDC_T_ARRAY, "_inet", 869},
    {1014, PGCDC_T_ARRAY, "_bpchar", 1042},
    {1015, PGCDC_T_ARRAY, "_varchar", 1043},
    {1182, PGCDC_T_ARRAY, "_date", 1082},
    {1183, PGCDC_T_ARRAY, "_time", 1083},
    {1115, PGCDC_T_ARRAY, "_timestamp", 1114},
    {1185, PGCDC_T_ARRAY, "_timestamptz", 1184},
    {1187, PGCDC_T_ARRAY, "_interval", 1186},
    {1270, PGCDC_T_ARRAY, "_timetz", 1266},
    {1561, PGCDC_T_ARRAY, "_bit", 1560},
    {1563, PGCDC_T_ARRAY, "_varbit", 1562},
    {1231, PGCDC_T_ARRAY, "_numeric", 1700},
    {2951, PGCDC_T_ARRAY, "_uuid", 2950},
    {3643, PGCDC_T_ARRAY, "_tsvector", 3614},
    {3807, PGCDC_T_ARRAY, "_jsonb", 3802},
    {3905, PGCDC_T_ARRAY, "_int4range", 3904},
    {3907, PGCDC_T_ARRAY, "_numrange", 3906},
    {3909, PGCDC_T_ARRAY, "_tsrange", 3908},
    {3911, PGCDC_T_ARRAY, "_tstzrange", 3910},
    {3913, PGCDC_T_ARRAY, "_daterange", 3912},
    {3927, PGCDC_T_ARRAY, "_int8range", 3926},
};

static const builtin_type *builtin_find(uint32_t oid)
{
    for (size_t i = 0; i < sizeof(builtin_types) / sizeof(builtin_types[0]); i++)
        if (builtin_types[i].oid == oid)
            return &builtin_types[i];
    return NULL;
}

static const char *kind_name(pgcdc_type_kind k)
{
    switch (k) {
    case PGCDC_T_BOOL:
        return "bool";
    case PGCDC_T_INT16:
        return "int2";
    case PGCDC_T_INT32:
        return "int4";
    case PGCDC_T_INT64:
        return "int8";
    case PGCDC_T_OID:
        return "oid";
    case PGCDC_T_FLOAT32:
        return "float4";
    case PGCDC_T_FLOAT64:
        return "float8";
    case PGCDC_T_NUMERIC:
        return "numeric";
    case PGCDC_T_MONEY:
        return "money";
    case PGCDC_T_TEXT:
        return "text";
    case PGCDC_T_BYTEA:
        return "bytea";
    case PGCDC_T_DATE:
        return "date";
    case PGCDC_T_TIME:
        return "time";
    case PGCDC_T_TIMETZ:
        return "timetz";
    case PGCDC_T_TIMESTAMP:
        return "timestamp";
    case PGCDC_T_TIMESTAMPTZ:
        return "timestamptz";
    case PGCDC_T_INTERVAL:
        return "interval";
    case PGCDC_T_UUID:
        return "uuid";
    case PGCDC_T_JSON:
        return "json";
    case PGCDC_T_XML:
        return "xml";
    case PGCDC_T_BIT:
        return "bit";
    case PGCDC_T_ENUM:
        return "enum";
    case PGCDC_T_ARRAY:
        return "array";
    case PGCDC_T_TSVECTOR:
        return "tsvector";
    case PGCDC_T_LTREE:
        return "ltree";
    case PGCDC_T_HSTORE:
        return "hstore";
    case PGCDC_T_POINT:
        return "point";
    case PGCDC_T_UNKNOWN:
    default:
        return "unknown";
    }
}

const char *pgcdc_pgt_type_name(const pgcdc_coltype *ct)
{
    const builtin_type *b = builtin_find(ct->oid);
    return b ? b->name : kind_name(ct->kind);
}

int pgcdc_pgt_is_plain_string(pgcdc_type_kind kind)
{
    switch (kind) {
    case PGCDC_T_UNKNOWN:
    case PGCDC_T_TEXT:
    case PGCDC_T_UUID:
    case PGCDC_T_JSON:
    case PGCDC_T_XML:
    case PGCDC_T_ENUM:
    case PGCDC_T_TSVECTOR:
    case PGCDC_T_LTREE:
        return 1;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* Errors and small helpers                                                  */
/* ------------------------------------------------------------------------ */

int pgcdc_pgt_fail_why(char *errstr, size_t errstr_size, const pgcdc_coltype *ct, const char *text,
                       size_t len, const char *why)
{
    if (!errstr || !errstr_size)
        return -1;
    enum { SHOW = 48 };
    char shown[SHOW * 1 + 4];
    size_t n = len < SHOW ? len : SHOW, o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        shown[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (len > SHOW) {
        memcpy(shown + o, "...", 3);
        o += 3;
    }
    shown[o] = 0;
    snprintf(errstr, errstr_size, "pgtypes: cannot convert '%s' to %s%s%s", shown,
             pgcdc_pgt_type_name(ct), why ? ": " : "", why ? why : "");
    return -1;
}

int pgcdc_pgt_fail(char *errstr, size_t errstr_size, const pgcdc_coltype *ct, const char *text,
                   size_t len)
{
    return pgcdc_pgt_fail_why(errstr, errstr_size, ct, text, len, NULL);
}

int pgcdc_pgt_parse_i64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    if (len && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i >= len)
        return -1;
    uint64_t v = 0;
    const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return -1;
        if (v > (lim - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

void pgcdc_pgt_base64(pgcdc_buf *buf, const unsigned char *p, size_t len, int url_safe)
{
    if (url_safe)
        pgcdc_json_base64_url(buf, p, len);
    else
        pgcdc_json_base64(buf, p, len);
}

/* ------------------------------------------------------------------------ */
/* Resolution                                                                */
/* ------------------------------------------------------------------------ */

static void fill_typmod(pgcdc_coltype *ct, int32_t typmod)
{
    switch (ct->kind) {
    case PGCDC_T_NUMERIC:
        if (typmod >= 4) {
            int32_t t = typmod - 4;
            ct->precision = (t >> 16) & 0xffff;
            /* PostgreSQL 15+: the scale is an 11-bit two's complement number */
            ct->scale = ((t & 0x7ff) ^ 0x400) - 0x400;
        }
        break;
    case PGCDC_T_TEXT:
        if (typmod >= 4 && (ct->oid == 1042 || ct->oid == 1043))
            ct->precision = typmod - 4;
        break;
    case PGCDC_T_BIT:
        if (typmod >= 0)
            ct->precision = typmod;
        else if (ct->oid == 1562)
            ct->precision = INT32_MAX; /* pgjdbc's "unknown length" for varbit */
        break;
    case PGCDC_T_TIME:
    case PGCDC_T_TIMETZ:
    case PGCDC_T_TIMESTAMP:
    case PGCDC_T_TIMESTAMPTZ:
        if (typmod >= 0 && typmod <= 6)
            ct->time_precision = typmod;
        break;
    case PGCDC_T_INTERVAL:
        if (typmod >= 0 && (typmod & 0xffff) <= 6)
            ct->time_precision = typmod & 0xffff;
        break;
    default:
        break;
    }
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static int set_err(char *errstr, size_t n, const char *msg, uint32_t oid)
{
    if (errstr && n)
        snprintf(errstr, n, "pgtypes: %s (type oid %u)", msg, (unsigned)oid);
    return -1;
}

static int resolve_depth(pgcdc_coltype *ct, uint32_t oid, int32_t typmod,
                         pgcdc_type_lookup_fn lookup, void *lookup_ctx, char *errstr,
                         size_t errstr_size, int depth)
{
    memset(ct, 0, sizeof(*ct));
    ct->kind = PGCDC_T_UNKNOWN;
    ct->oid = oid;
    ct->typmod = typmod;
    ct->precision = -1;
    ct->scale = -1;
    ct->time_precision = -1;
    if (depth > 16)
        return set_err(errstr, errstr_size, "type nesting too deep (domain cycle?)", oid);

    uint32_t elem_oid = 0;
    const builtin_type *b = builtin_find(oid);
    if (b) {
        ct->kind = b->kind;
        elem_oid = b->elem;
    } else if (lookup) {
        pgcdc_type_info info;
        memset(&info, 0, sizeof(info));
        if (lookup(lookup_ctx, oid, &info) != 0)
            return 0; /* not found: unknown, emitted as its text */
        if (info.typtype == 'd' && info.base_oid) {
            /* Domains resolve to their base type (Debezium uses the root type), with
             * the domain's typmod unless the column carries its own. */
            int32_t tm = typmod >= 0 ? typmod : info.base_typmod;
            return resolve_depth(ct, info.base_oid, tm, lookup, lookup_ctx, errstr, errstr_size,
                                 depth + 1);
        }
        if (info.typtype == 'e') {
            ct->kind = PGCDC_T_ENUM;
            ct->enum_allowed = dup_str(info.enum_labels ? info.enum_labels : "");
            if (!ct->enum_allowed)
                return set_err(errstr, errstr_size, "out of memory", oid);
            return 0;
        }
        if (info.elem_oid && (!info.name || info.name[0] == '_') && info.typtype != 'd') {
            ct->kind = PGCDC_T_ARRAY;
            elem_oid = info.elem_oid;
        } else if (info.name) {
            if (strcmp(info.name, "citext") == 0 || strncmp(info.name, "isbn", 4) == 0 ||
                strncmp(info.name, "ism", 3) == 0 || strncmp(info.name, "ean13", 5) == 0 ||
                strncmp(info.name, "upc", 3) == 0)
                ct->kind = PGCDC_T_TEXT;
            else if (strcmp(info.name, "ltree") == 0)
                ct->kind = PGCDC_T_LTREE;
            else if (strcmp(info.name, "hstore") == 0)
                ct->kind = PGCDC_T_HSTORE;
        }
    }
    if (ct->kind == PGCDC_T_ARRAY) {
        ct->elem = malloc(sizeof(*ct->elem));
        if (!ct->elem)
            return set_err(errstr, errstr_size, "out of memory", oid);
        if (resolve_depth(ct->elem, elem_oid, typmod, lookup, lookup_ctx, errstr, errstr_size,
                          depth + 1) != 0) {
            pgcdc_coltype_clear(ct->elem);
            free(ct->elem);
            ct->elem = NULL;
            return -1;
        }
        if (ct->elem->kind == PGCDC_T_ARRAY) {
            /* PostgreSQL has no arrays of arrays; treat a malformed catalog as unknown */
            pgcdc_coltype_clear(ct->elem);
            ct->elem->kind = PGCDC_T_UNKNOWN;
        }
        return 0;
    }
    fill_typmod(ct, typmod);
    return 0;
}

int pgcdc_coltype_resolve(pgcdc_coltype *ct, uint32_t oid, int32_t typmod,
                          pgcdc_type_lookup_fn lookup, void *lookup_ctx, char *errstr,
                          size_t errstr_size)
{
    int rc = resolve_depth(ct, oid, typmod, lookup, lookup_ctx, errstr, errstr_size, 0);
    if (rc != 0)
        pgcdc_coltype_clear(ct);
    return rc;
}

void pgcdc_coltype_clear(pgcdc_coltype *ct)
{
    if (!ct)
        return;
    free(ct->enum_allowed);
    ct->enum_allowed = NULL;
    if (ct->elem) {
        pgcdc_coltype_clear(ct->elem);
        free(ct->elem);
        ct->elem = NULL;
    }
}

/* ------------------------------------------------------------------------ */
/* Schemas                                                                   */
/* ------------------------------------------------------------------------ */

/* Is this numeric column unconstrained (Debezium's isVariableScaleDecimal)? */
static int numeric_variable(const pgcdc_coltype *ct)
{
    return ct->precision < 0;
}

static int time_precision(const pgcdc_coltype *ct)
{
    return ct->time_precision < 0 ? 6 : ct->time_precision;
}

/* Writes ,"optional":true|false (after the type's "fields" or "values"). */
static void sch_optional(pgcdc_buf *b, int optional)
{
    if (optional)
        PGCDC_BUF_LIT(b, ",\"optional\":true");
    else
        PGCDC_BUF_LIT(b, ",\"optional\":false");
}

/* Writes {"type":..,"optional":..[,"name":..,"version":1] without closing brace. */
static void sch_open(pgcdc_buf *b, const char *type, int optional, const char *name)
{
    PGCDC_BUF_LIT(b, "{\"type\":\"");
    pgcdc_buf_puts(b, type);
    pgcdc_buf_putc(b, '"');
    sch_optional(b, optional);
    if (name) {
        PGCDC_BUF_LIT(b, ",\"name\":\"");
        pgcdc_buf_puts(b, name);
        PGCDC_BUF_LIT(b, "\",\"version\":1");
    }
}

/*
 * Appends the schema object of `ct` without its closing brace, so the caller
 * can add "field". Key order follows JsonConverter.asJsonSchema: type,
 * items/fields, optional, name, version, doc, parameters.
 */
static void schema_open(pgcdc_buf *b, const pgcdc_coltype *ct, const pgcdc_type_opts *o,
                        int optional)
{
    switch (ct->kind) {
    case PGCDC_T_BOOL:
        sch_open(b, "boolean", optional, NULL);
        return;
    case PGCDC_T_INT16:
        sch_open(b, "int16", optional, NULL);
        return;
    case PGCDC_T_INT32:
        sch_open(b, "int32", optional, NULL);
        return;
    case PGCDC_T_INT64:
    case PGCDC_T_OID:
        sch_open(b, "int64", optional, NULL);
        return;
    case PGCDC_T_FLOAT32:
        sch_open(b, "float", optional, NULL);
        return;
    case PGCDC_T_FLOAT64:
        sch_open(b, "double", optional, NULL);
        return;
    case PGCDC_T_NUMERIC:
        if (o->decimal_mode == PGCDC_DECIMAL_DOUBLE) {
            sch_open(b, "double", optional, NULL);
        } else if (o->decimal_mode == PGCDC_DECIMAL_STRING) {
            sch_open(b, "string", optional, NULL);
        } else if (numeric_variable(ct)) {
            PGCDC_BUF_LIT(b, "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":"
                             "false,\"field\":\"scale\"},{\"type\":\"bytes\",\"optional\":false,"
                             "\"field\":\"value\"}]");
            sch_optional(b, optional);
            PGCDC_BUF_LIT(b, ",\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
                             "\"doc\":\"Variable scaled decimal\"");
        } else {
            sch_open(b, "bytes", optional, "org.apache.kafka.connect.data.Decimal");
            PGCDC_BUF_LIT(b, ",\"parameters\":{\"scale\":\"");
            pgcdc_buf_put_i64(b, ct->scale);
            PGCDC_BUF_LIT(b, "\",\"connect.decimal.precision\":\"");
            pgcdc_buf_put_i64(b, ct->precision);
            PGCDC_BUF_LIT(b, "\"}");
        }
        return;
    case PGCDC_T_MONEY:
        if (o->decimal_mode == PGCDC_DECIMAL_DOUBLE) {
            sch_open(b, "double", optional, NULL);
        } else if (o->decimal_mode == PGCDC_DECIMAL_STRING) {
            sch_open(b, "string", optional, NULL);
        } else {
            /* Decimal.builder(money.fraction.digits): no precision parameter */
            sch_open(b, "bytes", optional, "org.apache.kafka.connect.data.Decimal");
            PGCDC_BUF_LIT(b, ",\"parameters\":{\"scale\":\"2\"}");
        }
        return;
    case PGCDC_T_BYTEA:
        sch_open(b, o->binary_mode == PGCDC_BINARY_BYTES ? "bytes" : "string", optional, NULL);
        return;
    case PGCDC_T_DATE:
        sch_open(b, "int32", optional,
                 o->time_mode == PGCDC_TIME_CONNECT ? "org.apache.kafka.connect.data.Date"
                                                    : "io.debezium.time.Date");
        return;
    case PGCDC_T_TIME:
        if (o->time_mode == PGCDC_TIME_CONNECT)
            sch_open(b, "int32", optional, "org.apache.kafka.connect.data.Time");
        else if (o->time_mode == PGCDC_TIME_ADAPTIVE && time_precision(ct) <= 3)
            sch_open(b, "int32", optional, "io.debezium.time.Time");
        else
            sch_open(b, "int64", optional, "io.debezium.time.MicroTime");
        return;
    case PGCDC_T_TIMESTAMP:
        if (o->time_mode == PGCDC_TIME_CONNECT)
            sch_open(b, "int64", optional, "org.apache.kafka.connect.data.Timestamp");
        else if (time_precision(ct) <= 3)
            sch_open(b, "int64", optional, "io.debezium.time.Timestamp");
        else
            sch_open(b, "int64", optional, "io.debezium.time.MicroTimestamp");
        return;
    case PGCDC_T_TIMETZ:
        sch_open(b, "string", optional, "io.debezium.time.ZonedTime");
        return;
    case PGCDC_T_TIMESTAMPTZ:
        sch_open(b, "string", optional, "io.debezium.time.ZonedTimestamp");
        return;
    case PGCDC_T_INTERVAL:
        if (o->interval_mode == PGCDC_INTERVAL_STRING)
            sch_open(b, "string", optional, "io.debezium.time.Interval");
        else
            sch_open(b, "int64", optional, "io.debezium.time.MicroDuration");
        return;
    case PGCDC_T_UUID:
        sch_open(b, "string", optional, "io.debezium.data.Uuid");
        return;
    case PGCDC_T_JSON:
        sch_open(b, "string", optional, "io.debezium.data.Json");
        return;
    case PGCDC_T_XML:
        sch_open(b, "string", optional, "io.debezium.data.Xml");
        return;
    case PGCDC_T_TSVECTOR:
        sch_open(b, "string", optional, "io.debezium.data.Tsvector");
        return;
    case PGCDC_T_LTREE:
        sch_open(b, "string", optional, "io.debezium.data.Ltree");
        return;
    case PGCDC_T_HSTORE:
        if (o->hstore_mode == PGCDC_HSTORE_MAP) {
            PGCDC_BUF_LIT(b, "{\"type\":\"map\",\"keys\":{\"type\":\"string\",\"optional\":false},"
                             "\"values\":{\"type\":\"string\",\"optional\":true}");
            sch_optional(b, optional);
        } else {
            sch_open(b, "string", optional, "io.debezium.data.Json");
        }
        return;
    case PGCDC_T_POINT:
        PGCDC_BUF_LIT(b, "{\"type\":\"struct\",\"fields\":["
                         "{\"type\":\"double\",\"optional\":false,\"field\":\"x\"},"
                         "{\"type\":\"double\",\"optional\":false,\"field\":\"y\"},"
                         "{\"type\":\"bytes\",\"optional\":true,\"field\":\"wkb\"},"
                         "{\"type\":\"int32\",\"optional\":true,\"field\":\"srid\"}]");
        sch_optional(b, optional);
        PGCDC_BUF_LIT(b, ",\"name\":\"io.debezium.data.geometry.Point\",\"version\":1,"
                         "\"doc\":\"Geometry (POINT)\"");
        return;
    case PGCDC_T_BIT:
        if (ct->precision > 1) {
            sch_open(b, "bytes", optional, "io.debezium.data.Bits");
            PGCDC_BUF_LIT(b, ",\"parameters\":{\"length\":\"");
            pgcdc_buf_put_i64(b, ct->precision);
            PGCDC_BUF_LIT(b, "\"}");
        } else {
            sch_open(b, "boolean", optional, NULL);
        }
        return;
    case PGCDC_T_ENUM:
        sch_open(b, "string", optional, "io.debezium.data.Enum");
        PGCDC_BUF_LIT(b, ",\"parameters\":{\"allowed\":");
        pgcdc_json_cstr(b, ct->enum_allowed ? ct->enum_allowed : "");
        pgcdc_buf_putc(b, '}');
        return;
    case PGCDC_T_ARRAY: {
        PGCDC_BUF_LIT(b, "{\"type\":\"array\",\"items\":");
        /*
         * Debezium builds the element schemas of the array types it knows with
         * .optional(); enum arrays and types reaching its generic array path
         * (tsvector[]) get a required element schema.
         */
        const pgcdc_coltype *e = ct->elem;
        if (e) {
            int eopt = !(e->kind == PGCDC_T_ENUM || e->kind == PGCDC_T_TSVECTOR);
            schema_open(b, e, o, eopt);
        } else {
            sch_open(b, "string", 1, NULL);
        }
        pgcdc_buf_putc(b, '}');
        sch_optional(b, optional);
        return;
    }
    case PGCDC_T_TEXT:
    case PGCDC_T_UNKNOWN:
    default:
        sch_open(b, "string", optional, NULL);
        return;
    }
}

void pgcdc_coltype_schema(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                          const char *field, int optional)
{
    pgcdc_coltype_schema_default(buf, ct, opts, field, optional, NULL, 0);
}

void pgcdc_coltype_schema_default(pgcdc_buf *buf, const pgcdc_coltype *ct,
                                  const pgcdc_type_opts *opts, const char *field, int optional,
                                  const char *default_json, size_t default_len)
{
    schema_open(buf, ct, opts, optional);
    if (default_json) {
        PGCDC_BUF_LIT(buf, ",\"default\":");
        pgcdc_buf_append(buf, default_json, default_len);
    }
    PGCDC_BUF_LIT(buf, ",\"field\":");
    pgcdc_json_cstr(buf, field ? field : "");
    pgcdc_buf_putc(buf, '}');
}

/* ------------------------------------------------------------------------ */
/* Scalar converters                                                         */
/* ------------------------------------------------------------------------ */

static int conv_bool(pgcdc_buf *buf, const pgcdc_coltype *ct, const char *t, size_t n, char *errstr,
                     size_t es)
{
    /* pgoutput prints "t"/"f"; Debezium tests "t".equalsIgnoreCase(value) */
    if (n == 1 && (t[0] == 't' || t[0] == 'T')) {
        PGCDC_BUF_LIT(buf, "true");
        return 0;
    }
    if (n == 1 && (t[0] == 'f' || t[0] == 'F')) {
        PGCDC_BUF_LIT(buf, "false");
        return 0;
    }
    return pgcdc_pgt_fail(errstr, es, ct, t, n);
}

static int conv_int(pgcdc_buf *buf, const pgcdc_coltype *ct, const char *t, size_t n, char *errstr,
                    size_t es)
{
    int64_t v;
    if (pgcdc_pgt_parse_i64(t, n, &v) != 0)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    int ok = 1;
    switch (ct->kind) {
    case PGCDC_T_INT16:
        ok = v >= INT16_MIN && v <= INT16_MAX;
        break;
    case PGCDC_T_INT32:
        ok = v >= INT32_MIN && v <= INT32_MAX;
        break;
    case PGCDC_T_OID:
        ok = v >= 0 && v <= UINT32_MAX;
        break;
    default:
        break;
    }
    if (!ok)
        return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "out of range");
    pgcdc_buf_put_i64(buf, v);
    return 0;
}

static int conv_float(pgcdc_buf *buf, const pgcdc_coltype *ct, const char *t, size_t n,
                      char *errstr, size_t es)
{
    /* float text from PostgreSQL is short; anything longer than this is not a float */
    char tmp[128];
    if (n == 0 || n >= sizeof(tmp))
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= ' ' || c >= 0x7f)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
    }
    memcpy(tmp, t, n);
    tmp[n] = 0;
    char *end;
    if (ct->kind == PGCDC_T_FLOAT32) {
        float f = strtof(tmp, &end);
        if (end != tmp + n)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        pgcdc_json_float(buf, f);
    } else {
        double d = strtod(tmp, &end);
        if (end != tmp + n)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        pgcdc_json_double(buf, d);
    }
    return 0;
}

/*
 * bytea in hex output format ("\x0a0b"). Base64 modes decode into a scratch
 * region behind the reserved base64 output; hex mode re-emits the (validated)
 * digits in lower case, which is what Debezium's HexConverter prints.
 */
static int conv_bytea(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *o,
                      const char *t, size_t n, char *errstr, size_t es)
{
    if (n < 2 || t[0] != '\\' || (t[1] != 'x' && t[1] != 'X'))
        return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "expected hex format (\\x...)");
    const char *h = t + 2;
    size_t hn = n - 2;
    if (hn % 2)
        return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "odd number of hex digits");
    size_t nb = hn / 2;
    if (o->binary_mode == PGCDC_BINARY_HEX) {
        pgcdc_buf_reserve(buf, hn + 2);
        size_t start = buf->len;
        char *out = buf->data + buf->len;
        *out++ = '"';
        for (size_t i = 0; i < hn; i++) {
            int v = pgcdc_hex_digit((unsigned char)h[i]);
            if (v < 0) {
                buf->len = start;
                buf->data[start] = 0;
                return pgcdc_pgt_fail(errstr, es, ct, t, n);
            }
            *out++ = "0123456789abcdef"[v];
        }
        *out++ = '"';
        buf->len = (size_t)(out - buf->data);
        buf->data[buf->len] = 0;
        return 0;
    }
    size_t b64 = (nb + 2) / 3 * 4 + 2;
    unsigned char *raw = pgcdc_pgt_scratch(buf, b64, nb);
    for (size_t i = 0; i < nb; i++) {
        int hi = pgcdc_hex_digit((unsigned char)h[2 * i]),
            lo = pgcdc_hex_digit((unsigned char)h[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        raw[i] = (unsigned char)(hi << 4 | lo);
    }
    pgcdc_pgt_base64(buf, raw, nb, o->binary_mode == PGCDC_BINARY_BASE64_URL_SAFE);
    return 0;
}

/*
 * bit(n) / varbit. Length-1 columns are booleans (Integer.valueOf(s, 2) != 0).
 * Longer ones are io.debezium.data.Bits: Debezium fills a java.util.BitSet with
 * bit i = the i-th character from the right and emits BitSet.toByteArray(),
 * i.e. the little-endian bytes of the number, as short as the highest set bit
 * allows (all zeros -> empty).
 */
static int conv_bits(pgcdc_buf *buf, const pgcdc_coltype *ct, const char *t, size_t n, char *errstr,
                     size_t es)
{
    size_t first_one = n;
    for (size_t i = 0; i < n; i++) {
        if (t[i] != '0' && t[i] != '1')
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        if (t[i] == '1' && first_one == n)
            first_one = i;
    }
    if (ct->precision <= 1) {
        /* DEVIATION: an empty varbit(1) makes Debezium's Integer.valueOf fail; we say false */
        if (first_one < n)
            PGCDC_BUF_LIT(buf, "true");
        else
            PGCDC_BUF_LIT(buf, "false");
        return 0;
    }
    size_t nbits = n - first_one;
    size_t nb = (nbits + 7) / 8;
    size_t b64 = (nb + 2) / 3 * 4 + 2;
    unsigned char *raw = pgcdc_pgt_scratch(buf, b64, nb);
    memset(raw, 0, nb);
    for (size_t k = 0; k < nbits; k++)
        if (t[n - 1 - k] == '1')
            raw[k / 8] |= (unsigned char)(1u << (k % 8));
    pgcdc_json_base64(buf, raw, nb);
    return 0;
}

static int convert(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                   const char *text, size_t len, char *errstr, size_t es)
{
    switch (ct->kind) {
    case PGCDC_T_BOOL:
        return conv_bool(buf, ct, text, len, errstr, es);
    case PGCDC_T_INT16:
    case PGCDC_T_INT32:
    case PGCDC_T_INT64:
    case PGCDC_T_OID:
        return conv_int(buf, ct, text, len, errstr, es);
    case PGCDC_T_FLOAT32:
    case PGCDC_T_FLOAT64:
        return conv_float(buf, ct, text, len, errstr, es);
    case PGCDC_T_NUMERIC:
        return pgcdc_pgt_numeric(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_MONEY:
        return pgcdc_pgt_money(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_BYTEA:
        return conv_bytea(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_DATE:
        return pgcdc_pgt_date(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_TIME:
        return pgcdc_pgt_time(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_TIMETZ:
        return pgcdc_pgt_timetz(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_TIMESTAMP:
        return pgcdc_pgt_timestamp(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_TIMESTAMPTZ:
        return pgcdc_pgt_timestamptz(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_INTERVAL:
        return pgcdc_pgt_interval(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_BIT:
        return conv_bits(buf, ct, text, len, errstr, es);
    case PGCDC_T_ARRAY:
        return pgcdc_pgt_array(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_HSTORE:
        return pgcdc_pgt_hstore(buf, ct, opts, text, len, errstr, es);
    case PGCDC_T_POINT:
        return pgcdc_pgt_point(buf, ct, text, len, errstr, es);
    case PGCDC_T_UNKNOWN:
    case PGCDC_T_TEXT:
    case PGCDC_T_UUID:
    case PGCDC_T_JSON:
    case PGCDC_T_XML:
    case PGCDC_T_ENUM:
    case PGCDC_T_TSVECTOR:
    case PGCDC_T_LTREE:
    default:
        /* bpchar keeps its padding; json/jsonb text becomes a JSON string */
        pgcdc_json_str(buf, text, len);
        return 0;
    }
}

int pgcdc_coltype_value(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                        const char *text, size_t len, char *errstr, size_t errstr_size)
{
    size_t start = buf->len;
    if (!text)
        text = "";
    int rc = convert(buf, ct, opts, text, len, errstr, errstr_size);
    if (rc != 0) {
        /* leave the buffer as it was: the caller stops on errors */
        buf->len = start;
        if (buf->data)
            buf->data[start] = 0;
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Unchanged TOASTed values                                                  */
/* ------------------------------------------------------------------------ */

static const unsigned char unavailable_bytes[] = PGCDC_UNAVAILABLE_VALUE;

/* UUID.nameUUIDFromBytes("__debezium_unavailable_value".getBytes()), as Debezium uses for uuid[] */
#define UNAVAILABLE_UUID "b68a35a7-17ad-35b3-af2a-ae46edb4545a"

static void unavailable_scalar(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts)
{
    size_t n = sizeof(unavailable_bytes) - 1;
    switch (ct->kind) {
    case PGCDC_T_BYTEA:
        if (opts->binary_mode == PGCDC_BINARY_HEX) {
            PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
        } else {
            /* DEVIATION: in base64 / base64-url-safe mode Debezium emits null (its
             * base64 converter does not recognise the marker); we keep the
             * placeholder visible, encoded like the bytes mode value. */
            pgcdc_pgt_base64(buf, unavailable_bytes, n,
                             opts->binary_mode == PGCDC_BINARY_BASE64_URL_SAFE);
        }
        return;
    case PGCDC_T_BIT:
        if (ct->precision > 1) {
            /* DEVIATION: Debezium hands the marker string to a bytes schema and fails */
            pgcdc_json_base64(buf, unavailable_bytes, n);
        } else {
            PGCDC_BUF_LIT(buf, "null");
        }
        return;
    case PGCDC_T_NUMERIC:
    case PGCDC_T_MONEY:
        if (opts->decimal_mode == PGCDC_DECIMAL_STRING)
            PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
        else
            PGCDC_BUF_LIT(buf, "null"); /* DEVIATION: Debezium fails (string in a numeric schema) */
        return;
    case PGCDC_T_INTERVAL:
        if (opts->interval_mode == PGCDC_INTERVAL_STRING)
            PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
        else
            PGCDC_BUF_LIT(buf, "null");
        return;
    case PGCDC_T_HSTORE:
        if (opts->hstore_mode == PGCDC_HSTORE_MAP)
            PGCDC_BUF_LIT(buf, "null"); /* no placeholder of a map type */
        else
            PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
        return;
    case PGCDC_T_POINT:
    case PGCDC_T_TIMETZ:
    case PGCDC_T_TIMESTAMPTZ:
        PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
        return;
    case PGCDC_T_BOOL:
    case PGCDC_T_INT16:
    case PGCDC_T_INT32:
    case PGCDC_T_INT64:
    case PGCDC_T_OID:
    case PGCDC_T_FLOAT32:
    case PGCDC_T_FLOAT64:
    case PGCDC_T_DATE:
    case PGCDC_T_TIME:
    case PGCDC_T_TIMESTAMP:
        /* fixed-width types are never TOASTed; null keeps the JSON schema-valid */
        PGCDC_BUF_LIT(buf, "null");
        return;
    case PGCDC_T_ARRAY: /* not reached: arrays are handled by the caller */
    default:
        PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
        return;
    }
}

/*
 * Debezium picks the placeholder of an unchanged TOASTed array by type name
 * (UnchangedToastedReplicationMessageColumn): text-like and json arrays get
 * [placeholder], bytea[] [placeholder bytes], int4[] / date[] / int8[] the
 * list of the placeholder's byte values, uuid[] [UUID v3 of the placeholder].
 * For other arrays Debezium puts the bare placeholder string where a list
 * belongs, which JsonConverter rejects; we emit [element placeholder] instead
 * (DEVIATION).
 */
void pgcdc_coltype_unavailable(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts)
{
    if (ct->kind != PGCDC_T_ARRAY) {
        unavailable_scalar(buf, ct, opts);
        return;
    }
    const pgcdc_coltype *e = ct->elem;
    uint32_t eoid = e ? e->oid : 0;
    if (eoid == 23 || eoid == 1082 || eoid == 20) {
        pgcdc_buf_putc(buf, '[');
        for (size_t i = 0; i + 1 < sizeof(unavailable_bytes); i++) {
            if (i)
                pgcdc_buf_putc(buf, ',');
            pgcdc_buf_put_i64(buf, (int8_t)unavailable_bytes[i]);
        }
        pgcdc_buf_putc(buf, ']');
        return;
    }
    if (eoid == 2950) {
        PGCDC_BUF_LIT(buf, "[\"" UNAVAILABLE_UUID "\"]");
        return;
    }
    pgcdc_buf_putc(buf, '[');
    if (e)
        unavailable_scalar(buf, e, opts);
    else
        PGCDC_BUF_LIT(buf, "\"" PGCDC_UNAVAILABLE_VALUE "\"");
    pgcdc_buf_putc(buf, ']');
}
