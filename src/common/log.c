/*
 * log.c - leveled logging to stderr (see log.h).
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int log_level = PGCDC_LOG_INFO;

static const char *const level_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

int pgcdc_log_level_parse(const char *s)
{
    if (!strcmp(s, "error"))
        return PGCDC_LOG_ERROR;
    if (!strcmp(s, "warn") || !strcmp(s, "warning"))
        return PGCDC_LOG_WARN;
    if (!strcmp(s, "info"))
        return PGCDC_LOG_INFO;
    if (!strcmp(s, "debug"))
        return PGCDC_LOG_DEBUG;
    return -1;
}

void pgcdc_log_set_level(pgcdc_log_level level)
{
    log_level = level;
}

int pgcdc_log_enabled(pgcdc_log_level level)
{
    return (int)level <= log_level;
}

void pgcdc_log(pgcdc_log_level level, const char *component, const char *fmt, ...)
{
    if ((int)level > log_level)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), level_names[level], component);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    /* strip a trailing newline the caller may have added, then add ours */
    while (len > 0 && line[len - 1] == '\n')
        len--;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
