/*
 * store_local.c - the lake store on a local directory.
 *
 * Objects are files under the root. Every write goes to a hidden temporary
 * file next to its destination, is fsynced, and then appears under its name
 * in one step: rename(2) for put and uploads, link(2) for put_if_absent
 * (link fails with EEXIST when the name is taken, which makes it the atomic
 * create Delta commits rely on). The directory is fsynced afterwards, so a
 * key that was reported written survives power loss.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "sink/lake/store.h"

typedef struct local_store {
    pgcdc_lake_store base;
} local_store;

struct pgcdc_lake_upload {
    local_store *store;
    int fd;
    char *tmp;
    char *path;
};

static char *join(const local_store *s, const char *key)
{
    size_t n = strlen(s->base.root) + strlen(key) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", s->base.root, key);
    return p;
}

/* The directory part of path (modifies a copy). */
static char *parent_of(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return NULL;
    char *slash = strrchr(d, '/');
    if (slash && slash != d)
        *slash = 0;
    else
        strcpy(d, slash ? "/" : ".");
    return d;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Creates a temporary file next to path; fills *tmp. Returns the fd or -1
 * with errstr. */
static int open_tmp(const char *path, char **tmp, char *errstr, size_t errstr_size)
{
    char *dir = parent_of(path);
    const char *failed = NULL;
    if (!dir || pgcdc_mkdir_p(dir, &failed) != 0) {
        snprintf(errstr, errstr_size, "lake: cannot create directory %s: %s",
                 failed ? failed : (dir ? dir : path), strerror(errno));
        free(dir);
        return -1;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(dir) + strlen(base) + 16;
    *tmp = malloc(n);
    if (!*tmp) {
        free(dir);
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    snprintf(*tmp, n, "%s/.%s.XXXXXX", dir, base);
    free(dir);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "lake: cannot create a file next to %s: %s", path,
                 strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return fd;
}

/* Writes data to a fresh temporary file next to path and fsyncs it. */
static int write_tmp(const char *path, const void *data, size_t len, char **tmp, char *errstr,
                     size_t errstr_size)
{
    int fd = open_tmp(path, tmp, errstr, errstr_size);
    if (fd < 0)
        return -1;
    if (pgcdc_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        snprintf(errstr, errstr_size, "lake: writing %s: %s", path, strerror(errno));
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
        return -1;
    }
    close(fd);
    return 0;
}

/* Makes the directory entry of path durable. */
static int sync_parent(const char *path, char *errstr, size_t errstr_size)
{
    char *dir = parent_of(path);
    int rc = dir ? fsync_dir(dir) : -1;
    if (rc != 0)
        snprintf(errstr, errstr_size, "lake: fsync of the directory of %s: %s", path,
                 strerror(errno));
    free(dir);
    return rc;
}

/*
 * Writes data under key through a synced temporary file: renamed over the
 * key (replacing it), or, when exclusive, linked to it, which fails with
 * EEXIST if the key is taken (then 1 is returned and nothing changes).
 */
static int place(pgcdc_lake_store *st, const char *key, const void *data, size_t len, int exclusive,
                 char *errstr, size_t errstr_size)
{
    local_store *s = (local_store *)st;
    char *path = join(s, key), *tmp = NULL;
    int rc = -1;
    if (!path) {
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    if (write_tmp(path, data, len, &tmp, errstr, errstr_size) != 0)
        goto out;
    if ((exclusive ? link(tmp, path) : rename(tmp, path)) != 0) {
        if (exclusive && errno == EEXIST)
            rc = 1;
        else
            snprintf(errstr, errstr_size, "lake: creating %s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (exclusive)
        unlink(tmp);
    rc = sync_parent(path, errstr, errstr_size);
out:
    free(tmp);
    free(path);
    return rc;
}

static int local_put(pgcdc_lake_store *st, const char *key, const void *data, size_t len,
                     char *errstr, size_t errstr_size)
{
    return place(st, key, data, len, 0, errstr, errstr_size);
}

static int local_put_if_absent(pgcdc_lake_store *st, const char *key, const void *data, size_t len,
                               char *errstr, size_t errstr_size)
{
    return place(st, key, data, len, 1, errstr, errstr_size);
}

static int local_get(pgcdc_lake_store *st, const char *key, pgcdc_buf *out, char *errstr,
                     size_t errstr_size)
{
    local_store *s = (local_store *)st;
    char *path = join(s, key);
    if (!path) {
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        int absent = errno == ENOENT;
        if (!absent)
            snprintf(errstr, errstr_size, "lake: cannot open %s: %s", path, strerror(errno));
        free(path);
        return absent ? 1 : -1;
    }
    int rc = 0;
    for (;;) {
        pgcdc_buf_reserve(out, 65536);
        ssize_t r = read(fd, out->data + out->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(errstr, errstr_size, "lake: reading %s: %s", path, strerror(errno));
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
    }
    close(fd);
    free(path);
    return rc;
}

typedef struct list_ctx {
    const char *prefix; /* key prefix to match */
    pgcdc_lake_list_fn fn;
    void *ctx;
    char *errstr;
    size_t errstr_size;
} list_ctx;

/* Walks dir (whose key is `key`, "" for the root), reporting files whose
 * key starts with the prefix. Temporary files (dot names) are skipped. */
static int walk(const char *dir, const char *key, list_ctx *lc)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(lc->errstr, lc->errstr_size, "lake: cannot list %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    size_t plen = strlen(lc->prefix);
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(dir) + strlen(e->d_name) + 2, kn = strlen(key) + strlen(e->d_name) + 2;
        char *path = malloc(n), *k = malloc(kn);
        if (!path || !k) {
            free(path);
            free(k);
            snprintf(lc->errstr, lc->errstr_size, "lake: out of memory");
            rc = -1;
            break;
        }
        snprintf(path, n, "%s/%s", dir, e->d_name);
        snprintf(k, kn, "%s%s%s", key, *key ? "/" : "", e->d_name);
        struct stat sb;
        if (stat(path, &sb) == 0) {
            size_t klen = strlen(k);
            size_t m = klen < plen ? klen : plen;
            if (S_ISDIR(sb.st_mode)) {
                /* descend only where keys can still match the prefix */
                if (!strncmp(k, lc->prefix, m))
                    rc = walk(path, k, lc);
            } else if (S_ISREG(sb.st_mode) && klen >= plen && !strncmp(k, lc->prefix, plen)) {
                rc = lc->fn(lc->ctx, k, (int64_t)sb.st_size,
                            (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000);
            }
        }
        free(path);
        free(k);
    }
    closedir(d);
    return rc;
}

static int local_list(pgcdc_lake_store *st, const char *prefix, pgcdc_lake_list_fn fn, void *ctx,
                      char *errstr, size_t errstr_size)
{
    list_ctx lc = {prefix, fn, ctx, errstr, errstr_size};
    return walk(st->root, "", &lc);
}

static int local_remove(pgcdc_lake_store *st, const char *key, char *errstr, size_t errstr_size)
{
    char *path = join((local_store *)st, key);
    if (!path) {
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    int rc = 0;
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(errstr, errstr_size, "lake: cannot delete %s: %s", path, strerror(errno));
        rc = -1;
    }
    free(path);
    return rc;
}

static int local_upload_begin(pgcdc_lake_store *st, const char *key, pgcdc_lake_upload **out,
                              char *errstr, size_t errstr_size)
{
    pgcdc_lake_upload *up = calloc(1, sizeof(*up));
    if (!up || !(up->path = join((local_store *)st, key))) {
        free(up);
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    up->store = (local_store *)st;
    up->fd = open_tmp(up->path, &up->tmp, errstr, errstr_size);
    if (up->fd < 0) {
        free(up->path);
        free(up);
        return -1;
    }
    *out = up;
    return 0;
}

static int local_upload_write(pgcdc_lake_upload *up, const void *data, size_t len, char *errstr,
                              size_t errstr_size)
{
    if (pgcdc_write_all(up->fd, data, len) != 0) {
        snprintf(errstr, errstr_size, "lake: writing %s: %s", up->path, strerror(errno));
        return -1;
    }
    return 0;
}

static void upload_free(pgcdc_lake_upload *up)
{
    if (up->fd >= 0)
        close(up->fd);
    free(up->tmp);
    free(up->path);
    free(up);
}

static void local_upload_abort(pgcdc_lake_upload *up)
{
    if (up->tmp)
        unlink(up->tmp);
    upload_free(up);
}

/* Always consumes up, also on failure (then nothing is left behind). */
static int local_upload_finish(pgcdc_lake_upload *up, char *errstr, size_t errstr_size)
{
    if (fsync(up->fd) != 0) {
        snprintf(errstr, errstr_size, "lake: fsync of %s: %s", up->path, strerror(errno));
        local_upload_abort(up);
        return -1;
    }
    if (rename(up->tmp, up->path) != 0) {
        snprintf(errstr, errstr_size, "lake: rename to %s: %s", up->path, strerror(errno));
        local_upload_abort(up);
        return -1;
    }
    int rc = sync_parent(up->path, errstr, errstr_size);
    upload_free(up);
    return rc;
}

static int local_open_read(pgcdc_lake_store *st, const char *key, int *fd, uint64_t *size,
                           char *errstr, size_t errstr_size)
{
    char *path = join((local_store *)st, key);
    if (!path) {
        snprintf(errstr, errstr_size, "lake: out of memory");
        return -1;
    }
    struct stat sb;
    *fd = open(path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &sb) != 0) {
        int absent = errno == ENOENT;
        if (!absent)
            snprintf(errstr, errstr_size, "lake: cannot open %s: %s", path, strerror(errno));
        if (*fd >= 0)
            close(*fd);
        free(path);
        return absent ? 1 : -1;
    }
    *size = (uint64_t)sb.st_size;
    free(path);
    return 0;
}

static void local_close(pgcdc_lake_store *st)
{
    if (!st)
        return;
    free(st->root);
    free(st);
}

static const pgcdc_lake_store_type local_type = {
    .name = "local",
    .put = local_put,
    .put_if_absent = local_put_if_absent,
    .get = local_get,
    .list = local_list,
    .remove = local_remove,
    .upload_begin = local_upload_begin,
    .upload_write = local_upload_write,
    .upload_finish = local_upload_finish,
    .upload_abort = local_upload_abort,
    .open_read = local_open_read,
    .close = local_close,
};

pgcdc_lake_store *pgcdc_lake_store_local_open(const char *dir, char *errstr, size_t errstr_size)
{
    const char *failed = NULL;
    if (pgcdc_mkdir_p(dir, &failed) != 0) {
        snprintf(errstr, errstr_size, "lake: cannot create the root directory %s (%s: %s)", dir,
                 failed ? failed : dir, strerror(errno));
        return NULL;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(errstr, errstr_size, "lake: the root directory %s is not writable: %s", dir,
                 strerror(errno));
        return NULL;
    }
    local_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->base.root = strdup(dir))) {
        free(s);
        snprintf(errstr, errstr_size, "lake: out of memory");
        return NULL;
    }
    /* keys are joined with '/': drop trailing ones from the root */
    size_t n = strlen(s->base.root);
    while (n > 1 && s->base.root[n - 1] == '/')
        s->base.root[--n] = 0;
    s->base.type = &local_type;
    return &s->base;
}
