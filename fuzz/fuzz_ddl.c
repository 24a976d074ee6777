/*
 * fuzz_ddl.c - libFuzzer driver for the schema.changes message decoder and
 * the schema change encoder.
 *
 * The input is the content of a "pgcdc.ddl" logical decoding message. When
 * it decodes, every other table and column is filtered out (the first byte
 * picks the pattern) and the event is encoded with schemas on and off; both
 * key and value of every record must parse as JSON, so escaping and
 * structure hold for any names, types, comments and DDL text.
 *
 * Seeds live in fuzz/corpus/ddl/.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/batch.h"
#include "core/config.h"
#include "format/debezium.h"
#include "source/pg/ddl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const char *p, uint32_t len)
{
    json_error_t je;
    json_t *j = json_loadb(p, len, 0, &je);
    if (!j)
        __builtin_trap();
    json_decref(j);
}

static void encode(pgcdc_ddl_event *ev, int schemas)
{
    pgcdc_config cfg;
    pgcdc_debezium enc;
    pgcdc_batch batch;
    char err[512];
    const char *flag = schemas ? "true" : "false";

    memset(&batch, 0, sizeof(batch));
    pgcdc_config_init(&cfg);
    if (pgcdc_config_set(&cfg, "topic.prefix", "fz", err, sizeof(err)) != 0 ||
        pgcdc_config_set(&cfg, "key.converter.schemas.enable", flag, err, sizeof(err)) != 0 ||
        pgcdc_config_set(&cfg, "value.converter.schemas.enable", flag, err, sizeof(err)) != 0 ||
        pgcdc_debezium_init(&enc, &cfg, "db\"x", err, sizeof(err)) != 0)
        __builtin_trap();
    pgcdc_change chg;
    memset(&chg, 0, sizeof(chg));
    chg.op = 's';
    chg.snapshot = "false";
    chg.pos.event_lsn = 42;
    chg.schema_change = &ev->sc;
    int n = pgcdc_debezium_encode(&enc, &batch, &chg, err, sizeof(err));
    if (n < 0 || (uint32_t)n != batch.nrecords)
        __builtin_trap();
    size_t off = 0;
    pgcdc_record rec;
    while (pgcdc_batch_next(&batch, &off, &rec)) {
        check_json(rec.key, rec.key_len);
        check_json(rec.value, rec.value_len);
    }
    pgcdc_buf_free(&batch.data);
    pgcdc_debezium_free(&enc);
    pgcdc_config_free(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pgcdc_ddl_event ev;
    char err[512];
    if (size < 1)
        return 0;
    unsigned pattern = data[0];
    if (pgcdc_ddl_decode((const char *)data + 1, size - 1, &ev, err, sizeof(err)) != 0) {
        if (err[0] == 0)
            __builtin_trap(); /* every failure explains itself */
        return 0;
    }
    for (size_t i = 0; i < ev.sc.ntables; i++) {
        ev.sc.tables[i].captured = (pattern >> (i % 8)) & 1;
        for (size_t c = 0; c < ev.sc.tables[i].ncols; c++)
            ev.sc.tables[i].cols[c].included = ((pattern >> ((c + 4) % 8)) & 1) == 0;
    }
    encode(&ev, 1);
    encode(&ev, 0);
    pgcdc_ddl_event_free(&ev);
    return 0;
}
