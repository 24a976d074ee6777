/*
 * log.h - leveled logging to stderr.
 *
 * One line per call, prefixed with an ISO-8601 UTC time, the level and the
 * component. Thread-safe (a single write(2) per line). Secrets must never
 * reach these functions: callers print connection info through
 * pgcdc_config_describe_conn(), which masks passwords.
 */
#ifndef PGCDC_COMMON_LOG_H
#define PGCDC_COMMON_LOG_H

typedef enum {
    PGCDC_LOG_ERROR = 0,
    PGCDC_LOG_WARN = 1,
    PGCDC_LOG_INFO = 2,
    PGCDC_LOG_DEBUG = 3,
} pgcdc_log_level;

/* Parses "error", "warn", "info", "debug"; returns -1 if unknown. */
int pgcdc_log_level_parse(const char *s);
void pgcdc_log_set_level(pgcdc_log_level level);
int pgcdc_log_enabled(pgcdc_log_level level);
void pgcdc_log(pgcdc_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define pgcdc_log_error(comp, ...) pgcdc_log(PGCDC_LOG_ERROR, comp, __VA_ARGS__)
#define pgcdc_log_warn(comp, ...) pgcdc_log(PGCDC_LOG_WARN, comp, __VA_ARGS__)
#define pgcdc_log_info(comp, ...) pgcdc_log(PGCDC_LOG_INFO, comp, __VA_ARGS__)
#define pgcdc_log_debug(comp, ...)                                                                 \
    do {                                                                                           \
        if (pgcdc_log_enabled(PGCDC_LOG_DEBUG))                                                    \
            pgcdc_log(PGCDC_LOG_DEBUG, comp, __VA_ARGS__);                                         \
    } while (0)

#endif
