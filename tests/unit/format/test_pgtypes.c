/*
 * test_pgtypes.c - unit tests for the PostgreSQL type -> Debezium value and
 * schema conversion (src/format/pgtypes*.c).
 *
 * Expected values come from Debezium 3.x's own test fixtures where they
 * exist (AbstractRecordsProducerTest: timestamps, bits, intervals, money)
 * and otherwise from Java semantics recomputed by hand (BigInteger
 * .toByteArray, MicroDuration.durationMicros, java.time formatting).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "format/pgtypes.h"
#include "test.h"

static pgcdc_buf out = PGCDC_BUF_INIT;
static char err[256];

static const pgcdc_type_opts O_DEF = {PGCDC_DECIMAL_PRECISE, PGCDC_TIME_ADAPTIVE,
                                      PGCDC_BINARY_BYTES, PGCDC_INTERVAL_NUMERIC,
                                      PGCDC_HSTORE_JSON};

/* Converts with default options; returns the JSON text or "ERR". */
static const char *cv(uint32_t oid, int32_t typmod, const char *text)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, typmod, NULL, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    PGCDC_BUF_LIT(&out, "");
    int rc = pgcdc_coltype_value(&out, &ct, &O_DEF, text, strlen(text), err, sizeof(err));
    pgcdc_coltype_clear(&ct);
    return rc == 0 ? out.data : "ERR";
}

/* Same with explicit options. */
static const char *cvo(uint32_t oid, int32_t typmod, const pgcdc_type_opts *o, const char *text)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, typmod, NULL, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    PGCDC_BUF_LIT(&out, "");
    int rc = pgcdc_coltype_value(&out, &ct, o, text, strlen(text), err, sizeof(err));
    pgcdc_coltype_clear(&ct);
    return rc == 0 ? out.data : "ERR";
}

static const char *sch(uint32_t oid, int32_t typmod, const pgcdc_type_opts *o, int optional)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, typmod, NULL, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    pgcdc_coltype_schema(&out, &ct, o, "c", optional);
    pgcdc_coltype_clear(&ct);
    return out.data;
}

static const char *unav(uint32_t oid, int32_t typmod, const pgcdc_type_opts *o)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, typmod, NULL, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    PGCDC_BUF_LIT(&out, "");
    pgcdc_coltype_unavailable(&out, &ct, o);
    pgcdc_coltype_clear(&ct);
    return out.data;
}

static int32_t numtm(int p, int s)
{
    return (int32_t)(((uint32_t)p << 16 | ((uint32_t)s & 0x7ff)) + 4);
}

static void test_bool_int(void)
{
    CHECK_STR(cv(16, -1, "t"), "true");
    CHECK_STR(cv(16, -1, "f"), "false");
    CHECK_STR(cv(16, -1, "x"), "ERR");
    CHECK_STR(cv(21, -1, "-32768"), "-32768");
    CHECK_STR(cv(21, -1, "32767"), "32767");
    CHECK_STR(cv(21, -1, "32768"), "ERR");
    CHECK_STR(cv(23, -1, "-2147483648"), "-2147483648");
    CHECK_STR(cv(23, -1, "2147483647"), "2147483647");
    CHECK_STR(cv(23, -1, "2147483648"), "ERR");
    CHECK_STR(cv(20, -1, "-9223372036854775808"), "-9223372036854775808");
    CHECK_STR(cv(20, -1, "9223372036854775807"), "9223372036854775807");
    CHECK_STR(cv(20, -1, "9223372036854775808"), "ERR");
    CHECK_STR(cv(26, -1, "4294967295"), "4294967295");
    CHECK_STR(cv(23, -1, ""), "ERR");
    CHECK_STR(cv(23, -1, "abc"), "ERR");
    CHECK(strstr(err, "cannot convert 'abc' to int4") != NULL);
    CHECK_STR(cv(23, -1, "1 "), "ERR");
}

static void test_error_truncation(void)
{
    char longtext[300];
    memset(longtext, 'x', sizeof(longtext) - 1);
    longtext[sizeof(longtext) - 1] = 0;
    CHECK_STR(cv(23, -1, longtext), "ERR");
    CHECK(strlen(err) < 120);
    CHECK(strstr(err, "...") != NULL);
    /* the output buffer is left untouched on errors */
    pgcdc_coltype ct;
    pgcdc_coltype_resolve(&ct, 1007, -1, NULL, NULL, err, sizeof(err));
    pgcdc_buf_reset(&out);
    PGCDC_BUF_LIT(&out, "prefix");
    CHECK_INT(pgcdc_coltype_value(&out, &ct, &O_DEF, "{1,x}", 5, err, sizeof(err)), -1);
    CHECK_STR(out.data, "prefix");
    pgcdc_coltype_clear(&ct);
}

static void test_floats(void)
{
    CHECK_STR(cv(701, -1, "NaN"), "\"NaN\"");
    CHECK_STR(cv(701, -1, "Infinity"), "\"Infinity\"");
    CHECK_STR(cv(701, -1, "-Infinity"), "\"-Infinity\"");
    CHECK_STR(cv(701, -1, "-0"), "-0.0");
    CHECK_STR(cv(701, -1, "1e-05"), "1.0E-5");
    CHECK_STR(cv(701, -1, "1e+07"), "1.0E7");
    CHECK_STR(cv(701, -1, "1234567.5"), "1234567.5");
    CHECK_STR(cv(701, -1, "0.1"), "0.1");
    CHECK_STR(cv(701, -1, "1e-310"), "1.0E-310");
    CHECK_STR(cv(701, -1, "1.7976931348623157e+308"), "1.7976931348623157E308");
    CHECK_STR(cv(700, -1, "1.1"), "1.1");
    CHECK_STR(cv(700, -1, "3.4028235e+38"), "3.4028235E38");
    CHECK_STR(cv(700, -1, "1e-40"), "1.0E-40");
    CHECK_STR(cv(700, -1, "NaN"), "\"NaN\"");
    CHECK_STR(cv(700, -1, "-Infinity"), "\"-Infinity\"");
    CHECK_STR(cv(701, -1, "1.5x"), "ERR");
    CHECK_STR(cv(701, -1, ""), "ERR");
}

static void test_numeric_precise(void)
{
    int32_t n52 = numtm(5, 2);
    CHECK_STR(cv(1700, n52, "0.00"), "\"AA==\"");
    CHECK_STR(cv(1700, n52, "1.27"), "\"fw==\"");
    CHECK_STR(cv(1700, n52, "1.28"), "\"AIA=\"");
    CHECK_STR(cv(1700, n52, "-1.28"), "\"gA==\"");
    CHECK_STR(cv(1700, n52, "-1.29"), "\"/38=\"");
    CHECK_STR(cv(1700, n52, "2.55"), "\"AP8=\"");
    CHECK_STR(cv(1700, n52, "2.56"), "\"AQA=\"");
    CHECK_STR(cv(1700, n52, "-2.56"), "\"/wA=\"");
    CHECK_STR(cv(1700, n52, "-2.55"), "\"/wE=\"");
    CHECK_STR(cv(1700, n52, "-327.68"), "\"gAA=\"");
    CHECK_STR(cv(1700, n52, "-327.69"), "\"/3//\"");
    CHECK_STR(cv(1700, n52, "-0.01"), "\"/w==\"");
    CHECK_STR(cv(1700, numtm(10, 0), "123450"), "\"AeI6\"");
    CHECK_STR(cv(1700, numtm(10, 3), "12.345"), "\"MDk=\"");
    CHECK_STR(cv(1700, numtm(10, 3), "-12.345"), "\"z8c=\"");
    /* fewer digits than the scale are padded (setScale) */
    CHECK_STR(cv(1700, numtm(10, 4), "1.2345"), "\"MDk=\"");
    CHECK_STR(cv(1700, numtm(7, 4), "12.3"), "\"AeB4\"");
    /* 38 nines, and -10^38 */
    CHECK_STR(cv(1700, numtm(38, 0), "99999999999999999999999999999999999999"),
              "\"SztMqFqGxHoJiiI//////w==\"");
    CHECK_STR(cv(1700, numtm(39, 0), "-100000000000000000000000000000000000000"),
              "\"tMSzV6V5O4X2dd3AAAAAAA==\"");
    /* special values are errors in precise mode, like Debezium's ConnectException */
    CHECK_STR(cv(1700, n52, "NaN"), "ERR");
    CHECK(strstr(err, "precise") != NULL);
    CHECK_STR(cv(1700, n52, "Infinity"), "ERR");
    CHECK_STR(cv(1700, -1, "-Infinity"), "ERR");
    CHECK_STR(cv(1700, n52, "1.234"), "ERR"); /* cannot happen from PostgreSQL */
    CHECK_STR(cv(1700, n52, "1.230"), "\"ew==\"");
    CHECK_STR(cv(1700, n52, "abc"), "ERR");
    CHECK_STR(cv(1700, n52, "."), "ERR");
    CHECK_STR(cv(1700, n52, "1e5"), "ERR");
}

static void test_numeric_negative_scale(void)
{
    /* numeric(5,-2): 12300 = 123 * 10^2 */
    int32_t tm = numtm(5, -2);
    CHECK_STR(cv(1700, tm, "12300"), "\"ew==\"");
    CHECK_STR(cv(1700, tm, "-12800"), "\"gA==\"");
    CHECK_STR(cv(1700, tm, "0"), "\"AA==\"");
    CHECK_STR(cv(1700, tm, "12345"), "ERR");
    CHECK_STR(sch(1700, tm, &O_DEF, 0),
              "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data."
              "Decimal\",\"version\":1,\"parameters\":{\"scale\":\"-2\",\"connect.decimal."
              "precision\":\"5\"},\"field\":\"c\"}");
}

static void test_numeric_variable(void)
{
    CHECK_STR(cv(1700, -1, "1.1"), "{\"scale\":1,\"value\":\"Cw==\"}");
    CHECK_STR(cv(1700, -1, "1.500"), "{\"scale\":1,\"value\":\"Dw==\"}");
    CHECK_STR(cv(1700, -1, "100"), "{\"scale\":0,\"value\":\"ZA==\"}");
    CHECK_STR(cv(1700, -1, "0.000"), "{\"scale\":0,\"value\":\"AA==\"}");
    CHECK_STR(cv(1700, -1, "-0.5"), "{\"scale\":1,\"value\":\"+w==\"}");
    CHECK_STR(cv(1700, -1, "-12345678901234567890123456789012345678901234567890"),
              "{\"scale\":0,\"value\":\"942AnJZVB8Ner9mLhQc4DmkxwPUu\"}");
}

/* value mod m of a big-endian two's complement byte string */
static long long bytes_mod(const unsigned char *p, size_t n, long long m)
{
    long long r = 0;
    for (size_t i = 0; i < n; i++)
        r = (r * 256 + p[i]) % m;
    if (n && (p[0] & 0x80)) {
        /* subtract 2^(8n) */
        long long t = 1;
        for (size_t i = 0; i < n; i++)
            t = t * 256 % m;
        r = ((r - t) % m + m) % m;
    }
    return r;
}

static size_t b64dec(const char *s, size_t n, unsigned char *outp)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *q = strchr(tbl, s[i]);
        if (!q)
            return 0;
        acc = acc << 6 | (uint32_t)(q - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            outp[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

static void test_numeric_huge(void)
{
    static char digits[1200];
    static unsigned char raw[1200];
    memset(digits, '9', 1000);
    digits[1000] = 0;
    const char *r = cv(1700, -1, digits);
    CHECK(strncmp(r, "{\"scale\":0,\"value\":\"A842x+d09rAV40paVOby20q+h8qyrjLHo+js82RT", 58) == 0);
    CHECK(strlen(r) == 19 + 556 + 2 + 1);
    CHECK(strstr(r, "//////////////////8=\"}") != NULL);
    /* a pseudo-random 1000-digit negative number, verified modulo primes */
    digits[0] = '-';
    unsigned seed = 12345;
    for (int i = 1; i <= 1000; i++) {
        seed = seed * 1103515245u + 12345u;
        digits[i] = (char)('0' + (seed >> 16) % 10);
    }
    digits[1] = '7';
    digits[1001] = 0;
    r = cv(1700, -1, digits);
    const char *v = strstr(r, "\"value\":\"");
    CHECK(v != NULL);
    if (v) {
        v += 9;
        size_t n = b64dec(v, strcspn(v, "\""), raw);
        CHECK(n > 400);
        CHECK(raw[0] & 0x80);
        const long long primes[] = {1000000007LL, 998244353LL, 2147483647LL};
        for (int k = 0; k < 3; k++) {
            long long m = primes[k], d = 0;
            for (int i = 1; i <= 1000; i++)
                d = (d * 10 + (digits[i] - '0')) % m;
            d = (m - d) % m; /* negative */
            CHECK_INT(bytes_mod(raw, n, m), d);
        }
    }
    /* 1000 digits with scale: numeric(1000, 500) */
    memset(digits, '1', 1001);
    digits[500] = '.';
    digits[1001] = 0;
    r = cv(1700, numtm(1000, 500), digits);
    CHECK(r[0] == '"' && strlen(r) > 500);
}

static void test_numeric_modes(void)
{
    pgcdc_type_opts od = O_DEF, os = O_DEF;
    od.decimal_mode = PGCDC_DECIMAL_DOUBLE;
    os.decimal_mode = PGCDC_DECIMAL_STRING;
    CHECK_STR(cvo(1700, numtm(5, 2), &od, "1.50"), "1.5");
    CHECK_STR(cvo(1700, -1, &od, "NaN"), "\"NaN\"");
    CHECK_STR(cvo(1700, -1, &od, "-Infinity"), "\"-Infinity\"");
    CHECK_STR(cvo(1700, -1, &od, "12345678901234567890"), "1.2345678901234567E19");
    CHECK_STR(cvo(1700, numtm(5, 2), &os, "1.50"), "\"1.50\"");
    CHECK_STR(cvo(1700, numtm(5, 3), &os, "1.50"), "\"1.500\"");
    CHECK_STR(cvo(1700, -1, &os, "-0.0100"), "\"-0.0100\"");
    CHECK_STR(cvo(1700, -1, &os, "NaN"), "\"NAN\"");
    CHECK_STR(cvo(1700, -1, &os, "Infinity"), "\"POSITIVE_INFINITY\"");
    CHECK_STR(cvo(1700, -1, &os, "-Infinity"), "\"NEGATIVE_INFINITY\"");
    CHECK_STR(sch(1700, -1, &od, 1), "{\"type\":\"double\",\"optional\":true,\"field\":\"c\"}");
    CHECK_STR(sch(1700, -1, &os, 0), "{\"type\":\"string\",\"optional\":false,\"field\":\"c\"}");
    CHECK_STR(sch(1700, numtm(10, 2), &O_DEF, 1),
              "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data."
              "Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\",\"connect.decimal."
              "precision\":\"10\"},\"field\":\"c\"}");
    CHECK_STR(sch(1700, -1, &O_DEF, 1),
              "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":"
              "\"scale\"},{\"type\":\"bytes\",\"optional\":false,\"field\":\"value\"}],"
              "\"optional\":true,\"name\":\"io.debezium.data.VariableScaleDecimal\",\"version\":1,"
              "\"doc\":\"Variable scaled decimal\",\"field\":\"c\"}");
}

static void test_money(void)
{
    pgcdc_type_opts od = O_DEF, os = O_DEF;
    od.decimal_mode = PGCDC_DECIMAL_DOUBLE;
    os.decimal_mode = PGCDC_DECIMAL_STRING;
    /* 1234.11 -> unscaled 123411 = 0x01E213 */
    CHECK_STR(cv(790, -1, "$1,234.11"), "\"AeIT\"");
    CHECK_STR(cv(790, -1, "-$1,234.11"), "\"/h3t\"");
    CHECK_STR(cv(790, -1, "($1,234.11)"), "\"/h3t\"");
    CHECK_STR(cv(790, -1, "$0.00"), "\"AA==\"");
    CHECK_STR(cv(790, -1, "-$92,233,720,368,547,758.08"), "\"gAAAAAAAAAA=\"");
    CHECK_STR(cvo(790, -1, &od, "$1,234.11"), "1234.11");
    CHECK_STR(cvo(790, -1, &os, "-$1,234.11"), "\"-1234.11\"");
    CHECK_STR(cv(790, -1, "$1,2x"), "ERR");
    CHECK_STR(sch(790, -1, &O_DEF, 1),
              "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data."
              "Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\"},\"field\":\"c\"}");
}

static void test_text_like(void)
{
    CHECK_STR(cv(25, -1, "h\xc3\xa9llo \"q\" \\ \n\t\x01"),
              "\"h\xc3\xa9llo \\\"q\\\" \\\\ \\n\\t\\u0001\"");
    CHECK_STR(cv(1042, 14, "ab        "), "\"ab        \"");
    CHECK_STR(cv(114, -1, "{\"a\": [1, \"\xe2\x82\xac\"]}"),
              "\"{\\\"a\\\": [1, \\\"\xe2\x82\xac\\\"]}\"");
    CHECK_STR(cv(3802, -1, "{}"), "\"{}\"");
    CHECK_STR(cv(2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
              "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    CHECK_STR(cv(869, -1, "192.168.0.1/24"), "\"192.168.0.1/24\"");
    CHECK_STR(cv(99999, -1, "whatever"), "\"whatever\""); /* unknown -> text */
    CHECK_STR(sch(114, -1, &O_DEF, 1), "{\"type\":\"string\",\"optional\":true,\"name\":\"io."
                                       "debezium.data.Json\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(2950, -1, &O_DEF, 0), "{\"type\":\"string\",\"optional\":false,\"name\":\"io."
                                        "debezium.data.Uuid\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(142, -1, &O_DEF, 0), "{\"type\":\"string\",\"optional\":false,\"name\":\"io."
                                       "debezium.data.Xml\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1043, 14, &O_DEF, 0), "{\"type\":\"string\",\"optional\":false,\"field\":\"c\"}");
    CHECK_STR(sch(99999, -1, &O_DEF, 1), "{\"type\":\"string\",\"optional\":true,\"field\":\"c\"}");
    CHECK_STR(sch(3614, -1, &O_DEF, 1), "{\"type\":\"string\",\"optional\":true,\"name\":\"io."
                                        "debezium.data.Tsvector\",\"version\":1,\"field\":\"c\"}");
}

static void test_bytea(void)
{
    pgcdc_type_opts o = O_DEF;
    CHECK_STR(cv(17, -1, "\\x010203"), "\"AQID\"");
    CHECK_STR(cv(17, -1, "\\x"), "\"\"");
    CHECK_STR(cv(17, -1, "\\xFBFFFE"), "\"+//+\"");
    o.binary_mode = PGCDC_BINARY_BASE64;
    CHECK_STR(cvo(17, -1, &o, "\\xfbfffe"), "\"+//+\"");
    CHECK_STR(sch(17, -1, &o, 1), "{\"type\":\"string\",\"optional\":true,\"field\":\"c\"}");
    o.binary_mode = PGCDC_BINARY_BASE64_URL_SAFE;
    CHECK_STR(cvo(17, -1, &o, "\\xfbfffe"), "\"-__-\"");
    o.binary_mode = PGCDC_BINARY_HEX;
    CHECK_STR(cvo(17, -1, &o, "\\xFBfffe"), "\"fbfffe\"");
    CHECK_STR(cv(17, -1, "\\x0"), "ERR");
    CHECK_STR(cv(17, -1, "\\x0g"), "ERR");
    CHECK_STR(cv(17, -1, "abc"), "ERR");
    CHECK_STR(sch(17, -1, &O_DEF, 1), "{\"type\":\"bytes\",\"optional\":true,\"field\":\"c\"}");
    /* a large value exercises the scratch region */
    size_t nb = 100000;
    char *big = malloc(2 + nb * 2 + 1);
    big[0] = '\\';
    big[1] = 'x';
    for (size_t i = 0; i < nb; i++)
        memcpy(big + 2 + 2 * i, "ff", 2);
    big[2 + 2 * nb] = 0;
    const char *r = cv(17, -1, big);
    CHECK(strlen(r) == (nb + 2) / 3 * 4 + 2);
    CHECK(strncmp(r, "\"////", 5) == 0);
    free(big);
}

static void test_bits(void)
{
    /* Debezium's own fixtures (AbstractRecordsProducerTest) */
    CHECK_STR(cv(1560, 1, "0"), "false");
    CHECK_STR(cv(1560, 1, "1"), "true");
    CHECK_STR(cv(1560, 2, "11"), "\"Aw==\"");
    CHECK_STR(cv(1560, 7, "1000000"), "\"QA==\"");
    CHECK_STR(cv(1562, 1, "1"), "true");
    CHECK_STR(cv(1560, 2, "00"), "\"\"");
    CHECK_STR(cv(1560, 24, "000000110000001000000001"), "\"AQID\"");
    CHECK_STR(cv(1560, 64, "1000000000000000000000000000000000000000000000000000000000000000"),
              "\"AAAAAAAAAIA=\"");
    CHECK_STR(cv(1562, -1, "101"), "\"BQ==\"");
    CHECK_STR(cv(1562, -1, "111011010001000110000001000000001"), "\"AQIj2gE=\"");
    CHECK_STR(cv(1560, 2, "12"), "ERR");
    CHECK_STR(sch(1560, 1, &O_DEF, 1), "{\"type\":\"boolean\",\"optional\":true,\"field\":\"c\"}");
    CHECK_STR(sch(1560, 24, &O_DEF, 1),
              "{\"type\":\"bytes\",\"optional\":true,\"name\":\"io.debezium.data.Bits\","
              "\"version\":1,\"parameters\":{\"length\":\"24\"},\"field\":\"c\"}");
    CHECK_STR(sch(1562, -1, &O_DEF, 0),
              "{\"type\":\"bytes\",\"optional\":false,\"name\":\"io.debezium.data.Bits\","
              "\"version\":1,\"parameters\":{\"length\":\"2147483647\"},\"field\":\"c\"}");
}

static void test_date(void)
{
    pgcdc_type_opts oc = O_DEF;
    oc.time_mode = PGCDC_TIME_CONNECT;
    CHECK_STR(cv(1082, -1, "2016-11-04"), "17109");
    CHECK_STR(cv(1082, -1, "1970-01-01"), "0");
    CHECK_STR(cv(1082, -1, "1969-12-31"), "-1");
    CHECK_STR(cv(1082, -1, "0044-03-15 BC"), "-735160");
    CHECK_STR(cv(1082, -1, "0001-01-01 BC"), "-719528");
    CHECK_STR(cv(1082, -1, "5874897-12-31"), "2145042905");
    CHECK_STR(cv(1082, -1, "infinity"), "-2147472692");
    CHECK_STR(cv(1082, -1, "-infinity"), "-2147472691");
    CHECK_STR(cvo(1082, -1, &oc, "2016-11-04"), "17109");
    CHECK_STR(cv(1082, -1, "2016-02-30"), "ERR");
    CHECK_STR(cv(1082, -1, "2016-1-04"), "ERR");
    CHECK_STR(cv(1082, -1, "0000-01-01 BC"), "ERR");
    CHECK_STR(sch(1082, -1, &O_DEF, 1), "{\"type\":\"int32\",\"optional\":true,\"name\":\"io."
                                        "debezium.time.Date\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1082, -1, &oc, 1),
              "{\"type\":\"int32\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data."
              "Date\",\"version\":1,\"field\":\"c\"}");
}

static void test_time(void)
{
    pgcdc_type_opts om = O_DEF, oc = O_DEF;
    om.time_mode = PGCDC_TIME_ADAPTIVE_TIME_MICROSECONDS;
    oc.time_mode = PGCDC_TIME_CONNECT;
    CHECK_STR(cv(1083, -1, "13:51:30"), "49890000000");
    CHECK_STR(cv(1083, 3, "13:51:30.123"), "49890123");
    CHECK_STR(cv(1083, 6, "13:51:30.123456"), "49890123456");
    CHECK_STR(cv(1083, -1, "24:00:00"), "86400000000");
    CHECK_STR(cv(1083, 0, "24:00:00"), "86400000");
    CHECK_STR(cvo(1083, 3, &om, "13:51:30.123"), "49890123000");
    CHECK_STR(cvo(1083, 6, &oc, "13:51:30.123456"), "49890123");
    CHECK_STR(cvo(1083, 6, &oc, "24:00:00"), "86400000");
    CHECK_STR(cv(1083, -1, "13:51"), "ERR");
    CHECK_STR(sch(1083, -1, &O_DEF, 1), "{\"type\":\"int64\",\"optional\":true,\"name\":\"io."
                                        "debezium.time.MicroTime\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1083, 3, &O_DEF, 1), "{\"type\":\"int32\",\"optional\":true,\"name\":\"io."
                                       "debezium.time.Time\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1083, 3, &om, 1), "{\"type\":\"int64\",\"optional\":true,\"name\":\"io."
                                    "debezium.time.MicroTime\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1083, 6, &oc, 0),
              "{\"type\":\"int32\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data."
              "Time\",\"version\":1,\"field\":\"c\"}");
}

static void test_timetz(void)
{
    CHECK_STR(cv(1266, -1, "13:51:30.123789+02"), "\"11:51:30.123789Z\"");
    CHECK_STR(cv(1266, -1, "13:51:30.123+02"), "\"11:51:30.123Z\"");
    CHECK_STR(cv(1266, -1, "13:51:30.120+02"), "\"11:51:30.12Z\"");
    CHECK_STR(cv(1266, -1, "13:51:30+05:30"), "\"08:21:30Z\"");
    CHECK_STR(cv(1266, -1, "01:00:00+02"), "\"23:00:00Z\"");
    CHECK_STR(cv(1266, -1, "23:00:00-02"), "\"01:00:00Z\"");
    CHECK_STR(cv(1266, -1, "00:00:00+00"), "\"00:00:00Z\"");
    CHECK_STR(cv(1266, -1, "24:00:00+00"), "\"24:00:00Z\"");
    CHECK_STR(cv(1266, -1, "24:00:00+01"), "\"23:00:00Z\"");
    CHECK_STR(cv(1266, -1, "12:00:00+00:00:30"), "\"11:59:30Z\"");
    CHECK_STR(cv(1266, -1, "25:00:00+00"), "ERR");
    CHECK_STR(cv(1266, -1, "12:00:00"), "ERR");
    CHECK_STR(sch(1266, -1, &O_DEF, 1), "{\"type\":\"string\",\"optional\":true,\"name\":\"io."
                                        "debezium.time.ZonedTime\",\"version\":1,\"field\":\"c\"}");
}

static void test_timestamp(void)
{
    pgcdc_type_opts oc = O_DEF;
    oc.time_mode = PGCDC_TIME_CONNECT;
    CHECK_STR(cv(1114, -1, "2016-11-04 13:51:30.123456"), "1478267490123456");
    CHECK_STR(cv(1114, 3, "2016-11-04 13:51:30.123"), "1478267490123");
    CHECK_STR(cv(1114, -1, "1936-10-25 22:10:12.608"), "-1047174587392000");
    CHECK_STR(cv(1114, 3, "1969-12-31 23:59:59.999"), "-1");
    CHECK_STR(cvo(1114, 6, &oc, "1969-12-31 23:59:59.999999"), "-1");
    CHECK_STR(cv(1114, -1, "21016-11-04 13:51:30.123457"), "601060312290123457");
    CHECK_STR(cv(1114, -1, "294247-01-01 23:59:59.999999"), "9223371331199999999");
    CHECK_STR(cv(1114, -1, "4713-12-31 23:59:59.999999 BC"), "-210831897600000001");
    CHECK_STR(cv(1114, -1, "0001-01-01 00:00:00"), "-62135596800000000");
    CHECK_STR(cv(1114, -1, "infinity"), "9223372036825200000");
    CHECK_STR(cv(1114, -1, "-infinity"), "-9223372036832400000");
    CHECK_STR(cv(1114, 3, "infinity"), "9223372036825200");
    CHECK_STR(cvo(1114, -1, &oc, "-infinity"), "-9223372036832400");
    CHECK_STR(cv(1114, -1, "2016-11-04 25:51:30"), "ERR");
    CHECK_STR(cv(1114, -1, "999999999-11-04 13:51:30"), "ERR");
    CHECK_STR(sch(1114, -1, &O_DEF, 1),
              "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTimestamp\","
              "\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1114, 2, &O_DEF, 1),
              "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.Timestamp\","
              "\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1114, 6, &oc, 1),
              "{\"type\":\"int64\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data."
              "Timestamp\",\"version\":1,\"field\":\"c\"}");
}

static void test_timestamptz(void)
{
    CHECK_STR(cv(1184, -1, "2016-11-04 13:51:30.123456+02"), "\"2016-11-04T11:51:30.123456Z\"");
    CHECK_STR(cv(1184, -1, "2021-03-04 05:06:07+05:30"), "\"2021-03-03T23:36:07.000000Z\"");
    CHECK_STR(cv(1184, 3, "2021-03-04 05:06:07.12+00"), "\"2021-03-04T05:06:07.120Z\"");
    CHECK_STR(cv(1184, 0, "2019-07-09 02:28:57+00"), "\"2019-07-09T02:28:57Z\"");
    CHECK_STR(cv(1184, -1, "21016-11-04 13:51:30.123456+07"), "\"+21016-11-04T06:51:30.123456Z\"");
    CHECK_STR(cv(1184, -1, "21016-11-04 13:51:30+07"), "\"+21016-11-04T06:51:30.000000Z\"");
    CHECK_STR(cv(1184, -1, "294247-01-01 23:59:59.999999+00"),
              "\"+294247-01-01T23:59:59.999999Z\"");
    CHECK_STR(cv(1184, -1, "4714-12-31 23:59:59.999999+00 BC"), "\"-4713-12-31T23:59:59.999999Z\"");
    CHECK_STR(cv(1184, -1, "0001-01-01 00:00:00+00:53:28"), "\"0000-12-31T23:06:32.000000Z\"");
    CHECK_STR(cv(1184, -1, "infinity"), "\"infinity\"");
    CHECK_STR(cv(1184, -1, "-infinity"), "\"-infinity\"");
    CHECK_STR(cv(1184, -1, "2016-11-04 13:51:30"), "ERR");
    CHECK_STR(sch(1184, -1, &O_DEF, 1),
              "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.ZonedTimestamp\","
              "\"version\":1,\"field\":\"c\"}");
}

static void test_interval(void)
{
    pgcdc_type_opts os = O_DEF;
    os.interval_mode = PGCDC_INTERVAL_STRING;
    CHECK_STR(cv(1186, -1, "1 year 2 mons 3 days 04:05:06.789"), "37091106789000");
    CHECK_STR(cv(1186, -1, "1 year 2 mons 3 days 04:05:06.78"), "37091106780000");
    CHECK_STR(cv(1186, -1, "-1 years -2 mons +3 days -04:05:06.789"), "-36572706789000");
    CHECK_STR(cv(1186, -1, "-00:00:01"), "-1000000");
    CHECK_STR(cv(1186, -1, "00:00:00"), "0");
    CHECK_STR(cv(1186, -1, "3 days"), "259200000000");
    CHECK_STR(cv(1186, -1, "178956970 years 7 mons"), "9223372036854775807");
    CHECK_STR(cvo(1186, -1, &os, "1 year 2 mons 3 days 04:05:06.78"), "\"P1Y2M3DT4H5M6.78S\"");
    CHECK_STR(cvo(1186, -1, &os, "-1 years -2 mons +3 days -04:05:06.789"),
              "\"P-1Y-2M3DT-4H-5M-6.789S\"");
    CHECK_STR(cvo(1186, -1, &os, "00:00:00"), "\"P0Y0M0DT0H0M0S\"");
    CHECK_STR(cvo(1186, -1, &os, "00:00:00.000001"), "\"P0Y0M0DT0H0M0.000001S\"");
    CHECK_STR(cvo(1186, -1, &os, "1 day 00:00:59.999999"), "\"P0Y0M1DT0H0M59.999999S\"");
    CHECK_STR(cv(1186, -1, "1 fortnight"), "ERR");
    CHECK_STR(cv(1186, -1, "1"), "ERR");
    CHECK_STR(cv(1186, -1, ""), "ERR");
    CHECK_STR(sch(1186, -1, &O_DEF, 1),
              "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroDuration\","
              "\"version\":1,\"field\":\"c\"}");
    CHECK_STR(sch(1186, -1, &os, 1),
              "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.time.Interval\","
              "\"version\":1,\"field\":\"c\"}");
}

static void test_arrays(void)
{
    CHECK_STR(cv(1007, -1, "{1,2,NULL,-3}"), "[1,2,null,-3]");
    CHECK_STR(cv(1007, -1, "{}"), "[]");
    CHECK_STR(cv(1007, -1, "[0:1]={1,2}"), "[1,2]");
    CHECK_STR(cv(1009, -1, "{a,\"b,c\",\"q\\\"uote\",\"back\\\\slash\",NULL,\"NULL\"}"),
              "[\"a\",\"b,c\",\"q\\\"uote\",\"back\\\\slash\",null,\"NULL\"]");
    CHECK_STR(cv(1009, -1, "{\"\",\" sp \",\"\xc3\xa9\"}"), "[\"\",\" sp \",\"\xc3\xa9\"]");
    CHECK_STR(cv(3807, -1, "{\"{\\\"a\\\": 1}\"}"), "[\"{\\\"a\\\": 1}\"]");
    CHECK_STR(cv(1001, -1, "{\"\\\\x010203\",NULL}"), "[\"AQID\",null]");
    CHECK_STR(cv(1231, -1, "{1.1,NULL,-0.5}"),
              "[{\"scale\":1,\"value\":\"Cw==\"},null,{\"scale\":1,\"value\":\"+w==\"}]");
    CHECK_STR(cv(1231, numtm(5, 2), "{1.28}"), "[\"AIA=\"]");
    CHECK_STR(cv(1115, -1, "{\"2020-04-01 00:01:02\",\"2020-04-01 01:02:03\"}"),
              "[1585699262000000,1585702923000000]");
    CHECK_STR(cv(1185, -1, "{\"2020-04-01 13:51:02+02\"}"), "[\"2020-04-01T11:51:02.000000Z\"]");
    CHECK_STR(cv(1270, -1, "{13:51:02+02,14:51:03+02}"), "[\"11:51:02Z\",\"12:51:03Z\"]");
    CHECK_STR(cv(1000, -1, "{t,f,NULL}"), "[true,false,null]");
    CHECK_STR(cv(1022, -1, "{NaN,-Infinity,1.5}"), "[\"NaN\",\"-Infinity\",1.5]");
    CHECK_STR(cv(1007, -1, "{{1,2},{3,4}}"), "ERR");
    CHECK(strstr(err, "multidimensional") != NULL);
    CHECK_STR(cv(1007, -1, "[1:2][1:1]={{1},{2}}"), "ERR");
    CHECK_STR(cv(1007, -1, "{1,2"), "ERR");
    CHECK_STR(cv(1007, -1, "{1,,2}"), "ERR");
    CHECK_STR(cv(1007, -1, "{1,2}x"), "ERR");
    CHECK_STR(cv(1009, -1, "{\"abc}"), "ERR");
    CHECK_STR(sch(1007, -1, &O_DEF, 1),
              "{\"type\":\"array\",\"items\":{\"type\":\"int32\",\"optional\":true},"
              "\"optional\":true,\"field\":\"c\"}");
    CHECK_STR(sch(1231, numtm(5, 2), &O_DEF, 0),
              "{\"type\":\"array\",\"items\":{\"type\":\"bytes\",\"optional\":true,\"name\":"
              "\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":"
              "\"2\",\"connect.decimal.precision\":\"5\"}},\"optional\":false,\"field\":\"c\"}");
    CHECK_STR(sch(1115, -1, &O_DEF, 1),
              "{\"type\":\"array\",\"items\":{\"type\":\"int64\",\"optional\":true,\"name\":\"io."
              "debezium.time.MicroTimestamp\",\"version\":1},\"optional\":true,\"field\":\"c\"}");
}

/* A fake catalog for enums, domains and extension types. */
static int lookup(void *ctx, uint32_t oid, pgcdc_type_info *info)
{
    (void)ctx;
    memset(info, 0, sizeof(*info));
    info->oid = oid;
    switch (oid) {
    case 50000: /* enum mood */
        info->typtype = 'e';
        info->name = "mood";
        info->enum_labels = "sad,ok,happy";
        return 0;
    case 50001: /* _mood */
        info->typtype = 'b';
        info->name = "_mood";
        info->elem_oid = 50000;
        return 0;
    case 50002: /* domain posint over int4 */
        info->typtype = 'd';
        info->name = "posint";
        info->base_oid = 23;
        info->base_typmod = -1;
        return 0;
    case 50003: /* domain price over numeric(10,2) */
        info->typtype = 'd';
        info->name = "price";
        info->base_oid = 1700;
        info->base_typmod = numtm(10, 2);
        return 0;
    case 50004: /* domain over domain */
        info->typtype = 'd';
        info->name = "price2";
        info->base_oid = 50003;
        info->base_typmod = -1;
        return 0;
    case 50005: /* a domain cycle (corrupt catalog) */
        info->typtype = 'd';
        info->name = "loop";
        info->base_oid = 50005;
        return 0;
    case 50006:
        info->typtype = 'b';
        info->name = "citext";
        return 0;
    case 50007:
        info->typtype = 'b';
        info->name = "ltree";
        return 0;
    case 50008:
        info->typtype = 'b';
        info->name = "hstore";
        return 0;
    default:
        return -1;
    }
}

/* A value (or with `schema`, the field schema) of a looked-up type. */
static const char *lvo(uint32_t oid, const pgcdc_type_opts *o, const char *text, int schema)
{
    pgcdc_coltype ct;
    if (pgcdc_coltype_resolve(&ct, oid, -1, lookup, NULL, err, sizeof(err)) != 0)
        return "RESOLVE-ERR";
    pgcdc_buf_reset(&out);
    PGCDC_BUF_LIT(&out, "");
    int rc = 0;
    if (schema)
        pgcdc_coltype_schema(&out, &ct, o, "c", 1);
    else
        rc = pgcdc_coltype_value(&out, &ct, o, text, strlen(text), err, sizeof(err));
    pgcdc_coltype_clear(&ct);
    return rc == 0 ? out.data : "ERR";
}

static const char *lv(uint32_t oid, const char *text, int schema)
{
    return lvo(oid, &O_DEF, text, schema);
}

/* hstore with an explicit mode */
static const char *hs(const char *text, pgcdc_hstore_mode mode, int schema)
{
    pgcdc_type_opts o = O_DEF;
    o.hstore_mode = mode;
    return lvo(50008, &o, text, schema);
}

static void test_hstore_point(void)
{
    CHECK_STR(hs("\"a\"=>\"1\", \"b\"=>NULL", PGCDC_HSTORE_JSON, 0),
              "\"{\\\"a\\\":\\\"1\\\",\\\"b\\\":null}\"");
    /* java.util.HashMap order: "aa" hashes to bucket 0, "b" to bucket 2 */
    CHECK_STR(hs("\"b\"=>\"1\", \"aa\"=>\"2\"", PGCDC_HSTORE_MAP, 0), "{\"aa\":\"2\",\"b\":\"1\"}");
    CHECK_STR(hs("\"q\\\"\\\\\"=>\"tab\tnl\n\"", PGCDC_HSTORE_MAP, 0),
              "{\"q\\\"\\\\\":\"tab\\tnl\\n\"}");
    CHECK_STR(hs("", PGCDC_HSTORE_JSON, 0), "\"{}\"");
    CHECK_STR(hs("\"a\"=", PGCDC_HSTORE_JSON, 0), "ERR");
    CHECK_STR(hs("\"a", PGCDC_HSTORE_MAP, 0), "ERR");
    CHECK_STR(hs(NULL, PGCDC_HSTORE_JSON, 1),
              "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\","
              "\"version\":1,\"field\":\"c\"}");
    CHECK_STR(hs(NULL, PGCDC_HSTORE_MAP, 1),
              "{\"type\":\"map\",\"keys\":{\"type\":\"string\",\"optional\":false},"
              "\"values\":{\"type\":\"string\",\"optional\":true},\"optional\":true,"
              "\"field\":\"c\"}");
    CHECK_STR(cv(600, -1, "(1.5,-2)"),
              "{\"x\":1.5,\"y\":-2.0,\"wkb\":\"AQEAAAAAAAAAAAD4PwAAAAAAAADA\",\"srid\":null}");
    CHECK_STR(cv(600, -1, "(1.5;-2)"), "ERR");
    CHECK_STR(cv(600, -1, "(1.5,)"), "ERR");
}

static void test_enum_domain_ext(void)
{
    CHECK_STR(lv(50000, "happy", 0), "\"happy\"");
    CHECK_STR(lv(50000, NULL, 1),
              "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\","
              "\"version\":1,\"parameters\":{\"allowed\":\"sad,ok,happy\"},\"field\":\"c\"}");
    CHECK_STR(lv(50001, "{sad,NULL,happy}", 0), "[\"sad\",null,\"happy\"]");
    CHECK_STR(lv(50001, NULL, 1),
              "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false,\"name\":"
              "\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"sad,ok,"
              "happy\"}},\"optional\":true,\"field\":\"c\"}");
    CHECK_STR(lv(50002, "42", 0), "42");
    CHECK_STR(lv(50003, "1.28", 0), "\"AIA=\"");
    CHECK_STR(lv(50004, "1.28", 0), "\"AIA=\"");
    CHECK_STR(lv(50004, NULL, 1),
              "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data."
              "Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\",\"connect.decimal."
              "precision\":\"10\"},\"field\":\"c\"}");
    CHECK_STR(lv(50005, "1", 0), "RESOLVE-ERR");
    CHECK_STR(lv(50006, "AbC", 0), "\"AbC\"");
    CHECK_STR(lv(50007, NULL, 1), "{\"type\":\"string\",\"optional\":true,\"name\":\"io."
                                  "debezium.data.Ltree\",\"version\":1,\"field\":\"c\"}");
    CHECK_STR(lv(59999, "x", 0), "\"x\"");
}

static void test_unavailable(void)
{
    pgcdc_type_opts oh = O_DEF, os = O_DEF;
    oh.binary_mode = PGCDC_BINARY_HEX;
    os.decimal_mode = PGCDC_DECIMAL_STRING;
    CHECK_STR(unav(25, -1, &O_DEF), "\"__debezium_unavailable_value\"");
    CHECK_STR(unav(3802, -1, &O_DEF), "\"__debezium_unavailable_value\"");
    CHECK_STR(unav(17, -1, &O_DEF), "\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"");
    CHECK_STR(unav(17, -1, &oh), "\"__debezium_unavailable_value\"");
    CHECK_STR(unav(1009, -1, &O_DEF), "[\"__debezium_unavailable_value\"]");
    CHECK_STR(unav(1001, -1, &O_DEF), "[\"X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==\"]");
    CHECK_STR(unav(1007, -1, &O_DEF),
              "[95,95,100,101,98,101,122,105,117,109,95,117,110,97,118,97,105,108,97,98,108,101,"
              "95,118,97,108,117,101]");
    CHECK_STR(unav(2951, -1, &O_DEF), "[\"b68a35a7-17ad-35b3-af2a-ae46edb4545a\"]");
    CHECK_STR(unav(1700, -1, &os), "\"__debezium_unavailable_value\"");
    CHECK_STR(unav(1700, -1, &O_DEF), "null");
    CHECK_STR(unav(23, -1, &O_DEF), "null");
}

/* JDBC column metadata, per the PostgreSQL JDBC driver's TypeInfoCache and
 * getColumns() rules (the numbers Debezium puts in schema change events). */
static void check_jdbc(uint32_t oid, uint32_t elem, int is_array, char typtype, int32_t typmod,
                       int jdbc, int length, int scale)
{
    pgcdc_jdbc_meta m;
    pgcdc_pgtype_jdbc(oid, elem, is_array, typtype, typmod, &m);
    CHECK_INT(m.jdbc_type, jdbc);
    CHECK_INT(m.length, length);
    if (scale < 0)
        CHECK_INT(m.has_scale, 0);
    else {
        CHECK_INT(m.has_scale, 1);
        CHECK_INT(m.scale, scale);
    }
}

static void test_jdbc_metadata(void)
{
    check_jdbc(21, 0, 0, 'b', -1, 5, 5, 0);                    /* int2 SMALLINT */
    check_jdbc(23, 0, 0, 'b', -1, 4, 10, 0);                   /* int4 INTEGER */
    check_jdbc(20, 0, 0, 'b', -1, -5, 19, 0);                  /* int8 BIGINT */
    check_jdbc(16, 0, 0, 'b', -1, -7, 1, 0);                   /* bool BIT */
    check_jdbc(700, 0, 0, 'b', -1, 7, 8, 8);                   /* float4 REAL */
    check_jdbc(701, 0, 0, 'b', -1, 8, 17, 17);                 /* float8 DOUBLE */
    check_jdbc(1700, 0, 0, 'b', (10 << 16 | 2) + 4, 2, 10, 2); /* numeric(10,2) */
    check_jdbc(1700, 0, 0, 'b', -1, 2, 0, -1);                 /* numeric: no scale */
    check_jdbc(1043, 0, 0, 'b', 36, 12, 32, 0);                /* varchar(32) */
    check_jdbc(1043, 0, 0, 'b', -1, 12, 2147483647, 0);        /* varchar */
    check_jdbc(1042, 0, 0, 'b', 5, 1, 1, 0);                   /* char(1) */
    check_jdbc(25, 0, 0, 'b', -1, 12, 2147483647, 0);          /* text VARCHAR */
    check_jdbc(17, 0, 0, 'b', -1, -2, 2147483647, 0);          /* bytea BINARY */
    check_jdbc(1082, 0, 0, 'b', -1, 91, 13, 0);                /* date */
    check_jdbc(1083, 0, 0, 'b', -1, 92, 15, 6);                /* time */
    check_jdbc(1114, 0, 0, 'b', 3, 93, 26, 3);                 /* timestamp(3) */
    check_jdbc(1184, 0, 0, 'b', -1, 93, 35, 6);                /* timestamptz */
    check_jdbc(1186, 0, 0, 'b', -1, 1111, 49, 6);              /* interval OTHER */
    check_jdbc(2950, 0, 0, 'b', -1, 1111, 2147483647, 0);      /* uuid OTHER */
    check_jdbc(3802, 0, 0, 'b', -1, 1111, 2147483647, 0);      /* jsonb OTHER */
    check_jdbc(1007, 23, 1, 'b', -1, 2003, 10, 0);             /* int4[]: sized by int4 */
    check_jdbc(1015, 1043, 1, 'b', 14, 2003, 10, 0);           /* varchar(10)[] */
    check_jdbc(16500, 16400, 1, 'b', -1, 2003, 2147483647, 0); /* mood[] */
    check_jdbc(16400, 0, 0, 'e', -1, 12, 2147483647, 0);       /* enum VARCHAR */
    check_jdbc(16401, 0, 0, 'd', -1, 2001, 2147483647, 0);     /* domain DISTINCT */
    check_jdbc(16402, 0, 0, 'c', -1, 2002, 2147483647, 0);     /* composite STRUCT */
}

int main(void)
{
    TEST_RUN(test_bool_int);
    TEST_RUN(test_hstore_point);
    TEST_RUN(test_error_truncation);
    TEST_RUN(test_floats);
    TEST_RUN(test_numeric_precise);
    TEST_RUN(test_numeric_negative_scale);
    TEST_RUN(test_numeric_variable);
    TEST_RUN(test_numeric_huge);
    TEST_RUN(test_numeric_modes);
    TEST_RUN(test_money);
    TEST_RUN(test_text_like);
    TEST_RUN(test_bytea);
    TEST_RUN(test_bits);
    TEST_RUN(test_date);
    TEST_RUN(test_time);
    TEST_RUN(test_timetz);
    TEST_RUN(test_timestamp);
    TEST_RUN(test_timestamptz);
    TEST_RUN(test_interval);
    TEST_RUN(test_arrays);
    TEST_RUN(test_enum_domain_ext);
    TEST_RUN(test_unavailable);
    TEST_RUN(test_jdbc_metadata);
    pgcdc_buf_free(&out);
    TEST_DONE();
}
