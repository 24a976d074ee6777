/*
 * test_debezium.c - unit tests for the Debezium encoder on a hand-built
 * table (id int4 key, name text optional): topics, key and value envelopes
 * with and without schemas, field order, deletes and tombstones, key
 * changes, escaping, unchanged TOAST values, truncate, logical messages,
 * schema change records and conversion errors that must leave the batch
 * untouched.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/config.h"
#include "core/event.h"
#include "format/debezium.h"
#include "test.h"

static char err[1024];

#define TS_US 1700000000123456LL

/* ---- a tiny raw-text scanner: top-level keys of an object, in order ---- */

typedef struct jkey {
    char name[64];
    const char *val; /* start of the value in the raw text */
} jkey;

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *skip_string(const char *p)
{
    p++; /* opening quote */
    while (*p && *p != '"') {
        if (*p == '\\' && p[1])
            p++;
        p++;
    }
    return *p ? p + 1 : p;
}

static const char *skip_value(const char *p)
{
    p = skip_ws(p);
    if (*p == '"')
        return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                p = skip_string(p);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                depth--;
                if (depth == 0)
                    return p + 1;
            }
            p++;
        }
        return p;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']')
        p++;
    return p;
}

/* Fills keys of the object at p; returns their number, -1 if not an object. */
static int scan_keys(const char *p, jkey *out, int max)
{
    int n = 0;
    p = skip_ws(p);
    if (*p != '{')
        return -1;
    p = skip_ws(p + 1);
    if (*p == '}')
        return 0;
    while (*p == '"' && n < max) {
        const char *end = skip_string(p);
        size_t len = (size_t)(end - p - 2);
        if (len >= sizeof(out[n].name))
            len = sizeof(out[n].name) - 1;
        memcpy(out[n].name, p + 1, len);
        out[n].name[len] = 0;
        p = skip_ws(end);
        if (*p != ':')
            return -1;
        out[n].val = skip_ws(p + 1);
        p = skip_ws(skip_value(out[n].val));
        n++;
        if (*p == ',')
            p = skip_ws(p + 1);
        else
            break;
    }
    return n;
}

/* Joins the key names with ',' into a static buffer. */
static const char *key_order(const char *obj)
{
    static char s[1024];
    jkey k[32];
    int n = scan_keys(obj, k, 32);
    s[0] = 0;
    if (n < 0)
        return "(not an object)";
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(s, ",");
        strcat(s, k[i].name);
    }
    return s;
}

/* Start of the value of `name` in the object at obj, or NULL. */
static const char *member(const char *obj, const char *name)
{
    jkey k[32];
    int n = scan_keys(obj, k, 32);
    for (int i = 0; i < n; i++)
        if (!strcmp(k[i].name, name))
            return k[i].val;
    return NULL;
}

/* ---- fixtures ---- */

typedef struct fixture {
    pgcdc_config cfg;
    pgcdc_debezium enc;
    pgcdc_table tab;
    pgcdc_batch batch;
} fixture;

static int setup(fixture *f, int schemas, int tombstones)
{
    memset(f, 0, sizeof(*f));
    pgcdc_config_init(&f->cfg);
    err[0] = 0;
    if (pgcdc_config_set(&f->cfg, "topic.prefix", "t", err, sizeof(err)) != 0 ||
        pgcdc_config_set(&f->cfg, "key.converter.schemas.enable", schemas ? "true" : "false", err,
                         sizeof(err)) != 0 ||
        pgcdc_config_set(&f->cfg, "value.converter.schemas.enable", schemas ? "true" : "false", err,
                         sizeof(err)) != 0 ||
        pgcdc_config_set(&f->cfg, "tombstones.on.delete", tombstones ? "true" : "false", err,
                         sizeof(err)) != 0) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    if (pgcdc_debezium_init(&f->enc, &f->cfg, "postgres", err, sizeof(err)) != 0) {
        fprintf(stderr, "debezium_init: %s\n", err);
        return -1;
    }
    pgcdc_table *t = &f->tab;
    t->relid = 16384;
    t->schema = strdup("public");
    t->name = strdup("tab");
    t->captured = 1;
    t->replident = 'd';
    t->ncols = 2;
    t->cols = calloc(2, sizeof(pgcdc_column));
    t->cols[0].name = strdup("id");
    t->cols[0].is_key = 1;
    t->cols[0].optional = 0;
    t->cols[0].included = 1;
    t->cols[1].name = strdup("name");
    t->cols[1].optional = 1;
    t->cols[1].included = 1;
    t->nkeys = 1;
    if (pgcdc_coltype_resolve(&t->cols[0].type, 23, -1, NULL, NULL, err, sizeof(err)) != 0 ||
        pgcdc_coltype_resolve(&t->cols[1].type, 25, -1, NULL, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "coltype_resolve: %s\n", err);
        return -1;
    }
    if (pgcdc_debezium_table_prepare(&f->enc, t, err, sizeof(err)) != 0) {
        fprintf(stderr, "table_prepare: %s\n", err);
        return -1;
    }
    pgcdc_batch_reset(&f->batch);
    return 0;
}

static void teardown(fixture *f)
{
    pgcdc_buf_free(&f->batch.data);
    pgcdc_table_clear(&f->tab);
    pgcdc_debezium_free(&f->enc);
    pgcdc_config_free(&f->cfg);
}

static pgcdc_change mkchange(const fixture *f, char op, const pgcdc_row *before,
                             const pgcdc_row *after)
{
    pgcdc_change c;
    memset(&c, 0, sizeof(c));
    c.op = op;
    c.table = &f->tab;
    c.before = before;
    c.after = after;
    c.pos.commit_lsn = 0x2000;
    c.pos.end_lsn = 0;
    c.pos.index = 1;
    c.pos.event_lsn = 0x1234; /* 4660 */
    c.pos.xid = 555;
    c.commit_ts_us = TS_US;
    return c;
}

static pgcdc_value tv(const char *s)
{
    pgcdc_value v = {'t', (uint32_t)strlen(s), s};
    return v;
}

static pgcdc_value nullv(void)
{
    pgcdc_value v = {'n', 0, NULL};
    return v;
}

/* Copies a record part into a NUL-terminated static buffer slot. */
static char *dup_part(const char *p, uint32_t len)
{
    char *s = malloc((size_t)len + 1);
    memcpy(s, p, len);
    s[len] = 0;
    return s;
}

/* Decoded records of a batch (raw text copies). */
typedef struct recs {
    int n;
    char *topic[8];
    char *key[8];   /* NULL: none */
    char *value[8]; /* NULL: tombstone */
    char op[8];
    pgcdc_position pos[8];
} recs;

static void read_recs(const pgcdc_batch *b, recs *r)
{
    memset(r, 0, sizeof(*r));
    size_t off = 0;
    pgcdc_record rec;
    while (r->n < 8 && pgcdc_batch_next(b, &off, &rec)) {
        r->topic[r->n] = dup_part(rec.topic, rec.topic_len);
        r->key[r->n] = rec.key ? dup_part(rec.key, rec.key_len) : NULL;
        r->value[r->n] = rec.value ? dup_part(rec.value, rec.value_len) : NULL;
        r->op[r->n] = rec.op;
        r->pos[r->n] = rec.pos;
        r->n++;
    }
}

static void free_recs(recs *r)
{
    for (int i = 0; i < r->n; i++) {
        free(r->topic[i]);
        free(r->key[i]);
        free(r->value[i]);
    }
    memset(r, 0, sizeof(*r));
}

static json_t *parse(const char *s)
{
    json_error_t je;
    json_t *j = s ? json_loads(s, 0, &je) : NULL;
    if (s && !j)
        fprintf(stderr, "invalid JSON (%s): %s\n", je.text, s);
    return j;
}

static json_int_t jint(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    return json_integer_value(v);
}

static const char *jstr(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);
    if (path2)
        v = json_object_get(v, path2);
    const char *s = json_string_value(v);
    return s ? s : "(not a string)";
}

/* ---- tests ---- */

static void test_topic(void)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    pgcdc_debezium_topic("t", "public", "tab", &b);
    CHECK_STR(b.data, "t.public.tab");
    pgcdc_debezium_topic("srv-1", "my schema", "tab$1.x_y", &b);
    CHECK_STR(b.data, "srv-1.my_schema.tab_1.x_y");
    pgcdc_debezium_topic("t", "s", "caf\xC3\xA9", &b);
    CHECK_STR(b.data, "t.s.caf__");
    pgcdc_buf_free(&b);
}

static void test_create_with_schemas(void)
{
    fixture f;
    if (setup(&f, 1, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    CHECK_STR(f.tab.topic, "t.public.tab");
    CHECK_INT(f.tab.topic_len, 12);

    pgcdc_value av[2] = {tv("1"), tv("alice")};
    pgcdc_row after = {2, av};
    pgcdc_change c = mkchange(&f, 'c', NULL, &after);
    err[0] = 0;
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    CHECK_INT(f.batch.nrecords, 1);
    recs r;
    read_recs(&f.batch, &r);
    CHECK_INT(r.n, 1);
    if (r.n != 1) {
        free_recs(&r);
        teardown(&f);
        return;
    }
    CHECK_STR(r.topic[0], "t.public.tab");
    CHECK(r.op[0] == 'c');
    CHECK(r.pos[0].event_lsn == 0x1234 && r.pos[0].xid == 555);

    /* key */
    CHECK(r.key[0] != NULL);
    CHECK_STR(key_order(r.key[0]), "schema,payload");
    CHECK_STR(r.key[0], "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\","
                        "\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
                        "\"name\":\"t.public.tab.Key\"},\"payload\":{\"id\":1}}");
    json_t *k = parse(r.key[0]);
    CHECK(k != NULL);
    CHECK_INT(jint(k, "payload", "id"), 1);
    json_decref(k);

    /* value envelope */
    CHECK(r.value[0] != NULL);
    CHECK_STR(key_order(r.value[0]), "schema,payload");
    const char *payload = member(r.value[0], "payload");
    CHECK_STR(key_order(payload), "before,after,source,transaction,op,ts_ms,ts_us,ts_ns");
    const char *source = member(payload, "source");
    CHECK_STR(key_order(source), "version,connector,name,ts_ms,snapshot,db,sequence,ts_us,ts_ns,"
                                 "schema,table,txId,lsn,xmin");
    CHECK_STR(key_order(member(payload, "after")), "id,name");

    json_t *v = parse(r.value[0]);
    CHECK(v != NULL);
    json_t *schema = json_object_get(v, "schema");
    json_t *p = json_object_get(v, "payload");
    CHECK_STR(jstr(schema, "name", NULL), "t.public.tab.Envelope");
    CHECK_INT(jint(schema, "version", NULL), 2);
    CHECK(json_is_false(json_object_get(schema, "optional")));
    json_t *fields = json_object_get(schema, "fields");
    CHECK_INT(json_array_size(fields), 8);
    static const char *const fnames[] = {"before", "after", "source", "transaction",
                                         "op",     "ts_ms", "ts_us",  "ts_ns"};
    for (size_t i = 0; i < 8; i++)
        CHECK_STR(jstr(json_array_get(fields, i), "field", NULL), fnames[i]);
    json_t *before_schema = json_array_get(fields, 0);
    CHECK_STR(jstr(before_schema, "name", NULL), "t.public.tab.Value");
    CHECK(json_is_true(json_object_get(before_schema, "optional")));
    json_t *cols = json_object_get(before_schema, "fields");
    CHECK_INT(json_array_size(cols), 2);
    CHECK_STR(jstr(json_array_get(cols, 0), "type", NULL), "int32");
    CHECK_STR(jstr(json_array_get(cols, 0), "field", NULL), "id");
    CHECK(json_is_false(json_object_get(json_array_get(cols, 0), "optional")));
    CHECK_STR(jstr(json_array_get(cols, 1), "type", NULL), "string");
    CHECK_STR(jstr(json_array_get(cols, 1), "field", NULL), "name");
    CHECK(json_is_true(json_object_get(json_array_get(cols, 1), "optional")));
    CHECK_STR(jstr(json_array_get(fields, 2), "name", NULL),
              "io.debezium.connector.postgresql.Source");
    CHECK_INT(json_array_size(json_object_get(json_array_get(fields, 2), "fields")), 14);

    CHECK(json_is_null(json_object_get(p, "before")));
    CHECK_INT(jint(p, "after", "id"), 1);
    CHECK_STR(jstr(p, "after", "name"), "alice");
    CHECK(json_is_null(json_object_get(p, "transaction")));
    CHECK_STR(jstr(p, "op", NULL), "c");
    CHECK(jint(p, "ts_ms", NULL) > 1600000000000LL);
    CHECK(jint(p, "ts_us", NULL) / 1000 == jint(p, "ts_ms", NULL));
    CHECK(jint(p, "ts_ns", NULL) == jint(p, "ts_us", NULL) * 1000);
    json_t *src = json_object_get(p, "source");
    CHECK(json_is_string(json_object_get(src, "version")));
    CHECK_STR(jstr(src, "connector", NULL), "postgresql");
    CHECK_STR(jstr(src, "name", NULL), "t");
    CHECK_INT(jint(src, "ts_ms", NULL), TS_US / 1000);
    CHECK_STR(jstr(src, "snapshot", NULL), "false");
    CHECK_STR(jstr(src, "db", NULL), "postgres");
    CHECK_STR(jstr(src, "sequence", NULL), "[null,\"4660\"]");
    CHECK_INT(jint(src, "ts_us", NULL), TS_US);
    CHECK_INT(jint(src, "ts_ns", NULL), TS_US * 1000);
    CHECK_STR(jstr(src, "schema", NULL), "public");
    CHECK_STR(jstr(src, "table", NULL), "tab");
    CHECK_INT(jint(src, "txId", NULL), 555);
    CHECK_INT(jint(src, "lsn", NULL), 4660);
    CHECK(json_is_null(json_object_get(src, "xmin")));
    json_decref(v);
    free_recs(&r);
    teardown(&f);
}

static void test_without_schemas(void)
{
    fixture f;
    if (setup(&f, 0, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    pgcdc_value bv[2] = {tv("7"), tv("old")};
    pgcdc_value av[2] = {tv("7"), nullv()};
    pgcdc_row before = {2, bv}, after = {2, av};
    pgcdc_change c = mkchange(&f, 'u', &before, &after);
    c.last_commit_lsn = 0x1000;
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    recs r;
    read_recs(&f.batch, &r);
    CHECK_INT(r.n, 1);
    if (r.n == 1) {
        CHECK_STR(r.key[0], "{\"id\":7}");
        CHECK(r.op[0] == 'u');
        CHECK_STR(key_order(r.value[0]), "before,after,source,transaction,op,ts_ms,ts_us,ts_ns");
        CHECK(strncmp(r.value[0],
                      "{\"before\":{\"id\":7,\"name\":\"old\"},"
                      "\"after\":{\"id\":7,\"name\":null},\"source\":{",
                      strlen("{\"before\":{\"id\":7,\"name\":\"old\"},"
                             "\"after\":{\"id\":7,\"name\":null},\"source\":{")) == 0);
        json_t *v = parse(r.value[0]);
        CHECK(v != NULL);
        CHECK(json_object_get(v, "schema") == NULL);
        CHECK(json_object_get(v, "payload") == NULL);
        CHECK_STR(jstr(v, "op", NULL), "u");
        CHECK_STR(jstr(v, "source", "sequence"), "[\"4096\",\"4660\"]");
        json_decref(v);
    }
    free_recs(&r);

    /* an update without old tuple (REPLICA IDENTITY DEFAULT, key unchanged) */
    pgcdc_batch_reset(&f.batch);
    c = mkchange(&f, 'u', NULL, &after);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    read_recs(&f.batch, &r);
    if (r.n == 1) {
        const char *want = "{\"before\":null,\"after\":{\"id\":7,\"name\":null},";
        CHECK(strncmp(r.value[0], want, strlen(want)) == 0);
        CHECK_STR(r.key[0], "{\"id\":7}");
    }
    free_recs(&r);

    /* a snapshot read */
    pgcdc_batch_reset(&f.batch);
    c = mkchange(&f, 'r', NULL, &after);
    c.snapshot = "true";
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    read_recs(&f.batch, &r);
    if (r.n == 1) {
        json_t *v = parse(r.value[0]);
        CHECK_STR(jstr(v, "op", NULL), "r");
        CHECK_STR(jstr(v, "source", "snapshot"), "true");
        json_decref(v);
        CHECK(r.op[0] == 'r');
    }
    free_recs(&r);
    teardown(&f);
}

static void test_delete_tombstone(void)
{
    for (int tomb = 1; tomb >= 0; tomb--) {
        fixture f;
        if (setup(&f, 1, tomb) != 0) {
            test_current_failed = 1;
            return;
        }
        pgcdc_value bv[2] = {tv("1"), nullv()}; /* REPLICA IDENTITY DEFAULT: key only */
        pgcdc_row before = {2, bv};
        pgcdc_change c = mkchange(&f, 'd', &before, NULL);
        CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), tomb ? 2 : 1);
        CHECK_INT(f.batch.nrecords, tomb ? 2 : 1);
        recs r;
        read_recs(&f.batch, &r);
        CHECK_INT(r.n, tomb ? 2 : 1);
        if (r.n >= 1) {
            CHECK(r.op[0] == 'd');
            json_t *k = parse(r.key[0]);
            CHECK_INT(jint(k, "payload", "id"), 1);
            json_decref(k);
            json_t *v = parse(r.value[0]);
            json_t *p = json_object_get(v, "payload");
            CHECK_STR(jstr(p, "op", NULL), "d");
            CHECK_INT(jint(p, "before", "id"), 1);
            CHECK(json_is_null(json_object_get(json_object_get(p, "before"), "name")));
            CHECK(json_is_null(json_object_get(p, "after")));
            json_decref(v);
        }
        if (tomb && r.n == 2) {
            CHECK_STR(r.topic[1], "t.public.tab");
            CHECK(r.value[1] == NULL);
            CHECK_STR(r.key[1], r.key[0]); /* same key as the delete */
            CHECK(r.op[1] == 'd');
        }
        free_recs(&r);
        teardown(&f);
    }
}

static void test_key_change(void)
{
    fixture f;
    if (setup(&f, 0, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    pgcdc_value bv[2] = {tv("1"), tv("x")};
    pgcdc_value av[2] = {tv("2"), tv("x")};
    pgcdc_row before = {2, bv}, after = {2, av};
    pgcdc_change c = mkchange(&f, 'u', &before, &after);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 3);
    recs r;
    read_recs(&f.batch, &r);
    CHECK_INT(r.n, 3);
    if (r.n == 3) {
        CHECK(r.op[0] == 'd');
        CHECK_STR(r.key[0], "{\"id\":1}");
        json_t *v = parse(r.value[0]);
        CHECK_STR(jstr(v, "op", NULL), "d");
        CHECK_INT(jint(v, "before", "id"), 1);
        CHECK(json_is_null(json_object_get(v, "after")));
        json_decref(v);

        CHECK(r.op[1] == 'd');
        CHECK_STR(r.key[1], "{\"id\":1}");
        CHECK(r.value[1] == NULL);

        CHECK(r.op[2] == 'c');
        CHECK_STR(r.key[2], "{\"id\":2}");
        v = parse(r.value[2]);
        CHECK_STR(jstr(v, "op", NULL), "c");
        CHECK(json_is_null(json_object_get(v, "before")));
        CHECK_INT(jint(v, "after", "id"), 2);
        CHECK_STR(jstr(v, "after", "name"), "x");
        json_decref(v);
    }
    free_recs(&r);

    /* the same update with tombstones off: d, c */
    teardown(&f);
    if (setup(&f, 0, 0) != 0) {
        test_current_failed = 1;
        return;
    }
    c = mkchange(&f, 'u', &before, &after);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 2);
    read_recs(&f.batch, &r);
    CHECK_INT(r.n, 2);
    if (r.n == 2) {
        CHECK(r.op[0] == 'd' && r.value[0] != NULL);
        CHECK(r.op[1] == 'c');
    }
    free_recs(&r);

    /* an old tuple with the same key is an ordinary update */
    pgcdc_batch_reset(&f.batch);
    pgcdc_value bv2[2] = {tv("2"), tv("before")};
    pgcdc_row before2 = {2, bv2};
    c = mkchange(&f, 'u', &before2, &after);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    read_recs(&f.batch, &r);
    CHECK(r.n == 1 && r.op[0] == 'u');
    free_recs(&r);
    teardown(&f);
}

static void test_escaping(void)
{
    fixture f;
    if (setup(&f, 1, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    const char *name = "he said \"hi\"\n\\ caf\xC3\xA9 \xF0\x9F\x98\x80 \x01/";
    pgcdc_value av[2] = {tv("42"), tv(name)};
    pgcdc_row after = {2, av};
    pgcdc_change c = mkchange(&f, 'c', NULL, &after);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    recs r;
    read_recs(&f.batch, &r);
    if (r.n == 1) {
        CHECK(strstr(r.value[0], "\"name\":\"he said \\\"hi\\\"\\n\\\\ caf\xC3\xA9 "
                                 "\xF0\x9F\x98\x80 \\u0001/\"") != NULL);
        json_t *v = parse(r.value[0]);
        CHECK(v != NULL);
        CHECK_STR(jstr(json_object_get(v, "payload"), "after", "name"), name);
        json_decref(v);
    }
    free_recs(&r);
    teardown(&f);
}

static void test_unchanged_toast(void)
{
    fixture f;
    if (setup(&f, 0, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    pgcdc_value av[2] = {tv("3"), {'u', 0, NULL}};
    pgcdc_row after = {2, av};
    pgcdc_change c = mkchange(&f, 'u', NULL, &after);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    recs r;
    read_recs(&f.batch, &r);
    if (r.n == 1) {
        json_t *v = parse(r.value[0]);
        CHECK_STR(jstr(v, "after", "name"), "__debezium_unavailable_value");
        CHECK_INT(jint(v, "after", "id"), 3);
        json_decref(v);
    }
    free_recs(&r);
    teardown(&f);
}

static void test_truncate_and_message(void)
{
    fixture f;
    if (setup(&f, 1, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    pgcdc_change c = mkchange(&f, 't', NULL, NULL);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    pgcdc_change m = mkchange(&f, 'm', NULL, NULL);
    m.table = NULL;
    m.msg_prefix = "pfx";
    m.msg_content = "hello";
    m.msg_len = 5;
    m.msg_transactional = 1;
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &m, err, sizeof(err)), 1);
    recs r;
    read_recs(&f.batch, &r);
    CHECK_INT(r.n, 2);
    if (r.n == 2) {
        CHECK(r.op[0] == 't');
        CHECK_STR(r.topic[0], "t.public.tab");
        CHECK(r.key[0] == NULL);
        json_t *v = parse(r.value[0]);
        json_t *p = json_object_get(v, "payload");
        CHECK_STR(jstr(p, "op", NULL), "t");
        CHECK(json_is_null(json_object_get(p, "before")));
        CHECK(json_is_null(json_object_get(p, "after")));
        CHECK_STR(jstr(p, "source", "table"), "tab");
        json_decref(v);
        CHECK_STR(key_order(member(r.value[0], "payload")),
                  "before,after,source,transaction,op,ts_ms,ts_us,ts_ns");

        CHECK(r.op[1] == 'm');
        CHECK_STR(r.topic[1], "t.message");
        json_t *k = parse(r.key[1]);
        CHECK_STR(jstr(k, "payload", "prefix"), "pfx");
        json_decref(k);
        v = parse(r.value[1]);
        p = json_object_get(v, "payload");
        CHECK_STR(jstr(p, "op", NULL), "m");
        CHECK_STR(jstr(p, "message", "prefix"), "pfx");
        CHECK_STR(jstr(p, "message", "content"), "aGVsbG8=");
        json_decref(v);
    }
    free_recs(&r);
    teardown(&f);
}

/* A schema change naming a captured table (altered), a dropped captured
 * table and a table outside the filters. */
static void mk_schema_change(pgcdc_schema_change *sc, pgcdc_ddl_table *tabs, pgcdc_ddl_column *cols)
{
    static const char *pk[] = {"id"};
    static const char *labels[] = {"sad", "happy"};
    memset(sc, 0, sizeof(*sc));
    memset(tabs, 0, 3 * sizeof(*tabs));
    memset(cols, 0, 4 * sizeof(*cols));
    cols[0] = (pgcdc_ddl_column){.name = "id",
                                 .type_name = "int4",
                                 .type_oid = 23,
                                 .typmod = -1,
                                 .typtype = 'b',
                                 .position = 1,
                                 .not_null = 1,
                                 .default_expr = "nextval('t_id_seq'::regclass)",
                                 .included = 1};
    cols[1] = (pgcdc_ddl_column){.name = "secret",
                                 .type_name = "text",
                                 .type_oid = 25,
                                 .typmod = -1,
                                 .typtype = 'b',
                                 .position = 2,
                                 .included = 0};
    cols[2] = (pgcdc_ddl_column){.name = "price",
                                 .type_name = "numeric",
                                 .type_oid = 1700,
                                 .typmod = (10 << 16 | 2) + 4,
                                 .typtype = 'b',
                                 .position = 3,
                                 .comment = "in \"EUR\"",
                                 .included = 1};
    cols[3] = (pgcdc_ddl_column){.name = "mood",
                                 .type_name = "mood",
                                 .type_oid = 16400,
                                 .typmod = -1,
                                 .typtype = 'e',
                                 .position = 4,
                                 .enum_labels = labels,
                                 .nenum = 2,
                                 .included = 1};
    tabs[0] = (pgcdc_ddl_table){.change = "ALTER",
                                .relid = 16384,
                                .schema = "public",
                                .name = "tab",
                                .described = 1,
                                .pk = pk,
                                .npk = 1,
                                .cols = cols,
                                .ncols = 4,
                                .captured = 1};
    tabs[1] = (pgcdc_ddl_table){
        .change = "DROP", .relid = 16390, .schema = "public", .name = "old", .captured = 1};
    tabs[2] = (pgcdc_ddl_table){
        .change = "DROP", .relid = 16391, .schema = "other", .name = "x", .captured = 0};
    sc->ddl = "ALTER TABLE tab ADD COLUMN mood mood; DROP TABLE old, other.x";
    sc->tag = "ALTER TABLE";
    sc->tables = tabs;
    sc->ntables = 3;
}

static void test_schema_change(void)
{
    for (int schemas = 1; schemas >= 0; schemas--) {
        fixture f;
        if (setup(&f, schemas, 1) != 0) {
            test_current_failed = 1;
            return;
        }
        pgcdc_schema_change sc;
        pgcdc_ddl_table tabs[3];
        pgcdc_ddl_column cols[4];
        mk_schema_change(&sc, tabs, cols);
        pgcdc_change c = mkchange(&f, 's', NULL, NULL);
        c.table = NULL;
        c.snapshot = "false";
        c.schema_change = &sc;
        CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
        /* nothing captured: no record */
        tabs[0].captured = tabs[1].captured = 0;
        CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 0);
        recs r;
        read_recs(&f.batch, &r);
        CHECK_INT(r.n, 1);
        if (r.n != 1) {
            free_recs(&r);
            teardown(&f);
            return;
        }
        CHECK(r.op[0] == 's');
        CHECK_STR(r.topic[0], "t");
        CHECK_INT(r.pos[0].index, 1);
        json_t *k = parse(r.key[0]), *v = parse(r.value[0]);
        json_t *kp = schemas ? json_object_get(k, "payload") : k;
        json_t *p = schemas ? json_object_get(v, "payload") : v;
        CHECK_STR(jstr(kp, "databaseName", NULL), "postgres");
        if (schemas) {
            CHECK_STR(jstr(k, "schema", "name"),
                      "io.debezium.connector.postgresql.SchemaChangeKey");
            CHECK_STR(jstr(v, "schema", "name"),
                      "io.debezium.connector.postgresql.SchemaChangeValue");
            CHECK_STR(key_order(r.value[0]), "schema,payload");
            /* every payload field is described, in order */
            json_t *fields = json_object_get(json_object_get(v, "schema"), "fields");
            const char *names[] = {"source",     "ts_ms", "databaseName",
                                   "schemaName", "ddl",   "tableChanges"};
            CHECK_INT(json_array_size(fields), 6);
            for (size_t i = 0; i < 6 && i < json_array_size(fields); i++)
                CHECK_STR(jstr(json_array_get(fields, i), "field", NULL), names[i]);
        } else {
            CHECK_STR(key_order(r.key[0]), "databaseName");
        }
        const char *raw = schemas ? member(r.value[0], "payload") : r.value[0];
        CHECK_STR(key_order(raw), "source,ts_ms,databaseName,schemaName,ddl,tableChanges");
        CHECK_INT(jint(p, "ts_ms", NULL), TS_US / 1000);
        CHECK_STR(jstr(p, "databaseName", NULL), "postgres");
        CHECK_STR(jstr(p, "schemaName", NULL), "public");
        CHECK_STR(jstr(p, "ddl", NULL), sc.ddl);
        CHECK_STR(jstr(p, "source", "schema"), "public");
        CHECK_STR(jstr(p, "source", "table"), "tab,old");
        CHECK_INT(jint(p, "source", "txId"), 555);
        CHECK_INT(jint(p, "source", "lsn"), 0x1234);

        json_t *changes = json_object_get(p, "tableChanges");
        CHECK_INT(json_array_size(changes), 2);
        json_t *ch0 = json_array_get(changes, 0), *ch1 = json_array_get(changes, 1);
        CHECK_STR(jstr(ch0, "type", NULL), "ALTER");
        CHECK_STR(jstr(ch0, "id", NULL), "\"postgres\".\"public\".\"tab\"");
        CHECK_STR(jstr(ch1, "type", NULL), "DROP");
        CHECK_STR(jstr(ch1, "id", NULL), "\"postgres\".\"public\".\"old\"");
        CHECK(json_is_null(json_object_get(ch1, "table")));
        json_t *tab = json_object_get(ch0, "table");
        CHECK(json_is_null(json_object_get(tab, "defaultCharsetName")));
        CHECK_STR(
            json_string_value(json_array_get(json_object_get(tab, "primaryKeyColumnNames"), 0)),
            "id");
        json_t *cl = json_object_get(tab, "columns");
        CHECK_INT(json_array_size(cl), 3); /* "secret" is excluded */
        json_t *id = json_array_get(cl, 0), *price = json_array_get(cl, 1),
               *mood = json_array_get(cl, 2);
        CHECK_STR(jstr(id, "typeName", NULL), "serial");
        CHECK_INT(jint(id, "jdbcType", NULL), 4);
        CHECK_INT(jint(id, "nativeType", NULL), 23);
        CHECK_INT(jint(id, "length", NULL), 10);
        CHECK(json_is_false(json_object_get(id, "optional")));
        CHECK(json_is_true(json_object_get(id, "autoIncremented")));
        CHECK_STR(jstr(price, "name", NULL), "price");
        CHECK_INT(jint(price, "position", NULL), 3);
        CHECK_INT(jint(price, "jdbcType", NULL), 2);
        CHECK_INT(jint(price, "length", NULL), 10);
        CHECK_INT(jint(price, "scale", NULL), 2);
        CHECK_STR(jstr(price, "comment", NULL), "in \"EUR\"");
        CHECK(json_is_true(json_object_get(price, "optional")));
        CHECK(json_is_null(json_object_get(price, "enumValues")));
        CHECK_INT(jint(mood, "jdbcType", NULL), 12);
        CHECK_INT(json_array_size(json_object_get(mood, "enumValues")), 2);
        CHECK_STR(key_order(strstr(raw, "{\"name\":\"id\"")),
                  "name,jdbcType,nativeType,typeName,typeExpression,charsetName,length,scale,"
                  "position,optional,autoIncremented,generated,comment,defaultValueExpression,"
                  "enumValues");
        json_decref(k);
        json_decref(v);
        free_recs(&r);
        teardown(&f);
    }
}

static void test_conversion_error(void)
{
    fixture f;
    if (setup(&f, 1, 1) != 0) {
        test_current_failed = 1;
        return;
    }
    /* one good record first, so "unchanged" is not just "empty" */
    pgcdc_value ok[2] = {tv("1"), tv("a")};
    pgcdc_row okrow = {2, ok};
    pgcdc_change c = mkchange(&f, 'c', NULL, &okrow);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    size_t len = f.batch.data.len;
    uint32_t n = f.batch.nrecords;
    char *snapshot = malloc(len);
    memcpy(snapshot, f.batch.data.data, len);

    pgcdc_value bad[2] = {tv("abc"), tv("a")};
    pgcdc_row badrow = {2, bad};
    static const char ops[] = {'c', 'u', 'd', 'r'};
    for (size_t i = 0; i < sizeof(ops); i++) {
        c = mkchange(&f, ops[i], ops[i] == 'd' ? &badrow : NULL, ops[i] == 'd' ? NULL : &badrow);
        err[0] = 0;
        CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), -1);
        CHECK(err[0] != 0);
        CHECK(strstr(err, "id") != NULL);
        CHECK_INT(f.batch.data.len, len);
        CHECK_INT(f.batch.nrecords, n);
    }
    /* key change whose new key fails after the delete and tombstone were
     * written: everything is rolled back */
    c = mkchange(&f, 'u', &okrow, &badrow);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), -1);
    CHECK_INT(f.batch.data.len, len);
    CHECK_INT(f.batch.nrecords, n);
    /* a bad non-key column */
    pgcdc_value bad2[2] = {tv("5"), {'b', 1, "x"}};
    pgcdc_row badrow2 = {2, bad2};
    c = mkchange(&f, 'c', NULL, &badrow2);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), -1);
    CHECK_INT(f.batch.data.len, len);
    CHECK_INT(f.batch.nrecords, n);
    /* unknown op */
    c = mkchange(&f, 'x', NULL, &okrow);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), -1);
    CHECK_INT(f.batch.data.len, len);

    CHECK(memcmp(snapshot, f.batch.data.data, len) == 0);
    free(snapshot);
    /* the batch is still usable */
    recs r;
    c = mkchange(&f, 'c', NULL, &okrow);
    CHECK_INT(pgcdc_debezium_encode(&f.enc, &f.batch, &c, err, sizeof(err)), 1);
    read_recs(&f.batch, &r);
    CHECK_INT(r.n, 2);
    if (r.n == 2) {
        json_t *v0 = parse(r.value[0]), *v1 = parse(r.value[1]);
        CHECK(v0 != NULL && v1 != NULL);
        json_decref(v0);
        json_decref(v1);
    }
    free_recs(&r);
    teardown(&f);
}

int main(void)
{
    TEST_RUN(test_topic);
    TEST_RUN(test_create_with_schemas);
    TEST_RUN(test_without_schemas);
    TEST_RUN(test_delete_tombstone);
    TEST_RUN(test_key_change);
    TEST_RUN(test_escaping);
    TEST_RUN(test_unchanged_toast);
    TEST_RUN(test_truncate_and_message);
    TEST_RUN(test_schema_change);
    TEST_RUN(test_conversion_error);
    TEST_DONE();
}
