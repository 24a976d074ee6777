/*
 * test.h - a minimal unit-test harness for the C tests.
 *
 * Each test file defines test functions and a main() that runs them with
 * TEST_RUN(); the process prints "N passed, N failed" and exits non-zero on
 * any failure, so CTest and CI read the result from the exit code.
 */
#ifndef PGCDC_TEST_H
#define PGCDC_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures_total;
static int test_passed_total;
static int test_current_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            test_current_failed = 1;                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!g_ || strcmp(g_, w_) != 0) {                                                          \
            fprintf(stderr, "%s:%d: got  %s\n%*s want %s\n", __FILE__, __LINE__,                   \
                    g_ ? g_ : "(null)", (int)strlen(__FILE__) + 6, "", w_);                        \
            test_current_failed = 1;                                                               \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) {                                                                            \
            fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_);    \
            test_current_failed = 1;                                                               \
        }                                                                                          \
    } while (0)

#define TEST_RUN(fn)                                                                               \
    do {                                                                                           \
        test_current_failed = 0;                                                                   \
        fn();                                                                                      \
        if (test_current_failed) {                                                                 \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
            test_failures_total++;                                                                 \
        } else {                                                                                   \
            test_passed_total++;                                                                   \
        }                                                                                          \
    } while (0)

#define TEST_DONE()                                                                                \
    do {                                                                                           \
        printf("%d passed, %d failed\n", test_passed_total, test_failures_total);                  \
        return test_failures_total ? 1 : 0;                                                        \
    } while (0)

#endif
