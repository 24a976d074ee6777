/*
 * spool.c - streamed-transaction spool (see spool.h).
 *
 * Record layout, in memory and on disk alike: u32 message xid, u32 length,
 * then the bytes (host byte order: the file never outlives the process).
 */
#include "source/pg/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"

#define WRITE_BUF_MAX (1u << 20)
#define READ_CHUNK (1u << 20)

typedef struct spool_txn {
    uint32_t xid;
    pgcdc_buf mem; /* records while in memory; write buffer once spilled */
    int fd;        /* -1 while in memory */
    uint64_t file_bytes;
    uint32_t *aborted;
    size_t naborted, aborted_cap;
    struct spool_txn *next;
} spool_txn;

struct pgcdc_spool {
    char *dir;
    uint64_t limit;
    uint64_t mem_bytes;
    int count;
    spool_txn *txns;
};

pgcdc_spool *pgcdc_spool_new(const char *dir, uint64_t mem_limit)
{
    pgcdc_spool *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->dir = strdup(dir);
    s->limit = mem_limit ? mem_limit : (64u << 20);
    return s;
}

static void txn_free(pgcdc_spool *s, spool_txn *t)
{
    if (t->fd < 0)
        s->mem_bytes -= t->mem.len;
    else
        close(t->fd);
    pgcdc_buf_free(&t->mem);
    free(t->aborted);
    free(t);
    s->count--;
}

void pgcdc_spool_free(pgcdc_spool *s)
{
    if (!s)
        return;
    while (s->txns) {
        spool_txn *t = s->txns;
        s->txns = t->next;
        txn_free(s, t);
    }
    free(s->dir);
    free(s);
}

static spool_txn *find(pgcdc_spool *s, uint32_t xid, spool_txn ***link)
{
    spool_txn **pp = &s->txns;
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->xid == xid) {
            if (link)
                *link = pp;
            return *pp;
        }
    }
    return NULL;
}

static int flush_to_file(pgcdc_spool *s, spool_txn *t, char *errstr, size_t errstr_size)
{
    if (!t->mem.len)
        return 0;
    if (pgcdc_write_all(t->fd, t->mem.data, t->mem.len) != 0) {
        snprintf(errstr, errstr_size, "spool: writing transaction %u to %s: %s", t->xid, s->dir,
                 strerror(errno));
        return -1;
    }
    t->file_bytes += t->mem.len;
    pgcdc_buf_reset(&t->mem);
    return 0;
}

/* Moves a transaction's records to an unlinked temporary file. */
static int spill(pgcdc_spool *s, spool_txn *t, char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.spool-%u-XXXXXX", s->dir, t->xid);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "spool: cannot create a spill file in %s: %s", s->dir,
                 strerror(errno));
        return -1;
    }
    unlink(path);
    t->fd = fd;
    s->mem_bytes -= t->mem.len;
    pgcdc_log_info("spool", "transaction %u exceeds the in-memory limit; spilling to disk", t->xid);
    if (flush_to_file(s, t, errstr, errstr_size) != 0)
        return -1;
    /* keep the write buffer modest */
    if (t->mem.cap > 2 * WRITE_BUF_MAX)
        pgcdc_buf_free(&t->mem);
    return 0;
}

int pgcdc_spool_append(pgcdc_spool *s, uint32_t top_xid, uint32_t msg_xid, const char *data,
                       size_t len, char *errstr, size_t errstr_size)
{
    spool_txn *t = find(s, top_xid, NULL);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t) {
            snprintf(errstr, errstr_size, "spool: out of memory");
            return -1;
        }
        t->xid = top_xid;
        t->fd = -1;
        t->next = s->txns;
        s->txns = t;
        s->count++;
    }
    uint32_t hdr[2] = {msg_xid, (uint32_t)len};
    pgcdc_buf_append(&t->mem, hdr, sizeof(hdr));
    pgcdc_buf_append(&t->mem, data, len);
    if (t->fd >= 0) {
        if (t->mem.len >= WRITE_BUF_MAX)
            return flush_to_file(s, t, errstr, errstr_size);
        return 0;
    }
    s->mem_bytes += sizeof(hdr) + len;
    if (s->mem_bytes > s->limit)
        return spill(s, t, errstr, errstr_size);
    return 0;
}

void pgcdc_spool_abort(pgcdc_spool *s, uint32_t top_xid, uint32_t subxid)
{
    spool_txn **link = NULL;
    spool_txn *t = find(s, top_xid, &link);
    if (!t)
        return;
    if (subxid == top_xid || subxid == 0) {
        *link = t->next;
        txn_free(s, t);
        return;
    }
    if (t->naborted == t->aborted_cap) {
        size_t cap = t->aborted_cap ? t->aborted_cap * 2 : 8;
        uint32_t *n = realloc(t->aborted, cap * sizeof(*n));
        if (!n) {
            fprintf(stderr, "pgcdc: out of memory in spool\n");
            abort();
        }
        t->aborted = n;
        t->aborted_cap = cap;
    }
    t->aborted[t->naborted++] = subxid;
}

static int is_aborted(const spool_txn *t, uint32_t xid)
{
    for (size_t i = 0; i < t->naborted; i++)
        if (t->aborted[i] == xid)
            return 1;
    return 0;
}

static int replay_mem(const spool_txn *t, const char *p, size_t n, pgcdc_spool_fn fn, void *ctx,
                      char *errstr, size_t errstr_size)
{
    size_t off = 0;
    while (off + 8 <= n) {
        uint32_t hdr[2];
        memcpy(hdr, p + off, sizeof(hdr));
        off += 8;
        if (!is_aborted(t, hdr[0])) {
            int rc = fn(ctx, p + off, hdr[1], errstr, errstr_size);
            if (rc != 0)
                return rc;
        }
        off += hdr[1];
    }
    return 0;
}

/*
 * Replays a spill file: reads it in large chunks and hands out the records
 * from the buffer, so a million small messages cost a few hundred read(2)
 * calls rather than two million.
 */
static int replay_file(pgcdc_spool *s, spool_txn *t, pgcdc_spool_fn fn, void *ctx, char *errstr,
                       size_t errstr_size)
{
    (void)s;
    if (lseek(t->fd, 0, SEEK_SET) != 0) {
        snprintf(errstr, errstr_size, "spool: seek: %s", strerror(errno));
        return -1;
    }
    pgcdc_buf in = PGCDC_BUF_INIT;
    size_t head = 0; /* start of unconsumed bytes in `in` */
    uint64_t left = t->file_bytes;
    int rc = 0;
    for (;;) {
        /* consume every complete record in the buffer */
        while (in.len - head >= 8) {
            uint32_t hdr[2];
            memcpy(hdr, in.data + head, sizeof(hdr));
            if (in.len - head - 8 < hdr[1])
                break;
            if (!is_aborted(t, hdr[0])) {
                rc = fn(ctx, in.data + head + 8, hdr[1], errstr, errstr_size);
                if (rc != 0)
                    goto out;
            }
            head += 8 + (size_t)hdr[1];
        }
        if (!left)
            break;
        /* keep the partial record, refill behind it */
        if (head) {
            memmove(in.data, in.data + head, in.len - head);
            in.len -= head;
            head = 0;
        }
        size_t want = READ_CHUNK;
        if (in.len >= 8) {
            uint32_t hdr[2];
            memcpy(hdr, in.data, sizeof(hdr));
            if (8 + (size_t)hdr[1] > in.len + want)
                want = 8 + (size_t)hdr[1] - in.len; /* one record larger than a chunk */
        }
        if (want > left)
            want = (size_t)left;
        pgcdc_buf_reserve(&in, want);
        ssize_t r;
        do
            r = read(t->fd, in.data + in.len, want);
        while (r < 0 && errno == EINTR);
        if (r <= 0) {
            snprintf(errstr, errstr_size, "spool: spill file of transaction %u is short: %s",
                     t->xid, r < 0 ? strerror(errno) : "end of file");
            rc = -1;
            goto out;
        }
        in.len += (size_t)r;
        left -= (uint64_t)r;
    }
    if (in.len != head) {
        snprintf(errstr, errstr_size, "spool: spill file of transaction %u ends mid-record",
                 t->xid);
        rc = -1;
    }
out:
    pgcdc_buf_free(&in);
    return rc;
}

int pgcdc_spool_replay(pgcdc_spool *s, uint32_t top_xid, pgcdc_spool_fn fn, void *ctx, char *errstr,
                       size_t errstr_size)
{
    spool_txn **link = NULL;
    spool_txn *t = find(s, top_xid, &link);
    if (!t)
        return 0;
    *link = t->next; /* detach first: fn may run long */
    int rc;
    if (t->fd >= 0) {
        rc = flush_to_file(s, t, errstr, errstr_size);
        if (rc == 0) {
            pgcdc_log_info("spool", "replaying transaction %u from disk (%llu bytes)", t->xid,
                           (unsigned long long)t->file_bytes);
            rc = replay_file(s, t, fn, ctx, errstr, errstr_size);
        }
    } else {
        rc = replay_mem(t, t->mem.data, t->mem.len, fn, ctx, errstr, errstr_size);
    }
    txn_free(s, t);
    return rc;
}

uint64_t pgcdc_spool_mem_bytes(const pgcdc_spool *s)
{
    return s->mem_bytes;
}

int pgcdc_spool_count(const pgcdc_spool *s)
{
    return s->count;
}
