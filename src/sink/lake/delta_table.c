/*
 * delta_table.c - a Delta table on a lake store: log replay and atomic
 * commits (see delta_table.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sink/lake/delta_table.h"

typedef struct log_listing {
    size_t dir_len; /* length of "<dir>/_delta_log/" */
    int64_t *versions;
    size_t n, cap;
    int checkpoints; /* checkpoint files or _last_checkpoint seen */
    int oom;
} log_listing;

static int collect(void *ctx, const char *key, int64_t size, int64_t mtime_ms)
{
    (void)size;
    (void)mtime_ms;
    log_listing *l = ctx;
    const char *name = key + l->dir_len;
    if (strchr(name, '/'))
        return 0;
    if (strstr(name, ".checkpoint") || !strcmp(name, "_last_checkpoint")) {
        l->checkpoints = 1;
        return 0;
    }
    int64_t v = pgcdc_delta_log_version(name);
    if (v < 0)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *nv = realloc(l->versions, cap * sizeof(*nv));
        if (!nv) {
            l->oom = 1;
            return -1;
        }
        l->versions = nv;
        l->cap = cap;
    }
    l->versions[l->n++] = v;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int pgcdc_delta_table_read_commit(pgcdc_delta_table *t, int64_t v, pgcdc_buf *text, char *errstr,
                                  size_t errstr_size)
{
    char name[64], key[4096];
    pgcdc_delta_log_name(name, sizeof(name), v);
    snprintf(key, sizeof(key), "%s/%s", t->dir, name);
    pgcdc_buf_reset(text);
    int rc = t->store->type->get(t->store, key, text, errstr, errstr_size);
    if (rc == 1)
        snprintf(errstr, errstr_size, "Delta table %s/%s: commit %s vanished while reading",
                 t->store->root, t->dir, name);
    return rc == 0 ? 0 : -1;
}

int pgcdc_delta_table_refresh(pgcdc_delta_table *t, char *errstr, size_t errstr_size)
{
    char prefix[4096];
    int n = snprintf(prefix, sizeof(prefix), "%s/_delta_log/", t->dir);
    if (n < 0 || (size_t)n >= sizeof(prefix)) {
        snprintf(errstr, errstr_size, "Delta table path too long: %s", t->dir);
        return -1;
    }
    log_listing l = {.dir_len = (size_t)n};
    int rc = t->store->type->list(t->store, prefix, collect, &l, errstr, errstr_size);
    if (l.oom)
        snprintf(errstr, errstr_size, "out of memory");
    if (rc != 0 || l.oom)
        goto out;
    if (l.n)
        qsort(l.versions, l.n, sizeof(*l.versions), cmp_i64);
    int64_t next = t->state.version + 1;
    if (l.n && l.versions[0] > next) {
        snprintf(errstr, errstr_size,
                 "Delta table %s/%s: its log starts at commit %" PRId64 "%s; pgcdc replays the "
                 "JSON commits from %" PRId64 " and does not read Parquet checkpoints: point the "
                 "sink at a new location or restore the older commits",
                 t->store->root, t->dir, l.versions[0],
                 l.checkpoints ? " (older ones were replaced by a checkpoint)" : "", next);
        rc = -1;
        goto out;
    }
    pgcdc_buf text = PGCDC_BUF_INIT;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        if (l.versions[i] < next)
            continue;
        if (l.versions[i] != next) {
            snprintf(errstr, errstr_size,
                     "Delta table %s/%s: commit %" PRId64 " is missing from its log",
                     t->store->root, t->dir, next);
            rc = -1;
            break;
        }
        rc = pgcdc_delta_table_read_commit(t, next, &text, errstr, errstr_size);
        if (rc == 0)
            rc = pgcdc_delta_state_apply(&t->state, next, text.data ? text.data : "", text.len,
                                         errstr, errstr_size);
        next++;
    }
    pgcdc_buf_free(&text);
out:
    free(l.versions);
    return rc;
}

int pgcdc_delta_table_open(pgcdc_delta_table *t, pgcdc_lake_store *store, const char *dir,
                           char *errstr, size_t errstr_size)
{
    memset(t, 0, sizeof(*t));
    pgcdc_delta_state_init(&t->state);
    t->store = store;
    t->dir = strdup(dir);
    if (!t->dir) {
        snprintf(errstr, errstr_size, "out of memory");
        return -1;
    }
    size_t n = strlen(t->dir);
    while (n && t->dir[n - 1] == '/')
        t->dir[--n] = 0;
    return pgcdc_delta_table_refresh(t, errstr, errstr_size);
}

int pgcdc_delta_table_commit(pgcdc_delta_table *t, const char *actions, size_t len, char *errstr,
                             size_t errstr_size)
{
    int64_t v = t->state.version + 1;
    char name[64], key[4096];
    pgcdc_delta_log_name(name, sizeof(name), v);
    snprintf(key, sizeof(key), "%s/%s", t->dir, name);
    int rc = t->store->type->put_if_absent(t->store, key, actions, len, errstr, errstr_size);
    if (rc != 0)
        return rc;
    /* Our own text: it parses unless this module and the writers disagree. */
    return pgcdc_delta_state_apply(&t->state, v, actions, len, errstr, errstr_size);
}

void pgcdc_delta_table_close(pgcdc_delta_table *t)
{
    pgcdc_delta_state_free(&t->state);
    free(t->dir);
    t->dir = NULL;
}
