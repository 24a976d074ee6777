/*
 * es_sink.h - what the rest of pgcdc uses of the Elasticsearch sink besides
 * its vtable: the connection check behind `pgcdc check`.
 */
#ifndef PGCDC_SINK_ES_SINK_H
#define PGCDC_SINK_ES_SINK_H

#include <stddef.h>

#include "core/config.h"

/*
 * GET / on elasticsearch.url with the configured credentials and CA. On
 * success returns 0 and writes "Elasticsearch 7.17.29 at URL" to info;
 * otherwise -1 with a message naming the cause (unreachable, TLS, rejected
 * credentials, not Elasticsearch) and the keys to fix. Never logs secrets.
 */
int pgcdc_es_connect_check(const pgcdc_config *cfg, char *info, size_t info_size, char *errstr,
                           size_t errstr_size);

#endif
