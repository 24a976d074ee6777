/*
 * kafka_conf.h - librdkafka configuration from pgcdc's settings, shared by
 * the Kafka sink (producer) and the Kafka source (consumer).
 *
 * Both clients reach the same cluster: bootstrap.servers, the Kafka Connect
 * worker-style security settings (security.protocol, sasl.mechanism,
 * sasl.jaas.config) and the passed-through librdkafka properties of their
 * role (kafka.* for both, producer.* / consumer.* for one). Error messages
 * name the key the user wrote and start with the client's name ("kafka
 * sink: ...").
 */
#ifndef PGCDC_COMMON_KAFKA_CONF_H
#define PGCDC_COMMON_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "core/config.h"

/*
 * Sets one property. `given` is the key as the user wrote it (NULL: the
 * property is pgcdc's own choice and named as is). Returns 0, or -1 with
 * errstr "<who>: <given>: <librdkafka's reason>".
 */
int pgcdc_kafka_conf_set(rd_kafka_conf_t *conf, const char *who, const char *key, const char *value,
                         const char *given, char *errstr, size_t errstr_size);

/*
 * Applies bootstrap.servers, a client.id of pgcdc-<name>, the worker-style
 * security settings and then every passed-through property for `role`
 * (PGCDC_KAFKA_PRODUCER or PGCDC_KAFKA_CONSUMER) onto conf, so a
 * passed-through property overrides the caller's defaults set before. The
 * SASL password from sasl.jaas.config is wiped from the stack after use.
 * Returns 0 or -1 with errstr.
 */
int pgcdc_kafka_conf_apply(rd_kafka_conf_t *conf, const pgcdc_config *cfg, int role,
                           const char *who, char *errstr, size_t errstr_size);

/*
 * The value of a passed-through property for `role`, or NULL when the user
 * gave none; for callers that must refuse values that would break their
 * guarantees (acks, auto commit, ...).
 */
const char *pgcdc_kafka_conf_given(const pgcdc_config *cfg, int role, const char *prop);

/* rd_kafka_conf_set_log_cb target: librdkafka's syslog levels to pgcdc's
 * log (3 and below errors, 4 warnings, the rest debug). */
void pgcdc_kafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif
