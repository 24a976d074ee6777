/*
 * registry.c - the list of sink kinds. Adding a sink: one folder under
 * src/sink/ and one line here.
 */
#include <string.h>

#include "sink/sink.h"

extern const pgcdc_sink_type pgcdc_sink_file;
extern const pgcdc_sink_type pgcdc_sink_stdout;

static const pgcdc_sink_type *const sink_types[] = {
    &pgcdc_sink_file,
    &pgcdc_sink_stdout,
};

const pgcdc_sink_type *pgcdc_sink_type_find(const char *name)
{
    for (size_t i = 0; i < sizeof(sink_types) / sizeof(sink_types[0]); i++)
        if (!strcmp(sink_types[i]->name, name))
            return sink_types[i];
    return NULL;
}

const char *pgcdc_sink_type_names(void)
{
    return "file, stdout";
}
