/*
 * pgtypes_jdbc.c - column metadata the way the PostgreSQL JDBC driver
 * reports it (java.sql.Types code, COLUMN_SIZE, DECIMAL_DIGITS).
 *
 * Debezium fills the jdbcType, length and scale of the columns in schema
 * change events from DatabaseMetaData.getColumns(); pgcdc has no JDBC
 * driver, so it reproduces the driver's rules for the built-in types from
 * the type OID and typmod alone.
 */
#include "format/pgtypes.h"

#include <limits.h>

/* java.sql.Types */
enum {
    JDBC_BIT = -7,
    JDBC_BIGINT = -5,
    JDBC_BINARY = -2,
    JDBC_CHAR = 1,
    JDBC_NUMERIC = 2,
    JDBC_INTEGER = 4,
    JDBC_SMALLINT = 5,
    JDBC_REAL = 7,
    JDBC_DOUBLE = 8,
    JDBC_VARCHAR = 12,
    JDBC_DATE = 91,
    JDBC_TIME = 92,
    JDBC_TIMESTAMP = 93,
    JDBC_OTHER = 1111,
    JDBC_DISTINCT = 2001,
    JDBC_STRUCT = 2002,
    JDBC_ARRAY = 2003,
    JDBC_REF_CURSOR = 2012,
};

/* The driver's length for types it knows nothing about. */
#define UNKNOWN_LENGTH INT_MAX

/* The types the driver registers at startup, with their array types: only
 * these get a fixed java.sql.Types code, and only their arrays are measured
 * by the element type. */
static const struct {
    uint32_t oid, array_oid;
    int jdbc;
} core_types[] = {
    {21, 1005, JDBC_SMALLINT},     /* int2 */
    {23, 1007, JDBC_INTEGER},      /* int4 */
    {26, 1028, JDBC_BIGINT},       /* oid */
    {20, 1016, JDBC_BIGINT},       /* int8 */
    {790, 791, JDBC_DOUBLE},       /* money */
    {1700, 1231, JDBC_NUMERIC},    /* numeric */
    {700, 1021, JDBC_REAL},        /* float4 */
    {701, 1022, JDBC_DOUBLE},      /* float8 */
    {18, 1002, JDBC_CHAR},         /* "char" */
    {1042, 1014, JDBC_CHAR},       /* bpchar */
    {1043, 1015, JDBC_VARCHAR},    /* varchar */
    {25, 1009, JDBC_VARCHAR},      /* text */
    {19, 1003, JDBC_VARCHAR},      /* name */
    {17, 1001, JDBC_BINARY},       /* bytea */
    {16, 1000, JDBC_BIT},          /* bool */
    {1560, 1561, JDBC_BIT},        /* bit */
    {1082, 1182, JDBC_DATE},       /* date */
    {1083, 1183, JDBC_TIME},       /* time */
    {1266, 1270, JDBC_TIME},       /* timetz */
    {1114, 1115, JDBC_TIMESTAMP},  /* timestamp */
    {1184, 1185, JDBC_TIMESTAMP},  /* timestamptz */
    {1790, 2201, JDBC_REF_CURSOR}, /* refcursor */
    {114, 199, JDBC_OTHER},        /* json */
    {600, 1017, JDBC_OTHER},       /* point */
};

#define N_CORE (sizeof(core_types) / sizeof(core_types[0]))

/* Length in characters of the text form, for the types measured that way. */
static int display_size(uint32_t oid, int32_t typmod)
{
    int secs;
    switch (oid) {
    case 1082: /* date */
        return 13;
    case 1083: /* time */
    case 1266: /* timetz */
    case 1114: /* timestamp */
    case 1184: /* timestamptz */
        /* fractional digits plus the point; time(1) prints two digits */
        secs = typmod == -1 ? 7 : typmod == 0 ? 0 : typmod == 1 ? 3 : typmod + 1;
        if (oid == 1083)
            return 8 + secs;
        if (oid == 1266)
            return 8 + secs + 6;
        if (oid == 1114)
            return 13 + 1 + 8 + secs;
        return 13 + 1 + 8 + secs + 6;
    case 1186: /* interval */
        return 49;
    case 1700: /* numeric */
        if (typmod == -1)
            return 131089;
        return 1 + (((typmod - 4) >> 16) & 0xffff) + (((typmod - 4) & 0xffff) != 0);
    default:
        return UNKNOWN_LENGTH;
    }
}

static int precision(uint32_t oid, int32_t typmod)
{
    switch (oid) {
    case 21:
        return 5;
    case 23:
    case 26:
        return 10;
    case 20:
        return 19;
    case 700:
        return 8;
    case 701:
        return 17;
    case 1700:
        return typmod == -1 ? 0 : ((typmod - 4) & 0xffff0000) >> 16;
    case 18:
    case 16:
        return 1;
    case 1042:
    case 1043:
        return typmod == -1 ? UNKNOWN_LENGTH : typmod - 4;
    case 1082:
    case 1083:
    case 1266:
    case 1186:
    case 1114:
    case 1184:
        return display_size(oid, typmod);
    case 1560:
        return typmod;
    case 1562: /* varbit */
        return typmod == -1 ? UNKNOWN_LENGTH : typmod;
    default:
        return UNKNOWN_LENGTH;
    }
}

static int scale(uint32_t oid, int32_t typmod)
{
    switch (oid) {
    case 700:
        return 8;
    case 701:
        return 17;
    case 1700:
        return typmod == -1 ? 0 : (typmod - 4) & 0xffff;
    case 1083:
    case 1266:
    case 1114:
    case 1184:
        return typmod == -1 ? 6 : typmod;
    case 1186:
        return typmod == -1 ? 6 : typmod & 0xffff;
    default:
        return 0;
    }
}

void pgcdc_pgtype_jdbc(uint32_t oid, uint32_t elem_oid, int is_array, char typtype, int32_t typmod,
                       pgcdc_jdbc_meta *out)
{
    uint32_t measured = oid;
    int jdbc = 0;

    for (size_t i = 0; i < N_CORE; i++) {
        if (core_types[i].oid == oid)
            jdbc = core_types[i].jdbc;
        else if (core_types[i].array_oid == oid && elem_oid == core_types[i].oid)
            measured = elem_oid; /* the driver sizes core arrays by their element */
    }
    if (!jdbc) {
        if (is_array)
            jdbc = JDBC_ARRAY;
        else if (typtype == 'e')
            jdbc = JDBC_VARCHAR;
        else if (typtype == 'c')
            jdbc = JDBC_STRUCT;
        else if (typtype == 'd')
            jdbc = JDBC_DISTINCT;
        else
            jdbc = JDBC_OTHER;
    }
    out->jdbc_type = jdbc;
    out->length = precision(measured, typmod);
    if (jdbc != JDBC_NUMERIC && out->length == 0)
        out->length = display_size(measured, typmod);
    out->scale = scale(measured, typmod);
    /* an unconstrained numeric has no scale at all, not scale 0 */
    out->has_scale = !(jdbc == JDBC_NUMERIC && typmod == -1);
}
