/*
 * registry.c - the list of sink kinds. Adding a sink: one folder under
 * src/sink/ and one line here.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sink/sink.h"

extern const pgcdc_sink_type pgcdc_sink_elasticsearch;
extern const pgcdc_sink_type pgcdc_sink_file;
extern const pgcdc_sink_type pgcdc_sink_kafka;
extern const pgcdc_sink_type pgcdc_sink_lake;
extern const pgcdc_sink_type pgcdc_sink_stdout;

/* one sink per line */
/* clang-format off */
static const pgcdc_sink_type *const sink_types[] = {
    &pgcdc_sink_elasticsearch,
    &pgcdc_sink_file,
    &pgcdc_sink_kafka,
    &pgcdc_sink_lake,
    &pgcdc_sink_stdout,
};
/* clang-format on */

const pgcdc_sink_type *pgcdc_sink_type_find(const char *name)
{
    for (size_t i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]); i++)
        if (!strcmp(sink_types[i]->name, name))
            return sink_types[i];
    return NULL;
}

static char type_names[256];
static pthread_once_t type_names_once = PTHREAD_ONCE_INIT;

static void type_names_init(void)
{
    size_t off = 0;
    for (size_t i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]); i++)
        off += (size_t)snprintf(type_names + off, sizeof(type_names) - off, "%s%s", i ? ", " : "",
                                sink_types[i]->name);
}

const char *pgcdc_sink_type_names(void)
{
    pthread_once(&type_names_once, type_names_init);
    return type_names;
}
