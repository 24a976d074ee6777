/*
 * clock.h - the two clocks pgcdc reads: monotonic time for intervals and
 * timeouts (never jumps), wall-clock time for what is written out.
 */
#ifndef PGCDC_COMMON_CLOCK_H
#define PGCDC_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Microseconds on the monotonic clock (arbitrary origin). */
static inline int64_t pgcdc_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Microseconds since the Unix epoch. */
static inline int64_t pgcdc_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#endif
