/*
 * source.h - the source interface: where events come from.
 *
 * A source kind is one const pgcdc_source_type, in its own folder
 * (src/source/<name>/), selected by source.type through
 * src/source/registry.c. A source owns the whole life cycle of `pgcdc run`
 * on the calling thread: it creates the pipeline (which opens the sinks),
 * pushes batches, turns acknowledgements into its own durable position and
 * drains everything on a clean stop.
 */
#ifndef PGCDC_SOURCE_SOURCE_H
#define PGCDC_SOURCE_SOURCE_H

#include <signal.h>
#include <stddef.h>

#include "common/buf.h"
#include "core/config.h"

typedef struct pgcdc_source_type {
    const char *name; /* the value of source.type that selects it */
    /*
     * Runs until *stop becomes non-zero (then drains every sink, makes the
     * acknowledged position durable and returns 0) or a fatal error
     * (returns -1 with errstr naming the cause and the fix).
     */
    int (*run)(const pgcdc_config *cfg, const char *data_dir, volatile sig_atomic_t *stop,
               char *errstr, size_t errstr_size);
    /* Appends what the source reads, for the start-up log line. */
    void (*describe)(const pgcdc_config *cfg, pgcdc_buf *out);
} pgcdc_source_type;

/* The source selected by cfg->source_type (never NULL). */
const pgcdc_source_type *pgcdc_source_type_get(const pgcdc_config *cfg);

#endif
