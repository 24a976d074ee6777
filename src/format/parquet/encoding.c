/*
 * encoding.c - the RLE/bit-packed hybrid encoder and decoder, and the
 * DELTA_BINARY_PACKED decoder (see encoding.h).
 *
 * The whole page's values are at hand when a page is closed, so runs are
 * found by looking ahead instead of with a streaming state machine. A
 * bit-packed run holds a multiple of 8 values except at the very end, so
 * when a literal stretch ends in front of a long run the first values of
 * that run complete the last group of 8.
 */
#include "format/parquet/encoding.h"

#include "format/parquet/thrift.h"

void pgcdc_pq_rle_run(pgcdc_buf *out, uint32_t value, size_t n, int bit_width)
{
    pgcdc_thrift_varint(out, (uint64_t)n << 1);
    int nbytes = (bit_width + 7) / 8;
    for (int i = 0; i < nbytes; i++)
        pgcdc_buf_putc(out, (char)(value >> (8 * i)));
}

#define PQ_RLE_ENCODER(NAME, T)                                                                    \
    void NAME(pgcdc_buf *out, const T *v, size_t n, int bit_width)                                 \
    {                                                                                              \
        size_t i = 0;                                                                              \
        while (i < n) {                                                                            \
            size_t run = 1;                                                                        \
            while (i + run < n && v[i + run] == v[i])                                              \
                run++;                                                                             \
            if (run >= 8) {                                                                        \
                pgcdc_pq_rle_run(out, v[i], run, bit_width);                                       \
                i += run;                                                                          \
                continue;                                                                          \
            }                                                                                      \
            /* literal stretch: up to the next run of >= 8 equal values */                         \
            size_t start = i;                                                                      \
            i += run;                                                                              \
            while (i < n) {                                                                        \
                run = 1;                                                                           \
                while (i + run < n && v[i + run] == v[i] && run < 8)                               \
                    run++;                                                                         \
                if (run >= 8)                                                                      \
                    break;                                                                         \
                i += run;                                                                          \
            }                                                                                      \
            size_t lit = i - start;                                                                \
            if (i < n && lit % 8) {                                                                \
                i += 8 - lit % 8; /* borrowed from the run that follows (>= 8 long) */             \
                lit = i - start;                                                                   \
            }                                                                                      \
            size_t groups = (lit + 7) / 8;                                                         \
            pgcdc_thrift_varint(out, (uint64_t)groups << 1 | 1);                                   \
            pgcdc_buf_reserve(out, groups *(size_t)bit_width);                                     \
            unsigned char *o = (unsigned char *)out->data + out->len;                              \
            uint64_t acc = 0;                                                                      \
            int nbits = 0;                                                                         \
            for (size_t k = 0; k < groups * 8; k++) {                                              \
                uint64_t x = start + k < i ? (uint64_t)v[start + k] : 0;                           \
                acc |= x << nbits;                                                                 \
                nbits += bit_width;                                                                \
                while (nbits >= 8) {                                                               \
                    *o++ = (unsigned char)acc;                                                     \
                    acc >>= 8;                                                                     \
                    nbits -= 8;                                                                    \
                }                                                                                  \
            }                                                                                      \
            out->len = (size_t)((char *)o - out->data);                                            \
            out->data[out->len] = 0;                                                               \
        }                                                                                          \
    }

PQ_RLE_ENCODER(pgcdc_pq_rle_u32, uint32_t)
PQ_RLE_ENCODER(pgcdc_pq_rle_u8, uint8_t)

/* ------------------------------------------------------------------------ */
/* decoders                                                                  */
/* ------------------------------------------------------------------------ */

/* A ULEB128 varint from [*p, end); -1 when it runs past end or 64 bits. */
static int uvarint(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return -1;
        unsigned c = *(*p)++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* w (0..64) bits at bit offset `bit` from p; the caller has checked that
 * the bytes holding them lie before end. */
static inline uint64_t get_bits(const unsigned char *p, uint64_t bit, int w,
                                const unsigned char *end)
{
    if (w == 0)
        return 0;
    p += bit >> 3;
    int sh = (int)(bit & 7);
    uint64_t v;
    if (w <= 56 && end - p >= 8) {
        memcpy(&v, p, 8);
        v >>= sh;
    } else {
        v = (uint64_t)*p++ >> sh;
        for (int got = 8 - sh; got < w; got += 8)
            v |= (uint64_t)*p++ << got;
    }
    return w == 64 ? v : v & ((1ull << w) - 1);
}

void pgcdc_pq_rle_dec_init(pgcdc_pq_rle_dec *d, const void *p, size_t len, int bit_width)
{
    memset(d, 0, sizeof(*d));
    d->p = p;
    d->end = d->p + len;
    d->bit_width = bit_width;
}

/* Reads the next run's header (and an RLE run's value). */
static int rle_next_run(pgcdc_pq_rle_dec *d)
{
    uint64_t h;
    if (uvarint(&d->p, d->end, &h) != 0)
        return -1;
    size_t avail = (size_t)(d->end - d->p);
    int bw = d->bit_width;
    if (h & 1) {
        uint64_t groups = h >> 1;
        d->lit = d->p;
        d->lit_bit = 0;
        if (bw == 0) {
            d->lit_left = (groups < ((uint64_t)1 << 40) ? groups : (uint64_t)1 << 40) * 8;
            return 0;
        }
        /* a run longer than the bytes left yields the values they hold */
        uint64_t bytes = groups <= avail ? groups * (unsigned)bw : avail;
        if (bytes > avail)
            bytes = avail;
        d->lit_left = bytes * 8 / (unsigned)bw;
        d->p += bytes;
        return 0;
    }
    int nbytes = (bw + 7) / 8;
    if ((size_t)nbytes > avail)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < nbytes; i++)
        v |= (uint32_t)d->p[i] << (8 * i);
    d->p += nbytes;
    d->rle_value = v;
    d->rle_left = h >> 1;
    return 0;
}

int pgcdc_pq_rle_dec_get(pgcdc_pq_rle_dec *d, uint32_t *out, size_t n)
{
    while (n) {
        if (d->rle_left) {
            size_t k = d->rle_left < n ? (size_t)d->rle_left : n;
            for (size_t i = 0; i < k; i++)
                out[i] = d->rle_value;
            d->rle_left -= k;
            out += k;
            n -= k;
        } else if (d->lit_left) {
            size_t k = d->lit_left < n ? (size_t)d->lit_left : n;
            int bw = d->bit_width;
            for (size_t i = 0; i < k; i++) {
                out[i] = (uint32_t)get_bits(d->lit, d->lit_bit, bw, d->end);
                d->lit_bit += (unsigned)bw;
            }
            d->lit_left -= k;
            out += k;
            n -= k;
        } else if (rle_next_run(d) != 0) {
            return -1;
        }
    }
    return 0;
}

int pgcdc_pq_delta_init(pgcdc_pq_delta_dec *d, const void *p, size_t len, int bits)
{
    memset(d, 0, sizeof(*d));
    d->p = p;
    d->end = d->p + len;
    d->bits = bits;
    uint64_t first;
    if (uvarint(&d->p, d->end, &d->block_size) != 0 ||
        uvarint(&d->p, d->end, &d->miniblocks) != 0 || uvarint(&d->p, d->end, &d->total) != 0 ||
        uvarint(&d->p, d->end, &first) != 0)
        return -1;
    if (d->block_size == 0 || d->block_size % 128 || d->block_size > ((uint64_t)1 << 24) ||
        d->miniblocks == 0 || d->block_size % d->miniblocks)
        return -1;
    d->per_mini = d->block_size / d->miniblocks;
    if (d->per_mini % 32)
        return -1;
    d->last = (first >> 1) ^ -(first & 1); /* zigzag */
    return 0;
}

/* Opens the next block: its min delta and bit widths. */
static int delta_block(pgcdc_pq_delta_dec *d)
{
    uint64_t md;
    if (uvarint(&d->p, d->end, &md) != 0 || (uint64_t)(d->end - d->p) < d->miniblocks)
        return -1;
    d->min_delta = (md >> 1) ^ -(md & 1);
    d->widths = d->p;
    d->p += d->miniblocks;
    d->mp = d->p;
    d->mini = 0;
    d->in_mini = 0;
    d->have_block = 1;
    return 0;
}

int pgcdc_pq_delta_get(pgcdc_pq_delta_dec *d, int64_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (d->emitted >= d->total)
            return -1;
        if (d->emitted++ > 0) {
            if (!d->have_block && delta_block(d) != 0)
                return -1;
            int w = d->widths[d->mini];
            if (w > d->bits)
                return -1;
            uint64_t bit = d->in_mini * (unsigned)w;
            if ((bit + (unsigned)w + 7) / 8 > (uint64_t)(d->end - d->mp))
                return -1;
            d->last += d->min_delta + get_bits(d->mp, bit, w, d->end);
            if (++d->in_mini == d->per_mini) { /* the miniblock is used up */
                d->mp += d->per_mini * (unsigned)w / 8;
                d->p = d->mp;
                d->in_mini = 0;
                if (++d->mini == d->miniblocks)
                    d->have_block = 0;
            }
        }
        out[i] = d->bits == 32 ? (int64_t)(int32_t)(uint32_t)d->last : (int64_t)d->last;
    }
    return 0;
}

const unsigned char *pgcdc_pq_delta_end(pgcdc_pq_delta_dec *d)
{
    uint64_t left = d->total ? d->total - 1 : 0; /* the first value is in the header */
    while (left) {
        if (delta_block(d) != 0)
            return NULL;
        for (uint64_t m = 0; m < d->miniblocks && left; m++) {
            int w = d->widths[m];
            if (w > d->bits)
                return NULL;
            uint64_t bytes = d->per_mini * (unsigned)w / 8;
            if (bytes > (uint64_t)(d->end - d->p))
                return NULL;
            d->p += bytes;
            left -= left < d->per_mini ? left : d->per_mini;
        }
    }
    return d->p;
}
