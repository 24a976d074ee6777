/*
 * kafka_source.h - the Kafka source: Debezium-format topics, read in a
 * consumer group, to the sinks.
 *
 * Every consumed message becomes one record with the same topic (behind an
 * optional prefix), key and value bytes as they are; tombstones stay null
 * values. Offsets are committed to the group only for records every sink
 * has acknowledged, so several processes in one group split the partitions
 * and a crashed member's partitions continue elsewhere from the last
 * acknowledged record (at least once: the unacknowledged tail comes again).
 */
#ifndef PGCDC_SOURCE_KAFKA_KAFKA_SOURCE_H
#define PGCDC_SOURCE_KAFKA_KAFKA_SOURCE_H

#include <signal.h>
#include <stddef.h>

#include "common/buf.h"
#include "core/config.h"

/*
 * Runs until *stop becomes non-zero (then drains every sink, commits what
 * they acknowledged, leaves the group and returns 0) or a fatal error
 * (returns -1 with errstr: no broker, a missing topic, a refused property,
 * a sink failure, a group or topic authorization error). Broker outages
 * after the start are retried by librdkafka. data_dir holds status.json;
 * the position is the group's committed offsets, not offsets.json.
 */
int pgcdc_kafka_source_run(const pgcdc_config *cfg, const char *data_dir,
                           volatile sig_atomic_t *stop, char *errstr, size_t errstr_size);

/* Appends "topics ..., group ..., brokers ..." for the start-up log line. */
void pgcdc_kafka_source_describe(const pgcdc_config *cfg, pgcdc_buf *out);

/*
 * `pgcdc check` for a Kafka source: connects, then appends one line per
 * configured topic (its partitions, or that it is missing; regular
 * expressions with the topics they match now) to report. Returns the
 * number of problems found, or -1 with errstr when no broker answers or the
 * settings are refused.
 */
int pgcdc_kafka_source_check(const pgcdc_config *cfg, pgcdc_buf *report, char *errstr,
                             size_t errstr_size);

#endif
