/*
 * fsutil.h - small file-system helpers shared by the CLI and the sinks.
 */
#ifndef PGCDC_COMMON_FSUTIL_H
#define PGCDC_COMMON_FSUTIL_H

/* mkdir -p with mode 0755. Returns 0, or -1 with errno set; on failure
 * *failed (if not NULL) names the component that could not be created
 * (static storage, valid until the next call). */
int pgcdc_mkdir_p(const char *path, const char **failed);

#endif
