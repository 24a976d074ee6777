/*
 * registry.c - the list of source kinds, indexed like the choices of
 * source.type (postgres|kafka) in the config table. Adding a source: one
 * folder under src/source/, one choice there and one line here.
 */
#include "source/source.h"

#include <inttypes.h>

#include "source/kafka/kafka_source.h"
#include "source/pg/pg_source.h"

static void pg_describe(const pgcdc_config *cfg, pgcdc_buf *out)
{
    pgcdc_config_describe_conn(cfg, out);
    pgcdc_buf_printf(out, ", slot %s, publication %s, topic prefix %s", cfg->slot_name,
                     cfg->publication_name, cfg->topic_prefix);
}

static const pgcdc_source_type source_types[] = {
    [PGCDC_SOURCE_POSTGRES] = {.name = "postgres",
                               .run = pgcdc_pg_source_run,
                               .describe = pg_describe},
    [PGCDC_SOURCE_KAFKA] = {.name = "kafka",
                            .run = pgcdc_kafka_source_run,
                            .describe = pgcdc_kafka_source_describe},
};

const pgcdc_source_type *pgcdc_source_type_get(const pgcdc_config *cfg)
{
    size_t i = (size_t)cfg->source_type;
    return i < sizeof(source_types) / sizeof(source_types[0]) ? &source_types[i] : &source_types[0];
}
