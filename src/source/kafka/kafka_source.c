/*
 * kafka_source.c - the Kafka source (see kafka_source.h): a librdkafka
 * high-level consumer feeding the pipeline.
 *
 * Threads: everything here runs on the calling thread, librdkafka's
 * callbacks (rebalance, commit results, errors) included, since they are
 * served from rd_kafka_consumer_poll. The one exception is on_acked, run by
 * the pipeline's committer thread, which only updates the offsets table.
 *
 * Offsets: auto commit and auto offset store are off. A batch carries marks
 * (partition, offset after its last record there, see kafka_offsets.h);
 * once every sink acknowledged it the marks move the partition's
 * acknowledged offset, and the loop commits those about every second
 * (asynchronously), before partitions are revoked and at shutdown
 * (synchronously). Nothing unacknowledged is ever committed, so a member
 * that dies loses nothing: whoever gets its partitions starts after the last
 * committed record and delivers the unacknowledged tail again.
 *
 * Backpressure: while the pipeline's queue is full the assigned partitions
 * are paused and the loop keeps polling, so the member stays in the group
 * (max.poll.interval.ms) and rebalances are served. librdkafka drops the
 * messages it fetched ahead for a paused partition and resumes fetching
 * after the last message handed to us, so pausing loses nothing.
 *
 * Rebalances: before partitions are revoked the current batch is pushed and
 * the pipeline given up to REVOKE_DRAIN_MS to acknowledge everything, then
 * the acknowledged offsets are committed; what is still in flight after
 * that is delivered again by the new owner.
 */
#include "source/kafka/kafka_source.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/kafka_conf.h"
#include "common/clock.h"
#include "common/log.h"
#include "core/offsets.h"
#include "core/pipeline.h"
#include "core/status.h"
#include "source/kafka/kafka_offsets.h"

#define LOG "source"
#define WHO "kafka source"
#define CONNECT_TIMEOUT_MS 10000
#define POLL_MS 100
#define COMMIT_INTERVAL_US 1000000LL
#define COMMIT_SYNC_TIMEOUT_MS 10000
#define REVOKE_DRAIN_MS 10000
#define BATCH_MAX_BYTES (4u << 20)
#define STATS_INTERVAL_US (10 * 1000000LL)
#define STATUS_INTERVAL_US 1000000LL

typedef struct kafka_source {
    const pgcdc_config *cfg;
    volatile sig_atomic_t *stop;
    char group[256];
    rd_kafka_t *rk;
    pgcdc_pipeline *pipe;
    int pipe_open; /* batches may still be pushed */
    pgcdc_batch *batch;
    pgcdc_kafka_offsets *offsets;
    pgcdc_status *status;
    const char *prefix; /* source.kafka.sink.topic.prefix, "" for none */
    size_t prefix_len;
    int to_kafka; /* a kafka sink writes to the cluster we read */
    pgcdc_buf topic;
    /* partitions paused for backpressure (also revoked ones: the pause flag
     * outlives the assignment, so they must be resumed too) */
    rd_kafka_topic_partition_list_t *paused;
    /* the partition of the previous message, to skip the table lookup */
    rd_kafka_topic_t *last_rkt;
    int32_t last_partition;
    int last_part;
    uint32_t last_gen;
    int pattern_wait_logged;
    int failed;
    char errstr[1024];
    int64_t last_commit_us, last_stats_us, last_status_us;
    uint64_t last_stats_events;
} kafka_source;

static void fail(kafka_source *ks, const char *msg)
{
    if (ks->failed)
        return;
    ks->failed = 1;
    snprintf(ks->errstr, sizeof(ks->errstr), "%s", msg);
}

/* ---------- acknowledgements and commits ---------- */

/* Pipeline hook, on the committer thread (see pgcdc_pipeline_set_on_acked). */
static void on_acked(void *ctx, const pgcdc_batch *b)
{
    kafka_source *ks = ctx;
    pgcdc_kafka_offsets_acked(ks->offsets, b->source_data.data, b->source_data.len);
}

static void add_to_list(void *ctx, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_list_add(ctx, topic, partition)->offset = offset;
}

static void log_partitions(const char *what, const rd_kafka_topic_partition_list_t *parts,
                           const char *group)
{
    pgcdc_buf b = PGCDC_BUF_INIT;
    for (int i = 0; i < parts->cnt && i < 64; i++)
        pgcdc_buf_printf(&b, "%s%s[%" PRId32 "]", i ? ", " : "", parts->elems[i].topic,
                         parts->elems[i].partition);
    if (parts->cnt > 64)
        pgcdc_buf_printf(&b, ", ... (%d in all)", parts->cnt);
    pgcdc_log_info(LOG, "kafka source: %s %d partition%s of group %s%s%s", what, parts->cnt,
                   parts->cnt == 1 ? "" : "s", group, parts->cnt ? ": " : "", b.data ? b.data : "");
    pgcdc_buf_free(&b);
}

/* Partitions of a failed commit are taken again by the next one. */
static void commit_failed(kafka_source *ks, rd_kafka_resp_err_t err,
                          const rd_kafka_topic_partition_list_t *offsets)
{
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &offsets->elems[i];
        if (err || p->err)
            pgcdc_kafka_offsets_failed(ks->offsets, p->topic, p->partition, p->offset);
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    kafka_source *ks = opaque;
    rd_kafka_resp_err_t first = err;
    for (int i = 0; !first && offsets && i < offsets->cnt; i++)
        first = offsets->elems[i].err;
    if (!first || first == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    /* the records stay acknowledged; only their commit is retried (after a
     * rebalance the partition's new owner delivers them again at worst) */
    pgcdc_log_warn(LOG, "kafka source: committing offsets to group %s failed: %s; retrying",
                   ks->group, rd_kafka_err2str(first));
    commit_failed(ks, err, offsets);
}

/*
 * Commits every acknowledged offset not committed yet: asynchronously
 * (results in on_commit) or synchronously (before a revocation and at
 * shutdown, where the next owner must see it). Failures are logged and
 * retried, never fatal: the records are durable in the sinks already.
 */
static void commit_acked(kafka_source *ks, int sync)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
    int n = pgcdc_kafka_offsets_take(ks->offsets, add_to_list, list);
    ks->last_commit_us = pgcdc_mono_us();
    if (n == 0) {
        rd_kafka_topic_partition_list_destroy(list);
        return;
    }
    if (!sync) {
        rd_kafka_resp_err_t e = rd_kafka_commit(ks->rk, list, 1);
        if (e) {
            pgcdc_log_warn(LOG, "kafka source: cannot commit offsets to group %s: %s; retrying",
                           ks->group, rd_kafka_err2str(e));
            commit_failed(ks, e, list);
        }
        rd_kafka_topic_partition_list_destroy(list);
        return;
    }
    /* rd_kafka_commit's sync mode has no time limit of its own: a queue
     * with a deadline keeps a dead coordinator from hanging the shutdown */
    rd_kafka_queue_t *q = rd_kafka_queue_new(ks->rk);
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(ks->rk, list, q, NULL, NULL);
    if (!e) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, COMMIT_SYNC_TIMEOUT_MS);
        if (!ev) {
            e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        } else {
            e = rd_kafka_event_error(ev);
            const rd_kafka_topic_partition_list_t *res = rd_kafka_event_topic_partition_list(ev);
            for (int i = 0; !e && res && i < res->cnt; i++)
                e = res->elems[i].err;
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        pgcdc_log_warn(LOG,
                       "kafka source: committing offsets to group %s failed: %s (the records "
                       "after the last committed offset will be delivered again)",
                       ks->group, rd_kafka_err2str(e));
        commit_failed(ks, e, list);
    } else {
        pgcdc_log_debug(LOG, "kafka source: committed %d partition offsets", n);
    }
    rd_kafka_topic_partition_list_destroy(list);
}

/* ---------- backpressure ---------- */

/* Pauses parts and remembers them for resume_all. */
static void pause_parts(kafka_source *ks, const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_pause_partitions(ks->rk, (rd_kafka_topic_partition_list_t *)parts);
    if (!ks->paused)
        ks->paused = rd_kafka_topic_partition_list_new(parts->cnt ? parts->cnt : 1);
    for (int i = 0; i < parts->cnt; i++)
        if (!rd_kafka_topic_partition_list_find(ks->paused, parts->elems[i].topic,
                                                parts->elems[i].partition))
            rd_kafka_topic_partition_list_add(ks->paused, parts->elems[i].topic,
                                              parts->elems[i].partition);
}

static void pause_all(kafka_source *ks)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(ks->rk, &parts) != 0 || !parts)
        return;
    pause_parts(ks, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    pgcdc_log_debug(LOG, "kafka source: queue full, partitions paused");
}

static void resume_all(kafka_source *ks)
{
    if (!ks->paused)
        return;
    rd_kafka_resume_partitions(ks->rk, ks->paused);
    rd_kafka_topic_partition_list_destroy(ks->paused);
    ks->paused = NULL;
    pgcdc_log_debug(LOG, "kafka source: partitions resumed");
}

/* ---------- batches ---------- */

/* Pushes the current batch if it holds records; pauses consumption when the
 * queue is full. Returns 0, or -1 when the pipeline failed. */
static int push_batch(kafka_source *ks)
{
    if (ks->batch->nrecords == 0)
        return 0;
    pgcdc_pipeline_push(ks->pipe, ks->batch);
    ks->batch = pgcdc_pipeline_batch_get(ks->pipe);
    int r = pgcdc_pipeline_wait_room(ks->pipe, 0);
    if (r < 0) {
        pgcdc_pipeline_failed(ks->pipe, ks->errstr, sizeof(ks->errstr));
        ks->failed = 1;
        return -1;
    }
    if (r == 0 && !ks->paused)
        pause_all(ks);
    return 0;
}

static void status_tick(kafka_source *ks, int force)
{
    int64_t now = pgcdc_mono_us();
    if (!force && now - ks->last_status_us < STATUS_INTERVAL_US)
        return;
    ks->last_status_us = now;
    pgcdc_pipeline_stats st;
    pgcdc_pipeline_stats_get(ks->pipe, &st);
    pgcdc_status_set_stream(ks->status, st.events_acked, st.bytes_queued, 0);
}

static void log_stats(kafka_source *ks, int force)
{
    status_tick(ks, force);
    int64_t now = pgcdc_mono_us();
    if (!force && now - ks->last_stats_us < STATS_INTERVAL_US)
        return;
    pgcdc_pipeline_stats st;
    pgcdc_pipeline_stats_get(ks->pipe, &st);
    double secs = ks->last_stats_us ? (double)(now - ks->last_stats_us) / 1e6 : 0;
    pgcdc_log_info(
        LOG,
        "records acknowledged %" PRIu64 " (r=%" PRIu64 " c=%" PRIu64 " u=%" PRIu64 " d=%" PRIu64
        " t=%" PRIu64 " m=%" PRIu64 " tombstones=%" PRIu64 "), %.0f/s, queued %" PRIu64 " bytes%s",
        st.events_acked, st.acked_by_op['r'], st.acked_by_op['c'], st.acked_by_op['u'],
        st.acked_by_op['d'], st.acked_by_op['t'], st.acked_by_op['m'], st.acked_by_op['0'],
        secs > 0 ? (double)(st.events_acked - ks->last_stats_events) / secs : 0.0, st.bytes_queued,
        ks->paused ? ", consumption paused (sinks behind)" : "");
    ks->last_stats_us = now;
    ks->last_stats_events = st.events_acked;
}

/* Errors that no retry fixes; the rest (broker down, leader moves, ...)
 * librdkafka recovers from by itself. */
static int error_is_fatal(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
    case RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL:
    case RD_KAFKA_RESP_ERR_GROUP_MAX_SIZE_REACHED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
        return 1;
    default:
        return 0;
    }
}

static void consumer_error(kafka_source *ks, const rd_kafka_message_t *m)
{
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;
    char msg[1024];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(ks->rk, reason, sizeof(reason));
        snprintf(msg, sizeof(msg), "kafka source: fatal consumer error (%s): %s",
                 rd_kafka_err2name(orig), reason);
        fail(ks, msg);
        return;
    }
    if (topic && topic[0] == '^' &&
        (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
         m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)) {
        /* a subscription pattern nothing matches yet: it is followed */
        if (!ks->pattern_wait_logged)
            pgcdc_log_info(LOG, "kafka source: no topic matches %s yet; waiting for one", topic);
        ks->pattern_wait_logged = 1;
        return;
    }
    if (!error_is_fatal(m->err)) {
        pgcdc_log_warn(LOG, "kafka source: %s%s%s", topic ? topic : "", topic ? ": " : "",
                       rd_kafka_message_errstr(m));
        return;
    }
    const char *hint = "";
    if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
        hint = " (source.kafka.topics: create the topic or fix the name; a ^regex entry waits "
               "for matching topics instead)";
    else if (m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
        hint = " (source.kafka.group.id: the user needs READ on the group)";
    else if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        hint = " (the user needs READ and DESCRIBE on the topic)";
    else if (m->err == RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL)
        hint = " (the group's other members use another partition.assignment.strategy)";
    snprintf(msg, sizeof(msg), "kafka source: %s%s%s (group %s)%s", topic ? topic : "",
             topic ? ": " : "", rd_kafka_message_errstr(m), ks->group, hint);
    fail(ks, msg);
}

/*
 * Appends one consumed message to the current batch as a record and marks
 * its offset. Messages of partitions no longer assigned (a rebalance raced
 * with the fetch) are skipped: their new owner delivers them. Returns 0, or
 * -1 on a fatal error (in ks->errstr).
 */
static int add_message(kafka_source *ks, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (ks->to_kafka && ks->prefix_len && !strncmp(topic, ks->prefix, ks->prefix_len)) {
        char msg[1024];
        snprintf(msg, sizeof(msg),
                 "kafka source: topic %s starts with source.kafka.sink.topic.prefix '%s': it is "
                 "this pipeline's own output; narrow source.kafka.topics so it no longer matches",
                 topic, ks->prefix);
        fail(ks, msg);
        return -1;
    }
    if (m->rkt != ks->last_rkt || m->partition != ks->last_partition) {
        uint32_t gen = 0;
        int part = pgcdc_kafka_offsets_find(ks->offsets, topic, m->partition, &gen);
        if (part < 0) {
            pgcdc_log_debug(
                LOG, "kafka source: skipping %s[%" PRId32 "]@%" PRId64 ": partition not assigned",
                topic, m->partition, m->offset);
            return 0;
        }
        ks->last_rkt = m->rkt;
        ks->last_partition = m->partition;
        ks->last_part = part;
        ks->last_gen = gen;
    }
    pgcdc_batch *b = ks->batch;
    pgcdc_buf_reset(&ks->topic);
    pgcdc_buf_append(&ks->topic, ks->prefix, ks->prefix_len);
    pgcdc_buf_puts(&ks->topic, topic);
    static const pgcdc_position nopos;
    char op = m->payload ? pgcdc_kafka_value_op(m->payload, m->len) : 'd';
    size_t rec = pgcdc_batch_record_begin(b, ks->topic.data, ks->topic.len, op, &nopos);
    if (m->key)
        pgcdc_buf_append(&b->data, m->key, m->key_len);
    pgcdc_batch_record_mark_key(b, rec, m->key != NULL);
    if (m->payload)
        pgcdc_buf_append(&b->data, m->payload, m->len);
    pgcdc_batch_record_end(b, rec, m->payload == NULL);
    pgcdc_kafka_offsets_mark(&b->source_data, ks->last_part, ks->last_gen, m->offset);
    if (b->nrecords >= (uint32_t)ks->cfg->batch_max_events || b->data.len >= BATCH_MAX_BYTES)
        return push_batch(ks);
    return 0;
}

/* ---------- rebalances ---------- */

/* Before partitions go: push what was read, give the sinks a moment to
 * acknowledge everything, commit what they did. */
static void drain_and_commit(kafka_source *ks)
{
    if (ks->pipe_open && !ks->failed && push_batch(ks) == 0) {
        int64_t deadline = pgcdc_mono_us() + REVOKE_DRAIN_MS * 1000LL;
        while (!pgcdc_pipeline_idle(ks->pipe) && pgcdc_mono_us() < deadline &&
               !pgcdc_pipeline_failed(ks->pipe, NULL, 0))
            usleep(5000);
    }
    commit_acked(ks, 1);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    kafka_source *ks = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    ks->last_rkt = NULL; /* generations change */

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++)
            if (pgcdc_kafka_offsets_assign(ks->offsets, parts->elems[i].topic,
                                           parts->elems[i].partition) < 0)
                fail(ks, "kafka source: out of memory");
        log_partitions("assigned", parts, ks->group);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            e = rd_kafka_assign(rk, parts);
        if (ks->paused)
            pause_parts(ks, parts); /* still waiting for room: the new partitions wait too */
    } else {
        if (rd_kafka_assignment_lost(rk))
            pgcdc_log_warn(LOG, "kafka source: partitions lost (the group moved on without this "
                                "member); their unacknowledged records come again from the new "
                                "owner");
        else
            drain_and_commit(ks);
        for (int i = 0; i < parts->cnt; i++)
            pgcdc_kafka_offsets_revoke(ks->offsets, parts->elems[i].topic,
                                       parts->elems[i].partition);
        log_partitions("revoked", parts, ks->group);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            e = rd_kafka_assign(rk, NULL);
    }
    if (error) {
        char msg[600];
        snprintf(msg, sizeof(msg), "kafka source: rebalance: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        fail(ks, msg);
    } else if (e) {
        char msg[600];
        snprintf(msg, sizeof(msg), "kafka source: rebalance: %s", rd_kafka_err2str(e));
        fail(ks, msg);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    kafka_source *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512], msg[1024];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
        snprintf(msg, sizeof(msg), "kafka source: fatal consumer error (%s): %s",
                 rd_kafka_err2name(orig), buf);
        fail(ks, msg);
        return;
    }
    /* transient (broker down, ...): librdkafka retries */
    pgcdc_log_warn(LOG, "kafka source: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
                   reason);
}

/* ---------- set-up ---------- */

/* The consumer's settings: pgcdc's fixed ones, the shared Kafka settings
 * and passed-through properties, minus those that would commit offsets of
 * records the sinks have not acknowledged. */
static int build_conf(const pgcdc_config *cfg, const char *group, rd_kafka_conf_t *conf,
                      char *errstr, size_t errstr_size)
{
    static const char *const fixed[] = {"enable.auto.commit", "enable.auto.offset.store"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        const char *v = pgcdc_kafka_conf_given(cfg, PGCDC_KAFKA_CONSUMER, fixed[i]);
        if (v && strcmp(v, "false")) {
            snprintf(errstr, errstr_size,
                     "kafka source: %s=%s would commit offsets of records the sinks have not "
                     "acknowledged; pgcdc commits them itself (remove the property)",
                     fixed[i], v);
            return -1;
        }
    }
    if (pgcdc_kafka_conf_given(cfg, PGCDC_KAFKA_CONSUMER, "group.id")) {
        snprintf(errstr, errstr_size,
                 "kafka source: the kafka property group.id is not used: set "
                 "source.kafka.group.id instead");
        return -1;
    }
    if (pgcdc_kafka_conf_set(conf, WHO, "group.id", group, "source.kafka.group.id", errstr,
                             errstr_size) ||
        pgcdc_kafka_conf_set(conf, WHO, "auto.offset.reset",
                             cfg->ksrc_offset_latest ? "latest" : "earliest",
                             "source.kafka.auto.offset.reset", errstr, errstr_size) ||
        pgcdc_kafka_conf_set(conf, WHO, "enable.auto.commit", "false", NULL, errstr, errstr_size) ||
        pgcdc_kafka_conf_set(conf, WHO, "enable.auto.offset.store", "false", NULL, errstr,
                             errstr_size) ||
        pgcdc_kafka_conf_set(conf, WHO, "enable.partition.eof", "false", NULL, errstr, errstr_size))
        return -1;
    if (pgcdc_kafka_conf_apply(conf, cfg, PGCDC_KAFKA_CONSUMER, WHO, errstr, errstr_size))
        return -1;
    rd_kafka_conf_set_log_cb(conf, pgcdc_kafka_log);
    return 0;
}

/* A consumer handle (not subscribed) that reached a broker. NULL with
 * errstr. The conf's callbacks are set by the caller beforehand. */
static rd_kafka_t *consumer_new(const pgcdc_config *cfg, rd_kafka_conf_t *conf, char *errstr,
                                size_t errstr_size)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        snprintf(errstr, errstr_size, "kafka source: %s", err);
        return NULL;
    }
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, NULL, &md, CONNECT_TIMEOUT_MS);
    if (e) {
        snprintf(errstr, errstr_size,
                 "kafka source: no broker at bootstrap.servers=%s answered within %d s: %s (check "
                 "the address, that the broker runs, and security.protocol/SASL settings)",
                 cfg->kafka_bootstrap, CONNECT_TIMEOUT_MS / 1000, rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return NULL;
    }
    rd_kafka_metadata_destroy(md);
    return rk;
}

/*
 * Checks the configured topics against the cluster's (all topics are
 * asked for, which never creates one). Appends a line per entry to report
 * when given. Returns the number of named topics that are missing, or -1
 * with errstr when the metadata cannot be read.
 */
static int topics_check(rd_kafka_t *rk, const pgcdc_config *cfg, pgcdc_buf *report,
                        pgcdc_buf *missing, char *errstr, size_t errstr_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, CONNECT_TIMEOUT_MS);
    if (e) {
        snprintf(errstr, errstr_size, "kafka source: cannot read the cluster's topics from %s: %s",
                 cfg->kafka_bootstrap, rd_kafka_err2str(e));
        return -1;
    }
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = cfg->ksrc_topics;
    int nmissing = 0;
    while (pgcdc_config_list_next(&pos, &item)) {
        if (item.data[0] == '^') {
            regex_t re;
            int matched = 0;
            if (report && regcomp(&re, item.data, REG_EXTENDED | REG_NOSUB) == 0) {
                pgcdc_buf_printf(report, "topics %s: ", item.data);
                for (int i = 0; i < md->topic_cnt; i++)
                    if (md->topics[i].err == 0 && md->topics[i].topic[0] != '_' &&
                        regexec(&re, md->topics[i].topic, 0, NULL, 0) == 0)
                        pgcdc_buf_printf(report, "%s%s (%d partitions)", matched++ ? ", " : "",
                                         md->topics[i].topic, md->topics[i].partition_cnt);
                if (!matched)
                    pgcdc_buf_puts(report, "none yet (followed as topics appear)");
                pgcdc_buf_putc(report, '\n');
                regfree(&re);
            } else if (report) {
                pgcdc_buf_printf(report, "topics %s: not a POSIX extended regular expression\n",
                                 item.data);
                nmissing++;
            }
            continue;
        }
        const struct rd_kafka_metadata_topic *t = NULL;
        for (int i = 0; i < md->topic_cnt && !t; i++)
            if (!strcmp(md->topics[i].topic, item.data))
                t = &md->topics[i];
        if (t && t->err == 0) {
            if (report)
                pgcdc_buf_printf(report, "topic %s: ok, %d partitions\n", item.data,
                                 t->partition_cnt);
            continue;
        }
        nmissing++;
        const char *why = t ? rd_kafka_err2str(t->err) : "does not exist";
        if (report)
            pgcdc_buf_printf(report, "topic %s: PROBLEM: %s\n", item.data, why);
        if (missing)
            pgcdc_buf_printf(missing, "%s%s (%s)", missing->len ? ", " : "", item.data, why);
    }
    pgcdc_buf_free(&item);
    rd_kafka_metadata_destroy(md);
    return nmissing;
}

static int subscribe(kafka_source *ks, char *errstr, size_t errstr_size)
{
    pgcdc_buf item = PGCDC_BUF_INIT;
    const char *pos = ks->cfg->ksrc_topics;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    while (pgcdc_config_list_next(&pos, &item))
        rd_kafka_topic_partition_list_add(list, item.data, RD_KAFKA_PARTITION_UA);
    pgcdc_buf_free(&item);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ks->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (e) {
        snprintf(errstr, errstr_size, "kafka source: subscribing to source.kafka.topics=%s: %s",
                 ks->cfg->ksrc_topics, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

void pgcdc_kafka_source_describe(const pgcdc_config *cfg, pgcdc_buf *out)
{
    char group[256];
    pgcdc_config_kafka_group(cfg, group, sizeof(group));
    pgcdc_buf_printf(out, "kafka source: topics %s from %s, group %s",
                     cfg->ksrc_topics ? cfg->ksrc_topics : "", cfg->kafka_bootstrap, group);
    if (cfg->ksrc_topic_prefix && *cfg->ksrc_topic_prefix)
        pgcdc_buf_printf(out, ", topics renamed to %s<topic>", cfg->ksrc_topic_prefix);
}

int pgcdc_kafka_source_check(const pgcdc_config *cfg, pgcdc_buf *report, char *errstr,
                             size_t errstr_size)
{
    char group[256];
    pgcdc_config_kafka_group(cfg, group, sizeof(group));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (build_conf(cfg, group, conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_t *rk = consumer_new(cfg, conf, errstr, errstr_size);
    if (!rk)
        return -1;
    pgcdc_buf_printf(report, "brokers: %s answered\nconsumer group: %s\n", cfg->kafka_bootstrap,
                     group);
    int problems = topics_check(rk, cfg, report, NULL, errstr, errstr_size);
    rd_kafka_destroy(rk);
    return problems;
}

/* ---------- the loop ---------- */

static int run_loop(kafka_source *ks)
{
    while (!*ks->stop) {
        if (ks->failed)
            return -1;
        if (pgcdc_pipeline_failed(ks->pipe, ks->errstr, sizeof(ks->errstr))) {
            ks->failed = 1;
            return -1;
        }
        if (pgcdc_mono_us() - ks->last_commit_us >= COMMIT_INTERVAL_US)
            commit_acked(ks, 0);
        log_stats(ks, 0);
        if (ks->paused) {
            int r = pgcdc_pipeline_wait_room(ks->pipe, POLL_MS);
            if (r < 0)
                continue; /* reported at the top */
            if (r > 0)
                resume_all(ks);
        }
        /* while the batch fills, take what is already fetched; once nothing
         * is, hand the batch over rather than wait */
        int timeout = ks->paused || ks->batch->nrecords ? 0 : POLL_MS;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ks->rk, timeout);
        if (!m) {
            if (push_batch(ks) != 0)
                return -1;
            continue;
        }
        int rc = 0;
        if (m->err)
            consumer_error(ks, m);
        else
            rc = add_message(ks, m);
        rd_kafka_message_destroy(m);
        if (rc != 0)
            return -1;
    }
    return 0;
}

int pgcdc_kafka_source_run(const pgcdc_config *cfg, const char *data_dir,
                           volatile sig_atomic_t *stop, char *errstr, size_t errstr_size)
{
    kafka_source ks_storage, *ks = &ks_storage;
    memset(ks, 0, sizeof(*ks));
    ks->cfg = cfg;
    ks->stop = stop;
    ks->prefix = cfg->ksrc_topic_prefix ? cfg->ksrc_topic_prefix : "";
    ks->prefix_len = strlen(ks->prefix);
    ks->to_kafka = pgcdc_config_has_sink(cfg, "kafka");
    pgcdc_config_kafka_group(cfg, ks->group, sizeof(ks->group));
    int rc = -1;
    rd_kafka_conf_t *conf = NULL;

    ks->status = pgcdc_status_new(data_dir, "");
    ks->offsets = pgcdc_kafka_offsets_new();
    if (!ks->status || !ks->offsets) {
        fail(ks, "kafka source: out of memory");
        goto out;
    }
    if (pgcdc_status_start_writer(ks->status, ks->errstr, sizeof(ks->errstr)) != 0) {
        ks->failed = 1;
        goto out;
    }
    conf = rd_kafka_conf_new();
    if (build_conf(cfg, ks->group, conf, ks->errstr, sizeof(ks->errstr)) != 0) {
        ks->failed = 1;
        goto out;
    }
    rd_kafka_conf_set_opaque(conf, ks);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_error);
    ks->rk = consumer_new(cfg, conf, ks->errstr, sizeof(ks->errstr));
    conf = NULL; /* owned (or destroyed) by consumer_new */
    if (!ks->rk) {
        ks->failed = 1;
        goto out;
    }
    rd_kafka_poll_set_consumer(ks->rk);
    pgcdc_buf missing = PGCDC_BUF_INIT;
    int nmissing = topics_check(ks->rk, cfg, NULL, &missing, ks->errstr, sizeof(ks->errstr));
    if (nmissing > 0)
        snprintf(ks->errstr, sizeof(ks->errstr),
                 "kafka source: source.kafka.topics: %s on %s: create %s, fix the name, or "
                 "write a ^regular expression to wait for matching topics",
                 missing.data, cfg->kafka_bootstrap, nmissing == 1 ? "it" : "them");
    pgcdc_buf_free(&missing);
    if (nmissing != 0) {
        ks->failed = 1;
        goto out;
    }

    /* the position lives in the group: no offsets.json (data_dir NULL) */
    pgcdc_offsets start;
    memset(&start, 0, sizeof(start));
    ks->pipe = pgcdc_pipeline_new(cfg, NULL, &start, ks->errstr, sizeof(ks->errstr));
    if (!ks->pipe) {
        ks->failed = 1;
        goto out;
    }
    pgcdc_pipeline_set_on_acked(ks->pipe, on_acked, ks);
    ks->pipe_open = 1;
    ks->batch = pgcdc_pipeline_batch_get(ks->pipe);
    if (subscribe(ks, ks->errstr, sizeof(ks->errstr)) != 0) {
        ks->failed = 1;
        goto out;
    }
    pgcdc_log_info(LOG, "kafka source: joining group %s for %s", ks->group, cfg->ksrc_topics);
    pgcdc_status_set_phase(ks->status, PGCDC_PHASE_STREAMING);
    ks->last_commit_us = ks->last_stats_us = pgcdc_mono_us();
    if (run_loop(ks) == 0) {
        pgcdc_log_info(LOG, "stopping: draining sinks");
        rc = push_batch(ks);
    }

out:
    if (ks->pipe) {
        char perr[512];
        if (ks->batch) {
            /* after a failure the unpushed records are just dropped: they
             * were never committed, so they come again */
            pgcdc_batch_free(ks->batch);
            ks->batch = NULL;
        }
        ks->pipe_open = 0;
        int pr = pgcdc_pipeline_close(ks->pipe, perr, sizeof(perr));
        if (pr != 0 && rc == 0) {
            fail(ks, perr);
            rc = -1;
        }
    }
    if (ks->rk) {
        /* what the sinks acknowledged is durable: commit it even after a
         * failure, so a restart or the group's other members go on from there */
        if (ks->pipe)
            commit_acked(ks, 1);
        resume_all(ks);
        rd_kafka_consumer_close(ks->rk); /* leaves the group (revocation commits nothing new) */
        rd_kafka_destroy(ks->rk);
        ks->rk = NULL;
    }
    if (ks->pipe) {
        log_stats(ks, 1);
        pgcdc_pipeline_free(ks->pipe);
    }
    if (conf)
        rd_kafka_conf_destroy(conf);
    if (rc == 0)
        pgcdc_log_info(LOG, "kafka source: stopped; acknowledged offsets committed to group %s",
                       ks->group);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "%s", ks->failed ? ks->errstr : "kafka source: failed");
        pgcdc_status_set_message(ks->status, errstr);
    }
    if (ks->paused)
        rd_kafka_topic_partition_list_destroy(ks->paused);
    pgcdc_buf_free(&ks->topic);
    pgcdc_kafka_offsets_free(ks->offsets);
    pgcdc_status_free(ks->status);
    return rc;
}
