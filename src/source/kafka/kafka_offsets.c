/*
 * kafka_offsets.c - per-partition acknowledged and committed offsets of the
 * Kafka source (see kafka_offsets.h).
 *
 * Entries are never removed: a revoked partition keeps its slot (marked
 * unassigned) so indexes stored in batch marks stay valid for the whole
 * run. The table holds the partitions this process ever owned, which is
 * bounded by the subscribed topics' partition count.
 */
#include "source/kafka/kafka_offsets.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *topic;
    int32_t partition;
    int assigned;
    uint32_t gen;
    int64_t acked; /* offset after the last acknowledged record; -1: none */
    int64_t taken; /* last offset handed to a commit; -1: none */
} entry;

struct pgcdc_kafka_offsets {
    pthread_mutex_t lock;
    entry *e;
    size_t n, cap;
};

pgcdc_kafka_offsets *pgcdc_kafka_offsets_new(void)
{
    pgcdc_kafka_offsets *t = calloc(1, sizeof(*t));
    if (t)
        pthread_mutex_init(&t->lock, NULL);
    return t;
}

void pgcdc_kafka_offsets_free(pgcdc_kafka_offsets *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->e[i].topic);
    free(t->e);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Caller holds the lock. */
static long lookup(pgcdc_kafka_offsets *t, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->e[i].partition == partition && !strcmp(t->e[i].topic, topic))
            return (long)i;
    return -1;
}

int pgcdc_kafka_offsets_assign(pgcdc_kafka_offsets *t, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&t->lock);
    long i = lookup(t, topic, partition);
    if (i < 0) {
        if (t->n == t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 16;
            entry *e = realloc(t->e, cap * sizeof(*e));
            if (!e)
                goto oom;
            t->e = e;
            t->cap = cap;
        }
        char *name = strdup(topic);
        if (!name)
            goto oom;
        i = (long)t->n++;
        t->e[i] = (entry){.topic = name, .partition = partition};
    }
    t->e[i].assigned = 1;
    t->e[i].gen++;
    t->e[i].acked = -1;
    t->e[i].taken = -1;
    pthread_mutex_unlock(&t->lock);
    return (int)i;
oom:
    pthread_mutex_unlock(&t->lock);
    return -1;
}

void pgcdc_kafka_offsets_revoke(pgcdc_kafka_offsets *t, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&t->lock);
    long i = lookup(t, topic, partition);
    if (i >= 0)
        t->e[i].assigned = 0;
    pthread_mutex_unlock(&t->lock);
}

int pgcdc_kafka_offsets_find(pgcdc_kafka_offsets *t, const char *topic, int32_t partition,
                             uint32_t *gen)
{
    pthread_mutex_lock(&t->lock);
    long i = lookup(t, topic, partition);
    if (i >= 0 && !t->e[i].assigned)
        i = -1;
    if (i >= 0)
        *gen = t->e[i].gen;
    pthread_mutex_unlock(&t->lock);
    return (int)i;
}

void pgcdc_kafka_offsets_mark(pgcdc_buf *marks, int part, uint32_t gen, int64_t offset)
{
    size_t n = marks->len / sizeof(pgcdc_kafka_mark);
    pgcdc_kafka_mark m;
    /* newest first: records of one partition tend to come in runs */
    for (size_t i = n; i-- > 0;) {
        memcpy(&m, marks->data + i * sizeof(m), sizeof(m));
        if (m.part == (uint32_t)part && m.gen == gen) {
            if (offset + 1 > m.next) {
                m.next = offset + 1;
                memcpy(marks->data + i * sizeof(m), &m, sizeof(m));
            }
            return;
        }
    }
    m = (pgcdc_kafka_mark){.part = (uint32_t)part, .gen = gen, .next = offset + 1};
    pgcdc_buf_append(marks, &m, sizeof(m));
}

void pgcdc_kafka_offsets_acked(pgcdc_kafka_offsets *t, const char *marks, size_t len)
{
    pthread_mutex_lock(&t->lock);
    for (size_t off = 0; off + sizeof(pgcdc_kafka_mark) <= len; off += sizeof(pgcdc_kafka_mark)) {
        pgcdc_kafka_mark m;
        memcpy(&m, marks + off, sizeof(m));
        if (m.part >= t->n)
            continue;
        entry *e = &t->e[m.part];
        if (e->assigned && e->gen == m.gen && m.next > e->acked)
            e->acked = m.next;
    }
    pthread_mutex_unlock(&t->lock);
}

int pgcdc_kafka_offsets_take(pgcdc_kafka_offsets *t, pgcdc_kafka_commit_fn fn, void *ctx)
{
    int count = 0;
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n; i++) {
        entry *e = &t->e[i];
        if (!e->assigned || e->acked < 0 || e->acked <= e->taken)
            continue;
        fn(ctx, e->topic, e->partition, e->acked);
        e->taken = e->acked;
        count++;
    }
    pthread_mutex_unlock(&t->lock);
    return count;
}

void pgcdc_kafka_offsets_failed(pgcdc_kafka_offsets *t, const char *topic, int32_t partition,
                                int64_t offset)
{
    pthread_mutex_lock(&t->lock);
    long i = lookup(t, topic, partition);
    if (i >= 0 && t->e[i].taken == offset)
        t->e[i].taken = -1;
    pthread_mutex_unlock(&t->lock);
}

int64_t pgcdc_kafka_offsets_acked_of(pgcdc_kafka_offsets *t, const char *topic, int32_t partition)
{
    pthread_mutex_lock(&t->lock);
    long i = lookup(t, topic, partition);
    int64_t v = i >= 0 && t->e[i].assigned ? t->e[i].acked : -1;
    pthread_mutex_unlock(&t->lock);
    return v;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char pgcdc_kafka_value_op(const char *value, size_t len)
{
    if (!value)
        return 'c';
    /* scan backwards for "op" and parse forwards: "op" ws : ws "x". Inside a
     * JSON string the quotes are escaped (\"op\"), so those never match. */
    for (size_t i = len; i >= 4; i--) {
        const char *p = value + i - 4;
        if (memcmp(p, "\"op\"", 4) != 0)
            continue;
        size_t j = i;
        while (j < len && is_space(value[j]))
            j++;
        if (j >= len || value[j] != ':')
            continue;
        j++;
        while (j < len && is_space(value[j]))
            j++;
        if (j + 2 < len && value[j] == '"' && value[j + 2] == '"' && value[j + 1] >= 'a' &&
            value[j + 1] <= 'z')
            return value[j + 1];
    }
    return 'c';
}
