/*
 * es_doc.c - record to bulk action and schema to mapping (see es_doc.h).
 *
 * Conversions (only with a schema; without one the row is copied as is):
 *   io.debezium.time.Date, connect Date (days)   -> "YYYY-MM-DD"
 *   Timestamp / MicroTimestamp / NanoTimestamp    -> "YYYY-MM-DDTHH:MM:SS[.f]"
 *   Time / MicroTime / NanoTime                   -> "HH:MM:SS[.f]"
 *   connect Decimal (bytes), VariableScaleDecimal -> the exact decimal as a string
 *   io.debezium.data.Json (a string of JSON)      -> the JSON itself
 * Arrays of these are converted element by element.
 */
#include "sink/elasticsearch/es_doc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"

enum {
    ES_CONV_NONE,
    ES_CONV_DATE,
    ES_CONV_TS_MS,
    ES_CONV_TS_US,
    ES_CONV_TS_NS,
    ES_CONV_TIME_MS,
    ES_CONV_TIME_US,
    ES_CONV_TIME_NS,
    ES_CONV_DECIMAL,
    ES_CONV_VSDEC,
    ES_CONV_JSON,
};

#define MAP_TEXT                                                                                   \
    "{\"type\":\"text\",\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}}"
#define MAP_KEYWORD "{\"type\":\"keyword\"}"
#define MAP_DATE "{\"type\":\"date\"}"
#define MAP_JSON "\x01" /* placeholder: object or flattened, chosen at mapping time */

void pgcdc_es_schema_free(pgcdc_es_schema *s)
{
    for (size_t i = 0; i < s->nfields; i++)
        free(s->fields[i].name);
    free(s->fields);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

/* ---------- schema ---------- */

/* Conversion and mapping of one Connect field schema (arrays: of the items). */
static void classify(json_t *fs, int *conv, int *scale, const char **mapping)
{
    const char *type = json_string_value(json_object_get(fs, "type"));
    const char *name = json_string_value(json_object_get(fs, "name"));
    *conv = ES_CONV_NONE;
    *scale = 0;
    *mapping = NULL;
    if (!type)
        return;
    if (!strcmp(type, "array")) {
        json_t *items = json_object_get(fs, "items");
        if (items)
            classify(items, conv, scale, mapping);
        return;
    }
    if (name) {
        static const struct {
            const char *name;
            int conv;
            const char *mapping;
        } named[] = {
            {"io.debezium.time.Date", ES_CONV_DATE, MAP_DATE},
            {"org.apache.kafka.connect.data.Date", ES_CONV_DATE, MAP_DATE},
            {"io.debezium.time.Timestamp", ES_CONV_TS_MS, MAP_DATE},
            {"org.apache.kafka.connect.data.Timestamp", ES_CONV_TS_MS, MAP_DATE},
            {"io.debezium.time.MicroTimestamp", ES_CONV_TS_US, MAP_DATE},
            {"io.debezium.time.NanoTimestamp", ES_CONV_TS_NS, "{\"type\":\"date_nanos\"}"},
            {"io.debezium.time.ZonedTimestamp", ES_CONV_NONE, MAP_DATE},
            {"io.debezium.time.Time", ES_CONV_TIME_MS, MAP_KEYWORD},
            {"org.apache.kafka.connect.data.Time", ES_CONV_TIME_MS, MAP_KEYWORD},
            {"io.debezium.time.MicroTime", ES_CONV_TIME_US, MAP_KEYWORD},
            {"io.debezium.time.NanoTime", ES_CONV_TIME_NS, MAP_KEYWORD},
            {"io.debezium.time.ZonedTime", ES_CONV_NONE, MAP_KEYWORD},
            {"io.debezium.time.MicroDuration", ES_CONV_NONE, "{\"type\":\"long\"}"},
            {"io.debezium.time.Interval", ES_CONV_NONE, MAP_KEYWORD},
            {"org.apache.kafka.connect.data.Decimal", ES_CONV_DECIMAL, "{\"type\":\"double\"}"},
            {"io.debezium.data.VariableScaleDecimal", ES_CONV_VSDEC, "{\"type\":\"double\"}"},
            {"io.debezium.data.Json", ES_CONV_JSON, MAP_JSON},
            {"io.debezium.data.Uuid", ES_CONV_NONE, MAP_KEYWORD},
            {"io.debezium.data.Enum", ES_CONV_NONE, MAP_KEYWORD},
            {"io.debezium.data.EnumSet", ES_CONV_NONE, MAP_KEYWORD},
            {"io.debezium.data.Ltree", ES_CONV_NONE, MAP_KEYWORD},
            {"io.debezium.data.Xml", ES_CONV_NONE, "{\"type\":\"text\"}"},
        };
        for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
            if (!strcmp(name, named[i].name)) {
                *conv = named[i].conv;
                *mapping = named[i].mapping;
                if (*conv == ES_CONV_DECIMAL) {
                    const char *sc = json_string_value(
                        json_object_get(json_object_get(fs, "parameters"), "scale"));
                    *scale = sc ? atoi(sc) : 0;
                }
                return;
            }
        /* other named types (geometry structs, Bits, ...): dynamic mapping */
        if (strcmp(type, "string") && strcmp(type, "bytes"))
            return;
    }
    if (!strcmp(type, "int8") || !strcmp(type, "int16") || !strcmp(type, "int32"))
        *mapping = "{\"type\":\"integer\"}";
    else if (!strcmp(type, "int64"))
        *mapping = "{\"type\":\"long\"}";
    else if (!strcmp(type, "float") || !strcmp(type, "double"))
        *mapping = "{\"type\":\"double\"}";
    else if (!strcmp(type, "boolean"))
        *mapping = "{\"type\":\"boolean\"}";
    else if (!strcmp(type, "string"))
        *mapping = MAP_TEXT;
    else if (!strcmp(type, "bytes"))
        *mapping = "{\"type\":\"binary\"}";
}

/* Parses the value schema's `after` struct into the cache. */
static int schema_load(pgcdc_es_schema *c, pgcdc_es_span text, char *errstr, size_t errstr_size)
{
    pgcdc_es_schema_free(c);
    c->text = malloc(text.n + 1);
    if (!c->text) {
        snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
        return -1;
    }
    memcpy(c->text, text.p, text.n);
    c->text[text.n] = 0;
    c->text_len = text.n;
    c->present = 1;
    json_error_t jerr;
    json_t *root = json_loadb(text.p, text.n, 0, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "elasticsearch sink: the value's schema is not JSON: %s",
                 jerr.text);
        return -1;
    }
    json_t *after = NULL, *f;
    size_t i;
    json_array_foreach(json_object_get(root, "fields"), i, f)
    {
        const char *fname = json_string_value(json_object_get(f, "field"));
        if (fname && !strcmp(fname, "after"))
            after = json_object_get(f, "fields");
    }
    size_t n = json_array_size(after);
    if (n) {
        c->fields = calloc(n, sizeof(*c->fields));
        if (!c->fields) {
            json_decref(root);
            snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
            return -1;
        }
    }
    json_array_foreach(after, i, f)
    {
        const char *fname = json_string_value(json_object_get(f, "field"));
        if (!fname)
            continue;
        pgcdc_es_field *d = &c->fields[c->nfields];
        d->name = strdup(fname);
        if (!d->name) {
            json_decref(root);
            snprintf(errstr, errstr_size, "elasticsearch sink: out of memory");
            return -1;
        }
        d->name_len = strlen(fname);
        classify(f, &d->conv, &d->scale, &d->mapping);
        c->nfields++;
    }
    json_decref(root);
    return 0;
}

void pgcdc_es_mapping(const pgcdc_es_schema *s, const char *json_type, const char *const *skip,
                      pgcdc_buf *out)
{
    PGCDC_BUF_LIT(out, "{\"properties\":{");
    int first = 1;
    for (size_t i = 0; i < s->nfields; i++) {
        const pgcdc_es_field *f = &s->fields[i];
        if (!f->mapping)
            continue;
        int skipped = 0;
        for (const char *const *k = skip; k && *k && !skipped; k++)
            skipped = !strcmp(*k, f->name);
        if (skipped)
            continue;
        if (!first)
            pgcdc_buf_putc(out, ',');
        first = 0;
        pgcdc_json_str(out, f->name, f->name_len);
        pgcdc_buf_putc(out, ':');
        if (f->mapping[0] == '\x01') {
            PGCDC_BUF_LIT(out, "{\"type\":");
            pgcdc_json_cstr(out, json_type);
            pgcdc_buf_putc(out, '}');
        } else {
            pgcdc_buf_puts(out, f->mapping);
        }
    }
    PGCDC_BUF_LIT(out, "}}");
}

/* ---------- value conversions ---------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm). */
static void civil(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static void put_date(pgcdc_buf *out, int64_t days)
{
    int64_t y;
    unsigned m, d;
    civil(days, &y, &m, &d);
    pgcdc_buf_printf(out, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* hh:mm:ss plus the fraction (digits of `per_sec`), trailing zeros kept. */
static void put_clock(pgcdc_buf *out, int64_t secs_of_day, int64_t frac, int digits)
{
    pgcdc_buf_printf(out, "%02lld:%02lld:%02lld", (long long)(secs_of_day / 3600),
                     (long long)(secs_of_day / 60 % 60), (long long)(secs_of_day % 60));
    if (frac)
        pgcdc_buf_printf(out, ".%0*lld", digits, (long long)frac);
}

static void put_timestamp(pgcdc_buf *out, int64_t v, int64_t per_sec, int digits)
{
    int64_t secs = floor_div(v, per_sec);
    int64_t frac = v - secs * per_sec;
    int64_t days = floor_div(secs, 86400);
    pgcdc_buf_putc(out, '"');
    put_date(out, days);
    pgcdc_buf_putc(out, 'T');
    put_clock(out, secs - days * 86400, frac, digits);
    pgcdc_buf_putc(out, '"');
}

static void put_time(pgcdc_buf *out, int64_t v, int64_t per_sec, int digits)
{
    int64_t secs = floor_div(v, per_sec);
    pgcdc_buf_putc(out, '"');
    put_clock(out, secs, v - secs * per_sec, digits);
    pgcdc_buf_putc(out, '"');
}

/* A two's complement big-endian unscaled value with `scale`, as a quoted
 * decimal string. */
static void put_decimal(pgcdc_buf *out, const unsigned char *b, size_t n, int scale)
{
    unsigned char mag[512];
    char digits[1300];
    size_t nd = 0;
    if (n > sizeof(mag)) {
        PGCDC_BUF_LIT(out, "null");
        return;
    }
    int neg = n && (b[0] & 0x80);
    memcpy(mag, b, n);
    if (neg) { /* magnitude = two's complement negation */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned v = (unsigned)(unsigned char)~mag[i] + (unsigned)carry;
            mag[i] = (unsigned char)v;
            carry = v > 0xFF;
        }
    }
    size_t start = 0;
    while (start < n) { /* repeated division by 10 of the big-endian magnitude */
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = (rem << 8) | mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
        while (start < n && mag[start] == 0)
            start++;
    }
    if (nd == 0)
        digits[nd++] = '0';
    pgcdc_buf_putc(out, '"');
    if (neg)
        pgcdc_buf_putc(out, '-');
    if (scale <= 0) {
        for (size_t i = nd; i-- > 0;)
            pgcdc_buf_putc(out, digits[i]);
        for (int i = 0; i < -scale; i++)
            pgcdc_buf_putc(out, '0');
    } else {
        size_t sc = (size_t)scale;
        if (nd <= sc) {
            PGCDC_BUF_LIT(out, "0.");
            for (size_t i = nd; i < sc; i++)
                pgcdc_buf_putc(out, '0');
            for (size_t i = nd; i-- > 0;)
                pgcdc_buf_putc(out, digits[i]);
        } else {
            for (size_t i = nd; i-- > 0;) {
                pgcdc_buf_putc(out, digits[i]);
                if (i == sc)
                    pgcdc_buf_putc(out, '.');
            }
        }
    }
    pgcdc_buf_putc(out, '"');
}

/* Converts one scalar (not null) of a field; copies it when it is not in
 * the expected form, so a surprise reaches Elasticsearch (and, if it
 * rejects it, the dead-letter file) instead of vanishing. */
static void convert_scalar(pgcdc_buf *out, pgcdc_buf *tmp, const pgcdc_es_field *f, pgcdc_es_span v)
{
    int64_t n;
    switch (f->conv) {
    case ES_CONV_DATE:
        if (pgcdc_es_json_i64(v, &n) == 0) {
            pgcdc_buf_putc(out, '"');
            put_date(out, n);
            pgcdc_buf_putc(out, '"');
            return;
        }
        break;
    case ES_CONV_TS_MS:
    case ES_CONV_TS_US:
    case ES_CONV_TS_NS:
        if (pgcdc_es_json_i64(v, &n) == 0) {
            int k = f->conv - ES_CONV_TS_MS;
            put_timestamp(out, n, k == 0 ? 1000 : k == 1 ? 1000000 : 1000000000, 3 + 3 * k);
            return;
        }
        break;
    case ES_CONV_TIME_MS:
    case ES_CONV_TIME_US:
    case ES_CONV_TIME_NS:
        if (pgcdc_es_json_i64(v, &n) == 0) {
            int k = f->conv - ES_CONV_TIME_MS;
            put_time(out, n, k == 0 ? 1000 : k == 1 ? 1000000 : 1000000000, 3 + 3 * k);
            return;
        }
        break;
    case ES_CONV_DECIMAL:
        pgcdc_buf_reset(tmp);
        if (v.p[0] == '"' && pgcdc_es_base64_decode(tmp, v) == 0) {
            put_decimal(out, (const unsigned char *)tmp->data, tmp->len, f->scale);
            return;
        }
        break;
    case ES_CONV_VSDEC: {
        pgcdc_es_span sc = pgcdc_es_json_get(v, "scale"), val = pgcdc_es_json_get(v, "value");
        int64_t scale;
        pgcdc_buf_reset(tmp);
        if (v.p[0] == '{' && pgcdc_es_json_i64(sc, &scale) == 0 && val.p && val.p[0] == '"' &&
            pgcdc_es_base64_decode(tmp, val) == 0 && scale > -1000 && scale < 1000) {
            put_decimal(out, (const unsigned char *)tmp->data, tmp->len, (int)scale);
            return;
        }
        break;
    }
    case ES_CONV_JSON:
        pgcdc_buf_reset(tmp);
        if (v.p[0] == '"' && pgcdc_es_json_unescape(tmp, v) == 0 &&
            pgcdc_es_json_skip(tmp->data, tmp->data + tmp->len) != NULL) {
            pgcdc_buf_append(out, tmp->data, tmp->len);
            return;
        }
        break;
    default:
        break;
    }
    pgcdc_buf_append(out, v.p, v.n);
}

static void convert_value(pgcdc_buf *out, pgcdc_buf *tmp, const pgcdc_es_field *f, pgcdc_es_span v)
{
    if (!f || f->conv == ES_CONV_NONE || pgcdc_es_json_is_null(v)) {
        pgcdc_buf_append(out, v.p, v.n);
        return;
    }
    if (v.p[0] != '[') {
        convert_scalar(out, tmp, f, v);
        return;
    }
    /* an array column: element by element */
    const char *p = v.p + 1, *end = v.p + v.n;
    pgcdc_buf_putc(out, '[');
    int first = 1;
    for (;;) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        if (p >= end || *p == ']')
            break;
        const char *e = pgcdc_es_json_skip(p, end);
        if (!e)
            break;
        if (!first)
            pgcdc_buf_putc(out, ',');
        first = 0;
        pgcdc_es_span el = {p, (size_t)(e - p)};
        if (pgcdc_es_json_is_null(el))
            PGCDC_BUF_LIT(out, "null");
        else
            convert_scalar(out, tmp, f, el);
        p = e;
    }
    pgcdc_buf_putc(out, ']');
}

/* ---------- the record ---------- */

/* The payload of a JsonConverter envelope {"schema":...,"payload":...}, or
 * the text itself when schemas are off. */
static pgcdc_es_span unwrap(pgcdc_es_span v, pgcdc_es_span *schema)
{
    pgcdc_es_span k, x, payload = {NULL, 0}, sch = {NULL, 0};
    const char *pos = NULL;
    int members = 0, r;
    while ((r = pgcdc_es_json_next(v, &pos, &k, &x)) == 1) {
        members++;
        if (k.n == 7 && !memcmp(k.p, "payload", 7))
            payload = x;
        else if (k.n == 6 && !memcmp(k.p, "schema", 6))
            sch = x;
    }
    if (r == 0 && members == 2 && payload.p && sch.p) {
        *schema = sch;
        return payload;
    }
    schema->p = NULL;
    schema->n = 0;
    return v;
}

static void put_id_part(pgcdc_buf *id, pgcdc_buf *tmp, pgcdc_es_span v, int escape)
{
    const char *s = v.p;
    size_t n = v.n;
    if (v.n && v.p[0] == '"') {
        pgcdc_buf_reset(tmp);
        if (pgcdc_es_json_unescape(tmp, v) == 0) {
            s = tmp->data;
            n = tmp->len;
        }
    }
    if (!escape) {
        pgcdc_buf_append(id, s, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '|' || s[i] == '\\')
            pgcdc_buf_putc(id, '\\');
        pgcdc_buf_putc(id, s[i]);
    }
}

static int build_id(const pgcdc_record *rec, pgcdc_buf *id, pgcdc_buf *tmp, char *errstr,
                    size_t errstr_size)
{
    if (!rec->key) {
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: a record of topic %.*s has no key, so it has no document "
                 "id: give the table a primary key, or name key columns with "
                 "message.key.columns",
                 (int)rec->topic_len, rec->topic);
        return -1;
    }
    pgcdc_es_span sch, key = unwrap((pgcdc_es_span){rec->key, rec->key_len}, &sch);
    pgcdc_es_span k, v;
    const char *pos = NULL;
    int n = 0, r;
    while ((r = pgcdc_es_json_next(key, &pos, &k, &v)) == 1)
        n++;
    if (r < 0 || n == 0) {
        /* a scalar key (not Debezium's struct): use it as it is */
        if (r < 0 && key.n && pgcdc_es_json_skip(key.p, key.p + key.n)) {
            put_id_part(id, tmp, key, 0);
            return 0;
        }
        snprintf(errstr, errstr_size,
                 "elasticsearch sink: the key of a record of topic %.*s is not a JSON object "
                 "with the key columns: %.*s",
                 (int)rec->topic_len, rec->topic, (int)(key.n > 200 ? 200 : key.n), key.p);
        return -1;
    }
    pos = NULL;
    int first = 1;
    while (pgcdc_es_json_next(key, &pos, &k, &v) == 1) {
        if (!first)
            pgcdc_buf_putc(id, '|');
        first = 0;
        put_id_part(id, tmp, v, n > 1);
    }
    return 0;
}

static int bad_value(const pgcdc_record *rec, const char *what, char *errstr, size_t errstr_size)
{
    snprintf(errstr, errstr_size,
             "elasticsearch sink: a record of topic %.*s is not a Debezium change event (%s); "
             "only Debezium-format topics can be written to Elasticsearch",
             (int)rec->topic_len, rec->topic, what);
    return -1;
}

int pgcdc_es_doc_build(const pgcdc_record *rec, pgcdc_es_schema *cache, pgcdc_buf *tmp,
                       pgcdc_buf *id, pgcdc_buf *doc, pgcdc_es_action *act, char *errstr,
                       size_t errstr_size)
{
    memset(act, 0, sizeof(*act));
    if (!rec->value)
        return 0; /* tombstone: the delete event before it did the work */
    pgcdc_es_span schema, payload = unwrap((pgcdc_es_span){rec->value, rec->value_len}, &schema);
    pgcdc_es_span opv = pgcdc_es_json_get(payload, "op");
    if (!opv.p) {
        if (payload.n && payload.p[0] == '{')
            return 0; /* heartbeat, transaction marker, schema change: not a row */
        return bad_value(rec, "not a JSON object", errstr, errstr_size);
    }
    if (opv.n != 3 || opv.p[0] != '"')
        return bad_value(rec, "op is not a one-letter string", errstr, errstr_size);
    act->dbz_op = opv.p[1];
    switch (act->dbz_op) {
    case 'c':
    case 'r':
    case 'u':
        act->op = PGCDC_ES_INDEX;
        break;
    case 'd':
        act->op = PGCDC_ES_DELETE;
        break;
    case 't':
        act->op = PGCDC_ES_TRUNCATE;
        break;
    default:
        return 0; /* m (logical decoding messages): not a row */
    }
    pgcdc_es_span source = pgcdc_es_json_get(payload, "source");
    int64_t lsn;
    if (pgcdc_es_json_i64(pgcdc_es_json_get(source, "lsn"), &lsn) == 0 && lsn > 0) {
        act->has_version = 1;
        act->version = (uint64_t)lsn;
    }
    act->schema_name = pgcdc_es_json_get(source, "schema");
    act->table_name = pgcdc_es_json_get(source, "table");
    if (act->op == PGCDC_ES_TRUNCATE)
        return 0;

    if (schema.p && (!cache->present || cache->text_len != schema.n ||
                     memcmp(cache->text, schema.p, schema.n))) {
        if (schema_load(cache, schema, errstr, errstr_size) != 0)
            return -1;
    }
    int rc = build_id(rec, id, tmp, errstr, errstr_size);
    if (rc != 0 || act->op == PGCDC_ES_DELETE)
        return rc;
    pgcdc_es_span after = pgcdc_es_json_get(payload, "after");
    if (pgcdc_es_json_is_null(after) || after.p[0] != '{') {
        return bad_value(rec, "no after image in a create/update/read event", errstr, errstr_size);
    }
    if (!schema.p || !cache->nfields) {
        pgcdc_buf_append(doc, after.p, after.n);
        return 0;
    }
    pgcdc_buf_putc(doc, '{');
    pgcdc_es_span k, v;
    const char *pos = NULL;
    size_t i = 0;
    int first = 1;
    while ((rc = pgcdc_es_json_next(after, &pos, &k, &v)) == 1) {
        const pgcdc_es_field *f = NULL;
        /* fields come in schema order: try the next one before searching */
        if (i < cache->nfields && cache->fields[i].name_len == k.n &&
            !memcmp(cache->fields[i].name, k.p, k.n)) {
            f = &cache->fields[i++];
        } else {
            for (size_t j = 0; j < cache->nfields && !f; j++)
                if (cache->fields[j].name_len == k.n && !memcmp(cache->fields[j].name, k.p, k.n)) {
                    f = &cache->fields[j];
                    i = j + 1;
                }
        }
        if (!first)
            pgcdc_buf_putc(doc, ',');
        first = 0;
        pgcdc_buf_append(doc, k.p - 1, k.n + 2);
        pgcdc_buf_putc(doc, ':');
        convert_value(doc, tmp, f, v);
    }
    if (rc < 0)
        return bad_value(rec, "malformed after image", errstr, errstr_size);
    pgcdc_buf_putc(doc, '}');
    return 0;
}
