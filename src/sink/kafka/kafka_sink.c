/*
 * kafka_sink.c - the Kafka sink: every record to its topic, with librdkafka.
 *
 * Records go to the topic the encoder named (<topic.prefix>.<schema>.<table>,
 * the heartbeat topic, ...), key and value exactly as Kafka Connect's
 * JsonConverter would write them, tombstones as null values. The producer
 * is idempotent with acks=all and Java's murmur2 partitioner, so a key lands
 * in the partition Debezium on Kafka Connect would choose and per-key order
 * holds across broker failures.
 *
 * Acknowledgements: message payloads point into the batch (no copy; the
 * pipeline keeps a batch until the sink acknowledges it). Each batch has a
 * tracker counting its undelivered messages; delivery reports arrive per
 * partition, so out of order across batches, and the sink acknowledges the
 * longest prefix of batches whose messages all reached the broker. A failed
 * delivery (after librdkafka's own retries, message.timeout.ms) stops the
 * pipeline: nothing after the last delivered prefix is confirmed to the
 * slot, and the next start delivers it again.
 *
 * Runs on the sink's worker thread; delivery reports are served from it by
 * rd_kafka_poll.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/kafka_conf.h"
#include "common/log.h"
#include "sink/sink.h"

#define LOG "kafka"
#define WHO "kafka sink"
#define CONNECT_TIMEOUT_MS 10000
#define METADATA_TIMEOUT_MS 10000
#define TOPIC_WAIT_MS 60000

/* Messages of one batch still waiting for their delivery report. */
typedef struct tracker {
    uint64_t seq;
    uint64_t pending;
    int complete; /* every message of the batch was handed to librdkafka */
    struct tracker *next;
} tracker;

typedef struct ktopic {
    char *name;
    size_t len;
    rd_kafka_topic_t *rkt;
} ktopic;

typedef struct kafka_sink {
    pgcdc_sink *sink;
    rd_kafka_t *rk;
    char *bootstrap;
    int create_topics;
    int hdr_op, hdr_lsn, hdr_txid; /* sink.kafka.headers */
    int partitions, replication;
    ktopic *topics;
    size_t ntopics, cap, last;
    tracker *head, *tail;
    int failed;
    char fail_msg[1024];
    uint64_t delivered;
} kafka_sink;

/* ---------- delivery reports and acknowledgements ---------- */

static void fail(kafka_sink *ks, const char *fmt, const char *a, const char *b)
{
    if (ks->failed)
        return;
    ks->failed = 1;
    snprintf(ks->fail_msg, sizeof(ks->fail_msg), fmt, a, b);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    kafka_sink *ks = opaque;
    tracker *t = m->_private;
    if (m->err) {
        char what[300];
        snprintf(what, sizeof(what), "%s [%d]", m->rkt ? rd_kafka_topic_name(m->rkt) : "?",
                 (int)m->partition);
        fail(ks,
             "kafka sink: delivery to %s failed: %s; nothing after the last delivered event is "
             "confirmed to the slot, and the next start sends it again",
             what, rd_kafka_err2str(m->err));
        return;
    }
    t->pending--;
    ks->delivered++;
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_sink *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[400];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        fail(ks, "kafka sink: fatal producer error (%s): %s", rd_kafka_err2name(orig), buf);
        return;
    }
    /* transient (broker down, ...): librdkafka retries; say so once in a while */
    pgcdc_log_warn(LOG, "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

/* Acknowledges the prefix of batches whose messages were all delivered. */
static void advance(kafka_sink *ks)
{
    while (ks->head && ks->head->complete && ks->head->pending == 0) {
        tracker *t = ks->head;
        ks->head = t->next;
        if (!ks->head)
            ks->tail = NULL;
        pgcdc_sink_ack(ks->sink, t->seq);
        free(t);
    }
}

static int serve(kafka_sink *ks, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_poll(ks->rk, timeout_ms);
    advance(ks);
    if (ks->failed) {
        snprintf(errstr, errstr_size, "%s", ks->fail_msg);
        return -1;
    }
    return 0;
}

/* ---------- configuration ---------- */

/* pgcdc's producer defaults, then the shared settings (kafka_conf.c), which
 * may change the tuning ones but not those per-key order and durability
 * rest on. */
static int build_conf(kafka_sink *ks, const pgcdc_config *cfg, rd_kafka_conf_t *conf, char *errstr,
                      size_t errstr_size)
{
    static const struct {
        const char *key, *value;
    } defaults[] = {
        {"enable.idempotence", "true"}, {"acks", "all"},    {"partitioner", "murmur2_random"},
        {"compression.type", "lz4"},    {"linger.ms", "5"},
    };
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (pgcdc_kafka_conf_set(conf, WHO, defaults[i].key, defaults[i].value, NULL, errstr,
                                 errstr_size))
            return -1;
    static const char *const acks_keys[] = {"acks", "request.required.acks"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = pgcdc_kafka_conf_given(cfg, PGCDC_KAFKA_PRODUCER, acks_keys[i]);
        if (v && strcmp(v, "all") && strcmp(v, "-1")) {
            snprintf(errstr, errstr_size,
                     "kafka sink: %s=%s would let the broker lose acknowledged events; pgcdc "
                     "requires acks=all (remove the property)",
                     acks_keys[i], v);
            return -1;
        }
    }
    const char *idem = pgcdc_kafka_conf_given(cfg, PGCDC_KAFKA_PRODUCER, "enable.idempotence");
    if (idem && strcmp(idem, "true")) {
        snprintf(errstr, errstr_size,
                 "kafka sink: enable.idempotence=%s would allow duplicates and reordering on "
                 "retries; pgcdc requires it (remove the property)",
                 idem);
        return -1;
    }
    if (pgcdc_kafka_conf_apply(conf, cfg, PGCDC_KAFKA_PRODUCER, WHO, errstr, errstr_size))
        return -1;
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, pgcdc_kafka_log);
    return 0;
}

/* ---------- topics ---------- */

/* Whether the cluster has the topic (without triggering auto-creation).
 * Returns 1/0, or -1 with errstr. */
static int topic_exists(kafka_sink *ks, const char *name, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(ks->rk, 1, NULL, &md, METADATA_TIMEOUT_MS);
    if (err) {
        snprintf(errstr, errstr_size,
                 "kafka sink: cannot read the cluster's topics from %s: %s (is the broker "
                 "running and reachable?)",
                 ks->bootstrap, rd_kafka_err2str(err));
        return -1;
    }
    int found = 0;
    for (int i = 0; i < md->topic_cnt && !found; i++)
        found = !strcmp(md->topics[i].topic, name) && md->topics[i].err == 0;
    rd_kafka_metadata_destroy(md);
    return found;
}

static int topic_create(kafka_sink *ks, const char *name, char *errstr, size_t errstr_size)
{
    char err[256];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(name, ks->partitions, ks->replication, err, sizeof(err));
    if (!nt) {
        snprintf(errstr, errstr_size, "kafka sink: topic %s: %s", name, err);
        return -1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(ks->rk);
    rd_kafka_AdminOptions_t *opt =
        rd_kafka_AdminOptions_new(ks->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opt, TOPIC_WAIT_MS, err, sizeof(err));
    rd_kafka_CreateTopics(ks->rk, &nt, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TOPIC_WAIT_MS + 5000);
    int rc = -1;
    if (!ev) {
        snprintf(errstr, errstr_size, "kafka sink: creating topic %s timed out", name);
    } else if (rd_kafka_event_error(ev)) {
        snprintf(errstr, errstr_size, "kafka sink: creating topic %s: %s", name,
                 rd_kafka_event_error_string(ev));
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t e =
            n ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            pgcdc_log_info(LOG,
                           "created topic %s (partitions %d, replication factor %d; -1: the "
                           "broker's default)",
                           name, ks->partitions, ks->replication);
            rc = 0;
        } else {
            const char *msg = rd_kafka_topic_result_error_string(res[0]);
            snprintf(errstr, errstr_size, "kafka sink: creating topic %s: %s", name,
                     msg ? msg : rd_kafka_err2str(e));
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opt);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* The handle of a topic, checked (and created) on first use. */
static rd_kafka_topic_t *topic_get(kafka_sink *ks, const char *name, size_t len, char *errstr,
                                   size_t errstr_size)
{
    if (ks->ntopics && ks->topics[ks->last].len == len &&
        !memcmp(ks->topics[ks->last].name, name, len))
        return ks->topics[ks->last].rkt;
    for (size_t i = 0; i < ks->ntopics; i++)
        if (ks->topics[i].len == len && !memcmp(ks->topics[i].name, name, len)) {
            ks->last = i;
            return ks->topics[i].rkt;
        }
    char *n = strndup(name, len);
    if (!n) {
        snprintf(errstr, errstr_size, "kafka sink: out of memory");
        return NULL;
    }
    int exists = topic_exists(ks, n, errstr, errstr_size);
    if (exists == 0 && !ks->create_topics) {
        snprintf(errstr, errstr_size,
                 "kafka sink: topic %s does not exist and topic.creation.enable is false: create "
                 "it (kafka-topics.sh --create --topic %s ...) or set topic.creation.enable: true",
                 n, n);
        exists = -1;
    } else if (exists == 0) {
        exists = topic_create(ks, n, errstr, errstr_size) == 0 ? 1 : -1;
    }
    if (exists < 0) {
        free(n);
        return NULL;
    }
    if (ks->ntopics == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        ktopic *t = realloc(ks->topics, cap * sizeof(*t));
        if (!t) {
            free(n);
            snprintf(errstr, errstr_size, "kafka sink: out of memory");
            return NULL;
        }
        ks->topics = t;
        ks->cap = cap;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ks->rk, n, NULL);
    if (!rkt) {
        snprintf(errstr, errstr_size, "kafka sink: topic %s: %s", n,
                 rd_kafka_err2str(rd_kafka_last_error()));
        free(n);
        return NULL;
    }
    ks->topics[ks->ntopics] = (ktopic){n, len, rkt};
    ks->last = ks->ntopics++;
    return rkt;
}

/* ---------- the vtable ---------- */

static void kafka_close(pgcdc_sink *sink, void *state);

static int kafka_open(pgcdc_sink *sink, const pgcdc_config *cfg, void **state, char *errstr,
                      size_t errstr_size)
{
    if (!cfg->kafka_bootstrap || !*cfg->kafka_bootstrap) {
        snprintf(errstr, errstr_size,
                 "kafka sink: bootstrap.servers is required (the brokers, host:port,...)");
        return -1;
    }
    kafka_sink *ks = calloc(1, sizeof(*ks));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!ks || !(ks->bootstrap = strdup(cfg->kafka_bootstrap))) {
        snprintf(errstr, errstr_size, "kafka sink: out of memory");
        goto fail;
    }
    ks->sink = sink;
    ks->create_topics = cfg->kafka_topic_create;
    ks->partitions = cfg->kafka_partitions;
    if (cfg->kafka_headers) {
        pgcdc_buf item = PGCDC_BUF_INIT;
        const char *pos = cfg->kafka_headers;
        while (pgcdc_config_list_next(&pos, &item)) {
            ks->hdr_op |= !strcmp(item.data, "op");
            ks->hdr_lsn |= !strcmp(item.data, "lsn");
            ks->hdr_txid |= !strcmp(item.data, "txId");
        }
        pgcdc_buf_free(&item);
    }
    ks->replication = cfg->kafka_replication;
    if (build_conf(ks, cfg, conf, errstr, errstr_size) != 0)
        goto fail;
    char err[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!ks->rk) {
        snprintf(errstr, errstr_size, "kafka sink: %s", err);
        goto fail;
    }
    conf = NULL; /* owned by rk now */
    /* fail fast, before anything is read from the slot, when no broker answers */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 0, NULL, &md, CONNECT_TIMEOUT_MS);
    if (e) {
        snprintf(errstr, errstr_size,
                 "kafka sink: no broker at bootstrap.servers=%s answered within %d s: %s (check "
                 "the address, that the broker runs, and security.protocol/SASL settings)",
                 ks->bootstrap, CONNECT_TIMEOUT_MS / 1000, rd_kafka_err2str(e));
        goto fail;
    }
    rd_kafka_metadata_destroy(md);
    if (ks->failed) {
        snprintf(errstr, errstr_size, "%s", ks->fail_msg);
        goto fail;
    }
    pgcdc_log_info(LOG, "producing to %s (idempotent, acks=all)", ks->bootstrap);
    *state = ks;
    return 0;
fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (ks)
        kafka_close(sink, ks);
    return -1;
}

/* The record headers sink.kafka.headers asks for, Debezium's add.headers
 * names. Tombstones carry the delete's op; records that are not row
 * events (heartbeats, transaction boundaries, schema changes) have no op. */
static rd_kafka_headers_t *headers_for(const kafka_sink *ks, const pgcdc_record *rec)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    char num[32];
    if (ks->hdr_op && rec->op && strchr("cudrtm", rec->op)) {
        char op = rec->op;
        rd_kafka_header_add(h, "__op", -1, &op, 1);
    }
    if (ks->hdr_lsn && rec->pos.event_lsn) {
        snprintf(num, sizeof(num), "%llu", (unsigned long long)rec->pos.event_lsn);
        rd_kafka_header_add(h, "__lsn", -1, num, -1);
    }
    if (ks->hdr_txid && rec->pos.xid) {
        snprintf(num, sizeof(num), "%u", rec->pos.xid);
        rd_kafka_header_add(h, "__txId", -1, num, -1);
    }
    return h;
}

static int kafka_write_batch(pgcdc_sink *sink, void *state, const pgcdc_batch *batch, char *errstr,
                             size_t errstr_size)
{
    (void)sink;
    kafka_sink *ks = state;
    tracker *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(errstr, errstr_size, "kafka sink: out of memory");
        return -1;
    }
    t->seq = batch->seq;
    if (ks->tail)
        ks->tail->next = t;
    else
        ks->head = t;
    ks->tail = t;
    size_t off = 0;
    pgcdc_record rec;
    while (pgcdc_batch_next(batch, &off, &rec)) {
        rd_kafka_topic_t *rkt = topic_get(ks, rec.topic, rec.topic_len, errstr, errstr_size);
        if (!rkt)
            return -1;
        for (;;) {
            /* no copy: the batch outlives the delivery report */
            rd_kafka_resp_err_t e;
            if (ks->hdr_op || ks->hdr_lsn || ks->hdr_txid) {
                rd_kafka_headers_t *h = headers_for(ks, &rec);
                e = rd_kafka_producev(
                    ks->rk, RD_KAFKA_V_RKT(rkt),
                    RD_KAFKA_V_VALUE((void *)rec.value, rec.value ? rec.value_len : 0),
                    RD_KAFKA_V_KEY(rec.key, rec.key ? rec.key_len : 0), RD_KAFKA_V_HEADERS(h),
                    RD_KAFKA_V_OPAQUE(t), RD_KAFKA_V_END);
                if (e)
                    rd_kafka_headers_destroy(h); /* owned by librdkafka only on success */
            } else {
                e = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, (void *)rec.value,
                                     rec.value ? rec.value_len : 0, rec.key,
                                     rec.key ? rec.key_len : 0, t) == 0
                        ? RD_KAFKA_RESP_ERR_NO_ERROR
                        : rd_kafka_last_error();
            }
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                snprintf(errstr, errstr_size, "kafka sink: producing to %.*s: %s",
                         (int)rec.topic_len, rec.topic, rd_kafka_err2str(e));
                return -1;
            }
            if (serve(ks, 100, errstr, errstr_size) != 0)
                return -1;
        }
        t->pending++;
    }
    t->complete = 1;
    return serve(ks, 0, errstr, errstr_size);
}

static int kafka_flush(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    (void)sink;
    return serve(state, 0, errstr, errstr_size);
}

static int kafka_poll(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    (void)sink;
    return serve(state, 50, errstr, errstr_size);
}

static void kafka_close(pgcdc_sink *sink, void *state)
{
    (void)sink;
    kafka_sink *ks = state;
    if (ks->rk) {
        /* what was acknowledged is delivered; the rest is sent again next start */
        rd_kafka_flush(ks->rk, ks->failed ? 0 : 5000);
        rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(ks->rk, 0);
    }
    for (size_t i = 0; i < ks->ntopics; i++) {
        rd_kafka_topic_destroy(ks->topics[i].rkt);
        free(ks->topics[i].name);
    }
    free(ks->topics);
    if (ks->rk)
        rd_kafka_destroy(ks->rk);
    while (ks->head) {
        tracker *t = ks->head;
        ks->head = t->next;
        free(t);
    }
    free(ks->bootstrap);
    free(ks);
}

const pgcdc_sink_type pgcdc_sink_kafka = {
    .name = "kafka",
    .open = kafka_open,
    .write_batch = kafka_write_batch,
    .flush = kafka_flush,
    .poll = kafka_poll,
    .close = kafka_close,
};
