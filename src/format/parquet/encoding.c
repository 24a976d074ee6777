/*
 * encoding.c - the RLE/bit-packed hybrid encoder (see encoding.h).
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
