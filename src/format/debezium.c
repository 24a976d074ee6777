/*
 * debezium.c - Debezium change-event encoder (see debezium.h).
 */
#include "format/debezium.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/json.h"
#include "format/pgdefault.h"
#include "format/route.h"

#define PG_EPOCH_OFFSET_US 946684800000000LL /* 2000-01-01 - 1970-01-01 in µs */

static const char source_schema[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
    "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
    "\"parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,"
    "last,false,incremental\"},\"default\":\"false\",\"field\":\"snapshot\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"xmin\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\","
    "\"field\":\"source\"}";

static const char transaction_schema[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],"
    "\"optional\":true,\"name\":\"event.block\",\"version\":1,\"field\":\"transaction\"}";

static const char envelope_tail_schema[] =
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_us\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}";

int pgcdc_debezium_init(pgcdc_debezium *enc, const pgcdc_config *cfg, const char *dbname,
                        char *errstr, size_t errstr_size)
{
    memset(enc, 0, sizeof(*enc));
    char err[512];
    enc->router = pgcdc_router_new(cfg, err, sizeof(err));
    if (!enc->router && err[0]) {
        snprintf(errstr, errstr_size, "config: %s", err);
        return -1;
    }
    enc->cfg = cfg;
    enc->dbname = strdup(dbname);
    PGCDC_BUF_LIT(&enc->source_head, "\"source\":{\"version\":\"" PGCDC_VERSION
                                     "\",\"connector\":\"postgresql\",\"name\":");
    pgcdc_json_cstr(&enc->source_head, cfg->topic_prefix);
    PGCDC_BUF_LIT(&enc->source_head, ",\"ts_ms\":");
    PGCDC_BUF_LIT(&enc->db_part, ",\"db\":");
    pgcdc_json_cstr(&enc->db_part, dbname);
    PGCDC_BUF_LIT(&enc->db_part, ",\"sequence\":");
    pgcdc_buf_puts(&enc->msg_topic, cfg->topic_prefix);
    PGCDC_BUF_LIT(&enc->msg_topic, ".message");
    pgcdc_buf_puts(&enc->heartbeat_topic, cfg->heartbeat_topics_prefix
                                              ? cfg->heartbeat_topics_prefix
                                              : "__debezium-heartbeat");
    pgcdc_buf_putc(&enc->heartbeat_topic, '.');
    pgcdc_buf_puts(&enc->heartbeat_topic, cfg->topic_prefix);
    pgcdc_buf_puts(&enc->txn_topic, cfg->topic_prefix);
    pgcdc_buf_putc(&enc->txn_topic, '.');
    pgcdc_buf_puts(&enc->txn_topic,
                   cfg->topic_transaction ? cfg->topic_transaction : "transaction");
    pgcdc_buf_puts(&enc->ddl_topic, cfg->topic_prefix);
    pgcdc_debezium_route(enc, &enc->ddl_topic);
    pgcdc_debezium_route(enc, &enc->msg_topic);
    pgcdc_debezium_route(enc, &enc->heartbeat_topic);
    pgcdc_debezium_route(enc, &enc->txn_topic);
    return 0;
}

void pgcdc_debezium_free(pgcdc_debezium *enc)
{
    free(enc->dbname);
    pgcdc_buf_free(&enc->source_head);
    pgcdc_buf_free(&enc->db_part);
    pgcdc_buf_free(&enc->msg_topic);
    pgcdc_buf_free(&enc->heartbeat_topic);
    pgcdc_buf_free(&enc->txn_topic);
    pgcdc_buf_free(&enc->ddl_topic);
    pgcdc_router_free(enc->router);
    pgcdc_buf_free(&enc->scratch);
}

static void topic_part(pgcdc_buf *out, const char *s)
{
    for (; *s; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        pgcdc_buf_putc(out, ok ? c : '_');
    }
}

void pgcdc_debezium_topic(const char *prefix, const char *schema, const char *table, pgcdc_buf *out)
{
    pgcdc_buf_reset(out);
    topic_part(out, prefix);
    pgcdc_buf_putc(out, '.');
    topic_part(out, schema);
    pgcdc_buf_putc(out, '.');
    topic_part(out, table);
}

/*
 * Fills t->key_cols: keys follow the primary key's (or message.key.columns')
 * order, which need not be the table's column order (is_key is the 1-based
 * position). -1 with errstr when out of memory or when the positions are not
 * 1..nkeys (the catalog and the filter never give such).
 */
static int prepare_key_cols(pgcdc_table *t, char *errstr, size_t errstr_size)
{
    free(t->key_cols);
    t->key_cols = NULL;
    if (t->nkeys == 0)
        return 0;
    t->key_cols = malloc(sizeof(*t->key_cols) * (size_t)t->nkeys);
    if (!t->key_cols) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    for (int k = 0; k < t->nkeys; k++)
        t->key_cols[k] = -1;
    for (int i = 0; i < t->ncols; i++) {
        int pos = t->cols[i].is_key;
        if (pos > 0 && pos <= t->nkeys)
            t->key_cols[pos - 1] = i;
    }
    for (int k = 0; k < t->nkeys; k++) {
        if (t->key_cols[k] < 0) {
            snprintf(errstr, errstr_size, "%s.%s: no column at position %d of the key", t->schema,
                     t->name, k + 1);
            return -1;
        }
    }
    return 0;
}

static void struct_fields(pgcdc_debezium *enc, pgcdc_buf *out, const pgcdc_table *t, int keys)
{
    int first = 1;
    int n = keys ? t->nkeys : t->ncols;
    for (int k = 0; k < n; k++) {
        int i = keys ? t->key_cols[k] : k;
        if (!keys && !t->cols[i].included)
            continue;
        const pgcdc_column *c = &t->cols[i];
        if (!first)
            pgcdc_buf_putc(out, ',');
        first = 0;
        /* message.key.columns may name nullable columns: Debezium keeps them optional */
        pgcdc_coltype_schema_default(out, &c->type, &enc->cfg->types, c->name, c->optional,
                                     c->default_json, c->default_json_len);
    }
}

/* Precomputes what a null of each column is written as (see write_value). */
static void prepare_null_values(pgcdc_debezium *enc, pgcdc_table *t)
{
    for (int i = 0; i < t->ncols; i++) {
        pgcdc_column *c = &t->cols[i];
        free(c->default_json);
        free(c->zero_json);
        c->default_json = c->zero_json = NULL;
        c->default_json_len = c->zero_json_len = 0;
        pgcdc_buf b = PGCDC_BUF_INIT;
        pgcdc_default_src src = {c->default_expr, c->type_name, c->type_nsp, c->type_is_enum};
        if (pgcdc_coltype_default(&b, &c->type, &enc->cfg->types, &src) == 1) {
            c->default_json = b.data;
            c->default_json_len = b.len;
        } else {
            pgcdc_buf_free(&b);
        }
        pgcdc_buf z = PGCDC_BUF_INIT;
        pgcdc_coltype_zero(&z, &c->type, &enc->cfg->types);
        c->zero_json = z.data;
        c->zero_json_len = z.len;
    }
}

void pgcdc_debezium_route(pgcdc_debezium *enc, pgcdc_buf *topic)
{
    if (!enc->router)
        return;
    pgcdc_buf out = PGCDC_BUF_INIT;
    if (pgcdc_router_apply(enc->router, topic->data, topic->len, &out)) {
        pgcdc_buf_reset(topic);
        pgcdc_buf_append(topic, out.data, out.len);
    }
    pgcdc_buf_free(&out);
}

int pgcdc_debezium_table_prepare(pgcdc_debezium *enc, pgcdc_table *t, char *errstr,
                                 size_t errstr_size)
{
    pgcdc_buf topic = PGCDC_BUF_INIT;
    pgcdc_debezium_topic(enc->cfg->topic_prefix, t->schema, t->name, &topic);
    free(t->topic);
    t->topic = topic.data;
    t->topic_len = topic.len;

    for (int i = 0; i < t->ncols; i++) {
        pgcdc_column *c = &t->cols[i];
        pgcdc_buf n = PGCDC_BUF_INIT;
        pgcdc_json_cstr(&n, c->name);
        pgcdc_buf_putc(&n, ':');
        free(c->json_name);
        c->json_name = n.data;
        c->json_name_len = n.len;
    }
    prepare_null_values(enc, t);
    if (prepare_key_cols(t, errstr, errstr_size) != 0)
        return -1;

    pgcdc_buf_reset(&t->key_head);
    if (enc->cfg->key_schemas) {
        PGCDC_BUF_LIT(&t->key_head, "{\"schema\":{\"type\":\"struct\",\"fields\":[");
        struct_fields(enc, &t->key_head, t, 1);
        PGCDC_BUF_LIT(&t->key_head, "],\"optional\":false,\"name\":");
        pgcdc_buf_reset(&enc->scratch);
        pgcdc_buf_append(&enc->scratch, t->topic, t->topic_len);
        PGCDC_BUF_LIT(&enc->scratch, ".Key");
        pgcdc_json_str(&t->key_head, enc->scratch.data, enc->scratch.len);
        PGCDC_BUF_LIT(&t->key_head, "},\"payload\":");
    }

    pgcdc_buf_reset(&t->value_head);
    if (enc->cfg->value_schemas) {
        pgcdc_buf *v = &t->value_head;
        pgcdc_buf_reset(&enc->scratch);
        pgcdc_buf_append(&enc->scratch, t->topic, t->topic_len);
        PGCDC_BUF_LIT(&enc->scratch, ".Value");
        PGCDC_BUF_LIT(v, "{\"schema\":{\"type\":\"struct\",\"fields\":[");
        for (int side = 0; side < 2; side++) {
            PGCDC_BUF_LIT(v, "{\"type\":\"struct\",\"fields\":[");
            struct_fields(enc, v, t, 0);
            PGCDC_BUF_LIT(v, "],\"optional\":true,\"name\":");
            pgcdc_json_str(v, enc->scratch.data, enc->scratch.len);
            if (side == 0)
                PGCDC_BUF_LIT(v, ",\"field\":\"before\"},");
            else
                PGCDC_BUF_LIT(v, ",\"field\":\"after\"},");
        }
        pgcdc_buf_append(v, source_schema, sizeof(source_schema) - 1);
        pgcdc_buf_putc(v, ',');
        pgcdc_buf_append(v, transaction_schema, sizeof(transaction_schema) - 1);
        pgcdc_buf_putc(v, ',');
        pgcdc_buf_append(v, envelope_tail_schema, sizeof(envelope_tail_schema) - 1);
        PGCDC_BUF_LIT(v, "],\"optional\":false,\"name\":");
        pgcdc_buf_reset(&enc->scratch);
        pgcdc_buf_append(&enc->scratch, t->topic, t->topic_len);
        PGCDC_BUF_LIT(&enc->scratch, ".Envelope");
        pgcdc_json_str(v, enc->scratch.data, enc->scratch.len);
        PGCDC_BUF_LIT(v, ",\"version\":2},\"payload\":");
    }

    pgcdc_buf_reset(&t->source_tail);
    PGCDC_BUF_LIT(&t->source_tail, ",\"schema\":");
    pgcdc_json_cstr(&t->source_tail, t->schema);
    PGCDC_BUF_LIT(&t->source_tail, ",\"table\":");
    pgcdc_json_cstr(&t->source_tail, t->name);
    PGCDC_BUF_LIT(&t->source_tail, ",\"txId\":");
    /* routing changes the topic only; the schema names above keep the original */
    if (enc->router) {
        pgcdc_buf routed = PGCDC_BUF_INIT;
        if (pgcdc_router_apply(enc->router, t->topic, t->topic_len, &routed)) {
            free(t->topic);
            t->topic = routed.data;
            t->topic_len = routed.len;
        } else {
            pgcdc_buf_free(&routed);
        }
    }
    return 0;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/*
 * Writes one column value (never NULL-kind-unaware: handles n/u/t). A null
 * is written as Debezium and JsonConverter write it: in a required field
 * (NOT NULL column, e.g. the old image of a delete under REPLICA IDENTITY
 * DEFAULT) the schema's default or else the type's zero value (Debezium's
 * converters); in an optional one the default when
 * value.converter.replace.null.with.default is on (JsonConverter), else null.
 */
static int write_value(pgcdc_debezium *enc, pgcdc_buf *out, const pgcdc_column *c,
                       const pgcdc_value *v, char *errstr, size_t errstr_size)
{
    if (!v || v->kind == 'n') {
        if (c->default_json && (!c->optional || enc->cfg->replace_null_with_default))
            pgcdc_buf_append(out, c->default_json, c->default_json_len);
        else if (!c->optional && c->zero_json)
            pgcdc_buf_append(out, c->zero_json, c->zero_json_len);
        else
            PGCDC_BUF_LIT(out, "null");
        return 0;
    }
    if (v->kind == 'u') {
        pgcdc_coltype_unavailable(out, &c->type, &enc->cfg->types);
        return 0;
    }
    if (v->kind != 't') {
        snprintf(errstr, errstr_size, "column %s: binary values are not requested", c->name);
        return -1;
    }
    char err[256];
    if (pgcdc_coltype_value(out, &c->type, &enc->cfg->types, v->data, v->len, err, sizeof(err)) !=
        0) {
        snprintf(errstr, errstr_size, "column \"%s\": %s", c->name, err);
        return -1;
    }
    return 0;
}

static int write_row(pgcdc_debezium *enc, pgcdc_buf *out, const pgcdc_table *t,
                     const pgcdc_row *row, int keys_only, char *errstr, size_t errstr_size)
{
    if (!row) {
        PGCDC_BUF_LIT(out, "null");
        return 0;
    }
    pgcdc_buf_putc(out, '{');
    int first = 1;
    int n = keys_only ? t->nkeys : t->ncols;
    for (int k = 0; k < n; k++) {
        int i = keys_only ? t->key_cols[k] : k;
        if (!keys_only && !t->cols[i].included)
            continue;
        const pgcdc_column *c = &t->cols[i];
        if (!first)
            pgcdc_buf_putc(out, ',');
        first = 0;
        pgcdc_buf_append(out, c->json_name, c->json_name_len);
        const pgcdc_value *v = i < row->ncols ? &row->cols[i] : NULL;
        if (write_value(enc, out, c, v, errstr, errstr_size) != 0)
            return -1;
    }
    pgcdc_buf_putc(out, '}');
    return 0;
}

static void write_source(pgcdc_debezium *enc, pgcdc_buf *out, const pgcdc_change *chg,
                         const pgcdc_buf *tail)
{
    int64_t ts_us = chg->commit_ts_us;
    pgcdc_buf_append(out, enc->source_head.data, enc->source_head.len);
    pgcdc_buf_put_i64(out, floor_div(ts_us, 1000));
    /* Debezium leaves it null outside snapshots: JsonConverter writes the
     * field's default, "false", unless replace.null.with.default is off */
    const char *snapshot = chg->snapshot ? chg->snapshot : "false";
    if (!enc->cfg->replace_null_with_default && !strcmp(snapshot, "false")) {
        PGCDC_BUF_LIT(out, ",\"snapshot\":null");
    } else {
        PGCDC_BUF_LIT(out, ",\"snapshot\":\"");
        pgcdc_buf_puts(out, snapshot);
        pgcdc_buf_putc(out, '"');
    }
    pgcdc_buf_append(out, enc->db_part.data, enc->db_part.len);
    /* sequence: a JSON array of two decimal strings, itself as a string */
    if (chg->last_commit_lsn) {
        PGCDC_BUF_LIT(out, "\"[\\\"");
        pgcdc_buf_put_u64(out, chg->last_commit_lsn);
        PGCDC_BUF_LIT(out, "\\\",\\\"");
    } else {
        PGCDC_BUF_LIT(out, "\"[null,\\\"");
    }
    pgcdc_buf_put_u64(out, chg->pos.event_lsn);
    PGCDC_BUF_LIT(out, "\\\"]\",\"ts_us\":");
    pgcdc_buf_put_i64(out, ts_us);
    PGCDC_BUF_LIT(out, ",\"ts_ns\":");
    pgcdc_buf_put_i64(out, ts_us * 1000);
    if (tail) {
        pgcdc_buf_append(out, tail->data, tail->len);
    } else {
        PGCDC_BUF_LIT(out, ",\"schema\":\"\",\"table\":\"\",\"txId\":");
    }
    if (chg->txid)
        pgcdc_buf_put_u64(out, chg->txid);
    else if (chg->pos.xid)
        pgcdc_buf_put_u64(out, chg->pos.xid);
    else
        PGCDC_BUF_LIT(out, "null");
    PGCDC_BUF_LIT(out, ",\"lsn\":");
    pgcdc_buf_put_u64(out, chg->pos.event_lsn);
    PGCDC_BUF_LIT(out, ",\"xmin\":null}");
}

/* ,"transaction":{...} or null */
static void write_txn(pgcdc_buf *out, const pgcdc_txn_block *txn)
{
    if (!txn) {
        PGCDC_BUF_LIT(out, ",\"transaction\":null");
        return;
    }
    PGCDC_BUF_LIT(out, ",\"transaction\":{\"id\":");
    pgcdc_json_cstr(out, txn->id);
    PGCDC_BUF_LIT(out, ",\"total_order\":");
    pgcdc_buf_put_u64(out, txn->total_order);
    PGCDC_BUF_LIT(out, ",\"data_collection_order\":");
    pgcdc_buf_put_u64(out, txn->data_collection_order);
    pgcdc_buf_putc(out, '}');
}

static void write_ts(pgcdc_buf *out, int64_t now)
{
    PGCDC_BUF_LIT(out, ",\"ts_ms\":");
    pgcdc_buf_put_i64(out, now / 1000);
    PGCDC_BUF_LIT(out, ",\"ts_us\":");
    pgcdc_buf_put_i64(out, now);
    PGCDC_BUF_LIT(out, ",\"ts_ns\":");
    pgcdc_buf_put_i64(out, now * 1000);
}

/* One row record: key from key_row, value envelope with op. */
static int encode_row_record(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg,
                             char op, const pgcdc_row *before, const pgcdc_row *after,
                             const pgcdc_row *key_row, int64_t now, char *errstr,
                             size_t errstr_size)
{
    const pgcdc_table *t = chg->table;
    pgcdc_buf *out = &batch->data;
    size_t rec = pgcdc_batch_record_begin(batch, t->topic, t->topic_len, op, &chg->pos);
    int has_key = t->nkeys > 0 && key_row;
    if (has_key) {
        if (enc->cfg->key_schemas)
            pgcdc_buf_append(out, t->key_head.data, t->key_head.len);
        if (write_row(enc, out, t, key_row, 1, errstr, errstr_size) != 0)
            goto fail;
        if (enc->cfg->key_schemas)
            pgcdc_buf_putc(out, '}');
    }
    pgcdc_batch_record_mark_key(batch, rec, has_key);
    if (enc->cfg->value_schemas)
        pgcdc_buf_append(out, t->value_head.data, t->value_head.len);
    PGCDC_BUF_LIT(out, "{\"before\":");
    if (write_row(enc, out, t, before, 0, errstr, errstr_size) != 0)
        goto fail;
    PGCDC_BUF_LIT(out, ",\"after\":");
    if (write_row(enc, out, t, after, 0, errstr, errstr_size) != 0)
        goto fail;
    pgcdc_buf_putc(out, ',');
    write_source(enc, out, chg, &t->source_tail);
    write_txn(out, chg->txn);
    PGCDC_BUF_LIT(out, ",\"op\":\"");
    pgcdc_buf_putc(out, op);
    pgcdc_buf_putc(out, '"');
    write_ts(out, now);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->value_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_end(batch, rec, 0);
    return 0;
fail:
    pgcdc_batch_record_abort(batch, rec);
    return -1;
}

static int encode_tombstone(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg,
                            const pgcdc_row *key_row, char *errstr, size_t errstr_size)
{
    const pgcdc_table *t = chg->table;
    if (t->nkeys == 0)
        return 0; /* a tombstone without key means nothing to compaction */
    size_t rec = pgcdc_batch_record_begin(batch, t->topic, t->topic_len, 'd', &chg->pos);
    pgcdc_buf *out = &batch->data;
    if (enc->cfg->key_schemas)
        pgcdc_buf_append(out, t->key_head.data, t->key_head.len);
    if (write_row(enc, out, t, key_row, 1, errstr, errstr_size) != 0) {
        pgcdc_batch_record_abort(batch, rec);
        return -1;
    }
    if (enc->cfg->key_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_mark_key(batch, rec, 1);
    pgcdc_batch_record_end(batch, rec, 1);
    return 1;
}

/* Whether an update's old tuple carries a different key than the new one. */
static int key_changed(const pgcdc_table *t, const pgcdc_row *before, const pgcdc_row *after)
{
    if (!before || !after || t->nkeys == 0)
        return 0;
    for (int i = 0; i < t->ncols; i++) {
        if (!t->cols[i].is_key || i >= before->ncols || i >= after->ncols)
            continue;
        const pgcdc_value *a = &before->cols[i], *b = &after->cols[i];
        if (a->kind == 'u' || b->kind == 'u')
            continue;
        if (a->kind != b->kind || a->len != b->len ||
            (a->len && memcmp(a->data, b->data, a->len) != 0))
            return 1;
    }
    return 0;
}

static int encode_message(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg,
                          int64_t now)
{
    pgcdc_buf *out = &batch->data;
    size_t rec =
        pgcdc_batch_record_begin(batch, enc->msg_topic.data, enc->msg_topic.len, 'm', &chg->pos);
    if (enc->cfg->key_schemas)
        PGCDC_BUF_LIT(out, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
                           "\"optional\":true,\"field\":\"prefix\"}],\"optional\":false,"
                           "\"name\":\"io.debezium.connector.postgresql.MessageKey\","
                           "\"version\":1},"
                           "\"payload\":");
    PGCDC_BUF_LIT(out, "{\"prefix\":");
    pgcdc_json_cstr(out, chg->msg_prefix);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->key_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_mark_key(batch, rec, 1);
    /* Debezium 3.0's MessageValue: no top-level ts_us/ts_ns, a transaction
     * block, a required message struct */
    if (enc->cfg->value_schemas) {
        PGCDC_BUF_LIT(out, "{\"schema\":{\"type\":\"struct\",\"fields\":["
                           "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
                           "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},");
        pgcdc_buf_append(out, source_schema, sizeof(source_schema) - 1);
        pgcdc_buf_putc(out, ',');
        pgcdc_buf_append(out, transaction_schema, sizeof(transaction_schema) - 1);
        PGCDC_BUF_LIT(out, ",{\"type\":\"struct\",\"fields\":["
                           "{\"type\":\"string\",\"optional\":true,\"field\":\"prefix\"},"
                           "{\"type\":\"bytes\",\"optional\":true,\"field\":\"content\"}],"
                           "\"optional\":false,\"name\":\"io.debezium.connector.postgresql."
                           "Message\",\"version\":1,\"field\":\"message\"}],\"optional\":false,"
                           "\"name\":\"io.debezium.connector.postgresql.MessageValue\","
                           "\"version\":1},\"payload\":");
    }
    PGCDC_BUF_LIT(out, "{\"op\":\"m\",\"ts_ms\":");
    pgcdc_buf_put_i64(out, now / 1000);
    pgcdc_buf_putc(out, ',');
    write_source(enc, out, chg, NULL);
    write_txn(out, chg->txn);
    PGCDC_BUF_LIT(out, ",\"message\":{\"prefix\":");
    pgcdc_json_cstr(out, chg->msg_prefix);
    PGCDC_BUF_LIT(out, ",\"content\":");
    pgcdc_json_base64(out, (const unsigned char *)chg->msg_content, chg->msg_len);
    PGCDC_BUF_LIT(out, "}}");
    if (enc->cfg->value_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_end(batch, rec, 0);
    return 1;
}

static int encode_truncate(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg,
                           int64_t now)
{
    const pgcdc_table *t = chg->table;
    pgcdc_buf *out = &batch->data;
    size_t rec = pgcdc_batch_record_begin(batch, t->topic, t->topic_len, 't', &chg->pos);
    pgcdc_batch_record_mark_key(batch, rec, 0);
    if (enc->cfg->value_schemas)
        pgcdc_buf_append(out, t->value_head.data, t->value_head.len);
    PGCDC_BUF_LIT(out, "{\"before\":null,\"after\":null,");
    write_source(enc, out, chg, &t->source_tail);
    write_txn(out, chg->txn);
    PGCDC_BUF_LIT(out, ",\"op\":\"t\"");
    write_ts(out, now);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->value_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_end(batch, rec, 0);
    return 1;
}

/* Schemas of Debezium's schema change records (SchemaFactory, serialized by
 * JsonConverter): the key, and the value up to its payload. */
static const char schema_change_key_schema[] =
    "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
    "\"field\":\"databaseName\"}],\"optional\":false,"
    "\"name\":\"io.debezium.connector.postgresql.SchemaChangeKey\",\"version\":1},\"payload\":";

#define SC_STRING_ARRAY "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false},"

static const char schema_change_value_tail_schema[] =
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"databaseName\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"schemaName\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"ddl\"},"
    "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"type\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":true,\"field\":\"defaultCharsetName\"}," SC_STRING_ARRAY
    "\"optional\":true,\"field\":\"primaryKeyColumnNames\"},"
    "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int32\",\"optional\":false,\"field\":\"jdbcType\"},"
    "{\"type\":\"int32\",\"optional\":true,\"field\":\"nativeType\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"typeName\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"typeExpression\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"charsetName\"},"
    "{\"type\":\"int32\",\"optional\":true,\"field\":\"length\"},"
    "{\"type\":\"int32\",\"optional\":true,\"field\":\"scale\"},"
    "{\"type\":\"int32\",\"optional\":false,\"field\":\"position\"},"
    "{\"type\":\"boolean\",\"optional\":true,\"field\":\"optional\"},"
    "{\"type\":\"boolean\",\"optional\":true,\"field\":\"autoIncremented\"},"
    "{\"type\":\"boolean\",\"optional\":true,\"field\":\"generated\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"comment\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"defaultValueExpression\"}," SC_STRING_ARRAY
    "\"optional\":true,\"field\":\"enumValues\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.schema.Column\",\"version\":1},"
    "\"optional\":false,\"field\":\"columns\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"comment\"}],"
    "\"optional\":true,\"name\":\"io.debezium.connector.schema.Table\",\"version\":1,"
    "\"field\":\"table\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.schema.Change\",\"version\":1},"
    "\"optional\":false,\"field\":\"tableChanges\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.SchemaChangeValue\","
    "\"version\":1},\"payload\":";

static void json_str_or_null(pgcdc_buf *out, const char *s)
{
    if (s)
        pgcdc_json_cstr(out, s);
    else
        PGCDC_BUF_LIT(out, "null");
}

static void json_bool(pgcdc_buf *out, int v)
{
    if (v)
        PGCDC_BUF_LIT(out, "true");
    else
        PGCDC_BUF_LIT(out, "false");
}

/* One io.debezium.connector.schema.Column: JDBC metadata as Debezium reads
 * it from the driver, including its serial/bigserial type names. */
static void write_ddl_column(pgcdc_buf *out, const pgcdc_ddl_column *c)
{
    pgcdc_jdbc_meta jm;
    pgcdc_pgtype_jdbc(c->type_oid, c->elem_oid, c->is_array, c->typtype, c->typmod, &jm);
    int nextval = c->default_expr && strstr(c->default_expr, "nextval(") != NULL;
    const char *type_name = c->type_name;
    if (nextval && c->type_oid == 23)
        type_name = "serial";
    else if (nextval && c->type_oid == 20)
        type_name = "bigserial";

    PGCDC_BUF_LIT(out, "{\"name\":");
    pgcdc_json_cstr(out, c->name);
    PGCDC_BUF_LIT(out, ",\"jdbcType\":");
    pgcdc_buf_put_i64(out, jm.jdbc_type);
    PGCDC_BUF_LIT(out, ",\"nativeType\":");
    pgcdc_buf_put_u64(out, c->type_oid);
    PGCDC_BUF_LIT(out, ",\"typeName\":");
    pgcdc_json_cstr(out, type_name);
    PGCDC_BUF_LIT(out, ",\"typeExpression\":");
    pgcdc_json_cstr(out, type_name);
    PGCDC_BUF_LIT(out, ",\"charsetName\":null,\"length\":");
    pgcdc_buf_put_i64(out, jm.length);
    PGCDC_BUF_LIT(out, ",\"scale\":");
    if (jm.has_scale)
        pgcdc_buf_put_i64(out, jm.scale);
    else
        PGCDC_BUF_LIT(out, "null");
    PGCDC_BUF_LIT(out, ",\"position\":");
    pgcdc_buf_put_i64(out, c->position);
    PGCDC_BUF_LIT(out, ",\"optional\":");
    json_bool(out, !c->not_null);
    PGCDC_BUF_LIT(out, ",\"autoIncremented\":");
    json_bool(out, nextval || c->identity);
    PGCDC_BUF_LIT(out, ",\"generated\":");
    json_bool(out, c->generated);
    PGCDC_BUF_LIT(out, ",\"comment\":");
    json_str_or_null(out, c->comment);
    PGCDC_BUF_LIT(out, ",\"defaultValueExpression\":");
    json_str_or_null(out, c->default_expr);
    PGCDC_BUF_LIT(out, ",\"enumValues\":");
    if (c->nenum == 0) {
        PGCDC_BUF_LIT(out, "null}");
        return;
    }
    pgcdc_buf_putc(out, '[');
    for (size_t i = 0; i < c->nenum; i++) {
        if (i)
            pgcdc_buf_putc(out, ',');
        pgcdc_json_cstr(out, c->enum_labels[i]);
    }
    PGCDC_BUF_LIT(out, "]}");
}

/* One io.debezium.connector.schema.Change for a captured table. */
static void write_table_change(pgcdc_debezium *enc, pgcdc_buf *out, const pgcdc_ddl_table *t)
{
    PGCDC_BUF_LIT(out, "{\"type\":");
    pgcdc_json_cstr(out, t->change);
    /* "db"."schema"."table", as Debezium's TableId.toDoubleQuotedString() */
    pgcdc_buf_reset(&enc->scratch);
    pgcdc_buf_printf(&enc->scratch, "\"%s\".\"%s\".\"%s\"", enc->dbname, t->schema, t->name);
    PGCDC_BUF_LIT(out, ",\"id\":");
    pgcdc_json_str(out, enc->scratch.data, enc->scratch.len);
    PGCDC_BUF_LIT(out, ",\"table\":");
    if (!t->described) {
        PGCDC_BUF_LIT(out, "null}");
        return;
    }
    PGCDC_BUF_LIT(out, "{\"defaultCharsetName\":null,\"primaryKeyColumnNames\":[");
    for (size_t i = 0; i < t->npk; i++) {
        if (i)
            pgcdc_buf_putc(out, ',');
        pgcdc_json_cstr(out, t->pk[i]);
    }
    PGCDC_BUF_LIT(out, "],\"columns\":[");
    int first = 1;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!t->cols[i].included)
            continue;
        if (!first)
            pgcdc_buf_putc(out, ',');
        first = 0;
        write_ddl_column(out, &t->cols[i]);
    }
    PGCDC_BUF_LIT(out, "],\"comment\":");
    json_str_or_null(out, t->comment);
    PGCDC_BUF_LIT(out, "}}");
}

/*
 * A schema change record on the topic <topic.prefix>, laid out like the
 * schema change events of Debezium's MySQL and SQL Server connectors. Only
 * captured tables appear in tableChanges and in source.table (comma-joined);
 * returns 0 (nothing written) when none is captured.
 */
static int encode_schema_change(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg)
{
    const pgcdc_schema_change *sc = chg->schema_change;
    const pgcdc_ddl_table *first = NULL;
    pgcdc_buf *out = &batch->data;
    pgcdc_buf tail = PGCDC_BUF_INIT;

    for (size_t i = 0; i < sc->ntables && !first; i++)
        if (sc->tables[i].captured)
            first = &sc->tables[i];
    if (!first)
        return 0;
    PGCDC_BUF_LIT(&tail, ",\"schema\":");
    pgcdc_json_cstr(&tail, first->schema);
    pgcdc_buf_reset(&enc->scratch);
    for (size_t i = 0; i < sc->ntables; i++) {
        if (!sc->tables[i].captured)
            continue;
        if (enc->scratch.len)
            pgcdc_buf_putc(&enc->scratch, ',');
        pgcdc_buf_puts(&enc->scratch, sc->tables[i].name);
    }
    PGCDC_BUF_LIT(&tail, ",\"table\":");
    pgcdc_json_str(&tail, enc->scratch.data, enc->scratch.len);
    PGCDC_BUF_LIT(&tail, ",\"txId\":");

    size_t rec =
        pgcdc_batch_record_begin(batch, enc->ddl_topic.data, enc->ddl_topic.len, 's', &chg->pos);
    if (enc->cfg->key_schemas)
        pgcdc_buf_append(out, schema_change_key_schema, sizeof(schema_change_key_schema) - 1);
    PGCDC_BUF_LIT(out, "{\"databaseName\":");
    pgcdc_json_cstr(out, enc->dbname);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->key_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_mark_key(batch, rec, 1);
    if (enc->cfg->value_schemas) {
        PGCDC_BUF_LIT(out, "{\"schema\":{\"type\":\"struct\",\"fields\":[");
        pgcdc_buf_append(out, source_schema, sizeof(source_schema) - 1);
        pgcdc_buf_putc(out, ',');
        pgcdc_buf_append(out, schema_change_value_tail_schema,
                         sizeof(schema_change_value_tail_schema) - 1);
    }
    pgcdc_buf_putc(out, '{');
    write_source(enc, out, chg, &tail);
    /* the statement's commit time, like source.ts_ms */
    PGCDC_BUF_LIT(out, ",\"ts_ms\":");
    pgcdc_buf_put_i64(out, floor_div(chg->commit_ts_us, 1000));
    PGCDC_BUF_LIT(out, ",\"databaseName\":");
    pgcdc_json_cstr(out, enc->dbname);
    PGCDC_BUF_LIT(out, ",\"schemaName\":");
    pgcdc_json_cstr(out, first->schema);
    PGCDC_BUF_LIT(out, ",\"ddl\":");
    json_str_or_null(out, sc->ddl);
    PGCDC_BUF_LIT(out, ",\"tableChanges\":[");
    int n = 0;
    for (size_t i = 0; i < sc->ntables; i++) {
        if (!sc->tables[i].captured)
            continue;
        if (n++)
            pgcdc_buf_putc(out, ',');
        write_table_change(enc, out, &sc->tables[i]);
    }
    PGCDC_BUF_LIT(out, "]}");
    if (enc->cfg->value_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_end(batch, rec, 0);
    pgcdc_buf_free(&tail);
    return 1;
}

int pgcdc_debezium_encode(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_change *chg,
                          char *errstr, size_t errstr_size)
{
    int64_t now = now_us();
    size_t start_len = batch->data.len;
    uint32_t start_n = batch->nrecords;
    int n = 0, r;
    int tomb = enc->cfg->tombstones_on_delete;

    switch (chg->op) {
    case 'm':
        return encode_message(enc, batch, chg, now);
    case 's':
        return encode_schema_change(enc, batch, chg);
    case 't':
        return encode_truncate(enc, batch, chg, now);
    case 'c':
    case 'r':
        if (encode_row_record(enc, batch, chg, chg->op, NULL, chg->after, chg->after, now, errstr,
                              errstr_size) != 0)
            goto fail;
        return 1;
    case 'u':
        if (key_changed(chg->table, chg->before, chg->after)) {
            /* Debezium: a key change is a delete of the old key and a create */
            if (!(enc->cfg->skipped_ops & PGCDC_SKIP_DELETE)) {
                if (encode_row_record(enc, batch, chg, 'd', chg->before, NULL, chg->before, now,
                                      errstr, errstr_size) != 0)
                    goto fail;
                n++;
                if (tomb) {
                    if ((r = encode_tombstone(enc, batch, chg, chg->before, errstr, errstr_size)) <
                        0)
                        goto fail;
                    n += r;
                }
            }
            if (!(enc->cfg->skipped_ops & PGCDC_SKIP_CREATE)) {
                if (encode_row_record(enc, batch, chg, 'c', NULL, chg->after, chg->after, now,
                                      errstr, errstr_size) != 0)
                    goto fail;
                n++;
            }
            return n;
        }
        if (encode_row_record(enc, batch, chg, 'u', chg->before, chg->after, chg->after, now,
                              errstr, errstr_size) != 0)
            goto fail;
        return 1;
    case 'd':
        if (encode_row_record(enc, batch, chg, 'd', chg->before, NULL, chg->before, now, errstr,
                              errstr_size) != 0)
            goto fail;
        n = 1;
        if (tomb) {
            if ((r = encode_tombstone(enc, batch, chg, chg->before, errstr, errstr_size)) < 0)
                goto fail;
            n += r;
        }
        return n;
    default:
        snprintf(errstr, errstr_size, "debezium: unknown op '%c'", chg->op);
        return -1;
    }
fail:
    batch->data.len = start_len;
    batch->nrecords = start_n;
    return -1;
}

void pgcdc_debezium_txn_boundary(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_position *pos,
                                 int end, const char *id, int64_t ts_us, uint64_t event_count,
                                 const pgcdc_txn_count *counts, int ncounts)
{
    pgcdc_buf *out = &batch->data;
    size_t rec = pgcdc_batch_record_begin(batch, enc->txn_topic.data, enc->txn_topic.len,
                                          end ? 'E' : 'B', pos);
    /* io.debezium.connector.common.TransactionMetadataKey/Value */
    if (enc->cfg->key_schemas)
        PGCDC_BUF_LIT(out, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
                           "\"optional\":false,\"field\":\"id\"}],\"optional\":false,\"name\":"
                           "\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1},"
                           "\"payload\":");
    PGCDC_BUF_LIT(out, "{\"id\":");
    pgcdc_json_cstr(out, id);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->key_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_mark_key(batch, rec, 1);
    if (enc->cfg->value_schemas)
        PGCDC_BUF_LIT(out,
                      "{\"schema\":{\"type\":\"struct\",\"fields\":["
                      "{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
                      "{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
                      "{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
                      "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
                      "{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
                      "{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
                      "\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
                      "\"optional\":true,\"field\":\"data_collections\"},"
                      "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],"
                      "\"optional\":false,\"name\":"
                      "\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1},"
                      "\"payload\":");
    PGCDC_BUF_LIT(out, "{\"status\":");
    if (end)
        PGCDC_BUF_LIT(out, "\"END\"");
    else
        PGCDC_BUF_LIT(out, "\"BEGIN\"");
    PGCDC_BUF_LIT(out, ",\"id\":");
    pgcdc_json_cstr(out, id);
    if (!end) {
        PGCDC_BUF_LIT(out, ",\"event_count\":null,\"data_collections\":null");
    } else {
        PGCDC_BUF_LIT(out, ",\"event_count\":");
        pgcdc_buf_put_u64(out, event_count);
        PGCDC_BUF_LIT(out, ",\"data_collections\":[");
        for (int i = 0; i < ncounts; i++) {
            if (i)
                pgcdc_buf_putc(out, ',');
            PGCDC_BUF_LIT(out, "{\"data_collection\":");
            pgcdc_json_cstr(out, counts[i].data_collection);
            PGCDC_BUF_LIT(out, ",\"event_count\":");
            pgcdc_buf_put_u64(out, counts[i].event_count);
            pgcdc_buf_putc(out, '}');
        }
        pgcdc_buf_putc(out, ']');
    }
    PGCDC_BUF_LIT(out, ",\"ts_ms\":");
    pgcdc_buf_put_i64(out, floor_div(ts_us, 1000));
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->value_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_end(batch, rec, 0);
}

void pgcdc_debezium_heartbeat(pgcdc_debezium *enc, pgcdc_batch *batch, const pgcdc_position *pos)
{
    pgcdc_buf *out = &batch->data;
    size_t rec = pgcdc_batch_record_begin(batch, enc->heartbeat_topic.data,
                                          enc->heartbeat_topic.len, 'h', pos);
    if (enc->cfg->key_schemas)
        PGCDC_BUF_LIT(out, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
                           "\"optional\":false,\"field\":\"serverName\"}],\"optional\":false,"
                           "\"name\":\"io.debezium.connector.common.ServerNameKey\","
                           "\"version\":1},"
                           "\"payload\":");
    PGCDC_BUF_LIT(out, "{\"serverName\":");
    pgcdc_json_cstr(out, enc->cfg->topic_prefix);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->key_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_mark_key(batch, rec, 1);
    if (enc->cfg->value_schemas)
        PGCDC_BUF_LIT(out, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\","
                           "\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,"
                           "\"name\":\"io.debezium.connector.common.Heartbeat\","
                           "\"version\":1},\"payload\":");
    PGCDC_BUF_LIT(out, "{\"ts_ms\":");
    pgcdc_buf_put_i64(out, now_us() / 1000);
    pgcdc_buf_putc(out, '}');
    if (enc->cfg->value_schemas)
        pgcdc_buf_putc(out, '}');
    pgcdc_batch_record_end(batch, rec, 0);
}
