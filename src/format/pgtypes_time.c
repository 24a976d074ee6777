/*
 * pgtypes_time.c - date, time, timetz, timestamp, timestamptz and interval
 * to Debezium values.
 *
 * Input is PostgreSQL's text output with DateStyle=ISO and
 * IntervalStyle=postgres (the replication client must set both, plus
 * extra_float_digits=3, in its connection options). Calendar arithmetic is
 * proleptic Gregorian on both sides (PostgreSQL and java.time), BC years map
 * to astronomical years (1 BC = year 0). All arithmetic is overflow-checked;
 * values outside what int64 microseconds can hold are reported as errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/json.h"
#include "format/pgtypes_internal.h"

/* pgjdbc's PGStatement.DATE_POSITIVE_INFINITY / DATE_NEGATIVE_INFINITY, which
 * Debezium turns into Instants via Conversions.toInstantFromMicros(). */
#define PG_INF_MICROS INT64_C(9223372036825200000)
#define PG_NINF_MICROS INT64_C(-9223372036832400000)

/* Days since epoch of LocalDate.parse("-5877611-06-21") / ("-5877611-06-22"),
 * Debezium's POSITIVE_/NEGATIVE_INFINITY_LOCAL_DATE for date 'infinity'. */
#define PG_INF_EPOCH_DAY (-2147472692)
#define PG_NINF_EPOCH_DAY (-2147472691)

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *py, int *pm, int *pd)
{
    z += 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *py = y + (m <= 2);
    *pm = m;
    *pd = d;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Reads between min and max decimal digits at *i. */
static int rd_num(const char *s, size_t n, size_t *i, int min, int max, int64_t *v)
{
    int k = 0;
    int64_t x = 0;
    while (*i < n && k < max && s[*i] >= '0' && s[*i] <= '9') {
        x = x * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (k < min)
        return -1;
    if (*i < n && k == max && s[*i] >= '0' && s[*i] <= '9')
        return -1; /* too many digits */
    *v = x;
    return 0;
}

static int rd_char(const char *s, size_t n, size_t *i, char c)
{
    if (*i < n && s[*i] == c) {
        (*i)++;
        return 0;
    }
    return -1;
}

/* Fraction digits after '.', up to `max`, as nanoseconds. */
static int rd_frac(const char *s, size_t n, size_t *i, int max, int64_t *nanos)
{
    *nanos = 0;
    if (*i >= n || s[*i] != '.')
        return 0;
    (*i)++;
    int k = 0;
    int64_t x = 0;
    while (*i < n && s[*i] >= '0' && s[*i] <= '9') {
        if (k == max)
            return -1;
        x = x * 10 + (s[*i] - '0');
        (*i)++;
        k++;
    }
    if (k == 0)
        return -1;
    for (; k < 9; k++)
        x *= 10;
    *nanos = x;
    return 0;
}

/* Strips a trailing " BC" era marker; returns 1 if present. */
static int strip_bc(const char *s, size_t *n)
{
    if (*n >= 3 && memcmp(s + *n - 3, " BC", 3) == 0) {
        *n -= 3;
        return 1;
    }
    return 0;
}

/* YYYY-MM-DD (4..10 year digits) -> epoch day. */
static int rd_date(const char *s, size_t n, size_t *i, int bc, int64_t *days)
{
    int64_t y, m, d;
    if (rd_num(s, n, i, 4, 10, &y) || rd_char(s, n, i, '-') || rd_num(s, n, i, 2, 2, &m) ||
        rd_char(s, n, i, '-') || rd_num(s, n, i, 2, 2, &d))
        return -1;
    if (bc) {
        if (y < 1)
            return -1;
        y = 1 - y;
    }
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, (int)m))
        return -1;
    *days = days_from_civil(y, (int)m, (int)d);
    return 0;
}

/* HH:MM[:SS[.f]] with ISO ranges -> seconds of day and nanos. */
static int rd_tod(const char *s, size_t n, size_t *i, int max_frac, int allow24, int64_t *sod,
                  int64_t *nanos)
{
    int64_t h, mi, sec = 0;
    *nanos = 0;
    if (rd_num(s, n, i, 2, 2, &h) || rd_char(s, n, i, ':') || rd_num(s, n, i, 2, 2, &mi))
        return -1;
    if (rd_char(s, n, i, ':') == 0) {
        if (rd_num(s, n, i, 2, 2, &sec) || rd_frac(s, n, i, max_frac, nanos))
            return -1;
    }
    if (mi > 59 || sec > 59)
        return -1;
    if (h > 23 && !(allow24 && h == 24 && mi == 0 && sec == 0 && *nanos == 0))
        return -1;
    *sod = (h * 60 + mi) * 60 + sec;
    return 0;
}

/* +HH[:MM[:SS]] or +HHMM -> offset seconds east of UTC. */
static int rd_offset(const char *s, size_t n, size_t *i, int64_t *off)
{
    if (*i < n && s[*i] == 'Z') {
        (*i)++;
        *off = 0;
        return 0;
    }
    if (*i >= n || (s[*i] != '+' && s[*i] != '-'))
        return -1;
    int neg = s[*i] == '-';
    (*i)++;
    int64_t h, m = 0, sec = 0;
    if (rd_num(s, n, i, 2, 2, &h))
        return -1;
    if (rd_char(s, n, i, ':') == 0) {
        if (rd_num(s, n, i, 2, 2, &m))
            return -1;
        if (rd_char(s, n, i, ':') == 0 && rd_num(s, n, i, 2, 2, &sec))
            return -1;
    } else if (*i + 2 <= n && s[*i] >= '0' && s[*i] <= '9') {
        if (rd_num(s, n, i, 2, 2, &m))
            return -1;
    }
    if (h > 18 || m > 59 || sec > 59)
        return -1;
    *off = (h * 3600 + m * 60 + sec) * (neg ? -1 : 1);
    return 0;
}

static int eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* ------------------------------------------------------------------------ */

int pgcdc_pgt_date(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                   const char *t, size_t n, char *errstr, size_t es)
{
    (void)opts; /* io.debezium.time.Date and connect's Date carry the same day number */
    if (eq(t, n, "infinity")) {
        pgcdc_buf_put_i64(buf, PG_INF_EPOCH_DAY);
        return 0;
    }
    if (eq(t, n, "-infinity")) {
        pgcdc_buf_put_i64(buf, PG_NINF_EPOCH_DAY);
        return 0;
    }
    size_t len = n, i = 0;
    int bc = strip_bc(t, &len);
    int64_t days;
    if (rd_date(t, len, &i, bc, &days) || i != len)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    if (days < INT32_MIN || days > INT32_MAX)
        return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "out of range");
    pgcdc_buf_put_i64(buf, days);
    return 0;
}

/*
 * time: Debezium parses it with Strings.asDuration (hours not limited to 23,
 * "24:00:00" allowed) and emits Duration.toMillis() or toNanos()/1000.
 */
int pgcdc_pgt_time(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                   const char *t, size_t n, char *errstr, size_t es)
{
    size_t i = 0;
    int64_t h, m, s, nanos;
    if (rd_num(t, n, &i, 1, 7, &h) || rd_char(t, n, &i, ':') || rd_num(t, n, &i, 1, 2, &m) ||
        rd_char(t, n, &i, ':') || rd_num(t, n, &i, 1, 2, &s) || rd_frac(t, n, &i, 9, &nanos) ||
        i != n)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    int64_t micros = ((h * 60 + m) * 60 + s) * 1000000 + nanos / 1000;
    if (opts->time_mode == PGCDC_TIME_CONNECT) {
        /* DEVIATION: for 24:00:00 Kafka's Time.fromLogical throws (date part not zero);
         * we emit 86400000. Values above a day fail in Debezium too. */
        if (micros > INT64_C(86400000000))
            return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "time above 24:00:00");
        pgcdc_buf_put_i64(buf, micros / 1000);
    } else if (opts->time_mode == PGCDC_TIME_ADAPTIVE &&
               (ct->time_precision < 0 ? 6 : ct->time_precision) <= 3) {
        pgcdc_buf_put_i64(buf, (int32_t)(uint32_t)(uint64_t)(micros / 1000));
    } else {
        pgcdc_buf_put_i64(buf, micros);
    }
    return 0;
}

/* Appends HH:MM:SS plus the fraction the way java.time's ISO_LOCAL_TIME prints it
 * (trailing zeros dropped, nothing when zero) or with exactly `width` digits. */
static void put_hms(pgcdc_buf *buf, int64_t sod, int64_t nanos, int width)
{
    char tmp[24];
    int h = (int)(sod / 3600), m = (int)(sod / 60 % 60), s = (int)(sod % 60);
    tmp[0] = (char)('0' + h / 10);
    tmp[1] = (char)('0' + h % 10);
    tmp[2] = ':';
    tmp[3] = (char)('0' + m / 10);
    tmp[4] = (char)('0' + m % 10);
    tmp[5] = ':';
    tmp[6] = (char)('0' + s / 10);
    tmp[7] = (char)('0' + s % 10);
    size_t k = 8;
    char f[9];
    int64_t v = nanos;
    for (int j = 8; j >= 0; j--) {
        f[j] = (char)('0' + v % 10);
        v /= 10;
    }
    int nd;
    if (width > 0) {
        nd = width > 9 ? 9 : width;
    } else {
        nd = 9;
        while (nd > 0 && f[nd - 1] == '0')
            nd--;
    }
    if (nd > 0) {
        tmp[k++] = '.';
        memcpy(tmp + k, f, (size_t)nd);
        k += (size_t)nd;
    }
    pgcdc_buf_append(buf, tmp, k);
}

/*
 * timetz -> io.debezium.time.ZonedTime: the time shifted to UTC (wrapping
 * around midnight like OffsetTime.withOffsetSameInstant), printed by
 * ISO_OFFSET_TIME, e.g. "11:51:30.123Z". "24:00:00+00" stays "24:00:00Z"
 * (Debezium's PostgresTimeBoundary). DEVIATION: 24:00:00 with a non-zero
 * offset, and offsets with seconds, make Debezium's OffsetTime parser fail;
 * we normalise them arithmetically.
 */
int pgcdc_pgt_timetz(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                     const char *t, size_t n, char *errstr, size_t es)
{
    (void)opts;
    size_t i = 0;
    int64_t sod, nanos, off;
    if (rd_tod(t, n, &i, 6, 1, &sod, &nanos) || rd_offset(t, n, &i, &off) || i != n)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    if (sod == 86400 && off == 0) {
        PGCDC_BUF_LIT(buf, "\"24:00:00Z\"");
        return 0;
    }
    int64_t utc = sod - off;
    utc = ((utc % 86400) + 86400) % 86400;
    pgcdc_buf_putc(buf, '"');
    put_hms(buf, utc, nanos, 0);
    PGCDC_BUF_LIT(buf, "Z\"");
    return 0;
}

/* Parses a timestamp[tz] into epoch seconds (UTC) and nanos. */
static int parse_ts(const char *t, size_t n, int with_tz, int64_t *esec, int64_t *nanos)
{
    size_t len = n, i = 0;
    int bc = strip_bc(t, &len);
    int64_t days, sod, off = 0;
    if (rd_date(t, len, &i, bc, &days))
        return -1;
    if (i < len && (t[i] == ' ' || t[i] == 'T'))
        i++;
    else
        return -1;
    if (rd_tod(t, len, &i, 9, 0, &sod, nanos))
        return -1;
    if (with_tz && rd_offset(t, len, &i, &off))
        return -1;
    if (i != len)
        return -1;
    int64_t s;
    if (__builtin_mul_overflow(days, INT64_C(86400), &s) || __builtin_add_overflow(s, sod, &s) ||
        __builtin_sub_overflow(s, off, &s))
        return -1;
    *esec = s;
    return 0;
}

/*
 * timestamp -> io.debezium.time.Timestamp (ms, precision <= 3),
 * MicroTimestamp (us) or connect's Timestamp (ms). Milliseconds are floored
 * like Instant.toEpochMilli(). +-infinity become pgjdbc's infinity instants.
 */
int pgcdc_pgt_timestamp(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                        const char *t, size_t n, char *errstr, size_t es)
{
    int millis = opts->time_mode == PGCDC_TIME_CONNECT ||
                 (ct->time_precision < 0 ? 6 : ct->time_precision) <= 3;
    int64_t us;
    if (eq(t, n, "infinity")) {
        us = PG_INF_MICROS;
    } else if (eq(t, n, "-infinity")) {
        us = PG_NINF_MICROS;
    } else {
        int64_t esec, nanos;
        if (parse_ts(t, n, 0, &esec, &nanos) != 0)
            return pgcdc_pgt_fail(errstr, es, ct, t, n);
        if (millis) {
            int64_t ms;
            if (__builtin_mul_overflow(esec, INT64_C(1000), &ms) ||
                __builtin_add_overflow(ms, nanos / 1000000, &ms))
                return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "out of range");
            pgcdc_buf_put_i64(buf, ms);
            return 0;
        }
        if (__builtin_mul_overflow(esec, INT64_C(1000000), &us) ||
            __builtin_add_overflow(us, nanos / 1000, &us))
            return pgcdc_pgt_fail_why(errstr, es, ct, t, n, "out of range");
        pgcdc_buf_put_i64(buf, us);
        return 0;
    }
    pgcdc_buf_put_i64(buf, millis ? floordiv(us, 1000) : us);
    return 0;
}

/*
 * timestamptz -> io.debezium.time.ZonedTimestamp: the instant in UTC printed
 * with ISO_LOCAL_DATE rules (4-digit year, '+' above 9999, '-' for BC years)
 * and, as ZonedTimestamp.toIsoString does for a column scale p in 1..9,
 * exactly p fraction digits (p = 6 when the column has no typmod);
 * p = 0 falls back to ISO_OFFSET_DATE_TIME (fraction trimmed). +-infinity
 * are the strings "infinity" / "-infinity".
 */
int pgcdc_pgt_timestamptz(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                          const char *t, size_t n, char *errstr, size_t es)
{
    (void)opts;
    if (eq(t, n, "infinity")) {
        PGCDC_BUF_LIT(buf, "\"infinity\"");
        return 0;
    }
    if (eq(t, n, "-infinity")) {
        PGCDC_BUF_LIT(buf, "\"-infinity\"");
        return 0;
    }
    int64_t esec, nanos;
    if (parse_ts(t, n, 1, &esec, &nanos) != 0)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    int64_t days = floordiv(esec, 86400), sod = esec - days * 86400, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    char tmp[40];
    int k;
    if (y > 9999)
        k = snprintf(tmp, sizeof(tmp), "\"+%lld-%02d-%02dT", (long long)y, m, d);
    else if (y < 0)
        k = snprintf(tmp, sizeof(tmp), "\"-%04lld-%02d-%02dT", (long long)-y, m, d);
    else
        k = snprintf(tmp, sizeof(tmp), "\"%04lld-%02d-%02dT", (long long)y, m, d);
    pgcdc_buf_append(buf, tmp, (size_t)k);
    put_hms(buf, sod, nanos, ct->time_precision < 0 ? 6 : ct->time_precision);
    PGCDC_BUF_LIT(buf, "Z\"");
    return 0;
}

int pgcdc_pgt_parse_date(const char *t, size_t n, int32_t *days)
{
    if (eq(t, n, "infinity") || eq(t, n, "-infinity")) {
        *days = t[0] == '-' ? INT32_MIN : INT32_MAX;
        return 0;
    }
    size_t len = n, i = 0;
    int bc = strip_bc(t, &len);
    int64_t d;
    if (rd_date(t, len, &i, bc, &d) || i != len || d <= INT32_MIN || d >= INT32_MAX)
        return -1;
    *days = (int32_t)d;
    return 0;
}

int pgcdc_pgt_parse_time_us(const char *t, size_t n, int64_t *us)
{
    size_t i = 0;
    int64_t sod, nanos;
    if (rd_tod(t, n, &i, 6, 1, &sod, &nanos) || i != n)
        return -1;
    *us = sod * 1000000 + nanos / 1000;
    return 0;
}

int pgcdc_pgt_parse_timestamp_us(const char *t, size_t n, int with_tz, int64_t *us)
{
    if (eq(t, n, "infinity") || eq(t, n, "-infinity")) {
        *us = t[0] == '-' ? INT64_MIN : INT64_MAX;
        return 0;
    }
    int64_t esec, nanos, v;
    if (parse_ts(t, n, with_tz, &esec, &nanos) != 0 ||
        __builtin_mul_overflow(esec, INT64_C(1000000), &v) ||
        __builtin_add_overflow(v, nanos / 1000, &v) || v == INT64_MIN || v == INT64_MAX)
        return -1;
    *us = v;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* interval                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct pg_interval {
    int64_t years, months, days, hours, minutes;
    double seconds; /* PGInterval.getSeconds(): whole + micros / 1e6 */
} pg_interval;

/* Java's Math.round(double): floor(x + 0.5) computed without double rounding. */
static int64_t java_round(double x)
{
    double f = floor(x);
    double r = (x - f >= 0.5) ? f + 1 : f;
    if (r >= 9.2233720368547758e18)
        return INT64_MAX;
    if (r <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)r;
}

static int parse_i64_tok(const char *s, size_t n, int64_t *v)
{
    /* Integer.parseInt-like; PostgreSQL never exceeds int32 except for hours */
    return pgcdc_pgt_parse_i64(s, n, v);
}

static int parse_double_tok(const char *s, size_t n, double *v)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
            return -1;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    *v = strtod(tmp, &end);
    return end == tmp + n ? 0 : -1;
}

/*
 * IntervalStyle=postgres output, parsed like pgjdbc's PGInterval: tokens
 * "<n> year[s]|mon[s]|day[s]" and an optional "[-]H:MM:SS[.f]" time part
 * ('+' signs are ignored). Seconds are then rounded to microseconds as
 * PGInterval.setSeconds does.
 */
static int parse_interval(const char *s, size_t n, pg_interval *iv)
{
    memset(iv, 0, sizeof(*iv));
    double seconds = 0;
    const char *val = NULL;
    size_t vlen = 0;
    int pos = 1, any = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ' ' || s[i] == '+'))
            i++;
        if (i >= n)
            break;
        size_t st = i;
        while (i < n && s[i] != ' ' && s[i] != '+')
            i++;
        const char *tok = s + st;
        size_t tl = i - st;
        any = 1;
        if (pos & 1) {
            const char *colon = memchr(tok, ':', tl);
            if (!colon) {
                val = tok;
                vlen = tl;
                pos++;
                continue;
            }
            int neg = tok[0] == '-';
            size_t eh = (size_t)(colon - tok);
            int64_t h, mi;
            if (eh < (size_t)neg + 1 || parse_i64_tok(tok + neg, eh - neg, &h) || h < 0)
                return -1;
            if (eh + 3 > tl || parse_i64_tok(tok + eh + 1, 2, &mi) || mi < 0)
                return -1;
            double sec = 0;
            if (eh + 3 < tl) {
                if (tok[eh + 3] != ':' || parse_double_tok(tok + eh + 4, tl - eh - 4, &sec) ||
                    sec < 0)
                    return -1;
            }
            iv->hours = neg ? -h : h;
            iv->minutes = neg ? -mi : mi;
            seconds = neg ? -sec : sec;
            val = NULL;
        } else {
            if (!val)
                return -1;
            int64_t v;
            if (tl >= 3 && memcmp(tok, "sec", 3) == 0) {
                if (parse_double_tok(val, vlen, &seconds))
                    return -1;
            } else {
                if (parse_i64_tok(val, vlen, &v))
                    return -1;
                if (tl >= 4 && memcmp(tok, "year", 4) == 0)
                    iv->years = v;
                else if (tl >= 3 && memcmp(tok, "mon", 3) == 0)
                    iv->months = v;
                else if (tl >= 3 && memcmp(tok, "day", 3) == 0)
                    iv->days = v;
                else if (tl >= 4 && memcmp(tok, "hour", 4) == 0)
                    iv->hours = v;
                else if (tl >= 3 && memcmp(tok, "min", 3) == 0)
                    iv->minutes = v;
                else
                    return -1;
            }
            val = NULL;
        }
        pos++;
    }
    if (!any || val)
        return -1;
    if (iv->years < INT32_MIN || iv->years > INT32_MAX || iv->months < INT32_MIN ||
        iv->months > INT32_MAX || iv->days < INT32_MIN || iv->days > INT32_MAX ||
        iv->minutes < INT32_MIN || iv->minutes > INT32_MAX || fabs(seconds) > 2147483647.0)
        return -1;
    int64_t total = java_round(seconds * 1000000.0);
    int64_t whole = total / 1000000, micros = total % 1000000;
    iv->seconds = (double)whole + (double)micros / 1000000.0;
    return 0;
}

/* (long) cast of a Java double: truncation, saturating, NaN -> 0. */
static int64_t java_d2l(double v)
{
    if (v != v)
        return 0;
    if (v >= 9.2233720368547758e18)
        return INT64_MAX;
    if (v <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)v;
}

/*
 * Appends BigDecimal.valueOf(v).setScale(<=9, DOWN).stripTrailingZeros()
 * .toPlainString(): the shortest round-trip digits of v (what Double.toString
 * prints), cut to 9 fraction digits, without trailing zeros.
 */
static void put_java_seconds(pgcdc_buf *buf, double v)
{
    if (v == 0) {
        pgcdc_buf_putc(buf, '0');
        return;
    }
    char tmp[40];
    int prec;
    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp: [-]d.ddde[+-]XX */
    char dig[24];
    int nd = 0, neg = 0;
    const char *q = tmp;
    if (*q == '-') {
        neg = 1;
        q++;
    }
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            dig[nd++] = *q;
    int exp10 = atoi(q + 1); /* value = d.ddd * 10^exp10 */
    int point = exp10 + 1;   /* digits before the decimal point */
    /* cut to 9 fraction digits (DOWN) */
    int maxd = point + 9;
    if (nd > maxd)
        nd = maxd < 0 ? 0 : maxd;
    while (nd > 0 && dig[nd - 1] == '0')
        nd--;
    if (nd == 0) {
        pgcdc_buf_putc(buf, '0');
        return;
    }
    if (neg)
        pgcdc_buf_putc(buf, '-');
    if (point <= 0) {
        PGCDC_BUF_LIT(buf, "0.");
        for (int j = 0; j < -point; j++)
            pgcdc_buf_putc(buf, '0');
        pgcdc_buf_append(buf, dig, (size_t)nd);
    } else if (point >= nd) {
        pgcdc_buf_append(buf, dig, (size_t)nd);
        for (int j = nd; j < point; j++)
            pgcdc_buf_putc(buf, '0');
    } else {
        pgcdc_buf_append(buf, dig, (size_t)point);
        pgcdc_buf_putc(buf, '.');
        pgcdc_buf_append(buf, dig + point, (size_t)(nd - point));
    }
}

/*
 * interval -> io.debezium.time.MicroDuration, computed exactly like
 * MicroDuration.durationMicros in double arithmetic (a month is 365.25/12
 * days), or io.debezium.time.Interval "PnYnMnDTnHnMnS" in string mode.
 * DEVIATION: hour counts beyond int32 (possible in PostgreSQL, e.g.
 * "2562047788:00:54.775807") make PGInterval throw; we convert them.
 */
int pgcdc_pgt_interval(pgcdc_buf *buf, const pgcdc_coltype *ct, const pgcdc_type_opts *opts,
                       const char *t, size_t n, char *errstr, size_t es)
{
    pg_interval iv;
    if (parse_interval(t, n, &iv) != 0)
        return pgcdc_pgt_fail(errstr, es, ct, t, n);
    if (opts->interval_mode == PGCDC_INTERVAL_STRING) {
        char tmp[160];
        int k = snprintf(tmp, sizeof(tmp), "\"P%lldY%lldM%lldDT%lldH%lldM", (long long)iv.years,
                         (long long)iv.months, (long long)iv.days, (long long)iv.hours,
                         (long long)iv.minutes);
        pgcdc_buf_append(buf, tmp, (size_t)k);
        put_java_seconds(buf, iv.seconds);
        PGCDC_BUF_LIT(buf, "S\"");
        return 0;
    }
    /* volatile keeps each step a rounded double, as in Java (no FMA contraction) */
    volatile double dpm = 365.25 / 12.0;
    volatile double days = (double)(int32_t)(iv.years * 12 + iv.months) * dpm + (double)iv.days;
    volatile double secs = ((days * 24 + (double)iv.hours) * 60 + (double)iv.minutes) * 60;
    secs = secs + iv.seconds;
    volatile double us = secs * 1e6;
    pgcdc_buf_put_i64(buf, java_d2l(us));
    return 0;
}
