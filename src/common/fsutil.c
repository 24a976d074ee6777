/*
 * fsutil.c - small file-system helpers (see fsutil.h).
 */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pgcdc_mkdir_p(const char *path, const char **failed)
{
    static __thread char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    if (failed)
        *failed = tmp;
    return -1;
}

int pgcdc_file_replace(const char *dir, const char *name, const char *data, size_t len, int durable,
                       const char *what, char *errstr, size_t errstr_size)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int rc = -1, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "%s: cannot create %s: %s", what, tmp, strerror(errno));
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            snprintf(errstr, errstr_size, "%s: write %s: %s", what, tmp, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (durable && fsync(fd) != 0) {
        snprintf(errstr, errstr_size, "%s: fsync %s: %s", what, tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(tmp, path) != 0) {
        snprintf(errstr, errstr_size, "%s: rename %s: %s", what, tmp, strerror(errno));
        goto out;
    }
    if (durable) {
        /* the rename itself must reach the disk too */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && fsync(fd) != 0) {
            snprintf(errstr, errstr_size, "%s: fsync directory %s: %s", what, dir, strerror(errno));
            goto out;
        }
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

int pgcdc_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
