/*
 * config_load.c - reads a configuration file (native YAML or Debezium
 * connector JSON) and feeds each key to the table-driven setter in config.c.
 *
 * The form is detected by content: a first non-blank character of '{' means
 * JSON, anything else is YAML. Both parsers reduce the document to flat
 * (key, text) pairs; every rule about values lives in config.c. This file
 * only knows about document structure: nesting, sequences, duplicates, and
 * where in the file (line, column) something went wrong.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config.h"
#include "core/config_internal.h"

#define MAX_FILE_BYTES (16 * 1024 * 1024)
#define MAX_YAML_DEPTH 16

typedef struct load_ctx {
    pgcdc_config *cfg;
    const char *origin; /* file path, or NULL for an in-memory string */
    char *errstr;
    size_t errstr_size;
    unsigned char *seen;  /* per table key: given in this document */
    int *seen_line;       /* line where it was given (0 = unknown) */
    const char **seen_as; /* name it was given as (name or alias) */
} load_ctx;

/* ------------------------------------------------------------------------ */
/* errors with locations                                                     */
/* ------------------------------------------------------------------------ */

static void load_error(load_ctx *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Writes "config: <where>: <body>". <where> is "path:line:col", "path:line",
 * "path", "line L, column C", "line L" or nothing, from what is known.
 */
static void load_error(load_ctx *c, int line, int col, const char *fmt, ...)
{
    char body[768], where[320];
    va_list ap;

    if (!c->errstr || c->errstr_size == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);

    where[0] = 0;
    if (c->origin && line > 0 && col > 0)
        snprintf(where, sizeof(where), "%s:%d:%d: ", c->origin, line, col);
    else if (c->origin && line > 0)
        snprintf(where, sizeof(where), "%s:%d: ", c->origin, line);
    else if (c->origin)
        snprintf(where, sizeof(where), "%s: ", c->origin);
    else if (line > 0 && col > 0)
        snprintf(where, sizeof(where), "line %d, column %d: ", line, col);
    else if (line > 0)
        snprintf(where, sizeof(where), "line %d: ", line);
    snprintf(c->errstr, c->errstr_size, "config: %s%s", where, body);
}

/* 1 if some table key starts with prefix + ".". */
static int has_children(const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < pgcdc_cfg_nkeys; i++) {
        const pgcdc_cfg_key *k = &pgcdc_cfg_keys[i];
        if (strncmp(k->name, prefix, n) == 0 && k->name[n] == '.')
            return 1;
        if (k->alias && strncmp(k->alias, prefix, n) == 0 && k->alias[n] == '.')
            return 1;
    }
    return 0;
}

/*
 * Applies one flattened key. value NULL (YAML null, JSON null) resets the
 * key to its default. Rejects unknown keys and a key given twice in the
 * same document, including once under its alias.
 */
static int apply(load_ctx *c, const char *name, const char *value, int line)
{
    char body[512], shown[128];
    int idx = pgcdc_cfg_key_index(name);

    if (idx < 0 && !strncmp(name, "transforms.", 11)) {
        if (pgcdc_config_transform_set(c->cfg, name, value, body, sizeof(body)) != 0) {
            load_error(c, line, 0, "%s", body);
            return -1;
        }
        return 0;
    }
    if (idx < 0 && pgcdc_config_passthrough_name(name, NULL)) {
        if (pgcdc_config_passthrough_set(c->cfg, name, value, body, sizeof(body)) != 0) {
            load_error(c, line, 0, "%s", body);
            return -1;
        }
        return 0;
    }
    if (idx < 0 && has_children(name)) {
        pgcdc_cfg_show(NULL, name, strlen(name), shown, sizeof(shown));
        load_error(c, line, 0,
                   "%s: not a key by itself; nest the keys under it (%s: {...}) or write them "
                   "in full (%s.<name>: value)",
                   shown, shown, shown);
        return -1;
    }
    if (idx < 0) {
        pgcdc_cfg_unknown_key(name, body, sizeof(body));
        load_error(c, line, 0, "%s", body);
        return -1;
    }
    if (c->seen[idx]) {
        pgcdc_cfg_show(NULL, name, strlen(name), shown, sizeof(shown));
        if (strcmp(c->seen_as[idx], name) != 0) {
            if (c->seen_line[idx] > 0)
                load_error(c, line, 0, "%s: given twice (also as %s at line %d)", shown,
                           c->seen_as[idx], c->seen_line[idx]);
            else
                load_error(c, line, 0, "%s: given twice (also as %s)", shown, c->seen_as[idx]);
        } else if (c->seen_line[idx] > 0) {
            load_error(c, line, 0, "%s: given twice (first at line %d)", shown, c->seen_line[idx]);
        } else {
            load_error(c, line, 0, "%s: given twice", shown);
        }
        return -1;
    }
    const pgcdc_cfg_key *k = &pgcdc_cfg_keys[idx];
    c->seen[idx] = 1;
    c->seen_line[idx] = line;
    c->seen_as[idx] = strcmp(k->name, name) == 0 ? k->name : k->alias;
    if (pgcdc_cfg_set_key(c->cfg, k, name, value, body, sizeof(body)) != 0) {
        load_error(c, line, 0, "%s", body);
        return -1;
    }
    return 0;
}

/* Appends one list item, escaping commas so the list splits back the same. */
static void list_append(pgcdc_buf *out, const char *item, size_t len)
{
    if (out->len > 0)
        pgcdc_buf_putc(out, ',');
    for (size_t i = 0; i < len; i++) {
        if (item[i] == ',')
            pgcdc_buf_putc(out, '\\');
        pgcdc_buf_putc(out, item[i]);
    }
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */
/* ------------------------------------------------------------------------ */

/* Scalar JSON value as text. Returns 0, 1 for null, -1 for object/array. */
static int json_scalar_text(json_t *v, pgcdc_buf *out)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        pgcdc_buf_append(out, json_string_value(v), json_string_length(v));
        return 0;
    case JSON_INTEGER:
        pgcdc_buf_printf(out, "%lld", (long long)json_integer_value(v));
        return 0;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (d > -9e15 && d < 9e15 && (double)(long long)d == d)
            pgcdc_buf_printf(out, "%lld", (long long)d);
        else
            pgcdc_buf_printf(out, "%.17g", d);
        return 0;
    }
    case JSON_TRUE:
        pgcdc_buf_puts(out, "true");
        return 0;
    case JSON_FALSE:
        pgcdc_buf_puts(out, "false");
        return 0;
    case JSON_NULL:
        return 1;
    case JSON_OBJECT:
    case JSON_ARRAY:
        break;
    }
    return -1;
}

/* Applies one member of the connector config object. */
static int json_member(load_ctx *c, const char *key, json_t *v)
{
    pgcdc_buf text = PGCDC_BUF_INIT, item = PGCDC_BUF_INIT;
    char shown[128];
    int rc = -1;

    pgcdc_cfg_show(NULL, key, strlen(key), shown, sizeof(shown));
    if (json_is_object(v)) {
        load_error(c, 0, 0,
                   "%s: nested objects are not accepted in connector JSON; write flat keys such "
                   "as \"%s.<name>\"",
                   shown, shown);
        goto cleanup;
    }
    if (json_is_array(v)) {
        const pgcdc_cfg_key *k = pgcdc_config_find_key(key);
        size_t i;
        json_t *el;
        if (!k) {
            rc = apply(c, key, "", 0); /* reports the unknown key */
            goto cleanup;
        }
        if (!pgcdc_cfg_list_valued(k)) {
            load_error(c, 0, 0, "%s: expected a single value, not a list", shown);
            goto cleanup;
        }
        json_array_foreach(v, i, el)
        {
            pgcdc_buf_reset(&item);
            int r = json_scalar_text(el, &item);
            if (r < 0) {
                load_error(c, 0, 0, "%s: list items must be strings", shown);
                goto cleanup;
            }
            if (r == 0)
                list_append(&text, item.data, item.len);
        }
        rc = apply(c, key, text.data ? text.data : "", 0);
        goto cleanup;
    }
    int r = json_scalar_text(v, &text);
    rc = apply(c, key, r == 1 ? NULL : (text.data ? text.data : ""), 0);
cleanup:
    pgcdc_buf_free(&text);
    pgcdc_buf_free(&item);
    return rc;
}

/*
 * JSON: {"name": ..., "config": {...}} as posted to Kafka Connect (also as
 * returned by GET /connectors/<name>, whose "tasks" and "type" members are
 * ignored), or the bare config object. A "name" both outside and inside
 * "config" must agree, as Kafka Connect requires.
 */
static int load_json(load_ctx *c, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *conf, *v;
    const char *key;
    int rc = -1;

    if (!root) {
        load_error(c, jerr.line, jerr.column, "invalid JSON: %s", jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        load_error(c, 0, 0, "the JSON document must be an object");
        goto cleanup;
    }
    conf = json_object_get(root, "config");
    if (conf && json_is_object(conf)) {
        json_t *outer_name = NULL;
        json_object_foreach(root, key, v)
        {
            if (strcmp(key, "config") == 0 || strcmp(key, "tasks") == 0 || strcmp(key, "type") == 0)
                continue;
            if (strcmp(key, "name") == 0) {
                outer_name = v;
                continue;
            }
            char shown[128];
            pgcdc_cfg_show(NULL, key, strlen(key), shown, sizeof(shown));
            load_error(c, 0, 0,
                       "unexpected top-level member '%s' (a connector request has \"name\" and "
                       "\"config\"; connector settings belong inside \"config\")",
                       shown);
            goto cleanup;
        }
        json_object_foreach(conf, key, v)
        {
            if (json_member(c, key, v) != 0)
                goto cleanup;
        }
        if (outer_name) {
            int idx = pgcdc_cfg_key_index("name");
            if (!json_is_string(outer_name)) {
                load_error(c, 0, 0, "name: expected a string");
                goto cleanup;
            }
            if (c->seen[idx]) {
                const char *inner = c->cfg->name ? c->cfg->name : "";
                if (strcmp(inner, json_string_value(outer_name)) != 0) {
                    load_error(c, 0, 0,
                               "name: the request's \"name\" and config's \"name\" differ");
                    goto cleanup;
                }
            } else if (apply(c, "name", json_string_value(outer_name), 0) != 0) {
                goto cleanup;
            }
        }
    } else {
        json_object_foreach(root, key, v)
        {
            if (json_member(c, key, v) != 0)
                goto cleanup;
        }
    }
    rc = 0;
cleanup:
    json_decref(root);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* YAML                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct yaml_ctx {
    load_ctx *lc;
    const char *text;
    size_t len;
    yaml_parser_t parser;
    yaml_event_t ev;
    int have_ev;
} yaml_ctx;

/* Line (1-based) of a byte offset, for reader errors that carry no mark. */
static void offset_position(const char *text, size_t len, size_t off, int *line, int *col)
{
    int l = 1, cl = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            cl = 1;
        } else {
            cl++;
        }
    }
    *line = l;
    *col = cl;
}

/* Advances to the next event; on a syntax error reports it with its place. */
static int y_next(yaml_ctx *y)
{
    if (y->have_ev) {
        yaml_event_delete(&y->ev);
        y->have_ev = 0;
    }
    if (yaml_parser_parse(&y->parser, &y->ev)) {
        y->have_ev = 1;
        return 0;
    }
    const yaml_parser_t *p = &y->parser;
    const char *problem = p->problem ? p->problem : "parse error";
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        offset_position(y->text, y->len, p->problem_offset, &line, &col);
        load_error(y->lc, line, col, "invalid YAML: %s", problem);
    } else if (p->error == YAML_MEMORY_ERROR) {
        load_error(y->lc, 0, 0, "invalid YAML: out of memory");
    } else if (p->context) {
        load_error(y->lc, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                   "invalid YAML: %s (%s started at line %d)", problem, p->context,
                   (int)p->context_mark.line + 1);
    } else {
        load_error(y->lc, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1,
                   "invalid YAML: %s", problem);
    }
    return -1;
}

static int y_line(const yaml_ctx *y)
{
    return (int)y->ev.start_mark.line + 1;
}

/* Plain (unquoted) empty, ~ or null: YAML's null. */
static int y_is_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    return v[0] == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

static int y_mapping(yaml_ctx *y, const char *prefix, int depth);

/* Current event is SEQUENCE_START for `key`: joins scalar items with ','. */
static int y_sequence(yaml_ctx *y, const char *key, int line)
{
    const pgcdc_cfg_key *k = pgcdc_config_find_key(key);
    pgcdc_buf text = PGCDC_BUF_INIT;
    char shown[128];
    int rc = -1;

    pgcdc_cfg_show(NULL, key, strlen(key), shown, sizeof(shown));
    if (!k) {
        rc = apply(y->lc, key, "", line); /* reports the unknown key */
        goto cleanup;
    }
    if (!pgcdc_cfg_list_valued(k)) {
        load_error(y->lc, line, 0, "%s: expected a single value, not a list", shown);
        goto cleanup;
    }
    for (;;) {
        if (y_next(y) != 0)
            goto cleanup;
        if (y->ev.type == YAML_SEQUENCE_END_EVENT)
            break;
        if (y->ev.type != YAML_SCALAR_EVENT) {
            load_error(y->lc, y_line(y), 0, "%s: list items must be plain values", shown);
            goto cleanup;
        }
        if (!y_is_null(&y->ev))
            list_append(&text, (const char *)y->ev.data.scalar.value, y->ev.data.scalar.length);
    }
    rc = apply(y->lc, key, text.data ? text.data : "", line);
cleanup:
    pgcdc_buf_free(&text);
    return rc;
}

/*
 * Current event is MAPPING_START. Reads key/value pairs until MAPPING_END,
 * flattening nested mappings under "prefix.". Keys must be scalars; values
 * may be scalars, mappings, or (for list-valued keys) sequences; aliases
 * are refused so no document can expand beyond its size.
 */
static int y_mapping(yaml_ctx *y, const char *prefix, int depth)
{
    pgcdc_buf key = PGCDC_BUF_INIT;
    char shown[128];
    int rc = -1;

    if (depth > MAX_YAML_DEPTH) {
        load_error(y->lc, y_line(y), 0, "mappings nested more than %d levels deep", MAX_YAML_DEPTH);
        goto cleanup;
    }
    for (;;) {
        if (y_next(y) != 0)
            goto cleanup;
        if (y->ev.type == YAML_MAPPING_END_EVENT)
            break;
        if (y->ev.type != YAML_SCALAR_EVENT) {
            load_error(y->lc, y_line(y), 0, "mapping keys must be plain strings");
            goto cleanup;
        }
        pgcdc_buf_reset(&key);
        if (prefix[0]) {
            pgcdc_buf_puts(&key, prefix);
            pgcdc_buf_putc(&key, '.');
        }
        pgcdc_buf_append(&key, y->ev.data.scalar.value, y->ev.data.scalar.length);
        if (memchr(key.data, 0, key.len)) {
            load_error(y->lc, y_line(y), 0, "mapping keys must not contain NUL characters");
            goto cleanup;
        }
        int line = y_line(y);
        pgcdc_cfg_show(NULL, key.data, key.len, shown, sizeof(shown));

        if (y_next(y) != 0)
            goto cleanup;
        switch (y->ev.type) {
        case YAML_SCALAR_EVENT:
            if (memchr(y->ev.data.scalar.value, 0, y->ev.data.scalar.length)) {
                load_error(y->lc, line, 0, "%s: value contains a NUL character", shown);
                goto cleanup;
            }
            if (apply(y->lc, key.data,
                      y_is_null(&y->ev) ? NULL : (const char *)y->ev.data.scalar.value, line) != 0)
                goto cleanup;
            break;
        case YAML_MAPPING_START_EVENT:
            if (pgcdc_config_find_key(key.data) && !has_children(key.data)) {
                load_error(y->lc, line, 0, "%s: expected a single value, not a mapping", shown);
                goto cleanup;
            }
            if (y_mapping(y, key.data, depth + 1) != 0)
                goto cleanup;
            break;
        case YAML_SEQUENCE_START_EVENT:
            if (y_sequence(y, key.data, line) != 0)
                goto cleanup;
            break;
        case YAML_ALIAS_EVENT:
            load_error(y->lc, line, 0, "%s: YAML aliases are not supported", shown);
            goto cleanup;
        default:
            load_error(y->lc, line, 0, "%s: unexpected YAML structure", shown);
            goto cleanup;
        }
    }
    rc = 0;
cleanup:
    pgcdc_buf_free(&key);
    return rc;
}

/*
 * YAML: one document whose root is a mapping (an empty document or a null
 * root is an empty configuration). A second document is an error.
 */
static int load_yaml(load_ctx *c, const char *text, size_t len)
{
    yaml_ctx y;
    int rc = -1;

    memset(&y, 0, sizeof(y));
    y.lc = c;
    y.text = text;
    y.len = len;
    if (!yaml_parser_initialize(&y.parser)) {
        load_error(c, 0, 0, "cannot initialise the YAML parser");
        return -1;
    }
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);

    if (y_next(&y) != 0) /* STREAM_START */
        goto cleanup;
    if (y_next(&y) != 0)
        goto cleanup;
    if (y.ev.type == YAML_STREAM_END_EVENT) {
        rc = 0;
        goto cleanup;
    }
    if (y_next(&y) != 0) /* past DOCUMENT_START: the root node */
        goto cleanup;
    if (y.ev.type == YAML_MAPPING_START_EVENT) {
        if (y_mapping(&y, "", 0) != 0)
            goto cleanup;
    } else if (!(y.ev.type == YAML_SCALAR_EVENT && y_is_null(&y.ev))) {
        load_error(c, y_line(&y), 0,
                   "the YAML document must be a mapping of configuration keys (key: value)");
        goto cleanup;
    }
    if (y_next(&y) != 0) /* DOCUMENT_END */
        goto cleanup;
    if (y_next(&y) != 0)
        goto cleanup;
    if (y.ev.type != YAML_STREAM_END_EVENT) {
        load_error(c, y_line(&y), 0, "only one YAML document is allowed");
        goto cleanup;
    }
    rc = 0;
cleanup:
    if (y.have_ev)
        yaml_event_delete(&y.ev);
    yaml_parser_delete(&y.parser);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* entry points                                                              */
/* ------------------------------------------------------------------------ */

static int load_any(pgcdc_config *cfg, const char *origin, const char *text, size_t len,
                    char *errstr, size_t errstr_size)
{
    load_ctx c;
    size_t i = 0;
    int rc = -1;

    memset(&c, 0, sizeof(c));
    c.cfg = cfg;
    c.origin = origin;
    c.errstr = errstr;
    c.errstr_size = errstr_size;
    c.seen = calloc(pgcdc_cfg_nkeys, sizeof(*c.seen));
    c.seen_line = calloc(pgcdc_cfg_nkeys, sizeof(*c.seen_line));
    c.seen_as = calloc(pgcdc_cfg_nkeys, sizeof(*c.seen_as));
    if (!c.seen || !c.seen_line || !c.seen_as) {
        load_error(&c, 0, 0, "out of memory");
        goto cleanup;
    }

    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* UTF-8 byte order mark */
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == '{') {
        if (load_json(&c, text, len) != 0)
            goto cleanup;
    } else if (load_yaml(&c, text, len) != 0) {
        goto cleanup;
    }

    char verr[512];
    if (pgcdc_config_validate(cfg, verr, sizeof(verr)) != 0) {
        const char *body = strncmp(verr, "config: ", 8) == 0 ? verr + 8 : verr;
        load_error(&c, 0, 0, "%s", body);
        goto cleanup;
    }
    rc = 0;
cleanup:
    free(c.seen);
    free(c.seen_line);
    free(c.seen_as);
    return rc;
}

int pgcdc_config_load_string(pgcdc_config *cfg, const char *text, size_t len, char *errstr,
                             size_t errstr_size)
{
    return load_any(cfg, NULL, text ? text : "", text ? len : 0, errstr, errstr_size);
}

int pgcdc_config_load(pgcdc_config *cfg, const char *path, char *errstr, size_t errstr_size)
{
    pgcdc_buf text = PGCDC_BUF_INIT;
    char chunk[8192];
    FILE *f = fopen(path, "rb");
    int rc = -1;

    if (!f) {
        snprintf(errstr, errstr_size, "config: cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0)
            pgcdc_buf_append(&text, chunk, n);
        if (text.len > MAX_FILE_BYTES) {
            snprintf(errstr, errstr_size, "config: %s: file larger than %d bytes", path,
                     MAX_FILE_BYTES);
            goto cleanup;
        }
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f)) {
        snprintf(errstr, errstr_size, "config: cannot read %s: %s", path, strerror(errno));
        goto cleanup;
    }
    rc = load_any(cfg, path, text.data ? text.data : "", text.len, errstr, errstr_size);
cleanup:
    fclose(f);
    if (text.data)
        explicit_bzero(text.data, text.len); /* the file may hold the password */
    pgcdc_buf_free(&text);
    return rc;
}
