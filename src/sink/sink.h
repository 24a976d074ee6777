/*
 * sink.h - the sink plugin interface.
 *
 * A sink kind is one const pgcdc_sink_type, written with designated
 * initializers in its own folder (src/sink/<name>/) and listed once in
 * src/sink/registry.c. The pipeline gives each configured sink one worker
 * thread; all vtable functions of a sink run on that thread.
 *
 * Acknowledgements: a sink calls pgcdc_sink_ack(sink, seq) once every batch
 * up to and including `seq` is durable at the destination (fsynced, acked by
 * the broker, confirmed by the cluster). Acks must be monotonic. They may
 * come from write_batch, flush or poll, or from a library thread of the sink
 * (pgcdc_sink_ack is thread-safe). Nothing is confirmed to the replication
 * slot until every sink has acknowledged it.
 */
#ifndef PGCDC_SINK_SINK_H
#define PGCDC_SINK_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/config.h"

typedef struct pgcdc_sink pgcdc_sink;

typedef struct pgcdc_sink_type {
    const char *name; /* the value of sink.type that selects it */
    /* Opens destinations; *state is the sink's private data. */
    int (*open)(pgcdc_sink *sink, const pgcdc_config *cfg, void **state, char *errstr,
                size_t errstr_size);
    /* Hands over one batch (in sequence order). The batch stays valid until
     * the sink acknowledges it. */
    int (*write_batch)(pgcdc_sink *sink, void *state, const pgcdc_batch *batch, char *errstr,
                       size_t errstr_size);
    /* Makes everything written so far durable and acknowledges it (or starts
     * that, for asynchronous sinks). Called when the worker runs out of
     * queued batches and at shutdown. */
    int (*flush)(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size);
    /* Optional: services asynchronous acknowledgements (delivery reports);
     * called at least every 100 ms while the sink has unacknowledged data. */
    int (*poll)(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size);
    void (*close)(pgcdc_sink *sink, void *state);
} pgcdc_sink_type;

/* Looks up a sink kind by name; NULL if unknown. */
const pgcdc_sink_type *pgcdc_sink_type_find(const char *name);
/* Comma-separated names of all sink kinds, for error messages. */
const char *pgcdc_sink_type_names(void);

/* Thread-safe: batches up to `seq` are durable at this sink. */
void pgcdc_sink_ack(pgcdc_sink *sink, uint64_t seq);

/* Thread-safe: the pipeline is shutting down. Sinks that hold data back
 * (to build larger files) hand everything over when it is. */
int pgcdc_sink_stopping(pgcdc_sink *sink);

/* Name of the sink, for logs. */
const char *pgcdc_sink_name(const pgcdc_sink *sink);

#endif
