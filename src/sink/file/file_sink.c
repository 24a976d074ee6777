/*
 * file_sink.c - the embedded default sink: one JSON Lines file per topic.
 *
 * <data.dir>/<topic>.jsonl gets one line per record: exactly the record
 * value Kafka Connect's JsonConverter would put in Kafka. Tombstones have no
 * value and are not written. Values go from the batch buffer to the file
 * with writev(2), without a copy; flush fdatasyncs every file written since the last flush (and
 * the directory when files were created) before acknowledging, so an
 * acknowledged event survives power loss.
 *
 * After a crash the tail of a file may hold a torn line from a write that
 * was never acknowledged; opening the file cuts it off, and the replay that
 * follows writes those events again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "sink/sink.h"

#define WRITEBACK_CHUNK (1 << 20)
#define FILE_IOV_MAX 1024 /* Linux IOV_MAX */

typedef struct file_topic {
    char *topic;
    size_t topic_len;
    int fd;
    off_t size;   /* bytes in the file (we only append) */
    off_t synced; /* writeback started up to here */
    int dirty;    /* written since the last fdatasync */
} file_topic;

typedef struct file_sink {
    char *dir;
    int fsync_enabled;
    file_topic *topics;
    size_t ntopics, cap;
    size_t last; /* index of the last topic used: batches are often one table */
    int dir_dirty;
    uint64_t written_seq;
    struct iovec iov[FILE_IOV_MAX]; /* the run being gathered */
    int niov;
    size_t run_bytes;
} file_sink;

static int file_open(pgcdc_sink *sink, const pgcdc_config *cfg, void **state, char *errstr,
                     size_t errstr_size)
{
    (void)sink;
    file_sink *fs = calloc(1, sizeof(*fs));
    if (!fs) {
        snprintf(errstr, errstr_size, "file sink: out of memory");
        return -1;
    }
    fs->dir = strdup(cfg->data_dir);
    fs->fsync_enabled = cfg->file_fsync;
    const char *failed = cfg->data_dir; /* also when strdup failed */
    if (!fs->dir || pgcdc_mkdir_p(fs->dir, &failed) != 0) {
        snprintf(errstr, errstr_size, "file sink: cannot create directory %s: %s", failed,
                 strerror(errno));
        free(fs->dir);
        free(fs);
        return -1;
    }
    *state = fs;
    return 0;
}

/*
 * Cuts a torn last line left by a crash (bytes after the last '\n'). A read
 * error is reported, never taken for a torn file: truncating on a failed
 * read would destroy acknowledged events.
 */
static int trim_torn_tail(int fd, const char *path, char *errstr, size_t errstr_size)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        goto read_fail;
    if (st.st_size == 0)
        return 0;
    char c;
    if (pread(fd, &c, 1, st.st_size - 1) != 1)
        goto read_fail;
    if (c == '\n')
        return 0;
    off_t end = st.st_size;
    char buf[4096];
    while (end > 0) {
        off_t start = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
        ssize_t n = pread(fd, buf, (size_t)(end - start), start);
        if (n != (ssize_t)(end - start))
            goto read_fail;
        for (ssize_t i = n - 1; i >= 0; i--) {
            if (buf[i] == '\n') {
                off_t keep = start + i + 1;
                pgcdc_log_warn("file", "%s: removing %lld bytes of a torn last line", path,
                               (long long)(st.st_size - keep));
                if (ftruncate(fd, keep) != 0)
                    goto trunc_fail;
                return 0;
            }
        }
        end = start;
    }
    pgcdc_log_warn("file", "%s: removing a torn first line (%lld bytes)", path,
                   (long long)st.st_size);
    if (ftruncate(fd, 0) != 0)
        goto trunc_fail;
    return 0;
read_fail:
    snprintf(errstr, errstr_size, "file sink: cannot read %s: %s", path, strerror(errno));
    return -1;
trunc_fail:
    snprintf(errstr, errstr_size, "file sink: cannot truncate %s: %s", path, strerror(errno));
    return -1;
}

static file_topic *topic_get(file_sink *fs, const char *topic, size_t len, char *errstr,
                             size_t errstr_size)
{
    if (fs->ntopics) {
        file_topic *t = &fs->topics[fs->last];
        if (t->topic_len == len && !memcmp(t->topic, topic, len))
            return t;
    }
    for (size_t i = 0; i < fs->ntopics; i++) {
        file_topic *t = &fs->topics[i];
        if (t->topic_len == len && !memcmp(t->topic, topic, len)) {
            fs->last = i;
            return t;
        }
    }
    if (memchr(topic, '/', len) || (len <= 2 && topic[0] == '.')) {
        snprintf(errstr, errstr_size, "file sink: topic '%.*s' is not a valid file name", (int)len,
                 topic);
        return NULL;
    }
    if (fs->ntopics == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 16;
        file_topic *n = realloc(fs->topics, cap * sizeof(*n));
        if (!n) {
            snprintf(errstr, errstr_size, "file sink: out of memory");
            return NULL;
        }
        fs->topics = n;
        fs->cap = cap;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%.*s.jsonl", fs->dir, (int)len, topic);
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "file sink: cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (trim_torn_tail(fd, path, errstr, errstr_size) != 0) {
        close(fd);
        return NULL;
    }
    file_topic *t = &fs->topics[fs->ntopics];
    memset(t, 0, sizeof(*t));
    t->topic = strndup(topic, len);
    if (!t->topic) {
        close(fd);
        snprintf(errstr, errstr_size, "file sink: out of memory");
        return NULL;
    }
    t->topic_len = len;
    t->fd = fd;
    t->size = t->synced = lseek(fd, 0, SEEK_END);
    fs->last = fs->ntopics++;
    fs->dir_dirty = 1;
    return t;
}

/* Writes every iovec fully (writev may stop short). */
static int writev_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/* Writes the gathered run of one topic and starts its writeback. */
static int flush_run(file_sink *fs, file_topic *t, char *errstr, size_t errstr_size)
{
    if (!fs->niov)
        return 0;
    if (writev_all(t->fd, fs->iov, fs->niov) != 0) {
        snprintf(errstr, errstr_size, "file sink: write %s/%s.jsonl: %s", fs->dir, t->topic,
                 strerror(errno));
        return -1;
    }
    fs->niov = 0;
    t->dirty = 1;
    t->size += (off_t)fs->run_bytes;
    fs->run_bytes = 0;
    /* Start writeback now, without waiting: the disk works while we encode
     * the next batches, and the fdatasync before the next acknowledgement
     * finds most pages already written. */
    if (fs->fsync_enabled && t->size - t->synced >= WRITEBACK_CHUNK) {
        sync_file_range(t->fd, t->synced, t->size - t->synced, SYNC_FILE_RANGE_WRITE);
        t->synced = t->size;
    }
    return 0;
}

/*
 * Writes each record value plus a newline straight from the batch buffer
 * (writev, no copy), in runs of consecutive records of the same topic:
 * order within a topic is what matters, and a batch usually holds few
 * topics.
 */
static int file_write_batch(pgcdc_sink *sink, void *state, const pgcdc_batch *batch, char *errstr,
                            size_t errstr_size)
{
    (void)sink;
    static char newline = '\n';
    file_sink *fs = state;
    file_topic *run = NULL;
    size_t off = 0;
    pgcdc_record rec;
    while (pgcdc_batch_next(batch, &off, &rec)) {
        if (!rec.value)
            continue; /* tombstone: Kafka-only concept */
        file_topic *t =
            run && run->topic_len == rec.topic_len && !memcmp(run->topic, rec.topic, rec.topic_len)
                ? run
                : NULL;
        if (!t) {
            if (run && flush_run(fs, run, errstr, errstr_size) != 0)
                return -1;
            run = topic_get(fs, rec.topic, rec.topic_len, errstr, errstr_size);
            if (!run)
                return -1;
            t = run;
        }
        if (fs->niov + 2 > FILE_IOV_MAX && flush_run(fs, t, errstr, errstr_size) != 0)
            return -1;
        fs->iov[fs->niov].iov_base = (void *)rec.value;
        fs->iov[fs->niov++].iov_len = rec.value_len;
        fs->iov[fs->niov].iov_base = &newline;
        fs->iov[fs->niov++].iov_len = 1;
        fs->run_bytes += rec.value_len + 1;
    }
    if (run && flush_run(fs, run, errstr, errstr_size) != 0)
        return -1;
    fs->written_seq = batch->seq;
    return 0;
}

static int file_flush(pgcdc_sink *sink, void *state, char *errstr, size_t errstr_size)
{
    file_sink *fs = state;
    if (fs->fsync_enabled) {
        for (size_t i = 0; i < fs->ntopics; i++) {
            file_topic *t = &fs->topics[i];
            if (t->dirty && fdatasync(t->fd) != 0) {
                snprintf(errstr, errstr_size, "file sink: fdatasync %s/%s.jsonl: %s", fs->dir,
                         t->topic, strerror(errno));
                return -1;
            }
            t->dirty = 0;
        }
        if (fs->dir_dirty) {
            int dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd < 0 || fsync(dfd) != 0) {
                snprintf(errstr, errstr_size, "file sink: fsync directory %s: %s", fs->dir,
                         strerror(errno));
                if (dfd >= 0)
                    close(dfd);
                return -1;
            }
            close(dfd);
            fs->dir_dirty = 0;
        }
    }
    pgcdc_sink_ack(sink, fs->written_seq);
    return 0;
}

static void file_close(pgcdc_sink *sink, void *state)
{
    (void)sink;
    file_sink *fs = state;
    if (!fs)
        return;
    for (size_t i = 0; i < fs->ntopics; i++) {
        close(fs->topics[i].fd);
        free(fs->topics[i].topic);
    }
    free(fs->topics);
    free(fs->dir);
    free(fs);
}

const pgcdc_sink_type pgcdc_sink_file = {
    .name = "file",
    .open = file_open,
    .write_batch = file_write_batch,
    .flush = file_flush,
    .poll = NULL,
    .close = file_close,
};
