/*
 * test_offsets.c - unit tests for the durable offsets file (store/load
 * round trip, absent and malformed files) and LSN text conversion.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/offsets.h"
#include "test.h"

static char dir[64];
static char err[1024];

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static void write_offsets_file(const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/offsets.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void remove_offsets_file(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/offsets.json", dir);
    unlink(path);
}

static const char *fmt(uint64_t lsn)
{
    static char out[32];
    pgcdc_lsn_format(lsn, out, sizeof(out));
    return out;
}

static void test_lsn_format(void)
{
    CHECK_STR(fmt(0), "0/0");
    CHECK_STR(fmt(0x16B374D848ULL), "16/B374D848");
    CHECK_STR(fmt(0x1000000ULL), "0/1000000");
    CHECK_STR(fmt(0x100000000ULL), "1/0");
    CHECK_STR(fmt(UINT64_MAX), "FFFFFFFF/FFFFFFFF");
    CHECK_STR(fmt(0xABCDEF), "0/ABCDEF");
    /* a short output buffer is truncated, not overrun */
    char small[5];
    memset(small, 'x', sizeof(small));
    pgcdc_lsn_format(0x16B374D848ULL, small, sizeof(small));
    CHECK_STR(small, "16/B");
}

static void test_lsn_parse(void)
{
    uint64_t lsn = 1;
    CHECK_INT(pgcdc_lsn_parse("16/B374D848", &lsn), 0);
    CHECK(lsn == 0x16B374D848ULL);
    CHECK_INT(pgcdc_lsn_parse("0/0", &lsn), 0);
    CHECK(lsn == 0);
    CHECK_INT(pgcdc_lsn_parse("16/b374d848", &lsn), 0); /* lower case accepted */
    CHECK(lsn == 0x16B374D848ULL);
    CHECK_INT(pgcdc_lsn_parse("FFFFFFFF/FFFFFFFF", &lsn), 0);
    CHECK(lsn == UINT64_MAX);
    CHECK_INT(pgcdc_lsn_parse("1/0", &lsn), 0);
    CHECK(lsn == 0x100000000ULL);

    /* round trip */
    uint64_t vals[] = {
        0, 1, 0xFFFFFFFFULL, 0x100000000ULL, 0x16B374D848ULL, 0x123456789ABCDEFULL, UINT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint64_t back = 0;
        CHECK_INT(pgcdc_lsn_parse(fmt(vals[i]), &back), 0);
        CHECK(back == vals[i]);
    }

    /* invalid: the output is left untouched */
    const char *bad[] = {"",
                         "16",
                         "16/",
                         "/B374D848",
                         "xyz",
                         "16/B374D848x",
                         "16/B374D848 ",
                         "16:B374D848",
                         "G/0",
                         "16/B374D848/1",
                         "16-B374D848"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lsn = 77;
        int rc = pgcdc_lsn_parse(bad[i], &lsn);
        if (rc != -1)
            fprintf(stderr, "accepted invalid LSN '%s'\n", bad[i]);
        CHECK_INT(rc, -1);
        CHECK(lsn == 77);
    }
}

/*
 * PostgreSQL's pg_lsn input accepts exactly 1-8 hex digits, '/', 1-8 hex
 * digits. sscanf("%X/%X") is laxer: it skips white space, takes a sign or
 * a 0x prefix, and silently truncates components longer than 8 digits.
 */
static void test_lsn_parse_strict(void)
{
    const char *bad[] = {" 16/B374D848", "16/ B374D848", "-1/0",       "+1/0",
                         "0x16/0",       "123456789/0",  "0/123456789"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t lsn = 77;
        int rc = pgcdc_lsn_parse(bad[i], &lsn);
        if (rc != -1)
            fprintf(stderr, "accepted invalid LSN '%s' as %llX\n", bad[i], (unsigned long long)lsn);
        CHECK_INT(rc, -1);
    }
}

static void test_absent(void)
{
    remove_offsets_file();
    pgcdc_offsets o;
    memset(&o, 0xAB, sizeof(o));
    err[0] = 0;
    CHECK_INT(pgcdc_offsets_load(dir, &o, err, sizeof(err)), 0);
    CHECK_STR(o.slot, "");
    CHECK(o.done_lsn == 0 && o.partial_commit_lsn == 0 && o.partial_index == 0);
    CHECK(o.last_event_lsn == 0 && o.last_xid == 0 && o.events == 0);
    /* a directory that does not exist is "absent" too */
    CHECK_INT(pgcdc_offsets_load("/nonexistent-pgcdc-dir", &o, err, sizeof(err)), 0);
}

static void test_round_trip(void)
{
    pgcdc_offsets o, back;
    memset(&o, 0, sizeof(o));
    snprintf(o.slot, sizeof(o.slot), "%s", "debezium_slot_1");
    o.done_lsn = 0x16B374D848ULL;
    o.partial_commit_lsn = 0x16B3750000ULL;
    o.partial_index = 1234;
    o.last_event_lsn = 0x16B374FFFFULL;
    o.last_commit_lsn = 0x16B374D000ULL;
    o.last_xid = 4000000000u;
    o.events = 987654321012ULL;
    err[0] = 0;
    CHECK_INT(pgcdc_offsets_store(dir, &o, err, sizeof(err)), 0);
    CHECK_STR(err, "");
    memset(&back, 0xCD, sizeof(back));
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), 1);
    CHECK_STR(back.slot, "debezium_slot_1");
    CHECK(back.done_lsn == o.done_lsn);
    CHECK(back.partial_commit_lsn == o.partial_commit_lsn);
    CHECK(back.partial_index == o.partial_index);
    CHECK(back.last_event_lsn == o.last_event_lsn);
    CHECK(back.last_commit_lsn == o.last_commit_lsn);
    CHECK(back.last_xid == o.last_xid);
    CHECK(back.events == o.events);

    /* 64-bit values beyond 2^53 survive (stored as strings) */
    o.done_lsn = UINT64_MAX - 1;
    o.events = (1ULL << 60) + 3;
    CHECK_INT(pgcdc_offsets_store(dir, &o, err, sizeof(err)), 0);
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), 1);
    CHECK(back.done_lsn == UINT64_MAX - 1);
    CHECK(back.events == (1ULL << 60) + 3);

    /* replacing: the second store wins and no temporary file is left */
    o.done_lsn = 5;
    CHECK_INT(pgcdc_offsets_store(dir, &o, err, sizeof(err)), 0);
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), 1);
    CHECK(back.done_lsn == 5);
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s/offsets.json.tmp", dir);
    CHECK(access(tmp, F_OK) != 0);

    /* the file holds the human-readable LSN as well */
    char path[256], text[1024] = {0};
    o.done_lsn = 0x16B374D848ULL;
    CHECK_INT(pgcdc_offsets_store(dir, &o, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/offsets.json", dir);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f) {
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = 0;
        fclose(f);
    }
    CHECK(contains(text, "16/B374D848"));

    /* all zeros */
    memset(&o, 0, sizeof(o));
    snprintf(o.slot, sizeof(o.slot), "%s", "s");
    CHECK_INT(pgcdc_offsets_store(dir, &o, err, sizeof(err)), 0);
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), 1);
    CHECK_STR(back.slot, "s");
    CHECK(back.done_lsn == 0 && back.events == 0 && back.last_xid == 0);
}

static void test_load_integers_and_missing_fields(void)
{
    /* plain JSON integers are accepted; missing numeric fields read as 0 */
    pgcdc_offsets o;
    write_offsets_file("{\"slot\":\"x\",\"done_lsn\":100,\"events\":\"7\"}");
    CHECK_INT(pgcdc_offsets_load(dir, &o, err, sizeof(err)), 1);
    CHECK_STR(o.slot, "x");
    CHECK(o.done_lsn == 100);
    CHECK(o.events == 7);
    CHECK(o.partial_commit_lsn == 0 && o.partial_index == 0 && o.last_xid == 0);
}

static void expect_malformed(const char *text, const char *want_in_err)
{
    pgcdc_offsets o;
    write_offsets_file(text);
    err[0] = 0;
    int rc = pgcdc_offsets_load(dir, &o, err, sizeof(err));
    if (rc != -1)
        fprintf(stderr, "accepted malformed offsets file: %s\n", text);
    CHECK_INT(rc, -1);
    CHECK(err[0] != 0);
    CHECK(contains(err, "offsets.json"));
    if (want_in_err && !contains(err, want_in_err)) {
        fprintf(stderr, "error '%s' lacks '%s'\n", err, want_in_err);
        test_current_failed = 1;
    }
}

static void test_malformed(void)
{
    expect_malformed("", NULL);
    expect_malformed("not json at all", NULL);
    expect_malformed("{\"slot\":\"x\",\"done_lsn\":", NULL); /* torn */
    expect_malformed("[1,2,3]", "slot");
    expect_malformed("{\"done_lsn\":\"5\"}", "slot");
    expect_malformed("{\"slot\":5,\"done_lsn\":\"5\"}", "slot");
    expect_malformed("{\"slot\":\"x\",\"done_lsn\":\"12abc\"}", "malformed");
    expect_malformed("{\"slot\":\"x\",\"done_lsn\":\"99999999999999999999999\"}", "malformed");
    expect_malformed("{\"slot\":\"x\",\"done_lsn\":1.5}", "malformed");
    expect_malformed("{\"slot\":\"x\",\"events\":true}", "malformed");
    expect_malformed("{\"slot\":\"x\",\"partial_index\":[1]}", "malformed");
    remove_offsets_file();
}

/* The incremental snapshot's progress is kept as a JSON object, verbatim. */
static void test_incremental_round_trip(void)
{
    pgcdc_offsets o, back;
    memset(&o, 0, sizeof(o));
    snprintf(o.slot, sizeof(o.slot), "s1");
    o.done_lsn = 42;
    o.incremental = strdup("{\"tables\":[{\"table\":\"public.t\",\"filter\":null}],"
                           "\"last_key\":[\"7\"]}");
    CHECK_INT(pgcdc_offsets_store(dir, &o, err, sizeof(err)), 0);
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), 1);
    CHECK(back.done_lsn == 42);
    CHECK_STR(back.incremental,
              "{\"tables\":[{\"table\":\"public.t\",\"filter\":null}],\"last_key\":[\"7\"]}");
    pgcdc_offsets_clear(&back);
    CHECK(back.incremental == NULL && back.done_lsn == 0);
    pgcdc_offsets_clear(&o);
    /* absent means none; a non-object is malformed */
    write_offsets_file("{\"slot\":\"s1\",\"done_lsn\":\"1\"}");
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), 1);
    CHECK(back.incremental == NULL);
    write_offsets_file("{\"slot\":\"s1\",\"incremental\":[1]}");
    CHECK_INT(pgcdc_offsets_load(dir, &back, err, sizeof(err)), -1);
    CHECK(contains(err, "incremental"));
    pgcdc_offsets_clear(&back);
    remove_offsets_file();
}

static void test_store_error(void)
{
    pgcdc_offsets o;
    memset(&o, 0, sizeof(o));
    snprintf(o.slot, sizeof(o.slot), "%s", "s");
    err[0] = 0;
    CHECK_INT(pgcdc_offsets_store("/nonexistent-pgcdc-dir/sub", &o, err, sizeof(err)), -1);
    CHECK(contains(err, "offsets"));
    CHECK(contains(err, "/nonexistent-pgcdc-dir/sub"));
}

int main(void)
{
    snprintf(dir, sizeof(dir), "%s", "/tmp/pgcdc-test-offsets-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    TEST_RUN(test_lsn_format);
    TEST_RUN(test_lsn_parse);
    TEST_RUN(test_lsn_parse_strict);
    TEST_RUN(test_absent);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_load_integers_and_missing_fields);
    TEST_RUN(test_malformed);
    TEST_RUN(test_incremental_round_trip);
    TEST_RUN(test_store_error);
    remove_offsets_file();
    rmdir(dir);
    TEST_DONE();
}
