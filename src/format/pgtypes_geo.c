/*
 * pgtypes_geo.c - hstore and point values, as Debezium's PostgreSQL connector
 * emits them.
 *
 * hstore (extension type) becomes, with hstore.handling.mode=json, a string
 * holding a JSON object (io.debezium.data.Json), and with map a Kafka Connect
 * map<string,string>. Debezium builds both from pgjdbc's HStoreConverter,
 * which fills a java.util.HashMap, so the keys come out in HashMap iteration
 * order; pgcdc reproduces that order (see hashmap_order) so that the same
 * row gives the same bytes, which matters to consumers that compare or hash
 * event values.
 *
 * point becomes the struct io.debezium.data.geometry.Point {x, y, wkb, srid}
 * with the point's little-endian WKB and a null SRID.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format/json.h"
#include "format/pgtypes_internal.h"

/* One key/value pair of an hstore text, as spans of the input (escaped). */
typedef struct hs_pair {
    uint32_t key, key_len;
    uint32_t val, val_len; /* val_len == UINT32_MAX: NULL */
    uint32_t bucket;
    uint32_t index;
} hs_pair;

#define HS_NULL UINT32_MAX

/* Java's String.hashCode over the UTF-16 code units of an hstore key given
 * as its escaped span (backslash escapes removed on the fly). */
static uint32_t java_hash(const unsigned char *p, size_t n)
{
    uint32_t h = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c == '\\' && i + 1 < n)
            c = p[++i];
        uint32_t cp = c, need = 0;
        if (c >= 0xF0)
            cp = c & 0x07, need = 3;
        else if (c >= 0xE0)
            cp = c & 0x0F, need = 2;
        else if (c >= 0xC0)
            cp = c & 0x1F, need = 1;
        i++;
        for (; need && i < n; need--, i++)
            cp = (cp << 6) | (p[i] & 0x3F);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return h;
}

static int pair_cmp(const void *a, const void *b)
{
    const hs_pair *x = a, *y = b;
    if (x->bucket != y->bucket)
        return x->bucket < y->bucket ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Orders pairs as a java.util.HashMap<String,String> filled in text order
 * iterates them: by bucket (spread hash & (capacity - 1)), then by insertion
 * within a bucket. The capacity starts at 16 and doubles whenever the size
 * exceeds three quarters of it. (Buckets of 8+ colliding keys turn into trees
 * in Java; that order is not reproduced.)
 */
static void hashmap_order(hs_pair *pairs, uint32_t n, const unsigned char *text)
{
    uint32_t cap = 16;
    while (n > cap / 4 * 3)
        cap <<= 1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t h = java_hash(text + pairs[i].key, pairs[i].key_len);
        pairs[i].bucket = (h ^ (h >> 16)) & (cap - 1);
    }
    qsort(pairs, n, sizeof(*pairs), pair_cmp);
}

/* Parses one quoted (or bare) hstore token at *pos; fills its escaped span. */
static int hs_token(const unsigned char *t, size_t n, size_t *pos, uint32_t *start, uint32_t *len,
                    int *quoted)
{
    size_t i = *pos;
    while (i < n && t[i] == ' ')
        i++;
    if (i >= n)
        return -1;
    *quoted = t[i] == '"';
    if (*quoted) {
        size_t s = ++i;
        while (i < n && t[i] != '"')
            i += t[i] == '\\' ? 2 : 1;
        if (i >= n)
            return -1;
        *start = (uint32_t)s;
        *len = (uint32_t)(i - s);
        *pos = i + 1;
        return 0;
    }
    size_t s = i;
    while (i < n && t[i] != ',' && t[i] != '=' && t[i] != ' ')
        i++;
    if (i == s)
        return -1;
    *start = (uint32_t)s;
    *len = (uint32_t)(i - s);
    *pos = i;
    return 0;
}

/* Splits hstore text into pairs (stored at `pairs`, room for `max`); the
 * number of pairs, or -1 if the text is not hstore output. */
static long hs_parse(const unsigned char *t, size_t n, hs_pair *pairs, size_t max)
{
    size_t pos = 0, np = 0;
    for (;;) {
        while (pos < n && t[pos] == ' ')
            pos++;
        if (pos >= n)
            return (long)np;
        if (np >= max)
            return -1;
        hs_pair *p = &pairs[np];
        int quoted;
        if (hs_token(t, n, &pos, &p->key, &p->key_len, &quoted) != 0)
            return -1;
        while (pos < n && t[pos] == ' ')
            pos++;
        if (pos + 1 >= n || t[pos] != '=' || t[pos + 1] != '>')
            return -1;
        pos += 2;
        if (hs_token(t, n, &pos, &p->val, &p->val_len, &quoted) != 0)
            return -1;
        if (!quoted && p->val_len == 4 && strncasecmp((const char *)t + p->val, "NULL", 4) == 0)
            p->val_len = HS_NULL;
        p->index = (uint32_t)np++;
        while (pos < n && t[pos] == ' ')
            pos++;
        if (pos < n) {
            if (t[pos] != ',')
                return -1;
            pos++;
        }
    }
}

/* Appends s (nul-free ASCII or UTF-8), escaped once more when `twice`: the
 * inner JSON of hstore's json mode is itself a JSON string value. */
static void put_raw(pgcdc_buf *b, const char *s, size_t n, int twice)
{
    for (size_t i = 0; i < n; i++) {
        if (twice && (s[i] == '"' || s[i] == '\\'))
            pgcdc_buf_putc(b, '\\');
        pgcdc_buf_putc(b, s[i]);
    }
}

/* Appends the escaped span of an hstore token as a JSON string literal with
 * pgcdc_json_str's escaping, escaped once more when `twice`. */
static void put_string(pgcdc_buf *b, const unsigned char *p, size_t n, int twice)
{
    static const char hex[] = "0123456789abcdef";
    put_raw(b, "\"", 1, twice);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '\\' && i + 1 < n)
            c = p[++i];
        char e[6];
        size_t k;
        switch (c) {
        case '"':
            e[0] = '\\', e[1] = '"', k = 2;
            break;
        case '\\':
            e[0] = '\\', e[1] = '\\', k = 2;
            break;
        case '\b':
            e[0] = '\\', e[1] = 'b', k = 2;
            break;
        case '\f':
            e[0] = '\\', e[1] = 'f', k = 2;
            break;
        case '\n':
            e[0] = '\\', e[1] = 'n', k = 2;
            break;
        case '\r':
            e[0] = '\\', e[1] = 'r', k = 2;
            break;
        case '\t':
            e[0] = '\\', e[1] = 't', k = 2;
            break;
        default:
            if (c < 0x20) {
                memcpy(e, "\\u00", 4);
                e[4] = hex[c >> 4], e[5] = hex[c & 15], k = 6;
            } else {
                e[0] = (char)c, k = 1;
            }
        }
        put_raw(b, e, k, twice);
    }
    put_raw(b, "\"", 1, twice);
}

int pgcdc_pgt_hstore(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                     const char *text, size_t len, char *errstr, size_t es)
{
    const unsigned char *t = (const unsigned char *)text;
    int twice = opts->hstore_mode != PGCDC_HSTORE_MAP;
    /* per input byte at most 6 bytes of JSON escape, doubled in json mode */
    size_t out_max = 12 * len + 16, max_pairs = len / 6 + 1;
    const size_t align = _Alignof(hs_pair);
    unsigned char *room = pgcdc_pgt_scratch(buf, out_max, max_pairs * sizeof(hs_pair) + align);
    hs_pair *pairs = (hs_pair *)(void *)(((uintptr_t)room + align - 1) & ~(uintptr_t)(align - 1));
    long np = hs_parse(t, len, pairs, max_pairs);
    if (np < 0)
        return pgcdc_pgt_fail(errstr, es, ct, text, len);
    hashmap_order(pairs, (uint32_t)np, t);
    if (twice)
        pgcdc_buf_putc(buf, '"');
    pgcdc_buf_putc(buf, '{');
    for (long i = 0; i < np; i++) {
        if (i)
            pgcdc_buf_putc(buf, ',');
        put_string(buf, t + pairs[i].key, pairs[i].key_len, twice);
        pgcdc_buf_putc(buf, ':');
        if (pairs[i].val_len == HS_NULL)
            PGCDC_BUF_LIT(buf, "null");
        else
            put_string(buf, t + pairs[i].val, pairs[i].val_len, twice);
    }
    pgcdc_buf_putc(buf, '}');
    if (twice)
        pgcdc_buf_putc(buf, '"');
    return 0;
}

/* Appends v as 8 little-endian bytes of an IEEE 754 double. */
static void put_f64le(unsigned char *out, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(u >> (8 * i));
}

int pgcdc_pgt_point(pgcdc_buf *buf, const pgcdc_coltype *ct, const char *text, size_t len,
                    char *errstr, size_t es)
{
    char tmp[128];
    if (len < 5 || len >= sizeof(tmp) || text[0] != '(' || text[len - 1] != ')')
        return pgcdc_pgt_fail(errstr, es, ct, text, len);
    memcpy(tmp, text + 1, len - 2);
    tmp[len - 2] = 0;
    char *end;
    double x = strtod(tmp, &end);
    if (end == tmp || *end != ',')
        return pgcdc_pgt_fail(errstr, es, ct, text, len);
    char *ys = end + 1;
    double y = strtod(ys, &end);
    if (end == ys || *end)
        return pgcdc_pgt_fail(errstr, es, ct, text, len);
    /* WKB: byte order 1 (little-endian), geometry type 1 (Point), x, y */
    unsigned char wkb[21] = {1, 1, 0, 0, 0};
    put_f64le(wkb + 5, x);
    put_f64le(wkb + 13, y);
    PGCDC_BUF_LIT(buf, "{\"x\":");
    pgcdc_json_double(buf, x);
    PGCDC_BUF_LIT(buf, ",\"y\":");
    pgcdc_json_double(buf, y);
    PGCDC_BUF_LIT(buf, ",\"wkb\":");
    pgcdc_pgt_base64(buf, wkb, sizeof(wkb), 0);
    PGCDC_BUF_LIT(buf, ",\"srid\":null}");
    return 0;
}
