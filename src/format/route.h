/*
 * route.h - topic routing: Kafka Connect's RegexRouter transform, as a
 * connector configuration declares it.
 *
 *   "transforms": "route",
 *   "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
 *   "transforms.route.regex": "([^.]+)\\.([^.]+)\\.([^.]+)",
 *   "transforms.route.replacement": "$3"
 *
 * A topic the regex matches as a whole is replaced by the replacement, with
 * $0..$9 standing for the groups; other topics are left alone. Transforms
 * apply in the listed order. Only the topic changes: schema names keep the
 * original topic, as with Kafka Connect. The regex is POSIX extended syntax
 * (the common Java patterns are the same in both).
 */
#ifndef PGCDC_FORMAT_ROUTE_H
#define PGCDC_FORMAT_ROUTE_H

#include <stddef.h>

#include "common/buf.h"
#include "core/config.h"

typedef struct pgcdc_router pgcdc_router;

/* Builds the router from cfg's transforms; NULL with *errstr empty when
 * there is none, NULL with errstr naming the key on a bad or unsupported
 * transform. */
pgcdc_router *pgcdc_router_new(const pgcdc_config *cfg, char *errstr, size_t errstr_size);
void pgcdc_router_free(pgcdc_router *router);

/* Routes topic[0..len) into out (reset first). Returns 1 when a transform
 * changed it, 0 when it stays (out holds it unchanged). NULL router: 0. */
int pgcdc_router_apply(const pgcdc_router *router, const char *topic, size_t len, pgcdc_buf *out);

#endif
