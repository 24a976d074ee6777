/*
 * encoding.h - Parquet's value encodings used by the writer: the
 * RLE/bit-packed hybrid (definition levels and dictionary indices) and the
 * hash of dictionary keys.
 */
#ifndef PGCDC_FORMAT_PARQUET_ENCODING_H
#define PGCDC_FORMAT_PARQUET_ENCODING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

/*
 * Appends the RLE/bit-packed hybrid encoding of n values of bit_width bits
 * (0..32; values must fit) without a length prefix. Runs of 8 or more equal
 * values become RLE runs, the rest bit-packed groups of 8 (the last group
 * zero-padded). Pure, no allocation beyond growing out.
 */
void pgcdc_pq_rle_u32(pgcdc_buf *out, const uint32_t *v, size_t n, int bit_width);
void pgcdc_pq_rle_u8(pgcdc_buf *out, const uint8_t *v, size_t n, int bit_width);

/* One RLE run of n copies of value (the whole page at one level). */
void pgcdc_pq_rle_run(pgcdc_buf *out, uint32_t value, size_t n, int bit_width);

/* Bits needed for values 0..max_value (0 for 0). */
static inline int pgcdc_pq_bit_width(uint32_t max_value)
{
    return max_value ? 32 - __builtin_clz(max_value) : 0;
}

static inline uint64_t pgcdc_pq_rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t pgcdc_pq_rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* A 32-bit hash of a byte string for the dictionary's hash table (not
 * cryptographic). Reads 8 bytes at a time; the tail as the string's last 8
 * (or 4 + 4 overlapping, or 3 single) bytes, so that no byte-wise copy
 * stalls the multiply that follows it. */
static inline uint32_t pgcdc_pq_hash(const void *p, size_t len)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xff51afd7ed558ccdull);
    if (len >= 8) {
        const unsigned char *last = s + len - 8;
        for (; s < last; s += 8) {
            h = (h ^ pgcdc_pq_rd64(s)) * 0xbf58476d1ce4e5b9ull;
            h ^= h >> 29;
        }
        h = (h ^ pgcdc_pq_rd64(last)) * 0x94d049bb133111ebull;
    } else if (len >= 4) {
        uint64_t k = pgcdc_pq_rd32(s) << 32 | pgcdc_pq_rd32(s + len - 4);
        h = (h ^ k) * 0x94d049bb133111ebull;
    } else if (len > 0) {
        uint64_t k = (uint64_t)s[0] << 16 | (uint64_t)s[len >> 1] << 8 | s[len - 1];
        h = (h ^ k) * 0x94d049bb133111ebull;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

#endif
