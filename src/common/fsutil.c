/*
 * fsutil.c - small file-system helpers (see fsutil.h).
 */
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

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
