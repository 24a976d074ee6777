/*
 * stdout_sink.c - prints each record value as one line on standard output
 * (tombstones as "null"), for piping into jq or a quick look. Acknowledges
 * after the stream is flushed: "durable" here means handed to the reader.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sink/sink.h"

typedef struct stdout_sink {
    uint64_t written_seq;
} stdout_sink;

static int stdout_open(pgcdc_sink *sink, const pgcdc_config *cfg, void **state, char *errstr,
                       size_t errstr_size)
{
    (void)sink;
    (void)cfg;
    static stdout_sink the_sink; /* one stdout per process */
    (void)errstr;
    (void)errstr_size;
    *state = &the_sink;
    return 0;
}

static int stdout_write_batch(pgcdc_sink *sink, void *state, const pgcdc_batch *batch, char *errstr,
                              size_t errstr_size)
{
    (void)sink;
    stdout_sink *ss = state;
    size_t off = 0;
    pgcdc_record rec;
    while (pgcdc_batch_next(batch, &off, &rec)) {
        if (rec.value)
            fwrite(rec.value, 1, rec.value_len, stdout);
        else
            fputs("null", stdout);
        if (putchar('\n') == EOF) {
            snprintf(errstr, errstr_size, "stdout sink: write failed: %s", strerror(errno));
            return -1;
        }
    }
    ss->written_seq = batch->seq;
    return 0;
}

static int stdout_flush(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    stdout_sink *ss = state;
    if (fflush(stdout) != 0) {
        snprintf(errstr, errstr_size, "stdout sink: flush failed: %s", strerror(errno));
        return -1;
    }
    pgcdc_sink_ack(sink, ss->written_seq);
    return 0;
}

const pgcdc_sink_type pgcdc_sink_stdout = {
    .name = "stdout",
    .open = stdout_open,
    .write_batch = stdout_write_batch,
    .flush = stdout_flush,
    .poll = NULL,
    .close = NULL,
};
