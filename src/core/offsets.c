/*
 * offsets.c - durable offsets file (see offsets.h).
 */
#include "core/offsets.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fsutil.h"

void pgcdc_lsn_format(uint64_t lsn, char *out, size_t out_size)
{
    snprintf(out, out_size, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
}

int pgcdc_lsn_parse(const char *s, uint64_t *lsn)
{
    /* PostgreSQL's pg_lsn syntax exactly: 1-8 hex digits, '/', 1-8 hex digits */
    static const char hex[] = "0123456789abcdefABCDEF";
    size_t n1 = strspn(s, hex);
    if (n1 < 1 || n1 > 8 || s[n1] != '/')
        return -1;
    size_t n2 = strspn(s + n1 + 1, hex);
    if (n2 < 1 || n2 > 8 || s[n1 + 1 + n2] != 0)
        return -1;
    uint64_t hi = strtoull(s, NULL, 16), lo = strtoull(s + n1 + 1, NULL, 16);
    *lsn = hi << 32 | lo;
    return 0;
}

static int get_u64(json_t *root, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(root, key);
    if (!v) {
        *out = 0;
        return 0;
    }
    if (json_is_integer(v)) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        /* 64-bit LSNs are stored as strings: JSON readers often use doubles */
        char *end;
        errno = 0;
        unsigned long long x = strtoull(json_string_value(v), &end, 10);
        if (errno || *end)
            return -1;
        *out = x;
        return 0;
    }
    return -1;
}

void pgcdc_offsets_clear(pgcdc_offsets *offsets)
{
    free(offsets->incremental);
    memset(offsets, 0, sizeof(*offsets));
}

int pgcdc_offsets_load(const char *dir, pgcdc_offsets *offsets, char *errstr, size_t errstr_size)
{
    char path[4096];
    memset(offsets, 0, sizeof(*offsets));
    snprintf(path, sizeof(path), "%s/offsets.json", dir);
    if (access(path, F_OK) != 0)
        return 0;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "offsets: cannot read %s: %s (line %d)", path, jerr.text,
                 jerr.line);
        return -1;
    }
    int rc = -1;
    uint64_t xid = 0;
    const char *slot = json_string_value(json_object_get(root, "slot"));
    if (!json_is_object(root) || !slot) {
        snprintf(errstr, errstr_size, "offsets: %s is not a pgcdc offsets file (no \"slot\")",
                 path);
        goto out;
    }
    snprintf(offsets->slot, sizeof(offsets->slot), "%s", slot);
    if (get_u64(root, "done_lsn", &offsets->done_lsn) ||
        get_u64(root, "partial_commit_lsn", &offsets->partial_commit_lsn) ||
        get_u64(root, "partial_index", &offsets->partial_index) ||
        get_u64(root, "last_commit_lsn", &offsets->last_commit_lsn) ||
        get_u64(root, "last_event_lsn", &offsets->last_event_lsn) ||
        get_u64(root, "last_xid", &xid) || get_u64(root, "events", &offsets->events)) {
        snprintf(errstr, errstr_size, "offsets: %s has a malformed number", path);
        goto out;
    }
    offsets->last_xid = (uint32_t)xid;
    const char *snap = json_string_value(json_object_get(root, "snapshot"));
    offsets->snapshot = !snap                      ? PGCDC_SNAPSHOT_STATE_NONE
                        : !strcmp(snap, "done")    ? PGCDC_SNAPSHOT_STATE_DONE
                        : !strcmp(snap, "running") ? PGCDC_SNAPSHOT_STATE_RUNNING
                                                   : PGCDC_SNAPSHOT_STATE_NONE;
    json_t *incr = json_object_get(root, "incremental");
    if (incr && json_is_object(incr)) {
        offsets->incremental = json_dumps(incr, JSON_COMPACT);
        if (!offsets->incremental) {
            snprintf(errstr, errstr_size, "offsets: out of memory");
            goto out;
        }
    } else if (incr && !json_is_null(incr)) {
        snprintf(errstr, errstr_size, "offsets: %s has a malformed \"incremental\" entry", path);
        goto out;
    }
    rc = 1;
out:
    json_decref(root);
    return rc;
}

int pgcdc_offsets_store(const char *dir, const pgcdc_offsets *offsets, char *errstr,
                        size_t errstr_size)
{
    char done[32];
    pgcdc_buf out = PGCDC_BUF_INIT;
    pgcdc_lsn_format(offsets->done_lsn, done, sizeof(done));
    /* slot names are [a-z0-9_] (PostgreSQL enforces it): no escaping needed */
    pgcdc_buf_printf(&out,
                     "{\"slot\":\"%s\",\"done_lsn\":\"%" PRIu64 "\",\"done_lsn_text\":\"%s\","
                     "\"partial_commit_lsn\":\"%" PRIu64 "\",\"partial_index\":\"%" PRIu64 "\","
                     "\"last_commit_lsn\":\"%" PRIu64 "\",\"last_event_lsn\":\"%" PRIu64
                     "\",\"last_xid\":\"%u\","
                     "\"events\":\"%" PRIu64 "\",\"snapshot\":\"%s\"",
                     offsets->slot, offsets->done_lsn, done, offsets->partial_commit_lsn,
                     offsets->partial_index, offsets->last_commit_lsn, offsets->last_event_lsn,
                     offsets->last_xid, offsets->events,
                     offsets->snapshot == PGCDC_SNAPSHOT_STATE_DONE      ? "done"
                     : offsets->snapshot == PGCDC_SNAPSHOT_STATE_RUNNING ? "running"
                                                                         : "none");
    /* produced by the incremental snapshot with jansson: a compact JSON object */
    if (offsets->incremental)
        pgcdc_buf_printf(&out, ",\"incremental\":%s", offsets->incremental);
    PGCDC_BUF_LIT(&out, "}\n");
    int rc = pgcdc_file_replace(dir, "offsets.json", out.data, out.len, 1, "offsets", errstr,
                                errstr_size);
    pgcdc_buf_free(&out);
    return rc;
}
