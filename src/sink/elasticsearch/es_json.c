/*
 * es_json.c - span scanner over encoded JSON (see es_json.h).
 *
 * The scanner validates structure (brackets, strings, literals, numbers as
 * far as their characters go) but does not check UTF-8: the text comes from
 * pgcdc's encoder or a Kafka topic written by a JSON converter, and
 * Elasticsearch checks what it receives anyway.
 */
#include "format/json.h"
#include "sink/elasticsearch/es_json.h"

#include <limits.h>
#include <string.h>

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    /* p at the opening quote */
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Depth-limited so hostile input cannot exhaust the stack. */
static const char *skip_value(const char *p, const char *end, int depth)
{
    p = ws(p, end);
    if (p >= end || depth > 200)
        return NULL;
    switch (*p) {
    case '"':
        return skip_string(p, end);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        int obj = *p == '{';
        p = ws(p + 1, end);
        if (p < end && *p == close)
            return p + 1;
        for (;;) {
            if (obj) {
                p = ws(p, end);
                if (p >= end || *p != '"' || !(p = skip_string(p, end)))
                    return NULL;
                p = ws(p, end);
                if (p >= end || *p != ':')
                    return NULL;
                p++;
            }
            if (!(p = skip_value(p, end, depth + 1)))
                return NULL;
            p = ws(p, end);
            if (p >= end)
                return NULL;
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    case 't':
        return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
    case 'f':
        return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
    case 'n':
        return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
    default: {
        const char *s = p;
        while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9')))
            p++;
        return p > s ? p : NULL;
    }
    }
}

const char *pgcdc_es_json_skip(const char *p, const char *end)
{
    return skip_value(p, end, 0);
}

int pgcdc_es_json_next(pgcdc_es_span obj, const char **pos, pgcdc_es_span *key, pgcdc_es_span *val)
{
    const char *end = obj.p + obj.n;
    const char *p = *pos;
    if (!p) {
        p = ws(obj.p, end);
        if (p >= end || *p != '{')
            return -1;
        p = ws(p + 1, end);
        if (p < end && *p == '}') {
            *pos = p;
            return 0;
        }
    } else {
        p = ws(p, end);
        if (p < end && *p == '}')
            return 0;
        if (p >= end || *p != ',')
            return -1;
        p = ws(p + 1, end);
    }
    if (p >= end || *p != '"')
        return -1;
    const char *k = p;
    if (!(p = skip_string(p, end)))
        return -1;
    key->p = k + 1;
    key->n = (size_t)(p - k - 2);
    p = ws(p, end);
    if (p >= end || *p != ':')
        return -1;
    p = ws(p + 1, end);
    const char *v = p;
    if (!(p = skip_value(p, end, 1)))
        return -1;
    val->p = v;
    val->n = (size_t)(p - v);
    *pos = p;
    return 1;
}

pgcdc_es_span pgcdc_es_json_get(pgcdc_es_span obj, const char *key)
{
    pgcdc_es_span k, v, none = {NULL, 0};
    size_t klen = strlen(key);
    const char *pos = NULL;
    if (!obj.p)
        return none;
    while (pgcdc_es_json_next(obj, &pos, &k, &v) == 1)
        if (k.n == klen && !memcmp(k.p, key, klen))
            return v;
    return none;
}

int pgcdc_es_json_is_null(pgcdc_es_span v)
{
    return !v.p || (v.n == 4 && !memcmp(v.p, "null", 4));
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(pgcdc_buf *out, unsigned cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    pgcdc_buf_append(out, b, n);
}

int pgcdc_es_json_unescape(pgcdc_buf *out, pgcdc_es_span s)
{
    if (!s.p || s.n < 2 || s.p[0] != '"' || s.p[s.n - 1] != '"')
        return -1;
    const char *p = s.p + 1, *end = s.p + s.n - 1;
    while (p < end) {
        const char *run = p;
        while (p < end && *p != '\\')
            p++;
        pgcdc_buf_append(out, run, (size_t)(p - run));
        if (p >= end)
            break;
        if (++p >= end)
            return -1;
        char c = *p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            pgcdc_buf_putc(out, c);
            break;
        case 'b':
            pgcdc_buf_putc(out, '\b');
            break;
        case 'f':
            pgcdc_buf_putc(out, '\f');
            break;
        case 'n':
            pgcdc_buf_putc(out, '\n');
            break;
        case 'r':
            pgcdc_buf_putc(out, '\r');
            break;
        case 't':
            pgcdc_buf_putc(out, '\t');
            break;
        case 'u': {
            unsigned cp, lo;
            if (end - p < 4 || hex4(p, &cp))
                return -1;
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                !hex4(p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp >= 0xD800 && cp < 0xE000) {
                cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
            }
            put_utf8(out, cp);
            break;
        }
        default:
            return -1;
        }
    }
    return 0;
}

int pgcdc_es_json_i64(pgcdc_es_span v, int64_t *out)
{
    if (!v.p || v.n == 0 || v.n > 20)
        return -1;
    size_t i = 0;
    int neg = v.p[0] == '-';
    if (neg)
        i++;
    if (i >= v.n)
        return -1;
    uint64_t acc = 0;
    for (; i < v.n; i++) {
        char c = v.p[i];
        if (c < '0' || c > '9')
            return -1;
        if (acc > (UINT64_MAX - 9) / 10)
            return -1;
        acc = acc * 10 + (uint64_t)(c - '0');
    }
    if (acc > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return 0;
}

int pgcdc_es_base64_decode(pgcdc_buf *out, pgcdc_es_span s)
{
    if (!s.p || s.n < 2 || s.p[0] != '"' || s.p[s.n - 1] != '"')
        return -1;
    return pgcdc_base64_decode(out, s.p + 1, s.n - 2);
}
