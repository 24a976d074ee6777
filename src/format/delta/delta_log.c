/*
 * delta_log.c - Delta Lake commit text: action writers and the log reader.
 *
 * The writers append compact JSON with the project's JSON writer; the
 * reader parses each action line with jansson (the log is read once when a
 * sink opens a table, never on the hot path) and keeps what a writer needs:
 * the protocol, the schema, the partition columns, the txn versions and the
 * set of live files.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "format/delta/delta_log.h"
#include "format/json.h"

/* ---------- writing ---------- */

void pgcdc_delta_schema_string(pgcdc_buf *out, const pgcdc_delta_field *fields, size_t nfields)
{
    PGCDC_BUF_LIT(out, "{\"type\":\"struct\",\"fields\":[");
    for (size_t i = 0; i < nfields; i++) {
        if (i)
            pgcdc_buf_putc(out, ',');
        PGCDC_BUF_LIT(out, "{\"name\":");
        pgcdc_json_cstr(out, fields[i].name);
        PGCDC_BUF_LIT(out, ",\"type\":");
        pgcdc_json_cstr(out, fields[i].type);
        PGCDC_BUF_LIT(out, ",\"nullable\":");
        if (fields[i].nullable)
            PGCDC_BUF_LIT(out, "true");
        else
            PGCDC_BUF_LIT(out, "false");
        PGCDC_BUF_LIT(out, ",\"metadata\":{}}");
    }
    PGCDC_BUF_LIT(out, "]}");
}

int pgcdc_delta_schema_needs_ntz(const pgcdc_delta_field *fields, size_t nfields)
{
    for (size_t i = 0; i < nfields; i++)
        if (!strcmp(fields[i].type, "timestamp_ntz"))
            return 1;
    return 0;
}

/* Writer version 7 lists every writer feature: appendOnly and invariants
 * are the ones writer version 2 implies, and Spark counts NOT NULL columns
 * as invariants, so a table that lacks them in the list is refused. */
void pgcdc_delta_put_protocol(pgcdc_buf *b, int timestamp_ntz)
{
    if (timestamp_ntz)
        PGCDC_BUF_LIT(b, "{\"protocol\":{\"minReaderVersion\":3,\"minWriterVersion\":7,"
                         "\"readerFeatures\":[\"timestampNtz\"],"
                         "\"writerFeatures\":[\"appendOnly\",\"invariants\","
                         "\"timestampNtz\"]}}\n");
    else
        PGCDC_BUF_LIT(b, "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n");
}

static void put_kv_object(pgcdc_buf *b, const pgcdc_delta_kv *kv, size_t n)
{
    pgcdc_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            pgcdc_buf_putc(b, ',');
        pgcdc_json_cstr(b, kv[i].key);
        pgcdc_buf_putc(b, ':');
        if (kv[i].value)
            pgcdc_json_cstr(b, kv[i].value);
        else
            PGCDC_BUF_LIT(b, "null");
    }
    pgcdc_buf_putc(b, '}');
}

void pgcdc_delta_put_metadata(pgcdc_buf *b, const pgcdc_delta_metadata *md)
{
    PGCDC_BUF_LIT(b, "{\"metaData\":{\"id\":");
    pgcdc_json_cstr(b, md->id);
    if (md->name) {
        PGCDC_BUF_LIT(b, ",\"name\":");
        pgcdc_json_cstr(b, md->name);
    }
    PGCDC_BUF_LIT(b, ",\"format\":{\"provider\":\"parquet\",\"options\":{}},\"schemaString\":");
    pgcdc_json_cstr(b, md->schema_string);
    PGCDC_BUF_LIT(b, ",\"partitionColumns\":[");
    for (size_t i = 0; i < md->npartition_columns; i++) {
        if (i)
            pgcdc_buf_putc(b, ',');
        pgcdc_json_cstr(b, md->partition_columns[i]);
    }
    PGCDC_BUF_LIT(b, "],\"configuration\":");
    put_kv_object(b, md->configuration, md->nconfiguration);
    PGCDC_BUF_LIT(b, ",\"createdTime\":");
    pgcdc_buf_put_i64(b, md->created_ms);
    PGCDC_BUF_LIT(b, "}}\n");
}

/* Delta paths are relative URIs: everything but unreserved characters and
 * the separators a partitioned path uses is percent-encoded. */
static void put_path(pgcdc_buf *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    pgcdc_buf enc = PGCDC_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '=') {
            pgcdc_buf_putc(&enc, (char)c);
        } else {
            pgcdc_buf_putc(&enc, '%');
            pgcdc_buf_putc(&enc, hex[c >> 4]);
            pgcdc_buf_putc(&enc, hex[c & 15]);
        }
    }
    pgcdc_json_str(b, enc.data ? enc.data : "", enc.len);
    pgcdc_buf_free(&enc);
}

static void put_file_common(pgcdc_buf *b, const pgcdc_delta_file *f)
{
    PGCDC_BUF_LIT(b, "{\"path\":");
    put_path(b, f->path);
    PGCDC_BUF_LIT(b, ",\"partitionValues\":");
    put_kv_object(b, f->partition_values, f->npartition_values);
    PGCDC_BUF_LIT(b, ",\"size\":");
    pgcdc_buf_put_i64(b, f->size);
}

void pgcdc_delta_put_add(pgcdc_buf *b, const pgcdc_delta_file *f, int64_t mtime_ms, int data_change,
                         const char *stats_json)
{
    PGCDC_BUF_LIT(b, "{\"add\":");
    put_file_common(b, f);
    PGCDC_BUF_LIT(b, ",\"modificationTime\":");
    pgcdc_buf_put_i64(b, mtime_ms);
    if (data_change)
        PGCDC_BUF_LIT(b, ",\"dataChange\":true");
    else
        PGCDC_BUF_LIT(b, ",\"dataChange\":false");
    if (stats_json) {
        PGCDC_BUF_LIT(b, ",\"stats\":");
        pgcdc_json_cstr(b, stats_json);
    }
    PGCDC_BUF_LIT(b, "}}\n");
}

void pgcdc_delta_put_remove(pgcdc_buf *b, const pgcdc_delta_file *f, int64_t deletion_ms,
                            int data_change)
{
    PGCDC_BUF_LIT(b, "{\"remove\":");
    put_file_common(b, f);
    PGCDC_BUF_LIT(b, ",\"deletionTimestamp\":");
    pgcdc_buf_put_i64(b, deletion_ms);
    if (data_change)
        PGCDC_BUF_LIT(b, ",\"dataChange\":true");
    else
        PGCDC_BUF_LIT(b, ",\"dataChange\":false");
    PGCDC_BUF_LIT(b, ",\"extendedFileMetadata\":true}}\n");
}

void pgcdc_delta_put_txn(pgcdc_buf *b, const char *app_id, int64_t version, int64_t last_updated_ms)
{
    PGCDC_BUF_LIT(b, "{\"txn\":{\"appId\":");
    pgcdc_json_cstr(b, app_id);
    PGCDC_BUF_LIT(b, ",\"version\":");
    pgcdc_buf_put_i64(b, version);
    PGCDC_BUF_LIT(b, ",\"lastUpdated\":");
    pgcdc_buf_put_i64(b, last_updated_ms);
    PGCDC_BUF_LIT(b, "}}\n");
}

void pgcdc_delta_put_commit_info(pgcdc_buf *b, int64_t ts_ms, const char *operation,
                                 int64_t read_version, int blind_append)
{
    PGCDC_BUF_LIT(b, "{\"commitInfo\":{\"timestamp\":");
    pgcdc_buf_put_i64(b, ts_ms);
    PGCDC_BUF_LIT(b, ",\"operation\":");
    pgcdc_json_cstr(b, operation);
    PGCDC_BUF_LIT(b, ",\"operationParameters\":{}");
    if (read_version >= 0) {
        PGCDC_BUF_LIT(b, ",\"readVersion\":");
        pgcdc_buf_put_i64(b, read_version);
    }
    if (blind_append)
        PGCDC_BUF_LIT(b, ",\"isBlindAppend\":true");
    else
        PGCDC_BUF_LIT(b, ",\"isBlindAppend\":false");
    PGCDC_BUF_LIT(b, ",\"engineInfo\":\"pgcdc/" PGCDC_VERSION "\"}}\n");
}

void pgcdc_delta_new_id(char out[37])
{
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(b, 1, sizeof(b), f) != sizeof(b)) {
        /* no /dev/urandom: the clocks, spread by an LCG, are unique enough */
        uint64_t x = (uint64_t)pgcdc_wall_us() ^ ((uint64_t)pgcdc_mono_us() << 20);
        for (int i = 0; i < 16; i++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
            b[i] = (unsigned char)(x >> 56);
    }
    if (f)
        fclose(f);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void pgcdc_delta_log_name(char *out, size_t out_size, int64_t version)
{
    snprintf(out, out_size, "_delta_log/%020" PRId64 ".json", version);
}

int64_t pgcdc_delta_log_version(const char *name)
{
    /* exactly 20 digits then ".json" */
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return strcmp(name + 20, ".json") ? -1 : v;
}

/* ---------- reading ---------- */

void pgcdc_delta_state_init(pgcdc_delta_state *st)
{
    memset(st, 0, sizeof(*st));
    st->version = -1;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void pgcdc_delta_state_free(pgcdc_delta_state *st)
{
    free(st->table_id);
    free(st->schema_string);
    free(st->configuration);
    free_strv(st->partition_columns, st->npartition_columns);
    for (size_t i = 0; i < st->ntxns; i++)
        free(st->txns[i].app_id);
    free(st->txns);
    for (size_t i = 0; i < st->files_cap; i++) {
        free(st->files[i].path);
        free(st->files[i].partition_json);
    }
    free(st->files);
    pgcdc_delta_state_init(st);
}

/* FNV-1a: paths are short and the set is rebuilt only when a table opens. */
static size_t path_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static size_t file_slot(const pgcdc_delta_state *st, const char *path)
{
    size_t mask = st->files_cap - 1, i = path_hash(path) & mask;
    while (st->files[i].path && strcmp(st->files[i].path, path))
        i = (i + 1) & mask;
    return i;
}

const pgcdc_delta_live_file *pgcdc_delta_state_file(const pgcdc_delta_state *st, const char *path)
{
    if (!st->files_cap)
        return NULL;
    size_t i = file_slot(st, path);
    return st->files[i].path ? &st->files[i] : NULL;
}

static int files_grow(pgcdc_delta_state *st)
{
    size_t cap = st->files_cap ? st->files_cap * 2 : 64;
    pgcdc_delta_live_file *old = st->files;
    size_t old_cap = st->files_cap;
    st->files = calloc(cap, sizeof(*st->files));
    if (!st->files) {
        st->files = old;
        return -1;
    }
    st->files_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].path)
            st->files[file_slot(st, old[i].path)] = old[i];
    free(old);
    return 0;
}

/* Takes ownership of path and partition_json. */
static int files_add(pgcdc_delta_state *st, char *path, char *partition_json, int64_t size)
{
    if ((st->nfiles + 1) * 4 > st->files_cap * 3 && files_grow(st) != 0) {
        free(path);
        free(partition_json);
        return -1;
    }
    size_t i = file_slot(st, path);
    if (st->files[i].path) { /* re-added: the later action wins */
        free(st->files[i].path);
        free(st->files[i].partition_json);
    } else {
        st->nfiles++;
    }
    st->files[i] = (pgcdc_delta_live_file){path, partition_json, size};
    return 0;
}

/* Linear probing deletion: shift later members of the cluster back so
 * lookups never stop at a hole that used to hold their predecessor. */
static void files_remove(pgcdc_delta_state *st, const char *path)
{
    if (!st->files_cap)
        return;
    size_t mask = st->files_cap - 1, i = file_slot(st, path);
    if (!st->files[i].path)
        return;
    free(st->files[i].path);
    free(st->files[i].partition_json);
    st->files[i] = (pgcdc_delta_live_file){0};
    st->nfiles--;
    for (size_t j = (i + 1) & mask; st->files[j].path; j = (j + 1) & mask) {
        size_t home = path_hash(st->files[j].path) & mask;
        /* j's entry may move to the hole at i if its home is not in (i, j] */
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            st->files[i] = st->files[j];
            st->files[j] = (pgcdc_delta_live_file){0};
            i = j;
        }
    }
}

/* Percent-decodes a Delta path; NULL on a malformed escape or no memory. */
char *pgcdc_delta_path_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int a = i + 2 < n ? pgcdc_hex_digit(s[i + 1]) : -1,
                c = i + 2 < n ? pgcdc_hex_digit(s[i + 2]) : -1;
            if (a < 0 || c < 0) {
                free(out);
                return NULL;
            }
            *o++ = (char)(a * 16 + c);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = 0;
    return out;
}

static const char *const reader_features_ok[] = {"timestampNtz", NULL};
static const char *const writer_features_ok[] = {"timestampNtz", "appendOnly", "invariants", NULL};

static int feature_ok(const char *f, const char *const *ok)
{
    for (; *ok; ok++)
        if (!strcmp(f, *ok))
            return 1;
    return 0;
}

static int check_features(json_t *list, const char *const *ok, const char *kind, char *errstr,
                          size_t errstr_size)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        const char *f = json_string_value(v);
        if (!f || !feature_ok(f, ok)) {
            snprintf(errstr, errstr_size,
                     "the table uses the Delta %s feature '%s', which pgcdc does not support: "
                     "write to a table pgcdc created, or a new location",
                     kind, f ? f : "?");
            return -1;
        }
    }
    return 0;
}

static int apply_protocol(pgcdc_delta_state *st, json_t *p, char *errstr, size_t errstr_size)
{
    int r = (int)json_integer_value(json_object_get(p, "minReaderVersion"));
    int w = (int)json_integer_value(json_object_get(p, "minWriterVersion"));
    /* Legacy reader version 2 is column mapping; writer 3-6 add constraints,
     * generated and identity columns, change data feed: all need a writer's
     * cooperation pgcdc does not give. Version 3/7 list their features. */
    if (r < 1 || r == 2 || r > 3 || w < 1 || (w > 2 && w != 7)) {
        snprintf(errstr, errstr_size,
                 "the table needs Delta protocol reader %d / writer %d; pgcdc writes tables of "
                 "reader 1 / writer 2, or 3 / 7 with the timestampNtz feature only",
                 r, w);
        return -1;
    }
    if (r == 3 && check_features(json_object_get(p, "readerFeatures"), reader_features_ok, "reader",
                                 errstr, errstr_size) != 0)
        return -1;
    if (w == 7 && check_features(json_object_get(p, "writerFeatures"), writer_features_ok, "writer",
                                 errstr, errstr_size) != 0)
        return -1;
    st->min_reader_version = r;
    st->min_writer_version = w;
    return 0;
}

static int apply_metadata(pgcdc_delta_state *st, json_t *md, char *errstr, size_t errstr_size)
{
    const char *id = json_string_value(json_object_get(md, "id"));
    const char *schema = json_string_value(json_object_get(md, "schemaString"));
    json_t *parts = json_object_get(md, "partitionColumns");
    if (!id || !schema || !json_is_array(parts)) {
        snprintf(errstr, errstr_size,
                 "metaData action without id, schemaString or "
                 "partitionColumns");
        return -1;
    }
    const char *cm = json_string_value(
        json_object_get(json_object_get(md, "configuration"), "delta.columnMapping.mode"));
    if (cm && strcmp(cm, "none")) {
        snprintf(errstr, errstr_size,
                 "the table uses Delta column mapping (mode '%s'), which pgcdc does not support",
                 cm);
        return -1;
    }
    size_t n = json_array_size(parts);
    char **cols = calloc(n ? n : 1, sizeof(*cols));
    char *nid = strdup(id), *nschema = strdup(schema);
    json_t *conf = json_object_get(md, "configuration");
    char *nconf =
        json_is_object(conf) ? json_dumps(conf, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    int ok = cols && nid && nschema && nconf;
    for (size_t i = 0; ok && i < n; i++) {
        const char *c = json_string_value(json_array_get(parts, i));
        ok = c && (cols[i] = strdup(c)) != NULL;
    }
    if (!ok) {
        free_strv(cols, n);
        free(nid);
        free(nschema);
        free(nconf);
        snprintf(errstr, errstr_size, "metaData action: bad partitionColumns or out of memory");
        return -1;
    }
    free(st->table_id);
    free(st->schema_string);
    free(st->configuration);
    free_strv(st->partition_columns, st->npartition_columns);
    st->configuration = nconf;
    st->table_id = nid;
    st->schema_string = nschema;
    st->partition_columns = cols;
    st->npartition_columns = n;
    return 0;
}

static int apply_txn(pgcdc_delta_state *st, json_t *t, char *errstr, size_t errstr_size)
{
    const char *app = json_string_value(json_object_get(t, "appId"));
    json_t *v = json_object_get(t, "version");
    if (!app || !json_is_integer(v)) {
        snprintf(errstr, errstr_size, "txn action without appId or version");
        return -1;
    }
    for (size_t i = 0; i < st->ntxns; i++)
        if (!strcmp(st->txns[i].app_id, app)) {
            st->txns[i].version = json_integer_value(v);
            return 0;
        }
    pgcdc_delta_txn *n = realloc(st->txns, (st->ntxns + 1) * sizeof(*n));
    char *a = strdup(app);
    if (!n || !a) {
        free(a);
        if (n)
            st->txns = n;
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    st->txns = n;
    st->txns[st->ntxns++] = (pgcdc_delta_txn){a, json_integer_value(v)};
    return 0;
}

static int apply_file(pgcdc_delta_state *st, json_t *f, int add, char *errstr, size_t errstr_size)
{
    const char *p = json_string_value(json_object_get(f, "path"));
    char *path = p ? pgcdc_delta_path_decode(p) : NULL;
    if (!path) {
        snprintf(errstr, errstr_size, "%s action with a missing or malformed path",
                 add ? "add" : "remove");
        return -1;
    }
    if (!add) {
        files_remove(st, path);
        free(path);
        return 0;
    }
    json_t *pv = json_object_get(f, "partitionValues");
    char *pj = json_is_object(pv) ? json_dumps(pv, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    if (!pj || files_add(st, path, pj, json_integer_value(json_object_get(f, "size"))) != 0) {
        if (!pj)
            free(path);
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    return 0;
}

static int apply_action(pgcdc_delta_state *st, json_t *a, char *errstr, size_t errstr_size)
{
    json_t *v;
    if ((v = json_object_get(a, "protocol")))
        return apply_protocol(st, v, errstr, errstr_size);
    if ((v = json_object_get(a, "metaData")))
        return apply_metadata(st, v, errstr, errstr_size);
    if ((v = json_object_get(a, "add")))
        return apply_file(st, v, 1, errstr, errstr_size);
    if ((v = json_object_get(a, "remove")))
        return apply_file(st, v, 0, errstr, errstr_size);
    if ((v = json_object_get(a, "txn")))
        return apply_txn(st, v, errstr, errstr_size);
    /* commitInfo, cdc, domainMetadata...: nothing a writer keeps */
    return 0;
}

int pgcdc_delta_state_apply(pgcdc_delta_state *st, int64_t version, const char *text, size_t len,
                            char *errstr, size_t errstr_size)
{
    char err[512];
    if (version != st->version + 1) {
        snprintf(errstr, errstr_size, "Delta log: commit %" PRId64 " follows %" PRId64, version,
                 st->version);
        return -1;
    }
    size_t off = 0;
    int line = 0;
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
        line++;
        if (n > 0 && !(n == 1 && text[off] == '\r')) {
            json_error_t jerr;
            json_t *a = json_loadb(text + off, n, 0, &jerr);
            if (!json_is_object(a)) {
                snprintf(errstr, errstr_size,
                         "Delta log: commit %" PRId64 " line %d is not a JSON object: %s", version,
                         line, a ? "not an object" : jerr.text);
                json_decref(a);
                return -1;
            }
            int rc = apply_action(st, a, err, sizeof(err));
            json_decref(a);
            if (rc != 0) {
                snprintf(errstr, errstr_size, "Delta log: commit %" PRId64 " line %d: %s", version,
                         line, err);
                return -1;
            }
        }
        off += n + (nl ? 1 : 0);
    }
    st->version = version;
    return 0;
}

int64_t pgcdc_delta_state_txn(const pgcdc_delta_state *st, const char *app_id)
{
    for (size_t i = 0; i < st->ntxns; i++)
        if (!strcmp(st->txns[i].app_id, app_id))
            return st->txns[i].version;
    return -1;
}
