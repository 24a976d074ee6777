/*
 * fsutil.h - small file-system helpers shared by the CLI and the sinks.
 */
#ifndef PGCDC_COMMON_FSUTIL_H
#define PGCDC_COMMON_FSUTIL_H

/* mkdir -p with mode 0755. Returns 0, or -1 with errno set; on failure
 * *failed (if not NULL) names the component that could not be created
 * (static storage, valid until the next call). */
int pgcdc_mkdir_p(const char *path, const char **failed);

#include <stddef.h>

/*
 * Replaces <dir>/<name> with data atomically: writes <name>.tmp, renames it
 * over the old file, so readers (and a restart after a crash) see the old or
 * the new contents, never a mix. With durable, the temporary file and then
 * the directory are fsynced, so the new contents survive power loss once
 * this returns. what names the file in errors ("offsets"). Returns 0, or -1
 * with errstr.
 */
int pgcdc_file_replace(const char *dir, const char *name, const char *data, size_t len, int durable,
                       const char *what, char *errstr, size_t errstr_size);

/* write(2) until all of p is written, retrying on EINTR. Returns 0, or -1
 * with errno set. */
int pgcdc_write_all(int fd, const void *p, size_t n);

#endif
