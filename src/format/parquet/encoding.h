/*
 * encoding.h - parquet.thrift's enums and Parquet's value encodings: the
 * RLE/bit-packed hybrid (definition levels and dictionary indices) both
 * ways, the hash of the writer's dictionary keys, and the decoder of
 * DELTA_BINARY_PACKED (written by parquet-mr/Spark and pyarrow v2 files).
 */
#ifndef PGCDC_FORMAT_PARQUET_ENCODING_H
#define PGCDC_FORMAT_PARQUET_ENCODING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

/* parquet.thrift enums: PageType, Encoding, ConvertedType. */
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };
enum {
    PQ_ENC_PLAIN = 0,
    PQ_ENC_PLAIN_DICTIONARY = 2,
    PQ_ENC_RLE = 3,
    PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5,
    PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8,
    PQ_ENC_BYTE_STREAM_SPLIT = 9,
};
enum {
    PQ_CT_UTF8 = 0,
    PQ_CT_MAP = 1,
    PQ_CT_MAP_KEY_VALUE = 2,
    PQ_CT_LIST = 3,
    PQ_CT_ENUM = 4,
    PQ_CT_DECIMAL = 5,
    PQ_CT_DATE = 6,
    PQ_CT_TIME_MILLIS = 7,
    PQ_CT_TIME_MICROS = 8,
    PQ_CT_TIMESTAMP_MILLIS = 9,
    PQ_CT_TIMESTAMP_MICROS = 10,
    PQ_CT_UINT_8 = 11,
    PQ_CT_UINT_64 = 14,
    PQ_CT_INT_8 = 15,
    PQ_CT_INT_16 = 16,
    PQ_CT_INT_32 = 17,
    PQ_CT_INT_64 = 18,
    PQ_CT_JSON = 19,
    PQ_CT_BSON = 20,
    PQ_CT_INTERVAL = 21,
};

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

/*
 * Decoder of the RLE/bit-packed hybrid over [p, p + len) (no length
 * prefix), for untrusted input: runs are checked against the bytes left (a
 * last bit-packed run cut short yields the values its bytes hold), values
 * are produced on demand, so a run claiming billions of values costs
 * nothing until they are asked for.
 */
typedef struct pgcdc_pq_rle_dec {
    const unsigned char *p, *end;
    int bit_width;
    uint64_t rle_left; /* values left in the RLE run under way */
    uint32_t rle_value;
    uint64_t lit_left; /* values left in the bit-packed run under way */
    const unsigned char *lit;
    uint64_t lit_bit; /* bit offset of the next bit-packed value from lit */
} pgcdc_pq_rle_dec;

/* bit_width 0..32 (the caller checks). */
void pgcdc_pq_rle_dec_init(pgcdc_pq_rle_dec *d, const void *p, size_t len, int bit_width);

/* Decodes the next n values into out; returns 0, or -1 when the data ends
 * first or is malformed. */
int pgcdc_pq_rle_dec_get(pgcdc_pq_rle_dec *d, uint32_t *out, size_t n);

/*
 * Decoder of DELTA_BINARY_PACKED over [p, p + len): the header is checked by
 * init (block size a multiple of 128, miniblocks of a multiple of 32 values,
 * bit widths up to `bits`: 32 for INT32, 64 for INT64); values come out as
 * int64 (INT32 columns: wrapped to 32 bits as the format's arithmetic
 * wraps). pgcdc_pq_delta_end finds where the encoded values end without
 * decoding them (DELTA_LENGTH_BYTE_ARRAY's bytes follow its lengths).
 */
typedef struct pgcdc_pq_delta_dec {
    const unsigned char *p, *end;
    int bits;
    uint64_t block_size, miniblocks, per_mini;
    uint64_t total;   /* values the header announces */
    uint64_t emitted; /* values produced so far */
    uint64_t last;    /* the previous value (unsigned: wrapping arithmetic) */
    uint64_t min_delta;
    const unsigned char *widths; /* the bit widths of the block under way */
    uint64_t mini;               /* miniblock under way in the block */
    uint64_t in_mini;            /* values taken from it */
    const unsigned char *mp;     /* its bytes */
    int have_block;
} pgcdc_pq_delta_dec;

int pgcdc_pq_delta_init(pgcdc_pq_delta_dec *d, const void *p, size_t len, int bits);
int pgcdc_pq_delta_get(pgcdc_pq_delta_dec *d, int64_t *out, size_t n);
/* The end of the encoded values (NULL when malformed); d is used up. */
const unsigned char *pgcdc_pq_delta_end(pgcdc_pq_delta_dec *d);

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
