/*
 * batch.c - record layout inside a batch buffer (see batch.h).
 *
 * Layout per record: pgcdc_record_hdr, topic bytes, key bytes, value bytes,
 * padding to 8 bytes so the next header is aligned. While a record is being
 * built, the header's key_len temporarily holds the offset where the key
 * starts, which mark_key and end turn into lengths.
 */
#include "core/batch.h"

#include <assert.h>
#include <stdlib.h>

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

void pgcdc_batch_reset(pgcdc_batch *batch)
{
    pgcdc_buf_reset(&batch->data);
    pgcdc_buf_reset(&batch->source_data);
    batch->nrecords = 0;
    batch->seq = 0;
    batch->has_pos = 0;
    batch->snapshot_done = 0;
    batch->last_commit_lsn = 0;
    free(batch->incr_state);
    batch->incr_state = NULL;
    memset(batch->op_counts, 0, sizeof(batch->op_counts));
    batch->next = NULL;
    batch->pending = 0;
    memset(&batch->pos, 0, sizeof(batch->pos));
}

void pgcdc_batch_free(pgcdc_batch *batch)
{
    if (!batch)
        return;
    pgcdc_buf_free(&batch->data);
    pgcdc_buf_free(&batch->source_data);
    free(batch->incr_state);
    free(batch);
}

static pgcdc_record_hdr *hdr_at(const pgcdc_batch *batch, size_t rec)
{
    return (pgcdc_record_hdr *)(void *)(batch->data.data + rec);
}

size_t pgcdc_batch_record_begin(pgcdc_batch *batch, const char *topic, size_t topic_len, char op,
                                const pgcdc_position *pos)
{
    size_t rec = batch->data.len;
    assert(rec % 8 == 0);
    pgcdc_buf_reserve(&batch->data, sizeof(pgcdc_record_hdr) + topic_len);
    pgcdc_record_hdr *h = hdr_at(batch, rec);
    memset(h, 0, sizeof(*h));
    h->topic_len = (uint32_t)topic_len;
    h->op = op;
    h->pos = *pos;
    batch->data.len += sizeof(pgcdc_record_hdr);
    pgcdc_buf_append(&batch->data, topic, topic_len);
    /* remember where the key starts, relative to the record */
    hdr_at(batch, rec)->key_len = (uint32_t)(batch->data.len - rec);
    return rec;
}

void pgcdc_batch_record_mark_key(pgcdc_batch *batch, size_t rec, int has_key)
{
    pgcdc_record_hdr *h = hdr_at(batch, rec);
    size_t key_start = rec + h->key_len;
    h->key_len = has_key ? (uint32_t)(batch->data.len - key_start) : PGCDC_RECORD_NULL;
    /* value starts here: keep its offset until end() */
    h->value_len = (uint32_t)(batch->data.len - rec);
}

void pgcdc_batch_record_end(pgcdc_batch *batch, size_t rec, int tombstone)
{
    pgcdc_record_hdr *h = hdr_at(batch, rec);
    size_t value_start = rec + h->value_len;
    h->value_len = tombstone ? PGCDC_RECORD_NULL : (uint32_t)(batch->data.len - value_start);
    batch->op_counts[tombstone ? '0' : (unsigned char)h->op & 127]++;
    size_t padded = ALIGN8(batch->data.len);
    if (padded > batch->data.len) {
        static const char zeros[8];
        pgcdc_buf_append(&batch->data, zeros, padded - batch->data.len);
    }
    batch->nrecords++;
}

void pgcdc_batch_record_abort(pgcdc_batch *batch, size_t rec)
{
    batch->data.len = rec;
}

int pgcdc_batch_next(const pgcdc_batch *batch, size_t *off, pgcdc_record *rec)
{
    if (*off >= batch->data.len)
        return 0;
    const pgcdc_record_hdr *h = hdr_at(batch, *off);
    const char *p = batch->data.data + *off + sizeof(*h);
    rec->topic = p;
    rec->topic_len = h->topic_len;
    p += h->topic_len;
    if (h->key_len == PGCDC_RECORD_NULL) {
        rec->key = NULL;
        rec->key_len = 0;
    } else {
        rec->key = p;
        rec->key_len = h->key_len;
        p += h->key_len;
    }
    if (h->value_len == PGCDC_RECORD_NULL) {
        rec->value = NULL;
        rec->value_len = 0;
    } else {
        rec->value = p;
        rec->value_len = h->value_len;
        p += h->value_len;
    }
    rec->op = h->op;
    rec->pos = h->pos;
    *off = ALIGN8((size_t)(p - batch->data.data));
    return 1;
}
