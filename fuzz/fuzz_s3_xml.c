/*
 * fuzz_s3_xml.c - libFuzzer driver for the S3 client's XML reading.
 *
 * S3 answers are untrusted input: arbitrary bytes go to the ListObjectsV2
 * page parser (with and without a prefix to strip) and to the element text
 * reader for the tags of error and multipart answers, so any crash, leak,
 * over-read or undefined behaviour there is found. Every failure must come
 * with a message.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, const pgcdc_s3_object *o)
{
    size_t *n = ctx;
    *n += o->size > 0 && o->key[0] && o->etag && o->last_modified;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tags[] = {"Code", "Message", "UploadId", "Key", "ETag"};
    const char *xml = (const char *)data;
    pgcdc_buf tok = PGCDC_BUF_INIT, text = PGCDC_BUF_INIT;
    char err[300];
    size_t n = 0;
    int truncated;

    for (size_t strip = 0; strip <= 4; strip += 4) {
        err[0] = 0;
        if (pgcdc_s3_parse_list(xml, size, strip, count, &n, &truncated, &tok, err, sizeof(err)) <
                0 &&
            !err[0])
            __builtin_trap(); /* a failure without a message */
    }
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (pgcdc_s3_xml_text(xml, size, tags[i], &text) == 1 && !text.data)
            __builtin_trap();
    pgcdc_buf_free(&tok);
    pgcdc_buf_free(&text);
    return 0;
}
