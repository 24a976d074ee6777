/*
 * pgtypes_array.c - PostgreSQL array text ("{1,2,NULL}") to JSON arrays.
 *
 * Grammar accepted (array_out's output): an optional dimension decoration
 * "[lo:hi]=", then '{' elements separated by the type's delimiter (';' for
 * box, ',' otherwise) '}'. Elements are either double-quoted with backslash
 * escapes, or unquoted (NULL, case-insensitive, is SQL NULL). Each element
 * is converted with the element type's scalar converter; NULL becomes null.
 *
 * Multidimensional arrays are rejected with an error: pgjdbc hands Debezium
 * nested Java arrays there, which its element converters cannot handle (the
 * elements come out as nulls), so there is no meaningful Debezium output to
 * reproduce.
 *
 * No allocation: text-like elements are unescaped into a scratch region of
 * the output buffer right behind the space their JSON string can take; other
 * elements with escapes (which PostgreSQL only produces for bytea's leading
 * backslash) use a small stack copy, bytea's prefix is handled in place.
 */
#include <string.h>

#include "format/json.h"
#include "format/pgtypes_internal.h"

/* Copies the element [p, p+n) with backslash escapes removed into out; returns length. */
static size_t unescape(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n)
            i++;
        out[o++] = p[i];
    }
    return o;
}

static int convert_elem(pgcdc_buf *buf, const pgcdc_coltype *e, const pgcdc_type_opts *opts,
                        const char *p, size_t n, int has_escape, char *errstr, size_t es)
{
    if (!has_escape)
        return pgcdc_coltype_value(buf, e, opts, p, n, errstr, es);
    if (pgcdc_pgt_is_plain_string(e->kind)) {
        /* room for the JSON string (each byte can become \u00XX), then the scratch */
        char *tmp = (char *)pgcdc_pgt_scratch(buf, 6 * n + 2, n);
        size_t m = unescape(p, n, tmp);
        pgcdc_json_str(buf, tmp, m);
        return 0;
    }
    if (e->kind == PGCDC_T_BYTEA && n >= 3 && p[0] == '\\' && p[1] == '\\' &&
        memchr(p + 2, '\\', n - 2) == NULL) {
        /* "\\x0102" inside quotes: only the leading backslash is escaped */
        return pgcdc_coltype_value(buf, e, opts, p + 1, n - 1, errstr, es);
    }
    char tmp[256];
    if (n > sizeof(tmp))
        return pgcdc_pgt_fail_why(errstr, es, e, p, n, "escaped array element too long");
    size_t m = unescape(p, n, tmp);
    return pgcdc_coltype_value(buf, e, opts, tmp, m, errstr, es);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int pgcdc_pgt_array(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                    const char *t, size_t n, char *errstr, size_t es)
{
    const pgcdc_coltype *e = ct->elem;
    pgcdc_coltype unknown_elem;
    if (!e) {
        memset(&unknown_elem, 0, sizeof(unknown_elem));
        unknown_elem.kind = PGCDC_T_UNKNOWN;
        unknown_elem.precision = unknown_elem.scale = unknown_elem.time_precision = -1;
        e = &unknown_elem;
    }
    char delim = e->oid == 603 ? ';' : ','; /* box uses ';' (pg_type.typdelim) */
    size_t i = 0;
    while (i < n && is_space(t[i]))
        i++;
    if (i < n && t[i] == '[') {
        /* dimension decoration [lo:hi]=, one dimension only */
        int dims = 0;
        while (i < n && t[i] == '[') {
            const char *close = memchr(t + i, ']', n - i);
            if (!close)
                return pgcdc_pgt_fail(errstr, es, ct, t, n);
            i = (size_t)(close - t) + 1;
            dims++;
        }
        if (dims > 1)
            return pgcdc_pgt_fail_why(errstr, es, ct, t, n,
                                      "multidimensional arrays are not supported");
        if (i >= n || t[i] != '=')
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        i++;
    }
    if (i >= n || t[i] != '{')
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    i++;
    pgcdc_buf_putc(buf, '[');
    int first = 1;
    while (i < n && is_space(t[i]))
        i++;
    if (i < n && t[i] == '}') {
        i++;
    } else {
        for (;;) {
            while (i < n && is_space(t[i]))
                i++;
            if (i >= n)
                return pgcdc_pgt_fail(errstr, es, ct, t, n);
            if (t[i] == '{')
                return pgcdc_pgt_fail_why(errstr, es, ct, t, n,
                                          "multidimensional arrays are not supported");
            const char *p;
            size_t len;
            int esc = 0, quoted = 0;
            if (t[i] == '"') {
                quoted = 1;
                i++;
                p = t + i;
                while (i < n && t[i] != '"') {
                    if (t[i] == '\\') {
                        esc = 1;
                        i++;
                    }
                    i++;
                }
                if (i >= n)
                    return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "unterminated quote");
                len = (size_t)(t + i - p);
                i++;
                while (i < n && is_space(t[i]))
                    i++;
            } else {
                p = t + i;
                while (i < n && t[i] != delim && t[i] != '}') {
                    if (t[i] == '"' || t[i] == '{')
                        return pgcdc_pgt_fail(errstr, es, ct, t, n);
                    if (t[i] == '\\') {
                        esc = 1;
                        i++;
                    }
                    i++;
                }
                if (i > n)
                    return pgcdc_pgt_fail(errstr, es, ct, t, n);
                len = (size_t)(t + i - p);
                while (len > 0 && is_space(p[len - 1]) && !(len >= 2 && p[len - 2] == '\\'))
                    len--;
                if (len == 0)
                    return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "empty array element");
            }
            if (!first)
                pgcdc_buf_putc(buf, ',');
            first = 0;
            if (!quoted && !esc && len == 4 && (p[0] | 0x20) == 'n' && (p[1] | 0x20) == 'u' &&
                (p[2] | 0x20) == 'l' && (p[3] | 0x20) == 'l') {
                PGCDC_BUF_LIT(buf, "null");
            } else if (convert_elem(buf, e, opts, p, len, esc, errstr, es) != 0) {
                return -1;
            }
            if (i >= n)
                return pgcdc_pgt_fail(errstr, es, ct, t, n);
            if (t[i] == delim) {
                i++;
                continue;
            }
            if (t[i] == '}') {
                i++;
                break;
            }
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        }
    }
    while (i < n && is_space(t[i]))
        i++;
    if (i != n)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    pgcdc_buf_putc(buf, ']');
    return 0;
}
