/*
 * fuzz_pgtypes.c - libFuzzer driver for the PostgreSQL text -> Debezium
 * value converters.
 *
 * The first input byte picks the column type (a builtin OID, its array, or
 * an enum/domain served by a fake catalog) and a typmod variant, the second
 * the handling modes; the rest is the column text. Every conversion must
 * either succeed with a well-formed, NUL-terminated buffer or fail with an
 * error message, never crash; schema and unavailable-value output is
 * exercised for the same type.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "format/pgtypes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t oids[] = {
    16,   17,   18,    19,    20,    21,    23,   25,   26,    114,  142,  650,  700,
    701,  774,  790,   829,   869,   1042,  1043, 1082, 1083,  1114, 1184, 1186, 1266,
    1560, 1562, 1700,  2950,  3614,  3802,  3904, 1000, 1001,  1005, 1007, 1009, 1016,
    1021, 1022, 1115,  1182,  1183,  1185,  1187, 1231, 1270,  1561, 1563, 2951, 3807,
    199,  791,  70000, 70001, 70002, 70003, 603,  1020, 12345, 600,  1017, 70004};

static int lookup(void *ctx, uint32_t oid, pgcdc_type_info *info)
{
    (void)ctx;
    memset(info, 0, sizeof(*info));
    info->oid = oid;
    switch (oid) {
    case 70000:
        info->typtype = 'e';
        info->name = "e";
        info->enum_labels = "a,b,\"c\"";
        return 0;
    case 70001:
        info->typtype = 'b';
        info->name = "_e";
        info->elem_oid = 70000;
        return 0;
    case 70002:
        info->typtype = 'd';
        info->name = "d";
        info->base_oid = 1700;
        info->base_typmod = ((12 << 16) | 3) + 4;
        return 0;
    case 70003:
        info->typtype = 'd';
        info->name = "loop";
        info->base_oid = 70003;
        return 0;
    case 70004:
        info->typtype = 'b';
        info->name = "hstore";
        return 0;
    default:
        return -1;
    }
}

static const int32_t typmods[] = {
    -1, 0, 1, 3, 6, 14, ((10 << 16) | 2) + 4, ((5 << 16) | (0x7fe)) + 4, ((1000 << 16) | 500) + 4,
    64};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t oid = oids[data[0] % (sizeof(oids) / sizeof(oids[0]))];
    int32_t typmod =
        typmods[(data[0] / 64 + data[1] / 32) % (sizeof(typmods) / sizeof(typmods[0]))];
    pgcdc_type_opts opts;
    opts.decimal_mode = (pgcdc_decimal_mode)(data[1] % 3);
    opts.time_mode = (pgcdc_time_mode)((data[1] / 3) % 3);
    opts.binary_mode = (pgcdc_binary_mode)((data[1] / 9) % 4);
    opts.interval_mode = (pgcdc_interval_mode)((data[1] / 36) % 2);
    opts.hstore_mode = (pgcdc_hstore_mode)((data[1] / 72) % 2);

    pgcdc_coltype ct;
    char err[256];
    if (pgcdc_coltype_resolve(&ct, oid, typmod, lookup, NULL, err, sizeof(err)) != 0) {
        if (!memchr(err, 0, sizeof(err)))
            __builtin_trap();
        return 0;
    }
    pgcdc_buf buf = PGCDC_BUF_INIT;
    PGCDC_BUF_LIT(&buf, "x");
    err[0] = 0;
    int rc =
        pgcdc_coltype_value(&buf, &ct, &opts, (const char *)data + 2, size - 2, err, sizeof(err));
    if (rc == 0) {
        if (buf.len < 2 || buf.data[buf.len] != 0)
            __builtin_trap();
    } else {
        /* on error the buffer is restored and a message is set */
        if (buf.len != 1 || err[0] == 0)
            __builtin_trap();
    }
    pgcdc_buf_reset(&buf);
    pgcdc_coltype_schema(&buf, &ct, &opts, "f", (int)(size & 1));
    pgcdc_coltype_unavailable(&buf, &ct, &opts);
    pgcdc_coltype_clear(&ct);
    pgcdc_buf_free(&buf);
    return 0;
}
